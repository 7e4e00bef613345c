//! What `datakit pipeline test` prints: the input point for a category, the result as
//! sorted, indented JSON (tags with a `#` suffix) or as a right-aligned table, and the summary
//! line with the run cost as a Go duration — the shapes of the original's debugger.

use std::fmt::Write as _;
use std::time::Duration;

use super::timeparse::go_format;
use super::value::{fmt_float_g, fmt_float_json, write_json_str};
use crate::point::{Category, Point, Value};

/// The point a text becomes: for logging, name `default` with field `message`; for other
/// categories the text is line protocol and the first point is used.
pub fn input_point(category: Category, text: &str, now_ns: i64) -> Result<Point, String> {
    if category == Category::Logging {
        let mut p = Point::new(category, "default");
        p.set_field("message", text);
        p.time = now_ns;
        return Ok(p);
    }
    let opts = crate::point::lp::DecodeOptions {
        precision: crate::point::Precision::Nanosecond,
        default_time: now_ns,
        category,
        strict: true,
    };
    let d = crate::point::lp::decode_str(text, &opts).map_err(|e| {
        format!(
            "invalid lineprotocol: {}",
            e.original_message(text.as_bytes())
        )
    })?;
    d.points
        .into_iter()
        .next()
        .ok_or_else(|| "invalid lineprotocol: no point in the text".to_string())
}

/// Go's `time.Duration.String()`: `81.438µs`, `1.2ms`, `1m30.5s`.
pub fn go_duration_string(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    fn frac(v: u128, unit: u128) -> String {
        let whole = v / unit;
        let rest = v % unit;
        if rest == 0 {
            return whole.to_string();
        }
        let digits = unit.ilog10() as usize;
        let f = format!("{rest:0digits$}");
        format!("{whole}.{}", f.trim_end_matches('0'))
    }
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{}µs", frac(ns, 1_000))
    } else if ns < 1_000_000_000 {
        format!("{}ms", frac(ns, 1_000_000))
    } else {
        let secs_ns = ns % 60_000_000_000;
        let mins = ns / 60_000_000_000;
        let (h, m) = (mins / 60, mins % 60);
        let mut s = String::new();
        if h > 0 {
            let _ = write!(s, "{h}h");
        }
        if h > 0 || m > 0 {
            let _ = write!(s, "{m}m");
        }
        let _ = write!(s, "{}s", frac(secs_ns, 1_000_000_000));
        s
    }
}

/// The point time as `--date` shows it: RFC3339Nano in the local zone.
pub fn date_string(ns: i64) -> String {
    match jiff::Timestamp::from_nanosecond(ns as i128) {
        Ok(ts) => go_format(
            &ts.to_zoned_datetime(jiff::tz::TimeZone::system()),
            "2006-01-02T15:04:05.999999999Z07:00",
        ),
        Err(_) => ns.to_string(),
    }
}

fn json_value(out: &mut String, v: &Value) {
    match v {
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Uint(u) => {
            let _ = write!(out, "{u}");
        }
        Value::Float(f) if f.is_finite() => out.push_str(&fmt_float_json(*f)),
        Value::Float(_) => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Str(s) => write_json_str(out, s),
        Value::Bytes(b) => {
            use base64::Engine;
            write_json_str(out, &base64::engine::general_purpose::STANDARD.encode(b));
        }
        Value::Array(_) => out.push_str(&v.json_text()),
    }
}

/// The flat view the debugger prints: fields by name, tags with `#`, and `time`, sorted.
fn flat(p: &Point, date: bool) -> Vec<(String, String, String)> {
    // (key, json text, %v text)
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for (k, v) in &p.fields {
        let mut j = String::new();
        json_value(&mut j, v);
        rows.push((k.clone(), j, tab_value(v)));
    }
    for (k, v) in &p.tags {
        let mut j = String::new();
        write_json_str(&mut j, v);
        rows.push((format!("{k}#"), j, v.clone()));
    }
    let (tj, tv) = if date {
        let d = date_string(p.time);
        let mut j = String::new();
        write_json_str(&mut j, &d);
        (j, d)
    } else {
        (p.time.to_string(), p.time.to_string())
    };
    rows.push(("time".into(), tj, tv));
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn tab_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => fmt_float_g(*f),
        Value::Bool(b) => b.to_string(),
        Value::Str(s) => s.clone(),
        Value::Bytes(b) => format!("{b:?}"),
        Value::Array(_) => v.json_text(),
    }
}

/// The result as 2-space-indented JSON with sorted keys (no HTML escaping).
pub fn render_json(p: &Point, date: bool) -> String {
    let rows = flat(p, date);
    let mut out = String::from("{\n");
    for (i, (k, j, _)) in rows.iter().enumerate() {
        out.push_str("  ");
        write_json_str(&mut out, k);
        out.push_str(": ");
        out.push_str(j);
        if i + 1 < rows.len() {
            out.push(',');
        }
        out.push('\n');
    }
    out.push('}');
    out
}

/// The result as `key: value` lines, keys right-aligned, sorted as padded strings.
pub fn render_tab(p: &Point, date: bool) -> String {
    let rows = flat(p, date);
    let w = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let mut lines: Vec<String> = rows
        .iter()
        .map(|(k, _, v)| format!("{k:>w$}: {v}"))
        .collect();
    lines.sort();
    lines.join("\n")
}

/// The summary line after the separator.
pub fn summary(p: &Point, dropped: bool, cost: Duration) -> String {
    format!(
        "Extracted {} fields, {} tags; measurement(M)<source(L),class(O)...>: {}, drop: {}, cost: {}",
        p.fields.len(),
        p.tags.len(),
        p.name,
        dropped,
        go_duration_string(cost)
    )
}

/// The result as one JSON object (for `--json`): measurement, tags, fields, time, dropped.
pub fn render_machine(p: &Point, dropped: bool, cost: Duration) -> serde_json::Value {
    let mut tags = serde_json::Map::new();
    for (k, v) in &p.tags {
        tags.insert(k.clone(), serde_json::Value::String(v.clone()));
    }
    let mut fields = serde_json::Map::new();
    for (k, v) in &p.fields {
        let jv = v.to_json();
        fields.insert(k.clone(), jv);
    }
    serde_json::json!({
        "measurement": p.name,
        "category": p.category.as_str(),
        "tags": tags,
        "fields": fields,
        "time": p.time,
        "dropped": dropped,
        "cost_ns": cost.as_nanos() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_string(Duration::from_nanos(81_438)), "81.438µs");
        assert_eq!(go_duration_string(Duration::from_micros(1_200)), "1.2ms");
        assert_eq!(go_duration_string(Duration::from_nanos(999)), "999ns");
        assert_eq!(go_duration_string(Duration::from_millis(90_500)), "1m30.5s");
        assert_eq!(go_duration_string(Duration::from_secs(2)), "2s");
        assert_eq!(go_duration_string(Duration::ZERO), "0s");
    }

    #[test]
    fn json_and_tab_layouts() {
        let mut p = Point::new(Category::Logging, "default");
        p.set_field("message", "1.2.3.4 200 <hello> wörld");
        p.set_field("code", 200i64);
        p.set_field("ratio", 1e21);
        p.set_tag("host", "h1");
        p.time = 1795541454522381107;
        let j = render_json(&p, false);
        assert_eq!(
            j,
            "{\n  \"code\": 200,\n  \"host#\": \"h1\",\n  \"message\": \"1.2.3.4 200 <hello> wörld\",\n  \"ratio\": 1e+21,\n  \"time\": 1795541454522381107\n}"
        );
        let t = render_tab(&p, false);
        assert!(
            t.starts_with(
                "   code: 200\n   time: 1795541454522381107\n  host#: h1\n  ratio: 1e+21\nmessage:"
            ),
            "{t}"
        );
        assert_eq!(
            summary(&p, false, Duration::from_nanos(81_438)),
            "Extracted 3 fields, 1 tags; measurement(M)<source(L),class(O)...>: default, drop: false, cost: 81.438µs"
        );
    }

    #[test]
    fn line_protocol_input() {
        let p = input_point(
            Category::Metric,
            "cpu,host=a usage=1.5,n=3i,s=\"x y\",ok=t 1700000000000000000",
            5,
        )
        .unwrap();
        assert_eq!(p.name, "cpu");
        assert_eq!(p.get_tag("host"), Some("a"));
        assert_eq!(p.get_field("usage"), Some(&Value::Float(1.5)));
        assert_eq!(p.get_field("n"), Some(&Value::Int(3)));
        assert_eq!(p.get_field("s"), Some(&Value::Str("x y".into())));
        assert_eq!(p.get_field("ok"), Some(&Value::Bool(true)));
        assert_eq!(p.time, 1700000000000000000);
        assert!(input_point(Category::Metric, "cpu", 0).is_err());
        assert!(input_point(Category::Metric, "cpu usage=zz", 0).is_err());
    }
}
