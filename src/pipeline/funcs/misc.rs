//! The rest: `sample`, `cache_get`/`cache_set`, reference tables, and the functions this
//! build does not offer (each says why at compile time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Func, func, need};
use crate::pipeline::ast::{Call, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, bind, expr_arg};
use crate::pipeline::runtime::err;
use crate::pipeline::value::Val;

pub fn sample(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["p"], 1)?;
    let p = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, pos| {
        let p = match rt.eval(&p)? {
            Val::Int(i) => i as f64,
            Val::Float(f) => f,
            other => {
                return err(
                    pos,
                    format!("sample: p must be a number, got {}", other.err_type()),
                );
            }
        };
        Ok(Val::Bool(fastrand::f64() < p))
    }))
}

/// The per-script cache behind `cache_get`/`cache_set`.
#[derive(Debug, Default)]
pub struct TtlCache {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

const CACHE_MAX: usize = 10_000;

impl TtlCache {
    pub fn get(&self, k: &str) -> Option<String> {
        let mut m = self.map.lock().ok()?;
        match m.get(k) {
            Some((v, exp)) if *exp > Instant::now() => Some(v.clone()),
            Some(_) => {
                m.remove(k);
                None
            }
            None => None,
        }
    }

    pub fn set(&self, k: String, v: String, ttl: Duration) {
        let Ok(mut m) = self.map.lock() else { return };
        if m.len() >= CACHE_MAX {
            let now = Instant::now();
            m.retain(|_, (_, e)| *e > now);
            if m.len() >= CACHE_MAX {
                m.clear();
            }
        }
        m.insert(k, (v, Instant::now() + ttl));
    }
}

pub fn cache_get(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let k = cx.expr(need(&b, 0)?)?;
    let cache = cx.cache.clone();
    Ok(func(move |rt, pos| {
        let Val::Str(k) = rt.eval(&k)? else {
            return err(pos, "cache_get: key must be a str");
        };
        Ok(match cache.get(&k) {
            Some(v) => Val::str(&v),
            None => Val::Nil,
        })
    }))
}

pub fn cache_set(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "value", "expiration"], 2)?;
    let k = cx.expr(need(&b, 0)?)?;
    let v = cx.expr(need(&b, 1)?)?;
    let exp = expr_arg(cx, b.get(2))?;
    let cache = cx.cache.clone();
    Ok(func(move |rt, pos| {
        let Val::Str(k) = rt.eval(&k)? else {
            return err(pos, "cache_set: key must be a str");
        };
        let v = rt.eval(&v)?;
        let ttl = match &exp {
            Some(e) => match rt.eval(e)? {
                Val::Int(s) if s > 0 => s as u64,
                _ => 100,
            },
            None => 100,
        };
        let text = match &v {
            Val::Nil => return Ok(Val::Nil),
            other => rt.text_of(other),
        };
        cache.set(
            k.to_string(),
            text,
            Duration::from_secs(ttl.min(86400 * 365)),
        );
        Ok(Val::Nil)
    }))
}

/// Reference tables: this build loads none (there is no `refer_table_url` support yet), so
/// every lookup finds nothing, as the original does when no table is configured.
pub fn query_refer_table(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["table_name", "key", "value"], 3)?;
    let args: Vec<_> = (0..3)
        .map(|i| need(&b, i).and_then(|e| cx.expr(e)))
        .collect::<CResult<_>>()?;
    Ok(func(move |rt, _| {
        for a in &args {
            rt.eval(a)?;
        }
        Ok(Val::Bool(false))
    }))
}

pub fn mquery_refer_table(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["table_name", "keys", "values"], 3)?;
    let args: Vec<_> = (0..3)
        .map(|i| need(&b, i).and_then(|e| cx.expr(e)))
        .collect::<CResult<_>>()?;
    Ok(func(move |rt, _| {
        for a in &args {
            rt.eval(a)?;
        }
        Ok(Val::Bool(false))
    }))
}

fn unsupported(name: &str, why: &str, pos: Pos) -> CheckError {
    CheckError::new(
        pos,
        format!("func {name} is not supported by this build: {why}"),
    )
}

pub fn http_request(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    Err(unsupported(
        &call.name,
        "outbound HTTP from scripts is not implemented (per-point network calls would also stall the pipeline)",
        pos,
    ))
}

pub fn agg_create(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    Err(unsupported(
        &call.name,
        "in-agent aggregation needs the daemon's aggregator, which is not built yet",
        pos,
    ))
}

pub fn agg_metric(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    agg_create(cx, call, pos)
}

pub fn point_window(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    Err(unsupported(
        &call.name,
        "context windows need the logging input to hold back dropped lines, which it does not do yet",
        pos,
    ))
}

pub fn window_hit(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    point_window(cx, call, pos)
}
