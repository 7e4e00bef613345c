//! Loading the whole configuration: `conf.d/datakit.conf`, the `ENV_*` overrides, command-line
//! flags, and every input config under `conf.d/`, collecting all findings at once.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::decode::{self, DecodeSite, Seg, SourceFile};
use super::main_conf::{MainConfig, compat_key};
use super::schema::{EnvLookup, EnvOverride};
use super::validate;
use crate::diag::{Diagnostic, Severity};
use crate::inputs::{self, InputConfig, InputEntry};
use crate::workdir::Workdir;

/// How to load.
pub struct LoadOptions<'a> {
    /// Environment lookup (`std::env::var` in the binary; a map in tests).
    pub env: &'a EnvLookup<'a>,
    /// `--log`: overrides `[logging] log` and `ENV_LOG`.
    pub log: Option<String>,
    /// `--log-level`: overrides `[logging] level` and `ENV_LOG_LEVEL`.
    pub log_level: Option<String>,
}

impl LoadOptions<'_> {
    /// Options reading the process environment, with no flag overrides.
    pub fn from_process_env() -> LoadOptions<'static> {
        LoadOptions {
            env: &process_env,
            log: None,
            log_level: None,
        }
    }
}

/// Reads a variable of the process environment (`None` when unset or not UTF-8).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

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

/// What one file held, for `check-config`.
#[derive(Debug, Clone, Default)]
pub struct FileReport {
    pub path: PathBuf,
    /// Input name → instances found in the file.
    pub inputs: Vec<(String, usize)>,
    pub errors: usize,
    pub warnings: usize,
    /// A remark on the file as a whole (missing, duplicate, no inputs).
    pub note: Option<String>,
}

/// Where the main config came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainSource {
    File(PathBuf),
    /// Not found at this path: built-in defaults apply.
    Missing(PathBuf),
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
}

/// Loads the main config and all input configs of `workdir`.
pub fn load(workdir: &Workdir, opts: &LoadOptions<'_>) -> Loaded {
    let mut diags = Vec::new();
    let main_path = workdir.main_conf();
    let (main, main_source, env_overrides, main_report) = load_main(&main_path, opts, &mut diags);
    let mut files = vec![main_report];
    let instances = load_inputs(
        &workdir.conf_d(),
        &main_path,
        &main,
        opts.env,
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

/// Loads `datakit.conf` (or the defaults when it is missing), then environment, then flags.
pub fn load_main(
    path: &Path,
    opts: &LoadOptions<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (MainConfig, MainSource, Vec<EnvOverride>, FileReport) {
    let mut report = FileReport {
        path: path.to_path_buf(),
        ..Default::default()
    };
    let source = match SourceFile::read(path) {
        Ok(f) => Some(f),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.note = Some("not found: built-in defaults apply".into());
            diags.push(
                Diagnostic::warning("main config not found: built-in defaults apply")
                    .in_file(path)
                    .with_help(format!(
                        "to customise the agent, copy the sample datakit.conf shipped with DataKit (conf.d/datakit.conf in its source tree) to {}",
                        path.display()
                    )),
            );
            None
        }
        Err(e) => {
            diags
                .push(Diagnostic::error(format!("cannot read the main config: {e}")).in_file(path));
            None
        }
    };
    let (main, env_overrides) = main_from_source(source.as_ref(), opts, diags);
    let main_source = if source.is_some() {
        MainSource::File(path.to_path_buf())
    } else {
        MainSource::Missing(path.to_path_buf())
    };
    (main, main_source, env_overrides, report)
}

/// Decodes the main config from `source` (defaults when `None`), then applies the environment
/// and the flags, then checks it.
pub fn main_from_source(
    source: Option<&SourceFile>,
    opts: &LoadOptions<'_>,
    diags: &mut Vec<Diagnostic>,
) -> (MainConfig, Vec<EnvOverride>) {
    let mut main = MainConfig::default();
    let mut doc_tree: Option<(DeValue<'_>, std::ops::Range<usize>)> = None;
    if let Some(file) = source
        && let Some(table) = file.parse(diags)
    {
        let span = table.span();
        let mut value = Spanned::new(span.clone(), DeValue::Table(table.into_inner()));
        decode::expand_env(value.get_mut(), opts.env);
        doc_tree = Some((value.get_ref().clone(), span));
        let site = DecodeSite {
            file,
            path: Vec::new(),
            compat: &compat_key,
        };
        if let Some(m) = decode::decode::<MainConfig>(value, &site, diags) {
            main = m;
        }
    }

    // Environment overrides: flag > env > file > default.
    let mut env_overrides = Vec::new();
    main.apply_env(opts.env, "", &mut env_overrides);
    for o in &env_overrides {
        if let Some(err) = &o.error {
            diags.push(
                Diagnostic::error(format!(
                    "environment variable {}={:?} cannot set `{}`: {err}",
                    o.var, o.value, o.key_path
                ))
                .with_help(format!("fix or unset {}", o.var)),
            );
        }
    }
    if let Some(log) = &opts.log {
        main.logging.log = log.clone();
    }
    if let Some(level) = &opts.log_level {
        main.logging.level = level.clone();
    }

    // Semantic checks, reported where the value came from.
    for issue in validate::main_config(&mut main) {
        let from_env = env_overrides
            .iter()
            .rev()
            .find(|o| o.error.is_none() && issue.path.starts_with(&o.key_path));
        let msg = format!("`{}`: {}", issue.path, issue.message);
        let mut d = match issue.severity {
            Severity::Error => Diagnostic::error(msg),
            Severity::Warning => Diagnostic::warning(msg),
        };
        if let Some(h) = issue.help {
            d = d.with_help(h);
        }
        if let Some(o) = from_env {
            d.message.push_str(&format!(" (set by {})", o.var));
        } else if let (Some(file), Some((tree, span))) = (source, &doc_tree) {
            let segs = inputs::parse_key_path(&issue.path);
            if has_path(tree, &segs) {
                d = d.at(file.loc(decode::span_of(tree, span.clone(), &segs, true)));
            } else {
                d = d.in_file(&file.path);
            }
        }
        diags.push(d);
    }
    (main, env_overrides)
}

fn has_path(tree: &DeValue<'_>, path: &[Seg]) -> bool {
    let mut cur = tree;
    for seg in path {
        cur = match (seg, cur) {
            (Seg::Key(k), DeValue::Table(t)) => match t.get(k.as_str()) {
                Some(v) => v.get_ref(),
                None => return false,
            },
            (Seg::Index(i), DeValue::Array(a)) => match a.get(*i) {
                Some(v) => v.get_ref(),
                None => return false,
            },
            _ => return false,
        };
    }
    true
}

/// Every `*.conf` file under `conf_d` (recursively, in path order), except the main config,
/// hidden files and directories, and `.git` directories.
pub fn discover(conf_d: &Path, main_conf: &Path) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diags = Vec::new();
    let mut seen_dirs = Vec::new();
    walk(conf_d, main_conf, &mut files, &mut diags, &mut seen_dirs);
    files.sort();
    (files, diags)
}

fn walk(
    dir: &Path,
    main_conf: &Path,
    files: &mut Vec<PathBuf>,
    diags: &mut Vec<Diagnostic>,
    seen: &mut Vec<PathBuf>,
) {
    // Follow directory symlinks (Kubernetes ConfigMaps) without looping.
    if let Ok(canon) = dir.canonicalize() {
        if seen.contains(&canon) {
            return;
        }
        seen.push(canon);
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => {
            diags.push(Diagnostic::error(format!("cannot read directory: {e}")).in_file(dir));
            return;
        }
    };
    for entry in rd.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // dangling symlink
        };
        if meta.is_dir() {
            walk(&path, main_conf, files, diags, seen);
        } else if meta.is_file() && name.ends_with(".conf") && path != main_conf {
            files.push(path);
        }
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
            main,
            env,
            &disabled,
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
        let Some(entry) = inputs::find(name) else {
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

#[allow(clippy::too_many_arguments)]
fn load_file(
    file: &SourceFile,
    table: Spanned<DeTable<'_>>,
    main: &MainConfig,
    env: &EnvLookup<'_>,
    disabled: &[&str],
    instances: &mut Vec<InputInstance>,
    report: &mut FileReport,
    diags: &mut Vec<Diagnostic>,
) {
    for (key, value) in table.into_inner() {
        let key_span = key.span();
        let key = key.into_inner();
        if key != "inputs" {
            diags.push(
                Diagnostic::warning(format!("top-level key `{key}` ignored"))
                    .at(file.loc(key_span))
                    .with_help("input config files hold [[inputs.NAME]] tables only; main settings belong in datakit.conf"),
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
            let Some(entry) = inputs::find(&name) else {
                let known: Vec<&str> = inputs::registry().iter().map(|e| e.spec.name).collect();
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
                let site = DecodeSite {
                    file,
                    path: path.clone(),
                    compat: &|_| None,
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
                        .with_help(
                            "keep a single [[inputs.NAME]] table for this input across conf.d",
                        ),
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
    let new = super::duration::Dur(fixed);
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
        *cur = super::duration::Dur(fixed);
        let at = spans
            .iter()
            .find(|(k, _)| k == key)
            .map_or(header.clone(), |(_, s)| s.clone());
        diags.push(
            Diagnostic::warning(format!(
                "{key} {old} of `{name}` is {word} to {}, the input's {bound}",
                super::duration::Dur(fixed)
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
            &main,
            &no_env,
            &[],
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn workdir_with(main: &str) -> (tempfile::TempDir, Workdir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/datakit.conf"), main).unwrap();
        let w = Workdir::new(dir.path());
        (dir, w)
    }

    fn load_with(w: &Workdir, env: &[(&str, &str)], flag_level: Option<&str>) -> Loaded {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let opts = LoadOptions {
            env: &lookup,
            log: None,
            log_level: flag_level.map(str::to_string),
        };
        load(w, &opts)
    }

    #[test]
    fn precedence_is_flag_then_env_then_file_then_default() {
        let (_d, w) = workdir_with("");
        assert_eq!(load_with(&w, &[], None).main.logging.level, "info");
        let (_d, w) = workdir_with("[logging]\nlevel = \"warn\"\n");
        assert_eq!(load_with(&w, &[], None).main.logging.level, "warn");
        assert_eq!(
            load_with(&w, &[("ENV_LOG_LEVEL", "debug")], None)
                .main
                .logging
                .level,
            "debug"
        );
        let l = load_with(&w, &[("ENV_LOG_LEVEL", "debug")], Some("error"));
        assert_eq!(l.main.logging.level, "error");
        assert!(!l.has_errors());
    }

    #[test]
    fn env_expansion_in_strings_and_inverted_env_booleans() {
        let (_d, w) = workdir_with("[http_api]\nlisten = \"${DK_HOST}:9600\"\n");
        let l = load_with(&w, &[("DK_HOST", "0.0.0.0")], None);
        assert_eq!(l.main.http_api.listen, "0.0.0.0:9600");
        let l = load_with(
            &w,
            &[
                ("ENV_DATAWAY_DISABLE_GZIP", "true"),
                ("ENV_DISABLE_PROTECT_MODE", "1"),
            ],
            None,
        );
        assert!(!l.main.dataway.gzip);
        assert!(!l.main.protect_mode);
        // The original's ENV_DATAWAY_DISABLE_NTP enabled NTP when true; here it disables it.
        let l = load_with(&w, &[("ENV_DATAWAY_DISABLE_NTP", "true")], None);
        assert!(!l.main.dataway.ntp.enable);
    }

    #[test]
    fn env_lists_and_maps() {
        let (_d, w) = workdir_with("");
        let l = load_with(
            &w,
            &[
                (
                    "ENV_DATAWAY",
                    "https://a?token=tkn_1, https://b?token=tkn_2",
                ),
                ("ENV_GLOBAL_HOST_TAGS", "zone=z1,team=core"),
                ("ENV_ELECTION_NODE_WHITELIST", "[\"h1\",\"h2\"]"),
            ],
            None,
        );
        assert_eq!(
            l.main.dataway.urls,
            ["https://a?token=tkn_1", "https://b?token=tkn_2"]
        );
        assert_eq!(
            l.main.global_host_tags.get("team").map(String::as_str),
            Some("core")
        );
        assert_eq!(l.main.election.node_whitelist, ["h1", "h2"]);
        assert!(!l.has_errors(), "{:?}", l.diagnostics);
    }
}
