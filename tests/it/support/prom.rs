//! A small parser of the Prometheus text format (enough for node-exporter's output).

use std::collections::BTreeMap;

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Samples of a scrape.
#[derive(Debug, Clone, Default)]
pub struct Scrape(pub Vec<Sample>);

impl Scrape {
    pub fn parse(text: &str) -> Scrape {
        Scrape(text.lines().filter_map(parse_line).collect())
    }

    /// The value of `name` whose labels include every `(key, value)` of `labels`.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.all(name, labels).next().map(|s| s.value)
    }

    /// Every sample of `name` matching `labels`.
    pub fn all<'a>(
        &'a self,
        name: &'a str,
        labels: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.0.iter().filter(move |s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
    }

    /// The sum of every sample of `name` matching `labels`.
    pub fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.all(name, labels).map(|s| s.value).sum()
    }
}

fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (head, rest) = if line.contains('{') {
        let close = line.rfind('}')?;
        (&line[..close + 1], &line[close + 1..])
    } else {
        line.split_at(line.find(' ')?)
    };
    let value = rest.split_whitespace().next()?.parse::<f64>().ok()?;
    let (name, labels) = match head.find('{') {
        Some(i) => (&head[..i], parse_labels(&head[i + 1..head.len() - 1])),
        None => (head, BTreeMap::new()),
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

fn parse_labels(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = s;
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().trim_start_matches(',').trim().to_string();
        let after = &rest[eq + 1..];
        let Some(body) = after.strip_prefix('"') else {
            break;
        };
        let mut value = String::new();
        let mut chars = body.char_indices();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => {}
                },
                '"' => {
                    end = i + 1;
                    break;
                }
                c => value.push(c),
            }
        }
        out.insert(key, value);
        rest = &body[end..];
    }
    out
}

#[test]
fn prometheus_text_parses() {
    let s = Scrape::parse(
        "# HELP x y\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12.5\nnode_load1 0.3\nnode_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/a\\\"b\"} 1e+10\n",
    );
    assert_eq!(
        s.get("node_cpu_seconds_total", &[("mode", "idle")]),
        Some(12.5)
    );
    assert_eq!(s.get("node_load1", &[]), Some(0.3));
    assert_eq!(
        s.get("node_filesystem_size_bytes", &[("mountpoint", "/a\"b")]),
        Some(1e10)
    );
}
