//! `net`: per-interface traffic from `/proc/net/dev` (interfaces that are up, not virtual
//! unless enabled, matching `interfaces`), with rates over the interval; and one point tagged
//! `interface=all` with the TCP and UDP counters of `/proc/net/snmp`.
//!
//! Fixes against the original:
//! - rates divide by the exact elapsed time (the original used whole seconds of wall clock) and
//!   each rate is dropped on its own when its counter went backwards (the original checked only
//!   `bytes_sent`);
//! - the protocol point carries the collection's timestamp like every other point;
//! - the protocol point has exactly the declared keys, whatever extra keys a kernel prints, so
//!   its schema is stable. `/proc/net/snmp` is parsed by header/value pairs here: procfs's
//!   fixed struct fails on kernels that lack a key.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use regex::Regex;

use super::{
    FileBuf, HOST_TAG, Roots, SoftErrors, add_tags, check_regexes, compile_all, elapsed_secs,
    field, host_input_config, interface_up, put, rate, tag, virtual_interfaces,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputError, InputSpec, IntervalLimits, MeasurementSpec,
    Validation, entry,
};
use crate::point::{Category, Point, Value};

const NAME: &str = "net";

config_struct! {
    "Network interface traffic and TCP/UDP counters."
    pub struct NetConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Regular expressions of the interfaces to collect (e.g. `^eth\\d+$`); empty: all."
        pub interfaces: Vec<String> = Vec::new(),
        "Also collect virtual interfaces (lo, bridges, veth, ...: those under /sys/devices/virtual/net)."
        pub enable_virtual_interfaces: bool = false,
        "Do not emit the `interface=all` point with TCP/UDP counters."
        pub ignore_protocol_stats: bool = false,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

host_input_config!(
    NetConfig,
    collector: NetCollector::new,
    validate: NetConfig::check_interfaces,
);

impl NetConfig {
    /// The `interfaces` expressions.
    fn check_interfaces(&self, v: &mut Validation) {
        check_regexes(v, "interfaces", &self.interfaces);
    }
}

/// The `/proc/net/snmp` keys the protocol point carries (lowercase `<proto>_<key>`).
pub const SNMP_KEYS: &[&str] = &[
    "tcp_rtoalgorithm",
    "tcp_rtomin",
    "tcp_rtomax",
    "tcp_maxconn",
    "tcp_activeopens",
    "tcp_passiveopens",
    "tcp_attemptfails",
    "tcp_estabresets",
    "tcp_currestab",
    "tcp_insegs",
    "tcp_outsegs",
    "tcp_retranssegs",
    "tcp_inerrs",
    "tcp_outrsts",
    "tcp_incsumerrors",
    "udp_indatagrams",
    "udp_noports",
    "udp_inerrors",
    "udp_outdatagrams",
    "udp_rcvbuferrors",
    "udp_sndbuferrors",
    "udp_incsumerrors",
    "udp_ignoredmulti",
    "udp_memerrors",
];

/// Counters with a `/sec` rate on the protocol point.
const SNMP_RATES: &[&str] = &[
    "tcp_insegs",
    "tcp_outsegs",
    "udp_indatagrams",
    "udp_outdatagrams",
];

/// The `Tcp:` and `Udp:` header/value pairs of `/proc/net/snmp` as `tcp_insegs` → value.
pub fn parse_snmp(text: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(header) = lines.next() {
        let Some(values) = lines.next() else { break };
        let proto = match header.split_once(':') {
            Some(("Tcp", _)) => "tcp",
            Some(("Udp", _)) => "udp",
            _ => continue,
        };
        let keys = header.split_whitespace().skip(1);
        let vals = values.split_whitespace().skip(1);
        for (k, v) in keys.zip(vals) {
            if let Ok(v) = v.parse::<i64>() {
                out.push((format!("{proto}_{}", k.to_ascii_lowercase()), v));
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct IfCounters {
    bytes_recv: u64,
    bytes_sent: u64,
    packets_recv: u64,
    packets_sent: u64,
}

pub struct NetCollector {
    roots: Roots,
    interfaces: Vec<Regex>,
    virtual_ok: bool,
    protocol: bool,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
    flag_buf: FileBuf,
    prev: HashMap<String, IfCounters>,
    prev_snmp: HashMap<&'static str, i64>,
    prev_at: Option<Instant>,
    errors: SoftErrors,
}

impl NetCollector {
    pub fn new(cfg: &NetConfig, roots: Roots) -> Result<Self, InputError> {
        Ok(NetCollector {
            roots,
            interfaces: compile_all("interfaces", &cfg.interfaces)?,
            virtual_ok: cfg.enable_virtual_interfaces,
            protocol: !cfg.ignore_protocol_stats,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
            flag_buf: FileBuf::default(),
            prev: HashMap::new(),
            prev_snmp: HashMap::new(),
            prev_at: None,
            errors: SoftErrors::default(),
        })
    }

    fn protocol_point(&mut self, ctx: &CollectCtx, secs: Option<f64>) -> Option<Point> {
        let text = match self.buf.read_str(&self.roots.proc("net/snmp")) {
            Ok(t) => t,
            Err(e) => {
                self.errors.record(ctx, NAME, e);
                return None;
            }
        };
        let values = parse_snmp(text);
        let mut p = Point::new(Category::Metric, NAME);
        p.tags.push(("interface".into(), "all".into()));
        let mut next = HashMap::new();
        for key in SNMP_KEYS {
            let Some((_, v)) = values.iter().find(|(k, _)| k == key) else {
                continue;
            };
            put(&mut p, key, Value::Int(*v));
            if SNMP_RATES.contains(key) {
                if let (Some(prev), Some(s)) = (self.prev_snmp.get(key), secs)
                    && let Some(r) = rate(*prev as u64, *v as u64, s)
                {
                    put(&mut p, &format!("{key}/sec"), Value::Int(r));
                }
                next.insert(*key, *v);
            }
        }
        self.prev_snmp = next;
        (!p.fields.is_empty()).then_some(p)
    }
}

impl Collect for NetCollector {
    fn collect(&mut self, ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let devs: procfs::net::InterfaceDeviceStatus = self
            .buf
            .parse(&self.roots.proc("net/dev"))
            .map_err(|e| e.to_string())?;
        let secs = elapsed_secs(&mut self.prev_at, Instant::now());
        let virt = if self.virtual_ok {
            Default::default()
        } else {
            virtual_interfaces(&self.roots)
        };
        let mut names: Vec<&String> = devs.0.keys().collect();
        names.sort();
        let mut out = Vec::new();
        let mut next = HashMap::with_capacity(names.len());
        for name in names {
            let d = &devs.0[name];
            if virt.contains(name.as_str()) {
                continue;
            }
            if !self.interfaces.is_empty() && !self.interfaces.iter().any(|r| r.is_match(name)) {
                continue;
            }
            if interface_up(&self.roots, &mut self.flag_buf, name) == Some(false) {
                continue;
            }
            let mut p = Point::new(Category::Metric, NAME);
            p.tags.push(("interface".into(), name.clone()));
            put(&mut p, "bytes_recv", d.recv_bytes);
            put(&mut p, "packets_recv", d.recv_packets);
            put(&mut p, "err_in", d.recv_errs);
            put(&mut p, "drop_in", d.recv_drop);
            put(&mut p, "bytes_sent", d.sent_bytes);
            put(&mut p, "packets_sent", d.sent_packets);
            put(&mut p, "err_out", d.sent_errs);
            put(&mut p, "drop_out", d.sent_drop);
            let cur = IfCounters {
                bytes_recv: d.recv_bytes,
                bytes_sent: d.sent_bytes,
                packets_recv: d.recv_packets,
                packets_sent: d.sent_packets,
            };
            if let (Some(prev), Some(s)) = (self.prev.get(name), secs) {
                for (k, a, b) in [
                    ("bytes_recv/sec", prev.bytes_recv, cur.bytes_recv),
                    ("bytes_sent/sec", prev.bytes_sent, cur.bytes_sent),
                    ("packets_recv/sec", prev.packets_recv, cur.packets_recv),
                    ("packets_sent/sec", prev.packets_sent, cur.packets_sent),
                ] {
                    if let Some(r) = rate(a, b, s) {
                        put(&mut p, k, Value::Int(r));
                    }
                }
            }
            next.insert(name.clone(), cur);
            out.push(p);
        }
        self.prev = next;
        if self.protocol
            && let Some(p) = self.protocol_point(ctx, secs)
        {
            out.push(p);
        }
        for p in &mut out {
            add_tags(p, &self.tags);
        }
        Ok(out)
    }
}

macro_rules! snmp {
    ($name:literal, $desc:literal) => {
        field!($name, Int, "count", $desc)
    };
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!(
        "bytes_recv",
        Uint,
        "digital,B",
        "Bytes received by the interface."
    ),
    field!(
        "bytes_sent",
        Uint,
        "digital,B",
        "Bytes sent by the interface."
    ),
    field!(
        "packets_recv",
        Uint,
        "count",
        "Packets received by the interface."
    ),
    field!(
        "packets_sent",
        Uint,
        "count",
        "Packets sent by the interface."
    ),
    field!(
        "err_in",
        Uint,
        "count",
        "Receive errors detected by the interface."
    ),
    field!(
        "err_out",
        Uint,
        "count",
        "Transmit errors detected by the interface."
    ),
    field!(
        "drop_in",
        Uint,
        "count",
        "Received packets dropped by the interface."
    ),
    field!(
        "drop_out",
        Uint,
        "count",
        "Packets to send dropped by the interface."
    ),
    field!(
        "bytes_recv/sec",
        Int,
        "traffic,B/S",
        "Bytes received per second over the interval."
    ),
    field!(
        "bytes_sent/sec",
        Int,
        "traffic,B/S",
        "Bytes sent per second over the interval."
    ),
    field!(
        "packets_recv/sec",
        Int,
        "count",
        "Packets received per second over the interval."
    ),
    field!(
        "packets_sent/sec",
        Int,
        "count",
        "Packets sent per second over the interval."
    ),
    snmp!(
        "tcp_rtoalgorithm",
        "Retransmission timeout algorithm (constant; `interface=all`)."
    ),
    field!(
        "tcp_rtomin",
        Int,
        "time,ms",
        "Minimum retransmission timeout (`interface=all`)."
    ),
    field!(
        "tcp_rtomax",
        Int,
        "time,ms",
        "Maximum retransmission timeout (`interface=all`)."
    ),
    snmp!(
        "tcp_maxconn",
        "Connection limit, −1 for none (`interface=all`)."
    ),
    snmp!(
        "tcp_activeopens",
        "Active connection openings: SYN sent (`interface=all`)."
    ),
    snmp!(
        "tcp_passiveopens",
        "Passive connection openings: SYN received (`interface=all`)."
    ),
    snmp!(
        "tcp_attemptfails",
        "Failed connection attempts (`interface=all`)."
    ),
    snmp!(
        "tcp_estabresets",
        "Resets of ESTABLISHED or CLOSE-WAIT connections (`interface=all`)."
    ),
    snmp!(
        "tcp_currestab",
        "Connections now ESTABLISHED or CLOSE-WAIT (`interface=all`)."
    ),
    snmp!("tcp_insegs", "Segments received (`interface=all`)."),
    snmp!("tcp_outsegs", "Segments sent (`interface=all`)."),
    snmp!(
        "tcp_retranssegs",
        "Segments retransmitted (`interface=all`)."
    ),
    snmp!(
        "tcp_inerrs",
        "Segments received in error (`interface=all`)."
    ),
    snmp!("tcp_outrsts", "Segments sent with RST (`interface=all`)."),
    snmp!(
        "tcp_incsumerrors",
        "Segments received with a bad checksum (`interface=all`)."
    ),
    snmp!(
        "tcp_insegs/sec",
        "Segments received per second (`interface=all`)."
    ),
    snmp!(
        "tcp_outsegs/sec",
        "Segments sent per second (`interface=all`)."
    ),
    snmp!(
        "udp_indatagrams",
        "Datagrams delivered to users (`interface=all`)."
    ),
    snmp!(
        "udp_noports",
        "Datagrams for ports without a listener (`interface=all`)."
    ),
    snmp!(
        "udp_inerrors",
        "Datagrams that could not be delivered (`interface=all`)."
    ),
    snmp!("udp_outdatagrams", "Datagrams sent (`interface=all`)."),
    snmp!(
        "udp_rcvbuferrors",
        "Datagrams dropped for a full receive buffer (`interface=all`)."
    ),
    snmp!(
        "udp_sndbuferrors",
        "Datagrams dropped for a full send buffer (`interface=all`)."
    ),
    snmp!(
        "udp_incsumerrors",
        "Datagrams received with a bad checksum (`interface=all`)."
    ),
    snmp!(
        "udp_ignoredmulti",
        "Multicast datagrams ignored (`interface=all`)."
    ),
    snmp!(
        "udp_memerrors",
        "Datagrams dropped for lack of memory (`interface=all`)."
    ),
    snmp!(
        "udp_indatagrams/sec",
        "Datagrams delivered per second (`interface=all`)."
    ),
    snmp!(
        "udp_outdatagrams/sec",
        "Datagrams sent per second (`interface=all`)."
    ),
];

const TAGS: &[crate::inputs::TagSpec] = &[
    HOST_TAG,
    tag!(
        "interface",
        "Interface name, or `all` on the point with TCP/UDP counters."
    ),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "net",
    category: Category::Metric,
    description: "Traffic of a network interface. All `tcp_*`/`udp_*` fields come from /proc/net/snmp, on the point tagged `interface=all`.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<NetConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Network interface traffic from /proc/net/dev and TCP/UDP counters from /proc/net/snmp.",
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

    const DEV: &str = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo: 7659264   23778    0    0    0     0          0         0  7659264   23778    0    0    0     0       0          0\n  eth0: 266307627   13779    1    2    0     0          0         0   989154    9048    3    4    0     0       0          0\n  eth1: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n";

    fn setup(dev: &str) -> (tempfile::TempDir, Roots) {
        let dir = tempfile::tempdir().unwrap();
        let roots = Roots::under(dir.path());
        std::fs::create_dir_all(roots.proc("net")).unwrap();
        std::fs::write(roots.proc("net/dev"), dev).unwrap();
        std::fs::copy(
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/host/net-snmp"),
            roots.proc("net/snmp"),
        )
        .unwrap();
        std::fs::create_dir_all(roots.sys("devices/virtual/net/lo")).unwrap();
        for (i, flags) in [("eth0", "0x1003"), ("eth1", "0x1002"), ("lo", "0x9")] {
            std::fs::create_dir_all(roots.sys("class/net").join(i)).unwrap();
            std::fs::write(roots.sys("class/net").join(i).join("flags"), flags).unwrap();
        }
        (dir, roots)
    }

    #[test]
    fn up_physical_interfaces_and_the_protocol_point() {
        let (_d, roots) = setup(DEV);
        let mut c = NetCollector::new(&NetConfig::default(), roots.clone()).unwrap();
        let ctx = super::super::tests::ctx();
        let pts = c.collect(&ctx).unwrap();
        let ifs: Vec<_> = pts
            .iter()
            .map(|p| p.get_tag("interface").unwrap())
            .collect();
        assert_eq!(ifs, ["eth0", "all"], "lo is virtual, eth1 is down");
        assert_eq!(pts[0].get_field("drop_out"), Some(&Value::Uint(4)));
        assert!(pts[0].get_field("bytes_recv/sec").is_none());
        let all = &pts[1];
        assert_eq!(all.get_field("tcp_maxconn"), Some(&Value::Int(-1)));
        assert_eq!(all.get_field("udp_memerrors"), Some(&Value::Int(0)));
        assert!(
            all.get_field("tcp_newkey").is_none(),
            "undeclared kernel keys are left out"
        );
        assert!(all.get_field("udplite_indatagrams").is_none());

        std::fs::write(roots.proc("net/dev"), DEV.replace("266307627", "266317627")).unwrap();
        let pts = c.collect(&ctx).unwrap();
        assert!(matches!(pts[0].get_field("bytes_recv/sec"), Some(Value::Int(r)) if *r > 0));
        assert!(pts[1].get_field("tcp_insegs/sec").is_some());
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &pts, &[]).is_empty());

        let cfg = NetConfig {
            enable_virtual_interfaces: true,
            interfaces: vec!["^lo$".into()],
            ignore_protocol_stats: true,
            ..NetConfig::default()
        };
        let mut c = NetCollector::new(&cfg, roots).unwrap();
        let pts = c.collect(&ctx).unwrap();
        assert_eq!(pts.len(), 1);
        assert_eq!(pts[0].get_tag("interface"), Some("lo"));
    }
}
