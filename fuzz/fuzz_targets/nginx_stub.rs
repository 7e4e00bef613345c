//! Fuzzes the `nginx` input's reading of stub_status pages: arbitrary bytes give the counters
//! or an error naming the line, never a panic.
#![no_main]

use datakit::inputs::nginx::{stub, stub_point};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match stub::parse(&text) {
        Ok(s) => {
            let p = stub_point(&s);
            assert_eq!(p.fields.len(), 8);
        }
        Err(e) => assert!((1..=4).contains(&e.line), "{e}"),
    }
});
