//! Grok: named regex building blocks (`%{NAME:capture:type}`) expanded into one regex and run
//! with PCRE2's JIT. Grok's building blocks (`.*?`, `.*`) push the `regex` crate onto its
//! backtracker; on the expanded nginx pattern PCRE2's JIT matched about 8× faster than `regex`
//! and 2.7× faster than Oniguruma, with identical captures.
//!
//! Expansion follows DataKit's grok: a reference is replaced by the referenced pattern,
//! recursively; with a capture name it becomes a capture group of that name; `:int`, `:float`,
//! `:bool`, `:str`/`:string` type the capture. Script-local patterns (`add_pattern`) win over
//! the built-in table, which wins over pattern files.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use smallvec::SmallVec;

use super::lexer::parse_int_auto;
use super::re2::{self, Engine};
use crate::point::Value as PValue;

/// The built-in pattern table, as data.
pub const BUILTIN_PATTERNS: &str = include_str!("patterns.txt");

/// Recursion deeper than this while expanding means a cycle.
const MAX_EXPANSION_DEPTH: usize = 32;
/// PCRE2's match limit for grok patterns (its default is 10 M).
const MATCH_LIMIT: u32 = 1_000_000;
/// Expanded patterns longer than this are refused.
const MAX_EXPANDED_LEN: usize = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GType {
    Str,
    Int,
    Float,
    Bool,
}

impl GType {
    fn parse(s: &str) -> Option<GType> {
        Some(match s {
            "str" | "string" => GType::Str,
            "int" => GType::Int,
            "float" => GType::Float,
            "bool" => GType::Bool,
            _ => return None,
        })
    }

    /// Converts captured text (or `None` for a group that did not take part).
    pub fn convert(self, text: Option<&str>) -> PValue {
        match self {
            GType::Str => PValue::Str(text.unwrap_or("").to_string()),
            GType::Int => PValue::Int(text.and_then(parse_int_auto).unwrap_or(0)),
            GType::Float => PValue::Float(text.and_then(|t| t.parse().ok()).unwrap_or(0.0)),
            GType::Bool => PValue::Bool(text.and_then(parse_go_bool).unwrap_or(false)),
        }
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A pattern with every reference expanded: plain RE2 syntax plus the capture types.
#[derive(Debug, Clone, Default)]
pub struct Expanded {
    pub regex: String,
    pub types: Vec<(String, GType)>,
}

impl Expanded {
    fn type_of(&self, name: &str) -> Option<GType> {
        self.types.iter().find(|(n, _)| n == name).map(|(_, t)| *t)
    }
    fn add_type(&mut self, name: &str, t: GType, overwrite: bool) {
        match self.types.iter_mut().find(|(n, _)| n == name) {
            Some(slot) if overwrite => slot.1 = t,
            Some(_) => {}
            None => self.types.push((name.to_string(), t)),
        }
    }
}

/// Lines `NAME regex` (first space separates; `#` comments, blank lines skipped).
pub fn parse_pattern_text(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (n, p) = l.split_once(' ')?;
            Some((n.to_string(), p.to_string()))
        })
        .collect()
}

/// Expands a set of raw named patterns that may refer to each other (and to `base`).
/// Returns the expanded ones and, for the rest, why they failed.
/// Expanded patterns by name.
pub type PatternMap = HashMap<String, Arc<Expanded>>;
/// Finds an already expanded pattern by name.
pub type Lookup<'a> = dyn FnMut(&str) -> Result<Option<Arc<Expanded>>, String> + 'a;

pub fn expand_set(
    raw: &[(String, String)],
    base: &dyn Fn(&str) -> Option<Arc<Expanded>>,
) -> (PatternMap, Vec<(String, String)>) {
    let raw_map: HashMap<&str, &str> = raw.iter().map(|(n, p)| (n.as_str(), p.as_str())).collect();
    let mut done: HashMap<String, Arc<Expanded>> = HashMap::new();
    let mut failed = Vec::new();

    fn resolve(
        name: &str,
        raw: &HashMap<&str, &str>,
        done: &mut HashMap<String, Arc<Expanded>>,
        base: &dyn Fn(&str) -> Option<Arc<Expanded>>,
        depth: usize,
    ) -> Result<Option<Arc<Expanded>>, String> {
        if let Some(e) = done.get(name) {
            return Ok(Some(e.clone()));
        }
        if let Some(b) = base(name) {
            return Ok(Some(b));
        }
        let Some(p) = raw.get(name) else {
            return Ok(None);
        };
        if depth > MAX_EXPANSION_DEPTH {
            return Err(format!("circular dependency: pattern {name}"));
        }
        let e = Arc::new(expand(p, &mut |n: &str| {
            resolve(n, raw, done, base, depth + 1)
        })?);
        done.insert(name.to_string(), e.clone());
        Ok(Some(e))
    }

    for (name, _) in raw {
        if let Err(e) = resolve(name, &raw_map, &mut done, base, 0) {
            failed.push((name.clone(), e));
        }
    }
    (done, failed)
}

static BUILTIN: LazyLock<HashMap<String, Arc<Expanded>>> = LazyLock::new(|| {
    let raw = parse_pattern_text(BUILTIN_PATTERNS);
    expand_set(&raw, &|_| None).0
});

/// A built-in pattern, expanded.
pub fn builtin(name: &str) -> Option<Arc<Expanded>> {
    BUILTIN.get(name).cloned()
}

/// Names of the built-in patterns.
pub fn builtin_names() -> Vec<String> {
    let mut v: Vec<String> = BUILTIN.keys().cloned().collect();
    v.sort();
    v
}

fn is_word(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric()
}

fn is_pattern_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| {
            is_word(c)
                || ((c == b'.' || c == b'-')
                    && i > 0
                    && i + 1 < b.len()
                    && is_word(b[i - 1])
                    && is_word(b[i + 1]))
        })
}

fn is_alias(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| is_word(c) || c == b'.' || c == b'-')
}

fn sanitize(alias: &str) -> String {
    alias
        .bytes()
        .map(|c| if is_word(c) { c as char } else { '_' })
        .collect()
}

struct Ref<'a> {
    name: &'a str,
    alias: Option<String>,
    ty: Option<&'a str>,
}

/// Parses the inside of `%{...}`; `Ok(None)` if it is not a reference (stays literal text).
fn parse_ref(spec: &str) -> Option<Ref<'_>> {
    let mut parts = spec.splitn(3, ':');
    let name = parts.next()?;
    if !is_pattern_name(name) {
        return None;
    }
    let alias = match parts.next() {
        None => {
            return Some(Ref {
                name,
                alias: None,
                ty: None,
            });
        }
        Some(a) if is_alias(a) => sanitize(a),
        Some(_) => return None,
    };
    let ty = match parts.next() {
        None => None,
        Some(t) if is_alias(t) => Some(t),
        Some(_) => return None,
    };
    Some(Ref {
        name,
        alias: Some(alias),
        ty,
    })
}

/// Expands the references in `pattern`; `lookup` finds a referenced pattern (already expanded).
pub fn expand(pattern: &str, lookup: &mut Lookup<'_>) -> Result<Expanded, String> {
    let mut out = Expanded {
        regex: String::with_capacity(pattern.len() * 2),
        types: Vec::new(),
    };
    let mut rest = pattern;
    while let Some(start) = rest.find("%{") {
        let Some(end) = rest[start + 2..].find('}').map(|e| start + 2 + e) else {
            break;
        };
        let spec = &rest[start + 2..end];
        let Some(r) = parse_ref(spec) else {
            out.regex.push_str(&rest[..end + 1]);
            rest = &rest[end + 1..];
            continue;
        };
        let ty = match r.ty {
            None => None,
            Some(t) => match GType::parse(t) {
                Some(t) => Some(t),
                None => return Err(format!("invalid pattern `%{{{spec}}}`")),
            },
        };
        let Some(sub) = lookup(r.name)? else {
            return Err(format!("no pattern foud for %{{{}}}", r.name));
        };
        for (n, t) in &sub.types {
            out.add_type(n, *t, false);
        }
        out.regex.push_str(&rest[..start]);
        match &r.alias {
            Some(a) => {
                out.regex.push_str("(?P<");
                out.regex.push_str(a);
                out.regex.push('>');
                out.regex.push_str(&sub.regex);
                out.regex.push(')');
                if let Some(t) = ty {
                    out.add_type(a, t, true);
                }
            }
            None => {
                out.regex.push_str("(?:");
                out.regex.push_str(&sub.regex);
                out.regex.push(')');
            }
        }
        if out.regex.len() > MAX_EXPANDED_LEN {
            return Err(format!(
                "pattern expands to more than {MAX_EXPANDED_LEN} bytes"
            ));
        }
        rest = &rest[end + 1..];
    }
    out.regex.push_str(rest);
    Ok(out)
}

/// Script-local patterns from `add_pattern`, one scope per block.
#[derive(Debug, Default)]
pub struct PatternScope {
    scopes: Vec<Vec<(String, Arc<Expanded>)>>,
}

impl PatternScope {
    pub fn push(&mut self) {
        self.scopes.push(Vec::new());
    }
    pub fn pop(&mut self) {
        self.scopes.pop();
    }
    pub fn add(&mut self, name: String, e: Arc<Expanded>) {
        if self.scopes.is_empty() {
            self.scopes.push(Vec::new());
        }
        if let Some(s) = self.scopes.last_mut() {
            s.retain(|(n, _)| *n != name);
            s.push((name, e));
        }
    }
    /// Every pattern name visible in the current scopes.
    pub fn names(&self) -> Vec<String> {
        self.scopes
            .iter()
            .flat_map(|s| s.iter().map(|(n, _)| n.clone()))
            .collect()
    }
    pub fn get(&self, name: &str) -> Option<Arc<Expanded>> {
        self.scopes
            .iter()
            .rev()
            .find_map(|s| s.iter().find(|(n, _)| n == name).map(|(_, e)| e.clone()))
    }
}

/// One capture a grok match writes.
#[derive(Debug, Clone)]
pub struct Cap {
    pub name: Box<str>,
    pub group: usize,
    pub ty: GType,
}

/// A compiled grok pattern.
pub struct GrokRegex {
    re: pcre2::bytes::Regex,
    pub caps: Vec<Cap>,
    pool: Mutex<Vec<pcre2::bytes::CaptureLocations>>,
    /// The pattern as the script wrote it.
    pub source: String,
}

impl std::fmt::Debug for GrokRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrokRegex")
            .field("source", &self.source)
            .field("caps", &self.caps)
            .finish()
    }
}

/// Spans of the captures of one match, in [`GrokRegex::caps`] order.
pub type Spans = SmallVec<[Option<(usize, usize)>; 24]>;

impl GrokRegex {
    /// Compiles an expanded pattern (checked as RE2, run by PCRE2).
    pub fn compile(e: &Expanded, source: &str) -> Result<GrokRegex, String> {
        let t = re2::translate(&e.regex, Engine::Pcre2).map_err(|e| e.0)?;
        // Bound backtracking: a hostile pattern fails to match instead of stalling the run.
        let pattern = format!("(*LIMIT_MATCH={MATCH_LIMIT}){}", t.pattern);
        let re = pcre2::bytes::RegexBuilder::new()
            .utf(true)
            .jit_if_available(true)
            .build(&pattern)
            .map_err(|err| format!("error compiling regexp: {err}: `{}`", e.regex))?;
        // With repeated names the last group of that name decides.
        let mut caps: Vec<Cap> = Vec::new();
        for (i, g) in t.groups.iter().enumerate() {
            let Some(name) = g else { continue };
            let ty = e.type_of(name).unwrap_or(GType::Str);
            match caps.iter_mut().find(|c| &*c.name == name.as_str()) {
                Some(c) => {
                    c.group = i + 1;
                    c.ty = ty;
                }
                None => caps.push(Cap {
                    name: name.as_str().into(),
                    group: i + 1,
                    ty,
                }),
            }
        }
        Ok(GrokRegex {
            re,
            caps,
            pool: Mutex::new(Vec::new()),
            source: source.to_string(),
        })
    }

    /// Searches `text`; on a match fills `spans` (one per capture) and returns true.
    pub fn search(&self, text: &str, spans: &mut Spans) -> bool {
        let mut locs = match self.pool.lock() {
            Ok(mut p) => p.pop(),
            Err(_) => None,
        }
        .unwrap_or_else(|| self.re.capture_locations());
        let found = matches!(
            self.re.captures_read(&mut locs, text.as_bytes()),
            Ok(Some(_))
        );
        if found {
            spans.clear();
            spans.extend(self.caps.iter().map(|c| locs.get(c.group)));
        }
        if let Ok(mut p) = self.pool.lock()
            && p.len() < 64
        {
            p.push(locs);
        }
        found
    }

    pub fn is_match(&self, text: &str) -> bool {
        matches!(self.re.is_match(text.as_bytes()), Ok(true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(p: &str) -> GrokRegex {
        let e = expand(p, &mut |n| Ok(builtin(n))).unwrap();
        GrokRegex::compile(&e, p).unwrap()
    }

    fn run(p: &str, text: &str) -> Option<Vec<(String, PValue)>> {
        let g = compile(p);
        let mut spans = Spans::new();
        if !g.search(text, &mut spans) {
            return None;
        }
        Some(
            g.caps
                .iter()
                .zip(&spans)
                .map(|(c, s)| {
                    (
                        c.name.to_string(),
                        c.ty.convert(s.map(|(a, b)| &text[a..b])),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn all_builtins_expand_and_compile() {
        assert_eq!(BUILTIN.len(), 78);
        for name in builtin_names() {
            let e = builtin(&name).unwrap();
            GrokRegex::compile(&e, &name).unwrap_or_else(|err| panic!("{name}: {err}"));
        }
    }

    #[test]
    fn typed_captures_and_search() {
        let r = run(
            "code=%{INT:code:int} %{NUMBER:f:float}",
            "[svc] code=503 1.5 retry",
        )
        .unwrap();
        assert_eq!(r[0], ("code".into(), PValue::Int(503)));
        assert_eq!(r[1], ("f".into(), PValue::Float(1.5)));
        let r = run("%{NUMBER:n:int}", "12.5").unwrap();
        assert_eq!(r[0].1, PValue::Int(0));
        assert!(run("^%{INT:x}$", "abc").is_none());
    }

    #[test]
    fn nested_captures_and_duplicates() {
        let r = run("%{URIHOST:h}", "example.com:8080").unwrap();
        assert!(r.contains(&("port".into(), PValue::Str("8080".into()))));
        // The last group of a repeated name decides, even when it did not take part.
        let r = run("^(%{INT:v}|%{WORD:v})$", "123").unwrap();
        assert_eq!(r, vec![("v".into(), PValue::Str(String::new()))]);
        let r = run("%{WORD:a.b}", "hello").unwrap();
        assert_eq!(r[0].0, "a_b");
    }

    #[test]
    fn expansion_errors() {
        let e = expand("%{NOPE:x}", &mut |n| Ok(builtin(n))).unwrap_err();
        assert_eq!(e, "no pattern foud for %{NOPE}");
        let e = expand("%{WORD:b:long}", &mut |n| Ok(builtin(n))).unwrap_err();
        assert_eq!(e, "invalid pattern `%{WORD:b:long}`");
        let e = expand("%{WORD:}", &mut |n| Ok(builtin(n))).unwrap();
        assert_eq!(e.regex, "%{WORD:}");
        // Cycles in pattern files are reported, not followed forever.
        let raw = vec![
            ("A".to_string(), "%{B}".to_string()),
            ("B".to_string(), "%{A}".to_string()),
        ];
        let (ok, failed) = expand_set(&raw, &|_| None);
        assert!(ok.is_empty());
        assert_eq!(failed.len(), 2);
    }

    #[test]
    fn syslog_and_apache() {
        let r = run(
            "%{SYSLOGBASE} %{GREEDYDATA:msg}",
            "Nov 14 22:13:20 web01 sshd[1234]: Accepted password",
        )
        .unwrap();
        let get = |k: &str| r.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("program"), Some(PValue::Str("sshd".into())));
        assert_eq!(get("pid"), Some(PValue::Str("1234".into())));
        assert_eq!(get("logsource"), Some(PValue::Str("web01".into())));
        assert_eq!(get("msg"), Some(PValue::Str("Accepted password".into())));
        assert_eq!(get("facility"), Some(PValue::Str(String::new())));
    }
}
