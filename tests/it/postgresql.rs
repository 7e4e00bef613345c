//! The `postgresql` input against a private PostgreSQL cluster (Debian's): the points against
//! what the server itself reports (read with `psql`, an independent client) and against the
//! input's schema, over TCP with SCRAM-SHA-256, MD5 and cleartext passwords, over TLS and over
//! the unix socket, with the server's log through `postgresql.p`; then the failure paths
//! (wrong password, nothing listening, TLS refused, a query that hangs, a server killed
//! mid-run) with another instance collecting undisturbed.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{self, PG_PASSWORD, free_port, http_get};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn main_conf(dw: &FakeDataway) -> String {
    format!(
        "default_enabled_inputs = []\nprotect_mode = false\n\
         [dataway]\n  urls = [\"{}\"]\n\
         [io]\n  flush_interval = \"100ms\"\n  max_cache_count = 5000\n",
        dw.url()
    )
}

fn f(p: &Received, k: &str) -> f64 {
    match p.fields.get(k) {
        Some(Val::F(x)) => *x,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

fn which<'a>(points: &'a [Received], name: &str, which: &str) -> Vec<&'a Received> {
    points
        .iter()
        .filter(|p| p.name == name && p.tags.get("which").map(String::as_str) == Some(which))
        .collect()
}

/// Every point of the input's measurements has the schema's tags and fields, of its types
/// (custom-query points and tags of the test's own are left aside).
fn check_schema(points: &[Received]) {
    let spec = datakit::inputs::find("postgresql").unwrap().spec;
    let mut problems = BTreeSet::new();
    for p in points {
        let Some(m) = spec
            .measurements
            .iter()
            .find(|m| m.name == p.name && m.category.as_str() == p.category)
        else {
            continue;
        };
        for k in p.tags.keys() {
            if !m.tags.iter().any(|t| t.name == k)
                && !["host", "ip", "which", "source", "service"].contains(&k.as_str())
            {
                problems.insert(format!("{}: tag {k} not in the schema", p.name));
            }
        }
        for (k, v) in &p.fields {
            match m.fields.iter().find(|f| f.name == k) {
                Some(fs) => {
                    let ok = matches!(
                        (fs.kind.as_str(), v),
                        ("float", Val::F(_))
                            | ("int", Val::I(_))
                            | ("string", Val::S(_))
                            | ("bool", Val::B(_))
                    );
                    if !ok {
                        problems.insert(format!("{}: {k} is {v:?}, schema {:?}", p.name, fs.kind));
                    }
                }
                None if p.category == "logging" => {}
                None => {
                    problems.insert(format!("{}: field {k} not in the schema", p.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

fn instance(address: &str, which: &str, extra: &str) -> String {
    format!(
        "[[inputs.postgresql]]\n  address = \"{address}\"\n  interval = \"1s\"\n  timeout = \"2s\"\n{extra}  [inputs.postgresql.tags]\n    which = \"{which}\"\n"
    )
}

#[test]
fn postgresql_points_match_what_the_server_reports() {
    let pg = servers::postgres(true);
    pg.psql("postgres", "CREATE DATABASE shop");
    pg.psql(
        "postgres",
        &format!(
            "CREATE ROLE datakit LOGIN PASSWORD '{PG_PASSWORD}'; GRANT pg_monitor TO datakit;\
             CREATE ROLE tlsonly LOGIN PASSWORD 'tlspw'; GRANT pg_monitor TO tlsonly;\
             CREATE ROLE clearuser LOGIN PASSWORD 'clearpw';\
             SET password_encryption = 'md5'; CREATE ROLE md5user LOGIN PASSWORD 'md5pw';"
        ),
    );
    pg.psql(
        "shop",
        "CREATE TABLE orders (id int PRIMARY KEY, item text);\
         INSERT INTO orders SELECT g, 'item' || g FROM generate_series(1, 250) g;\
         DELETE FROM orders WHERE id <= 10;\
         GRANT SELECT ON orders TO datakit; ANALYZE orders; SELECT count(*) FROM orders WHERE id = 5",
    );
    // A lock held on the table for the whole run (postgresql_lock).
    let mut locker = pg.psql_bg(
        "shop",
        "BEGIN; LOCK TABLE orders IN SHARE MODE; SELECT pg_sleep(120);",
    );

    let port = pg.port;
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let relations = "  [[inputs.postgresql.relations]]\n    relation_name = \"orders\"\n    databases = [\"shop\"]\n    schemas = [\"public\"]\n";
    let custom = "  [[inputs.postgresql.custom_queries]]\n    sql = \"SELECT datname, numbackends, xact_commit FROM pg_stat_database WHERE datname = 'shop'\"\n    metric = \"pg_custom\"\n    tags = [\"datname\"]\n    fields = [\"numbackends\", \"xact_commit\"]\n";
    let log = format!(
        "  [inputs.postgresql.log]\n    files = [\"{}\"]\n",
        pg.log_path().display()
    );
    let conf = [
        instance(
            &format!("postgres://datakit:{PG_PASSWORD}@127.0.0.1:{port}/postgres?sslmode=disable"),
            "main",
            &format!("{relations}{custom}{log}"),
        ),
        instance(
            &format!(
                "postgres://tlsonly:tlspw@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={}",
                pg.cert_path().display()
            ),
            "tls",
            "",
        ),
        instance(
            &format!("postgres://md5user:md5pw@127.0.0.1:{port}/postgres?sslmode=disable"),
            "md5",
            "",
        ),
        instance(
            &format!("host=127.0.0.1 port={port} user=clearuser password=clearpw dbname=postgres sslmode=disable"),
            "clear",
            "",
        ),
        instance(
            &format!(
                "host={} port={port} user=postgres dbname=shop",
                pg.socket_dir().display()
            ),
            "socket",
            "",
        ),
    ]
    .concat();
    w.write("conf.d/postgresql.conf", &conf);
    let mut a = Agent::start(&w, &[]);
    // A line the server logs as an error, with the original's prefix fields, once the
    // tailer is watching.
    a.wait_api();
    std::thread::sleep(Duration::from_secs(1));
    let bad = std::process::Command::new(pg.psql_path())
        .args(["-X", "-q", "-h", "127.0.0.1", "-p", &pg.port.to_string()])
        .args([
            "-U",
            "datakit",
            "-d",
            "shop",
            "-c",
            "SELECT * FROM no_such_table",
        ])
        .env("PGPASSWORD", PG_PASSWORD)
        .env("PGAPPNAME", "shopapp")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    // What is still missing, named on a timeout.
    let missing = |p: &[Received]| -> Vec<String> {
        let mut m = Vec::new();
        for w in ["main", "tls", "md5", "clear", "socket"] {
            if !p.iter().any(|r| {
                r.name == "collector"
                    && r.tags.get("which").map(String::as_str) == Some(w)
                    && r.fields.get("up") == Some(&Val::I(1))
            }) {
                m.push(format!("up of {w}"));
            }
        }
        for n in [
            "postgresql_lock",
            "postgresql_stat",
            "postgresql_index",
            "postgresql_size",
            "postgresql_statio",
            "pg_custom",
            "postgresql_bgwriter",
            "postgresql_slru",
        ] {
            if !p.iter().any(|r| r.name == n) {
                m.push(n.to_string());
            }
        }
        if !p.iter().any(|r| {
            r.category == "logging"
                && r.fields
                    .get("message")
                    .is_some_and(|m| format!("{m:?}").contains("no_such_table"))
        }) {
            m.push("the log line".into());
        }
        if !p.iter().any(|r| {
            r.name == "postgresql_stat" && r.fields.get("n_tup_ins") == Some(&Val::F(250.0))
        }) {
            m.push("orders with 250 rows inserted".into());
        }
        if !p.iter().any(|r| {
            r.name == "postgresql"
                && r.category == "metric"
                && r.tags.get("db").map(String::as_str) == Some("shop")
        }) {
            m.push("the shop database".into());
        }
        m
    };
    let t0 = std::time::Instant::now();
    loop {
        let m = missing(&dw.points());
        if m.is_empty() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "missing after 90 s: {m:?}\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stop(), Some(0));
    let _ = locker.kill();
    let _ = locker.wait();
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();
    check_schema(&points);
    let server = format!("127.0.0.1:{port}");

    // Per database: `shop` and not `postgres` or the templates; the server's own counts.
    let dbs: BTreeSet<&str> = which(&points, "postgresql", "main")
        .iter()
        .filter(|p| p.category == "metric")
        .filter_map(|p| p.tags.get("db").map(String::as_str))
        .collect();
    assert_eq!(dbs, BTreeSet::from(["shop"]));
    let shop = which(&points, "postgresql", "main")
        .into_iter()
        .rev()
        .find(|p| p.category == "metric")
        .unwrap();
    assert_eq!(shop.tags.get("server"), Some(&server));
    let stat = |col: &str| -> f64 {
        pg.psql(
            "postgres",
            &format!("SELECT {col} FROM pg_stat_database WHERE datname = 'shop'"),
        )
        .parse()
        .unwrap()
    };
    for k in ["tup_inserted", "tup_deleted", "deadlocks", "temp_files"] {
        assert_eq!(f(shop, k), stat(k), "{k}");
    }
    // The table's rows and those of the catalogs (CREATE TABLE, ANALYZE).
    assert!(f(shop, "tup_inserted") >= 250.0);
    let size: f64 = pg
        .psql("postgres", "SELECT pg_database_size('shop')")
        .parse()
        .unwrap();
    assert_eq!(f(shop, "database_size"), size);
    assert!(f(shop, "wraparound") > 2.0e9);
    assert!(f(shop, "sessions") >= 1.0, "PostgreSQL 14+ session fields");

    // Server-wide sets.
    let conn = which(&points, "postgresql_connection", "main")[0];
    let max: f64 = pg.psql("postgres", "SHOW max_connections").parse().unwrap();
    assert_eq!(f(conn, "max_connections"), max);
    assert!(f(conn, "percent_usage_connections") > 0.0);
    let bgw = which(&points, "postgresql_bgwriter", "main");
    let timed: f64 = pg
        .psql("postgres", "SELECT checkpoints_timed FROM pg_stat_bgwriter")
        .parse()
        .unwrap();
    assert_eq!(f(bgw.last().unwrap(), "checkpoints_timed"), timed);
    let slru: BTreeSet<&str> = which(&points, "postgresql_slru", "main")
        .iter()
        .filter_map(|p| p.tags.get("name").map(String::as_str))
        .collect();
    let want = pg.psql("postgres", "SELECT string_agg(name, ',') FROM pg_stat_slru");
    assert_eq!(slru, want.split(',').collect::<BTreeSet<_>>());
    let conflict = which(&points, "postgresql_conflict", "main");
    assert!(
        conflict
            .iter()
            .any(|p| p.tags.get("db").map(String::as_str) == Some("shop"))
    );
    assert_eq!(
        f(
            which(&points, "postgresql_archiver", "main")[0],
            "archived_count"
        ),
        0.0
    );
    // A primary sends no replication point.
    assert!(which(&points, "postgresql_replication", "main").is_empty());

    // Relations: `orders` in `shop`.
    let st = which(&points, "postgresql_stat", "main");
    let st = st.last().unwrap();
    assert_eq!(st.tags.get("table").map(String::as_str), Some("orders"));
    assert_eq!(st.tags.get("schema").map(String::as_str), Some("public"));
    assert_eq!(st.tags.get("db").map(String::as_str), Some("shop"));
    assert_eq!(f(st, "n_tup_ins"), 250.0);
    assert_eq!(f(st, "n_tup_del"), 10.0);
    assert_eq!(f(st, "n_live_tup"), 240.0);
    let idx = which(&points, "postgresql_index", "main");
    assert_eq!(
        idx[0].tags.get("pg_index").map(String::as_str),
        Some("orders_pkey")
    );
    // The main fork, the indexes and TOAST (not the free space and visibility maps).
    let size = which(&points, "postgresql_size", "main");
    let total: f64 = pg
        .psql(
            "shop",
            "SELECT pg_relation_size('orders') + pg_indexes_size('orders') \
             + pg_relation_size((SELECT reltoastrelid FROM pg_class WHERE relname = 'orders'))",
        )
        .parse()
        .unwrap();
    assert_eq!(f(size.last().unwrap(), "total_size"), total);
    assert!(!which(&points, "postgresql_statio", "main").is_empty());
    let lock = which(&points, "postgresql_lock", "main");
    assert!(
        lock.iter().any(
            |p| p.tags.get("mode").map(String::as_str) == Some("ShareLock")
                && p.tags.get("locktype").map(String::as_str) == Some("relation")
                && p.tags.get("table").map(String::as_str) == Some("orders")
                && f(p, "lock_count") == 1.0
        ),
        "{lock:?}"
    );

    // The custom query: its tag and fields.
    let custom = which(&points, "pg_custom", "main");
    assert_eq!(
        custom[0].tags.get("datname").map(String::as_str),
        Some("shop")
    );
    assert_eq!(custom[0].tags.get("server"), Some(&server));
    assert!(f(custom[0], "xact_commit") > 0.0);

    // The other ways in: TLS (the role may connect over TLS only), MD5, cleartext, socket.
    for w in ["tls", "md5", "clear", "socket"] {
        assert!(
            !which(&points, "postgresql_bgwriter", w).is_empty(),
            "{w}: no points"
        );
    }
    let sock = which(&points, "postgresql_bgwriter", "socket");
    assert_eq!(
        sock[0].tags.get("server"),
        Some(&format!("{}:{port}", pg.socket_dir().display()))
    );
    let tls_log = std::fs::read_to_string(pg.log_path()).unwrap();
    assert!(!tls_log.contains("tlsonly\" rejected"), "TLS was used");

    // The log through postgresql.p: the original's fields.
    let line = points
        .iter()
        .find(|p| {
            p.category == "logging"
                && p.fields
                    .get("message")
                    .is_some_and(|m| format!("{m:?}").contains("no_such_table"))
                && p.tags.get("status").map(String::as_str) == Some("error")
        })
        .expect("the error line");
    assert_eq!(line.name, "postgresql");
    assert_eq!(line.fields.get("db_name"), Some(&Val::S("shop".into())));
    assert_eq!(line.fields.get("user"), Some(&Val::S("datakit".into())));
    assert_eq!(
        line.fields.get("application_name"),
        Some(&Val::S("shopapp".into()))
    );
    assert_eq!(
        line.fields.get("remote_host"),
        Some(&Val::S("127.0.0.1".into()))
    );

    // Up.
    let ups = which(&points, "collector", "main");
    assert!(ups.iter().all(|p| p.fields.get("up") == Some(&Val::I(1))
        && p.tags.get("instance") == Some(&server)
        && p.tags.get("job").map(String::as_str) == Some("postgresql")));
    assert!(
        !a.log().contains(PG_PASSWORD),
        "the password is never logged"
    );
}

#[test]
fn postgresql_failures_are_clear_counted_and_leave_other_instances_alone() {
    let good = servers::postgres(false);
    let mut doomed = servers::postgres(false);
    for pg in [&good, &doomed] {
        pg.psql(
            "postgres",
            &format!(
                "CREATE ROLE datakit LOGIN PASSWORD '{PG_PASSWORD}'; GRANT pg_monitor TO datakit"
            ),
        );
    }
    let closed = free_port();
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let url = |port: u16, pw: &str, mode: &str| {
        format!("postgres://datakit:{pw}@127.0.0.1:{port}/postgres?sslmode={mode}")
    };
    let hang = "  [[inputs.postgresql.custom_queries]]\n    sql = \"SELECT pg_sleep(4) AS s, 1 AS one\"\n    metric = \"pg_hang\"\n    fields = [\"one\"]\n    interval = \"5s\"\n";
    w.write(
        "conf.d/postgresql.conf",
        &[
            instance(&url(good.port, PG_PASSWORD, "disable"), "good", ""),
            instance(&url(good.port, "wrongpw", "disable"), "wrongpw", ""),
            instance(&url(closed, PG_PASSWORD, "disable"), "closed", ""),
            instance(&url(good.port, PG_PASSWORD, "require"), "notls", ""),
            instance(&url(good.port, PG_PASSWORD, "disable"), "hang", hang),
            instance(&url(doomed.port, PG_PASSWORD, "disable"), "doomed", ""),
        ]
        .concat(),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let up_of = |p: &[Received], which: &str, up: i64| {
        p.iter().any(|r| {
            r.name == "collector"
                && r.tags.get("which").map(String::as_str) == Some(which)
                && r.fields.get("up") == Some(&Val::I(up))
        })
    };
    dw.wait_for(Duration::from_secs(60), "first collections", |p| {
        up_of(p, "good", 1)
            && up_of(p, "wrongpw", 0)
            && up_of(p, "closed", 0)
            && up_of(p, "notls", 0)
            && up_of(p, "doomed", 1)
    });
    // The hanging query times out (2 s) while the good instance collects every second.
    let hang_started = datakit::clock::now_ns();
    std::thread::sleep(Duration::from_secs(6));
    doomed.kill();
    let killed_at = datakit::clock::now_ns();
    dw.wait_for(
        Duration::from_secs(30),
        "the killed server seen down",
        |p| {
            p.iter().any(|r| {
                r.name == "collector"
                    && r.tags.get("which").map(String::as_str) == Some("doomed")
                    && r.fields.get("up") == Some(&Val::I(0))
                    && r.time > killed_at
            })
        },
    );

    let (status, body) = http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(status, 200);
    assert!(!body.contains("wrongpw"), "the password is never shown");
    assert!(!body.contains(PG_PASSWORD), "the password is never shown");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let input = &v["inputs"]["postgresql"];
    assert!(input["errors"].as_u64().unwrap() >= 5, "{input}");
    assert_eq!(input["state"], "running", "{input}");
    let messages: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "postgresql")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let has = |text: &str| messages.iter().any(|m| m.contains(text));
    assert!(
        has(&format!(
            "postgresql://datakit:***@127.0.0.1:{}/postgres: authentication: the server answered FATAL 28P01: password authentication failed for user \"datakit\"",
            good.port
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "connecting to postgresql://datakit:***@127.0.0.1:{closed}/postgres: "
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "postgresql://datakit:***@127.0.0.1:{}/postgres: TLS: the server does not accept TLS connections",
            good.port
        )),
        "{messages:#?}"
    );
    let log = a.log();
    assert!(
        log.contains(&format!(
            "custom query `pg_hang`: postgresql://datakit:***@127.0.0.1:{}/postgres: custom query: no answer within 2s",
            good.port
        )),
        "the hang is a timeout: {log}"
    );
    assert!(
        log.contains(&format!(
            "postgresql://datakit:***@127.0.0.1:{}/postgres",
            doomed.port
        )),
        "{log}"
    );
    assert!(!log.contains("wrongpw") && !log.contains(PG_PASSWORD));
    assert_eq!(a.stop(), Some(0));

    let points = dw.points();
    // The good instance went on collecting every second while the other one hung.
    let during = which(&points, "collector", "good")
        .iter()
        .filter(|p| p.fields.get("up") == Some(&Val::I(1)))
        .filter(|p| p.time > hang_started && p.time < killed_at)
        .count();
    assert!(during >= 3, "good collections during the hang: {during}");
    // The hanging instance's metric sets still came (its custom query alone timed out).
    assert!(!which(&points, "postgresql_bgwriter", "hang").is_empty());
    assert!(which(&points, "pg_hang", "hang").is_empty());
    // A failed collection sends nothing but its up-metric.
    for w in ["wrongpw", "closed", "notls"] {
        assert!(
            points.iter().all(
                |p| p.name == "collector" || p.tags.get("which").map(String::as_str) != Some(w)
            ),
            "{w}"
        );
    }
}
