//! Fetching a release: the HTTP client for downloads and the streaming of a tarball into a
//! temporary file, hashed as it arrives and refused when cut short; or the copy of a tarball
//! already on this host, hashed the same way, so what is verified is what is unpacked.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use sha2::{Digest, Sha256};

use super::{MAX_DOWNLOAD, UpgradeError};
use crate::config::MainConfig;
use crate::net::{ClientOptions, Proxy};
use crate::service::{ServiceError, fs_err};

/// The HTTP client for downloads: `[dataway] http_proxy`, else `HTTPS_PROXY`/`HTTP_PROXY`;
/// certificates always verified.
pub fn http_agent(cfg: &MainConfig) -> Result<ureq::Agent, ServiceError> {
    ClientOptions::download(Proxy::setting(
        "[dataway] http_proxy",
        &cfg.dataway.http_proxy,
    ))
    .build()
    .map_err(|e| ServiceError::Invalid(e.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Streams `url` into a temporary file in `dir`, hashing as it goes; the file and its SHA-256.
pub fn download(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    bar: &ProgressBar,
) -> Result<(tempfile::NamedTempFile, String), ServiceError> {
    let mut resp = crate::net::get(agent, url).map_err(UpgradeError::from)?;
    let expected = resp.body().content_length();
    if let Some(n) = expected {
        if n > MAX_DOWNLOAD {
            return Err(UpgradeError::Http {
                url: url.into(),
                message: format!("{n} bytes is larger than any release ({MAX_DOWNLOAD} bytes)"),
            }
            .into());
        }
        bar.set_length(n);
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".datakit-download-")
        .tempfile_in(dir)
        .map_err(fs_err(dir))?;
    let mut reader = resp.body_mut().with_config().limit(MAX_DOWNLOAD).reader();
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(match expected {
                    Some(expected) if got < expected => UpgradeError::Truncated {
                        url: url.into(),
                        got,
                        expected,
                    },
                    _ => UpgradeError::Http {
                        url: url.into(),
                        message: format!("reading the body: {e}"),
                    },
                }
                .into());
            }
        };
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(fs_err(tmp.path()))?;
        got += n as u64;
        bar.inc(n as u64);
    }
    if let Some(expected) = expected
        && got != expected
    {
        return Err(UpgradeError::Truncated {
            url: url.into(),
            got,
            expected,
        }
        .into());
    }
    tmp.as_file().sync_all().map_err(fs_err(tmp.path()))?;
    bar.finish_and_clear();
    Ok((tmp, hex(&hasher.finalize())))
}

/// Copies the tarball at `path` into a temporary file in `dir`, hashing as it goes; the copy
/// and its SHA-256. The copy, not the original (which may change meanwhile), is unpacked.
pub fn copy_local(
    path: &Path,
    dir: &Path,
    bar: &ProgressBar,
) -> Result<(tempfile::NamedTempFile, String), ServiceError> {
    let local = |error: std::io::Error| UpgradeError::Local {
        path: PathBuf::from(path),
        error,
    };
    let mut from = std::fs::File::open(path).map_err(local)?;
    let len = from.metadata().map_err(local)?.len();
    if len > MAX_DOWNLOAD {
        return Err(local(std::io::Error::other(format!(
            "{len} bytes is larger than any release ({MAX_DOWNLOAD} bytes)"
        )))
        .into());
    }
    bar.set_length(len);
    let mut tmp = tempfile::Builder::new()
        .prefix(".datakit-download-")
        .tempfile_in(dir)
        .map_err(fs_err(dir))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(local(e).into()),
        };
        hasher.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(fs_err(tmp.path()))?;
        bar.inc(n as u64);
    }
    tmp.as_file().sync_all().map_err(fs_err(tmp.path()))?;
    bar.finish_and_clear();
    Ok((tmp, hex(&hasher.finalize())))
}
