//! Emit: objects → a YAML or JSON stream, or the files of an output directory with a
//! `manifest.json` index. Pure functions: the CLI writes what they return.

use crate::Object;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Output formats of `skyc render`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

/// One YAML document.
///
/// Strings that a YAML 1.1 reader (kubectl, via go-yaml) would take for something else —
/// `NO`, `on`, `y`, `1:30`, `1_000` — are single-quoted; the YAML library quotes only what
/// YAML 1.2 would misread. They go through the serializer as unique placeholders that are then
/// replaced by their quoted form.
pub fn to_yaml(obj: &serde_json::Value) -> String {
    let mut ambiguous = std::collections::BTreeSet::new();
    collect_ambiguous(obj, &mut ambiguous);
    if ambiguous.is_empty() {
        return serde_norway::to_string(&yaml_value(obj, &Default::default()))
            .expect("JSON values always serialize to YAML");
    }
    // A placeholder prefix that occurs nowhere in the document.
    let plain = serde_json::to_string(obj).unwrap_or_default();
    let mut prefix = String::from("skyc-quoted-");
    while plain.contains(&prefix) {
        prefix.push('x');
    }
    let placeholders: std::collections::BTreeMap<String, String> = ambiguous
        .iter()
        .enumerate()
        .map(|(i, s)| (s.to_string(), format!("{prefix}{i}-end")))
        .collect();
    let mut text = serde_norway::to_string(&yaml_value(obj, &placeholders))
        .expect("JSON values always serialize to YAML");
    // Longest placeholders first, so `…1-end` never matches inside `…11-end`.
    let mut by_len: Vec<(&String, &String)> = placeholders.iter().collect();
    by_len.sort_by_key(|(_, p)| std::cmp::Reverse(p.len()));
    for (s, p) in by_len {
        text = text.replace(p.as_str(), &format!("'{}'", s.replace('\'', "''")));
    }
    text
}

fn collect_ambiguous<'a>(v: &'a serde_json::Value, out: &mut std::collections::BTreeSet<&'a str>) {
    match v {
        serde_json::Value::String(s) if !crate::import::yaml::plain_is_string(s) => {
            out.insert(s);
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_ambiguous(x, out)),
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                if !crate::import::yaml::plain_is_string(k) {
                    out.insert(k);
                }
                collect_ambiguous(x, out);
            }
        }
        _ => {}
    }
}

/// JSON → YAML value (numbers go through their own representation, so serde_json's
/// arbitrary-precision numbers come out as plain YAML numbers).
fn yaml_value(
    v: &serde_json::Value,
    placeholders: &std::collections::BTreeMap<String, String>,
) -> serde_norway::Value {
    use serde_json::Value as J;
    use serde_norway::Value as Y;
    match v {
        J::Null => Y::Null,
        J::Bool(b) => Y::Bool(*b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                Y::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Y::Number(u.into())
            } else {
                Y::Number(n.as_f64().unwrap_or(0.0).into())
            }
        }
        J::String(s) => Y::String(placeholders.get(s).unwrap_or(s).clone()),
        J::Array(a) => Y::Sequence(a.iter().map(|x| yaml_value(x, placeholders)).collect()),
        J::Object(o) => Y::Mapping(
            o.iter()
                .map(|(k, v)| {
                    let key = placeholders.get(k).unwrap_or(k).clone();
                    (Y::String(key), yaml_value(v, placeholders))
                })
                .collect(),
        ),
    }
}

/// A multi-document YAML stream (`---` between documents), or a JSON `v1/List`.
pub fn stream(objects: &[Object], format: Format) -> String {
    let mut out = Vec::new();
    write_stream(objects, format, &mut out).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("YAML and JSON are written as UTF-8")
}

/// [`stream`], written to `out` a chunk of objects at a time ([`write_objects`]): the whole
/// text never exists at once (25 MB
/// for ten thousand services, which the process would otherwise take as fresh memory at the
/// end of a render). The JSON `v1/List` is pretty-printed as `serde_json::to_string_pretty`
/// writes it (a test checks the bytes are the same).
pub fn write_stream(
    objects: &[Object],
    format: Format,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Yaml => write_objects(objects, out, &|i, o, buf| {
            if i > 0 {
                buf.extend_from_slice(b"---\n");
            }
            buf.extend_from_slice(to_yaml(&o.json()).as_bytes());
        }),
        Format::Json => {
            out.write_all(b"{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"List\",\n  \"items\": [")?;
            write_objects(objects, out, &|i, o, buf| {
                buf.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
                pretty(o.json_text(), 2, buf);
            })?;
            out.write_all(if objects.is_empty() {
                b"]\n}\n"
            } else {
                b"\n  ]\n}\n"
            })
        }
    }
}

/// Objects written at once by one thread (see [`write_objects`]).
const CHUNK: usize = 64;

/// Writes each object's text (`one(index, object, buffer)` appends it), in order, a chunk of
/// objects at a time. With more than two chunks (and a core no other compilation is using), a
/// second thread writes every other chunk's text while this one writes the others' and the
/// output: the texts are independent, and at most a few chunks' text exist at once.
fn write_objects(
    objects: &[Object],
    out: &mut dyn std::io::Write,
    one: &(dyn Fn(usize, &Object, &mut Vec<u8>) + Sync),
) -> std::io::Result<()> {
    let text = |chunk: usize, buf: &mut Vec<u8>| {
        let start = chunk * CHUNK;
        for (i, o) in objects[start..].iter().take(CHUNK).enumerate() {
            one(start + i, o, buf);
        }
    };
    let chunks = objects.len().div_ceil(CHUNK);
    let mut buf = Vec::with_capacity(1 << 16);
    std::thread::scope(|scope| {
        let (done, texts) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        // Without a helper (few chunks, a busy core, or no thread to be had), every chunk is
        // written here.
        let helper = chunks > 2
            && crate::memory::jobs() <= 1
            && std::thread::Builder::new()
                .name("skyc-emit".into())
                .spawn_scoped(scope, move || {
                    for c in (1..chunks).step_by(2) {
                        let mut own = Vec::with_capacity(1 << 16);
                        text(c, &mut own);
                        if done.send(own).is_err() {
                            return;
                        }
                    }
                })
                .is_ok();
        for c in 0..chunks {
            if helper && c % 2 == 1 {
                // The helper ends only after sending all its chunks, or by panicking, which
                // the scope passes on.
                match texts.recv() {
                    Ok(other) => out.write_all(&other)?,
                    Err(_) => break,
                }
            } else {
                buf.clear();
                text(c, &mut buf);
                out.write_all(&buf)?;
            }
        }
        Ok(())
    })
}

/// Writes compact JSON (as `serde_json` writes it: no whitespace outside strings) the way
/// `serde_json`'s pretty printer does, at a depth of `depth` levels of two spaces (a test
/// checks the bytes are the same).
fn pretty(compact: &str, depth: usize, out: &mut Vec<u8>) {
    let bytes = compact.as_bytes();
    let mut depth = depth;
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'"' => {
                // A string, copied as it is: it ends at the first quote not escaped.
                let start = i;
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                out.extend_from_slice(&bytes[start..=i]);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if bytes.get(i + 1) == Some(&close) {
                    out.extend_from_slice(&[b, close]);
                    i += 1;
                } else {
                    out.push(b);
                    depth += 1;
                    newline(out, depth);
                }
            }
            b'}' | b']' => {
                depth -= 1;
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => {
                // A number or a literal: up to the next structural byte.
                let start = i;
                while i + 1 < bytes.len() && !matches!(bytes[i + 1], b',' | b'}' | b']') {
                    i += 1;
                }
                out.extend_from_slice(&bytes[start..=i]);
            }
        }
        i += 1;
    }
}

/// One xDS resource for a control plane, taken from an Envoy bootstrap.
#[derive(Debug, Clone, PartialEq)]
pub struct XdsResource {
    /// The Envoy node (the bootstrap's `node.id`) it is for; empty for a resource `main`
    /// returned.
    pub node: String,
    /// `Listener`, `Cluster`, `RouteConfiguration` (or another of [`XDS_RESOURCE_TYPES`]
    /// for a resource `main` returned).
    pub kind: &'static str,
    pub name: String,
    /// Canonical proto3 JSON with its `@type` first.
    pub json: serde_json::Value,
}

/// The Envoy types `main` may return as top-level xDS resources, with the field that names
/// each (skycfg configs return Listeners and Clusters directly).
pub const XDS_RESOURCE_TYPES: &[(&str, &str)] = &[
    ("envoy.config.listener.v3.Listener", "name"),
    ("envoy.config.cluster.v3.Cluster", "name"),
    ("envoy.config.route.v3.RouteConfiguration", "name"),
    ("envoy.config.route.v3.ScopedRouteConfiguration", "name"),
    ("envoy.config.route.v3.VirtualHost", "name"),
    (
        "envoy.config.endpoint.v3.ClusterLoadAssignment",
        "cluster_name",
    ),
    ("envoy.extensions.transport_sockets.tls.v3.Secret", "name"),
    ("envoy.service.runtime.v3.Runtime", "name"),
];

const XDS_TYPES: &[(&str, &str)] = &[
    ("Listener", "envoy.config.listener.v3.Listener"),
    (
        "RouteConfiguration",
        "envoy.config.route.v3.RouteConfiguration",
    ),
    ("Cluster", "envoy.config.cluster.v3.Cluster"),
];

fn with_type(kind: &str, mut json: serde_json::Value) -> serde_json::Value {
    let full = XDS_TYPES
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, t)| t);
    let mut out = serde_json::Map::new();
    out.insert(
        "@type".into(),
        serde_json::Value::String(format!("type.googleapis.com/{full}")),
    );
    if let Some(o) = json.as_object_mut() {
        out.extend(std::mem::take(o));
    }
    serde_json::Value::Object(out)
}

/// The xDS resources of every bootstrap embedded in `objects`: each static listener and
/// cluster, and each inline route configuration as its own RouteConfiguration, which the
/// listener then gets over RDS (through ADS). Also the resources `main` returned itself,
/// which name no node (`node` is empty). Sorted by node, kind and name.
pub fn xds_resources(objects: &[Object]) -> Vec<XdsResource> {
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| o.is_xds()) {
        let kind = XDS_RESOURCE_TYPES
            .iter()
            .filter_map(|(path, _)| path.rsplit('.').next())
            .find(|k| *k == o.kind);
        if let Some(kind) = kind {
            out.push(XdsResource {
                node: String::new(),
                kind,
                name: o.name.clone(),
                json: o.json(),
            });
        }
    }
    for o in objects {
        for d in o
            .envoy_documents
            .iter()
            .filter(|d| d.type_name == crate::BOOTSTRAP)
        {
            let node = d
                .json
                .pointer("/node/id")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(&o.name)
                .to_string();
            let sr = d.json.get("staticResources");
            let list = |k: &str| {
                sr.and_then(|s| s.get(k))
                    .and_then(serde_json::Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            for mut l in list("listeners") {
                for route in split_routes(&mut l) {
                    let name = route["name"].as_str().unwrap_or_default().to_string();
                    out.push(XdsResource {
                        node: node.clone(),
                        kind: "RouteConfiguration",
                        name,
                        json: with_type("RouteConfiguration", route),
                    });
                }
                let name = l["name"].as_str().unwrap_or_default().to_string();
                out.push(XdsResource {
                    node: node.clone(),
                    kind: "Listener",
                    name,
                    json: with_type("Listener", l),
                });
            }
            for c in list("clusters") {
                let name = c["name"].as_str().unwrap_or_default().to_string();
                out.push(XdsResource {
                    node: node.clone(),
                    kind: "Cluster",
                    name,
                    json: with_type("Cluster", c),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.node, a.kind, &a.name).cmp(&(&b.node, b.kind, &b.name)));
    out
}

/// Moves the inline route configurations of a listener's HTTP connection managers out, and
/// points the managers at them through RDS over ADS.
fn split_routes(listener: &mut serde_json::Value) -> Vec<serde_json::Value> {
    let mut routes = Vec::new();
    let chains = listener
        .get_mut("filterChains")
        .and_then(serde_json::Value::as_array_mut);
    for chain in chains.into_iter().flatten() {
        let filters = chain
            .get_mut("filters")
            .and_then(serde_json::Value::as_array_mut);
        for f in filters.into_iter().flatten() {
            let Some(cfg) = f
                .get_mut("typedConfig")
                .and_then(serde_json::Value::as_object_mut)
            else {
                continue;
            };
            let is_hcm = cfg
                .get("@type")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|t| t.ends_with(".HttpConnectionManager"));
            if !is_hcm {
                continue;
            }
            if let Some(route) = cfg.shift_remove("routeConfig") {
                let name = route["name"].as_str().unwrap_or_default().to_string();
                cfg.insert(
                    "rds".into(),
                    json!({
                        "configSource": {"ads": {}, "resourceApiVersion": "V3"},
                        "routeConfigName": name,
                    }),
                );
                routes.push(route);
            }
        }
    }
    routes
}

/// xDS resources as one JSON document: `{"resources": [{node, kind, name, resource}]}`.
pub fn xds_list(resources: &[XdsResource]) -> String {
    let items: Vec<serde_json::Value> = resources
        .iter()
        .map(|r| json!({"node": r.node, "kind": r.kind, "name": r.name, "resource": r.json}))
        .collect();
    let mut s =
        serde_json::to_string_pretty(&json!({ "resources": items })).expect("JSON serializes");
    s.push('\n');
    s
}

/// The files of an output directory: one per object plus `manifest.json`, sorted by path.
/// Objects in a namespace go to `<namespace>/<kind>-<name>.<ext>`, others to the top; xDS
/// resources (when given) to `envoy/<node>/<kind>-<name>.<ext>`.
/// An object that targets clusters lists them in the index (`"clusters"`); one without runs
/// in every cluster.
pub fn directory(objects: &[Object], format: Format) -> Result<Vec<(String, Vec<u8>)>, String> {
    directory_with_xds(objects, &[], format, None)
}

/// Like [`directory`], with xDS resources; `cluster` names the cluster the objects were
/// chosen for (`skyc render --cluster`), recorded in the index.
///
/// Each file's text and digest are independent of the others': with many objects a second
/// thread makes every other chunk's ([`in_chunks`]). Two files at one path are found with a
/// set of the paths, not by comparing each with all before it (which took most of the time
/// at ten thousand services).
pub fn directory_with_xds(
    objects: &[Object],
    xds: &[XdsResource],
    format: Format,
    cluster: Option<&str>,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let ext = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::with_capacity(objects.len() + xds.len() + 1);
    for o in objects {
        let base = format!("{}-{}.{ext}", o.kind.to_ascii_lowercase(), o.name);
        let path = match &o.namespace {
            Some(ns) => format!("{ns}/{base}"),
            None => base,
        };
        files.push((path, Vec::new()));
    }
    for r in xds {
        let file = format!("{}-{}.{ext}", r.kind.to_ascii_lowercase(), r.name);
        let path = if r.node.is_empty() {
            format!("envoy/{file}")
        } else {
            format!("envoy/{}/{file}", r.node)
        };
        files.push((path, Vec::new()));
    }
    let mut taken: std::collections::HashSet<&str, foldhash::fast::FixedState> =
        std::collections::HashSet::with_capacity_and_hasher(files.len(), Default::default());
    for (i, (path, _)) in files.iter().enumerate() {
        if !taken.insert(path) {
            let what = if i < objects.len() {
                "objects"
            } else {
                "resources"
            };
            return Err(format!("two {what} would be written to `{path}`"));
        }
    }
    drop(taken);
    let texts = in_chunks(objects.len() + xds.len(), &|i| {
        let bytes = match (objects.get(i), format) {
            (Some(o), Format::Json) => {
                let mut out = Vec::with_capacity(o.json_text().len() * 2);
                pretty(o.json_text(), 0, &mut out);
                out.push(b'\n');
                out
            }
            (Some(o), Format::Yaml) => to_yaml(&o.json()).into_bytes(),
            (None, _) => encode(&xds[i - objects.len()].json, format),
        };
        let sha = crate::values::codec::hex(&Sha256::digest(&bytes));
        (bytes, sha)
    });
    let mut index = Vec::with_capacity(objects.len());
    let mut xds_index = Vec::with_capacity(xds.len());
    for (i, ((path, bytes), (text, sha))) in files.iter_mut().zip(texts).enumerate() {
        *bytes = text;
        match objects.get(i) {
            Some(o) => {
                let mut entry = json!({
                    "apiVersion": o.api_version,
                    "kind": o.kind,
                    "name": o.name,
                    "namespace": o.namespace,
                    "file": path,
                    "sha256": sha,
                });
                if !o.clusters.is_empty() {
                    entry["clusters"] = json!(o.clusters);
                }
                index.push(entry);
            }
            None => {
                let r = &xds[i - objects.len()];
                xds_index.push(json!({
                    "node": r.node,
                    "kind": r.kind,
                    "name": r.name,
                    "file": path,
                    "sha256": sha,
                }));
            }
        }
    }
    let mut doc = json!({"version": 1});
    if let Some(c) = cluster {
        doc["cluster"] = json!(c);
    }
    doc["objects"] = serde_json::Value::Array(index);
    if !xds.is_empty() {
        doc["xds"] = serde_json::Value::Array(xds_index);
    }
    let mut manifest = serde_json::to_string_pretty(&doc).expect("JSON serializes");
    manifest.push('\n');
    files.push(("manifest.json".to_string(), manifest.into_bytes()));
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// `f(i)` for each `i` in `0..n`, in order. With more than two chunks of [`CHUNK`] items (and a
/// core no other compilation is using), a second thread computes every other chunk.
fn in_chunks<T: Send>(n: usize, f: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    let chunks = n.div_ceil(CHUNK);
    let range = |c: usize| c * CHUNK..((c + 1) * CHUNK).min(n);
    if chunks <= 2 || crate::memory::jobs() > 1 {
        return (0..n).map(f).collect();
    }
    std::thread::scope(|scope| {
        let helper = std::thread::Builder::new()
            .name("skyc-emit".into())
            .spawn_scoped(scope, move || {
                (1..chunks)
                    .step_by(2)
                    .map(|c| range(c).map(f).collect::<Vec<T>>())
                    .collect::<Vec<_>>()
            });
        let Ok(helper) = helper else {
            // No thread to be had.
            return (0..n).map(f).collect();
        };
        let mine: Vec<Vec<T>> = (0..chunks)
            .step_by(2)
            .map(|c| range(c).map(f).collect())
            .collect();
        let theirs = match helper.join() {
            Ok(t) => t,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let mut out = Vec::with_capacity(n);
        let mut theirs = theirs.into_iter();
        for chunk in mine {
            out.extend(chunk);
            out.extend(theirs.next().into_iter().flatten());
        }
        out
    })
}

/// One document in the given format.
fn encode(json: &serde_json::Value, format: Format) -> Vec<u8> {
    match format {
        Format::Yaml => to_yaml(json).into_bytes(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(json).expect("JSON serializes");
            s.push('\n');
            s.into_bytes()
        }
    }
}

#[cfg(test)]
mod tests {
    /// A ConfigMap-like object with what the pretty printer must get right: empty and nested
    /// containers, strings holding JSON's structural characters, quotes, backslashes and
    /// escapes, numbers of every form, literals.
    fn tricky(i: usize) -> serde_json::Value {
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": format!("c{i}"), "labels": {}},
            "data": {
                "text": "two\nlines",
                "list": "[]",
                "n": i,
                "json": "{\"a\": [1, {\"b\": \"c,d:e}\"}]}",
                "slashes": "\\\\\"\\",
                "quote": "\"",
                "end\\": "\\",
                "unicode": "é\u{1F600}\u{7}\t",
            },
            "extra": [[], [1, {"a": []}], {}, [[{}]], -3, 2.5, 1e300, -0.0, true, false, null, ""],
        })
    }

    #[test]
    fn the_json_list_is_what_serde_json_writes() {
        let object =
            |i: usize| crate::Object::new("v1".into(), "ConfigMap".into(), &tricky(i), Vec::new());
        // Empty, short and long.
        for n in [0, 1, 3, 300, 301] {
            let objects: Vec<crate::Object> = (0..n).map(object).collect();
            let items: Vec<serde_json::Value> = (0..n).map(tricky).collect();
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items});
            let want = serde_json::to_string_pretty(&list).unwrap() + "\n";
            assert_eq!(
                super::stream(&objects, super::Format::Json),
                want,
                "{n} objects"
            );
        }
    }

    #[test]
    fn the_yaml_stream_is_each_document_in_order() {
        let object =
            |i: usize| crate::Object::new("v1".into(), "ConfigMap".into(), &tricky(i), Vec::new());
        // One chunk, and enough for the second thread.
        for n in [0, 2, 130, 301] {
            let objects: Vec<crate::Object> = (0..n).map(object).collect();
            let want: Vec<String> = (0..n).map(|i| super::to_yaml(&tricky(i))).collect();
            assert_eq!(
                super::stream(&objects, super::Format::Yaml),
                want.join("---\n"),
                "{n} objects"
            );
        }
    }

    /// `tricky(i)`, in one of three namespaces or none.
    fn placed(i: usize) -> serde_json::Value {
        let mut json = tricky(i);
        if !i.is_multiple_of(4) {
            json["metadata"]["namespace"] = format!("ns{}", i % 4).into();
        }
        json
    }

    fn xds(i: usize) -> super::XdsResource {
        super::XdsResource {
            node: if i.is_multiple_of(2) {
                String::new()
            } else {
                "edge".into()
            },
            kind: "Cluster",
            name: format!("c{i}"),
            json: serde_json::json!({"@type": "x", "name": format!("c{i}"), "n": i}),
        }
    }

    #[test]
    fn each_file_of_a_directory_is_its_objects_text_and_the_index_its_digest() {
        use sha2::Digest;
        let object =
            |i: usize| crate::Object::new("v1".into(), "ConfigMap".into(), &placed(i), Vec::new());
        // One chunk, and enough for the second thread (with the xDS resources in its chunks).
        for (n, r) in [(0, 0), (3, 2), (301, 0), (250, 120)] {
            let objects: Vec<crate::Object> = (0..n).map(object).collect();
            let resources: Vec<super::XdsResource> = (0..r).map(xds).collect();
            for format in [super::Format::Json, super::Format::Yaml] {
                let files =
                    super::directory_with_xds(&objects, &resources, format, Some("c1")).unwrap();
                let (ext, text): (_, fn(&serde_json::Value) -> String) = match format {
                    super::Format::Json => {
                        ("json", |j| serde_json::to_string_pretty(j).unwrap() + "\n")
                    }
                    super::Format::Yaml => ("yaml", super::to_yaml),
                };
                let mut want: Vec<(String, String)> = (0..n)
                    .map(|i| {
                        let json = placed(i);
                        let file = format!("configmap-c{i}.{ext}");
                        match json["metadata"]["namespace"].as_str() {
                            Some(ns) => (format!("{ns}/{file}"), text(&json)),
                            None => (file, text(&json)),
                        }
                    })
                    .collect();
                want.extend(resources.iter().map(|x| {
                    let file = format!("cluster-{}.{ext}", x.name);
                    let path = match x.node.as_str() {
                        "" => format!("envoy/{file}"),
                        node => format!("envoy/{node}/{file}"),
                    };
                    (path, text(&x.json))
                }));
                // The index lists the objects, then the resources, in their order, each with
                // its file and the digest of its bytes.
                let manifest = files.iter().find(|(p, _)| p == "manifest.json").unwrap();
                let index: serde_json::Value = serde_json::from_slice(&manifest.1).unwrap();
                assert_eq!(index["cluster"], "c1");
                let mut listed: Vec<&serde_json::Value> =
                    index["objects"].as_array().unwrap().iter().collect();
                listed.extend(index["xds"].as_array().into_iter().flatten());
                assert_eq!(listed.len(), want.len());
                for (entry, (path, text)) in listed.iter().zip(&want) {
                    assert_eq!(entry["file"], path.as_str());
                    let sha: String = sha2::Sha256::digest(text.as_bytes())
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    assert_eq!(entry["sha256"], sha.as_str(), "{path}");
                }
                // The files are those texts and the index, sorted by path.
                want.push((
                    "manifest.json".into(),
                    String::from_utf8(manifest.1.clone()).unwrap(),
                ));
                want.sort();
                let got: Vec<(String, String)> = files
                    .into_iter()
                    .map(|(p, b)| (p, String::from_utf8(b).unwrap()))
                    .collect();
                assert_eq!(got, want, "{n} objects, {r} resources, {format:?}");
            }
        }
    }

    #[test]
    fn two_files_at_one_path_are_refused() {
        let object =
            |i: usize| crate::Object::new("v1".into(), "ConfigMap".into(), &placed(i), Vec::new());
        // Object 400 lands where object 0 does (both `configmap-c0`, no namespace).
        let mut objects: Vec<crate::Object> = (0..400).map(object).collect();
        let mut again = placed(0);
        again["data"]["n"] = 1.into();
        objects.push(crate::Object::new(
            "v1".into(),
            "ConfigMap".into(),
            &again,
            Vec::new(),
        ));
        assert_eq!(
            super::directory(&objects, super::Format::Yaml).unwrap_err(),
            "two objects would be written to `configmap-c0.yaml`"
        );
        objects.pop();
        // The same object name in another namespace is another file.
        let mut elsewhere = placed(0);
        elsewhere["metadata"]["namespace"] = "other".into();
        objects.push(crate::Object::new(
            "v1".into(),
            "ConfigMap".into(),
            &elsewhere,
            Vec::new(),
        ));
        assert!(super::directory(&objects, super::Format::Yaml).is_ok());
        // Two resources of one node with one name.
        let resources = vec![xds(1), xds(3), xds(1)];
        assert_eq!(
            super::directory_with_xds(&objects, &resources, super::Format::Json, None).unwrap_err(),
            "two resources would be written to `envoy/edge/cluster-c1.json`"
        );
    }

    #[test]
    fn pretty_json_is_what_serde_json_writes() {
        for v in [
            tricky(7),
            serde_json::json!({}),
            serde_json::json!([]),
            serde_json::json!("a\"b"),
            serde_json::json!(-12),
            serde_json::json!([{"a": {"b": [[], {}, "}"]}}]),
        ] {
            let mut out = Vec::new();
            super::pretty(&serde_json::to_string(&v).unwrap(), 0, &mut out);
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&v).unwrap()
            );
        }
    }

    #[test]
    fn strings_yaml_1_1_would_misread_are_quoted() {
        for s in [
            "NO", "on", "y", "Off", "1:30", "1_000", "0755", "true", "null", "~", "1e3",
        ] {
            let v = serde_json::json!({ "k": s, s: "v" });
            let text = super::to_yaml(&v);
            let q = format!("'{s}'");
            assert!(text.contains(&format!("k: {q}")), "{s}: {text}");
            assert!(text.contains(&format!("{q}: v")), "{s}: {text}");
        }
        for s in ["hello", "1.8.1", "2001-12-14", "nginx:1.27"] {
            let text = super::to_yaml(&serde_json::json!({ "k": s }));
            assert_eq!(text, format!("k: {s}\n"));
        }
    }
}
