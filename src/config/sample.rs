//! Commented sample config files, rendered from a section's documentation and its defaults.

use super::schema::{KeyDoc, SectionDoc};

/// Wraps `text` into `# ` comment lines of at most `width` characters, indented by `indent`.
fn comment(out: &mut String, text: &str, indent: &str, width: usize) {
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split_whitespace() {
            if !line.is_empty() && indent.len() + 2 + line.len() + 1 + word.len() > width {
                out.push_str(&format!("{indent}# {line}\n"));
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&format!("{indent}# {line}\n").replace("# \n", "#\n"));
    }
}

fn bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A key as TOML needs it written.
pub fn toml_key(k: &str) -> String {
    if bare_key(k) {
        k.to_string()
    } else {
        toml::Value::String(k.to_string()).to_string()
    }
}

fn key_comment(out: &mut String, kd: &KeyDoc, indent: &str) {
    comment(out, kd.doc, indent, 96);
    let mut meta = format!("Type: {}.", (kd.type_name)());
    if !kd.env.is_empty() {
        let vars = kd.env.join(" or ");
        if kd.env_inverted {
            meta.push_str(&format!(" Environment: {vars} (true sets this to false)."));
        } else {
            meta.push_str(&format!(" Environment: {vars}."));
        }
    }
    comment(out, &meta, indent, 96);
}

fn is_table_key(kd: &KeyDoc, v: Option<&toml::Value>) -> bool {
    (kd.section)().is_some() || matches!(v, Some(toml::Value::Table(_)))
}

/// Renders the keys of `doc` with their values from `table`, then its sub-tables, each under a
/// `[path]` header. `path` is the dotted path of this section (empty for the document root).
pub fn render_section(
    out: &mut String,
    doc: &SectionDoc,
    table: &toml::Table,
    path: &[String],
    indent: &str,
) {
    // Plain keys first: TOML puts every key of a table before its sub-tables.
    for kd in doc.keys {
        let v = table.get(kd.key());
        if is_table_key(kd, v) {
            continue;
        }
        out.push('\n');
        key_comment(out, kd, indent);
        match v {
            Some(v) => out.push_str(&format!("{indent}{} = {v}\n", toml_key(kd.key()))),
            None => out.push_str(&format!("{indent}# {} = (not set)\n", toml_key(kd.key()))),
        }
    }
    for kd in doc.keys {
        let v = table.get(kd.key());
        if !is_table_key(kd, v) {
            continue;
        }
        let mut sub = path.to_vec();
        sub.push(toml_key(kd.key()));
        let header = sub.join(".");
        out.push('\n');
        key_comment(out, kd, indent);
        match ((kd.section)(), v) {
            (Some(sd), Some(toml::Value::Table(t))) => {
                out.push_str(&format!("{indent}[{header}]\n"));
                render_section(out, sd, t, &sub, indent);
            }
            (Some(sd), Some(toml::Value::Array(items))) => {
                for item in items {
                    if let toml::Value::Table(t) = item {
                        out.push_str(&format!("{indent}[[{header}]]\n"));
                        render_section(out, sd, t, &sub, indent);
                    }
                }
                if items.is_empty() {
                    out.push_str(&format!("{indent}# [[{header}]]\n"));
                }
            }
            (None, Some(toml::Value::Table(t))) => {
                out.push_str(&format!("{indent}[{header}]\n"));
                for (k, v) in t {
                    out.push_str(&format!("{indent}{} = {v}\n", toml_key(k)));
                }
            }
            _ => out.push_str(&format!("{indent}[{header}]\n")),
        }
    }
}

/// The commented sample `datakit.conf`.
pub fn main_conf_sample() -> String {
    let mut intro = String::new();
    intro.push_str("# DataKit main configuration: <workdir>/conf.d/datakit.conf\n");
    intro.push_str("#\n");
    intro.push_str("# Generated from the agent's built-in defaults (`datakit doc config` explains every key).\n");
    intro.push_str(
        "# Values set here are overridden by the ENV_* variables named below, and those by\n",
    );
    intro.push_str("# command-line flags: flag > environment > this file > default.\n");
    intro.push_str("# Strings may reference environment variables as $NAME or ${NAME}.\n");
    render_main_conf(&super::MainConfig::default(), &intro)
        .expect("the default main config serialises to TOML")
}

/// A commented `datakit.conf` holding the values of `cfg`, after the comment lines `intro`.
pub fn render_main_conf(cfg: &super::MainConfig, intro: &str) -> Result<String, toml::ser::Error> {
    let doc = super::MainConfig::docs();
    let table = toml::Table::try_from(cfg)?;
    let mut out = String::from(intro);
    render_section(&mut out, doc, &table, &[], "");
    Ok(out)
}

/// The commented sample config of an input called `name`, described by `description`, whose
/// default options are `table` and documented by `doc`. A `singleton` input runs one instance
/// only; any other runs one instance per `[[inputs.NAME]]` table.
pub fn input_sample(
    name: &str,
    description: &str,
    singleton: bool,
    table: &toml::Table,
    doc: &SectionDoc,
) -> String {
    let mut out = String::new();
    comment(&mut out, &format!("{name}: {description}"), "", 96);
    let header = format!("[[inputs.{}]]", toml_key(name));
    let instances = if singleton {
        format!(
            "`{name}` runs one instance only: keep a single {header} table across conf.d (further ones are ignored with a warning)."
        )
    } else {
        format!("Each {header} table runs one instance of `{name}`.")
    };
    comment(
        &mut out,
        &format!("Copy this file to any *.conf under conf.d/ and edit it. {instances}"),
        "",
        96,
    );
    out.push_str(&format!("\n{header}\n"));
    let path = vec!["inputs".to_string(), toml_key(name)];
    render_section(&mut out, doc, table, &path, "  ");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn main_sample_parses_back_to_the_defaults() {
        let text = main_conf_sample();
        let parsed: super::super::MainConfig = toml::from_str(&text).expect("sample is valid TOML");
        assert_eq!(parsed, super::super::MainConfig::default());
        assert!(text.contains("Environment: ENV_HTTP_LISTEN."), "{text}");
        assert!(text.contains("\n[http_api.tls]\n"));
    }

    #[test]
    fn input_samples_say_how_many_instances_run() {
        let doc = SectionDoc { doc: "", keys: &[] };
        // The comment is wrapped: read it as one line.
        let sample = |name, singleton| {
            input_sample(name, "An input.", singleton, &toml::Table::new(), &doc)
                .replace("\n# ", " ")
        };
        let one = sample("cpu", true);
        assert!(one.contains("`cpu` runs one instance only"), "{one}");
        assert!(one.contains("single [[inputs.cpu]] table"), "{one}");
        let many = sample("prom", false);
        assert!(
            many.contains("Each [[inputs.prom]] table runs one instance of `prom`."),
            "{many}"
        );
        assert!(!one.contains("NAME") && !many.contains("NAME"));
    }

    #[test]
    fn comments_wrap() {
        let mut out = String::new();
        comment(&mut out, &"word ".repeat(40), "  ", 40);
        assert!(out.lines().all(|l| l.len() <= 40), "{out}");
        assert!(out.lines().all(|l| l.starts_with("  # ")));
    }
}
