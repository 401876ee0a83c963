//! Diagnostics for the files a user edits (`tenants.toml`, `tenants.lock`): every problem names
//! the file, line and column and shows the offending line, rendered by `annotate-snippets`.
//!
//! Parsing keeps the position of every key and value ([`Spans`]) so that the checks that run
//! after parsing (tenant ids, address blocks, plugin settings) can point at what they reject,
//! and reports every problem of a file at once rather than the first only.

use annotate_snippets::{Level, Renderer, Snippet};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

/// The text of a file, with the name diagnostics show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it, or a description such as `built-in example`.
    pub origin: String,
    /// The whole text.
    pub text: String,
}

impl Source {
    /// The 1-based line that byte `offset` is on.
    pub fn line_of(&self, offset: usize) -> usize {
        let before = &self.text.as_bytes()[..offset.min(self.text.len())];
        before.iter().filter(|&&byte| byte == b'\n').count() + 1
    }
}

/// A marked stretch of the source with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Byte offsets into the source.
    pub span: Range<usize>,
    /// What the mark means.
    pub text: String,
}

/// One problem: a message, where it is, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, in one line.
    pub message: String,
    /// The offending stretch; `None` when the value came from a flag or the environment.
    pub primary: Option<Label>,
    /// Related places, such as the first of two duplicates.
    pub secondary: Vec<Label>,
    /// Further facts.
    pub notes: Vec<String>,
    /// What to do.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A problem with `message` and nothing else yet.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Marks `span` (when known) as the offending stretch.
    pub fn at(mut self, span: Option<Range<usize>>, label: impl Into<String>) -> Self {
        self.primary = span.map(|span| Label {
            span,
            text: label.into(),
        });
        self
    }

    /// Marks a related stretch (when known).
    pub fn also(mut self, span: Option<Range<usize>>, label: impl Into<String>) -> Self {
        if let Some(span) = span {
            self.secondary.push(Label {
                span,
                text: label.into(),
            });
        }
        self
    }

    /// Adds a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Says what to do.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// A TOML syntax or shape error, at the position the parser reports.
    fn from_toml(error: &toml::de::Error, label: &str) -> Self {
        Self::error(error.message().trim_end().to_owned()).at(error.span(), label)
    }

    fn render(&self, source: &Source) -> String {
        let mut message = Level::Error.title(&self.message);
        if let Some(primary) = &self.primary {
            let mut snippet = Snippet::source(&source.text)
                .origin(&source.origin)
                .fold(true)
                .annotation(
                    Level::Error
                        .span(clamp(&primary.span, &source.text))
                        .label(&primary.text),
                );
            for label in &self.secondary {
                snippet = snippet.annotation(
                    Level::Info
                        .span(clamp(&label.span, &source.text))
                        .label(&label.text),
                );
            }
            message = message.snippet(snippet);
        }
        message = message.footers(self.notes.iter().map(|note| Level::Note.title(note)));
        if let Some(help) = &self.help {
            message = message.footer(Level::Help.title(help));
        }
        Renderer::plain().render(message).to_string()
    }
}

/// Keeps a span inside the text, so that a span at the very end still renders.
fn clamp(span: &Range<usize>, text: &str) -> Range<usize> {
    let end = span.end.min(text.len());
    span.start.min(end)..end
}

/// Every problem found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The file.
    pub source: Source,
    /// The problems, in the order of the checks.
    pub diagnostics: Vec<Diagnostic>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.diagnostics.len();
        write!(
            f,
            "{}: {count} problem{}",
            self.source.origin,
            if count == 1 { "" } else { "s" }
        )?;
        for diagnostic in &self.diagnostics {
            write!(f, "\n\n{}", diagnostic.render(&self.source))?;
        }
        Ok(())
    }
}

/// One step of a path into a TOML document: a key of a table or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Segment {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

impl From<&str> for Segment {
    fn from(key: &str) -> Self {
        Self::Key(key.to_owned())
    }
}

impl From<&String> for Segment {
    fn from(key: &String) -> Self {
        Self::Key(key.clone())
    }
}

impl From<usize> for Segment {
    fn from(index: usize) -> Self {
        Self::Index(index)
    }
}

/// Builds a path into a TOML document: `path!["tenants", 2, "id"]`.
#[macro_export]
macro_rules! path {
    ($($segment:expr),* $(,)?) => {
        [$($crate::diagnostics::Segment::from($segment)),*]
    };
}

/// Where one key and its value are.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    /// The key's span; none for array items.
    key: Option<Range<usize>>,
    /// The value's span.
    value: Range<usize>,
}

/// Where every key and value of a TOML document is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    entries: BTreeMap<Vec<Segment>, Place>,
}

impl Spans {
    fn index(table: &toml::de::DeTable<'_>) -> Self {
        let mut spans = Self::default();
        spans.add_table(&mut Vec::new(), table);
        spans
    }

    fn add_table(&mut self, path: &mut Vec<Segment>, table: &toml::de::DeTable<'_>) {
        for (key, value) in table {
            path.push(Segment::Key(key.get_ref().to_string()));
            self.add_value(path, Some(key.span()), value);
            path.pop();
        }
    }

    fn add_value(
        &mut self,
        path: &mut Vec<Segment>,
        key: Option<Range<usize>>,
        value: &toml::Spanned<toml::de::DeValue<'_>>,
    ) {
        self.entries.insert(
            path.clone(),
            Place {
                key,
                value: value.span(),
            },
        );
        match value.get_ref() {
            toml::de::DeValue::Table(table) => self.add_table(path, table),
            toml::de::DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push(Segment::Index(index));
                    self.add_value(path, None, item);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    /// The span of the value at `path`.
    pub fn value(&self, path: &[Segment]) -> Option<Range<usize>> {
        self.entries.get(path).map(|place| place.value.clone())
    }

    /// The span of the key at `path`, or of the value for an array item.
    pub fn key(&self, path: &[Segment]) -> Option<Range<usize>> {
        self.entries
            .get(path)
            .map(|place| place.key.clone().unwrap_or_else(|| place.value.clone()))
    }
}

/// Parses `source` into `T`, reporting every syntax error, or else every unknown key together
/// with the first value of the wrong shape; keeps the position of every key and value.
pub fn parse_toml<T: DeserializeOwned>(source: &Source) -> Result<(T, Spans), Report> {
    let report = |diagnostics| Report {
        source: source.clone(),
        diagnostics,
    };
    let (root, mut errors) = toml::de::DeTable::parse_recoverable(&source.text);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.span().map(|span| span.start));
        return Err(report(
            errors
                .iter()
                .map(|e| Diagnostic::from_toml(e, "here").help("fix the TOML syntax"))
                .collect(),
        ));
    }
    let spans = Spans::index(root.get_ref());
    let mut unknown = Vec::new();
    let parsed = serde_ignored::deserialize(toml::de::Deserializer::from(root), |path| {
        unknown.push(segments(&path));
    });
    unknown.sort_by_key(|path| spans.key(path).map(|span| span.start));
    let mut diagnostics: Vec<Diagnostic> = unknown
        .iter()
        .map(|path| {
            let name = path_text(path);
            Diagnostic::error(format!("unknown key `{name}`"))
                .at(spans.key(path), "not a key of this table")
                .help("check the spelling against docs/configuration.md, or remove the key")
        })
        .collect();
    match parsed {
        Ok(value) if diagnostics.is_empty() => Ok((value, spans)),
        Ok(_) => Err(report(diagnostics)),
        Err(error) => {
            diagnostics.push(
                Diagnostic::from_toml(&error, "here")
                    .help("see docs/configuration.md for the keys and types of each table"),
            );
            Err(report(diagnostics))
        }
    }
}

fn segments(path: &serde_ignored::Path<'_>) -> Vec<Segment> {
    match path {
        serde_ignored::Path::Root => Vec::new(),
        serde_ignored::Path::Seq { parent, index } => {
            let mut segments = segments(parent);
            segments.push(Segment::Index(*index));
            segments
        }
        serde_ignored::Path::Map { parent, key } => {
            let mut segments = segments(parent);
            segments.push(Segment::Key(key.clone()));
            segments
        }
        serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => segments(parent),
    }
}

/// `tenants[2].settings`: a path as a user would write it.
pub fn path_text(path: &[Segment]) -> String {
    let mut text = String::new();
    for segment in path {
        match segment {
            Segment::Key(key) if text.is_empty() => text.push_str(key),
            Segment::Key(key) => {
                text.push('.');
                text.push_str(key);
            }
            Segment::Index(index) => text.push_str(&format!("[{index}]")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        name: String,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        size: u8,
    }

    fn source(text: &str) -> Source {
        Source {
            origin: "shape.toml".into(),
            text: text.into(),
        }
    }

    #[test]
    fn every_unknown_key_is_reported_with_its_position() {
        let report = parse_toml::<Shape>(&source("name = \"x\"\nnmae = 1\n[[items]]\nsize = 1\nsise = 2\n"))
            .unwrap_err();
        let text = report.to_string();
        assert_eq!(report.diagnostics.len(), 2, "{text}");
        assert!(text.contains("unknown key `nmae`"), "{text}");
        assert!(text.contains("shape.toml:2:1"), "{text}");
        assert!(text.contains("unknown key `items[0].sise`"), "{text}");
        assert!(text.contains("shape.toml:5:1"), "{text}");
    }

    #[test]
    fn every_syntax_error_is_reported() {
        let report = parse_toml::<Shape>(&source("name = \nother = [\n")).unwrap_err();
        assert!(report.diagnostics.len() >= 2, "{report}");
    }

    #[test]
    fn a_wrong_type_points_at_the_value() {
        let report = parse_toml::<Shape>(&source("name = \"x\"\n[[items]]\nsize = \"big\"\n")).unwrap_err();
        let text = report.to_string();
        assert!(text.contains("shape.toml:3:8"), "{text}");
    }

    #[test]
    fn spans_find_keys_and_values() {
        let (_, spans) = parse_toml::<Shape>(&source("name = \"x\"\n[[items]]\nsize = 7\n")).unwrap();
        assert_eq!(spans.key(&path!["name"]), Some(0..4));
        assert_eq!(spans.value(&path!["name"]), Some(7..10));
        assert_eq!(spans.value(&path!["items", 0, "size"]), Some(28..29));
        assert_eq!(path_text(&path!["items", 0, "size"]), "items[0].size");
    }

    #[test]
    fn offsets_map_to_lines() {
        let source = source("a\nbc\n\nd");
        let lines: Vec<usize> = (0..=source.text.len()).map(|o| source.line_of(o)).collect();
        assert_eq!(lines, [1, 1, 2, 2, 2, 3, 4, 4]);
        assert_eq!(source.line_of(100), 4, "past the end is the last line");
    }
}
