//! `POST /v1/write/{category}`: line protocol, JSON or protobuf points from clients, handed to
//! the ingest stage ([`crate::ingest::write`] checks, runs scripts and feeds them); the answer,
//! and the echo of accepted points when asked for.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::body::read_body;
use super::{ApiError, AppState};
use crate::ingest::Origin;
use crate::ingest::write::{Accepted, WriteBody, WriteError, WriteRequest};
use crate::point::{Category, Point, Precision};

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

/// When a client told the journal is full should come back, in seconds.
const JOURNAL_FULL_RETRY_SECS: u64 = 1;

/// A boolean query argument: present with any value except `false`/`0`.
pub(super) fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.get(name)
        .is_some_and(|v| !matches!(v.as_str(), "false" | "0"))
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        let (status, code) = match &e {
            WriteError::EmptyBody => (StatusCode::BAD_REQUEST, "datakit.emptyBody"),
            WriteError::BadLine { .. } => (StatusCode::BAD_REQUEST, "datakit.invalidLinePoint"),
            WriteError::Warning(_) => (StatusCode::BAD_REQUEST, "datakit.pointGotWarning"),
            WriteError::NoPoints(_) => (StatusCode::BAD_REQUEST, "datakit.noPoints"),
            WriteError::Closed => (StatusCode::SERVICE_UNAVAILABLE, "datakit.shuttingDown"),
            WriteError::Busy(_) => {
                return ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "datakit.journalFull",
                    e.to_string(),
                )
                .retry_after(JOURNAL_FULL_RETRY_SECS);
            }
        };
        ApiError::new(status, code, e.to_string())
    }
}

/// Decodes the body the content type announces (JSON and protobuf into points; anything else
/// is line protocol) and hands it to the stage.
pub(super) async fn write_body(
    st: &AppState,
    origin: &Origin,
    req: &WriteRequest<'_>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, ApiError> {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let cat = req.category;
    let body =
        if ctype.starts_with("application/json") {
            if body.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(WriteError::EmptyBody.into());
            }
            let now = crate::clock::now_ns();
            WriteBody::Points(super::json::json_points(body, cat, now).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "datakit.invalidJsonPoint", e)
            })?)
        } else if ctype.starts_with("application/protobuf")
            || ctype.starts_with("application/x-protobuf")
        {
            if body.iter().all(|b| b.is_ascii_whitespace()) {
                return Err(WriteError::EmptyBody.into());
            }
            WriteBody::Points(crate::point::pb::decode_points(body, cat).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "datakit.invalidProtobufPoint",
                    e.to_string(),
                )
            })?)
        } else {
            WriteBody::Lines(body)
        };
    Ok(st.ingest.write(origin, req, body).await?)
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
    let input = q.get("input").map_or(cat.as_str(), String::as_str);
    let origin = st.ingest.client_origin("v1-write", input);
    let echo_kind = q
        .get("echo")
        .map(String::as_str)
        .or_else(|| flag(&q, "echo_line_proto").then_some("lp"))
        .or_else(|| flag(&q, "echo_json").then_some("json"));
    let req = WriteRequest {
        category: cat,
        source: q
            .get("source")
            .map(String::as_str)
            .filter(|s| !s.is_empty()),
        precision,
        strict: flag(&q, "strict"),
        loose: flag(&q, "loose"),
        dry: flag(&q, "dry"),
        echo: echo_kind.is_some(),
        global_tags: !(flag(&q, "ignore_global_host_tags") || flag(&q, "ignore_global_tags")),
    };
    let acc = write_body(&st, &origin, &req, &headers, &body).await?;
    if let Some(how) = echo_kind {
        return Ok(echo(&acc.echo, how));
    }
    if !acc.rejected.is_empty() || acc.is_partial() {
        let rejected: Vec<serde_json::Value> = acc
            .rejected
            .iter()
            .map(|r| serde_json::json!({"line": r.line, "column": r.column, "message": r.message}))
            .collect();
        let mut content = serde_json::json!({"accepted": acc.count, "rejected": rejected});
        let mut answer = serde_json::json!({});
        if acc.is_partial() {
            content["dropped"] = acc
                .lost
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "line": l.line,
                        "measurement": l.measurement,
                        "reason": l.reason,
                        "message": l.message,
                    })
                })
                .collect();
            content["dropped_points"] = acc.lost_points.into();
            content["dropped_values"] = acc.lost_values.into();
            answer["message"] = acc.partial_message().into();
        }
        answer["content"] = content;
        // The points that passed are in; the answer says what did not (the agent does not
        // refuse a body for what its point rules dropped, unless `strict`).
        return Ok((StatusCode::OK, axum::Json(answer)).into_response());
    }
    Ok(StatusCode::OK.into_response())
}
