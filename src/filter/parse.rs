//! The filter grammar, by recursive descent:
//!
//! ```text
//! rule      := ( where ( ';' where? )* )? EOF          -- conditions of one rule: any matches
//! where     := '{' cond ( ',' cond )* ','? '}'         -- a comma is `and`
//! cond      := and ( OR and )*
//! and       := cmp ( AND cmp )*
//! cmp       := '(' cond ')'
//!            | operand ( ('=' | '!=' | '<' | '<=' | '>' | '>=') ( literal | re ) )
//!            | key ( IN | NOTIN ) '[' literal, ... ']'
//!            | key ( MATCH | NOTMATCH ) '[' string, ... ']'
//! operand   := key | literal
//! key       := IDENT | `backquoted` | identifier("text")
//! literal   := string | ['+'|'-'] number | true | false | nil | null
//! re        := re( string | `backquoted` )
//! ```
//!
//! Keywords are case-insensitive; keys and values are not.

use regex::Regex;

use super::lex::{Spanned, Tok, tokens};
use super::{Cmp, Expr, Keys, Lit, ParseError};

struct Parser<'s, 'k> {
    src: &'s str,
    toks: Vec<Spanned>,
    pos: usize,
    depth: usize,
    keys: &'k mut Keys,
}

/// How deep parentheses may nest.
const MAX_DEPTH: usize = 64;

/// What the left side of a comparison is.
enum Operand {
    Key(u16),
    Lit(Lit),
}

/// Parses one rule. `Ok(None)`: the rule holds no condition (empty, blanks or comments).
pub fn parse(src: &str, keys: &mut Keys) -> Result<Option<Expr>, ParseError> {
    if src.len() > super::MAX_RULE_LEN {
        return Err(ParseError::at(
            src,
            0,
            format!("the rule is longer than {} bytes", super::MAX_RULE_LEN),
        ));
    }
    let toks = tokens(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
        keys,
    };
    let mut any: Option<Expr> = None;
    loop {
        match p.peek() {
            Tok::Eof => break,
            Tok::Semicolon => {
                p.pos += 1;
                continue;
            }
            Tok::LBrace => {
                let w = p.where_()?;
                any = Some(match any {
                    None => w,
                    Some(Expr::Any(mut v)) => {
                        v.push(w);
                        Expr::Any(v)
                    }
                    Some(a) => Expr::Any(vec![a, w]),
                });
                match p.peek() {
                    Tok::Semicolon | Tok::Eof => {}
                    _ => return Err(p.unexpected("`;` or the end of the rule")),
                }
            }
            _ => return Err(p.unexpected("`{`")),
        }
    }
    Ok(any)
}

impl Parser<'_, '_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    fn at(&self) -> usize {
        self.toks[self.pos.min(self.toks.len() - 1)].at
    }

    fn next(&mut self) -> Tok {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn err(&self, at: usize, m: impl Into<String>) -> ParseError {
        ParseError::at(self.src, at, m.into())
    }

    fn unexpected(&self, wanted: &str) -> ParseError {
        self.err(
            self.at(),
            format!("expected {wanted}, found {}", self.peek().describe()),
        )
    }

    fn expect(&mut self, t: Tok, wanted: &str) -> Result<(), ParseError> {
        if *self.peek() == t {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }

    fn where_(&mut self) -> Result<Expr, ParseError> {
        let open = self.at();
        self.expect(Tok::LBrace, "`{`")?;
        let mut all: Vec<Expr> = Vec::new();
        loop {
            if *self.peek() == Tok::RBrace {
                break;
            }
            all.push(self.cond()?);
            match self.peek() {
                Tok::Comma => self.pos += 1,
                Tok::RBrace => break,
                _ => return Err(self.unexpected("`and`, `or`, `,` or `}`")),
            }
        }
        self.expect(Tok::RBrace, "`}`")?;
        match all.len() {
            0 => Err(self.err(
                open,
                "`{}` holds no condition (the original agent drops every point with it): write a condition, or remove the rule",
            )),
            1 => Ok(all.pop().unwrap_or(Expr::Const(false))),
            _ => Ok(Expr::All(cheap_first(all))),
        }
    }

    fn cond(&mut self) -> Result<Expr, ParseError> {
        let mut v = vec![self.and()?];
        while *self.peek() == Tok::Or {
            self.pos += 1;
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Expr::Const(false))
        } else {
            Expr::Any(v)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut v = vec![self.cmp()?];
        while *self.peek() == Tok::And {
            self.pos += 1;
            v.push(self.cmp()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Expr::Const(false))
        } else {
            Expr::All(cheap_first(v))
        })
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let start = self.at();
        if *self.peek() == Tok::LParen {
            if self.depth >= MAX_DEPTH {
                return Err(self.err(start, format!("parentheses nest deeper than {MAX_DEPTH}")));
            }
            self.pos += 1;
            self.depth += 1;
            let e = self.cond()?;
            self.depth -= 1;
            self.expect(Tok::RParen, "`)`")?;
            if is_cmp_op(self.peek()) || is_list_op(self.peek()) {
                return Err(self.err(
                    self.at(),
                    "a condition in parentheses cannot be compared: compare a key or a value",
                ));
            }
            return Ok(e);
        }
        let lhs = self.operand()?;
        let op = self.next();
        let e = match op {
            Tok::In | Tok::NotIn | Tok::Match | Tok::NotMatch => {
                let Operand::Key(key) = lhs else {
                    return Err(self.err(
                        start,
                        format!("the left side of {} must be a key", op.describe()),
                    ));
                };
                let neg = matches!(op, Tok::NotIn | Tok::NotMatch);
                if matches!(op, Tok::In | Tok::NotIn) {
                    let items = self.list()?;
                    let has_nil = items.iter().any(|(l, _)| matches!(l, Lit::Nil));
                    let items = items
                        .into_iter()
                        .map(|(l, _)| l)
                        .filter(|l| !matches!(l, Lit::Nil))
                        .collect();
                    Expr::In {
                        key,
                        neg,
                        items,
                        has_nil,
                    }
                } else {
                    let mut pats = Vec::new();
                    for (l, at) in self.list()? {
                        let Lit::Str(s) = l else {
                            return Err(self.err(
                                at,
                                "a `match` list holds only regular expressions (strings)",
                            ));
                        };
                        // Each pattern is checked alone (an error names its place), then all
                        // are searched in one pass.
                        self.regex(&s, at)?;
                        pats.push(format!("(?:{s})"));
                    }
                    if pats.is_empty() {
                        // Nothing to match: `match []` never holds, `notmatch []` holds for a
                        // string.
                        Expr::MatchNone { key, neg }
                    } else {
                        let re = self.regex(&pats.join("|"), start)?;
                        Expr::Match { key, neg, re }
                    }
                }
            }
            t if is_cmp_op(&t) => {
                let cmp = match t {
                    Tok::Eq => Cmp::Eq,
                    Tok::Ne => Cmp::Ne,
                    Tok::Lt => Cmp::Lt,
                    Tok::Le => Cmp::Le,
                    Tok::Gt => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                if *self.peek() == Tok::Re {
                    let re_at = self.at();
                    self.pos += 1;
                    self.expect(Tok::LParen, "`(` after `re`")?;
                    let at = self.at();
                    let pat = match self.next() {
                        Tok::Str(s) | Tok::Raw(s) => s,
                        _ => {
                            self.pos -= 1;
                            return Err(self.unexpected("a pattern (a string)"));
                        }
                    };
                    let re = self.regex(&pat, at)?;
                    self.expect(Tok::RParen, "`)`")?;
                    if !matches!(cmp, Cmp::Eq | Cmp::Ne) {
                        return Err(self.err(re_at, "`re(...)` is compared with `=` or `!=` only"));
                    }
                    match lhs {
                        Operand::Key(key) => Expr::Re {
                            key,
                            ne: cmp == Cmp::Ne,
                            re,
                        },
                        Operand::Lit(l) => Expr::Const(super::eval::const_re(cmp, &l, &re)),
                    }
                } else {
                    let rhs_at = self.at();
                    let rhs = match self.operand()? {
                        Operand::Lit(l) => l,
                        Operand::Key(_) => {
                            return Err(self.err(
                                rhs_at,
                                "the right side of a comparison must be a value (a string, number, true, false or nil), not a key",
                            ));
                        }
                    };
                    match lhs {
                        Operand::Key(key) => Expr::Cmp { key, cmp, lit: rhs },
                        Operand::Lit(l) => Expr::Const(super::eval::const_cmp(cmp, &l, &rhs)),
                    }
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected(
                    "a comparison (`=`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `notin`, `match`, `notmatch`)",
                ));
            }
        };
        if is_cmp_op(self.peek()) || is_list_op(self.peek()) {
            return Err(self.err(
                self.at(),
                "comparisons do not chain: join them with `and` or `or`",
            ));
        }
        Ok(e)
    }

    fn regex(&self, pat: &str, at: usize) -> Result<Regex, ParseError> {
        regex::RegexBuilder::new(pat)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                let first = e.to_string();
                let last = first.lines().last().unwrap_or("").trim().to_string();
                self.err(at, format!("invalid regular expression {pat:?}: {last}"))
            })
    }

    /// `[ literal, ... ]`, each with its offset.
    fn list(&mut self) -> Result<Vec<(Lit, usize)>, ParseError> {
        self.expect(Tok::LBracket, "`[`")?;
        let mut out = Vec::new();
        loop {
            if *self.peek() == Tok::RBracket {
                break;
            }
            let at = self.at();
            match self.operand()? {
                Operand::Lit(l) => out.push((l, at)),
                Operand::Key(_) => {
                    return Err(self.err(
                        at,
                        "a list holds values (strings, numbers, true, false, nil), not keys",
                    ));
                }
            }
            match self.peek() {
                Tok::Comma => self.pos += 1,
                Tok::RBracket => break,
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
        self.expect(Tok::RBracket, "`]`")?;
        Ok(out)
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let at = self.at();
        Ok(match self.next() {
            Tok::Ident(s) | Tok::Raw(s) => Operand::Key(self.keys.intern(&s)),
            Tok::IdentKw => {
                self.expect(Tok::LParen, "`(` after `identifier`")?;
                let s = match self.next() {
                    Tok::Str(s) => s,
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected("a key name (a string)"));
                    }
                };
                self.expect(Tok::RParen, "`)`")?;
                Operand::Key(self.keys.intern(&s))
            }
            Tok::Str(s) => Operand::Lit(Lit::Str(s)),
            Tok::Int(i) => Operand::Lit(Lit::Int(i)),
            Tok::Float(f) => Operand::Lit(Lit::Float(f)),
            Tok::True => Operand::Lit(Lit::Bool(true)),
            Tok::False => Operand::Lit(Lit::Bool(false)),
            Tok::Nil => Operand::Lit(Lit::Nil),
            sign @ (Tok::Plus | Tok::Minus) => {
                let neg = sign == Tok::Minus;
                match self.next() {
                    Tok::Int(i) => Operand::Lit(Lit::Int(if neg { i.wrapping_neg() } else { i })),
                    Tok::Float(f) => Operand::Lit(Lit::Float(if neg { -f } else { f })),
                    _ => {
                        self.pos -= 1;
                        return Err(self.err(at, "a sign must be followed by a number"));
                    }
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("a key or a value"));
            }
        })
    }
}

/// Conditions joined by `and` in the order cheapest first (conditions have no side effects):
/// a regular expression is searched only when the comparisons beside it hold.
fn cheap_first(mut v: Vec<Expr>) -> Vec<Expr> {
    fn cost(e: &Expr) -> u8 {
        match e {
            Expr::Const(_) => 0,
            Expr::Cmp { .. } | Expr::MatchNone { .. } => 1,
            Expr::In { .. } => 2,
            Expr::All(_) | Expr::Any(_) => 3,
            Expr::Re { .. } | Expr::Match { .. } => 4,
        }
    }
    v.sort_by_key(cost);
    v
}

fn is_cmp_op(t: &Tok) -> bool {
    matches!(t, Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge)
}

fn is_list_op(t: &Tok) -> bool {
    matches!(t, Tok::In | Tok::NotIn | Tok::Match | Tok::NotMatch)
}
