use super::*;

fn kinds(w: &[Warn]) -> Vec<&'static str> {
    w.iter().map(|w| w.kind.as_str()).collect()
}

fn pt(tags: &[(&str, &str)], fields: &[(&str, Value)]) -> Point {
    let mut p = Point::new(Category::Metric, "m");
    for (k, v) in tags {
        p.tags.push((k.to_string(), v.to_string()));
    }
    for (k, v) in fields {
        p.fields.push((k.to_string(), v.clone()));
    }
    p
}

fn keys(p: &Point) -> Vec<&str> {
    p.tags
        .iter()
        .map(|(k, _)| k.as_str())
        .chain(p.fields.iter().map(|(k, _)| k.as_str()))
        .collect()
}

#[test]
fn a_clean_point_gets_no_warning() {
    let mut p = pt(&[("host", "a")], &[("v", Value::Int(1)), ("s", "x".into())]);
    let before = p.clone();
    assert!(Checker::default().check(&mut p).is_empty());
    assert_eq!(p, before);
}

#[test]
fn measurement_is_defaulted_and_truncated() {
    let c = Checker::default();
    let mut p = pt(&[], &[("v", Value::Int(1))]);
    p.name.clear();
    assert_eq!(kinds(&c.check(&mut p)), ["invalid_measurement"]);
    assert_eq!(p.name, "__default");
    p.name = "é".repeat(600); // 1200 bytes
    assert_eq!(kinds(&c.check(&mut p)), ["invalid_measurement"]);
    assert_eq!(p.name.len(), 1024);
}

#[test]
fn too_many_tags_and_fields_keep_the_first() {
    let c = Checker::new(CheckOptions {
        max_tags: 2,
        max_fields: 1,
        ..CheckOptions::default()
    });
    let mut p = pt(
        &[("a", "1"), ("b", "2"), ("c", "3")],
        &[("x", Value::Int(1)), ("y", Value::Int(2))],
    );
    let w = c.check(&mut p);
    assert_eq!(kinds(&w), ["exceed_max_fields", "exceed_max_tags"]);
    assert!(w.iter().all(|w| w.action == Action::Dropped));
    assert_eq!(keys(&p), ["a", "b", "x"]);
}

#[test]
fn long_keys_and_values_are_truncated() {
    let c = Checker::default();
    let long = "k".repeat(300);
    let mut p = pt(
        &[(&long, &"v".repeat(2000))],
        &[(&format!("f{long}"), Value::Int(1))],
    );
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        [
            "exceed_max_tag_key_len",
            "exceed_max_tag_value_len",
            "exceed_max_field_key_len"
        ]
    );
    assert_eq!(p.tags[0].0.len(), 256);
    assert_eq!(p.tags[0].1.len(), 1024);
    assert_eq!(p.fields[0].0.len(), 256);
    // Truncated onto an existing key: dropped.
    let mut p = pt(
        &[(&"k".repeat(256), "a"), (&long, "b")],
        &[("f", Value::Int(1))],
    );
    let w = c.check(&mut p);
    assert_eq!(kinds(&w), ["exceed_max_tag_key_len", "invalid_tag_key"]);
    assert_eq!(p.tags.len(), 1);
    assert_eq!(p.tags[0].1, "a");
}

#[test]
fn string_field_values_are_truncated_on_char_boundaries() {
    let c = Checker::new(CheckOptions {
        max_field_value_len: 5,
        ..CheckOptions::default()
    });
    let mut p = pt(&[], &[("s", "ééé".into()), ("b", Value::Bytes(vec![1; 9]))]);
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        ["exceed_max_field_value_len", "exceed_max_field_value_len"]
    );
    assert_eq!(p.get_field("s"), Some(&Value::Str("éé".into())));
    assert_eq!(p.get_field("b"), Some(&Value::Bytes(vec![1; 5])));
}

#[test]
fn newlines_and_trailing_backslashes_are_fixed() {
    let c = Checker::default();
    let mut p = pt(&[("k\\\\", "a\nb\\")], &[("f\nx", Value::Int(1))]);
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        [
            "invalid_tag_key",
            "found_new_line_or_tail_espace",
            "found_new_line_or_tail_espace"
        ]
    );
    assert_eq!(p.tags[0], ("k".to_string(), "a b".to_string()));
    assert_eq!(p.fields[0].0, "f x");
}

#[test]
fn metric_rules_drop_strings() {
    let c = Checker::new(CheckOptions::for_category(Category::Metric));
    let mut p = pt(
        &[("host", "h")],
        &[
            ("s", "x".into()),
            ("b", Value::Bytes(vec![1])),
            ("v", Value::Float(1.0)),
        ],
    );
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        ["invalid_field_value_type", "invalid_field_value_type"]
    );
    assert_eq!(keys(&p), ["host", "v"]);
    // Only strings: the point is left without fields and noted.
    let mut p = pt(&[], &[("s", "x".into())]);
    assert_eq!(
        kinds(&c.check(&mut p)),
        ["invalid_field_value_type", "no_field"]
    );
}

#[test]
fn logging_rules_dots_disabled_and_required_keys() {
    let c = Checker::new(CheckOptions::for_category(Category::Logging));
    let mut p = pt(
        &[("k.8s", "x"), ("source", "s")],
        &[
            ("a.b", Value::Int(1)),
            ("date", Value::Int(2)),
            ("message", "m".into()),
        ],
    );
    p.category = Category::Logging;
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        [
            "invalid_tag_key",
            "tag_disabled",
            "dot_in_key",
            "tag_disabled",
            "add_required_kv"
        ]
    );
    assert_eq!(keys(&p), ["k_8s", "a_b", "message", "status"]);
    assert_eq!(p.get_field("status"), Some(&Value::Str("info".into())));
    // A status tag satisfies the requirement.
    let mut p = pt(&[("status", "warn")], &[("message", "m".into())]);
    assert!(c.check(&mut p).is_empty());

    let o = Checker::new(CheckOptions::for_category(Category::Object));
    let mut p = pt(&[("class", "c")], &[("v", Value::Int(1))]);
    assert_eq!(kinds(&o.check(&mut p)), ["tag_disabled", "add_required_kv"]);
    assert_eq!(p.get_field("name"), Some(&Value::Str("default".into())));
}

#[test]
fn dot_rename_onto_existing_key_drops() {
    let c = Checker::new(CheckOptions::common_logging());
    let mut p = pt(&[], &[("a.b", Value::Int(1)), ("a_b", Value::Int(2))]);
    let w = c.check(&mut p);
    assert_eq!(kinds(&w), ["dot_in_key", "invalid_tag_key"]);
    assert_eq!(p.fields.len(), 1);
    assert_eq!(p.get_field("a_b"), Some(&Value::Int(2)));
}

#[test]
fn uints_infinities_and_nan() {
    let c = Checker::new(CheckOptions::influx1x());
    let mut p = pt(
        &[],
        &[
            ("small", Value::Uint(5)),
            ("big", Value::Uint(u64::MAX)),
            ("pinf", Value::Float(f64::INFINITY)),
            ("ninf", Value::Float(f64::NEG_INFINITY)),
            ("nan", Value::Float(f64::NAN)),
        ],
    );
    let w = c.check(&mut p);
    assert_eq!(
        kinds(&w),
        [
            "exceed_max_field_value_int",
            "convert_inf_to_max_value",
            "convert_inf_to_min_value"
        ]
    );
    assert_eq!(p.get_field("small"), Some(&Value::Int(5)));
    assert!(p.get_field("big").is_none());
    assert_eq!(p.get_field("pinf"), Some(&Value::Float(u64::MAX as f64)));
    assert_eq!(p.get_field("ninf"), Some(&Value::Float(i64::MIN as f64)));
    assert!(matches!(p.get_field("nan"), Some(Value::Float(f)) if f.is_nan()));
}

#[test]
fn duplicate_keys_follow_the_original_compaction_quirk() {
    // cliutils point/check_test.go TestCheckPointsDuplicateKeys: [dup, dup, keep] drops both
    // dups; [dup, keep, dup] drops only the first.
    let c = Checker::default();
    let mut p = pt(
        &[],
        &[
            ("dup", Value::Int(1)),
            ("dup", Value::Int(2)),
            ("keep", Value::Int(3)),
        ],
    );
    assert_eq!(
        kinds(&c.check(&mut p)),
        ["key_name_conflict", "key_name_conflict"]
    );
    assert_eq!(keys(&p), ["keep"]);
    let mut p = pt(
        &[],
        &[
            ("dup", Value::Int(1)),
            ("keep", Value::Int(3)),
            ("dup", Value::Int(2)),
        ],
    );
    assert_eq!(kinds(&c.check(&mut p)), ["key_name_conflict"]);
    assert_eq!(keys(&p), ["keep", "dup"]);
    assert_eq!(p.get_field("dup"), Some(&Value::Int(2)));
    // A tag and a field with one key: both dropped.
    let mut p = pt(&[("k", "t")], &[("k", Value::Int(1)), ("v", Value::Int(2))]);
    assert_eq!(
        kinds(&c.check(&mut p)),
        ["key_name_conflict", "key_name_conflict"]
    );
    assert_eq!(keys(&p), ["v"]);
}

#[test]
fn empty_and_disabled_keys() {
    let c = Checker::new(CheckOptions {
        disabled_keys: vec!["secret".into()],
        ..CheckOptions::default()
    });
    let mut p = pt(&[("", "x"), ("secret", "y")], &[("v", Value::Int(1))]);
    assert_eq!(kinds(&c.check(&mut p)), ["tag_disabled", "tag_disabled"]);
    assert!(p.tags.is_empty());
}

#[test]
fn write_api_rule_sets() {
    assert_eq!(
        CheckOptions::for_write_api(Category::Tracing),
        CheckOptions::default()
    );
    assert_eq!(
        CheckOptions::for_category(Category::Tracing),
        CheckOptions::common_logging()
    );
    assert_eq!(
        CheckOptions::for_write_api(Category::Object),
        CheckOptions::object()
    );
    assert_eq!(
        CheckOptions::for_write_api(Category::CustomObject),
        CheckOptions::default()
    );
}

#[test]
fn counts_by_warn_type() {
    let c = Checker::new(CheckOptions::metric());
    let mut counts = CheckCounts::default();
    for _ in 0..3 {
        let mut p = pt(&[], &[("s", "x".into()), ("v", Value::Int(1))]);
        counts.record(&c.check(&mut p));
    }
    let mut p = pt(&[], &[("v", Value::Int(1))]);
    counts.record(&c.check(&mut p));
    assert_eq!(counts.points, 4);
    assert_eq!(counts.points_with_warnings, 3);
    assert_eq!(counts.get(WarnKind::InvalidFieldValueType), 3);
    assert_eq!(
        counts.iter().collect::<Vec<_>>(),
        [("invalid_field_value_type", 3)]
    );
    let mut total = CheckCounts::default();
    total.merge(&counts);
    total.merge(&counts);
    assert_eq!(total.get(WarnKind::InvalidFieldValueType), 6);
    for k in WarnKind::ALL {
        assert_eq!(WarnKind::ALL[k as usize], k);
    }
}

#[test]
fn repeated_keys_are_found_by_exact_comparison() {
    let rep = |keys: &[&str]| super::has_repeated_key(keys.iter().copied());
    assert!(!rep(&[]));
    assert!(!rep(&["a", "b", "ab", "ba", ""]));
    assert!(rep(&["host", "cpu", "host"]));
    assert!(rep(&["", "x", ""]));
    // Same length and first 7 bytes, different after: not repeated.
    assert!(!rep(&["usage_user", "usage_usex", "usage_idle"]));
    assert!(rep(&["usage_user", "usage_idle", "usage_user"]));
    // Lengths 256 apart share the length byte of the word.
    let (a, b) = ("k".repeat(3), format!("kkk{}", "z".repeat(256)));
    assert!(!rep(&[&a, &b]));
    let long = "é".repeat(200);
    assert!(rep(&[&long, "x", &long]));
}

mod clean_scan {
    use super::*;
    use proptest::prelude::*;

    /// Keys and values drawn from a small alphabet, so that repeats, dots, newlines, trailing
    /// backslashes, disabled and required keys and the length limits all come up often.
    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec!["a", "b", ".", "\n", "\\", "status", "source", "é", ""]),
            0..4,
        )
        .prop_map(|parts| parts.concat())
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            any::<i64>().prop_map(Value::Int),
            any::<u64>().prop_map(Value::Uint),
            prop::sample::select(vec![1.5, f64::INFINITY, f64::NEG_INFINITY, f64::NAN])
                .prop_map(Value::Float),
            any::<bool>().prop_map(Value::Bool),
            text().prop_map(Value::Str),
            prop::collection::vec(any::<u8>(), 0..6).prop_map(Value::Bytes),
        ]
    }

    fn point() -> impl Strategy<Value = Point> {
        (
            text(),
            prop::collection::vec((text(), text()), 0..4),
            prop::collection::vec((text(), value()), 0..4),
        )
            .prop_map(|(name, tags, fields)| {
                let mut p = Point::new(Category::Logging, name);
                p.tags = tags;
                p.fields = fields;
                p
            })
    }

    fn tight(mut o: CheckOptions) -> CheckOptions {
        o.max_tags = 2;
        o.max_fields = 3;
        o.max_tag_key_len = 5;
        o.max_field_key_len = 5;
        o.max_tag_value_len = 6;
        o.max_field_value_len = 6;
        o.max_measurement_len = 7;
        o
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn clean_means_check_changes_and_warns_nothing(p in point(), set in 0usize..4) {
            let opts = match set {
                0 => CheckOptions::default(),
                1 => tight(CheckOptions::metric()),
                2 => tight(CheckOptions::logging()),
                _ => tight(CheckOptions::influx1x()),
            };
            let c = Checker::new(opts);
            let clean = c.is_clean(&p);
            // The full rules, without the early return of `check_into`.
            let mut fixed = p.clone();
            let mut warns = Vec::new();
            c.check_all(&mut fixed, &mut warns);
            // NaN != NaN: compare encodings, which keep every bit.
            let same = format!("{fixed:?}") == format!("{p:?}");
            prop_assert_eq!(clean, warns.is_empty() && same, "{:?} -> {:?} {:?}", p, fixed, warns);
            let keys: Vec<&str> = p.tags.iter().map(|(k, _)| k.as_str())
                .chain(p.fields.iter().map(|(k, _)| k.as_str())).collect();
            let distinct = keys.iter().enumerate().all(|(i, k)| !keys[..i].contains(k));
            if distinct {
                prop_assert_eq!(c.is_clean_distinct(&p), clean);
            }
        }
    }
}

#[test]
fn plain_text_finds_newlines_dots_and_a_trailing_backslash_anywhere() {
    for len in 1..40 {
        assert!(super::plain_text(&vec![b'x'; len], true), "{len}");
        for at in 0..len {
            let mut b = vec![b'x'; len];
            b[at] = b'\n';
            assert!(!super::plain_text(&b, false), "{len} {at}");
            b[at] = b'.';
            assert!(super::plain_text(&b, false), "{len} {at}");
            assert!(!super::plain_text(&b, true), "{len} {at}");
            b[at] = 0x8a; // high bit set, one bit from `\n`
            assert!(super::plain_text(&b, true), "{len} {at}");
            b[at] = b'\\';
            assert_eq!(super::plain_text(&b, true), at + 1 != len, "{len} {at}");
        }
    }
}
