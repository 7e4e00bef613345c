//! `nginx`: the `stub_status` page of nginx as the original names it (measurement `nginx`,
//! tags `nginx_server` and `nginx_port`, the `collector` up-metric), for one port or a range
//! of ports, and with `[inputs.nginx.log]` nginx's access and error logs through the log
//! tailer with the built-in `nginx.p` script (source and service `nginx`), as the original.
//!
//! Each page is fetched with the agent's HTTP client (TLS with `tls_ca`, `tls_cert`,
//! `tls_key`), bounded by `response_timeout`, on a scrape-lane thread. A port that cannot be
//! fetched or does not serve a stub_status page is counted with its URL in the message
//! (`datakit monitor`, `lasterror`); `up` is 0 when no port gave a page.
//!
//! Not supported: the VTS module's JSON (`use_vts`) and NGINX Plus's API (`use_plus_api`),
//! refused by `check-config`; the `web_server` custom object the original also sends.

pub mod stub;

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use super::prom::scrape::{Auth, Client, Source};
use super::{
    FieldSpec, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits,
    MeasurementSpec, TagSpec, Validation, entry_with_compat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::host::{field, tag};
use crate::net::{PemSource, TlsOptions, redact};
use crate::point::{Category, Point, Value};

const NAME: &str = "nginx";

/// The largest page accepted.
const MAX_PAGE: u64 = 64 * 1024;

config_struct! {
    "nginx's log files, tailed with a Pipeline script."
    pub struct NginxLogConfig {
        "Log files or globs (`/var/log/nginx/access.log`, `/var/log/nginx/error.log`); empty tails none."
        pub files: Vec<String> = Vec::new(),
        "The Pipeline script; empty uses the built-in `nginx.p` (access and error log lines)."
        pub pipeline: String = String::new(),
    }
}

config_struct! {
    "Collects nginx's stub_status page and, optionally, its logs."
    pub struct NginxConfig {
        "URL of the stub_status page (`location /basic_status { stub_status; }`)."
        pub url: String = "http://localhost:80/basic_status".into(),
        "`[from, to]`: fetch the page on every port of this range instead of the URL's port."
        pub ports: Vec<u16> = Vec::new(),
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Limit for each request: connect, TLS, headers and body."
        pub response_timeout: Dur = Dur::from_secs(5),
        "The VTS module's JSON: not supported by this agent (`true` is refused)."
        pub use_vts: bool = false,
        "NGINX Plus's API: not supported by this agent (`true` is refused)."
        pub use_plus_api: bool = false,
        "CA certificate file (PEM) that verifies an https URL, instead of the built-in roots."
        pub tls_ca: String = String::new(),
        "Client certificate file (PEM)."
        pub tls_cert: String = String::new(),
        "Client private key file (PEM)."
        pub tls_key: String = String::new(),
        "Skip verification of the server's TLS certificate."
        pub insecure_skip_verify: bool = false,
        "Leader election: with `[election] enable`, only the elected agent collects the page (the logs are tailed on every agent), and its points get the election tags instead of the host tags."
        pub election: bool = true,
        "nginx's logs."
        pub log: NginxLogConfig = NginxLogConfig::default(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

fn compat(key: &str) -> Option<&'static str> {
    Some(match key {
        "urls" => "deprecated in the original: write `url`",
        "plus_api_url" => "NGINX Plus's API is not supported by this input",
        _ => return None,
    })
}

/// The parts of the status URL.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    scheme: String,
    /// As written in the URL (`[::1]` for IPv6).
    host: String,
    port: u16,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("`{url}` is not a URL (http://host:port/path)"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => {
            return Err(format!(
                "unknown scheme `{scheme}`; use http:// or https://"
            ));
        }
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.split('?').next().unwrap_or("").to_string();
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("`{url}`: unclosed `[`"))?;
        (format!("[{h}]"), after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(format!("`{url}` has no host"));
    }
    let port = match port {
        None | Some("") => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("`{url}`: bad port `{p}`"))?,
    };
    Ok(Target {
        scheme,
        host,
        port,
        path,
    })
}

impl NginxConfig {
    fn ports(&self, t: &Target) -> (u16, u16) {
        match self.ports.as_slice() {
            [from, to] if !(*from == 0 && *to == 0) => (*from, *to),
            _ => (t.port, t.port),
        }
    }

    fn tls(&self) -> TlsOptions {
        TlsOptions {
            insecure_skip_verify: self.insecure_skip_verify,
            ca: PemSource::file_if_set("tls_ca", &self.tls_ca)
                .into_iter()
                .collect(),
            client_cert: PemSource::file_if_set("tls_cert", &self.tls_cert),
            client_key: PemSource::file_if_set("tls_key", &self.tls_key),
        }
    }

    fn logging(&self) -> Option<super::logging::LoggingConfig> {
        if self.log.files.is_empty() {
            return None;
        }
        Some(super::logging::LoggingConfig {
            logfiles: self.log.files.clone(),
            source: NAME.into(),
            service: NAME.into(),
            pipeline: self.log.pipeline.clone(),
            tags: self.tags.clone(),
            ..Default::default()
        })
    }
}

impl InputConfig for NginxConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        crate::inputs::host::check_interval(v, "interval", self.interval);
        crate::inputs::host::check_interval(v, "response_timeout", self.response_timeout);
        crate::inputs::host::check_tags(v, &self.tags);
        if let Err(e) = parse_url(&self.url) {
            v.error("url", e);
        }
        match self.ports.as_slice() {
            [] => {}
            [0, 0] => {}
            [from, to] if *from == 0 || from > to => {
                v.error("ports", "must be `[from, to]` with 1 ≤ from ≤ to");
            }
            [from, to] if to - from >= 1024 => {
                v.error("ports", "a range of at most 1024 ports");
            }
            [_, _] => {}
            _ => {
                v.error("ports", "must be two ports, `[from, to]`");
            }
        }
        if self.use_vts {
            v.error(
                "use_vts",
                "the VTS module's JSON is not supported by this agent: point `url` at a stub_status page instead",
            );
        }
        if self.use_plus_api {
            v.error(
                "use_plus_api",
                "NGINX Plus's API is not supported by this agent: point `url` at a stub_status page instead",
            );
        }
        if !self.tls_cert.is_empty() && self.tls_key.is_empty() {
            v.error("tls_key", "`tls_cert` needs `tls_key`")
                .reads(&["tls_cert"]);
        }
        if let Some(l) = self.logging() {
            let mut lv = Validation::default();
            l.validate(&mut lv);
            for i in lv.issues {
                let key = match i.key.as_str() {
                    "logfiles" => "log.files".to_string(),
                    k if k.starts_with("logfiles[") => {
                        format!("log.files{}", &k["logfiles".len()..])
                    }
                    "pipeline" => "log.pipeline".to_string(),
                    k => k.to_string(),
                };
                match i.severity {
                    crate::diag::Severity::Error => v.error(&key, i.message),
                    crate::diag::Severity::Warning => v.warning(&key, i.message),
                };
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
        let target = parse_url(&self.url).map_err(InputError::Setup)?;
        let (from, to) = self.ports(&target);
        let client = Client::new(
            self.response_timeout.get(),
            self.tls(),
            "",
            Vec::new(),
            Auth::None,
            MAX_PAGE,
        )
        .map_err(|e| InputError::Setup(e.to_string()))?;
        let log = match self.logging() {
            Some(l) => Some(l.build()?),
            None => None,
        };
        let mut up_tags = vec![
            ("job".to_string(), NAME.to_string()),
            (
                "instance".to_string(),
                format!("{}:{}", target.host, target.port),
            ),
        ];
        up_tags.extend(self.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Box::new(NginxInput {
            interval: self.interval.get(),
            collector: Collector {
                client,
                server: format!("{}://{}", target.scheme, target.host),
                path: target.path,
                ports: (from, to),
                tags: self
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                up_tags,
                buf: Vec::new(),
            },
            log,
        }))
    }
}

/// Fetches the page of every port.
pub struct Collector {
    client: Client,
    /// `scheme://host`: the `nginx_server` tag.
    server: String,
    path: String,
    ports: (u16, u16),
    tags: Vec<(String, String)>,
    up_tags: Vec<(String, String)>,
    buf: Vec<u8>,
}

/// The `nginx` point of a page.
pub fn stub_point(s: &stub::StubStatus) -> Point {
    let mut p = Point::new(Category::Metric, NAME);
    p.set_field("connection_active", Value::Uint(s.active));
    p.set_field("connection_accepts", Value::Uint(s.accepts));
    p.set_field("connection_handled", Value::Uint(s.handled));
    p.set_field("connection_requests", Value::Uint(s.requests));
    p.set_field("connection_reading", Value::Uint(s.reading));
    p.set_field("connection_writing", Value::Uint(s.writing));
    p.set_field("connection_waiting", Value::Uint(s.waiting));
    // The original subtracts unsigned numbers: 0 when a page shows more handled than accepted.
    p.set_field(
        "connection_dropped",
        Value::Uint(s.accepts.saturating_sub(s.handled)),
    );
    p
}

impl Collector {
    /// One collection: the points (with the up-metric) and the errors.
    pub fn collect(&mut self, now_ns: i64) -> (Vec<Point>, Vec<String>) {
        let mut points = Vec::new();
        let mut errors = Vec::new();
        for port in self.ports.0..=self.ports.1 {
            let url = format!("{}:{port}{}", self.server, self.path);
            let page = self
                .client
                .fetch(&Source::Http(url.clone()), &mut self.buf)
                .map_err(|e| e.to_string())
                .and_then(|_| {
                    stub::parse(&String::from_utf8_lossy(&self.buf)).map_err(|e| e.to_string())
                });
            match page {
                Ok(s) => {
                    let mut p = stub_point(&s);
                    for (k, v) in &self.tags {
                        p.set_tag(k.as_str(), v.as_str());
                    }
                    p.set_tag("nginx_server", self.server.as_str());
                    p.set_tag("nginx_port", port.to_string());
                    p.time = now_ns;
                    points.push(p);
                }
                Err(e) => errors.push(format!("nginx {}: {e}", redact(&url))),
            }
        }
        let mut up = Point::new(Category::Metric, "collector");
        for (k, v) in &self.up_tags {
            up.set_tag(k.as_str(), v.as_str());
        }
        up.set_field("up", Value::Int(i64::from(!points.is_empty())));
        up.time = now_ns;
        points.push(up);
        (points, errors)
    }
}

struct NginxInput {
    interval: Duration,
    collector: Collector,
    log: Option<Box<dyn Input>>,
}

impl Input for NginxInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let NginxInput {
                interval,
                collector,
                log,
            } = *self;
            match log {
                None => run_status(interval, collector, ctx).await,
                Some(log) => {
                    let (a, b) =
                        tokio::join!(run_status(interval, collector, ctx.clone()), log.run(ctx));
                    a.and(b)
                }
            }
        })
    }
}

async fn run_status(
    interval: Duration,
    collector: Collector,
    mut ctx: InputCtx,
) -> Result<(), InputError> {
    let mut periodic = super::Periodic::on(super::exec::Lane::Scrape, interval, collector, &ctx);
    let mut failing: Vec<String> = Vec::new();
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some((errors, fed)) = periodic
            .next(&mut ctx, move |c| {
                let (points, errors) = c.collect(crate::clock::now_ns());
                let fed = ingest
                    .feed_blocking(
                        &origin,
                        Category::Metric,
                        points,
                        &crate::ingest::FeedOptions::default(),
                        false,
                    )
                    .map(|_| ());
                (errors, fed)
            })
            .await
        else {
            return Ok(());
        };
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

const NGINX_TAGS: &[TagSpec] = &[
    tag!("nginx_server", "`scheme://host` of the status URL."),
    tag!("nginx_port", "The port the page was fetched on."),
];

const NGINX_FIELDS: &[FieldSpec] = &[
    field!(
        "connection_active",
        Uint,
        "count",
        "Open client connections, waiting ones included."
    ),
    field!(
        "connection_accepts",
        Uint,
        "count",
        "Client connections accepted since start."
    ),
    field!(
        "connection_handled",
        Uint,
        "count",
        "Client connections handled since start."
    ),
    field!(
        "connection_requests",
        Uint,
        "count",
        "Client requests since start."
    ),
    field!(
        "connection_reading",
        Uint,
        "count",
        "Connections whose request header is being read."
    ),
    field!(
        "connection_writing",
        Uint,
        "count",
        "Connections being answered."
    ),
    field!(
        "connection_waiting",
        Uint,
        "count",
        "Idle keep-alive connections."
    ),
    field!(
        "connection_dropped",
        Uint,
        "count",
        "Accepted connections not handled (accepts − handled)."
    ),
];

const UP_TAGS: &[TagSpec] = &[
    tag!("job", "Always `nginx`."),
    tag!("instance", "`host:port` of the status URL."),
];

const UP_FIELDS: &[FieldSpec] = &[field!(
    "up",
    Int,
    "-",
    "1 when a page was read in the last collection, 0 otherwise."
)];

const LOG_TAGS: &[TagSpec] = &[
    tag!("service", "`nginx`."),
    tag!(
        "status",
        "Set by `nginx.p`: `OK`, `notice`, `warning` or `error` from an access line's status code, the level of an error line (`warning` for warn and notice, `error` for error and worse); `info` otherwise."
    ),
];

const LOG_FIELDS: &[FieldSpec] = &[
    field!("message", String, "-", "The log line."),
    field!(
        "filepath",
        String,
        "-",
        "Path of the file the line was read from."
    ),
    field!(
        "log_read_lines",
        Int,
        "count",
        "Lines read from this file since it was opened."
    ),
    field!(
        "client_ip",
        String,
        "-",
        "Client address (access and error lines)."
    ),
    field!("http_method", String, "-", "Request method."),
    field!("http_url", String, "-", "Request URL."),
    field!("http_version", String, "-", "HTTP version."),
    field!("status_code", Int, "-", "Response status (access lines)."),
    field!(
        "bytes",
        Int,
        "digital,B",
        "Response body size (access lines)."
    ),
];

const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "nginx",
        category: Category::Metric,
        description: "The stub_status page, one point per port.",
        tags: NGINX_TAGS,
        fields: NGINX_FIELDS,
    },
    MeasurementSpec {
        name: "collector",
        category: Category::Metric,
        description: "Whether a page was read (one point per collection).",
        tags: UP_TAGS,
        fields: UP_FIELDS,
    },
    MeasurementSpec {
        name: "nginx",
        category: Category::Logging,
        description: "Lines of the `[inputs.nginx.log]` files, cut by `nginx.p` (the fields it finds, besides those listed: `referrer`, `agent` and the browser fields of `user_agent()`, `msg`, `server`, `upstream`, `ip_or_host`).",
        tags: LOG_TAGS,
        fields: LOG_FIELDS,
    },
];

const NOTES: &[&str] = &[
    "Fields are unsigned integers, as the original sends them.",
    "Not supported: the VTS module (`use_vts`) and NGINX Plus (`use_plus_api`, `plus_api_url`): `check-config` refuses `true`; the `web_server` custom object of the original is not sent.",
    "With `[inputs.nginx.log]`, the files are tailed like a `logging` input with `source = \"nginx\"` (its positions, rotation and limits); the logs are tailed on every agent, election or not.",
];

pub const ENTRY: InputEntry = entry_with_compat::<NginxConfig>(
    InputSpec {
        name: NAME,
        catalog: "nginx",
        description: "nginx's stub_status page, and its access and error logs with nginx.p.",
        singleton: false,
        interval: Some(IntervalLimits {
            min: Duration::from_secs(10),
            max: Duration::from_secs(30),
        }),
        measurements: MEASUREMENTS,
    },
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(c: &NginxConfig) -> Vec<String> {
        crate::inputs::validation_issues(c)
    }

    #[test]
    fn urls_are_read_like_the_original() {
        let t = parse_url("http://localhost/basic_status?x=1").unwrap();
        assert_eq!(
            (t.scheme.as_str(), t.host.as_str(), t.port, t.path.as_str()),
            ("http", "localhost", 80, "/basic_status")
        );
        let t = parse_url("https://u:p@[::1]:8443/s").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("[::1]", 8443));
        assert!(parse_url("ftp://x/").is_err());
        assert!(parse_url("localhost/x").is_err());
        assert!(parse_url("http://h:0/").is_err());
    }

    #[test]
    fn the_default_validates_and_unsupported_modes_are_refused() {
        let c = NginxConfig::default();
        assert!(issues(&c).is_empty(), "{:?}", issues(&c));
        assert!(c.build().is_ok());
        let c: NginxConfig = toml::from_str(
            "url = \"gopher://x\"\nuse_vts = true\nports = [90, 80]\ntls_cert = \"/c\"\n",
        )
        .unwrap();
        let keys: Vec<String> = issues(&c)
            .iter()
            .map(|s| s.split(':').next().unwrap().to_string())
            .collect();
        assert_eq!(keys, ["url", "ports", "use_vts", "tls_key"]);
    }

    #[test]
    fn a_closed_port_is_an_error_naming_the_url_and_up_0() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = NginxConfig {
            url: format!("http://127.0.0.1:{port}/basic_status"),
            response_timeout: Dur::from_secs(1),
            ..NginxConfig::default()
        };
        let t = parse_url(&c.url).unwrap();
        let mut col = Collector {
            client: Client::new(
                Duration::from_secs(1),
                TlsOptions::default(),
                "",
                vec![],
                Auth::None,
                MAX_PAGE,
            )
            .unwrap(),
            server: "http://127.0.0.1".into(),
            path: t.path,
            ports: (port, port),
            tags: vec![],
            up_tags: vec![],
            buf: vec![],
        };
        let (points, errors) = col.collect(1);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].get_field("up"), Some(&Value::Int(0)));
        assert!(
            errors[0].starts_with(&format!("nginx http://127.0.0.1:{port}/basic_status: ")),
            "{errors:?}"
        );
    }
}
