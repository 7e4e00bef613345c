//! Filters: the original agent's blacklist language. A rule such as
//! `{ source = 'nginx' and status in ['debug', 'info'] }` names points to drop; rules are
//! given per category (`[io.filters]` in `datakit.conf`, or pulled from DataWay) and a point
//! matching any rule of its category is dropped by the ingest stage.
//!
//! What a rule sees of a point: its tags, then its fields (a tag wins over a field of the same
//! key), then, when the point has no such key, `category` (the category's name) and its name
//! under the category's key (`measurement` for metrics; `class` for objects and custom objects;
//! `source` for logging, network, keyevent, RUM and dial testing; tracing, security and
//! profiling get none), as the original injects them.
//!
//! Comparisons follow the original's typing: a value matches a literal only of the same type
//! (a string tag never equals the number `1`; an unsigned field never matches an integer
//! literal), floats are equal within 1e-9, `nil` stands for "no such key". This module parses
//! rules ([`parse`], errors with line and column), compiles the rules of a category into a
//! [`RuleSet`] that reads each point once, and holds the agent's current set ([`Current`]).

mod eval;
mod lex;
mod parse;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};

use regex::Regex;
use smallvec::SmallVec;

use crate::point::{Category, PointView, ValueView};

/// The longest rule accepted, in bytes.
pub const MAX_RULE_LEN: usize = 64 * 1024;

/// A rule that does not parse: where (1-based line and column, in characters; byte offset)
/// and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub message: String,
}

impl ParseError {
    fn at(src: &str, offset: usize, message: String) -> ParseError {
        let mut offset = offset.min(src.len());
        while !src.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        ParseError {
            line,
            column,
            offset,
            message,
        }
    }
}

/// A literal of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled condition; keys are slots of the rule set's key table.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A comparison of two literals, decided when parsed.
    Const(bool),
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Cmp {
        key: u16,
        cmp: Cmp,
        lit: Lit,
    },
    /// `key = re('...')` (a search, not anchored) or `key != re('...')`.
    Re {
        key: u16,
        ne: bool,
        re: Regex,
    },
    /// `key in [...]`, `key notin [...]`; `nil` in the list is `has_nil`.
    In {
        key: u16,
        neg: bool,
        items: Vec<Lit>,
        has_nil: bool,
    },
    /// `key match [...]` (any pattern finds a match), `key notmatch [...]` (none does); the
    /// patterns as one alternation.
    Match {
        key: u16,
        neg: bool,
        re: Regex,
    },
    /// `key match []`, `key notmatch []`.
    MatchNone {
        key: u16,
        neg: bool,
    },
}

/// The keys rules of one set read, each once.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    names: Vec<Box<str>>,
}

impl Keys {
    fn intern(&mut self, name: &str) -> u16 {
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return i as u16;
        }
        self.names.push(name.into());
        (self.names.len() - 1) as u16
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn name(&self, slot: u16) -> &str {
        &self.names[slot as usize]
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| &**n == name)
    }
}

/// Parses one rule. `Ok(None)`: it holds no condition (blank or comments only), and matches
/// nothing.
pub fn parse(rule: &str, keys: &mut Keys) -> Result<Option<Expr>, ParseError> {
    parse::parse(rule, keys)
}

/// Checks a rule's syntax.
pub fn check(rule: &str) -> Result<(), ParseError> {
    parse(rule, &mut Keys::default()).map(|_| ())
}

/// The key under which a point's name is seen in `cat`, as the original injects it.
pub fn name_key(cat: Category) -> Option<&'static str> {
    match cat {
        Category::Logging
        | Category::ObjectChange
        | Category::DialTesting
        | Category::Network
        | Category::KeyEvent
        | Category::Rum => Some("source"),
        Category::Metric => Some("measurement"),
        Category::Object | Category::CustomObject => Some("class"),
        Category::Tracing | Category::Security | Category::Profiling | Category::DynamicDw => None,
    }
}

/// One rule of a set: its text, its condition, and the points it has filtered.
#[derive(Debug)]
pub struct Rule {
    pub text: String,
    expr: Expr,
    pub hits: Arc<AtomicU64>,
}

/// A slot of [`KeyTable`] with no key.
const EMPTY: u16 = u16::MAX;

/// The keys rules read, found by hash: a point's keys are each looked up once per point.
#[derive(Debug, Default)]
struct KeyTable {
    /// Open addressing (linear probing) over slots of `Keys`; a power of two long.
    table: Vec<u16>,
    /// Bit `n` set: some key is `n` bytes long (bit 63: 63 or more): most keys of a point are
    /// turned away by their length alone.
    len_mask: u64,
}

#[inline]
fn key_hash(k: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    let n = k.len().min(8);
    a[..n].copy_from_slice(&k[..n]);
    let mut h = u64::from_le_bytes(a) ^ (k.len() as u64).rotate_left(56);
    if k.len() > 8 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&k[k.len() - 8..]);
        h ^= u64::from_le_bytes(b).rotate_left(29);
    }
    h.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

impl KeyTable {
    fn new(keys: &Keys) -> KeyTable {
        let size = (keys.len() * 2).next_power_of_two().max(4);
        let mut table = vec![EMPTY; size];
        for (slot, k) in keys.names.iter().enumerate() {
            let mut i = (key_hash(k.as_bytes()) >> 32) as usize & (size - 1);
            while table[i] != EMPTY {
                i = (i + 1) & (size - 1);
            }
            table[i] = slot as u16;
        }
        let len_mask = keys
            .names
            .iter()
            .fold(0u64, |m, k| m | (1u64 << k.len().min(63)));
        KeyTable { table, len_mask }
    }

    #[inline]
    fn find(&self, keys: &Keys, key: &str) -> Option<usize> {
        if self.len_mask & (1u64 << key.len().min(63)) == 0 {
            return None;
        }
        let mask = self.table.len() - 1;
        let mut i = (key_hash(key.as_bytes()) >> 32) as usize & mask;
        loop {
            let s = self.table[i];
            if s == EMPTY {
                return None;
            }
            if &*keys.names[s as usize] == key {
                return Some(s as usize);
            }
            i = (i + 1) & mask;
        }
    }
}

/// The rules of one category, compiled to read each point once.
#[derive(Debug)]
pub struct RuleSet {
    category: Category,
    keys: Keys,
    table: KeyTable,
    category_slot: Option<usize>,
    name_slot: Option<usize>,
    rules: Vec<Rule>,
}

/// A rule that was not taken: which (its place in the list given) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub index: usize,
    pub rule: String,
    pub error: ParseError,
}

impl RuleSet {
    /// Compiles `rules` (in order); a rule that does not parse is left out and returned.
    pub fn new(category: Category, rules: &[String]) -> (RuleSet, Vec<Rejected>) {
        let mut keys = Keys::default();
        let mut out = Vec::new();
        let mut rejected = Vec::new();
        for (index, text) in rules.iter().enumerate() {
            let mut trial = keys.clone();
            match parse(text, &mut trial) {
                Ok(Some(expr)) => {
                    keys = trial;
                    out.push(Rule {
                        text: text.clone(),
                        expr,
                        hits: Arc::new(AtomicU64::new(0)),
                    });
                }
                Ok(None) => {}
                Err(error) => rejected.push(Rejected {
                    index,
                    rule: text.clone(),
                    error,
                }),
            }
        }
        let table = KeyTable::new(&keys);
        let category_slot = keys.find("category");
        let name_slot = name_key(category).and_then(|k| keys.find(k));
        (
            RuleSet {
                category,
                keys,
                table,
                category_slot,
                name_slot,
                rules: out,
            },
            rejected,
        )
    }

    pub fn category(&self) -> Category {
        self.category
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    #[inline]
    fn slot(&self, key: &str) -> Option<usize> {
        self.table.find(&self.keys, key)
    }

    /// The first rule `p` matches (its index), if any.
    pub fn first_match<P: PointView + ?Sized>(&self, p: &P) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let mut slots: SmallVec<[Option<ValueView<'_>>; 16]> =
            smallvec::smallvec![None; self.keys.len()];
        for (k, v) in p.tags() {
            if let Some(i) = self.slot(k)
                && slots[i].is_none()
            {
                slots[i] = Some(ValueView::Str(v));
            }
        }
        for (k, v) in p.fields() {
            if let Some(i) = self.slot(k)
                && slots[i].is_none()
            {
                slots[i] = Some(v);
            }
        }
        if let Some(i) = self.category_slot
            && slots[i].is_none()
        {
            slots[i] = Some(ValueView::Str(self.category.as_str()));
        }
        if let Some(i) = self.name_slot
            && slots[i].is_none()
        {
            slots[i] = Some(ValueView::Str(p.name()));
        }
        self.rules.iter().position(|r| eval::eval(&r.expr, &slots))
    }

    /// Like [`first_match`](RuleSet::first_match), counting the hit on the rule.
    #[inline]
    pub fn filter<P: PointView + ?Sized>(&self, p: &P) -> Option<&Rule> {
        let i = self.first_match(p)?;
        let r = &self.rules[i];
        r.hits.fetch_add(1, Relaxed);
        Some(r)
    }
}

/// Where the current rules came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Source {
    /// No rules.
    #[default]
    None,
    /// `[io.filters]` in `datakit.conf` (DataWay's rules are then not pulled, as in the
    /// original).
    Local,
    /// Pulled from DataWay.
    Remote,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::None => "none",
            Source::Local => "local",
            Source::Remote => "remote",
        }
    }
}

/// The rules of every category.
#[derive(Debug, Default)]
pub struct Filters {
    sets: Vec<RuleSet>,
}

/// A problem with a rule map: a category that does not exist, or a rule that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    UnknownCategory(String),
    Rule {
        category: String,
        rejected: Rejected,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::UnknownCategory(c) => {
                write!(f, "unknown category `{c}`: its rules are ignored")
            }
            Problem::Rule { category, rejected } => write!(
                f,
                "rule {category}[{}] ignored: {}",
                rejected.index, rejected.error
            ),
        }
    }
}

impl Filters {
    /// Compiles a map of category name (or alias) to rules. Rules that do not parse and
    /// unknown categories are left out and returned.
    pub fn compile(map: &BTreeMap<String, Vec<String>>) -> (Filters, Vec<Problem>) {
        let mut per: BTreeMap<Category, Vec<String>> = BTreeMap::new();
        let mut problems = Vec::new();
        for (name, rules) in map {
            match Category::parse(name) {
                Some(c) => per.entry(c).or_default().extend(rules.iter().cloned()),
                None => problems.push(Problem::UnknownCategory(name.clone())),
            }
        }
        let mut sets = Vec::new();
        for (cat, rules) in per {
            let (set, rejected) = RuleSet::new(cat, &rules);
            for r in rejected {
                problems.push(Problem::Rule {
                    category: cat.as_str().to_string(),
                    rejected: r,
                });
            }
            if !set.is_empty() {
                sets.push(set);
            }
        }
        (Filters { sets }, problems)
    }

    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The rules of `cat`, if it has any.
    #[inline]
    pub fn for_category(&self, cat: Category) -> Option<&RuleSet> {
        if self.sets.is_empty() {
            return None;
        }
        self.sets.iter().find(|s| s.category == cat)
    }

    pub fn sets(&self) -> &[RuleSet] {
        &self.sets
    }

    /// Keeps the hit counts of rules that were already in `old` (same category and text).
    pub fn carry_counts(&mut self, old: &Filters) {
        for set in &mut self.sets {
            let Some(o) = old.for_category(set.category) else {
                continue;
            };
            for r in &mut set.rules {
                if let Some(or) = o.rules.iter().find(|x| x.text == r.text) {
                    r.hits = or.hits.clone();
                }
            }
        }
    }
}

/// What the agent knows of its rules besides the rules: where they came from and how their
/// updates went.
#[derive(Debug, Clone, Default)]
pub struct Status {
    pub source: Source,
    /// When the rules last changed (Unix ns; 0: never).
    pub updated_ns: i64,
    pub updates: u64,
    /// Pulls from DataWay that failed (the rules in place were kept).
    pub pull_failures: u64,
    /// When DataWay last answered a pull (Unix ns).
    pub pulled_ns: i64,
    pub last_error: Option<String>,
    /// Rules of the current set that were left out, with why.
    pub problems: Vec<String>,
}

/// The agent's rules, swapped whole while points flow (the ingest stage takes the current set
/// once per feed).
#[derive(Debug, Default)]
pub struct Current {
    filters: RwLock<Arc<Filters>>,
    status: Mutex<Status>,
}

impl Current {
    /// The rules in place.
    #[inline]
    pub fn get(&self) -> Arc<Filters> {
        self.filters
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts `f` in place of the current rules (hit counts of rules kept carry over).
    pub fn install(&self, mut f: Filters, source: Source, problems: &[Problem]) {
        let mut cur = self.filters.write().unwrap_or_else(|e| e.into_inner());
        f.carry_counts(&cur);
        *cur = Arc::new(f);
        drop(cur);
        let mut s = self.status();
        s.source = source;
        s.updated_ns = crate::clock::now_ns();
        s.updates += 1;
        s.problems = problems.iter().map(ToString::to_string).collect();
    }

    /// The status, to read or update.
    pub fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
