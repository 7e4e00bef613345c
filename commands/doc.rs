//! `datakit doc`: the documentation generated from the code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use datakit::app::doc::{self, term};

use crate::prelude::{Candidates, Globals};

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Examples:\n  datakit doc cpu                 an input's page\n  datakit doc --list              every input\n  datakit doc pipeline grok       one Pipeline function\n  datakit doc config              every datakit.conf key\n  datakit doc --export docs/      all pages as Markdown files"
)]
pub struct Args {
    /// An input name, `pipeline` (optionally with a function name) or `config`
    #[arg(value_parser = topic_candidates(), hide_possible_values = true)]
    pub topic: Option<String>,
    /// With `pipeline`: one function
    #[arg(value_parser = function_candidates(), hide_possible_values = true)]
    pub name: Option<String>,
    /// List the inputs, grouped by catalog
    #[arg(long, conflicts_with_all = ["topic", "export"])]
    pub list: bool,
    /// Print the Markdown source instead of the terminal view
    #[arg(long)]
    pub markdown: bool,
    /// Write every page as Markdown under DIR (index.md, config.md, inputs/, pipeline/)
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "topic",
        value_hint = clap::ValueHint::DirPath
    )]
    pub export: Option<PathBuf>,
}

/// The inputs, `pipeline` and `config`, for the shell completions.
fn topic_candidates() -> Candidates {
    let mut v: Vec<(String, String)> = datakit::app::inputs::registry()
        .iter()
        .filter(|e| e.spec.catalog != "testing")
        .map(|e| {
            (
                e.spec.name.to_string(),
                format!("input ({})", e.spec.catalog),
            )
        })
        .collect();
    v.push(("pipeline".into(), "Pipeline functions".into()));
    v.push(("config".into(), "datakit.conf keys".into()));
    Candidates::described(v)
}

/// The Pipeline functions, for the shell completions.
fn function_candidates() -> Candidates {
    Candidates::new(doc::function_names())
}

/// Prints `text`, through `$PAGER` when it is longer than the terminal.
fn show(text: &str) -> anyhow::Result<()> {
    let out = std::io::stdout();
    let tall =
        crossterm::terminal::size().is_ok_and(|(_, h)| text.lines().count() > usize::from(h));
    if out.is_terminal() && tall {
        let pager = std::env::var("PAGER").unwrap_or_else(|_| "less -R".into());
        let mut parts = pager.split_whitespace();
        if let Some(cmd) = parts.next()
            && let Ok(mut child) = std::process::Command::new(cmd)
                .args(parts)
                .stdin(std::process::Stdio::piped())
                .spawn()
        {
            if let Some(mut stdin) = child.stdin.take() {
                // A pager closed early (q) is not an error.
                let _ = stdin.write_all(text.as_bytes());
            }
            let _ = child.wait();
            return Ok(());
        }
    }
    let mut lock = out.lock();
    match lock.write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let tty = std::io::stdout().is_terminal();
    let st = term::Style {
        width: if tty {
            crossterm::terminal::size().map(|(w, _)| w).unwrap_or(100)
        } else {
            100
        },
        color: g.color,
    };
    if let Some(dir) = &args.export {
        let bar = tty.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} pages")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        let files = doc::export(dir, |done, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        })?;
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        println!("wrote {} pages under {}", files.len(), dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    if args.list {
        show(&term::list(st))?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(topic) = args.topic.as_deref() else {
        show(&term::list(st))?;
        return Ok(ExitCode::SUCCESS);
    };
    let text = match (topic, args.markdown) {
        ("pipeline", true) => match &args.name {
            Some(n) => doc::function_markdown(n)?,
            None => doc::pipeline_markdown("all")?,
        },
        ("pipeline", false) => term::pipeline(args.name.as_deref(), st)?,
        ("config", true) => doc::config_markdown()?,
        ("config", false) => term::config(st),
        (input, true) => doc::input_markdown(input).map_err(|e| hint(e, input))?,
        (input, false) => term::input(input, st).map_err(|e| hint(e, input))?,
    };
    show(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// An unknown input: name the closest ones.
fn hint(e: doc::DocError, name: &str) -> anyhow::Error {
    let known: Vec<&str> = datakit::app::inputs::registry()
        .iter()
        .filter(|e| e.spec.catalog != "testing")
        .map(|e| e.spec.name)
        .collect();
    let near = datakit::app::config::suggest(name, known.iter().copied());
    match near.first() {
        Some(n) => {
            anyhow::anyhow!("{e}; did you mean `{n}`? (`datakit doc --list` lists every input)")
        }
        None => anyhow::anyhow!(
            "{e} (`datakit doc --list` lists every input; `pipeline` and `config` are the other topics)"
        ),
    }
}
