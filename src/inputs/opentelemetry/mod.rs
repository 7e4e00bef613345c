//! `opentelemetry`: OTLP, the OpenTelemetry protocol.
//!
//! - OTLP/HTTP on the HTTP API's address: `POST /otel/v1/traces`, `/otel/v1/metrics` and
//!   `/otel/v1/logs` (the original's paths), protobuf (`application/x-protobuf`) or JSON
//!   (`application/json`) bodies, gzip or not (the API inflates them, within
//!   `grpc.max_payload`);
//! - OTLP/gRPC on a listener of its own (`grpc.addr`): `TraceService/Export`,
//!   `MetricsService/Export` and `LogsService/Export` (see [`grpc`]).
//!
//! Requests are decoded into OTLP's messages ([`otlp`], vendored prost types; [`json`] for
//! OTLP/JSON). Spans are mapped as the original maps them ([`spans`]) and go through the
//! shared span pipeline into `tracing` points named `opentelemetry`; data points become
//! `metric` points of `otel_service` ([`metrics`]); log records become `logging` points
//! ([`logs`]). Both transports hand a decoded request to the same `Receiver::export_*`.
//!
//! Answers as OTLP says: `http.http_status_ok` (200, or 202) with the signal's export
//! response in the request's encoding, holding a partial success with the count of items
//! rejected (spans without a valid trace or span id, number data points without a value);
//! 400 with a `google.rpc.Status` in the request's encoding for a body that cannot be decoded
//! (and a plain-text 400 for a content type OTLP does not have), 413 for a body over
//! `grpc.max_payload`, 429 with `Retry-After` when the journal is full.

pub mod grpc;
pub mod json;
pub mod logs;
pub mod metrics;
pub mod otlp;
pub mod spans;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;

use super::routes::{Refused, Route, RouteRequest};
use super::trace::bound::RequestBound;
use super::trace::options::{self as topts, ThreadsConfig};
use super::trace::spec::MEASUREMENT_FIELDS;
use super::trace::{CloseResource, PipelineOptions, SamplerConfig, SpanPipeline};
use super::{
    FieldSpec, FieldType, Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec,
    MeasurementSpec, TagSpec, Validation,
};
use crate::config_struct;
use crate::ingest::{FeedError, FeedOptions};
use crate::io::WhenFull;
use crate::point::Category;
use crate::stats::DropReason;
use otlp::collector::logs::v1::ExportLogsServiceRequest;
use otlp::collector::metrics::v1::ExportMetricsServiceRequest;
use otlp::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};

pub const TRACE_API: &str = "/otel/v1/traces";
pub const METRIC_API: &str = "/otel/v1/metrics";
pub const LOGS_API: &str = "/otel/v1/logs";
/// The original's largest message (16 MiB), for gRPC and HTTP alike.
pub const MAX_PAYLOAD: u64 = 16 << 20;
/// The gRPC listener's default address: loopback (see the README).
pub const GRPC_ADDR: &str = "127.0.0.1:4317";

config_struct! {
    "OTLP over HTTP, on the HTTP API's address."
    pub struct HttpConfig {
        "The status of a successful answer: 200 or 202."
        pub http_status_ok: u16 = 200,
        "The path of the trace API."
        pub trace_api: String = TRACE_API.into(),
        "The path of the metrics API."
        pub metric_api: String = METRIC_API.into(),
        "The path of the logs API."
        pub logs_api: String = LOGS_API.into(),
    }
}

config_struct! {
    "OTLP over gRPC, on a listener of its own."
    pub struct GrpcConfig {
        "Address the gRPC listener binds (`host:port`); empty turns it off. Loopback by \
         default: applications on other hosts need `0.0.0.0:4317`."
        pub addr: String = GRPC_ADDR.into(),
        "Largest message taken, in bytes, over gRPC and HTTP alike (after decompression)."
        pub max_payload: u64 = MAX_PAYLOAD,
    }
}

config_struct! {
    "Receives OTLP traces, metrics and logs from OpenTelemetry SDKs and collectors, over HTTP \
     (on the HTTP API) and gRPC."
    pub struct OpentelemetryConfig {
        "Attribute keys (of the resource, scope, span and events) also taken as the point's \
         keys, besides the well-known ones; `.` is written `_`. `reg:` and a regular expression \
         takes every key it matches."
        pub customer_tags: Vec<String> = Vec::new(),
        "Take every attribute as a key of the point (none stays in the message)."
        alias("costomer_tags_all")
        pub customer_tags_all: bool = false,
        "Keep a trace whose entry resource (service + resource + source type) was not seen in \
         the last hour, whatever the sampler says (only with a sampling rate below 1)."
        pub keep_rare_resource: bool = false,
        "HTTP status codes whose web traces are dropped (traces with an error span are always \
         kept)."
        pub omit_err_status: Vec<String> = Vec::new(),
        "Write trace and span ids as decimal numbers of their last 8 bytes, as ddtrace does."
        pub compatible_ddtrace: bool = false,
        "A span with `db.system`, `rpc.system` or `messaging.system` gets that system as \
         `service`, and the application's `service.name` as `base_service`."
        alias("spilt_service_name")
        pub split_service_name: bool = true,
        "Leave the span's JSON (`message`) out of the points."
        pub del_message: bool = false,
        "Leave out of `message` what the point already holds (ids, name, kind, times, status, \
         the exception event, `service.name`)."
        pub clean_message: bool = true,
        "Drop traces with a span of these services (`*` for every service) whose resource \
         matches one of the regular expressions."
        pub close_resource: BTreeMap<String, Vec<String>> = BTreeMap::new(),
        "Sample traces whole by their id."
        pub sampler: SamplerConfig = SamplerConfig::default(),
        "Tags added to every span (the span's own keys win)."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
        "Bound the HTTP requests decoded at once."
        pub threads: ThreadsConfig = ThreadsConfig::default(),
        "A log record's body longer than this many KiB is cut into several points, one \
         millisecond apart."
        pub log_max: u64 = 500,
        "Headers every OTLP/HTTP request must carry with these values (else 400)."
        pub expected_headers: BTreeMap<String, String> = BTreeMap::new(),
        "OTLP/HTTP."
        pub http: HttpConfig = HttpConfig::default(),
        "OTLP/gRPC."
        pub grpc: GrpcConfig = GrpcConfig::default(),
    }
}

/// Keys of the original's `[[inputs.opentelemetry]]` read without effect, with why.
pub fn compat_key(key: &str) -> Option<&'static str> {
    Some(match key {
        "jmarshaler" => {
            "the span's `message` is always written by the agent's own OTLP/JSON writer"
        }
        "compatible_zhaoshang" => "a customer-specific id format the agent does not write",
        _ => match key.split(['.', '[']).next().unwrap_or(key) {
            "storage" => {
                "no local cache is needed: accepted spans are in the agent's journal before the client is answered"
            }
            "pipelines" | "ignore_attribute_keys" => {
                "deprecated in the original agent (see `customer_tags`)"
            }
            "tracing_metric_enable"
            | "tracing_metric_tag_blacklist"
            | "tracing_metric_tag_whitelist" => {
                "the `tracing_metrics` measurement is not made by this agent"
            }
            _ => return None,
        },
    })
}

impl InputConfig for OpentelemetryConfig {
    fn validate(&self, v: &mut Validation) {
        for (key, p) in [
            ("http.trace_api", &self.http.trace_api),
            ("http.metric_api", &self.http.metric_api),
            ("http.logs_api", &self.http.logs_api),
        ] {
            if !super::routes::valid_path(p) {
                v.error(
                    key,
                    format!("`{p}` must start with `/` and hold no spaces, `?` or `#`"),
                );
            }
        }
        if self.http.trace_api == self.http.metric_api {
            v.error("http.metric_api", "must differ from `http.trace_api`")
                .reads(&["http.trace_api"]);
        }
        if self.http.logs_api == self.http.trace_api || self.http.logs_api == self.http.metric_api {
            v.error(
                "http.logs_api",
                "must differ from `http.trace_api` and `http.metric_api`",
            )
            .reads(&["http.trace_api", "http.metric_api"]);
        }
        if self.log_max == 0 || self.log_max > 1 << 20 {
            v.error(
                "log_max",
                format!(
                    "must be between 1 and 1048576 (KiB), found {}",
                    self.log_max
                ),
            );
        }
        if !matches!(self.http.http_status_ok, 200 | 202) {
            v.error(
                "http.http_status_ok",
                format!("must be 200 or 202, found {}", self.http.http_status_ok),
            );
        }
        if !self.grpc.addr.is_empty() && self.grpc.addr.parse::<std::net::SocketAddr>().is_err() {
            v.error(
                "grpc.addr",
                format!(
                    "`{}` is not an address and port (`127.0.0.1:4317`, `0.0.0.0:4317`, `[::]:4317`)",
                    self.grpc.addr
                ),
            );
        }
        if self.grpc.max_payload == 0 || self.grpc.max_payload > 1 << 30 {
            v.error(
                "grpc.max_payload",
                format!(
                    "must be between 1 and 1073741824 bytes, found {}",
                    self.grpc.max_payload
                ),
            );
        }
        for (i, t) in self.customer_tags.iter().enumerate() {
            if let Some(re) = t.strip_prefix("reg:")
                && let Err(e) = crate::config::validate::check_regex(re)
            {
                v.error(
                    &format!("customer_tags[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
        for k in self.expected_headers.keys() {
            if axum::http::HeaderName::from_bytes(k.as_bytes()).is_err() {
                v.error(
                    &format!("expected_headers.{k}"),
                    "not a valid HTTP header name",
                );
            }
        }
        if (self.threads.threads == 0) != (self.threads.buffer == 0) {
            v.warning(
                "threads",
                "`threads` and `buffer` must both be above 0 for the bound to apply",
            );
        }
        topts::validate(
            v,
            &self.close_resource,
            &self.omit_err_status,
            &self.sampler,
        );
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let keys = spans::KeyMap::new(&self.customer_tags, self.customer_tags_all)
            .map_err(|e| InputError::Setup(format!("customer_tags: {e}")))?;
        Ok(Box::new(Opentelemetry {
            cfg: self.clone(),
            keys,
            close: CloseResource::compile(&self.close_resource)?,
        }))
    }
}

struct Opentelemetry {
    cfg: OpentelemetryConfig,
    keys: spans::KeyMap,
    close: CloseResource,
}

/// What the HTTP and gRPC servers share: the mapping, the pipeline, the input's context.
pub struct Receiver {
    map: spans::MapOptions,
    logs: logs::LogOptions,
    pipeline: SpanPipeline,
    ctx: InputCtx,
    workers: Option<RequestBound>,
    status_ok: StatusCode,
    expected: Vec<(axum::http::HeaderName, String)>,
}

impl Input for Opentelemetry {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let Opentelemetry { cfg, keys, close } = *self;
            let opts = PipelineOptions {
                source: "opentelemetry",
                close_resource: close,
                omit_err_status: cfg.omit_err_status.clone(),
                keep_rare_resource: cfg.keep_rare_resource,
                sampling_rate: (cfg.sampler.sampling_rate < 1.0)
                    .then_some(cfg.sampler.sampling_rate),
                tags: cfg
                    .tags
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                del_message: cfg.del_message,
                hostname: ctx.hostname.to_string(),
            };
            let rx = Arc::new(Receiver {
                map: spans::MapOptions {
                    keys,
                    compatible_ddtrace: cfg.compatible_ddtrace,
                    split_service_name: cfg.split_service_name,
                    clean_message: cfg.clean_message,
                    del_message: cfg.del_message,
                },
                logs: logs::LogOptions {
                    compatible_ddtrace: cfg.compatible_ddtrace,
                    max_message: usize::try_from(cfg.log_max.max(1) << 10).unwrap_or(usize::MAX),
                    tags: cfg
                        .tags
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                    hostname: ctx.hostname.to_string(),
                },
                pipeline: SpanPipeline::new(opts),
                ctx: ctx.clone(),
                workers: RequestBound::new(&cfg.threads),
                status_ok: StatusCode::from_u16(cfg.http.http_status_ok).unwrap_or(StatusCode::OK),
                expected: cfg
                    .expected_headers
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((
                            axum::http::HeaderName::from_bytes(k.as_bytes()).ok()?,
                            v.clone(),
                        ))
                    })
                    .collect(),
            });
            let max = usize::try_from(cfg.grpc.max_payload).unwrap_or(usize::MAX);
            let mut routes = Vec::new();
            for (signal, path) in [
                (Signal::Traces, &cfg.http.trace_api),
                (Signal::Metrics, &cfg.http.metric_api),
                (Signal::Logs, &cfg.http.logs_api),
            ] {
                let path: Arc<str> = path.as_str().into();
                let (rx1, rx2, p2) = (rx.clone(), rx.clone(), path.clone());
                let refused: Refused = Arc::new(move |_h, why| {
                    rx2.note_refused(
                        signal.category(),
                        DropReason::Invalid,
                        &format!("opentelemetry {p2}: body refused: {why}"),
                    );
                });
                routes.push(
                    Route::new(Method::POST, path.to_string(), max, move |req| {
                        let (rx, p) = (rx1.clone(), path.clone());
                        async move { rx.http_export(signal, p, req).await }
                    })
                    .on_refused(refused),
                );
            }
            let _handle = ctx
                .routes
                .register(ctx.stats.clone(), routes)
                .map_err(|e| InputError::Setup(e.to_string()))?;
            tracing::info!(traces = %cfg.http.trace_api, metrics = %cfg.http.metric_api, logs = %cfg.http.logs_api, "opentelemetry receiver serving OTLP/HTTP on the HTTP API");
            let mut shutdown = ctx.shutdown.clone();
            if cfg.grpc.addr.is_empty() {
                shutdown.wait().await;
                return Ok(());
            }
            grpc::serve(rx, &cfg.grpc.addr, max, shutdown).await
        })
    }
}

/// The request's media type, lower case, without parameters.
fn media(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The receiver's counters, shown by `datakit monitor` (Receivers): exports by transport,
/// items received by signal, items rejected (partial successes), requests refused.
pub const COUNTERS: &[&str] = &[
    "http_exports",
    "grpc_exports",
    "spans",
    "data_points",
    "log_records",
    "rejected",
    "refused",
];
pub const C_HTTP: usize = 0;
pub const C_GRPC: usize = 1;
pub const C_SPANS: usize = 2;
pub const C_DATA_POINTS: usize = 3;
pub const C_LOG_RECORDS: usize = 4;
pub const C_REJECTED: usize = 5;
pub const C_BAD: usize = 6;

/// OTLP's signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// The name of the rejected items in a partial success's JSON.
    fn rejected_key(self) -> &'static str {
        match self {
            Signal::Traces => "rejectedSpans",
            Signal::Metrics => "rejectedDataPoints",
            Signal::Logs => "rejectedLogRecords",
        }
    }
    fn category(self) -> Category {
        match self {
            Signal::Traces => Category::Tracing,
            Signal::Metrics => Category::Metric,
            Signal::Logs => Category::Logging,
        }
    }
}

/// The encodings of OTLP/HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn of(media: &str) -> Option<Encoding> {
        match media {
            "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
            "application/json" => Some(Encoding::Json),
            _ => None,
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

/// `google.rpc.Status`: the body of an OTLP/HTTP error.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// gRPC's code INVALID_ARGUMENT, which a 400 carries.
const INVALID_ARGUMENT: i32 = 3;

/// Why an export was not taken whole.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot decode the protobuf body: {0}")]
    Protobuf(#[from] prost::DecodeError),
    #[error("cannot decode the JSON body: {0}")]
    Json(#[from] json::JsonError),
    #[error("the journal is full, come back later: {0}")]
    Full(String),
    #[error("the agent is stopping")]
    Closed,
    #[error("{0}")]
    Busy(String),
}

/// What an export of spans did: the spans rejected, and why the first was.
#[derive(Debug, Default)]
pub struct Exported {
    pub rejected: usize,
    pub rejected_why: Option<String>,
}

impl Receiver {
    fn count(&self, cat: Category, reason: DropReason, n: usize, detail: &str) {
        if n > 0 {
            self.ctx
                .ingest
                .discard(&self.ctx.origin, cat, reason, n, Some(detail));
        }
    }

    /// Records a refused request: the input's last error, the agent's log, one `invalid`
    /// drop.
    fn note_refused(&self, cat: Category, reason: DropReason, why: &str) {
        self.ctx.stats.receiver(COUNTERS).add(C_BAD, 1);
        tracing::warn!("{why}");
        self.ctx.stats.record_error(why.to_string());
        self.count(cat, reason, 1, why);
    }

    /// Maps a decoded trace request, runs the pipeline and feeds the points (the mapping
    /// and the message JSON run on a blocking thread: they are CPU work).
    pub async fn export_traces(
        self: &Arc<Self>,
        req: ExportTraceServiceRequest,
        remote_ip: String,
    ) -> Result<Exported, ExportError> {
        let me = self.clone();
        let work = tokio::task::spawn_blocking(move || {
            let mapped = spans::map(req.resource_spans, &remote_ip, &me.map);
            let processed = me.pipeline.process(mapped.traces);
            (processed, mapped.rejected, mapped.rejected_why)
        });
        let (processed, rejected, rejected_why) = work.await.map_err(|_| ExportError::Closed)?;
        self.ctx.stats.receiver(COUNTERS).add(
            C_SPANS,
            (processed.points.len() + processed.sampled + processed.filtered + rejected) as u64,
        );
        self.count(
            Category::Tracing,
            DropReason::Sampled,
            processed.sampled,
            "sampler.sampling_rate",
        );
        self.count(
            Category::Tracing,
            DropReason::Filtered,
            processed.filtered,
            processed.filtered_why.as_deref().unwrap_or("filter"),
        );
        self.feed(Signal::Traces, processed.points, rejected, rejected_why)
            .await
    }

    /// Maps a decoded metrics request and feeds the points.
    pub async fn export_metrics(
        self: &Arc<Self>,
        req: ExportMetricsServiceRequest,
        remote_ip: String,
    ) -> Result<Exported, ExportError> {
        let work =
            tokio::task::spawn_blocking(move || metrics::map(req.resource_metrics, &remote_ip));
        let mapped = work.await.map_err(|_| ExportError::Closed)?;
        self.ctx
            .stats
            .receiver(COUNTERS)
            .add(C_DATA_POINTS, mapped.data_points as u64);
        self.feed(
            Signal::Metrics,
            mapped.points,
            mapped.rejected,
            mapped.rejected_why,
        )
        .await
    }

    /// Maps a decoded logs request and feeds the points.
    pub async fn export_logs(
        self: &Arc<Self>,
        req: ExportLogsServiceRequest,
        remote_ip: String,
    ) -> Result<Exported, ExportError> {
        let me = self.clone();
        let work =
            tokio::task::spawn_blocking(move || logs::map(req.resource_logs, &remote_ip, &me.logs));
        let mapped = work.await.map_err(|_| ExportError::Closed)?;
        self.ctx
            .stats
            .receiver(COUNTERS)
            .add(C_LOG_RECORDS, mapped.records as u64);
        self.feed(Signal::Logs, mapped.points, 0, None).await
    }

    /// Counts what was rejected and feeds `points`, durably: the client is answered once they
    /// are journaled.
    async fn feed(
        &self,
        signal: Signal,
        points: Vec<crate::point::Point>,
        rejected: usize,
        rejected_why: Option<String>,
    ) -> Result<Exported, ExportError> {
        let cat = signal.category();
        if rejected > 0 {
            self.ctx
                .stats
                .receiver(COUNTERS)
                .add(C_REJECTED, rejected as u64);
            self.count(
                cat,
                DropReason::Invalid,
                rejected,
                rejected_why.as_deref().unwrap_or("invalid item"),
            );
        }
        let opts = FeedOptions {
            durable: Some(WhenFull::Refuse),
            ..FeedOptions::default()
        };
        match self
            .ctx
            .ingest
            .feed(&self.ctx.origin, cat, points, &opts)
            .await
        {
            Ok(()) => Ok(Exported {
                rejected,
                rejected_why,
            }),
            Err(FeedError::Full(why)) => Err(ExportError::Full(why.to_string())),
            Err(FeedError::Closed) => Err(ExportError::Closed),
        }
    }

    async fn http_export(
        self: Arc<Self>,
        signal: Signal,
        path: Arc<str>,
        req: RouteRequest,
    ) -> Response {
        let cat = signal.category();
        self.ctx.stats.receiver(COUNTERS).add(C_HTTP, 1);
        for (k, want) in &self.expected {
            let got = req.headers.get(k).and_then(|v| v.to_str().ok());
            if got != Some(want.as_str()) {
                let why = format!(
                    "opentelemetry {path}: header `{k}` must be `{want}` (expected_headers), found {}",
                    got.map_or_else(|| "none".to_string(), |g| format!("`{g}`"))
                );
                self.note_refused(cat, DropReason::Invalid, &why);
                return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
            }
        }
        let media = media(&req.headers);
        let Some(enc) = Encoding::of(&media) else {
            let why = format!(
                "opentelemetry {path}: unsupported Content-Type `{media}`: OTLP/HTTP takes application/x-protobuf or application/json"
            );
            self.note_refused(cat, DropReason::Invalid, &why);
            return (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response();
        };
        let _permit = match &self.workers {
            None => None,
            Some(bound) => match bound.enter().await {
                Ok(p) => Some(p),
                Err(busy) => {
                    let why = format!("opentelemetry {path}: {busy}");
                    self.note_refused(cat, DropReason::QueueFull, &why);
                    return error_response(enc, StatusCode::BAD_REQUEST, &why);
                }
            },
        };
        let remote_ip = req.client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let body = req.body;
        let exported = match (signal, enc) {
            (Signal::Traces, Encoding::Protobuf) => {
                match ExportTraceServiceRequest::decode(body.as_ref()) {
                    Ok(r) => Ok(self.export_traces(r, remote_ip).await),
                    Err(e) => Err(ExportError::from(e)),
                }
            }
            (Signal::Traces, Encoding::Json) => match json::trace_request(&body) {
                Ok(r) => Ok(self.export_traces(r, remote_ip).await),
                Err(e) => Err(ExportError::from(e)),
            },
            (Signal::Metrics, Encoding::Protobuf) => {
                match ExportMetricsServiceRequest::decode(body.as_ref()) {
                    Ok(r) => Ok(self.export_metrics(r, remote_ip).await),
                    Err(e) => Err(ExportError::from(e)),
                }
            }
            (Signal::Metrics, Encoding::Json) => match json::metrics_request(&body) {
                Ok(r) => Ok(self.export_metrics(r, remote_ip).await),
                Err(e) => Err(ExportError::from(e)),
            },
            (Signal::Logs, Encoding::Protobuf) => {
                match ExportLogsServiceRequest::decode(body.as_ref()) {
                    Ok(r) => Ok(self.export_logs(r, remote_ip).await),
                    Err(e) => Err(ExportError::from(e)),
                }
            }
            (Signal::Logs, Encoding::Json) => match json::logs_request(&body) {
                Ok(r) => Ok(self.export_logs(r, remote_ip).await),
                Err(e) => Err(ExportError::from(e)),
            },
        };
        let exported = match exported {
            Ok(x) => x,
            Err(e) => {
                let why = format!("opentelemetry {path}: {e}");
                self.note_refused(cat, DropReason::Invalid, &why);
                return error_response(enc, StatusCode::BAD_REQUEST, &why);
            }
        };
        match exported {
            Ok(ex) => {
                let partial = (ex.rejected > 0).then(|| ExportTracePartialSuccess {
                    rejected_spans: i64::try_from(ex.rejected).unwrap_or(i64::MAX),
                    error_message: ex.rejected_why.unwrap_or_default(),
                });
                // The three signals' responses are the same message on the wire (a partial
                // success of a count and a text); only their JSON names differ.
                let resp = ExportTraceServiceResponse {
                    partial_success: partial,
                };
                let body = match enc {
                    Encoding::Protobuf => resp.encode_to_vec(),
                    Encoding::Json => response_json(signal, &resp).into_bytes(),
                };
                let mut r = (self.status_ok, body).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(enc.content_type()),
                );
                r
            }
            Err(ExportError::Full(why)) => {
                let mut r = error_response(
                    enc,
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("opentelemetry {path}: the journal is full, come back later: {why}"),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            Err(e) => error_response(
                enc,
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("opentelemetry {path}: {e}"),
            ),
        }
    }
}

/// An OTLP/HTTP error: `google.rpc.Status` in the request's encoding.
fn error_response(enc: Encoding, status: StatusCode, why: &str) -> Response {
    let code = match status {
        StatusCode::BAD_REQUEST => INVALID_ARGUMENT,
        StatusCode::TOO_MANY_REQUESTS => 8, // RESOURCE_EXHAUSTED
        _ => 14,                            // UNAVAILABLE
    };
    let body = match enc {
        Encoding::Protobuf => RpcStatus {
            code,
            message: why.to_string(),
        }
        .encode_to_vec(),
        Encoding::Json => {
            let mut s = format!("{{\"code\":{code},\"message\":");
            super::trace::json_str(&mut s, why);
            s.push('}');
            s.into_bytes()
        }
    };
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(enc.content_type()),
    );
    r
}

/// An export's response in OTLP/JSON.
pub fn response_json(signal: Signal, r: &ExportTraceServiceResponse) -> String {
    match &r.partial_success {
        None => "{}".into(),
        Some(p) => {
            let mut s = format!(
                "{{\"partialSuccess\":{{\"{}\":\"{}\",\"errorMessage\":",
                signal.rejected_key(),
                p.rejected_spans
            );
            super::trace::json_str(&mut s, &p.error_message);
            s.push_str("}}");
            s
        }
    }
}

/// The common span tags, and OpenTelemetry's own.
const OTEL_TAGS: &[TagSpec] = crate::tracing_tags!(
    TagSpec {
        name: "span_kind",
        description: "The span's kind: `unspecified`, `internal`, `server`, `client`, `producer` or `consumer`.",
    },
    TagSpec {
        name: "remote_ip",
        description: "The client's address (of the HTTP request or the gRPC connection).",
    },
    TagSpec {
        name: "db_system",
        description: "`db.system`: the database's kind. Optional.",
    },
    TagSpec {
        name: "db_operation",
        description: "`db.operation`. Optional.",
    },
    TagSpec {
        name: "db_statement",
        description: "`db.statement`. Optional.",
    },
    TagSpec {
        name: "rpc_system",
        description: "`rpc.system`. Optional.",
    },
    TagSpec {
        name: "rpc_service",
        description: "`rpc.service`. Optional.",
    },
    TagSpec {
        name: "messaging_system",
        description: "`messaging.system`. Optional.",
    },
    TagSpec {
        name: "server_address",
        description: "`server.address`. Optional.",
    },
    TagSpec {
        name: "error_type",
        description: "`error.type`. Optional.",
    },
    TagSpec {
        name: "url_full",
        description: "`url.full`. Optional.",
    },
);

/// The common span fields, and OpenTelemetry's own.
const OTEL_FIELDS: &[FieldSpec] = &[
    MEASUREMENT_FIELDS[0],
    MEASUREMENT_FIELDS[1],
    MEASUREMENT_FIELDS[2],
    MEASUREMENT_FIELDS[3],
    MEASUREMENT_FIELDS[4],
    MEASUREMENT_FIELDS[5],
    MEASUREMENT_FIELDS[6],
    MEASUREMENT_FIELDS[7],
    FieldSpec {
        name: "error_message",
        kind: FieldType::String,
        unit: "-",
        description: "`exception.message` of the span's first `exception` event.",
    },
    FieldSpec {
        name: "error_stack",
        kind: FieldType::String,
        unit: "-",
        description: "`exception.stacktrace` of the span's first `exception` event.",
    },
    FieldSpec {
        name: "error_type",
        kind: FieldType::String,
        unit: "-",
        description: "`exception.type` of the span's first `exception` event.",
    },
    FieldSpec {
        name: "runtime_id",
        kind: FieldType::String,
        unit: "-",
        description: "The `runtime_id` attribute of the resource or the first span that has one.",
    },
];

const LOG_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "status",
        description: "From the severity number: `trace`, `debug`, `info`, `warn`, `error`, `fatal`; `unknown` when unspecified; the severity text for a number outside OTLP's ranges.",
    },
    TagSpec {
        name: "service",
        description: "The resource's `service.name` (`unSetServiceName` without one).",
    },
    TagSpec {
        name: "host",
        description: "The resource's `host.name`, when set.",
    },
    TagSpec {
        name: "remote_ip",
        description: "The client's address.",
    },
    TagSpec {
        name: "dk_fingerprint",
        description: "The agent's hostname.",
    },
];

const LOG_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "message",
        kind: FieldType::String,
        unit: "-",
        description: "The record's body as text (arrays and maps as OTLP/JSON), a piece of at most `log_max` KiB.",
    },
    FieldSpec {
        name: "trace_id",
        kind: FieldType::String,
        unit: "-",
        description: "The record's trace id, as spans write it (`0` without one).",
    },
    FieldSpec {
        name: "span_id",
        kind: FieldType::String,
        unit: "-",
        description: "The record's span id (`0` without one).",
    },
    FieldSpec {
        name: "scope_name",
        kind: FieldType::String,
        unit: "-",
        description: "The instrumentation scope's name.",
    },
    FieldSpec {
        name: "schema_url",
        kind: FieldType::String,
        unit: "-",
        description: "The resource's schema URL.",
    },
    FieldSpec {
        name: "<attribute>",
        kind: FieldType::String,
        unit: "-",
        description: "The attributes of the resource, the scope and the record (`.` written `_`, as text; the first of a key wins), and the input's `tags`.",
    },
];

const METRIC_TAGS: &[TagSpec] = &[
    TagSpec {
        name: "<attribute>",
        description: "The attributes of the resource, the scope and the data point (`.` written `_`; the first of a key wins), as text; the SDK's `telemetry.sdk.*`, `process.command_line`, `process.executable.path` and `process.runtime.*` left out.",
    },
    TagSpec {
        name: "scope_name",
        description: "The instrumentation scope's name.",
    },
    TagSpec {
        name: "remote_ip",
        description: "The client's address.",
    },
    TagSpec {
        name: "unit",
        description: "The metric's unit (empty when it has none).",
    },
    TagSpec {
        name: "le",
        description: "A histogram bucket's upper bound (`+Inf` for the last), on `<metric>_bucket` points.",
    },
];

const METRIC_FIELDS: &[FieldSpec] = &[
    FieldSpec {
        name: "<metric>",
        kind: FieldType::Float,
        unit: "-",
        description: "A gauge's or a sum's value, named after the metric (an integer for integer points). Sums are written as the SDK reports them: running totals for cumulative temporality, increases for delta.",
    },
    FieldSpec {
        name: "<metric>_count",
        kind: FieldType::Uint,
        unit: "count",
        description: "A histogram's, exponential histogram's or summary's count of values.",
    },
    FieldSpec {
        name: "<metric>_sum",
        kind: FieldType::Float,
        unit: "-",
        description: "Their sum.",
    },
    FieldSpec {
        name: "<metric>_min",
        kind: FieldType::Float,
        unit: "-",
        description: "A histogram's or exponential histogram's smallest value (0 when the SDK sent none).",
    },
    FieldSpec {
        name: "<metric>_max",
        kind: FieldType::Float,
        unit: "-",
        description: "Its largest value (0 when the SDK sent none).",
    },
    FieldSpec {
        name: "<metric>_avg",
        kind: FieldType::Float,
        unit: "-",
        description: "An exponential histogram's sum / count (when the count is above 0).",
    },
    FieldSpec {
        name: "<metric>_bucket",
        kind: FieldType::Uint,
        unit: "count",
        description: "A histogram's values up to the bound `le` (cumulative), one point per bucket.",
    },
];

static MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "opentelemetry",
        category: Category::Tracing,
        description: "One point per span received over OTLP. Attributes with well-known keys (and those of `customer_tags`) are keys of the point, `.` written `_`: strings as tags, numbers and booleans as fields; the others stay in `message`.",
        tags: OTEL_TAGS,
        fields: OTEL_FIELDS,
    },
    MeasurementSpec {
        name: "<source>",
        category: Category::Logging,
        description: "One point per OTLP log record (several for a body over `log_max` KiB), named after the resource's `log.source`, else its `service.name`, else `otel_logs`.",
        tags: LOG_TAGS,
        fields: LOG_FIELDS,
    },
    MeasurementSpec {
        name: metrics::MEASUREMENT,
        category: Category::Metric,
        description: "One point per OTLP data point (and one per histogram bucket), fields named after the metric.",
        tags: METRIC_TAGS,
        fields: METRIC_FIELDS,
    },
];

pub const ENTRY: InputEntry = super::entry_with_compat::<OpentelemetryConfig>(
    InputSpec {
        name: "opentelemetry",
        catalog: "tracing",
        description: "Receives OTLP traces, metrics and logs: over HTTP on the HTTP API (/otel/v1/traces, /otel/v1/metrics, /otel/v1/logs; protobuf or JSON) and over gRPC on a listener of its own (127.0.0.1:4317 by default).",
        singleton: true,
        interval: None,
        measurements: MEASUREMENTS,
    },
    compat_key,
)
.with_notes(&[
    "The gRPC listener binds 127.0.0.1:4317 by default (the original's sample's address): applications on other hosts need `grpc.addr = \"0.0.0.0:4317\"`; `grpc.addr = \"\"` turns it off.",
    "A span without a valid trace id (16 bytes, not all zero) or span id (8 bytes, not all zero) is rejected: counted as `invalid`, and reported to the client as a partial success.",
    "Metric temporality is not converted, as in the original: cumulative sums arrive as running totals, delta sums as increases.",
]);

#[cfg(test)]
mod tests;
