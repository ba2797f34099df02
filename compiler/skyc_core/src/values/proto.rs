//! `proto.*`: skycfg's protobuf module over skyc's typed model (packages, enums, the codecs
//! and message operations), and `duration(...)`.

use super::message::{Message, MessageCtor};
use super::SkyError;
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean};
use skyc_schema::{SchemaId, TypeId};
use starlark::any::ProvidesStaticType;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_module;
use starlark::starlark_simple_value;
use starlark::values::float::UnpackFloat;
use starlark::values::none::NoneType;
use starlark::values::{
    starlark_value, Heap, NoSerialize, StarlarkPagablePanic, StarlarkValue, Value, ValueLike,
};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::OnceLock;

/// What a protobuf package name stands for in skyc's model.
#[derive(Debug, Clone, PartialEq)]
enum PackageKind {
    /// Kubernetes types whose schema names start with this prefix (`io.k8s.api.apps.v1`).
    K8s(String),
    /// `k8s.io.apimachinery.pkg.api.resource`: `Quantity(string = "100m")`.
    Resource,
    /// `k8s.io.apimachinery.pkg.util.intstr`: `IntOrString(intVal = 80)`.
    IntStr,
    /// Envoy's descriptors (envoy.*, xds.*, udpa.*, google.*).
    Envoy,
}

/// The value of `proto.package(name)`: its attributes are the package's message types and
/// enums.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct ProtoPackage {
    name: String,
    #[allocative(skip)]
    kind: PackageKind,
}

starlark_simple_value!(ProtoPackage);

impl fmt::Display for ProtoPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<proto.Package {:?}>", self.name)
    }
}

/// The Kubernetes schema name prefix of a protobuf package (`k8s.io.api.apps.v1` →
/// `io.k8s.api.apps.v1`).
fn k8s_prefix(package: &str) -> Option<String> {
    package
        .strip_prefix("k8s.io.")
        .map(|rest| format!("io.k8s.{rest}"))
}

/// Every package name `proto.package` accepts, sorted.
fn known_packages() -> &'static BTreeSet<String> {
    static KNOWN: OnceLock<BTreeSet<String>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut out = BTreeSet::new();
        for t in super::message::schema().types() {
            if let Some((pkg, _)) = t.name.rsplit_once('.') {
                if let Some(rest) = pkg.strip_prefix("io.k8s.") {
                    out.insert(format!("k8s.io.{rest}"));
                }
            }
        }
        out.insert("k8s.io.apimachinery.pkg.api.resource".to_string());
        out.insert("k8s.io.apimachinery.pkg.util.intstr".to_string());
        for f in skyc_schema::envoy::pool().files() {
            out.insert(f.package_name().to_string());
        }
        out
    })
}

impl ProtoPackage {
    fn resolve(name: &str) -> Result<ProtoPackage, SkyError> {
        let kind = match name {
            "k8s.io.apimachinery.pkg.api.resource" => PackageKind::Resource,
            "k8s.io.apimachinery.pkg.util.intstr" => PackageKind::IntStr,
            _ => match k8s_prefix(name) {
                Some(prefix) => PackageKind::K8s(prefix),
                None => PackageKind::Envoy,
            },
        };
        if !known_packages().contains(name) {
            let mut e = SkyError::new(
                codes::SKY0313,
                format!("skyc has no protobuf package named `{name}`"),
            );
            e = match did_you_mean(name, known_packages().iter().map(String::as_str)) {
                Some(s) => e.with_help(format!("did you mean `{s}`?")),
                None => e.with_help(
                    "Kubernetes packages are named like `k8s.io.api.apps.v1`, Envoy's like `envoy.config.cluster.v3`",
                ),
            };
            return Err(e);
        }
        Ok(ProtoPackage {
            name: name.to_string(),
            kind,
        })
    }

    fn member<'v>(&self, attr: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        match &self.kind {
            PackageKind::Resource => (attr == "Quantity").then(|| heap.alloc(WellKnown::Quantity)),
            PackageKind::IntStr => {
                (attr == "IntOrString").then(|| heap.alloc(WellKnown::IntOrString))
            }
            PackageKind::K8s(prefix) => super::message::schema()
                .by_name(&format!("{prefix}.{attr}"))
                .map(|t| heap.alloc(MessageCtor::proto(t.id))),
            PackageKind::Envoy => {
                let full = format!("{}.{attr}", self.name);
                if self.name == "google.protobuf" {
                    if let Some(w) = WellKnown::of(attr) {
                        return Some(heap.alloc(w));
                    }
                }
                if let Some(t) = skyc_schema::envoy::envoy().schema.by_name(&full) {
                    return Some(heap.alloc(MessageCtor::proto(t.id)));
                }
                skyc_schema::envoy::pool()
                    .get_enum_by_name(&full)
                    .map(|_| heap.alloc(EnumType { name: full }))
            }
        }
    }

    /// The names of the package's types and enums, sorted.
    fn members(&self) -> Vec<String> {
        let mut out: Vec<String> = match &self.kind {
            PackageKind::Resource => vec!["Quantity".into()],
            PackageKind::IntStr => vec!["IntOrString".into()],
            PackageKind::K8s(prefix) => {
                let dot = format!("{prefix}.");
                super::message::schema()
                    .types()
                    .iter()
                    .filter_map(|t| t.name.strip_prefix(&dot))
                    .filter(|rest| !rest.contains('.'))
                    .map(str::to_string)
                    .collect()
            }
            PackageKind::Envoy => {
                let pool = skyc_schema::envoy::pool();
                let mut names: Vec<String> = pool
                    .all_messages()
                    .filter(|m| m.package_name() == self.name && m.parent_message().is_none())
                    .map(|m| m.name().to_string())
                    .collect();
                names.extend(
                    pool.all_enums()
                        .filter(|e| e.package_name() == self.name && e.parent_message().is_none())
                        .map(|e| e.name().to_string()),
                );
                names
            }
        };
        out.sort();
        out.dedup();
        out
    }
}

/// The help for a name no package has: the closest type name of any package.
pub(crate) fn suggest_member(name: &str) -> String {
    let k8s = super::message::schema()
        .types()
        .iter()
        .map(|t| t.short_name().to_string());
    let envoy = skyc_schema::envoy::pool()
        .all_messages()
        .map(|m| m.name().to_string());
    let names: BTreeSet<String> = k8s.chain(envoy).collect();
    match did_you_mean(name, names.iter().map(String::as_str)) {
        Some(s) => format!("did you mean `{s}`? `dir(package)` lists its types"),
        None => "`dir(package)` lists its types".to_string(),
    }
}

#[starlark_value(type = "proto.Package")]
impl<'v> StarlarkValue<'v> for ProtoPackage {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        self.member(attribute, heap)
    }

    fn has_attr(&self, attribute: &str, heap: Heap<'v>) -> bool {
        self.member(attribute, heap).is_some()
    }

    fn dir_attr(&self) -> Vec<String> {
        self.members()
    }
}

/// A protobuf enum type (`Cluster.DiscoveryType`): its attributes are its value names, as
/// strings, which is what enum fields take.
#[derive(Debug, Clone, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct EnumType {
    name: String,
}

starlark_simple_value!(EnumType);

impl fmt::Display for EnumType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<proto.EnumType {:?}>", self.name)
    }
}

impl EnumType {
    fn values(&self) -> Vec<String> {
        skyc_schema::envoy::pool()
            .get_enum_by_name(&self.name)
            .map(|e| e.values().map(|v| v.name().to_string()).collect())
            .unwrap_or_default()
    }
}

#[starlark_value(type = "proto.EnumType")]
impl<'v> StarlarkValue<'v> for EnumType {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        self.values()
            .iter()
            .any(|v| v == attribute)
            .then(|| heap.alloc(attribute))
    }

    fn has_attr(&self, attribute: &str, _heap: Heap<'v>) -> bool {
        self.values().iter().any(|v| v == attribute)
    }

    fn dir_attr(&self) -> Vec<String> {
        self.values()
    }
}

/// An enum nested in an Envoy message type (`Cluster.DiscoveryType`).
pub(crate) fn nested_enum<'v>(ty: TypeId, attr: &str, heap: Heap<'v>) -> Option<Value<'v>> {
    if ty.source() != SchemaId::ENVOY {
        return None;
    }
    let name = format!("{}.{attr}", skyc_schema::lookup(ty).name);
    skyc_schema::envoy::pool()
        .get_enum_by_name(&name)
        .map(|_| heap.alloc(EnumType { name }))
}

/// What reading an unset field of a `proto.package` Envoy message gives, as protobuf's
/// proto3 rules say: the zero value of a scalar without presence (`""`, `0`, `False`, `0.0`,
/// an enum's first value). Fields with presence (messages, `optional`, oneof members), lists
/// and maps, and every Kubernetes field (proto2) read as `None` (or are created, see
/// `MessageGen::get_attr`).
pub(crate) fn proto3_zero<'v>(
    ty: TypeId,
    field: &skyc_schema::Field,
    heap: Heap<'v>,
) -> Option<Value<'v>> {
    use skyc_schema::FieldType;
    if ty.source() != SchemaId::ENVOY {
        return None;
    }
    let d = skyc_schema::envoy::envoy()
        .descriptor(ty)
        .get_field_by_name(&field.name)?;
    if d.supports_presence() || d.is_list() || d.is_map() {
        return None;
    }
    if let Some(e) = d.kind().as_enum() {
        return Some(heap.alloc(e.default_value().name()));
    }
    Some(match &field.ty {
        FieldType::String { .. } | FieldType::Bytes => heap.alloc(""),
        FieldType::Int { .. } | FieldType::UInt { .. } => heap.alloc(0),
        FieldType::Bool => Value::new_bool(false),
        FieldType::Number => heap.alloc(0.0),
        _ => return None,
    })
}

/// Types whose values skyc holds as scalars: a quantity, an int-or-string, a duration, a
/// wrapper. Their constructors take the protobuf fields and return the scalar.
#[derive(Debug, Clone, Copy, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub enum WellKnown {
    Quantity,
    IntOrString,
    Duration,
    /// `google.protobuf.*Value` with its value's type.
    Wrapper(&'static str),
}

starlark_simple_value!(WellKnown);

impl WellKnown {
    fn of(name: &str) -> Option<WellKnown> {
        Some(match name {
            "Duration" => WellKnown::Duration,
            "BoolValue" => WellKnown::Wrapper("BoolValue"),
            "StringValue" => WellKnown::Wrapper("StringValue"),
            "BytesValue" => WellKnown::Wrapper("BytesValue"),
            "Int32Value" => WellKnown::Wrapper("Int32Value"),
            "Int64Value" => WellKnown::Wrapper("Int64Value"),
            "UInt32Value" => WellKnown::Wrapper("UInt32Value"),
            "UInt64Value" => WellKnown::Wrapper("UInt64Value"),
            "FloatValue" => WellKnown::Wrapper("FloatValue"),
            "DoubleValue" => WellKnown::Wrapper("DoubleValue"),
            _ => return None,
        })
    }

    fn name(&self) -> &'static str {
        match self {
            WellKnown::Quantity => "k8s.io.apimachinery.pkg.api.resource.Quantity",
            WellKnown::IntOrString => "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            WellKnown::Duration => "google.protobuf.Duration",
            WellKnown::Wrapper(n) => n,
        }
    }

    fn fields(&self) -> &'static [&'static str] {
        match self {
            WellKnown::Quantity => &["string"],
            WellKnown::IntOrString => &["type", "intVal", "strVal"],
            WellKnown::Duration => &["seconds", "nanos"],
            WellKnown::Wrapper(_) => &["value"],
        }
    }
}

impl fmt::Display for WellKnown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn wk_error(w: &WellKnown, msg: impl fmt::Display) -> starlark::Error {
    SkyError::new(codes::SKY0204, format!("{}: {msg}", w.name()))
        .with_help(format!(
            "its fields are {}",
            w.fields()
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into()
}

#[starlark_value(type = "proto.MessageType")]
impl<'v> StarlarkValue<'v> for WellKnown {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let heap = eval.heap();
        if args.positions(heap)?.count() > 0 {
            return Err(wk_error(self, "takes keyword arguments only"));
        }
        let named = args.names_map()?;
        let get = |k: &str| named.iter().find(|(n, _)| n.as_str() == k).map(|(_, v)| *v);
        for (k, _) in named.iter() {
            if !self.fields().contains(&k.as_str()) {
                return Err(wk_error(self, format!("unknown field `{}`", k.as_str())));
            }
        }
        let int = |v: Option<Value<'v>>| -> Result<i64, starlark::Error> {
            match v {
                None => Ok(0),
                Some(v) if v.unpack_bool().is_none() => v
                    .unpack_i32()
                    .map(i64::from)
                    .or_else(|| v.to_str().parse().ok())
                    .filter(|_| v.get_type() == "int")
                    .ok_or_else(|| {
                        wk_error(
                            self,
                            format!("expected an int, got {}", crate::values::repr(v)),
                        )
                    }),
                Some(v) => Err(wk_error(
                    self,
                    format!("expected an int, got {}", crate::values::repr(v)),
                )),
            }
        };
        match self {
            WellKnown::Quantity => {
                let s = get("string").and_then(|v| v.unpack_str()).ok_or_else(|| {
                    wk_error(
                        self,
                        "give the quantity as `string`, e.g. Quantity(string = \"100m\")",
                    )
                })?;
                let q = skyc_schema::parse_quantity(s).map_err(|e| {
                    starlark::Error::from(SkyError::new(codes::SKY0207, e.to_string()))
                })?;
                Ok(heap.alloc(super::kube::QuantityValue(q)))
            }
            WellKnown::IntOrString => {
                if let Some(s) = get("strVal") {
                    if s.unpack_str().is_none() {
                        return Err(wk_error(
                            self,
                            format!("`strVal` expects a string, got {}", crate::values::repr(s)),
                        ));
                    }
                    return Ok(s);
                }
                let n = int(get("intVal"))?;
                i32::try_from(n).map(|n| heap.alloc(n)).map_err(|_| {
                    wk_error(self, format!("`intVal` is an int32; {n} is out of range"))
                })
            }
            WellKnown::Duration => {
                let seconds = int(get("seconds"))?;
                let nanos = int(get("nanos"))?;
                let total = i128::from(seconds) * 1_000_000_000 + i128::from(nanos);
                if total.abs() > 315_576_000_000 * 1_000_000_000 {
                    return Err(wk_error(self, "out of range"));
                }
                Ok(heap.alloc(skyc_schema::Duration { nanos: total }.to_proto_json()))
            }
            WellKnown::Wrapper(_) => {
                // The field that holds it checks the value's type.
                Ok(get("value").unwrap_or_else(Value::new_none))
            }
        }
    }
}

/// `proto.*`.
#[starlark_module]
pub(crate) fn proto_module(builder: &mut GlobalsBuilder) {
    /// The message types and enums of a protobuf package, as attributes:
    /// `appsv1 = proto.package("k8s.io.api.apps.v1")` gives `appsv1.Deployment`.
    /// Kubernetes packages map onto the `k8s` constructors (with the JSON field names),
    /// Envoy's (`envoy.config.cluster.v3`, `google.protobuf`) onto the `envoy` ones.
    /// Messages built from these types follow skycfg: reading an unset message field creates
    /// it, so `d.metadata.name = "x"` works on a new `Deployment()`.
    fn package(#[starlark(require = pos)] name: &str) -> starlark::Result<ProtoPackage> {
        Ok(ProtoPackage::resolve(name)?)
    }

    /// Packs a protobuf message for a `google.protobuf.Any` field (`typed_config`,
    /// `typed_extension_protocol_options`). The value is the message itself: lowering writes
    /// it with its `@type`. Any fields also accept the message directly.
    fn to_any<'v>(#[starlark(require = pos)] msg: Value<'v>) -> starlark::Result<Value<'v>> {
        match Message::from_value(msg) {
            Some(m) if m.ty.source() == SchemaId::ENVOY => Ok(msg),
            Some(m) => Err(SkyError::new(
                codes::SKY0204,
                format!(
                    "proto.to_any takes a protobuf message, got {} (a Kubernetes type)",
                    m.message_type().path
                ),
            )
            .into()),
            None => Err(SkyError::new(
                codes::SKY0204,
                format!(
                    "proto.to_any takes a protobuf message, got {} {}",
                    msg.get_type(),
                    crate::values::repr(msg)
                ),
            )
            .with_help("build it with a constructor such as envoy.extensions.filters.http.router.v3.Router()")
            .into()),
        }
    }

    /// The message packed in an `Any` (what `proto.to_any` made, or an `Any` field's value).
    fn from_any<'v>(#[starlark(require = pos)] any: Value<'v>) -> starlark::Result<Value<'v>> {
        message_arg(any, "proto.from_any")?;
        Ok(any)
    }

    /// The JSON text of a message, as skyc renders it: Kubernetes objects with their
    /// `apiVersion` and `kind` and the JSON field names, Envoy messages with their protobuf
    /// field names and `@type` in `Any` fields. One line when `compact`, else indented.
    fn encode_json<'v>(
        #[starlark(require = pos)] msg: Value<'v>,
        #[starlark(require = named, default = true)] compact: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        encode_json_impl(msg, compact, eval, "proto.encode_json")
    }

    /// The same as `proto.encode_json` (skycfg's other name).
    fn to_json<'v>(
        #[starlark(require = pos)] msg: Value<'v>,
        #[starlark(require = named, default = true)] compact: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        encode_json_impl(msg, compact, eval, "proto.to_json")
    }

    /// The protobuf text format of a message (one field per line; one line when `compact`).
    /// Quantities and durations are written as strings, enum values as names.
    fn encode_text<'v>(
        #[starlark(require = pos)] msg: Value<'v>,
        #[starlark(require = named, default = false)] compact: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        encode_text_impl(msg, compact, eval, "proto.encode_text")
    }

    /// The same as `proto.encode_text` (skycfg's other name).
    fn to_text<'v>(
        #[starlark(require = pos)] msg: Value<'v>,
        #[starlark(require = named, default = false)] compact: bool,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        encode_text_impl(msg, compact, eval, "proto.to_text")
    }

    /// A message of type `ty` from JSON text: `proto.decode_json(corev1.Service, text)`.
    /// Fields are checked as the constructor checks them; Envoy fields may use their JSON
    /// names (`connectTimeout`), and `Any` values are objects with an `@type`.
    fn decode_json<'v>(
        #[starlark(require = pos)] ty: Value<'v>,
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_json_impl(ty, text, eval.heap(), "proto.decode_json")
    }

    /// The same as `proto.decode_json` (skycfg's other name).
    fn from_json<'v>(
        #[starlark(require = pos)] ty: Value<'v>,
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_json_impl(ty, text, eval.heap(), "proto.from_json")
    }

    /// A message of type `ty` from the protobuf text format.
    fn decode_text<'v>(
        #[starlark(require = pos)] ty: Value<'v>,
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_text_impl(ty, text, eval.heap(), "proto.decode_text")
    }

    /// The same as `proto.decode_text` (skycfg's other name).
    fn from_text<'v>(
        #[starlark(require = pos)] ty: Value<'v>,
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_text_impl(ty, text, eval.heap(), "proto.from_text")
    }

    /// A deep copy of a message, which can be changed without changing the original (also
    /// when the original is frozen, e.g. a constant of a loaded file).
    fn clone<'v>(
        #[starlark(require = pos)] msg: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        message_arg(msg, "proto.clone")?;
        super::message::deep_copy(msg, eval.heap(), 0)
            .map_err(|e| SkyError::new(codes::SKY0301, format!("proto.clone: {e}")).into())
    }

    /// Merges `src` into `dst` (same type) and returns `dst`: fields set in `src` replace
    /// scalars, are appended to lists, are added to maps, and are merged into messages.
    fn merge<'v>(
        #[starlark(require = pos)] dst: Value<'v>,
        #[starlark(require = pos)] src: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let (a, b) = (
            message_arg(dst, "proto.merge")?,
            message_arg(src, "proto.merge")?,
        );
        if a != b {
            return Err(SkyError::new(
                codes::SKY0204,
                format!(
                    "proto.merge: cannot merge a {} into a {}",
                    skyc_schema::lookup(b).path,
                    skyc_schema::lookup(a).path
                ),
            )
            .into());
        }
        merge_into(dst, src, eval.heap(), 0)?;
        Ok(dst)
    }

    /// Unsets every field of a message (a Kubernetes object keeps its apiVersion and kind).
    fn clear<'v>(#[starlark(require = pos)] msg: Value<'v>) -> starlark::Result<NoneType> {
        let ty = message_arg(msg, "proto.clear")?;
        let t = skyc_schema::lookup(ty);
        for (i, f) in t.fields.iter().enumerate() {
            if t.gvk.is_some() && (f.name == "apiVersion" || f.name == "kind") {
                continue;
            }
            if !super::message::store(msg, i, None) {
                return Err(frozen("proto.clear", t));
            }
        }
        Ok(NoneType)
    }

    /// Sets the unset fields that declare a default value to it. No field of the Kubernetes
    /// or Envoy schemas declares one (Envoy's protos are proto3, which has no declared
    /// defaults; Kubernetes' declare none), so this checks its argument and changes nothing;
    /// it exists so that skycfg configs calling it run unchanged.
    fn set_defaults<'v>(#[starlark(require = pos)] msg: Value<'v>) -> starlark::Result<NoneType> {
        message_arg(msg, "proto.set_defaults")?;
        Ok(NoneType)
    }
}

fn frozen(function: &str, t: &skyc_schema::MessageType) -> starlark::Error {
    SkyError::new(
        codes::SKY0301,
        format!(
            "{function}: the {} is frozen (it belongs to a module that finished loading)",
            t.path
        ),
    )
    .with_help("copy it first: `m = proto.clone(value)`")
    .into()
}

/// The type of a message argument, or an error naming the function.
fn message_arg(v: Value, function: &str) -> starlark::Result<TypeId> {
    Message::from_value(v).map(|m| m.ty).ok_or_else(|| {
        SkyError::new(
            codes::SKY0204,
            format!(
                "{function} takes a message, got {} {}",
                v.get_type(),
                crate::values::repr(v)
            ),
        )
        .into()
    })
}

/// The message type a constructor stands for (`corev1.Service`), and whether it is a
/// `proto.package` type.
fn type_arg(v: Value, function: &str) -> starlark::Result<(TypeId, bool)> {
    v.downcast_ref::<MessageCtor>()
        .map(|c| (c.ty, c.proto))
        .ok_or_else(|| {
            SkyError::new(
                codes::SKY0204,
                format!(
                    "{function} takes a message type first, got {} {}",
                    v.get_type(),
                    crate::values::repr(v)
                ),
            )
            .with_help("pass the type itself, e.g. `proto.decode_json(corev1.Service, text)`")
            .into()
        })
}

fn encode_json_impl<'v>(
    msg: Value<'v>,
    compact: bool,
    eval: &mut Evaluator<'v, '_, '_>,
    function: &str,
) -> starlark::Result<String> {
    message_arg(msg, function)?;
    super::message::normalize(eval, msg, None);
    let (mut json, _, embedded) = crate::lower::to_json_with_origins(msg)
        .map_err(|e| SkyError::new(e.code(codes::SKY0301), format!("{function}: {e}")))?;
    for e in &embedded {
        crate::lower::replace_placeholder_with(&mut json, &e.placeholder, &e.json);
    }
    let text = if compact {
        serde_json::to_string(&json)
    } else {
        serde_json::to_string_pretty(&json)
    };
    Ok(text.unwrap_or_default())
}

fn encode_text_impl<'v>(
    msg: Value<'v>,
    compact: bool,
    eval: &mut Evaluator<'v, '_, '_>,
    function: &str,
) -> starlark::Result<String> {
    message_arg(msg, function)?;
    super::message::normalize(eval, msg, None);
    super::textproto::encode(msg, compact)
        .map_err(|e| SkyError::new(codes::SKY0301, format!("{function}: {e}")).into())
}

/// Converts a decoded dict into a message of `ty`, failing with the first problem.
fn build_decoded<'v>(
    value: Value<'v>,
    ty: TypeId,
    proto: bool,
    heap: Heap<'v>,
    function: &str,
) -> starlark::Result<Value<'v>> {
    let mut b = super::message::Builder::detached(heap, proto);
    b.json_names = true;
    let out = b.convert(value, &skyc_schema::FieldType::Message(ty), "", "");
    if let Some(mut d) = b.collected.into_iter().next() {
        let at = d
            .field_path
            .as_deref()
            .filter(|p| !d.message.contains(&format!("`{p}`")))
            .map(|p| format!(" (at `{p}`)"))
            .unwrap_or_default();
        d.message = format!("{function}: {}{at}", d.message);
        return Err(super::message::to_error(d));
    }
    out.ok_or_else(|| {
        SkyError::new(
            codes::SKY0301,
            format!("{function}: the text is not a message"),
        )
        .into()
    })
}

fn decode_json_impl<'v>(
    ty: Value<'v>,
    text: &str,
    heap: Heap<'v>,
    function: &str,
) -> starlark::Result<Value<'v>> {
    let (id, proto) = type_arg(ty, function)?;
    let json = super::codec::parse_json(text, function)?;
    if !json.is_object() {
        return Err(SkyError::new(
            codes::SKY0301,
            format!("{function}: a message is a JSON object, not {json}"),
        )
        .into());
    }
    build_decoded(heap.alloc(json), id, proto, heap, function)
}

fn decode_text_impl<'v>(
    ty: Value<'v>,
    text: &str,
    heap: Heap<'v>,
    function: &str,
) -> starlark::Result<Value<'v>> {
    let (id, proto) = type_arg(ty, function)?;
    let value = super::textproto::decode(text, id, heap).map_err(|e| {
        SkyError::new(
            codes::SKY0301,
            format!(
                "{function}: {} (line {}, column {} of the text)",
                e.message, e.line, e.column
            ),
        )
    })?;
    build_decoded(value, id, proto, heap, function)
}

/// `proto.merge`: `src`'s set fields into `dst` (both messages of one type).
fn merge_into<'v>(
    dst: Value<'v>,
    src: Value<'v>,
    heap: Heap<'v>,
    depth: usize,
) -> starlark::Result<()> {
    use skyc_schema::FieldType;
    use starlark::values::dict::{AllocDict, DictRef};
    use starlark::values::list::{AllocList, ListRef};
    if depth > 256 {
        return Err(SkyError::new(
            codes::SKY0301,
            "proto.merge: messages nested deeper than 256 levels",
        )
        .into());
    }
    let copy = |v: Value<'v>| {
        super::message::deep_copy(v, heap, depth + 1).map_err(|e| {
            starlark::Error::from(SkyError::new(codes::SKY0301, format!("proto.merge: {e}")))
        })
    };
    let (ty, src_fields) = {
        let s = Message::from_value(src).expect("checked by the caller");
        (s.ty, s.field_entries().collect::<Vec<_>>())
    };
    let t = skyc_schema::lookup(ty);
    for (field, sv) in src_fields {
        let (index, _) = t.field(&field.name).expect("a field of its own type");
        let current = Message::from_value(dst).and_then(|d| d.get(&field.name));
        let merged = match (current, &field.ty) {
            (None, _) => copy(sv)?,
            (Some(dv), FieldType::List(_)) => {
                let mut items: Vec<Value<'v>> = ListRef::from_value(dv)
                    .map(|l| l.content().to_vec())
                    .unwrap_or_default();
                let more: Vec<Value<'v>> = ListRef::from_value(sv)
                    .map(|l| l.content().to_vec())
                    .unwrap_or_default();
                for x in more {
                    items.push(copy(x)?);
                }
                heap.alloc(AllocList(items))
            }
            (Some(dv), FieldType::Map(_)) => {
                let mut entries: Vec<(Value<'v>, Value<'v>)> = DictRef::from_value(dv)
                    .map(|d| d.iter().collect())
                    .unwrap_or_default();
                let more: Vec<(Value<'v>, Value<'v>)> = DictRef::from_value(sv)
                    .map(|d| d.iter().collect())
                    .unwrap_or_default();
                for (k, x) in more {
                    let x = copy(x)?;
                    match entries
                        .iter_mut()
                        .find(|(ek, _)| ek.equals(k).unwrap_or(false))
                    {
                        Some(e) => e.1 = x,
                        None => entries.push((k, x)),
                    }
                }
                heap.alloc(AllocDict(entries))
            }
            (Some(dv), FieldType::Message(_))
                if Message::from_value(sv)
                    .is_some_and(|m| Message::from_value(dv).is_some_and(|d| d.ty == m.ty)) =>
            {
                // Merge into a copy when the message in `dst` is frozen (or shared with
                // `src`), then put the copy in its place.
                let target = if dv.unpack_frozen().is_some() || dv.ptr_eq(sv) {
                    copy(dv)?
                } else {
                    dv
                };
                merge_into(target, sv, heap, depth + 1)?;
                target
            }
            (Some(_), _) => copy(sv)?,
        };
        if !super::message::store(dst, index, Some(merged)) {
            return Err(frozen("proto.merge", t));
        }
    }
    Ok(())
}

/// `duration(...)`.
#[starlark_module]
pub(crate) fn duration_module(builder: &mut GlobalsBuilder) {
    /// A `google.protobuf.Duration` from parts, e.g. `duration(seconds = 1, milliseconds = 500)`
    /// is `"1.500s"`. Parts may be fractional and are added up.
    fn duration(
        #[starlark(require = named, default = UnpackFloat(0.0))] hours: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] minutes: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] seconds: UnpackFloat,
        #[starlark(require = named, default = UnpackFloat(0.0))] milliseconds: UnpackFloat,
    ) -> starlark::Result<String> {
        let total = hours.0 * 3600.0 + minutes.0 * 60.0 + seconds.0 + milliseconds.0 / 1000.0;
        if !total.is_finite() || total.abs() > 315_576_000_000.0 {
            return Err(SkyError::new(
                codes::SKY0204,
                format!("duration of {total} seconds is out of range"),
            )
            .into());
        }
        let nanos = (total * 1e9).round() as i128;
        Ok(skyc_schema::Duration { nanos }.to_proto_json())
    }
}
