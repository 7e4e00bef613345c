//! `datakit check-config`: load the whole configuration the way the daemon does and report
//! every problem at once.

use std::path::Path;
use std::process::ExitCode;

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use datakit::app::config::{self, InstanceOrigin, LoadOptions, Loaded, MainSource, Severity};

use crate::prelude::Globals;

#[derive(clap::Args, Debug)]
#[command(after_help = "Exit status: 0 when there is no error (warnings allowed), 1 otherwise.")]
pub struct Args {
    /// Print the result as JSON (for scripts)
    #[arg(long)]
    pub json: bool,
}

pub fn exec(args: Args, g: &Globals) -> anyhow::Result<ExitCode> {
    let opts = LoadOptions {
        env: &config::process_env,
        log: g.log.clone(),
        log_level: g.log_level.clone(),
        input_names: None,
    };
    let loaded = config::load(&g.workdir, &opts);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&to_json(&loaded, g))?);
    } else {
        print_human(&loaded, g);
    }
    Ok(if loaded.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn rel<'a>(p: &'a Path, g: &Globals) -> std::borrow::Cow<'a, str> {
    match p.strip_prefix(g.workdir.root()) {
        Ok(r) => r.to_string_lossy(),
        Err(_) => p.to_string_lossy(),
    }
}

fn status(f: &config::FileReport, missing: bool) -> &'static str {
    if missing {
        "missing"
    } else if f.errors > 0 {
        "error"
    } else if f.warnings > 0 {
        "warning"
    } else {
        "ok"
    }
}

fn print_human(l: &Loaded, g: &Globals) {
    // In table order: the main config first, then input files; by position within a file.
    let mut diags: Vec<&config::Diagnostic> = l.diagnostics.iter().collect();
    let file_rank = |d: &config::Diagnostic| {
        d.file
            .as_deref()
            .and_then(|p| l.files.iter().position(|f| f.path == p))
            .unwrap_or(usize::MAX)
    };
    diags.sort_by_key(|d| {
        (
            file_rank(d),
            d.location.as_ref().map(|l| (l.line, l.column)),
        )
    });
    for d in &diags {
        println!("{}\n", d.render(g.color));
    }
    for o in l.env_overrides.iter().filter(|o| o.error.is_none()) {
        println!("environment: {} sets `{}`", o.var, o.key_path);
    }

    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(["File", "Input", "Instances", "Status", "Message"]);
    if !g.color {
        table.force_no_tty();
    }
    let main_missing = matches!(l.main_source, MainSource::Missing(_));
    for (n, f) in l.files.iter().enumerate() {
        let st = status(f, n == 0 && main_missing);
        let first = l
            .diagnostics
            .iter()
            .filter(|d| d.file.as_deref() == Some(f.path.as_path()))
            .min_by_key(|d| (d.severity, d.location.as_ref().map(|l| l.line)));
        let total = f.errors + f.warnings;
        let msg = match (first, &f.note) {
            (Some(d), _) if total > 1 => format!("{} (+{} more)", d.message, total - 1),
            (Some(d), _) => d.message.clone(),
            (None, Some(note)) => note.clone(),
            (None, None) => String::new(),
        };
        let (inputs, instances) = if n == 0 {
            ("(main)".to_string(), "-".to_string())
        } else if f.inputs.is_empty() {
            ("-".to_string(), "0".to_string())
        } else {
            (
                f.inputs
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                f.inputs
                    .iter()
                    .map(|(_, c)| c.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        };
        let mut st_cell = Cell::new(st);
        if g.color {
            st_cell = st_cell.fg(match st {
                "error" => Color::Red,
                "warning" | "missing" => Color::Yellow,
                _ => Color::Green,
            });
        }
        table.add_row(vec![
            Cell::new(rel(&f.path, g)),
            Cell::new(inputs),
            Cell::new(instances),
            st_cell,
            Cell::new(msg),
        ]);
    }
    println!("{table}");

    let errors = l
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = l.diagnostics.len() - errors;
    let defaults = l
        .instances
        .iter()
        .filter(|i| i.origin == InstanceOrigin::DefaultEnabled)
        .count();
    println!(
        "checked {} file(s) in {}: {} input instance(s) ({} from default_enabled_inputs), {} error(s), {} warning(s)",
        l.files.len(),
        g.workdir.conf_d().display(),
        l.instances.len(),
        defaults,
        errors,
        warnings
    );
}

fn to_json(l: &Loaded, g: &Globals) -> serde_json::Value {
    use serde_json::json;
    let main_missing = matches!(l.main_source, MainSource::Missing(_));
    let files: Vec<_> = l
        .files
        .iter()
        .enumerate()
        .map(|(n, f)| {
            json!({
                "path": f.path,
                "status": status(f, n == 0 && main_missing),
                "main": n == 0,
                "inputs": f.inputs.iter().map(|(name, c)| json!({"name": name, "instances": c})).collect::<Vec<_>>(),
                "errors": f.errors,
                "warnings": f.warnings,
                "note": f.note,
            })
        })
        .collect();
    let instances: Vec<_> = l
        .instances
        .iter()
        .map(|i| match &i.origin {
            InstanceOrigin::File { path, line, index } => {
                json!({"input": i.name(), "file": path, "line": line, "index": index})
            }
            InstanceOrigin::DefaultEnabled => {
                json!({"input": i.name(), "default_enabled": true})
            }
        })
        .collect();
    let errors = l.diagnostics.iter().filter(|d| d.is_error()).count();
    json!({
        "ok": errors == 0,
        "workdir": g.workdir.root(),
        "errors": errors,
        "warnings": l.diagnostics.len() - errors,
        "files": files,
        "instances": instances,
        "diagnostics": l.diagnostics,
        "env_overrides": l.env_overrides.iter().filter(|o| o.error.is_none())
            .map(|o| json!({"var": o.var, "key": o.key_path})).collect::<Vec<_>>(),
    })
}
