//! Semantic rules the schema cannot carry: name and label syntax, selectors that match their
//! templates, port ranges, unique names, requests within limits, duplicate objects.
//! Every finding is reported (not just the first).

use crate::lower::{LoweredObject, Node, Tree};
use skyc_diag::{codes, CodeInfo, Diagnostic, Span};
use std::collections::BTreeSet;

struct Ctx<'a> {
    obj: &'a LoweredObject,
    /// The object's JSON tree.
    json: &'a Node<'a>,
    out: &'a mut Vec<Finding>,
}

/// One finding in one object, before findings with the same cause are merged.
pub(crate) struct Finding {
    code: &'static CodeInfo,
    msg: String,
    path: String,
    help: String,
    span: Option<Span>,
    object: String,
}

impl Ctx<'_> {
    fn report(&mut self, code: &'static CodeInfo, msg: String, path: &str, help: &str) {
        let o = &self.obj.object;
        self.out.push(Finding {
            code,
            msg,
            path: path.to_string(),
            help: help.to_string(),
            span: match string_at(self.json, path) {
                Some(v) => self.obj.span_at_literal(path, v),
                None => self.obj.span_at(path),
            },
            object: format!("{} `{}`", o.kind, o.name),
        });
    }
}

/// The string at a plain dotted field path (`spec.schedule`), if there is one.
fn string_at<'a>(json: &'a Node, path: &str) -> Option<&'a str> {
    if path.contains('[') {
        return None;
    }
    path.split('.')
        .try_fold(json, |v, key| v.get(key))
        .and_then(Node::as_str)
}

/// Merges findings with one cause: the same problem at the same field path and source span
/// in several objects (a bad `name` passed to `service(...)` makes every generated object's
/// name invalid) is reported once, naming the other objects in a note.
fn merge(findings: Vec<Finding>) -> Vec<Diagnostic> {
    let mut groups: Vec<(Finding, Vec<String>)> = Vec::new();
    for f in findings {
        let same = groups.iter_mut().find(|(g, _)| {
            g.code.code == f.code.code && g.msg == f.msg && g.path == f.path && g.span == f.span
        });
        match same {
            Some((_, others)) => others.push(f.object),
            None => groups.push((f, Vec::new())),
        }
    }
    groups
        .into_iter()
        .map(|(f, others)| {
            let mut d = Diagnostic::new(f.code, format!("{}: {}", f.object, f.msg))
                .with_span_opt(f.span)
                .with_field_path(&f.path)
                .with_help(f.help);
            if !others.is_empty() {
                d = d.with_note(format!("the same problem is in {}", others.join(", ")));
            }
            d
        })
        .collect()
}

/// Runs every rule over every object, on its kept tree ([`LoweredObject::json`]) or else its
/// parsed text (the pipeline runs [`check_one`] as it lowers, while the tree exists, and then
/// [`check_all`]).
pub fn validate(objects: &[LoweredObject]) -> Vec<Diagnostic> {
    let mut findings = Vec::new();
    for obj in objects {
        if obj.json.is_null() {
            check_one(obj, &Node::of(&obj.object.json()), &mut findings);
        } else {
            check_one(obj, &Node::of(&obj.json), &mut findings);
        }
    }
    check_all(objects, findings)
}

/// One object's own checks (`json` is its tree), adding to `out`.
pub(crate) fn check_one(obj: &LoweredObject, json: &Node, out: &mut Vec<Finding>) {
    if obj.is_xds() {
        return;
    }
    check_object(&mut Ctx { obj, json, out });
}

/// The checks across objects (duplicates), and the findings of each object's own checks
/// ([`check_one`]), merged where they have one cause.
pub(crate) fn check_all(objects: &[LoweredObject], findings: Vec<Finding>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // Objects with the same key are duplicates when some cluster would run both (an object
    // without clusters runs in every cluster); variants for disjoint clusters are not.
    // Looked up, never iterated: the findings follow the order of `objects`. Each key holds
    // the index of its first object and of the later ones kept for disjoint clusters (rare:
    // an empty `Vec` takes no allocation).
    // Keyed by `Object::identity`.
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut seen: std::collections::HashMap<Key, (usize, Vec<usize>), foldhash::fast::FixedState> =
        std::collections::HashMap::with_capacity_and_hasher(objects.len(), Default::default());
    for (index, obj) in objects.iter().enumerate() {
        let o = &obj.object;
        let overlaps = |other: usize| o.shares_a_cluster(&objects[other].object);
        let (first, more) = match seen.entry(o.identity()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert((index, Vec::new()));
                continue;
            }
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        };
        let earlier = std::iter::once(*first)
            .chain(more.iter().copied())
            .find(|&i| overlaps(i));
        if let Some(earlier) = earlier {
            let mut d = Diagnostic::new(
                codes::SKY0406,
                format!("{} `{}` is defined twice", o.kind, o.name),
            )
            .with_span_opt(obj.span.clone())
            .with_help(
                "rename one of them, remove the duplicate, or target them at different clusters",
            );
            if let Some(f) = &objects[earlier].span {
                d = d.with_secondary(f.clone(), "first defined here");
            }
            out.push(d);
        } else {
            more.push(index);
        }
    }
    let mut all = merge(findings);
    all.extend(out);
    all
}

/// The items of the array at `key` of an object (none when absent or not an array).
pub(crate) fn items<'a, T: Tree>(v: &'a T, key: &str) -> std::slice::Iter<'a, T> {
    v.get(key)
        .and_then(T::as_array)
        .map_or([].iter(), |a| a.iter())
}

/// The pod specs of an object with their field paths: a Pod's spec, a workload's template, a
/// CronJob's job template.
pub(crate) fn pod_specs(o: &LoweredObject) -> Vec<(String, &serde_json::Value)> {
    pod_specs_of(&o.object.kind, &o.json)
}

/// [`pod_specs`] of an object of `kind` whose tree is `j`.
fn pod_specs_of<'a, T: Tree>(kind: &str, j: &'a T) -> Vec<(String, &'a T)> {
    let at = |p: &str| {
        j.pointer(p)
            .map(|v| (p.trim_start_matches('/').replace('/', "."), v))
    };
    let found = match kind {
        "Pod" => at("/spec"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            at("/spec/template/spec")
        }
        "CronJob" => at("/spec/jobTemplate/spec/template/spec"),
        _ => None,
    };
    found.into_iter().collect()
}

/// The containers (init containers first) of a pod spec at `path`, with their field paths.
pub(crate) fn pod_containers<'a, T: Tree>(spec: &'a T, path: &str) -> Vec<(String, &'a T)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for (i, c) in items(spec, list).enumerate() {
            out.push((format!("{path}.{list}[{i}]"), c));
        }
    }
    out
}

const DNS_LABEL_KINDS: &[&str] = &["Service", "Namespace"];

fn check_object(c: &mut Ctx) {
    let obj = c.obj;
    let json = c.json;
    let kind = &obj.object.kind;
    let meta = json.get("metadata").unwrap_or(&Node::Null);
    match meta.get("name").and_then(Node::as_str) {
        None | Some("") => {
            if meta.get("generateName").is_none() {
                c.report(
                    codes::SKY0401,
                    "has no name".into(),
                    "metadata.name",
                    "set metadata.name",
                );
            }
        }
        Some(name) => {
            let res = if DNS_LABEL_KINDS.contains(&kind.as_str()) {
                dns_label(name)
            } else {
                dns_subdomain(name)
            };
            if let Err(why) = res {
                c.report(
                    codes::SKY0401,
                    format!("invalid name `{name}`: {why}"),
                    "metadata.name",
                    "use lowercase letters, digits and '-'",
                );
            }
        }
    }
    if let Some(ns) = meta.get("namespace").and_then(Node::as_str) {
        if let Err(why) = dns_label(ns) {
            c.report(
                codes::SKY0401,
                format!("invalid namespace `{ns}`: {why}"),
                "metadata.namespace",
                "use lowercase letters, digits and '-'",
            );
        }
    }
    check_labels(c, meta, "metadata");

    // Workloads: selector vs template labels, then the pod spec.
    let spec = json.get("spec").unwrap_or(&Node::Null);
    match kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            let template = spec.get("template").unwrap_or(&Node::Null);
            check_labels(
                c,
                template.get("metadata").unwrap_or(&Node::Null),
                "spec.template.metadata",
            );
            check_selector(c, spec, template);
        }
        "CronJob" => {
            if let Some(schedule) = spec.get("schedule").and_then(Node::as_str) {
                if let Err(why) = crate::cron::check_schedule(schedule) {
                    c.report(
                        codes::SKY0409,
                        format!("invalid schedule `{schedule}`: {why}"),
                        "spec.schedule",
                        "five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"",
                    );
                }
            }
            if let Some(zone) = spec.get("timeZone").and_then(Node::as_str) {
                if let Err((why, hint)) = crate::cron::check_time_zone(zone) {
                    let help = match hint {
                        Some(h) => format!("did you mean `{h}`?"),
                        None => "use an IANA name such as \"Europe/Berlin\" or \"America/New_York\"; omit it for UTC".to_string(),
                    };
                    c.report(
                        codes::SKY0411,
                        format!("invalid time zone: {why}"),
                        "spec.timeZone",
                        &help,
                    );
                }
            }
            // The controller names each Job `<name>-<11 digits>`, which must be a 63-character
            // label: longer CronJob names are accepted and then never run.
            if let Some(name) = meta.get("name").and_then(Node::as_str) {
                if name.len() > 52 {
                    c.report(
                        codes::SKY0410,
                        format!(
                            "the CronJob name `{name}` has {} characters; CronJobs with names longer than 52 never schedule",
                            name.len()
                        ),
                        "metadata.name",
                        "shorten the name to 52 characters or fewer",
                    );
                }
            }
        }
        "Service" => check_service(c, spec),
        _ => {}
    }
    for (path, ps) in pod_specs_of(kind, json) {
        check_pod_spec(c, ps, &path);
    }
}

fn check_labels(c: &mut Ctx, meta: &Node, path: &str) {
    if let Some(labels) = meta.get("labels").and_then(Node::as_object) {
        for (k, v) in labels {
            if let Err(why) = label_key(k) {
                c.report(
                    codes::SKY0402,
                    format!("invalid label key `{k}`: {why}"),
                    &format!("{path}.labels"),
                    "keys are [prefix/]name, name at most 63 characters",
                );
            }
            if let Some(v) = v.as_str() {
                if let Err(why) = label_value(v) {
                    c.report(
                        codes::SKY0402,
                        format!("invalid value `{v}` of label `{k}`: {why}"),
                        &format!("{path}.labels[{k:?}]"),
                        "label values are at most 63 characters of [A-Za-z0-9_.-]",
                    );
                }
            }
        }
    }
    if let Some(ann) = meta.get("annotations").and_then(Node::as_object) {
        for (k, _) in ann {
            if let Err(why) = label_key(k) {
                c.report(
                    codes::SKY0402,
                    format!("invalid annotation key `{k}`: {why}"),
                    &format!("{path}.annotations"),
                    "keys are [prefix/]name, name at most 63 characters",
                );
            }
        }
    }
}

fn check_selector(c: &mut Ctx, spec: &Node, template: &Node) {
    let Some(sel) = spec.get("selector") else {
        return;
    };
    let labels = template
        .pointer("/metadata/labels")
        .filter(|l| l.is_object())
        .unwrap_or(&Node::Null);
    if let Some(ml) = sel.get("matchLabels").and_then(Node::as_object) {
        for (k, v) in ml {
            if labels.get(k) != Some(v) {
                let have = labels.get(k).map_or("no such label".to_string(), |h| {
                    format!("the template has {h}")
                });
                c.report(
                    codes::SKY0403,
                    format!(
                        "selector `{k}: {}` does not match the pod template ({have})",
                        v.as_str().unwrap_or("")
                    ),
                    "spec.selector.matchLabels",
                    "make spec.selector.matchLabels a subset of spec.template.metadata.labels",
                );
            }
        }
    }
    if let Some(exprs) = sel.get("matchExpressions").and_then(Node::as_array) {
        for e in exprs {
            let (Some(key), Some(op)) = (
                e.get("key").and_then(Node::as_str),
                e.get("operator").and_then(Node::as_str),
            ) else {
                continue;
            };
            let vals: Vec<&str> = e
                .get("values")
                .and_then(Node::as_array)
                .map(|a| a.iter().filter_map(Node::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key).and_then(Node::as_str);
            let ok = match op {
                "In" => have.is_some_and(|h| vals.contains(&h)),
                "NotIn" => have.is_none_or(|h| !vals.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => true,
            };
            if !ok {
                c.report(
                    codes::SKY0403,
                    format!("selector expression `{key} {op}` does not match the pod template"),
                    "spec.selector.matchExpressions",
                    "make the selector select the template's labels",
                );
            }
        }
    }
}

fn check_pod_spec(c: &mut Ctx, ps: &Node, path: &str) {
    let mut names = BTreeSet::new();
    for (cpath, ct) in pod_containers(ps, path) {
        let name = ct.get("name").and_then(Node::as_str).unwrap_or("");
        if let Err(why) = dns_label(name) {
            c.report(
                codes::SKY0401,
                format!("invalid container name `{name}`: {why}"),
                &format!("{cpath}.name"),
                "use lowercase letters, digits and '-'",
            );
        }
        if !names.insert(name) {
            c.report(
                codes::SKY0405,
                format!("container name `{name}` is used twice"),
                &format!("{cpath}.name"),
                "give every container of a pod its own name",
            );
        }
        let mut port_names = BTreeSet::new();
        for (j, p) in items(ct, "ports").enumerate() {
            // Paths are written only for a finding.
            let ppath = || format!("{cpath}.ports[{j}]");
            for f in ["containerPort", "hostPort"] {
                if let Some(n) = p.get(f).and_then(Node::as_i64) {
                    if !(1..=65535).contains(&n) {
                        c.report(
                            codes::SKY0404,
                            format!("{f} {n} is out of range"),
                            &format!("{}.{f}", ppath()),
                            "ports are 1 to 65535",
                        );
                    }
                }
            }
            if let Some(n) = p.get("name").and_then(Node::as_str) {
                if n.len() > 15 {
                    c.report(
                        codes::SKY0401,
                        format!("port name `{n}` is longer than 15 characters"),
                        &format!("{}.name", ppath()),
                        "port names are IANA service names: at most 15 characters",
                    );
                }
                if !port_names.insert(n) {
                    c.report(
                        codes::SKY0405,
                        format!("port name `{n}` is used twice"),
                        &format!("{}.name", ppath()),
                        "give every port its own name",
                    );
                }
            }
        }
        let mut env_names = BTreeSet::new();
        for (j, e) in items(ct, "env").enumerate() {
            if let Some(n) = e.get("name").and_then(Node::as_str) {
                if !env_names.insert(n) {
                    c.report(
                        codes::SKY0405,
                        format!("environment variable `{n}` is set twice"),
                        &format!("{cpath}.env[{j}].name"),
                        "set each variable once; the last one would silently win",
                    );
                }
            }
        }
        if let Some(res) = ct.get("resources") {
            let req = res.get("requests").and_then(Node::as_object);
            let lim = res.get("limits").filter(|l| l.is_object());
            if let (Some(req), Some(lim)) = (req, lim) {
                for (k, rv) in req {
                    let (Some(r), Some(l)) = (
                        rv.as_str().and_then(q),
                        lim.get(k).and_then(Node::as_str).and_then(q),
                    ) else {
                        continue;
                    };
                    if r > l {
                        c.report(
                            codes::SKY0407,
                            format!(
                                "container `{name}` requests more {k} ({}) than its limit ({})",
                                rv.as_str().unwrap_or(""),
                                lim.get(k).and_then(Node::as_str).unwrap_or("")
                            ),
                            &format!("{cpath}.resources.requests"),
                            "lower the request or raise the limit",
                        );
                    }
                }
            }
        }
    }
    let mut vol_names = BTreeSet::new();
    for (i, v) in items(ps, "volumes").enumerate() {
        if let Some(n) = v.get("name").and_then(Node::as_str) {
            if !vol_names.insert(n.to_string()) {
                c.report(
                    codes::SKY0405,
                    format!("volume name `{n}` is used twice"),
                    &format!("{path}.volumes[{i}].name"),
                    "give every volume its own name",
                );
            }
        }
    }
}

fn q(s: &str) -> Option<f64> {
    skyc_schema::parse_quantity(s).ok().map(|q| q.value)
}

fn check_service(c: &mut Ctx, spec: &Node) {
    let mut names = BTreeSet::new();
    for (i, p) in items(spec, "ports").enumerate() {
        let ppath = || format!("spec.ports[{i}]");
        if let Some(n) = p.get("port").and_then(Node::as_i64) {
            if !(1..=65535).contains(&n) {
                c.report(
                    codes::SKY0404,
                    format!("port {n} is out of range"),
                    &format!("{}.port", ppath()),
                    "ports are 1 to 65535",
                );
            }
        }
        if let Some(n) = p.get("targetPort").and_then(Node::as_i64) {
            if !(1..=65535).contains(&n) {
                c.report(
                    codes::SKY0404,
                    format!("targetPort {n} is out of range"),
                    &format!("{}.targetPort", ppath()),
                    "ports are 1 to 65535",
                );
            }
        }
        if let Some(n) = p.get("name").and_then(Node::as_str) {
            if !names.insert(n) {
                c.report(
                    codes::SKY0405,
                    format!("port name `{n}` is used twice"),
                    &format!("{}.name", ppath()),
                    "give every port its own name",
                );
            }
        }
    }
}

/// RFC 1123 label: at most 63 characters, lowercase alphanumerics and '-', alphanumeric ends.
pub fn dns_label(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s.len() > 63 {
        return Err(format!(
            "it is {} characters long; the limit is 63",
            s.len()
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("it may contain only lowercase letters, digits and '-'".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err("it must start and end with a letter or digit".into());
    }
    Ok(())
}

/// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() > 253 {
        return Err(format!(
            "it is {} characters long; the limit is 253",
            s.len()
        ));
    }
    for part in s.split('.') {
        dns_label(part).map_err(|e| {
            if s.contains('.') {
                format!("`{part}`: {e}")
            } else {
                e
            }
        })?;
    }
    Ok(())
}

fn name_part(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 63 {
        return Err("the name part must be 1 to 63 characters".into());
    }
    let ok = |b: u8| b.is_ascii_alphanumeric();
    if !s.bytes().all(|b| ok(b) || matches!(b, b'-' | b'_' | b'.')) {
        return Err("the name part may contain only letters, digits, '-', '_' and '.'".into());
    }
    if !ok(s.as_bytes()[0]) || !ok(s.as_bytes()[s.len() - 1]) {
        return Err("the name part must start and end with a letter or digit".into());
    }
    Ok(())
}

/// `[prefix/]name` of a label or annotation key.
pub fn label_key(k: &str) -> Result<(), String> {
    match k.split_once('/') {
        Some((prefix, name)) => {
            dns_subdomain(prefix).map_err(|e| format!("the prefix {e}"))?;
            name_part(name)
        }
        None => name_part(k),
    }
}

pub fn label_value(v: &str) -> Result<(), String> {
    if v.is_empty() {
        Ok(())
    } else {
        name_part(v).map_err(|e| e.replace("the name part", "the value"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(dns_label("home-srv").is_ok());
        assert!(dns_label("Home_Srv").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(dns_subdomain("a.b-c.d").is_ok());
        assert!(label_key("app.kubernetes.io/name").is_ok());
        assert!(label_key("owner").is_ok());
        assert!(label_key("-bad").is_err());
        assert!(label_value("").is_ok());
        assert!(label_value("v1.2_3").is_ok());
        assert!(label_value("a b").is_err());
    }
}
