//! DataWay: `POST <scheme>://<host>/v1/write/<category>?token=...` with the headers the original
//! sends, gzipped protobuf (v2) or line protocol (v1) bodies.

use super::super::body::{Body, Encoding};
use super::super::output::{SendOutcome, Sink};
use super::outcome;
use crate::net::{ClientOptions, Proxy, TlsOptions, dataway::split_url};
use crate::point::Category;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

/// One DataWay URL.
pub struct Dataway {
    agent: ureq::Agent,
    /// `scheme://host[:port]`: the configured path is dropped, as the original does.
    base: String,
    /// The configured query (token and extras), keys sorted.
    query: String,
    encoding: Encoding,
    gzip: Option<u32>,
    stats: Arc<crate::stats::Stats>,
}

impl Dataway {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        url: &str,
        encoding: Encoding,
        gzip: Option<u32>,
        timeout: std::time::Duration,
        proxy: &str,
        tls_insecure: bool,
        keep_alive: crate::net::KeepAlive,
        hostname: &str,
        stats: Arc<crate::stats::Stats>,
    ) -> Result<Dataway, String> {
        let (base, query) = split_url(url)?;
        // Connections stay open between sends (`ClientOptions::output`): a new one per body
        // would connect, and over HTTPS shake hands, every time.
        let agent = ClientOptions {
            proxy: Proxy::setting("[dataway] http_proxy", proxy),
            tls: TlsOptions::verify(!tls_insecure),
            user_agent: Some(crate::net::dataway::user_agent(hostname)),
            keep_alive,
            ..ClientOptions::output(timeout)
        }
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Dataway {
            agent,
            base,
            query,
            encoding,
            gzip,
            stats,
        })
    }

    /// The write URL for a category.
    pub fn write_url(&self, cat: Category) -> String {
        if self.query.is_empty() {
            format!("{}{}", self.base, cat.url_path())
        } else {
            format!("{}{}?{}", self.base, cat.url_path(), self.query)
        }
    }
}

impl Sink for Dataway {
    fn encoding(&self) -> Encoding {
        self.encoding
    }
    fn gzip(&self) -> Option<u32> {
        self.gzip
    }
    fn send(&self, body: &Body, replay: bool) -> SendOutcome {
        let mut req = self
            .agent
            .post(&self.write_url(body.category))
            .header("Content-Type", body.encoding.content_type())
            .header("X-Points", body.points.to_string())
            .header("Referer", "DataKit")
            .header("X-Pkg-Id", body.package_id());
        if body.gzipped {
            req = req.header("Content-Encoding", "gzip");
        }
        if replay {
            req = req.header("X-Fail-Cache-Retry", "1");
        }
        let out = outcome(req.send(&body.payload[..]));
        match &out {
            SendOutcome::Refused { status, reason }
                if status == "403" && reason.contains("beyondDataUsage") =>
            {
                let now = crate::clock::now_secs() as i64;
                self.stats.data_overuse.store(now, Relaxed);
            }
            SendOutcome::Sent => self.stats.data_overuse.store(0, Relaxed),
            _ => {}
        }
        out
    }
}
