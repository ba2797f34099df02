//! The native half of `@stdlib//clusters.sky` (`on_clusters`, `migrate`): checking cluster
//! names where the user wrote them, and annotating objects. Typed messages are immutable, so
//! annotating one returns a copy; Starlark code alone cannot copy a message with a changed
//! field.

use super::message::Message;
use super::{literal, narrow, user_call_site, EvalContext, SkyError};
use skyc_diag::{codes, Diagnostic};
use skyc_schema::{FieldType, SchemaId};
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::UnpackList;
use starlark::values::none::NoneType;
use starlark::values::{Heap, Value};
use starlark_map::small_map::SmallMap;

/// Builtins for the stdlib; user code has no reason to call them.
#[starlark_module]
pub(crate) fn clusters_builtins(builder: &mut GlobalsBuilder) {
    /// Checks cluster names (SKY0412 malformed, SKY0413 not declared in sky.toml) and records
    /// each problem at the name's literal in the user's call (or the call's `clusters`
    /// argument); evaluation goes on, and the problems stop the render afterwards.
    fn _sky_check_clusters<'v>(
        #[starlark(require = pos)] names: UnpackList<String>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<NoneType> {
        let Some(ctx) = eval.extra.and_then(|e| e.downcast_ref::<EvalContext>()) else {
            return Ok(NoneType);
        };
        let declared: Vec<String> = ctx
            .settings
            .get("clusters.names")
            .map(|v| v.split(',').map(str::to_string).collect())
            .unwrap_or_default();
        // The span shows the user's `migrate`/`on_clusters` call; the stdlib frame adds nothing.
        let (site, _) = user_call_site(eval);
        for name in &names.items {
            let Some(p) = crate::clusters::check_one(name, &declared) else {
                continue;
            };
            let mut d = Diagnostic::new(p.code, p.message).with_help(p.help);
            d.span = site.as_ref().map(|s| {
                literal(s, name)
                    .filter(|_| !name.is_empty())
                    .unwrap_or_else(|| narrow(s, "clusters"))
            });
            // `migrate` and the `on_clusters` around it check the same name at one place.
            let mut recorded = ctx.diagnostics.borrow_mut();
            if !recorded.contains(&d) {
                recorded.push(d);
            }
        }
        Ok(NoneType)
    }

    /// A copy of `obj` (a typed Kubernetes object, or a dict with its fields) with
    /// `annotations` merged into its `metadata.annotations` (replacing keys it already has).
    fn _sky_annotate<'v>(
        #[starlark(require = pos)] obj: Value<'v>,
        #[starlark(require = pos)] annotations: SmallMap<String, String>,
        heap: Heap<'v>,
    ) -> starlark::Result<Value<'v>> {
        annotate(obj, &annotations, heap).map_err(|what| {
            SkyError::new(
                codes::SKY0301,
                format!("{what} is not a Kubernetes object, so it cannot be annotated"),
            )
            .with_help(
                "pass objects such as k8s.batch.v1.CronJob(...), dicts with apiVersion, kind and metadata, or lists of them",
            )
            .into()
        })
    }
}

/// `obj` with the annotations merged, or what `obj` is when it is not an object.
fn annotate<'v>(
    obj: Value<'v>,
    annotations: &SmallMap<String, String>,
    heap: Heap<'v>,
) -> Result<Value<'v>, String> {
    if let Some(m) = Message::from_value(obj) {
        let t = m.message_type();
        let metadata = t
            .field("metadata")
            .filter(|_| t.gvk.is_some() && m.ty.source() == SchemaId::K8S);
        let Some((index, field)) = metadata else {
            return Err(t.path.clone());
        };
        let meta = match m.get("metadata") {
            Some(v) => annotate_meta(v, annotations, heap)?,
            None => {
                let FieldType::Message(meta_ty) = &field.ty else {
                    return Err(t.path.clone());
                };
                let meta = Message::with_fields(*meta_ty, vec![], heap);
                annotate_meta(meta, annotations, heap)?
            }
        };
        return Ok(m.with_field(index, meta, heap));
    }
    if let Some(d) = DictRef::from_value(obj) {
        let mut entries: Vec<(Value<'v>, Value<'v>)> = d.iter().collect();
        drop(d);
        match entries
            .iter_mut()
            .find(|(k, _)| k.unpack_str() == Some("metadata"))
        {
            Some((_, meta)) if !meta.is_none() => *meta = annotate_meta(*meta, annotations, heap)?,
            Some((_, meta)) => *meta = new_metadata(annotations, heap),
            None => entries.push((heap.alloc("metadata"), new_metadata(annotations, heap))),
        }
        return Ok(heap.alloc(AllocDict(entries)));
    }
    Err(format!("{} {}", obj.get_type(), short(obj)))
}

/// Metadata (an ObjectMeta message or a dict) with the annotations merged.
fn annotate_meta<'v>(
    meta: Value<'v>,
    annotations: &SmallMap<String, String>,
    heap: Heap<'v>,
) -> Result<Value<'v>, String> {
    if let Some(m) = Message::from_value(meta) {
        let Some((index, _)) = m.message_type().field("annotations") else {
            return Err(format!("metadata {}", m.message_type().path));
        };
        let merged = merge(m.get("annotations"), annotations, heap)?;
        return Ok(m.with_field(index, merged, heap));
    }
    if let Some(d) = DictRef::from_value(meta) {
        let mut entries: Vec<(Value<'v>, Value<'v>)> = d.iter().collect();
        drop(d);
        match entries
            .iter_mut()
            .find(|(k, _)| k.unpack_str() == Some("annotations"))
        {
            Some((_, a)) => *a = merge(Some(*a), annotations, heap)?,
            None => entries.push((heap.alloc("annotations"), merge(None, annotations, heap)?)),
        }
        return Ok(heap.alloc(AllocDict(entries)));
    }
    Err(format!("metadata {} {}", meta.get_type(), short(meta)))
}

fn new_metadata<'v>(annotations: &SmallMap<String, String>, heap: Heap<'v>) -> Value<'v> {
    let entries = annotations
        .iter()
        .map(|(k, v)| (heap.alloc(k.as_str()), heap.alloc(v.as_str())))
        .collect::<Vec<_>>();
    heap.alloc(AllocDict([(
        heap.alloc("annotations"),
        heap.alloc(AllocDict(entries)),
    )]))
}

/// An annotations dict (or none) with `annotations` merged in: given keys replace the old
/// values in place, new keys follow.
fn merge<'v>(
    old: Option<Value<'v>>,
    annotations: &SmallMap<String, String>,
    heap: Heap<'v>,
) -> Result<Value<'v>, String> {
    let mut entries: Vec<(Value<'v>, Value<'v>)> = match old.filter(|v| !v.is_none()) {
        None => Vec::new(),
        Some(v) => match DictRef::from_value(v) {
            Some(d) => d.iter().collect(),
            None => return Err(format!("annotations {} {}", v.get_type(), short(v))),
        },
    };
    for (k, v) in annotations {
        let value = heap.alloc(v.as_str());
        match entries
            .iter_mut()
            .find(|(ek, _)| ek.unpack_str() == Some(k))
        {
            Some((_, ev)) => *ev = value,
            None => entries.push((heap.alloc(k.as_str()), value)),
        }
    }
    Ok(heap.alloc(AllocDict(entries)))
}

fn short(v: Value) -> String {
    let r = crate::values::repr(v);
    if r.chars().count() > 40 {
        format!("{}…", r.chars().take(40).collect::<String>())
    } else {
        r
    }
}
