//! A small PostgreSQL client: the frontend/backend protocol 3.0 as far as the input needs it —
//! TLS negotiation (`SSLRequest`), the startup message, cleartext, MD5 and SCRAM-SHA-256
//! authentication, and simple queries whose values come back as text.
//!
//! Blocking I/O on the caller's thread (a scrape-lane thread), every read and write bounded by
//! the deadline of the call in progress. Everything the server sends is read through
//! [`Session::read_message`], which checks each message's length against [`MAX_MESSAGE`]
//! and each field against the message's end: a malformed answer is a [`PgError::Protocol`]
//! naming the message and the byte offset, never a panic (the `postgres_wire` fuzz target
//! feeds it arbitrary bytes).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use tokio_rustls::rustls;

/// The longest message accepted from a server.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;
/// The most bytes of rows one query may return.
pub const MAX_RESULT: usize = 64 * 1024 * 1024;

/// Why a call failed. Every message names the target (its password masked) and the step.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("connecting to {target}: {source}")]
    Connect { target: String, source: io::Error },
    #[error("{target}: {during}: no answer within {}", crate::config::duration::Dur(*timeout))]
    Timeout {
        target: String,
        during: &'static str,
        timeout: Duration,
    },
    #[error("{target}: {during}: {source}")]
    Io {
        target: String,
        during: &'static str,
        source: io::Error,
    },
    #[error("{target}: {during}: the server closed the connection")]
    Closed {
        target: String,
        during: &'static str,
    },
    #[error("{target}: TLS: {message}")]
    Tls { target: String, message: String },
    #[error("{target}: authentication: {message}")]
    Auth { target: String, message: String },
    #[error("{target}: {during}: the server answered {severity} {code}: {message}")]
    Server {
        target: String,
        during: &'static str,
        severity: String,
        code: String,
        message: String,
        /// The connection is still usable (the error came with a query; the server is
        /// ready for the next one).
        recoverable: bool,
    },
    #[error("{target}: {during}: bad answer at byte {offset} of a `{tag}` message: {message}")]
    Protocol {
        target: String,
        during: &'static str,
        tag: char,
        offset: usize,
        message: String,
    },
}

impl PgError {
    /// Whether the connection must be dropped after this error.
    pub fn breaks_connection(&self) -> bool {
        !matches!(
            self,
            PgError::Server {
                recoverable: true,
                ..
            }
        )
    }

    /// The SQLSTATE of a server error.
    pub fn code(&self) -> Option<&str> {
        match self {
            PgError::Server { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// `sslmode` as libpq reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp {
        host: String,
        port: u16,
    },
    /// The socket file (`<dir>/.s.PGSQL.<port>`).
    Unix(String),
}

/// The TLS client configuration of a target (built once per instance).
#[derive(Clone)]
pub struct Tls {
    pub mode: SslMode,
    config: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("mode", &self.mode).finish()
    }
}

impl Tls {
    pub fn disabled() -> Tls {
        Tls {
            mode: SslMode::Disable,
            config: None,
        }
    }

    /// The configuration for `mode`: `require` (and `prefer`, `allow`) encrypt without checking
    /// the certificate, as libpq does; `verify-ca` checks the chain against `root_der`,
    /// `verify-full` also the host name. A client certificate when `client` is given.
    pub fn new(
        mode: SslMode,
        root_der: Vec<Vec<u8>>,
        client: Option<(Vec<Vec<u8>>, Vec<u8>)>,
    ) -> Result<Tls, String> {
        if mode == SslMode::Disable {
            return Ok(Tls::disabled());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let builder = match mode {
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let mut roots = rustls::RootCertStore::empty();
                for der in root_der {
                    roots
                        .add(rustls::pki_types::CertificateDer::from(der))
                        .map_err(|e| format!("sslrootcert: {e}"))?;
                }
                if roots.is_empty() {
                    return Err(format!(
                        "sslmode={} needs `sslrootcert` (the CA certificate file)",
                        if mode == SslMode::VerifyCa {
                            "verify-ca"
                        } else {
                            "verify-full"
                        }
                    ));
                }
                let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| e.to_string())?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Verifier {
                        inner: Some(inner),
                        check_name: mode == SslMode::VerifyFull,
                        provider,
                    }))
            }
            _ => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier {
                    inner: None,
                    check_name: false,
                    provider,
                })),
        };
        let config = match client {
            Some((chain, key)) => {
                let chain = chain
                    .into_iter()
                    .map(rustls::pki_types::CertificateDer::from)
                    .collect();
                let key = rustls::pki_types::PrivateKeyDer::try_from(key)
                    .map_err(|e| format!("sslkey: {e}"))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| format!("sslcert/sslkey: {e}"))?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Tls {
            mode,
            config: Some(Arc::new(config)),
        })
    }
}

/// Checks server certificates as `sslmode` asks: not at all (`require`), the chain only
/// (`verify-ca`), or the chain and the name (`verify-full`).
#[derive(Debug)]
struct Verifier {
    inner: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let Some(inner) = &self.inner else {
            return Ok(rustls::client::danger::ServerCertVerified::assertion());
        };
        match inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A byte stream to a server whose reads and writes can be bounded.
pub trait Transport: Read + Write {
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()>;
}

/// The connection's stream: TCP, TLS over TCP, or a unix socket.
pub enum Stream {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

impl Transport for Stream {
    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        let t = Some(timeout.max(Duration::from_millis(1)));
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Tls(s) => {
                s.sock.set_read_timeout(t)?;
                s.sock.set_write_timeout(t)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
        }
    }
}

/// Who connects, to which database, and how.
#[derive(Debug, Clone)]
pub struct Params {
    pub endpoint: Endpoint,
    pub user: String,
    pub password: String,
    pub database: String,
    /// Other startup parameters (`application_name`, settings from the address).
    pub options: Vec<(String, String)>,
    pub tls: Tls,
    pub timeout: Duration,
    /// How errors show the target (password masked).
    pub target: String,
}

/// The rows of one query, every value as the server's text (`None` for NULL).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

/// A message from the server: its tag and body.
#[derive(Debug)]
pub struct Message {
    pub tag: u8,
    pub body: Vec<u8>,
}

/// Reads the fields of one message body, each read checked against its end.
pub struct Fields<'a> {
    body: &'a [u8],
    pos: usize,
    tag: u8,
}

/// A malformed message: what and where (byte offset in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub tag: u8,
    pub offset: usize,
    pub message: String,
}

impl<'a> Fields<'a> {
    pub fn new(tag: u8, body: &'a [u8]) -> Fields<'a> {
        Fields { body, pos: 0, tag }
    }
    fn err(&self, message: impl Into<String>) -> Malformed {
        Malformed {
            tag: self.tag,
            offset: self.pos,
            message: message.into(),
        }
    }
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Malformed> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.body.len())
            .ok_or_else(|| self.err(format!("{what}: {n} bytes past the end")))?;
        let s = &self.body[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn i16(&mut self, what: &str) -> Result<i16, Malformed> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }
    pub fn i32(&mut self, what: &str) -> Result<i32, Malformed> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn byte(&mut self, what: &str) -> Result<u8, Malformed> {
        Ok(self.take(1, what)?[0])
    }
    /// A NUL-terminated string.
    pub fn cstr(&mut self, what: &str) -> Result<String, Malformed> {
        let rest = &self.body[self.pos..];
        let n = memchr::memchr(0, rest).ok_or_else(|| self.err(format!("{what}: no NUL")))?;
        let s = String::from_utf8_lossy(&rest[..n]).into_owned();
        self.pos += n + 1;
        Ok(s)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.body[self.pos..];
        self.pos = self.body.len();
        s
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.body.len()
    }
}

/// An `ErrorResponse` or `NoticeResponse`: severity, SQLSTATE, message.
pub fn parse_error(tag: u8, body: &[u8]) -> Result<(String, String, String), Malformed> {
    let mut f = Fields::new(tag, body);
    let (mut severity, mut code, mut message) = (String::new(), String::new(), String::new());
    loop {
        let kind = f.byte("field type")?;
        if kind == 0 {
            break;
        }
        let v = f.cstr("field value")?;
        match kind {
            b'V' => severity = v,
            b'S' if severity.is_empty() => severity = v,
            b'C' => code = v,
            b'M' => message = v,
            _ => {}
        }
    }
    Ok((severity, code, message))
}

/// A `RowDescription`: the column names.
pub fn parse_row_description(body: &[u8]) -> Result<Vec<String>, Malformed> {
    let mut f = Fields::new(b'T', body);
    let n = f.i16("column count")?;
    if n < 0 {
        return Err(f.err(format!("negative column count {n}")));
    }
    let mut cols = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(1024));
    for _ in 0..n {
        cols.push(f.cstr("column name")?);
        f.take(18, "column attributes")?;
    }
    Ok(cols)
}

/// A `DataRow` of `width` columns (the `RowDescription`'s).
pub fn parse_data_row(body: &[u8], width: usize) -> Result<Vec<Option<String>>, Malformed> {
    let mut f = Fields::new(b'D', body);
    let n = f.i16("value count")?;
    if usize::try_from(n).ok() != Some(width) {
        return Err(f.err(format!("{n} values in a row of {width} columns")));
    }
    let mut row = Vec::with_capacity(width);
    for _ in 0..width {
        let len = f.i32("value length")?;
        if len == -1 {
            row.push(None);
            continue;
        }
        let len = usize::try_from(len).map_err(|_| f.err(format!("value length {len}")))?;
        let v = f.take(len, "value")?;
        row.push(Some(String::from_utf8_lossy(v).into_owned()));
    }
    Ok(row)
}

/// A protocol session over any transport (a real connection, or bytes in the fuzz target).
pub struct Session<S: Transport> {
    stream: S,
    target: String,
    timeout: Duration,
    deadline: Instant,
    during: &'static str,
    /// `server_version` as the server reported it at startup.
    pub server_version: String,
    wbuf: Vec<u8>,
}

impl<S: Transport> Session<S> {
    pub fn new(stream: S, target: &str, timeout: Duration) -> Session<S> {
        Session {
            stream,
            target: target.to_string(),
            timeout,
            deadline: Instant::now() + timeout,
            during: "connect",
            server_version: String::new(),
            wbuf: Vec::new(),
        }
    }

    fn io_err(&self, e: io::Error) -> PgError {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => PgError::Timeout {
                target: self.target.clone(),
                during: self.during,
                timeout: self.timeout,
            },
            io::ErrorKind::UnexpectedEof => PgError::Closed {
                target: self.target.clone(),
                during: self.during,
            },
            _ => PgError::Io {
                target: self.target.clone(),
                during: self.during,
                source: e,
            },
        }
    }

    fn arm(&mut self) -> Result<(), PgError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(PgError::Timeout {
                target: self.target.clone(),
                during: self.during,
                timeout: self.timeout,
            });
        }
        self.stream.set_timeout(left).map_err(|e| self.io_err(e))
    }

    fn protocol(&self, m: Malformed) -> PgError {
        PgError::Protocol {
            target: self.target.clone(),
            during: self.during,
            tag: char::from(m.tag),
            offset: m.offset,
            message: m.message,
        }
    }

    fn send(&mut self) -> Result<(), PgError> {
        self.arm()?;
        let buf = std::mem::take(&mut self.wbuf);
        let r = self
            .stream
            .write_all(&buf)
            .and_then(|_| self.stream.flush());
        self.wbuf = buf;
        self.wbuf.clear();
        r.map_err(|e| self.io_err(e))
    }

    /// Appends a message with `tag` (none for the startup message) and `body`.
    fn put(&mut self, tag: Option<u8>, body: &[u8]) {
        if let Some(t) = tag {
            self.wbuf.push(t);
        }
        let len = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
        self.wbuf.extend_from_slice(&len.to_be_bytes());
        self.wbuf.extend_from_slice(body);
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), PgError> {
        self.arm()?;
        self.stream.read_exact(buf).map_err(|e| self.io_err(e))
    }

    /// The next message from the server.
    pub fn read_message(&mut self) -> Result<Message, PgError> {
        let mut head = [0u8; 5];
        self.read_exact(&mut head)?;
        let tag = head[0];
        let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if !(4..=MAX_MESSAGE).contains(&len) {
            return Err(self.protocol(Malformed {
                tag,
                offset: 0,
                message: format!("message length {len} (at most {MAX_MESSAGE})"),
            }));
        }
        // Read as it comes (a length the server lies about costs no allocation up front).
        let want = len - 4;
        let mut body = Vec::with_capacity(want.min(64 * 1024));
        self.arm()?;
        let read = (&mut self.stream).take(want as u64).read_to_end(&mut body);
        let got = read.map_err(|e| self.io_err(e))?;
        if got < want {
            return Err(PgError::Closed {
                target: self.target.clone(),
                during: self.during,
            });
        }
        Ok(Message { tag, body })
    }

    fn server_error(&self, m: &Message, recoverable: bool) -> PgError {
        match parse_error(m.tag, &m.body) {
            Ok((severity, code, message)) => PgError::Server {
                target: self.target.clone(),
                during: self.during,
                severity,
                code,
                message,
                recoverable,
            },
            Err(e) => self.protocol(e),
        }
    }

    fn unexpected(&self, m: &Message) -> PgError {
        self.protocol(Malformed {
            tag: m.tag,
            offset: 0,
            message: "unexpected message".into(),
        })
    }

    /// The startup message and authentication, up to the first `ReadyForQuery`.
    pub fn startup(
        &mut self,
        user: &str,
        password: &str,
        database: &str,
        options: &[(String, String)],
    ) -> Result<(), PgError> {
        self.deadline = Instant::now() + self.timeout;
        self.during = "startup";
        let mut body = Vec::new();
        body.extend_from_slice(&196_608u32.to_be_bytes());
        let mut kv = |k: &str, v: &str| {
            body.extend_from_slice(k.as_bytes());
            body.push(0);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        };
        kv("user", user);
        if !database.is_empty() {
            kv("database", database);
        }
        kv("client_encoding", "UTF8");
        for (k, v) in options {
            kv(k, v);
        }
        body.push(0);
        self.put(None, &body);
        self.send()?;
        self.during = "authentication";
        let mut scram: Option<Scram> = None;
        loop {
            let m = self.read_message()?;
            match m.tag {
                b'R' => {
                    let mut f = Fields::new(b'R', &m.body);
                    let code = f.i32("authentication code").map_err(|e| self.protocol(e))?;
                    match code {
                        0 => {}
                        3 => {
                            let mut b = password.as_bytes().to_vec();
                            b.push(0);
                            self.put(Some(b'p'), &b);
                            self.send()?;
                        }
                        5 => {
                            let salt = f.take(4, "MD5 salt").map_err(|e| self.protocol(e))?;
                            let mut b = md5_password(user, password, salt).into_bytes();
                            b.push(0);
                            self.put(Some(b'p'), &b);
                            self.send()?;
                        }
                        10 => {
                            let mut mechs = Vec::new();
                            while !f.is_empty() {
                                let s = f.cstr("SASL mechanism").map_err(|e| self.protocol(e))?;
                                if s.is_empty() {
                                    break;
                                }
                                mechs.push(s);
                            }
                            if !mechs.iter().any(|m| m == "SCRAM-SHA-256") {
                                return Err(self.auth(format!(
                                    "the server offers SASL mechanisms {mechs:?}; this client speaks SCRAM-SHA-256 only"
                                )));
                            }
                            let s = Scram::new(password).map_err(|e| self.auth(e))?;
                            let first = s.client_first();
                            let mut b = b"SCRAM-SHA-256\0".to_vec();
                            b.extend_from_slice(
                                &i32::try_from(first.len()).unwrap_or(0).to_be_bytes(),
                            );
                            b.extend_from_slice(first.as_bytes());
                            self.put(Some(b'p'), &b);
                            self.send()?;
                            scram = Some(s);
                        }
                        11 => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| self.auth("SASL continue before SASL start"))?;
                            let server_first = String::from_utf8_lossy(f.rest()).into_owned();
                            let fin = s.client_final(&server_first).map_err(|e| self.auth(e))?;
                            self.put(Some(b'p'), fin.as_bytes());
                            self.send()?;
                        }
                        12 => {
                            let s = scram
                                .as_ref()
                                .ok_or_else(|| self.auth("SASL final before SASL start"))?;
                            let server_final = String::from_utf8_lossy(f.rest()).into_owned();
                            s.verify_server(&server_final).map_err(|e| self.auth(e))?;
                        }
                        2 => {
                            return Err(self.auth(
                                "the server asks for Kerberos V5, which this client does not speak",
                            ));
                        }
                        7 | 8 => {
                            return Err(self.auth(
                                "the server asks for GSSAPI, which this client does not speak",
                            ));
                        }
                        9 => {
                            return Err(self.auth(
                                "the server asks for SSPI, which this client does not speak",
                            ));
                        }
                        other => {
                            return Err(
                                self.auth(format!("unknown authentication request {other}"))
                            );
                        }
                    }
                }
                b'S' => {
                    let mut f = Fields::new(b'S', &m.body);
                    let k = f.cstr("parameter name").map_err(|e| self.protocol(e))?;
                    let v = f.cstr("parameter value").map_err(|e| self.protocol(e))?;
                    if k == "server_version" {
                        self.server_version = v;
                    }
                }
                b'K' | b'N' => {}
                b'E' => return Err(self.server_error(&m, false)),
                b'Z' => return Ok(()),
                _ => return Err(self.unexpected(&m)),
            }
        }
    }

    fn auth(&self, message: impl Into<String>) -> PgError {
        PgError::Auth {
            target: self.target.clone(),
            message: message.into(),
        }
    }

    /// Runs `sql` (simple query protocol) and returns the rows of its first result set.
    /// `during` names the query in errors.
    pub fn query(&mut self, sql: &str, during: &'static str) -> Result<Rows, PgError> {
        self.deadline = Instant::now() + self.timeout;
        self.during = during;
        let mut b = sql.as_bytes().to_vec();
        b.retain(|c| *c != 0);
        b.push(0);
        self.put(Some(b'Q'), &b);
        self.send()?;
        let mut out = Rows::default();
        let mut described = false;
        let mut done_first = false;
        let mut bytes = 0usize;
        let mut error: Option<PgError> = None;
        loop {
            let m = self.read_message()?;
            match m.tag {
                b'T' if !done_first => {
                    out.columns = parse_row_description(&m.body).map_err(|e| self.protocol(e))?;
                    described = true;
                }
                b'D' if described && !done_first => {
                    bytes += m.body.len();
                    if bytes > MAX_RESULT {
                        return Err(self.protocol(Malformed {
                            tag: b'D',
                            offset: 0,
                            message: format!("the rows exceed {MAX_RESULT} bytes"),
                        }));
                    }
                    let row =
                        parse_data_row(&m.body, out.columns.len()).map_err(|e| self.protocol(e))?;
                    out.rows.push(row);
                }
                b'T' | b'D' => {}
                b'C' | b'I' => done_first |= described || m.tag == b'I',
                b'E' => {
                    if error.is_none() {
                        error = Some(self.server_error(&m, true));
                    }
                }
                b'N' | b'S' | b'A' => {}
                b'Z' => {
                    return match error {
                        Some(e) => Err(e),
                        None => Ok(out),
                    };
                }
                _ => return Err(self.unexpected(&m)),
            }
        }
    }

    /// Says goodbye (best effort).
    pub fn terminate(&mut self) {
        self.put(Some(b'X'), &[]);
        let _ = self.send();
    }

    pub fn into_stream(self) -> S {
        self.stream
    }
}

/// `md5` + hex(md5(hex(md5(password + user)) + salt)).
pub fn md5_password(user: &str, password: &str, salt: &[u8]) -> String {
    use md5::Digest as _;
    let inner = hex(&md5::Md5::digest(format!("{password}{user}").as_bytes()));
    let mut h = md5::Md5::new();
    h.update(inner.as_bytes());
    h.update(salt);
    format!("md5{}", hex(&h.finalize()))
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// SCRAM-SHA-256 (RFC 5802, 7677) without channel binding, as PostgreSQL speaks it.
pub struct Scram {
    password: Vec<u8>,
    nonce: String,
    auth_message: String,
    server_key: Vec<u8>,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&k, data).as_ref().to_vec()
}

impl Scram {
    pub fn new(password: &str) -> Result<Scram, String> {
        let mut raw = [0u8; 18];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
            .map_err(|_| "no random bytes for the SCRAM nonce".to_string())?;
        Ok(Scram::with_nonce(
            password,
            base64::engine::general_purpose::STANDARD.encode(raw),
        ))
    }

    pub fn with_nonce(password: &str, nonce: String) -> Scram {
        Scram {
            password: password.as_bytes().to_vec(),
            nonce,
            auth_message: String::new(),
            server_key: Vec::new(),
        }
    }

    fn first_bare(&self) -> String {
        format!("n=,r={}", self.nonce)
    }

    pub fn client_first(&self) -> String {
        format!("n,,{}", self.first_bare())
    }

    /// The client's final message for the server's first one.
    pub fn client_final(&mut self, server_first: &str) -> Result<String, String> {
        let (mut nonce, mut salt, mut iters) = (None, None, None);
        for part in server_first.split(',') {
            match part.split_at_checked(2) {
                Some(("r=", v)) => nonce = Some(v),
                Some(("s=", v)) => salt = Some(v),
                Some(("i=", v)) => iters = Some(v),
                _ => {}
            }
        }
        let bad = || format!("the server's SCRAM message `{server_first}` is malformed");
        let nonce = nonce.ok_or_else(bad)?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err("the server's SCRAM nonce does not extend ours".into());
        }
        let salt = base64::engine::general_purpose::STANDARD
            .decode(salt.ok_or_else(bad)?)
            .map_err(|_| bad())?;
        let iters: u32 = iters.ok_or_else(bad)?.parse().map_err(|_| bad())?;
        let iters = std::num::NonZeroU32::new(iters)
            .filter(|n| n.get() <= 1_000_000)
            .ok_or_else(|| format!("SCRAM iteration count {iters}"))?;
        let mut salted = [0u8; 32];
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iters,
            &salt,
            &self.password,
            &mut salted,
        );
        let client_key = hmac(&salted, b"Client Key");
        let stored_key = ring::digest::digest(&ring::digest::SHA256, &client_key);
        let without_proof = format!("c=biws,r={nonce}");
        self.auth_message = format!("{},{server_first},{without_proof}", self.first_bare());
        let signature = hmac(stored_key.as_ref(), self.auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(signature.iter())
            .map(|(a, b)| a ^ b)
            .collect();
        self.server_key = hmac(&salted, b"Server Key");
        Ok(format!(
            "{without_proof},p={}",
            base64::engine::general_purpose::STANDARD.encode(proof)
        ))
    }

    /// Checks the server's signature (it knows the password too).
    pub fn verify_server(&self, server_final: &str) -> Result<(), String> {
        if let Some(e) = server_final.strip_prefix("e=") {
            return Err(format!("the server refused the SCRAM exchange: {e}"));
        }
        let v = server_final
            .split(',')
            .find_map(|p| p.strip_prefix("v="))
            .ok_or_else(|| format!("the server's SCRAM message `{server_final}` is malformed"))?;
        let want = hmac(&self.server_key, self.auth_message.as_bytes());
        let got = base64::engine::general_purpose::STANDARD
            .decode(v)
            .map_err(|_| "the server's SCRAM signature is not base64".to_string())?;
        if got != want {
            return Err("the server's SCRAM signature is wrong (not the server we meant?)".into());
        }
        Ok(())
    }
}

/// A connection to a server.
pub struct Conn {
    session: Session<Stream>,
}

impl Conn {
    /// Connects, negotiates TLS as `sslmode` says, and authenticates.
    pub fn connect(p: &Params) -> Result<Conn, PgError> {
        let connect_err = |source| PgError::Connect {
            target: p.target.clone(),
            source,
        };
        let stream = match &p.endpoint {
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).map_err(connect_err)?),
            Endpoint::Tcp { host, port } => {
                let tcp = connect_tcp(host, *port, p.timeout).map_err(connect_err)?;
                let _ = tcp.set_nodelay(true);
                match (&p.tls.config, p.tls.mode) {
                    (
                        Some(cfg),
                        SslMode::Prefer
                        | SslMode::Require
                        | SslMode::VerifyCa
                        | SslMode::VerifyFull,
                    ) => negotiate_tls(tcp, host, cfg, p)?,
                    _ => Stream::Tcp(tcp),
                }
            }
        };
        let mut session = Session::new(stream, &p.target, p.timeout);
        session.startup(&p.user, &p.password, &p.database, &p.options)?;
        Ok(Conn { session })
    }

    pub fn query(&mut self, sql: &str, during: &'static str) -> Result<Rows, PgError> {
        self.session.query(sql, during)
    }

    pub fn server_version(&self) -> &str {
        &self.session.server_version
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.session.terminate();
    }
}

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    use std::net::ToSocketAddrs;
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
    for addr in (h, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// `SSLRequest`, then the TLS handshake when the server agrees; a server that refuses is
/// an error unless `sslmode=prefer`.
fn negotiate_tls(
    mut tcp: TcpStream,
    host: &str,
    cfg: &Arc<rustls::ClientConfig>,
    p: &Params,
) -> Result<Stream, PgError> {
    let io = |during: &'static str, e: io::Error| match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => PgError::Timeout {
            target: p.target.clone(),
            during,
            timeout: p.timeout,
        },
        _ => PgError::Io {
            target: p.target.clone(),
            during,
            source: e,
        },
    };
    let t = Some(p.timeout);
    tcp.set_read_timeout(t).map_err(|e| io("TLS request", e))?;
    tcp.set_write_timeout(t).map_err(|e| io("TLS request", e))?;
    let mut req = [0u8; 8];
    req[..4].copy_from_slice(&8u32.to_be_bytes());
    req[4..].copy_from_slice(&80_877_103u32.to_be_bytes());
    tcp.write_all(&req).map_err(|e| io("TLS request", e))?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer)
        .map_err(|e| io("TLS request", e))?;
    match answer[0] {
        b'S' => {}
        b'N' if p.tls.mode == SslMode::Prefer => return Ok(Stream::Tcp(tcp)),
        b'N' => {
            return Err(PgError::Tls {
                target: p.target.clone(),
                message: "the server does not accept TLS connections (sslmode asks for TLS; `sslmode=disable` or `prefer` connects without)".into(),
            });
        }
        other => {
            return Err(PgError::Protocol {
                target: p.target.clone(),
                during: "TLS request",
                tag: char::from(other),
                offset: 0,
                message: "neither `S` nor `N`".into(),
            });
        }
    }
    let h = host.trim_start_matches('[').trim_end_matches(']');
    let name =
        rustls::pki_types::ServerName::try_from(h.to_string()).map_err(|e| PgError::Tls {
            target: p.target.clone(),
            message: format!("`{host}` as a server name: {e}"),
        })?;
    let conn = rustls::ClientConnection::new(cfg.clone(), name).map_err(|e| PgError::Tls {
        target: p.target.clone(),
        message: e.to_string(),
    })?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    while s.conn.is_handshaking() {
        s.conn
            .complete_io(&mut s.sock)
            .map_err(|e| match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => io("TLS handshake", e),
                _ => PgError::Tls {
                    target: p.target.clone(),
                    message: e.to_string(),
                },
            })?;
    }
    Ok(Stream::Tls(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_password_as_postgres_computes_it() {
        // "md5" + md5(hex(md5("secretalice")) + salt), computed with Python's hashlib.
        assert_eq!(
            md5_password("alice", "secret", &[1, 2, 3, 4]),
            "md598a0412b9c31436fc53776e863350083"
        );
    }

    #[test]
    fn scram_matches_rfc7677() {
        // RFC 7677 section 3: user "user", password "pencil" (the username is not part of
        // PostgreSQL's exchange, so `n=` differs from the RFC's; the proof is recomputed).
        let mut s = Scram::with_nonce("pencil", "rOprNGfwEbeRWgbNEkqO".into());
        assert_eq!(s.client_first(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let fin = s.client_final(server_first).unwrap();
        // Proof and server signature computed with Python's hashlib and hmac.
        assert_eq!(
            fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=qvT2SWdEH5Q06albL+hjSYuUhCG7VndFyzIb7CK4n9k="
        );
        s.verify_server("v=3HO6Qt1M4MKJrmlKaoOqLAI0/0TV0HZe7J9H3MBtSOg=")
            .unwrap();
        assert!(s.verify_server("v=AAAA").is_err());
        assert!(s.verify_server("e=invalid-proof").is_err());
        assert!(s.client_final("r=other,s=AA==,i=1").is_err());
        assert!(s.client_final("garbage").is_err());
    }

    #[test]
    fn malformed_messages_name_the_offset() {
        let e = parse_row_description(&[0, 2, b'a', 0]).unwrap_err();
        assert_eq!((e.tag, e.offset), (b'T', 4));
        let e = parse_data_row(&[0, 1, 0, 0, 0, 9, b'x'], 1).unwrap_err();
        assert_eq!((e.tag, e.offset), (b'D', 6));
        assert!(parse_data_row(&[0, 2], 1).is_err());
        let row = parse_data_row(&[0, 2, 255, 255, 255, 255, 0, 0, 0, 1, b'7'], 2).unwrap();
        assert_eq!(row, vec![None, Some("7".into())]);
        let (sev, code, msg) = parse_error(
            b'E',
            b"SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed\0\0",
        )
        .unwrap();
        assert_eq!((sev.as_str(), code.as_str()), ("FATAL", "28P01"));
        assert_eq!(msg, "password authentication failed");
        assert!(parse_error(b'E', b"SFATAL").is_err());
    }
}
