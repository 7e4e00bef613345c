//! Giving back the pages of start-up code.
//!
//! Parsing the command line and the configs, validating them, building the doc tables and
//! compiling Pipeline scripts touch code and read-only data that a running daemon does not
//! use again; the kernel's fault-around maps them 64 KiB at a time, so after start-up several
//! megabytes of the binary stay mapped into the process (counted in its RSS) for nothing.
//! The same holds for the shared libraries (libc's start-up paths). Once the daemon is up,
//! [`release_startup_pages`] tells the kernel the process no longer needs the read-only file
//! mappings (`MADV_DONTNEED`). The pages stay in the page cache; the code the daemon does run
//! maps back in on its next use (a minor fault, no disk read), so what stays resident is the
//! daemon's working set.
//!
//! Only file mappings that are not writable and hold no anonymous (copied on write) page are
//! released: for those, dropping a page loses nothing, since it is read again from the file.
//! (`Private_Dirty` is no guide: page-cache pages not yet written back, as after a fresh
//! install, count there although they are the file's content.) Writable mappings (`.data`,
//! `.bss`) and relocated read-only ones (RELRO, which hold copied pages) are left alone.

use std::io;

/// Releases the clean read-only file mappings (executable, shared libraries). Returns the bytes
/// that were resident in them.
pub fn release_startup_pages() -> io::Result<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = 0;
    for m in parse_smaps(&smaps).iter().filter(|m| m.releasable()) {
        // SAFETY: the range is a whole private mapping of a file (the executable or a shared
        // library), read-only and without anonymous pages (checked by `releasable`), so its
        // contents are exactly the file's and dropping pages only makes later accesses fault
        // them in again from the page cache.
        let r = unsafe {
            libc::madvise(
                m.start as *mut libc::c_void,
                m.end - m.start,
                libc::MADV_DONTNEED,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        released += m.rss_kb * 1024;
    }
    Ok(released)
}

/// One mapping of `/proc/self/smaps`, with what decides whether it can be released.
#[derive(Debug, PartialEq)]
struct Mapping<'a> {
    start: usize,
    end: usize,
    perms: &'a str,
    path: Option<&'a str>,
    rss_kb: u64,
    anonymous_kb: u64,
}

impl Mapping<'_> {
    fn releasable(&self) -> bool {
        self.path.is_some_and(|p| p.starts_with('/'))
            && self.perms.starts_with('r')
            && !self.perms.contains('w')
            && self.perms.ends_with('p')
            && self.anonymous_kb == 0
            && self.rss_kb > 0
    }
}

fn parse_smaps(text: &str) -> Vec<Mapping<'_>> {
    let mut out: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        let mut words = line.split_ascii_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some((a, b)) = first.split_once('-')
            && let (Ok(start), Ok(end)) =
                (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            let perms = words.next().unwrap_or("");
            // offset, device, inode, then the path (which may contain spaces)
            let path = line
                .splitn(6, |c: char| c.is_ascii_whitespace())
                .nth(5)
                .map(str::trim)
                .filter(|p| !p.is_empty());
            out.push(Mapping {
                start,
                end,
                perms,
                path,
                rss_kb: 0,
                anonymous_kb: 0,
            });
            continue;
        }
        let Some(m) = out.last_mut() else { continue };
        let kb = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
        match first {
            "Rss:" => m.rss_kb = kb,
            "Anonymous:" => m.anonymous_kb = kb,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
55d0c0000000-55d0c0100000 r--p 00000000 fd:01 1234    /usr/bin/datakit
Rss:                 120 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
55d0c0100000-55d0c0900000 r-xp 00100000 fd:01 1234    /usr/bin/datakit
Rss:                4200 kB
Private_Dirty:         0 kB
Anonymous:             0 kB
55d0c0900000-55d0c0a00000 r--p 00900000 fd:01 1234    /usr/bin/datakit
Rss:                 300 kB
Private_Dirty:        40 kB
Anonymous:            40 kB
55d0c0a00000-55d0c0a10000 rw-p 00a00000 fd:01 1234    /usr/bin/datakit
Rss:                  64 kB
Private_Dirty:        64 kB
Anonymous:            64 kB
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
Rss:                 512 kB
Anonymous:           512 kB
7f0000200000-7f0000300000 r-xp 00000000 fd:01 99     /lib/with space/libc.so.6
Rss:                 900 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_mappings_are_releasable() {
        let maps = parse_smaps(SAMPLE);
        assert_eq!(maps.len(), 6);
        assert_eq!(maps[1].path, Some("/usr/bin/datakit"));
        assert_eq!(maps[1].rss_kb, 4200);
        assert_eq!(maps[4].path, None);
        assert_eq!(maps[5].path, Some("/lib/with space/libc.so.6"));
        let releasable: Vec<bool> = maps.iter().map(Mapping::releasable).collect();
        // rodata and text yes; RELRO (copied pages), data and anonymous memory no.
        assert_eq!(releasable, [true, true, false, false, false, true]);
        let special = parse_smaps("7ffd1000-7ffd3000 r-xp 00000000 00:00 0  [vdso]\nRss: 8 kB\n");
        assert!(!special[0].releasable());
    }

    #[test]
    fn releasing_keeps_the_process_working() {
        // (Other tests run in parallel and fault pages back in, so the RSS drop itself is
        // measured on the daemon: benches/idle.sh.)
        let released = release_startup_pages().unwrap();
        assert!(released > 0, "the test binary's text was resident");
        // Code and read-only data are used again after their pages were dropped.
        assert_eq!(parse_smaps(SAMPLE).len(), 6);
        assert!(release_startup_pages().is_ok());
    }
}
