//! `datakit install`: from a downloaded binary to a running service.

use std::process::ExitCode;

use anyhow::Context;
use datakit::app::service::Manager;
use datakit::app::service::install::{self, InstallOptions};

use crate::prelude::{Globals, RootArg, print_report};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Writes, under the workdir (default /usr/local/datakit as root):\n  \
conf.d/datakit.conf        the main config (an existing one is kept; see --merge-defaults)\n  \
conf.d/<input>.conf        for each enabled input, only when missing\n  \
conf.d/samples/*.sample    every input's sample, and datakit.conf.sample\n  \
datakit                    this binary\n\
and outside it /usr/local/bin/datakit (a link) and /etc/systemd/system/datakit.service, which \
is enabled and started. Running it again with the same options changes nothing, and a refused \
option writes nothing.\n\
Without a DataWay URL (--dataway, or [dataway] urls in an existing datakit.conf) or another \
output configured there, data stays on this host: the agent writes it as line-protocol files \
under <workdir>/data/out ([outputs.file]).\n\
The original installer's variables are read when the flag is not given: DK_DATAWAY as \
--dataway, DK_DEF_INPUTS as --enable-inputs, DK_GLOBAL_HOST_TAGS as --global-tags."
)]
pub struct Args {
    /// DataWay URL(s), comma-separated, e.g. `https://openway.guance.com?token=tkn_...`
    #[arg(
        long,
        env = "DK_DATAWAY",
        hide_env_values = true,
        value_name = "URL,..."
    )]
    pub dataway: Option<String>,
    /// Workspace token, added to the DataWay URLs that have none
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Inputs to run with their defaults (replaces `default_enabled_inputs`; `-name` disables one)
    #[arg(
        long,
        env = "DK_DEF_INPUTS",
        hide_env_values = true,
        value_name = "NAME,..."
    )]
    pub enable_inputs: Option<String>,
    /// Tags added to every point (`[global_host_tags]`); each needs a value
    #[arg(
        long,
        env = "DK_GLOBAL_HOST_TAGS",
        hide_env_values = true,
        value_name = "KEY=VALUE,..."
    )]
    pub global_tags: Option<String>,
    /// Rewrite an existing datakit.conf with every key this version knows (values are kept; the
    /// old file is saved as datakit.conf.old.<time>)
    #[arg(long)]
    pub merge_defaults: bool,
    /// Install the files only: no systemd unit, nothing started
    #[arg(long)]
    pub no_service: bool,
    #[command(flatten)]
    pub root: RootArg,
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let layout = args.root.layout(g)?;
    let opts = InstallOptions {
        dataway: args
            .dataway
            .as_deref()
            .map(install::parse_list)
            .unwrap_or_default(),
        token: args.token.clone(),
        enable_inputs: args.enable_inputs.as_deref().map(install::parse_list),
        global_tags: match &args.global_tags {
            Some(t) => install::parse_tags(t)?,
            None => Vec::new(),
        },
        merge_defaults: args.merge_defaults,
        service: !args.no_service,
        binary: std::env::current_exe().context("cannot find the running binary")?,
    };
    let manager = Manager::detect(&layout);
    let report = install::install(&layout, &opts, &manager)?;
    print_report(&report);
    if report.changed() {
        println!(
            "Install OK: DataKit is in {}",
            layout.workdir_host().root().display()
        );
    } else {
        println!("Install OK: nothing changed");
    }
    if !args.no_service && !layout.is_staging() {
        println!("Use `datakit monitor` to see DataKit running status.");
    }
    Ok(ExitCode::SUCCESS)
}
