//! The supervisor: every input instance runs as its own task; a panic or an error is caught,
//! logged with the input's name, counted, and answered with a restart after a backoff; after
//! [`MAX_CRASHES`] crashes the instance stays stopped and is marked so in the stats.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::election::Gate;
use crate::ingest::Ingest;
use crate::inputs::confd::InputInstance;
use crate::inputs::{InputConfig, InputCtx, InputEntry, InputError};
use crate::shutdown::Shutdown;
use crate::stats::{InputState, Stats};
use crate::workdir::Workdir;

/// Crashes after which an instance is left stopped (the original's limit).
pub const MAX_CRASHES: u32 = 6;
/// How long a stopping input may take before its task is aborted.
const STOP_GRACE: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What every input gets, whatever it is.
#[derive(Clone)]
pub struct Base {
    /// The ingest stage every input feeds through.
    pub ingest: Ingest,
    pub stats: Arc<Stats>,
    pub workdir: Workdir,
    pub hostname: Arc<str>,
    /// Leader election: election-aware inputs run only while this agent leads (when the gate
    /// is active) and feed with the election tags. `None`: no election at all.
    pub election: Option<Arc<Gate>>,
    /// The HTTP API's routes inputs serve.
    pub routes: crate::inputs::routes::Routes,
}

struct Running {
    name: &'static str,
    fingerprint: u64,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    /// The election gate of an election-aware instance.
    gate: Option<Arc<Gate>>,
}

/// The running input instances.
pub struct Supervisor {
    base: Base,
    running: Vec<Running>,
    first_backoff: Duration,
}

/// What a reload changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    pub started: Vec<&'static str>,
    pub stopped: Vec<&'static str>,
    pub kept: usize,
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

impl Supervisor {
    pub fn new(base: Base) -> Supervisor {
        Supervisor {
            base,
            running: Vec::new(),
            first_backoff: Duration::from_secs(1),
        }
    }

    /// Restarts wait `d`, doubling up to a minute (tests use a short one).
    pub fn with_first_backoff(mut self, d: Duration) -> Self {
        self.first_backoff = d;
        self
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Starts one instance under supervision.
    pub fn start(&mut self, inst: InputInstance) {
        let (stop, shutdown) = Shutdown::new();
        let name = inst.entry.spec.name;
        let istats = self.base.stats.input(name);
        istats.instances.fetch_add(1, Relaxed);
        istats.set_state(InputState::Starting);
        let every = inst
            .config
            .interval()
            .map_or_else(|| "-".to_string(), |d| d.to_string());
        tracing::debug!(input = name, interval = %every, "starting input");
        if let Some(iv) = inst.config.interval() {
            istats
                .interval_ns
                .store(iv.get().as_nanos() as u64, Relaxed);
        }
        let gate = (self.base.election.clone()).filter(|_| inst.config.election_enabled());
        let origin = crate::ingest::Origin::new(istats.clone());
        let origin = match &gate {
            Some(g) => origin.gated(g.clone()),
            None => origin,
        };
        let ctx = InputCtx {
            name,
            ingest: self.base.ingest.clone(),
            origin,
            stats: istats.clone(),
            agent_stats: self.base.stats.clone(),
            shutdown,
            workdir: self.base.workdir.clone(),
            hostname: self.base.hostname.clone(),
            routes: self.base.routes.clone(),
        };
        let config: Arc<dyn InputConfig> = Arc::from(inst.config);
        let task = match &gate {
            Some(g) => {
                g.count_input(1);
                self.base.stats.update_election(|e| e.inputs = g.inputs());
                if g.is_active() {
                    istats.set_state(InputState::Paused);
                    tokio::spawn(gated(
                        inst.entry,
                        config,
                        ctx,
                        self.first_backoff,
                        g.clone(),
                    ))
                } else {
                    tokio::spawn(supervise(inst.entry, config, ctx, self.first_backoff))
                }
            }
            None => tokio::spawn(supervise(inst.entry, config, ctx, self.first_backoff)),
        };
        self.running.push(Running {
            name,
            fingerprint: inst.fingerprint,
            stop,
            task,
            gate,
        });
    }

    async fn stop_indices(&mut self, mut idx: Vec<usize>) -> Vec<&'static str> {
        idx.sort_unstable();
        let mut stopping = Vec::new();
        for i in idx.into_iter().rev() {
            let r = self.running.remove(i);
            let _ = r.stop.send(true);
            stopping.push(r);
        }
        let mut names = Vec::new();
        for r in stopping {
            // The supervising task waits STOP_GRACE for the input, then aborts it.
            let _ = tokio::time::timeout(STOP_GRACE + Duration::from_secs(1), r.task).await;
            let s = self.base.stats.input(r.name);
            s.instances.fetch_sub(1, Relaxed);
            if let Some(g) = &r.gate {
                g.count_input(-1);
                self.base.stats.update_election(|e| e.inputs = g.inputs());
            }
            names.push(r.name);
        }
        names
    }

    /// Brings the running set to `wanted`: instances whose options did not change keep running.
    pub async fn reload(&mut self, wanted: Vec<InputInstance>) -> ReloadReport {
        let mut keep = vec![false; self.running.len()];
        let mut to_start = Vec::new();
        for inst in wanted {
            let found = self.running.iter().enumerate().find(|(i, r)| {
                !keep[*i] && r.name == inst.entry.spec.name && r.fingerprint == inst.fingerprint
            });
            match found {
                Some((i, _)) => keep[i] = true,
                None => to_start.push(inst),
            }
        }
        let stop: Vec<usize> = keep
            .iter()
            .enumerate()
            .filter(|(_, k)| !**k)
            .map(|(i, _)| i)
            .collect();
        let kept = keep.iter().filter(|k| **k).count();
        let stopped = self.stop_indices(stop).await;
        let started = to_start.iter().map(|i| i.entry.spec.name).collect();
        for inst in to_start {
            self.start(inst);
        }
        ReloadReport {
            started,
            stopped,
            kept,
        }
    }

    /// Stops every instance.
    pub async fn shutdown(mut self) {
        let all = (0..self.running.len()).collect();
        self.stop_indices(all).await;
    }
}

/// An election-aware instance: supervised while this agent leads, stopped when it does not.
async fn gated(
    entry: &'static InputEntry,
    config: Arc<dyn InputConfig>,
    ctx: InputCtx,
    first_backoff: Duration,
    gate: Arc<Gate>,
) {
    let name = entry.spec.name;
    let stats = ctx.stats.clone();
    let mut outer = ctx.shutdown.clone();
    let mut leader = gate.subscribe();
    loop {
        // Follower: wait to be elected.
        stats.set_state(InputState::Paused);
        while !*leader.borrow_and_update() {
            tokio::select! {
                r = leader.changed() => if r.is_err() {
                    stats.set_state(InputState::Exited);
                    return;
                },
                _ = outer.wait() => {
                    stats.set_state(InputState::Exited);
                    return;
                }
            }
        }
        tracing::info!(input = name, "elected: input starts");
        let (inner_stop, inner_shutdown) = Shutdown::new();
        let mut ictx = ctx.clone();
        ictx.shutdown = inner_shutdown;
        let mut task = tokio::spawn(supervise(entry, config.clone(), ictx, first_backoff));
        let mut finished = false;
        loop {
            tokio::select! {
                _ = &mut task, if !finished => finished = true,
                r = leader.changed() => {
                    if r.is_err() || !*leader.borrow_and_update() {
                        break;
                    }
                }
                _ = outer.wait() => {
                    let _ = inner_stop.send(true);
                    let _ = task.await;
                    stats.set_state(InputState::Exited);
                    return;
                }
            }
        }
        tracing::info!(input = name, "leadership lost: input stops");
        let _ = inner_stop.send(true);
        if !finished {
            // `supervise` gives the input STOP_GRACE, then aborts it.
            let _ = task.await;
        }
    }
}

async fn supervise(
    entry: &'static InputEntry,
    config: Arc<dyn InputConfig>,
    ctx: InputCtx,
    first_backoff: Duration,
) {
    let name = entry.spec.name;
    let stats = ctx.stats.clone();
    let mut stop = ctx.shutdown.clone();
    let mut crashes = 0u32;
    let mut backoff = first_backoff;
    loop {
        let input = match config.build() {
            Ok(i) => i,
            Err(e) => {
                tracing::error!(input = name, error = %e, "input cannot start; stopped");
                stats.record_error(e.to_string());
                ctx.agent_stats.record_error(name, e.to_string());
                stats.set_state(InputState::Stopped);
                return;
            }
        };
        stats.set_state(InputState::Running);
        let mut task = tokio::spawn(input.run(ctx.clone()));
        let result = tokio::select! {
            r = &mut task => r,
            _ = stop.wait() => {
                if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
                    tracing::warn!(input = name, "input did not stop within {STOP_GRACE:?}; aborted");
                    task.abort();
                }
                stats.set_state(InputState::Exited);
                return;
            }
        };
        let why = match result {
            Ok(Ok(())) | Ok(Err(InputError::Closed)) => {
                stats.set_state(InputState::Exited);
                return;
            }
            Ok(Err(e)) => format!("error: {e}"),
            Err(j) if j.is_panic() => format!("panic: {}", panic_message(j.into_panic())),
            Err(_) => {
                stats.set_state(InputState::Exited);
                return;
            }
        };
        crashes += 1;
        stats.crashes.fetch_add(1, Relaxed);
        stats.record_error(why.clone());
        ctx.agent_stats
            .record_error(name, format!("crashed ({why})"));
        if crashes >= MAX_CRASHES {
            tracing::error!(input = name, crashes, last = %why, "input crashed {MAX_CRASHES} times; stopped until the agent restarts");
            stats.set_state(InputState::Stopped);
            return;
        }
        tracing::warn!(input = name, crashes, %why, restart_in = %crate::config::duration::format_duration(backoff), "input crashed; restarting");
        stats.set_state(InputState::Restarting);
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait() => {
                stats.set_state(InputState::Exited);
                return;
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
