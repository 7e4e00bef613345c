//! Regression tests: what the daemon (`run`) says (see the module list in `mod.rs`).

use std::time::Duration;

use crate::support::{Agent, Workdir, datakit};

/// Finding 9: a start-up error repeated its cause three times (`cannot listen on …: Address
/// already in use (os error 98): cannot listen on …: Address already in use …`), gave no hint,
/// and was not written to the workdir's log.
#[test]
fn a_busy_listen_address_repeated_its_cause_and_gave_no_hint() {
    let first = Workdir::new();
    first.write("conf.d/datakit.conf", "default_enabled_inputs = []\n");
    let mut a = Agent::start(&first, &[]);
    a.wait_api();
    let second = Workdir::new();
    second.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[http_api]\n  listen = \"127.0.0.1:{}\"\n",
            a.port
        ),
    );
    let out = datakit()
        .arg("--workdir")
        .arg(second.path())
        .arg("run")
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("in use").count(),
        1,
        "the cause is said once: {err}"
    );
    assert!(
        err.contains("[http_api] listen") && err.contains("ENV_HTTP_LISTEN"),
        "{err}"
    );
    let log = std::fs::read_to_string(second.path().join("log")).unwrap_or_default();
    assert!(
        log.contains("in use"),
        "the log has the fatal error: {log:?}"
    );
    assert_eq!(a.stop(), Some(0));
}

/// Finding 10: Ctrl-C on a foreground `run` printed nothing on the terminal.
#[test]
fn ctrl_c_on_a_foreground_run_said_nothing() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "default_enabled_inputs = [\"dk\"]\n");
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    a.signal(rustix::process::Signal::INT);
    assert_eq!(a.wait(Duration::from_secs(30)), Some(0));
    let out = a.stdout();
    let stopping = out
        .lines()
        .find(|l| l.contains("stopping"))
        .unwrap_or_else(|| panic!("no word of stopping: {out}"));
    assert!(stopping.contains("SIGINT"), "{stopping}");
    let stopped = out
        .lines()
        .find(|l| l.contains("stopped"))
        .unwrap_or_else(|| panic!("no word of having stopped: {out}"));
    assert!(stopped.contains("delivered or queued"), "{stopped}");
}

/// Finding 11: a log record spanned several lines (the start-up record embedded a newline) and
/// debug records showed Rust `Debug` forms (`interval=Some(Dur(10s))`).
#[test]
fn log_records_spanned_lines_and_showed_debug_forms() {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = [\"cpu\"]\n[logging]\n  level = \"debug\"\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    assert_eq!(a.stop(), Some(0));
    let log = a.log();
    assert!(log.contains("datakit started"), "{log}");
    for line in log.lines() {
        // Every record starts with its timestamp (`2026-12-07T10:00:00.123456Z`).
        let b = line.as_bytes();
        assert!(
            b.len() > 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T',
            "a record's continuation line: {line:?}"
        );
        assert!(
            !line.contains("Some(") && !line.contains("Dur("),
            "a Debug form: {line}"
        );
    }
}

/// Finding 12: `run` on an empty workdir wrote no sample configuration, and its hint told a
/// user who has only the binary to copy a file from the source tree.
#[test]
fn an_empty_workdir_got_no_sample_config() {
    let w = Workdir::new();
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    assert_eq!(a.stop(), Some(0));
    let sample = w.path().join("conf.d/datakit.conf.sample");
    let text = std::fs::read_to_string(&sample)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", sample.display(), a.stdout()));
    assert!(
        text.contains("[dataway]") && text.contains("ENV_DATAWAY"),
        "{text}"
    );
    assert!(a.stdout().contains("datakit.conf.sample"), "{}", a.stdout());
    // The check says where the sample is, not the source tree.
    let out = datakit()
        .arg("--workdir")
        .arg(w.path())
        .arg("check-config")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("source tree"), "{text}");
    assert!(text.contains("datakit.conf.sample"), "{text}");
}

/// Found by CI after the periodic inputs moved to their own threads: a collection under way
/// when the agent was told to stop fed its points after IO had stopped, so a clean stop left
/// them in the journal ("… wait in the journal and are sent at the next start"). A collection
/// under way now gets a moment to finish and its points go out with the rest.
#[test]
fn a_collection_under_way_at_stop_was_left_in_the_journal() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "default_enabled_inputs = []\n");
    w.write(
        "conf.d/slow.conf",
        "[[inputs.testinput]]\n  name = \"slow\"\n  interval = \"1h\"\n  collect_delay = \"700ms\"\n  points_per_tick = 500\n",
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    a.signal(rustix::process::Signal::INT);
    assert_eq!(a.wait(Duration::from_secs(30)), Some(0));
    let out = a.stdout();
    assert!(!out.contains("journal"), "{out}");
    let delivered = std::fs::read_dir(w.path().join("data/out"))
        .map(|d| {
            d.flatten()
                .map(|e| {
                    std::fs::read_to_string(e.path())
                        .unwrap_or_default()
                        .matches("slow")
                        .count()
                })
                .sum::<usize>()
        })
        .unwrap_or(0);
    assert!(
        delivered >= 500,
        "{delivered} points of the collection delivered: {out}"
    );
}
