//! DataWay: `POST <scheme>://<host>/v1/write/<category>?token=...` with the headers the original
//! sends, gzipped protobuf (v2) or line protocol (v1) bodies.

use super::super::body::{Body, Encoding};
use super::super::output::{SendOutcome, Sink};
use super::{http_agent, outcome};
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
    user_agent: String,
    stats: Arc<crate::stats::Stats>,
}

/// Splits a DataWay URL into `scheme://host[:port]` and its query with sorted keys.
pub fn split_url(url: &str) -> Result<(String, String), String> {
    crate::config::validate::check_url(url)?;
    let (scheme, rest) = url.split_once("://").ok_or("not an absolute URL")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let query = rest[end..]
        .split_once('?')
        .map(|(_, q)| q.split('#').next().unwrap_or(""))
        .unwrap_or("");
    let mut kv: Vec<&str> = query.split('&').filter(|s| !s.is_empty()).collect();
    kv.sort_by(|a, b| a.split('=').next().cmp(&b.split('=').next()));
    Ok((
        format!("{}://{host}", scheme.to_ascii_lowercase()),
        kv.join("&"),
    ))
}

/// The workspace token in a DataWay URL.
pub fn token(url: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(str::to_string)
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
        hostname: &str,
        stats: Arc<crate::stats::Stats>,
    ) -> Result<Dataway, String> {
        let (base, query) = split_url(url)?;
        let arch = crate::build_info::os_arch().replace('/', "-");
        Ok(Dataway {
            agent: http_agent(timeout, proxy, tls_insecure)?,
            base,
            query,
            encoding,
            gzip,
            user_agent: format!("datakit-{arch}/{}/{hostname}", crate::build_info::VERSION),
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
            .header("User-Agent", &self.user_agent)
            .header("Referer", "DataKit")
            .header("X-Pkg-Id", format!("dk_{:016x}", fastrand::u64(..)));
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
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                self.stats.data_overuse.store(now, Relaxed);
            }
            SendOutcome::Sent => self.stats.data_overuse.store(0, Relaxed),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_host_and_sorted_query_and_drop_the_path() {
        let (b, q) =
            split_url("HTTPS://openway.guance.com/some/path?token=tkn_x&a=1#frag").unwrap();
        assert_eq!(b, "https://openway.guance.com");
        assert_eq!(q, "a=1&token=tkn_x");
        let (b, q) = split_url("http://127.0.0.1:9528").unwrap();
        assert_eq!((b.as_str(), q.as_str()), ("http://127.0.0.1:9528", ""));
        assert_eq!(
            token("https://x?a=1&token=tkn_abc").as_deref(),
            Some("tkn_abc")
        );
    }
}
