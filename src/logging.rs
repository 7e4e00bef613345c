//! The agent's own log: a file rotated by size (the original's `rotate` MiB and
//! `rotate_backups`), or stdout, written by a background thread so logging never blocks work.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};

/// A file that rotates itself at `max_bytes`: `log` → `log.1` → ... → `log.<backups>`.
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    backups: u32,
    file: File,
    size: u64,
}

impl RotatingFile {
    pub fn open(path: &Path, max_bytes: u64, backups: u32) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            max_bytes: max_bytes.max(4096),
            backups,
            file,
            size,
        })
    }

    fn backup(&self, n: u32) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.backups == 0 {
            self.file.set_len(0)?;
            self.size = 0;
            return Ok(());
        }
        for n in (1..self.backups).rev() {
            let from = self.backup(n);
            if from.exists() {
                std::fs::rename(&from, self.backup(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.backup(1))?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        // The log thread flushes when its queue is empty, before it sleeps.
        crate::idle::thread_idle();
        self.file.flush()
    }
}

/// Writes each record on one line: a line break inside a record (a message or a value that
/// holds one) is written as `\n`, so every line of the log starts a record. The formatter hands
/// over one whole record per write, ending with its line break.
pub struct OneLine<W>(pub W);

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let body = buf.strip_suffix(b"\n").unwrap_or(buf);
        if memchr::memchr2(b'\n', b'\r', body).is_none() {
            self.0.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut out = Vec::with_capacity(buf.len() + 16);
        for &b in body {
            match b {
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
        if body.len() < buf.len() {
            out.push(b'\n');
        }
        self.0.write_all(&out)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Where the log goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    Stdout,
    File {
        path: PathBuf,
        rotate_mb: u64,
        backups: u32,
    },
}

impl LogTarget {
    /// From `[logging] log`: `stdout` or empty → stdout; a relative path is under the workdir.
    pub fn from_config(
        log: &str,
        workdir: &crate::workdir::Workdir,
        rotate_mb: u64,
        backups: u64,
    ) -> LogTarget {
        if log.is_empty() || log == "stdout" {
            LogTarget::Stdout
        } else {
            LogTarget::File {
                path: workdir.join_config_path(log),
                rotate_mb,
                backups: backups.min(1000) as u32,
            }
        }
    }
}

/// Keeps the log writer thread alive; logs are flushed when it is dropped.
pub struct LogGuard(#[allow(dead_code)] WorkerGuard);

/// Installs the global logger for the daemon. `level` is a level or an `EnvFilter` directive.
pub fn init(target: &LogTarget, level: &str, color: bool) -> io::Result<LogGuard> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .or_else(|_| tracing_subscriber::EnvFilter::try_new("info"))
        .map_err(|e| io::Error::other(e.to_string()))?;
    // A bounded buffer: the default 128k lines costs ~4 MB of RSS up front (an idle daemon's
    // RSS went from 10.9 to 7.0 MB with this limit).
    let builder = NonBlockingBuilder::default()
        .buffered_lines_limit(4096)
        .thread_name("dk-log");
    let (writer, guard, ansi) = match target {
        LogTarget::Stdout => {
            let (w, g) = builder.finish(OneLine(io::stdout()));
            (w, g, color)
        }
        LogTarget::File {
            path,
            rotate_mb,
            backups,
        } => {
            let f = RotatingFile::open(path, rotate_mb.saturating_mul(1 << 20), *backups)?;
            let (w, g) = builder.finish(OneLine(f));
            (w, g, false)
        }
    };
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(true)
        .finish();
    tracing::subscriber::set_global_default(sub).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(LogGuard(guard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_with_line_breaks_stays_one_line() {
        let mut w = OneLine(Vec::new());
        w.write_all(b"2026 INFO a\n  b\r\n").unwrap();
        w.write_all(b"2026 INFO plain\n").unwrap();
        assert_eq!(
            String::from_utf8(w.0).unwrap(),
            "2026 INFO a\\n  b\\r\n2026 INFO plain\n"
        );
    }

    #[test]
    fn rotates_and_keeps_backups() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut f = RotatingFile::open(&p, 4096, 2).unwrap();
        let line = [b'a'; 1000];
        for _ in 0..20 {
            f.write_all(&line).unwrap();
        }
        assert!(
            p.exists() && dir.path().join("log.1").exists() && dir.path().join("log.2").exists()
        );
        assert!(!dir.path().join("log.3").exists());
        assert!(std::fs::metadata(&p).unwrap().len() <= 4096);
    }
}
