//! `redis`: metrics and logs of one Redis server, with the original's names (measurement
//! `redis` with `measurement_version = "v2"`; the logging points `redis_config`,
//! `redis_client`, `redis_slowlog`, `redis_latency`; the `collector` up-metric).
//!
//! Every interval, on a scrape-lane thread, one connection (kept between collections, made
//! again after any failure) asks `INFO ALL` — its text gives the info point, the error and
//! latency-percentile points, and the `Keyspace`, `Commandstats` and `Replication` sections the
//! original asked for separately — then `CLIENT LIST`, `LATENCY LATEST` and `SLOWLOG GET`;
//! `CONFIG GET *` every `config_collect_interval`. Every call has `connect_timeout` as its
//! deadline, so a server that stops answering costs one timeout, never a stuck thread.
//!
//! A failure to connect, authenticate or run `INFO` sends `up = 0` and is counted with the
//! target in the message (the password never shown), in `datakit monitor` and `lasterror`; an
//! error reply to a later command (an ACL user without `CONFIG`) skips that part and is
//! counted too.
//!
//! The client is [`resp`], a RESP2 client of its own (about 300 lines): the input sends a
//! handful of commands and reads their replies, which the `redis` crate would do with its
//! connection manager, URL parsing and value conversions it does not need.

pub mod parse;
pub mod resp;
mod schema;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::{
    Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits, Validation,
    entry_with_compat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};
use parse::{BaseTags, CpuSeconds, Names, SlowlogState};
use resp::{Conn, Endpoint, Reply, RespError};

const NAME: &str = "redis";

config_struct! {
    "Clients of `CLIENT LIST` sent as `redis_client` logging points."
    pub struct ClientListConfig {
        "Client flags (letters of `CLIENT LIST`'s `flags`) whose clients are sent as logging points: `b` blocked, `x` in MULTI, `O` monitor, `R` invalid tracking redirect, ... Empty sends none."
        pub log_on_flags: String = "bxOR".into(),
    }
}

config_struct! {
    "Collects Redis metrics, its slow log, latency events, clients and configuration."
    pub struct RedisConfig {
        "Server host name or address."
        pub host: String = "localhost".into(),
        "Server port."
        pub port: u16 = 6379,
        "Connect through this unix socket instead of `host:port`."
        pub unix_socket_path: String = String::new(),
        "ACL user name (Redis 6 and later); empty authenticates with the password alone."
        pub username: String = String::new(),
        "Password (`AUTH`); empty sends none."
        pub password: String = String::new(),
        "Limit for connecting and for each command's answer."
        pub connect_timeout: Dur = Dur::from_secs(10),
        "Databases whose keyspace points are sent (`db0` is 0); empty sends every database."
        pub dbs: Vec<i64> = vec![0],
        "Collection interval."
        pub interval: Dur = Dur::from_secs(15),
        "Interval of `CONFIG GET *` (the `redis_config` points)."
        pub config_collect_interval: Dur = Dur::from_secs(3600),
        "`v2` (or later) names every metric point `redis`; empty or `v1` uses the older names (`redis_info`, `redis_db`, `redis_command_stat`, `redis_replica`, `redis_clients_stat`)."
        pub measurement_version: String = "v2".into(),
        "Send the slow log (`SLOWLOG GET`) as `redis_slowlog` logging points."
        pub slow_log: bool = true,
        "Send every slow-log entry Redis returns, also those from before the agent started and those already sent."
        pub all_slow_log: bool = false,
        "How many slow-log entries to ask for."
        pub slowlog_max_len: u32 = 128,
        "Send `INFO`'s latency percentiles per command (Redis 7) as points tagged `command_type` and `quantile`."
        pub latency_percentiles: bool = false,
        "Leader election: with `[election] enable`, only the elected agent collects, and the points get the election tags instead of the host tags."
        pub election: bool = true,
        "Clients sent as logging points."
        pub collect_client_list: ClientListConfig = ClientListConfig::default(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

/// Keys of the original's `redis` that this input reads without acting on them.
fn compat(key: &str) -> Option<&'static str> {
    const TLS: &str = "TLS is not supported by this input yet: it connects in plain text, so a TLS-only server fails with a clear error";
    Some(match key {
        "cluster" => {
            "cluster mode (discovering the masters) is not supported: configure one `[[inputs.redis]]` per node"
        }
        "master_slave" => {
            "master-replica and sentinel discovery are not supported: configure one `[[inputs.redis]]` per node"
        }
        "topology_refresh_interval" => {
            "only used by cluster and sentinel discovery, which this input does not do"
        }
        "hot_big_keys" | "hotkey" | "bigkey" => {
            "the hot and big key scans (`redis_hotkey`, `redis_bigkey`) are not supported"
        }
        "log" => {
            "collect Redis's log with a `[[inputs.logging]]` (`source = \"redis\"`, `pipeline = \"redis.p\"`, the built-in script)"
        }
        "db" => "deprecated in the original; `dbs` chooses the databases reported",
        "slowlog-max-len" => "deprecated in the original: write `slowlog_max_len`",
        "tls_open"
        | "tls_ca"
        | "tls_cert"
        | "tls_key"
        | "insecure_skip_verify"
        | "ca_certs"
        | "cert"
        | "cert_key"
        | "server_name"
        | "ca_certs_base64"
        | "cert_base64"
        | "cert_key_base64" => TLS,
        _ => return None,
    })
}

fn is_v2(version: &str) -> Option<bool> {
    let v = version.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Some(false);
    }
    let n: u32 = v.strip_prefix('v')?.parse().ok()?;
    Some(n >= 2)
}

impl RedisConfig {
    /// Where to connect, how errors show it (no password), and the `server` tag.
    fn endpoint(&self) -> (Endpoint, String, String) {
        if !self.unix_socket_path.is_empty() {
            let p = self.unix_socket_path.clone();
            (Endpoint::Unix(p.clone()), format!("redis+unix://{p}"), p)
        } else {
            let addr = if self.host.contains(':') && !self.host.starts_with('[') {
                format!("[{}]:{}", self.host, self.port)
            } else {
                format!("{}:{}", self.host, self.port)
            };
            let user = match (self.username.is_empty(), self.password.is_empty()) {
                (true, true) => String::new(),
                (true, false) => ":***@".to_string(),
                (false, true) => format!("{}@", self.username),
                (false, false) => format!("{}:***@", self.username),
            };
            (
                Endpoint::Tcp(addr.clone()),
                format!("redis://{user}{addr}"),
                addr,
            )
        }
    }
}

impl InputConfig for RedisConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        crate::inputs::host::check_interval(v, "interval", self.interval);
        crate::inputs::host::check_interval(v, "connect_timeout", self.connect_timeout);
        crate::inputs::host::check_interval(
            v,
            "config_collect_interval",
            self.config_collect_interval,
        );
        crate::inputs::host::check_tags(v, &self.tags);
        if self.unix_socket_path.is_empty() {
            if self.host.trim().is_empty() {
                v.error(
                    "host",
                    "empty: set the server's host (or `unix_socket_path`)",
                );
            }
            if self.port == 0 {
                v.error("port", "must be a port number (1-65535)");
            }
        }
        if is_v2(&self.measurement_version).is_none() {
            v.error(
                "measurement_version",
                format!(
                    "`{}` is not a version: write `v2` (every metric point named `redis`) or `v1`",
                    self.measurement_version
                ),
            );
        }
        if self.slowlog_max_len == 0 && self.slow_log {
            v.error(
                "slowlog_max_len",
                "must be at least 1 (or set `slow_log = false`)",
            );
        }
        for (i, d) in self.dbs.iter().enumerate() {
            if *d < 0 {
                v.error(&format!("dbs[{i}]"), "database numbers start at 0");
            }
        }
        let unknown: String = self
            .collect_client_list
            .log_on_flags
            .chars()
            .filter(|c| !parse::FLAGS.iter().any(|(f, _, _)| char::from(*f) == *c))
            .collect();
        if !unknown.is_empty() {
            v.warning(
                "collect_client_list.log_on_flags",
                format!("`{unknown}` are not client flags Redis prints; they match no client"),
            );
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        Ok(Box::new(RedisInput {
            interval: self.interval.get(),
            collector: Collector::new(self),
        }))
    }
}

/// One Redis server's collector: the connection and what it remembers between collections.
pub struct Collector {
    endpoint: Endpoint,
    /// How errors show the target (`redis://user:***@host:port`).
    target: String,
    username: String,
    password: String,
    timeout: Duration,
    conn: Option<Conn>,
    names: Names,
    base_tags: Vec<(String, String)>,
    up_tags: Vec<(String, String)>,
    dbs: Vec<i64>,
    latency_percentiles: bool,
    slow_log: bool,
    all_slow_log: bool,
    slowlog_max_len: String,
    log_on_flags: String,
    interval_secs: f64,
    config_every: Duration,
    last_config: Option<Instant>,
    cpu: Option<CpuSeconds>,
    latency_seen: HashMap<String, i64>,
    slowlog: SlowlogState,
}

/// What one collection gives.
#[derive(Debug, Default)]
pub struct Outcome {
    pub points: Vec<Point>,
    /// The `collector` up-metric.
    pub up: Option<Point>,
    /// Why the server could not be collected (up = 0).
    pub error: Option<String>,
    /// Commands answered with an error reply: those parts are left out.
    pub partial: Vec<String>,
}

impl Collector {
    pub fn new(cfg: &RedisConfig) -> Collector {
        let (endpoint, target, server) = cfg.endpoint();
        let mut base_tags = vec![
            ("host".to_string(), cfg.host.clone()),
            ("server".to_string(), server.clone()),
        ];
        for (k, v) in &cfg.tags {
            if !base_tags.iter().any(|(bk, _)| bk == k) {
                base_tags.push((k.clone(), v.clone()));
            }
        }
        let mut up_tags = vec![
            ("job".to_string(), NAME.to_string()),
            ("instance".to_string(), server),
        ];
        up_tags.extend(cfg.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Collector {
            endpoint,
            target,
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            timeout: cfg.connect_timeout.get(),
            conn: None,
            names: Names {
                v2: is_v2(&cfg.measurement_version).unwrap_or(true),
            },
            base_tags,
            up_tags,
            dbs: cfg.dbs.clone(),
            latency_percentiles: cfg.latency_percentiles,
            slow_log: cfg.slow_log,
            all_slow_log: cfg.all_slow_log,
            slowlog_max_len: cfg.slowlog_max_len.to_string(),
            log_on_flags: cfg.collect_client_list.log_on_flags.clone(),
            interval_secs: cfg.interval.get().as_secs_f64(),
            config_every: cfg.config_collect_interval.get(),
            last_config: None,
            cpu: None,
            latency_seen: HashMap::new(),
            slowlog: SlowlogState {
                since: i64::try_from(crate::clock::now_secs()).unwrap_or(i64::MAX),
                last_id: None,
            },
        }
    }

    /// The connection, made (and authenticated) if there is none.
    fn conn(&mut self) -> Result<&mut Conn, RespError> {
        if self.conn.is_none() {
            let mut c = Conn::connect(&self.endpoint, &self.target, self.timeout)?;
            if !self.password.is_empty() {
                let mut args: Vec<&[u8]> = vec![b"AUTH"];
                if !self.username.is_empty() {
                    args.push(self.username.as_bytes());
                }
                args.push(self.password.as_bytes());
                c.call("AUTH", &args)?;
            }
            // The name shows in CLIENT LIST; an old server without it is no reason to fail.
            match c.call("CLIENT SETNAME", &[b"CLIENT", b"SETNAME", b"datakit"]) {
                Err(e) if e.breaks_connection() => return Err(e),
                _ => {}
            }
            self.conn = Some(c);
        }
        // Just set above when it was not there.
        self.conn.as_mut().ok_or_else(|| RespError::Closed {
            target: self.target.clone(),
            command: "connect",
        })
    }

    /// One collection at `now_ns`.
    pub fn collect(&mut self, now_ns: i64) -> Outcome {
        let mut out = Outcome::default();
        let up = match self.collect_points(&mut out) {
            Ok(()) => 1,
            Err(e) => {
                if e.breaks_connection() {
                    self.conn = None;
                }
                // Connecting, AUTH or INFO failed, or the connection broke: nothing of this
                // collection is sent but the up-metric.
                out.points.clear();
                out.error = Some(e.to_string());
                0
            }
        };
        let mut p = Point::new(Category::Metric, "collector");
        p.time = now_ns;
        for (k, v) in &self.up_tags {
            p.set_tag(k.as_str(), v.as_str());
        }
        p.set_field("up", Value::Int(up));
        out.up = Some(p);
        for p in out.points.iter_mut().filter(|p| p.time == 0) {
            p.time = now_ns;
        }
        out
    }

    fn collect_points(&mut self, out: &mut Outcome) -> Result<(), RespError> {
        let names = self.names;
        let tags: Vec<(String, String)> = self.base_tags.clone();
        let tags: &BaseTags = &tags;
        let started = Instant::now();
        let info = self.conn()?.call("INFO", &[b"INFO", b"ALL"])?;
        let info_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let info = info.text().unwrap_or_default();
        let (pts, _) = parse::info_points(
            &info,
            names,
            tags,
            info_ms,
            self.latency_percentiles,
            &mut self.cpu,
            self.interval_secs,
        );
        out.points.extend(pts);
        out.points
            .extend(parse::keyspace_points(&info, names, tags, &self.dbs));
        out.points.extend(parse::command_points(&info, names, tags));
        out.points
            .extend(parse::replication_points(&info, names, tags));

        if let Some(list) = self.optional(out, "CLIENT LIST", &[b"CLIENT", b"LIST"])? {
            let (metrics, logs) = parse::client_points(
                &list.text().unwrap_or_default(),
                names,
                tags,
                &self.log_on_flags,
            );
            out.points.extend(metrics);
            out.points.extend(logs);
        }
        if let Some(r) = self.optional(out, "LATENCY LATEST", &[b"LATENCY", b"LATEST"])? {
            out.points
                .extend(parse::latency_points(&r, tags, &mut self.latency_seen));
        }
        if self.slow_log {
            let n = self.slowlog_max_len.clone();
            if let Some(r) =
                self.optional(out, "SLOWLOG GET", &[b"SLOWLOG", b"GET", n.as_bytes()])?
            {
                out.points.extend(parse::slowlog_points(
                    &r,
                    tags,
                    self.all_slow_log,
                    &mut self.slowlog,
                ));
            }
        }
        let config_due = self
            .last_config
            .is_none_or(|t| t.elapsed() >= self.config_every);
        if config_due
            && let Some(r) = self.optional(out, "CONFIG GET", &[b"CONFIG", b"GET", b"*"])?
        {
            self.last_config = Some(Instant::now());
            out.points.extend(parse::config_points(&r, tags));
        }
        Ok(())
    }

    /// A command whose error reply skips its part (noted in `out.partial`); a broken
    /// connection fails the collection.
    fn optional(
        &mut self,
        out: &mut Outcome,
        name: &'static str,
        args: &[&[u8]],
    ) -> Result<Option<Reply>, RespError> {
        match self.conn()?.call(name, args) {
            Ok(r) => Ok(Some(r)),
            Err(e) if !e.breaks_connection() => {
                out.partial.push(e.to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

struct RedisInput {
    interval: Duration,
    collector: Collector,
}

impl Input for RedisInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run(*self, ctx))
    }
}

async fn run(r: RedisInput, mut ctx: InputCtx) -> Result<(), InputError> {
    let mut periodic =
        super::Periodic::on(super::exec::Lane::Scrape, r.interval, r.collector, &ctx);
    let mut failing: Option<String> = None;
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some((outcome, fed)) = periodic
            .next(&mut ctx, move |c| {
                let mut o = c.collect(crate::clock::now_ns());
                let fed = feed(&ingest, &origin, &mut o);
                (o, fed)
            })
            .await
        else {
            return Ok(());
        };
        let now_failing = outcome.error.clone();
        match (&failing, &now_failing) {
            (None, Some(m)) => tracing::warn!(input = ctx.name, "{m}"),
            (Some(a), Some(b)) if a != b => tracing::warn!(input = ctx.name, "{b}"),
            (Some(_), None) => tracing::info!(input = ctx.name, "collecting again"),
            _ => {}
        }
        failing = now_failing;
        for msg in outcome.error.into_iter().chain(outcome.partial) {
            ctx.stats.record_error(msg.clone());
            ctx.agent_stats.record_error(ctx.name, msg);
        }
        fed?;
    }
}

/// Feeds the outcome's points, one feed per category, then the up-metric.
fn feed(
    ingest: &crate::ingest::Ingest,
    origin: &crate::ingest::Origin,
    o: &mut Outcome,
) -> Result<(), InputError> {
    let mut points = std::mem::take(&mut o.points);
    points.extend(o.up.take());
    points.sort_by_key(|p| p.category);
    let opts = crate::ingest::FeedOptions::default();
    while let Some(cat) = points.first().map(|p| p.category) {
        let split = points
            .iter()
            .position(|p| p.category != cat)
            .unwrap_or(points.len());
        let rest = points.split_off(split);
        ingest.feed_blocking(origin, cat, points, &opts, false)?;
        points = rest;
    }
    Ok(())
}

const NOTES: &[&str] = &[
    "One connection per instance, kept between collections; `INFO ALL` is asked once and gives the info, keyspace, command and replication points (the original asked `INFO` four times). Each command's answer must come within `connect_timeout`.",
    "`measurement_version` defaults to `v2` here, as the original's sample sets it: every metric point is named `redis`. The original's code, for a configuration without the key, used the older names; `measurement_version = \"v1\"` gives those.",
    "`slowlog_95percentile` is the 95th percentile (nearest rank) of the durations read so far in the reply; the original's statistics library, given 0.95 as a percent, returned the maximum for fewer than about a hundred entries. `multi_avg` is 0 with no client (the original sent NaN).",
    "Not supported (reported as having no effect): cluster, master-replica and sentinel discovery, the hot and big key scans, TLS, and the `log` table (use a `logging` input with `pipeline = \"redis.p\"`).",
];

pub const ENTRY: InputEntry = entry_with_compat::<RedisConfig>(
    InputSpec {
        name: NAME,
        catalog: "db",
        description: "Redis metrics (INFO, keyspace, commands, replication, clients) and its slow log, latency events, clients and configuration as logging.",
        singleton: false,
        interval: Some(IntervalLimits {
            min: Duration::from_secs(15),
            max: Duration::from_secs(3600),
        }),
        measurements: schema::MEASUREMENTS,
    },
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(c: &RedisConfig) -> Vec<String> {
        crate::inputs::validation_issues(c)
    }

    #[test]
    fn the_default_validates_and_builds() {
        let c = RedisConfig::default();
        assert!(issues(&c).is_empty(), "{:?}", issues(&c));
        assert!(c.election_enabled());
        assert!(c.build().is_ok());
    }

    #[test]
    fn bad_options_are_reported() {
        let c: RedisConfig = toml::from_str(
            "host = \"\"\nport = 0\nmeasurement_version = \"two\"\ndbs = [-1]\nslowlog_max_len = 0\n[collect_client_list]\nlog_on_flags = \"bz\"\n",
        )
        .unwrap();
        let got = issues(&c);
        let keys: Vec<&str> = got.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "host",
                "port",
                "measurement_version",
                "slowlog_max_len",
                "dbs[0]",
                "collect_client_list.log_on_flags"
            ],
            "{got:?}"
        );
    }

    #[test]
    fn the_target_never_shows_the_password() {
        let c: RedisConfig =
            toml::from_str("host = \"10.0.0.1\"\nusername = \"app\"\npassword = \"s3cret\"\n")
                .unwrap();
        let (_, target, server) = c.endpoint();
        assert_eq!(target, "redis://app:***@10.0.0.1:6379");
        assert_eq!(server, "10.0.0.1:6379");
        let mut col = Collector::new(&RedisConfig {
            port: crate::inputs::redis::tests::closed_port(),
            password: "s3cret".into(),
            connect_timeout: Dur::from_secs(1),
            ..RedisConfig::default()
        });
        let o = col.collect(1);
        let err = o.error.unwrap();
        assert!(
            err.contains("connecting to redis://:***@localhost:"),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
        assert_eq!(o.up.unwrap().get_field("up"), Some(&Value::Int(0)));
        assert!(o.points.is_empty());
    }

    pub fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    #[test]
    fn versions() {
        assert_eq!(is_v2("v2"), Some(true));
        assert_eq!(is_v2(" V3 "), Some(true));
        assert_eq!(is_v2("v1"), Some(false));
        assert_eq!(is_v2(""), Some(false));
        assert_eq!(is_v2("2"), None);
    }
}
