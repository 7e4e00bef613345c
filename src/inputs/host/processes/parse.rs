//! The `/proc` text this input reads: `/proc/<pid>/stat`, `status` and `io` (scanned for the
//! few fields used, without building maps), the container ID in `cgroup`, user names from
//! `passwd`, and listening sockets from `/proc/net/tcp`.

use std::collections::HashMap;

use crate::point::lp::parse_u64;

/// The fields of `/proc/<pid>/status` used here.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatusLite {
    pub name: String,
    pub uid: Option<u32>,
    pub voluntary_ctxt_switches: Option<u64>,
    pub nonvoluntary_ctxt_switches: Option<u64>,
    /// VmRSS, VmSize, VmHWM, VmData, VmStk, VmLck, VmSwap in bytes.
    pub vm: [Option<u64>; 7],
}

/// The names of [`StatusLite::vm`], in its order (keys of the object's `memory` details).
pub(super) const VM_NAMES: [&str; 7] = ["rss", "vms", "hwm", "data", "stack", "locked", "swap"];

/// `PF_KTHREAD` in the `flags` of `/proc/<pid>/stat`: a kernel thread.
const PF_KTHREAD: u32 = 0x0020_0000;

/// The fields of `/proc/<pid>/stat` used here (numbered as in proc(5)).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StatLite {
    /// (2) `comm`, between the first `(` and the last `)`.
    pub comm: String,
    /// (3)
    pub state: char,
    /// (9)
    pub flags: u32,
    /// (10)–(13)
    pub minflt: u64,
    pub cminflt: u64,
    pub majflt: u64,
    pub cmajflt: u64,
    /// (14), (15) in clock ticks.
    pub utime: u64,
    pub stime: u64,
    /// (20)
    pub num_threads: i64,
    /// (22) in clock ticks after boot.
    pub starttime: u64,
    /// (23) in bytes.
    pub vsize: u64,
    /// (24) in pages.
    pub rss: u64,
    /// (42), since Linux 2.6.18.
    pub delayacct_blkio_ticks: Option<u64>,
}

impl StatLite {
    pub fn is_kernel_thread(&self) -> bool {
        self.flags & PF_KTHREAD != 0
    }
}

/// An optionally negative decimal number.
fn parse_i64(b: &[u8]) -> Option<i64> {
    match b.split_first() {
        Some((b'-', rest)) => 0i64.checked_sub_unsigned(parse_u64(rest)?),
        _ => i64::try_from(parse_u64(b)?).ok(),
    }
}

/// `b` without leading and trailing ASCII white space.
fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Parses `/proc/<pid>/stat` (as procfs's `Stat` does: the command name may hold spaces and
/// parentheses, so the fields start after the last `)`). `None` when a field up to `rss` is
/// missing or not a number.
pub fn parse_stat(b: &[u8]) -> Option<StatLite> {
    let b = trim(b);
    let open = memchr::memchr(b'(', b)?;
    let close = memchr::memrchr(b')', b)?;
    let comm = String::from_utf8_lossy(b.get(open + 1..close)?).into_owned();
    let mut it = b.get(close + 2..)?.split(|c| *c == b' ');
    let state = char::from(*it.next()?.first()?);
    let mut f = [0u64; 25];
    let mut num_threads = 0;
    for (field, slot) in f.iter_mut().enumerate().skip(4) {
        let tok = it.next()?;
        match field {
            9..=15 | 22..=24 => *slot = parse_u64(tok)?,
            20 => num_threads = parse_i64(tok)?,
            _ => {}
        }
    }
    // Fields 25..=41 are not used; 42 is delayacct_blkio_ticks.
    let delayacct_blkio_ticks = match it.nth(42 - 25) {
        Some(t) => Some(parse_u64(t)?),
        None => None,
    };
    Some(StatLite {
        comm,
        state,
        flags: u32::try_from(f[9]).ok()?,
        minflt: f[10],
        cminflt: f[11],
        majflt: f[12],
        cmajflt: f[13],
        utime: f[14],
        stime: f[15],
        num_threads,
        starttime: f[22],
        vsize: f[23],
        rss: f[24],
        delayacct_blkio_ticks,
    })
}

/// The lines of `text` (split at `\n` with memchr).
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (line, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        Some(line)
    })
}

/// Scans `/proc/<pid>/status` for the keys used here (each line `Key:<tab>value`).
pub fn parse_status(text: &[u8]) -> StatusLite {
    let mut s = StatusLite::default();
    for line in lines(text) {
        // Only lines whose key starts with N, U, V, v or n matter: skip the rest unsearched.
        if !matches!(line.first(), Some(b'N' | b'U' | b'V' | b'v' | b'n')) {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let (k, v) = (&line[..colon], &line[colon + 1..]);
        let vm = |v: &[u8]| {
            let v = trim(v);
            parse_u64(trim(v.strip_suffix(b"kB").unwrap_or(v))).map(|kb| kb * 1024)
        };
        match k {
            b"Name" => s.name = String::from_utf8_lossy(v).trim().to_string(),
            b"Uid" => {
                s.uid = v
                    .split(u8::is_ascii_whitespace)
                    .find(|t| !t.is_empty())
                    .and_then(parse_u64)
                    .and_then(|u| u32::try_from(u).ok())
            }
            b"voluntary_ctxt_switches" => s.voluntary_ctxt_switches = parse_u64(trim(v)),
            b"nonvoluntary_ctxt_switches" => s.nonvoluntary_ctxt_switches = parse_u64(trim(v)),
            b"VmRSS" => s.vm[0] = vm(v),
            b"VmSize" => s.vm[1] = vm(v),
            b"VmHWM" => s.vm[2] = vm(v),
            b"VmData" => s.vm[3] = vm(v),
            b"VmStk" => s.vm[4] = vm(v),
            b"VmLck" => s.vm[5] = vm(v),
            b"VmSwap" => s.vm[6] = vm(v),
            _ => {}
        }
    }
    s
}

/// `syscr`, `syscw`, `read_bytes`, `write_bytes` of `/proc/<pid>/io`.
pub fn parse_io(text: &[u8]) -> [Option<u64>; 4] {
    let mut out = [None; 4];
    for line in lines(text) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let i = match &line[..colon] {
            b"syscr" => 0,
            b"syscw" => 1,
            b"read_bytes" => 2,
            b"write_bytes" => 3,
            _ => continue,
        };
        out[i] = parse_u64(trim(&line[colon + 1..]));
    }
    out
}

/// The container ID in the first line of `/proc/<pid>/cgroup`: the last path segment, or the
/// `<id>` of `...-<id>.scope`; only 64-character IDs count.
pub fn container_id(cgroup: &str) -> Option<String> {
    let line = cgroup.lines().next()?;
    let path = line.splitn(3, ':').nth(2)?;
    let last = path.rsplit('/').next()?;
    let id = match last.strip_suffix(".scope") {
        Some(s) => s.rsplit('-').next()?,
        None => last,
    };
    (id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.')))
    .then(|| id.to_string())
}

/// The state word of a `stat` state letter, as the original names it.
pub fn state_word(c: char) -> &'static str {
    match c {
        'R' => "running",
        'S' => "sleep",
        'D' | 'U' => "blocked",
        'I' => "idle",
        'T' | 't' => "stop",
        'W' => "wait",
        'L' => "lock",
        'Z' => "zombie",
        _ => "",
    }
}

/// uid → user name from a passwd file.
pub fn parse_passwd(text: &str) -> HashMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split(':');
            let name = f.next()?;
            let uid = f.nth(1)?.parse().ok()?;
            Some((uid, name.to_string()))
        })
        .collect()
}

/// TCP ports in LISTEN state by socket inode, from `/proc/net/tcp` text.
pub fn listen_inodes(text: &str, out: &mut HashMap<u64, u16>) {
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[3] != "0A" {
            continue;
        }
        let port = f[1]
            .rsplit(':')
            .next()
            .and_then(|p| u16::from_str_radix(p, 16).ok());
        if let (Some(port), Ok(inode)) = (port, f[9].parse::<u64>()) {
            out.insert(inode, port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::host::is_pid;

    #[test]
    fn status_io_cgroup_and_passwd_parse() {
        let st = parse_status(
            b"Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t33\t33\t33\t33\nVmSize:\t  10000 kB\nVmRSS:\t    2000 kB\nvoluntary_ctxt_switches:\t150\nnonvoluntary_ctxt_switches:\t7\n",
        );
        assert_eq!(st.name, "nginx");
        assert_eq!(st.uid, Some(33));
        assert_eq!(st.vm[0], Some(2000 * 1024));
        assert_eq!(st.vm[1], Some(10000 * 1024));
        assert_eq!(st.voluntary_ctxt_switches, Some(150));
        assert_eq!(
            parse_io(b"rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\n"),
            [Some(3), Some(4), Some(5), Some(6)]
        );
        let id = "a".repeat(64);
        assert_eq!(
            container_id(&format!("0::/system.slice/docker-{id}.scope\n")),
            Some(id.clone())
        );
        assert_eq!(container_id(&format!("12:pids:/docker/{id}\n")), Some(id));
        assert_eq!(container_id("0::/user.slice/session-1.scope\n"), None);
        let users = parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n",
        );
        assert_eq!(users[&33], "www-data");
        assert_eq!(state_word('D'), "blocked");
    }

    /// The former `&str` scanner of `status`, the reference for the byte scanner.
    fn parse_status_reference(text: &str) -> StatusLite {
        const VM_KEYS: [&str; 7] = [
            "VmRSS", "VmSize", "VmHWM", "VmData", "VmStk", "VmLck", "VmSwap",
        ];
        let mut s = StatusLite::default();
        for line in text.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "Name" => s.name = v.to_string(),
                "Uid" => s.uid = v.split_whitespace().next().and_then(|u| u.parse().ok()),
                "voluntary_ctxt_switches" => s.voluntary_ctxt_switches = v.parse().ok(),
                "nonvoluntary_ctxt_switches" => s.nonvoluntary_ctxt_switches = v.parse().ok(),
                _ => {
                    if let Some(i) = VM_KEYS.iter().position(|x| x == &k) {
                        s.vm[i] = v
                            .trim_end_matches("kB")
                            .trim()
                            .parse::<u64>()
                            .ok()
                            .map(|kb| kb * 1024);
                    }
                }
            }
        }
        s
    }

    #[test]
    fn stat_parser_agrees_with_procfs() {
        use procfs::FromRead;
        let mut lines = vec![
            b"1 (a) b) c) S 0 1 1 0 -1 4194560 10 20 30 40 50 60 1 2 20 0 7 0 99 1000 5 1 1 1 1 1 1 1 1 1 1 1 1 1 17 0".to_vec(),
            b"42 (x y) R 1 42 42 0 -1 2097216 1 2 3 4 5 6 7 8 20 0 1 0 12 0 0 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 77 0 0\n".to_vec(),
        ];
        let mut kernel_threads = 0;
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if is_pid(&e.file_name())
                && let Ok(b) = std::fs::read(e.path().join("stat"))
            {
                kernel_threads += usize::from(parse_stat(&b).is_some_and(|s| s.is_kernel_thread()));
                lines.push(b);
            }
        }
        assert!(kernel_threads > 0, "kthreadd at least");
        for b in lines {
            let r = procfs::process::Stat::from_read(&b[..]).unwrap();
            let s = parse_stat(&b).unwrap();
            let text = String::from_utf8_lossy(&b);
            assert_eq!(s.comm, r.comm, "{text}");
            assert_eq!(
                (s.state, s.flags, s.minflt, s.cminflt, s.majflt, s.cmajflt),
                (r.state, r.flags, r.minflt, r.cminflt, r.majflt, r.cmajflt),
                "{text}"
            );
            assert_eq!(
                (s.utime, s.stime, s.num_threads, s.starttime, s.vsize, s.rss),
                (r.utime, r.stime, r.num_threads, r.starttime, r.vsize, r.rss),
                "{text}"
            );
            assert_eq!(s.delayacct_blkio_ticks, r.delayacct_blkio_ticks, "{text}");
        }
        for bad in [
            &b""[..],
            b"1 (x",
            b"1 (x) S 1 2",
            b"1 (x) S 1 1 1 0 -1 z 1 2 3 4 5 6 7 8 20 0 1 0 12 0 0",
        ] {
            assert_eq!(parse_stat(bad), None);
        }
    }

    #[test]
    fn status_and_io_scanners_agree_with_the_str_scanners() {
        let mut n = 0;
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if !is_pid(&e.file_name()) {
                continue;
            }
            if let Ok(b) = std::fs::read(e.path().join("status")) {
                assert_eq!(
                    parse_status(&b),
                    parse_status_reference(&String::from_utf8_lossy(&b))
                );
                n += 1;
            }
            if let Ok(b) = std::fs::read(e.path().join("io")) {
                let text = String::from_utf8_lossy(&b);
                let mut want = [None; 4];
                for line in text.lines() {
                    if let Some((k, v)) = line.split_once(':')
                        && let Some(i) = ["syscr", "syscw", "read_bytes", "write_bytes"]
                            .iter()
                            .position(|x| *x == k)
                    {
                        want[i] = v.trim().parse().ok();
                    }
                }
                assert_eq!(parse_io(&b), want);
            }
        }
        assert!(n > 0);
        let odd = "Name:\tweird \\n name\u{fffd}\nUid:\t12\t12\nVmRSS:\t  12 kB\nVmSwap:\tx kB\nvoluntary_ctxt_switches:\t9\r\n";
        let mut bytes = odd.as_bytes().to_vec();
        bytes.extend_from_slice(b"Name:\t\xff\xfeab\n");
        assert_eq!(
            parse_status(&bytes),
            parse_status_reference(&String::from_utf8_lossy(&bytes))
        );
    }

    #[test]
    fn listen_sockets_parse() {
        let tcp = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:2513 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n   1: 0100007F:2514 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 12346 1 0000000000000000 100 0 0 10 0\n";
        let mut m = HashMap::new();
        listen_inodes(tcp, &mut m);
        assert_eq!(m.len(), 1);
        assert_eq!(m[&12345], 0x2513);
    }
}
