//! SKY0605: a container whose root filesystem is writable.

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0605,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    containers(o)
        .into_iter()
        .filter(|(_, c, _)| {
            c.pointer("/securityContext/readOnlyRootFilesystem") != Some(&true.into())
        })
        .map(|(path, c, _)| Hit {
            path: format!("{path}.securityContext"),
            message: format!("container `{}` has a writable root filesystem", name(c)),
            help: "set `readOnlyRootFilesystem = True` and mount an emptyDir where the app writes (e.g. /tmp)".into(),
        })
        .collect()
}
