//! Pipeline: the Platypus script language that shapes points (log cutting and more).
//!
//! Source text goes through the [`lexer`] and [`parser`] into a syntax tree, which the checker
//! compiles into a [`Program`]: every call resolved, grok patterns and regexes compiled once.
//! A program is immutable and shared (`Arc`) by every task that runs it; one run takes one
//! point:
//!
//! ```
//! use datakit::pipeline::Program;
//! use datakit::point::{Category, Point};
//!
//! let prog = Program::compile("demo.p", r#"grok(_, "%{WORD:user} %{INT:code:int}")"#).unwrap();
//! let mut pt = Point::new(Category::Logging, "demo");
//! pt.set_field("message", "alice 200");
//! let out = prog.run(&mut pt).unwrap();
//! assert!(!out.dropped);
//! assert_eq!(pt.get_field("code"), Some(&datakit::point::Value::Int(200)));
//! ```
//!
//! Scripts are found by [`store::ScriptStore`]; the `datakit pipeline` command prints runs
//! with [`debug`]; function docs are data in [`docs`].

pub mod ast;
mod compile;
pub mod debug;
pub mod docs;
pub mod funcs;
pub mod grok;
pub mod lexer;
pub mod parser;
pub mod re2;
mod runtime;
pub mod scripts;
pub mod store;
pub mod timeparse;
pub mod value;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use crate::point::{Category, Point, Value as PValue};
use compile::{Cx, St};
use runtime::{Rt, Stop};

pub use grok::Expanded;

/// What a script may link to while compiling.
pub struct CompileEnv<'a> {
    /// Patterns from `<workdir>/pipeline/pattern/` (expanded).
    pub patterns: &'a HashMap<String, Arc<Expanded>>,
    /// Finds another script for `use("name.p")` (same category).
    pub resolve_use: Option<&'a UseResolver<'a>>,
}

/// Finds a script by name for `use()`.
pub type UseResolver<'a> = dyn Fn(&str) -> Result<Arc<Program>, String> + 'a;

static NO_PATTERNS: LazyLock<HashMap<String, Arc<Expanded>>> = LazyLock::new(HashMap::new);

impl Default for CompileEnv<'_> {
    fn default() -> Self {
        CompileEnv {
            patterns: &NO_PATTERNS,
            resolve_use: None,
        }
    }
}

/// 1-based line and byte column of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (line, offset - line_start + 1)
}

/// A script that does not compile: `name.p:line:col: message` of its first error, and every
/// further error found (the parser recovers at the next top-level statement, the checker at
/// the next statement of any block).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{script}:{line}:{col}: {msg}{}", more_note(.more.len()))]
pub struct CompileError {
    pub script: String,
    pub line: usize,
    /// 1-based, counted in bytes (as the original does).
    pub col: usize,
    pub msg: String,
    /// Byte offset in the source.
    pub offset: usize,
    /// The errors after the first, in source order.
    pub more: Vec<ErrorAt>,
}

/// One more error of a script that does not compile.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorAt {
    pub line: usize,
    pub col: usize,
    pub msg: String,
    pub offset: usize,
}

fn more_note(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => " (and 1 more error)".into(),
        n => format!(" (and {n} more errors)"),
    }
}

impl CompileError {
    fn new(script: &str, src: &str, offset: usize, msg: String) -> Self {
        let (line, col) = line_col(src, offset);
        CompileError {
            script: script.to_string(),
            line,
            col,
            msg,
            offset,
            more: Vec::new(),
        }
    }

    /// The error of a script that does not compile for one reason (no position in it).
    pub fn whole(script: &str, msg: String) -> Self {
        CompileError {
            script: script.to_string(),
            line: 1,
            col: 1,
            msg,
            offset: 0,
            more: Vec::new(),
        }
    }

    /// Every error found, (byte offset, message) in source order; at least one.
    fn from_all(script: &str, src: &str, mut all: Vec<(usize, String)>) -> Option<Self> {
        all.sort_by_key(|(offset, _)| *offset);
        all.dedup();
        let mut it = all.into_iter();
        let (offset, msg) = it.next()?;
        let mut e = CompileError::new(script, src, offset, msg);
        e.more = it
            .map(|(offset, msg)| {
                let (line, col) = line_col(src, offset);
                ErrorAt {
                    line,
                    col,
                    msg,
                    offset,
                }
            })
            .collect();
        Some(e)
    }

    /// How many errors the script has.
    pub fn count(&self) -> usize {
        1 + self.more.len()
    }

    /// Every error, first included: (line, col, message).
    pub fn errors(&self) -> impl Iterator<Item = (usize, usize, &str)> {
        std::iter::once((self.line, self.col, self.msg.as_str()))
            .chain(self.more.iter().map(|e| (e.line, e.col, e.msg.as_str())))
    }

    /// Every error with the source line and a caret under the position, one after another.
    pub fn render(&self, source: &str, color: bool) -> String {
        self.render_named(&self.script, source, color)
    }

    /// As [`CompileError::render`], naming the script `shown` (its path, say) in the
    /// locations.
    pub fn render_named(&self, shown: &str, source: &str, color: bool) -> String {
        std::iter::once((self.offset, self.msg.as_str()))
            .chain(self.more.iter().map(|e| (e.offset, e.msg.as_str())))
            .map(|(offset, msg)| render_at(shown, source, offset, msg, color))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A script that failed while running: `name.p:line:col: message`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{script}:{line}:{col}: {msg}")]
pub struct RunError {
    pub script: String,
    pub line: usize,
    pub col: usize,
    pub msg: String,
    pub offset: usize,
    /// The run was stopped at its time limit.
    pub timed_out: bool,
}

impl RunError {
    pub fn render(&self, source: &str, color: bool) -> String {
        render_at(&self.script, source, self.offset, &self.msg, color)
    }
}

fn render_at(script: &str, source: &str, offset: usize, msg: &str, color: bool) -> String {
    let end = source[offset.min(source.len())..]
        .chars()
        .next()
        .map_or(offset, |c| offset + c.len_utf8());
    crate::diag::Diagnostic::error(msg)
        .at(crate::diag::Location::from_span(
            std::path::Path::new(script),
            source,
            offset..end,
        ))
        .render(color)
}

/// Default step budget of one run: far beyond real scripts, small enough that a runaway loop
/// stops within a fraction of a second.
pub const DEFAULT_STEP_BUDGET: u64 = 10_000_000;

/// How to run a program on a point (the logging input's options live here).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Steps (statements, loop turns, calls) one run may take.
    pub step_budget: u64,
    /// Statuses (after normalisation) that drop a logging point.
    pub ignore_status: Vec<String>,
    /// Do not write the normalised `status` back (the logging input's
    /// `disable_add_status_field`).
    pub disable_add_status_field: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            step_budget: DEFAULT_STEP_BUDGET,
            ignore_status: Vec::new(),
            disable_add_status_field: false,
        }
    }
}

/// The result of a successful run.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `drop()` was called or the status is ignored: discard the point.
    pub dropped: bool,
    /// It was dropped because its status is in `ignore_status` (not by `drop()`).
    pub status_ignored: bool,
    /// Points made by `create_point()`, to be sent on their own.
    pub extra_points: Vec<Point>,
}

/// A compiled script.
pub struct Program {
    pub name: String,
    source: Arc<str>,
    body: Vec<St>,
    /// Scripts this one runs with `use()`.
    uses: Vec<Arc<Program>>,
}

impl std::fmt::Debug for Program {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Program")
            .field("name", &self.name)
            .field("statements", &self.body.len())
            .finish()
    }
}

impl Program {
    /// Compiles a script with the built-in patterns only and no `use()` targets.
    pub fn compile(name: &str, source: &str) -> Result<Program, CompileError> {
        Program::compile_with(name, source, &CompileEnv::default())
    }

    /// Compiles a script in `env`.
    pub fn compile_with(
        name: &str,
        source: &str,
        env: &CompileEnv<'_>,
    ) -> Result<Program, CompileError> {
        let (stmts, syntax) = parser::parse_all(source);
        let mut cx = Cx::new(env, name);
        let body = cx.block(&stmts);
        let all: Vec<(usize, String)> = syntax
            .into_iter()
            .map(|e| (e.pos, e.msg))
            .chain(cx.errors.drain(..).map(|e| (e.pos, e.msg)))
            .collect();
        if let Some(e) = CompileError::from_all(name, source, all) {
            return Err(e);
        }
        Ok(Program {
            name: name.to_string(),
            source: Arc::from(source),
            body,
            uses: cx.uses,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub(crate) fn body(&self) -> &[St] {
        &self.body
    }

    /// Names of the scripts this one links with `use()`.
    pub fn uses(&self) -> Vec<&str> {
        self.uses.iter().map(|p| p.name.as_str()).collect()
    }

    /// Runs the script on `point` with default options.
    pub fn run(&self, point: &mut Point) -> Result<Outcome, RunError> {
        self.run_with(point, &RunOptions::default())
    }

    /// Runs the script on `point`, then applies the post-run rules: status normalisation
    /// (logging), the `time` key, the drop flag. On error the point keeps the changes made
    /// before it.
    pub fn run_with(&self, point: &mut Point, opts: &RunOptions) -> Result<Outcome, RunError> {
        self.run_limited(point, opts, None)
    }

    /// [`run_with`](Program::run_with), stopped with an error ([`RunError::timed_out`]) when
    /// the run takes longer than `limit` (looked at every few steps, so a single long call may
    /// overrun it by its own length).
    pub fn run_limited(
        &self,
        point: &mut Point,
        opts: &RunOptions,
        limit: Option<std::time::Duration>,
    ) -> Result<Outcome, RunError> {
        let logging = point.category == Category::Logging;
        let deadline = limit.map(|l| std::time::Instant::now() + l);
        let mut rt = Rt::new(point, opts.step_budget).with_deadline(deadline);
        match rt.run_body(&self.body) {
            Ok(()) | Err(Stop::Exit) => {}
            Err(Stop::Error(e)) => return Err(self.run_error(e)),
        }
        let mut dropped = rt.flags.dropped;
        let mut status_ignored = false;
        let status_mapping = rt.flags.status_mapping;
        let extra_points = std::mem::take(&mut rt.flags.extra_points);
        drop(rt);
        if logging && status_mapping {
            let s = normalize_point_status(point, !opts.disable_add_status_field);
            if !dropped && opts.ignore_status.iter().any(|i| *i == *s) {
                dropped = true;
                status_ignored = true;
            }
        }
        apply_time_key(point);
        Ok(Outcome {
            dropped,
            status_ignored,
            extra_points,
        })
    }

    pub(crate) fn run_point(&self, point: &mut Point, budget: u64) -> Result<Outcome, RunError> {
        self.run_with(
            point,
            &RunOptions {
                step_budget: budget,
                ..RunOptions::default()
            },
        )
    }

    fn run_error(&self, e: runtime::RtError) -> RunError {
        let (script, src): (String, &str) = match &e.script {
            Some(name) => {
                let src = self.find_used(name).map_or("", |p| p.source.as_ref());
                (name.clone(), src)
            }
            None => (self.name.clone(), &self.source),
        };
        let (line, col) = line_col(src, e.pos);
        RunError {
            script,
            line,
            col,
            timed_out: e.msg == runtime::TIME_MSG,
            msg: e.msg,
            offset: e.pos,
        }
    }

    fn find_used(&self, name: &str) -> Option<&Program> {
        for u in &self.uses {
            if u.name == name {
                return Some(u);
            }
            if let Some(p) = u.find_used(name) {
                return Some(p);
            }
        }
        None
    }
}

/// Runs `prog` on `point` (the entry point the logging input and the HTTP API call).
pub fn run(prog: &Program, point: &mut Point) -> Result<Outcome, RunError> {
    prog.run(point)
}

/// One fuzzing iteration: compile `script` (with a `use()` target and a pattern file available)
/// and run it on a logging point and a metric point with a small step budget. Never panics.
#[doc(hidden)]
pub fn fuzz_one(script: &str, input: &str) {
    static HELPER: LazyLock<Arc<Program>> = LazyLock::new(|| {
        Arc::new(Program::compile("helper.p", "add_key(helper, 1)").expect("helper compiles"))
    });
    let resolve = |n: &str| -> Result<Arc<Program>, String> {
        if n == "helper.p" {
            Ok(HELPER.clone())
        } else {
            Err(format!("script {n} not found"))
        }
    };
    let env = CompileEnv {
        patterns: &NO_PATTERNS,
        resolve_use: Some(&resolve),
    };
    let Ok(prog) = Program::compile_with("fuzz.p", script, &env) else {
        return;
    };
    let opts = RunOptions {
        step_budget: 20_000,
        ..RunOptions::default()
    };
    let mut p = Point::new(Category::Logging, "fuzz");
    p.set_field("message", input);
    p.set_tag("host", "h");
    if let Err(e) = prog.run_with(&mut p, &opts) {
        let _ = e.render(script, false);
    }
    let mut m = Point::new(Category::Metric, "m");
    m.set_field("v", 1.5);
    m.set_field("message", input);
    let _ = prog.run_with(&mut m, &opts);
}

/// The statuses with a fixed mapping (compared case-insensitively).
const STATUS_MAP: &[(&[&str], &str)] = &[
    (&["f", "emerg"], "emerg"),
    (&["a", "alert"], "alert"),
    (&["c", "critical"], "critical"),
    (&["e", "error"], "error"),
    (&["w", "warn", "warning"], "warning"),
    (&["n", "notice"], "notice"),
    (&["i", "info", ""], "info"),
    (&["d", "debug", "trace", "verbose"], "debug"),
    (&["o", "s", "ok"], "OK"),
];

fn mapped_status(s: &str) -> Option<&'static str> {
    if s.len() > 8 {
        return None;
    }
    STATUS_MAP
        .iter()
        .find(|(ins, _)| ins.iter().any(|i| i.eq_ignore_ascii_case(s)))
        .map(|(_, out)| *out)
}

/// Maps a status text the way the original does: the table above, any other text lower-cased.
pub fn normalize_status(s: &str) -> std::borrow::Cow<'static, str> {
    match mapped_status(s) {
        Some(m) => std::borrow::Cow::Borrowed(m),
        None => std::borrow::Cow::Owned(s.to_lowercase()),
    }
}

/// Normalises the point's `status` (tag or field; missing or non-text counts as `info`),
/// writes it back when `write` is set, and returns it.
fn normalize_point_status(p: &mut Point, write: bool) -> std::borrow::Cow<'static, str> {
    if let Some(slot) = p.tags.iter_mut().find(|(k, _)| k == "status") {
        let s = normalize_status(&slot.1);
        if write && slot.1 != *s {
            slot.1 = s.to_string();
        }
        return s;
    }
    match p.fields.iter_mut().find(|(k, _)| k == "status") {
        Some((_, PValue::Str(v))) => {
            let s = normalize_status(v);
            if write && *v != *s {
                *v = s.to_string();
            }
            s
        }
        Some((_, other)) => {
            if write {
                *other = PValue::Str("info".into());
            }
            std::borrow::Cow::Borrowed("info")
        }
        None => {
            if write {
                p.fields.push(("status".into(), PValue::Str("info".into())));
            }
            std::borrow::Cow::Borrowed("info")
        }
    }
}

/// A `time` key holding a non-zero int becomes the point time; the key is removed always.
fn apply_time_key(p: &mut Point) {
    let t = match p.get_field("time") {
        Some(PValue::Int(t)) => Some(*t),
        Some(PValue::Uint(t)) => i64::try_from(*t).ok(),
        _ => None,
    };
    if let Some(t) = t
        && t != 0
    {
        p.time = t;
    }
    p.remove("time");
}

#[cfg(test)]
mod tests;
