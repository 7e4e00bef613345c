//! Fuzzes what the `mysql` input reads from a server: the greeting parser, a `COM_QUERY`
//! answer read packet by packet from arbitrary bytes (a result set or a clear error, never a
//! panic or an allocation beyond the limits), an error packet, and the bytes as the text of
//! `SHOW ENGINE INNODB STATUS`.
#![no_main]

use datakit::inputs::mysql::{innodb, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wire::Handshake::parse(data);
    let _ = wire::parse_error(data);
    let mut r = wire::PacketReader::new(data);
    r.seq = 1;
    if let Ok(rs) = wire::read_result(&mut r) {
        assert!(rs.columns.len() <= wire::MAX_COLUMNS);
        assert!(rs.rows.iter().all(|row| row.len() == rs.columns.len()));
    }
    let _ = innodb::parse(&String::from_utf8_lossy(data));
});
