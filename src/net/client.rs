//! Building ureq agents from [`ClientOptions`]: every outbound HTTP client of the agent is
//! made here, so timeouts, proxies, TLS and connection reuse are set one way.

use std::path::Path;
use std::time::Duration;

use ureq::config::{AutoHeaderValue, Config};
use ureq::tls::TlsConfig;
use ureq::unversioned::transport::{Connector, RustlsConnector};

use super::NetError;
use super::tls::TlsOptions;
use super::unix::{UnixConnector, UnixResolver};

/// Which proxy requests go through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Proxy {
    /// None: straight to the server.
    #[default]
    Direct,
    /// The environment's (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`; `NO_PROXY` honoured),
    /// when one is set.
    Env,
    /// This proxy URL, from the option named `option` (which error messages name).
    Url { option: &'static str, url: String },
}

impl Proxy {
    /// A proxy setting: its URL when set, else the environment's.
    pub fn setting(option: &'static str, value: &str) -> Proxy {
        let url = value.trim();
        if url.is_empty() {
            Proxy::Env
        } else {
            Proxy::Url {
                option,
                url: url.to_string(),
            }
        }
    }

    fn resolve(&self) -> Result<Option<ureq::Proxy>, NetError> {
        match self {
            Proxy::Direct => Ok(None),
            Proxy::Env => Ok(ureq::Proxy::try_from_env()),
            Proxy::Url { option, url } => {
                ureq::Proxy::new(url)
                    .map(Some)
                    .map_err(|source| NetError::Proxy {
                        option,
                        url: url.clone(),
                        cause: source,
                    })
            }
        }
    }
}

/// How idle connections are kept for reuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive {
    /// How long an idle connection is kept.
    pub idle: Duration,
    /// Idle connections kept per host.
    pub per_host: usize,
}

impl KeepAlive {
    /// For clients that send now and then (downloads, the local API): 15 s, 3 per host.
    pub const OCCASIONAL: KeepAlive = KeepAlive {
        idle: Duration::from_secs(15),
        per_host: 3,
    };
    /// For outputs that send all the time: 90 s, 8 per host, so that a busy sink never
    /// connects (and over HTTPS shakes hands) again.
    pub const BUSY: KeepAlive = KeepAlive {
        idle: Duration::from_secs(90),
        per_host: 8,
    };
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive::OCCASIONAL
    }
}

/// Everything an outbound client is made of. HTTP error statuses are answers, not errors:
/// callers read the status themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOptions {
    /// The whole exchange, from connecting to the last byte of the body (`None`: unbounded).
    pub timeout: Option<Duration>,
    /// Connecting (`None`: bounded by `timeout` only).
    pub connect_timeout: Option<Duration>,
    /// From sending the request to the head of the answer (`None`: bounded by `timeout`).
    pub response_timeout: Option<Duration>,
    pub keep_alive: KeepAlive,
    pub proxy: Proxy,
    pub tls: TlsOptions,
    /// Sent unless a request sets its own; `None` sends no `User-Agent` at all.
    pub user_agent: Option<String>,
}

/// `datakit/<version>`: what clients that do not say more call themselves.
pub fn default_user_agent() -> String {
    format!("datakit/{}", crate::build_info::VERSION)
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            timeout: None,
            connect_timeout: None,
            response_timeout: None,
            keep_alive: KeepAlive::default(),
            proxy: Proxy::Direct,
            tls: TlsOptions::default(),
            user_agent: Some(default_user_agent()),
        }
    }
}

/// An agent for targets on this host and elsewhere: loopback targets go straight to the
/// server, others through the proxy, as Go's `ProxyFromEnvironment` does.
#[derive(Debug, Clone)]
pub struct RoutedAgent {
    direct: ureq::Agent,
    proxied: Option<ureq::Agent>,
}

/// One agent for every target (a unix socket, or no proxy to avoid).
impl From<ureq::Agent> for RoutedAgent {
    fn from(direct: ureq::Agent) -> RoutedAgent {
        RoutedAgent {
            direct,
            proxied: None,
        }
    }
}

impl RoutedAgent {
    /// The agent for `url`.
    pub fn agent_for(&self, url: &str) -> &ureq::Agent {
        match &self.proxied {
            Some(p) if !super::url::host_port(url).is_some_and(|(h, _)| super::is_loopback(&h)) => {
                p
            }
            _ => &self.direct,
        }
    }

    /// Whether some targets go through a proxy.
    pub fn has_proxy(&self) -> bool {
        self.proxied.is_some()
    }
}

impl ClientOptions {
    /// An output's client (DataWay, InfluxDB, election backends, scrapes): the whole
    /// exchange within `timeout`, connecting within `timeout` or 10 s, whichever is shorter,
    /// connections kept alive for a busy sender; no proxy, no `User-Agent` of its own.
    pub fn output(timeout: Duration) -> ClientOptions {
        ClientOptions {
            timeout: Some(timeout),
            connect_timeout: Some(timeout.min(Duration::from_secs(10))),
            keep_alive: KeepAlive::BUSY,
            user_agent: None,
            ..ClientOptions::default()
        }
    }

    /// A client for downloads through `proxy` (release index, tarballs): 30 s to connect,
    /// 60 s for the answer to start, and no bound on the body, which may be large.
    pub fn download(proxy: Proxy) -> ClientOptions {
        ClientOptions {
            connect_timeout: Some(Duration::from_secs(30)),
            response_timeout: Some(Duration::from_secs(60)),
            proxy,
            ..ClientOptions::default()
        }
    }

    /// The ureq configuration with this TLS setup and proxy.
    pub(super) fn config(&self, tls: TlsConfig, proxy: Option<ureq::Proxy>) -> Config {
        let user_agent = match &self.user_agent {
            Some(ua) => AutoHeaderValue::Provided(std::sync::Arc::new(ua.clone())),
            None => AutoHeaderValue::None,
        };
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(self.timeout)
            .timeout_connect(self.connect_timeout)
            .timeout_recv_response(self.response_timeout)
            .max_idle_age(self.keep_alive.idle)
            .max_idle_connections_per_host(self.keep_alive.per_host)
            .proxy(proxy)
            .tls_config(tls)
            .user_agent(user_agent)
            .build()
    }

    /// The agent.
    pub fn build(&self) -> Result<ureq::Agent, NetError> {
        let proxy = self.proxy.resolve()?;
        Ok(ureq::Agent::new_with_config(
            self.config(self.tls.build()?, proxy),
        ))
    }

    /// An agent that sends every request through the unix socket at `path`, whatever the
    /// URL's host (which only fills the `Host` header); `https` URLs speak TLS over it. The
    /// proxy setting does not apply.
    pub fn build_unix(&self, path: &Path) -> Result<ureq::Agent, NetError> {
        Ok(unix_agent(self.config(self.tls.build()?, None), path))
    }

    /// A [`RoutedAgent`]: one agent through the proxy (when one is set), one straight to
    /// loopback targets, sharing the TLS setup.
    pub fn build_routed(&self) -> Result<RoutedAgent, NetError> {
        let tls = self.tls.build()?;
        let proxied = self
            .proxy
            .resolve()?
            .map(|p| ureq::Agent::new_with_config(self.config(tls.clone(), Some(p))));
        Ok(RoutedAgent {
            direct: ureq::Agent::new_with_config(self.config(tls, None)),
            proxied,
        })
    }
}

pub(super) fn unix_agent(config: Config, path: &Path) -> ureq::Agent {
    let connector = UnixConnector(path.to_path_buf()).chain(RustlsConnector::default());
    ureq::Agent::with_parts(config, connector, UnixResolver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn output_clients_keep_connections_alive_and_bound_connecting() {
        let o = ClientOptions::output(Duration::from_secs(30));
        let c = o.config(TlsConfig::default(), None);
        assert_eq!(c.max_idle_age(), Duration::from_secs(90));
        assert_eq!(c.max_idle_connections_per_host(), 8);
        assert_eq!(c.timeouts().global, Some(Duration::from_secs(30)));
        assert_eq!(c.timeouts().connect, Some(Duration::from_secs(10)));
        assert!(!c.http_status_as_error());
        assert!(matches!(c.user_agent(), AutoHeaderValue::None));
        let short =
            ClientOptions::output(Duration::from_secs(2)).config(TlsConfig::default(), None);
        assert_eq!(short.timeouts().connect, Some(Duration::from_secs(2)));
    }

    #[test]
    fn downloads_bound_connecting_and_the_answer_but_not_the_body() {
        let c = ClientOptions::download(Proxy::Direct).config(TlsConfig::default(), None);
        assert_eq!(c.timeouts().global, None);
        assert_eq!(c.timeouts().connect, Some(Duration::from_secs(30)));
        assert_eq!(c.timeouts().recv_response, Some(Duration::from_secs(60)));
        match c.user_agent() {
            AutoHeaderValue::Provided(ua) => assert_eq!(ua.as_str(), default_user_agent()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn proxies_from_a_setting_or_the_environment() {
        assert_eq!(Proxy::setting("[dataway] http_proxy", "  "), Proxy::Env);
        let p = Proxy::setting("[dataway] http_proxy", " http://proxy:3128 ");
        assert_eq!(
            p,
            Proxy::Url {
                option: "[dataway] http_proxy",
                url: "http://proxy:3128".into()
            }
        );
        let o = ClientOptions {
            proxy: p,
            ..ClientOptions::default()
        };
        let agent = o.build().unwrap();
        let proxy = agent.config().proxy().expect("the proxy is set");
        assert_eq!(proxy.host(), "proxy");
        assert_eq!(proxy.port(), 3128);

        let bad = ClientOptions {
            proxy: Proxy::setting("[dataway] http_proxy", "socks9://x:y:z"),
            ..ClientOptions::default()
        };
        let e = bad.build().unwrap_err().to_string();
        assert!(
            e.starts_with("invalid [dataway] http_proxy `socks9://x:y:z`: "),
            "{e}"
        );
        assert!(
            ClientOptions::default()
                .build()
                .unwrap()
                .config()
                .proxy()
                .is_none()
        );
    }

    #[test]
    fn tls_options_reach_the_agent() {
        let o = ClientOptions {
            tls: TlsOptions::verify(false),
            ..ClientOptions::output(Duration::from_secs(1))
        };
        assert!(
            o.build()
                .unwrap()
                .config()
                .tls_config()
                .disable_verification()
        );
        let e = ClientOptions {
            tls: TlsOptions {
                ca: vec![super::super::PemSource::file(
                    "ca_certs",
                    "/nonexistent.pem",
                )],
                ..TlsOptions::default()
            },
            ..ClientOptions::default()
        }
        .build()
        .unwrap_err();
        assert!(
            matches!(
                e,
                NetError::ReadPem {
                    option: "ca_certs",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_routed_agent_sends_loopback_targets_direct() {
        let o = ClientOptions {
            proxy: Proxy::setting("http_proxy", "http://proxy:3128"),
            ..ClientOptions::output(Duration::from_secs(1))
        };
        let r = o.build_routed().unwrap();
        assert!(r.has_proxy());
        assert!(
            r.agent_for("http://127.0.0.1:9100/metrics")
                .config()
                .proxy()
                .is_none()
        );
        assert!(
            r.agent_for("http://localhost/metrics")
                .config()
                .proxy()
                .is_none()
        );
        assert!(
            r.agent_for("http://10.0.0.1:9100/metrics")
                .config()
                .proxy()
                .is_some()
        );
        let direct = ClientOptions::output(Duration::from_secs(1))
            .build_routed()
            .unwrap();
        assert!(!direct.has_proxy());
        assert!(
            direct
                .agent_for("http://10.0.0.1/m")
                .config()
                .proxy()
                .is_none()
        );
    }

    #[test]
    fn unix_socket_agents_send_the_user_agent_and_read_the_answer() {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("api.sock");
        let listener = UnixListener::bind(&sock).unwrap();
        let server = crate::net::testing::serve_once(
            listener,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(),
        );
        let o = ClientOptions {
            timeout: Some(Duration::from_secs(5)),
            user_agent: Some("test-agent/1".into()),
            proxy: Proxy::setting("http_proxy", "http://proxy:3128"),
            ..ClientOptions::default()
        };
        let agent = o.build_unix(&sock).unwrap();
        assert!(agent.config().proxy().is_none());
        let mut resp = agent.get("http://localhost/v1/ping").call().unwrap();
        assert_eq!(resp.body_mut().read_to_string().unwrap(), "ok");
        let head = server.join().unwrap().to_ascii_lowercase();
        assert!(head.starts_with("get /v1/ping http/1.1\r\n"), "{head}");
        assert!(head.contains("user-agent: test-agent/1\r\n"), "{head}");
        assert!(head.contains("host: localhost\r\n"), "{head}");
    }
}
