//! Segment files of checksummed records: the on-disk form shared by the outputs' disk queues
//! ([`super::diskq`]) and the write-ahead journal ([`super::journal`]).
//!
//! A directory holds segment files `seg-<20-digit number>`, appended and rotated at a size, and
//! an exclusive `lock` file. A record is `[len: u32 LE][crc32(payload): u32 LE][payload]`; a torn
//! or corrupt tail (a crash mid-write) is cut off when the directory is opened. Small position
//! files (`pos`, `commit`) hold a (segment, offset) pair, replaced atomically.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Read, Write};
use std::path::Path;

/// Bytes of a record header.
pub const HEADER: u64 = 8;
/// The largest record accepted (a body or a feed is at most a few MiB).
pub const MAX_RECORD: usize = 64 << 20;

/// The file name of segment `seq`.
pub fn seg_name(seq: u64) -> String {
    format!("seg-{seq:020}")
}

/// Takes the directory's `lock` file for this process: `None` when another process holds it.
pub fn lock_dir(dir: &Path) -> io::Result<Option<File>> {
    let path = dir.join("lock");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)?;
    match lock.try_lock() {
        Ok(()) => Ok(Some(lock)),
        Err(fs::TryLockError::WouldBlock) => Ok(None),
        Err(fs::TryLockError::Error(e)) => Err(e),
    }
}

/// One segment file found on disk, after its torn tail (if any) was cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub seq: u64,
    /// Bytes of valid records.
    pub size: u64,
    pub records: u64,
}

/// Every segment of `dir`, in order, each cut to its valid records.
pub fn open_segments(dir: &Path) -> io::Result<Vec<Found>> {
    let mut seqs: Vec<u64> = fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix("seg-")?.parse().ok())
        .collect();
    seqs.sort_unstable();
    let mut out = Vec::with_capacity(seqs.len());
    for seq in seqs {
        let path = dir.join(seg_name(seq));
        let (size, records) = scan(&path)?;
        if fs::metadata(&path)?.len() != size {
            // Torn or corrupt tail: keep the valid prefix.
            let f = OpenOptions::new().write(true).open(&path)?;
            f.set_len(size)?;
            f.sync_all()?;
        }
        out.push(Found { seq, size, records });
    }
    Ok(out)
}

/// Scans a segment: returns (valid bytes, records). Stops at the first torn or corrupt record.
fn scan(path: &Path) -> io::Result<(u64, u64)> {
    let mut f = io::BufReader::new(File::open(path)?);
    let mut off = 0u64;
    let mut records = 0u64;
    loop {
        match read_record(&mut f) {
            Ok(Some(p)) => {
                off += HEADER + p.len() as u64;
                records += 1;
            }
            Ok(None) => break,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => break,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
    }
    Ok((off, records))
}

/// Writes one record (header, then the payload: `parts` back to back) without first copying
/// the parts into one buffer (one vectored write, as a rule).
pub fn write_record(w: &mut impl Write, parts: &[&[u8]]) -> io::Result<()> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let len = u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
    let mut crc = crc32fast::Hasher::new();
    for p in parts {
        crc.update(p);
    }
    let mut hdr = [0u8; HEADER as usize];
    hdr[..4].copy_from_slice(&len.to_le_bytes());
    hdr[4..].copy_from_slice(&crc.finalize().to_le_bytes());
    let mut slices: smallvec::SmallVec<[IoSlice<'_>; 4]> = smallvec::SmallVec::new();
    slices.push(IoSlice::new(&hdr));
    slices.extend(
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| IoSlice::new(p)),
    );
    let mut bufs = &mut slices[..];
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads one record; `Ok(None)` at a clean end, `Err` (`InvalidData`, `UnexpectedEof`) on a
/// torn or corrupt record.
pub fn read_record(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut hdr = [0u8; HEADER as usize];
    match r.read_exact(&mut hdr) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
    let crc = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]);
    if len > MAX_RECORD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "record too large",
        ));
    }
    // Read what is there rather than trust the length to size the buffer: a damaged header
    // must not ask for memory the file does not hold.
    let mut buf = Vec::with_capacity(len.min(1 << 20));
    r.take(len as u64).read_to_end(&mut buf)?;
    if buf.len() < len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "record cut short",
        ));
    }
    if crc32fast::hash(&buf) != crc {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "checksum mismatch",
        ));
    }
    Ok(Some(buf))
}

/// Reads the (segment, offset) pair of position file `name` in `dir`.
pub fn read_pos(dir: &Path, name: &str) -> Option<(u64, u64)> {
    let b = fs::read(dir.join(name)).ok()?;
    if b.len() != 16 {
        return None;
    }
    let seq = u64::from_le_bytes(b[..8].try_into().ok()?);
    let off = u64::from_le_bytes(b[8..].try_into().ok()?);
    Some((seq, off))
}

/// Replaces position file `name` in `dir` with (segment, offset), atomically.
pub fn write_pos(dir: &Path, name: &str, seq: u64, off: u64) -> io::Result<()> {
    let path = dir.join(name);
    let tmp = dir.join(format!("{name}.tmp"));
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&seq.to_le_bytes());
    b[8..].copy_from_slice(&off.to_le_bytes());
    fs::write(&tmp, b)?;
    fs::rename(&tmp, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes at most 3 bytes a call, as a short write would.
    struct Trickle(Vec<u8>);

    impl Write for Trickle {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            let n = b.len().min(3);
            self.0.extend_from_slice(&b[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_record_of_parts_reads_back_as_their_concatenation_even_after_short_writes() {
        let parts: [&[u8]; 4] = [b"head", b"", b"body of the record", b"!"];
        let mut whole = Vec::new();
        write_record(&mut whole, &parts).unwrap();
        let mut short = Trickle(Vec::new());
        write_record(&mut short, &parts).unwrap();
        assert_eq!(short.0, whole);
        assert_eq!(whole.len() as u64, HEADER + 23);
        let back = read_record(&mut &whole[..]).unwrap().unwrap();
        assert_eq!(back, b"headbody of the record!");
        // The checksum covers every part.
        let mut bad = whole.clone();
        bad[HEADER as usize + 5] ^= 1;
        assert!(read_record(&mut &bad[..]).is_err());
    }
}
