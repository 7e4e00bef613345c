//! The syntax tree the parser builds and the checker compiles.

/// A byte offset in the script source (0-based). Line and column come from [`super::SourceMap`].
pub type Pos = usize;

#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Expr(Expr),
    /// `a = 1`, `m["k"] = v`, and the unsupported `a, b = 1, 2`.
    Assign {
        targets: Vec<Expr>,
        values: Vec<Expr>,
        pos: Pos,
    },
    /// `a += 1` and friends.
    OpAssign {
        op: BinOp,
        target: Expr,
        value: Expr,
        pos: Pos,
    },
    If {
        branches: Vec<(Expr, Block)>,
        otherwise: Option<Block>,
        pos: Pos,
    },
    ForIn {
        var: String,
        var_pos: Pos,
        iter: Expr,
        body: Block,
        pos: Pos,
    },
    ForC {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        step: Option<Box<Stmt>>,
        body: Block,
        pos: Pos,
    },
    Break(Pos),
    Continue(Pos),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    In,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl BinOp {
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::In => "in",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    /// Where the expression starts.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    /// `name=` of a named argument.
    pub name: Option<(String, Pos)>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    Nil,
    List(Vec<Expr>),
    Map(Vec<(Expr, Expr)>),
    Ident(String),
    Paren(Box<Expr>),
    Unary(UnOp, Box<Expr>),
    /// `op_pos` is where the operator is (runtime errors point there).
    Binary {
        op: BinOp,
        op_pos: Pos,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `base[index]`; `base` is `None` for the JSON-path form `.[1]`.
    Index {
        base: Option<Box<Expr>>,
        index: Box<Expr>,
    },
    /// `a.b`: only meaningful as a key name or JSON path; evaluates to nil.
    Attr(Box<Expr>, Box<Expr>),
    Slice {
        base: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    Call(Call),
}

impl ExprKind {
    /// The node kind as the original's checker names it in messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            ExprKind::Int(_) => "IntLiteral",
            ExprKind::Float(_) => "FloatLiteral",
            ExprKind::Str(_) => "StringLiteral",
            ExprKind::Bool(_) => "BoolLiteral",
            ExprKind::Nil => "NilLiteral",
            ExprKind::List(_) => "ListLiteral",
            ExprKind::Map(_) => "MapLiteral",
            ExprKind::Ident(_) => "Identifier",
            ExprKind::Paren(_) => "ParenExpr",
            ExprKind::Unary(..) => "UnaryExpr",
            ExprKind::Binary { op, .. } => match op {
                BinOp::Or | BinOp::And => "ConditionalExpr",
                BinOp::In => "InExpr",
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    "ConditionalExpr"
                }
                _ => "ArithmeticExpr",
            },
            ExprKind::Index { .. } => "IndexExpr",
            ExprKind::Attr(..) => "AttrExpr",
            ExprKind::Slice { .. } => "SliceExpr",
            ExprKind::Call(_) => "CallExpr",
        }
    }
}

impl Expr {
    /// The text of a key-name argument: `a`, `a.b`, `` `a b` ``; `None` for other shapes.
    /// `_` means `message`.
    pub fn key_name(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Ident(n) => Some(if n == "_" {
                "message".to_string()
            } else {
                n.clone()
            }),
            ExprKind::Str(s) => Some(s.clone()),
            ExprKind::Attr(..) | ExprKind::Index { .. } => Some(self.path_text()),
            _ => None,
        }
    }

    /// The source-like text of a name/attribute/index path (`a.b[0]`).
    pub fn path_text(&self) -> String {
        match &self.kind {
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Str(s) => s.clone(),
            ExprKind::Int(i) => i.to_string(),
            ExprKind::Attr(a, b) => format!("{}.{}", a.path_text(), b.path_text()),
            ExprKind::Index { base, index } => {
                let b = base.as_ref().map(|b| b.path_text()).unwrap_or_default();
                let i = match &index.kind {
                    ExprKind::Str(s) => format!("{s:?}"),
                    _ => index.path_text(),
                };
                format!("{b}[{i}]")
            }
            ExprKind::Unary(UnOp::Neg, e) => format!("-{}", e.path_text()),
            _ => String::new(),
        }
    }
}
