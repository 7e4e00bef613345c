//! `prom`: scrapes Prometheus exporters and OpenMetrics endpoints into DataKit metrics.
//!
//! Every `interval`, each URL is fetched ([`scrape`]: HTTP(S) with keep-alive and gzip, HTTP
//! over a unix socket with `uds_path`, or a local file), parsed ([`parse`]: text format 0.0.4
//! and OpenMetrics 1.0, zero-copy) and converted ([`convert`]: the original's
//! measurement/field naming rule, filters and tag options). A `collector` point with field
//! `up` (1 or 0) is sent per URL and scrape, as the original does.
//!
//! Errors never stop the input: an unreachable target, a bad status, a body over
//! `max_body_size` or unparsable lines are counted in the input's stats with the last error
//! (`datakit monitor`, `/v1/monitor`), logged once when they start, and the next scrape runs
//! as usual.
//!
//! Option names are the original's. Fixes of the original's behaviour:
//! - `timeout` bounds the whole request (connect, TLS, headers, body); the original applied it
//!   to the TCP dial only and had no overall limit.
//! - `disable_host_tag` works (the points get no global host tags); the original parsed and
//!   ignored it.
//! - `ignore_tag_kv_match` drops the matching sample, as its documentation says; the original
//!   deleted the tag and kept the sample, which folded distinct series into one.
//! - One failing URL no longer discards the points of the other URLs of the instance, and a bad
//!   line skips that line only (the original refused the whole body).
//! - Tag precedence: the input's `tags`, then the sample's labels, then `info` labels; the
//!   original let `info` labels override the sample's own labels, and left them off histogram
//!   bucket points.
//! - `instance` gets the scheme's default port when the URL has none (the original wrote
//!   `host:0`).
//! - NaN and ±Inf are skipped for every type; the original sent NaN sums and counts, which the
//!   line protocol cannot carry.
//! - The body is bounded (`max_body_size`, after decompression); the original read any size.
//! - A `[[measurements]]` rule whose prefix is the whole metric name gives the full name as
//!   the field instead of an empty field name.
//! - A bearer `token_file` is read at every scrape, so rotated tokens are picked up.
//!
//! Changes that are not fixes: samples with the same measurement, tags and timestamp form one
//! point with several fields (same series, fewer lines; at most
//! [`convert::MAX_FIELDS_PER_POINT`] fields a point); OpenMetrics bodies are understood
//! (`_created` samples skipped, exemplars ignored, counters keep their `_total`).
//!
//! `election` (default true, as in the original) marks the input as election-aware
//! ([`InputConfig::election_enabled`]): with `[election] enable`, only the elected agent
//! scrapes, and the points carry the election tags instead of the host tags.
//!
//! Not supported: `output`/`max_file_size` (the original's debug dump of the raw text),
//! `stream_size` (the whole body is parsed at once), `server_name`, and the deprecated
//! `tls_open` (TLS follows the URL's scheme). `url`, `tls_ca`, `tls_cert` and `tls_key` are read
//! as `urls`, `ca_certs`, `cert` and `cert_key`.

pub mod convert;
pub mod parse;
pub mod scrape;

use std::any::Any;
use std::collections::BTreeMap;
use std::time::Duration;

use regex::RegexSet;
use serde::{Deserialize, Serialize};

use super::{
    FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    IntervalLimits, MeasurementSpec, TagSpec, Validation, entry,
};
use crate::config::duration::Dur;
use crate::config::schema::ConfType;
use crate::config_struct;
use crate::net::{PemSource, TlsOptions, host_port, is_loopback, redact};
use crate::point::{Category, Point, Value};
use convert::{Converter, Options, Rule};
use parse::MetricType;
use scrape::{Auth, Client, ScrapeError, Source};

/// A list of strings that may also be written as one string (`url = "..."` for `urls`,
/// `tls_ca = "..."` for `ca_certs`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct StrList(pub Vec<String>);

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = StrList;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<StrList, E> {
                Ok(StrList(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<StrList, A::Error> {
                let mut v = Vec::new();
                while let Some(s) = a.next_element::<String>()? {
                    v.push(s);
                }
                Ok(StrList(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl ConfType for StrList {
    fn type_name() -> String {
        "array of string".into()
    }
}

config_struct! {
    "A rule naming the measurement of metrics that start with a prefix."
    pub struct MeasurementRule {
        "Metric-name prefix the rule applies to (`etcd_network_`)."
        pub prefix: String = String::new(),
        "Measurement for those metrics; empty uses the prefix without its trailing `_`. The field is the rest of the metric name."
        pub name: String = String::new(),
    }
}

config_struct! {
    "Credentials sent with every request."
    pub struct AuthConfig {
        "`bearer_token` (`Authorization: Bearer`) or `basic_auth` (`Authorization: Basic`); empty sends none."
        pub r#type: String = String::new(),
        "Bearer token."
        pub token: String = String::new(),
        "File holding the bearer token (read at every scrape; trailing newlines removed)."
        pub token_file: String = String::new(),
        "Basic auth user name."
        pub username: String = String::new(),
        "Basic auth password."
        pub password: String = String::new(),
    }
}

config_struct! {
    "Renaming of label keys."
    pub struct TagsRename {
        "Rename even when the new key already exists (its value is replaced); otherwise that rename is skipped."
        pub overwrite_exist_tags: bool = false,
        "Old key = new key."
        pub mapping: BTreeMap<String, String> = BTreeMap::new(),
    }
}

config_struct! {
    "Sending the samples as logging data instead of metrics."
    pub struct AsLogging {
        "Send logging points (with `status = \"info\"`) instead of metric points."
        pub enable: bool = false,
        "The `service` tag of those points; empty uses the measurement name."
        pub service: String = String::new(),
    }
}

config_struct! {
    "Scrapes Prometheus exporters and OpenMetrics endpoints."
    pub struct PromConfig {
        "Exporter URLs, `http://` or `https://`; anything else is read as a local file (`file:///path` or a path). `url` (one string) is read as this key."
        alias("url")
        pub urls: StrList = StrList(vec!["http://127.0.0.1:9100/metrics".into()]),
        "Send every HTTP request through this unix socket (the URLs' paths are requested over it)."
        pub uds_path: String = String::new(),
        "Scrape interval."
        pub interval: Dur = Dur::from_secs(30),
        "Limit for a whole request: connect, TLS, headers and body."
        pub timeout: Dur = Dur::from_secs(30),
        "Largest body accepted, in bytes after decompression; a larger body is an error."
        pub max_body_size: u64 = 32 * 1024 * 1024,
        "Name of the scrape job: the `job` tag of the `collector` up-metric."
        pub source: String = "prom".into(),
        "Do not count failed requests as errors (the up-metric still reports 0)."
        pub ignore_req_err: bool = false,
        "Metric types to keep: counter, gauge, histogram, summary, untyped, info, gaugehistogram, stateset. Empty keeps all."
        pub metric_types: Vec<String> = Vec::new(),
        "Regular expressions; only families whose name matches one are kept (a search anywhere in the name, as in the original). Empty keeps all."
        pub metric_name_filter: Vec<String> = Vec::new(),
        "Regular expressions; families whose name matches one are dropped, even when `metric_name_filter` matches."
        pub metric_name_filter_ignore: Vec<String> = Vec::new(),
        "Prepended to every measurement name."
        pub measurement_prefix: String = String::new(),
        "One measurement for every family, whose fields are the full metric names. Empty: the measurement is the metric name up to its first `_`, the field the rest."
        pub measurement_name: String = String::new(),
        "With the default split, keep the full metric name as the field name."
        pub keep_exist_metric_name: bool = false,
        "Use the timestamps samples carry; off stamps every point with the scrape time."
        pub honor_timestamps: bool = true,
        "Leader election: with `[election] enable`, only the elected agent scrapes, and the points get the election tags (`[election.tags]`) instead of the host tags. `false` scrapes on every agent."
        pub election: bool = true,
        "Do not add the agent's global host tags (`host`, ...) to the points."
        pub disable_host_tag: bool = false,
        "Do not add the tag `instance` (the target's `host:port`)."
        pub disable_instance_tag: bool = false,
        "Do not add the labels of `info` families to every point."
        pub disable_info_tag: bool = false,
        "Label keys to drop."
        pub tags_ignore: Vec<String> = Vec::new(),
        "Skip verification of the exporter's TLS certificate."
        pub insecure_skip_verify: bool = false,
        "CA certificate files (PEM) that verify the exporter, instead of the built-in roots. `tls_ca` is read as this key."
        alias("tls_ca")
        pub ca_certs: StrList = StrList::default(),
        "CA certificates as base64-encoded PEM."
        pub ca_certs_base64: Vec<String> = Vec::new(),
        "Client certificate file (PEM) for mutual TLS. `tls_cert` is read as this key."
        alias("tls_cert")
        pub cert: String = String::new(),
        "Client private key file (PEM). `tls_key` is read as this key."
        alias("tls_key")
        pub cert_key: String = String::new(),
        "Client certificate as base64-encoded PEM."
        pub cert_base64: String = String::new(),
        "Client private key as base64-encoded PEM."
        pub cert_key_base64: String = String::new(),
        "Measurement naming rules by metric-name prefix, checked before `measurement_name`."
        pub measurements: Vec<MeasurementRule> = Vec::new(),
        "Credentials."
        pub auth: AuthConfig = AuthConfig::default(),
        "Drop samples whose tag matches: tag key = [regular expressions] (keys after `tags_rename`)."
        pub ignore_tag_kv_match: BTreeMap<String, Vec<String>> = BTreeMap::new(),
        "Extra request headers."
        pub http_headers: BTreeMap<String, String> = BTreeMap::new(),
        "Renaming of label keys."
        pub tags_rename: TagsRename = TagsRename::default(),
        "Send the samples as logging data."
        pub as_logging: AsLogging = AsLogging::default(),
        "Extra tags for every point; they win over labels of the same name."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

fn regex_set(patterns: &[String]) -> Result<Option<RegexSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    RegexSet::new(patterns).map(Some).map_err(|e| e.to_string())
}

impl PromConfig {
    fn check_regexes(v: &mut Validation, key: &str, patterns: &[String]) {
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = crate::config::validate::check_regex(p) {
                v.error(
                    &format!("{key}[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
    }

    fn auth(&self) -> Result<Auth, String> {
        let a = &self.auth;
        match a.r#type.as_str() {
            "" => Ok(Auth::None),
            "bearer_token" => {
                if a.token.is_empty() && a.token_file.is_empty() {
                    return Err("`bearer_token` needs `token` or `token_file`".into());
                }
                Ok(Auth::Bearer {
                    token: a.token.clone(),
                    token_file: a.token_file.clone(),
                })
            }
            "basic_auth" => Ok(Auth::Basic {
                username: a.username.clone(),
                password: a.password.clone(),
            }),
            other => Err(format!(
                "unknown type `{other}`; use `bearer_token` or `basic_auth`"
            )),
        }
    }

    fn metric_types(&self) -> Result<Vec<MetricType>, (usize, String)> {
        self.metric_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                MetricType::from_name(t).ok_or_else(|| {
                    let all: Vec<&str> = MetricType::ALL.iter().map(|t| t.as_str()).collect();
                    (
                        i,
                        format!("unknown type `{t}`; use one of {}", all.join(", ")),
                    )
                })
            })
            .collect()
    }

    fn tls(&self) -> TlsOptions {
        let files = self
            .ca_certs
            .0
            .iter()
            .filter_map(|f| PemSource::file_if_set("ca_certs", f));
        let texts = self
            .ca_certs_base64
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| PemSource::base64("ca_certs_base64", t));
        TlsOptions {
            insecure_skip_verify: self.insecure_skip_verify,
            ca: files.chain(texts).collect(),
            client_cert: PemSource::file_or_base64(
                "cert",
                &self.cert,
                "cert_base64",
                &self.cert_base64,
            ),
            client_key: PemSource::file_or_base64(
                "cert_key",
                &self.cert_key,
                "cert_key_base64",
                &self.cert_key_base64,
            ),
        }
    }

    fn converter(&self) -> Result<Converter, String> {
        let mut ignore_tag_kv = Vec::new();
        for (k, pats) in &self.ignore_tag_kv_match {
            if let Some(set) = regex_set(pats)? {
                ignore_tag_kv.push((k.clone(), set));
            }
        }
        Ok(Converter::new(Options {
            measurement_prefix: self.measurement_prefix.clone(),
            measurement_name: self.measurement_name.clone(),
            rules: self
                .measurements
                .iter()
                .map(|r| Rule {
                    prefix: r.prefix.clone(),
                    name: r.name.clone(),
                })
                .collect(),
            keep_exist_metric_name: self.keep_exist_metric_name,
            metric_types: self.metric_types().map_err(|(_, e)| e)?,
            name_filter: regex_set(&self.metric_name_filter)?,
            name_filter_ignore: regex_set(&self.metric_name_filter_ignore)?,
            tags: self
                .tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            tags_ignore: self.tags_ignore.clone(),
            tags_rename: self
                .tags_rename
                .mapping
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            overwrite_exist_tags: self.tags_rename.overwrite_exist_tags,
            ignore_tag_kv,
            as_logging: self
                .as_logging
                .enable
                .then(|| self.as_logging.service.clone()),
            honor_timestamps: self.honor_timestamps,
            disable_info_tag: self.disable_info_tag,
        }))
    }

    /// The targets, with the tags each adds to its points.
    fn targets(&self) -> Vec<Target> {
        self.urls
            .0
            .iter()
            .map(|url| {
                let source = Source::from_url(url);
                let mut tags = Vec::new();
                let mut instance = String::new();
                if let Source::Http(u) = &source
                    && let Some((host, port)) = host_port(u)
                {
                    instance = if host.contains(':') {
                        format!("[{host}]:{port}")
                    } else {
                        format!("{host}:{port}")
                    };
                    if !self.disable_instance_tag {
                        tags.push(("instance".to_string(), instance.clone()));
                    }
                    // A remote exporter's metrics describe that host, not this agent.
                    if !self.disable_host_tag && self.uds_path.is_empty() && !is_loopback(&host) {
                        tags.push(("host".to_string(), host));
                    }
                }
                Target {
                    name: redact(url),
                    source,
                    tags,
                    instance,
                    failing: None,
                }
            })
            .collect()
    }
}

impl InputConfig for PromConfig {
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
        if self.urls.0.is_empty() {
            v.error("urls", "no URL to scrape");
        }
        for (i, u) in self.urls.0.iter().enumerate() {
            if let Source::Http(u) = Source::from_url(u) {
                if let Err(e) = crate::config::validate::check_url(&u) {
                    v.error(&format!("urls[{i}]"), e);
                }
            } else if u.trim().is_empty() {
                v.error(&format!("urls[{i}]"), "empty URL");
            } else if let Some((scheme, _)) = u.split_once("://")
                && !scheme.eq_ignore_ascii_case("file")
            {
                v.error(
                    &format!("urls[{i}]"),
                    format!("scheme `{scheme}` is not supported (use http, https, or a file path)"),
                );
            }
        }
        if self.timeout.get().is_zero() {
            v.error("timeout", "must be more than 0");
        }
        if self.max_body_size == 0 {
            v.error("max_body_size", "must be more than 0");
        }
        if let Err((i, e)) = self.metric_types() {
            v.error(&format!("metric_types[{i}]"), e);
        }
        Self::check_regexes(v, "metric_name_filter", &self.metric_name_filter);
        Self::check_regexes(
            v,
            "metric_name_filter_ignore",
            &self.metric_name_filter_ignore,
        );
        for (k, pats) in &self.ignore_tag_kv_match {
            let key = format!("ignore_tag_kv_match.{}", crate::config::sample::toml_key(k));
            Self::check_regexes(v, &key, pats);
        }
        if let Err(e) = self.auth() {
            v.error("auth.type", e).reads(&["auth"]);
        }
        if self.cert.is_empty() != self.cert_key.is_empty() {
            v.error("cert", "`cert` and `cert_key` go together")
                .reads(&["cert_key"]);
        }
        if self.cert_base64.is_empty() != self.cert_key_base64.is_empty() {
            v.error(
                "cert_base64",
                "`cert_base64` and `cert_key_base64` go together",
            )
            .reads(&["cert_key_base64"]);
        }
        for (i, r) in self.measurements.iter().enumerate() {
            if r.prefix.is_empty() {
                v.warning(
                    &format!("measurements[{i}].prefix"),
                    "an empty prefix never matches",
                );
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let converter = self.converter().map_err(InputError::Setup)?;
        let auth = self.auth().map_err(InputError::Setup)?;
        let client = Client::new(
            self.timeout.get(),
            self.tls(),
            &self.uds_path,
            self.http_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            auth,
            self.max_body_size,
        )
        .map_err(|e| InputError::Setup(e.to_string()))?;
        Ok(Box::new(Prom {
            interval: self.interval.get(),
            global_tags: !self.disable_host_tag,
            ignore_req_err: self.ignore_req_err,
            scraper: Scraper {
                client,
                converter,
                targets: self.targets(),
                job: self.source.clone(),
                up_tags: self
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                buf: Vec::new(),
            },
        }))
    }
}

/// One URL of an instance.
#[derive(Debug)]
struct Target {
    /// The URL with secrets masked, for messages.
    name: String,
    source: Source,
    /// `instance` and `host`, added to its points with the lowest precedence.
    tags: Vec<(String, String)>,
    instance: String,
    /// The error of the last scrape, when it failed (logged once per change).
    failing: Option<String>,
}

/// The blocking part: fetch, parse, convert.
#[derive(Debug)]
struct Scraper {
    client: Client,
    converter: Converter,
    targets: Vec<Target>,
    job: String,
    up_tags: Vec<(String, String)>,
    /// Body buffer, reused across scrapes.
    buf: Vec<u8>,
}

/// What one URL gave.
struct Outcome {
    points: Vec<Point>,
    up: Point,
    /// The error to count, and whether it is a request failure.
    error: Option<(String, bool)>,
    /// Log the error (it is new) or the recovery.
    log: Option<String>,
}

impl Scraper {
    fn scrape_all(&mut self, now_ns: i64) -> Vec<Outcome> {
        let Scraper {
            client,
            converter,
            targets,
            job,
            up_tags,
            buf,
        } = self;
        let mut out = Vec::with_capacity(targets.len());
        for t in targets.iter_mut() {
            let (points, error) = match client.fetch(&t.source, buf) {
                Err(e) => {
                    let request = e.is_request() || matches!(e, ScrapeError::Status { .. });
                    (Vec::new(), Some((format!("{}: {e}", t.name), request)))
                }
                Ok(format) => {
                    let text = String::from_utf8_lossy(buf);
                    let parsed = parse::parse(&text, format);
                    let converted = converter.convert(&parsed, &t.tags, now_ns);
                    let error = parsed.errors.first().map(|first| {
                        let msg = if parsed.error_count == 1 {
                            format!("{}: {first}", t.name)
                        } else {
                            format!(
                                "{}: {} lines not parsed; first: {first}",
                                t.name, parsed.error_count
                            )
                        };
                        (msg, false)
                    });
                    (converted.points, error)
                }
            };
            let mut up = Point::new(Category::Metric, "collector");
            up.time = now_ns;
            for (k, v) in up_tags.iter() {
                up.set_tag(k.as_str(), v.as_str());
            }
            up.set_tag("job", job.as_str());
            if !t.instance.is_empty() {
                up.set_tag("instance", t.instance.as_str());
            }
            let reached = error.as_ref().is_none_or(|(_, request)| !request);
            up.set_field("up", Value::Int(i64::from(reached)));
            let now_failing = error.as_ref().map(|(m, _)| m.clone());
            let log = match (&t.failing, &now_failing) {
                (None, Some(m)) => Some(m.clone()),
                (Some(a), Some(b)) if a != b => Some(b.clone()),
                (Some(_), None) => Some(format!("{}: scraping again", t.name)),
                _ => None,
            };
            t.failing = now_failing;
            out.push(Outcome {
                points,
                up,
                error,
                log,
            });
        }
        // Keep the buffer's memory bounded by the usual body, not the largest ever seen.
        if buf.capacity() > 4 * buf.len().max(1 << 20) {
            *buf = Vec::new();
        }
        out
    }
}

struct Prom {
    interval: Duration,
    /// Add the global host tags (off with `disable_host_tag`).
    global_tags: bool,
    ignore_req_err: bool,
    scraper: Scraper,
}

impl Input for Prom {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(run(*self, ctx))
    }
}

async fn run(p: Prom, mut ctx: InputCtx) -> Result<(), InputError> {
    let Prom {
        interval,
        global_tags,
        ignore_req_err,
        scraper,
    } = p;
    let mut periodic = super::Periodic::on(super::exec::Lane::Scrape, interval, scraper, &ctx);
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        // Scrape and feed on the collection's thread; the rest here.
        let Some((outcomes, fed)) = periodic
            .next(&mut ctx, move |s| {
                // The time of this scrape: read once the tick has come.
                let mut outcomes = s.scrape_all(crate::clock::now_ns());
                let opts = crate::ingest::FeedOptions {
                    global_tags,
                    ..Default::default()
                };
                let mut fed = Ok(());
                let mut ups = Vec::with_capacity(outcomes.len());
                for o in outcomes.iter_mut() {
                    let points = std::mem::take(&mut o.points);
                    if let Some(cat) = points.first().map(|p| p.category)
                        && fed.is_ok()
                    {
                        fed = ingest
                            .feed_blocking(&origin, cat, points, &opts, false)
                            .map(|_| ());
                    }
                    ups.push(o.up.clone());
                }
                if fed.is_ok() {
                    fed = ingest
                        .feed_blocking(&origin, Category::Metric, ups, &opts, false)
                        .map(|_| ());
                }
                (outcomes, fed)
            })
            .await
        else {
            return Ok(());
        };
        for o in outcomes {
            if let Some(msg) = &o.log {
                if o.error.is_some() {
                    tracing::warn!(input = ctx.name, "{msg}");
                } else {
                    tracing::info!(input = ctx.name, "{msg}");
                }
            }
            if let Some((msg, request)) = o.error
                && !(request && ignore_req_err)
            {
                ctx.stats.record_error(msg.clone());
                ctx.agent_stats.record_error(ctx.name, msg);
            }
        }
        fed?;
    }
}

const UP_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "job",
        description: "The input's `source` (default `prom`).",
    },
    TagSpec {
        name: "instance",
        description: "The target's `host:port`.",
    },
];

const UP_FIELDS: &[FieldSpec] = &[FieldSpec {
    name: "up",
    kind: FieldType::Int,
    unit: "-",
    description: "1 when the target answered the last scrape with a body, 0 otherwise.",
}];

/// The measurement the input itself defines; the scraped metrics are named by the rule in
/// [`convert`].
pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "collector",
    category: Category::Metric,
    description: "Whether each scrape target answered (one point per URL and scrape). The scraped metrics are named after their metric names: measurement = the name up to its first `_`, field = the rest.",
    tags: UP_TAGS,
    fields: UP_FIELDS,
}];

pub const ENTRY: InputEntry = entry::<PromConfig>(InputSpec {
    name: "prom",
    catalog: "prom",
    description: "Scrapes Prometheus exporters and OpenMetrics endpoints into metrics.",
    singleton: false,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(300),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml_text: &str) -> PromConfig {
        toml::from_str(toml_text).unwrap()
    }

    fn issues(c: &PromConfig) -> Vec<String> {
        crate::inputs::validation_issues(c)
    }

    #[test]
    fn old_spellings_are_read() {
        let c = load(
            "url = \"http://h:9100/metrics\"\ntls_ca = \"/ca.pem\"\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n",
        );
        assert_eq!(c.urls.0, ["http://h:9100/metrics"]);
        assert_eq!(c.ca_certs.0, ["/ca.pem"]);
        assert_eq!((c.cert.as_str(), c.cert_key.as_str()), ("/c.pem", "/k.pem"));
    }

    #[test]
    fn the_default_validates_and_builds() {
        let c = PromConfig::default();
        assert!(issues(&c).is_empty(), "{:?}", issues(&c));
        assert!(c.election_enabled());
        assert!(c.build().is_ok());
    }

    #[test]
    fn bad_options_are_reported() {
        let mut c = load(
            "urls = [\"ftp://x\", \"http://h:1/m\"]\nmetric_types = [\"gauge\", \"weird\"]\n\
             metric_name_filter = [\"(\"]\ncert = \"/c\"\n\
             [auth]\ntype = \"digest\"\n[ignore_tag_kv_match]\nk = [\"[\"]\n\
             [[measurements]]\nname = \"x\"\n",
        );
        let got = issues(&c);
        let keys: Vec<&str> = got.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "urls[0]",
                "metric_types[1]",
                "metric_name_filter[0]",
                "ignore_tag_kv_match.k[0]",
                "auth.type",
                "cert",
                "measurements[0].prefix"
            ],
            "{got:?}"
        );
        c.urls = StrList(vec![]);
        assert!(issues(&c).iter().any(|s| s == "urls: no URL to scrape"));
    }

    #[test]
    fn targets_get_instance_and_remote_host_tags() {
        let c = load(
            "urls = [\"http://10.1.2.3:9100/metrics\", \"http://localhost/m\", \"/tmp/x.prom\"]\n",
        );
        let t = c.targets();
        assert_eq!(
            t[0].tags,
            [
                ("instance".to_string(), "10.1.2.3:9100".to_string()),
                ("host".to_string(), "10.1.2.3".to_string())
            ]
        );
        assert_eq!(
            t[1].tags,
            [("instance".to_string(), "localhost:80".to_string())]
        );
        assert!(t[2].tags.is_empty());
        let c = load(
            "urls = [\"http://10.1.2.3:9100/metrics\"]\ndisable_instance_tag = true\ndisable_host_tag = true\n",
        );
        assert!(c.targets()[0].tags.is_empty());
    }

    #[test]
    fn a_file_target_scrapes_and_reports_parse_errors() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("m.prom");
        std::fs::write(&f, "# TYPE a_b gauge\na_b{x=\"1\"} 2\nbad line\n").unwrap();
        let c = PromConfig {
            urls: StrList(vec![f.display().to_string()]),
            tags: [("t".to_string(), "v".to_string())].into(),
            ..PromConfig::default()
        };
        let mut s = Scraper {
            client: Client::new(
                Duration::from_secs(1),
                TlsOptions::default(),
                "",
                vec![],
                Auth::None,
                1 << 20,
            )
            .unwrap(),
            converter: c.converter().unwrap(),
            targets: c.targets(),
            job: "prom".into(),
            up_tags: vec![("t".into(), "v".into())],
            buf: Vec::new(),
        };
        let out = s.scrape_all(42);
        assert_eq!(out.len(), 1);
        let o = &out[0];
        assert_eq!(o.points.len(), 1);
        assert_eq!(o.points[0].name, "a");
        assert_eq!(o.points[0].get_tag("t"), Some("v"));
        assert_eq!(o.points[0].time, 42);
        let (msg, request) = o.error.clone().unwrap();
        assert!(
            msg.ends_with("line 3: invalid sample value `line`"),
            "{msg}"
        );
        assert!(!request);
        assert_eq!(o.up.get_field("up"), Some(&Value::Int(1)));
        assert!(o.log.is_some(), "a new error is logged");
        let again = s.scrape_all(43);
        assert!(again[0].log.is_none(), "the same error is not logged twice");

        std::fs::remove_file(&f).unwrap();
        let gone = s.scrape_all(44);
        let (msg, request) = gone[0].error.clone().unwrap();
        assert!(request, "{msg}");
        assert_eq!(gone[0].up.get_field("up"), Some(&Value::Int(0)));
        assert!(gone[0].points.is_empty());
    }
}
