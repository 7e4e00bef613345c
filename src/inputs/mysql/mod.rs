//! `mysql`: metrics of one MySQL or MariaDB server with the original's names — `mysql`
//! (global status and variables), `mysql_schema`, `mysql_table_schema`, `mysql_user_status`,
//! `mysql_innodb`, `mysql_replication` and the logging point `mysql_replication_log`, custom
//! queries, the `collector` up-metric — and, with `[inputs.mysql.log]`, its error and slow
//! logs through the log tailer with the built-in `mysql.p`.
//!
//! Every interval, on a scrape-lane thread, one connection (kept between collections, made
//! again after any failure) runs the statements of the enabled metric sets. Each statement's
//! answer must come within `connect_timeout`, so a server that stops answering costs one
//! timeout, never a stuck thread.
//!
//! A failure to connect, log in or run `SHOW GLOBAL STATUS` sends `up = 0` and is counted with
//! the target in the message (the password never shown), in `datakit monitor` and
//! `lasterror`; an error answer to a later statement (a user without the privilege, a table a
//! server does not have) leaves that part out and is counted too.
//!
//! The client is [`wire`], a client of its own for the text protocol (about 600 lines): the
//! `mysql` crate with rustls adds 48 crates (among them a second TLS crypto library built from
//! C, `aws-lc-sys`, and `url` with the ICU tables) for the handful of statements the input
//! runs.

pub mod innodb;
mod schema;
pub mod wire;

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_rustls::rustls;

use super::{
    Input, InputConfig, InputCtx, InputEntry, InputError, InputSpec, IntervalLimits, Validation,
    entry_with_compat,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::point::{Category, Point, Value};
use wire::{Conn, Endpoint, Login, MysqlError, ResultSet};

const NAME: &str = "mysql";

/// The metric sets `metric_exclude_list` can name.
const METRIC_SETS: &[&str] = &[
    "mysql",
    "mysql_replication",
    "mysql_schema",
    "mysql_table_schema",
    "mysql_user_status",
    "mysql_innodb",
    "mysql_replication_log",
    "mysql_dbm_metric",
    "mysql_dbm_sample",
    "mysql_dbm_activity",
];

config_struct! {
    "TLS to the server. It is used when any of these keys is set."
    pub struct MysqlTlsConfig {
        "CA certificate file (PEM) that verifies the server; empty uses the built-in roots."
        pub tls_ca: String = String::new(),
        "Client certificate file (PEM), with `tls_key`."
        pub tls_cert: String = String::new(),
        "Client private key file (PEM)."
        pub tls_key: String = String::new(),
        "Use TLS but accept any server certificate and name."
        pub insecure_skip_verify: bool = false,
        "TLS 1.0 and 1.1 are not supported by this agent (`true` is refused)."
        pub allow_tls10: bool = false,
    }
}

config_struct! {
    "MySQL's log files (error log, slow log), tailed with a Pipeline script."
    pub struct MysqlLogConfig {
        "Log files or globs (`/var/log/mysql/*.log`); empty tails none."
        pub files: Vec<String> = Vec::new(),
        "The Pipeline script; empty uses the built-in `mysql.p` (error-log lines and slow-log entries)."
        pub pipeline: String = String::new(),
        "Statuses (after `mysql.p`: `info`, `warning`, `error`, ...) whose records are dropped (and counted)."
        pub ignore: Vec<String> = Vec::new(),
        "Character encoding of the files: `utf-8`, `utf-16le`, `utf-16be`, `gbk`, `gb18030`, or empty."
        pub character_encoding: String = String::new(),
        "A regular expression for the first line of a record: a slow-log entry (`# Time`) and an error-log line (a date) start one."
        alias("match")
        pub multiline_match: String = r"^(# Time|\d{4}-\d{2}-\d{2}|\d{6}\s+\d{2}:\d{2}:\d{2}).*".into(),
    }
}

config_struct! {
    "A statement whose rows become points."
    pub struct CustomQueryConfig {
        "The statement."
        pub sql: String = String::new(),
        "Measurement of its points."
        pub metric: String = String::new(),
        "Columns sent as tags."
        pub tags: Vec<String> = Vec::new(),
        "Columns sent as fields (as floats; a value that is not a number is left out and reported)."
        pub fields: Vec<String> = Vec::new(),
        "How often it runs (at least 10s, at most 15m, rounded up to the input's interval); empty or 0 runs it every collection."
        pub interval: Dur = Dur::from_secs(0),
    }
}

config_struct! {
    "Collects MySQL and MariaDB metrics (status, variables, schemas, tables, users, InnoDB, replication, custom queries) and, optionally, its logs."
    pub struct MysqlConfig {
        "Server host name or address."
        pub host: String = "localhost".into(),
        "Server port."
        pub port: u16 = 3306,
        "User name."
        pub user: String = "datakit".into(),
        "Password."
        pub pass: String = String::new(),
        "Connect through this unix socket instead of `host:port` (`/var/run/mysqld/mysqld.sock`)."
        pub sock: String = String::new(),
        "Character set of the connection (`SET NAMES`); empty keeps the server's default for utf8mb4."
        pub charset: String = String::new(),
        "Limit for connecting and logging in, and for each statement's answer."
        pub connect_timeout: Dur = Dur::from_secs(10),
        "Deprecated in the original: sets the `service_name` tag."
        pub service: String = String::new(),
        "Collection interval (10s to 15m)."
        pub interval: Dur = Dur::from_secs(10),
        "Collect `mysql_innodb`."
        pub innodb: bool = true,
        "Tables of `mysql_table_schema`; empty sends every table outside the system schemas."
        pub tables: Vec<String> = Vec::new(),
        "Users of `mysql_user_status`; empty sends every user of `mysql.user`."
        pub users: Vec<String> = Vec::new(),
        "Collect `mysql_replication` and `mysql_replication_log` (`SHOW SLAVE STATUS`)."
        pub replication: bool = false,
        "Collect the group replication statistics into `mysql_replication`."
        pub group_replication: bool = false,
        "Metric sets not collected: `mysql`, `mysql_schema`, `mysql_table_schema`, `mysql_user_status`, `mysql_innodb`, `mysql_replication`, `mysql_replication_log`."
        pub metric_exclude_list: Vec<String> = Vec::new(),
        "Leader election: with `[election] enable`, only the elected agent collects (the logs are tailed on every agent), and its points get the election tags instead of the host tags."
        pub election: bool = true,
        "Statements whose rows become points, each a `[[inputs.mysql.custom_queries]]` table."
        pub custom_queries: Vec<CustomQueryConfig> = Vec::new(),
        "TLS to the server."
        pub tls: MysqlTlsConfig = MysqlTlsConfig::default(),
        "MySQL's logs."
        pub log: MysqlLogConfig = MysqlLogConfig::default(),
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

/// Keys of the original's `mysql` that this input reads without acting on them.
fn compat(key: &str) -> Option<&'static str> {
    const DBM: &str = "database monitoring (statement metrics, samples and activity: `mysql_dbm_metric`, `mysql_dbm_sample`, `mysql_dbm_activity`) is not supported by this agent";
    let top = key.split(['.', '[']).next().unwrap_or(key);
    Some(match top {
        "dbm" | "dbm_metric" | "dbm_sample" | "dbm_activity" => DBM,
        "object" => {
            "the `mysql_object` object and the `database` custom object are not sent by this agent"
        }
        "match" => "deprecated in the original: write `log.multiline_match`",
        _ => return None,
    })
}

/// A status or variable value as the original sends it: an unsigned integer, else a
/// signed one.
fn status_value(s: &str) -> Option<Value> {
    if let Ok(v) = s.parse::<u64>() {
        return Some(Value::Uint(v));
    }
    s.parse::<i64>().ok().map(Value::Int)
}

/// A value's text as the original sends an integer field: a signed integer, else an
/// unsigned one.
fn int_value(s: &str) -> Option<Value> {
    if let Ok(v) = s.parse::<i64>() {
        return Some(Value::Int(v));
    }
    s.parse::<u64>().ok().map(Value::Uint)
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Int(i) => u64::try_from(*i).ok(),
        Value::Uint(u) => Some(*u),
        _ => None,
    }
}

/// `'a','b'` for an `IN` list, quotes and backslashes escaped.
fn sql_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",")
}

fn is_local(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl MysqlConfig {
    fn tls_enabled(&self) -> bool {
        let t = &self.tls;
        !t.tls_ca.is_empty()
            || !t.tls_cert.is_empty()
            || !t.tls_key.is_empty()
            || t.insecure_skip_verify
    }

    /// Where to connect, how errors show it (no password), and `host:port`.
    fn endpoint(&self) -> (Endpoint, String, String) {
        let addr = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let user = match (self.user.is_empty(), self.pass.is_empty()) {
            (true, true) => String::new(),
            (true, false) => ":***@".to_string(),
            (false, true) => format!("{}@", self.user),
            (false, false) => format!("{}:***@", self.user),
        };
        if !self.sock.is_empty() {
            let p = self.sock.clone();
            (
                Endpoint::Unix(p.clone()),
                format!("mysql+unix://{user}{p}"),
                addr,
            )
        } else {
            let scheme = if self.tls_enabled() {
                "mysqls"
            } else {
                "mysql"
            };
            (
                Endpoint::Tcp(addr.clone(), self.host.trim_matches(['[', ']']).to_string()),
                format!("{scheme}://{user}{addr}"),
                addr,
            )
        }
    }

    fn tls_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, String> {
        if !self.tls_enabled() || !self.sock.is_empty() {
            return Ok(None);
        }
        tls::client_config(&self.tls).map(Some)
    }

    fn logging(&self) -> Option<super::logging::LoggingConfig> {
        if self.log.files.is_empty() {
            return None;
        }
        Some(super::logging::LoggingConfig {
            logfiles: self.log.files.clone(),
            source: NAME.into(),
            service: NAME.into(),
            pipeline: self.log.pipeline.clone(),
            ignore_status: self.log.ignore.clone(),
            character_encoding: self.log.character_encoding.clone(),
            multiline_match: self.log.multiline_match.clone(),
            tags: self.tags.clone(),
            ..Default::default()
        })
    }

    fn excluded(&self, set: &str) -> bool {
        self.metric_exclude_list.iter().any(|s| s == set)
    }
}

mod tls {
    //! The rustls client configuration of `[inputs.mysql.tls]`.

    use std::sync::Arc;

    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

    use super::MysqlTlsConfig;

    /// Accepts any certificate (`insecure_skip_verify`), still checking the handshake's
    /// signatures.
    #[derive(Debug)]
    struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

    impl rustls::client::danger::ServerCertVerifier for AnyCert {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    pub fn client_config(t: &MysqlTlsConfig) -> Result<Arc<rustls::ClientConfig>, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("tls: {e}"))?;
        let builder = if t.insecure_skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
        } else {
            let mut roots = rustls::RootCertStore::empty();
            if t.tls_ca.is_empty() {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            } else {
                let certs = CertificateDer::pem_file_iter(&t.tls_ca)
                    .map_err(|e| format!("tls.tls_ca: cannot read {}: {e}", t.tls_ca))?;
                let mut n = 0;
                for c in certs {
                    let c = c.map_err(|e| format!("tls.tls_ca: {}: {e}", t.tls_ca))?;
                    roots
                        .add(c)
                        .map_err(|e| format!("tls.tls_ca: {}: {e}", t.tls_ca))?;
                    n += 1;
                }
                if n == 0 {
                    return Err(format!("tls.tls_ca: no PEM certificate in {}", t.tls_ca));
                }
            }
            builder.with_root_certificates(roots)
        };
        let cfg = if !t.tls_cert.is_empty() && !t.tls_key.is_empty() {
            let chain = CertificateDer::pem_file_iter(&t.tls_cert)
                .map_err(|e| format!("tls.tls_cert: cannot read {}: {e}", t.tls_cert))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("tls.tls_cert: {}: {e}", t.tls_cert))?;
            let key = PrivateKeyDer::from_pem_file(&t.tls_key)
                .map_err(|e| format!("tls.tls_key: {}: {e}", t.tls_key))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("tls.tls_cert: {e}"))?
        } else {
            builder.with_no_client_auth()
        };
        Ok(Arc::new(cfg))
    }
}

impl InputConfig for MysqlConfig {
    fn interval(&self) -> Option<Dur> {
        Some(self.interval)
    }
    fn set_interval(&mut self, interval: Dur) {
        self.interval = interval;
    }
    fn validate(&self, v: &mut Validation) {
        crate::inputs::host::check_interval(v, "interval", self.interval);
        crate::inputs::host::check_interval(v, "connect_timeout", self.connect_timeout);
        crate::inputs::host::check_tags(v, &self.tags);
        if self.sock.is_empty() {
            if self.host.trim().is_empty() {
                v.error("host", "empty: set the server's host (or `sock`)");
            }
            if self.port == 0 {
                v.error("port", "must be a port number (1-65535)");
            }
        }
        if !self.charset.is_empty()
            && !self
                .charset
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            v.error(
                "charset",
                format!(
                    "`{}` is not a character set name (`utf8mb4`, `latin1`, ...)",
                    self.charset
                ),
            );
        }
        for (i, s) in self.metric_exclude_list.iter().enumerate() {
            if !s.is_empty() && !METRIC_SETS.contains(&s.as_str()) {
                v.warning(
                    &format!("metric_exclude_list[{i}]"),
                    format!(
                        "`{s}` is not a metric set of this input ({})",
                        METRIC_SETS[..7].join(", ")
                    ),
                );
            }
        }
        if self.tls.allow_tls10 {
            v.error(
                "tls.allow_tls10",
                "TLS 1.0 and 1.1 are not supported by this agent (rustls speaks TLS 1.2 and 1.3)",
            );
        }
        if self.tls.tls_cert.is_empty() != self.tls.tls_key.is_empty() {
            v.error("tls.tls_key", "`tls_cert` and `tls_key` go together")
                .reads(&["tls.tls_cert"]);
        }
        if self.tls_enabled() && !self.sock.is_empty() {
            v.warning(
                "tls",
                "not used over the unix socket (`sock`): the socket is not encrypted",
            );
        }
        for (i, q) in self.custom_queries.iter().enumerate() {
            let key = |k: &str| format!("custom_queries[{i}].{k}");
            if q.sql.trim().is_empty() {
                v.error(&key("sql"), "empty: the statement to run");
            }
            if q.metric.trim().is_empty() {
                v.error(&key("metric"), "empty: the measurement of its points");
            }
            if q.fields.is_empty() {
                v.error(
                    &key("fields"),
                    "empty: a point needs at least one field column",
                );
            }
        }
        if let Some(l) = self.logging() {
            let mut lv = Validation::default();
            l.validate(&mut lv);
            for i in lv.issues {
                let key = match i.key.as_str() {
                    "logfiles" => "log.files".to_string(),
                    k if k.starts_with("logfiles[") => {
                        format!("log.files{}", &k["logfiles".len()..])
                    }
                    "pipeline" => "log.pipeline".to_string(),
                    "ignore_status" => "log.ignore".to_string(),
                    "multiline_match" => "log.multiline_match".to_string(),
                    "character_encoding" => "log.character_encoding".to_string(),
                    k => k.to_string(),
                };
                match i.severity {
                    crate::diag::Severity::Error => v.error(&key, i.message),
                    crate::diag::Severity::Warning => v.warning(&key, i.message),
                };
            }
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn election_enabled(&self) -> bool {
        self.election
    }
    fn build(&self) -> Result<Box<dyn Input>, InputError> {
        let log = match self.logging() {
            Some(l) => Some(l.build()?),
            None => None,
        };
        Ok(Box::new(MysqlInput {
            interval: self.interval.get(),
            collector: Collector::new(self).map_err(InputError::Setup)?,
            log,
        }))
    }
}

/// A custom query and when it last ran.
struct Custom {
    q: CustomQueryConfig,
    every: Duration,
    last: Option<Instant>,
}

/// One server's collector: the connection and what it remembers between collections.
pub struct Collector {
    endpoint: Endpoint,
    /// How errors show the target (`mysql://user:***@host:port`).
    target: String,
    login: Login,
    charset: String,
    conn: Option<Conn>,
    tags: Vec<(String, String)>,
    up_tags: Vec<(String, String)>,
    innodb: bool,
    replication: bool,
    group_replication: bool,
    tables: Vec<String>,
    users: Vec<String>,
    excluded: Vec<String>,
    custom: Vec<Custom>,
}

/// What one collection gives.
#[derive(Debug, Default)]
pub struct Outcome {
    pub points: Vec<Point>,
    /// The `collector` up-metric.
    pub up: Option<Point>,
    /// Why the server could not be collected (up = 0).
    pub error: Option<String>,
    /// Statements answered with an error, values that were not numbers: those parts are
    /// left out.
    pub partial: Vec<String>,
}

impl Collector {
    pub fn new(cfg: &MysqlConfig) -> Result<Collector, String> {
        let (endpoint, target, server) = cfg.endpoint();
        let mut tags: BTreeMap<String, String> = cfg.tags.clone();
        if !cfg.service.is_empty() {
            tags.insert("service_name".into(), cfg.service.clone());
        }
        if !tags.contains_key("host") && !is_local(&cfg.host) && !cfg.host.is_empty() {
            tags.insert("host".into(), cfg.host.clone());
        }
        tags.entry("server".into()).or_insert(server.clone());
        let instance = if cfg.sock.is_empty() {
            server
        } else {
            cfg.sock.clone()
        };
        let mut up_tags: Vec<(String, String)> =
            tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        up_tags.retain(|(k, _)| k != "job" && k != "instance");
        up_tags.push(("job".into(), NAME.into()));
        up_tags.push(("instance".into(), instance));
        let interval = cfg.interval.get();
        let custom = cfg
            .custom_queries
            .iter()
            .map(|q| {
                let every = if q.interval.get().is_zero() {
                    interval
                } else {
                    q.interval
                        .get()
                        .clamp(Duration::from_secs(10), Duration::from_secs(900))
                };
                Custom {
                    q: q.clone(),
                    every,
                    last: None,
                }
            })
            .collect();
        Ok(Collector {
            endpoint,
            target,
            login: Login {
                user: cfg.user.clone(),
                password: cfg.pass.clone(),
                tls: cfg.tls_config()?,
                timeout: cfg.connect_timeout.get(),
            },
            charset: cfg.charset.clone(),
            conn: None,
            tags: tags.into_iter().collect(),
            up_tags,
            innodb: cfg.innodb && !cfg.excluded("mysql_innodb"),
            replication: cfg.replication,
            group_replication: cfg.group_replication,
            tables: cfg.tables.clone(),
            users: cfg.users.clone(),
            excluded: cfg.metric_exclude_list.clone(),
            custom,
        })
    }

    fn excluded(&self, set: &str) -> bool {
        self.excluded.iter().any(|s| s == set)
    }

    /// The connection, made (and logged in) if there is none.
    fn conn(&mut self) -> Result<&mut Conn, MysqlError> {
        if self.conn.is_none() {
            let mut c = Conn::connect(&self.endpoint, &self.target, &self.login)?;
            if !self.charset.is_empty() {
                c.query(&format!("SET NAMES {}", self.charset))?;
            }
            self.conn = Some(c);
        }
        // Just set above when it was not there.
        self.conn.as_mut().ok_or_else(|| MysqlError::Closed {
            target: self.target.clone(),
            step: "connect".into(),
        })
    }

    /// A point of `name` with the instance's tags.
    fn point(&self, name: &str, category: Category) -> Point {
        let mut p = Point::new(category, name);
        for (k, v) in &self.tags {
            p.set_tag(k.as_str(), v.as_str());
        }
        p
    }

    /// One collection at `now_ns`.
    pub fn collect(&mut self, now_ns: i64) -> Outcome {
        let mut out = Outcome::default();
        let up = match self.collect_points(&mut out) {
            Ok(()) => 1,
            Err(e) => {
                if e.breaks_connection()
                    && let Some(c) = self.conn.take()
                {
                    c.quit();
                }
                // Connecting, logging in or SHOW GLOBAL STATUS failed, or the connection
                // broke: nothing of this collection is sent but the up-metric.
                out.points.clear();
                out.error = Some(e.to_string());
                0
            }
        };
        let mut p = Point::new(Category::Metric, "collector");
        for (k, v) in &self.up_tags {
            p.set_tag(k.as_str(), v.as_str());
        }
        p.set_field("up", Value::Int(up));
        out.up = Some(p);
        for p in out.points.iter_mut() {
            p.time = now_ns;
        }
        if let Some(p) = out.up.as_mut() {
            p.time = now_ns;
        }
        out
    }

    /// A statement whose error answer leaves its part out (noted in `out.partial`); a broken
    /// connection fails the collection.
    fn optional(&mut self, out: &mut Outcome, sql: &str) -> Result<Option<ResultSet>, MysqlError> {
        match self.conn()?.query(sql) {
            Ok(r) => Ok(Some(r)),
            Err(e) if !e.breaks_connection() => {
                out.partial.push(e.to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn collect_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        let status = name_values(&self.conn()?.query("SHOW /*!50002 GLOBAL */ STATUS")?);
        let variables = match self.optional(out, "SHOW GLOBAL VARIABLES")? {
            Some(r) => name_values(&r),
            None => HashMap::new(),
        };
        let log_bin = variables
            .get("log_bin")
            .is_some_and(|v| v.eq_ignore_ascii_case("on"));
        if !self.excluded("mysql") {
            let mut binlog = None;
            if log_bin && let Some(r) = self.optional(out, "SHOW BINARY LOGS")? {
                let size = r.column("File_size").unwrap_or(1);
                let total: u64 = r
                    .rows
                    .iter()
                    .filter_map(|row| row.get(size)?.as_deref()?.parse::<u64>().ok())
                    .sum();
                binlog = Some(total);
            }
            let p = self.mysql_point(&status, &variables, binlog, out);
            out.points.extend(p);
        }
        if (self.replication || self.group_replication) && !self.excluded("mysql_replication") {
            self.replication_points(out)?;
        }
        if !self.excluded("mysql_schema") {
            self.schema_points(out)?;
        }
        if !self.excluded("mysql_table_schema") {
            self.table_points(out)?;
        }
        if !self.excluded("mysql_user_status") {
            self.user_points(out)?;
        }
        if self.innodb {
            self.innodb_point(&status, out)?;
        }
        self.custom_points(out)?;
        Ok(())
    }

    fn mysql_point(
        &self,
        status: &HashMap<String, String>,
        variables: &HashMap<String, String>,
        binlog: Option<u64>,
        out: &mut Outcome,
    ) -> Option<Point> {
        let mut p = self.point("mysql", Category::Metric);
        let get = |k: &str| variables.get(k).or_else(|| status.get(k));
        for f in schema::mysql_fields() {
            let Some(text) = get(f.name) else { continue };
            match status_value(text.trim()) {
                Some(v) => p.set_field(f.name, v),
                None => out.partial.push(format!(
                    "{}: mysql: `{}` is `{text}`, not an integer: left out",
                    self.target, f.name
                )),
            }
        }
        if let Some(b) = binlog {
            p.set_field("Binlog_space_usage_bytes", Value::Uint(b));
        }
        // The key cache (MyISAM).
        let num = |k: &str| get(k).and_then(|t| t.trim().parse::<u64>().ok());
        if let (Some(unused), Some(block), Some(size)) = (
            num("Key_blocks_unused"),
            num("key_cache_block_size"),
            num("key_buffer_size"),
        ) {
            p.set_field("Key_buffer_size", Value::Uint(size));
            if size != 0 {
                p.set_field(
                    "Key_cache_utilization",
                    Value::Float(1.0 - (unused as f64 * block as f64) / size as f64),
                );
                if let Some(used) = num("Key_blocks_used") {
                    p.set_field(
                        "Key_buffer_bytes_used",
                        Value::Uint(used.saturating_mul(block)),
                    );
                }
                if let Some(nf) = num("Key_blocks_not_flushed") {
                    p.set_field(
                        "Key_buffer_bytes_unflushed",
                        Value::Uint(nf.saturating_mul(block)),
                    );
                }
            }
        }
        (!p.fields.is_empty()).then_some(p)
    }

    fn replication_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        let mut p = self.point("mysql_replication", Category::Metric);
        let mut log = self.point("mysql_replication_log", Category::Logging);
        if self.replication {
            if let Some(r) = self.optional(out, "SHOW SLAVE STATUS")?
                && let Some(row) = r.rows.first()
            {
                for (i, col) in r.columns.iter().enumerate() {
                    let Some(Some(v)) = row.get(i) else { continue };
                    if let Some(f) = schema::replication_field(col) {
                        match f.kind {
                            crate::inputs::FieldType::Bool => {
                                p.set_field(f.name, Value::Bool(v == "Yes"))
                            }
                            _ => {
                                if let Some(n) = v.parse::<i64>().ok().filter(|n| *n >= 0) {
                                    p.set_field(f.name, Value::Int(n));
                                }
                            }
                        }
                    }
                    if let Some(f) = schema::replication_log_field(col) {
                        match f.kind {
                            crate::inputs::FieldType::String => {
                                log.set_field(f.name, Value::Str(v.clone()))
                            }
                            _ => {
                                if let Ok(n) = v.parse::<i64>() {
                                    log.set_field(f.name, Value::Int(n));
                                }
                            }
                        }
                    }
                }
            }
            if let Some(r) = self.optional(
                out,
                "SELECT THREAD_ID, NAME FROM performance_schema.threads WHERE NAME LIKE '%worker'",
            )? {
                p.set_field(
                    "Replicas_connected",
                    Value::Int(i64::try_from(r.rows.len()).unwrap_or(i64::MAX)),
                );
            }
        }
        if self.group_replication
            && let Some(r) = self.optional(
                out,
                "SELECT channel_name, count_transactions_in_queue, count_transactions_checked, \
                 count_conflicts_detected, count_transactions_rows_validating, \
                 count_transactions_remote_in_applier_queue, count_transactions_remote_applied, \
                 count_transactions_local_proposed, count_transactions_local_rollback \
                 FROM performance_schema.replication_group_member_stats \
                 WHERE channel_name IN ('group_replication_applier', 'group_replication_recovery')",
            )?
        {
            for row in &r.rows {
                for (i, col) in r.columns.iter().enumerate() {
                    if let (Some(Some(v)), Some(f)) = (row.get(i), schema::replication_field(col))
                        && let Ok(n) = v.parse::<i64>()
                    {
                        p.set_field(f.name, Value::Int(n));
                    }
                }
            }
        }
        if !p.fields.is_empty() {
            out.points.push(p);
        }
        if self.replication && !self.excluded("mysql_replication_log") && !log.fields.is_empty() {
            out.points.push(log);
        }
        Ok(())
    }

    fn schema_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        if let Some(r) = self.optional(
            out,
            "SELECT table_schema, IFNULL(SUM(data_length+index_length)/1024/1024,0) AS total_mb \
             FROM information_schema.tables GROUP BY table_schema",
        )? {
            for row in &r.rows {
                let (Some(Some(name)), Some(v)) = (row.first(), row.get(1)) else {
                    continue;
                };
                let size = v
                    .as_deref()
                    .and_then(|s| s.parse::<f64>().ok())
                    .unwrap_or(0.0);
                let mut p = self.point("mysql_schema", Category::Metric);
                p.set_tag("schema_name", name.as_str());
                p.set_field("schema_size", Value::Float(size));
                out.points.push(p);
            }
        }
        if let Some(r) = self.optional(
            out,
            "SELECT schema_name, ROUND((SUM(sum_timer_wait) / SUM(count_star)) / 1000000) AS avg_us \
             FROM performance_schema.events_statements_summary_by_digest \
             WHERE schema_name IS NOT NULL GROUP BY schema_name",
        )? {
            for row in &r.rows {
                let (Some(Some(name)), Some(v)) = (row.first(), row.get(1)) else {
                    continue;
                };
                let avg = v
                    .as_deref()
                    .and_then(|s| s.parse::<f64>().ok())
                    .map_or(0, |f| f as i64);
                let mut p = self.point("mysql_schema", Category::Metric);
                p.set_tag("schema_name", name.as_str());
                p.set_field("query_run_time_avg", Value::Int(avg));
                out.points.push(p);
            }
        }
        Ok(())
    }

    fn table_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        let mut sql = String::from(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, IFNULL(ENGINE, 'NONE'), \
             IFNULL(VERSION, '0'), IFNULL(TABLE_ROWS, '0'), IFNULL(DATA_LENGTH, '0'), \
             IFNULL(INDEX_LENGTH, '0'), IFNULL(DATA_FREE, '0') FROM information_schema.tables \
             WHERE TABLE_SCHEMA NOT IN ('mysql', 'performance_schema', 'information_schema', 'sys')",
        );
        if !self.tables.is_empty() {
            sql.push_str(&format!(" AND TABLE_NAME IN ({})", sql_list(&self.tables)));
        }
        let Some(r) = self.optional(out, &sql)? else {
            return Ok(());
        };
        for row in &r.rows {
            let text = |i: usize| row.get(i).and_then(|v| v.as_deref()).unwrap_or("");
            let mut p = self.point("mysql_table_schema", Category::Metric);
            p.set_tag("table_schema", text(0));
            p.set_tag("table_name", text(1));
            p.set_tag("table_type", text(2));
            p.set_tag("engine", text(3));
            p.set_tag("table_version", text(4));
            for (i, f) in [
                (5, "table_rows"),
                (6, "data_length"),
                (7, "index_length"),
                (8, "data_free"),
            ] {
                p.set_field(f, Value::Int(text(i).parse::<i64>().unwrap_or(0)));
            }
            out.points.push(p);
        }
        Ok(())
    }

    fn user_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        let mut sql = String::from("SELECT DISTINCT(user) FROM mysql.user");
        if !self.users.is_empty() {
            sql.push_str(&format!(" WHERE user IN ({})", sql_list(&self.users)));
        }
        let Some(r) = self.optional(out, &sql)? else {
            return Ok(());
        };
        let users: Vec<String> = r
            .rows
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .filter(|u| u != "mysql.session" && u != "mysql.sys")
            .collect();
        for user in users {
            let quoted = sql_list(std::slice::from_ref(&user));
            let mut p = self.point("mysql_user_status", Category::Metric);
            p.set_tag("user", user.as_str());
            if let Some(r) = self.optional(
                out,
                &format!(
                    "SELECT VARIABLE_NAME, VARIABLE_VALUE FROM performance_schema.status_by_user WHERE user = {quoted}"
                ),
            )? {
                for (k, v) in name_values(&r) {
                    let k = k.to_ascii_lowercase();
                    if let Some(f) = schema::user_field(&k)
                        && let Some(v) = int_value(v.trim())
                    {
                        p.set_field(f.name, v);
                    }
                }
            }
            if let Some(r) = self.optional(
                out,
                &format!(
                    "SELECT USER, CURRENT_CONNECTIONS, TOTAL_CONNECTIONS FROM performance_schema.users WHERE user = {quoted}"
                ),
            )? && let Some(row) = r.rows.first()
            {
                for (i, f) in [(1, "current_connect"), (2, "total_connect")] {
                    if let Some(v) = row.get(i).and_then(|v| v.as_deref()).and_then(int_value) {
                        p.set_field(f, v);
                    }
                }
            }
            if !p.fields.is_empty() {
                out.points.push(p);
            }
        }
        Ok(())
    }

    fn innodb_point(
        &mut self,
        status: &HashMap<String, String>,
        out: &mut Outcome,
    ) -> Result<(), MysqlError> {
        let mut values: HashMap<String, Value> = HashMap::new();
        // MariaDB says which counters are on in `ENABLED`, MySQL in `STATUS`.
        let mariadb = self
            .conn
            .as_ref()
            .is_some_and(|c| c.server_version.contains("MariaDB"));
        let metrics = if mariadb {
            "SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE ENABLED = 1"
        } else {
            "SELECT NAME, COUNT FROM information_schema.INNODB_METRICS WHERE status='enabled'"
        };
        if let Some(r) = self.optional(out, metrics)? {
            for (k, v) in name_values(&r) {
                if let Some(v) = int_value(v.trim()) {
                    values.insert(k, v);
                }
            }
        }
        if let Some(r) = self.optional(out, "SHOW /*!50000 ENGINE*/ INNODB STATUS")? {
            match r
                .rows
                .first()
                .and_then(|row| row.get(2))
                .and_then(|v| v.as_deref())
            {
                Some(text) => {
                    for (k, v) in innodb::parse(text) {
                        values.insert(k.to_string(), Value::Int(v));
                    }
                }
                None => out.partial.push(format!(
                    "{}: SHOW ENGINE INNODB STATUS: no status text in the answer",
                    self.target
                )),
            }
        }
        for (k, v) in status {
            if let Some(name) = k.strip_prefix("Innodb_")
                && let Some(v) = status_value(v.trim())
            {
                values.insert(name.to_string(), v);
            }
        }
        if let Some(page) = values.get("page_size").and_then(as_u64) {
            let num = |k: &str| values.get(k).and_then(as_u64);
            let derived: Vec<(&str, u64)> = [
                ("buffer_pool_bytes_data", num("buffer_pool_pages_data")),
                ("buffer_pool_bytes_dirty", num("buffer_pool_pages_dirty")),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?.saturating_mul(page))))
            .collect();
            for (k, v) in derived {
                values.entry(k.to_string()).or_insert(Value::Uint(v));
            }
        }
        let mut p = self.point("mysql_innodb", Category::Metric);
        for f in schema::innodb_fields() {
            if let Some(v) = values.remove(f.name) {
                p.set_field(f.name, v);
            }
        }
        if !p.fields.is_empty() {
            out.points.push(p);
        }
        Ok(())
    }

    fn custom_points(&mut self, out: &mut Outcome) -> Result<(), MysqlError> {
        for i in 0..self.custom.len() {
            let due = self.custom[i]
                .last
                .is_none_or(|t| t.elapsed() + Duration::from_millis(500) >= self.custom[i].every);
            if !due {
                continue;
            }
            self.custom[i].last = Some(Instant::now());
            let sql = self.custom[i].q.sql.clone();
            let Some(r) = self.optional(out, &sql)? else {
                continue;
            };
            let q = &self.custom[i].q;
            for row in &r.rows {
                let mut p = Point::new(Category::Metric, q.metric.as_str());
                for (k, v) in &self.tags {
                    p.set_tag(k.as_str(), v.as_str());
                }
                for t in &q.tags {
                    if let Some(Some(v)) = r.column(t).and_then(|c| row.get(c)) {
                        p.set_tag(t.as_str(), v.as_str());
                    }
                }
                for f in &q.fields {
                    let Some(Some(v)) = r.column(f).and_then(|c| row.get(c)) else {
                        continue;
                    };
                    match v.trim().parse::<f64>() {
                        Ok(x) => p.set_field(f.as_str(), Value::Float(x)),
                        Err(_) => out.partial.push(format!(
                            "{}: custom query `{}`: column `{f}` is `{v}`, not a number: left out",
                            self.target, q.metric
                        )),
                    }
                }
                if !p.fields.is_empty() {
                    out.points.push(p);
                }
            }
        }
        Ok(())
    }
}

/// The first two columns of a result as name → value (`SHOW STATUS`, `SHOW VARIABLES`).
fn name_values(r: &ResultSet) -> HashMap<String, String> {
    r.rows
        .iter()
        .filter_map(|row| match (row.first(), row.get(1)) {
            (Some(Some(k)), Some(v)) => Some((k.clone(), v.clone().unwrap_or_default())),
            _ => None,
        })
        .collect()
}

struct MysqlInput {
    interval: Duration,
    collector: Collector,
    log: Option<Box<dyn Input>>,
}

impl Input for MysqlInput {
    fn run(self: Box<Self>, ctx: InputCtx) -> super::BoxFuture<Result<(), InputError>> {
        Box::pin(async move {
            let MysqlInput {
                interval,
                collector,
                log,
            } = *self;
            match log {
                None => run_metrics(interval, collector, ctx).await,
                Some(log) => {
                    let (a, b) =
                        tokio::join!(run_metrics(interval, collector, ctx.clone()), log.run(ctx));
                    a.and(b)
                }
            }
        })
    }
}

async fn run_metrics(
    interval: Duration,
    collector: Collector,
    mut ctx: InputCtx,
) -> Result<(), InputError> {
    let mut periodic = super::Periodic::on(super::exec::Lane::Scrape, interval, collector, &ctx);
    let mut failing: Option<String> = None;
    loop {
        let (ingest, origin) = (ctx.ingest.clone(), ctx.origin.clone());
        let Some((outcome, fed)) = periodic
            .next(&mut ctx, move |c| {
                let mut o = c.collect(crate::clock::now_ns());
                let fed = feed(&ingest, &origin, &mut o);
                (o, fed)
            })
            .await
        else {
            return Ok(());
        };
        let now_failing = outcome.error.clone();
        match (&failing, &now_failing) {
            (None, Some(m)) => tracing::warn!(input = ctx.name, "{m}"),
            (Some(a), Some(b)) if a != b => tracing::warn!(input = ctx.name, "{b}"),
            (Some(_), None) => tracing::info!(input = ctx.name, "collecting again"),
            _ => {}
        }
        failing = now_failing;
        for msg in outcome.error.into_iter().chain(outcome.partial) {
            ctx.stats.record_error(msg.clone());
            ctx.agent_stats.record_error(ctx.name, msg);
        }
        fed?;
    }
}

/// Feeds the outcome's points, one feed per category, then the up-metric.
fn feed(
    ingest: &crate::ingest::Ingest,
    origin: &crate::ingest::Origin,
    o: &mut Outcome,
) -> Result<(), InputError> {
    let mut points = std::mem::take(&mut o.points);
    points.extend(o.up.take());
    points.sort_by_key(|p| p.category);
    let opts = crate::ingest::FeedOptions::default();
    while let Some(cat) = points.first().map(|p| p.category) {
        let split = points
            .iter()
            .position(|p| p.category != cat)
            .unwrap_or(points.len());
        let rest = points.split_off(split);
        ingest.feed_blocking(origin, cat, points, &opts, false)?;
        points = rest;
    }
    Ok(())
}

const NOTES: &[&str] = &[
    "One connection per instance, kept between collections. Each statement's answer must come within `connect_timeout`; a failure to connect, log in or read `SHOW GLOBAL STATUS` is `up = 0` with the error (the password shown as `***`) in `datakit monitor` and `lasterror`, and the next interval tries again.",
    "Logging in: `mysql_native_password`, `caching_sha2_password` (its full exchange only over TLS or the socket: this agent does not do the RSA key exchange) and `mysql_clear_password` over TLS or the socket. TLS (1.2 and 1.3) is used when `[inputs.mysql.tls]` sets any key; an empty table does not turn it on.",
    "Where the original's code differs from its documentation, this input sends what the documentation says: the key-cache fields (`Key_cache_utilization`, a float, `Key_buffer_bytes_used`, `Key_buffer_bytes_unflushed`) and `buffer_pool_bytes_data`/`_dirty` are computed (the original's type checks never let them through), and `mysql_user_status` has a point per user (the original kept only the last user's counters). A NULL column of `SHOW SLAVE STATUS` is left out (the original sent an empty string).",
    "`innodb` defaults to `true`, as the original's sample sets it. A custom query runs at its `interval` (rounded up to the input's interval); its points carry the collection's time.",
    "Not supported (reported as having no effect): database monitoring (`dbm`, `dbm_metric`, `dbm_sample`, `dbm_activity`), the `mysql_object` object and `database` custom object (`object`), TLS 1.0/1.1 (`tls.allow_tls10` is refused).",
    "With `[inputs.mysql.log]`, the files are tailed like a `logging` input with `source = \"mysql\"` (its positions, rotation and limits); the logs are tailed on every agent, election or not.",
];

pub const ENTRY: InputEntry = entry_with_compat::<MysqlConfig>(
    InputSpec {
        name: NAME,
        catalog: "db",
        description: "MySQL and MariaDB metrics (status, variables, schemas, tables, users, InnoDB, replication, custom queries) and its error and slow logs.",
        singleton: false,
        interval: Some(IntervalLimits {
            min: Duration::from_secs(10),
            max: Duration::from_secs(900),
        }),
        measurements: schema::MEASUREMENTS,
    },
    compat,
)
.with_notes(NOTES);

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(c: &MysqlConfig) -> Vec<String> {
        crate::inputs::validation_issues(c)
    }

    #[test]
    fn the_default_validates_and_builds() {
        let c = MysqlConfig::default();
        assert!(issues(&c).is_empty(), "{:?}", issues(&c));
        assert!(c.election_enabled());
        assert!(c.build().is_ok());
    }

    #[test]
    fn bad_options_are_reported() {
        let c: MysqlConfig = toml::from_str(
            "host = \"\"\nport = 0\ncharset = \"utf8; DROP\"\nmetric_exclude_list = [\"mysql_nothing\"]\n\
             [tls]\nallow_tls10 = true\ntls_cert = \"/c.pem\"\n\
             [[custom_queries]]\nmetric = \"m\"\n",
        )
        .unwrap();
        let got = issues(&c);
        let keys: Vec<&str> = got.iter().map(|s| s.split(':').next().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "host",
                "port",
                "charset",
                "metric_exclude_list[0]",
                "tls.allow_tls10",
                "tls.tls_key",
                "custom_queries[0].sql",
                "custom_queries[0].fields"
            ],
            "{got:?}"
        );
    }

    #[test]
    fn the_target_never_shows_the_password() {
        let c: MysqlConfig =
            toml::from_str("host = \"10.0.0.1\"\nuser = \"app\"\npass = \"s3cret\"\n").unwrap();
        let (_, target, server) = c.endpoint();
        assert_eq!(target, "mysql://app:***@10.0.0.1:3306");
        assert_eq!(server, "10.0.0.1:3306");
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let mut col = Collector::new(&MysqlConfig {
            host: "127.0.0.1".into(),
            port,
            pass: "s3cret".into(),
            connect_timeout: Dur::from_secs(1),
            ..MysqlConfig::default()
        })
        .unwrap();
        let o = col.collect(1);
        let err = o.error.unwrap();
        assert!(
            err.starts_with(&format!(
                "connecting to mysql://datakit:***@127.0.0.1:{port}: "
            )),
            "{err}"
        );
        assert!(!err.contains("s3cret"));
        assert_eq!(o.up.unwrap().get_field("up"), Some(&Value::Int(0)));
        assert!(o.points.is_empty());
    }

    #[test]
    fn tags_follow_the_original() {
        let c: MysqlConfig =
            toml::from_str("host = \"db.example\"\nservice = \"shop\"\n[tags]\nenv = \"prod\"\n")
                .unwrap();
        let col = Collector::new(&c).unwrap();
        let p = col.point("mysql", Category::Metric);
        assert_eq!(p.get_tag("host"), Some("db.example"));
        assert_eq!(p.get_tag("server"), Some("db.example:3306"));
        assert_eq!(p.get_tag("service_name"), Some("shop"));
        assert_eq!(p.get_tag("env"), Some("prod"));
        let local = Collector::new(&MysqlConfig {
            host: "127.0.0.1".into(),
            ..MysqlConfig::default()
        })
        .unwrap();
        assert_eq!(local.point("mysql", Category::Metric).get_tag("host"), None);
    }

    #[test]
    fn in_lists_are_quoted() {
        assert_eq!(sql_list(&["a".into(), "o'k\\".into()]), "'a','o''k\\\\'");
    }

    #[test]
    fn integers_as_the_original_sends_them() {
        assert_eq!(int_value("42"), Some(Value::Int(42)));
        assert_eq!(
            int_value("18446744073709551615"),
            Some(Value::Uint(u64::MAX))
        );
        assert_eq!(int_value("ON"), None);
        assert_eq!(int_value("0.5"), None);
        assert_eq!(status_value("42"), Some(Value::Uint(42)));
        assert_eq!(status_value("-1"), Some(Value::Int(-1)));
    }

    #[test]
    fn compat_keys() {
        assert!(compat("dbm").is_some());
        assert!(compat("dbm_metric.enabled").is_some());
        assert!(compat("object.interval").is_some());
        assert!(compat("pass").is_none());
    }
}
