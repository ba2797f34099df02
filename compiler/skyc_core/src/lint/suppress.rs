//! Suppression comments: `# skyc:ignore <rule>[, <rule>…]: <reason>` silences those rules'
//! findings on the comment's line or the line below it. A suppression must name real rules
//! and give a reason (SKY0690); one that silences nothing is reported (SKY0691), so stale
//! exemptions do not pile up.

use super::{rule_by_name, rule_names};
use skyc_diag::{codes, did_you_mean, Diagnostic, Span};
use std::collections::BTreeMap;
use std::sync::Arc;

const MARKER: &str = "skyc:ignore";

struct Suppression {
    file: String,
    /// 1-based line of the comment.
    line: usize,
    /// Rule codes it names.
    codes: Vec<&'static str>,
    span: Span,
    used: bool,
}

fn parse(sources: &BTreeMap<String, Arc<str>>, problems: &mut Vec<Diagnostic>) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (file, text) in sources {
        if file.starts_with("@stdlib//") || !file.ends_with(".sky") {
            continue;
        }
        let mut offset = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let start = offset;
            offset += line.len();
            let Some(hash) = line.find('#') else { continue };
            let comment = &line[hash + 1..];
            let Some(at) = comment.find(MARKER) else {
                continue;
            };
            let body = comment[at + MARKER.len()..].trim_end();
            let begin = start + hash;
            let span = Span::from_offsets(file, text, begin, start + line.trim_end().len());
            let (names, reason) = match body.split_once(':') {
                Some((n, r)) => (n, r.trim()),
                None => (body, ""),
            };
            let mut codes_named = Vec::new();
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let policy = codes::SKY0650;
                let code = rule_by_name(name).map(|r| r.code.code).or_else(|| {
                    (name == policy.name || name.eq_ignore_ascii_case(policy.code))
                        .then_some(policy.code)
                });
                match code {
                    Some(c) => codes_named.push(c),
                    None => {
                        let help = match did_you_mean(name, rule_names()) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "`skyc explain all` lists the rules (SKY06xx)".into(),
                        };
                        problems.push(
                            Diagnostic::new(
                                codes::SKY0690,
                                format!("`{name}` in a suppression comment is not a lint rule"),
                            )
                            .with_span(span.clone())
                            .with_help(help),
                        );
                    }
                }
            }
            if codes_named.is_empty() && names.trim().is_empty() {
                problems.push(
                    Diagnostic::new(
                        codes::SKY0690,
                        "a suppression comment must name the rule it silences",
                    )
                    .with_span(span.clone())
                    .with_help("write `# skyc:ignore <rule>: <reason>`"),
                );
            } else if reason.is_empty() {
                problems.push(
                    Diagnostic::new(codes::SKY0690, "a suppression comment needs a reason")
                        .with_span(span.clone())
                        .with_help("write `# skyc:ignore <rule>: <why this is fine here>`"),
                );
            }
            out.push(Suppression {
                file: file.clone(),
                line: i + 1,
                codes: codes_named,
                span,
                used: false,
            });
        }
    }
    out
}

/// Drops the findings a suppression covers; adds problems with the suppressions themselves.
/// Each finding comes with the (file, line) places a suppression may cover it from.
pub(crate) fn apply(
    findings: Vec<(Diagnostic, Vec<(String, usize)>)>,
    sources: &BTreeMap<String, Arc<str>>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut sups = parse(sources, &mut problems);
    let mut out = Vec::new();
    for (d, anchors) in findings {
        let covered = sups.iter_mut().find(|x| {
            x.codes.contains(&d.code)
                && anchors
                    .iter()
                    .any(|(file, line)| x.file == *file && (x.line == *line || x.line + 1 == *line))
        });
        match covered {
            Some(x) => x.used = true,
            None => out.push(d),
        }
    }
    for s in sups.iter().filter(|s| !s.used && !s.codes.is_empty()) {
        problems.push(
            Diagnostic::new(
                codes::SKY0691,
                format!(
                    "this suppression of {} silences nothing",
                    s.codes.join(", ")
                ),
            )
            .with_span(s.span.clone())
            .with_help("remove it: the finding it was for is gone"),
        );
    }
    out.extend(problems);
    out
}
