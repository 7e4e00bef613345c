//! Line-protocol encoding used by the outputs until `point::lp` lands (then this file goes).

use crate::point::{Point, Value};

fn esc(out: &mut Vec<u8>, s: &str, specials: &[u8]) {
    for &b in s.as_bytes() {
        if specials.contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
pub fn format_float(out: &mut Vec<u8>, v: f64) {
    let mut b = ryu::Buffer::new();
    let s = b.format_finite(v);
    let Some(epos) = s.find('e') else {
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
        return;
    };
    let (mant, exp) = s.split_at(epos);
    let exp: i32 = exp[1..].parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let mant = mant.trim_start_matches('-');
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits: String = format!("{int}{frac}");
    let point = int.len() as i32 + exp;
    if neg {
        out.push(b'-');
    }
    if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend_from_slice(digits.as_bytes());
    } else if point as usize >= digits.len() {
        out.extend_from_slice(digits.as_bytes());
        out.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
    } else {
        out.extend_from_slice(&digits.as_bytes()[..point as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits.as_bytes()[point as usize..]);
    }
}

fn base64(out: &mut Vec<u8>, data: &[u8]) {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(T[(n >> 18) as usize & 63]);
        out.push(T[(n >> 12) as usize & 63]);
        out.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if c.len() > 2 {
            T[n as usize & 63]
        } else {
            b'='
        });
    }
}

/// Appends `p` as one line (sorted tags and fields, empty tag values omitted) and `\n`.
/// Returns false, writing nothing, when no field can be written (NaN/±Inf floats are skipped).
pub fn append(out: &mut Vec<u8>, p: &Point) -> bool {
    let mut fields: Vec<&(String, Value)> = p
        .fields
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Float(f) if !f.is_finite()))
        .collect();
    if fields.is_empty() {
        return false;
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut tags: Vec<&(String, String)> = p.tags.iter().filter(|(_, v)| !v.is_empty()).collect();
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    esc(out, &p.name, b", ");
    for (k, v) in tags {
        out.push(b',');
        esc(out, k, b", =");
        out.push(b'=');
        esc(out, v, b", =");
    }
    out.push(b' ');
    for (i, (k, v)) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        esc(out, k, b", =\"");
        out.push(b'=');
        match v {
            Value::Int(n) => {
                out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                out.push(b'i');
            }
            Value::Uint(n) => {
                out.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
                out.push(b'u');
            }
            Value::Float(f) => format_float(out, *f),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Str(s) => {
                out.push(b'"');
                esc(out, s, b"\"\\");
                out.push(b'"');
            }
            Value::Bytes(b) => {
                out.push(b'"');
                base64(out, b);
                out.extend_from_slice(b"\"b");
            }
        }
    }
    if p.time != 0 {
        out.push(b' ');
        out.extend_from_slice(itoa::Buffer::new().format(p.time).as_bytes());
    }
    out.push(b'\n');
    true
}
