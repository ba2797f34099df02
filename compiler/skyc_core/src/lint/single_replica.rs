//! SKY0610: a Deployment or StatefulSet with fewer than 2 replicas: every rollout and node
//! drain is an outage. Exempt one with the annotation `skyc.dev/single-replica: <reason>`.

use super::{Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0610,
    check,
};

/// The annotation that exempts an object, with the reason as its value.
pub(crate) const EXEMPTION: &str = "skyc.dev/single-replica";

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let j = &o.json;
    if !matches!(o.object.kind.as_str(), "Deployment" | "StatefulSet") {
        return Vec::new();
    }
    if j.pointer(&format!(
        "/metadata/annotations/{}",
        EXEMPTION.replace('/', "~1")
    ))
    .is_some()
    {
        return Vec::new();
    }
    // Kubernetes' default is 1.
    let replicas = j
        .pointer("/spec/replicas")
        .and_then(|r| r.as_i64())
        .unwrap_or(1);
    if replicas >= 2 {
        return Vec::new();
    }
    vec![Hit {
        path: "spec.replicas".into(),
        message: format!("runs {replicas} replica(s); a rollout or node drain takes it down"),
        help: format!("run 2 or more replicas, or annotate `{EXEMPTION}: <reason>`"),
    }]
}
