//! The statsd line format with the DogStatsD extensions, read as the original reads it (its
//! `parseStatsdLine`, `parseDataDogTags` and `parseEventMessage`), in one pass that does not
//! allocate (up to 16 tags and 8 values a line).
//!
//! ```text
//! name[,k=v...]:value|type[|@rate][|#tag:value,tag...][|c:container][|T<unix time>][:value|type...]
//! _e{title.length,text.length}:title|text[|d:date|h:host|p:priority|t:type|k:key|s:source|#tags]
//! _sc|name|status[|d:date|h:host|#tags|m:message]
//! ```
//!
//! - The name ends at the first `:`. After it come one or more `value|type` parts separated by
//!   `:` (the statsd form `a:1|c:2|g`: each part is one sample of the name), each followed by
//!   `|`-separated metadata: `@rate`, and with the DogStatsD extensions `#tags` (which apply to
//!   every sample of the line), `c:`, `e:` and `card:` (container id, external data and
//!   cardinality, read and ignored) and `T<time>` (ignored, as in the original).
//! - With the DogStatsD extensions, a value may hold several values (`a:1:2:3|h`, DogStatsD
//!   1.1 packed values): each is one sample of the type.
//! - A counter's value is divided by its sample rate; a timing, histogram or distribution
//!   sampled at `@0.1` counts ten times (see `aggregate`); a gauge or a set ignores the rate.
//! - `+`/`-` make a gauge change instead of being set; other types than gauges and counters
//!   refuse a sign (as the original).
//!
//! Differences from the original, on purpose:
//! - a value must be a finite decimal number (the original also took `NaN`, `Inf` and Go's hex
//!   floats, which no statsd client sends and no output can write); a rate must be more than 0
//!   (the original divided counters by negative rates);
//! - valueless DogStatsD tags (`#a,b,c`) each become `tag=true` (the original, reading two in a
//!   row, made the second the value of the first: `a=b`), and a tag value ending in a
//!   multi-byte character keeps it whole (the original cut its last byte off);
//! - an event starts with `_e{` (the original took any line starting with `_e` for one, so a
//!   metric named `_errors` was refused), and container ids (`|c:...`) no longer break the
//!   line at their `:`;
//! - nothing is ignored without a word: each line that yields no metric is an error with the
//!   byte it is about (the original skipped lines without `:` or `|` and unknown types
//!   silently).

use smallvec::SmallVec;

/// The statsd metric types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Counter,
    Gauge,
    Set,
    Timing,
    Histogram,
    Distribution,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Counter,
        Kind::Gauge,
        Kind::Set,
        Kind::Timing,
        Kind::Histogram,
        Kind::Distribution,
    ];

    /// The type as written on the wire: `c`, `g`, `s`, `ms`, `h`, `d`.
    pub fn from_code(code: &str) -> Option<Kind> {
        Some(match code {
            "c" => Kind::Counter,
            "g" => Kind::Gauge,
            "s" => Kind::Set,
            "ms" => Kind::Timing,
            "h" => Kind::Histogram,
            "d" => Kind::Distribution,
            _ => return None,
        })
    }

    pub fn code(self) -> &'static str {
        match self {
            Kind::Counter => "c",
            Kind::Gauge => "g",
            Kind::Set => "s",
            Kind::Timing => "ms",
            Kind::Histogram => "h",
            Kind::Distribution => "d",
        }
    }

    /// The value of the `metric_type` tag the original adds.
    pub fn metric_type(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Set => "set",
            Kind::Timing => "timing",
            Kind::Histogram => "histogram",
            Kind::Distribution => "distribution",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Timings, histograms and distributions: kept as samples and reported as statistics.
    pub fn is_sampled(self) -> bool {
        matches!(self, Kind::Timing | Kind::Histogram | Kind::Distribution)
    }
}

/// The value of one sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleValue<'a> {
    /// Counters (already divided by the sample rate), gauges, timings, histograms and
    /// distributions.
    Number(f64),
    /// A member of a set.
    Member(&'a str),
}

/// One value of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    pub kind: Kind,
    pub value: SampleValue<'a>,
    /// A gauge written with a sign (`+3`, `-3`) changes the gauge instead of setting it.
    pub additive: bool,
    /// The sample rate (`@0.1`), 0 when none was given.
    pub rate: f64,
}

/// A tag as written on a line (DogStatsD `#k:v`): key and value.
pub type TagRef<'a> = (&'a str, &'a str);

/// What a line was.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// Nothing but white space.
    Blank,
    /// Metrics: how many samples were handed over.
    Metrics(usize),
    /// A DogStatsD event (`_e{...}`), with its title. The original reads events and then
    /// drops them: its accumulator refuses a point with more than one field.
    Event(String),
    /// A DogStatsD service check (`_sc|name|...`), with its name. The original never reads
    /// them (they fail its metric parse and are skipped).
    ServiceCheck(String),
}

/// Why a line, or a part of it, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Why {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("no `:` between the name and a value")]
    NoValue,
    #[error("value `{0}` has no `|type`")]
    NoType(String),
    #[error("unknown metric type `{0}` (use c, g, s, ms, h or d)")]
    UnknownType(String),
    #[error("`{value}`: a sign is only allowed on gauges and counters, not on `{code}`")]
    Sign { value: String, code: &'static str },
    #[error("value `{0}` is not a finite number")]
    BadNumber(String),
    #[error("empty metric name")]
    EmptyName,
    #[error("more than {MAX_VALUES} values in one line")]
    TooManyValues,
    #[error("invalid event: {0}")]
    BadEvent(String),
}

/// A refused line: why, and the byte of the line it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{why}")]
pub struct LineError {
    /// Offset of the offending byte from the start of the line.
    pub at: usize,
    pub why: Why,
}

impl LineError {
    fn new(at: usize, why: Why) -> LineError {
        LineError { at, why }
    }
}

/// Tags of one line; no heap allocation up to 16.
pub type LineTags<'a> = SmallVec<[TagRef<'a>; 16]>;

/// The most values one line may carry (`a:1:2:3|h`, `a:1|c:2|g`); a line is one datagram
/// line, so this bounds what a line costs.
pub const MAX_VALUES: usize = 4096;

/// Reads lines.
#[derive(Debug, Default)]
pub struct LineParser {}

/// Position of the first of `set` in `s` from `from`, or the end.
fn find_any(s: &[u8], from: usize, set: &[u8]) -> usize {
    s[from..]
        .iter()
        .position(|b| set.contains(b))
        .map_or(s.len(), |i| from + i)
}

impl LineParser {
    pub fn new() -> LineParser {
        LineParser::default()
    }

    /// Reads one line (without its `\n`). Each metric found is handed to `sink` with its
    /// bucket (the name with any `,k=v` tags) and the line's DogStatsD tags, in the order they
    /// were written (a later tag of the same key wins). `datadog` turns the DogStatsD
    /// extensions on: `#` tags and the other metadata, packed values, events and service
    /// checks. On an error, the samples before the bad one have been handed over (as the
    /// original aggregated them).
    pub fn parse<'l, F>(
        &mut self,
        raw: &'l [u8],
        datadog: bool,
        mut sink: F,
    ) -> Result<Record, LineError>
    where
        F: FnMut(&str, Sample<'_>, &[TagRef<'l>]),
    {
        let line =
            std::str::from_utf8(raw).map_err(|e| LineError::new(e.valid_up_to(), Why::NotUtf8))?;
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        let line = trimmed.trim_end();
        if line.is_empty() {
            return Ok(Record::Blank);
        }
        let shift = |e: LineError| LineError::new(e.at + lead, e.why);
        if datadog && line.starts_with("_e{") {
            return parse_event(line).map(Record::Event).map_err(shift);
        }
        if datadog && line.starts_with("_sc|") {
            let name = line[4..].split('|').next().unwrap_or("");
            return Ok(Record::ServiceCheck(name.to_string()));
        }
        let mut samples: SmallVec<[Sample<'l>; 8]> = SmallVec::new();
        let mut tags = LineTags::new();
        let r = read_metrics(line, datadog, &mut samples, &mut tags);
        let bucket = line.split(':').next().unwrap_or("");
        for s in &samples {
            sink(bucket, *s, &tags);
        }
        r.map(|()| Record::Metrics(samples.len())).map_err(shift)
    }
}

/// The samples and tags of a metric line (`line` trimmed, not empty). On an error, `samples`
/// holds those before the bad part.
fn read_metrics<'l>(
    line: &'l str,
    datadog: bool,
    samples: &mut SmallVec<[Sample<'l>; 8]>,
    tags: &mut LineTags<'l>,
) -> Result<(), LineError> {
    let b = line.as_bytes();
    let Some(colon) = memchr::memchr(b':', b) else {
        return Err(LineError::new(line.len(), Why::NoValue));
    };
    if line[..colon]
        .split(',')
        .next()
        .is_none_or(|n| n.trim().is_empty())
    {
        return Err(LineError::new(0, Why::EmptyName));
    }
    let mut i = colon + 1;
    loop {
        // value|type
        let vstart = i;
        let Some(bar) = memchr::memchr(b'|', &b[i..]).map(|p| i + p) else {
            let end = find_any(b, i, b":");
            return Err(LineError::new(
                vstart,
                Why::NoType(line[vstart..end].to_string()),
            ));
        };
        let value = &line[vstart..bar];
        let tstart = bar + 1;
        let tend = find_any(b, tstart, b"|:");
        let code = &line[tstart..tend];
        let Some(kind) = Kind::from_code(code) else {
            return Err(LineError::new(tstart, Why::UnknownType(code.to_string())));
        };
        // Metadata segments, up to the next `:value|type` part or the end.
        let mut rate = 0.0;
        i = tend;
        while i < b.len() && b[i] == b'|' {
            let s = i + 1;
            let seg_rest = &line[s..];
            // These carry `:` in their text: they end at the next `|` only.
            let whole = datadog
                && (seg_rest.starts_with('#')
                    || seg_rest.starts_with("c:")
                    || seg_rest.starts_with("e:")
                    || seg_rest.starts_with("card:"));
            let end = if whole {
                find_any(b, s, b"|")
            } else {
                find_any(b, s, b"|:")
            };
            let seg = &line[s..end];
            if let Some(t) = seg.strip_prefix('#') {
                if datadog {
                    parse_datadog_tags(tags, t);
                }
            } else if let Some(r) = seg.strip_prefix('@') {
                // As the original: a rate that does not parse is ignored.
                if let Some(r) = parse_number(r).filter(|r| *r > 0.0) {
                    rate = r;
                }
            }
            i = end;
        }
        // One value, or with the extensions several packed ones.
        let mut vat = vstart;
        for v in value.split(':') {
            if !datadog && vat != vstart {
                // Without the extensions the statsd form has one value a part: what follows
                // the first `:` had no type.
                return Err(LineError::new(
                    vat,
                    Why::NoType(value[vat - vstart..].into()),
                ));
            }
            if samples.len() >= MAX_VALUES {
                return Err(LineError::new(vat, Why::TooManyValues));
            }
            samples.push(sample(kind, v, rate).map_err(|why| LineError::new(vat, why))?);
            vat += v.len() + 1;
        }
        if i < b.len() && b[i] == b':' {
            i += 1;
            continue;
        }
        return Ok(());
    }
}

/// One value of `kind`.
fn sample(kind: Kind, value: &str, rate: f64) -> Result<Sample<'_>, Why> {
    let signed = value.starts_with('-') || value.starts_with('+');
    if signed && !matches!(kind, Kind::Gauge | Kind::Counter) {
        return Err(Why::Sign {
            value: value.to_string(),
            code: kind.code(),
        });
    }
    let value = match kind {
        Kind::Set => SampleValue::Member(value),
        _ => {
            let mut v = parse_number(value).ok_or_else(|| Why::BadNumber(value.to_string()))?;
            if rate != 0.0 && kind == Kind::Counter {
                v /= rate;
                if !v.is_finite() {
                    return Err(Why::BadNumber(value.to_string()));
                }
            }
            SampleValue::Number(v)
        }
    };
    Ok(Sample {
        kind,
        value,
        additive: signed,
        rate,
    })
}

/// A finite decimal number (`1`, `-2.5`, `+3`, `1e3`).
pub fn parse_number(s: &str) -> Option<f64> {
    // Rust also reads `inf` and `nan`: a letter other than an exponent's `e` is refused first.
    if s.bytes()
        .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// DogStatsD tags: `k:v,k2:v2,flag` (`flag` becomes `flag=true`; an empty value is `true`; a
/// tag with an empty key is skipped). The key ends at the first `:`.
pub fn parse_datadog_tags<'a>(out: &mut LineTags<'a>, text: &'a str) {
    for item in text.split(',') {
        if item.is_empty() {
            continue;
        }
        let (k, v) = match item.split_once(':') {
            Some((k, v)) => (k, if v.is_empty() { "true" } else { v }),
            None => (item, "true"),
        };
        if !k.is_empty() {
            out.push((k, v));
        }
    }
}

/// Checks an event the way the original reads it; its title. Offsets in errors are from the
/// start of `message`.
pub fn parse_event(message: &str) -> Result<String, LineError> {
    let bad = |at: usize, why: &str| LineError::new(at, Why::BadEvent(why.to_string()));
    let Some((header, rest)) = message.split_once(':') else {
        return Err(bad(message.len(), "no `:` after the header"));
    };
    let body_at = header.len() + 1;
    if header.len() < 7 || rest.len() < 3 {
        return Err(bad(0, "too short"));
    }
    // `_e{` is 3 bytes; the header ends with `}`.
    let lens = header.get(3..).unwrap_or("");
    let Some((title_len, text_len)) = lens.split_once(',') else {
        return Err(bad(3, "the header is not `_e{title.length,text.length}`"));
    };
    let title_len: usize = title_len
        .parse()
        .map_err(|_| bad(3, &format!("title length `{title_len}` is not a number")))?;
    let text_len = text_len.strip_suffix('}').unwrap_or(text_len);
    let text_len: usize = text_len.parse().map_err(|_| {
        bad(
            header.len().saturating_sub(text_len.len() + 1),
            &format!("text length `{text_len}` is not a number"),
        )
    })?;
    let body = rest.as_bytes();
    let end = title_len
        .checked_add(text_len)
        .and_then(|n| n.checked_add(1))
        .filter(|&n| n <= body.len())
        .ok_or_else(|| bad(body_at, "title and text lengths exceed the message"))?;
    let title = &body[..title_len];
    let text = &body[title_len + 1..end];
    if title.is_empty() || text.is_empty() {
        return Err(bad(body_at, "empty title or text"));
    }
    let meta = &body[end..];
    if meta.len() >= 2 {
        let mut at = body_at + end + 1;
        for field in meta[1..].split(|b| *b == b'|') {
            if field.len() < 2 {
                return Err(bad(at, "too short metadata field"));
            }
            match &field[..2] {
                b"d:" | b"p:" | b"h:" | b"t:" | b"k:" | b"s:" => {}
                _ if field[0] == b'#' => {}
                _ => {
                    return Err(bad(
                        at,
                        &format!("unknown metadata `{}`", String::from_utf8_lossy(field)),
                    ));
                }
            }
            at += field.len() + 1;
        }
    }
    Ok(String::from_utf8_lossy(title).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Vec<(String, Sample<'static>, Vec<(String, String)>)>;

    /// (bucket, sample, tags) of every metric of `line`, and what the line was.
    fn parse(line: &str, dd: bool) -> (Result<Record, LineError>, Got) {
        let mut p = LineParser::new();
        let mut out = Vec::new();
        let r = p.parse(line.as_bytes(), dd, |b, s, t| {
            let s = Sample {
                value: match s.value {
                    SampleValue::Number(v) => SampleValue::Number(v),
                    SampleValue::Member(m) => {
                        SampleValue::Member(Box::leak(m.to_string().into_boxed_str()))
                    }
                },
                ..s
            };
            out.push((
                b.to_string(),
                s,
                t.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ));
        });
        (r, out)
    }

    fn num(v: f64) -> SampleValue<'static> {
        SampleValue::Number(v)
    }

    fn err(at: usize, why: Why) -> Result<Record, LineError> {
        Err(LineError { at, why })
    }

    #[test]
    fn each_type_parses() {
        for (line, kind, value) in [
            ("a:1|c", Kind::Counter, num(1.0)),
            ("a:-2.5|g", Kind::Gauge, num(-2.5)),
            ("a:x|s", Kind::Set, SampleValue::Member("x")),
            ("a:12|ms", Kind::Timing, num(12.0)),
            ("a:1e3|h", Kind::Histogram, num(1000.0)),
            ("a:0.5|d", Kind::Distribution, num(0.5)),
        ] {
            let (r, m) = parse(line, true);
            assert_eq!(r, Ok(Record::Metrics(1)), "{line}");
            assert_eq!(m[0].0, "a");
            assert_eq!(m[0].1.kind, kind, "{line}");
            assert_eq!(m[0].1.value, value, "{line}");
        }
    }

    #[test]
    fn rates_divide_counters_only() {
        let (_, m) = parse("a:2|c|@0.1", true);
        assert_eq!(m[0].1.value, num(20.0));
        assert_eq!(m[0].1.rate, 0.1);
        let (_, m) = parse("a:2|ms|@0.5", true);
        assert_eq!(m[0].1.value, num(2.0));
        assert_eq!(m[0].1.rate, 0.5);
        // A rate that does not parse, or is not more than 0, is ignored, as in the original.
        for line in ["a:2|c|@x", "a:2|c|@-1", "a:2|c|@0", "a:2|c|@"] {
            let (r, m) = parse(line, true);
            assert_eq!(r, Ok(Record::Metrics(1)), "{line}");
            assert_eq!((m[0].1.value, m[0].1.rate), (num(2.0), 0.0), "{line}");
        }
    }

    #[test]
    fn signs_make_gauges_additive_and_are_refused_elsewhere() {
        let (_, m) = parse("a:+3|g", true);
        assert!(m[0].1.additive);
        assert_eq!(m[0].1.value, num(3.0));
        let (_, m) = parse("a:3|g", true);
        assert!(!m[0].1.additive);
        let (r, _) = parse("a:-3|ms", true);
        assert_eq!(
            r,
            err(
                2,
                Why::Sign {
                    value: "-3".into(),
                    code: "ms"
                }
            )
        );
    }

    #[test]
    fn datadog_metadata_anywhere_after_the_type() {
        let (r, m) = parse("users.online:1|c|@0.5|#country:china,env:prod", true);
        assert_eq!(r, Ok(Record::Metrics(1)));
        assert_eq!(m[0].1.value, num(2.0));
        assert_eq!(
            m[0].2,
            vec![
                ("country".to_string(), "china".to_string()),
                ("env".to_string(), "prod".to_string())
            ]
        );
        // Tags before the rate, a timestamp after them, a tag value with `:`, a container id
        // and the newer metadata.
        let (r, m) = parse(
            "a:1|c|#k:v:w|@0.5|T1658997712|c:83c0a99c0a54|e:it-false,cn-x|card:low",
            true,
        );
        assert_eq!(r, Ok(Record::Metrics(1)));
        assert_eq!(m[0].1.value, num(2.0));
        assert_eq!(m[0].2, vec![("k".to_string(), "v:w".to_string())]);
        // Valueless tags each become `true`.
        let (_, m) = parse("g:21|g|#globalTags,globalTags2,tag1,tag2", true);
        let keys: Vec<(&str, &str)> = m[0]
            .2
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            keys,
            [
                ("globalTags", "true"),
                ("globalTags2", "true"),
                ("tag1", "true"),
                ("tag2", "true")
            ]
        );
        let (_, m) = parse("a:1|c|#k:é", true);
        assert_eq!(m[0].2[0].1, "é");
        // Without the extensions a `#` segment is ignored metadata, and its `:` starts a
        // part without a type.
        let (r, m) = parse("a:1|c|#k", false);
        assert_eq!(r, Ok(Record::Metrics(1)));
        assert!(m[0].2.is_empty());
        assert_eq!(
            parse("a:1|c|#k:v", false).0,
            err(9, Why::NoType("v".into()))
        );
    }

    #[test]
    fn several_values_per_line() {
        let (r, m) = parse("a:1|c:2|g:x|s", true);
        assert_eq!(r, Ok(Record::Metrics(3)));
        assert_eq!(
            m.iter().map(|x| x.1.kind).collect::<Vec<_>>(),
            [Kind::Counter, Kind::Gauge, Kind::Set]
        );
        let (r, m) = parse("a:1|c|@0.5:2|g|#k:v", true);
        assert_eq!(r, Ok(Record::Metrics(2)));
        assert_eq!((m[0].1.value, m[1].1.value), (num(2.0), num(2.0)));
        assert_eq!(m[0].2.len(), 1, "the line's tags apply to every part");
        // DogStatsD packed values share the type and the rate.
        let (r, m) = parse("lat:1:2.5:3|h|@0.5|#a:b", true);
        assert_eq!(r, Ok(Record::Metrics(3)));
        assert!(
            m.iter()
                .all(|x| x.1.kind == Kind::Histogram && x.1.rate == 0.5)
        );
        assert_eq!(m[1].1.value, num(2.5));
        assert_eq!(parse("lat:1:2|h", false).0, err(6, Why::NoType("2".into())));
        // A bad part stops the line after the good ones before it.
        let (r, m) = parse("a:1|c:2|zz:3|g", true);
        assert_eq!(r, err(8, Why::UnknownType("zz".into())));
        assert_eq!(m.len(), 1);
        let many = format!("a:{}1|h", "1:".repeat(MAX_VALUES));
        assert_eq!(parse(&many, true).0.unwrap_err().why, Why::TooManyValues);
    }

    #[test]
    fn bad_lines_say_why_and_where() {
        for (line, at, why) in [
            ("a", 1, Why::NoValue),
            (":1|c", 0, Why::EmptyName),
            (" ,k=v:1|c", 1, Why::EmptyName),
            ("a:1", 2, Why::NoType("1".into())),
            ("a:1|x", 4, Why::UnknownType("x".into())),
            ("a:1|", 4, Why::UnknownType("".into())),
            ("abc:xyz|c", 4, Why::BadNumber("xyz".into())),
            ("a:NaN|g", 2, Why::BadNumber("NaN".into())),
            ("a:inf|g", 2, Why::BadNumber("inf".into())),
            ("a:|c", 2, Why::BadNumber("".into())),
            ("a:1e308|c|@1e-300", 2, Why::BadNumber("1e308".into())),
            ("a:0x10|c", 2, Why::BadNumber("0x10".into())),
        ] {
            assert_eq!(parse(line, true).0, err(at, why), "{line}");
        }
        let mut p = LineParser::new();
        let r = p.parse(b"a:1|c\xff\xfe", true, |_, _, _| {});
        assert_eq!(r, err(5, Why::NotUtf8));
        assert_eq!(parse("  \t ", true).0, Ok(Record::Blank));
        assert_eq!(parse("  a:1|c\r", true).0, Ok(Record::Metrics(1)));
        assert_eq!(
            parse("  a:1|q", true).0,
            err(6, Why::UnknownType("q".into())),
            "offsets count the leading blanks"
        );
    }

    #[test]
    fn events_and_service_checks_are_recognised() {
        assert_eq!(
            parse("_e{5,4}:title|text|p:low|#a:b", true).0,
            Ok(Record::Event("title".into()))
        );
        assert_eq!(
            parse("_e{2,3}:héll", true).0,
            err(
                8,
                Why::BadEvent("title and text lengths exceed the message".into())
            ),
            "lengths count bytes"
        );
        assert!(matches!(
            parse("_e{x,4}:title|text", true).0.unwrap_err().why,
            Why::BadEvent(_)
        ));
        assert!(matches!(
            parse("_e{5,40}:title|text", true).0,
            Err(LineError { at: 9, .. })
        ));
        assert!(matches!(
            parse("_e{5,4}:title|text|zz", true).0,
            Err(LineError { at: 19, .. })
        ));
        assert_eq!(
            parse("_sc|db.up|0|#env:prod|m:ok", true).0,
            Ok(Record::ServiceCheck("db.up".into()))
        );
        // A metric whose name starts with `_e` is a metric.
        assert_eq!(parse("_errors:1|c", true).0, Ok(Record::Metrics(1)));
        // Without the extensions they are plain (bad) metric lines.
        assert!(parse("_sc|db.up|0", false).0.is_err());
    }
}
