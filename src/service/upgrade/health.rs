//! Whether the restarted agent came up: its `/v1/ping` polled until it reports the expected
//! version or time runs out.

use std::time::{Duration, Instant};

use super::release::bare_version;
use crate::net::local_api::LocalApi;

/// Polls `/v1/ping` until it reports `version` (any version when `None`) or `timeout` passes;
/// the version seen, or the last problem seen on failure.
pub fn wait_healthy(
    api: &LocalApi,
    version: Option<&str>,
    timeout: Duration,
) -> Result<String, String> {
    let t0 = Instant::now();
    loop {
        let last = match api.ping() {
            Ok(v) if version.is_none_or(|want| bare_version(want) == bare_version(&v)) => {
                return Ok(v);
            }
            Ok(v) => format!("it reports version {v}"),
            Err(e) => e.reason(),
        };
        if t0.elapsed() >= timeout {
            return Err(last);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}
