//! What the commands share: the global flags and their resolved form, `--root`, logging for
//! commands other than `run`, printing an install report. Subcommand files use this module and
//! `datakit::app`, and never each other.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use clap::error::{ContextKind, ContextValue, ErrorKind};
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

/// The flags every command takes, shown after the command's own options under their own
/// heading.
#[derive(Args, Debug)]
#[command(next_help_heading = "Global Options")]
pub struct GlobalArgs {
    /// Working directory holding conf.d/, pipeline/, data/, cache/ and the log
    /// [default: /usr/local/datakit as root, else $XDG_DATA_HOME/datakit]
    #[arg(
        long,
        global = true,
        env = "DATAKIT_WORKDIR",
        hide_env_values = true,
        value_name = "DIR",
        value_hint = clap::ValueHint::DirPath
    )]
    pub workdir: Option<PathBuf>,

    /// Log to this file, or `stdout` (commands other than `run` log nothing by default)
    #[arg(
        long,
        global = true,
        env = "DATAKIT_LOG",
        hide_env_values = true,
        value_name = "PATH|stdout",
        value_hint = clap::ValueHint::FilePath
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
    #[arg(
        long,
        env = "DATAKIT_ROOT",
        hide_env_values = true,
        value_name = "DIR",
        value_hint = clap::ValueHint::DirPath
    )]
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

/// A free-text value whose usual values the shell completions offer: the command accepts any
/// value and says itself what is wrong with one (with a "did you mean"), so a path or a name
/// the completions cannot know still works. Arguments using it set `hide_possible_values`, as
/// the list is for completion, not a rule.
#[derive(Clone, Debug)]
pub struct Candidates(Vec<PossibleValue>);

impl Candidates {
    pub fn new<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Candidates {
        Candidates(
            values
                .into_iter()
                .map(|v| PossibleValue::new(clap::builder::Str::from(v.into())))
                .collect(),
        )
    }

    /// Values with a description (shown by the shells that show one, zsh and fish).
    pub fn described<S: Into<String>, D: Into<String>>(
        values: impl IntoIterator<Item = (S, D)>,
    ) -> Candidates {
        Candidates(
            values
                .into_iter()
                .map(|(v, d)| {
                    PossibleValue::new(clap::builder::Str::from(v.into()))
                        .help(clap::builder::StyledStr::from(d.into()))
                })
                .collect(),
        )
    }
}

impl TypedValueParser for Candidates {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.0.iter().cloned()))
    }
}

/// Exits with a command-line error. A bad value read from an environment variable (say
/// `DATAKIT_LOG_LEVEL=verbose`) is named as such: clap's own message names only the flag, which
/// the user did not type.
pub fn exit_on_parse_error(e: clap::Error, mut cmd: clap::Command) -> ! {
    if e.kind() == ErrorKind::InvalidValue
        && let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
            e.get(ContextKind::InvalidArg),
            e.get(ContextKind::InvalidValue),
        )
        && let Some(var) = env_source(&cmd, arg, value)
    {
        let valid = match e.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(v)) => format!("\n  [possible values: {}]", v.join(", ")),
            _ => String::new(),
        };
        let msg = format!(
            "invalid value '{value}' in the environment variable {var} (read as {arg}){valid}\n\n\
             Set {var} to a valid value, or unset it."
        );
        clap::Error::raw(ErrorKind::InvalidValue, msg)
            .format(&mut cmd)
            .exit()
    }
    e.exit()
}

/// The environment variable `value` of the argument displayed as `arg` (`--log-level <LEVEL>`)
/// came from, when the command line does not give that argument.
fn env_source(cmd: &clap::Command, arg: &str, value: &str) -> Option<String> {
    let long = arg.split_whitespace().next()?.strip_prefix("--")?;
    let flag = format!("--{long}");
    let on_command_line = std::env::args_os().skip(1).any(|a| {
        a.to_str()
            .is_some_and(|a| a == flag || a.starts_with(&format!("{flag}=")))
    });
    if on_command_line {
        return None;
    }
    fn find<'a>(cmd: &'a clap::Command, long: &str) -> Option<&'a clap::Arg> {
        cmd.get_arguments()
            .find(|a| a.get_long() == Some(long) && a.get_env().is_some())
            .or_else(|| cmd.get_subcommands().find_map(|s| find(s, long)))
    }
    let var = find(cmd, long)?.get_env()?;
    (std::env::var_os(var)? == value).then(|| var.to_string_lossy().into_owned())
}

/// What a command's man page says besides its usage and options: the sections clap does not
/// know. Each environment variable an argument reads (`env = ...`) is listed without being
/// named here.
#[derive(Debug)]
pub struct ManPage {
    /// The command below `datakit` (`&[]`: the main page; `&["pipeline", "test"]`).
    pub path: &'static [&'static str],
    /// Variables read besides the arguments' own: (name, meaning).
    pub environment: &'static [(&'static str, &'static str)],
    /// (status, meaning).
    pub exit_status: &'static [(&'static str, &'static str)],
    /// (path, what it is).
    pub files: &'static [(&'static str, &'static str)],
    /// (command line, what it does).
    pub examples: &'static [(&'static str, &'static str)],
}

/// The completion script for `shell`: clap_complete's, and for fish the values of positional
/// arguments (input names, built-in scripts), which its fish generator leaves out. Everything is
/// in the script: completing runs no `datakit`.
pub fn completion_script(shell: clap_complete::Shell, cmd: &mut clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, "datakit", &mut buf);
    if shell == clap_complete::Shell::Fish {
        fish_positionals(cmd, &mut Vec::new(), &mut buf);
    }
    buf
}

/// `complete` lines for the positional values of `cmd` (at `path`) and its subcommands.
fn fish_positionals(cmd: &clap::Command, path: &mut Vec<String>, out: &mut Vec<u8>) {
    let condition = match path.as_slice() {
        [] => None,
        [c] => Some(format!("__fish_datakit_using_subcommand {c}")),
        [c, s] => Some(format!(
            "__fish_datakit_using_subcommand {c}; and __fish_seen_subcommand_from {s}"
        )),
        _ => None,
    };
    // The first positional only: fish cannot tell the second from the first here.
    if let Some(condition) = condition {
        for a in cmd.get_positionals().take(1) {
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| {
                    let help = v
                        .get_help()
                        .map(|h| h.to_string().replace('\'', ""))
                        .unwrap_or_default();
                    format!("{}\\t'{help}'", v.get_name())
                })
                .collect();
            if !values.is_empty() {
                out.extend_from_slice(
                    format!(
                        "complete -c datakit -n \"{condition}\" -a \"{}\"\n",
                        values.join("\n")
                    )
                    .as_bytes(),
                );
            }
        }
    }
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        path.push(sub.get_name().to_string());
        fish_positionals(sub, path, out);
        path.pop();
    }
}
