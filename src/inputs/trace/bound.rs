//! `threads`: the bound on the requests a receiver decodes at once, with a queue of waiting
//! requests; past it a request is refused (the original's full worker pool answers 400).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use tokio::sync::{Semaphore, SemaphorePermit};

use super::options::ThreadsConfig;

/// At most `threads` requests at once and `buffer` waiting.
#[derive(Debug)]
pub struct RequestBound {
    sem: Semaphore,
    buffer: u64,
    waiting: AtomicU64,
}

/// The queue is full: `buffer` requests already wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("busy: {0} requests already wait for a worker (threads.buffer)")]
pub struct Busy(pub u64);

impl RequestBound {
    /// The bound `cfg` sets; `None` when either number is 0 (no bound, as in the original).
    pub fn new(cfg: &ThreadsConfig) -> Option<RequestBound> {
        (cfg.threads > 0 && cfg.buffer > 0).then(|| RequestBound {
            sem: Semaphore::new(
                usize::try_from(cfg.threads)
                    .unwrap_or(usize::MAX >> 4)
                    .min(Semaphore::MAX_PERMITS),
            ),
            buffer: cfg.buffer,
            waiting: AtomicU64::new(0),
        })
    }

    /// A worker's permit, waiting in the queue for one if need be; [`Busy`] when the queue is
    /// full.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Busy> {
        if let Ok(p) = self.sem.try_acquire() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Relaxed) >= self.buffer {
            self.waiting.fetch_sub(1, Relaxed);
            return Err(Busy(self.buffer));
        }
        let p = self.sem.acquire().await;
        self.waiting.fetch_sub(1, Relaxed);
        p.map_err(|_| Busy(self.buffer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn no_bound_without_both_numbers() {
        assert!(
            RequestBound::new(&ThreadsConfig {
                threads: 0,
                buffer: 5
            })
            .is_none()
        );
        assert!(
            RequestBound::new(&ThreadsConfig {
                threads: 5,
                buffer: 0
            })
            .is_none()
        );
    }

    #[tokio::test]
    async fn past_the_workers_and_the_queue_requests_are_refused() {
        let b = Arc::new(
            RequestBound::new(&ThreadsConfig {
                threads: 1,
                buffer: 1,
            })
            .unwrap(),
        );
        let first = b.enter().await.unwrap();
        // The second waits in the queue...
        let b2 = b.clone();
        let waiter = tokio::spawn(async move {
            let _p = b2.enter().await.unwrap();
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished());
        // ...so the third finds the queue full.
        assert_eq!(b.enter().await.unwrap_err(), Busy(1));
        drop(first);
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
        // Free again.
        let _again = b.enter().await.unwrap();
    }
}
