//! Build-time generation of the Kubernetes schema table (included by `build.rs`, not by the
//! library). It reads the JSON schemas that `k8s-openapi` derives for every kind (its
//! `schemars` feature), turns each definition into a message type of skyc's model, and writes
//! them as static Rust data (`RawType`, see `table.rs`) into `OUT_DIR/k8s_table.rs`. A run of
//! skyc then builds its schema from that table instead of generating and walking the JSON
//! schemas on every start.

use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Closed string sets of Kubernetes fields. `k8s-openapi` drops the "Possible enum values"
/// that the upstream OpenAPI documents carry, so the common ones are listed here; the build
/// fails unless each entry names an existing string field.
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

/// A field type while generating (`RawTy` in the table).
enum GenTy {
    String(Option<Vec<String>>),
    Int(u8),
    Number,
    Bool,
    Quantity,
    IntOrString,
    Time,
    Bytes,
    Message(u32),
    List(Box<GenTy>),
    Map(Box<GenTy>),
    Json,
}

struct GenField {
    name: String,
    ty: GenTy,
    description: String,
    required: bool,
}

struct GenType {
    name: String,
    path: String,
    display: String,
    description: String,
    gvk: Option<(String, String, String)>,
    fields: Vec<GenField>,
}

struct Root {
    schema_name: String,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
}

fn root<T: k8s_openapi::Resource + schemars::JsonSchema>(
    generator: &mut schemars::SchemaGenerator,
) -> Root {
    generator.subschema_for::<T>();
    Root {
        schema_name: T::schema_name().into_owned(),
        group: T::GROUP,
        version: T::VERSION,
        kind: T::KIND,
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

/// The Rust source of the table: `pub static TYPES: &[RawType]`, a type's id being its index.
pub fn generate() -> String {
    let mut generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let roots = roots(&mut generator);
    let defs: Map<String, Value> = generator.take_definitions(true);
    let mut b = Builder {
        defs: &defs,
        types: Vec::new(),
        ids: HashMap::new(),
    };
    // Every definition becomes a type, visited in sorted order so ids are stable.
    let mut names: Vec<&String> = defs.keys().collect();
    names.sort();
    for name in names {
        if special(name).is_none() {
            b.message(name);
        }
    }
    for r in &roots {
        let id = b.ids[&r.schema_name];
        let t = b.types[id as usize].as_mut().expect("filled");
        let api_version = if r.group.is_empty() {
            r.version.to_string()
        } else {
            format!("{}/{}", r.group, r.version)
        };
        t.display = format!("{api_version} {}", r.kind);
        t.gvk = Some((r.group.into(), r.version.into(), r.kind.into()));
    }
    let mut types: Vec<GenType> = b.types.into_iter().map(|t| t.expect("filled")).collect();
    for (path, field, values) in ENUMS {
        apply_enum(&mut types, path, field, values);
    }
    write_table(&types)
}

fn apply_enum(types: &mut [GenType], path: &str, field: &str, values: &[&str]) {
    let t = types
        .iter_mut()
        .find(|t| t.path == path)
        .unwrap_or_else(|| panic!("ENUMS: no type {path}"));
    let f = t
        .fields
        .iter_mut()
        .find(|f| f.name == field)
        .unwrap_or_else(|| panic!("ENUMS: no field {path}.{field}"));
    let values = Some(values.iter().map(|v| v.to_string()).collect());
    match &mut f.ty {
        GenTy::String(e) => *e = values,
        GenTy::List(inner) => match inner.as_mut() {
            GenTy::String(e) => *e = values,
            _ => panic!("ENUMS: {path}.{field} is not a list of strings"),
        },
        _ => panic!("ENUMS: {path}.{field} is not a string"),
    }
}

/// Types with a special representation instead of a message.
fn special(name: &str) -> Option<GenTy> {
    Some(match name {
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => GenTy::Quantity,
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => GenTy::IntOrString,
        "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
        | "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime" => GenTy::Time,
        "io.k8s.apimachinery.pkg.runtime.RawExtension"
        | "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool"
        | "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray" => {
            GenTy::Json
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
    /// By id; `None` while a type's fields are being built (recursive types).
    types: Vec<Option<GenType>>,
    ids: HashMap<String, u32>,
}

impl Builder<'_> {
    fn message(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(None);
        self.ids.insert(name.to_string(), id);
        let defs = self.defs;
        let def = defs.get(name).unwrap_or(&Value::Null);
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
                fields.push(GenField {
                    name: key.clone(),
                    ty: self.field_type(prop),
                    description: description(prop),
                    required: required.contains(&key.as_str()),
                });
            }
        }
        let (path, display) = path_and_display(name);
        self.types[id as usize] = Some(GenType {
            name: name.to_string(),
            path,
            display,
            description: description(def),
            gvk: None,
            fields,
        });
        id
    }

    fn field_type(&mut self, v: &Value) -> GenTy {
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or(r);
            return special(name).unwrap_or_else(|| GenTy::Message(self.message(name)));
        }
        if v.get("x-kubernetes-int-or-string").and_then(Value::as_bool) == Some(true) {
            return GenTy::IntOrString;
        }
        match v.get("type").and_then(Value::as_str) {
            Some("string") => match v.get("format").and_then(Value::as_str) {
                Some("byte") => GenTy::Bytes,
                Some("date-time") => GenTy::Time,
                _ => GenTy::String(None),
            },
            Some("integer") => GenTy::Int(
                if v.get("format").and_then(Value::as_str) == Some("int32") {
                    32
                } else {
                    64
                },
            ),
            Some("number") => GenTy::Number,
            Some("boolean") => GenTy::Bool,
            Some("array") => GenTy::List(Box::new(
                v.get("items")
                    .map(|i| self.field_type(i))
                    .unwrap_or(GenTy::Json),
            )),
            Some("object") => match v.get("additionalProperties") {
                Some(ap) if ap.is_object() => GenTy::Map(Box::new(self.field_type(ap))),
                _ => GenTy::Json,
            },
            _ => GenTy::Json,
        }
    }
}

fn description(v: &Value) -> String {
    v.get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn write_ty(out: &mut String, ty: &GenTy) {
    match ty {
        GenTy::String(None) => out.push_str("RawTy::String(None)"),
        GenTy::String(Some(values)) => {
            out.push_str("RawTy::String(Some(&[");
            for v in values {
                let _ = write!(out, "{v:?},");
            }
            out.push_str("]))");
        }
        GenTy::Int(bits) => {
            let _ = write!(out, "RawTy::Int({bits})");
        }
        GenTy::Number => out.push_str("RawTy::Number"),
        GenTy::Bool => out.push_str("RawTy::Bool"),
        GenTy::Quantity => out.push_str("RawTy::Quantity"),
        GenTy::IntOrString => out.push_str("RawTy::IntOrString"),
        GenTy::Time => out.push_str("RawTy::Time"),
        GenTy::Bytes => out.push_str("RawTy::Bytes"),
        GenTy::Message(id) => {
            let _ = write!(out, "RawTy::Message({id})");
        }
        GenTy::List(inner) => {
            out.push_str("RawTy::List(&");
            write_ty(out, inner);
            out.push(')');
        }
        GenTy::Map(inner) => {
            out.push_str("RawTy::Map(&");
            write_ty(out, inner);
            out.push(')');
        }
        GenTy::Json => out.push_str("RawTy::Json"),
    }
}

/// Strings are written with `{:?}`, whose escapes are valid Rust string literal syntax.
fn write_table(types: &[GenType]) -> String {
    let mut out = String::from("pub static TYPES: &[RawType] = &[\n");
    for t in types {
        let _ = write!(
            out,
            "RawType {{ name: {:?}, path: {:?}, display: {:?}, description: {:?}, gvk: ",
            t.name, t.path, t.display, t.description
        );
        match &t.gvk {
            Some((g, v, k)) => {
                let _ = write!(out, "Some(({g:?}, {v:?}, {k:?}))");
            }
            None => out.push_str("None"),
        }
        out.push_str(", fields: &[\n");
        for f in &t.fields {
            let _ = write!(out, "  RawField {{ name: {:?}, ty: ", f.name);
            write_ty(&mut out, &f.ty);
            let _ = writeln!(
                out,
                ", description: {:?}, required: {} }},",
                f.description, f.required
            );
        }
        out.push_str("] },\n");
    }
    out.push_str("];\n");
    out
}
