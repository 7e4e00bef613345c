//! The console's Pipeline scripts end to end: pulled from DataWay as the original pulls them
//! (`remote_pipelines=true&ts=…&relation_ts=…`), winning over local scripts of the same name,
//! the relation choosing a script for a source, a console default for a category; a new
//! version replaces them while the agent runs; a failed pull keeps them; a restart while
//! DataWay is down runs them from disk; DataWay's "delete all" removes them.

use std::time::{Duration, Instant};

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::http_post;
use crate::support::{Agent, Workdir, stdout};

const TOKEN: &str = "tkn_remote_pl";

fn write(a: &Agent, cat: &str, line: &str) {
    let (status, text) = http_post(&format!("{}/v1/write/{cat}", a.api()), line).unwrap();
    assert_eq!(status, 200, "{text}");
}

/// Writes a point (tagged `n=<unique>`) until it arrives with field or tag `key` = `want`,
/// writing again with a new `n` each time (the scripts in place may change in between).
fn until_field(a: &Agent, dw: &FakeDataway, cat: &str, name: &str, key: &str, want: &str) {
    let t0 = Instant::now();
    let mut n = 0u32;
    loop {
        n += 1;
        let tag = format!("{name}-{n}-{}", t0.elapsed().as_nanos());
        let field = if cat == "metric" {
            "v=1i"
        } else {
            "message=\"x\""
        };
        write(a, cat, &format!("{name},n={tag} {field}\n"));
        let got = |p: &Received| p.tags.get("n") == Some(&tag);
        dw.wait_for(Duration::from_secs(20), "the point", |p| p.iter().any(got));
        let p = dw.points_named(name).into_iter().find(got).unwrap();
        if p.fields.get(key) == Some(&Val::S(want.into()))
            || p.tags.get(key).map(String::as_str) == Some(want)
        {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(40),
            "{name}: {key} is {:?}, not {want:?}",
            p.fields.get(key)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn console_scripts_win_survive_outages_and_restarts_and_can_be_removed() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_pipelines(
        100,
        &[
            ("logging", "web.p", "add_key(from, \"console_v1\")", false),
            ("metric", "m_all.p", "set_tag(m_from, \"console\")", true),
        ],
    );
    dw.set_relation(50, &[("logging", "app", "web.p")]);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n\
             [pipeline]\n  remote_pull_interval = \"10s\"\n",
            dw.url()
        ),
    );
    w.write("pipeline/logging/web.p", "add_key(from, \"local\")");
    let mut a = Agent::start(&w, &[]);
    a.wait_api();

    until_field(&a, &dw, "logging", "web", "from", "console_v1");
    // The relation sends `app` through web.p; the console's default shapes metrics.
    until_field(&a, &dw, "logging", "app", "from", "console_v1");
    until_field(&a, &dw, "metric", "cpu", "m_from", "console");
    let q = dw
        .pulls()
        .into_iter()
        .find(|q| q.contains("remote_pipelines=true"))
        .unwrap();
    assert!(
        q.contains(&format!("token={TOKEN}")) && q.contains("ts=0") && q.contains("relation_ts=0"),
        "{q}"
    );
    let kept = w.path().join("pipeline_remote/logging/web.p");
    assert_eq!(
        std::fs::read_to_string(&kept).unwrap(),
        "add_key(from, \"console_v1\")"
    );
    let out = w.cmd(&["pipeline", "check"]).output().unwrap();
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.contains("web.p") && l.contains("(remote)")),
        "{text}"
    );

    // `pipeline which` says which script a source's points go through, and why.
    let which = |args: &[&str]| {
        let mut all = vec!["pipeline", "which"];
        all.extend_from_slice(args);
        let out = w.cmd(&all).output().unwrap();
        (out.status.code(), stdout(&out))
    };
    let (code, text) = which(&["web"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("logging/web: web.p (remote)"), "{text}");
    assert!(text.contains(&kept.display().to_string()), "{text}");
    let (_, text) = which(&["app", "--input-script", "other.p"]);
    assert!(
        text.contains("web.p (remote)") && text.contains("the console's relation"),
        "{text}"
    );
    let (_, text) = which(&["cpu", "-C", "metric"]);
    assert!(
        text.contains("m_all.p (remote)") && text.contains("the category's default"),
        "{text}"
    );
    let (code, text) = which(&["nothing"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no script; looked for nothing.p"), "{text}");
    let (_, text) = which(&["nginx"]);
    assert!(
        text.contains("nginx.p (builtin)") && text.contains("built into the binary"),
        "{text}"
    );

    // A new version while the agent runs (the next pull sends the agent's ts).
    dw.set_pipelines(
        200,
        &[("logging", "web.p", "add_key(from, \"console_v2\")", false)],
    );
    until_field(&a, &dw, "logging", "web", "from", "console_v2");
    assert!(
        dw.pulls()
            .iter()
            .any(|q| q.contains("remote_pipelines=true") && q.contains("ts=100")),
        "{:?}",
        dw.pulls()
    );

    // DataWay down, then a restart while it is down: the scripts from disk.
    dw.set_pull_status(503);
    a.stop();
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    until_field(&a, &dw, "logging", "web", "from", "console_v2");
    let (_, monitor) =
        crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert!(
        monitor.contains("remote Pipeline pull: HTTP 503"),
        "{monitor}"
    );

    // DataWay removes every script: the local one runs again.
    dw.set_pipelines(1, &[]);
    dw.set_pull_status(200);
    until_field(&a, &dw, "logging", "web", "from", "local");
    assert!(!kept.exists());
    a.stop();
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
}
