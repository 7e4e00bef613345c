use super::*;

#[test]
fn v2_json_decodes_ids_endpoints_and_tags() {
    let body = br#"[{"traceId":"5af7183fb1d4cf5f6b1e3c4d5e6f7a8b","parentId":"352bff9a74ca9ad2",
      "id":"6b221d5bc9e6496c","kind":"SERVER","name":"get /api","timestamp":1556604172355737,
      "duration":1431,"localEndpoint":{"serviceName":"backend","ipv4":"192.168.99.1","port":3306},
      "remoteEndpoint":{"ipv4":"172.19.0.2","port":58648},"annotations":[{"timestamp":1,"value":"ws"}],
      "tags":{"http.method":"GET","http.path":"/api"}}, null]"#;
    let s = json_v2(body).unwrap();
    assert_eq!(s.len(), 1);
    let z = &s[0];
    assert_eq!(
        (z.trace_id_high, z.trace_id),
        (0x5af7183fb1d4cf5f, 0x6b1e3c4d5e6f7a8b)
    );
    assert_eq!(z.parent_id, 0x352bff9a74ca9ad2);
    assert_eq!(z.id, 0x6b221d5bc9e6496c);
    assert_eq!(z.local_endpoint.as_ref().unwrap().service_name, "backend");
    assert_eq!(z.tags.len(), 2);
    assert_eq!(z.annotations, vec![(1, "ws".to_string())]);

    let e = json_v2(br#"[{"traceId":"1","id":"xyz"}]"#)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "JSON span 0: `id`: `xyz` is not a hex id of at most 16 digits"
    );
    let e = json_v2(b"[{\"traceId\": 5}]").unwrap_err().to_string();
    assert!(
        e.starts_with("JSON: invalid type") && e.contains("line 1, column"),
        "{e}"
    );
}

#[test]
fn v1_json_takes_service_resource_and_times_from_annotations() {
    let body = br#"[{"traceId":"0000000000000001","id":"0000000000000002","name":"get",
      "annotations":[{"timestamp":1000,"value":"sr","endpoint":{"serviceName":"front"}},
                     {"timestamp":1500,"value":"ss","endpoint":{"serviceName":"front"}}],
      "binaryAnnotations":[{"key":"path.http","value":"/users"},{"key":"error","value":"boom"},
                           {"key":"n","value":3}]}]"#;
    let s = json_v1(body).unwrap();
    let z = &s[0];
    assert_eq!(z.v1_service.as_deref(), Some("front"));
    assert_eq!(z.v1_resource.as_deref(), Some("/users"));
    assert_eq!((z.timestamp, z.duration), (1000, 500));
    assert_eq!(z.tags[2], ("n".to_string(), "3".to_string()));
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn ld(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    varint(out, field << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// A zipkin.proto3 span.
pub(crate) fn pb_span(
    trace: &[u8],
    id: u64,
    parent: u64,
    name: &str,
    service: &str,
    tags: &[(&str, &str)],
) -> Vec<u8> {
    let mut s = Vec::new();
    ld(&mut s, 1, trace);
    if parent != 0 {
        ld(&mut s, 2, &parent.to_be_bytes());
    }
    ld(&mut s, 3, &id.to_be_bytes());
    varint(&mut s, 4 << 3);
    varint(&mut s, 2); // SERVER
    ld(&mut s, 5, name.as_bytes());
    varint(&mut s, 6 << 3 | 1);
    s.extend_from_slice(&1_700_000_000_000_000u64.to_le_bytes());
    varint(&mut s, 7 << 3);
    varint(&mut s, 250);
    let mut ep = Vec::new();
    ld(&mut ep, 1, service.as_bytes());
    ld(&mut ep, 2, &[10, 0, 0, 1]);
    ld(&mut s, 8, &ep);
    for (k, v) in tags {
        let mut e = Vec::new();
        ld(&mut e, 1, k.as_bytes());
        ld(&mut e, 2, v.as_bytes());
        ld(&mut s, 11, &e);
    }
    s
}

#[test]
fn v2_protobuf_decodes_and_says_where_it_failed() {
    let mut body = Vec::new();
    ld(
        &mut body,
        1,
        &pb_span(
            &[0, 0, 0, 0, 0, 0, 0, 7],
            2,
            1,
            "op",
            "svc",
            &[("error", "x")],
        ),
    );
    let s = proto_v2(&body).unwrap();
    assert_eq!(s[0].trace_id, 7);
    assert_eq!(s[0].parent_id, 1);
    assert_eq!(s[0].kind, "SERVER");
    assert_eq!(s[0].timestamp, 1_700_000_000_000_000);
    assert_eq!(s[0].duration, 250);
    assert_eq!(s[0].local_endpoint.as_ref().unwrap().ipv4, "10.0.0.1");
    assert_eq!(s[0].tags, vec![("error".to_string(), "x".to_string())]);
    let e = proto_v2(&body[..body.len() - 3]).unwrap_err().to_string();
    assert!(
        e.starts_with("protobuf at byte") && e.contains("truncated"),
        "{e}"
    );
    let mut bad = Vec::new();
    ld(&mut bad, 1, &pb_span(&[1, 2, 3], 2, 1, "op", "svc", &[]));
    let e = proto_v2(&bad).unwrap_err().to_string();
    assert!(e.contains("trace_id has 3 bytes, expected 8 or 16"), "{e}");
}

/// A thrift binary list of one zipkincore span.
pub(crate) fn thrift_span(trace: i64, id: i64, parent: i64, name: &str, service: &str) -> Vec<u8> {
    let mut b = vec![12];
    b.extend_from_slice(&1i32.to_be_bytes());
    let i64f = |b: &mut Vec<u8>, id: i16, v: i64| {
        b.push(10);
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&v.to_be_bytes());
    };
    let strf = |b: &mut Vec<u8>, id: i16, v: &[u8]| {
        b.push(11);
        b.extend_from_slice(&id.to_be_bytes());
        b.extend_from_slice(&(v.len() as i32).to_be_bytes());
        b.extend_from_slice(v);
    };
    i64f(&mut b, 1, trace);
    strf(&mut b, 3, name.as_bytes());
    i64f(&mut b, 4, id);
    if parent != 0 {
        i64f(&mut b, 5, parent);
    }
    // annotations: one "sr" with a host.
    b.push(15);
    b.extend_from_slice(&6i16.to_be_bytes());
    b.push(12);
    b.extend_from_slice(&1i32.to_be_bytes());
    i64f(&mut b, 1, 1_700_000_000_000_000);
    strf(&mut b, 2, b"sr");
    b.push(12);
    b.extend_from_slice(&3i16.to_be_bytes());
    strf(&mut b, 3, service.as_bytes());
    b.push(0); // endpoint stop
    b.push(0); // annotation stop
    // binary annotations: http.path
    b.push(15);
    b.extend_from_slice(&8i16.to_be_bytes());
    b.push(12);
    b.extend_from_slice(&1i32.to_be_bytes());
    strf(&mut b, 1, b"path.http");
    strf(&mut b, 2, b"/users");
    b.push(8);
    b.extend_from_slice(&3i16.to_be_bytes());
    b.extend_from_slice(&6i32.to_be_bytes());
    b.push(0);
    i64f(&mut b, 11, 900);
    b.push(0); // span stop
    b
}

#[test]
fn v1_thrift_decodes_and_says_where_it_failed() {
    let body = thrift_span(9, 2, 1, "get", "front");
    let s = thrift_v1(&body).unwrap();
    let z = &s[0];
    assert_eq!((z.trace_id, z.id, z.parent_id), (9, 2, 1));
    assert_eq!(z.v1_service.as_deref(), Some("front"));
    assert_eq!(z.v1_resource.as_deref(), Some("/users"));
    assert_eq!((z.timestamp, z.duration), (1_700_000_000_000_000, 900));
    let e = thrift_v1(&body[..body.len() - 5]).unwrap_err().to_string();
    assert!(
        e.starts_with("thrift at byte") && e.contains("truncated"),
        "{e}"
    );
    let e = thrift_v1(&[12, 0x7f, 0xff, 0xff, 0xff])
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than the 0 bytes left"), "{e}");
}
