//! Checking a downloaded release before it is installed: the tarball is unpacked only if
//! every entry is a plain file inside it, and the binary must run `--version` on this host.

use std::io::Read;
use std::path::{Component, Path};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{MAX_BINARY, UpgradeError};
use crate::service::{ServiceError, fs_err};

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
}
