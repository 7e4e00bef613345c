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
//! - `download`: the HTTP client and the hashed download;
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

pub use download::{download, http_agent};
pub use health::wait_healthy;
pub use release::{
    Release, Target, compare_versions, find_checksum, host_os_arch, normalize_sha256, parse_index,
    resolve, resolve_url, select, tarball_name,
};
pub use unpack::{extract_binary, preflight};

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
        "no release index is configured: set [upgrade] index_url in {0} (or ENV_UPGRADE_INDEX_URL), or pass --url with a release tarball"
    )]
    NoIndex(PathBuf),
    #[error("GET {url}: {message}")]
    Http { url: String, message: String },
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
        UpgradeError::Http {
            url: e.url,
            message: e.message,
        }
    }
}

/// What `datakit upgrade` was asked.
#[derive(Debug, Clone)]
pub struct UpgradeOptions {
    /// `--version`: this release (even if it is the running one, or older).
    pub version: Option<String>,
    /// `--url`: this tarball instead of the index.
    pub url: Option<String>,
    /// `--sha256`: the tarball's checksum (with `--url`).
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
        return Err(ServiceError::Invalid(format!(
            "{} does not exist: install DataKit first (`datakit install`)",
            dir.display()
        )));
    }
    let _lock = swap::lock_workdir(&dir)?;
    let agent = http_agent(cfg)?;
    let current = crate::build_info::VERSION.to_string();
    let target = resolve(&agent, cfg, &wd.main_conf(), o)?;
    if o.version.is_none()
        && o.url.is_none()
        && let Some(v) = &target.version
        && compare_versions(v, &current) != std::cmp::Ordering::Greater
    {
        return Ok(Outcome::UpToDate { version: current });
    }
    if target.url.starts_with("http://") {
        say(&format!(
            "note: {} is plain HTTP; the checksum guards against damage, not against tampering",
            target.url
        ));
    }
    say(&format!("downloading {}", target.url));
    let (tarball, actual) = download(&agent, &target.url, &dir, bar)?;
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
    let to = target
        .version
        .clone()
        .unwrap_or_else(|| reported.trim_start_matches("datakit").trim().to_string());

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
                from: current,
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
                from: current,
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
