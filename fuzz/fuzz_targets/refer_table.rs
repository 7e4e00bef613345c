//! Fuzzes the reference-table reader: arbitrary bytes, read as a tables document, must give
//! tables or an error without a panic; a JSON error names a line inside the text; in every
//! table read, each cell of its first rows is found by a lookup of its column (a row holding
//! that very value comes back), and lookups with unknown columns or mismatched lists find
//! nothing.
#![no_main]

use datakit::refertable::{Cell, Key, TableError, Tables};
use libfuzzer_sys::fuzz_target;

fn key(c: &Cell) -> Key<'_> {
    match c {
        Cell::Str(s) => Key::Str(s),
        Cell::Int(i) => Key::Int(*i),
        Cell::Float(f) => Key::Float(*f),
        Cell::Bool(b) => Key::Bool(*b),
    }
}

fn same(a: &Cell, b: &Cell) -> bool {
    match (a, b) {
        (Cell::Float(x), Cell::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    match Tables::parse(data) {
        Err(TableError::Json { line, .. }) => {
            let lines = data.split(|&b| b == b'\n').count();
            assert!(line <= lines + 1, "line {line} of {lines}");
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
        }
        Ok(t) => {
            for table in t.tables() {
                for r in 0..table.rows().min(16) {
                    let row = table.row(r).expect("a row within rows()");
                    assert_eq!(row.len(), table.columns.len());
                    for (ci, cell) in row.iter().enumerate() {
                        let col = table.columns[ci].as_str();
                        let found = t
                            .query(&table.name, &[col], &[key(cell)])
                            .expect("a cell's own value is found");
                        assert!(same(found[ci].1, cell), "{col}: {:?} for {cell:?}", found[ci].1);
                    }
                }
                assert!(t.query(&table.name, &[], &[]).is_none());
                let unknown = "\u{0}no such column";
                if !table.columns.iter().any(|c| c == unknown) {
                    assert!(t.query(&table.name, &[unknown], &[Key::Int(0)]).is_none());
                }
                if let Some(c) = table.columns.first() {
                    assert!(t.query(&table.name, &[c.as_str()], &[]).is_none());
                }
            }
        }
    }
});
