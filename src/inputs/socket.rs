//! `socket`: checks TCP and UDP ports every interval, as the original's `socket` input does:
//! measurement `tcp` (connect time with and without the name lookup, success) and `udp`
//! (success), tags `dest_host`, `dest_port`, `proto`.
//!
//! - TCP: the host is looked up (unless it is an address), then connected to its first
//!   address; `response_time` is the connect time in µs, `response_time_with_dns` adds the
//!   lookup. A failure still reports a point, with `success = -1` (and 0 for the times that
//!   did not happen).
//! - UDP: a probe datagram (`X`, as `nc -uz` sends) goes to the port from a connected socket;
//!   the port is down when the host answers "port unreachable" (ICMP) within
//!   [`UDP_ANSWER_WAIT`] (or `udp_timeout` if shorter), and up otherwise: an answer, or
//!   silence. That is what the original's `nc -vuz host port` tells; a host that drops the
//!   probe silently (a firewall, a black hole) looks up, for `nc` as here.
//! - Every target of an instance is checked at once, each within its timeout (`tcp_timeout`,
//!   `udp_timeout`: lookup included); a failing target is an error of the input naming it,
//!   logged when it starts failing and when it recovers.
//! - Tags: the point's own, the input's `tags`, `host` = the target's host unless it is
//!   loopback (or `tags` has `host`), then the global host tags (or, with election, the
//!   election tags), as the original merges them.
//!
//! Differences from the original, on purpose: UDP needs no `nc` (the original ran it, and
//! without it sent no UDP point at all) and reads the ICMP answer itself; targets are checked
//! at once instead of one after another (a black-holed target no longer delays the others by
//! its timeout); the timeouts bound the name lookup too; a `dest_url` that is not
//! `tcp://host:port` or `udp://host:port` is an error of the config (the original skipped it
//! with a log line at each collection).

use std::any::Any;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{
    FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    IntervalLimits, MeasurementSpec, TagSpec, Validation, entry,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::ingest::FeedOptions;
use crate::net::is_loopback;
use crate::point::{Category, Point, Value};

/// The longest a UDP check waits for the host's "port unreachable" (or an answer).
pub const UDP_ANSWER_WAIT: Duration = Duration::from_secs(1);

config_struct! {
    "Checks TCP and UDP ports: connects to (TCP) or probes (UDP) each `dest_url` every interval."
    pub struct SocketConfig {
        "Targets, `tcp://host:port` or `udp://host:port` (host: a name, an IPv4 address or `[IPv6]`)."
        pub dest_url: Vec<String> = Vec::new(),
        "How often every target is checked."
        pub interval: Dur = Dur::from_secs(30),
        "Limit for one TCP check: the name lookup and the connection."
        pub tcp_timeout: Dur = Dur::from_secs(10),
        "Limit for one UDP check: the name lookup, and the wait for a \"port unreachable\" answer (at most 1 s of it)."
        pub udp_timeout: Dur = Dur::from_secs(10),
        "Leader election: with `[election] enable`, only the elected agent checks, and the points get the election tags instead of the host tags. `false` checks on every agent."
        pub election: bool = true,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// One `dest_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    url: String,
    proto: Proto,
    /// As written, without the brackets of an IPv6 address.
    host: String,
    port: u16,
}

/// `tcp://host:port` or `udp://host:port`.
fn target(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not `tcp://host:port` or `udp://host:port`"))?;
    let proto = match scheme.to_ascii_lowercase().as_str() {
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        other => {
            return Err(format!(
                "unknown scheme `{other}` in `{url}`; use tcp:// or udp://"
            ));
        }
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains(['/', '?', '#', '@']) {
        return Err(format!("`{url}` has more than host:port"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{url}`: `[` without `]`"))?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let port = port.ok_or_else(|| format!("`{url}` has no port"))?;
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("invalid port `{port}` in `{url}`"))?;
    if host.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    Ok(Target {
        url: url.to_string(),
        proto,
        host: host.to_string(),
        port,
    })
}

impl InputConfig for SocketConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn validate(&self, v: &mut Validation) {
        if self.dest_url.is_empty() {
            v.warning("dest_url", "no `dest_url`: this instance checks nothing");
        }
        for (i, u) in self.dest_url.iter().enumerate() {
            if let Err(e) = target(u) {
                v.error(&format!("dest_url[{i}]"), e);
            }
        }
        if self.interval.get().is_zero() {
            v.error("interval", "must be more than 0");
        }
        for (k, d) in [
            ("tcp_timeout", self.tcp_timeout),
            ("udp_timeout", self.udp_timeout),
        ] {
            if d.get().is_zero() {
                v.error(k, "must be more than 0");
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let targets = self
            .dest_url
            .iter()
            .map(|u| target(u).map_err(InputError::Setup))
            .collect::<Result<Vec<_>, _>>()?;
        let tags: Vec<(String, String)> = self
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Ok(Box::new(Socket {
            interval: self.interval.get(),
            tcp_timeout: self.tcp_timeout.get(),
            udp_timeout: self.udp_timeout.get(),
            targets,
            tags,
        }))
    }
}

struct Socket {
    interval: Duration,
    tcp_timeout: Duration,
    udp_timeout: Duration,
    targets: Vec<Target>,
    tags: Vec<(String, String)>,
}

impl Input for Socket {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run(*self, ctx))
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
struct Outcome {
    /// The name lookup's time (zero for an address).
    dns: Duration,
    /// The connection's time (TCP), when it was made.
    connect: Option<Duration>,
    /// Why the check failed.
    error: Option<String>,
}

/// The first address of `host:port`, within `limit`; the lookup's time.
async fn resolve(host: &str, port: u16, limit: Duration) -> Result<(SocketAddr, Duration), String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok((SocketAddr::new(ip, port), Duration::ZERO));
    }
    let t0 = Instant::now();
    let found = tokio::time::timeout(limit, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("no answer to the lookup of `{host}` within {limit:?}"))?
        .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
        .next()
        .ok_or_else(|| format!("`{host}` has no address"))?;
    Ok((found, t0.elapsed()))
}

async fn check_tcp(t: &Target, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome {
        dns: Duration::ZERO,
        connect: None,
        error: None,
    };
    let addr = match resolve(&t.host, t.port, timeout).await {
        Ok((a, dns)) => {
            out.dns = dns;
            a
        }
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let left = timeout.saturating_sub(started.elapsed());
    let t0 = Instant::now();
    match tokio::time::timeout(left, tokio::net::TcpStream::connect(addr)).await {
        Ok(Ok(conn)) => {
            out.connect = Some(t0.elapsed());
            drop(conn);
        }
        Ok(Err(e)) => out.error = Some(format!("connect to {addr}: {e}")),
        Err(_) => {
            out.error = Some(format!(
                "connect to {addr}: no answer within {timeout:?} (tcp_timeout)"
            ));
        }
    }
    out
}

async fn check_udp(t: &Target, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let mut out = Outcome {
        dns: Duration::ZERO,
        connect: None,
        error: None,
    };
    let addr = match resolve(&t.host, t.port, timeout).await {
        Ok((a, dns)) => {
            out.dns = dns;
            a
        }
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let local: SocketAddr = if addr.is_ipv4() {
        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let probe = async {
        let s = tokio::net::UdpSocket::bind(local).await?;
        s.connect(addr).await?;
        s.send(b"X").await?;
        let wait = UDP_ANSWER_WAIT.min(timeout.saturating_sub(started.elapsed()));
        let mut buf = [0u8; 512];
        match tokio::time::timeout(wait, s.recv(&mut buf)).await {
            // An answer, or silence: nothing said the port is closed.
            Ok(Ok(_)) | Err(_) => Ok(()),
            Ok(Err(e)) => Err(e),
        }
    };
    if let Err(e) = probe.await {
        out.error = Some(if e.kind() == std::io::ErrorKind::ConnectionRefused {
            format!("{addr}: the host answers \"port unreachable\"")
        } else {
            format!("probe to {addr}: {e}")
        });
    }
    out
}

/// The point of one check.
fn point(t: &Target, o: &Outcome, tags: &[(String, String)], time: i64) -> Point {
    let mut p = Point::new(Category::Metric, t.proto.as_str());
    p.time = time;
    p.set_tag("dest_host", t.host.clone());
    p.set_tag("dest_port", t.port.to_string());
    p.set_tag("proto", t.proto.as_str());
    for (k, v) in tags {
        p.add_tag_if_absent(k, v);
    }
    if !tags.iter().any(|(k, _)| k == "host") && !is_loopback(&t.host) {
        p.add_tag_if_absent("host", &t.host);
    }
    let us = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    if t.proto == Proto::Tcp {
        let connect = o.connect.unwrap_or_default();
        p.set_field("response_time", Value::Int(us(connect)));
        p.set_field("response_time_with_dns", Value::Int(us(connect + o.dns)));
    }
    let ok = o.error.is_none();
    p.set_field("success", Value::Int(if ok { 1 } else { -1 }));
    p
}

async fn run(s: Socket, mut ctx: InputCtx) -> Result<(), InputError> {
    let mut tick = tokio::time::interval(s.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ctx.stats.interval_ns.store(
        u64::try_from(s.interval.as_nanos()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
    let mut failing: Vec<bool> = vec![false; s.targets.len()];
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = ctx.shutdown.wait() => return Ok(()),
        }
        let now = crate::clock::now_ns();
        let started = Instant::now();
        let checks = s.targets.iter().map(|t| async {
            match t.proto {
                Proto::Tcp => check_tcp(t, s.tcp_timeout).await,
                Proto::Udp => check_udp(t, s.udp_timeout).await,
            }
        });
        let outcomes = tokio::select! {
            o = join_all(checks) => o,
            _ = ctx.shutdown.wait() => return Ok(()),
        };
        ctx.stats.record_collect(started.elapsed());
        let mut points = Vec::with_capacity(outcomes.len());
        for ((t, o), was) in s.targets.iter().zip(&outcomes).zip(failing.iter_mut()) {
            points.push(point(t, o, &s.tags, now));
            match &o.error {
                Some(e) => {
                    let msg = format!("{}: {e}", t.url);
                    if !*was {
                        tracing::warn!(input = ctx.name, "{msg}");
                    }
                    ctx.stats.record_error(msg.clone());
                    ctx.agent_stats.record_error(ctx.name, msg);
                    *was = true;
                }
                None if *was => {
                    tracing::info!(input = ctx.name, "{}: answers again", t.url);
                    *was = false;
                }
                None => {}
            }
        }
        ctx.ingest
            .feed(
                &ctx.origin,
                Category::Metric,
                points,
                &FeedOptions::default(),
            )
            .await?;
    }
}

/// Runs the futures at once; their outputs in order.
async fn join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (f, slot) in pending.iter_mut().zip(done.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

const TAGS: &[TagSpec] = &[
    TagSpec {
        name: "dest_host",
        description: "The target's host as written in `dest_url` (`www.example.com`, `10.0.0.5`).",
    },
    TagSpec {
        name: "dest_port",
        description: "The target's port (`80`).",
    },
    TagSpec {
        name: "proto",
        description: "`tcp` or `udp`, as the measurement.",
    },
    TagSpec {
        name: "host",
        description: "The target's host, unless it is loopback or `tags` sets `host` (then the agent's host, from the global host tags).",
    },
];

const TCP_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "response_time",
        kind: FieldType::Int,
        unit: "time,us",
        description: "Time to connect, without the name lookup (0 when the connection failed).",
    },
    FieldSpec {
        name: "response_time_with_dns",
        kind: FieldType::Int,
        unit: "time,us",
        description: "Time to connect, with the name lookup.",
    },
    FieldSpec {
        name: "success",
        kind: FieldType::Int,
        unit: "-",
        description: "1: connected; -1: the lookup or the connection failed (the input's last error says why).",
    },
];

const UDP_FIELDS: &[FieldSpec] = &[FieldSpec {
    name: "success",
    kind: FieldType::Int,
    unit: "-",
    description: "1: no \"port unreachable\" came back to the probe within 1 s (an answer, or silence); -1: it did, or the lookup failed.",
}];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "tcp",
        category: Category::Metric,
        description: "One point per `tcp://` target and check.",
        tags: TAGS,
        fields: TCP_FIELDS,
    },
    MeasurementSpec {
        name: "udp",
        category: Category::Metric,
        description: "One point per `udp://` target and check.",
        tags: TAGS,
        fields: UDP_FIELDS,
    },
];

const NOTES: &[&str] = &[
    "UDP has no connection to time: the probe (`X`, as `nc -uz` sends) fails only when the host answers \"port unreachable\". A port behind a firewall that drops it, or a black-holed address, reports `success = 1`, as with the original's `nc -vuz`; use a TCP target where you can.",
    "Differences from the original: UDP needs no `nc` (the original sent no UDP point without it); every target is checked at once (a black-holed target no longer delays the others by its timeout); `tcp_timeout` and `udp_timeout` bound the name lookup too; a `dest_url` that is not `tcp://host:port` or `udp://host:port` is a config error.",
];

pub const ENTRY: InputEntry = entry::<SocketConfig>(InputSpec {
    name: "socket",
    catalog: "socket",
    description: "Checks TCP and UDP ports: connect time and success per target.",
    singleton: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(10),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
})
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dest_urls_parse() {
        let t = target("tcp://example.com:80").unwrap();
        assert_eq!(
            (t.proto, t.host.as_str(), t.port),
            (Proto::Tcp, "example.com", 80)
        );
        let t = target("UDP://[::1]:53/").unwrap();
        assert_eq!((t.proto, t.host.as_str(), t.port), (Proto::Udp, "::1", 53));
        for (u, want) in [
            ("example.com:80", "is not `tcp://host:port`"),
            ("http://x:80", "unknown scheme `http`"),
            ("tcp://x", "has no port"),
            ("tcp://x:0", "invalid port `0`"),
            ("tcp://x:99999", "invalid port `99999`"),
            ("tcp://:80", "has no host"),
            ("tcp://x:80/path", "has more than host:port"),
            ("tcp://[::1:80", "without `]`"),
        ] {
            let e = target(u).unwrap_err();
            assert!(e.contains(want), "{u}: {e}");
        }
    }

    #[test]
    fn options_are_checked() {
        let c: SocketConfig =
            toml::from_str("dest_url = [\"tcp://a:1\", \"ftp://b:2\"]\ntcp_timeout = \"0s\"\n")
                .unwrap();
        let mut v = Validation::default();
        c.validate(&mut v);
        let keys: Vec<&str> = v.issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["dest_url[1]", "tcp_timeout"]);
        assert!(
            c.election_enabled(),
            "election by default, as in the original"
        );
        let mut v = Validation::default();
        SocketConfig::default().validate(&mut v);
        assert_eq!(v.issues.len(), 1, "an empty list is a warning");
    }

    #[test]
    fn points_follow_the_originals_schema() {
        let t = target("tcp://db.example:5432").unwrap();
        let ok = Outcome {
            dns: Duration::from_micros(300),
            connect: Some(Duration::from_micros(1200)),
            error: None,
        };
        let p = point(&t, &ok, &[("team".into(), "ops".into())], 7);
        assert_eq!(p.name, "tcp");
        assert_eq!(p.get_tag("dest_host"), Some("db.example"));
        assert_eq!(p.get_tag("dest_port"), Some("5432"));
        assert_eq!(p.get_tag("proto"), Some("tcp"));
        assert_eq!(p.get_tag("team"), Some("ops"));
        assert_eq!(
            p.get_tag("host"),
            Some("db.example"),
            "a remote target is the host"
        );
        assert_eq!(p.get_field("response_time"), Some(&Value::Int(1200)));
        assert_eq!(
            p.get_field("response_time_with_dns"),
            Some(&Value::Int(1500))
        );
        assert_eq!(p.get_field("success"), Some(&Value::Int(1)));
        let failed = Outcome {
            dns: Duration::from_micros(300),
            connect: None,
            error: Some("refused".into()),
        };
        let p = point(&t, &failed, &[("host".into(), "mine".into())], 7);
        assert_eq!(p.get_field("response_time"), Some(&Value::Int(0)));
        assert_eq!(
            p.get_field("response_time_with_dns"),
            Some(&Value::Int(300))
        );
        assert_eq!(p.get_field("success"), Some(&Value::Int(-1)));
        assert_eq!(p.get_tag("host"), Some("mine"), "tags win over the target");
        let u = target("udp://127.0.0.1:53").unwrap();
        let p = point(&u, &ok, &[], 7);
        assert_eq!(p.name, "udp");
        assert_eq!(
            p.get_tag("host"),
            None,
            "loopback: the agent's host tags apply"
        );
        assert_eq!(p.fields.len(), 1);
    }

    #[tokio::test]
    async fn real_listeners_closed_ports_and_resets() {
        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let open_port = open.local_addr().unwrap().port();
        let closed_port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let tcp = |port: u16| target(&format!("tcp://127.0.0.1:{port}")).unwrap();
        let o = check_tcp(&tcp(open_port), Duration::from_secs(5)).await;
        assert_eq!(o.error, None);
        assert!(o.connect.is_some_and(|c| c > Duration::ZERO));
        let o = check_tcp(&tcp(closed_port), Duration::from_secs(5)).await;
        assert!(
            o.error.as_deref().is_some_and(|e| e.contains("refused")),
            "{o:?}"
        );
        let udp_open = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let udp = |port: u16| target(&format!("udp://127.0.0.1:{port}")).unwrap();
        let o = check_udp(
            &udp(udp_open.local_addr().unwrap().port()),
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(o.error, None);
        let mut buf = [0u8; 8];
        let (n, _) = udp_open.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"X", "the probe arrived");
        let o = check_udp(&udp(closed_port), Duration::from_secs(5)).await;
        assert!(
            o.error
                .as_deref()
                .is_some_and(|e| e.contains("port unreachable")),
            "{o:?}"
        );
        let o = check_tcp(
            &target("tcp://name.invalid:80").unwrap(),
            Duration::from_secs(3),
        )
        .await;
        assert!(o.error.is_some(), "{o:?}");
    }
}
