//! Model-based tests of the tailer: random appends, rotations (rename + create, copy +
//! truncate), polls and restarts against a model of what was written; every line must be
//! read exactly once (positions are saved after every poll, as if every batch were
//! acknowledged at once). Time is simulated.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;
use crate::inputs::logging::glob::FileSet;
use crate::inputs::logging::positions::Store;

fn opts(matcher: Option<Arc<Matcher>>) -> Options {
    Options {
        source: "t".into(),
        charset: Charset::Utf8,
        remove_ansi: false,
        matcher,
        from_beginning: false,
        ignore_dead_log: None,
        max_open_files: None,
        scan_interval: Duration::from_secs(10),
        multiline_wait: super::DEFAULT_WAIT,
        docker_json: false,
    }
}

struct World {
    dir: tempfile::TempDir,
    glob: String,
    writer: File,
    next: u64,
    rotations: u32,
    got: Vec<u64>,
    store: Store,
    t: Tailer,
    now: Instant,
    /// Scans only when forced or due (false: every poll scans, as if events always came).
    lazy_scans: bool,
    matcher: Option<Arc<Matcher>>,
}

fn line(n: u64) -> String {
    format!("{n:08} {}\n", "x".repeat((n % 37) as usize + 10))
}

impl World {
    fn new(glob_suffix: &str, lazy_scans: bool) -> World {
        World::with(glob_suffix, lazy_scans, None)
    }

    fn with(glob_suffix: &str, lazy_scans: bool, matcher: Option<Arc<Matcher>>) -> World {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("app.log");
        let writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let glob = format!("{}/app.log{glob_suffix}", dir.path().display());
        let store = Store::load(&dir.path().join("positions.json"));
        let t = Tailer::new(
            opts(matcher.clone()),
            FileSet::new(std::slice::from_ref(&glob), &[]).unwrap(),
            &store,
        );
        World {
            dir,
            glob,
            writer,
            next: 0,
            rotations: 0,
            got: Vec::new(),
            store,
            t,
            now: Instant::now(),
            lazy_scans,
            matcher,
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("app.log")
    }

    fn append(&mut self, k: u64) {
        let mut s = String::new();
        for _ in 0..k {
            s.push_str(&line(self.next));
            self.next += 1;
        }
        self.writer.write_all(s.as_bytes()).unwrap();
    }

    fn rename(&mut self) {
        self.rotations += 1;
        let to = self.dir.path().join(format!("app.log.{}", self.rotations));
        std::fs::rename(self.log(), to).unwrap();
        self.writer = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log())
            .unwrap();
    }

    fn copytruncate(&mut self) {
        self.rotations += 1;
        let to = self.dir.path().join(format!("app.log.{}", self.rotations));
        std::fs::copy(self.log(), to).unwrap();
        self.writer.set_len(0).unwrap();
    }

    fn poll(&mut self, advance: Duration) {
        self.now += advance;
        if !self.lazy_scans {
            self.t.force_scan();
        }
        let mut out = Vec::new();
        while {
            out.clear();
            self.t.poll(self.now, &mut out, 100);
            !out.is_empty()
        } {
            for o in &out {
                let n: u64 = o.text[..8]
                    .parse()
                    .unwrap_or_else(|_| panic!("bad line {:?}", o.text));
                self.got.push(n);
            }
            self.commit();
        }
        self.commit();
    }

    fn commit(&mut self) {
        for e in self.t.take_updates() {
            self.store.set(e);
        }
        for id in self.t.take_released() {
            self.store.remove("t", id);
        }
        for r in self.t.take_rotated() {
            self.store.add_rotated(r);
        }
    }

    fn restart(&mut self) {
        self.store.save().unwrap();
        self.store = Store::load(&self.dir.path().join("positions.json"));
        self.t = Tailer::new(
            opts(self.matcher.clone()),
            FileSet::new(std::slice::from_ref(&self.glob), &[]).unwrap(),
            &self.store,
        );
    }

    fn settle(&mut self) {
        for _ in 0..40 {
            self.t.force_scan();
            self.poll(Duration::from_secs(1));
        }
    }

    fn check(&self, what: &str) {
        let mut got = self.got.clone();
        got.sort_unstable();
        let dups: Vec<u64> = got
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        got.dedup();
        let missing: Vec<u64> = (0..self.next)
            .filter(|n| got.binary_search(n).is_err())
            .collect();
        assert!(
            dups.is_empty() && missing.is_empty(),
            "{what}: {} written, {} read; duplicates {:?}; missing {:?}",
            self.next,
            self.got.len(),
            &dups[..dups.len().min(20)],
            &missing[..missing.len().min(20)]
        );
    }
}

#[test]
fn lines_appended_are_read_once() {
    let mut w = World::new("", false);
    w.append(10);
    w.poll(Duration::ZERO);
    w.append(5);
    w.poll(Duration::from_millis(10));
    w.check("appends");
    assert_eq!(w.got.len(), 15);
}

#[test]
fn a_partial_line_waits_for_its_end() {
    let mut w = World::new("", false);
    w.writer.write_all(b"00000000 start").unwrap();
    w.poll(Duration::ZERO);
    assert!(w.got.is_empty());
    w.writer.write_all(b" end\n").unwrap();
    w.poll(Duration::ZERO);
    assert_eq!(w.got, vec![0]);
}

#[test]
fn rename_rotation_reads_the_old_file_to_its_end() {
    // Only `app.log` is matched: the renamed file is read to its end, then released.
    let mut w = World::new("", false);
    w.append(20);
    w.poll(Duration::ZERO);
    w.append(7); // written before the rename, not yet read
    w.rename();
    w.append(3);
    w.settle();
    w.check("rename");
    assert_eq!(w.t.open_files(), 1, "the renamed file is released");
    assert_eq!(w.t.counters.released, 1);
}

#[test]
fn copytruncate_with_the_copy_in_the_glob_loses_nothing() {
    let mut w = World::new("*", false);
    w.append(50);
    w.poll(Duration::ZERO);
    w.append(30); // only in the copy after the truncation
    w.copytruncate();
    w.append(10);
    w.settle();
    w.check("copytruncate");
    assert!(w.t.counters.copies_recognised >= 1);
    assert_eq!(w.t.counters.truncations, 1);
}

#[test]
fn copytruncate_seen_before_the_truncation_is_held() {
    // The scan finds the copy while the original still has its old content.
    let mut w = World::new("*", true);
    w.append(50);
    w.poll(Duration::ZERO);
    w.append(30);
    w.rotations += 1;
    let copy = w.dir.path().join("app.log.1");
    std::fs::copy(w.log(), &copy).unwrap();
    w.t.force_scan();
    w.poll(Duration::from_millis(1));
    w.writer.set_len(0).unwrap();
    w.append(10);
    w.settle();
    w.check("copy seen first");
}

#[test]
fn a_restart_resumes_at_the_saved_position() {
    let mut w = World::new("*", false);
    w.append(40);
    w.poll(Duration::ZERO);
    w.restart();
    w.append(40);
    w.rename();
    w.append(5);
    w.restart();
    w.append(5);
    w.settle();
    w.check("restart");
}

#[test]
fn a_reused_inode_is_read_from_the_start() {
    let mut w = World::new("", false);
    w.append(40);
    w.poll(Duration::ZERO);
    w.restart();
    // Rewritten with other content of the same length while the agent was away.
    let len = std::fs::metadata(w.log()).unwrap().len();
    w.writer.set_len(0).unwrap();
    let start = w.next;
    w.append(40);
    assert!(std::fs::metadata(w.log()).unwrap().len() >= len);
    w.settle();
    let mut got = w.got.clone();
    got.sort_unstable();
    assert_eq!(got[40..], (start..w.next).collect::<Vec<_>>()[..]);
}

#[test]
fn huge_lines_are_cut_and_garbage_never_panics() {
    let mut w = World::new("", false);
    let mut junk: Vec<u8> = (0..=255u8).cycle().take(3 * MAX_LINE_BYTES).collect();
    junk.retain(|b| *b != b'\n');
    junk.resize(3 * MAX_LINE_BYTES + 10, b'z');
    w.writer.write_all(&junk).unwrap();
    w.writer.write_all(b"\n").unwrap();
    let mut out = Vec::new();
    w.t.poll(w.now, &mut out, 100);
    let lens: Vec<usize> = out.iter().map(|o| o.text.len()).collect();
    // Cut at the limit while no line break is in sight; the last piece ends at the line
    // break found in the same read.
    assert_eq!(out.len(), 3, "{lens:?}");
    assert_eq!(w.t.counters.long_lines_cut, 2);
}

#[test]
fn multiline_records_flush_when_idle_and_keep_their_start_as_position() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("j.log");
    std::fs::write(
        &log,
        "2024-01-01 00:00:00 ERROR x\njava.lang.Exception: y\n\tat a.b(C.java:1)\n",
    )
    .unwrap();
    let store = Store::load(&dir.path().join("p.json"));
    let m = Arc::new(Matcher::new(&[r"^\d{4}-".to_string()]).unwrap());
    let mut t = Tailer::new(
        opts(Some(m)),
        FileSet::new(&[log.display().to_string()], &[]).unwrap(),
        &store,
    );
    let now = Instant::now();
    let mut out = Vec::new();
    t.poll(now, &mut out, 100);
    assert!(out.is_empty(), "the record is still open");
    assert_eq!(t.take_updates()[0].offset, 0, "nothing emitted yet");
    t.poll(now + IDLE_FLUSH, &mut out, 100);
    assert!(out.is_empty(), "an open record waits for more lines");
    t.poll(now + super::DEFAULT_WAIT, &mut out, 100);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].text.lines().count(), 3);
    let u = t.take_updates();
    assert_eq!(u[0].offset, std::fs::metadata(&log).unwrap().len());
    assert!(u[0].crc.is_some());
}

#[test]
fn utf16_files_are_split_on_wide_line_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("w.log");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "一\u{0A0D}\nzwei\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes()),
    );
    std::fs::write(&log, bytes).unwrap();
    let store = Store::load(&dir.path().join("p.json"));
    let mut o = opts(None);
    o.charset = Charset::Utf16Auto;
    let mut t = Tailer::new(
        o,
        FileSet::new(&[log.display().to_string()], &[]).unwrap(),
        &store,
    );
    let mut out = Vec::new();
    t.poll(Instant::now(), &mut out, 100);
    let texts: Vec<&str> = out.iter().map(|o| o.text.as_str()).collect();
    assert_eq!(texts, vec!["一\u{0A0D}", "zwei"]);
}

/// Random interleavings of appends, rotations of both kinds, polls (with and without
/// prompt scans) and restarts.
#[test]
fn random_rotations_and_restarts_lose_and_repeat_nothing() {
    let seeds: u64 = std::env::var("TAILER_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    for seed in 0..seeds {
        let mut rng = fastrand::Rng::with_seed(seed);
        let lazy = seed % 2 == 1;
        // Half the seeds with the automatic multiline detection the input enables by default:
        // each line is then held until the next one (or an idle flush).
        let matcher = (seed % 4 >= 2).then(|| {
            let pats: Vec<String> = crate::inputs::logging::multiline::AUTO_PATTERNS
                .iter()
                .map(|s| s.to_string())
                .collect();
            Arc::new(Matcher::new(&pats).unwrap())
        });
        let mut w = World::with("*", lazy, matcher);
        let trace = std::env::var("TAILER_TRACE").ok() == Some(seed.to_string());
        for _ in 0..60 {
            let op = rng.u32(0..100);
            let arg = rng.u64(1..3000);
            if trace {
                eprintln!("op {op} arg {arg} next {} got {}", w.next, w.got.len());
            }
            match op {
                0..=44 => w.append(arg % 39 + 1),
                45..=54 => w.rename(),
                55..=64 => w.copytruncate(),
                65..=94 => w.poll(Duration::from_millis(arg)),
                _ => w.restart(),
            }
        }
        w.settle();
        w.check(&format!("seed {seed}"));
    }
}

#[test]
fn a_deleted_file_is_drained_then_released() {
    let mut w = World::new("", false);
    w.append(10);
    w.poll(Duration::ZERO);
    w.append(25); // not yet read when the file is deleted
    std::fs::remove_file(w.log()).unwrap();
    w.poll(Duration::from_millis(10));
    w.check("deleted");
    assert_eq!(w.t.open_files(), 1, "kept open until quiet");
    w.poll(RELEASE_IDLE + CHECK_INTERVAL);
    w.poll(CHECK_INTERVAL);
    assert_eq!(w.t.open_files(), 0, "released");
    assert_eq!(w.t.counters.released, 1);
    assert!(
        w.store.of_source("t").is_empty(),
        "its position is forgotten"
    );
}

#[test]
fn an_inactive_file_is_closed_and_reopened_at_its_position() {
    let mut w = World::new("", false);
    w.t.opts.ignore_dead_log = Some(Duration::from_secs(60));
    w.append(10);
    w.poll(Duration::ZERO);
    let old = std::time::SystemTime::now() - Duration::from_secs(3600);
    w.writer.set_modified(old).unwrap();
    w.poll(CHECK_INTERVAL);
    assert_eq!(w.t.open_files(), 0, "closed for inactivity");
    // Not reopened while old.
    w.poll(CHECK_INTERVAL);
    assert_eq!(w.t.open_files(), 0);
    w.append(5);
    w.poll(CHECK_INTERVAL);
    assert_eq!(w.t.open_files(), 1, "reopened once written");
    w.check("reopened");
    assert_eq!(w.got.len(), 15);
}

#[test]
fn a_restart_after_a_rename_reads_the_new_file_from_its_start() {
    let mut w = World::new("", false);
    w.append(10);
    w.poll(Duration::ZERO);
    w.restart();
    w.rename();
    w.append(10);
    // A new file found after the restart, without a position and smaller than 20 MB.
    w.settle();
    let mut got = w.got.clone();
    got.sort_unstable();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
}

#[test]
fn ignored_files_are_not_tailed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.log"), "one\n").unwrap();
    std::fs::write(dir.path().join("b.log"), "two\n").unwrap();
    let store = Store::load(&dir.path().join("p.json"));
    let mut t = Tailer::new(
        opts(None),
        FileSet::new(
            &[format!("{}/*.log", dir.path().display())],
            &["b.*".to_string()],
        )
        .unwrap(),
        &store,
    );
    let mut out = Vec::new();
    t.poll(Instant::now(), &mut out, 100);
    let texts: Vec<&str> = out.iter().map(|o| o.text.as_str()).collect();
    assert_eq!(texts, vec!["one"]);
}

#[test]
fn a_poll_returns_at_most_its_limit_and_keeps_the_rest() {
    let mut w = World::new("", false);
    w.append(250);
    let mut out = Vec::new();
    assert!(w.t.poll(w.now, &mut out, 100));
    assert_eq!(out.len(), 100);
    out.clear();
    // Nothing new in the file: the buffered lines still come, up to the limit.
    assert!(w.t.poll(w.now, &mut out, 100));
    assert_eq!(out.len(), 100);
    out.clear();
    w.t.poll(w.now, &mut out, 100);
    assert_eq!(out.len(), 50);
    assert_eq!(out[49].text[..8].parse::<u64>().unwrap(), 249);
}

#[test]
fn a_copy_seen_while_still_empty_is_recognised_once_written() {
    let mut w = World::new("*", false);
    w.append(50);
    w.poll(Duration::ZERO);
    w.append(20);
    w.rotations += 1;
    // `cp` creates the copy, a scan sees it empty, then its bytes arrive.
    let copy = w.dir.path().join("app.log.1");
    File::create(&copy).unwrap();
    w.poll(Duration::from_millis(10));
    std::fs::copy(w.log(), &copy).unwrap();
    w.poll(Duration::from_millis(10));
    w.writer.set_len(0).unwrap();
    w.append(10);
    w.settle();
    w.check("copy seen empty");
}

#[test]
fn instances_of_one_source_take_only_the_positions_of_their_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::load(&dir.path().join("positions.json"));
    for (inode, path) in [(1, "/x/a.log"), (2, "/y/b.log"), (3, "/x/c.log")] {
        store.set(Entry {
            source: "t".into(),
            dev: 1,
            inode,
            offset: 10,
            fp_crc: 0,
            fp_len: 0,
            crc: None,
            path: path.into(),
        });
    }
    let files = FileSet::new(&["/x/*.log".to_string()], &[]).unwrap();
    let t = Tailer::new(opts(None), files, &store);
    let mut mine: Vec<u64> = t.restored.keys().map(|id| id.inode).collect();
    mine.sort();
    assert_eq!(mine, vec![1, 3]);
    assert_eq!(t.retired.len(), 2);
    assert_eq!(store.entries_of("t").count(), 3);
    assert_eq!(store.entries_of("u").count(), 0);
}

#[test]
fn docker_json_lines_are_unwrapped_and_their_pieces_joined() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("c-json.log");
    let rec = |log: &str, stream: &str| {
        format!(
            "{}\n",
            serde_json::json!({"log": log, "stream": stream, "time": "2026-01-01T00:00:00.1Z"})
        )
    };
    let mut text = String::new();
    text.push_str(&rec("first\n", "stdout"));
    text.push_str(&rec("\n", "stdout")); // an empty line, as in a plain file
    text.push_str(&rec("long-a ", "stderr")); // pieces of one long line
    text.push_str(&rec("long-b ", "stderr"));
    text.push_str("not json\n"); // taken as it is, counted
    std::fs::write(&log, &text).unwrap();
    let store = Store::load(&dir.path().join("p.json"));
    let mut o = opts(None);
    o.docker_json = true;
    let mut t = Tailer::new(
        o.clone(),
        FileSet::new(&[log.display().to_string()], &[]).unwrap(),
        &store,
    );
    let now = Instant::now();
    let mut out = Vec::new();
    t.poll(now, &mut out, 100);
    let texts: Vec<&str> = out.iter().map(|o| o.text.as_str()).collect();
    assert_eq!(texts, ["first", "", "not json"]);
    assert_eq!(t.counters.docker_json_malformed, 1);
    // The open pieces hold the saved position at their start.
    let pieces_at = rec("first\n", "stdout").len() + rec("\n", "stdout").len();
    let u = t.take_updates();
    assert_eq!(u[0].offset, pieces_at as u64);
    // The last piece ends the line.
    let mut f = OpenOptions::new().append(true).open(&log).unwrap();
    f.write_all(rec("long-c\n", "stderr").as_bytes()).unwrap();
    out.clear();
    t.poll(now + Duration::from_secs(1), &mut out, 100);
    let texts: Vec<&str> = out.iter().map(|o| o.text.as_str()).collect();
    assert_eq!(texts, ["long-a long-b long-c"]);
    assert_eq!(
        t.take_updates()[0].offset,
        std::fs::metadata(&log).unwrap().len()
    );
}
