//! File-system events for every tailing instance of the agent: ONE inotify instance (one
//! `notify` watcher and its thread), whatever the number of instances.
//!
//! An instance subscribes to the directories its globs start from ([`super::glob::FileSet::watch_dirs`]);
//! an event under one of them wakes the instance at once (a new, removed or renamed file also
//! makes it scan its globs). A directory several instances watch is watched once (counted),
//! and a directory inside another one's recursive watch needs no watch of its own.
//!
//! Events only hasten what the scans and the idle timers do anyway. Where inotify is not
//! available (the agent cannot create an inotify instance, e.g. `fs.inotify.max_user_instances`
//! is reached) every instance polls; an instance whose directories cannot all be watched (one
//! does not exist yet, or `fs.inotify.max_user_watches` is reached) polls. Either is logged
//! once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use notify::{EventKind, RecursiveMode, Watcher as _};

use super::pool::{JobId, TailPool};

/// Who is woken by events under a directory.
struct Sub {
    pool: TailPool,
    id: JobId,
    /// Set by an event that may mean new or removed files: the instance scans its globs.
    scan: Arc<AtomicBool>,
}

#[derive(Default)]
struct Routes {
    /// Events directly in (or of) these directories.
    flat: HashMap<PathBuf, Vec<Arc<Sub>>>,
    /// Events anywhere under these directories.
    recursive: HashMap<PathBuf, Vec<Arc<Sub>>>,
}

impl Routes {
    fn add(&mut self, dir: &Path, recursive: bool, sub: &Arc<Sub>) {
        let m = if recursive {
            &mut self.recursive
        } else {
            &mut self.flat
        };
        m.entry(dir.to_path_buf()).or_default().push(sub.clone());
    }

    fn remove(&mut self, dir: &Path, recursive: bool, sub: &Arc<Sub>) {
        let m = if recursive {
            &mut self.recursive
        } else {
            &mut self.flat
        };
        if let Some(v) = m.get_mut(dir) {
            v.retain(|s| !Arc::ptr_eq(s, sub));
            if v.is_empty() {
                m.remove(dir);
            }
        }
    }

    /// Every subscriber an event on `path` concerns.
    fn find(&self, path: &Path, out: &mut Vec<Arc<Sub>>) {
        let mut push = |v: Option<&Vec<Arc<Sub>>>| {
            for s in v.into_iter().flatten() {
                if !out.iter().any(|o| Arc::ptr_eq(o, s)) {
                    out.push(s.clone());
                }
            }
        };
        push(self.flat.get(path));
        if let Some(parent) = path.parent() {
            push(self.flat.get(parent));
        }
        if !self.recursive.is_empty() {
            for a in path.ancestors() {
                push(self.recursive.get(a));
            }
        }
    }

    fn all(&self) -> Vec<Arc<Sub>> {
        let mut out: Vec<Arc<Sub>> = Vec::new();
        for s in self.flat.values().chain(self.recursive.values()).flatten() {
            if !out.iter().any(|o| Arc::ptr_eq(o, s)) {
                out.push(s.clone());
            }
        }
        out
    }
}

/// Instances watching a directory, by mode.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Refs {
    flat: usize,
    recursive: usize,
}

impl Refs {
    fn mode(self) -> Option<RecursiveMode> {
        if self.recursive > 0 {
            Some(RecursiveMode::Recursive)
        } else if self.flat > 0 {
            Some(RecursiveMode::NonRecursive)
        } else {
            None
        }
    }
}

struct Watches {
    /// `None`: inotify is not available.
    notify: Option<notify::RecommendedWatcher>,
    refs: HashMap<PathBuf, Refs>,
    warned_limit: bool,
}

impl Watches {
    /// Whether a recursive watch of another directory covers `dir`.
    fn covered(&self, dir: &Path) -> bool {
        dir.ancestors()
            .skip(1)
            .any(|a| self.refs.get(a).is_some_and(|r| r.recursive > 0))
    }

    /// Makes the watch of `dir` what its counts ask for, `was` being what they asked before.
    fn apply(&mut self, dir: &Path, was: Option<RecursiveMode>) -> notify::Result<()> {
        let now = self.refs.get(dir).copied().unwrap_or_default().mode();
        if now == was {
            return Ok(());
        }
        let covered = self.covered(dir);
        let Some(w) = self.notify.as_mut() else {
            return Ok(());
        };
        match (was, now) {
            (_, Some(mode)) if !covered => {
                if was == Some(RecursiveMode::Recursive) {
                    // Down to a flat watch: the recursive one is taken off first.
                    let _ = w.unwatch(dir);
                    w.watch(dir, mode)?;
                    self.rewatch_under(dir);
                } else {
                    w.watch(dir, mode)?;
                }
            }
            (Some(_), None) if !covered => {
                let _ = w.unwatch(dir);
                if was == Some(RecursiveMode::Recursive) {
                    self.rewatch_under(dir);
                }
            }
            _ => {}
        }
        if self.refs.get(dir).is_some_and(|r| r.mode().is_none()) {
            self.refs.remove(dir);
        }
        Ok(())
    }

    /// Watches again the directories under `dir` (taking a recursive watch off takes theirs).
    fn rewatch_under(&mut self, dir: &Path) {
        let under: Vec<(PathBuf, RecursiveMode)> = self
            .refs
            .iter()
            .filter(|(p, _)| p.as_path() != dir && p.starts_with(dir))
            .filter_map(|(p, r)| Some((p.clone(), r.mode()?)))
            .collect();
        for (p, mode) in under {
            if self.covered(&p) {
                continue;
            }
            if let Some(w) = self.notify.as_mut()
                && let Err(e) = w.watch(&p, mode)
            {
                tracing::debug!(dir = %p.display(), error = %e, "cannot watch a log directory again");
            }
        }
    }
}

/// The agent's watcher.
pub struct Watcher {
    routes: Arc<RwLock<Routes>>,
    watches: Mutex<Watches>,
}

/// An instance's subscription; dropping it ends it.
pub struct Subscription {
    watcher: &'static Watcher,
    sub: Arc<Sub>,
    dirs: Vec<(PathBuf, bool)>,
    /// The directories actually watched (counted).
    watched: Vec<(PathBuf, bool)>,
    /// Whether every directory is watched: if not, the instance polls.
    pub complete: bool,
}

impl Subscription {
    /// Whether an event asked for a scan since the last call.
    pub fn take_scan(&self) -> bool {
        self.sub.scan.swap(false, Relaxed)
    }
}

fn lock_watches(m: &Mutex<Watches>) -> std::sync::MutexGuard<'_, Watches> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_limit(e: &notify::Error) -> bool {
    matches!(e.kind, notify::ErrorKind::MaxFilesWatch)
        || matches!(&e.kind, notify::ErrorKind::Io(io) if io.raw_os_error() == Some(28))
}

impl Watcher {
    fn start() -> Watcher {
        let routes = Arc::new(RwLock::new(Routes::default()));
        let r2 = routes.clone();
        let warned = Arc::new(AtomicBool::new(false));
        let handler = move |ev: notify::Result<notify::Event>| {
            let ev = match ev {
                Ok(ev) => ev,
                Err(e) => {
                    if is_limit(&e) && !warned.swap(true, Relaxed) {
                        tracing::warn!(
                            "inotify's watch limit (fs.inotify.max_user_watches) is reached: new subdirectories of recursively watched log directories are found by the periodic scans"
                        );
                    }
                    return;
                }
            };
            let scan = matches!(
                ev.kind,
                EventKind::Create(_)
                    | EventKind::Remove(_)
                    | EventKind::Modify(notify::event::ModifyKind::Name(_))
            ) || ev.need_rescan();
            let routes = r2.read().unwrap_or_else(|e| e.into_inner());
            let subs = if ev.paths.is_empty() || ev.need_rescan() {
                routes.all()
            } else {
                let mut v = Vec::new();
                for p in &ev.paths {
                    routes.find(p, &mut v);
                }
                v
            };
            drop(routes);
            for s in subs {
                if scan {
                    s.scan.store(true, Relaxed);
                }
                s.pool.wake(s.id);
            }
        };
        let notify = match notify::recommended_watcher(handler) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "file-system events (inotify) are unavailable: every log tailing instance scans for files every 2s and polls its files");
                None
            }
        };
        Watcher {
            routes,
            watches: Mutex::new(Watches {
                notify,
                refs: HashMap::new(),
                warned_limit: false,
            }),
        }
    }

    /// Whether file-system events are available at all.
    pub fn available(&self) -> bool {
        lock_watches(&self.watches).notify.is_some()
    }

    /// Subscribes job `id` of `pool` to events under `dirs` (`true`: recursively).
    pub fn subscribe(
        &'static self,
        dirs: Vec<(PathBuf, bool)>,
        pool: &TailPool,
        id: JobId,
    ) -> Subscription {
        let sub = Arc::new(Sub {
            pool: pool.clone(),
            id,
            scan: Arc::new(AtomicBool::new(false)),
        });
        {
            let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
            for (d, rec) in &dirs {
                r.add(d, *rec, &sub);
            }
        }
        let mut watched = Vec::new();
        let mut complete = true;
        let mut w = lock_watches(&self.watches);
        if w.notify.is_none() {
            complete = false;
        } else {
            for (d, rec) in &dirs {
                let was = w.refs.get(d).copied().unwrap_or_default().mode();
                {
                    let r = w.refs.entry(d.clone()).or_default();
                    if *rec {
                        r.recursive += 1;
                    } else {
                        r.flat += 1;
                    }
                }
                match w.apply(d, was) {
                    Ok(()) => watched.push((d.clone(), *rec)),
                    Err(e) => {
                        complete = false;
                        if let Some(r) = w.refs.get_mut(d) {
                            if *rec {
                                r.recursive -= 1;
                            } else {
                                r.flat -= 1;
                            }
                            if r.mode().is_none() {
                                w.refs.remove(d);
                            }
                        }
                        if is_limit(&e) {
                            if !w.warned_limit {
                                w.warned_limit = true;
                                tracing::warn!(dir = %d.display(), "inotify's watch limit (fs.inotify.max_user_watches) is reached: log directories beyond it are scanned every 2s instead");
                            }
                        } else {
                            tracing::debug!(dir = %d.display(), error = %e, "cannot watch a log directory; scanning it instead");
                        }
                    }
                }
            }
        }
        Subscription {
            watcher: self,
            sub,
            dirs,
            watched,
            complete,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        {
            let mut r = self
                .watcher
                .routes
                .write()
                .unwrap_or_else(|e| e.into_inner());
            for (d, rec) in &self.dirs {
                r.remove(d, *rec, &self.sub);
            }
        }
        let mut w = lock_watches(&self.watcher.watches);
        for (d, rec) in &self.watched {
            let Some(r) = w.refs.get_mut(d) else { continue };
            let was = r.mode();
            if *rec {
                r.recursive = r.recursive.saturating_sub(1);
            } else {
                r.flat = r.flat.saturating_sub(1);
            }
            let _ = w.apply(d, was);
        }
    }
}

/// The agent's watcher (created with the first subscription).
pub fn global() -> &'static Watcher {
    static W: OnceLock<Watcher> = OnceLock::new();
    W.get_or_init(Watcher::start)
}

/// Watched directories now (for tests).
#[cfg(test)]
fn watched_dirs(w: &Watcher) -> Vec<(PathBuf, Refs)> {
    let mut v: Vec<_> = lock_watches(&w.watches)
        .refs
        .iter()
        .map(|(p, r)| (p.clone(), *r))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::logging::pool::{Job, Turn};
    use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
    use std::time::{Duration, Instant};

    struct Counter(Arc<AtomicU64>);
    impl Job for Counter {
        fn turn(&mut self) -> Turn {
            self.0.fetch_add(1, SeqCst);
            Turn::Sleep(Duration::from_secs(3600))
        }
        fn end(self: Box<Self>, _: Option<Box<dyn std::any::Any + Send>>) {}
    }

    fn wait_until(what: &str, f: impl Fn() -> bool) {
        let t0 = Instant::now();
        while !f() {
            assert!(t0.elapsed() < Duration::from_secs(10), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn events_wake_the_instances_of_a_directory_and_shared_directories_are_counted() {
        let w: &'static Watcher = Box::leak(Box::new(Watcher::start()));
        if !w.available() {
            eprintln!("inotify unavailable here; nothing to test");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let deep = dir.path().join("r/x/y");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&deep).unwrap();
        let pool = TailPool::new(1);
        let (na, nb, nr) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let ja = pool.add("a", None, Box::new(Counter(na.clone())));
        let jb = pool.add("b", None, Box::new(Counter(nb.clone())));
        let jr = pool.add("r", None, Box::new(Counter(nr.clone())));
        wait_until("first turns", || {
            na.load(SeqCst) == 1 && nb.load(SeqCst) == 1 && nr.load(SeqCst) == 1
        });
        let sa = w.subscribe(vec![(a.clone(), false)], &pool, ja);
        let sb = w.subscribe(vec![(a.clone(), false)], &pool, jb);
        let sr = w.subscribe(vec![(dir.path().join("r"), true)], &pool, jr);
        assert!(sa.complete && sb.complete && sr.complete);
        assert_eq!(
            watched_dirs(w).iter().find(|(p, _)| *p == a).unwrap().1,
            Refs {
                flat: 2,
                recursive: 0
            }
        );
        std::fs::write(a.join("new.log"), "x\n").unwrap();
        wait_until("both instances of a woken", || {
            na.load(SeqCst) >= 2 && nb.load(SeqCst) >= 2
        });
        assert!(
            sa.take_scan() && sb.take_scan(),
            "a new file asks for a scan"
        );
        std::fs::write(deep.join("deep.log"), "x\n").unwrap();
        wait_until("the recursive instance woken", || nr.load(SeqCst) >= 2);
        drop(sb);
        assert_eq!(
            watched_dirs(w).iter().find(|(p, _)| *p == a).unwrap().1,
            Refs {
                flat: 1,
                recursive: 0
            }
        );
        // A directory inside a recursive watch: counted, not watched twice; still served
        // after the recursive watch ends.
        let (nd, jd) = {
            let n = Arc::new(AtomicU64::new(0));
            let j = pool.add("d", None, Box::new(Counter(n.clone())));
            (n, j)
        };
        wait_until("first turn", || nd.load(SeqCst) == 1);
        let sd = w.subscribe(vec![(deep.clone(), false)], &pool, jd);
        drop(sr);
        std::fs::write(deep.join("after.log"), "x\n").unwrap();
        wait_until("the flat instance inside woken", || nd.load(SeqCst) >= 2);
        drop(sd);
        drop(sa);
        assert!(watched_dirs(w).is_empty(), "{:?}", watched_dirs(w));
    }

    #[test]
    fn without_inotify_every_instance_polls() {
        let w: &'static Watcher = Box::leak(Box::new(Watcher {
            routes: Arc::default(),
            watches: Mutex::new(Watches {
                notify: None,
                refs: HashMap::new(),
                warned_limit: false,
            }),
        }));
        assert!(!w.available());
        let dir = tempfile::tempdir().unwrap();
        let pool = TailPool::new(1);
        let j = pool.add("p", None, Box::new(Counter(Arc::default())));
        let s = w.subscribe(vec![(dir.path().to_path_buf(), false)], &pool, j);
        assert!(!s.complete);
        assert!(watched_dirs(w).is_empty());
    }

    #[test]
    fn a_missing_directory_makes_the_instance_poll() {
        let w: &'static Watcher = Box::leak(Box::new(Watcher::start()));
        let pool = TailPool::new(1);
        let n = Arc::new(AtomicU64::new(0));
        let j = pool.add("m", None, Box::new(Counter(n)));
        let s = w.subscribe(vec![(PathBuf::from("/nonexistent/dir/x"), false)], &pool, j);
        assert!(!s.complete);
        drop(s);
        assert!(watched_dirs(w).is_empty());
    }
}
