//! Facts about this host the agent reports: its name and IP.

use crate::config::MainConfig;

/// The hostname the agent reports: `[environments] ENV_HOSTNAME` when set, else the system's.
pub fn hostname(main: &MainConfig) -> String {
    let o = main.environments.ENV_HOSTNAME.trim();
    if !o.is_empty() {
        return o.to_string();
    }
    system_hostname()
}

/// The kernel's hostname.
pub fn system_hostname() -> String {
    let u = rustix::system::uname();
    let n = u.nodename().to_string_lossy().trim().to_string();
    if n.is_empty() { "localhost".into() } else { n }
}

/// The address this host would use to reach the network (no packet is sent), else loopback.
pub fn primary_ip() -> String {
    let probe = || -> std::io::Result<std::net::IpAddr> {
        let s = std::net::UdpSocket::bind("0.0.0.0:0")?;
        s.connect("10.255.255.255:9")?;
        Ok(s.local_addr()?.ip())
    };
    match probe() {
        Ok(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => "127.0.0.1".into(),
    }
}
