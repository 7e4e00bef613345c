//! `datakit upgrade`: find a release, download it, verify it, swap the binary, restart the
//! service, and roll back when the new agent does not answer `/v1/ping` in time.
//!
//! Nothing on disk changes until the download matched its SHA-256, unpacked cleanly and the
//! new binary ran `--version` on this host. The swap keeps the previous binary as
//! `datakit.bak` and replaces `datakit` with one `rename`, so the path always holds a whole
//! binary. There are no release signatures: the checksum comes from the same server as the
//! tarball, which protects against corruption and truncation, and against tampering only as
//! far as HTTPS to that server does.
//!
//! This module holds the errors, the options and the whole sequence ([`upgrade`]); each step
//! has a file of its own:
//! - `release`: the release index, the version chosen, its checksum;
//! - `download`: the HTTP client and the hashed download, or the hashed copy of a tarball on
//!   this host;
//! - `unpack`: the tarball's safety checks and the new binary's `--version`;
//! - `swap`: the workdir lock and the atomic replacement of the binary;
//! - `health`: waiting for the restarted agent's `/v1/ping`.

mod download;
mod health;
mod release;
mod swap;
mod unpack;

use std::path::PathBuf;
use std::time::Duration;

use indicatif::ProgressBar;

use super::layout::Layout;
use super::systemd::Manager;
use super::{ServiceError, fs_err};
use crate::config::MainConfig;
use crate::net::local_api::{Endpoint, LocalApi};

pub use download::{copy_local, download, http_agent};
pub use health::wait_healthy;
pub use release::{
    NamedBy, Release, Target, compare_versions, file_url_path, find_checksum, host_os_arch,
    normalize_sha256, parse_index, resolve, resolve_local, resolve_url, select, tarball_name,
    version_in_name,
};
pub use unpack::{extract_binary, preflight};

use release::bare_version;

/// The largest tarball downloaded.
const MAX_DOWNLOAD: u64 = 1 << 30;
/// The largest binary unpacked.
const MAX_BINARY: u64 = 1 << 30;
/// The largest index or SHA256SUMS file read.
const MAX_SMALL: u64 = 1 << 20;
/// How long one `/v1/ping` of the restarted agent may take.
const PING_TIMEOUT: Duration = Duration::from_secs(3);

/// Why an upgrade did not happen (or was undone).
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    #[error(
        "no release index is configured: set [upgrade] index_url in {0} (or ENV_UPGRADE_INDEX_URL), pass --url with a release tarball's URL, or --file with a tarball on this host"
    )]
    NoIndex(PathBuf),
    #[error("GET {url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "{url} cannot be reached ({message}); nothing was changed. Check the URL, the network and the proxy ([dataway] http_proxy, else HTTPS_PROXY/HTTP_PROXY); on a host without access, copy the release tarball here and run `datakit upgrade --file PATH --sha256 HEX`"
    )]
    Unreachable { url: String, message: String },
    #[error(
        "--url {0}: only http://, https:// and file:// URLs are supported (or pass --file PATH)"
    )]
    Scheme(String),
    #[error(
        "{0}: a file:// URL names a path on this host, written file:///path (or pass --file PATH)"
    )]
    FileUrl(String),
    #[error("cannot read the release tarball {}: {error}; nothing was changed", path.display())]
    Local {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("release index {url}: {message}")]
    Index { url: String, message: String },
    #[error("download of {url} was cut short: {got} of {expected} bytes; nothing was changed")]
    Truncated {
        url: String,
        got: u64,
        expected: u64,
    },
    #[error(
        "checksum mismatch for {url}: expected sha256 {expected}, got {actual}; the download was discarded and nothing was changed"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    #[error(
        "cannot verify {url}: {reason}; nothing was changed (an unverified binary is never installed: pass --sha256 with the published checksum)"
    )]
    NoChecksum { url: String, reason: String },
    #[error("release tarball {url}: {message}; nothing was changed")]
    Tarball { url: String, message: String },
    #[error("the new binary does not run on this host ({0}); nothing was changed")]
    Preflight(String),
    #[error("another `datakit upgrade` is running on {0}; wait for it to finish")]
    Busy(PathBuf),
    #[error(
        "the new agent ({version}) did not answer {target} within {secs}s (last: {last}); rolled back to the previous binary: {after}"
    )]
    RolledBack {
        version: String,
        target: String,
        secs: u64,
        last: String,
        after: String,
    },
}

impl From<crate::net::GetError> for UpgradeError {
    fn from(e: crate::net::GetError) -> Self {
        match e.failure {
            crate::net::GetFailure::NoAnswer => UpgradeError::Unreachable {
                url: e.url,
                message: e.message,
            },
            _ => UpgradeError::Http {
                url: e.url,
                message: e.message,
            },
        }
    }
}

/// What `datakit upgrade` was asked.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    /// `--version`: this release (even if it is the running one, or older).
    pub version: Option<String>,
    /// `--url`: this tarball instead of the index (`http://`, `https://` or `file://`).
    pub url: Option<String>,
    /// `--file`: this tarball on this host instead of the index.
    pub file: Option<PathBuf>,
    /// `--sha256`: the tarball's checksum (with `--url` or `--file`).
    pub sha256: Option<String>,
    /// How long the new agent has to answer `/v1/ping`.
    pub health_timeout: Duration,
}

/// How an upgrade ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The newest release is the running version.
    UpToDate { version: String },
    /// Installed; `health` is what `/v1/ping` said, or why the service was not restarted.
    Upgraded {
        from: String,
        to: String,
        backup: Option<PathBuf>,
        restarted: bool,
        note: Option<String>,
    },
}

/// The version in a `datakit --version` first line (`datakit 1.2.3` → `1.2.3`).
fn version_of(first_line: &str) -> String {
    first_line.trim_start_matches("datakit").trim().to_string()
}

/// The version the installed binary reports, or `None` when there is none or it does not
/// answer `--version`.
pub fn installed_version(layout: &Layout) -> Option<String> {
    let bin = layout.binary_host();
    if !bin.is_file() {
        return None;
    }
    preflight(&bin).ok().map(|l| version_of(&l))
}

/// Why the workdir cannot be upgraded: it does not exist. Names the likely cause: a user
/// upgrading their own (empty) workdir while DataKit is installed for root.
fn missing_workdir(layout: &Layout) -> ServiceError {
    let dir = layout.workdir_host().root().to_path_buf();
    let system = std::path::Path::new(crate::workdir::ROOT_WORKDIR).join("datakit");
    if !layout.is_staging() && !super::is_root() && system.is_file() {
        return ServiceError::Invalid(format!(
            "{} does not exist, and DataKit is installed in {} for root: run `sudo datakit upgrade`",
            dir.display(),
            crate::workdir::ROOT_WORKDIR
        ));
    }
    ServiceError::Invalid(format!(
        "{} does not exist: install DataKit first (`datakit install`), or name its workdir with --workdir",
        dir.display()
    ))
}

/// What to tell when the release is not the version it was said to be.
fn mismatch_note(target: &Target, reported: &str) -> Option<String> {
    let said = target.version.as_deref()?;
    if bare_version(said) == bare_version(reported) {
        return None;
    }
    let by = match target.named_by {
        NamedBy::Index => format!("the release index named it {said}"),
        NamedBy::VersionFlag => format!("--version asked for {said}"),
        NamedBy::FileName => format!("the tarball is named {said}"),
        NamedBy::Nothing => return None,
    };
    Some(format!(
        "{by}, but its binary reports {reported}: {reported} is what gets installed"
    ))
}

/// The whole upgrade. `say` reports progress to the user; `bar` shows the download.
pub fn upgrade(
    layout: &Layout,
    cfg: &MainConfig,
    manager: &Manager,
    o: &UpgradeOptions,
    bar: &ProgressBar,
    say: &dyn Fn(&str),
) -> Result<Outcome, ServiceError> {
    let wd = layout.workdir_host();
    let dir = wd.root().to_path_buf();
    if !dir.is_dir() {
        return Err(missing_workdir(layout));
    }
    let _lock = swap::lock_workdir(&dir)?;
    // What the service runs now (not necessarily this binary).
    let installed = installed_version(layout);
    let current = installed
        .clone()
        .unwrap_or_else(|| crate::build_info::VERSION.to_string());
    // A tarball on this host needs no HTTP client (nor a valid proxy setting).
    let (target, agent) = match resolve_local(o)? {
        Some(target) => (target, None),
        None => {
            let agent = http_agent(cfg)?;
            (resolve(&agent, cfg, &wd.main_conf(), o)?, Some(agent))
        }
    };
    if o.version.is_none()
        && o.url.is_none()
        && o.file.is_none()
        && let Some(v) = &target.version
        && installed.is_some()
        && compare_versions(v, &current) != std::cmp::Ordering::Greater
    {
        return Ok(Outcome::UpToDate { version: current });
    }
    let (tarball, actual) = match (&target.file, &agent) {
        (Some(path), _) => {
            say(&format!("reading {}", path.display()));
            copy_local(path, &dir, bar)?
        }
        (None, Some(agent)) => {
            if target.url.starts_with("http://") {
                say(&format!(
                    "note: {} is plain HTTP; the checksum guards against damage, not against tampering",
                    target.url
                ));
            }
            say(&format!("downloading {}", target.url));
            download(agent, &target.url, &dir, bar)?
        }
        (None, None) => {
            return Err(ServiceError::Invalid(format!(
                "{} is neither a file on this host nor a URL to download",
                target.url
            )));
        }
    };
    if actual != target.sha256 {
        return Err(UpgradeError::Checksum {
            url: target.url.clone(),
            expected: target.sha256.clone(),
            actual,
        }
        .into());
    }
    say(&format!("sha256 {actual} verified"));
    let new = extract_binary(tarball.path(), &dir, &target.url)?;
    drop(tarball);
    let reported = preflight(&new)?;
    // The binary has the last word on what it is.
    let to = version_of(&reported);
    if let Some(n) = mismatch_note(&target, &to) {
        say(&format!("note: {n}"));
    }
    let from = match installed {
        Some(v) => v,
        None if layout.binary_host().exists() => "an unknown version".to_string(),
        None => "no binary".to_string(),
    };
    if bare_version(&from) == bare_version(&to) {
        say(&format!(
            "note: the installed binary already reports {to}: the same version is installed again"
        ));
    }

    // Swap: keep the previous binary, then one rename puts the new one in place.
    let bin = layout.binary_host();
    let backup = layout.backup_host();
    let had_previous = bin.exists();
    if had_previous {
        swap::replace_with_copy(&bin, &backup)?;
    }
    new.persist(&bin).map_err(|e| fs_err(&bin)(e.error))?;
    swap::sync_dir(&dir);
    say(&format!(
        "installed {} ({reported}){}",
        bin.display(),
        if had_previous {
            format!("; the previous binary is {}", backup.display())
        } else {
            String::new()
        }
    ));
    let backup = had_previous.then_some(backup);

    let s = match manager {
        Manager::Systemd(s) if s.is_live() && layout.unit_host().exists() => s,
        _ => {
            return Ok(Outcome::Upgraded {
                from: from.clone(),
                to,
                backup,
                restarted: false,
                note: Some(
                    "the service is not installed here (or this is a staging tree): restart the agent yourself to run the new version".into(),
                ),
            });
        }
    };
    // The restarted agent answers on the API its configuration names.
    let api = LocalApi::new(Endpoint::from_config(&cfg.http_api), PING_TIMEOUT);
    let ping_at = format!("{}/v1/ping", api.endpoint());
    say("restarting datakit.service");
    let health = match s.restart() {
        Ok(_) => {
            say(&format!(
                "waiting up to {}s for {ping_at} to report {to}",
                o.health_timeout.as_secs()
            ));
            wait_healthy(&api, Some(&to), o.health_timeout)
        }
        Err(e) => Err(e.to_string()),
    };
    let last = match health {
        Ok(_) => {
            return Ok(Outcome::Upgraded {
                from: from.clone(),
                to,
                backup,
                restarted: true,
                note: None,
            });
        }
        Err(last) => last,
    };

    // Roll back.
    let after = match &backup {
        None => "there was no previous binary to go back to".to_string(),
        Some(b) => {
            say(&format!(
                "the new agent did not come up ({last}); rolling back"
            ));
            swap::replace_with_copy(b, &bin)?;
            swap::sync_dir(&dir);
            match s.restart() {
                Err(e) => format!("restarting it failed too: {e}"),
                // However short the health timeout, the previous agent gets 30 s.
                Ok(_) => {
                    match wait_healthy(&api, None, o.health_timeout.max(Duration::from_secs(30))) {
                        Ok(v) => format!("the previous agent ({v}) runs again"),
                        Err(e) => format!(
                            "the previous agent does not answer either ({e}); see `datakit service status`"
                        ),
                    }
                }
            }
        }
    };
    Err(UpgradeError::RolledBack {
        version: to,
        target: ping_at,
        secs: o.health_timeout.as_secs(),
        last,
        after,
    }
    .into())
}
