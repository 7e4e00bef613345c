//! `zipkin`: Zipkin's span API on the HTTP API's address. `POST /api/v1/spans` (JSON or
//! Thrift) and `POST /api/v2/spans` (JSON or protobuf), gzip or not, decoded by
//! [`decode`] into the v2 model ([`model`]), grouped by trace id, and through the shared span
//! pipeline into `tracing` points named `zipkin`.
//!
//! Answers as the original: 200 with no body once the spans are journaled, 400 for a body that
//! cannot be decoded or a content type the API does not take (here with the reason and
//! where), 429 with `Retry-After` when the journal is full.

pub mod decode;
pub mod model;

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use regex::Regex;

use super::routes::{Refused, Route, RouteRequest};
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
use model::Api;

pub const API_V1: &str = "/api/v1/spans";
pub const API_V2: &str = "/api/v2/spans";
/// The largest body taken (after decompression).
const MAX_BODY: usize = 32 << 20;

config_struct! {
    "Receives spans from Zipkin clients on the HTTP API's address."
    #[allow(non_snake_case)]
    pub struct ZipkinConfig {
        "The path of the v1 API (JSON and Thrift)."
        pub pathV1: String = API_V1.into(),
        "The path of the v2 API (JSON and protobuf)."
        pub pathV2: String = API_V2.into(),
        "Regular expressions of tag names (after `.` → `_`) left out of the points."
        pub ignore_tags: Vec<String> = Vec::new(),
        "Keep a trace whose entry resource (service + resource + source type) was not seen in \
         the last hour, whatever the sampler says."
        pub keep_rare_resource: bool = false,
        "Leave the span's JSON (`message`) out of the points."
        pub del_message: bool = false,
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

/// Keys of the original's `[[inputs.zipkin]]` read without effect, with why.
pub fn compat_key(key: &str) -> Option<&'static str> {
    let top = key.split(['.', '[']).next().unwrap_or(key);
    Some(match top {
        "storage" => {
            "no local cache is needed: accepted spans are in the agent's journal before the client is answered"
        }
        "pipelines" | "customer_tags" => {
            "deprecated in the original agent: every span tag is kept (see `ignore_tags`)"
        }
        _ => return None,
    })
}

impl InputConfig for ZipkinConfig {
    fn validate(&self, v: &mut Validation) {
        for (key, p) in [("pathV1", &self.pathV1), ("pathV2", &self.pathV2)] {
            if !super::routes::valid_path(p) {
                v.error(
                    key,
                    format!("`{p}` must start with `/` and hold no spaces, `?` or `#`"),
                );
            }
        }
        if self.pathV1 == self.pathV2 {
            v.error("pathV2", "must differ from `pathV1`")
                .reads(&["pathV1"]);
        }
        for (i, r) in self.ignore_tags.iter().enumerate() {
            if let Err(e) = crate::config::validate::check_regex(r) {
                v.error(
                    &format!("ignore_tags[{i}]"),
                    format!("invalid regular expression: {e}"),
                );
            }
        }
        if (self.threads.threads == 0) != (self.threads.buffer == 0) {
            v.warning(
                "threads",
                "`threads` and `buffer` must both be above 0 for the bound to apply",
            );
        }
        topts::validate(v, &self.close_resource, &[], &self.sampler);
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let ignore = self
            .ignore_tags
            .iter()
            .map(|r| {
                Regex::new(r).map_err(|e| InputError::Setup(format!("ignore_tags `{r}`: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Box::new(Zipkin {
            cfg: self.clone(),
            ignore,
            close: CloseResource::compile(&self.close_resource)?,
        }))
    }
}

struct Zipkin {
    cfg: ZipkinConfig,
    ignore: Vec<Regex>,
    close: CloseResource,
}

struct Receiver {
    ignore: Vec<Regex>,
    pipeline: SpanPipeline,
    ctx: InputCtx,
    workers: Option<RequestBound>,
}

impl Input for Zipkin {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let Zipkin { cfg, ignore, close } = *self;
            // The original applies `ignore_tags` to the configured tags too.
            let tags = cfg
                .tags
                .iter()
                .filter(|(k, _)| !ignore.iter().any(|r| r.is_match(k)))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let opts = PipelineOptions {
                source: "zipkin",
                close_resource: close,
                omit_err_status: Vec::new(),
                keep_rare_resource: cfg.keep_rare_resource,
                sampling_rate: (cfg.sampler.sampling_rate < 1.0)
                    .then_some(cfg.sampler.sampling_rate),
                tags,
                del_message: cfg.del_message,
                hostname: ctx.hostname.to_string(),
            };
            let workers = RequestBound::new(&cfg.threads);
            let rx = Arc::new(Receiver {
                ignore,
                pipeline: SpanPipeline::new(opts),
                ctx: ctx.clone(),
                workers,
            });
            let mut routes = Vec::new();
            for (path, v2) in [(cfg.pathV1.clone(), false), (cfg.pathV2.clone(), true)] {
                let (rx1, rx2) = (rx.clone(), rx.clone());
                let p: Arc<str> = path.as_str().into();
                let p2 = p.clone();
                let refused: Refused = Arc::new(move |_h, why| {
                    rx2.count(
                        DropReason::Invalid,
                        1,
                        &format!("zipkin {p2}: body refused: {why}"),
                    );
                });
                routes.push(
                    Route::new(Method::POST, path, MAX_BODY, move |req| {
                        let (rx, p) = (rx1.clone(), p.clone());
                        async move { rx.spans(p, v2, req).await }
                    })
                    .on_refused(refused),
                );
            }
            let _handle = ctx
                .routes
                .register(ctx.stats.clone(), routes)
                .map_err(|e| InputError::Setup(e.to_string()))?;
            tracing::info!(v1 = %cfg.pathV1, v2 = %cfg.pathV2, "zipkin receiver serving on the HTTP API");
            let mut shutdown = ctx.shutdown.clone();
            shutdown.wait().await;
            Ok(())
        })
    }
}

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

impl Receiver {
    fn count(&self, reason: DropReason, n: usize, detail: &str) {
        if n > 0 {
            self.ctx
                .ingest
                .discard(&self.ctx.origin, Category::Tracing, reason, n, Some(detail));
        }
    }

    fn refuse(&self, status: StatusCode, reason: DropReason, why: String) -> Response {
        tracing::warn!("{why}");
        self.ctx.stats.record_error(why.clone());
        self.count(reason, 1, &why);
        (status, format!("{why}\n")).into_response()
    }

    async fn spans(self: Arc<Self>, path: Arc<str>, v2: bool, req: RouteRequest) -> Response {
        let _permit = match &self.workers {
            None => None,
            Some(bound) => match bound.enter().await {
                Ok(p) => Some(p),
                Err(busy) => {
                    return self.refuse(
                        StatusCode::BAD_REQUEST,
                        DropReason::QueueFull,
                        format!("zipkin {path}: {busy}"),
                    );
                }
            },
        };
        let media = media(&req.headers);
        let (api, decoder): (Api, decode::Decoder) = match (v2, media.as_str()) {
            (true, "application/json") => (Api::V2, decode::json_v2),
            (true, "application/x-protobuf" | "application/protobuf") => {
                (Api::V2, decode::proto_v2)
            }
            (false, "application/json") => (Api::V1Json, decode::json_v1),
            (false, "application/x-thrift") => (Api::V1Thrift, decode::thrift_v1),
            _ => {
                let takes = if v2 {
                    "application/json or application/x-protobuf"
                } else {
                    "application/json or application/x-thrift"
                };
                return self.refuse(
                    StatusCode::BAD_REQUEST,
                    DropReason::Invalid,
                    format!(
                        "zipkin {path}: unsupported Content-Type `{media}`: this API takes {takes}"
                    ),
                );
            }
        };
        let me = self.clone();
        let opts = FeedOptions {
            durable: Some(WhenFull::Refuse),
            ..FeedOptions::default()
        };
        // Kept spans are encoded for the outputs as they are built when the stage allows.
        let view_feed = self.ctx.ingest.view_feed(
            &self.ctx.origin,
            Category::Tracing,
            &opts,
            req.body.len() * 2,
        );
        let work = tokio::task::spawn_blocking(move || {
            let spans = decoder(&req.body)?;
            let traces = model::group(spans)
                .into_iter()
                .map(|t| {
                    t.into_iter()
                        .map(|z| model::to_span(z, api, &me.ignore))
                        .collect()
                })
                .collect();
            let mut view_feed = view_feed;
            let processed = match view_feed.as_mut() {
                Some(f) => me.pipeline.process_with(traces, |v| f.push(v)),
                None => me.pipeline.process(traces),
            };
            Ok::<_, decode::ZipkinError>((processed, view_feed))
        });
        let (processed, view_feed) = match work.await {
            Ok(Ok(p)) => p,
            Ok(Err(e)) => {
                return self.refuse(
                    StatusCode::BAD_REQUEST,
                    DropReason::Invalid,
                    format!("zipkin {path}: cannot decode the body: {e}"),
                );
            }
            Err(e) => {
                return self.refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    DropReason::Invalid,
                    format!("zipkin {path}: decoding failed: {e}"),
                );
            }
        };
        self.count(
            DropReason::Sampled,
            processed.sampled,
            "sampler.sampling_rate",
        );
        self.count(
            DropReason::Filtered,
            processed.filtered,
            processed.filtered_why.as_deref().unwrap_or("filter"),
        );
        let fed = match view_feed {
            Some(f) => f.send().await,
            None => {
                self.ctx
                    .ingest
                    .feed(&self.ctx.origin, Category::Tracing, processed.points, &opts)
                    .await
            }
        };
        match fed {
            Ok(()) => StatusCode::OK.into_response(),
            Err(FeedError::Full(why)) => {
                let mut r = (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("zipkin {path}: the journal is full, come back later: {why}\n"),
                )
                    .into_response();
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            Err(FeedError::Closed) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "zipkin: the agent is stopping\n",
            )
                .into_response(),
        }
    }
}

/// The common span tags; Zipkin's own tags are the span's, `.` written `_`.
const ZIPKIN_TAGS: &[TagSpec] = crate::tracing_tags!();

static MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "zipkin",
    category: Category::Tracing,
    description: "One point per span received from a Zipkin client; every span tag is also a tag (`.` written `_`) unless `ignore_tags` matches it.",
    tags: ZIPKIN_TAGS,
    fields: MEASUREMENT_FIELDS,
}];

pub const ENTRY: InputEntry = super::entry_with_compat::<ZipkinConfig>(
    InputSpec {
        name: "zipkin",
        catalog: "tracing",
        description: "Receives spans from Zipkin clients on the HTTP API: /api/v1/spans (JSON, Thrift) and /api/v2/spans (JSON, protobuf).",
        singleton: true,
        interval: None,
        measurements: MEASUREMENTS,
    },
    compat_key,
);

#[cfg(test)]
mod tests;
