//! Fuzzes what the `redis` input reads from a server: the RESP reply parser on arbitrary bytes
//! (a reply, or a clear "need more" / error, never a panic), the replies it gives through the
//! slow-log, latency and config conversions, and the bytes as text through the `INFO` and
//! `CLIENT LIST` parsers.
#![no_main]

use std::collections::HashMap;

use datakit::inputs::redis::parse::{self, Names, SlowlogState};
use datakit::inputs::redis::resp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tags = vec![("server".to_string(), "x:1".to_string())];
    match resp::parse(data) {
        Ok(Some((reply, used))) => {
            assert!(used <= data.len());
            let mut st = SlowlogState::default();
            let _ = parse::slowlog_points(&reply, &tags, false, &mut st);
            let _ = parse::slowlog_points(&reply, &tags, true, &mut st);
            let _ = parse::latency_points(&reply, &tags, &mut HashMap::new());
            let _ = parse::config_points(&reply, &tags);
        }
        Ok(None) | Err(_) => {}
    }
    let text = String::from_utf8_lossy(data);
    let names = Names { v2: true };
    let mut cpu = None;
    let _ = parse::info_points(&text, names, &tags, 1, true, &mut cpu, 15.0);
    let _ = parse::info_points(&text, names, &tags, 1, true, &mut cpu, 15.0);
    let _ = parse::keyspace_points(&text, names, &tags, &[]);
    let _ = parse::command_points(&text, names, &tags);
    let _ = parse::replication_points(&text, names, &tags);
    let _ = parse::client_points(&text, names, &tags, "bxOR");
});
