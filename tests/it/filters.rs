//! Filters end to end: rules from DataWay (pulled as the original pulls them) and from
//! `[io.filters]` drop what they match before anything reaches DataWay; a failed pull keeps
//! the rules in place, a new answer replaces them while points flow, and a restart without
//! DataWay has the last rules.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::dataway::FakeDataway;
use crate::support::servers::{http_get, http_post};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_filters";

fn conf(dw: &FakeDataway, extra: &str) -> String {
    format!(
        "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n{extra}\n",
        dw.url()
    )
}

fn monitor(a: &Agent) -> Value {
    let (status, body) = http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn wait_monitor(a: &Agent, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let t0 = Instant::now();
    loop {
        let m = monitor(a);
        if cond(&m) {
            return m;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {}",
            m["filters"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write(a: &Agent, cat: &str, body: &str) {
    let (status, text) = http_post(&format!("{}/v1/write/{cat}", a.api()), body).unwrap();
    assert_eq!(status, 200, "{text}");
}

/// The `n` field of every delivered point named `name`.
fn delivered(dw: &FakeDataway, name: &str) -> Vec<i64> {
    let mut v: Vec<i64> = dw
        .points_named(name)
        .iter()
        .filter_map(|p| p.fields.get("n").and_then(|v| v.as_i64()))
        .collect();
    v.sort();
    v
}

/// The pulls that asked for filters (the agent also pulls the console's Pipeline scripts).
fn filter_pulls(dw: &FakeDataway) -> Vec<String> {
    dw.pulls()
        .into_iter()
        .filter(|q| q.contains("filters=true"))
        .collect()
}

fn rule_hits(m: &Value, rule: &str) -> u64 {
    m["filters"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == rule)
        .and_then(|r| r["filtered"].as_u64())
        .unwrap_or(0)
}

#[test]
fn dataway_filters_drop_what_they_match_across_outages_and_restarts() {
    let dw = FakeDataway::start(TOKEN);
    let drop_rule = "{ source = 'drop_me' or n = 99 }";
    let metric_rule = "{ measurement = 'm' and k = 'x' }";
    dw.set_filters(
        Some(json!({"logging": [drop_rule], "metric": [metric_rule]})),
        Duration::from_millis(200),
    );
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &conf(&dw, ""));
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    wait_monitor(&a, "DataWay's rules", |m| {
        m["filters"]["rules"]
            .as_array()
            .is_some_and(|r| r.len() == 2)
    });
    let q = filter_pulls(&dw)[0].clone();
    assert!(
        q.contains(&format!("token={TOKEN}")) && q.contains("filters=true"),
        "{q}"
    );

    write(&a, "logging", "drop_me n=1i\nkeep n=1i\nkeep n=99i\n");
    write(&a, "metric", "m,k=x n=1i\nm,k=y n=1i\n");
    dw.wait_for(Duration::from_secs(20), "the kept points", |p| {
        p.iter()
            .filter(|p| p.name == "keep" || p.name == "m")
            .count()
            >= 2
    });
    let m = wait_monitor(&a, "the hits", |m| rule_hits(m, drop_rule) == 2);
    assert_eq!(rule_hits(&m, metric_rule), 1);
    assert_eq!(m["filters"]["source"], "remote");
    let filtered: u64 = m["drops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"] == "filtered")
        .map(|d| d["points"].as_u64().unwrap())
        .sum();
    assert_eq!(filtered, 3);

    // DataWay fails: the rules in place stay.
    dw.set_pull_status(503);
    wait_monitor(&a, "a failed pull", |m| {
        m["filters"]["pull_failures"].as_u64() > Some(0)
    });
    write(&a, "logging", "drop_me n=2i\nkeep n=2i\n");
    dw.wait_for(Duration::from_secs(20), "keep 2", |_| {
        delivered(&dw, "keep") == [1, 2]
    });

    // New rules take over while the agent runs.
    let new_rule = "{ source = 'keep' }";
    dw.set_filters(
        Some(json!({"logging": [new_rule]})),
        Duration::from_millis(200),
    );
    dw.set_pull_status(200);
    wait_monitor(&a, "the new rules", |m| {
        m["filters"]["rules"][0]["rule"] == new_rule
    });
    write(&a, "logging", "drop_me n=3i\nkeep n=3i\n");
    dw.wait_for(Duration::from_secs(20), "drop_me 3", |_| {
        delivered(&dw, "drop_me") == [3]
    });

    // A restart while DataWay fails: the last rules, from disk.
    a.stop();
    dw.set_pull_status(503);
    let a = Agent::start(&w, &[]);
    a.wait_api();
    let m = monitor(&a);
    assert_eq!(
        m["filters"]["rules"][0]["rule"], new_rule,
        "{}",
        m["filters"]
    );
    write(&a, "logging", "drop_me n=4i\nkeep n=4i\n");
    dw.wait_for(Duration::from_secs(20), "drop_me 4", |_| {
        delivered(&dw, "drop_me") == [3, 4]
    });
    assert_eq!(delivered(&dw, "keep"), [1, 2], "keep 3 and 4 were filtered");
    assert!(dw.points_named("m").iter().all(|p| p.tags["k"] == "y"));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
}

#[test]
fn local_filters_win_over_dataway_and_bad_rules_are_reported() {
    let dw = FakeDataway::start(TOKEN);
    dw.set_filters(
        Some(json!({"logging": ["{ source = 'b' }"]})),
        Duration::from_millis(100),
    );
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &conf(
            &dw,
            "[io.filters]\n  logging = [\"{ source = 'a' }\", \"{ source = }\"]\n  metric = [\"\"\"\n    # multi-line\n    { measurement = 'cpu'\n      and usage > 90.0 }\n  \"\"\"]\n",
        ),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    write(&a, "logging", "a n=1i\nb n=1i\n");
    write(&a, "metric", "cpu usage=95.0,n=1i\ncpu usage=5.0,n=2i\n");
    dw.wait_for(Duration::from_secs(20), "b and cpu", |p| {
        p.iter().any(|p| p.name == "b") && p.iter().any(|p| p.name == "cpu")
    });
    let m = wait_monitor(&a, "the hits", |m| rule_hits(m, "{ source = 'a' }") == 1);
    assert_eq!(m["filters"]["source"], "local");
    assert_eq!(delivered(&dw, "cpu"), [2]);
    assert!(dw.points_named("a").is_empty());
    assert!(
        filter_pulls(&dw).is_empty(),
        "local rules: DataWay is not asked for filters"
    );
    let problems = m["filters"]["problems"].to_string();
    assert!(
        problems.contains("rule logging[1] ignored: 1:12"),
        "{problems}"
    );
    assert!(
        a.log().contains("[io.filters] filters: rule logging[1] ignored: 1:12: expected a key or a value, found `}`"),
        "{}",
        a.log()
    );
}
