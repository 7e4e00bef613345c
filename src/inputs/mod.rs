//! Inputs (collectors): their metadata as data, and the registry that maps an input name in
//! `[[inputs.NAME]]` to its typed options.

use std::any::Any;
use std::fmt::Debug;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

use crate::config::decode::{self, DecodeSite, Seg};
use crate::config::diag::{Diagnostic, Severity};
use crate::config::duration::Dur;
use crate::config::schema::{ConfType, SectionDoc};

#[cfg(feature = "test-inputs")]
pub mod testing;

/// The range protect mode keeps an input's interval in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntervalLimits {
    pub min: Duration,
    pub max: Duration,
}

/// What an input is, as data: read by `check-config`, the docs and the samples.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The name in `[[inputs.NAME]]`.
    pub name: &'static str,
    /// Group in docs (`host`, `log`, `prom`, `self`, ...).
    pub catalog: &'static str,
    /// One line for lists.
    pub description: &'static str,
    /// Only one instance may run; further instances are ignored with a warning.
    pub singleton: bool,
    /// Part of the default `default_enabled_inputs`.
    pub default_enabled: bool,
    /// The allowed interval range under protect mode, when the input has an interval.
    pub interval: Option<IntervalLimits>,
}

/// Problems an input finds in its own options beyond their types (a bad regex, a value out of
/// range). Keys are relative to the instance: `interval`, `logfiles[1]`, `tags.env`.
#[derive(Debug, Default)]
pub struct Validation {
    pub issues: Vec<(Severity, String, String)>,
}

impl Validation {
    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.issues
            .push((Severity::Error, key.to_string(), message.into()));
    }
    pub fn warning(&mut self, key: &str, message: impl Into<String>) {
        self.issues
            .push((Severity::Warning, key.to_string(), message.into()));
    }
}

/// An input's decoded options.
pub trait InputConfig: Debug + Send + Sync + Any {
    /// The collection interval, for inputs that have one.
    fn interval(&self) -> Option<Dur> {
        None
    }
    fn set_interval(&mut self, _interval: Dur) {}
    /// Semantic checks beyond types.
    fn validate(&self, _v: &mut Validation) {}
    fn as_any(&self) -> &dyn Any;
}

/// Decodes one `[[inputs.NAME]]` table into the input's options.
pub type DecodeFn =
    fn(Spanned<DeValue<'_>>, &DecodeSite<'_>, &mut Vec<Diagnostic>) -> Option<Box<dyn InputConfig>>;

/// An input in the registry.
pub struct InputEntry {
    pub spec: InputSpec,
    /// Documentation of the input's options.
    pub options: fn() -> Option<&'static SectionDoc>,
    /// The options an instance gets from `default_enabled_inputs`.
    pub default_config: fn() -> Box<dyn InputConfig>,
    /// Decodes one `[[inputs.NAME]]` table, reporting problems against the file.
    pub decode: DecodeFn,
    /// The default options as a TOML table (the body of the sample config).
    pub default_toml: fn() -> Result<toml::Table, toml::ser::Error>,
}

impl std::fmt::Debug for InputEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputEntry")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// A registry entry for options type `T`.
pub const fn entry<T>(spec: InputSpec) -> InputEntry
where
    T: InputConfig + ConfType + DeserializeOwned + Serialize + Default,
{
    InputEntry {
        spec,
        options: <T as ConfType>::section,
        default_config: default_boxed::<T>,
        decode: decode_input::<T>,
        default_toml: default_toml::<T>,
    }
}

fn default_boxed<T: InputConfig + Default>() -> Box<dyn InputConfig> {
    Box::new(T::default())
}

fn default_toml<T: Serialize + Default>() -> Result<toml::Table, toml::ser::Error> {
    toml::Table::try_from(T::default())
}

fn decode_input<T>(
    value: Spanned<DeValue<'_>>,
    site: &DecodeSite<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Option<Box<dyn InputConfig>>
where
    T: InputConfig + ConfType + DeserializeOwned,
{
    if !value.get_ref().is_table() {
        diags.push(
            Diagnostic::error(format!(
                "`{}` must be a table, found {}",
                decode::path_string(&site.path),
                value.get_ref().type_str()
            ))
            .at(site.file.loc(value.span())),
        );
        return None;
    }
    let tree = value.get_ref().clone();
    let span = value.span();
    let errors_before = diags.iter().filter(|d| d.is_error()).count();
    let cfg: T = decode::decode(value, site, diags)?;
    let mut failed = diags.iter().filter(|d| d.is_error()).count() > errors_before;
    let mut v = Validation::default();
    cfg.validate(&mut v);
    for (sev, key, msg) in v.issues {
        let rel = parse_key_path(&key);
        let mut full = site.path.clone();
        full.extend(rel.iter().cloned());
        let at = decode::span_of(&tree, span.clone(), &rel, true);
        let text = format!("`{}`: {msg}", decode::path_string(&full));
        let d = match sev {
            Severity::Error => {
                failed = true;
                Diagnostic::error(text)
            }
            Severity::Warning => Diagnostic::warning(text),
        };
        diags.push(d.at(site.file.loc(at)));
    }
    (!failed).then(|| Box::new(cfg) as Box<dyn InputConfig>)
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

static ENTRIES: &[InputEntry] = &[
    #[cfg(feature = "test-inputs")]
    testing::TEST_INPUT,
    #[cfg(feature = "test-inputs")]
    testing::TEST_SINGLETON,
];

/// Every input compiled into this binary.
pub fn registry() -> &'static [InputEntry] {
    ENTRIES
}

/// The input called `name`.
pub fn find(name: &str) -> Option<&'static InputEntry> {
    ENTRIES.iter().find(|e| e.spec.name == name)
}

/// The inputs enabled by default (the default of `default_enabled_inputs`).
pub fn default_enabled_names() -> Vec<String> {
    let mut v: Vec<String> = ENTRIES
        .iter()
        .filter(|e| e.spec.default_enabled)
        .map(|e| e.spec.name.to_string())
        .collect();
    v.sort();
    v
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
}
