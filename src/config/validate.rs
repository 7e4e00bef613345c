//! Checks of the main config beyond types. Adjustments that protect mode makes are applied
//! here and reported as warnings.

use super::main_conf::MainConfig;
use crate::diag::Severity;

/// A finding about a key of the main config.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Key path, e.g. `dataway.urls[0]`.
    pub path: String,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// Other keys the check read besides `path` (a check of one key against another): when
    /// one of them failed to decode, the check saw its default and the issue is not reported.
    pub reads: Vec<String>,
}

fn err(path: impl Into<String>, message: impl Into<String>) -> Issue {
    Issue {
        path: path.into(),
        severity: Severity::Error,
        message: message.into(),
        help: None,
        reads: Vec::new(),
    }
}

fn warn(path: impl Into<String>, message: impl Into<String>) -> Issue {
    Issue {
        severity: Severity::Warning,
        ..err(path, message)
    }
}

impl Issue {
    fn help(mut self, h: impl Into<String>) -> Self {
        self.help = Some(h.into());
        self
    }

    fn reads(mut self, keys: &[&str]) -> Self {
        self.reads.extend(keys.iter().map(|k| k.to_string()));
        self
    }
}

/// The smallest DataWay body protect mode allows.
pub const MIN_RAW_BODY_SIZE: u64 = 100 * 1024;

/// Log levels the agent understands.
pub const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// Parses a DataWay URL enough to check it: `http(s)://host[:port][/path][?query]`.
pub fn check_url(url: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| "not an absolute URL (expected http:// or https://)".to_string())?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!(
            "scheme `{scheme}` is not supported (use http or https)"
        ));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let hostname = match host.rsplit_once(':') {
        Some((h, _)) if !h.ends_with(']') || h.starts_with('[') => h,
        _ => host,
    };
    if host.is_empty() || hostname.is_empty() {
        return Err("the URL has no host".into());
    }
    if let Some((h, port)) = host.rsplit_once(':')
        && !h.ends_with(']')
        && !h.contains(':')
        && port.parse::<u16>().is_err()
    {
        return Err(format!("invalid port `{port}`"));
    }
    Ok(())
}

/// Checks that `pattern` is a valid regular expression (the `regex` crate's syntax) without
/// compiling it: parsing costs a tenth of a compile, which keeps `check-config` fast.
pub fn check_regex(pattern: &str) -> Result<(), String> {
    regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map(|_| ())
        .map_err(|e| match e {
            regex_syntax::Error::Parse(p) => p.kind().to_string(),
            regex_syntax::Error::Translate(t) => t.kind().to_string(),
            other => other.to_string(),
        })
}

/// Checks `host:port`, `[v6]:port` or an absolute Unix socket path.
pub fn check_listen(listen: &str) -> Result<(), String> {
    if listen.starts_with('/') {
        return Ok(());
    }
    let (host, port) = listen
        .rsplit_once(':')
        .ok_or_else(|| "expected `host:port` or an absolute socket path".to_string())?;
    port.parse::<u16>()
        .map_err(|_| format!("invalid port `{port}` (expected 0..=65535)"))?;
    if host.starts_with('[') != host.ends_with(']') {
        return Err("unbalanced brackets around an IPv6 address".into());
    }
    Ok(())
}

/// Checks the main config; applies what protect mode adjusts.
/// Checks the main config; `known_inputs` are the inputs `default_enabled_inputs` may name
/// (`None`: not checked).
/// An address or network, `10.0.0.1` or `10.0.0.0/8` (IPv4 or IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: std::net::IpAddr,
    prefix: u8,
}

impl Net {
    pub fn parse(s: &str) -> Result<Net, String> {
        let s = s.trim();
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: std::net::IpAddr = a
            .parse()
            .map_err(|_| format!("`{a}` is not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| format!("`/{p}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(Net { addr, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        use std::net::IpAddr::{V4, V6};
        let (a, b, bits) = match (self.addr, ip) {
            (V4(a), V4(b)) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32u32),
            (V6(a), V6(b)) => (u128::from(a), u128::from(b), 128),
            (V6(a), V4(b)) => match a.to_ipv4_mapped() {
                Some(a) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
                None => return false,
            },
            (V4(a), V6(b)) => match b.to_ipv4_mapped() {
                Some(b) => (u128::from(u32::from(a)), u128::from(u32::from(b)), 32),
                None => return false,
            },
        };
        let prefix = u32::from(self.prefix).min(bits);
        if prefix == 0 {
            return true;
        }
        let shift = bits - prefix;
        (a >> shift) == (b >> shift)
    }
}

pub fn main_config(c: &mut MainConfig, known_inputs: Option<&[&str]>) -> Vec<Issue> {
    let mut out = Vec::new();

    let level = c.logging.level.to_ascii_lowercase();
    if !LOG_LEVELS.contains(&level.as_str()) && level != "warning" {
        out.push(
            err(
                "logging.level",
                format!("unknown log level `{}`", c.logging.level),
            )
            .help(format!("use one of: {}", LOG_LEVELS.join(", "))),
        );
    }

    for (i, url) in c.dataway.urls.iter().enumerate() {
        if let Err(e) = check_url(url) {
            out.push(
                err(
                    format!("dataway.urls[{i}]"),
                    format!("invalid DataWay URL `{url}`: {e}"),
                )
                .help("write it as https://openway.guance.com?token=tkn_..."),
            );
        } else if !url.contains("token=") {
            out.push(
                warn(
                    format!("dataway.urls[{i}]"),
                    "the DataWay URL has no `token=` parameter",
                )
                .help("DataWay rejects writes without the workspace token"),
            );
        }
    }
    match c.dataway.content_encoding.to_ascii_lowercase().as_str() {
        "v1" | "v2" | "line-protocol" | "protobuf" => {}
        other => out.push(
            err(
                "dataway.content_encoding",
                format!("unknown body encoding `{other}`"),
            )
            .help("use `v2` (protobuf) or `v1` (line protocol)"),
        ),
    }
    if !(1..=10).contains(&c.dataway.max_retry_count) {
        let fixed = c.dataway.max_retry_count.clamp(1, 10);
        out.push(warn(
            "dataway.max_retry_count",
            format!(
                "{} is outside 1..=10; {fixed} is used",
                c.dataway.max_retry_count
            ),
        ));
        c.dataway.max_retry_count = fixed;
    }
    if c.protect_mode && c.dataway.max_raw_body_size < MIN_RAW_BODY_SIZE {
        out.push(
            warn(
                "dataway.max_raw_body_size",
                format!(
                    "{} bytes is below the protect-mode minimum; raised to {MIN_RAW_BODY_SIZE}",
                    c.dataway.max_raw_body_size
                ),
            )
            .help("set `protect_mode = false` to allow smaller bodies"),
        );
        c.dataway.max_raw_body_size = MIN_RAW_BODY_SIZE;
    }
    if c.dataway.wal.max_capacity_gb <= 0.0 || !c.dataway.wal.max_capacity_gb.is_finite() {
        out.push(err(
            "dataway.wal.max_capacity_gb",
            "must be a positive number of GiB",
        ));
    }

    let refer = c.pipeline.refer_table_url.trim();
    if !refer.is_empty()
        && let Err(e) = crate::refertable::source(refer)
    {
        out.push(
            err("pipeline.refer_table_url", format!("invalid reference table source: {e}"))
                .help("write it as http://host/tables.json, file:///path/tables.json or /path/tables.json"),
        );
    }

    for name in &c.dataway.wal.no_drop_categories {
        if crate::point::Category::parse(name).is_none() {
            out.push(
                err(
                    "dataway.wal.no_drop_categories",
                    format!("unknown category `{name}`"),
                )
                .help(
                    "use aliases (M, L, O, CO, N, E, T, R, S, P) or names (metric, logging, ...)",
                ),
            );
        }
    }

    if let Err(e) = check_listen(&c.http_api.listen) {
        out.push(err(
            "http_api.listen",
            format!("invalid address `{}`: {e}", c.http_api.listen),
        ));
    }
    if c.http_api.request_rate_limit < 0.0 || !c.http_api.request_rate_limit.is_finite() {
        out.push(err(
            "http_api.request_rate_limit",
            "must be zero (no limit) or a positive number of requests per second",
        ));
    }
    for (i, p) in c.http_api.trusted_proxies.iter().enumerate() {
        if let Err(e) = Net::parse(p) {
            out.push(
                err(format!("http_api.trusted_proxies[{i}]"), e)
                    .help("use an address (`10.0.0.1`) or a network (`10.0.0.0/8`)"),
            );
        }
    }
    for (i, o) in c.http_api.allowed_cors_origins.iter().enumerate() {
        if o != "*" && !(o.starts_with("http://") || o.starts_with("https://")) {
            out.push(
                err(format!("http_api.allowed_cors_origins[{i}]"), format!("`{o}` is not a web origin"))
                    .help("an origin is a scheme and a host, with the port when not the default: `https://app.example.com`"),
            );
        }
    }
    if c.http_api.tls.cert.is_empty() != c.http_api.tls.privkey.is_empty() {
        out.push(
            err("http_api.tls", "TLS needs both `cert` and `privkey`")
                .help("set both files, or neither for plain HTTP"),
        );
    }

    filters(c, &mut out);
    inert(c, &mut out);

    if !(1..=9).contains(&c.io.gzip_level) {
        out.push(err("io.gzip_level", "must be between 1 and 9"));
    }
    for (i, o) in c.outputs.influxdb.iter().enumerate() {
        let at = format!("outputs.influxdb[{i}]");
        if let Err(e) = check_url(&o.url) {
            out.push(err(
                format!("{at}.url"),
                format!("invalid URL `{}`: {e}", o.url),
            ));
        }
        match o.version {
            1 => {
                if o.database.is_empty() {
                    out.push(
                        err(format!("{at}.database"), "API 1 needs a database")
                            .reads(&[&format!("{at}.version")]),
                    );
                }
            }
            2 => {
                if o.org.is_empty() || o.bucket.is_empty() {
                    out.push(err(at.clone(), "API 2 needs `org` and `bucket`"));
                }
            }
            v => out.push(err(
                format!("{at}.version"),
                format!("unknown API version {v}; use 1 or 2"),
            )),
        }
        for (j, cat) in o.categories.iter().enumerate() {
            if crate::point::Category::parse(cat).is_none() {
                out.push(err(
                    format!("{at}.categories[{j}]"),
                    format!("unknown category `{cat}`"),
                ));
            }
        }
    }
    if c.io.max_cache_count == 0 {
        out.push(err("io.max_cache_count", "must be at least 1"));
    }
    if c.io.flush_interval.get().is_zero() {
        out.push(err("io.flush_interval", "must be longer than zero"));
    }

    if c.election.namespace.trim().is_empty() {
        out.push(err("election.namespace", "must not be empty"));
    }
    election(c, &mut out);

    if !c.upgrade.index_url.is_empty()
        && let Err(e) = check_url(&c.upgrade.index_url)
    {
        out.push(err(
            "upgrade.index_url",
            format!("invalid URL `{}`: {e}", c.upgrade.index_url),
        ));
    }

    let names = c.default_enabled_inputs.iter().enumerate();
    for (i, name) in names.filter(|_| known_inputs.is_some()) {
        let known_inputs = known_inputs.unwrap_or_default();
        let bare = name.strip_prefix('-').unwrap_or(name);
        if bare.is_empty() || known_inputs.contains(&bare) {
            continue;
        }
        let near = super::decode::suggest(bare, known_inputs.iter().copied());
        let mut issue = warn(
            format!("default_enabled_inputs[{i}]"),
            format!("unknown input `{bare}`, ignored"),
        );
        issue = match near.first() {
            Some(n) => issue.help(format!("did you mean `{n}`?")),
            None => issue.help(format!("known inputs: {}", known_inputs.join(", "))),
        };
        out.push(issue);
    }
    out
}

/// Keys of the original this agent reads and does not act on (yet): each one set to other than
/// its default is reported, so that no setting is silently ignored.
pub fn inert_keys(c: &MainConfig) -> Vec<(&'static str, bool, &'static str)> {
    let d = MainConfig::default();
    const SINKER: &str = "sinkers (bodies routed to several workspaces by `global_customer_keys`) are not implemented: every body goes to the `[dataway] urls`";
    const REFER: &str = "reference tables are kept in memory (no SQLite)";
    const RUM: &str = "the RUM input is not built: `/v1/write/rum` takes points as any write (no IP lookup, no app id allow-list)";
    const HTTP_REQUEST: &str = "scripts cannot call `http_request()` in this agent";
    vec![
        (
            "dataway.enable_sinker",
            c.dataway.enable_sinker != d.dataway.enable_sinker,
            SINKER,
        ),
        (
            "dataway.global_customer_keys",
            c.dataway.global_customer_keys != d.dataway.global_customer_keys,
            SINKER,
        ),
        (
            "http_api.close_idle_connection",
            c.http_api.close_idle_connection != d.http_api.close_idle_connection,
            "the HTTP API keeps idle keep-alive connections until the client closes them or the connection table needs the slot",
        ),
        (
            "http_api.rum_origin_ip_header",
            c.http_api.rum_origin_ip_header != d.http_api.rum_origin_ip_header,
            RUM,
        ),
        (
            "http_api.rum_app_id_white_list",
            c.http_api.rum_app_id_white_list != d.http_api.rum_app_id_white_list,
            RUM,
        ),
        (
            "resource_limit.disable_oom",
            c.resource_limit.disable_oom != d.resource_limit.disable_oom,
            "the agent does not change its OOM-killer score",
        ),
        (
            "dataway.ntp",
            c.dataway.ntp != d.dataway.ntp,
            "point times are not corrected by DataWay's clock: keep the host's clock synchronised (NTP)",
        ),
        (
            "logging.gin_log",
            c.logging.gin_log != d.logging.gin_log,
            "the HTTP API writes no access log; its requests are counted in `datakit monitor` (HTTP) and /metrics",
        ),
        (
            "pipeline.use_sqlite",
            c.pipeline.use_sqlite != d.pipeline.use_sqlite,
            REFER,
        ),
        (
            "pipeline.sqlite_mem_mode",
            c.pipeline.sqlite_mem_mode != d.pipeline.sqlite_mem_mode,
            REFER,
        ),
        (
            "pipeline.offload",
            c.pipeline.offload != d.pipeline.offload,
            "points are not offloaded to other agents: scripts run here",
        ),
        (
            "pipeline.ipdb_type",
            c.pipeline.ipdb_type != d.pipeline.ipdb_type,
            "no IP database is loaded: `geoip()` finds nothing",
        ),
        (
            "pipeline.disable_http_request_func",
            c.pipeline.disable_http_request_func != d.pipeline.disable_http_request_func,
            HTTP_REQUEST,
        ),
        (
            "pipeline.http_request_host_whitelist",
            c.pipeline.http_request_host_whitelist != d.pipeline.http_request_host_whitelist,
            HTTP_REQUEST,
        ),
        (
            "pipeline.http_request_cidr_whiltelist",
            c.pipeline.http_request_cidr_whiltelist != d.pipeline.http_request_cidr_whiltelist,
            HTTP_REQUEST,
        ),
        (
            "pipeline.http_request_disable_internal_net",
            c.pipeline.http_request_disable_internal_net
                != d.pipeline.http_request_disable_internal_net,
            HTTP_REQUEST,
        ),
        (
            "enable_debug_fields",
            c.enable_debug_fields != d.enable_debug_fields,
            "scripts add no debug fields in this agent",
        ),
        (
            "io.feed_chan_size",
            c.io.feed_chan_size != d.io.feed_chan_size,
            "points go from producers through the journal: there is no feed channel to size",
        ),
    ]
}

fn inert(c: &MainConfig, out: &mut Vec<Issue>) {
    for (path, set, why) in inert_keys(c) {
        if set {
            out.push(warn(path, format!("`{path}` has no effect in this agent")).help(why));
        }
    }
}

/// `[io.filters]`: a rule that does not parse, or a category that does not exist, is ignored
/// (the other rules apply), as in the original; each is reported with where.
fn filters(c: &MainConfig, out: &mut Vec<Issue>) {
    for (name, rules) in &c.io.filters {
        if crate::point::Category::parse(name).is_none() {
            out.push(
                warn(
                    format!("io.filters.{name}"),
                    format!("unknown category `{name}`: its rules are ignored"),
                )
                .help("use names (metric, logging, object, ...) or aliases (M, L, O, ...)"),
            );
            continue;
        }
        for (i, rule) in rules.iter().enumerate() {
            if let Err(e) = crate::filter::check(rule) {
                out.push(
                    warn(
                        format!("io.filters.{name}[{i}]"),
                        format!(
                            "rule ignored: at {}:{} of the rule: {}",
                            e.line, e.column, e.message
                        ),
                    )
                    .help(format!("the rule: {rule}")),
                );
            }
        }
    }
}

/// The shortest lease the election accepts: renewals every third of it must fit in.
pub const MIN_LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(2);

fn election(c: &MainConfig, out: &mut Vec<Issue>) {
    let e = &c.election;
    match e.backend.as_str() {
        "dataway" => {
            if e.enable {
                match c.dataway.urls.first() {
                    None => out.push(
                        err(
                            "election.backend",
                            "the `dataway` election backend needs a DataWay: `[dataway] urls` is empty",
                        )
                        .help("set `[dataway] urls`, or use `backend = \"etcd\"`")
                        .reads(&["election.enable", "dataway.urls"]),
                    ),
                    Some(url) if check_url(url).is_ok() && !url.contains("token=") => out.push(
                        err(
                            "dataway.urls[0]",
                            "election through DataWay needs the workspace token in the first DataWay URL",
                        )
                        .help("write it as https://openway.guance.com?token=tkn_...")
                        .reads(&["election.enable", "election.backend"]),
                    ),
                    Some(_) => {}
                }
            }
        }
        "etcd" => {
            if e.enable && e.etcd.endpoints.is_empty() {
                out.push(
                    err(
                        "election.etcd.endpoints",
                        "the `etcd` election backend needs at least one endpoint",
                    )
                    .help("e.g. endpoints = [\"http://127.0.0.1:2379\"]")
                    .reads(&["election.enable", "election.backend"]),
                );
            }
        }
        other => out.push(
            err(
                "election.backend",
                format!("unknown election backend `{other}`"),
            )
            .help("use `dataway` or `etcd`"),
        ),
    }
    for (i, url) in e.etcd.endpoints.iter().enumerate() {
        if let Err(why) = check_url(url) {
            out.push(
                err(
                    format!("election.etcd.endpoints[{i}]"),
                    format!("invalid etcd endpoint `{url}`: {why}"),
                )
                .help("write it as http://host:2379 or https://host:2379"),
            );
        }
    }
    if e.etcd.cert_file.is_empty() != e.etcd.key_file.is_empty() {
        let key = if e.etcd.cert_file.is_empty() {
            "election.etcd.key_file"
        } else {
            "election.etcd.cert_file"
        };
        out.push(
            err(
                key,
                "a client certificate needs both `cert_file` and `key_file`",
            )
            .help("set both files, or neither")
            .reads(&["election.etcd.cert_file", "election.etcd.key_file"]),
        );
    }
    if e.etcd.key_prefix.is_empty() {
        out.push(err("election.etcd.key_prefix", "must not be empty"));
    }
    if e.lease_ttl.get() < MIN_LEASE_TTL {
        out.push(err(
            "election.lease_ttl",
            format!(
                "{:?} is too short: the lease must be at least {MIN_LEASE_TTL:?}",
                e.lease_ttl.get()
            ),
        ));
    }
    if e.etcd.timeout.get().is_zero() {
        out.push(err("election.etcd.timeout", "must be longer than zero"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_contain() {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains(ip("10.200.1.1")));
        assert!(!n.contains(ip("11.0.0.1")));
        assert!(
            Net::parse("192.168.1.7")
                .unwrap()
                .contains(ip("192.168.1.7"))
        );
        assert!(
            !Net::parse("192.168.1.7")
                .unwrap()
                .contains(ip("192.168.1.8"))
        );
        assert!(Net::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        assert!(
            Net::parse("2001:db8::/32")
                .unwrap()
                .contains(ip("2001:db8:1::1"))
        );
        assert!(
            Net::parse("10.0.0.0/8")
                .unwrap()
                .contains(ip("::ffff:10.1.2.3"))
        );
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(Net::parse("10.0.0.0/33").is_err());
        assert!(Net::parse("example.com").is_err());
    }
    use crate::config::main_conf::DEFAULT_ENABLED_INPUTS;

    #[test]
    fn urls() {
        assert!(check_url("https://openway.guance.com?token=tkn_x").is_ok());
        assert!(check_url("http://127.0.0.1:9528/v1?token=a").is_ok());
        assert!(check_url("http://[::1]:80").is_ok());
        assert!(check_url("openway.guance.com").is_err());
        assert!(check_url("ftp://x").is_err());
        assert!(check_url("http://:80").is_err());
        assert!(check_url("http://host:99999").is_err());
    }

    #[test]
    fn regexes() {
        assert!(check_regex("datakit_cpu_.*").is_ok());
        assert!(check_regex(r"^\d{4}-\d{2}").is_ok());
        assert_eq!(check_regex("a(b").unwrap_err(), "unclosed group");
    }

    #[test]
    fn listen_addresses() {
        assert!(check_listen("localhost:9529").is_ok());
        assert!(check_listen("[::]:9529").is_ok());
        assert!(check_listen("/run/datakit.sock").is_ok());
        assert!(check_listen("localhost").is_err());
        assert!(check_listen("localhost:http").is_err());
    }

    #[test]
    fn defaults_are_valid() {
        let mut c = MainConfig::default();
        assert_eq!(main_config(&mut c, Some(DEFAULT_ENABLED_INPUTS)), vec![]);
    }

    #[test]
    fn keys_without_effect_are_reported_when_set() {
        let mut c = MainConfig::default();
        c.dataway.enable_sinker = true;
        c.pipeline.use_sqlite = true;
        c.dataway.ntp.enable = false;
        let issues = main_config(&mut c, None);
        let got: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            got,
            [
                "dataway.enable_sinker",
                "dataway.ntp",
                "pipeline.use_sqlite"
            ]
        );
        assert_eq!(
            issues[0].message,
            "`dataway.enable_sinker` has no effect in this agent"
        );
        assert!(
            issues
                .iter()
                .all(|i| i.severity == Severity::Warning && i.help.is_some())
        );
    }

    #[test]
    fn filter_rules_that_do_not_parse_are_reported_with_where() {
        let mut c = MainConfig::default();
        c.io.filters = std::collections::BTreeMap::from([
            (
                "logging".to_string(),
                vec!["{ source = 'a' }".to_string(), "{ source = }".to_string()],
            ),
            ("nope".to_string(), vec!["{ a = 1 }".to_string()]),
        ]);
        let issues = main_config(&mut c, None);
        let got: Vec<(String, String)> = issues
            .iter()
            .map(|i| (i.path.clone(), i.message.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "io.filters.logging[1]".to_string(),
                    "rule ignored: at 1:12 of the rule: expected a key or a value, found `}`"
                        .to_string()
                ),
                (
                    "io.filters.nope".to_string(),
                    "unknown category `nope`: its rules are ignored".to_string()
                ),
            ]
        );
        assert!(issues.iter().all(|i| i.severity == Severity::Warning));
    }

    #[test]
    fn election_settings_are_checked() {
        let mut c = MainConfig::default();
        c.election.enable = true;
        let paths = |c: &mut MainConfig| -> Vec<String> {
            main_config(c, Some(DEFAULT_ENABLED_INPUTS))
                .into_iter()
                .map(|i| i.path)
                .collect()
        };
        assert_eq!(
            paths(&mut c),
            vec!["election.backend"],
            "dataway backend without DataWay"
        );
        c.dataway.urls = vec!["http://127.0.0.1:9528".into()];
        assert!(paths(&mut c).contains(&"dataway.urls[0]".to_string()));
        c.dataway.urls = vec!["http://127.0.0.1:9528?token=tkn_x".into()];
        assert!(paths(&mut c).is_empty());
        c.election.backend = "etcd".into();
        assert_eq!(paths(&mut c), vec!["election.etcd.endpoints"]);
        c.election.etcd.endpoints = vec!["127.0.0.1:2379".into()];
        assert_eq!(paths(&mut c), vec!["election.etcd.endpoints[0]"]);
        c.election.etcd.endpoints = vec!["http://127.0.0.1:2379".into()];
        c.election.etcd.cert_file = "c.pem".into();
        c.election.lease_ttl = crate::config::Dur::from_millis(500);
        assert_eq!(
            paths(&mut c),
            vec!["election.etcd.cert_file", "election.lease_ttl"]
        );
        c.election.backend = "zookeeper".into();
        assert!(paths(&mut c).contains(&"election.backend".to_string()));
    }

    #[test]
    fn protect_mode_raises_small_bodies() {
        let mut c = MainConfig::default();
        c.dataway.max_raw_body_size = 10;
        let issues = main_config(&mut c, Some(DEFAULT_ENABLED_INPUTS));
        assert_eq!(issues.len(), 1);
        assert_eq!(c.dataway.max_raw_body_size, MIN_RAW_BODY_SIZE);
        let mut c = MainConfig {
            protect_mode: false,
            ..MainConfig::default()
        };
        c.dataway.max_raw_body_size = 10;
        assert!(main_config(&mut c, Some(DEFAULT_ENABLED_INPUTS)).is_empty());
        assert_eq!(c.dataway.max_raw_body_size, 10);
    }
}

/// No silent key: every key of `datakit.conf`'s schema is either read by the agent's code
/// (outside the config machinery and this validation) or reported by [`inert_keys`].
#[cfg(test)]
mod no_silent_key {
    use std::path::Path;

    use super::*;
    use crate::config::schema::{ConfType, SectionDoc};

    /// Every `.rs` file under `dir`, with its test modules cut off.
    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                sources(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let name = p.display().to_string();
                if name.ends_with("/tests.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let text = match text.find("#[cfg(test)]\nmod ") {
                    Some(i) => text[..i].to_string(),
                    None => text,
                };
                out.push((name, text));
            }
        }
    }

    /// Whether `.field` appears as a read (not a method call, not a struct literal's field),
    /// outside comments.
    fn reads(text: &str, field: &str) -> bool {
        let pat = format!(".{field}");
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .any(|l| {
                l.match_indices(&pat).any(|(i, _)| {
                    let rest = &l[i + pat.len()..];
                    let boundary = rest
                        .chars()
                        .next()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                    boundary && !rest.trim_start().starts_with('(')
                })
            })
    }

    fn walk(doc: &SectionDoc, path: &str, check: &mut dyn FnMut(&str, &str, bool)) {
        for k in doc.keys {
            let p = if path.is_empty() {
                k.key().to_string()
            } else {
                format!("{path}.{}", k.key())
            };
            let field = k.name.strip_prefix("r#").unwrap_or(k.name);
            match (k.section)() {
                Some(sub) => {
                    check(&p, field, true);
                    walk(sub, &p, check);
                }
                None => check(&p, field, false),
            }
        }
    }

    #[test]
    fn every_key_is_read_or_reported_as_inert() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("commands"), &mut files);
        // The config machinery decodes, documents and validates keys: that is not acting on
        // them. (main_conf.rs stays: its declarations are not `.key` reads, and its accessors,
        // such as `wal.no_drop()`, are how some keys are read.)
        files.retain(|(n, _)| {
            ![
                "/src/config/validate.rs",
                "/src/config/schema.rs",
                "/src/config/sample.rs",
                "/src/config/decode.rs",
            ]
            .iter()
            .any(|x| n.ends_with(x))
        });
        assert!(
            files.len() > 50,
            "the sources were not found under {}",
            root.display()
        );
        let inert: Vec<&str> = inert_keys(&MainConfig::default())
            .into_iter()
            .map(|(k, _, _)| k)
            .collect();
        let doc = MainConfig::section().expect("datakit.conf's schema");
        let mut silent = Vec::new();
        walk(doc, "", &mut |path, field, is_section| {
            let marked = inert
                .iter()
                .any(|i| path == *i || path.starts_with(&format!("{i}.")));
            if marked || is_section {
                return;
            }
            if !files.iter().any(|(_, t)| reads(t, field)) {
                silent.push(path.to_string());
            }
        });
        assert!(
            silent.is_empty(),
            "keys of datakit.conf that no code reads and inert_keys() does not report: {silent:?}"
        );
    }

    #[test]
    fn the_check_finds_an_unread_key() {
        assert!(reads(
            "let x = c.pipeline.refer_table_url;",
            "refer_table_url"
        ));
        assert!(!reads("// c.pipeline.refer_table_url", "refer_table_url"));
        assert!(!reads("c.refer_table_url_other", "refer_table_url"));
        assert!(!reads("x.refer_table_url()", "refer_table_url"));
    }
}
