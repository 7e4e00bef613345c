//! What the commands share: the global flags and their resolved form, `--root`, logging for
//! commands other than `run`, printing an install report. Subcommand files use this module and
//! `datakit::app`, and never each other.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use datakit::app::Workdir;
use datakit::app::service::Layout;
use datakit::app::service::install::Report;

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// Working directory holding conf.d/, pipeline/, data/, cache/ and the log
    /// [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]
    #[arg(
        long,
        global = true,
        env = "DATAKIT_WORKDIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub workdir: Option<PathBuf>,

    /// Log to this file, or `stdout` (commands other than `run` log nothing by default)
    #[arg(
        long,
        global = true,
        env = "DATAKIT_LOG",
        hide_env_values = true,
        value_name = "PATH|stdout"
    )]
    pub log: Option<String>,

    /// Log level
    #[arg(
        long,
        global = true,
        env = "DATAKIT_LOG_LEVEL",
        hide_env_values = true,
        value_name = "LEVEL",
        value_parser = ["error", "warn", "info", "debug", "trace"]
    )]
    pub log_level: Option<String>,

    /// When to use colours (NO_COLOR is respected with `auto`)
    #[arg(
        long,
        global = true,
        env = "DATAKIT_COLOR",
        hide_env_values = true,
        value_enum,
        default_value_t = ColorWhen::Auto,
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
}

/// Global settings after defaults are applied.
#[derive(Debug, Clone)]
pub struct Globals {
    pub workdir: Workdir,
    /// Whether `--workdir`/`DATAKIT_WORKDIR` chose the workdir (not the default).
    pub workdir_explicit: bool,
    pub log: Option<String>,
    pub log_level: Option<String>,
    /// Colour on stdout.
    pub color: bool,
}

impl GlobalArgs {
    pub fn resolve(&self) -> Globals {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match self.color {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Globals {
            workdir: Workdir::resolve(self.workdir.as_deref()),
            workdir_explicit: self.workdir.is_some(),
            log: self.log.clone(),
            log_level: self.log_level.clone(),
            color,
        }
    }
}

/// Logging for CLI commands: nothing unless `--log` is given.
pub fn init_logging(g: &Globals) -> anyhow::Result<()> {
    let Some(target) = &g.log else { return Ok(()) };
    let level = g.log_level.as_deref().unwrap_or("info");
    let filter = tracing_subscriber::EnvFilter::try_new(level).context("invalid log level")?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if target == "stdout" {
        builder.with_ansi(g.color).init();
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(target)
            .with_context(|| format!("cannot open log file {target}"))?;
        builder
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .init();
    }
    Ok(())
}

/// `--root`, shared by install, service and upgrade.
#[derive(clap::Args, Debug, Clone)]
pub struct RootArg {
    /// Act on a staging tree as if DIR were `/` (packaging, tests): files go under DIR and
    /// systemd is only told through `systemctl --root=DIR`
    #[arg(long, env = "DATAKIT_ROOT", hide_env_values = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

impl RootArg {
    /// The layout: `--workdir` (or the default workdir) under `--root`. Under a root the
    /// default workdir is always /usr/local/datakit, whoever runs the command.
    pub fn layout(&self, g: &Globals) -> anyhow::Result<Layout> {
        let workdir = if self.root.is_some() && !g.workdir_explicit {
            PathBuf::from(datakit::app::ROOT_WORKDIR)
        } else {
            g.workdir.root().to_path_buf()
        };
        Ok(Layout::new(self.root.as_deref(), &workdir)?)
    }
}

/// Prints what changed and the notes.
pub fn print_report(r: &Report) {
    for (path, change) in &r.files {
        if change.changed() {
            println!("  {change:<9} {}", path.display());
        }
    }
    for a in &r.actions {
        println!("  systemctl {a}");
    }
    for n in &r.notes {
        println!("note: {n}");
    }
}
