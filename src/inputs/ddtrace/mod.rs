//! `ddtrace`: the Datadog tracers' agent API on the HTTP API's address. Traces posted to
//! `/v0.3/traces`, `/v0.4/traces`, `/v0.5/traces` (and the older `/v0.1/spans`,
//! `/v0.2/traces` when listed in `endpoints`) are decoded ([`decode`]), turned into spans
//! with the original's tag mapping ([`convert`]), and go through the shared span pipeline
//! ([`crate::inputs::trace`]) into `tracing` points named `ddtrace`.
//!
//! Answers, as the original gives them: `OK\n` on `/v0.1`–`/v0.3`, `{}` (JSON, with the
//! `Datadog-Rates-Payload-Version` header echoed) on `/v0.4` and `/v0.5`; 400 for a body that
//! cannot be decoded (here with the reason and where it failed); `GET /info` and
//! `/v0.6/stats` 404 (this agent computes no client-side stats, so the tracers keep theirs);
//! the tracers' telemetry (`/telemetry/proxy/api/v2/apmtelemetry`) 200. The answer comes once
//! the points are in the journal; a full journal is answered 429 with `Retry-After`.

pub mod convert;
pub mod decode;
pub mod encode;
pub mod msgpack;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::routes::{Route, RouteRequest};
use super::trace::bound::RequestBound;
use super::trace::options::{self as topts, ThreadsConfig};
use super::trace::spec::MEASUREMENT_FIELDS;
use super::trace::{CloseResource, PipelineOptions, SamplerConfig, SpanPipeline};
use super::{
    Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, MeasurementSpec, TagSpec,
    Validation,
};
use crate::config_struct;
use crate::ingest::{FeedError, FeedOptions};
use crate::io::WhenFull;
use crate::point::Category;
use crate::stats::DropReason;

pub use convert::Converter;

/// The trace endpoints the original knows.
pub const V1: &str = "/v0.1/spans";
pub const V2: &str = "/v0.2/traces";
pub const V3: &str = "/v0.3/traces";
pub const V4: &str = "/v0.4/traces";
pub const V5: &str = "/v0.5/traces";
pub const ENDPOINTS: [&str; 5] = [V1, V2, V3, V4, V5];
pub const INFO: &str = "/info";
pub const STATS: &str = "/v0.6/stats";
pub const TELEMETRY: &str = "/telemetry/proxy/api/v2/apmtelemetry";

/// The largest body `max_trace_body_mb = -1` takes.
const NO_LIMIT_BODY: usize = 1 << 30;

config_struct! {
    "Receives traces from Datadog tracers (ddtrace) on the HTTP API's address."
    pub struct DdtraceConfig {
        "Trace endpoints served, of `/v0.1/spans`, `/v0.2/traces`, `/v0.3/traces`, \
         `/v0.4/traces`, `/v0.5/traces`."
        pub endpoints: Vec<String> = vec![V3.into(), V4.into(), V5.into()],
        "Span tags (meta keys) kept as point tags, `.` written `_` (`project.name` → \
         `project_name`); `reg:` followed by a regular expression keeps every key it matches. \
         The well-known keys (`http.url`, `http.status_code`, `env`, `version`, `db.type`, ...) \
         always are. Keys kept as tags leave the span's `message`; values over 1024 bytes \
         become fields."
        pub customer_tags: Vec<String> = Vec::new(),
        "Keep a trace whose entry resource (service + resource + source type) was not seen in \
         the last hour, whatever the sampler says (only with a sampling rate below 1)."
        pub keep_rare_resource: bool = false,
        "HTTP status codes whose web traces are dropped (traces with an error span are always \
         kept)."
        pub omit_err_status: Vec<String> = Vec::new(),
        "Write `span_id` and `parent_id` in hex (16 digits), as OpenTelemetry does."
        pub compatible_otel: bool = false,
        "Write trace ids as 16 hex digits (B3 / B3 multi compatible), and span ids in hex; the \
         128-bit `_dd.p.tid` is then ignored."
        pub trace_id_64_bit_hex: bool = false,
        "A trace whose root carries `_dd.p.tid` (128-bit ids) gets the 32-hex-digit id: \
         `_dd.p.tid` then the low 64 bits in 16 hex digits. Off: the low 64 bits in decimal."
        pub trace_128_bit_id: bool = true,
        "Leave the span's JSON (`message`) out of the points."
        pub del_message: bool = false,
        "Most spans kept of one trace (the rest are dropped, counted, and the last span kept \
         says so in `__datakit_span_truncated`); -1 for no limit."
        pub trace_max_spans: i64 = 100_000,
        "Largest request body in MiB (after decompression); larger ones are answered 413; -1 \
         for 1 GiB."
        pub max_trace_body_mb: i64 = 32,
        "Drop traces with a span of these services (`*` for every service) whose resource \
         matches one of the regular expressions."
        pub close_resource: BTreeMap<String, Vec<String>> = BTreeMap::new(),
        "Sample traces whole by their id."
        pub sampler: SamplerConfig = SamplerConfig::default(),
        "Tags added to every span (the span's own keys win)."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
        "Bound the requests decoded at once."
        pub threads: ThreadsConfig = ThreadsConfig::default(),
    }
}

/// Keys of the original's `[[inputs.ddtrace]]` read without effect, with why.
pub fn compat_key(key: &str) -> Option<&'static str> {
    let top = key.split(['.', '[']).next().unwrap_or(key);
    Some(match top {
        "storage" => {
            "no local cache is needed: accepted traces are in the agent's journal before the tracer is answered"
        }
        "tracing_metric_enable"
        | "tracing_metric_tag_blacklist"
        | "tracing_metric_tag_whitelist" => {
            "the `tracing_metrics` measurement is not made by this agent"
        }
        "apmtelemetry_route_enable" => {
            "the tracers' telemetry is answered 200 and discarded: the JVM objects the original makes of it are not made"
        }
        "no_streaming" => "a request's traces are always fed together",
        "path" | "sample_configs" | "sample_config" | "ignore_resources" | "pipelines" => {
            "deprecated in the original agent: use `sampler`, `close_resource` and Pipeline scripts"
        }
        _ => return None,
    })
}

impl DdtraceConfig {
    fn max_body(&self) -> usize {
        match self.max_trace_body_mb {
            n if n < 0 => NO_LIMIT_BODY,
            n => (n as usize).saturating_mul(1 << 20).min(NO_LIMIT_BODY),
        }
    }
}

impl InputConfig for DdtraceConfig {
    fn validate(&self, v: &mut Validation) {
        if self.endpoints.is_empty() {
            v.warning("endpoints", "no endpoint: this instance receives nothing");
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if !ENDPOINTS.contains(&e.as_str()) {
                v.error(
                    &format!("endpoints[{i}]"),
                    format!("unknown endpoint `{e}`; use {}", ENDPOINTS.join(", ")),
                );
            }
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
        if self.trace_max_spans == 0 || self.trace_max_spans < -1 {
            v.error("trace_max_spans", "must be at least 1, or -1 for no limit");
        }
        if self.max_trace_body_mb == 0 || self.max_trace_body_mb < -1 {
            v.error("max_trace_body_mb", "must be at least 1, or -1 for 1 GiB");
        }
        if self.keep_rare_resource && self.sampler.sampling_rate >= 1.0 {
            v.warning(
                "keep_rare_resource",
                "has no effect without a `sampler.sampling_rate` below 1 (as in the original)",
            )
            .reads(&["sampler.sampling_rate"]);
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
        Ok(Box::new(Ddtrace {
            cfg: self.clone(),
            converter: Converter::new(self)?,
            close: CloseResource::compile(&self.close_resource)?,
        }))
    }
}

struct Ddtrace {
    cfg: DdtraceConfig,
    converter: Converter,
    close: CloseResource,
}

/// What the routes of one running instance share.
struct Receiver {
    converter: Converter,
    pipeline: SpanPipeline,
    ctx: InputCtx,
    /// The `threads` bound: permits, and how many may wait for one.
    workers: Option<RequestBound>,
}

impl Input for Ddtrace {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let Ddtrace {
                cfg,
                converter,
                close,
            } = *self;
            let opts = PipelineOptions {
                source: "ddtrace",
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
            let workers = RequestBound::new(&cfg.threads);
            let rx = Arc::new(Receiver {
                converter,
                pipeline: SpanPipeline::new(opts),
                ctx: ctx.clone(),
                workers,
            });
            let max_body = cfg.max_body();
            let mut routes = Vec::new();
            for e in &cfg.endpoints {
                let Some(path) = ENDPOINTS.iter().find(|p| **p == e.as_str()) else {
                    continue;
                };
                for m in [Method::POST, Method::PUT] {
                    let (rx, rx2) = (rx.clone(), rx.clone());
                    let refused: super::routes::Refused = Arc::new(move |h, why| {
                        rx2.count_refused(path, h, why);
                    });
                    routes.push(
                        Route::new(m, *path, max_body, move |req| {
                            let rx = rx.clone();
                            async move { rx.traces(path, req).await }
                        })
                        .on_refused(refused),
                    );
                }
            }
            if !routes.is_empty() {
                routes.push(Route::new(Method::GET, INFO, 0, |_| async {
                    not_served("this agent serves no /info: the tracer keeps its own defaults")
                }));
                for m in [Method::GET, Method::POST, Method::PUT] {
                    routes.push(Route::new(m, STATS, 0, |_| async {
                        not_served("this agent takes no client-side stats")
                    }));
                }
                routes.push(Route::new(Method::POST, TELEMETRY, 4 << 20, |_| async {
                    StatusCode::OK.into_response()
                }));
            }
            let _handle = ctx
                .routes
                .register(ctx.stats.clone(), routes)
                .map_err(|e| InputError::Setup(e.to_string()))?;
            tracing::info!(endpoints = ?cfg.endpoints, "ddtrace receiver serving on the HTTP API");
            let mut shutdown = ctx.shutdown.clone();
            shutdown.wait().await;
            Ok(())
        })
    }
}

fn not_served(why: &'static str) -> Response {
    (StatusCode::NOT_FOUND, why).into_response()
}

/// The number of traces a request announces (`X-Datadog-Trace-Count`), at least 1: what a
/// body refused whole is counted as.
fn announced(headers: &HeaderMap) -> usize {
    headers
        .get("x-datadog-trace-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .max(1)
}

fn header_is(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == value)
}

/// The success answer of `path`.
fn ok_answer(path: &str, headers: &HeaderMap) -> Response {
    if matches!(path, V1 | V2 | V3) {
        return (StatusCode::OK, "OK\n").into_response();
    }
    let mut r = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        "{}",
    )
        .into_response();
    if let Some(v) = headers.get("datadog-rates-payload-version") {
        r.headers_mut()
            .insert("datadog-rates-payload-version", v.clone());
    }
    r
}

impl Receiver {
    /// Counts a body the API refused before it reached us (too large, not gzip, too slow).
    fn count_refused(&self, path: &str, headers: &HeaderMap, why: &str) {
        let msg = format!("ddtrace {path}: body refused: {why}");
        self.ctx.ingest.discard(
            &self.ctx.origin,
            Category::Tracing,
            DropReason::Invalid,
            announced(headers),
            Some(&msg),
        );
    }

    fn refuse(
        &self,
        status: StatusCode,
        path: &str,
        n: usize,
        reason: DropReason,
        why: String,
    ) -> Response {
        let msg = format!("ddtrace {path}: {why}");
        tracing::warn!("{msg}");
        self.ctx.stats.record_error(msg.clone());
        self.ctx
            .ingest
            .discard(&self.ctx.origin, Category::Tracing, reason, n, Some(&msg));
        (status, format!("{msg}\n")).into_response()
    }

    async fn traces(self: Arc<Self>, path: &'static str, req: RouteRequest) -> Response {
        if header_is(&req.headers, "content-length", "0")
            || header_is(&req.headers, "x-datadog-trace-count", "0")
            || req.body.is_empty()
        {
            return ok_answer(path, &req.headers);
        }
        let _permit = match &self.workers {
            None => None,
            Some(bound) => match bound.enter().await {
                Ok(p) => Some(p),
                Err(busy) => {
                    return self.refuse(
                        StatusCode::BAD_REQUEST,
                        path,
                        announced(&req.headers),
                        DropReason::QueueFull,
                        busy.to_string(),
                    );
                }
            },
        };
        let media = decode::media_type(
            req.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or(""),
        );
        let remote_ip = req.client_ip.map(|ip| ip.to_string()).unwrap_or_default();
        let n_announced = announced(&req.headers);
        let me = self.clone();
        let opts = FeedOptions {
            durable: Some(WhenFull::Refuse),
            ..FeedOptions::default()
        };
        // The kept spans are encoded for the outputs as they are built, when the stage allows
        // (else they become owned points): a point is about twice its span's bytes.
        let view_feed = self.ctx.ingest.view_feed(
            &self.ctx.origin,
            Category::Tracing,
            &opts,
            req.body.len() * 2,
        );
        let work = tokio::task::spawn_blocking(move || {
            let traces = match path {
                V1 => decode::json_spans(&req.body),
                V5 => decode::msgpack_v05(&req.body).map(decode::merge_traces),
                _ => decode::by_content_type(&media, &req.body),
            }?;
            let converted = me
                .converter
                .convert_for(traces, &remote_ip, Some(&me.pipeline));
            let mut view_feed = view_feed;
            let mut processed = match view_feed.as_mut() {
                Some(f) => me.pipeline.process_with(converted.traces, |v| f.push(v)),
                None => me.pipeline.process(converted.traces),
            };
            processed.sampled += converted.sampled;
            Ok::<_, decode::DecodeError>((
                converted.rejected,
                converted.truncated,
                processed,
                view_feed,
            ))
        });
        let (rejected, truncated, processed, view_feed) = match work.await {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                return self.refuse(
                    StatusCode::BAD_REQUEST,
                    path,
                    n_announced,
                    DropReason::Invalid,
                    format!("cannot decode the body: {e}"),
                );
            }
            Err(e) => {
                return self.refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    path,
                    n_announced,
                    DropReason::Invalid,
                    format!("decoding failed: {e}"),
                );
            }
        };
        let (ingest, origin) = (&self.ctx.ingest, &self.ctx.origin);
        if rejected > 0 {
            ingest.discard(
                origin,
                Category::Tracing,
                DropReason::Sampled,
                rejected,
                Some("the tracer's sampling priority rejects the trace"),
            );
        }
        if processed.sampled > 0 {
            ingest.discard(
                origin,
                Category::Tracing,
                DropReason::Sampled,
                processed.sampled,
                Some("sampler.sampling_rate"),
            );
        }
        if processed.filtered > 0 {
            ingest.discard(
                origin,
                Category::Tracing,
                DropReason::Filtered,
                processed.filtered,
                processed.filtered_why.as_deref(),
            );
        }
        if truncated > 0 {
            ingest.discard(
                origin,
                Category::Tracing,
                DropReason::TooLarge,
                truncated,
                Some("spans past trace_max_spans"),
            );
        }
        let fed = match view_feed {
            Some(f) => f.send().await,
            None => {
                ingest
                    .feed(origin, Category::Tracing, processed.points, &opts)
                    .await
            }
        };
        match fed {
            Ok(()) => ok_answer(path, &req.headers),
            Err(FeedError::Full(why)) => {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("ddtrace {path}: the journal is full, come back later: {why}\n"),
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            Err(FeedError::Closed) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "ddtrace: the agent is stopping\n",
            )
                .into_response(),
        }
    }
}

/// The common span tags and those only ddtrace's spans carry.
const DDTRACE_TAGS: &[TagSpec] = crate::tracing_tags!(
    TagSpec {
        name: "remote_ip",
        description: "The tracer's address (`X-Forwarded-For`, `X-Real-IP`, else the peer)."
    },
    TagSpec {
        name: "sampling_rate",
        description: "The tracer's sampling decision: `sampler_keep`, `user_keep` (from `_sampling_priority_v1`)."
    },
    TagSpec {
        name: "runtime_id",
        description: "The tracer's runtime id (also as `runtime-id`)."
    },
    TagSpec {
        name: "runtime-id",
        description: "The tracer's runtime id."
    },
    TagSpec {
        name: "http_hostname",
        description: "`http.hostname`. Optional."
    },
    TagSpec {
        name: "http_client_ip",
        description: "`http.client_ip`. Optional."
    },
    TagSpec {
        name: "sampling_priority",
        description: "`sampling.priority`. Optional."
    },
    TagSpec {
        name: "span_kind",
        description: "`span.kind`: `server`, `client`, ... Optional."
    },
    TagSpec {
        name: "error",
        description: "`error` meta. Optional."
    },
    TagSpec {
        name: "runtime_name",
        description: "`runtime.name`. Optional."
    },
    TagSpec {
        name: "dd_version",
        description: "`dd.version`. Optional."
    },
    TagSpec {
        name: "dd_env",
        description: "`dd.env`. Optional."
    },
    TagSpec {
        name: "error_message",
        description: "`error.message` (or `error.msg`). Optional."
    },
    TagSpec {
        name: "error_stack",
        description: "`error.stack`. Optional."
    },
    TagSpec {
        name: "error_type",
        description: "`error.type`. Optional."
    },
    TagSpec {
        name: "pid",
        description: "`system.pid`. Optional."
    },
    TagSpec {
        name: "pod_name",
        description: "Pod name. Optional."
    },
    TagSpec {
        name: "pod_namespace",
        description: "Pod namespace. Optional."
    },
    TagSpec {
        name: "db_operation",
        description: "`db.operation`. Optional."
    },
);

static MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "ddtrace",
    category: Category::Tracing,
    description: "One point per span received from a Datadog tracer.",
    tags: DDTRACE_TAGS,
    fields: MEASUREMENT_FIELDS,
}];

pub const ENTRY: InputEntry = super::entry_with_compat::<DdtraceConfig>(
    InputSpec {
        name: "ddtrace",
        catalog: "tracing",
        description: "Receives traces from Datadog tracers (ddtrace) on the HTTP API: /v0.3, /v0.4 and /v0.5 traces, msgpack or JSON.",
        singleton: true,
        interval: None,
        measurements: MEASUREMENTS,
    },
    compat_key,
);

#[cfg(test)]
mod tests;
