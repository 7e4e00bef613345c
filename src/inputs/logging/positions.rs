//! Read positions, kept across restarts in `<workdir>/cache/logging/positions.json`.
//!
//! One entry per (source, device, inode): the offset up to which every line has been
//! acknowledged by IO, a fingerprint of the file's first bytes (to tell a reused inode or a
//! truncated file from the file the offset belongs to) and the last path seen. The file is
//! rewritten whole into a temporary file then renamed, so a crash leaves either the old
//! or the new version. All logging instances of one agent share the file (an entry is keyed
//! by its source), so changing an instance's globs keeps the positions of its files.
//!
//! ```json
//! {"version":1,"files":[{"source":"nginx","dev":2049,"inode":131,"offset":5120,
//!   "fp_crc":3735928559,"fp_len":256,"path":"/var/log/nginx/access.log"}]}
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

/// A file as the positions know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId {
    pub dev: u64,
    pub inode: u64,
}

/// The first bytes of a file: CRC-32 of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fingerprint {
    pub crc: u32,
    pub len: u32,
}

impl Fingerprint {
    pub fn of(bytes: &[u8]) -> Fingerprint {
        Fingerprint {
            crc: crc32fast::hash(bytes),
            len: bytes.len() as u32,
        }
    }
    /// Whether `head` (the file's first bytes now) starts with the bytes this fingerprint
    /// was taken of.
    pub fn matches(&self, head: &[u8]) -> bool {
        let n = self.len as usize;
        head.len() >= n && crc32fast::hash(&head[..n]) == self.crc
    }
}

/// The saved state of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub source: String,
    pub dev: u64,
    pub inode: u64,
    pub offset: u64,
    pub fp_crc: u32,
    pub fp_len: u32,
    /// CRC-32 of the bytes before `offset`, when known (recognises copies after a restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc: Option<u32>,
    pub path: String,
}

impl Entry {
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            crc: self.fp_crc,
            len: self.fp_len,
        }
    }
}

/// What a truncated or released file had given (offset and CRC of the bytes before it):
/// a copy of it found later, even after a restart, is read from that offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    pub source: String,
    pub offset: u64,
    pub crc: u32,
    pub fp_crc: u32,
    pub fp_len: u32,
    /// Unix seconds when it was recorded.
    pub at: i64,
}

/// How long [`Rotated`] records are kept.
pub const ROTATED_KEEP_SECS: i64 = 600;

#[derive(Debug, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    files: Vec<Entry>,
    #[serde(default)]
    rotated: Vec<Rotated>,
}

/// Why positions could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum PositionsError {
    #[error("cannot write read positions to {path}: {cause}")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
}

type Key = (String, FileId);

/// The positions of every logging instance that uses one file.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    entries: BTreeMap<Key, Entry>,
    rotated: Vec<Rotated>,
    dirty: bool,
}

impl Store {
    /// Reads `path`; a missing or unreadable file gives an empty store (an unreadable one is
    /// logged: its files start over by the usual rules).
    pub fn load(path: &Path) -> Store {
        let mut entries = BTreeMap::new();
        let mut rotated = Vec::new();
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<FileFormat>(&bytes) {
                Ok(f) => {
                    rotated = f.rotated;
                    for e in f.files {
                        let id = FileId {
                            dev: e.dev,
                            inode: e.inode,
                        };
                        entries.insert((e.source.clone(), id), e);
                    }
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "read positions are unreadable; ignored")
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "cannot read the read positions")
            }
        }
        Store {
            path: path.to_path_buf(),
            entries,
            rotated,
            dirty: false,
        }
    }

    pub fn get(&self, source: &str, id: FileId) -> Option<&Entry> {
        self.entries.get(&(source.to_string(), id))
    }

    pub fn set(&mut self, e: Entry) {
        let key = (
            e.source.clone(),
            FileId {
                dev: e.dev,
                inode: e.inode,
            },
        );
        if self.entries.get(&key) != Some(&e) {
            self.entries.insert(key, e);
            self.dirty = true;
        }
    }

    pub fn remove(&mut self, source: &str, id: FileId) {
        if self.entries.remove(&(source.to_string(), id)).is_some() {
            self.dirty = true;
        }
    }

    pub fn add_rotated(&mut self, r: Rotated) {
        self.rotated.push(r);
        self.dirty = true;
    }

    /// The rotated records of `source`.
    pub fn rotated_of(&self, source: &str) -> Vec<Rotated> {
        self.rotated
            .iter()
            .filter(|r| r.source == source)
            .cloned()
            .collect()
    }

    /// The entries of `source`, without copying them.
    pub fn entries_of<'a>(&'a self, source: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries
            .range((source.to_string(), FileId { dev: 0, inode: 0 })..)
            .take_while(move |((s, _), _)| s == source)
            .map(|(_, e)| e)
    }

    /// The entries of `source`.
    pub fn of_source(&self, source: &str) -> Vec<Entry> {
        self.entries
            .iter()
            .filter(|((s, _), _)| s == source)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Writes the file if anything changed since the last save.
    pub fn save(&mut self) -> Result<(), PositionsError> {
        if !self.dirty {
            return Ok(());
        }
        let now = crate::clock::now_ns() / 1_000_000_000;
        self.rotated
            .retain(|r| now.saturating_sub(r.at) < ROTATED_KEEP_SECS);
        let err = |source| PositionsError::Write {
            path: self.path.clone(),
            cause: source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(err)?;
        let body = serde_json::to_vec(&FileFormat {
            version: 1,
            files: self.entries.values().cloned().collect(),
            rotated: self.rotated.clone(),
        })
        .map_err(|e| err(std::io::Error::other(e)))?;
        // One writer per file in this process (the store is shared and locked), so a fixed
        // temporary name is safe; the rename makes the new version appear whole.
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        std::fs::write(&tmp, &body).map_err(err)?;
        std::fs::rename(&tmp, &self.path).map_err(err)?;
        self.dirty = false;
        Ok(())
    }
}

/// The store for `path`, shared by every instance in this process that uses it.
pub fn shared(path: &Path) -> Arc<Mutex<Store>> {
    static STORES: OnceLock<Mutex<HashMap<PathBuf, Arc<Mutex<Store>>>>> = OnceLock::new();
    let mut m = STORES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    m.entry(path.to_path_buf())
        .or_insert_with(|| Arc::new(Mutex::new(Store::load(path))))
        .clone()
}

/// Locks a store, whatever a panicking holder left.
pub fn lock(s: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, inode: u64, offset: u64) -> Entry {
        Entry {
            source: source.into(),
            dev: 1,
            inode,
            offset,
            fp_crc: 7,
            fp_len: 3,
            crc: None,
            path: "/x".into(),
        }
    }

    #[test]
    fn positions_survive_a_reload_and_are_keyed_by_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache/logging/positions.json");
        let mut s = Store::load(&path);
        s.set(entry("a", 10, 100));
        s.set(entry("b", 10, 200));
        s.save().unwrap();
        let mut s = Store::load(&path);
        let id = FileId { dev: 1, inode: 10 };
        assert_eq!(s.get("a", id).unwrap().offset, 100);
        assert_eq!(s.get("b", id).unwrap().offset, 200);
        s.remove("a", id);
        s.save().unwrap();
        let s = Store::load(&path);
        assert!(s.get("a", id).is_none());
        assert_eq!(s.of_source("b").len(), 1);
    }

    #[test]
    fn garbage_positions_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, b"\x00\xffnot json").unwrap();
        assert!(Store::load(&path).entries.is_empty());
    }

    #[test]
    fn fingerprints_match_prefixes() {
        let f = Fingerprint::of(b"hello");
        assert!(f.matches(b"hello world"));
        assert!(!f.matches(b"hell"));
        assert!(!f.matches(b"jello world"));
    }
}
