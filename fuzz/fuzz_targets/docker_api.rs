//! Fuzzes what the `container` input reads from the Docker engine and its log files: HTTP
//! answers (status line, headers, chunked or sized bodies), the JSON of the API's answers, and
//! json-file log lines. Arbitrary bytes must not panic; an error's byte offset must lie within
//! the answer; a decoded body is never longer than the answer.
#![no_main]

use datakit::inputs::container::docker::{HttpError, Inspect, Stats, Summary, parse_response};
use datakit::inputs::logging::decode::docker_json_line;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_response(data) {
        Ok(r) => {
            assert!(r.body.len() <= data.len());
            assert!((100..=999).contains(&r.status) || r.status < 100);
            let _ = serde_json::from_slice::<Vec<Summary>>(&r.body);
            let _ = serde_json::from_slice::<Inspect>(&r.body);
            let _ = serde_json::from_slice::<Stats>(&r.body);
        }
        Err(
            HttpError::Header(at) | HttpError::ChunkSize(at) | HttpError::ChunkCut(at),
        ) => assert!(at <= data.len(), "{at} > {}", data.len()),
        Err(_) => {}
    }
    for line in data.split(|&b| b == b'\n') {
        if let Some((text, partial)) = docker_json_line(line) {
            assert!(!(partial && text.ends_with('\n')));
        }
    }
});
