//! Letting the allocator tidy up after a thread goes idle.
//!
//! A thread-caching allocator (jemalloc, the binary's global allocator) keeps a cache of
//! freed blocks per thread; each cached block pins its whole slab, so a daemon with a handful
//! of mostly sleeping threads keeps several hundred KiB resident that nothing uses. The
//! allocator is chosen by the binary, not by this library, so the binary installs a hook
//! ([`set_hook`]: jemalloc's `thread.idle`, which flushes the calling thread's cache) and
//! the library's threads call [`thread_idle`] where they are about to sleep: tokio workers
//! when they park, the IO senders after a batch, a collection's thread after collecting.
//! Calls are cheap and rate-limited to one flush per thread per [`MIN_GAP`], so a busy
//! thread loses nothing of its cache's speed.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// At most one flush per thread in this time.
pub const MIN_GAP: Duration = Duration::from_secs(1);

static HOOK: OnceLock<fn()> = OnceLock::new();

/// Installs the allocator's "this thread goes idle" call (once; later calls are ignored).
pub fn set_hook(hook: fn()) {
    let _ = HOOK.set(hook);
}

thread_local! {
    static LAST: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Tells the allocator the calling thread is about to sleep. Returns whether the hook ran
/// (false without a hook or within [`MIN_GAP`] of this thread's last flush).
pub fn thread_idle() -> bool {
    let Some(hook) = HOOK.get() else {
        return false;
    };
    let now = Instant::now();
    let due = LAST.with(|l| {
        let due = l.get().is_none_or(|t| now.duration_since(t) >= MIN_GAP);
        if due {
            l.set(Some(now));
        }
        due
    });
    if due {
        hook();
    }
    due
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn count() {
        CALLS.fetch_add(1, Ordering::Relaxed);
    }

    #[test]
    fn the_hook_runs_at_most_once_per_gap_per_thread() {
        set_hook(count);
        // A fresh thread so other tests' calls do not interfere with this one's limit.
        std::thread::spawn(|| {
            let before = CALLS.load(Ordering::Relaxed);
            assert!(thread_idle());
            assert!(!thread_idle(), "a second call within the gap is skipped");
            assert_eq!(CALLS.load(Ordering::Relaxed), before + 1);
            LAST.with(|l| l.set(Some(Instant::now() - MIN_GAP)));
            assert!(thread_idle(), "due again after the gap");
        })
        .join()
        .unwrap();
        // Another thread has its own limit.
        std::thread::spawn(|| assert!(thread_idle()))
            .join()
            .unwrap();
    }
}
