//! The documentation drawn for a terminal: headings, the sample config with TOML colours, and
//! tables fitted to the width.

use comfy_table::Cell;

use super::{DocError, OptionRow, config_sections, input_options, measurements};
use crate::inputs;
use crate::pipeline::docs::{FUNCTIONS, FuncDoc};
use crate::table::{Col, fit};

/// How to draw.
pub type Style = crate::table::Style;

fn plain(s: &str) -> String {
    s.replace('`', "").replace("\\|", "|")
}

fn heading(out: &mut String, st: Style, text: &str) {
    if st.color {
        out.push_str(&format!("\x1b[1;4m{text}\x1b[0m\n\n"));
    } else {
        out.push_str(&format!("{text}\n{}\n\n", "=".repeat(text.chars().count())));
    }
}

fn subheading(out: &mut String, st: Style, text: &str) {
    if st.color {
        out.push_str(&format!("\x1b[1m{text}\x1b[0m\n"));
    } else {
        out.push_str(&format!("{text}\n{}\n", "-".repeat(text.chars().count())));
    }
}

/// A table of plain-text rows under `cols`, fitted to the width without cutting words.
fn table(st: Style, cols: &[Col<'_>], rows: Vec<Vec<String>>) -> crate::table::Fitted {
    let rows = rows
        .into_iter()
        .map(|r| r.into_iter().map(Cell::new).collect())
        .collect();
    fit(st, cols, rows, true)
}

/// TOML with comments dimmed, tables cyan, keys green and strings yellow.
pub fn highlight_toml(src: &str, color: bool) -> String {
    if !color {
        return src.to_string();
    }
    let mut out = String::with_capacity(src.len() * 2);
    for line in src.lines() {
        let t = line.trim_start();
        if t.starts_with('#') {
            out.push_str(&format!("\x1b[2m{line}\x1b[0m\n"));
        } else if t.starts_with('[') {
            out.push_str(&format!("\x1b[1;36m{line}\x1b[0m\n"));
        } else if let Some((k, v)) = line.split_once(" = ") {
            let v = if v.starts_with('"') {
                format!("\x1b[33m{v}\x1b[0m")
            } else {
                v.to_string()
            };
            out.push_str(&format!("\x1b[32m{k}\x1b[0m = {v}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The options of an input or the keys of a config section. The environment variables get a
/// column of their own when it fits, else they go with the description.
fn options_table(st: Style, rows: &[OptionRow], with_env: bool) -> String {
    let first = if with_env { "Key" } else { "Option" };
    let row = |r: &OptionRow, env_column: bool| {
        let mut cells = vec![plain(&r.key), r.kind.clone(), plain(&r.default)];
        match (with_env, env_column) {
            (true, true) => {
                cells.push(plain(&r.env));
                cells.push(plain(&r.doc));
            }
            (true, false) if r.env != "-" => {
                cells.push(format!("{} (env: {})", plain(&r.doc), plain(&r.env)));
            }
            _ => cells.push(plain(&r.doc)),
        }
        cells
    };
    if with_env {
        let cols = [
            Col::keep("Key"),
            Col::keep("Type"),
            Col::keep("Default"),
            Col::optional("Environment", 1),
            Col::keep("Description"),
        ];
        let t = table(st, &cols, rows.iter().map(|r| row(r, true)).collect());
        if t.left_out.is_empty() {
            return t.to_string();
        }
    }
    let cols = [
        Col::keep(first),
        Col::keep("Type"),
        Col::keep("Default"),
        Col::keep("Description"),
    ];
    let t = table(st, &cols, rows.iter().map(|r| row(r, false)).collect());
    if !t.overflow {
        return t.to_string();
    }
    // Too narrow for a table of whole words: one entry per option.
    let width = usize::from(st.width).saturating_sub(4).max(20);
    let mut out = String::new();
    for r in rows {
        out.push_str(&format!(
            "{}  ({}, default {})\n",
            plain(&r.key),
            r.kind,
            plain(&r.default)
        ));
        if with_env && r.env != "-" {
            out.push_str(&format!("    env: {}\n", plain(&r.env)));
        }
        for l in crate::table::wrap(&plain(&r.doc), width) {
            out.push_str(&format!("    {l}\n"));
        }
    }
    out
}

/// An input's page for the terminal.
pub fn input(name: &str, st: Style) -> Result<String, DocError> {
    let e = inputs::find(name).ok_or_else(|| DocError::UnknownInput(name.to_string()))?;
    let mut out = String::new();
    heading(
        &mut out,
        st,
        &format!("{} — {}", e.spec.name, plain(e.spec.description)),
    );
    let interval = super::interval_text(e);
    out.push_str(&format!(
        "Catalog: {}. Interval: {}. Instances: {}. Enabled by default: {}.\n\n",
        e.spec.catalog,
        plain(&interval),
        plain(&super::instances_text(e)),
        if e.spec.default_enabled() {
            "yes"
        } else {
            "no"
        }
    ));
    subheading(
        &mut out,
        st,
        "Sample configuration (copy to conf.d/<any>.conf)",
    );
    out.push_str(&highlight_toml(
        crate::inputs::sample(name).unwrap_or_default().trim_end(),
        st.color,
    ));
    out.push_str("\n\n");
    subheading(&mut out, st, "Options");
    out.push_str(&options_table(st, &input_options(e), false));
    out.push_str("\n\n");
    for m in measurements(e) {
        subheading(
            &mut out,
            st,
            &format!(
                "Measurement {} ({}) — {}",
                m.name,
                m.category,
                plain(&m.description)
            ),
        );
        let t = table(
            st,
            &[Col::keep("Tag"), Col::keep("Description")],
            m.tags
                .iter()
                .map(|(k, d)| vec![k.clone(), plain(d)])
                .collect(),
        );
        out.push_str(&t.to_string());
        out.push('\n');
        let t = table(
            st,
            &[
                Col::keep("Field"),
                Col::keep("Type"),
                Col::keep("Unit"),
                Col::keep("Description"),
            ],
            m.fields
                .iter()
                .map(|(k, ty, unit, d)| vec![k.clone(), ty.to_string(), plain(unit), plain(d)])
                .collect(),
        );
        out.push_str(&t.to_string());
        out.push_str("\n\n");
    }
    if !e.notes.is_empty() {
        subheading(&mut out, st, "Notes");
        let width = usize::from(st.width).saturating_sub(4).max(20);
        for n in e.notes {
            for (i, l) in crate::table::wrap(&plain(n), width).iter().enumerate() {
                out.push_str(if i == 0 { "  - " } else { "    " });
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The inputs, grouped by catalog.
pub fn list(st: Style) -> String {
    let mut out = String::new();
    for (cat, inputs) in super::catalogs() {
        subheading(&mut out, st, &cat);
        let w = inputs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (n, d) in inputs {
            out.push_str(&format!("  {n:w$}  {}\n", plain(&d)));
        }
        out.push('\n');
    }
    out.push_str("`datakit doc <input>` shows one input's page.\n");
    out
}

fn function(out: &mut String, st: Style, f: &FuncDoc) {
    if f.unsupported {
        subheading(
            out,
            st,
            &format!("{} (not supported by this build)", f.name),
        );
    } else {
        subheading(out, st, f.name);
    }
    out.push_str(&format!("  {}\n\n", f.signature));
    out.push_str(&format!("{}\n\nExample:\n", plain(f.description)));
    for l in f.example.lines() {
        out.push_str(&format!("    {l}\n"));
    }
    if let Some(l) = f.limitation {
        out.push_str(&format!("\nThis build: {}\n", plain(l)));
    }
    out.push('\n');
}

/// The function reference, or one function.
pub fn pipeline(name: Option<&str>, st: Style) -> Result<String, DocError> {
    let mut out = String::new();
    match name {
        Some(n) => {
            let f = FUNCTIONS
                .iter()
                .find(|f| f.name == n)
                .ok_or_else(|| DocError::unknown_function(n))?;
            function(&mut out, st, f);
        }
        None => {
            heading(&mut out, st, "Pipeline functions");
            for (g, _) in super::function_groups() {
                let names: Vec<String> = FUNCTIONS
                    .iter()
                    .filter(|f| f.group == g)
                    .map(|f| {
                        if f.unsupported {
                            format!("{} (unsupported)", f.name)
                        } else {
                            f.name.to_string()
                        }
                    })
                    .collect();
                // Wrapped between names, never inside one.
                let width = usize::from(st.width).max(40);
                let mut line = format!("{g}:");
                for (i, n) in names.iter().enumerate() {
                    let piece = if i + 1 < names.len() {
                        format!("{n},")
                    } else {
                        n.clone()
                    };
                    if line.chars().count() + 1 + piece.chars().count() > width {
                        out.push_str(&line);
                        out.push('\n');
                        line = format!("  {piece}");
                    } else {
                        line.push(' ');
                        line.push_str(&piece);
                    }
                }
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str(
                "\n(unsupported): not in this build; calling it is a compile error that says \
                 why.\n\
                 `datakit doc pipeline <function>` shows one function.\n\n",
            );
            for f in FUNCTIONS {
                function(&mut out, st, f);
            }
        }
    }
    Ok(out)
}

/// The main-config reference.
pub fn config(st: Style) -> String {
    let mut out = String::new();
    heading(&mut out, st, "Main configuration (conf.d/datakit.conf)");
    out.push_str("Precedence: command-line flag > ENV_* variable > config file > default.\n\n");
    for s in config_sections() {
        subheading(
            &mut out,
            st,
            &format!("{} — {}", plain(&s.title), plain(&s.doc)),
        );
        out.push_str(&options_table(st, &s.keys, true));
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_fit_the_width() {
        let st = Style {
            width: 80,
            color: false,
        };
        for text in [
            input("dk", st).unwrap(),
            list(st),
            pipeline(Some("grok"), st).unwrap(),
            config(st),
        ] {
            // Tables and prose fit; sample config lines are code and are not wrapped.
            for l in text
                .lines()
                .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└', '┆']))
            {
                assert!(l.chars().count() <= 80, "{l}");
            }
        }
        assert!(input("nope", st).is_err());
        let colored = highlight_toml("[a]\n# c\nk = \"v\"\n", true);
        assert!(colored.contains("\x1b[36m") || colored.contains("\x1b[1;36m"));
    }
}
