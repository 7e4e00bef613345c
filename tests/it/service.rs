//! `datakit install`, `service` and `upgrade` in staging trees (`--root`): the real binary,
//! a fake `systemctl` that records its arguments (and, for upgrades, starts and stops
//! `datakit run` as systemd would), `systemd-analyze verify` on the unit, and a local release
//! server for upgrades. Nothing outside temporary directories is touched.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use sha2::Digest;

use crate::support::releases::{ReleaseServer, Served};
use crate::support::servers::{free_port, http_get, require};
use crate::support::{datakit, stdout};

pub(crate) const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Stands in for systemctl: appends its arguments to `$FAKE_STATE/calls`; with
/// `FAKE_AGENT_WORKDIR` set, `start`/`stop`/`restart` run `<workdir>/datakit run` in the
/// background, as the unit would.
const FAKE_SYSTEMCTL: &str = r#"#!/bin/bash
echo "$*" >> "$FAKE_STATE/calls"
pidfile="$FAKE_STATE/agent.pid"
alive() {
  [ -f "$pidfile" ] || return 1
  p=$(cat "$pidfile")
  [ -d "/proc/$p" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" 2>/dev/null
}
stop_agent() {
  if alive; then
    kill -TERM "$p"
    for _ in $(seq 1 200); do alive || break; sleep 0.05; done
    alive && kill -KILL "$p"
  fi
  rm -f "$pidfile"
}
start_agent() {
  [ -n "$FAKE_AGENT_WORKDIR" ] || return 0
  alive && return 0
  "$FAKE_AGENT_WORKDIR/datakit" --workdir "$FAKE_AGENT_WORKDIR" run </dev/null >>"$FAKE_STATE/agent.out" 2>&1 &
  echo $! > "$pidfile"
}
case "$1" in
  start) start_agent ;;
  stop) stop_agent ;;
  restart) stop_agent; start_agent ;;
  is-active) alive; exit $? ;;
  status)
    if alive; then echo "datakit.service: active (running)"; else echo "datakit.service: inactive (dead)"; exit 3; fi ;;
esac
exit 0
"#;

/// A staging root with a fake systemctl; kills the agent the fake started, when dropped.
pub(crate) struct Stage {
    dir: tempfile::TempDir,
    /// When set, the fake systemctl runs the staged binary.
    pub(crate) run_agent: bool,
}

impl Stage {
    pub(crate) fn new() -> Stage {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("fake")).unwrap();
        std::fs::create_dir_all(dir.path().join("root")).unwrap();
        let fake = dir.path().join("fake/systemctl");
        std::fs::write(&fake, FAKE_SYSTEMCTL).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        Stage {
            dir,
            run_agent: false,
        }
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The workdir on this machine.
    pub(crate) fn wd(&self) -> PathBuf {
        self.root().join("usr/local/datakit")
    }

    /// `datakit --color never ARGS --root <root>` with the fake systemctl.
    pub(crate) fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = self.cmd_real(args);
        c.env("DATAKIT_SYSTEMCTL", self.dir.path().join("fake/systemctl"))
            .env("FAKE_STATE", self.dir.path().join("fake"));
        if self.run_agent {
            c.env("FAKE_AGENT_WORKDIR", self.wd());
        }
        c
    }

    /// The same without the fake: `systemctl --root=` on this machine's systemctl.
    fn cmd_real(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = datakit();
        c.env_remove("DATAKIT_SYSTEMCTL")
            .env_remove("DK_DATAWAY")
            .env_remove("DK_DEF_INPUTS")
            .env_remove("DK_GLOBAL_HOST_TAGS")
            .args(["--color", "never"])
            .args(args)
            .arg("--root")
            .arg(self.root());
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "datakit {args:?} failed:\n{}\n{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
        stdout(&out)
    }

    /// systemctl calls so far, one per line.
    pub(crate) fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("fake/calls"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    pub(crate) fn clear_calls(&self) {
        let _ = std::fs::remove_file(self.dir.path().join("fake/calls"));
    }

    pub(crate) fn agent_out(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("fake/agent.out")).unwrap_or_default()
    }

    /// Sets a key of the staged datakit.conf by replacing its line.
    pub(crate) fn set_conf(&self, from: &str, to: &str) {
        let p = self.wd().join("conf.d/datakit.conf");
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "no `{from}` in datakit.conf");
        std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("fake/agent.pid"))
            && let Ok(pid) = pid.trim().parse::<i32>()
            && let Some(pid) = rustix::process::Pid::from_raw(pid)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Every entry under `root`: kind, mode, modification time and content (or link target).
pub(crate) fn snapshot(root: &Path) -> BTreeMap<PathBuf, (String, u32, i64, i64, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            let (kind, content) = if m.file_type().is_symlink() {
                (
                    "link",
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                )
            } else if m.is_dir() {
                stack.push(p.clone());
                // A directory's time changes with temporary files made and removed in it.
                out.insert(rel, ("dir".to_string(), m.mode(), 0, 0, Vec::new()));
                continue;
            } else {
                ("file", std::fs::read(&p).unwrap())
            };
            out.insert(
                rel,
                (
                    kind.to_string(),
                    m.mode(),
                    m.mtime(),
                    m.mtime_nsec(),
                    content,
                ),
            );
        }
    }
    out
}

fn files_outside(root: &Path, keep: &Path) -> Vec<PathBuf> {
    snapshot(root)
        .into_iter()
        .filter(|(p, (kind, ..))| kind != "dir" && !root.join(p).starts_with(keep))
        .map(|(p, _)| p)
        .collect()
}

pub(crate) fn own_binary() -> Vec<u8> {
    std::fs::read(assert_cmd::cargo::cargo_bin("datakit")).unwrap()
}

#[test]
fn install_lays_out_the_workdir_the_link_and_the_service() {
    let s = Stage::new();
    let out = s.ok(&[
        "install",
        "--dataway",
        "https://openway.guance.com",
        "--token",
        "tkn_0123456789",
        "--global-tags",
        "env=prod,team=obs",
    ]);
    assert!(out.contains("Install OK"), "{out}");
    let wd = s.wd();

    let bin = wd.join("datakit");
    assert_eq!(std::fs::read(&bin).unwrap(), own_binary());
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    for d in ["conf.d", "conf.d/samples", "pipeline", "data", "cache"] {
        assert!(wd.join(d).is_dir(), "{d}");
    }
    let conf = std::fs::read_to_string(wd.join("conf.d/datakit.conf")).unwrap();
    assert!(
        conf.contains(r#"urls = ["https://openway.guance.com?token=tkn_0123456789"]"#),
        "{conf}"
    );
    assert!(conf.contains("env = \"prod\"") && conf.contains("team = \"obs\""));
    assert!(conf.contains("# Type: string. Environment: ENV_UPGRADE_INDEX_URL."));
    // The token is in it: root only.
    assert_eq!(
        std::fs::metadata(wd.join("conf.d/datakit.conf"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert!(wd.join("conf.d/datakit.conf.sample").is_file());
    assert!(wd.join("conf.d/samples/dk.conf.sample").is_file());
    let dk = std::fs::read_to_string(wd.join("conf.d/dk.conf")).unwrap();
    assert!(dk.contains("[[inputs.dk]]"), "{dk}");

    assert_eq!(
        std::fs::read_link(s.root().join("usr/local/bin/datakit")).unwrap(),
        PathBuf::from("/usr/local/datakit/datakit")
    );
    let unit =
        std::fs::read_to_string(s.root().join("etc/systemd/system/datakit.service")).unwrap();
    for line in [
        "Type=notify",
        "ExecStart=/usr/local/datakit/datakit --workdir /usr/local/datakit run",
        "Restart=always",
        "LimitNOFILE=64000",
        "WantedBy=multi-user.target",
    ] {
        assert!(unit.lines().any(|l| l == line), "{line}:\n{unit}");
    }
    let root_arg = format!("--root={}", s.root().display());
    assert_eq!(
        s.calls(),
        vec![
            "daemon-reload".to_string(),
            format!("{root_arg} enable datakit.service"),
            "restart datakit.service".to_string(),
        ]
    );

    // The agent accepts what was written.
    let check = datakit()
        .args(["--color", "never", "--workdir"])
        .arg(&wd)
        .arg("check-config")
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("0 error(s), 0 warning(s)"),
        "{}",
        stdout(&check)
    );
}

#[test]
fn installing_twice_changes_nothing() {
    let s = Stage::new();
    let args = [
        "install",
        "--dataway",
        "https://openway.guance.com?token=tkn_1",
        "--enable-inputs",
        "dk",
    ];
    s.ok(&args);
    let before = snapshot(&s.root());
    s.clear_calls();
    let out = s.ok(&args);
    assert!(out.contains("Install OK: nothing changed"), "{out}");
    assert_eq!(
        snapshot(&s.root()),
        before,
        "the second install changed files"
    );
    // Enabled again (a no-op), started if stopped, but not restarted.
    let root_arg = format!("--root={}", s.root().display());
    assert_eq!(
        s.calls(),
        vec![
            format!("{root_arg} enable datakit.service"),
            "start datakit.service".to_string()
        ]
    );
    // Without flags the existing config is kept as well.
    let out = s.ok(&["install"]);
    assert!(out.contains("nothing changed"), "{out}");
    assert_eq!(snapshot(&s.root()), before);
}

#[test]
fn an_existing_config_is_kept_unless_settings_or_merge_are_asked() {
    let s = Stage::new();
    let conf = s.wd().join("conf.d/datakit.conf");
    std::fs::create_dir_all(conf.parent().unwrap()).unwrap();
    let mine = "# my own config\nname = \"edge-1\"\nauto_update = true\n\n[dataway]\nurls = [\"https://dw.example?token=tkn_mine\"]\n";
    std::fs::write(&conf, mine).unwrap();

    let out = s.ok(&["install", "--no-service"]);
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), mine, "{out}");

    let out = s.ok(&["install", "--no-service", "--merge-defaults"]);
    let merged = std::fs::read_to_string(&conf).unwrap();
    assert!(merged.contains("name = \"edge-1\""), "{merged}");
    assert!(merged.contains("tkn_mine"), "{merged}");
    assert!(merged.contains("[upgrade]"), "{merged}");
    assert!(
        out.contains("auto_update"),
        "the dropped key is named: {out}"
    );
    let backups: Vec<_> = std::fs::read_dir(conf.parent().unwrap())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("datakit.conf.old.")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{out}");
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), mine);

    // Merging again finds nothing to do.
    let out = s.ok(&["install", "--no-service", "--merge-defaults"]);
    assert!(out.contains("nothing changed"), "{out}");

    // A setting rewrites it, keeping the other values.
    s.ok(&["install", "--no-service", "--global-tags", "rack=r7"]);
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(text.contains("rack = \"r7\"") && text.contains("name = \"edge-1\""));

    // --no-service: no unit, no systemctl.
    assert!(!s.root().join("etc/systemd/system/datakit.service").exists());
    assert!(s.calls().is_empty(), "{:?}", s.calls());
}

#[test]
fn bad_install_options_are_refused_before_anything_is_written() {
    let s = Stage::new();
    for (args, msg) in [
        (
            vec!["install", "--token", "tkn_1"],
            "--token needs a DataWay URL",
        ),
        (
            vec!["install", "--enable-inputs", "dkk"],
            "did you mean `dk`",
        ),
        (
            vec!["install", "--dataway", "openway.guance.com"],
            "invalid DataWay URL",
        ),
        (vec!["install", "--global-tags", "novalue"], "key=value"),
    ] {
        let out = s.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(msg), "{args:?}: {err}");
    }
    assert!(!s.wd().join("conf.d/datakit.conf").exists());
    let out = s.run(&["--workdir", "relative/dir", "install"]);
    assert!(
        out.status.success(),
        "a relative --workdir is made absolute"
    );
}

#[test]
fn uninstall_leaves_only_the_workdir() {
    let s = Stage::new();
    s.ok(&["install"]);
    s.clear_calls();
    let out = s.ok(&["service", "uninstall"]);
    assert!(out.contains("Uninstall DataKit OK"), "{out}");
    assert!(out.contains("kept"), "{out}");
    assert_eq!(files_outside(&s.root(), &s.wd()), Vec::<PathBuf>::new());
    assert!(s.wd().join("datakit").is_file());
    assert!(s.wd().join("conf.d/datakit.conf").is_file());
    let root_arg = format!("--root={}", s.root().display());
    assert_eq!(
        s.calls(),
        vec![
            "is-active --quiet datakit.service".to_string(),
            format!("{root_arg} disable datakit.service"),
            "daemon-reload".to_string(),
        ]
    );
    // Again: nothing left to do.
    let out = s.ok(&["service", "-U"]);
    assert!(out.contains("Uninstall DataKit OK"), "{out}");
}

#[test]
fn systemctl_root_enables_and_disables_the_staged_unit() {
    require("systemctl", "systemd");
    let s = Stage::new();
    let out = s.cmd_real(&["install"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout(&out).contains("enabled there, not started"),
        "{}",
        stdout(&out)
    );
    let wants = s
        .root()
        .join("etc/systemd/system/multi-user.target.wants/datakit.service");
    assert_eq!(
        std::fs::read_link(&wants).unwrap(),
        PathBuf::from("/etc/systemd/system/datakit.service")
    );
    let out = s.cmd_real(&["service", "uninstall"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::symlink_metadata(&wants).is_err());
    assert_eq!(files_outside(&s.root(), &s.wd()), Vec::<PathBuf>::new());
    // A staging tree has no running service to start.
    let out = s.cmd_real(&["service", "start"]).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("staging tree"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies into the staging tree what `systemd-analyze verify --root` reads besides our unit:
/// systemd's own units (for the targets ours refers to) and `kill` (ExecReload).
fn stage_systemd(root: &Path) {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let p = e.path();
            let t = to.join(e.file_name());
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.file_type().is_symlink() {
                let _ = std::os::unix::fs::symlink(std::fs::read_link(&p).unwrap(), &t);
            } else if m.is_dir() {
                copy_dir(&p, &t);
            } else {
                std::fs::copy(&p, &t).unwrap();
            }
        }
    }
    copy_dir(
        Path::new("/usr/lib/systemd/system"),
        &root.join("usr/lib/systemd/system"),
    );
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::copy("/bin/kill", root.join("usr/bin/kill")).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
}

fn analyze_verify(s: &Stage) -> Output {
    std::process::Command::new("systemd-analyze")
        .arg("verify")
        .arg(format!("--root={}", s.root().display()))
        .arg("/etc/systemd/system/datakit.service")
        .output()
        .unwrap()
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    require("systemd-analyze", "systemd");
    require("kill", "procps");
    let s = Stage::new();
    stage_systemd(&s.root());
    s.ok(&["install"]);
    let out = analyze_verify(&s);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");

    // With a service user and limits as well.
    s.set_conf("datakit_user = \"root\"", "datakit_user = \"datakit\"");
    s.set_conf("cpu_cores = 2.0", "cpu_cores = 0.5");
    let out = s.ok(&["service", "reinstall"]);
    assert!(out.contains("Reinstall DataKit OK"), "{out}");
    let unit =
        std::fs::read_to_string(s.root().join("etc/systemd/system/datakit.service")).unwrap();
    assert!(
        unit.contains("\nUser=datakit\n") && unit.contains("\nCPUQuota=50%\n"),
        "{unit}"
    );
    let out = analyze_verify(&s);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && err.trim().is_empty(), "{err}");

    // A broken unit is caught by the same check (the test can fail).
    let p = s.root().join("etc/systemd/system/datakit.service");
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    writeln!(f, "Bogus=1").unwrap();
    let out = analyze_verify(&s);
    assert!(String::from_utf8_lossy(&out.stderr).contains("Bogus"));
}

#[test]
fn service_actions_and_short_flags_call_systemctl() {
    let s = Stage::new();
    // Before install: nothing to control.
    let out = s.run(&["service", "start"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not installed") && err.contains("datakit install"),
        "{err}"
    );

    s.ok(&["install"]);
    for (args, msg, call) in [
        (
            vec!["service", "start"],
            "Start DataKit OK",
            "start datakit.service",
        ),
        (
            vec!["service", "-S"],
            "Start DataKit OK",
            "start datakit.service",
        ),
        (
            vec!["service", "stop"],
            "Stop DataKit OK",
            "stop datakit.service",
        ),
        (
            vec!["service", "-T"],
            "Stop DataKit OK",
            "stop datakit.service",
        ),
        (
            vec!["service", "restart"],
            "Restart DataKit OK",
            "restart datakit.service",
        ),
        (
            vec!["service", "-R"],
            "Restart DataKit OK",
            "restart datakit.service",
        ),
    ] {
        s.clear_calls();
        let out = s.ok(&args);
        assert!(out.contains(msg), "{args:?}: {out}");
        assert_eq!(s.calls(), vec![call.to_string()], "{args:?}");
    }

    s.clear_calls();
    let out = s.run(&["service", "status"]);
    assert_eq!(out.status.code(), Some(3), "not running: systemctl's code");
    assert!(stdout(&out).contains("inactive"), "{}", stdout(&out));
    assert_eq!(
        s.calls(),
        vec!["status --no-pager --lines=10 datakit.service".to_string()]
    );

    s.clear_calls();
    let out = s.ok(&["service", "-I"]);
    assert!(out.contains("Reinstall DataKit OK"), "{out}");
    let calls = s.calls();
    assert!(
        calls.iter().any(|c| c.ends_with("disable datakit.service")),
        "{calls:?}"
    );
    assert!(
        calls.iter().any(|c| c.ends_with("enable datakit.service")),
        "{calls:?}"
    );
    assert_eq!(
        calls.last().map(String::as_str),
        Some("restart datakit.service")
    );

    s.ok(&["service", "uninstall"]);
    let out = s.ok(&["service", "install"]);
    assert!(out.contains("Install DataKit service OK"), "{out}");
    assert!(
        s.root()
            .join("etc/systemd/system/datakit.service")
            .is_file()
    );

    // One action at a time.
    assert!(!s.run(&["service"]).status.success());
    assert!(!s.run(&["service", "start", "-T"]).status.success());
}

// ---- upgrades ----

/// A gzip-compressed tar holding `datakit` (under `dir/` if given) with `bin` as content.
pub(crate) fn tarball(bin: &[u8], dir: Option<&str>) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_size(bin.len() as u64);
    h.set_mode(0o755);
    h.set_entry_type(tar::EntryType::Regular);
    let path = match dir {
        Some(d) => format!("{d}/datakit"),
        None => "datakit".into(),
    };
    b.append_data(&mut h, path, bin).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

pub(crate) fn sha256_hex(b: &[u8]) -> String {
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// An installed staging tree whose agent listens on a free port, with the release index at
/// `server`.
fn installed_for_upgrade(server: &ReleaseServer) -> (Stage, u16) {
    let s = Stage::new();
    s.ok(&["install"]);
    let port = free_port();
    s.set_conf(
        "listen = \"localhost:9529\"",
        &format!("listen = \"127.0.0.1:{port}\""),
    );
    s.set_conf(
        "index_url = \"\"",
        &format!("index_url = \"{}\"", server.url("datakit/index.json")),
    );
    s.clear_calls();
    (s, port)
}

fn publish(server: &ReleaseServer, version: &str, tgz: Served, sha256: &str) -> String {
    let name = format!("datakit-{version}-linux-{}.tar.gz", arch());
    server.put(&format!("datakit/{name}"), tgz);
    let index = serde_json::json!([{ "version": version, "url": name, "sha256": sha256 }]);
    server.put(
        "datakit/index.json",
        Served::Full(index.to_string().into_bytes()),
    );
    name
}

pub(crate) fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn upgrade_installs_a_verified_release_keeps_the_old_binary_and_restarts() {
    let server = ReleaseServer::start();
    let (mut s, port) = installed_for_upgrade(&server);
    s.run_agent = true;
    let old = own_binary();
    // A different, working binary: a script that runs the agent built for the tests (a tarball
    // of the 170 MB debug binary would take most of the test's time to pack and hash).
    let real = assert_cmd::cargo::cargo_bin("datakit");
    let new = format!(
        "#!/bin/sh\n# upgrade test\nexec '{}' \"$@\"\n",
        real.display()
    )
    .into_bytes();
    let tgz = tarball(&new, Some(&format!("datakit-{VERSION}-linux-{}", arch())));
    publish(
        &server,
        VERSION,
        Served::Full(tgz.clone()),
        &sha256_hex(&tgz),
    );

    let out = s.run(&["upgrade", "--version", VERSION]);
    assert!(
        out.status.success(),
        "{}\n{}\n{}",
        stdout(&out),
        stderr(&out),
        s.agent_out()
    );
    let text = stdout(&out);
    assert!(text.contains("verified"), "{text}");
    assert!(text.contains("the service runs the new version"), "{text}");
    assert_eq!(std::fs::read(s.wd().join("datakit")).unwrap(), new);
    assert_eq!(std::fs::read(s.wd().join("datakit.bak")).unwrap(), old);
    assert_eq!(s.calls(), vec!["restart datakit.service".to_string()]);
    let (status, body) = http_get(&format!("http://127.0.0.1:{port}/v1/ping")).unwrap();
    assert_eq!(status, 200);
    assert!(body.contains(VERSION), "{body}");
    // No download or unpack leftovers.
    let leftovers: Vec<_> = std::fs::read_dir(s.wd())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".datakit-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn upgrade_check_and_up_to_date() {
    let server = ReleaseServer::start();
    let (s, _) = installed_for_upgrade(&server);
    let tgz = tarball(b"x", None);
    publish(
        &server,
        "99.1.0",
        Served::Full(tgz.clone()),
        &sha256_hex(&tgz),
    );
    let out = s.ok(&["upgrade", "--check"]);
    assert!(out.contains("latest:  99.1.0"), "{out}");
    assert!(out.contains("A newer release is available"), "{out}");
    assert!(
        !server.requests().iter().any(|r| r.ends_with(".tar.gz")),
        "--check downloads nothing"
    );

    publish(
        &server,
        VERSION,
        Served::Full(tgz.clone()),
        &sha256_hex(&tgz),
    );
    let out = s.ok(&["upgrade", "--check"]);
    assert!(out.contains("up to date"), "{out}");
    let out = s.ok(&["upgrade"]);
    assert!(out.contains("nothing to do"), "{out}");
    assert!(s.calls().is_empty());
}

/// Runs a refused upgrade and checks that nothing in the tree changed.
fn refused(s: &Stage, args: &[&str], expect: &str) {
    let before = snapshot(&s.root());
    let out = s.run(args);
    assert!(!out.status.success(), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains(expect), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(
        snapshot(&s.root()),
        before,
        "a refused upgrade changed files"
    );
    assert!(s.calls().is_empty(), "{:?}", s.calls());
}

#[test]
fn upgrade_refuses_a_checksum_mismatch() {
    let server = ReleaseServer::start();
    let (s, _) = installed_for_upgrade(&server);
    let tgz = tarball(b"#!/bin/sh\n", None);
    publish(&server, "99.0.0", Served::Full(tgz), &"0".repeat(64));
    refused(&s, &["upgrade"], "checksum mismatch");
}

#[test]
fn upgrade_refuses_a_truncated_download() {
    let server = ReleaseServer::start();
    let (s, _) = installed_for_upgrade(&server);
    let mut big = own_binary();
    big.truncate(2 << 20);
    let tgz = tarball(&big, None);
    let half = tgz.len() / 2;
    publish(
        &server,
        "99.0.0",
        Served::CutAfter(tgz.clone(), half),
        &sha256_hex(&tgz),
    );
    refused(&s, &["upgrade"], "cut short");
}

#[test]
fn upgrade_refuses_unsafe_or_unverifiable_tarballs() {
    let server = ReleaseServer::start();
    let (s, _) = installed_for_upgrade(&server);
    // An entry that climbs out of the archive.
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_mode(0o755);
    h.set_entry_type(tar::EntryType::Regular);
    let name = b"../../../usr/bin/datakit";
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_cksum();
    b.append(&h, &b"x\n"[..]).unwrap();
    let evil = b.into_inner().unwrap().finish().unwrap();
    publish(
        &server,
        "99.0.0",
        Served::Full(evil.clone()),
        &sha256_hex(&evil),
    );
    refused(&s, &["upgrade"], "points outside the archive");

    // --url without a SHA256SUMS next to it.
    server.put("other/datakit.tar.gz", Served::Full(evil));
    refused(
        &s,
        &["upgrade", "--url", &server.url("other/datakit.tar.gz")],
        "cannot verify",
    );
}

#[test]
fn upgrade_by_url_reads_sha256sums_and_rolls_back_a_binary_that_does_not_come_up() {
    let server = ReleaseServer::start();
    let (mut s, port) = installed_for_upgrade(&server);
    s.run_agent = true;
    let old = own_binary();
    // Says it is datakit 9.9.9, but `run` fails at once.
    let bad = b"#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'datakit 9.9.9'; exit 0; fi\necho 'cannot start' >&2\nexit 1\n";
    let tgz = tarball(bad, None);
    let name = format!("datakit-9.9.9-linux-{}.tar.gz", arch());
    server.put(&format!("rel/{name}"), Served::Full(tgz.clone()));
    server.put(
        "rel/SHA256SUMS",
        Served::Full(format!("{}  {name}\n", sha256_hex(&tgz)).into_bytes()),
    );

    let out = s.run(&[
        "upgrade",
        "--url",
        &server.url(&format!("rel/{name}")),
        "--health-timeout",
        "3s",
    ]);
    let err = stderr(&out);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(err.contains("did not answer"), "{err}");
    assert!(err.contains("rolled back"), "{err}");
    assert!(
        err.contains(&format!("the previous agent ({VERSION}) runs again")),
        "{err}\n{}",
        s.agent_out()
    );
    assert_eq!(std::fs::read(s.wd().join("datakit")).unwrap(), old);
    assert_eq!(
        s.calls(),
        vec![
            "restart datakit.service".to_string(),
            "restart datakit.service".to_string()
        ]
    );
    assert!(s.agent_out().contains("cannot start"), "{}", s.agent_out());
    let (status, _) = http_get(&format!("http://127.0.0.1:{port}/v1/ping")).unwrap();
    assert_eq!(status, 200);
}
