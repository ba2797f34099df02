//! `Message`: the one Starlark value type for typed objects, and `MessageCtor`, the callable
//! that builds a message of one type (e.g. `k8s.apps.v1.Deployment`).
//!
//! Construction checks every field against the schema at once: unknown names, wrong types,
//! enum values and quantities. Problems are recorded as diagnostics in the evaluation's
//! [`EvalContext`](super::EvalContext) — all of them, not just the first — and the bad fields
//! are dropped, so evaluation goes on and reports the rest.

use super::kube::QuantityValue;
use super::{record, EvalContext, SkyError};
use allocative::Allocative;
use skyc_diag::{codes, did_you_mean, Diagnostic, Span};
use skyc_schema::{k8s::k8s, Field, FieldType, MessageType, Schema, TypeId};
use smallvec::SmallVec;
use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::coerce::Coerce;
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::typing::{
    ParamIsRequired, ParamSpec, Ty, TyCallable, TyStarlarkValue, TyUser, TyUserFields, TyUserParams,
};
use starlark::util::ArcStr;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::{AllocList, ListRef};
use starlark::values::starlark_value;
use starlark::values::tuple::TupleRef;
use starlark::values::typing::TypeInstanceId;
use starlark::values::{
    AllocFrozenValue, AllocValue, Freeze, FreezeResult, Freezer, FrozenHeap, FrozenValue, Heap,
    NoSerialize, StarlarkPagablePanic, StarlarkValue, Trace, Value, ValueLike,
};
use starlark_map::sorted_map::SortedMap;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The schema every message type id refers to.
pub fn schema() -> &'static Schema {
    &k8s().schema
}

/// The fields of a message that are set: indices into the type's field list, ascending,
/// and their values (in the field's representation, see [`Builder::convert`]).
#[derive(Debug, Default, Trace, Allocative)]
#[repr(C)]
pub struct Fields<'v> {
    #[trace(static)]
    pub(crate) keys: Vec<u32>,
    pub(crate) values: Vec<Value<'v>>,
}

/// [`Fields`] of a frozen message.
#[derive(Debug, Allocative)]
#[repr(C)]
pub struct FrozenFields {
    keys: Vec<u32>,
    values: Vec<FrozenValue>,
}

// Same layout: a frozen value is a value.
unsafe impl<'v> Coerce<Fields<'v>> for FrozenFields {}

impl<'v> Fields<'v> {
    fn position(&self, index: usize) -> Result<usize, usize> {
        self.keys.binary_search(&(index as u32))
    }

    pub(crate) fn get(&self, index: usize) -> Option<Value<'v>> {
        self.position(index).ok().map(|p| self.values[p])
    }

    pub(crate) fn set(&mut self, index: usize, value: Value<'v>) {
        match self.position(index) {
            Ok(p) => self.values[p] = value,
            Err(p) => {
                self.keys.insert(p, index as u32);
                self.values.insert(p, value);
            }
        }
    }

    pub(crate) fn remove(&mut self, index: usize) {
        if let Ok(p) = self.position(index) {
            self.keys.remove(p);
            self.values.remove(p);
        }
    }
}

/// The heap a mutable message lives on: assigning a field converts the value (a dict to a
/// message, a list to a copy), which allocates, and `set_attr` is given no heap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeapRef<'v>(Heap<'v>);

// SAFETY: a mutable message lives on this heap and is only reached through it, on the
// thread that owns the heap; starlark asks every value to be `Send`, but the values of an
// unfrozen heap never leave its thread.
unsafe impl Send for HeapRef<'_> {}

// SAFETY: a heap holds no values of its own to trace.
unsafe impl<'v> Trace<'v> for HeapRef<'v> {
    fn trace(&mut self, _tracer: &starlark::values::Tracer<'v>) {}
}

/// The state of a message that can still change (before its module is frozen).
#[derive(Debug, Trace, ProvidesStaticType, Allocative)]
pub struct MutableFields<'v> {
    fields: RefCell<Fields<'v>>,
    #[allocative(skip)]
    heap: HeapRef<'v>,
    /// Set when a list or dict held by a field was handed out (`m.ports`): it may have been
    /// changed in place since, so its items are converted again before the message is used
    /// (see [`normalize`]).
    #[trace(static)]
    #[allocative(skip)]
    exposed: Cell<bool>,
}

/// Whether any message anywhere in the process has handed out a list or dict of one of its
/// fields (see [`MutableFields::exposed`]). Until one has, [`normalize`] has nothing to do and
/// skips its walk of `main`'s result (measured: 7% of a render at N=1,000).
static EXPOSED_ANY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl MutableFields<'_> {
    /// Notes that a list or dict of a field was handed out.
    fn expose(&self) {
        self.exposed.set(true);
        EXPOSED_ANY.store(true, std::sync::atomic::Ordering::Release);
    }
}

/// The two forms of a message's fields.
pub trait MessageData<'v> {
    fn fields(&self) -> FieldsRef<'_, 'v>;
    fn mutable(&self) -> Option<&MutableFields<'v>>;
    fn exposed(&self) -> bool;
}

impl<'v> MessageData<'v> for MutableFields<'v> {
    fn fields(&self) -> FieldsRef<'_, 'v> {
        FieldsRef::Cell(self.fields.borrow())
    }
    fn mutable(&self) -> Option<&MutableFields<'v>> {
        Some(self)
    }
    fn exposed(&self) -> bool {
        self.exposed.get()
    }
}

/// A frozen message's fields, and whether a container of it was handed out before freezing.
#[derive(Debug, ProvidesStaticType, Allocative)]
pub struct FrozenData {
    fields: FrozenFields,
    exposed: bool,
}

impl<'v> MessageData<'v> for FrozenData {
    fn fields(&self) -> FieldsRef<'_, 'v> {
        FieldsRef::Plain(starlark::coerce::coerce(&self.fields))
    }
    fn mutable(&self) -> Option<&MutableFields<'v>> {
        None
    }
    fn exposed(&self) -> bool {
        self.exposed
    }
}

/// Borrowed fields of either form.
pub enum FieldsRef<'a, 'v> {
    Cell(std::cell::Ref<'a, Fields<'v>>),
    Plain(&'a Fields<'v>),
}

impl<'v> std::ops::Deref for FieldsRef<'_, 'v> {
    type Target = Fields<'v>;
    fn deref(&self) -> &Fields<'v> {
        match self {
            FieldsRef::Cell(r) => r,
            FieldsRef::Plain(r) => r,
        }
    }
}

/// A typed message value: its type, where it was built, and its fields.
#[derive(Debug, Trace, ProvidesStaticType, NoSerialize, StarlarkPagablePanic, Allocative)]
pub struct MessageGen<T> {
    #[allocative(skip)]
    #[trace(static)]
    pub(crate) ty: TypeId,
    /// Where the message was built, for diagnostics found after evaluation.
    #[allocative(skip)]
    #[trace(static)]
    pub(crate) origin: Option<Arc<Origin>>,
    /// Built through a `proto.package` type (skycfg's semantics): reading an unset message,
    /// list or map field creates it empty and sets it.
    #[trace(static)]
    pub(crate) proto: bool,
    data: T,
}

/// A message that can still be changed.
pub type MutableMessage<'v> = MessageGen<MutableFields<'v>>;
/// A message of a frozen module.
pub type FrozenMessage = MessageGen<FrozenData>;

/// The user call site that built a message. `direct` is false when the constructor ran inside
/// the stdlib: the site is then the user's call of the stdlib function, and field names in it
/// are not the message's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub site: FileSpan,
    pub direct: bool,
    /// The user-code calls that led to `site`, innermost first (a helper function's callers):
    /// a suppression comment on any of their lines covers findings in this message.
    pub callers: Vec<FileSpan>,
}

impl<'v> AllocValue<'v> for MutableMessage<'v> {
    fn alloc_value(self, heap: Heap<'v>) -> Value<'v> {
        heap.alloc_complex(self)
    }
}

impl AllocFrozenValue for FrozenMessage {
    fn alloc_frozen_value(self, heap: &FrozenHeap) -> FrozenValue {
        heap.alloc_simple(self)
    }
}

impl<'v> Freeze for MutableMessage<'v> {
    type Frozen = FrozenMessage;
    fn freeze(self, freezer: &Freezer) -> FreezeResult<FrozenMessage> {
        let exposed = self.data.exposed.get();
        let Fields { keys, values } = self.data.fields.into_inner();
        let values = values
            .into_iter()
            .map(|v| v.freeze(freezer))
            .collect::<FreezeResult<_>>()?;
        Ok(MessageGen {
            ty: self.ty,
            origin: self.origin,
            proto: self.proto,
            data: FrozenData {
                fields: FrozenFields { keys, values },
                exposed,
            },
        })
    }
}

impl<'v> MutableMessage<'v> {
    pub(crate) fn new(
        ty: TypeId,
        fields: Fields<'v>,
        origin: Option<Arc<Origin>>,
        proto: bool,
        heap: Heap<'v>,
    ) -> MutableMessage<'v> {
        MessageGen {
            ty,
            origin,
            proto,
            data: MutableFields {
                fields: RefCell::new(fields),
                heap: HeapRef(heap),
                exposed: Cell::new(false),
            },
        }
    }
}

/// A message value seen from Rust: its type, origin and (borrowed) fields, whichever form
/// it has.
pub struct Message<'v> {
    pub value: Value<'v>,
    pub ty: TypeId,
    pub origin: &'v Option<Arc<Origin>>,
    pub proto: bool,
    fields: FieldsRef<'v, 'v>,
    mutable: Option<&'v MutableFields<'v>>,
    exposed: bool,
}

impl<'v> Message<'v> {
    pub fn from_value(value: Value<'v>) -> Option<Message<'v>> {
        match value.unpack_frozen() {
            Some(f) => Some(Message::view(value, f.downcast_ref::<FrozenMessage>()?)),
            None => Some(Message::view(
                value,
                value.downcast_ref::<MutableMessage<'v>>()?,
            )),
        }
    }

    fn view<T: MessageData<'v>>(value: Value<'v>, m: &'v MessageGen<T>) -> Message<'v> {
        Message {
            value,
            ty: m.ty,
            origin: &m.origin,
            proto: m.proto,
            fields: m.data.fields(),
            mutable: m.data.mutable(),
            exposed: m.data.exposed(),
        }
    }

    /// Whether `value` is a message (without borrowing its fields).
    pub fn is_message(value: Value<'v>) -> bool {
        match value.unpack_frozen() {
            Some(f) => f.downcast_ref::<FrozenMessage>().is_some(),
            None => value.downcast_ref::<MutableMessage<'v>>().is_some(),
        }
    }

    pub fn message_type(&self) -> &'static MessageType {
        skyc_schema::lookup(self.ty)
    }

    /// The set fields as (name, value), in schema order.
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, Value<'v>)> + '_ {
        self.field_entries().map(|(f, v)| (&*f.name, v))
    }

    /// The fields that are set, with their schema entries, in schema order.
    /// How many fields are set.
    pub fn field_count(&self) -> usize {
        self.fields.keys.len()
    }

    pub fn field_entries(&self) -> impl Iterator<Item = (&'static Field, Value<'v>)> + '_ {
        let t = self.message_type();
        self.fields
            .keys
            .iter()
            .zip(&self.fields.values)
            .map(move |(k, v)| (&t.fields[*k as usize], *v))
    }

    pub fn get(&self, name: &str) -> Option<Value<'v>> {
        let (i, _) = self.message_type().field(name)?;
        self.fields.get(i)
    }

    /// A copy with the field at `index` (into the type's field list) set to `value`, which
    /// must already be in the field's representation. The copy keeps the message's origin.
    pub(crate) fn with_field(&self, index: usize, value: Value<'v>, heap: Heap<'v>) -> Value<'v> {
        let mut fields = Fields {
            keys: self.fields.keys.clone(),
            values: self.fields.values.clone(),
        };
        fields.set(index, value);
        heap.alloc(MutableMessage::new(
            self.ty,
            fields,
            self.origin.clone(),
            self.proto,
            heap,
        ))
    }

    /// A message of type `ty` with the fields (index, value) set and no origin: findings in
    /// it point at the message that holds it.
    pub(crate) fn with_fields(
        ty: TypeId,
        mut fields: Vec<(u32, Value<'v>)>,
        heap: Heap<'v>,
    ) -> Value<'v> {
        fields.sort_by_key(|(k, _)| *k);
        let (keys, values) = fields.into_iter().unzip();
        heap.alloc(MutableMessage::new(
            ty,
            Fields { keys, values },
            None,
            false,
            heap,
        ))
    }
}

impl<T> MessageGen<T> {
    pub fn message_type(&self) -> &'static MessageType {
        skyc_schema::lookup(self.ty)
    }
}

impl<'v, T: MessageData<'v>> fmt::Display for MessageGen<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        self.repr(&mut s);
        f.write_str(&s)
    }
}

impl<'v, T: MessageData<'v>> MessageGen<T> {
    fn repr(&self, out: &mut String) {
        let t = self.message_type();
        out.push_str(&t.path);
        out.push('(');
        let fields = self.data.fields();
        for (i, (k, v)) in fields.keys.iter().zip(&fields.values).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&t.fields[*k as usize].name);
            out.push_str(" = ");
            // Guards against cycles (`m.items.append(m)`).
            v.collect_repr(out);
        }
        out.push(')');
    }

    fn frozen_error(&self, what: &str) -> starlark::Error {
        SkyError::new(
            codes::SKY0301,
            format!(
                "cannot {what} of a frozen {} (it belongs to a module that finished loading)",
                self.message_type().path
            ),
        )
        .with_help("copy it first: `m = proto.clone(value)`")
        .into()
    }
}

/// A diagnostic turned into the error of the running statement.
pub(crate) fn to_error(d: Diagnostic) -> starlark::Error {
    let code = skyc_diag::codes::lookup(d.code).unwrap_or(codes::SKY0204);
    let mut e = SkyError::new(code, d.message);
    if let Some(h) = d.help {
        e = e.with_help(h);
    }
    e.into()
}

#[starlark_value(type = "Message")]
impl<'v, T: MessageData<'v> + fmt::Debug + Allocative + 'v> StarlarkValue<'v> for MessageGen<T>
where
    Self: ProvidesStaticType<'v>,
{
    type Canonical = FrozenMessage;

    fn collect_repr(&self, collector: &mut String) {
        self.repr(collector);
    }

    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        let t = self.message_type();
        let (i, field) = t.field(attribute)?;
        let current = self.data.fields().get(i);
        let m = self.data.mutable();
        if let Some(v) = current {
            if let (Some(m), FieldType::List(_) | FieldType::Map(_)) = (m, &field.ty) {
                // The caller may change it in place (`m.ports.append(p)`).
                m.expose();
            }
            return Some(v);
        }
        match (m, &field.ty) {
            (Some(m), FieldType::Message(id)) if self.proto => {
                let child = heap.alloc(MutableMessage::new(
                    *id,
                    Fields::default(),
                    None,
                    true,
                    heap,
                ));
                m.fields.borrow_mut().set(i, child);
                Some(child)
            }
            (Some(m), FieldType::List(_)) if self.proto => {
                let list = heap.alloc(AllocList::EMPTY);
                m.fields.borrow_mut().set(i, list);
                m.expose();
                Some(list)
            }
            (Some(m), FieldType::Map(_)) if self.proto => {
                let dict = heap.alloc(AllocDict::EMPTY);
                m.fields.borrow_mut().set(i, dict);
                m.expose();
                Some(dict)
            }
            _ if self.proto => Some(
                super::proto::proto3_zero(self.ty, field, heap).unwrap_or_else(Value::new_none),
            ),
            _ => Some(Value::new_none()),
        }
    }

    fn has_attr(&self, attribute: &str, _heap: Heap<'v>) -> bool {
        self.message_type().field(attribute).is_some()
    }

    fn dir_attr(&self) -> Vec<String> {
        self.message_type()
            .fields
            .iter()
            .map(|f| f.name.to_string())
            .collect()
    }

    fn set_attr(&self, attribute: &str, value: Value<'v>) -> starlark::Result<()> {
        let Some(m) = self.data.mutable() else {
            return Err(self.frozen_error(&format!("set `{attribute}`")));
        };
        let t = self.message_type();
        let Some((i, field)) = t.field(attribute) else {
            return Err(to_error(unknown_field(t, attribute, attribute)));
        };
        if value.is_none() {
            m.fields.borrow_mut().remove(i);
            return Ok(());
        }
        let mut b = Builder::detached(m.heap.0, self.proto);
        let converted = b.convert(value, &field.ty, attribute, attribute);
        if let Some(d) = b.collected.into_iter().next() {
            return Err(to_error(d));
        }
        let Some(converted) = converted else {
            return Ok(());
        };
        if let Some(g) = &t.gvk {
            let want = match attribute {
                "apiVersion" => Some(g.api_version()),
                "kind" => Some(g.kind.clone()),
                _ => None,
            };
            if let Some(want) = want.filter(|w| converted.unpack_str() != Some(w)) {
                return Err(SkyError::new(
                    codes::SKY0204,
                    format!(
                        "`{attribute}` of {} must be `{want}`, not {}",
                        t.display,
                        crate::values::repr(converted)
                    ),
                )
                .with_help("the constructor sets it; leave it alone")
                .into());
            }
        }
        let mut fields = m.fields.borrow_mut();
        // Setting one member of a oneof clears the others.
        for o in t.oneofs.iter().filter(|o| o.fields.contains(&i)) {
            for j in o.fields.iter().filter(|j| **j != i) {
                fields.remove(*j);
            }
        }
        fields.set(i, converted);
        Ok(())
    }

    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        let Some(other) = Message::from_value(other) else {
            return Ok(false);
        };
        let mine = self.data.fields();
        if other.ty != self.ty || other.fields.keys != mine.keys {
            return Ok(false);
        }
        for (a, b) in mine.values.iter().zip(&other.fields.values) {
            if !a.equals(*b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// The diagnostic for a field name `name` that `t` does not have.
fn unknown_field(t: &MessageType, name: &str, fpath: &str) -> Diagnostic {
    let d = Diagnostic::new(
        codes::SKY0203,
        format!("unknown field `{name}` on {}", t.display),
    )
    .with_field_path(fpath);
    let cands = t.fields.iter().map(|f| &*f.name);
    match did_you_mean(name, cands) {
        Some(s) => d
            .with_label(format!("did you mean `{s}`?"))
            .with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!("`skyc doc {}` lists its fields", t.path)),
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
    /// A type of `proto.package`: its messages get skycfg's semantics.
    pub(crate) proto: bool,
}

impl MessageCtor {
    pub(crate) fn new(ty: TypeId) -> MessageCtor {
        MessageCtor {
            ty,
            signature: OnceLock::new(),
            proto: false,
        }
    }

    pub(crate) fn proto(ty: TypeId) -> MessageCtor {
        MessageCtor {
            proto: true,
            ..MessageCtor::new(ty)
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
                ArcStr::from(&*f.name),
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
        if let Some(t) = skyc_schema::by_path(&path) {
            return Some(heap.alloc(MessageCtor {
                proto: self.proto,
                ..MessageCtor::new(t.id)
            }));
        }
        super::proto::nested_enum(self.ty, attribute, heap)
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
        let mut b = Builder::new(eval).proto(self.proto);
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
                        .map(|f| &*f.name)
                        .find(|n| *n != "apiVersion" && *n != "kind")
                        .unwrap_or("name")
                )),
                None,
            );
        }
        // On the stack: a constructor call names a few fields, and this runs for every one.
        let entries: SmallVec<[(&str, Value<'v>); 16]> =
            named.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        Ok(b.build(self.ty, &entries, "")
            .unwrap_or_else(Value::new_none))
    }
}

/// Builds messages from Starlark values, recording problems with their field paths: into
/// the evaluation's diagnostics (construction, which goes on after a bad field), or into
/// `collected` (assignment, which fails with the first).
pub(crate) struct Builder<'a, 'v, 'e, 'x> {
    heap: Heap<'v>,
    eval: Option<&'a mut Evaluator<'v, 'e, 'x>>,
    pub(crate) collected: Vec<Diagnostic>,
    origin: Option<Arc<Origin>>,
    /// Messages built get skycfg's semantics (see [`MessageGen::proto`]).
    proto: bool,
    /// Protobuf field names may also be given in their JSON form (`connectTimeout` for
    /// `connect_timeout`), as protobuf's JSON encoding writes them.
    pub(crate) json_names: bool,
}

impl<'a, 'v, 'e, 'x> Builder<'a, 'v, 'e, 'x> {
    pub(crate) fn new(eval: &'a mut Evaluator<'v, 'e, 'x>) -> Self {
        let ctx = eval.extra.and_then(|e| e.downcast_ref::<EvalContext>());
        let overridden = ctx.is_some_and(|c| c.span_override.borrow().is_some());
        let origin = if overridden {
            None
        } else {
            // Called from user code, the site is the top of the stack.
            let top = ctx
                .filter(|c| c.site_only)
                .and_then(|_| eval.call_stack_top_location())
                .filter(|l| !super::is_stdlib(l.file.filename()));
            let origin = match top {
                // The common case, and the one a constructor call takes most often: no
                // allocation for the (empty) list of callers.
                Some(site) => Some(Origin {
                    site,
                    direct: true,
                    callers: Vec::new(),
                }),
                None => {
                    let (mut frames, note) = super::user_stack(eval);
                    // The innermost user call is the site; the rest led to it.
                    (!frames.is_empty()).then(|| Origin {
                        site: frames.remove(0),
                        direct: note.is_none(),
                        callers: frames,
                    })
                }
            };
            origin.map(|origin| match ctx {
                Some(c) => c.origin(origin),
                None => Arc::new(origin),
            })
        };
        Builder {
            heap: eval.heap(),
            eval: Some(eval),
            collected: Vec::new(),
            origin,
            proto: false,
            json_names: false,
        }
    }

    /// A builder that collects its findings instead of recording them.
    pub(crate) fn detached(heap: Heap<'v>, proto: bool) -> Self {
        Builder {
            heap,
            eval: None,
            collected: Vec::new(),
            origin: None,
            proto,
            json_names: false,
        }
    }

    pub(crate) fn proto(mut self, proto: bool) -> Self {
        self.proto = proto;
        self
    }

    fn report(&mut self, d: Diagnostic, narrow_to: Option<&str>) {
        match &mut self.eval {
            Some(eval) => record(eval, d, narrow_to),
            None => self.collected.push(d),
        }
    }

    /// Builds a message of type `ty` from (field, value) pairs. `path` is the field path of
    /// the message inside its object (empty at the top).
    pub(crate) fn build<S: AsRef<str>>(
        &mut self,
        ty: TypeId,
        entries: &[(S, Value<'v>)],
        path: &str,
    ) -> Option<Value<'v>> {
        let t = skyc_schema::lookup(ty);
        let mut set: SmallVec<[(u32, Value<'v>); 16]> = SmallVec::with_capacity(entries.len() + 2);
        for (name, value) in entries {
            let name = name.as_ref();
            // At the top (a constructor call) a field's path is its name: no allocation.
            let fpath: std::borrow::Cow<str> = if path.is_empty() {
                std::borrow::Cow::Borrowed(name)
            } else {
                std::borrow::Cow::Owned(join(path, name))
            };
            let found = t.field(name).or_else(|| {
                self.json_names
                    .then(|| t.field(&snake_case(name)))
                    .flatten()
            });
            let Some((i, field)) = found else {
                self.report(unknown_field(t, name, &fpath), Some(name));
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
            // apiVersion and kind are implied by the constructor; check them if given. A wrong
            // one is reported and replaced, so that every message of a kind holds its own (as
            // assignment, which refuses a wrong one, keeps it).
            // Built for every object: no copies where the schema holds the text, and one
            // Starlark string per text however many objects hold it (interned).
            let api_version = g.api_version_text();
            for (fname, want) in [("apiVersion", &*api_version), ("kind", g.kind.as_str())] {
                let Some((i, _)) = t.field(fname) else {
                    continue;
                };
                match set.iter_mut().find(|(k, _)| *k as usize == i) {
                    Some((_, v)) if v.unpack_str() != Some(want) => {
                        self.report(
                            Diagnostic::new(
                                codes::SKY0204,
                                format!(
                                    "`{fname}` of {} must be `{want}`, not {}",
                                    t.display,
                                    crate::values::repr(*v)
                                ),
                            )
                            .with_field_path(join(path, fname))
                            .with_help(format!("omit `{fname}`: the constructor sets it")),
                            Some(fname),
                        );
                        *v = self.heap.alloc_str_intern(want).to_value();
                    }
                    Some(_) => {}
                    None => set.push((i as u32, self.heap.alloc_str_intern(want).to_value())),
                }
            }
        }
        set.sort_by_key(|(k, _)| *k);
        // Made at their size: `unzip` grows them an item at a time.
        let mut keys = Vec::with_capacity(set.len());
        let mut values = Vec::with_capacity(set.len());
        for (k, v) in set {
            keys.push(k);
            values.push(v);
        }
        // Messages built from dicts inside a constructor call have no origin of their own:
        // findings in them point at the constructor's field that holds them.
        let origin = if path.is_empty() {
            self.origin.clone()
        } else {
            None
        };
        Some(self.heap.alloc(MutableMessage::new(
            ty,
            Fields { keys, values },
            origin,
            self.proto,
            self.heap,
        )))
    }

    fn type_error(&mut self, value: Value<'v>, ty: &FieldType, path: FieldPath, narrow: &str) {
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
        .with_field_path(path.to_string())
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
        self.convert_at(value, ty, FieldPath::At(path), narrow)
    }

    /// [`Builder::convert`] with the path of a list item or map entry, written out only
    /// for a finding.
    fn convert_at(
        &mut self,
        value: Value<'v>,
        ty: &FieldType,
        path: FieldPath<'_>,
        narrow: &str,
    ) -> Option<Value<'v>> {
        let heap = self.heap;
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
                        .with_field_path(path.to_string());
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
                            .with_field_path(path.to_string())
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
                                .with_field_path(path.to_string())
                                .with_help("durations are strings with a unit: \"2s\", \"250ms\", \"1m30s\""),
                            Some(narrow),
                        );
                        None
                    }
                }
            }
            FieldType::Any => {
                if Message::is_message(value) {
                    return Some(value);
                }
                // A dict with its `@type`, as Envoy's JSON writes an Any.
                if let Some(dict) = DictRef::from_value(value) {
                    let url = dict
                        .iter()
                        .find(|(k, _)| k.unpack_str() == Some("@type"))
                        .and_then(|(_, v)| v.unpack_str());
                    if let Some(url) = url {
                        let name = url.rsplit('/').next().unwrap_or(url);
                        let Some(t) =
                            skyc_schema::schema_of(skyc_schema::SchemaId::ENVOY).by_name(name)
                        else {
                            drop(dict);
                            self.report(
                                Diagnostic::new(
                                    codes::SKY0208,
                                    format!("`{path}`: unknown type `{url}` in `@type`"),
                                )
                                .with_field_path(path.to_string())
                                .with_help("`@type` is `type.googleapis.com/` and the full protobuf name of a message"),
                                Some(narrow),
                            );
                            return None;
                        };
                        let entries: Vec<(String, Value<'v>)> = dict
                            .iter()
                            .filter_map(|(k, v)| k.unpack_str().map(|k| (k.to_string(), v)))
                            .filter(|(k, _)| k != "@type")
                            .collect();
                        drop(dict);
                        return self.build(t.id, &entries, &path.to_string());
                    }
                }
                self.type_error(value, ty, path, narrow);
                None
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
                                .with_field_path(path.to_string())
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
                                            crate::values::repr(k)
                                        ),
                                    )
                                    .with_field_path(path.to_string()),
                                    Some(narrow),
                                );
                            }
                        }
                    }
                    drop(dict);
                    return self.build(*id, &entries, &path.to_string());
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
                    let p = FieldPath::Index(&path, i);
                    if v.is_none() {
                        self.type_error(v, item, p, narrow);
                        continue;
                    }
                    if let Some(v) = self.convert_at(v, item, p, narrow) {
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
                                format!(
                                    "keys of `{path}` must be strings, got {}",
                                    crate::values::repr(k)
                                ),
                            )
                            .with_field_path(path.to_string()),
                            Some(narrow),
                        );
                        continue;
                    };
                    let p = FieldPath::Key(&path, ks);
                    if let Some(v) = self.convert_at(v, item, p, narrow) {
                        out.push((k, v));
                    }
                }
                Some(heap.alloc(AllocDict(out)))
            }
            FieldType::Json => Some(value),
        }
    }
}

/// Where a value being converted sits in its object: written out only when a finding names
/// it, so that converting a list's items or a map's entries builds no path strings.
#[derive(Clone, Copy)]
enum FieldPath<'a> {
    At(&'a str),
    /// An item of the list at the path.
    Index(&'a FieldPath<'a>, usize),
    /// The entry of the map at the path with this key (written quoted, as JSON).
    Key(&'a FieldPath<'a>, &'a str),
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::At(p) => f.write_str(p),
            FieldPath::Index(p, i) => write!(f, "{p}[{i}]"),
            FieldPath::Key(p, k) => write!(
                f,
                "{p}[{}]",
                serde_json::to_string(k).map_err(|_| fmt::Error)?
            ),
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

/// `connectTimeout` → `connect_timeout`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
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
    let r = crate::values::repr(v);
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

/// Converts again the lists and dicts that messages handed out, which the user may have
/// changed in place (`d.spec.ports.append({"port": 80})`): each item is checked against the
/// field's type and brought into its representation, and problems are recorded with their
/// field paths. They point at the message's origin, or at `site` when it has none. Call this
/// before a message is lowered.
pub(crate) fn normalize<'v>(
    eval: &mut Evaluator<'v, '_, '_>,
    value: Value<'v>,
    site: Option<Span>,
) {
    // Without a message that handed out a container, nothing here can have changed in place.
    // (The flag is set before the message is frozen or passed on, so it is visible here; in
    // development builds the walk runs anyway and asserts that.)
    if !EXPOSED_ANY.load(std::sync::atomic::Ordering::Acquire) && !cfg!(debug_assertions) {
        return;
    }
    // Keyed by address: a fast hash, not SipHash.
    let mut seen = std::collections::HashSet::with_hasher(foldhash::fast::FixedState::default());
    let site = Site {
        origin: None,
        fallback: &site,
    };
    normalize_in(eval, value, &mut String::new(), site, &mut seen, 0);
}

/// Where problems found by [`normalize`] point: the nearest enclosing message's origin, else
/// the caller's site. Turned into a [`Span`] only when a container is converted again.
#[derive(Clone, Copy)]
struct Site<'a> {
    origin: Option<&'a starlark::codemap::FileSpan>,
    fallback: &'a Option<Span>,
}

impl Site<'_> {
    fn span(&self) -> Option<Span> {
        match self.origin {
            Some(o) => Some(super::to_span(o)),
            None => self.fallback.clone(),
        }
    }
}

/// Whether `v` can hold a message (the only values [`normalize_in`] has work for).
fn may_hold_message(v: Value) -> bool {
    ListRef::from_value(v).is_some()
        || DictRef::from_value(v).is_some()
        || Message::from_value(v).is_some()
}

/// `path` is a buffer holding the field path of `value`; each level appends to it and
/// truncates it back, so walking objects where nothing changed allocates no paths. Strings,
/// numbers and the like are not visited at all.
fn normalize_in<'v>(
    eval: &mut Evaluator<'v, '_, '_>,
    value: Value<'v>,
    path: &mut String,
    site: Site<'_>,
    seen: &mut std::collections::HashSet<
        starlark::values::ValueIdentity<'v>,
        foldhash::fast::FixedState,
    >,
    depth: usize,
) {
    use std::fmt::Write;
    let len = path.len();
    if let Some(items) = ListRef::from_value(value) {
        // Lowering reports structures nested deeper than this.
        if depth > 256 || !seen.insert(value.identity()) {
            return;
        }
        for (i, v) in items.content().iter().enumerate() {
            if !may_hold_message(*v) {
                continue;
            }
            let _ = write!(path, "[{i}]");
            normalize_in(eval, *v, path, site, seen, depth + 1);
            path.truncate(len);
        }
        return;
    }
    if let Some(d) = DictRef::from_value(value) {
        if depth > 256 || !seen.insert(value.identity()) {
            return;
        }
        let items: Vec<(Value<'v>, Value<'v>)> =
            d.iter().filter(|(_, v)| may_hold_message(*v)).collect();
        drop(d);
        for (k, v) in items {
            let _ = write!(path, "[{}]", crate::values::repr(k));
            normalize_in(eval, v, path, site, seen, depth + 1);
            path.truncate(len);
        }
        return;
    }
    let Some(m) = Message::from_value(value) else {
        return;
    };
    if depth > 256 || !seen.insert(value.identity()) {
        return;
    }
    // The origin lives as long as the message, which lives on the heap for `'v`.
    let origin: Option<starlark::codemap::FileSpan> = m.origin.as_ref().map(|o| o.site.clone());
    let site = Site {
        origin: origin.as_ref().or(site.origin),
        fallback: site.fallback,
    };
    let t = m.message_type();
    let exposed = m.exposed;
    debug_assert!(
        !exposed || EXPOSED_ANY.load(std::sync::atomic::Ordering::Acquire),
        "a message handed out a container without noting it in EXPOSED_ANY"
    );
    let entries: Vec<(usize, &'static Field, Value<'v>)> = m
        .fields
        .keys
        .iter()
        .zip(&m.fields.values)
        .map(|(k, v)| (*k as usize, &t.fields[*k as usize], *v))
        .filter(|(_, f, v)| {
            (exposed && matches!(f.ty, FieldType::List(_) | FieldType::Map(_)))
                || may_hold_message(*v)
        })
        .collect();
    let mutable = m.mutable;
    drop(m);
    for (index, field, v) in entries {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&field.name);
        let mut v = v;
        if exposed && matches!(field.ty, FieldType::List(_) | FieldType::Map(_)) {
            let converted = super::with_span_override(eval, site.span(), |eval| {
                Builder::new(eval).convert(v, &field.ty, path, &field.name)
            });
            if let (Some(c), Some(mm)) = (converted, mutable) {
                if !same_items(v, c) {
                    mm.fields.borrow_mut().set(index, c);
                    v = c;
                }
            }
        }
        normalize_in(eval, v, path, site, seen, depth + 1);
        path.truncate(len);
    }
}

/// Whether a converted container holds the very values of the original (nothing needed
/// converting), so the original can stay where it is.
fn same_items<'v>(a: Value<'v>, b: Value<'v>) -> bool {
    if let (Some(x), Some(y)) = (ListRef::from_value(a), ListRef::from_value(b)) {
        return x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| p.ptr_eq(q));
    }
    if let (Some(x), Some(y)) = (DictRef::from_value(a), DictRef::from_value(b)) {
        return x.len() == y.len()
            && x.iter()
                .zip(y.iter())
                .all(|((k1, v1), (k2, v2))| k1.ptr_eq(k2) && v1.ptr_eq(v2));
    }
    false
}

/// Sets (or with `None`, clears) the field at `index` of the mutable message `m`, whose value
/// must already be in the field's representation. False when `m` is frozen.
pub(crate) fn store<'v>(m: Value<'v>, index: usize, value: Option<Value<'v>>) -> bool {
    let Some(mm) = m.downcast_ref::<MutableMessage<'v>>() else {
        return false;
    };
    let mut f = mm.data.fields.borrow_mut();
    match value {
        Some(v) => f.set(index, v),
        None => f.remove(index),
    }
    true
}

/// A deep copy: messages, lists and dicts are copied (a message keeps its type, origin and
/// semantics), everything else is shared (strings, numbers and quantities do not change).
pub(crate) fn deep_copy<'v>(
    v: Value<'v>,
    heap: Heap<'v>,
    depth: usize,
) -> Result<Value<'v>, String> {
    if depth > 256 {
        return Err("the value is nested deeper than 256 levels (or holds itself)".into());
    }
    if let Some(m) = Message::from_value(v) {
        let mut fields = Fields::default();
        for (k, x) in m.fields.keys.iter().zip(&m.fields.values) {
            fields.keys.push(*k);
            fields.values.push(deep_copy(*x, heap, depth + 1)?);
        }
        return Ok(heap.alloc(MutableMessage::new(
            m.ty,
            fields,
            m.origin.clone(),
            m.proto,
            heap,
        )));
    }
    if let Some(l) = ListRef::from_value(v) {
        let items = l.content().to_vec();
        let copied = items
            .into_iter()
            .map(|x| deep_copy(x, heap, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(heap.alloc(AllocList(copied)));
    }
    if let Some(d) = DictRef::from_value(v) {
        let entries: Vec<(Value<'v>, Value<'v>)> = d.iter().collect();
        drop(d);
        let mut out = Vec::with_capacity(entries.len());
        for (k, x) in entries {
            out.push((k, deep_copy(x, heap, depth + 1)?));
        }
        return Ok(heap.alloc(AllocDict(out)));
    }
    Ok(v)
}
