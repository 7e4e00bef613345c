//! An on-disk FIFO of byte records: the queue where bodies wait when an output cannot take them,
//! and from which they are replayed in order once it can.
//!
//! Layout: segment files of checksummed records ([`super::segment`], rotated at `segment_bytes`)
//! and a `pos` file holding the reader position (segment, offset), replaced atomically.
//!
//! Guarantees:
//! - a record pushed (and, with [`Fsync::Always`], synced) survives a crash (`kill -9`);
//! - a record is removed only by [`DiskQueue::commit`] after [`DiskQueue::peek`] returned it, so a
//!   crash between the two replays it (at-least-once);
//! - a torn tail (a crash mid-write) is detected by length/CRC when the queue is opened and cut off;
//! - the queue never holds more than `capacity_bytes`: when full, whole segments are evicted
//!   oldest first, and every evicted record is handed to the caller so it can be counted;
//! - two processes cannot open the same queue (an exclusive lock on `lock`).

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::segment::{self, HEADER, MAX_RECORD, read_record, seg_name};

/// When pushed records are flushed to stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fsync {
    /// After every push: a pushed record survives a power loss. The default.
    Always,
    /// Left to the OS: survives a process crash, not a power loss.
    Never,
}

/// Options of a queue.
#[derive(Debug, Clone)]
pub struct Options {
    /// Total bytes on disk (all segments) the queue may use.
    pub capacity_bytes: u64,
    /// Segment size at which a new segment starts.
    pub segment_bytes: u64,
    pub fsync: Fsync,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            capacity_bytes: 2 << 30,
            segment_bytes: 20 << 20,
            fsync: Fsync::Always,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("disk queue {path}: {cause}")]
    Io { path: PathBuf, cause: io::Error },
    #[error("disk queue {0} is in use by another process")]
    Locked(PathBuf),
    #[error("record of {size} bytes does not fit in the disk queue (capacity {capacity} bytes)")]
    TooLarge { size: usize, capacity: u64 },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.to_path_buf(),
        cause: source,
    }
}

#[derive(Debug)]
struct Segment {
    seq: u64,
    /// Bytes of valid records in the file.
    size: u64,
    /// Records in the file (all of them, read or not).
    records: u64,
}

#[derive(Debug)]
struct Inner {
    segments: VecDeque<Segment>,
    /// Append handle of the last segment.
    writer: Option<File>,
    /// Reader: segment sequence and byte offset of the next record.
    read_seq: u64,
    read_off: u64,
    /// Records already consumed in the reader's segment.
    read_records: u64,
    /// Open reader handle (segment seq, file).
    reader: Option<(u64, File)>,
    /// Size of the record returned by the last `peek`, not yet committed.
    peeked: Option<u64>,
}

/// A crash-safe FIFO of byte records on disk.
#[derive(Debug)]
pub struct DiskQueue {
    dir: PathBuf,
    opts: Options,
    inner: Mutex<Inner>,
    _lock: File,
}

impl DiskQueue {
    /// Opens (or creates) the queue in `dir`, repairing a torn tail.
    pub fn open(dir: impl Into<PathBuf>, opts: Options) -> Result<DiskQueue, QueueError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let lock = match segment::lock_dir(&dir).map_err(io_err(&dir))? {
            Some(l) => l,
            None => return Err(QueueError::Locked(dir)),
        };
        let segments: VecDeque<Segment> = segment::open_segments(&dir)
            .map_err(io_err(&dir))?
            .into_iter()
            .map(|f| Segment {
                seq: f.seq,
                size: f.size,
                records: f.records,
            })
            .collect();
        let mut segments = segments;

        // Reader position.
        let (mut read_seq, mut read_off) = segment::read_pos(&dir, "pos").unwrap_or((0, 0));
        match segments.iter().find(|s| s.seq >= read_seq) {
            Some(s) if s.seq == read_seq => read_off = read_off.min(s.size),
            Some(s) => {
                read_seq = s.seq;
                read_off = 0;
            }
            None => {
                read_seq = segments.back().map_or(0, |s| s.seq + 1);
                read_off = 0;
            }
        }
        // Segments wholly before the reader are consumed.
        while segments.front().is_some_and(|s| s.seq < read_seq) {
            if let Some(s) = segments.pop_front() {
                let _ = fs::remove_file(dir.join(seg_name(s.seq)));
            }
        }
        let read_records = match segments.front() {
            Some(s) if s.seq == read_seq && read_off > 0 => {
                count_records(&dir.join(seg_name(s.seq)), read_off)
            }
            _ => 0,
        };
        let q = DiskQueue {
            dir,
            opts,
            inner: Mutex::new(Inner {
                segments,
                writer: None,
                read_seq,
                read_off,
                read_records,
                reader: None,
                peeked: None,
            }),
            _lock: lock,
        };
        Ok(q)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes on disk (unread records plus not-yet-deleted read ones of the current segment).
    pub fn bytes(&self) -> u64 {
        self.lock().segments.iter().map(|s| s.size).sum()
    }

    /// Bytes of the records waiting to be read (what [`bytes`](DiskQueue::bytes) holds less
    /// the records already read from the segment being read).
    pub fn pending_bytes(&self) -> u64 {
        let g = self.lock();
        let total: u64 = g.segments.iter().map(|s| s.size).sum();
        let read = match g.segments.front() {
            Some(s) if s.seq == g.read_seq => g.read_off.min(s.size),
            _ => 0,
        };
        total - read
    }

    /// Records waiting to be read.
    pub fn len(&self) -> u64 {
        let g = self.lock();
        g.segments.iter().map(|s| s.records).sum::<u64>() - g.read_records
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a record of `len` bytes can be pushed without evicting anything.
    pub fn fits(&self, len: usize) -> bool {
        let need = HEADER + len as u64;
        let g = self.lock();
        let total: u64 = g.segments.iter().map(|s| s.size).sum();
        total + need <= self.opts.capacity_bytes
    }

    /// Appends a record. When the queue would exceed its capacity, the oldest segments are
    /// evicted first; `evicted` is called with every unread record thrown away.
    pub fn push(&self, payload: &[u8], evicted: &mut dyn FnMut(&[u8])) -> Result<(), QueueError> {
        let need = HEADER + payload.len() as u64;
        if payload.len() > MAX_RECORD || need > self.opts.capacity_bytes {
            return Err(QueueError::TooLarge {
                size: payload.len(),
                capacity: self.opts.capacity_bytes,
            });
        }
        let mut g = self.lock();
        // Rotate when the last segment is full, or when the record would overflow the capacity
        // (so that older segments, including this one, can be evicted to make room).
        let total: u64 = g.segments.iter().map(|s| s.size).sum();
        let rotate = g.segments.back().is_none_or(|s| {
            s.size > 0
                && (s.size + need > self.opts.segment_bytes
                    || total + need > self.opts.capacity_bytes)
        });
        if rotate {
            let next = g.segments.back().map_or(g.read_seq.max(1), |s| s.seq + 1);
            g.writer = None;
            g.segments.push_back(Segment {
                seq: next,
                size: 0,
                records: 0,
            });
            if g.segments.len() == 1 {
                g.read_seq = next;
                g.read_off = 0;
                g.read_records = 0;
            }
        }
        // Evict oldest segments (never the one being written) until the record fits.
        while g.segments.iter().map(|s| s.size).sum::<u64>() + need > self.opts.capacity_bytes
            && g.segments.len() > 1
        {
            self.evict_oldest(&mut g, evicted)?;
        }
        let seq = g.segments.back().map_or(0, |s| s.seq);
        if g.writer.is_none() {
            let path = self.dir.join(seg_name(seq));
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            g.writer = Some(f);
        }
        let path = self.dir.join(seg_name(seq));
        if let Some(w) = g.writer.as_mut() {
            segment::write_record(w, &[payload]).map_err(io_err(&path))?;
            if self.opts.fsync == Fsync::Always {
                w.sync_data().map_err(io_err(&path))?;
            }
        }
        if let Some(s) = g.segments.back_mut() {
            s.size += need;
            s.records += 1;
        }
        Ok(())
    }

    fn evict_oldest(
        &self,
        g: &mut Inner,
        evicted: &mut dyn FnMut(&[u8]),
    ) -> Result<(), QueueError> {
        let Some(s) = g.segments.pop_front() else {
            return Ok(());
        };
        let path = self.dir.join(seg_name(s.seq));
        // Hand every unread record to the caller.
        let start = if s.seq == g.read_seq { g.read_off } else { 0 };
        if let Ok(mut f) = File::open(&path) {
            let _ = f.seek(SeekFrom::Start(start));
            let mut r = io::BufReader::new(f);
            while let Ok(Some(p)) = read_record(&mut r) {
                evicted(&p);
            }
        }
        fs::remove_file(&path).map_err(io_err(&path))?;
        if s.seq == g.read_seq {
            g.reader = None;
            g.peeked = None;
            let next = g.segments.front().map_or(s.seq + 1, |n| n.seq);
            g.read_seq = next;
            g.read_off = 0;
            g.read_records = 0;
            self.save_pos(g)?;
        }
        Ok(())
    }

    /// The next record, without removing it. The same record is returned until [`commit`].
    ///
    /// [`commit`]: DiskQueue::commit
    pub fn peek(&self) -> Result<Option<Vec<u8>>, QueueError> {
        let mut g = self.lock();
        loop {
            let Some(front) = g.segments.front() else {
                return Ok(None);
            };
            let (front_seq, front_size) = (front.seq, front.size);
            if g.read_seq != front_seq {
                g.read_seq = front_seq;
                g.read_off = 0;
                g.read_records = 0;
                g.reader = None;
            }
            if g.read_off >= front_size {
                if g.segments.len() == 1 {
                    return Ok(None);
                }
                // Fully read and not the segment being written: delete it, go on.
                g.segments.pop_front();
                g.reader = None;
                let path = self.dir.join(seg_name(front_seq));
                fs::remove_file(&path).map_err(io_err(&path))?;
                continue;
            }
            let path = self.dir.join(seg_name(front_seq));
            if g.reader.as_ref().is_none_or(|(s, _)| *s != front_seq) {
                let f = File::open(&path).map_err(io_err(&path))?;
                g.reader = Some((front_seq, f));
            }
            let off = g.read_off;
            let Some((_, f)) = g.reader.as_mut() else {
                return Ok(None);
            };
            f.seek(SeekFrom::Start(off)).map_err(io_err(&path))?;
            match read_record(f) {
                Ok(Some(p)) => {
                    g.peeked = Some(HEADER + p.len() as u64);
                    return Ok(Some(p));
                }
                Ok(None) | Err(_) => {
                    // Unreadable (corrupted after open): skip the rest of this segment.
                    tracing::warn!(path = %path.display(), offset = off, "disk queue: unreadable record, skipping the rest of the segment");
                    let size = front_size;
                    g.read_off = size;
                    if let Some(fr) = g.segments.front_mut() {
                        g.read_records = fr.records;
                    }
                    continue;
                }
            }
        }
    }

    /// Removes the record returned by the last [`peek`](DiskQueue::peek).
    pub fn commit(&self) -> Result<(), QueueError> {
        let mut g = self.lock();
        let Some(n) = g.peeked.take() else {
            return Ok(());
        };
        g.read_off += n;
        g.read_records += 1;
        let done = g
            .segments
            .front()
            .is_some_and(|s| s.seq == g.read_seq && g.read_off >= s.size && g.segments.len() > 1);
        if done {
            let seq = g.read_seq;
            g.segments.pop_front();
            g.reader = None;
            let path = self.dir.join(seg_name(seq));
            fs::remove_file(&path).map_err(io_err(&path))?;
            let next = g.segments.front().map_or(seq + 1, |s| s.seq);
            g.read_seq = next;
            g.read_off = 0;
            g.read_records = 0;
        }
        self.save_pos(&g)
    }

    fn save_pos(&self, g: &Inner) -> Result<(), QueueError> {
        segment::write_pos(&self.dir, "pos", g.read_seq, g.read_off)
            .map_err(io_err(&self.dir.join("pos")))
    }
}

fn count_records(path: &Path, upto: u64) -> u64 {
    let Ok(f) = File::open(path) else { return 0 };
    let mut r = io::BufReader::new(f);
    let mut off = 0;
    let mut n = 0;
    while off < upto {
        match read_record(&mut r) {
            Ok(Some(p)) => {
                off += HEADER + p.len() as u64;
                n += 1;
            }
            _ => break,
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;

    fn opts(cap: u64, seg: u64) -> Options {
        Options {
            capacity_bytes: cap,
            segment_bytes: seg,
            fsync: Fsync::Never,
        }
    }

    fn drain(q: &DiskQueue) -> Vec<Vec<u8>> {
        let mut out = vec![];
        while let Some(p) = q.peek().unwrap() {
            q.commit().unwrap();
            out.push(p);
        }
        out
    }

    #[test]
    fn fifo_across_segments_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = DiskQueue::open(dir.path(), opts(1 << 20, 64)).unwrap();
            for i in 0..20u8 {
                q.push(&[i; 20], &mut |_| panic!("no eviction expected"))
                    .unwrap();
            }
            assert_eq!(q.len(), 20);
            assert_eq!(q.peek().unwrap(), Some(vec![0; 20]));
            assert_eq!(q.peek().unwrap(), Some(vec![0; 20]), "peek is idempotent");
            q.commit().unwrap();
            q.peek().unwrap();
            q.commit().unwrap();
            // Not committed: replayed after reopen.
            assert_eq!(q.peek().unwrap(), Some(vec![2; 20]));
        }
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 64)).unwrap();
        assert_eq!(q.len(), 18);
        let rest = drain(&q);
        assert_eq!(rest.len(), 18);
        assert_eq!(rest[0], vec![2; 20]);
        assert_eq!(rest[17], vec![19; 20]);
        assert!(q.is_empty());
        // Consumed segments are deleted; only the active one (possibly) remains.
        let segs = fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("seg-")
            })
            .count();
        assert!(segs <= 1, "{segs} segments left");
    }

    #[test]
    fn torn_tail_is_cut_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).unwrap();
            q.push(b"first", &mut |_| {}).unwrap();
            q.push(b"second", &mut |_| {}).unwrap();
        }
        let seg = dir.path().join(seg_name(1));
        let len = fs::metadata(&seg).unwrap().len();
        // Simulate a crash in the middle of writing a third record.
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[50, 0, 0, 0, 1, 2, 3, 4, b'x']).unwrap();
        drop(f);
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).unwrap();
        assert_eq!(fs::metadata(&seg).unwrap().len(), len);
        q.push(b"third", &mut |_| {}).unwrap();
        assert_eq!(
            drain(&q),
            vec![b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
        );
    }

    #[test]
    fn full_queue_evicts_oldest_and_reports_them() {
        let dir = tempfile::tempdir().unwrap();
        // Segments of 3 records (28 bytes each), capacity for 2 segments.
        let q = DiskQueue::open(dir.path(), opts(170, 84)).unwrap();
        let mut evicted = vec![];
        for i in 0..10u8 {
            q.push(&[i; 20], &mut |p| evicted.push(p[0])).unwrap();
        }
        assert!(q.bytes() <= 170);
        let left: Vec<u8> = drain(&q).iter().map(|p| p[0]).collect();
        let mut all = evicted.clone();
        all.extend(&left);
        assert_eq!(
            all,
            (0..10).collect::<Vec<_>>(),
            "every record is either evicted or kept, in order"
        );
        assert!(!evicted.is_empty());
    }

    #[test]
    fn too_large_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let q = DiskQueue::open(dir.path(), opts(100, 100)).unwrap();
        assert!(matches!(
            q.push(&[0; 200], &mut |_| {}),
            Err(QueueError::TooLarge { .. })
        ));
    }

    #[test]
    fn second_open_is_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _q = DiskQueue::open(dir.path(), Options::default()).unwrap();
        assert!(matches!(
            DiskQueue::open(dir.path(), Options::default()),
            Err(QueueError::Locked(_))
        ));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(Vec<u8>),
        Pop,
        PeekOnly,
        Reopen,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..40).prop_map(Op::Push),
            3 => Just(Op::Pop),
            1 => Just(Op::PeekOnly),
            1 => Just(Op::Reopen),
        ]
    }

    proptest! {
        /// The queue behaves like a VecDeque (minus evicted records, which are reported), across
        /// rotations, evictions and reopens.
        #[test]
        fn behaves_like_a_deque(ops in proptest::collection::vec(op(), 1..120), seg in 30u64..1000, cap in 200u64..800) {
            let dir = tempfile::tempdir().unwrap();
            let mut q = Some(DiskQueue::open(dir.path(), opts(cap, seg)).unwrap());
            let mut model: VecDeque<Vec<u8>> = VecDeque::new();
            for op in ops {
                let qq = q.as_ref().unwrap();
                match op {
                    Op::Push(p) => {
                        let mut ev = vec![];
                        qq.push(&p, &mut |e| ev.push(e.to_vec())).unwrap();
                        for e in ev {
                            prop_assert_eq!(model.pop_front(), Some(e), "evicted records are the oldest");
                        }
                        model.push_back(p);
                        prop_assert!(qq.bytes() <= cap);
                    }
                    Op::Pop => {
                        let got = qq.peek().unwrap();
                        prop_assert_eq!(got.clone(), model.front().cloned());
                        if got.is_some() {
                            qq.commit().unwrap();
                            model.pop_front();
                        }
                    }
                    Op::PeekOnly => {
                        prop_assert_eq!(qq.peek().unwrap(), model.front().cloned());
                    }
                    Op::Reopen => {
                        // Close (release the lock) before opening again. Another test of this
                        // process that forks a child at that moment holds a copy of the lock's
                        // descriptor (and so the flock) until the child execs: retry briefly.
                        drop(q.take());
                        let mut tries = 0;
                        q = Some(loop {
                            match DiskQueue::open(dir.path(), opts(cap, seg)) {
                                Err(QueueError::Locked(_)) if tries < 100 => {
                                    tries += 1;
                                    std::thread::sleep(std::time::Duration::from_millis(10));
                                }
                                r => break r.unwrap(),
                            }
                        });
                    }
                }
                prop_assert_eq!(q.as_ref().unwrap().len(), model.len() as u64);
            }
        }
    }
}
