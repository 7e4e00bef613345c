//! `grok` and `add_pattern`.

use std::sync::Arc;

use smallvec::SmallVec;

use super::{Func, func, nop};
use crate::pipeline::ast::{Call, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, bind, bool_lit, key_arg, str_lit};
use crate::pipeline::grok::{Expanded, GrokRegex, Spans, builtin, builtin_names, expand};
use crate::pipeline::value::Val;
use crate::point::Value as PValue;

/// Expands `pattern` with the patterns visible at this point of the script. A reference to an
/// unknown pattern names the closest visible one.
fn expand_here(cx: &Cx<'_>, pattern: &str) -> Result<Expanded, String> {
    let mut missing = None;
    expand(pattern, &mut |n| {
        let found = cx
            .patterns
            .get(n)
            .or_else(|| builtin(n))
            .or_else(|| cx.env.patterns.get(n).cloned());
        if found.is_none() {
            missing = Some(n.to_string());
        }
        Ok(found)
    })
    .map_err(
        |msg| match missing.as_deref().and_then(|n| closest_pattern(cx, n)) {
            Some(near) => format!("{msg}; did you mean %{{{near}}}?"),
            None => msg,
        },
    )
}

/// The visible pattern (script, built-in or pattern file) closest to `unknown`.
fn closest_pattern(cx: &Cx<'_>, unknown: &str) -> Option<String> {
    let mut names = cx.patterns.names();
    names.extend(builtin_names());
    names.extend(cx.env.patterns.keys().cloned());
    crate::config::decode::suggest(unknown, names.iter().map(String::as_str))
        .first()
        .map(|s| s.to_string())
}

pub fn grok(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["input", "pattern", "trim_space"], 2)?;
    let key = key_arg(
        cx,
        b.get(0)
            .ok_or_else(|| CheckError::new(pos, "missing input"))?,
    )?;
    let pat_expr = b
        .get(1)
        .ok_or_else(|| CheckError::new(pos, "missing pattern"))?;
    let pat = str_lit(pat_expr)?;
    let trim = match b.get(2) {
        Some(e) => bool_lit(e)?,
        None => true,
    };
    let expanded = expand_here(cx, &pat).map_err(|m| CheckError::new(pos, m))?;
    let g = GrokRegex::compile(&expanded, &pat).map_err(|m| CheckError::new(pos, m))?;
    Ok(func(move |rt, pos| {
        let cost = rt.key_text(&key).map_or(0, |t| t.len() as u64 / 64);
        rt.charge(cost, pos)?;
        let mut spans = Spans::new();
        let mut vals: SmallVec<[PValue; 16]> = SmallVec::new();
        {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Bool(false));
            };
            if !g.search(&text, &mut spans) {
                return Ok(Val::Bool(false));
            }
            for (c, s) in g.caps.iter().zip(&spans) {
                let t = s.and_then(|(a, b)| text.get(a..b));
                let t = if trim { t.map(str::trim) } else { t };
                vals.push(c.ty.convert(t));
            }
        }
        for (c, v) in g.caps.iter().zip(vals) {
            rt.write(&c.name, v);
        }
        Ok(Val::Bool(true))
    }))
}

pub fn add_pattern(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name", "pattern"], 2)?;
    let (Some(n), Some(p)) = (b.get(0), b.get(1)) else {
        return Err(CheckError::new(pos, "func add_pattern expected 2 args"));
    };
    let name = str_lit(n)?;
    let pat = str_lit(p)?;
    let e = expand_here(cx, &pat).map_err(|m| CheckError::new(pos, m))?;
    cx.patterns.add(name, Arc::new(e));
    Ok(nop())
}
