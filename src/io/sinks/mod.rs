//! The sinks bodies are sent to.

pub mod dataway;
pub mod file;
pub mod influxdb;

use std::sync::OnceLock;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use super::output::SendOutcome;

/// An HTTP client for an output: keep-alive pool, timeouts, proxy, TLS settings.
pub fn http_agent(
    timeout: Duration,
    proxy: &str,
    tls_insecure: bool,
) -> Result<ureq::Agent, String> {
    let proxy = if proxy.is_empty() {
        ureq::Proxy::try_from_env()
    } else {
        Some(ureq::Proxy::new(proxy).map_err(|e| format!("invalid proxy `{proxy}`: {e}"))?)
    };
    let tls = ureq::tls::TlsConfig::builder()
        .disable_verification(tls_insecure)
        .build();
    Ok(ureq::Agent::new_with_config(agent_config(
        timeout, proxy, tls,
    )))
}

/// The settings every outbound HTTP client shares (keep-alive pool, timeouts, proxy, TLS), for
/// callers that need their own TLS setup (custom CAs, client certificates) or connector.
pub fn agent_config(
    timeout: Duration,
    proxy: Option<ureq::Proxy>,
    tls: ureq::tls::TlsConfig,
) -> ureq::config::Config {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .timeout_connect(Some(timeout.min(Duration::from_secs(10))))
        .max_idle_age(Duration::from_secs(90))
        .max_idle_connections_per_host(8)
        .proxy(proxy)
        .tls_config(tls)
        .user_agent(ureq::config::AutoHeaderValue::None)
        .build()
}

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

/// A URL with secrets (`token=` values, passwords) masked for logs and stats.
pub fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // user:password@host
    match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((cred, host)) if !cred.contains('/') => {
                let user = cred.split(':').next().unwrap_or("");
                out.push_str(&format!("{scheme}://{user}:***@{host}"));
            }
            _ => out.push_str(base),
        },
        None => out.push_str(base),
    }
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if k == "token" || k == "p" || k == "password" => {
                    let keep: String = v.chars().take(4).collect();
                    format!("{k}={keep}***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            redact("https://openway.guance.com?token=tkn_0123456789&x=1"),
            "https://openway.guance.com?token=tkn_***&x=1"
        );
        assert_eq!(
            redact("http://u:pw@h:8086/write"),
            "http://u:***@h:8086/write"
        );
        assert_eq!(redact("http://h:8086"), "http://h:8086");
    }
}
