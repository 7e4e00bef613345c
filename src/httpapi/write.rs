//! Write endpoints: DataKit's `POST /v1/write/{category}` and the InfluxDB-compatible
//! `POST /write` (1.x) and `POST /api/v2/write` (2.x), so Telegraf and InfluxDB clients can
//! write to the agent unchanged.

use std::collections::HashMap;
use std::io::Read;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::io::FeedOptions;
use crate::point::lp::{DecodeOptions, Lines, PointRef, decode};
use crate::point::{
    Category, CheckCounts, CheckOptions, Checker, Point, PointView, Precision, Value,
};
use crate::stats::{DropReason, unix_nanos};

/// Categories the write API takes (the original's list).
pub const WRITE_CATEGORIES: &[Category] = &[
    Category::Metric,
    Category::Logging,
    Category::Object,
    Category::Network,
    Category::Tracing,
    Category::KeyEvent,
    Category::CustomObject,
    Category::Security,
    Category::Rum,
];

/// A boolean query argument: present with any value except `false`/`0`.
fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name)
        .is_some_and(|v| !matches!(v.as_str(), "false" | "0"))
}

/// Bytes gathered in blocks of a fixed size, joined once at the end: memory stays at twice the
/// body at most, with no trail of freed buffers from repeated growth.
struct Blocks {
    blocks: Vec<Vec<u8>>,
    len: usize,
}

impl Blocks {
    const BLOCK: usize = 1 << 20;

    fn new() -> Blocks {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }

    fn push(&mut self, mut data: &[u8]) {
        self.len += data.len();
        while !data.is_empty() {
            if self.blocks.last().is_none_or(|b| b.len() == b.capacity()) {
                let cap = if self.blocks.is_empty() {
                    data.len().clamp(4096, Self::BLOCK)
                } else {
                    Self::BLOCK
                };
                self.blocks.push(Vec::with_capacity(cap));
            }
            let Some(b) = self.blocks.last_mut() else {
                return;
            };
            let room = b.capacity() - b.len();
            if room == 0 {
                // The first block was sized for a small first frame: start a full one.
                self.blocks.push(Vec::with_capacity(Self::BLOCK));
                continue;
            }
            let n = room.min(data.len());
            b.extend_from_slice(&data[..n]);
            data = &data[n..];
        }
    }

    fn join(mut self) -> Vec<u8> {
        if self.blocks.len() == 1 {
            return self.blocks.pop().unwrap_or_default();
        }
        let mut out = Vec::with_capacity(self.len);
        for b in self.blocks.drain(..) {
            out.extend_from_slice(&b);
        }
        out
    }
}

/// Reads at most `limit` bytes of `body`; `None` when it is longer.
async fn collect_limited(
    body: Body,
    size_hint: Option<u64>,
    limit: usize,
) -> Result<Option<Vec<u8>>, axum::Error> {
    use http_body_util::BodyExt;
    let mut body = body;
    if let Some(n) = size_hint {
        // The length is known: one exact buffer.
        let mut out = Vec::with_capacity(n as usize);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                if out.len() + data.len() > limit {
                    return Ok(None);
                }
                out.extend_from_slice(&data);
            }
        }
        return Ok(Some(out));
    }
    let mut blocks = Blocks::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if blocks.len + data.len() > limit {
                return Ok(None);
            }
            blocks.push(&data);
        }
    }
    Ok(Some(blocks.join()))
}

/// Inflates `r` into at most `limit` bytes; `None` when the output would be longer.
fn inflate_limited(mut r: impl Read, limit: usize) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Blocks::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = r.read(&mut chunk)?;
        if n == 0 {
            return Ok(Some(out.join()));
        }
        if out.len + n > limit {
            return Ok(None);
        }
        out.push(&chunk[..n]);
    }
}

/// Reads the whole body, decompressed, refusing more than `limit` bytes either way; memory
/// stays within about `limit` per stage whatever the client sends.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    encoding_override: Option<&str>,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let raw = match tokio::time::timeout(timeout, collect_limited(body, declared, limit)).await {
        Err(_) => return Err(ApiError::timeout(timeout)),
        Ok(Err(e)) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.readBodyFailed",
                e.to_string(),
            ));
        }
        Ok(Ok(None)) => return Err(ApiError::too_large(limit)),
        Ok(Ok(Some(b))) => b,
    };
    let enc = encoding_override
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_default();
    let inflated = match enc.as_str() {
        "" | "identity" => return Ok(Bytes::from(raw)),
        "gzip" | "x-gzip" => inflate_limited(flate2::read::MultiGzDecoder::new(&raw[..]), limit),
        "deflate" => inflate_limited(flate2::read::ZlibDecoder::new(&raw[..]), limit),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.decodeBodyFailed",
                format!("unsupported body encoding `{other}` (use gzip or deflate)"),
            ));
        }
    };
    match inflated {
        Ok(Some(v)) => Ok(Bytes::from(v)),
        Ok(None) => Err(ApiError::too_large(limit)),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.decodeBodyFailed",
            format!("{enc}: {e}"),
        )),
    }
}

/// A JSON point: `{"measurement": .., "tags": {..}, "fields": {..}, "time": ns}`.
#[derive(serde::Deserialize)]
struct JsonPoint {
    measurement: String,
    #[serde(default)]
    tags: HashMap<String, String>,
    fields: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    time: Option<i64>,
}

fn json_points(body: &[u8], cat: Category, now: i64) -> Result<Vec<Point>, String> {
    let items: Vec<JsonPoint> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(items.len());
    for (i, jp) in items.into_iter().enumerate() {
        let mut p = Point::new(cat, jp.measurement);
        for (k, v) in jp.tags {
            p.set_tag(k, v);
        }
        for (k, v) in jp.fields {
            let v = match v {
                serde_json::Value::Bool(b) => Value::Bool(b),
                serde_json::Value::String(s) => Value::Str(s),
                serde_json::Value::Number(n) => {
                    if let Some(i) = n.as_i64() {
                        Value::Int(i)
                    } else if let Some(u) = n.as_u64() {
                        Value::Uint(u)
                    } else {
                        Value::Float(n.as_f64().unwrap_or(0.0))
                    }
                }
                other => {
                    return Err(format!(
                        "point {i}: field `{k}` has an unsupported value {other}"
                    ));
                }
            };
            p.set_field(k, v);
        }
        p.time = jp.time.filter(|t| *t != 0).unwrap_or(now);
        out.push(p);
    }
    Ok(out)
}

/// What a write request asked for.
struct WriteRequest<'a> {
    category: Category,
    input: String,
    /// `source`: points go through the script `<source>.p` (or the category's default).
    source: Option<String>,
    precision: Precision,
    strict: bool,
    loose: bool,
    dry: bool,
    echo: Option<&'a str>,
    global_tags: bool,
}

/// The outcome for the caller.
struct Accepted {
    /// Points accepted.
    count: usize,
    /// The accepted points, only when the request asked for an echo.
    echo: Vec<Point>,
    rejected: Vec<serde_json::Value>,
}

/// Points are fed in chunks of this size, so a large body never holds all its points at once.
const FEED_CHUNK: usize = 1000;

/// Checks and feeds decoded points in bounded chunks.
struct Sink<'s> {
    st: &'s AppState,
    req: &'s WriteRequest<'s>,
    checker: Checker,
    counts: CheckCounts,
    warns: Vec<crate::point::Warn>,
    chunk: Vec<Point>,
    echo: Vec<Point>,
    count: usize,
}

impl Sink<'_> {
    /// Checks one point; in strict mode the first warning is the error.
    fn check(&mut self, p: &mut Point) -> Result<(), ApiError> {
        self.warns.clear();
        self.checker.check_into(p, &mut self.warns);
        self.counts.record(&self.warns);
        if self.req.strict
            && let Some(w) = self.warns.first()
        {
            self.st
                .stats
                .category(self.req.category)
                .record_drop(DropReason::Invalid, 1);
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.pointGotWarning",
                w.to_string(),
            ));
        }
        Ok(())
    }

    async fn push(&mut self, p: Point) -> Result<(), ApiError> {
        self.count += 1;
        if self.req.echo.is_some() {
            self.echo.push(p.clone());
        }
        if !self.req.dry {
            if self.chunk.capacity() == 0 {
                // Made on first use: the encoded path never needs it.
                self.chunk.reserve_exact(FEED_CHUNK);
            }
            self.chunk.push(p);
            if self.chunk.len() >= FEED_CHUNK {
                self.flush().await?;
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ApiError> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let mut pts = std::mem::take(&mut self.chunk);
        let closed = |_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "datakit.shuttingDown",
                "the agent is stopping",
            )
        };
        let pipelines = self.st.pipelines.current();
        let source = self.req.source.as_deref().unwrap_or("");
        if let Some(prog) = pipelines.script(self.req.category, source, None) {
            let out = pipelines.run(&prog, pts, &crate::pipeline::RunOptions::default());
            pts = out.points;
            for (cat, extra) in group_by_category(out.extra) {
                self.st
                    .feeder
                    .feed(PIPELINE_CREATED, cat, extra)
                    .await
                    .map_err(closed)?;
            }
        }
        self.st
            .feeder
            .feed_with(
                &self.req.input,
                self.req.category,
                pts,
                FeedOptions {
                    global_tags: self.req.global_tags,
                },
            )
            .await
            .map_err(closed)
    }
}

/// The input name of points made by `create_point()` (the original's).
const PIPELINE_CREATED: &str = "pipeline/create_point";

/// Splits points by category, keeping their order within each.
fn group_by_category(points: Vec<Point>) -> Vec<(Category, Vec<Point>)> {
    let mut out: Vec<(Category, Vec<Point>)> = Vec::new();
    for p in points {
        match out.iter_mut().find(|(c, _)| *c == p.category) {
            Some((_, v)) => v.push(p),
            None => out.push((p.category, vec![p])),
        }
    }
    out
}

/// Bodies with fewer lines than this are decoded in one pass (their points fit in a few MB).
const SINGLE_PASS_LINES: usize = 4 * FEED_CHUNK;

/// The answer to a body with a bad line in strict mode: every line is counted as dropped.
fn refuse_body(st: &AppState, cat: Category, body: &[u8], e: &crate::point::LineError) -> ApiError {
    let total = memchr::memchr_iter(b'\n', body).count() + 1;
    st.stats
        .category(cat)
        .record_drop(DropReason::Invalid, total as u64);
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "datakit.invalidLinePoint",
        format!(
            "{} (line {}, column {}); body ({} bytes) refused: add `loose` to keep the good lines",
            e.original_message(body),
            e.line,
            e.column,
            body.len()
        ),
    )
}

/// Loose mode: counts the bad lines and lists the first 100 for the answer.
fn note_rejected(
    st: &AppState,
    cat: Category,
    body: &[u8],
    errors: &[crate::point::LineError],
    rejected: &mut Vec<serde_json::Value>,
) {
    if errors.is_empty() {
        return;
    }
    st.stats
        .category(cat)
        .record_drop(DropReason::Invalid, errors.len() as u64);
    for e in errors.iter().take(100) {
        rejected.push(serde_json::json!({
            "line": e.line,
            "column": e.column,
            "message": e.original_message(body),
        }));
    }
}

fn no_points() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "datakit.noPoints",
        "no valid points in the body",
    )
}

fn shutting_down() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "datakit.shuttingDown",
        "the agent is stopping",
    )
}

/// Decodes, checks and feeds one body.
async fn ingest(
    st: &AppState,
    req: &WriteRequest<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.emptyBody",
            "the body is empty",
        ));
    }
    let now = unix_nanos();
    let cat = req.category;
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut sink = Sink {
        st,
        req,
        checker: Checker::new(CheckOptions::for_write_api(cat)),
        counts: CheckCounts::default(),
        warns: Vec::new(),
        chunk: Vec::new(),
        echo: Vec::new(),
        count: 0,
    };
    let mut rejected = Vec::new();
    let decoded =
        if ctype.starts_with("application/json") {
            Some(json_points(body, cat, now).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "datakit.invalidJsonPoint", e)
            })?)
        } else if ctype.starts_with("application/protobuf")
            || ctype.starts_with("application/x-protobuf")
        {
            let mut pts = crate::point::pb::decode_points(body, cat).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "datakit.invalidProtobufPoint",
                    e.to_string(),
                )
            })?;
            for p in pts.iter_mut().filter(|p| p.time == 0) {
                p.time = now;
            }
            Some(pts)
        } else {
            None
        };
    match decoded {
        Some(mut points) => {
            if points.is_empty() {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "datakit.noPoints",
                    "no points in the body",
                ));
            }
            for p in points.iter_mut() {
                sink.check(p)?;
            }
            for p in points {
                sink.push(p).await?;
            }
        }
        // Line protocol with no script to run and nothing to echo goes straight from the body
        // into the outputs' encoding (when they agree on one).
        None if !req.dry
            && req.echo.is_none()
            && st
                .pipelines
                .current()
                .script(cat, req.source.as_deref().unwrap_or(""), None)
                .is_none() =>
        {
            ingest_encoded(&mut sink, body, now, &mut rejected).await?
        }
        None => ingest_owned(&mut sink, body, now, &mut rejected).await?,
    }
    sink.flush().await?;
    st.stats.record_check(&sink.counts);
    Ok(Accepted {
        count: sink.count,
        echo: sink.echo,
        rejected,
    })
}

/// A large body's first pass: finds bad lines (refusing the body for one unless `loose`) and,
/// with `strict`, warnings, before anything is fed. Returns the number of good lines.
fn first_pass(
    sink: &mut Sink<'_>,
    body: &[u8],
    now: i64,
    rejected: &mut Vec<serde_json::Value>,
) -> Result<usize, ApiError> {
    let (st, req) = (sink.st, sink.req);
    let cat = req.category;
    let mut lines = Lines::new(body, req.precision, now);
    let mut pt = PointRef::default();
    let mut errors = Vec::new();
    let mut good = 0usize;
    while let Some(r) = lines.next_into(&mut pt) {
        match r {
            Ok(()) => {
                good += 1;
                if req.strict && !sink.checker.is_clean_distinct(&pt) {
                    let mut p = pt.to_owned_point(cat);
                    sink.check(&mut p)?;
                }
            }
            Err(e) if !req.loose => return Err(refuse_body(st, cat, body, &e)),
            Err(e) => errors.push(e),
        }
    }
    note_rejected(st, cat, body, &errors, rejected);
    Ok(good)
}

/// Line protocol into owned points: for scripts and echoes, and outputs that need several
/// encodings. A small body is decoded whole, then checked and fed; a large one is read twice
/// so that it never sits in memory as points (the first pass finds bad lines, the second
/// builds, checks and feeds the points in chunks).
async fn ingest_owned(
    sink: &mut Sink<'_>,
    body: &[u8],
    now: i64,
    rejected: &mut Vec<serde_json::Value>,
) -> Result<(), ApiError> {
    let (st, req) = (sink.st, sink.req);
    let cat = req.category;
    if memchr::memchr_iter(b'\n', body).count() < SINGLE_PASS_LINES {
        let opts = DecodeOptions {
            precision: req.precision,
            default_time: now,
            category: cat,
            strict: !req.loose,
        };
        let d = match decode(body, &opts) {
            Ok(d) => d,
            Err(e) => return Err(refuse_body(st, cat, body, &e)),
        };
        note_rejected(st, cat, body, &d.errors, rejected);
        if d.points.is_empty() {
            return Err(no_points());
        }
        let mut points = d.points;
        for p in points.iter_mut() {
            sink.check(p)?;
        }
        for p in points {
            sink.push(p).await?;
        }
        return Ok(());
    }
    if first_pass(sink, body, now, rejected)? == 0 {
        return Err(no_points());
    }
    let mut pt = PointRef::default();
    let mut lines = Lines::new(body, req.precision, now);
    while let Some(r) = lines.next_into(&mut pt) {
        if r.is_ok() {
            let mut p = pt.take_point(cat);
            sink.check(&mut p)?;
            sink.push(p).await?;
        }
    }
    Ok(())
}

/// Line protocol straight into the outputs' encoding: a point becomes owned only when the
/// checker must fix it. A small body is encoded whole before anything is fed (a bad line in
/// strict mode refuses it all); a large one is first read to find bad lines, then encoded and
/// fed in chunks.
async fn ingest_encoded(
    sink: &mut Sink<'_>,
    body: &[u8],
    now: i64,
    rejected: &mut Vec<serde_json::Value>,
) -> Result<(), ApiError> {
    let (st, req) = (sink.st, sink.req);
    let cat = req.category;
    let opts = FeedOptions {
        global_tags: req.global_tags,
    };
    let lines_in_body = memchr::memchr_iter(b'\n', body).count() + 1;
    let small = lines_in_body <= SINGLE_PASS_LINES;
    // Room for one feed of encoded points: protobuf takes up to about 1.5 times the bytes of
    // the lines (numbers in full width, keys framed).
    let room = {
        let feeds = if small {
            1
        } else {
            lines_in_body.div_ceil(FEED_CHUNK)
        };
        body.len() / feeds * 3 / 2 + 64
    };
    let Some(mut enc) = st.feeder.encoder(cat, opts, room) else {
        return ingest_owned(sink, body, now, rejected).await;
    };
    let mut pt = PointRef::default();
    if !small {
        let good = first_pass(sink, body, now, rejected)?;
        if good == 0 {
            return Err(no_points());
        }
    }
    let mut errors = Vec::new();
    let mut lines = Lines::new(body, req.precision, now);
    while let Some(r) = lines.next_into(&mut pt) {
        match r {
            Ok(()) => {
                if sink.checker.is_clean_distinct(&pt) {
                    sink.counts.points += 1;
                    enc.push(&pt);
                } else {
                    let mut p = pt.to_owned_point(cat);
                    sink.check(&mut p)?;
                    enc.push_point(p);
                }
                sink.count += 1;
                if !small && enc.len() >= FEED_CHUNK {
                    st.feeder
                        .feed_encoded(&req.input, enc.take(room))
                        .await
                        .map_err(|_| shutting_down())?;
                }
            }
            // A large body's bad lines were found by the first pass.
            Err(_) if !small => {}
            Err(e) if !req.loose => return Err(refuse_body(st, cat, body, &e)),
            Err(e) => errors.push(e),
        }
    }
    if small {
        note_rejected(st, cat, body, &errors, rejected);
        if sink.count == 0 {
            return Err(no_points());
        }
    }
    st.feeder
        .feed_encoded(&req.input, enc)
        .await
        .map_err(|_| shutting_down())
}

fn echo(points: &[Point], how: &str) -> Response {
    match how {
        "json" => {
            let items: Vec<serde_json::Value> = points
                .iter()
                .map(|p| {
                    let fields: serde_json::Map<String, serde_json::Value> =
                        p.fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                    let tags: serde_json::Map<String, serde_json::Value> =
                        p.tags.iter().map(|(k, v)| (k.clone(), v.clone().into())).collect();
                    serde_json::json!({"measurement": p.name, "tags": tags, "fields": fields, "time": p.time})
                })
                .collect();
            (StatusCode::OK, axum::Json(items)).into_response()
        }
        _ => {
            let mut enc = crate::point::Encoder::new();
            for p in points {
                let _ = enc.encode(p);
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                enc.take(),
            )
                .into_response()
        }
    }
}

/// `POST /v1/write/{category}`.
pub async fn v1_write(
    State(st): State<AppState>,
    Path(category): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let cat = Category::parse(&category)
        .filter(|c| WRITE_CATEGORIES.contains(c) && category == c.as_str())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.invalidCategory",
                format!("invalid category `{category}`"),
            )
        })?;
    let precision = match q.get("precision") {
        Some(p) => Precision::parse(p).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.invalidPrecision",
                format!("invalid precision `{p}` (use n, u, ms, s, m or h)"),
            )
        })?,
        None => Precision::Auto,
    };
    let body = read_body(
        body,
        &headers,
        q.get("encoding").map(String::as_str),
        st.max_body,
        st.timeout,
    )
    .await?;
    let input = q
        .get("input")
        .cloned()
        .unwrap_or_else(|| cat.as_str().to_string());
    let echo_kind = q
        .get("echo")
        .map(String::as_str)
        .or_else(|| flag(&q, "echo_line_proto").then_some("lp"))
        .or_else(|| flag(&q, "echo_json").then_some("json"));
    let req = WriteRequest {
        category: cat,
        input: format!("v1-write.{input}"),
        source: q.get("source").filter(|s| !s.is_empty()).cloned(),
        precision,
        strict: flag(&q, "strict"),
        loose: flag(&q, "loose"),
        dry: flag(&q, "dry"),
        echo: echo_kind,
        global_tags: !(flag(&q, "ignore_global_host_tags") || flag(&q, "ignore_global_tags")),
    };
    let acc = ingest(&st, &req, &headers, &body).await?;
    if let Some(how) = req.echo {
        return Ok(echo(&acc.echo, how));
    }
    if !acc.rejected.is_empty() {
        return Ok((
            StatusCode::OK,
            axum::Json(serde_json::json!({
                "content": {"accepted": acc.count, "rejected": acc.rejected}
            })),
        )
            .into_response());
    }
    Ok(StatusCode::OK.into_response())
}

/// InfluxDB's error body.
fn influx_error(status: StatusCode, msg: String, v2: bool) -> Response {
    let body = if v2 {
        serde_json::json!({"code": "invalid", "message": msg})
    } else {
        serde_json::json!({"error": msg})
    };
    (status, axum::Json(body)).into_response()
}

async fn influx_write(
    st: AppState,
    q: HashMap<String, String>,
    headers: HeaderMap,
    body: Body,
    v2: bool,
) -> Response {
    let precision = match q.get("precision").map(String::as_str) {
        None | Some("") => Precision::Nanosecond,
        Some(p) => match Precision::parse(p) {
            Some(p) => p,
            None => {
                return influx_error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid precision `{p}`"),
                    v2,
                );
            }
        },
    };
    let body = match read_body(body, &headers, None, st.max_body, st.timeout).await {
        Ok(b) => b,
        Err(e) => return influx_error(e.status, e.message, v2),
    };
    let req = WriteRequest {
        category: Category::Metric,
        input: if v2 {
            "influxdb-v2".into()
        } else {
            "influxdb-v1".into()
        },
        source: None,
        precision,
        strict: false,
        loose: false,
        dry: false,
        echo: None,
        global_tags: true,
    };
    // InfluxDB takes line protocol whatever the content type says.
    let mut h = headers.clone();
    h.remove(header::CONTENT_TYPE);
    match ingest(&st, &req, &h, &body).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => influx_error(e.status, e.message, v2),
    }
}

/// `POST /write` (InfluxDB 1.x): `db`, `rp`, `u`, `p` are accepted and ignored.
pub async fn influx_v1_write(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    influx_write(st, q, headers, body, false).await
}

/// `POST /api/v2/write` (InfluxDB 2.x): `org`, `bucket` and the token are accepted and ignored.
pub async fn influx_v2_write(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    influx_write(st, q, headers, body, true).await
}

/// `GET|POST /query` (InfluxDB 1.x): clients create their database on start; answer like
/// InfluxDB does for `CREATE DATABASE` and refuse everything else.
pub async fn influx_query(Query(q): Query<HashMap<String, String>>) -> Response {
    let stmt = q
        .get("q")
        .map(|s| s.trim().to_ascii_uppercase())
        .unwrap_or_default();
    if stmt.starts_with("CREATE DATABASE") {
        return (
            StatusCode::OK,
            axum::Json(serde_json::json!({"results": [{"statement_id": 0}]})),
        )
            .into_response();
    }
    influx_error(
        StatusCode::NOT_IMPLEMENTED,
        "DataKit accepts writes only; queries go to the store it forwards to".into(),
        false,
    )
}
