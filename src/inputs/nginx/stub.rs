//! The page of nginx's `stub_status` module:
//!
//! ```text
//! Active connections: 2
//! server accepts handled requests
//!  10 10 31
//! Reading: 0 Writing: 1 Waiting: 1
//! ```
//!
//! Bytes from the server: anything else is an error naming the line, never a panic.

/// The counters of one page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StubStatus {
    pub active: u64,
    pub accepts: u64,
    pub handled: u64,
    pub requests: u64,
    pub reading: u64,
    pub writing: u64,
    pub waiting: u64,
}

/// Why a page is not a `stub_status` page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a stub_status page: line {line}: {what}")]
pub struct StubError {
    pub line: usize,
    pub what: String,
}

fn num(line: usize, s: Option<&str>, what: &str) -> Result<u64, StubError> {
    s.and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| StubError {
            line,
            what: format!("expected {what}"),
        })
}

/// Reads a `stub_status` page.
pub fn parse(text: &str) -> Result<StubStatus, StubError> {
    let mut lines = text.lines();
    let mut next = |n: usize| {
        lines.next().ok_or_else(|| StubError {
            line: n,
            what: "the page ends early".into(),
        })
    };
    let first = next(1)?;
    let active = num(
        1,
        first.strip_prefix("Active connections:").map(str::trim),
        "`Active connections: <n>`",
    )?;
    next(2)?;
    let counts = next(3)?;
    let mut c = counts.split_whitespace();
    let accepts = num(3, c.next(), "the accepts count")?;
    let handled = num(3, c.next(), "the handled count")?;
    let requests = num(3, c.next(), "the requests count")?;
    let states = next(4)?;
    let s: Vec<&str> = states.split_whitespace().collect();
    if s.len() < 6 || s[0] != "Reading:" || s[2] != "Writing:" || s[4] != "Waiting:" {
        return Err(StubError {
            line: 4,
            what: "expected `Reading: <n> Writing: <n> Waiting: <n>`".into(),
        });
    }
    Ok(StubStatus {
        active,
        accepts,
        handled,
        requests,
        reading: num(4, Some(s[1]), "the reading count")?,
        writing: num(4, Some(s[3]), "the writing count")?,
        waiting: num(4, Some(s[5]), "the waiting count")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_parse_and_others_say_where() {
        let page = "Active connections: 2 \nserver accepts handled requests\n 10 9 31 \nReading: 0 Writing: 1 Waiting: 1 \n";
        assert_eq!(
            parse(page).unwrap(),
            StubStatus {
                active: 2,
                accepts: 10,
                handled: 9,
                requests: 31,
                reading: 0,
                writing: 1,
                waiting: 1
            }
        );
        assert_eq!(parse("<html>").unwrap_err().line, 1);
        assert_eq!(
            parse("Active connections: 1\nx\n 1 2\n").unwrap_err().line,
            3
        );
        assert_eq!(
            parse("Active connections: 1\nx\n 1 2 3\nReading: 0\n")
                .unwrap_err()
                .line,
            4
        );
    }
}
