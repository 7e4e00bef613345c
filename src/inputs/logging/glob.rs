//! Which files an instance tails: `logfiles` globs (`*`, `?`, `[..]`, `{a,b}`, and `**` for
//! any number of directories) minus `ignore` globs. Each glob is walked from its literal
//! prefix (the directories before the first wildcard), never from `/`.

use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// A bad glob in the config.
#[derive(Debug, thiserror::Error)]
#[error("invalid glob `{glob}`: {message}")]
pub struct GlobError {
    pub glob: String,
    pub message: String,
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// `path` without `.` and `a/..` pairs (like Go's `filepath.Clean`, without touching disk).
pub fn clean(path: &str) -> String {
    let p = Path::new(path);
    let mut out: Vec<String> = Vec::new();
    let abs = p.is_absolute();
    for c in p.components() {
        match c {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else if !abs {
                    out.push("..".into());
                }
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = out.join("/");
    match (abs, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn glob(pattern: &str) -> Result<Glob, GlobError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| GlobError {
            glob: pattern.to_string(),
            message: e.kind().to_string(),
        })
}

/// Checks a glob without building a matcher set (for `check-config`).
pub fn check(pattern: &str) -> Result<(), GlobError> {
    glob(pattern).map(|_| ())
}

/// One `logfiles` entry: where to walk from, how deep, and what to keep.
#[derive(Debug)]
struct Root {
    base: PathBuf,
    /// Directory levels below `base` to descend (`None`: any, for `**`).
    depth: Option<usize>,
    matcher: GlobMatcher,
    /// A plain path (no wildcard).
    literal: bool,
}

/// The compiled `logfiles` and `ignore` of an instance.
#[derive(Debug)]
pub struct FileSet {
    roots: Vec<Root>,
    ignore_full: GlobSet,
    ignore_name: GlobSet,
}

/// A file a scan found.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    pub meta: std::fs::Metadata,
}

impl FileSet {
    pub fn new(logfiles: &[String], ignore: &[String]) -> Result<FileSet, GlobError> {
        let mut roots = Vec::new();
        for raw in logfiles {
            let pattern = clean(raw);
            let comps: Vec<&str> = pattern.split('/').collect();
            let first_wild = comps.iter().position(|c| has_wildcard(c));
            let (base, depth, literal) = match first_wild {
                None => {
                    let p = PathBuf::from(&pattern);
                    let parent = p
                        .parent()
                        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
                    (parent, Some(1), true)
                }
                Some(i) => {
                    let base = comps[..i].join("/");
                    let base = if base.is_empty() {
                        if pattern.starts_with('/') {
                            "/".to_string()
                        } else {
                            ".".to_string()
                        }
                    } else {
                        base
                    };
                    let rest = &comps[i..];
                    let depth = (!rest.contains(&"**")).then_some(rest.len());
                    (PathBuf::from(base), depth, false)
                }
            };
            roots.push(Root {
                base,
                depth,
                matcher: glob(&pattern)?.compile_matcher(),
                literal,
            });
        }
        let mut full = GlobSetBuilder::new();
        let mut name = GlobSetBuilder::new();
        for raw in ignore {
            if raw.contains('/') {
                full.add(glob(&clean(raw))?);
            } else {
                name.add(glob(raw)?);
            }
        }
        let build = |b: GlobSetBuilder| {
            b.build().map_err(|e| GlobError {
                glob: ignore.join(", "),
                message: e.to_string(),
            })
        };
        Ok(FileSet {
            roots,
            ignore_full: build(full)?,
            ignore_name: build(name)?,
        })
    }

    /// The directories to watch for new files, with whether to watch them recursively.
    pub fn watch_dirs(&self) -> Vec<(PathBuf, bool)> {
        let mut v: Vec<(PathBuf, bool)> = self
            .roots
            .iter()
            .map(|r| (r.base.clone(), r.depth != Some(1)))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// What file-system events concern this set: the plain paths among the globs, and the
    /// directories (with whether recursively) under which the other globs match.
    pub fn interests(&self) -> (Vec<PathBuf>, Vec<(PathBuf, bool)>) {
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        for r in &self.roots {
            if r.literal {
                files.push(PathBuf::from(r.matcher.glob().glob()));
            } else {
                dirs.push((r.base.clone(), r.depth != Some(1)));
            }
        }
        files.sort();
        files.dedup();
        dirs.sort();
        dirs.dedup();
        (files, dirs)
    }

    fn ignored(&self, path: &Path) -> bool {
        self.ignore_full.is_match(path)
            || path
                .file_name()
                .is_some_and(|n| self.ignore_name.is_match(Path::new(n)))
    }

    /// Whether `path` is one of this set's files (matched and not ignored).
    pub fn matches(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| r.matcher.is_match(path)) && !self.ignored(path)
    }

    /// Every regular file the globs match now, minus the ignored ones. Unreadable
    /// directories are skipped.
    pub fn scan(&self) -> Vec<Found> {
        let mut out: Vec<Found> = Vec::new();
        for r in &self.roots {
            if r.literal {
                let p = PathBuf::from(r.matcher.glob().glob());
                if let Ok(meta) = std::fs::metadata(&p)
                    && meta.is_file()
                    && !self.ignored(&p)
                {
                    out.push(Found { path: p, meta });
                }
                continue;
            }
            let mut stack = vec![(r.base.clone(), 0usize)];
            while let Some((dir, level)) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in rd.flatten() {
                    let path = e.path();
                    let Ok(ft) = e.file_type() else { continue };
                    if ft.is_dir() {
                        if r.depth.is_none_or(|d| level + 1 < d) {
                            stack.push((path, level + 1));
                        }
                        continue;
                    }
                    if r.depth.is_some_and(|d| level + 1 != d) {
                        continue;
                    }
                    if !r.matcher.is_match(&path) || self.ignored(&path) {
                        continue;
                    }
                    // Symbolic links to files count; to directories they are not followed.
                    let Ok(meta) = std::fs::metadata(&path) else {
                        continue;
                    };
                    if meta.is_file() {
                        out.push(Found { path, meta });
                    }
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.dedup_by(|a, b| a.path == b.path);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x\n").unwrap();
    }

    fn names(root: &Path, found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn globs_walk_from_their_literal_prefix() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "a.log",
            "b.txt",
            "sub/c.log",
            "sub/deep/d.log",
            "sub/deep/e.log.gz",
            "other/f.log",
        ] {
            touch(r, f);
        }
        let g = |pats: &[&str], ign: &[&str]| {
            let pats: Vec<String> = pats
                .iter()
                .map(|p| format!("{}/{p}", r.display()))
                .collect();
            let ign: Vec<String> = ign.iter().map(|s| s.to_string()).collect();
            names(r, &FileSet::new(&pats, &ign).unwrap().scan())
        };
        assert_eq!(g(&["*.log"], &[]), vec!["a.log"]);
        assert_eq!(
            g(&["**/*.log"], &[]),
            vec!["a.log", "other/f.log", "sub/c.log", "sub/deep/d.log"]
        );
        assert_eq!(
            g(&["sub/**/*.log"], &[]),
            vec!["sub/c.log", "sub/deep/d.log"]
        );
        assert_eq!(g(&["*/*.log"], &[]), vec!["other/f.log", "sub/c.log"]);
        assert_eq!(
            g(&["sub/**"], &["*.gz"]),
            vec!["sub/c.log", "sub/deep/d.log"]
        );
        let ign = format!("{}/sub/**", r.display());
        assert_eq!(g(&["**/*.log"], &[&ign]), vec!["a.log", "other/f.log"]);
        assert_eq!(g(&["a.log", "*.log"], &[]), vec!["a.log"]);
        assert_eq!(g(&["nothing/*.log"], &[]), Vec::<String>::new());
        assert_eq!(g(&["{a,b}.*"], &[]), vec!["a.log", "b.txt"]);
        let fs = FileSet::new(&[format!("{}/**/*.log", r.display())], &[]).unwrap();
        assert!(fs.matches(&r.join("new/x.log")));
        assert!(!fs.matches(&r.join("new/x.txt")));
        assert_eq!(fs.watch_dirs(), vec![(r.to_path_buf(), true)]);
    }

    #[test]
    fn paths_are_cleaned() {
        assert_eq!(clean("/var/log/../log/./x.log"), "/var/log/x.log");
        assert_eq!(clean("/a//b/"), "/a/b");
        assert_eq!(clean("a/../.."), "..");
        assert_eq!(clean("/.."), "/");
    }

    #[test]
    fn bad_globs_are_reported() {
        assert!(check("/var/log/[a.log").is_err());
        assert!(check("/var/log/*.log").is_ok());
    }
}
