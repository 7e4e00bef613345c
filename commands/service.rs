//! `datakit service`: start, stop, restart, status, install, uninstall, reinstall.

use std::process::ExitCode;

use anyhow::Context;
use clap::ValueEnum;
use datakit::app::service::install;
use datakit::app::service::{Manager, ServiceError, Systemctl};

use crate::prelude::{Globals, RootArg, print_report};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Action {
    Start,
    Stop,
    Restart,
    Status,
    Install,
    Uninstall,
    Reinstall,
}

#[derive(clap::Args, Debug)]
#[command(
    group(clap::ArgGroup::new("what").required(true).args(["action", "start", "stop", "restart", "uninstall", "reinstall"])),
    after_help = "The unit is /etc/systemd/system/datakit.service: Type=notify (the agent reports when it \
serves), Restart=always, LimitNOFILE from `ulimit`, MemoryMax/CPUQuota from [resource_limit], and \
hardening that leaves collection alone (NoNewPrivileges, ProtectSystem=full with the workdir \
writable, ProtectHome=read-only, ProtectKernelModules, RestrictSUIDSGID, RestrictRealtime, \
LockPersonality). Local changes belong in a drop-in (`systemctl edit datakit`).\n\
Without systemd (containers, other init systems) every action says so: run `datakit run` under \
your own supervisor.\n\
Exit status: 0 on success; `status` exits as `systemctl status` does (3: not running)."
)]
pub struct Args {
    /// What to do
    #[arg(value_enum)]
    pub action: Option<Action>,
    /// Start the service (same as `start`)
    #[arg(short = 'S', long)]
    pub start: bool,
    /// Stop the service (same as `stop`)
    #[arg(short = 'T', long)]
    pub stop: bool,
    /// Restart the service (same as `restart`)
    #[arg(short = 'R', long)]
    pub restart: bool,
    /// Stop the service and remove its unit; the workdir is kept (same as `uninstall`)
    #[arg(short = 'U', long)]
    pub uninstall: bool,
    /// Re-create the unit from datakit.conf and restart (same as `reinstall`)
    #[arg(short = 'I', long)]
    pub reinstall: bool,
    #[command(flatten)]
    pub root: RootArg,
}

impl Args {
    fn action(&self) -> Action {
        match self.action {
            Some(a) => a,
            None if self.start => Action::Start,
            None if self.stop => Action::Stop,
            None if self.restart => Action::Restart,
            None if self.uninstall => Action::Uninstall,
            None => Action::Reinstall,
        }
    }
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let layout = args.root.layout(g)?;
    let manager = Manager::detect(&layout);
    let action = args.action();
    let need_unit = || -> Result<(), ServiceError> {
        let unit = layout.unit_host();
        if unit.exists() {
            Ok(())
        } else {
            Err(ServiceError::NotInstalled(unit))
        }
    };
    let live = || -> anyhow::Result<&Systemctl> {
        let s = manager.systemd()?;
        anyhow::ensure!(
            s.is_live(),
            "{} is a staging tree: there is no running service to control there",
            layout.root().display()
        );
        Ok(s)
    };
    match action {
        Action::Start => {
            let s = live()?;
            need_unit()?;
            s.start().context("start failed")?;
            println!("Start DataKit OK");
        }
        Action::Stop => {
            let s = live()?;
            need_unit()?;
            s.stop().context("stop failed")?;
            println!("Stop DataKit OK");
        }
        Action::Restart => {
            let s = live()?;
            need_unit()?;
            s.restart().context(
                "restart failed; `datakit service status` and `journalctl -u datakit` say why",
            )?;
            println!("Restart DataKit OK");
        }
        Action::Status => {
            let s = live()?;
            need_unit()?;
            let Some(st) = s.status()? else {
                return Ok(ExitCode::SUCCESS);
            };
            print!("{}", st.text);
            return Ok(ExitCode::from(u8::try_from(st.code).unwrap_or(1)));
        }
        Action::Install => {
            manager.systemd()?;
            let cfg = install::current_config(&layout)?;
            let mut r = install::Report::default();
            install::install_service(&layout, &cfg, &manager, false, false, &mut r)?;
            print_report(&r);
            println!("Install DataKit service OK");
        }
        Action::Uninstall => {
            let r = install::uninstall(&layout, &manager)?;
            print_report(&r);
            println!("Uninstall DataKit OK");
        }
        Action::Reinstall => {
            manager.systemd()?;
            let cfg = install::current_config(&layout)?;
            let mut r = install::Report::default();
            install::uninstall_service(&layout, &manager, &mut r)?;
            install::install_service(&layout, &cfg, &manager, true, true, &mut r)?;
            print_report(&r);
            println!("Reinstall DataKit OK");
        }
    }
    Ok(ExitCode::SUCCESS)
}
