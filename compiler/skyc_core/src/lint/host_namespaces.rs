//! SKY0602: a pod sharing the host's network, process or IPC namespace.

use super::{pod_specs, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0602,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for (path, spec) in pod_specs(o) {
        for key in ["hostNetwork", "hostPID", "hostIPC"] {
            if spec.get(key) == Some(&true.into()) {
                out.push(Hit {
                    path: format!("{path}.{key}"),
                    message: format!("the pod sets `{key}`"),
                    help: format!("remove `{key}`; use a Service or a volume instead"),
                });
            }
        }
    }
    out
}
