//! Fuzzes the `prom` input's parser and converter: arbitrary bytes, read as text format 0.0.4
//! and as OpenMetrics, must parse without a panic; every error must point at a line of the
//! body; what was parsed, written back out, must parse to the same families and samples; and
//! the converter must turn it into valid points (at least one finite field each).
#![no_main]

use std::fmt::Write as _;

use datakit::inputs::prom::convert::{Converter, MAX_FIELDS_PER_POINT};
use datakit::inputs::prom::parse::{Exposition, Format, parse};
use datakit::point::Value;
use libfuzzer_sys::fuzz_target;

fn escape_label(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        format!("{v:?}")
    }
}

/// Writes `e` back in `format`.
fn render(e: &Exposition<'_>, format: Format) -> String {
    let mut out = String::new();
    for f in e.families() {
        if let Some(h) = &f.help {
            let h = h.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(out, "# HELP {} {h}", f.name);
        }
        if let (Some(u), Format::OpenMetrics) = (f.unit, format) {
            let _ = writeln!(out, "# UNIT {} {u}", f.name);
        }
        if f.typed {
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind);
        }
        for s in e.samples(f) {
            out.push_str(s.name);
            out.push('{');
            for (i, l) in e.labels(s).iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(l.name);
                out.push_str("=\"");
                escape_label(&l.value, &mut out);
                out.push('"');
            }
            out.push_str("} ");
            out.push_str(&value(s.value));
            if let Some(t) = s.timestamp_ns {
                match format {
                    Format::Text => {
                        assert_eq!(t % 1_000_000, 0, "text timestamps are milliseconds");
                        let _ = write!(out, " {}", t / 1_000_000);
                    }
                    Format::OpenMetrics => {
                        let t = i128::from(t);
                        let sign = if t < 0 { "-" } else { "" };
                        let a = t.abs();
                        let _ =
                            write!(out, " {sign}{}.{:09}", a / 1_000_000_000, a % 1_000_000_000);
                    }
                }
            }
            out.push('\n');
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

type Flat = Vec<(
    String,
    String,
    bool,
    String,
    Vec<(String, String)>,
    u64,
    Option<i64>,
)>;

/// Families and samples, flattened for comparison (NaN compared by kind, not bits).
fn flatten(e: &Exposition<'_>) -> Flat {
    let mut v = Vec::new();
    for f in e.families() {
        let samples = e.samples(f);
        if samples.is_empty() {
            v.push((
                f.name.into(),
                f.kind.to_string(),
                f.typed,
                String::new(),
                vec![],
                0,
                None,
            ));
        }
        for s in samples {
            let labels = e
                .labels(s)
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            let bits = if s.value.is_nan() {
                f64::NAN.to_bits()
            } else {
                s.value.to_bits()
            };
            v.push((
                f.name.into(),
                f.kind.to_string(),
                f.typed,
                s.name.into(),
                labels,
                bits,
                s.timestamp_ns,
            ));
        }
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    for format in [Format::Text, Format::OpenMetrics] {
        let e = parse(&text, format);
        assert!(e.errors.len() <= e.error_count);
        for err in &e.errors {
            assert!(err.line >= 1 && err.line <= lines, "{err} of {lines} lines");
        }
        let n: usize = e.families().iter().map(|f| e.samples(f).len()).sum();
        assert_eq!(n, e.sample_count());
        for f in e.families() {
            for s in e.samples(f) {
                assert!(s.name.starts_with(f.name));
                let labels = e.labels(s);
                for (i, l) in labels.iter().enumerate() {
                    assert!(
                        labels[..i].iter().all(|o| o.name != l.name),
                        "duplicate label"
                    );
                }
            }
        }

        // Written back out, the same families and samples come back, without errors.
        let again = render(&e, format);
        let e2 = parse(&again, format);
        assert_eq!(e2.error_count, 0, "{:?} in\n{again}", e2.errors);
        assert_eq!(flatten(&e), flatten(&e2), "\n{again}");

        let c = Converter::default().convert(&e, &[("instance".into(), "h:1".into())], 1);
        for p in &c.points {
            assert!(!p.name.is_empty());
            assert!(!p.fields.is_empty() && p.fields.len() <= MAX_FIELDS_PER_POINT);
            for (k, v) in &p.fields {
                assert!(!k.is_empty());
                if let Value::Float(x) = v {
                    assert!(x.is_finite());
                }
                assert!(p.get_tag(k).is_none(), "field {k} is also a tag");
            }
        }
    }
});
