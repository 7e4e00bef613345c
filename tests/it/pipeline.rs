//! Pipeline: the data-driven cases in tests/pipeline/*.toml (script, input, expected point)
//! run in-process through the library, and the `datakit pipeline` command through the binary.
//!
//! A case file holds `[[case]]` tables:
//!
//! ```toml
//! [[case]]
//! name = "grok_typed"
//! script = '''grok(_, "%{INT:code:int}")'''    # or: builtin = "nginx.p"
//! input = "code 200"
//! category = "logging"            # optional
//! expect_fields = { code = 200, message = "code 200", status = "info" }   # complete set
//! expect_tags = { }                # optional, complete set when given
//! expect_dropped = false           # optional
//! expect_time = 1700000000000000000  # optional
//! expect_measurement = "default"   # optional
//! expect_error = { phase = "compile", pos = "1:1", contains = "unsupported func" }
//! ```
//!
//! Fields compare with strict types for bools and strings and numerically for numbers.

use std::path::{Path, PathBuf};

use datakit::pipeline::{Program, debug};
use datakit::point::{Category, Value};

use crate::support::{Workdir, stdout};

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pipeline");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

fn value_matches(want: &toml::Value, got: &Value) -> bool {
    match (want, got) {
        (toml::Value::String(w), Value::Str(g)) => w == g,
        (toml::Value::Boolean(w), Value::Bool(g)) => w == g,
        (toml::Value::Integer(w), Value::Int(g)) => w == g,
        (toml::Value::Integer(w), Value::Uint(g)) => *w >= 0 && *w as u64 == *g,
        (toml::Value::Integer(w), Value::Float(g)) => (*w as f64) == *g,
        (toml::Value::Float(w), Value::Float(g)) => w == g || (w.is_nan() && g.is_nan()),
        (toml::Value::Float(w), Value::Int(g)) => *w == *g as f64,
        _ => false,
    }
}

/// Runs one case; returns a description of every mismatch.
fn run_case(file: &str, case: &toml::Table) -> Vec<String> {
    let name = case["name"].as_str().unwrap_or("?");
    let script = match case.get("builtin").and_then(|v| v.as_str()) {
        Some(b) => datakit::pipeline::scripts::get(b).unwrap_or_else(|| panic!("no builtin {b}")),
        None => case["script"].as_str().unwrap_or(""),
    };
    let input = case.get("input").and_then(|v| v.as_str()).unwrap_or("");
    let category: Category = case
        .get("category")
        .and_then(|v| v.as_str())
        .unwrap_or("logging")
        .parse()
        .unwrap();
    let mut errs = Vec::new();
    let ctx = format!("{file}: case {name}");
    let expect_error = case.get("expect_error").and_then(|v| v.as_table());
    let script_name = format!("{name}.p");
    let prog = match Program::compile(&script_name, script) {
        Ok(p) => p,
        Err(e) => {
            match expect_error {
                Some(x) if x.get("phase").and_then(|v| v.as_str()) == Some("compile") => {
                    check_error(&ctx, x, &e.to_string(), &script_name, &mut errs);
                }
                _ => errs.push(format!("{ctx}: unexpected compile error: {e}")),
            }
            return errs;
        }
    };
    if let Some(x) = expect_error
        && x.get("phase").and_then(|v| v.as_str()) == Some("compile")
    {
        errs.push(format!("{ctx}: expected a compile error, it compiled"));
        return errs;
    }
    let mut pt = match debug::input_point(category, input, 1) {
        Ok(p) => p,
        Err(e) => {
            errs.push(format!("{ctx}: bad input: {e}"));
            return errs;
        }
    };
    let out = match prog.run(&mut pt) {
        Ok(o) => o,
        Err(e) => {
            match expect_error {
                Some(x) if x.get("phase").and_then(|v| v.as_str()) == Some("runtime") => {
                    check_error(&ctx, x, &e.to_string(), &script_name, &mut errs);
                }
                _ => errs.push(format!("{ctx}: unexpected runtime error: {e}")),
            }
            return errs;
        }
    };
    if expect_error.is_some() {
        errs.push(format!(
            "{ctx}: expected a runtime error, the run succeeded"
        ));
        return errs;
    }
    if let Some(want) = case.get("expect_fields").and_then(|v| v.as_table()) {
        for (k, w) in want {
            match pt.get_field(k) {
                None => errs.push(format!("{ctx}: field {k} missing (want {w})")),
                Some(g) if !value_matches(w, g) => {
                    errs.push(format!("{ctx}: field {k} = {g:?}, want {w}"))
                }
                _ => {}
            }
        }
        for (k, g) in &pt.fields {
            if !want.contains_key(k) {
                errs.push(format!("{ctx}: unexpected field {k} = {g:?}"));
            }
        }
    }
    if let Some(want) = case.get("expect_tags").and_then(|v| v.as_table()) {
        for (k, w) in want {
            match pt.get_tag(k) {
                None => errs.push(format!("{ctx}: tag {k} missing (want {w})")),
                Some(g) if w.as_str() != Some(g) => {
                    errs.push(format!("{ctx}: tag {k} = {g:?}, want {w}"))
                }
                _ => {}
            }
        }
        for (k, g) in &pt.tags {
            if !want.contains_key(k) {
                errs.push(format!("{ctx}: unexpected tag {k} = {g:?}"));
            }
        }
    }
    if let Some(d) = case.get("expect_dropped").and_then(|v| v.as_bool())
        && d != out.dropped
    {
        errs.push(format!("{ctx}: dropped = {}, want {d}", out.dropped));
    }
    if let Some(t) = case.get("expect_time").and_then(|v| v.as_integer())
        && t != pt.time
    {
        errs.push(format!("{ctx}: time = {}, want {t}", pt.time));
    }
    if let Some(m) = case.get("expect_measurement").and_then(|v| v.as_str())
        && m != pt.name
    {
        errs.push(format!("{ctx}: measurement = {}, want {m}", pt.name));
    }
    errs
}

fn check_error(ctx: &str, x: &toml::Table, got: &str, script: &str, errs: &mut Vec<String>) {
    if let Some(pos) = x.get("pos").and_then(|v| v.as_str()) {
        let prefix = format!("{script}:{pos}: ");
        if !got.starts_with(&prefix) {
            errs.push(format!("{ctx}: error {got:?} is not at {pos}"));
        }
    }
    if let Some(c) = x.get("contains").and_then(|v| v.as_str())
        && !got.contains(c)
    {
        errs.push(format!("{ctx}: error {got:?} does not contain {c:?}"));
    }
}

#[test]
fn data_driven_cases() {
    let mut failures = Vec::new();
    let mut count = 0;
    for f in case_files() {
        let text = std::fs::read_to_string(&f).unwrap();
        let doc: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let fname = f.file_name().unwrap().to_string_lossy().into_owned();
        for case in doc["case"].as_array().unwrap() {
            count += 1;
            failures.extend(run_case(&fname, case.as_table().unwrap()));
        }
    }
    assert!(count >= 100, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---- the command ----------------------------------------------------------------------

#[test]
fn test_prints_sorted_json_and_summary() {
    let w = Workdir::new();
    w.write(
        "pipeline/demo.p",
        "grok(_, \"%{IP:client} %{INT:code:int} %{GREEDYDATA}\")\nset_tag(host, \"h1\")",
    );
    let out = w
        .cmd(&[
            "pipeline",
            "test",
            "demo.p",
            "--txt",
            "1.2.3.4 200 hello world",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with(
            "{\n  \"client\": \"1.2.3.4\",\n  \"code\": 200,\n  \"host#\": \"h1\",\n  \"message\": \"1.2.3.4 200 hello world\",\n  \"status\": \"info\",\n  \"time\": "
        ),
        "{text}"
    );
    assert!(text.contains("\n}\n\n---------------\nExtracted 4 fields, 1 tags; measurement(M)<source(L),class(O)...>: default, drop: false, cost: "), "{text}");
}

#[test]
fn test_runs_one_record_per_line_and_tab_output() {
    let w = Workdir::new();
    let out = w
        .cmd(&["pipeline", "test", "redis", "--tab", "--txt"])
        .arg("1:M 14 May 2019 19:11:40.164 * Ready\n2:S 14 May 2019 19:11:41.000 # Warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert_eq!(text.matches("---------------").count(), 2, "{text}");
    assert!(text.contains("   role: master\n"), "{text}");
    assert!(text.contains(" status: warning\n"), "{text}");
}

#[test]
fn test_reads_stdin_and_file_in_whole_mode() {
    let w = Workdir::new();
    let f = w.write("sample.log", "line one\nline two\n");
    w.write("pipeline/count.p", "add_key(n, len(_))");
    let out = w
        .cmd(&["pipeline", "test", "count", "--json", "--whole", "--file"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fields"]["n"], 17);
    assert_eq!(v["measurement"], "default");
    assert_eq!(v["dropped"], false);
    let out = w
        .cmd(&["pipeline", "test", "count", "--json"])
        .write_stdin("a\nbb\n")
        .output()
        .unwrap();
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["fields"]["n"], 2);
}

#[test]
fn test_reports_compile_errors_with_a_caret() {
    let w = Workdir::new();
    w.write("pipeline/bad.p", "add_key(a, 1)\nfoo(_)\n");
    let out = w
        .cmd(&["pipeline", "test", "bad", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.starts_with("[E] bad.p does not compile: 1 error\nerror: unsupported func: `foo`\n"),
        "{text}"
    );
    assert!(text.contains("bad.p:2:1"), "{text}");
    assert!(text.contains("foo(_)"), "{text}");
    assert!(text.contains('^'), "{text}");
}

#[test]
fn test_reports_runtime_errors_and_missing_scripts() {
    let w = Workdir::new();
    w.write("pipeline/div.p", "n = 5\nx = 10 / (n - 5)\n");
    let out = w
        .cmd(&["pipeline", "test", "div", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("[E] run pipeline failed: div.p:2:8: integer division by zero"),
        "{}",
        stdout(&out)
    );
    let out = w
        .cmd(&["pipeline", "test", "nope", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("[E] no script nope.p for category logging; looked in:\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn test_says_when_nothing_is_left() {
    let w = Workdir::new();
    w.write(
        "pipeline/empty.p",
        "drop_key(message)\nsetopt(status_mapping=false)",
    );
    let out = w
        .cmd(&["pipeline", "test", "empty", "--txt", "x"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), "[E] No data extracted from pipeline");
}

#[test]
fn test_metric_category_reads_line_protocol() {
    let w = Workdir::new();
    w.write(
        "pipeline/metric/cpu.p",
        "add_key(double, usage * 2)\nadd_key(status, \"W\")",
    );
    let out = w
        .cmd(&["pipeline", "test", "cpu", "-C", "metric", "--tab", "--txt"])
        .arg("cpu,host=a usage=1.5 1700000000000000000")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains("double: 3\n"), "{text}");
    assert!(text.contains("status: W\n"), "{text}");
    assert!(text.contains(" host#: a\n"), "{text}");
    assert!(
        text.contains("measurement(M)<source(L),class(O)...>: cpu,"),
        "{text}"
    );
    let out = w
        .cmd(&["pipeline", "test", "cpu", "-C", "metric", "--txt", "cpu"])
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("[E] invalid lineprotocol"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn test_accepts_a_script_path_and_prints_dates() {
    let w = Workdir::new();
    let p = w.write("elsewhere/x.p", "add_key(time, 1706948100000000000)");
    let out = w
        .cmd(&["pipeline", "test", "--date", "--txt", "m"])
        .arg(&p)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("\"time\": \"2024-02-03T08:15:00Z\""),
        "{}",
        stdout(&out)
    );
}

#[test]
fn check_compiles_every_script_and_reports_errors() {
    let w = Workdir::new();
    w.write("pipeline/good.p", "add_key(a, 1)");
    w.write("pipeline/metric/m.p", "add_key(a, 1)");
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("ok     logging/good.p (default)"), "{text}");
    assert!(text.contains("ok     logging/nginx.p (builtin)"), "{text}");
    assert!(text.contains("ok     metric/m.p (default)"), "{text}");
    w.write("pipeline/bad.p", "grok(_, \"%{NOPE:x}\")");
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(
            "[E]    logging/bad.p (default): 1 error\nerror: no pattern foud for %{NOPE}"
        ),
        "{text}"
    );
    assert!(text.contains("bad.p:1:1"), "{text}");
    let out = w.cmd(&["pipeline", "check", "good"]).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn pattern_files_extend_grok() {
    let w = Workdir::new();
    w.write("pipeline/pattern/custom", "# mine\nMYID id-[0-9]+\n");
    w.write("pipeline/uses.p", "grok(_, \"%{MYID:id}\")");
    let out = w
        .cmd(&["pipeline", "test", "uses", "--json", "--txt", "x id-42 y"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["fields"]["id"], "id-42");
}
