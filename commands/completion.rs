//! `datakit completion <shell>`: print a completion script.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap_complete::Shell;

use crate::prelude::completion_script;

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  datakit completion bash > /etc/bash_completion.d/datakit\n  datakit completion zsh > \"${fpath[1]}/_datakit\"\n  datakit completion fish > ~/.config/fish/completions/datakit.fish"
)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `cli` is the whole command-line definition.
pub fn exec(args: Args, mut cmd: clap::Command) -> anyhow::Result<ExitCode> {
    let script = completion_script(args.shell, &mut cmd);
    std::io::stdout()
        .write_all(&script)
        .context("writing the script to standard output")?;
    Ok(ExitCode::SUCCESS)
}
