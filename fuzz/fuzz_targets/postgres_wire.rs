//! Fuzzes what the `postgresql` input reads from a server: arbitrary bytes as the server's
//! answers to the startup (authentication requests of every kind, SCRAM messages, parameter
//! statuses) and to three queries, then the rows through the point conversion; and the bytes
//! as text through the `address` parser. A clear error, never a panic.
#![no_main]

use std::io::{self, Read, Write};
use std::time::Duration;

use datakit::inputs::postgresql::address::Address;
use datakit::inputs::postgresql::rows_to_points;
use datakit::inputs::postgresql::wire::{Scram, Session, Transport};
use libfuzzer_sys::fuzz_target;

/// The server's side: `data` to read, writes swallowed.
struct Canned<'a> {
    data: &'a [u8],
}

impl Read for Canned<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

impl Write for Canned<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for Canned<'_> {
    fn set_timeout(&mut self, _: Duration) -> io::Result<()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let mut s = Session::new(Canned { data }, "postgresql://u:***@h:5432", Duration::from_secs(60));
    if s.startup("u", "pw", "db", &[]).is_ok() {
        let tags = vec![("server".to_string(), "h:5432".to_string())];
        for _ in 0..3 {
            match s.query("SELECT 1", "fuzz") {
                Ok(rows) => {
                    let mut problems = Vec::new();
                    let cols: Vec<&str> = rows.columns.iter().map(String::as_str).collect();
                    let (t, f) = cols.split_at(cols.len() / 2);
                    let _ = rows_to_points("m", &rows, t, f, &tags, &mut problems);
                }
                Err(e) if e.breaks_connection() => break,
                Err(_) => {}
            }
        }
    }
    let text = String::from_utf8_lossy(data);
    let _ = Address::parse(&text);
    let mut scram = Scram::with_nonce("pw", "abc".into());
    if scram.client_final(&text).is_ok() {
        let _ = scram.verify_server(&text);
    }
});
