//! Writing tracer payloads (v0.4 and v0.5 MessagePack) as the tracers do: for tests,
//! benchmarks and the load generator.

use super::decode::{DdSpan, DdTrace};

fn put_len(out: &mut Vec<u8>, n: usize, fix: u8, fix_max: usize, m16: u8, m32: u8) {
    if n <= fix_max {
        out.push(fix | n as u8);
    } else if n <= u16::MAX as usize {
        out.push(m16);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

pub fn array(out: &mut Vec<u8>, n: usize) {
    put_len(out, n, 0x90, 15, 0xdc, 0xdd);
}

pub fn map(out: &mut Vec<u8>, n: usize) {
    put_len(out, n, 0x80, 15, 0xde, 0xdf);
}

pub fn str(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    if n <= 31 {
        out.push(0xa0 | n as u8);
    } else if n <= u8::MAX as usize {
        out.push(0xd9);
        out.push(n as u8);
    } else if n <= u16::MAX as usize {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

pub fn uint(out: &mut Vec<u8>, v: u64) {
    if v <= 0x7f {
        out.push(v as u8);
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

pub fn int(out: &mut Vec<u8>, v: i64) {
    if (0..=0x7f).contains(&v) {
        out.push(v as u8);
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

pub fn float(out: &mut Vec<u8>, v: f64) {
    out.push(0xcb);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

/// One span as a v0.4 map.
pub fn span_v04(out: &mut Vec<u8>, s: &DdSpan<'_>) {
    map(out, 12);
    str(out, "service");
    str(out, &s.service);
    str(out, "name");
    str(out, &s.name);
    str(out, "resource");
    str(out, &s.resource);
    str(out, "trace_id");
    uint(out, s.trace_id);
    str(out, "span_id");
    uint(out, s.span_id);
    str(out, "parent_id");
    uint(out, s.parent_id);
    str(out, "start");
    int(out, s.start);
    str(out, "duration");
    int(out, s.duration);
    str(out, "error");
    int(out, i64::from(s.error));
    str(out, "meta");
    map(out, s.meta.len());
    for (k, v) in &s.meta {
        str(out, k);
        str(out, v);
    }
    str(out, "metrics");
    map(out, s.metrics.len());
    for (k, v) in &s.metrics {
        str(out, k);
        float(out, *v);
    }
    str(out, "type");
    str(out, &s.span_type);
}

/// A v0.4 body.
pub fn v04(traces: &[DdTrace<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    array(&mut out, traces.len());
    for t in traces {
        array(&mut out, t.len());
        for s in t {
            span_v04(&mut out, s);
        }
    }
    out
}

/// A v0.5 body: the string table, then the traces.
pub fn v05(traces: &[DdTrace<'_>]) -> Vec<u8> {
    let mut dict: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut idx = |s: &str, dict: &mut Vec<String>| -> u64 {
        *index.entry(s.to_string()).or_insert_with(|| {
            dict.push(s.to_string());
            (dict.len() - 1) as u64
        })
    };
    let mut body = Vec::new();
    array(&mut body, traces.len());
    for t in traces {
        array(&mut body, t.len());
        for s in t {
            array(&mut body, 12);
            uint(&mut body, idx(&s.service, &mut dict));
            uint(&mut body, idx(&s.name, &mut dict));
            uint(&mut body, idx(&s.resource, &mut dict));
            uint(&mut body, s.trace_id);
            uint(&mut body, s.span_id);
            uint(&mut body, s.parent_id);
            int(&mut body, s.start);
            int(&mut body, s.duration);
            int(&mut body, i64::from(s.error));
            map(&mut body, s.meta.len());
            for (k, v) in &s.meta {
                uint(&mut body, idx(k, &mut dict));
                uint(&mut body, idx(v, &mut dict));
            }
            map(&mut body, s.metrics.len());
            for (k, v) in &s.metrics {
                uint(&mut body, idx(k, &mut dict));
                float(&mut body, *v);
            }
            uint(&mut body, idx(&s.span_type, &mut dict));
        }
    }
    let mut out = Vec::new();
    array(&mut out, 2);
    array(&mut out, dict.len());
    for s in &dict {
        str(&mut out, s);
    }
    out.extend_from_slice(&body);
    out
}

/// A realistic web request trace of `n` spans (`n` ≥ 1): a root HTTP span, SQL and cache
/// children with 10–20 tags, and a 1–5 KB SQL statement on every fourth span.
pub fn sample_trace(trace_id: u64, n: usize, start: i64) -> DdTrace<'static> {
    let mut spans = Vec::with_capacity(n);
    for i in 0..n {
        let span_id = trace_id.wrapping_mul(31).wrapping_add(i as u64 + 1);
        let parent_id = if i == 0 {
            0
        } else {
            trace_id.wrapping_mul(31).wrapping_add(1)
        };
        let (name, ty, resource) = match i % 4 {
            0 => (
                "flask.request",
                "web",
                "GET /api/v1/orders/<id>".to_string(),
            ),
            1 => ("redis.command", "redis", "GET".to_string()),
            2 => ("http.client", "http", "POST /payments".to_string()),
            _ => {
                let cols: Vec<String> = (0..(40 + (i * 37) % 200))
                    .map(|c| format!("t.col_{c}"))
                    .collect();
                (
                    "mysql.query",
                    "sql",
                    format!("SELECT {} FROM orders t WHERE t.id = ?", cols.join(", ")),
                )
            }
        };
        let mut meta = vec![
            ("env".to_string(), "prod".to_string()),
            ("version".to_string(), "1.4.2".to_string()),
            (
                "runtime-id".to_string(),
                "8c5f1b2c0d6e4a2f9b1e3c4d5e6f7a8b".to_string(),
            ),
            (
                "component".to_string(),
                name.split('.').next().unwrap_or("x").to_string(),
            ),
            (
                "span.kind".to_string(),
                if i == 0 { "server" } else { "client" }.to_string(),
            ),
            ("http.method".to_string(), "GET".to_string()),
            (
                "http.url".to_string(),
                format!("http://shop.internal:8080/api/v1/orders/{i}"),
            ),
            ("http.status_code".to_string(), "200".to_string()),
            ("language".to_string(), "python".to_string()),
            ("_dd.p.dm".to_string(), "-0".to_string()),
        ];
        if i == 0 {
            meta.push((
                super::convert::TRACE_ID_UPPER.to_string(),
                "6565a1b200000000".to_string(),
            ));
            meta.push(("http.route".to_string(), "/api/v1/orders/<id>".to_string()));
            meta.push((
                "http.useragent".to_string(),
                "python-requests/2.31.0".to_string(),
            ));
        }
        if ty == "sql" {
            meta.push(("db.type".to_string(), "mysql".to_string()));
            meta.push(("db.instance".to_string(), "shop".to_string()));
            meta.push(("peer.hostname".to_string(), "db-1.internal".to_string()));
            meta.push(("db.user".to_string(), "app".to_string()));
        }
        let mut metrics = vec![
            ("_dd.measured".to_string(), 1.0),
            ("_dd.top_level".to_string(), if i == 0 { 1.0 } else { 0.0 }),
            ("process_id".to_string(), 4242.0),
        ];
        if i == 0 {
            metrics.push((super::convert::KEY_PRIORITY.to_string(), 1.0));
            metrics.push(("_dd.agent_psr".to_string(), 1.0));
        }
        spans.push(DdSpan {
            service: "shop-api".into(),
            name: name.into(),
            resource: resource.into(),
            trace_id,
            span_id,
            parent_id,
            start: start + i as i64 * 1000,
            duration: 1_500_000 + i as i64 * 1000,
            error: 0,
            meta: meta
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            metrics: metrics.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            span_type: ty.into(),
        });
    }
    spans
}
