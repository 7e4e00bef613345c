//! Bodies: batches of points encoded for an output (line protocol or DataWay's protobuf),
//! split at the raw-size cap, optionally gzipped; and their on-disk form for the queue.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::point::pb::pb_append_point;
use crate::point::{Category, Point};

/// How points are written into a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// InfluxDB line protocol (`content_encoding = "v1"`).
    LineProtocol,
    /// DataWay's `PBPoints` protobuf (`content_encoding = "v2"`, the default).
    Protobuf,
}

impl Encoding {
    /// From a `content_encoding` setting (`v1`/`line-protocol`, `v2`/`protobuf`).
    pub fn from_config(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "v1" | "line-protocol" | "lineprotocol" => Some(Encoding::LineProtocol),
            "v2" | "protobuf" => Some(Encoding::Protobuf),
            _ => None,
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::LineProtocol => "application/line-protocol",
            Encoding::Protobuf => "application/protobuf; proto=com.guance.Point",
        }
    }
    fn code(self) -> u8 {
        match self {
            Encoding::LineProtocol => 0,
            Encoding::Protobuf => 1,
        }
    }
    fn from_code(c: u8) -> Option<Encoding> {
        match c {
            0 => Some(Encoding::LineProtocol),
            1 => Some(Encoding::Protobuf),
            _ => None,
        }
    }
}

/// One request's worth of points, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    pub category: Category,
    pub encoding: Encoding,
    pub gzipped: bool,
    pub payload: Vec<u8>,
    pub points: u32,
    /// Length before gzip.
    pub raw_len: u32,
    /// When the body was built (unix seconds), for expiry.
    pub created: u32,
}

/// Version byte of the on-disk form.
const DISK_VERSION: u8 = 1;
const DISK_HEADER: usize = 16;

impl Body {
    /// The body as stored in the disk queue.
    pub fn to_disk(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(DISK_HEADER + self.payload.len());
        b.push(DISK_VERSION);
        b.push(self.category.index() as u8);
        b.push(self.encoding.code());
        b.push(u8::from(self.gzipped));
        b.extend_from_slice(&self.points.to_le_bytes());
        b.extend_from_slice(&self.raw_len.to_le_bytes());
        b.extend_from_slice(&self.created.to_le_bytes());
        b.extend_from_slice(&self.payload);
        b
    }

    /// Reads a body written by [`Body::to_disk`]; `None` if the record is not one.
    pub fn from_disk(b: &[u8]) -> Option<Body> {
        if b.len() < DISK_HEADER || b[0] != DISK_VERSION {
            return None;
        }
        let u32_at = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Some(Body {
            category: *Category::ALL.get(b[1] as usize)?,
            encoding: Encoding::from_code(b[2])?,
            gzipped: b[3] != 0,
            points: u32_at(4),
            raw_len: u32_at(8),
            created: u32_at(12),
            payload: b[DISK_HEADER..].to_vec(),
        })
    }

    /// Point count of a stored body without decoding the payload.
    pub fn points_on_disk(b: &[u8]) -> u32 {
        if b.len() < DISK_HEADER {
            return 0;
        }
        u32::from_le_bytes([b[4], b[5], b[6], b[7]])
    }
}

/// Gzips `raw` at `level` (1..=9).
pub fn gzip(raw: &[u8], level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(raw.len() / 4 + 64),
        Compression::new(level.clamp(1, 9)),
    );
    // Writing to a Vec cannot fail.
    let _ = e.write_all(raw);
    e.finish().unwrap_or_default()
}

/// Encodes points into bodies of at most `max_raw` bytes each (before gzip). A point that alone
/// exceeds `max_raw` is left out and counted in the returned `too_large`.
pub struct BodyBuilder {
    pub category: Category,
    pub encoding: Encoding,
    pub max_raw: usize,
    /// Gzip level, or `None` for no gzip.
    pub gzip: Option<u32>,
    pub created: u32,
}

/// The result of encoding one batch.
#[derive(Debug, Default)]
pub struct Encoded {
    pub bodies: Vec<Body>,
    /// Points too large for one body (dropped).
    pub too_large: u64,
    /// Points that cannot be encoded (line protocol without fields).
    pub unencodable: u64,
}

impl BodyBuilder {
    pub fn build(&self, points: &[Point]) -> Encoded {
        let mut enc = Encoded::default();
        let mut buf: Vec<u8> = Vec::with_capacity(self.max_raw.min(1 << 20));
        let mut n: u32 = 0;
        let mut one = Vec::new();
        let mut lp = crate::point::Encoder::new();
        for p in points {
            let one: &[u8] = match self.encoding {
                Encoding::Protobuf => {
                    one.clear();
                    pb_append_point(&mut one, p);
                    &one
                }
                Encoding::LineProtocol => {
                    lp.clear();
                    if lp.encode(p).is_err() {
                        enc.unencodable += 1;
                        continue;
                    }
                    lp.as_bytes()
                }
            };
            if one.len() > self.max_raw {
                enc.too_large += 1;
                continue;
            }
            if buf.len() + one.len() > self.max_raw && n > 0 {
                enc.bodies.push(self.finish(&buf, n));
                buf.clear();
                n = 0;
            }
            buf.extend_from_slice(one);
            n += 1;
        }
        if n > 0 {
            enc.bodies.push(self.finish(&buf, n));
        }
        enc
    }

    fn finish(&self, raw: &[u8], points: u32) -> Body {
        let (payload, gzipped) = match self.gzip {
            Some(level) => (gzip(raw, level), true),
            None => (raw.to_vec(), false),
        };
        Body {
            category: self.category,
            encoding: self.encoding,
            gzipped,
            payload,
            points,
            raw_len: raw.len() as u32,
            created: self.created,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::point::Value;

    fn point(i: i64) -> Point {
        let mut p = Point::new(Category::Metric, "cpu");
        p.set_tag("host", "h1");
        p.set_field("usage", Value::Float(1.5));
        p.set_field("n", Value::Int(-i));
        p.set_field("u", Value::Uint(7));
        p.set_field("ok", Value::Bool(true));
        p.set_field("msg", Value::Str("hi".into()));
        p.set_field("raw", Value::Bytes(vec![1, 2]));
        p.time = 1_700_000_000_000_000_000 + i;
        p
    }

    #[test]
    fn bodies_split_at_the_raw_cap_and_keep_every_point() {
        let pts: Vec<Point> = (0..100).map(point).collect();
        let b = BodyBuilder {
            category: Category::Metric,
            encoding: Encoding::Protobuf,
            max_raw: 1000,
            gzip: None,
            created: 1,
        };
        let enc = b.build(&pts);
        assert!(enc.bodies.len() > 5);
        assert!(enc.bodies.iter().all(|b| b.raw_len <= 1000));
        assert_eq!(enc.bodies.iter().map(|b| b.points).sum::<u32>(), 100);
        assert_eq!(enc.too_large, 0);

        let tiny = BodyBuilder { max_raw: 10, ..b };
        let enc = tiny.build(&pts);
        assert!(enc.bodies.is_empty());
        assert_eq!(enc.too_large, 100);
    }

    #[test]
    fn disk_form_round_trips() {
        let b = BodyBuilder {
            category: Category::Logging,
            encoding: Encoding::LineProtocol,
            max_raw: 1 << 20,
            gzip: Some(1),
            created: 42,
        };
        let body = b.build(&[point(1)]).bodies.remove(0);
        let disk = body.to_disk();
        assert_eq!(Body::points_on_disk(&disk), 1);
        assert_eq!(Body::from_disk(&disk), Some(body));
        assert_eq!(Body::from_disk(&[9; 20]), None);
    }
}
