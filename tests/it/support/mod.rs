//! Shared helpers: a temporary workdir with files, and the `datakit` command pointed at it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A temporary workdir, removed on drop.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` at `rel` (under the workdir), creating directories.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `datakit --workdir <this> --color never ARGS`, with a clean environment for config.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = datakit();
        c.arg("--workdir")
            .arg(self.path())
            .arg("--color")
            .arg("never")
            .args(args);
        c
    }
}

/// The `datakit` binary with no `ENV_*`/`DATAKIT_*` variables inherited from the caller.
pub fn datakit() -> Command {
    let mut c = Command::cargo_bin("datakit").expect("datakit binary");
    for (k, _) in std::env::vars() {
        if k.starts_with("ENV_") || k.starts_with("DATAKIT_") || k == "NO_COLOR" {
            c.env_remove(k);
        }
    }
    c
}

/// Standard output of a finished command as text.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub mod dataway;
pub mod docker;
pub mod etcd;
pub mod releases;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A `datakit run` process on a workdir; killed when dropped.
pub struct Agent {
    child: Option<Child>,
    pub root: PathBuf,
    /// Its HTTP API port (a free one, unless the environment given sets ENV_HTTP_LISTEN).
    pub port: u16,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Agent {
    /// Starts `datakit --workdir <w> run` with the given extra environment.
    pub fn start(w: &Workdir, env: &[(&str, &str)]) -> Agent {
        let n = datakit::clock::now_ns();
        let stdout = w.path().join(format!("agent-{n}.out"));
        let stderr = w.path().join(format!("agent-{n}.err"));
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("datakit"));
        for (k, _) in std::env::vars() {
            if k.starts_with("ENV_") || k.starts_with("DATAKIT_") {
                cmd.env_remove(k);
            }
        }
        let given = env.iter().find(|(k, _)| *k == "ENV_HTTP_LISTEN");
        let port = match given {
            Some((_, listen)) => listen
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0),
            None => {
                let port = servers::free_port();
                cmd.env("ENV_HTTP_LISTEN", format!("127.0.0.1:{port}"));
                port
            }
        };
        cmd.envs(env.iter().copied())
            .arg("--workdir")
            .arg(w.path())
            .arg("--color")
            .arg("never")
            .arg("run")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&stdout).unwrap())
            .stderr(std::fs::File::create(&stderr).unwrap());
        let child = cmd.spawn().expect("start datakit run");
        Agent {
            child: Some(child),
            root: w.path().to_path_buf(),
            port,
            stdout,
            stderr,
        }
    }

    /// Starts the agent with its HTTP API on a port the kernel picks when it binds (no race with
    /// other processes for a port chosen beforehand), and waits until the API is up; `port` is
    /// the one it says it listens on.
    pub fn start_bound(w: &Workdir, env: &[(&str, &str)]) -> Agent {
        let mut env = env.to_vec();
        env.retain(|(k, _)| *k != "ENV_HTTP_LISTEN");
        env.push(("ENV_HTTP_LISTEN", "127.0.0.1:0"));
        let mut a = Agent::start(w, &env);
        let t0 = Instant::now();
        a.port = loop {
            let out = a.stdout();
            if let Some(port) = out
                .lines()
                .find_map(|l| l.trim().strip_prefix("HTTP API on 127.0.0.1:"))
                .and_then(|p| p.split([',', ' ']).next())
                .and_then(|p| p.parse().ok())
            {
                break port;
            }
            if t0.elapsed() > Duration::from_secs(20) || a.stderr().contains("cannot run") {
                panic!("the HTTP API did not come up:\n{out}\n{}", a.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        a.wait_api();
        a
    }

    /// `http://127.0.0.1:<port>`.
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until the HTTP API answers `/v1/ping` and this agent said it listens: a port
    /// another process took between its choice and the agent's start is not mistaken for it
    /// (the agent then stops, saying so, and this panics with what it said).
    pub fn wait_api(&self) {
        let t0 = Instant::now();
        while !self.stdout().contains("HTTP API on ")
            || servers::http_get(&format!("{}/v1/ping", self.api())).is_none_or(|(s, _)| s != 200)
        {
            if t0.elapsed() > Duration::from_secs(20) || self.stderr().contains("cannot run") {
                panic!(
                    "the HTTP API did not come up:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.id() as i32)
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// The agent's log file.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.root.join("log")).unwrap_or_default()
    }

    pub fn signal(&self, sig: rustix::process::Signal) {
        if let Some(pid) = rustix::process::Pid::from_raw(self.pid()) {
            let _ = rustix::process::kill_process(pid, sig);
        }
    }

    /// Waits until `cond(stdout)` holds, or panics.
    pub fn wait_stdout(&self, timeout: Duration, cond: impl Fn(&str) -> bool) {
        let t0 = Instant::now();
        while !cond(&self.stdout()) {
            if t0.elapsed() > timeout {
                panic!(
                    "agent output not as expected after {timeout:?}:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits for the process to exit (up to `timeout`); its exit code.
    pub fn wait(&mut self, timeout: Duration) -> Option<i32> {
        let t0 = Instant::now();
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                self.child = None;
                return st.code();
            }
            if t0.elapsed() > timeout {
                panic!(
                    "agent did not exit within {timeout:?}:\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        self.signal(rustix::process::Signal::TERM);
        self.wait(Duration::from_secs(40))
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        self.signal(rustix::process::Signal::KILL);
        let _ = self.wait(Duration::from_secs(10));
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub mod prom;
pub mod servers;
