//! Fuzzes the filter language: arbitrary text, read as a rule, must parse or fail without a
//! panic; an error must point inside the text, its line and column matching its offset; a
//! rule that parses must evaluate on points of every category (tags, fields of every type, an
//! absent key) without a panic, as an owned point and as a line read from a body.
#![no_main]

use datakit::filter::{RuleSet, check};
use datakit::point::lp::{Lines, PointRef, Precision};
use datakit::point::{Category, Point, Value};
use libfuzzer_sys::fuzz_target;

fn points() -> Vec<Point> {
    let mut p = Point::new(Category::Logging, "nginx");
    p.set_tag("host", "web-1");
    p.set_tag("status", "debug");
    p.set_field("n", Value::Int(200));
    p.set_field("u", Value::Uint(7));
    p.set_field("f", Value::Float(0.5));
    p.set_field("b", Value::Bool(true));
    p.set_field("message", Value::Str("GET / 200".into()));
    p.set_field("raw", Value::Bytes(vec![0, 1]));
    let mut q = Point::new(Category::Metric, "cpu");
    q.set_field("usage", Value::Float(f64::NAN));
    vec![p, q]
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match check(&text) {
        Err(e) => {
            assert!(e.offset <= text.len(), "{e}");
            let before = &text[..e.offset];
            assert_eq!(e.line, before.matches('\n').count() + 1, "{e}");
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(e.column, before[line_start..].chars().count() + 1, "{e}");
        }
        Ok(()) => {
            let rules = [text.to_string()];
            for p in points() {
                for cat in Category::ALL {
                    let (set, rejected) = RuleSet::new(cat, &rules);
                    assert!(rejected.is_empty());
                    let _ = set.first_match(&p);
                    let mut enc = datakit::point::Encoder::new();
                    if enc.encode(&p).is_ok() {
                        let line = enc.take();
                        let mut r = PointRef::default();
                        let mut lines = Lines::new(&line, Precision::Nanosecond, 0);
                        if let Some(Ok(())) = lines.next_into(&mut r) {
                            let _ = set.first_match(&r);
                        }
                    }
                }
            }
        }
    }
});
