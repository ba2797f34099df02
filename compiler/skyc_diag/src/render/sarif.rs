//! `--format sarif`: a SARIF 2.1.0 log (the format GitHub code scanning and other review tools
//! import). Every code that appears becomes a rule with its summary and documentation page.

use crate::{codes, Diagnostic, Severity};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Renders a SARIF 2.1.0 log with one run of `skyc` (`version` is skyc's version).
pub fn sarif(diags: &[Diagnostic], version: &str) -> String {
    let used: BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
    let rule_ids: Vec<&str> = used.iter().copied().collect();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| match codes::lookup(id) {
            Some(c) => json!({
                "id": c.code,
                "name": c.name,
                "shortDescription": {"text": c.summary},
                "fullDescription": {"text": c.doc},
                "help": {"text": c.doc, "markdown": c.doc},
                "defaultConfiguration": {"level": level(c.severity)},
            }),
            None => json!({"id": id}),
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(p) = &d.field_path {
                text.push_str(&format!(" (at {p})"));
            }
            if let Some(h) = &d.help {
                text.push_str(&format!(". Help: {h}"));
            }
            let mut r = json!({
                "ruleId": d.code,
                "ruleIndex": rule_ids.iter().position(|id| *id == d.code).unwrap_or(0),
                "level": level(d.severity),
                "message": {"text": text},
            });
            if let Some(s) = &d.span {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": s.file.trim_start_matches("./")},
                        "region": {
                            "startLine": s.start.line,
                            "startColumn": s.start.column,
                            "endLine": s.end_pos.line,
                            "endColumn": s.end_pos.column.max(1),
                        }
                    }
                }]);
            }
            if let Some(p) = &d.field_path {
                r["properties"] = json!({"fieldPath": p});
            }
            r
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "skyc",
                "version": version,
                "informationUri": "https://github.com/skyc/skyc",
                "rules": rules,
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }]
    });
    let mut out = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    out.push('\n');
    out
}
