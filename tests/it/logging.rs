//! The `logging` input end to end: a real nginx's access and error logs through the shipped
//! nginx script, multiline records, and a rotation torture with restarts.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::dataway::{FakeDataway, Received, Val};
use crate::support::servers::free_port;
use crate::support::{Agent, Workdir};

/// datakit.conf sending to `dw` with fast batching.
fn main_conf(dw: &FakeDataway) -> String {
    format!(
        "default_enabled_inputs = []\n\
         [dataway]\n  urls = [\"{}\"]\n  retry_delay = \"100ms\"\n\
         [io]\n  flush_interval = \"100ms\"\n  max_cache_count = 500\n",
        dw.url()
    )
}

fn text<'a>(p: &'a Received, key: &str) -> Option<&'a str> {
    match p.fields.get(key) {
        Some(Val::S(s)) => Some(s.as_str()),
        _ => p.tags.get(key).map(String::as_str),
    }
}

/// nginx from the Debian package (`/usr/sbin` is often not on a user's PATH).
fn nginx_bin() -> PathBuf {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.exists());
    found.expect(
        "`nginx` is not installed: run the README's test command (tests/run), which installs the Debian package `nginx`",
    )
}

/// An nginx master process, stopped (and waited for) when dropped, also when a test fails.
struct Nginx {
    child: Child,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT is nginx's graceful stop; kill after a moment if it lingers.
        if let Some(pid) = rustix::process::Pid::from_raw(self.child.id() as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::QUIT);
        }
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(dir: &Path, port: u16) -> Nginx {
    let logs = dir.join("logs");
    let html = dir.join("html");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    std::fs::create_dir_all(&html).unwrap();
    std::fs::write(html.join("index.html"), "hello\n").unwrap();
    // Workers run as `nobody` when the test runs as root: let them read the pages.
    use std::os::unix::fs::PermissionsExt;
    for d in [dir, html.as_path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        html.join("index.html"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let d = dir.display();
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/logs/error.log error;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
           access_log {d}/logs/access.log combined;\n\
           client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;\n\
           fastcgi_temp_path {d}/tmp/fastcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             server_name localhost;\n\
             root {d}/html;\n\
             location = /teapot {{ return 418; }}\n\
           }}\n\
         }}\n"
    );
    std::fs::write(dir.join("nginx.conf"), conf).unwrap();
    let child = Command::new(nginx_bin())
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(logs.join("error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("nginx.stderr")).unwrap())
        .spawn()
        .expect("start nginx");
    let ng = Nginx { child };
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("nginx.stderr")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    ng
}

fn curl(args: &[&str]) {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-A", "it-test/1.0"])
        .args(args)
        .output()
        .expect("curl (Debian package `curl`)");
    assert!(out.status.success(), "curl {args:?}: {out:?}");
}

#[test]
fn nginx_access_and_error_logs_arrive_parsed_by_the_nginx_script() {
    let ngdir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _nginx = start_nginx(ngdir.path(), port);
    let logs = ngdir.path().join("logs");

    let dw = FakeDataway::start("tkn_x");
    let w = Workdir::new();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/nginx.conf",
        &format!(
            "[[inputs.logging]]\n  logfiles = [\"{}/access.log\", \"{}/error.log\"]\n  source = \"nginx\"\n  service = \"web\"\n  [inputs.logging.tags]\n    team = \"ops\"\n",
            logs.display(),
            logs.display()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let base = format!("http://127.0.0.1:{port}");
    curl(&[&format!("{base}/")]);
    curl(&[&format!("{base}/missing.html")]);
    curl(&["-X", "POST", "-d", "x=1", &format!("{base}/teapot")]);

    dw.wait_for(Duration::from_secs(30), "4 nginx points", |p| {
        p.iter().filter(|p| p.name == "nginx").count() >= 4
    });
    let pts = dw.points_named("nginx");
    for p in &pts {
        assert_eq!(p.category, "logging");
        assert_eq!(
            p.tags.get("service").map(String::as_str),
            Some("web"),
            "{p:?}"
        );
        assert_eq!(p.tags.get("team").map(String::as_str), Some("ops"));
        assert!(p.tags.contains_key("host"), "{p:?}");
        assert!(text(p, "message").is_some());
    }
    let access: Vec<&Received> = pts
        .iter()
        .filter(|p| text(p, "filepath").is_some_and(|f| f.ends_with("access.log")))
        .collect();
    assert_eq!(access.len(), 3, "{pts:#?}");
    let by_url = |u: &str| {
        *access
            .iter()
            .find(|p| text(p, "http_url") == Some(u))
            .unwrap_or_else(|| panic!("no access point for {u}: {access:#?}"))
    };
    let ok = by_url("/");
    assert_eq!(text(ok, "client_ip"), Some("127.0.0.1"));
    assert_eq!(text(ok, "http_method"), Some("GET"));
    assert_eq!(text(ok, "http_version"), Some("1.1"));
    assert_eq!(
        ok.fields.get("status_code").and_then(Val::as_i64),
        Some(200)
    );
    assert_eq!(ok.fields.get("bytes").and_then(Val::as_i64), Some(6));
    assert_eq!(text(ok, "agent"), Some("it-test/1.0"));
    assert_eq!(text(ok, "status"), Some("OK"));
    let missing = by_url("/missing.html");
    assert_eq!(
        missing.fields.get("status_code").and_then(Val::as_i64),
        Some(404)
    );
    assert_eq!(text(missing, "status"), Some("warning"));
    let teapot = by_url("/teapot");
    assert_eq!(text(teapot, "http_method"), Some("POST"));
    assert_eq!(
        teapot.fields.get("status_code").and_then(Val::as_i64),
        Some(418)
    );
    // The access time is the point's time (the script's default_time), within a minute.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    assert!((now - ok.time).abs() < 60_000_000_000, "{}", ok.time);

    let error = pts
        .iter()
        .find(|p| text(p, "filepath").is_some_and(|f| f.ends_with("error.log")))
        .unwrap_or_else(|| panic!("no error-log point: {pts:#?}"));
    assert_eq!(text(error, "status"), Some("error"), "{error:?}");
    assert_eq!(text(error, "client_ip"), Some("127.0.0.1"));
    assert_eq!(text(error, "http_method"), Some("GET"));
    assert_eq!(text(error, "http_url"), Some("/missing.html"));
    assert!(
        text(error, "msg").is_some_and(|m| m.contains("missing.html")),
        "{error:?}"
    );
    assert!(dw.violations().is_empty(), "{:?}", dw.violations());
    assert_eq!(a.stop(), Some(0));
    // Positions were saved at the end of both files.
    let pos = std::fs::read_to_string(w.path().join("cache/logging/positions.json")).unwrap();
    let access_len = std::fs::metadata(logs.join("access.log")).unwrap().len();
    assert!(pos.contains(&format!("\"offset\":{access_len}")), "{pos}");
}

#[test]
fn stack_traces_and_tracebacks_become_one_point_each_in_a_file_created_later() {
    let dw = FakeDataway::start("tkn_x");
    let w = Workdir::new();
    let logs = tempfile::tempdir().unwrap();
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    w.write(
        "conf.d/app.conf",
        &format!(
            "[[inputs.logging]]\n  logfiles = [\"{}/**/*.log\"]\n  ignore = [\"*.skip.log\"]\n  source = \"app\"\n",
            logs.path().display()
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    // Created after the start, in a directory that did not exist: found by the watch or a
    // scan within seconds.
    let t0 = Instant::now();
    std::fs::create_dir_all(logs.path().join("svc")).unwrap();
    std::fs::write(logs.path().join("svc/x.skip.log"), "ignored\n").unwrap();
    let mut f = std::fs::File::create(logs.path().join("svc/app.log")).unwrap();
    f.write_all(
        b"2024-05-01 10:00:00,001 INFO  [main] app.Main - starting\n\
2024-05-01 10:00:01,002 ERROR [main] app.Main - request failed\n\
java.lang.IllegalStateException: boom\n\
\tat app.Service.handle(Service.java:42)\n\
\tat app.Main.main(Main.java:10)\n\
Caused by: java.io.IOException: disk full\n\
\tat app.Store.write(Store.java:7)\n\
\t... 2 more\n\
2024-05-01 10:00:02,000 ERROR worker crashed\n\
Traceback (most recent call last):\n\
  File \"/app/worker.py\", line 12, in <module>\n\
    main()\n\
ZeroDivisionError: division by zero\n\
2024-05-01 10:00:03,000 INFO done\n",
    )
    .unwrap();
    dw.wait_for(Duration::from_secs(20), "4 app records", |p| {
        p.iter().filter(|p| p.name == "app").count() >= 4
    });
    let found_after = t0.elapsed();
    assert!(found_after < Duration::from_secs(8), "{found_after:?}");
    std::thread::sleep(Duration::from_millis(500));
    let msgs: Vec<String> = dw
        .points_named("app")
        .iter()
        .map(|p| text(p, "message").unwrap_or_default().to_string())
        .collect();
    assert_eq!(msgs.len(), 4, "{msgs:#?}");
    assert!(msgs[1].starts_with("2024-05-01 10:00:01,002 ERROR"));
    assert!(msgs[1].ends_with("\t... 2 more"), "{:?}", msgs[1]);
    assert_eq!(msgs[1].lines().count(), 7);
    assert_eq!(msgs[2].lines().count(), 5);
    assert!(msgs[2].ends_with("ZeroDivisionError: division by zero"));
    assert_eq!(msgs[3], "2024-05-01 10:00:03,000 INFO done");
    assert!(!msgs.iter().any(|m| m.contains("ignored")));
    assert_eq!(a.stop(), Some(0));
}

/// The lines of the `logging` line-protocol files under `dir`: how often each number arrived.
fn count_numbers(dir: &Path, total: usize) -> Vec<u16> {
    let mut seen = vec![0u16; total];
    let Ok(rd) = std::fs::read_dir(dir) else {
        return seen;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with("logging.lp") {
            continue;
        }
        let data = std::fs::read(e.path()).unwrap();
        for line in data.split(|b| *b == b'\n') {
            let Some(at) = line.windows(9).position(|w| w == b"message=\"") else {
                continue;
            };
            let digits = &line[at + 9..(at + 17).min(line.len())];
            let n: usize = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("bad line {:?}", String::from_utf8_lossy(line)));
            if n < total {
                seen[n] = seen[n].saturating_add(1);
            }
        }
    }
    seen
}

fn lp_lines(dir: &Path) -> usize {
    std::fs::read(dir.join("logging.lp")).map_or(0, |d| memchr_count(&d))
}

fn memchr_count(d: &[u8]) -> usize {
    d.iter().filter(|b| **b == b'\n').count()
}

/// A writer appends `total` numbered lines at about `rate` lines/s, rotating `app.log` every
/// `total / (rotations + 1)` lines (rename + create and copy + truncate in turn, the copy
/// made between two writes as an application's own rotation would); the agent tails
/// `app.log*` and is restarted twice meanwhile (SIGTERM, then SIGKILL). Every number must
/// arrive; repeats only after the SIGKILL, at most what IO had not acknowledged.
fn rotation_torture(total: usize, rotations: usize, rate: f64) {
    let w = Workdir::new();
    let logs = tempfile::tempdir().unwrap();
    let out = w.path().join("out");
    w.write(
        "conf.d/datakit.conf",
        "default_enabled_inputs = []\n\
         [io]\n  flush_interval = \"200ms\"\n  max_cache_count = 1000\n\
         [outputs.file]\n  enable = true\n  path = \"out\"\n  max_size_mb = 100000\n  max_files = 1\n",
    );
    w.write(
        "conf.d/t.conf",
        &format!(
            "[[inputs.logging]]\n  logfiles = [\"{}/app.log*\"]\n  source = \"torture\"\n",
            logs.path().display()
        ),
    );
    let log = logs.path().join("app.log");
    std::fs::File::create(&log).unwrap();
    let env = [("DATAKIT_LOG_LEVEL", "debug")];
    let mut a = Agent::start(&w, &env);
    a.wait_api();

    let progress = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writer = {
        let progress = progress.clone();
        let log = log.clone();
        std::thread::spawn(move || {
            let open = || {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .unwrap()
            };
            let mut f = open();
            let every = total / (rotations + 1);
            let mut rotated = 0;
            let t0 = Instant::now();
            let mut buf = String::new();
            let chunk = 100;
            let mut n = 0;
            while n < total {
                buf.clear();
                for k in n..(n + chunk).min(total) {
                    use std::fmt::Write as _;
                    let _ = writeln!(buf, "{k:08} {}", "x".repeat(k % 61 + 5));
                }
                f.write_all(buf.as_bytes()).unwrap();
                let before = n;
                n = (n + chunk).min(total);
                progress.store(n, std::sync::atomic::Ordering::Relaxed);
                if rotated < rotations && before / every != n / every {
                    rotated += 1;
                    let to = log.with_file_name(format!("app.log.{rotated}"));
                    if rotated % 2 == 1 {
                        std::fs::rename(&log, &to).unwrap();
                        f = open();
                    } else {
                        std::fs::copy(&log, &to).unwrap();
                        f.set_len(0).unwrap();
                    }
                }
                let due = Duration::from_secs_f64(n as f64 / rate);
                if let Some(wait) = due.checked_sub(t0.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            rotated
        })
    };
    let wait_progress = |k: usize| {
        while progress.load(std::sync::atomic::Ordering::Relaxed) < k {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_progress(total / 3);
    assert_eq!(a.stop(), Some(0), "{}", a.stderr());
    a = Agent::start(&w, &env);
    wait_progress(2 * total / 3);
    std::thread::sleep(Duration::from_millis(300));
    a.kill9();
    a = Agent::start(&w, &env);
    let rotated = writer.join().unwrap();
    assert_eq!(rotated, rotations);

    // Wait for the output to hold every line (and settle).
    let t0 = Instant::now();
    let mut last = (0, Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let n = lp_lines(&out);
        if n != last.0 {
            last = (n, Instant::now());
        }
        if n >= total && last.1.elapsed() > Duration::from_secs(3) {
            break;
        }
        if last.1.elapsed() > Duration::from_secs(30) || t0.elapsed() > Duration::from_secs(600) {
            break;
        }
    }
    assert_eq!(a.stop(), Some(0), "{}", a.stderr());
    let seen = count_numbers(&out, total);
    let lost: Vec<usize> = (0..total).filter(|n| seen[*n] == 0).collect();
    let dups: usize = seen.iter().map(|c| c.saturating_sub(1) as usize).sum();
    let received: usize = seen.iter().map(|c| *c as usize).sum();
    let dups_in = |r: std::ops::Range<usize>| -> usize {
        seen[r].iter().map(|c| c.saturating_sub(1) as usize).sum()
    };
    eprintln!(
        "rotation torture: duplicates by third of the stream: {} {} {} (the SIGTERM restart is at the first third, the SIGKILL at the second)",
        dups_in(0..total / 3),
        dups_in(total / 3..2 * total / 3),
        dups_in(2 * total / 3..total)
    );
    eprintln!(
        "rotation torture: {total} lines written, {rotations} rotations ({} rename+create, {} copytruncate), \
         2 restarts (SIGTERM, SIGKILL): {received} received, {} lost, {dups} duplicated",
        rotations.div_ceil(2),
        rotations / 2,
        lost.len()
    );
    assert!(
        lost.is_empty(),
        "{} lost, first {:?}\n{}",
        lost.len(),
        &lost[..lost.len().min(20)],
        a.log()
    );
    // The at-least-once window: what IO had not acknowledged at the SIGKILL (its queues hold
    // at most 16 feeds of 250 lines, 8 batches of 1 000 and one batch per worker: ~15 000; twice that is allowed).
    if dups > 30_000 {
        // Duplicated ranges, and what the agents said about opening files.
        let mut ranges: Vec<(usize, usize)> = Vec::new();
        for n in (0..total).filter(|n| seen[*n] > 1) {
            match ranges.last_mut() {
                Some(r) if r.1 + 1 == n => r.1 = n,
                _ => ranges.push((n, n)),
            }
        }
        let log: Vec<String> = a
            .log()
            .lines()
            .filter(|l| l.contains("tailing") || l.contains("SIG") || l.contains("started"))
            .map(String::from)
            .collect();
        panic!(
            "{dups} duplicated (more than IO holds): ranges {ranges:?}\n{}",
            log.join("\n")
        );
    }
}

#[test]
fn rotation_torture_loses_nothing() {
    let total = std::env::var("LOGGING_TORTURE_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let rate = std::env::var("LOGGING_TORTURE_RATE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40_000.0);
    rotation_torture(total, 100, rate);
}

#[test]
fn tcp_and_udp_lines_become_points_and_blank_lines_are_counted_as_dropped() {
    let dw = FakeDataway::start("tkn_x");
    let w = Workdir::new();
    let (tcp, udp, port2) = (free_port(), free_port(), free_port());
    w.write("conf.d/datakit.conf", &main_conf(&dw));
    // The first instance drops everything (no script: every status is info); the second
    // keeps its lines.
    w.write(
        "conf.d/sock.conf",
        &format!(
            "[[inputs.logging]]\n  sockets = [\"tcp://127.0.0.1:{tcp}\", \"udp://127.0.0.1:{udp}\"]\n  source = \"sock\"\n  ignore_status = [\"info\"]\n\
             [[inputs.logging]]\n  sockets = [\"127.0.0.1:{port2}\"]\n  source = \"sock2\"\n"
        ),
    );
    let mut a = Agent::start(&w, &[]);
    a.wait_api();
    let connect = |port: u16| {
        let t0 = Instant::now();
        loop {
            match std::net::TcpStream::connect(("127.0.0.1", port)) {
                Ok(s) => return s,
                Err(_) if t0.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(e) => panic!("connect {port}: {e}"),
            }
        }
    };
    let mut s = connect(port2);
    s.write_all(b"first line\n\n   \nsecond \x1b[31mline\x1b[0m\r\n")
        .unwrap();
    drop(s);
    let u = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut s = connect(tcp);
    s.write_all(b"dropped by ignore_status\n").unwrap();
    drop(s);
    u.send_to(b"udp one\nudp two\n", ("127.0.0.1", udp))
        .unwrap();
    dw.wait_for(Duration::from_secs(20), "2 sock2 points", |p| {
        p.iter().filter(|p| p.name == "sock2").count() >= 2
    });
    let msgs: Vec<String> = dw
        .points_named("sock2")
        .iter()
        .map(|p| text(p, "message").unwrap_or_default().to_string())
        .collect();
    assert_eq!(msgs, vec!["first line", "second \x1b[31mline\x1b[0m"]);
    // Dropped lines show in /v1/monitor: two blank lines, then the three ignored ones.
    let t0 = Instant::now();
    loop {
        let (_, body) =
            crate::support::servers::http_get(&format!("{}/v1/monitor", a.api())).unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let dropped: Vec<u64> = v["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("logging"))
            .map(|(_, i)| i["dropped"].as_u64().unwrap_or(0))
            .collect();
        if dropped.iter().sum::<u64>() == 5 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "dropped counts {dropped:?}: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(dw.points_named("sock").is_empty());
    assert_eq!(a.stop(), Some(0));
}
