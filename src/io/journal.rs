//! The write-ahead journal of one category: a feed that must survive a crash of the process
//! (points the write API or a receiver acknowledges) is appended here before its producer gets
//! its answer, and is replayed at start-up until IO has finished with it.
//!
//! ```text
//!  producer ── append (write(2), no fsync) ──> segment files   ── fsync every fsync_interval
//!      │                 │
//!      │                 └─ memory queue has room and nothing waits on disk?
//!      │                       yes: the feed goes on in memory (the fast path: never read back)
//!      │                       no:  it waits on disk; the spill reader reads it back, in order
//!      v
//!  answered at once      IO delivers (or queues on disk, or drops and counts) ─> `done(range)`
//!                        ─> the commit position moves past every finished record
//! ```
//!
//! - Records are finished out of order (several workers); the commit position moves over the
//!   contiguous prefix of finished records and is saved at most every [`SAVE_EVERY`] (by a
//!   finish, or by [`Journal::save_commit`] when none comes). After a crash, records from the
//!   saved commit on are replayed: the few finished in the last [`SAVE_EVERY`] are sent again
//!   (at-least-once).
//! - A process crash loses nothing appended (the data is in the kernel's page cache); an OS
//!   crash or power loss may lose what was appended since the last fsync (`fsync_interval`).
//! - The journal holds at most `capacity_bytes` of unfinished records: beyond that, appends are
//!   refused ([`JournalError::Full`]) and producers push back.
//! - Segment files and their format are the disk queues' ([`super::segment`]).

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::segment::{self, HEADER, MAX_RECORD};
use crate::point::Category;

/// The commit position is written to disk at most this often (and on close).
pub const SAVE_EVERY: Duration = Duration::from_millis(100);

/// A place in the journal: segment and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Pos {
    pub seq: u64,
    pub off: u64,
}

/// Options of a journal.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// Unfinished records may take at most this many bytes.
    pub capacity_bytes: u64,
    /// A segment file is started after this many bytes.
    pub segment_bytes: u64,
    /// `true`: sync every append (no loss even on a power cut, at a cost); `false`: the caller
    /// syncs on a schedule ([`Journal::tick`]).
    pub sync_each_append: bool,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            capacity_bytes: 2 << 30,
            segment_bytes: 32 << 20,
            sync_each_append: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "the {category} journal is full ({pending} bytes wait for delivery, the cap is {capacity}): [dataway.wal] max_capacity_gb"
    )]
    Full {
        category: Category,
        pending: u64,
        capacity: u64,
    },
    #[error("journal {path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("journal {0} is in use by another process")]
    Locked(PathBuf),
    #[error("a record of {0} bytes is larger than a journal takes")]
    TooLarge(usize),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |cause| JournalError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    seq: u64,
    size: u64,
}

#[derive(Debug)]
struct Inner {
    segments: VecDeque<Seg>,
    writer: Option<File>,
    /// Where the next record goes.
    end: Pos,
    /// Every record before this is finished.
    commit: Pos,
    /// Finished records past `commit`, by start.
    done: BTreeMap<Pos, Pos>,
    /// The first record not handed on in memory: the spill reader's place. `None`: nothing
    /// waits on disk.
    spill_from: Option<Pos>,
    /// The commit position on disk, and when it was written.
    saved: Pos,
    saved_at: Instant,
    /// Appended since the last sync.
    unsynced: bool,
    /// Read handle of the spill reader (segment, file).
    reader: Option<(u64, File)>,
    /// Records before this were written by an earlier run.
    replay_end: Pos,
}

/// One finished-or-not range of records: the feed that carries it tells the journal when IO has
/// finished with it ([`Mark::done`]).
#[derive(Debug)]
pub struct Mark {
    journal: Arc<Journal>,
    start: Pos,
    end: Pos,
}

impl Mark {
    /// IO is done with these records (delivered, queued on an output's disk queue, or dropped
    /// and counted).
    pub fn done(self) {
        self.journal.finish(self.start, self.end);
    }
}

/// A journal record held by the value it describes: a header made on demand, then bytes the
/// value already holds ([`Journal::append_item`] writes both without joining them).
pub trait RecordParts {
    /// Appends the record's first bytes to `out`.
    fn record_head(&self, out: &mut Vec<u8>);
    /// The rest of the record.
    fn record_body(&self) -> &[u8];
}

/// A record read back from disk, with its mark.
pub struct Spilled {
    pub payload: Vec<u8>,
    pub mark: Mark,
    /// Left by an earlier run (replayed at start-up), not spilled by this one.
    pub replayed: bool,
}

/// The journal of one category.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    category: Category,
    opts: JournalOptions,
    inner: Mutex<Inner>,
    /// Woken when records start waiting on disk.
    pub(super) spilled: tokio::sync::Notify,
    _lock: File,
}

impl Journal {
    /// Opens (or creates) the journal in `dir`: torn tails are cut, finished segments removed,
    /// and every unfinished record is set to be read back (replayed).
    pub fn open(
        dir: impl Into<PathBuf>,
        category: Category,
        opts: JournalOptions,
    ) -> Result<Arc<Journal>, JournalError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lock = match segment::lock_dir(&dir).map_err(io_err(&dir))? {
            Some(l) => l,
            None => return Err(JournalError::Locked(dir)),
        };
        let mut segments: VecDeque<Seg> = segment::open_segments(&dir)
            .map_err(io_err(&dir))?
            .into_iter()
            .map(|f| Seg {
                seq: f.seq,
                size: f.size,
            })
            .collect();
        let (seq, off) = segment::read_pos(&dir, "commit").unwrap_or((0, 0));
        let mut commit = Pos { seq, off };
        // Segments wholly before the commit position are finished.
        while segments.front().is_some_and(|s| s.seq < commit.seq) {
            if let Some(s) = segments.pop_front() {
                let path = dir.join(segment::seg_name(s.seq));
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
        match segments.front() {
            Some(s) if s.seq == commit.seq => commit.off = commit.off.min(s.size),
            Some(s) => commit = Pos { seq: s.seq, off: 0 },
            None => {}
        }
        let end = match segments.back() {
            Some(s) => Pos {
                seq: s.seq,
                off: s.size,
            },
            None => {
                let seq = commit.seq.max(1);
                commit = Pos { seq, off: 0 };
                Pos { seq, off: 0 }
            }
        };
        let j = Journal {
            dir,
            category,
            opts,
            inner: Mutex::new(Inner {
                segments,
                writer: None,
                end,
                commit,
                done: BTreeMap::new(),
                spill_from: None,
                saved: commit,
                saved_at: Instant::now(),
                unsynced: false,
                reader: None,
                replay_end: end,
            }),
            spilled: tokio::sync::Notify::new(),
            _lock: lock,
        };
        {
            let mut g = j.lock();
            let c = j.normalize(&g, g.commit);
            g.commit = c;
            if c != g.end && j.normalize(&g, g.end) != c {
                g.spill_from = Some(c);
            }
        }
        Ok(Arc::new(j))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn category(&self) -> Category {
        self.category
    }

    /// The start of the record after `p`, when `p` ends a segment that is not the last.
    fn normalize(&self, g: &Inner, p: Pos) -> Pos {
        let mut p = p;
        loop {
            let Some(i) = g.segments.iter().position(|s| s.seq == p.seq) else {
                return p;
            };
            if p.off < g.segments[i].size {
                return p;
            }
            match g.segments.get(i + 1) {
                Some(next) => {
                    p = Pos {
                        seq: next.seq,
                        off: 0,
                    }
                }
                None => return p,
            }
        }
    }

    /// Bytes of unfinished records.
    pub fn pending_bytes(&self) -> u64 {
        let g = self.lock();
        Self::pending(&g)
    }

    /// Bytes that may still be appended before the journal is full.
    pub fn room(&self) -> u64 {
        self.opts
            .capacity_bytes
            .saturating_sub(self.pending_bytes())
    }

    fn pending(g: &Inner) -> u64 {
        let total: u64 = g.segments.iter().map(|s| s.size).sum();
        let gone = match g.segments.front() {
            Some(s) if s.seq == g.commit.seq => g.commit.off.min(s.size),
            _ => 0,
        };
        total - gone
    }

    /// Whether records wait on disk to be read back.
    pub fn has_spilled(&self) -> bool {
        self.lock().spill_from.is_some()
    }

    /// Appends `payload`, then offers it to `hand` (the memory fast path) unless records already
    /// wait on disk: `hand` gets the record's [`Mark`] and returns it when it could not take
    /// the feed (the record then waits on disk for the spill reader). Ordering is kept: a record
    /// is handed on in memory only when every record before it was.
    pub fn append(
        self: &Arc<Self>,
        payload: &[u8],
        hand: impl FnOnce(Mark) -> Option<Mark>,
    ) -> Result<(), JournalError> {
        let (g, start, end) = self.write_parts(&[payload])?;
        self.offer(g, start, end, hand);
        Ok(())
    }

    /// [`append`](Journal::append) of the record `item` describes ([`RecordParts`]): its
    /// bytes are written from where they are, not copied into one buffer first, and `item`
    /// itself goes to `hand` with the mark. On an error `item` is given back.
    pub fn append_item<T: RecordParts>(
        self: &Arc<Self>,
        item: T,
        hand: impl FnOnce(Mark, T) -> Option<Mark>,
    ) -> Result<(), (T, JournalError)> {
        let mut head = Vec::new();
        item.record_head(&mut head);
        let (g, start, end) = match self.write_parts(&[&head, item.record_body()]) {
            Ok(w) => w,
            Err(e) => return Err((item, e)),
        };
        self.offer(g, start, end, |m| hand(m, item));
        Ok(())
    }

    /// Appends one record of `parts` back to back; returns the lock (held, so that the record
    /// is offered in order) and where the record is.
    fn write_parts(
        &self,
        parts: &[&[u8]],
    ) -> Result<(std::sync::MutexGuard<'_, Inner>, Pos, Pos), JournalError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let need = HEADER + len as u64;
        if len > MAX_RECORD {
            return Err(JournalError::TooLarge(len));
        }
        let mut g = self.lock();
        let pending = Self::pending(&g);
        if pending + need > self.opts.capacity_bytes {
            return Err(JournalError::Full {
                category: self.category,
                pending,
                capacity: self.opts.capacity_bytes,
            });
        }
        // A new segment when the last is full (or there is none yet).
        let rotate = g
            .segments
            .back()
            .is_none_or(|s| s.size > 0 && s.size + need > self.opts.segment_bytes);
        if rotate {
            let seq = g.segments.back().map_or(g.end.seq.max(1), |s| s.seq + 1);
            if let Some(w) = g.writer.take()
                && g.unsynced
            {
                // The finished segment is complete on disk before the next starts.
                let _ = w.sync_data();
            }
            g.segments.push_back(Seg { seq, size: 0 });
            g.end = Pos { seq, off: 0 };
        }
        let seq = g.end.seq;
        let path = self.dir.join(segment::seg_name(seq));
        if g.writer.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            g.writer = Some(f);
        }
        if let Some(w) = g.writer.as_mut() {
            segment::write_record(w, parts).map_err(io_err(&path))?;
            if self.opts.sync_each_append {
                w.sync_data().map_err(io_err(&path))?;
            } else {
                g.unsynced = true;
            }
        }
        let start = g.end;
        let end = Pos {
            seq,
            off: start.off + need,
        };
        g.end = end;
        if let Some(s) = g.segments.back_mut() {
            s.size = end.off;
        }
        Ok((g, start, end))
    }

    /// Offers the record just written to `hand` unless records wait on disk (see
    /// [`append`](Journal::append)).
    fn offer(
        self: &Arc<Self>,
        mut g: std::sync::MutexGuard<'_, Inner>,
        start: Pos,
        end: Pos,
        hand: impl FnOnce(Mark) -> Option<Mark>,
    ) {
        if g.spill_from.is_none() {
            let mark = Mark {
                journal: self.clone(),
                start,
                end,
            };
            if hand(mark).is_some() {
                g.spill_from = Some(start);
                self.spilled.notify_one();
            }
        }
    }

    /// IO has finished with the records in `[start, end)`.
    fn finish(&self, start: Pos, end: Pos) {
        let mut g = self.lock();
        g.done.insert(start, end);
        loop {
            let c = g.commit;
            if let Some(e) = g.done.remove(&c) {
                g.commit = e;
                continue;
            }
            let n = self.normalize(&g, c);
            if n != c {
                g.commit = n;
                continue;
            }
            break;
        }
        // Segments wholly finished (and not being written) go.
        while g.segments.len() > 1 && g.segments.front().is_some_and(|s| s.seq < g.commit.seq) {
            if let Some(s) = g.segments.pop_front() {
                if g.reader.as_ref().is_some_and(|(seq, _)| *seq == s.seq) {
                    g.reader = None;
                }
                let _ = fs::remove_file(self.dir.join(segment::seg_name(s.seq)));
            }
        }
        if g.saved_at.elapsed() >= SAVE_EVERY {
            self.save(&mut g);
        }
    }

    fn save(&self, g: &mut Inner) {
        if g.saved == g.commit {
            return;
        }
        match segment::write_pos(&self.dir, "commit", g.commit.seq, g.commit.off) {
            Ok(()) => {
                g.saved = g.commit;
                g.saved_at = Instant::now();
            }
            Err(e) => {
                tracing::warn!(category = %self.category, error = %e, "journal commit position not saved");
            }
        }
    }

    /// Saves the commit position if it moved since the last save. Called every
    /// [`SAVE_EVERY`]: a finish saves it only when the last save is that old, so without this
    /// the last records of a burst would wait for the next [`Journal::tick`].
    pub fn save_commit(&self) {
        let mut g = self.lock();
        self.save(&mut g);
    }

    /// The periodic work: syncs what was appended since the last call, saves the commit
    /// position. Called every `fsync_interval` and when IO stops.
    pub fn tick(&self) {
        let (writer, seq) = {
            let mut g = self.lock();
            self.save(&mut g);
            if !g.unsynced {
                return;
            }
            g.unsynced = false;
            (
                g.writer.as_ref().and_then(|w| w.try_clone().ok()),
                g.end.seq,
            )
        };
        // Synced outside the lock: appends go on meanwhile.
        if let Some(w) = writer
            && let Err(e) = w.sync_data()
        {
            tracing::warn!(category = %self.category, segment = seq, error = %e, "journal fsync failed");
            self.lock().unsynced = true;
        }
    }

    /// The next record waiting on disk, read back (blocking file IO), or `None` when nothing
    /// waits (then appends take the memory path again).
    pub fn read_spilled(self: &Arc<Self>) -> Result<Option<Spilled>, JournalError> {
        let mut g = self.lock();
        loop {
            let Some(from) = g.spill_from else {
                return Ok(None);
            };
            let from = self.normalize(&g, from);
            if from >= g.end {
                g.spill_from = None;
                g.reader = None;
                return Ok(None);
            }
            let path = self.dir.join(segment::seg_name(from.seq));
            if g.reader.as_ref().is_none_or(|(s, _)| *s != from.seq) {
                let f = File::open(&path).map_err(io_err(&path))?;
                g.reader = Some((from.seq, f));
            }
            let Some((_, f)) = g.reader.as_mut() else {
                return Ok(None);
            };
            f.seek(SeekFrom::Start(from.off)).map_err(io_err(&path))?;
            match segment::read_record(f) {
                Ok(Some(payload)) => {
                    let end = Pos {
                        seq: from.seq,
                        off: from.off + HEADER + payload.len() as u64,
                    };
                    g.spill_from = Some(end);
                    return Ok(Some(Spilled {
                        payload,
                        mark: Mark {
                            journal: self.clone(),
                            start: from,
                            end,
                        },
                        replayed: from < g.replay_end,
                    }));
                }
                Ok(None) | Err(_) => {
                    // Unreadable (the disk changed under us): the rest of the segment is lost;
                    // it counts as finished, and reading goes on with the next segment.
                    let size = g
                        .segments
                        .iter()
                        .find(|s| s.seq == from.seq)
                        .map_or(from.off, |s| s.size);
                    tracing::error!(category = %self.category, segment = from.seq, offset = from.off, "journal: unreadable record; the rest of its segment is skipped");
                    g.spill_from = Some(Pos {
                        seq: from.seq,
                        off: size,
                    });
                    g.done.insert(
                        from,
                        Pos {
                            seq: from.seq,
                            off: size,
                        },
                    );
                    if size == from.off {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Where the next record goes.
    #[cfg(test)]
    pub(crate) fn end(&self) -> Pos {
        self.lock().end
    }

    /// Saves the commit position and syncs: called when IO stops.
    pub fn close(&self) {
        self.tick();
        let mut g = self.lock();
        self.save(&mut g);
    }
}

#[cfg(test)]
mod tests;
