//! SKY0609: a serving container (one with ports) in a long-running workload without a
//! readiness probe: it receives traffic before it is ready.

use super::{name, pod_specs, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use crate::validate::items;
use serde_json::Value as Json;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0609,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    if !matches!(
        o.object.kind.as_str(),
        "Deployment" | "StatefulSet" | "DaemonSet"
    ) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (path, spec) in pod_specs(o) {
        for (i, c) in items(spec, "containers").enumerate() {
            let serves = c
                .get("ports")
                .and_then(Json::as_array)
                .is_some_and(|p| !p.is_empty());
            if serves && c.get("readinessProbe").is_none() {
                out.push(Hit {
                    path: format!("{path}.containers[{i}]"),
                    message: format!(
                        "container `{}` serves ports but has no readiness probe",
                        name(c)
                    ),
                    help: "add a readinessProbe (service(health_path = ...) adds an HTTP one)"
                        .into(),
                });
            }
        }
    }
    out
}
