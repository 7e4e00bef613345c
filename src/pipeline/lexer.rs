//! The lexer: source text to tokens with byte offsets.
//!
//! Lexing is done up front, but a lexical error does not stop it at once: it becomes an
//! [`Tok::Error`] token at its position, so the parser reports whichever problem comes first
//! in the text, as the original's pull lexer does.

use std::fmt;

/// One token kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Int(i64),
    Float(f64),
    Str(String),
    True,
    False,
    Nil,
    If,
    Elif,
    Else,
    For,
    In,
    Break,
    Continue,
    /// A word with no grammar rule (`while`, `return`, `str`, ...): any use is a parse error.
    Reserved(&'static str),
    LParen,
    RParen,
    LBrack,
    RBrack,
    LBrace,
    RBrace,
    Comma,
    Colon,
    Semi,
    Dot,
    Eol,
    Assign,
    AddAssign,
    SubAssign,
    MulAssign,
    DivAssign,
    ModAssign,
    OrOr,
    AndAnd,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Not,
    Eof,
    /// A lexical error; the message says what is wrong.
    Error(String),
}

impl fmt::Display for Tok {
    /// The token as the parser's "unexpected" messages name it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "id {s:?}"),
            Tok::Int(i) => write!(f, "number \"{i}\""),
            Tok::Float(x) => write!(f, "number \"{x}\""),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::True => f.write_str("<true>"),
            Tok::False => f.write_str("<false>"),
            Tok::Nil => f.write_str("<nil>"),
            Tok::If => f.write_str("<if>"),
            Tok::Elif => f.write_str("<elif>"),
            Tok::Else => f.write_str("<else>"),
            Tok::For => f.write_str("<for>"),
            Tok::In => f.write_str("<in>"),
            Tok::Break => f.write_str("<break>"),
            Tok::Continue => f.write_str("<continue>"),
            Tok::Reserved(w) => write!(f, "{w:?}"),
            Tok::Eol => f.write_str("newline"),
            Tok::Eof => f.write_str("end of input"),
            Tok::Error(m) => f.write_str(m),
            other => write!(f, "<op:'{}'>", other.op_text()),
        }
    }
}

impl Tok {
    /// The text of a punctuation or operator token.
    pub fn op_text(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrack => "[",
            Tok::RBrack => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Colon => ":",
            Tok::Semi => ";",
            Tok::Dot => ".",
            Tok::Assign => "=",
            Tok::AddAssign => "+=",
            Tok::SubAssign => "-=",
            Tok::MulAssign => "*=",
            Tok::DivAssign => "/=",
            Tok::ModAssign => "%=",
            Tok::OrOr => "||",
            Tok::AndAnd => "&&",
            Tok::Eq => "==",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Not => "!",
            _ => "?",
        }
    }
}

/// A token and where it is: byte offsets `start..end` in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Splits `src` into tokens. The last token is always [`Tok::Eof`] or [`Tok::Error`].
pub fn lex(src: &str) -> Vec<Token> {
    let mut lx = Lexer {
        src,
        b: src.as_bytes(),
        i: 0,
        out: Vec::with_capacity(src.len() / 3 + 2),
        open: Vec::new(),
    };
    lx.run();
    lx.out
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    i: usize,
    out: Vec<Token>,
    /// Open brackets: the byte that closes each.
    open: Vec<u8>,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic() || !c.is_ascii()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric() || !c.is_ascii()
}

fn keyword(word: &str) -> Option<Tok> {
    // Keywords are matched case-insensitively; identifiers are case-sensitive.
    if word.len() > 10 || !word.is_ascii() {
        return None;
    }
    let lower = word.to_ascii_lowercase();
    Some(match lower.as_str() {
        "if" => Tok::If,
        "elif" => Tok::Elif,
        "else" => Tok::Else,
        "for" => Tok::For,
        "in" => Tok::In,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "true" => Tok::True,
        "false" => Tok::False,
        "nil" | "null" => Tok::Nil,
        "inf" => Tok::Float(f64::INFINITY),
        "nan" => Tok::Float(f64::NAN),
        "while" => Tok::Reserved("while"),
        "return" => Tok::Reserved("return"),
        "identifier" => Tok::Reserved("identifier"),
        "str" => Tok::Reserved("str"),
        "int" => Tok::Reserved("int"),
        "float" => Tok::Reserved("float"),
        "bool" => Tok::Reserved("bool"),
        "list" => Tok::Reserved("list"),
        "map" => Tok::Reserved("map"),
        _ => return None,
    })
}

impl Lexer<'_> {
    fn push(&mut self, tok: Tok, start: usize) {
        self.out.push(Token {
            tok,
            start,
            end: self.i,
        });
    }

    /// Ends lexing with an error token at `at`.
    fn error(&mut self, msg: String, at: usize) {
        self.out.push(Token {
            tok: Tok::Error(msg),
            start: at,
            end: at,
        });
    }

    fn peek(&self, ahead: usize) -> u8 {
        self.b.get(self.i + ahead).copied().unwrap_or(0)
    }

    fn run(&mut self) {
        loop {
            let Some(&c) = self.b.get(self.i) else {
                if let Some(&close) = self.open.last() {
                    let what = match close {
                        b')' => "unclosed left parenthesis",
                        b']' => "unclosed left bracket",
                        _ => "unclosed left brace",
                    };
                    self.error(what.to_string(), self.src.len());
                } else {
                    let at = self.src.len();
                    self.out.push(Token {
                        tok: Tok::Eof,
                        start: at,
                        end: at,
                    });
                }
                return;
            };
            let start = self.i;
            match c {
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\n' => {
                    self.i += 1;
                    self.push(Tok::Eol, start);
                }
                b'#' => {
                    while self.i < self.b.len() && self.b[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b'"' | b'\'' => {
                    if self.peek(1) == c && self.peek(2) == c {
                        if !self.triple_string(c) {
                            return;
                        }
                    } else if !self.string(c) {
                        return;
                    }
                }
                b'`' => {
                    let body_start = self.i + 1;
                    match memchr::memchr(b'`', &self.b[body_start..]) {
                        Some(n) => {
                            self.i = body_start + n + 1;
                            let name = self.src[body_start..body_start + n].to_string();
                            self.push(Tok::Ident(name), start);
                        }
                        None => {
                            self.error("unterminated raw string".into(), start);
                            return;
                        }
                    }
                }
                b'0'..=b'9' => {
                    if !self.number() {
                        return;
                    }
                }
                b'(' | b'[' | b'{' => {
                    self.i += 1;
                    let (tok, close) = match c {
                        b'(' => (Tok::LParen, b')'),
                        b'[' => (Tok::LBrack, b']'),
                        _ => (Tok::LBrace, b'}'),
                    };
                    self.open.push(close);
                    self.push(tok, start);
                }
                b')' | b']' | b'}' => {
                    if self.open.last() != Some(&c) {
                        let what = match c {
                            b')' => "unexpected right parenthesis ')'",
                            b']' => "unexpected right bracket ']'",
                            _ => "unexpected right brace '}'",
                        };
                        self.error(what.to_string(), start);
                        return;
                    }
                    self.open.pop();
                    self.i += 1;
                    let tok = match c {
                        b')' => Tok::RParen,
                        b']' => Tok::RBrack,
                        _ => Tok::RBrace,
                    };
                    self.push(tok, start);
                }
                _ => {
                    if let Some(tok) = self.operator(c) {
                        self.push(tok, start);
                        continue;
                    }
                    let ch = self.src[self.i..].chars().next().unwrap_or('\u{fffd}');
                    if is_ident_start(ch) {
                        let mut j = self.i;
                        for (off, ch) in self.src[self.i..].char_indices() {
                            if !is_ident_char(ch) {
                                break;
                            }
                            j = self.i + off + ch.len_utf8();
                        }
                        let word = &self.src[self.i..j];
                        self.i = j;
                        let tok = keyword(word).unwrap_or_else(|| Tok::Ident(word.to_string()));
                        self.push(tok, start);
                    } else {
                        self.error(format!("unexpected character: {ch:?}"), start);
                        return;
                    }
                }
            }
        }
    }

    fn operator(&mut self, c: u8) -> Option<Tok> {
        let n = self.peek(1);
        let (tok, len) = match (c, n) {
            (b'=', b'=') => (Tok::Eq, 2),
            (b'=', _) => (Tok::Assign, 1),
            (b'!', b'=') => (Tok::Ne, 2),
            (b'!', _) => (Tok::Not, 1),
            (b'<', b'=') => (Tok::Le, 2),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', b'=') => (Tok::Ge, 2),
            (b'>', _) => (Tok::Gt, 1),
            (b'&', b'&') => (Tok::AndAnd, 2),
            (b'|', b'|') => (Tok::OrOr, 2),
            (b'+', b'=') => (Tok::AddAssign, 2),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', b'=') => (Tok::SubAssign, 2),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', b'=') => (Tok::MulAssign, 2),
            (b'*', _) => (Tok::Star, 1),
            (b'/', b'=') => (Tok::DivAssign, 2),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', b'=') => (Tok::ModAssign, 2),
            (b'%', _) => (Tok::Percent, 1),
            (b',', _) => (Tok::Comma, 1),
            (b':', _) => (Tok::Colon, 1),
            (b';', _) => (Tok::Semi, 1),
            (b'.', _) => (Tok::Dot, 1),
            _ => return None,
        };
        self.i += len;
        Some(tok)
    }

    /// A number literal. Integers are read with base detection (`0x`, leading `0` = octal);
    /// one that does not fit in an int becomes a float.
    fn number(&mut self) -> bool {
        let start = self.i;
        let b = self.b;
        let mut j = self.i;
        let mut is_float = false;
        if b[j] == b'0' && matches!(b.get(j + 1), Some(b'x' | b'X')) {
            j += 2;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                j += 1;
            }
        } else {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'.' {
                is_float = true;
                j += 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    is_float = true;
                    j = k;
                }
            }
        }
        let text = &self.src[start..j];
        // A number directly followed by a letter (or a non-ASCII character) is an error.
        if let Some(ch) = self.src[j..].chars().next()
            && is_ident_char(ch)
        {
            self.error(format!("bad duration: {text:?}"), start);
            return false;
        }
        self.i = j;
        let tok = if is_float {
            Tok::Float(text.parse().unwrap_or(f64::NAN))
        } else {
            match parse_int_auto(text) {
                Some(i) => Tok::Int(i),
                None => Tok::Float(text.parse().unwrap_or(f64::INFINITY)),
            }
        };
        self.push(tok, start);
        true
    }

    /// A single-line string with escapes. Returns false after an error.
    fn string(&mut self, q: u8) -> bool {
        let start = self.i;
        let mut j = self.i + 1;
        let b = self.b;
        // Fast path: no escapes.
        loop {
            match b.get(j) {
                None | Some(b'\n') => {
                    self.error("unterminated quoted string within lexString".into(), start);
                    return false;
                }
                Some(&c) if c == q => {
                    self.i = j + 1;
                    let s = self.src[start + 1..j].to_string();
                    self.push(Tok::Str(s), start);
                    return true;
                }
                Some(b'\\') => break,
                Some(_) => j += 1,
            }
        }
        // Slow path with escapes: find the end first, then decode.
        let mut k = j;
        loop {
            match b.get(k) {
                None | Some(b'\n') => {
                    self.error("unterminated quoted string within lexString".into(), start);
                    return false;
                }
                Some(b'\\') => k += 2,
                Some(&c) if c == q => break,
                Some(_) => k += 1,
            }
        }
        if k > b.len() {
            self.error("unterminated quoted string within lexString".into(), start);
            return false;
        }
        match unescape(&self.src[start + 1..k], q as char) {
            Ok(s) => {
                self.i = k + 1;
                self.push(Tok::Str(s), start);
                true
            }
            Err(msg) => {
                self.error(msg, start);
                false
            }
        }
    }

    /// `"""..."""` or `'''...'''`: verbatim, may span lines.
    fn triple_string(&mut self, q: u8) -> bool {
        let start = self.i;
        let body = start + 3;
        let delim = [q, q, q];
        match memchr::memmem::find(&self.b[body..], &delim) {
            Some(n) => {
                self.i = body + n + 3;
                let s = self.src[body..body + n].to_string();
                self.push(Tok::Str(s), start);
                true
            }
            None => {
                self.error("unterminated raw string".into(), start);
                false
            }
        }
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` for the literal forms the lexer produces.
pub fn parse_int_auto(text: &str) -> Option<i64> {
    let (neg, t) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (2, b)
    } else if let Some(o) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        (8, o)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let mag = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i64).wrapping_neg())
        } else {
            None
        }
    } else if mag <= i64::MAX as u64 {
        Some(mag as i64)
    } else {
        None
    }
}

/// Decodes the escapes of a quoted string body (Go `strconv.Unquote` rules).
fn unescape(body: &str, quote: char) -> Result<String, String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            return Err("unterminated quoted string within lexString".into());
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == quote => out.push(e),
            '0'..='7' => {
                let mut v = e as u32 - '0' as u32;
                for _ in 0..2 {
                    match chars.next() {
                        Some(d @ '0'..='7') => v = v * 8 + (d as u32 - '0' as u32),
                        _ => return Err("invalid octal escape sequence".into()),
                    }
                }
                if v > 255 {
                    return Err("octal escape value > 255".into());
                }
                // Go treats \NNN as a byte; as text it is the Latin-1 character.
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v: u32 = 0;
                for _ in 0..n {
                    match chars.next().and_then(|d| d.to_digit(16)) {
                        Some(d) => v = v.wrapping_mul(16).wrapping_add(d),
                        None => return Err(format!("invalid \\{e} escape sequence")),
                    }
                }
                match char::from_u32(v) {
                    Some(ch) => out.push(ch),
                    None => return Err(format!("invalid unicode code point in escape: {v:#x}")),
                }
            }
            other => {
                return Err(format!(
                    "unknown escape sequence U+{:04X} {other:?}",
                    other as u32
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        lex(src).into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_use_base_detection_and_overflow_to_float() {
        assert_eq!(
            toks("10 010 0x1F 1.5 5. 1e3 2.5E-3"),
            vec![
                Tok::Int(10),
                Tok::Int(8),
                Tok::Int(31),
                Tok::Float(1.5),
                Tok::Float(5.0),
                Tok::Float(1000.0),
                Tok::Float(0.0025),
                Tok::Eof
            ]
        );
        assert_eq!(
            toks("99999999999999999999"),
            vec![Tok::Float(1e20), Tok::Eof]
        );
        assert_eq!(toks(".5")[0], Tok::Dot);
        assert_eq!(toks("1a")[0], Tok::Error("bad duration: \"1\"".into()));
    }

    #[test]
    fn keywords_are_case_insensitive_and_reserved_words_are_marked() {
        assert_eq!(
            toks("IF True NIL null Else str"),
            vec![
                Tok::If,
                Tok::True,
                Tok::Nil,
                Tok::Nil,
                Tok::Else,
                Tok::Reserved("str"),
                Tok::Eof
            ]
        );
        assert!(matches!(toks("inf")[0], Tok::Float(f) if f.is_infinite()));
        assert!(matches!(toks("NaN")[0], Tok::Float(f) if f.is_nan()));
        assert_eq!(toks("变量")[0], Tok::Ident("变量".into()));
        assert_eq!(toks("`@timestamp`")[0], Tok::Ident("@timestamp".into()));
    }

    #[test]
    fn strings_decode_escapes_and_triple_quotes_are_verbatim() {
        assert_eq!(toks(r#""a\tb\"c'""#)[0], Tok::Str("a\tb\"c'".into()));
        assert_eq!(toks(r#"'a\'b"'"#)[0], Tok::Str("a'b\"".into()));
        assert_eq!(toks(r#""\x41\u4e2d\101""#)[0], Tok::Str("A中A".into()));
        assert_eq!(toks(r#""\u4e2d""#)[0], Tok::Str("中".into()));
        assert_eq!(toks("\"\"\"a\\nb\n\"\"\"")[0], Tok::Str("a\\nb\n".into()));
        assert_eq!(
            toks(r#""\q""#)[0],
            Tok::Error("unknown escape sequence U+0071 'q'".into())
        );
        assert_eq!(
            toks(r#""\d""#)[0],
            Tok::Error("unknown escape sequence U+0064 'd'".into())
        );
        let t = lex("a = \"abc");
        assert_eq!(
            t.last().unwrap().tok,
            Tok::Error("unterminated quoted string within lexString".into())
        );
        assert_eq!(t.last().unwrap().start, 4);
    }

    #[test]
    fn brackets_are_balanced() {
        let t = lex("grok(_, \"%{WORD:a}\"");
        let last = t.last().unwrap();
        assert_eq!(last.tok, Tok::Error("unclosed left parenthesis".into()));
        assert_eq!(last.start, 19);
        let t = lex("add_key(a, 1))");
        let last = t.last().unwrap();
        assert_eq!(
            last.tok,
            Tok::Error("unexpected right parenthesis ')'".into())
        );
        assert_eq!(last.start, 13);
        assert_eq!(
            lex("a = 1 @ 2").last().unwrap().tok,
            Tok::Error("unexpected character: '@'".into())
        );
    }

    #[test]
    fn comments_and_operators() {
        assert_eq!(
            toks("a += 1 # c \"x\"\n!b != c && d || e"),
            vec![
                Tok::Ident("a".into()),
                Tok::AddAssign,
                Tok::Int(1),
                Tok::Eol,
                Tok::Not,
                Tok::Ident("b".into()),
                Tok::Ne,
                Tok::Ident("c".into()),
                Tok::AndAnd,
                Tok::Ident("d".into()),
                Tok::OrOr,
                Tok::Ident("e".into()),
                Tok::Eof
            ]
        );
    }
}
