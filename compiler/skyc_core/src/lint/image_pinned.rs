//! SKY0607: in a production render, an image not pinned by digest.

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use serde_json::Value as Json;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0607,
    check,
};

fn check(o: &LoweredObject, ctx: &LintCtx) -> Vec<Hit> {
    if !ctx.is_production() {
        return Vec::new();
    }
    containers(o)
        .into_iter()
        .filter_map(|(path, c, _)| {
            let image = c.get("image").and_then(Json::as_str)?;
            (!image.contains("@sha256:")).then(|| Hit {
                path: format!("{path}.image"),
                message: format!(
                    "container `{}` image `{image}` is not pinned by digest in a production render",
                    name(c)
                ),
                help: "use `image@sha256:<digest>` so production runs exactly the reviewed image"
                    .into(),
            })
        })
        .collect()
}
