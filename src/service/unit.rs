//! The systemd unit text.
//!
//! `Type=notify`: `datakit run` sends `READY=1` once its inputs and HTTP API run, so
//! `systemctl start`/`restart` return only when the agent really serves. Hardening keeps the
//! agent from changing the system while leaving everything collection needs: it reads all of
//! `/proc`, `/sys`, `/dev` and the log files it tails (including under `/home`, read-only),
//! and writes only its workdir (and `/var`, `/tmp`, where users put log files and sockets).

use std::path::PathBuf;

use super::layout::Layout;
use crate::config::MainConfig;

/// What the unit is rendered from.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitOptions {
    /// The binary (target path).
    pub binary: PathBuf,
    /// The workdir (target path).
    pub workdir: PathBuf,
    /// `User=`; `None` runs as root.
    pub user: Option<String>,
    /// `LimitNOFILE=` (0: systemd's default).
    pub nofile: u64,
    /// `MemoryMax=` in MiB.
    pub memory_max_mb: Option<u64>,
    /// `CPUQuota=` in percent of one core.
    pub cpu_quota_percent: Option<u64>,
    /// `TimeoutStopSec=`.
    pub stop_timeout_secs: u64,
}

impl UnitOptions {
    /// The unit for `layout`, with the user, open-file limit, resource limits and shutdown
    /// time from `cfg`.
    ///
    /// The original agent put `MemoryLimit=`/`CPUQuota=` in the unit only for a non-root
    /// user and applied a cgroup itself as root. This agent does not manage cgroups itself, so
    /// `[resource_limit]` always goes into the unit (as `MemoryMax=`, the cgroup v2 name).
    pub fn from_config(layout: &Layout, cfg: &MainConfig) -> UnitOptions {
        let user = cfg.datakit_user.trim();
        let rl = &cfg.resource_limit;
        let stop = cfg.shutdown_timeout.get().as_secs().max(1) + 15;
        UnitOptions {
            binary: layout.binary(),
            workdir: layout.workdir().to_path_buf(),
            user: (!user.is_empty() && user != "root").then(|| user.to_string()),
            nofile: cfg.ulimit,
            memory_max_mb: (rl.enable && rl.mem_max_mb > 0).then_some(rl.mem_max_mb as u64),
            cpu_quota_percent: (rl.enable && rl.cpu_cores > 0.0)
                .then(|| (rl.cpu_cores * 100.0).round().max(1.0) as u64),
            stop_timeout_secs: stop,
        }
    }
}

/// The unit file text.
pub fn render(o: &UnitOptions) -> String {
    let bin = o.binary.display();
    let wd = o.workdir.display();
    let mut s = String::new();
    s.push_str("# Written by `datakit install` / `datakit service install`; rewritten by them.\n");
    s.push_str("# Local changes belong in a drop-in: `systemctl edit datakit`.\n");
    s.push_str("[Unit]\n");
    s.push_str("Description=DataKit, the host observability agent\n");
    s.push_str("After=network-online.target\n");
    s.push_str("Wants=network-online.target\n");
    s.push_str(&format!("ConditionFileIsExecutable={bin}\n"));
    s.push_str("StartLimitIntervalSec=60\n");
    s.push_str("StartLimitBurst=5\n");
    s.push_str("\n[Service]\n");
    s.push_str("Type=notify\n");
    s.push_str("NotifyAccess=main\n");
    s.push_str(&format!("ExecStart={bin} --workdir {wd} run\n"));
    s.push_str("# SIGHUP reloads the input configs and Pipeline scripts.\n");
    s.push_str("ExecReload=/bin/kill -HUP $MAINPID\n");
    s.push_str("EnvironmentFile=-/etc/default/datakit\n");
    s.push_str("EnvironmentFile=-/etc/sysconfig/datakit\n");
    s.push_str("Restart=always\n");
    s.push_str("RestartSec=10\n");
    s.push_str("# 78: a configuration error, which restarting does not fix.\n");
    s.push_str("RestartPreventExitStatus=78\n");
    s.push_str("# SIGTERM to the agent only: it stops its inputs and flushes every batch.\n");
    s.push_str("KillMode=mixed\n");
    s.push_str(&format!("TimeoutStopSec={}\n", o.stop_timeout_secs));
    if let Some(u) = &o.user {
        s.push_str(&format!("User={u}\n"));
    }
    if o.nofile > 0 {
        s.push_str(&format!("LimitNOFILE={}\n", o.nofile));
    }
    if let Some(mb) = o.memory_max_mb {
        s.push_str(&format!("MemoryMax={mb}M\n"));
    }
    if let Some(p) = o.cpu_quota_percent {
        s.push_str(&format!("CPUQuota={p}%\n"));
    }
    s.push_str("# Hardening that leaves collection alone (see `datakit service --help`).\n");
    s.push_str("NoNewPrivileges=yes\n");
    s.push_str("ProtectSystem=full\n");
    s.push_str(&format!("ReadWritePaths={wd}\n"));
    s.push_str("ProtectHome=read-only\n");
    s.push_str("ProtectKernelModules=yes\n");
    s.push_str("RestrictSUIDSGID=yes\n");
    s.push_str("RestrictRealtime=yes\n");
    s.push_str("LockPersonality=yes\n");
    s.push_str("\n[Install]\n");
    s.push_str("WantedBy=multi-user.target\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn layout() -> Layout {
        Layout::new(Some(Path::new("/stage")), Path::new("/usr/local/datakit")).unwrap()
    }

    #[test]
    fn default_unit() {
        let o = UnitOptions::from_config(&layout(), &MainConfig::default());
        assert_eq!(o.user, None);
        let text = render(&o);
        for line in [
            "Type=notify",
            "ExecStart=/usr/local/datakit/datakit --workdir /usr/local/datakit run",
            "ConditionFileIsExecutable=/usr/local/datakit/datakit",
            "Restart=always",
            "LimitNOFILE=64000",
            "MemoryMax=4096M",
            "CPUQuota=200%",
            "ReadWritePaths=/usr/local/datakit",
            "TimeoutStopSec=45",
            "WantedBy=multi-user.target",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}:\n{text}");
        }
        assert!(!text.contains("User="));
        // Paths are the target system's, never the staging tree's.
        assert!(!text.contains("/stage"));
    }

    #[test]
    fn user_and_limits_follow_the_config() {
        let mut cfg = MainConfig {
            datakit_user: "datakit".into(),
            ..MainConfig::default()
        };
        cfg.resource_limit.cpu_cores = 0.5;
        cfg.resource_limit.mem_max_mb = 0;
        let text = render(&UnitOptions::from_config(&layout(), &cfg));
        assert!(text.contains("\nUser=datakit\n"));
        assert!(text.contains("\nCPUQuota=50%\n"));
        assert!(!text.contains("MemoryMax"));
        cfg.resource_limit.enable = false;
        let text = render(&UnitOptions::from_config(&layout(), &cfg));
        assert!(!text.contains("CPUQuota") && !text.contains("MemoryMax"));
    }
}
