//! Fuzzes the config loader: arbitrary bytes as datakit.conf and as an input config file must
//! give diagnostics, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    datakit::inputs::confd::fuzz_one(&text);
});
