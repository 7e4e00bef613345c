//! The module graph follows the layers `ARCHITECTURE.md` documents: every `crate::` path in
//! `src/` goes to the same layer or one below, and no set of modules imports each other in a
//! circle; `commands/` files use `datakit::app` for the library, and only `crate::prelude`
//! among themselves (`main.rs` and `cli.rs` list the commands). Test-only code is left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One use of another module: `from` imports `to` at `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
}

/// The layer table: module → (layer number, layer name).
fn parse_layers(md: &str) -> Result<BTreeMap<String, (usize, String)>, String> {
    let start = md
        .find("```layers\n")
        .ok_or("ARCHITECTURE.md has no ```layers block")?;
    let body = &md[start + "```layers\n".len()..];
    let end = body
        .find("```")
        .ok_or("the ```layers block is not closed")?;
    let mut out = BTreeMap::new();
    for (i, line) in body[..end].lines().enumerate() {
        let (head, mods) = line
            .split_once(':')
            .ok_or_else(|| format!("layers line {}: `N name: modules` expected", i + 1))?;
        let mut head = head.split_whitespace();
        let n: usize = head
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| format!("layers line {}: no layer number", i + 1))?;
        let name = head.collect::<Vec<_>>().join(" ");
        for m in mods.split_whitespace() {
            if out.insert(m.to_string(), (n, name.clone())).is_some() {
                return Err(format!("module `{m}` is in two layers"));
            }
        }
    }
    Ok(out)
}

/// The source with comments removed and string, char and raw-string literals blanked (newlines
/// kept, so line numbers stay right).
fn strip(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let blank = |out: &mut Vec<u8>, c: u8| out.push(if c == b'\n' { b'\n' } else { b' ' });
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    depth += 1;
                    i += 2;
                } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
        } else if c == b'r'
            && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        {
            // r"…" or r#"…"#
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            while j < b.len() && !b[j..].starts_with(&close) {
                blank(&mut out, b[j]);
                j += 1;
            }
            i = j + close.len();
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    blank(&mut out, b[i]);
                    i += 1;
                }
                if i < b.len() {
                    blank(&mut out, b[i]);
                    i += 1;
                }
            }
            i += 1;
        } else if c == b'\'' {
            // A char literal ('x', '\n', '\u{..}'), or a lifetime.
            if b.get(i + 1) == Some(&b'\\') {
                let mut j = i + 2;
                while j < b.len() && b[j] != b'\'' {
                    j += 1;
                }
                i = j + 1;
            } else if b.get(i + 2) == Some(&b'\'') {
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes `#[cfg(test)]` items whose body is inline; returns the text and the names of
/// `#[cfg(test)] mod name;` files.
fn drop_test_code(text: &str) -> (String, Vec<String>) {
    let mut out = text.to_string();
    let mut files = Vec::new();
    while let Some(at) = out.find("#[cfg(test)]") {
        let rest = &out[at + "#[cfg(test)]".len()..];
        let item_len = rest.find([';', '{']).unwrap_or(rest.len());
        let head = rest[..item_len].trim();
        if rest[item_len..].starts_with(';') {
            if let Some(name) = head.strip_prefix("mod ").or_else(|| {
                head.strip_prefix("pub(crate) mod ")
                    .or_else(|| head.strip_prefix("pub mod "))
            }) {
                files.push(name.trim().to_string());
            }
            let end = at + "#[cfg(test)]".len() + item_len + 1;
            out.replace_range(at..end, &blank_lines(&out[at..end]));
            continue;
        }
        // Skip the balanced block.
        let open = at + "#[cfg(test)]".len() + item_len;
        let mut depth = 0;
        let mut end = out.len();
        for (j, ch) in out[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + j + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.replace_range(at..end, &blank_lines(&out[at..end]));
    }
    (out, files)
}

fn blank_lines(s: &str) -> String {
    s.chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect()
}

fn ident_at(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The modules `root::` paths in `text` name: (module, byte offset of its name).
fn paths_into(text: &str, root: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let pat = format!("{root}::");
    let mut from = 0;
    while let Some(p) = text[from..].find(&pat) {
        let at = from + p;
        from = at + pat.len();
        let before = text[..at].chars().last();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &text[from..];
        if rest.starts_with('{') {
            // A group: the first name of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            for (j, ch) in rest.char_indices() {
                match ch {
                    '{' => {
                        depth += 1;
                        if depth == 1 {
                            item_start = true;
                        }
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && (c.is_ascii_alphabetic() || c == '_') => {
                        out.push((ident_at(&rest[j..]).to_string(), from + j));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                out.push((name.to_string(), from));
            }
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every edge between top-level modules of the crate in `src`, test code left out.
fn edges(src: &Path) -> (BTreeSet<String>, Vec<Edge>) {
    let mut modules = BTreeSet::new();
    for e in std::fs::read_dir(src).expect("src/").flatten() {
        let p = e.path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if (p.is_dir() || p.extension().is_some_and(|x| x == "rs"))
            && name != "lib"
            && name != "main"
        {
            modules.insert(name);
        }
    }
    let mut files = Vec::new();
    rust_files(src, &mut files);
    // Files of `#[cfg(test)] mod x;` declarations.
    let mut test_files: BTreeSet<PathBuf> = BTreeSet::new();
    let mut texts = Vec::new();
    for f in &files {
        let raw = std::fs::read_to_string(f).unwrap();
        let (text, test_mods) = drop_test_code(&strip(&raw));
        let dir = if f
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs")
        {
            f.parent().unwrap().to_path_buf()
        } else {
            f.with_extension("")
        };
        for m in test_mods {
            test_files.insert(dir.join(format!("{m}.rs")));
            test_files.insert(dir.join(&m));
        }
        texts.push((f.clone(), text));
    }
    let mut out = Vec::new();
    for (f, text) in texts {
        if test_files
            .iter()
            .any(|t| f == *t || (t.extension().is_none() && f.starts_with(t)))
        {
            continue;
        }
        let rel = f.strip_prefix(src).unwrap();
        let Some(top) = rel.components().next() else {
            continue;
        };
        let top = Path::new(top.as_os_str())
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if !modules.contains(&top) {
            continue;
        }
        for (to, at) in paths_into(&text, "crate") {
            if to != top && modules.contains(&to) {
                out.push(Edge {
                    from: top.clone(),
                    to,
                    file: format!("src/{}", rel.display()),
                    line: line_of(&text, at),
                });
            }
        }
    }
    (modules, out)
}

/// Strongly connected components of more than one module.
fn cycles(modules: &BTreeSet<String>, edges: &[Edge]) -> Vec<Vec<String>> {
    let idx: BTreeMap<&str, usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let n = modules.len();
    let mut adj = vec![BTreeSet::new(); n];
    for e in edges {
        adj[idx[e.from.as_str()]].insert(idx[e.to.as_str()]);
    }
    // Tarjan, iterative enough for a few dozen modules.
    struct T {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(v: usize, adj: &[BTreeSet<usize>], t: &mut T) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &adj[v] {
            match t.index[w] {
                None => {
                    visit(w, adj, t);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(v, &adj, &mut t);
        }
    }
    let names: Vec<&String> = modules.iter().collect();
    t.out
        .into_iter()
        .map(|c| {
            let mut v: Vec<String> = c.into_iter().map(|i| names[i].clone()).collect();
            v.sort();
            v
        })
        .collect()
}

/// Every breach of the layering of the crate in `src` against the table in `md`.
fn check(src: &Path, md: &str) -> Vec<String> {
    let layers = match parse_layers(md) {
        Ok(l) => l,
        Err(e) => return vec![e],
    };
    let (modules, edges) = edges(src);
    let mut problems = Vec::new();
    for m in &modules {
        if !layers.contains_key(m) {
            problems.push(format!(
                "module `{m}` is in no layer of ARCHITECTURE.md's table"
            ));
        }
    }
    for m in layers.keys() {
        if !modules.contains(m) {
            problems.push(format!(
                "ARCHITECTURE.md lists `{m}`, which is not a module of src/"
            ));
        }
    }
    for e in &edges {
        let (Some((lf, nf)), Some((lt, nt))) = (layers.get(&e.from), layers.get(&e.to)) else {
            continue;
        };
        if lt > lf {
            problems.push(format!(
                "{}:{}: `{}` (layer {lf}, {nf}) uses `{}` (layer {lt}, {nt}), a layer above it",
                e.file, e.line, e.from, e.to
            ));
        }
    }
    for c in cycles(&modules, &edges) {
        let inside: Vec<String> = edges
            .iter()
            .filter(|e| c.contains(&e.from) && c.contains(&e.to))
            .map(|e| format!("{}:{} ({} → {})", e.file, e.line, e.from, e.to))
            .collect();
        problems.push(format!(
            "modules {} import each other in a circle: {}",
            c.join(", "),
            inside.join("; ")
        ));
    }
    problems
}

/// Breaches of the commands' rules in `dir`.
fn check_commands(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut problems = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let text = strip(&std::fs::read_to_string(&f).unwrap());
        let listing = name == "main.rs" || name == "cli.rs";
        for (m, at) in paths_into(&text, "crate") {
            if !listing && m != "prelude" {
                problems.push(format!(
                    "commands/{name}:{}: uses `crate::{m}`; commands share only `crate::prelude`",
                    line_of(&text, at)
                ));
            }
        }
        for (m, at) in paths_into(&text, "datakit") {
            if m != "app" {
                problems.push(format!(
                    "commands/{name}:{}: uses `datakit::{m}`; commands reach the library through `datakit::app`",
                    line_of(&text, at)
                ));
            }
        }
    }
    problems
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_module_graph_follows_the_documented_layers() {
    let md = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let problems = check(&root().join("src"), &md);
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    let (modules, edges) = edges(&root().join("src"));
    assert!(
        modules.len() >= 20 && edges.len() >= 50,
        "the graph was read"
    );
}

#[test]
fn commands_use_the_prelude_and_the_facade_only() {
    let problems = check_commands(&root().join("commands"));
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// The check finds what it is for: an upward import and a circle, each named by file and line
/// (test code and comments do not count).
#[test]
fn an_upward_import_or_a_circle_fails_with_its_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("low")).unwrap();
    let write = |p: &str, text: &str| std::fs::write(src.join(p), text).unwrap();
    write("lib.rs", "pub mod low;\npub mod mid;\npub mod high;\n");
    write(
        "low/mod.rs",
        "//! Mentions crate::high in a comment only.\nuse crate::point;\n\n\
         pub fn f() -> &'static str { \"crate::high\" }\n\n\
         #[cfg(test)]\nmod tests {\n    use crate::high::X;\n}\n",
    );
    write("point.rs", "pub struct P;\n");
    write("mid.rs", "use crate::{low::f, point::P};\n");
    write("high.rs", "pub struct X;\nuse crate::mid;\n");
    let md = "```layers\n0 base: point\n1 low: low\n2 mid: mid\n3 high: high\n```\n";
    assert_eq!(check(&src, md), Vec::<String>::new(), "a clean tree passes");

    // An upward import, on line 3 of low/mod.rs.
    write(
        "low/mod.rs",
        "use crate::point;\n\nuse crate::{\n    high::X,\n};\n",
    );
    let p = check(&src, md);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("src/low/mod.rs:4: `low` (layer 1, low) uses `high` (layer 3, high)"),
        "{p:?}"
    );
    assert!(p[1].contains("import each other in a circle"), "{p:?}");
    assert!(p[1].contains("src/low/mod.rs:4 (low → high)"), "{p:?}");

    // A circle within one layer.
    write("low/mod.rs", "use crate::point;\n");
    write("point.rs", "pub struct P;\nuse crate::low;\n");
    let md = "```layers\n0 base: point low\n2 mid: mid\n3 high: high\n```\n";
    let p = check(&src, md);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("modules low, point import each other"),
        "{p:?}"
    );

    // A module missing from the table.
    write("extra.rs", "");
    assert!(
        check(&src, md)
            .iter()
            .any(|p| p.contains("module `extra` is in no layer"))
    );

    // Commands: another command's module, or a deep library path.
    let cmds = dir.path().join("commands");
    std::fs::create_dir_all(&cmds).unwrap();
    std::fs::write(
        cmds.join("run.rs"),
        "use crate::prelude::Globals;\nuse crate::service::RootArg;\nuse datakit::config::Dur;\n",
    )
    .unwrap();
    std::fs::write(cmds.join("cli.rs"), "use crate::{run, service};\n").unwrap();
    let p = check_commands(&cmds);
    assert_eq!(
        p,
        vec![
            "commands/run.rs:2: uses `crate::service`; commands share only `crate::prelude`",
            "commands/run.rs:3: uses `datakit::config`; commands reach the library through `datakit::app`",
        ]
    );
}
