//! The interpreter: walks the compiled tree over one point.
//!
//! Variables live in one vector of `(symbol, value)` pairs; a block remembers the length on
//! entry and truncates on exit, so scopes cost nothing and lookups never allocate. Reading a
//! name that is not a variable falls through to the point's tags, then its fields.

use std::borrow::Cow;

use super::compile::{Arith, Cmp, Ex, Key, St, Sym, Target};
use super::value::{Heap, Map, SStr, Val, deep_equal, equal, fmt_float_f, point_text, str_eq};
use crate::point::{Point, Value as PValue};

/// Where a runtime error happened and what it is (the script name is added by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct RtError {
    pub pos: usize,
    pub msg: String,
    /// Set when the error happened in a script run by `use()`.
    pub script: Option<String>,
}

/// Why evaluation stopped early.
#[derive(Debug)]
pub enum Stop {
    Error(RtError),
    /// `exit()` was called: a normal end.
    Exit,
}

pub type RResult<T> = Result<T, Stop>;

const BUDGET_MSG: &str = "the script exceeded its step budget (a loop that does not end?)";

/// The error of a run stopped at its time limit.
pub const TIME_MSG: &str = "the script ran past its time limit on this point";

/// Steps (a statement, a loop turn, about 4 KB of work) between two looks at the clock of a
/// run with a time limit; a call counts [`CALL_TICKS`].
const CLOCK_EVERY: u32 = 32;
const CALL_TICKS: u32 = 8;

/// A budget error raised by a statement inside a loop points at the loop.
fn at_loop(r: RResult<()>, pos: usize) -> RResult<()> {
    match r {
        Err(Stop::Error(mut e))
            if e.pos == 0 && (e.msg == BUDGET_MSG || e.msg == TIME_MSG) && e.script.is_none() =>
        {
            e.pos = pos;
            Err(Stop::Error(e))
        }
        other => other,
    }
}

pub fn err<T>(pos: usize, msg: impl Into<String>) -> RResult<T> {
    Err(Stop::Error(RtError {
        pos,
        msg: msg.into(),
        script: None,
    }))
}

/// The longest string a script may build (bytes).
pub const MAX_STRING: usize = 16 << 20;
/// The most lists and maps one run may create.
pub const MAX_OBJECTS: usize = 1 << 20;

enum Ctl {
    Next,
    Break,
    Continue,
}

/// Variables of a run: a few live inline, so most runs never allocate for them.
pub type Vars = smallvec::SmallVec<[(Sym, Val); 8]>;

/// Per-run state besides variables: flags the script sets and extra points it creates.
#[derive(Debug, Default)]
pub struct RunFlags {
    pub dropped: bool,
    /// `setopt(status_mapping=false)` turns this off.
    pub status_mapping: bool,
    pub extra_points: Vec<Point>,
}

/// The last JSON document parsed in this run, to serve repeated `json()` calls on the same
/// key. It is dropped whenever that key's text may have changed: a write to the key, any other
/// point change through [`Rt::point_mut`], or a change of the variable of that name.
pub struct JsonCache {
    pub name: Box<str>,
    pub sym: Sym,
    pub root: Option<Val>,
}

pub struct Rt<'a> {
    point: &'a mut Point,
    vars: Vars,
    pub heap: Heap,
    budget: u64,
    pub flags: RunFlags,
    pub json_cache: Option<JsonCache>,
    /// Depth of nested `use()` runs.
    pub use_depth: usize,
    /// When the run must stop (its time limit), if it has one.
    deadline: Option<std::time::Instant>,
    /// Steps since the clock was last read.
    ticks: u32,
}

impl<'a> Rt<'a> {
    pub fn new(point: &'a mut Point, budget: u64) -> Self {
        Rt {
            point,
            vars: Vars::new(),
            heap: Heap::default(),
            budget,
            flags: RunFlags {
                status_mapping: true,
                ..RunFlags::default()
            },
            json_cache: None,
            use_depth: 0,
            deadline: None,
            ticks: 0,
        }
    }

    /// Stops the run with an error once `deadline` has passed (looked at every few steps).
    pub fn with_deadline(mut self, deadline: Option<std::time::Instant>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Counts `n` steps towards the next look at the clock of a run with a time limit.
    #[inline]
    fn tick(&mut self, n: u32, pos: usize) -> RResult<()> {
        if let Some(d) = self.deadline {
            self.ticks = self.ticks.saturating_add(n);
            if self.ticks >= CLOCK_EVERY {
                self.ticks = 0;
                if std::time::Instant::now() >= d {
                    return err(pos, TIME_MSG);
                }
            }
        }
        Ok(())
    }

    /// Spends `n` steps of the run's budget; a script that exhausts it is stopped.
    #[inline]
    pub fn charge(&mut self, n: u64, pos: usize) -> RResult<()> {
        if n > self.budget {
            self.budget = 0;
            return err(pos, BUDGET_MSG);
        }
        self.budget -= n;
        self.tick(u32::try_from(n).unwrap_or(u32::MAX), pos)
    }

    // ---- variables and keys ------------------------------------------------------------

    #[inline]
    pub fn var(&self, sym: Sym) -> Option<&Val> {
        self.vars
            .iter()
            .rev()
            .find(|(s, _)| *s == sym)
            .map(|(_, v)| v)
    }

    /// The point, for reading.
    pub fn point(&self) -> &Point {
        self.point
    }

    /// The point, for changing (drops the JSON cache).
    pub fn point_mut(&mut self) -> &mut Point {
        self.json_cache = None;
        self.point
    }

    /// Takes the variables away (a `use()` run starts with none); see [`Rt::restore_vars`].
    pub fn take_vars(&mut self) -> Vars {
        self.json_cache = None;
        std::mem::take(&mut self.vars)
    }

    pub fn restore_vars(&mut self, vars: Vars) {
        self.json_cache = None;
        self.vars = vars;
    }

    fn truncate_vars(&mut self, mark: usize) {
        if self.vars.len() > mark {
            self.vars.truncate(mark);
            self.json_cache = None;
        }
    }

    pub fn set_var(&mut self, sym: Sym, v: Val) {
        if self.json_cache.as_ref().is_some_and(|c| c.sym == sym) {
            self.json_cache = None;
        }
        if let Some(slot) = self.vars.iter_mut().rev().find(|(s, _)| *s == sym) {
            slot.1 = v;
        } else {
            self.vars.push((sym, v));
        }
    }

    /// A name as an expression reads it: variable, else tag, else field, else nil.
    pub fn read(&self, key: &Key) -> Val {
        if !self.vars.is_empty()
            && let Some(v) = self.var(key.sym)
        {
            return v.clone();
        }
        self.read_point(&key.name)
    }

    /// The point only (tags, then fields).
    pub fn read_point(&self, name: &str) -> Val {
        if let Some(t) = self.point.get_tag(name) {
            return Val::str(t);
        }
        match self.point.get_field(name) {
            Some(v) => Val::from_point(v),
            None => Val::Nil,
        }
    }

    /// True if a variable or a point key of that name exists.
    pub fn exists(&self, key: &Key) -> bool {
        (!self.vars.is_empty() && self.var(key.sym).is_some()) || self.point.contains(&key.name)
    }

    /// A key's value as text without copying where possible; `None` when missing or nil.
    pub fn key_text(&self, key: &Key) -> Option<Cow<'_, str>> {
        if !self.vars.is_empty()
            && let Some(v) = self.var(key.sym)
        {
            return match v {
                Val::Nil => None,
                Val::Str(s) => Some(Cow::Borrowed(s.as_str())),
                other => Some(Cow::Owned(other.to_text(&self.heap))),
            };
        }
        if let Some((_, t)) = self.point.tags.iter().find(|(k, _)| str_eq(k, &key.name)) {
            return Some(Cow::Borrowed(t));
        }
        self.point
            .fields
            .iter()
            .find(|(k, _)| str_eq(k, &key.name))
            .map(|(_, v)| point_text(v))
    }

    /// A key's text (as [`Rt::key_text`]) together with the heap, for parsing into it without
    /// copying the text first.
    pub fn key_text_and_heap(&mut self, key: &Key) -> (Option<Cow<'_, str>>, &mut Heap) {
        let heap = &mut self.heap;
        if let Some((_, v)) = self.vars.iter().rev().find(|(s, _)| *s == key.sym) {
            let text = match v {
                Val::Nil => None,
                Val::Str(s) => Some(Cow::Borrowed(s.as_str())),
                other => Some(Cow::Owned(other.to_text(heap))),
            };
            return (text, heap);
        }
        let p: &Point = self.point;
        let text = match p.get_tag(&key.name) {
            Some(t) => Some(Cow::Borrowed(t)),
            None => p.get_field(&key.name).map(point_text),
        };
        (text, heap)
    }

    /// Writes a key of the point with `add_key` rules: a tag stays a tag (stringified),
    /// anything else becomes a field.
    pub fn write(&mut self, name: &str, v: PValue) {
        if self.json_cache.as_ref().is_some_and(|c| *c.name == *name) {
            self.json_cache = None;
        }
        if let Some(slot) = self.point.tags.iter_mut().find(|(k, _)| str_eq(k, name)) {
            slot.1 = match v {
                PValue::Str(s) => s,
                other => point_text(&other).into_owned(),
            };
            return;
        }
        if let Some(slot) = self.point.fields.iter_mut().find(|(k, _)| str_eq(k, name)) {
            slot.1 = v;
            return;
        }
        if self.point.fields.len() == self.point.fields.capacity() {
            // Scripts add fields in runs (a grok pattern or a JSON document gives many): one
            // reallocation to room for 16 more instead of doubling from 1 through 4, 8, 16.
            self.point.fields.reserve(self.point.fields.len().max(16));
        }
        self.point.fields.push((name.to_string(), v));
    }

    /// Writes a script value (nil removes a field, blanks a tag).
    pub fn write_val(&mut self, name: &str, v: &Val) {
        match v.to_point(&self.heap) {
            Some(pv) => self.write(name, pv),
            None => {
                if self.json_cache.as_ref().is_some_and(|c| *c.name == *name) {
                    self.json_cache = None;
                }
                if let Some(slot) = self.point.tags.iter_mut().find(|(k, _)| k == name) {
                    slot.1.clear();
                } else {
                    self.point.fields.retain(|(k, _)| k != name);
                }
            }
        }
    }

    pub fn write_str(&mut self, name: &str, s: String) {
        self.write(name, PValue::Str(s));
    }

    // ---- statements --------------------------------------------------------------------

    pub fn run_body(&mut self, body: &[St]) -> RResult<()> {
        for st in body {
            // break/continue outside loops are compile errors.
            self.exec(st)?;
        }
        Ok(())
    }

    fn block(&mut self, body: &[St]) -> RResult<Ctl> {
        let mark = self.vars.len();
        let r = self.stmts(body);
        self.truncate_vars(mark);
        r
    }

    fn stmts(&mut self, body: &[St]) -> RResult<Ctl> {
        for st in body {
            match self.exec(st)? {
                Ctl::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Ctl::Next)
    }

    fn exec(&mut self, st: &St) -> RResult<Ctl> {
        self.charge(1, 0)?;
        match st {
            St::Expr(e) => {
                self.eval(e)?;
            }
            St::Assign(t, e) => {
                let v = self.eval(e)?;
                self.assign(t, v)?;
            }
            St::MultiAssign(pos) => {
                return err(
                    *pos,
                    "it does not support assigning values to multiple variables at the same time",
                );
            }
            St::OpAssign(op, t, e, pos) => {
                let cur = match t {
                    Target::Var(sym) => match self.var(*sym) {
                        Some(v) => v.clone(),
                        None => return Ok(Ctl::Next),
                    },
                    Target::Index { base, index, pos } => {
                        let b = self.eval(base)?;
                        let i = self.eval(index)?;
                        self.index(&b, &i, *pos)?
                    }
                };
                if cur.is_nil() {
                    return Ok(Ctl::Next);
                }
                let rhs = self.eval(e)?;
                let v = self.arith(*op, cur, rhs, *pos)?;
                self.assign(t, v)?;
            }
            St::If(branches, otherwise) => {
                for (c, body) in branches {
                    let v = self.eval(c)?;
                    if v.truthy(&self.heap) {
                        return self.block(body);
                    }
                }
                if let Some(body) = otherwise {
                    return self.block(body);
                }
            }
            St::ForIn {
                var,
                iter,
                body,
                pos,
            } => {
                let it = self.eval(iter)?;
                let mark = self.vars.len();
                let r = at_loop(self.for_in(*var, it, body, *pos), *pos);
                self.truncate_vars(mark);
                r?;
            }
            St::ForC {
                init,
                cond,
                step,
                body,
                pos,
            } => {
                let mark = self.vars.len();
                let r = at_loop(
                    self.for_c(init.as_deref(), cond.as_ref(), step.as_deref(), body, *pos),
                    *pos,
                );
                self.truncate_vars(mark);
                r?;
            }
            St::Break => return Ok(Ctl::Break),
            St::Continue => return Ok(Ctl::Continue),
        }
        Ok(Ctl::Next)
    }

    fn for_c(
        &mut self,
        init: Option<&St>,
        cond: Option<&Ex>,
        step: Option<&St>,
        body: &[St],
        pos: usize,
    ) -> RResult<()> {
        if let Some(i) = init {
            self.exec(i)?;
        }
        loop {
            self.charge(1, pos)?;
            if let Some(c) = cond
                && !self.eval(c)?.truthy(&self.heap)
            {
                return Ok(());
            }
            if let Ctl::Break = self.block(body)? {
                return Ok(());
            }
            if let Some(s) = step {
                self.exec(s)?;
            }
        }
    }

    fn for_in(&mut self, var: Sym, it: Val, body: &[St], pos: usize) -> RResult<()> {
        let mark = self.vars.len();
        macro_rules! iteration {
            ($item:expr) => {{
                self.charge(1, pos)?;
                self.truncate_vars(mark);
                self.set_var(var, $item);
                if let Ctl::Break = self.stmts(body)? {
                    return Ok(());
                }
            }};
        }
        match it {
            Val::List(id) => {
                let n = self.heap.list(id).len();
                for i in 0..n {
                    let Some(item) = self.heap.list(id).get(i).cloned() else {
                        break;
                    };
                    iteration!(item);
                }
            }
            Val::Map(id) => {
                let keys: Vec<SStr> = self
                    .heap
                    .map(id)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                for k in keys {
                    iteration!(Val::Str(k));
                }
            }
            Val::Str(s) => {
                let mut buf = [0u8; 4];
                for ch in s.chars() {
                    iteration!(Val::str(ch.encode_utf8(&mut buf)));
                }
            }
            other => {
                return err(
                    pos,
                    format!("unsupported type: {}, not iter value", other.err_type()),
                );
            }
        }
        Ok(())
    }

    fn assign(&mut self, t: &Target, v: Val) -> RResult<()> {
        match t {
            Target::Var(sym) => {
                self.set_var(*sym, v);
                Ok(())
            }
            Target::Index { base, index, pos } => {
                let b = self.eval(base)?;
                let i = self.eval(index)?;
                match b {
                    Val::Map(id) => {
                        let Val::Str(k) = i else {
                            return err(*pos, "key type is not string");
                        };
                        if let Some(m) = self.heap.map_mut(id) {
                            m.insert(k, v);
                        }
                        Ok(())
                    }
                    Val::List(id) => {
                        let Val::Int(ix) = i else {
                            return err(*pos, "key type is not int");
                        };
                        let list = self
                            .heap
                            .list_mut(id)
                            .map(|l| l.as_mut_slice())
                            .unwrap_or(&mut []);
                        let n = list.len() as i64;
                        let j = if ix < 0 { ix + n } else { ix };
                        if j < 0 || j >= n {
                            return err(*pos, "list index out of range");
                        }
                        list[j as usize] = v;
                        Ok(())
                    }
                    Val::Nil => err(*pos, "key not found"),
                    other => err(*pos, format!("unindexable type: {}", other.err_type())),
                }
            }
        }
    }

    // ---- expressions -------------------------------------------------------------------

    pub fn eval(&mut self, e: &Ex) -> RResult<Val> {
        Ok(match e {
            Ex::Const(v) => v.clone(),
            Ex::Var(k) => self.read(k),
            Ex::Attr => Val::Nil,
            Ex::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for x in items {
                    out.push(self.eval(x)?);
                }
                self.new_list(out, 0)?
            }
            Ex::Map(items, pos) => {
                let mut m = Map::new();
                for (k, v) in items {
                    let Val::Str(k) = self.eval(k)? else {
                        return err(*pos, "map key expect string");
                    };
                    let v = self.eval(v)?;
                    m.insert(k, v);
                }
                self.new_map(m, *pos)?
            }
            Ex::Index { base, index, pos } => {
                let b = match &**base {
                    Ex::Var(k) => {
                        let v = self.read(k);
                        if v.is_nil() && !self.exists(k) {
                            return err(*pos, "key not found");
                        }
                        v
                    }
                    other => self.eval(other)?,
                };
                let i = self.eval(index)?;
                self.index(&b, &i, *pos)?
            }
            Ex::Slice {
                base,
                start,
                end,
                step,
                pos,
            } => {
                let b = self.eval(base)?;
                let mut part = |x: &Option<Box<Ex>>| -> RResult<Option<i64>> {
                    match x {
                        None => Ok(None),
                        Some(x) => match self.eval(x)? {
                            Val::Int(i) => Ok(Some(i)),
                            Val::Nil => Ok(None),
                            other => err(
                                *pos,
                                format!("slice index must be int, got {}", other.err_type()),
                            ),
                        },
                    }
                };
                let (s, en, st) = (part(start)?, part(end)?, part(step)?);
                self.slice(b, s, en, st, *pos)?
            }
            Ex::Neg(x, pos) => match self.eval(x)? {
                Val::Int(i) => Val::Int(i.wrapping_neg()),
                Val::Float(f) => Val::Float(-f),
                Val::Bool(b) => Val::Int(-(b as i64)),
                other => {
                    return err(
                        *pos,
                        format!(
                            "unsupported data type for unary -: {} (*ast.UnaryExpr)",
                            other.err_type()
                        ),
                    );
                }
            },
            Ex::Plus(x, pos) => match self.eval(x)? {
                v @ (Val::Int(_) | Val::Float(_)) => v,
                Val::Bool(b) => Val::Int(b as i64),
                other => {
                    return err(
                        *pos,
                        format!(
                            "unsupported data type for unary +: {} (*ast.UnaryExpr)",
                            other.err_type()
                        ),
                    );
                }
            },
            Ex::Not(x) => Val::Bool(!self.eval(x)?.truthy(&self.heap)),
            Ex::Arith(op, l, r, pos) => {
                let a = self.eval(l)?;
                let b = self.eval(r)?;
                self.arith(*op, a, b, *pos)?
            }
            Ex::Cmp(op, l, r, pos) => {
                let a = self.eval(l)?;
                let b = self.eval(r)?;
                Val::Bool(self.compare(*op, &a, &b, *pos)?)
            }
            Ex::And(l, r, pos) => self.logic(true, l, r, *pos)?,
            Ex::Or(l, r, pos) => self.logic(false, l, r, *pos)?,
            Ex::In(l, r, pos) => {
                let a = self.eval(l)?;
                let b = self.eval(r)?;
                Val::Bool(self.contains(&a, &b, *pos)?)
            }
            // Calls are paid for by their statement (and loops by their turns); functions
            // that do work in proportion to their input charge for it themselves.
            Ex::Call(f, pos) => {
                self.tick(CALL_TICKS, *pos)?;
                f.call(self, *pos)?
            }
        })
    }

    pub fn new_list(&mut self, items: Vec<Val>, pos: usize) -> RResult<Val> {
        self.charge(1 + items.len() as u64 / 8, pos)?;
        if self.heap.objects() >= MAX_OBJECTS {
            return err(pos, "too many lists and maps created by one run");
        }
        Ok(self.heap.new_list(items))
    }

    pub fn new_map(&mut self, m: Map, pos: usize) -> RResult<Val> {
        self.charge(1 + m.len() as u64 / 8, pos)?;
        if self.heap.objects() >= MAX_OBJECTS {
            return err(pos, "too many lists and maps created by one run");
        }
        Ok(self.heap.new_map(m))
    }

    /// Makes a string value, refusing absurd sizes.
    pub fn new_str(&mut self, s: String, pos: usize) -> RResult<Val> {
        if s.len() > MAX_STRING {
            return err(pos, format!("string longer than {MAX_STRING} bytes"));
        }
        self.charge(s.len() as u64 / 256, pos)?;
        Ok(Val::Str(SStr::from(s)))
    }

    pub fn index(&self, b: &Val, i: &Val, pos: usize) -> RResult<Val> {
        match b {
            Val::Map(id) => {
                let Val::Str(k) = i else {
                    return err(pos, "key type is not string");
                };
                Ok(self
                    .heap
                    .map(*id)
                    .and_then(|m| m.get(k.as_str()))
                    .cloned()
                    .unwrap_or(Val::Nil))
            }
            Val::List(id) => {
                let Val::Int(ix) = i else {
                    return err(pos, "key type is not int");
                };
                let l = self.heap.list(*id);
                let n = l.len() as i64;
                let j = if *ix < 0 { ix + n } else { *ix };
                if j < 0 || j >= n {
                    return err(pos, "list index out of range");
                }
                Ok(l[j as usize].clone())
            }
            Val::Nil => err(pos, "key not found"),
            other => err(pos, format!("unindexable type: {}", other.err_type())),
        }
    }

    fn slice(
        &mut self,
        b: Val,
        start: Option<i64>,
        end: Option<i64>,
        step: Option<i64>,
        pos: usize,
    ) -> RResult<Val> {
        let step = step.unwrap_or(1);
        if step == 0 {
            return err(pos, "slice step cannot be zero");
        }
        let n = match &b {
            Val::Str(s) => s.len(),
            Val::List(id) => self.heap.list(*id).len(),
            other => {
                return err(
                    pos,
                    format!("unsupported data type for slicing: {}", other.err_type()),
                );
            }
        } as i64;
        let idx = slice_indices(n, start, end, step);
        match b {
            Val::Str(s) => {
                // Byte slicing, each byte taken as a character (Go's behaviour).
                let bytes = s.as_bytes();
                let out: String = idx.map(|i| bytes[i] as char).collect();
                self.new_str(out, pos)
            }
            Val::List(id) => {
                let l = self.heap.list(id);
                let out: Vec<Val> = idx.map(|i| l[i].clone()).collect();
                self.new_list(out, pos)
            }
            _ => Ok(Val::Nil),
        }
    }

    pub fn arith(&mut self, op: Arith, a: Val, b: Val, pos: usize) -> RResult<Val> {
        let sym = match op {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Mod => "%",
        };
        for (v, side) in [(&a, "lhs"), (&b, "rhs")] {
            if matches!(v, Val::Nil | Val::List(_) | Val::Map(_)) {
                return err(
                    pos,
                    format!("unsupported {side} data type: {}", v.err_type()),
                );
            }
        }
        if let (Val::Str(x), Val::Str(y)) = (&a, &b)
            && op == Arith::Add
        {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            return self.new_str(s, pos);
        }
        if matches!(a, Val::Str(_)) || matches!(b, Val::Str(_)) {
            return err(
                pos,
                format!(
                    "unsupported operand type(s) for {sym}: {} and {}",
                    a.err_type(),
                    b.err_type()
                ),
            );
        }
        let is_float = matches!(a, Val::Float(_)) || matches!(b, Val::Float(_));
        if is_float {
            let (x, y) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            return Ok(Val::Float(match op {
                Arith::Add => x + y,
                Arith::Sub => x - y,
                Arith::Mul => x * y,
                Arith::Div => {
                    if y == 0.0 {
                        return err(pos, "float division by zero");
                    }
                    x / y
                }
                Arith::Mod => return err(pos, "float does not support modulo operations"),
            }));
        }
        let as_int = |v: &Val| match v {
            Val::Int(i) => *i,
            Val::Bool(b) => *b as i64,
            _ => 0,
        };
        let (x, y) = (as_int(&a), as_int(&b));
        Ok(Val::Int(match op {
            Arith::Add => x.wrapping_add(y),
            Arith::Sub => x.wrapping_sub(y),
            Arith::Mul => x.wrapping_mul(y),
            Arith::Div => {
                if y == 0 {
                    return err(pos, "integer division by zero");
                }
                x.wrapping_div(y)
            }
            Arith::Mod => {
                if y == 0 {
                    return err(pos, "integer modulo by zero");
                }
                x.wrapping_rem(y)
            }
        }))
    }

    fn compare(&self, op: Cmp, a: &Val, b: &Val, pos: usize) -> RResult<bool> {
        match op {
            Cmp::Eq => return Ok(equal(a, b, &self.heap)),
            Cmp::Ne => return Ok(!equal(a, b, &self.heap)),
            _ => {}
        }
        let ord = match (a, b) {
            (Val::Int(x), Val::Int(y)) => x.partial_cmp(y),
            _ => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => return err(pos, "not compareable"),
            },
        };
        let Some(ord) = ord else { return Ok(false) };
        use std::cmp::Ordering::*;
        Ok(match op {
            Cmp::Lt => ord == Less,
            Cmp::Le => ord != Greater,
            Cmp::Gt => ord == Greater,
            _ => ord != Less,
        })
    }

    fn logic(&mut self, and: bool, l: &Ex, r: &Ex, pos: usize) -> RResult<Val> {
        let a = self.eval(l)?;
        if let Val::Bool(x) = a
            && x != and
        {
            return Ok(Val::Bool(x));
        }
        let b = self.eval(r)?;
        if a.as_f64().is_none() || b.as_f64().is_none() {
            return err(pos, "not compareable");
        }
        match (&a, &b) {
            (Val::Bool(x), Val::Bool(y)) => Ok(Val::Bool(if and { *x && *y } else { *x || *y })),
            _ => err(
                pos,
                format!(
                    "unsupported operand type(s) for {}: {} and {}",
                    if and { "&&" } else { "||" },
                    a.err_type(),
                    b.err_type()
                ),
            ),
        }
    }

    fn contains(&self, a: &Val, b: &Val, pos: usize) -> RResult<bool> {
        match b {
            Val::Str(hay) => match a {
                Val::Str(needle) => Ok(hay.contains(needle.as_str())),
                other => err(
                    pos,
                    format!("unsupported lhs data type: {}", other.err_type()),
                ),
            },
            Val::Map(id) => match a {
                Val::Str(k) => Ok(self
                    .heap
                    .map(*id)
                    .is_some_and(|m| m.contains_key(k.as_str()))),
                other => err(
                    pos,
                    format!("unsupported lhs data type: {}", other.err_type()),
                ),
            },
            Val::List(id) => Ok(self
                .heap
                .list(*id)
                .iter()
                .any(|x| deep_equal(a, x, &self.heap, 0))),
            other => err(
                pos,
                format!("unsupported rhs data type: {}", other.err_type()),
            ),
        }
    }

    /// Text of a value for functions that take a string (numbers formatted Go-style).
    pub fn text_of(&self, v: &Val) -> String {
        match v {
            Val::Float(f) => fmt_float_f(*f),
            other => other.to_text(&self.heap),
        }
    }
}

/// Python-style slice indices over a sequence of length `n`.
fn slice_indices(
    n: i64,
    start: Option<i64>,
    end: Option<i64>,
    step: i64,
) -> Box<dyn Iterator<Item = usize>> {
    let norm = |i: i64, lo: i64, hi: i64| {
        let i = if i < 0 { i + n } else { i };
        i.clamp(lo, hi)
    };
    if step > 0 {
        let s = start.map_or(0, |i| norm(i, 0, n));
        let e = end.map_or(n, |i| norm(i, 0, n));
        let it = (s..e.max(s)).step_by(step as usize).map(|i| i as usize);
        Box::new(it)
    } else {
        let s = start.map_or(n - 1, |i| norm(i, -1, n - 1));
        let e = end.map_or(-1, |i| norm(i, -1, n - 1));
        let step = step.unsigned_abs();
        let mut i = s;
        Box::new(std::iter::from_fn(move || {
            if i > e && i >= 0 {
                let out = i as usize;
                i -= step as i64;
                Some(out)
            } else {
                None
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_follow_python() {
        let v: Vec<usize> = slice_indices(5, None, None, 1).collect();
        assert_eq!(v, vec![0, 1, 2, 3, 4]);
        let v: Vec<usize> = slice_indices(5, Some(1), Some(-1), 1).collect();
        assert_eq!(v, vec![1, 2, 3]);
        let v: Vec<usize> = slice_indices(5, None, None, -1).collect();
        assert_eq!(v, vec![4, 3, 2, 1, 0]);
        let v: Vec<usize> = slice_indices(5, Some(-2), None, -2).collect();
        assert_eq!(v, vec![3, 1]);
        let v: Vec<usize> = slice_indices(5, Some(10), Some(20), 1).collect();
        assert!(v.is_empty());
        let v: Vec<usize> = slice_indices(0, None, None, -1).collect();
        assert!(v.is_empty());
    }
}
