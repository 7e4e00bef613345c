//! Fuzzes the `statsd` input's line parser, aggregator and naming: arbitrary bytes, read as
//! datagrams of statsd/DogStatsD lines under several option sets, must not panic; every error
//! must name a byte of its line; a chunk's place of an error must be describable; and what is
//! reported must be valid points (a name, at least one field, finite numbers).
#![no_main]

use datakit::inputs::statsd::aggregate::{AggOptions, Aggregator};
use datakit::inputs::statsd::listen::{Chunk, Origin};
use datakit::inputs::statsd::naming::{Naming, percentile_name};
use datakit::inputs::statsd::parse::{LineParser, Record, SampleValue};
use datakit::inputs::statsd::template::Templates;
use datakit::point::Value;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let datadog = mode & 1 != 0;

    // Line by line: errors point into their line; numbers are finite.
    let mut parser = LineParser::new();
    for line in body.split(|b| *b == b'\n') {
        let mut n = 0;
        let r = parser.parse(line, datadog, |bucket, s, tags| {
            n += 1;
            assert!(!bucket.is_empty());
            if let SampleValue::Number(v) = s.value {
                assert!(v.is_finite(), "{v}");
            }
            for (k, _) in tags {
                assert!(!k.is_empty());
            }
        });
        match r {
            Ok(Record::Metrics(m)) => assert_eq!(m, n),
            Ok(_) => assert_eq!(n, 0),
            Err(e) => assert!(e.at <= line.len(), "{e:?} in a line of {}", line.len()),
        }
    }

    // Aggregated, flushed, named.
    let templates = (mode & 2 != 0)
        .then(|| Templates::new(&["servers.* .host.measurement.field*".into(), "measurement.field".into()]).ok())
        .flatten();
    let mut agg = Aggregator::new(AggOptions {
        datadog,
        distributions: mode & 4 != 0,
        separator: if mode & 8 != 0 { ".".into() } else { "_".into() },
        templates,
        convert_names: mode & 16 != 0,
        set_counter_int: mode & 32 != 0,
        percentile_limit: 1 + usize::from(mode >> 6) * 7,
        track_updates: true,
    });
    let o = agg.add_chunk(body);
    assert!(o.invalid <= o.lines);
    if let Some(p) = &o.first_invalid {
        assert!(p.line_start <= p.at && p.at <= body.len(), "{p:?}");
        // Cut the chunk into "datagrams" at every 7th byte: the place is still describable.
        let ends = (1..=body.len()).filter(|i| i % 7 == 0 || *i == body.len()).map(|i| (i, None)).collect();
        let chunk = Chunk { data: body.to_vec(), origin: Origin::Datagrams { transport: "UDP", ends } };
        assert!(!chunk.locate(p.line_start, p.at).is_empty());
    }
    let mut delete = [true; 6];
    delete[usize::from(mode % 6)] = false;
    let naming = Naming {
        separator: "_".into(),
        percentiles: [0.0, 50.0, 99.9, 100.0].iter().map(|&p| (p, percentile_name(p))).collect(),
        ..Naming::default()
    };
    for _ in 0..2 {
        let built = naming.build(agg.flush(delete, None), 1);
        for p in &built.points {
            assert!(!p.name.is_empty());
            assert!(!p.fields.is_empty());
            for (k, v) in &p.fields {
                assert!(!k.is_empty());
                if let Value::Float(x) = v {
                    assert!(x.is_finite(), "{k}={x}");
                }
            }
        }
    }
});
