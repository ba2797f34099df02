//! The default, human format: source excerpts with labels, drawn by miette.

use super::SourceLookup;
use crate::{Diagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt;
use std::sync::Arc;

/// Options of the human renderer.
#[derive(Debug, Clone, Copy)]
pub struct HumanOptions {
    /// ANSI colors (off for `NO_COLOR` and when the output is not a terminal).
    pub color: bool,
    /// Wrap width in columns.
    pub width: usize,
}

impl Default for HumanOptions {
    fn default() -> Self {
        HumanOptions {
            color: false,
            width: 100,
        }
    }
}

/// Renders each diagnostic with its source excerpt, then a one-line summary.
pub fn human(diags: &[Diagnostic], sources: &dyn SourceLookup, opts: HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_context_lines(1)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let source = d.span.as_ref().and_then(|s| sources.source(&s.file));
        let report = Report::new(d, source);
        if handler.render_report(&mut out, &report).is_err() {
            // Fall back to a plain line if the excerpt cannot be drawn (span out of range).
            out.push_str(&plain_line(d));
        }
        out.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    if errors + warnings > 0 {
        out.push_str(&format!(
            "{} error{}, {} warning{}\n",
            errors,
            if errors == 1 { "" } else { "s" },
            warnings,
            if warnings == 1 { "" } else { "s" }
        ));
    }
    out
}

fn plain_line(d: &Diagnostic) -> String {
    match &d.span {
        Some(s) => format!("{}[{}]: {} at {}\n", d.severity, d.code, d.message, s),
        None => format!("{}[{}]: {}\n", d.severity, d.code, d.message),
    }
}

/// Adapter from our diagnostic to miette's trait.
struct Report<'a> {
    d: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    help: Option<String>,
    message: String,
}

impl<'a> Report<'a> {
    fn new(d: &'a Diagnostic, text: Option<Arc<str>>) -> Report<'a> {
        let mut help = Vec::new();
        if let Some(p) = &d.field_path {
            help.push(format!("field path: {p}"));
        }
        // Secondary labels in other files cannot be drawn in this excerpt: list them.
        for l in &d.labels {
            if d.span.as_ref().is_none_or(|s| s.file != l.span.file) {
                help.push(format!("{}: {}", l.span, l.message));
            }
        }
        help.extend(d.notes.iter().cloned());
        if let Some(h) = &d.help {
            help.push(h.clone());
        }
        let mut message = d.message.clone();
        let source = match (&d.span, text) {
            (Some(s), Some(t)) if s.end <= t.len() => {
                Some(NamedSource::new(s.file.clone(), t.to_string()).with_language("python"))
            }
            (Some(s), _) => {
                // No text for the file: name the position in the message.
                message = format!("{message}\n  at {s}");
                None
            }
            _ => None,
        };
        Report {
            d,
            source,
            help: (!help.is_empty()).then(|| help.join("\n")),
            message,
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.d.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.d.span.as_ref()?;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            self.d.label.clone(),
            SourceSpan::from(span.begin..span.end.max(span.begin)),
        )];
        for l in &self.d.labels {
            if l.span.file == span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(l.message.clone()),
                    SourceSpan::from(l.span.begin..l.span.end),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}
