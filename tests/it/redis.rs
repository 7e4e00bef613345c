//! The `redis` input against a private `redis-server` (Debian's): the points against what the
//! server itself reports (read with `redis-cli`, an independent client) and against the
//! input's schema; then the failure paths (wrong password, nothing listening, a server that
//! hangs, one killed mid-run) with another instance collecting undisturbed.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::{self, free_port, http_get};
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

/// `redis-cli` against the server as `user`/`pass` (empty: no authentication).
fn cli(port: u16, auth: (&str, &str), args: &[&str]) -> String {
    let mut c = Command::new("redis-cli");
    c.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--no-auth-warning",
    ]);
    if !auth.1.is_empty() {
        c.args(["--user", auth.0, "--pass", auth.1]);
    }
    let out = c.args(args).output().expect("run redis-cli");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn cli_bg(port: u16, auth: (&str, &str), args: &[&str]) -> Child {
    let mut c = Command::new("redis-cli");
    c.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--no-auth-warning",
    ]);
    if !auth.1.is_empty() {
        c.args(["--user", auth.0, "--pass", auth.1]);
    }
    c.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run redis-cli")
}

/// `key:value` of an INFO text.
fn info_value(info: &str, key: &str) -> String {
    info.lines()
        .find_map(|l| l.trim_end().strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} not in INFO"))
        .to_string()
}

fn f(p: &Received, k: &str) -> f64 {
    match p.fields.get(k) {
        Some(Val::F(x)) => *x,
        Some(Val::I(x)) => *x as f64,
        other => panic!("{k}: {other:?} in {p:?}"),
    }
}

/// Every point of the input's measurements has the schema's tags and fields, of its types.
/// `redis_config` has a field per server setting: only the listed ones are checked there. The
/// agent's global host tags (`host`, `ip`) may be on any point.
fn check_schema(points: &[Received]) {
    let spec = datakit::inputs::find("redis").unwrap().spec;
    let mut problems = BTreeSet::new();
    for p in points {
        let Some(m) = spec.measurements.iter().find(|m| m.name == p.name) else {
            continue;
        };
        for k in p.tags.keys() {
            if !m.tags.iter().any(|t| t.name == k) && !["env", "host", "ip"].contains(&k.as_str()) {
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
                None if p.name == "redis_config" => {}
                None => {
                    problems.insert(format!("{}: field {k} not in the schema", p.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn redis_points_match_what_the_server_reports() {
    let srv = servers::redis(&[
        "--requirepass",
        "adminpw",
        "--user",
        "app",
        "on",
        ">apppw",
        "~*",
        "&*",
        "+@all",
        "--slowlog-log-slower-than",
        "0",
        "--latency-monitor-threshold",
        "1",
        "--enable-debug-command",
        "yes",
    ]);
    let auth = ("app", "apppw");
    for i in 0..50 {
        cli(srv.port, auth, &["SET", &format!("k{i}"), "v"]);
    }
    cli(srv.port, auth, &["EXPIRE", "k0", "1000"]);
    cli(srv.port, auth, &["-n", "2", "SET", "other", "v"]);
    cli(srv.port, auth, &["DEBUG", "SLEEP", "0.05"]);
    // A client blocked in BLPOP: flag `b`, sent as a `redis_client` logging point.
    let mut blocked = cli_bg(srv.port, auth, &["BLPOP", "nothing", "60"]);

    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/redis.conf",
        &format!(
            "[[inputs.redis]]\n  host = \"127.0.0.1\"\n  port = {}\n  username = \"app\"\n  password = \"apppw\"\n\
             interval = \"1s\"\n  dbs = []\n  latency_percentiles = true\n  [inputs.redis.tags]\n    env = \"test\"\n",
            srv.port
        ),
    );
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(
        Duration::from_secs(60),
        "two collections and every kind of point",
        |p| {
            let has = |n: &str| p.iter().any(|r| r.name == n);
            p.iter()
                .any(|r| r.name == "redis" && r.fields.contains_key("used_cpu_sys_percent"))
                && has("redis_slowlog")
                && has("redis_latency")
                && has("redis_client")
                && has("redis_config")
        },
    );
    let info = cli(srv.port, auth, &["INFO", "ALL"]);
    let maxclients = cli(srv.port, auth, &["CONFIG", "GET", "maxclients"]);
    assert_eq!(a.stop(), Some(0));
    let _ = blocked.kill();
    let _ = blocked.wait();
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();
    check_schema(&points);

    let server = format!("127.0.0.1:{}", srv.port);
    let redis: Vec<&Received> = points.iter().filter(|p| p.name == "redis").collect();
    for p in &redis {
        assert_eq!(p.tags.get("server"), Some(&server), "{p:?}");
        assert_eq!(p.tags.get("env").map(String::as_str), Some("test"));
    }
    // The INFO point: its tags and the fields that do not move.
    let main = redis
        .iter()
        .find(|p| p.fields.contains_key("used_memory"))
        .unwrap();
    assert_eq!(
        main.tags.get("redis_version"),
        Some(&info_value(&info, "redis_version"))
    );
    assert_eq!(main.tags.get("role").map(String::as_str), Some("master"));
    for k in ["maxclients", "total_system_memory", "arch_bits", "hz"] {
        assert_eq!(
            f(main, k),
            info_value(&info, k).parse::<f64>().unwrap(),
            "{k}"
        );
    }
    assert_eq!(main.fields.get("rdb_last_bgsave_status"), Some(&Val::I(0)));
    assert!(f(main, "info_latency_ms") >= 0.0);
    // Keyspace: both databases, with the server's counts.
    let db = |name: &str| {
        redis
            .iter()
            .rev()
            .find(|p| p.tags.get("db_name").map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("no {name} point"))
    };
    assert_eq!(f(db("db0"), "keys"), 50.0);
    assert_eq!(f(db("db0"), "expires"), 1.0);
    assert_eq!(f(db("db2"), "keys"), 1.0);
    let dbsize: f64 = cli(srv.port, auth, &["DBSIZE"]).trim().parse().unwrap();
    assert_eq!(dbsize, 50.0);
    // Command stats: SET ran 51 times before the agent started and never since.
    let set = redis
        .iter()
        .find(|p| p.tags.get("method").map(String::as_str) == Some("set"))
        .unwrap();
    let calls = info_value(&info, "cmdstat_set");
    assert!(calls.starts_with("calls=51,"), "{calls}");
    assert_eq!(f(set, "calls"), 51.0);
    // Latency percentiles of INFO (Redis 7).
    assert!(redis.iter().any(|p| {
        p.tags.get("command_type").map(String::as_str) == Some("set")
            && p.tags.get("quantile").map(String::as_str) == Some("0.99")
    }));
    // Clients: the blocked one is counted and logged.
    let stat = redis
        .iter()
        .find(|p| p.fields.contains_key("flag_blocked_on_command"))
        .unwrap();
    assert_eq!(stat.fields.get("flag_blocked_on_command"), Some(&Val::I(1)));
    let client = points.iter().find(|p| p.name == "redis_client").unwrap();
    assert_eq!(client.fields.get("cmd"), Some(&Val::S("blpop".into())));
    assert_eq!(
        client.fields.get("status"),
        Some(&Val::S("critical".into()))
    );
    assert_eq!(client.category, "logging");
    // The slow log: the commands run while the agent was up (the threshold is 0), each once.
    let slow: Vec<&Received> = points
        .iter()
        .filter(|p| p.name == "redis_slowlog")
        .collect();
    let ids: Vec<i64> = slow
        .iter()
        .map(|p| p.fields["slowlog_id"].as_i64().unwrap())
        .collect();
    let unique: BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "an entry sent twice: {ids:?}");
    assert!(
        slow.iter()
            .any(|p| p.fields.get("command") == Some(&Val::S("INFO ALL".into()))),
        "the agent's own INFO is in the slow log"
    );
    // The latency event of DEBUG SLEEP 0.05.
    let lat = points.iter().find(|p| p.name == "redis_latency").unwrap();
    assert_eq!(
        lat.fields.get("event_name"),
        Some(&Val::S("command".into()))
    );
    assert!(f(lat, "max_cost_time") >= 50.0, "{lat:?}");
    // CONFIG GET *: the server's value, the password masked, once (hourly).
    let conf: Vec<&Received> = points
        .iter()
        .filter(|p| p.name == "redis_config" && !p.tags.contains_key("class"))
        .collect();
    assert_eq!(conf.len(), 1);
    let want: f64 = maxclients.lines().nth(1).unwrap().parse().unwrap();
    assert_eq!(f(conf[0], "maxclients"), want);
    assert_eq!(
        conf[0].fields.get("requirepass"),
        Some(&Val::S("******".into()))
    );
    assert!(points.iter().any(|p| {
        p.name == "redis_config" && p.tags.get("class").map(String::as_str) == Some("pubsub.hard")
    }));
    // Up.
    let ups: Vec<&Received> = points.iter().filter(|p| p.name == "collector").collect();
    assert!(ups.len() >= 2);
    assert!(ups.iter().all(|p| p.fields.get("up") == Some(&Val::I(1))
        && p.tags.get("instance") == Some(&server)
        && p.tags.get("job").map(String::as_str) == Some("redis")));
    let log = a.log();
    assert!(!log.contains("apppw"), "the password is never logged");
}

#[test]
fn redis_failures_are_clear_counted_and_leave_other_instances_alone() {
    let sock_dir = tempfile::tempdir().unwrap();
    let sock = sock_dir.path().join("redis.sock");
    let good = servers::redis(&["--unixsocket", sock.to_str().unwrap()]);
    let locked = servers::redis(&["--requirepass", "rightpw"]);
    let mut doomed = servers::redis(&["--enable-debug-command", "yes"]);
    let closed = free_port();
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let instance = |port: u16, extra: &str, which: &str| {
        format!(
            "[[inputs.redis]]\n  host = \"127.0.0.1\"\n  port = {port}\n  interval = \"1s\"\n  connect_timeout = \"1s\"\n{extra}  [inputs.redis.tags]\n    which = \"{which}\"\n"
        )
    };
    w.write(
        "conf.d/redis.conf",
        &[
            instance(good.port, "", "good"),
            instance(
                1,
                &format!("  unix_socket_path = \"{}\"\n", sock.display()),
                "socket",
            ),
            instance(locked.port, "  password = \"wrongpw\"\n", "locked"),
            instance(closed, "", "closed"),
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
    dw.wait_for(Duration::from_secs(60), "first collections", |p| {
        up_of(p, "good", 1)
            && up_of(p, "socket", 1)
            && up_of(p, "locked", 0)
            && up_of(p, "closed", 0)
            && up_of(p, "doomed", 1)
    });

    // The doomed server hangs for 3 s (DEBUG SLEEP blocks it), then is killed.
    let mut sleeper = cli_bg(doomed.port, ("", ""), &["DEBUG", "SLEEP", "3"]);
    let hang_started = datakit::clock::now_ns();
    std::thread::sleep(Duration::from_secs(3));
    let _ = sleeper.wait();
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
    assert!(!body.contains("wrongpw"), "the password is never shown");
    let redis = &v["inputs"]["redis"];
    assert!(redis["errors"].as_u64().unwrap() >= 4, "{redis}");
    assert_eq!(redis["state"], "running", "{redis}");
    let messages: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "redis")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let has = |text: &str| messages.iter().any(|m| m.contains(text));
    let locked_target = format!(
        "redis://:***@127.0.0.1:{}: AUTH: the server answered `WRONGPASS",
        locked.port
    );
    assert!(has(&locked_target), "{messages:#?}");
    assert!(
        has(&format!("connecting to redis://127.0.0.1:{closed}: ")),
        "{messages:#?}"
    );
    assert!(
        has(&format!("redis://127.0.0.1:{}: ", doomed.port)),
        "{messages:#?}"
    );
    let log = a.log();
    assert!(
        log.contains(&format!(
            "redis://127.0.0.1:{}: INFO: no answer within 1s",
            doomed.port
        )),
        "the hang is a timeout: {log}"
    );
    assert!(!log.contains("wrongpw"));
    assert_eq!(a.stop(), Some(0));

    // The good instance went on collecting every second while the other one hung.
    let points = dw.points();
    let good_times: Vec<i64> = points
        .iter()
        .filter(|p| {
            p.name == "collector"
                && p.tags.get("which").map(String::as_str) == Some("good")
                && p.fields.get("up") == Some(&Val::I(1))
        })
        .map(|p| p.time)
        .collect();
    let during = good_times
        .iter()
        .filter(|t| **t > hang_started && **t < killed_at)
        .count();
    assert!(during >= 2, "good collections during the hang: {during}");
    // Over the unix socket: the same points, `server` the socket's path.
    assert!(points.iter().any(|p| {
        p.name == "redis"
            && p.tags.get("which").map(String::as_str) == Some("socket")
            && p.tags.get("server").map(String::as_str) == sock.to_str()
            && p.fields.contains_key("used_memory")
    }));
    // A failed collection sends nothing but its up-metric.
    assert!(!points.iter().any(|p| {
        p.name == "redis" && p.tags.get("which").map(String::as_str) == Some("locked")
    }));
}
