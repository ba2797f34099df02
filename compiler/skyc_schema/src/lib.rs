//! The schema model behind skyc's typed messages.
//!
//! A [`Schema`] is a table of [`MessageType`]s, each a list of typed [`Field`]s. The table is
//! independent of where it came from: [`k8s`] builds it from the `k8s-openapi` crate's JSON
//! schemas, [`envoy`] from Envoy's descriptors, [`crd`] from a project's CustomResourceDefinitions.
//!
//! Architecture invariants: no I/O; no `HashMap` iteration in anything that orders output
//! (fields keep the schema's order, namespaces are `BTreeMap`s).

pub mod crd;
mod duration;
pub mod envoy;
pub mod k8s;
mod quantity;

pub use duration::{parse_duration, Duration, DurationError};

pub use quantity::{parse_quantity, Quantity, QuantityError};

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// A message type: which schema it belongs to (top 12 bits) and its index there (the rest, up
/// to a million types per schema).
/// Ids of different schemas never collide, so one `FieldType::Message` can point across
/// schemas (a custom resource's `metadata` is Kubernetes' `ObjectMeta`), and [`lookup`] finds
/// any type from its id alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(u32);

impl TypeId {
    const INDEX_BITS: u32 = 20;

    pub fn new(source: SchemaId, index: u32) -> TypeId {
        assert!(
            index < (1 << Self::INDEX_BITS),
            "too many types in one schema"
        );
        TypeId(((source.0 as u32) << Self::INDEX_BITS) | index)
    }

    pub fn source(self) -> SchemaId {
        SchemaId((self.0 >> Self::INDEX_BITS) as u16)
    }

    pub fn index(self) -> usize {
        (self.0 & ((1 << Self::INDEX_BITS) - 1)) as usize
    }
}

/// Which schema a type comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchemaId(pub u16);

impl SchemaId {
    /// The built-in Kubernetes kinds of this build ([`k8s::k8s`]).
    pub const K8S: SchemaId = SchemaId(0);
    /// The Envoy v3 API ([`envoy::envoy`]).
    pub const ENVOY: SchemaId = SchemaId(1);
}

/// A type by constructor path, in whichever built-in schema has it (`k8s.…` or Envoy's
/// `envoy.…`, `google.protobuf.…`, …). The Envoy schema is built only when asked for.
pub fn by_path(path: &str) -> Option<&'static MessageType> {
    if path.starts_with("k8s.") {
        k8s::k8s().schema.by_path(path)
    } else if envoy::is_envoy_path(path) {
        envoy::envoy().schema.by_path(path)
    } else {
        None
    }
}

/// The type with this id, whichever schema it belongs to.
pub fn lookup(id: TypeId) -> &'static MessageType {
    schema_of(id.source()).get(id)
}

/// The schema registered as `source`.
pub fn schema_of(source: SchemaId) -> &'static Schema {
    match source {
        SchemaId::K8S => &k8s::k8s().schema,
        SchemaId::ENVOY => &envoy::envoy().schema,
        other => match crd::registered(other) {
            Some(set) => &set.schema,
            None => panic!("no schema is registered as {other:?}"),
        },
    }
}

/// The type of a field's value.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    /// A string, optionally limited to documented values.
    String {
        enum_values: Option<Vec<String>>,
    },
    /// An integer within the range of `bits` (32 or 64) signed bits.
    Int {
        bits: u8,
    },
    /// A non-negative integer within `bits` (32 or 64) unsigned bits (protobuf `uint32`).
    UInt {
        bits: u8,
    },
    /// A protobuf `google.protobuf.Duration`: `"2s"`, `"0.25s"`, `"1m30s"` or `duration(...)`.
    Duration,
    /// A protobuf `google.protobuf.Any`: a message of any type, packed with `proto.to_any(msg)`.
    Any,
    /// A floating point number (integers accepted).
    Number,
    Bool,
    /// A resource quantity (`500m`, `16Gi`).
    Quantity,
    /// An integer or a string (ports by number or name, percentages).
    IntOrString,
    /// An RFC 3339 timestamp string.
    Time,
    /// Base64 data in a string.
    Bytes,
    /// A nested message.
    Message(TypeId),
    List(Box<FieldType>),
    /// A map from string keys.
    Map(Box<FieldType>),
    /// Free-form JSON (RawExtension and the like).
    Json,
}

impl FieldType {
    /// A short description for messages, e.g. `list of Container`.
    pub fn describe(&self) -> String {
        match self {
            FieldType::String { .. } => "string".into(),
            FieldType::Int { bits } => format!("int (int{bits})"),
            FieldType::UInt { bits } => format!("int (uint{bits})"),
            FieldType::Duration => "Duration (e.g. \"2s\")".into(),
            FieldType::Any => "Any (proto.to_any(message))".into(),
            FieldType::Number => "number".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Quantity => "Quantity".into(),
            FieldType::IntOrString => "int or string".into(),
            FieldType::Time => "Time (RFC 3339 string)".into(),
            FieldType::Bytes => "bytes (base64 string)".into(),
            FieldType::Message(id) => lookup(*id).short_name().to_string(),
            FieldType::List(t) => format!("list of {}", t.describe()),
            FieldType::Map(t) => format!("dict of string to {}", t.describe()),
            FieldType::Json => "any JSON value".into(),
        }
    }
}

/// One field of a message type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The wire name (Kubernetes: camelCase JSON name). Borrowed from the table generated at
    /// build time for Kubernetes.
    pub name: Cow<'static, str>,
    pub ty: FieldType,
    /// Borrowed from the table generated at build time for Kubernetes (copying every
    /// description was most of the schema's start-up cost).
    pub description: Cow<'static, str>,
    pub required: bool,
    /// Constraints beyond the type (from protoc-gen-validate rules), checked at lowering.
    pub rules: Rules,
}

/// Value constraints of a field. Empty for Kubernetes; Envoy's protos declare them with
/// protoc-gen-validate annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rules {
    /// Numbers (and durations, in seconds): exclusive and inclusive bounds.
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    /// Strings: minimum and maximum length in characters; lists: number of items.
    pub min_len: Option<u64>,
    pub max_len: Option<u64>,
    pub min_items: Option<u64>,
}

impl Rules {
    pub fn is_empty(&self) -> bool {
        *self == Rules::default()
    }
}

/// A group of fields of which at most one may be set (a protobuf `oneof`); `required` when
/// exactly one must be.
#[derive(Debug, Clone, PartialEq)]
pub struct Oneof {
    pub name: String,
    pub fields: Vec<usize>,
    pub required: bool,
}

/// `apiVersion` and `kind` of a top-level object type.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn api_version(&self) -> String {
        self.api_version_text().into_owned()
    }

    /// [`Gvk::api_version`], borrowed where it is the version alone (the core group): no copy
    /// for the constructors, which compare it for every object they build.
    pub fn api_version_text(&self) -> std::borrow::Cow<'_, str> {
        if self.group.is_empty() {
            std::borrow::Cow::Borrowed(&self.version)
        } else {
            std::borrow::Cow::Owned(format!("{}/{}", self.group, self.version))
        }
    }
}

/// A message type: an object with named, typed fields.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageType {
    pub id: TypeId,
    /// Fully qualified schema name, e.g. `io.k8s.api.apps.v1.Deployment`.
    pub name: String,
    /// The Starlark path of its constructor, e.g. `k8s.apps.v1.Deployment`.
    pub path: String,
    /// For messages: `apps/v1 DeploymentSpec` (the group/version and the type name).
    pub display: String,
    pub description: Cow<'static, str>,
    pub fields: Vec<Field>,
    /// Set for top-level kinds.
    pub gvk: Option<Gvk>,
    /// Groups of mutually exclusive fields (protobuf `oneof`s).
    pub oneofs: Vec<Oneof>,
    /// Looked up for every field of every object rendered: a fast hash, not SipHash (the
    /// keys are schema field names, not input). Built on the first lookup: a render uses a few
    /// dozen of the Kubernetes schema's six hundred types, and every process builds the schema.
    field_index: FieldIndex,
}

/// [`MessageType::field`]'s index, built on first use. It follows from the fields, so it takes
/// no part in a type's equality (whether it was built yet does not matter).
#[derive(Debug, Clone, Default)]
struct FieldIndex(OnceLock<Index<Cow<'static, str>, usize>>);

impl PartialEq for FieldIndex {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl MessageType {
    pub fn new(
        id: TypeId,
        name: String,
        path: String,
        display: String,
        description: impl Into<Cow<'static, str>>,
        fields: Vec<Field>,
        gvk: Option<Gvk>,
    ) -> MessageType {
        MessageType {
            id,
            name,
            path,
            display,
            description: description.into(),
            fields,
            gvk,
            oneofs: Vec::new(),
            field_index: FieldIndex::default(),
        }
    }

    /// The last component of the path, e.g. `DeploymentSpec`.
    pub fn short_name(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or(&self.path)
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        let index = self.field_index.0.get_or_init(|| {
            self.fields
                .iter()
                .enumerate()
                .map(|(i, f)| (f.name.clone(), i))
                .collect()
        });
        index.get(name).map(|&i| (i, &self.fields[i]))
    }
}

/// The schema's indexes: built at every start (hashing every type's name, path and namespace
/// was a tenth of building the Kubernetes schema with SipHash) and never iterated, so a fast
/// fixed hash.
type Index<K, V> = HashMap<K, V, foldhash::fast::FixedState>;

/// A table of message types, with the namespaces their constructors live in.
#[derive(Debug)]
pub struct Schema {
    source: SchemaId,
    types: Vec<MessageType>,
    by_name: Index<String, TypeId>,
    by_path: Index<String, TypeId>,
    by_gvk: Index<(String, String), TypeId>,
    /// Types by the path they are directly under: a namespace (`k8s.apps.v1`) or, for
    /// nested protobuf types, their parent message (`envoy.config.cluster.v3.Cluster`).
    children: Index<String, Vec<TypeId>>,
}

impl Schema {
    /// An empty schema whose types get ids of `source`.
    pub fn new(source: SchemaId) -> Schema {
        Schema {
            source,
            types: Vec::new(),
            by_name: Index::default(),
            by_path: Index::default(),
            by_gvk: Index::default(),
            children: Index::default(),
        }
    }

    pub fn source(&self) -> SchemaId {
        self.source
    }

    pub fn get(&self, id: TypeId) -> &MessageType {
        debug_assert_eq!(id.source(), self.source);
        &self.types[id.index()]
    }

    pub fn types(&self) -> &[MessageType] {
        &self.types
    }

    /// By fully qualified schema name (`io.k8s.api.apps.v1.Deployment`).
    pub fn by_name(&self, name: &str) -> Option<&MessageType> {
        self.by_name.get(name).map(|&id| self.get(id))
    }

    /// By constructor path (`k8s.apps.v1.Deployment`) in this schema.
    pub fn by_path(&self, path: &str) -> Option<&MessageType> {
        self.by_path.get(path).map(|&id| self.get(id))
    }

    /// The types directly under `path` (a namespace or a parent message), in schema order.
    pub fn children(&self, path: &str) -> &[TypeId] {
        self.children.get(path).map_or(&[], Vec::as_slice)
    }

    /// By `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&MessageType> {
        self.by_gvk
            .get(&(api_version.to_string(), kind.to_string()))
            .map(|&id| self.get(id))
    }

    /// All top-level kinds, ordered by apiVersion and kind.
    pub fn kinds(&self) -> Vec<&MessageType> {
        let mut ks: Vec<&MessageType> = self.types.iter().filter(|t| t.gvk.is_some()).collect();
        ks.sort_by_key(|t| {
            (
                t.gvk.as_ref().map(|g| (g.api_version(), g.kind.clone())),
                t.id,
            )
        });
        ks
    }

    /// Every namespace path (e.g. `k8s.apps.v1`) with the types directly in it, sorted.
    pub fn namespaces(&self) -> BTreeMap<String, Vec<TypeId>> {
        let mut res: BTreeMap<String, Vec<TypeId>> = BTreeMap::new();
        for t in &self.types {
            if let Some((ns, _)) = t.path.rsplit_once('.') {
                res.entry(ns.to_string()).or_default().push(t.id);
            }
        }
        for ids in res.values_mut() {
            ids.sort_by(|a, b| self.get(*a).path.cmp(&self.get(*b).path));
        }
        res
    }

    /// Makes room for `n` more types.
    pub(crate) fn reserve_types(&mut self, n: usize) {
        self.types.reserve(n);
        self.by_name.reserve(n);
        self.by_path.reserve(n);
    }

    /// Reserves an id for `name` (so recursive types can refer to themselves).
    pub(crate) fn reserve(&mut self, name: &str) -> (TypeId, bool) {
        if let Some(&id) = self.by_name.get(name) {
            return (id, false);
        }
        let id = TypeId::new(self.source, self.types.len() as u32);
        self.types.push(MessageType::new(
            id,
            name.to_string(),
            String::new(),
            String::new(),
            String::new(),
            Vec::new(),
            None,
        ));
        self.by_name.insert(name.to_string(), id);
        (id, true)
    }

    pub(crate) fn fill(&mut self, t: MessageType) {
        let id = t.id;
        self.by_path.insert(t.path.clone(), id);
        if let Some((parent, _)) = t.path.rsplit_once('.') {
            // Most types share their parent with the type before them: no key to allocate.
            match self.children.get_mut(parent) {
                Some(ids) => ids.push(id),
                None => {
                    self.children.insert(parent.to_string(), vec![id]);
                }
            }
        }
        if let Some(g) = &t.gvk {
            self.by_gvk.insert((g.api_version(), g.kind.clone()), id);
        }
        self.types[id.index()] = t;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field index is built on the first lookup; it takes no part in equality, and a
    /// clone made before or after it was built finds the same fields.
    #[test]
    fn field_index_is_built_on_first_lookup() {
        let c = k8s::k8s().schema.by_path("k8s.core.v1.Container").unwrap();
        let before = c.clone();
        let (i, f) = c.field("image").expect("Container has an image");
        assert_eq!(c.fields[i].name, "image");
        assert_eq!(f.ty, FieldType::String { enum_values: None });
        assert!(c.field("imagee").is_none());
        assert_eq!(&before, c);
        assert_eq!(before.field("image").map(|(i, _)| i), Some(i));
        let mut other = before.clone();
        other.fields.pop();
        assert_ne!(&other, c);
    }
}
