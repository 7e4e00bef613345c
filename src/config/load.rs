//! Loading the main configuration: `conf.d/datakit.conf`, the `ENV_*` overrides and the
//! command-line flags, collecting all findings at once; and finding the input config files
//! under `conf.d/` (the inputs layer decodes them: `inputs::confd`).

use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::DeValue;

use super::decode::{self, DecodeSite, FailedKeys, Seg, SourceFile};
use super::main_conf::{MainConfig, compat_key};
use super::schema::{EnvLookup, EnvOverride};
use super::validate;
use crate::diag::{Diagnostic, Severity};

/// How to load.
pub struct LoadOptions<'a> {
    /// Environment lookup (`std::env::var` in the binary; a map in tests).
    pub env: &'a EnvLookup<'a>,
    /// `--log`: overrides `[logging] log` and `ENV_LOG`.
    pub log: Option<String>,
    /// `--log-level`: overrides `[logging] level` and `ENV_LOG_LEVEL`.
    pub log_level: Option<String>,
    /// The inputs this build has, to check `default_enabled_inputs` against (the inputs layer
    /// passes its registry's names in; the config layer knows no inputs). `None`: not checked.
    pub input_names: Option<&'a [&'a str]>,
}

impl LoadOptions<'_> {
    /// Options reading the process environment, with no flag overrides.
    pub fn from_process_env() -> LoadOptions<'static> {
        LoadOptions {
            env: &process_env,
            log: None,
            log_level: None,
            input_names: None,
        }
    }
}

/// Reads a variable of the process environment (`None` when unset or not UTF-8).
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
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
                        "to customise the agent, copy {} (every key, commented; `datakit run` and `datakit install` write it) to {} and edit it",
                        path.with_file_name("datakit.conf.sample").display(),
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
    let mut failed = FailedKeys::default();
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
        let decoded = decode::decode::<MainConfig>(value, &site, diags);
        if let Some(m) = decoded.value {
            main = m;
        }
        failed = decoded.failed;
    }

    // Environment overrides: flag > env > file > default.
    let mut env_overrides = Vec::new();
    main.apply_env(opts.env, "", &mut env_overrides);
    for o in &env_overrides {
        if o.error.is_none() {
            failed.forget(&decode::parse_key_path(&o.key_path));
        }
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

    // Semantic checks, reported where the value came from; none about a key that failed to
    // decode (the check saw its default: the decoding error says what is wrong).
    let issues = validate::main_config(&mut main, opts.input_names);
    for issue in issues.into_iter().filter(|i| {
        !std::iter::once(&i.path)
            .chain(&i.reads)
            .any(|p| failed.touch(&decode::parse_key_path(p)))
    }) {
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
            let segs = decode::parse_key_path(&issue.path);
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
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                let dangling = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_symlink());
                let what = if dangling {
                    match std::fs::read_link(&path) {
                        Ok(to) => format!(
                            "a symbolic link to {}, which does not exist: skipped",
                            to.display()
                        ),
                        Err(_) => "a symbolic link that cannot be followed: skipped".to_string(),
                    }
                } else {
                    format!("cannot be read ({e}): skipped")
                };
                diags.push(Diagnostic::warning(what).in_file(&path));
                continue;
            }
        };
        if meta.is_dir() {
            walk(&path, main_conf, files, diags, seen);
        } else if name.ends_with(".conf") && path != main_conf {
            if meta.is_file() {
                files.push(path);
            } else {
                diags.push(
                    Diagnostic::warning(
                        "not a regular file (a FIFO, socket or device): skipped, input configs are read from files only",
                    )
                    .in_file(&path),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workdir::Workdir;
    use std::collections::HashMap;

    fn workdir_with(main: &str) -> (tempfile::TempDir, Workdir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("conf.d")).unwrap();
        std::fs::write(dir.path().join("conf.d/datakit.conf"), main).unwrap();
        let w = Workdir::new(dir.path());
        (dir, w)
    }

    /// The main config of `w` and whether loading it found errors.
    struct Main {
        main: MainConfig,
        errors: bool,
    }

    impl Main {
        fn has_errors(&self) -> bool {
            self.errors
        }
    }

    fn load_with(w: &Workdir, env: &[(&str, &str)], flag_level: Option<&str>) -> Main {
        let map: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |k: &str| map.get(k).cloned();
        let opts = LoadOptions {
            env: &lookup,
            log: None,
            log_level: flag_level.map(str::to_string),
            input_names: None,
        };
        let mut diags = Vec::new();
        let (main, ..) = load_main(&w.main_conf(), &opts, &mut diags);
        Main {
            main,
            errors: diags.iter().any(Diagnostic::is_error),
        }
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
        assert!(!l.has_errors());
    }
}
