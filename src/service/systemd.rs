//! `systemctl`, run as a command. Which `systemctl` and whether a running systemd is behind it
//! is decided once, in [`Manager::detect`]; tests substitute a script through
//! `DATAKIT_SYSTEMCTL`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::layout::Layout;
use super::{ServiceError, UNIT_NAME};

/// The `systemctl` to run instead of the one on `PATH` (tests, unusual systems). With it set,
/// every action is carried out, even for a `--root` staging tree.
pub const SYSTEMCTL_ENV: &str = "DATAKIT_SYSTEMCTL";

/// The service manager of the target system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    Systemd(Systemctl),
    /// None that we support; the reason, for the user.
    None(String),
}

impl Manager {
    /// The manager for `layout` on this machine.
    pub fn detect(layout: &Layout) -> Manager {
        Manager::choose(
            layout,
            std::env::var_os(SYSTEMCTL_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            Path::new("/run/systemd/system").is_dir(),
            find_in_path("systemctl"),
        )
    }

    /// `overridden`: `DATAKIT_SYSTEMCTL`. `booted`: systemd runs this machine.
    /// `on_path`: the `systemctl` found on `PATH`.
    pub fn choose(
        layout: &Layout,
        overridden: Option<PathBuf>,
        booted: bool,
        on_path: Option<PathBuf>,
    ) -> Manager {
        let root = layout.is_staging().then(|| layout.root().to_path_buf());
        if let Some(program) = overridden {
            return Manager::Systemd(Systemctl {
                program,
                root,
                live: true,
            });
        }
        if layout.is_staging() {
            // `systemctl --root=DIR enable` works on a tree without a running systemd.
            return match on_path {
                Some(program) => Manager::Systemd(Systemctl {
                    program,
                    root,
                    live: false,
                }),
                None => Manager::None(
                    "`systemctl` is not installed here, so the unit in the staging tree cannot be enabled"
                        .into(),
                ),
            };
        }
        match (booted, on_path) {
            (true, Some(program)) => Manager::Systemd(Systemctl {
                program,
                root: None,
                live: true,
            }),
            (true, None) => Manager::None("systemd runs but `systemctl` is not on PATH".into()),
            (false, _) => Manager::None(
                "systemd is not running on this host (/run/systemd/system is missing). \
                 Run `datakit run` under your own supervisor (a container's entry point, runit, \
                 supervisord, ...)"
                    .into(),
            ),
        }
    }

    /// The systemd wrapper, or the reason there is none.
    pub fn systemd(&self) -> Result<&Systemctl, ServiceError> {
        match self {
            Manager::Systemd(s) => Ok(s),
            Manager::None(why) => Err(ServiceError::NoManager(why.clone())),
        }
    }
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// `systemctl` for the `datakit` unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Systemctl {
    program: PathBuf,
    /// `--root=` for enable/disable (a staging tree).
    root: Option<PathBuf>,
    /// A running systemd is behind it: start/stop/restart/reload/status act. When false
    /// (a staging tree) they are skipped.
    live: bool,
}

/// What `systemctl status` said.
#[derive(Debug, Clone)]
pub struct Status {
    /// systemctl's exit code: 0 running, 3 not running, 4 no such unit.
    pub code: i32,
    pub text: String,
}

impl Systemctl {
    /// Whether start/stop/restart reach a running service manager.
    pub fn is_live(&self) -> bool {
        self.live
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.program);
        c.args(args).stdin(Stdio::null());
        c
    }

    fn describe(&self, args: &[&str]) -> (String, String) {
        (self.program.display().to_string(), args.join(" "))
    }

    fn run(&self, args: &[&str]) -> Result<(), ServiceError> {
        tracing::info!(program = %self.program.display(), ?args, "systemctl");
        let out = self.command(args).output().map_err(|error| {
            let (program, args) = self.describe(args);
            ServiceError::Spawn {
                program,
                args,
                error,
            }
        })?;
        if out.status.success() {
            return Ok(());
        }
        let (program, args) = self.describe(args);
        let mut stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let lower = stderr.to_lowercase();
        if !super::is_root()
            && (lower.contains("access denied") || lower.contains("authentication"))
        {
            stderr.push_str(" (run it as root, e.g. with sudo)");
        }
        Err(ServiceError::Command {
            program,
            args,
            status: out.status.to_string(),
            stderr,
        })
    }

    fn root_args(&self) -> Vec<String> {
        self.root
            .iter()
            .map(|r| format!("--root={}", r.display()))
            .collect()
    }

    /// `systemctl [--root=DIR] enable datakit.service`.
    pub fn enable(&self) -> Result<(), ServiceError> {
        let mut args = self.root_args();
        args.extend(["enable".to_string(), UNIT_NAME.to_string()]);
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `systemctl [--root=DIR] disable datakit.service`.
    pub fn disable(&self) -> Result<(), ServiceError> {
        let mut args = self.root_args();
        args.extend(["disable".to_string(), UNIT_NAME.to_string()]);
        self.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Runs `verb datakit.service` on a live system; `Ok(false)` when skipped (staging tree).
    fn live_verb(&self, verb: &str) -> Result<bool, ServiceError> {
        if !self.live {
            return Ok(false);
        }
        self.run(&[verb, UNIT_NAME])?;
        Ok(true)
    }

    pub fn start(&self) -> Result<bool, ServiceError> {
        self.live_verb("start")
    }

    pub fn stop(&self) -> Result<bool, ServiceError> {
        self.live_verb("stop")
    }

    pub fn restart(&self) -> Result<bool, ServiceError> {
        self.live_verb("restart")
    }

    /// `systemctl daemon-reload` (after the unit file changed).
    pub fn daemon_reload(&self) -> Result<bool, ServiceError> {
        if !self.live {
            return Ok(false);
        }
        self.run(&["daemon-reload"])?;
        Ok(true)
    }

    /// Whether the service runs (`systemctl is-active`); `None` on a staging tree.
    pub fn is_active(&self) -> Result<Option<bool>, ServiceError> {
        if !self.live {
            return Ok(None);
        }
        let args = ["is-active", "--quiet", UNIT_NAME];
        let st = self
            .command(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|error| {
                let (program, args) = self.describe(&args);
                ServiceError::Spawn {
                    program,
                    args,
                    error,
                }
            })?;
        Ok(Some(st.success()))
    }

    /// `systemctl status datakit.service`; `None` on a staging tree.
    pub fn status(&self) -> Result<Option<Status>, ServiceError> {
        if !self.live {
            return Ok(None);
        }
        let args = ["status", "--no-pager", "--lines=10", UNIT_NAME];
        let out = self.command(&args).output().map_err(|error| {
            let (program, args) = self.describe(&args);
            ServiceError::Spawn {
                program,
                args,
                error,
            }
        })?;
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Ok(Some(Status {
            code: out.status.code().unwrap_or(1),
            text,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live() -> Layout {
        Layout::new(None, Path::new("/usr/local/datakit")).unwrap()
    }
    fn staged() -> Layout {
        Layout::new(Some(Path::new("/stage")), Path::new("/usr/local/datakit")).unwrap()
    }

    #[test]
    fn a_booted_systemd_is_used() {
        let m = Manager::choose(&live(), None, true, Some("/usr/bin/systemctl".into()));
        let s = m.systemd().unwrap();
        assert!(s.is_live());
        assert_eq!(s.root_args(), Vec::<String>::new());
    }

    #[test]
    fn without_systemd_there_is_a_clear_message() {
        let m = Manager::choose(&live(), None, false, Some("/usr/bin/systemctl".into()));
        let err = m.systemd().unwrap_err().to_string();
        assert!(err.contains("systemd is not running"), "{err}");
        assert!(err.contains("datakit run"), "{err}");
    }

    #[test]
    fn a_staging_tree_is_enabled_offline() {
        let m = Manager::choose(&staged(), None, true, Some("/usr/bin/systemctl".into()));
        let s = m.systemd().unwrap();
        assert!(!s.is_live());
        assert_eq!(s.root_args(), vec!["--root=/stage".to_string()]);
        assert!(!s.start().unwrap());
        assert!(!s.restart().unwrap());
        assert_eq!(s.is_active().unwrap(), None);
    }

    #[test]
    fn an_override_acts_even_on_a_staging_tree() {
        let m = Manager::choose(&staged(), Some("/fake".into()), false, None);
        let s = m.systemd().unwrap();
        assert!(s.is_live());
        assert_eq!(s.program, PathBuf::from("/fake"));
        assert_eq!(s.root_args(), vec!["--root=/stage".to_string()]);
    }

    #[test]
    fn a_failing_systemctl_reports_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("systemctl");
        std::fs::write(
            &fake,
            "#!/bin/sh\necho \"Unit $2 not found.\" >&2\nexit 5\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let m = Manager::choose(&live(), Some(fake), false, None);
        let err = m.systemd().unwrap().start().unwrap_err().to_string();
        assert!(err.contains("start datakit.service"), "{err}");
        assert!(err.contains("Unit datakit.service not found."), "{err}");
    }
}
