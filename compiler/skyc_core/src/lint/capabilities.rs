//! SKY0604: a container that adds Linux capabilities.

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use serde_json::Value as Json;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0604,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for (path, c, _) in containers(o) {
        let added: Vec<&str> = c
            .pointer("/securityContext/capabilities/add")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        if !added.is_empty() {
            out.push(Hit {
                path: format!("{path}.securityContext.capabilities.add"),
                message: format!("container `{}` adds capabilities {}", name(c), added.join(", ")),
                help: "drop the capabilities, or silence this line with the reason the container needs them".into(),
            });
        }
    }
    out
}
