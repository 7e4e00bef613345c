//! Where periodic collections run: threads of their own, not the async runtime's blocking
//! pool (shared with everything else) and not the log-tailing workers.
//!
//! Each [`Lane`] is a pool of threads that grows on demand — a collection that finds no idle
//! thread of its lane gets a new one, up to the lane's cap — and shrinks when threads have
//! been idle for [`KEEP_ALIVE`]. An input has at most one collection in flight (it waits for
//! its collection before the next tick), so a stuck collection holds one thread and the
//! other inputs of the lane get others: no input of a lane waits for another's collection
//! until the cap of simultaneously running collections is reached. The lanes are apart:
//! however many prom targets scrape at once, the host inputs keep their own threads.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

/// How long an idle collection thread is kept: past the longest usual interval, so a
/// collection does not start (and fault in) a new thread each time.
pub const KEEP_ALIVE: Duration = Duration::from_secs(600);

/// The kinds of periodic work, each with its own threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Host inputs, the agent's own metrics: short snapshots of `/proc` and the like.
    Host,
    /// Scrapes of remote targets (prom): network requests bounded by their timeouts.
    Scrape,
}

impl Lane {
    /// Most collections of the lane that run at once.
    pub const fn cap(self) -> usize {
        match self {
            Lane::Host => 32,
            Lane::Scrape => 64,
        }
    }
    fn name(self) -> &'static str {
        match self {
            Lane::Host => "dk-collect",
            Lane::Scrape => "dk-scrape",
        }
    }
    fn index(self) -> usize {
        match self {
            Lane::Host => 0,
            Lane::Scrape => 1,
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
}

/// The threads of one lane.
pub struct Pool {
    name: &'static str,
    cap: usize,
    keep_alive: Duration,
    state: Mutex<State>,
    cv: Condvar,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pool {
    /// A pool of at most `cap` threads named `name`, each kept `keep_alive` when idle.
    pub const fn new(name: &'static str, cap: usize, keep_alive: Duration) -> Pool {
        Pool {
            name,
            cap,
            keep_alive,
            state: Mutex::new(State {
                queue: VecDeque::new(),
                threads: 0,
                idle: 0,
            }),
            cv: Condvar::new(),
        }
    }

    /// Runs `job` on a thread of the pool: an idle one, else a new one while fewer than the
    /// cap exist, else the first to finish its job.
    pub fn run(&'static self, job: impl FnOnce() + Send + 'static) {
        let mut st = lock(&self.state);
        st.queue.push_back(Box::new(job));
        // Idle threads that have not yet taken a job each take one.
        if st.queue.len() <= st.idle {
            self.cv.notify_one();
            return;
        }
        if st.threads < self.cap {
            let spawned = std::thread::Builder::new()
                .name(self.name.into())
                .spawn(move || self.work());
            match spawned {
                Ok(_) => st.threads += 1,
                Err(e) => {
                    tracing::warn!(pool = self.name, error = %e, "cannot start a collection thread; the collection waits for a busy one");
                }
            }
        }
    }

    fn work(&'static self) {
        loop {
            let job = {
                let mut st = lock(&self.state);
                loop {
                    if let Some(j) = st.queue.pop_front() {
                        break j;
                    }
                    st.idle += 1;
                    let (g, timeout) = self
                        .cv
                        .wait_timeout(st, self.keep_alive)
                        .unwrap_or_else(|e| e.into_inner());
                    st = g;
                    st.idle -= 1;
                    if timeout.timed_out() && st.queue.is_empty() {
                        st.threads -= 1;
                        return;
                    }
                }
            };
            // `run` hands panics to the caller; a bare job's panic must not lose the thread.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            crate::idle::thread_idle();
        }
    }

    /// Threads of the pool now (busy and idle).
    pub fn threads(&self) -> usize {
        lock(&self.state).threads
    }
}

/// The pool of `lane`.
pub fn pool(lane: Lane) -> &'static Pool {
    static POOLS: [OnceLock<Pool>; 2] = [OnceLock::new(), OnceLock::new()];
    POOLS[lane.index()].get_or_init(|| Pool::new(lane.name(), lane.cap(), KEEP_ALIVE))
}

/// Runs `work` on a thread of `lane` and waits for its result (without holding an async
/// worker); a panic in `work` resumes in the caller.
pub async fn run<R: Send + 'static>(lane: Lane, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = tokio::sync::oneshot::channel();
    pool(lane).run(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        let _ = tx.send(r);
    });
    match rx.await {
        Ok(Ok(r)) => r,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // The job was dropped unrun: only when the process is going down.
        Err(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::time::Instant;

    fn leaked(cap: usize, keep: Duration) -> &'static Pool {
        Box::leak(Box::new(Pool::new("dk-test-pool", cap, keep)))
    }

    #[test]
    fn stuck_jobs_hold_one_thread_each_and_others_still_run() {
        let p = leaked(8, Duration::from_secs(60));
        let (stuck_tx, stuck_rx) = std::sync::mpsc::channel::<()>();
        let stuck_rx = Arc::new(Mutex::new(stuck_rx));
        for _ in 0..3 {
            let rx = stuck_rx.clone();
            p.run(move || {
                let _ = rx.lock().unwrap().recv();
            });
        }
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            let d = done.clone();
            p.run(move || {
                d.fetch_add(1, SeqCst);
            });
        }
        let t0 = Instant::now();
        while done.load(SeqCst) < 20 {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "quick jobs waited for stuck ones"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(p.threads() <= 8);
        drop(stuck_tx);
    }

    #[test]
    fn at_the_cap_jobs_wait_for_a_thread_and_idle_threads_leave() {
        let p = leaked(2, Duration::from_millis(100));
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let d = done.clone();
            p.run(move || {
                std::thread::sleep(Duration::from_millis(10));
                d.fetch_add(1, SeqCst);
            });
        }
        assert!(p.threads() <= 2);
        let t0 = Instant::now();
        while done.load(SeqCst) < 10 || p.threads() > 0 {
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "{} done, {} threads",
                done.load(SeqCst),
                p.threads()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[tokio::test]
    async fn results_and_panics_come_back_to_the_caller() {
        assert_eq!(run(Lane::Host, || 6 * 7).await, 42);
        let h = tokio::spawn(run(Lane::Host, || -> u32 { panic!("boom") }));
        let e = h.await.unwrap_err();
        assert!(e.is_panic());
    }
}
