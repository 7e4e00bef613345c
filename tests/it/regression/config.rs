//! Regression tests: see the module list in `mod.rs`.

use std::time::Duration;

use serde_json::Value;

#[allow(unused_imports)]
use crate::support::{Agent, Workdir, datakit, stdout};

/// `check-config --json` on `w` with `env`: (exit code, diagnostics).
fn check(w: &Workdir, env: &[(&str, &str)]) -> (i32, Vec<Value>) {
    let mut cmd = w.cmd(&["check-config", "--json"]);
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", stdout(&out)));
    let diags = report["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (out.status.code().unwrap(), diags)
}

/// The diagnostic at `line:col` of `file`, or a panic listing all of them.
fn at<'a>(diags: &'a [Value], file: &std::path::Path, line: u64, col: u64) -> &'a Value {
    diags
        .iter()
        .find(|d| {
            d["location"]["file"] == file.to_str().unwrap()
                && d["location"]["line"] == line
                && d["location"]["column"] == col
        })
        .unwrap_or_else(|| {
            panic!(
                "no diagnostic at {}:{line}:{col}: {diags:#?}",
                file.display()
            )
        })
}

fn text(d: &Value) -> String {
    format!(
        "{} (help: {})",
        d["message"].as_str().unwrap_or(""),
        d["help"].as_str().unwrap_or("")
    )
}

/// Issue 20, finding 4: `interval = 10` meant 10 ns in a file (raised to the input's minimum
/// in silence) while `ENV_IO_FLUSH_INTERVAL=10` was an error. A bare number is now an error in
/// files too, at its position, with the fix in the message, and `run` refuses to start.
#[test]
fn a_bare_integer_interval_was_read_as_nanoseconds() {
    let w = Workdir::new();
    let main = w.write(
        "conf.d/datakit.conf",
        "[io]\nflush_interval = 10\n[http_api]\ntimeout = 30\n",
    );
    let cpu = w.write("conf.d/host/cpu.conf", "[[inputs.cpu]]\n  interval = 10\n");
    let (code, diags) = check(&w, &[]);
    assert_eq!(code, 1, "{diags:#?}");
    for (file, line, col, key, fix) in [
        (&main, 2, 18, "io.flush_interval", "write \"10s\""),
        (&main, 4, 11, "http_api.timeout", "write \"30s\""),
        (&cpu, 2, 14, "inputs.cpu[0].interval", "write \"10s\""),
    ] {
        let d = at(&diags, file, line, col);
        assert_eq!(d["severity"], "error", "{d:#}");
        let t = text(d);
        assert!(t.contains(&format!("`{key}`")), "{t}");
        assert!(t.contains(fix), "{t}");
    }
    // Nothing was silently adjusted either.
    assert!(
        !diags.iter().any(|d| text(d).contains("raised to")),
        "{diags:#?}"
    );

    // The environment says the same about the same value.
    let w2 = Workdir::new();
    let (code, diags) = check(&w2, &[("ENV_IO_FLUSH_INTERVAL", "10")]);
    assert_eq!(code, 1);
    assert!(
        diags.iter().any(|d| text(d).contains("write \"10s\"")),
        "{diags:#?}"
    );

    // `run` refuses the file like any config error.
    let out = w
        .cmd(&["run"])
        .env("ENV_HTTP_LISTEN", "127.0.0.1:0")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("conf.d/datakit.conf:2:18"), "{err}");
    assert!(err.contains("write \"10s\""), "{err}");
}

/// Issue 20, finding 14: a value of the wrong kind for an array or a table was reported as
/// "found a different type", naming neither what was found nor how to write it.
#[test]
fn a_wrong_type_said_found_a_different_type() {
    let w = Workdir::new();
    let main = w.write(
        "conf.d/datakit.conf",
        "[dataway]\nurls = \"https://openway.guance.com?token=tkn_x\"\n",
    );
    let (code, diags) = check(&w, &[]);
    assert_eq!(code, 1);
    let t = text(at(&diags, &main, 2, 8));
    assert!(
        t.contains("expected an array of string, found string"),
        "{t}"
    );
    assert!(!t.contains("a different type"), "{t}");
    assert!(
        t.contains("[\"https://openway.guance.com?token=tkn_x\"]"),
        "the help shows the value as an array: {t}"
    );
}

/// Issue 20, finding 14: an unknown key got a "did you mean" only when it was close to a key
/// of its own section; a key written in the wrong section, a top-level key in an input file
/// and a key far from every other got no suggestion at all.
#[test]
fn an_unknown_key_got_no_suggestion_outside_its_section() {
    let w = Workdir::new();
    let main = w.write(
        "conf.d/datakit.conf",
        "flush_interval = \"5s\"\n[http_api]\nxyzzy = 1\n",
    );
    let input = w.write("conf.d/x/cpu.conf", "[[input.cpu]]\n[cpu]\n");
    let (_, diags) = check(&w, &[]);
    let t = text(at(&diags, &main, 1, 1));
    assert!(t.contains("did you mean `io.flush_interval`?"), "{t}");
    let t = text(at(&diags, &main, 3, 1));
    assert!(t.contains("known keys here: listen,"), "{t}");
    let t = text(at(&diags, &input, 1, 3));
    assert!(t.contains("did you mean `inputs`?"), "{t}");
    let t = text(at(&diags, &input, 2, 2));
    assert!(t.contains("did you mean `[[inputs.cpu]]`?"), "{t}");
}

/// Issue 20, finding 14: an invalid duration said what was wrong but not what a valid one
/// looks like.
#[test]
fn an_invalid_duration_showed_no_valid_example() {
    let w = Workdir::new();
    let main = w.write(
        "conf.d/datakit.conf",
        "[election]\nlease_ttl = \"abc\"\n[io]\nflush_interval = \"\"\n[http_api]\ntimeout = \"30 sec\"\n",
    );
    let (code, diags) = check(&w, &[]);
    assert_eq!(code, 1);
    for (line, col) in [(2, 13), (4, 18), (6, 11)] {
        let t = text(at(&diags, &main, line, col));
        assert!(t.contains("e.g. \"10s\""), "{t}");
    }
}

/// Issue 20, finding 14: a key of the wrong type kept its default, and the checks that ran
/// on that default reported a second, misleading problem ("no `logfiles`", "`[dataway] urls`
/// is empty", "is required") about a key the file does set.
#[test]
fn a_wrong_type_cascaded_into_a_misleading_second_diagnostic() {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "[dataway]\nurls = \"https://openway.guance.com?token=tkn_x\"\n[election]\nenable = true\n",
    );
    w.write(
        "conf.d/log/app.conf",
        "[[inputs.logging]]\n  logfiles = \"/var/log/app.log\"\n  source = 3\n",
    );
    let (code, diags) = check(&w, &[]);
    assert_eq!(code, 1);
    let messages: Vec<String> = diags.iter().map(text).collect();
    assert_eq!(
        messages.len(),
        3,
        "one diagnostic per wrong key: {messages:#?}"
    );
    for key in [
        "`dataway.urls`",
        "`inputs.logging[0].logfiles`",
        "`inputs.logging[0].source`",
    ] {
        assert_eq!(
            messages.iter().filter(|m| m.contains(key)).count(),
            1,
            "{key}: {messages:#?}"
        );
    }
}

/// Issue 20, finding 15: the sample of a singleton input said "several [[inputs.cpu]] tables
/// run several instances", and the page of a multi-instance input printed a literal
/// `[[inputs.NAME]]`.
#[test]
fn a_singleton_sample_said_several_tables_run_several_instances() {
    let doc = |name: &str| {
        let out = datakit()
            .args(["--color", "never", "doc", name, "--markdown"])
            .output()
            .unwrap();
        assert!(out.status.success());
        stdout(&out)
    };
    let cpu = doc("cpu");
    assert!(!cpu.contains("several"), "{cpu}");
    assert!(cpu.contains("one instance only"), "{cpu}");
    let prom = doc("prom");
    assert!(!prom.contains("NAME"), "{prom}");
    assert!(
        prom.contains("- Instances: any number: one per `[[inputs.prom]]` table"),
        "{prom}"
    );
    let terminal = datakit()
        .args(["--color", "never", "doc", "cpu"])
        .output()
        .unwrap();
    let terminal = stdout(&terminal);
    assert!(!terminal.contains("several"), "{terminal}");
}
