//! Fuzzes the `memcached` input's reading of `stats` answers: arbitrary bytes give the lines,
//! "need more" or an error naming the line, never a panic; what parses goes through the
//! conversions to points.
#![no_main]

use datakit::inputs::memcached::{parse, slab_points, stats_point};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(Some(stats)) = parse::parse_stats(data) {
        let _ = stats_point(&stats);
        let _ = slab_points(&stats, true);
        let _ = slab_points(&stats, false);
    }
});
