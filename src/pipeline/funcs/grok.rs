//! `grok` and `add_pattern`.

use std::sync::Arc;

use smallvec::SmallVec;

use super::{Func, func, nop};
use crate::pipeline::ast::{Call, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, bind, bool_lit, key_arg, str_lit};
use crate::pipeline::grok::{Expanded, GrokRegex, Spans, builtin, expand};
use crate::pipeline::value::Val;
use crate::point::Value as PValue;

/// Expands `pattern` with the patterns visible at this point of the script.
fn expand_here(cx: &Cx<'_>, pattern: &str) -> Result<Expanded, String> {
    expand(pattern, &mut |n| {
        Ok(cx
            .patterns
            .get(n)
            .or_else(|| builtin(n))
            .or_else(|| cx.env.patterns.get(n).cloned()))
    })
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
