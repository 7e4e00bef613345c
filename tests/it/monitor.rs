//! `datakit monitor` against a running agent: one-shot text and JSON, filters, the not-running
//! error, and the live view in a real terminal (tmux).

use std::process::Command;
use std::time::Duration;

use crate::support::{Agent, Workdir, datakit, stdout};

fn agent() -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = [\"dk\"]\n[io]\n  flush_interval = \"100ms\"\n",
    );
    w.write(
        "conf.d/t.conf",
        "[[inputs.testinput]]\n  name = \"mon\"\n  interval = \"100ms\"\n  points_per_tick = 3\n",
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

fn monitor(a: &Agent, args: &[&str]) -> std::process::Output {
    datakit()
        .args([
            "--color",
            "never",
            "monitor",
            "--to",
            &format!("127.0.0.1:{}", a.port),
        ])
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn once_and_json_show_the_agent() {
    let (_w, mut a) = agent();
    std::thread::sleep(Duration::from_millis(500));
    let out = monitor(&a, &["--once"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for part in [
        "Agent",
        "Inputs (2)",
        "testinput",
        "dk",
        "IO",
        "metric",
        "Outputs",
        "file",
    ] {
        assert!(text.contains(part), "{part} missing:\n{text}");
    }
    let out = monitor(&a, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["inputs"]["testinput"]["points"].as_u64().unwrap() > 0);
    assert_eq!(v["inputs"]["testinput"]["instances"], 1);
    // The workdir's listen address is found without --to.
    let out = datakit()
        .args(["--color", "never", "--workdir"])
        .arg(&a.root)
        .args(["monitor", "--once", "-M", "basic"])
        .env("ENV_HTTP_LISTEN", format!("127.0.0.1:{}", a.port))
        .output()
        .unwrap();
    assert!(stdout(&out).contains("Version"), "{out:?}");
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn filters_choose_modules_and_inputs() {
    let (_w, mut a) = agent();
    let text = stdout(&monitor(&a, &["--once", "-M", "In", "-I", "testinput"]));
    assert!(text.contains("Inputs (total 2, 1 selected)"), "{text}");
    assert!(
        text.contains("testinput") && !text.contains("│ dk "),
        "{text}"
    );
    assert!(
        !text.contains("Agent") && !text.contains("Outputs"),
        "{text}"
    );
    let text = stdout(&monitor(&a, &["--once", "-V"]));
    assert!(
        text.contains("HTTP API"),
        "verbose shows every module: {text}"
    );
    let out = monitor(&a, &["--once", "-M", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown module `nope`"));
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn no_agent_is_a_one_line_error() {
    let port = crate::support::servers::free_port();
    let out = datakit()
        .args(["monitor", "--once", "--to", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("start one with `datakit run`"), "{err}");
}

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux (installed by tests/run)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Kills a tmux server when dropped, so a failing assertion leaves no session behind.
struct TmuxServer(String);

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.0, "kill-server"])
            .output();
    }
}

/// The live view in 80x24 and 200x50 terminals: within the width, refreshed, `q` quits.
#[test]
fn live_view_in_a_real_terminal() {
    let (_w, mut a) = agent();
    let bin = assert_cmd::cargo::cargo_bin("datakit");
    for (cols, rows) in [(80, 24), (200, 50)] {
        let session = format!("dkmon-{}-{cols}", std::process::id());
        let _server = TmuxServer(session.clone());
        let cmd = format!(
            "NO_COLOR=1 {} monitor -R 1s --to 127.0.0.1:{}",
            bin.display(),
            a.port
        );
        tmux(&[
            "-L",
            &session,
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            &cmd,
        ]);
        std::thread::sleep(Duration::from_millis(1500));
        let first = tmux(&["-L", &session, "capture-pane", "-p", "-t", &session]);
        std::thread::sleep(Duration::from_millis(2200));
        let second = tmux(&["-L", &session, "capture-pane", "-p", "-t", &session]);
        assert!(
            first.contains("Agent") && first.contains("Inputs"),
            "{cols}x{rows}:\n{first}"
        );
        for line in second.lines() {
            assert!(
                line.chars().count() <= cols,
                "{cols}x{rows}: too wide: {line}"
            );
        }
        assert_ne!(first, second, "{cols}x{rows}: the numbers did not move");
        // `q` quits and gives the terminal back.
        tmux(&["-L", &session, "send-keys", "-t", &session, "q"]);
        std::thread::sleep(Duration::from_millis(800));
        let alive = tmux(&["-L", &session, "list-sessions"]);
        assert!(
            !alive.contains(&session),
            "monitor did not quit on q: {alive}"
        );
    }
    assert_eq!(a.stop(), Some(0));
}

/// Drops show by category, reason and origin: bad lines a loose write skipped.
#[test]
fn dropped_points_show_by_reason_and_origin() {
    let (_w, mut a) = agent();
    let (s, _) = crate::support::servers::http_post(
        &format!(
            "http://127.0.0.1:{}/v1/write/metric?loose=1&input=app",
            a.port
        ),
        "m f=1i\nm f=\nm g=\n",
    )
    .unwrap();
    assert_eq!(s, 200);
    let text = stdout(&monitor(&a, &["--once", "-M", "D"]));
    assert!(text.contains("Dropped points"), "{text}");
    let row = text
        .lines()
        .find(|l| l.contains("v1-write.app"))
        .unwrap_or_else(|| panic!("no row of the write API: {text}"));
    for part in ["metric", "invalid", "2"] {
        assert!(row.contains(part), "{part} missing from {row}");
    }
    assert_eq!(a.stop(), Some(0));
}
