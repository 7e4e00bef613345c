//! Input instances from `conf.d/`: every `*.conf` file's `[[inputs.NAME]]` tables decoded with
//! the registry's types, protect mode applied to intervals, `default_enabled_inputs` added, and
//! every finding reported against its file, line and column. The main config is loaded first
//! by [`crate::config::load`]; the registry is passed in, so the config layer knows nothing of
//! inputs.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{InputConfig, InputEntry};
use crate::config::decode::{self, DecodeSite, Seg, SourceFile};
use crate::config::load::{
    FileReport, LoadOptions, MainSource, discover, load_main, main_from_source,
};
use crate::config::schema::{EnvLookup, EnvOverride};
use crate::config::{Dur, MainConfig};
use crate::diag::{Diagnostic, Severity};
use crate::workdir::Workdir;

/// Where an input instance comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `[[inputs.NAME]]` number `index` (0-based) in `path`, starting at `line`.
    File {
        path: PathBuf,
        line: usize,
        index: usize,
    },
    /// Started from `default_enabled_inputs` with its default options.
    DefaultEnabled,
}

/// One input instance ready to run.
#[derive(Debug)]
pub struct InputInstance {
    pub entry: &'static InputEntry,
    pub origin: Origin,
    pub config: Box<dyn InputConfig>,
    /// Changes exactly when the decoded options change (for reloads).
    pub fingerprint: u64,
}

impl InputInstance {
    pub fn name(&self) -> &'static str {
        self.entry.spec.name
    }
}

/// Everything loaded, and every finding.
#[derive(Debug)]
pub struct Loaded {
    pub main: MainConfig,
    pub main_source: MainSource,
    pub instances: Vec<InputInstance>,
    /// The main config first, then input files in path order.
    pub files: Vec<FileReport>,
    pub diagnostics: Vec<Diagnostic>,
    /// `ENV_*` variables that were applied.
    pub env_overrides: Vec<EnvOverride>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Whether `d` is about an input config file (not datakit.conf or the environment).
    fn in_input_file(&self, d: &Diagnostic) -> bool {
        let main = self.files.first().map(|f| f.path.as_path());
        d.file.as_deref().is_some_and(|f| Some(f) != main)
    }

    /// Errors the agent cannot start with: in datakit.conf or the `ENV_*` variables.
    pub fn main_errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.is_error() && !self.in_input_file(d))
            .count()
    }

    /// Errors in input config files: the inputs they concern are skipped, the rest run.
    pub fn input_errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.is_error() && self.in_input_file(d))
            .count()
    }
}

/// Loads the main config and all input configs of `workdir`, decoding inputs with `registry`.
pub fn load(workdir: &Workdir, opts: &LoadOptions<'_>, registry: &'static [InputEntry]) -> Loaded {
    let mut diags = Vec::new();
    let main_path = workdir.main_conf();
    let names: Vec<&str> = registry.iter().map(|e| e.spec.name).collect();
    let opts = LoadOptions {
        env: opts.env,
        log: opts.log.clone(),
        log_level: opts.log_level.clone(),
        input_names: Some(&names),
    };
    let (main, main_source, env_overrides, main_report) = load_main(&main_path, &opts, &mut diags);
    let mut files = vec![main_report];
    let instances = load_inputs(
        &workdir.conf_d(),
        &main_path,
        &main,
        opts.env,
        registry,
        &mut files,
        &mut diags,
    );
    // Count findings per file.
    for f in files.iter_mut() {
        for d in diags
            .iter()
            .filter(|d| d.file.as_deref() == Some(f.path.as_path()))
        {
            match d.severity {
                Severity::Error => f.errors += 1,
                Severity::Warning => f.warnings += 1,
            }
        }
    }
    Loaded {
        main,
        main_source,
        instances,
        files,
        diagnostics: diags,
        env_overrides,
    }
}

fn fingerprint(name: &str, cfg: &dyn InputConfig) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    format!("{cfg:?}").hash(&mut h);
    h.finish()
}

/// Loads every input config under `conf_d`, then adds `default_enabled_inputs`.
pub fn load_inputs(
    conf_d: &Path,
    main_conf: &Path,
    main: &MainConfig,
    env: &EnvLookup<'_>,
    registry: &'static [InputEntry],
    reports: &mut Vec<FileReport>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<InputInstance> {
    let (paths, walk_diags) = discover(conf_d, main_conf);
    diags.extend(walk_diags);
    let mut instances: Vec<InputInstance> = Vec::new();
    let mut by_content: HashMap<u64, PathBuf> = HashMap::new();
    let disabled: Vec<&str> = main
        .default_enabled_inputs
        .iter()
        .filter_map(|n| n.strip_prefix('-'))
        .collect();

    for path in paths {
        let mut report = FileReport {
            path: path.clone(),
            ..Default::default()
        };
        let file = match SourceFile::read(&path) {
            Ok(f) => f,
            Err(e) => {
                diags.push(Diagnostic::error(format!("cannot read: {e}")).in_file(&path));
                reports.push(report);
                continue;
            }
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        file.text.hash(&mut h);
        if let Some(first) = by_content.get(&h.finish()) {
            report.note = Some(format!("same content as {}: skipped", first.display()));
            diags.push(
                Diagnostic::warning(format!(
                    "same content as {}: its inputs are loaded once",
                    first.display()
                ))
                .in_file(&path),
            );
            reports.push(report);
            continue;
        }
        by_content.insert(h.finish(), path.clone());
        let Some(table) = file.parse(diags) else {
            reports.push(report);
            continue;
        };
        load_file(
            &file,
            table,
            &Context {
                main,
                env,
                disabled: &disabled,
                registry,
            },
            &mut instances,
            &mut report,
            diags,
        );
        if report.inputs.is_empty() && report.note.is_none() {
            report.note = Some("no inputs".into());
            diags.push(Diagnostic::warning("no [[inputs.NAME]] table in this file").in_file(&path));
        }
        reports.push(report);
    }

    // default_enabled_inputs: inputs nobody configured run with their defaults.
    for name in &main.default_enabled_inputs {
        if name.starts_with('-') {
            continue;
        }
        let Some(entry) = registry.iter().find(|e| e.spec.name == name) else {
            continue;
        };
        if instances.iter().any(|i| i.name() == entry.spec.name) {
            continue;
        }
        let config = (entry.default_config)();
        instances.push(InputInstance {
            entry,
            origin: Origin::DefaultEnabled,
            fingerprint: fingerprint(entry.spec.name, config.as_ref()),
            config,
        });
    }
    instances
}

/// What decoding a file's inputs needs besides the file.
struct Context<'a> {
    main: &'a MainConfig,
    env: &'a EnvLookup<'a>,
    /// Inputs turned off by `-NAME` in `default_enabled_inputs`.
    disabled: &'a [&'a str],
    registry: &'static [InputEntry],
}

fn load_file(
    file: &SourceFile,
    table: Spanned<DeTable<'_>>,
    cx: &Context<'_>,
    instances: &mut Vec<InputInstance>,
    report: &mut FileReport,
    diags: &mut Vec<Diagnostic>,
) {
    let Context {
        main,
        env,
        disabled,
        registry,
    } = *cx;
    for (key, value) in table.into_inner() {
        let key_span = key.span();
        let key = key.into_inner();
        if key != "inputs" {
            diags.push(
                Diagnostic::warning(format!("top-level key `{key}` ignored"))
                    .at(file.loc(key_span))
                    .with_help(top_level_key_help(&key, registry)),
            );
            continue;
        }
        let value_span = value.span();
        let DeValue::Table(per_input) = value.into_inner() else {
            diags.push(
                Diagnostic::error("`inputs` must be a table of inputs, e.g. [[inputs.cpu]]")
                    .at(file.loc(value_span)),
            );
            continue;
        };
        for (name, value) in per_input {
            let name_span = name.span();
            let name = name.into_inner().into_owned();
            let Some(entry) = registry.iter().find(|e| e.spec.name == name) else {
                let known: Vec<&str> = registry.iter().map(|e| e.spec.name).collect();
                let near = decode::suggest(&name, known.iter().copied());
                let help = if !near.is_empty() {
                    format!(
                        "did you mean {}?",
                        near.iter()
                            .take(3)
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                } else if known.is_empty() {
                    "this build has no inputs".to_string()
                } else {
                    format!("known inputs: {}", known.join(", "))
                };
                diags.push(
                    Diagnostic::error(format!("unknown input `{name}`"))
                        .at(file.loc(name_span))
                        .with_help(help),
                );
                report.inputs.push((name, 0));
                continue;
            };
            let tables: Vec<(Vec<Seg>, Spanned<DeValue<'_>>)> = match value.into_inner() {
                DeValue::Array(arr) => arr
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        (
                            vec![
                                Seg::Key("inputs".into()),
                                Seg::Key(name.clone()),
                                Seg::Index(i),
                            ],
                            v,
                        )
                    })
                    .collect(),
                other => vec![(
                    vec![Seg::Key("inputs".into()), Seg::Key(name.clone())],
                    Spanned::new(name_span.clone(), other),
                )],
            };
            let count = tables.len();
            for (index, (path, mut value)) in tables.into_iter().enumerate() {
                let line = file.loc(value.span()).line;
                decode::expand_env(value.get_mut(), env);
                let key_spans: Vec<(String, std::ops::Range<usize>)> = match value.get_ref() {
                    DeValue::Table(t) => t
                        .iter()
                        .map(|(k, v)| (k.get_ref().to_string(), v.span()))
                        .collect(),
                    _ => Vec::new(),
                };
                let interval_span = key_spans
                    .iter()
                    .find(|(k, _)| k == "interval")
                    .map(|(_, s)| s.clone());
                let header_span = value.span();
                let under = format!("{}.", decode::path_string(&path));
                let compat = |full: &str| full.strip_prefix(&under).and_then(entry.compat);
                let site = DecodeSite {
                    file,
                    path: path.clone(),
                    compat: &compat,
                };
                let Some(mut config) = (entry.decode)(value, &site, diags) else {
                    continue;
                };
                let at = interval_span.clone().unwrap_or(header_span.clone());
                if disabled.contains(&entry.spec.name) {
                    diags.push(
                        Diagnostic::warning(format!(
                            "input `{}` is disabled by `-{}` in default_enabled_inputs",
                            entry.spec.name, entry.spec.name
                        ))
                        .at(file.loc(name_span.clone())),
                    );
                    continue;
                }
                if main.protect_mode {
                    protect_interval(entry, config.as_mut(), file, at, diags);
                    protect_extra_intervals(
                        entry.spec.name,
                        config.as_mut(),
                        file,
                        &key_spans,
                        header_span.clone(),
                        diags,
                    );
                }
                if entry.spec.singleton && instances.iter().any(|i| i.name() == entry.spec.name) {
                    diags.push(
                        Diagnostic::warning(format!(
                            "`{}` can run only once; this instance is ignored",
                            entry.spec.name
                        ))
                        .at(file.loc(header_span))
                        .with_help(format!(
                            "keep a single [[inputs.{}]] table across conf.d",
                            entry.spec.name
                        )),
                    );
                    continue;
                }
                instances.push(InputInstance {
                    entry,
                    origin: Origin::File {
                        path: file.path.clone(),
                        line,
                        index,
                    },
                    fingerprint: fingerprint(entry.spec.name, config.as_ref()),
                    config,
                });
            }
            report.inputs.push((name, count));
        }
    }
}

/// What to say about a top-level key other than `inputs` in an input config file.
fn top_level_key_help(key: &str, registry: &[InputEntry]) -> String {
    if !decode::suggest(key, ["inputs"]).is_empty() {
        return "did you mean `inputs`? Input tables are written [[inputs.NAME]]".into();
    }
    let names = registry.iter().map(|e| e.spec.name);
    if let Some(name) = decode::suggest(key, names).first() {
        return format!(
            "did you mean `[[inputs.{name}]]`? An input's table is written under `inputs.`"
        );
    }
    "input config files hold [[inputs.NAME]] tables only; main settings belong in datakit.conf"
        .into()
}

/// Protect mode: an interval outside the input's range is moved into it, with a warning.
fn protect_interval(
    entry: &InputEntry,
    config: &mut dyn InputConfig,
    file: &SourceFile,
    at: std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let (Some(limits), Some(cur)) = (entry.spec.interval, config.interval()) else {
        return;
    };
    let fixed = cur.get().clamp(limits.min, limits.max);
    if fixed == cur.get() {
        return;
    }
    let (word, bound) = if fixed > cur.get() {
        ("raised", "minimum")
    } else {
        ("lowered", "maximum")
    };
    let new = Dur(fixed);
    config.set_interval(new);
    diags.push(
        Diagnostic::warning(format!(
            "interval {cur} of `{}` is {word} to {new}, the input's {bound}",
            entry.spec.name
        ))
        .at(file.loc(at))
        .with_help("protect mode keeps intervals in each input's allowed range; set `protect_mode = false` in datakit.conf to allow it"),
    );
}

/// Protect mode for an input's further intervals (`InputConfig::extra_intervals`).
fn protect_extra_intervals(
    name: &str,
    config: &mut dyn InputConfig,
    file: &SourceFile,
    spans: &[(String, std::ops::Range<usize>)],
    header: std::ops::Range<usize>,
    diags: &mut Vec<Diagnostic>,
) {
    for (key, cur, limits) in config.extra_intervals() {
        let fixed = cur.get().clamp(limits.min, limits.max);
        if fixed == cur.get() {
            continue;
        }
        let (word, bound) = if fixed > cur.get() {
            ("raised", "minimum")
        } else {
            ("lowered", "maximum")
        };
        let old = *cur;
        *cur = Dur(fixed);
        let at = spans
            .iter()
            .find(|(k, _)| k == key)
            .map_or(header.clone(), |(_, s)| s.clone());
        diags.push(
            Diagnostic::warning(format!(
                "{key} {old} of `{name}` is {word} to {}, the input's {bound}",
                Dur(fixed)
            ))
            .at(file.loc(at))
            .with_help("protect mode keeps intervals in each input's allowed range; set `protect_mode = false` in datakit.conf to allow it"),
        );
    }
}

/// Runs `text` through the main-config loader and the input-config loader, in memory.
/// For the fuzz target: any input must produce diagnostics, never a panic.
#[doc(hidden)]
pub fn fuzz_one(text: &str) -> usize {
    let mut diags = Vec::new();
    let no_env = |_: &str| None;
    let opts = LoadOptions {
        env: &no_env,
        log: None,
        log_level: None,
        input_names: None,
    };
    let file = SourceFile {
        path: PathBuf::from("fuzz/datakit.conf"),
        text: text.to_string(),
    };
    let (main, _) = main_from_source(Some(&file), &opts, &mut diags);
    let mut instances = Vec::new();
    let mut report = FileReport::default();
    if let Some(table) = file.parse(&mut diags) {
        load_file(
            &file,
            table,
            &Context {
                main: &main,
                env: &no_env,
                disabled: &[],
                registry: super::registry(),
            },
            &mut instances,
            &mut report,
            &mut diags,
        );
    }
    for d in &diags {
        let _ = d.render(false);
    }
    diags.len() + instances.len()
}

/// Decodes `text` as a conf.d file holding `[[inputs.NAME]]`: the first instance of `name`,
/// and every diagnostic rendered. For the inputs' tests.
#[cfg(test)]
pub fn decode_for_test(name: &str, text: &str) -> (Option<Box<dyn InputConfig>>, Vec<String>) {
    let mut diags = Vec::new();
    let no_env = |_: &str| None;
    let main = MainConfig::default();
    let file = SourceFile {
        path: PathBuf::from("conf.d/test.conf"),
        text: text.to_string(),
    };
    let mut instances = Vec::new();
    let mut report = FileReport::default();
    if let Some(table) = file.parse(&mut diags) {
        load_file(
            &file,
            table,
            &Context {
                main: &main,
                env: &no_env,
                disabled: &[],
                registry: super::registry(),
            },
            &mut instances,
            &mut report,
            &mut diags,
        );
    }
    let found = instances
        .into_iter()
        .find(|i| i.name() == name)
        .map(|i| i.config);
    (found, diags.iter().map(|d| d.render(false)).collect())
}
