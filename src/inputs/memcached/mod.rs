//! `memcached`: `stats` of memcached servers as the original names them: measurement
//! `memcached`, and with `extra_stats` `memcached_items` (`stats items`) and `memcached_slabs`
//! (`stats slabs`) per slab class.
//!
//! Every interval, on a scrape-lane thread, each server gets a connection of its own for the
//! collection (as the original dials every time), the stats commands and their answers, each
//! bounded by `timeout`. Only the fields of the schema are sent, as integers (as the original
//! does: values that are not integers, like `rusage_user`, are left out). A server that cannot
//! be reached or answers wrongly is counted with its address in the message (`datakit
//! monitor`, `lasterror`); the other servers are collected as usual.

pub mod parse;
mod schema;

use std::any::Any;
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use super::{
    Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits, Validation,
    entry,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};
use parse::{Stat, StatsError, parse_stats};

const NAME: &str = "memcached";

config_struct! {
    "Collects memcached's statistics."
    pub struct MemcachedConfig {
        "Server addresses, `host:port` (`:11211` when no port is given)."
        pub servers: Vec<String> = vec!["localhost:11211".into()],
        "Unix socket paths of servers."
        pub unix_sockets: Vec<String> = Vec::new(),
        "Also collect `slabs` (`stats slabs` → `memcached_slabs`) and/or `items` (`stats items` → `memcached_items`)."
        pub extra_stats: Vec<String> = Vec::new(),
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Limit for connecting and for each command's answer (the original's fixed 5 s)."
        pub timeout: Dur = Dur::from_secs(5),
        "Leader election: with `[election] enable`, only the elected agent collects, and the points get the election tags instead of the host tags."
        pub election: bool = true,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

impl InputConfig for MemcachedConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        crate::inputs::host::check_interval(v, "interval", self.interval);
        crate::inputs::host::check_interval(v, "timeout", self.timeout);
        crate::inputs::host::check_tags(v, &self.tags);
        for (i, s) in self.extra_stats.iter().enumerate() {
            if s != "slabs" && s != "items" {
                v.error(
                    &format!("extra_stats[{i}]"),
                    format!("unknown stats `{s}`; use `slabs` or `items`"),
                );
            }
        }
        for (i, s) in self.servers.iter().enumerate() {
            if s.trim().is_empty() {
                v.error(&format!("servers[{i}]"), "empty address");
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        Ok(Box::new(MemcachedInput {
            interval: self.interval.get(),
            collector: Collector::new(self),
        }))
    }
}

/// Where a server is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint {
    Tcp(String),
    Unix(String),
}

impl Endpoint {
    fn address(&self) -> &str {
        match self {
            Endpoint::Tcp(a) | Endpoint::Unix(a) => a,
        }
    }
}

/// `host:port`, with `:11211` added when the address has no port (as the original).
fn with_port(addr: &str) -> String {
    let has_port = match addr.rsplit_once(':') {
        Some((h, p)) => {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || h.ends_with(']'))
        }
        None => false,
    };
    if has_port {
        addr.to_string()
    } else if addr.contains(':') && !addr.starts_with('[') {
        format!("[{addr}]:11211")
    } else {
        format!("{addr}:11211")
    }
}

/// Why a server could not be collected.
#[derive(Debug, thiserror::Error)]
pub enum McError {
    #[error("memcached {server}: connecting: {cause}")]
    Connect {
        server: String,
        cause: std::io::Error,
    },
    #[error("memcached {server}: `{command}`: {cause}")]
    Io {
        server: String,
        command: &'static str,
        cause: std::io::Error,
    },
    #[error("memcached {server}: `{command}`: no answer within {timeout:?}")]
    Timeout {
        server: String,
        command: &'static str,
        timeout: Duration,
    },
    #[error("memcached {server}: `{command}`: the server closed the connection")]
    Closed {
        server: String,
        command: &'static str,
    },
    #[error("memcached {server}: `{command}`: {cause}")]
    Answer {
        server: String,
        command: &'static str,
        cause: StatsError,
    },
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
    fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(b),
            Stream::Unix(s) => s.write_all(b),
        }
    }
    fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(b),
            Stream::Unix(s) => s.read(b),
        }
    }
}

fn connect(ep: &Endpoint, timeout: Duration) -> Result<Stream, McError> {
    let err = |cause| McError::Connect {
        server: ep.address().to_string(),
        cause,
    };
    let s = match ep {
        Endpoint::Unix(p) => Stream::Unix(UnixStream::connect(p).map_err(err)?),
        Endpoint::Tcp(a) => {
            let mut last = None;
            let mut found = None;
            for sa in a.to_socket_addrs().map_err(err)? {
                match TcpStream::connect_timeout(&sa, timeout) {
                    Ok(s) => {
                        found = Some(s);
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            Stream::Tcp(found.ok_or_else(|| {
                err(last.unwrap_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no address")
                }))
            })?)
        }
    };
    s.set_timeouts(timeout).map_err(err)?;
    Ok(s)
}

/// Sends `command` and reads its whole answer into `buf` within `timeout`.
fn call(
    s: &mut Stream,
    server: &str,
    command: &'static str,
    timeout: Duration,
    buf: &mut Vec<u8>,
) -> Result<(), McError> {
    let io = |cause: std::io::Error| {
        if matches!(
            cause.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            McError::Timeout {
                server: server.to_string(),
                command,
                timeout,
            }
        } else {
            McError::Io {
                server: server.to_string(),
                command,
                cause,
            }
        }
    };
    let deadline = Instant::now() + timeout;
    s.write_all(format!("{command}\r\n").as_bytes())
        .map_err(io)?;
    buf.clear();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match parse_stats(buf) {
            Ok(Some(_)) => return Ok(()),
            Ok(None) => {}
            Err(cause) => {
                return Err(McError::Answer {
                    server: server.to_string(),
                    command,
                    cause,
                });
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io(std::io::ErrorKind::TimedOut.into()));
        }
        s.set_timeouts(left).map_err(io)?;
        match s.read(&mut chunk) {
            Ok(0) => {
                return Err(McError::Closed {
                    server: server.to_string(),
                    command,
                });
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
}

/// The `memcached` point of a `stats` answer: the schema's fields whose values are integers.
pub fn stats_point(stats: &[Stat<'_>]) -> Point {
    let mut p = Point::new(Category::Metric, NAME);
    for s in stats {
        if schema::STATS_FIELDS.iter().any(|f| f.name == s.name)
            && let Ok(v) = s.value.parse::<i64>()
        {
            p.set_field(s.name, Value::Int(v));
        }
    }
    p
}

/// Points per slab class of `stats items` (`items:<slab>:<field>`) or `stats slabs`
/// (`<slab>:<field>`, and totals without a slab: no `slab_id` tag), with the schema's fields.
pub fn slab_points(stats: &[Stat<'_>], items: bool) -> Vec<Point> {
    let (name, fields) = if items {
        ("memcached_items", schema::ITEMS_FIELDS)
    } else {
        ("memcached_slabs", schema::SLABS_FIELDS)
    };
    let mut by_slab: BTreeMap<(u64, String), Point> = BTreeMap::new();
    for s in stats {
        let (slab, field) = if items {
            let mut parts = s.name.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("items"), Some(slab), Some(field)) => (Some(slab), field),
                _ => continue,
            }
        } else {
            match s.name.split_once(':') {
                Some((slab, field)) => (Some(slab), field),
                None => (None, s.name),
            }
        };
        if !fields.iter().any(|f| f.name == field) {
            continue;
        }
        let Ok(v) = s.value.parse::<i64>() else {
            continue;
        };
        // Slab classes in numeric order; the totals (no slab) first.
        let key = match slab {
            None => (0, String::new()),
            Some(id) => (
                id.parse::<u64>().map_or(u64::MAX, |n| n + 1),
                id.to_string(),
            ),
        };
        let p = by_slab.entry(key).or_insert_with(|| {
            let mut p = Point::new(Category::Metric, name);
            if let Some(id) = slab {
                p.set_tag("slab_id", id);
            }
            p
        });
        p.set_field(field, Value::Int(v));
    }
    by_slab.into_values().collect()
}

/// The collector of every server of an instance.
pub struct Collector {
    endpoints: Vec<Endpoint>,
    items: bool,
    slabs: bool,
    timeout: Duration,
    tags: Vec<(String, String)>,
    buf: Vec<u8>,
}

/// What one collection gives: the points, and an error per server or command that failed.
#[derive(Debug, Default)]
pub struct Outcome {
    pub points: Vec<Point>,
    pub errors: Vec<String>,
}

impl Collector {
    pub fn new(cfg: &MemcachedConfig) -> Collector {
        let mut endpoints: Vec<Endpoint> = cfg
            .servers
            .iter()
            .map(|s| Endpoint::Tcp(with_port(s.trim())))
            .collect();
        endpoints.extend(cfg.unix_sockets.iter().map(|p| Endpoint::Unix(p.clone())));
        if endpoints.is_empty() {
            endpoints.push(Endpoint::Tcp("localhost:11211".into()));
        }
        Collector {
            endpoints,
            items: cfg.extra_stats.iter().any(|s| s == "items"),
            slabs: cfg.extra_stats.iter().any(|s| s == "slabs"),
            timeout: cfg.timeout.get(),
            tags: cfg
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            buf: Vec::with_capacity(8192),
        }
    }

    pub fn collect(&mut self, now_ns: i64) -> Outcome {
        let mut out = Outcome::default();
        for i in 0..self.endpoints.len() {
            let ep = self.endpoints[i].clone();
            if let Err(e) = self.collect_one(&ep, &mut out) {
                out.errors.push(e.to_string());
            }
        }
        for p in &mut out.points {
            p.time = now_ns;
        }
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::with_capacity(8192);
        }
        out
    }

    fn collect_one(&mut self, ep: &Endpoint, out: &mut Outcome) -> Result<(), McError> {
        let server = ep.address().to_string();
        let mut s = connect(ep, self.timeout)?;
        let mut tagged = |mut p: Point| {
            p.set_tag("server", server.as_str());
            for (k, v) in &self.tags {
                p.add_tag_if_absent(k, v);
            }
            p
        };
        let mut pts = Vec::new();
        call(&mut s, &server, "stats", self.timeout, &mut self.buf)?;
        if let Ok(Some(stats)) = parse_stats(&self.buf) {
            pts.push(stats_point(&stats));
        }
        for (on, command, items) in [
            (self.slabs, "stats slabs", false),
            (self.items, "stats items", true),
        ] {
            if !on {
                continue;
            }
            match call(&mut s, &server, command, self.timeout, &mut self.buf) {
                Ok(()) => {
                    if let Ok(Some(stats)) = parse_stats(&self.buf) {
                        pts.extend(slab_points(&stats, items));
                    }
                }
                // A wrong answer leaves that part out; the connection is given up on after
                // anything else.
                Err(e @ McError::Answer { .. }) => out.errors.push(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        out.points.extend(
            pts.into_iter()
                .filter(|p| !p.fields.is_empty())
                .map(&mut tagged),
        );
        Ok(())
    }
}

struct MemcachedInput {
    interval: Duration,
    collector: Collector,
}

impl Input for MemcachedInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run(*self, ctx))
    }
}

async fn run(m: MemcachedInput, mut ctx: InputCtx) -> Result<(), InputError> {
    let mut periodic =
        super::Periodic::on(super::exec::Lane::Scrape, m.interval, m.collector, &ctx);
    let mut failing: Vec<String> = Vec::new();
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some((errors, fed)) = periodic
            .next(&mut ctx, move |c| {
                let o = c.collect(crate::clock::now_ns());
                let fed = ingest
                    .feed_blocking(
                        &origin,
                        Category::Metric,
                        o.points,
                        &crate::ingest::FeedOptions::default(),
                        false,
                    )
                    .map(|_| ());
                (o.errors, fed)
            })
            .await
        else {
            return Ok(());
        };
        // Logged when an error starts (or changes), not at every collection.
        for e in errors.iter().filter(|e| !failing.contains(e)) {
            tracing::warn!(input = ctx.name, "{e}");
        }
        if !failing.is_empty() && errors.is_empty() {
            tracing::info!(input = ctx.name, "collecting again");
        }
        for e in &errors {
            ctx.stats.record_error(e.clone());
            ctx.agent_stats.record_error(ctx.name, e.clone());
        }
        failing = errors;
        fed?;
    }
}

const NOTES: &[&str] = &[
    "`timeout` is this agent's: the original had a fixed 5 s. The servers of an instance are collected one after the other, each bounded by `timeout` per command; several servers that stop answering at once delay the collection by that much each (use one instance per server to keep them apart).",
    "With neither `servers` nor `unix_sockets`, `localhost:11211` is collected (the original dialled `:11211`).",
];

pub const ENTRY: InputEntry = entry::<MemcachedConfig>(InputSpec {
    name: NAME,
    catalog: "db",
    description: "memcached statistics (`stats`, and per slab class `stats slabs` and `stats items`).",
    singleton: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
    measurements: schema::MEASUREMENTS,
})
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(text: &str) -> Vec<Stat<'_>> {
        parse_stats(text.as_bytes()).unwrap().unwrap()
    }

    #[test]
    fn stats_keep_the_schemas_integer_fields() {
        let p = stats_point(&stats(
            "STAT pid 1\r\nSTAT uptime 30\r\nSTAT rusage_user 0.5\r\nSTAT version 1.6\r\nSTAT curr_items 4\r\nEND\r\n",
        ));
        assert_eq!(p.get_field("uptime"), Some(&Value::Int(30)));
        assert_eq!(p.get_field("curr_items"), Some(&Value::Int(4)));
        assert_eq!(p.fields.len(), 2, "{p:?}");
    }

    #[test]
    fn slab_classes_become_points() {
        let s = stats(
            "STAT 1:chunk_size 96\r\nSTAT 1:used_chunks 3\r\nSTAT 12:chunk_size 1184\r\nSTAT 1:mem_requested 9\r\nSTAT active_slabs 2\r\nSTAT total_malloced 2097152\r\nEND\r\n",
        );
        let pts = slab_points(&s, false);
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0].get_tag("slab_id"), None);
        assert_eq!(pts[0].get_field("active_slabs"), Some(&Value::Int(2)));
        assert_eq!(pts[1].get_tag("slab_id"), Some("1"));
        assert_eq!(pts[1].fields.len(), 2);
        assert_eq!(pts[2].get_tag("slab_id"), Some("12"));
        let i = stats("STAT items:1:number 3\r\nSTAT items:1:age 7\r\nSTAT items:x 1\r\nEND\r\n");
        let pts = slab_points(&i, true);
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].name, "memcached_items");
        assert_eq!(pts[0].get_field("age"), Some(&Value::Int(7)));
    }

    #[test]
    fn addresses_get_the_default_port() {
        assert_eq!(with_port("localhost"), "localhost:11211");
        assert_eq!(with_port("10.0.0.1:1234"), "10.0.0.1:1234");
        assert_eq!(with_port("::1"), "[::1]:11211");
        assert_eq!(with_port("[::1]:99"), "[::1]:99");
    }

    #[test]
    fn options_are_checked_and_failures_name_the_server() {
        let c: MemcachedConfig =
            toml::from_str("extra_stats = [\"slabs\", \"conns\"]\nservers = [\"\"]\n").unwrap();
        let mut v = Validation::default();
        c.validate(&mut v);
        let keys: Vec<&str> = v.issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["extra_stats[1]", "servers[0]"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut col = Collector::new(&MemcachedConfig {
            servers: vec![format!("127.0.0.1:{port}")],
            ..MemcachedConfig::default()
        });
        let o = col.collect(1);
        assert!(o.points.is_empty());
        assert!(
            o.errors[0].starts_with(&format!("memcached 127.0.0.1:{port}: connecting: ")),
            "{:?}",
            o.errors
        );
    }
}
