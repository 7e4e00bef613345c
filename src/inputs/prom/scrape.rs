//! Fetching scrape bodies: HTTP(S) through the agent's HTTP client (keep-alive, gzip, TLS with
//! custom CAs and client certificates, the environment's proxy for targets off this host),
//! with auth and headers, HTTP over a unix socket, or a local file. Bodies are bounded after
//! decompression, so a gzip bomb stops at the limit.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;

use super::parse::Format;
use crate::net::{ClientOptions, NetError, Proxy, RoutedAgent, TlsOptions};

/// What the exporter is asked for: the classic text format first (what the original reads,
/// and what keeps counter names as exporters write them), OpenMetrics accepted.
pub const ACCEPT: &str =
    "text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1";

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// The request failed: refused, timed out, TLS, DNS.
    #[error("request failed: {0}")]
    Request(String),
    #[error("HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("body larger than max_body_size ({limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("reading the body: {0}")]
    Read(String),
    #[error("reading {path}: {cause}")]
    File {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("reading token_file {path}: {cause}")]
    Token {
        path: PathBuf,
        cause: std::io::Error,
    },
}

impl ScrapeError {
    /// A failure to reach the target (what `ignore_req_err` silences).
    pub fn is_request(&self) -> bool {
        matches!(self, ScrapeError::Request(_) | ScrapeError::File { .. })
    }
}

/// Credentials sent with every request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    None,
    /// `Authorization: Bearer <token>`; a token file is read again at every scrape (rotated
    /// service-account tokens), trailing newlines removed.
    Bearer { token: String, token_file: String },
    /// `Authorization: Basic base64(user:password)`.
    Basic { username: String, password: String },
}

/// One thing to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Http(String),
    File(PathBuf),
}

impl Source {
    /// `http://` and `https://` are fetched; anything else is a file (`file://` stripped).
    pub fn from_url(url: &str) -> Source {
        let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            Source::Http(url.to_string())
        } else {
            Source::File(PathBuf::from(url.strip_prefix("file://").unwrap_or(url)))
        }
    }
}

/// Fetches bodies for one input instance.
#[derive(Debug)]
pub struct Client {
    /// Through the proxy of the environment (`HTTPS_PROXY`, ...; `NO_PROXY` honoured), when
    /// one is set, but loopback targets and unix sockets direct.
    agent: RoutedAgent,
    headers: Vec<(String, String)>,
    auth: Auth,
    max_body: u64,
}

impl Client {
    /// A client; `uds_path` sends every HTTP request through that unix socket. Fails when
    /// the TLS material cannot be read.
    pub fn new(
        timeout: Duration,
        tls: TlsOptions,
        uds_path: &str,
        headers: Vec<(String, String)>,
        auth: Auth,
        max_body: u64,
    ) -> Result<Client, NetError> {
        let options = ClientOptions {
            proxy: Proxy::Env,
            tls,
            ..ClientOptions::output(timeout)
        };
        let agent = if uds_path.is_empty() {
            options.build_routed()?
        } else {
            RoutedAgent::from(options.build_unix(Path::new(uds_path))?)
        };
        Ok(Client {
            agent,
            headers,
            auth,
            max_body,
        })
    }

    /// Reads `source` into `buf` (cleared first); the body's format.
    pub fn fetch(&self, source: &Source, buf: &mut Vec<u8>) -> Result<Format, ScrapeError> {
        buf.clear();
        match source {
            Source::File(path) => {
                read_file(path, self.max_body, buf)?;
                let fmt = Format::sniff(&String::from_utf8_lossy(tail(buf)));
                Ok(fmt)
            }
            Source::Http(url) => self.fetch_http(url, buf),
        }
    }

    fn fetch_http(&self, url: &str, buf: &mut Vec<u8>) -> Result<Format, ScrapeError> {
        // Like Go's ProxyFromEnvironment, loopback targets never go through a proxy.
        let mut req = self.agent.agent_for(url).get(url).header("Accept", ACCEPT);
        match &self.auth {
            Auth::None => {}
            Auth::Bearer { token, token_file } => {
                let t = if token_file.is_empty() {
                    token.trim_end_matches(['\r', '\n']).to_string()
                } else {
                    std::fs::read_to_string(token_file)
                        .map_err(|source| ScrapeError::Token {
                            path: token_file.into(),
                            cause: source,
                        })?
                        .trim()
                        .to_string()
                };
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            Auth::Basic { username, password } => {
                let cred = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                req = req.header("Authorization", format!("Basic {cred}"));
            }
        }
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let mut resp = req
            .call()
            .map_err(|e| ScrapeError::Request(e.to_string()))?;
        let status = resp.status();
        if !status.is_success() {
            let mut body = resp
                .body_mut()
                .with_config()
                .limit(4096)
                .lossy_utf8(true)
                .read_to_string()
                .unwrap_or_default();
            let mut end = body.len().min(256);
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
            return Err(ScrapeError::Status {
                status: status.as_u16(),
                body: body.trim().to_string(),
            });
        }
        let format = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map_or(Format::Text, Format::from_content_type);
        let reader = resp.body_mut().with_config().limit(u64::MAX).reader();
        read_bounded(reader, self.max_body, buf)?;
        Ok(format)
    }
}

/// The last 64 bytes, to sniff `# EOF`.
fn tail(buf: &[u8]) -> &[u8] {
    &buf[buf.len().saturating_sub(64)..]
}

fn read_file(path: &Path, max: u64, buf: &mut Vec<u8>) -> Result<(), ScrapeError> {
    let f = std::fs::File::open(path).map_err(|source| ScrapeError::File {
        path: path.to_path_buf(),
        cause: source,
    })?;
    read_bounded(f, max, buf)
}

/// Reads at most `max` bytes; more is an error.
fn read_bounded(r: impl Read, max: u64, buf: &mut Vec<u8>) -> Result<(), ScrapeError> {
    r.take(max.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| ScrapeError::Read(e.to_string()))?;
    if buf.len() as u64 > max {
        buf.clear();
        return Err(ScrapeError::TooLarge { limit: max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixListener;

    #[test]
    fn sources_and_authorities() {
        assert_eq!(
            Source::from_url("HTTP://x/metrics"),
            Source::Http("HTTP://x/metrics".into())
        );
        assert_eq!(
            Source::from_url("file:///tmp/m.prom"),
            Source::File("/tmp/m.prom".into())
        );
        assert_eq!(Source::from_url("m.prom"), Source::File("m.prom".into()));
    }

    #[test]
    fn bodies_are_bounded() {
        let mut buf = Vec::new();
        read_bounded(&b"12345"[..], 5, &mut buf).unwrap();
        assert_eq!(buf, b"12345");
        buf.clear();
        let e = read_bounded(&b"123456"[..], 5, &mut buf).unwrap_err();
        assert!(matches!(e, ScrapeError::TooLarge { limit: 5 }));
        assert!(buf.is_empty());
    }

    #[test]
    fn files_are_read_and_sniffed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.prom");
        std::fs::write(&p, "a 1\n# EOF\n").unwrap();
        let c = Client::new(
            Duration::from_secs(1),
            TlsOptions::default(),
            "",
            vec![],
            Auth::None,
            1024,
        )
        .unwrap();
        let mut buf = Vec::new();
        let f = c.fetch(&Source::File(p), &mut buf).unwrap();
        assert_eq!(
            (f, buf.as_slice()),
            (Format::OpenMetrics, &b"a 1\n# EOF\n"[..])
        );
        let e = c
            .fetch(&Source::File(dir.path().join("none")), &mut buf)
            .unwrap_err();
        assert!(e.is_request(), "{e}");
    }

    /// A whole HTTP/1.1 200 answer whose body is the gzip of `parts`, with `headers` (CRLF
    /// terminated lines) besides the encoding and length.
    fn gzip_response(headers: &str, parts: &[&[u8]]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for p in parts {
            gz.write_all(p).unwrap();
        }
        let body = gz.finish().unwrap();
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\n{headers}Content-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(&body);
        resp
    }

    #[test]
    fn http_over_a_unix_socket_with_gzip_and_auth() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("exporter.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let resp = gzip_response(
            "Content-Type: text/plain; version=0.0.4\r\n",
            &[b"# TYPE up gauge\nup 1\n"],
        );
        let server = crate::net::testing::serve_once(listener, resp);
        let c = Client::new(
            Duration::from_secs(5),
            TlsOptions::default(),
            sock.to_str().unwrap(),
            vec![("X-Scope".into(), "a".into())],
            Auth::Bearer {
                token: "tok\n".into(),
                token_file: String::new(),
            },
            1 << 20,
        )
        .unwrap();
        let mut buf = Vec::new();
        let f = c
            .fetch(&Source::Http("http://exporter/metrics".into()), &mut buf)
            .unwrap();
        assert_eq!(f, Format::Text);
        assert_eq!(buf, b"# TYPE up gauge\nup 1\n");
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(head.starts_with("get /metrics http/1.1\r\n"), "{head}");
        assert!(head.contains("authorization: bearer tok\r\n"), "{head}");
        assert!(head.contains("x-scope: a\r\n"), "{head}");
        assert!(head.contains("accept-encoding: gzip"), "{head}");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("bomb.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        // 16 MiB of zeros compress to ~70 KiB.
        let zeros = vec![b'0'; 1 << 20];
        let resp = gzip_response("", &[&zeros[..]; 16]);
        let server = crate::net::testing::serve_once(listener, resp);
        let c = Client::new(
            Duration::from_secs(5),
            TlsOptions::default(),
            sock.to_str().unwrap(),
            vec![],
            Auth::None,
            1 << 20,
        )
        .unwrap();
        let mut buf = Vec::new();
        let e = c
            .fetch(&Source::Http("http://x/metrics".into()), &mut buf)
            .unwrap_err();
        assert!(matches!(e, ScrapeError::TooLarge { .. }), "{e}");
        assert!(buf.capacity() < 4 << 20, "stopped reading at the limit");
        let _ = server.join();
    }

    #[test]
    fn http_errors_carry_status_and_body() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("e.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let server = crate::net::testing::serve_once(
            listener,
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
                .to_vec(),
        );
        let c = Client::new(
            Duration::from_secs(5),
            TlsOptions::default(),
            sock.to_str().unwrap(),
            vec![],
            Auth::Basic {
                username: "u".into(),
                password: "p".into(),
            },
            1024,
        )
        .unwrap();
        let e = c
            .fetch(&Source::Http("http://x/m".into()), &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 503: busy");
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(head.contains("authorization: basic dtpw\r\n"), "{head}");
    }
}
