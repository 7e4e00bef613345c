//! A DataWay stand-in whose answers are scripted request by request, on raw TCP with just
//! enough HTTP/1.1 (keep-alive, `Content-Length` and chunked bodies) to misbehave in ways a
//! framework will not: hold a request forever, reset the connection after reading it, close it
//! without an answer, answer late, or stop listening altogether.
//!
//! Every request is checked as the real DataWay checks it — the path
//! (`/v1/write/<known category>`), the workspace token (401 otherwise), the content type,
//! gzip, that the body decodes, that `X-Points` is the number of points in it — and any
//! departure is recorded as a violation ([`Standin::violations`]). Accepted points are counted
//! by identity ([`Key`]), every copy, with the time each arrived.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::dataway::pb;

/// A point's identity: the writer (`w` tag) and its sequence number (`seq` field); lines of the
/// tailed file have writer [`TAIL`] and their line number.
pub type Key = (u32, u64);

/// The writer id of lines read from a tailed file (`tail-<n> ...` messages).
pub const TAIL: u32 = u32::MAX;

/// Categories DataWay takes writes for.
const CATEGORIES: &[&str] = &[
    "metric",
    "network",
    "keyevent",
    "object",
    "custom_object",
    "logging",
    "tracing",
    "rum",
    "security",
    "profiling",
    "dialtesting",
    "object_change",
];

/// What the stand-in does with one request (after reading and checking it).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// 200: the points are accepted.
    Accept,
    /// Answers `code` with DataWay's JSON error carrying `message`, and `Retry-After` when set.
    /// Nothing is accepted.
    Status {
        code: u16,
        retry_after: Option<u64>,
        message: String,
    },
    /// 413 when the body has more than `max_points` points or more than `max_bytes` bytes once
    /// decompressed; otherwise accepted.
    TooLarge { max_points: usize, max_bytes: usize },
    /// Never answers: holds the connection until the client gives up and closes it.
    Hang,
    /// Resets the connection (RST, `SO_LINGER` 0) after reading the request.
    Reset,
    /// Closes the connection (FIN) after reading the request, without an answer.
    Close,
    /// Accepts, but answers 200 only after this long.
    Slow(Duration),
}

impl Action {
    pub fn status(code: u16) -> Action {
        Action::Status {
            code,
            retry_after: None,
            message: format!("scripted {code}"),
        }
    }

    pub fn status_after(code: u16, secs: u64) -> Action {
        Action::Status {
            code,
            retry_after: Some(secs),
            message: format!("scripted {code}, retry after {secs}s"),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Action::Accept => "200".into(),
            Action::Status {
                code, retry_after, ..
            } => match retry_after {
                Some(s) => format!("{code}+Retry-After:{s}"),
                None => code.to_string(),
            },
            Action::TooLarge { .. } => "413-rule".into(),
            Action::Hang => "hang".into(),
            Action::Reset => "reset".into(),
            Action::Close => "close".into(),
            Action::Slow(d) => format!("slow-{}ms", d.as_millis()),
        }
    }
}

/// One request as the stand-in saw and answered it.
#[derive(Debug, Clone)]
pub struct Request {
    /// When it was read in full.
    pub at: Instant,
    /// When the answer started to be written (`None`: no answer).
    pub answered_at: Option<Instant>,
    pub category: String,
    /// What was done (`200`, `503+Retry-After:1`, `413`, `hang`, ...).
    pub action: String,
    /// The status answered, if any.
    pub status: Option<u16>,
    /// `Retry-After` answered, in seconds.
    pub retry_after: Option<u64>,
    /// Points in the body.
    pub points: usize,
    /// The body's first point: with `points`, identifies a body sent again.
    pub first: Option<Key>,
    /// Every point of a body refused for good (a 4xx other than 413 and 429), else empty.
    pub refused: Vec<Key>,
    /// Decompressed size of the body.
    pub raw_bytes: usize,
    /// `X-Fail-Cache-Retry: 1` (a body replayed from the disk queue).
    pub replay: bool,
}

struct Inner {
    token: String,
    script: Mutex<(VecDeque<Action>, Action)>,
    listening: AtomicBool,
    /// The acceptor holds the port (what `listening` asks for, once done).
    bound: AtomicBool,
    stop: AtomicBool,
    requests: Mutex<Vec<Request>>,
    /// Every accepted copy of every point: when it arrived.
    delivered: Mutex<HashMap<Key, Vec<Instant>>>,
    /// Accepted points that are not the suite's.
    others: AtomicU64,
    /// The largest body accepted, in points.
    max_accepted: AtomicU64,
    violations: Mutex<Vec<String>>,
    /// Open connections (a clone of each, to cut them off when going down).
    conns: Mutex<HashMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

/// The stand-in; stops (and cuts every connection) when dropped.
pub struct Standin {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

impl Standin {
    /// Starts listening on a free loopback port; answers `Accept` until scripted otherwise.
    pub fn start(token: &str) -> Standin {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind the stand-in");
        let addr = l.local_addr().unwrap();
        let inner = Arc::new(Inner {
            token: token.to_string(),
            script: Mutex::new((VecDeque::new(), Action::Accept)),
            listening: AtomicBool::new(true),
            bound: AtomicBool::new(true),
            stop: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            delivered: Mutex::new(HashMap::new()),
            others: AtomicU64::new(0),
            max_accepted: AtomicU64::new(0),
            violations: Mutex::new(Vec::new()),
            conns: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(0),
        });
        let i = inner.clone();
        let acceptor = std::thread::Builder::new()
            .name("standin-accept".into())
            .spawn(move || accept_loop(i, addr, Some(l)))
            .unwrap();
        Standin {
            addr,
            inner,
            acceptor: Some(acceptor),
        }
    }

    /// The URL for `[dataway] urls`.
    pub fn url(&self) -> String {
        format!("http://{}?token={}", self.addr, self.inner.token)
    }

    /// The next requests get these actions, in order (after any still scripted).
    pub fn push(&self, actions: impl IntoIterator<Item = Action>) {
        self.inner.script.lock().unwrap().0.extend(actions);
    }

    /// What requests get once the script is used up.
    pub fn set_default(&self, a: Action) {
        self.inner.script.lock().unwrap().1 = a;
    }

    /// Drops what is left of the script and answers `a` from now on.
    pub fn reset_script(&self, a: Action) {
        let mut s = self.inner.script.lock().unwrap();
        s.0.clear();
        s.1 = a;
    }

    /// Actions scripted and not yet used.
    pub fn script_left(&self) -> usize {
        self.inner.script.lock().unwrap().0.len()
    }

    /// `false`: the port is closed (connections are refused) and open connections are cut;
    /// `true`: listening again on the same port.
    pub fn set_listening(&self, on: bool) {
        self.inner.listening.store(on, Relaxed);
        if !on {
            for c in self.inner.conns.lock().unwrap().values() {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        // Wait until the acceptor did it, so "down" means down for the caller.
        let t0 = Instant::now();
        while self.is_listening() != on {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the stand-in could not {} port {}",
                if on { "listen on" } else { "close" },
                self.addr.port()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn is_listening(&self) -> bool {
        self.inner.bound.load(Relaxed)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// Copies of each point accepted.
    pub fn counts(&self) -> HashMap<Key, usize> {
        self.inner
            .delivered
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (*k, v.len()))
            .collect()
    }

    /// When each copy of each point was accepted.
    pub fn deliveries(&self) -> HashMap<Key, Vec<Instant>> {
        self.inner.delivered.lock().unwrap().clone()
    }

    /// Whether every key of `keys` was accepted at least once; the first few missing otherwise.
    pub fn missing<'a>(&self, keys: impl IntoIterator<Item = &'a Key>) -> (usize, Vec<Key>) {
        let d = self.inner.delivered.lock().unwrap();
        let mut n = 0;
        let mut first = Vec::new();
        for k in keys {
            if !d.contains_key(k) {
                n += 1;
                if first.len() < 10 {
                    first.push(*k);
                }
            }
        }
        (n, first)
    }

    /// Accepted points that carry no identity of the suite.
    pub fn others(&self) -> u64 {
        self.inner.others.load(Relaxed)
    }

    /// The most points accepted in one body.
    pub fn max_accepted_body(&self) -> u64 {
        self.inner.max_accepted.load(Relaxed)
    }

    /// Requests that broke DataWay's rules (a correct agent causes none).
    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        self.inner.stop.store(true, Relaxed);
        for c in self.inner.conns.lock().unwrap().values() {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(inner: Arc<Inner>, addr: SocketAddr, first: Option<TcpListener>) {
    let mut listener = first;
    if let Some(l) = &listener {
        l.set_nonblocking(true).unwrap();
    }
    while !inner.stop.load(Relaxed) {
        let want = inner.listening.load(Relaxed);
        match (&listener, want) {
            (Some(_), false) => {
                listener = None;
                inner.bound.store(false, Relaxed);
            }
            (None, true) => match TcpListener::bind(addr) {
                Ok(l) => {
                    l.set_nonblocking(true).unwrap();
                    listener = Some(l);
                    inner.bound.store(true, Relaxed);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            },
            _ => {}
        }
        let Some(l) = &listener else {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        };
        match l.accept() {
            Ok((s, _)) => {
                let _ = s.set_nonblocking(false);
                let _ = s.set_nodelay(true);
                let id = inner.next_conn.fetch_add(1, Relaxed);
                if let Ok(c) = s.try_clone() {
                    inner.conns.lock().unwrap().insert(id, c);
                }
                let i = inner.clone();
                let _ = std::thread::Builder::new()
                    .name("standin-conn".into())
                    .spawn(move || {
                        serve(&i, s);
                        i.conns.lock().unwrap().remove(&id);
                    });
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// A request as read off the wire.
struct Raw {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Reads one request; `None` at the end of the connection (or on garbage).
fn read_request(r: &mut impl BufRead) -> Option<Raw> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let target = parts.next()?.to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let mut body = Vec::new();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = headers.get("content-length") {
        let n: usize = n.parse().ok()?;
        body.resize(n, 0);
        r.read_exact(&mut body).ok()?;
    }
    Some(Raw {
        method,
        target,
        headers,
        body,
    })
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn answer(s: &mut TcpStream, code: u16, retry_after: Option<u64>, body: &str) -> bool {
    let mut head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        reason(code),
        body.len()
    );
    if let Some(r) = retry_after {
        head.push_str(&format!("Retry-After: {r}\r\n"));
    }
    head.push_str("\r\n");
    head.push_str(body);
    s.write_all(head.as_bytes()).and_then(|_| s.flush()).is_ok()
}

/// A checked, decoded write: its category and the identities of its points (`None` for a point
/// that is not the suite's).
struct Checked {
    category: String,
    keys: Vec<Option<Key>>,
    raw_bytes: usize,
    replay: bool,
}

/// Checks a request as DataWay does; the refusal to answer otherwise (status, DataWay's error).
fn check(inner: &Inner, req: &Raw) -> Result<Checked, (u16, String)> {
    let bad = |code: u16, what: String| Err((code, what));
    if req.method != "POST" {
        return bad(405, format!("method {}", req.method));
    }
    let (path, query) = req.target.split_once('?').unwrap_or((&req.target, ""));
    let Some(category) = path.strip_prefix("/v1/write/") else {
        return bad(404, format!("path {path}"));
    };
    if !CATEGORIES.contains(&category) {
        return bad(404, format!("unknown category {category}"));
    }
    let token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    if token != inner.token {
        return bad(401, format!("token {token:?}"));
    }
    let h = |k: &str| req.headers.get(k).map_or("", String::as_str);
    let raw = match h("content-encoding") {
        "gzip" => {
            let mut v = Vec::new();
            if let Err(e) = flate2::read::GzDecoder::new(&req.body[..]).read_to_end(&mut v) {
                return bad(400, format!("bad gzip: {e}"));
            }
            v
        }
        "" => req.body.clone(),
        other => return bad(400, format!("content encoding {other:?}")),
    };
    let ctype = h("content-type");
    let keys: Vec<Option<Key>> = if ctype.starts_with("application/protobuf") {
        use prost::Message;
        match pb::PbPoints::decode(&raw[..]) {
            Ok(p) => p.arr.iter().map(pb_key).collect(),
            Err(e) => return bad(400, format!("bad protobuf: {e}")),
        }
    } else if ctype.starts_with("application/line-protocol") {
        match crate::support::dataway::decode_lp(&String::from_utf8_lossy(&raw)) {
            Ok(v) => v
                .iter()
                .map(|(_, tags, fields, _)| {
                    let seq = fields.get("seq").and_then(|v| v.as_i64());
                    let msg = match fields.get("message") {
                        Some(crate::support::dataway::Val::S(s)) => Some(s.as_str()),
                        _ => None,
                    };
                    key_of(tags.get("w").map(String::as_str), seq, msg)
                })
                .collect(),
            Err(e) => return bad(400, format!("bad line protocol: {e}")),
        }
    } else {
        return bad(400, format!("content type {ctype:?}"));
    };
    if h("x-points") != keys.len().to_string() {
        return bad(
            400,
            format!("X-Points {:?} but {} points", h("x-points"), keys.len()),
        );
    }
    Ok(Checked {
        category: category.to_string(),
        keys,
        raw_bytes: raw.len(),
        replay: h("x-fail-cache-retry") == "1",
    })
}

fn key_of(w: Option<&str>, seq: Option<i64>, message: Option<&str>) -> Option<Key> {
    if let (Some(w), Some(seq)) = (w, seq) {
        return Some((w.parse().ok()?, u64::try_from(seq).ok()?));
    }
    let n = message?.strip_prefix("tail-")?.split(' ').next()?;
    Some((TAIL, n.parse().ok()?))
}

fn pb_key(p: &pb::PbPoint) -> Option<Key> {
    let mut w = None;
    let mut seq = None;
    let mut msg = None;
    for f in &p.fields {
        match (f.key.as_str(), &f.val) {
            ("w", Some(pb::Val::S(s))) if f.is_tag => w = Some(s.as_str()),
            ("seq", Some(pb::Val::I(v))) => seq = Some(*v),
            ("seq", Some(pb::Val::U(v))) => seq = i64::try_from(*v).ok(),
            ("message", Some(pb::Val::S(s))) => msg = Some(s.as_str()),
            _ => {}
        }
    }
    key_of(w, seq, msg)
}

impl Inner {
    fn accept(&self, w: &Checked) {
        let now = Instant::now();
        let mut d = self.delivered.lock().unwrap();
        for k in &w.keys {
            match k {
                Some(k) => d.entry(*k).or_default().push(now),
                None => {
                    self.others.fetch_add(1, Relaxed);
                }
            }
        }
        self.max_accepted.fetch_max(w.keys.len() as u64, Relaxed);
    }

    fn next_action(&self) -> Action {
        let mut s = self.script.lock().unwrap();
        match s.0.pop_front() {
            Some(a) => a,
            None => s.1.clone(),
        }
    }
}

/// Serves one connection until it closes, or an action ends it.
fn serve(inner: &Inner, stream: TcpStream) {
    let mut s = stream;
    let Ok(read_half) = s.try_clone() else { return };
    let mut r = BufReader::new(read_half);
    while let Some(req) = read_request(&mut r) {
        let at = Instant::now();
        // The agent's pull of DataWay's filters: answered as DataWay without rules answers.
        if req.method == "GET" && req.target.starts_with("/v1/datakit/pull?") {
            if !answer(&mut s, 200, None, "{\"filters\":null,\"pull_interval\":0}") {
                return;
            }
            continue;
        }
        let checked = check(inner, &req);
        let w = match checked {
            Ok(w) => w,
            Err((code, what)) => {
                inner.violations.lock().unwrap().push(what.clone());
                let body = format!(
                    "{{\"error_code\":\"dataway.badRequest\",\"message\":{:?}}}",
                    what
                );
                let ok = answer(&mut s, code, None, &body);
                inner.requests.lock().unwrap().push(Request {
                    at,
                    answered_at: Some(Instant::now()),
                    category: String::new(),
                    action: format!("violation {code}"),
                    status: Some(code),
                    retry_after: None,
                    points: 0,
                    first: None,
                    refused: Vec::new(),
                    raw_bytes: 0,
                    replay: false,
                });
                if !ok {
                    return;
                }
                continue;
            }
        };
        let action = inner.next_action();
        let mut log = Request {
            at,
            answered_at: None,
            category: w.category.clone(),
            action: action.name(),
            status: None,
            retry_after: None,
            points: w.keys.len(),
            first: w.keys.first().copied().flatten(),
            refused: Vec::new(),
            raw_bytes: w.raw_bytes,
            replay: w.replay,
        };
        let mut reply = |log: &mut Request, code: u16, ra: Option<u64>, body: &str| {
            // Before writing: the client cannot have the answer sooner.
            log.answered_at = Some(Instant::now());
            let ok = answer(&mut s, code, ra, body);
            log.status = Some(code);
            log.retry_after = ra;
            ok
        };
        let keep = match action {
            Action::Accept => {
                inner.accept(&w);
                reply(&mut log, 200, None, "{}")
            }
            Action::Slow(d) => {
                std::thread::sleep(d);
                inner.accept(&w);
                reply(&mut log, 200, None, "{}")
            }
            Action::Status {
                code,
                retry_after,
                message,
            } => {
                if (400..500).contains(&code) && code != 413 && code != 429 && retry_after.is_none()
                {
                    log.refused = w.keys.iter().flatten().copied().collect();
                }
                let body = format!(
                    "{{\"error_code\":\"dataway.scripted\",\"message\":{:?}}}",
                    message
                );
                reply(&mut log, code, retry_after, &body)
            }
            Action::TooLarge {
                max_points,
                max_bytes,
            } => {
                if w.keys.len() > max_points || w.raw_bytes > max_bytes {
                    log.action = "413".into();
                    let body = format!(
                        "{{\"error_code\":\"dataway.bodyTooLarge\",\"message\":\"{} points, {} bytes: at most {max_points} points and {max_bytes} bytes\"}}",
                        w.keys.len(),
                        w.raw_bytes
                    );
                    reply(&mut log, 413, None, &body)
                } else {
                    log.action = "200".into();
                    inner.accept(&w);
                    reply(&mut log, 200, None, "{}")
                }
            }
            Action::Hang => {
                inner.requests.lock().unwrap().push(log);
                // Read (and ignore) until the client closes the connection.
                let mut sink = [0u8; 4096];
                while matches!(r.read(&mut sink), Ok(n) if n > 0) {}
                return;
            }
            Action::Reset => {
                inner.requests.lock().unwrap().push(log);
                set_linger_zero(&s);
                return;
            }
            Action::Close => {
                inner.requests.lock().unwrap().push(log);
                return;
            }
        };
        inner.requests.lock().unwrap().push(log);
        if !keep {
            return;
        }
    }
}

/// `SO_LINGER` 0: closing the socket then sends RST instead of FIN.
fn set_linger_zero(s: &TcpStream) {
    let _ = rustix::net::sockopt::set_socket_linger(s, Some(Duration::ZERO));
}
