//! The `address` option: a `postgres://` (or `postgresql://`) URL or a libpq keyword/value
//! string (`host=... user=... password=... dbname=... sslmode=...`), read as the original's
//! driver (pgx) reads them.

use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::wire::{Endpoint, SslMode};

/// A parsed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// A host name, an IP address, or (starting with `/`) a unix socket directory.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    /// Empty: the server's default (the user's name).
    pub database: String,
    pub sslmode: SslMode,
    pub sslrootcert: String,
    pub sslcert: String,
    pub sslkey: String,
    pub connect_timeout: Option<Duration>,
    /// Settings sent in the startup message (`application_name`, `search_path`, ...).
    pub options: Vec<(String, String)>,
    /// Hosts after the first of a list (only the first is used).
    pub extra_hosts: usize,
}

/// Keys the driver reads without sending them to the server, which this client ignores.
const IGNORED: &[&str] = &[
    "target_session_attrs",
    "sslpassword",
    "sslsni",
    "sslnegotiation",
    "service",
    "servicefile",
    "passfile",
    "min_read_buffer_size",
    "krbsrvname",
    "krbspn",
    "load_balance_hosts",
    "statement_cache_capacity",
    "description_cache_capacity",
    "default_query_exec_mode",
    "pool_max_conns",
    "pool_min_conns",
    "pool_max_conn_lifetime",
    "pool_max_conn_idle_time",
    "pool_health_check_period",
    "pool_max_conn_lifetime_jitter",
    "pool_min_idle_conns",
    "fallback_application_name",
];

fn default_user() -> String {
    std::env::var("PGUSER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| std::env::var("USER").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "postgres".into())
}

/// The driver's default host: the first of the usual socket directories that exists, else
/// `localhost`.
fn default_host() -> String {
    for d in ["/var/run/postgresql", "/private/tmp", "/tmp"] {
        if std::path::Path::new(d).is_dir() {
            return d.to_string();
        }
    }
    "localhost".into()
}

impl Address {
    /// Reads `address` (empty or `localhost`: `host=localhost sslmode=disable`, as the
    /// original).
    pub fn parse(address: &str) -> Result<Address, String> {
        let a = address.trim();
        let mut kv: Vec<(String, String)> = Vec::new();
        if a.is_empty() || a == "localhost" {
            kv.push(("host".into(), "localhost".into()));
            kv.push(("sslmode".into(), "disable".into()));
        } else if let Some(rest) = a
            .strip_prefix("postgres://")
            .or_else(|| a.strip_prefix("postgresql://"))
        {
            parse_url(rest, &mut kv)?;
        } else if a.contains("://") {
            let scheme = a.split("://").next().unwrap_or("");
            return Err(format!(
                "unknown scheme `{scheme}://`: write `postgres://user:password@host:port/dbname` or `host=... user=...`"
            ));
        } else {
            parse_keywords(a, &mut kv)?;
        }
        let mut out = Address {
            host: String::new(),
            port: 5432,
            user: String::new(),
            password: String::new(),
            database: String::new(),
            sslmode: SslMode::Prefer,
            sslrootcert: String::new(),
            sslcert: String::new(),
            sslkey: String::new(),
            connect_timeout: None,
            options: Vec::new(),
            extra_hosts: 0,
        };
        let mut port_text = String::new();
        for (k, v) in kv {
            match k.as_str() {
                "host" => {
                    let mut hosts = v.split(',');
                    out.host = hosts.next().unwrap_or("").to_string();
                    out.extra_hosts = hosts.count();
                }
                "port" => port_text = v.split(',').next().unwrap_or("").to_string(),
                "user" => out.user = v,
                "password" => out.password = v,
                "dbname" => out.database = v,
                "sslmode" => {
                    out.sslmode = SslMode::parse(&v).ok_or_else(|| {
                        format!("sslmode `{v}`: use disable, allow, prefer, require, verify-ca or verify-full")
                    })?
                }
                "sslrootcert" => out.sslrootcert = v,
                "sslcert" => out.sslcert = v,
                "sslkey" => out.sslkey = v,
                "connect_timeout" => {
                    let s: u64 = v
                        .parse()
                        .map_err(|_| format!("connect_timeout `{v}`: a number of seconds"))?;
                    out.connect_timeout = (s > 0).then(|| Duration::from_secs(s));
                }
                k if IGNORED.contains(&k) => {}
                _ => out.options.push((k, v)),
            }
        }
        if !port_text.is_empty() {
            out.port = port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("port `{port_text}`: a number from 1 to 65535"))?;
        }
        if out.host.is_empty() {
            out.host = default_host();
        }
        if out.user.is_empty() {
            out.user = default_user();
        }
        Ok(out)
    }

    pub fn is_unix(&self) -> bool {
        self.host.starts_with('/')
    }

    pub fn endpoint(&self) -> Endpoint {
        if self.is_unix() {
            Endpoint::Unix(format!(
                "{}/.s.PGSQL.{}",
                self.host.trim_end_matches('/'),
                self.port
            ))
        } else {
            Endpoint::Tcp {
                host: self.host.clone(),
                port: self.port,
            }
        }
    }

    /// `host:port`: the `server` tag and the up-metric's `instance`.
    pub fn server(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// How errors show the target to `database`: a URL with the password masked.
    pub fn target(&self, database: &str) -> String {
        let auth = if self.password.is_empty() {
            format!("{}@", self.user)
        } else {
            format!("{}:***@", self.user)
        };
        let db = if database.is_empty() {
            String::new()
        } else {
            format!("/{database}")
        };
        format!("postgresql://{auth}{}{db}", self.server())
    }
}

fn decode(s: &str, what: &str) -> Result<String, String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("{what}: percent-encoding that is not UTF-8"))
}

/// `[user[:password]@][host][:port][,host2...][/dbname][?key=value&...]` after the scheme.
fn parse_url(rest: &str, kv: &mut Vec<(String, String)>) -> Result<(), String> {
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match main.find('/') {
        Some(i) => (&main[..i], Some(&main[i + 1..])),
        None => (main, None),
    };
    let hosts = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => {
            let (u, p) = match userinfo.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (userinfo, None),
            };
            if !u.is_empty() {
                kv.push(("user".into(), decode(u, "the URL's user")?));
            }
            if let Some(p) = p {
                kv.push(("password".into(), decode(p, "the URL's password")?));
            }
            hosts
        }
        None => authority,
    };
    let mut host_list = Vec::new();
    let mut port_list = Vec::new();
    for h in hosts.split(',').filter(|h| !h.is_empty()) {
        let (host, port) = if let Some(v6) = h.strip_prefix('[') {
            let (addr, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{h}`: unclosed `[` in the URL's host"))?;
            (addr.to_string(), after.strip_prefix(':'))
        } else {
            match h.rsplit_once(':') {
                Some((a, p)) => (a.to_string(), Some(p)),
                None => (h.to_string(), None),
            }
        };
        host_list.push(decode(&host, "the URL's host")?);
        if let Some(p) = port {
            if p.is_empty() || p.parse::<u16>().is_err() {
                return Err(format!("`{h}`: port `{p}` is not a number from 1 to 65535"));
            }
            port_list.push(p.to_string());
        }
    }
    if !host_list.is_empty() {
        kv.push(("host".into(), host_list.join(",")));
    }
    if !port_list.is_empty() {
        kv.push(("port".into(), port_list.join(",")));
    }
    if let Some(p) = path.filter(|p| !p.is_empty()) {
        kv.push(("dbname".into(), decode(p, "the URL's database")?));
    }
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = decode(&k.replace('+', " "), "a URL parameter")?;
        let v = decode(&v.replace('+', " "), &format!("URL parameter `{k}`"))?;
        kv.push((k, v));
    }
    Ok(())
}

/// `key=value key='quoted \' value'`: an error names the byte offset.
fn parse_keywords(s: &str, kv: &mut Vec<(String, String)>) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[start..i];
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            return Err(format!(
                "at byte {start}: `{key}` has no `=value` (write `key=value` pairs separated by spaces, or a postgres:// URL)"
            ));
        }
        i += 1;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut val = Vec::new();
        if i < b.len() && b[i] == b'\'' {
            let open = i;
            i += 1;
            loop {
                if i >= b.len() {
                    return Err(format!(
                        "at byte {open}: the quoted value of `{key}` is not closed"
                    ));
                }
                match b[i] {
                    b'\\' if i + 1 < b.len() => {
                        val.push(b[i + 1]);
                        i += 2;
                    }
                    b'\'' => {
                        i += 1;
                        break;
                    }
                    c => {
                        val.push(c);
                        i += 1;
                    }
                }
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if b[i] == b'\\' && i + 1 < b.len() {
                    i += 1;
                }
                val.push(b[i]);
                i += 1;
            }
        }
        kv.push((key.to_string(), String::from_utf8_lossy(&val).into_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let a = Address::parse(
            "postgres://datakit:p%40ss@db.example:6432/app?sslmode=require&application_name=dk",
        )
        .unwrap();
        assert_eq!(a.host, "db.example");
        assert_eq!(a.port, 6432);
        assert_eq!((a.user.as_str(), a.password.as_str()), ("datakit", "p@ss"));
        assert_eq!(a.database, "app");
        assert_eq!(a.sslmode, SslMode::Require);
        assert_eq!(a.options, vec![("application_name".into(), "dk".into())]);
        assert_eq!(
            a.target("app"),
            "postgresql://datakit:***@db.example:6432/app"
        );
        assert_eq!(a.server(), "db.example:6432");

        let a = Address::parse("postgresql://u@[::1]:5433,other:5434/").unwrap();
        assert_eq!((a.host.as_str(), a.port, a.extra_hosts), ("::1", 5433, 1));
        assert_eq!(a.server(), "[::1]:5433");
        assert_eq!(a.sslmode, SslMode::Prefer);

        let a = Address::parse("postgres://u@%2Fvar%2Frun%2Fpostgresql/x").unwrap();
        assert!(a.is_unix());
        assert_eq!(
            a.endpoint(),
            Endpoint::Unix("/var/run/postgresql/.s.PGSQL.5432".into())
        );
        let a = Address::parse("postgres:///db?host=/tmp&port=7000&user=me").unwrap();
        assert_eq!(a.endpoint(), Endpoint::Unix("/tmp/.s.PGSQL.7000".into()));

        assert!(
            Address::parse("mysql://x")
                .unwrap_err()
                .contains("mysql://")
        );
        assert!(Address::parse("postgres://h:99999/").is_err());
        assert!(Address::parse("postgres://h/?sslmode=sometimes").is_err());
    }

    #[test]
    fn keywords() {
        let a = Address::parse(
            "host=10.0.0.5 user=pqgotest password='it\\'s secret' dbname=app_production sslmode=verify-full sslrootcert=/ca.pem connect_timeout=3",
        )
        .unwrap();
        assert_eq!(a.host, "10.0.0.5");
        assert_eq!(a.password, "it's secret");
        assert_eq!(a.database, "app_production");
        assert_eq!(a.sslmode, SslMode::VerifyFull);
        assert_eq!(a.sslrootcert, "/ca.pem");
        assert_eq!(a.connect_timeout, Some(Duration::from_secs(3)));
        assert_eq!(a.target(""), "postgresql://pqgotest:***@10.0.0.5:5432");

        let a = Address::parse("localhost").unwrap();
        assert_eq!(
            (a.host.as_str(), a.sslmode),
            ("localhost", SslMode::Disable)
        );
        let e = Address::parse("host=x user").unwrap_err();
        assert!(e.starts_with("at byte 7: `user` has no `=value`"), "{e}");
        let e = Address::parse("host=x password='abc").unwrap_err();
        assert!(e.starts_with("at byte 16: "), "{e}");
    }
}
