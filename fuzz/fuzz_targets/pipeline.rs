//! Fuzzes the whole Pipeline path: bytes up to the first NUL are a script, the rest is the
//! log line. Lexing, parsing, checking and running must give errors, never a panic or a hang
//! (the run has a small step budget, and every loop and call spends from it).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (script, input) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let script = String::from_utf8_lossy(script);
    let input = String::from_utf8_lossy(input);
    datakit::pipeline::fuzz_one(&script, &input);
});
