//! Real third-party clients against a running agent: the Python InfluxDB clients (v1 and v2
//! APIs) write through the aliases, and Prometheus scrapes `/metrics`.

use std::time::{Duration, Instant};

use crate::support::dataway::FakeDataway;
use crate::support::servers::{self, http_get};
use crate::support::{Agent, Workdir};

const TOKEN: &str = "tkn_0123456789abcdef0123456789abcdef";

fn agent(dw: &FakeDataway) -> (Workdir, Agent) {
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &format!(
            "default_enabled_inputs = []\n[dataway]\n  urls = [\"{}\"]\n[io]\n  flush_interval = \"100ms\"\n",
            dw.url()
        ),
    );
    let a = Agent::start(&w, &[]);
    a.wait_api();
    (w, a)
}

fn python(script: &str) {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python failed (tests/run installs the packages in a virtual environment and puts it on PATH; `tests/run --install-only` prints that PATH):\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn python_influxdb_clients_write_through_the_aliases() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent(&dw);
    python(&format!(
        r#"
from influxdb import InfluxDBClient
c = InfluxDBClient(host="127.0.0.1", port={port}, database="telegraf")
c.create_database("telegraf")
ok = c.write_points([{{"measurement": "pyv1", "tags": {{"lib": "influxdb"}}, "fields": {{"v": 1.5, "n": 3}}}}])
assert ok, ok
"#,
        port = a.port
    ));
    python(&format!(
        r#"
from influxdb_client import InfluxDBClient, Point
from influxdb_client.client.write_api import SYNCHRONOUS
with InfluxDBClient(url="http://127.0.0.1:{port}", token="t", org="o") as c:
    w = c.write_api(write_options=SYNCHRONOUS)
    w.write(bucket="b", record=Point("pyv2").tag("lib", "influxdb-client").field("v", 2.5))
    w.write(bucket="b", record="pyv2,lib=raw v=3.5")
"#,
        port = a.port
    ));
    dw.wait_for(Duration::from_secs(20), "the clients' points", |p| {
        p.iter().filter(|p| p.name == "pyv2").count() >= 2 && p.iter().any(|p| p.name == "pyv1")
    });
    let v1 = &dw.points_named("pyv1")[0];
    assert_eq!(v1.tags.get("lib").map(String::as_str), Some("influxdb"));
    assert!(v1.fields.contains_key("v") && v1.fields.contains_key("n"));
    assert!(
        dw.points_named("pyv2")
            .iter()
            .any(|p| p.tags.get("lib").map(String::as_str) == Some("influxdb-client"))
    );
    assert_eq!(a.stop(), Some(0));
}

#[test]
fn prometheus_scrapes_the_metrics_endpoint() {
    let dw = FakeDataway::start(TOKEN);
    let (_w, mut a) = agent(&dw);
    let prom = servers::prometheus(&format!("127.0.0.1:{}", a.port));
    let t0 = Instant::now();
    loop {
        let (_, body) = http_get(&format!("{}/api/v1/targets", prom.base())).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let t = &v["data"]["activeTargets"][0];
        if t["health"] == "up" {
            assert_eq!(t["lastError"], "");
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "target not up: {t}");
        std::thread::sleep(Duration::from_millis(300));
    }
    // And the samples are queryable.
    let q = format!("{}/api/v1/query?query=datakit_cpu_cores", prom.base());
    let t0 = Instant::now();
    loop {
        let (_, body) = http_get(&q).unwrap();
        if body.contains("\"datakit_cpu_cores\"") {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "{body}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(a.stop(), Some(0));
}
