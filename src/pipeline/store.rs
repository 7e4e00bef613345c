//! Finding scripts: `<workdir>/pipeline/<category>/<name>.p` (and, for logging, the
//! `<workdir>/pipeline/*.p` files), git-managed copies in `<workdir>/gitrepos/<repo>/pipeline/`,
//! and the built-in scripts shipped in the binary. Pattern files come from
//! `<workdir>/pipeline/pattern/`.
//!
//! Scripts pulled from DataWay (the console's, kept in `<workdir>/pipeline_remote/<category>/`)
//! come first. Precedence for one name: remote > gitrepo > workdir > built-in. A source's default script is
//! `<source>.p`; a category may name a fallback (`[pipeline.default_pipeline]`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::grok::{self, PatternMap};
use super::{CompileEnv, CompileError, Program, scripts};
use crate::point::Category;
use crate::workdir::Workdir;

/// Where a script comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Origin {
    /// Shipped in the binary.
    Builtin,
    /// `<workdir>/pipeline/...`
    Workdir,
    /// `<workdir>/gitrepos/<repo>/pipeline/...`
    GitRepo,
    /// Pulled from DataWay (the console's scripts), kept in `<workdir>/pipeline_remote/...`.
    Remote,
}

impl Origin {
    /// The label `pipeline check` shows; the original agent's name of the place (its script
    /// namespace: `default` for the workdir's scripts).
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Builtin => "builtin",
            Origin::Workdir => "default",
            Origin::GitRepo => "gitrepo",
            Origin::Remote => "remote",
        }
    }

    /// What the label means, for `workdir`.
    pub fn meaning(self, workdir: &Workdir) -> String {
        match self {
            Origin::Builtin => "shipped in the binary".into(),
            Origin::Workdir => format!(
                "yours, under {}/ (`default` is the original agent's name for them)",
                workdir.pipeline().display()
            ),
            Origin::GitRepo => format!(
                "from a git repository, under {}/<repo>/pipeline/",
                workdir.root().join("gitrepos").display()
            ),
            Origin::Remote => format!(
                "pulled from DataWay (the console's scripts), kept under {}/",
                remote_dir(workdir).display()
            ),
        }
    }

    pub const ALL: [Origin; 4] = [
        Origin::Builtin,
        Origin::Workdir,
        Origin::GitRepo,
        Origin::Remote,
    ];
}

/// Where the scripts pulled from DataWay are kept (one directory per category).
pub fn remote_dir(workdir: &Workdir) -> PathBuf {
    workdir.root().join("pipeline_remote")
}

/// Where a name of `category` is looked for, the place that wins first: for messages.
pub fn search_places(workdir: &Workdir, category: Category) -> Vec<String> {
    let mut out = Vec::new();
    let gitrepos = workdir
        .root()
        .join("gitrepos")
        .join("<repo>")
        .join("pipeline");
    let root = workdir.pipeline();
    out.push(format!(
        "{}/ (pulled from DataWay)",
        remote_dir(workdir).join(category_dir(category)).display()
    ));
    for base in [gitrepos, root] {
        out.push(format!("{}/", base.join(category_dir(category)).display()));
        if category == Category::Logging {
            out.push(format!("{}/", base.display()));
        }
    }
    if category == Category::Logging {
        out.push(format!(
            "the built-in scripts ({})",
            builtin_names().join(", ")
        ));
    } else {
        out.push("no built-in scripts (those are for logging)".into());
    }
    out
}

/// Names of the built-in scripts, without `.p`.
pub fn builtin_names() -> Vec<&'static str> {
    scripts::BUILTIN
        .iter()
        .map(|(n, _)| n.strip_suffix(".p").unwrap_or(n))
        .collect()
}

struct Entry {
    source: String,
    path: Option<PathBuf>,
    origin: Origin,
    compiled: OnceLock<Result<Arc<Program>, CompileError>>,
}

/// The scripts of one category, compiled on first use and then shared.
pub struct ScriptStore {
    category: Category,
    scripts: BTreeMap<String, Entry>,
    patterns: PatternMap,
    /// Pattern-file lines that failed to expand: (name, why).
    pub pattern_errors: Vec<(String, String)>,
}

/// Directory name of a category under `pipeline/`.
pub fn category_dir(c: Category) -> &'static str {
    c.as_str()
}

fn read_scripts(dir: &Path) -> Vec<(String, PathBuf, String)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("p") || !p.is_file() {
            continue;
        }
        let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if let Ok(src) = std::fs::read_to_string(&p) {
            out.push((name, p, src));
        }
    }
    out.sort();
    out
}

/// Reads every pattern file in `dir` (`NAME regex` lines).
pub fn read_pattern_files(dir: &Path) -> Vec<(String, String)> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            out.extend(grok::parse_pattern_text(&text));
        }
    }
    out
}

thread_local! {
    /// Scripts being compiled on this thread (to refuse `use()` cycles).
    static COMPILING: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Appends `.p` unless the name has it.
pub fn script_name(name: &str) -> String {
    if name.ends_with(".p") {
        name.to_string()
    } else {
        format!("{name}.p")
    }
}

impl ScriptStore {
    /// An empty store with the built-in patterns only.
    pub fn new(category: Category) -> ScriptStore {
        ScriptStore {
            category,
            scripts: BTreeMap::new(),
            patterns: PatternMap::new(),
            pattern_errors: Vec::new(),
        }
    }

    /// The scripts of `category` under `workdir`, plus the built-in ones.
    pub fn load(workdir: &Workdir, category: Category) -> ScriptStore {
        let mut s = ScriptStore::new(category);
        if category == Category::Logging {
            for (name, src) in scripts::BUILTIN {
                s.insert(name, src.to_string(), None, Origin::Builtin);
            }
        }
        let root = workdir.pipeline();
        let mut dirs = vec![root.join(category_dir(category))];
        if category == Category::Logging {
            dirs.insert(0, root.clone());
        }
        for d in &dirs {
            for (name, path, src) in read_scripts(d) {
                s.insert(&name, src, Some(path), Origin::Workdir);
            }
        }
        if let Ok(rd) = std::fs::read_dir(workdir.root().join("gitrepos")) {
            let mut repos: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
            repos.sort();
            for repo in repos {
                let proot = repo.join("pipeline");
                let mut dirs = vec![proot.join(category_dir(category))];
                if category == Category::Logging {
                    dirs.insert(0, proot.clone());
                }
                for d in &dirs {
                    for (name, path, src) in read_scripts(d) {
                        s.insert(&name, src, Some(path), Origin::GitRepo);
                    }
                }
            }
        }
        for (name, path, src) in read_scripts(&remote_dir(workdir).join(category_dir(category))) {
            s.insert(&name, src, Some(path), Origin::Remote);
        }
        s.set_pattern_lines(&read_pattern_files(&root.join("pattern")));
        s
    }

    /// Adds pattern-file lines (built-in patterns win on a clash).
    pub fn set_pattern_lines(&mut self, lines: &[(String, String)]) {
        let lines: Vec<(String, String)> = lines
            .iter()
            .filter(|(n, _)| grok::builtin(n).is_none())
            .cloned()
            .collect();
        let (ok, failed) = grok::expand_set(&lines, &grok::builtin);
        self.patterns = ok;
        self.pattern_errors = failed;
    }

    /// Adds or replaces a script (a higher origin replaces a lower one, not the reverse).
    pub fn insert(&mut self, name: &str, source: String, path: Option<PathBuf>, origin: Origin) {
        let name = script_name(name);
        if let Some(e) = self.scripts.get(&name)
            && e.origin > origin
        {
            return;
        }
        self.scripts.insert(
            name,
            Entry {
                source,
                path,
                origin,
                compiled: OnceLock::new(),
            },
        );
    }

    pub fn category(&self) -> Category {
        self.category
    }

    /// Whether the store has no script at all.
    pub fn is_empty(&self) -> bool {
        self.scripts.is_empty()
    }

    /// Script names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.scripts.keys().map(String::as_str).collect()
    }

    /// The script name closest to an unknown one, if one is close enough to be a typo.
    pub fn suggest(&self, unknown: &str) -> Option<&str> {
        crate::config::decode::suggest(&script_name(unknown), self.names())
            .into_iter()
            .next()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.scripts.contains_key(&script_name(name))
    }

    pub fn source(&self, name: &str) -> Option<&str> {
        self.scripts
            .get(&script_name(name))
            .map(|e| e.source.as_str())
    }

    pub fn path(&self, name: &str) -> Option<&Path> {
        self.scripts
            .get(&script_name(name))
            .and_then(|e| e.path.as_deref())
    }

    pub fn origin(&self, name: &str) -> Option<Origin> {
        self.scripts.get(&script_name(name)).map(|e| e.origin)
    }

    pub fn patterns(&self) -> &PatternMap {
        &self.patterns
    }

    /// The compiled script (compiled once; `None` if there is no such script).
    pub fn get(&self, name: &str) -> Option<Result<Arc<Program>, CompileError>> {
        let name = script_name(name);
        let entry = self.scripts.get(&name)?;
        if let Some(r) = entry.compiled.get() {
            return Some(r.clone());
        }
        let cyclic = COMPILING.with(|c| c.borrow().contains(&name));
        if cyclic {
            return Some(Err(CompileError::whole(
                &name,
                format!("script {name} uses itself (a use() cycle)"),
            )));
        }
        COMPILING.with(|c| c.borrow_mut().push(name.clone()));
        let r = self.compile_entry(&name, entry);
        COMPILING.with(|c| {
            c.borrow_mut().pop();
        });
        Some(entry.compiled.get_or_init(|| r).clone())
    }

    /// Resolves `use("name.p")` to another script of this store.
    fn resolve_use(&self, n: &str) -> Result<Arc<Program>, String> {
        match self.get(n) {
            None => Err(format!("script {n} not found")),
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(format!("script {n}: {e}")),
        }
    }

    fn compile_entry(&self, name: &str, entry: &Entry) -> Result<Arc<Program>, CompileError> {
        let resolve = |n: &str| self.resolve_use(n);
        let env = CompileEnv {
            patterns: &self.patterns,
            resolve_use: Some(&resolve),
        };
        Program::compile_with(name, &entry.source, &env).map(Arc::new)
    }

    /// Compiles a script that is not in the store (a file given on the command line), with
    /// this store's patterns and scripts for `use()`.
    pub fn compile_external(&self, name: &str, source: &str) -> Result<Program, CompileError> {
        let resolve = |n: &str| self.resolve_use(n);
        let env = CompileEnv {
            patterns: &self.patterns,
            resolve_use: Some(&resolve),
        };
        Program::compile_with(name, source, &env)
    }

    /// Compiles every script; the errors.
    pub fn check_all(&self) -> Vec<(String, Result<Arc<Program>, CompileError>)> {
        self.names()
            .into_iter()
            .filter_map(|n| self.get(n).map(|r| (n.to_string(), r)))
            .collect()
    }

    /// The script for points of `source`: `explicit` if given, else `<source>.p`, else the
    /// category's configured default.
    pub fn script_for(
        &self,
        source: &str,
        explicit: Option<&str>,
        category_default: Option<&str>,
    ) -> Option<Result<Arc<Program>, CompileError>> {
        if let Some(n) = explicit.filter(|n| !n.is_empty()) {
            return self.get(n);
        }
        if let Some(r) = self.get(source) {
            return Some(r);
        }
        category_default.and_then(|n| self.get(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workdir_scripts_override_builtins_and_gitrepo_overrides_both() {
        let dir = tempfile::tempdir().unwrap();
        let w = Workdir::new(dir.path());
        std::fs::create_dir_all(w.pipeline().join("logging")).unwrap();
        std::fs::create_dir_all(w.pipeline().join("metric")).unwrap();
        std::fs::create_dir_all(w.pipeline().join("pattern")).unwrap();
        std::fs::write(w.pipeline().join("nginx.p"), "add_key(mine, 1)").unwrap();
        std::fs::write(w.pipeline().join("logging/app.p"), "add_key(app, 1)").unwrap();
        std::fs::write(w.pipeline().join("metric/cpu.p"), "add_key(cpu, 1)").unwrap();
        std::fs::write(
            w.pipeline().join("pattern/mine"),
            "# c\nMYNUM [0-9]+\nINT [x]+\n",
        )
        .unwrap();
        let repo = dir.path().join("gitrepos/r1/pipeline/logging");
        std::fs::create_dir_all(&repo).unwrap();
        std::fs::write(repo.join("app.p"), "add_key(from_git, 1)").unwrap();

        let s = ScriptStore::load(&w, Category::Logging);
        assert_eq!(s.origin("nginx"), Some(Origin::Workdir));
        assert_eq!(s.origin("app.p"), Some(Origin::GitRepo));
        assert_eq!(s.origin("redis.p"), Some(Origin::Builtin));
        assert!(!s.contains("cpu.p"));
        assert!(s.patterns().contains_key("MYNUM"));
        assert!(
            !s.patterns().contains_key("INT"),
            "built-ins win over files"
        );
        let m = ScriptStore::load(&w, Category::Metric);
        assert_eq!(m.names(), vec!["cpu.p"]);
        let p = s.get("app").unwrap().unwrap();
        assert_eq!(p.name, "app.p");
        assert!(s.script_for("nginx", None, None).is_some());
        assert!(s.script_for("nope", None, Some("app.p")).is_some());
        assert!(s.script_for("nope", None, None).is_none());
    }

    #[test]
    fn use_cycles_are_compile_errors() {
        let mut s = ScriptStore::new(Category::Logging);
        s.insert("a.p", "use(\"b.p\")".into(), None, Origin::Workdir);
        s.insert("b.p", "use(\"a.p\")".into(), None, Origin::Workdir);
        s.insert(
            "c.p",
            "use(\"d.p\")\nadd_key(c, 1)".into(),
            None,
            Origin::Workdir,
        );
        s.insert("d.p", "add_key(d, 1)".into(), None, Origin::Workdir);
        let e = s.get("a.p").unwrap().unwrap_err();
        assert!(e.msg.contains("cycle"), "{e}");
        assert!(s.get("c.p").unwrap().is_ok());
        let e = s.get("x.p");
        assert!(e.is_none());
    }

    #[test]
    fn every_builtin_script_compiles() {
        let s = ScriptStore::load(&Workdir::new("/nonexistent"), Category::Logging);
        for (name, r) in s.check_all() {
            if let Err(e) = r {
                panic!("{name}: {e}");
            }
        }
        assert!(s.names().len() >= 10);
    }
}
