//! gzip for line protocol bodies: a streaming writer that encodes points straight into a
//! gzip stream (for the IO batcher and outputs), and a bounded reader for request bodies.

use std::io::{self, Read, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::Point;
use super::lp::{EncodeError, Encoder};

/// Encodes points as line protocol and gzips them as they come, so a batch never exists
/// twice in memory. The line buffer is reused between points.
pub struct GzipLineWriter<W: Write> {
    gz: GzEncoder<W>,
    enc: Encoder,
    raw_bytes: u64,
    points: u64,
    refused: u64,
}

impl<W: Write> GzipLineWriter<W> {
    /// A writer at gzip `level` (0–9; the original uses 6, 1–3 is cheaper at ingest rates).
    pub fn new(inner: W, level: u32) -> GzipLineWriter<W> {
        GzipLineWriter {
            gz: GzEncoder::new(inner, Compression::new(level.min(9))),
            enc: Encoder::new(),
            raw_bytes: 0,
            points: 0,
            refused: 0,
        }
    }

    /// Uses this encoder (e.g. unsorted) for the lines.
    pub fn with_encoder(mut self, enc: Encoder) -> GzipLineWriter<W> {
        self.enc = enc;
        self.enc.clear();
        self
    }

    /// Writes one point. A point that cannot be encoded is counted in
    /// [`GzipLineWriter::refused`] and reported as `Ok(Err(..))`; IO errors are `Err`.
    pub fn write_point(&mut self, p: &Point) -> io::Result<Result<(), EncodeError>> {
        self.enc.clear();
        if let Err(e) = self.enc.encode(p) {
            self.refused += 1;
            return Ok(Err(e));
        }
        self.gz.write_all(self.enc.as_bytes())?;
        self.raw_bytes += self.enc.len() as u64;
        self.points += 1;
        Ok(Ok(()))
    }

    /// Writes already encoded line protocol.
    pub fn write_raw(&mut self, lines: &[u8]) -> io::Result<()> {
        self.gz.write_all(lines)?;
        self.raw_bytes += lines.len() as u64;
        Ok(())
    }

    /// Uncompressed bytes written so far (the original caps bodies by this size).
    pub fn raw_bytes(&self) -> u64 {
        self.raw_bytes
    }

    /// Points written.
    pub fn points(&self) -> u64 {
        self.points
    }

    /// Points that could not be encoded and were skipped.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// Ends the gzip stream and returns the inner writer.
    pub fn finish(self) -> io::Result<W> {
        self.gz.finish()
    }
}

/// gzips `data` at `level`.
pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let mut gz = GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        Compression::new(level.min(9)),
    );
    // Writing to a Vec cannot fail.
    let _ = gz.write_all(data);
    gz.finish().unwrap_or_default()
}

/// Why a gzip body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum GunzipError {
    #[error("invalid gzip data: {0}")]
    Invalid(#[from] io::Error),
    #[error("decompressed body exceeds {limit} bytes")]
    TooLarge { limit: usize },
}

/// Decompresses a gzip body (all members), refusing to inflate past `limit` bytes (guards
/// against zip bombs in request bodies).
pub fn gunzip_limited(data: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity((data.len() * 4).min(limit));
    let mut r = MultiGzDecoder::new(data).take(limit as u64 + 1);
    r.read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(GunzipError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::{Category, Value};

    #[test]
    fn streams_points_into_gzip() {
        let mut w = GzipLineWriter::new(Vec::new(), 1);
        let mut p = Point::new(Category::Metric, "cpu");
        p.set_tag("host", "a");
        p.set_field("usage", 1.5);
        p.time = 1;
        for _ in 0..3 {
            w.write_point(&p).unwrap().unwrap();
        }
        let bad = Point::new(Category::Metric, "empty");
        assert!(w.write_point(&bad).unwrap().is_err());
        assert_eq!((w.points(), w.refused()), (3, 1));
        let raw = w.raw_bytes();
        let gz = w.finish().unwrap();
        let body = gunzip_limited(&gz, 1 << 20).unwrap();
        assert_eq!(body.len() as u64, raw);
        assert_eq!(body, b"cpu,host=a usage=1.5 1\n".repeat(3));
        p.set_field("usage", Value::Int(2));
        assert!(gzip(b"x", 6).len() > 10);
    }

    #[test]
    fn gunzip_refuses_bombs_and_garbage() {
        let big = gzip(&vec![b'a'; 1 << 20], 9);
        assert!(big.len() < 10_000);
        assert!(matches!(
            gunzip_limited(&big, 1000),
            Err(GunzipError::TooLarge { limit: 1000 })
        ));
        assert_eq!(gunzip_limited(&big, 1 << 20).unwrap().len(), 1 << 20);
        assert!(matches!(
            gunzip_limited(b"not gzip", 100),
            Err(GunzipError::Invalid(_))
        ));
    }
}
