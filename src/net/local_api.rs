//! This agent's own HTTP API seen from a client on the same host (`datakit monitor`, the
//! health check of `datakit upgrade`): where to reach it for an `[http_api]` section or a
//! `--to` argument, and the calls those clients make, `GET /v1/ping` and `GET /v1/monitor`.
//!
//! The API may be a TCP address or a unix socket, with or without TLS. Its certificate is
//! usually self-signed and only the agent's own answers are read, so certificates are not
//! verified; requests never go through a proxy.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use ureq::tls::TlsConfig;

use super::client::{ClientOptions, unix_agent};
use crate::config::main_conf::HttpApiConfig;

/// The port the API listens on when `listen` names none.
const DEFAULT_PORT: &str = "9529";
/// The largest `/v1/ping` answer read.
const MAX_PING: u64 = 1 << 20;
/// The largest `/v1/monitor` snapshot read.
const MAX_SNAPSHOT: u64 = 64 << 20;
/// The most of an error answer kept.
const MAX_ERROR_BODY: u64 = 4096;

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `http://host:port` or `https://host:port`.
    Tcp(String),
    /// A unix socket; `tls` when the API speaks TLS on it.
    Unix { path: PathBuf, tls: bool },
}

impl Endpoint {
    /// Where a client on this host reaches an agent configured with `api`: its `listen`
    /// address (always served; `listen_socket` only when `listen` is empty), over HTTPS
    /// when the API has a certificate.
    pub fn from_config(api: &HttpApiConfig) -> Endpoint {
        let tls = !api.tls.cert.is_empty() && !api.tls.privkey.is_empty();
        if api.listen.trim().is_empty() && !api.listen_socket.trim().is_empty() {
            return Endpoint::Unix {
                path: PathBuf::from(api.listen_socket.trim()),
                tls,
            };
        }
        Endpoint::from_listen(&api.listen, tls)
    }

    /// The endpoint for a `listen` value: an absolute path is a unix socket; an unspecified
    /// host (`0.0.0.0`, `[::]`, none) becomes the loopback address of its family.
    pub fn from_listen(listen: &str, tls: bool) -> Endpoint {
        let listen = listen.trim();
        if listen.starts_with('/') {
            return Endpoint::Unix {
                path: PathBuf::from(listen),
                tls,
            };
        }
        let (host, port) = listen.rsplit_once(':').unwrap_or((listen, DEFAULT_PORT));
        let host = match host {
            "" | "0.0.0.0" => "127.0.0.1",
            "[::]" => "[::1]",
            h => h,
        };
        let scheme = if tls { "https" } else { "http" };
        Endpoint::Tcp(format!("{scheme}://{host}:{port}"))
    }

    /// From a user's `--to`: `host:port`, `http(s)://host:port`, or a socket path.
    pub fn parse(s: &str) -> Endpoint {
        let s = s.trim();
        if s.starts_with('/') {
            return Endpoint::Unix {
                path: PathBuf::from(s),
                tls: false,
            };
        }
        let s = s.trim_end_matches('/');
        if s.starts_with("http://") || s.starts_with("https://") {
            Endpoint::Tcp(s.to_string())
        } else {
            Endpoint::Tcp(format!("http://{s}"))
        }
    }

    /// The URL a request for `path` (`/v1/ping`) goes to; over a unix socket the host is
    /// `localhost`.
    pub fn url(&self, path: &str) -> String {
        match self {
            Endpoint::Tcp(origin) => format!("{origin}{path}"),
            Endpoint::Unix { tls, .. } => {
                let scheme = if *tls { "https" } else { "http" };
                format!("{scheme}://localhost{path}")
            }
        }
    }
}

/// `http://host:port`, or `unix:<path>`.
impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Tcp(origin) => f.write_str(origin),
            Endpoint::Unix { path, .. } => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Why a call to the API failed.
#[derive(Debug, thiserror::Error)]
pub enum LocalApiError {
    #[error("cannot reach the agent at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("the agent at {target} answered {status}: {body}")]
    Status {
        target: String,
        status: u16,
        body: String,
    },
    #[error("the agent at {target} sent an unreadable {what}: {reason}")]
    Invalid {
        target: String,
        what: &'static str,
        reason: String,
    },
}

impl LocalApiError {
    /// What went wrong, without saying where (for messages that name the target already).
    pub fn reason(&self) -> String {
        match self {
            LocalApiError::Unreachable { reason, .. } | LocalApiError::Invalid { reason, .. } => {
                reason.clone()
            }
            LocalApiError::Status { status, .. } => format!("HTTP {status}"),
        }
    }
}

/// A client of the API at one endpoint.
#[derive(Debug, Clone)]
pub struct LocalApi {
    endpoint: Endpoint,
    agent: ureq::Agent,
}

impl LocalApi {
    /// A client whose calls each finish within `timeout`.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> LocalApi {
        let options = ClientOptions {
            timeout: Some(timeout),
            ..ClientOptions::default()
        };
        let config = options.config(
            TlsConfig::builder().disable_verification(true).build(),
            None,
        );
        let agent = match &endpoint {
            Endpoint::Tcp(_) => ureq::Agent::new_with_config(config),
            Endpoint::Unix { path, .. } => unix_agent(config, path),
        };
        LocalApi { endpoint, agent }
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// `GET path`, answered `200`, its body of at most `limit` bytes.
    fn get(&self, path: &str, limit: u64) -> Result<String, LocalApiError> {
        let unreachable = |e: ureq::Error| LocalApiError::Unreachable {
            target: self.endpoint.to_string(),
            reason: e.to_string(),
        };
        let mut resp = self
            .agent
            .get(&self.endpoint.url(path))
            .call()
            .map_err(unreachable)?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = resp
                .body_mut()
                .with_config()
                .limit(MAX_ERROR_BODY)
                .lossy_utf8(true)
                .read_to_string()
                .unwrap_or_default();
            return Err(LocalApiError::Status {
                target: self.endpoint.to_string(),
                status,
                body: body.trim().to_string(),
            });
        }
        resp.body_mut()
            .with_config()
            .limit(limit)
            .read_to_string()
            .map_err(unreachable)
    }

    fn invalid(&self, what: &'static str, reason: String) -> LocalApiError {
        LocalApiError::Invalid {
            target: self.endpoint.to_string(),
            what,
            reason,
        }
    }

    /// `GET /v1/ping`: the version the agent reports.
    pub fn ping(&self) -> Result<String, LocalApiError> {
        let what = "ping answer";
        let body = self.get("/v1/ping", MAX_PING)?;
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| self.invalid(what, format!("not JSON: {e}")))?;
        v.pointer("/content/version")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| self.invalid(what, "no content.version in the answer".into()))
    }

    /// `GET /v1/monitor`: the agent's self-monitoring snapshot, as plain JSON (so that a
    /// client can read an agent of another version).
    pub fn monitor(&self) -> Result<Value, LocalApiError> {
        let body = self.get("/v1/monitor", MAX_SNAPSHOT)?;
        serde_json::from_str(&body).map_err(|e| self.invalid("snapshot", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};

    #[test]
    fn endpoints_follow_the_listen_address() {
        let mut api = HttpApiConfig::default();
        assert_eq!(
            Endpoint::from_config(&api).url("/v1/ping"),
            "http://localhost:9529/v1/ping"
        );
        api.listen = "0.0.0.0:1234".into();
        assert_eq!(
            Endpoint::from_config(&api).url("/v1/ping"),
            "http://127.0.0.1:1234/v1/ping"
        );
        api.listen = "[::]:1234".into();
        api.tls.cert = "c".into();
        api.tls.privkey = "k".into();
        assert_eq!(
            Endpoint::from_config(&api).url("/v1/ping"),
            "https://[::1]:1234/v1/ping"
        );
        api.listen = "/run/datakit.sock".into();
        let unix = Endpoint::from_config(&api);
        assert_eq!(
            unix,
            Endpoint::Unix {
                path: "/run/datakit.sock".into(),
                tls: true
            }
        );
        assert_eq!(unix.url("/v1/ping"), "https://localhost/v1/ping");
        assert_eq!(format!("{unix}/v1/ping"), "unix:/run/datakit.sock/v1/ping");
    }

    #[test]
    fn the_extra_socket_serves_when_listen_is_empty() {
        let api = HttpApiConfig {
            listen: String::new(),
            listen_socket: "/run/dk.sock".into(),
            ..HttpApiConfig::default()
        };
        assert_eq!(
            Endpoint::from_config(&api),
            Endpoint::Unix {
                path: "/run/dk.sock".into(),
                tls: false
            }
        );
        let api = HttpApiConfig {
            listen_socket: "/run/dk.sock".into(),
            ..HttpApiConfig::default()
        };
        assert_eq!(
            Endpoint::from_config(&api),
            Endpoint::Tcp("http://localhost:9529".into())
        );
        assert_eq!(
            Endpoint::from_listen(":9000", false),
            Endpoint::Tcp("http://127.0.0.1:9000".into())
        );
    }

    #[test]
    fn targets_given_by_the_user() {
        assert_eq!(
            Endpoint::parse("127.0.0.1:9529"),
            Endpoint::Tcp("http://127.0.0.1:9529".into())
        );
        assert_eq!(
            Endpoint::parse("http://h:1/"),
            Endpoint::Tcp("http://h:1".into())
        );
        assert_eq!(
            Endpoint::parse("https://h:1"),
            Endpoint::Tcp("https://h:1".into())
        );
        let unix = Endpoint::parse("/run/dk.sock");
        assert_eq!(unix.to_string(), "unix:/run/dk.sock");
        assert_eq!(unix.url("/v1/monitor"), "http://localhost/v1/monitor");
        assert_eq!(
            Endpoint::parse("127.0.0.1:9529").to_string(),
            "http://127.0.0.1:9529"
        );
    }

    /// Serves one answer per connection on a unix socket, `answers.len()` connections;
    /// returns the request lines seen.
    fn serve(
        listener: std::os::unix::net::UnixListener,
        answers: Vec<String>,
    ) -> std::thread::JoinHandle<Vec<String>> {
        std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in answers {
                let (s, _) = listener.accept().unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut first = String::new();
                r.read_line(&mut first).unwrap();
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                        break;
                    }
                }
                seen.push(first.trim().to_string());
                (&s).write_all(answer.as_bytes()).unwrap();
            }
            seen
        })
    }

    fn answer(status: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[test]
    fn ping_and_monitor_over_a_unix_socket() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("api.sock");
        let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        let server = serve(
            listener,
            vec![
                answer("200 OK", r#"{"content":{"version":"1.2.3"}}"#),
                answer("200 OK", r#"{"agent":{"version":"1.2.3"}}"#),
                answer("503 Service Unavailable", "busy"),
                answer("200 OK", "{}"),
                answer("200 OK", "not json"),
            ],
        );
        let api = LocalApi::new(
            Endpoint::parse(sock.to_str().unwrap()),
            Duration::from_secs(5),
        );
        assert_eq!(api.ping().unwrap(), "1.2.3");
        assert_eq!(api.monitor().unwrap()["agent"]["version"], "1.2.3");
        let e = api.ping().unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("the agent at unix:{} answered 503: busy", sock.display())
        );
        assert_eq!(e.reason(), "HTTP 503");
        assert_eq!(
            api.ping().unwrap_err().reason(),
            "no content.version in the answer"
        );
        let e = api.monitor().unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "the agent at unix:{} sent an unreadable snapshot: ",
                sock.display()
            )),
            "{e}"
        );
        assert_eq!(
            server.join().unwrap(),
            [
                "GET /v1/ping HTTP/1.1",
                "GET /v1/monitor HTTP/1.1",
                "GET /v1/ping HTTP/1.1",
                "GET /v1/ping HTTP/1.1",
                "GET /v1/monitor HTTP/1.1"
            ]
        );
    }

    #[test]
    fn nobody_listening_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("none.sock");
        let api = LocalApi::new(
            Endpoint::parse(sock.to_str().unwrap()),
            Duration::from_secs(1),
        );
        let e = api.ping().unwrap_err();
        assert!(matches!(e, LocalApiError::Unreachable { .. }), "{e}");
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        drop(tcp);
        let api = LocalApi::new(
            Endpoint::parse(&format!("127.0.0.1:{port}")),
            Duration::from_secs(1),
        );
        let e = api.monitor().unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "cannot reach the agent at http://127.0.0.1:{port}: "
            )),
            "{e}"
        );
    }
}
