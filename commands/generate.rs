//! `datakit __generate DIR`: writes every generated file (shell completions, man pages, the
//! sample datakit.conf, one sample per input, the Markdown docs) under DIR with the
//! repository's layout. The generated-files test compares this output with the checked-in
//! copies. It is not part of the command line users see: `main` runs it before parsing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap_complete::Shell;
use roff::{Roff, bold, roman};

use crate::prelude::{ManPage, completion_script};

#[derive(clap::Parser, Debug)]
#[command(name = "datakit __generate")]
pub struct Args {
    /// Output directory (the repository root to update the checked-in copies)
    pub dir: PathBuf,
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `cli` is the whole command-line definition; `pages` the man pages' extra sections.
pub fn exec(args: Args, cli: clap::Command, pages: &[ManPage]) -> anyhow::Result<ExitCode> {
    let dir = &args.dir;
    // The generated files must not depend on the commit or the build date (the sync test runs
    // in any checkout): use the plain version.
    let unbuilt = cli.long_version(datakit::app::build_info::VERSION);
    let mut cmd = unbuilt.clone();
    cmd.build();

    for (shell, file) in [
        (Shell::Bash, "datakit.bash"),
        (Shell::Zsh, "_datakit"),
        (Shell::Fish, "datakit.fish"),
        (Shell::Elvish, "datakit.elv"),
        (Shell::PowerShell, "_datakit.ps1"),
    ] {
        let buf = completion_script(shell, &mut cmd.clone());
        write(&dir.join("completions").join(file), &buf)?;
    }

    for (name, text) in man_pages(cli_for_man(unbuilt), pages)? {
        write(&dir.join("man").join(format!("{name}.1")), text.as_bytes())?;
    }

    write(
        &dir.join("conf.d/datakit.conf"),
        datakit::app::config::main_conf_sample().as_bytes(),
    )?;
    // One sample per input, from its InputSpec and options (test-only inputs excluded).
    for e in datakit::app::inputs::registry()
        .iter()
        .filter(|e| e.spec.catalog != "testing")
    {
        let sample = datakit::app::inputs::sample(e.spec.name)
            .with_context(|| format!("rendering the sample of `{}`", e.spec.name))?;
        write(
            &dir.join("conf.d")
                .join(e.spec.catalog)
                .join(format!("{}.conf", e.spec.name)),
            sample.as_bytes(),
        )?;
    }
    datakit::app::doc::export(&dir.join("docs"), |_, _| {})?;
    Ok(ExitCode::SUCCESS)
}

/// The command tree as the man pages show it: without the `help` subcommands, which have no
/// page (`--help` is documented on every page).
fn cli_for_man(cmd: clap::Command) -> clap::Command {
    let mut cmd = cmd.disable_help_subcommand(true);
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for n in names {
        cmd = cmd.mut_subcommand(n, cli_for_man);
    }
    cmd
}

/// One page per command and nested subcommand: (file name without `.1`, roff source).
fn man_pages(mut root: clap::Command, pages: &[ManPage]) -> anyhow::Result<Vec<(String, String)>> {
    root.build();
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, clap::Command)> = vec![(Vec::new(), root)];
    while let Some((path, cmd)) = stack.pop() {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            let mut p = path.clone();
            p.push(sub.get_name().to_string());
            stack.push((p, sub.clone()));
        }
        let extra = pages
            .iter()
            .find(|m| m.path.iter().copied().eq(path.iter().map(String::as_str)))
            .with_context(|| format!("no man page data for `datakit {}`", path.join(" ")))?;
        let name = page_name(&path);
        let cmd = cmd.version(datakit::app::build_info::VERSION);
        out.push((name, page(&path, cmd, extra)?));
    }
    out.sort();
    Ok(out)
}

/// `datakit`, `datakit-pipeline-test`.
fn page_name(path: &[String]) -> String {
    std::iter::once("datakit")
        .chain(path.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("-")
}

/// The page of one command: clap_mangen's sections (the after-help text under NOTES, without
/// its `Exit status:` and `Examples:` paragraphs, which have their own sections here), then
/// ENVIRONMENT, EXIT STATUS, FILES, EXAMPLES and SEE ALSO before VERSION.
fn page(path: &[String], cmd: clap::Command, extra: &ManPage) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name().to_string())
        .collect();
    let envs = environment(&cmd, extra);
    clap_mangen::Man::new(cmd)
        .source(format!("datakit {}", datakit::app::build_info::VERSION))
        .render(&mut buf)?;
    let base = String::from_utf8(buf).context("the man page is not UTF-8")?;

    let mut sections = Roff::new();
    let mut section = |title: &str, items: &[(String, String)], code: bool| {
        if items.is_empty() {
            return;
        }
        sections.control("SH", [title]);
        for (term, text) in items {
            sections.control("TP", []);
            sections.text([if code {
                bold(term.as_str())
            } else {
                roman(term.as_str())
            }]);
            sections.text([roman(text.as_str())]);
        }
    };
    let owned = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    section("ENVIRONMENT", &envs, true);
    section("EXIT STATUS", &owned(extra.exit_status), false);
    section("FILES", &owned(extra.files), true);
    section("EXAMPLES", &owned(extra.examples), true);
    let mut see_also: Vec<String> = Vec::new();
    if !path.is_empty() {
        see_also.push(page_name(&path[..path.len() - 1]));
    }
    for s in &subs {
        let mut p = path.to_vec();
        p.push(s.clone());
        see_also.push(page_name(&p));
    }
    if !see_also.is_empty() {
        sections.control("SH", ["SEE ALSO"]);
        let refs: Vec<String> = see_also.iter().map(|n| format!("{n}(1)")).collect();
        sections.text([roman(refs.join(", "))]);
    }
    // Rendered alone, a Roff starts with the apostrophe preamble the page already has.
    let preamble = Roff::new().render();
    let sections = sections.render();
    let sections = sections.strip_prefix(&preamble).unwrap_or(&sections);

    // The page as (title, lines) sections; the text before the first is the header.
    let mut parts: Vec<(Option<&str>, Vec<&str>)> = vec![(None, Vec::new())];
    for line in base.lines() {
        match line.strip_prefix(".SH ") {
            Some(title) => parts.push((Some(title), Vec::new())),
            None => {
                if let Some(last) = parts.last_mut() {
                    last.1.push(line);
                }
            }
        }
    }
    let mut out = String::with_capacity(base.len() + sections.len());
    let mut inserted = false;
    for (title, lines) in parts {
        let mut lines = lines;
        let title = match title {
            // The after-help text; a paragraph is one text line, an indented line continues it.
            Some("EXTRA") => {
                let mut kept = Vec::new();
                let mut skipping = false;
                for l in lines {
                    if l.starts_with("Exit status:") || l.starts_with("Examples:") {
                        skipping = true;
                    } else if !(skipping && l.starts_with("  ")) {
                        skipping = false;
                        kept.push(l);
                    }
                }
                if kept.is_empty() {
                    continue;
                }
                lines = kept;
                Some("NOTES")
            }
            Some("VERSION") => {
                out.push_str(sections);
                inserted = true;
                Some("VERSION")
            }
            t => t,
        };
        if let Some(t) = title {
            out.push_str(".SH ");
            out.push_str(t);
            out.push('\n');
        }
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
    }
    if !inserted {
        out.push_str(sections);
    }
    Ok(out)
}

/// The variables the command reads: its arguments' (`env = ...`, global ones included), then
/// the page's own list.
fn environment(cmd: &clap::Command, extra: &ManPage) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for a in cmd.get_arguments() {
        let Some(var) = a.get_env() else { continue };
        let var = var.to_string_lossy().into_owned();
        let flag = a
            .get_long()
            .map(|l| format!("--{l}"))
            .unwrap_or_else(|| a.get_id().to_string());
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        let help = help
            .lines()
            .next()
            .unwrap_or_default()
            .trim_end_matches('.');
        if !out.iter().any(|(v, _)| *v == var) {
            out.push((var, format!("Sets {flag} when it is not given: {help}.")));
        }
    }
    for (var, text) in extra.environment {
        if !out.iter().any(|(v, _)| v == var) {
            out.push((var.to_string(), text.to_string()));
        }
    }
    out
}
