//! `datakit pipeline`: run a Pipeline script on sample text (`test`) or compile scripts
//! (`check`). The work is in the library's Pipeline module; this file parses, calls and prints.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use datakit::app::pipeline::{
    Category, Origin, Program, Rule, RunOptions, ScriptSet, ScriptStore, builtin_names, debug,
    script_name, search_places,
};

use crate::prelude::{Candidates, Globals};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(Subcommand, Debug)]
pub enum Sub {
    /// Run a script on sample text and print the resulting point
    #[command(after_help = test_after_help())]
    Test(TestArgs),
    /// Compile scripts and report errors (every script of every category when none is named)
    #[command(
        after_help = "A script with errors shows each of them once, with its line and \
a caret. Labels: (builtin) shipped in the binary; (default) your scripts under \
<workdir>/pipeline/ (the original agent's name for them); (gitrepo) scripts under \
<workdir>/gitrepos/<repo>/pipeline/; (remote) the console's scripts, pulled from DataWay into \
<workdir>/pipeline_remote/.\n\
Exit status: 0 when everything compiles, 1 otherwise."
    )]
    Check(CheckArgs),
    /// Say which script points of a source go through, and where it comes from
    #[command(
        after_help = "Follows the agent's rules: the console's relation (pulled from DataWay), \
then the input's `pipeline` choice (--input-script), then <SOURCE>.p, then the category's \
default ([pipeline.default_pipeline], else the console's). Looks for scripts where the agent \
does: <workdir>/pipeline_remote/ (remote), <workdir>/gitrepos/<repo>/pipeline/ (gitrepo), \
<workdir>/pipeline/ (default), then the built-in ones.\n\
Exit status: 0 when a script applies, 1 when none does."
    )]
    Which(WhichArgs),
}

#[derive(clap::Args, Debug)]
pub struct WhichArgs {
    /// The source (logging), measurement, or the name the category looks scripts up by
    /// (tracing: the service)
    #[arg(value_name = "SOURCE")]
    pub source: String,

    /// Category of the points
    #[arg(
        short = 'C',
        long,
        default_value = "logging",
        value_name = "CATEGORY",
        value_parser = category_candidates(),
        hide_possible_values = true
    )]
    pub category: String,

    /// The script the input names for the source (its `pipeline` option; `-` for none)
    #[arg(long, value_name = "SCRIPT")]
    pub input_script: Option<String>,
}

fn test_after_help() -> String {
    format!(
        "Scripts are looked up by name in <workdir>/pipeline/<category>/ (and \
         <workdir>/pipeline/*.p for logging), then among the built-in scripts; a SCRIPT with a \
         `/` is the path of a .p file.\n\
         Built-in scripts (category logging): {}.\n\
         Input: --txt, --file or standard input; one record per line unless --whole.\n\
         Exit status: 0 when every record ran, 1 on any compile or run error.",
        builtin_names().join(", ")
    )
}

#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// Script name (`nginx` or `nginx.p`) or path to a .p file
    #[arg(value_name = "SCRIPT", value_parser = script_candidates(), hide_possible_values = true)]
    pub script: String,

    /// Sample text (logging: the `message`; other categories: line protocol)
    #[arg(short = 'T', long, value_name = "TEXT", conflicts_with = "file")]
    pub txt: Option<String>,

    /// Read the sample text from a file
    #[arg(short = 'F', long, value_name = "FILE", value_hint = clap::ValueHint::FilePath)]
    pub file: Option<PathBuf>,

    /// Category of the input point: logging, metric, object, ... (or an alias such as M)
    #[arg(
        short = 'C',
        long,
        default_value = "logging",
        value_name = "CATEGORY",
        value_parser = category_candidates(),
        hide_possible_values = true
    )]
    pub category: String,

    /// Treat the whole input as one record (one trailing newline removed)
    #[arg(long)]
    pub whole: bool,

    /// Print each result as aligned `key: value` lines
    #[arg(long, conflicts_with = "json")]
    pub tab: bool,

    /// Print the point time as a date in the local zone instead of nanoseconds
    #[arg(long)]
    pub date: bool,

    /// Print one JSON object per record (measurement, tags, fields, time, dropped, cost)
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Scripts to check (names or paths); all scripts when none is given
    #[arg(value_name = "SCRIPT", value_parser = script_candidates(), hide_possible_values = true)]
    pub scripts: Vec<String>,

    /// Category of the named scripts
    #[arg(
        short = 'C',
        long,
        default_value = "logging",
        value_name = "CATEGORY",
        value_parser = category_candidates(),
        hide_possible_values = true
    )]
    pub category: String,
}

/// The built-in scripts, for the shell completions (any name or path is accepted).
fn script_candidates() -> Candidates {
    Candidates::new(builtin_names())
}

/// The categories by name, for the shell completions (aliases such as M are accepted too).
fn category_candidates() -> Candidates {
    Candidates::new(Category::ALL.iter().map(|c| c.as_str()))
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    match args.command {
        Sub::Test(a) => test(a, g),
        Sub::Check(a) => check(a, g),
        Sub::Which(a) => which(a, g),
    }
}

fn which(a: WhichArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let category = parse_category(&a.category)?;
    let mut diags = Vec::new();
    let (cfg, ..) = datakit::app::config::load_main(
        &g.workdir.main_conf(),
        &datakit::app::config::LoadOptions::from_process_env(),
        &mut diags,
    );
    let set = ScriptSet::load_detached(&g.workdir, &cfg.pipeline.default_pipeline);
    let choice = set.explain(category, &a.source, a.input_script.as_deref());
    let why = match &choice.rule {
        Rule::Relation => "the console's relation names it for this source".to_string(),
        Rule::Input => "the input names it (--input-script)".to_string(),
        Rule::NoneChosen => {
            println!("{category}/{}: no script (the input says `-`)", a.source);
            return Ok(ExitCode::from(1));
        }
        Rule::Name => format!("named after the source ({}.p)", a.source),
        Rule::Default => format!("no {}.p: the category's default", a.source),
        Rule::Missing(names) => {
            println!(
                "{category}/{}: no script; looked for {} in:",
                a.source,
                names.join(", then ")
            );
            for place in search_places(&g.workdir, category) {
                println!("  {place}");
            }
            return Ok(ExitCode::from(1));
        }
    };
    let Some(sc) = choice.script else {
        return Ok(ExitCode::from(1));
    };
    let origin = sc.origin.map_or("", |o| o.as_str());
    println!("{category}/{}: {} ({origin})", a.source, sc.name);
    println!("  why:   {why}");
    match &sc.path {
        Some(p) => println!("  file:  {}", p.display()),
        None => println!("  file:  built into the binary"),
    }
    if let Some(o) = sc.origin {
        println!("  from:  {}", o.meaning(&g.workdir));
    }
    if let Some(e) = &sc.compile_error {
        println!(
            "{}",
            red(
                g,
                &format!("  does not compile (its points pass unchanged): {e}")
            )
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

fn red(g: &Globals, s: &str) -> String {
    if g.color {
        format!("\x1b[31m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn parse_category(s: &str) -> anyhow::Result<Category> {
    s.parse::<Category>().map_err(anyhow::Error::from)
}

/// A script argument: a path to an existing file, else a name in the store.
enum Resolved {
    Program(Arc<Program>),
    /// The error, the source, and the name to show in locations (a file's path).
    CompileError(datakit::app::pipeline::CompileError, String, String),
    /// What the message says.
    NotFound(String),
}

/// Whether the argument names a file rather than a script.
fn is_path(arg: &str) -> bool {
    arg.contains('/')
}

fn resolve(store: &ScriptStore, arg: &str, g: &Globals) -> anyhow::Result<Resolved> {
    let p = Path::new(arg);
    if is_path(arg) || p.is_file() {
        if !p.exists() {
            return Ok(Resolved::NotFound(format!(
                "no such file: {arg} (a SCRIPT with a `/` is read as a path)"
            )));
        }
        if !p.is_file() {
            return Ok(Resolved::NotFound(format!("{arg} is not a file")));
        }
        let src = std::fs::read_to_string(p).with_context(|| format!("cannot read {arg}"))?;
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(arg)
            .to_string();
        return Ok(match store.compile_external(&name, &src) {
            Ok(prog) => Resolved::Program(Arc::new(prog)),
            Err(e) => Resolved::CompileError(e, src, arg.to_string()),
        });
    }
    let name = script_name(arg);
    Ok(match store.get(&name) {
        None => Resolved::NotFound(not_found(store, &name, g)),
        Some(Ok(prog)) => Resolved::Program(prog),
        Some(Err(e)) => {
            let src = store.source(&name).unwrap_or("").to_string();
            let shown = store
                .path(&name)
                .map_or_else(|| name.clone(), |p| p.display().to_string());
            Resolved::CompileError(e, src, shown)
        }
    })
}

/// A name found nowhere: where it was looked for, and the closest name.
fn not_found(store: &ScriptStore, name: &str, g: &Globals) -> String {
    let category = store.category();
    let mut msg = format!("no script {name} for category {category}; looked in:");
    for place in search_places(&g.workdir, category) {
        msg.push_str(&format!("\n      {place}"));
    }
    if let Some(near) = store.suggest(name) {
        msg.push_str(&format!("\n    did you mean `{near}`?"));
    }
    msg.push_str("\n    (-C chooses another category; a path to a .p file works too)");
    msg
}

/// Every error of a script that does not compile, each once.
fn print_compile_error(
    g: &Globals,
    head: &str,
    e: &datakit::app::pipeline::CompileError,
    src: &str,
    shown: &str,
) {
    let n = e.count();
    println!(
        "{}",
        red(
            g,
            &format!("[E] {head}: {n} error{}", if n == 1 { "" } else { "s" })
        )
    );
    println!("{}", e.render_named(shown, src, g.color));
}

fn read_input(a: &TestArgs) -> anyhow::Result<String> {
    if let Some(t) = &a.txt {
        return Ok(t.clone());
    }
    if let Some(f) = &a.file {
        return std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()));
    }
    let mut s = String::new();
    if std::io::stdin().is_terminal() {
        eprintln!("reading sample text from standard input (end with Ctrl-D)");
    }
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read standard input")?;
    Ok(s)
}

fn records(input: &str, whole: bool, from_txt: bool) -> Vec<&str> {
    if whole && from_txt {
        // As the original's -T: the text is used as given.
        return vec![input];
    }
    if whole {
        let s = input.strip_suffix('\n').unwrap_or(input);
        let s = s.strip_suffix('\r').unwrap_or(s);
        return vec![s];
    }
    input
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty())
        .collect()
}

fn test(a: TestArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let category = parse_category(&a.category)?;
    let store = ScriptStore::load(&g.workdir, category);
    let prog = match resolve(&store, &a.script, g)? {
        Resolved::Program(p) => p,
        Resolved::NotFound(why) => {
            println!("{}", red(g, &format!("[E] {why}")));
            return Ok(ExitCode::FAILURE);
        }
        Resolved::CompileError(e, src, shown) => {
            print_compile_error(
                g,
                &format!("{} does not compile", e.script),
                &e,
                &src,
                &shown,
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    let input = read_input(&a)?;
    if a.whole && a.txt.is_some() && input.ends_with('\n') && !a.json {
        println!("{}", red(g, "[E] txt has suffix EOL"));
    }
    let opts = RunOptions::default();
    let mut failed = false;
    let mut first = true;
    for rec in records(&input, a.whole, a.txt.is_some()) {
        let start = Instant::now();
        let now = datakit::app::now_ns();
        let mut pt = match debug::input_point(category, rec, now) {
            Ok(p) => p,
            Err(e) => {
                println!("{}", red(g, &format!("[E] {e}")));
                failed = true;
                continue;
            }
        };
        let result = prog.run_with(&mut pt, &opts);
        let cost = start.elapsed();
        if !first && !a.json {
            println!();
        }
        first = false;
        match result {
            Err(e) => {
                failed = true;
                if a.json {
                    println!("{}", serde_json::json!({ "error": e.to_string() }));
                } else {
                    println!("{}", red(g, &format!("[E] run pipeline failed: {e}")));
                    println!("{}", e.render(prog.source(), g.color));
                }
            }
            Ok(out) => {
                if a.json {
                    println!("{}", debug::render_machine(&pt, out.dropped, cost));
                    continue;
                }
                if pt.fields.is_empty() && pt.tags.is_empty() {
                    println!("{}", red(g, "[E] No data extracted from pipeline"));
                    continue;
                }
                if a.tab {
                    println!("{}", debug::render_tab(&pt, a.date));
                } else {
                    println!("{}", debug::render_json(&pt, a.date));
                }
                println!("\n---------------");
                println!("{}", debug::summary(&pt, out.dropped, cost));
                for extra in &out.extra_points {
                    println!("\ncreated point ({}):", extra.category);
                    println!("{}", debug::render_json(extra, a.date));
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn check(a: CheckArgs, g: &Globals) -> anyhow::Result<ExitCode> {
    let mut errors = 0usize;
    let mut failed = 0usize;
    let mut checked = 0usize;
    let mut origins_seen: Vec<Origin> = Vec::new();
    if !a.scripts.is_empty() {
        let category = parse_category(&a.category)?;
        let store = ScriptStore::load(&g.workdir, category);
        for s in &a.scripts {
            checked += 1;
            match resolve(&store, s, g)? {
                Resolved::Program(p) => println!("ok     {}/{}", category, p.name),
                Resolved::NotFound(why) => {
                    errors += 1;
                    failed += 1;
                    println!("{}", red(g, &format!("[E]    {why}")));
                }
                Resolved::CompileError(e, src, shown) => {
                    errors += e.count();
                    failed += 1;
                    print_compile_error(
                        g,
                        &format!("   {category}/{}", e.script),
                        &e,
                        &src,
                        &shown,
                    );
                }
            }
        }
    } else {
        for category in Category::ALL {
            let store = ScriptStore::load(&g.workdir, category);
            for (name, why) in &store.pattern_errors {
                errors += 1;
                println!(
                    "{}",
                    red(
                        g,
                        &format!("[E]    pattern {name} in pipeline/pattern/: {why}")
                    )
                );
            }
            for (name, r) in store.check_all() {
                checked += 1;
                let origin = store.origin(&name);
                if let Some(o) = origin
                    && !origins_seen.contains(&o)
                {
                    origins_seen.push(o);
                }
                let label = origin.map_or("", |o| o.as_str());
                match r {
                    Ok(_) => println!("ok     {category}/{name} ({label})"),
                    Err(e) => {
                        errors += e.count();
                        failed += 1;
                        let src = store.source(&name).unwrap_or("");
                        let shown = store.path(&name).map_or_else(
                            || format!("{category}/{name}"),
                            |p| p.display().to_string(),
                        );
                        print_compile_error(
                            g,
                            &format!("   {category}/{name} ({label})"),
                            &e,
                            src,
                            &shown,
                        );
                    }
                }
            }
        }
    }
    println!("\n{checked} scripts checked, {failed} with errors ({errors} errors in all)");
    if !origins_seen.is_empty() {
        origins_seen.sort();
        println!("Labels:");
        for o in origins_seen {
            println!("  ({}): {}", o.as_str(), o.meaning(&g.workdir));
        }
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
