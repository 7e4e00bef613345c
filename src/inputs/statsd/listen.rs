//! The sockets: UDP (`service_address`, default `:8125`), a Unix datagram socket
//! (`service_unix_address`), and TCP (`protocol = "tcp"`).
//!
//! Datagrams are read as soon as the socket is readable, until it is empty, into chunks of
//! whole lines (a datagram's end ends its last line) of up to [`CHUNK_BYTES`]; each chunk goes
//! to the parser through the bounded queue (`allowed_pending_messages` chunks). Under light
//! load a chunk is one datagram, as in the original; under load it holds many, and while the
//! parser is behind a chunk grows to 64 KiB before it is queued ([`HOLD_RETRY`]), so the
//! queue holds far more lines than datagrams. A full queue drops the chunk, counted by its lines
//! (`queue_full`). A datagram longer than [`MAX_DATAGRAM`] (only a Unix datagram can be) is
//! dropped whole (`too_large`). TCP connections are read only as fast as the parser takes
//! their lines (the queue pushes back through TCP flow control).
//!
//! Each chunk says where its bytes came from ([`Origin`]), so a bad line is reported with its
//! sender, its line and its byte offset in the datagram (or the TCP stream).
//!
//! The UDP and Unix sockets get the receive buffer `read_buffer_size` asks for
//! (`SO_RCVBUFFORCE` when the agent may, else `SO_RCVBUF`, which `net.core.rmem_max` caps): what
//! the kernel granted is reported, and so is the kernel's own count of datagrams it dropped
//! because that buffer was full (`SO_MEMINFO`).
//!
//! `:port` listens on every address: one IPv6 socket that also takes IPv4 (`IPV6_V6ONLY` off,
//! whatever the system's default), or an IPv4 one on a host without IPv6.
//!
//! A socket that cannot be bound (the port is taken) is retried every 5 s, then less often (at
//! most every minute); the first failure, and each new reason, is an error of the input: the
//! agent and the other sockets carry on.

use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustix::net::{AddressFamily, RecvFlags, SocketFlags, SocketType};
use tokio::io::{AsyncReadExt, Interest};
use tokio::sync::mpsc;

use crate::point::Category;
use crate::shutdown::Shutdown;
use crate::stats::{DropReason, InputStats, PointsDropped, ReceiverCounters, Stats};

/// The largest datagram read whole (the original's buffer); a longer one is dropped.
pub const MAX_DATAGRAM: usize = 64 * 1024;
/// A chunk is sent once it holds this much (or the socket is empty).
pub const CHUNK_BYTES: usize = 64 * 1024;
/// While the parser is behind (less than half the queue free), the datagram reader holds its
/// chunk and lets it grow to [`CHUNK_BYTES`] before queuing it, so that the queue then holds
/// up to `allowed_pending_messages` × 64 KiB instead as many small chunks; a held chunk is
/// offered again after this long without new datagrams.
const HOLD_RETRY: Duration = Duration::from_millis(5);
/// The longest TCP line.
pub const MAX_TCP_LINE: usize = 64 * 1024;
const RETRY_FIRST: Duration = Duration::from_secs(5);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// The receiver counters, in the order `monitor` shows them.
pub const COUNTERS: &[&str] = &[
    "datagrams",
    "tcp_connections",
    "bytes",
    "lines",
    "series",
    "kernel_drops",
    "rcvbuf_bytes",
];
pub const C_DATAGRAMS: usize = 0;
pub const C_TCP: usize = 1;
pub const C_BYTES: usize = 2;
pub const C_LINES: usize = 3;
pub const C_SERIES: usize = 4;
pub const C_KERNEL_DROPS: usize = 5;
pub const C_RCVBUF: usize = 6;

/// Where the bytes of a chunk came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Datagrams: where each ends in the chunk (after the `\n` added to it), with its sender
    /// (none for a Unix datagram).
    Datagrams {
        transport: &'static str,
        ends: Vec<(usize, Option<SocketAddr>)>,
    },
    /// Whole lines of a TCP connection: the number of the chunk's first line in the stream
    /// (from 1) and the offset of its first byte.
    Stream {
        peer: SocketAddr,
        first_line: u64,
        offset: u64,
    },
}

/// Whole lines for the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub origin: Origin,
}

impl Chunk {
    /// Where byte `at` of the line starting at `line_start` is, in words: "datagram from
    /// 127.0.0.1:5000 (31 bytes), line 2, byte 17".
    pub fn locate(&self, line_start: usize, at: usize) -> String {
        let newlines = |a: usize, b: usize| {
            self.data
                .get(a..b)
                .map_or(0, |s| memchr::memchr_iter(b'\n', s).count())
        };
        match &self.origin {
            Origin::Datagrams { transport, ends } => {
                let k = ends.partition_point(|(end, _)| *end <= line_start);
                let start = if k == 0 { 0 } else { ends[k - 1].0 };
                let (end, peer) = ends.get(k).copied().unwrap_or((self.data.len(), None));
                let from = peer.map_or_else(String::new, |p| format!(" from {p}"));
                format!(
                    "{transport} datagram{from} ({} bytes), line {}, byte {}",
                    end.saturating_sub(start + 1),
                    newlines(start, line_start) + 1,
                    at - start
                )
            }
            Origin::Stream {
                peer,
                first_line,
                offset,
            } => format!(
                "TCP connection from {peer}, line {}, byte {} of the stream",
                first_line + newlines(0, line_start) as u64,
                offset + at as u64
            ),
        }
    }
}

/// A socket whose kernel drop count is read at each flush.
#[derive(Debug, Clone)]
pub enum Watched {
    Udp(Arc<tokio::net::UdpSocket>),
    Unix(Arc<tokio::net::UnixDatagram>),
}

impl Watched {
    fn drops(&self) -> Option<u64> {
        match self {
            Watched::Udp(s) => kernel_drops(s.as_ref()),
            Watched::Unix(s) => kernel_drops(s.as_ref()),
        }
    }
}

/// How the parts of an instance report: its counters, its errors, its drops.
#[derive(Clone)]
pub struct Reporter {
    pub counters: Arc<ReceiverCounters>,
    pub stats: Arc<InputStats>,
    pub agent_stats: Arc<Stats>,
    pub name: &'static str,
}

impl Reporter {
    /// An error of the input: logged, and the input's last error.
    pub fn error(&self, msg: String) {
        tracing::warn!(input = self.name, "{msg}");
        self.last_error(msg);
    }

    /// The input's last error, not logged (what the drop event logs already, at its pace).
    pub fn last_error(&self, msg: String) {
        self.stats.record_error(msg.clone());
        self.agent_stats.record_error(self.name, msg);
    }

    /// The one drop event, for `n` metric lines of this input.
    pub fn dropped(&self, reason: DropReason, n: u64, detail: &str) {
        if n > 0 {
            self.agent_stats.points_dropped(PointsDropped {
                category: Category::Metric,
                reason,
                count: n,
                origin: self.stats.as_ref(),
                detail: Some(detail),
            });
        }
    }
}

/// The datagram sockets of an instance, whose kernel drop counts are read at each report;
/// with the drops of those closed.
#[derive(Debug, Default)]
pub struct Sockets {
    watched: Mutex<Vec<Watched>>,
    closed_drops: AtomicU64,
}

impl Sockets {
    /// The kernel's drops of every socket, open and closed.
    pub fn kernel_drops(&self) -> u64 {
        let open: u64 = lock(&self.watched).iter().filter_map(Watched::drops).sum();
        open + self.closed_drops.load(Relaxed)
    }

    fn watch(&self, w: Watched) {
        lock(&self.watched).push(w);
    }

    fn unwatch(&self, is: impl Fn(&Watched) -> bool) {
        let mut v = lock(&self.watched);
        if let Some(i) = v.iter().position(is) {
            let w = v.remove(i);
            self.closed_drops.fetch_add(w.drops().unwrap_or(0), Relaxed);
        }
    }
}

/// What the listeners of one instance share. The parser ends once every listener has let go
/// of its queue.
pub struct Shared {
    pub queue: mpsc::Sender<Chunk>,
    pub report: Reporter,
    pub allowed_pending: usize,
    pub read_buffer: usize,
    pub sockets: Arc<Sockets>,
}

impl Shared {
    /// Whether at least half the queue is free (the parser keeps up).
    pub(crate) fn has_room(&self) -> bool {
        self.queue.capacity() * 2 >= self.allowed_pending
    }

    /// Hands a chunk to the parser, or drops it (counted by its lines) when the queue is
    /// full. False once the parser is gone.
    pub(crate) fn offer(&self, chunk: Chunk) -> bool {
        match self.queue.try_send(chunk) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(c)) => {
                self.report.dropped(
                    DropReason::QueueFull,
                    count_lines(&c.data),
                    &format!(
                        "the queue of {} chunks to the parser is full (allowed_pending_messages)",
                        self.allowed_pending
                    ),
                );
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Non-blank lines of a chunk.
pub fn count_lines(chunk: &[u8]) -> u64 {
    chunk
        .split(|b| *b == b'\n')
        .filter(|l| l.iter().any(|b| !b.is_ascii_whitespace()))
        .count() as u64
}

/// `SO_MEMINFO` (the asm-generic value, the same on x86 and arm).
const SO_MEMINFO: libc::c_int = 55;

/// The kernel's count of datagrams dropped at this socket (`SK_MEMINFO_DROPS`), when the
/// kernel reports it.
pub fn kernel_drops(s: &impl AsRawFd) -> Option<u64> {
    let mut info = [0u32; 16];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the buffer and its length are valid for the call; the kernel writes at most
    // `len` bytes and sets `len` to what it wrote.
    let r = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let idx = libc::SK_MEMINFO_DROPS as usize;
    (r == 0 && len as usize >= (idx + 1) * 4).then(|| u64::from(info[idx]))
}

/// Sets the receive buffer to `bytes` (forced past `net.core.rmem_max` when allowed); the size
/// the kernel granted (it doubles what is asked, for its bookkeeping).
pub fn set_receive_buffer(fd: impl AsFd, bytes: usize) -> std::io::Result<usize> {
    let fd = fd.as_fd();
    if bytes > 0 && rustix::net::sockopt::set_socket_recv_buffer_size_force(fd, bytes).is_err() {
        rustix::net::sockopt::set_socket_recv_buffer_size(fd, bytes)?;
    }
    Ok(rustix::net::sockopt::socket_recv_buffer_size(fd)?)
}

/// The addresses to try for `service_address` (`:8125` is every address: IPv6 with IPv4
/// when the host has IPv6, else IPv4) under `protocol` (`udp`, `udp4`, `udp6`, `tcp`, ...).
pub async fn addresses(service_address: &str, protocol: &str) -> Result<Vec<SocketAddr>, String> {
    let family = protocol.chars().last().filter(|c| *c == '4' || *c == '6');
    let (host, port) = service_address
        .rsplit_once(':')
        .ok_or_else(|| format!("`{service_address}` has no port; write host:port or :port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("invalid port `{port}` in `{service_address}`"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let mut addrs: Vec<SocketAddr> = if host.is_empty() {
        vec![
            SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, port)),
            SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, port)),
        ]
    } else {
        tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
            .collect()
    };
    addrs.retain(|a| match family {
        Some('4') => a.is_ipv4(),
        Some('6') => a.is_ipv6(),
        _ => true,
    });
    if addrs.is_empty() {
        return Err(format!("`{service_address}` has no {protocol} address"));
    }
    Ok(addrs)
}

/// A bound socket of `kind` on `addr`: non-blocking, close-on-exec; an unspecified IPv6
/// address takes IPv4 too unless `v6_only`.
fn bound(addr: SocketAddr, kind: SocketType, v6_only: bool) -> std::io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let fd = rustix::net::socket_with(
        family,
        kind,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    if addr.is_ipv6() {
        rustix::net::sockopt::set_ipv6_v6only(&fd, v6_only)?;
    }
    if kind == SocketType::STREAM {
        rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    }
    rustix::net::bind(&fd, &addr)?;
    Ok(fd)
}

/// Binds the first of `addrs` that works.
fn bind_first<T>(
    addrs: &[SocketAddr],
    protocol: &str,
    make: impl Fn(SocketAddr, bool) -> std::io::Result<T>,
) -> Result<T, String> {
    let v6_only = protocol.ends_with('6');
    let mut last = String::new();
    for &a in addrs {
        match make(a, v6_only) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("{a}: {e}"),
        }
    }
    Err(last)
}

/// Waits `d`, or until shutdown (false).
async fn pause(d: Duration, shutdown: &mut Shutdown) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => true,
        _ = shutdown.wait() => false,
    }
}

/// Binds with `bind` until it works (retrying with a growing pause) or the input stops. The
/// first failure, and a failure for a new reason, is an error of the input; the same failure
/// again is logged at debug level.
async fn bind_retrying<T, F, Fut>(
    shared: &Shared,
    what: &str,
    shutdown: &mut Shutdown,
    mut bind: F,
) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    let mut wait = RETRY_FIRST;
    let mut last: Option<String> = None;
    loop {
        match bind().await {
            Ok(x) => {
                if last.is_some() {
                    tracing::info!(input = shared.report.name, "listening on {what} now");
                }
                return Some(x);
            }
            Err(e) => {
                if last.as_deref() == Some(e.as_str()) {
                    tracing::debug!(input = shared.report.name, "cannot listen on {what}: {e}");
                } else {
                    shared.report.error(format!(
                        "cannot listen on {what}: {e}; retrying every {}s to {}s",
                        RETRY_FIRST.as_secs(),
                        RETRY_MAX.as_secs()
                    ));
                }
                last = Some(e);
                if !pause(wait, shutdown).await {
                    return None;
                }
                wait = (wait * 2).min(RETRY_MAX);
            }
        }
    }
}

/// The UDP listener, until the input stops.
pub async fn udp(
    shared: Arc<Shared>,
    service_address: String,
    protocol: String,
    mut shutdown: Shutdown,
) {
    let what = format!("{protocol}://{service_address}");
    let bind = || async {
        let addrs = addresses(&service_address, &protocol).await?;
        bind_first(&addrs, &protocol, |a, v6_only| {
            let fd = bound(a, SocketType::DGRAM, v6_only)?;
            tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(fd))
        })
    };
    let Some(sock) = bind_retrying(&shared, &what, &mut shutdown, bind).await else {
        return;
    };
    let local = sock
        .local_addr()
        .map_or_else(|_| what.clone(), |a| a.to_string());
    report_buffer(&shared, &sock, &what);
    let sock = Arc::new(sock);
    shared.sockets.watch(Watched::Udp(sock.clone()));
    tracing::info!(input = shared.report.name, "listening on udp {local}");
    datagrams(
        &shared,
        "UDP",
        &mut shutdown,
        || sock.readable(),
        |buf| sock.try_io(Interest::READABLE, || recv_from(sock.as_fd(), buf)),
    )
    .await;
    shared
        .sockets
        .unwatch(|w| matches!(w, Watched::Udp(s) if Arc::ptr_eq(s, &sock)));
}

/// The Unix datagram listener, until the input stops. An existing socket file at `path` is
/// replaced (as the original does); the file is removed when the input stops.
pub async fn unixgram(shared: Arc<Shared>, path: PathBuf, mut shutdown: Shutdown) {
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    let what = format!("unixgram://{}", path.display());
    let bind = || async {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        if let Ok(m) = std::fs::symlink_metadata(&path) {
            if !m.file_type().is_socket() {
                return Err(format!("{} exists and is not a socket", path.display()));
            }
            std::fs::remove_file(&path)
                .map_err(|e| format!("cannot remove the old socket: {e}"))?;
        }
        let s = tokio::net::UnixDatagram::bind(&path).map_err(|e| e.to_string())?;
        // Anyone may send (as the original: 0722).
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o722))
            .map_err(|e| format!("cannot make the socket writable for all: {e}"))?;
        Ok(s)
    };
    let Some(sock) = bind_retrying(&shared, &what, &mut shutdown, bind).await else {
        return;
    };
    let inode = std::fs::metadata(&path).ok().map(|m| m.ino());
    report_buffer(&shared, &sock, &what);
    let sock = Arc::new(sock);
    shared.sockets.watch(Watched::Unix(sock.clone()));
    tracing::info!(input = shared.report.name, "listening on {what}");
    datagrams(
        &shared,
        "Unix",
        &mut shutdown,
        || sock.readable(),
        |buf| sock.try_io(Interest::READABLE, || recv_from(sock.as_fd(), buf)),
    )
    .await;
    shared
        .sockets
        .unwatch(|w| matches!(w, Watched::Unix(s) if Arc::ptr_eq(s, &sock)));
    drop(sock);
    // Remove the file only if it is still ours (another agent may have taken the path).
    if inode.is_some() && std::fs::metadata(&path).ok().map(|m| m.ino()) == inode {
        let _ = std::fs::remove_file(&path);
    }
}

fn report_buffer(shared: &Shared, sock: &impl AsFd, what: &str) {
    match set_receive_buffer(sock, shared.read_buffer) {
        Ok(granted) => {
            shared.report.counters.set(C_RCVBUF, granted as u64);
            // The kernel doubles what it is asked; less than asked means a cap.
            if shared.read_buffer > 0 && granted < shared.read_buffer {
                tracing::warn!(
                    input = shared.report.name,
                    "{what}: the receive buffer is {granted} bytes, not the {} read_buffer_size asks: only root (CAP_NET_ADMIN) may go past net.core.rmem_max; a burst the buffer cannot hold is dropped by the kernel (see kernel_drops in `datakit monitor`)",
                    shared.read_buffer
                );
            }
        }
        Err(e) => shared
            .report
            .error(format!("{what}: cannot set the receive buffer: {e}")),
    }
}

/// `recvfrom(MSG_TRUNC | MSG_DONTWAIT)`: the datagram's whole length (even past `buf`) and
/// its sender when it is an IP address.
fn recv_from(
    fd: std::os::fd::BorrowedFd<'_>,
    buf: &mut [u8],
) -> std::io::Result<(usize, Option<SocketAddr>)> {
    let (_, len, from) = rustix::net::recvfrom(fd, buf, RecvFlags::TRUNC | RecvFlags::DONTWAIT)?;
    Ok((len, from.and_then(|a| SocketAddr::try_from(a).ok())))
}

/// Reads datagrams until shutdown: waits for `ready`, then drains with `recv` into chunks.
async fn datagrams<R, RF, V>(
    shared: &Shared,
    transport: &'static str,
    shutdown: &mut Shutdown,
    ready: R,
    mut recv: V,
) where
    R: Fn() -> RF,
    RF: std::future::Future<Output = std::io::Result<()>>,
    V: FnMut(&mut [u8]) -> std::io::Result<(usize, Option<SocketAddr>)>,
{
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut data: Vec<u8> = Vec::new();
    let mut ends: Vec<(usize, Option<SocketAddr>)> = Vec::new();
    let take = |data: &mut Vec<u8>, ends: &mut Vec<(usize, Option<SocketAddr>)>| Chunk {
        data: std::mem::take(data),
        origin: Origin::Datagrams {
            transport,
            ends: std::mem::take(ends),
        },
    };
    loop {
        let holding = !data.is_empty();
        tokio::select! {
            r = ready() => if let Err(e) = r {
                shared.report.error(format!("waiting for datagrams: {e}"));
                if !pause(RETRY_FIRST, shutdown).await {
                    return;
                }
                continue;
            },
            _ = tokio::time::sleep(HOLD_RETRY), if holding => {}
            _ = shutdown.wait() => {
                if holding {
                    shared.offer(take(&mut data, &mut ends));
                }
                return;
            }
        }
        let (mut n, mut bytes) = (0u64, 0u64);
        loop {
            match recv(&mut buf) {
                Ok((len, from)) if len > buf.len() => {
                    n += 1;
                    let from = from.map_or_else(String::new, |p| format!(" from {p}"));
                    shared.report.dropped(
                        DropReason::TooLarge,
                        1,
                        &format!(
                            "a {transport} datagram{from} of {len} bytes is longer than {MAX_DATAGRAM}"
                        ),
                    );
                }
                Ok((len, from)) => {
                    n += 1;
                    bytes += len as u64;
                    if data.capacity() == 0 {
                        data.reserve_exact(len + 1);
                    }
                    data.extend_from_slice(&buf[..len]);
                    data.push(b'\n');
                    ends.push((data.len(), from));
                    if data.len() >= CHUNK_BYTES && !shared.offer(take(&mut data, &mut ends)) {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    shared.report.error(format!("reading a datagram: {e}"));
                    break;
                }
            }
        }
        shared.report.counters.add(C_DATAGRAMS, n);
        shared.report.counters.add(C_BYTES, bytes);
        // While the parser is behind, the chunk is held and grows (see `HOLD_RETRY`).
        if !data.is_empty()
            && (shared.has_room() || data.len() >= CHUNK_BYTES)
            && !shared.offer(take(&mut data, &mut ends))
        {
            return;
        }
    }
}

/// The TCP listener, until the input stops: at most `max_conns` connections at once (more
/// are closed at once, with an error), each read line by line.
pub async fn tcp(
    shared: Arc<Shared>,
    service_address: String,
    protocol: String,
    max_conns: usize,
    keep_alive: bool,
    mut shutdown: Shutdown,
) {
    let what = format!("{protocol}://{service_address}");
    let bind = || async {
        let addrs = addresses(&service_address, &protocol).await?;
        bind_first(&addrs, &protocol, |a, v6_only| {
            let fd = bound(a, SocketType::STREAM, v6_only)?;
            rustix::net::listen(&fd, 1024)?;
            tokio::net::TcpListener::from_std(std::net::TcpListener::from(fd))
        })
    };
    let Some(listener) = bind_retrying(&shared, &what, &mut shutdown, bind).await else {
        return;
    };
    let local = listener
        .local_addr()
        .map_or_else(|_| what.clone(), |a| a.to_string());
    tracing::info!(input = shared.report.name, "listening on tcp {local}");
    let slots = Arc::new(tokio::sync::Semaphore::new(max_conns.max(1)));
    // Dropped with this task: the connections end with the listener.
    let mut conns = tokio::task::JoinSet::new();
    loop {
        while conns.try_join_next().is_some() {}
        let (conn, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    shared.report.error(format!("{what}: accept: {e}"));
                    if !pause(Duration::from_millis(100), &mut shutdown).await {
                        return;
                    }
                    continue;
                }
            },
            _ = shutdown.wait() => return,
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            shared.report.error(format!(
                "{what}: {max_conns} connections already (max_tcp_connections): closed the one from {peer}"
            ));
            drop(conn);
            continue;
        };
        if keep_alive && let Err(e) = rustix::net::sockopt::set_socket_keepalive(&conn, true) {
            tracing::debug!(
                input = shared.report.name,
                "{what}: keep-alive for {peer}: {e}"
            );
        }
        shared.report.counters.add(C_TCP, 1);
        let (shared, mut sd) = (shared.clone(), shutdown.clone());
        conns.spawn(async move {
            tokio::select! {
                _ = tcp_conn(conn, peer, &shared) => {}
                _ = sd.wait() => {}
            }
            drop(permit);
        });
    }
}

/// Reads one connection: whole lines go to the parser in chunks (waiting while the queue is
/// full); a line longer than [`MAX_TCP_LINE`] is dropped (`too_large`).
async fn tcp_conn(mut conn: tokio::net::TcpStream, peer: SocketAddr, shared: &Shared) {
    let mut buf: Vec<u8> = Vec::with_capacity(16 * 1024);
    let mut skipping = false;
    // The number of the next line, and the stream offset of `buf[0]`.
    let mut line_no: u64 = 1;
    let mut offset: u64 = 0;
    loop {
        if buf.capacity() - buf.len() < 8 * 1024 {
            buf.reserve(16 * 1024);
        }
        let n = match conn.read_buf(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                tracing::debug!(
                    input = shared.report.name,
                    "TCP connection from {peer}: {e}"
                );
                0
            }
        };
        shared.report.counters.add(C_BYTES, n as u64);
        let eof = n == 0;
        // Whole lines; at the end of the stream, what is left is a line too.
        let cut = if eof {
            buf.len()
        } else {
            memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1)
        };
        let mut start = 0;
        if skipping {
            match memchr::memchr(b'\n', &buf[..cut]) {
                Some(i) => {
                    start = i + 1;
                    skipping = false;
                    line_no += 1;
                }
                None if eof => start = cut,
                None => {
                    offset += buf.len() as u64;
                    buf.clear();
                    continue;
                }
            }
        }
        if cut > start {
            let data = buf[start..cut].to_vec();
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
            let chunk = Chunk {
                data,
                origin: Origin::Stream {
                    peer,
                    first_line: line_no,
                    offset: offset + start as u64,
                },
            };
            line_no += lines;
            if shared.queue.send(chunk).await.is_err() {
                return;
            }
        }
        buf.drain(..cut);
        offset += cut as u64;
        if buf.len() > MAX_TCP_LINE {
            shared.report.dropped(
                DropReason::TooLarge,
                1,
                &format!(
                    "TCP connection from {peer}, line {line_no}: longer than {MAX_TCP_LINE} bytes"
                ),
            );
            offset += buf.len() as u64;
            buf.clear();
            skipping = true;
        }
        if eof {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_a_chunk() {
        assert_eq!(count_lines(b"a:1|c\nb:1|c\n\n  \nc:1|c"), 3);
        assert_eq!(count_lines(b""), 0);
    }

    #[test]
    fn a_place_in_a_chunk_is_named() {
        let a: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let b: SocketAddr = "[::1]:6000".parse().unwrap();
        // Two datagrams: "x:1|c\ny:2" (9 bytes) and "bad" (3 bytes).
        let c = Chunk {
            data: b"x:1|c\ny:2\nbad\n".to_vec(),
            origin: Origin::Datagrams {
                transport: "UDP",
                ends: vec![(10, Some(a)), (14, Some(b))],
            },
        };
        assert_eq!(
            c.locate(6, 9),
            "UDP datagram from 127.0.0.1:5000 (9 bytes), line 2, byte 9"
        );
        assert_eq!(
            c.locate(10, 13),
            "UDP datagram from [::1]:6000 (3 bytes), line 1, byte 3"
        );
        let c = Chunk {
            data: b"a:1|c\nbad\n".to_vec(),
            origin: Origin::Stream {
                peer: a,
                first_line: 7,
                offset: 100,
            },
        };
        assert_eq!(
            c.locate(6, 9),
            "TCP connection from 127.0.0.1:5000, line 8, byte 109 of the stream"
        );
    }

    #[tokio::test]
    async fn service_addresses() {
        let all = addresses(":8125", "udp").await.unwrap();
        assert_eq!(all.len(), 2);
        assert!(all[0].is_ipv6() && all[1].is_ipv4());
        assert_eq!(
            addresses(":8125", "udp4").await.unwrap(),
            ["0.0.0.0:8125".parse().unwrap()]
        );
        assert_eq!(
            addresses("127.0.0.1:9", "udp").await.unwrap(),
            ["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            addresses("[::1]:9", "tcp6").await.unwrap(),
            ["[::1]:9".parse().unwrap()]
        );
        assert!(addresses("127.0.0.1:9", "udp6").await.is_err());
        assert!(addresses("8125", "udp").await.is_err());
        assert!(addresses(":x", "udp").await.is_err());
    }

    #[test]
    fn every_address_takes_ipv4_too() {
        let Ok(fd) = bound("[::]:0".parse().unwrap(), SocketType::DGRAM, false) else {
            return; // no IPv6 on this host
        };
        let s = std::net::UdpSocket::from(fd);
        let port = s.local_addr().unwrap().port();
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        c.send_to(b"a:1|c", ("127.0.0.1", port)).unwrap();
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = s.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"a:1|c");
        assert_eq!(from.port(), c.local_addr().unwrap().port());
    }

    #[test]
    fn the_kernel_reports_drops_and_the_buffer() {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(kernel_drops(&s), Some(0));
        let granted = set_receive_buffer(&s, 64 * 1024).unwrap();
        assert!(granted >= 64 * 1024, "{granted}");
        // Fill a tiny buffer: the kernel drops what does not fit, and says so.
        set_receive_buffer(&s, 4096).unwrap();
        let c = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..200 {
            c.send_to(&[b'x'; 1000], s.local_addr().unwrap()).unwrap();
        }
        assert!(kernel_drops(&s).unwrap() > 0);
    }
}
