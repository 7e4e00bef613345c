//! Leader election: among agents of one namespace (and, through DataWay, one workspace), only
//! the leader runs election-aware inputs.
//!
//! - A [`Backend`] holds the election: [`dataway`] (the original agent's protocol through
//!   DataWay) or [`etcd`] (a lease and a key per namespace, etcd's v3 API).
//! - A [`Machine`] turns each round's answer into pause and resume decisions and keeps the
//!   leader's local lease deadline; it has no IO, so it is tested directly.
//! - [`run`] drives the backend on a schedule and publishes the outcome through a [`Gate`]:
//!   the supervisor starts and stops election-aware inputs on its signal, and the ingest stage
//!   (to which the gate is an `ingest::Gate`) refuses their points once the lease deadline has
//!   passed, whatever the scheduling of the tasks.
//!
//! The no-two-writers guarantee: the leader renews at `sent_at` (the instant the renewal
//! request left, measured before sending) and believes itself leader only until
//! `sent_at + lease − margin`. The backend's lease outlives that unless clocks run at very
//! different rates, and another agent is elected only once the backend's lease has expired.

pub mod dataway;
pub mod etcd;

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::MainConfig;
use crate::shutdown::Shutdown;
use crate::stats::Stats;

/// The original's first interval between rounds (`electionIntervalDefault`).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(4);

/// Why a round failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ElectionError {
    #[error("{what}: HTTP {status}: {body}")]
    Status {
        what: &'static str,
        status: u16,
        body: String,
    },
    #[error("{what}: {message}")]
    Transport { what: &'static str, message: String },
    #[error("{what}: unexpected answer: {message}")]
    BadResponse { what: &'static str, message: String },
    #[error("{0}")]
    Setup(String),
}

/// The election status (the original's words); owned by the stats, which publish it.
pub use crate::stats::ElectionStatus as Status;

/// One round's answer from a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// This agent holds the leadership.
    pub elected: bool,
    /// The current leader's id, when known (empty: none, or unknown).
    pub leader: String,
    /// The interval the backend asks for until the next round (DataWay's `interval`).
    pub interval: Option<Duration>,
    /// The lease the backend granted, when it says (etcd's TTL after a renewal).
    pub ttl: Option<Duration>,
}

/// An election backend. Its calls block (HTTP); the runner calls them on a blocking thread.
pub trait Backend: Send {
    /// `dataway` or `etcd`.
    fn name(&self) -> &'static str;
    /// Tries to become leader (also when this agent may already be).
    fn campaign(&mut self) -> Result<Round, ElectionError>;
    /// Renews the leadership this agent holds.
    fn heartbeat(&mut self) -> Result<Round, ElectionError>;
    /// Gives the leadership up (clean shutdown), so that another agent takes over at once.
    fn resign(&mut self) -> Result<(), ElectionError>;
}

/// What a round means for the election-aware inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    None,
    /// Became leader: start them.
    Resume,
    /// Lost the leadership: stop them.
    Pause,
}

/// The election state machine (no IO, no clock of its own: instants are passed in).
#[derive(Debug, Clone)]
pub struct Machine {
    leader: bool,
    /// The current interval between rounds: the last one the backend gave, else the default.
    interval: Duration,
    lease: Duration,
    /// Leader until then (local monotonic clock).
    deadline: Option<Instant>,
    /// The current leader's id, as last reported.
    pub leader_id: String,
}

impl Machine {
    /// A candidate with `interval` between rounds and leases of `lease`.
    pub fn new(interval: Duration, lease: Duration) -> Machine {
        Machine {
            leader: false,
            interval: if interval.is_zero() {
                DEFAULT_INTERVAL
            } else {
                interval
            },
            lease,
            deadline: None,
            leader_id: String::new(),
        }
    }

    pub fn is_leader(&self) -> bool {
        self.leader
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The leader's local lease deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// How much of a lease is kept back: a fifth, at least 300 ms (and at most half).
    pub fn margin(lease: Duration) -> Duration {
        (lease / 5).max(Duration::from_millis(300)).min(lease / 2)
    }

    /// The wait before the next round: the backend's interval, and for a leader at most a
    /// third of the lease, so that two renewals may fail before the lease runs out.
    pub fn next_wait(&self) -> Duration {
        if self.leader {
            self.interval.min(self.lease / 3)
        } else {
            self.interval
        }
    }

    /// Applies the answer of a round whose request left at `sent_at` (`heartbeat` tells
    /// whether it was a renewal or a campaign).
    pub fn on_round(
        &mut self,
        heartbeat: bool,
        result: Result<&Round, &ElectionError>,
        sent_at: Instant,
    ) -> Action {
        let round = match result {
            Ok(r) => r,
            Err(_) => {
                // The original keeps a leader whose heartbeat fails; this agent cannot tell a
                // partition from a slow answer, so it steps down: never two writers.
                return self.step_down();
            }
        };
        if let Some(i) = round.interval.filter(|i| !i.is_zero()) {
            self.interval = i;
        }
        if !round.leader.is_empty() || !round.elected {
            self.leader_id = round.leader.clone();
        }
        if !round.elected {
            return self.step_down();
        }
        if heartbeat && !self.leader {
            // A renewal that answered after the local deadline had passed: the lease was
            // renewed, but leadership is only taken up again through a campaign.
            return Action::None;
        }
        let lease = round.ttl.map_or(self.lease, |t| t.min(self.lease));
        let until = sent_at + lease.saturating_sub(Self::margin(lease));
        if until <= Instant::now() {
            // The answer came too late to be of use.
            return self.step_down();
        }
        self.deadline = Some(until);
        if self.leader {
            Action::None
        } else {
            self.leader = true;
            Action::Resume
        }
    }

    /// The local deadline passed without a renewal.
    pub fn on_deadline(&mut self, now: Instant) -> Action {
        match self.deadline {
            Some(d) if now >= d => self.step_down(),
            _ => Action::None,
        }
    }

    fn step_down(&mut self) -> Action {
        self.deadline = None;
        if self.leader {
            self.leader = false;
            Action::Pause
        } else {
            Action::None
        }
    }
}

/// What the supervisor (start and stop) and the ingest stage (admit and tag) look at for
/// election-aware inputs.
#[derive(Debug)]
pub struct Gate {
    /// Election gates the inputs (enabled and not banned).
    active: bool,
    /// Leader until then.
    until: Mutex<Option<Instant>>,
    leader_tx: watch::Sender<bool>,
    /// Tags added to points of election-aware inputs instead of the host tags.
    tags: Vec<(String, String)>,
    /// Election-aware instances under supervision.
    inputs: AtomicU64,
}

impl Gate {
    /// A gate; `active` false lets everything through (election disabled or banned).
    pub fn new(active: bool, tags: Vec<(String, String)>) -> Gate {
        Gate {
            active,
            until: Mutex::new(None),
            leader_tx: watch::channel(false).0,
            tags,
            inputs: AtomicU64::new(0),
        }
    }

    /// A gate that never holds anything back (no election).
    pub fn open_always(tags: Vec<(String, String)>) -> Gate {
        Gate::new(false, tags)
    }

    /// Whether election-aware inputs are started and stopped by the election.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Whether an election-aware input may feed points now.
    pub fn open(&self) -> bool {
        if !self.active {
            return true;
        }
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        until.is_some_and(|u| Instant::now() < u)
    }

    /// Follows leadership: `true` while this agent leads.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.leader_tx.subscribe()
    }

    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// One more (`+1`) or one less (`-1`) election-aware instance.
    pub fn count_input(&self, delta: i64) {
        if delta >= 0 {
            self.inputs.fetch_add(delta as u64, Relaxed);
        } else {
            let _ = self.inputs.fetch_update(Relaxed, Relaxed, |n| {
                Some(n.saturating_sub(delta.unsigned_abs()))
            });
        }
    }

    pub fn inputs(&self) -> u64 {
        self.inputs.load(Relaxed)
    }

    fn set(&self, until: Option<Instant>) {
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) = until;
        let leader = until.is_some();
        self.leader_tx.send_if_modified(|v| {
            let changed = *v != leader;
            *v = leader;
            changed
        });
    }
}

/// The stage admits an election-aware input's points only while this agent leads, and tags
/// them with the election tags.
impl crate::ingest::Gate for Gate {
    fn admit(&self) -> bool {
        self.open()
    }
    fn tags(&self) -> &[(String, String)] {
        &self.tags
    }
}

pub use crate::stats::ElectionSnapshot;

/// The election settings the agent runs with, resolved from the config.
#[derive(Debug, Clone)]
pub struct Settings {
    pub status: Status,
    pub id: String,
    pub namespace: String,
    pub lease: Duration,
}

impl Settings {
    pub fn from_config(c: &MainConfig, hostname: &str) -> Settings {
        let e = &c.election;
        let id = if e.id.trim().is_empty() {
            hostname.to_string()
        } else {
            e.id.trim().to_string()
        };
        let status = if !e.enable {
            Status::Disabled
        } else if !e.node_whitelist.is_empty()
            && !e.node_whitelist.iter().any(|n| n == hostname || *n == id)
        {
            Status::Banned
        } else {
            Status::Defeat
        };
        Settings {
            status,
            id,
            namespace: e.namespace.clone(),
            lease: e.lease_ttl.get(),
        }
    }
}

/// The tags for points of election-aware inputs: `[election.tags]` (and `election_namespace`
/// with `enable_namespace_tag`) when election is enabled, else the host tags.
pub fn election_tags(c: &MainConfig, host_tags: &[(String, String)]) -> Vec<(String, String)> {
    if !c.election.enable {
        return host_tags.to_vec();
    }
    let mut tags: Vec<(String, String)> = c
        .election
        .tags
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if c.election.enable_namespace_tag && !tags.iter().any(|(k, _)| k == "election_namespace") {
        tags.push(("election_namespace".into(), c.election.namespace.clone()));
    }
    tags
}

/// Builds the configured backend.
pub fn backend(
    c: &MainConfig,
    s: &Settings,
    hostname: &str,
) -> Result<Box<dyn Backend>, ElectionError> {
    match c.election.backend.as_str() {
        "etcd" => Ok(Box::new(etcd::Etcd::from_config(c, s)?)),
        "dataway" => Ok(Box::new(dataway::DatawayElection::from_config(
            c, s, hostname,
        )?)),
        other => Err(ElectionError::Setup(format!(
            "unknown election backend `{other}`"
        ))),
    }
}

/// The running election; [`stop`](Election::stop) resigns.
pub struct Election {
    pub gate: Arc<Gate>,
    stop: Option<watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Election {
    /// Starts the election (when enabled and not banned) and publishes its state in `stats`.
    pub fn start(
        c: &MainConfig,
        hostname: &str,
        host_tags: &[(String, String)],
        stats: Arc<Stats>,
    ) -> Election {
        let s = Settings::from_config(c, hostname);
        let tags = election_tags(c, host_tags);
        let mut snap = ElectionSnapshot {
            state: s.status.state(),
            status: s.status,
            namespace: s.namespace.clone(),
            id: s.id.clone(),
            since_ns: crate::clock::now_ns(),
            ..ElectionSnapshot::default()
        };
        if s.status != Status::Defeat {
            stats.set_election(snap);
            return Election {
                gate: Arc::new(Gate::open_always(tags)),
                stop: None,
                task: None,
            };
        }
        snap.backend = c.election.backend.clone();
        let gate = Arc::new(Gate::new(true, tags));
        let backend = match backend(c, &s, hostname) {
            Ok(b) => b,
            Err(e) => {
                // Inputs stay paused: better no data than two writers.
                tracing::error!(error = %e, "election cannot start; election-aware inputs stay paused");
                stats.record_error("election", e.to_string());
                snap.last_error = Some(e.to_string());
                stats.set_election(snap);
                return Election {
                    gate,
                    stop: None,
                    task: None,
                };
            }
        };
        stats.set_election(snap);
        let interval = if backend.name() == "etcd" {
            (s.lease / 4).max(Duration::from_millis(250))
        } else {
            DEFAULT_INTERVAL
        };
        let machine = Machine::new(interval, s.lease);
        let (stop_tx, stop) = Shutdown::new();
        let task = tokio::spawn(run(backend, machine, gate.clone(), stats, stop));
        Election {
            gate,
            stop: Some(stop_tx),
            task: Some(task),
        }
    }

    /// Stops the rounds and resigns (within `limit`).
    pub async fn stop(mut self, limit: Duration) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(limit, t).await;
        }
    }
}

fn update(stats: &Stats, f: impl FnOnce(&mut ElectionSnapshot)) {
    stats.update_election(f);
}

/// Applies `action` to the gate and the published state.
fn apply(m: &Machine, action: Action, gate: &Gate, stats: &Stats) {
    gate.set(m.deadline());
    let now = crate::clock::now_ns();
    update(stats, |e| {
        e.leader = m.leader_id.clone();
        e.inputs = gate.inputs();
        match action {
            Action::Resume => {
                e.status = Status::Success;
                e.state = Status::Success.state();
                e.since_ns = now;
                e.elected_ns = now;
                e.resume_total += 1;
            }
            Action::Pause => {
                e.status = Status::Defeat;
                e.state = Status::Defeat.state();
                e.since_ns = now;
                e.elected_ns = 0;
                e.pause_total += 1;
            }
            Action::None => {}
        }
    });
    match action {
        Action::Resume => {
            tracing::info!(leader = %m.leader_id, "elected: election-aware inputs start")
        }
        Action::Pause => {
            tracing::warn!(leader = %m.leader_id, "no longer the leader: election-aware inputs stop")
        }
        Action::None => {}
    }
}

/// The rounds: campaign as a candidate, renew as the leader, every [`Machine::next_wait`];
/// step down at the local deadline even while a request hangs.
pub async fn run(
    backend: Box<dyn Backend>,
    mut m: Machine,
    gate: Arc<Gate>,
    stats: Arc<Stats>,
    mut stop: Shutdown,
) {
    let mut backend = Some(backend);
    loop {
        let Some(mut b) = backend.take() else {
            return;
        };
        let heartbeat = m.is_leader();
        let sent_at = Instant::now();
        let mut job = tokio::task::spawn_blocking(move || {
            let r = if heartbeat {
                b.heartbeat()
            } else {
                b.campaign()
            };
            (b, r)
        });
        let joined = loop {
            let deadline = m.deadline();
            tokio::select! {
                j = &mut job => break j,
                _ = sleep_until(deadline) => {
                    let a = m.on_deadline(Instant::now());
                    apply(&m, a, &gate, &stats);
                }
            }
        };
        let (b, result) = match joined {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "election round panicked; election stopped, inputs paused");
                let a = m.on_round(
                    heartbeat,
                    Err(&ElectionError::Setup("panic".into())),
                    sent_at,
                );
                apply(&m, a, &gate, &stats);
                return;
            }
        };
        backend = Some(b);
        if let Err(e) = &result {
            tracing::warn!(error = %e, "election round failed");
            stats.record_error("election", e.to_string());
            update(&stats, |s| s.last_error = Some(e.to_string()));
        }
        let a = m.on_round(heartbeat, result.as_ref(), sent_at);
        apply(&m, a, &gate, &stats);
        let next = Instant::now() + m.next_wait();
        loop {
            let deadline = m.deadline();
            tokio::select! {
                _ = tokio::time::sleep_until(next) => break,
                _ = sleep_until(deadline) => {
                    let a = m.on_deadline(Instant::now());
                    apply(&m, a, &gate, &stats);
                }
                _ = stop.wait() => {
                    resign(backend.take(), &mut m, &gate, &stats).await;
                    return;
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

async fn resign(backend: Option<Box<dyn Backend>>, m: &mut Machine, gate: &Gate, stats: &Stats) {
    let was_leader = m.is_leader();
    let a = m.on_round(
        false,
        Ok(&Round {
            elected: false,
            leader: String::new(),
            interval: None,
            ttl: None,
        }),
        Instant::now(),
    );
    apply(m, a, gate, stats);
    let Some(mut b) = backend else {
        return;
    };
    if !was_leader && b.name() == "dataway" {
        return;
    }
    let r = tokio::task::spawn_blocking(move || b.resign()).await;
    match r {
        Ok(Ok(())) => tracing::info!("election: resigned"),
        Ok(Err(e)) => tracing::warn!(error = %e, "election: cannot resign"),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests;
