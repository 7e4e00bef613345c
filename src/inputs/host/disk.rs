//! `disk`: space and inodes of mounted file systems: the mounts of `/proc/1/mountinfo` (the
//! host's mount namespace; `/proc/self/mountinfo` when PID 1's is unreadable), filtered, then
//! `statfs` on each (under `HOST_ROOT` in a container).
//!
//! Values follow the original: `total = f_blocks·f_bsize`, `free = f_bavail·f_bsize` (free to
//! unprivileged users), `used = (f_blocks − f_bfree)·f_bsize`, `used_percent = used/total`.
//! Mounts whose size is 0 (pseudo file systems) are skipped. File systems without inodes (FAT)
//! have no inode fields.
//!
//! Fixes against the original: the documented `disk_name` tag is emitted (the device's kernel
//! name); `only_physical_device`, `merge_on_device` and `extra_device`, which the original
//! parsed but ignored, work; mount points with escaped characters (`\040` for a space) are
//! unescaped. The mountinfo parser is our own: procfs's keeps the escapes and builds two maps
//! per line.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use regex::Regex;

use super::{
    FileBuf, HOST_TAG, HostError, Roots, add_tags, check_one_regex, compile_opt, field,
    host_input_config, percent, put, tag,
};
use crate::config::duration::Dur;
use crate::config_struct;
use crate::inputs::{
    Collect, CollectCtx, InputEntry, InputError, InputSpec, IntervalLimits, MeasurementSpec,
    Validation, entry,
};
use crate::point::{Category, Point};

const NAME: &str = "disk";

/// The original's default `ignore_fstypes`.
pub const DEFAULT_IGNORE_FSTYPES: &str =
    "^(tmpfs|autofs|binfmt_misc|devpts|fuse.lxcfs|overlay|proc|squashfs|sysfs)$";
/// The original's default `ignore_mountpoints`.
pub const DEFAULT_IGNORE_MOUNTPOINTS: &str = "^(/usr/local/datakit/.*|/run/containerd/.*)$";

config_struct! {
    "Space and inodes of mounted file systems."
    pub struct DiskConfig {
        "Collection interval."
        pub interval: Dur = Dur::from_secs(10),
        "Regular expression of file system types to skip."
        pub ignore_fstypes: String = DEFAULT_IGNORE_FSTYPES.into(),
        "Regular expression of mount points to skip."
        pub ignore_mountpoints: String = DEFAULT_IGNORE_MOUNTPOINTS.into(),
        "Only these file system types (names as in /proc/filesystems, e.g. `ext4`, `xfs`, `fuse.sshfs`); empty: every type `ignore_fstypes` keeps."
        pub only_fstypes: Vec<String> = Vec::new(),
        "Devices to skip, exactly as shown in the `device` tag (e.g. `/dev/loop0`)."
        pub exclude_device: Vec<String> = Vec::new(),
        "Devices or mount points always collected, whatever the other filters say (e.g. `/nfsdata`)."
        pub extra_device: Vec<String> = Vec::new(),
        "Only file systems on block devices (`/dev/...`), not memory or network file systems."
        pub only_physical_device: bool = false,
        "One row per device: a device mounted at several places (bind mounts) is reported at its first mount point only."
        pub merge_on_device: bool = false,
        "Extra tags for every point."
        pub tags: BTreeMap<String, String> = BTreeMap::new(),
    }
}

/// File system type names `only_fstypes` accepts besides what the running kernel lists in
/// `/proc/filesystems` (and `fuse.<anything>`).
pub const KNOWN_FSTYPES: &[&str] = &[
    "9p",
    "aufs",
    "autofs",
    "bcachefs",
    "binfmt_misc",
    "bpf",
    "btrfs",
    "ceph",
    "cgroup",
    "cgroup2",
    "cifs",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "erofs",
    "exfat",
    "ext2",
    "ext3",
    "ext4",
    "f2fs",
    "fuse",
    "fuseblk",
    "fusectl",
    "gfs2",
    "glusterfs",
    "hfs",
    "hfsplus",
    "hugetlbfs",
    "iso9660",
    "jffs2",
    "jfs",
    "minix",
    "mqueue",
    "msdos",
    "nfs",
    "nfs4",
    "nilfs2",
    "nsfs",
    "ntfs",
    "ntfs3",
    "ocfs2",
    "overlay",
    "proc",
    "pstore",
    "ramfs",
    "reiserfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "smb3",
    "squashfs",
    "sysfs",
    "tmpfs",
    "tracefs",
    "ubifs",
    "udf",
    "vfat",
    "virtiofs",
    "xfs",
    "zfs",
    "zonefs",
];

/// Whether `name` is a file system type this host or Linux knows.
pub fn known_fstype(name: &str, proc_filesystems: &str) -> bool {
    name.strip_prefix("fuse.").is_some_and(|s| !s.is_empty())
        || KNOWN_FSTYPES.contains(&name)
        || proc_filesystems
            .lines()
            .any(|l| l.split_whitespace().last() == Some(name))
}

/// Validates the mount filters shared by `disk` and `hostobject`.
pub fn validate_filters(
    v: &mut Validation,
    ignore_fstypes: &str,
    ignore_mountpoints: &str,
    only_fstypes: &[String],
) {
    check_one_regex(v, "ignore_fstypes", ignore_fstypes);
    check_one_regex(v, "ignore_mountpoints", ignore_mountpoints);
    let fs = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    for (i, t) in only_fstypes.iter().enumerate() {
        if !known_fstype(t, &fs) {
            let near = crate::config::decode::suggest(t, KNOWN_FSTYPES.iter().copied());
            let hint = near
                .first()
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_else(|| "; use names from /proc/filesystems such as ext4 or xfs".into());
            v.error(
                &format!("only_fstypes[{i}]"),
                format!("unknown file system type `{t}`{hint}"),
            );
        }
    }
}

host_input_config!(
    DiskConfig,
    collector: DiskCollector::new,
    validate: DiskConfig::check_filters,
);

impl DiskConfig {
    /// The file system and mount point filters.
    fn check_filters(&self, v: &mut Validation) {
        validate_filters(
            v,
            &self.ignore_fstypes,
            &self.ignore_mountpoints,
            &self.only_fstypes,
        );
    }
}

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub majmin: String,
    pub mount_point: String,
    pub fstype: String,
    pub source: String,
}

/// Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` `\`).
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses mountinfo text; malformed lines are skipped.
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut it = line.split(' ');
        let (Some(_id), Some(_parent), Some(majmin), Some(_root), Some(mp)) =
            (it.next(), it.next(), it.next(), it.next(), it.next())
        else {
            continue;
        };
        // Skip mount options and optional fields up to the "-" separator.
        if !it.by_ref().any(|f| f == "-") {
            continue;
        }
        let (Some(fstype), Some(source)) = (it.next(), it.next()) else {
            continue;
        };
        out.push(Mount {
            majmin: majmin.to_string(),
            mount_point: unescape(mp),
            fstype: fstype.to_string(),
            source: unescape(source),
        });
    }
    out
}

/// Reads the host's mounts.
pub fn read_mounts(roots: &Roots, buf: &mut FileBuf) -> Result<Vec<Mount>, HostError> {
    let text = match buf.read_str(&roots.proc("1/mountinfo")) {
        Ok(t) => t,
        Err(_) => buf.read_str(&roots.proc("self/mountinfo"))?,
    };
    Ok(parse_mountinfo(text))
}

/// The device of a mount as the original reports it: `/dev/mapper/x` resolved to its target,
/// `/dev/root` resolved through `/sys/dev/block/<maj:min>`.
pub fn resolve_device(roots: &Roots, m: &Mount) -> String {
    if m.source.starts_with("/dev/mapper/") {
        let p = roots.dev.join(m.source.trim_start_matches("/dev/"));
        if let Ok(target) = std::fs::read_link(&p) {
            let base = target.file_name().map(|s| s.to_string_lossy().into_owned());
            if let Some(b) = base {
                return format!("/dev/{b}");
            }
        }
    }
    if m.source == "/dev/root"
        && let Ok(target) = std::fs::read_link(roots.sys("dev/block").join(&m.majmin))
        && let Some(b) = target.file_name()
    {
        return format!("/dev/{}", b.to_string_lossy());
    }
    m.source.clone()
}

/// Usage of one file system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub total: u64,
    pub free: u64,
    pub used: u64,
    pub inodes_total: u64,
    pub inodes_free: u64,
}

/// `statfs` of a path.
pub fn statfs(path: &Path) -> std::io::Result<Usage> {
    let s = rustix::fs::statfs(path).map_err(std::io::Error::from)?;
    let bsize = s.f_bsize as u64;
    let blocks = s.f_blocks as u64;
    let bfree = s.f_bfree as u64;
    let bavail = s.f_bavail as u64;
    Ok(Usage {
        total: blocks * bsize,
        free: bavail * bsize,
        used: blocks.saturating_sub(bfree) * bsize,
        inodes_total: s.f_files as u64,
        inodes_free: s.f_ffree as u64,
    })
}

/// The mount filters of `disk` (also used by `hostobject`).
#[derive(Debug)]
pub struct MountFilter {
    pub ignore_fstypes: Option<Regex>,
    pub ignore_mountpoints: Option<Regex>,
    pub only_fstypes: Vec<String>,
    pub exclude_device: Vec<String>,
    pub extra_device: Vec<String>,
    pub only_physical_device: bool,
}

impl MountFilter {
    pub fn keep(&self, m: &Mount, device: &str) -> bool {
        if self
            .extra_device
            .iter()
            .any(|e| e == device || *e == m.mount_point)
        {
            return true;
        }
        if self.exclude_device.iter().any(|e| e == device) {
            return false;
        }
        if self.only_physical_device && !device.starts_with("/dev/") {
            return false;
        }
        if !self.only_fstypes.is_empty() && !self.only_fstypes.contains(&m.fstype) {
            return false;
        }
        if self
            .ignore_fstypes
            .as_ref()
            .is_some_and(|r| r.is_match(&m.fstype))
        {
            return false;
        }
        !self
            .ignore_mountpoints
            .as_ref()
            .is_some_and(|r| r.is_match(&m.mount_point))
    }
}

/// One measured file system.
#[derive(Debug, Clone)]
pub struct FsRow {
    pub device: String,
    pub mount: Mount,
    pub usage: Usage,
}

/// Mounts kept by `filter` with their usage (size 0 and failed `statfs` skipped).
pub fn measure(roots: &Roots, mounts: &[Mount], filter: &MountFilter, merge: bool) -> Vec<FsRow> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in mounts {
        let device = resolve_device(roots, m);
        if !filter.keep(m, &device) {
            continue;
        }
        if merge && !seen.insert(device.clone()) {
            continue;
        }
        let Ok(usage) = statfs(&roots.mount_path(&m.mount_point)) else {
            continue;
        };
        if usage.total == 0 {
            continue;
        }
        out.push(FsRow {
            device,
            mount: m.clone(),
            usage,
        });
    }
    out
}

pub struct DiskCollector {
    roots: Roots,
    filter: MountFilter,
    merge: bool,
    tags: BTreeMap<String, String>,
    buf: FileBuf,
}

impl DiskCollector {
    pub fn new(cfg: &DiskConfig, roots: Roots) -> Result<Self, InputError> {
        Ok(DiskCollector {
            roots,
            filter: MountFilter {
                ignore_fstypes: compile_opt("ignore_fstypes", &cfg.ignore_fstypes)?,
                ignore_mountpoints: compile_opt("ignore_mountpoints", &cfg.ignore_mountpoints)?,
                only_fstypes: cfg.only_fstypes.clone(),
                exclude_device: cfg.exclude_device.clone(),
                extra_device: cfg.extra_device.clone(),
                only_physical_device: cfg.only_physical_device,
            },
            merge: cfg.merge_on_device,
            tags: cfg.tags.clone(),
            buf: FileBuf::default(),
        })
    }
}

/// The `disk` point of one file system.
pub fn disk_point(r: &FsRow) -> Point {
    let mut p = Point::new(Category::Metric, NAME);
    p.tags.push(("device".into(), r.device.clone()));
    if let Some(name) = r.device.strip_prefix("/dev/") {
        p.tags.push(("disk_name".into(), name.to_string()));
    }
    p.tags.push(("fstype".into(), r.mount.fstype.clone()));
    p.tags
        .push(("mount_point".into(), r.mount.mount_point.clone()));
    let u = &r.usage;
    put(&mut p, "total", u.total);
    put(&mut p, "free", u.free);
    put(&mut p, "used", u.used);
    put(
        &mut p,
        "used_percent",
        percent(u.used as f64, u.total as f64),
    );
    if u.inodes_total > 0 {
        let used = u.inodes_total.saturating_sub(u.inodes_free);
        put(&mut p, "inodes_total", u.inodes_total);
        put(&mut p, "inodes_free", u.inodes_free);
        put(&mut p, "inodes_used", used);
        put(&mut p, "inodes_total_mb", u.inodes_total / 1_000_000);
        put(&mut p, "inodes_free_mb", u.inodes_free / 1_000_000);
        put(&mut p, "inodes_used_mb", used / 1_000_000);
        put(
            &mut p,
            "inodes_used_percent",
            percent(used as f64, u.inodes_total as f64),
        );
    }
    p
}

impl Collect for DiskCollector {
    fn collect(&mut self, _ctx: &CollectCtx) -> Result<Vec<Point>, String> {
        let mounts = read_mounts(&self.roots, &mut self.buf).map_err(|e| e.to_string())?;
        let rows = measure(&self.roots, &mounts, &self.filter, self.merge);
        Ok(rows
            .iter()
            .map(|r| {
                let mut p = disk_point(r);
                add_tags(&mut p, &self.tags);
                p
            })
            .collect())
    }
}

const FIELDS: &[crate::inputs::FieldSpec] = &[
    field!("total", Uint, "digital,B", "Size of the file system."),
    field!(
        "free",
        Uint,
        "digital,B",
        "Space free for unprivileged users."
    ),
    field!(
        "used",
        Uint,
        "digital,B",
        "Used space (blocks − free blocks)."
    ),
    field!(
        "used_percent",
        Float,
        "percent,percent",
        "Used space in % of the size."
    ),
    field!(
        "inodes_total",
        Uint,
        "count",
        "Inodes of the file system (deprecated: use inodes_total_mb)."
    ),
    field!(
        "inodes_free",
        Uint,
        "count",
        "Free inodes (deprecated: use inodes_free_mb)."
    ),
    field!(
        "inodes_used",
        Uint,
        "count",
        "Used inodes (deprecated: use inodes_used_mb)."
    ),
    field!(
        "inodes_total_mb",
        Uint,
        "count",
        "Inodes of the file system, in millions (rounded down)."
    ),
    field!(
        "inodes_free_mb",
        Uint,
        "count",
        "Free inodes, in millions (rounded down)."
    ),
    field!(
        "inodes_used_mb",
        Uint,
        "count",
        "Used inodes, in millions (rounded down)."
    ),
    field!(
        "inodes_used_percent",
        Float,
        "percent,percent",
        "Used inodes in % of all inodes."
    ),
];

const TAGS: &[crate::inputs::TagSpec] = &[
    HOST_TAG,
    tag!(
        "device",
        "Device of the file system (`/dev/mapper` links resolved)."
    ),
    tag!(
        "disk_name",
        "Kernel name of the device (`sda1`), for devices under /dev."
    ),
    tag!("fstype", "File system type."),
    tag!("mount_point", "Mount point."),
];

pub const MEASUREMENTS: &[MeasurementSpec] = &[MeasurementSpec {
    name: "disk",
    category: Category::Metric,
    description: "Space and inodes of a mounted file system. FAT-like file systems have no inode fields.",
    tags: TAGS,
    fields: FIELDS,
}];

pub const ENTRY: InputEntry = entry::<DiskConfig>(InputSpec {
    name: NAME,
    catalog: "host",
    description: "Space and inodes of mounted file systems (mountinfo + statfs).",
    singleton: true,
    interval: Some(IntervalLimits {
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
    }),
    measurements: MEASUREMENTS,
});

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<Mount> {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/host/mountinfo"
        ))
        .unwrap();
        parse_mountinfo(&text)
    }

    fn filter(cfg: &DiskConfig) -> MountFilter {
        DiskCollector::new(cfg, Roots::default()).unwrap().filter
    }

    #[test]
    fn mountinfo_fixture_parses_with_escapes() {
        let m = fixture();
        assert_eq!(m.len(), 9, "the malformed line is skipped");
        let root = m.iter().find(|m| m.mount_point == "/").unwrap();
        assert_eq!(root.fstype, "ext4");
        assert_eq!(root.source, "/dev/vda");
        assert!(m.iter().any(|m| m.mount_point == "/mnt/my disk"));
        assert_eq!(unescape(r"a\134b\011"), "a\\b\t");
    }

    #[test]
    fn default_filters_keep_real_file_systems() {
        let mounts = fixture();
        let f = filter(&DiskConfig::default());
        let kept: Vec<&str> = mounts
            .iter()
            .filter(|m| f.keep(m, &m.source))
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(
            kept,
            ["/dev", "/", "/mnt/my disk", "/data", "/data2", "/mnt/nfs"]
        );

        let f = filter(&DiskConfig {
            only_physical_device: true,
            extra_device: vec!["/mnt/nfs".into()],
            exclude_device: vec!["/dev/vdb".into()],
            ..DiskConfig::default()
        });
        let kept: Vec<&str> = mounts
            .iter()
            .filter(|m| f.keep(m, &m.source))
            .map(|m| m.mount_point.as_str())
            .collect();
        assert_eq!(kept, ["/", "/mnt/my disk", "/data2", "/mnt/nfs"]);

        let f = filter(&DiskConfig {
            only_fstypes: vec!["xfs".into()],
            ..DiskConfig::default()
        });
        assert_eq!(fixture().iter().filter(|m| f.keep(m, &m.source)).count(), 1);
    }

    #[test]
    fn fs_type_keywords_are_checked() {
        let mut v = Validation::default();
        validate_filters(
            &mut v,
            "(",
            "",
            &["etx4".into(), "fuse.sshfs".into(), "xfs".into()],
        );
        let msgs: Vec<String> = v
            .issues
            .iter()
            .map(|i| format!("{}: {}", i.key, i.message))
            .collect();
        assert_eq!(msgs.len(), 2, "{msgs:?}");
        assert!(
            msgs[0].starts_with("ignore_fstypes: invalid regular expression"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].contains("unknown file system type `etx4`; did you mean `ext4`?"),
            "{msgs:?}"
        );
    }

    #[test]
    fn real_statfs_of_root_has_sizes() {
        let u = statfs(Path::new("/")).unwrap();
        assert!(u.total > 0 && u.used <= u.total && u.free <= u.total);
        let row = FsRow {
            device: "/dev/vda".into(),
            mount: fixture()[3].clone(),
            usage: u,
        };
        let p = disk_point(&row);
        assert_eq!(p.get_tag("disk_name"), Some("vda"));
        assert!(super::super::tests::schema_problems(MEASUREMENTS, &[p], &[]).is_empty());
    }
}
