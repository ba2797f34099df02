//! SKY0601: a privileged container has every capability of the host.

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0601,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    containers(o)
        .into_iter()
        .filter(|(_, c, _)| c.pointer("/securityContext/privileged") == Some(&true.into()))
        .map(|(path, c, _)| Hit {
            path: format!("{path}.securityContext.privileged"),
            message: format!("container `{}` is privileged", name(c)),
            help: "remove `privileged`; add only the capability the container needs".into(),
        })
        .collect()
}
