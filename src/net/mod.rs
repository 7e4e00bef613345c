//! The one outbound HTTP client. Everything the agent sends over HTTP (points to DataWay and
//! InfluxDB, election rounds, scrapes, release downloads, calls to its own API) goes through
//! a ureq agent built here from [`ClientOptions`]: timeouts, connection reuse, proxy (an
//! explicit URL or the environment's), TLS (verification, CA certificates and client
//! certificates from files or base64) and the `User-Agent`.
//!
//! - [`client`]: the options and the agents built from them (TCP, a unix socket, or a pair
//!   that keeps loopback targets off the proxy).
//! - [`tls`]: TLS options and the reading of PEM material, whose errors name the option and
//!   the file.
//! - [`dataway`]: what DataWay clients share (URL split, token, `User-Agent`).
//! - [`local_api`]: where this agent's own API is, and `/v1/ping` and `/v1/monitor` on it.
//! - [`get()`]/[`get_text()`]: `GET`s of resources that must answer `200`.
//! - [`redact`], [`host_port`], [`is_loopback`]: URL helpers.

pub mod client;
pub mod dataway;
mod get;
pub mod local_api;
#[cfg(test)]
pub(crate) mod testing;
pub mod tls;
mod unix;
mod url;

use std::path::PathBuf;

pub use client::{ClientOptions, KeepAlive, Proxy, RoutedAgent, default_user_agent};
pub use get::{GetError, GetFailure, get, get_text};
pub use tls::{PemOrigin, PemSource, TlsOptions};
pub use url::{host_port, is_loopback, redact};

/// Why a client could not be built. Each error names the option to fix.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("invalid {option} `{url}`: {cause}")]
    Proxy {
        option: &'static str,
        url: String,
        cause: ureq::Error,
    },
    #[error("{option}: cannot read {}: {cause}", path.display())]
    ReadPem {
        option: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{option}: invalid base64: {cause}")]
    Base64 {
        option: &'static str,
        cause: base64::DecodeError,
    },
    #[error("{option}: invalid PEM in {origin}: {cause}")]
    Pem {
        option: &'static str,
        origin: String,
        cause: ureq::Error,
    },
    #[error("{option}: no PEM certificate in {origin}")]
    NoCertificate {
        option: &'static str,
        origin: String,
    },
    #[error("{option}: no usable private key in {origin}: {cause}")]
    PrivateKey {
        option: &'static str,
        origin: String,
        cause: ureq::Error,
    },
}
