//! The file tailer: finds the files of an instance, reads their new lines, follows rotation,
//! and reports how far each file has been turned into records.
//!
//! - **Identity.** A file is its (device, inode). A fingerprint (CRC-32 of the first
//!   [`FP_BYTES`] bytes) tells a reused inode or a truncated-and-rewritten file from the file
//!   an offset belongs to; it is checked after every read, so bytes read from new content at
//!   an old offset are thrown away and the file is read again from the start.
//! - **Rotation by rename** needs nothing special: the open descriptor keeps reading the
//!   renamed file; the new file at the path is a new identity, read from its start. A file no
//!   glob reaches any more (renamed away or deleted) is read to its end and released once it
//!   has been quiet for [`RELEASE_IDLE`].
//! - **Truncation (copytruncate)** is seen as a size below the read offset or a changed
//!   fingerprint; the file is read again from 0. If the copy lands where a glob sees it, the
//!   copy is recognised by content (CRC of every byte the original had given) and read from
//!   where the original stopped, so lines written between the last read and the truncation
//!   are not lost, and none is read twice.
//! - **Discovery** is a glob scan ([`Tailer::force_scan`] on file-system events, and every
//!   scan interval): the scan is the source of truth, events only make it come sooner.
//!
//! Time is a parameter (`now`), so tests drive it without sleeping.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::decode::{self, Charset};
use super::glob::{FileSet, Found};
pub use super::multiline::DEFAULT_WAIT;
use super::multiline::{IDLE_FLUSH, Matcher, Multiline};
use super::positions::{Entry, FileId, Fingerprint, Rotated, Store};

/// Bytes of a file's start that identify its content.
pub const FP_BYTES: usize = 256;
/// A line longer than this is cut: the part read so far becomes a record of its own.
pub const MAX_LINE_BYTES: usize = 512 * 1024;
/// Bytes read from a file per system call when checking or comparing contents.
const CHUNK: usize = 128 * 1024;
/// Bytes read from a file per system call when tailing it: about a feed's worth of typical
/// lines in two or three reads, so that little is read past a feed's limit (and read again).
const READ: usize = 32 * 1024;
/// Files found at start-up without a saved position are read from the start when smaller
/// than this, else from their end (the original's rule).
pub const FROM_START_BELOW: u64 = 20 << 20;
/// How often an open file's size, fingerprint and modification time are checked at its end.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);
/// A file no glob reaches any more is released after this long without new data.
pub const RELEASE_IDLE: Duration = Duration::from_secs(5);
/// How long the state of a truncated or released file is kept to recognise its copy.
const RETIRED_KEEP: Duration = Duration::from_secs(120);
/// Most states of truncated or released files kept.
const MAX_RETIRED: usize = 256;
/// A new file that looks like a copy still being written waits this long for its size to
/// settle.
const COPY_SETTLE: Duration = Duration::from_secs(2);
/// How often files not yet opened (empty, or perhaps a copy being written) are looked at.
const PENDING_RESCAN: Duration = Duration::from_millis(500);
/// The CRC of a restored file's first bytes is computed up to this offset (for copy
/// detection after a restart); beyond it copies of the file are read whole.
const RESTORE_CRC_LIMIT: u64 = 64 << 20;

/// What an instance's tailer does.
#[derive(Debug, Clone)]
pub struct Options {
    pub source: String,
    pub charset: Charset,
    pub remove_ansi: bool,
    /// `None`: one line, one record.
    pub matcher: Option<Arc<Matcher>>,
    pub from_beginning: bool,
    /// Files not modified for this long are not opened, and open ones are closed at their
    /// end. `None`: never.
    pub ignore_dead_log: Option<Duration>,
    /// `None`: no limit.
    pub max_open_files: Option<usize>,
    /// Time between two glob scans.
    pub scan_interval: Duration,
    /// How long an open multi-line record waits for more lines.
    pub multiline_wait: Duration,
    /// Lines are Docker's json-file records (`{"log":"…","stream":"…","time":"…"}`): the
    /// `log` text is the line, pieces of a long line (no final `\n`) are joined, and a line
    /// that is not such a record is taken as it is.
    pub docker_json: bool,
}

/// One record ready to become a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    pub path: Arc<str>,
    pub text: String,
    /// Records read from this file since it was opened.
    pub line: u64,
}

/// Counters of a tailer's life (for logs and stats).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub opened: u64,
    pub released: u64,
    pub truncations: u64,
    pub copies_recognised: u64,
    pub long_lines_cut: u64,
    pub read_errors: u64,
    pub skipped_max_open: u64,
    pub bytes: u64,
    /// Docker json-file lines that were not json-file records (taken as they are).
    pub docker_json_malformed: u64,
}

struct Tracked {
    id: FileId,
    path: Arc<str>,
    file: File,
    /// Bumped on every truncation.
    generation: u32,
    /// Offset of the end of `buf`.
    read_off: u64,
    /// Bytes read but not yet split into lines: `[lines_end, read_off)`.
    buf: Vec<u8>,
    /// Offset after the last complete line taken from the file.
    lines_end: u64,
    /// CRC of `[0, lines_end)`, when known.
    crc: Option<crc32fast::Hasher>,
    /// CRC of the bytes before the open multiline record.
    crc_pending: Option<crc32fast::Hasher>,
    fp: Fingerprint,
    charset: Charset,
    ml: Multiline,
    records: u64,
    last_data: Instant,
    last_check: Instant,
    /// Since when no glob reaches the file.
    gone_since: Option<Instant>,
    /// A copy of another open file: held at that file's position until it is truncated or
    /// released (then read from where it stopped).
    link: Option<(FileId, u32)>,
    at_eof: bool,
    /// The position last handed out by [`Tailer::take_updates`].
    reported: Option<Entry>,
    /// Docker json-file: the pieces of a long line read so far (where the first starts, the
    /// CRC before it, the text).
    partial: Option<(u64, Option<crc32fast::Hasher>, String)>,
}

impl Tracked {
    fn safe_offset(&self) -> u64 {
        let ml = self.ml.pending_start().unwrap_or(self.lines_end);
        self.partial.as_ref().map_or(ml, |p| p.0.min(ml))
    }
    /// CRC of the bytes before [`safe_offset`](Tracked::safe_offset), when known.
    fn safe_crc(&self) -> Option<u32> {
        if let Some((start, crc, _)) = &self.partial
            && self.ml.pending_start().is_none_or(|m| *start <= m)
        {
            return crc.as_ref().map(|c| c.clone().finalize());
        }
        match self.ml.pending_start() {
            Some(_) => self.crc_pending.as_ref().map(|c| c.clone().finalize()),
            None => self.crc.as_ref().map(|c| c.clone().finalize()),
        }
    }
    fn entry(&self, source: &str) -> Entry {
        Entry {
            source: source.to_string(),
            dev: self.id.dev,
            inode: self.id.inode,
            offset: self.safe_offset(),
            fp_crc: self.fp.crc,
            fp_len: self.fp.len,
            crc: self.safe_crc(),
            path: self.path.to_string(),
        }
    }
}

/// What a truncated or released file had given, to recognise its copy.
struct Retired {
    /// `None`: a position saved by the previous run.
    id: Option<FileId>,
    generation: u32,
    lines_end: u64,
    crc: Option<u32>,
    fp: Fingerprint,
    at: Instant,
}

/// A new file whose start equals a known file's but which is shorter than what was read of
/// that file: a copy in progress, or a copy of an older state.
struct Pending {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

/// The tailer of one input instance.
pub struct Tailer {
    opts: Options,
    files: Arc<FileSet>,
    tracked: Vec<Tracked>,
    retired: Vec<Retired>,
    pending: HashMap<FileId, Pending>,
    /// Positions saved by the previous run, taken at start.
    restored: HashMap<FileId, Entry>,
    scanned_once: bool,
    next_scan: Option<Instant>,
    released: Vec<FileId>,
    /// Last positions of files closed for inactivity.
    closed: Vec<Entry>,
    /// Truncated and released files' states, to save with the positions.
    rotated: Vec<Rotated>,
    /// Records finished outside a read (an original whose copy appeared), for the next poll.
    early: Vec<Out>,
    scratch: Vec<u8>,
    rr: usize,
    warned_max_open: bool,
    pub counters: Counters,
}

fn id_of(meta: &std::fs::Metadata) -> FileId {
    FileId {
        dev: meta.dev(),
        inode: meta.ino(),
    }
}

fn read_head(f: &File, max: usize) -> Vec<u8> {
    let mut head = vec![0u8; max];
    let mut n = 0;
    while n < max {
        match f.read_at(&mut head[n..], n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    head.truncate(n);
    head
}

/// CRC of `[0, len)` of `f`, or `None` when the file is shorter or unreadable.
fn crc_prefix(f: &File, len: u64) -> Option<crc32fast::Hasher> {
    let mut h = crc32fast::Hasher::new();
    let mut buf = vec![0u8; CHUNK.min(len as usize).max(1)];
    let mut off = 0u64;
    while off < len {
        let want = ((len - off) as usize).min(buf.len());
        match f.read_at(&mut buf[..want], off) {
            Ok(0) => return None,
            Ok(k) => {
                h.update(&buf[..k]);
                off += k as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    Some(h)
}

fn is_old(meta: &std::fs::Metadata, limit: Option<Duration>) -> bool {
    let Some(limit) = limit else { return false };
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > limit)
}

enum Start {
    /// Read from this offset; the CRC of the bytes before it, when known.
    At(u64, Option<crc32fast::Hasher>),
    /// A copy of an open file: held at its position.
    Linked(FileId, u32, u64, Option<crc32fast::Hasher>),
    /// Not yet: look again at the next scan.
    Later,
}

/// Whether a file of `size` bytes that starts with `head` may be a copy of one with
/// fingerprint `fp` of which `read` bytes were taken: `None` when not; `Some(strict)` when its
/// start holds the fingerprinted bytes (or is too short to hold them all: the CRC of what was
/// read decides then), `strict` when the fingerprint also covers either the file's first
/// [`FP_BYTES`] or everything read of it, so that a copy shorter than what was read may be
/// taken as holding nothing new.
fn copy_candidate(fp: Fingerprint, read: u64, head: &[u8], size: u64) -> Option<bool> {
    if read == 0 || fp.len == 0 {
        return None;
    }
    if fp.matches(head) {
        return Some(read >= FP_BYTES as u64 || read == u64::from(fp.len));
    }
    // The fingerprint was taken of more bytes than the copy has: only the CRC of
    // `[0, read)` can tell, so only when the copy holds that much.
    (size < u64::from(fp.len) && read <= size).then_some(false)
}

fn fresh() -> Start {
    Start::At(0, Some(crc32fast::Hasher::new()))
}

/// Whether `a` and `b` hold the same `len` first bytes.
fn same_prefix(a: &File, b: &File, len: u64) -> bool {
    let mut x = vec![0u8; CHUNK];
    let mut y = vec![0u8; CHUNK];
    let mut off = 0u64;
    while off < len {
        let want = ((len - off) as usize).min(CHUNK);
        let (Ok(n), Ok(m)) = (
            a.read_at(&mut x[..want], off),
            b.read_at(&mut y[..want], off),
        ) else {
            return false;
        };
        let k = n.min(m);
        if k == 0 || x[..k] != y[..k] {
            return false;
        }
        off += k as u64;
    }
    true
}

impl Tailer {
    /// A tailer over `files`, resuming from the positions of `opts.source` in `store`: those of
    /// the files its globs match (other instances of the same source keep theirs: a thousand
    /// instances of one source would otherwise each hold the positions of all).
    pub fn new(opts: Options, files: FileSet, store: &Store) -> Tailer {
        let now = Instant::now();
        let mut restored = HashMap::new();
        let mut retired = Vec::new();
        let rotated = store.rotated_of(&opts.source);
        // The most recent ones (as many as are kept while running).
        for r in rotated.iter().rev().take(MAX_RETIRED).rev() {
            retired.push(Retired {
                id: None,
                generation: 0,
                lines_end: r.offset,
                crc: Some(r.crc),
                fp: Fingerprint {
                    crc: r.fp_crc,
                    len: r.fp_len,
                },
                at: now,
            });
        }
        for e in store.entries_of(&opts.source) {
            if !files.matches(Path::new(&e.path)) {
                continue;
            }
            let e = e.clone();
            // What the previous run had read of each file can be a copy's start now.
            retired.push(Retired {
                id: None,
                generation: 0,
                lines_end: e.offset,
                crc: e.crc,
                fp: e.fingerprint(),
                at: now,
            });
            restored.insert(
                FileId {
                    dev: e.dev,
                    inode: e.inode,
                },
                e,
            );
        }
        Tailer {
            opts,
            files: Arc::new(files),
            tracked: Vec::new(),
            retired,
            pending: HashMap::new(),
            restored,
            scanned_once: false,
            next_scan: None,
            released: Vec::new(),
            closed: Vec::new(),
            rotated: Vec::new(),
            early: Vec::new(),
            scratch: Vec::new(),
            rr: 0,
            warned_max_open: false,
            counters: Counters::default(),
        }
    }

    /// The directories whose events should hasten a scan.
    pub fn watch_dirs(&self) -> Vec<(PathBuf, bool)> {
        self.files.watch_dirs()
    }

    /// The instance's globs.
    pub fn file_set(&self) -> Arc<FileSet> {
        self.files.clone()
    }

    /// Makes the next [`poll`](Tailer::poll) scan the globs.
    pub fn force_scan(&mut self) {
        self.next_scan = None;
    }

    /// Scans the globs every `every` from the next scan on.
    pub fn set_scan_interval(&mut self, every: Duration) {
        self.opts.scan_interval = every;
        if let Some(t) = self.next_scan {
            self.next_scan = Some(t.min(Instant::now() + every));
        }
    }

    /// Exchanges the read buffer with `buf` (the tailing workers lend theirs to the instance
    /// whose turn they take, so that idle instances hold none). Any length will do.
    pub fn swap_scratch(&mut self, buf: &mut Vec<u8>) {
        std::mem::swap(&mut self.scratch, buf);
    }

    /// Open files.
    pub fn open_files(&self) -> usize {
        self.tracked.len()
    }

    /// Scans when due, reads new data of every file into `out` (stopping once `out` holds
    /// `max_records`), follows rotation and releases finished files. Returns whether any
    /// file had new data.
    pub fn poll(&mut self, now: Instant, out: &mut Vec<Out>, max_records: usize) -> bool {
        if self.next_scan.is_none_or(|t| now >= t) {
            self.scan(now);
            let every = if self.pending.is_empty() {
                self.opts.scan_interval
            } else {
                self.opts.scan_interval.min(PENDING_RESCAN)
            };
            self.next_scan = Some(now + every);
        }
        out.append(&mut self.early);
        let mut any = false;
        let n = self.tracked.len();
        let mut i = 0;
        while i < n && i < self.tracked.len() {
            let idx = (self.rr + i) % self.tracked.len();
            i += 1;
            if out.len() >= max_records {
                break;
            }
            self.resolve_link(idx);
            if self.tracked[idx].link.is_some() {
                continue;
            }
            if self.read_file(idx, now, out, max_records) {
                any = true;
            }
        }
        if !self.tracked.is_empty() {
            self.rr = (self.rr + 1) % self.tracked.len();
        }
        self.maintain(now, out);
        any
    }

    /// Positions that changed since the last call: everything before them has been emitted.
    pub fn take_updates(&mut self) -> Vec<Entry> {
        let mut v = std::mem::take(&mut self.closed);
        for t in &mut self.tracked {
            let e = t.entry(&self.opts.source);
            if t.reported.as_ref() != Some(&e) {
                v.push(e.clone());
                t.reported = Some(e);
            }
        }
        v
    }

    /// States of files truncated or released since the last call (to save with the
    /// positions: they let a copy found after a restart start where the original stopped).
    pub fn take_rotated(&mut self) -> Vec<Rotated> {
        std::mem::take(&mut self.rotated)
    }

    /// Files released since the last call (their positions are no longer needed).
    pub fn take_released(&mut self) -> Vec<FileId> {
        std::mem::take(&mut self.released)
    }

    fn scan(&mut self, now: Instant) {
        let mut found = self.files.scan();
        let first = !self.scanned_once;
        self.scanned_once = true;
        // Files with a saved position first: they are what a copy may be a copy of.
        found.sort_by_key(|f| !self.restored.contains_key(&id_of(&f.meta)));
        let mut seen: Vec<FileId> = Vec::with_capacity(found.len());
        for f in found {
            let id = id_of(&f.meta);
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            if let Some(t) = self.tracked.iter_mut().find(|t| t.id == id) {
                t.gone_since = None;
                if *t.path != *f.path.to_string_lossy() {
                    t.path = f.path.to_string_lossy().into();
                }
                continue;
            }
            if is_old(&f.meta, self.opts.ignore_dead_log) {
                continue;
            }
            if let Some(max) = self.opts.max_open_files
                && self.tracked.len() >= max
            {
                self.counters.skipped_max_open += 1;
                if !self.warned_max_open {
                    self.warned_max_open = true;
                    tracing::warn!(source = %self.opts.source, max, path = %f.path.display(), "max_open_files reached: further files wait until others are released");
                }
                continue;
            }
            self.open(f, id, first, now);
        }
        if first {
            // Saved positions of files that are gone (matched by our globs but not found)
            // are dropped.
            let gone: Vec<FileId> = self
                .restored
                .iter()
                .filter(|(id, e)| !seen.contains(id) && self.files.matches(Path::new(&e.path)))
                .map(|(id, _)| *id)
                .collect();
            for id in gone {
                self.restored.remove(&id);
                self.released.push(id);
            }
        }
        self.pending.retain(|id, _| seen.contains(id));
        for t in &mut self.tracked {
            if !seen.contains(&t.id) && t.gone_since.is_none() {
                t.gone_since = Some(now);
            }
        }
    }

    fn open(&mut self, f: Found, id: FileId, first: bool, now: Instant) {
        let file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) => {
                self.counters.read_errors += 1;
                tracing::warn!(path = %f.path.display(), error = %e, "cannot open a log file");
                return;
            }
        };
        // The descriptor's metadata: the path may point elsewhere by now.
        let meta = match file.metadata() {
            Ok(m) if id_of(&m) == id => m,
            _ => return,
        };
        let size = meta.len();
        let head = read_head(&file, FP_BYTES);
        let start = self.start_of(&file, id, &head, size, first, now);
        let (off, crc, link) = match start {
            Start::At(off, crc) => (off, crc, None),
            Start::Linked(to, generation, off, crc) => (off, crc, Some((to, generation))),
            Start::Later => return,
        };
        self.pending.remove(&id);
        self.restored.remove(&id);
        self.counters.opened += 1;
        let path: Arc<str> = f.path.to_string_lossy().into();
        tracing::debug!(%path, offset = off, size, linked = link.is_some(), "tailing");
        self.tracked.push(Tracked {
            id,
            path,
            file,
            generation: 0,
            read_off: off,
            buf: Vec::new(),
            lines_end: off,
            crc,
            crc_pending: None,
            fp: Fingerprint::of(&head),
            charset: self.opts.charset.for_head(&head),
            ml: Multiline::new(self.opts.matcher.clone(), self.opts.multiline_wait),
            records: 0,
            last_data: now,
            last_check: now,
            gone_since: None,
            link,
            at_eof: false,
            reported: None,
            partial: None,
        });
    }

    fn start_of(
        &mut self,
        file: &File,
        id: FileId,
        head: &[u8],
        size: u64,
        first: bool,
        now: Instant,
    ) -> Start {
        if let Some(e) = self.restored.get(&id) {
            if e.fingerprint().matches(head) && e.offset <= size {
                let crc = (e.offset <= RESTORE_CRC_LIMIT)
                    .then(|| crc_prefix(file, e.offset))
                    .flatten();
                match (&crc, e.crc) {
                    // The bytes before the offset are not the ones we read: start over.
                    (Some(now), Some(saved)) if now.clone().finalize() != saved => {}
                    _ => {
                        let crc = crc.or_else(|| {
                            e.crc
                                .map(|c| crc32fast::Hasher::new_with_initial_len(c, e.offset))
                        });
                        return Start::At(e.offset, crc);
                    }
                }
            }
            // Truncated or rewritten while we were away, or another file on a reused inode.
            return fresh();
        }
        match self.copy_start(file, id, head, size, now) {
            Some(s) => s,
            None if !first => fresh(),
            None if self.opts.from_beginning || size < FROM_START_BELOW => fresh(),
            None => {
                tracing::info!(source = %self.opts.source, size, "a large log file without a saved position is read from its end");
                Start::At(size, None)
            }
        }
    }

    /// A file we have not seen: `None` unless it is a copy of what an open, truncated,
    /// released or previously read file has given.
    fn copy_start(
        &mut self,
        file: &File,
        id: FileId,
        head: &[u8],
        size: u64,
        now: Instant,
    ) -> Option<Start> {
        if head.is_empty() {
            // Nothing tells an empty file from a copy just created: decide once it has bytes
            // (scans come every PENDING_RESCAN meanwhile).
            self.pending.entry(id).or_insert(Pending {
                size,
                mtime: None,
                since: now,
            });
            return Some(Start::Later);
        }
        // (offset, crc there, link target, index of an open original, strict)
        type Cand = (u64, Option<u32>, Option<(FileId, u32)>, Option<usize>, bool);
        let mut cands: Vec<Cand> = Vec::new();
        for (i, t) in self.tracked.iter().enumerate() {
            if t.id == id {
                continue;
            }
            if let Some(strict) = copy_candidate(t.fp, t.lines_end, head, size) {
                let crc = t.crc.as_ref().map(|c| c.clone().finalize());
                cands.push((
                    t.lines_end,
                    crc,
                    Some((t.id, t.generation)),
                    Some(i),
                    strict,
                ));
            }
        }
        for r in &self.retired {
            if let Some(strict) = copy_candidate(r.fp, r.lines_end, head, size) {
                cands.push((r.lines_end, r.crc, None, None, strict));
            }
        }
        if cands.is_empty() {
            tracing::debug!(
                size,
                "no copy candidate: {} open, {} retired",
                self.tracked.len(),
                self.retired.len()
            );
            return None;
        }
        let listed: Vec<String> = cands
            .iter()
            .map(|c| {
                format!(
                    "{}:{}:{}",
                    c.0,
                    c.1.map_or_else(|| "-".to_string(), |n| n.to_string()),
                    c.4
                )
            })
            .collect();
        tracing::debug!(size, cands = %listed.join(" "), "copy candidates");
        // Largest offset first: the most the copy can have in common; open originals first.
        cands.sort_by(|a, b| b.0.cmp(&a.0).then(b.2.is_some().cmp(&a.2.is_some())));
        let mut shorter: Option<Option<usize>> = None;
        // A start that matches but bytes that do not: perhaps a copy whose data is still
        // being written (copies may get their size first).
        let mut unsure = false;
        for (off, crc, link, open, strict) in cands {
            if off > size {
                if strict && (shorter.is_none() || open.is_some()) {
                    shorter = Some(open);
                }
                continue;
            }
            let Some(crc) = crc else { continue };
            let Some(mine) = crc_prefix(file, off) else {
                continue;
            };
            if mine.clone().finalize() != crc {
                unsure |= strict;
            } else {
                self.counters.copies_recognised += 1;
                if let Some(i) = open {
                    // The copy takes over from the original's last line: a record the
                    // original holds open is finished now, or it would be lost should the
                    // original be truncated after a restart.
                    Self::flush_record(&mut self.tracked[i], &mut self.early);
                }
                return Some(match link {
                    Some((to, g)) => Start::Linked(to, g, off, Some(mine)),
                    None => Start::At(off, Some(mine)),
                });
            }
        }
        if shorter.is_none() && !unsure {
            return None;
        }
        // Same start, shorter than what we read of the original (a copy still being written,
        // or one of an older state), or same start and other bytes: wait until its size and
        // modification time settle, then decide on what it holds.
        let mtime = file.metadata().ok().and_then(|m| m.modified().ok());
        let p = self.pending.entry(id).or_insert(Pending {
            size,
            mtime,
            since: now,
        });
        if p.size != size || p.mtime != mtime {
            *p = Pending {
                size,
                mtime,
                since: now,
            };
        }
        if now.saturating_duration_since(p.since) < COPY_SETTLE {
            return Some(Start::Later);
        }
        // Settled: a copy holding what we read would have matched above.
        let open = shorter?;
        // Shorter than what was read: it holds nothing we have not read (checked byte by
        // byte when the original is still open).
        if let Some(i) = open
            && !same_prefix(&self.tracked[i].file, file, size)
        {
            return None;
        }
        self.counters.copies_recognised += 1;
        Some(Start::At(size, crc_prefix(file, size)))
    }

    /// A copy linked to an open file follows that file's position (over bytes whose CRC
    /// proves them equal), and is let go once the original is truncated, released, or
    /// has nothing more than the copy.
    fn resolve_link(&mut self, idx: usize) {
        let Some((to, generation)) = self.tracked[idx].link else {
            return;
        };
        let size = self.tracked[idx]
            .file
            .metadata()
            .map_or(self.tracked[idx].read_off, |m| m.len());
        let live = self
            .tracked
            .iter()
            .find(|t| t.id == to && t.generation == generation)
            .map(|t| {
                (
                    t.lines_end,
                    t.crc.as_ref().map(|c| c.clone().finalize()),
                    t.at_eof && size > t.read_off,
                )
            });
        let (target, crc, keep) = match live {
            Some((end, crc, done)) => (end, crc, !done),
            None => match self
                .retired
                .iter()
                .find(|r| r.id == Some(to) && r.generation == generation)
            {
                Some(r) => (r.lines_end, r.crc, false),
                None => (0, None, false),
            },
        };
        let t = &mut self.tracked[idx];
        if target > t.lines_end && target <= size {
            // Follow only over bytes equal to what the original gave.
            let mut mine = t.crc.clone();
            let ok = match (&mut mine, crc) {
                (Some(h), Some(want)) => {
                    let mut buf = vec![0u8; CHUNK];
                    let mut off = t.lines_end;
                    let mut ok = true;
                    while off < target {
                        let want_n = ((target - off) as usize).min(CHUNK);
                        match t.file.read_at(&mut buf[..want_n], off) {
                            Ok(n) if n > 0 => {
                                h.update(&buf[..n]);
                                off += n as u64;
                            }
                            _ => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    ok && h.clone().finalize() == want
                }
                _ => false,
            };
            if ok {
                t.read_off = target;
                t.lines_end = target;
                t.buf.clear();
                t.crc = mine;
            } else {
                // Not a copy after all: read it on from where it is.
                t.link = None;
                return;
            }
        }
        if !keep {
            t.link = None;
        }
    }

    /// Reads what `idx` has; true if there was new data.
    fn read_file(&mut self, idx: usize, now: Instant, out: &mut Vec<Out>, max: usize) -> bool {
        if self.scratch.len() != READ {
            self.scratch.resize(READ, 0);
        }
        let mut any = false;
        // Lines the last call left in the buffer at the limit come first.
        if !self.tracked[idx].buf.is_empty() {
            let before = out.len();
            self.split(idx, now, out, false, max);
            any = out.len() > before;
        }
        while out.len() < max {
            let t = &mut self.tracked[idx];
            let n = match t.file.read_at(&mut self.scratch, t.read_off) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.counters.read_errors += 1;
                    tracing::warn!(path = %t.path, error = %e, "cannot read a log file");
                    t.at_eof = true;
                    break;
                }
            };
            if n == 0 {
                t.at_eof = true;
                break;
            }
            // Bytes read at an old offset after a truncation belong to new content.
            if !Self::head_unchanged(t) {
                self.truncated(idx, now, out);
                continue;
            }
            let t = &mut self.tracked[idx];
            t.at_eof = false;
            t.buf.extend_from_slice(&self.scratch[..n]);
            t.read_off += n as u64;
            t.last_data = now;
            self.counters.bytes += n as u64;
            any = true;
            self.split(idx, now, out, false, max);
        }
        let t = &mut self.tracked[idx];
        if out.len() >= max && !t.buf.is_empty() {
            // At the limit, what was read past the last line taken is given back (read again
            // at the next turn): an instance waiting for its turn holds no read-ahead.
            t.read_off -= t.buf.len() as u64;
            self.counters.bytes -= t.buf.len() as u64;
            t.buf = Vec::new();
        } else if t.buf.capacity() > 2 * t.buf.len().max(4096) {
            // A partial line left from a large read keeps a small buffer, not the read's.
            t.buf.shrink_to(t.buf.len().max(4096));
        }
        any
    }

    /// Checks the file's first bytes against the fingerprint (and extends a short one).
    /// False when the content is not the one the fingerprint was taken of.
    fn head_unchanged(t: &mut Tracked) -> bool {
        let head = read_head(&t.file, FP_BYTES);
        if !t.fp.matches(&head) {
            return false;
        }
        if head.len() > t.fp.len as usize {
            t.fp = Fingerprint::of(&head);
        }
        true
    }

    /// Turns the complete lines of the buffer into records until `out` holds `max` (the rest
    /// stays buffered, so a feed never grows past its limit); with `all`, the partial line at
    /// the end too (a file being released).
    fn split(&mut self, idx: usize, now: Instant, out: &mut Vec<Out>, all: bool, max: usize) {
        let opts = &self.opts;
        let t = &mut self.tracked[idx];
        let wide = t.charset.wide();
        let mut pos = 0usize;
        while out.len() < max {
            let rest = &t.buf[pos..];
            let len = match decode::find_newline(rest, wide, t.lines_end) {
                Some(l) => l,
                None if rest.len() > MAX_LINE_BYTES => {
                    self.counters.long_lines_cut += 1;
                    let mut l = MAX_LINE_BYTES;
                    if wide.is_some() && !(t.lines_end + l as u64).is_multiple_of(2) {
                        l -= 1;
                    }
                    l
                }
                None if all && !rest.is_empty() => rest.len(),
                None => break,
            };
            let line = &t.buf[pos..pos + len];
            let before = if opts.matcher.is_some() || opts.docker_json {
                t.crc.clone()
            } else {
                None
            };
            if let Some(c) = &mut t.crc {
                c.update(line);
            }
            let body = &line[..len - decode::newline_len(line, wide)];
            let mut start = t.lines_end;
            let mut before = before;
            let mut text = if opts.docker_json {
                match decode::docker_json_line(body) {
                    Some((piece, true)) => {
                        // A piece of a long line: kept until its last piece.
                        match &mut t.partial {
                            Some((_, _, text)) => text.push_str(&piece),
                            None => t.partial = Some((start, before.clone(), piece)),
                        }
                        t.lines_end += len as u64;
                        pos += len;
                        continue;
                    }
                    Some((last, false)) => match t.partial.take() {
                        Some((s, crc, mut text)) => {
                            text.push_str(&last);
                            start = s;
                            before = crc;
                            text
                        }
                        None => last,
                    },
                    None => {
                        self.counters.docker_json_malformed += 1;
                        decode::decode(body, t.charset)
                    }
                }
            } else {
                decode::decode(body, t.charset)
            };
            if opts.remove_ansi {
                decode::strip_ansi(&mut text);
            }
            decode::trim_end(&mut text);
            t.lines_end += len as u64;
            pos += len;
            let rec = t.ml.push(text, start, t.lines_end, now);
            if t.ml.pending_start() == Some(start) {
                t.crc_pending = before;
            }
            if let Some(r) = rec {
                t.records += 1;
                out.push(Out {
                    path: t.path.clone(),
                    text: r.text,
                    line: t.records,
                });
            }
        }
        if pos > 0 {
            t.buf.drain(..pos);
        }
    }

    fn retire(&mut self, r: Retired) {
        if let Some(crc) = r.crc
            && r.lines_end > 0
        {
            self.rotated.push(Rotated {
                source: self.opts.source.clone(),
                offset: r.lines_end,
                crc,
                fp_crc: r.fp.crc,
                fp_len: r.fp.len,
                at: crate::clock::now_ns() / 1_000_000_000,
            });
        }
        self.retired.push(r);
    }

    fn flush_record(t: &mut Tracked, out: &mut Vec<Out>) {
        if let Some(r) = t.ml.take() {
            t.records += 1;
            out.push(Out {
                path: t.path.clone(),
                text: r.text,
                line: t.records,
            });
        }
    }

    /// The file was truncated (or rewritten): emit what it had, remember its state for its
    /// copy, and read it again from the start.
    fn truncated(&mut self, idx: usize, now: Instant, out: &mut Vec<Out>) {
        self.counters.truncations += 1;
        // Complete lines held back at a feed's limit were read before the truncation.
        self.split(idx, now, out, false, usize::MAX);
        let t = &mut self.tracked[idx];
        tracing::debug!(path = %t.path, offset = t.lines_end, "log file truncated; reading it from the start");
        Self::flush_record(t, out);
        let r = Retired {
            id: Some(t.id),
            generation: t.generation,
            lines_end: t.lines_end,
            crc: t.crc.take().map(|c| c.finalize()),
            fp: t.fp,
            at: now,
        };
        self.retire(r);
        let t = &mut self.tracked[idx];
        t.generation += 1;
        t.read_off = 0;
        t.lines_end = 0;
        t.buf.clear();
        t.crc = Some(crc32fast::Hasher::new());
        t.crc_pending = None;
        let head = read_head(&t.file, FP_BYTES);
        t.fp = Fingerprint::of(&head);
        t.charset = self.opts.charset.for_head(&head);
        t.ml.reset();
        t.partial = None;
        t.last_data = now;
    }

    /// Periodic checks: truncation, idle records, release of finished files, dead files.
    fn maintain(&mut self, now: Instant, out: &mut Vec<Out>) {
        self.retired
            .retain(|r| now.saturating_duration_since(r.at) < RETIRED_KEEP);
        if self.retired.len() > MAX_RETIRED {
            let extra = self.retired.len() - MAX_RETIRED;
            self.retired.drain(..extra);
        }
        let mut i = 0;
        while i < self.tracked.len() {
            let t = &mut self.tracked[i];
            if t.link.is_some() || !t.at_eof {
                i += 1;
                continue;
            }
            let quiet = now.saturating_duration_since(t.last_data);
            // A record that lines may still join waits for them: the lines of one stack trace
            // written seconds apart stay one record.
            let wait = if t.ml.joins() {
                self.opts.multiline_wait
            } else {
                IDLE_FLUSH
            };
            if quiet >= wait {
                Self::flush_record(t, out);
            }
            if now.saturating_duration_since(t.last_check) < CHECK_INTERVAL {
                i += 1;
                continue;
            }
            t.last_check = now;
            let meta = t.file.metadata().ok();
            let size = meta.as_ref().map_or(t.read_off, |m| m.len());
            if size < t.read_off || !Self::head_unchanged(t) {
                self.truncated(i, now, out);
                i += 1;
                continue;
            }
            let t = &mut self.tracked[i];
            let released = t.gone_since.is_some() && quiet >= RELEASE_IDLE && size <= t.read_off;
            let dead = meta
                .as_ref()
                .is_some_and(|m| is_old(m, self.opts.ignore_dead_log))
                && size <= t.read_off;
            if released || dead {
                // Lines held back at a feed's limit.
                self.split(i, now, out, false, usize::MAX);
                if released {
                    // The rest of a line without its line break is still a line.
                    self.split(i, now, out, true, usize::MAX);
                }
                let t = &mut self.tracked[i];
                Self::flush_record(t, out);
                let t = self.tracked.remove(i);
                if released {
                    tracing::debug!(path = %t.path, "log file released");
                    self.counters.released += 1;
                    self.released.push(t.id);
                    self.retire(Retired {
                        id: Some(t.id),
                        generation: t.generation,
                        lines_end: t.lines_end,
                        crc: t.crc.map(|c| c.finalize()),
                        fp: t.fp,
                        at: now,
                    });
                } else {
                    tracing::debug!(path = %t.path, "log file inactive; closed");
                    // Reopened from here when it changes again.
                    let e = t.entry(&self.opts.source);
                    self.restored.insert(t.id, e.clone());
                    self.closed.push(e);
                }
                continue;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests;
