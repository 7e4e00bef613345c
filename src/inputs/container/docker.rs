//! A small blocking client of the Docker Engine API on its unix socket: one HTTP/1.1 `GET`
//! per connection (`Connection: close`), the answer read to its end and decoded with serde
//! into the few fields the input reads.
//!
//! Collections run on a collection thread ([`crate::inputs::exec`]), so blocking reads with a
//! timeout are what they need; no async runtime, no connection pool.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The most an answer may hold (a list of thousands of containers is a few MB).
pub const MAX_RESPONSE: usize = 64 << 20;

/// Why a request to the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("endpoint `{0}`: only `unix://` endpoints are supported")]
    Scheme(String),
    #[error("connecting to {path}: {source}")]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GET {what} on {path}: {source}")]
    Io {
        what: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("GET {what}: malformed HTTP answer: {why}")]
    Http { what: String, why: HttpError },
    #[error("GET {what}: status {status}: {message}")]
    Status {
        what: String,
        status: u16,
        message: String,
    },
    #[error("GET {what}: the answer is not the expected JSON: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
}

/// What is wrong with an HTTP answer's bytes (with the byte offset where it was found).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("no end of the header (no blank line) in {0} bytes")]
    NoHeaderEnd(usize),
    #[error("bad status line at byte 0: {0:?}")]
    StatusLine(String),
    #[error("bad header line at byte {0}")]
    Header(usize),
    #[error("bad chunk size at byte {0}")]
    ChunkSize(usize),
    #[error("chunked body cut short at byte {0}")]
    ChunkCut(usize),
    #[error("body shorter than its Content-Length ({have} of {want} bytes)")]
    Short { have: usize, want: usize },
    #[error("answer larger than {MAX_RESPONSE} bytes")]
    TooLarge,
}

/// A parsed HTTP answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Parses a whole HTTP/1.1 answer (the connection was closed after it): the status line,
/// the headers, and the body by `Transfer-Encoding: chunked`, `Content-Length`, or to the
/// end.
pub fn parse_response(raw: &[u8]) -> Result<Response, HttpError> {
    let end = memchr::memmem::find(raw, b"\r\n\r\n").ok_or(HttpError::NoHeaderEnd(raw.len()))?;
    let head = &raw[..end];
    let body = &raw[end + 4..];
    let mut lines = head.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or_default();
    let status_line = first.strip_suffix(b"\r").unwrap_or(first);
    let bad_status = || HttpError::StatusLine(String::from_utf8_lossy(status_line).into_owned());
    let mut parts = status_line.splitn(3, |&b| b == b' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with(b"HTTP/1.") {
        return Err(bad_status());
    }
    let code = parts.next().ok_or_else(bad_status)?;
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return Err(bad_status());
    }
    let status = code.iter().fold(0u16, |a, d| a * 10 + u16::from(d - b'0'));
    let mut chunked = false;
    let mut length: Option<usize> = None;
    let mut offset = first.len() + 1;
    for line in lines {
        let at = offset;
        offset += line.len() + 1;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let colon = memchr::memchr(b':', line).ok_or(HttpError::Header(at))?;
        let name = &line[..colon];
        let value = line[colon + 1..].trim_ascii();
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            chunked = value
                .split(|&b| b == b',')
                .any(|v| v.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .and_then(|s| s.parse::<usize>().ok())
                .ok_or(HttpError::Header(at))?;
            length = Some(n);
        }
    }
    let base = end + 4;
    let body = if chunked {
        dechunk(body, base)?
    } else if let Some(n) = length {
        if body.len() < n {
            return Err(HttpError::Short {
                have: body.len(),
                want: n,
            });
        }
        body[..n].to_vec()
    } else {
        body.to_vec()
    };
    Ok(Response { status, body })
}

/// The body of a chunked answer; `base` is the body's offset in the answer (for errors).
fn dechunk(mut rest: &[u8], base: usize) -> Result<Vec<u8>, HttpError> {
    let mut out = Vec::with_capacity(rest.len());
    let total = rest.len();
    loop {
        let at = base + (total - rest.len());
        let eol = memchr::memmem::find(rest, b"\r\n").ok_or(HttpError::ChunkCut(at))?;
        let size_text = &rest[..eol];
        // Chunk extensions (`;name=value`) are allowed and ignored.
        let size_text = size_text
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if size_text.is_empty() || size_text.len() > 15 {
            return Err(HttpError::ChunkSize(at));
        }
        let size = std::str::from_utf8(size_text)
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or(HttpError::ChunkSize(at))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            return Err(HttpError::ChunkCut(base + (total - rest.len())));
        }
        out.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err(HttpError::ChunkCut(base + (total - rest.len()) + size));
        }
        rest = &rest[size + 2..];
    }
}

/// A Docker engine on a unix socket.
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
    timeout: Duration,
}

impl Client {
    /// A client of `endpoint` (`unix:///var/run/docker.sock`). Nothing is connected yet.
    pub fn new(endpoint: &str, timeout: Duration) -> Result<Client, DockerError> {
        let path = endpoint
            .strip_prefix("unix://")
            .filter(|p| p.starts_with('/'))
            .ok_or_else(|| DockerError::Scheme(endpoint.to_string()))?;
        Ok(Client {
            path: PathBuf::from(path),
            timeout,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `GET target`, the answer's body when its status is 200.
    pub fn get(&self, target: &str) -> Result<Vec<u8>, DockerError> {
        self.send(target)?.finish()
    }

    /// Sends `GET target` and returns at once: the engine works on it while further requests
    /// are sent (it answers statistics only at its next sampling, up to a second later, so
    /// requests one after another would take that long each).
    pub fn send(&self, target: &str) -> Result<Pending, DockerError> {
        let io = |source| DockerError::Io {
            what: target.to_string(),
            path: self.path.clone(),
            source,
        };
        let mut s = UnixStream::connect(&self.path).map_err(|source| DockerError::Connect {
            path: self.path.clone(),
            source,
        })?;
        s.set_read_timeout(Some(self.timeout)).map_err(io)?;
        s.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let req = format!(
            "GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: datakit\r\nAccept: application/json\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).map_err(io)?;
        Ok(Pending {
            stream: s,
            target: target.to_string(),
            path: self.path.clone(),
        })
    }

    /// Starts a statistics request ([`Client::stats`]) without waiting for its answer.
    pub fn send_stats(&self, id: &str) -> Result<Pending, DockerError> {
        check_id(id)?;
        self.send(&format!(
            "/containers/{id}/stats?stream=false&one-shot=true"
        ))
    }
}

/// A request sent, its answer not yet read.
#[derive(Debug)]
pub struct Pending {
    stream: UnixStream,
    target: String,
    path: PathBuf,
}

impl Pending {
    /// Reads the answer: its body when the status is 200.
    pub fn finish(self) -> Result<Vec<u8>, DockerError> {
        let Pending {
            mut stream,
            target,
            path,
        } = self;
        let target = target.as_str();
        let io = |source| DockerError::Io {
            what: target.to_string(),
            path: path.clone(),
            source,
        };
        let mut raw = Vec::with_capacity(8192);
        (&mut stream)
            .take(MAX_RESPONSE as u64 + 1)
            .read_to_end(&mut raw)
            .map_err(io)?;
        let http = |why| DockerError::Http {
            what: target.to_string(),
            why,
        };
        if raw.len() > MAX_RESPONSE {
            return Err(http(HttpError::TooLarge));
        }
        let r = parse_response(&raw).map_err(http)?;
        if r.status != 200 {
            #[derive(Deserialize)]
            struct Msg {
                message: String,
            }
            let message = serde_json::from_slice::<Msg>(&r.body).map_or_else(
                |_| String::from_utf8_lossy(&r.body).trim().to_string(),
                |m| m.message,
            );
            return Err(DockerError::Status {
                what: target.to_string(),
                status: r.status,
                message,
            });
        }
        Ok(r.body)
    }

    /// The answer as `T`.
    pub fn finish_json<T: for<'de> Deserialize<'de>>(self) -> Result<T, DockerError> {
        let what = self.target.clone();
        let body = self.finish()?;
        serde_json::from_slice(&body).map_err(|source| DockerError::Json { what, source })
    }
}

impl Client {
    fn get_json<T: for<'de> Deserialize<'de>>(&self, target: &str) -> Result<T, DockerError> {
        let body = self.get(target)?;
        serde_json::from_slice(&body).map_err(|source| DockerError::Json {
            what: target.to_string(),
            source,
        })
    }

    /// `/version`: whether this is a Docker engine, and its version.
    pub fn version(&self) -> Result<Version, DockerError> {
        self.get_json("/version")
    }

    /// The running containers (`/containers/json` with the `running` status filter).
    pub fn list_running(&self) -> Result<Vec<Summary>, DockerError> {
        // filters={"status":["running"]}
        self.get_json("/containers/json?filters=%7B%22status%22%3A%5B%22running%22%5D%7D")
    }

    /// `/containers/{id}/json`.
    pub fn inspect(&self, id: &str) -> Result<Inspect, DockerError> {
        check_id(id)?;
        self.get_json(&format!("/containers/{id}/json"))
    }

    /// One reading of a container's statistics, at once (`one-shot`: the engine does not wait
    /// for a second reading, so `precpu_stats` is empty; the caller keeps the previous one).
    pub fn stats(&self, id: &str) -> Result<Stats, DockerError> {
        check_id(id)?;
        self.get_json(&format!(
            "/containers/{id}/stats?stream=false&one-shot=true"
        ))
    }
}

/// Ids come from the engine; they are hex, and anything else would change the request.
fn check_id(id: &str) -> Result<(), DockerError> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(DockerError::Status {
            what: format!("/containers/{id}"),
            status: 0,
            message: "not a container id".into(),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Version {
    #[serde(rename = "Version", default)]
    pub version: String,
    #[serde(rename = "ApiVersion", default)]
    pub api_version: String,
    #[serde(rename = "Platform", default)]
    pub platform: Option<Platform>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Platform {
    #[serde(rename = "Name", default)]
    pub name: String,
}

/// One entry of `/containers/json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Summary {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Names", default)]
    pub names: Vec<String>,
    #[serde(rename = "Image", default)]
    pub image: String,
    #[serde(rename = "Created", default)]
    pub created: i64,
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "Labels", default, deserialize_with = "null_map")]
    pub labels: BTreeMap<String, String>,
}

impl Summary {
    /// The name as `docker ps` shows it (without the leading `/`), or `unknown`.
    pub fn name(&self) -> &str {
        self.names
            .first()
            .map_or("unknown", |n| n.strip_prefix('/').unwrap_or(n))
    }
}

/// What the input reads of `/containers/{id}/json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Inspect {
    #[serde(rename = "LogPath", default)]
    pub log_path: String,
    #[serde(rename = "State", default)]
    pub state: Option<InspectState>,
    #[serde(rename = "HostConfig", default)]
    pub host_config: Option<HostConfig>,
    #[serde(rename = "Config", default)]
    pub config: Option<InspectConfig>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InspectState {
    #[serde(rename = "Pid", default)]
    pub pid: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct HostConfig {
    #[serde(rename = "Memory", default)]
    pub memory: i64,
    #[serde(rename = "NanoCpus", default)]
    pub nano_cpus: i64,
    #[serde(rename = "CpuPeriod", default)]
    pub cpu_period: i64,
    #[serde(rename = "CpuQuota", default)]
    pub cpu_quota: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct InspectConfig {
    #[serde(rename = "Env", default, deserialize_with = "null_vec")]
    pub env: Vec<String>,
}

impl Inspect {
    /// The CPU limit in millicores (`--cpus`, else quota / period), 0 without one.
    pub fn cpu_limit_millicores(&self) -> i64 {
        let Some(h) = &self.host_config else { return 0 };
        if h.nano_cpus != 0 {
            h.nano_cpus / 1_000_000
        } else if h.cpu_period != 0 {
            (h.cpu_quota as f64 / h.cpu_period as f64 * 1e3) as i64
        } else {
            0
        }
    }

    pub fn memory_limit(&self) -> i64 {
        self.host_config.as_ref().map_or(0, |h| h.memory)
    }

    pub fn pid(&self) -> i64 {
        self.state.as_ref().map_or(0, |s| s.pid)
    }
}

/// What the input reads of `/containers/{id}/stats`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Stats {
    #[serde(default)]
    pub cpu_stats: CpuStats,
    #[serde(default)]
    pub precpu_stats: CpuStats,
    #[serde(default)]
    pub memory_stats: MemoryStats,
    #[serde(default)]
    pub blkio_stats: BlkioStats,
    #[serde(default, deserialize_with = "null_map")]
    pub networks: BTreeMap<String, NetworkStats>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CpuStats {
    #[serde(default)]
    pub cpu_usage: CpuUsage,
    #[serde(default)]
    pub system_cpu_usage: u64,
    #[serde(default)]
    pub online_cpus: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CpuUsage {
    #[serde(default)]
    pub total_usage: u64,
    #[serde(default, deserialize_with = "null_vec")]
    pub percpu_usage: Vec<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MemoryStats {
    #[serde(default)]
    pub usage: u64,
    #[serde(default, deserialize_with = "null_map")]
    pub stats: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlkioStats {
    #[serde(default, deserialize_with = "null_vec")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlkioEntry {
    #[serde(default)]
    pub op: String,
    #[serde(default)]
    pub value: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkStats {
    #[serde(default)]
    pub rx_bytes: u64,
    #[serde(default)]
    pub tx_bytes: u64,
}

/// The engine writes `null` for empty maps and lists.
fn null_map<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: serde::Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    Ok(Option::<BTreeMap<K, V>>::deserialize(d)?.unwrap_or_default())
}

fn null_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_and_close_delimited_bodies() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
        assert_eq!(
            r,
            Response {
                status: 200,
                body: b"{}".to_vec()
            }
        );
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\nnope").unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"nope");
    }

    #[test]
    fn chunked_bodies_with_extensions() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n";
        let r = parse_response(raw).unwrap();
        assert_eq!(r.body, b"abc0123456789");
    }

    #[test]
    fn malformed_answers_say_where() {
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\n"),
            Err(HttpError::NoHeaderEnd(17))
        );
        assert!(matches!(
            parse_response(b"SMTP 200 OK\r\n\r\n"),
            Err(HttpError::StatusLine(_))
        ));
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"),
            Err(HttpError::Header(17))
        );
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(parse_response(raw), Err(HttpError::ChunkSize(47)));
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab";
        assert_eq!(parse_response(raw), Err(HttpError::ChunkCut(50)));
        assert_eq!(
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab"),
            Err(HttpError::Short { have: 2, want: 9 })
        );
    }

    #[test]
    fn endpoints_must_be_unix_sockets() {
        assert!(Client::new("unix:///var/run/docker.sock", Duration::from_secs(1)).is_ok());
        assert!(matches!(
            Client::new("tcp://127.0.0.1:2375", Duration::from_secs(1)),
            Err(DockerError::Scheme(_))
        ));
        assert!(Client::new("unix://relative", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn null_lists_and_maps_decode_as_empty() {
        let s: Summary =
            serde_json::from_str(r#"{"Id":"ab","Names":["/web"],"Labels":null}"#).unwrap();
        assert_eq!(s.name(), "web");
        assert!(s.labels.is_empty());
        let st: Stats = serde_json::from_str(
            r#"{"networks":null,"blkio_stats":{"io_service_bytes_recursive":null},"cpu_stats":{"cpu_usage":{"total_usage":5,"percpu_usage":null}}}"#,
        )
        .unwrap();
        assert_eq!(st.cpu_stats.cpu_usage.total_usage, 5);
    }
}
