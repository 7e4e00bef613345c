//! `datakit completion <shell>`: print a completion script.

use std::process::ExitCode;

use clap_complete::Shell;

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
    clap_complete::generate(args.shell, &mut cmd, "datakit", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
