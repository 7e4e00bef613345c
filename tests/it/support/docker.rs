//! A private Docker engine for a test: Debian's `dockerd` with its data, exec root and socket
//! in a temporary directory (its own containerd namespace, no bridge, no iptables rules), so
//! tests depend on no system service and leave nothing behind. The test image is built from
//! Debian's `busybox-static` with `docker import` (no registry is needed).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::servers::require;

/// The image every test container runs: busybox and its applets, nothing else.
pub const IMAGE: &str = "dkc-busybox:test";

pub struct Dockerd {
    child: Child,
    dir: tempfile::TempDir,
}

impl Dockerd {
    /// Starts the engine and imports [`IMAGE`]; panics saying why when it cannot.
    pub fn start() -> Dockerd {
        require("dockerd", "docker.io");
        require("docker", "docker.io");
        let busybox = Path::new("/usr/bin/busybox");
        assert!(
            busybox.exists(),
            "/usr/bin/busybox is missing: tests/run installs the Debian package `busybox-static`"
        );
        assert!(
            rustix::process::geteuid().is_root(),
            "the container tests start a private dockerd, which needs root: run them as root (tests/run does under CI)"
        );
        let dir = tempfile::Builder::new()
            .prefix("dkc-")
            .tempdir_in("/tmp")
            .unwrap();
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).unwrap();
        let ns = format!("dkc{}", std::process::id());
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("root"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("docker.pid"))
            .arg("--host")
            .arg(format!("unix://{}", d.join("docker.sock").display()))
            .args(["--containerd-namespace", &ns])
            .args(["--containerd-plugins-namespace", &format!("{ns}p")])
            .args(["--bridge", "none", "--iptables=false", "--ip6tables=false"])
            .args(["--storage-driver", "vfs", "--shutdown-timeout", "1"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let mut e = Dockerd { child, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = e.child.try_wait() {
                panic!(
                    "dockerd exited ({status}) before answering: the container tests cannot run here.\n{}",
                    e.log_tail()
                );
            }
            if e.socket().exists() && e.cli(&["version"]).status().is_ok_and(|s| s.success()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not answer within 60 s\n{}",
                e.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        e.import_image();
        e
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("docker.sock")
    }

    pub fn endpoint(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// The directory of a container's json-file logs.
    pub fn log_dir(&self, id: &str) -> PathBuf {
        self.dir.path().join("root/containers").join(id)
    }

    /// The `docker` command aimed at this engine.
    pub fn cli(&self, args: &[&str]) -> Command {
        let mut c = Command::new("docker");
        c.env("DOCKER_HOST", self.endpoint())
            .env("DOCKER_CONFIG", self.dir.path().join("cli"))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs `docker args…`, panicking on failure; its standard output, trimmed.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cli(args).output().expect("run docker");
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn import_image(&self) {
        let root = self.dir.path().join("image");
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::copy("/usr/bin/busybox", root.join("bin/busybox")).unwrap();
        for applet in [
            "sh", "echo", "sleep", "seq", "cat", "head", "dd", "yes", "printf",
        ] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let tar = self.dir.path().join("image.tar");
        let st = Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap();
        assert!(st.success(), "tar of the test image failed");
        self.run(&[
            "import",
            "--change",
            "ENV PATH=/bin",
            &tar.to_string_lossy(),
            IMAGE,
        ]);
    }

    /// Starts a detached container of [`IMAGE`] running `sh -c script`; its full id.
    pub fn start_container(&self, name: &str, extra: &[&str], script: &str) -> String {
        let mut args = vec!["run", "-d", "--name", name, "--network", "none"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[IMAGE, "sh", "-c", script]);
        self.run(&args)
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // Containers are killed first (their `sh` ignores SIGTERM), then the engine stops.
        if let Ok(out) = self.cli(&["ps", "-aq"]).output() {
            let ids = String::from_utf8_lossy(&out.stdout).to_string();
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids);
                let _ = self.cli(&args).output();
            }
        }
        let pid = rustix::process::Pid::from_raw(self.child.id() as i32);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A size as `docker stats` prints it (`19.42MiB`, `1.2kB`, `0B`), in bytes.
pub fn parse_size(s: &str) -> f64 {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().unwrap_or_else(|_| panic!("size {s:?}"));
    let mult = match unit {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unknown size unit {other:?} in {s:?}"),
    };
    n * mult
}
