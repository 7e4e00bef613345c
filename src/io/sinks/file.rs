//! Local files: line protocol per category under a directory (`<dir>/<category>.lp`), rotated
//! by size (`<category>.lp.1` is the newest rotated file).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use super::super::body::{Body, Encoding};
use super::super::output::{SendOutcome, Sink};
use crate::point::Category;

pub struct FileSink {
    dir: PathBuf,
    max_bytes: u64,
    max_files: u32,
    files: Mutex<Vec<Option<(File, u64)>>>,
}

impl FileSink {
    pub fn new(dir: PathBuf, max_bytes: u64, max_files: u32) -> std::io::Result<FileSink> {
        std::fs::create_dir_all(&dir)?;
        Ok(FileSink {
            dir,
            max_bytes: max_bytes.max(4096),
            max_files,
            files: Mutex::new((0..Category::ALL.len()).map(|_| None).collect()),
        })
    }

    pub fn dir(&self) -> &PathBuf {
        &self.dir
    }

    fn path(&self, cat: Category, n: u32) -> PathBuf {
        if n == 0 {
            self.dir.join(format!("{}.lp", cat.as_str()))
        } else {
            self.dir.join(format!("{}.lp.{n}", cat.as_str()))
        }
    }

    fn rotate(&self, cat: Category) -> std::io::Result<()> {
        if self.max_files == 0 {
            return std::fs::remove_file(self.path(cat, 0));
        }
        for n in (1..self.max_files).rev() {
            let from = self.path(cat, n);
            if from.exists() {
                std::fs::rename(&from, self.path(cat, n + 1))?;
            }
        }
        std::fs::rename(self.path(cat, 0), self.path(cat, 1))
    }

    fn write(&self, cat: Category, data: &[u8]) -> std::io::Result<()> {
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut files[cat.index()];
        if let Some((_, size)) = slot
            && *size > 0
            && *size + data.len() as u64 > self.max_bytes
        {
            *slot = None;
            self.rotate(cat)?;
        }
        if slot.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(cat, 0))?;
            let size = f.metadata()?.len();
            *slot = Some((f, size));
        }
        if let Some((f, size)) = slot {
            f.write_all(data)?;
            *size += data.len() as u64;
        }
        Ok(())
    }
}

impl Sink for FileSink {
    fn encoding(&self) -> Encoding {
        Encoding::LineProtocol
    }
    fn gzip(&self) -> Option<u32> {
        None
    }
    fn send(&self, body: &Body, _replay: bool) -> SendOutcome {
        match self.write(body.category, &body.payload) {
            Ok(()) => SendOutcome::Sent,
            Err(e) => SendOutcome::Failed {
                status: "io-error".into(),
                reason: e.to_string(),
                retry_after: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileSink::new(dir.path().to_path_buf(), 4096, 2).unwrap();
        let line = vec![b'x'; 1000];
        for _ in 0..20 {
            s.write(Category::Metric, &line).unwrap();
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["metric.lp", "metric.lp.1", "metric.lp.2"]);
        for n in &names {
            assert!(std::fs::metadata(dir.path().join(n)).unwrap().len() <= 4096);
        }
    }
}
