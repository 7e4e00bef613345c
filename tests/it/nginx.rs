//! The `nginx` input against a private nginx (Debian's): the stub_status points against the
//! page itself, the access and error logs through the tailer and `nginx.p`, and the failures
//! (nothing listening, a page that is not stub_status) beside the healthy instance.

use std::process::Command;
use std::time::Duration;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{self, free_port, http_get};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn u(p: &Received, k: &str) -> u64 {
    match p.fields.get(k) {
        Some(Val::U(v)) => *v,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

/// A string field, or the tag of that name.
fn text(p: &Received, key: &str) -> Option<String> {
    match p.fields.get(key) {
        Some(Val::S(s)) => Some(s.clone()),
        _ => p.tags.get(key).cloned(),
    }
}

fn page_requests(port: u16) -> u64 {
    let (s, body) = http_get(&format!("http://127.0.0.1:{port}/basic_status")).unwrap();
    assert_eq!(s, 200);
    body.lines()
        .nth(2)
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn nginx_status_and_logs_match_the_server() {
    let ng = servers::nginx();
    // Its `/` is no stub_status page (another server, so its requests do not count in ng's).
    let other = servers::nginx();
    let logs = ng.dir().join("logs");
    let closed = free_port();
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\nprotect_mode = false\n[dataway]\n  urls = [\"{}\"]\n\
             [io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    w.write(
        "conf.d/nginx.conf",
        &format!(
            "[[inputs.nginx]]\n  url = \"http://127.0.0.1:{p}/basic_status\"\n  interval = \"1s\"\n\
             [inputs.nginx.log]\n    files = [\"{l}/access.log\", \"{l}/error.log\"]\n\
             [inputs.nginx.tags]\n    which = \"good\"\n\
             [[inputs.nginx]]\n  url = \"http://127.0.0.1:{closed}/basic_status\"\n  interval = \"1s\"\n  response_timeout = \"1s\"\n\
             [inputs.nginx.tags]\n    which = \"closed\"\n\
             [[inputs.nginx]]\n  url = \"http://127.0.0.1:{o}/\"\n  interval = \"1s\"\n\
             [inputs.nginx.tags]\n    which = \"notstatus\"\n",
            p = ng.port,
            o = other.port,
            l = logs.display()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    // Traffic for the logs, once the tailer is watching.
    std::thread::sleep(Duration::from_secs(1));
    for path in ["/", "/", "/index.html", "/missing"] {
        let out = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-A", "it-test/1.0"])
            .arg(format!("http://127.0.0.1:{}{path}", ng.port))
            .output()
            .expect("curl");
        assert!(out.status.success());
    }
    let is = |r: &Received, cat: &str, which: &str| {
        r.name == "nginx"
            && r.category == cat
            && r.tags.get("which").map(String::as_str) == Some(which)
    };
    dw.wait_for(
        Duration::from_secs(60),
        "status points and four log lines",
        |p| {
            p.iter().filter(|r| is(r, "metric", "good")).count() >= 2
                && p.iter().filter(|r| is(r, "logging", "good")).count() >= 5
        },
    );
    let (_, body) = http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(a.stop(), Some(0));
    let after = page_requests(ng.port);
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();

    // stub_status: the last point against the page read after the agent stopped (the page
    // counts the request that reads it: one more, two if a last collection went unsent).
    let status: Vec<&Received> = points.iter().filter(|r| is(r, "metric", "good")).collect();
    let last = status
        .iter()
        .max_by_key(|p| u(p, "connection_requests"))
        .unwrap();
    let diff = after - u(last, "connection_requests");
    assert!((1..=2).contains(&diff), "page {after}, point {last:?}");
    assert_eq!(u(last, "connection_accepts"), u(last, "connection_handled"));
    assert_eq!(u(last, "connection_dropped"), 0);
    assert!(
        u(last, "connection_active") >= 1,
        "the agent's own connection"
    );
    assert_eq!(
        last.tags.get("nginx_server").map(String::as_str),
        Some("http://127.0.0.1")
    );
    assert_eq!(last.tags.get("nginx_port"), Some(&ng.port.to_string()));
    let spec = datakit::inputs::find("nginx").unwrap().spec;
    let fields: Vec<&str> = spec.measurements[0].fields.iter().map(|f| f.name).collect();
    let mut got: Vec<&str> = last.fields.keys().map(String::as_str).collect();
    got.sort();
    let mut want = fields.clone();
    want.sort();
    assert_eq!(got, want);

    // The logs, cut by nginx.p.
    let lines: Vec<&Received> = points.iter().filter(|r| is(r, "logging", "good")).collect();
    let status_of = |code: i64| {
        lines
            .iter()
            .find(|r| r.fields.get("status_code") == Some(&Val::I(code)))
            .and_then(|r| text(r, "status"))
    };
    assert_eq!(status_of(200).as_deref(), Some("OK"));
    assert_eq!(status_of(404).as_deref(), Some("warning"));
    let err = lines
        .iter()
        .find(|r| {
            r.fields
                .get("msg")
                .is_some_and(|m| matches!(m, Val::S(s) if s.contains("missing")))
        })
        .expect("the error log's line for /missing");
    assert_eq!(text(err, "status").as_deref(), Some("error"));
    assert!(
        lines
            .iter()
            .all(|r| r.tags.get("service").map(String::as_str) == Some("nginx"))
    );

    // Up, and the failures.
    let up = |which: &str| {
        points
            .iter()
            .filter(|r| {
                r.name == "collector" && r.tags.get("which").map(String::as_str) == Some(which)
            })
            .filter_map(|r| r.fields.get("up").cloned())
            .collect::<Vec<_>>()
    };
    assert!(up("good").iter().all(|v| *v == Val::I(1)) && !up("good").is_empty());
    assert!(up("closed").iter().all(|v| *v == Val::I(0)) && !up("closed").is_empty());
    assert!(up("notstatus").iter().all(|v| *v == Val::I(0)));
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let messages: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "nginx")
        .filter_map(|e| e["message"].as_str())
        .collect();
    let has = |t: &str| messages.iter().any(|m| m.contains(t));
    assert!(
        has(&format!(
            "nginx http://127.0.0.1:{closed}/basic_status: request failed"
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "nginx http://127.0.0.1:{}/: not a stub_status page: line 1",
            other.port
        )),
        "{messages:#?}"
    );
}
