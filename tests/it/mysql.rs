//! The `mysql` input against a private MariaDB (Debian's `mariadbd`): the points against what
//! the server itself reports (read with the `mariadb` client, an independent one) and against
//! the input's schema, the slow and error logs through `mysql.p`; then the failure paths
//! (wrong password, nothing listening, a statement that hangs, a server killed mid-run) with
//! other instances — over the unix socket and over TLS — collecting undisturbed.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{self, Server, free_port, http_get};
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

/// Users of the tests: `admin` (the `mariadb` client's), `datakit` (the input's), `tlsuser`
/// (TLS required), and a schema with a table.
const INIT: &str = "\
CREATE USER 'admin'@'localhost' IDENTIFIED BY 'adminpw';
GRANT ALL ON *.* TO 'admin'@'localhost';
CREATE USER 'datakit'@'%' IDENTIFIED BY 'dkpw';
GRANT SELECT, PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'datakit'@'%';
CREATE USER 'tlsuser'@'%' IDENTIFIED BY 'tlspw' REQUIRE SSL;
GRANT SELECT, PROCESS ON *.* TO 'tlsuser'@'%';
CREATE DATABASE shop;
CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(40)) ENGINE=InnoDB;
INSERT INTO shop.items VALUES (1, 'apple'), (2, 'pear'), (3, 'plum');
CREATE TABLE shop.notes (t TEXT) ENGINE=MyISAM;
";

/// The `mariadb` client as `admin` over the socket: the rows, tab-separated.
fn sql(srv: &Server, q: &str) -> String {
    let out = Command::new("mariadb")
        .arg(format!(
            "--socket={}",
            srv.dir().join("mysqld.sock").display()
        ))
        .args(["-uadmin", "-padminpw", "-N", "-B", "-e", q])
        .output()
        .expect("run mariadb");
    assert!(out.status.success(), "{q}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of a `SHOW ... LIKE 'name'` row.
fn show(srv: &Server, what: &str, name: &str) -> String {
    let out = sql(srv, &format!("SHOW GLOBAL {what} LIKE '{name}'"));
    out.split('\t')
        .nth(1)
        .unwrap_or_else(|| panic!("{name} not in SHOW {what}: {out}"))
        .trim()
        .to_string()
}

fn num(p: &Received, k: &str) -> f64 {
    match p.fields.get(k) {
        Some(Val::F(x)) => *x,
        Some(Val::I(x)) => *x as f64,
        Some(Val::U(x)) => *x as f64,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

/// Every point of the input's measurements has the schema's tags and fields, of its types.
/// The agent's global host tags (`host`, `ip`) and the tests' `env` and `which` may be on any
/// point.
fn check_schema(points: &[Received]) {
    let spec = datakit::inputs::find("mysql").unwrap().spec;
    let mut problems = BTreeSet::new();
    for p in points {
        let Some(m) = spec
            .measurements
            .iter()
            .find(|m| m.name == p.name && m.category.to_string() == p.category)
        else {
            continue;
        };
        for k in p.tags.keys() {
            if !m.tags.iter().any(|t| t.name == k)
                && !["env", "which", "host", "ip"].contains(&k.as_str())
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
                            | ("int", Val::I(_) | Val::U(_))
                            | ("string", Val::S(_))
                            | ("bool", Val::B(_))
                    );
                    if !ok {
                        problems.insert(format!("{}: {k} is {v:?}, schema {:?}", p.name, fs.kind));
                    }
                }
                // Log records carry what the script found besides the listed fields.
                None if p.category == "logging" && p.name == "mysql" => {}
                None => {
                    problems.insert(format!("{}: field {k} not in the schema", p.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

fn has_point(p: &[Received], name: &str, f: impl Fn(&Received) -> bool) -> bool {
    p.iter().any(|r| r.name == name && f(r))
}

#[test]
fn mysql_points_match_what_the_server_reports() {
    let logs = tempfile::tempdir().unwrap();
    let slow = logs.path().join("slow.log");
    let srv = servers::mariadb(
        INIT,
        &[
            "--slow-query-log=ON".to_string(),
            format!("--slow-query-log-file={}", slow.display()),
            "--long-query-time=0.2".to_string(),
        ],
    );
    let error_log = srv.dir().join("error.log");
    // Load: statements the status counters see, and one for the slow log.
    for i in 0..20 {
        sql(&srv, &format!("SELECT * FROM shop.items WHERE id = {i}"));
    }
    sql(&srv, "SELECT SLEEP(0.3)");

    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/mysql.conf",
        &format!(
            "[[inputs.mysql]]\n  host = \"127.0.0.1\"\n  port = {}\n  user = \"datakit\"\n  pass = \"dkpw\"\n\
             interval = \"1s\"\n  innodb = true\n  replication = true\n\
             [[inputs.mysql.custom_queries]]\n    sql = \"SELECT TABLE_SCHEMA AS table_schema, COUNT(*) AS table_count FROM information_schema.tables GROUP BY TABLE_SCHEMA\"\n\
             metric = \"mysql_custom\"\n    tags = [\"table_schema\"]\n    fields = [\"table_count\"]\n\
             [inputs.mysql.log]\n    files = [\"{}\", \"{}\"]\n\
             [inputs.mysql.tags]\n    env = \"test\"\n",
            srv.port,
            slow.display(),
            error_log.display(),
        ),
    );
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(
        Duration::from_secs(90),
        "two collections, every metric set and both logs",
        |p| {
            let has = |n: &str| p.iter().any(|r| r.name == n);
            p.iter()
                .filter(|r| r.name == "mysql" && r.category == "metric")
                .count()
                >= 2
                && has("mysql_innodb")
                && has("mysql_schema")
                && has("mysql_table_schema")
                && has("mysql_user_status")
                && has("mysql_replication")
                && has("mysql_custom")
                && has_point(p, "mysql", |r| {
                    r.category == "logging" && r.fields.contains_key("db_slow_statement")
                })
                && has_point(p, "mysql", |r| {
                    r.category == "logging"
                        && r.fields
                            .get("message")
                            .is_some_and(|m| format!("{m:?}").contains("ready for connections"))
                })
        },
    );
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();
    check_schema(&points);
    let server = format!("127.0.0.1:{}", srv.port);

    // `mysql`: variables as the server has them; counters that only grow, at least as the
    // load left them.
    let mysql: Vec<&Received> = points
        .iter()
        .filter(|p| p.name == "mysql" && p.category == "metric")
        .collect();
    let last = mysql.last().unwrap();
    assert_eq!(last.tags.get("server"), Some(&server));
    assert_eq!(last.tags.get("env").map(String::as_str), Some("test"));
    for k in [
        "max_connections",
        "table_open_cache",
        "thread_cache_size",
        "max_seeks_for_key",
        "max_write_lock_count",
    ] {
        let want: f64 = show(&srv, "VARIABLES", k).parse().unwrap();
        assert_eq!(num(last, k), want, "{k}");
    }
    let com_select: f64 = show(&srv, "STATUS", "Com_select").parse().unwrap();
    assert!(num(last, "Com_select") >= 21.0, "{last:?}");
    assert!(num(last, "Com_select") <= com_select);
    assert!(num(last, "Slow_queries") >= 1.0);
    // MyISAM's key cache: the computed fields.
    let key_buffer: f64 = show(&srv, "VARIABLES", "key_buffer_size").parse().unwrap();
    assert_eq!(num(last, "Key_buffer_size"), key_buffer);
    assert!(matches!(
        last.fields.get("Key_cache_utilization"),
        Some(Val::F(_))
    ));

    // InnoDB: the buffer pool as the status reports it (it does not move on an idle server).
    let innodb = points.iter().rfind(|p| p.name == "mysql_innodb").unwrap();
    let pages: f64 = show(&srv, "STATUS", "Innodb_buffer_pool_pages_total")
        .parse()
        .unwrap();
    assert_eq!(num(innodb, "buffer_pool_pages_total"), pages);
    let page_size: f64 = show(&srv, "STATUS", "Innodb_page_size").parse().unwrap();
    assert_eq!(num(innodb, "innodb_page_size"), page_size);
    assert_eq!(
        num(innodb, "buffer_pool_bytes_data"),
        num(innodb, "buffer_pool_pages_data") * page_size
    );
    // From SHOW ENGINE INNODB STATUS.
    assert!(num(innodb, "lsn_current") > 0.0, "{innodb:?}");
    assert!(innodb.fields.contains_key("history_list_length"));

    // Schemas and tables: as information_schema has them.
    let shop_size: f64 = sql(
        &srv,
        "SELECT IFNULL(SUM(data_length+index_length)/1024/1024,0) FROM information_schema.tables WHERE table_schema='shop'",
    )
    .trim()
    .parse()
    .unwrap();
    let schema = points
        .iter()
        .find(|p| {
            p.name == "mysql_schema"
                && p.tags.get("schema_name").map(String::as_str) == Some("shop")
                && p.fields.contains_key("schema_size")
        })
        .unwrap();
    assert!((num(schema, "schema_size") - shop_size).abs() < 1e-6);
    let items = points
        .iter()
        .rfind(|p| {
            p.name == "mysql_table_schema"
                && p.tags.get("table_name").map(String::as_str) == Some("items")
        })
        .unwrap();
    assert_eq!(
        items.tags.get("table_schema").map(String::as_str),
        Some("shop")
    );
    assert_eq!(items.tags.get("engine").map(String::as_str), Some("InnoDB"));
    assert_eq!(
        items.tags.get("table_type").map(String::as_str),
        Some("BASE TABLE")
    );
    let data_length: f64 = sql(
        &srv,
        "SELECT DATA_LENGTH FROM information_schema.tables WHERE table_schema='shop' AND table_name='items'",
    )
    .trim()
    .parse()
    .unwrap();
    assert_eq!(num(items, "data_length"), data_length);
    assert!(
        !points.iter().any(|p| p.name == "mysql_table_schema"
            && p.tags.get("table_schema").map(String::as_str) == Some("mysql")),
        "system schemas are left out"
    );

    // Users: the input's own connections are counted.
    let user = points
        .iter()
        .rfind(|p| {
            p.name == "mysql_user_status"
                && p.tags.get("user").map(String::as_str) == Some("datakit")
        })
        .unwrap();
    assert!(num(user, "total_connect") >= 1.0, "{user:?}");
    assert!(num(user, "current_connect") >= 1.0, "{user:?}");
    assert!(num(user, "bytes_received") > 0.0, "{user:?}");

    // Not a replica: only the worker-thread count.
    let rep = points
        .iter()
        .find(|p| p.name == "mysql_replication")
        .unwrap();
    assert_eq!(
        rep.fields.keys().collect::<Vec<_>>(),
        ["Replicas_connected"]
    );
    assert!(!points.iter().any(|p| p.name == "mysql_replication_log"));

    // The custom query: one point per schema, its count a float.
    let custom = points
        .iter()
        .rfind(|p| {
            p.name == "mysql_custom"
                && p.tags.get("table_schema").map(String::as_str) == Some("shop")
        })
        .unwrap();
    assert_eq!(custom.fields.get("table_count"), Some(&Val::F(2.0)));
    assert_eq!(custom.tags.get("server"), Some(&server));

    // Logs: the slow query as one record, cut by mysql.p.
    let slow_rec = points
        .iter()
        .find(|p| p.name == "mysql" && p.fields.contains_key("db_slow_statement"))
        .unwrap();
    assert_eq!(slow_rec.category, "logging");
    assert!(
        format!("{:?}", slow_rec.fields["db_slow_statement"]).contains("SLEEP(0.3)"),
        "{slow_rec:?}"
    );
    assert!(num(slow_rec, "query_time") >= 0.3, "{slow_rec:?}");
    assert_eq!(
        slow_rec.tags.get("service").map(String::as_str),
        Some("mysql")
    );
    let note = points
        .iter()
        .find(|p| {
            p.name == "mysql"
                && p.category == "logging"
                && format!("{:?}", p.fields.get("message")).contains("ready for connections")
        })
        .unwrap();
    assert_eq!(
        note.tags.get("status").map(String::as_str),
        Some("info"),
        "{note:?}"
    );

    // Up.
    let ups: Vec<&Received> = points.iter().filter(|p| p.name == "collector").collect();
    assert!(ups.len() >= 2);
    assert!(ups.iter().all(|p| p.fields.get("up") == Some(&Val::I(1))
        && p.tags.get("instance") == Some(&server)
        && p.tags.get("job").map(String::as_str) == Some("mysql")));
    assert!(!a.log().contains("dkpw"), "the password is never logged");
}

/// A CA (`ca.pem`) and a server certificate it signed for 127.0.0.1 with its key, made by
/// `openssl`: the CA file, the server's certificate and key.
fn certificate(dir: &Path) -> (String, String, String) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "req.pem",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "req.pem",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    let path = |n: &str| dir.join(n).display().to_string();
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}

#[test]
fn mysql_failures_are_clear_counted_and_leave_other_instances_alone() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = certificate(certs.path());
    let good = servers::mariadb(
        INIT,
        &[format!("--ssl-cert={cert}"), format!("--ssl-key={key}")],
    );
    let mut doomed = servers::mariadb(INIT, &[]);
    let closed = free_port();
    let sock = good.dir().join("mysqld.sock");
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let instance = |port: u16, extra: &str, which: &str| {
        let login = if extra.contains("user =") || extra.contains("pass =") {
            ""
        } else {
            "  user = \"datakit\"\n  pass = \"dkpw\"\n"
        };
        format!(
            "[[inputs.mysql]]\n  host = \"127.0.0.1\"\n  port = {port}\n{login}  interval = \"1s\"\n  connect_timeout = \"1s\"\n  innodb = false\n{extra}  [inputs.mysql.tags]\n    which = \"{which}\"\n"
        )
    };
    w.write(
        "conf.d/mysql.conf",
        &[
            instance(good.port, "", "good"),
            instance(1, &format!("  sock = \"{}\"\n", sock.display()), "socket"),
            instance(
                good.port,
                &format!(
                    "  user = \"tlsuser\"\n  pass = \"tlspw\"\n  [inputs.mysql.tls]\n    tls_ca = \"{ca}\"\n"
                ),
                "tls",
            ),
            instance(good.port, "  user = \"datakit\"\n  pass = \"wrongpw\"\n", "locked"),
            // TLS required, not configured: the server refuses the login.
            instance(good.port, "  user = \"tlsuser\"\n  pass = \"tlspw\"\n", "plain"),
            instance(closed, "", "closed"),
            instance(
                good.port,
                "  [[inputs.mysql.custom_queries]]\n    sql = \"SELECT SLEEP(3) AS s\"\n    metric = \"hang\"\n    fields = [\"s\"]\n",
                "hang",
            ),
            instance(doomed.port, "", "doomed"),
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
    let first = |p: &[Received]| {
        up_of(p, "good", 1)
            && up_of(p, "socket", 1)
            && up_of(p, "tls", 1)
            && up_of(p, "locked", 0)
            && up_of(p, "plain", 0)
            && up_of(p, "closed", 0)
            && up_of(p, "hang", 0)
            && up_of(p, "doomed", 1)
    };
    let t0 = std::time::Instant::now();
    while !first(&dw.points()) {
        if t0.elapsed() > Duration::from_secs(60) {
            let ups: BTreeSet<String> = dw
                .points()
                .iter()
                .filter(|p| p.name == "collector")
                .map(|p| format!("{:?} {:?}", p.tags.get("which"), p.fields.get("up")))
                .collect();
            panic!("first collections: {ups:#?}\n{}", a.log());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let hang_seen = datakit::clock::now_ns();
    std::thread::sleep(Duration::from_secs(3));
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
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(!body.contains("wrongpw") && !body.contains("dkpw") && !body.contains("tlspw"));
    let mysql = &v["inputs"]["mysql"];
    assert!(mysql["errors"].as_u64().unwrap() >= 5, "{mysql}");
    assert_eq!(mysql["state"], "running", "{mysql}");
    let messages: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "mysql")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let log = a.log();
    let has = |text: &str| messages.iter().any(|m| m.contains(text)) || log.contains(text);
    let p = good.port;
    assert!(
        has(&format!(
            "mysql://datakit:***@127.0.0.1:{p}: login: the server refused the login: error 1045 (28000): Access denied for user 'datakit'@'127.0.0.1' (using password: YES)"
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "mysql://tlsuser:***@127.0.0.1:{p}: login: the server refused the login: error 1045"
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "connecting to mysql://datakit:***@127.0.0.1:{closed}: "
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "mysql://datakit:***@127.0.0.1:{p}: SELECT SLEEP(3) AS s: no answer within 1s"
        )),
        "the hang is a timeout: {messages:#?}"
    );
    assert!(
        has(&format!("mysql://datakit:***@127.0.0.1:{}", doomed.port)),
        "{messages:#?}"
    );
    assert!(!log.contains("wrongpw") && !log.contains("tlspw"));
    assert_eq!(a.stop(), Some(0));

    // The good instance went on collecting every second while the other one hung.
    let points = dw.points();
    let good_times = points
        .iter()
        .filter(|p| {
            p.name == "collector"
                && p.tags.get("which").map(String::as_str) == Some("good")
                && p.fields.get("up") == Some(&Val::I(1))
                && p.time > hang_seen
                && p.time < killed_at
        })
        .count();
    assert!(
        good_times >= 2,
        "good collections during the hangs: {good_times}"
    );
    // Over the socket and over TLS: the same points.
    for which in ["socket", "tls"] {
        assert!(
            points.iter().any(|p| {
                p.name == "mysql"
                    && p.tags.get("which").map(String::as_str) == Some(which)
                    && p.fields.contains_key("Connections")
            }),
            "{which}"
        );
    }
    let socket_up = points
        .iter()
        .find(|p| {
            p.name == "collector" && p.tags.get("which").map(String::as_str) == Some("socket")
        })
        .unwrap();
    assert_eq!(
        socket_up.tags.get("instance"),
        sock.to_str().map(String::from).as_ref()
    );
}

#[test]
fn mysql_replication_of_a_replica_and_the_binary_logs_of_its_master() {
    let master = servers::mariadb(
        "CREATE USER 'repl'@'%' IDENTIFIED BY 'replpw';\n\
         GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';\n\
         CREATE USER 'datakit'@'%' IDENTIFIED BY 'dkpw';\n\
         GRANT SELECT, PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'datakit'@'%';\n\
         CREATE USER 'admin'@'localhost' IDENTIFIED BY 'adminpw';\n\
         GRANT ALL ON *.* TO 'admin'@'localhost';\n",
        &["--log-bin=binlog".to_string(), "--server-id=1".to_string()],
    );
    let replica = servers::mariadb(INIT, &["--server-id=2".to_string()]);
    // Replicate from here on (the users made at start exist on both).
    let status = sql(&master, "SHOW MASTER STATUS");
    let mut at = status.split('\t');
    let (file, pos) = (at.next().unwrap(), at.next().unwrap().trim());
    sql(
        &replica,
        &format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpw', MASTER_USE_GTID=no, MASTER_LOG_FILE='{file}', \
             MASTER_LOG_POS={pos}; START SLAVE",
            master.port
        ),
    );
    sql(&master, "CREATE DATABASE replicated");

    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let instance = |port: u16, which: &str| {
        format!(
            "[[inputs.mysql]]\n  host = \"127.0.0.1\"\n  port = {port}\n  user = \"datakit\"\n  pass = \"dkpw\"\n  interval = \"1s\"\n  replication = true\n  innodb = false\n  [inputs.mysql.tags]\n    which = \"{which}\"\n"
        )
    };
    w.write(
        "conf.d/mysql.conf",
        &[
            instance(master.port, "master"),
            instance(replica.port, "replica"),
        ]
        .concat(),
    );
    let mut a = Agent::start(&w, &[]);
    let of = |p: &Received, which: &str| p.tags.get("which").map(String::as_str) == Some(which);
    let ready = |p: &[Received]| {
        has_point(p, "mysql_replication", |r| {
            of(r, "replica")
                && r.fields.get("Slave_SQL_Running") == Some(&Val::B(true))
                && r.fields.get("Slave_IO_Running") == Some(&Val::B(true))
        }) && has_point(p, "mysql_replication_log", |r| of(r, "replica"))
            && has_point(p, "mysql", |r| {
                of(r, "master") && r.fields.contains_key("Binlog_space_usage_bytes")
            })
    };
    let t0 = std::time::Instant::now();
    while !ready(&dw.points()) {
        if t0.elapsed() > Duration::from_secs(60) {
            let seen: BTreeSet<String> = dw
                .points()
                .iter()
                .filter(|p| p.name.starts_with("mysql_repl") || p.name == "collector")
                .map(|p| format!("{} {:?} {:?}", p.name, p.tags.get("which"), p.fields))
                .collect();
            panic!(
                "the replica running and the master's binary logs: {seen:#?}\n{}\n{}",
                a.log(),
                sql(&replica, "SHOW SLAVE STATUS\\G")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(a.stop(), Some(0));
    let points = dw.points();
    check_schema(&points);
    let rep = points
        .iter()
        .rfind(|p| p.name == "mysql_replication" && of(p, "replica"))
        .unwrap();
    assert_eq!(num(rep, "Master_Server_Id"), 1.0);
    assert_eq!(num(rep, "Last_IO_Errno"), 0.0);
    assert!(rep.fields.contains_key("Exec_Master_Log_Pos"), "{rep:?}");
    let log = points
        .iter()
        .rfind(|p| p.name == "mysql_replication_log" && of(p, "replica"))
        .unwrap();
    assert_eq!(log.category, "logging");
    assert_eq!(
        log.fields.get("Master_Host"),
        Some(&Val::S("127.0.0.1".into()))
    );
    assert_eq!(log.fields.get("Master_User"), Some(&Val::S("repl".into())));
    assert_eq!(num(log, "Master_Port"), f64::from(master.port));
    // The master is not a replica: no replication log point, and its binary logs' size is
    // what SHOW BINARY LOGS sums to (nothing is written to it meanwhile).
    assert!(
        !points
            .iter()
            .any(|p| p.name == "mysql_replication_log" && of(p, "master"))
    );
    let sizes: f64 = sql(&master, "SHOW BINARY LOGS")
        .lines()
        .filter_map(|l| l.split('\t').nth(1)?.trim().parse::<f64>().ok())
        .sum();
    let binlog = points
        .iter()
        .rfind(|p| p.name == "mysql" && of(p, "master"))
        .unwrap();
    assert_eq!(num(binlog, "Binlog_space_usage_bytes"), sizes);
}
