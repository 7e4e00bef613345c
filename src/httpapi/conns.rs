//! The connection table: at most [`MAX_CONNECTIONS`] connections, and no client address can
//! hold more than its share once the table is half full. A connection that does not fit is
//! closed as soon as it is accepted (never left waiting in the listen backlog, where it would
//! hold up everyone behind it), counted, and said in the log once a minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::stats::Stats;

/// Connections the API holds at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// Past this many connections in all, each address is held to its cap.
const PRESSURE: usize = MAX_CONNECTIONS / 2;

/// Why a connection was closed on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The table is full.
    Full,
    /// Its address holds its share while the table is busy.
    PerAddress,
}

pub struct ConnTable {
    open: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    /// 0: no cap per address.
    per_ip_max: usize,
    stats: Arc<Stats>,
}

/// A place in the table, given back when dropped.
pub struct Admitted {
    table: Arc<ConnTable>,
    ip: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.table.open.fetch_sub(1, Relaxed);
        if let Some(ip) = self.ip {
            let mut m = self.table.per_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(n) = m.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    m.remove(&ip);
                }
            }
        }
    }
}

impl ConnTable {
    pub fn new(per_ip_max: usize, stats: Arc<Stats>) -> Arc<ConnTable> {
        Arc::new(ConnTable {
            open: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            per_ip_max,
            stats,
        })
    }

    /// Connections held now.
    pub fn open(&self) -> usize {
        self.open.load(Relaxed)
    }

    /// A place for a connection from `ip` (`None`: a Unix socket), or why there is none.
    pub fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Admitted, Refused> {
        let r = self.try_admit(ip);
        if let Err(why) = r {
            self.stats.record_connection_refused();
            static LOGGED: crate::clock::Throttle = crate::clock::Throttle::new();
            if LOGGED.ready(60) {
                let open = self.open();
                match why {
                    Refused::Full => tracing::warn!(
                        open,
                        "the HTTP API holds {MAX_CONNECTIONS} connections: new ones are closed on arrival"
                    ),
                    Refused::PerAddress => tracing::warn!(
                        client = ?ip,
                        open,
                        cap = self.per_ip_max,
                        "a client address holds its share of the HTTP API's connections ([http_api] max_connections_per_ip): its new ones are closed on arrival"
                    ),
                }
            }
        }
        r
    }

    fn try_admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<Admitted, Refused> {
        let mut m = self.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        let open = self.open.load(Relaxed);
        if open >= MAX_CONNECTIONS {
            return Err(Refused::Full);
        }
        if let Some(ip) = ip {
            let held = m.get(&ip).copied().unwrap_or(0);
            if self.per_ip_max > 0 && open >= PRESSURE && held >= self.per_ip_max {
                return Err(Refused::PerAddress);
            }
            *m.entry(ip).or_insert(0) += 1;
        }
        self.open.fetch_add(1, Relaxed);
        Ok(Admitted {
            table: self.clone(),
            ip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_is_capped_only_when_the_table_is_busy() {
        let stats = Arc::new(Stats::new());
        let t = ConnTable::new(10, stats.clone());
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.1".parse().unwrap();
        let mut held = Vec::new();
        // Below half the table one address may hold more than its cap.
        for _ in 0..PRESSURE {
            held.push(t.admit(Some(a)).unwrap());
        }
        assert_eq!(t.admit(Some(a)).err(), Some(Refused::PerAddress));
        // Others still get in, each within its share, up to the table's size.
        for _ in 0..10 {
            held.push(t.admit(Some(b)).unwrap());
        }
        assert_eq!(t.admit(Some(b)).err(), Some(Refused::PerAddress));
        for _ in PRESSURE + 10..MAX_CONNECTIONS {
            held.push(t.admit(None).unwrap());
        }
        assert_eq!(t.admit(None).err(), Some(Refused::Full));
        assert_eq!(stats.snapshot().agent.connections_refused, 3);
        held.clear();
        assert_eq!(t.open(), 0);
        assert!(t.per_ip.lock().unwrap().is_empty());
        assert!(t.admit(Some(a)).is_ok());
    }
}
