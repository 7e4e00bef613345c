//! `datakit check-config`: every diagnostic with its exact position, env overrides, discovery.

use std::path::Path;

use serde_json::Value;

use crate::support::{Workdir, stdout};

/// Runs `check-config --json` and returns (exit code, report).
fn check(w: &Workdir, env: &[(&str, &str)]) -> (i32, Value) {
    let mut cmd = w.cmd(&["check-config", "--json"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", stdout(&out)));
    (out.status.code().unwrap(), report)
}

fn diags(report: &Value) -> &Vec<Value> {
    report["diagnostics"].as_array().unwrap()
}

/// One fixture per message under tests/data/invalid_configs, in the style of bottom's
/// `tests/invalid_configs`: the header says what must be reported and where.
///   # env: NAME=value            (optional, set for the run)
///   # expect: <error|warning> <line>:<col> <message part> [| <help part>]
/// `main_*` fixtures are written as conf.d/datakit.conf, `input_*` as conf.d/x/input.conf.
#[test]
fn every_invalid_config_fixture_reports_its_diagnostic_at_its_position() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invalid_configs");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 30, "fixtures missing");
    let mut failures = Vec::new();
    for path in &fixtures {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        let w = Workdir::new();
        let rel = if name.starts_with("main_") {
            "conf.d/datakit.conf"
        } else {
            "conf.d/x/input.conf"
        };
        let file = w.write(rel, &text);
        let env: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# env: "))
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env_ref: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (code, report) = check(&w, &env_ref);
        for exp in text.lines().filter_map(|l| l.strip_prefix("# expect: ")) {
            let (sev, rest) = exp.split_once(' ').unwrap();
            let (pos, rest) = rest.split_once(' ').unwrap();
            let (line, col) = pos.split_once(':').unwrap();
            let (line, col): (u64, u64) = (line.parse().unwrap(), col.parse().unwrap());
            let (msg, help) = match rest.split_once(" | ") {
                Some((m, h)) => (m, Some(h)),
                None => (rest, None),
            };
            let found = diags(&report).iter().any(|d| {
                let loc_ok = if line == 0 {
                    d["location"].is_null() && d["file"] == file.to_str().unwrap()
                } else {
                    d["location"]["line"] == line
                        && d["location"]["column"] == col
                        && d["location"]["file"] == file.to_str().unwrap()
                };
                d["severity"] == sev
                    && loc_ok
                    && d["message"].as_str().unwrap().contains(msg)
                    && help.is_none_or(|h| d["help"].as_str().unwrap_or("").contains(h))
            });
            if !found {
                failures.push(format!(
                    "{name}: expected {exp}\n  got: {}",
                    serde_json::to_string_pretty(diags(&report)).unwrap()
                ));
            }
            let want_code = if diags(&report).iter().any(|d| d["severity"] == "error") {
                1
            } else {
                0
            };
            if code != want_code {
                failures.push(format!("{name}: exit code {code}, expected {want_code}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn missing_main_config_is_reported_and_defaults_apply() {
    let w = Workdir::new();
    let out = w.cmd(&["check-config"]).output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("main config not found: built-in defaults apply"),
        "{text}"
    );
    assert!(text.contains("missing"), "{text}");
}

#[test]
fn the_generated_sample_checks_clean() {
    let w = Workdir::new();
    let sample =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("conf.d/datakit.conf"))
            .unwrap();
    w.write("conf.d/datakit.conf", &sample);
    let (code, report) = check(&w, &[]);
    assert_eq!(code, 0);
    assert!(diags(&report).is_empty(), "{report:#}");
    assert_eq!(report["files"][0]["status"], "ok");
}

#[test]
fn human_output_has_snippet_caret_and_table() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "[io]\nmax_cache_count = \"x\"\n");
    let out = w.cmd(&["check-config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("conf.d/datakit.conf:2:19"), "{text}");
    assert!(text.contains("2 | max_cache_count = \"x\""), "{text}");
    assert!(text.contains("^^^"), "{text}");
    for col in ["File", "Input", "Instances", "Status", "Message"] {
        assert!(text.contains(col), "{col} missing: {text}");
    }
    assert!(text.contains("1 error(s)"), "{text}");
}

#[test]
fn multi_instance_inputs_and_recursive_discovery() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "default_enabled_inputs = []\n");
    w.write(
        "conf.d/a.conf",
        "[[inputs.testinput]]\nname = \"a1\"\n[[inputs.testinput]]\nname = \"a2\"\n",
    );
    w.write(
        "conf.d/deep/er/b.conf",
        "[[inputs.testinput]]\nname = \"b\"\n[[inputs.testsingle]]\n",
    );
    // Not loaded: samples, other extensions, hidden files and directories, .git.
    w.write(
        "conf.d/deep/c.conf.sample",
        "[[inputs.testinput]]\nname = \"sample\"\n",
    );
    w.write("conf.d/notes.txt", "[[inputs.testinput]]\nname = \"txt\"\n");
    w.write(
        "conf.d/.hidden.conf",
        "[[inputs.testinput]]\nname = \"hidden\"\n",
    );
    w.write(
        "conf.d/.cache/d.conf",
        "[[inputs.testinput]]\nname = \"hidden dir\"\n",
    );
    w.write(
        "conf.d/.git/e.conf",
        "[[inputs.testinput]]\nname = \"git\"\n",
    );
    // A copy of a.conf is loaded once.
    w.write(
        "conf.d/z/a-copy.conf",
        &std::fs::read_to_string(w.path().join("conf.d/a.conf")).unwrap(),
    );
    // A symlinked directory (as Kubernetes ConfigMaps use) is followed once.
    w.write(
        "elsewhere/f.conf",
        "[[inputs.testinput]]\nname = \"linked\"\n",
    );
    std::os::unix::fs::symlink(w.path().join("elsewhere"), w.path().join("conf.d/linked")).unwrap();

    let (code, report) = check(&w, &[]);
    assert_eq!(code, 0, "{report:#}");
    // Instances from files only (default_enabled_inputs adds the host inputs too).
    let names: Vec<String> = report["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["default_enabled"] != true)
        .map(|i| format!("{}@{}", i["input"].as_str().unwrap(), i["line"]))
        .collect();
    assert_eq!(
        names,
        [
            "testinput@1",
            "testinput@3",
            "testinput@1",
            "testsingle@3",
            "testinput@1"
        ],
        "{report:#}"
    );
    let files: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            p.strip_prefix(w.path().to_str().unwrap())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        files,
        [
            "/conf.d/datakit.conf",
            "/conf.d/a.conf",
            "/conf.d/deep/er/b.conf",
            "/conf.d/linked/f.conf",
            "/conf.d/z/a-copy.conf"
        ]
    );
    assert_eq!(report["files"][1]["inputs"][0]["instances"], 2);
    let dup = &report["files"][4];
    assert!(
        dup["note"].as_str().unwrap().contains("same content as"),
        "{dup:#}"
    );
}

#[test]
fn default_enabled_inputs_start_unless_configured_or_disabled() {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = [\"testsingle\"]\n",
    );
    let (_, report) = check(&w, &[]);
    assert_eq!(report["instances"][0]["input"], "testsingle");
    assert_eq!(report["instances"][0]["default_enabled"], true);

    // Configured in a file: the file's instance, not a default one.
    w.write(
        "conf.d/s.conf",
        "[[inputs.testsingle]]\ninterval = \"20s\"\n",
    );
    let (_, report) = check(&w, &[]);
    let inst = report["instances"].as_array().unwrap();
    assert_eq!(inst.len(), 1);
    assert_eq!(inst[0]["line"], 1);

    // `-name` disables even a configured instance, with a warning at it.
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = [\"-testsingle\"]\n",
    );
    let (code, report) = check(&w, &[]);
    assert_eq!(code, 0);
    assert!(report["instances"].as_array().unwrap().is_empty());
    assert!(diags(&report).iter().any(|d| {
        d["message"]
            .as_str()
            .unwrap()
            .contains("disabled by `-testsingle`")
    }));
}

#[test]
fn env_overrides_apply_and_bad_values_are_errors() {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "[http_api]\nlisten = \"localhost:9529\"\n",
    );
    let (code, report) = check(
        &w,
        &[
            ("ENV_HTTP_LISTEN", "0.0.0.0:9600"),
            ("ENV_IO_MAX_CACHE_COUNT", "2000"),
        ],
    );
    assert_eq!(code, 0, "{report:#}");
    let vars: Vec<&str> = report["env_overrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["var"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["ENV_HTTP_LISTEN", "ENV_IO_MAX_CACHE_COUNT"]);

    let (code, report) = check(&w, &[("ENV_IO_MAX_CACHE_COUNT", "lots")]);
    assert_eq!(code, 1);
    let d = &diags(&report)[0];
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("ENV_IO_MAX_CACHE_COUNT=\"lots\" cannot set `io.max_cache_count`"),
        "{d:#}"
    );

    // A bad value set through the environment is reported against the variable, not the file.
    let (code, report) = check(&w, &[("ENV_HTTP_LISTEN", "nowhere")]);
    assert_eq!(code, 1);
    let d = &diags(&report)[0];
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .ends_with("(set by ENV_HTTP_LISTEN)"),
        "{d:#}"
    );
    assert!(d["location"].is_null());

    // Protect mode off from the environment: no interval adjustment.
    w.write(
        "conf.d/i.conf",
        "[[inputs.testinput]]\nname = \"x\"\ninterval = \"10ms\"\n",
    );
    let (_, report) = check(&w, &[]);
    assert!(
        diags(&report)
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("raised to 50ms"))
    );
    let (_, report) = check(&w, &[("ENV_DISABLE_PROTECT_MODE", "true")]);
    assert!(diags(&report).is_empty(), "{report:#}");
}
