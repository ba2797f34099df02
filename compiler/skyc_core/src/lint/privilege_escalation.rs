//! SKY0613: a container that may gain more privileges than its process started with
//! (`allowPrivilegeEscalation` not false).

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0613,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    containers(o)
        .into_iter()
        .filter(|(_, c, _)| {
            c.pointer("/securityContext/allowPrivilegeEscalation") != Some(&false.into())
        })
        .map(|(path, c, _)| Hit {
            path: format!("{path}.securityContext"),
            message: format!("container `{}` allows privilege escalation", name(c)),
            help: "set `allowPrivilegeEscalation = False` in the container's securityContext"
                .into(),
        })
        .collect()
}
