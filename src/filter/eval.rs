//! Evaluation of compiled conditions over a point's values (one slot per key a rule reads),
//! with the original's typing.

use regex::Regex;

use super::{Cmp, Expr, Lit};
use crate::point::ValueView;

/// Whether `e` holds for a point whose keys have the values `slots` (`None`: no such key).
pub fn eval(e: &Expr, slots: &[Option<ValueView<'_>>]) -> bool {
    match e {
        Expr::Const(b) => *b,
        Expr::All(v) => v.iter().all(|e| eval(e, slots)),
        Expr::Any(v) => v.iter().any(|e| eval(e, slots)),
        Expr::Cmp { key, cmp, lit } => match slots[*key as usize] {
            None => absent(*cmp, lit),
            Some(v) => present(*cmp, v, lit),
        },
        Expr::Re { key, ne, re } => match slots[*key as usize] {
            None => *ne,
            Some(ValueView::Str(s)) => *ne || re.is_match(s),
            Some(_) => false,
        },
        Expr::In {
            key,
            neg,
            items,
            has_nil,
        } => {
            let hit = match slots[*key as usize] {
                None => *has_nil,
                Some(v) => items.iter().any(|l| present(Cmp::Eq, v, l)),
            };
            hit != *neg
        }
        Expr::Match { key, neg, re } => match slots[*key as usize] {
            Some(ValueView::Str(s)) => re.is_match(s) != *neg,
            _ => false,
        },
        Expr::MatchNone { key, neg } => {
            *neg && matches!(slots[*key as usize], Some(ValueView::Str(_)))
        }
    }
}

/// A comparison with a key the point does not have: only `= nil` and `!= <anything else>`
/// hold.
fn absent(cmp: Cmp, lit: &Lit) -> bool {
    match cmp {
        Cmp::Eq => matches!(lit, Lit::Nil),
        Cmp::Ne => !matches!(lit, Lit::Nil),
        _ => false,
    }
}

fn order(cmp: Cmp, o: Option<std::cmp::Ordering>) -> bool {
    use std::cmp::Ordering::*;
    match (cmp, o) {
        (_, None) => false,
        (Cmp::Eq, Some(o)) => o == Equal,
        (Cmp::Ne, Some(o)) => o != Equal,
        (Cmp::Lt, Some(o)) => o == Less,
        (Cmp::Le, Some(o)) => o != Greater,
        (Cmp::Gt, Some(o)) => o == Greater,
        (Cmp::Ge, Some(o)) => o != Less,
    }
}

/// A comparison with a value the point has: types must agree (else false, `!=` included),
/// `nil` is unequal to every value.
#[inline]
pub fn present(cmp: Cmp, v: ValueView<'_>, lit: &Lit) -> bool {
    match (lit, v) {
        (Lit::Nil, _) => cmp == Cmp::Ne,
        (Lit::Str(s), ValueView::Str(x)) => {
            if cmp == Cmp::Eq {
                x == s.as_str()
            } else {
                order(cmp, Some(x.cmp(s.as_str())))
            }
        }
        (Lit::Int(i), ValueView::Int(x)) => order(cmp, Some(x.cmp(i))),
        (Lit::Float(f), ValueView::Float(x)) => match cmp {
            Cmp::Eq => (x - f).abs() <= 1e-9,
            Cmp::Ne => x != *f,
            _ => order(cmp, x.partial_cmp(f)),
        },
        (Lit::Bool(b), ValueView::Bool(x)) => match cmp {
            Cmp::Eq => x == *b,
            Cmp::Ne => x != *b,
            _ => false,
        },
        _ => false,
    }
}

fn view(l: &Lit) -> Option<ValueView<'_>> {
    Some(match l {
        Lit::Str(s) => ValueView::Str(s),
        Lit::Int(i) => ValueView::Int(*i),
        Lit::Float(f) => ValueView::Float(*f),
        Lit::Bool(b) => ValueView::Bool(*b),
        Lit::Nil => return None,
    })
}

/// `literal <cmp> literal`, decided once.
pub fn const_cmp(cmp: Cmp, l: &Lit, r: &Lit) -> bool {
    match view(l) {
        Some(v) => present(cmp, v, r),
        // nil compares only with nil.
        None => match r {
            Lit::Nil => cmp == Cmp::Eq,
            _ => false,
        },
    }
}

/// `literal = re(...)` or `literal != re(...)`, decided once.
pub fn const_re(cmp: Cmp, l: &Lit, re: &Regex) -> bool {
    match l {
        Lit::Str(s) => cmp == Cmp::Ne || re.is_match(s),
        _ => false,
    }
}
