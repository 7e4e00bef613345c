//! The election through DataWay, as the original agent holds it: a candidate posts
//! `/v1/election?token=&namespace=&id=`, the leader `/v1/election/heartbeat?...`, both with an
//! empty body to the first DataWay URL; the answer is
//! `{"content":{"status":"success"|"defeat","incumbency_id":..,"interval":<s>,..}}`.
//! Leadership is scoped by the workspace (token) and the namespace.

use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use super::{Backend, ElectionError, Round, Settings};
use crate::config::MainConfig;
use crate::net::{ClientOptions, Proxy, TlsOptions, dataway};

/// Characters escaped in query values: all but the unreserved ones of RFC 3986.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The longest interval taken from an answer (a guard against absurd values).
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// The DataWay backend.
pub struct DatawayElection {
    agent: ureq::Agent,
    base: String,
    token: String,
    namespace: String,
    id: String,
}

#[derive(Debug, Deserialize)]
struct Answer {
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
struct Content {
    status: Option<String>,
    incumbency_id: Option<String>,
    error_msg: Option<String>,
    interval: Option<serde_json::Value>,
}

/// Parses an answer body. `interval` ≤ 0, or not a number, is ignored (the caller keeps its
/// current interval); `status` other than `success`/`defeat` is an error.
pub fn parse_answer(what: &'static str, body: &str, my_id: &str) -> Result<Round, ElectionError> {
    let bad = |message: String| ElectionError::BadResponse { what, message };
    let a: Answer = serde_json::from_str(body).map_err(|e| bad(format!("{e}: {body:.200}")))?;
    let c = a
        .content
        .ok_or_else(|| bad(format!("no `content` in {body:.200}")))?;
    let interval = c
        .interval
        .as_ref()
        .and_then(serde_json::Value::as_f64)
        .filter(|s| *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s.min(MAX_INTERVAL.as_secs_f64())).ok());
    let incumbent = c.incumbency_id.unwrap_or_default();
    match c.status.as_deref() {
        Some("success") => Ok(Round {
            elected: true,
            leader: if incumbent.is_empty() {
                my_id.to_string()
            } else {
                incumbent
            },
            interval,
            ttl: None,
        }),
        Some("defeat") => Ok(Round {
            elected: false,
            leader: incumbent,
            interval,
            ttl: None,
        }),
        other => Err(bad(format!(
            "status {:?}{}",
            other.unwrap_or(""),
            c.error_msg
                .filter(|m| !m.is_empty())
                .map(|m| format!(" ({m})"))
                .unwrap_or_default()
        ))),
    }
}

impl DatawayElection {
    pub fn from_config(
        c: &MainConfig,
        s: &Settings,
        hostname: &str,
    ) -> Result<DatawayElection, ElectionError> {
        let url = c.dataway.urls.first().ok_or_else(|| {
            ElectionError::Setup(
                "election through DataWay needs a DataWay: `[dataway] urls` is empty".into(),
            )
        })?;
        let (base, _) = dataway::split_url(url).map_err(ElectionError::Setup)?;
        let token = dataway::token(url)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ElectionError::Setup(
                    "election through DataWay needs the workspace token (`?token=`) in the first DataWay URL".into(),
                )
            })?;
        // A renewal must answer well within the lease.
        let timeout = c
            .dataway
            .timeout_v2
            .get()
            .min(s.lease / 3)
            .max(Duration::from_millis(500));
        let agent = ClientOptions {
            proxy: Proxy::setting("[dataway] http_proxy", &c.dataway.http_proxy),
            tls: TlsOptions::verify(!c.dataway.tls_insecure),
            user_agent: Some(dataway::user_agent(hostname)),
            ..ClientOptions::output(timeout)
        }
        .build()
        .map_err(|e| ElectionError::Setup(e.to_string()))?;
        Ok(DatawayElection {
            agent,
            base,
            token,
            namespace: s.namespace.clone(),
            id: s.id.clone(),
        })
    }

    /// The URL of `path` (`/v1/election` or `/v1/election/heartbeat`) with the query.
    pub fn url(&self, path: &str) -> String {
        let enc = |s: &str| utf8_percent_encode(s, QUERY).to_string();
        format!(
            "{}{path}?token={}&namespace={}&id={}",
            self.base,
            enc(&self.token),
            enc(&self.namespace),
            enc(&self.id)
        )
    }

    fn post(&self, what: &'static str, path: &str) -> Result<Round, ElectionError> {
        let resp = self.agent.post(&self.url(path)).send_empty();
        let mut resp = resp.map_err(|e| ElectionError::Transport {
            what,
            message: e.to_string(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .map_err(|e| ElectionError::Transport {
                what,
                message: format!("reading the answer: {e}"),
            })?;
        if !(200..300).contains(&status) {
            let mut body = body;
            body.truncate(512);
            return Err(ElectionError::Status { what, status, body });
        }
        parse_answer(what, &body, &self.id)
    }
}

impl Backend for DatawayElection {
    fn name(&self) -> &'static str {
        "dataway"
    }
    fn campaign(&mut self) -> Result<Round, ElectionError> {
        self.post("DataWay election", "/v1/election")
    }
    fn heartbeat(&mut self) -> Result<Round, ElectionError> {
        self.post("DataWay election heartbeat", "/v1/election/heartbeat")
    }
    /// DataWay has no resign call: the leadership expires once heartbeats stop.
    fn resign(&mut self) -> Result<(), ElectionError> {
        Ok(())
    }
}
