//! `datakit monitor`: renders the running agent's `/v1/monitor` snapshot (fetched with
//! [`crate::net::local_api`]) as tables fitted to a width. The snapshot is read as plain JSON,
//! so a monitor can watch an agent of another version.
//!
//! Layout is for 80 columns first: a table never cuts a word, and the columns a table can do
//! without (ranked per table) are left out when the terminal is too narrow, the section title
//! naming them. Numbers have one format: at most three significant digits (`1.23M`, `12.3k`,
//! `1.23GiB`, `1.23s`, `1.23%`), counts below 1000 exact.

use comfy_table::{Cell, Color};
use serde_json::{Map, Value};

use crate::table::{Col, Fitted, Style, fit};

/// The panels, in display order, with the names `-M` accepts.
pub const MODULES: &[(&str, &[&str], &str)] = &[
    (
        "basic",
        &["B", "basic"],
        "agent: version, uptime, host, CPU, memory, open files, tasks",
    ),
    (
        "inputs",
        &["In", "inputs", "input"],
        "inputs: instances, interval, points, last feed, cost, errors, crashes",
    ),
    (
        "io",
        &["IO", "io", "io_stats"],
        "IO per category: queued, sent, on disk, dropped, bytes",
    ),
    (
        "drops",
        &["D", "drops", "dropped"],
        "dropped points by category, reason and origin (shown when there are any)",
    ),
    (
        "outputs",
        &["W", "outputs", "output", "dataway"],
        "outputs: status, latency, requests, disk queue",
    ),
    (
        "http",
        &["H", "http"],
        "HTTP API: requests by route and status, latency",
    ),
    (
        "pipeline",
        &["P", "pipeline"],
        "Pipeline scripts: points, dropped, errors, cost; reference tables (when configured)",
    ),
    (
        "filters",
        &["F", "filters", "filter"],
        "filters: where the rules came from, each rule and the points it dropped (shown when there are rules)",
    ),
    (
        "election",
        &["E", "election"],
        "election: state, leader, namespace",
    ),
    ("errors", &["Err", "errors", "error"], "the latest errors"),
];

/// Maps `-M` names (full or short, any case) to panels; unknown names are an error.
pub fn parse_modules(names: &[String]) -> Result<Vec<&'static str>, String> {
    let mut out = Vec::new();
    for n in names
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let m = MODULES
            .iter()
            .find(|(_, aliases, _)| aliases.iter().any(|a| a.eq_ignore_ascii_case(n)))
            .map(|(name, _, _)| *name)
            .ok_or_else(|| {
                format!(
                    "unknown module `{n}`; use one of: {}",
                    MODULES
                        .iter()
                        .map(|(m, _, _)| *m)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        if !out.contains(&m) {
            out.push(m);
        }
    }
    Ok(out)
}

/// What to show.
#[derive(Debug, Clone)]
pub struct View {
    /// Panels to show (empty: the default set).
    pub modules: Vec<&'static str>,
    /// Only these inputs in the inputs panel (empty: all).
    pub inputs: Vec<String>,
    pub verbose: bool,
    pub width: u16,
    pub color: bool,
    /// "now", Unix ns (for "x ago" and staleness).
    pub now_ns: i64,
}

const DEFAULT_MODULES: &[&str] = &[
    "basic", "inputs", "io", "drops", "filters", "outputs", "errors",
];

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_f64().map(|f| f as u64))
        .unwrap_or(0)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// `v` with at most three significant digits, trailing zeros dropped (`1.23`, `12.3`, `123`).
fn sig3(v: f64) -> String {
    let s = if v >= 99.95 {
        format!("{v:.0}")
    } else if v >= 9.995 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// `v` scaled by `base` through `units` (the first is for `v < base`), three digits.
fn scaled(v: f64, base: f64, units: &[&str]) -> String {
    let mut v = v;
    let mut i = 0;
    // 999.6k reads 1M, not 1000k.
    while i + 1 < units.len() && v >= base * 0.9995 {
        v /= base;
        i += 1;
    }
    format!("{}{}", sig3(v), units[i])
}

/// A count: exact below 1000, else `12.3k`, `1.23M`.
pub fn si(n: u64) -> String {
    if n < 1000 {
        return n.to_string();
    }
    scaled(n as f64, 1000.0, &["", "k", "M", "G", "T", "P"])
}

/// Bytes: `512B`, `1.5KiB`, `12.3MiB`.
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n}B");
    }
    scaled(n as f64, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB"])
}

/// A percentage: `1.23%`.
pub fn pct(v: f64) -> String {
    format!("{}%", sig3(v.max(0.0)))
}

/// A duration in seconds as `450ms`, `1.23s`, `1m2s`, `1h2m`.
pub fn dur(secs: f64) -> String {
    if secs <= 0.0 {
        return "-".into();
    }
    if secs < 1e-3 {
        return format!("{}µs", sig3(secs * 1e6));
    }
    if secs < 1.0 {
        return format!("{}ms", sig3(secs * 1e3));
    }
    if secs < 60.0 {
        return format!("{}s", sig3(secs));
    }
    let t = secs as u64;
    let (h, m, sec) = (t / 3600, (t % 3600) / 60, t % 60);
    if h > 0 {
        format!("{h}h{m}m")
    } else {
        format!("{m}m{sec}s")
    }
}

fn ago(now_ns: i64, then_ns: i64) -> String {
    if then_ns <= 0 {
        return "never".into();
    }
    format!("{} ago", dur((now_ns - then_ns).max(0) as f64 / 1e9))
}

fn style(v: &View) -> Style {
    Style {
        width: v.width,
        color: v.color,
    }
}

fn cell(text: impl ToString, color: Option<Color>, v: &View) -> Cell {
    let c = Cell::new(text.to_string());
    match (v.color, color) {
        (true, Some(col)) => c.fg(col),
        _ => c,
    }
}

/// A panel: its title (with the columns this width leaves out) and its table.
fn section(out: &mut String, v: &View, title: &str, t: Fitted) {
    let mut title = title.to_string();
    if !t.left_out.is_empty() {
        title.push_str(&format!(
            " — wider terminal shows {}",
            t.left_out.join(", ")
        ));
    }
    if v.color {
        out.push_str(&format!("\x1b[1m{title}\x1b[0m\n"));
    } else {
        out.push_str(&title);
        out.push('\n');
    }
    out.push_str(&t.to_string());
    out.push('\n');
}

/// Whether an `inputs` entry is a producer (the write API under an input name, scripts'
/// `create_point()`): not supervised, so it has no state of an input. Agents before the
/// `producer` state showed them as `starting` with no instance.
fn is_producer(i: &Value) -> bool {
    let state = i["state"].as_str().unwrap_or("");
    state == "producer" || (state == "starting" && u(&i["instances"]) == 0)
}

/// Which parts of the snapshot each module shows.
fn snapshot_keys(module: &str) -> &'static [&'static str] {
    match module {
        "basic" => &["agent"],
        "inputs" => &["inputs"],
        "io" => &["io"],
        "drops" => &["drops"],
        "outputs" => &["outputs"],
        "http" => &["http"],
        "pipeline" => &["pipeline", "refer_tables"],
        "election" => &["election"],
        "filters" => &["filters"],
        "errors" => &["errors"],
        _ => &[],
    }
}

/// The snapshot cut to `modules` (all of it when empty; see [`snapshot_keys`]: the parts no
/// panel shows, such as `point_checks`, come only with the whole snapshot) and its `inputs` to
/// `inputs` (all when empty): what `monitor --json` prints.
pub fn select(snap: &Value, modules: &[&str], inputs: &[String]) -> Value {
    let Some(all) = snap.as_object() else {
        return snap.clone();
    };
    let mut out = Map::new();
    for (k, val) in all {
        let wanted = modules.is_empty()
            || modules
                .iter()
                .any(|m| snapshot_keys(m).contains(&k.as_str()));
        if !wanted {
            continue;
        }
        let val = match (k.as_str(), val.as_object()) {
            ("inputs", Some(map)) if !inputs.is_empty() => Value::Object(
                map.iter()
                    .filter(|(name, _)| inputs.iter().any(|w| w == *name))
                    .map(|(n, i)| (n.clone(), i.clone()))
                    .collect(),
            ),
            _ => val.clone(),
        };
        out.insert(k.clone(), val);
    }
    Value::Object(out)
}

/// Renders the snapshot as text tables.
pub fn render(snap: &Value, v: &View) -> String {
    let mods: Vec<&str> = if v.verbose {
        MODULES.iter().map(|(m, _, _)| *m).collect()
    } else if v.modules.is_empty() {
        DEFAULT_MODULES.to_vec()
    } else {
        v.modules.clone()
    };
    let mut out = String::new();
    for m in mods {
        match m {
            "basic" => basic(&mut out, snap, v),
            "inputs" => inputs(&mut out, snap, v),
            "io" => io(&mut out, snap, v),
            "drops" => drops(&mut out, snap, v),
            "outputs" => outputs(&mut out, snap, v),
            "http" => http(&mut out, snap, v),
            "pipeline" => {
                pipeline(&mut out, snap, v);
                refer_tables(&mut out, snap, v);
            }
            "election" => election(&mut out, snap, v),
            "filters" => filters(&mut out, snap, v),
            "errors" => errors(&mut out, snap, v),
            _ => {}
        }
    }
    out
}

fn basic(out: &mut String, snap: &Value, v: &View) {
    let a = &snap["agent"];
    let p = &a["process"];
    let overuse = u(&a["data_overuse"]);
    let mut version = format!("{} ({})", s(&a["version"]), s(&a["commit"]));
    if overuse > 0 {
        version.push_str(" BEYOND USAGE");
    }
    let pairs = [
        ("Version", version),
        ("Uptime", dur(f(&a["uptime_secs"]))),
        ("Host", s(&a["hostname"])),
        ("OS/Arch", s(&a["os_arch"])),
        ("CPU", pct(f(&p["cpu_percent"]))),
        ("RSS", bytes(u(&p["rss_bytes"]))),
        ("Open files", si(u(&p["open_files"]))),
        (
            "Tasks/threads",
            format!("{}/{}", si(u(&a["tasks"])), si(u(&p["threads"]))),
        ),
    ];
    let per_row = if v.width >= 120 { 4 } else { 2 };
    let mut rows = Vec::new();
    for row in pairs.chunks(per_row) {
        let mut cells = Vec::new();
        for (k, val) in row {
            cells.push(cell(k, None, v));
            let red = *k == "Version" && overuse > 0;
            cells.push(cell(val, red.then_some(Color::Red), v));
        }
        rows.push(cells);
    }
    let cols = vec![Col::keep(""); per_row * 2];
    section(out, v, "Agent", fit(style(v), &cols, rows, false));
}

fn inputs(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["inputs"].as_object() else {
        return;
    };
    let cols = [
        Col::keep("Input"),
        Col::optional("Cat", 4),
        Col::keep("State"),
        Col::optional("N", 6),
        Col::optional("Every", 3),
        Col::optional("Pts/col", 7),
        Col::keep("Points"),
        Col::keep("Last feed"),
        Col::optional("Cost", 5),
        Col::keep("Errors"),
        Col::optional("Crash", 2),
    ];
    let selected = |name: &str| v.inputs.is_empty() || v.inputs.iter().any(|w| w == name);
    let mut rows = Vec::new();
    let mut total = 0;
    for (name, i) in map.iter().filter(|(_, i)| !is_producer(i)) {
        total += 1;
        if !selected(name) {
            continue;
        }
        let interval = f(&i["interval_secs"]);
        let last = i["last_feed_ns"].as_i64().unwrap_or(0);
        let feeds = u(&i["feeds"]);
        let stale = interval > 0.0 && last > 0 && (v.now_ns - last) as f64 / 1e9 > 3.0 * interval;
        let errs = u(&i["errors"]);
        let crashes = u(&i["crashes"]);
        let state = s(&i["state"]);
        let per = u(&i["points"]).checked_div(feeds).unwrap_or(0);
        let row_color = if state == "stopped" || state == "stalled" || crashes > 0 {
            Some(Color::Red)
        } else if stale {
            Some(Color::Yellow)
        } else {
            None
        };
        rows.push(vec![
            cell(name, row_color, v),
            cell(category_alias(&i["category"]), None, v),
            cell(
                &state,
                match state.as_str() {
                    "running" => None,
                    "stalled" => Some(Color::Red),
                    _ => Some(Color::Yellow),
                },
                v,
            ),
            cell(si(u(&i["instances"])), None, v),
            cell(
                if interval > 0.0 {
                    dur(interval)
                } else {
                    "-".into()
                },
                None,
                v,
            ),
            cell(si(per), None, v),
            cell(si(u(&i["points"])), None, v),
            cell(ago(v.now_ns, last), stale.then_some(Color::Yellow), v),
            cell(dur(f(&i["avg_cost_secs"])), None, v),
            cell(error_text(i, errs, v), (errs > 0).then_some(Color::Red), v),
            cell(si(crashes), (crashes > 0).then_some(Color::Red), v),
        ]);
    }
    let shown = rows.len();
    let title = if v.inputs.is_empty() {
        format!("Inputs ({total})")
    } else {
        format!("Inputs (total {total}, {shown} selected)")
    };
    section(out, v, &title, fit(style(v), &cols, rows, true));
    producers(out, map, v);
    receivers(out, map, v);
}

/// Inputs that receive on their own sockets (statsd): their counters, one row each.
fn receivers(out: &mut String, map: &Map<String, Value>, v: &View) {
    let cols = [
        Col::keep("Receiver"),
        Col::keep("Counter"),
        Col::keep("Value"),
    ];
    let selected = |name: &str| v.inputs.is_empty() || v.inputs.iter().any(|w| w == name);
    let mut rows = Vec::new();
    for (name, i) in map.iter().filter(|(n, _)| selected(n)) {
        let Some(list) = i["receiver"].as_array() else {
            continue;
        };
        for pair in list {
            let counter = s(&pair[0]);
            let n = u(&pair[1]);
            let text = if counter.ends_with("bytes") {
                bytes(n)
            } else {
                si(n)
            };
            let bad = n > 0 && (counter.contains("drop") || counter.contains("refused"));
            rows.push(vec![
                cell(name, None, v),
                cell(&counter, None, v),
                cell(text, bad.then_some(Color::Red), v),
            ]);
        }
    }
    if rows.is_empty() {
        return;
    }
    section(
        out,
        v,
        "Receivers: their own sockets (what the kernel dropped never reached the input)",
        fit(style(v), &cols, rows, true),
    );
}

/// What fed points without being a supervised input: the write API (`v1-write.<input>`,
/// `influxdb-v1`, ...) and scripts' `create_point()`. They have no state, interval or crashes.
fn producers(out: &mut String, map: &Map<String, Value>, v: &View) {
    let cols = [
        Col::keep("Producer"),
        Col::optional("Cat", 2),
        Col::optional("Feeds", 3),
        Col::keep("Points"),
        Col::keep("Last feed"),
        Col::keep("Errors"),
        Col::optional("Dropped", 1),
    ];
    let selected = |name: &str| v.inputs.is_empty() || v.inputs.iter().any(|w| w == name);
    let mut rows = Vec::new();
    for (name, i) in map.iter().filter(|(n, i)| is_producer(i) && selected(n)) {
        let errs = u(&i["errors"]);
        let dropped = u(&i["dropped"]);
        rows.push(vec![
            cell(name, None, v),
            cell(category_alias(&i["category"]), None, v),
            cell(si(u(&i["feeds"])), None, v),
            cell(si(u(&i["points"])), None, v),
            cell(
                ago(v.now_ns, i["last_feed_ns"].as_i64().unwrap_or(0)),
                None,
                v,
            ),
            cell(error_text(i, errs, v), (errs > 0).then_some(Color::Red), v),
            cell(si(dropped), (dropped > 0).then_some(Color::Red), v),
        ]);
    }
    if rows.is_empty() {
        return;
    }
    let title = format!(
        "Producers ({}): the write API and scripts' create_point(), not supervised inputs",
        rows.len()
    );
    section(out, v, &title, fit(style(v), &cols, rows, true));
}

fn category_alias(c: &Value) -> &'static str {
    c.as_str()
        .and_then(crate::point::Category::parse)
        .map_or("-", |c| c.alias())
}

/// The error count, with the last error when there are errors (or in verbose mode).
fn error_text(i: &Value, errs: u64, v: &View) -> String {
    match i["last_error"].as_str() {
        Some(e) if v.verbose || errs > 0 => format!("{}: {e}", si(errs)),
        _ => si(errs),
    }
}

fn io(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["io"].as_object() else {
        return;
    };
    let cols = [
        Col::keep("Category"),
        Col::keep("In"),
        Col::optional("Queued", 2),
        Col::keep("Sent"),
        Col::optional("On disk", 3),
        Col::optional("Journal", 2),
        Col::keep("Dropped"),
        Col::optional("Bytes raw", 4),
        Col::optional("Bytes gzip", 1),
    ];
    let mut rows = Vec::new();
    for (cat, c) in map {
        let dropped = u(&c["points_dropped"]);
        rows.push(vec![
            cell(cat, None, v),
            cell(si(u(&c["points_in"])), None, v),
            cell(si(u(&c["queued"])), None, v),
            cell(si(u(&c["points_sent"])), None, v),
            cell(si(u(&c["points_queued_on_disk"])), None, v),
            cell(bytes(u(&c["journal_bytes"])), None, v),
            cell(si(dropped), (dropped > 0).then_some(Color::Red), v),
            cell(bytes(u(&c["bytes_raw"])), None, v),
            cell(bytes(u(&c["bytes_gzip"])), None, v),
        ]);
    }
    section(out, v, "IO", fit(style(v), &cols, rows, true));
}

/// Every drop, by category, reason and origin (the snapshot lists the largest first).
fn drops(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["drops"].as_array() else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let cols = [
        Col::keep("Category"),
        Col::keep("Reason"),
        Col::keep("Origin"),
        Col::keep("Points"),
    ];
    let n = if v.verbose { list.len() } else { 10 };
    let rows = list
        .iter()
        .take(n)
        .map(|d| {
            vec![
                cell(s(&d["category"]), None, v),
                cell(s(&d["reason"]), Some(Color::Red), v),
                cell(s(&d["origin"]), None, v),
                cell(si(u(&d["points"])), None, v),
            ]
        })
        .collect();
    let title = if n < list.len() {
        format!("Dropped points ({n} shown of {}; -V shows all)", list.len())
    } else {
        "Dropped points".to_string()
    };
    section(out, v, &title, fit(style(v), &cols, rows, true));
}

fn outputs(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["outputs"].as_array() else {
        return;
    };
    let cols = [
        Col::keep("Output"),
        Col::optional("Target", 4),
        Col::keep("Status"),
        Col::optional("Latency", 2),
        Col::keep("OK"),
        Col::keep("Failed"),
        Col::optional("Refused", 1),
        Col::optional("Disk queue", 3),
    ];
    let mut rows = Vec::new();
    for o in list {
        let healthy = o["healthy"].as_bool().unwrap_or(true);
        let mut status = if healthy {
            "up".to_string()
        } else {
            "DOWN".to_string()
        };
        let last = s(&o["last_status"]);
        if !last.is_empty() && last != "-" {
            status.push_str(&format!(" ({last})"));
        }
        let queue = u(&o["disk_queue_bytes"]);
        rows.push(vec![
            cell(s(&o["name"]), None, v),
            cell(s(&o["target"]), None, v),
            cell(status, (!healthy).then_some(Color::Red), v),
            cell(dur(f(&o["avg_latency_secs"])), None, v),
            cell(si(u(&o["requests_ok"])), None, v),
            cell(
                si(u(&o["requests_failed"])),
                (u(&o["requests_failed"]) > 0).then_some(Color::Yellow),
                v,
            ),
            cell(
                si(u(&o["requests_refused"])),
                (u(&o["requests_refused"]) > 0).then_some(Color::Red),
                v,
            ),
            cell(
                format!(
                    "{} ({} bodies)",
                    bytes(queue),
                    si(u(&o["disk_queue_bodies"]))
                ),
                (queue > 0).then_some(Color::Yellow),
                v,
            ),
        ]);
    }
    section(out, v, "Outputs", fit(style(v), &cols, rows, true));
}

fn http(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["http"].as_array() else {
        return;
    };
    let cols = [
        Col::keep("Route"),
        Col::optional("Method", 1),
        Col::keep("Status"),
        Col::keep("Requests"),
        Col::optional("Avg latency", 2),
        Col::optional("Body bytes", 3),
    ];
    let rows = list
        .iter()
        .map(|h| {
            let status = u(&h["status"]);
            vec![
                cell(s(&h["route"]), None, v),
                cell(s(&h["method"]), None, v),
                cell(status, (status >= 400).then_some(Color::Yellow), v),
                cell(si(u(&h["requests"])), None, v),
                cell(dur(f(&h["avg_latency_secs"])), None, v),
                cell(bytes(u(&h["body_bytes"])), None, v),
            ]
        })
        .collect();
    section(out, v, "HTTP API", fit(style(v), &cols, rows, true));
}

fn pipeline(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["pipeline"].as_object() else {
        return;
    };
    let cols = [
        Col::keep("Script"),
        Col::optional("Category", 2),
        Col::keep("Points"),
        Col::keep("Dropped"),
        Col::keep("Errors"),
        Col::optional("Too slow", 1),
        Col::optional("Avg cost", 1),
    ];
    let rows = map
        .iter()
        .map(|(name, p)| {
            let errs = u(&p["errors"]);
            let slow = u(&p["timeouts"]);
            vec![
                cell(name, None, v),
                cell(s(&p["category"]), None, v),
                cell(si(u(&p["points"])), None, v),
                cell(si(u(&p["dropped"])), None, v),
                cell(si(errs), (errs > 0).then_some(Color::Red), v),
                cell(si(slow), (slow > 0).then_some(Color::Red), v),
                cell(dur(f(&p["avg_cost_secs"])), None, v),
            ]
        })
        .collect();
    section(out, v, "Pipeline", fit(style(v), &cols, rows, true));
}

/// The reference tables: shown when `refer_table_url` is set.
fn refer_tables(out: &mut String, snap: &Value, v: &View) {
    let r = &snap["refer_tables"];
    let url = r["url"].as_str().unwrap_or("");
    if url.is_empty() {
        return;
    }
    let when = |ns: i64| {
        if ns > 0 {
            ago(v.now_ns, ns)
        } else {
            "never".into()
        }
    };
    let mut title = format!(
        "Reference tables ({url}, loaded {}, answered {}, {} failed load(s)",
        when(r["updated_ns"].as_i64().unwrap_or(0)),
        when(r["pulled_ns"].as_i64().unwrap_or(0)),
        u(&r["failures"])
    );
    if r["from_cache"].as_bool() == Some(true) {
        title.push_str(", from the last run's copy");
    }
    title.push(')');
    let cols = [Col::keep("Table"), Col::keep("Columns"), Col::keep("Rows")];
    let mut rows: Vec<Vec<Cell>> = r["tables"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            vec![
                cell(s(&t["name"]), None, v),
                cell(si(u(&t["columns"])), None, v),
                cell(si(u(&t["rows"])), None, v),
            ]
        })
        .collect();
    if let Some(e) = r["last_error"].as_str() {
        rows.push(vec![
            cell(format!("last load: {e}"), Some(Color::Red), v),
            cell("-", None, v),
            cell("kept", None, v),
        ]);
    }
    section(out, v, &title, fit(style(v), &cols, rows, true));
}

fn filters(out: &mut String, snap: &Value, v: &View) {
    let f = &snap["filters"];
    let rules = f["rules"].as_array().map(Vec::as_slice).unwrap_or_default();
    let source = f["source"].as_str().unwrap_or("none");
    let problems = f["problems"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let failures = u(&f["pull_failures"]);
    if rules.is_empty() && source != "remote" && problems.is_empty() {
        return;
    }
    let updated = f["updated_ns"].as_i64().unwrap_or(0);
    let mut title = format!(
        "Filters ({source}, {} rule(s), updated {}",
        rules.len(),
        if updated > 0 {
            ago(v.now_ns, updated)
        } else {
            "never".into()
        }
    );
    if source == "remote" {
        let pulled = f["pulled_ns"].as_i64().unwrap_or(0);
        title.push_str(&format!(
            ", pulled {}, {} failed pull(s)",
            if pulled > 0 {
                ago(v.now_ns, pulled)
            } else {
                "never".into()
            },
            failures
        ));
    }
    title.push(')');
    let cols = [
        Col::keep("Category"),
        Col::keep("Rule"),
        Col::keep("Filtered"),
    ];
    let mut rows: Vec<Vec<Cell>> = rules
        .iter()
        .map(|r| {
            vec![
                cell(s(&r["category"]), None, v),
                cell(s(&r["rule"]), None, v),
                cell(si(u(&r["filtered"])), None, v),
            ]
        })
        .collect();
    for p in problems {
        rows.push(vec![
            cell("-", None, v),
            cell(s(p), Some(Color::Red), v),
            cell("ignored", Some(Color::Red), v),
        ]);
    }
    if failures > 0
        && let Some(e) = f["last_error"].as_str()
    {
        rows.push(vec![
            cell("-", None, v),
            cell(format!("last pull: {e}"), Some(Color::Red), v),
            cell("kept", None, v),
        ]);
    }
    section(out, v, &title, fit(style(v), &cols, rows, true));
}

fn election(out: &mut String, snap: &Value, v: &View) {
    let e = &snap["election"];
    if e.is_null() {
        return;
    }
    let cols = [
        Col::keep("State"),
        Col::keep("Leader"),
        Col::keep("Namespace"),
        Col::keep("Since"),
    ];
    let rows = vec![vec![
        cell(s(&e["state"]), None, v),
        cell(s(&e["leader"]), None, v),
        cell(s(&e["namespace"]), None, v),
        cell(ago(v.now_ns, e["since_ns"].as_i64().unwrap_or(0)), None, v),
    ]];
    section(out, v, "Election", fit(style(v), &cols, rows, true));
}

fn errors(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["errors"].as_array() else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let cols = [Col::keep("When"), Col::keep("Source"), Col::keep("Error")];
    let n = if v.verbose { list.len() } else { 5 };
    let rows = list
        .iter()
        .rev()
        .take(n)
        .map(|e| {
            vec![
                cell(ago(v.now_ns, e["time_ns"].as_i64().unwrap_or(0)), None, v),
                cell(s(&e["source"]), None, v),
                cell(s(&e["message"]), Some(Color::Red), v),
            ]
        })
        .collect();
    section(
        out,
        v,
        &format!(
            "Latest errors ({} shown of {})",
            n.min(list.len()),
            list.len()
        ),
        fit(style(v), &cols, rows, true),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let stats = crate::stats::Stats::new();
        stats.set_hostname("h1");
        let i = stats.input("cpu");
        i.instances.store(1, std::sync::atomic::Ordering::Relaxed);
        i.set_state(crate::stats::InputState::Running);
        i.record_feed(crate::point::Category::Metric, 12, crate::clock::now_ns());
        stats.points_dropped(crate::stats::PointsDropped {
            category: crate::point::Category::Metric,
            reason: crate::stats::DropReason::NoField,
            count: 3,
            origin: i.as_ref(),
            detail: None,
        });
        stats.record_error("cpu", "boom");
        let rules = std::collections::BTreeMap::from([(
            "logging".to_string(),
            vec!["{ source = 'nginx' and status = 'debug' }".to_string()],
        )]);
        let (f, problems) = crate::filter::Filters::compile(&rules);
        stats
            .filters
            .install(f, crate::filter::Source::Remote, &problems);
        serde_json::to_value(stats.snapshot()).unwrap()
    }

    #[test]
    fn renders_every_module_within_the_width() {
        for width in [80u16, 200] {
            let v = View {
                modules: vec![],
                inputs: vec![],
                verbose: true,
                width,
                color: false,
                now_ns: crate::clock::now_ns(),
            };
            let text = render(&sample(), &v);
            assert!(
                text.contains("Agent") && text.contains("cpu") && text.contains("boom"),
                "{text}"
            );
            assert!(
                text.contains("Dropped points") && text.contains("no_field"),
                "drops by reason: {text}"
            );
            assert!(
                text.contains("Filters (remote, 1 rule(s)") && text.contains("status = 'debug'"),
                "the filter rules: {text}"
            );
            for line in text.lines() {
                assert!(line.chars().count() <= width as usize, "{width}: {line}");
            }
        }
    }

    #[test]
    fn module_names_and_filters() {
        assert_eq!(
            parse_modules(&["io,In".into(), "w".into()]).unwrap(),
            ["io", "inputs", "outputs"]
        );
        assert!(
            parse_modules(&["nope".into()])
                .unwrap_err()
                .contains("unknown module `nope`")
        );
        let v = View {
            modules: vec!["inputs"],
            inputs: vec!["mem".into()],
            verbose: false,
            width: 120,
            color: false,
            now_ns: 0,
        };
        let text = render(&sample(), &v);
        assert!(text.contains("Inputs (total 1, 0 selected)"), "{text}");
        assert!(!text.contains("Agent"));
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(si(999), "999");
        assert_eq!(si(1_234_567), "1.23M");
        assert_eq!(si(12_345), "12.3k");
        assert_eq!(si(123_456), "123k");
        assert_eq!(si(999_600), "1M");
        assert_eq!(si(2_000), "2k");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5KiB");
        assert_eq!(bytes(1_325_598_706), "1.23GiB");
        assert_eq!(pct(1.2345), "1.23%");
        assert_eq!(pct(0.0), "0%");
        assert_eq!(dur(0.0005), "500µs");
        assert_eq!(dur(0.00123), "1.23ms");
        assert_eq!(dur(1.2345), "1.23s");
        assert_eq!(dur(10.0), "10s");
        assert_eq!(dur(3725.0), "1h2m");
    }

    #[test]
    fn producers_have_their_own_section() {
        let stats = crate::stats::Stats::new();
        let i = stats.input("cpu");
        i.instances.store(1, std::sync::atomic::Ordering::Relaxed);
        i.set_state(crate::stats::InputState::Running);
        stats.input("v1-write.app").record_feed(
            crate::point::Category::Logging,
            2,
            crate::clock::now_ns(),
        );
        let snap = serde_json::to_value(stats.snapshot()).unwrap();
        assert_eq!(snap["inputs"]["v1-write.app"]["state"], "producer");
        let v = View {
            modules: vec!["inputs"],
            inputs: vec![],
            verbose: false,
            width: 80,
            color: false,
            now_ns: crate::clock::now_ns(),
        };
        let text = render(&snap, &v);
        let (inputs, producers) = text.split_once("Producers (1)").unwrap();
        assert!(
            inputs.contains("Inputs (1)") && inputs.contains("cpu"),
            "{text}"
        );
        assert!(!inputs.contains("v1-write.app"), "{text}");
        assert!(producers.contains("v1-write.app"), "{text}");
        // An older agent's producer: `starting` with no instance.
        let old =
            serde_json::json!({"inputs": {"influxdb-v1": {"state": "starting", "instances": 0}}});
        assert!(render(&old, &v).contains("Producers (1)"));
    }

    #[test]
    fn receiver_counters_have_their_own_section() {
        let stats = crate::stats::Stats::new();
        let i = stats.input("statsd");
        i.instances.store(1, std::sync::atomic::Ordering::Relaxed);
        i.set_state(crate::stats::InputState::Running);
        let r = i.receiver(&["datagrams", "kernel_drops", "rcvbuf_bytes"]);
        r.add(0, 1500);
        r.set(1, 3);
        r.set(2, 8 << 20);
        let text = stats.snapshot().to_prometheus();
        assert!(
            text.contains("datakit_input_receiver{input=\"statsd\",counter=\"kernel_drops\"} 3"),
            "{text}"
        );
        let snap = serde_json::to_value(stats.snapshot()).unwrap();
        assert_eq!(
            snap["inputs"]["statsd"]["receiver"][1],
            serde_json::json!(["kernel_drops", 3])
        );
        assert!(snap["inputs"]["cpu"].is_null());
        let v = View {
            modules: vec!["inputs"],
            inputs: vec![],
            verbose: false,
            width: 80,
            color: false,
            now_ns: crate::clock::now_ns(),
        };
        let text = render(&snap, &v);
        let (_, rec) = text.split_once("Receivers").unwrap();
        for want in ["datagrams", "1.5k", "kernel_drops", "8MiB"] {
            assert!(rec.contains(want), "{want}: {text}");
        }
    }

    #[test]
    fn json_keeps_the_chosen_modules_and_inputs() {
        let snap = sample();
        let v = select(&snap, &["io", "basic"], &[]);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["agent", "io"]);
        let v = select(&snap, &["inputs"], &["nope".into()]);
        assert_eq!(v["inputs"], serde_json::json!({}));
        assert_eq!(select(&snap, &[], &[]), snap);
    }

    #[test]
    fn eighty_columns_cut_no_word() {
        let v = View {
            modules: vec![],
            inputs: vec![],
            verbose: true,
            width: 80,
            color: false,
            now_ns: crate::clock::now_ns(),
        };
        let text = render(&sample(), &v);
        let row = text.lines().find(|l| l.contains("cpu")).unwrap();
        assert!(
            row.contains("running") || row.contains("producer") || row.contains("starting"),
            "{text}"
        );
        assert!(text.contains("wider terminal shows"), "{text}");
    }
}
