//! Diagnostics: what is wrong, where (`file:line:col`), the offending text, and a hint. Used
//! by the config loader and the Pipeline compiler alike, so both render problems one way.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A position in a config file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The whole source line the position is on (without its newline).
    pub line_text: String,
    /// The highlighted byte range within `line_text`.
    #[serde(skip)]
    pub highlight: Range<usize>,
}

impl Location {
    /// The location of byte range `span` of `source`, read from `file`.
    pub fn from_span(file: &Path, source: &str, span: Range<usize>) -> Location {
        let start = span.start.min(source.len());
        let start = floor_char_boundary(source, start);
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let mut line_text = &source[line_start..line_end];
        if let Some(stripped) = line_text.strip_suffix('\r') {
            line_text = stripped;
        }
        let end = span.end.clamp(start, line_start + line_text.len());
        let end = floor_char_boundary(source, end);
        let mut highlight = (start - line_start)..(end - line_start);
        if highlight.is_empty() && highlight.start < line_text.len() {
            // Point at one character at least.
            let ch = line_text[highlight.start..]
                .chars()
                .next()
                .map_or(1, char::len_utf8);
            highlight.end = highlight.start + ch;
        }
        Location {
            file: file.to_path_buf(),
            line,
            column,
            line_text: line_text.to_string(),
            highlight,
        }
    }

    /// The highlighted text.
    pub fn text(&self) -> &str {
        self.line_text.get(self.highlight.clone()).unwrap_or("")
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One finding about the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Where in a file; `None` for findings about the environment or a missing file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The file the finding is about when there is no precise location.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            location: None,
            file: None,
            help: None,
        }
    }

    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    pub fn at(mut self, loc: Location) -> Self {
        self.file = Some(loc.file.clone());
        self.location = Some(loc);
        self
    }

    pub fn in_file(mut self, file: &Path) -> Self {
        self.file = Some(file.to_path_buf());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders the finding like rustc does: header, `--> file:line:col`, the source line with a
    /// caret under the offending text, and the hint.
    pub fn render(&self, color: bool) -> String {
        use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
        };
        let mut groups = Vec::new();
        let path_str;
        match &self.location {
            Some(loc) => {
                path_str = loc.file.display().to_string();
                groups.push(
                    level.primary_title(&self.message).element(
                        Snippet::source(&loc.line_text)
                            .line_start(loc.line)
                            .path(&path_str)
                            .annotation(AnnotationKind::Primary.span(loc.highlight.clone())),
                    ),
                );
            }
            None => {
                let title = match &self.file {
                    Some(f) => format!("{}: {}", f.display(), self.message),
                    None => self.message.clone(),
                };
                groups.push(Group::with_title(level.primary_title(title)));
            }
        }
        if let Some(help) = &self.help {
            groups.push(Group::with_title(
                Level::HELP.secondary_title(help.as_str()),
            ));
        }
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        renderer.render(&groups)
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `file:line:col: severity: message (help)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.location, &self.file) {
            (Some(l), _) => write!(f, "{}:{}:{}: ", l.file.display(), l.line, l.column)?,
            (None, Some(p)) => write!(f, "{}: ", p.display())?,
            _ => {}
        }
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_count_lines_and_char_columns() {
        let src = "a = 1\nnamé = \"x\"\r\nb = 2";
        let at = src.find("\"x\"").unwrap();
        let loc = Location::from_span(Path::new("f.conf"), src, at..at + 3);
        assert_eq!((loc.line, loc.column), (2, 8));
        assert_eq!(loc.line_text, "namé = \"x\"");
        assert_eq!(loc.text(), "\"x\"");
        let loc = Location::from_span(Path::new("f.conf"), src, src.len()..src.len());
        assert_eq!((loc.line, loc.column), (3, 6));
    }

    #[test]
    fn renders_file_line_col_and_caret() {
        let src = "[io]\nmax_cache_count = \"x\"\n";
        let at = src.find("\"x\"").unwrap();
        let d = Diagnostic::error("wrong type")
            .at(Location::from_span(
                Path::new("conf.d/datakit.conf"),
                src,
                at..at + 3,
            ))
            .with_help("use an integer");
        let out = d.render(false);
        assert!(out.contains("conf.d/datakit.conf:2:19"), "{out}");
        assert!(out.contains("max_cache_count = \"x\""), "{out}");
        assert!(out.contains("^^^"), "{out}");
        assert!(out.contains("help: use an integer"), "{out}");
        assert_eq!(
            d.to_string(),
            "conf.d/datakit.conf:2:19: error: wrong type (use an integer)"
        );
    }
}
