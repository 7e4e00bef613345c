//! The sinks bodies are sent to. The HTTP sinks get their clients from [`crate::net`]
//! (pooled, kept-alive connections); what is here maps their answers to send outcomes.

pub mod dataway;
pub mod file;
pub mod influxdb;

use std::sync::OnceLock;
use std::sync::mpsc::SyncSender;

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
pub fn outcome(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> SendOutcome {
    match result {
        Ok(mut resp) => {
            let code = resp.status();
            let status = code.as_u16().to_string();
            if code.is_success() {
                drain(resp.into_body());
                return SendOutcome::Sent;
            }
            let mut reason = resp
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            reason.truncate(512);
            if code.is_client_error() {
                SendOutcome::Refused { status, reason }
            } else {
                SendOutcome::Failed { status, reason }
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
            }
        }
    }
}
