//! Which clusters an object runs in. An object targets clusters with the `skyc.dev/clusters`
//! annotation on its metadata (the cluster names joined with ","; the stdlib's `on_clusters`
//! and `migrate` write it); an object without it runs in every cluster. The annotation stays in
//! the rendered output, so the deploy tool and `skyc diff` see it; lowering reads it into
//! [`Object::clusters`](crate::Object) and checks it with [`check`]; `skyc render --cluster
//! NAME` keeps the objects that [`runs_in`] that cluster.

use crate::lower::Tree;
use serde_json::Value as Json;
use skyc_diag::{codes, did_you_mean, CodeInfo};

/// The annotation naming the clusters an object runs in.
pub const ANNOTATION: &str = "skyc.dev/clusters";

/// The field path of the annotation in an object, as diagnostics name it.
pub const FIELD_PATH: &str = "metadata.annotations[\"skyc.dev/clusters\"]";

/// The annotation's value in a rendered object, when it has one.
pub fn annotation(obj: &Json) -> Option<&str> {
    annotation_in(obj)
}

/// [`annotation`] of any tree.
pub(crate) fn annotation_in(obj: &impl Tree) -> Option<&str> {
    obj.get("metadata")?
        .get("annotations")?
        .get(ANNOTATION)?
        .as_str()
}

/// The clusters a rendered object targets, in the order written (empty: every cluster).
pub fn of(obj: &Json) -> Vec<String> {
    of_tree(obj)
}

/// [`of`] any tree.
pub(crate) fn of_tree(obj: &impl Tree) -> Vec<String> {
    annotation_in(obj)
        .map(|v| {
            v.split(',')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an object targeting `clusters` (empty: every cluster) runs in `cluster`.
pub fn runs_in(clusters: &[String], cluster: &str) -> bool {
    clusters.is_empty() || clusters.iter().any(|c| c == cluster)
}

/// Why a cluster name is malformed: cluster names are DNS labels (RFC 1123), like namespaces.
pub fn check_name(name: &str) -> Result<(), String> {
    crate::validate::dns_label(name)
}

/// A problem with a cluster name or a `skyc.dev/clusters` value.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: &'static CodeInfo,
    pub message: String,
    pub help: String,
}

/// The problems of one cluster name: malformed (SKY0412), or not one of the clusters the
/// project declares in `sky.toml` (SKY0413; any well-formed name when it declares none).
pub fn check_one(name: &str, declared: &[String]) -> Option<Problem> {
    if let Err(why) = check_name(name) {
        let message = if name.is_empty() {
            "a cluster name is empty".to_string()
        } else {
            format!("cluster name `{name}` is not a DNS label: {why}")
        };
        return Some(Problem {
            code: codes::SKY0412,
            message,
            help:
                "cluster names are DNS labels: lowercase letters, digits and '-', e.g. \"k8s-west\""
                    .into(),
        });
    }
    if declared.is_empty() || declared.iter().any(|d| d == name) {
        return None;
    }
    let list = declared.join(", ");
    let help = match did_you_mean(name, declared.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`? sky.toml declares: {list}"),
        None => format!(
            "sky.toml declares: {list}; add `{name}` to `[clusters] names` if it is a new cluster"
        ),
    };
    Some(Problem {
        code: codes::SKY0413,
        message: format!("cluster `{name}` is not declared in sky.toml"),
        help,
    })
}

/// The problems of a `skyc.dev/clusters` value: no names, empty or malformed names,
/// duplicates (SKY0412), undeclared names (SKY0413).
pub fn check(value: &str, declared: &[String]) -> Vec<Problem> {
    let mut out = Vec::new();
    if value.is_empty() {
        out.push(Problem {
            code: codes::SKY0412,
            message: format!("`{ANNOTATION}` names no cluster"),
            help: "name at least one cluster, or remove the annotation to run the object in every cluster".into(),
        });
        return out;
    }
    let names: Vec<&str> = value.split(',').collect();
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() {
            out.push(Problem {
                code: codes::SKY0412,
                message: format!("`{ANNOTATION}` has an empty cluster name: {value:?}"),
                help:
                    "join the cluster names with \",\" and nothing else, e.g. \"legacy,k8s-west\""
                        .into(),
            });
            continue;
        }
        if names[..i].contains(name) {
            out.push(Problem {
                code: codes::SKY0412,
                message: format!("cluster `{name}` is named twice in `{ANNOTATION}`"),
                help: "name each cluster once".into(),
            });
            continue;
        }
        out.extend(check_one(name, declared));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn targets_and_filtering() {
        let obj = |v: &str| json!({"metadata": {"annotations": {ANNOTATION: v}}});
        assert_eq!(of(&obj("legacy,k8s-west")), ["legacy", "k8s-west"]);
        assert!(of(&json!({"metadata": {"name": "x"}})).is_empty());
        let both = of(&obj("legacy,k8s-west"));
        assert!(runs_in(&both, "legacy") && runs_in(&both, "k8s-west"));
        assert!(!runs_in(&of(&obj("legacy")), "k8s-west"));
        // No annotation: every cluster.
        assert!(runs_in(&[], "anywhere"));
    }

    #[test]
    fn problems() {
        let declared = vec!["legacy".to_string(), "k8s-west".to_string()];
        assert!(check("legacy,k8s-west", &declared).is_empty());
        assert!(check("anything", &[]).is_empty());
        let codes_of = |v: &str| {
            check(v, &declared)
                .iter()
                .map(|p| p.code.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes_of(""), ["SKY0412"]);
        assert_eq!(codes_of("legacy,"), ["SKY0412"]);
        assert_eq!(codes_of("legacy, k8s-west"), ["SKY0412"]);
        assert_eq!(codes_of("legacy,legacy"), ["SKY0412"]);
        assert_eq!(codes_of("K8s_West"), ["SKY0412"]);
        assert_eq!(codes_of("k8s-wst"), ["SKY0413"]);
        assert!(check("k8s-wst", &declared)[0]
            .help
            .starts_with("did you mean `k8s-west`?"));
    }
}
