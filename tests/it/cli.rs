//! The command line itself: version, help, completion.

use crate::support::{datakit, stdout};

#[test]
fn version_flag_and_command_print_build_info() {
    let out = datakit().arg("--version").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.starts_with(&format!("datakit {}\n", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    for key in ["commit:", "build date:", "rustc:", "target:"] {
        assert!(text.contains(key), "missing {key} in {text}");
    }
    let out = datakit().arg("version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), text);

    let out = datakit().args(["version", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["rustc"].as_str().unwrap().starts_with("rustc "));
}

#[test]
fn help_lists_only_working_commands() {
    let out = datakit().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = stdout(&out);
    for c in ["version", "check-config", "completion"] {
        assert!(text.contains(c), "{c} missing from help");
    }
    assert!(!text.contains("__generate"), "hidden command shown");
    let out = datakit().args(["check-config", "--help"]).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("--json"));
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = datakit().arg("frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand"));
}

#[test]
fn completion_scripts_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = datakit().args(["completion", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        assert!(
            stdout(&out).contains("check-config"),
            "{shell} completion lacks subcommands"
        );
    }
}

/// The bash completion, sourced in a real bash, completes `datakit che<TAB>`.
#[test]
fn bash_completion_completes_subcommands() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/completions/datakit.bash");
    let probe = format!(
        "source {script}\n\
         COMP_WORDS=(datakit che); COMP_CWORD=1; COMP_LINE='datakit che'; COMP_POINT=${{#COMP_LINE}}\n\
         _datakit datakit che datakit\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n\
         COMP_WORDS=(datakit completion ''); COMP_CWORD=2; COMP_LINE='datakit completion '; COMP_POINT=${{#COMP_LINE}}\n\
         _datakit datakit '' completion\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let words: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert!(words.contains(&"check-config".to_string()), "{words:?}");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(
            words.contains(&shell.to_string()),
            "{shell} not offered: {words:?}"
        );
    }
}

/// `man -l man/datakit.1` renders the page.
#[test]
fn man_page_renders() {
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("`man` is not installed: run the README's test command, which installs man-db");
    }
    let page = concat!(env!("CARGO_MANIFEST_DIR"), "/man/datakit.1");
    let out = std::process::Command::new("man")
        .args(["-l", page])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("datakit"), "{text}");
    assert!(text.contains("check-config"), "{text}");
}
