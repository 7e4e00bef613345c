//! `datakit run`: the agent in the foreground (what the service runs).

use std::process::ExitCode;

use anyhow::Context;
use datakit::app::run::{self as agent, ConfigFlags, LogTarget, PidFile, RunEvent};

use crate::prelude::Globals;

/// Exit status for a configuration error (sysexits EX_CONFIG), as Vector does.
const EX_CONFIG: u8 = 78;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Stops cleanly on SIGINT/SIGTERM (every batch delivered or queued on disk); \
SIGHUP reloads the input configs, restarting only inputs whose options changed.\n\
Exit status: 0 after a clean stop, 78 on a configuration error, 1 on any other error."
)]
pub struct Args {}

/// One line of the start banner. The banner is for whoever watches: a closed or full stdout
/// (`datakit run | head`, a service manager without one) must not stop the agent, so a failed
/// write is ignored.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

pub fn exec(_args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let flags = ConfigFlags {
        log: g.log.clone(),
        log_level: g.log_level.clone(),
    };
    let loaded = flags.load(&g.workdir);
    let errors = loaded.main_errors();
    let input_errors = loaded.input_errors();
    let defaults = matches!(
        loaded.main_source,
        datakit::app::config::MainSource::Missing(_)
    );
    for d in &loaded.diagnostics {
        // The missing main config is not a problem for `run`: the banner says defaults apply.
        let missing_main = defaults
            && d.location.is_none()
            && d.file.as_deref() == Some(g.workdir.main_conf().as_path());
        if !missing_main {
            eprintln!("{}", d.render(g.color));
        }
    }
    if errors > 0 {
        eprintln!(
            "datakit: the configuration has {errors} error(s); fix them (see `datakit check-config`) and start again"
        );
        return Ok(ExitCode::from(EX_CONFIG));
    }
    if input_errors > 0 {
        eprintln!(
            "datakit: {input_errors} error(s) in input configs: the inputs they concern are skipped, the others start (see `datakit check-config`)"
        );
    }
    agent::create_dirs(&g.workdir)?;
    if defaults {
        // Without datakit.conf, a commented sample of every key, beside where it would go.
        let sample = g.workdir.conf_d().join("datakit.conf.sample");
        let text = datakit::app::config::main_conf_sample();
        if std::fs::read_to_string(&sample).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&sample, text)
                .with_context(|| format!("cannot write {}", sample.display()))?;
        }
    }
    let pid = PidFile::acquire(&g.workdir)?;
    let main = &loaded.main;
    let target = LogTarget::from_config(
        &main.logging.log,
        &g.workdir,
        main.logging.rotate,
        main.logging.rotate_backups,
    );
    let _guard = agent::init_logging(
        &target,
        &main.logging.level,
        g.color && !main.logging.disable_color,
    )
    .with_context(|| format!("cannot open the log {target:?}"))?;
    agent::install_panic_hook();

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.clamp(1, 2))
        .max_blocking_threads(64)
        // Occasional blocking jobs (election backends, reading the journal back); collections
        // and log tailing have threads of their own (see ARCHITECTURE.md, "Threads").
        .thread_keep_alive(std::time::Duration::from_secs(600))
        .thread_name("dk-worker")
        .on_thread_park(|| {
            datakit::app::idle::thread_idle();
        })
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let workdir = g.workdir.clone();
    let no_dataway = main.dataway.urls.is_empty();
    let log_desc = match &target {
        LogTarget::Stdout => "stdout".to_string(),
        LogTarget::File { path, .. } => path.display().to_string(),
    };
    let pid_path = pid.path().display().to_string();
    let sample = workdir.conf_d().join("datakit.conf.sample");
    let ran = rt.block_on(agent::run(
        workdir.clone(),
        loaded,
        flags,
        |event| match event {
            RunEvent::Started(summary) => {
                say(format_args!(
                    "datakit {} running (pid {}, pid file {pid_path})",
                    datakit::app::build_info::VERSION,
                    std::process::id()
                ));
                say(format_args!("  workdir: {}", workdir.root().display()));
                if defaults {
                    say(format_args!(
                        "  config:  built-in defaults (no {})\n           every key, commented: {}",
                        workdir.main_conf().display(),
                        sample.display()
                    ));
                } else {
                    say(format_args!("  config:  {}", workdir.main_conf().display()));
                }
                say(format_args!("  log:     {log_desc}"));
                say(format_args!("  {summary}"));
                if no_dataway {
                    say(format_args!(
                        "  no DataWay is configured: set [dataway] urls in {} to send data to Guance",
                        workdir.main_conf().display()
                    ));
                }
            }
            RunEvent::Stopping(signal) => {
                say(format_args!("datakit: {signal}: stopping (inputs stop, batches are flushed)..."));
            }
            RunEvent::Stopped {
                complete,
                journal_left,
            } => {
                if complete {
                    say(format_args!("datakit stopped: every batch delivered or queued on disk"));
                } else {
                    say(format_args!(
                        "datakit stopped at the shutdown timeout: batches still in flight were not delivered"
                    ));
                }
                if journal_left > 0 {
                    say(format_args!(
                        "  {} of points wait in the journal (cache/queue/journal/) and are sent at the next start",
                        datakit::app::monitor::bytes(journal_left)
                    ));
                }
            }
        },
    ));
    if let Err(e) = &ran {
        // Said on stderr by `main`, and in the log, where a service's errors are looked for.
        tracing::error!("datakit cannot run: {e}");
    }
    ran?;
    // Threads of a blocked input must not keep the process alive.
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    drop(pid);
    Ok(ExitCode::SUCCESS)
}
