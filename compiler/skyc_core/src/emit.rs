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
pub fn to_yaml(obj: &serde_json::Value) -> String {
    serde_norway::to_string(&yaml_value(obj)).expect("JSON values always serialize to YAML")
}

/// JSON → YAML value (numbers go through their own representation, so serde_json's
/// arbitrary-precision numbers come out as plain YAML numbers).
fn yaml_value(v: &serde_json::Value) -> serde_norway::Value {
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
        J::String(s) => Y::String(s.clone()),
        J::Array(a) => Y::Sequence(a.iter().map(yaml_value).collect()),
        J::Object(o) => Y::Mapping(
            o.iter()
                .map(|(k, v)| (Y::String(k.clone()), yaml_value(v)))
                .collect(),
        ),
    }
}

/// A multi-document YAML stream (`---` between documents), or a JSON `v1/List`.
pub fn stream(objects: &[Object], format: Format) -> String {
    match format {
        Format::Yaml => {
            let mut out = String::new();
            for (i, o) in objects.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                out.push_str(&to_yaml(&o.json));
            }
            out
        }
        Format::Json => {
            let items: Vec<&serde_json::Value> = objects.iter().map(|o| &o.json).collect();
            let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
            let mut s = serde_json::to_string_pretty(&list).expect("JSON serializes");
            s.push('\n');
            s
        }
    }
}

/// The files of an output directory: one per object plus `manifest.json`, sorted by path.
/// Objects in a namespace go to `<namespace>/<kind>-<name>.<ext>`, others to the top.
pub fn directory(objects: &[Object], format: Format) -> Result<Vec<(String, Vec<u8>)>, String> {
    let ext = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut index = Vec::new();
    for o in objects {
        let base = format!("{}-{}.{ext}", o.kind.to_ascii_lowercase(), o.name);
        let path = match &o.namespace {
            Some(ns) => format!("{ns}/{base}"),
            None => base,
        };
        if files.iter().any(|(p, _)| *p == path) {
            return Err(format!("two objects would be written to `{path}`"));
        }
        let bytes = match format {
            Format::Yaml => to_yaml(&o.json).into_bytes(),
            Format::Json => {
                let mut s = serde_json::to_string_pretty(&o.json).expect("JSON serializes");
                s.push('\n');
                s.into_bytes()
            }
        };
        let sha = hex(&Sha256::digest(&bytes));
        index.push(json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "name": o.name,
            "namespace": o.namespace,
            "file": path,
            "sha256": sha,
        }));
        files.push((path, bytes));
    }
    let mut manifest = serde_json::to_string_pretty(&json!({"version": 1, "objects": index}))
        .expect("JSON serializes");
    manifest.push('\n');
    files.push(("manifest.json".to_string(), manifest.into_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
