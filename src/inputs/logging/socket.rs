//! Lines from sockets (`sockets = ["tcp://0.0.0.0:9540", "udp://0.0.0.0:9541"]`): each line
//! of a TCP connection, or of a UDP datagram, is a record. TCP connections are read only as
//! fast as IO takes the points (backpressure reaches the sender through TCP flow control).

use std::sync::Arc;

use tokio::io::AsyncBufReadExt;

use super::Shared;
use crate::inputs::InputCtx;
use crate::point::{Category, Point};

/// A line longer than this is cut into records of this size.
const MAX_LINE: usize = 512 * 1024;
/// Lines fed together.
const BATCH: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

/// One `sockets` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub proto: Proto,
    pub addr: String,
}

/// `tcp://host:port`, `udp://host:port`, or `host:port` (TCP).
pub fn parse(s: &str) -> Result<Listen, String> {
    let (proto, addr) = match s.split_once("://") {
        Some(("tcp" | "tcp4" | "tcp6", a)) => (Proto::Tcp, a),
        Some(("udp" | "udp4" | "udp6", a)) => (Proto::Udp, a),
        Some((other, _)) => {
            return Err(format!(
                "unknown scheme `{other}` in `{s}`; use tcp:// or udp://"
            ));
        }
        None => (Proto::Tcp, s),
    };
    let port = addr
        .rsplit_once(':')
        .map(|(_, p)| p)
        .ok_or_else(|| format!("`{s}` has no port; write host:port"))?;
    port.parse::<u16>()
        .map_err(|_| format!("invalid port `{port}` in `{s}`"))?;
    Ok(Listen {
        proto,
        addr: addr.to_string(),
    })
}

async fn feed(shared: &Shared, ctx: &InputCtx, lines: Vec<String>) -> bool {
    let now = crate::clock::now_ns();
    let n = lines.len() as i64;
    let points: Vec<Point> = lines
        .into_iter()
        .enumerate()
        .map(|(i, l)| shared.point(l, None, 0, now - (n - i as i64) * 1000))
        .collect();
    ctx.ingest
        .feed(
            &ctx.origin,
            Category::Logging,
            points,
            &shared.feed_options(),
        )
        .await
        .is_ok()
}

/// Blank lines (nothing left after trimming) make no point; they are counted as dropped
/// (reason `empty`).
fn count_blank(ctx: &InputCtx, n: usize) {
    ctx.ingest.empty(&ctx.origin, Category::Logging, n);
}

/// Listens until the input stops.
pub(crate) async fn serve(l: Listen, shared: Arc<Shared>, ctx: InputCtx) {
    match l.proto {
        Proto::Tcp => {
            let listener = match tokio::net::TcpListener::bind(&l.addr).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(addr = %l.addr, error = %e, "logging: cannot listen on TCP");
                    ctx.stats
                        .record_error(format!("cannot listen on tcp://{}: {e}", l.addr));
                    return;
                }
            };
            loop {
                let Ok((conn, _)) = listener.accept().await else {
                    continue;
                };
                let (shared, ctx) = (shared.clone(), ctx.clone());
                tokio::spawn(async move { tcp_conn(conn, &shared, &ctx).await });
            }
        }
        Proto::Udp => {
            let sock = match tokio::net::UdpSocket::bind(&l.addr).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(addr = %l.addr, error = %e, "logging: cannot listen on UDP");
                    ctx.stats
                        .record_error(format!("cannot listen on udp://{}: {e}", l.addr));
                    return;
                }
            };
            let mut buf = vec![0u8; 65536];
            loop {
                let Ok((n, _)) = sock.recv_from(&mut buf).await else {
                    continue;
                };
                // A datagram's final line break ends its last line; it starts none.
                let data = buf[..n].strip_suffix(b"\n").unwrap_or(&buf[..n]);
                let mut lines: Vec<String> = data
                    .split(|b| *b == b'\n')
                    .map(|l| shared.text(l))
                    .collect();
                let before = lines.len();
                lines.retain(|t| !t.is_empty());
                count_blank(&ctx, before - lines.len());
                if !lines.is_empty() && !feed(&shared, &ctx, lines).await {
                    return;
                }
            }
        }
    }
}

async fn tcp_conn(conn: tokio::net::TcpStream, shared: &Shared, ctx: &InputCtx) {
    let mut r = tokio::io::BufReader::with_capacity(64 * 1024, conn);
    let mut line = Vec::new();
    let mut lines = Vec::new();
    let mut sd = ctx.shutdown.clone();
    loop {
        line.clear();
        let got = tokio::select! {
            r = read_line(&mut r, &mut line) => r,
            _ = sd.wait() => return,
        };
        let eof = !matches!(got, Ok(n) if n > 0);
        if !eof {
            let t = shared.text(&line);
            if t.is_empty() {
                count_blank(ctx, 1);
            } else {
                lines.push(t);
            }
        }
        if !lines.is_empty()
            && (eof || lines.len() >= BATCH || r.buffer().is_empty())
            && !feed(shared, ctx, std::mem::take(&mut lines)).await
        {
            return;
        }
        if eof {
            return;
        }
    }
}

/// Reads up to and without a `\n`, at most [`MAX_LINE`] bytes; the bytes consumed.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    out: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let room = MAX_LINE - out.len();
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(i) if i <= room => (i + 1, true),
            _ if buf.len() >= room => (room, true),
            _ => (buf.len(), false),
        };
        out.extend_from_slice(&buf[..take]);
        if out.last() == Some(&b'\n') {
            out.pop();
        }
        r.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_parse() {
        assert_eq!(
            parse("tcp://0.0.0.0:9540").unwrap(),
            Listen {
                proto: Proto::Tcp,
                addr: "0.0.0.0:9540".into()
            }
        );
        assert_eq!(parse("udp://[::1]:9541").unwrap().proto, Proto::Udp);
        assert_eq!(parse("localhost:9540").unwrap().proto, Proto::Tcp);
        assert!(parse("http://x:1").is_err());
        assert!(parse("tcp://x").is_err());
        assert!(parse("tcp://x:99999").is_err());
    }
}
