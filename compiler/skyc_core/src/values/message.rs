//! `Message`: the one Starlark value type for typed objects, and `MessageCtor`, the callable
//! that builds a message of one type (e.g. `k8s.apps.v1.Deployment`).
//!
//! Construction checks every field against the schema at once: unknown names, wrong types,
//! enum values and quantities. Problems are recorded as diagnostics in the evaluation's
//! [`EvalContext`](super::EvalContext) — all of them, not just the first — and the bad fields
//! are dropped, so evaluation goes on and reports the rest.

use super::kube::QuantityValue;
use super::{record, EvalContext};
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean, Diagnostic};
use skyc_schema::{k8s::k8s, Field, FieldType, MessageType, Schema, TypeId};
use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::coerce::Coerce;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_complex_value;
use starlark::starlark_simple_value;
use starlark::typing::{
    ParamIsRequired, ParamSpec, Ty, TyCallable, TyStarlarkValue, TyUser, TyUserFields, TyUserParams,
};
use starlark::util::ArcStr;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::{AllocList, ListRef};
use starlark::values::tuple::TupleRef;
use starlark::values::typing::TypeInstanceId;
use starlark::values::{starlark_value, ValueLifetimeless};
use starlark::values::{
    Freeze, FreezeResult, Freezer, FrozenValue, Heap, NoSerialize, StarlarkPagablePanic,
    StarlarkValue, Trace, Value, ValueLike,
};
use starlark_map::sorted_map::SortedMap;
use std::fmt;
use std::sync::OnceLock;

/// The schema every message type id refers to.
pub fn schema() -> &'static Schema {
    &k8s().schema
}

/// A typed message: its type and the fields that are set, in schema order.
#[derive(Debug, Trace, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
#[repr(C)]
pub struct MessageGen<V: ValueLifetimeless> {
    #[allocative(skip)]
    #[trace(static)]
    pub(crate) ty: TypeId,
    /// Field indices into the type's field list, ascending.
    #[trace(static)]
    pub(crate) keys: Vec<u32>,
    pub(crate) values: Vec<V>,
    /// Where the message was built, for diagnostics found after evaluation.
    #[allocative(skip)]
    #[trace(static)]
    pub(crate) origin: Option<Origin>,
}

/// The user call site that built a message. `direct` is false when the constructor ran inside
/// the stdlib: the site is then the user's call of the stdlib function, and field names in it
/// are not the message's own.
#[derive(Debug, Clone)]
pub struct Origin {
    pub site: FileSpan,
    pub direct: bool,
    /// The user-code calls that led to `site`, innermost first (a helper function's callers):
    /// a suppression comment on any of their lines covers findings in this message.
    pub callers: Vec<FileSpan>,
}

unsafe impl<'v> Coerce<MessageGen<Value<'v>>> for MessageGen<FrozenValue> {}

starlark_complex_value!(pub Message);

impl<'v> Freeze for Message<'v> {
    type Frozen = FrozenMessage;
    fn freeze(self, freezer: &Freezer) -> FreezeResult<FrozenMessage> {
        let values = self
            .values
            .into_iter()
            .map(|v| v.freeze(freezer))
            .collect::<FreezeResult<_>>()?;
        Ok(MessageGen {
            ty: self.ty,
            keys: self.keys,
            values,
            origin: self.origin,
        })
    }
}

impl<V: ValueLifetimeless> MessageGen<V> {
    pub fn message_type(&self) -> &'static MessageType {
        skyc_schema::lookup(self.ty)
    }
}

impl<'v, V: ValueLike<'v>> MessageGen<V> {
    /// The set fields as (name, value), in schema order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, Value<'v>)> + '_ {
        self.field_entries().map(|(f, v)| (f.name.as_str(), v))
    }

    /// The fields that are set, with their schema entries, in schema order.
    pub fn field_entries(&self) -> impl Iterator<Item = (&'static Field, Value<'v>)> + '_ {
        let t = self.message_type();
        self.keys
            .iter()
            .zip(&self.values)
            .map(move |(k, v)| (&t.fields[*k as usize], v.to_value()))
    }

    pub fn get(&self, name: &str) -> Option<Value<'v>> {
        let (i, _) = self.message_type().field(name)?;
        let pos = self.keys.iter().position(|k| *k as usize == i)?;
        Some(self.values[pos].to_value())
    }
}

impl<'v> Message<'v> {
    /// A copy with the field at `index` (into the type's field list) set to `value`, which
    /// must already be in the field's representation. The copy keeps the message's origin.
    pub(crate) fn with_field(&self, index: usize, value: Value<'v>) -> Message<'v> {
        let mut keys = self.keys.clone();
        let mut values = self.values.clone();
        match keys.binary_search(&(index as u32)) {
            Ok(pos) => values[pos] = value,
            Err(pos) => {
                keys.insert(pos, index as u32);
                values.insert(pos, value);
            }
        }
        MessageGen {
            ty: self.ty,
            keys,
            values,
            origin: self.origin.clone(),
        }
    }

    /// A message of type `ty` with the fields (index, value) set and no origin: findings in
    /// it point at the message that holds it.
    pub(crate) fn with_fields(ty: TypeId, mut fields: Vec<(u32, Value<'v>)>) -> Message<'v> {
        fields.sort_by_key(|(k, _)| *k);
        let (keys, values) = fields.into_iter().unzip();
        MessageGen {
            ty,
            keys,
            values,
            origin: None,
        }
    }
}

impl<V: ValueLifetimeless> fmt::Display for MessageGen<V>
where
    V: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.message_type();
        write!(f, "{}(", t.path)?;
        for (i, (k, v)) in self.keys.iter().zip(&self.values).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} = {}", t.fields[*k as usize].name, v)?;
        }
        f.write_str(")")
    }
}

#[starlark_value(type = "Message")]
impl<'v, V: ValueLike<'v>> StarlarkValue<'v> for MessageGen<V>
where
    Self: ProvidesStaticType<'v>,
{
    fn get_attr(&self, attribute: &str, _heap: Heap<'v>) -> Option<Value<'v>> {
        let t = self.message_type();
        let (i, _) = t.field(attribute)?;
        match self.keys.iter().position(|k| *k as usize == i) {
            Some(pos) => Some(self.values[pos].to_value()),
            None => Some(Value::new_none()),
        }
    }

    fn has_attr(&self, attribute: &str, _heap: Heap<'v>) -> bool {
        self.message_type().field(attribute).is_some()
    }

    fn dir_attr(&self) -> Vec<String> {
        self.message_type()
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect()
    }

    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        let Some(other) = Message::from_value(other) else {
            return Ok(false);
        };
        if other.ty != self.ty || other.keys != self.keys {
            return Ok(false);
        }
        for (a, b) in self.values.iter().zip(&other.values) {
            if !a.to_value().equals(*b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The constructor of one message type.
#[derive(Debug, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct MessageCtor {
    #[allocative(skip)]
    pub(crate) ty: TypeId,
    /// Its signature for the static typechecker, built on first use.
    #[allocative(skip)]
    pub(crate) signature: OnceLock<Ty>,
}

impl MessageCtor {
    pub(crate) fn new(ty: TypeId) -> MessageCtor {
        MessageCtor {
            ty,
            signature: OnceLock::new(),
        }
    }
}

/// The type the typechecker sees: a callable with keyword-only parameters, one per field,
/// each typed as loosely as construction accepts (the constructor checks the exact rules when
/// it runs), so a misspelled field or a plainly wrong type is found before anything runs; and
/// the nested protobuf types as attributes (`Bootstrap.StaticResources`).
fn signature(ty: TypeId) -> Ty {
    let t = skyc_schema::lookup(ty);
    let params = t
        .fields
        .iter()
        .map(|f| {
            (
                ArcStr::from(f.name.as_str()),
                ParamIsRequired::No,
                Ty::union2(static_ty(&f.ty), Ty::none()),
            )
        })
        .collect::<Vec<_>>();
    let spec = ParamSpec::new_named_only(params).unwrap_or_else(|_| ParamSpec::kwargs(Ty::any()));
    let result = Ty::starlark_value::<FrozenMessage>();
    let callable = TyCallable::new(spec.clone(), result.clone());
    let nested: SortedMap<String, Ty> = skyc_schema::schema_of(ty.source())
        .children(&t.path)
        .iter()
        .map(|id| (skyc_schema::lookup(*id).short_name().to_string(), Ty::any()))
        .collect();
    let user = TyUser::new(
        t.path.clone(),
        TyStarlarkValue::new::<MessageCtor>(),
        TypeInstanceId::r#gen(),
        TyUserParams {
            callable: Some(callable.clone()),
            fields: TyUserFields {
                known: nested,
                unknown: false,
            },
            ..TyUserParams::default()
        },
    );
    match user {
        Ok(u) => Ty::custom(u),
        Err(_) => Ty::function(spec, result),
    }
}

/// The static type of the values a field accepts.
fn static_ty(ty: &FieldType) -> Ty {
    match ty {
        FieldType::String { .. } | FieldType::Time | FieldType::Bytes => Ty::string(),
        FieldType::Int { .. } | FieldType::UInt { .. } => Ty::int(),
        FieldType::Duration => Ty::string(),
        FieldType::Any => Ty::starlark_value::<FrozenMessage>(),
        FieldType::Number => Ty::union2(Ty::int(), Ty::float()),
        FieldType::Bool => Ty::bool(),
        FieldType::Quantity => Ty::unions(vec![
            Ty::string(),
            Ty::int(),
            Ty::starlark_value::<QuantityValue>(),
        ]),
        FieldType::IntOrString => Ty::union2(Ty::int(), Ty::string()),
        FieldType::Message(_) => Ty::union2(
            Ty::starlark_value::<FrozenMessage>(),
            Ty::dict(Ty::string(), Ty::any()),
        ),
        // Tuples are accepted too; `iter` covers both.
        FieldType::List(item) => Ty::iter(static_ty(item)),
        FieldType::Map(item) => Ty::dict(Ty::string(), static_ty(item)),
        FieldType::Json => Ty::any(),
    }
}

starlark_simple_value!(MessageCtor);

impl fmt::Display for MessageCtor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", skyc_schema::lookup(self.ty).path)
    }
}

#[starlark_value(type = "MessageConstructor")]
impl<'v> StarlarkValue<'v> for MessageCtor {
    fn typechecker_ty(&self) -> Option<Ty> {
        Some(self.signature.get_or_init(|| signature(self.ty)).clone())
    }

    /// Nested message types, as protobuf declares them:
    /// `envoy.config.bootstrap.v3.Bootstrap.StaticResources`.
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        let path = format!("{}.{attribute}", skyc_schema::lookup(self.ty).path);
        skyc_schema::by_path(&path).map(|t| heap.alloc(MessageCtor::new(t.id)))
    }

    fn has_attr(&self, attribute: &str, heap: Heap<'v>) -> bool {
        self.get_attr(attribute, heap).is_some()
    }

    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let t = skyc_schema::lookup(self.ty);
        let heap = eval.heap();
        let positional = args.positions(heap)?.count();
        let named = args.names_map()?;
        let mut b = Builder::new(eval);
        if positional > 0 {
            b.report(
                Diagnostic::new(
                    codes::SKY0209,
                    format!("{} takes keyword arguments only", t.path),
                )
                .with_help(format!(
                    "name the fields, e.g. `{}({} = ...)`",
                    t.path,
                    t.fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .find(|n| *n != "apiVersion" && *n != "kind")
                        .unwrap_or("name")
                )),
                None,
            );
        }
        let entries: Vec<(String, Value<'v>)> = named
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), *v))
            .collect();
        Ok(b.build(self.ty, &entries, "")
            .unwrap_or_else(Value::new_none))
    }
}

/// Builds messages from Starlark values, recording problems with their field paths.
pub(crate) struct Builder<'a, 'v, 'e, 'x> {
    eval: &'a mut Evaluator<'v, 'e, 'x>,
    origin: Option<Origin>,
}

impl<'a, 'v, 'e, 'x> Builder<'a, 'v, 'e, 'x> {
    pub(crate) fn new(eval: &'a mut Evaluator<'v, 'e, 'x>) -> Self {
        let overridden = eval
            .extra
            .and_then(|e| e.downcast_ref::<EvalContext>())
            .is_some_and(|c| c.span_override.borrow().is_some());
        let origin = if overridden {
            None
        } else {
            let (mut frames, via_stdlib) = super::user_stack(eval);
            (!frames.is_empty()).then(|| {
                // The innermost user call is the site; the rest led to it.
                let site = frames.remove(0);
                Origin {
                    site,
                    direct: via_stdlib.is_none(),
                    callers: frames,
                }
            })
        };
        Builder { eval, origin }
    }

    fn report(&mut self, d: Diagnostic, narrow_to: Option<&str>) {
        record(self.eval, d, narrow_to);
    }

    /// Builds a message of type `ty` from (field, value) pairs. `path` is the field path of
    /// the message inside its object (empty at the top).
    pub(crate) fn build(
        &mut self,
        ty: TypeId,
        entries: &[(String, Value<'v>)],
        path: &str,
    ) -> Option<Value<'v>> {
        let t = skyc_schema::lookup(ty);
        let mut set: Vec<(u32, Value<'v>)> = Vec::with_capacity(entries.len() + 2);
        for (name, value) in entries {
            let fpath = join(path, name);
            let Some((i, field)) = t.field(name) else {
                let mut d = Diagnostic::new(
                    codes::SKY0203,
                    format!("unknown field `{name}` on {}", t.display),
                )
                .with_field_path(&fpath);
                let cands = t.fields.iter().map(|f| f.name.as_str());
                d = match did_you_mean(name, cands) {
                    Some(s) => d
                        .with_label(format!("did you mean `{s}`?"))
                        .with_help(format!("did you mean `{s}`?")),
                    None => d.with_help(format!("`skyc doc {}` lists its fields", t.path)),
                };
                self.report(d, Some(name));
                continue;
            };
            if value.is_none() {
                continue;
            }
            if let Some(v) = self.convert(*value, &field.ty, &fpath, name) {
                set.push((i as u32, v));
            }
        }
        if let Some(g) = &t.gvk {
            // apiVersion and kind are implied by the constructor; check them if given.
            for (fname, want) in [("apiVersion", g.api_version()), ("kind", g.kind.clone())] {
                let Some((i, _)) = t.field(fname) else {
                    continue;
                };
                match set.iter().find(|(k, _)| *k as usize == i) {
                    Some((_, v)) if v.unpack_str() != Some(want.as_str()) => {
                        self.report(
                            Diagnostic::new(
                                codes::SKY0204,
                                format!(
                                    "`{fname}` of {} must be `{want}`, not {}",
                                    t.display,
                                    v.to_repr()
                                ),
                            )
                            .with_field_path(join(path, fname))
                            .with_help(format!("omit `{fname}`: the constructor sets it")),
                            Some(fname),
                        );
                    }
                    Some(_) => {}
                    None => set.push((i as u32, self.eval.heap().alloc(want.as_str()))),
                }
            }
        }
        set.sort_by_key(|(k, _)| *k);
        let (keys, values) = set.into_iter().unzip();
        Some(self.eval.heap().alloc(MessageGen {
            ty,
            keys,
            values,
            // Messages built from dicts inside a constructor call have no origin of their
            // own: findings in them point at the constructor's field that holds them.
            origin: if path.is_empty() {
                self.origin.clone()
            } else {
                None
            },
        }))
    }

    fn type_error(&mut self, value: Value<'v>, ty: &FieldType, path: &str, narrow: &str) {
        let d = Diagnostic::new(
            codes::SKY0204,
            format!(
                "`{}` expects {}, got {} {}",
                path,
                ty.describe(),
                article(value.get_type()),
                short_repr(value)
            ),
        )
        .with_field_path(path)
        .with_help(hint_for(value, ty));
        self.report(d, Some(narrow));
    }

    /// Converts `value` to the representation of `ty`, or records why it cannot.
    pub(crate) fn convert(
        &mut self,
        value: Value<'v>,
        ty: &FieldType,
        path: &str,
        narrow: &str,
    ) -> Option<Value<'v>> {
        let heap = self.eval.heap();
        match ty {
            FieldType::String { enum_values } => {
                // An Envoy message where text is expected (a ConfigMap's `envoy.yaml`) is
                // embedded: lowering renders it as YAML after checking it.
                if enum_values.is_none()
                    && Message::from_value(value)
                        .is_some_and(|m| m.ty.source() == skyc_schema::SchemaId::ENVOY)
                {
                    return Some(value);
                }
                let Some(s) = value.unpack_str() else {
                    self.type_error(value, ty, path, narrow);
                    return None;
                };
                if let Some(allowed) = enum_values {
                    if !allowed.iter().any(|a| a == s) {
                        let mut d = Diagnostic::new(
                            codes::SKY0205,
                            format!("`{s}` is not a valid value of `{path}`"),
                        )
                        .with_field_path(path);
                        let list = allowed
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(", ");
                        d = match did_you_mean(s, allowed.iter().map(String::as_str)) {
                            Some(m) => d
                                .with_label(format!("did you mean `{m}`?"))
                                .with_help(format!("did you mean `{m}`? allowed: {list}")),
                            None => d.with_help(format!("allowed values: {list}")),
                        };
                        self.report(d, Some(narrow));
                        return None;
                    }
                }
                Some(value)
            }
            FieldType::Int { bits } | FieldType::UInt { bits } => {
                let n = if value.unpack_bool().is_some() {
                    None
                } else {
                    i64::unpack(value)
                };
                let (name, min, max): (&str, i64, i64) = match (ty, bits) {
                    (FieldType::Int { .. }, 32) => ("an int32", i32::MIN.into(), i32::MAX.into()),
                    (FieldType::Int { .. }, _) => ("an int64", i64::MIN, i64::MAX),
                    (_, 32) => ("a uint32", 0, u32::MAX.into()),
                    _ => ("a uint64", 0, i64::MAX),
                };
                match n {
                    Some(n) if n < min || n > max => {
                        self.report(
                            Diagnostic::new(
                                codes::SKY0204,
                                format!("`{path}` is {name}; {n} is out of range"),
                            )
                            .with_field_path(path)
                            .with_help(format!("use a value between {min} and {max}")),
                            Some(narrow),
                        );
                        None
                    }
                    Some(_) => Some(value),
                    None => {
                        self.type_error(value, ty, path, narrow);
                        None
                    }
                }
            }
            FieldType::Duration => {
                let Some(s) = value.unpack_str() else {
                    self.type_error(value, ty, path, narrow);
                    return None;
                };
                match skyc_schema::parse_duration(s) {
                    Ok(d) => Some(heap.alloc(d.to_proto_json())),
                    Err(e) => {
                        self.report(
                            Diagnostic::new(codes::SKY0204, e.to_string())
                                .with_field_path(path)
                                .with_help("durations are strings with a unit: \"2s\", \"250ms\", \"1m30s\""),
                            Some(narrow),
                        );
                        None
                    }
                }
            }
            FieldType::Any => {
                if Message::from_value(value).is_some() {
                    Some(value)
                } else {
                    self.type_error(value, ty, path, narrow);
                    None
                }
            }
            FieldType::Number => {
                if value.unpack_bool().is_none()
                    && (i64::unpack(value).is_some() || value.get_type() == "float")
                {
                    Some(value)
                } else {
                    self.type_error(value, ty, path, narrow);
                    None
                }
            }
            FieldType::Bool => {
                if value.unpack_bool().is_some() {
                    Some(value)
                } else {
                    self.type_error(value, ty, path, narrow);
                    None
                }
            }
            FieldType::Quantity => {
                if QuantityValue::from_value(value).is_some() {
                    return Some(value);
                }
                let text = if let Some(s) = value.unpack_str() {
                    s.to_string()
                } else if value.unpack_bool().is_none() && i64::unpack(value).is_some() {
                    value.to_str()
                } else {
                    self.type_error(value, ty, path, narrow);
                    return None;
                };
                match skyc_schema::parse_quantity(&text) {
                    Ok(q) => Some(heap.alloc(QuantityValue(q))),
                    Err(e) => {
                        self.report(
                            Diagnostic::new(codes::SKY0207, e.to_string())
                                .with_field_path(path)
                                .with_help("examples: `500m`, `2`, `128Mi`, `16Gi`; or use kube.cores(), kube.gibibytes()"),
                            Some(narrow),
                        );
                        None
                    }
                }
            }
            FieldType::IntOrString => {
                if value.unpack_str().is_some() {
                    return Some(value);
                }
                match (value.unpack_bool(), i64::unpack(value)) {
                    (None, Some(n)) if i32::try_from(n).is_ok() => Some(value),
                    _ => {
                        self.type_error(value, ty, path, narrow);
                        None
                    }
                }
            }
            FieldType::Time | FieldType::Bytes => {
                if value.unpack_str().is_some() {
                    Some(value)
                } else {
                    self.type_error(value, ty, path, narrow);
                    None
                }
            }
            FieldType::Message(id) => {
                if let Some(m) = Message::from_value(value) {
                    if m.ty == *id {
                        return Some(value);
                    }
                    self.type_error(value, ty, path, narrow);
                    return None;
                }
                if let Some(dict) = DictRef::from_value(value) {
                    let mut entries = Vec::with_capacity(dict.len());
                    for (k, v) in dict.iter() {
                        match k.unpack_str() {
                            Some(k) => entries.push((k.to_string(), v)),
                            None => {
                                self.report(
                                    Diagnostic::new(
                                        codes::SKY0204,
                                        format!(
                                            "keys of `{path}` must be strings, got {}",
                                            k.to_repr()
                                        ),
                                    )
                                    .with_field_path(path),
                                    Some(narrow),
                                );
                            }
                        }
                    }
                    drop(dict);
                    return self.build(*id, &entries, path);
                }
                self.type_error(value, ty, path, narrow);
                None
            }
            FieldType::List(item) => {
                let items: Vec<Value<'v>> = if let Some(l) = ListRef::from_value(value) {
                    l.content().to_vec()
                } else if let Some(t) = TupleRef::from_value(value) {
                    t.content().to_vec()
                } else {
                    self.type_error(value, ty, path, narrow);
                    return None;
                };
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    if v.is_none() {
                        self.type_error(v, item, &p, narrow);
                        continue;
                    }
                    if let Some(v) = self.convert(v, item, &p, narrow) {
                        out.push(v);
                    }
                }
                Some(heap.alloc(AllocList(out)))
            }
            FieldType::Map(item) => {
                let Some(dict) = DictRef::from_value(value) else {
                    self.type_error(value, ty, path, narrow);
                    return None;
                };
                let entries: Vec<(Value<'v>, Value<'v>)> = dict.iter().collect();
                drop(dict);
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let Some(ks) = k.unpack_str() else {
                        self.report(
                            Diagnostic::new(
                                codes::SKY0204,
                                format!("keys of `{path}` must be strings, got {}", k.to_repr()),
                            )
                            .with_field_path(path),
                            Some(narrow),
                        );
                        continue;
                    };
                    let p = format!("{path}[{}]", serde_json::to_string(ks).unwrap_or_default());
                    if let Some(v) = self.convert(v, item, &p, narrow) {
                        out.push((k, v));
                    }
                }
                Some(heap.alloc(AllocDict(out)))
            }
            FieldType::Json => Some(value),
        }
    }
}

trait UnpackI64 {
    fn unpack(v: Value) -> Option<i64>;
}

impl UnpackI64 for i64 {
    fn unpack(v: Value) -> Option<i64> {
        use starlark::values::UnpackValue;
        i64::unpack_value(v).ok().flatten()
    }
}

pub(crate) fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn article(ty: &str) -> String {
    match ty.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {ty}"),
        _ => format!("a {ty}"),
    }
}

fn short_repr(v: Value) -> String {
    let r = v.to_repr();
    if r.chars().count() > 40 {
        format!("{}…", r.chars().take(40).collect::<String>())
    } else {
        r
    }
}

fn hint_for(value: Value, ty: &FieldType) -> String {
    match (value.get_type(), ty) {
        ("string", FieldType::Int { .. } | FieldType::UInt { .. }) => format!(
            "write the number without quotes: {}",
            value.unpack_str().unwrap_or("")
        ),
        ("int", FieldType::String { .. }) => format!("quote it: \"{}\"", value.to_str()),
        (_, FieldType::Message(id)) => format!(
            "pass {}(...) or a dict of its fields",
            skyc_schema::lookup(*id).path
        ),
        (_, FieldType::List(_)) => "pass a list".to_string(),
        (_, FieldType::Map(_)) => "pass a dict with string keys".to_string(),
        _ => format!("pass {}", ty.describe()),
    }
}
