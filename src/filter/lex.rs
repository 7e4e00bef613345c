//! Tokens of the filter language, with their byte offsets.

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Semicolon,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    And,
    Or,
    In,
    NotIn,
    Match,
    NotMatch,
    True,
    False,
    Nil,
    Re,
    /// The keyword `identifier`, as in `identifier("my key")`.
    IdentKw,
    Ident(String),
    /// A backquoted text: an identifier, or a pattern in `re(...)`.
    Raw(String),
    Str(String),
    Int(i64),
    Float(f64),
    Eof,
}

impl Tok {
    /// How an error message names the token.
    pub fn describe(&self) -> String {
        match self {
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Semicolon => "`;`".into(),
            Tok::Eq => "`=`".into(),
            Tok::Ne => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::Plus => "`+`".into(),
            Tok::Minus => "`-`".into(),
            Tok::And => "`and`".into(),
            Tok::Or => "`or`".into(),
            Tok::In => "`in`".into(),
            Tok::NotIn => "`notin`".into(),
            Tok::Match => "`match`".into(),
            Tok::NotMatch => "`notmatch`".into(),
            Tok::True => "`true`".into(),
            Tok::False => "`false`".into(),
            Tok::Nil => "`nil`".into(),
            Tok::Re => "`re`".into(),
            Tok::IdentKw => "`identifier`".into(),
            Tok::Ident(s) => format!("identifier `{s}`"),
            Tok::Raw(s) => format!("`{s}`"),
            Tok::Str(s) => format!("string {s:?}"),
            Tok::Int(i) => format!("number {i}"),
            Tok::Float(f) => format!("number {f}"),
            Tok::Eof => "the end of the rule".into(),
        }
    }
}

/// A token and where it starts (byte offset).
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub tok: Tok,
    pub at: usize,
}

fn keyword(word: &str) -> Option<Tok> {
    Some(match word.to_ascii_lowercase().as_str() {
        "and" => Tok::And,
        "or" => Tok::Or,
        "in" => Tok::In,
        "notin" | "not_in" => Tok::NotIn,
        "match" => Tok::Match,
        "notmatch" => Tok::NotMatch,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" | "null" => Tok::Nil,
        "re" => Tok::Re,
        "identifier" => Tok::IdentKw,
        "inf" => Tok::Float(f64::INFINITY),
        "nan" => Tok::Float(f64::NAN),
        _ => return None,
    })
}

fn is_alpha(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_alnum(b: u8) -> bool {
    is_alpha(b) || b.is_ascii_digit()
}

/// Splits `src` into tokens (ending with [`Tok::Eof`]).
pub fn tokens(src: &str) -> Result<Vec<Spanned>, ParseError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, m: String| Err(ParseError::at(src, at, m));
    while i < b.len() {
        let c = b[i];
        let start = i;
        let single = |t: Tok| Spanned { tok: t, at: start };
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            b'{' => out.push(single(Tok::LBrace)),
            b'}' => out.push(single(Tok::RBrace)),
            b'(' => out.push(single(Tok::LParen)),
            b')' => out.push(single(Tok::RParen)),
            b'[' => out.push(single(Tok::LBracket)),
            b']' => out.push(single(Tok::RBracket)),
            b',' => out.push(single(Tok::Comma)),
            b';' => out.push(single(Tok::Semicolon)),
            b'+' => out.push(single(Tok::Plus)),
            b'-' => out.push(single(Tok::Minus)),
            b'=' => {
                // `==` is read as `=`.
                if b.get(i + 1) == Some(&b'=') {
                    i += 1;
                }
                out.push(single(Tok::Eq));
            }
            b'!' => {
                if b.get(i + 1) != Some(&b'=') {
                    return err(i, "`!` must be followed by `=`".into());
                }
                i += 1;
                out.push(single(Tok::Ne));
            }
            b'<' | b'>' => {
                let eq = b.get(i + 1) == Some(&b'=');
                if eq {
                    i += 1;
                }
                out.push(single(match (c, eq) {
                    (b'<', false) => Tok::Lt,
                    (b'<', true) => Tok::Le,
                    (_, false) => Tok::Gt,
                    _ => Tok::Ge,
                }));
            }
            b'&' | b'|' => {
                if b.get(i + 1) != Some(&c) {
                    return err(
                        i,
                        format!(
                            "`{}` alone is not an operator: write `and` or `or`",
                            c as char
                        ),
                    );
                }
                i += 1;
                out.push(single(if c == b'&' { Tok::And } else { Tok::Or }));
            }
            b'*' | b'/' | b'%' | b'^' => {
                return err(
                    i,
                    format!("arithmetic (`{}`) is not supported in filters", c as char),
                );
            }
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                return err(
                    i,
                    "`.` (attribute access) is not supported in filters".into(),
                );
            }
            b'"' | b'\'' => {
                let (s, end) = string(src, i)?;
                out.push(single(Tok::Str(s)));
                i = end;
                continue;
            }
            b'`' => {
                let Some(len) = src[i + 1..].find('`') else {
                    return err(i, "unterminated backquoted text".into());
                };
                out.push(single(Tok::Raw(src[i + 1..i + 1 + len].to_string())));
                i += len + 2;
                continue;
            }
            c if c.is_ascii_digit() || c == b'.' => {
                let (t, end) = number(src, i)?;
                out.push(single(t));
                i = end;
                continue;
            }
            c if is_alpha(c) => {
                let mut j = i;
                while j < b.len() && is_alnum(b[j]) {
                    j += 1;
                }
                let word = &src[i..j];
                out.push(single(
                    keyword(word).unwrap_or_else(|| Tok::Ident(word.to_string())),
                ));
                i = j;
                continue;
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return err(i, format!("unexpected character {ch:?}"));
            }
        }
        i += 1;
    }
    out.push(Spanned {
        tok: Tok::Eof,
        at: b.len(),
    });
    Ok(out)
}

/// A number as the original reads it: an integer (decimal, `0x` hex, or octal with a leading
/// `0`) when it parses as a 64-bit one, else a float.
fn number(src: &str, start: usize) -> Result<(Tok, usize), ParseError> {
    let b = src.as_bytes();
    let mut i = start;
    let hex = b[i] == b'0' && matches!(b.get(i + 1), Some(b'x' | b'X'));
    let digit = |c: u8| {
        if hex {
            c.is_ascii_hexdigit()
        } else {
            c.is_ascii_digit()
        }
    };
    if hex {
        i += 2;
    }
    while i < b.len() && digit(b[i]) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while i < b.len() && digit(b[i]) {
            i += 1;
        }
    }
    if !hex && matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if b.get(i).is_some_and(|&c| is_alnum(c)) {
        return Err(ParseError::at(
            src,
            start,
            format!(
                "`{}` is not a number (durations and units are not supported in filters)",
                word_at(src, start)
            ),
        ));
    }
    let text = &src[start..i];
    let bad = || ParseError::at(src, start, format!("`{text}` is not a number"));
    let int = if hex {
        i64::from_str_radix(&text[2..], 16).ok()
    } else if text.len() > 1 && text.starts_with('0') && text.bytes().all(|c| c.is_ascii_digit()) {
        i64::from_str_radix(&text[1..], 8).ok()
    } else {
        text.parse::<i64>().ok()
    };
    let tok = match int {
        Some(v) => Tok::Int(v),
        None if hex => return Err(bad()),
        None => Tok::Float(text.parse::<f64>().map_err(|_| bad())?),
    };
    Ok((tok, i))
}

/// The word starting at `at` (for messages).
fn word_at(src: &str, at: usize) -> &str {
    let end = src[at..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .map_or(src.len(), |n| at + n);
    &src[at..end]
}

/// A quoted string starting at `start` (`'` or `"`), its escapes resolved; returns the text
/// and the offset after the closing quote.
fn string(src: &str, start: usize) -> Result<(String, usize), ParseError> {
    let quote = src.as_bytes()[start] as char;
    let mut out = String::new();
    let mut chars = src[start + 1..].char_indices();
    let at = |off: usize| start + 1 + off;
    while let Some((off, c)) = chars.next() {
        match c {
            '\n' | '\r' => break,
            c if c == quote => return Ok((out, at(off) + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let simple = match e {
                    'a' => Some('\u{7}'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\u{b}'),
                    '\\' | '\'' | '"' | '`' => Some(e),
                    _ => None,
                };
                if let Some(s) = simple {
                    out.push(s);
                    continue;
                }
                let (n, radix) = match e {
                    '0'..='7' => (3, 8),
                    'x' | 'X' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    _ => {
                        return Err(ParseError::at(
                            src,
                            at(off),
                            format!("unknown escape sequence `\\{e}`"),
                        ));
                    }
                };
                let mut digits = String::new();
                if radix == 8 {
                    digits.push(e);
                }
                while digits.len() < n {
                    match chars.next() {
                        Some((_, d)) if d.is_digit(radix) => digits.push(d),
                        _ => {
                            return Err(ParseError::at(
                                src,
                                at(off),
                                "escape sequence not terminated".into(),
                            ));
                        }
                    }
                }
                let v = u32::from_str_radix(&digits, radix).unwrap_or(u32::MAX);
                let byte_escape = matches!(e, '0'..='7' | 'x' | 'X');
                match char::from_u32(v) {
                    Some(c) if !byte_escape || v < 0x80 => out.push(c),
                    _ => {
                        return Err(ParseError::at(
                            src,
                            at(off),
                            format!(
                                "escape sequence `\\{}` is not a valid character{}",
                                if radix == 8 {
                                    digits.clone()
                                } else {
                                    format!("{e}{digits}")
                                },
                                if byte_escape {
                                    " (byte escapes go up to \\x7f: use \\u for others)"
                                } else {
                                    ""
                                }
                            ),
                        ));
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(ParseError::at(
        src,
        start,
        "unterminated quoted string".into(),
    ))
}
