//! Network interfaces with their addresses, flags and MAC, from `getifaddrs(3)`: one call
//! instead of reading a dozen sysfs files per interface.

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Iface {
    pub name: String,
    /// `IFF_*` flags.
    pub flags: u32,
    pub mac: Option<String>,
    /// Addresses with their prefix length.
    pub addrs: Vec<(IpAddr, u8)>,
}

/// The `IFF_*` flags by the names Go's `net.Flags` prints.
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    [
        (libc::IFF_UP, "up"),
        (libc::IFF_BROADCAST, "broadcast"),
        (libc::IFF_LOOPBACK, "loopback"),
        (libc::IFF_POINTOPOINT, "pointtopoint"),
        (libc::IFF_MULTICAST, "multicast"),
        (libc::IFF_RUNNING, "running"),
    ]
    .iter()
    .filter(|(b, _)| flags & (*b as u32) != 0)
    .map(|(_, s)| *s)
    .collect()
}

fn prefix_len(bytes: &[u8]) -> u8 {
    bytes.iter().map(|b| b.count_ones() as u8).sum()
}

/// Every interface of this network namespace, sorted by name.
pub fn interfaces() -> std::io::Result<Vec<Iface>> {
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut out: BTreeMap<String, Iface> = BTreeMap::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned, valid until freeifaddrs.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let name = unsafe { CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let entry = out.entry(name.clone()).or_insert_with(|| Iface {
            name,
            ..Iface::default()
        });
        entry.flags |= ifa.ifa_flags;
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: ifa_addr points to a sockaddr whose family tells its real type.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        match family {
            libc::AF_INET => {
                // SAFETY: AF_INET addresses are sockaddr_in.
                let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in) };
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                let prefix = if ifa.ifa_netmask.is_null() {
                    32
                } else {
                    // SAFETY: the netmask of an AF_INET address is a sockaddr_in.
                    let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in) };
                    prefix_len(&m.sin_addr.s_addr.to_ne_bytes())
                };
                entry.addrs.push((IpAddr::V4(ip), prefix));
            }
            libc::AF_INET6 => {
                // SAFETY: AF_INET6 addresses are sockaddr_in6.
                let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_in6) };
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                let prefix = if ifa.ifa_netmask.is_null() {
                    128
                } else {
                    // SAFETY: the netmask of an AF_INET6 address is a sockaddr_in6.
                    let m = unsafe { &*(ifa.ifa_netmask as *const libc::sockaddr_in6) };
                    prefix_len(&m.sin6_addr.s6_addr)
                };
                entry.addrs.push((IpAddr::V6(ip), prefix));
            }
            libc::AF_PACKET => {
                // SAFETY: AF_PACKET addresses are sockaddr_ll.
                let a = unsafe { &*(ifa.ifa_addr as *const libc::sockaddr_ll) };
                let n = usize::from(a.sll_halen).min(a.sll_addr.len());
                if n > 0 {
                    let mac: Vec<String> =
                        a.sll_addr[..n].iter().map(|b| format!("{b:02x}")).collect();
                    entry.mac = Some(mac.join(":"));
                }
            }
            _ => {}
        }
    }
    // SAFETY: `head` came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_listed_with_its_address() {
        let all = interfaces().unwrap();
        let lo = all.iter().find(|i| i.name == "lo").expect("lo exists");
        assert!(flag_names(lo.flags).contains(&"loopback"));
        assert!(
            lo.addrs
                .iter()
                .any(|(a, p)| *a == IpAddr::V4(Ipv4Addr::LOCALHOST) && *p == 8),
            "{lo:?}"
        );
    }
}
