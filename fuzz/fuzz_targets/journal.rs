//! Fuzzes what the agent reads back from its own files after a crash, where a torn write or a
//! damaged disk may leave any bytes: a journal record (`EncodedPoints::from_record`, which must
//! round-trip whatever it accepts), a disk-queue body and its split in halves (what a 413
//! answer does), and a journal segment file opened and read back to its end. None may panic;
//! every record read back is finished so the journal's commit position moves over it.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use datakit::io::body::{Body, EncodedPoints};
use datakit::io::journal::{Journal, JournalOptions};
use datakit::point::Category;
use libfuzzer_sys::fuzz_target;

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = EncodedPoints::from_record(data) {
        assert_eq!(p.to_record(), data, "an accepted record writes back the same");
    }
    if let Some(b) = Body::from_disk(data) {
        if let Ok((x, y)) = b.halves(1) {
            assert!(x.points >= 1 && y.points >= 1);
        }
    }
    let dir = std::env::temp_dir().join(format!(
        "dk-fuzz-journal-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(datakit::io::segment::seg_name(1)), data).expect("segment");
    if let Ok(j) = Journal::open(&dir, Category::Logging, JournalOptions::default()) {
        let mut n = 0;
        while let Ok(Some(s)) = j.read_spilled() {
            let _ = EncodedPoints::from_record(&s.payload);
            s.mark.done();
            n += 1;
            assert!(n <= data.len(), "more records than bytes");
        }
        j.close();
    }
    let _ = std::fs::remove_dir_all(&dir);
});
