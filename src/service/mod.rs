//! From a downloaded binary to a managed system service: the install layout, the systemd unit,
//! `systemctl`, `datakit install` and `datakit upgrade`.
//!
//! Every path is computed twice: where it is on the target system (what the unit file names,
//! e.g. `/usr/local/datakit/datakit`) and where it is written on this machine (the same path
//! under `--root DIR`, for tests and packagers). See [`layout::Layout`].
//!
//! Release layout read by `datakit upgrade` (there is no signing infrastructure: releases are
//! verified by SHA-256 only, fetched over HTTPS from the configured index, or read from this
//! host with `--file` or a `file://` URL):
//! - a tarball `datakit-<version>-linux-<arch>.tar.gz` holding the `datakit` binary at its top
//!   level (or one directory down);
//! - a `SHA256SUMS` file next to it (`<hex>  <file name>` lines, as `sha256sum` writes them);
//! - a JSON release index at `[upgrade] index_url`: one release object
//!   `{"version", "url", "sha256", "os"?, "arch"?}` or a list of them; `url` may be relative
//!   to the index.

pub mod install;
pub mod layout;
pub mod systemd;
pub mod unit;
pub mod upgrade;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub use layout::Layout;
pub use systemd::{Manager, Systemctl};

/// The service's name.
pub const SERVICE_NAME: &str = "datakit";
/// The systemd unit's name.
pub const UNIT_NAME: &str = "datakit.service";

/// What went wrong installing, controlling or upgrading the service.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    // The I/O error is part of the message, not a `source`: the command line prints the
    // chain, and would print it twice.
    #[error("{path}: {error}")]
    Fs {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    /// An install option refused before anything was written.
    #[error("{0}; nothing was written")]
    Refused(String),
    #[error(
        "{path} is not valid TOML ({message}); fix it (`datakit check-config` shows where) or move it away and install again"
    )]
    BadConfig { path: PathBuf, message: String },
    #[error("`{program} {args}` could not run: {error}")]
    Spawn {
        program: String,
        args: String,
        error: std::io::Error,
    },
    #[error("`{program} {args}` failed ({status}){}", stderr_suffix(.stderr))]
    Command {
        program: String,
        args: String,
        status: String,
        stderr: String,
    },
    #[error("no supported service manager: {0}")]
    NoManager(String),
    #[error(
        "the service is not installed ({0} is missing): run `datakit install` or `datakit service install` first"
    )]
    NotInstalled(PathBuf),
    #[error(transparent)]
    Upgrade(#[from] upgrade::UpgradeError),
}

fn stderr_suffix(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() {
        String::new()
    } else {
        format!(": {s}")
    }
}

/// Attaches the path to an I/O error.
pub(crate) fn fs_err(path: &Path) -> impl FnOnce(std::io::Error) -> ServiceError + '_ {
    move |error| ServiceError::Fs {
        path: path.to_path_buf(),
        error,
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Unchanged,
    /// An existing file left as it is on purpose (for example a user's config).
    Kept,
    Removed,
}

impl Change {
    pub fn changed(self) -> bool {
        matches!(self, Change::Created | Change::Updated | Change::Removed)
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Change::Created => "created",
            Change::Updated => "updated",
            Change::Unchanged => "unchanged",
            Change::Kept => "kept",
            Change::Removed => "removed",
        })
    }
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), ServiceError> {
    std::fs::create_dir_all(dir).map_err(fs_err(dir))
}

/// Writes `bytes` at `path` with `mode` unless the file already holds exactly that: through a
/// temporary file in the same directory, renamed over the old one, so readers never see half a
/// file. Creates the parent directories.
pub fn write_if_changed(path: &Path, bytes: &[u8], mode: u32) -> Result<Change, ServiceError> {
    let existed = match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if meta.is_file()
                && meta.permissions().mode() & 0o7777 == mode
                && std::fs::read(path).map_err(fs_err(path))? == bytes
            {
                return Ok(Change::Unchanged);
            }
            true
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(fs_err(path)(e)),
    };
    write_atomic(path, bytes, mode)?;
    Ok(if existed {
        Change::Updated
    } else {
        Change::Created
    })
}

/// Writes `bytes` at `path` atomically (temporary file + rename), with `mode`.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ServiceError> {
    let dir = parent_dir(path);
    create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".datakit-tmp-")
        .tempfile_in(dir)
        .map_err(fs_err(dir))?;
    tmp.write_all(bytes).map_err(fs_err(tmp.path()))?;
    tmp.as_file().sync_all().map_err(fs_err(tmp.path()))?;
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
        .map_err(fs_err(tmp.path()))?;
    tmp.persist(path).map_err(|e| fs_err(path)(e.error))?;
    Ok(())
}

/// The directory holding `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the file at `path` if there is one.
pub(crate) fn remove_file(path: &Path) -> Result<Change, ServiceError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(Change::Removed),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Change::Unchanged),
        Err(e) => Err(fs_err(path)(e)),
    }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_if_changed_reports_what_it_did() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/file");
        assert_eq!(
            write_if_changed(&p, b"one", 0o644).unwrap(),
            Change::Created
        );
        assert_eq!(
            write_if_changed(&p, b"one", 0o644).unwrap(),
            Change::Unchanged
        );
        assert_eq!(
            write_if_changed(&p, b"two", 0o644).unwrap(),
            Change::Updated
        );
        assert_eq!(
            write_if_changed(&p, b"two", 0o755).unwrap(),
            Change::Updated
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        // No temporary files are left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("a/b")).unwrap().count(),
            1
        );
    }

    #[test]
    fn remove_file_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "x").unwrap();
        assert_eq!(remove_file(&p).unwrap(), Change::Removed);
        assert_eq!(remove_file(&p).unwrap(), Change::Unchanged);
    }
}
