//! The committer: ONE thread (`dk-log-commit`) saves the read positions of every tailing
//! instance of the agent.
//!
//! An instance hands over, after each turn, the positions its records reached together with
//! IO's acknowledgement of the feed that holds them ([`Commit`]). Per instance, in the order
//! handed over, a commit is applied to the positions store only once its acknowledgement has
//! come (the points are in the journal): at-least-once. The acknowledgements are polled with
//! wakers that post to this thread, so no thread waits on one instance while another's
//! acknowledgements arrive. An instance's first acknowledgement IO gives up on (the agent is
//! stopping) ends its commits: later positions are not saved, those lines are read again at
//! the next start. A store is rewritten at most every [`SAVE_EVERY`] (a rewrite costs the
//! whole file), and at once when an instance ends.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::positions::{self, Entry, FileId, Rotated, Store};

/// Positions are written at most this often (and when an instance ends).
pub const SAVE_EVERY: Duration = Duration::from_millis(100);

/// Positions to save once `ack` fires.
pub struct Commit {
    pub ack: Option<crate::io::Ack>,
    pub updates: Vec<Entry>,
    pub released: Vec<FileId>,
    pub rotated: Vec<Rotated>,
}

enum Msg {
    Open {
        lane: u64,
        store: Arc<Mutex<Store>>,
        source: String,
        stats: Arc<crate::stats::InputStats>,
    },
    Commit(u64, Commit),
    /// The instance hands over nothing more.
    Close(u64),
    /// An acknowledgement of the lane may have come.
    Woken(u64),
    /// Answer once every commit handed over is applied or given up on, and saved.
    Flush(std::sync::mpsc::SyncSender<()>),
}

/// The committer (one per process: [`global`]).
pub struct Committer {
    tx: Mutex<Sender<Msg>>,
    next: std::sync::atomic::AtomicU64,
}

/// One instance's way to the committer.
pub struct Lane {
    id: u64,
    tx: Sender<Msg>,
}

impl Lane {
    pub fn send(&self, c: Commit) {
        let _ = self.tx.send(Msg::Commit(self.id, c));
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Close(self.id));
    }
}

impl Committer {
    fn start() -> Committer {
        let (tx, rx) = std::sync::mpsc::channel();
        let wake_tx = tx.clone();
        let spawned = std::thread::Builder::new()
            .name("dk-log-commit".into())
            .spawn(move || run(rx, wake_tx));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the log positions thread: positions are not saved");
        }
        Committer {
            tx: Mutex::new(tx),
            next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    fn sender(&self) -> Sender<Msg> {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A lane for an instance of `source` whose positions live in `store`; save errors are
    /// recorded on `stats`.
    pub fn open(
        &self,
        store: Arc<Mutex<Store>>,
        source: &str,
        stats: Arc<crate::stats::InputStats>,
    ) -> Lane {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tx = self.sender();
        let _ = tx.send(Msg::Open {
            lane: id,
            store,
            source: source.to_string(),
            stats,
        });
        Lane { id, tx }
    }

    /// Waits (until `deadline`) for every commit handed over to be applied or given up on,
    /// and saved. True if done in time.
    pub fn flush(&self, deadline: Instant) -> bool {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        if self.sender().send(Msg::Flush(tx)).is_err() {
            return false;
        }
        rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

static GLOBAL: OnceLock<Committer> = OnceLock::new();

/// The agent's committer (started with the first lane).
pub fn global() -> &'static Committer {
    GLOBAL.get_or_init(Committer::start)
}

/// The agent's committer, if any instance has started it.
pub fn started() -> Option<&'static Committer> {
    GLOBAL.get()
}

struct AckWaker {
    lane: u64,
    tx: Mutex<Sender<Msg>>,
}

impl Wake for AckWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        let _ = self
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(Msg::Woken(self.lane));
    }
}

struct LaneState {
    store: Arc<Mutex<Store>>,
    source: String,
    queue: VecDeque<Commit>,
    waker: Waker,
    closed: bool,
    /// IO gave up on an acknowledgement: nothing more is applied.
    dead: bool,
}

struct StoreState {
    store: Arc<Mutex<Store>>,
    stats: Arc<crate::stats::InputStats>,
    last_save: Option<Instant>,
    /// Applied and not yet saved.
    unsaved: bool,
    /// Save without waiting for [`SAVE_EVERY`].
    now: bool,
}

fn key(s: &Arc<Mutex<Store>>) -> usize {
    Arc::as_ptr(s) as usize
}

fn run(rx: Receiver<Msg>, wake_tx: Sender<Msg>) {
    let mut lanes: HashMap<u64, LaneState> = HashMap::new();
    let mut stores: HashMap<usize, StoreState> = HashMap::new();
    let mut flushes: Vec<std::sync::mpsc::SyncSender<()>> = Vec::new();
    loop {
        // Wait for work, or until the earliest save is due.
        let due = stores
            .values()
            .filter(|s| s.unsaved)
            .map(|s| {
                if s.now {
                    Instant::now()
                } else {
                    s.last_save.map_or_else(Instant::now, |t| t + SAVE_EVERY)
                }
            })
            .min();
        let first = match due {
            Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return,
            },
        };
        let mut touched: Vec<u64> = Vec::new();
        let mut next = first;
        while let Some(m) = next {
            match m {
                Msg::Open {
                    lane,
                    store,
                    source,
                    stats,
                } => {
                    stores.entry(key(&store)).or_insert_with(|| StoreState {
                        store: store.clone(),
                        stats: stats.clone(),
                        last_save: None,
                        unsaved: false,
                        now: false,
                    });
                    let waker = Waker::from(Arc::new(AckWaker {
                        lane,
                        tx: Mutex::new(wake_tx.clone()),
                    }));
                    lanes.insert(
                        lane,
                        LaneState {
                            store,
                            source,
                            queue: VecDeque::new(),
                            waker,
                            closed: false,
                            dead: false,
                        },
                    );
                }
                Msg::Commit(lane, c) => {
                    if let Some(l) = lanes.get_mut(&lane)
                        && !l.dead
                    {
                        l.queue.push_back(c);
                        touched.push(lane);
                    }
                }
                Msg::Close(lane) => {
                    if let Some(l) = lanes.get_mut(&lane) {
                        l.closed = true;
                        touched.push(lane);
                    }
                }
                Msg::Woken(lane) => touched.push(lane),
                Msg::Flush(reply) => flushes.push(reply),
            }
            next = rx.try_recv().ok();
        }
        touched.sort_unstable();
        touched.dedup();
        for id in touched {
            let Some(l) = lanes.get_mut(&id) else {
                continue;
            };
            let applied = advance(l);
            let st = stores.get_mut(&key(&l.store));
            if let Some(st) = st {
                if applied {
                    st.unsaved = true;
                }
                if l.closed && (l.queue.is_empty() || l.dead) {
                    // The instance ended: what it reached is saved now.
                    st.unsaved = true;
                    st.now = true;
                }
            }
            if l.closed && (l.queue.is_empty() || l.dead) {
                lanes.remove(&id);
            }
        }
        let flushing = !flushes.is_empty() && lanes.values().all(|l| l.queue.is_empty() || l.dead);
        let now = Instant::now();
        for st in stores.values_mut() {
            if !st.unsaved {
                continue;
            }
            if flushing || st.now || st.last_save.is_none_or(|t| now >= t + SAVE_EVERY) {
                if let Err(e) = positions::lock(&st.store).save() {
                    tracing::warn!(error = %e, "read positions not saved");
                    st.stats.record_error(e.to_string());
                }
                st.last_save = Some(now);
                st.unsaved = false;
                st.now = false;
            }
        }
        if flushing {
            for f in flushes.drain(..) {
                let _ = f.send(());
            }
        }
        crate::idle::thread_idle();
    }
}

/// Applies the lane's commits whose acknowledgement has come, in order. True if any was.
fn advance(l: &mut LaneState) -> bool {
    let mut applied = false;
    let mut cx = Context::from_waker(&l.waker);
    while let Some(head) = l.queue.front_mut() {
        if l.dead {
            l.queue.clear();
            break;
        }
        if let Some(ack) = head.ack.as_mut() {
            match Pin::new(ack).poll(&mut cx) {
                Poll::Pending => break,
                Poll::Ready(Err(_)) => {
                    l.dead = true;
                    l.queue.clear();
                    break;
                }
                Poll::Ready(Ok(())) => {}
            }
        }
        let Some(c) = l.queue.pop_front() else { break };
        let mut st = positions::lock(&l.store);
        for e in c.updates {
            st.set(e);
        }
        for id in c.released {
            st.remove(&l.source, id);
        }
        for r in c.rotated {
            st.add_rotated(r);
        }
        applied = true;
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(offset: u64) -> Entry {
        Entry {
            source: "s".into(),
            dev: 1,
            inode: 2,
            offset,
            fp_crc: 0,
            fp_len: 0,
            crc: None,
            path: "/x".into(),
        }
    }

    fn saved_offset(path: &std::path::Path) -> Option<u64> {
        let s = Store::load(path);
        s.get("s", FileId { dev: 1, inode: 2 }).map(|e| e.offset)
    }

    #[test]
    fn positions_are_saved_in_order_once_acknowledged_and_not_after_a_refused_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("positions.json");
        let store = Arc::new(Mutex::new(Store::load(&path)));
        let c = Committer::start();
        let stats = Arc::new(crate::stats::InputStats::new("logging"));
        let lane = c.open(store.clone(), "s", stats.clone());
        let (t1, a1) = tokio::sync::oneshot::channel();
        let (t2, a2) = tokio::sync::oneshot::channel();
        lane.send(Commit {
            ack: Some(a1),
            updates: vec![entry(10)],
            released: vec![],
            rotated: vec![],
        });
        lane.send(Commit {
            ack: Some(a2),
            updates: vec![entry(20)],
            released: vec![],
            rotated: vec![],
        });
        // The second is acknowledged first: nothing moves until the first is.
        t2.send(()).unwrap();
        assert!(!c.flush(Instant::now() + Duration::from_millis(300)));
        assert_eq!(saved_offset(&path), None);
        t1.send(()).unwrap();
        assert!(c.flush(Instant::now() + Duration::from_secs(5)));
        assert_eq!(saved_offset(&path), Some(20));
        // IO gives up on the next: it and those after it are not applied.
        let (t3, a3) = tokio::sync::oneshot::channel::<()>();
        lane.send(Commit {
            ack: Some(a3),
            updates: vec![entry(30)],
            released: vec![],
            rotated: vec![],
        });
        lane.send(Commit {
            ack: None,
            updates: vec![entry(40)],
            released: vec![],
            rotated: vec![],
        });
        drop(t3);
        drop(lane);
        assert!(c.flush(Instant::now() + Duration::from_secs(5)));
        assert_eq!(saved_offset(&path), Some(20));
    }

    #[test]
    fn many_lanes_share_one_thread_and_one_slow_ack_holds_only_its_lane() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("positions.json");
        let store = Arc::new(Mutex::new(Store::load(&path)));
        let c = Committer::start();
        let stats = Arc::new(crate::stats::InputStats::new("logging"));
        let slow = c.open(store.clone(), "slow", stats.clone());
        let (_held, never) = tokio::sync::oneshot::channel::<()>();
        let mut e = entry(5);
        e.source = "slow".into();
        slow.send(Commit {
            ack: Some(never),
            updates: vec![e],
            released: vec![],
            rotated: vec![],
        });
        let mut lanes = Vec::new();
        for i in 0..100u64 {
            let l = c.open(store.clone(), "s", stats.clone());
            let (t, a) = tokio::sync::oneshot::channel();
            let mut e = entry(i);
            e.inode = 100 + i;
            l.send(Commit {
                ack: Some(a),
                updates: vec![e],
                released: vec![],
                rotated: vec![],
            });
            t.send(()).unwrap();
            lanes.push(l);
        }
        drop(lanes);
        let t0 = Instant::now();
        loop {
            let s = Store::load(&path);
            if s.of_source("s").len() == 100 {
                assert!(s.of_source("slow").is_empty());
                break;
            }
            assert!(t0.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
