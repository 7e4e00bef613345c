//! The command-line definition: the subcommand list (with the global flags of
//! [`crate::prelude`]). One definition drives parsing, `--help`, the man pages and the shell
//! completions. With `main.rs`, the only file that names every subcommand.

use clap::{Parser, Subcommand};

use crate::prelude::GlobalArgs;
use crate::{
    check_config, completion, doc, generate, install, monitor, pipeline, run, service, upgrade,
    version,
};

#[derive(Parser, Debug)]
#[command(
    name = "datakit",
    version = datakit::app::build_info::VERSION,
    long_version = datakit::app::build_info::LONG_VERSION,
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
