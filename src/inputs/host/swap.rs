//! `swap`: swap space from `/proc/meminfo` and swap traffic from `/proc/vmstat`.
//!
//! Fixes against the original: the descriptions of `total` and `free` were swapped; `in` and
//! `out` are documented as what they are, cumulative byte counters; they use the real page size
//! instead of assuming 4 KiB.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{
    FileBuf, HOST_TAG, Roots, SoftErrors, add_tags, field, host_input_config, percent, put,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputSpec, IntervalLimits, MeasurementSpec, entry,
};
use crate::point::{Category, Point};

const NAME: &str = "swap";

config_struct! {
    "Swap space and swap traffic."
    pub struct SwapConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(SwapConfig, collector: SwapCollector::new);

pub struct SwapCollector {
    roots: Roots,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    page_size: u64,
    errors: SoftErrors,
}

impl SwapCollector {
    pub fn new(cfg: &SwapConfig, roots: Roots) -> Self {
        SwapCollector {
            roots,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            page_size: procfs::page_size().max(1),
            errors: SoftErrors::default(),
        }
    }
}

/// `pswpin` and `pswpout` (pages) from the text of `/proc/vmstat`.
pub fn swap_pages(vmstat: &str) -> (Option<u64>, Option<u64>) {
    let (mut pin, mut pout) = (None, None);
    for line in vmstat.lines() {
        if let Some(v) = line.strip_prefix("pswpin ") {
            pin = v.trim().parse().ok();
        } else if let Some(v) = line.strip_prefix("pswpout ") {
            pout = v.trim().parse().ok();
        }
    }
    (pin, pout)
}

/// Swap total and free (bytes) from the text of `/proc/meminfo`.
pub fn swap_space(meminfo: &str) -> Option<(u64, u64)> {
    let kb = |key: &str| {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|v| v * 1024)
    };
    Some((kb("SwapTotal:")?, kb("SwapFree:")?))
}

impl Collect for SwapCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let path = self.roots.proc("meminfo");
        let text = self.buf.read_str(&path).map_err(|e| e.to_string())?;
        let (total, free) =
            swap_space(text).ok_or_else(|| format!("{}: no SwapTotal/SwapFree", path.display()))?;
        let used = total.saturating_sub(free);
        let mut p = Point::new(Category::Metric, NAME);
        put(&mut p, "total", total);
        put(&mut p, "free", free);
        put(&mut p, "used", used);
        put(&mut p, "used_percent", percent(used as f64, total as f64));
        match self.buf.read_str(&self.roots.proc("vmstat")) {
            Ok(text) => {
                let (pin, pout) = swap_pages(text);
                if let Some(v) = pin {
                    put(&mut p, "in", v * self.page_size);
                }
                if let Some(v) = pout {
                    put(&mut p, "out", v * self.page_size);
                }
            }
            Err(e) => self.errors.record(ctx, NAME, e),
        }
        add_tags(&mut p, &self.tags);
        Ok(vec![p])
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!("total", Uint, "digital,B", "Total swap space."),
    field!("free", Uint, "digital,B", "Unused swap space."),
    field!("used", Uint, "digital,B", "Used swap space: total − free."),
    field!(
        "used_percent",
        Float,
        "percent,percent",
        "Used swap space in % of total (0 without swap)."
    ),
    field!(
        "in",
        Uint,
        "digital,B",
        "Bytes swapped in from disk since boot (cumulative; pswpin × page size)."
    ),
    field!(
        "out",
        Uint,
        "digital,B",
        "Bytes swapped out to disk since boot (cumulative; pswpout × page size)."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "swap",
    category: Category::Metric,
    description: "Swap space and swap traffic of the host.",
    tags: &[HOST_TAG],
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<SwapConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Swap space and swap traffic from /proc/meminfo and /proc/vmstat.",
    singleton: true,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_files_parse() {
        let meminfo = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/host/meminfo"
        ))
        .unwrap();
        assert_eq!(swap_space(&meminfo), Some((2097148 * 1024, 2097148 * 1024)));
        assert_eq!(
            swap_pages("nr_free_pages 1\npswpin 12\npswpout 34\npswpoutx 9\n"),
            (Some(12), Some(34))
        );
        assert_eq!(swap_pages("nr_free_pages 1\n"), (None, None));
    }

    #[test]
    fn missing_vmstat_drops_in_and_out_and_counts_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::under(dir.path());
        std::fs::create_dir_all(&roots.proc).unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/host/meminfo"),
            roots.proc("meminfo"),
        )
        .unwrap();
        let mut c = SwapCollector::new(&SwapConfig::default(), roots);
        let ctx = super::super::tests::ctx();
        let pts = c.collect(&ctx).unwrap();
        assert!(pts[0].get_field("total").is_some());
        assert!(pts[0].get_field("in").is_none());
        assert_eq!(
            ctx.agent_stats
                .input(NAME)
                .errors
                .load(std::sync::atomic::Ordering::Relaxed),
            1
        );
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &pts, &[]).is_empty());
    }
}
