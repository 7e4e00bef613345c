//! The election on etcd (v3 API), through etcd's JSON gateway (`/v3/...`, keys and values in
//! base64, 64-bit integers as strings), with the HTTP client the agent already uses.
//!
//! - Each agent keeps a lease of `lease_ttl` (granted on the first campaign, renewed by
//!   `/v3/lease/keepalive`, re-granted when it has expired).
//! - Campaign: renew the lease, then one transaction: if `<prefix>/<namespace>` does not exist
//!   (`create_revision == 0`), put it with this agent's id as value, bound to the lease; else
//!   read it. The leader is the agent whose id and lease the key holds. Followers poll.
//! - Heartbeat: renew the lease, then read the key back: still ours, or deposed.
//! - Resign: revoke the lease (the key goes with it), so a follower takes over at its next
//!   poll.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Backend, ElectionError, Round, Settings};
use crate::config::MainConfig;
use crate::net::{ClientOptions, PemSource, TlsOptions};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The etcd backend.
pub struct Etcd {
    agent: ureq::Agent,
    endpoints: Vec<String>,
    /// The endpoint that answered last.
    current: usize,
    key: String,
    id: String,
    ttl_secs: i64,
    lease: Option<i64>,
    credentials: Option<(String, String)>,
    token: Option<String>,
}

/// An `int64` of the JSON gateway: a string, or a number.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

fn unb64(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    let bytes = B64.decode(s.as_bytes()).ok()?;
    String::from_utf8(bytes).ok()
}

impl Etcd {
    pub fn from_config(c: &MainConfig, s: &Settings) -> Result<Etcd, ElectionError> {
        let e = &c.election.etcd;
        if e.endpoints.is_empty() {
            return Err(ElectionError::Setup(
                "the etcd election backend needs `[election.etcd] endpoints`".into(),
            ));
        }
        let timeout = e
            .timeout
            .get()
            .min(s.lease / 3)
            .max(Duration::from_millis(300));
        let agent = ClientOptions {
            tls: TlsOptions {
                insecure_skip_verify: e.insecure_skip_verify,
                ca: PemSource::file_if_set("election.etcd.ca_file", &e.ca_file)
                    .into_iter()
                    .collect(),
                client_cert: PemSource::file_if_set("election.etcd.cert_file", &e.cert_file),
                client_key: PemSource::file_if_set("election.etcd.key_file", &e.key_file),
            },
            ..ClientOptions::output(timeout)
        }
        .build()
        .map_err(|e| ElectionError::Setup(e.to_string()))?;
        let prefix = e.key_prefix.trim_end_matches('/');
        Ok(Etcd {
            agent,
            endpoints: e
                .endpoints
                .iter()
                .map(|u| u.trim_end_matches('/').to_string())
                .collect(),
            current: 0,
            key: format!("{prefix}/{}", s.namespace),
            id: s.id.clone(),
            ttl_secs: s.lease.as_secs().max(1) as i64,
            lease: None,
            credentials: (!e.username.is_empty()).then(|| (e.username.clone(), e.password.clone())),
            token: None,
        })
    }

    /// The key the leader holds.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lease this agent holds, if any.
    pub fn lease(&self) -> Option<i64> {
        self.lease
    }

    /// One POST to the first endpoint that answers (starting at the last good one).
    fn call_once(
        &mut self,
        what: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, ElectionError> {
        let mut last = None;
        for k in 0..self.endpoints.len() {
            let i = (self.current + k) % self.endpoints.len();
            let url = format!("{}{path}", self.endpoints[i]);
            let mut req = self
                .agent
                .post(&url)
                .header("Content-Type", "application/json");
            if let Some(t) = &self.token {
                req = req.header("Authorization", t);
            }
            let mut resp = match req.send(body.to_string().as_bytes()) {
                Ok(r) => r,
                Err(e) => {
                    last = Some(ElectionError::Transport {
                        what,
                        message: format!("{url}: {e}"),
                    });
                    continue;
                }
            };
            self.current = i;
            let status = resp.status().as_u16();
            let text = resp
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_string()
                .map_err(|e| ElectionError::Transport {
                    what,
                    message: format!("{url}: reading the answer: {e}"),
                })?;
            if !(200..300).contains(&status) {
                let mut body = text;
                body.truncate(512);
                return Err(ElectionError::Status { what, status, body });
            }
            let v: Value = serde_json::from_str(&text).map_err(|e| ElectionError::BadResponse {
                what,
                message: format!("{e}: {text:.200}"),
            })?;
            // Streaming endpoints (keepalive) report errors in the body.
            if let Some(err) = v.get("error") {
                return Err(ElectionError::BadResponse {
                    what,
                    message: err.to_string(),
                });
            }
            return Ok(v);
        }
        Err(last.unwrap_or(ElectionError::Setup("no etcd endpoint".into())))
    }

    /// A call, authenticating first (and again when the token is refused) with credentials.
    fn call(
        &mut self,
        what: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, ElectionError> {
        if self.credentials.is_some() && self.token.is_none() {
            self.authenticate()?;
        }
        match self.call_once(what, path, body) {
            Err(
                ElectionError::Status { body: b, .. }
                | ElectionError::BadResponse { message: b, .. },
            ) if self.credentials.is_some() && b.contains("auth token") => {
                self.token = None;
                self.authenticate()?;
                self.call_once(what, path, body)
            }
            r => r,
        }
    }

    fn authenticate(&mut self) -> Result<(), ElectionError> {
        let Some((name, password)) = self.credentials.clone() else {
            return Ok(());
        };
        self.token = None;
        let v = self.call_once(
            "etcd authenticate",
            "/v3/auth/authenticate",
            &json!({"name": name, "password": password}),
        )?;
        let t =
            v.get("token")
                .and_then(Value::as_str)
                .ok_or_else(|| ElectionError::BadResponse {
                    what: "etcd authenticate",
                    message: "no token in the answer".into(),
                })?;
        self.token = Some(t.to_string());
        Ok(())
    }

    fn grant(&mut self) -> Result<(i64, i64), ElectionError> {
        let what = "etcd lease grant";
        let v = self.call(
            what,
            "/v3/lease/grant",
            &json!({"TTL": self.ttl_secs.to_string(), "ID": "0"}),
        )?;
        let id = v
            .get("ID")
            .and_then(int)
            .filter(|i| *i != 0)
            .ok_or_else(|| ElectionError::BadResponse {
                what,
                message: format!("no lease ID in {v}"),
            })?;
        let ttl = v.get("TTL").and_then(int).unwrap_or(0);
        if ttl <= 0 {
            return Err(ElectionError::BadResponse {
                what,
                message: format!("no TTL in {v}"),
            });
        }
        self.lease = Some(id);
        Ok((id, ttl))
    }

    /// Renews `lease`: its remaining TTL, or `None` when it has expired.
    fn keepalive(&mut self, lease: i64) -> Result<Option<i64>, ElectionError> {
        let what = "etcd lease keepalive";
        let v = match self.call(
            what,
            "/v3/lease/keepalive",
            &json!({"ID": lease.to_string()}),
        ) {
            Ok(v) => v,
            Err(
                ElectionError::BadResponse { message, .. }
                | ElectionError::Status { body: message, .. },
            ) if message.contains("lease not found") => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let r = v.get("result").unwrap_or(&v);
        Ok(r.get("TTL").and_then(int).filter(|t| *t > 0))
    }

    /// A fresh or renewed lease: (id, TTL in seconds).
    fn ensure_lease(&mut self) -> Result<(i64, i64), ElectionError> {
        if let Some(l) = self.lease {
            if let Some(ttl) = self.keepalive(l)? {
                return Ok((l, ttl));
            }
            self.lease = None;
        }
        self.grant()
    }

    /// The key's holder: (id, lease), or `None` when nobody holds it.
    fn holder_of(kvs: Option<&Value>) -> Option<(String, i64)> {
        let kv = kvs?.as_array()?.first()?;
        let id = kv.get("value").and_then(unb64).unwrap_or_default();
        let lease = kv.get("lease").and_then(int).unwrap_or(0);
        Some((id, lease))
    }

    fn round(&self, holder: Option<(String, i64)>, lease: i64, ttl: i64) -> Round {
        match holder {
            Some((id, l)) if l == lease && id == self.id => Round {
                elected: true,
                leader: id,
                interval: None,
                ttl: Some(Duration::from_secs(ttl.max(0) as u64)),
            },
            Some((id, _)) => Round {
                elected: false,
                leader: id,
                interval: None,
                ttl: None,
            },
            None => Round {
                elected: false,
                leader: String::new(),
                interval: None,
                ttl: None,
            },
        }
    }

    /// Who holds the key now.
    pub fn holder(&mut self) -> Result<Option<(String, i64)>, ElectionError> {
        let v = self.call(
            "etcd range",
            "/v3/kv/range",
            &json!({"key": b64(&self.key)}),
        )?;
        Ok(Self::holder_of(v.get("kvs")))
    }
}

impl Backend for Etcd {
    fn name(&self) -> &'static str {
        "etcd"
    }

    fn campaign(&mut self) -> Result<Round, ElectionError> {
        let (lease, ttl) = self.ensure_lease()?;
        let key = b64(&self.key);
        let txn = json!({
            "compare": [{"key": key, "result": "EQUAL", "target": "CREATE", "create_revision": "0"}],
            "success": [{"request_put": {"key": key, "value": b64(&self.id), "lease": lease.to_string()}}],
            "failure": [{"request_range": {"key": key}}],
        });
        let v = self.call("etcd txn", "/v3/kv/txn", &txn)?;
        if v.get("succeeded").and_then(Value::as_bool) == Some(true) {
            return Ok(self.round(Some((self.id.clone(), lease)), lease, ttl));
        }
        let kvs = v
            .get("responses")
            .and_then(Value::as_array)
            .and_then(|r| r.first())
            .and_then(|r| r.get("response_range"))
            .and_then(|r| r.get("kvs"));
        Ok(self.round(Self::holder_of(kvs), lease, ttl))
    }

    fn heartbeat(&mut self) -> Result<Round, ElectionError> {
        let Some(lease) = self.lease else {
            return Ok(self.round(None, 0, 0));
        };
        let Some(ttl) = self.keepalive(lease)? else {
            self.lease = None;
            return Ok(self.round(None, lease, 0));
        };
        let holder = self.holder()?;
        Ok(self.round(holder, lease, ttl))
    }

    fn resign(&mut self) -> Result<(), ElectionError> {
        if let Some(lease) = self.lease.take() {
            self.call(
                "etcd lease revoke",
                "/v3/lease/revoke",
                &json!({"ID": lease.to_string()}),
            )?;
        }
        Ok(())
    }
}
