//! Graphite-style templates: how a dotted statsd name becomes a measurement, a field and tags.
//! The original applies one template to every name, `measurement*` (all parts, joined by
//! `metric_separator`: `jvm.heap.used` → `jvm_heap_used`); its collector also has a list of
//! templates that its config never fills. `templates` fills it here, with the rules of the
//! Graphite parser the original embeds:
//!
//! ```text
//! [separator] [filter] template [tag=value,...]
//! ```
//!
//! - a template is parts joined by its separator (default `.`), matched against the name's
//!   parts in order: `measurement`, `field`, a tag name, or empty (skip the part);
//!   `measurement*` / `field*` take every remaining part; several parts of one kind are joined
//!   by `metric_separator`;
//! - the filter (parts, `*` matches any one part) picks the template; the most specific filter
//!   wins, exact parts before `*`; a template without filter is the default;
//! - the tags after the template are added to names it matches (parts of the name win).

use std::cmp::Ordering;

/// One part of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Skip,
    Measurement,
    MeasurementRest,
    Field,
    FieldRest,
    Tag(String),
}

/// A compiled template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    separator: String,
    parts: Vec<Part>,
    tags: Vec<(String, String)>,
}

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("template `{0}` has no `measurement` part")]
    NoMeasurement(String),
    #[error("template `{0}` uses both `measurement*` and `field*`; use one of them")]
    BothGreedy(String),
    #[error("tag `{0}` of a template is not `key=value`")]
    BadTag(String),
    #[error("`{0}` is not `[separator] [filter] template [tag=value,...]`")]
    Shape(String),
}

/// What a template made of a name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Applied {
    pub measurement: String,
    pub field: String,
    /// Tags from the template, in the order set (a later one of the same key wins).
    pub tags: Vec<(String, String)>,
}

impl Template {
    pub fn new(
        separator: &str,
        pattern: &str,
        tags: Vec<(String, String)>,
    ) -> Result<Template, TemplateError> {
        let parts: Vec<Part> = pattern
            .split(separator)
            .map(|p| match p {
                "" => Part::Skip,
                "measurement" => Part::Measurement,
                "measurement*" => Part::MeasurementRest,
                "field" => Part::Field,
                "field*" => Part::FieldRest,
                t => Part::Tag(t.to_string()),
            })
            .collect();
        // As the original: any part that starts with `measurement` counts.
        if !pattern
            .split(separator)
            .any(|p| p.starts_with("measurement"))
        {
            return Err(TemplateError::NoMeasurement(pattern.to_string()));
        }
        if parts.contains(&Part::MeasurementRest) && parts.contains(&Part::FieldRest) {
            return Err(TemplateError::BothGreedy(pattern.to_string()));
        }
        Ok(Template {
            separator: separator.to_string(),
            parts,
            tags,
        })
    }

    /// The original's default: every part is the measurement.
    pub fn default_template() -> Template {
        Template {
            separator: ".".into(),
            parts: vec![Part::MeasurementRest],
            tags: Vec::new(),
        }
    }

    /// Applies the template to `name`; parts are joined with `joiner`.
    pub fn apply(&self, name: &str, joiner: &str, out: &mut Applied) {
        out.measurement.clear();
        out.field.clear();
        out.tags.clear();
        // A template's own tags start the tag lists; parts of the same tag are appended
        // (joined), as in the original.
        for (k, v) in &self.tags {
            match out.tags.iter_mut().find(|(tk, _)| tk == k) {
                Some(slot) => slot.1.clone_from(v),
                None => out.tags.push((k.clone(), v.clone())),
            }
        }
        let fields: Vec<&str> = name.split(self.separator.as_str()).collect();
        let push = |s: &mut String, part: &str| {
            if !s.is_empty() {
                s.push_str(joiner);
            }
            s.push_str(part);
        };
        for (i, part) in self.parts.iter().enumerate() {
            let Some(&f) = fields.get(i) else {
                continue;
            };
            match part {
                Part::Skip => {}
                Part::Measurement => push(&mut out.measurement, f),
                Part::Field => push(&mut out.field, f),
                // The original's `break` leaves only its switch: later parts still apply.
                Part::MeasurementRest => fields[i..]
                    .iter()
                    .for_each(|f| push(&mut out.measurement, f)),
                Part::FieldRest => fields[i..].iter().for_each(|f| push(&mut out.field, f)),
                Part::Tag(t) => match out.tags.iter_mut().find(|(k, _)| k == t) {
                    Some((_, v)) => push(v, f),
                    None => out.tags.push((t.clone(), f.to_string())),
                },
            }
        }
    }
}

/// A node of the filter tree: children sorted by value, `*` last.
#[derive(Debug, Default)]
struct Node {
    value: String,
    children: Vec<Node>,
    template: Option<usize>,
}

impl Node {
    fn insert(&mut self, parts: &[&str], template: usize) {
        let Some((first, rest)) = parts.split_first() else {
            self.template = Some(template);
            return;
        };
        if let Some(c) = self.children.iter_mut().find(|c| c.value == *first) {
            c.insert(rest, template);
            return;
        }
        let mut n = Node {
            value: first.to_string(),
            ..Node::default()
        };
        n.insert(rest, template);
        self.children.push(n);
        self.children
            .sort_by(|a, b| match (a.value == "*", b.value == "*") {
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                _ => a.value.cmp(&b.value),
            });
    }

    fn search(&self, parts: &[&str]) -> Option<usize> {
        let Some((first, rest)) = parts.split_first() else {
            return self.template;
        };
        if self.children.is_empty() {
            return self.template;
        }
        let wild = self.children.last().is_some_and(|c| c.value == "*");
        let exact = &self.children[..self.children.len() - usize::from(wild)];
        if let Ok(i) = exact.binary_search_by(|c| c.value.as_str().cmp(first))
            && let Some(t) = exact[i].search(rest)
        {
            return Some(t);
        }
        if wild {
            return self.children[self.children.len() - 1].search(rest);
        }
        self.template
    }
}

/// The templates of an instance: the filter tree and the default.
#[derive(Debug)]
pub struct Templates {
    templates: Vec<Template>,
    default: usize,
    root: Node,
    /// The separator names are split with to search the tree.
    separator: String,
}

struct Spec<'a> {
    separator: &'a str,
    filter: &'a str,
    template: &'a str,
    tags: &'a str,
}

fn spec(s: &str) -> Result<Spec<'_>, TemplateError> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    let mut sp = Spec {
        separator: ".",
        filter: "",
        template: "",
        tags: "",
    };
    match parts.as_slice() {
        [t] => sp.template = t,
        [sep, filter, t, tags] => {
            (sp.separator, sp.filter, sp.template, sp.tags) = (sep, filter, t, tags);
        }
        [a, t] if t.contains('=') => (sp.template, sp.tags) = (a, t),
        [filter, t] => (sp.filter, sp.template) = (filter, t),
        [filter, t, tags] if tags.contains('=') => {
            (sp.filter, sp.template, sp.tags) = (filter, t, tags);
        }
        [sep, filter, t] => (sp.separator, sp.filter, sp.template) = (sep, filter, t),
        _ => return Err(TemplateError::Shape(s.to_string())),
    }
    Ok(sp)
}

fn tag_list(s: &str) -> Result<Vec<(String, String)>, TemplateError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.contains('=') => Ok((k.to_string(), v.to_string())),
            _ => Err(TemplateError::BadTag(kv.to_string())),
        })
        .collect()
}

impl Templates {
    /// Compiles `specs` (the `templates` option).
    pub fn new(specs: &[String]) -> Result<Templates, TemplateError> {
        let mut parsed = Vec::new();
        for s in specs.iter().filter(|s| !s.trim().is_empty()) {
            let sp = spec(s)?;
            let t = Template::new(sp.separator, sp.template, tag_list(sp.tags)?)?;
            parsed.push((
                sp.filter.to_string(),
                sp.separator.to_string(),
                sp.template.to_string(),
                t,
            ));
        }
        // As the original: templates without a filter first, then by their number of parts;
        // a later one replaces an earlier one of the same filter.
        parsed.sort_by(|a, b| match (a.0.is_empty(), b.0.is_empty()) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            _ => {
                a.2.matches(a.1.as_str())
                    .count()
                    .cmp(&b.2.matches(b.1.as_str()).count())
            }
        });
        let mut out = Templates {
            templates: vec![Template::default_template()],
            default: 0,
            root: Node::default(),
            separator: ".".into(),
        };
        for (filter, separator, _, t) in parsed {
            out.templates.push(t);
            let i = out.templates.len() - 1;
            out.separator = separator.clone();
            if filter.is_empty() {
                out.default = i;
            } else {
                let parts: Vec<&str> = filter.split(separator.as_str()).collect();
                out.root.insert(&parts, i);
            }
        }
        Ok(out)
    }

    /// The template for `name`.
    pub fn matching(&self, name: &str) -> &Template {
        let parts: Vec<&str> = name.split(self.separator.as_str()).collect();
        let i = self.root.search(&parts).unwrap_or(self.default);
        &self.templates[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(specs: &[&str], name: &str) -> Applied {
        let t = Templates::new(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let mut a = Applied::default();
        t.matching(name).apply(name, "_", &mut a);
        a
    }

    #[test]
    fn the_default_joins_every_part() {
        let a = apply(&[], "jvm.buffer_pool.direct.capacity");
        assert_eq!(a.measurement, "jvm_buffer_pool_direct_capacity");
        assert_eq!(a.field, "");
        assert!(a.tags.is_empty());
    }

    #[test]
    fn parts_make_measurement_field_and_tags() {
        let a = apply(
            &["measurement.measurement.field.region"],
            "cpu.load.idle.us-west",
        );
        assert_eq!(a.measurement, "cpu_load");
        assert_eq!(a.field, "idle");
        assert_eq!(a.tags, [("region".to_string(), "us-west".to_string())]);
        let a = apply(&["host.measurement.field*"], "web1.mem.heap.used");
        assert_eq!(
            (a.measurement.as_str(), a.field.as_str()),
            ("mem", "heap_used")
        );
        assert_eq!(a.tags, [("host".to_string(), "web1".to_string())]);
        // A skipped part, and a name shorter than the template.
        let a = apply(&["..measurement.field"], "a.b.c");
        assert_eq!((a.measurement.as_str(), a.field.as_str()), ("c", ""));
    }

    #[test]
    fn filters_pick_the_most_specific_template() {
        let specs = [
            "measurement.field",
            "servers.* .host.measurement.field",
            "servers.localhost .host.measurement.field* dc=one",
            "*.app measurement.service env=prod",
        ];
        let a = apply(&specs, "servers.localhost.cpu.user.total");
        assert_eq!(a.measurement, "cpu");
        assert_eq!(a.field, "user_total");
        assert!(a.tags.contains(&("dc".to_string(), "one".to_string())));
        assert!(
            a.tags
                .contains(&("host".to_string(), "localhost".to_string()))
        );
        let a = apply(&specs, "servers.web2.cpu.user");
        assert_eq!((a.measurement.as_str(), a.field.as_str()), ("cpu", "user"));
        let a = apply(&specs, "web.app");
        assert_eq!(a.measurement, "web");
        assert_eq!(
            a.tags,
            [
                ("env".to_string(), "prod".to_string()),
                ("service".to_string(), "app".to_string())
            ]
        );
        let a = apply(&specs, "other.thing.x");
        assert_eq!(
            (a.measurement.as_str(), a.field.as_str()),
            ("other", "thing")
        );
    }

    #[test]
    fn a_separator_before_the_filter() {
        let a = apply(&["_ app_* measurement_field"], "app_requests");
        assert_eq!(
            (a.measurement.as_str(), a.field.as_str()),
            ("app", "requests")
        );
    }

    #[test]
    fn bad_templates_are_refused() {
        for (s, want) in [
            (
                "host.field",
                TemplateError::NoMeasurement("host.field".into()),
            ),
            (
                "measurement*.field*",
                TemplateError::BothGreedy("measurement*.field*".into()),
            ),
            ("a.* measurement x=1,y", TemplateError::BadTag("y".into())),
            ("a b c d e", TemplateError::Shape("a b c d e".into())),
        ] {
            assert_eq!(Templates::new(&[s.to_string()]).unwrap_err(), want, "{s}");
        }
    }
}
