//! Line protocol decoder: one pass over the body, borrowed views where nothing is escaped.
//!
//! Rules (the original's vendored InfluxDB 1.x parser, with DataKit's extensions):
//! - Lines end at `\n` (a `\r` right before it is dropped); a `\n` inside a quoted string
//!   value, or right after an odd run of backslashes, does not end the line.
//! - Leading spaces, tabs and NULs are skipped; blank lines and lines starting with `#` are
//!   skipped.
//! - `measurement[,tagk=tagv…] fieldk=fieldv[,…] [timestamp]`. In measurement, tag keys and tag
//!   values a separator byte (`,`, ` `, `=` for tags) is escaped when the byte before it is a
//!   backslash; the backslash is dropped for `\,` `\ ` `\=` (and `\"` in the measurement),
//!   other backslashes stay literal. Field keys read a backslash and the byte after it as a
//!   pair; `\,` `\ ` `\=` `\"` lose the backslash.
//! - Field values: `1i` int64, `1u` uint64, `1`/`1.5`/`.5`/`1.`/`1e3`/`-1.5E-3` float,
//!   `t T true True TRUE f F false False FALSE` bool, `"…"` string (`\"` and `\\` unescaped,
//!   raw newlines kept), `"…"b` base64 bytes, `[…]` homogeneous array of int/uint/float/bool/
//!   string. `NaN`, `Inf` and floats that overflow are refused.
//! - Timestamp: optional integer, `-` allowed, followed by spaces only; scaled by the
//!   [`Precision`] and refused outside `MIN_NANO_TIME..=MAX_NANO_TIME`.
//! - Duplicate tag keys are an error; a repeated field key keeps the last value; a tag
//!   replaces a field of the same key.

use std::borrow::Cow;

use super::{MAX_KEY_LENGTH, Precision, float};
use crate::point::{Category, Fields, Point, Tags, Value};

/// A field value borrowed from the body where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueRef<'a> {
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    Str(Cow<'a, str>),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
}

impl ValueRef<'_> {
    /// An owned copy.
    pub fn to_value(&self) -> Value {
        match self {
            ValueRef::Int(v) => Value::Int(*v),
            ValueRef::Uint(v) => Value::Uint(*v),
            ValueRef::Float(v) => Value::Float(*v),
            ValueRef::Bool(v) => Value::Bool(*v),
            ValueRef::Str(s) => Value::Str(s.to_string()),
            ValueRef::Bytes(b) => Value::Bytes(b.clone()),
            ValueRef::Array(a) => Value::Array(a.clone()),
        }
    }

    /// Into an owned value, reusing owned data.
    pub fn into_value(self) -> Value {
        match self {
            ValueRef::Int(v) => Value::Int(v),
            ValueRef::Uint(v) => Value::Uint(v),
            ValueRef::Float(v) => Value::Float(v),
            ValueRef::Bool(v) => Value::Bool(v),
            ValueRef::Str(s) => Value::Str(s.into_owned()),
            ValueRef::Bytes(b) => Value::Bytes(b),
            ValueRef::Array(a) => Value::Array(a),
        }
    }

    /// The type as [`Value::type_name`] names it.
    pub fn type_name(&self) -> &'static str {
        match self {
            ValueRef::Int(_) => "int",
            ValueRef::Uint(_) => "uint",
            ValueRef::Float(_) => "float",
            ValueRef::Bool(_) => "bool",
            ValueRef::Str(_) => "string",
            ValueRef::Bytes(_) => "bytes",
            ValueRef::Array(_) => "array",
        }
    }
}

/// Borrowed tags of a [`PointRef`] (a `Vec`: a reused `PointRef` allocates once, and pushes
/// compile to plain stores).
pub type TagsRef<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;
/// Borrowed fields of a [`PointRef`].
pub type FieldsRef<'a> = Vec<(Cow<'a, str>, ValueRef<'a>)>;

/// One decoded line, borrowing from the body. Tags and fields keep the order of the line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PointRef<'a> {
    pub name: Cow<'a, str>,
    pub tags: TagsRef<'a>,
    pub fields: FieldsRef<'a>,
    /// Unix nanoseconds; 0 when the line had no timestamp and no default time was given.
    pub time: i64,
}

impl<'a> PointRef<'a> {
    /// Empties the point, keeping allocated capacity.
    pub fn clear(&mut self) {
        self.name = Cow::Borrowed("");
        self.tags.clear();
        self.fields.clear();
        self.time = 0;
    }

    pub fn get_tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
    }

    pub fn get_field(&self, key: &str) -> Option<&ValueRef<'a>> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Moves the content into an owned point (strings that were unescaped are reused) and
    /// leaves this point empty for the next line.
    pub fn take_point(&mut self, category: Category) -> Point {
        let mut tags = Tags::with_capacity(self.tags.len());
        tags.extend(
            self.tags
                .drain(..)
                .map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
        let mut fields = Fields::with_capacity(self.fields.len());
        fields.extend(
            self.fields
                .drain(..)
                .map(|(k, v)| (k.into_owned(), v.into_value())),
        );
        let name = std::mem::take(&mut self.name).into_owned();
        let time = std::mem::take(&mut self.time);
        Point {
            name,
            tags,
            fields,
            time,
            category,
        }
    }
}

/// Why a line was refused. The messages are the original's where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum ParseErrorKind {
    #[error("missing measurement")]
    MissingMeasurement,
    #[error("missing fields")]
    MissingFields,
    #[error("missing tag key")]
    MissingTagKey,
    #[error("missing tag value")]
    MissingTagValue,
    #[error("invalid tag format (unescaped `=` in a tag value)")]
    InvalidTagFormat,
    #[error("duplicate tags")]
    DuplicateTags,
    #[error("missing field key")]
    MissingFieldKey,
    #[error("missing field value")]
    MissingFieldValue,
    #[error("invalid field format")]
    InvalidFieldFormat,
    #[error("unbalanced quotes")]
    UnbalancedQuotes,
    #[error("invalid number")]
    InvalidNumber,
    #[error("integer out of range")]
    IntegerOutOfRange,
    #[error("unsigned integer out of range")]
    UnsignedOutOfRange,
    #[error("invalid float")]
    InvalidFloat,
    #[error("invalid boolean")]
    InvalidBoolean,
    #[error("invalid string value (unexpected byte after the closing quote)")]
    InvalidString,
    #[error("invalid binary value (expected standard base64 in `\"…\"b`)")]
    InvalidBinary,
    #[error("invalid array")]
    InvalidArray,
    #[error("missing closing bracket")]
    MissingClosingBracket,
    #[error("array elements of different types")]
    MixedArray,
    #[error("bad timestamp")]
    BadTimestamp,
    #[error("time outside range")]
    TimeOutOfRange,
    #[error("max key length exceeded (65535)")]
    MaxKeyLength,
    #[error("point is invalid (unexpected characters after the timestamp)")]
    TrailingCharacters,
    #[error("invalid UTF-8")]
    InvalidUtf8,
}

impl ParseErrorKind {
    /// Every kind, for counters.
    pub const ALL: [ParseErrorKind; 25] = [
        ParseErrorKind::MissingMeasurement,
        ParseErrorKind::MissingFields,
        ParseErrorKind::MissingTagKey,
        ParseErrorKind::MissingTagValue,
        ParseErrorKind::InvalidTagFormat,
        ParseErrorKind::DuplicateTags,
        ParseErrorKind::MissingFieldKey,
        ParseErrorKind::MissingFieldValue,
        ParseErrorKind::InvalidFieldFormat,
        ParseErrorKind::UnbalancedQuotes,
        ParseErrorKind::InvalidNumber,
        ParseErrorKind::IntegerOutOfRange,
        ParseErrorKind::UnsignedOutOfRange,
        ParseErrorKind::InvalidFloat,
        ParseErrorKind::InvalidBoolean,
        ParseErrorKind::InvalidString,
        ParseErrorKind::InvalidBinary,
        ParseErrorKind::InvalidArray,
        ParseErrorKind::MissingClosingBracket,
        ParseErrorKind::MixedArray,
        ParseErrorKind::BadTimestamp,
        ParseErrorKind::TimeOutOfRange,
        ParseErrorKind::MaxKeyLength,
        ParseErrorKind::TrailingCharacters,
        ParseErrorKind::InvalidUtf8,
    ];

    /// A stable snake_case name, for metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            ParseErrorKind::MissingMeasurement => "missing_measurement",
            ParseErrorKind::MissingFields => "missing_fields",
            ParseErrorKind::MissingTagKey => "missing_tag_key",
            ParseErrorKind::MissingTagValue => "missing_tag_value",
            ParseErrorKind::InvalidTagFormat => "invalid_tag_format",
            ParseErrorKind::DuplicateTags => "duplicate_tags",
            ParseErrorKind::MissingFieldKey => "missing_field_key",
            ParseErrorKind::MissingFieldValue => "missing_field_value",
            ParseErrorKind::InvalidFieldFormat => "invalid_field_format",
            ParseErrorKind::UnbalancedQuotes => "unbalanced_quotes",
            ParseErrorKind::InvalidNumber => "invalid_number",
            ParseErrorKind::IntegerOutOfRange => "integer_out_of_range",
            ParseErrorKind::UnsignedOutOfRange => "unsigned_out_of_range",
            ParseErrorKind::InvalidFloat => "invalid_float",
            ParseErrorKind::InvalidBoolean => "invalid_boolean",
            ParseErrorKind::InvalidString => "invalid_string",
            ParseErrorKind::InvalidBinary => "invalid_binary",
            ParseErrorKind::InvalidArray => "invalid_array",
            ParseErrorKind::MissingClosingBracket => "missing_closing_bracket",
            ParseErrorKind::MixedArray => "mixed_array",
            ParseErrorKind::BadTimestamp => "bad_timestamp",
            ParseErrorKind::TimeOutOfRange => "time_out_of_range",
            ParseErrorKind::MaxKeyLength => "max_key_length",
            ParseErrorKind::TrailingCharacters => "trailing_characters",
            ParseErrorKind::InvalidUtf8 => "invalid_utf8",
        }
    }
}

/// A refused line: where (1-based line and byte column of the offending byte, byte offsets
/// into the body) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct LineError {
    /// 1-based physical line of the offending byte.
    pub line: usize,
    /// 1-based byte column of the offending byte within that line.
    pub column: usize,
    /// Byte offset of the offending byte in the body.
    pub offset: usize,
    pub kind: ParseErrorKind,
    /// Byte range of the whole logical line in the body (without the line end).
    pub line_start: usize,
    pub line_end: usize,
}

impl LineError {
    /// The text of the refused line (lossy for invalid UTF-8).
    pub fn line_text<'b>(&self, body: &'b [u8]) -> Cow<'b, str> {
        let end = self.line_end.min(body.len());
        let start = self.line_start.min(end);
        String::from_utf8_lossy(&body[start..end])
    }

    /// The original's wording: `unable to parse '<line>'(pos: N): <reason>`.
    pub fn original_message(&self, body: &[u8]) -> String {
        format!(
            "unable to parse '{}'(pos: {}): {}",
            self.line_text(body),
            self.offset.saturating_sub(self.line_start),
            self.kind
        )
    }
}

/// How [`decode`] reads a body.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodeOptions {
    /// Unit of the timestamps in the body.
    pub precision: Precision,
    /// Time (Unix ns) for lines without a timestamp; 0 leaves them unset.
    pub default_time: i64,
    /// Category of the decoded points.
    pub category: Category,
    /// Strict: the first bad line fails the body. Loose: bad lines are reported and skipped.
    pub strict: bool,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            precision: Precision::Nanosecond,
            default_time: 0,
            category: Category::Metric,
            strict: true,
        }
    }
}

/// The result of [`decode`]: the good points and, in loose mode, the refused lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decoded {
    pub points: Vec<Point>,
    pub errors: Vec<LineError>,
}

/// Decodes a body into owned points. Strict mode returns the first bad line as the error;
/// loose mode keeps the good lines and lists the bad ones in [`Decoded::errors`].
pub fn decode(body: &[u8], opts: &DecodeOptions) -> Result<Decoded, LineError> {
    let mut lines = Lines::new(body, opts.precision, opts.default_time);
    let mut out = Decoded {
        points: Vec::with_capacity(memchr::memchr_iter(b'\n', body).count() + 1),
        errors: Vec::new(),
    };
    let mut pt = PointRef::default();
    while let Some(r) = lines.next_into(&mut pt) {
        match r {
            Ok(()) => out.points.push(pt.take_point(opts.category)),
            Err(e) if opts.strict => return Err(e),
            Err(e) => out.errors.push(e),
        }
    }
    Ok(out)
}

/// [`decode`] for a body that is already text.
pub fn decode_str(body: &str, opts: &DecodeOptions) -> Result<Decoded, LineError> {
    decode(body.as_bytes(), opts)
}

/// The lines of a body, as borrowed points or errors. Blank and comment lines are skipped.
#[derive(Debug, Clone)]
pub struct Lines<'a> {
    body: &'a [u8],
    /// The whole body when it is valid UTF-8; otherwise lines are checked one by one.
    text: Option<&'a str>,
    pos: usize,
    /// Physical line number (1-based) of `line_begin`.
    line_no: usize,
    /// Offset where the current physical line begins.
    line_begin: usize,
    /// Physical line number (1-based) where the record last returned began.
    record_line: usize,
    precision: Precision,
    default_time: i64,
}

impl<'a> Lines<'a> {
    /// Lines of `body`, with timestamps in `precision`; lines without a timestamp get
    /// `default_time` (0 = unset).
    pub fn new(body: &'a [u8], precision: Precision, default_time: i64) -> Lines<'a> {
        Lines {
            body,
            text: std::str::from_utf8(body).ok(),
            pos: 0,
            line_no: 1,
            line_begin: 0,
            record_line: 0,
            precision,
            default_time,
        }
    }

    /// The line (1-based) where the record last returned by [`next_into`](Lines::next_into)
    /// began.
    pub fn line(&self) -> usize {
        self.record_line
    }

    /// Decodes the next line into `out` (cleared first), reusing its storage. `None` at the
    /// end of the body.
    pub fn next_into(&mut self, out: &mut PointRef<'a>) -> Option<Result<(), LineError>> {
        let b = self.body;
        let n = b.len();
        loop {
            if self.pos >= n {
                return None;
            }
            let i = skip_ws(b, self.pos);
            if is_eol(b, i) {
                self.advance_line(next_line_start(b, i), 0);
                continue;
            }
            if b[i] == b'#' {
                let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |k| i + k);
                self.advance_line(next_line_start(b, end), 0);
                continue;
            }
            out.clear();
            self.record_line = self.line_no;
            let result = match self.text {
                Some(s) => {
                    let mut p = Parser::new(s, self.precision, self.default_time);
                    p.line(i, out).map(|end| (end, p.newlines))
                }
                None => self.parse_unchecked_utf8(i, out),
            };
            return Some(match result {
                Ok((end, newlines)) => {
                    self.advance_line(next_line_start(b, end), newlines);
                    Ok(())
                }
                Err(e) => {
                    out.clear();
                    let end = scan_line(b, i).max(i + 1).min(n);
                    let err = self.line_error(i, end, e);
                    let newlines = memchr::memchr_iter(b'\n', &b[i..end]).count();
                    self.advance_line(next_line_start(b, end), newlines);
                    Err(err)
                }
            });
        }
    }

    /// Slow path for bodies that are not valid UTF-8: find the line the way the original
    /// splits lines, check it, then parse it on its own.
    fn parse_unchecked_utf8(
        &self,
        i: usize,
        out: &mut PointRef<'a>,
    ) -> Result<(usize, usize), PErr> {
        let b = self.body;
        let end = scan_line(b, i);
        let mut line_end = end;
        if line_end > i && b[line_end - 1] == b'\r' && line_end < b.len() {
            line_end -= 1;
        }
        let s = match std::str::from_utf8(&b[i..line_end]) {
            Ok(s) => s,
            Err(e) => {
                return Err(PErr {
                    pos: i + e.valid_up_to(),
                    kind: ParseErrorKind::InvalidUtf8,
                });
            }
        };
        let mut p = Parser::new(s, self.precision, self.default_time);
        match p.line(0, out) {
            Ok(_) => Ok((end, p.newlines)),
            Err(e) => Err(PErr {
                pos: e.pos + i,
                kind: e.kind,
            }),
        }
    }

    fn advance_line(&mut self, next: usize, embedded_newlines: usize) {
        self.pos = next;
        self.line_no += 1 + embedded_newlines;
        self.line_begin = next;
    }

    fn line_error(&self, start: usize, end: usize, e: PErr) -> LineError {
        let b = self.body;
        let pos = e.pos.min(b.len());
        let from = self.line_begin.min(pos);
        let before = &b[from..pos];
        let newlines = memchr::memchr_iter(b'\n', before).count();
        let begin = memchr::memrchr(b'\n', before).map_or(from, |k| from + k + 1);
        let mut line_end = end;
        if line_end > start && line_end <= b.len() && b[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        LineError {
            line: self.line_no + newlines,
            column: pos - begin + 1,
            offset: pos,
            kind: e.kind,
            line_start: start,
            line_end,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = Result<PointRef<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut p = PointRef::default();
        self.next_into(&mut p).map(|r| r.map(|()| p))
    }
}

/// A parse error at a byte offset of the text being parsed.
#[derive(Debug, Clone, Copy)]
struct PErr {
    pos: usize,
    kind: ParseErrorKind,
}

fn err<T>(pos: usize, kind: ParseErrorKind) -> Result<T, PErr> {
    Err(PErr { pos, kind })
}

// Byte classes: which bytes stop the fast scan of each token kind.
const STOP_MEAS: u8 = 1; // , space \ \n \r
const STOP_KEY: u8 = 2; // , space = \ \n \r
const STOP_NUM: u8 = 4; // , space \n \r
const STOP_ARR: u8 = 8; // , ] space \n \r

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = STOP_MEAS | STOP_KEY | STOP_NUM | STOP_ARR;
    t[b' ' as usize] = STOP_MEAS | STOP_KEY | STOP_NUM | STOP_ARR;
    t[b'\n' as usize] = STOP_MEAS | STOP_KEY | STOP_NUM | STOP_ARR;
    t[b'\r' as usize] = STOP_MEAS | STOP_KEY | STOP_NUM | STOP_ARR;
    t[b'\\' as usize] = STOP_MEAS | STOP_KEY;
    t[b'=' as usize] = STOP_KEY;
    t[b']' as usize] = STOP_ARR;
    t
};

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` that equals `c`; exact up to the first match (a borrow
/// can only mark bytes above a real match).
#[inline(always)]
fn bytes_eq(x: u64, c: u8) -> u64 {
    let t = x ^ (LO * c as u64);
    t.wrapping_sub(LO) & !t & HI
}

/// The offset of the first byte from `i` whose class is in `mask`, or the length. Names,
/// keys and tag values are scanned eight bytes at a time.
#[inline(always)]
fn scan(b: &[u8], mut i: usize, mask: u8) -> usize {
    if mask == STOP_MEAS || mask == STOP_KEY {
        while let Some(chunk) = b.get(i..i + 8) {
            let Ok(word) = <[u8; 8]>::try_from(chunk) else {
                break;
            };
            let x = u64::from_le_bytes(word);
            let mut m = bytes_eq(x, b',')
                | bytes_eq(x, b' ')
                | bytes_eq(x, b'\\')
                | bytes_eq(x, b'\n')
                | bytes_eq(x, b'\r');
            if mask == STOP_KEY {
                m |= bytes_eq(x, b'=');
            }
            if m != 0 {
                return i + (m.trailing_zeros() / 8) as usize;
            }
            i += 8;
        }
    }
    while i < b.len() && CLASS[b[i] as usize] & mask == 0 {
        i += 1;
    }
    i
}

#[inline(always)]
fn is_eol(b: &[u8], i: usize) -> bool {
    i >= b.len() || b[i] == b'\n' || (b[i] == b'\r' && (i + 1 >= b.len() || b[i + 1] == b'\n'))
}

fn next_line_start(b: &[u8], i: usize) -> usize {
    if i >= b.len() {
        return b.len();
    }
    if b[i] == b'\r' && i + 1 < b.len() && b[i + 1] == b'\n' {
        return i + 2;
    }
    i + 1
}

#[inline(always)]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | 0) {
        i += 1;
    }
    i
}

/// The end (offset of the terminating `\n`, or the body length) of the line starting at `i`,
/// found the way the original splits lines before parsing them (`models.scanLine`): escaped
/// bytes are skipped in pairs, and in the field section quotes after `=` hide newlines.
pub(crate) fn scan_line(b: &[u8], mut i: usize) -> usize {
    let (mut quoted, mut fields) = (false, false);
    let (mut equals, mut commas) = (0usize, 0usize);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && i + 2 < b.len() {
            i += 2;
            continue;
        }
        if c == b' ' {
            fields = true;
        }
        if fields {
            if !quoted && c == b'=' {
                i += 1;
                equals += 1;
                continue;
            } else if !quoted && c == b',' {
                i += 1;
                commas += 1;
                continue;
            } else if c == b'"' && equals > commas {
                i += 1;
                quoted = !quoted;
                continue;
            }
        }
        if c == b'\n' && !quoted {
            break;
        }
        i += 1;
    }
    i
}

/// Escape codes: the bytes a backslash escapes (and is dropped before) in each token kind.
const MEAS_CODES: &[u8] = b", =\"";
const TAG_CODES: &[u8] = b", =";
const FIELD_KEY_CODES: &[u8] = b", =\"";

/// Drops the backslash of each `\X` where X is one of `codes` (single pass, left to right).
fn unescape(s: &str, codes: &[u8]) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &b[i..]) {
        let p = i + k;
        if p + 1 < b.len() && codes.contains(&b[p + 1]) {
            out.push_str(&s[last..p]);
            last = p + 1;
            i = p + 2;
        } else {
            i = p + 1;
        }
        if i >= b.len() {
            break;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// String field content: `\\` → `\`, `\"` → `"`, other backslashes literal.
fn unescape_string(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', &b[i..]) {
        let p = i + k;
        if p + 1 < b.len() && (b[p + 1] == b'\\' || b[p + 1] == b'"') {
            out.push_str(&s[last..p]);
            last = p + 1;
            i = p + 2;
        } else {
            i = p + 1;
        }
        if i >= b.len() {
            break;
        }
    }
    out.push_str(&s[last..]);
    out
}

#[inline(always)]
fn text<'a>(s: &'a str, start: usize, end: usize, escaped: bool, codes: &[u8]) -> Cow<'a, str> {
    let t = &s[start..end];
    if escaped {
        Cow::Owned(unescape(t, codes))
    } else {
        Cow::Borrowed(t)
    }
}

/// `Vec::push` that writes the element in place once there is room. A plain `push` keeps the
/// element alive across its grow check, so it is spilled to the stack in word-sized stores and
/// reloaded in 16-byte loads: a store-forwarding stall that cost about a fifth of decoding.
#[inline(always)]
fn push_in_place<T>(v: &mut Vec<T>, make: impl FnOnce() -> T) {
    v.reserve(1);
    let len = v.len();
    let x = make();
    // SAFETY: `reserve(1)` leaves room for one more element at index `len`; the slot is
    // written before the length covers it, and nothing can run in between.
    unsafe {
        v.as_mut_ptr().add(len).write(x);
        v.set_len(len + 1);
    }
}

/// Whether the key of the last pair appears earlier.
#[cold]
#[inline(never)]
fn last_is_repeated<V>(pairs: &[(Cow<'_, str>, V)]) -> bool {
    match pairs.split_last() {
        Some(((key, _), rest)) => rest.iter().any(|(k, _)| k == key),
        None => false,
    }
}

/// The last field's key may equal a tag (the tag wins: drop the field) or an earlier field
/// (the last value wins, at the earlier place).
#[cold]
#[inline(never)]
fn settle_last_field(out: &mut PointRef<'_>, maybe_tag: bool) {
    let Some(((key, _), rest)) = out.fields.split_last() else {
        return;
    };
    if maybe_tag && out.tags.iter().any(|(k, _)| k == key) {
        out.fields.pop();
        return;
    }
    if let Some(at) = rest.iter().position(|(k, _)| k == key)
        && let Some((_, v)) = out.fields.pop()
    {
        out.fields[at].1 = v;
    }
}

/// A cheap filter for key equality: one bit from a key's length and first and last bytes.
#[inline(always)]
fn key_bit(k: &str) -> u64 {
    let b = k.as_bytes();
    let (f, l) = match (b.first(), b.last()) {
        (Some(f), Some(l)) => (*f as usize, *l as usize),
        _ => (0, 0),
    };
    1u64 << ((b.len().wrapping_mul(7) ^ f.wrapping_mul(31) ^ l) & 63)
}

/// Past this many tags or fields in a line, repeated keys are found through a hash index
/// instead of the 64-bit mask and a scan (which would make such a line quadratic).
const INDEX_FROM: usize = 64;

/// Where each key of a line's tags (or fields) sits, by a hash of the key: built only for lines
/// with more than [`INDEX_FROM`] of them, so that finding a repeated key stays linear in the
/// line however many keys it has.
#[derive(Default)]
struct KeyIndex {
    slots: std::collections::HashMap<u64, smallvec::SmallVec<[u32; 1]>>,
    /// Pairs `[..covered]` are in the index.
    covered: usize,
}

impl KeyIndex {
    fn hash(k: &str) -> u64 {
        // FNV-1a: keys are short, and what matters is linear time, not the last nanosecond.
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for &c in k.as_bytes() {
            h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    }

    /// Indexes `pairs[..upto]` that are not yet in the index.
    fn cover<V>(&mut self, pairs: &[(Cow<'_, str>, V)], upto: usize) {
        while self.covered < upto {
            let at = self.covered;
            self.slots
                .entry(Self::hash(&pairs[at].0))
                .or_default()
                .push(at as u32);
            self.covered += 1;
        }
    }

    /// Where `key` sits among the indexed `pairs`.
    fn find<V>(&self, pairs: &[(Cow<'_, str>, V)], key: &str) -> Option<usize> {
        self.slots
            .get(&Self::hash(key))?
            .iter()
            .map(|&i| i as usize)
            .find(|&i| pairs.get(i).is_some_and(|(k, _)| k == key))
    }

    /// For the last of `pairs`: where its key appears earlier. Otherwise the last pair is
    /// indexed too.
    fn earlier_than_last<V>(&mut self, pairs: &[(Cow<'_, str>, V)]) -> Option<usize> {
        let n = pairs.len();
        let last = n.checked_sub(1)?;
        self.cover(pairs, last);
        let found = self.find(pairs, &pairs[last].0);
        if found.is_none() {
            self.cover(pairs, n);
        }
        found
    }
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    precision: Precision,
    default_time: i64,
    /// Newlines inside string values of the current line.
    newlines: usize,
    /// Repeated-key lookups of lines with many tags or fields.
    tag_index: KeyIndex,
    field_index: KeyIndex,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str, precision: Precision, default_time: i64) -> Parser<'a> {
        Parser {
            s,
            b: s.as_bytes(),
            precision,
            default_time,
            newlines: 0,
            tag_index: KeyIndex::default(),
            field_index: KeyIndex::default(),
        }
    }

    /// [`settle_last_field`] for a line with many tags or fields, through the key indexes.
    #[cold]
    fn settle_last_field_indexed(&mut self, out: &mut PointRef<'a>) {
        let Some((key, _)) = out.fields.last() else {
            return;
        };
        let is_tag = if out.tags.len() > INDEX_FROM {
            self.tag_index.cover(&out.tags, out.tags.len());
            self.tag_index.find(&out.tags, key).is_some()
        } else {
            out.tags.iter().any(|(k, _)| k == key)
        };
        if is_tag {
            out.fields.pop();
            return;
        }
        let earlier = if out.fields.len() > INDEX_FROM {
            self.field_index.earlier_than_last(&out.fields)
        } else {
            let n = out.fields.len();
            out.fields[..n - 1].iter().position(|(k, _)| k == key)
        };
        if let Some(at) = earlier
            && let Some((_, v)) = out.fields.pop()
        {
            out.fields[at].1 = v;
        }
    }

    /// After a run of backslashes starting at `i`: the offset to continue scanning from. The
    /// byte after the run is escaped (skipped), except a newline after an even run, which
    /// still ends the line (the original pairs backslashes when it splits lines).
    #[inline]
    fn skip_escape(&self, i: usize) -> usize {
        let b = self.b;
        let mut j = i;
        while j < b.len() && b[j] == b'\\' {
            j += 1;
        }
        if j >= b.len() {
            return j;
        }
        if b[j] == b'\n' && (j - i).is_multiple_of(2) {
            return j;
        }
        j + 1
    }

    /// Parses the line whose first byte is at `i` into `out`; returns the offset of its end.
    fn line(&mut self, i: usize, out: &mut PointRef<'a>) -> Result<usize, PErr> {
        let (b, n) = (self.b, self.b.len());
        // Measurement.
        if b[i] == b',' {
            return err(i, ParseErrorKind::MissingMeasurement);
        }
        let start = i;
        let mut j = i;
        let mut escaped = false;
        let has_tags = loop {
            j = scan(b, j, STOP_MEAS);
            if j >= n {
                return err(n, ParseErrorKind::MissingFields);
            }
            match b[j] {
                b'\\' => {
                    escaped = true;
                    j = self.skip_escape(j);
                }
                b',' => break true,
                b' ' => break false,
                b'\r' if !is_eol(b, j) => j += 1,
                _ => return err(j, ParseErrorKind::MissingFields),
            }
        };
        out.name = text(self.s, start, j, escaped, MEAS_CODES);
        let mut tag_mask = 0u64;
        if has_tags {
            j = self.tags(j + 1, out, &mut tag_mask)?;
        }
        let series_len = j - start;
        if series_len > MAX_KEY_LENGTH {
            return err(start, ParseErrorKind::MaxKeyLength);
        }
        // Fields; `j` is at the space that ends the measurement or tags.
        j = self.fields(j + 1, out, tag_mask, series_len)?;
        // Timestamp.
        out.time = self.default_time;
        if is_eol(b, j) {
            return Ok(j);
        }
        // b[j] == b' '
        j = skip_ws(b, j + 1);
        if is_eol(b, j) {
            return Ok(j);
        }
        let ts_start = j;
        if b[j] == b'-' {
            j += 1;
        }
        while j < n && b[j].is_ascii_digit() {
            j += 1;
        }
        if !(j >= n || b[j] == b' ' || is_eol(b, j)) {
            return err(j, ParseErrorKind::BadTimestamp);
        }
        let Some(ts) = parse_i64(&b[ts_start..j]) else {
            return err(ts_start, ParseErrorKind::BadTimestamp);
        };
        while j < n && b[j] == b' ' {
            j += 1;
        }
        if !is_eol(b, j) {
            return err(j, ParseErrorKind::TrailingCharacters);
        }
        match self.precision.to_nanos(ts) {
            Some(t) => out.time = t,
            None => return err(ts_start, ParseErrorKind::TimeOutOfRange),
        }
        Ok(j)
    }

    /// Tags from `i` (after the comma that ends the measurement) to the space before the
    /// fields; returns the offset of that space.
    fn tags(
        &mut self,
        mut i: usize,
        out: &mut PointRef<'a>,
        mask: &mut u64,
    ) -> Result<usize, PErr> {
        let (b, n) = (self.b, self.b.len());
        loop {
            // Key.
            let ks = i;
            if is_eol(b, i) || matches!(b[i], b' ' | b',' | b'=') {
                return err(i, ParseErrorKind::MissingTagKey);
            }
            let mut escaped = false;
            loop {
                i = scan(b, i, STOP_KEY);
                if i >= n {
                    return err(n, ParseErrorKind::MissingTagValue);
                }
                match b[i] {
                    b'\\' => {
                        escaped = true;
                        i = self.skip_escape(i);
                    }
                    b'=' => break,
                    b'\r' if !is_eol(b, i) => i += 1,
                    _ => return err(i, ParseErrorKind::MissingTagValue),
                }
            }
            let (ke, key_escaped) = (i, escaped);
            i += 1;
            // Value; its first byte may be `=`.
            let vs = i;
            if is_eol(b, i) || matches!(b[i], b' ' | b',') {
                return err(i, ParseErrorKind::MissingTagValue);
            }
            if b[i] == b'=' {
                i += 1;
            }
            escaped = false;
            let more = loop {
                i = scan(b, i, STOP_KEY);
                if i >= n {
                    return err(n, ParseErrorKind::MissingFields);
                }
                match b[i] {
                    b'\\' => {
                        escaped = true;
                        i = self.skip_escape(i);
                    }
                    b',' => break true,
                    b' ' => break false,
                    b'=' => return err(i, ParseErrorKind::InvalidTagFormat),
                    b'\r' if !is_eol(b, i) => i += 1,
                    _ => return err(i, ParseErrorKind::MissingFields),
                }
            };
            // Both texts are made where they are stored, from offsets: moving made `Cow`s
            // costs store-forwarding stalls.
            let st = self.s;
            push_in_place(&mut out.tags, || {
                (
                    text(st, ks, ke, key_escaped, TAG_CODES),
                    text(st, vs, i, escaped, TAG_CODES),
                )
            });
            let bit = match (key_escaped, out.tags.last()) {
                (true, Some((k, _))) => key_bit(k),
                _ => key_bit(&st[ks..ke]),
            };
            // Keys are compared only where they sit in the vector (no copies on the hot path).
            if out.tags.len() > INDEX_FROM {
                if self.tag_index.earlier_than_last(&out.tags).is_some() {
                    return err(ks, ParseErrorKind::DuplicateTags);
                }
            } else if *mask & bit != 0 && last_is_repeated(&out.tags) {
                return err(ks, ParseErrorKind::DuplicateTags);
            }
            *mask |= bit;
            if !more {
                return Ok(i);
            }
            i += 1;
        }
    }

    /// The field set from `i` (after the space that ends the tags); returns the offset of the
    /// space or line end after it.
    fn fields(
        &mut self,
        i: usize,
        out: &mut PointRef<'a>,
        tag_mask: u64,
        series_len: usize,
    ) -> Result<usize, PErr> {
        let (b, n) = (self.b, self.b.len());
        let mut i = skip_ws(b, i);
        if is_eol(b, i) {
            return err(i, ParseErrorKind::MissingFields);
        }
        let mut field_mask = 0u64;
        loop {
            // Key: a backslash and the byte after it are read as a pair.
            let ks = i;
            if b[i] == b'=' {
                return err(i, ParseErrorKind::MissingFieldKey);
            }
            let mut escaped = false;
            loop {
                i = scan(b, i, STOP_KEY);
                if i >= n {
                    return err(n, ParseErrorKind::InvalidFieldFormat);
                }
                match b[i] {
                    b'\\' => {
                        escaped = true;
                        i = (i + 2).min(n);
                    }
                    b'=' => break,
                    b'\r' if !is_eol(b, i) => i += 1,
                    _ => return err(i, ParseErrorKind::InvalidFieldFormat),
                }
            }
            if escaped && b[i - 1] == b'\\' {
                // `k\\=v`: the original's parser reads a different key than its scanner.
                return err(i - 1, ParseErrorKind::InvalidFieldFormat);
            }
            if series_len + 4 + (i - ks) > MAX_KEY_LENGTH {
                return err(ks, ParseErrorKind::MaxKeyLength);
            }
            let (ke, key_escaped) = (i, escaped);
            let st = self.s;
            let key = || text(st, ks, ke, key_escaped, FIELD_KEY_CODES);
            i += 1;
            if is_eol(b, i) || matches!(b[i], b',' | b' ') {
                return err(i, ParseErrorKind::MissingFieldValue);
            }
            // Values are built right in their slot (no copies of parsed values).
            let fast = if matches!(b[i], b'0'..=b'9' | b'-') {
                fast_number(b, i)
            } else {
                None
            };
            let (end, after_kind) = match fast {
                Some((num, e)) => {
                    push_in_place(&mut out.fields, || {
                        (
                            key(),
                            match num {
                                Num::Int(v) => ValueRef::Int(v),
                                Num::Uint(v) => ValueRef::Uint(v),
                                Num::Float(v) => ValueRef::Float(v),
                            },
                        )
                    });
                    (e, ParseErrorKind::InvalidFieldFormat)
                }
                None => {
                    let (value, e, k) = match b[i] {
                        b'"' => {
                            let (v, e) = self.string_value(i)?;
                            (v, e, ParseErrorKind::InvalidString)
                        }
                        b'[' => {
                            let (v, e) = self.array_value(i)?;
                            (ValueRef::Array(v), e, ParseErrorKind::InvalidArray)
                        }
                        _ => {
                            let e = token_end(b, i, STOP_NUM);
                            let v = scalar(&b[i..e])
                                .map_err(|(off, kind)| PErr { pos: i + off, kind })?;
                            (v, e, ParseErrorKind::InvalidFieldFormat)
                        }
                    };
                    push_in_place(&mut out.fields, || (key(), value));
                    (e, k)
                }
            };
            i = end;
            let bit = match (key_escaped, out.fields.last()) {
                (true, Some((k, _))) => key_bit(k),
                _ => key_bit(&st[ks..ke]),
            };
            if out.fields.len() > INDEX_FROM || out.tags.len() > INDEX_FROM {
                self.settle_last_field_indexed(out);
            } else if (tag_mask | field_mask) & bit != 0 {
                settle_last_field(out, tag_mask & bit != 0);
            }
            field_mask |= bit;
            if is_eol(b, i) {
                return Ok(i);
            }
            match b[i] {
                b',' => {
                    i += 1;
                    if is_eol(b, i) || matches!(b[i], b' ' | b',') {
                        return err(i, ParseErrorKind::InvalidFieldFormat);
                    }
                }
                b' ' => return Ok(i),
                _ => return err(i, after_kind),
            }
        }
    }

    /// A quoted string (or `"…"b` bytes) starting at the quote at `i`; returns the value and
    /// the offset after it.
    fn string_value(&mut self, i: usize) -> Result<(ValueRef<'a>, usize), PErr> {
        let (content_start, content_end, escaped) = self.quoted(i)?;
        let b = self.b;
        let mut j = content_end + 1;
        let content = &self.s[content_start..content_end];
        if j < b.len() && b[j] == b'b' {
            j += 1;
            if escaped {
                return err(content_start, ParseErrorKind::InvalidBinary);
            }
            return match base64_decode(content.as_bytes()) {
                Some(v) => Ok((ValueRef::Bytes(v), j)),
                None => err(content_start, ParseErrorKind::InvalidBinary),
            };
        }
        let v = if escaped {
            Cow::Owned(unescape_string(content))
        } else {
            Cow::Borrowed(content)
        };
        Ok((ValueRef::Str(v), j))
    }

    /// The content range of the quoted string whose opening quote is at `i`, and whether it
    /// holds backslashes.
    #[inline]
    fn quoted(&mut self, i: usize) -> Result<(usize, usize, bool), PErr> {
        let b = self.b;
        let start = i + 1;
        let mut j = start;
        let mut escaped = false;
        loop {
            let Some(k) = memchr::memchr3(b'"', b'\\', b'\n', b.get(j..).unwrap_or_default())
            else {
                return err(i, ParseErrorKind::UnbalancedQuotes);
            };
            let p = j + k;
            match b[p] {
                b'"' => return Ok((start, p, escaped)),
                b'\\' => {
                    escaped = true;
                    if p + 1 < b.len() && b[p + 1] == b'\n' {
                        self.newlines += 1;
                    }
                    j = p + 2;
                }
                _ => {
                    self.newlines += 1;
                    j = p + 1;
                }
            }
        }
    }

    /// `[e1,e2,…]` starting at `i`; returns the elements and the offset after `]`.
    fn array_value(&mut self, i: usize) -> Result<(Vec<Value>, usize), PErr> {
        let (b, n) = (self.b, self.b.len());
        let mut j = i + 1;
        let mut items: Vec<Value> = Vec::new();
        if j < n && b[j] == b']' {
            return Ok((items, j + 1));
        }
        loop {
            if is_eol(b, j) {
                return err(i, ParseErrorKind::MissingClosingBracket);
            }
            let elem_start = j;
            let v = match b[j] {
                b'"' => {
                    let (cs, ce, escaped) = self.quoted(j)?;
                    j = ce + 1;
                    let t = &self.s[cs..ce];
                    Value::Str(if escaped {
                        unescape_string(t)
                    } else {
                        t.to_string()
                    })
                }
                b'[' => return err(j, ParseErrorKind::InvalidArray),
                _ => {
                    let e = token_end(b, j, STOP_ARR);
                    if e == j {
                        return err(j, ParseErrorKind::InvalidArray);
                    }
                    let v = scalar(&b[j..e]).map_err(|(off, kind)| PErr { pos: j + off, kind })?;
                    j = e;
                    v.into_value()
                }
            };
            if let Some(first) = items.first()
                && std::mem::discriminant(first) != std::mem::discriminant(&v)
            {
                return err(elem_start, ParseErrorKind::MixedArray);
            }
            items.push(v);
            if j >= n {
                return err(i, ParseErrorKind::MissingClosingBracket);
            }
            match b[j] {
                b',' => j += 1,
                b']' => return Ok((items, j + 1)),
                b'\n' | b'\r' => return err(i, ParseErrorKind::MissingClosingBracket),
                _ => return err(j, ParseErrorKind::InvalidArray),
            }
        }
    }
}

/// End of an unquoted value token: the first stop byte of `mask` (a lone `\r` is content).
#[inline(always)]
fn token_end(b: &[u8], mut i: usize, mask: u8) -> usize {
    loop {
        i = scan(b, i, mask);
        if i < b.len() && b[i] == b'\r' && !is_eol(b, i) {
            i += 1;
            continue;
        }
        return i;
    }
}

/// One pass over the common numbers: `-?\d{1,18}(\.\d*)?` as a float (exact fast path only),
/// `-?\d{1,18}i`, `\d{1,18}u`, each followed by a value terminator. `None` sends the value to
/// the full (two-pass) parser, which also produces the errors.
#[inline(always)]
fn fast_number(b: &[u8], start: usize) -> Option<(Num, usize)> {
    let n = b.len();
    let mut i = start;
    let neg = b[i] == b'-';
    if neg {
        i += 1;
    }
    let ds = i;
    let mut mant: u64 = 0;
    while i < n && b[i].is_ascii_digit() {
        mant = mant.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
        i += 1;
    }
    let int_digits = i - ds;
    if int_digits == 0 || int_digits > 18 {
        return None;
    }
    let terminated = |j: usize| j >= n || matches!(b[j], b',' | b' ' | b'\n') || is_eol(b, j);
    if i < n {
        match b[i] {
            b'i' if terminated(i + 1) => {
                let v = mant as i64;
                return Some((Num::Int(if neg { -v } else { v }), i + 1));
            }
            b'u' if !neg && terminated(i + 1) => return Some((Num::Uint(mant), i + 1)),
            b'.' => {
                i += 1;
                let fs = i;
                while i < n && b[i].is_ascii_digit() {
                    mant = mant.wrapping_mul(10).wrapping_add((b[i] - b'0') as u64);
                    i += 1;
                }
                let frac = i - fs;
                if int_digits + frac > 18 || frac > 22 || !terminated(i) || mant > (1 << 53) {
                    return None;
                }
                let v = mant as f64 / float::POW10[frac];
                return Some((Num::Float(if neg { -v } else { v }), i));
            }
            _ => {}
        }
    }
    if !terminated(i) || mant > (1 << 53) {
        return None;
    }
    let v = mant as f64;
    Some((Num::Float(if neg { -v } else { v }), i))
}

/// A number from [`fast_number`] (small enough to stay in registers).
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Uint(u64),
    Float(f64),
}

/// A number or boolean token; the error carries the offset in the token.
#[inline]
fn scalar(tok: &[u8]) -> Result<ValueRef<'static>, (usize, ParseErrorKind)> {
    match tok.first() {
        Some(b'0'..=b'9' | b'.' | b'-') => number(tok),
        Some(b't' | b'T' | b'f' | b'F') => match tok {
            b"t" | b"T" | b"true" | b"True" | b"TRUE" => Ok(ValueRef::Bool(true)),
            b"f" | b"F" | b"false" | b"False" | b"FALSE" => Ok(ValueRef::Bool(false)),
            _ => Err((0, ParseErrorKind::InvalidBoolean)),
        },
        Some(b'N' | b'n') => Err((0, ParseErrorKind::InvalidNumber)),
        _ => Err((0, ParseErrorKind::InvalidBoolean)),
    }
}

/// Parses an optionally negative decimal integer; `None` on overflow or a bad digit.
#[inline]
fn parse_i64(d: &[u8]) -> Option<i64> {
    let (neg, digits) = match d.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, d),
    };
    if digits.is_empty() {
        return None;
    }
    // 18 digits cannot overflow; only the rest needs checked arithmetic.
    let (head, tail) = digits.split_at(digits.len().min(18));
    let mut v: u64 = 0;
    for &c in head {
        let x = c.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v * 10 + x as u64;
    }
    for &c in tail {
        let x = c.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(x as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Decimal digits to a number; `None` unless all of `d` is digits and the value fits.
#[inline]
pub(crate) fn parse_u64(d: &[u8]) -> Option<u64> {
    if d.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in d {
        let x = c.wrapping_sub(b'0');
        if x > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(x as u64)?;
    }
    Some(v)
}

/// `-?\d+i`, `\d+u`, or a float `-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`.
#[inline]
fn number(tok: &[u8]) -> Result<ValueRef<'static>, (usize, ParseErrorKind)> {
    use ParseErrorKind::*;
    let n = tok.len();
    let neg = tok[0] == b'-';
    let body_start = usize::from(neg);
    if body_start == n {
        return Err((0, InvalidNumber));
    }
    let last = tok[n - 1];
    if last == b'i' || last == b'u' {
        let digits = &tok[body_start..n - 1];
        if digits.is_empty() {
            return Err((0, InvalidNumber));
        }
        if let Some(p) = digits.iter().position(|c| !c.is_ascii_digit()) {
            return Err((body_start + p, InvalidNumber));
        }
        if last == b'u' {
            if neg {
                return Err((0, InvalidNumber));
            }
            return parse_u64(digits)
                .map(ValueRef::Uint)
                .ok_or((0, UnsignedOutOfRange));
        }
        return parse_i64(&tok[..n - 1])
            .map(ValueRef::Int)
            .ok_or((0, IntegerOutOfRange));
    }
    float::parse(tok).map(ValueRef::Float)
}

/// Standard base64 with padding (Go's `base64.StdEncoding`).
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod scan_tests {
    use super::*;

    #[test]
    fn word_scan_finds_the_first_stop_byte() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let alphabet = b"ab,= \\\n\r\xc3\xa9\x80\xff0";
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let len = (rng % 24) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|k| alphabet[((rng >> (k % 8 * 4)) as usize + k * 7) % alphabet.len()])
                .collect();
            for mask in [STOP_MEAS, STOP_KEY] {
                for start in 0..=len {
                    let want = (start..len)
                        .find(|&j| CLASS[bytes[j] as usize] & mask != 0)
                        .unwrap_or(len);
                    assert_eq!(scan(&bytes, start, mask), want, "{bytes:?} {start} {mask}");
                }
            }
        }
    }
}
