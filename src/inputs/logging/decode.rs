//! From the bytes of one line to its text: character encodings, ANSI escape codes, trailing
//! white space. Nothing here fails or panics: bytes that do not decode become U+FFFD.

use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE};

/// The `character_encoding` of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charset {
    /// UTF-8 (also `""` and `none`): invalid sequences become U+FFFD.
    Utf8,
    Utf16Le,
    Utf16Be,
    /// `utf-16`: little endian unless the file starts with a big-endian byte order mark.
    Utf16Auto,
    Gbk,
    Gb18030,
}

impl Charset {
    /// The encoding named in the config (case-insensitive), or `None` for an unknown name.
    pub fn parse(name: &str) -> Option<Charset> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "utf-8" | "utf8" => Charset::Utf8,
            "utf-16le" => Charset::Utf16Le,
            "utf-16be" => Charset::Utf16Be,
            "utf-16" => Charset::Utf16Auto,
            "gbk" => Charset::Gbk,
            "gb18030" => Charset::Gb18030,
            _ => return None,
        })
    }

    /// The names `parse` accepts, for messages.
    pub const NAMES: &'static str = "utf-8, utf-16le, utf-16be, utf-16, gbk, gb18030 or none";

    /// Whether a line ends at a two-byte `\n` unit rather than at a `\n` byte.
    pub fn wide(self) -> Option<Wide> {
        match self {
            Charset::Utf16Le | Charset::Utf16Auto => Some(Wide::Le),
            Charset::Utf16Be => Some(Wide::Be),
            _ => None,
        }
    }

    /// The charset for a file whose first bytes are `head` (byte order marks pick the
    /// endianness of `utf-16`).
    pub fn for_head(self, head: &[u8]) -> Charset {
        match (self, head) {
            (Charset::Utf16Auto, [0xFE, 0xFF, ..]) => Charset::Utf16Be,
            (Charset::Utf16Auto, _) => Charset::Utf16Le,
            (c, _) => c,
        }
    }

    fn encoding(self) -> Option<&'static Encoding> {
        match self {
            Charset::Utf8 => None,
            Charset::Utf16Le | Charset::Utf16Auto => Some(UTF_16LE),
            Charset::Utf16Be => Some(UTF_16BE),
            Charset::Gbk => Some(GBK),
            Charset::Gb18030 => Some(GB18030),
        }
    }
}

/// Byte order of a UTF-16 file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wide {
    Le,
    Be,
}

/// Where the first line break of `buf` ends (the index after it), for a file in `wide`
/// (`None`: any `\n` byte). `base` is the file offset of `buf[0]`: UTF-16 units start at even
/// file offsets.
pub fn find_newline(buf: &[u8], wide: Option<Wide>, base: u64) -> Option<usize> {
    match wide {
        None => memchr::memchr(b'\n', buf).map(|i| i + 1),
        Some(w) => {
            let mut i = (base % 2) as usize;
            let unit = match w {
                Wide::Le => [b'\n', 0],
                Wide::Be => [0, b'\n'],
            };
            while i + 1 < buf.len() {
                // Jump to the next `\n` byte, then check its unit's alignment and partner.
                let at = memchr::memchr(b'\n', &buf[i..])? + i;
                let start = match w {
                    Wide::Le => at,
                    Wide::Be => at.checked_sub(1)?,
                };
                if (base + start as u64).is_multiple_of(2)
                    && start + 1 < buf.len()
                    && buf[start..start + 2] == unit
                {
                    return Some(start + 2);
                }
                i = at + 1;
            }
            None
        }
    }
}

/// The length of the line break that ends `line` (0 when it does not end with one).
pub fn newline_len(line: &[u8], wide: Option<Wide>) -> usize {
    match wide {
        None => usize::from(line.ends_with(b"\n")),
        Some(Wide::Le) if line.len() >= 2 && line.ends_with(b"\n\0") => 2,
        Some(Wide::Be) if line.len() >= 2 && line.ends_with(b"\0\n") => 2,
        Some(_) => 0,
    }
}

/// Decodes one line (without its line break) to text. A byte order mark at the start is
/// removed.
pub fn decode(bytes: &[u8], charset: Charset) -> String {
    match charset.encoding() {
        None => {
            let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            match std::str::from_utf8(b) {
                Ok(s) => s.to_string(),
                Err(_) => String::from_utf8_lossy(b).into_owned(),
            }
        }
        Some(enc) => {
            let b = match charset {
                Charset::Utf16Le | Charset::Utf16Auto => {
                    bytes.strip_prefix(b"\xFF\xFE").unwrap_or(bytes)
                }
                Charset::Utf16Be => bytes.strip_prefix(b"\xFE\xFF").unwrap_or(bytes),
                _ => bytes,
            };
            enc.decode_without_bom_handling(b).0.into_owned()
        }
    }
}

/// Removes ANSI escape sequences: CSI (`ESC [ ... final`), OSC (`ESC ] ... BEL|ESC \`), and
/// two-byte escapes (`ESC c`). Text without ESC is returned untouched.
pub fn strip_ansi(s: &mut String) {
    if !s.contains('\x1b') {
        return;
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while let Some(off) = memchr::memchr(0x1b, &b[i..]) {
        let esc = i + off;
        out.push_str(&s[copied..esc]);
        let mut j = esc + 1;
        match b.get(j) {
            Some(b'[') => {
                // Parameters and intermediates, then one final byte in 0x40..=0x7E.
                j += 1;
                while j < b.len() && (0x20..=0x3F).contains(&b[j]) {
                    j += 1;
                }
                if j < b.len() && (0x40..=0x7E).contains(&b[j]) {
                    j += 1;
                }
            }
            Some(b']') => {
                j += 1;
                loop {
                    match b.get(j) {
                        None => break,
                        Some(0x07) => {
                            j += 1;
                            break;
                        }
                        Some(0x1b) if b.get(j + 1) == Some(&b'\\') => {
                            j += 2;
                            break;
                        }
                        Some(_) => j += 1,
                    }
                }
            }
            Some(c) if (0x40..=0x5F).contains(c) || (0x20..=0x2F).contains(c) => {
                j += 1;
                // `ESC ( B` and similar: one more byte.
                if (0x20..=0x2F).contains(c) && j < b.len() {
                    j += 1;
                }
            }
            _ => {}
        }
        // Never cut a UTF-8 sequence: escapes are ASCII, so `j` lands on a boundary unless
        // the sequence was broken; skip to the next boundary then.
        while j < b.len() && !s.is_char_boundary(j) {
            j += 1;
        }
        i = j.min(b.len());
        copied = i;
    }
    out.push_str(&s[copied..]);
    *s = out;
}

/// Removes trailing white space (`\r`, spaces, tabs, and Unicode white space).
pub fn trim_end(s: &mut String) {
    let n = s.trim_end().len();
    s.truncate(n);
}

/// One line of Docker's json-file log driver, `{"log":"…\n","stream":"stdout","time":"…"}`:
/// the `log` text without its final newline, and whether it is a piece of a longer line (the
/// engine cuts lines at 16 KiB; every piece but the last lacks the newline). `None` when the
/// line is not such a record (not JSON, no known `stream`).
pub fn docker_json_line(line: &[u8]) -> Option<(String, bool)> {
    #[derive(serde::Deserialize)]
    struct Rec<'a> {
        #[serde(default, borrow)]
        log: std::borrow::Cow<'a, str>,
        #[serde(default, borrow)]
        stream: std::borrow::Cow<'a, str>,
    }
    let r: Rec<'_> = serde_json::from_slice(line).ok()?;
    if r.stream != "stdout" && r.stream != "stderr" {
        return None;
    }
    let mut log = r.log.into_owned();
    if log.ends_with('\n') {
        log.pop();
        if log.ends_with('\r') {
            log.pop();
        }
        Some((log, false))
    } else if log.is_empty() {
        Some((log, false))
    } else {
        Some((log, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charsets_parse_case_insensitively() {
        assert_eq!(Charset::parse("UTF-8"), Some(Charset::Utf8));
        assert_eq!(Charset::parse(""), Some(Charset::Utf8));
        assert_eq!(Charset::parse("none"), Some(Charset::Utf8));
        assert_eq!(Charset::parse("GBK"), Some(Charset::Gbk));
        assert_eq!(Charset::parse("gb18030"), Some(Charset::Gb18030));
        assert_eq!(Charset::parse("utf-16le"), Some(Charset::Utf16Le));
        assert_eq!(Charset::parse("utf-16"), Some(Charset::Utf16Auto));
        assert_eq!(Charset::parse("latin1"), None);
    }

    #[test]
    fn gbk_and_gb18030_decode() {
        // "中文日志" in GBK.
        let gbk = [0xD6, 0xD0, 0xCE, 0xC4, 0xC8, 0xD5, 0xD6, 0xBE];
        assert_eq!(decode(&gbk, Charset::Gbk), "中文日志");
        assert_eq!(decode(&gbk, Charset::Gb18030), "中文日志");
        // A four-byte GB18030 sequence.
        let (e, _, _) = GB18030.encode("😀");
        assert_eq!(e.len(), 4);
        assert_eq!(decode(&e, Charset::Gb18030), "😀");
    }

    #[test]
    fn utf16_lines_split_on_aligned_units_only() {
        let text = "a\u{0A0D}b\nsecond\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        // U+0A0D encodes as 0D 0A in LE: a `\n` byte that is no line break.
        let end = find_newline(&le, Some(Wide::Le), 0).unwrap();
        assert_eq!(
            decode(
                &le[..end - newline_len(&le[..end], Some(Wide::Le))],
                Charset::Utf16Le
            ),
            "a\u{0A0D}b"
        );
        let rest = &le[end..];
        let end2 = find_newline(rest, Some(Wide::Le), end as u64).unwrap();
        assert_eq!(decode(&rest[..end2 - 2], Charset::Utf16Le), "second");
        let be: Vec<u8> = "x\ny\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        let e = find_newline(&be, Some(Wide::Be), 0).unwrap();
        assert_eq!(e, 4);
        assert_eq!(decode(&be[..2], Charset::Utf16Be), "x");
        // Odd base offset: the unit boundary moves.
        assert_eq!(find_newline(&[0, b'\n', 0], Some(Wide::Le), 1), Some(3));
        assert_eq!(find_newline(b"\n", Some(Wide::Le), 0), None);
    }

    #[test]
    fn byte_order_marks_are_removed() {
        assert_eq!(decode(b"\xEF\xBB\xBFhi", Charset::Utf8), "hi");
        assert_eq!(decode(b"\xFF\xFEh\0i\0", Charset::Utf16Le), "hi");
        assert_eq!(decode(b"\xFE\xFF\0h\0i", Charset::Utf16Be), "hi");
        assert_eq!(
            Charset::Utf16Auto.for_head(b"\xFE\xFF\0h"),
            Charset::Utf16Be
        );
        assert_eq!(Charset::Utf16Auto.for_head(b"h\0"), Charset::Utf16Le);
    }

    #[test]
    fn invalid_bytes_never_fail() {
        assert_eq!(decode(b"a\xFFb", Charset::Utf8), "a\u{FFFD}b");
        assert_eq!(decode(b"\xFF", Charset::Gbk), "\u{FFFD}");
        assert_eq!(decode(b"x", Charset::Utf16Le), "\u{FFFD}");
        for n in 0..=255u8 {
            for cs in [
                Charset::Utf8,
                Charset::Gbk,
                Charset::Gb18030,
                Charset::Utf16Be,
            ] {
                let _ = decode(&[n, n.wrapping_add(1), 0x1b], cs);
            }
        }
    }

    #[test]
    fn ansi_codes_are_stripped() {
        let cases = [
            ("\x1b[31mERROR\x1b[0m boom", "ERROR boom"),
            ("\x1b[1;32;40mok\x1b[K", "ok"),
            ("plain", "plain"),
            ("\x1b]0;title\x07text", "text"),
            ("\x1b]8;;http://x\x1b\\link", "link"),
            ("a\x1b(Bb", "ab"),
            ("trailing\x1b", "trailing"),
            ("\x1b[", ""),
            ("中\x1b[0m文", "中文"),
            ("\x1b\u{00e9}x", "\u{00e9}x"),
        ];
        for (input, want) in cases {
            let mut s = input.to_string();
            strip_ansi(&mut s);
            assert_eq!(s, want, "{input:?}");
        }
    }

    #[test]
    fn trailing_white_space_is_trimmed() {
        let mut s = "line \t\r".to_string();
        trim_end(&mut s);
        assert_eq!(s, "line");
        let mut s = "  lead".to_string();
        trim_end(&mut s);
        assert_eq!(s, "  lead");
    }
}
