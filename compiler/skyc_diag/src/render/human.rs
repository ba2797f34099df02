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
    /// The primary span, then the labels in the same file, in `source`'s offsets.
    spans: Option<Vec<std::ops::Range<usize>>>,
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
        let mut spans = None;
        let source = match (&d.span, text) {
            (Some(s), Some(t)) if s.end <= t.len() => {
                let mut ranges = Vec::with_capacity(1 + d.labels.len());
                ranges.push(s.begin..s.end.max(s.begin));
                ranges.extend(
                    d.labels
                        .iter()
                        .filter(|l| l.span.file == s.file && l.span.end <= t.len())
                        .map(|l| l.span.begin..l.span.end),
                );
                let (text, ranges) = shorten_long_lines(&t, ranges);
                spans = Some(ranges);
                Some(NamedSource::new(s.file.clone(), text).with_language("python"))
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
            spans,
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
        let mut ranges = self.spans.as_ref()?.iter().cloned();
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            self.d.label.clone(),
            SourceSpan::from(ranges.next()?),
        )];
        for (l, r) in self
            .d
            .labels
            .iter()
            .filter(|l| l.span.file == span.file)
            .zip(ranges)
        {
            labels.push(LabeledSpan::new_with_span(
                Some(l.message.clone()),
                SourceSpan::from(r),
            ));
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Lines longer than this are shown in part: generated or minified code can put megabytes on
/// one line, and an excerpt must stay readable.
const MAX_LINE: usize = 240;

/// `text` with every line longer than [`MAX_LINE`] cut to a window around the spans on it
/// (or its start), marked with `…`; `ranges` mapped to the new offsets.
fn shorten_long_lines(
    text: &str,
    ranges: Vec<std::ops::Range<usize>>,
) -> (String, Vec<std::ops::Range<usize>>) {
    if text.lines().all(|l| l.len() <= MAX_LINE) {
        return (text.to_string(), ranges);
    }
    let mut out = String::with_capacity(text.len().min(1 << 20));
    let mut mapped = ranges.clone();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let within = |p: usize| p >= line_start && p <= line_end;
        if content.len() <= MAX_LINE {
            for (m, r) in mapped.iter_mut().zip(&ranges) {
                if within(r.start) {
                    m.start = out.len() + (r.start - line_start);
                }
                if within(r.end) {
                    m.end = out.len() + (r.end - line_start);
                }
            }
            out.push_str(line);
        } else {
            let points: Vec<usize> = ranges
                .iter()
                .flat_map(|r| [r.start, r.end])
                .filter(|p| within(*p))
                .map(|p| p - line_start)
                .collect();
            let (lo, hi) = match (points.iter().min(), points.iter().max()) {
                (Some(&a), Some(&b)) => (a.saturating_sub(60), (b.max(a) + 60).min(a + MAX_LINE)),
                _ => (0, MAX_LINE - 40),
            };
            let floor = |mut i: usize| {
                i = i.min(content.len());
                while !content.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            let (lo, hi) = (floor(lo), floor(hi));
            let head = if lo > 0 { "…" } else { "" };
            let window_start = out.len() + head.len();
            out.push_str(head);
            out.push_str(&content[lo..hi]);
            if hi < content.len() {
                out.push('…');
            }
            let clamp = |p: usize| {
                if p >= line_start + content.len() && hi == content.len() {
                    // At or past the end of the line: after the window.
                    window_start + (hi - lo) + (p - line_start - content.len())
                } else {
                    window_start + (p - line_start).clamp(lo, hi) - lo
                }
            };
            for (m, r) in mapped.iter_mut().zip(&ranges) {
                if within(r.start) {
                    m.start = clamp(r.start);
                }
                if within(r.end) {
                    m.end = clamp(r.end);
                }
            }
            out.push_str(&line[content.len()..]);
        }
        line_start = line_end;
    }
    for m in &mut mapped {
        m.end = m.end.max(m.start);
    }
    (out, mapped)
}

#[cfg(test)]
mod shorten_tests {
    use super::shorten_long_lines;

    #[test]
    fn long_lines_are_cut_around_the_span() {
        let long = format!("x = {}\n", "1 + ".repeat(10_000));
        let text = format!("def main(ctx):\n{long}    return []\n");
        let at = text.find("return").unwrap();
        let mid = 15 + 4 + 4 * 5000;
        let (out, r) = shorten_long_lines(&text, vec![mid..mid + 5, at..at + 6]);
        assert!(out.len() < 600, "{}", out.len());
        assert!(out.lines().nth(1).unwrap().starts_with('…'));
        assert_eq!(&out[r[0].clone()], "1 + 1");
        assert_eq!(&out[r[1].clone()], "return");
    }

    #[test]
    fn short_text_is_unchanged() {
        let one = std::iter::once(0..1).collect::<Vec<_>>();
        let (out, r) = shorten_long_lines("a = 1\n", one.clone());
        assert_eq!((out.as_str(), r), ("a = 1\n", one));
    }
}
