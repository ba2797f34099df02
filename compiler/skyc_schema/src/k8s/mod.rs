//! The Kubernetes schema source: every built-in kind and sub-type of the Kubernetes version this
//! build targets, read from the JSON schemas that `k8s-openapi` derives (its `schemars` feature),
//! plus lowering of an object to the `k8s-openapi` struct of its kind.
//!
//! The version is chosen by a cargo feature (`k8s_v1_33` … `k8s_v1_37`, default `k8s_v1_35`).

#[macro_use]
mod kinds;

use crate::{Field, FieldType, Gvk, MessageType, Schema, TypeId};
use serde_json::{Map, Value};
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

struct Root {
    schema_name: String,
    gvk: Gvk,
    lower: Lowerer,
    check: Checker,
}

fn lower_via<T: serde::de::DeserializeOwned + serde::Serialize>(v: Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(v).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

fn check_via<T: serde::de::DeserializeOwned>(v: &Value) -> Result<(), String> {
    T::deserialize(v).map(drop).map_err(|e| e.to_string())
}

fn root<T>(generator: &mut schemars::SchemaGenerator) -> Root
where
    T: k8s_openapi::Resource
        + schemars::JsonSchema
        + serde::de::DeserializeOwned
        + serde::Serialize,
{
    generator.subschema_for::<T>();
    Root {
        schema_name: T::schema_name().into_owned(),
        gvk: Gvk {
            group: T::GROUP.to_string(),
            version: T::VERSION.to_string(),
            kind: T::KIND.to_string(),
        },
        lower: lower_via::<T>,
        check: check_via::<T>,
    }
}

macro_rules! collect_roots {
    ($($t:path),* $(,)?) => {
        fn roots(generator: &mut schemars::SchemaGenerator) -> Vec<Root> {
            vec![$(root::<$t>(generator)),*]
        }
    };
}
for_each_kind!(collect_roots);

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
}

fn build() -> K8s {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let roots = roots(&mut generator);
    let defs: Map<String, Value> = generator.take_definitions(true);
    let mut b = Builder {
        defs: &defs,
        schema: Schema::new(crate::SchemaId::K8S),
    };
    let mut lowerers = HashMap::new();
    let mut gvks: HashMap<&str, (&Gvk, (Lowerer, Checker))> = HashMap::new();
    for r in &roots {
        gvks.insert(&r.schema_name, (&r.gvk, (r.lower, r.check)));
    }
    // Every definition becomes a type, in sorted order so ids are stable.
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    for name in names {
        if special(name).is_some() {
            continue;
        }
        let id = b.message(name);
        if let Some((gvk, lower)) = gvks.get(name.as_str()) {
            let mut t = b.schema.get(id).clone();
            t.gvk = Some((*gvk).clone());
            t.display = format!("{} {}", gvk.api_version(), gvk.kind);
            b.schema.fill(t);
            lowerers.insert(id, *lower);
        }
    }
    let mut schema = b.schema;
    for (path, field, values) in ENUMS {
        apply_enum(&mut schema, path, field, values);
    }
    K8s { schema, lowerers }
}

/// Closed string sets of Kubernetes fields. `k8s-openapi` drops the "Possible enum values"
/// that the upstream OpenAPI documents carry, so the common ones are listed here; a test checks
/// that each entry names an existing string field.
const ENUMS: &[(&str, &str, &[&str])] = &[
    (
        "k8s.core.v1.Container",
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
    ),
    (
        "k8s.core.v1.Container",
        "terminationMessagePolicy",
        &["File", "FallbackToLogsOnError"],
    ),
    (
        "k8s.core.v1.ContainerPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "k8s.core.v1.ServicePort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "k8s.core.v1.PodSpec",
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    ),
    (
        "k8s.core.v1.PodSpec",
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ),
    (
        "k8s.core.v1.PodSpec",
        "preemptionPolicy",
        &["PreemptLowerPriority", "Never"],
    ),
    (
        "k8s.core.v1.ServiceSpec",
        "type",
        &["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"],
    ),
    (
        "k8s.core.v1.ServiceSpec",
        "externalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "k8s.core.v1.ServiceSpec",
        "internalTrafficPolicy",
        &["Cluster", "Local"],
    ),
    (
        "k8s.core.v1.ServiceSpec",
        "sessionAffinity",
        &["ClientIP", "None"],
    ),
    (
        "k8s.core.v1.ServiceSpec",
        "ipFamilyPolicy",
        &["SingleStack", "PreferDualStack", "RequireDualStack"],
    ),
    ("k8s.core.v1.HTTPGetAction", "scheme", &["HTTP", "HTTPS"]),
    ("k8s.core.v1.Toleration", "operator", &["Exists", "Equal"]),
    (
        "k8s.core.v1.Toleration",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
    (
        "k8s.core.v1.Taint",
        "effect",
        &["NoSchedule", "PreferNoSchedule", "NoExecute"],
    ),
    (
        "k8s.core.v1.NodeSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"],
    ),
    (
        "k8s.meta.v1.LabelSelectorRequirement",
        "operator",
        &["In", "NotIn", "Exists", "DoesNotExist"],
    ),
    (
        "k8s.core.v1.TopologySpreadConstraint",
        "whenUnsatisfiable",
        &["DoNotSchedule", "ScheduleAnyway"],
    ),
    (
        "k8s.core.v1.TopologySpreadConstraint",
        "nodeAffinityPolicy",
        &["Honor", "Ignore"],
    ),
    (
        "k8s.core.v1.TopologySpreadConstraint",
        "nodeTaintsPolicy",
        &["Honor", "Ignore"],
    ),
    (
        "k8s.core.v1.SeccompProfile",
        "type",
        &["Localhost", "RuntimeDefault", "Unconfined"],
    ),
    (
        "k8s.core.v1.AppArmorProfile",
        "type",
        &["Localhost", "RuntimeDefault", "Unconfined"],
    ),
    (
        "k8s.core.v1.PodSecurityContext",
        "fsGroupChangePolicy",
        &["OnRootMismatch", "Always"],
    ),
    (
        "k8s.core.v1.PersistentVolumeClaimSpec",
        "volumeMode",
        &["Block", "Filesystem"],
    ),
    (
        "k8s.core.v1.HostPathVolumeSource",
        "type",
        &[
            "",
            "DirectoryOrCreate",
            "Directory",
            "FileOrCreate",
            "File",
            "Socket",
            "CharDevice",
            "BlockDevice",
        ],
    ),
    (
        "k8s.apps.v1.DeploymentStrategy",
        "type",
        &["Recreate", "RollingUpdate"],
    ),
    (
        "k8s.apps.v1.StatefulSetSpec",
        "podManagementPolicy",
        &["OrderedReady", "Parallel"],
    ),
    (
        "k8s.apps.v1.StatefulSetUpdateStrategy",
        "type",
        &["RollingUpdate", "OnDelete"],
    ),
    (
        "k8s.apps.v1.DaemonSetUpdateStrategy",
        "type",
        &["RollingUpdate", "OnDelete"],
    ),
    (
        "k8s.batch.v1.CronJobSpec",
        "concurrencyPolicy",
        &["Allow", "Forbid", "Replace"],
    ),
    (
        "k8s.batch.v1.JobSpec",
        "completionMode",
        &["NonIndexed", "Indexed"],
    ),
    (
        "k8s.batch.v1.JobSpec",
        "podReplacementPolicy",
        &["TerminatingOrFailed", "Failed"],
    ),
    (
        "k8s.networking.v1.NetworkPolicySpec",
        "policyTypes",
        &["Ingress", "Egress"],
    ),
    (
        "k8s.networking.v1.NetworkPolicyPort",
        "protocol",
        &["TCP", "UDP", "SCTP"],
    ),
    (
        "k8s.networking.v1.HTTPIngressPath",
        "pathType",
        &["Exact", "Prefix", "ImplementationSpecific"],
    ),
    (
        "k8s.policy.v1.PodDisruptionBudgetSpec",
        "unhealthyPodEvictionPolicy",
        &["IfHealthyBudget", "AlwaysAllow"],
    ),
    (
        "k8s.autoscaling.v2.MetricSpec",
        "type",
        &[
            "ContainerResource",
            "External",
            "Object",
            "Pods",
            "Resource",
        ],
    ),
    (
        "k8s.autoscaling.v2.MetricTarget",
        "type",
        &["AverageValue", "Utilization", "Value"],
    ),
];

fn apply_enum(schema: &mut Schema, path: &str, field: &str, values: &[&str]) -> bool {
    let Some(t) = schema.by_path(path) else {
        return false;
    };
    let Some((i, _)) = t.field(field) else {
        return false;
    };
    let mut t = t.clone();
    let values = Some(values.iter().map(|v| v.to_string()).collect());
    match &mut t.fields[i].ty {
        FieldType::String { enum_values } => *enum_values = values,
        FieldType::List(inner) => match inner.as_mut() {
            FieldType::String { enum_values } => *enum_values = values,
            _ => return false,
        },
        _ => return false,
    }
    schema.fill(t);
    true
}

/// Types with a special representation instead of a message.
fn special(name: &str) -> Option<FieldType> {
    Some(match name {
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => FieldType::Quantity,
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => FieldType::IntOrString,
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
        | "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => FieldType::Time,
        "io.k8s.apimachinery.pkg.runtime.RawExtension"
        | "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray" => {
            FieldType::Json
        }
        _ => return None,
    })
}

/// `io.k8s.api.apps.v1.DeploymentSpec` → (`k8s.apps.v1.DeploymentSpec`, `apps/v1 DeploymentSpec`).
fn path_and_display(name: &str) -> (String, String) {
    let parts: Vec<&str> = name.split('.').collect();
    let n = parts.len();
    if n < 3 {
        return (format!("k8s.{name}"), name.to_string());
    }
    let (group, version, ty) = (parts[n - 3], parts[n - 2], parts[n - 1]);
    let group = group.replace('-', "_");
    let display = if group == "core" {
        format!("{version} {ty}")
    } else {
        format!("{group}/{version} {ty}")
    };
    (format!("k8s.{group}.{version}.{ty}"), display)
}

struct Builder<'a> {
    defs: &'a Map<String, Value>,
    schema: Schema,
}

impl Builder<'_> {
    fn message(&mut self, name: &str) -> TypeId {
        let (id, fresh) = self.schema.reserve(name);
        if !fresh {
            return id;
        }
        let def = self.defs.get(name).cloned().unwrap_or(Value::Null);
        let required: Vec<&str> = def
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::new();
        if let Some(props) = def.get("properties").and_then(Value::as_object) {
            let mut keys: Vec<&String> = props.keys().collect();
            keys.sort();
            for key in keys {
                let prop = &props[key];
                fields.push(Field {
                    name: key.clone(),
                    ty: self.field_type(prop),
                    description: description(prop),
                    required: required.contains(&key.as_str()),
                    rules: Default::default(),
                });
            }
        }
        let (path, display) = path_and_display(name);
        self.schema.fill(MessageType::new(
            id,
            name.to_string(),
            path,
            display,
            description(&def),
            fields,
            None,
        ));
        id
    }

    fn field_type(&mut self, v: &Value) -> FieldType {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            return special(name).unwrap_or_else(|| FieldType::Message(self.message(name)));
        }
        if v.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return FieldType::IntOrString;
        }
        match v.get("type").and_then(Value::as_str) {
            Some("string") => match v.get("format").and_then(Value::as_str) {
                Some("byte") => FieldType::Bytes,
                Some("date-time") => FieldType::Time,
                _ => FieldType::String { enum_values: None },
            },
            Some("integer") => FieldType::Int {
                bits: if v.get("format").and_then(Value::as_str) == Some("int32") {
                    32
                } else {
                    64
                },
            },
            Some("number") => FieldType::Number,
            Some("boolean") => FieldType::Bool,
            Some("array") => FieldType::List(Box::new(
                v.get("items")
                    .map(|i| self.field_type(i))
                    .unwrap_or(FieldType::Json),
            )),
            Some("object") => match v.get("additionalProperties") {
                Some(ap) if ap.is_object() => FieldType::Map(Box::new(self.field_type(ap))),
                _ => FieldType::Json,
            },
            _ => FieldType::Json,
        }
    }
}

fn description(v: &Value) -> String {
    v.get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
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
    fn every_enum_entry_names_a_string_field() {
        let mut schema = Schema::new(crate::SchemaId::K8S);
        std::mem::swap(&mut schema, &mut build().schema);
        for (path, field, values) in ENUMS {
            assert!(
                apply_enum(&mut schema, path, field, values),
                "{path}.{field}"
            );
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
