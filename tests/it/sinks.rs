//! `datakit run` writing to real InfluxDB-compatible stores from Debian: the points it wrote
//! are queryable there with the right values.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::support::servers::{self, http_get, http_post};
use crate::support::{Agent, Workdir};

fn conf_with_output(output: &str) -> String {
    format!("default_enabled_inputs = []\n[io]\n  flush_interval = \"100ms\"\n{output}\n")
}

const INPUT: &str = "[[inputs.testinput]]\n  name = \"sink\"\n  interval = \"50ms\"\n  points_per_tick = 20\n  [inputs.testinput.tags]\n    zone = \"z1\"\n";

fn wait_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t0.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn influxdb_v1_receives_queryable_points() {
    let db = servers::influxdb();
    let (s, _) = http_post(&format!("{}/query?q=CREATE%20DATABASE%20dk", db.base()), "").unwrap();
    assert_eq!(s, 200);
    let w = Workdir::new();
    w.write(
        "conf.d/datakit.conf",
        &conf_with_output(&format!(
            "[[outputs.influxdb]]\n  url = \"{}\"\n  database = \"dk\"\n",
            db.base()
        )),
    );
    w.write("conf.d/t.conf", INPUT);
    let mut a = Agent::start(&w, &[]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.stop(), Some(0));

    let q = |sql: &str| {
        let url = format!(
            "{}/query?db=dk&epoch=ns&q={}",
            db.base(),
            sql.replace(' ', "%20").replace('"', "%22")
        );
        let (s, body) = http_get(&url).unwrap();
        assert_eq!(s, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    let res = wait_until(Duration::from_secs(20), "rows in InfluxDB", || {
        let v = q("SELECT seq, zone, host FROM test WHERE instance = 'sink'");
        v["results"][0]["series"][0]["values"]
            .as_array()
            .cloned()
            .filter(|r| r.len() >= 40)
    });
    let seqs: BTreeSet<i64> = res
        .iter()
        .map(|r| r[1].as_i64().expect("seq stays an integer"))
        .collect();
    let max = *seqs.iter().max().unwrap();
    assert_eq!(
        seqs,
        (1..=max).collect(),
        "every point, with the value the agent sent"
    );
    assert!(res.iter().all(|r| r[2] == "z1"), "tags arrive as tags");
    assert!(
        res.iter()
            .all(|r| r[3].as_str().is_some_and(|h| !h.is_empty())),
        "global host tag"
    );
    assert!(
        res.iter()
            .all(|r| r[0].as_i64().is_some_and(|t| t > 1_600_000_000_000_000_000))
    );
}

fn vm_series(vm: &servers::Server, name: &str) -> Vec<serde_json::Value> {
    let _ = http_get(&format!("{}/internal/force_flush", vm.base()));
    let url = format!("{}/api/v1/export?match[]={name}", vm.base());
    let (s, body) = http_get(&url).unwrap();
    assert_eq!(s, 200, "{body}");
    body.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn check_vm(api: &str) {
    let vm = servers::victoria_metrics();
    let output = match api {
        "v2" => format!(
            "[[outputs.influxdb]]\n  url = \"{}\"\n  version = 2\n  org = \"o\"\n  bucket = \"b\"\n  token = \"t\"\n",
            vm.base()
        ),
        _ => format!("[[outputs.influxdb]]\n  url = \"{}\"\n", vm.base()),
    };
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &conf_with_output(&output));
    w.write("conf.d/t.conf", INPUT);
    let mut a = Agent::start(&w, &[]);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(a.stop(), Some(0));
    let series = wait_until(
        Duration::from_secs(30),
        "the test_seq series in VictoriaMetrics",
        || {
            let s = vm_series(&vm, "test_seq");
            let n: usize = s
                .iter()
                .map(|x| x["values"].as_array().map_or(0, |v| v.len()))
                .sum();
            (n >= 40).then_some(s)
        },
    );
    assert_eq!(series.len(), 1, "one series: {series:?}");
    let m = &series[0]["metric"];
    assert_eq!(m["instance"], "sink");
    assert_eq!(m["zone"], "z1");
    let vals: BTreeSet<i64> = series[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as i64)
        .collect();
    let max = *vals.iter().max().unwrap();
    assert_eq!(vals, (1..=max).collect(), "every value the agent sent");
}

#[test]
fn victoria_metrics_receives_points_over_the_v1_api() {
    check_vm("v1");
}

#[test]
fn victoria_metrics_receives_points_over_the_v2_api() {
    check_vm("v2");
}
