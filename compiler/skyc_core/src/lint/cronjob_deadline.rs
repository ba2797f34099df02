//! SKY0611: a CronJob without a starting deadline or a run deadline: missed runs pile up
//! after an outage, and a stuck run blocks the next ones forever.

use super::{Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0611,
    check,
};

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    if o.object.kind != "CronJob" {
        return Vec::new();
    }
    let j = &o.json;
    let mut out = Vec::new();
    if j.pointer("/spec/startingDeadlineSeconds").is_none() {
        out.push(Hit {
            path: "spec.startingDeadlineSeconds".into(),
            message: "has no startingDeadlineSeconds".into(),
            help: "set how late a run may still start (e.g. 1200 for 20 minutes)".into(),
        });
    }
    if j.pointer("/spec/jobTemplate/spec/activeDeadlineSeconds")
        .is_none()
    {
        out.push(Hit {
            path: "spec.jobTemplate.spec.activeDeadlineSeconds".into(),
            message: "has no activeDeadlineSeconds".into(),
            help: "set how long a run may take before it is stopped".into(),
        });
    }
    out
}
