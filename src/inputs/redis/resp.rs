//! A small blocking RESP2 client: what the `redis` input needs (commands out, replies in),
//! with a deadline on every call, over TCP or a unix socket.
//!
//! The reply parser ([`parse`]) works on a buffer and says when it needs more bytes; it bounds
//! what a server can make it allocate (bulk strings, array lengths, nesting), so a broken or
//! hostile server gives an error, never a panic or an unbounded allocation.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// The largest bulk string accepted (`CLIENT LIST` of many clients is the biggest reply the
/// input asks for).
pub const MAX_BULK: usize = 64 << 20;
/// The most elements of one array.
pub const MAX_ARRAY: usize = 1 << 20;
/// The deepest nesting of arrays.
pub const MAX_DEPTH: usize = 8;

/// A reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Simple(String),
    /// An error reply (`-ERR ...`).
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The text of a simple or bulk string.
    pub fn text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// Why a reply could not be parsed, with the byte offset where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("byte {at}: unknown reply type {byte:#04x}")]
    Type { at: usize, byte: u8 },
    #[error("byte {at}: bad length or integer `{text}`")]
    Number { at: usize, text: String },
    #[error("byte {at}: bulk string of {len} bytes is over the limit of {MAX_BULK}")]
    BulkTooLarge { at: usize, len: i64 },
    #[error("byte {at}: array of {len} elements is over the limit of {MAX_ARRAY}")]
    ArrayTooLarge { at: usize, len: i64 },
    #[error("byte {at}: arrays nested deeper than {MAX_DEPTH}")]
    TooDeep { at: usize },
    #[error("byte {at}: bulk string not followed by CRLF")]
    MissingCrlf { at: usize },
}

/// Parses one reply at the start of `buf`: the reply and the bytes it took, `None` when `buf`
/// ends before the reply does.
pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, ProtocolError> {
    parse_at(buf, 0, 0)
}

fn line(buf: &[u8], from: usize) -> Option<(&[u8], usize)> {
    let rest = buf.get(from..)?;
    let i = memchr::memmem::find(rest, b"\r\n")?;
    Some((&rest[..i], from + i + 2))
}

fn number(text: &[u8], at: usize) -> Result<i64, ProtocolError> {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| ProtocolError::Number {
            at,
            text: String::from_utf8_lossy(&text[..text.len().min(32)]).into_owned(),
        })
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, ProtocolError> {
    let Some(&kind) = buf.get(at) else {
        return Ok(None);
    };
    let Some((head, next)) = line(buf, at + 1) else {
        return Ok(None);
    };
    let text = || String::from_utf8_lossy(head).into_owned();
    match kind {
        b'+' => Ok(Some((Reply::Simple(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Int(number(head, at + 1)?), next))),
        b'$' => {
            let len = number(head, at + 1)?;
            if len < 0 {
                return Ok(Some((Reply::Bulk(None), next)));
            }
            let n = usize::try_from(len)
                .ok()
                .filter(|n| *n <= MAX_BULK)
                .ok_or(ProtocolError::BulkTooLarge { at, len })?;
            let end = next + n;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(ProtocolError::MissingCrlf { at: end });
            }
            Ok(Some((Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)))
        }
        b'*' => {
            let len = number(head, at + 1)?;
            if len < 0 {
                return Ok(Some((Reply::Array(None), next)));
            }
            if depth >= MAX_DEPTH {
                return Err(ProtocolError::TooDeep { at });
            }
            let n = usize::try_from(len)
                .ok()
                .filter(|n| *n <= MAX_ARRAY)
                .ok_or(ProtocolError::ArrayTooLarge { at, len })?;
            // Every element takes at least 3 bytes: do not reserve for what is not there yet.
            let mut items = Vec::with_capacity(n.min(buf.len().saturating_sub(next) / 3));
            let mut pos = next;
            for _ in 0..n {
                match parse_at(buf, pos, depth + 1)? {
                    Some((r, p)) => {
                        items.push(r);
                        pos = p;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Reply::Array(Some(items)), pos)))
        }
        byte => Err(ProtocolError::Type { at, byte }),
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum RespError {
    #[error("connecting to {target}: {cause}")]
    Connect {
        target: String,
        cause: std::io::Error,
    },
    #[error("{target}: {command}: {cause}")]
    Io {
        target: String,
        command: &'static str,
        cause: std::io::Error,
    },
    #[error("{target}: {command}: no answer within {timeout:?}")]
    Timeout {
        target: String,
        command: &'static str,
        timeout: Duration,
    },
    #[error("{target}: {command}: the server closed the connection")]
    Closed {
        target: String,
        command: &'static str,
    },
    #[error("{target}: {command}: {cause}")]
    Protocol {
        target: String,
        command: &'static str,
        cause: ProtocolError,
    },
    /// The server answered with an error reply: the connection is still good.
    #[error("{target}: {command}: the server answered `{message}`")]
    Server {
        target: String,
        command: &'static str,
        message: String,
    },
}

impl RespError {
    /// Whether the connection must be dropped (anything but an error reply).
    pub fn breaks_connection(&self) -> bool {
        !matches!(self, RespError::Server { .. })
    }
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `host:port`.
    Tcp(String),
    /// A unix socket path.
    Unix(String),
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn set_timeouts(&self, t: Duration) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
            Stream::Unix(s) => {
                s.set_read_timeout(Some(t))?;
                s.set_write_timeout(Some(t))
            }
        }
    }
}

impl Read for Stream {
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(b),
            Stream::Unix(s) => s.read(b),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(b),
            Stream::Unix(s) => s.write(b),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One connection.
pub struct Conn {
    stream: Stream,
    /// How the target is shown in errors (credentials masked).
    target: String,
    buf: Vec<u8>,
    out: Vec<u8>,
    timeout: Duration,
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

impl Conn {
    /// Connects within `timeout`; every later call gets `timeout` too.
    pub fn connect(
        endpoint: &Endpoint,
        target: &str,
        timeout: Duration,
    ) -> Result<Conn, RespError> {
        let err = |cause| RespError::Connect {
            target: target.to_string(),
            cause,
        };
        let stream = match endpoint {
            Endpoint::Unix(path) => Stream::Unix(UnixStream::connect(path).map_err(err)?),
            Endpoint::Tcp(addr) => {
                let mut last = None;
                let mut found = None;
                for a in addr.to_socket_addrs().map_err(err)? {
                    match TcpStream::connect_timeout(&a, timeout) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let s = found.ok_or_else(|| {
                    err(last.unwrap_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                    }))
                })?;
                let _ = s.set_nodelay(true);
                Stream::Tcp(s)
            }
        };
        stream.set_timeouts(timeout).map_err(err)?;
        Ok(Conn {
            stream,
            target: target.to_string(),
            buf: Vec::with_capacity(4096),
            out: Vec::with_capacity(256),
            timeout,
        })
    }

    /// Sends `args` as one command and reads its reply. `name` is how errors call it (the
    /// arguments may hold a password). An error reply is [`RespError::Server`].
    pub fn call(&mut self, name: &'static str, args: &[&[u8]]) -> Result<Reply, RespError> {
        self.out.clear();
        self.out.push(b'*');
        self.out
            .extend_from_slice(itoa::Buffer::new().format(args.len()).as_bytes());
        self.out.extend_from_slice(b"\r\n");
        for a in args {
            self.out.push(b'$');
            self.out
                .extend_from_slice(itoa::Buffer::new().format(a.len()).as_bytes());
            self.out.extend_from_slice(b"\r\n");
            self.out.extend_from_slice(a);
            self.out.extend_from_slice(b"\r\n");
        }
        let io_err = |target: &str, cause: std::io::Error, timeout| {
            if is_timeout(&cause) {
                RespError::Timeout {
                    target: target.to_string(),
                    command: name,
                    timeout,
                }
            } else {
                RespError::Io {
                    target: target.to_string(),
                    command: name,
                    cause,
                }
            }
        };
        let deadline = Instant::now() + self.timeout;
        if let Err(e) = self.stream.write_all(&self.out) {
            return Err(io_err(&self.target, e, self.timeout));
        }
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match parse(&self.buf) {
                Ok(Some((reply, _))) => {
                    // Keep the buffer's memory bounded by the usual reply.
                    if self.buf.capacity() > 1 << 20 {
                        self.buf = Vec::with_capacity(4096);
                    }
                    return match reply {
                        Reply::Error(message) => Err(RespError::Server {
                            target: self.target.clone(),
                            command: name,
                            message,
                        }),
                        r => Ok(r),
                    };
                }
                Ok(None) => {}
                Err(cause) => {
                    return Err(RespError::Protocol {
                        target: self.target.clone(),
                        command: name,
                        cause,
                    });
                }
            }
            // The whole reply, not each read, is bounded by the timeout.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io_err(
                    &self.target,
                    std::io::ErrorKind::TimedOut.into(),
                    self.timeout,
                ));
            }
            if let Err(e) = self.stream.set_timeouts(left) {
                return Err(io_err(&self.target, e, self.timeout));
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(RespError::Closed {
                        target: self.target.clone(),
                        command: name,
                    });
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(&self.target, e, self.timeout)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_parse_and_say_when_incomplete() {
        let full = b"*3\r\n:1\r\n$3\r\nabc\r\n*2\r\n+OK\r\n$-1\r\n";
        let (r, n) = parse(full).unwrap().unwrap();
        assert_eq!(n, full.len());
        assert_eq!(
            r,
            Reply::Array(Some(vec![
                Reply::Int(1),
                Reply::Bulk(Some(b"abc".to_vec())),
                Reply::Array(Some(vec![Reply::Simple("OK".into()), Reply::Bulk(None)])),
            ]))
        );
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert_eq!(
            parse(b"-ERR wrong\r\n").unwrap().unwrap().0,
            Reply::Error("ERR wrong".into())
        );
    }

    #[test]
    fn bad_replies_are_errors_with_their_offset() {
        assert_eq!(
            parse(b"?x\r\n"),
            Err(ProtocolError::Type { at: 0, byte: b'?' })
        );
        assert!(matches!(
            parse(b"*1\r\n:12a\r\n"),
            Err(ProtocolError::Number { at: 5, .. })
        ));
        assert!(matches!(
            parse(b"$99999999999\r\n"),
            Err(ProtocolError::BulkTooLarge { .. })
        ));
        assert!(matches!(
            parse(b"*99999999999\r\n"),
            Err(ProtocolError::ArrayTooLarge { .. })
        ));
        assert_eq!(
            parse(b"$1\r\nab\r\n"),
            Err(ProtocolError::MissingCrlf { at: 5 })
        );
        let deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse(&deep), Err(ProtocolError::TooDeep { .. })));
    }
}
