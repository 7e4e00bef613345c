//! The `datakit` binary: parses the command line and hands each subcommand to its module.
//! The modules are thin: they call the library and print.

mod check_config;
mod cli;
mod completion;
mod doc;
mod generate;
mod install;
mod manual;
mod monitor;
mod pipeline;
mod prelude;
mod run;
mod service;
mod upgrade;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc settings compiled in (not read from the environment, which a service manager may not
/// pass on): a background thread returns dirty pages to the OS after about a second of idling;
/// two arenas and one background thread suffice for the agent's two worker threads.
#[cfg(feature = "jemalloc")]
#[allow(non_upper_case_globals)]
#[unsafe(export_name = "_rjem_malloc_conf")]
pub static malloc_conf: &[u8] = b"background_thread:true,max_background_threads:1,narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

/// jemalloc's `thread.idle`: flushes the calling thread's cache (see `datakit::app::idle`).
#[cfg(feature = "jemalloc")]
fn jemalloc_thread_idle() {
    // SAFETY: `thread.idle` is a command of jemalloc 5.3 that reads and writes nothing.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            c"thread.idle".as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

fn main() -> ExitCode {
    // Rust starts programs with SIGPIPE ignored, so a write to a closed pipe (`datakit ... |
    // head`) becomes an error that `println!` turns into a panic. A command-line tool should end
    // quietly instead, as the other tools of a pipeline do: restore the default action. Sockets
    // are written with MSG_NOSIGNAL, so this concerns pipes only. The daemon (`run`) ignores
    // SIGPIPE again below: a closed stdout must not stop the agent.
    sigpipe(libc::SIG_DFL);
    #[cfg(feature = "jemalloc")]
    datakit::app::idle::set_hook(jemalloc_thread_idle);
    // The generator of the checked-in files is not part of the command line users see (nor of
    // its completions).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == "__generate")
    {
        let args = generate::Args::parse_from(std::env::args_os().skip(1));
        return finish(generate::exec(args, cli::Cli::command(), manual::PAGES));
    }
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => prelude::exit_on_parse_error(e, cli::Cli::command()),
    };
    let globals = args.global.resolve();
    // `run` sets up its own logging (rotation, the config's `[logging]` under the flags).
    let daemon = matches!(args.command, cli::Command::Run(_));
    if daemon {
        sigpipe(libc::SIG_IGN);
    }
    if let Err(e) = if daemon {
        Ok(())
    } else {
        prelude::init_logging(&globals)
    } {
        eprintln!("error: {e:#}");
        return ExitCode::FAILURE;
    }
    finish(match args.command {
        cli::Command::Run(a) => run::exec(a, &globals),
        cli::Command::Monitor(a) => monitor::exec(a, &globals),
        cli::Command::Version(a) => version::exec(a, &globals),
        cli::Command::CheckConfig(a) => check_config::exec(a, &globals),
        cli::Command::Completion(a) => completion::exec(a, cli::Cli::command()),
        cli::Command::Doc(a) => doc::exec(a, &globals),
        cli::Command::Pipeline(a) => pipeline::exec(a, &globals),
        cli::Command::Install(a) => install::exec(a, &globals),
        cli::Command::Service(a) => service::exec(a, &globals),
        cli::Command::Upgrade(a) => upgrade::exec(a, &globals),
    })
}

fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Sets the action of SIGPIPE.
fn sigpipe(action: libc::sighandler_t) {
    // SAFETY: setting a signal's disposition to SIG_DFL or SIG_IGN installs no handler code;
    // it is done before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, action);
    }
}
