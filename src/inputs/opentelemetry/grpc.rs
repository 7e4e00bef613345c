//! OTLP/gRPC: `TraceService/Export`, `MetricsService/Export` and `LogsService/Export` on a
//! listener of the input's own (`grpc.addr`), served by tonic over HTTP/2 (no TLS), gzip taken
//! and answered in, messages up to `grpc.max_payload` (after decompression).
//!
//! Answers as OTLP/gRPC says: OK with the signal's export response (a partial success when
//! items were rejected); INVALID_ARGUMENT for a message that cannot be decoded or a gzip
//! stream that does not inflate (tonic says INTERNAL; the answer is rewritten);
//! RESOURCE_EXHAUSTED for a message over the limit, compressed or inflated (as the original's
//! grpc-go says; tonic's OUT_OF_RANGE would be retried by clients); UNAVAILABLE while the
//! journal is full or the agent stops (the client retries). Every refused message is counted
//! (`invalid`) and recorded as the input's last error. Other services answer UNIMPLEMENTED.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderValue;
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::otlp::collector::logs::v1::logs_service_server::{LogsService, LogsServiceServer};
use super::otlp::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use super::otlp::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use super::otlp::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use super::otlp::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use super::otlp::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use super::{C_GRPC, COUNTERS, ExportError, Exported, Receiver};
use crate::inputs::InputError;
use crate::point::Category;
use crate::shutdown::Shutdown;
use crate::stats::DropReason;

struct Traces(Arc<Receiver>);
struct Metrics(Arc<Receiver>);
struct Logs(Arc<Receiver>);

#[tonic::async_trait]
impl LogsService for Logs {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let ip = remote_ip(&request);
        let partial = answer(self.0.export_logs(request.into_inner(), ip).await)?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: partial.map(|p| ExportLogsPartialSuccess {
                rejected_log_records: p.rejected_spans,
                error_message: p.error_message,
            }),
        }))
    }
}

/// The answer of an export.
fn answer(r: Result<Exported, ExportError>) -> Result<Option<ExportTracePartialSuccess>, Status> {
    match r {
        Ok(ex) => Ok((ex.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(ex.rejected).unwrap_or(i64::MAX),
            error_message: ex.rejected_why.unwrap_or_default(),
        })),
        Err(ExportError::Full(why)) => Err(Status::unavailable(format!(
            "the journal is full, come back later: {why}"
        ))),
        Err(e) => Err(Status::unavailable(e.to_string())),
    }
}

fn remote_ip<T>(r: &Request<T>) -> String {
    r.remote_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

#[tonic::async_trait]
impl MetricsService for Metrics {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let ip = remote_ip(&request);
        let partial = answer(self.0.export_metrics(request.into_inner(), ip).await)?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: partial.map(|p| ExportMetricsPartialSuccess {
                rejected_data_points: p.rejected_spans,
                error_message: p.error_message,
            }),
        }))
    }
}

/// Counts the messages tonic refuses before they reach a service (undecodable, too large)
/// and gives them OTLP's status codes.
#[derive(Clone)]
struct Watch<S> {
    inner: S,
    rx: Arc<Receiver>,
}

impl<S, B> tower::Service<axum::http::Request<B>> for Watch<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<tonic::body::Body>>
        + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>> + Send>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: axum::http::Request<B>) -> Self::Future {
        let path = req.uri().path().to_string();
        let fut = self.inner.call(req);
        let rx = self.rx.clone();
        Box::pin(async move {
            let mut resp = fut.await?;
            rx.ctx.stats.receiver(COUNTERS).add(C_GRPC, 1);
            let cat = if path.contains(".metrics.") {
                Category::Metric
            } else if path.contains(".logs.") {
                Category::Logging
            } else {
                Category::Tracing
            };
            watch_status(&rx, cat, &path, &mut resp);
            Ok(resp)
        })
    }
}

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let ip = remote_ip(&request);
        let partial = answer(self.0.export_traces(request.into_inner(), ip).await)?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: partial,
        }))
    }
}

/// gRPC status codes this module reads or writes.
const INVALID_ARGUMENT: &str = "3";
const INTERNAL: &str = "13";
const OUT_OF_RANGE: &str = "11";
const RESOURCE_EXHAUSTED: &str = "8";

/// Rewrites tonic's status of a refused message to OTLP's, and counts the refusal.
fn watch_status(
    rx: &Receiver,
    cat: Category,
    path: &str,
    resp: &mut axum::http::Response<tonic::body::Body>,
) {
    let h = resp.headers_mut();
    let code = h
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let msg = h
        .get("grpc-message")
        .and_then(|v| v.to_str().ok())
        .map(|m| {
            percent_encoding::percent_decode_str(m)
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let refused = match code.as_deref() {
        // A message that is not OTLP: tonic says INTERNAL, OTLP says INVALID_ARGUMENT.
        Some(INTERNAL) if msg.starts_with("failed to decode Protobuf message") => {
            h.insert("grpc-status", HeaderValue::from_static(INVALID_ARGUMENT));
            true
        }
        // Over max_payload: tonic says OUT_OF_RANGE, which OTLP clients retry; the original
        // (grpc-go) says RESOURCE_EXHAUSTED, which they do not.
        Some(OUT_OF_RANGE) => {
            h.insert("grpc-status", HeaderValue::from_static(RESOURCE_EXHAUSTED));
            true
        }
        // Over max_payload once inflated (gzip): tonic's own RESOURCE_EXHAUSTED (the
        // services answer UNAVAILABLE for a full journal, never this).
        Some(RESOURCE_EXHAUSTED) => true,
        // A gzip stream that does not inflate.
        Some(INTERNAL) if msg.starts_with("Error decompressing") => {
            h.insert("grpc-status", HeaderValue::from_static(INVALID_ARGUMENT));
            true
        }
        _ => false,
    };
    if refused {
        rx.note_refused(
            cat,
            DropReason::Invalid,
            &format!("opentelemetry gRPC {path}: {msg}"),
        );
    }
}

/// Serves OTLP/gRPC on `addr` until `shutdown`.
pub async fn serve(
    rx: Arc<Receiver>,
    addr: &str,
    max: usize,
    mut shutdown: Shutdown,
) -> Result<(), InputError> {
    let sock: SocketAddr = addr
        .parse()
        .map_err(|e| InputError::Setup(format!("grpc.addr `{addr}`: {e}")))?;
    let listener = tokio::net::TcpListener::bind(sock)
        .await
        .map_err(|e| InputError::Setup(format!("grpc.addr `{addr}`: cannot listen: {e}")))?;
    let bound = listener
        .local_addr()
        .map_or_else(|_| addr.to_string(), |a| a.to_string());
    tracing::info!(addr = %bound, "opentelemetry receiver serving OTLP/gRPC");
    let svc = TraceServiceServer::new(Traces(rx.clone()))
        .max_decoding_message_size(max)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    let metrics = MetricsServiceServer::new(Metrics(rx.clone()))
        .max_decoding_message_size(max)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    let logs = LogsServiceServer::new(Logs(rx.clone()))
        .max_decoding_message_size(max)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    let rx2 = rx.clone();
    let watch = tower::layer::layer_fn(move |inner| Watch {
        inner,
        rx: rx2.clone(),
    });
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tonic::transport::Server::builder()
        .layer(watch)
        .add_service(svc)
        .add_service(metrics)
        .add_service(logs)
        .serve_with_incoming_shutdown(incoming, async move { shutdown.wait().await })
        .await
        .map_err(|e| InputError::Setup(format!("OTLP/gRPC on {bound}: {e}")))
}
