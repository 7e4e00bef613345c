//! Fuzzes the line protocol decoder: arbitrary bytes must decode (strict and loose) without a
//! panic, every error must point inside the body, and every decoded point the encoder accepts
//! must read back equal (decode ∘ encode = identity). The write API's borrowed path is held to
//! the owned one: the checker's scan of a decoded line (keys taken as distinct) agrees with the
//! full rules, and a line's protobuf entry reads back as the owned point.
#![no_main]

use datakit::point::lp::{self, DecodeOptions, Encoder, Lines, PointRef, Precision};
use datakit::point::{Category, CheckOptions, Checker, PointView, Value, pb};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let loose = DecodeOptions {
        strict: false,
        precision: Precision::Auto,
        ..DecodeOptions::default()
    };
    let Ok(decoded) = lp::decode(data, &loose) else {
        panic!("loose decoding never fails as a whole");
    };
    for e in &decoded.errors {
        assert!(e.offset <= data.len());
        assert!(e.line_start <= e.line_end && e.line_end <= data.len());
        assert!(e.line >= 1 && e.column >= 1);
    }
    let strict = lp::decode(
        data,
        &DecodeOptions {
            strict: true,
            ..loose
        },
    );
    assert_eq!(strict.is_ok(), decoded.errors.is_empty());

    // The borrowed path agrees with the owned one.
    let refs = Lines::new(data, Precision::Auto, 0)
        .filter(|r| r.is_ok())
        .count();
    assert_eq!(refs, decoded.points.len());
    let checkers = [
        Category::Metric,
        Category::Logging,
        Category::Object,
        Category::Rum,
    ]
    .map(|c| Checker::new(CheckOptions::for_write_api(c)));
    let mut lines = Lines::new(data, Precision::Auto, 0);
    let mut pt = PointRef::default();
    let mut owned = decoded.points.iter();
    while let Some(r) = lines.next_into(&mut pt) {
        if r.is_err() {
            continue;
        }
        let Some(want) = owned.next() else {
            panic!("more borrowed points than owned ones");
        };
        assert_eq!(&pt.to_owned_point(want.category), want);
        for c in &checkers {
            let clean = c.is_clean_distinct(&pt);
            assert_eq!(clean, c.is_clean(&pt), "decoded keys are distinct");
            let mut fixed = want.clone();
            let warns = c.check(&mut fixed);
            if clean {
                assert!(warns.is_empty() && format!("{fixed:?}") == format!("{want:?}"));
            }
        }
        let mut buf = Vec::new();
        pb::pb_append_point(&mut buf, &pt);
        let back = pb::decode_points(&buf, want.category).expect("our protobuf decodes");
        assert_eq!(back.len(), 1);
        // Arrays travel as their JSON text.
        let mut want = want.clone();
        for (_, v) in want.fields.iter_mut() {
            if matches!(v, Value::Array(_)) {
                *v = Value::Str(v.json_text());
            }
        }
        assert_eq!(format!("{:?}", back[0]), format!("{want:?}"));
    }

    let mut enc = Encoder::new().sorted(false);
    for p in &decoded.points {
        enc.clear();
        if enc.encode(p).is_ok() {
            let back = lp::decode(enc.as_bytes(), &DecodeOptions::default())
                .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(enc.as_bytes())));
            assert_eq!(back.points.len(), 1);
            assert_eq!(&back.points[0], p);
        }
    }
});
