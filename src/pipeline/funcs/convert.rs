//! Conversions and small value functions: `cast`, `len`, `strlen`, `value_type`, `parse_int`,
//! `format_int`, `append`, `delete`, `b64enc`, `b64dec`, `hash`, `cidr`,
//! `conv_traceid_w3c_to_dd`.

use std::net::IpAddr;

use base64::Engine as _;

use super::{Func, func, need};
use crate::pipeline::ast::{Call, ExprKind, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, bind, key_arg, str_lit};
use crate::pipeline::grok::parse_go_bool;
use crate::pipeline::lexer::parse_int_auto;
use crate::pipeline::runtime::err;
use crate::pipeline::value::Val;
use crate::point::Value as PValue;

#[derive(Clone, Copy)]
enum CastTo {
    Int,
    Float,
    Bool,
    Str,
    /// `"string"`: passes the checker but yields nil, removing the value (original quirk).
    Nil,
}

/// spf13/cast's ToFloat64 for the value kinds a script sees.
fn to_float(v: &Val) -> f64 {
    match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        Val::Bool(b) => *b as i64 as f64,
        Val::Str(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

pub fn cast(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "type"], 2)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let te = need(&b, 1)?;
    let t = str_lit(te)?;
    let to = match t.as_str() {
        "int" => CastTo::Int,
        "float" => CastTo::Float,
        "bool" => CastTo::Bool,
        "str" => CastTo::Str,
        "string" => CastTo::Nil,
        other => {
            return Err(CheckError::new(
                te.pos,
                format!("unsupported cast type `{other}` (int, float, bool or str)"),
            ));
        }
    };
    Ok(func(move |rt, _| {
        if !rt.exists(&key) {
            return Ok(Val::Nil);
        }
        let v = rt.read(&key);
        let out = match to {
            CastTo::Int => PValue::Int(match &v {
                Val::Int(i) => *i,
                other => {
                    let f = to_float(other);
                    if f.is_nan() { 0 } else { f as i64 }
                }
            }),
            CastTo::Float => PValue::Float(to_float(&v)),
            CastTo::Bool => PValue::Bool(match &v {
                Val::Bool(b) => *b,
                Val::Int(i) => *i != 0,
                Val::Float(f) => *f != 0.0,
                Val::Str(s) => parse_go_bool(s).unwrap_or(false),
                _ => false,
            }),
            CastTo::Str => PValue::Str(match &v {
                Val::Nil => String::new(),
                other => rt.text_of(other),
            }),
            CastTo::Nil => {
                rt.write_val(&key.name, &Val::Nil);
                return Ok(Val::Nil);
            }
        };
        rt.write(&key.name, out);
        Ok(Val::Nil)
    }))
}

pub fn len(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val"], 1)?;
    let arg = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let n = match rt.eval(&arg)? {
            Val::Str(s) => s.len(),
            Val::List(id) => rt.heap.list(id).len(),
            Val::Map(id) => rt.heap.map(id).map_or(0, |m| m.len()),
            _ => 0,
        };
        Ok(Val::Int(n as i64))
    }))
}

pub fn strlen(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val"], 1)?;
    let arg = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, pos| match rt.eval(&arg)? {
        Val::Str(s) => Ok(Val::Int(s.chars().count() as i64)),
        other => err(
            pos,
            format!(
                "strlen: param data type expect str, got {}",
                other.err_type()
            ),
        ),
    }))
}

pub fn value_type(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val"], 1)?;
    let arg = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, _| Ok(Val::str(rt.eval(&arg)?.type_name()))))
}

/// Go's `strconv.ParseInt(s, base, 64)`.
fn go_parse_int(s: &str, base: i64) -> Option<i64> {
    if base == 0 {
        return parse_int_auto(s);
    }
    if !(2..=36).contains(&base) {
        return None;
    }
    let (neg, d) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if d.is_empty() || d.starts_with(['+', '-']) {
        return None;
    }
    let m = u64::from_str_radix(d, base as u32).ok()?;
    if neg {
        (m <= i64::MAX as u64 + 1).then(|| (m as i64).wrapping_neg())
    } else {
        i64::try_from(m).ok()
    }
}

fn format_radix(n: i64, base: u32) -> String {
    let neg = n < 0;
    let mut m = n.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let d = (m % base as u64) as u32;
        digits.push(std::char::from_digit(d, base).unwrap_or('?'));
        m /= base as u64;
        if m == 0 {
            break;
        }
    }
    if neg {
        digits.push('-');
    }
    digits.iter().rev().collect()
}

pub fn parse_int(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val", "base"], 2)?;
    let s = cx.expr(need(&b, 0)?)?;
    let base = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, pos| {
        let Val::Str(s) = rt.eval(&s)? else {
            return err(pos, "parse_int: param val expects a str");
        };
        let Val::Int(base) = rt.eval(&base)? else {
            return err(pos, "parse_int: param base expects an int");
        };
        Ok(Val::Int(go_parse_int(&s, base).unwrap_or(0)))
    }))
}

pub fn format_int(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val", "base"], 2)?;
    let n = cx.expr(need(&b, 0)?)?;
    let base = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, pos| {
        let Val::Int(n) = rt.eval(&n)? else {
            return err(pos, "format_int: param val expects an int");
        };
        let Val::Int(base) = rt.eval(&base)? else {
            return err(pos, "format_int: param base expects an int");
        };
        if !(2..=36).contains(&base) {
            return Ok(Val::str(""));
        }
        Ok(Val::str(&format_radix(n, base as u32)))
    }))
}

pub fn append(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["arr", "elem"], 2)?;
    let l = cx.expr(need(&b, 0)?)?;
    let e = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, pos| {
        let Val::List(id) = rt.eval(&l)? else {
            return err(pos, "append: param arr expects a list");
        };
        let v = rt.eval(&e)?;
        let mut out = rt.heap.list(id).to_vec();
        out.push(v);
        rt.new_list(out, pos)
    }))
}

pub fn delete(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["src", "key"], 2)?;
    let m = cx.expr(need(&b, 0)?)?;
    let k = str_lit(need(&b, 1)?)?;
    Ok(func(move |rt, _| {
        if let Val::Map(id) = rt.eval(&m)?
            && let Some(map) = rt.heap.map_mut(id)
        {
            map.remove(k.as_str());
        }
        Ok(Val::Nil)
    }))
}

fn ident_only(
    cx: &mut Cx<'_>,
    e: &crate::pipeline::ast::Expr,
) -> CResult<crate::pipeline::compile::Key> {
    match &e.kind {
        ExprKind::Ident(_) | ExprKind::Attr(..) => key_arg(cx, e),
        _ => Err(CheckError::new(
            e.pos,
            format!("param type expect Identifier, got `{}'", e.kind.kind_name()),
        )),
    }
}

pub fn b64enc(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = ident_only(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let Some(t) = rt.key_text(&key) else {
            return Ok(Val::Nil);
        };
        let s = base64::engine::general_purpose::STANDARD.encode(t.as_bytes());
        rt.write_str(&key.name, s);
        Ok(Val::Nil)
    }))
}

pub fn b64dec(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = ident_only(cx, need(&b, 0)?)?;
    Ok(func(move |rt, pos| {
        let decoded = {
            let Some(t) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            base64::engine::general_purpose::STANDARD.decode(t.as_bytes())
        };
        match decoded {
            Ok(bytes) => {
                let s = String::from_utf8_lossy(&bytes).into_owned();
                rt.write_str(&key.name, s);
                Ok(Val::Nil)
            }
            Err(e) => err(pos, format!("illegal base64 data: {e}")),
        }
    }))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn hash(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["text", "method"], 2)?;
    let t = cx.expr(need(&b, 0)?)?;
    let m = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, _| {
        let Val::Str(text) = rt.eval(&t)? else {
            return Ok(Val::str(""));
        };
        let Val::Str(method) = rt.eval(&m)? else {
            return Ok(Val::str(""));
        };
        use sha2::Digest;
        let out = match method.as_str() {
            "md5" => hex(&md5::Md5::digest(text.as_bytes())),
            "sha1" => hex(&sha1::Sha1::digest(text.as_bytes())),
            "sha256" => hex(&sha2::Sha256::digest(text.as_bytes())),
            "sha512" => hex(&sha2::Sha512::digest(text.as_bytes())),
            _ => String::new(),
        };
        Ok(Val::str(&out))
    }))
}

/// Is `ip` inside `prefix` (`10.0.0.0/8`, `2001:db8::/32`)?
pub fn ip_in_cidr(ip: &str, prefix: &str) -> Option<bool> {
    let ip: IpAddr = ip.trim().parse().ok()?;
    let (net, bits) = prefix.trim().split_once('/')?;
    let net: IpAddr = net.parse().ok()?;
    let bits: u32 = bits.parse().ok()?;
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            if bits > 32 {
                return None;
            }
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            Some(u32::from(a) & mask == u32::from(n) & mask)
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            if bits > 128 {
                return None;
            }
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            Some(u128::from(a) & mask == u128::from(n) & mask)
        }
        _ => Some(false),
    }
}

pub fn cidr(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["ip", "prefix"], 2)?;
    let ip = cx.expr(need(&b, 0)?)?;
    let pf = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, _| {
        let (Val::Str(ip), Val::Str(pf)) = (rt.eval(&ip)?, rt.eval(&pf)?) else {
            return Ok(Val::Bool(false));
        };
        Ok(Val::Bool(ip_in_cidr(&ip, &pf).unwrap_or(false)))
    }))
}

pub fn conv_traceid_w3c_to_dd(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let out = {
            let Some(t) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            let t = t.trim();
            if t.len() != 32 && t.len() != 16 {
                return Ok(Val::Nil);
            }
            match u64::from_str_radix(&t[t.len() - 16..], 16) {
                Ok(v) => v.to_string(),
                Err(_) => return Ok(Val::Nil),
            }
        };
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_parsing_and_formatting() {
        assert_eq!(go_parse_int("ff", 16), Some(255));
        assert_eq!(go_parse_int("-101", 2), Some(-5));
        assert_eq!(go_parse_int("0x1f", 0), Some(31));
        assert_eq!(go_parse_int("zz", 10), None);
        assert_eq!(format_radix(255, 16), "ff");
        assert_eq!(format_radix(-5, 2), "-101");
        assert_eq!(format_radix(i64::MIN, 10), i64::MIN.to_string());
    }

    #[test]
    fn cidr_matching() {
        assert_eq!(ip_in_cidr("192.168.1.7", "192.168.0.0/16"), Some(true));
        assert_eq!(ip_in_cidr("10.1.1.1", "192.168.0.0/16"), Some(false));
        assert_eq!(ip_in_cidr("2001:db8::1", "2001:db8::/32"), Some(true));
        assert_eq!(ip_in_cidr("x", "10.0.0.0/8"), None);
        assert_eq!(ip_in_cidr("10.0.0.1", "0.0.0.0/0"), Some(true));
    }
}
