//! SKY0612: a workload without the owner label (`[lint] owner_label`, default `owner`): when
//! it pages, nobody knows whom to call.

use super::{Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0612,
    check,
};

fn check(o: &LoweredObject, ctx: &LintCtx) -> Vec<Hit> {
    let workload = matches!(
        o.object.kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" | "Pod"
    );
    let label = ctx.config.owner_label();
    let has = o
        .json
        .pointer("/metadata/labels")
        .and_then(|l| l.get(label))
        .and_then(|v| v.as_str())
        .is_some_and(|v| !v.is_empty());
    if !workload || has {
        return Vec::new();
    }
    vec![Hit {
        path: "metadata.labels".into(),
        message: format!("has no `{label}` label"),
        help: format!(
            "label it with the owning team: `{label}: <team>` (service(owner = ...) does)"
        ),
    }]
}
