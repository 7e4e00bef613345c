//! `mem`: memory from `/proc/meminfo`, in bytes, with the original's formulas:
//! `used = total − free − buffers − (cached + sreclaimable)`, `cached = Cached + SReclaimable`.
//!
//! Fixes against the original: the huge page count is documented under the name the original
//! really emits, `huge_pages_total` (its docs said `huge_page_total`). Keys a kernel does not
//! print (`HighTotal` on 64-bit, ...) are 0, as in the original.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{FileBuf, HOST_TAG, Roots, add_tags, field, host_input_config, mem_used, percent, put};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputSpec, IntervalLimits, MeasurementSpec, entry,
};
use crate::point::{Category, Point};

const NAME: &str = "mem";

config_struct! {
    "Memory use from /proc/meminfo."
    pub struct MemConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(MemConfig, collector: MemCollector::new);

pub struct MemCollector {
    roots: Roots,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
}

impl MemCollector {
    pub fn new(cfg: &MemConfig, roots: Roots) -> Self {
        MemCollector {
            roots,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
        }
    }
}

/// The `mem` point of one meminfo reading.
pub fn mem_point(m: &procfs::Meminfo) -> Point {
    let mut p = Point::new(Category::Metric, NAME);
    let cached = m.cached + m.s_reclaimable.unwrap_or(0);
    // Kernels before 3.14 have no MemAvailable: free + reclaimable caches estimate it.
    let available = m.mem_available.unwrap_or(m.mem_free + m.buffers + cached);
    let used = mem_used(m);
    let total = m.mem_total;
    let o = |v: Option<u64>| v.unwrap_or(0);
    put(&mut p, "total", total);
    put(&mut p, "available", available);
    put(&mut p, "used", used);
    put(&mut p, "used_percent", percent(used as f64, total as f64));
    put(
        &mut p,
        "available_percent",
        percent(available as f64, total as f64),
    );
    put(&mut p, "active", m.active);
    put(&mut p, "inactive", m.inactive);
    put(&mut p, "free", m.mem_free);
    put(&mut p, "buffered", m.buffers);
    put(&mut p, "cached", cached);
    put(&mut p, "commit_limit", o(m.commit_limit));
    put(&mut p, "committed_as", m.committed_as);
    put(&mut p, "dirty", m.dirty);
    put(&mut p, "write_back", m.writeback);
    put(&mut p, "write_back_tmp", o(m.writeback_tmp));
    put(&mut p, "high_free", o(m.high_free));
    put(&mut p, "high_total", o(m.high_total));
    put(&mut p, "low_free", o(m.low_free));
    put(&mut p, "low_total", o(m.low_total));
    put(&mut p, "huge_pages_free", o(m.hugepages_free));
    put(&mut p, "huge_pages_size", o(m.hugepagesize));
    put(&mut p, "huge_pages_total", o(m.hugepages_total));
    put(&mut p, "mapped", m.mapped);
    put(&mut p, "page_tables", o(m.page_tables));
    put(&mut p, "shared", o(m.shmem));
    put(&mut p, "slab", m.slab);
    put(&mut p, "sreclaimable", o(m.s_reclaimable));
    put(&mut p, "sunreclaim", o(m.s_unreclaim));
    put(&mut p, "swap_cached", m.swap_cached);
    put(&mut p, "swap_free", m.swap_free);
    put(&mut p, "swap_total", m.swap_total);
    put(&mut p, "vmalloc_chunk", m.vmalloc_chunk);
    put(&mut p, "vmalloc_total", m.vmalloc_total);
    put(&mut p, "vmalloc_used", m.vmalloc_used);
    p
}

impl Collect for MemCollector {
    fn collect(&mut self, _ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let m: procfs::Meminfo = self
            .buf
            .parse(&self.roots.proc("meminfo"))
            .map_err(|e| e.to_string())?;
        let mut p = mem_point(&m);
        add_tags(&mut p, &self.tags);
        Ok(vec![p])
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!(
        "total",
        Uint,
        "digital,B",
        "Total usable memory (MemTotal)."
    ),
    field!(
        "available",
        Uint,
        "digital,B",
        "Memory available for new programs without swapping (MemAvailable)."
    ),
    field!(
        "used",
        Uint,
        "digital,B",
        "Used memory: total − free − buffered − cached."
    ),
    field!(
        "used_percent",
        Float,
        "percent,percent",
        "Used memory in % of total."
    ),
    field!(
        "available_percent",
        Float,
        "percent,percent",
        "Available memory in % of total."
    ),
    field!(
        "active",
        Uint,
        "digital,B",
        "Memory used recently, not reclaimed unless needed (Active)."
    ),
    field!(
        "inactive",
        Uint,
        "digital,B",
        "Memory not used recently, first to be reclaimed (Inactive)."
    ),
    field!("free", Uint, "digital,B", "Unused memory (MemFree)."),
    field!(
        "buffered",
        Uint,
        "digital,B",
        "Block device buffers (Buffers)."
    ),
    field!(
        "cached",
        Uint,
        "digital,B",
        "Page cache plus reclaimable slab (Cached + SReclaimable)."
    ),
    field!(
        "commit_limit",
        Uint,
        "digital,B",
        "Memory the system can commit under the overcommit policy (CommitLimit)."
    ),
    field!(
        "committed_as",
        Uint,
        "digital,B",
        "Memory allocated by processes, committed or not (Committed_AS)."
    ),
    field!(
        "dirty",
        Uint,
        "digital,B",
        "Memory waiting to be written back to disk (Dirty)."
    ),
    field!(
        "write_back",
        Uint,
        "digital,B",
        "Memory being written back to disk (Writeback)."
    ),
    field!(
        "write_back_tmp",
        Uint,
        "digital,B",
        "Memory used by FUSE for temporary writeback buffers (WritebackTmp)."
    ),
    field!(
        "high_free",
        Uint,
        "digital,B",
        "Free high memory (HighFree; 0 on 64-bit)."
    ),
    field!(
        "high_total",
        Uint,
        "digital,B",
        "Total high memory (HighTotal; 0 on 64-bit)."
    ),
    field!(
        "low_free",
        Uint,
        "digital,B",
        "Free low memory (LowFree; 0 on 64-bit)."
    ),
    field!(
        "low_total",
        Uint,
        "digital,B",
        "Total low memory (LowTotal; 0 on 64-bit)."
    ),
    field!(
        "huge_pages_free",
        Uint,
        "count",
        "Huge pages not yet allocated (HugePages_Free)."
    ),
    field!(
        "huge_pages_size",
        Uint,
        "digital,B",
        "Size of a huge page (Hugepagesize)."
    ),
    field!(
        "huge_pages_total",
        Uint,
        "count",
        "Huge pages in the pool (HugePages_Total)."
    ),
    field!(
        "mapped",
        Uint,
        "digital,B",
        "Files mapped into memory (Mapped)."
    ),
    field!(
        "page_tables",
        Uint,
        "digital,B",
        "Memory of the page tables (PageTables)."
    ),
    field!(
        "shared",
        Uint,
        "digital,B",
        "Shared memory and tmpfs (Shmem)."
    ),
    field!(
        "slab",
        Uint,
        "digital,B",
        "Kernel data structure caches (Slab)."
    ),
    field!(
        "sreclaimable",
        Uint,
        "digital,B",
        "Reclaimable part of the slab (SReclaimable)."
    ),
    field!(
        "sunreclaim",
        Uint,
        "digital,B",
        "Unreclaimable part of the slab (SUnreclaim)."
    ),
    field!(
        "swap_cached",
        Uint,
        "digital,B",
        "Swapped-out memory that is back in RAM and still in the swap file (SwapCached)."
    ),
    field!(
        "swap_free",
        Uint,
        "digital,B",
        "Unused swap space (SwapFree)."
    ),
    field!(
        "swap_total",
        Uint,
        "digital,B",
        "Total swap space (SwapTotal)."
    ),
    field!(
        "vmalloc_chunk",
        Uint,
        "digital,B",
        "Largest free block of the vmalloc area (VmallocChunk)."
    ),
    field!(
        "vmalloc_total",
        Uint,
        "digital,B",
        "Size of the vmalloc area (VmallocTotal)."
    ),
    field!(
        "vmalloc_used",
        Uint,
        "digital,B",
        "Used part of the vmalloc area (VmallocUsed)."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "mem",
    category: Category::Metric,
    description: "Memory use of the host.",
    tags: &[HOST_TAG],
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<MemConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Memory use (used, available, cached, buffers, slab, huge pages, ...) from /proc/meminfo.",
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
    use crate::point::Value;
    use procfs::FromRead;

    #[test]
    fn fixture_meminfo_uses_the_original_formulas() {
        let text = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/host/meminfo"
        ))
        .unwrap();
        let m = procfs::Meminfo::from_read(&text[..]).unwrap();
        let p = mem_point(&m);
        let u = |k: &str| match p.get_field(k) {
            Some(Value::Uint(v)) => *v,
            other => panic!("{k}: {other:?}"),
        };
        // MemTotal 16303140 kB, MemFree 9000000, Buffers 200000, Cached 3000000, SReclaimable 300000.
        assert_eq!(u("total"), 16303140 * 1024);
        assert_eq!(u("cached"), 3_300_000 * 1024);
        assert_eq!(u("used"), (16303140 - 9000000 - 200000 - 3300000) * 1024);
        assert_eq!(u("huge_pages_size"), 2048 * 1024);
        assert_eq!(u("huge_pages_total"), 0);
        assert_eq!(u("high_total"), 0);
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &[p], &[]).is_empty());
    }
}
