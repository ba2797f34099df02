//! Lint: rules over the rendered objects that `skyc check` runs after validation — security
//! regressions and reliability gaps a platform team would flag in review. One file per rule;
//! each rule has a code (`SKY06xx`) whose documentation is its page.
//!
//! Severity comes from the code and can be changed per rule in `sky.toml`
//! (`[lint.rules] privileged-container = "off" | "warning" | "error"`, by name or code). A
//! finding is silenced on its line (or the line above) with a comment that names the rule and
//! gives a reason: `# skyc:ignore privileged-container: needs raw sockets for ping`.

mod capabilities;
mod cronjob_deadline;
mod host_namespaces;
mod image_pinned;
mod image_tag;
mod owner_label;
mod privilege_escalation;
mod privileged;
mod readiness_probe;
mod resources;
mod root_filesystem;
mod run_as_root;
mod single_replica;
mod suppress;

use crate::lower::LoweredObject;
pub(crate) use crate::validate::pod_specs;
use serde_json::Value as Json;
use skyc_diag::{CodeInfo, Diagnostic, Severity};
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a rule sees besides the object.
pub(crate) struct LintCtx<'a> {
    /// `ctx.vars` of the render (with defaults applied).
    pub vars: &'a BTreeMap<String, String>,
    pub config: &'a crate::config::LintConfig,
}

impl LintCtx<'_> {
    /// Whether this render is for a production environment (`[lint] environment_var` is one
    /// of `[lint] production`).
    pub fn is_production(&self) -> bool {
        self.vars
            .get(self.config.environment_var())
            .is_some_and(|e| self.config.production().iter().any(|p| p == e))
    }
}

/// One finding of a rule: the field path in the object, the message and a fix.
pub(crate) struct Hit {
    pub path: String,
    pub message: String,
    pub help: String,
}

/// A lint rule.
pub(crate) struct Rule {
    pub code: &'static CodeInfo,
    pub check: fn(&LoweredObject, &LintCtx) -> Vec<Hit>,
}

/// Every rule, in code order.
pub(crate) const RULES: &[Rule] = &[
    privileged::RULE,
    host_namespaces::RULE,
    run_as_root::RULE,
    capabilities::RULE,
    root_filesystem::RULE,
    image_tag::RULE,
    image_pinned::RULE,
    resources::RULE,
    readiness_probe::RULE,
    single_replica::RULE,
    cronjob_deadline::RULE,
    owner_label::RULE,
    privilege_escalation::RULE,
];

/// Runs every enabled rule over `objects`; applies severities and suppression comments.
pub(crate) fn lint(
    objects: &[LoweredObject],
    vars: &BTreeMap<String, String>,
    config: &crate::config::LintConfig,
    sources: &BTreeMap<String, Arc<str>>,
    policy_findings: Vec<(Diagnostic, Vec<(String, usize)>)>,
) -> Vec<Diagnostic> {
    let ctx = LintCtx { vars, config };
    let mut out = policy_findings;
    for rule in RULES {
        let severity = match config.severity(rule.code) {
            Some(None) => continue,
            Some(Some(s)) => s,
            None => rule.code.severity,
        };
        for obj in objects.iter().filter(|o| !o.is_xds()) {
            for hit in (rule.check)(obj, &ctx) {
                let o = &obj.object;
                let d = Diagnostic::new(
                    rule.code,
                    format!("{} `{}`: {}", o.kind, o.name, hit.message),
                )
                .with_severity(severity)
                .with_span_opt(obj.span_at(&hit.path))
                .with_field_path(&hit.path)
                .with_help(hit.help);
                out.push((d, obj.anchors_at(&hit.path)));
            }
        }
    }
    suppress::apply(out, sources)
}

/// Every container (init containers too) of an object: (field path, container, pod spec).
pub(crate) fn containers(o: &LoweredObject) -> Vec<(String, &Json, &Json)> {
    let mut out = Vec::new();
    for (path, spec) in pod_specs(o) {
        for (cpath, c) in crate::validate::pod_containers(spec, &path) {
            out.push((cpath, c, spec));
        }
    }
    out
}

/// The name of a container, for messages.
pub(crate) fn name(c: &Json) -> &str {
    c.get("name").and_then(Json::as_str).unwrap_or("?")
}

/// A boolean security setting of a container, falling back to the pod's securityContext.
pub(crate) fn security(c: &Json, pod: &Json, key: &str) -> Option<Json> {
    c.pointer(&format!("/securityContext/{key}"))
        .or_else(|| pod.pointer(&format!("/securityContext/{key}")))
        .cloned()
}

/// Severity override parsing shared with `sky.toml`.
pub(crate) fn parse_level(s: &str) -> Result<Option<Severity>, String> {
    match s {
        "off" => Ok(None),
        "warning" | "warn" => Ok(Some(Severity::Warning)),
        "error" | "deny" => Ok(Some(Severity::Error)),
        other => Err(format!(
            "unknown level `{other}`: use \"off\", \"warning\" or \"error\""
        )),
    }
}

/// The rule a name or code refers to.
pub(crate) fn rule_by_name(name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.name == name || r.code.code.eq_ignore_ascii_case(name))
}

/// All rule names, for "did you mean".
pub(crate) fn rule_names() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.code.name)
}
