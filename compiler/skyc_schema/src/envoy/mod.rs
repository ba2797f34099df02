//! The Envoy v3 API as a schema source: the descriptor set bundled by `envoy-types` (copied
//! into the build by `build.rs`), decoded with `prost-reflect` on first use and turned into
//! the same [`Schema`] model as Kubernetes.
//!
//! Constructor paths are the protobuf full names (`envoy.config.cluster.v3.Cluster`), fields
//! keep their protobuf names (`connect_timeout`), well-known types become field types
//! (`Duration`, wrappers as plain scalars, `Struct` as JSON, `Any`), and protoc-gen-validate
//! rules become [`Rules`], `required` flags and required oneofs.

use crate::{Field, FieldType, MessageType, Oneof, Rules, Schema, SchemaId, TypeId};
use prost_reflect::{
    DescriptorPool, DynamicMessage, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    Value,
};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The encoded `FileDescriptorSet` of the Envoy v3 API and its dependencies.
pub static DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/envoy-types.bin"));

/// The version of `envoy-types` the descriptor set comes from.
pub const ENVOY_TYPES_VERSION: &str = env!("SKYC_ENVOY_TYPES_VERSION");

/// The top-level protobuf packages whose messages get constructors.
pub const ROOTS: &[&str] = &["envoy", "google", "xds", "udpa", "validate", "cel"];

/// Whether a constructor path belongs to the Envoy schema.
pub fn is_envoy_path(path: &str) -> bool {
    path.split_once('.')
        .is_some_and(|(root, _)| ROOTS.contains(&root))
}

/// The decoded descriptor pool (built once per process, on first use).
pub fn pool() -> &'static DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(DESCRIPTOR_SET)
            .expect("the bundled Envoy descriptor set is valid (checked by a test)")
    })
}

/// The Envoy schema and the descriptors behind it.
pub struct Envoy {
    pub schema: Schema,
    descriptors: Vec<MessageDescriptor>,
}

impl Envoy {
    /// The protobuf descriptor of a type of this schema.
    pub fn descriptor(&self, id: TypeId) -> &MessageDescriptor {
        &self.descriptors[id.index()]
    }
}

/// The type URL of a message type, as `Any` and Envoy's `@type` use it.
pub fn type_url(full_name: &str) -> String {
    format!("type.googleapis.com/{full_name}")
}

/// Converts a message given as JSON with protobuf field names (what lowering produces; `Any`
/// values carry `@type`) to canonical proto3 JSON, through `prost-reflect`: lowerCamelCase
/// names, enums by name, 64-bit integers as strings, durations as `"1.5s"`. Fails with the
/// decoder's message when the JSON does not fit the message type.
pub fn canonical_json(ty: TypeId, json: &serde_json::Value) -> Result<serde_json::Value, String> {
    use serde::de::DeserializeSeed;
    let desc = envoy().descriptor(ty).clone();
    let text = serde_json::to_string(json).map_err(|e| e.to_string())?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let msg = desc.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::new(&mut out);
    msg.serialize_with_options(&mut ser, &prost_reflect::SerializeOptions::new())
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&out).map_err(|e| e.to_string())
}

static ENVOY: OnceLock<Envoy> = OnceLock::new();

/// The Envoy schema (built on first use).
pub fn envoy() -> &'static Envoy {
    ENVOY.get_or_init(build)
}

/// Whether the Envoy schema has been built in this process (files that do not use Envoy
/// must not pay for decoding it).
pub fn is_loaded() -> bool {
    ENVOY.get().is_some()
}

/// A protobuf well-known type that is a field type of its own rather than a message.
fn well_known(full_name: &str) -> Option<FieldType> {
    Some(match full_name {
        "google.protobuf.Duration" => FieldType::Duration,
        "google.protobuf.Timestamp" => FieldType::Time,
        "google.protobuf.Any" => FieldType::Any,
        "google.protobuf.Struct" | "google.protobuf.Value" | "google.protobuf.ListValue" => {
            FieldType::Json
        }
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => FieldType::Number,
        "google.protobuf.Int64Value" => FieldType::Int { bits: 64 },
        "google.protobuf.Int32Value" => FieldType::Int { bits: 32 },
        "google.protobuf.UInt64Value" => FieldType::UInt { bits: 64 },
        "google.protobuf.UInt32Value" => FieldType::UInt { bits: 32 },
        "google.protobuf.BoolValue" => FieldType::Bool,
        "google.protobuf.StringValue" | "google.protobuf.FieldMask" => {
            FieldType::String { enum_values: None }
        }
        "google.protobuf.BytesValue" => FieldType::Bytes,
        _ => return None,
    })
}

struct Builder<'p> {
    schema: Schema,
    descriptors: Vec<MessageDescriptor>,
    ids: HashMap<String, TypeId>,
    rules_ext: Option<ExtensionDescriptor>,
    oneof_required_ext: Option<ExtensionDescriptor>,
    comments: HashMap<(String, Vec<i32>), String>,
    pool: &'p DescriptorPool,
}

fn build() -> Envoy {
    let pool = pool();
    let mut comments = HashMap::new();
    for file in pool.files() {
        let fdp = file.file_descriptor_proto();
        if let Some(info) = &fdp.source_code_info {
            for loc in &info.location {
                if let Some(c) = &loc.leading_comments {
                    comments.insert((file.name().to_string(), loc.path.clone()), clean(c));
                }
            }
        }
    }
    let mut b = Builder {
        schema: Schema::new(SchemaId::ENVOY),
        descriptors: Vec::new(),
        ids: HashMap::new(),
        rules_ext: pool.get_extension_by_name("validate.rules"),
        oneof_required_ext: pool.get_extension_by_name("validate.required"),
        comments,
        pool,
    };
    // Ids in name order, so they do not depend on the descriptor set's file order.
    let mut messages: Vec<MessageDescriptor> = pool
        .all_messages()
        .filter(|m| !m.is_map_entry() && is_envoy_path(m.full_name()))
        .collect();
    messages.sort_by(|a, b| a.full_name().cmp(b.full_name()));
    for m in &messages {
        let (id, _) = b.schema.reserve(m.full_name());
        b.ids.insert(m.full_name().to_string(), id);
        b.descriptors.push(m.clone());
    }
    for m in &messages {
        let t = b.message_type(m);
        b.schema.fill(t);
    }
    let _ = b.pool;
    Envoy {
        schema: b.schema,
        descriptors: b.descriptors,
    }
}

/// A role `:name:`body`` starting at byte `i`: its text and the byte after it.
fn role_at(line: &str, i: usize) -> Option<(&str, usize)> {
    let rest = line[i..].strip_prefix(':')?;
    let name_len = rest.find(":`")?;
    let name = &rest[..name_len];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let body_start = i + 1 + name_len + 2;
    let end = line[body_start..].find('`')?;
    let inner = &line[body_start..body_start + end];
    let text = match inner.find(" <") {
        Some(j) if inner.ends_with('>') => &inner[..j],
        _ => inner,
    };
    Some((text, body_start + end + 1))
}

/// Turns an Envoy proto comment into plain text: trims lines, drops the `[#…]` annotations
/// Envoy's doc generator uses, and reduces reStructuredText roles (:ref:`text <anchor>`) to
/// their text.
fn clean(c: &str) -> String {
    let lines: Vec<String> = c
        .lines()
        .map(str::trim)
        .filter(|l| !(l.starts_with("[#") && l.ends_with(']')))
        .map(strip_roles)
        .collect();
    lines.join("\n").trim().to_string()
}

/// `:ref:`load balancer <arch_lb>`` → `load balancer`; `:ref:`foo`` → `foo`; inline `[#…]`
/// annotations are removed.
fn strip_roles(line: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < line.len() {
        if let Some((text, next)) = role_at(line, i) {
            out.push_str(text);
            i = next;
            continue;
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    while let Some(i) = out.find("[#") {
        match out[i..].find(']') {
            Some(j) => out.replace_range(i..i + j + 1, ""),
            None => break,
        }
    }
    out.trim_end().to_string()
}

impl Builder<'_> {
    fn comment(&self, file: &str, path: &[i32]) -> String {
        self.comments
            .get(&(file.to_string(), path.to_vec()))
            .cloned()
            .unwrap_or_default()
    }

    fn message_type(&self, m: &MessageDescriptor) -> MessageType {
        let id = self.ids[m.full_name()];
        let file = m.parent_file().name().to_string();
        let mut fields = Vec::new();
        for f in m.fields() {
            let (rules, required) = self.rules(&f);
            fields.push(Field {
                name: f.name().to_string().into(),
                ty: self.field_type(&f),
                description: self.comment(&file, f.path()).into(),
                required,
                rules,
            });
        }
        let mut t = MessageType::new(
            id,
            m.full_name().to_string(),
            m.full_name().to_string(),
            m.full_name().to_string(),
            self.comment(&file, m.path()),
            fields,
            None,
        );
        for o in m.oneofs().filter(|o| !o.is_synthetic()) {
            let required = self.oneof_required_ext.as_ref().is_some_and(|ext| {
                let opts = o.options();
                opts.has_extension(ext) && opts.get_extension(ext).as_bool() == Some(true)
            });
            let idx = o
                .fields()
                .filter_map(|f| t.field(f.name()).map(|(i, _)| i))
                .collect();
            t.oneofs.push(Oneof {
                name: o.name().to_string(),
                fields: idx,
                required,
            });
        }
        t
    }

    fn field_type(&self, f: &FieldDescriptor) -> FieldType {
        if f.is_map() {
            let Kind::Message(entry) = f.kind() else {
                return FieldType::Json;
            };
            let value = entry.map_entry_value_field();
            return FieldType::Map(Box::new(self.single_type(&value)));
        }
        let item = self.single_type(f);
        if f.is_list() {
            FieldType::List(Box::new(item))
        } else {
            item
        }
    }

    fn single_type(&self, f: &FieldDescriptor) -> FieldType {
        match f.kind() {
            Kind::Double | Kind::Float => FieldType::Number,
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => FieldType::Int { bits: 32 },
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => FieldType::Int { bits: 64 },
            Kind::Uint32 | Kind::Fixed32 => FieldType::UInt { bits: 32 },
            Kind::Uint64 | Kind::Fixed64 => FieldType::UInt { bits: 64 },
            Kind::Bool => FieldType::Bool,
            Kind::String => FieldType::String { enum_values: None },
            Kind::Bytes => FieldType::Bytes,
            Kind::Enum(e) => FieldType::String {
                enum_values: Some(e.values().map(|v| v.name().to_string()).collect()),
            },
            Kind::Message(m) => {
                well_known(m.full_name()).unwrap_or_else(|| match self.ids.get(m.full_name()) {
                    Some(id) => FieldType::Message(*id),
                    None => FieldType::Json,
                })
            }
        }
    }

    /// The protoc-gen-validate rules of a field, and whether a message field is required.
    fn rules(&self, f: &FieldDescriptor) -> (Rules, bool) {
        let mut r = Rules::default();
        let Some(ext) = &self.rules_ext else {
            return (r, false);
        };
        let opts = f.options();
        if !opts.has_extension(ext) {
            return (r, false);
        }
        let v = opts.get_extension(ext);
        let Some(rules) = v.as_message() else {
            return (r, false);
        };
        let mut required = false;
        for (kind, body) in rules.fields() {
            let Some(body) = body.as_message() else {
                continue;
            };
            match kind.name() {
                "message" => required = get_bool(body, "required"),
                "string" => {
                    r.min_len = get_u64(body, "min_len");
                    r.max_len = get_u64(body, "max_len");
                }
                "repeated" => r.min_items = get_u64(body, "min_items"),
                "duration" => {
                    r.gt = get_duration(body, "gt");
                    r.gte = get_duration(body, "gte");
                    r.lt = get_duration(body, "lt");
                    r.lte = get_duration(body, "lte");
                    required = required || get_bool(body, "required");
                }
                "any" => required = get_bool(body, "required"),
                _ => {
                    // Numeric kinds (uint32, int64, double, …) share gt/gte/lt/lte.
                    r.gt = get_number(body, "gt");
                    r.gte = get_number(body, "gte");
                    r.lt = get_number(body, "lt");
                    r.lte = get_number(body, "lte");
                }
            }
        }
        (r, required)
    }
}

fn present<'a>(m: &'a DynamicMessage, name: &str) -> Option<std::borrow::Cow<'a, Value>> {
    if m.has_field_by_name(name) {
        m.get_field_by_name(name)
    } else {
        None
    }
}

fn get_bool(m: &DynamicMessage, name: &str) -> bool {
    present(m, name).and_then(|v| v.as_bool()) == Some(true)
}

fn get_u64(m: &DynamicMessage, name: &str) -> Option<u64> {
    present(m, name).and_then(|v| v.as_u64())
}

fn get_number(m: &DynamicMessage, name: &str) -> Option<f64> {
    let v = present(m, name)?;
    v.as_u32()
        .map(f64::from)
        .or_else(|| v.as_i32().map(f64::from))
        .or_else(|| v.as_u64().map(|n| n as f64))
        .or_else(|| v.as_i64().map(|n| n as f64))
        .or_else(|| v.as_f64())
        .or_else(|| v.as_f32().map(f64::from))
}

/// A duration bound in seconds.
fn get_duration(m: &DynamicMessage, name: &str) -> Option<f64> {
    let v = present(m, name)?;
    let d = v.as_message()?;
    let secs = present(d, "seconds").and_then(|v| v.as_i64()).unwrap_or(0);
    let nanos = present(d, "nanos").and_then(|v| v.as_i32()).unwrap_or(0);
    Some(secs as f64 + f64::from(nanos) / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptor_set_has_the_envoy_v3_api_and_validate_rules() {
        let p = pool();
        assert!(p.files().count() > 400, "files: {}", p.files().count());
        assert!(p.all_messages().count() > 1500);
        assert!(p.get_extension_by_name("validate.rules").is_some());
    }

    #[test]
    fn canonical_json_renames_and_packs_any() {
        let s = &envoy().schema;
        let c = s.by_path("envoy.config.cluster.v3.Cluster").unwrap();
        let json = serde_json::json!({
            "name": "ledger",
            "connect_timeout": "2s",
            "lb_policy": "LEAST_REQUEST",
            "per_connection_buffer_limit_bytes": 32768,
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": type_url("envoy.extensions.upstreams.http.v3.HttpProtocolOptions"),
                    "explicit_http_config": {"http2_protocol_options": {}}
                }
            }
        });
        let out = canonical_json(c.id, &json).unwrap();
        assert_eq!(out["connectTimeout"], "2s");
        assert_eq!(out["lbPolicy"], "LEAST_REQUEST");
        assert_eq!(out["perConnectionBufferLimitBytes"], 32768);
        let opts = &out["typedExtensionProtocolOptions"]
            ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"];
        assert!(opts["explicitHttpConfig"]["http2ProtocolOptions"].is_object());
        let bad = serde_json::json!({"name": "x", "lb_policy": "NOPE"});
        assert!(canonical_json(c.id, &bad).is_err());
    }

    #[test]
    fn comments_become_plain_text() {
        assert_eq!(
            strip_roles("The :ref:`load balancer type <arch_lb>` to use, see :ref:`foo`."),
            "The load balancer type to use, see foo."
        );
        assert_eq!(strip_roles("a [#not-implemented-hide:] b"), "a  b");
        assert_eq!(clean("Text.\n[#next-free-field: 63]\n"), "Text.");
        assert_eq!(strip_roles("time: 10:30 `x`"), "time: 10:30 `x`");
    }

    #[test]
    fn cluster_is_typed_with_rules_and_docs() {
        let s = &envoy().schema;
        let c = s
            .by_path("envoy.config.cluster.v3.Cluster")
            .expect("Cluster");
        assert!(c.description.contains("cluster"), "{}", c.description);
        let (_, name) = c.field("name").unwrap();
        assert_eq!(name.rules.min_len, Some(1));
        let (_, ct) = c.field("connect_timeout").unwrap();
        assert_eq!(ct.ty, FieldType::Duration);
        assert_eq!(ct.rules.gt, Some(0.0));
        let (_, lb) = c.field("lb_policy").unwrap();
        let FieldType::String {
            enum_values: Some(v),
        } = &lb.ty
        else {
            panic!("{:?}", lb.ty)
        };
        assert!(v.iter().any(|x| x == "ROUND_ROBIN"));
        assert!(c.oneofs.iter().any(|o| o.name == "cluster_discovery_type"));
        let (_, ext) = c.field("typed_extension_protocol_options").unwrap();
        assert_eq!(ext.ty, FieldType::Map(Box::new(FieldType::Any)));
        let hc = s
            .by_path("envoy.config.core.v3.HealthCheck")
            .expect("HealthCheck");
        assert!(hc.field("timeout").unwrap().1.required);
        assert!(s.types().len() > 1500);
    }
}
