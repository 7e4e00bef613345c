//! JSON points: `[{"measurement": .., "tags": {..}, "fields": {..}, "time": ns}, ..]`, the write
//! API's `Content-Type: application/json` bodies.

use std::collections::HashMap;

use crate::point::{Category, Point, Value};

/// A JSON point: `{"measurement": .., "tags": {..}, "fields": {..}, "time": ns}`.
#[derive(serde::Deserialize)]
struct JsonPoint {
    measurement: String,
    #[serde(default)]
    tags: HashMap<String, String>,
    fields: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    time: Option<i64>,
}

/// The points of a JSON body; the error names the point and the field.
pub fn json_points(body: &[u8], cat: Category, now: i64) -> Result<Vec<Point>, String> {
    let items: Vec<JsonPoint> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(items.len());
    for (i, jp) in items.into_iter().enumerate() {
        let mut p = Point::new(cat, jp.measurement);
        for (k, v) in jp.tags {
            p.set_tag(k, v);
        }
        for (k, v) in jp.fields {
            let v = match v {
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::String(s) => Value::Str(s),
                serde_json::Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Value::Int(i)
                    } else if let Some(u) = n.as_u64() {
                        Value::Uint(u)
                    } else {
                        Value::Float(n.as_f64().unwrap_or(0.0))
                    }
                }
                other => {
                    return Err(format!(
                        "point {i}: field `{k}` has an unsupported value {other}"
                    ));
                }
            };
            p.set_field(k, v);
        }
        p.time = jp.time.filter(|t| *t != 0).unwrap_or(now);
        out.push(p);
    }
    Ok(out)
}
