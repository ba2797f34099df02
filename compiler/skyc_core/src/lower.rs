//! Lowering: Starlark values → JSON, then each object through its `k8s-openapi` struct, which
//! gives canonical key order (apiVersion, kind, metadata, spec, …) and proper formats.

use crate::eval::PendingObject;
use crate::values::kube::QuantityValue;
use crate::values::message::Message;
use crate::values::message::Origin;
use crate::values::{narrow, to_span};
use crate::Object;
use serde_json::{Map, Value as Json};
use skyc_diag::Span;
use skyc_diag::{codes, Diagnostic};
use skyc_schema::{k8s::k8s, FieldType, TypeId};
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{UnpackValue, Value};
use std::fmt::{self, Write as _};

/// Where each message inside an object was built, by field path ("" is the object itself).
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<(String, Origin)>);

impl Origins {
    /// The best span for a finding at `path`: the innermost message on the path that knows
    /// where it was built, narrowed to the field's `name = ` when the message was built
    /// directly in user code.
    pub fn span_at(&self, path: &str) -> Option<Span> {
        let (prefix, origin) = self
            .0
            .iter()
            .filter(|(p, _)| {
                p.is_empty()
                    || path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
            })
            .max_by_key(|(p, _)| p.len())?;
        let rest = path[prefix.len()..].trim_start_matches('.');
        let field = rest.split(['.', '[']).next().unwrap_or("");
        if origin.direct && !field.is_empty() {
            Some(narrow(&origin.site, field))
        } else {
            Some(to_span(&origin.site))
        }
    }

    /// The span of the message that should hold the (missing) field at `path`.
    pub fn span_of_parent(&self, path: &str) -> Option<Span> {
        let parent = match path.rfind(['.', '[']) {
            Some(i) => &path[..i],
            None => "",
        };
        self.span_at(parent)
    }

    /// The span of the object itself.
    pub fn root(&self) -> Option<Span> {
        self.0
            .iter()
            .find(|(p, _)| p.is_empty())
            .map(|(_, o)| to_span(&o.site))
    }
}

/// Converts a Starlark value (messages, quantities, plain data) to JSON.
pub fn to_json(v: Value) -> Result<Json, String> {
    to_json_depth(v, 0, &mut None)
}

/// Converts like [`to_json`] and records where every message in the value was built.
pub fn to_json_with_origins(v: Value) -> Result<(Json, Origins), String> {
    let mut c = Some((String::new(), Origins::default()));
    let json = to_json_depth(v, 0, &mut c)?;
    Ok((json, c.map(|(_, o)| o).unwrap_or_default()))
}

/// The field path being converted, and the origins found so far.
type Collector = Option<(String, Origins)>;

/// Runs `f` with `seg` appended to the collector's path.
fn nested<T>(c: &mut Collector, seg: fmt::Arguments, f: impl FnOnce(&mut Collector) -> T) -> T {
    let len = c.as_ref().map(|(p, _)| p.len());
    if let Some((p, _)) = c {
        p.write_fmt(seg).expect("writing to a String cannot fail");
    }
    let r = f(c);
    if let (Some((p, _)), Some(len)) = (c.as_mut(), len) {
        p.truncate(len);
    }
    r
}

/// Runs `f` inside field `name` (joined with `.` unless at the top).
fn in_field<T>(c: &mut Collector, name: &str, f: impl FnOnce(&mut Collector) -> T) -> T {
    let sep = if c.as_ref().is_some_and(|(p, _)| p.is_empty()) {
        ""
    } else {
        "."
    };
    nested(c, format_args!("{sep}{name}"), f)
}

fn to_json_depth(v: Value, depth: usize, c: &mut Collector) -> Result<Json, String> {
    if depth > 200 {
        return Err("the value is nested too deeply to render (over 200 levels)".into());
    }
    if v.is_none() {
        return Ok(Json::Null);
    }
    if let Some(b) = v.unpack_bool() {
        return Ok(Json::Bool(b));
    }
    if let Some(s) = v.unpack_str() {
        return Ok(Json::String(s.to_string()));
    }
    if v.get_type() == "int" {
        return match i64::unpack_value(v) {
            Ok(Some(n)) => Ok(Json::from(n)),
            _ => Err(format!("the integer {} is too large to render", v.to_str())),
        };
    }
    if v.get_type() == "float" {
        let f: f64 = v
            .to_str()
            .parse()
            .map_err(|_| format!("cannot render float {}", v.to_str()))?;
        return serde_json::Number::from_f64(f)
            .map(Json::Number)
            .ok_or_else(|| format!("cannot render the float {} (not finite)", v.to_str()));
    }
    if let Some(q) = QuantityValue::from_value(v) {
        return Ok(Json::String(q.0.text.clone()));
    }
    if let Some(m) = Message::from_value(v) {
        if let (Some((path, origins)), Some(o)) = (c.as_mut(), &m.origin) {
            origins.0.push((path.clone(), o.clone()));
        }
        let mut obj = Map::new();
        for (name, val) in m.fields() {
            let j = in_field(c, name, |c| to_json_depth(val, depth + 1, c))?;
            obj.insert(name.to_string(), j);
        }
        return Ok(Json::Object(obj));
    }
    let items = ListRef::from_value(v)
        .map(|l| l.content())
        .or_else(|| TupleRef::from_value(v).map(|t| t.content()));
    if let Some(items) = items {
        return items
            .iter()
            .enumerate()
            .map(|(i, x)| {
                nested(c, format_args!("[{i}]"), |c| {
                    to_json_depth(*x, depth + 1, c)
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Json::Array);
    }
    if let Some(d) = DictRef::from_value(v) {
        let mut obj = Map::new();
        for (k, val) in d.iter() {
            let Some(k) = k.unpack_str() else {
                return Err(format!(
                    "dict keys must be strings to render, got {}",
                    k.to_repr()
                ));
            };
            let j = in_field(c, k, |c| to_json_depth(val, depth + 1, c))?;
            obj.insert(k.to_string(), j);
        }
        return Ok(Json::Object(obj));
    }
    Err(format!(
        "a value of type `{}` cannot be rendered: {}",
        v.get_type(),
        v.to_repr()
    ))
}

/// An object with the span it came from, after lowering.
#[derive(Debug, Clone)]
pub struct LoweredObject {
    pub object: Object,
    pub ty: TypeId,
    pub span: Option<skyc_diag::Span>,
    pub origins: Origins,
}

impl LoweredObject {
    /// Where to point a finding at `path` inside this object.
    pub fn span_at(&self, path: &str) -> Option<Span> {
        self.origins.span_at(path).or_else(|| self.span.clone())
    }
}

pub(crate) struct Lowered {
    pub objects: Vec<LoweredObject>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks required fields and lowers every object through `k8s-openapi`.
pub(crate) fn lower(pending: &[PendingObject]) -> Lowered {
    let mut objects = Vec::new();
    let mut diagnostics = Vec::new();
    for p in pending {
        let mut missing = Vec::new();
        required(p.ty, &p.json, "", &mut missing);
        let t = skyc_schema::lookup(p.ty);
        for (path, ty_name) in missing {
            diagnostics.push(
                Diagnostic::new(
                    codes::SKY0206,
                    format!("{} is missing required field `{path}`", t.display),
                )
                .with_span_opt(p.origins.span_of_parent(&path).or_else(|| p.span.clone()))
                .with_field_path(&path)
                .with_help(format!("set `{path}` (see `skyc doc {ty_name}`)")),
            );
        }
        match k8s().lower(p.ty, p.json.clone()) {
            Some(Ok(json)) => {
                let json = conventional_order(json);
                let g = t.gvk.clone().expect("lowered objects are kinds");
                let meta = json.get("metadata");
                let name = meta
                    .and_then(|m| m.get("name"))
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_string();
                let namespace = meta
                    .and_then(|m| m.get("namespace"))
                    .and_then(Json::as_str)
                    .map(str::to_string);
                objects.push(LoweredObject {
                    object: Object {
                        api_version: g.api_version(),
                        kind: g.kind.clone(),
                        name,
                        namespace,
                        json,
                    },
                    ty: p.ty,
                    span: p.span.clone(),
                    origins: p.origins.clone(),
                });
            }
            Some(Err(e)) => diagnostics.push(
                Diagnostic::new(
                    codes::SKY0408,
                    format!("{} does not fit the Kubernetes schema: {e}", t.display),
                )
                .with_span_opt(p.span.clone()),
            ),
            None => diagnostics.push(
                Diagnostic::new(
                    codes::SKY0208,
                    format!("{} cannot be rendered as a top-level object", t.display),
                )
                .with_span_opt(p.span.clone()),
            ),
        }
    }
    Lowered {
        objects,
        diagnostics,
    }
}

/// Collects (field path, type path) of required fields missing anywhere in `json`.
fn required(ty: TypeId, json: &Json, path: &str, out: &mut Vec<(String, String)>) {
    let t = skyc_schema::lookup(ty);
    let Some(obj) = json.as_object() else { return };
    for f in &t.fields {
        let fpath = crate::values::message::join(path, &f.name);
        match obj.get(&f.name) {
            None if f.required => out.push((fpath, t.path.clone())),
            None => {}
            Some(v) => required_in(&f.ty, v, &fpath, out),
        }
    }
}

fn required_in(ty: &FieldType, v: &Json, path: &str, out: &mut Vec<(String, String)>) {
    match ty {
        FieldType::Message(id) => required(*id, v, path, out),
        FieldType::List(item) => {
            if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    required_in(item, x, &format!("{path}[{i}]"), out);
                }
            }
        }
        FieldType::Map(item) => {
            if let Some(o) = v.as_object() {
                for (k, x) in o {
                    required_in(item, x, &format!("{path}[{k:?}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Kubernetes' conventional order: apiVersion, kind, metadata, then the rest as the schema
/// (the `k8s-openapi` struct) orders them.
fn conventional_order(json: Json) -> Json {
    let Json::Object(mut obj) = json else {
        return json;
    };
    let mut out = Map::new();
    for k in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = obj.shift_remove(k) {
            out.insert(k.to_string(), v);
        }
    }
    out.extend(obj);
    Json::Object(out)
}
