//! The outputs the config asks for: every DataWay URL, every InfluxDB, and the file sink,
//! each with its retry policy and its disk queue.

use std::sync::Arc;
use std::time::Duration;

use super::body::{self, Encoding};
use super::output::{self, DeliveryPolicy, Output};
use super::{IoError, diskq, sinks};
use crate::config::MainConfig;
use crate::stats::Stats;
use crate::workdir::Workdir;

/// The directory of the outputs' disk queues and the journals: `[dataway.wal] path`, else
/// `<workdir>/cache/queue`.
pub fn wal_root(c: &MainConfig, workdir: &Workdir) -> std::path::PathBuf {
    if c.dataway.wal.path.is_empty() {
        workdir.cache().join("queue")
    } else {
        workdir.join_config_path(&c.dataway.wal.path)
    }
}

/// The outputs the config asks for, in order: every DataWay URL, every InfluxDB, then the file
/// sink (always when nothing else is configured). Also returns a line describing each.
pub fn build_outputs(
    c: &MainConfig,
    workdir: &Workdir,
    hostname: &str,
    stats: &Arc<Stats>,
) -> Result<Vec<(Arc<Output>, String)>, IoError> {
    let mut outs = Vec::new();
    let gzip_level = c.io.gzip_level.clamp(1, 9);
    let policy = |attempts: u32| DeliveryPolicy {
        attempts,
        retry_delay: c.dataway.retry_delay.get(),
        max_backoff: c
            .dataway
            .wal
            .fail_cache_clean_interval
            .get()
            .max(Duration::from_secs(1)),
        expire_after: c.dataway.drop_expired_package_at.get(),
        no_drop: c.dataway.wal.no_drop(),
    };
    let queue_opts = diskq::Options {
        capacity_bytes: (c.dataway.wal.max_capacity_gb * (1u64 << 30) as f64) as u64,
        segment_bytes: 20 << 20,
        fsync: diskq::Fsync::Always,
    };
    let queue_root = wal_root(c, workdir);
    // An output with its disk queue under `cache/queue/<name>/`.
    let queued = |name: &str,
                  kind: &'static str,
                  target: &str,
                  sink: Box<dyn output::Sink>,
                  attempts: u32|
     -> Result<Arc<Output>, IoError> {
        let ostats = Arc::new(crate::stats::OutputStats::new(name, kind, target));
        let queue = diskq::DiskQueue::open(queue_root.join(name), queue_opts.clone())?;
        Ok(Arc::new(Output::new(
            name,
            sink,
            ostats,
            stats.clone(),
            Some(queue),
            policy(attempts),
        )))
    };
    let encoding =
        body::Encoding::from_config(&c.dataway.content_encoding).unwrap_or(Encoding::Protobuf);
    for (i, url) in c.dataway.urls.iter().enumerate() {
        let name = if c.dataway.urls.len() == 1 {
            "dataway".to_string()
        } else {
            format!("dataway-{i}")
        };
        let err = |message: String| IoError::Output {
            name: name.clone(),
            message,
        };
        let sink = sinks::dataway::Dataway::new(
            url,
            encoding,
            c.dataway.gzip.then_some(gzip_level),
            c.dataway.timeout_v2.get(),
            &c.dataway.http_proxy,
            c.dataway.tls_insecure,
            dataway_keep_alive(c),
            hostname,
            stats.clone(),
        )
        .map_err(err)?;
        let target = crate::net::redact(url);
        let attempts = c.dataway.max_retry_count.clamp(1, 10) as u32;
        let out = queued(&name, "dataway", &target, Box::new(sink), attempts)?;
        outs.push((out, format!("DataWay {target}")));
    }
    for (i, o) in c.outputs.influxdb.iter().enumerate() {
        let name = format!("influxdb-{i}");
        let sink =
            sinks::influxdb::Influx::new(o, gzip_level).map_err(|message| IoError::Output {
                name: name.clone(),
                message,
            })?;
        let target = crate::net::redact(&o.url);
        let out = queued(&name, "influxdb", &target, Box::new(sink), 3)?;
        outs.push((out, format!("InfluxDB {target} (API {})", o.version)));
    }
    if outs.is_empty() || c.outputs.file.enable {
        let dir = workdir.join_config_path(&c.outputs.file.path);
        let sink = sinks::file::FileSink::new(
            dir.clone(),
            c.outputs.file.max_size_mb.max(1) << 20,
            c.outputs.file.max_files as u32,
        )
        .map_err(|e| IoError::Output {
            name: "file".into(),
            message: format!("{}: {e}", dir.display()),
        })?;
        let ostats = Arc::new(crate::stats::OutputStats::new(
            "file",
            "file",
            dir.display().to_string(),
        ));
        let out = Output::new(
            "file",
            Box::new(sink),
            ostats,
            stats.clone(),
            None,
            policy(1),
        );
        outs.push((Arc::new(out), format!("files in {}", dir.display())));
    }
    Ok(outs)
}

/// Idle connections kept to DataWay: `[dataway] max_idle_conns` (0: 100, as the original) for
/// `idle_timeout`.
fn dataway_keep_alive(c: &MainConfig) -> crate::net::KeepAlive {
    crate::net::KeepAlive {
        idle: c.dataway.idle_timeout.get(),
        per_host: match c.dataway.max_idle_conns {
            0 => 100,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataway_connections_follow_max_idle_conns_and_idle_timeout() {
        let mut c = MainConfig::default();
        let k = dataway_keep_alive(&c);
        assert_eq!(
            (k.per_host, k.idle),
            (100, std::time::Duration::from_secs(90))
        );
        c.dataway.max_idle_conns = 4;
        c.dataway.idle_timeout = crate::config::duration::Dur::from_secs(5);
        let k = dataway_keep_alive(&c);
        assert_eq!((k.per_host, k.idle), (4, std::time::Duration::from_secs(5)));
    }
}
