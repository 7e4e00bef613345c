//! `datakit monitor`: renders the running agent's `/v1/monitor` snapshot (fetched with
//! [`crate::net::local_api`]) as tables fitted to a width. The snapshot is read as plain JSON,
//! so a monitor can watch an agent of another version.

use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table, presets};
use serde_json::Value;

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
        "Pipeline scripts: points, dropped, errors, cost",
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

const DEFAULT_MODULES: &[&str] = &["basic", "inputs", "io", "drops", "outputs", "errors"];

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

/// `1234567` → `1.23M`.
pub fn si(n: u64) -> String {
    let n = n as f64;
    let (v, unit) = if n >= 1e12 {
        (n / 1e12, "T")
    } else if n >= 1e9 {
        (n / 1e9, "G")
    } else if n >= 1e6 {
        (n / 1e6, "M")
    } else if n >= 1e3 {
        (n / 1e3, "k")
    } else {
        return format!("{n}");
    };
    format!("{v:.3}")
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
        + unit
}

/// Bytes as `12.3 MB`.
pub fn bytes(n: u64) -> String {
    let v = n as f64;
    if v >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GB", v / 1024.0 / 1024.0 / 1024.0)
    } else if v >= 1024.0 * 1024.0 {
        format!("{:.1} MB", v / 1024.0 / 1024.0)
    } else if v >= 1024.0 {
        format!("{:.1} KB", v / 1024.0)
    } else {
        format!("{n} B")
    }
}

/// A duration in seconds as `1h2m`, `3.2s`, `450ms`.
pub fn dur(secs: f64) -> String {
    if secs <= 0.0 {
        return "-".into();
    }
    if secs < 1e-3 {
        return format!("{:.0}µs", secs * 1e6);
    }
    if secs < 1.0 {
        return format!("{:.0}ms", secs * 1e3);
    }
    if secs < 60.0 {
        return format!("{secs:.1}s");
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

fn table(v: &View, title: &str, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(v.width);
    if v.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    let _ = title;
    if !header.is_empty() {
        t.set_header(header.iter().map(|h| {
            let c = Cell::new(h);
            if v.color {
                c.add_attribute(Attribute::Bold)
            } else {
                c
            }
        }));
    }
    t
}

fn cell(text: impl ToString, color: Option<Color>, v: &View) -> Cell {
    let c = Cell::new(text.to_string());
    match (v.color, color) {
        (true, Some(col)) => c.fg(col),
        _ => c,
    }
}

fn section(out: &mut String, v: &View, title: &str, t: Table) {
    if v.color {
        out.push_str(&format!("\x1b[1m{title}\x1b[0m\n"));
    } else {
        out.push_str(title);
        out.push('\n');
    }
    out.push_str(&t.to_string());
    out.push('\n');
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
            "pipeline" => pipeline(&mut out, snap, v),
            "election" => election(&mut out, snap, v),
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
        ("CPU", format!("{:.2}%", f(&p["cpu_percent"]))),
        ("RSS", bytes(u(&p["rss_bytes"]))),
        ("Open files", u(&p["open_files"]).to_string()),
        (
            "Tasks/threads",
            format!("{}/{}", u(&a["tasks"]), u(&p["threads"])),
        ),
    ];
    let mut t = table(v, "Agent", &[]);
    for row in pairs.chunks(if v.width >= 120 { 4 } else { 2 }) {
        let mut cells = Vec::new();
        for (k, val) in row {
            cells.push(cell(k, None, v));
            let red = *k == "Version" && overuse > 0;
            cells.push(cell(val, red.then_some(Color::Red), v));
        }
        t.add_row(cells);
    }
    section(out, v, "Agent", t);
}

fn inputs(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["inputs"].as_object() else {
        return;
    };
    let mut t = table(
        v,
        "Inputs",
        &[
            "Input",
            "Cat",
            "State",
            "N",
            "Every",
            "Pts/col",
            "Points",
            "Last feed",
            "Cost",
            "Errors",
            "Crash",
        ],
    );
    let mut shown = 0;
    for (name, i) in map {
        if !v.inputs.is_empty() && !v.inputs.iter().any(|w| w == name) {
            continue;
        }
        shown += 1;
        let interval = f(&i["interval_secs"]);
        let last = i["last_feed_ns"].as_i64().unwrap_or(0);
        let feeds = u(&i["feeds"]);
        let stale = interval > 0.0 && last > 0 && (v.now_ns - last) as f64 / 1e9 > 3.0 * interval;
        let errs = u(&i["errors"]);
        let crashes = u(&i["crashes"]);
        let state = s(&i["state"]);
        let per = u(&i["points"]).checked_div(feeds).unwrap_or(0);
        let row_color = if state == "stopped" || crashes > 0 {
            Some(Color::Red)
        } else if stale {
            Some(Color::Yellow)
        } else {
            None
        };
        let mut err_text = errs.to_string();
        if let Some(e) = i["last_error"].as_str()
            && (v.verbose || errs > 0)
        {
            err_text = format!("{errs}: {e}");
        }
        t.add_row(vec![
            cell(name, row_color, v),
            cell(
                i["category"]
                    .as_str()
                    .and_then(crate::point::Category::parse)
                    .map_or("-", |c| c.alias()),
                None,
                v,
            ),
            cell(&state, (state != "running").then_some(Color::Yellow), v),
            cell(u(&i["instances"]), None, v),
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
            cell(err_text, (errs > 0).then_some(Color::Red), v),
            cell(crashes, (crashes > 0).then_some(Color::Red), v),
        ]);
    }
    let title = if v.inputs.is_empty() {
        format!("Inputs ({})", map.len())
    } else {
        format!("Inputs (total {}, {shown} selected)", map.len())
    };
    section(out, v, &title, t);
}

fn io(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["io"].as_object() else {
        return;
    };
    let mut t = table(
        v,
        "IO",
        &[
            "Category",
            "In",
            "Queued",
            "Sent",
            "On disk",
            "Dropped",
            "Bytes raw",
            "Bytes gzip",
        ],
    );
    for (cat, c) in map {
        let dropped = u(&c["points_dropped"]);
        t.add_row(vec![
            cell(cat, None, v),
            cell(si(u(&c["points_in"])), None, v),
            cell(si(u(&c["queued"])), None, v),
            cell(si(u(&c["points_sent"])), None, v),
            cell(si(u(&c["points_queued_on_disk"])), None, v),
            cell(si(dropped), (dropped > 0).then_some(Color::Red), v),
            cell(bytes(u(&c["bytes_raw"])), None, v),
            cell(bytes(u(&c["bytes_gzip"])), None, v),
        ]);
    }
    section(out, v, "IO", t);
}

/// Every drop, by category, reason and origin (the snapshot lists the largest first).
fn drops(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["drops"].as_array() else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let mut t = table(v, "Dropped", &["Category", "Reason", "Origin", "Points"]);
    let n = if v.verbose { list.len() } else { 10 };
    for d in list.iter().take(n) {
        t.add_row(vec![
            cell(s(&d["category"]), None, v),
            cell(s(&d["reason"]), Some(Color::Red), v),
            cell(s(&d["origin"]), None, v),
            cell(si(u(&d["points"])), None, v),
        ]);
    }
    let title = if n < list.len() {
        format!("Dropped points ({n} shown of {}; -V shows all)", list.len())
    } else {
        "Dropped points".to_string()
    };
    section(out, v, &title, t);
}

fn outputs(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["outputs"].as_array() else {
        return;
    };
    let mut t = table(
        v,
        "Outputs",
        &[
            "Output",
            "Target",
            "Status",
            "Latency",
            "OK",
            "Failed",
            "Refused",
            "Disk queue",
        ],
    );
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
        t.add_row(vec![
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
                format!("{} ({} bodies)", bytes(queue), u(&o["disk_queue_bodies"])),
                (queue > 0).then_some(Color::Yellow),
                v,
            ),
        ]);
    }
    section(out, v, "Outputs", t);
}

fn http(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["http"].as_array() else {
        return;
    };
    let mut t = table(
        v,
        "HTTP API",
        &[
            "Route",
            "Method",
            "Status",
            "Requests",
            "Avg latency",
            "Body bytes",
        ],
    );
    for h in list {
        let status = u(&h["status"]);
        t.add_row(vec![
            cell(s(&h["route"]), None, v),
            cell(s(&h["method"]), None, v),
            cell(status, (status >= 400).then_some(Color::Yellow), v),
            cell(si(u(&h["requests"])), None, v),
            cell(dur(f(&h["avg_latency_secs"])), None, v),
            cell(bytes(u(&h["body_bytes"])), None, v),
        ]);
    }
    section(out, v, "HTTP API", t);
}

fn pipeline(out: &mut String, snap: &Value, v: &View) {
    let Some(map) = snap["pipeline"].as_object() else {
        return;
    };
    let mut t = table(
        v,
        "Pipeline",
        &[
            "Script", "Category", "Points", "Dropped", "Errors", "Avg cost",
        ],
    );
    for (name, p) in map {
        let errs = u(&p["errors"]);
        t.add_row(vec![
            cell(name, None, v),
            cell(s(&p["category"]), None, v),
            cell(si(u(&p["points"])), None, v),
            cell(si(u(&p["dropped"])), None, v),
            cell(errs, (errs > 0).then_some(Color::Red), v),
            cell(dur(f(&p["avg_cost_secs"])), None, v),
        ]);
    }
    section(out, v, "Pipeline", t);
}

fn election(out: &mut String, snap: &Value, v: &View) {
    let e = &snap["election"];
    if e.is_null() {
        return;
    }
    let mut t = table(v, "Election", &["State", "Leader", "Namespace", "Since"]);
    t.add_row(vec![
        cell(s(&e["state"]), None, v),
        cell(s(&e["leader"]), None, v),
        cell(s(&e["namespace"]), None, v),
        cell(ago(v.now_ns, e["since_ns"].as_i64().unwrap_or(0)), None, v),
    ]);
    section(out, v, "Election", t);
}

fn errors(out: &mut String, snap: &Value, v: &View) {
    let Some(list) = snap["errors"].as_array() else {
        return;
    };
    if list.is_empty() {
        return;
    }
    let mut t = table(v, "Errors", &["When", "Source", "Error"]);
    let n = if v.verbose { list.len() } else { 5 };
    for e in list.iter().rev().take(n) {
        t.add_row(vec![
            cell(ago(v.now_ns, e["time_ns"].as_i64().unwrap_or(0)), None, v),
            cell(s(&e["source"]), None, v),
            cell(s(&e["message"]), Some(Color::Red), v),
        ]);
    }
    section(
        out,
        v,
        &format!(
            "Latest errors ({} shown of {})",
            n.min(list.len()),
            list.len()
        ),
        t,
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
        i.record_feed(crate::point::Category::Metric, 12, crate::clock::now_ns());
        stats.points_dropped(crate::stats::PointsDropped {
            category: crate::point::Category::Metric,
            reason: crate::stats::DropReason::NoField,
            count: 3,
            origin: i.as_ref(),
            detail: None,
        });
        stats.record_error("cpu", "boom");
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
        assert_eq!(si(1_234_567), "1.235M");
        assert_eq!(si(2_000), "2k");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(dur(0.0005), "500µs");
        assert_eq!(dur(3725.0), "1h2m");
    }
}
