//! `--format json`: one JSON document with every diagnostic and a summary.

use crate::{Diagnostic, Severity};
use serde_json::json as j;

/// Renders diagnostics as a JSON document: `{"diagnostics": [...], "summary": {...}}`.
pub fn json(diags: &[Diagnostic]) -> String {
    let count = |s: Severity| diags.iter().filter(|d| d.severity == s).count();
    let doc = j!({
        "version": 1,
        "diagnostics": diags,
        "summary": {
            "errors": count(Severity::Error),
            "warnings": count(Severity::Warning),
            "notes": count(Severity::Note),
        }
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("diagnostics serialize");
    out.push('\n');
    out
}
