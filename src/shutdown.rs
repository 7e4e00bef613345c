//! The stop signal: a trigger and any number of waiters. Inputs, the election and the
//! supervisor's tasks wait on a [`Shutdown`]; the agent fires its trigger.

/// A stop signal (cheap to clone; every clone sees the same trigger).
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: tokio::sync::watch::Receiver<bool>,
}

/// Fires a [`Shutdown`].
pub type Trigger = tokio::sync::watch::Sender<bool>;

impl Shutdown {
    /// A signal and its trigger.
    pub fn new() -> (Trigger, Shutdown) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Shutdown { rx })
    }
    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }
    /// Completes when the signal fires (or its trigger is dropped).
    pub async fn wait(&mut self) {
        while !*self.rx.borrow_and_update() {
            if self.rx.changed().await.is_err() {
                return;
            }
        }
    }
}
