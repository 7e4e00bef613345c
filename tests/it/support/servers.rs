//! Real servers from Debian packages, started on free loopback ports in temporary directories
//! and stopped when dropped. `tests/run` installs the packages.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Panics with a clear message when a test's server is not installed.
pub fn require(bin: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).exists()))
        .unwrap_or(false);
    assert!(
        found,
        "`{bin}` is not installed: run the README's test command (tests/run), which installs the Debian package `{package}`"
    );
}

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// GET `url`; the status and body, or `None` when nothing answers.
pub fn http_get(url: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut r = agent.get(url).call().ok()?;
    let status = r.status().as_u16();
    Some((status, r.body_mut().read_to_string().unwrap_or_default()))
}

/// POST `body` to `url`; the status and body.
pub fn http_post(url: &str, body: &str) -> Option<(u16, String)> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut r = agent.post(url).send(body).ok()?;
    let status = r.status().as_u16();
    Some((status, r.body_mut().read_to_string().unwrap_or_default()))
}

fn wait_ready(url: &str, ok: impl Fn(u16) -> bool, child: &mut Child, log: &Path) {
    let t0 = Instant::now();
    loop {
        if let Some((s, _)) = http_get(url)
            && ok(s)
        {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "server exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "server at {url} not ready: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// InfluxDB 1.x (Debian `influxdb`).
pub fn influxdb() -> Server {
    require("influxd", "influxdb");
    let dir = tempfile::tempdir().unwrap();
    let (http, rpc) = (free_port(), free_port());
    let d = dir.path().display();
    let conf = dir.path().join("influxdb.conf");
    std::fs::write(
        &conf,
        format!(
            "reporting-disabled = true\nbind-address = \"127.0.0.1:{rpc}\"\n\
             [meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n\
             [http]\n  bind-address = \"127.0.0.1:{http}\"\n  log-enabled = false\n[monitor]\n  store-enabled = false\n\
             [continuous_queries]\n  enabled = false\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("influxd.log");
    let mut child = Command::new("influxd")
        .arg("-config")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start influxd");
    wait_ready(
        &format!("http://127.0.0.1:{http}/ping"),
        |s| s == 204,
        &mut child,
        &log,
    );
    Server {
        child,
        port: http,
        _dir: dir,
    }
}

/// VictoriaMetrics single-node (Debian `victoria-metrics`).
pub fn victoria_metrics() -> Server {
    require("victoria-metrics", "victoria-metrics");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("vm.log");
    let mut child = Command::new("victoria-metrics")
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg(format!(
            "-storageDataPath={}",
            dir.path().join("data").display()
        ))
        .arg("-search.latencyOffset=0s")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start victoria-metrics");
    wait_ready(
        &format!("http://127.0.0.1:{port}/health"),
        |s| s == 200,
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// Prometheus (Debian `prometheus`) scraping `target` (`host:port`) every second.
pub fn prometheus(target: &str) -> Server {
    require("prometheus", "prometheus");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("prometheus.yml");
    std::fs::write(
        &conf,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: datakit\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let log = dir.path().join("prometheus.log");
    let mut child = Command::new("prometheus")
        .arg(format!("--config.file={}", conf.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start prometheus");
    wait_ready(
        &format!("http://127.0.0.1:{port}/-/ready"),
        |s| s == 200,
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// Prometheus node exporter (Debian `prometheus-node-exporter`) with its default collectors.
pub fn node_exporter() -> Server {
    spawn_node_exporter(|dir| vec![format!("--collector.textfile.directory={}", dir.display())])
}

/// Debian's `prometheus-node-exporter` on a free loopback port, with only the collectors the
/// host-input truth tests compare against.
pub fn node_exporter_for_host_inputs() -> Server {
    spawn_node_exporter(|_| {
        let mut args = vec!["--collector.disable-defaults".to_string()];
        for c in [
            "cpu",
            "meminfo",
            "filesystem",
            "netdev",
            "diskstats",
            "loadavg",
            "stat",
            "filefd",
            "conntrack",
            "netstat",
        ] {
            args.push(format!("--collector.{c}"));
        }
        args
    })
}

fn spawn_node_exporter(args: impl FnOnce(&std::path::Path) -> Vec<String>) -> Server {
    require("prometheus-node-exporter", "prometheus-node-exporter");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("node_exporter.log");
    let mut child = Command::new("prometheus-node-exporter")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(args(dir.path()))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start prometheus-node-exporter");
    wait_ready(
        &format!("http://127.0.0.1:{port}/metrics"),
        |s| s == 200,
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// Waits until `ready` answers true, the server exits (a panic with its log) or 30 s pass.
fn wait_until(what: &str, ready: impl Fn() -> bool, child: &mut Child, log: &Path) {
    let t0 = Instant::now();
    loop {
        if ready() {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "{what} exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "{what} not ready: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A private `redis-server` (Debian `redis-server`) on a free port, its data in a temporary
/// directory, with `args` added to its command line (`--requirepass`, `--user`, ...).
pub fn redis(args: &[&str]) -> Server {
    require("redis-server", "redis-server");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("redis.log");
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .arg("--logfile")
        .arg(&log)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    wait_until(
        "redis-server",
        || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && log_has(&log, "Ready to accept connections")
        },
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

fn log_has(log: &Path, text: &str) -> bool {
    std::fs::read_to_string(log).is_ok_and(|l| l.contains(text))
}

impl Server {
    /// Stops the server now (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private `memcached` (Debian `memcached`) on a free loopback port, UDP off.
pub fn memcached() -> Server {
    require("memcached", "memcached");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("memcached.log");
    let mut cmd = Command::new("memcached");
    // memcached refuses to run as root unless told which user to be.
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.args(["-u", "root"]);
    }
    let mut child = cmd
        .args([
            "-l",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "0",
            "-m",
            "64",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start memcached");
    wait_until(
        "memcached",
        || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

/// A private nginx (Debian `nginx`, under /usr/sbin) on a free loopback port, one process
/// (no master: a kill stops it whole), with `/basic_status` (stub_status), `/` serving
/// `index.html`, and its access (combined format) and error logs under `logs/` of its
/// directory ([`Server::dir`]).
pub fn nginx() -> Server {
    let bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .map(String::from)
        .unwrap_or_else(|| {
            require("nginx", "nginx");
            "nginx".into()
        });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let d = dir.path().display().to_string();
    for sub in ["logs", "tmp", "html"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    std::fs::write(dir.path().join("html/index.html"), "hello\n").unwrap();
    // Read by a worker running as `nobody` when the tests run as root.
    use std::os::unix::fs::PermissionsExt;
    for p in ["", "html", "html/index.html"] {
        let mode = if p.ends_with(".html") { 0o644 } else { 0o755 };
        std::fs::set_permissions(dir.path().join(p), std::fs::Permissions::from_mode(mode))
            .unwrap();
    }
    let conf = format!(
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log error;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n  access_log {d}/logs/access.log combined;\n\
           client_body_temp_path {d}/tmp/body; proxy_temp_path {d}/tmp/proxy;\n\
           fastcgi_temp_path {d}/tmp/fastcgi; uwsgi_temp_path {d}/tmp/uwsgi; scgi_temp_path {d}/tmp/scgi;\n\
           server {{\n    listen 127.0.0.1:{port};\n    root {d}/html;\n\
             location = /basic_status {{ stub_status; access_log off; }}\n  }}\n}}\n"
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let log = dir.path().join("nginx.stderr");
    let mut child = Command::new(bin)
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("logs/error.log"))
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start nginx");
    wait_ready(
        &format!("http://127.0.0.1:{port}/basic_status"),
        |s| s == 200,
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}

impl Server {
    /// The server's temporary directory.
    pub fn dir(&self) -> &Path {
        self._dir.path()
    }
}

/// A private PostgreSQL cluster (Debian `postgresql`; its binaries under
/// `/usr/lib/postgresql/<version>/bin`), made by `initdb` in a temporary directory and run by
/// the `postgres` user when the tests run as root (the server refuses root). It listens on
/// 127.0.0.1 on a free port and on a unix socket in its directory ([`Postgres::socket_dir`]);
/// local connections are trusted, TCP ones need a password (SCRAM-SHA-256, except the roles
/// `md5user` (MD5) and `clearuser` (cleartext)). With `tls`, a self-signed certificate made
/// with `openssl` is served, and the role `tlsonly` may connect over TLS only. Its log (stderr,
/// with the original's `log_line_prefix`) is [`Postgres::log_path`].
pub struct Postgres {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    bin: std::path::PathBuf,
}

fn pg_bin_dir() -> std::path::PathBuf {
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    dirs.retain(|d| d.join("postgres").exists());
    dirs.sort();
    dirs.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: run the README's test command (tests/run), which installs the Debian package `postgresql`")
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A command run as the `postgres` user when the tests run as root.
fn as_postgres(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

pub const PG_PASSWORD: &str = "pg-Secret-1";

pub fn postgres(tls: bool) -> Postgres {
    let bin = pg_bin_dir();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let data = dir.path().join("data");
    if is_root() {
        let st = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(st.success());
    }
    let pw = dir.path().join("pw");
    std::fs::write(&pw, format!("{PG_PASSWORD}\n")).unwrap();
    if is_root() {
        Command::new("chown")
            .arg("postgres")
            .arg(&pw)
            .status()
            .unwrap();
    }
    let out = as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--auth-local=trust",
        ])
        .args(["--auth-host=scram-sha-256"])
        .arg(format!("--pwfile={}", pw.display()))
        .output()
        .expect("run initdb");
    assert!(out.status.success(), "initdb: {out:?}");
    let mut hba = String::from(
        "local all all trust\nhost all md5user 127.0.0.1/32 md5\nhost all clearuser 127.0.0.1/32 password\n",
    );
    if tls {
        hba.push_str("hostssl all tlsonly 127.0.0.1/32 scram-sha-256\nhostnossl all tlsonly 127.0.0.1/32 reject\n");
    }
    hba.push_str("host all all 127.0.0.1/32 scram-sha-256\n");
    std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
    let mut args: Vec<String> = vec![
        "-k".into(),
        dir.path().display().to_string(),
        "-p".into(),
        port.to_string(),
        "-c".into(),
        "listen_addresses=127.0.0.1".into(),
        "-c".into(),
        "fsync=off".into(),
        "-c".into(),
        "log_line_prefix=%m [%p] %d [%a] %u [%h] %c ".into(),
        "-c".into(),
        "log_timezone=UTC".into(),
        "-c".into(),
        "shared_buffers=16MB".into(),
    ];
    if tls {
        // A CA, and the server's certificate (localhost, 127.0.0.1) signed by it.
        let ssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&data)
                .output()
                .expect("run openssl");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        ssl(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-days",
                "2",
                "-subj",
                "/CN=test-ca",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
            ],
        ]
        .concat());
        ssl(&[
            &["req"][..],
            &ec,
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        ]
        .concat());
        std::fs::write(
            data.join("ext.cnf"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
        )
        .unwrap();
        ssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
            "-out",
            "server.crt",
        ]);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            data.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        if is_root() {
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(data.join("server.key"))
                .arg(data.join("server.crt"))
                .status()
                .unwrap();
        }
        for a in [
            "ssl=on",
            "ssl_cert_file=server.crt",
            "ssl_key_file=server.key",
        ] {
            args.push("-c".into());
            args.push(a.into());
        }
    }
    let log = dir.path().join("postgres.log");
    let mut child = as_postgres(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("start postgres");
    wait_until(
        "postgres",
        || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
                && log_has(&log, "ready to accept connections")
        },
        &mut child,
        &log,
    );
    Postgres {
        child,
        port,
        dir,
        bin,
    }
}

impl Postgres {
    /// The directory of its unix socket (`.s.PGSQL.<port>`).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Its log file.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// The `psql` of the server's version.
    pub fn psql_path(&self) -> std::path::PathBuf {
        self.bin.join("psql")
    }

    /// The CA certificate that signed the server's (with `tls`).
    pub fn cert_path(&self) -> std::path::PathBuf {
        self.dir.path().join("data/ca.crt")
    }

    /// `psql` as `postgres` over the unix socket in `db`: the rows of `sql`, `|`-separated.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-U", "postgres"])
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql {sql}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// `psql` running `sql` in the background (a lock held, a long query).
    pub fn psql_bg(&self, db: &str, sql: &str) -> Child {
        Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-U", "postgres"])
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-d", db, "-c", sql])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run psql")
    }

    /// Sends `sig` to the postmaster (its pid from the server's own pid file: under runuser,
    /// the child process is runuser's).
    fn signal(&self, sig: i32) {
        if let Ok(Some(pid)) = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid"))
            .map(|s| s.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        {
            // SAFETY: kill(2) with a pid read from the server's pid file.
            unsafe { libc::kill(pid, sig) };
        }
    }

    /// Stops the server now, as a crash would (SIGKILL to the postmaster; its backends
    /// notice and exit).
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGQUIT ends the postmaster and its backends at once.
        self.signal(libc::SIGQUIT);
        let _ = self.child.wait();
    }
}

/// A private MariaDB (Debian `mariadb-server`): a data directory made by
/// `mariadb-install-db` in a temporary directory, `mariadbd` on a free loopback port and a
/// unix socket (`Server::dir()/mysqld.sock`), `init_sql` run at start (users, grants), and
/// `args` added to its command line (TLS files, logs, ...).
pub fn mariadb(init_sql: &str, args: &[String]) -> Server {
    require("mariadbd", "mariadb-server");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = Command::new("mariadb-install-db")
        .arg(format!("--datadir={}", data.display()))
        .args([
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .env("TMPDIR", dir.path())
        .output()
        .expect("run mariadb-install-db");
    assert!(out.status.success(), "mariadb-install-db: {out:?}");
    let init = dir.path().join("init.sql");
    std::fs::write(&init, init_sql).unwrap();
    let port = free_port();
    let sock = dir.path().join("mysqld.sock");
    let log = dir.path().join("error.log");
    let mut child = Command::new("mariadbd")
        .arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--socket={}", sock.display()))
        .arg(format!("--port={port}"))
        .arg(format!(
            "--pid-file={}",
            dir.path().join("mysqld.pid").display()
        ))
        .arg(format!("--log-error={}", log.display()))
        .arg(format!("--init-file={}", init.display()))
        .arg(format!("--tmpdir={}", dir.path().display()))
        .args([
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=16M",
            "--performance-schema=ON",
            "--skip-log-bin",
        ])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start mariadbd");
    wait_until(
        "mariadbd",
        || log_has(&log, "ready for connections"),
        &mut child,
        &log,
    );
    Server {
        child,
        port,
        _dir: dir,
    }
}
