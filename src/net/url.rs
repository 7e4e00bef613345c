//! Small pieces of URL handling every client shares: masking secrets for logs, the host and
//! port a request goes to, and whether that host is this machine.

/// A URL with secrets (`token=` values, passwords) masked for logs and stats.
pub fn redact(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // user:password@host
    match base.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((cred, host)) if !cred.contains('/') => {
                let user = cred.split(':').next().unwrap_or("");
                out.push_str(&format!("{scheme}://{user}:***@{host}"));
            }
            _ => out.push_str(base),
        },
        None => out.push_str(base),
    }
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) if k == "token" || k == "p" || k == "password" => {
                    let keep: String = v.chars().take(4).collect();
                    format!("{k}={keep}***")
                }
                _ => kv.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// Host and port of an `http(s)://` URL (default port by scheme), brackets kept off IPv6.
pub fn host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let default = if scheme.eq_ignore_ascii_case("https") {
        443
    } else {
        80
    };
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default,
        };
        return Some((host.to_string(), port));
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) => Some((h.to_string(), p.parse().ok()?)),
        None => Some((hostport.to_string(), default)),
    }
    .filter(|(h, _)| !h.is_empty())
}

/// Whether `host` names this machine (`localhost`, 127.0.0.0/8, `::1`, unspecified).
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(
            redact("https://openway.guance.com?token=tkn_0123456789&x=1"),
            "https://openway.guance.com?token=tkn_***&x=1"
        );
        assert_eq!(
            redact("http://u:pw@h:8086/write"),
            "http://u:***@h:8086/write"
        );
        assert_eq!(redact("http://h:8086"), "http://h:8086");
    }

    #[test]
    fn authorities() {
        assert_eq!(
            host_port("http://u:p@10.0.0.1:9100/metrics"),
            Some(("10.0.0.1".into(), 9100))
        );
        assert_eq!(host_port("https://h/m"), Some(("h".into(), 443)));
        assert_eq!(host_port("http://[::1]:9/m"), Some(("::1".into(), 9)));
        assert_eq!(host_port("http://[::1]/m"), Some(("::1".into(), 80)));
        assert_eq!(host_port("http://h:x/m"), None);
        assert_eq!(host_port("http:///m"), None);
        assert!(is_loopback("127.0.0.2") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("10.1.1.1") && !is_loopback("example.com"));
    }
}
