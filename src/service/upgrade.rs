//! `datakit upgrade`: find a release, download it, verify it, swap the binary, restart the
//! service, and roll back when the new agent does not answer `/v1/ping` in time.
//!
//! Nothing on disk changes until the download matched its SHA-256, unpacked cleanly and the
//! new binary ran `--version` on this host. The swap keeps the previous binary as
//! `datakit.bak` and replaces `datakit` with one `rename`, so the path always holds a whole
//! binary. There are no release signatures: the checksum comes from the same server as the
//! tarball, which protects against corruption and truncation, and against tampering only as
//! far as HTTPS to that server does.

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::layout::Layout;
use super::systemd::Manager;
use super::{ServiceError, fs_err};
use crate::config::MainConfig;

/// The largest tarball downloaded.
const MAX_DOWNLOAD: u64 = 1 << 30;
/// The largest binary unpacked.
const MAX_BINARY: u64 = 1 << 30;
/// The largest index or SHA256SUMS file read.
const MAX_SMALL: u64 = 1 << 20;

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

/// One release in the index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Release {
    pub version: String,
    /// The tarball: absolute, or relative to the index URL.
    pub url: String,
    /// Hex SHA-256 of the tarball. Without it, `SHA256SUMS` next to the tarball is read.
    #[serde(default)]
    pub sha256: Option<String>,
    /// `linux` (absent: any).
    #[serde(default)]
    pub os: Option<String>,
    /// `amd64`, `arm64`, ... (absent: any).
    #[serde(default)]
    pub arch: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IndexDoc {
    One(Release),
    Many(Vec<Release>),
}

/// This host's OS and architecture in release names (`linux`, `amd64`).
pub fn host_os_arch() -> (String, String) {
    let s = crate::build_info::os_arch();
    match s.split_once('/') {
        Some((os, arch)) => (os.to_string(), arch.to_string()),
        None => (s, String::new()),
    }
}

/// The tarball name of a release: `datakit-<version>-<os>-<arch>.tar.gz`.
pub fn tarball_name(version: &str, os: &str, arch: &str) -> String {
    format!("datakit-{version}-{os}-{arch}.tar.gz")
}

/// `url` resolved against `base` (the index's URL).
pub fn resolve_url(base: &str, url: &str) -> String {
    if url.contains("://") {
        return url.to_string();
    }
    let base = base.split(['?', '#']).next().unwrap_or(base);
    if let Some(rest) = url.strip_prefix('/') {
        let origin_end = base
            .find("://")
            .and_then(|i| base[i + 3..].find('/').map(|j| i + 3 + j))
            .unwrap_or(base.len());
        return format!("{}/{rest}", &base[..origin_end]);
    }
    match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |j| j + 2) => format!("{}{url}", &base[..=i]),
        _ => format!("{base}/{url}"),
    }
}

/// Parses the index and resolves its URLs.
pub fn parse_index(text: &str, index_url: &str) -> Result<Vec<Release>, UpgradeError> {
    let doc: IndexDoc = serde_json::from_str(text).map_err(|e| UpgradeError::Index {
        url: index_url.to_string(),
        message: format!(
            "not a release index ({e}); expected {{\"version\", \"url\", \"sha256\"}} or a list of them"
        ),
    })?;
    let mut v = match doc {
        IndexDoc::One(r) => vec![r],
        IndexDoc::Many(v) => v,
    };
    for r in &mut v {
        r.url = resolve_url(index_url, &r.url);
    }
    Ok(v)
}

fn bare_version(v: &str) -> &str {
    v.strip_prefix('v').unwrap_or(v)
}

/// Orders versions: numeric dotted parts, then a release above its pre-releases.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(v: &str) -> (Vec<u64>, bool, &str) {
        let v = bare_version(v);
        let (core, pre) = match v.split_once(['-', '+']) {
            Some((c, p)) => (c, p),
            None => (v, ""),
        };
        let nums = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        (nums, pre.is_empty(), pre)
    }
    key(a).cmp(&key(b))
}

/// The release to install: `version`, or the newest, for `os`/`arch`.
pub fn select(
    releases: &[Release],
    version: Option<&str>,
    os: &str,
    arch: &str,
    index_url: &str,
) -> Result<Release, UpgradeError> {
    let fits = |r: &&Release| {
        r.os.as_deref().is_none_or(|o| o == os) && r.arch.as_deref().is_none_or(|a| a == arch)
    };
    let mut candidates: Vec<&Release> = releases.iter().filter(fits).collect();
    if let Some(v) = version {
        candidates.retain(|r| bare_version(&r.version) == bare_version(v));
    }
    candidates.sort_by(|a, b| compare_versions(&a.version, &b.version));
    candidates
        .last()
        .map(|r| (*r).clone())
        .ok_or_else(|| UpgradeError::Index {
            url: index_url.to_string(),
            message: match version {
                Some(v) => format!("no release {v} for {os}/{arch}"),
                None => format!("no release for {os}/{arch}"),
            },
        })
}

/// The checksum of `file` in a `SHA256SUMS` text (`<hex>  <name>` or `<hex> *<name>`).
pub fn find_checksum(sums: &str, file: &str) -> Option<String> {
    sums.lines().find_map(|l| {
        let (hex, name) = l.trim().split_once(char::is_whitespace)?;
        let name = name.trim_start().trim_start_matches('*');
        (name == file).then(|| hex.to_ascii_lowercase())
    })
}

/// A checksum as 64 lowercase hex digits, or why not.
pub fn normalize_sha256(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_lowercase();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s)
    } else {
        Err(format!("`{s}` is not a SHA-256 (64 hex digits)"))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The HTTP client for downloads: `[dataway] http_proxy`, else `HTTPS_PROXY`/`HTTP_PROXY`;
/// certificates always verified.
pub fn http_agent(cfg: &MainConfig) -> Result<ureq::Agent, ServiceError> {
    let p = cfg.dataway.http_proxy.trim();
    let proxy = if p.is_empty() {
        ureq::Proxy::try_from_env()
    } else {
        Some(ureq::Proxy::new(p).map_err(|e| {
            ServiceError::Invalid(format!("invalid [dataway] http_proxy `{p}`: {e}"))
        })?)
    };
    let c = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .proxy(proxy)
        .build();
    Ok(ureq::Agent::new_with_config(c))
}

fn get(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, UpgradeError> {
    let http = |message: String| UpgradeError::Http {
        url: url.to_string(),
        message,
    };
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(http("only http:// and https:// URLs are supported".into()));
    }
    let resp = agent.get(url).call().map_err(|e| http(e.to_string()))?;
    let status = resp.status();
    if status != 200 {
        return Err(http(format!("HTTP {status}")));
    }
    Ok(resp)
}

/// A small text resource (index, SHA256SUMS).
fn get_text(agent: &ureq::Agent, url: &str) -> Result<String, UpgradeError> {
    let mut resp = get(agent, url)?;
    resp.body_mut()
        .with_config()
        .limit(MAX_SMALL)
        .read_to_string()
        .map_err(|e| UpgradeError::Http {
            url: url.to_string(),
            message: e.to_string(),
        })
}

/// Streams `url` into a temporary file in `dir`, hashing as it goes; the file and its SHA-256.
pub fn download(
    agent: &ureq::Agent,
    url: &str,
    dir: &Path,
    bar: &ProgressBar,
) -> Result<(tempfile::NamedTempFile, String), ServiceError> {
    let mut resp = get(agent, url)?;
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

/// Unpacks the `datakit` binary of the tarball at `tarball` into an executable temporary file
/// in `dir`. The tarball is refused whole if any entry is a link, a device, an absolute path
/// or a path with `..`, or if it holds no binary or two.
pub fn extract_binary(
    tarball: &Path,
    dir: &Path,
    url: &str,
) -> Result<tempfile::TempPath, ServiceError> {
    let bad = |message: String| -> ServiceError {
        UpgradeError::Tarball {
            url: url.to_string(),
            message,
        }
        .into()
    };
    let file = std::fs::File::open(tarball).map_err(fs_err(tarball))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut found: Option<tempfile::NamedTempFile> = None;
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("not a gzip-compressed tar file: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| bad(format!("not a valid gzip-compressed tar file: {e}")))?;
        let path = entry
            .path()
            .map_err(|e| bad(format!("an entry has an unreadable name: {e}")))?
            .into_owned();
        let shown = path.display().to_string();
        if path.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::RootDir | Component::Prefix(_)
            )
        }) {
            return Err(bad(format!("entry `{shown}` points outside the archive")));
        }
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        if !kind.is_file() {
            return Err(bad(format!(
                "entry `{shown}` is a {kind:?} entry; releases hold regular files only"
            )));
        }
        let depth = path
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count();
        if path.file_name() != Some(std::ffi::OsStr::new("datakit")) || depth > 2 {
            continue;
        }
        if found.is_some() {
            return Err(bad("it holds more than one `datakit` binary".into()));
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| bad(format!("entry `{shown}`: {e}")))?;
        if size > MAX_BINARY {
            return Err(bad(format!(
                "the binary is {size} bytes, larger than allowed"
            )));
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".datakit-new-")
            .tempfile_in(dir)
            .map_err(fs_err(dir))?;
        let copied = std::io::copy(&mut (&mut entry).take(MAX_BINARY), &mut tmp)
            .map_err(|e| bad(format!("unpacking `{shown}`: {e}")))?;
        if copied != size {
            return Err(bad(format!(
                "`{shown}` is cut short: {copied} of {size} bytes"
            )));
        }
        found = Some(tmp);
    }
    // Read the gzip stream to its end so its CRC and length are checked.
    let mut rest = archive.into_inner();
    std::io::copy(&mut rest, &mut std::io::sink())
        .map_err(|e| bad(format!("the gzip stream is damaged: {e}")))?;
    let tmp = found.ok_or_else(|| bad("it holds no `datakit` binary".into()))?;
    tmp.as_file().sync_all().map_err(fs_err(tmp.path()))?;
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .map_err(fs_err(tmp.path()))?;
    // Close the file: a file open for writing cannot be executed (ETXTBSY).
    Ok(tmp.into_temp_path())
}

/// Runs `binary --version` (10 s at most); its first line.
pub fn preflight(binary: &Path) -> Result<String, UpgradeError> {
    let mut child = Command::new(binary)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| UpgradeError::Preflight(format!("cannot run it: {e}")))?;
    let t0 = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if t0.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(UpgradeError::Preflight(
                    "`--version` did not finish within 10s".into(),
                ));
            }
            Err(e) => return Err(UpgradeError::Preflight(e.to_string())),
        }
    };
    let mut out = String::new();
    if let Some(mut so) = child.stdout.take() {
        let _ = so.read_to_string(&mut out);
    }
    let first = out.lines().next().unwrap_or("").trim().to_string();
    if !status.success() || !first.starts_with("datakit") {
        return Err(UpgradeError::Preflight(format!(
            "`--version` exited with {status} and printed {first:?}"
        )));
    }
    Ok(first)
}

/// Replaces `target` with a copy of `source` atomically: a hard link (or a copy) next to it,
/// renamed over it.
fn replace_with_copy(source: &Path, target: &Path) -> Result<(), ServiceError> {
    let dir = super::parent_dir(target);
    let tmp = dir.join(format!(".datakit-swap-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(source, &tmp).is_err() {
        std::fs::copy(source, &tmp).map_err(fs_err(&tmp))?;
    }
    std::fs::rename(&tmp, target).map_err(fs_err(target))
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Where the agent's `/v1/ping` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PingTarget {
    Http(String),
    Unix(PathBuf),
}

impl std::fmt::Display for PingTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PingTarget::Http(u) => f.write_str(u),
            PingTarget::Unix(p) => write!(f, "unix:{}/v1/ping", p.display()),
        }
    }
}

/// `/v1/ping` of an agent configured with `api`.
pub fn ping_target(api: &crate::config::main_conf::HttpApiConfig) -> PingTarget {
    let listen = api.listen.trim();
    if listen.starts_with('/') {
        return PingTarget::Unix(PathBuf::from(listen));
    }
    let (host, port) = match listen.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => (listen, "9529"),
    };
    let host = match host {
        "" | "0.0.0.0" => "127.0.0.1",
        "[::]" => "[::1]",
        h => h,
    };
    let tls = !api.tls.cert.is_empty() && !api.tls.privkey.is_empty();
    let scheme = if tls { "https" } else { "http" };
    PingTarget::Http(format!("{scheme}://{host}:{port}/v1/ping"))
}

/// One `/v1/ping`: the version the agent reports.
pub fn ping(target: &PingTarget) -> Result<String, String> {
    let body = match target {
        PingTarget::Http(url) => {
            // Our own agent on this host: no proxy; its certificate is usually self-signed,
            // and only the version is read.
            let c = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(3)))
                .proxy(None)
                .tls_config(
                    ureq::tls::TlsConfig::builder()
                        .disable_verification(true)
                        .build(),
                )
                .build();
            let mut r = ureq::Agent::new_with_config(c)
                .get(url)
                .call()
                .map_err(|e| e.to_string())?;
            if r.status() != 200 {
                return Err(format!("HTTP {}", r.status()));
            }
            r.body_mut()
                .with_config()
                .limit(MAX_SMALL)
                .read_to_string()
                .map_err(|e| e.to_string())?
        }
        PingTarget::Unix(path) => {
            let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| e.to_string())?;
            let _ = s.set_read_timeout(Some(Duration::from_secs(3)));
            let _ = s.set_write_timeout(Some(Duration::from_secs(3)));
            s.write_all(b"GET /v1/ping HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .map_err(|e| e.to_string())?;
            let mut raw = Vec::new();
            (&mut s)
                .take(MAX_SMALL)
                .read_to_end(&mut raw)
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&raw);
            let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
            let status = head.split_whitespace().nth(1).unwrap_or("");
            if status != "200" {
                return Err(format!("HTTP {status}"));
            }
            body.to_string()
        }
    };
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("not JSON: {e}"))?;
    v.pointer("/content/version")
        .and_then(|v| v.as_str())
        .map(String::from)
        .ok_or_else(|| "no content.version in the answer".into())
}

/// Polls `/v1/ping` until it reports `version` (any version when `None`) or `timeout` passes;
/// the last problem seen on failure.
pub fn wait_healthy(
    target: &PingTarget,
    version: Option<&str>,
    timeout: Duration,
) -> Result<String, String> {
    let t0 = Instant::now();
    loop {
        let last = match ping(target) {
            Ok(v) if version.is_none_or(|want| bare_version(want) == bare_version(&v)) => {
                return Ok(v);
            }
            Ok(v) => format!("it reports version {v}"),
            Err(e) => e,
        };
        if t0.elapsed() >= timeout {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(250));
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

/// A release to install, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub version: Option<String>,
    pub url: String,
    pub sha256: String,
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

/// Reads the index (if needed) and the checksum: what `datakit upgrade` would install.
pub fn resolve(
    agent: &ureq::Agent,
    cfg: &MainConfig,
    config_path: &Path,
    o: &UpgradeOptions,
) -> Result<Target, ServiceError> {
    let (os, arch) = host_os_arch();
    if let Some(url) = &o.url {
        let file = url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        let sha256 = match &o.sha256 {
            Some(s) => normalize_sha256(s).map_err(ServiceError::Invalid)?,
            None => {
                let sums_url = resolve_url(url, "SHA256SUMS");
                let sums = get_text(agent, &sums_url).map_err(|e| UpgradeError::NoChecksum {
                    url: url.clone(),
                    reason: e.to_string(),
                })?;
                let found =
                    find_checksum(&sums, &file).ok_or_else(|| UpgradeError::NoChecksum {
                        url: url.clone(),
                        reason: format!("{sums_url} has no line for {file}"),
                    })?;
                normalize_sha256(&found).map_err(|reason| UpgradeError::NoChecksum {
                    url: url.clone(),
                    reason: format!("{sums_url}: {reason}"),
                })?
            }
        };
        return Ok(Target {
            version: o.version.clone(),
            url: url.clone(),
            sha256,
        });
    }
    let index_url = cfg.upgrade.index_url.trim();
    if index_url.is_empty() {
        return Err(UpgradeError::NoIndex(config_path.to_path_buf()).into());
    }
    let text = get_text(agent, index_url)?;
    let releases = parse_index(&text, index_url)?;
    let r = select(&releases, o.version.as_deref(), &os, &arch, index_url)?;
    let sha256 = match &r.sha256 {
        Some(s) => normalize_sha256(s).map_err(|message| UpgradeError::Index {
            url: index_url.to_string(),
            message: format!("release {}: {message}", r.version),
        })?,
        None => {
            let resolved = resolve(
                agent,
                cfg,
                config_path,
                &UpgradeOptions {
                    url: Some(r.url.clone()),
                    version: Some(r.version.clone()),
                    ..o.clone()
                },
            )?;
            resolved.sha256
        }
    };
    Ok(Target {
        version: Some(r.version),
        url: r.url,
        sha256,
    })
}

/// Holds an exclusive lock on the workdir for the life of the upgrade.
struct WorkdirLock(#[allow(dead_code)] std::fs::File);

fn lock_workdir(dir: &Path) -> Result<WorkdirLock, ServiceError> {
    let f = std::fs::File::open(dir).map_err(fs_err(dir))?;
    match f.try_lock() {
        Ok(()) => Ok(WorkdirLock(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(UpgradeError::Busy(dir.to_path_buf()).into()),
        Err(std::fs::TryLockError::Error(e)) => Err(fs_err(dir)(e)),
    }
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
    let _lock = lock_workdir(&dir)?;
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
        replace_with_copy(&bin, &backup)?;
    }
    new.persist(&bin).map_err(|e| fs_err(&bin)(e.error))?;
    sync_dir(&dir);
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
    let ping_at = ping_target(&cfg.http_api);
    say("restarting datakit.service");
    let health = match s.restart() {
        Ok(_) => {
            say(&format!(
                "waiting up to {}s for {ping_at} to report {to}",
                o.health_timeout.as_secs()
            ));
            wait_healthy(&ping_at, Some(&to), o.health_timeout)
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
            replace_with_copy(b, &bin)?;
            sync_dir(&dir);
            match s.restart() {
                Err(e) => format!("restarting it failed too: {e}"),
                // However short the health timeout, the previous agent gets 30 s.
                Ok(_) => match wait_healthy(
                    &ping_at,
                    None,
                    o.health_timeout.max(Duration::from_secs(30)),
                ) {
                    Ok(v) => format!("the previous agent ({v}) runs again"),
                    Err(e) => format!(
                        "the previous agent does not answer either ({e}); see `datakit service status`"
                    ),
                },
            }
        }
    };
    Err(UpgradeError::RolledBack {
        version: to,
        target: ping_at.to_string(),
        secs: o.health_timeout.as_secs(),
        last,
        after,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball(entries: &[(&str, &[u8], tar::EntryType)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data, kind) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o755);
            if kind.is_symlink() {
                h.set_link_name("/etc/passwd").unwrap();
            }
            // Write the name bytes directly: `set_path` itself refuses `..`.
            let name = h.as_old_mut().name.as_mut_slice();
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    fn extract(bytes: &[u8]) -> Result<Vec<u8>, String> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.tar.gz");
        std::fs::write(&p, bytes).unwrap();
        let out = extract_binary(&p, dir.path(), "test").map_err(|e| e.to_string())?;
        Ok(std::fs::read(&out).unwrap())
    }

    #[test]
    fn the_binary_is_found_at_the_top_or_one_level_down() {
        let reg = tar::EntryType::Regular;
        assert_eq!(
            extract(&tarball(&[("README", b"x", reg), ("datakit", b"BIN", reg)])).unwrap(),
            b"BIN"
        );
        assert_eq!(
            extract(&tarball(&[(
                "datakit-1.0-linux-amd64/datakit",
                b"BIN2",
                reg
            )]))
            .unwrap(),
            b"BIN2"
        );
        let err = extract(&tarball(&[("a/b/datakit", b"x", reg)])).unwrap_err();
        assert!(err.contains("no `datakit` binary"), "{err}");
        let err = extract(&tarball(&[
            ("datakit", b"x", reg),
            ("d/datakit", b"y", reg),
        ]))
        .unwrap_err();
        assert!(err.contains("more than one"), "{err}");
    }

    #[test]
    fn unsafe_tarballs_are_refused() {
        let reg = tar::EntryType::Regular;
        let err = extract(&tarball(&[("../datakit", b"x", reg)])).unwrap_err();
        assert!(err.contains("outside the archive"), "{err}");
        let err = extract(&tarball(&[("/usr/bin/datakit", b"x", reg)])).unwrap_err();
        assert!(err.contains("outside the archive"), "{err}");
        let err = extract(&tarball(&[
            ("datakit", b"x", reg),
            ("link", b"", tar::EntryType::Symlink),
        ]))
        .unwrap_err();
        assert!(err.contains("regular files only"), "{err}");
        let err = extract(b"not a tarball at all").unwrap_err();
        assert!(err.contains("gzip"), "{err}");
        let good = tarball(&[("datakit", &[7u8; 100_000], reg)]);
        let err = extract(&good[..good.len() / 2]).unwrap_err();
        assert!(err.contains("nothing was changed"), "{err}");
    }

    #[test]
    fn index_forms_and_selection() {
        let one =
            r#"{"version": "1.2.0", "url": "datakit-1.2.0-linux-amd64.tar.gz", "sha256": "ab"}"#;
        let v = parse_index(one, "https://dl.example/datakit/index.json").unwrap();
        assert_eq!(
            v[0].url,
            "https://dl.example/datakit/datakit-1.2.0-linux-amd64.tar.gz"
        );
        let many = r#"[
            {"version": "1.10.0", "url": "/a.tgz", "arch": "amd64"},
            {"version": "1.9.3", "url": "b.tgz", "arch": "amd64"},
            {"version": "1.11.0-rc1", "url": "c.tgz"},
            {"version": "2.0.0", "url": "https://other/d.tgz", "arch": "arm64"}
        ]"#;
        let v = parse_index(many, "http://h:8080/x/index.json").unwrap();
        assert_eq!(v[0].url, "http://h:8080/a.tgz");
        let latest = select(&v, None, "linux", "amd64", "i").unwrap();
        assert_eq!(latest.version, "1.11.0-rc1");
        let pinned = select(&v, Some("v1.9.3"), "linux", "amd64", "i").unwrap();
        assert_eq!(pinned.url, "http://h:8080/x/b.tgz");
        assert!(select(&v, Some("2.0.0"), "linux", "amd64", "i").is_err());
        assert!(parse_index("{}", "i").is_err());
    }

    #[test]
    fn versions_order_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("1.10.0", "1.9.9"), Greater);
        assert_eq!(compare_versions("v1.2.0", "1.2.0"), Equal);
        assert_eq!(compare_versions("1.2.0-rc1", "1.2.0"), Less);
        assert_eq!(compare_versions("0.1.0", "0.2"), Less);
    }

    #[test]
    fn checksums_are_read_from_sha256sums() {
        let h = "a".repeat(64);
        let sums = format!(
            "{h}  datakit-1.0-linux-amd64.tar.gz\n{}  *other\n",
            "b".repeat(64)
        );
        assert_eq!(
            find_checksum(&sums, "datakit-1.0-linux-amd64.tar.gz"),
            Some(h.clone())
        );
        assert_eq!(find_checksum(&sums, "other"), Some("b".repeat(64)));
        assert_eq!(find_checksum(&sums, "missing"), None);
        assert!(normalize_sha256(&h.to_uppercase()).is_ok());
        assert!(normalize_sha256("abc").is_err());
    }

    #[test]
    fn ping_targets_follow_the_listen_address() {
        let mut api = crate::config::main_conf::HttpApiConfig::default();
        assert_eq!(
            ping_target(&api),
            PingTarget::Http("http://localhost:9529/v1/ping".into())
        );
        api.listen = "0.0.0.0:1234".into();
        assert_eq!(
            ping_target(&api),
            PingTarget::Http("http://127.0.0.1:1234/v1/ping".into())
        );
        api.listen = "[::]:1234".into();
        api.tls.cert = "c".into();
        api.tls.privkey = "k".into();
        assert_eq!(
            ping_target(&api),
            PingTarget::Http("https://[::1]:1234/v1/ping".into())
        );
        api.listen = "/run/datakit.sock".into();
        assert_eq!(
            ping_target(&api),
            PingTarget::Unix("/run/datakit.sock".into())
        );
    }

    #[test]
    fn urls_resolve_against_the_index() {
        assert_eq!(
            resolve_url("https://h/a/index.json?x=1", "f.tgz"),
            "https://h/a/f.tgz"
        );
        assert_eq!(
            resolve_url("https://h/a/b.tgz", "SHA256SUMS"),
            "https://h/a/SHA256SUMS"
        );
        assert_eq!(resolve_url("https://h", "f"), "https://h/f");
        assert_eq!(resolve_url("https://h/a/i", "/f"), "https://h/f");
        assert_eq!(resolve_url("https://h/a/i", "http://o/f"), "http://o/f");
    }
}
