//! A small blocking MySQL/MariaDB client: the handshake (`mysql_native_password`,
//! `caching_sha2_password`, `mysql_clear_password`), TLS through rustls, and `COM_QUERY` with
//! text result sets — what the `mysql` input asks, over TCP or a unix socket, with a deadline
//! on every call.
//!
//! The parsers ([`Handshake::parse`], [`read_result`]) work on what the server sends and bound
//! what it can make them allocate (packet sizes, column counts, the size of a result), so a
//! broken or hostile server gives an error with the byte offset, never a panic.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha1::Digest as _;
use tokio_rustls::rustls;

/// The most bytes one result set may take (`SHOW ENGINE INNODB STATUS` and the table list of
/// a large server are the biggest answers the input asks for).
pub const MAX_RESULT: usize = 64 << 20;
/// The most columns of one result set.
pub const MAX_COLUMNS: usize = 4096;

const CLIENT_LONG_PASSWORD: u32 = 1;
const CLIENT_LONG_FLAG: u32 = 4;
const CLIENT_PROTOCOL_41: u32 = 0x200;
const CLIENT_SSL: u32 = 0x800;
const CLIENT_TRANSACTIONS: u32 = 0x2000;
const CLIENT_SECURE_CONNECTION: u32 = 0x8000;
const CLIENT_MULTI_RESULTS: u32 = 0x2_0000;
const CLIENT_PLUGIN_AUTH: u32 = 0x8_0000;
const CLIENT_PLUGIN_AUTH_LENENC: u32 = 0x20_0000;
/// utf8mb4_general_ci.
const CHARSET_UTF8MB4: u8 = 45;

/// Why bytes from the server could not be read, with the offset in the packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("byte {at}: the packet ends early")]
    Short { at: usize },
    #[error("protocol version {0} is not 10 (not a MySQL server?)")]
    Version(u8),
    #[error("byte {at}: a string without its terminating NUL")]
    Unterminated { at: usize },
    #[error("byte {at}: a length-encoded integer with first byte {byte:#04x}")]
    BadLength { at: usize, byte: u8 },
    #[error("a result set of {0} columns is over the limit of {MAX_COLUMNS}")]
    TooManyColumns(u64),
    #[error("a result set over {MAX_RESULT} bytes")]
    TooLarge,
    #[error("packet {got} where {want} was expected (out of order)")]
    Sequence { got: u8, want: u8 },
    #[error("a row of {got} values in a result of {want} columns")]
    RowWidth { got: usize, want: usize },
    #[error("unexpected packet {0:#04x} {1}")]
    Unexpected(u8, &'static str),
    #[error("the server asked for the local file transfer of LOAD DATA LOCAL, which is refused")]
    LocalInfile,
}

/// An error packet of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: u16,
    pub state: String,
    pub message: String,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.state.is_empty() {
            write!(f, "error {}: {}", self.code, self.message)
        } else {
            write!(f, "error {} ({}): {}", self.code, self.state, self.message)
        }
    }
}

/// A cursor over one packet's payload.
struct Cur<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Cur<'a> {
        Cur { b, at: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], ProtocolError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or(ProtocolError::Short { at: self.at })?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn nul_str(&mut self) -> Result<&'a [u8], ProtocolError> {
        let rest = &self.b[self.at.min(self.b.len())..];
        let i = memchr::memchr(0, rest).ok_or(ProtocolError::Unterminated { at: self.at })?;
        let s = &rest[..i];
        self.at += i + 1;
        Ok(s)
    }
    fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.at.min(self.b.len())..];
        self.at = self.b.len();
        s
    }
    fn is_empty(&self) -> bool {
        self.at >= self.b.len()
    }
    /// A length-encoded integer; `None` for the NULL marker (0xfb).
    fn lenenc(&mut self) -> Result<Option<u64>, ProtocolError> {
        let at = self.at;
        Ok(Some(match self.u8()? {
            b @ 0..=0xfa => u64::from(b),
            0xfb => return Ok(None),
            0xfc => u64::from(self.u16()?),
            0xfd => {
                let s = self.take(3)?;
                u64::from(s[0]) | u64::from(s[1]) << 8 | u64::from(s[2]) << 16
            }
            0xfe => {
                let s = self.take(8)?;
                u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
            }
            byte => return Err(ProtocolError::BadLength { at, byte }),
        }))
    }
    /// A length-encoded string; `None` for NULL.
    fn lenenc_str(&mut self) -> Result<Option<&'a [u8]>, ProtocolError> {
        let at = self.at;
        match self.lenenc()? {
            None => Ok(None),
            Some(n) => {
                let n = usize::try_from(n).map_err(|_| ProtocolError::Short { at })?;
                self.take(n).map(Some)
            }
        }
    }
}

/// An error packet's content (the first byte, 0xff, included).
pub fn parse_error(p: &[u8]) -> ServerError {
    let mut c = Cur::new(p);
    let _ = c.u8();
    let code = c.u16().unwrap_or(0);
    let mut state = String::new();
    if c.b.get(c.at) == Some(&b'#') {
        c.at += 1;
        if let Ok(s) = c.take(5) {
            state = String::from_utf8_lossy(s).into_owned();
        }
    }
    ServerError {
        code,
        state,
        message: String::from_utf8_lossy(c.rest()).into_owned(),
    }
}

/// The server's greeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub server_version: String,
    pub connection_id: u32,
    pub capabilities: u32,
    /// The 20 bytes of challenge.
    pub scramble: Vec<u8>,
    pub auth_plugin: String,
}

impl Handshake {
    /// Parses the greeting packet's payload.
    pub fn parse(p: &[u8]) -> Result<Handshake, ProtocolError> {
        let mut c = Cur::new(p);
        let v = c.u8()?;
        if v != 10 {
            return Err(ProtocolError::Version(v));
        }
        let server_version = String::from_utf8_lossy(c.nul_str()?).into_owned();
        let connection_id = c.u32()?;
        let mut scramble = c.take(8)?.to_vec();
        c.u8()?;
        let mut capabilities = u32::from(c.u16()?);
        let mut auth_plugin = String::new();
        if !c.is_empty() {
            let _charset = c.u8()?;
            let _status = c.u16()?;
            capabilities |= u32::from(c.u16()?) << 16;
            let data_len = usize::from(c.u8()?);
            c.take(10)?;
            if capabilities & CLIENT_SECURE_CONNECTION != 0 {
                let n = data_len.saturating_sub(8).max(13);
                let part = c.take(n)?;
                // The second part ends with a NUL that is not part of the challenge.
                let part = part.strip_suffix(&[0]).unwrap_or(part);
                scramble.extend_from_slice(part);
            }
            if capabilities & CLIENT_PLUGIN_AUTH != 0 && !c.is_empty() {
                let rest = c.rest();
                let end = memchr::memchr(0, rest).unwrap_or(rest.len());
                auth_plugin = String::from_utf8_lossy(&rest[..end]).into_owned();
            }
        }
        Ok(Handshake {
            server_version,
            connection_id,
            capabilities,
            scramble,
            auth_plugin,
        })
    }
}

/// `mysql_native_password`: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).
pub fn native_password(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = sha1::Sha1::digest(password);
    let h2 = sha1::Sha1::digest(h1);
    let mut h = sha1::Sha1::new();
    h.update(scramble.get(..20).unwrap_or(scramble));
    h.update(h2);
    let h3 = h.finalize();
    h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect()
}

/// `caching_sha2_password`'s fast path: SHA256(password) XOR
/// SHA256(SHA256(SHA256(password)) + scramble).
pub fn caching_sha2(password: &[u8], scramble: &[u8]) -> Vec<u8> {
    if password.is_empty() {
        return Vec::new();
    }
    let h1 = sha2::Sha256::digest(password);
    let h2 = sha2::Sha256::digest(h1);
    let mut h = sha2::Sha256::new();
    h.update(h2);
    h.update(scramble.get(..20).unwrap_or(scramble));
    let h3 = h.finalize();
    h1.iter().zip(h3.iter()).map(|(a, b)| a ^ b).collect()
}

/// A result set: the column names and the rows (`None` is SQL NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    /// The index of a column, by name, ignoring case.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
    }
}

/// Reads packets: the payload (joined when split at 16 MiB) and checks their order.
pub struct PacketReader<R> {
    pub inner: R,
    pub seq: u8,
    /// Bytes read in the current exchange, for [`MAX_RESULT`].
    pub taken: usize,
}

/// Why reading packets failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Protocol(#[from] ProtocolError),
    #[error("{0}")]
    Server(ServerError),
}

impl<R: Read> PacketReader<R> {
    pub fn new(inner: R) -> PacketReader<R> {
        PacketReader {
            inner,
            seq: 0,
            taken: 0,
        }
    }

    /// One packet's payload.
    pub fn packet(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut out = Vec::new();
        loop {
            let mut head = [0u8; 4];
            self.inner.read_exact(&mut head)?;
            let len = usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16;
            if head[3] != self.seq {
                return Err(ProtocolError::Sequence {
                    got: head[3],
                    want: self.seq,
                }
                .into());
            }
            self.seq = self.seq.wrapping_add(1);
            self.taken = self.taken.saturating_add(len + 4);
            if self.taken > MAX_RESULT {
                return Err(ProtocolError::TooLarge.into());
            }
            // Grows with what arrives, not with what the header claims.
            let start = out.len();
            (&mut self.inner).take(len as u64).read_to_end(&mut out)?;
            if out.len() - start != len {
                return Err(ReadError::Io(std::io::ErrorKind::UnexpectedEof.into()));
            }
            if len < 0xff_ffff {
                return Ok(out);
            }
        }
    }
}

fn is_eof(p: &[u8]) -> bool {
    p.first() == Some(&0xfe) && p.len() < 9
}

/// Reads the answer to a `COM_QUERY` (sent with sequence 0): a result set, or an empty one for
/// a statement without rows (an OK packet). An error packet is [`ReadError::Server`].
pub fn read_result<R: Read>(r: &mut PacketReader<R>) -> Result<ResultSet, ReadError> {
    let first = r.packet()?;
    match first.first() {
        Some(0x00) => return Ok(ResultSet::default()),
        Some(0xff) => return Err(ReadError::Server(parse_error(&first))),
        Some(0xfb) => return Err(ProtocolError::LocalInfile.into()),
        None => return Err(ProtocolError::Short { at: 0 }.into()),
        _ => {}
    }
    let n = Cur::new(&first)
        .lenenc()?
        .ok_or(ProtocolError::Unexpected(0xfb, "as the column count"))?;
    if n > MAX_COLUMNS as u64 {
        return Err(ProtocolError::TooManyColumns(n).into());
    }
    let n = n as usize;
    let mut rs = ResultSet {
        columns: Vec::with_capacity(n),
        rows: Vec::new(),
    };
    for _ in 0..n {
        let p = r.packet()?;
        if p.first() == Some(&0xff) {
            return Err(ReadError::Server(parse_error(&p)));
        }
        let mut c = Cur::new(&p);
        for _ in 0..4 {
            c.lenenc_str()?; // catalog, schema, table, org_table
        }
        let name = c.lenenc_str()?.unwrap_or_default();
        rs.columns.push(String::from_utf8_lossy(name).into_owned());
    }
    let eof = r.packet()?;
    if !is_eof(&eof) {
        return Err(ProtocolError::Unexpected(
            eof.first().copied().unwrap_or(0),
            "after the column definitions (EOF expected)",
        )
        .into());
    }
    loop {
        let p = r.packet()?;
        if is_eof(&p) {
            // A server may announce more results (a procedure's): not sent to what we ask.
            return Ok(rs);
        }
        if p.first() == Some(&0xff) {
            return Err(ReadError::Server(parse_error(&p)));
        }
        let mut c = Cur::new(&p);
        let mut row = Vec::with_capacity(n);
        while !c.is_empty() {
            row.push(
                c.lenenc_str()?
                    .map(|s| String::from_utf8_lossy(s).into_owned()),
            );
        }
        if row.len() != n {
            return Err(ProtocolError::RowWidth {
                got: row.len(),
                want: n,
            }
            .into());
        }
        rs.rows.push(row);
    }
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `host:port`, and the host name (TLS checks the certificate against it).
    Tcp(String, String),
    /// A unix socket path.
    Unix(String),
}

/// What a connection needs besides the endpoint.
#[derive(Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    /// TLS over TCP: the client configuration.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub timeout: Duration,
}

/// Why a call failed. The target (`mysql://user:***@host:port`) is in every message.
#[derive(Debug, thiserror::Error)]
pub enum MysqlError {
    #[error("connecting to {target}: {cause}")]
    Connect {
        target: String,
        cause: std::io::Error,
    },
    #[error("{target}: {step}: {cause}")]
    Io {
        target: String,
        step: String,
        cause: std::io::Error,
    },
    #[error("{target}: {step}: no answer within {timeout:?}")]
    Timeout {
        target: String,
        step: String,
        timeout: Duration,
    },
    #[error("{target}: {step}: the server closed the connection")]
    Closed { target: String, step: String },
    #[error("{target}: {step}: {cause}")]
    Protocol {
        target: String,
        step: String,
        cause: ProtocolError,
    },
    #[error("{target}: {step}: {message}")]
    Auth {
        target: String,
        step: String,
        message: String,
    },
    /// The server answered with an error packet: the connection is still good.
    #[error("{target}: {step}: the server answered {cause}")]
    Server {
        target: String,
        step: String,
        cause: ServerError,
    },
}

impl MysqlError {
    /// Whether the connection must be dropped (anything but an error packet to a query).
    pub fn breaks_connection(&self) -> bool {
        !matches!(self, MysqlError::Server { .. })
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn set_timeout(&self, t: Duration) -> std::io::Result<()> {
        let t = Some(t.max(Duration::from_millis(1)));
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Unix(s) => {
                s.set_read_timeout(t)?;
                s.set_write_timeout(t)
            }
            Stream::Tls(s) => {
                s.sock.set_read_timeout(t)?;
                s.sock.set_write_timeout(t)
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// Reads through a deadline: each read gets the time left.
struct Deadlined<'a> {
    s: &'a mut Stream,
    deadline: Instant,
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.s.set_timeout(left)?;
        self.s.read(buf)
    }
}

/// One authenticated connection.
pub struct Conn {
    stream: Stream,
    target: String,
    timeout: Duration,
    pub server_version: String,
}

fn write_packet(w: &mut impl Write, seq: u8, payload: &[u8]) -> std::io::Result<()> {
    let len = payload.len();
    if len >= 0xff_ffff {
        return Err(std::io::Error::other("packet too large"));
    }
    let mut buf = Vec::with_capacity(len + 4);
    buf.extend_from_slice(&[len as u8, (len >> 8) as u8, (len >> 16) as u8, seq]);
    buf.extend_from_slice(payload);
    w.write_all(&buf)?;
    w.flush()
}

impl Conn {
    fn err_io(&self, step: &str, e: std::io::Error) -> MysqlError {
        io_error(&self.target, step, self.timeout, e)
    }

    fn read_err(&self, step: &str, e: ReadError) -> MysqlError {
        match e {
            ReadError::Io(e) => self.err_io(step, e),
            ReadError::Protocol(cause) => MysqlError::Protocol {
                target: self.target.clone(),
                step: step.to_string(),
                cause,
            },
            ReadError::Server(cause) => MysqlError::Server {
                target: self.target.clone(),
                step: step.to_string(),
                cause,
            },
        }
    }

    /// Connects, upgrades to TLS when asked, and logs in.
    pub fn connect(endpoint: &Endpoint, target: &str, login: &Login) -> Result<Conn, MysqlError> {
        let started = Instant::now();
        let deadline = started + login.timeout;
        let connect_err = |cause| MysqlError::Connect {
            target: target.to_string(),
            cause,
        };
        let (stream, host) = match endpoint {
            Endpoint::Tcp(addr, host) => {
                let addrs: Vec<_> = addr
                    .to_socket_addrs()
                    .map_err(connect_err)?
                    .collect::<Vec<_>>();
                let mut last = std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the host name resolved to no address",
                );
                let mut found = None;
                for a in addrs {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        last = std::io::ErrorKind::TimedOut.into();
                        break;
                    }
                    match TcpStream::connect_timeout(&a, left) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = e,
                    }
                }
                let s = found.ok_or_else(|| connect_err(last))?;
                let _ = s.set_nodelay(true);
                (Stream::Tcp(s), Some(host.clone()))
            }
            Endpoint::Unix(path) => (
                Stream::Unix(UnixStream::connect(path).map_err(connect_err)?),
                None,
            ),
        };
        let mut conn = Conn {
            stream,
            target: target.to_string(),
            timeout: login.timeout,
            server_version: String::new(),
        };
        conn.login(login, host, deadline)?;
        Ok(conn)
    }

    fn login(
        &mut self,
        login: &Login,
        host: Option<String>,
        deadline: Instant,
    ) -> Result<(), MysqlError> {
        let step = "handshake";
        let mut r = PacketReader::new(Deadlined {
            s: &mut self.stream,
            deadline,
        });
        let greeting = r.packet();
        let seq = r.seq;
        let greeting = greeting.map_err(|e| self.read_err(step, e))?;
        if greeting.first() == Some(&0xff) {
            return Err(MysqlError::Auth {
                target: self.target.clone(),
                step: step.into(),
                message: format!(
                    "the server refused the connection: {}",
                    parse_error(&greeting)
                ),
            });
        }
        let hs = Handshake::parse(&greeting).map_err(|cause| MysqlError::Protocol {
            target: self.target.clone(),
            step: step.into(),
            cause,
        })?;
        self.server_version = hs.server_version.clone();
        let mut caps = CLIENT_LONG_PASSWORD
            | CLIENT_LONG_FLAG
            | CLIENT_PROTOCOL_41
            | CLIENT_TRANSACTIONS
            | CLIENT_SECURE_CONNECTION
            | CLIENT_MULTI_RESULTS
            | CLIENT_PLUGIN_AUTH
            | CLIENT_PLUGIN_AUTH_LENENC;
        caps &= hs.capabilities | CLIENT_PLUGIN_AUTH_LENENC;
        let mut seq = seq;
        let secure = match (&login.tls, host) {
            (Some(cfg), Some(host)) => {
                if hs.capabilities & CLIENT_SSL == 0 {
                    return Err(MysqlError::Auth {
                        target: self.target.clone(),
                        step: "TLS".into(),
                        message: "TLS is configured but the server does not offer it (start it with ssl_cert and ssl_key)".into(),
                    });
                }
                caps |= CLIENT_SSL;
                let mut req = Vec::with_capacity(32);
                req.extend_from_slice(&caps.to_le_bytes());
                req.extend_from_slice(&(1u32 << 24).to_le_bytes());
                req.push(CHARSET_UTF8MB4);
                req.extend_from_slice(&[0u8; 23]);
                self.stream
                    .set_timeout(deadline.saturating_duration_since(Instant::now()))
                    .map_err(|e| self.err_io("TLS", e))?;
                write_packet(&mut self.stream, seq, &req).map_err(|e| self.err_io("TLS", e))?;
                seq = seq.wrapping_add(1);
                self.start_tls(cfg.clone(), &host)?;
                true
            }
            (_, None) => true,
            (None, Some(_)) => false,
        };
        let plugin = if hs.auth_plugin.is_empty() {
            "mysql_native_password".to_string()
        } else {
            hs.auth_plugin.clone()
        };
        let pw = login.password.as_bytes();
        let auth = self.auth_data(&plugin, pw, &hs.scramble, secure)?;
        let mut resp = Vec::with_capacity(64 + login.user.len());
        resp.extend_from_slice(&caps.to_le_bytes());
        resp.extend_from_slice(&(1u32 << 24).to_le_bytes());
        resp.push(CHARSET_UTF8MB4);
        resp.extend_from_slice(&[0u8; 23]);
        resp.extend_from_slice(login.user.as_bytes());
        resp.push(0);
        // Length-encoded (CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA): a cleartext password may be
        // longer than 250 bytes.
        match u16::try_from(auth.len()) {
            Ok(n) if n < 251 => resp.push(n as u8),
            Ok(n) => {
                resp.push(0xfc);
                resp.extend_from_slice(&n.to_le_bytes());
            }
            Err(_) => {
                return Err(MysqlError::Auth {
                    target: self.target.clone(),
                    step: "login".into(),
                    message: "the password is longer than 65535 bytes".into(),
                });
            }
        }
        resp.extend_from_slice(&auth);
        resp.extend_from_slice(plugin.as_bytes());
        resp.push(0);
        let step = "login";
        self.stream
            .set_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|e| self.err_io(step, e))?;
        write_packet(&mut self.stream, seq, &resp).map_err(|e| self.err_io(step, e))?;
        seq = seq.wrapping_add(1);
        let mut plugin = plugin;
        // OK, error, a switch to another method, or more data of this one.
        for _ in 0..4 {
            let mut r = PacketReader::new(Deadlined {
                s: &mut self.stream,
                deadline,
            });
            r.seq = seq;
            let p = r.packet();
            seq = r.seq;
            let p = p.map_err(|e| self.read_err(step, e))?;
            match p.first() {
                Some(0x00) => return Ok(()),
                Some(0xff) => {
                    return Err(MysqlError::Auth {
                        target: self.target.clone(),
                        step: step.into(),
                        message: format!("the server refused the login: {}", parse_error(&p)),
                    });
                }
                Some(0xfe) => {
                    let mut c = Cur::new(&p[1..]);
                    plugin = String::from_utf8_lossy(c.nul_str().unwrap_or_default()).into_owned();
                    let data = c.rest();
                    let scramble = data.strip_suffix(&[0]).unwrap_or(data).to_vec();
                    let auth = self.auth_data(&plugin, pw, &scramble, secure)?;
                    write_packet(&mut self.stream, seq, &auth).map_err(|e| self.err_io(step, e))?;
                    seq = seq.wrapping_add(1);
                }
                Some(0x01) if plugin == "caching_sha2_password" => match p.get(1) {
                    Some(3) => {} // fast authentication succeeded: OK follows
                    Some(4) => {
                        if !secure {
                            return Err(MysqlError::Auth {
                                target: self.target.clone(),
                                step: step.into(),
                                message: "caching_sha2_password needs the full exchange, which this agent does over TLS or the unix socket only: set `[inputs.mysql.tls]` or `sock` (or log in once with another client to fill the server's cache)".into(),
                            });
                        }
                        let mut d = pw.to_vec();
                        d.push(0);
                        write_packet(&mut self.stream, seq, &d)
                            .map_err(|e| self.err_io(step, e))?;
                        seq = seq.wrapping_add(1);
                    }
                    _ => {
                        return Err(MysqlError::Protocol {
                            target: self.target.clone(),
                            step: step.into(),
                            cause: ProtocolError::Unexpected(0x01, "in caching_sha2_password"),
                        });
                    }
                },
                other => {
                    return Err(MysqlError::Protocol {
                        target: self.target.clone(),
                        step: step.into(),
                        cause: ProtocolError::Unexpected(
                            other.copied().unwrap_or(0),
                            "in the login exchange",
                        ),
                    });
                }
            }
        }
        Err(MysqlError::Auth {
            target: self.target.clone(),
            step: step.into(),
            message: "the login exchange did not end".into(),
        })
    }

    fn auth_data(
        &self,
        plugin: &str,
        pw: &[u8],
        scramble: &[u8],
        secure: bool,
    ) -> Result<Vec<u8>, MysqlError> {
        match plugin {
            "mysql_native_password" => Ok(native_password(pw, scramble)),
            "caching_sha2_password" => Ok(caching_sha2(pw, scramble)),
            "mysql_clear_password" if secure => {
                let mut d = pw.to_vec();
                d.push(0);
                Ok(d)
            }
            other => Err(MysqlError::Auth {
                target: self.target.clone(),
                step: "login".into(),
                message: format!(
                    "the server asks for the authentication method `{other}`, which this agent does not speak (it speaks mysql_native_password, caching_sha2_password, and mysql_clear_password over TLS or the socket)"
                ),
            }),
        }
    }

    fn start_tls(&mut self, cfg: Arc<rustls::ClientConfig>, host: &str) -> Result<(), MysqlError> {
        let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|e| {
            MysqlError::Auth {
                target: self.target.clone(),
                step: "TLS".into(),
                message: format!("`{host}` is not a valid TLS server name: {e}"),
            }
        })?;
        let conn = rustls::ClientConnection::new(cfg, name).map_err(|e| MysqlError::Auth {
            target: self.target.clone(),
            step: "TLS".into(),
            message: e.to_string(),
        })?;
        let placeholder = Stream::Unix(match UnixStream::pair() {
            Ok((a, _)) => a,
            Err(e) => return Err(self.err_io("TLS", e)),
        });
        let Stream::Tcp(tcp) = std::mem::replace(&mut self.stream, placeholder) else {
            return Err(MysqlError::Auth {
                target: self.target.clone(),
                step: "TLS".into(),
                message: "TLS over a unix socket is not used".into(),
            });
        };
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
                return Err(MysqlError::Auth {
                    target: self.target.clone(),
                    step: "TLS".into(),
                    message: format!("handshake failed: {e}"),
                });
            }
        }
        self.stream = Stream::Tls(Box::new(tls));
        Ok(())
    }

    /// Runs one statement and reads its rows within the timeout.
    pub fn query(&mut self, sql: &str) -> Result<ResultSet, MysqlError> {
        let step = short_sql(sql);
        let deadline = Instant::now() + self.timeout;
        let mut payload = Vec::with_capacity(sql.len() + 1);
        payload.push(0x03);
        payload.extend_from_slice(sql.as_bytes());
        self.stream
            .set_timeout(self.timeout)
            .map_err(|e| self.err_io(&step, e))?;
        write_packet(&mut self.stream, 0, &payload).map_err(|e| self.err_io(&step, e))?;
        // Buffered: a result of many small rows takes a few reads, not two per row.
        let mut r = PacketReader::new(std::io::BufReader::with_capacity(
            16 * 1024,
            Deadlined {
                s: &mut self.stream,
                deadline,
            },
        ));
        r.seq = 1;
        let res = read_result(&mut r);
        res.map_err(|e| self.read_err(&step, e))
    }

    /// Says goodbye (`COM_QUIT`), ignoring failures.
    pub fn quit(mut self) {
        let _ = self.stream.set_timeout(Duration::from_millis(200));
        let _ = write_packet(&mut self.stream, 0, &[0x01]);
    }
}

fn io_error(target: &str, step: &str, timeout: Duration, e: std::io::Error) -> MysqlError {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::TimedOut | K::WouldBlock => MysqlError::Timeout {
            target: target.to_string(),
            step: step.to_string(),
            timeout,
        },
        K::UnexpectedEof | K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted => {
            MysqlError::Closed {
                target: target.to_string(),
                step: step.to_string(),
            }
        }
        _ => MysqlError::Io {
            target: target.to_string(),
            step: step.to_string(),
            cause: e,
        },
    }
}

/// How an error names a statement: its first words.
pub fn short_sql(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(6).collect();
    let mut s = words.join(" ");
    if sql.split_whitespace().count() > 6 {
        s.push_str(" ...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        write_packet(&mut v, seq, payload).unwrap();
        v
    }

    fn lenenc_str(s: &[u8]) -> Vec<u8> {
        let mut v = vec![s.len() as u8];
        v.extend_from_slice(s);
        v
    }

    fn column(name: &str) -> Vec<u8> {
        let mut v = Vec::new();
        for s in ["def", "", "", ""] {
            v.extend(lenenc_str(s.as_bytes()));
        }
        v.extend(lenenc_str(name.as_bytes()));
        v.extend(lenenc_str(name.as_bytes()));
        v.extend_from_slice(&[0x0c, 45, 0, 0, 0, 0, 0, 253, 0, 0, 0, 0, 0]);
        v
    }

    #[test]
    fn a_result_set_is_read() {
        let mut bytes = packet(1, &[2]);
        bytes.extend(packet(2, &column("Variable_name")));
        bytes.extend(packet(3, &column("Value")));
        bytes.extend(packet(4, &[0xfe, 0, 0, 2, 0]));
        let mut row = lenenc_str(b"Uptime");
        row.extend(lenenc_str(b"42"));
        bytes.extend(packet(5, &row));
        bytes.extend(packet(6, &[1, 0x05, 0xfb]));
        bytes.extend(packet(7, &[0xfe, 0, 0, 2, 0]));
        let mut r = PacketReader::new(&bytes[..]);
        r.seq = 1;
        let rs = read_result(&mut r).unwrap();
        assert_eq!(rs.columns, ["Variable_name", "Value"]);
        assert_eq!(
            rs.rows,
            [
                vec![Some("Uptime".to_string()), Some("42".to_string())],
                vec![Some("\u{5}".to_string()), None],
            ]
        );
    }

    #[test]
    fn errors_and_broken_answers_are_errors() {
        let mut err = vec![0xff, 0x15, 0x04, b'#'];
        err.extend_from_slice(b"28000Access denied");
        let bytes = packet(1, &err);
        let mut r = PacketReader::new(&bytes[..]);
        r.seq = 1;
        match read_result(&mut r) {
            Err(ReadError::Server(e)) => {
                assert_eq!(e.to_string(), "error 1045 (28000): Access denied")
            }
            other => panic!("{other:?}"),
        }
        // Out of order.
        let bytes = packet(3, &[0]);
        let mut r = PacketReader::new(&bytes[..]);
        r.seq = 1;
        assert!(matches!(
            read_result(&mut r),
            Err(ReadError::Protocol(ProtocolError::Sequence {
                got: 3,
                want: 1
            }))
        ));
        // A row wider than its columns.
        let mut bytes = packet(1, &[1]);
        bytes.extend(packet(2, &column("a")));
        bytes.extend(packet(3, &[0xfe, 0, 0, 2, 0]));
        bytes.extend(packet(4, &[1, b'x', 1, b'y']));
        let mut r = PacketReader::new(&bytes[..]);
        r.seq = 1;
        assert!(matches!(
            read_result(&mut r),
            Err(ReadError::Protocol(ProtocolError::RowWidth {
                got: 2,
                want: 1
            }))
        ));
        // A string longer than its packet.
        let mut bytes = packet(1, &[1]);
        bytes.extend(packet(2, &[9, b'x']));
        let mut r = PacketReader::new(&bytes[..]);
        r.seq = 1;
        assert!(matches!(
            read_result(&mut r),
            Err(ReadError::Protocol(ProtocolError::Short { at: 1 }))
        ));
    }

    #[test]
    fn a_greeting_is_parsed() {
        let mut p = vec![10];
        p.extend_from_slice(b"10.11.6-MariaDB\0");
        p.extend_from_slice(&7u32.to_le_bytes());
        p.extend_from_slice(b"abcdefgh\0");
        p.extend_from_slice(&0xf7feu16.to_le_bytes());
        p.push(45);
        p.extend_from_slice(&2u16.to_le_bytes());
        p.extend_from_slice(&0x81bfu16.to_le_bytes());
        p.push(21);
        p.extend_from_slice(&[0; 10]);
        p.extend_from_slice(b"ijklmnopqrst\0");
        p.extend_from_slice(b"mysql_native_password\0");
        let h = Handshake::parse(&p).unwrap();
        assert_eq!(h.server_version, "10.11.6-MariaDB");
        assert_eq!(h.connection_id, 7);
        assert_eq!(h.scramble, b"abcdefghijklmnopqrst");
        assert_eq!(h.auth_plugin, "mysql_native_password");
        assert!(h.capabilities & CLIENT_PLUGIN_AUTH != 0);
        assert_eq!(Handshake::parse(&[9]), Err(ProtocolError::Version(9)));
        assert_eq!(
            Handshake::parse(&[10, b'x']),
            Err(ProtocolError::Unterminated { at: 1 })
        );
    }

    #[test]
    fn scrambles() {
        // Known answers, computed with Python's hashlib from the formulas; MariaDB checks the
        // native one in the integration tests.
        let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let scramble = b"01234567890123456789";
        assert!(native_password(b"", scramble).is_empty());
        assert_eq!(
            hex(native_password(b"pw", scramble)),
            "9bf5a4e0c440182fc8fb2d90ad2a095b7a0945f3"
        );
        assert_eq!(
            hex(caching_sha2(b"pw", scramble)),
            "63eb551e746feb809f369c8b8cea9d6ee9136a054bfebd8eb4bcd1665d3e95ff"
        );
    }

    #[test]
    fn statements_are_named_by_their_first_words() {
        assert_eq!(short_sql("SHOW GLOBAL STATUS"), "SHOW GLOBAL STATUS");
        assert_eq!(
            short_sql("SELECT a, b, c FROM t WHERE x = 1"),
            "SELECT a, b, c FROM t ..."
        );
    }
}
