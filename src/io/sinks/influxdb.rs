//! InfluxDB-compatible stores: the v1 `/write?db=` API (InfluxDB 1.x, VictoriaMetrics, ...) and
//! the v2 `/api/v2/write?org=&bucket=` API with a token.

use super::super::body::{Body, Encoding};
use super::super::output::{SendOutcome, Sink};
use super::outcome;
use crate::config::main_conf::InfluxOutputConfig;
use crate::net::{ClientOptions, Proxy, TlsOptions};
use crate::point::Category;

pub struct Influx {
    agent: ureq::Agent,
    write_url: String,
    auth: Option<String>,
    gzip: Option<u32>,
    categories: Vec<Category>,
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Influx {
    pub fn new(c: &InfluxOutputConfig, gzip_level: u32) -> Result<Influx, String> {
        crate::config::validate::check_url(&c.url)?;
        let base = c.url.trim_end_matches('/');
        let (write_url, auth) = match c.version {
            2 => (
                format!(
                    "{base}/api/v2/write?org={}&bucket={}&precision=ns",
                    enc(&c.org),
                    enc(&c.bucket)
                ),
                (!c.token.is_empty()).then(|| format!("Token {}", c.token)),
            ),
            _ => {
                let mut u = format!("{base}/write?db={}&precision=ns", enc(&c.database));
                if !c.retention_policy.is_empty() {
                    u.push_str(&format!("&rp={}", enc(&c.retention_policy)));
                }
                if !c.username.is_empty() {
                    u.push_str(&format!("&u={}&p={}", enc(&c.username), enc(&c.password)));
                }
                (u, None)
            }
        };
        let agent = ClientOptions {
            proxy: Proxy::Env,
            tls: TlsOptions::verify(!c.tls_insecure),
            ..ClientOptions::output(c.timeout.get())
        }
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Influx {
            agent,
            write_url,
            auth,
            gzip: c.gzip.then_some(gzip_level),
            categories: c
                .categories
                .iter()
                .filter_map(|s| Category::parse(s))
                .collect(),
        })
    }
}

impl Sink for Influx {
    fn encoding(&self) -> Encoding {
        Encoding::LineProtocol
    }
    fn gzip(&self) -> Option<u32> {
        self.gzip
    }
    fn accepts(&self, cat: Category) -> bool {
        self.categories.is_empty() || self.categories.contains(&cat)
    }
    fn send(&self, body: &Body, _replay: bool) -> SendOutcome {
        let mut req = self
            .agent
            .post(&self.write_url)
            .header("Content-Type", "text/plain; charset=utf-8");
        if body.gzipped {
            req = req.header("Content-Encoding", "gzip");
        }
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        outcome(req.send(&body.payload[..]))
    }
}
