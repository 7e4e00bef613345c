use super::*;
use crate::inputs::ddtrace::encode;

fn spans() -> Vec<DdTrace<'static>> {
    let mut a = encode::sample_trace(7, 3, 1_000);
    a[1].error = 1;
    vec![a, encode::sample_trace(9, 1, 2_000)]
}

#[test]
fn v04_msgpack_round_trips() {
    let traces = spans();
    assert_eq!(msgpack_v04(&encode::v04(&traces)).unwrap(), traces);
}

#[test]
fn v05_msgpack_round_trips() {
    let traces = spans();
    assert_eq!(msgpack_v05(&encode::v05(&traces)).unwrap(), traces);
}

#[test]
fn json_bodies_decode_with_nulls_and_missing_keys() {
    let body = br#"[[{"service":"s","name":"n","resource":"r","trace_id":1,"span_id":2,
        "parent_id":0,"start":5,"duration":6,"error":1,"meta":{"b":"2","a":"1","z":null},
        "metrics":null,"type":"web"}], null, [{"trace_id":3}]]"#;
    let t = json_traces(body).unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(
        t[0][0].meta,
        vec![("a".into(), "1".into()), ("b".into(), "2".into())]
    );
    assert_eq!(t[0][0].error, 1);
    assert!(t[1].is_empty());
    assert_eq!(t[2][0].trace_id, 3);
    let flat =
        json_spans(br#"[{"trace_id":1,"span_id":1},{"trace_id":2},{"trace_id":1,"span_id":2}]"#)
            .unwrap();
    assert_eq!(flat.len(), 2);
    assert_eq!(flat[0].len(), 2);
}

#[test]
fn errors_say_where_they_failed() {
    let body = encode::v04(&spans());
    let cut = &body[..body.len() - 3];
    let e = msgpack_v04(cut).unwrap_err().to_string();
    assert!(
        e.starts_with("msgpack in trace 1, span 0, key `type`: at byte"),
        "{e}"
    );
    assert!(e.contains("truncated"), "{e}");

    // A span id that is a string.
    let mut b = Vec::new();
    encode::array(&mut b, 1);
    encode::array(&mut b, 1);
    encode::map(&mut b, 1);
    encode::str(&mut b, "span_id");
    encode::str(&mut b, "12");
    let e = msgpack_v04(&b).unwrap_err().to_string();
    assert_eq!(
        e,
        "msgpack in trace 0, span 0, key `span_id`: at byte 11: expected an integer, found a string"
    );

    let e = json_traces(b"[[{\"trace_id\":\"x\"}]]")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("JSON: invalid type") && e.contains("line 1, column"),
        "{e}"
    );

    let mut b = encode::v04(&spans());
    b.push(0xc0);
    assert!(matches!(
        msgpack_v04(&b),
        Err(DecodeError::Trailing { extra: 1, .. })
    ));

    // v0.5: a string index past the table.
    let mut b = Vec::new();
    encode::array(&mut b, 2);
    encode::array(&mut b, 1);
    encode::str(&mut b, "s");
    encode::array(&mut b, 1);
    encode::array(&mut b, 1);
    encode::array(&mut b, 12);
    encode::uint(&mut b, 5);
    b.extend_from_slice(&[0; 11]);
    let e = msgpack_v05(&b).unwrap_err().to_string();
    assert!(
        e.contains("string index 5 out of the table's 1 strings"),
        "{e}"
    );
    assert!(e.contains("trace 0, span 0"), "{e}");
}

#[test]
fn content_types_pick_the_decoder() {
    let traces = spans();
    let mp = encode::v04(&traces);
    assert_eq!(by_content_type("application/msgpack", &mp).unwrap(), traces);
    assert!(by_content_type("application/json", &mp).is_err());
    // Another type: JSON, else msgpack.
    assert_eq!(
        by_content_type("application/octet-stream", &mp).unwrap(),
        traces
    );
    let e = by_content_type("text/plain", b"\xc1").unwrap_err();
    assert!(matches!(e, DecodeError::Neither { .. }), "{e}");
    assert_eq!(
        media_type("Application/MsgPack; charset=x"),
        "application/msgpack"
    );
}

#[test]
fn chunks_of_one_trace_merge() {
    let a = encode::sample_trace(1, 2, 0);
    let b = encode::sample_trace(2, 1, 0);
    let mut a2 = encode::sample_trace(1, 1, 0);
    a2[0].span_id = 99;
    let merged = merge_traces(vec![a, b, a2]);
    assert_eq!(merged.len(), 2);
    assert_eq!(merged[0].len(), 3);
}
