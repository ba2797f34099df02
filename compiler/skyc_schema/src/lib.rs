//! The schema model behind skyc's typed messages.
//!
//! A [`Schema`] is a table of [`MessageType`]s, each a list of typed [`Field`]s. The table is
//! independent of where it came from: [`k8s`] builds it from the `k8s-openapi` crate's JSON
//! schemas; Envoy descriptors and CRD schemas plug into the same model.
//!
//! Architecture invariants: no I/O; no `HashMap` iteration in anything that orders output
//! (fields keep the schema's order, namespaces are `BTreeMap`s).

pub mod envoy;
pub mod k8s;
mod quantity;

pub use quantity::{parse_quantity, Quantity, QuantityError};

use std::collections::{BTreeMap, HashMap};

/// Index of a message type in its [`Schema`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub u32);

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
    pub fn describe(&self, schema: &Schema) -> String {
        match self {
            FieldType::String { .. } => "string".into(),
            FieldType::Int { bits } => format!("int (int{bits})"),
            FieldType::Number => "number".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Quantity => "Quantity".into(),
            FieldType::IntOrString => "int or string".into(),
            FieldType::Time => "Time (RFC 3339 string)".into(),
            FieldType::Bytes => "bytes (base64 string)".into(),
            FieldType::Message(id) => schema.get(*id).short_name().to_string(),
            FieldType::List(t) => format!("list of {}", t.describe(schema)),
            FieldType::Map(t) => format!("dict of string to {}", t.describe(schema)),
            FieldType::Json => "any JSON value".into(),
        }
    }
}

/// One field of a message type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The wire name (Kubernetes: camelCase JSON name).
    pub name: String,
    pub ty: FieldType,
    pub description: String,
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
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
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
    pub description: String,
    pub fields: Vec<Field>,
    /// Set for top-level kinds.
    pub gvk: Option<Gvk>,
    field_index: HashMap<String, usize>,
}

impl MessageType {
    pub fn new(
        id: TypeId,
        name: String,
        path: String,
        display: String,
        description: String,
        fields: Vec<Field>,
        gvk: Option<Gvk>,
    ) -> MessageType {
        let field_index = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        MessageType {
            id,
            name,
            path,
            display,
            description,
            fields,
            gvk,
            field_index,
        }
    }

    /// The last component of the path, e.g. `DeploymentSpec`.
    pub fn short_name(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or(&self.path)
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.field_index.get(name).map(|&i| (i, &self.fields[i]))
    }
}

/// A table of message types, with the namespaces their constructors live in.
#[derive(Debug, Default)]
pub struct Schema {
    types: Vec<MessageType>,
    by_name: HashMap<String, TypeId>,
    by_path: HashMap<String, TypeId>,
    by_gvk: HashMap<(String, String), TypeId>,
}

impl Schema {
    pub fn get(&self, id: TypeId) -> &MessageType {
        &self.types[id.0 as usize]
    }

    pub fn types(&self) -> &[MessageType] {
        &self.types
    }

    /// By fully qualified schema name (`io.k8s.api.apps.v1.Deployment`).
    pub fn by_name(&self, name: &str) -> Option<&MessageType> {
        self.by_name.get(name).map(|&id| self.get(id))
    }

    /// By constructor path (`k8s.apps.v1.Deployment`).
    pub fn by_path(&self, path: &str) -> Option<&MessageType> {
        self.by_path.get(path).map(|&id| self.get(id))
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

    /// Reserves an id for `name` (so recursive types can refer to themselves).
    pub(crate) fn reserve(&mut self, name: &str) -> (TypeId, bool) {
        if let Some(&id) = self.by_name.get(name) {
            return (id, false);
        }
        let id = TypeId(self.types.len() as u32);
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
        if let Some(g) = &t.gvk {
            self.by_gvk.insert((g.api_version(), g.kind.clone()), id);
        }
        self.types[id.0 as usize] = t;
    }
}
