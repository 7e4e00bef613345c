//! Functions that read and write the point's keys, name and flags.

use std::sync::Arc;

use super::{Func, func, need};
use crate::pipeline::ast::{Call, ExprKind, Pos};
use crate::pipeline::compile::{
    CResult, CheckError, Cx, Ex, bind, bool_lit, expr_arg, key_arg, literal, str_lit,
};
use crate::pipeline::runtime::{RResult, Rt, Stop, err};
use crate::pipeline::value::{Map, Val, deep_equal};
use crate::point::{Category, Point};

pub fn add_key(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "value"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    // `add_key(k, m["name"])` with `m` a map variable: read the entry in place (no copy of
    // the value before it becomes the field). Anything else takes the general path.
    if let Some(v) = b.get(1)
        && let ExprKind::Index {
            base: Some(base),
            index,
        } = &v.kind
        && let (ExprKind::Ident(var), ExprKind::Str(entry)) = (&base.kind, &index.kind)
    {
        let var = cx.key(var);
        let entry = entry.clone();
        let general = cx.expr(v)?;
        return Ok(func(move |rt, _| {
            let fast = match rt.var(var.sym) {
                Some(Val::Map(id)) => Some(
                    rt.heap
                        .map(*id)
                        .and_then(|m| m.get(&entry))
                        .and_then(|v| v.to_point(&rt.heap)),
                ),
                _ => None,
            };
            match fast {
                Some(Some(pv)) => rt.write(&key.name, pv),
                Some(None) => rt.write_val(&key.name, &Val::Nil),
                None => {
                    let v = rt.eval(&general)?;
                    rt.write_val(&key.name, &v);
                }
            }
            Ok(Val::Nil)
        }));
    }
    match expr_arg(cx, b.get(1))? {
        Some(v) => Ok(func(move |rt, _| {
            let v = rt.eval(&v)?;
            rt.write_val(&key.name, &v);
            Ok(Val::Nil)
        })),
        None => Ok(func(move |rt, _| {
            // Copies the value the name resolves to (a variable first) into the point.
            if let Some(v) = rt.var(key.sym).cloned() {
                rt.write_val(&key.name, &v);
            }
            Ok(Val::Nil)
        })),
    }
}

pub fn set_tag(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "value"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let value = match b.get(1) {
        None => None,
        Some(e) => match &e.kind {
            ExprKind::Str(_) | ExprKind::Ident(_) | ExprKind::Attr(..) => Some(cx.expr(e)?),
            _ => {
                return Err(CheckError::new(
                    e.pos,
                    format!(
                        "param type expect StringLiteral, got `{}'",
                        e.kind.kind_name()
                    ),
                ));
            }
        },
    };
    Ok(func(move |rt, _| {
        let v = match &value {
            Some(e) => rt.eval(e)?,
            None => rt.read(&key),
        };
        let text = match &v {
            Val::Nil => String::new(),
            other => rt.text_of(other),
        };
        rt.point_mut().set_tag(&*key.name, text);
        Ok(Val::Nil)
    }))
}

pub fn rename(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["new_key", "old_key"], 2)?;
    let new = key_arg(cx, need(&b, 0)?)?;
    let old_e = need(&b, 1)?;
    if !matches!(
        old_e.kind,
        ExprKind::Ident(_) | ExprKind::Attr(..) | ExprKind::Str(_)
    ) {
        return Err(CheckError::new(
            old_e.pos,
            format!(
                "param type expect Identifier or AttrExpr, got `{}'",
                old_e.kind.kind_name()
            ),
        ));
    }
    let old = key_arg(cx, old_e)?;
    Ok(func(move |rt, _| {
        if new.name == old.name {
            return Ok(Val::Nil);
        }
        let p = rt.point_mut();
        if let Some(i) = p.tags.iter().position(|(k, _)| *k == *old.name) {
            let (_, v) = p.tags.remove(i);
            p.remove(&new.name);
            p.tags.push((new.name.to_string(), v));
        } else if let Some(i) = p.fields.iter().position(|(k, _)| *k == *old.name) {
            let (_, v) = p.fields.remove(i);
            p.remove(&new.name);
            p.fields.push((new.name.to_string(), v));
        }
        Ok(Val::Nil)
    }))
}

pub fn drop_key(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| {
        rt.point_mut().remove(&key.name);
        Ok(Val::Nil)
    }))
}

pub fn drop(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    bind(call, pos, &[], 0)?;
    Ok(func(|rt, _| {
        rt.flags.dropped = true;
        Ok(Val::Nil)
    }))
}

pub fn drop_origin_data(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    bind(call, pos, &[], 0)?;
    Ok(func(|rt, _| {
        rt.point_mut().remove("message");
        Ok(Val::Nil)
    }))
}

pub fn exit(_cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    bind(call, pos, &[], 0)?;
    Ok(func(|_, _| Err(Stop::Exit)))
}

pub fn get_key(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key"], 1)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    Ok(func(move |rt, _| Ok(rt.read_point(&key.name))))
}

pub fn set_measurement(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name", "delete_key"], 1)?;
    let name_e = need(&b, 0)?;
    let from_key = match &name_e.kind {
        ExprKind::Ident(_) | ExprKind::Attr(..) => Some(key_arg(cx, name_e)?),
        _ => None,
    };
    let name = cx.expr(name_e)?;
    let delete = match b.get(1) {
        Some(e) => bool_lit(e)?,
        None => false,
    };
    Ok(func(move |rt, _| {
        let v = rt.eval(&name)?;
        if v.is_nil() {
            return Ok(Val::Nil);
        }
        let name = rt.text_of(&v);
        rt.point_mut().name = name;
        if delete && let Some(k) = &from_key {
            rt.point_mut().remove(&k.name);
        }
        Ok(Val::Nil)
    }))
}

pub fn pt_name(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name"], 0)?;
    let name = expr_arg(cx, b.get(0))?;
    Ok(func(move |rt, _| {
        if let Some(e) = &name
            && let Val::Str(s) = rt.eval(e)?
            && !s.is_empty()
        {
            rt.point_mut().name = s.to_string();
        }
        Ok(Val::str(&rt.point().name))
    }))
}

pub fn setopt(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    if let Some(a) = call.args.iter().find(|a| a.name.is_none()) {
        return Err(CheckError::new(
            a.value.pos,
            "setopt takes named arguments only: setopt(status_mapping=false)",
        ));
    }
    let b = bind(call, pos, &["status_mapping"], 0)?;
    let m = expr_arg(cx, b.get(0))?;
    Ok(func(move |rt, pos| {
        if let Some(e) = &m {
            match rt.eval(e)? {
                Val::Bool(v) => rt.flags.status_mapping = v,
                other => {
                    return err(
                        pos,
                        format!("status_mapping expects a bool, got {}", other.err_type()),
                    );
                }
            }
        }
        Ok(Val::Nil)
    }))
}

fn need_str(rt: &mut Rt<'_>, e: &Ex, pos: Pos, what: &str) -> RResult<String> {
    match rt.eval(e)? {
        Val::Str(s) => Ok(s.to_string()),
        other => err(
            pos,
            format!("{what} expects a str, got {}", other.err_type()),
        ),
    }
}

pub fn pt_kvs_get(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name"], 1)?;
    let n = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, pos| {
        let name = need_str(rt, &n, pos, "pt_kvs_get")?;
        Ok(rt.read_point(&name))
    }))
}

pub fn pt_kvs_set(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name", "value", "as_tag"], 2)?;
    let n = cx.expr(need(&b, 0)?)?;
    let v = cx.expr(need(&b, 1)?)?;
    let as_tag = expr_arg(cx, b.get(2))?;
    Ok(func(move |rt, pos| {
        let name = need_str(rt, &n, pos, "pt_kvs_set")?;
        let v = rt.eval(&v)?;
        let tag = match &as_tag {
            Some(e) => rt.eval(e)?.truthy(&rt.heap),
            None => false,
        };
        if tag {
            let t = match &v {
                Val::Nil => String::new(),
                other => rt.text_of(other),
            };
            rt.point_mut().set_tag(name, t);
        } else {
            match v.to_point(&rt.heap) {
                Some(pv) => rt.point_mut().set_field(name, pv),
                None => {
                    rt.point_mut().remove(&name);
                }
            }
        }
        Ok(Val::Bool(true))
    }))
}

pub fn pt_kvs_del(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name"], 1)?;
    let n = cx.expr(need(&b, 0)?)?;
    Ok(func(move |rt, pos| {
        let name = need_str(rt, &n, pos, "pt_kvs_del")?;
        rt.point_mut().remove(&name);
        Ok(Val::Nil)
    }))
}

pub fn pt_kvs_keys(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["tags", "fields"], 0)?;
    let t = expr_arg(cx, b.get(0))?;
    let f = expr_arg(cx, b.get(1))?;
    Ok(func(move |rt, pos| {
        let tags = match &t {
            Some(e) => rt.eval(e)?.truthy(&rt.heap),
            None => true,
        };
        let fields = match &f {
            Some(e) => rt.eval(e)?.truthy(&rt.heap),
            None => true,
        };
        let mut out = Vec::new();
        if tags {
            out.extend(rt.point().tags.iter().map(|(k, _)| Val::str(k)));
        }
        if fields {
            out.extend(rt.point().fields.iter().map(|(k, _)| Val::str(k)));
        }
        rt.new_list(out, pos)
    }))
}

pub fn nullif(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "value"], 2)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let ve = need(&b, 1)?;
    let lit = literal(ve).ok_or_else(|| {
        CheckError::new(
            ve.pos,
            format!(
                "param type expect a literal (str, int, float, bool or nil), got `{}'",
                ve.kind.kind_name()
            ),
        )
    })?;
    Ok(func(move |rt, _| {
        if !rt.exists(&key) {
            return Ok(Val::Nil);
        }
        let v = rt.read(&key);
        if deep_equal(&v, &lit, &rt.heap, 0) {
            rt.point_mut().remove(&key.name);
        }
        Ok(Val::Nil)
    }))
}

/// A number from a value: numbers as they are, numeric text parsed.
fn to_f64(rt: &Rt<'_>, v: &Val) -> Option<f64> {
    match v {
        Val::Int(i) => Some(*i as f64),
        Val::Float(f) => Some(*f),
        Val::Bool(b) => Some(*b as i64 as f64),
        Val::Str(s) => s.trim().parse().ok(),
        _ => {
            let _ = rt;
            None
        }
    }
}

pub fn group_between(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "between", "new_value", "new_key"], 3)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let range_e = need(&b, 1)?;
    let bounds: Vec<f64> = match &range_e.kind {
        ExprKind::List(items) if items.len() == 2 => items
            .iter()
            .map(|x| match x.kind {
                ExprKind::Int(i) => Ok(i as f64),
                ExprKind::Float(f) => Ok(f),
                _ => Err(CheckError::new(x.pos, "range value is not expected")),
            })
            .collect::<CResult<_>>()?,
        _ => {
            return Err(CheckError::new(
                range_e.pos,
                "param between expects a list of two numbers, like [200, 299]",
            ));
        }
    };
    let (lo, hi) = (bounds[0], bounds[1]);
    if lo > hi {
        return Err(CheckError::new(
            range_e.pos,
            format!("range start {lo} is greater than range end {hi}"),
        ));
    }
    let ve = need(&b, 2)?;
    let value = literal(ve).ok_or_else(|| {
        CheckError::new(
            ve.pos,
            format!(
                "param new_value expects a literal, got `{}'",
                ve.kind.kind_name()
            ),
        )
    })?;
    let new_key = match b.get(3) {
        Some(e) => key_arg(cx, e)?.name,
        None => key.name.clone(),
    };
    Ok(func(move |rt, _| {
        let v = rt.read(&key);
        let Some(x) = to_f64(rt, &v) else {
            return Ok(Val::Nil);
        };
        if lo <= x && x <= hi {
            rt.write_val(&new_key, &value);
        }
        Ok(Val::Nil)
    }))
}

pub fn group_in(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["key", "in", "new_value", "new_key"], 3)?;
    let key = key_arg(cx, need(&b, 0)?)?;
    let set_e = need(&b, 1)?;
    // A list of literals is kept as constants; anything else is evaluated per run.
    let consts: Option<Vec<Val>> = match &set_e.kind {
        ExprKind::List(items) => items.iter().map(literal).collect(),
        _ => None,
    };
    let set = match consts {
        Some(_) => None,
        None => Some(cx.expr(set_e)?),
    };
    let consts = consts.unwrap_or_default();
    let value = literal(need(&b, 2)?);
    let new_key = match b.get(3) {
        Some(e) => key_arg(cx, e)?.name,
        None => key.name.clone(),
    };
    Ok(func(move |rt, _| {
        let Some(value) = &value else {
            return Ok(Val::Nil);
        };
        let v = rt.read(&key);
        let hit = match &set {
            None => consts.iter().any(|c| deep_equal(&v, c, &rt.heap, 0)),
            Some(e) => match rt.eval(e)? {
                Val::List(id) => rt
                    .heap
                    .list(id)
                    .iter()
                    .any(|c| deep_equal(&v, c, &rt.heap, 0)),
                _ => false,
            },
        };
        if hit {
            rt.write_val(&new_key, value);
        }
        Ok(Val::Nil)
    }))
}

/// The most scripts `use()` may nest.
const MAX_USE_DEPTH: usize = 16;

pub fn use_(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["name"], 1)?;
    let name = str_lit(need(&b, 0)?)?;
    let Some(resolve) = cx.env.resolve_use else {
        return Err(CheckError::new(pos, format!("script {name} not found")));
    };
    let prog = resolve(&name).map_err(|m| CheckError::new(pos, m))?;
    cx.uses.push(Arc::clone(&prog));
    Ok(func(move |rt, pos| {
        if rt.use_depth >= MAX_USE_DEPTH {
            return err(pos, "use() nested too deeply");
        }
        let saved = rt.take_vars();
        rt.use_depth += 1;
        let r = rt.run_body(prog.body());
        rt.use_depth -= 1;
        rt.restore_vars(saved);
        match r {
            Ok(()) | Err(Stop::Exit) => Ok(Val::Nil),
            Err(Stop::Error(mut e)) => {
                if e.script.is_none() {
                    e.script = Some(prog.name.clone());
                }
                Err(Stop::Error(e))
            }
        }
    }))
}

pub fn create_point(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(
        call,
        pos,
        &["name", "tags", "fields", "ts", "category", "after_use"],
        3,
    )?;
    let name = cx.expr(need(&b, 0)?)?;
    let tags = cx.expr(need(&b, 1)?)?;
    let fields = cx.expr(need(&b, 2)?)?;
    let ts = expr_arg(cx, b.get(3))?;
    let cat = expr_arg(cx, b.get(4))?;
    let after = match b.get(5) {
        Some(e) => {
            let n = str_lit(e)?;
            if n.is_empty() {
                None
            } else {
                let Some(resolve) = cx.env.resolve_use else {
                    return Err(CheckError::new(e.pos, format!("script {n} not found")));
                };
                Some(resolve(&n).map_err(|m| CheckError::new(e.pos, m))?)
            }
        }
        None => None,
    };
    Ok(func(move |rt, pos| {
        let name = need_str(rt, &name, pos, "create_point name")?;
        let category = match &cat {
            Some(e) => {
                let c = need_str(rt, e, pos, "create_point category")?;
                match c.parse::<Category>() {
                    Ok(c) => c,
                    Err(_) => return err(pos, format!("unknown category {c:?}")),
                }
            }
            None => Category::Metric,
        };
        let mut p = Point::new(category, name);
        let empty = Map::new();
        if let Val::Map(id) = rt.eval(&tags)? {
            for (k, v) in rt.heap.map(id).unwrap_or(&empty) {
                if !v.is_nil() {
                    p.set_tag(k.as_str(), rt.text_of(v));
                }
            }
        }
        if let Val::Map(id) = rt.eval(&fields)? {
            for (k, v) in rt.heap.map(id).unwrap_or(&empty) {
                if let Some(pv) = v.to_point(&rt.heap) {
                    p.set_field(k.as_str(), pv);
                }
            }
        }
        p.time = match &ts {
            Some(e) => match rt.eval(e)? {
                Val::Int(t) if t > 0 => t,
                _ => crate::clock::now_ns(),
            },
            None => crate::clock::now_ns(),
        };
        if let Some(prog) = &after {
            let budget = 1_000_000;
            if let Err(e) = prog.run_point(&mut p, budget) {
                return err(pos, format!("create_point after_use: {e}"));
            }
        }
        if rt.flags.extra_points.len() >= 1024 {
            return err(pos, "too many points created by one run");
        }
        rt.flags.extra_points.push(p);
        Ok(Val::Nil)
    }))
}
