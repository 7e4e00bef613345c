//! Text functions: `lowercase`, `uppercase`, `trim`, `replace`, `strfmt`, `cover`,
//! `sql_cover`, `kv_split`, `url_decode`, `url_parse`, `user_agent`, `geoip`, `decode`,
//! `match`, `slice_string`.

use super::useragent;
use super::{Func, func, need};
use crate::pipeline::ast::{Call, ExprKind, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, Ex, bind, expr_arg, key_arg, str_lit};
use crate::pipeline::re2::compile_rust;
use crate::pipeline::runtime::{RResult, Rt, err};
use crate::pipeline::value::{Map, SStr, Val};
use crate::point::Value as PValue;

fn regex_lit(e: &crate::pipeline::ast::Expr) -> CResult<regex::Regex> {
    let s = str_lit(e)?;
    compile_rust(&s).map_err(|m| CheckError::new(e.pos, m.0))
}

/// A function that reads a key as text, transforms it, and writes the result back.
fn map_text(
    cx: &mut Cx<'_>,
    call: &Call,
    pos: Pos,
    f: fn(&str) -> String,
) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let out = match rt.key_text(&key) {
            Some(t) => f(&t),
            None => return Ok(Val::Nil),
        };
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

pub fn lowercase(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    map_text(cx, call, pos, |s| s.to_lowercase())
}

pub fn uppercase(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    map_text(cx, call, pos, |s| s.to_uppercase())
}

pub fn trim(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "cutset"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let cutset: Vec<char> = match b.get(1) {
        Some(e) => str_lit(e)?.chars().collect(),
        None => Vec::new(),
    };
    Ok(func(move |rt, _| {
        let out = match rt.key_text(&key) {
            Some(t) if cutset.is_empty() => t.trim().to_string(),
            Some(t) => t.trim_matches(cutset.as_slice()).to_string(),
            None => return Ok(Val::Nil),
        };
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

pub fn replace(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "regex", "replace_str"], 3)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let re = regex_lit(need(&b, 1)?)?;
    let repl = str_lit(need(&b, 2)?)?;
    Ok(func(move |rt, pos| {
        let out = match rt.key_text(&key) {
            Some(t) => re.replace_all(&t, repl.as_str()).into_owned(),
            None => return Ok(Val::Nil),
        };
        if out.len() > crate::pipeline::runtime::MAX_STRING {
            return err(pos, "replace: result too long");
        }
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

pub fn strfmt(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    if call.args.len() < 2 {
        return Err(CheckError::new(pos, "func strfmt expected at least 2 args"));
    }
    if let Some(a) = call.args.iter().find(|a| a.name.is_some()) {
        return Err(CheckError::new(
            a.value.pos,
            "strfmt does not take named arguments",
        ));
    }
    let key = key_arg(cx, &call.args[0].value)?;
    let fmt = str_lit(&call.args[1].value)?;
    let args: Vec<Ex> = call.args[2..]
        .iter()
        .map(|a| cx.expr(&a.value))
        .collect::<CResult<_>>()?;
    Ok(func(move |rt, pos| {
        let mut vals = Vec::with_capacity(args.len());
        for a in &args {
            vals.push(rt.eval(a)?);
        }
        let out = super::go_sprintf(&fmt, &vals, &rt.heap);
        if out.len() > crate::pipeline::runtime::MAX_STRING {
            return err(pos, "strfmt: result too long");
        }
        rt.write_str(&key.name, out);
        Ok(Val::Nil)
    }))
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3005 | 0x3007 | 0x3021..=0x3029 | 0x3038..=0x303B |
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// Masks characters `a..=b` (1-based, inclusive). A non-positive `a` and a negative `b` count
/// from the end, a `b` past the end stops at the end, and an empty range gives `None`.
pub fn cover_text(s: &str, a: i64, b: i64) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let mut b = if b < 0 { b + n + 1 } else { b };
    if b > n {
        b = n;
    }
    let a = if a <= 0 { a + n + 1 } else { a };
    if a > b || a < 1 {
        return None;
    }
    Some(
        chars
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let p = i as i64 + 1;
                if p >= a && p <= b {
                    if is_han(c) { '＊' } else { '*' }
                } else {
                    c
                }
            })
            .collect(),
    )
}

pub fn cover(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "range"], 2)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let re = need(&b, 1)?;
    let (a, z) = match &re.kind {
        ExprKind::List(items) if items.len() == 2 => match (&items[0].kind, &items[1].kind) {
            (ExprKind::Int(a), ExprKind::Int(z)) => (*a, *z),
            _ => {
                return Err(CheckError::new(
                    re.pos,
                    "cover range must be two ints, like [1, 4]",
                ));
            }
        },
        _ => {
            return Err(CheckError::new(
                re.pos,
                "cover range must be two ints, like [1, 4]",
            ));
        }
    };
    Ok(func(move |rt, _| {
        let v = rt.read(&key);
        let Val::Str(s) = v else { return Ok(Val::Nil) };
        if let Some(out) = cover_text(&s, a, z) {
            rt.write_str(&key.name, out);
        }
        Ok(Val::Nil)
    }))
}

pub fn sql_cover(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    map_text(cx, call, pos, obfuscate_sql)
}

/// SQL with literals replaced by `?`, comments removed, whitespace normalised, and lists of
/// literals folded to `( ? )` (in the spirit of Datadog's obfuscator, which DataKit uses).
pub fn obfuscate_sql(sql: &str) -> String {
    #[derive(PartialEq)]
    enum T<'a> {
        Word(&'a str),
        Lit,
        Punct(&'a str),
    }
    let b = sql.as_bytes();
    let mut toks: Vec<T<'_>> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') || c == b'#' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i = sql[i + 2..].find("*/").map_or(b.len(), |k| i + 2 + k + 2);
        } else if c == b'\'' {
            i += 1;
            while i < b.len() {
                if b[i] == b'\\' {
                    i += 2;
                } else if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else {
                        i += 1;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            toks.push(T::Lit);
        } else if c == b'"' || c == b'`' {
            let s = i;
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i = (i + 1).min(b.len());
            toks.push(T::Word(&sql[s..i]));
        } else if c.is_ascii_digit()
            || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            || ((c == b'-' || c == b'+')
                && b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && !matches!(toks.last(), Some(T::Word(_) | T::Lit) | Some(T::Punct(")"))))
        {
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                i += 1;
            }
            toks.push(T::Lit);
        } else if c.is_ascii_alphabetic() || c == b'_' || c == b'$' || c == b'@' || c >= 0x80 {
            let s = i;
            while i < b.len()
                && (b[i].is_ascii_alphanumeric()
                    || matches!(b[i], b'_' | b'$' | b'@')
                    || b[i] >= 0x80)
            {
                i += 1;
            }
            toks.push(T::Word(&sql[s..i]));
        } else {
            let two = sql.get(i..i + 2).unwrap_or("");
            let n = if matches!(two, "<=" | ">=" | "<>" | "!=" | "||" | "::" | ":=") {
                2
            } else {
                sql[i..].chars().next().map_or(1, char::len_utf8)
            };
            toks.push(T::Punct(&sql[i..i + n]));
            i += n;
        }
    }
    // Fold "( ?, ?, ... )" into "( ? )".
    let mut folded: Vec<T<'_>> = Vec::with_capacity(toks.len());
    let mut k = 0;
    while k < toks.len() {
        if toks[k] == T::Punct("(") {
            let mut j = k + 1;
            let mut only_lits = false;
            while j < toks.len() && matches!(toks[j], T::Lit | T::Punct(",")) {
                only_lits |= toks[j] == T::Lit;
                j += 1;
            }
            if only_lits && j < toks.len() && toks[j] == T::Punct(")") {
                folded.push(T::Punct("("));
                folded.push(T::Lit);
                folded.push(T::Punct(")"));
                k = j + 1;
                continue;
            }
        }
        folded.push(std::mem::replace(&mut toks[k], T::Lit));
        k += 1;
    }
    let mut out = String::with_capacity(sql.len());
    let mut prev_dot = false;
    for t in &folded {
        let s = match t {
            T::Word(w) => *w,
            T::Lit => "?",
            T::Punct(p) => *p,
        };
        let no_space = out.is_empty() || prev_dot || s == "," || s == "." || s == ";";
        if !no_space {
            out.push(' ');
        }
        out.push_str(s);
        prev_dot = s == ".";
    }
    out
}

pub fn kv_split(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(
        call,
        pos,
        &[
            "key",
            "field_split_pattern",
            "value_split_pattern",
            "trim_key",
            "trim_value",
            "include_keys",
            "prefix",
        ],
        1,
    )?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let field_re = match b.get(1) {
        Some(e) => regex_lit(e)?,
        None => compile_rust(" ").map_err(|m| CheckError::new(pos, m.0))?,
    };
    let value_re = match b.get(2) {
        Some(e) => regex_lit(e)?,
        None => compile_rust("=").map_err(|m| CheckError::new(pos, m.0))?,
    };
    let trim_key: Vec<char> = match b.get(3) {
        Some(e) => str_lit(e)?.chars().collect(),
        None => Vec::new(),
    };
    let trim_value: Vec<char> = match b.get(4) {
        Some(e) => str_lit(e)?.chars().collect(),
        None => Vec::new(),
    };
    let include = expr_arg(cx, b.get(5))?;
    let prefix = match b.get(6) {
        Some(e) => str_lit(e)?,
        None => String::new(),
    };
    Ok(func(move |rt, _| {
        let include: Vec<String> = match &include {
            None => Vec::new(),
            Some(e) => match rt.eval(e)? {
                Val::List(id) => rt
                    .heap
                    .list(id)
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            },
        };
        if include.is_empty() {
            return Ok(Val::Bool(false));
        }
        let mut found: Vec<(String, String)> = Vec::new();
        {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Bool(false));
            };
            for part in field_re.split(&text) {
                let mut kv = value_re.splitn(part, 2);
                let (Some(k), Some(v)) = (kv.next(), kv.next()) else {
                    continue;
                };
                let k = if trim_key.is_empty() {
                    k
                } else {
                    k.trim_matches(trim_key.as_slice())
                };
                let v = if trim_value.is_empty() {
                    v
                } else {
                    v.trim_matches(trim_value.as_slice())
                };
                if k.is_empty() || !include.iter().any(|i| i == k) {
                    continue;
                }
                found.push((format!("{prefix}{k}"), v.to_string()));
            }
        }
        let any = !found.is_empty();
        for (k, v) in found {
            rt.write_str(&k, v);
        }
        Ok(Val::Bool(any))
    }))
}

/// Go's `url.QueryUnescape`.
pub fn query_unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = b.get(i + 1..i + 3);
                match h
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(v) if h.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) => {
                        out.push(v);
                        i += 3;
                    }
                    _ => {
                        let end = (i + 3).min(b.len());
                        let bad = String::from_utf8_lossy(&b[i..end]);
                        return Err(format!("invalid URL escape {bad:?}"));
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

pub fn url_decode(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, pos| {
        let r = match rt.key_text(&key) {
            Some(t) => query_unescape(&t),
            None => return Ok(Val::Nil),
        };
        match r {
            Ok(s) => {
                rt.write_str(&key.name, s);
                Ok(Val::Nil)
            }
            Err(m) => err(pos, m),
        }
    }))
}

/// The parts of a URL as `url_parse` returns them.
pub struct UrlParts {
    pub scheme: String,
    pub host: String,
    pub port: String,
    pub path: String,
    pub params: Vec<(String, String)>,
}

pub fn parse_url(s: &str) -> UrlParts {
    let s = s.split('#').next().unwrap_or("");
    let (before_q, query) = match s.split_once('?') {
        Some((a, q)) => (a, q),
        None => (s, ""),
    };
    let (scheme, rest) = match before_q.split_once("://") {
        Some((sc, r))
            if !sc.is_empty()
                && sc
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c)) =>
        {
            (sc.to_ascii_lowercase(), Some(r))
        }
        _ => (String::new(), None),
    };
    let (host, path) = match rest {
        Some(r) => {
            let (authority, path) = match r.find('/') {
                Some(i) => (&r[..i], &r[i..]),
                None => (r, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or("");
            (host.to_string(), path.to_string())
        }
        None => (String::new(), before_q.to_string()),
    };
    let port = match host.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || host.starts_with('[') => {
            if p.bytes().all(|c| c.is_ascii_digit()) {
                p.to_string()
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.split(['&', ';']).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Ok(k), Ok(v)) = (query_unescape(k), query_unescape(v)) else {
            continue;
        };
        match params.iter_mut().find(|(pk, _)| *pk == k) {
            Some(slot) => {
                slot.1.push(',');
                slot.1.push_str(&v);
            }
            None => params.push((k, v)),
        }
    }
    UrlParts {
        scheme,
        host,
        port,
        path: query_unescape(&path).unwrap_or(path),
        params,
    }
}

pub fn url_parse(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "prefix"], 1)?;
    let v = cx.expr(need(&b, 0)?)?;
    if let Some(e) = b.get(1)
        && matches!(
            e.kind,
            ExprKind::Int(_) | ExprKind::Float(_) | ExprKind::Bool(_)
        )
    {
        return Err(CheckError::new(
            e.pos,
            format!(
                "param type expect StringLiteral, got `{}'",
                e.kind.kind_name()
            ),
        ));
    }
    let prefix = expr_arg(cx, b.get(1))?;
    Ok(func(move |rt, pos| {
        let prefix = match &prefix {
            None => String::new(),
            Some(e) => match rt.eval(e)? {
                Val::Str(s) => s.to_string(),
                Val::Nil => String::new(),
                other => {
                    return err(
                        pos,
                        format!("url_parse: prefix expects a str, got {}", other.err_type()),
                    );
                }
            },
        };
        let Val::Str(s) = rt.eval(&v)? else {
            return Ok(Val::Nil);
        };
        let u = parse_url(&s);
        let mut params = Map::new();
        for (k, v) in u.params {
            params.insert(SStr::from(k), Val::Str(SStr::from(v)));
        }
        let params = rt.new_map(params, pos)?;
        let mut m = Map::new();
        let mut put = |k: &str, v: Val| {
            m.insert(SStr::from(format!("{prefix}{k}")), v);
        };
        put("scheme", Val::Str(SStr::from(u.scheme)));
        put("host", Val::Str(SStr::from(u.host)));
        put("port", Val::Str(SStr::from(u.port)));
        put("path", Val::Str(SStr::from(u.path)));
        put("params", params);
        rt.new_map(m, pos)
    }))
}

pub fn user_agent(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        let ua = match rt.key_text(&key) {
            Some(t) => useragent::parse_cached(&t),
            None => return Ok(Val::Nil),
        };
        rt.write("browser", PValue::Str(ua.browser.clone()));
        rt.write("browserVer", PValue::Str(ua.browser_version.clone()));
        rt.write("engine", PValue::Str(ua.engine.clone()));
        rt.write("engineVer", PValue::Str(ua.engine_version.clone()));
        rt.write("os", PValue::Str(ua.os.clone()));
        rt.write("ua", PValue::Str(ua.platform.clone()));
        rt.write("isMobile", PValue::Bool(ua.mobile));
        rt.write("isBot", PValue::Bool(ua.bot));
        Ok(Val::Nil)
    }))
}

/// Without an IP database (none ships with this build) every lookup finds nothing, as the
/// original does with an empty `data/ipdb`: the four keys are written empty.
pub fn geoip(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["ip"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        if !rt.exists(&key) {
            return Ok(Val::Nil);
        }
        for k in ["city", "province", "country", "isp"] {
            rt.write(k, PValue::Str(String::new()));
        }
        Ok(Val::Nil)
    }))
}

pub fn decode(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "encoding"], 2)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let enc = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, _| {
        let Val::Str(name) = rt.eval(&enc)? else {
            return Ok(Val::Nil);
        };
        let encoding = match name.to_ascii_lowercase().as_str() {
            "gbk" => encoding_rs::GBK,
            "gb18030" => encoding_rs::GB18030,
            "utf-16le" | "utf16le" => encoding_rs::UTF_16LE,
            "utf-16be" | "utf16be" => encoding_rs::UTF_16BE,
            "utf-8" | "utf8" => encoding_rs::UTF_8,
            _ => return Ok(Val::Nil),
        };
        let bytes: Vec<u8> = if let Some(PValue::Bytes(b)) = rt.point().get_field(&key.name) {
            b.clone()
        } else {
            match rt.key_text(&key) {
                Some(t) => t.as_bytes().to_vec(),
                None => return Ok(Val::Nil),
            }
        };
        let (s, _, _) = encoding.decode(&bytes);
        let s = s.into_owned();
        rt.write_str(&key.name, s);
        Ok(Val::Nil)
    }))
}

pub fn match_(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["pattern", "s"], 2)?;
    let re = regex_lit(need(&b, 0)?)?;
    let s = cx.expr(need(&b, 1)?)?;
    Ok(func(move |rt, _| {
        Ok(Val::Bool(match rt.eval(&s)? {
            Val::Str(s) => re.is_match(&s),
            _ => false,
        }))
    }))
}

fn int_of(rt: &mut Rt<'_>, e: &Ex, pos: Pos) -> RResult<i64> {
    match rt.eval(e)? {
        Val::Int(i) => Ok(i),
        other => err(
            pos,
            format!(
                "slice_string: expects int positions, got {}",
                other.err_type()
            ),
        ),
    }
}

pub fn slice_string(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name", "start", "end"], 3)?;
    let s = cx.expr(need(&b, 0)?)?;
    let a = cx.expr(need(&b, 1)?)?;
    let z = cx.expr(need(&b, 2)?)?;
    Ok(func(move |rt, pos| {
        let Val::Str(s) = rt.eval(&s)? else {
            return err(pos, "slice_string: expects a str");
        };
        let (a, z) = (int_of(rt, &a, pos)?, int_of(rt, &z, pos)?);
        let n = s.chars().count() as i64;
        if a < 0 || z > n || a > z {
            return Ok(Val::str(""));
        }
        let out: String = s.chars().skip(a as usize).take((z - a) as usize).collect();
        Ok(Val::Str(SStr::from(out)))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_rules() {
        assert_eq!(
            cover_text("13812345678", 4, 7).as_deref(),
            Some("138****5678")
        );
        assert_eq!(cover_text("abc", 1, 100).as_deref(), Some("***"));
        assert_eq!(cover_text("abcdef", 2, -2).as_deref(), Some("a****f"));
        assert_eq!(cover_text("abc", 3, 1), None);
        assert_eq!(cover_text("张三丰", 1, 2).as_deref(), Some("＊＊丰"));
        assert_eq!(cover_text("abcd", -2, 4).as_deref(), Some("ab**"));
    }

    #[test]
    fn sql_obfuscation() {
        assert_eq!(
            obfuscate_sql("select * from t where id in (1, 2, 3) and name = 'bob'  -- c"),
            "select * from t where id in ( ? ) and name = ?"
        );
        assert_eq!(
            obfuscate_sql("UPDATE a.b SET x=-1.5, y='it''s' WHERE z>=10"),
            "UPDATE a.b SET x = ?, y = ? WHERE z >= ?"
        );
        assert_eq!(
            obfuscate_sql("select c1 from t2 limit 10"),
            "select c1 from t2 limit ?"
        );
    }

    #[test]
    fn url_helpers() {
        assert_eq!(query_unescape("a%20b+c").unwrap(), "a b c");
        assert_eq!(
            query_unescape("a%zzb").unwrap_err(),
            "invalid URL escape \"%zz\""
        );
        let u = parse_url("http://127.0.0.1:9529/v1/metrics?arg1=v1&arg2=v2&arg2=v3");
        assert_eq!(
            (
                u.scheme.as_str(),
                u.host.as_str(),
                u.port.as_str(),
                u.path.as_str()
            ),
            ("http", "127.0.0.1:9529", "9529", "/v1/metrics")
        );
        assert_eq!(u.params[1], ("arg2".to_string(), "v2,v3".to_string()));
        let u = parse_url("/var/log/datakit/log");
        assert_eq!(u.path, "/var/log/datakit/log");
        assert_eq!(u.scheme, "");
    }
}
