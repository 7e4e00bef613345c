//! Reading TOML config files with positions: syntax errors, wrong types, unknown keys (with
//! "did you mean"), case-insensitive key fallback and `$ENV` expansion, all reported against
//! `file:line:col`.

use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, IntoDeserializer};
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use super::sample::toml_key;
use super::schema::{ConfType, EnvLookup, SectionDoc};
use crate::diag::{Diagnostic, Location};

/// A config file read into memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// One step of a key path inside a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` from segments.
pub fn path_string(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

impl SourceFile {
    pub fn read(path: &Path) -> std::io::Result<SourceFile> {
        Ok(SourceFile {
            path: path.to_path_buf(),
            text: std::fs::read_to_string(path)?,
        })
    }

    pub fn loc(&self, span: Range<usize>) -> Location {
        Location::from_span(&self.path, &self.text, span)
    }

    /// Parses the file, reporting every syntax error. `None` when the file is not valid TOML.
    pub fn parse(&self, diags: &mut Vec<Diagnostic>) -> Option<Spanned<DeTable<'_>>> {
        let (table, errors) = DeTable::parse_recoverable(&self.text);
        if errors.is_empty() {
            return Some(table);
        }
        for e in errors {
            let mut d = Diagnostic::error(format!("invalid TOML: {}", tidy_message(e.message())));
            d = match e.span() {
                Some(span) => {
                    let loc = self.loc(span);
                    if loc.text().starts_with('$') {
                        d = d.with_help(
                            "environment variables are expanded inside strings only: quote the value, e.g. \"$VAR\"",
                        );
                    }
                    d.at(loc)
                }
                None => d.in_file(&self.path),
            };
            diags.push(d);
        }
        None
    }
}

/// Makes toml/serde messages read as config messages (`u64` → `an integer`, ...).
pub fn tidy_message(msg: &str) -> String {
    let mut m = msg.trim().to_string();
    for (from, to) in [
        ("expected u8", "expected an integer (0..=255)"),
        ("expected u16", "expected an integer (0..=65535)"),
        ("expected u32", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a string", "expected a string"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected struct ", "expected a table for "),
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: map", "invalid type: table"),
    ] {
        m = m.replace(from, to);
    }
    m
}

/// Replaces `$VAR` and `${VAR}` in every string value with the variable's value when it is set
/// (unset references are kept as written, as the original agent does). Only string values are
/// touched, so an expansion can never change the TOML structure or shift error positions.
pub fn expand_env(value: &mut DeValue<'_>, env: &EnvLookup<'_>) {
    match value {
        DeValue::String(s) => {
            if s.contains('$')
                && let Some(new) = expand_str(s, env)
            {
                *s = new.into();
            }
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                expand_env(item.get_mut(), env);
            }
        }
        DeValue::Table(t) => {
            for (_, v) in t.iter_mut() {
                expand_env(v.get_mut(), env);
            }
        }
        _ => {}
    }
}

/// Expands variables in one string; `None` when nothing changed.
pub fn expand_str(s: &str, env: &EnvLookup<'_>) -> Option<String> {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        let (name, end) = if b.get(i + 1) == Some(&b'{') {
            match s[i + 2..].find('}') {
                Some(close) => (&s[i + 2..i + 2 + close], i + 3 + close),
                None => {
                    i += 1;
                    continue;
                }
            }
        } else {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            (&s[start..j], j)
        };
        let valid = !name.is_empty()
            && !name.as_bytes()[0].is_ascii_digit()
            && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
        if valid && let Some(v) = env(name) {
            out.push_str(&s[last..i]);
            out.push_str(&v);
            last = end;
            changed = true;
            i = end;
        } else {
            i += 1;
        }
    }
    if !changed {
        return None;
    }
    out.push_str(&s[last..]);
    Some(out)
}

/// The span of the key at `path` (or of its value when `value_span`) inside `root`.
pub fn span_of(
    root: &DeValue<'_>,
    root_span: Range<usize>,
    path: &[Seg],
    value_span: bool,
) -> Range<usize> {
    let mut cur = root;
    let mut span = root_span;
    for (n, seg) in path.iter().enumerate() {
        let last = n + 1 == path.len();
        match (seg, cur) {
            (Seg::Key(k), DeValue::Table(t)) => match t.get_key_value(k.as_str()) {
                Some((key, val)) => {
                    span = if last && !value_span {
                        key.span()
                    } else {
                        val.span()
                    };
                    cur = val.get_ref();
                }
                None => return span,
            },
            (Seg::Index(i), DeValue::Array(a)) => match a.get(*i) {
                Some(val) => {
                    span = val.span();
                    cur = val.get_ref();
                }
                None => return span,
            },
            _ => return span,
        }
    }
    span
}

/// The deepest key path whose value contains `span` (to name the key a type error is about).
pub fn path_at(root: &DeValue<'_>, span: &Range<usize>) -> Vec<Seg> {
    let mut path = Vec::new();
    let mut cur = root;
    'outer: loop {
        match cur {
            DeValue::Table(t) => {
                for (k, v) in t.iter() {
                    let vs = v.span();
                    let ks = k.span();
                    if (vs.start <= span.start && span.end <= vs.end && vs != (0..0))
                        || (ks.start <= span.start && span.end <= ks.end)
                    {
                        path.push(Seg::Key(k.get_ref().to_string()));
                        cur = v.get_ref();
                        continue 'outer;
                    }
                }
                return path;
            }
            DeValue::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    let vs = v.span();
                    if vs.start <= span.start && span.end <= vs.end {
                        path.push(Seg::Index(i));
                        cur = v.get_ref();
                        continue 'outer;
                    }
                }
                return path;
            }
            _ => return path,
        }
    }
}

/// Known keys closest to `unknown`, best first.
pub fn suggest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .map(|k| {
            (
                strsim::jaro_winkler(&unknown.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().map(|(_, k)| k).collect()
}

/// Keys that are accepted for compatibility but have no effect: full path → why.
pub type CompatFn<'a> = dyn Fn(&str) -> Option<&'static str> + 'a;

/// The keys whose value could not be decoded (each keeps its default), so that checks of the
/// decoded config do not report a second, misleading problem about the default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedKeys(Vec<Vec<Seg>>);

impl FailedKeys {
    pub fn add(&mut self, path: Vec<Seg>) {
        self.0.push(path);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a check of the value at `path` would see a default in place of what the file
    /// wrote: `path` failed, lies inside a value that failed, or holds one that failed.
    pub fn touch(&self, path: &[Seg]) -> bool {
        self.0
            .iter()
            .any(|f| f.starts_with(path) || path.starts_with(f))
    }

    /// Forgets the failures at or under `path` (a value set there by other means).
    pub fn forget(&mut self, path: &[Seg]) {
        self.0.retain(|f| !f.starts_with(path));
    }
}

/// The state of decoding one document: where we are, and what we found.
pub struct DecodeCx<'a> {
    pub file: &'a SourceFile,
    /// Path from the document root to the value being decoded.
    pub path: Vec<Seg>,
    pub compat: &'a CompatFn<'a>,
    /// The documentation of the value decoded and the length of its path, to find a key
    /// written in the wrong section.
    pub root: Option<(&'static SectionDoc, usize)>,
    pub diags: &'a mut Vec<Diagnostic>,
    /// Keys whose value failed to decode.
    pub failed: FailedKeys,
}

impl DecodeCx<'_> {
    fn here(&self) -> String {
        path_string(&self.path)
    }

    /// Reports `value` (at the current path) as not of the `expected` type: what it takes,
    /// what was found, and how to write it when that can be said.
    pub fn wrong_type(&mut self, value: &Spanned<DeValue<'_>>, expected: &str) {
        let found = value.get_ref().type_str();
        let loc = self.file.loc(value.span());
        let what = if self.path.is_empty() {
            String::new()
        } else {
            format!("`{}`: ", self.here())
        };
        let mut d = Diagnostic::error(format!(
            "{what}expected {}, found {found}",
            article(expected)
        ))
        .at(loc);
        if let Some(help) = self.type_fix(value, expected) {
            d = d.with_help(help);
        }
        self.diags.push(d);
        self.failed.add(self.path.clone());
    }

    /// How to write a value of the wrong type as the key wants it, when that can be said.
    fn type_fix(&self, value: &Spanned<DeValue<'_>>, expected: &str) -> Option<String> {
        let header = header_path(&self.path);
        let scalar = !matches!(value.get_ref(), DeValue::Array(_) | DeValue::Table(_));
        let written = self
            .file
            .text
            .get(value.span())
            .filter(|t| !t.contains('\n'));
        if expected == "array of tables" {
            return (!header.is_empty())
                .then(|| format!("write each entry as a table under its own [[{header}]] header"));
        }
        if expected.starts_with("array") && scalar {
            return written.map(|w| format!("write it as an array: [{w}]"));
        }
        if expected.starts_with("table") && !header.is_empty() {
            return Some(format!(
                "write it as a table: its keys under a [{header}] header"
            ));
        }
        None
    }

    /// The entries of a table value, or an error when the value is not a table.
    pub fn expect_table<'v>(&mut self, value: Spanned<DeValue<'v>>) -> Option<DeTable<'v>> {
        if !value.get_ref().is_table() {
            self.wrong_type(&value, "table");
            return None;
        }
        match value.into_inner() {
            DeValue::Table(t) => Some(t),
            _ => None,
        }
    }

    /// Maps a key found in a table of `doc` to the field it sets: exact, an old alias, or a
    /// different letter case (accepted with a warning, as the original reads keys
    /// case-insensitively). Unknown keys get a warning with the closest known key.
    pub fn resolve_key(
        &mut self,
        doc: &'static SectionDoc,
        key: &Spanned<DeString<'_>>,
    ) -> Option<&'static str> {
        let k: &str = key.get_ref();
        if let Some(kd) = doc
            .keys
            .iter()
            .find(|d| d.key() == k || d.aliases.contains(&k))
        {
            return Some(kd.key());
        }
        let mut full = self.path.clone();
        full.push(Seg::Key(k.to_string()));
        let full = path_string(&full);
        if let Some(kd) = doc.keys.iter().find(|d| d.key().eq_ignore_ascii_case(k)) {
            self.diags.push(
                Diagnostic::warning(format!(
                    "key `{full}` is written with the wrong letter case; read as `{}`",
                    kd.key()
                ))
                .at(self.file.loc(key.span()))
                .with_help(format!("write it as `{}`", kd.key())),
            );
            return Some(kd.key());
        }
        if let Some(why) = (self.compat)(&full) {
            self.diags.push(
                Diagnostic::warning(format!("`{full}` has no effect in this agent"))
                    .at(self.file.loc(key.span()))
                    .with_help(why),
            );
            return None;
        }
        let d = Diagnostic::warning(format!("unknown key `{full}`, ignored"))
            .at(self.file.loc(key.span()))
            .with_help(self.unknown_key_help(doc, k));
        self.diags.push(d);
        None
    }

    /// What to say about unknown key `k` in section `doc`: the key of the same name in another
    /// section, else the closest key of this section, else every key of this section.
    fn unknown_key_help(&self, doc: &'static SectionDoc, k: &str) -> String {
        if let Some((root, depth)) = self.root {
            let base = &self.path[..depth.min(self.path.len())];
            let mut found = Vec::new();
            let base_array = matches!(base.last(), Some(Seg::Index(_)));
            find_key(root, &header_path(base), base_array, k, &mut found);
            let here = header_path(&self.path);
            found.retain(|(section, _)| *section != here);
            let full = |section: &str| match section {
                "" => format!("`{}`", toml_key(k)),
                s => format!("`{s}.{}`", toml_key(k)),
            };
            match found.as_slice() {
                [] => {}
                [(section, _)] if section.is_empty() => {
                    return format!(
                        "did you mean {}? It is a top-level key: write it before the first [section]",
                        full(section)
                    );
                }
                [(section, true)] => {
                    return format!(
                        "did you mean {}? It belongs under a [[{section}]] header",
                        full(section)
                    );
                }
                [(section, false)] => {
                    return format!(
                        "did you mean {}? It belongs under the [{section}] header",
                        full(section)
                    );
                }
                [first @ .., last] => {
                    let names: Vec<String> = first.iter().map(|(s, _)| full(s)).collect();
                    return format!(
                        "did you mean {} or {}? Each belongs under its own section's header",
                        names.join(", "),
                        full(&last.0)
                    );
                }
            }
        }
        let near = suggest(k, doc.keys.iter().map(|d| d.key()));
        if let Some(best) = near.first() {
            return format!("did you mean `{best}`?");
        }
        let all: Vec<_> = doc.keys.iter().map(|d| d.key()).collect();
        if all.is_empty() {
            "this table takes no keys".to_string()
        } else {
            format!("known keys here: {}", all.join(", "))
        }
    }
}

/// A key path as a TOML header writes it: `inputs.cpu.tags` (instances are not indexed).
fn header_path(path: &[Seg]) -> String {
    path.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(toml_key(k)),
            Seg::Index(_) => None,
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Every section under `doc` (itself at `at`) that has key `k` in any letter case: (header
/// path, whether it is an array of tables).
fn find_key(
    doc: &'static SectionDoc,
    at: &str,
    table_array: bool,
    k: &str,
    out: &mut Vec<(String, bool)>,
) {
    if doc.keys.iter().any(|d| d.key().eq_ignore_ascii_case(k)) {
        out.push((at.to_string(), table_array));
    }
    for kd in doc.keys {
        if let Some(sub) = (kd.section)() {
            let path = if at.is_empty() {
                toml_key(kd.key())
            } else {
                format!("{at}.{}", toml_key(kd.key()))
            };
            let array = (kd.type_name)().starts_with("array");
            find_key(sub, &path, array, k, out);
        }
    }
}

fn article(what: &str) -> String {
    let vowel = what.starts_with(['a', 'e', 'i', 'o', 'u']);
    if what.starts_with("array") || what.starts_with("table") || !what.contains(' ') {
        format!("{} {what}", if vowel { "an" } else { "a" })
    } else {
        what.to_string()
    }
}

/// Decodes a plain value with serde, reporting a type error at the value.
pub fn decode_with_serde<T: DeserializeOwned + ConfType>(
    value: Spanned<DeValue<'_>>,
    cx: &mut DecodeCx<'_>,
) -> Option<T> {
    let span = value.span();
    let found = value.get_ref().type_str();
    match T::deserialize(value.into_deserializer()) {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = tidy_message(e.message());
            let at = e.span().unwrap_or(span.clone());
            let what = if cx.path.is_empty() {
                String::new()
            } else {
                format!("`{}`: ", cx.here())
            };
            let mut d = Diagnostic::error(format!("{what}{msg}")).at(cx.file.loc(at.clone()));
            if msg.starts_with("invalid type") {
                // An error inside the value (an element of an array) is marked there: what was
                // found is in the message, not the type of the whole value.
                let found = if at == span {
                    format!(" (found {found})")
                } else {
                    String::new()
                };
                d = d.with_help(format!(
                    "this key takes {}{found}",
                    article(&T::type_name())
                ));
            }
            cx.diags.push(d);
            cx.failed.add(cx.path.clone());
            None
        }
    }
}

/// Where a value being decoded sits in its file.
pub struct DecodeSite<'a> {
    pub file: &'a SourceFile,
    /// Path from the document root to the value, for messages (`inputs.cpu[0]`).
    pub path: Vec<Seg>,
    /// Keys that are accepted for compatibility but have no effect.
    pub compat: &'a CompatFn<'a>,
}

/// What [`decode`] read.
#[derive(Debug)]
pub struct Decoded<T> {
    /// `None` when the value is not a table at all.
    pub value: Option<T>,
    /// Keys that failed to decode and kept their default.
    pub failed: FailedKeys,
}

/// Decodes `value` into `T`, reporting every type error as an error at its position and every
/// key `T` does not know as a warning (with "did you mean" when a known key is close).
/// A key that fails to decode keeps its default, so one bad key does not hide the others;
/// callers tell success from the errors added to `diags`, and leave the keys in `failed` out of
/// further checks.
pub fn decode<T: DeserializeOwned + ConfType>(
    value: Spanned<DeValue<'_>>,
    site: &DecodeSite<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Decoded<T> {
    let mut cx = DecodeCx {
        file: site.file,
        path: site.path.clone(),
        compat: site.compat,
        root: T::section().map(|doc| (doc, site.path.len())),
        diags,
        failed: FailedKeys::default(),
    };
    let value = T::decode_conf(value, &mut cx);
    Decoded {
        value,
        failed: cx.failed,
    }
}

/// `a.b[2].c` → segments.
pub fn parse_key_path(key: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    for part in key.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Seg::Key(name.to_string()));
        }
        while let Some(close) = rest.find(']') {
            if let Ok(i) = rest[1..close].parse() {
                out.push(Seg::Index(i));
            }
            rest = &rest[close + 1..];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_parse() {
        assert_eq!(
            parse_key_path("a.b[2].c"),
            vec![
                Seg::Key("a".into()),
                Seg::Key("b".into()),
                Seg::Index(2),
                Seg::Key("c".into())
            ]
        );
        assert_eq!(
            parse_key_path("x[0][1]"),
            vec![Seg::Key("x".into()), Seg::Index(0), Seg::Index(1)]
        );
    }

    #[test]
    fn expands_set_variables_only() {
        let env = |k: &str| match k {
            "HOME_DIR" => Some("/home/x".to_string()),
            "N" => Some("3".to_string()),
            _ => None,
        };
        assert_eq!(
            expand_str("$HOME_DIR/log", &env).as_deref(),
            Some("/home/x/log")
        );
        assert_eq!(
            expand_str("${HOME_DIR}x${N}", &env).as_deref(),
            Some("/home/xx3")
        );
        assert_eq!(
            expand_str("$UNSET and $N", &env).as_deref(),
            Some("$UNSET and 3")
        );
        assert_eq!(expand_str("^abc$", &env), None);
        assert_eq!(expand_str("${unclosed", &env), None);
        assert_eq!(expand_str("$datakit_hostname", &env), None);
        assert_eq!(expand_str("$1$N", &env).as_deref(), Some("$13"));
    }

    #[test]
    fn suggestions_rank_close_keys() {
        let known = ["listen", "listen_socket", "timeout", "public_apis"];
        assert_eq!(suggest("listne", known)[0], "listen");
        assert_eq!(suggest("publicapis", known)[0], "public_apis");
        assert!(suggest("zzzz", known).is_empty());
    }

    #[test]
    fn failed_keys_touch_what_holds_them_and_what_they_hold() {
        let mut f = FailedKeys::default();
        f.add(parse_key_path("dataway.urls"));
        assert!(f.touch(&parse_key_path("dataway.urls")));
        assert!(f.touch(&parse_key_path("dataway.urls[0]")));
        assert!(f.touch(&parse_key_path("dataway")));
        assert!(!f.touch(&parse_key_path("dataway.url")));
        assert!(!f.touch(&parse_key_path("election.backend")));
        f.forget(&parse_key_path("dataway"));
        assert!(f.is_empty());
    }

    #[test]
    fn tidies_rust_type_names() {
        assert_eq!(
            tidy_message("invalid type: string \"x\", expected u64"),
            "invalid type: string \"x\", expected a non-negative integer"
        );
    }
}
