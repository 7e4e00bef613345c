//! Redis's answers made into points, as the original names them: `INFO` (the info point, its
//! `errorstat_*` and `latency_percentiles_usec_*` lines, and its `Keyspace`, `Commandstats`
//! and `Replication` sections), `CLIENT LIST`, `LATENCY LATEST`, `SLOWLOG GET` and
//! `CONFIG GET *`.
//!
//! Everything here reads text or replies a server sent: a line it cannot read is skipped (as
//! the original does), never a panic.

use std::collections::HashMap;

use super::resp::Reply;
use crate::point::{Category, Point, Value};

/// The names of the metric points: with `measurement_version` v2 and later all are `redis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Names {
    pub v2: bool,
}

impl Names {
    pub fn metric(self, v1: &'static str) -> &'static str {
        if self.v2 { "redis" } else { v1 }
    }
}

/// The tags every point of a target gets (`host`, `server`, the input's `tags`).
pub type BaseTags = [(String, String)];

fn with_tags(mut p: Point, tags: &BaseTags) -> Point {
    for (k, v) in tags {
        p.add_tag_if_absent(k, v);
    }
    p
}

/// INFO's text as (section, key, value) lines.
pub fn info_lines(info: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    let mut section = "";
    info.lines().filter_map(move |line| {
        let line = line.trim_end_matches('\r');
        if let Some(s) = line.strip_prefix('#') {
            section = s.trim();
            return None;
        }
        // The original splits on every `:` and skips lines with more than one.
        let (k, v) = line.split_once(':')?;
        if v.contains(':') {
            return None;
        }
        Some((section, k, v.trim()))
    })
}

/// What the info point says about the server, kept for the other points.
#[derive(Debug, Default, Clone)]
pub struct InfoTags {
    pub tags: Vec<(String, String)>,
}

/// CPU seconds at the last collection, for the `used_cpu_*_percent` fields.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuSeconds {
    pub sys: f64,
    pub user: f64,
}

/// Points from `INFO ALL`: the info point (with `info_latency_ms`), one per `errorstat_*` line,
/// and with `latency_percentiles` one per quantile of each command. `prev_cpu` is updated.
#[allow(clippy::too_many_arguments)]
pub fn info_points(
    info: &str,
    names: Names,
    tags: &BaseTags,
    latency_ms: i64,
    latency_percentiles: bool,
    prev_cpu: &mut Option<CpuSeconds>,
    interval_secs: f64,
) -> (Vec<Point>, InfoTags) {
    let name = names.metric("redis_info");
    let mut p = Point::new(Category::Metric, name);
    let mut extra = Vec::new();
    let mut info_tags = InfoTags::default();
    p.set_field("info_latency_ms", Value::Int(latency_ms));
    let mut total_sys_mem = 0.0;
    for (_, k, v) in info_lines(info) {
        if let Some(kind) = k.strip_prefix("errorstat_") {
            // `errorstat_ERR:count=3`
            let n = v.rsplit('=').next().and_then(|s| s.parse::<i64>().ok());
            if let Some(n) = n {
                let mut e = Point::new(Category::Metric, name);
                e.set_tag("error_type", kind);
                e.set_field("errorstat", Value::Int(n));
                extra.push(e);
            }
            continue;
        }
        if let Some(cmd) = k.strip_prefix("latency_percentiles_usec_") {
            if latency_percentiles {
                let cmd = if cmd.is_empty() { "unknow" } else { cmd };
                for (q, value) in latency_quantiles(v) {
                    let mut e = Point::new(Category::Metric, name);
                    e.set_tag("command_type", cmd);
                    e.set_tag("quantile", q);
                    e.set_field("latency_percentiles_usec", Value::Float(value));
                    extra.push(e);
                }
            }
            continue;
        }
        match v {
            "ok" => {
                p.set_field(k, Value::Int(0));
                continue;
            }
            "err" => {
                p.set_field(k, Value::Int(-1));
                continue;
            }
            _ => {}
        }
        if let Some(num) = v.strip_suffix('%') {
            if let Ok(f) = num.parse::<f64>() {
                p.set_field(k, Value::Float(f));
            }
            continue;
        }
        match k {
            "role" | "redis_mode" | "redis_version" | "os" | "maxmemory_policy" => {
                let v = if v.is_empty() { "unknow" } else { v };
                info_tags.tags.push((k.to_string(), v.to_string()));
                continue;
            }
            "process_id" | "tcp_port" | "master_replid2" | "master_replid" => continue,
            _ => {}
        }
        if let Some(mut f) = parse_go_float(v) {
            if k.ends_with("_kbps") {
                f *= 1000.0;
            }
            if k == "total_system_memory" {
                total_sys_mem = f;
            }
            p.set_field(k, Value::Float(f));
        }
    }
    if matches!(p.get_field("maxmemory"), Some(Value::Float(m)) if *m == 0.0) {
        p.set_field("maxmemory", Value::Float(total_sys_mem));
    }
    let f = |p: &Point, k| match p.get_field(k) {
        Some(Value::Float(x)) => *x,
        _ => 0.0,
    };
    let cpu = CpuSeconds {
        sys: f(&p, "used_cpu_sys"),
        user: f(&p, "used_cpu_user"),
    };
    if let Some(prev) = prev_cpu.as_ref()
        && interval_secs > 0.0
    {
        p.set_field(
            "used_cpu_sys_percent",
            Value::Float((cpu.sys - prev.sys) / interval_secs * 100.0),
        );
        p.set_field(
            "used_cpu_user_percent",
            Value::Float((cpu.user - prev.user) / interval_secs * 100.0),
        );
    }
    *prev_cpu = Some(cpu);
    let mut out = Vec::with_capacity(1 + extra.len());
    for mut e in std::iter::once(p).chain(extra) {
        for (k, v) in &info_tags.tags {
            e.add_tag_if_absent(k, v);
        }
        out.push(with_tags(e, tags));
    }
    (out, info_tags)
}

/// A number as Go's `strconv.ParseFloat` reads it (no `inf`/`nan` words: Redis prints none in
/// INFO, and a line protocol field cannot carry them).
fn parse_go_float(v: &str) -> Option<f64> {
    if v.is_empty()
        || v.bytes()
            .any(|b| b.is_ascii_alphabetic() && b != b'e' && b != b'E')
    {
        return None;
    }
    v.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `p50=1.003,p99=2.007,p99.9=3.007` → (quantile, value) with the quantile as a fraction
/// written without trailing zeros (`0.5`, `0.99`, `0.999`), as the original tags it.
pub fn latency_quantiles(v: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for item in v.split(',') {
        let Some((q, value)) = item.split_once('=') else {
            continue;
        };
        let Some(q) = q.strip_prefix('p') else {
            continue;
        };
        let (Ok(qf), Ok(value)) = (q.parse::<f64>(), value.parse::<f64>()) else {
            continue;
        };
        if !(0.0..=100.0).contains(&qf) || !value.is_finite() {
            continue;
        }
        let text = format!("{:.8}", qf / 100.0);
        let text = text.trim_end_matches('0').trim_end_matches('.').to_string();
        if text.split_once('.').is_some_and(|(_, d)| d.len() > 6) {
            continue;
        }
        out.push((text, value));
    }
    out
}

/// The `Keyspace` section: one point per database (`db0:keys=1,expires=0,avg_ttl=0`), only
/// those in `dbs` unless it is empty.
pub fn keyspace_points(info: &str, names: Names, tags: &BaseTags, dbs: &[i64]) -> Vec<Point> {
    let mut out = Vec::new();
    for (section, k, v) in info_lines(info) {
        if !section.eq_ignore_ascii_case("keyspace") {
            continue;
        }
        let Some(index) = k.strip_prefix("db").and_then(|i| i.parse::<i64>().ok()) else {
            continue;
        };
        if !dbs.is_empty() && !dbs.contains(&index) {
            continue;
        }
        let mut p = Point::new(Category::Metric, names.metric("redis_db"));
        p.set_tag("db_name", k);
        for (fk, fv) in kv_pairs(v) {
            if let Some(f) = parse_go_float(fv) {
                p.set_field(fk, Value::Float(f));
            }
        }
        if !p.fields.is_empty() {
            out.push(with_tags(p, tags));
        }
    }
    out
}

fn kv_pairs(v: &str) -> impl Iterator<Item = (&str, &str)> {
    v.split(',').filter_map(|i| i.split_once('='))
}

/// The `Commandstats` section: one point per command (`cmdstat_get:calls=2,usec=5,...`),
/// tagged `method`.
pub fn command_points(info: &str, names: Names, tags: &BaseTags) -> Vec<Point> {
    let mut out = Vec::new();
    for (section, k, v) in info_lines(info) {
        if !section.eq_ignore_ascii_case("commandstats") {
            continue;
        }
        let method = k.strip_prefix("cmdstat_").unwrap_or(k);
        let mut p = Point::new(Category::Metric, names.metric("redis_command_stat"));
        p.set_tag("method", method);
        for (fk, fv) in kv_pairs(v) {
            if let Some(f) = parse_go_float(fv) {
                p.set_field(fk, Value::Float(f));
            }
        }
        if !p.fields.is_empty() {
            out.push(with_tags(p, tags));
        }
    }
    out
}

/// The `Replication` section: a point per replication field the original keeps
/// (`master_link_status` as 1/0; with v1 names also `master_repl_offset` and
/// `master_link_down_since_seconds`) and one per connected replica (`slaveN:ip=..`).
pub fn replication_points(info: &str, names: Names, tags: &BaseTags) -> Vec<Point> {
    let mut out = Vec::new();
    let (mut master_host, mut master_port) = ("", "");
    for (section, k, v) in info_lines(info) {
        if !section.eq_ignore_ascii_case("replication") {
            continue;
        }
        match k {
            "master_host" => master_host = v,
            "master_port" => master_port = v,
            _ => {}
        }
        let mut p = Point::new(Category::Metric, names.metric("redis_replica"));
        match k {
            "master_link_status" => match v {
                "up" => p.set_field(k, Value::Int(1)),
                "down" => p.set_field(k, Value::Int(0)),
                _ => continue,
            },
            "master_repl_offset" | "master_link_down_since_seconds" if !names.v2 => {
                if let Some(f) = parse_go_float(v) {
                    p.set_field(k, Value::Float(f));
                }
            }
            _ => {}
        }
        if let Some(id) = k.strip_prefix("slave")
            && !id.is_empty()
            && id.bytes().all(|b| b.is_ascii_digit())
        {
            let mut kv: HashMap<&str, &str> = kv_pairs(v).collect();
            if v.split(',').count() == 5 {
                let num = |kv: &mut HashMap<&str, &str>, key| {
                    kv.remove(key).and_then(parse_go_float).unwrap_or(0.0)
                };
                p.set_tag("slave_id", id);
                p.set_tag(
                    "slave_addr",
                    format!(
                        "{}:{}",
                        kv.get("ip").copied().unwrap_or(""),
                        kv.get("port").copied().unwrap_or("")
                    ),
                );
                p.set_tag("slave_state", kv.get("state").copied().unwrap_or(""));
                p.set_field("slave_offset", Value::Float(num(&mut kv, "offset")));
                p.set_field("slave_lag", Value::Float(num(&mut kv, "lag")));
            }
        }
        if !master_host.is_empty() && !master_port.is_empty() {
            p.set_tag("master_addr", format!("{master_host}:{master_port}"));
        }
        if !p.fields.is_empty() {
            out.push(with_tags(p, tags));
        }
    }
    out
}

/// One client of `CLIENT LIST`.
#[derive(Debug, Default, Clone)]
struct Client<'a> {
    raw: &'a str,
    strs: Vec<(&'static str, String)>,
    ints: Vec<(&'static str, i64)>,
    flags: &'a str,
}

impl Client<'_> {
    fn int(&self, k: &str) -> i64 {
        self.ints
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| *v)
            .unwrap_or(0)
    }
}

/// The client-list keys the original reads, as (key in the list, field name, numeric).
const CLIENT_KEYS: &[(&str, &str, bool)] = &[
    ("addr", "addr", false),
    ("laddr", "laddr", false),
    ("flags", "flags", false),
    ("db", "db", false),
    ("events", "events", false),
    ("cmd", "cmd", false),
    ("user", "user", false),
    ("name", "name", false),
    ("fd", "fd", true),
    ("id", "id", true),
    ("age", "age", true),
    ("idle", "idle", true),
    ("sub", "sub", true),
    ("psub", "psub", true),
    ("ssub", "ssub", true),
    ("multi", "multi", true),
    ("watch", "watch", true),
    ("qbuf", "qbuf", true),
    ("qbuf-free", "qbuf-free", true),
    ("argv-mem", "argv-mem", true),
    ("multi-mem", "multi-mem", true),
    ("obl", "obl", true),
    ("oll", "oll", true),
    ("omem", "omem", true),
    ("tot-mem", "tot-mem", true),
    ("redir", "redir", true),
    ("resp", "resp", true),
    ("rbp", "rbp", true),
    ("rbs", "rbs", true),
    ("io-thread", "io-thread", true),
    ("tot-net-in", "tot-netin", true),
    ("tot-net-out", "tot-netout", true),
    ("tot-cmds", "tot-cmds", true),
];

/// What each client flag is called in the clients-stat point, and the level a client with it
/// is logged at (higher wins).
pub const FLAGS: &[(u8, &str, &str)] = &[
    (b'A', "flag_closing_asap", "ok"),
    (b'B', "flag_tracking_broadcast_mode", "info"),
    (b'M', "flag_master_connection", "ok"),
    (b'N', "flag_normal", "ok"),
    (b'O', "flag_monitor_mode", "warn"),
    (b'P', "flag_pubsub_subscriber", "ok"),
    (b'R', "flag_tracking_redir_invalid", "warn"),
    (b'S', "flag_replica_connection", "ok"),
    (b'T', "flag_tracking_no_touch", "info"),
    (b'U', "flag_unix_socket", "info"),
    (b'b', "flag_blocked_on_command", "critical"),
    (b'c', "flag_closing_after_reply", "debug"),
    (b'd', "flag_transaction_dirty", "debug"),
    (b'e', "flag_eviction_exempt", "info"),
    (b'i', "flag_vm_io_wait", "debug"),
    (b'r', "flag_cluster_readonly", "info"),
    (b't', "flag_client_side_caching", "info"),
    (b'u', "flag_unblocked", "debug"),
    (b'x', "flag_in_transaction", "warn"),
];

const LEVELS: &[&str] = &["debug", "ok", "info", "notice", "warn", "error", "critical"];

fn level_of(flags: &str) -> &'static str {
    let mut best = 0;
    for b in flags.bytes() {
        if let Some((_, _, l)) = FLAGS.iter().find(|(f, _, _)| *f == b) {
            let i = LEVELS.iter().position(|x| x == l).unwrap_or(0);
            best = best.max(i);
        }
    }
    LEVELS[best]
}

fn parse_clients(list: &str) -> Vec<Client<'_>> {
    let mut out = Vec::new();
    for line in list.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut c = Client {
            raw: line,
            ..Default::default()
        };
        for part in line.split(' ') {
            let Some((k, v)) = part.split_once('=') else {
                continue;
            };
            if v.is_empty() || v.contains('=') {
                continue;
            }
            let Some(&(_, field, numeric)) = CLIENT_KEYS.iter().find(|(key, _, _)| *key == k)
            else {
                continue;
            };
            if numeric {
                c.ints.push((field, v.parse::<i64>().unwrap_or(0)));
            } else if k == "db" {
                c.strs.push((field, format!("db{v}")));
            } else {
                if k == "flags" {
                    c.flags = v;
                }
                c.strs.push((field, v.to_string()));
            }
        }
        out.push(c);
    }
    out
}

/// From `CLIENT LIST`: the clients-stat metric point (sums and maxima over the clients, a
/// count per flag) and a `redis_client` logging point per client with one of `log_on_flags`.
pub fn client_points(
    list: &str,
    names: Names,
    tags: &BaseTags,
    log_on_flags: &str,
) -> (Vec<Point>, Vec<Point>) {
    let clients = parse_clients(list);
    let mut logs = Vec::new();
    let mut flag_counts: Vec<(u8, i64)> = Vec::new();
    let (mut maxidle, mut maxmulti, mut maxobl, mut maxqbuf, mut maxtotmem) = (0, 0, 0, 0, 0);
    let mut sums = [0f64; 10];
    for c in &clients {
        if c.flags
            .bytes()
            .any(|f| log_on_flags.as_bytes().contains(&f))
        {
            let mut p = Point::new(Category::Logging, "redis_client");
            for &(_, name, numeric) in CLIENT_KEYS {
                if numeric {
                    p.set_field(name, Value::Int(c.int(name)));
                } else {
                    let v = c
                        .strs
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("");
                    p.set_field(name, Value::Str(v.to_string()));
                }
            }
            p.set_field("status", level_of(c.flags));
            p.set_field("message", c.raw);
            logs.push(with_tags(p, tags));
        }
        for f in c.flags.bytes() {
            match flag_counts.iter_mut().find(|(x, _)| *x == f) {
                Some(slot) => slot.1 += 1,
                None => flag_counts.push((f, 1)),
            }
        }
        let pos = |v: i64| if v > 0 { v as f64 } else { 0.0 };
        sums[0] += pos(c.int("sub"));
        sums[1] += pos(c.int("psub"));
        sums[2] += pos(c.int("ssub"));
        let multi = c.int("multi");
        if multi > 0 {
            sums[3] += multi as f64;
            maxmulti = maxmulti.max(multi);
        }
        let totmem = c.int("tot-mem");
        if totmem > 0 {
            sums[4] += totmem as f64;
            maxtotmem = maxtotmem.max(totmem);
        }
        sums[5] += pos(c.int("tot-netin"));
        sums[6] += pos(c.int("tot-netout"));
        sums[7] += pos(c.int("tot-cmds"));
        sums[8] += c.int("obl") as f64;
        maxobl = maxobl.max(c.int("obl"));
        sums[9] += c.int("qbuf") as f64;
        maxqbuf = maxqbuf.max(c.int("qbuf"));
        maxidle = maxidle.max(c.int("idle"));
    }
    let mut p = Point::new(Category::Metric, names.metric("redis_clients_stat"));
    p.set_field("max_idle", Value::Int(maxidle));
    p.set_field("max_multi", Value::Int(maxmulti));
    p.set_field("max_obl", Value::Int(maxobl));
    p.set_field("max_qbuf", Value::Int(maxqbuf));
    p.set_field("max_totmem", Value::Int(maxtotmem));
    // The original divides by the number of clients even when there is none (NaN, which the
    // line protocol cannot carry): 0 then.
    let avg = if clients.is_empty() {
        0.0
    } else {
        sums[3] / clients.len() as f64
    };
    p.set_field("multi_avg", Value::Float(avg));
    p.set_field("multi_total", Value::Float(sums[3]));
    p.set_field("total_cmds", Value::Float(sums[7]));
    p.set_field("total_netin", Value::Float(sums[5]));
    p.set_field("total_netout", Value::Float(sums[6]));
    p.set_field("total_obl", Value::Float(sums[8]));
    p.set_field("total_psub", Value::Float(sums[1]));
    p.set_field("total_qbuf", Value::Float(sums[9]));
    p.set_field("total_ssub", Value::Float(sums[2]));
    p.set_field("total_sub", Value::Float(sums[0]));
    p.set_field("total_totmem", Value::Float(sums[4]));
    for (f, n) in flag_counts {
        match FLAGS.iter().find(|(x, _, _)| *x == f) {
            Some((_, name, _)) => p.set_field(*name, Value::Int(n)),
            None => p.set_field(format!("flag_unknown_{}", f as char), Value::Int(n)),
        }
    }
    (vec![with_tags(p, tags)], logs)
}

/// From `LATENCY LATEST` (`[[event, unix time, latest ms, max ms], ...]`): a `redis_latency`
/// logging point per event whose latest spike is new since `seen` (updated).
pub fn latency_points(
    reply: &Reply,
    tags: &BaseTags,
    seen: &mut HashMap<String, i64>,
) -> Vec<Point> {
    let Reply::Array(Some(events)) = reply else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in events {
        let Reply::Array(Some(items)) = e else {
            continue;
        };
        let (Some(name), Some(Reply::Int(at)), Some(Reply::Int(latest)), Some(Reply::Int(max))) = (
            items.first().and_then(Reply::text),
            items.get(1),
            items.get(2),
            items.get(3),
        ) else {
            continue;
        };
        if seen.get(&name) == Some(at) {
            continue;
        }
        seen.insert(name.clone(), *at);
        let mut p = Point::new(Category::Logging, "redis_latency");
        p.time = at.saturating_mul(1_000_000_000);
        p.set_field("event_name", name.as_str());
        p.set_field("occur_time", Value::Int(*at));
        p.set_field("cost_time", Value::Int(*latest));
        p.set_field("max_cost_time", Value::Int(*max));
        p.set_field(
            "message",
            format!("{name} cost time {latest}ms,max_cost_time {max}ms"),
        );
        out.push(with_tags(p, tags));
    }
    out
}

/// What the slow-log collector remembers between collections.
#[derive(Debug, Default)]
pub struct SlowlogState {
    /// Entries older than this (Unix seconds) are not sent unless `all`.
    pub since: i64,
    /// The newest entry id sent (slow-log ids only grow).
    pub last_id: Option<i64>,
}

/// From `SLOWLOG GET n`: a `redis_slowlog` logging point per entry not sent before, with the
/// statistics of the durations read so far in the reply (as the original computes them).
pub fn slowlog_points(
    reply: &Reply,
    tags: &BaseTags,
    all: bool,
    state: &mut SlowlogState,
) -> Vec<Point> {
    let Reply::Array(Some(entries)) = reply else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut costs: Vec<i64> = Vec::new();
    let mut newest = state.last_id;
    for e in entries {
        let Reply::Array(Some(items)) = e else {
            continue;
        };
        let (Some(Reply::Int(id)), Some(Reply::Int(start)), Some(Reply::Int(cost))) =
            (items.first(), items.get(1), items.get(2))
        else {
            continue;
        };
        costs.push(*cost);
        newest = Some(newest.map_or(*id, |n: i64| n.max(*id)));
        if !all && (*start < state.since || state.last_id.is_some_and(|l| *id <= l)) {
            continue;
        }
        let command = match items.get(3) {
            Some(Reply::Array(Some(args))) => args
                .iter()
                .filter_map(Reply::text)
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        };
        let mut p = Point::new(Category::Logging, "redis_slowlog");
        p.set_field("slowlog_micros", Value::Int(*cost));
        p.set_field("slowlog_id", Value::Int(*id));
        p.set_field("message", format!("{command} cost time {cost}us"));
        p.set_field("command", command);
        p.set_field("status", "WARNING");
        let (avg, max, median, p95) = stats(&costs);
        p.set_field("slowlog_avg", Value::Float(avg));
        p.set_field("slowlog_max", Value::Int(max));
        p.set_field("slowlog_median", Value::Int(median as i64));
        p.set_field("slowlog_95percentile", Value::Float(p95));
        if let Some(addr) = items.get(4).and_then(Reply::text) {
            p.set_field("client_addr", addr);
        }
        if let Some(name) = items.get(5).and_then(Reply::text) {
            p.set_field("client_name", name);
        }
        out.push(with_tags(p, tags));
    }
    state.last_id = newest;
    out
}

/// Mean, maximum, median and 95th percentile (nearest rank) of `v` (not empty).
fn stats(v: &[i64]) -> (f64, i64, f64, f64) {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n == 0 {
        return (0.0, 0, 0.0, 0.0);
    }
    let mean = s.iter().map(|x| *x as f64).sum::<f64>() / n as f64;
    let median = if n.is_multiple_of(2) {
        (s[n / 2 - 1] as f64 + s[n / 2] as f64) / 2.0
    } else {
        s[n / 2] as f64
    };
    let rank = ((0.95 * n as f64).ceil() as usize).clamp(1, n);
    (mean, s[n - 1], median, s[rank - 1] as f64)
}

/// Keys whose values are credentials: shown as `******` when set.
const SECRETS: &[&str] = &[
    "requirepass",
    "masterauth",
    "tls-key-file-pass",
    "tls-client-key-file-pass",
];

/// From `CONFIG GET *` (name, value pairs): the `redis_config` logging point (numbers, yes →
/// 1, no → -1, other text as strings, secrets masked) and one per limit of
/// `client-output-buffer-limit`.
pub fn config_points(reply: &Reply, tags: &BaseTags) -> Vec<Point> {
    let Reply::Array(Some(items)) = reply else {
        return Vec::new();
    };
    let mut p = Point::new(Category::Logging, "redis_config");
    let mut out = Vec::new();
    for pair in items.chunks_exact(2) {
        let (Some(raw), Some(value)) = (pair[0].text(), pair[1].text()) else {
            continue;
        };
        let value = if value.is_empty() {
            "not-set".to_string()
        } else {
            value
        };
        let key = raw.replace('-', "_");
        if raw == "client-output-buffer-limit" {
            out.extend(output_buffer_limits(&value));
            continue;
        }
        if SECRETS.contains(&raw.as_str()) {
            let shown = if value == "not-set" {
                "not-set"
            } else {
                "******"
            };
            p.set_field(key, shown);
            continue;
        }
        let v = match value.as_str() {
            "yes" => Value::Int(1),
            "no" => Value::Int(-1),
            s => match s.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => Value::Str(value.clone()),
            },
        };
        p.set_field(key, v);
    }
    out.push(p);
    out.into_iter().map(|p| with_tags(p, tags)).collect()
}

fn output_buffer_limits(s: &str) -> Vec<Point> {
    let parts: Vec<&str> = s.split(' ').collect();
    let mut out = Vec::new();
    for c in parts.chunks_exact(4) {
        let class = c[0];
        let limits = [
            (c[1], "client_output_buffer_limit_bytes", "hard"),
            (c[2], "client_output_buffer_limit_bytes", "soft"),
            (c[3], "client_output_buffer_limit_overcome_seconds", "soft"),
        ];
        for (v, field, kind) in limits {
            if let Some(f) = parse_go_float(v) {
                let mut p = Point::new(Category::Logging, "redis_config");
                p.set_tag("class", format!("{class}.{kind}"));
                p.set_field(field, Value::Float(f));
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2: Names = Names { v2: true };

    fn tags() -> Vec<(String, String)> {
        vec![
            ("host".into(), "localhost".into()),
            ("server".into(), "localhost:6379".into()),
        ]
    }

    const INFO: &str = "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux 6.1\r\nprocess_id:12\r\nexecutable:/usr/bin/redis-server\r\nuptime_in_seconds:30\r\n\r\n# Memory\r\nused_memory:1000\r\nused_memory_human:1000B\r\nmaxmemory:0\r\ntotal_system_memory:4096\r\nmaxmemory_policy:noeviction\r\n\r\n# Persistence\r\nrdb_last_bgsave_status:ok\r\naof_last_write_status:err\r\n\r\n# Stats\r\ninstantaneous_input_kbps:1.5\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:1\r\nslave0:ip=127.0.0.1,port=6380,state=online,offset=42,lag=1\r\nmaster_repl_offset:42\r\n\r\n# CPU\r\nused_cpu_sys:1.5\r\nused_cpu_user:2.0\r\n\r\n# Errorstats\r\nerrorstat_ERR:count=3\r\n\r\n# Latencystats\r\nlatency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=3.007\r\n\r\n# Commandstats\r\ncmdstat_get:calls=2,usec=5,usec_per_call=2.50,rejected_calls=0,failed_calls=0\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=100\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n";

    #[test]
    fn the_info_point_follows_the_originals_rules() {
        let mut cpu = None;
        let (pts, it) = info_points(INFO, V2, &tags(), 2, true, &mut cpu, 15.0);
        let p = &pts[0];
        assert_eq!(p.name, "redis");
        assert_eq!(p.get_tag("redis_version"), Some("7.0.15"));
        assert_eq!(p.get_tag("role"), Some("master"));
        assert_eq!(p.get_tag("maxmemory_policy"), Some("noeviction"));
        assert_eq!(p.get_tag("server"), Some("localhost:6379"));
        assert_eq!(p.get_field("used_memory"), Some(&Value::Float(1000.0)));
        assert_eq!(p.get_field("used_memory_human"), None);
        assert_eq!(p.get_field("process_id"), None);
        assert_eq!(p.get_field("maxmemory"), Some(&Value::Float(4096.0)));
        assert_eq!(p.get_field("rdb_last_bgsave_status"), Some(&Value::Int(0)));
        assert_eq!(p.get_field("aof_last_write_status"), Some(&Value::Int(-1)));
        assert_eq!(
            p.get_field("instantaneous_input_kbps"),
            Some(&Value::Float(1500.0))
        );
        assert_eq!(p.get_field("info_latency_ms"), Some(&Value::Int(2)));
        assert_eq!(p.get_field("used_cpu_sys_percent"), None, "first: primed");
        assert_eq!(it.tags.len(), 5);
        let err = pts
            .iter()
            .find(|p| p.get_tag("error_type") == Some("ERR"))
            .unwrap();
        assert_eq!(err.get_field("errorstat"), Some(&Value::Int(3)));
        let q: Vec<_> = pts.iter().filter_map(|p| p.get_tag("quantile")).collect();
        assert_eq!(q, ["0.5", "0.99", "0.999"]);
        let next = INFO.replace("used_cpu_sys:1.5", "used_cpu_sys:3.0");
        let (pts, _) = info_points(&next, V2, &tags(), 2, false, &mut cpu, 15.0);
        assert_eq!(
            pts[0].get_field("used_cpu_sys_percent"),
            Some(&Value::Float(10.0))
        );
        assert!(pts.iter().all(|p| p.get_tag("quantile").is_none()));
    }

    #[test]
    fn sections_become_their_points() {
        let db = keyspace_points(INFO, V2, &tags(), &[0]);
        assert_eq!(db.len(), 1);
        assert_eq!(db[0].get_tag("db_name"), Some("db0"));
        assert_eq!(db[0].get_field("keys"), Some(&Value::Float(3.0)));
        assert_eq!(keyspace_points(INFO, V2, &tags(), &[]).len(), 2);
        let v1 = keyspace_points(INFO, Names { v2: false }, &tags(), &[]);
        assert_eq!(v1[0].name, "redis_db");

        let cmd = command_points(INFO, V2, &tags());
        assert_eq!(cmd.len(), 1);
        assert_eq!(cmd[0].get_tag("method"), Some("get"));
        assert_eq!(cmd[0].get_field("usec_per_call"), Some(&Value::Float(2.5)));

        let rep = replication_points(INFO, V2, &tags());
        assert_eq!(rep.len(), 1, "{rep:?}");
        assert_eq!(rep[0].get_tag("slave_addr"), Some("127.0.0.1:6380"));
        assert_eq!(rep[0].get_field("slave_offset"), Some(&Value::Float(42.0)));
        let rep = replication_points(INFO, Names { v2: false }, &tags());
        assert!(
            rep.iter()
                .any(|p| p.get_field("master_repl_offset").is_some())
        );
        let slave = "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\nmaster_link_status:down\r\n";
        let rep = replication_points(slave, V2, &tags());
        assert_eq!(rep[0].get_field("master_link_status"), Some(&Value::Int(0)));
        assert_eq!(rep[0].get_tag("master_addr"), Some("10.0.0.1:6379"));
    }

    #[test]
    fn clients_are_summed_and_flagged_ones_logged() {
        let list = "id=3 addr=127.0.0.1:5000 laddr=127.0.0.1:6379 fd=8 name= age=10 idle=4 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 obl=0 oll=0 omem=0 tot-mem=22298 events=r cmd=client|list user=default redir=-1 resp=2\n\
id=4 addr=127.0.0.1:5001 laddr=127.0.0.1:6379 fd=9 name=w age=3 idle=0 flags=b db=1 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 obl=0 oll=0 omem=0 tot-mem=1000 events=r cmd=blpop user=default redir=-1 resp=2\n";
        let (m, l) = client_points(list, V2, &tags(), "bxOR");
        assert_eq!(m[0].get_field("max_idle"), Some(&Value::Int(4)));
        assert_eq!(m[0].get_field("total_totmem"), Some(&Value::Float(23298.0)));
        assert_eq!(m[0].get_field("flag_normal"), Some(&Value::Int(1)));
        assert_eq!(
            m[0].get_field("flag_blocked_on_command"),
            Some(&Value::Int(1))
        );
        assert_eq!(l.len(), 1);
        assert_eq!(
            l[0].get_field("status"),
            Some(&Value::Str("critical".into()))
        );
        assert_eq!(l[0].get_field("db"), Some(&Value::Str("db1".into())));
        assert_eq!(l[0].get_field("name"), Some(&Value::Str("w".into())));
        let (m, l) = client_points("", V2, &tags(), "bxOR");
        assert_eq!(m[0].get_field("multi_avg"), Some(&Value::Float(0.0)));
        assert!(l.is_empty());
    }

    fn arr(v: Vec<Reply>) -> Reply {
        Reply::Array(Some(v))
    }
    fn bulk(s: &str) -> Reply {
        Reply::Bulk(Some(s.as_bytes().to_vec()))
    }

    #[test]
    fn slowlog_entries_are_sent_once() {
        let entry = |id, start, cost| {
            arr(vec![
                Reply::Int(id),
                Reply::Int(start),
                Reply::Int(cost),
                arr(vec![bulk("DEBUG"), bulk("SLEEP"), bulk("0.1")]),
                bulk("127.0.0.1:5000"),
                bulk(""),
            ])
        };
        let r = arr(vec![
            entry(2, 200, 300),
            entry(1, 150, 100),
            entry(0, 50, 9),
        ]);
        let mut st = SlowlogState {
            since: 100,
            last_id: None,
        };
        let pts = slowlog_points(&r, &tags(), false, &mut st);
        assert_eq!(pts.len(), 2, "the entry before start-up is left out");
        assert_eq!(
            pts[0].get_field("command"),
            Some(&Value::Str("DEBUG SLEEP 0.1".into()))
        );
        assert_eq!(pts[1].get_field("slowlog_avg"), Some(&Value::Float(200.0)));
        assert_eq!(pts[1].get_field("slowlog_max"), Some(&Value::Int(300)));
        assert_eq!(st.last_id, Some(2));
        assert!(slowlog_points(&r, &tags(), false, &mut st).is_empty());
        assert_eq!(slowlog_points(&r, &tags(), true, &mut st).len(), 3);
    }

    #[test]
    fn latency_and_config_replies() {
        let r = arr(vec![arr(vec![
            bulk("command"),
            Reply::Int(1700000000),
            Reply::Int(250),
            Reply::Int(300),
        ])]);
        let mut seen = HashMap::new();
        let pts = latency_points(&r, &tags(), &mut seen);
        assert_eq!(pts[0].get_field("cost_time"), Some(&Value::Int(250)));
        assert_eq!(pts[0].time, 1_700_000_000_000_000_000);
        assert!(latency_points(&r, &tags(), &mut seen).is_empty());

        let c = arr(vec![
            bulk("maxmemory"),
            bulk("0"),
            bulk("appendonly"),
            bulk("no"),
            bulk("requirepass"),
            bulk("s3cret"),
            bulk("dir"),
            bulk("/tmp"),
            bulk("client-output-buffer-limit"),
            bulk("normal 0 0 0 replica 268435456 67108864 60"),
        ]);
        let pts = config_points(&c, &tags());
        assert_eq!(pts.len(), 7);
        let main = pts.last().unwrap();
        assert_eq!(main.get_field("appendonly"), Some(&Value::Int(-1)));
        assert_eq!(
            main.get_field("requirepass"),
            Some(&Value::Str("******".into()))
        );
        assert_eq!(main.get_field("dir"), Some(&Value::Str("/tmp".into())));
        assert!(
            pts.iter()
                .any(|p| p.get_tag("class") == Some("replica.hard")
                    && p.get_field("client_output_buffer_limit_bytes")
                        == Some(&Value::Float(268435456.0)))
        );
    }
}
