//! `datakit doc`: every form of the command, the exported tree, and Markdown lint.

use std::path::Path;

use crate::support::{datakit, stdout};

fn doc(args: &[&str]) -> std::process::Output {
    datakit()
        .args(["--color", "never", "doc"])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn each_form_of_the_command() {
    let out = doc(&["dk"]);
    assert!(out.status.success());
    let t = stdout(&out);
    for part in [
        "dk — ",
        "Sample configuration",
        "[[inputs.dk]]",
        "Options",
        "Measurement dk (metric)",
        "datakit_cpu_usage",
    ] {
        assert!(t.contains(part), "{part} missing:\n{t}");
    }
    let md = stdout(&doc(&["dk", "--markdown"]));
    assert!(md.starts_with("# dk\n"), "{md}");
    assert!(md.contains("| `datakit_cpu_usage` | float | % |"), "{md}");

    let list = stdout(&doc(&["--list"]));
    assert!(list.contains("host") && list.contains("dk"), "{list}");
    assert!(
        !list.contains("testinput"),
        "test-only inputs are not documented"
    );

    let grok = stdout(&doc(&["pipeline", "grok"]));
    assert!(grok.contains("grok(") && grok.contains("Example"), "{grok}");
    let all = stdout(&doc(&["pipeline"]));
    assert!(
        all.contains("json") && all.contains("default_time"),
        "{all}"
    );
    let gmd = stdout(&doc(&["pipeline", "grok", "--markdown"]));
    assert!(gmd.contains("## `grok`"), "{gmd}");

    let conf = stdout(&doc(&["config"]));
    assert!(
        conf.contains("ENV_HTTP_LISTEN") && conf.contains("max_cache_count"),
        "{conf}"
    );
    assert!(stdout(&doc(&["config", "--markdown"])).starts_with("# Main configuration reference"));

    let out = doc(&["dkk"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `dk`?"));
    let out = doc(&["pipeline", "nosuch"]);
    assert!(!out.status.success());
}

#[test]
fn export_writes_the_tree_and_it_passes_markdownlint() {
    let dir = tempfile::tempdir().unwrap();
    let out = doc(&["--export", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    for f in [
        "index.md",
        "config.md",
        "inputs/dk.md",
        "pipeline/grok.md",
        "pipeline/json.md",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} not written");
    }
    let index = std::fs::read_to_string(dir.path().join("index.md")).unwrap();
    assert!(index.contains("[dk](inputs/dk.md)"), "{index}");
    let lint = std::process::Command::new("markdownlint-cli2")
        .arg("--config")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(".markdownlint-cli2.jsonc"))
        .arg(format!("{}/**/*.md", dir.path().display()))
        .output()
        .expect(
            "markdownlint-cli2 is installed by tests/run, which puts it on PATH (`tests/run --install-only` prints that PATH)",
        );
    assert!(
        lint.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
