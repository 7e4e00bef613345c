//! Bodies: batches of points encoded for an output (line protocol or DataWay's protobuf),
//! split at the raw-size cap, optionally gzipped; and their on-disk form for the queue.

use std::io::{Read as _, Write as _};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::point::lp::EncodeError;
use crate::point::pb::pb_append_point;
use crate::point::{Category, Point, PointView};

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

    /// The body's points in two bodies of about half each, gzipped at `gzip_level` when this one
    /// was: what is resent when an output answers that a body is too large (HTTP 413).
    pub fn halves(&self, gzip_level: u32) -> Result<(Body, Body), SplitError> {
        if self.points < 2 {
            return Err(SplitError::OnePoint);
        }
        let raw = if self.gzipped {
            let mut out = Vec::with_capacity(gunzip_capacity(self.raw_len, self.payload.len()));
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&self.payload[..])
                    .take(u64::from(self.raw_len) + 1),
                &mut out,
            )
            .map_err(|e| SplitError::Unreadable(e.to_string()))?;
            out
        } else {
            self.payload.clone()
        };
        let points = match self.encoding {
            Encoding::Protobuf => {
                let ends =
                    pb_entry_ends(&raw).map_err(|e| SplitError::Unreadable(e.to_string()))?;
                EncodedPoints {
                    encoding: Encoding::Protobuf,
                    buf: EncodedBuf::Protobuf(raw),
                    ends,
                }
            }
            Encoding::LineProtocol => {
                // A string field may hold a line break: the decoder finds where points end.
                let opts = crate::point::lp::DecodeOptions {
                    category: self.category,
                    ..Default::default()
                };
                let d = crate::point::lp::decode(&raw, &opts)
                    .map_err(|e| SplitError::Unreadable(e.to_string()))?;
                let mut e = EncodedPoints::new(Encoding::LineProtocol, raw.len());
                for p in &d.points {
                    e.push(p)
                        .map_err(|e| SplitError::Unreadable(e.to_string()))?;
                }
                e
            }
        };
        let n = points.len();
        if n < 2 {
            return Err(SplitError::OnePoint);
        }
        let mid = n / 2;
        let cut = points.ends[mid - 1];
        let bytes = points.bytes();
        let builder = BodyBuilder {
            category: self.category,
            encoding: self.encoding,
            max_raw: usize::MAX,
            gzip: self.gzipped.then_some(gzip_level),
            created: self.created,
        };
        let half = |from: usize, to: usize, count: usize| {
            let mut runs = Runs::default();
            runs.runs.push((bytes, from, to));
            runs.len = to - from;
            runs.points = count as u32;
            builder.finish(&runs)
        };
        Ok((half(0, cut, mid), half(cut, bytes.len(), n - mid)))
    }

    /// The `X-Pkg-Id` DataWay sees: derived from the body (its category, point count and
    /// bytes), so every attempt to send it — retries, replays from the disk queue, after a
    /// restart — carries the same id and DataWay can drop a duplicate.
    pub fn package_id(&self) -> String {
        let mut a = crc32fast::Hasher::new();
        a.update(&self.payload);
        let mut b = crc32fast::Hasher::new_with_initial(0x9e37_79b9);
        b.update(&[self.category.index() as u8]);
        b.update(&self.points.to_le_bytes());
        b.update(&self.payload);
        format!("dk_{:08x}{:08x}", a.finalize(), b.finalize())
    }

    /// Bytes of the body's disk form ([`to_disk`](Body::to_disk)).
    pub fn disk_len(&self) -> usize {
        DISK_HEADER + self.payload.len()
    }

    /// Point count of a stored body without decoding the payload.
    pub fn points_on_disk(b: &[u8]) -> u32 {
        if b.len() < DISK_HEADER {
            return 0;
        }
        u32::from_le_bytes([b[4], b[5], b[6], b[7]])
    }
}

/// Room to reserve for gunzipping a stored body: its recorded raw length, which comes from the
/// disk, so no more than a generous ratio of the gzipped bytes actually there (the buffer grows
/// if the data really inflates more).
fn gunzip_capacity(raw_len: u32, gzipped_len: usize) -> usize {
    (raw_len as usize).min(gzipped_len.saturating_mul(16))
}

/// Gzips `raw` at `level` (1..=9).
pub fn gzip(raw: &[u8], level: u32) -> Vec<u8> {
    gzip_parts([raw], raw.len(), level)
}

/// Gzips `parts`, one after another, as one stream; `len` is their total length.
fn gzip_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>, len: usize, level: u32) -> Vec<u8> {
    let mut e = GzEncoder::new(
        Vec::with_capacity(len / 4 + 64),
        Compression::new(level.clamp(1, 9)),
    );
    // Writing to a Vec cannot fail.
    for p in parts {
        let _ = e.write_all(p);
    }
    e.finish().unwrap_or_default()
}

/// Points already encoded for the outputs of their category, back to back: what the write
/// API feeds when every output of the category takes one encoding, so that request bodies
/// never become owned points.
#[derive(Debug)]
pub struct EncodedPoints {
    encoding: Encoding,
    buf: EncodedBuf,
    /// Where each point ends in the bytes.
    ends: Vec<usize>,
}

#[derive(Debug)]
enum EncodedBuf {
    Protobuf(Vec<u8>),
    LineProtocol(crate::point::Encoder),
}

impl EncodedPoints {
    /// Empty, with room for about `bytes` bytes.
    pub fn new(encoding: Encoding, bytes: usize) -> EncodedPoints {
        let buf = match encoding {
            Encoding::Protobuf => EncodedBuf::Protobuf(Vec::with_capacity(bytes)),
            Encoding::LineProtocol => {
                let mut e = crate::point::Encoder::new();
                e.reserve(bytes);
                EncodedBuf::LineProtocol(e)
            }
        };
        EncodedPoints {
            encoding,
            buf,
            ends: Vec::new(),
        }
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Points held.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends one point; on error (line protocol cannot write it) nothing is appended.
    pub fn push(&mut self, p: &(impl PointView + ?Sized)) -> Result<(), EncodeError> {
        match &mut self.buf {
            EncodedBuf::Protobuf(b) => pb_append_point(b, p),
            EncodedBuf::LineProtocol(e) => e.encode_view(p)?,
        }
        self.ends.push(self.bytes().len());
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        match &self.buf {
            EncodedBuf::Protobuf(b) => b,
            EncodedBuf::LineProtocol(e) => e.as_bytes(),
        }
    }

    /// The points as one journal record: `[version 1][encoding][points: u32 LE]`, for line
    /// protocol the end of each point (`u32 LE` each: a string field may hold a line break),
    /// then the encoded bytes.
    pub fn to_record(&self) -> Vec<u8> {
        let bytes = self.bytes();
        let mut r = Vec::with_capacity(self.record_head_len() + bytes.len());
        self.record_head(&mut r);
        r.extend_from_slice(bytes);
        r
    }

    /// The record's bytes before the encoded points ([`to_record`](EncodedPoints::to_record)
    /// is this, then [`as_bytes`](EncodedPoints::as_bytes)).
    pub fn record_head(&self, r: &mut Vec<u8>) {
        r.reserve(self.record_head_len());
        r.push(RECORD_VERSION);
        r.push(self.encoding.code());
        r.extend_from_slice(&(self.ends.len() as u32).to_le_bytes());
        if self.encoding == Encoding::LineProtocol {
            for &e in &self.ends {
                r.extend_from_slice(&(e as u32).to_le_bytes());
            }
        }
    }

    fn record_head_len(&self) -> usize {
        6 + if self.encoding == Encoding::LineProtocol {
            4 * self.ends.len()
        } else {
            0
        }
    }

    /// Gives back the buffer's room beyond the bytes encoded when it is more than a quarter
    /// of them (a feed sized for a whole body that kept few points waits in the queues).
    pub fn shrink_to_fit(&mut self) {
        let (len, cap) = match &self.buf {
            EncodedBuf::Protobuf(b) => (b.len(), b.capacity()),
            EncodedBuf::LineProtocol(e) => (e.len(), e.capacity()),
        };
        if cap - len > len / 4 + 4096 {
            match &mut self.buf {
                EncodedBuf::Protobuf(b) => b.shrink_to_fit(),
                EncodedBuf::LineProtocol(e) => e.shrink_to_fit(),
            }
        }
        self.ends.shrink_to_fit();
    }

    /// Room for about `bytes` more bytes of points.
    pub fn reserve(&mut self, bytes: usize) {
        match &mut self.buf {
            EncodedBuf::Protobuf(b) => b.reserve(bytes),
            EncodedBuf::LineProtocol(e) => e.reserve(bytes),
        }
    }

    /// Points from a journal record written by [`to_record`](EncodedPoints::to_record).
    pub fn from_record(r: &[u8]) -> Result<EncodedPoints, BadRecord> {
        let bad = |why: &'static str| BadRecord(why);
        if r.len() < 6 || r[0] != RECORD_VERSION {
            return Err(bad("unknown record version"));
        }
        let encoding = Encoding::from_code(r[1]).ok_or(bad("unknown encoding"))?;
        let n = u32::from_le_bytes([r[2], r[3], r[4], r[5]]) as usize;
        let mut at = 6;
        // The count is read from the disk: room for no more points than the bytes could hold
        // (a point takes at least 2 bytes; a line-protocol point 4 more in the table).
        let mut ends = Vec::with_capacity(n.min(r.len() / 2));
        match encoding {
            Encoding::LineProtocol => {
                let table = r.get(at..at + 4 * n).ok_or(bad("short point table"))?;
                for c in table.chunks_exact(4) {
                    ends.push(u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as usize);
                }
                at += 4 * n;
            }
            Encoding::Protobuf => ends = pb_entry_ends(&r[at..])?,
        }
        let bytes = r[at..].to_vec();
        if ends.len() != n
            || ends.last().is_some_and(|&e| e != bytes.len())
            || ends.windows(2).any(|w| w[0] > w[1])
        {
            return Err(bad("points do not match the table"));
        }
        let buf = match encoding {
            Encoding::Protobuf => EncodedBuf::Protobuf(bytes),
            Encoding::LineProtocol => {
                EncodedBuf::LineProtocol(crate::point::Encoder::from_encoded(bytes, n))
            }
        };
        Ok(EncodedPoints {
            encoding,
            buf,
            ends,
        })
    }

    /// The encoded bytes of every point, back to back.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes()
    }
}

/// Why a body could not be split in halves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("the body holds one point")]
    OnePoint,
    #[error("the body cannot be read back: {0}")]
    Unreadable(String),
}

/// Version byte of a journal record.
const RECORD_VERSION: u8 = 1;

/// A journal record that is not one [`EncodedPoints::to_record`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unreadable journal record: {0}")]
pub struct BadRecord(pub &'static str);

/// Where each point of a `PBPoints` message ends: every point is field 1 (tag, length,
/// payload).
fn pb_entry_ends(b: &[u8]) -> Result<Vec<usize>, BadRecord> {
    let bad = BadRecord;
    let mut ends = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != 0x0a {
            return Err(bad("not a PBPoints entry"));
        }
        i += 1;
        let (len, used) = varint(&b[i..]).ok_or(bad("bad entry length"))?;
        i += used;
        i = usize::try_from(len)
            .ok()
            .and_then(|l| i.checked_add(l))
            .filter(|&e| e <= b.len())
            .ok_or(bad("entry past the end"))?;
        ends.push(i);
    }
    Ok(ends)
}

/// A protobuf varint: (value, bytes used).
fn varint(b: &[u8]) -> Option<(u64, usize)> {
    let mut v = 0u64;
    for (i, &c) in b.iter().enumerate().take(10) {
        v |= u64::from(c & 0x7f) << (7 * i);
        if c & 0x80 == 0 {
            return Some((v, i + 1));
        }
    }
    None
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
    /// Points that cannot be encoded (line protocol without fields), or that were encoded for
    /// another encoding than this builder's.
    pub unencodable: u64,
}

impl BodyBuilder {
    pub fn build(&self, points: &[Point]) -> Encoded {
        self.build_with(points, &[])
    }

    /// Bodies for owned `points` followed by points already `encoded` (those in another
    /// encoding than this builder's are counted as unencodable). Each body is gzipped straight
    /// from the encoded bytes, one contiguous run of points at a time.
    pub fn build_with(&self, points: &[Point], encoded: &[EncodedPoints]) -> Encoded {
        let mut enc = Encoded::default();
        let mut own = EncodedPoints::new(self.encoding, 0);
        for p in points {
            if own.push(p).is_err() {
                enc.unencodable += 1;
            }
        }
        let mut body = Runs::default();
        for e in std::iter::once(&own).chain(encoded) {
            if e.encoding != self.encoding {
                enc.unencodable += e.len() as u64;
                continue;
            }
            let bytes = e.bytes();
            let mut start = 0;
            for &end in &e.ends {
                let len = end - start;
                if len > self.max_raw {
                    enc.too_large += 1;
                } else {
                    if body.len + len > self.max_raw && body.points > 0 {
                        enc.bodies.push(self.finish(&body));
                        body = Runs::default();
                    }
                    body.add(bytes, start, end);
                }
                start = end;
            }
        }
        if body.points > 0 {
            enc.bodies.push(self.finish(&body));
        }
        enc
    }

    fn finish(&self, body: &Runs<'_>) -> Body {
        let (payload, gzipped) = match self.gzip {
            Some(level) => (gzip_parts(body.slices(), body.len, level), true),
            None => (body.slices().collect::<Vec<_>>().concat(), false),
        };
        Body {
            category: self.category,
            encoding: self.encoding,
            gzipped,
            payload,
            points: body.points,
            raw_len: body.len as u32,
            created: self.created,
        }
    }
}

/// One body's points: contiguous runs of encoded bytes, as (bytes, start, end).
#[derive(Default)]
struct Runs<'a> {
    runs: smallvec::SmallVec<[(&'a [u8], usize, usize); 4]>,
    len: usize,
    points: u32,
}

impl<'a> Runs<'a> {
    /// Adds `bytes[start..end]`, extending the last run when it ends at `start` of the same
    /// bytes.
    fn add(&mut self, bytes: &'a [u8], start: usize, end: usize) {
        match self.runs.last_mut() {
            Some((b, _, e)) if std::ptr::eq(*b, bytes) && *e == start => *e = end,
            _ => self.runs.push((bytes, start, end)),
        }
        self.len += end - start;
        self.points += 1;
    }

    fn slices(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.runs.iter().map(|&(b, s, e)| &b[s..e])
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
    fn journal_records_round_trip_in_both_encodings() {
        for encoding in [Encoding::Protobuf, Encoding::LineProtocol] {
            let mut e = EncodedPoints::new(encoding, 0);
            let mut p = point(1);
            p.set_field("msg", Value::Str("two\nlines".into()));
            e.push(&p).unwrap();
            e.push(&point(2)).unwrap();
            let r = e.to_record();
            let back = EncodedPoints::from_record(&r).unwrap();
            assert_eq!(back.len(), 2);
            assert_eq!(back.encoding(), encoding);
            assert_eq!(back.as_bytes(), e.as_bytes());
            assert_eq!(back.ends, e.ends);
            assert!(EncodedPoints::from_record(&r[..r.len() - 1]).is_err());
        }
        assert!(EncodedPoints::from_record(&[9, 9, 9]).is_err());
    }

    /// A feed sized for a whole body that kept a few points gives the rest back before it
    /// waits in the queues (1 % sampling held 237 MB of empty room without this).
    #[test]
    fn room_beyond_the_points_is_given_back() {
        for encoding in [Encoding::Protobuf, Encoding::LineProtocol] {
            let mut e = EncodedPoints::new(encoding, 1 << 20);
            e.push(&point(1)).unwrap();
            let bytes = e.as_bytes().to_vec();
            e.shrink_to_fit();
            let cap = match &e.buf {
                EncodedBuf::Protobuf(b) => b.capacity(),
                EncodedBuf::LineProtocol(l) => l.capacity(),
            };
            assert!(cap < 4096, "{encoding:?}: {cap}");
            assert_eq!(e.as_bytes(), bytes);
        }
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

    #[test]
    fn halves_keep_every_point_in_both_encodings() {
        for encoding in [Encoding::LineProtocol, Encoding::Protobuf] {
            for gzip in [None, Some(1)] {
                let mut pts: Vec<Point> = (0..7).map(point).collect();
                // A line break inside a string field is not a point boundary.
                pts[2].set_field("msg", crate::point::Value::Str("a\nb".into()));
                let b = BodyBuilder {
                    category: Category::Logging,
                    encoding,
                    max_raw: 1 << 20,
                    gzip,
                    created: 42,
                };
                let body = b.build(&pts).bodies.remove(0);
                let (x, y) = body.halves(1).unwrap();
                assert_eq!((x.points, y.points), (3, 4));
                assert_eq!(
                    (x.created, x.gzipped, x.encoding),
                    (42, gzip.is_some(), encoding)
                );
                let decode = |b: &Body| -> Vec<Point> {
                    let raw = if b.gzipped {
                        let mut out = Vec::new();
                        flate2::read::GzDecoder::new(&b.payload[..])
                            .read_to_end(&mut out)
                            .unwrap();
                        out
                    } else {
                        b.payload.clone()
                    };
                    match encoding {
                        Encoding::Protobuf => {
                            crate::point::pb::decode_points(&raw, Category::Logging).unwrap()
                        }
                        Encoding::LineProtocol => {
                            crate::point::lp::decode(&raw, &Default::default())
                                .unwrap()
                                .points
                        }
                    }
                };
                let mut back = decode(&x);
                back.extend(decode(&y));
                assert_eq!(back.len(), 7);
                for (a, b) in back.iter().zip(&pts) {
                    let sorted = |p: &Point| {
                        let mut f = p.fields.clone();
                        f.sort_by(|x, y| x.0.cmp(&y.0));
                        f
                    };
                    assert_eq!(sorted(a), sorted(b), "{encoding:?} {gzip:?}");
                    assert_eq!(a.time, b.time);
                }
                let one = b.build(&pts[..1]).bodies.remove(0);
                assert_eq!(one.halves(1), Err(SplitError::OnePoint));
            }
        }
    }

    #[test]
    fn the_package_id_is_the_same_for_the_same_body_only() {
        let b = BodyBuilder {
            category: Category::Metric,
            encoding: Encoding::Protobuf,
            max_raw: 1 << 20,
            gzip: Some(1),
            created: 42,
        };
        let one = b.build(&[point(1)]).bodies.remove(0);
        let again = Body::from_disk(&one.to_disk()).unwrap();
        assert_eq!(
            one.package_id(),
            again.package_id(),
            "stable across the disk queue"
        );
        assert!(one.package_id().starts_with("dk_") && one.package_id().len() == 19);
        let other = b.build(&[point(2)]).bodies.remove(0);
        assert_ne!(one.package_id(), other.package_id());
    }

    /// Found by the journal fuzz target: a stored body's raw length (4 bytes from the disk)
    /// sized the buffer its gzipped payload is inflated into when a 413 splits it, so a
    /// damaged length asked for 4 GiB. The split of such a body still works.
    #[test]
    fn a_damaged_raw_len_sized_the_413_split_buffer() {
        assert_eq!(gunzip_capacity(u32::MAX, 17), 17 * 16);
        assert_eq!(gunzip_capacity(1000, 200), 1000);
        let lp = b"m,k=a v=1i 1\nm,k=b v=2i 2\nm,k=c v=3i 3\n";
        let mut stored = Body {
            category: Category::Metric,
            encoding: Encoding::LineProtocol,
            gzipped: true,
            payload: gzip(lp, 6),
            points: 3,
            raw_len: lp.len() as u32,
            created: 0,
        }
        .to_disk();
        stored[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let b = Body::from_disk(&stored).unwrap();
        assert_eq!(b.raw_len, u32::MAX);
        let (x, y) = b.halves(6).unwrap();
        assert_eq!((x.points, y.points), (1, 2));
        assert_eq!(x.raw_len + y.raw_len, lp.len() as u32);
    }

    /// Found by the journal fuzz target: a record's point count was trusted to size a
    /// vector, so 6 damaged bytes asked for gigabytes.
    #[test]
    fn a_damaged_record_count_allocated_gigabytes() {
        for enc in [0u8, 1] {
            let r = [RECORD_VERSION, enc, 0xff, 0xff, 0xff, 0x7f];
            assert!(EncodedPoints::from_record(&r).is_err());
        }
    }
}
