//! Text tables fitted to a terminal width without breaking words: every column is at least as
//! wide as its longest word, so a cell wraps only between words. When the columns do not fit
//! that way, the ones the caller ranks least needed are left out (and named), so a narrow
//! terminal shows fewer columns rather than columns chopped into syllables. A single word too
//! long for any column (a URL, a path) is the only thing still cut.

use comfy_table::{Attribute, Cell, ColumnConstraint, ContentArrangement, Table, Width, presets};

/// A column: its header and how much it is needed (0: always shown; higher: dropped first).
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    pub header: &'a str,
    pub drop_rank: u8,
}

impl<'a> Col<'a> {
    /// A column shown whatever the width.
    pub const fn keep(header: &'a str) -> Self {
        Col {
            header,
            drop_rank: 0,
        }
    }

    /// A column left out when the table does not fit; higher ranks go first.
    pub const fn optional(header: &'a str, drop_rank: u8) -> Self {
        Col { header, drop_rank }
    }
}

/// How to draw.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub width: u16,
    pub color: bool,
}

/// A table laid out for a width, and the headers of the columns left out.
pub struct Fitted {
    pub table: Table,
    pub left_out: Vec<String>,
    /// Even the columns always shown did not fit at the width of their longest words: the
    /// widest columns but the first were narrowed, so some long words are cut. A caller with a
    /// better layout for narrow terminals (a list) uses it instead.
    pub overflow: bool,
}

impl std::fmt::Display for Fitted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.table.fmt(f)
    }
}

/// Characters of the longest word (split at whitespace) of `s`.
fn longest_word(s: &str) -> usize {
    s.split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0)
}

/// Border and padding per column (`│ x `) and the closing border.
const PER_COLUMN: usize = 3;

/// Lays `rows` out under `cols` for `st.width`. Rows shorter than `cols` are padded with empty
/// cells. `header: false` draws no header row (a key/value table).
pub fn fit(st: Style, cols: &[Col<'_>], rows: Vec<Vec<Cell>>, header: bool) -> Fitted {
    let width = usize::from(st.width.max(20));
    // No column needs more than this to avoid a broken word; a longer word is cut.
    let cap = (width / 2).max(12);
    let mut need: Vec<usize> = cols
        .iter()
        .map(|c| if header { longest_word(c.header) } else { 0 })
        .collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(cols.len()) {
            need[i] = need[i].max(longest_word(&cell.content()));
        }
    }
    for n in &mut need {
        *n = (*n).clamp(1, cap);
    }
    // The width each column has without wrapping at all (long text capped: it wraps anyway).
    let mut natural: Vec<usize> = cols
        .iter()
        .map(|c| if header { c.header.chars().count() } else { 0 })
        .collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(cols.len()) {
            let longest = cell
                .content()
                .lines()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0);
            natural[i] = natural[i].max(longest);
        }
    }
    for (n, w) in natural.iter_mut().zip(&need) {
        *n = (*n).clamp(*w, cap.max(*w));
    }
    // Columns in the order they are dropped: highest rank first, the rightmost of a rank first.
    let mut shown = vec![true; cols.len()];
    fn total(shown: &[bool], need: &[usize]) -> usize {
        1 + shown
            .iter()
            .zip(need)
            .filter(|(s, _)| **s)
            .map(|(_, n)| n + PER_COLUMN)
            .sum::<usize>()
    }
    let mut order: Vec<usize> = (0..cols.len()).filter(|&i| cols[i].drop_rank > 0).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(cols[i].drop_rank), std::cmp::Reverse(i)));
    // First, rows on one line each: leave out columns until nothing wraps. If that cannot be
    // had, only until no word is cut.
    for widths in [&natural, &need] {
        shown.fill(true);
        for &i in &order {
            if total(&shown, widths) <= width {
                break;
            }
            shown[i] = false;
        }
        if total(&shown, widths) <= width {
            break;
        }
    }
    // Still too wide: narrow the widest column other than the first (which names the row)
    // until the table fits, down to 8 characters.
    let overflow = total(&shown, &need) > width;
    while total(&shown, &need) > width {
        let Some(i) = (1..cols.len())
            .filter(|&i| shown[i] && need[i] > 8)
            .max_by_key(|&i| need[i])
        else {
            break;
        };
        let excess = total(&shown, &need) - width;
        need[i] = need[i].saturating_sub(excess).max(8);
    }

    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(st.width);
    if st.color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    let keep = |i: usize| shown[i];
    if header {
        t.set_header(
            cols.iter()
                .enumerate()
                .filter(|(i, _)| keep(*i))
                .map(|(_, c)| {
                    let cell = Cell::new(c.header);
                    if st.color {
                        cell.add_attribute(Attribute::Bold)
                    } else {
                        cell
                    }
                }),
        );
    }
    for row in rows {
        let mut cells: Vec<Cell> = row
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i < cols.len() && keep(*i))
            .map(|(_, c)| c)
            .collect();
        let want = shown.iter().filter(|s| **s).count();
        while cells.len() < want {
            cells.push(Cell::new(""));
        }
        t.add_row(cells);
    }
    // Each shown column at least as wide as its longest word (padding is outside the width).
    let widths: Vec<usize> = (0..cols.len())
        .filter(|&i| keep(i))
        .map(|i| need[i])
        .collect();
    for (j, n) in widths.into_iter().enumerate() {
        if let Some(c) = t.column_mut(j) {
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(
                u16::try_from(n + 2).unwrap_or(u16::MAX),
            )));
        }
    }
    let left_out = cols
        .iter()
        .enumerate()
        .filter(|(i, _)| !keep(*i))
        .map(|(_, c)| c.header.to_string())
        .collect();
    Fitted {
        table: t,
        left_out,
        overflow,
    }
}

/// `text` wrapped at spaces into lines of at most `width` characters (a longer word gets a
/// line of its own, whole).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let n = line.chars().count();
        if n > 0 && n + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(width: u16, cols: &[Col<'_>], rows: &[&[&str]]) -> (String, Vec<String>) {
        let rows = rows
            .iter()
            .map(|r| r.iter().map(|s| Cell::new(*s)).collect())
            .collect();
        let f = fit(
            Style {
                width,
                color: false,
            },
            cols,
            rows,
            true,
        );
        (f.to_string(), f.left_out)
    }

    #[test]
    fn words_are_never_cut_and_the_width_is_kept() {
        let cols = [
            Col::keep("Key"),
            Col::keep("Environment"),
            Col::keep("Description"),
        ];
        let rows: &[&[&str]] = &[&[
            "default_enabled_inputs",
            "ENV_DEFAULT_ENABLED_INPUTS, ENV_ENABLE_INPUTS",
            "Inputs started with their default configuration unless a file in conf.d \
             configures them.",
        ]];
        for width in [80u16, 100] {
            let (text, left_out) = render(width, &cols, rows);
            assert!(left_out.is_empty());
            for word in ["default_enabled_inputs", "ENV_DEFAULT_ENABLED_INPUTS,"] {
                assert!(text.contains(word), "{width}: {word} cut:\n{text}");
            }
            for line in text.lines() {
                assert!(line.chars().count() <= width as usize, "{width}: {line}");
            }
        }
    }

    #[test]
    fn too_wide_tables_still_fit_and_say_so() {
        let cols = [Col::keep("Name"), Col::keep("Value"), Col::keep("Note")];
        let rows: &[&[&str]] = &[&[
            "a_rather_long_name",
            "a_value_much_too_long_to_fit_anywhere_at_all",
            "words",
        ]];
        let rows_cells = rows
            .iter()
            .map(|r| r.iter().map(|s| Cell::new(*s)).collect())
            .collect();
        let f = fit(
            Style {
                width: 42,
                color: false,
            },
            &cols,
            rows_cells,
            true,
        );
        assert!(f.overflow);
        let text = f.to_string();
        assert!(text.contains("a_rather_long_name"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 42), "{text}");
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("a_very_long_word x", 5), ["a_very_long_word", "x"]);
    }

    #[test]
    fn the_least_needed_columns_go_first() {
        let cols = [
            Col::keep("Input"),
            Col::optional("Cat", 2),
            Col::keep("State"),
            Col::optional("Pts/col", 3),
            Col::optional("Interval", 1),
        ];
        let rows: &[&[&str]] = &[&["v1-write.myapplication", "M", "restarting", "12.3k", "10s"]];
        // Needed: 1 + 25 + 6 + 13 + 10 + 11 = 66 columns; without Pts/col 56, without Cat 50.
        let (text, left_out) = render(52, &cols, rows);
        assert_eq!(left_out, ["Cat", "Pts/col"], "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 52), "{text}");
        assert!(text.contains("v1-write.myapplication") && text.contains("restarting"));
        let (_, left_out) = render(120, &cols, rows);
        assert!(left_out.is_empty());
    }
}
