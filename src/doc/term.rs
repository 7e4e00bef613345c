//! The documentation drawn for a terminal: headings, the sample config with TOML colours, and
//! tables fitted to the width.

use comfy_table::{Attribute, Cell, ContentArrangement, Table, presets};

use super::{DocError, OptionRow, config_sections, input_options, measurements};
use crate::inputs;
use crate::pipeline::docs::{FUNCTIONS, FuncDoc};

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub width: u16,
    pub color: bool,
}

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

fn table(st: Style, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(st.width);
    if st.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t.set_header(header.iter().map(|h| {
        let c = Cell::new(h);
        if st.color {
            c.add_attribute(Attribute::Bold)
        } else {
            c
        }
    }));
    t
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

fn options_table(st: Style, rows: &[OptionRow], with_env: bool) -> Table {
    let mut t = if with_env {
        table(
            st,
            &["Key", "Type", "Default", "Environment", "Description"],
        )
    } else {
        table(st, &["Option", "Type", "Default", "Description"])
    };
    for r in rows {
        let mut cells = vec![plain(&r.key), r.kind.clone(), plain(&r.default)];
        if with_env {
            cells.push(plain(&r.env));
        }
        cells.push(plain(&r.doc));
        t.add_row(cells);
    }
    t
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
    out.push_str(&options_table(st, &input_options(e), false).to_string());
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
        let mut t = table(st, &["Tag", "Description"]);
        for (k, d) in &m.tags {
            t.add_row(vec![k.clone(), plain(d)]);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        let mut t = table(st, &["Field", "Type", "Unit", "Description"]);
        for (k, ty, unit, d) in &m.fields {
            t.add_row(vec![k.clone(), ty.to_string(), plain(unit), plain(d)]);
        }
        out.push_str(&t.to_string());
        out.push_str("\n\n");
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
    subheading(out, st, f.name);
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
                .ok_or_else(|| DocError::UnknownFunction(n.to_string()))?;
            function(&mut out, st, f);
        }
        None => {
            heading(&mut out, st, "Pipeline functions");
            for (g, _) in super::function_groups() {
                let names: Vec<&str> = FUNCTIONS
                    .iter()
                    .filter(|f| f.group == g)
                    .map(|f| f.name)
                    .collect();
                out.push_str(&format!("{g}: {}\n", names.join(", ")));
            }
            out.push_str("\n`datakit doc pipeline <function>` shows one function.\n\n");
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
        out.push_str(&options_table(st, &s.keys, true).to_string());
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
