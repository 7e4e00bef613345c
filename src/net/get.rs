//! Plain `GET`s of resources that must be there (`200` or nothing): release indexes,
//! checksum files, tarballs.

/// A `GET` that did not bring the resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GET {url}: {message}")]
pub struct GetError {
    pub url: String,
    pub message: String,
    /// How far the request got: callers tell "not there" from "cannot ask".
    pub failure: GetFailure,
}

/// How far a failed `GET` got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetFailure {
    /// Not an `http://` or `https://` URL: nothing was sent.
    NotHttp,
    /// No answer: name resolution, connection, proxy, TLS or a timeout failed.
    NoAnswer,
    /// The server answered with this status instead of `200`.
    Status(u16),
    /// The server answered `200`, but reading the body failed.
    Body,
}

/// `GET url`, answered `200`: the answer, its body still to read.
pub fn get(agent: &ureq::Agent, url: &str) -> Result<ureq::http::Response<ureq::Body>, GetError> {
    let err = |message: String, failure: GetFailure| GetError {
        url: url.to_string(),
        message,
        failure,
    };
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(err(
            "only http:// and https:// URLs are supported".into(),
            GetFailure::NotHttp,
        ));
    }
    let resp = agent
        .get(url)
        .call()
        .map_err(|e| err(e.to_string(), GetFailure::NoAnswer))?;
    let status = resp.status();
    if status != 200 {
        return Err(err(
            format!("HTTP {status}"),
            GetFailure::Status(status.as_u16()),
        ));
    }
    Ok(resp)
}

/// `GET url` of a text of at most `limit` bytes.
pub fn get_text(agent: &ureq::Agent, url: &str, limit: u64) -> Result<String, GetError> {
    let mut resp = get(agent, url)?;
    resp.body_mut()
        .with_config()
        .limit(limit)
        .read_to_string()
        .map_err(|e| GetError {
            url: url.to_string(),
            message: e.to_string(),
            failure: GetFailure::Body,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ClientOptions;

    #[test]
    fn only_http_urls_are_fetched() {
        let agent = ClientOptions::default().build().unwrap();
        let e = get(&agent, "ftp://h/f").unwrap_err();
        assert_eq!(
            e.to_string(),
            "GET ftp://h/f: only http:// and https:// URLs are supported"
        );
        assert_eq!(e.failure, GetFailure::NotHttp);
    }
}
