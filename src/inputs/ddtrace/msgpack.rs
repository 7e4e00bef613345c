//! A MessagePack reader over a byte slice for the tracers' payloads: every error says at
//! which byte offset it failed and what it found there.

use std::borrow::Cow;

/// Nesting deeper than this in a value that is skipped is refused (no recursion bomb).
const MAX_DEPTH: usize = 64;

/// Why a MessagePack body could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {what}")]
pub struct MsgpackError {
    pub offset: usize,
    pub what: String,
}

/// The kind of value a marker byte starts, for messages.
fn kind(m: u8) -> &'static str {
    match m {
        0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3 => "an integer",
        0x80..=0x8f | 0xde | 0xdf => "a map",
        0x90..=0x9f | 0xdc | 0xdd => "an array",
        0xa0..=0xbf | 0xd9..=0xdb => "a string",
        0xc0 => "nil",
        0xc2 | 0xc3 => "a boolean",
        0xc4..=0xc6 => "binary data",
        0xca | 0xcb => "a float",
        0xc7..=0xc9 | 0xd4..=0xd8 => "an extension",
        0xc1 => "the reserved byte 0xc1",
    }
}

/// A cursor over a MessagePack body.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn err(&self, offset: usize, what: impl Into<String>) -> MsgpackError {
        MsgpackError {
            offset,
            what: what.into(),
        }
    }

    fn marker(&mut self) -> Result<u8, MsgpackError> {
        let m = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err(self.pos, "the body ends where a value should start"))?;
        self.pos += 1;
        Ok(m)
    }

    fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        let start = self.pos;
        let end = start
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| {
                self.err(
                    start,
                    format!(
                        "truncated: {n} bytes announced, {} left",
                        self.buf.len() - start.min(self.buf.len())
                    ),
                )
            })?;
        self.pos = end;
        Ok(&self.buf[start..end])
    }

    fn be(&mut self, n: usize) -> Result<u64, MsgpackError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }

    fn wrong(&self, at: usize, m: u8, want: &str) -> MsgpackError {
        self.err(at, format!("expected {want}, found {}", kind(m)))
    }

    /// The length of an array (`nil` is an empty one).
    pub fn array_len(&mut self) -> Result<usize, MsgpackError> {
        let at = self.pos;
        let m = self.marker()?;
        let n = match m {
            0x90..=0x9f => u64::from(m & 0x0f),
            0xdc => self.be(2)?,
            0xdd => self.be(4)?,
            0xc0 => 0,
            _ => return Err(self.wrong(at, m, "an array")),
        };
        self.bounded(at, n)
    }

    /// The number of entries of a map (`nil` is an empty one).
    pub fn map_len(&mut self) -> Result<usize, MsgpackError> {
        let at = self.pos;
        let m = self.marker()?;
        let n = match m {
            0x80..=0x8f => u64::from(m & 0x0f),
            0xde => self.be(2)?,
            0xdf => self.be(4)?,
            0xc0 => 0,
            _ => return Err(self.wrong(at, m, "a map")),
        };
        self.bounded(at, n)
    }

    /// A count of elements, each at least one byte: more than the bytes left is refused before
    /// anything is sized by it.
    fn bounded(&self, at: usize, n: u64) -> Result<usize, MsgpackError> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err(self.err(
                at,
                format!("truncated: {n} elements announced, {left} bytes left"),
            ));
        }
        Ok(n as usize)
    }

    /// Raw string or binary bytes (`nil` is empty).
    pub fn str_bytes(&mut self) -> Result<&'a [u8], MsgpackError> {
        let at = self.pos;
        let m = self.marker()?;
        let n = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 | 0xc4 => self.be(1)? as usize,
            0xda | 0xc5 => self.be(2)? as usize,
            0xdb | 0xc6 => self.be(4)? as usize,
            0xc0 => 0,
            _ => return Err(self.wrong(at, m, "a string")),
        };
        self.take(n)
    }

    /// A string; invalid UTF-8 is repaired with U+FFFD, as the original does.
    pub fn str(&mut self) -> Result<Cow<'a, str>, MsgpackError> {
        let b = self.str_bytes()?;
        // The validating conversion is much faster than the lossy one, which is for the rare
        // invalid string.
        Ok(match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        })
    }

    /// A string, owned.
    pub fn string(&mut self) -> Result<String, MsgpackError> {
        self.str().map(Cow::into_owned)
    }

    /// Any integer as i128 (`nil` is 0).
    fn int(&mut self) -> Result<i128, MsgpackError> {
        let at = self.pos;
        let m = self.marker()?;
        Ok(match m {
            0x00..=0x7f => i128::from(m),
            0xe0..=0xff => i128::from(m as i8),
            0xcc => i128::from(self.be(1)?),
            0xcd => i128::from(self.be(2)?),
            0xce => i128::from(self.be(4)?),
            0xcf => i128::from(self.be(8)?),
            0xd0 => i128::from(self.be(1)? as u8 as i8),
            0xd1 => i128::from(self.be(2)? as u16 as i16),
            0xd2 => i128::from(self.be(4)? as u32 as i32),
            0xd3 => i128::from(self.be(8)? as i64),
            0xc0 => 0,
            _ => return Err(self.wrong(at, m, "an integer")),
        })
    }

    pub fn u64(&mut self) -> Result<u64, MsgpackError> {
        let at = self.pos;
        let v = self.int()?;
        u64::try_from(v).map_err(|_| self.err(at, format!("{v} is not an unsigned 64-bit integer")))
    }

    pub fn i64(&mut self) -> Result<i64, MsgpackError> {
        let at = self.pos;
        let v = self.int()?;
        i64::try_from(v).map_err(|_| self.err(at, format!("{v} overflows a signed 64-bit integer")))
    }

    pub fn i32(&mut self) -> Result<i32, MsgpackError> {
        let at = self.pos;
        let v = self.int()?;
        i32::try_from(v).map_err(|_| self.err(at, format!("{v} overflows a 32-bit integer")))
    }

    pub fn u32(&mut self) -> Result<u32, MsgpackError> {
        let at = self.pos;
        let v = self.int()?;
        u32::try_from(v).map_err(|_| self.err(at, format!("{v} is not an unsigned 32-bit integer")))
    }

    /// A float, or an integer as a float (`nil` is 0).
    pub fn f64(&mut self) -> Result<f64, MsgpackError> {
        let at = self.pos;
        match self.peek() {
            Some(0xca) => {
                self.pos += 1;
                Ok(f64::from(f32::from_bits(self.be(4)? as u32)))
            }
            Some(0xcb) => {
                self.pos += 1;
                Ok(f64::from_bits(self.be(8)?))
            }
            Some(0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3 | 0xc0) => Ok(self.int()? as f64),
            Some(m) => Err(self.wrong(at, m, "a number")),
            None => Err(self.err(at, "the body ends where a value should start")),
        }
    }

    /// Skips one value of any kind.
    pub fn skip(&mut self) -> Result<(), MsgpackError> {
        self.skip_depth(0)
    }

    fn skip_depth(&mut self, depth: usize) -> Result<(), MsgpackError> {
        let at = self.pos;
        if depth > MAX_DEPTH {
            return Err(self.err(at, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let m = self
            .peek()
            .ok_or_else(|| self.err(at, "the body ends where a value should start"))?;
        match m {
            0x80..=0x8f | 0xde | 0xdf => {
                let n = self.map_len()?;
                for _ in 0..n {
                    self.skip_depth(depth + 1)?;
                    self.skip_depth(depth + 1)?;
                }
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                let n = self.array_len()?;
                for _ in 0..n {
                    self.skip_depth(depth + 1)?;
                }
            }
            0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6 => {
                self.str_bytes()?;
            }
            0xca | 0xcb => {
                self.f64()?;
            }
            0xc0 | 0xc2 | 0xc3 => self.pos += 1,
            0xd4 => self.skip_n(1, 2)?,
            0xd5 => self.skip_n(1, 3)?,
            0xd6 => self.skip_n(1, 5)?,
            0xd7 => self.skip_n(1, 9)?,
            0xd8 => self.skip_n(1, 17)?,
            0xc7..=0xc9 => {
                self.pos += 1;
                let n = self.be(match m {
                    0xc7 => 1,
                    0xc8 => 2,
                    _ => 4,
                })? as usize;
                self.take(n.saturating_add(1))?;
            }
            0xc1 => return Err(self.err(at, "the reserved byte 0xc1 is not a value")),
            _ => {
                self.int()?;
            }
        }
        Ok(())
    }

    fn skip_n(&mut self, marker: usize, n: usize) -> Result<(), MsgpackError> {
        self.pos += marker;
        self.take(n).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_kind_and_says_where_it_failed() {
        // [1, -1, 300, "ab", {"k": 1.5}, nil]
        let buf = [
            0x96, 0x01, 0xff, 0xcd, 0x01, 0x2c, 0xa2, b'a', b'b', 0x81, 0xa1, b'k', 0xcb, 0x3f,
            0xf8, 0, 0, 0, 0, 0, 0, 0xc0,
        ];
        let mut r = Reader::new(&buf);
        assert_eq!(r.array_len().unwrap(), 6);
        assert_eq!(r.u64().unwrap(), 1);
        assert_eq!(r.i64().unwrap(), -1);
        assert_eq!(r.i32().unwrap(), 300);
        assert_eq!(r.str().unwrap(), "ab");
        assert_eq!(r.map_len().unwrap(), 1);
        assert_eq!(r.str().unwrap(), "k");
        assert_eq!(r.f64().unwrap(), 1.5);
        assert_eq!(r.str().unwrap(), "");
        assert!(r.at_end());

        let e = Reader::new(&[0xa5, b'a']).str().unwrap_err();
        assert_eq!(
            e.to_string(),
            "at byte 1: truncated: 5 bytes announced, 1 left"
        );
        let e = Reader::new(&[0x01, 0xa1, b'x']).map_len().unwrap_err();
        assert_eq!(e.to_string(), "at byte 0: expected a map, found an integer");
        let e = Reader::new(&[0xdd, 0xff, 0xff, 0xff, 0xff])
            .array_len()
            .unwrap_err();
        assert!(
            e.to_string().contains("4294967295 elements announced"),
            "{e}"
        );
        let e = Reader::new(&[0xff]).u64().unwrap_err();
        assert!(e.to_string().contains("-1 is not an unsigned"), "{e}");
    }

    #[test]
    fn skipping_refuses_deep_nesting() {
        let mut buf = vec![0x91; 100];
        buf.push(0xc0);
        let e = Reader::new(&buf).skip().unwrap_err();
        assert!(e.to_string().contains("nested deeper"), "{e}");
        let mut ok = vec![0x91; 10];
        ok.push(0xc0);
        let mut r = Reader::new(&ok);
        r.skip().unwrap();
        assert!(r.at_end());
    }
}
