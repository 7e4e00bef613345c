//! JSON and XML: `json`, `load_json`, `gjson`, `valid_json`, `json_all`, `xml`.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::value::RawValue;

use super::{Func, func, nop};
use crate::pipeline::ast::{Call, Expr, ExprKind, Pos};
use crate::pipeline::compile::{
    CResult, CheckError, Cx, Ex, bind, bool_lit, expr_arg, key_arg, str_lit,
};
use crate::pipeline::runtime::{JsonCache, Rt, err};
use crate::pipeline::value::{Heap, Val, parse_json, to_json};
use crate::point::Value as PValue;

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(i64),
}

/// A JSON path written as an expression: `a`, `a.b`, `a.b[0]`, `` `@t` ``, `.[1]`.
fn json_path(e: &Expr, out: &mut Vec<Seg>) -> CResult<()> {
    match &e.kind {
        ExprKind::Ident(n) | ExprKind::Str(n) => out.push(Seg::Key(n.clone())),
        ExprKind::Attr(a, b) => {
            json_path(a, out)?;
            json_path(b, out)?;
        }
        ExprKind::Index { base, index } => {
            if let Some(b) = base {
                json_path(b, out)?;
            }
            match &index.kind {
                ExprKind::Int(i) => out.push(Seg::Index(*i)),
                ExprKind::Str(s) => out.push(Seg::Key(s.clone())),
                _ => {
                    return Err(CheckError::new(
                        index.pos,
                        format!(
                            "json path index must be an int or string literal, got `{}'",
                            index.kind.kind_name()
                        ),
                    ));
                }
            }
        }
        _ => {
            return Err(CheckError::new(
                e.pos,
                format!(
                    "param type expect Identifier, AttrExpr or IndexExpr, got `{}'",
                    e.kind.kind_name()
                ),
            ));
        }
    }
    Ok(())
}

fn has_attr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Attr(..) => true,
        ExprKind::Index { base: Some(b), .. } => has_attr(b),
        _ => false,
    }
}

/// Follows `path` from `root` in the run's heap, without copying values on the way.
fn walk_ref<'h>(heap: &'h Heap, root: &'h Val, path: &[Seg]) -> Option<&'h Val> {
    let mut cur = root;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), Val::Map(id)) => heap.map(*id)?.get(k.as_str())?,
            (Seg::Index(i), Val::List(id)) => {
                let l = heap.list(*id);
                let n = l.len() as i64;
                let j = if *i < 0 { i + n } else { *i };
                if j < 0 || j >= n {
                    return None;
                }
                &l[j as usize]
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn walk(rt: &Rt<'_>, root: &Val, path: &[Seg]) -> Val {
    walk_ref(&rt.heap, root, path).cloned().unwrap_or(Val::Nil)
}

/// The parsed document for the text of `key`, parsing it only if it changed since the
/// last `json()` call of this run.
fn parsed(rt: &mut Rt<'_>, key: &crate::pipeline::compile::Key) -> Option<Val> {
    if let Some(c) = &rt.json_cache
        && c.sym == key.sym
        && *c.name == *key.name
    {
        return c.root.clone();
    }
    let root = {
        let (text, heap) = rt.key_text_and_heap(key);
        parse_json(&text?, heap)
    };
    rt.json_cache = Some(JsonCache {
        name: key.name.clone(),
        sym: key.sym,
        root: root.clone(),
    });
    root
}

pub fn json(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(
        call,
        pos,
        &[
            "input",
            "json_path",
            "newkey",
            "trim_space",
            "delete_after_extract",
        ],
        2,
    )?;
    let (Some(input), Some(path_e)) = (b.get(0), b.get(1)) else {
        return Err(CheckError::new(pos, "func json expected 2 to 5 args"));
    };
    let key = key_arg(cx, input)?;
    let mut path = Vec::new();
    json_path(path_e, &mut path)?;
    // A path that is only an index (`a[1]`, `.[0]`) has no usable text; `a.b[0]` does.
    let bare_index = matches!(path_e.kind, ExprKind::Index { .. }) && !has_attr(path_e);
    let newkey: String = match b.get(2) {
        Some(e) => e.key_name().ok_or_else(|| {
            CheckError::new(
                e.pos,
                format!(
                    "param type expect Identifier, StringLiteral or AttrExpr, got `{}'",
                    e.kind.kind_name()
                ),
            )
        })?,
        // A bare index path has no usable text: the original writes to the key "".
        None if bare_index => String::new(),
        None => path_e.path_text(),
    };
    let trim = match b.get(3) {
        Some(e) => bool_lit(e)?,
        None => true,
    };
    let delete = match b.get(4) {
        Some(e) => bool_lit(e)?,
        None => false,
    };
    if delete && matches!(path.last(), Some(Seg::Index(_))) {
        return Err(CheckError::new(
            pos,
            "does not support deleting elements in the list",
        ));
    }
    Ok(func(move |rt, _| {
        let Some(root) = parsed(rt, &key) else {
            return Ok(Val::Nil);
        };
        let pv = match walk_ref(&rt.heap, &root, &path) {
            None | Some(Val::Nil) => return Ok(Val::Nil),
            Some(Val::Str(s)) if trim => PValue::Str(s.trim().to_string()),
            Some(other) => match other.to_point(&rt.heap) {
                Some(pv) => pv,
                None => return Ok(Val::Nil),
            },
        };
        rt.write(&newkey, pv);
        if delete {
            // Remove the member from its parent and write the source back without it.
            let (last, parent_path) = match path.split_last() {
                Some((Seg::Key(k), rest)) => (k.clone(), rest),
                _ => return Ok(Val::Nil),
            };
            if let Val::Map(id) = walk(rt, &root, parent_path)
                && let Some(m) = rt.heap.map_mut(id)
            {
                m.remove(last.as_str());
            }
            let text = to_json(&root, &rt.heap);
            rt.json_cache = None;
            rt.write(&key.name, PValue::Str(text));
        }
        Ok(Val::Nil)
    }))
}

pub fn load_json(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val"], 1)?;
    let arg = expr_arg(cx, b.get(0))?.ok_or_else(|| CheckError::new(pos, "missing val"))?;
    if let Ex::Var(key) = arg {
        // A name: parse the text where it is, without copying it into a value first.
        return Ok(func(move |rt, pos| {
            let is_str = match rt.var(key.sym) {
                Some(v) => matches!(v, Val::Str(_)),
                None => {
                    matches!(rt.point().get_field(&key.name), Some(PValue::Str(_)))
                        || rt.point().get_tag(&key.name).is_some()
                }
            };
            if !is_str {
                return err(pos, "param data type expect string");
            }
            let (text, heap) = rt.key_text_and_heap(&key);
            let len = text.as_deref().map_or(0, str::len);
            let v = text.and_then(|t| parse_json(&t, heap)).unwrap_or(Val::Nil);
            rt.charge(len as u64 / 64, pos)?;
            Ok(v)
        }));
    }
    Ok(func(move |rt, pos| {
        let v = rt.eval(&arg)?;
        let Val::Str(s) = v else {
            return err(pos, "param data type expect string");
        };
        rt.charge(s.len() as u64 / 64, pos)?;
        Ok(parse_json(&s, &mut rt.heap).unwrap_or(Val::Nil))
    }))
}

pub fn valid_json(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["val"], 1)?;
    let arg = expr_arg(cx, b.get(0))?.ok_or_else(|| CheckError::new(pos, "missing val"))?;
    Ok(func(move |rt, _| {
        let v = rt.eval(&arg)?;
        Ok(Val::Bool(match v {
            Val::Str(s) => serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok(),
            _ => false,
        }))
    }))
}

/// Registered but disabled in the original: accepts its arguments and does nothing.
pub fn json_all(_cx: &mut Cx<'_>, _call: &Call, _pos: Pos) -> CResult<Box<dyn Func>> {
    Ok(nop())
}

// ---- gjson ---------------------------------------------------------------------------------

fn gjson_segments(path: &str) -> Vec<String> {
    let mut segs = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '.' => segs.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    segs.push(cur);
    segs
}

enum GVal<'a> {
    Raw(&'a RawValue),
    Count(usize),
}

fn gjson_get<'a>(doc: &'a RawValue, segs: &[String]) -> Option<GVal<'a>> {
    let mut cur = doc;
    for (i, seg) in segs.iter().enumerate() {
        let t = cur.get().trim_start();
        if t.starts_with('{') {
            let m: HashMap<Cow<'a, str>, &'a RawValue> = serde_json::from_str(cur.get()).ok()?;
            cur = m.get(seg.as_str())?;
        } else if t.starts_with('[') {
            let l: Vec<&'a RawValue> = serde_json::from_str(cur.get()).ok()?;
            if seg == "#" && i + 1 == segs.len() {
                return Some(GVal::Count(l.len()));
            }
            let ix: usize = seg.parse().ok()?;
            cur = l.get(ix)?;
        } else {
            return None;
        }
    }
    Some(GVal::Raw(cur))
}

pub fn gjson(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["input", "json_path", "newkey"], 2)?;
    let (Some(input), Some(p)) = (b.get(0), b.get(1)) else {
        return Err(CheckError::new(pos, "func gjson expected 2 to 3 args"));
    };
    let key = key_arg(cx, input)?;
    let path = str_lit(p)?;
    let newkey = match b.get(2) {
        Some(e) => key_arg(cx, e)?.name.to_string(),
        None => path.clone(),
    };
    let segs = gjson_segments(&path);
    Ok(func(move |rt, _| {
        let pv = {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            let Ok(doc) = serde_json::from_str::<&RawValue>(&text) else {
                return Ok(Val::Nil);
            };
            match gjson_get(doc, &segs) {
                None => return Ok(Val::Nil),
                Some(GVal::Count(n)) => PValue::Float(n as f64),
                Some(GVal::Raw(r)) => {
                    let t = r.get();
                    match t.as_bytes().first() {
                        Some(b'"') => match serde_json::from_str::<String>(t) {
                            Ok(s) => PValue::Str(s),
                            Err(_) => return Ok(Val::Nil),
                        },
                        Some(b't') => PValue::Bool(true),
                        Some(b'f') => PValue::Bool(false),
                        Some(b'n') => return Ok(Val::Nil),
                        Some(b'{' | b'[') => PValue::Str(t.to_string()),
                        _ => match t.parse::<f64>() {
                            Ok(f) => PValue::Float(f),
                            Err(_) => return Ok(Val::Nil),
                        },
                    }
                }
            }
        };
        rt.write(&newkey, pv);
        Ok(Val::Nil)
    }))
}

// ---- xml -----------------------------------------------------------------------------------

/// One step of the XPath subset `xml()` understands.
#[derive(Debug, Clone)]
struct Step {
    /// `//` before this step: search all descendants.
    descendant: bool,
    /// Element name, `*`, `@attr`, or `text()`.
    name: String,
    /// 1-based position predicate `[n]`, or `[@a='v']`.
    pred: Option<Pred>,
}

#[derive(Debug, Clone)]
enum Pred {
    Pos(usize),
    Attr(String, String),
}

fn parse_xpath(p: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut rest = p.trim();
    if !rest.starts_with('/') {
        rest = rest.trim_start_matches("./");
        if !rest.is_empty() {
            // A relative path behaves like one from the root's descendants.
            let s = format!("//{rest}");
            return parse_xpath(&s);
        }
    }
    while !rest.is_empty() {
        let descendant = rest.starts_with("//");
        rest = rest.trim_start_matches('/');
        let end = rest.find('/').unwrap_or(rest.len());
        let (mut part, tail) = rest.split_at(end);
        rest = tail;
        let mut pred = None;
        if let Some(i) = part.find('[') {
            let inner = part[i + 1..]
                .strip_suffix(']')
                .ok_or_else(|| format!("invalid xpath: {p}"))?;
            pred = Some(if let Ok(n) = inner.trim().parse::<usize>() {
                Pred::Pos(n)
            } else if let Some(a) = inner.trim().strip_prefix('@') {
                let (k, v) = a
                    .split_once('=')
                    .ok_or_else(|| format!("invalid xpath: {p}"))?;
                let v = v.trim().trim_matches(|c| c == '\'' || c == '"');
                Pred::Attr(k.trim().to_string(), v.to_string())
            } else {
                return Err(format!("unsupported xpath predicate: [{inner}]"));
            });
            part = &part[..i];
        }
        if part.is_empty() {
            return Err(format!("invalid xpath: {p}"));
        }
        steps.push(Step {
            descendant,
            name: part.to_string(),
            pred,
        });
    }
    if steps.is_empty() {
        return Err(format!("invalid xpath: {p}"));
    }
    Ok(steps)
}

fn xml_eval(doc: &roxmltree::Document<'_>, steps: &[Step]) -> Option<String> {
    let mut nodes: Vec<roxmltree::Node<'_, '_>> = vec![doc.root()];
    for (i, st) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        if let Some(attr) = st.name.strip_prefix('@') {
            return nodes
                .iter()
                .find_map(|n| n.attribute(attr).map(str::to_string));
        }
        if st.name == "text()" {
            return nodes.first().map(|n| n.text().unwrap_or("").to_string());
        }
        let mut next = Vec::new();
        for n in &nodes {
            let cands: Vec<roxmltree::Node<'_, '_>> = if st.descendant {
                n.descendants().skip(1).filter(|c| c.is_element()).collect()
            } else {
                n.children().filter(|c| c.is_element()).collect()
            };
            let matching = cands
                .into_iter()
                .filter(|c| st.name == "*" || c.tag_name().name() == st.name);
            match &st.pred {
                None => next.extend(matching),
                Some(Pred::Pos(k)) => next.extend(matching.skip(k.saturating_sub(1)).take(1)),
                Some(Pred::Attr(a, v)) => {
                    next.extend(matching.filter(|c| c.attribute(a.as_str()) == Some(v.as_str())))
                }
            }
        }
        nodes = next;
        if nodes.is_empty() {
            return None;
        }
        if last {
            let n = nodes.first()?;
            let text: String = n
                .descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect();
            return Some(text);
        }
    }
    None
}

pub fn xml(cx: &mut Cx<'_>, call: &Call, pos: Pos) -> CResult<Box<dyn Func>> {
    let b = bind(call, pos, &["input", "xpath_expr", "key_name"], 2)?;
    let (Some(input), Some(p)) = (b.get(0), b.get(1)) else {
        return Err(CheckError::new(pos, "func xml expected 2 to 3 args"));
    };
    let key = key_arg(cx, input)?;
    let xpath = str_lit(p)?;
    let steps = parse_xpath(&xpath).map_err(|m| CheckError::new(p.pos, m))?;
    let newkey = match b.get(2) {
        Some(e) => key_arg(cx, e)?.name.to_string(),
        None => xpath.clone(),
    };
    Ok(func(move |rt, _| {
        let found = {
            let Some(text) = rt.key_text(&key) else {
                return Ok(Val::Nil);
            };
            let opts = roxmltree::ParsingOptions {
                allow_dtd: false,
                nodes_limit: 1 << 16,
                ..roxmltree::ParsingOptions::default()
            };
            match roxmltree::Document::parse_with_options(&text, opts) {
                Ok(doc) => xml_eval(&doc, &steps),
                Err(_) => None,
            }
        };
        if let Some(v) = found {
            rt.write(&newkey, PValue::Str(v));
        }
        Ok(Val::Nil)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_subset() {
        let doc = roxmltree::Document::parse(
            "<entry><fieldx>valuex</fieldx><fieldy>...</fieldy><fieldz>...</fieldz><fieldarray><fielda>element_a_1</fielda><fielda>element_a_2</fielda></fieldarray></entry>",
        )
        .unwrap();
        let q = |p: &str| xml_eval(&doc, &parse_xpath(p).unwrap());
        assert_eq!(q("/entry/fieldx").as_deref(), Some("valuex"));
        assert_eq!(
            q("/entry/fieldarray//fielda[2]").as_deref(),
            Some("element_a_2")
        );
        assert_eq!(q("//fielda").as_deref(), Some("element_a_1"));
        assert_eq!(q("/entry/nope"), None);
        let doc = roxmltree::Document::parse("<a x=\"1\"><b k=\"v\">t</b></a>").unwrap();
        let q = |p: &str| xml_eval(&doc, &parse_xpath(p).unwrap());
        assert_eq!(q("/a/@x").as_deref(), Some("1"));
        assert_eq!(q("/a/b[@k='v']").as_deref(), Some("t"));
        assert_eq!(q("/a/b/text()").as_deref(), Some("t"));
    }

    #[test]
    fn gjson_paths() {
        let doc: &RawValue =
            serde_json::from_str(r#"{"a":{"b":[1,{"c":"x"}]},"d.e":true}"#).unwrap();
        let g = |p: &str| match gjson_get(doc, &gjson_segments(p)) {
            Some(GVal::Raw(r)) => Some(r.get().to_string()),
            Some(GVal::Count(n)) => Some(format!("#{n}")),
            None => None,
        };
        assert_eq!(g("a.b.1.c").as_deref(), Some("\"x\""));
        assert_eq!(g("a.b.#").as_deref(), Some("#2"));
        assert_eq!(g("d\\.e").as_deref(), Some("true"));
        assert_eq!(g("a.b").as_deref(), Some("[1,{\"c\":\"x\"}]"));
        assert_eq!(g("zz"), None);
    }
}
