//! Reading request bodies: the whole body, decompressed (gzip, deflate), within a size limit
//! whatever the client sends — declared length, chunked, or a gzip bomb — so memory stays
//! within about the limit per stage.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};

use super::ApiError;

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
