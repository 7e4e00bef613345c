//! Per-client request rate limiting (token buckets keyed by client IP and route) and the
//! loopback/public access rule.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;

/// The address a request is from: the first `X-Forwarded-For` entry, then `X-Real-IP`, then
/// the peer (as the original does for rate limiting).
pub fn client_ip(headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .and_then(|s| s.trim().parse().ok())
        .or_else(|| header("x-real-ip").and_then(|s| s.trim().parse().ok()))
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
        assert_eq!(client_ip(&h, lo), Some("8.8.8.8".parse().unwrap()));
    }
}
