//! SKY0603: a container that may run as root (neither `runAsNonRoot` nor a non-zero
//! `runAsUser`, on the container or the pod).

use super::{containers, name, security, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0603,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for (path, c, pod) in containers(o) {
        let user = security(c, pod, "runAsUser").and_then(|u| u.as_i64());
        let non_root = security(c, pod, "runAsNonRoot") == Some(true.into());
        let message = match user {
            Some(0) => format!("container `{}` runs as root (runAsUser 0)", name(c)),
            Some(_) => continue,
            None if non_root => continue,
            None => format!("container `{}` may run as root", name(c)),
        };
        out.push(Hit {
            path: format!("{path}.securityContext"),
            message,
            help:
                "set `runAsNonRoot = True` (and a non-zero `runAsUser`) on the container or the pod"
                    .into(),
        });
    }
    out
}
