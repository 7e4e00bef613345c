//! What every client of DataWay shares, whatever it sends there (points, election rounds):
//! the split of a configured DataWay URL into its origin and query, the workspace token in
//! it, and the `User-Agent` DataWay expects.

/// Splits a DataWay URL into `scheme://host[:port]` and its query with sorted keys. The
/// configured path is dropped, as the original agent does.
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

/// `datakit-<os>-<arch>/<version>/<hostname>`: how DataWay tells agents apart.
pub fn user_agent(hostname: &str) -> String {
    let arch = crate::build_info::os_arch().replace('/', "-");
    format!("datakit-{arch}/{}/{hostname}", crate::build_info::VERSION)
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

    #[test]
    fn bad_urls_and_missing_tokens() {
        assert!(split_url("openway.guance.com").is_err());
        assert!(split_url("ftp://h").is_err());
        assert_eq!(token("https://x"), None);
        assert_eq!(token("https://x?a=1"), None);
    }

    #[test]
    fn the_user_agent_names_platform_version_and_host() {
        let ua = user_agent("web-1");
        assert!(ua.starts_with("datakit-"), "{ua}");
        assert!(
            ua.ends_with(&format!("/{}/web-1", crate::build_info::VERSION)),
            "{ua}"
        );
        assert!(!ua["datakit-".len()..].split('/').next().unwrap().is_empty());
    }
}
