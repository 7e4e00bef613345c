//! File-system events for every tailing instance of the agent: ONE inotify instance (one
//! `notify` watcher and its thread), whatever the number of instances.
//!
//! An instance subscribes with its globs: the directories they start from are watched, and an
//! event on a file its globs match (a plain path: that file; a pattern: a file of its
//! directories that matches) wakes the instance at once; a new, removed or renamed file also
//! makes it scan its globs. Events of readers (opening, reading, closing a file without
//! writing: the tailers' own reads among them) wake nobody. A directory several instances
//! watch is watched once (counted), and a directory inside another one's recursive watch
//! needs no watch of its own.
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

use super::glob::FileSet;
use super::pool::{JobId, TailPool};

/// Who is woken by events under a directory.
struct Sub {
    pool: TailPool,
    id: JobId,
    /// The instance's globs: an event under one of its directories concerns it if the file
    /// matches them.
    files: Arc<FileSet>,
    /// Set by an event that may mean new or removed files: the instance scans its globs.
    scan: Arc<AtomicBool>,
}

/// Where the subscribers of an event are found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// A plain path among the globs.
    File,
    /// Events in a directory (the files of a pattern).
    Flat,
    /// Events anywhere under a directory.
    Recursive,
}

#[derive(Default)]
struct Routes {
    files: HashMap<PathBuf, Vec<Arc<Sub>>>,
    flat: HashMap<PathBuf, Vec<Arc<Sub>>>,
    recursive: HashMap<PathBuf, Vec<Arc<Sub>>>,
}

impl Routes {
    fn map(&mut self, route: Route) -> &mut HashMap<PathBuf, Vec<Arc<Sub>>> {
        match route {
            Route::File => &mut self.files,
            Route::Flat => &mut self.flat,
            Route::Recursive => &mut self.recursive,
        }
    }

    fn add(&mut self, path: &Path, route: Route, sub: &Arc<Sub>) {
        self.map(route)
            .entry(path.to_path_buf())
            .or_default()
            .push(sub.clone());
    }

    fn remove(&mut self, path: &Path, route: Route, sub: &Arc<Sub>) {
        let m = self.map(route);
        if let Some(v) = m.get_mut(path) {
            v.retain(|s| !Arc::ptr_eq(s, sub));
            if v.is_empty() {
                m.remove(path);
            }
        }
    }

    /// Every subscriber an event on `path` concerns (`folder`: the event is about a
    /// directory, which may hold files of any pattern below it).
    fn find(&self, path: &Path, folder: bool, out: &mut Vec<Arc<Sub>>) {
        let mut push = |v: Option<&Vec<Arc<Sub>>>, filter: bool| {
            for s in v.into_iter().flatten() {
                if filter && !folder && !s.files.matches(path) {
                    continue;
                }
                if !out.iter().any(|o| Arc::ptr_eq(o, s)) {
                    out.push(s.clone());
                }
            }
        };
        push(self.files.get(path), false);
        // The directory itself (removed, renamed).
        push(self.flat.get(path), false);
        if let Some(parent) = path.parent() {
            push(self.flat.get(parent), true);
        }
        if !self.recursive.is_empty() {
            push(self.recursive.get(path), false);
            for a in path.ancestors().skip(1) {
                push(self.recursive.get(a), true);
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
    routes: Vec<(PathBuf, Route)>,
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

/// An event of a reader: opening, reading, or closing without writing.
fn is_read(kind: &EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    matches!(kind, EventKind::Access(a) if !matches!(a, AccessKind::Close(AccessMode::Write)))
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
                // What readers do (the tailers' own reads among them) changes nothing.
                Ok(ev) if is_read(&ev.kind) => return,
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
            let folder = matches!(
                ev.kind,
                EventKind::Create(notify::event::CreateKind::Folder)
                    | EventKind::Remove(notify::event::RemoveKind::Folder)
                    | EventKind::Modify(notify::event::ModifyKind::Name(_))
            );
            let routes = r2.read().unwrap_or_else(|e| e.into_inner());
            let subs = if ev.paths.is_empty() || ev.need_rescan() {
                routes.all()
            } else {
                let mut v = Vec::new();
                for p in &ev.paths {
                    routes.find(p, folder, &mut v);
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

    /// Subscribes job `id` of `pool` to the events of the files `files` matches.
    pub fn subscribe(
        &'static self,
        files: Arc<FileSet>,
        pool: &TailPool,
        id: JobId,
    ) -> Subscription {
        let dirs = files.watch_dirs();
        let (plain, patterns) = files.interests();
        let mut routes: Vec<(PathBuf, Route)> =
            plain.into_iter().map(|p| (p, Route::File)).collect();
        routes.extend(
            patterns
                .into_iter()
                .map(|(d, rec)| (d, if rec { Route::Recursive } else { Route::Flat })),
        );
        let sub = Arc::new(Sub {
            pool: pool.clone(),
            id,
            files,
            scan: Arc::new(AtomicBool::new(false)),
        });
        {
            let mut r = self.routes.write().unwrap_or_else(|e| e.into_inner());
            for (p, route) in &routes {
                r.add(p, *route, &sub);
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
            routes,
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
            for (p, route) in &self.routes {
                r.remove(p, *route, &self.sub);
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

    fn set(globs: &[String]) -> Arc<FileSet> {
        Arc::new(FileSet::new(globs, &[]).unwrap())
    }

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
        let sa = w.subscribe(set(&[format!("{}/*.log", a.display())]), &pool, ja);
        let sb = w.subscribe(set(&[format!("{}/new.log", a.display())]), &pool, jb);
        let sr = w.subscribe(
            set(&[format!("{}/r/**/*.log", dir.path().display())]),
            &pool,
            jr,
        );
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
        // A file neither matches wakes nobody, and reading a file neither.
        std::thread::sleep(Duration::from_millis(200));
        let before = (na.load(SeqCst), nb.load(SeqCst));
        std::fs::write(a.join("other.txt"), "x\n").unwrap();
        let _ = std::fs::read(a.join("new.log")).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!((na.load(SeqCst), nb.load(SeqCst)), before);
        std::fs::write(a.join("new.log"), "y\n").unwrap();
        wait_until("the pattern and the plain path woken by new.log", || {
            na.load(SeqCst) > before.0 && nb.load(SeqCst) > before.1
        });
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
        let sd = w.subscribe(set(&[format!("{}/*.log", deep.display())]), &pool, jd);
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
        let s = w.subscribe(set(&[format!("{}/x.log", dir.path().display())]), &pool, j);
        assert!(!s.complete);
        assert!(watched_dirs(w).is_empty());
    }

    #[test]
    fn a_missing_directory_makes_the_instance_poll() {
        let w: &'static Watcher = Box::leak(Box::new(Watcher::start()));
        let pool = TailPool::new(1);
        let n = Arc::new(AtomicU64::new(0));
        let j = pool.add("m", None, Box::new(Counter(n)));
        let s = w.subscribe(set(&["/nonexistent/dir/x".to_string()]), &pool, j);
        assert!(!s.complete);
        drop(s);
        assert!(watched_dirs(w).is_empty());
    }
}
