//! A fake DataWay for end-to-end tests. It checks what the real one checks — the write path
//! and category, the workspace token, the content type, gzip, that the body decodes and that
//! `X-Points` matches it — and records every point it accepts, with when and from whom.
//! Its answers can be scripted (status codes) to test outages.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};

/// DataWay's point.proto, as far as the agent uses it.
pub mod pb {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PbPoints {
        #[prost(message, repeated, tag = "1")]
        pub arr: Vec<PbPoint>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PbPoint {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, repeated, tag = "2")]
        pub fields: Vec<Field>,
        #[prost(int64, tag = "3")]
        pub time: i64,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Field {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(bool, tag = "8")]
        pub is_tag: bool,
        #[prost(oneof = "Val", tags = "2, 3, 4, 5, 6, 11")]
        pub val: Option<Val>,
    }
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Val {
        #[prost(int64, tag = "2")]
        I(i64),
        #[prost(uint64, tag = "3")]
        U(u64),
        #[prost(double, tag = "4")]
        F(f64),
        #[prost(bool, tag = "5")]
        B(bool),
        #[prost(bytes, tag = "6")]
        D(Vec<u8>),
        #[prost(string, tag = "11")]
        S(String),
    }
}

/// A decoded field value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    I(i64),
    U(u64),
    F(f64),
    B(bool),
    S(String),
    D(Vec<u8>),
}

impl Val {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Val::I(v) => Some(*v),
            Val::U(v) => i64::try_from(*v).ok(),
            Val::F(v) => Some(*v as i64),
            _ => None,
        }
    }
}

/// A point as DataWay received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub category: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub fields: BTreeMap<String, Val>,
    pub time: i64,
    /// When it arrived (for "who sent what when" checks).
    #[allow(dead_code)]
    pub at: Instant,
    /// When it arrived, as Unix nanoseconds (to compare with point times).
    pub at_ns: i64,
    pub user_agent: String,
    pub replay: bool,
}

const CATEGORIES: &[&str] = &[
    "metric",
    "network",
    "keyevent",
    "object",
    "custom_object",
    "logging",
    "tracing",
    "rum",
    "security",
    "profiling",
    "dialtesting",
    "object_change",
];

/// One request to the election endpoints, as the fake answered it.
#[derive(Debug, Clone)]
pub struct ElectionEvent {
    #[allow(dead_code)]
    pub at: Instant,
    /// `campaign` (`/v1/election`) or `heartbeat`.
    pub kind: &'static str,
    pub namespace: String,
    pub id: String,
    /// `success`, `defeat`, or the HTTP status of a refusal.
    pub status: String,
}

/// DataWay's election: one leader per workspace (token) and namespace, which loses the
/// leadership once it has not been heard from for `timeout`.
struct ElectionState {
    /// (token, namespace) → (leader id, last heard).
    leaders: BTreeMap<(String, String), (String, Instant)>,
    timeout: Duration,
    /// The `interval` answered, in seconds.
    interval: f64,
    events: Vec<ElectionEvent>,
}

/// What `GET /v1/datakit/pull` answers.
struct PullState {
    /// The `filters` object answered (`None`: `null`).
    filters: Option<serde_json::Value>,
    /// `pull_interval`, in nanoseconds (0: none asked).
    interval_ns: i64,
    /// Answer this status instead (200: answer).
    status: u16,
    /// The query of every pull, in order.
    queries: Vec<String>,
    /// The console's Pipeline scripts: (update_time, [{name, base64text, category,
    /// asDefault}]) and (relation_update_time, [{category, source, name}]).
    pipelines: (i64, Vec<serde_json::Value>),
    relation: (i64, Vec<serde_json::Value>),
}

struct Inner {
    election: Mutex<ElectionState>,
    pull: Mutex<PullState>,
    token: String,
    status: AtomicU16,
    /// `Retry-After` (seconds) sent with scripted refusals; 0: none.
    retry_after: AtomicU64,
    points: Mutex<Vec<Received>>,
    violations: Mutex<Vec<String>>,
    requests: Mutex<Vec<(String, u16)>>,
    /// The `X-Pkg-Id` of every write, in arrival order.
    pkg_ids: Mutex<Vec<String>>,
    connections: std::sync::atomic::AtomicUsize,
}

/// The fake server; stops when dropped.
pub struct FakeDataway {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// A decoded point: name, tags, fields, time.
type Decoded = (String, BTreeMap<String, String>, BTreeMap<String, Val>, i64);

pub fn decode_lp(body: &str) -> Result<Vec<Decoded>, String> {
    // Enough of line protocol for what the agent emits (no escapes inside keys in tests).
    let mut out = Vec::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.splitn(3, ' ');
        let head = parts.next().ok_or("empty line")?;
        let fields = parts.next().ok_or_else(|| format!("no fields: {line}"))?;
        let time = parts
            .next()
            .map(|t| t.parse::<i64>().map_err(|e| e.to_string()))
            .transpose()?
            .unwrap_or(0);
        let mut hs = head.split(',');
        let name = hs.next().ok_or("no measurement")?.to_string();
        let tags = hs
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .ok_or(format!("bad tag {kv}"))
            })
            .collect::<Result<_, _>>()?;
        let mut fm = BTreeMap::new();
        for kv in fields.split(',') {
            let (k, v) = kv.split_once('=').ok_or(format!("bad field {kv}"))?;
            let val = if let Some(i) = v.strip_suffix('i') {
                Val::I(i.parse().map_err(|_| format!("bad int {v}"))?)
            } else if let Some(u) = v.strip_suffix('u') {
                Val::U(u.parse().map_err(|_| format!("bad uint {v}"))?)
            } else if v == "true" || v == "false" {
                Val::B(v == "true")
            } else if v.starts_with('"') {
                Val::S(v.trim_matches('"').to_string())
            } else {
                Val::F(v.parse().map_err(|_| format!("bad float {v}"))?)
            };
            fm.insert(k.to_string(), val);
        }
        out.push((name, tags, fm, time));
    }
    Ok(out)
}

/// A write, answered with the scripted status and, for a scripted refusal, `Retry-After`.
async fn write(
    State(inner): State<Arc<Inner>>,
    path: Path<String>,
    query: RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let scripted = inner.status.load(Relaxed) != 200;
    let after = inner.retry_after.load(Relaxed);
    let (status, text) = write_answer(State(inner), path, query, headers, body).await;
    let mut resp = (status, text).into_response();
    if scripted && after > 0 {
        resp.headers_mut().insert("retry-after", after.into());
    }
    resp
}

async fn write_answer(
    State(inner): State<Arc<Inner>>,
    Path(category): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let bad = |inner: &Inner, what: String| {
        inner.violations.lock().unwrap().push(what.clone());
        (
            StatusCode::BAD_REQUEST,
            format!("{{\"error_code\":\"dataway.badRequest\",\"message\":{what:?}}}"),
        )
    };
    let status = inner.status.load(Relaxed);
    inner
        .requests
        .lock()
        .unwrap()
        .push((category.clone(), status));
    inner.pkg_ids.lock().unwrap().push(
        headers
            .get("x-pkg-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string(),
    );
    if !CATEGORIES.contains(&category.as_str()) {
        return bad(&inner, format!("unknown category {category}"));
    }
    let token = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .unwrap_or("");
    if token != inner.token {
        inner
            .violations
            .lock()
            .unwrap()
            .push(format!("bad token {token:?}"));
        return (
            StatusCode::UNAUTHORIZED,
            "{\"error_code\":\"kodo.tokenNotFound\"}".into(),
        );
    }
    if status != 200 {
        let after = inner.retry_after.load(Relaxed);
        if after > 0 {
            return (
                StatusCode::from_u16(status).unwrap(),
                format!("{{\"error_code\":\"scripted\",\"retry_after\":{after}}}"),
            );
        }
        return (
            StatusCode::from_u16(status).unwrap(),
            "{\"error_code\":\"scripted\"}".into(),
        );
    }
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let raw = if h("content-encoding") == "gzip" {
        let mut d = flate2::read::GzDecoder::new(&body[..]);
        let mut v = Vec::new();
        if let Err(e) = d.read_to_end(&mut v) {
            return bad(&inner, format!("bad gzip: {e}"));
        }
        v
    } else {
        body.to_vec()
    };
    let ctype = h("content-type");
    let decoded = if ctype.starts_with("application/protobuf") {
        use prost::Message;
        match pb::PbPoints::decode(&raw[..]) {
            Ok(p) => p
                .arr
                .into_iter()
                .map(|p| {
                    let mut tags = BTreeMap::new();
                    let mut fields = BTreeMap::new();
                    for f in p.fields {
                        let v = match f.val {
                            Some(pb::Val::I(v)) => Val::I(v),
                            Some(pb::Val::U(v)) => Val::U(v),
                            Some(pb::Val::F(v)) => Val::F(v),
                            Some(pb::Val::B(v)) => Val::B(v),
                            Some(pb::Val::S(v)) => Val::S(v),
                            Some(pb::Val::D(v)) => Val::D(v),
                            None => continue,
                        };
                        if f.is_tag {
                            if let Val::S(s) = v {
                                tags.insert(f.key, s);
                            }
                        } else {
                            fields.insert(f.key, v);
                        }
                    }
                    (p.name, tags, fields, p.time)
                })
                .collect::<Vec<_>>(),
            Err(e) => return bad(&inner, format!("bad protobuf: {e}")),
        }
    } else if ctype.starts_with("application/line-protocol") {
        match decode_lp(&String::from_utf8_lossy(&raw)) {
            Ok(v) => v,
            Err(e) => return bad(&inner, format!("bad line protocol: {e}")),
        }
    } else {
        return bad(&inner, format!("unsupported content type {ctype:?}"));
    };
    if h("x-points") != decoded.len().to_string() {
        inner.violations.lock().unwrap().push(format!(
            "X-Points {} but {} points",
            h("x-points"),
            decoded.len()
        ));
    }
    let at = Instant::now();
    let at_ns = datakit::clock::now_ns();
    let ua = h("user-agent");
    let replay = h("x-fail-cache-retry") == "1";
    let mut pts = inner.points.lock().unwrap();
    for (name, tags, fields, time) in decoded {
        pts.push(Received {
            category: category.clone(),
            name,
            tags,
            fields,
            time,
            at,
            at_ns,
            user_agent: ua.clone(),
            replay,
        });
    }
    (StatusCode::OK, "{}".into())
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

async fn election(
    inner: &Inner,
    kind: &'static str,
    query: Option<String>,
) -> (StatusCode, String) {
    let q = query.unwrap_or_default();
    let token = query_param(&q, "token").unwrap_or_default();
    let namespace = query_param(&q, "namespace").unwrap_or_default();
    let id = query_param(&q, "id").unwrap_or_default();
    let now = Instant::now();
    let mut e = inner.election.lock().unwrap();
    let record = |status: &str| ElectionEvent {
        at: now,
        kind,
        namespace: namespace.clone(),
        id: id.clone(),
        status: status.to_string(),
    };
    if token != inner.token {
        let ev = record("401");
        e.events.push(ev);
        return (
            StatusCode::UNAUTHORIZED,
            "{\"error_code\":\"kodo.tokenNotFound\"}".into(),
        );
    }
    if id.is_empty() {
        let ev = record("400");
        e.events.push(ev);
        return (
            StatusCode::BAD_REQUEST,
            "{\"error_code\":\"dataway.electionIdMissing\"}".into(),
        );
    }
    let key = (token, namespace.clone());
    let timeout = e.timeout;
    // An expired leadership is gone.
    if e.leaders
        .get(&key)
        .is_some_and(|(_, last)| now.duration_since(*last) >= timeout)
    {
        e.leaders.remove(&key);
    }
    let won = match (kind, e.leaders.get(&key)) {
        (_, Some((leader, _))) if *leader == id => true,
        ("campaign", None) => true,
        _ => false,
    };
    if won {
        e.leaders.insert(key.clone(), (id.clone(), now));
    }
    let incumbent = e
        .leaders
        .get(&key)
        .map(|(l, _)| l.clone())
        .unwrap_or_default();
    let status = if won { "success" } else { "defeat" };
    let ev = record(status);
    e.events.push(ev);
    let body = serde_json::json!({"content": {
        "status": status,
        "namespace": namespace,
        "id": id,
        "incumbency_id": incumbent,
        "error_msg": "",
        "interval": e.interval,
    }});
    (StatusCode::OK, body.to_string())
}

/// DataWay's `GET /v1/datakit/pull?token=..&<what>=true`: the workspace's filters (the
/// original's answer: `filters` by category, `pull_interval` in ns, and the other keys null).
async fn pull(State(inner): State<Arc<Inner>>, RawQuery(query): RawQuery) -> (StatusCode, String) {
    let q = query.unwrap_or_default();
    let mut p = inner.pull.lock().unwrap();
    p.queries.push(q.clone());
    if query_param(&q, "token").unwrap_or_default() != inner.token {
        return (
            StatusCode::UNAUTHORIZED,
            "{\"error_code\":\"kodo.tokenNotFound\"}".into(),
        );
    }
    if p.status != 200 {
        let status = StatusCode::from_u16(p.status).unwrap();
        return (status, "{\"error_code\":\"dataway.unavailable\"}".into());
    }
    if query_param(&q, "remote_pipelines").as_deref() == Some("true") {
        // As DataWay answers: the scripts only when the agent's `ts` is not theirs, the
        // relation only when its `relation_ts` is not the relation's (else -1).
        let num = |k: &str| query_param(&q, k).and_then(|v| v.parse::<i64>().ok());
        let (ts, rts) = (num("ts"), num("relation_ts"));
        let (Some(ts), Some(rts)) = (ts, rts) else {
            return (
                StatusCode::BAD_REQUEST,
                "{\"error_code\":\"kodo.invalidParam\"}".into(),
            );
        };
        let (ut, pls) = &p.pipelines;
        let (rut, rel) = &p.relation;
        let body = serde_json::json!({"remote_pipelines": {
            "update_time": ut,
            "pipelines": if ts == *ut { serde_json::Value::Null } else { serde_json::json!(pls) },
            "relation_update_time": if rts == *rut { -1 } else { *rut },
            "relation": if rts == *rut { serde_json::Value::Null } else { serde_json::json!(rel) },
        }});
        return (StatusCode::OK, body.to_string());
    }
    if query_param(&q, "filters").as_deref() != Some("true") {
        return (StatusCode::OK, "{}".into());
    }
    let body = serde_json::json!({
        "dataways": null,
        "filters": p.filters,
        "pull_interval": p.interval_ns,
        "remote_pipelines": null,
    });
    (StatusCode::OK, body.to_string())
}

async fn election_campaign(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, String) {
    election(&inner, "campaign", query).await
}

async fn election_heartbeat(
    State(inner): State<Arc<Inner>>,
    RawQuery(query): RawQuery,
) -> (StatusCode, String) {
    election(&inner, "heartbeat", query).await
}

impl FakeDataway {
    /// Starts on a free loopback port with workspace token `token`.
    pub fn start(token: &str) -> FakeDataway {
        let inner = Arc::new(Inner {
            election: Mutex::new(ElectionState {
                leaders: BTreeMap::new(),
                timeout: Duration::from_secs(10),
                interval: 3.0,
                events: Vec::new(),
            }),
            pull: Mutex::new(PullState {
                filters: None,
                interval_ns: 0,
                status: 200,
                queries: Vec::new(),
                pipelines: (0, Vec::new()),
                relation: (0, Vec::new()),
            }),
            token: token.to_string(),
            status: AtomicU16::new(200),
            retry_after: AtomicU64::new(0),
            points: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            pkg_ids: Mutex::new(Vec::new()),
            connections: std::sync::atomic::AtomicUsize::new(0),
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let state = inner.clone();
        let conns = inner.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = Router::new()
                    .route("/v1/write/{category}", post(write))
                    .route("/v1/election", post(election_campaign))
                    .route("/v1/election/heartbeat", post(election_heartbeat))
                    .route("/v1/datakit/pull", get(pull))
                    .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
                    .with_state(state);
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(l.local_addr().unwrap()).unwrap();
                let l = axum::serve::ListenerExt::tap_io(l, move |_| {
                    conns.connections.fetch_add(1, Relaxed);
                });
                axum::serve(l, app)
                    .with_graceful_shutdown(async {
                        let _ = stop_rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("fake DataWay started");
        FakeDataway {
            addr,
            inner,
            _stop: stop_tx,
        }
    }

    /// The URL to put in `[dataway] urls`.
    pub fn url(&self) -> String {
        format!("http://{}?token={}", self.addr, self.inner.token)
    }

    /// Election settings: leadership expires `timeout` after the leader was last heard from;
    /// answers carry `interval` (seconds).
    pub fn set_election(&self, timeout: Duration, interval: f64) {
        let mut e = self.inner.election.lock().unwrap();
        e.timeout = timeout;
        e.interval = interval;
    }

    /// The filters pulls get from now on (`{"logging": ["{ ... }"], ...}`; `None`: `null`),
    /// asking agents to pull again every `interval`.
    pub fn set_filters(&self, filters: Option<serde_json::Value>, interval: Duration) {
        let mut p = self.inner.pull.lock().unwrap();
        p.filters = filters;
        p.interval_ns = interval.as_nanos() as i64;
    }

    /// The console's Pipeline scripts, as of `update_time`: (category, name, text, asDefault).
    pub fn set_pipelines(&self, update_time: i64, scripts: &[(&str, &str, &str, bool)]) {
        use base64::Engine as _;
        let list = scripts
            .iter()
            .map(|(cat, name, text, def)| {
                serde_json::json!({
                    "name": name,
                    "base64text": base64::engine::general_purpose::STANDARD.encode(text),
                    "category": cat,
                    "asDefault": def,
                })
            })
            .collect();
        self.inner.pull.lock().unwrap().pipelines = (update_time, list);
    }

    /// The console's relation, as of `update_time`: (category, source, script).
    pub fn set_relation(&self, update_time: i64, relation: &[(&str, &str, &str)]) {
        let list = relation
            .iter()
            .map(|(cat, source, name)| serde_json::json!({"category": cat, "source": source, "name": name}))
            .collect();
        self.inner.pull.lock().unwrap().relation = (update_time, list);
    }

    /// Answer pulls with `status` from now on (200: answer).
    pub fn set_pull_status(&self, status: u16) {
        self.inner.pull.lock().unwrap().status = status;
    }

    /// The query of every pull so far.
    pub fn pulls(&self) -> Vec<String> {
        self.inner.pull.lock().unwrap().queries.clone()
    }

    /// Every request to the election endpoints, in order.
    pub fn election_events(&self) -> Vec<ElectionEvent> {
        self.inner.election.lock().unwrap().events.clone()
    }

    /// With refusals, send `Retry-After: secs` (0: no such header).
    pub fn set_retry_after(&self, secs: u64) {
        self.inner.retry_after.store(secs, Relaxed);
    }

    /// Answer writes with `status` from now on (200 = accept).
    pub fn set_status(&self, status: u16) {
        self.inner.status.store(status, Relaxed);
    }

    pub fn points(&self) -> Vec<Received> {
        self.inner.points.lock().unwrap().clone()
    }

    pub fn points_named(&self, name: &str) -> Vec<Received> {
        self.points()
            .into_iter()
            .filter(|p| p.name == name)
            .collect()
    }

    /// Protocol violations seen (a correct agent causes none).
    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }

    /// (category, status answered) of every write request.
    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.inner.connections.load(Relaxed)
    }

    pub fn requests(&self) -> Vec<(String, u16)> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The `X-Pkg-Id` header of every write, in arrival order.
    pub fn pkg_ids(&self) -> Vec<String> {
        self.inner.pkg_ids.lock().unwrap().clone()
    }

    /// Waits until `cond` holds on the received points, or panics after `timeout`.
    pub fn wait_for(&self, timeout: Duration, what: &str, cond: impl Fn(&[Received]) -> bool) {
        let t0 = Instant::now();
        loop {
            let snapshot = self.points();
            if cond(&snapshot) {
                return;
            }
            if t0.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; violations: {:?}",
                    self.violations()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
