//! Validation of Envoy messages: the rules their protos declare (required fields, ranges,
//! lengths, oneofs; protoc-gen-validate) and the cross-references Envoy itself checks late or
//! not at all (routes to undefined clusters, duplicate cluster and listener names, unknown
//! `retry_on` conditions). Works on the JSON with protobuf field names that lowering produces.

use serde_json::Value as Json;
use skyc_diag::{codes, did_you_mean, CodeInfo};
use skyc_schema::{lookup, FieldType, Rules, TypeId};
use std::collections::{BTreeMap, BTreeSet};

/// A problem at a field path (already prefixed with the path of the embedding field).
pub(crate) struct Finding {
    pub code: &'static CodeInfo,
    pub message: String,
    pub path: String,
    pub help: String,
}

/// Every finding in the Envoy message `json` of type `ty`, found at `base`.
pub(crate) fn check(ty: TypeId, json: &Json, base: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    message(ty, json, base, &mut out);
    references(json, base, &mut out);
    out
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

fn message(ty: TypeId, json: &Json, path: &str, out: &mut Vec<Finding>) {
    let t = lookup(ty);
    let Some(obj) = json.as_object() else { return };
    // A oneof member's own `required` applies only when it is the member chosen.
    let in_oneof: BTreeSet<usize> = t.oneofs.iter().flat_map(|o| o.fields.clone()).collect();
    for (i, f) in t.fields.iter().enumerate() {
        let fpath = join(path, &f.name);
        match obj.get(&*f.name) {
            None | Some(Json::Null) => {
                if f.required && !in_oneof.contains(&i) {
                    out.push(Finding {
                        code: codes::SKY0501,
                        message: format!("{} requires `{}`", t.short_name(), f.name),
                        path: fpath,
                        help: format!("set `{}` (see `skyc doc {}.{}`)", f.name, t.path, f.name),
                    });
                }
            }
            Some(v) => {
                rules(&f.rules, &f.ty, v, &fpath, out);
                value(&f.ty, v, &fpath, out);
            }
        }
    }
    for o in &t.oneofs {
        let set: Vec<&str> = o
            .fields
            .iter()
            .map(|&i| &*t.fields[i].name)
            .filter(|n| obj.get(*n).is_some_and(|v| !v.is_null()))
            .collect();
        let names = o
            .fields
            .iter()
            .map(|&i| format!("`{}`", t.fields[i].name))
            .collect::<Vec<_>>()
            .join(", ");
        if set.len() > 1 {
            out.push(Finding {
                code: codes::SKY0501,
                message: format!(
                    "{} takes only one of {names} (they form the oneof `{}`), but sets {}",
                    t.short_name(),
                    o.name,
                    set.iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                path: join(path, set[1]),
                help: format!("keep one of them; remove `{}`", set[1]),
            });
        } else if set.is_empty() && o.required {
            out.push(Finding {
                code: codes::SKY0501,
                message: format!("{} requires one of {names}", t.short_name()),
                path: path.to_string(),
                help: format!("set one of {names}"),
            });
        }
    }
}

fn value(ty: &FieldType, v: &Json, path: &str, out: &mut Vec<Finding>) {
    match ty {
        FieldType::Message(id) => message(*id, v, path, out),
        FieldType::Any => {
            let inner = v
                .get("@type")
                .and_then(Json::as_str)
                .and_then(|u| u.rsplit_once('/'))
                .and_then(|(_, name)| skyc_schema::by_path(name));
            if let Some(t) = inner {
                message(t.id, v, path, out);
            }
        }
        FieldType::List(item) => {
            if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    value(item, x, &format!("{path}[{i}]"), out);
                }
            }
        }
        FieldType::Map(item) => {
            if let Some(o) = v.as_object() {
                for (k, x) in o {
                    value(item, x, &format!("{path}[{k:?}]"), out);
                }
            }
        }
        _ => {}
    }
}

fn rules(r: &Rules, ty: &FieldType, v: &Json, path: &str, out: &mut Vec<Finding>) {
    if r.is_empty() {
        return;
    }
    let mut bad = |message: String, help: &str| {
        out.push(Finding {
            code: codes::SKY0501,
            message,
            path: path.to_string(),
            help: help.to_string(),
        })
    };
    let name = path.rsplit(['.', '[']).next().unwrap_or(path);
    if let Some(s) = v.as_str().filter(|_| !matches!(ty, FieldType::Duration)) {
        let n = s.chars().count() as u64;
        if let Some(min) = r.min_len.filter(|m| n < *m) {
            let what = if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must have at least {min} characters")
            };
            bad(format!("`{name}` {what}"), "set a value");
        }
        if let Some(max) = r.max_len.filter(|m| n > *m) {
            bad(
                format!("`{name}` must have at most {max} characters, not {n}"),
                "shorten it",
            );
        }
        return;
    }
    if let Some(a) = v.as_array() {
        if let Some(min) = r.min_items.filter(|m| (a.len() as u64) < *m) {
            bad(
                format!("`{name}` needs at least {min} item(s), has {}", a.len()),
                "add items",
            );
        }
        return;
    }
    let (x, shown) = match ty {
        FieldType::Duration => match v.as_str().and_then(|s| skyc_schema::parse_duration(s).ok()) {
            Some(d) => (d.seconds(), v.as_str().unwrap_or_default().to_string()),
            None => return,
        },
        _ => match v.as_f64() {
            Some(x) => (x, v.to_string()),
            None => return,
        },
    };
    let unit = if matches!(ty, FieldType::Duration) {
        "s"
    } else {
        ""
    };
    let checks = [
        (r.gt, x > r.gt.unwrap_or(f64::MIN), "greater than"),
        (r.gte, x >= r.gte.unwrap_or(f64::MIN), "at least"),
        (r.lt, x < r.lt.unwrap_or(f64::MAX), "less than"),
        (r.lte, x <= r.lte.unwrap_or(f64::MAX), "at most"),
    ];
    for (bound, ok, what) in checks {
        if let (Some(b), false) = (bound, ok) {
            bad(
                format!("`{name}` must be {what} {b}{unit}, not {shown}"),
                "see the field's documentation with `skyc doc`",
            );
        }
    }
}

/// The `retry_on` conditions Envoy's router understands (HTTP and gRPC).
pub const RETRY_ON: &[&str] = &[
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "envoy-ratelimited",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "http3-post-connect-failure",
    "cancelled",
    "deadline-exceeded",
    "internal",
    "resource-exhausted",
    "unavailable",
];

/// Cluster and listener names, and everything that refers to a cluster by name.
fn references(json: &Json, base: &str, out: &mut Vec<Finding>) {
    let Some(sr) = json.get("static_resources") else {
        return;
    };
    let sr_path = join(base, "static_resources");
    let mut clusters: BTreeSet<String> = BTreeSet::new();
    for (kind, field) in [("cluster", "clusters"), ("listener", "listeners")] {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, x) in crate::validate::items(sr, field).enumerate() {
            let Some(name) = x.get("name").and_then(Json::as_str) else {
                continue;
            };
            if let Some(first) = seen.get(name) {
                out.push(Finding {
                    code: codes::SKY0503,
                    message: format!(
                        "{kind} `{name}` is defined twice ({field}[{first}] and {field}[{i}])"
                    ),
                    path: format!("{sr_path}.{field}[{i}].name"),
                    help: "give each a unique name, or remove the duplicate".into(),
                });
            } else {
                seen.insert(name, i);
            }
            if kind == "cluster" {
                clusters.insert(name.to_string());
            }
        }
    }
    let mut refs = Vec::new();
    cluster_refs(sr, &sr_path, None, &mut refs);
    for (path, name) in refs {
        if !clusters.contains(&name) {
            let help = match did_you_mean(&name, clusters.iter().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None if clusters.is_empty() => {
                    "define the cluster in static_resources.clusters".into()
                }
                None => format!(
                    "defined clusters: {}",
                    clusters
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            out.push(Finding {
                code: codes::SKY0502,
                message: format!("traffic is sent to cluster `{name}`, which is not defined"),
                path,
                help,
            });
        }
    }
    let mut retries = Vec::new();
    retry_policies(sr, &sr_path, &mut retries);
    for (path, value) in retries {
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if !RETRY_ON.contains(&token) {
                let help = match did_you_mean(token, RETRY_ON.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("known conditions: {}", RETRY_ON.join(", ")),
                };
                out.push(Finding {
                    code: codes::SKY0504,
                    message: format!("unknown retry_on condition `{token}`"),
                    path: path.clone(),
                    help,
                });
            }
        }
    }
}

/// Collects (path, cluster name) for route actions (`route.cluster`, weighted clusters) and
/// TCP proxies (`cluster` next to a TcpProxy `@type`).
fn cluster_refs(v: &Json, path: &str, key: Option<&str>, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(o) => {
            let is_tcp_proxy = o
                .get("@type")
                .and_then(Json::as_str)
                .is_some_and(|t| t.ends_with(".TcpProxy"));
            if key == Some("route") || is_tcp_proxy {
                if let Some(c) = o.get("cluster").and_then(Json::as_str) {
                    out.push((join(path, "cluster"), c.to_string()));
                }
            }
            if key == Some("weighted_clusters") {
                for (i, c) in o
                    .get("clusters")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(n) = c.get("name").and_then(Json::as_str) {
                        out.push((format!("{path}.clusters[{i}].name"), n.to_string()));
                    }
                }
            }
            for (k, x) in o {
                // Clusters themselves are not references.
                if k == "clusters" && path.ends_with("static_resources") {
                    continue;
                }
                cluster_refs(x, &join(path, k), Some(k), out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                cluster_refs(x, &format!("{path}[{i}]"), key, out);
            }
        }
        _ => {}
    }
}

fn retry_policies(v: &Json, path: &str, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(o) => {
            for (k, x) in o {
                let p = join(path, k);
                if k == "retry_policy" {
                    if let Some(r) = x.get("retry_on").and_then(Json::as_str) {
                        out.push((join(&p, "retry_on"), r.to_string()));
                    }
                }
                retry_policies(x, &p, out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                retry_policies(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}
