//! A zero-copy parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0.
//!
//! [`parse`] reads a whole scrape body and returns an [`Exposition`]: metric families in order
//! of appearance, each with its samples, each sample with its labels. Names and label values
//! borrow from the body; a label value is copied only when it holds an escape sequence.
//!
//! The parser never fails as a whole: a line it cannot read is skipped and reported as a
//! [`ParseError`] (line number and [`ErrorKind`]), and the other lines still count. That keeps
//! one odd series from hiding a whole exporter, where Go's `expfmt` and Python's
//! `prometheus_client` refuse the body.
//!
//! What it accepts:
//! - `# HELP name text` (escapes `\\` and `\n`), `# TYPE name type`, `# UNIT name unit`
//!   (OpenMetrics); other `#` lines are comments.
//! - Types `counter`, `gauge`, `histogram`, `summary`, `untyped`; OpenMetrics adds `unknown`
//!   (read as untyped), `info`, `stateset` and `gaugehistogram`.
//! - Samples `name{label="value",...} value [timestamp] [# exemplar]`: a trailing comma in the
//!   label set, blanks or tabs between tokens, `\\`, `\"` and `\n` in label values (any other
//!   backslash is kept as written, like Python's parser), values `NaN`, `+Inf`, `-Inf` and
//!   anything Rust's float parser reads. Timestamps are integer milliseconds in the text
//!   format and float seconds in OpenMetrics. Exemplars are skipped.
//! - OpenMetrics: `# EOF` ends the body; anything after it is an error, and a body without it
//!   is reported as truncated (its samples are still returned).
//!
//! A sample joins the current family when its name is the family's name plus a suffix the
//! family's type allows (`_bucket`, `_sum`, `_count`, `_created` for histograms, `_total` for
//! OpenMetrics counters, ...). Otherwise it starts a new untyped family of its own name, as in
//! the reference parsers.

use std::borrow::Cow;
use std::fmt;

/// Which exposition format a body is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    Text,
    /// OpenMetrics 1.0 (`application/openmetrics-text`).
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header announces (text unless it names OpenMetrics).
    pub fn from_content_type(content_type: &str) -> Format {
        if content_type
            .to_ascii_lowercase()
            .contains("application/openmetrics-text")
        {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }

    /// The format of a body read without a content type (a file): OpenMetrics when its last
    /// non-blank line is `# EOF`.
    pub fn sniff(body: &str) -> Format {
        match body.trim_end().rsplit('\n').next() {
            Some(last) if last.trim_end_matches('\r') == "# EOF" => Format::OpenMetrics,
            _ => Format::Text,
        }
    }
}

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    /// `untyped` (text format) and `unknown` (OpenMetrics), and families without a TYPE line.
    Untyped,
    Info,
    StateSet,
}

impl MetricType {
    /// Every type, for option checks and docs.
    pub const ALL: [MetricType; 8] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Summary,
        MetricType::Untyped,
        MetricType::Info,
        MetricType::StateSet,
    ];

    /// Reads a TYPE word (case-insensitive, as the original's option check is).
    pub fn from_name(s: &str) -> Option<MetricType> {
        Some(match s.to_ascii_lowercase().as_str() {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "untyped" | "unknown" => MetricType::Untyped,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Untyped => "untyped",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
        }
    }

    /// Name suffixes a sample of a family of this type may carry.
    fn suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["", "_total", "_created"],
            MetricType::Histogram => &["_bucket", "_sum", "_count", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gsum", "_gcount", "_created"],
            MetricType::Summary => &["", "_sum", "_count", "_created"],
            MetricType::Info => &["_info", ""],
            MetricType::Gauge | MetricType::Untyped | MetricType::StateSet => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One label of a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The full sample name (`http_request_duration_seconds_bucket`).
    pub name: &'a str,
    pub value: f64,
    /// The sample's own timestamp, in Unix nanoseconds.
    pub timestamp_ns: Option<i64>,
    labels: (u32, u32),
}

/// A metric family: a name, a type and its samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family<'a> {
    pub name: &'a str,
    pub kind: MetricType,
    /// True when a TYPE line set the type.
    pub typed: bool,
    pub help: Option<Cow<'a, str>>,
    pub unit: Option<&'a str>,
    samples: (u32, u32),
}

impl<'a> Family<'a> {
    /// What follows the family name in `sample`'s name (`_bucket`, `_total`, `""`).
    pub fn suffix<'s>(&self, sample: &Sample<'s>) -> &'s str {
        sample.name.get(self.name.len()..).unwrap_or("")
    }
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("invalid metric name")]
    InvalidMetricName,
    #[error("invalid label name")]
    InvalidLabelName,
    #[error("expected `=` after label name `{0}`")]
    ExpectedEquals(String),
    #[error("expected `\"` to open the value of label `{0}`")]
    ExpectedQuote(String),
    #[error("unterminated value of label `{0}`")]
    UnterminatedLabelValue(String),
    #[error("expected `,` or `}}` after label `{0}`")]
    ExpectedCommaOrBrace(String),
    #[error("label `{0}` appears twice")]
    DuplicateLabel(String),
    #[error("missing sample value")]
    MissingValue,
    #[error("invalid sample value `{0}`")]
    InvalidValue(String),
    #[error("invalid timestamp `{0}`")]
    InvalidTimestamp(String),
    #[error("unexpected text after the sample: `{0}`")]
    TrailingText(String),
    #[error("unknown metric type `{0}`")]
    UnknownType(String),
    #[error("second TYPE line for `{0}`")]
    DuplicateType(String),
    #[error("`# {0}` line without a metric name")]
    MissingMetadataName(&'static str),
    #[error("content after `# EOF`")]
    AfterEof,
    #[error("no `# EOF` at the end of an OpenMetrics body (truncated?)")]
    MissingEof,
}

/// A skipped line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub kind: ErrorKind,
}

/// At most this many errors are kept with their details; all are counted.
pub const MAX_KEPT_ERRORS: usize = 16;

/// A parsed body.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Exposition<'a> {
    families: Vec<Family<'a>>,
    samples: Vec<Sample<'a>>,
    labels: Vec<Label<'a>>,
    /// The first [`MAX_KEPT_ERRORS`] problems.
    pub errors: Vec<ParseError>,
    /// How many lines were skipped (and `MissingEof`, counted once).
    pub error_count: usize,
}

impl<'a> Exposition<'a> {
    /// Families in order of appearance.
    pub fn families(&self) -> &[Family<'a>] {
        &self.families
    }

    /// The samples of `f`.
    pub fn samples(&self, f: &Family<'a>) -> &[Sample<'a>] {
        self.samples
            .get(f.samples.0 as usize..f.samples.1 as usize)
            .unwrap_or(&[])
    }

    /// The labels of `s`.
    pub fn labels(&self, s: &Sample<'a>) -> &[Label<'a>] {
        self.labels
            .get(s.labels.0 as usize..s.labels.1 as usize)
            .unwrap_or(&[])
    }

    /// How many samples the body held.
    pub fn sample_count(&self) -> usize {
        self.samples.len()
    }

    fn error(&mut self, line: usize, kind: ErrorKind) {
        self.error_count += 1;
        if self.errors.len() < MAX_KEPT_ERRORS {
            self.errors.push(ParseError { line, kind });
        }
    }
}

/// Parses a scrape body.
pub fn parse(body: &str, format: Format) -> Exposition<'_> {
    let mut p = Parser {
        out: Exposition::default(),
        current: None,
        om: format == Format::OpenMetrics,
    };
    // A rough size hint: node_exporter averages ~55 bytes a line.
    p.out.samples.reserve(body.len() / 64);
    p.out.labels.reserve(body.len() / 48);
    let mut eof = false;
    let mut line_no = 0;
    for line in body.split('\n') {
        line_no += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if eof {
            if !line.trim().is_empty() {
                p.out.error(line_no, ErrorKind::AfterEof);
                break;
            }
            continue;
        }
        let first = line.bytes().find(|b| !is_blank(*b));
        match first {
            None => {}
            Some(b'#') => {
                eof = p.comment(line, line_no);
            }
            Some(_) => p.sample(line, line_no),
        }
    }
    if p.om && !eof {
        p.out.error(line_no, ErrorKind::MissingEof);
    }
    p.out
}

struct Parser<'a> {
    out: Exposition<'a>,
    /// Index of the family samples are being added to.
    current: Option<usize>,
    om: bool,
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

const NAME_START: u8 = 1;
const NAME_CONT: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL_CONT: u8 = 8;

/// Character classes of metric and label names.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        if alpha || b == b':' {
            t[c] |= NAME_START | NAME_CONT;
        }
        if digit {
            t[c] |= NAME_CONT | LABEL_CONT;
        }
        if alpha {
            t[c] |= LABEL_START | LABEL_CONT;
        }
        c += 1;
    }
    t
};

/// Length of the name at the start of `b` (metric name with `start`/`cont` classes).
#[inline]
fn name_len(b: &[u8], start: u8, cont: u8) -> usize {
    match b.first() {
        Some(&c) if CLASS[c as usize] & start != 0 => {}
        _ => return 0,
    }
    let mut i = 1;
    while i < b.len() && CLASS[b[i] as usize] & cont != 0 {
        i += 1;
    }
    i
}

#[inline]
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_blank(b[i]) {
        i += 1;
    }
    i
}

/// The token at `i` up to the next blank.
#[inline]
fn token(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < b.len() && !is_blank(b[j]) {
        j += 1;
    }
    j
}

/// Reads a float as Prometheus writes it: `NaN`, `+Inf`, `-Inf`, decimal and exponent forms.
pub fn parse_float(s: &str) -> Option<f64> {
    // Rust also reads `inf`, `infinity` and `nan` in any case, as Go's ParseFloat does.
    s.parse::<f64>().ok()
}

impl<'a> Parser<'a> {
    /// Handles a `#` line; true for `# EOF` in OpenMetrics.
    fn comment(&mut self, line: &'a str, line_no: usize) -> bool {
        let b = line.as_bytes();
        let mut i = skip_blanks(b, 0) + 1;
        i = skip_blanks(b, i);
        let word_end = token(b, i);
        let word = &line[i..word_end];
        let which = match word {
            "HELP" => "HELP",
            "TYPE" => "TYPE",
            "UNIT" if self.om => "UNIT",
            "EOF" if self.om => {
                if line[word_end..].trim().is_empty() {
                    return true;
                }
                return false;
            }
            _ => return false, // a comment
        };
        let i = skip_blanks(b, word_end);
        let n = name_len(&b[i..], NAME_START, NAME_CONT);
        if n == 0 {
            // `# HELP` alone, or a comment that happens to start with the word.
            if i >= b.len() {
                self.out
                    .error(line_no, ErrorKind::MissingMetadataName(which));
            } else {
                self.out.error(line_no, ErrorKind::InvalidMetricName);
            }
            return false;
        }
        let name = &line[i..i + n];
        let mut j = i + n;
        if j < b.len() && !is_blank(b[j]) {
            self.out.error(line_no, ErrorKind::InvalidMetricName);
            return false;
        }
        // One blank separates the name from the rest; HELP text keeps further blanks.
        if j < b.len() {
            j += 1;
        }
        let rest = &line[j..];
        match which {
            "HELP" => {
                let f = self.meta_family(name);
                let help = unescape_help(rest);
                self.out.families[f].help = Some(help);
            }
            "UNIT" => {
                let f = self.meta_family(name);
                self.out.families[f].unit = Some(rest.trim());
            }
            _ => {
                let t = rest.trim();
                let Some(kind) = MetricType::from_name(t) else {
                    self.out
                        .error(line_no, ErrorKind::UnknownType(t.to_string()));
                    return false;
                };
                let f = self.meta_family(name);
                let fam = &mut self.out.families[f];
                if fam.typed {
                    self.out
                        .error(line_no, ErrorKind::DuplicateType(name.to_string()));
                    return false;
                }
                fam.kind = kind;
                fam.typed = true;
            }
        }
        false
    }

    /// The family a HELP/TYPE/UNIT line for `name` describes: the current one while it has
    /// no samples yet, else a new one.
    fn meta_family(&mut self, name: &'a str) -> usize {
        if let Some(c) = self.current {
            let f = &self.out.families[c];
            if f.name == name && f.samples.0 == f.samples.1 {
                return c;
            }
        }
        self.new_family(name)
    }

    fn new_family(&mut self, name: &'a str) -> usize {
        let at = self.out.samples.len() as u32;
        self.out.families.push(Family {
            name,
            kind: MetricType::Untyped,
            typed: false,
            help: None,
            unit: None,
            samples: (at, at),
        });
        let idx = self.out.families.len() - 1;
        self.current = Some(idx);
        idx
    }

    /// The family a sample called `name` belongs to.
    fn sample_family(&mut self, name: &'a str) -> usize {
        if let Some(c) = self.current {
            let f = &self.out.families[c];
            if let Some(rest) = name.strip_prefix(f.name)
                && f.kind.suffixes().contains(&rest)
            {
                return c;
            }
        }
        self.new_family(name)
    }

    fn sample(&mut self, line: &'a str, line_no: usize) {
        let labels_at = self.out.labels.len();
        match self.sample_inner(line) {
            Ok((name, value, timestamp_ns)) => {
                let f = self.sample_family(name);
                let labels = (labels_at as u32, self.out.labels.len() as u32);
                self.out.samples.push(Sample {
                    name,
                    value,
                    timestamp_ns,
                    labels,
                });
                self.out.families[f].samples.1 = self.out.samples.len() as u32;
            }
            Err(kind) => {
                self.out.labels.truncate(labels_at);
                self.out.error(line_no, kind);
            }
        }
    }

    fn sample_inner(&mut self, line: &'a str) -> Result<(&'a str, f64, Option<i64>), ErrorKind> {
        let b = line.as_bytes();
        let mut i = skip_blanks(b, 0);
        let n = name_len(&b[i..], NAME_START, NAME_CONT);
        if n == 0 {
            return Err(ErrorKind::InvalidMetricName);
        }
        let name = &line[i..i + n];
        i += n;
        let after_name = i;
        i = skip_blanks(b, i);
        if i < b.len() && b[i] == b'{' {
            i = self.labels(line, i + 1)?;
            i = skip_blanks(b, i);
        } else if i == after_name && i < b.len() {
            // A name running into other characters (`foo.bar 1`).
            return Err(ErrorKind::InvalidMetricName);
        }
        if i >= b.len() {
            return Err(ErrorKind::MissingValue);
        }
        let end = token(b, i);
        let vs = &line[i..end];
        let value = parse_float(vs).ok_or_else(|| ErrorKind::InvalidValue(clip(vs)))?;
        i = skip_blanks(b, end);
        let mut timestamp_ns = None;
        if i < b.len() && b[i] != b'#' {
            let end = token(b, i);
            let ts = &line[i..end];
            timestamp_ns = Some(
                self.timestamp(ts)
                    .ok_or_else(|| ErrorKind::InvalidTimestamp(clip(ts)))?,
            );
            i = skip_blanks(b, end);
        }
        // Whatever follows `#` is an exemplar (OpenMetrics), ignored.
        if i < b.len() && b[i] != b'#' {
            return Err(ErrorKind::TrailingText(clip(&line[i..])));
        }
        Ok((name, value, timestamp_ns))
    }

    fn timestamp(&self, s: &str) -> Option<i64> {
        if self.om {
            if let Some(ns) = decimal_seconds_to_ns(s) {
                return Some(ns);
            }
            let secs = parse_float(s)?;
            let ns = secs * 1e9;
            // i64 nanoseconds cover the years 1678..2262.
            (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns as i64)
        } else {
            s.parse::<i64>().ok()?.checked_mul(1_000_000)
        }
    }

    /// Parses labels after `{`; returns the index after `}`.
    fn labels(&mut self, line: &'a str, mut i: usize) -> Result<usize, ErrorKind> {
        let b = line.as_bytes();
        let first = self.out.labels.len();
        loop {
            i = skip_blanks(b, i);
            match b.get(i) {
                Some(b'}') => return Ok(i + 1),
                None => return Err(ErrorKind::ExpectedCommaOrBrace(String::new())),
                _ => {}
            }
            let n = name_len(&b[i..], LABEL_START, LABEL_CONT);
            if n == 0 {
                return Err(ErrorKind::InvalidLabelName);
            }
            let name = &line[i..i + n];
            i = skip_blanks(b, i + n);
            if b.get(i) != Some(&b'=') {
                return Err(ErrorKind::ExpectedEquals(name.to_string()));
            }
            i = skip_blanks(b, i + 1);
            if b.get(i) != Some(&b'"') {
                return Err(ErrorKind::ExpectedQuote(name.to_string()));
            }
            let (value, next) = label_value(line, i + 1)
                .ok_or_else(|| ErrorKind::UnterminatedLabelValue(name.to_string()))?;
            if self.out.labels[first..].iter().any(|l| l.name == name) {
                return Err(ErrorKind::DuplicateLabel(name.to_string()));
            }
            self.out.labels.push(Label { name, value });
            i = skip_blanks(b, next);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => return Ok(i + 1),
                _ => return Err(ErrorKind::ExpectedCommaOrBrace(name.to_string())),
            }
        }
    }
}

/// `[-]seconds[.fraction]` as exact nanoseconds (digits past the ninth are cut); `None` for
/// other forms (exponents), which go through `f64`.
fn decimal_seconds_to_ns(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos: i64 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(b - b'0') * 10i64.pow(8 - i as u32);
    }
    let ns = secs.checked_mul(1_000_000_000)?.checked_add(nanos)?;
    Some(if neg { -ns } else { ns })
}

/// A label value starting at `i` (after the opening quote): the value and the index after the
/// closing quote.
fn label_value(line: &str, i: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    let rest = b.get(i..)?;
    let q = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[q] == b'"' {
        return Some((Cow::Borrowed(&line[i..i + q]), i + q + 1));
    }
    // Escapes: copy.
    let mut s = String::with_capacity(q + 16);
    s.push_str(&line[i..i + q]);
    let mut j = i + q;
    loop {
        let rest = b.get(j..)?;
        let k = memchr::memchr2(b'"', b'\\', rest)?;
        s.push_str(&line[j..j + k]);
        j += k;
        if b[j] == b'"' {
            return Some((Cow::Owned(s), j + 1));
        }
        // A backslash: the next character decides.
        match b.get(j + 1)? {
            b'\\' => s.push('\\'),
            b'"' => s.push('"'),
            b'n' => s.push('\n'),
            _ => {
                // Unknown escape: kept as written. The next character may be multi-byte, so
                // only the backslash is consumed here.
                s.push('\\');
                j += 1;
                continue;
            }
        }
        j += 2;
    }
}

/// HELP text with `\\` and `\n` unescaped.
fn unescape_help(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// At most 64 bytes of `s` for an error message (cut on a character boundary).
fn clip(s: &str) -> String {
    if s.len() <= 64 {
        return s.to_string();
    }
    let mut end = 64;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(e: &Exposition<'_>) -> Vec<String> {
        let mut out = Vec::new();
        for f in e.families() {
            for s in e.samples(f) {
                let labels: Vec<String> = e
                    .labels(s)
                    .iter()
                    .map(|l| format!("{}={:?}", l.name, l.value))
                    .collect();
                out.push(format!(
                    "{}:{} {}{{{}}} {} {:?}",
                    f.name,
                    f.kind,
                    s.name,
                    labels.join(","),
                    s.value,
                    s.timestamp_ns
                ));
            }
        }
        out
    }

    #[test]
    fn reads_types_labels_values_and_timestamps() {
        let body = "# HELP http_requests_total The total.\n\
                    # TYPE http_requests_total counter\n\
                    http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                    http_requests_total{method=\"post\",code=\"400\",}    3 1395066363000\n\
                    \n\
                    metric_without_timestamp_and_labels 12.47\n\
                    # A comment\n\
                    something_weird{problem=\"division by zero\"} +Inf -3982045\n";
        let e = parse(body, Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(
            dump(&e),
            [
                "http_requests_total:counter http_requests_total{method=\"post\",code=\"200\"} 1027 Some(1395066363000000000)",
                "http_requests_total:counter http_requests_total{method=\"post\",code=\"400\"} 3 Some(1395066363000000000)",
                "metric_without_timestamp_and_labels:untyped metric_without_timestamp_and_labels{} 12.47 None",
                "something_weird:untyped something_weird{problem=\"division by zero\"} inf Some(-3982045000000)",
            ]
        );
        assert_eq!(e.families()[0].help.as_deref(), Some("The total."));
    }

    #[test]
    fn escapes_in_label_values_and_help() {
        let body = "# HELP x a \\\\ b\\nc\n\
                    x{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\",odd=\"\\d\\é\"} 1\n";
        let e = parse(body, Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let f = &e.families()[0];
        assert_eq!(f.help.as_deref(), Some("a \\ b\nc"));
        let s = &e.samples(f)[0];
        let l = e.labels(s);
        assert_eq!(l[0].value, "C:\\DIR\\FILE.TXT");
        assert_eq!(l[1].value, "Cannot find file:\n\"FILE.TXT\"");
        assert_eq!(l[2].value, "\\d\\é");
        assert!(matches!(l[0].value, Cow::Owned(_)));
    }

    #[test]
    fn braces_and_commas_inside_values() {
        let e = parse("m{a=\"}{,=\",b=\"x\"} 2\n", Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let s = &e.samples(&e.families()[0])[0];
        assert_eq!(e.labels(s)[0].value, "}{,=");
        assert!(matches!(e.labels(s)[1].value, Cow::Borrowed(_)));
    }

    #[test]
    fn histogram_and_summary_samples_join_their_family() {
        let body = "# TYPE h histogram\n\
                    h_bucket{le=\"0.1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 0.3\nh_count 2\n\
                    # TYPE s summary\n\
                    s{quantile=\"0.5\"} NaN\ns_sum 1\ns_count 0\n\
                    s_other 5\n";
        let e = parse(body, Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let fams: Vec<_> = e
            .families()
            .iter()
            .map(|f| (f.name, f.kind, e.samples(f).len()))
            .collect();
        assert_eq!(
            fams,
            [
                ("h", MetricType::Histogram, 4),
                ("s", MetricType::Summary, 3),
                ("s_other", MetricType::Untyped, 1)
            ]
        );
        assert!(e.samples(&e.families()[1])[0].value.is_nan());
        let f = &e.families()[0];
        assert_eq!(f.suffix(&e.samples(f)[0]), "_bucket");
    }

    #[test]
    fn openmetrics_counters_timestamps_exemplars_and_eof() {
        let body = "# TYPE foo counter\n# UNIT foo seconds\n# HELP foo Foo.\n\
                    foo_total 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n\
                    foo_created 1520430000.123\n\
                    # TYPE i info\ni_info{v=\"1\"} 1\n# EOF\n";
        let e = parse(body, Format::OpenMetrics);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        let f = &e.families()[0];
        assert_eq!((f.kind, f.unit), (MetricType::Counter, Some("seconds")));
        let s = &e.samples(f)[0];
        assert_eq!(s.value, 17.0);
        assert_eq!(s.timestamp_ns, Some(1_520_879_607_789_000_000));
        assert_eq!(e.samples(f).len(), 2);
        assert_eq!(e.families()[1].kind, MetricType::Info);
        assert_eq!(Format::sniff(body), Format::OpenMetrics);
        assert_eq!(Format::sniff("a 1\n"), Format::Text);
    }

    #[test]
    fn openmetrics_without_eof_or_with_text_after_it() {
        let e = parse("a 1\n", Format::OpenMetrics);
        assert_eq!(e.sample_count(), 1);
        assert_eq!(e.errors[0].kind, ErrorKind::MissingEof);
        let e = parse("a 1\n# EOF\nb 2\n", Format::OpenMetrics);
        assert_eq!(e.sample_count(), 1);
        assert_eq!(
            e.errors[0],
            ParseError {
                line: 3,
                kind: ErrorKind::AfterEof
            }
        );
        // In the text format `# EOF` is a comment.
        let e = parse("a 1\n# EOF\nb 2\n", Format::Text);
        assert_eq!((e.sample_count(), e.error_count), (2, 0));
    }

    #[test]
    fn bad_lines_are_skipped_and_reported() {
        let body = "ok 1\n\
                    bad{a=\"x} 1\n\
                    bad{a=\"x\" b=\"y\"} 1\n\
                    bad{1a=\"x\"} 1\n\
                    bad{a=\"x\",a=\"y\"} 1\n\
                    bad\n\
                    bad one\n\
                    bad 1 2 3\n\
                    bad 1 x\n\
                    9bad 1\n\
                    bad.name 1\n\
                    # TYPE t nonsense\n\
                    # TYPE t gauge\n# TYPE t gauge\n\
                    # HELP\n\
                    t 2\n";
        let e = parse(body, Format::Text);
        let kinds: Vec<String> = e.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "line 2: unterminated value of label `a`",
                "line 3: expected `,` or `}` after label `a`",
                "line 4: invalid label name",
                "line 5: label `a` appears twice",
                "line 6: missing sample value",
                "line 7: invalid sample value `one`",
                "line 8: unexpected text after the sample: `3`",
                "line 9: invalid timestamp `x`",
                "line 10: invalid metric name",
                "line 11: invalid metric name",
                "line 12: unknown metric type `nonsense`",
                "line 14: second TYPE line for `t`",
                "line 15: `# HELP` line without a metric name",
            ]
        );
        assert_eq!(dump(&e).len(), 2);
        assert!(e.labels.is_empty(), "labels of refused lines are dropped");
    }

    #[test]
    fn interleaved_family_starts_a_new_one() {
        let e = parse("# TYPE a gauge\na 1\nb 2\na 3\n", Format::Text);
        let fams: Vec<_> = e.families().iter().map(|f| (f.name, f.kind)).collect();
        assert_eq!(
            fams,
            [
                ("a", MetricType::Gauge),
                ("b", MetricType::Untyped),
                ("a", MetricType::Untyped)
            ]
        );
    }

    #[test]
    fn crlf_blanks_and_tabs() {
        let e = parse("  m { a = \"1\" ,\tb=\"2\" }\t5\r\n\r\n", Format::Text);
        assert!(e.errors.is_empty(), "{:?}", e.errors);
        assert_eq!(dump(&e), ["m:untyped m{a=\"1\",b=\"2\"} 5 None"]);
    }

    #[test]
    fn special_values() {
        let e = parse(
            "a NaN\nb +Inf\nc -Inf\nd 1e-3\ne -0\nf 0x10\n",
            Format::Text,
        );
        let v: Vec<f64> = e
            .families()
            .iter()
            .flat_map(|f| e.samples(f).iter().map(|s| s.value))
            .collect();
        assert!(v[0].is_nan());
        assert_eq!(&v[1..], [f64::INFINITY, f64::NEG_INFINITY, 0.001, -0.0]);
        assert_eq!(e.errors[0].kind, ErrorKind::InvalidValue("0x10".into()));
    }
}
