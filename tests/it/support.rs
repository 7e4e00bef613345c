//! Shared helpers: a temporary workdir with files, and the `datakit` command pointed at it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary workdir, removed on drop.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` at `rel` (under the workdir), creating directories.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `datakit --workdir <this> --color never ARGS`, with a clean environment for config.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = datakit();
        c.arg("--workdir")
            .arg(self.path())
            .arg("--color")
            .arg("never")
            .args(args);
        c
    }
}

/// The `datakit` binary with no `ENV_*`/`DATAKIT_*` variables inherited from the caller.
pub fn datakit() -> Command {
    let mut c = Command::cargo_bin("datakit").expect("datakit binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("ENV_") || k.starts_with("DATAKIT_") || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c
}

/// Standard output of a finished command as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
