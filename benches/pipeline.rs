//! Pipeline benchmarks (see BENCHMARKS.md):
//! - `nginx_access`: the built-in nginx.p on combined-format access lines, one point per line
//!   (lines from benches/tools/gen_nginx_log.py when python3 is there, else from a simpler
//!   generator of the same format in this file);
//! - `json_11_keys`: 11 `json()` calls on an 11-key, ~290-byte JSON log line;
//! - `load_json_11_keys`: `load_json` once, then 11 `add_key(k, j["k"])`;
//! - `baseline_empty_script`: the point and an empty script (the floor of the two above);
//! - `refer_query_100k`, `refer_mquery_100k`: `query_refer_table()` by one column and
//!   `mquery_refer_table()` by two, on a 100 000-row reference table (a hit that adds four
//!   fields), with the script's `grok` of the key; `refer_miss_100k`: a lookup that finds
//!   nothing.
//!
//! Each iteration builds the input point (as the logging input would) and runs the script.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datakit::pipeline::{Program, scripts};
use datakit::point::{Category, Point};

#[path = "support/thread_cpu.rs"]
mod thread_cpu;
use thread_cpu::ThreadCpu;

const JSON_LINE: &str = r#"{"time":"2024-02-03T08:15:00.123Z","level":"warn","logger":"com.example.billing.InvoiceService","thread":"http-nio-8080-exec-7","msg":"invoice total mismatch","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","service":"billing","host":"web-01","duration":12.5,"code":409}"#;

const JSON_SCRIPT: &str = r#"json(_, time)
json(_, level, status)
json(_, logger)
json(_, thread)
json(_, msg)
json(_, trace_id)
json(_, span_id)
json(_, service)
json(_, host)
json(_, duration)
json(_, code)
"#;

const LOAD_JSON_SCRIPT: &str = r#"j = load_json(_)
add_key(time, j["time"])
add_key(status, j["level"])
add_key(logger, j["logger"])
add_key(thread, j["thread"])
add_key(msg, j["msg"])
add_key(trace_id, j["trace_id"])
add_key(span_id, j["span_id"])
add_key(service, j["service"])
add_key(host, j["host"])
add_key(duration, j["duration"])
add_key(code, j["code"])
"#;

/// Combined-format lines for machines without python3 (less varied than gen_nginx_log.py's).
fn fallback_lines(n: usize) -> Vec<String> {
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "curl/7.88.1",
        "Go-http-client/1.1",
        "Googlebot/2.1 (+http://www.google.com/bot.html)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    ];
    let paths = [
        "/",
        "/index.html",
        "/api/v1/users",
        "/api/v1/orders/42",
        "/search?q=rust&page=2",
    ];
    let codes = [200, 200, 200, 201, 301, 404, 500, 503];
    let mut x: u64 = 7;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize
    };
    (0..n)
        .map(|i| {
            let s = i % 86400;
            format!(
                "{}.{}.{}.{} - - [{:02}/Nov/2026:{:02}:{:02}:{:02} +0800] \"GET {} HTTP/1.1\" {} {} \"-\" \"{}\"",
                1 + next() % 223,
                next() % 256,
                next() % 256,
                1 + next() % 254,
                1 + (i / 86400) % 28,
                s / 3600,
                (s / 60) % 60,
                s % 60,
                paths[next() % paths.len()],
                codes[next() % codes.len()],
                next() % 200000,
                agents[next() % agents.len()],
            )
        })
        .collect()
}

fn nginx_lines(n: usize) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/tools/gen_nginx_log.py");
    // A fixed start time, so every run parses the same lines.
    if let Ok(out) = Command::new("python3")
        .arg(&script)
        .arg(n.to_string())
        .args(["--start", "1795000000"])
        .output()
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() == n {
            return lines;
        }
    }
    eprintln!("python3 or benches/tools/gen_nginx_log.py failed; using the built-in generator");
    fallback_lines(n)
}

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn point(source: &str, msg: &str) -> Point {
    let mut p = Point::new(Category::Logging, source);
    p.set_field("message", msg);
    p
}

fn bench_cpu(c: &mut Criterion<ThreadCpu>) {
    bench_in(c, "cpu");
}

fn bench(c: &mut Criterion) {
    bench_in(c, "pipeline");
}

fn bench_in<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let nginx = Program::compile("nginx.p", scripts::get("nginx.p").unwrap()).unwrap();
    let lines = nginx_lines(10_000);
    // Every line must be parsed, or the benchmark measures the wrong thing.
    for l in lines.iter().take(100) {
        let mut p = point("nginx", l);
        nginx.run(&mut p).unwrap();
        assert!(p.get_field("status_code").is_some(), "not parsed: {l}");
    }
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.bench_function("nginx_access", |b| {
        b.iter(|| {
            for l in &lines {
                let mut p = point("nginx", l);
                let out = nginx.run(&mut p).unwrap();
                black_box((&p, out.dropped));
            }
        })
    });
    g.throughput(Throughput::Elements(1));
    // The floor: building the point and running a script that does nothing (status
    // normalisation and the time key still run).
    let empty = Program::compile("empty.p", "# nothing\n").unwrap();
    g.bench_function("baseline_empty_script", |b| {
        b.iter(|| {
            let mut p = point("app", JSON_LINE);
            empty.run(&mut p).unwrap();
            black_box(&p);
        })
    });
    let json = Program::compile("json.p", JSON_SCRIPT).unwrap();
    {
        let mut p = point("app", JSON_LINE);
        json.run(&mut p).unwrap();
        assert_eq!(p.fields.len(), 11, "{:?}", p.fields);
    }
    g.bench_function("json_11_keys", |b| {
        b.iter(|| {
            let mut p = point("app", JSON_LINE);
            json.run(&mut p).unwrap();
            black_box(&p);
        })
    });
    let load = Program::compile("load_json.p", LOAD_JSON_SCRIPT).unwrap();
    {
        let mut p = point("app", JSON_LINE);
        load.run(&mut p).unwrap();
        assert_eq!(p.fields.len(), 11, "{:?}", p.fields);
    }
    g.bench_function("load_json_11_keys", |b| {
        b.iter(|| {
            let mut p = point("app", JSON_LINE);
            load.run(&mut p).unwrap();
            black_box(&p);
        })
    });
    refer_tables();
    let query = Program::compile(
        "refer.p",
        "grok(_, \"%{INT:uid:int} %{WORD:org}\")\nquery_refer_table(\"users\", \"id\", uid)\n",
    )
    .unwrap();
    let mquery = Program::compile(
        "mrefer.p",
        "grok(_, \"%{INT:uid:int} %{WORD:org}\")\nmquery_refer_table(\"users\", [\"org\", \"id\"], [org, uid])\n",
    )
    .unwrap();
    {
        let mut p = point("app", "73127 org7");
        mquery.run(&mut p).unwrap();
        assert!(p.get_field("team").is_some(), "{:?}", p.fields);
    }
    for (name, prog, line) in [
        ("refer_query_100k", &query, "73127 org7"),
        ("refer_mquery_100k", &mquery, "73127 org7"),
        ("refer_miss_100k", &query, "7312700 org7"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut p = point("app", line);
                prog.run(&mut p).unwrap();
                black_box(&p);
            })
        });
    }
    g.finish();
}

/// A `users` table of 100 000 rows (id, org of 10, team, vip) in the process's tables.
fn refer_tables() {
    let rows: Vec<String> = (0..100_000)
        .map(|i| {
            format!(
                "[{i}, \"org{}\", \"team-{}\", {}]",
                i % 10,
                i % 37,
                i % 2 == 0
            )
        })
        .collect();
    let doc = format!(
        r#"[{{"table_name": "users", "column_name": ["id", "org", "team", "vip"],
              "column_type": ["int", "string", "string", "bool"], "row_data": [{}]}}]"#,
        rows.join(",")
    );
    let t = datakit::refertable::Tables::parse(doc.as_bytes()).unwrap();
    datakit::refertable::current().install(t);
}

criterion_group!(benches, bench);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu);
    targets = bench_cpu
}
criterion_main!(benches, cpu);
