//! Go (RE2) regex dialect, carried over to the engines we run.
//!
//! DataKit's regexes are Go `regexp`: RE2 syntax, leftmost-first, ASCII `\d \w \s \b`, `$` only
//! at the very end of the text, and `{` taken literally when it does not start a repetition.
//! [`translate`] rewrites a pattern so that PCRE2 (grok) or the `regex` crate (`match`,
//! `replace`, ...) behave the same way, and lists the capture groups in order. Patterns are
//! validated with `regex_syntax`, which accepts RE2 syntax.

use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PCRE2 without UCP: classes are ASCII already; groups are made unnamed (names are kept
    /// in [`Translated::groups`]) and `$` becomes `\z`.
    Pcre2,
    /// The `regex` crate: Perl classes and `\b` are made ASCII; names are kept.
    Rust,
}

#[derive(Debug, Clone)]
pub struct Translated {
    /// The pattern for the engine.
    pub pattern: String,
    /// Capture groups in order (group 1 first): the name, or `None` for an unnamed group.
    pub groups: Vec<Option<String>>,
}

/// A pattern that is not valid RE2 syntax: the message reads like Go's.
#[derive(Debug, Clone, PartialEq)]
pub struct RegexError(pub String);

impl std::fmt::Display for RegexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates `pat` as RE2 syntax and rewrites it for `engine`.
pub fn translate(pat: &str, engine: Engine) -> Result<Translated, RegexError> {
    let (checked, out) = rewrite(pat, engine)?;
    validate(pat, &checked)?;
    Ok(out)
}

fn validate(original: &str, checked: &str) -> Result<(), RegexError> {
    let mut p = regex_syntax::ParserBuilder::new()
        .nest_limit(200)
        .utf8(true)
        .build();
    match p.parse(checked) {
        Ok(_) => Ok(()),
        Err(e) => Err(RegexError(go_message(&e, original))),
    }
}

fn go_message(e: &regex_syntax::Error, pat: &str) -> String {
    use regex_syntax::ast::ErrorKind as K;
    let what = match e {
        regex_syntax::Error::Parse(pe) => match pe.kind() {
            K::GroupUnclosed => "missing closing )".to_string(),
            K::GroupUnopened => "unexpected )".to_string(),
            K::ClassUnclosed => "missing closing ]".to_string(),
            K::RepetitionMissing => "missing argument to repetition operator".to_string(),
            K::RepetitionCountInvalid | K::RepetitionCountDecimalEmpty => {
                "invalid repeat count".to_string()
            }
            K::EscapeUnrecognized | K::EscapeUnexpectedEof => "invalid escape sequence".to_string(),
            K::UnsupportedBackreference => "invalid escape sequence".to_string(),
            K::UnsupportedLookAround => "invalid or unsupported Perl syntax".to_string(),
            K::ClassRangeInvalid => "invalid character class range".to_string(),
            K::GroupNameDuplicate { .. } => "duplicate capture group name".to_string(),
            K::GroupNameInvalid | K::GroupNameEmpty | K::GroupNameUnexpectedEof => {
                "invalid named capture".to_string()
            }
            K::NestLimitExceeded(_) => "expression nests too deeply".to_string(),
            other => other.to_string(),
        },
        regex_syntax::Error::Translate(te) => te.kind().to_string(),
        other => other.to_string(),
    };
    format!("error parsing regexp: {what}: `{pat}`")
}

/// Is `b[i..]` a valid counted repetition `{n}`, `{n,}` or `{n,m}`? Returns its length.
fn repetition_len(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let d0 = j;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    if j == d0 {
        return None;
    }
    if j < b.len() && b[j] == b',' {
        j += 1;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
    }
    if j < b.len() && b[j] == b'}' {
        Some(j + 1 - i)
    } else {
        None
    }
}

/// Returns (pattern for validation, pattern for the engine + groups).
fn rewrite(pat: &str, engine: Engine) -> Result<(String, Translated), RegexError> {
    let b = pat.as_bytes();
    let mut check = String::with_capacity(pat.len() + 8);
    let mut out = String::with_capacity(pat.len() + 8);
    let mut groups = Vec::new();
    let multiline = has_multiline_flag(pat);
    let mut i = 0;
    let mut in_class = false;
    // Copies pat[i..i+n] to both outputs.
    macro_rules! copy {
        ($n:expr) => {{
            let n = $n;
            let s = &pat[i..i + n];
            check.push_str(s);
            out.push_str(s);
            i += n;
        }};
    }
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            let Some(&e) = b.get(i + 1) else {
                copy!(1);
                continue;
            };
            if e == b'Q' {
                // \Q...\E: literal text.
                let end = pat[i + 2..].find("\\E").map_or(pat.len(), |k| i + 2 + k);
                for ch in pat[i + 2..end].chars() {
                    let mut tmp = [0u8; 4];
                    let esc = regex_syntax::escape(ch.encode_utf8(&mut tmp));
                    check.push_str(&esc);
                    out.push_str(&esc);
                }
                i = (end + 2).min(pat.len());
                continue;
            }
            if engine == Engine::Rust && e.is_ascii() {
                let repl = match e {
                    b'd' => Some("[0-9]"),
                    b'D' => Some("[^0-9]"),
                    b'w' => Some("[0-9A-Za-z_]"),
                    b'W' => Some("[^0-9A-Za-z_]"),
                    b's' => Some("[\\t\\n\\f\\r ]"),
                    b'S' => Some("[^\\t\\n\\f\\r ]"),
                    b'b' if !in_class => Some("(?-u:\\b)"),
                    b'B' if !in_class => Some("(?-u:\\B)"),
                    _ => None,
                };
                if let Some(r) = repl {
                    check.push_str(&pat[i..i + 2]);
                    out.push_str(r);
                    i += 2;
                    continue;
                }
            }
            let n = 1 + pat[i + 1..].chars().next().map_or(0, char::len_utf8);
            copy!(n);
            continue;
        }
        if in_class {
            if c == b'['
                && b.get(i + 1) == Some(&b':')
                && let Some(k) = pat[i + 2..].find(":]")
            {
                copy!(k + 4);
                continue;
            }
            if c == b']' {
                in_class = false;
            }
            if c == b'[' {
                // A literal '[' inside a class; regex_syntax would read a nested class.
                check.push_str("\\[");
                out.push_str(if engine == Engine::Rust { "\\[" } else { "[" });
                i += 1;
                continue;
            }
            let n = pat[i..].chars().next().map_or(1, char::len_utf8);
            copy!(n);
            continue;
        }
        match c {
            b'[' => {
                in_class = true;
                let mut n = 1;
                if b.get(i + n) == Some(&b'^') {
                    n += 1;
                }
                if b.get(i + n) == Some(&b']') {
                    // A leading ']' is literal.
                    check.push_str(&pat[i..i + n]);
                    out.push_str(&pat[i..i + n]);
                    check.push_str("\\]");
                    out.push_str("\\]");
                    i += n + 1;
                    continue;
                }
                copy!(n);
            }
            b'{' => match repetition_len(b, i) {
                Some(n) => copy!(n),
                None => {
                    check.push_str("\\{");
                    out.push_str("\\{");
                    i += 1;
                }
            },
            b'}' => {
                check.push_str("\\}");
                out.push_str("\\}");
                i += 1;
            }
            b'$' if engine == Engine::Pcre2 && !multiline => {
                check.push('$');
                out.push_str("\\z");
                i += 1;
            }
            b'(' => {
                let rest = &pat[i + 1..];
                let named = rest
                    .strip_prefix("?P<")
                    .or_else(|| rest.strip_prefix("?<"))
                    .filter(|r| !r.starts_with('=') && !r.starts_with('!'));
                if let Some(r) = named
                    && let Some(close) = r.find('>')
                {
                    let name = &r[..close];
                    let head = rest.len() - r.len() + 1; // "(" + "?P<" or "?<"
                    if name.is_empty()
                        || !name.bytes().all(|c| c == b'_' || c.is_ascii_alphanumeric())
                    {
                        return Err(RegexError(format!(
                            "error parsing regexp: invalid named capture: `{pat}`"
                        )));
                    }
                    groups.push(Some(name.to_string()));
                    // Go allows repeated and digit-first names; validate with unique ones.
                    let _ = write!(check, "(?P<_g{}>", groups.len());
                    match engine {
                        Engine::Pcre2 => out.push('('),
                        Engine::Rust => {
                            let _ = write!(out, "(?P<{name}>");
                        }
                    }
                    i += head + close + 1;
                } else if rest.starts_with('?') {
                    copy!(1);
                } else {
                    groups.push(None);
                    copy!(1);
                }
            }
            _ => {
                let n = pat[i..].chars().next().map_or(1, char::len_utf8);
                copy!(n);
            }
        }
    }
    Ok((
        check,
        Translated {
            pattern: out,
            groups,
        },
    ))
}

/// True if the pattern sets the `m` flag anywhere (`(?m)`, `(?im:...)`).
fn has_multiline_flag(pat: &str) -> bool {
    let b = pat.as_bytes();
    let mut i = 0;
    while let Some(k) = pat[i..].find("(?") {
        let mut j = i + k + 2;
        while j < b.len() && (b[j].is_ascii_alphabetic() || b[j] == b'-') {
            if b[j] == b'm' {
                return true;
            }
            j += 1;
        }
        i = i + k + 2;
    }
    false
}

/// Compiles a Go regex for the `regex` crate (ASCII classes, RE2 semantics).
pub fn compile_rust(pat: &str) -> Result<regex::Regex, RegexError> {
    let t = translate(pat, Engine::Rust)?;
    regex::RegexBuilder::new(&t.pattern)
        .size_limit(32 << 20)
        .build()
        .map_err(|e| RegexError(format!("error parsing regexp: {e}: `{pat}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_braces_and_names() {
        let t = translate("%{DATA:}x{2}(?P<a>b)(c)(?:d)", Engine::Pcre2).unwrap();
        assert_eq!(t.pattern, "%\\{DATA:\\}x{2}(b)(c)(?:d)");
        assert_eq!(t.groups, vec![Some("a".into()), None]);
        let t = translate("(?P<1st>\\d+)", Engine::Pcre2).unwrap();
        assert_eq!(t.groups, vec![Some("1st".into())]);
    }

    #[test]
    fn dollar_is_end_of_text_for_pcre() {
        assert_eq!(translate("a$", Engine::Pcre2).unwrap().pattern, "a\\z");
        assert_eq!(
            translate("(?m)a$", Engine::Pcre2).unwrap().pattern,
            "(?m)a$"
        );
        assert_eq!(translate("[$]", Engine::Pcre2).unwrap().pattern, "[$]");
    }

    #[test]
    fn rust_classes_are_ascii() {
        let re = compile_rust("^\\w+\\s\\d$").unwrap();
        assert!(re.is_match("abc 1"));
        assert!(!re.is_match("ébc 1"));
        assert!(!re.is_match("abc ١"));
        let re = compile_rust("[\\d.]+").unwrap();
        assert_eq!(re.find("v1.25x").unwrap().as_str(), "1.25");
        let re = compile_rust("[[]x").unwrap();
        assert!(re.is_match("[x"));
    }

    #[test]
    fn errors_read_like_go() {
        let e = translate("(abc", Engine::Pcre2).unwrap_err();
        assert_eq!(e.0, "error parsing regexp: missing closing ): `(abc`");
        assert!(translate("a(?=b)", Engine::Pcre2).is_err());
        assert!(translate("(a)\\1", Engine::Pcre2).is_err());
    }
}
