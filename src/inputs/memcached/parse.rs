//! Memcached's text-protocol `stats` answers: `STAT <name> <value>` lines up to `END`, read
//! from a buffer that may not hold the whole answer yet. Bytes from the server: a line it
//! cannot read is an error naming the line and its byte offset, never a panic.

/// The largest answer accepted (`stats items` of every slab class is a few tens of KiB).
pub const MAX_ANSWER: usize = 4 << 20;

/// Why a `stats` answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    #[error("the server answered `{0}`")]
    Server(String),
    #[error("line {line} (byte {offset}): expected `STAT <name> <value>` or `END`, found `{text}`")]
    Line {
        line: usize,
        offset: usize,
        text: String,
    },
    #[error("answer larger than {MAX_ANSWER} bytes")]
    TooLarge,
}

/// One `STAT` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// Reads a whole answer at the start of `buf`: its `STAT` lines, `None` while `END` has not
/// arrived.
pub fn parse_stats(buf: &[u8]) -> Result<Option<Vec<Stat<'_>>>, StatsError> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        let Some(i) = memchr::memchr(b'\n', &buf[pos..]) else {
            return if buf.len() > MAX_ANSWER {
                Err(StatsError::TooLarge)
            } else {
                Ok(None)
            };
        };
        line_no += 1;
        let raw = &buf[pos..pos + i];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = String::from_utf8_lossy(raw);
        let bad = || StatsError::Line {
            line: line_no,
            offset: pos,
            text: text.chars().take(80).collect(),
        };
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(bad());
        };
        if line == "END" {
            return Ok(Some(out));
        }
        if line == "ERROR" || line.starts_with("CLIENT_ERROR") || line.starts_with("SERVER_ERROR") {
            return Err(StatsError::Server(line.to_string()));
        }
        let mut parts = line.splitn(3, ' ');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("STAT"), Some(name), Some(value)) if !name.is_empty() => {
                out.push(Stat { name, value });
            }
            _ => return Err(bad()),
        }
        pos += i + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_whole_or_wait_for_more() {
        let a = b"STAT pid 12\r\nSTAT version 1.6.18\r\nSTAT 1:chunk_size 96\r\nEND\r\n";
        let got = parse_stats(a).unwrap().unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[2],
            Stat {
                name: "1:chunk_size",
                value: "96"
            }
        );
        for cut in 0..a.len() - 2 {
            assert_eq!(parse_stats(&a[..cut]).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn bad_answers_say_where() {
        assert_eq!(
            parse_stats(b"ERROR\r\n"),
            Err(StatsError::Server("ERROR".into()))
        );
        assert_eq!(
            parse_stats(b"STAT a 1\r\nhello\r\nEND\r\n"),
            Err(StatsError::Line {
                line: 2,
                offset: 10,
                text: "hello".into()
            })
        );
        let big = vec![b'x'; MAX_ANSWER + 1];
        assert_eq!(parse_stats(&big), Err(StatsError::TooLarge));
    }
}
