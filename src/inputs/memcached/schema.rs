//! The `memcached` input's measurements, as data. Only these fields are sent (the original's
//! rule): a `stats` line of another name is left out.

use crate::inputs::host::{field, tag};
use crate::inputs::{FieldSpec, MeasurementSpec, TagSpec};
use crate::point::Category;

const TAGS: &[TagSpec] = &[tag!(
    "server",
    "The server's address (`host:port` or socket path)."
)];

const SLAB_TAGS: &[TagSpec] = &[
    tag!(
        "server",
        "The server's address (`host:port` or socket path)."
    ),
    tag!(
        "slab_id",
        "The slab class (absent on the totals of `stats slabs`)."
    ),
];

pub const STATS_FIELDS: &[FieldSpec] = &[
    field!(
        "accepting_conns",
        Int,
        "bool",
        "1 while the server accepts connections."
    ),
    field!(
        "auth_cmds",
        Int,
        "count",
        "Authentication commands, successful or not."
    ),
    field!("auth_errors", Int, "count", "Failed authentications."),
    field!("bytes", Int, "digital,B", "Bytes the stored items take."),
    field!(
        "bytes_read",
        Int,
        "digital,B",
        "Bytes read from the network."
    ),
    field!(
        "bytes_written",
        Int,
        "digital,B",
        "Bytes sent to the network."
    ),
    field!(
        "cas_badval",
        Int,
        "count",
        "CAS requests whose key was found with another CAS value."
    ),
    field!("cas_hits", Int, "count", "CAS requests that stored."),
    field!("cas_misses", Int, "count", "CAS requests for missing keys."),
    field!("cmd_flush", Int, "count", "`flush_all` requests."),
    field!("cmd_get", Int, "count", "Retrieval requests."),
    field!("cmd_set", Int, "count", "Storage requests."),
    field!("cmd_touch", Int, "count", "`touch` requests."),
    field!(
        "conn_yields",
        Int,
        "count",
        "Times a connection gave way to others after its request limit (`-R`)."
    ),
    field!(
        "connection_structures",
        Int,
        "count",
        "Connection structures the server allocated."
    ),
    field!("curr_connections", Int, "count", "Open connections."),
    field!("curr_items", Int, "count", "Items stored now."),
    field!(
        "decr_hits",
        Int,
        "count",
        "`decr` requests on existing keys."
    ),
    field!(
        "decr_misses",
        Int,
        "count",
        "`decr` requests on missing keys."
    ),
    field!("delete_hits", Int, "count", "Deletes that removed an item."),
    field!("delete_misses", Int, "count", "Deletes of missing keys."),
    field!(
        "evicted_unfetched",
        Int,
        "count",
        "Items evicted without ever being read."
    ),
    field!(
        "evictions",
        Int,
        "count",
        "Valid items evicted to make room."
    ),
    field!(
        "expired_unfetched",
        Int,
        "count",
        "Items expired without ever being read."
    ),
    field!("get_hits", Int, "count", "Keys requested and found."),
    field!("get_misses", Int, "count", "Keys requested and not found."),
    field!("hash_bytes", Int, "digital,B", "Memory of the hash table."),
    field!(
        "hash_is_expanding",
        Int,
        "bool",
        "1 while the hash table grows."
    ),
    field!(
        "hash_power_level",
        Int,
        "count",
        "Hash table size as a power of two."
    ),
    field!(
        "incr_hits",
        Int,
        "count",
        "`incr` requests on existing keys."
    ),
    field!(
        "incr_misses",
        Int,
        "count",
        "`incr` requests on missing keys."
    ),
    field!(
        "limit_maxbytes",
        Int,
        "digital,B",
        "Memory the server may use for items."
    ),
    field!(
        "listen_disabled_num",
        Int,
        "count",
        "Times the server stopped accepting connections at `maxconns`."
    ),
    field!(
        "reclaimed",
        Int,
        "count",
        "Items stored in the memory of an expired item."
    ),
    field!("threads", Int, "count", "Worker threads."),
    field!(
        "total_connections",
        Int,
        "count",
        "Connections opened since the server started."
    ),
    field!(
        "total_items",
        Int,
        "count",
        "Items stored since the server started."
    ),
    field!(
        "touch_hits",
        Int,
        "count",
        "Keys touched with a new expiry."
    ),
    field!("touch_misses", Int, "count", "Touches of missing keys."),
    field!("uptime", Int, "time,s", "Seconds since the server started."),
];

pub const ITEMS_FIELDS: &[FieldSpec] = &[
    field!("number", Int, "count", "Items stored in the slab class."),
    field!("number_hot", Int, "count", "Items in its HOT LRU."),
    field!("number_warm", Int, "count", "Items in its WARM LRU."),
    field!("number_cold", Int, "count", "Items in its COLD LRU."),
    field!(
        "number_noexp",
        Int,
        "count",
        "Items in its no-expiry class."
    ),
    field!("age", Int, "time,s", "Age of its oldest item."),
    field!(
        "evicted",
        Int,
        "count",
        "Items evicted before they expired."
    ),
    field!(
        "evicted_nonzero",
        Int,
        "count",
        "Evicted items that had an expiry set."
    ),
    field!(
        "expired_unfetched",
        Int,
        "count",
        "Expired items never read."
    ),
    field!(
        "evicted_unfetched",
        Int,
        "count",
        "Evicted items never read."
    ),
    field!(
        "evicted_time",
        Int,
        "time,s",
        "Time since the last access of the latest evicted item."
    ),
    field!(
        "outofmemory",
        Int,
        "count",
        "Times the class could not store an item."
    ),
    field!(
        "tailrepairs",
        Int,
        "count",
        "Times memcached repaired a leaked reference."
    ),
    field!(
        "moves_to_cold",
        Int,
        "count",
        "Items moved from HOT or WARM to COLD."
    ),
    field!(
        "moves_to_warm",
        Int,
        "count",
        "Items moved from COLD to WARM."
    ),
    field!(
        "moves_within_lru",
        Int,
        "count",
        "Active items bumped within HOT or WARM."
    ),
    field!(
        "reclaimed",
        Int,
        "count",
        "Items stored in the memory of an expired item."
    ),
    field!(
        "crawler_reclaimed",
        Int,
        "count",
        "Items freed by the LRU crawler."
    ),
    field!(
        "lrutail_reflocked",
        Int,
        "count",
        "Items found locked at the LRU tail."
    ),
    field!(
        "direct_reclaims",
        Int,
        "count",
        "Times a worker pulled LRU tails itself to find memory."
    ),
];

pub const SLABS_FIELDS: &[FieldSpec] = &[
    field!("chunk_size", Int, "digital,B", "Size of each chunk."),
    field!("chunks_per_page", Int, "count", "Chunks in a page."),
    field!("total_pages", Int, "count", "Pages allocated to the class."),
    field!(
        "total_chunks",
        Int,
        "count",
        "Chunks allocated to the class."
    ),
    field!("used_chunks", Int, "count", "Chunks holding items."),
    field!("free_chunks", Int, "count", "Chunks free or freed."),
    field!(
        "free_chunks_end",
        Int,
        "count",
        "Free chunks at the end of the last page."
    ),
    field!("get_hits", Int, "count", "Reads served by the class."),
    field!("cmd_set", Int, "count", "Stores into the class."),
    field!("delete_hits", Int, "count", "Deletes in the class."),
    field!(
        "incr_hits",
        Int,
        "count",
        "`incr` requests that changed the class."
    ),
    field!(
        "decr_hits",
        Int,
        "count",
        "`decr` requests that changed the class."
    ),
    field!(
        "cas_hits",
        Int,
        "count",
        "CAS requests that changed the class."
    ),
    field!(
        "cas_badval",
        Int,
        "count",
        "CAS requests refused for a wrong CAS value."
    ),
    field!("touch_hits", Int, "count", "Touches served by the class."),
    field!(
        "active_slabs",
        Int,
        "count",
        "Slab classes allocated (on the totals point)."
    ),
    field!(
        "total_malloced",
        Int,
        "digital,B",
        "Memory allocated to slab pages (on the totals point)."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[
    MeasurementSpec {
        name: "memcached",
        category: Category::Metric,
        description: "`stats` of a server.",
        tags: TAGS,
        fields: STATS_FIELDS,
    },
    MeasurementSpec {
        name: "memcached_items",
        category: Category::Metric,
        description: "`stats items` per slab class (with `extra_stats = [\"items\"]`).",
        tags: SLAB_TAGS,
        fields: ITEMS_FIELDS,
    },
    MeasurementSpec {
        name: "memcached_slabs",
        category: Category::Metric,
        description: "`stats slabs` per slab class, and a point of the totals without `slab_id` (with `extra_stats = [\"slabs\"]`).",
        tags: SLAB_TAGS,
        fields: SLABS_FIELDS,
    },
];
