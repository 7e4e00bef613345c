//! The agent's working directory and the paths beneath it.

use std::path::{Path, PathBuf};

/// The default workdir for root.
pub const ROOT_WORKDIR: &str = "/usr/local/datakit";

/// Everything the agent reads and writes lives under one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workdir {
    root: PathBuf,
}

impl Workdir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Workdir { root: root.into() }
    }

    /// The workdir chosen by `--workdir`/`DATAKIT_WORKDIR` (`explicit`), else the default:
    /// `/usr/local/datakit` for root, `$XDG_DATA_HOME/datakit` (or `~/.local/share/datakit`)
    /// for anyone else.
    pub fn resolve(explicit: Option<&Path>) -> Self {
        if let Some(p) = explicit {
            return Workdir::new(absolute(p));
        }
        Workdir::new(default_root(
            rustix::process::geteuid().is_root(),
            std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
            std::env::var_os("HOME").map(PathBuf::from),
        ))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn conf_d(&self) -> PathBuf {
        self.root.join("conf.d")
    }
    pub fn main_conf(&self) -> PathBuf {
        self.conf_d().join("datakit.conf")
    }
    pub fn pipeline(&self) -> PathBuf {
        self.root.join("pipeline")
    }
    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
    pub fn cache(&self) -> PathBuf {
        self.root.join("cache")
    }
    /// A path from the config: absolute as written, relative ones under the workdir.
    pub fn join_config_path(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

fn default_root(is_root: bool, xdg_data_home: Option<PathBuf>, home: Option<PathBuf>) -> PathBuf {
    if is_root {
        return PathBuf::from(ROOT_WORKDIR);
    }
    match (xdg_data_home, home) {
        (Some(x), _) if x.is_absolute() => x.join("datakit"),
        (_, Some(h)) => h.join(".local/share/datakit"),
        _ => PathBuf::from("datakit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_workdir_depends_on_user() {
        assert_eq!(
            default_root(true, None, None),
            PathBuf::from("/usr/local/datakit")
        );
        assert_eq!(
            default_root(false, Some("/x/data".into()), Some("/home/u".into())),
            PathBuf::from("/x/data/datakit")
        );
        assert_eq!(
            default_root(false, Some("relative".into()), Some("/home/u".into())),
            PathBuf::from("/home/u/.local/share/datakit")
        );
        assert_eq!(
            default_root(false, None, Some("/home/u".into())),
            PathBuf::from("/home/u/.local/share/datakit")
        );
    }

    #[test]
    fn config_paths_resolve_under_workdir() {
        let w = Workdir::new("/w");
        assert_eq!(w.main_conf(), PathBuf::from("/w/conf.d/datakit.conf"));
        assert_eq!(w.join_config_path("log"), PathBuf::from("/w/log"));
        assert_eq!(
            w.join_config_path("/var/log/dk"),
            PathBuf::from("/var/log/dk")
        );
    }
}
