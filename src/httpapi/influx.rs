//! The InfluxDB-compatible write APIs — `POST /write` (1.x) and `POST /api/v2/write` (2.x) —
//! so Telegraf and InfluxDB clients write to the agent unchanged, and the `GET|POST /query`
//! answer their start-up `CREATE DATABASE`.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::body::read_body;
use super::write::write_body;
use crate::ingest::write::WriteRequest;
use crate::point::{Category, Precision};

/// A form value: `+` is a space, `%XX` a byte.
fn form_decode(v: &[u8]) -> String {
    let spaced: Vec<u8> = v
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8_lossy()
        .into_owned()
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
        source: None,
        precision,
        strict: false,
        loose: false,
        dry: false,
        echo: false,
        global_tags: true,
    };
    let origin = if v2 {
        st.influx_origins.1.clone()
    } else {
        st.influx_origins.0.clone()
    };
    // InfluxDB takes line protocol whatever the content type says.
    let mut h = headers.clone();
    h.remove(header::CONTENT_TYPE);
    match write_body(&st, &origin, &req, &h, &body).await {
        // As InfluxDB answers a write some of whose points it could not store: 400 (1.x) or
        // 422 (2.x), `partial write: … dropped=N`.
        Ok(acc) if acc.is_partial() => {
            let msg = format!("{} dropped={}", acc.partial_message(), acc.lost_points);
            if v2 {
                let body = serde_json::json!({"code": "unprocessable entity", "message": msg});
                (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
            } else {
                influx_error(StatusCode::BAD_REQUEST, msg, false)
            }
        }
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            let retry_after = e.retry_after;
            let too_many = e.status == StatusCode::TOO_MANY_REQUESTS;
            let mut r = if v2 && too_many {
                // InfluxDB 2.x's code for it; Telegraf and the clients wait `Retry-After`.
                let body = serde_json::json!({"code": "too many requests", "message": e.message});
                (e.status, axum::Json(body)).into_response()
            } else {
                influx_error(e.status, e.message, v2)
            };
            if let Some(secs) = retry_after {
                r.headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, secs.into());
            }
            r
        }
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
pub async fn influx_query(
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // The statement is `q` in the URL, or in a form body (as Telegraf sends it).
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let from_body = form
        .then(|| {
            body.split(|&b| b == b'&').find_map(|kv| {
                let (k, v) = kv.split_at(kv.iter().position(|&b| b == b'=')?);
                (k == b"q").then(|| form_decode(&v[1..]))
            })
        })
        .flatten();
    let stmt = q
        .get("q")
        .cloned()
        .or(from_body)
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
