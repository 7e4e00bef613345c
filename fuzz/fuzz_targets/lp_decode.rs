//! Fuzzes the line protocol decoder: arbitrary bytes must decode (strict and loose) without a
//! panic, every error must point inside the body, and every decoded point the encoder accepts
//! must read back equal (decode ∘ encode = identity).
#![no_main]

use datakit::point::lp::{self, DecodeOptions, Encoder, Lines, Precision};
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
    let refs = Lines::new(data, Precision::Auto, 0).filter(|r| r.is_ok()).count();
    assert_eq!(refs, decoded.points.len());

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
