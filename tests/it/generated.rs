//! Generated files (completions/, man/, conf.d/ samples) must match what the code produces.
//! Run with UPDATE_GENERATED=1 to rewrite them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::datakit;

fn files_under(root: &Path, dirs: &[&str]) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for d in dirs {
        let mut stack = vec![root.join(d)];
        while let Some(p) = stack.pop() {
            let Ok(rd) = std::fs::read_dir(&p) else {
                continue;
            };
            for e in rd.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(root).unwrap().to_path_buf();
                    out.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
    }
    out
}

#[test]
fn generated_files_are_up_to_date() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let out = datakit()
        .arg("__generate")
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dirs = ["completions", "man", "conf.d", "docs"];
    let fresh = files_under(tmp.path(), &dirs);
    assert!(
        fresh.len() >= 8,
        "generator wrote too little: {:?}",
        fresh.keys()
    );

    if std::env::var_os("UPDATE_GENERATED").is_some() {
        for d in dirs {
            let _ = std::fs::remove_dir_all(repo.join(d));
        }
        for (rel, bytes) in &fresh {
            let p = repo.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        return;
    }
    let committed = files_under(repo, &dirs);
    let stale: Vec<_> = fresh
        .iter()
        .filter(|(rel, bytes)| committed.get(*rel) != Some(*bytes))
        .map(|(rel, _)| rel.display().to_string())
        .collect();
    let extra: Vec<_> = committed
        .keys()
        .filter(|rel| !fresh.contains_key(*rel))
        .map(|rel| rel.display().to_string())
        .collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "generated files are stale: {stale:?}; not generated any more: {extra:?}. \
         Run `UPDATE_GENERATED=1 cargo test --test it generated` and commit the result."
    );
}
