//! The repository stands on its own: no tracked file refers to notes, specs or tools that live
//! next to it on the machine it was written on (they do not exist for anyone else).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a reference to a file outside the repository looks like. Each is spelt in two pieces
/// so that this file does not match itself.
const OUTSIDE: &[&str] = &[
    concat!("..", "/shared"),
    concat!("/wo", "rk/"),
    concat!("DESIGN", ".md"),
    concat!("CRATES", ".md"),
    concat!("shared", "/spec"),
    concat!("shared", "/tools"),
    concat!("spec ", "§"),
];

/// Tracked files, from `git ls-files`; without git (a source archive), every file under the
/// root except build output.
fn files(root: &Path) -> Vec<PathBuf> {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output();
    match listed {
        Ok(out) if out.status.success() => out
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| root.join(String::from_utf8_lossy(p).as_ref()))
            .collect(),
        _ => walk(root),
    }
}

/// Every file under `root`, leaving out `.git` and `target` directories.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != ".git" && name != "target" {
                    dirs.push(path);
                }
            } else {
                out.push(path);
            }
        }
    }
    out
}

/// `file:line: text` for every line of `files` (under `root`; binary files are skipped) that
/// names something outside the repository.
fn references_outside(root: &Path, files: Vec<PathBuf>) -> Vec<String> {
    let mut hits = Vec::new();
    for path in files {
        // Deleted but not yet staged, or a submodule: nothing to read.
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.contains(&0) {
            continue; // binary
        }
        let text = String::from_utf8_lossy(&bytes);
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .display()
            .to_string();
        for (i, line) in text.lines().enumerate() {
            if OUTSIDE.iter().any(|p| line.contains(p)) {
                hits.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    hits
}

#[test]
fn no_file_refers_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let hits = references_outside(root, files(root));
    assert!(
        hits.is_empty(),
        "references to files outside the repository (state the fact or reason itself, or use \
         what is in the repository):\n{}",
        hits.join("\n")
    );
}

#[test]
fn the_check_finds_a_reference() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    let far = format!("// see {}\n", OUTSIDE[2]);
    std::fs::write(dir.path().join("src/a.rs"), format!("fn a() {{}}\n{far}")).unwrap();
    std::fs::write(dir.path().join("b.bin"), [0u8, 1, 2]).unwrap();
    let hits = references_outside(dir.path(), walk(dir.path()));
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert!(hits[0].starts_with("src/a.rs:2: "), "{hits:?}");
}
