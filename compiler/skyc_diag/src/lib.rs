//! Diagnostics for skyc: one [`Diagnostic`] type for every stage, stable codes with their
//! documentation ([`codes`]), and renderers that turn diagnostics into text ([`render`]).
//!
//! Architecture invariant: this crate never prints. Renderers return strings; the CLI writes them.

pub mod codes;
pub mod render;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use codes::CodeInfo;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a command.
    Note,
    /// Worth fixing; does not fail `render`.
    Warning,
    /// Fails the command: nothing is rendered.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// A range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    /// The file as the user names it: relative to the project root, or `@stdlib//x.sky`.
    pub file: String,
    /// Byte offsets into the file's text.
    pub begin: usize,
    pub end: usize,
    pub start: LineCol,
    #[serde(rename = "end_position")]
    pub end_pos: LineCol,
}

impl Span {
    /// Computes a span from byte offsets into `text`.
    pub fn from_offsets(file: impl Into<String>, text: &str, begin: usize, end: usize) -> Span {
        let begin = begin.min(text.len());
        let end = end.clamp(begin, text.len());
        Span {
            file: file.into(),
            begin,
            end,
            start: line_col(text, begin),
            end_pos: line_col(text, end),
        }
    }
}

fn line_col(text: &str, offset: usize) -> LineCol {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    LineCol {
        line,
        column: before[line_start..].chars().count() + 1,
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start.line, self.start.column)
    }
}

/// A secondary location with a message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding of any stage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `SKY0203`; see [`codes`].
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is. Only usage errors that concern no file lack one.
    pub span: Option<Span>,
    /// Text shown under the primary span (e.g. "did you mean `replicas`?").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    /// For schema findings: the path of the field inside the object, e.g. `spec.replicass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// A diagnostic as read back (from a cache): its code must be one of [`codes`].
#[derive(Deserialize)]
struct DiagnosticRepr {
    code: String,
    severity: Severity,
    message: String,
    span: Option<Span>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    labels: Vec<Label>,
    #[serde(default)]
    field_path: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    help: Option<String>,
}

impl<'de> Deserialize<'de> for Diagnostic {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Diagnostic, D::Error> {
        Diagnostic::try_from(DiagnosticRepr::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<DiagnosticRepr> for Diagnostic {
    type Error = String;

    fn try_from(r: DiagnosticRepr) -> Result<Diagnostic, String> {
        let code = codes::lookup(&r.code)
            .map(|c| c.code)
            .ok_or_else(|| format!("unknown diagnostic code {}", r.code))?;
        Ok(Diagnostic {
            code,
            severity: r.severity,
            message: r.message,
            span: r.span,
            label: r.label,
            labels: r.labels,
            field_path: r.field_path,
            notes: r.notes,
            help: r.help,
        })
    }
}

impl Diagnostic {
    /// A new diagnostic with the code's default severity.
    pub fn new(code: &'static CodeInfo, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: code.code,
            severity: code.severity,
            message: message.into(),
            span: None,
            label: None,
            labels: Vec::new(),
            field_path: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn with_span(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn with_span_opt(mut self, span: Option<Span>) -> Self {
        if span.is_some() {
            self.span = span;
        }
        self
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_field_path(mut self, path: impl Into<String>) -> Self {
        let path = path.into();
        if !path.is_empty() {
            self.field_path = Some(path);
        }
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The documentation of this diagnostic's code.
    pub fn code_info(&self) -> Option<&'static CodeInfo> {
        codes::lookup(self.code)
    }
}

/// Sorts diagnostics by file, position and code, and drops exact duplicates, so that output
/// does not depend on the order in which stages found them.
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        let ka = a.span.as_ref().map(|s| (&s.file, s.begin, s.end));
        let kb = b.span.as_ref().map(|s| (&s.file, s.begin, s.end));
        ka.cmp(&kb)
            .then_with(|| a.code.cmp(b.code))
            .then_with(|| a.message.cmp(&b.message))
    });
    diags.dedup();
}

/// Suggests the candidate closest to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let candidates: Vec<&'a str> = candidates.into_iter().collect();
    // Ties go to the candidate closer in case too (`htps` → `https`, not `HTTPS`), then to
    // the first in order.
    let mut best: Option<(usize, usize, &'a str)> = None;
    for &cand in &candidates {
        let d = levenshtein(&lower, &cand.to_ascii_lowercase());
        let limit = (word.chars().count().max(cand.chars().count()) / 3).max(1);
        if d > limit {
            continue;
        }
        let exact = levenshtein(word, cand);
        if best.is_none_or(|(bd, be, bc)| (d, exact, cand) < (bd, be, bc)) {
            best = Some((d, exact, cand));
        }
    }
    if best.is_none() && lower.chars().count() >= 4 {
        // A hyphenated name given by one of its words (`privileged` for
        // `privileged-container`): suggest it when exactly one candidate has that word.
        let mut with_word = candidates.iter().filter(|c| {
            c.to_ascii_lowercase()
                .split(['-', '_', '.'])
                .any(|part| part == lower)
        });
        if let (Some(only), None) = (with_word.next(), with_word.next()) {
            return Some(only);
        }
    }
    best.map(|(_, _, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            did_you_mean("replicass", ["replicas", "selector"]),
            Some("replicas")
        );
        assert_eq!(
            did_you_mean("containerport", ["containerPort", "hostPort"]),
            Some("containerPort")
        );
        assert_eq!(did_you_mean("xyz", ["replicas"]), None);
        // Equally close ignoring case: the one written the same way wins.
        assert_eq!(
            did_you_mean("htps", ["http", "https", "HTTP", "HTTPS"]),
            Some("https")
        );
        assert_eq!(did_you_mean("HTPS", ["https", "HTTPS"]), Some("HTTPS"));
    }

    #[test]
    fn spans_count_lines_and_characters() {
        let s = Span::from_offsets("a.sky", "ab\nçd\n", 5, 6);
        assert_eq!(s.start, LineCol { line: 2, column: 2 });
        assert_eq!(s.to_string(), "a.sky:2:2");
    }
}
