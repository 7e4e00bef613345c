//! The sinks bodies are sent to. The HTTP sinks get their clients from [`crate::net`]
//! (pooled, kept-alive connections); what is here maps their answers to send outcomes.

pub mod dataway;
pub mod file;
pub mod influxdb;

use std::sync::OnceLock;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use super::output::SendOutcome;

/// Answers whose bodies wait to be read.
const DRAIN_QUEUE: usize = 64;

/// Reads a successful answer's body to its end on a thread of its own, so that the connection
/// goes back to the pool without the sender waiting for it. A body left unread closes its
/// connection, and the next send would connect (over HTTPS: shake hands) again; reading it in
/// the sender would wait for servers that send the body after the headers and hold it back
/// until the headers are acknowledged (Nagle against delayed ACKs: 40 ms per request on Linux).
/// When the queue is full the body is dropped, closing its connection.
fn drain(body: ureq::Body) {
    static DRAINER: OnceLock<Option<SyncSender<ureq::Body>>> = OnceLock::new();
    let tx = DRAINER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<ureq::Body>(DRAIN_QUEUE);
        std::thread::Builder::new()
            .name("dk-http-drain".into())
            .spawn(move || {
                for mut b in rx {
                    let _ = b.with_config().limit(64 << 10).read_to_vec();
                    crate::idle::thread_idle();
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = tx {
        let _ = tx.try_send(body);
    }
}

/// Maps an HTTP exchange to an outcome: 2xx sent, 4xx refused, anything else failed.
/// A `Retry-After` value: seconds, or an HTTP date (RFC 9110), as the wait from `now_secs`.
pub fn parse_retry_after(v: &str, now_secs: u64) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp().as_second();
    Some(Duration::from_secs(
        u64::try_from(at).ok()?.saturating_sub(now_secs),
    ))
}

/// What an HTTP answer (or the failure to get one) means for the body sent.
pub fn outcome(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> SendOutcome {
    match result {
        Ok(mut resp) => {
            let code = resp.status();
            let status = code.as_u16().to_string();
            if code.is_success() {
                drain(resp.into_body());
                return SendOutcome::Sent;
            }
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, crate::clock::now_secs()));
            let mut reason = resp
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            reason.truncate(512);
            // Every 4xx is final, as the original treats it, except 413 (split and resent),
            // 429 ("too many requests") and any answer that says when to come back: those are
            // retried.
            if code.as_u16() == 413 {
                SendOutcome::TooLarge { status, reason }
            } else if code.is_client_error() && code.as_u16() != 429 && retry_after.is_none() {
                SendOutcome::Refused { status, reason }
            } else {
                SendOutcome::Failed {
                    status,
                    reason,
                    retry_after,
                }
            }
        }
        Err(e) => {
            let status = match &e {
                ureq::Error::Timeout(_) => "timeout",
                ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                    "connection-refused"
                }
                ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset => {
                    "connection-reset"
                }
                ureq::Error::HostNotFound => "host-not-found",
                _ => "error",
            };
            SendOutcome::Failed {
                status: status.to_string(),
                reason: e.to_string(),
                retry_after: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("120", 0), Some(Duration::from_secs(120)));
        // 1994-11-06 08:49:37 UTC is 784111777.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(date, 784_111_777 - 30),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(date, 784_111_777 + 30),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }
}
