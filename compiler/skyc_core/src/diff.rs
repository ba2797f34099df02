//! Semantic diff of two renders: which objects were added, removed, renamed or changed, and for
//! changed objects which fields (path, old value, new value). Objects are keyed by apiVersion,
//! kind, namespace and name; lists of named items (containers, ports, env, volumes, …) are
//! matched by name, so reordering is not a change and a change shows the item's name. An object
//! whose target clusters (its `skyc.dev/clusters` annotation) changed has moved: that is shown
//! in words (`legacy → k8s-west`), with its other changes, if any, as fields. Output order is
//! stable: objects by key, fields in document order.

use crate::clusters;
use serde_json::Value as Json;
use std::collections::BTreeMap;

/// The objects of a rendered file: a YAML stream (`---` between documents) or JSON (one object
/// or a `v1/List`). Empty documents are skipped.
pub fn parse_render(text: &str) -> Result<Vec<Json>, String> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let v = Json::deserialize(doc).map_err(|e| e.to_string())?;
        match v {
            Json::Null => {}
            Json::Object(ref o) if o.get("kind").and_then(Json::as_str) == Some("List") => out
                .extend(
                    o.get("items")
                        .and_then(Json::as_array)
                        .cloned()
                        .unwrap_or_default(),
                ),
            Json::Object(_) => out.push(v),
            other => return Err(format!("a document is not an object: {other}")),
        }
    }
    Ok(out)
}

/// apiVersion, kind, namespace ("" when none), name.
pub type ObjectKey = (String, String, String, String);

/// The key of a rendered object.
pub fn key_of(obj: &Json) -> ObjectKey {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    (
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name"),
    )
}

/// One field that differs. `old`/`new` are `None` when the field is absent on that side.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Json>,
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "change", rename_all = "lowercase")]
pub enum ObjectChange {
    Added {
        key: ObjectKey,
    },
    Removed {
        key: ObjectKey,
    },
    /// Same kind and namespace, a new name, and (almost) the same content.
    Renamed {
        from: ObjectKey,
        key: ObjectKey,
        fields: Vec<FieldChange>,
    },
    Changed {
        key: ObjectKey,
        fields: Vec<FieldChange>,
    },
    /// Runs in other clusters than before; `fields` are its other changes.
    Moved {
        key: ObjectKey,
        clusters: ClusterMove,
        fields: Vec<FieldChange>,
    },
}

/// The clusters an object ran in and runs in (empty: every cluster).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClusterMove {
    pub old: Vec<String>,
    pub new: Vec<String>,
}

impl ObjectChange {
    pub fn key(&self) -> &ObjectKey {
        match self {
            ObjectChange::Added { key }
            | ObjectChange::Removed { key }
            | ObjectChange::Renamed { key, .. }
            | ObjectChange::Changed { key, .. }
            | ObjectChange::Moved { key, .. } => key,
        }
    }
}

/// At most this many other field changes still make a removed and an added object a rename.
const RENAME_SLACK: usize = 3;

/// Diffs two renders (lists of objects).
pub fn diff(old: &[Json], new: &[Json]) -> Vec<ObjectChange> {
    let a: BTreeMap<ObjectKey, &Json> = old.iter().map(|o| (key_of(o), o)).collect();
    let b: BTreeMap<ObjectKey, &Json> = new.iter().map(|o| (key_of(o), o)).collect();
    let mut out = Vec::new();
    let mut removed: Vec<&ObjectKey> = a.keys().filter(|k| !b.contains_key(*k)).collect();
    let mut added: Vec<&ObjectKey> = b.keys().filter(|k| !a.contains_key(*k)).collect();
    for (k, o) in &a {
        if let Some(n) = b.get(k) {
            let (old_clusters, new_clusters) = (clusters::of(o), clusters::of(n));
            if !same_set(&old_clusters, &new_clusters) {
                let mut fields = Vec::new();
                walk(&untargeted(o), &untargeted(n), "", &mut fields);
                out.push(ObjectChange::Moved {
                    key: (*k).clone(),
                    clusters: ClusterMove {
                        old: old_clusters,
                        new: new_clusters,
                    },
                    fields,
                });
                continue;
            }
            let mut fields = Vec::new();
            walk(o, n, "", &mut fields);
            if !fields.is_empty() {
                out.push(ObjectChange::Changed {
                    key: (*k).clone(),
                    fields,
                });
            }
        }
    }
    // Renames: a removed and an added object of the same kind and namespace whose content,
    // apart from names, barely differs.
    let mut i = 0;
    while i < removed.len() {
        let r = removed[i];
        let best = added
            .iter()
            .enumerate()
            .filter(|(_, k)| k.0 == r.0 && k.1 == r.1 && k.2 == r.2)
            .map(|(j, k)| {
                let mut fields = Vec::new();
                walk(a[r], b[*k], "", &mut fields);
                fields.retain(|f| f.path != "metadata.name");
                (j, fields)
            })
            .filter(|(_, f)| f.len() <= RENAME_SLACK)
            .min_by_key(|(j, f)| (f.len(), *j));
        match best {
            Some((j, fields)) => {
                out.push(ObjectChange::Renamed {
                    from: r.clone(),
                    key: added[j].clone(),
                    fields,
                });
                added.remove(j);
                removed.remove(i);
            }
            None => i += 1,
        }
    }
    out.extend(
        removed
            .into_iter()
            .map(|k| ObjectChange::Removed { key: k.clone() }),
    );
    out.extend(
        added
            .into_iter()
            .map(|k| ObjectChange::Added { key: k.clone() }),
    );
    out.sort_by(|x, y| x.key().cmp(y.key()));
    out
}

/// Whether two cluster lists name the same clusters (in any order).
fn same_set(a: &[String], b: &[String]) -> bool {
    use std::collections::BTreeSet;
    a.iter().collect::<BTreeSet<_>>() == b.iter().collect::<BTreeSet<_>>()
}

/// The object without its `skyc.dev/clusters` annotation (and without `annotations` when
/// that was the only one), so that a move's other changes can be listed on their own.
fn untargeted(obj: &Json) -> Json {
    let mut o = obj.clone();
    if let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut) {
        if let Some(ann) = meta.get_mut("annotations").and_then(Json::as_object_mut) {
            ann.shift_remove(clusters::ANNOTATION);
            if ann.is_empty() {
                meta.shift_remove("annotations");
            }
        }
    }
    o
}

/// Clusters in words: `legacy, k8s-west`, or `all clusters`.
fn clusters_text(c: &[String]) -> String {
    if c.is_empty() {
        "all clusters".into()
    } else {
        c.join(", ")
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The name of a list item, when every item of both lists has a distinct `name`.
fn names(items: &[Json]) -> Option<Vec<&str>> {
    let n: Vec<&str> = items
        .iter()
        .map(|x| x.get("name").and_then(Json::as_str))
        .collect::<Option<_>>()?;
    let mut sorted = n.clone();
    sorted.sort_unstable();
    sorted.dedup();
    (sorted.len() == n.len()).then_some(n)
}

fn walk(a: &Json, b: &Json, path: &str, out: &mut Vec<FieldChange>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for (k, va) in x {
                match y.get(k) {
                    Some(vb) => walk(va, vb, &join(path, k), out),
                    None => out.push(FieldChange {
                        path: join(path, k),
                        old: Some(va.clone()),
                        new: None,
                    }),
                }
            }
            for (k, vb) in y {
                if !x.contains_key(k) {
                    out.push(FieldChange {
                        path: join(path, k),
                        old: None,
                        new: Some(vb.clone()),
                    });
                }
            }
        }
        (Json::Array(x), Json::Array(y)) => match (names(x), names(y)) {
            (Some(nx), Some(ny)) => {
                for (i, n) in nx.iter().enumerate() {
                    let p = format!("{path}[name={n}]");
                    match ny.iter().position(|m| m == n) {
                        Some(j) => walk(&x[i], &y[j], &p, out),
                        None => out.push(FieldChange {
                            path: p,
                            old: Some(x[i].clone()),
                            new: None,
                        }),
                    }
                }
                for (j, n) in ny.iter().enumerate() {
                    if !nx.contains(n) {
                        out.push(FieldChange {
                            path: format!("{path}[name={n}]"),
                            old: None,
                            new: Some(y[j].clone()),
                        });
                    }
                }
            }
            _ if x.len() == y.len() => {
                for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                    walk(va, vb, &format!("{path}[{i}]"), out);
                }
            }
            _ => out.push(FieldChange {
                path: path.to_string(),
                old: Some(a.clone()),
                new: Some(b.clone()),
            }),
        },
        _ if a == b => {}
        _ => out.push(FieldChange {
            path: path.to_string(),
            old: Some(a.clone()),
            new: Some(b.clone()),
        }),
    }
}

fn show(k: &ObjectKey) -> String {
    let ns = if k.2.is_empty() {
        String::new()
    } else {
        format!("{}/", k.2)
    };
    format!("{} {ns}{}", k.1, k.3)
}

fn value(v: &Option<Json>) -> String {
    match v {
        None => "(absent)".into(),
        Some(Json::String(s)) => format!("{s:?}"),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 80 {
                format!("{}…", s.chars().take(80).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// Text for a terminal: `+`/`-`/`~`/`>` per object, then its fields. `color` adds ANSI colors.
pub fn render_text(changes: &[ObjectChange], color: bool) -> String {
    let paint = |code: &str, s: String| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s
        }
    };
    let mut out = String::new();
    for c in changes {
        match c {
            ObjectChange::Added { key } => {
                out.push_str(&paint("32", format!("+ {} (added)", show(key))));
                out.push('\n');
            }
            ObjectChange::Removed { key } => {
                out.push_str(&paint("31", format!("- {} (removed)", show(key))));
                out.push('\n');
            }
            ObjectChange::Renamed { from, key, fields } => {
                out.push_str(&paint(
                    "33",
                    format!("> {} renamed to {}", show(from), key.3),
                ));
                out.push('\n');
                fields_text(fields, &paint, &mut out);
            }
            ObjectChange::Changed { key, fields } => {
                out.push_str(&paint("33", format!("~ {}", show(key))));
                out.push('\n');
                fields_text(fields, &paint, &mut out);
            }
            ObjectChange::Moved {
                key,
                clusters,
                fields,
            } => {
                out.push_str(&paint(
                    "36",
                    format!(
                        "> {} moved: {} → {}",
                        show(key),
                        clusters_text(&clusters.old),
                        clusters_text(&clusters.new)
                    ),
                ));
                out.push('\n');
                fields_text(fields, &paint, &mut out);
            }
        }
    }
    if changes.is_empty() {
        out.push_str("no differences\n");
    }
    out
}

fn fields_text(fields: &[FieldChange], paint: &dyn Fn(&str, String) -> String, out: &mut String) {
    for f in fields {
        out.push_str(&format!("    {}: ", f.path));
        out.push_str(&paint("31", value(&f.old)));
        out.push_str(" → ");
        out.push_str(&paint("32", value(&f.new)));
        out.push('\n');
    }
}

fn fields_markdown(fields: &[FieldChange], out: &mut String) {
    let cell = |v: &Option<Json>| value(v).replace('|', "\\|");
    for f in fields {
        out.push_str(&format!(
            "  - `{}`: {} → {}\n",
            f.path,
            cell(&f.old),
            cell(&f.new)
        ));
    }
}

/// Markdown for a pull request comment.
pub fn render_markdown(changes: &[ObjectChange]) -> String {
    let mut out = String::from("### skyc diff\n\n");
    if changes.is_empty() {
        out.push_str("No differences.\n");
        return out;
    }
    let count = |f: fn(&ObjectChange) -> bool| changes.iter().filter(|c| f(c)).count();
    // Moves are counted only when there are any (most changes move nothing).
    let moved = match count(|c| matches!(c, ObjectChange::Moved { .. })) {
        0 => String::new(),
        n => format!("{n} moved, "),
    };
    out.push_str(&format!(
        "{} added, {} removed, {} renamed, {moved}{} changed.\n\n",
        count(|c| matches!(c, ObjectChange::Added { .. })),
        count(|c| matches!(c, ObjectChange::Removed { .. })),
        count(|c| matches!(c, ObjectChange::Renamed { .. })),
        count(|c| matches!(c, ObjectChange::Changed { .. })),
    ));
    for c in changes {
        match c {
            ObjectChange::Added { key } => out.push_str(&format!("- **added** `{}`\n", show(key))),
            ObjectChange::Removed { key } => {
                out.push_str(&format!("- **removed** `{}`\n", show(key)))
            }
            ObjectChange::Renamed { from, key, fields } => {
                out.push_str(&format!("- **renamed** `{}` → `{}`\n", show(from), key.3));
                fields_markdown(fields, &mut out);
            }
            ObjectChange::Changed { key, fields } => {
                out.push_str(&format!("- **changed** `{}`\n", show(key)));
                fields_markdown(fields, &mut out);
            }
            ObjectChange::Moved {
                key,
                clusters,
                fields,
            } => {
                out.push_str(&format!(
                    "- **moved** `{}`: {} → {}\n",
                    show(key),
                    clusters_text(&clusters.old),
                    clusters_text(&clusters.new)
                ));
                fields_markdown(fields, &mut out);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn svc(name: &str, port: i64) -> Json {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "a"},
               "spec": {"ports": [{"name": "http", "port": port}]}})
    }

    #[test]
    fn added_removed_changed_renamed() {
        let dep = |privileged: bool| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                   "spec": {"template": {"spec": {"containers": [
                       {"name": "side", "image": "s:1"},
                       {"name": "web", "image": "w:1", "securityContext": {"privileged": privileged}}]}}}})
        };
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}});
        let old = vec![dep(false), svc("web", 80), cm.clone()];
        let mut reordered = dep(true);
        reordered["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .reverse();
        let new = vec![reordered, svc("web-http", 80)];
        let d = diff(&old, &new);
        assert_eq!(d.len(), 3, "{d:#?}");
        let text = render_text(&d, false);
        assert!(text.contains("- ConfigMap cfg (removed)"), "{text}");
        assert!(
            text.contains("> Service a/web renamed to web-http"),
            "{text}"
        );
        assert!(text.contains(
            "~ Deployment web\n    spec.template.spec.containers[name=web].securityContext.privileged: false → true"
        ), "{text}");
        // Reordering named items is not a change.
        assert!(!text.contains("side"), "{text}");
    }

    #[test]
    fn a_change_of_clusters_is_a_move() {
        let job = |clusters: Option<&str>, image: &str| {
            let mut j = json!({"apiVersion": "batch/v1", "kind": "CronJob",
                "metadata": {"name": "settle", "namespace": "payments", "annotations": {"team": "pay"}},
                "spec": {"schedule": "@daily", "image": image}});
            if let Some(c) = clusters {
                j["metadata"]["annotations"][clusters::ANNOTATION] = json!(c);
            }
            j
        };
        let text = |a: &Json, b: &Json| {
            render_text(
                &diff(std::slice::from_ref(a), std::slice::from_ref(b)),
                false,
            )
        };
        let (legacy, west) = (job(Some("legacy"), "a"), job(Some("k8s-west"), "a"));
        assert_eq!(
            text(&legacy, &west),
            "> CronJob payments/settle moved: legacy → k8s-west\n"
        );
        // Moving back is the same move the other way.
        assert_eq!(
            text(&west, &legacy),
            "> CronJob payments/settle moved: k8s-west → legacy\n"
        );
        assert_eq!(
            text(&legacy, &job(None, "a")),
            "> CronJob payments/settle moved: legacy → all clusters\n"
        );
        // Other changes are listed under the move.
        assert_eq!(
            text(&legacy, &job(Some("legacy,k8s-west"), "b")),
            "> CronJob payments/settle moved: legacy → legacy, k8s-west\n    spec.image: \"a\" → \"b\"\n"
        );
        // The same clusters in another order are not a move.
        let d = diff(
            &[job(Some("legacy,k8s-west"), "a")],
            &[job(Some("k8s-west,legacy"), "a")],
        );
        assert!(matches!(d[0], ObjectChange::Changed { .. }), "{d:#?}");
        let md = render_markdown(&diff(
            std::slice::from_ref(&legacy),
            std::slice::from_ref(&west),
        ));
        assert!(md.contains("0 renamed, 1 moved, 0 changed."), "{md}");
        assert!(
            md.contains("- **moved** `CronJob payments/settle`: legacy → k8s-west\n"),
            "{md}"
        );
    }

    #[test]
    fn a_different_object_is_not_a_rename() {
        let d = diff(
            &[svc("a", 80)],
            &[json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "b", "namespace": "a"},
            "spec": {"ports": [{"name": "grpc", "port": 9}, {"name": "x", "port": 1}], "type": "NodePort", "clusterIP": "None", "selector": {"x": "y"}}})],
        );
        assert!(
            matches!(
                d[0],
                ObjectChange::Removed { .. } | ObjectChange::Added { .. }
            ),
            "{d:#?}"
        );
        assert_eq!(d.len(), 2);
    }
}
