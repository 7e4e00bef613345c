//! Per-client request rate limiting (token buckets keyed by client IP and route) and the
//! loopback/public access rule.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use crate::config::validate::Net;

/// The address a request is from, for rate limiting: the peer, unless the peer is a trusted
/// proxy (a Unix socket peer is local and trusted). Through trusted proxies, the client is the
/// last `X-Forwarded-For` entry that is not itself a trusted proxy (entries to its left were
/// written by the client and prove nothing), else `X-Real-IP`. Headers from other peers are
/// ignored: a client cannot pick its own rate-limit bucket.
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[Net]) -> Option<IpAddr> {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if peer.is_some_and(|p| !is_trusted(p)) {
        return peer;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = header("x-forwarded-for") {
        let hops: Vec<IpAddr> = v.split(',').filter_map(|s| s.trim().parse().ok()).collect();
        if let Some(ip) = hops
            .iter()
            .rev()
            .find(|ip| !is_trusted(**ip))
            .or(hops.first())
        {
            return Some(*ip);
        }
    }
    header("x-real-ip")
        .and_then(|s| s.trim().parse().ok())
        .or(peer)
}

/// Whether a request counts as local: from a loopback peer (or a Unix socket, `peer` = None)
/// with no proxy header (any proxy header means the request came from elsewhere).
pub fn is_local(headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let proxied = headers.contains_key("x-forwarded-for") || headers.contains_key("x-real-ip");
    !proxied && peer.is_none_or(|ip| ip.is_loopback())
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets: `rate` requests per second, bursts of `burst`, idle buckets forgotten after
/// `ttl`.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    ttl: Duration,
    buckets: Mutex<HashMap<(Option<IpAddr>, String), Bucket>>,
    last_sweep: Mutex<Instant>,
}

impl RateLimiter {
    /// `rate` 0 (or less) disables limiting.
    pub fn new(rate: f64, burst: u64, ttl: Duration) -> RateLimiter {
        RateLimiter {
            rate,
            burst: (burst as f64).max(1.0),
            ttl,
            buckets: Mutex::new(HashMap::new()),
            last_sweep: Mutex::new(Instant::now()),
        }
    }

    /// Takes one token for (`ip`, `route`); false when the client is over its limit.
    pub fn allow(&self, ip: Option<IpAddr>, route: &str) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let now = Instant::now();
        let mut m = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut sweep = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            if now.duration_since(*sweep) > self.ttl {
                m.retain(|_, b| now.duration_since(b.last) < self.ttl);
                *sweep = now;
            }
        }
        let b = m.entry((ip, route.to_string())).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        b.tokens =
            (b.tokens + now.duration_since(b.last).as_secs_f64() * self.rate).min(self.burst);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_the_rate() {
        let rl = RateLimiter::new(10.0, 5, Duration::from_secs(60));
        let ip = Some("10.0.0.1".parse().unwrap());
        let allowed = (0..20).filter(|_| rl.allow(ip, "/v1/write/metric")).count();
        assert_eq!(allowed, 5, "the burst");
        assert!(
            rl.allow(Some("10.0.0.2".parse().unwrap()), "/v1/write/metric"),
            "per client"
        );
        assert!(rl.allow(ip, "/v1/ping"), "per route");
        std::thread::sleep(Duration::from_millis(250));
        assert!(rl.allow(ip, "/v1/write/metric"), "refilled");
        assert!(
            RateLimiter::new(0.0, 1, Duration::from_secs(1)).allow(ip, "/"),
            "0 disables"
        );
    }

    #[test]
    fn proxy_headers_make_a_request_non_local() {
        let mut h = HeaderMap::new();
        let lo: Option<IpAddr> = Some("127.0.0.1".parse().unwrap());
        assert!(is_local(&h, lo));
        assert!(is_local(&h, None), "unix socket");
        assert!(!is_local(&h, Some("192.168.1.2".parse().unwrap())));
        h.insert("x-forwarded-for", "8.8.8.8, 10.0.0.1".parse().unwrap());
        assert!(!is_local(&h, lo));
    }

    #[test]
    fn proxy_headers_name_the_client_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 8.8.8.8, 10.0.0.1".parse().unwrap(),
        );
        // Untrusted peer: its headers are ignored.
        assert_eq!(
            client_ip(&h, Some(ip("127.0.0.2")), &[]),
            Some(ip("127.0.0.2"))
        );
        // Through trusted proxies: the last address they did not write.
        let trusted = [
            Net::parse("10.0.0.0/8").unwrap(),
            Net::parse("127.0.0.1").unwrap(),
        ];
        assert_eq!(
            client_ip(&h, Some(ip("127.0.0.1")), &trusted),
            Some(ip("8.8.8.8"))
        );
        h.insert("x-forwarded-for", "10.0.0.9".parse().unwrap());
        assert_eq!(
            client_ip(&h, Some(ip("127.0.0.1")), &trusted),
            Some(ip("10.0.0.9"))
        );
        h.remove("x-forwarded-for");
        h.insert("x-real-ip", "9.9.9.9".parse().unwrap());
        assert_eq!(
            client_ip(&h, Some(ip("127.0.0.1")), &trusted),
            Some(ip("9.9.9.9"))
        );
        assert_eq!(client_ip(&h, None, &[]), Some(ip("9.9.9.9")), "unix socket");
    }
}
