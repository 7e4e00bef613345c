//! Putting a binary in place: one upgrade at a time (a lock on the workdir), and the
//! atomic replacement of the binary, used both to install the new one and to roll back.

use std::path::Path;

use crate::service::{ServiceError, fs_err};

use super::UpgradeError;

/// Holds an exclusive lock on the workdir for the life of the upgrade.
pub(super) struct WorkdirLock(#[allow(dead_code)] std::fs::File);

pub(super) fn lock_workdir(dir: &Path) -> Result<WorkdirLock, ServiceError> {
    let f = std::fs::File::open(dir).map_err(fs_err(dir))?;
    match f.try_lock() {
        Ok(()) => Ok(WorkdirLock(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(UpgradeError::Busy(dir.to_path_buf()).into()),
        Err(std::fs::TryLockError::Error(e)) => Err(fs_err(dir)(e)),
    }
}

/// Replaces `target` with a copy of `source` atomically: a hard link (or a copy) next to it,
/// renamed over it.
pub(super) fn replace_with_copy(source: &Path, target: &Path) -> Result<(), ServiceError> {
    let dir = crate::service::parent_dir(target);
    let tmp = dir.join(format!(".datakit-swap-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    if std::fs::hard_link(source, &tmp).is_err() {
        std::fs::copy(source, &tmp).map_err(fs_err(&tmp))?;
    }
    std::fs::rename(&tmp, target).map_err(fs_err(target))
}

pub(super) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
