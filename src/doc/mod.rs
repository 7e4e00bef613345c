//! Documentation generated from the code: input pages from each input's [`InputSpec`] and
//! options, the Pipeline function reference from its table, the main-config reference from the
//! config declarations. Markdown comes from askama templates (`src/doc/templates/`); the
//! terminal view is drawn from the same data.
//!
//! [`InputSpec`]: crate::inputs::InputSpec

pub mod term;

use std::path::{Path, PathBuf};

use askama::Template;

use crate::config::sample::toml_key;
use crate::config::schema::SectionDoc;
use crate::inputs::sample as input_sample;
use crate::inputs::{self, InputEntry};
use crate::pipeline::docs::{FUNCTIONS, FuncDoc};

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("no input named `{0}`")]
    UnknownInput(String),
    #[error("no Pipeline function named `{name}`{} (`datakit doc pipeline` lists them)", near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default())]
    UnknownFunction {
        name: String,
        /// The closest function name, if one is close enough to be a typo.
        near: Option<&'static str>,
    },
    #[error("rendering {what}: {source}")]
    Render {
        what: String,
        #[source]
        source: askama::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl DocError {
    pub(crate) fn unknown_function(name: &str) -> DocError {
        DocError::UnknownFunction {
            name: name.to_string(),
            near: crate::pipeline::funcs::suggest(name),
        }
    }
}

/// A field's unit as readers write it: the original's `kind,unit` notation (`percent,percent`,
/// `digital,B`, `temperature,C`, `traffic,B/S`, `timeStamp,msec`) becomes `%`, `B`, `°C`,
/// `B/s`, `ms`; `count` and `-` (no unit) stay.
pub fn unit_text(raw: &str) -> String {
    let unit = raw.rsplit(',').next().unwrap_or(raw).trim();
    match unit {
        "percent" => "%",
        "C" => "°C",
        "F" => "°F",
        "B/S" | "B/s" => "B/s",
        "sec" | "s" => "s",
        "msec" | "ms" => "ms",
        "usec" | "us" | "µs" => "µs",
        "nsec" | "ns" => "ns",
        "" => "-",
        other => other,
    }
    .to_string()
}

/// Text for a Markdown table cell: pipes escaped, newlines folded.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// One option of an input or a config key.
#[derive(Debug, Clone)]
pub struct OptionRow {
    pub key: String,
    pub kind: String,
    pub default: String,
    pub env: String,
    pub doc: String,
}

/// The rows of a section: its keys, with sub-sections flattened as `parent.child`.
pub fn option_rows(
    doc: &'static SectionDoc,
    defaults: Option<&toml::Table>,
    prefix: &str,
) -> Vec<OptionRow> {
    let mut rows = Vec::new();
    for kd in doc.keys {
        let key = if prefix.is_empty() {
            toml_key(kd.key())
        } else {
            format!("{prefix}.{}", toml_key(kd.key()))
        };
        let value = defaults.and_then(|t| t.get(kd.key()));
        match ((kd.section)(), value) {
            (Some(sub), Some(toml::Value::Table(t))) => {
                rows.extend(option_rows(sub, Some(t), &key));
            }
            (Some(sub), _) if (kd.type_name)() == "table" => {
                rows.extend(option_rows(sub, None, &key))
            }
            _ => rows.push(key_row(kd, value, key)),
        }
    }
    rows
}

/// The row of one plain key with its default value.
fn key_row(
    kd: &crate::config::schema::KeyDoc,
    value: Option<&toml::Value>,
    key: String,
) -> OptionRow {
    let default = match value {
        Some(toml::Value::Table(t)) if t.is_empty() => "(empty)".to_string(),
        Some(toml::Value::Array(a)) if a.is_empty() => "(empty)".to_string(),
        Some(toml::Value::String(s)) if s.is_empty() => "(empty)".to_string(),
        Some(v) => format!("`{}`", cell(&v.to_string())),
        None => "-".into(),
    };
    let env = if kd.env.is_empty() {
        "-".to_string()
    } else {
        let vars: Vec<String> = kd.env.iter().map(|e| format!("`{e}`")).collect();
        let mut s = vars.join(", ");
        if kd.env_inverted {
            s.push_str(" (inverted)");
        }
        s
    };
    OptionRow {
        key,
        kind: (kd.type_name)(),
        default,
        env,
        doc: cell(kd.doc),
    }
}

/// A measurement as the page shows it.
#[derive(Debug, Clone)]
pub struct MeasurementView {
    pub name: String,
    pub category: &'static str,
    pub description: String,
    /// (name, description)
    pub tags: Vec<(String, String)>,
    /// (name, type, unit, description)
    pub fields: Vec<(String, &'static str, String, String)>,
}

#[derive(Template)]
#[template(path = "input.md")]
struct InputPage<'a> {
    name: &'a str,
    description: &'a str,
    catalog: &'a str,
    interval: String,
    instances: String,
    default_enabled: &'a str,
    election: bool,
    sample: String,
    options: Vec<OptionRow>,
    measurements: Vec<MeasurementView>,
    notes: Vec<String>,
}

/// How many instances of an input run, with the table that configures one.
fn instances_text(e: &InputEntry) -> String {
    let name = e.spec.name;
    if e.spec.singleton {
        format!("one instance only (further `[[inputs.{name}]]` tables are ignored with a warning)")
    } else {
        format!("any number: one per `[[inputs.{name}]]` table")
    }
}

fn interval_text(e: &InputEntry) -> String {
    let f = |d: std::time::Duration| crate::config::duration::format_duration(d);
    let default = (e.default_config)().interval().map(|d| f(d.get()));
    match (default, e.spec.interval) {
        (Some(d), Some(l)) => format!(
            "default `{d}`; protect mode keeps it between `{}` and `{}`",
            f(l.min),
            f(l.max)
        ),
        (Some(d), None) => format!("default `{d}`"),
        _ => "none (the input runs continuously)".into(),
    }
}

/// The measurements of an input as pages show them.
pub fn measurements(e: &InputEntry) -> Vec<MeasurementView> {
    e.spec
        .measurements
        .iter()
        .map(|m| MeasurementView {
            name: m.name.to_string(),
            category: m.category.as_str(),
            description: cell(m.description),
            tags: m
                .tags
                .iter()
                .map(|t| (t.name.to_string(), cell(t.description)))
                .collect(),
            fields: m
                .fields
                .iter()
                .map(|f| {
                    (
                        f.name.to_string(),
                        f.kind.as_str(),
                        cell(&unit_text(f.unit)),
                        cell(f.description),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The options of an input, flattened.
pub fn input_options(e: &InputEntry) -> Vec<OptionRow> {
    let defaults = (e.default_toml)().ok();
    match (e.options)() {
        Some(doc) => option_rows(doc, defaults.as_ref(), ""),
        None => Vec::new(),
    }
}

/// The Markdown page of an input.
pub fn input_markdown(name: &str) -> Result<String, DocError> {
    let e = inputs::find(name).ok_or_else(|| DocError::UnknownInput(name.to_string()))?;
    let sample = input_sample(name).unwrap_or_default();
    let page = InputPage {
        name: e.spec.name,
        description: e.spec.description,
        catalog: e.spec.catalog,
        interval: interval_text(e),
        instances: instances_text(e),
        default_enabled: if e.spec.default_enabled() {
            "yes"
        } else {
            "no"
        },
        election: false,
        sample: sample.trim_end().to_string(),
        options: input_options(e),
        measurements: measurements(e),
        notes: e.notes.iter().map(|n| n.to_string()).collect(),
    };
    page.render().map_err(|source| DocError::Render {
        what: format!("the page of {name}"),
        source,
    })
}

/// The inputs users can configure (test-only ones excluded), grouped by catalog.
pub fn catalogs() -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut entries: Vec<&InputEntry> = inputs::registry()
        .iter()
        .filter(|e| e.spec.catalog != "testing")
        .collect();
    entries.sort_by_key(|e| (e.spec.catalog, e.spec.name));
    for e in entries {
        let item = (e.spec.name.to_string(), cell(e.spec.description));
        match out.iter_mut().find(|(c, _)| c == e.spec.catalog) {
            Some((_, v)) => v.push(item),
            None => out.push((e.spec.catalog.to_string(), vec![item])),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "pipeline.md")]
struct PipelinePage<'a> {
    group: &'a str,
    functions: Vec<&'a FuncDoc>,
}

/// The function groups, in order, with their sizes.
pub fn function_groups() -> Vec<(&'static str, usize)> {
    let mut groups: Vec<(&'static str, usize)> = Vec::new();
    for f in FUNCTIONS {
        match groups.iter_mut().find(|(g, _)| *g == f.group) {
            Some((_, n)) => *n += 1,
            None => groups.push((f.group, 1)),
        }
    }
    groups.sort();
    groups
}

/// The Markdown reference of one function group (`all` for every function).
pub fn pipeline_markdown(group: &str) -> Result<String, DocError> {
    let functions: Vec<&FuncDoc> = FUNCTIONS
        .iter()
        .filter(|f| group == "all" || f.group == group)
        .collect();
    PipelinePage { group, functions }
        .render()
        .map_err(|source| DocError::Render {
            what: format!("the Pipeline functions of {group}"),
            source,
        })
}

/// The Markdown entry of one function.
pub fn function_markdown(name: &str) -> Result<String, DocError> {
    let f = FUNCTIONS
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| DocError::unknown_function(name))?;
    PipelinePage {
        group: f.group,
        functions: vec![f],
    }
    .render()
    .map_err(|source| DocError::Render {
        what: format!("the function {name}"),
        source,
    })
}

/// One section of the config reference.
pub struct ConfigSection {
    pub title: String,
    pub doc: String,
    pub keys: Vec<OptionRow>,
}

#[derive(Template)]
#[template(path = "config.md")]
struct ConfigPage {
    sections: Vec<ConfigSection>,
}

/// The main config's sections: top-level keys first, then each table.
pub fn config_sections() -> Vec<ConfigSection> {
    let doc = crate::config::MainConfig::docs();
    let defaults = toml::Table::try_from(crate::config::MainConfig::default()).ok();
    let mut top = ConfigSection {
        title: "Top level".into(),
        doc: cell(doc.doc),
        keys: Vec::new(),
    };
    let mut sections = Vec::new();
    for kd in doc.keys {
        let value = defaults.as_ref().and_then(|t| t.get(kd.key()));
        match ((kd.section)(), value) {
            (Some(sub), Some(toml::Value::Table(t))) => sections.push(ConfigSection {
                title: format!("`[{}]`", kd.key()),
                doc: cell(sub.doc),
                keys: option_rows(sub, Some(t), ""),
            }),
            (Some(sub), _) => sections.push(ConfigSection {
                title: format!("`[[{}]]`", kd.key()),
                doc: cell(sub.doc),
                keys: option_rows(sub, None, ""),
            }),
            _ => top.keys.push(key_row(kd, value, toml_key(kd.key()))),
        }
    }
    sections.insert(0, top);
    sections
}

/// The Markdown reference of the main config.
pub fn config_markdown() -> Result<String, DocError> {
    ConfigPage {
        sections: config_sections(),
    }
    .render()
    .map_err(|source| DocError::Render {
        what: "the config reference".into(),
        source,
    })
}

#[derive(Template)]
#[template(path = "index.md")]
struct IndexPage {
    version: &'static str,
    catalogs: Vec<(String, Vec<(String, String)>)>,
    groups: Vec<(&'static str, usize)>,
}

/// Writes the whole documentation under `dir`: `index.md`, `config.md`, `inputs/<name>.md`,
/// `pipeline/<group>.md`. `progress` is called after each file with (done, total).
pub fn export(
    dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<PathBuf>, DocError> {
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let cats = catalogs();
    let groups = function_groups();
    let index = IndexPage {
        version: crate::build_info::VERSION,
        catalogs: cats.clone(),
        groups: groups.clone(),
    }
    .render()
    .map_err(|source| DocError::Render {
        what: "the index".into(),
        source,
    })?;
    files.push((dir.join("index.md"), index));
    files.push((dir.join("config.md"), config_markdown()?));
    for (_, inputs) in &cats {
        for (name, _) in inputs {
            files.push((
                dir.join("inputs").join(format!("{name}.md")),
                input_markdown(name)?,
            ));
        }
    }
    for (g, _) in &groups {
        files.push((
            dir.join("pipeline").join(format!("{g}.md")),
            pipeline_markdown(g)?,
        ));
    }
    let total = files.len();
    let mut written = Vec::with_capacity(total);
    for (n, (path, text)) in files.into_iter().enumerate() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| DocError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        std::fs::write(&path, text).map_err(|source| DocError::Write {
            path: path.clone(),
            source,
        })?;
        written.push(path);
        progress(n + 1, total);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every declared field, tag, option and function has a description: a field added to an
    /// input shows in its page with no other edit, but only with words for users.
    #[test]
    fn everything_declared_is_described() {
        for e in inputs::registry() {
            assert!(
                !e.spec.description.is_empty(),
                "{}: no description",
                e.spec.name
            );
            for m in e.spec.measurements {
                assert!(
                    !m.description.is_empty(),
                    "{}/{}: no description",
                    e.spec.name,
                    m.name
                );
                for t in m.tags {
                    assert!(
                        !t.description.is_empty(),
                        "{}/{}: tag {} undescribed",
                        e.spec.name,
                        m.name,
                        t.name
                    );
                }
                for f in m.fields {
                    assert!(
                        !f.description.is_empty(),
                        "{}/{}: field {} undescribed",
                        e.spec.name,
                        m.name,
                        f.name
                    );
                    assert!(
                        !f.unit.is_empty(),
                        "{}/{}: field {} has no unit",
                        e.spec.name,
                        m.name,
                        f.name
                    );
                }
            }
            for o in input_options(e) {
                assert!(
                    !o.doc.is_empty(),
                    "{}: option {} undescribed",
                    e.spec.name,
                    o.key
                );
            }
        }
        for f in FUNCTIONS {
            assert!(
                !f.description.is_empty() && !f.signature.is_empty() && !f.example.is_empty(),
                "{}",
                f.name
            );
        }
        for s in config_sections() {
            for k in s.keys {
                assert!(!k.doc.is_empty(), "config key {} undescribed", k.key);
            }
        }
    }

    #[test]
    fn the_dk_page_lists_exactly_its_declared_fields() {
        let md = input_markdown("dk").unwrap();
        let e = inputs::find("dk").unwrap();
        let rows: Vec<&str> = md
            .lines()
            .filter(|l| l.starts_with("| `datakit_"))
            .map(|l| l.split('`').nth(1).unwrap())
            .collect();
        let declared: Vec<&str> = e.spec.measurements[0]
            .fields
            .iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(rows, declared);
        assert!(md.contains("```toml\n# dk:"), "{md}");
        assert!(md.contains("| `interval` | duration | `\"30s\"` |"), "{md}");
    }

    #[test]
    fn every_unit_reads_as_a_unit() {
        assert_eq!(unit_text("percent,percent"), "%");
        assert_eq!(unit_text("temperature,C"), "°C");
        assert_eq!(unit_text("digital,B"), "B");
        assert_eq!(unit_text("traffic,B/S"), "B/s");
        assert_eq!(unit_text("timeStamp,msec"), "ms");
        assert_eq!(unit_text("count"), "count");
        for e in inputs::registry() {
            for m in e.spec.measurements {
                for f in m.fields {
                    let u = unit_text(f.unit);
                    assert!(
                        !u.contains(',') && !u.is_empty(),
                        "{}/{}: unit {:?} renders as {u:?}",
                        e.spec.name,
                        f.name,
                        f.unit
                    );
                }
            }
        }
    }

    #[test]
    fn config_reference_has_every_section_and_env_names() {
        let md = config_markdown().unwrap();
        for s in [
            "## `[http_api]`",
            "## `[dataway]`",
            "| `ntp.enable` |",
            "`ENV_HTTP_LISTEN`",
            "`ENV_DISABLE_PROTECT_MODE` (inverted)",
        ] {
            assert!(md.contains(s), "{s} missing");
        }
    }
}
