//! The checker: resolves every call at compile time (unknown function, arity, argument kinds),
//! compiles grok patterns and regexes once, and lowers the syntax tree to the tree the
//! runtime walks ([`St`], [`Ex`]).

use std::collections::HashMap;
use std::sync::Arc;

use super::ast::{self, BinOp, ExprKind, Pos, Stmt, UnOp};
use super::funcs::{self, Func};
use super::grok::PatternScope;
use super::value::{SStr, Val};
use super::{CompileEnv, Program};

/// A compile error before it is tied to a script name.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckError {
    pub pos: Pos,
    pub msg: String,
}

impl CheckError {
    pub fn new(pos: Pos, msg: impl Into<String>) -> Self {
        CheckError {
            pos,
            msg: msg.into(),
        }
    }
}

pub type CResult<T> = Result<T, CheckError>;

/// A variable symbol: names are interned at compile time, so lookups compare integers.
pub type Sym = u32;

/// A key-name argument: read from a variable of that name, else from the point.
#[derive(Debug, Clone)]
pub struct Key {
    pub name: Box<str>,
    pub sym: Sym,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression, ready to run.
pub enum Ex {
    Const(Val),
    List(Vec<Ex>),
    Map(Vec<(Ex, Ex)>, Pos),
    Var(Key),
    /// `a.b`: nil when evaluated.
    Attr,
    Index {
        base: Box<Ex>,
        index: Box<Ex>,
        pos: Pos,
    },
    Slice {
        base: Box<Ex>,
        start: Option<Box<Ex>>,
        end: Option<Box<Ex>>,
        step: Option<Box<Ex>>,
        pos: Pos,
    },
    Neg(Box<Ex>, Pos),
    Plus(Box<Ex>, Pos),
    Not(Box<Ex>),
    Arith(Arith, Box<Ex>, Box<Ex>, Pos),
    Cmp(Cmp, Box<Ex>, Box<Ex>, Pos),
    And(Box<Ex>, Box<Ex>, Pos),
    Or(Box<Ex>, Box<Ex>, Pos),
    In(Box<Ex>, Box<Ex>, Pos),
    Call(Box<dyn Func>, Pos),
}

/// An assignment target.
pub enum Target {
    Var(Sym),
    Index { base: Box<Ex>, index: Ex, pos: Pos },
}

/// A statement, ready to run.
pub enum St {
    Expr(Ex),
    Assign(Target, Ex),
    MultiAssign(Pos),
    OpAssign(Arith, Target, Ex, Pos),
    If(Vec<(Ex, Vec<St>)>, Option<Vec<St>>),
    ForIn {
        var: Sym,
        iter: Ex,
        body: Vec<St>,
        pos: Pos,
    },
    ForC {
        init: Option<Box<St>>,
        cond: Option<Ex>,
        step: Option<Box<St>>,
        body: Vec<St>,
        pos: Pos,
    },
    Break,
    Continue,
}

/// What the checker knows while compiling one script.
pub struct Cx<'e> {
    pub env: &'e CompileEnv<'e>,
    pub script: &'e str,
    syms: HashMap<String, Sym>,
    loop_depth: usize,
    /// Script-local grok patterns, one scope per block.
    pub patterns: PatternScope,
    /// Scripts linked by `use()`.
    pub uses: Vec<Arc<Program>>,
    /// The script's `cache_get`/`cache_set` store.
    pub cache: Arc<funcs::TtlCache>,
    /// Errors found so far: a statement that does not check is reported here and left out,
    /// and checking goes on with the next one.
    pub errors: Vec<CheckError>,
}

impl<'e> Cx<'e> {
    pub fn new(env: &'e CompileEnv<'e>, script: &'e str) -> Self {
        Cx {
            env,
            script,
            syms: HashMap::new(),
            loop_depth: 0,
            patterns: PatternScope::default(),
            uses: Vec::new(),
            cache: Arc::new(funcs::TtlCache::default()),
            errors: Vec::new(),
        }
    }

    pub fn sym(&mut self, name: &str) -> Sym {
        if let Some(&s) = self.syms.get(name) {
            return s;
        }
        let s = self.syms.len() as Sym;
        self.syms.insert(name.to_string(), s);
        s
    }

    /// A key for a name (`_` is `message`).
    pub fn key(&mut self, name: &str) -> Key {
        let name = if name == "_" { "message" } else { name };
        Key {
            sym: self.sym(name),
            name: name.into(),
        }
    }

    pub fn symbol_count(&self) -> usize {
        self.syms.len()
    }

    /// Checks the statements of a block. A statement with an error is recorded in
    /// [`Cx::errors`] and left out, so every statement's error is found in one pass.
    pub fn block(&mut self, stmts: &[Stmt]) -> Vec<St> {
        self.patterns.push();
        let mut out = Vec::with_capacity(stmts.len());
        for s in stmts {
            match self.stmt(s) {
                Ok(st) => out.push(st),
                Err(e) => self.errors.push(e),
            }
        }
        self.patterns.pop();
        out
    }

    /// An expression whose error is recorded rather than returned (the statement around it
    /// goes on being checked; the placeholder never runs, as the script does not compile).
    fn expr_or_note(&mut self, e: &ast::Expr) -> Ex {
        self.expr(e).unwrap_or_else(|err| {
            self.errors.push(err);
            Ex::Const(Val::Nil)
        })
    }

    fn stmt(&mut self, s: &Stmt) -> CResult<St> {
        Ok(match s {
            Stmt::Expr(e) => St::Expr(self.expr(e)?),
            Stmt::Assign {
                targets,
                values,
                pos,
            } => {
                if targets.len() != 1 || values.len() != 1 {
                    // Compile the parts anyway so their errors are reported.
                    for e in targets.iter().chain(values) {
                        self.expr(e)?;
                    }
                    St::MultiAssign(*pos)
                } else {
                    let t = self.target(&targets[0])?;
                    St::Assign(t, self.expr(&values[0])?)
                }
            }
            Stmt::OpAssign {
                op,
                target,
                value,
                pos,
            } => {
                let a = arith_of(*op);
                self.check_zero_divisor(a, value, *pos)?;
                St::OpAssign(a, self.target(target)?, self.expr(value)?, *pos)
            }
            Stmt::If {
                branches,
                otherwise,
                ..
            } => {
                let mut bs = Vec::with_capacity(branches.len());
                for (c, b) in branches {
                    let c = self.expr_or_note(c);
                    bs.push((c, self.block(&b.stmts)));
                }
                let o = otherwise.as_ref().map(|b| self.block(&b.stmts));
                St::If(bs, o)
            }
            Stmt::ForIn {
                var,
                iter,
                body,
                pos,
                ..
            } => {
                let var = self.key(var).sym;
                let iter = if let ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Bool(_)
                | ExprKind::Nil = iter.kind
                {
                    self.errors.push(CheckError::new(
                        iter.pos,
                        format!("{} object is not iterable", iter.kind.kind_name()),
                    ));
                    Ex::Const(Val::Nil)
                } else {
                    self.expr_or_note(iter)
                };
                self.loop_depth += 1;
                let body = self.block(&body.stmts);
                self.loop_depth -= 1;
                St::ForIn {
                    var,
                    iter,
                    body,
                    pos: *pos,
                }
            }
            Stmt::ForC {
                init,
                cond,
                step,
                body,
                pos,
            } => {
                let part = |cx: &mut Self, s: &Option<Box<Stmt>>| match s {
                    Some(s) => match cx.stmt(s) {
                        Ok(st) => Some(Box::new(st)),
                        Err(e) => {
                            cx.errors.push(e);
                            None
                        }
                    },
                    None => None,
                };
                let init = part(self, init);
                let cond = cond.as_ref().map(|c| self.expr_or_note(c));
                let step = part(self, step);
                self.loop_depth += 1;
                let body = self.block(&body.stmts);
                self.loop_depth -= 1;
                St::ForC {
                    init,
                    cond,
                    step,
                    body,
                    pos: *pos,
                }
            }
            Stmt::Break(p) => {
                if self.loop_depth == 0 {
                    return Err(CheckError::new(*p, "break not in loop"));
                }
                St::Break
            }
            Stmt::Continue(p) => {
                if self.loop_depth == 0 {
                    return Err(CheckError::new(*p, "continue not in loop"));
                }
                St::Continue
            }
        })
    }

    fn target(&mut self, e: &ast::Expr) -> CResult<Target> {
        match &e.kind {
            ExprKind::Ident(n) => Ok(Target::Var(self.key(n).sym)),
            ExprKind::Index {
                base: Some(base),
                index,
            } => Ok(Target::Index {
                base: Box::new(self.expr(base)?),
                index: self.expr(index)?,
                pos: e.pos,
            }),
            _ => Err(CheckError::new(
                e.pos,
                format!("cannot assign to {}", e.kind.kind_name()),
            )),
        }
    }

    fn check_zero_divisor(&self, op: Arith, rhs: &ast::Expr, pos: Pos) -> CResult<()> {
        if matches!(op, Arith::Div | Arith::Mod)
            && (matches!(rhs.kind, ExprKind::Int(0))
                || matches!(rhs.kind, ExprKind::Float(f) if f == 0.0))
        {
            return Err(CheckError::new(pos, "division or modulo by zero"));
        }
        Ok(())
    }

    pub fn expr(&mut self, e: &ast::Expr) -> CResult<Ex> {
        Ok(match &e.kind {
            ExprKind::Int(i) => Ex::Const(Val::Int(*i)),
            ExprKind::Float(f) => Ex::Const(Val::Float(*f)),
            ExprKind::Str(s) => Ex::Const(Val::Str(SStr::new(s))),
            ExprKind::Bool(b) => Ex::Const(Val::Bool(*b)),
            ExprKind::Nil => Ex::Const(Val::Nil),
            ExprKind::List(items) => {
                Ex::List(items.iter().map(|x| self.expr(x)).collect::<CResult<_>>()?)
            }
            ExprKind::Map(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (k, v) in items {
                    if !matches!(
                        k.kind,
                        ExprKind::Str(_)
                            | ExprKind::Ident(_)
                            | ExprKind::Call(_)
                            | ExprKind::Index { .. }
                            | ExprKind::Paren(_)
                            | ExprKind::Binary { .. }
                    ) {
                        return Err(CheckError::new(k.pos, "map key expect string"));
                    }
                    out.push((self.expr(k)?, self.expr(v)?));
                }
                Ex::Map(out, e.pos)
            }
            ExprKind::Ident(n) => Ex::Var(self.key(n)),
            ExprKind::Paren(x) => self.expr(x)?,
            ExprKind::Unary(op, x) => {
                let inner = Box::new(self.expr(x)?);
                match op {
                    UnOp::Neg => Ex::Neg(inner, e.pos),
                    UnOp::Plus => Ex::Plus(inner, e.pos),
                    UnOp::Not => Ex::Not(inner),
                }
            }
            ExprKind::Binary {
                op,
                op_pos,
                lhs,
                rhs,
            } => {
                let l = Box::new(self.expr(lhs)?);
                let r = Box::new(self.expr(rhs)?);
                let p = *op_pos;
                match op {
                    BinOp::Or => Ex::Or(l, r, p),
                    BinOp::And => Ex::And(l, r, p),
                    BinOp::In => Ex::In(l, r, p),
                    BinOp::Eq => Ex::Cmp(Cmp::Eq, l, r, p),
                    BinOp::Ne => Ex::Cmp(Cmp::Ne, l, r, p),
                    BinOp::Lt => Ex::Cmp(Cmp::Lt, l, r, p),
                    BinOp::Le => Ex::Cmp(Cmp::Le, l, r, p),
                    BinOp::Gt => Ex::Cmp(Cmp::Gt, l, r, p),
                    BinOp::Ge => Ex::Cmp(Cmp::Ge, l, r, p),
                    _ => {
                        let a = arith_of(*op);
                        self.check_zero_divisor(a, rhs, p)?;
                        Ex::Arith(a, l, r, p)
                    }
                }
            }
            ExprKind::Index { base, index } => match base {
                Some(b) => Ex::Index {
                    base: Box::new(self.expr(b)?),
                    index: Box::new(self.expr(index)?),
                    pos: e.pos,
                },
                // `.[1]` only means something as a JSON path.
                None => Ex::Attr,
            },
            ExprKind::Attr(..) => Ex::Attr,
            ExprKind::Slice {
                base,
                start,
                end,
                step,
            } => {
                let mut part = |x: &Option<Box<ast::Expr>>| -> CResult<Option<Box<Ex>>> {
                    Ok(match x {
                        Some(x) => Some(Box::new(self.expr(x)?)),
                        None => None,
                    })
                };
                let (s, en, st) = (part(start)?, part(end)?, part(step)?);
                Ex::Slice {
                    base: Box::new(self.expr(base)?),
                    start: s,
                    end: en,
                    step: st,
                    pos: e.pos,
                }
            }
            ExprKind::Call(c) => {
                let Some(def) = funcs::lookup(&c.name) else {
                    let mut msg = format!("unsupported func: `{}`", c.name);
                    if let Some(near) = funcs::suggest(&c.name) {
                        msg.push_str(&format!("; did you mean `{near}`?"));
                    }
                    return Err(CheckError::new(e.pos, msg));
                };
                let f = (def.compile)(self, c, e.pos)?;
                Ex::Call(f, e.pos)
            }
        })
    }
}

fn arith_of(op: BinOp) -> Arith {
    match op {
        BinOp::Sub => Arith::Sub,
        BinOp::Mul => Arith::Mul,
        BinOp::Div => Arith::Div,
        BinOp::Mod => Arith::Mod,
        _ => Arith::Add,
    }
}

// ---- helpers for function checkers ----------------------------------------------------------

/// The arguments of a call matched to parameter names: positional first, then by name.
pub struct Bound<'a> {
    pub args: Vec<Option<&'a ast::Expr>>,
    pub pos: Pos,
    pub name: &'a str,
}

impl<'a> Bound<'a> {
    pub fn get(&self, i: usize) -> Option<&'a ast::Expr> {
        self.args.get(i).copied().flatten()
    }
}

/// Matches `call`'s arguments to `params`; the first `required` are mandatory.
pub fn bind<'a>(
    call: &'a ast::Call,
    pos: Pos,
    params: &[&str],
    required: usize,
) -> CResult<Bound<'a>> {
    let mut args: Vec<Option<&ast::Expr>> = vec![None; params.len()];
    let positional = call.args.iter().filter(|a| a.name.is_none()).count();
    if positional > params.len() {
        return Err(CheckError::new(
            pos,
            arity_msg(&call.name, params.len(), required),
        ));
    }
    for (i, a) in call.args.iter().enumerate() {
        match &a.name {
            None => args[i] = Some(&a.value),
            Some((n, npos)) => {
                let Some(j) = params.iter().position(|p| p == n) else {
                    return Err(CheckError::new(
                        *npos,
                        format!(
                            "argument target does not exist: func {} has no parameter `{n}` (it takes {})",
                            call.name,
                            params.join(", ")
                        ),
                    ));
                };
                if args[j].is_some() {
                    return Err(CheckError::new(
                        *npos,
                        format!("parameter `{n}` of func {} is given twice", call.name),
                    ));
                }
                args[j] = Some(&a.value);
            }
        }
    }
    if let Some(missing) = (0..required).find(|&i| args[i].is_none()) {
        if call.args.iter().all(|a| a.name.is_none()) {
            return Err(CheckError::new(
                pos,
                arity_msg(&call.name, params.len(), required),
            ));
        }
        return Err(CheckError::new(
            pos,
            format!(
                "func {}: parameter `{}` is required",
                call.name, params[missing]
            ),
        ));
    }
    Ok(Bound {
        args,
        pos,
        name: &call.name,
    })
}

fn arity_msg(name: &str, n: usize, required: usize) -> String {
    if n == required {
        format!("func {name} expected {n} args")
    } else {
        format!("func {name} expected {required} to {n} args")
    }
}

fn kind_err(e: &ast::Expr, want: &str) -> CheckError {
    CheckError::new(
        e.pos,
        format!("param type expect {want}, got `{}'", e.kind.kind_name()),
    )
}

/// A string literal argument.
pub fn str_lit(e: &ast::Expr) -> CResult<String> {
    match &e.kind {
        ExprKind::Str(s) => Ok(s.clone()),
        _ => Err(kind_err(e, "StringLiteral")),
    }
}

/// A bool literal argument.
pub fn bool_lit(e: &ast::Expr) -> CResult<bool> {
    match &e.kind {
        ExprKind::Bool(b) => Ok(*b),
        _ => Err(kind_err(e, "BoolLiteral")),
    }
}

/// A key-name argument: a name, a string literal, an attribute path or an index path.
pub fn key_arg(cx: &mut Cx, e: &ast::Expr) -> CResult<Key> {
    match e.key_name() {
        Some(n) => Ok(cx.key(&n)),
        None => Err(kind_err(e, "Identifier, StringLiteral or AttrExpr")),
    }
}

/// A key-name argument that must be a name or an attribute path (not a string).
pub fn ident_arg(cx: &mut Cx, e: &ast::Expr) -> CResult<Key> {
    match &e.kind {
        ExprKind::Ident(_) | ExprKind::Attr(..) => key_arg(cx, e),
        _ => Err(kind_err(e, "Identifier or AttrExpr")),
    }
}

/// Any expression argument.
pub fn expr_arg(cx: &mut Cx, e: Option<&ast::Expr>) -> CResult<Option<Ex>> {
    match e {
        Some(e) => Ok(Some(cx.expr(e)?)),
        None => Ok(None),
    }
}

/// A scalar literal (str/int/float/bool/nil) as a value.
pub fn literal(e: &ast::Expr) -> Option<Val> {
    Some(match &e.kind {
        ExprKind::Str(s) => Val::str(s),
        ExprKind::Int(i) => Val::Int(*i),
        ExprKind::Float(f) => Val::Float(*f),
        ExprKind::Bool(b) => Val::Bool(*b),
        ExprKind::Nil => Val::Nil,
        _ => return None,
    })
}
