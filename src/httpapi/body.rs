//! Reading request bodies: the whole body, decompressed (gzip, deflate), within a size limit
//! whatever the client sends — declared length, chunked, or a gzip bomb — so memory stays
//! within about the limit per stage; and within one budget for all requests together
//! ([`BodyBudget`]): bytes are taken from it as they arrive and given back when the request is
//! done, and a request that finds it spent waits a moment, then gets 503 with `Retry-After`.

use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiError;

/// How long a request waits for room in the body budget before it is answered 503.
pub const BUDGET_WAIT: Duration = Duration::from_secs(2);

/// The budget is counted in units of this many bytes.
const UNIT: usize = 1024;

/// Memory is taken from the budget in steps of at least this many bytes.
const STEP: usize = 256 << 10;

/// Bytes of request bodies in memory at once, over every request (raw and decompressed).
#[derive(Clone)]
pub struct BodyBudget {
    sem: Arc<Semaphore>,
    units: usize,
}

impl BodyBudget {
    pub fn new(bytes: u64) -> BodyBudget {
        let units = usize::try_from(bytes / UNIT as u64)
            .unwrap_or(usize::MAX)
            .clamp(1, Semaphore::MAX_PERMITS);
        BodyBudget {
            sem: Arc::new(Semaphore::new(units)),
            units,
        }
    }

    /// The budget, in bytes.
    pub fn bytes(&self) -> u64 {
        (self.units * UNIT) as u64
    }

    /// Grows `held` to cover at least `bytes`, waiting until `deadline` for room.
    async fn cover(
        &self,
        held: &mut Held,
        bytes: usize,
        deadline: Instant,
    ) -> Result<(), ApiError> {
        if bytes <= held.bytes() {
            return Ok(());
        }
        let want = bytes.max(held.bytes() + STEP);
        let units = (want.div_ceil(UNIT) - held.units).min(self.units);
        let permit = tokio::time::timeout_at(
            deadline.into(),
            self.sem.clone().acquire_many_owned(units as u32),
        )
        .await;
        match permit {
            Ok(Ok(p)) => {
                held.units += units;
                match &mut held.permit {
                    Some(h) => h.merge(p),
                    None => held.permit = Some(p),
                }
                Ok(())
            }
            _ => {
                static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
                if LOGGED.ready(60) {
                    tracing::warn!(
                        budget_bytes = self.bytes(),
                        "request bodies in memory reached [http_api] max_body_memory: requests are answered 503 until some finish"
                    );
                }
                Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "datakit.bodyMemoryFull",
                    format!(
                        "request bodies in memory reached the agent's budget ({} MiB, [http_api] max_body_memory): try again",
                        self.bytes() >> 20
                    ),
                )
                .retry_after(1))
            }
        }
    }
}

/// A share of the [`BodyBudget`], given back when dropped.
#[derive(Default)]
pub struct Held {
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
}

impl Held {
    fn bytes(&self) -> usize {
        self.units * UNIT
    }
}

/// A request body in memory with its share of the budget.
pub struct HeldBody {
    pub bytes: Bytes,
    /// The content encoding still to undo (`""` when none).
    encoding: String,
    _held: Held,
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

/// Reads at most `limit` bytes of `body`, covering them in `held`; `None` when it is longer.
async fn collect_limited(
    body: Body,
    size_hint: Option<u64>,
    limit: usize,
    budget: &BodyBudget,
    held: &mut Held,
    deadline: Instant,
) -> Result<Option<Vec<u8>>, ApiError> {
    use http_body_util::BodyExt;
    let read_failed = |e: axum::Error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.readBodyFailed",
            e.to_string(),
        )
    };
    let mut body = body;
    if let Some(n) = size_hint {
        // The length is known: one exact buffer.
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(limit);
        budget.cover(held, n, deadline).await?;
        let mut out = Vec::with_capacity(n);
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.map_err(read_failed)?.into_data() {
                if out.len() + data.len() > limit {
                    return Ok(None);
                }
                budget.cover(held, out.len() + data.len(), deadline).await?;
                out.extend_from_slice(&data);
            }
        }
        return Ok(Some(out));
    }
    let mut blocks = Blocks::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.map_err(read_failed)?.into_data() {
            if blocks.len + data.len() > limit {
                return Ok(None);
            }
            // Blocks are allocated whole: cover the block the data lands in.
            let reach = (blocks.len + data.len())
                .next_multiple_of(Blocks::BLOCK)
                .min(limit);
            budget.cover(held, reach, deadline).await?;
            blocks.push(&data);
        }
    }
    // Joining copies the blocks once.
    if blocks.blocks.len() > 1 {
        budget.cover(held, 2 * blocks.len, deadline).await?;
    }
    Ok(Some(blocks.join()))
}

/// Inflates `r` into at most `limit` bytes covered in `held`; `None` when the output would be
/// longer.
async fn inflate_limited(
    mut r: impl Read,
    limit: usize,
    budget: &BodyBudget,
    held: &mut Held,
    deadline: Instant,
) -> Result<std::io::Result<Option<Vec<u8>>>, ApiError> {
    let mut out = Blocks::new();
    let mut chunk = vec![0u8; 64 << 10];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(n) => n,
            Err(e) => return Ok(Err(e)),
        };
        if n == 0 {
            if out.blocks.len() > 1 {
                budget.cover(held, 2 * out.len, deadline).await?;
            }
            return Ok(Ok(Some(out.join())));
        }
        if out.len + n > limit {
            return Ok(Ok(None));
        }
        let reach = (out.len + n).next_multiple_of(Blocks::BLOCK).min(limit);
        budget.cover(held, reach, deadline).await?;
        out.push(&chunk[..n]);
    }
}

/// Reads the whole body as sent, refusing more than `limit` bytes; its bytes are taken from
/// `budget` as they arrive (503 when it stays spent for [`BUDGET_WAIT`]). Decompress it with
/// [`HeldBody::inflate`].
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    encoding_override: Option<&str>,
    limit: usize,
    timeout: Duration,
    budget: &BodyBudget,
) -> Result<HeldBody, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let encoding = encoding_override
        .map(str::to_string)
        .or_else(|| {
            headers
                .get(header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok())
                .map(str::to_ascii_lowercase)
        })
        .unwrap_or_default();
    if !matches!(
        encoding.as_str(),
        "" | "identity" | "gzip" | "x-gzip" | "deflate"
    ) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "datakit.decodeBodyFailed",
            format!("unsupported body encoding `{encoding}` (use gzip or deflate)"),
        ));
    }
    let mut held = Held::default();
    let deadline = Instant::now() + BUDGET_WAIT.min(timeout);
    let read = collect_limited(body, declared, limit, budget, &mut held, deadline);
    let raw = match tokio::time::timeout(timeout, read).await {
        Err(_) => return Err(ApiError::timeout(timeout)),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => return Err(ApiError::too_large(limit)),
        Ok(Ok(Some(b))) => b,
    };
    Ok(HeldBody {
        bytes: Bytes::from(raw),
        encoding,
        _held: held,
    })
}

impl HeldBody {
    /// The body decompressed (gzip, deflate), refusing more than `limit` bytes; the
    /// decompressed bytes are taken from `budget` too, and the compressed ones given back.
    pub async fn inflate(self, limit: usize, budget: &BodyBudget) -> Result<HeldBody, ApiError> {
        let HeldBody {
            bytes,
            encoding,
            _held: raw_held,
        } = self;
        let mut held = Held::default();
        let deadline = Instant::now() + BUDGET_WAIT;
        let inflated = match encoding.as_str() {
            "" | "identity" => {
                return Ok(HeldBody {
                    bytes,
                    encoding,
                    _held: raw_held,
                });
            }
            "gzip" | "x-gzip" => {
                let r = flate2::read::MultiGzDecoder::new(&bytes[..]);
                inflate_limited(r, limit, budget, &mut held, deadline).await?
            }
            _ => {
                let r = flate2::read::ZlibDecoder::new(&bytes[..]);
                inflate_limited(r, limit, budget, &mut held, deadline).await?
            }
        };
        drop(bytes);
        drop(raw_held);
        match inflated {
            Ok(Some(v)) => Ok(HeldBody {
                bytes: Bytes::from(v),
                encoding: String::new(),
                _held: held,
            }),
            Ok(None) => Err(ApiError::too_large(limit)),
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "datakit.decodeBodyFailed",
                format!("{encoding}: {e}"),
            )),
        }
    }
}
