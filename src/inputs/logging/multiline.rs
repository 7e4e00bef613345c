//! Joining lines into records (stack traces, tracebacks): a line that matches a start pattern
//! begins a record; the lines after it that do not match are appended with `\n`.
//!
//! As in the original: when no pattern has matched yet in a file (or there are no patterns), a
//! line that does not start with white space begins a record. A record is emitted when the
//! next one begins, when it grows past [`MAX_RECORD_BYTES`], when a line arrives after it has
//! been open for [`MAX_RECORD_AGE`] (or the wait, if longer), or when no line has come for the
//! wait (`multiline_max_wait`, [`DEFAULT_WAIT`]): so a trace whose lines are written seconds
//! apart is still one record, however the reads fall.

use std::time::{Duration, Instant};

use regex::RegexSet;

/// The largest record: beyond it the buffer is emitted as it is (0.8 of the default 1 MiB
/// body limit, as the original does).
pub const MAX_RECORD_BYTES: usize = 800 * 1024;
/// A record open this long is emitted when the next line is appended.
pub const MAX_RECORD_AGE: Duration = Duration::from_secs(5);
/// A file without multi-line records emits its last line once it has had no new data for this
/// long.
pub const IDLE_FLUSH: Duration = Duration::from_secs(1);
/// An open multi-line record is emitted when no line has come for this long (the default of
/// `multiline_max_wait`).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(3);

/// The built-in start patterns of `auto_multiline_detection` (the original's list): common
/// timestamp prefixes.
pub const AUTO_PATTERNS: &[&str] = &[
    // RFC3339: 2006-01-02T15:04:05Z07:00
    r"^\d+-\d+-\d+T\d+:\d+:\d+(\.\d+)?(Z\d*:?\d*)?",
    // ANSIC: Mon Jan _2 15:04:05 2006
    r"^[A-Za-z_]+ [A-Za-z_]+ +\d+ \d+:\d+:\d+ \d+",
    // RubyDate: Mon Jan 02 15:04:05 -0700 2006
    r"^[A-Za-z_]+ [A-Za-z_]+ \d+ \d+:\d+:\d+ [\-\+]\d+ \d+",
    // UnixDate: Mon Jan _2 15:04:05 MST 2006
    r"^[A-Za-z_]+ [A-Za-z_]+ +\d+ \d+:\d+:\d+( [A-Za-z_]+ \d+)?",
    // RFC822: 02 Jan 06 15:04 MST
    r"^\d+ [A-Za-z_]+ \d+ \d+:\d+ [A-Za-z_]+",
    // RFC822Z: 02 Jan 06 15:04 -0700
    r"^\d+ [A-Za-z_]+ \d+ \d+:\d+ -\d+",
    // RFC850: Monday, 02-Jan-06 15:04:05 MST
    r"^[A-Za-z_]+, \d+-[A-Za-z_]+-\d+ \d+:\d+:\d+ [A-Za-z_]+",
    // RFC1123: Mon, 02 Jan 2006 15:04:05 MST
    r"^[A-Za-z_]+, \d+ [A-Za-z_]+ \d+ \d+:\d+:\d+ [A-Za-z_]+",
    // RFC1123Z: Mon, 02 Jan 2006 15:04:05 -0700
    r"^[A-Za-z_]+, \d+ [A-Za-z_]+ \d+ \d+:\d+:\d+ -\d+",
    // RFC3339Nano: 2006-01-02T15:04:05.999999999Z07:00
    r"^\d+-\d+-\d+[A-Za-z_]+\d+:\d+:\d+\.\d+[A-Za-z_]+\d+:\d+",
    // 2021-07-08 05:08:19,214
    r"^\d+-\d+-\d+ \d+:\d+:\d+(,\d+)?",
    // Java SimpleFormatter: Jan 2, 2006 3:04:05 PM
    r"^[A-Za-z_]+ \d+, \d+ \d+:\d+:\d+ (AM|PM)",
    // 2021-01-31, strict months and days
    r"^\d{4}-(0?[1-9]|1[012])-(0?[1-9]|[12][0-9]|3[01])",
    // gin: [GIN] 2006/01/02 - 08:53:39
    r"^\[GIN\] \d+/\d+/\d+ - \d+:\d+:\d+",
];

/// The start patterns of one input instance, compiled once and shared by its files.
#[derive(Debug)]
pub struct Matcher {
    set: Option<RegexSet>,
}

impl Matcher {
    /// `multiline_match` first, then the extra patterns, then (with auto detection) the
    /// built-in ones.
    pub fn new(patterns: &[String]) -> Result<Matcher, regex::Error> {
        if patterns.is_empty() {
            return Ok(Matcher { set: None });
        }
        Ok(Matcher {
            set: Some(
                regex::RegexSetBuilder::new(patterns)
                    .size_limit(32 << 20)
                    .build()?,
            ),
        })
    }

    /// The matcher of `patterns`, shared by every instance with the same patterns (most use
    /// the built-in ones): a compiled set costs hundreds of KiB, a thousand instances would
    /// hold a thousand copies.
    pub fn shared(patterns: &[String]) -> Result<std::sync::Arc<Matcher>, regex::Error> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock, Weak};
        static CACHE: OnceLock<Mutex<HashMap<Vec<String>, Weak<Matcher>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let mut m = cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(found) = m.get(patterns).and_then(Weak::upgrade) {
            return Ok(found);
        }
        let made = Arc::new(Matcher::new(patterns)?);
        m.retain(|_, w| w.strong_count() > 0);
        m.insert(patterns.to_vec(), Arc::downgrade(&made));
        Ok(made)
    }

    fn matches(&self, line: &str) -> bool {
        self.set.as_ref().is_some_and(|s| s.is_match(line))
    }
}

/// A finished record and the file offset just after its last line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub text: String,
    pub end: u64,
}

/// Lines of one file on their way to records.
#[derive(Debug)]
pub struct Multiline {
    matcher: Option<std::sync::Arc<Matcher>>,
    ever_matched: bool,
    buf: String,
    open: bool,
    /// File offsets where the open record starts and where its last line ends.
    start: u64,
    end: u64,
    opened_at: Option<Instant>,
    /// A line arriving after the record has been open this long closes it.
    max_age: Duration,
}

fn starts_with_space(s: &str) -> bool {
    s.chars().next().is_none_or(char::is_whitespace)
}

impl Multiline {
    /// `None`: every line is a record of its own. An open record waits `wait` for more lines.
    pub fn new(matcher: Option<std::sync::Arc<Matcher>>, wait: Duration) -> Multiline {
        Multiline {
            matcher,
            ever_matched: false,
            buf: String::new(),
            open: false,
            start: 0,
            end: 0,
            opened_at: None,
            max_age: MAX_RECORD_AGE.max(wait),
        }
    }

    /// Whether lines may join into records (a pattern is set, or detection is on).
    pub fn joins(&self) -> bool {
        self.matcher.is_some()
    }

    fn starts_record(&mut self, line: &str) -> bool {
        let Some(m) = &self.matcher else { return true };
        if m.matches(line) {
            self.ever_matched = true;
            return true;
        }
        !self.ever_matched && !starts_with_space(line)
    }

    /// Takes one line that occupies `[start, end)` of the file; returns a record when one is
    /// complete (at most one per line).
    pub fn push(&mut self, line: String, start: u64, end: u64, now: Instant) -> Option<Record> {
        if self.matcher.is_none() {
            return Some(Record { text: line, end });
        }
        if self.starts_record(&line) {
            let done = self.take();
            self.buf = line;
            self.open = true;
            self.start = start;
            self.end = end;
            self.opened_at = Some(now);
            if self.buf.len() >= MAX_RECORD_BYTES {
                return match done {
                    Some(d) => {
                        // Rare: emit the previous record now and this one on the next push.
                        Some(d)
                    }
                    None => self.take(),
                };
            }
            return done;
        }
        if !self.open {
            return Some(Record { text: line, end });
        }
        self.buf.push('\n');
        self.buf.push_str(&line);
        self.end = end;
        let old = self
            .opened_at
            .is_some_and(|t| now.saturating_duration_since(t) > self.max_age);
        if old || self.buf.len() >= MAX_RECORD_BYTES {
            return self.take();
        }
        None
    }

    /// Emits the open record, if any.
    pub fn take(&mut self) -> Option<Record> {
        if !self.open {
            return None;
        }
        self.open = false;
        self.opened_at = None;
        Some(Record {
            text: std::mem::take(&mut self.buf),
            end: self.end,
        })
    }

    /// Where the open record starts: bytes from here on are not yet in an emitted record.
    pub fn pending_start(&self) -> Option<u64> {
        self.open.then_some(self.start)
    }

    /// Forgets the state of the file's old content (after a truncation).
    pub fn reset(&mut self) {
        self.ever_matched = false;
        self.open = false;
        self.buf.clear();
        self.opened_at = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(patterns: &[&str], text: &str) -> Vec<String> {
        let pats: Vec<String> = patterns.iter().map(|s| s.to_string()).collect();
        let m = Arc::new(Matcher::new(&pats).unwrap());
        let mut ml = Multiline::new(Some(m), DEFAULT_WAIT);
        let now = Instant::now();
        let mut out = Vec::new();
        let mut off = 0u64;
        for l in text.lines() {
            let end = off + l.len() as u64 + 1;
            out.extend(ml.push(l.to_string(), off, end, now).map(|r| r.text));
            off = end;
        }
        out.extend(ml.take().map(|r| r.text));
        out
    }

    fn auto() -> Vec<&'static str> {
        AUTO_PATTERNS.to_vec()
    }

    #[test]
    fn a_java_stack_trace_is_one_record() {
        let log = "2024-05-01 10:00:00,001 INFO  [main] app.Main - starting\n\
2024-05-01 10:00:01,002 ERROR [main] app.Main - request failed\n\
java.lang.IllegalStateException: boom\n\
\tat app.Service.handle(Service.java:42)\n\
\tat app.Main.main(Main.java:10)\n\
Caused by: java.io.IOException: disk full\n\
\tat app.Store.write(Store.java:7)\n\
\t... 2 more\n\
2024-05-01 10:00:02,003 INFO  [main] app.Main - done\n";
        let r = run(&auto(), log);
        assert_eq!(r.len(), 3, "{r:#?}");
        assert!(r[1].starts_with("2024-05-01 10:00:01,002 ERROR"));
        assert!(r[1].ends_with("\t... 2 more"));
        assert_eq!(r[1].lines().count(), 7);
    }

    #[test]
    fn a_python_traceback_is_one_record() {
        let log = "2024-05-01T10:00:00.123Z ERROR worker crashed\n\
Traceback (most recent call last):\n\
  File \"/app/worker.py\", line 12, in <module>\n\
    main()\n\
  File \"/app/worker.py\", line 8, in main\n\
    1 / 0\n\
ZeroDivisionError: division by zero\n\
2024-05-01T10:00:01.000Z INFO restarted\n";
        let r = run(&auto(), log);
        assert_eq!(r.len(), 2, "{r:#?}");
        assert_eq!(r[0].lines().count(), 7);
        assert!(r[0].ends_with("ZeroDivisionError: division by zero"));
    }

    #[test]
    fn without_a_match_lines_starting_with_space_continue() {
        let r = run(&auto(), "first\n  more\nsecond\n\tindented\n");
        assert_eq!(r, vec!["first\n  more", "second\n\tindented"]);
        // No open record: a continuation line stands alone.
        let r = run(&auto(), "  orphan\nx\n");
        assert_eq!(r, vec!["  orphan", "x"]);
    }

    #[test]
    fn a_user_pattern_starts_records() {
        let r = run(&[r"^\["], "[a] one\ntwo\n[b] three\n");
        assert_eq!(r, vec!["[a] one\ntwo", "[b] three"]);
    }

    #[test]
    fn no_matcher_means_one_line_one_record() {
        let mut ml = Multiline::new(None, DEFAULT_WAIT);
        let r = ml.push("  x".into(), 0, 4, Instant::now()).unwrap();
        assert_eq!(r.text, "  x");
        assert_eq!(ml.pending_start(), None);
    }

    #[test]
    fn offsets_follow_the_open_record() {
        let m = Arc::new(Matcher::new(&[r"^S".to_string()]).unwrap());
        let mut ml = Multiline::new(Some(m), DEFAULT_WAIT);
        let now = Instant::now();
        assert!(ml.push("S1".into(), 0, 3, now).is_none());
        assert_eq!(ml.pending_start(), Some(0));
        assert!(ml.push(" c".into(), 3, 6, now).is_none());
        let r = ml.push("S2".into(), 6, 9, now).unwrap();
        assert_eq!(
            r,
            Record {
                text: "S1\n c".into(),
                end: 6
            }
        );
        assert_eq!(ml.pending_start(), Some(6));
    }

    #[test]
    fn huge_and_old_records_are_cut() {
        let m = Arc::new(Matcher::new(&[r"^S".to_string()]).unwrap());
        let mut ml = Multiline::new(Some(m), DEFAULT_WAIT);
        let now = Instant::now();
        ml.push("S".into(), 0, 2, now);
        let chunk = "x".repeat(100 * 1024);
        let mut emitted = None;
        for i in 0..10 {
            if let Some(r) = ml.push(chunk.clone(), 2, 3 + i, now) {
                emitted = Some(r);
                break;
            }
        }
        let r = emitted.expect("cut at the size limit");
        assert!(r.text.len() >= MAX_RECORD_BYTES && r.text.len() < MAX_RECORD_BYTES + 110_000);
        ml.push("S".into(), 0, 2, now);
        let r = ml.push(
            "late".into(),
            2,
            7,
            now + MAX_RECORD_AGE + Duration::from_millis(1),
        );
        assert_eq!(r.unwrap().text, "S\nlate");
    }
}
