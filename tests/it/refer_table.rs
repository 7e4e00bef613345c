//! Reference tables end to end: a real nginx serves the tables' JSON at
//! `[pipeline] refer_table_url`; a logging script enriches points with `query_refer_table()`
//! and `mquery_refer_table()`; a new document takes over while the agent runs; a bad document
//! or an unreachable source keeps the tables in place (counted, shown in monitor); a restart
//! while the source is down takes the last tables from the agent's saved copy.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{http_get, http_post, nginx};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_refer";

const SCRIPT: &str = r#"grok(_, "%{INT:uid:int} %{WORD:org}")
found = query_refer_table("users", "id", uid)
add_key(user_found, found)
mquery_refer_table("orgs", ["org", "active"], [org, true])
"#;

fn tables(user2: &str) -> String {
    format!(
        r#"[
  {{"table_name": "users", "column_name": ["id", "user", "vip"], "column_type": ["int", "string", "bool"],
    "row_data": [[1, "ann", true], [2, "{user2}", false]]}},
  {{"table_name": "orgs", "column_name": ["org", "active", "team", "budget"],
    "column_type": ["string", "bool", "string", "float"],
    "row_data": [["acme", false, "old", 1], ["acme", true, "core", 2.5]]}}
]"#
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
        if cond(&m["refer_tables"]) {
            return m;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}: {}",
            m["refer_tables"]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn write(a: &Agent, n: u32, line: &str) {
    let body = format!("refer,n={n} message=\"{line}\"\n");
    let (status, text) =
        http_post(&format!("{}/v1/write/logging?source=refer", a.api()), &body).unwrap();
    assert_eq!(status, 200, "{text}");
}

/// The delivered point tagged `n`.
fn point(dw: &FakeDataway, n: u32) -> Received {
    let want = n.to_string();
    dw.wait_for(Duration::from_secs(20), &format!("point {n}"), |p| {
        p.iter().any(|p| p.tags.get("n") == Some(&want))
    });
    dw.points_named("refer")
        .into_iter()
        .find(|p| p.tags.get("n") == Some(&want))
        .unwrap()
}

fn field(p: &Received, k: &str) -> Option<Val> {
    p.fields.get(k).cloned()
}

fn s(v: &str) -> Option<Val> {
    Some(Val::S(v.into()))
}

#[test]
fn scripts_enrich_points_from_tables_kept_across_failures_and_restarts() {
    let web = nginx();
    let doc = web.dir().join("html/tables.json");
    let publish = |text: &str| {
        use std::os::unix::fs::PermissionsExt;
        let tmp = web.dir().join("html/.tables.tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::rename(&tmp, &doc).unwrap();
    };
    publish(&tables("bob"));
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    let url = format!("{}/tables.json", web.base());
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n\
             [pipeline]\n  refer_table_url = \"{url}\"\n  refer_table_pull_interval = \"1s\"\n",
            dw.url()
        ),
    );
    w.write("pipeline/logging/refer.p", SCRIPT);
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let m = wait_monitor(&a, "the tables", |r| {
        r["tables"].as_array().is_some_and(|t| t.len() == 2)
    });
    let r = &m["refer_tables"];
    assert_eq!(r["url"], url.as_str());
    assert_eq!(r["tables"][0]["name"], "users");
    assert_eq!(r["tables"][0]["rows"], 2);
    assert_eq!(r["tables"][1]["columns"], 4);

    write(&a, 1, "2 acme");
    let p = point(&dw, 1);
    assert_eq!(field(&p, "user"), s("bob"), "{p:?}");
    assert_eq!(field(&p, "vip"), Some(Val::B(false)));
    assert_eq!(field(&p, "id"), Some(Val::I(2)));
    assert_eq!(field(&p, "user_found"), Some(Val::B(true)));
    // mquery: the row with both values (not the first `acme` row).
    assert_eq!(field(&p, "team"), s("core"));
    assert_eq!(field(&p, "budget"), Some(Val::F(2.5)));
    // No row: nothing added, `false` returned.
    write(&a, 2, "7 nowhere");
    let p = point(&dw, 2);
    assert_eq!(field(&p, "user_found"), Some(Val::B(false)));
    assert!(!p.fields.contains_key("user") && !p.fields.contains_key("team"));

    // A new document takes over while the agent runs.
    publish(&tables("bobby"));
    wait_monitor(&a, "the new tables", |_| {
        write(&a, 3, "2 acme");
        std::thread::sleep(Duration::from_millis(300));
        dw.points_named("refer").iter().any(|p| {
            p.tags.get("n").map(String::as_str) == Some("3") && field(p, "user") == s("bobby")
        })
    });

    // A bad document and a missing one: counted, the error shown, the tables kept.
    let failures = |m: &Value| m["refer_tables"]["failures"].as_u64().unwrap_or(0);
    let before = failures(&monitor(&a));
    publish(
        r#"[{"table_name": "users", "column_name": ["id"], "column_type": ["int"], "row_data": [["x"]]}]"#,
    );
    let m = wait_monitor(&a, "the bad document's error", |r| {
        r["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(r#"row #0, column "id": "x" is not a int"#))
    });
    assert!(failures(&m) > before);
    std::fs::remove_file(&doc).unwrap();
    wait_monitor(&a, "the 404", |r| {
        r["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("HTTP 404"))
    });
    write(&a, 4, "1 acme");
    let p = point(&dw, 4);
    assert_eq!(field(&p, "user"), s("ann"));
    let (status, text) =
        crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(status, 200);
    assert!(text.contains("\"from_cache\":false"), "{text}");

    // A restart while the source is down: the tables from the saved copy.
    a.stop();
    drop(web);
    let a = Agent::start(&w, &[]);
    a.wait_api();
    let m = wait_monitor(&a, "a failed load after the restart", |r| {
        r["failures"].as_u64() > Some(0)
    });
    assert_eq!(
        m["refer_tables"]["from_cache"], true,
        "{}",
        m["refer_tables"]
    );
    write(&a, 5, "2 acme");
    let p = point(&dw, 5);
    assert_eq!(field(&p, "user"), s("bobby"));
    assert_eq!(field(&p, "team"), s("core"));
    let out = w
        .cmd(&[
            "monitor",
            "--once",
            "-M",
            "pipeline",
            "--to",
            &format!("127.0.0.1:{}", a.port),
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Reference tables") && text.contains("from the last run's copy"),
        "{text}"
    );
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
}

#[test]
fn a_file_source_is_read_and_a_bad_url_is_refused_by_check_config() {
    let w = Workdir::new();
    let path = w.write("tables.json", &tables("bob"));
    let dw = FakeDataway::start(TOKEN);
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n\
             [pipeline]\n  refer_table_url = \"file://{}\"\n",
            dw.url(),
            path.display()
        ),
    );
    w.write("pipeline/logging/refer.p", SCRIPT);
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    wait_monitor(&a, "the tables", |r| {
        r["tables"].as_array().is_some_and(|t| t.len() == 2)
    });
    write(&a, 1, "1 acme");
    assert_eq!(field(&point(&dw, 1), "user"), s("ann"));
    a.stop();

    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        "[pipeline]\n  refer_table_url = \"ftp://host/tables.json\"\n",
    );
    let out = w.cmd(&["check-config"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("pipeline.refer_table_url") && text.contains("ftp://host/tables.json"),
        "{text}"
    );
}
