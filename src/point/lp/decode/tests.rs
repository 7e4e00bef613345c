use super::*;
use ParseErrorKind::*;

fn one(line: &str) -> PointRef<'_> {
    let mut it = Lines::new(line.as_bytes(), Precision::Nanosecond, 0);
    let p = match it.next() {
        Some(Ok(p)) => p,
        other => panic!("{line:?}: {other:?}"),
    };
    assert!(it.next().is_none(), "{line:?}: more than one point");
    p
}

fn fail(line: &str) -> LineError {
    let mut it = Lines::new(line.as_bytes(), Precision::Nanosecond, 0);
    match it.next() {
        Some(Err(e)) => e,
        other => panic!("{line:?}: expected an error, got {other:?}"),
    }
}

fn kind(line: &str) -> ParseErrorKind {
    fail(line).kind
}

fn field<'a>(p: &'a PointRef<'_>, k: &str) -> &'a ValueRef<'a> {
    p.get_field(k)
        .unwrap_or_else(|| panic!("no field {k} in {p:?}"))
}

#[test]
fn a_plain_line() {
    let p = one("cpu,host=a,region=b usage=1.5,n=2i 1700000000000000000");
    assert_eq!(p.name, "cpu");
    assert_eq!(p.get_tag("host"), Some("a"));
    assert_eq!(p.get_tag("region"), Some("b"));
    assert_eq!(field(&p, "usage"), &ValueRef::Float(1.5));
    assert_eq!(field(&p, "n"), &ValueRef::Int(2));
    assert_eq!(p.time, 1_700_000_000_000_000_000);
    assert!(matches!(p.name, Cow::Borrowed(_)));
    assert!(matches!(p.tags[0].1, Cow::Borrowed(_)));
}

#[test]
fn measurement_escapes() {
    assert_eq!(one(r"my\ cpu f=1").name, "my cpu");
    assert_eq!(one(r"my\,cpu f=1").name, "my,cpu");
    assert_eq!(one(r"a\=b f=1").name, "a=b");
    assert_eq!(one(r#"a\"b f=1"#).name, "a\"b");
    // Other backslashes are literal; `=` needs no escape in a measurement.
    assert_eq!(one(r"a\b f=1").name, r"a\b");
    assert_eq!(one(r"a=b f=1").name, "a=b");
    // `\\,`: the comma is escaped (the byte before it is a backslash), one backslash stays.
    assert_eq!(one(r"a\\,b f=1").name, r"a\,b");
    assert_eq!(one("tab\there f=1").name, "tab\there");
    assert_eq!(kind(",cpu f=1"), MissingMeasurement);
    assert_eq!(kind("cpu"), MissingFields);
    assert_eq!(kind("cpu "), MissingFields);
    assert_eq!(kind(r"cpu\ f=1"), MissingFields);
}

#[test]
fn tag_escapes() {
    let p = one(r"m,k\ 1=v\ 1,k\,2=v\,2,k\=3=v\=3 f=1");
    assert_eq!(p.get_tag("k 1"), Some("v 1"));
    assert_eq!(p.get_tag("k,2"), Some("v,2"));
    assert_eq!(p.get_tag("k=3"), Some("v=3"));
    assert!(matches!(p.tags[0].1, Cow::Owned(_)));
    // A backslash before other bytes is literal, also `\"`.
    let p = one(r#"m,path=C:\dir\x,q=\"a\" f=1"#);
    assert_eq!(p.get_tag("path"), Some(r"C:\dir\x"));
    assert_eq!(p.get_tag("q"), Some(r#"\"a\""#));
    // A tag value may start with `=`.
    assert_eq!(one("m,a==b f=1").get_tag("a"), Some("=b"));
    // `\\ `: the space is escaped.
    assert_eq!(one(r"m,a=x\\ y f=1").get_tag("a"), Some(r"x\ y"));
    // Unicode.
    let p = one("m,主机=服务器\\ 一 温度=1");
    assert_eq!(p.get_tag("主机"), Some("服务器 一"));
    assert_eq!(field(&p, "温度"), &ValueRef::Float(1.0));
}

#[test]
fn tag_errors() {
    assert_eq!(kind("m, f=1"), MissingTagKey);
    assert_eq!(kind("m,=v f=1"), MissingTagKey);
    assert_eq!(kind("m,,a=b f=1"), MissingTagKey);
    assert_eq!(kind("m,a f=1"), MissingTagValue);
    assert_eq!(kind("m,a= f=1"), MissingTagValue);
    assert_eq!(kind("m,a=,b=c f=1"), MissingTagValue);
    assert_eq!(kind("m,a=b=c f=1"), InvalidTagFormat);
    assert_eq!(kind("m,a=b"), MissingFields);
    assert_eq!(kind("m,a=b "), MissingFields);
    assert_eq!(kind("m,a=1,a=2 f=1"), DuplicateTags);
    assert_eq!(kind("m,b=1,a=2,b=3 f=1"), DuplicateTags);
    assert_eq!(kind("m,a"), MissingTagValue);
    assert_eq!(kind("m,"), MissingTagKey);
}

#[test]
fn field_keys() {
    let p = one(r#"m f\ 1=1,f\,2=2,f\=3=3,f\"4=4,f"5=5,time=6,f\x=7"#);
    for k in ["f 1", "f,2", "f=3", "f\"4", "f\"5", "time", r"f\x"] {
        assert!(p.get_field(k).is_some(), "{k}: {p:?}");
    }
    assert_eq!(kind("m =1"), MissingFieldKey);
    assert_eq!(kind("m a=1,=2"), MissingFieldKey);
    assert_eq!(kind("m a"), InvalidFieldFormat);
    assert_eq!(kind("m a b=1"), InvalidFieldFormat);
    assert_eq!(kind("m a,b=1"), InvalidFieldFormat);
    assert_eq!(kind("m a=1,"), InvalidFieldFormat);
    assert_eq!(kind("m a=1, b=2"), InvalidFieldFormat);
    assert_eq!(kind("m a=1,,b=2"), InvalidFieldFormat);
    assert_eq!(kind(r"m a\\=1"), InvalidFieldFormat);
    assert_eq!(kind("m a="), MissingFieldValue);
    assert_eq!(kind("m a=,b=1"), MissingFieldValue);
    assert_eq!(kind("m a= 1"), MissingFieldValue);
}

#[test]
fn integers_and_unsigned() {
    let p = one("m a=1i,b=-1i,c=0i,d=9223372036854775807i,e=-9223372036854775808i,f=007i");
    assert_eq!(field(&p, "a"), &ValueRef::Int(1));
    assert_eq!(field(&p, "b"), &ValueRef::Int(-1));
    assert_eq!(field(&p, "d"), &ValueRef::Int(i64::MAX));
    assert_eq!(field(&p, "e"), &ValueRef::Int(i64::MIN));
    assert_eq!(field(&p, "f"), &ValueRef::Int(7));
    let p = one("m a=0u,b=18446744073709551615u");
    assert_eq!(field(&p, "a"), &ValueRef::Uint(0));
    assert_eq!(field(&p, "b"), &ValueRef::Uint(u64::MAX));
    assert_eq!(kind("m a=9223372036854775808i"), IntegerOutOfRange);
    assert_eq!(kind("m a=-9223372036854775809i"), IntegerOutOfRange);
    assert_eq!(kind("m a=18446744073709551616u"), UnsignedOutOfRange);
    for bad in [
        "m a=-1u",
        "m a=1.5i",
        "m a=1e3i",
        "m a=-i",
        "m a=1i2",
        "m a=1ii",
        "m a=1iu",
        "m a=1x",
        "m a=-",
        "m a=1-",
        "m a=0x10i",
    ] {
        assert!(
            matches!(kind(bad), InvalidNumber | InvalidFloat),
            "{bad}: {:?}",
            kind(bad)
        );
    }
}

#[test]
fn floats_in_every_form() {
    for (s, v) in [
        ("1", 1.0),
        ("-1", -1.0),
        ("1.5", 1.5),
        ("-1.5", -1.5),
        ("1.", 1.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("1.5e-3", 0.0015),
        ("-1.5E-3", -0.0015),
        ("1.e2", 100.0),
        ("0.1", 0.1),
        ("1e-400", 0.0),
    ] {
        let line = format!("m f={s}");
        assert_eq!(field(&one(&line), "f"), &ValueRef::Float(v), "{s}");
    }
    for v in [
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        0.1 + 0.2,
        123456.789e-200,
    ] {
        let line = format!("m f={v}");
        assert_eq!(field(&one(&line), "f"), &ValueRef::Float(v), "{v}");
    }
    for (s, k) in [
        ("NaN", InvalidNumber),
        ("nan", InvalidNumber),
        ("Inf", InvalidBoolean),
        ("+Inf", InvalidBoolean),
        ("-Inf", InvalidNumber),
        ("+1", InvalidBoolean),
        ("1e400", InvalidFloat),
        ("-1e400", InvalidFloat),
        ("1.2.3", InvalidNumber),
        ("1e", InvalidFloat),
        (".", InvalidNumber),
        ("1e5e5", InvalidNumber),
    ] {
        assert_eq!(kind(&format!("m f={s}")), k, "{s}");
    }
}

#[test]
fn booleans_in_every_spelling() {
    for t in ["t", "T", "true", "True", "TRUE"] {
        assert_eq!(field(&one(&format!("m f={t}")), "f"), &ValueRef::Bool(true));
    }
    for f in ["f", "F", "false", "False", "FALSE"] {
        assert_eq!(
            field(&one(&format!("m f={f}")), "f"),
            &ValueRef::Bool(false)
        );
    }
    for bad in ["tRUE", "truE", "yes", "trues", "fals", "FaLSE", "on", "x"] {
        assert_eq!(kind(&format!("m f={bad}")), InvalidBoolean, "{bad}");
    }
}

#[test]
fn strings() {
    let p = one(r#"m s="hello world",e="",q="say \"hi\"",b="a\\b",o="a\nb\tc\\",c="x,y=z w""#);
    assert_eq!(field(&p, "s"), &ValueRef::Str("hello world".into()));
    assert_eq!(field(&p, "e"), &ValueRef::Str("".into()));
    assert_eq!(field(&p, "q"), &ValueRef::Str("say \"hi\"".into()));
    assert_eq!(field(&p, "b"), &ValueRef::Str(r"a\b".into()));
    // Other backslashes stay literal; `\\` at the end is one backslash.
    assert_eq!(field(&p, "o"), &ValueRef::Str(r"a\nb\tc\".into()));
    assert_eq!(field(&p, "c"), &ValueRef::Str("x,y=z w".into()));
    assert!(matches!(field(&p, "s"), ValueRef::Str(Cow::Borrowed(_))));
    // Raw newlines and unicode inside strings.
    let p = one("m s=\"line1\nline2\r\n日本\" 5");
    assert_eq!(
        field(&p, "s"),
        &ValueRef::Str("line1\nline2\r\n日本".into())
    );
    assert_eq!(p.time, 5);
    assert_eq!(kind(r#"m s="abc"#), UnbalancedQuotes);
    assert_eq!(kind(r#"m s="abc\""#), UnbalancedQuotes);
    assert_eq!(kind(r#"m s="abc"x"#), InvalidString);
    assert_eq!(kind(r#"m s="a""b""#), InvalidString);
    assert_eq!(kind(r#"m s="abc"i"#), InvalidString);
}

#[test]
fn binary_and_arrays() {
    let p = one(r#"m b="aGVsbG8="b,e=""b"#);
    assert_eq!(field(&p, "b"), &ValueRef::Bytes(b"hello".to_vec()));
    assert_eq!(field(&p, "e"), &ValueRef::Bytes(vec![]));
    assert_eq!(kind(r#"m b="not base64!"b"#), InvalidBinary);
    let p = one(r#"m i=[1i,-2i],u=[1u],f=[1.5,2,-.5],b=[true,f],s=["a,b]","c\"d"],e=[]"#);
    assert_eq!(
        field(&p, "i"),
        &ValueRef::Array(vec![Value::Int(1), Value::Int(-2)])
    );
    assert_eq!(field(&p, "u"), &ValueRef::Array(vec![Value::Uint(1)]));
    assert_eq!(
        field(&p, "f"),
        &ValueRef::Array(vec![
            Value::Float(1.5),
            Value::Float(2.0),
            Value::Float(-0.5)
        ])
    );
    assert_eq!(
        field(&p, "b"),
        &ValueRef::Array(vec![Value::Bool(true), Value::Bool(false)])
    );
    assert_eq!(
        field(&p, "s"),
        &ValueRef::Array(vec![Value::Str("a,b]".into()), Value::Str("c\"d".into())])
    );
    assert_eq!(field(&p, "e"), &ValueRef::Array(vec![]));
    assert_eq!(kind("m a=[1i,2.5]"), MixedArray);
    assert_eq!(kind("m a=[1,2i]"), MixedArray);
    assert_eq!(kind("m a=[1i,2i"), MissingClosingBracket);
    assert_eq!(kind("m a=[1i, 2i]"), InvalidArray);
    assert_eq!(kind("m a=[[1i]]"), InvalidArray);
    assert_eq!(kind("m a=[1i,]"), InvalidArray);
    assert_eq!(kind("m a=i"), InvalidBoolean);
    assert_eq!(kind("m a=[1i]x"), InvalidArray);
    assert_eq!(kind(r#"m a=["x"b]"#), InvalidArray);
}

#[test]
fn timestamps_and_trailing_whitespace() {
    assert_eq!(one("m f=1 -5").time, -5);
    assert_eq!(one("m f=1 123   ").time, 123);
    assert_eq!(one("m f=1   ").time, 0);
    assert_eq!(one("m f=1 \t ").time, 0);
    assert_eq!(one("m f=1 \t123").time, 123);
    assert_eq!(one("m  \t f=1").get_field("f"), Some(&ValueRef::Float(1.0)));
    assert_eq!(kind("m f=1 12a"), BadTimestamp);
    assert_eq!(kind("m f=1 1.5"), BadTimestamp);
    assert_eq!(kind("m f=1 -"), BadTimestamp);
    assert_eq!(kind("m f=1 9223372036854775808"), BadTimestamp);
    assert_eq!(kind("m f=1 9223372036854775807"), TimeOutOfRange);
    assert_eq!(kind("m f=1 123 456"), TrailingCharacters);
    assert_eq!(kind("m f=1 123 \t"), TrailingCharacters);
    assert_eq!(kind("m f=1\t"), InvalidNumber);
    assert_eq!(kind("m f=1 123\t"), BadTimestamp);
}

#[test]
fn precision_applies_to_explicit_timestamps_only() {
    let body = b"m f=1 1700000000\nm f=2\n";
    let pts: Vec<_> = Lines::new(body, Precision::Second, 42)
        .map(|r| r.unwrap().time)
        .collect();
    assert_eq!(pts, [1_700_000_000_000_000_000, 42]);
    let e = Lines::new(b"m f=1 9223372036854775", Precision::Millisecond, 0)
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, TimeOutOfRange);
    let auto: Vec<_> = Lines::new(
        b"m f=1 1700000000\nm f=1 1700000000000\nm f=1 1700000000000000\nm f=1 1700000000000000000",
        Precision::Auto,
        0,
    )
    .map(|r| r.unwrap().time)
    .collect();
    assert!(
        auto.iter().all(|t| *t == 1_700_000_000_000_000_000),
        "{auto:?}"
    );
}

#[test]
fn blank_lines_comments_and_crlf() {
    let body = "\n  \n# a comment, with \"quotes\" = 1\n\t# indented comment\r\nm f=1\r\n\r\nm,t=v f=2i 5\r\n   m s=\"x\"\r\n";
    let pts: Vec<_> = Lines::new(body.as_bytes(), Precision::Nanosecond, 0)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pts.len(), 3);
    assert_eq!(field(&pts[0], "f"), &ValueRef::Float(1.0));
    assert_eq!(pts[1].time, 5);
    assert_eq!(pts[1].get_tag("t"), Some("v"));
    assert_eq!(field(&pts[2], "s"), &ValueRef::Str("x".into()));
    // A lone \r inside a value is not a line end.
    assert_eq!(kind("m f=1\rx"), InvalidNumber);
    // CR at the very end.
    assert_eq!(one("m f=1\r").get_field("f"), Some(&ValueRef::Float(1.0)));
    assert_eq!(
        Lines::new(b"", Precision::Nanosecond, 0).count(),
        0,
        "empty body"
    );
}

#[test]
fn duplicate_fields_and_tag_field_clash() {
    let p = one("m a=1,b=2,a=3");
    assert_eq!(p.fields.len(), 2);
    assert_eq!(field(&p, "a"), &ValueRef::Float(3.0));
    assert_eq!(p.fields[0].0, "a");
    // A tag replaces the field of the same key.
    let p = one("m,a=x a=1,b=2");
    assert_eq!(p.get_tag("a"), Some("x"));
    assert!(p.get_field("a").is_none());
    assert_eq!(p.fields.len(), 1);
}

#[test]
fn max_key_length() {
    let long = "k".repeat(65535 - 4 - 1);
    // measurement "m" + 4 + field key == 65535: accepted.
    let ok = format!("m {long}=1");
    assert!(one(&ok).get_field(&long).is_some());
    let bad = format!("m {long}x=1");
    assert_eq!(kind(&bad), MaxKeyLength);
    let bad = format!("{} f=1", "m".repeat(65536));
    assert_eq!(kind(&bad), MaxKeyLength);
    // Keys the checker would truncate (256 bytes) still parse.
    let k = "x".repeat(300);
    assert!(one(&format!("m,{k}=v {k}=1i")).get_tag(&k).is_some());
}

#[test]
fn error_positions() {
    let body = b"m f=1\nm f=2\n\nbad line\nm f=x1 ";
    let errs: Vec<_> = Lines::new(body, Precision::Nanosecond, 0)
        .filter_map(Result::err)
        .collect();
    assert_eq!(errs.len(), 2);
    assert_eq!(
        (errs[0].line, errs[0].column, errs[0].kind),
        (4, 9, InvalidFieldFormat)
    );
    assert_eq!(errs[0].line_text(body), "bad line");
    assert_eq!(
        errs[0].original_message(body),
        "unable to parse 'bad line'(pos: 8): invalid field format"
    );
    assert_eq!(
        (errs[1].line, errs[1].column, errs[1].kind),
        (5, 5, InvalidBoolean)
    );
    assert_eq!(errs[1].to_string(), "line 5, column 5: invalid boolean");
    // Lines after a string with newlines are numbered by physical line.
    let body = b"m s=\"a\nb\nc\" 1\nm f=oops";
    let e = Lines::new(body, Precision::Nanosecond, 0)
        .find_map(Result::err)
        .unwrap();
    assert_eq!((e.line, e.column), (4, 5));
    // Error inside a multi-line string line: the column counts from that physical line.
    let body = b"m s=\"a\nb\" zz";
    let e = Lines::new(body, Precision::Nanosecond, 0)
        .find_map(Result::err)
        .unwrap();
    assert_eq!((e.line, e.column, e.kind), (2, 4, BadTimestamp));
}

#[test]
fn a_bad_line_is_skipped_the_way_the_original_splits_lines() {
    // The unterminated quote hides the next newline, as in the original's scanLine.
    let body = b"m s=\"open\nm f=1\" x\nm f=2\n";
    let r: Vec<_> = Lines::new(body, Precision::Nanosecond, 0).collect();
    assert_eq!(r.len(), 2);
    assert!(r[0].is_err());
    assert_eq!(
        r[1].as_ref().unwrap().get_field("f"),
        Some(&ValueRef::Float(2.0))
    );
    // An escaped newline continues the line; an even run of backslashes does not.
    let p = one("m,t=a\\\nb f=1");
    assert_eq!(p.get_tag("t"), Some("a\\\nb"));
    let r: Vec<_> = Lines::new(b"m,t=a\\\\\nm f=1", Precision::Nanosecond, 0).collect();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].as_ref().unwrap_err().kind, MissingFields);
    assert!(r[1].is_ok());
}

#[test]
fn strict_and_loose_decoding() {
    let body = b"m f=1\nbad\nm f=2\nm f=\n";
    let strict = DecodeOptions::default();
    let e = decode(body, &strict).unwrap_err();
    assert_eq!((e.line, e.kind), (2, MissingFields));
    let loose = DecodeOptions {
        strict: false,
        category: Category::Logging,
        default_time: 7,
        ..DecodeOptions::default()
    };
    let d = decode(body, &loose).unwrap();
    assert_eq!(d.points.len(), 2);
    assert_eq!(d.errors.len(), 2);
    assert_eq!(d.errors[1].line, 4);
    assert_eq!(d.points[0].category, Category::Logging);
    assert_eq!(d.points[0].time, 7);
    assert_eq!(d.points[1].get_field("f"), Some(&Value::Float(2.0)));
    let ok = decode_str("a f=1\nb,t=x g=\"s\" 3\n", &strict).unwrap();
    assert_eq!(ok.points.len(), 2);
    assert_eq!(ok.points[1].get_tag("t"), Some("x"));
    assert_eq!(ok.points[1].get_field("g"), Some(&Value::Str("s".into())));
}

#[test]
fn invalid_utf8_fails_only_its_line() {
    let mut body = b"m f=1\nm,t=".to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(b" f=1\nm s=\"ok\",g=2i 9\n");
    let r: Vec<_> = Lines::new(&body, Precision::Nanosecond, 0).collect();
    assert_eq!(r.len(), 3);
    assert!(r[0].is_ok());
    let e = r[1].as_ref().unwrap_err();
    assert_eq!((e.line, e.column, e.kind), (2, 5, InvalidUtf8));
    let p = r[2].as_ref().unwrap();
    assert_eq!(p.time, 9);
    assert_eq!(p.get_field("g"), Some(&ValueRef::Int(2)));
    // Errors in the slow path point into the body.
    let mut body = vec![0xff];
    body.extend_from_slice(b"\nm f=zz");
    let errs: Vec<_> = Lines::new(&body, Precision::Nanosecond, 0)
        .filter_map(Result::err)
        .collect();
    assert_eq!(errs.len(), 2);
    assert_eq!((errs[1].line, errs[1].column, errs[1].offset), (2, 5, 6));
}

#[test]
fn reuse_and_owned_conversion() {
    let body = "m,t=a\\ b f=\"x\\\"y\",g=1i 1\nn h=2u\n";
    let mut lines = Lines::new(body.as_bytes(), Precision::Nanosecond, 0);
    let mut p = PointRef::default();
    lines.next_into(&mut p).unwrap().unwrap();
    let owned = crate::point::PointView::to_owned_point(&p, Category::Metric);
    let taken = p.take_point(Category::Metric);
    assert_eq!(owned, taken);
    assert_eq!(taken.get_tag("t"), Some("a b"));
    assert_eq!(taken.get_field("f"), Some(&Value::Str("x\"y".into())));
    lines.next_into(&mut p).unwrap().unwrap();
    assert_eq!(p.name, "n");
    assert_eq!(p.tags.len(), 0);
    assert_eq!(p.get_field("h"), Some(&ValueRef::Uint(2)));
    assert!(lines.next_into(&mut p).is_none());
}

#[test]
fn no_panic_on_odd_bytes() {
    for body in [
        &b"\\"[..],
        b"m\\",
        b"m,\\",
        b"m,a=\\",
        b"m a=\\",
        b"m a=\"\\",
        b"m a=[\"\\",
        b"m a=[",
        b"m a=[\"",
        b"m a=1 \\",
        b"\0\0\0",
        b"\r",
        b"\r\r\n\r",
        b"#",
        b"m a=\"x\"b",
        b"m a=tru",
        b"m a=1,b",
        b"m a=1 1 ",
        b"\xff\xff",
        b"m a=\"\xff\"",
        b"m,=",
        b"m,a=b,",
        b"m a=[1i,",
    ] {
        for _ in Lines::new(body, Precision::Auto, 1) {}
        let _ = decode(
            body,
            &DecodeOptions {
                strict: false,
                ..DecodeOptions::default()
            },
        );
    }
}
