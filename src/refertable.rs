//! Reference tables: rows that Pipeline scripts look up with `query_refer_table()` and
//! `mquery_refer_table()` to enrich points (an IP's owner, a user id's team, ...).
//!
//! The tables come as the original agent takes them: one JSON document, a list of tables,
//!
//! ```json
//! [{"table_name": "users",
//!   "column_name": ["id", "name", "vip"],
//!   "column_type": ["int", "string", "bool"],
//!   "row_data": [[1, "ann", true], [2, "bob", false]]}]
//! ```
//!
//! Column types are `string`, `int`, `float` and `bool`; each cell is converted to its column's
//! type as the original converts it (`"12"` to an int, `12.7` to int 12, `1` to `true`, a
//! number to its shortest decimal string), and a cell that does not convert rejects the whole
//! document with where it is, as do two columns of one name (the original accepts them and
//! answers lookups of that name ambiguously). A document replaces every table at once; a bad one changes
//! nothing. Of two tables with one name, the first is kept.
//!
//! A lookup compares typed values: the string `"1"` does not find the int `1`, nor the int `1`
//! the float `1.0` (the original's rule). It returns the first row, in document order, whose
//! columns hold all the values asked for. Each column is indexed by a hash of its cells, so a
//! lookup costs the rows of the rarest value asked for, not the table.
//!
//! The agent keeps one set of tables, [`current`], swapped whole by its loader
//! (`ingest::refer`) and read by the scripts on every lookup.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use serde::Deserialize;

/// A cell of a table, of its column's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Str(Box<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// A value to look up: what a script holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Key<'a> {
    Str(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Cell {
    fn matches(&self, k: Key<'_>) -> bool {
        match (self, k) {
            (Cell::Str(a), Key::Str(b)) => &**a == b,
            (Cell::Int(a), Key::Int(b)) => *a == b,
            // Bit equality, as a map keyed by the value compares floats (NaN finds NaN).
            (Cell::Float(a), Key::Float(b)) => a.to_bits() == b.to_bits(),
            (Cell::Bool(a), Key::Bool(b)) => *a == b,
            _ => false,
        }
    }

    fn key(&self) -> Key<'_> {
        match self {
            Cell::Str(s) => Key::Str(s),
            Cell::Int(i) => Key::Int(*i),
            Cell::Float(f) => Key::Float(*f),
            Cell::Bool(b) => Key::Bool(*b),
        }
    }
}

/// The type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Str,
    Int,
    Float,
    Bool,
}

impl ColumnType {
    fn parse(s: &str) -> Option<ColumnType> {
        Some(match s {
            "string" => ColumnType::Str,
            "int" => ColumnType::Int,
            "float" => ColumnType::Float,
            "bool" => ColumnType::Bool,
            _ => return None,
        })
    }
}

static HASHER: LazyLock<std::collections::hash_map::RandomState> =
    LazyLock::new(std::collections::hash_map::RandomState::new);

fn hash_key(k: Key<'_>) -> u64 {
    let mut h = HASHER.build_hasher();
    match k {
        Key::Str(s) => {
            0u8.hash(&mut h);
            s.hash(&mut h);
        }
        Key::Int(i) => {
            1u8.hash(&mut h);
            i.hash(&mut h);
        }
        Key::Float(f) => {
            2u8.hash(&mut h);
            f.to_bits().hash(&mut h);
        }
        Key::Bool(b) => {
            3u8.hash(&mut h);
            b.hash(&mut h);
        }
    }
    h.finish()
}

/// One table: its columns, its rows, and per column the rows of each cell's hash (ascending).
#[derive(Debug)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    pub types: Vec<ColumnType>,
    rows: Vec<Box<[Cell]>>,
    index: Vec<HashMap<u64, Vec<u32>>>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// Row `i` (in document order).
    pub fn row(&self, i: usize) -> Option<&[Cell]> {
        self.rows.get(i).map(|r| &r[..])
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// The first row whose columns `cols` hold `values` (as many of each); `None` when a
    /// column is unknown or no row matches.
    pub fn find(&self, cols: &[&str], values: &[Key<'_>]) -> Option<&[Cell]> {
        if cols.len() != values.len() || cols.is_empty() {
            return None;
        }
        let mut wanted = Vec::with_capacity(cols.len());
        let mut rarest: Option<&Vec<u32>> = None;
        for (c, v) in cols.iter().zip(values) {
            let ci = self.column(c)?;
            let rows = self.index[ci].get(&hash_key(*v))?;
            if rarest.is_none_or(|r| rows.len() < r.len()) {
                rarest = Some(rows);
            }
            wanted.push((ci, *v));
        }
        rarest?.iter().find_map(|&r| {
            let row = self.rows.get(r as usize)?;
            wanted
                .iter()
                .all(|&(ci, v)| row.get(ci).is_some_and(|c| c.matches(v)))
                .then_some(&row[..])
        })
    }

    fn build(
        name: String,
        columns: Vec<String>,
        types: Vec<ColumnType>,
        rows: Vec<Box<[Cell]>>,
    ) -> Table {
        let mut index: Vec<HashMap<u64, Vec<u32>>> = vec![HashMap::new(); columns.len()];
        for (ri, row) in rows.iter().enumerate() {
            for (ci, cell) in row.iter().enumerate() {
                index[ci]
                    .entry(hash_key(cell.key()))
                    .or_default()
                    .push(ri as u32);
            }
        }
        Table {
            name,
            columns,
            types,
            rows,
            index,
        }
    }
}

/// A set of tables, by name.
#[derive(Debug, Default)]
pub struct Tables {
    tables: Vec<Table>,
}

impl Tables {
    pub fn get(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn tables(&self) -> &[Table] {
        &self.tables
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// The first row of table `name` with `values` in `cols`, as (column, cell) pairs.
    pub fn query(
        &self,
        name: &str,
        cols: &[&str],
        values: &[Key<'_>],
    ) -> Option<Vec<(&str, &Cell)>> {
        let t = self.get(name)?;
        let row = t.find(cols, values)?;
        Some(
            t.columns
                .iter()
                .map(String::as_str)
                .zip(row.iter())
                .collect(),
        )
    }

    /// Reads a document of tables (see the module's documentation).
    pub fn parse(body: &[u8]) -> Result<Tables, TableError> {
        let raw: Vec<RawTable> = serde_json::from_slice(body).map_err(|e| TableError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let mut tables: Vec<Table> = Vec::with_capacity(raw.len());
        for (ti, t) in raw.into_iter().enumerate() {
            let table = convert(ti, t)?;
            if tables.iter().all(|x| x.name != table.name) {
                tables.push(table);
            }
        }
        Ok(Tables { tables })
    }
}

#[derive(Deserialize)]
struct RawTable {
    #[serde(default)]
    table_name: String,
    #[serde(default)]
    column_name: Vec<String>,
    #[serde(default)]
    column_type: Vec<String>,
    #[serde(default)]
    row_data: Vec<Vec<serde_json::Value>>,
}

/// Why a document of tables was refused (the tables in place are kept).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TableError {
    #[error("not a list of tables: line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("table #{index}: no table_name")]
    NoName { index: usize },
    #[error("table {table:?}: {names} column_name(s) but {types} column_type(s)")]
    ColumnCount {
        table: String,
        names: usize,
        types: usize,
    },
    #[error("table {table:?}: column #{column} has an empty name")]
    EmptyColumn { table: String, column: usize },
    #[error("table {table:?}: column {name:?} appears twice (#{first} and #{second})")]
    DuplicateColumn {
        table: String,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("table {table:?}: column {column:?} has type {ty:?} (one of string, int, float, bool)")]
    ColumnType {
        table: String,
        column: String,
        ty: String,
    },
    #[error("table {table:?}: row #{row} has {cells} cell(s), the table {columns} column(s)")]
    RowLength {
        table: String,
        row: usize,
        cells: usize,
        columns: usize,
    },
    #[error("table {table:?}: row #{row}, column {column:?}: {value} is not a {ty}")]
    Cell {
        table: String,
        row: usize,
        column: String,
        value: String,
        ty: &'static str,
    },
}

fn convert(index: usize, t: RawTable) -> Result<Table, TableError> {
    if t.table_name.is_empty() {
        return Err(TableError::NoName { index });
    }
    let name = t.table_name;
    if t.column_name.len() != t.column_type.len() {
        return Err(TableError::ColumnCount {
            table: name,
            names: t.column_name.len(),
            types: t.column_type.len(),
        });
    }
    if let Some(i) = t.column_name.iter().position(String::is_empty) {
        return Err(TableError::EmptyColumn {
            table: name,
            column: i,
        });
    }
    // Two columns of one name would make a lookup by that name ambiguous (the original merges
    // their values into one index and answers with the first): refused.
    for (i, c) in t.column_name.iter().enumerate() {
        if let Some(j) = t.column_name[..i].iter().position(|x| x == c) {
            return Err(TableError::DuplicateColumn {
                table: name,
                name: c.clone(),
                first: j,
                second: i,
            });
        }
    }
    let mut types = Vec::with_capacity(t.column_type.len());
    for (c, ty) in t.column_name.iter().zip(&t.column_type) {
        match ColumnType::parse(ty) {
            Some(x) => types.push(x),
            None => {
                return Err(TableError::ColumnType {
                    table: name,
                    column: c.clone(),
                    ty: ty.clone(),
                });
            }
        }
    }
    let mut rows = Vec::with_capacity(t.row_data.len());
    for (ri, row) in t.row_data.into_iter().enumerate() {
        if row.len() != types.len() {
            return Err(TableError::RowLength {
                table: name,
                row: ri,
                cells: row.len(),
                columns: types.len(),
            });
        }
        let mut cells = Vec::with_capacity(row.len());
        for (ci, v) in row.into_iter().enumerate() {
            match cast(&v, types[ci]) {
                Some(c) => cells.push(c),
                None => {
                    let mut value = v.to_string();
                    if value.len() > 80 {
                        let mut end = 80;
                        while !value.is_char_boundary(end) {
                            end -= 1;
                        }
                        value.truncate(end);
                        value.push('…');
                    }
                    return Err(TableError::Cell {
                        table: name,
                        row: ri,
                        column: t.column_name[ci].clone(),
                        value,
                        ty: match types[ci] {
                            ColumnType::Str => "string",
                            ColumnType::Int => "int",
                            ColumnType::Float => "float",
                            ColumnType::Bool => "bool",
                        },
                    });
                }
            }
        }
        rows.push(cells.into_boxed_slice());
    }
    Ok(Table::build(name, t.column_name, types, rows))
}

/// A JSON cell as the column's type, with the original's conversions (JSON numbers are
/// floats there; `null` is the type's zero).
fn cast(v: &serde_json::Value, ty: ColumnType) -> Option<Cell> {
    use serde_json::Value as J;
    Some(match ty {
        ColumnType::Str => Cell::Str(
            match v {
                J::String(s) => s.clone(),
                J::Number(n) => match n.as_f64() {
                    Some(f) => shortest_float(f),
                    None => n.to_string(),
                },
                J::Bool(b) => b.to_string(),
                J::Null => String::new(),
                _ => return None,
            }
            .into_boxed_str(),
        ),
        ColumnType::Int => Cell::Int(match v {
            J::Number(n) => match n.as_i64() {
                Some(i) => i,
                None => {
                    let f = n.as_f64()?;
                    if !f.is_finite() || f.abs() >= 9.3e18 {
                        return None;
                    }
                    f.trunc() as i64
                }
            },
            J::String(s) => parse_int(s)?,
            J::Bool(b) => i64::from(*b),
            J::Null => 0,
            _ => return None,
        }),
        ColumnType::Float => Cell::Float(match v {
            J::Number(n) => n.as_f64()?,
            J::String(s) => s.trim().parse().ok()?,
            J::Bool(b) => f64::from(u8::from(*b)),
            J::Null => 0.0,
            _ => return None,
        }),
        ColumnType::Bool => Cell::Bool(match v {
            J::Bool(b) => *b,
            J::Number(n) => n.as_f64()? != 0.0,
            J::String(s) => match s.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => true,
                "0" | "f" | "F" | "false" | "FALSE" | "False" => false,
                _ => return None,
            },
            J::Null => false,
            _ => return None,
        }),
    })
}

/// A float as Go's `FormatFloat(f, 'f', -1, 64)` writes it: the shortest digits that read
/// back, never an exponent.
fn shortest_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's Display for f64 is the shortest round-trip form without an exponent.
    format!("{f}")
}

/// An integer in a string, as Go's `ParseInt(s, 0, 64)` after a zero decimal part is cut
/// (`"12.0"` reads as 12): base prefixes `0x`, `0o`, `0b` and a leading `0` for octal, `_`
/// between digits with a prefix.
fn parse_int(s: &str) -> Option<i64> {
    let s = match s.find('.') {
        Some(dot) if s[dot + 1..].bytes().all(|b| b == b'0') => &s[..dot],
        _ => s,
    };
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) =
        if let Some(r) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, r)
        } else if let Some(r) = body.strip_prefix("0o").or_else(|| body.strip_prefix("0O")) {
            (8, r)
        } else if let Some(r) = body.strip_prefix("0b").or_else(|| body.strip_prefix("0B")) {
            (2, r)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    let digits: String = if radix == 10 {
        digits.to_string()
    } else {
        // Underscores only between digits, as Go allows them with a base prefix.
        if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
            return None;
        }
        digits.replace('_', "")
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mag = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        if mag <= i64::MAX as u64 + 1 {
            Some((mag as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Where the tables are read from (`[pipeline] refer_table_url`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Http(String),
    File(PathBuf),
}

/// Reads `refer_table_url`: `http(s)://…`, `file:///…` or an absolute path.
pub fn source(url: &str) -> Result<Source, String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("`{url}` has no host"));
        }
        return Ok(Source::Http(url.to_string()));
    }
    if lower.starts_with("file://") {
        let path = &url["file://".len()..];
        if !path.starts_with('/') {
            return Err(format!(
                "`{url}`: a file URL takes an absolute path (file:///path/to/tables.json)"
            ));
        }
        return Ok(Source::File(PathBuf::from(path)));
    }
    if url.starts_with('/') {
        return Ok(Source::File(PathBuf::from(url)));
    }
    Err(format!(
        "`{url}` is neither an http(s):// URL, a file:/// URL nor an absolute path"
    ))
}

/// Where the tables come from and how their loading goes, for `datakit monitor`.
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The source (`refer_table_url`), empty when none is configured.
    pub url: String,
    /// When the tables last changed (Unix ns; 0: never).
    pub updated_ns: i64,
    /// When the source last answered (Unix ns; 0: never).
    pub pulled_ns: i64,
    pub pulls: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    /// Whether the tables in place came from the saved copy of an earlier run.
    pub from_cache: bool,
}

/// The agent's tables and their loading status.
#[derive(Debug, Default)]
pub struct Current {
    tables: RwLock<Arc<Tables>>,
    status: Mutex<Status>,
}

impl Current {
    /// The tables in place.
    #[inline]
    pub fn get(&self) -> Arc<Tables> {
        self.tables
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Puts `t` in place of the tables.
    pub fn install(&self, t: Tables) {
        *self.tables.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(t);
        self.status().updated_ns = crate::clock::now_ns();
    }

    pub fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The process's reference tables (one set per agent, as in the original).
pub fn current() -> &'static Current {
    static CURRENT: LazyLock<Current> = LazyLock::new(Current::default);
    &CURRENT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_urls_or_absolute_paths() {
        assert_eq!(
            source("http://h:8080/t.json"),
            Ok(Source::Http("http://h:8080/t.json".into()))
        );
        assert!(matches!(source("HTTPS://h/t"), Ok(Source::Http(_))));
        assert_eq!(
            source("file:///etc/t.json"),
            Ok(Source::File("/etc/t.json".into()))
        );
        assert_eq!(
            source("/etc/t.json"),
            Ok(Source::File("/etc/t.json".into()))
        );
        assert!(source("file://t.json").is_err());
        assert!(source("ftp://h/t").is_err());
        assert!(source("t.json").is_err());
        assert!(source("http:///t").is_err());
    }

    const DOC: &str = r#"[
      {"table_name": "users",
       "column_name": ["id", "name", "vip", "score"],
       "column_type": ["int", "string", "bool", "float"],
       "row_data": [[1, "ann", true, 1.5], [2, "bob", false, 2], ["3", 7, "t", "2.5"],
                    [2, "bob2", true, 0]]},
      {"table_name": "users", "column_name": ["x"], "column_type": ["int"], "row_data": [[9]]},
      {"table_name": "empty", "column_name": ["a"], "column_type": ["string"], "row_data": []}
    ]"#;

    #[test]
    fn lookups_find_the_first_row_with_every_value() {
        let t = Tables::parse(DOC.as_bytes()).unwrap();
        assert_eq!(t.tables().len(), 2, "the second `users` is left out");
        let row = t.query("users", &["id"], &[Key::Int(2)]).unwrap();
        assert_eq!(
            row,
            vec![
                ("id", &Cell::Int(2)),
                ("name", &Cell::Str("bob".into())),
                ("vip", &Cell::Bool(false)),
                ("score", &Cell::Float(2.0)),
            ]
        );
        let row = t
            .query("users", &["id", "vip"], &[Key::Int(2), Key::Bool(true)])
            .unwrap();
        assert_eq!(row[1].1, &Cell::Str("bob2".into()));
        // Converted cells: "3" → 3, 7 → "7", "t" → true, "2.5" → 2.5.
        let row = t.query("users", &["name"], &[Key::Str("7")]).unwrap();
        assert_eq!(row[0].1, &Cell::Int(3));
        assert_eq!(row[2].1, &Cell::Bool(true));
        assert_eq!(row[3].1, &Cell::Float(2.5));
    }

    #[test]
    fn lookups_compare_types_and_miss_cleanly() {
        let t = Tables::parse(DOC.as_bytes()).unwrap();
        assert!(t.query("users", &["id"], &[Key::Str("1")]).is_none());
        assert!(t.query("users", &["id"], &[Key::Float(1.0)]).is_none());
        assert!(t.query("users", &["score"], &[Key::Float(1.5)]).is_some());
        assert!(t.query("users", &["nope"], &[Key::Int(1)]).is_none());
        assert!(t.query("nope", &["id"], &[Key::Int(1)]).is_none());
        assert!(t.query("users", &["id", "name"], &[Key::Int(1)]).is_none());
        assert!(t.query("users", &[], &[]).is_none());
        assert!(t.query("empty", &["a"], &[Key::Str("")]).is_none());
        assert!(
            t.query("users", &["id", "name"], &[Key::Int(1), Key::Str("bob")])
                .is_none()
        );
    }

    #[test]
    fn bad_documents_say_where() {
        let e = Tables::parse(b"[{\"table_name\": \"t\",\n \"row_data\": [[1,]]}]").unwrap_err();
        assert!(matches!(e, TableError::Json { line: 2, .. }), "{e}");
        let e = Tables::parse(br#"[{"table_name":"t","column_name":["a"],"column_type":["int"],"row_data":[[1],["x"]]}]"#)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"table "t": row #1, column "a": "x" is not a int"#
        );
        let e = Tables::parse(
            br#"[{"table_name":"t","column_name":["a"],"column_type":["INT"],"row_data":[]}]"#,
        )
        .unwrap_err();
        assert!(matches!(e, TableError::ColumnType { .. }), "{e}");
        let e = Tables::parse(br#"[{"table_name":"t","column_name":["a","b"],"column_type":["int","int"],"row_data":[[1]]}]"#)
            .unwrap_err();
        assert!(
            matches!(
                e,
                TableError::RowLength {
                    row: 0,
                    cells: 1,
                    ..
                }
            ),
            "{e}"
        );
        let e = Tables::parse(br#"[{"column_name":[],"column_type":[]}]"#).unwrap_err();
        assert_eq!(e, TableError::NoName { index: 0 });
        let e = Tables::parse(
            br#"[{"table_name":"t","column_name":["a",""],"column_type":["int","int"]}]"#,
        )
        .unwrap_err();
        assert!(
            matches!(e, TableError::EmptyColumn { column: 1, .. }),
            "{e}"
        );
        let e = Tables::parse(br#"[{"table_name":"t","column_name":["a"],"column_type":[]}]"#)
            .unwrap_err();
        assert!(matches!(e, TableError::ColumnCount { .. }), "{e}");
        let e = Tables::parse(
            br#"[{"table_name":"t","column_name":["a"],"column_type":["int"],"row_data":[[[1]]]}]"#,
        )
        .unwrap_err();
        assert!(matches!(e, TableError::Cell { .. }), "{e}");
    }

    #[test]
    fn duplicate_column_names_are_refused() {
        // Found by the fuzz target: a cell of the second `c` was not found by column `c`.
        let e = Tables::parse(
            br#"[{"table_name":"t","column_name":["a","c","c"],"column_type":["int","float","bool"],"row_data":[[1,1.5,true]]}]"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"table "t": column "c" appears twice (#1 and #2)"#
        );
    }

    #[test]
    fn cells_convert_as_the_original_casts_them() {
        assert_eq!(parse_int("0x1f"), Some(31));
        assert_eq!(parse_int("017"), Some(15));
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_int("12.00"), Some(12));
        assert_eq!(parse_int("12.5"), None);
        assert_eq!(parse_int("0b1_01"), Some(5));
        assert_eq!(parse_int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_int("9223372036854775808"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("0"), Some(0));
        let c = |v: serde_json::Value, t| cast(&v, t);
        use serde_json::json;
        assert_eq!(c(json!(12.7), ColumnType::Int), Some(Cell::Int(12)));
        assert_eq!(c(json!(-12.7), ColumnType::Int), Some(Cell::Int(-12)));
        assert_eq!(c(json!(1e300), ColumnType::Int), None);
        assert_eq!(c(json!(true), ColumnType::Int), Some(Cell::Int(1)));
        assert_eq!(c(json!(null), ColumnType::Int), Some(Cell::Int(0)));
        assert_eq!(
            c(json!(1234.0), ColumnType::Str),
            Some(Cell::Str("1234".into()))
        );
        assert_eq!(
            c(json!(0.1), ColumnType::Str),
            Some(Cell::Str("0.1".into()))
        );
        assert_eq!(c(json!(2), ColumnType::Bool), Some(Cell::Bool(true)));
        assert_eq!(c(json!("yes"), ColumnType::Bool), None);
        assert_eq!(c(json!(" 2.5 "), ColumnType::Float), Some(Cell::Float(2.5)));
        assert_eq!(c(json!({}), ColumnType::Str), None);
    }

    #[test]
    fn a_big_table_is_searched_by_its_index() {
        let rows: Vec<String> = (0..20_000)
            .map(|i| format!("[{i}, \"n{}\"]", i % 7))
            .collect();
        let doc = format!(
            r#"[{{"table_name":"big","column_name":["id","g"],"column_type":["int","string"],"row_data":[{}]}}]"#,
            rows.join(",")
        );
        let t = Tables::parse(doc.as_bytes()).unwrap();
        assert_eq!(t.get("big").unwrap().rows(), 20_000);
        let row = t
            .query("big", &["g", "id"], &[Key::Str("n3"), Key::Int(19_995)])
            .unwrap();
        assert_eq!(row[0].1, &Cell::Int(19_995));
        assert_eq!(
            t.query("big", &["g"], &[Key::Str("n5")]).unwrap()[0].1,
            &Cell::Int(5)
        );
    }
}
