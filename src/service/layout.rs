//! Where an installed DataKit's files are: on the target system, and on this machine under an
//! optional `--root` prefix.

use std::path::{Component, Path, PathBuf};

use super::{ServiceError, UNIT_NAME};
use crate::workdir::Workdir;

/// Where systemd units installed by the administrator live.
pub const UNIT_DIR: &str = "/etc/systemd/system";
/// The command-line link `datakit install` creates.
pub const COMMAND_LINK: &str = "/usr/local/bin/datakit";

/// The paths of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// `/` for this machine, else a staging directory the target system's `/` maps to.
    root: PathBuf,
    /// The workdir as the target system sees it (absolute).
    workdir: PathBuf,
}

impl Layout {
    /// `root`: the staging prefix (`None` or `/`: this machine). `workdir`: the workdir on the
    /// target system; it must be absolute, and nameable in a unit file.
    pub fn new(root: Option<&Path>, workdir: &Path) -> Result<Layout, ServiceError> {
        if !workdir.is_absolute() {
            return Err(ServiceError::Invalid(format!(
                "the workdir {} must be an absolute path",
                workdir.display()
            )));
        }
        if workdir
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
        {
            return Err(ServiceError::Invalid(format!(
                "the workdir {} must not contain `.` or `..`",
                workdir.display()
            )));
        }
        check_unit_path(workdir)?;
        let root = match root {
            None => PathBuf::from("/"),
            Some(r) if r.is_absolute() => r.to_path_buf(),
            Some(r) => std::env::current_dir().map_err(super::fs_err(r))?.join(r),
        };
        Ok(Layout {
            root,
            workdir: workdir.to_path_buf(),
        })
    }

    /// Whether files go to a staging tree rather than this machine's `/`.
    pub fn is_staging(&self) -> bool {
        self.root != Path::new("/")
    }

    /// The staging prefix (`/` for this machine).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the target path `p` is on this machine.
    pub fn host(&self, p: &Path) -> PathBuf {
        let rel = p.strip_prefix("/").unwrap_or(p);
        self.root.join(rel)
    }

    /// The workdir on the target system.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The workdir on this machine.
    pub fn workdir_host(&self) -> Workdir {
        Workdir::new(self.host(&self.workdir))
    }

    /// The binary on the target system.
    pub fn binary(&self) -> PathBuf {
        self.workdir.join("datakit")
    }

    pub fn binary_host(&self) -> PathBuf {
        self.host(&self.binary())
    }

    /// The previous binary, kept by `datakit upgrade`.
    pub fn backup_host(&self) -> PathBuf {
        self.host(&self.workdir.join("datakit.bak"))
    }

    /// The unit file on the target system.
    pub fn unit(&self) -> PathBuf {
        Path::new(UNIT_DIR).join(UNIT_NAME)
    }

    pub fn unit_host(&self) -> PathBuf {
        self.host(&self.unit())
    }

    /// `/usr/local/bin/datakit` on this machine.
    pub fn command_link_host(&self) -> PathBuf {
        self.host(Path::new(COMMAND_LINK))
    }
}

/// Unit files split on whitespace and expand `%` and `$`: refuse paths that would need quoting
/// rather than risk a unit that names another file.
fn check_unit_path(p: &Path) -> Result<(), ServiceError> {
    let Some(s) = p.to_str() else {
        return Err(ServiceError::Invalid(format!(
            "the workdir {} is not valid UTF-8",
            p.display()
        )));
    };
    if let Some(c) = s
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "%$\"'\\;".contains(*c))
    {
        return Err(ServiceError::Invalid(format!(
            "the workdir {s} contains {c:?}, which a systemd unit cannot name safely; choose a plain path"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_under_the_root() {
        let l = Layout::new(Some(Path::new("/stage")), Path::new("/usr/local/datakit")).unwrap();
        assert!(l.is_staging());
        assert_eq!(l.binary(), PathBuf::from("/usr/local/datakit/datakit"));
        assert_eq!(
            l.binary_host(),
            PathBuf::from("/stage/usr/local/datakit/datakit")
        );
        assert_eq!(
            l.unit_host(),
            PathBuf::from("/stage/etc/systemd/system/datakit.service")
        );
        assert_eq!(
            l.workdir_host().main_conf(),
            PathBuf::from("/stage/usr/local/datakit/conf.d/datakit.conf")
        );
        assert_eq!(
            l.command_link_host(),
            PathBuf::from("/stage/usr/local/bin/datakit")
        );
        assert_eq!(
            l.backup_host(),
            PathBuf::from("/stage/usr/local/datakit/datakit.bak")
        );
    }

    #[test]
    fn no_root_is_this_machine() {
        let l = Layout::new(None, Path::new("/opt/dk")).unwrap();
        assert!(!l.is_staging());
        assert_eq!(l.binary_host(), PathBuf::from("/opt/dk/datakit"));
        let l = Layout::new(Some(Path::new("/")), Path::new("/opt/dk")).unwrap();
        assert!(!l.is_staging());
    }

    #[test]
    fn workdirs_a_unit_cannot_name_are_refused() {
        for bad in ["relative", "/a b", "/a/../b", "/a%b", "/a$b", "/a\"b"] {
            assert!(Layout::new(None, Path::new(bad)).is_err(), "{bad}");
        }
    }
}
