//! The load-and-abuse suite (issue 22): each finding of an adversarial run against the agent —
//! one config or one caller starving everything else — reproduced with bounded loops, and the
//! fixed behaviour asserted.

use std::time::Duration;

use crate::support::dataway::FakeDataway;
use crate::support::servers::http_post;
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

/// An agent sending to `dw`, batches flushed every 100 ms, with `extra` appended to
/// datakit.conf.
fn agent_to(dw: &FakeDataway, extra: &str) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n  retry_delay = \"100ms\"\n[io]\n  flush_interval = \"100ms\"\n{extra}\n",
            dw.url()
        ),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

/// Finding 9: every attempt to send a body carried a new `X-Pkg-Id`, so DataWay could not
/// tell a retry from new data. The id now derives from the body.
#[test]
fn retries_of_a_body_carried_new_package_ids() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_status(503);
    let (_w, a) = agent_to(&dw, "[dataway.wal]\n  fail_cache_clean_interval = \"1s\"");
    let (status, _) = http_post(
        &format!("{}/v1/write/metric", a.api()),
        "pkg,t=a v=1i 1700000000000000000\n",
    )
    .unwrap();
    assert_eq!(status, 200);
    let t0 = std::time::Instant::now();
    while dw.pkg_ids().len() < 3 {
        assert!(t0.elapsed() < Duration::from_secs(20), "no retries seen");
        std::thread::sleep(Duration::from_millis(50));
    }
    dw.set_status(200);
    dw.wait_for(Duration::from_secs(20), "the point", |p| {
        p.iter().any(|p| p.name == "pkg")
    });
    let ids = dw.pkg_ids();
    assert!(ids.len() >= 4, "{ids:?}");
    assert!(ids[0].starts_with("dk_"), "{ids:?}");
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every attempt of the one body carries one id: {ids:?}"
    );
}

/// Finding 10: one input config with an error stopped the whole agent (exit 78, which systemd
/// does not restart). Now that input is skipped, said with its place, and the rest runs;
/// `check-config` still fails.
#[test]
fn one_bad_input_file_stopped_the_whole_agent() {
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write("conf.d/bad.conf", "[[inputs.cpu]]\n  interval = 10\n");
    w.write("conf.d/broken.conf", "[[inputs.swap]\n");
    w.write("conf.d/good.conf", "[[inputs.mem]]\n  interval = \"1s\"\n");
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    dw.wait_for(Duration::from_secs(20), "mem points", |p| {
        p.iter().any(|p| p.name == "mem")
    });
    let err = a.stderr();
    assert!(err.contains("bad.conf:2:14"), "{err}");
    assert!(err.contains("broken.conf:1:"), "{err}");
    assert!(err.contains("the inputs they concern are skipped"), "{err}");
    assert!(
        !dw.points()
            .iter()
            .any(|p| p.name == "cpu" || p.name == "swap"),
        "the bad tables run nothing"
    );
    let log = a.log();
    assert!(
        log.contains("input config skipped") && log.contains("bad.conf"),
        "{log}"
    );
    a.stop();
    let out = w.cmd(&["check-config"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Finding 10: a dangling symbolic link or a FIFO in conf.d was skipped without a word (and a
/// FIFO named `.conf` would have blocked the reader).
#[test]
fn odd_entries_in_conf_d_were_skipped_without_a_word() {
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", "default_enabled_inputs = []\n");
    std::os::unix::fs::symlink(
        w.path().join("nowhere.conf"),
        w.path().join("conf.d/gone.conf"),
    )
    .unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        w.path().join("conf.d/pipe.conf"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let out = w.cmd(&["check-config"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("gone.conf") && text.contains("does not exist: skipped"),
        "{text}"
    );
    assert!(
        text.contains("pipe.conf") && text.contains("not a regular file"),
        "{text}"
    );
}
