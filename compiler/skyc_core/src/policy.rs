//! User policies: every `policy/*.sky` file of the project defines `def check(obj, ctx)`,
//! called for each rendered object (as plain data, with the render's `ctx`) during
//! `skyc check`. It returns findings — strings, or dicts `{"message": ..., "path": ...,
//! "severity": "error" | "warning"}` — reported like built-in rules (SKY0650), at the field
//! they name, silenced like them. Policies run sandboxed with the same limits as everything
//! else.

use crate::eval::{call_function, evaluate_as};
use crate::lower::LoweredObject;
use crate::{Options, World};
use serde_json::Value as Json;
use skyc_diag::{codes, Diagnostic, Severity, Span};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The directory policies live in, under the project root.
pub const POLICY_DIR: &str = "policy";

/// Findings (with their suppression anchors), problems with the policies themselves, and the
/// policies' sources (for rendering).
pub(crate) struct PolicyRun {
    pub findings: Vec<(Diagnostic, Vec<(String, usize)>)>,
    pub problems: Vec<Diagnostic>,
    pub sources: BTreeMap<String, Arc<str>>,
    /// What the policies' `print()` calls wrote.
    pub prints: Vec<String>,
    /// Every file the policies read (the policies and what they load).
    pub files: Vec<crate::FileId>,
}

pub(crate) fn run(world: &dyn World, objects: &[LoweredObject], opts: &Options) -> PolicyRun {
    let mut out = PolicyRun {
        findings: Vec::new(),
        problems: Vec::new(),
        sources: BTreeMap::new(),
        prints: Vec::new(),
        files: Vec::new(),
    };
    let module_opts = Options {
        lint: false,
        ..opts.clone()
    };
    for file in world.list_sky(POLICY_DIR) {
        if file.ends_with("_test.sky") {
            continue;
        }
        let (evaluated, module) = evaluate_as(world, &file, &module_opts, false);
        out.sources.extend(evaluated.outcome.sources.clone());
        out.files.extend(evaluated.outcome.files.iter().cloned());
        let display = world.display_name(&file);
        if evaluated.outcome.has_errors() {
            out.problems.extend(evaluated.outcome.diagnostics);
            continue;
        }
        let Some(module) = module else { continue };
        let name = file
            .rsplit('/')
            .next()
            .unwrap_or(&file)
            .trim_end_matches(".sky")
            .to_string();
        if module.get("check").is_err() {
            let text = out.sources.get(&display).cloned().unwrap_or_default();
            out.problems.push(
                Diagnostic::new(
                    codes::SKY0651,
                    format!("policy `{display}` does not define `check(obj, ctx)`"),
                )
                .with_span(Span::from_offsets(&display, &text, 0, 0))
                .with_help("define `def check(obj, ctx):` returning a list of findings"),
            );
            continue;
        }
        for obj in objects {
            let call = call_function(
                &module,
                &display,
                "check",
                std::slice::from_ref(&obj.json),
                crate::eval::ExtraArg::Ctx,
                true,
                opts,
                evaluated.crds.clone(),
            );
            out.prints.extend(call.prints);
            // Problems a policy's own typed constructors found (a bad field in a message it
            // builds): the same for every object, so reported once (diagnostics are deduplicated).
            out.problems
                .extend(call.recorded.into_iter().filter(Diagnostic::is_error));
            let value = match call.result {
                Ok(v) => v.unwrap_or(Json::Null),
                Err(d) => {
                    out.problems.push(d.with_note(format!(
                        "while checking {} `{}`",
                        obj.object.kind, obj.object.name
                    )));
                    continue;
                }
            };
            for f in findings(&value) {
                match f {
                    Ok((message, path, severity)) => {
                        let o = &obj.object;
                        let mut d = Diagnostic::new(
                            codes::SKY0650,
                            format!("{} `{}`: {message} (policy {name})", o.kind, o.name),
                        )
                        .with_severity(severity)
                        .with_span_opt(obj.span_at(&path))
                        .with_help(format!("see {display}"));
                        if !path.is_empty() {
                            d = d.with_field_path(&path);
                        }
                        out.findings.push((d, obj.anchors_at(&path)));
                    }
                    Err(why) => out.problems.push(
                        Diagnostic::new(
                            codes::SKY0651,
                            format!("policy `{display}` returned an invalid finding: {why}"),
                        )
                        .with_help(
                            "return strings, or dicts with `message` (and `path`, `severity`)",
                        ),
                    ),
                }
            }
        }
    }
    out
}

/// The findings in what `check` returned: (message, field path, severity) or why one is
/// malformed.
fn findings(v: &Json) -> Vec<Result<(String, String, Severity), String>> {
    let items: Vec<&Json> = match v {
        Json::Null => return Vec::new(),
        Json::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item {
            Json::String(s) => Ok((s.clone(), String::new(), Severity::Error)),
            Json::Object(o) => {
                let message = o
                    .get("message")
                    .and_then(Json::as_str)
                    .ok_or_else(|| format!("{item} has no `message`"))?;
                let path = o.get("path").and_then(Json::as_str).unwrap_or("");
                let severity = match o.get("severity").and_then(Json::as_str) {
                    None | Some("error") => Severity::Error,
                    Some("warning") => Severity::Warning,
                    Some(other) => return Err(format!("unknown severity `{other}`")),
                };
                Ok((message.to_string(), path.to_string(), severity))
            }
            other => Err(format!("{other} is neither a string nor a dict")),
        })
        .collect()
}
