//! The Kubernetes schema source: every built-in kind and sub-type of the Kubernetes version this
//! build targets, read at build time from the JSON schemas that `k8s-openapi` derives (its
//! `schemars` feature; `build.rs` and `gen.rs` turn them into a static table), plus lowering of
//! an object to the `k8s-openapi` struct of its kind.
//!
//! The version is chosen by a cargo feature (`k8s_v1_33` … `k8s_v1_37`, default `k8s_v1_35`).

#[macro_use]
mod kinds;

use crate::{Field, FieldType, Gvk, MessageType, Schema, SchemaId, TypeId};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

#[cfg(feature = "k8s_v1_33")]
pub const KUBERNETES_VERSION: &str = "1.33";
#[cfg(feature = "k8s_v1_34")]
pub const KUBERNETES_VERSION: &str = "1.34";
#[cfg(feature = "k8s_v1_35")]
pub const KUBERNETES_VERSION: &str = "1.35";
#[cfg(feature = "k8s_v1_36")]
pub const KUBERNETES_VERSION: &str = "1.36";
#[cfg(feature = "k8s_v1_37")]
pub const KUBERNETES_VERSION: &str = "1.37";

/// Turns a JSON object of one kind into its canonical form through the typed struct.
pub type Lowerer = fn(Value) -> Result<Value, String>;
/// Checks that a JSON object of one kind reads as the typed struct, without building it anew.
pub type Checker = fn(&Value) -> Result<(), String>;

fn lower_via<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn check_via<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    T::deserialize(v).map(drop).map_err(|e| e.to_string())
}

macro_rules! collect_lowerers {
    ($($t:path),* $(,)?) => {
        /// `(apiVersion, kind, lowerer, checker)` of every top-level kind.
        fn lowerers() -> Vec<(&'static str, &'static str, Lowerer, Checker)> {
            vec![$((
                <$t as k8s_openapi::Resource>::API_VERSION,
                <$t as k8s_openapi::Resource>::KIND,
                lower_via::<$t> as Lowerer,
                check_via::<$t> as Checker,
            )),*]
        }
    };
}
for_each_kind!(collect_lowerers);

/// Kubernetes' ObjectMeta in canonical form (the `metadata` of a custom resource).
pub fn lower_object_meta(v: Value) -> Result<Value, String> {
    lower_via::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(v)
}

/// The table `build.rs` generates from `k8s-openapi`'s JSON schemas (see `gen.rs`).
mod table {
    /// A message type; its id is its index in [`TYPES`].
    pub struct RawType {
        pub name: &'static str,
        pub path: &'static str,
        pub display: &'static str,
        pub description: &'static str,
        /// Group, version and kind of a top-level kind.
        pub gvk: Option<(&'static str, &'static str, &'static str)>,
        pub fields: &'static [RawField],
    }

    pub struct RawField {
        pub name: &'static str,
        pub ty: RawTy,
        pub description: &'static str,
        pub required: bool,
    }

    pub enum RawTy {
        String(Option<&'static [&'static str]>),
        Int(u8),
        Number,
        Bool,
        Quantity,
        IntOrString,
        Time,
        Bytes,
        Message(u32),
        List(&'static RawTy),
        Map(&'static RawTy),
        Json,
    }

    include!(concat!(env!("OUT_DIR"), "/k8s_table.rs"));
}

use table::{RawTy, TYPES};

/// The Kubernetes schema with lowering functions, built once per process.
pub struct K8s {
    pub schema: Schema,
    lowerers: HashMap<TypeId, (Lowerer, Checker)>,
}

/// The Kubernetes schema of this build (built on first use).
pub fn k8s() -> &'static K8s {
    static K8S: OnceLock<K8s> = OnceLock::new();
    K8S.get_or_init(build)
}

impl K8s {
    /// Lowers an object of a top-level kind to its canonical JSON through `k8s-openapi`.
    pub fn lower(&self, ty: TypeId, value: Value) -> Option<Result<Value, String>> {
        self.lowerers.get(&ty).map(|(f, _)| f(value))
    }

    /// Checks that an object of a top-level kind reads as its `k8s-openapi` struct. Cheaper
    /// than [`K8s::lower`], and the same result for JSON already in canonical form: fields in
    /// schema order, map keys sorted, quantities as strings, no timestamps or byte strings
    /// (which the structs write in a form of their own).
    pub fn check(&self, ty: TypeId, value: &Value) -> Option<Result<(), String>> {
        self.lowerers.get(&ty).map(|(_, f)| f(value))
    }

    /// Whether `ty` is a top-level kind (one [`K8s::lower`] and [`K8s::check`] know).
    pub fn is_kind(&self, ty: TypeId) -> bool {
        self.lowerers.contains_key(&ty)
    }
}

fn field_type(raw: &RawTy) -> FieldType {
    match raw {
        RawTy::String(values) => FieldType::String {
            enum_values: values.map(|v| v.iter().map(|s| s.to_string()).collect()),
        },
        RawTy::Int(bits) => FieldType::Int { bits: *bits },
        RawTy::Number => FieldType::Number,
        RawTy::Bool => FieldType::Bool,
        RawTy::Quantity => FieldType::Quantity,
        RawTy::IntOrString => FieldType::IntOrString,
        RawTy::Time => FieldType::Time,
        RawTy::Bytes => FieldType::Bytes,
        RawTy::Message(i) => FieldType::Message(TypeId::new(SchemaId::K8S, *i)),
        RawTy::List(inner) => FieldType::List(Box::new(field_type(inner))),
        RawTy::Map(inner) => FieldType::Map(Box::new(field_type(inner))),
        RawTy::Json => FieldType::Json,
    }
}

fn build() -> K8s {
    let mut schema = Schema::new(SchemaId::K8S);
    schema.reserve_types(TYPES.len());
    for (i, raw) in TYPES.iter().enumerate() {
        let (id, fresh) = schema.reserve(raw.name);
        debug_assert!(fresh && id.index() == i);
        let fields = raw
            .fields
            .iter()
            .map(|f| Field {
                name: Cow::Borrowed(f.name),
                ty: field_type(&f.ty),
                description: Cow::Borrowed(f.description),
                required: f.required,
                rules: Default::default(),
            })
            .collect();
        let gvk = raw.gvk.map(|(group, version, kind)| Gvk {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        });
        schema.fill(MessageType::new(
            id,
            raw.name.to_string(),
            raw.path.to_string(),
            raw.display.to_string(),
            Cow::Borrowed(raw.description),
            fields,
            gvk,
        ));
    }
    let mut lowerers = HashMap::new();
    for (api_version, kind, lower, check) in self::lowerers() {
        let t = schema
            .by_kind(api_version, kind)
            .unwrap_or_else(|| panic!("the table has no type for {api_version} {kind}"));
        lowerers.insert(t.id, (lower, check));
    }
    K8s { schema, lowerers }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployment_is_typed() {
        let s = &k8s().schema;
        let d = s.by_kind("apps/v1", "Deployment").expect("Deployment");
        assert_eq!(d.path, "k8s.apps.v1.Deployment");
        assert_eq!(d.display, "apps/v1 Deployment");
        let spec = d.field("spec").unwrap().1;
        let FieldType::Message(spec_id) = spec.ty else {
            panic!("spec is {:?}", spec.ty)
        };
        let spec = s.get(spec_id);
        assert_eq!(spec.path, "k8s.apps.v1.DeploymentSpec");
        assert_eq!(
            spec.field("replicas").unwrap().1.ty,
            FieldType::Int { bits: 32 }
        );
        assert!(spec.field("selector").unwrap().1.required);
        let c = s.by_path("k8s.core.v1.Container").unwrap();
        let policy = &c.field("imagePullPolicy").unwrap().1.ty;
        assert_eq!(
            policy,
            &FieldType::String {
                enum_values: Some(vec!["Always".into(), "IfNotPresent".into(), "Never".into()])
            }
        );
        let rr = s.by_path("k8s.core.v1.ResourceRequirements").unwrap();
        assert_eq!(
            rr.field("limits").unwrap().1.ty,
            FieldType::Map(Box::new(FieldType::Quantity))
        );
        assert!(s.by_path("k8s.meta.v1.ObjectMeta").is_some());
        assert!(s.kinds().len() > 60);
    }

    #[test]
    fn every_kind_has_a_lowerer_and_a_gvk() {
        let k = k8s();
        let kinds = k.schema.kinds();
        assert_eq!(kinds.len(), lowerers().len());
        for t in kinds {
            assert!(k.lowerers.contains_key(&t.id), "{}", t.path);
            let gvk = t.gvk.as_ref().unwrap();
            assert_eq!(t.display, format!("{} {}", gvk.api_version(), gvk.kind));
        }
    }

    #[test]
    fn checking_accepts_what_lowering_accepts() {
        let k = k8s();
        let id = k.schema.by_kind("v1", "ServiceAccount").unwrap().id;
        let good = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "x"}});
        assert_eq!(k.check(id, &good), Some(Ok(())));
        let bad = serde_json::json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": 3}});
        assert!(k.check(id, &bad).unwrap().is_err());
        assert!(k.lower(id, bad).unwrap().is_err());
    }

    #[test]
    fn lowering_orders_keys_conventionally() {
        let k = k8s();
        let id = k.schema.by_kind("v1", "ServiceAccount").unwrap().id;
        let v = serde_json::json!({"metadata": {"name": "x"}, "kind": "ServiceAccount", "apiVersion": "v1"});
        let out = k.lower(id, v).unwrap().unwrap();
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["apiVersion", "kind", "metadata"]);
    }
}
