//! Fuzzes the ddtrace receiver's `/v0.5/traces` MessagePack (string table) decoder: see `common/ddtrace.rs` for what is checked.
#![no_main]

#[path = "common/ddtrace.rs"]
mod common;

use datakit::inputs::ddtrace::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::check(data, decode::msgpack_v05, Some(encode::v05)));
