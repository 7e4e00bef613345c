//! The `message` field of a process object: every tag and field as JSON, plus `memory` and
//! `cpu` details, written straight into one string.

use super::parse::{StatLite, StatusLite, VM_NAMES};
use crate::point::{Point, Value};

/// The object's `message`: every tag and field, plus `memory` and `cpu` details, written
/// straight into one string (no intermediate JSON map).
pub(super) fn message(p: &Point, status: &StatusLite, stat: &StatLite, tps: f64) -> String {
    use std::fmt::Write as _;
    fn key(out: &mut String, k: &str) {
        if out.len() > 1 {
            out.push(',');
        }
        json_escape(out, k);
        out.push(':');
    }
    let mut out = String::with_capacity(1024);
    out.push('{');
    for (k, v) in &p.tags {
        key(&mut out, k);
        json_escape(&mut out, v);
    }
    for (k, v) in &p.fields {
        key(&mut out, k);
        let _ = match v {
            Value::Int(i) => write!(out, "{i}"),
            Value::Uint(u) => write!(out, "{u}"),
            Value::Float(f) if f.is_finite() => write!(out, "{f}"),
            Value::Float(_) => write!(out, "null"),
            Value::Bool(b) => write!(out, "{b}"),
            Value::Str(s) => {
                json_escape(&mut out, s);
                Ok(())
            }
            Value::Bytes(_) => write!(out, "null"),
            Value::Array(_) => write!(out, "{}", v.json_text()),
        };
    }
    key(&mut out, "memory");
    out.push('{');
    for (i, (name, v)) in VM_NAMES.iter().zip(status.vm).enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":{}", v.unwrap_or(0));
    }
    out.push('}');
    key(&mut out, "cpu");
    let _ = write!(
        out,
        "{{\"cpu\":\"cpu\",\"user\":{},\"system\":{},\"iowait\":{}}}",
        stat.utime as f64 / tps,
        stat.stime as f64 / tps,
        stat.delayacct_blkio_ticks.unwrap_or(0) as f64 / tps
    );
    out.push('}');
    out
}

/// Appends `s` as a JSON string, escaped as serde_json escapes it (`\"`, `\\`, `\b`, `\f`,
/// `\n`, `\r`, `\t`, other control characters as `\u00xx`), without an intermediate String.
fn json_escape(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..0x20 => "",
            _ => continue,
        };
        // `b` is ASCII, so `i` and `i + 1` are character boundaries.
        out.push_str(&s[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escape_matches_serde_json() {
        let mut all: String = (0u32..0x80).filter_map(char::from_u32).collect();
        all.push_str("é✓\u{10ffff}\u{7f}");
        for s in [all.as_str(), "", "plain", "a\"b\\c\n", "\u{1}x\u{1f}"] {
            let mut out = String::from("x");
            json_escape(&mut out, s);
            assert_eq!(out[1..], serde_json::to_string(s).unwrap());
        }
    }
}
