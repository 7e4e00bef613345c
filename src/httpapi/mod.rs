//! The HTTP API (`[http_api] listen`, `localhost:9529` by default): third-party data in, the
//! agent's state out.
//!
//! | route | what |
//! |---|---|
//! | `POST /v1/write/{category}` | line protocol, JSON or protobuf points (see [`write`]) |
//! | `POST /write`, `POST /api/v2/write` | InfluxDB 1.x / 2.x write APIs (Telegraf, InfluxDB clients) |
//! | `GET /v1/ping` | version, uptime, hostname |
//! | `GET /v1/ntp` | the agent's clock |
//! | `POST /v1/lasterror` | an external input reports an error |
//! | `GET /metrics` | Prometheus text of the self-metrics |
//! | `GET /v1/monitor` | the JSON `datakit monitor` renders |
//! | routes of inputs | receivers (ddtrace, Zipkin, ...) register theirs while they run ([`crate::inputs::routes`]) |
//!
//! Protection: a body size limit (413) and one memory budget for all bodies (503 with
//! `Retry-After`), per-client token-bucket rate limits (429; proxy headers believed only from
//! `trusted_proxies`), the `public_apis` allow-list for non-loopback clients (403), browser
//! origins refused unless allowed (403), time limits on reading headers (slow clients) and on
//! each request (408), a connection table no client address can fill ([`conns`]).
//!
//! Writes are all or nothing: once its body is read, a write is handed to the write workers
//! (their own threads, so decoding, checks and scripts never hold up the threads that answer
//! requests) and finishes there even when the client goes away; no time limit cuts it short.
//! The journal takes the whole body or refuses it (429) before any of it is queued.

pub mod body;
pub mod conns;
pub mod influx;
pub mod json;
pub mod limit;
pub mod write;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;

use crate::config::main_conf::HttpApiConfig;
use crate::config::validate::Net;
use crate::ingest::{Ingest, Origin};
use crate::inputs::routes::{Lookup, RouteRequest, Routes};
use crate::stats::Stats;
use limit::{RateLimiter, client_ip, is_local};
/// Time a client has to send its request headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// What to do about an address the API cannot listen on.
fn listen_hint(e: &std::io::Error) -> &'static str {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => {
            " (is another datakit running? set another address with [http_api] listen in conf.d/datakit.conf, or ENV_HTTP_LISTEN)"
        }
        std::io::ErrorKind::PermissionDenied => {
            " (ports below 1024 need root; set another address with [http_api] listen, or ENV_HTTP_LISTEN)"
        }
        std::io::ErrorKind::AddrNotAvailable => {
            " (no interface of this host has that address; check [http_api] listen, or ENV_HTTP_LISTEN)"
        }
        _ => "",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}: {cause}{}", listen_hint(cause))]
    Listen { addr: String, cause: std::io::Error },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("cannot start the write workers: {0}")]
    Workers(std::io::Error),
}

/// An error answer: `{"error_code": "...", "message": "..."}` with a status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for a `Retry-After` header (the client should come back).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// Asks the client to come back after `secs` seconds.
    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "datakit.bodyTooLarge",
            format!("the body is larger than {limit} bytes (http_api.max_body_size)"),
        )
    }
    pub fn timeout(t: Duration) -> ApiError {
        ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "datakit.timeout",
            format!("timeout({})", crate::config::duration::format_duration(t)),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({"error_code": self.code});
        if !self.message.is_empty() {
            body["message"] = self.message.into();
        }
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        r
    }
}

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub ingest: Ingest,
    /// The origins of the InfluxDB 1.x and 2.x write APIs.
    influx_origins: Arc<(Origin, Origin)>,
    pub stats: Arc<Stats>,
    pub hostname: Arc<str>,
    pub max_body: usize,
    pub timeout: Duration,
    limiter: Arc<RateLimiter>,
    public: Arc<Vec<String>>,
    disable_404page: bool,
    /// Bytes of bodies in memory, over all requests.
    pub budget: body::BodyBudget,
    /// The write workers.
    workers: tokio::runtime::Handle,
    /// `allowed_cors_origins`.
    origins: Arc<Vec<String>>,
    /// `trusted_proxies`.
    trusted: Arc<Vec<Net>>,
    /// Writes running on the workers.
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// Routes inputs serve (receivers); public, and answered after the API's own routes.
    pub routes: Routes,
}

/// Counts a write on the workers while it lives.
struct InFlight(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl AppState {
    /// Runs `job` (a write, from its read body on) on the write workers: it finishes there
    /// even when the request is cancelled, so a write is never cut in half.
    pub async fn on_workers<T: Send + 'static>(
        &self,
        job: impl std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    ) -> Result<T, ApiError> {
        self.in_flight
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let counted = InFlight(self.in_flight.clone());
        let job = async move {
            let _counted = counted;
            job.await
        };
        match self.workers.spawn(job).await {
            Ok(r) => r,
            Err(_) => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "datakit.shuttingDown",
                "the agent is shutting down",
            )),
        }
    }
}

/// The paths non-loopback clients may use when `public_apis` is empty: ping, ntp and the
/// write APIs.
pub fn default_public_apis() -> Vec<String> {
    let mut v: Vec<String> = vec![
        "/v1/ping".into(),
        "/v1/ntp".into(),
        "/write".into(),
        "/api/v2/write".into(),
    ];
    v.extend(
        write::WRITE_CATEGORIES
            .iter()
            .map(|c| c.url_path().to_string()),
    );
    v
}

/// The route label for stats and rate limits: the path of a known route (the API's own, or one
/// an input serves), else `__unknown` (so random paths cannot grow the stats without bound).
fn route_label<'a>(path: &'a str, routes: &Routes) -> &'a str {
    const KNOWN: &[&str] = &[
        "/v1/ping",
        "/v1/ntp",
        "/v1/lasterror",
        "/metrics",
        "/v1/monitor",
        "/write",
        "/api/v2/write",
        "/query",
        "/ping",
        "/health",
    ];
    if KNOWN.contains(&path)
        || write::WRITE_CATEGORIES.iter().any(|c| c.url_path() == path)
        || routes.contains(path)
    {
        path
    } else {
        "__unknown"
    }
}

/// Whether `route` writes points: such requests are not cut short by the request time limit
/// once their body is read (see the module docs).
fn is_write_route(route: &str) -> bool {
    route == "/write"
        || route == "/api/v2/write"
        || write::WRITE_CATEGORIES
            .iter()
            .any(|c| c.url_path() == route)
}

/// Routes browsers may write to from pages of any origin while `allowed_cors_origins` is empty
/// (the RUM SDKs send from users' browsers).
fn is_browser_route(path: &str) -> bool {
    path == "/v1/write/rum"
}

/// A request from a web page (it carries `Origin`) that may not write: its origin is not in
/// `allowed_cors_origins` (or, on browser routes, the list is not empty and lacks it).
fn origin_refused(
    st: &AppState,
    method: &Method,
    path: &str,
    headers: &axum::http::HeaderMap,
) -> Option<String> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    let origin = headers.get(header::ORIGIN)?;
    let origin = origin.to_str().unwrap_or("?");
    if st
        .origins
        .iter()
        .any(|o| o == "*" || o.eq_ignore_ascii_case(origin))
    {
        return None;
    }
    if st.origins.is_empty() && is_browser_route(path) {
        return None;
    }
    Some(origin.to_string())
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Access control, rate limit, time limit, stats and the `X-DataKit` header, for every route.
async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let t0 = Instant::now();
    let peer: Option<IpAddr> = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .and_then(|c| c.0.ip());
    let path = req.uri().path().to_string();
    let route = route_label(&path, &st.routes).to_string();
    let method = method_label(req.method());
    let body_len = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let public = st.public.contains(&path) || st.routes.contains(&path);
    let mut resp = if let Some(origin) = origin_refused(&st, req.method(), &path, req.headers()) {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "datakit.originNotAllowed",
            format!(
                "requests from web pages of origin `{origin}` may not write to {path}: list the origin in [http_api] allowed_cors_origins"
            ),
        )
        .into_response()
    } else if !is_local(req.headers(), peer) && !public {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "datakit.publicAccessDisabled",
            format!("api {path} disabled from external IP, only loopback(localhost) allowed"),
        )
        .into_response()
    } else if !st
        .limiter
        .allow(client_ip(req.headers(), peer, &st.trusted), &route)
    {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "datakit.reachMaxAPILimit",
            "",
        )
        .into_response()
    } else if is_write_route(&route) || st.routes.contains(&path) {
        // The handler limits the time to read the body; past that the write runs to its end.
        next.run(req).await
    } else {
        match tokio::time::timeout(st.timeout, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::timeout(st.timeout).into_response(),
        }
    };
    let tag = format!("{}/{}", crate::build_info::VERSION, st.hostname);
    if let Ok(v) = HeaderValue::from_str(&tag) {
        resp.headers_mut().insert("X-DataKit", v);
    }
    st.stats.record_http(
        &route,
        method,
        resp.status().as_u16(),
        t0.elapsed(),
        body_len,
    );
    resp
}

async fn ping(State(st): State<AppState>) -> Response {
    let uptime =
        crate::config::duration::format_duration(Duration::from_secs(st.stats.uptime().as_secs()));
    axum::Json(serde_json::json!({"content": {
        "version": crate::build_info::VERSION,
        "commit": crate::build_info::COMMIT,
        "uptime": uptime,
        "host": &*st.hostname,
    }}))
    .into_response()
}

async fn ntp() -> Response {
    let secs = crate::clock::now_secs();
    axum::Json(serde_json::json!({"timestamp_sec": secs})).into_response()
}

async fn metrics(State(st): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        st.stats.render_prometheus(),
    )
        .into_response()
}

async fn monitor(State(st): State<AppState>) -> Response {
    axum::Json(st.stats.snapshot()).into_response()
}

#[derive(serde::Deserialize)]
struct LastError {
    input: String,
    #[serde(default)]
    source: String,
    err_content: String,
}

async fn lasterror(
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let e: LastError = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.invalidLastError",
            e.to_string(),
        )
    })?;
    if e.input.is_empty() || e.err_content.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.invalidLastError",
            "`input` and `err_content` are required",
        ));
    }
    let source = if e.source.is_empty() {
        e.input.clone()
    } else {
        e.source
    };
    // A running input's row gets the error; any other name is a bounded client name.
    st.stats
        .find_input(&e.input)
        .unwrap_or_else(|| st.stats.client_input("lasterror", &e.input))
        .record_error(e.err_content.clone());
    st.stats.record_error(&source, e.err_content);
    Ok(StatusCode::OK.into_response())
}

/// InfluxDB's `/ping`: 204 with its version header (clients probe it).
async fn influx_ping() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            ("X-Influxdb-Version", "1.8.10"),
            ("X-Influxdb-Build", "DataKit"),
        ],
    )
        .into_response()
}

async fn influx_health() -> Response {
    axum::Json(
        serde_json::json!({"name": "datakit", "status": "pass", "message": "ready for writes"}),
    )
    .into_response()
}

/// Requests no route of the API matched: an input's route, else 404 (405 for a served path
/// asked with another method).
async fn dispatch(State(st): State<AppState>, req: Request) -> Response {
    let peer: Option<IpAddr> = req
        .extensions()
        .get::<ConnectInfo<Peer>>()
        .and_then(|c| c.0.ip());
    let found = match st.routes.lookup(req.method(), req.uri().path()) {
        Lookup::Found(f) => f,
        Lookup::WrongMethod(methods) => {
            let allow: Vec<&str> = methods.iter().map(Method::as_str).collect();
            let mut r = ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "datakit.methodNotAllowed",
                format!("{} takes {}", req.uri().path(), allow.join(", ")),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            return r;
        }
        Lookup::Missing => return not_found(State(st)).await,
    };
    let (parts, body) = req.into_parts();
    let refused =
        |found: &crate::inputs::routes::Found, parts: &axum::http::request::Parts, e: &ApiError| {
            found.owner.record_error(format!(
                "{} {}: {}",
                parts.method,
                parts.uri.path(),
                e.message
            ));
            if let Some(f) = &found.on_refused {
                f(&parts.headers, &e.message);
            }
        };
    let raw = if found.max_body == 0 {
        None
    } else {
        match body::read_body(
            body,
            &parts.headers,
            None,
            found.max_body,
            st.timeout,
            &st.budget,
        )
        .await
        {
            Ok(b) => Some(b),
            Err(e) => {
                refused(&found, &parts, &e);
                return e.into_response();
            }
        }
    };
    let client_ip = client_ip(&parts.headers, peer, &st.trusted);
    let job_st = st.clone();
    // Decompressing and decoding run on the write workers, and run to their end (see the
    // module docs).
    let done = st
        .on_workers(async move {
            let held = match raw {
                None => None,
                Some(raw) => match raw.inflate(found.max_body, &job_st.budget).await {
                    Ok(b) => Some(b),
                    Err(e) => {
                        refused(&found, &parts, &e);
                        return Err(e);
                    }
                },
            };
            let body = held.as_ref().map(|h| h.bytes.clone()).unwrap_or_default();
            let r = (found.handler)(RouteRequest {
                method: parts.method,
                uri: parts.uri,
                headers: parts.headers,
                body,
                client_ip,
            })
            .await;
            drop(held);
            Ok(r)
        })
        .await;
    match done {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn not_found(State(st): State<AppState>) -> Response {
    if st.disable_404page {
        return (StatusCode::NOT_FOUND, "404 page not found").into_response();
    }
    let body = format!(
        "Welcome to DataKit {} on {}.\n\nThis is its HTTP API: POST /v1/write/<category> takes points \
         (line protocol, JSON or protobuf); GET /v1/ping says it is alive; GET /metrics exposes its \
         own metrics.\n",
        crate::build_info::VERSION,
        st.hostname
    );
    (StatusCode::NOT_FOUND, body).into_response()
}

/// The routes.
pub fn router(st: AppState) -> Router {
    Router::new()
        .route("/v1/ping", get(ping))
        .route("/v1/ntp", get(ntp))
        .route("/v1/write/{category}", post(write::v1_write))
        .route("/write", post(influx::influx_v1_write))
        .route("/api/v2/write", post(influx::influx_v2_write))
        .route(
            "/query",
            get(influx::influx_query).post(influx::influx_query),
        )
        .route("/ping", get(influx_ping).head(influx_ping))
        .route("/health", get(influx_health))
        .route("/v1/lasterror", post(lasterror))
        .route("/metrics", get(metrics))
        .route("/v1/monitor", get(monitor))
        .fallback(dispatch)
        .layer(axum::middleware::from_fn_with_state(st.clone(), guard))
        .with_state(st)
}

/// The peer of a connection: an IP, or a Unix socket (`None`, counted as local).
#[derive(Debug, Clone, Copy)]
pub struct Peer(Option<SocketAddr>);

impl Peer {
    fn ip(&self) -> Option<IpAddr> {
        self.0.map(|a| a.ip())
    }
}

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(String),
    Unix(PathBuf),
}

impl ListenAddr {
    /// From `[http_api] listen`: an absolute path is a Unix socket; `localhost` means 127.0.0.1.
    pub fn parse(s: &str) -> ListenAddr {
        if s.starts_with('/') {
            return ListenAddr::Unix(PathBuf::from(s));
        }
        match s.strip_prefix("localhost:") {
            Some(port) => ListenAddr::Tcp(format!("127.0.0.1:{port}")),
            None => ListenAddr::Tcp(s.to_string()),
        }
    }
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// The running server.
pub struct HttpApi {
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The write workers' runtime.
    workers: Workers,
    in_flight: Arc<std::sync::atomic::AtomicUsize>,
    /// The addresses actually bound (port 0 resolved).
    pub bound: Vec<String>,
}

fn load_tls(cert: &str, key: &str) -> Result<tokio_rustls::TlsAcceptor, HttpError> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| HttpError::Tls(format!("certificate {cert}: {e}")))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| HttpError::Tls(format!("private key {key}: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| HttpError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| HttpError::Tls(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

impl HttpApi {
    /// Binds every configured address and serves until [`HttpApi::shutdown`].
    pub async fn start(
        cfg: &HttpApiConfig,
        ingest: Ingest,
        stats: Arc<Stats>,
        hostname: Arc<str>,
        routes: Routes,
    ) -> Result<HttpApi, HttpError> {
        let public = if cfg.public_apis.is_empty() {
            default_public_apis()
        } else {
            let mut v = vec!["/v1/ping".to_string(), "/v1/ntp".to_string()];
            v.extend(cfg.public_apis.iter().cloned());
            v
        };
        let threads = match cfg.write_workers {
            0 => std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .max(2),
            n => usize::try_from(n).unwrap_or(2).clamp(1, 256),
        };
        let workers = Workers(Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("dk-write")
                .enable_time()
                .build()
                .map_err(HttpError::Workers)?,
        ));
        let max_body = usize::try_from(cfg.max_body_size).unwrap_or(usize::MAX);
        let st = AppState {
            influx_origins: Arc::new((ingest.origin("influxdb-v1"), ingest.origin("influxdb-v2"))),
            ingest,
            stats,
            hostname,
            max_body,
            timeout: cfg.timeout.get().max(Duration::from_millis(100)),
            limiter: Arc::new(RateLimiter::new(
                cfg.request_rate_limit,
                cfg.request_rate_limit_burst,
                cfg.request_rate_limit_ttl.get(),
            )),
            public: Arc::new(public),
            disable_404page: cfg.disable_404page,
            budget: body::BodyBudget::new(
                cfg.max_body_memory.max(cfg.max_body_size.saturating_mul(2)),
            ),
            workers: workers.handle(),
            origins: Arc::new(cfg.allowed_cors_origins.clone()),
            in_flight: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            trusted: Arc::new(
                cfg.trusted_proxies
                    .iter()
                    .filter_map(|p| Net::parse(p).ok())
                    .collect(),
            ),
            routes,
        };
        let table = conns::ConnTable::new(
            usize::try_from(cfg.max_connections_per_ip).unwrap_or(usize::MAX),
            st.stats.clone(),
        );
        let tls = if !cfg.tls.cert.is_empty() && !cfg.tls.privkey.is_empty() {
            Some(load_tls(&cfg.tls.cert, &cfg.tls.privkey)?)
        } else {
            None
        };
        let mut addrs = vec![ListenAddr::parse(&cfg.listen)];
        if !cfg.listen_socket.is_empty() {
            addrs.push(ListenAddr::Unix(PathBuf::from(&cfg.listen_socket)));
        }
        let (stop, stop_rx) = watch::channel(false);
        let in_flight = st.in_flight.clone();
        let app = router(st);
        let mut tasks = Vec::new();
        let mut bound = Vec::new();
        for a in addrs {
            let l = match &a {
                ListenAddr::Tcp(s) => {
                    let l = TcpListener::bind(s.as_str()).await.map_err(|source| {
                        HttpError::Listen {
                            addr: s.clone(),
                            cause: source,
                        }
                    })?;
                    let local = l
                        .local_addr()
                        .map(|a| a.to_string())
                        .unwrap_or_else(|_| s.clone());
                    if let Ok(sa) = l.local_addr()
                        && !sa.ip().is_loopback()
                    {
                        tracing::warn!(listen = %local, "the HTTP API listens beyond loopback: non-public APIs are still refused to remote clients");
                    }
                    bound.push(local);
                    Listener::Tcp(l)
                }
                ListenAddr::Unix(p) => {
                    let _ = std::fs::remove_file(p);
                    let l = UnixListener::bind(p).map_err(|source| HttpError::Listen {
                        addr: p.display().to_string(),
                        cause: source,
                    })?;
                    bound.push(p.display().to_string());
                    Listener::Unix(l)
                }
            };
            tasks.push(tokio::spawn(serve(
                l,
                app.clone(),
                tls.clone(),
                stop_rx.clone(),
                table.clone(),
            )));
        }
        Ok(HttpApi {
            stop,
            tasks,
            workers,
            in_flight,
            bound,
        })
    }

    /// Stops accepting; requests in flight get a moment to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for t in std::mem::take(&mut self.tasks) {
            let _ = tokio::time::timeout(Duration::from_secs(3), t).await;
        }
        // Writes under way finish (all or nothing), within a bound.
        let t0 = Instant::now();
        while self.in_flight.load(std::sync::atomic::Ordering::Acquire) > 0
            && t0.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.workers.stop();
    }
}

/// The write workers' runtime, stopped without blocking when dropped (also from async code,
/// where dropping a runtime in place is not allowed).
struct Workers(Option<tokio::runtime::Runtime>);

impl Workers {
    fn handle(&self) -> tokio::runtime::Handle {
        match &self.0 {
            Some(rt) => rt.handle().clone(),
            None => tokio::runtime::Handle::current(),
        }
    }

    fn stop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn serve(
    l: Listener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
    table: Arc<conns::ConnTable>,
) {
    loop {
        let accepted = tokio::select! {
            a = accept(&l) => a,
            _ = stop.changed() => return,
        };
        let (io, peer) = match accepted {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "HTTP API accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Accepted first, then admitted or closed: a full table never stalls the accept loop.
        let Ok(place) = table.admit(peer.ip()) else {
            drop(io);
            continue;
        };
        let app = app.clone();
        let tls = tls.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _place = place;
            let svc = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut().insert(ConnectInfo(peer));
                    let app = app.clone();
                    async move {
                        use tower::ServiceExt;
                        app.oneshot(req.map(axum::body::Body::new)).await
                    }
                },
            );
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .keep_alive(true);
            match (io, tls) {
                (Conn::Tcp(s), Some(acc)) => {
                    let Ok(Ok(s)) = tokio::time::timeout(HEADER_TIMEOUT, acc.accept(s)).await
                    else {
                        return;
                    };
                    let conn = builder.serve_connection(TokioIo::new(s), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => { conn.as_mut().graceful_shutdown(); let _ = conn.await; }
                    }
                }
                (Conn::Tcp(s), None) => {
                    let conn = builder.serve_connection(TokioIo::new(s), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => { conn.as_mut().graceful_shutdown(); let _ = conn.await; }
                    }
                }
                (Conn::Unix(s), _) => {
                    let conn = builder.serve_connection(TokioIo::new(s), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => { conn.as_mut().graceful_shutdown(); let _ = conn.await; }
                    }
                }
            }
        });
    }
}

enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(l: &Listener) -> std::io::Result<(Conn, Peer)> {
    match l {
        Listener::Tcp(l) => {
            let (s, a) = l.accept().await?;
            let _ = s.set_nodelay(true);
            Ok((Conn::Tcp(s), Peer(Some(a))))
        }
        Listener::Unix(l) => {
            let (s, _) = l.accept().await?;
            Ok((Conn::Unix(s), Peer(None)))
        }
    }
}
