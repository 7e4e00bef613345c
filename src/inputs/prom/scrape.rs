//! Fetching scrape bodies: HTTP(S) with ureq (keep-alive, gzip, TLS with custom CAs and client
//! certificates, auth, headers), HTTP over a unix socket, or a local file. Bodies are bounded
//! after decompression, so a gzip bomb stops at the limit.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, Transport,
};

use super::parse::Format;

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
    #[error("reading {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("reading token_file {path}: {source}")]
    Token {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ScrapeError {
    /// A failure to reach the target (what `ignore_req_err` silences).
    pub fn is_request(&self) -> bool {
        matches!(self, ScrapeError::Request(_) | ScrapeError::File { .. })
    }
}

/// Why the client could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("reading {what} {path}: {source}")]
    ReadFile {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{what}: invalid base64: {source}")]
    Base64 {
        what: &'static str,
        source: base64::DecodeError,
    },
    #[error("{what}: no PEM {kind} found")]
    NoPem {
        what: &'static str,
        kind: &'static str,
    },
    #[error("{what}: {source}")]
    Pem {
        what: &'static str,
        source: ureq::Error,
    },
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

/// TLS material, from the input's options.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub insecure_skip_verify: bool,
    pub ca_files: Vec<String>,
    pub ca_base64: Vec<String>,
    pub cert_file: String,
    pub key_file: String,
    pub cert_base64: String,
    pub key_base64: String,
}

/// A PEM blob from a file path or from base64 text.
fn pem(what: &'static str, file: &str, b64: &str) -> Result<Option<Vec<u8>>, SetupError> {
    if !file.is_empty() {
        return std::fs::read(file)
            .map(Some)
            .map_err(|source| SetupError::ReadFile {
                what,
                path: file.to_string(),
                source,
            });
    }
    if !b64.trim().is_empty() {
        let clean: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
        return base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map(Some)
            .map_err(|source| SetupError::Base64 { what, source });
    }
    Ok(None)
}

impl TlsOptions {
    /// The ureq TLS configuration: custom roots replace the built-in ones when given.
    pub fn build(&self) -> Result<ureq::tls::TlsConfig, SetupError> {
        use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
        let mut b = TlsConfig::builder().disable_verification(self.insecure_skip_verify);
        let mut roots: Vec<Certificate<'static>> = Vec::new();
        let blobs = self
            .ca_files
            .iter()
            .map(|f| pem("ca_certs", f, ""))
            .chain(self.ca_base64.iter().map(|s| pem("ca_certs_base64", "", s)));
        for blob in blobs {
            let Some(blob) = blob? else { continue };
            let before = roots.len();
            for item in ureq::tls::parse_pem(&blob) {
                match item {
                    Ok(PemItem::Certificate(c)) => roots.push(c),
                    Ok(_) => {}
                    Err(source) => {
                        return Err(SetupError::Pem {
                            what: "ca_certs",
                            source,
                        });
                    }
                }
            }
            if roots.len() == before {
                return Err(SetupError::NoPem {
                    what: "ca_certs",
                    kind: "certificate",
                });
            }
        }
        if !roots.is_empty() {
            b = b.root_certs(RootCerts::new_with_certs(&roots));
        }
        let cert = pem("cert", &self.cert_file, &self.cert_base64)?;
        let key = pem("cert_key", &self.key_file, &self.key_base64)?;
        if let (Some(cert), Some(key)) = (cert, key) {
            let chain: Vec<Certificate<'static>> = ureq::tls::parse_pem(&cert)
                .filter_map(|i| match i {
                    Ok(PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if chain.is_empty() {
                return Err(SetupError::NoPem {
                    what: "cert",
                    kind: "certificate",
                });
            }
            let key = PrivateKey::from_pem(&key).map_err(|source| SetupError::Pem {
                what: "cert_key",
                source,
            })?;
            b = b.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
        }
        Ok(b.build())
    }
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

/// Host and port of an `http(s)://` URL (default port by scheme), brackets kept off IPv6.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default,
        };
        return Some((host.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((hostport.to_string(), default)),
    }
    .filter(|(h, _)| !h.is_empty())
}

/// Whether `host` names this machine (`localhost`, 127.0.0.0/8, `::1`, unspecified).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Fetches bodies for one input instance.
#[derive(Debug)]
pub struct Client {
    /// Without a proxy: loopback targets and unix sockets.
    direct: ureq::Agent,
    /// Through the proxy of the environment (`HTTPS_PROXY`, ...; `NO_PROXY` honoured), when
    /// one is set.
    proxied: Option<ureq::Agent>,
    headers: Vec<(String, String)>,
    auth: Auth,
    max_body: u64,
}

impl Client {
    /// A client; `uds_path` sends every HTTP request through that unix socket.
    pub fn new(
        timeout: Duration,
        tls: ureq::tls::TlsConfig,
        uds_path: &str,
        headers: Vec<(String, String)>,
        auth: Auth,
        max_body: u64,
    ) -> Client {
        let (direct, proxied) = if uds_path.is_empty() {
            let proxied = ureq::Proxy::try_from_env().map(|p| {
                let cfg = crate::io::sinks::agent_config(timeout, Some(p), tls.clone());
                ureq::Agent::new_with_config(cfg)
            });
            let cfg = crate::io::sinks::agent_config(timeout, None, tls);
            (ureq::Agent::new_with_config(cfg), proxied)
        } else {
            let cfg = crate::io::sinks::agent_config(timeout, None, tls);
            let agent = ureq::Agent::with_parts(cfg, UnixConnector(uds_path.into()), UnixResolver);
            (agent, None)
        };
        Client {
            direct,
            proxied,
            headers,
            auth,
            max_body,
        }
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
        let agent = match &self.proxied {
            Some(p) if !host_port(url).is_some_and(|(h, _)| is_loopback(&h)) => p,
            _ => &self.direct,
        };
        let mut req = agent.get(url).header("Accept", ACCEPT);
        match &self.auth {
            Auth::None => {}
            Auth::Bearer { token, token_file } => {
                let t = if token_file.is_empty() {
                    token.trim_end_matches(['\r', '\n']).to_string()
                } else {
                    std::fs::read_to_string(token_file)
                        .map_err(|source| ScrapeError::Token {
                            path: token_file.into(),
                            source,
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
        source,
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

/// Connects every request to a unix socket (the URL's host only fills the `Host` header).
#[derive(Debug)]
struct UnixConnector(PathBuf);

impl<In: Transport> Connector<In> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let stream = UnixStream::connect(&self.0)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(UnixTransport { stream, buffers }))
    }
}

/// No name resolution for a unix socket: one placeholder address.
#[derive(Debug)]
struct UnixResolver;

impl Resolver for UnixResolver {
    fn resolve(
        &self,
        _uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let mut v = self.empty();
        v.push(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
        Ok(v)
    }
}

#[derive(Debug)]
struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
}

fn io_err(e: std::io::Error, reason: ureq::Timeout) -> ureq::Error {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            ureq::Error::Timeout(reason)
        }
        _ => ureq::Error::Io(e),
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let t = timeout.for_write();
        self.stream.set_write_timeout(t.not_zero().map(|d| *d))?;
        let out = &self.buffers.output()[..amount];
        self.stream.write_all(out).map_err(|e| io_err(e, t.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let t = timeout.for_read();
        self.stream.set_read_timeout(t.not_zero().map(|d| *d))?;
        let input = self.buffers.input_append_buf();
        let n = loop {
            match self.stream.read(input) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_err(e, t.reason)),
            }
        };
        self.buffers.input_appended(n);
        Ok(n > 0)
    }

    fn is_open(&mut self) -> bool {
        // Open when a non-blocking read would block: no EOF and no unrequested bytes.
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let open = matches!(self.stream.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock);
        open && self.stream.set_nonblocking(false).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};
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
        assert_eq!(
            host_port("http://u:p@10.0.0.1:9100/metrics"),
            Some(("10.0.0.1".into(), 9100))
        );
        assert_eq!(host_port("https://h/m"), Some(("h".into(), 443)));
        assert_eq!(host_port("http://[::1]:9/m"), Some(("::1".into(), 9)));
        assert_eq!(host_port("http://[::1]/m"), Some(("::1".into(), 80)));
        assert_eq!(host_port("http://h:x/m"), None);
        assert_eq!(host_port("http:///m"), None);
        assert!(is_loopback("127.0.0.2") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("10.1.1.1") && !is_loopback("example.com"));
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
            ureq::tls::TlsConfig::default(),
            "",
            vec![],
            Auth::None,
            1024,
        );
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

    /// A one-connection HTTP server on a unix socket; returns the request head it saw.
    fn serve_once(listener: UnixListener, response: Vec<u8>) -> std::thread::JoinHandle<String> {
        std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            (&s).write_all(&response).unwrap();
            head
        })
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
        let server = serve_once(listener, resp);
        let c = Client::new(
            Duration::from_secs(5),
            ureq::tls::TlsConfig::default(),
            sock.to_str().unwrap(),
            vec![("X-Scope".into(), "a".into())],
            Auth::Bearer {
                token: "tok\n".into(),
                token_file: String::new(),
            },
            1 << 20,
        );
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
        let server = serve_once(listener, resp);
        let c = Client::new(
            Duration::from_secs(5),
            ureq::tls::TlsConfig::default(),
            sock.to_str().unwrap(),
            vec![],
            Auth::None,
            1 << 20,
        );
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
        let server = serve_once(
            listener,
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
                .to_vec(),
        );
        let c = Client::new(
            Duration::from_secs(5),
            ureq::tls::TlsConfig::default(),
            sock.to_str().unwrap(),
            vec![],
            Auth::Basic {
                username: "u".into(),
                password: "p".into(),
            },
            1024,
        );
        let e = c
            .fetch(&Source::Http("http://x/m".into()), &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.to_string(), "HTTP 503: busy");
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(head.contains("authorization: basic dtpw\r\n"), "{head}");
    }
}
