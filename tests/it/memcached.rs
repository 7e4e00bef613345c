//! The `memcached` input against a private `memcached` (Debian's): its points against the
//! server's own `stats` (read here over a plain socket) and the schema; a server that is not
//! there, one that accepts and never answers, and one killed mid-run, beside a healthy one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
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

/// Sends `request` and reads lines up to `END` (or a one-line answer).
fn ask(port: u16, request: &str) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut r = BufReader::new(s);
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let line = line.trim_end().to_string();
        let end = line == "END" || line == "STORED" || line == "ERROR";
        out.push(line);
        if end {
            break;
        }
    }
    out
}

/// `stats [kind]` as name → value.
fn stats(port: u16, kind: &str) -> BTreeMap<String, String> {
    ask(
        port,
        &format!("stats {kind}\r\n").replace("stats \r", "stats\r"),
    )
    .iter()
    .filter_map(|l| l.strip_prefix("STAT "))
    .filter_map(|l| l.split_once(' '))
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn check_schema(points: &[Received]) {
    let spec = datakit::inputs::find("memcached").unwrap().spec;
    let mut problems = BTreeSet::new();
    for p in points {
        let Some(m) = spec.measurements.iter().find(|m| m.name == p.name) else {
            continue;
        };
        for k in p.tags.keys() {
            if !m.tags.iter().any(|t| t.name == k) && !["host", "ip", "which"].contains(&k.as_str())
            {
                problems.insert(format!("{}: tag {k}", p.name));
            }
        }
        for (k, v) in &p.fields {
            match m.fields.iter().find(|f| f.name == k) {
                Some(_) if matches!(v, Val::I(_)) => {}
                Some(_) => {
                    problems.insert(format!("{}: {k} is {v:?}", p.name));
                }
                None => {
                    problems.insert(format!("{}: field {k} not in the schema", p.name));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

fn int(p: &Received, k: &str) -> i64 {
    match p.fields.get(k) {
        Some(Val::I(v)) => *v,
        other => panic!("{k}: {other:?}"),
    }
}

#[test]
fn memcached_points_match_the_servers_stats() {
    let srv = servers::memcached();
    for i in 0..20 {
        let got = ask(srv.port, &format!("set k{i} 0 0 5\r\nhello\r\n"));
        assert_eq!(got, ["STORED"]);
    }
    ask(srv.port, "get k1 k2 nothere\r\n");
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/memcached.conf",
        &format!(
            "[[inputs.memcached]]\n  servers = [\"127.0.0.1:{}\"]\n  interval = \"1s\"\n  extra_stats = [\"slabs\", \"items\"]\n",
            srv.port
        ),
    );
    let mut a = Agent::start(&w, &[]);
    dw.wait_for(Duration::from_secs(60), "two collections", |p| {
        p.iter().filter(|r| r.name == "memcached").count() >= 2
            && p.iter().any(|r| r.name == "memcached_items")
    });
    let general = stats(srv.port, "");
    let slabs = stats(srv.port, "slabs");
    let items = stats(srv.port, "items");
    assert_eq!(a.stop(), Some(0));
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    let points = dw.points();
    check_schema(&points);
    let server = format!("127.0.0.1:{}", srv.port);
    let main = points.iter().rev().find(|p| p.name == "memcached").unwrap();
    assert_eq!(main.tags.get("server"), Some(&server));
    // What the agent's own requests do not change: the same as the server says now.
    for k in [
        "curr_items",
        "total_items",
        "get_hits",
        "get_misses",
        "cmd_set",
        "bytes",
        "limit_maxbytes",
        "threads",
    ] {
        assert_eq!(int(main, k).to_string(), general[k], "{k}");
    }
    assert_eq!(int(main, "curr_items"), 20);
    assert_eq!(int(main, "get_hits"), 2);
    assert_eq!(int(main, "get_misses"), 1);
    assert!(!main.fields.contains_key("rusage_user"), "not an integer");
    // Slabs and items, per slab class.
    let totals = points
        .iter()
        .rev()
        .find(|p| p.name == "memcached_slabs" && !p.tags.contains_key("slab_id"))
        .unwrap();
    assert_eq!(
        int(totals, "total_malloced").to_string(),
        slabs["total_malloced"]
    );
    let class: Vec<&str> = items
        .keys()
        .filter_map(|k| k.strip_prefix("items:")?.strip_suffix(":number"))
        .collect();
    assert_eq!(class.len(), 1, "{items:?}");
    let it = points
        .iter()
        .rev()
        .find(|p| {
            p.name == "memcached_items"
                && p.tags.get("slab_id").map(String::as_str) == Some(class[0])
        })
        .unwrap();
    assert_eq!(int(it, "number"), 20);
    let sl = points
        .iter()
        .rev()
        .find(|p| {
            p.name == "memcached_slabs"
                && p.tags.get("slab_id").map(String::as_str) == Some(class[0])
        })
        .unwrap();
    assert_eq!(
        int(sl, "used_chunks").to_string(),
        slabs[&format!("{}:used_chunks", class[0])]
    );
}

#[test]
fn memcached_failures_are_counted_and_leave_other_servers_alone() {
    let good = servers::memcached();
    let mut doomed = servers::memcached();
    let closed = free_port();
    // Accepts connections and never answers.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_port = mute.local_addr().unwrap().port();
    let _held = std::thread::spawn(move || {
        let mut conns = Vec::new();
        for c in mute.incoming() {
            conns.push(c);
        }
    });
    let dw = FakeDataway::start(TOKEN);
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    let inst = |port: u16, which: &str| {
        format!(
            "[[inputs.memcached]]\n  servers = [\"127.0.0.1:{port}\"]\n  interval = \"1s\"\n  timeout = \"1s\"\n  [inputs.memcached.tags]\n    which = \"{which}\"\n"
        )
    };
    w.write(
        "conf.d/memcached.conf",
        &[
            inst(good.port, "good"),
            inst(doomed.port, "doomed"),
            inst(closed, "closed"),
            inst(mute_port, "mute"),
        ]
        .concat(),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let of = |p: &[Received], which: &str| {
        p.iter()
            .filter(|r| {
                r.name == "memcached" && r.tags.get("which").map(String::as_str) == Some(which)
            })
            .count()
    };
    dw.wait_for(Duration::from_secs(60), "both live servers", |p| {
        of(p, "good") >= 1 && of(p, "doomed") >= 1
    });
    doomed.kill();
    let killed = datakit::clock::now_ns();
    std::thread::sleep(Duration::from_secs(4));
    let (status, body) = http_get(&format!("{}/v1/monitor", a.api())).unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["inputs"]["memcached"]["state"], "running");
    let messages: Vec<String> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["source"] == "memcached")
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect();
    let has = |t: &str| messages.iter().any(|m| m.contains(t));
    assert!(
        has(&format!("memcached 127.0.0.1:{closed}: connecting: ")),
        "{messages:#?}"
    );
    assert!(
        has(&format!(
            "memcached 127.0.0.1:{mute_port}: `stats`: no answer within 1s"
        )),
        "{messages:#?}"
    );
    assert!(
        has(&format!("memcached 127.0.0.1:{}: ", doomed.port)),
        "{messages:#?}"
    );
    assert_eq!(a.stop(), Some(0));
    let points = dw.points();
    let good_after = points
        .iter()
        .filter(|p| {
            p.name == "memcached"
                && p.tags.get("which").map(String::as_str) == Some("good")
                && p.time > killed
        })
        .count();
    assert!(
        good_after >= 2,
        "the healthy server went on being collected: {good_after}"
    );
    assert_eq!(of(&points, "closed") + of(&points, "mute"), 0);
}
