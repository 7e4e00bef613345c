//! The parser: tokens to a syntax tree, by recursive descent. Binary operators are parsed by
//! precedence climbing over `binop_of` (lowest to highest: `||`, `&&`, `in`, comparisons,
//! `+ -`, `* / %`; all left-associative), between assignment and the unary operators.

use super::ast::*;
use super::lexer::{Tok, Token, lex};

/// A syntax error: where (byte offset) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub pos: Pos,
    pub msg: String,
}

/// Nesting deeper than this is rejected, so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 200;

/// Parses a whole script; the first syntax error if there is any.
pub fn parse(src: &str) -> Result<Vec<Stmt>, ParseError> {
    let (stmts, mut errors) = parse_all(src);
    if errors.is_empty() {
        Ok(stmts)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// Parses a whole script and recovers from syntax errors: a top-level statement that does not
/// parse is skipped up to the next newline or `;` outside brackets, and parsing goes on. Returns
/// the statements that parsed and every syntax error, in source order. A lexical error (an
/// unterminated string, an unbalanced bracket) ends lexing, so it is the last error reported.
pub fn parse_all(src: &str) -> (Vec<Stmt>, Vec<ParseError>) {
    let toks = lex(src);
    let mut p = Parser {
        toks,
        i: 0,
        depth: 0,
    };
    if src.is_empty() || (p.toks.len() == 1 && !src.contains('\n') && !src.contains('#')) {
        return (
            Vec::new(),
            vec![ParseError {
                pos: 0,
                msg: "unexpected: end of input".into(),
            }],
        );
    }
    p.program()
}

struct Parser {
    toks: Vec<Token>,
    i: usize,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

fn binop_of(t: &Tok) -> Option<(BinOp, u8)> {
    Some(match t {
        Tok::OrOr => (BinOp::Or, 1),
        Tok::AndAnd => (BinOp::And, 2),
        Tok::In => (BinOp::In, 3),
        Tok::Eq => (BinOp::Eq, 4),
        Tok::Ne => (BinOp::Ne, 4),
        Tok::Lt => (BinOp::Lt, 4),
        Tok::Le => (BinOp::Le, 4),
        Tok::Gt => (BinOp::Gt, 4),
        Tok::Ge => (BinOp::Ge, 4),
        Tok::Plus => (BinOp::Add, 5),
        Tok::Minus => (BinOp::Sub, 5),
        Tok::Star => (BinOp::Mul, 6),
        Tok::Slash => (BinOp::Div, 6),
        Tok::Percent => (BinOp::Mod, 6),
        _ => return None,
    })
}

impl Parser {
    fn tok(&self) -> &Tok {
        // The token list always ends with Eof or Error, and `i` never passes it.
        &self.toks[self.i.min(self.toks.len() - 1)].tok
    }
    fn pos(&self) -> Pos {
        self.toks[self.i.min(self.toks.len() - 1)].start
    }
    fn peek_tok(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].tok
    }
    fn bump(&mut self) {
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
    }
    fn at(&self, t: &Tok) -> bool {
        self.tok() == t
    }

    /// The error for the current token, with what was expected.
    fn unexpected(&self, expected: &str) -> ParseError {
        let msg = match self.tok() {
            Tok::Error(m) => m.clone(),
            t if expected.is_empty() => format!("unexpected: {t}"),
            t => format!("unexpected: {t}, expected {expected}"),
        };
        ParseError {
            pos: self.pos(),
            msg,
        }
    }

    fn expect(&mut self, t: Tok, expected: &str) -> PResult<Pos> {
        if self.at(&t) {
            let p = self.pos();
            self.bump();
            Ok(p)
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn skip_eols(&mut self) {
        while self.at(&Tok::Eol) {
            self.bump();
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError {
                pos: self.pos(),
                msg: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn program(&mut self) -> (Vec<Stmt>, Vec<ParseError>) {
        let mut stmts = Vec::new();
        let mut errors = Vec::new();
        self.skip_eols();
        loop {
            let start = self.i;
            let r = match self.tok() {
                Tok::Eof => break,
                Tok::Semi if stmts.is_empty() => Err(self.unexpected("a statement")),
                _ => self.stmt().and_then(|s| {
                    if self.separator()? || self.at(&Tok::Eof) {
                        Ok(s)
                    } else {
                        Err(self.unexpected("a newline or ';' between statements"))
                    }
                }),
            };
            match r {
                Ok(s) => stmts.push(s),
                Err(e) => {
                    errors.push(e);
                    if !self.recover(start) {
                        break;
                    }
                }
            }
        }
        (stmts, errors)
    }

    /// After a syntax error in the top-level statement that began at token `start`: skips to
    /// the first newline or `;` outside brackets at or after the error, and past it. False when
    /// the tokens end first (at the end of input or at a lexical error, already reported).
    fn recover(&mut self, start: usize) -> bool {
        self.depth = 0;
        let error_at = self.i.max(start);
        let mut depth = 0i64;
        let mut j = start;
        loop {
            let Some(t) = self.toks.get(j) else {
                self.i = self.toks.len() - 1;
                return false;
            };
            match t.tok {
                Tok::Eof | Tok::Error(_) => {
                    self.i = j;
                    return false;
                }
                Tok::LParen | Tok::LBrack | Tok::LBrace => depth += 1,
                Tok::RParen | Tok::RBrack | Tok::RBrace => depth -= 1,
                Tok::Eol | Tok::Semi if depth <= 0 && j >= error_at => {
                    self.i = j;
                    while matches!(self.tok(), Tok::Semi | Tok::Eol) {
                        self.bump();
                    }
                    return !self.at(&Tok::Eof);
                }
                _ => {}
            }
            j += 1;
        }
    }

    /// Consumes `(";" | EOL)+`; false if there was none.
    fn separator(&mut self) -> PResult<bool> {
        let mut any = false;
        while matches!(self.tok(), Tok::Semi | Tok::Eol) {
            self.bump();
            any = true;
        }
        Ok(any)
    }

    fn block(&mut self) -> PResult<Block> {
        let pos = self.expect(Tok::LBrace, "'{'")?;
        self.enter()?;
        self.skip_eols();
        let mut stmts = Vec::new();
        while !self.at(&Tok::RBrace) {
            stmts.push(self.stmt()?);
            if !self.separator()? && !self.at(&Tok::RBrace) {
                return Err(self.unexpected("a newline, ';' or '}'"));
            }
        }
        self.bump();
        self.leave();
        Ok(Block { stmts, pos })
    }

    fn stmt(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        match self.tok() {
            Tok::If => self.if_stmt(),
            Tok::For => self.for_stmt(),
            Tok::Break => {
                self.bump();
                Ok(Stmt::Break(pos))
            }
            Tok::Continue => {
                self.bump();
                Ok(Stmt::Continue(pos))
            }
            _ => self.simple_stmt(),
        }
    }

    /// An assignment or an expression statement.
    fn simple_stmt(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        let first = self.expr()?;
        let op = match self.tok() {
            Tok::AddAssign => Some(BinOp::Add),
            Tok::SubAssign => Some(BinOp::Sub),
            Tok::MulAssign => Some(BinOp::Mul),
            Tok::DivAssign => Some(BinOp::Div),
            Tok::ModAssign => Some(BinOp::Mod),
            _ => None,
        };
        if let Some(op) = op {
            check_target(&first, self.pos())?;
            let op_pos = self.pos();
            self.bump();
            self.skip_eols();
            let value = self.expr()?;
            return Ok(Stmt::OpAssign {
                op,
                target: first,
                value,
                pos: op_pos,
            });
        }
        if !matches!(self.tok(), Tok::Assign | Tok::Comma) {
            return Ok(Stmt::Expr(first));
        }
        let mut targets = vec![first];
        while self.at(&Tok::Comma) {
            self.bump();
            targets.push(self.expr()?);
        }
        if !self.at(&Tok::Assign) {
            return Err(self.unexpected("'='"));
        }
        let eq = self.pos();
        for t in &targets {
            check_target(t, eq)?;
        }
        self.bump();
        self.skip_eols();
        let mut values = vec![self.expr()?];
        while self.at(&Tok::Comma) {
            self.bump();
            self.skip_eols();
            values.push(self.expr()?);
        }
        Ok(Stmt::Assign {
            targets,
            values,
            pos: if pos == eq { pos } else { eq },
        })
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        self.bump();
        let cond = self.expr()?;
        let body = self.block()?;
        let mut branches = vec![(cond, body)];
        let mut otherwise = None;
        loop {
            match self.tok() {
                Tok::Elif => {
                    self.bump();
                    let c = self.expr()?;
                    let b = self.block()?;
                    branches.push((c, b));
                }
                Tok::Else => {
                    self.bump();
                    otherwise = Some(self.block()?);
                    break;
                }
                _ => break,
            }
        }
        Ok(Stmt::If {
            branches,
            otherwise,
            pos,
        })
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let pos = self.pos();
        self.bump();
        if let (Tok::Ident(name), Tok::In) = (self.tok(), self.peek_tok(1)) {
            let var = name.clone();
            let var_pos = self.pos();
            self.bump();
            self.bump();
            let iter = self.expr()?;
            let body = self.block()?;
            return Ok(Stmt::ForIn {
                var,
                var_pos,
                iter,
                body,
                pos,
            });
        }
        let init = if self.at(&Tok::Semi) {
            None
        } else {
            Some(Box::new(self.simple_stmt()?))
        };
        self.expect(Tok::Semi, "';' after the loop's init")?;
        let cond = if self.at(&Tok::Semi) {
            None
        } else {
            Some(self.expr()?)
        };
        self.expect(Tok::Semi, "';' after the loop's condition")?;
        let step = if self.at(&Tok::LBrace) {
            None
        } else {
            Some(Box::new(self.simple_stmt()?))
        };
        let body = self.block()?;
        Ok(Stmt::ForC {
            init,
            cond,
            step,
            body,
            pos,
        })
    }

    pub fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.binary(1);
        self.leave();
        e
    }

    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        loop {
            let Some((op, prec)) = binop_of(self.tok()) else {
                return Ok(lhs);
            };
            if prec < min_prec {
                return Ok(lhs);
            }
            let op_pos = self.pos();
            self.bump();
            self.skip_eols();
            let rhs = self.binary(prec + 1)?;
            let pos = lhs.pos;
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    op_pos,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                pos,
            };
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let op = match self.tok() {
            Tok::Not => UnOp::Not,
            Tok::Minus => UnOp::Neg,
            Tok::Plus => UnOp::Plus,
            _ => return self.postfix(),
        };
        self.bump();
        self.enter()?;
        let operand = self.unary();
        self.leave();
        let operand = operand?;
        // A sign directly before a number literal is folded into it.
        let kind = match (op, &operand.kind) {
            (UnOp::Neg, ExprKind::Int(i)) => ExprKind::Int(i.wrapping_neg()),
            (UnOp::Neg, ExprKind::Float(f)) => ExprKind::Float(-f),
            (UnOp::Plus, ExprKind::Int(i)) => ExprKind::Int(*i),
            (UnOp::Plus, ExprKind::Float(f)) => ExprKind::Float(*f),
            _ => ExprKind::Unary(op, Box::new(operand)),
        };
        Ok(Expr { kind, pos })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            match self.tok() {
                Tok::LBrack => {
                    let bpos = self.pos();
                    self.bump();
                    self.skip_eols();
                    let start = if self.at(&Tok::Colon) {
                        None
                    } else {
                        Some(Box::new(self.expr()?))
                    };
                    self.skip_eols();
                    if self.at(&Tok::Colon) {
                        e = self.slice_rest(e, start)?;
                        continue;
                    }
                    let Some(index) = start else {
                        return Err(self.unexpected("an index"));
                    };
                    self.expect(Tok::RBrack, "']'")?;
                    if !matches!(
                        e.kind,
                        ExprKind::Ident(_) | ExprKind::Index { .. } | ExprKind::Attr(..)
                    ) {
                        return Err(ParseError {
                            pos: bpos,
                            msg: format!(
                                "unexpected: <op:'['>, only a name can be indexed (assign the {} to a variable first)",
                                e.kind.kind_name()
                            ),
                        });
                    }
                    let pos = e.pos;
                    e = Expr {
                        kind: ExprKind::Index {
                            base: Some(Box::new(e)),
                            index,
                        },
                        pos,
                    };
                }
                Tok::Dot => {
                    if !matches!(
                        e.kind,
                        ExprKind::Ident(_) | ExprKind::Index { .. } | ExprKind::Attr(..)
                    ) {
                        return Ok(e);
                    }
                    self.bump();
                    let mpos = self.pos();
                    let member = match self.tok().clone() {
                        Tok::Ident(n) => {
                            self.bump();
                            Expr {
                                kind: ExprKind::Ident(n),
                                pos: mpos,
                            }
                        }
                        _ => return Err(self.unexpected("a name after '.'")),
                    };
                    let pos = e.pos;
                    e = Expr {
                        kind: ExprKind::Attr(Box::new(e), Box::new(member)),
                        pos,
                    };
                }
                _ => return Ok(e),
            }
        }
    }

    /// After `base[start`, at the first `:`.
    fn slice_rest(&mut self, base: Expr, start: Option<Box<Expr>>) -> PResult<Expr> {
        self.bump(); // ':'
        self.skip_eols();
        let end = if matches!(self.tok(), Tok::Colon | Tok::RBrack) {
            None
        } else {
            Some(Box::new(self.expr()?))
        };
        self.skip_eols();
        let mut step = None;
        if self.at(&Tok::Colon) {
            self.bump();
            self.skip_eols();
            if !self.at(&Tok::RBrack) {
                step = Some(Box::new(self.expr()?));
            }
            self.skip_eols();
        }
        self.expect(Tok::RBrack, "']'")?;
        let pos = base.pos;
        Ok(Expr {
            kind: ExprKind::Slice {
                base: Box::new(base),
                start,
                end,
                step,
            },
            pos,
        })
    }

    fn primary(&mut self) -> PResult<Expr> {
        let pos = self.pos();
        let kind = match self.tok().clone() {
            Tok::Int(i) => {
                self.bump();
                ExprKind::Int(i)
            }
            Tok::Float(f) => {
                self.bump();
                ExprKind::Float(f)
            }
            Tok::Str(s) => {
                self.bump();
                ExprKind::Str(s)
            }
            Tok::True => {
                self.bump();
                ExprKind::Bool(true)
            }
            Tok::False => {
                self.bump();
                ExprKind::Bool(false)
            }
            Tok::Nil => {
                self.bump();
                ExprKind::Nil
            }
            Tok::Ident(name) => {
                self.bump();
                if self.at(&Tok::LParen) {
                    self.bump();
                    let args = self.call_args()?;
                    ExprKind::Call(Call { name, args })
                } else {
                    ExprKind::Ident(name)
                }
            }
            Tok::LParen => {
                self.bump();
                self.skip_eols();
                let inner = self.expr()?;
                self.skip_eols();
                self.expect(Tok::RParen, "')'")?;
                ExprKind::Paren(Box::new(inner))
            }
            Tok::LBrack => {
                self.bump();
                self.enter()?;
                let items = self.list_items()?;
                self.leave();
                ExprKind::List(items)
            }
            Tok::LBrace => {
                self.bump();
                self.enter()?;
                let items = self.map_items()?;
                self.leave();
                ExprKind::Map(items)
            }
            Tok::Dot if self.peek_tok(1) == &Tok::LBrack => {
                self.bump();
                self.bump();
                self.skip_eols();
                let index = self.expr()?;
                self.skip_eols();
                self.expect(Tok::RBrack, "']'")?;
                ExprKind::Index {
                    base: None,
                    index: Box::new(index),
                }
            }
            Tok::Dot => {
                // `.5` is not a number: the dot is read first, then the number is unexpected.
                self.bump();
                return Err(self.unexpected("'[' after '.'"));
            }
            _ => return Err(self.unexpected("an expression")),
        };
        Ok(Expr { kind, pos })
    }

    fn call_args(&mut self) -> PResult<Vec<Arg>> {
        let mut args: Vec<Arg> = Vec::new();
        self.enter()?;
        self.skip_eols();
        while !self.at(&Tok::RParen) {
            let name = match (self.tok(), self.peek_tok(1)) {
                (Tok::Ident(n), Tok::Assign) => {
                    let n = (n.clone(), self.pos());
                    self.bump();
                    self.bump();
                    self.skip_eols();
                    Some(n)
                }
                _ => None,
            };
            if name.is_none() && args.iter().any(|a| a.name.is_some()) {
                return Err(ParseError {
                    pos: self.pos(),
                    msg: "positional arguments cannot follow keyword arguments".into(),
                });
            }
            let value = self.expr()?;
            args.push(Arg { name, value });
            self.skip_eols();
            if self.at(&Tok::Comma) {
                self.bump();
                self.skip_eols();
            } else if !self.at(&Tok::RParen) {
                return Err(self.unexpected("',' or ')'"));
            }
        }
        self.bump();
        self.leave();
        Ok(args)
    }

    fn list_items(&mut self) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        self.skip_eols();
        while !self.at(&Tok::RBrack) {
            items.push(self.expr()?);
            self.skip_eols();
            if self.at(&Tok::Comma) {
                self.bump();
                self.skip_eols();
            } else if !self.at(&Tok::RBrack) {
                return Err(self.unexpected("',' or ']'"));
            }
        }
        self.bump();
        Ok(items)
    }

    fn map_items(&mut self) -> PResult<Vec<(Expr, Expr)>> {
        let mut items = Vec::new();
        self.skip_eols();
        while !self.at(&Tok::RBrace) {
            let k = self.expr()?;
            self.skip_eols();
            self.expect(Tok::Colon, "':' after a map key")?;
            self.skip_eols();
            let v = self.expr()?;
            items.push((k, v));
            self.skip_eols();
            if self.at(&Tok::Comma) {
                self.bump();
                self.skip_eols();
            } else if !self.at(&Tok::RBrace) {
                return Err(self.unexpected("',' or '}'"));
            }
        }
        self.bump();
        Ok(items)
    }
}

fn check_target(e: &Expr, at: Pos) -> PResult<()> {
    match &e.kind {
        ExprKind::Ident(_) | ExprKind::Index { base: Some(_), .. } => Ok(()),
        _ => Err(ParseError {
            pos: at,
            msg: format!(
                "unexpected: <op:'='>, cannot assign to a {} (only to a name or an index)",
                e.kind.kind_name()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> (usize, String) {
        let e = parse(src).unwrap_err();
        (e.pos, e.msg)
    }

    #[test]
    fn precedence_follows_the_table() {
        let s = parse("x = 1 + 2 * 3 == 7 && !a || b in c").unwrap();
        let Stmt::Assign { values, .. } = &s[0] else {
            panic!()
        };
        let ExprKind::Binary { op, lhs, .. } = &values[0].kind else {
            panic!()
        };
        assert_eq!(*op, BinOp::Or);
        let ExprKind::Binary { op, lhs, .. } = &lhs.kind else {
            panic!()
        };
        assert_eq!(*op, BinOp::And);
        let ExprKind::Binary { op, lhs, .. } = &lhs.kind else {
            panic!()
        };
        assert_eq!(*op, BinOp::Eq);
        let ExprKind::Binary { op, rhs, .. } = &lhs.kind else {
            panic!()
        };
        assert_eq!(*op, BinOp::Add);
        assert!(matches!(rhs.kind, ExprKind::Binary { op: BinOp::Mul, .. }));
    }

    #[test]
    fn newline_rules() {
        // A newline after a binary operator continues; before it, ends the statement.
        assert_eq!(parse("a = 1 +\n2").unwrap().len(), 1);
        assert_eq!(parse("a = 1\n+ 2").unwrap().len(), 2);
        assert_eq!(parse("f(a,\n b,\n)\n").unwrap().len(), 1);
        assert_eq!(
            parse("m = {\n\"a\": 1,\n}\nl = [\n1,\n2\n]").unwrap().len(),
            2
        );
        assert_eq!(
            err("a = 1 b = 2").1,
            "unexpected: id \"b\", expected a newline or ';' between statements"
        );
        let (pos, msg) = err("a = 1 +\nb = 2");
        assert_eq!(pos, 10);
        assert!(msg.starts_with("unexpected: <op:'='>"), "{msg}");
    }

    #[test]
    fn statements() {
        let s = parse("if a { b = 1 } elif c { } else { d() }\nfor x in l { break }\nfor i = 0; i < 3; i += 1 { continue }\nfor ;; { }").unwrap();
        assert_eq!(s.len(), 4);
        assert!(
            matches!(&s[0], Stmt::If { branches, otherwise: Some(_), .. } if branches.len() == 2)
        );
        assert!(matches!(&s[1], Stmt::ForIn { .. }));
        assert!(matches!(
            &s[2],
            Stmt::ForC {
                init: Some(_),
                cond: Some(_),
                step: Some(_),
                ..
            }
        ));
        assert!(matches!(
            &s[3],
            Stmt::ForC {
                init: None,
                cond: None,
                step: None,
                ..
            }
        ));
        let (pos, msg) = err("if a {\n}\nelse {\n}");
        assert_eq!(pos, 9);
        assert!(msg.starts_with("unexpected: <else>"), "{msg}");
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert_eq!(err(""), (0, "unexpected: end of input".into()));
        assert!(parse("# only a comment\n").unwrap().is_empty());
        assert!(parse("\n\n").unwrap().is_empty());
    }

    #[test]
    fn calls_indexing_attrs_and_slices() {
        let s = parse("json(_, a.b[0], newkey=\"x\",)\ny = m[\"a\"][-1]\nz = s[1:]\nw = \"abc\"[::-1]\nv = .[1]").unwrap();
        let Stmt::Expr(Expr {
            kind: ExprKind::Call(c),
            ..
        }) = &s[0]
        else {
            panic!()
        };
        assert_eq!(c.args.len(), 3);
        assert_eq!(c.args[1].value.path_text(), "a.b[0]");
        assert_eq!(c.args[2].name.as_ref().unwrap().0, "newkey");
        assert!(
            err("a = load_json(s)[\"a\"]")
                .1
                .starts_with("unexpected: <op:'['>")
        );
        assert_eq!(
            err("f(a=1, 2)").1,
            "positional arguments cannot follow keyword arguments"
        );
        assert!(err("a = b = 3").1.starts_with("unexpected: <op:'='>"));
        assert!(err("add_key(str, 1)").1.starts_with("unexpected: \"str\""));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("a = {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(err(&src).1.contains("nesting"));
        let src = format!("a = {}", "-".repeat(100000));
        assert!(parse(&src).is_err());
    }
}
