//! SKY0608: a container without CPU and memory requests and limits.

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0608,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for (path, c, _) in containers(o) {
        let mut missing = Vec::new();
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                if c.pointer(&format!("/resources/{kind}/{res}")).is_none() {
                    missing.push(format!("{kind}.{res}"));
                }
            }
        }
        if !missing.is_empty() {
            out.push(Hit {
                path: format!("{path}.resources"),
                message: format!("container `{}` has no {}", name(c), missing.join(", ")),
                help: "set requests and limits (service(cpu = ..., mem = ...) sets both)".into(),
            });
        }
    }
    out
}
