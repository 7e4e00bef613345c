//! The command-line definition: the subcommand list (with the global flags of
//! [`crate::prelude`]). One definition drives parsing, `--help`, the man pages and the shell
//! completions. With `main.rs`, the only file that names every subcommand.

use clap::{Parser, Subcommand};

use crate::prelude::GlobalArgs;
use crate::{
    check_config, completion, doc, install, monitor, pipeline, run, service, upgrade, version,
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
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;
    use crate::manual::PAGES;

    /// Every command path below `datakit` (the root as `[]`), `help` left out.
    fn paths(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(prefix.clone());
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut p = prefix.clone();
            p.push(sub.get_name().to_string());
            paths(sub, p, out);
        }
    }

    #[test]
    fn every_command_has_a_man_page_entry_that_agrees_with_its_help() {
        let cmd = Cli::command();
        let mut all = Vec::new();
        paths(&cmd, Vec::new(), &mut all);
        for path in &all {
            let page = PAGES
                .iter()
                .find(|p| p.path.iter().copied().eq(path.iter().map(String::as_str)))
                .unwrap_or_else(|| panic!("no man page entry for `datakit {}`", path.join(" ")));
            let mut c = &cmd;
            for name in path {
                c = c.find_subcommand(name).unwrap();
            }
            // Each status `--help` names is in the EXIT STATUS section.
            let help = c
                .get_after_help()
                .map(|h| h.to_string())
                .unwrap_or_default();
            if let Some(line) = help.lines().find(|l| l.starts_with("Exit status:")) {
                for word in line.split(|ch: char| !ch.is_ascii_digit()) {
                    if !word.is_empty() {
                        assert!(
                            page.exit_status.iter().any(|(s, _)| *s == word),
                            "`datakit {}`: --help names exit status {word}, the man page does not",
                            path.join(" ")
                        );
                    }
                }
            }
        }
        for p in PAGES {
            assert!(
                all.iter()
                    .any(|path| p.path.iter().copied().eq(path.iter().map(String::as_str))),
                "man page entry for a command that does not exist: {:?}",
                p.path
            );
        }
    }
}
