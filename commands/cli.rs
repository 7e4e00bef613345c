//! The command-line definition: global flags and the subcommand list. One definition drives
//! parsing, `--help`, the man pages and the shell completions.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use datakit::workdir::Workdir;

use crate::{
    check_config, completion, doc, generate, install, monitor, pipeline, run, service, upgrade,
    version,
};

#[derive(Parser, Debug)]
#[command(
    name = "datakit",
    version = datakit::build_info::VERSION,
    long_version = datakit::build_info::LONG_VERSION,
    about = "DataKit, the host observability agent",
    long_about = "DataKit collects metrics, logs and objects from this host and from third-party \
                  sources, shapes logs with Pipeline scripts, and sends everything to DataWay.",
    after_help = "Configuration lives in <workdir>/conf.d: datakit.conf and one *.conf per input.\n\
                  Precedence: command-line flag > ENV_* variable > config file > default.",
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the agent in the foreground: collect, process and send data until stopped
    Run(run::Args),
    /// Show the running agent's state live: inputs, IO, outputs, HTTP API, errors
    Monitor(monitor::Args),
    /// Show version, commit, build date and compiler
    Version(version::Args),
    /// Check datakit.conf and every input config, with file:line:col for each problem
    #[command(alias = "check")]
    CheckConfig(check_config::Args),
    /// Documentation generated from the code: inputs, Pipeline functions, the main config
    Doc(doc::Args),
    /// Print a shell completion script
    Completion(completion::Args),
    /// Run Pipeline scripts on sample text, or check that scripts compile
    Pipeline(pipeline::Args),
    /// Install DataKit: workdir, configs, the binary, and the systemd service
    Install(install::Args),
    /// Control the systemd service: start, stop, restart, status, install, uninstall, reinstall
    Service(service::Args),
    /// Upgrade to a newer release: download, verify, swap, restart, roll back on failure
    Upgrade(upgrade::Args),
    /// Write the generated files (completions, man pages, sample configs) into a directory
    #[command(name = "__generate", hide = true)]
    Generate(generate::Args),
}

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
