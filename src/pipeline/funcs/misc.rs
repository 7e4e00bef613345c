//! The rest: `sample`, `cache_get`/`cache_set`, reference tables, and the functions this
//! build does not offer (each says why at compile time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Func, func, need};
use crate::pipeline::ast::{Call, Pos};
use crate::pipeline::compile::{CResult, CheckError, Cx, bind, expr_arg};
use crate::pipeline::runtime::err;
use crate::pipeline::value::{SStr, Val};

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

/// `query_refer_table(table, key, value)`: the first row of the reference table whose column
/// `key` holds `value` (typed: `"1"` does not find `1`); every column of the row becomes a
/// field of the point (a tag of that name keeps being a tag). Returns whether a row was found.
/// A table name or column name that is not a string is an error; a value that is `nil` or
/// not a string, int, float or bool finds nothing.
pub fn query_refer_table(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["table_name", "key", "value"], 3)?;
    let table = cx.expr(need(&b, 0)?)?;
    let key = cx.expr(need(&b, 1)?)?;
    let value = cx.expr(need(&b, 2)?)?;
    Ok(func(move |rt, pos| {
        let table = refer_name(rt.eval(&table)?, "query_refer_table", "table_name", pos)?;
        let key = refer_name(rt.eval(&key)?, "query_refer_table", "key", pos)?;
        let value = rt.eval(&value)?;
        let Some(v) = refer_key(&value) else {
            return Ok(Val::Bool(false));
        };
        Ok(Val::Bool(refer_apply(rt, &table, &[&key], &[v])))
    }))
}

/// `mquery_refer_table(table, keys, values)`: as `query_refer_table()`, with a list of columns
/// and a list of values (as many), all of which the row must hold.
pub fn mquery_refer_table(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["table_name", "keys", "values"], 3)?;
    let table = cx.expr(need(&b, 0)?)?;
    let keys = cx.expr(need(&b, 1)?)?;
    let values = cx.expr(need(&b, 2)?)?;
    Ok(func(move |rt, pos| {
        const F: &str = "mquery_refer_table";
        let table = refer_name(rt.eval(&table)?, F, "table_name", pos)?;
        let keys = match rt.eval(&keys)? {
            Val::List(id) => rt
                .heap
                .list(id)
                .to_vec()
                .into_iter()
                .map(|k| refer_name(k, F, "keys", pos))
                .collect::<Result<Vec<_>, _>>()?,
            other => vec![refer_name(other, F, "keys", pos)?],
        };
        let values = match rt.eval(&values)? {
            Val::List(id) => rt.heap.list(id).to_vec(),
            other => vec![other],
        };
        if keys.len() != values.len() {
            return err(
                pos,
                format!("{F}: {} key(s) but {} value(s)", keys.len(), values.len()),
            );
        }
        let Some(vs) = values.iter().map(refer_key).collect::<Option<Vec<_>>>() else {
            return Ok(Val::Bool(false));
        };
        let ks: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
        Ok(Val::Bool(refer_apply(rt, &table, &ks, &vs)))
    }))
}

fn refer_name(v: Val, f: &str, arg: &str, pos: Pos) -> crate::pipeline::runtime::RResult<SStr> {
    match v {
        Val::Str(s) => Ok(s),
        other => err(
            pos,
            format!("{f}: {arg} must be a str, got {}", other.err_type()),
        ),
    }
}

fn refer_key(v: &Val) -> Option<crate::refertable::Key<'_>> {
    use crate::refertable::Key;
    Some(match v {
        Val::Str(s) => Key::Str(s.as_str()),
        Val::Int(i) => Key::Int(*i),
        Val::Float(f) => Key::Float(*f),
        Val::Bool(b) => Key::Bool(*b),
        _ => return None,
    })
}

/// Looks the row up and writes its columns to the point; whether a row was found.
fn refer_apply(
    rt: &mut crate::pipeline::runtime::Rt<'_>,
    table: &str,
    cols: &[&str],
    values: &[crate::refertable::Key<'_>],
) -> bool {
    use crate::point::Value as PValue;
    use crate::refertable::Cell;
    let tables = crate::refertable::current().get();
    let Some(row) = tables.query(table, cols, values) else {
        return false;
    };
    for (name, cell) in row {
        let v = match cell {
            Cell::Str(s) => PValue::Str(s.to_string()),
            Cell::Int(i) => PValue::Int(*i),
            Cell::Float(f) => PValue::Float(*f),
            Cell::Bool(b) => PValue::Bool(*b),
        };
        rt.write(name, v);
    }
    true
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
