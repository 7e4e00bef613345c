//! The tailing workers: a fixed number of threads (`[log_tailing] workers`, by default one
//! per core, at least two) that take turns at every file-tailing instance of the agent.
//!
//! - **Turns.** An instance is a [`Job`]; a turn reads at most one feed's worth of records
//!   (250) from its files, feeds them and hands its positions to the committer. An instance
//!   with more to read goes to the back of the ready queue; one with nothing sleeps until a
//!   file-system event for one of its files wakes it, or its idle timer does. The ready queue
//!   is first-in first-out, so every ready instance gets a turn before any gets a second one:
//!   no instance can starve the others, whatever it has to read. A turn belongs to one
//!   instance: two workers never read one instance's files at once.
//! - **Stuck turns.** A turn is work on one instance only, but a read can block (a hung
//!   network file system), a script can be slow, and feeding waits while the journal is
//!   full. A worker whose turn has lasted [`STUCK_AFTER`] is set aside and a new thread takes
//!   its place, so the other instances keep their full number of workers; the stuck instance
//!   (all its files) waits for its own turn to end. When it ends, the thread beyond the
//!   number wanted leaves. At most `workers` threads are set aside at once: past that, a
//!   further stuck turn takes a worker from the others until one comes back (set-asides are
//!   logged at most once a minute).
//! - **Stalls.** An instance whose read, or whose wait for a turn, lasts [`STALL_AFTER`] is
//!   reported by the watchdog (`stalled`, logged, counted) until the read is done; feeding
//!   (the script, a full journal) is not watched: tailing waits for the journal by design.
//!
//! One timer thread wakes sleeping instances and looks for stuck turns.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use crate::stats::watchdog::Beat;

/// A turn longer than this sets its worker aside (another thread takes its place).
pub const STUCK_AFTER: Duration = Duration::from_secs(2);
/// An instance whose read, or whose wait for a turn, lasts this long is reported stalled.
pub const STALL_AFTER: Duration = Duration::from_secs(10);
/// How often the timer thread looks for stuck turns.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// Set-asides are logged at most this often (with the number not logged since).
const ASIDE_LOG_EVERY: Duration = Duration::from_secs(60);

/// What a turn asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// More to do: another turn after every ready instance has had one.
    More,
    /// Nothing to do: the next turn after this long, or on a wake-up.
    Sleep(Duration),
    /// Finished: [`Job::end`] is called.
    Done,
}

/// Work the pool takes turns at.
pub trait Job: Send + 'static {
    fn turn(&mut self) -> Turn;
    /// Called once, after the turn that returned [`Turn::Done`], or after a turn that
    /// panicked (`panic`: what it panicked with).
    fn end(self: Box<Self>, panic: Option<Box<dyn Any + Send>>);
}

/// A job in the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobId {
    index: u32,
    generation: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Free,
    Sleeping,
    Ready,
    /// `woken`: an event came during the turn: no sleep after it.
    Running {
        woken: bool,
    },
}

struct Slot {
    generation: u32,
    state: State,
    job: Option<Box<dyn Job>>,
    label: Arc<str>,
    beat: Option<Arc<Beat>>,
    /// Tells a sleep's timer from the timers of earlier sleeps.
    sleep: u64,
}

struct Worker {
    /// The job of the turn it is taking, and since when.
    turn: Option<(JobId, Instant)>,
    /// Set aside: its turn has lasted [`STUCK_AFTER`].
    stuck: bool,
}

struct Sched {
    slots: Vec<Slot>,
    free: Vec<u32>,
    ready: VecDeque<JobId>,
    timers: BinaryHeap<Reverse<(Instant, u32, u32, u64)>>,
    workers: Vec<Option<Worker>>,
    /// Worker threads not set aside.
    live: usize,
    /// Worker threads set aside.
    stuck: usize,
    timer_started: bool,
    /// When a set-aside was last logged, and how many were not logged since.
    aside_logged: Option<Instant>,
    asides_unlogged: u64,
}

struct Inner {
    sched: Mutex<Sched>,
    work: Condvar,
    timer: Condvar,
    /// Workers wanted.
    target: usize,
    stuck_after: Duration,
    stall_after: Duration,
}

/// The tailing workers (one set per agent: [`global`]).
#[derive(Clone)]
pub struct TailPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TailPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailPool")
            .field("workers", &self.inner.target)
            .finish_non_exhaustive()
    }
}

/// What the pool is doing, for tests and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub jobs: usize,
    pub ready: usize,
    /// Worker threads, set aside ones included.
    pub threads: usize,
    pub stuck: usize,
}

/// The default number of workers: one per core, at least two.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(2)
}

static WORKERS: AtomicUsize = AtomicUsize::new(0);
static GLOBAL: OnceLock<TailPool> = OnceLock::new();

/// Sets the number of workers of the agent's pool (0: [`default_workers`]); applies if the
/// pool has not started yet (it starts with the first tailing instance).
pub fn configure(workers: usize) {
    WORKERS.store(workers, Relaxed);
    if let Some(p) = GLOBAL.get() {
        let want = if workers == 0 {
            default_workers()
        } else {
            workers
        };
        if p.inner.target != want {
            tracing::warn!(
                running = p.inner.target,
                configured = want,
                "[log_tailing] workers changed: applies at the next start"
            );
        }
    }
}

/// The agent's pool.
pub fn global() -> &'static TailPool {
    GLOBAL.get_or_init(|| {
        let n = match WORKERS.load(Relaxed) {
            0 => default_workers(),
            n => n,
        };
        TailPool::new(n)
    })
}

fn lock(m: &Mutex<Sched>) -> MutexGuard<'_, Sched> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl TailPool {
    /// A pool of `workers` threads (started with the first job).
    pub fn new(workers: usize) -> TailPool {
        TailPool::with_bounds(workers, STUCK_AFTER, STALL_AFTER)
    }

    /// A pool whose turns are set aside after `stuck_after` and reported after `stall_after`.
    pub fn with_bounds(workers: usize, stuck_after: Duration, stall_after: Duration) -> TailPool {
        TailPool {
            inner: Arc::new(Inner {
                sched: Mutex::new(Sched {
                    slots: Vec::new(),
                    free: Vec::new(),
                    ready: VecDeque::new(),
                    timers: BinaryHeap::new(),
                    workers: Vec::new(),
                    live: 0,
                    stuck: 0,
                    timer_started: false,
                    aside_logged: None,
                    asides_unlogged: 0,
                }),
                work: Condvar::new(),
                timer: Condvar::new(),
                target: workers.max(1),
                stuck_after,
                stall_after,
            }),
        }
    }

    /// Workers wanted.
    pub fn workers(&self) -> usize {
        self.inner.target
    }

    /// Adds `job` (its first turn comes at once); `label` names it in logs, `beat` (if any)
    /// is the watchdog's view of its turns.
    pub fn add(&self, label: &str, beat: Option<Arc<Beat>>, job: Box<dyn Job>) -> JobId {
        self.add_with(label, beat, |_| job)
    }

    /// Like [`add`](TailPool::add), the job made knowing its id.
    pub fn add_with(
        &self,
        label: &str,
        beat: Option<Arc<Beat>>,
        make: impl FnOnce(JobId) -> Box<dyn Job>,
    ) -> JobId {
        let now = Instant::now();
        let mut s = lock(&self.inner.sched);
        let slot = Slot {
            generation: 0,
            state: State::Ready,
            job: None,
            label: label.into(),
            beat,
            sleep: 0,
        };
        let id = match s.free.pop() {
            Some(i) => {
                let old = &mut s.slots[i as usize];
                let generation = old.generation.wrapping_add(1);
                *old = Slot { generation, ..slot };
                JobId {
                    index: i,
                    generation,
                }
            }
            None => {
                s.slots.push(slot);
                JobId {
                    index: (s.slots.len() - 1) as u32,
                    generation: 0,
                }
            }
        };
        let slot = &mut s.slots[id.index as usize];
        slot.job = Some(make(id));
        if let Some(b) = &slot.beat {
            b.expect(now, self.inner.stall_after);
        }
        s.ready.push_back(id);
        self.start_threads(&mut s);
        drop(s);
        self.inner.work.notify_one();
        id
    }

    /// Gives `id` a turn soon: now if it sleeps, right after its turn if it has one.
    pub fn wake(&self, id: JobId) {
        let mut s = lock(&self.inner.sched);
        let Some(slot) = s.slots.get_mut(id.index as usize) else {
            return;
        };
        if slot.generation != id.generation {
            return;
        }
        match slot.state {
            State::Sleeping => {
                slot.state = State::Ready;
                if let Some(b) = &slot.beat {
                    b.expect(Instant::now(), self.inner.stall_after);
                }
                s.ready.push_back(id);
                drop(s);
                self.inner.work.notify_one();
            }
            State::Running { .. } => slot.state = State::Running { woken: true },
            State::Ready | State::Free => {}
        }
    }

    pub fn stats(&self) -> PoolStats {
        let s = lock(&self.inner.sched);
        PoolStats {
            jobs: s.slots.iter().filter(|j| j.state != State::Free).count(),
            ready: s.ready.len(),
            threads: s.live + s.stuck,
            stuck: s.stuck,
        }
    }

    fn start_threads(&self, s: &mut Sched) {
        if !s.timer_started {
            let inner = self.inner.clone();
            let spawned = std::thread::Builder::new()
                .name("dk-tail-timer".into())
                .spawn(move || timer_loop(&inner));
            match spawned {
                Ok(_) => s.timer_started = true,
                Err(e) => tracing::error!(error = %e, "cannot start the log tailing timer thread"),
            }
        }
        while s.live < self.inner.target {
            if !self.spawn_worker(s) {
                break;
            }
        }
    }

    fn spawn_worker(&self, s: &mut Sched) -> bool {
        let index = match s.workers.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                s.workers.push(None);
                s.workers.len() - 1
            }
        };
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new()
            .name("dk-tail".into())
            .spawn(move || worker_loop(&inner, index));
        match spawned {
            Ok(_) => {
                s.workers[index] = Some(Worker {
                    turn: None,
                    stuck: false,
                });
                s.live += 1;
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot start a log tailing worker");
                false
            }
        }
    }
}

fn worker_loop(inner: &Arc<Inner>, me: usize) {
    let mut s = lock(&inner.sched);
    loop {
        // A worker beyond the number wanted (one that came back from a stuck turn) leaves.
        let stuck = s.workers[me].as_ref().is_some_and(|w| w.stuck);
        if stuck {
            s.stuck -= 1;
            if s.live < inner.target {
                s.live += 1;
                if let Some(w) = s.workers[me].as_mut() {
                    w.stuck = false;
                }
            } else {
                s.workers[me] = None;
                return;
            }
        } else if s.live > inner.target {
            s.live -= 1;
            s.workers[me] = None;
            return;
        }
        let Some(id) = s.ready.pop_front() else {
            drop(s);
            crate::idle::thread_idle();
            s = inner
                .work
                .wait(lock(&inner.sched))
                .unwrap_or_else(|e| e.into_inner());
            continue;
        };
        let now = Instant::now();
        let slot = &mut s.slots[id.index as usize];
        let Some(mut job) = slot.job.take() else {
            continue;
        };
        slot.state = State::Running { woken: false };
        if let Some(w) = s.workers[me].as_mut() {
            w.turn = Some((id, now));
        }
        drop(s);
        let turn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.turn()));
        let now = Instant::now();
        s = lock(&inner.sched);
        if let Some(w) = s.workers[me].as_mut() {
            w.turn = None;
        }
        let slot = &mut s.slots[id.index as usize];
        let woken = matches!(slot.state, State::Running { woken: true });
        let ended = match turn {
            Ok(Turn::More) => {
                slot.job = Some(job);
                slot.state = State::Ready;
                if let Some(b) = &slot.beat {
                    b.progress(now, Some(inner.stall_after));
                }
                s.ready.push_back(id);
                None
            }
            Ok(Turn::Sleep(_)) if woken => {
                slot.job = Some(job);
                slot.state = State::Ready;
                if let Some(b) = &slot.beat {
                    b.progress(now, Some(inner.stall_after));
                }
                s.ready.push_back(id);
                None
            }
            Ok(Turn::Sleep(d)) => {
                slot.job = Some(job);
                slot.state = State::Sleeping;
                slot.sleep += 1;
                if let Some(b) = &slot.beat {
                    b.progress(now, None);
                }
                let due = now + d;
                let key = (due, id.index, id.generation, slot.sleep);
                let earliest = s.timers.peek().is_none_or(|Reverse(t)| due < t.0);
                s.timers.push(Reverse(key));
                if earliest {
                    inner.timer.notify_one();
                }
                None
            }
            Ok(Turn::Done) => Some((job, None)),
            Err(panic) => Some((job, Some(panic))),
        };
        if let Some((job, panic)) = ended {
            let slot = &mut s.slots[id.index as usize];
            slot.state = State::Free;
            slot.generation = slot.generation.wrapping_add(1);
            let beat = slot.beat.take();
            s.free.push(id.index);
            drop(s);
            drop(beat);
            job.end(panic);
            s = lock(&inner.sched);
        } else if s.ready.len() > 1 {
            // This worker takes one; an idle one may take another.
            inner.work.notify_one();
        }
    }
}

fn timer_loop(inner: &Arc<Inner>) {
    let pool = TailPool {
        inner: inner.clone(),
    };
    let mut next_check = Instant::now() + CHECK_EVERY;
    let mut s = lock(&inner.sched);
    loop {
        let now = Instant::now();
        let mut woke = 0;
        while let Some(Reverse((due, index, generation, sleep))) = s.timers.peek().copied() {
            if due > now {
                break;
            }
            s.timers.pop();
            let slot = &mut s.slots[index as usize];
            if slot.generation != generation || slot.sleep != sleep || slot.state != State::Sleeping
            {
                continue;
            }
            slot.state = State::Ready;
            if let Some(b) = &slot.beat {
                b.expect(now, inner.stall_after);
            }
            s.ready.push_back(JobId { index, generation });
            woke += 1;
        }
        if woke == 1 {
            inner.work.notify_one();
        } else if woke > 1 {
            inner.work.notify_all();
        }
        if now >= next_check {
            next_check = now + CHECK_EVERY;
            set_aside_stuck(&pool, &mut s, now);
        }
        let until = s
            .timers
            .peek()
            .map_or(next_check, |Reverse(t)| t.0.min(next_check));
        let wait = until.saturating_duration_since(Instant::now());
        s = inner
            .timer
            .wait_timeout(s, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

/// Sets aside the workers whose turn has lasted too long and starts others in their place.
fn set_aside_stuck(pool: &TailPool, s: &mut Sched, now: Instant) {
    let inner = &pool.inner;
    let mut newly = Vec::new();
    for w in s.workers.iter_mut().flatten() {
        if w.stuck {
            continue;
        }
        if let Some((id, since)) = w.turn
            && now.saturating_duration_since(since) >= inner.stuck_after
        {
            w.stuck = true;
            newly.push((id, since));
        }
    }
    for (id, since) in newly {
        s.live -= 1;
        s.stuck += 1;
        // Logged at most every ASIDE_LOG_EVERY: a full journal makes every turn wait.
        if s.aside_logged
            .is_some_and(|t| now.saturating_duration_since(t) < ASIDE_LOG_EVERY)
        {
            s.asides_unlogged += 1;
            continue;
        }
        let label = s.slots[id.index as usize].label.clone();
        tracing::info!(
            instance = %label,
            busy_for = ?now.saturating_duration_since(since),
            others = s.asides_unlogged,
            "log tailing: a turn is taking long (a slow read or script, or a full journal); {}",
            if s.stuck <= inner.target {
                "another worker serves the other instances meanwhile"
            } else {
                "too many turns are stuck to replace this one: the other instances share fewer workers"
            }
        );
        s.aside_logged = Some(now);
        s.asides_unlogged = 0;
    }
    // Keep `target` workers for the others, up to `target` set aside.
    while s.live < inner.target && s.stuck <= inner.target {
        if !pool.spawn_worker(s) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::atomic::Ordering::SeqCst;

    /// Counts its turns; `more` turns ask for more, then it sleeps; blocks in `block` while
    /// the flag is set; done once `stop` is set.
    struct Counting {
        turns: Arc<AtomicU64>,
        more: u64,
        block: Option<Arc<(Mutex<bool>, Condvar)>>,
        stop: Arc<std::sync::atomic::AtomicBool>,
        ended: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Job for Counting {
        fn turn(&mut self) -> Turn {
            if self.stop.load(SeqCst) {
                return Turn::Done;
            }
            if let Some(b) = &self.block {
                let (m, cv) = &**b;
                let mut g = m.lock().unwrap();
                while *g {
                    g = cv.wait(g).unwrap();
                }
            }
            let n = self.turns.fetch_add(1, SeqCst) + 1;
            if n < self.more {
                Turn::More
            } else {
                Turn::Sleep(Duration::from_millis(20))
            }
        }
        fn end(self: Box<Self>, _panic: Option<Box<dyn Any + Send>>) {
            self.ended.store(true, SeqCst);
        }
    }

    struct Handles {
        turns: Arc<AtomicU64>,
        stop: Arc<std::sync::atomic::AtomicBool>,
        ended: Arc<std::sync::atomic::AtomicBool>,
    }

    fn counting(more: u64, block: Option<Arc<(Mutex<bool>, Condvar)>>) -> (Box<Counting>, Handles) {
        let h = Handles {
            turns: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            ended: Arc::new(std::sync::atomic::AtomicBool::new(false)),
        };
        let j = Box::new(Counting {
            turns: h.turns.clone(),
            more,
            block,
            stop: h.stop.clone(),
            ended: h.ended.clone(),
        });
        (j, h)
    }

    fn wait_until(what: &str, f: impl Fn() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn a_thousand_jobs_share_two_workers_and_each_gets_turns() {
        let pool = TailPool::new(2);
        let mut hs = Vec::new();
        for i in 0..1000 {
            let (j, h) = counting(3, None);
            pool.add(&format!("job{i}"), None, j);
            hs.push(h);
        }
        wait_until("every job had its three turns and slept", || {
            hs.iter().all(|h| h.turns.load(SeqCst) >= 3)
        });
        // Sleepers come back on their timers.
        wait_until("timers", || hs.iter().all(|h| h.turns.load(SeqCst) >= 5));
        assert_eq!(pool.stats().threads, 2);
        for h in &hs {
            h.stop.store(true, SeqCst);
        }
        wait_until("all ended", || hs.iter().all(|h| h.ended.load(SeqCst)));
        assert_eq!(pool.stats().jobs, 0);
    }

    #[test]
    fn a_job_with_endless_work_does_not_starve_the_others() {
        let pool = TailPool::new(1);
        let (busy, bh) = counting(u64::MAX, None);
        pool.add("busy", None, busy);
        let (quiet, qh) = counting(1, None);
        pool.add("quiet", None, quiet);
        // The quiet job sleeps 20 ms between turns; the busy one always has more: turns
        // alternate, so the quiet one keeps its pace.
        wait_until("quiet job turns", || qh.turns.load(SeqCst) >= 20);
        assert!(bh.turns.load(SeqCst) > 20);
        bh.stop.store(true, SeqCst);
        qh.stop.store(true, SeqCst);
        wait_until("ended", || bh.ended.load(SeqCst) && qh.ended.load(SeqCst));
    }

    #[test]
    fn a_stuck_turn_is_set_aside_and_the_others_keep_their_workers() {
        let pool = TailPool::with_bounds(1, Duration::from_millis(200), Duration::from_millis(500));
        let stats = Arc::new(crate::stats::InputStats::new("logging"));
        let watchdog = crate::stats::watchdog::Watchdog::default();
        let gate = Arc::new((Mutex::new(true), Condvar::new()));
        let (stuck, sh) = counting(1, Some(gate.clone()));
        let beat = Arc::new(watchdog.beat(
            stats.clone(),
            "logging stuck",
            crate::stats::watchdog::Watched::Tailing,
        ));
        let sid = pool.add("stuck", Some(beat), stuck);
        let (other, oh) = counting(1, None);
        pool.add("other", None, other);
        wait_until("the other job runs beside the stuck one", || {
            oh.turns.load(SeqCst) >= 10
        });
        let st = pool.stats();
        assert_eq!((st.threads, st.stuck), (2, 1), "{st:?}");
        // Past the stall bound the watchdog reports it.
        std::thread::sleep(Duration::from_millis(400));
        watchdog.check(Instant::now());
        assert_eq!(stats.stalled.load(SeqCst), 1);
        assert_eq!(stats.stalls.load(SeqCst), 1);
        // Released, the stuck worker finishes its turn and leaves (one worker wanted).
        *gate.0.lock().unwrap() = false;
        gate.1.notify_all();
        wait_until("the stuck job runs again", || sh.turns.load(SeqCst) >= 3);
        wait_until("back to one worker", || pool.stats().threads == 1);
        assert_eq!(stats.stalled.load(SeqCst), 0, "the stall ended");
        sh.stop.store(true, SeqCst);
        oh.stop.store(true, SeqCst);
        pool.wake(sid);
        wait_until("ended", || sh.ended.load(SeqCst) && oh.ended.load(SeqCst));
    }

    #[test]
    fn a_wake_during_a_turn_gives_another_turn_and_panics_end_the_job() {
        struct Panics(Arc<std::sync::atomic::AtomicBool>);
        impl Job for Panics {
            fn turn(&mut self) -> Turn {
                panic!("turn panics")
            }
            fn end(self: Box<Self>, panic: Option<Box<dyn Any + Send>>) {
                self.0.store(panic.is_some(), SeqCst);
            }
        }
        let pool = TailPool::new(1);
        let got = Arc::new(std::sync::atomic::AtomicBool::new(false));
        pool.add("panics", None, Box::new(Panics(got.clone())));
        wait_until("panic reported", || got.load(SeqCst));
        // A job that sleeps long is woken at once.
        struct Sleepy(Arc<AtomicU64>);
        impl Job for Sleepy {
            fn turn(&mut self) -> Turn {
                self.0.fetch_add(1, SeqCst);
                Turn::Sleep(Duration::from_secs(3600))
            }
            fn end(self: Box<Self>, _: Option<Box<dyn Any + Send>>) {}
        }
        let n = Arc::new(AtomicU64::new(0));
        let id = pool.add("sleepy", None, Box::new(Sleepy(n.clone())));
        wait_until("first turn", || n.load(SeqCst) == 1);
        pool.wake(id);
        wait_until("woken", || n.load(SeqCst) == 2);
        assert_eq!(pool.stats().jobs, 1);
    }
}
