//! Which release to install: the release index (one release or a list, URLs relative to
//! the index), the choice of a version for this host, and the SHA-256 the tarball must have
//! (from the index, `--sha256`, or the `SHA256SUMS` file next to the tarball).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{MAX_SMALL, UpgradeError, UpgradeOptions};
use crate::config::MainConfig;
use crate::service::ServiceError;

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

/// The version in a tarball's file name `datakit-<version>-<os>-<arch>.tar.gz` (or `.tgz`).
pub fn version_in_name(file_name: &str) -> Option<String> {
    let rest = file_name.strip_prefix("datakit-")?;
    let stem = rest
        .strip_suffix(".tar.gz")
        .or_else(|| rest.strip_suffix(".tgz"))?;
    let mut parts = stem.rsplitn(3, '-');
    let (_arch, _os, version) = (parts.next()?, parts.next()?, parts.next()?);
    (!version.is_empty() && version.starts_with(|c: char| c.is_ascii_digit() || c == 'v'))
        .then(|| version.to_string())
}

/// The path a `file://` URL names; `None` for other URLs.
pub fn file_url_path(url: &str) -> Result<Option<PathBuf>, UpgradeError> {
    let Some(rest) = url.strip_prefix("file://") else {
        return Ok(None);
    };
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(UpgradeError::FileUrl(url.to_string()));
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    Ok(Some(PathBuf::from(percent_decode(rest))))
}

/// `%XX` escapes decoded (invalid ones kept as written).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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

pub(super) fn bare_version(v: &str) -> &str {
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

/// A release to install, with its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The version the release is said to be: by the index, `--version`, or the tarball's file
    /// name. Its binary has the last word.
    pub version: Option<String>,
    /// Where the version was said.
    pub named_by: NamedBy,
    /// The tarball: a URL, or a path on this host.
    pub url: String,
    pub sha256: String,
    /// The tarball on this host (`--file`, a `file://` URL).
    pub file: Option<PathBuf>,
}

/// Where a release's version came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedBy {
    Index,
    VersionFlag,
    FileName,
    Nothing,
}

/// The version a release is said to be: `--version`, else the tarball's file name.
fn named_version(o: &UpgradeOptions, file_name: &str) -> (Option<String>, NamedBy) {
    match (&o.version, version_in_name(file_name)) {
        (Some(v), _) => (Some(v.clone()), NamedBy::VersionFlag),
        (None, Some(v)) => (Some(v), NamedBy::FileName),
        (None, None) => (None, NamedBy::Nothing),
    }
}

/// The tarball on this host that `--file` or a `file://` `--url` names, with its checksum
/// (`--sha256`, else `SHA256SUMS` beside it); `None` when the release is to be downloaded.
pub fn resolve_local(o: &UpgradeOptions) -> Result<Option<Target>, ServiceError> {
    let path = match (&o.file, &o.url) {
        (Some(p), _) => p.clone(),
        (None, Some(url)) => match file_url_path(url)? {
            Some(p) => p,
            None => return Ok(None),
        },
        (None, None) => return Ok(None),
    };
    // The tarball first: a missing one is the problem, not its checksum.
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(UpgradeError::Local {
                path,
                error: std::io::Error::other("not a regular file"),
            }
            .into());
        }
        Err(error) => return Err(UpgradeError::Local { path, error }.into()),
    }
    let shown = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let sha256 = match &o.sha256 {
        Some(s) => {
            normalize_sha256(s).map_err(|e| ServiceError::Invalid(format!("--sha256: {e}")))?
        }
        None => {
            let sums_path = crate::service::parent_dir(&path).join("SHA256SUMS");
            let no = |reason: String| UpgradeError::NoChecksum {
                url: shown.clone(),
                reason,
            };
            let sums = match std::fs::read_to_string(&sums_path) {
                Ok(t) => t,
                Err(e) => {
                    return Err(no(format!(
                        "no SHA256SUMS beside it ({}: {e})",
                        sums_path.display()
                    ))
                    .into());
                }
            };
            let found = find_checksum(&sums, &file_name).ok_or_else(|| {
                no(format!(
                    "{} has no line for {file_name}",
                    sums_path.display()
                ))
            })?;
            normalize_sha256(&found)
                .map_err(|reason| no(format!("{}: {reason}", sums_path.display())))?
        }
    };
    let (version, named_by) = named_version(o, &file_name);
    Ok(Some(Target {
        version,
        named_by,
        url: shown,
        sha256,
        file: Some(path),
    }))
}

/// Reads the index (if needed) and the checksum: what `datakit upgrade` would install.
pub fn resolve(
    agent: &ureq::Agent,
    cfg: &MainConfig,
    config_path: &Path,
    o: &UpgradeOptions,
) -> Result<Target, ServiceError> {
    if let Some(local) = resolve_local(o)? {
        return Ok(local);
    }
    let (os, arch) = host_os_arch();
    if let Some(url) = &o.url {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(UpgradeError::Scheme(url.clone()).into());
        }
        let file = url
            .split(['?', '#'])
            .next()
            .unwrap_or(url)
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        let sha256 =
            match &o.sha256 {
                Some(s) => normalize_sha256(s)
                    .map_err(|e| ServiceError::Invalid(format!("--sha256: {e}")))?,
                None => {
                    let sums_url = resolve_url(url, "SHA256SUMS");
                    // A server that cannot be reached is the problem, not the checksum.
                    let sums = crate::net::get_text(agent, &sums_url, MAX_SMALL).map_err(|e| {
                        match e.failure {
                            crate::net::GetFailure::NoAnswer => UpgradeError::from(e),
                            _ => UpgradeError::NoChecksum {
                                url: url.clone(),
                                reason: e.to_string(),
                            },
                        }
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
        let (version, named_by) = named_version(o, &file);
        return Ok(Target {
            version,
            named_by,
            url: url.clone(),
            sha256,
            file: None,
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
                    file: None,
                    version: Some(r.version.clone()),
                    ..o.clone()
                },
            )?;
            resolved.sha256
        }
    };
    Ok(Target {
        version: Some(r.version),
        named_by: NamedBy::Index,
        url: r.url,
        sha256,
        file: None,
    })
}

/// A small text resource (index, SHA256SUMS).
fn get_text(agent: &ureq::Agent, url: &str) -> Result<String, UpgradeError> {
    Ok(crate::net::get_text(agent, url, MAX_SMALL)?)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn versions_are_read_from_tarball_names() {
        let v = |n: &str| version_in_name(n);
        assert_eq!(
            v("datakit-1.2.0-linux-amd64.tar.gz").as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            v("datakit-1.2.0-rc1-linux-arm64.tgz").as_deref(),
            Some("1.2.0-rc1")
        );
        assert_eq!(v("datakit.tar.gz"), None);
        assert_eq!(v("datakit-linux-amd64.tar.gz"), None);
        assert_eq!(v("other-1.0-linux-amd64.tar.gz"), None);
    }

    #[test]
    fn file_urls_name_local_paths() {
        assert_eq!(
            file_url_path("file:///srv/rel/d%20k.tar.gz").unwrap(),
            Some(PathBuf::from("/srv/rel/d k.tar.gz"))
        );
        assert_eq!(
            file_url_path("file://localhost/a.tgz").unwrap(),
            Some(PathBuf::from("/a.tgz"))
        );
        assert_eq!(file_url_path("https://h/a.tgz").unwrap(), None);
        assert!(file_url_path("file://other-host/a.tgz").is_err());
        assert!(file_url_path("file://relative.tgz").is_err());
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
