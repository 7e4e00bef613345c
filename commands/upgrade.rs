//! `datakit upgrade`: a newer release, verified, swapped in, restarted, rolled back on failure.

use std::path::PathBuf;
use std::process::ExitCode;

use datakit::app::config::{Dur, LoadOptions, load_main};
use datakit::app::service::Manager;
use datakit::app::service::upgrade::{self, Outcome, UpgradeOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::prelude::{Globals, RootArg};

#[derive(clap::Args, Debug)]
#[command(
    group(clap::ArgGroup::new("tarball").args(["url", "file"])),
    after_help = "The release index is `[upgrade] index_url` in datakit.conf (or \
ENV_UPGRADE_INDEX_URL): JSON with {\"version\", \"url\", \"sha256\"} objects, one or a list. \
Downloads go through `[dataway] http_proxy`, else HTTPS_PROXY/HTTP_PROXY.\n\
Without network access, copy the release tarball (and its SHA256SUMS) to the host and run \
`datakit upgrade --file PATH` (or --url file:///PATH), with --sha256 HEX when there is no \
SHA256SUMS beside it.\n\
Every tarball is checked against its SHA-256 (from the index, --sha256, or SHA256SUMS beside a \
--url or --file tarball) before anything changes; releases are not signed. The previous binary is kept as \
datakit.bak; if the restarted agent does not answer /v1/ping with the new version in time, it is \
put back and restarted.\n\
Exit status: 0 upgraded or up to date, 1 refused or rolled back."
)]
pub struct Args {
    /// Install this version (also to reinstall the running one, or to go back to an older one)
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// Install the release tarball at this URL (http://, https:// or file://) instead of asking
    /// the release index
    #[arg(long, value_name = "URL", conflicts_with = "check")]
    pub url: Option<String>,
    /// Install the release tarball at this path on this host (an upgrade without network)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["check", "url"])]
    pub file: Option<PathBuf>,
    /// SHA-256 of the --url or --file tarball [default: read from SHA256SUMS beside it]
    #[arg(long, value_name = "HEX", requires = "tarball")]
    pub sha256: Option<String>,
    /// Only say whether a newer release exists
    #[arg(long)]
    pub check: bool,
    /// How long the restarted agent has to answer /v1/ping before the previous binary is put back
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub health_timeout: Dur,
    #[command(flatten)]
    pub root: RootArg,
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let layout = args.root.layout(g)?;
    let conf = layout.workdir_host().main_conf();
    let mut diags = Vec::new();
    let (cfg, ..) = load_main(&conf, &LoadOptions::from_process_env(), &mut diags);
    for d in diags.iter().filter(|d| d.is_error()) {
        eprintln!("{}", d.render(g.color));
    }
    let opts = UpgradeOptions {
        version: args.version.clone(),
        url: args.url.clone(),
        file: args.file.clone(),
        sha256: args.sha256.clone(),
        health_timeout: args.health_timeout.get(),
    };
    if args.check {
        // What the service runs: the installed binary, which may not be this one.
        let current = upgrade::installed_version(&layout)
            .unwrap_or_else(|| datakit::app::build_info::VERSION.to_string());
        let agent = upgrade::http_agent(&cfg)?;
        let target = upgrade::resolve(&agent, &cfg, &conf, &opts)?;
        let latest = target.version.as_deref().unwrap_or("?");
        println!("current: {current}");
        println!("latest:  {latest} ({})", target.url);
        if upgrade::compare_versions(latest, &current).is_gt() {
            println!("A newer release is available: run `datakit upgrade`.");
        } else {
            println!("DataKit is up to date.");
        }
        return Ok(ExitCode::SUCCESS);
    }

    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "  [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )?
        .progress_chars("=> "),
    );
    let say = |m: &str| bar.suspend(|| println!("{m}"));
    let manager = Manager::detect(&layout);
    match upgrade::upgrade(&layout, &cfg, &manager, &opts, &bar, &say)? {
        Outcome::UpToDate { version } => {
            println!("DataKit {version} is the newest release: nothing to do");
        }
        Outcome::Upgraded {
            from,
            to,
            restarted,
            note,
            ..
        } => {
            if let Some(n) = note {
                println!("note: {n}");
            }
            if restarted {
                println!("Upgrade OK: {from} -> {to}, the service runs the new version");
            } else {
                println!("Upgrade OK: {from} -> {to}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
