//! SKY0606: an image with the `latest` tag or no tag at all (what runs changes without a
//! config change).

use super::{containers, name, Hit, LintCtx, Rule};
use crate::lower::LoweredObject;
use serde_json::Value as Json;
use skyc_diag::codes;

pub(crate) const RULE: Rule = Rule {
    code: codes::SKY0606,
    check,
};

/// The tag of an image reference (`registry:5000/app:1.2` → `1.2`), if any.
pub(crate) fn tag(image: &str) -> Option<&str> {
    let name = image.split('@').next().unwrap_or(image);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':').map(|(_, t)| t)
}

fn check(o: &LoweredObject, _: &LintCtx) -> Vec<Hit> {
    let mut out = Vec::new();
    for (path, c, _) in containers(o) {
        let Some(image) = c.get("image").and_then(Json::as_str) else {
            continue;
        };
        if image.contains('@') {
            continue;
        }
        let what = match tag(image) {
            None => "has no tag (it means `latest`)",
            Some("latest") => "uses the `latest` tag",
            Some(_) => continue,
        };
        out.push(Hit {
            path: format!("{path}.image"),
            message: format!("container `{}` image `{image}` {what}", name(c)),
            help: "pin a version tag, or better a digest (`image@sha256:…`)".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags() {
        assert_eq!(super::tag("nginx"), None);
        assert_eq!(super::tag("nginx:1.25"), Some("1.25"));
        assert_eq!(super::tag("registry:5000/app"), None);
        assert_eq!(super::tag("registry:5000/app:2"), Some("2"));
        assert_eq!(super::tag("app@sha256:abc"), None);
    }
}
