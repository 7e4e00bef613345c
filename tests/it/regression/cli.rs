//! Regression tests: see the module list in `mod.rs`.

use std::path::Path;
use std::process::Output;

use crate::support::{Workdir, datakit, stdout};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---- 16: pipeline test / pipeline check ----------------------------------------------------

#[test]
fn pipeline_test_help_did_not_list_the_builtin_scripts() {
    let out = datakit()
        .args(["pipeline", "test", "--help"])
        .output()
        .unwrap();
    let text = stdout(&out);
    let list = text
        .split("Built-in scripts")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of the built-in scripts:\n{text}"));
    for name in ["apache", "consul", "mysql", "nginx", "tomcat"] {
        assert!(list.contains(name), "{name} not listed:\n{text}");
    }
}

#[test]
fn pipeline_test_did_not_say_where_it_looked_for_a_missing_script() {
    let w = Workdir::new();
    let out = w
        .cmd(&["pipeline", "test", "ngnix", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let dir = w.path().join("pipeline");
    for place in [
        format!("{}/logging/", dir.display()),
        format!("{}/", dir.display()),
        "built-in scripts".to_string(),
    ] {
        assert!(text.contains(&place), "{place} not named:\n{text}");
    }
    assert!(text.contains("did you mean `nginx.p`?"), "{text}");

    // A path: the file is missing, it is not looked up by name.
    let out = w
        .cmd(&["pipeline", "test", "./conf/nope.p", "--txt", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("./conf/nope.p") && text.contains("no such file"),
        "{text}"
    );
    assert!(!text.contains("namespace"), "{text}");
}

#[test]
fn pipeline_check_printed_errors_twice_and_only_the_first() {
    let w = Workdir::new();
    w.write(
        "pipeline/bad.p",
        "add_key(a, 1)\nfoo(_)\nx = (1 + )\ndrop_key(a, b)\n",
    );
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for msg in [
        "unsupported func: `foo`",
        "unexpected: <op:')'>",
        "func drop_key expected 1 args",
    ] {
        assert_eq!(text.matches(msg).count(), 1, "{msg}:\n{text}");
    }
    assert!(text.contains("logging/bad.p (default): 3 errors"), "{text}");
    // `pipeline test` shows every error too.
    let out = w
        .cmd(&["pipeline", "test", "bad", "--txt", "x"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert_eq!(
        text.matches("func drop_key expected 1 args").count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches("unsupported func: `foo`").count(), 1, "{text}");
}

#[test]
fn pipeline_errors_suggested_no_close_function_or_pattern_name() {
    let w = Workdir::new();
    w.write(
        "pipeline/typo.p",
        "gork(_, \"%{IP:client}\")\ngrok(_, \"%{NUMBR:n}\")\n",
    );
    let out = w.cmd(&["pipeline", "check", "typo"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("did you mean `grok`?"), "{text}");
    assert!(text.contains("did you mean %{NUMBER}?"), "{text}");
}

#[test]
fn pipeline_check_did_not_explain_the_default_label() {
    let w = Workdir::new();
    w.write("pipeline/mine.p", "add_key(a, 1)");
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("ok     logging/mine.p (default)"), "{text}");
    let legend = format!(
        "(default): yours, under {}/",
        w.path().join("pipeline").display()
    );
    assert!(text.contains(&legend), "no legend {legend:?}:\n{text}");
    assert!(text.contains("(builtin): shipped in the binary"), "{text}");
}

// ---- 18: doc ---------------------------------------------------------------------------------

#[test]
fn doc_printed_units_raw() {
    for (input, want) in [("cpu", "%"), ("cpu", "°C"), ("mem", "B"), ("net", "B/s")] {
        let text = stdout(&datakit().args(["doc", input]).output().unwrap());
        for raw in [
            "percent,percent",
            "temperature,C",
            "digital,B",
            "traffic,B/S",
        ] {
            assert!(!text.contains(raw), "{input}: {raw}:\n{text}");
        }
        assert!(
            text.lines()
                .any(|l| l.split('┆').nth(2).is_some_and(|c| c.trim() == want)),
            "{input}: no unit {want}:\n{text}"
        );
    }
    let md = stdout(
        &datakit()
            .args(["doc", "cpu", "--markdown"])
            .output()
            .unwrap(),
    );
    assert!(
        !md.contains("percent,percent") && md.contains("| % |"),
        "{md}"
    );
}

#[test]
fn doc_pipeline_index_did_not_mark_unsupported_functions() {
    let text = stdout(&datakit().args(["doc", "pipeline"]).output().unwrap());
    let index: Vec<&str> = text
        .lines()
        .take_while(|l| !l.contains("shows one"))
        .collect();
    let joined = index.join("\n");
    for f in ["http_request", "agg_create", "point_window"] {
        assert!(
            joined.contains(&format!("{f} (unsupported)")),
            "{f} not marked:\n{joined}"
        );
    }
    assert!(
        !joined.contains("grok (unsupported)"),
        "a supported function is marked:\n{joined}"
    );
    let md = std::fs::read_to_string(repo().join("docs/pipeline/misc.md")).unwrap();
    assert!(
        md.contains("## `http_request` (not supported by this build)"),
        "{md}"
    );
}

#[test]
fn doc_pipeline_suggested_no_function_name() {
    let out = datakit()
        .args(["doc", "pipeline", "gork"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("did you mean `grok`?"), "{out:?}");
}

#[test]
fn doc_tables_cut_names_mid_word() {
    let text = stdout(&datakit().args(["doc", "config"]).output().unwrap());
    for name in [
        "default_enabled_inputs",
        "ENV_DEFAULT_ENABLED_INPUTS,",
        "ENV_DISABLE_PROTECT_MODE",
        "enable_debug_fields",
    ] {
        assert!(text.contains(name), "{name} cut:\n{text}");
    }
    let text = stdout(&datakit().args(["doc", "cpu"]).output().unwrap());
    assert!(text.contains("enable_temperature"), "{text}");
}
