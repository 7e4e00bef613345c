//! Go's `fmt.Sprintf` for script values, as `strfmt()` exposes it: verbs, flags, width and
//! precision, and Go's error forms (`%!d(string=abc)`, `%!s(MISSING)`, `%!(EXTRA ...)`).

use std::fmt::Write as _;

use crate::pipeline::value::{Heap, MAX_NESTING, Val, fmt_float_g};

/// Widths and precisions above this are capped (a script cannot make huge strings this way).
const MAX_WIDTH: usize = 1 << 16;

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn go_type(v: &Val) -> &'static str {
    match v {
        Val::Nil => "<nil>",
        Val::Int(_) => "int64",
        Val::Float(_) => "float64",
        Val::Bool(_) => "bool",
        Val::Str(_) => "string",
        Val::List(_) => "[]interface {}",
        Val::Map(_) => "map[string]interface {}",
    }
}

/// Formats like Go's `fmt.Sprintf(format, args...)`.
pub fn go_sprintf(format: &str, args: &[Val], heap: &Heap) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let mut argi = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut sp = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '-' => sp.minus = true,
                '+' => sp.plus = true,
                ' ' => sp.space = true,
                '0' => sp.zero = true,
                '#' => sp.sharp = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if chars.peek().map(|p| p.1) == Some('*') {
            chars.next();
            if let Some(Val::Int(w)) = args.get(argi) {
                if *w < 0 {
                    sp.minus = true;
                }
                sp.width = Some((w.unsigned_abs() as usize).min(MAX_WIDTH));
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            argi += 1;
        } else {
            let mut w: Option<usize> = None;
            while let Some(&(_, d)) = chars.peek() {
                let Some(d) = d.to_digit(10) else { break };
                w = Some((w.unwrap_or(0) * 10 + d as usize).min(MAX_WIDTH));
                chars.next();
            }
            sp.width = w;
        }
        // Precision.
        if chars.peek().map(|p| p.1) == Some('.') {
            chars.next();
            if chars.peek().map(|p| p.1) == Some('*') {
                chars.next();
                match args.get(argi) {
                    Some(Val::Int(p)) if *p >= 0 => sp.prec = Some((*p as usize).min(MAX_WIDTH)),
                    _ => out.push_str("%!(BADPREC)"),
                }
                argi += 1;
            } else {
                let mut p = 0usize;
                while let Some(&(_, d)) = chars.peek() {
                    let Some(d) = d.to_digit(10) else { break };
                    p = (p * 10 + d as usize).min(MAX_WIDTH);
                    chars.next();
                }
                sp.prec = Some(p);
            }
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(argi) else {
            let _ = write!(out, "%!{verb}(MISSING)");
            continue;
        };
        argi += 1;
        let s = format_arg(verb, &sp, arg, heap, 0);
        pad(&mut out, &s, &sp, verb);
    }
    if argi < args.len() {
        out.push_str("%!(EXTRA ");
        for (i, a) in args[argi..].iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            match a {
                Val::Nil => out.push_str("<nil>"),
                other => {
                    let _ = write!(
                        out,
                        "{}={}",
                        go_type(other),
                        format_arg('v', &Spec::default(), other, heap, 0)
                    );
                }
            }
        }
        out.push(')');
    }
    out
}

/// Pads `s` to the width; zero padding goes after a sign for numbers.
fn pad(out: &mut String, s: &str, sp: &Spec, verb: char) {
    let n = s.chars().count();
    let Some(w) = sp.width.filter(|w| *w > n) else {
        out.push_str(s);
        return;
    };
    let fill = w - n;
    if sp.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if sp.zero && !matches!(verb, 's' | 'q' | 'v' | 't' | 'c')
        || sp.zero && verb == 'v' && s.parse::<f64>().is_ok()
    {
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'-' | b'+' | b' ') => s.split_at(1),
            _ => ("", s),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(rest);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(s);
    }
}

fn bad(verb: char, v: &Val, heap: &Heap) -> String {
    match v {
        Val::Nil => format!("%!{verb}(<nil>)"),
        other => format!(
            "%!{verb}({}={})",
            go_type(other),
            format_arg('v', &Spec::default(), other, heap, 0)
        ),
    }
}

fn sign_prefix(neg: bool, sp: &Spec) -> &'static str {
    if neg {
        "-"
    } else if sp.plus {
        "+"
    } else if sp.space {
        " "
    } else {
        ""
    }
}

fn format_int(verb: char, i: i64, sp: &Spec) -> Option<String> {
    let neg = i < 0;
    let m = i.unsigned_abs();
    let digits = match verb {
        'd' | 'v' => m.to_string(),
        'x' => format!("{m:x}"),
        'X' => format!("{m:X}"),
        'o' | 'O' => format!("{m:o}"),
        'b' => format!("{m:b}"),
        _ => return None,
    };
    let digits = match sp.prec {
        Some(p) if digits.len() < p => format!("{}{digits}", "0".repeat(p - digits.len())),
        Some(0) if m == 0 => String::new(),
        _ => digits,
    };
    let prefix = match verb {
        'x' if sp.sharp => "0x",
        'X' if sp.sharp => "0X",
        'o' if sp.sharp => "0",
        'O' => "0o",
        'b' if sp.sharp => "0b",
        _ => "",
    };
    Some(format!("{}{prefix}{digits}", sign_prefix(neg, sp)))
}

/// `%e` with `prec` digits, Go style exponent (`e+06`).
fn fmt_e(f: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, f.abs());
    let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
    let e: i32 = e.parse().unwrap_or(0);
    let out = format!(
        "{m}{}{}{:02}",
        if upper { 'E' } else { 'e' },
        if e < 0 { '-' } else { '+' },
        e.unsigned_abs()
    );
    out
}

fn strip_zeros(s: &str) -> String {
    match s.split_once(['e', 'E']) {
        Some((m, e)) => {
            let m = if m.contains('.') {
                m.trim_end_matches('0').trim_end_matches('.')
            } else {
                m
            };
            let sep = if s.contains('E') { 'E' } else { 'e' };
            format!("{m}{sep}{e}")
        }
        None if s.contains('.') => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        None => s.to_string(),
    }
}

fn format_float(verb: char, f: f64, sp: &Spec) -> Option<String> {
    if f.is_nan() {
        return Some(if sp.plus { "+NaN" } else { "NaN" }.to_string());
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            "+Inf".to_string()
        } else {
            "-Inf".to_string()
        });
    }
    let neg = f.is_sign_negative() && f != 0.0 || (f == 0.0 && f.is_sign_negative());
    let a = f.abs();
    let body = match verb {
        'f' | 'F' => format!("{:.*}", sp.prec.unwrap_or(6), a),
        'e' | 'E' => fmt_e(a, sp.prec.unwrap_or(6), verb == 'E'),
        'v' | 'g' | 'G' => match sp.prec {
            None => {
                let s = fmt_float_g(a);
                if verb == 'G' { s.to_uppercase() } else { s }
            }
            Some(p) => {
                let p = p.max(1);
                let e = if a == 0.0 {
                    0
                } else {
                    a.log10().floor() as i32
                };
                // Decide on the rounded value's exponent.
                let probe = fmt_e(a, p - 1, false);
                let e = probe
                    .split_once('e')
                    .and_then(|(_, x)| x.parse::<i32>().ok())
                    .unwrap_or(e);
                let s = if e < -4 || e >= p as i32 {
                    fmt_e(a, p - 1, verb == 'G')
                } else {
                    format!("{:.*}", (p as i32 - 1 - e).max(0) as usize, a)
                };
                if sp.sharp { s } else { strip_zeros(&s) }
            }
        },
        _ => return None,
    };
    Some(format!("{}{body}", sign_prefix(neg, sp)))
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn format_arg(verb: char, sp: &Spec, v: &Val, heap: &Heap, depth: usize) -> String {
    if depth > MAX_NESTING {
        return "...".into();
    }
    match v {
        Val::Nil => match verb {
            'v' | 's' => {
                if verb == 'v' {
                    "<nil>".into()
                } else {
                    "%!s(<nil>)".into()
                }
            }
            _ => format!("%!{verb}(<nil>)"),
        },
        Val::Int(i) => match verb {
            'c' => char::from_u32(*i as u32).map_or_else(|| "\u{fffd}".into(), |c| c.to_string()),
            'q' => {
                let c = char::from_u32(*i as u32).unwrap_or('\u{fffd}');
                format!("'{c}'")
            }
            'U' => format!("U+{:04X}", i),
            _ => format_int(verb, *i, sp).unwrap_or_else(|| bad(verb, v, heap)),
        },
        Val::Float(f) => format_float(verb, *f, sp).unwrap_or_else(|| bad(verb, v, heap)),
        Val::Bool(b) => match verb {
            't' | 'v' => b.to_string(),
            _ => bad(verb, v, heap),
        },
        Val::Str(s) => match verb {
            'v' | 's' => match sp.prec {
                Some(p) => s.chars().take(p).collect(),
                None => s.to_string(),
            },
            'q' => go_quote(s),
            'x' | 'X' => {
                let mut o = String::with_capacity(s.len() * 2);
                for b in s.bytes() {
                    let _ = if verb == 'x' {
                        write!(o, "{b:02x}")
                    } else {
                        write!(o, "{b:02X}")
                    };
                }
                o
            }
            _ => bad(verb, v, heap),
        },
        Val::List(id) => {
            let items: Vec<String> = heap
                .list(*id)
                .iter()
                .map(|x| format_arg(verb, sp, x, heap, depth + 1))
                .collect();
            format!("[{}]", items.join(" "))
        }
        Val::Map(id) => {
            let mut o = String::from("map[");
            if let Some(m) = heap.map(*id) {
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        o.push(' ');
                    }
                    o.push_str(k);
                    o.push(':');
                    o.push_str(&format_arg(verb, sp, x, heap, depth + 1));
                }
            }
            o.push(']');
            o
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(fmt: &str, args: &[Val]) -> String {
        go_sprintf(fmt, args, &Heap::default())
    }

    #[test]
    fn verbs_flags_and_errors() {
        assert_eq!(f("%s-%d", &[Val::str("a"), Val::Int(5)]), "a-5");
        assert_eq!(
            f(
                "%03d|%5d|%-4s|",
                &[Val::Int(7), Val::Int(-42), Val::str("ab")]
            ),
            "007|  -42|ab  |"
        );
        assert_eq!(f("%.2f", &[Val::Float(1.23456)]), "1.23");
        assert_eq!(
            f(
                "%x %X %o %b",
                &[Val::Int(255), Val::Int(255), Val::Int(8), Val::Int(5)]
            ),
            "ff FF 10 101"
        );
        assert_eq!(f("%q", &[Val::str("a\"b")]), "\"a\\\"b\"");
        assert_eq!(f("%d", &[Val::str("abc")]), "%!d(string=abc)");
        assert_eq!(f("%s %s", &[Val::str("a")]), "a %!s(MISSING)");
        assert_eq!(f("%s", &[Val::Nil]), "%!s(<nil>)");
        assert_eq!(f("%v", &[Val::Nil]), "<nil>");
        assert_eq!(f("%v", &[Val::Float(1e21)]), "1e+21");
        assert_eq!(f("%v %v", &[Val::Float(2.5), Val::Bool(true)]), "2.5 true");
        assert_eq!(
            f("%d", &[Val::Int(1), Val::str("x")]),
            "1%!(EXTRA string=x)"
        );
        assert_eq!(f("100%%", &[]), "100%");
        assert_eq!(f("%e", &[Val::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(f("%.3g", &[Val::Float(1234.5678)]), "1.23e+03");
        assert_eq!(f("%g", &[Val::Float(0.000012)]), "1.2e-05");
        assert_eq!(f("%+d", &[Val::Int(3)]), "+3");
        assert_eq!(f("%*d", &[Val::Int(4), Val::Int(7)]), "   7");
    }

    #[test]
    fn composites_print_like_go() {
        let mut h = Heap::default();
        let l = h.new_list(vec![Val::Int(1), Val::str("a")]);
        let mut m = crate::pipeline::value::Map::new();
        m.insert("k".into(), Val::Int(1));
        let m = h.new_map(m);
        assert_eq!(go_sprintf("%v %v", &[l, m], &h), "[1 a] map[k:1]");
    }

    #[test]
    fn huge_widths_are_capped() {
        let s = f("%999999999d", &[Val::Int(1)]);
        assert!(s.len() <= MAX_WIDTH + 1);
    }
}
