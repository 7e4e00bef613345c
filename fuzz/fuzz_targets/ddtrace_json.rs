//! Fuzzes the ddtrace receiver's JSON (`/v0.3`, `/v0.4` with a JSON content type) decoder: see `common/ddtrace.rs` for what is checked.
#![no_main]

#[path = "common/ddtrace.rs"]
mod common;

use datakit::inputs::ddtrace::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::check(data, |b| decode::by_content_type("application/json", b), None));
