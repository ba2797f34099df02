//! Custom resources: message types built from the `openAPIV3Schema` of each version of a
//! project's CustomResourceDefinitions, and the validation of rendered objects against it
//! ([`validate`]).
//!
//! The loader reads and parses the CRD files (this crate does no I/O) and hands the documents
//! of one file to [`CrdSet::build`]. A set is registered once ([`register`]) under a
//! [`SchemaId`] of its own, so its types are found by id like the built-in ones
//! ([`crate::lookup`]). Types are built for every served and unserved version; a version
//! without a schema of its own uses the CRD's top-level `spec.validation` (apiextensions
//! v1beta1).

mod validate;

pub use validate::{validate, Finding, FindingKind};

use crate::{Field, FieldType, Gvk, MessageType, Schema, SchemaId, TypeId};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::OnceLock;

/// The first id a CRD set gets; K8S and ENVOY come before.
const FIRST_ID: u16 = 2;
/// Deeper schemas are free-form below this depth (real CRDs stay far below it).
const MAX_DEPTH: usize = 64;

/// One parsed YAML (or JSON) document of a CRD file, with where it starts.
#[derive(Debug, Clone)]
pub struct Document {
    pub file: String,
    /// 1-based line of the document's first line.
    pub line: usize,
    pub json: Json,
}

/// A problem with a CRD document: it is not a usable CustomResourceDefinition.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
    pub help: String,
}

/// One version of one custom resource kind.
#[derive(Debug, Clone)]
pub struct CrdVersion {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    /// `Namespaced` or `Cluster`.
    pub scope: String,
    pub served: bool,
    /// The version objects are stored in (exactly one per CRD).
    pub storage: bool,
    /// Set when the version is deprecated: the warning the API server gives (or a default).
    pub deprecated: Option<String>,
    /// The top-level message type (its constructor is `crd.<group>.<version>.<Kind>`).
    pub ty: TypeId,
    /// The version's `openAPIV3Schema`, which [`validate`] checks objects against.
    pub schema: Json,
    /// The CEL rules (`x-kubernetes-validations`) anywhere in the schema, which skyc does not
    /// evaluate.
    pub cel_rules: Vec<String>,
    /// Where the CRD is declared.
    pub file: String,
    pub line: usize,
}

impl CrdVersion {
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
}

/// The custom resources of a project: their types and versions.
#[derive(Debug)]
pub struct CrdSet {
    pub schema: Schema,
    /// Every version of every kind, sorted by group, kind and version.
    pub versions: Vec<CrdVersion>,
}

/// `monitoring.coreos.com` → `monitoring_coreos_com`: the group's name in the `crd` namespace.
pub fn group_ident(group: &str) -> String {
    group.replace(['.', '-'], "_")
}

impl CrdSet {
    /// Builds the types of every CRD in `docs` (documents that are not CRDs are problems;
    /// empty documents are skipped). `id` is the id the set will be registered under
    /// ([`next_id`]).
    pub fn build(id: SchemaId, docs: &[Document]) -> (CrdSet, Vec<Problem>) {
        let mut b = Builder {
            schema: Schema::new(id),
            names: HashSet::new(),
            api_version: String::new(),
        };
        let mut versions = Vec::new();
        let mut problems = Vec::new();
        let mut seen: BTreeMap<(String, String), (String, usize)> = BTreeMap::new();
        for doc in docs {
            if doc.json.is_null() {
                continue;
            }
            match crd_versions(doc) {
                Ok(found) => {
                    let Some(first) = found.first() else { continue };
                    let key = (first.group.clone(), first.kind.clone());
                    if let Some((file, line)) = seen.get(&key) {
                        problems.push(Problem {
                            file: doc.file.clone(),
                            line: doc.line,
                            message: format!(
                                "{} {} is declared twice (first in {file}:{line})",
                                first.group, first.kind
                            ),
                            help: "declare each CRD once in the files `[crds] paths` lists".into(),
                        });
                        continue;
                    }
                    seen.insert(key, (doc.file.clone(), doc.line));
                    for v in found {
                        let ty = b.top_level(&v);
                        versions.push(CrdVersion {
                            group: v.group,
                            version: v.version,
                            kind: v.kind,
                            plural: v.plural,
                            scope: v.scope,
                            served: v.served,
                            storage: v.storage,
                            deprecated: v.deprecated,
                            ty,
                            cel_rules: cel_rules(&v.schema),
                            schema: v.schema,
                            file: doc.file.clone(),
                            line: doc.line,
                        });
                    }
                }
                Err((message, help)) => problems.push(Problem {
                    file: doc.file.clone(),
                    line: doc.line,
                    message,
                    help,
                }),
            }
        }
        versions
            .sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
        (
            CrdSet {
                schema: b.schema,
                versions,
            },
            problems,
        )
    }

    /// The version with this `apiVersion` and `kind`.
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&CrdVersion> {
        self.versions
            .iter()
            .find(|v| v.kind == kind && v.api_version() == api_version)
    }

    /// The version whose top-level type is `ty`.
    pub fn by_type(&self, ty: TypeId) -> Option<&CrdVersion> {
        self.versions.iter().find(|v| v.ty == ty)
    }

    /// The versions of the kind `kind` of `group`.
    pub fn kind_versions(&self, group: &str, kind: &str) -> Vec<&CrdVersion> {
        self.versions
            .iter()
            .filter(|v| v.group == group && v.kind == kind)
            .collect()
    }
}

/// What one CRD document declares, per version.
struct Declared {
    group: String,
    version: String,
    kind: String,
    plural: String,
    scope: String,
    served: bool,
    storage: bool,
    deprecated: Option<String>,
    schema: Json,
}

type Refusal = (String, String);

fn refuse(message: impl Into<String>, help: impl Into<String>) -> Refusal {
    (message.into(), help.into())
}

/// Reads the versions a CRD document declares.
fn crd_versions(doc: &Document) -> Result<Vec<Declared>, Refusal> {
    let j = &doc.json;
    let Some(obj) = j.as_object() else {
        return Err(refuse(
            "this document is not a mapping",
            "a CRD file holds CustomResourceDefinition objects, separated by `---`",
        ));
    };
    let av = obj.get("apiVersion").and_then(Json::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Json::as_str).unwrap_or("");
    if kind != "CustomResourceDefinition" || !av.starts_with("apiextensions.k8s.io/") {
        let what = if kind.is_empty() {
            "an object without `kind`".to_string()
        } else {
            format!("a {kind} ({av})")
        };
        return Err(refuse(
            format!("this document is {what}, not a CustomResourceDefinition"),
            "list only CRD files in `[crds] paths` (apiextensions.k8s.io/v1 CustomResourceDefinition)",
        ));
    }
    let spec = j.get("spec").and_then(Json::as_object).ok_or_else(|| {
        refuse(
            "the CustomResourceDefinition has no `spec`",
            "is the file complete?",
        )
    })?;
    let s = |v: Option<&Json>| v.and_then(Json::as_str).map(str::to_string);
    let group = s(spec.get("group"))
        .filter(|g| !g.is_empty())
        .ok_or_else(|| {
            refuse(
                "the CustomResourceDefinition has no `spec.group`",
                "is the file complete?",
            )
        })?;
    let names = spec.get("names");
    let kind = s(names.and_then(|n| n.get("kind")))
        .filter(|k| is_ident(k))
        .ok_or_else(|| {
            refuse(
                "the CustomResourceDefinition has no valid `spec.names.kind`",
                "`spec.names.kind` is a CamelCase name such as `ServiceMonitor`",
            )
        })?;
    let plural = s(names.and_then(|n| n.get("plural"))).unwrap_or_default();
    let scope = s(spec.get("scope")).unwrap_or_else(|| "Namespaced".into());
    let shared = spec
        .get("validation")
        .and_then(|v| v.get("openAPIV3Schema"))
        .cloned();
    let mut out = Vec::new();
    let versions = spec.get("versions").and_then(Json::as_array);
    match versions {
        Some(list) if !list.is_empty() => {
            for v in list {
                let name = s(v.get("name")).filter(|n| is_ident(n)).ok_or_else(|| {
                    refuse(
                        format!("a version of {kind} has no valid `name`"),
                        "version names look like `v1`, `v1beta1`",
                    )
                })?;
                let schema = v
                    .get("schema")
                    .and_then(|s| s.get("openAPIV3Schema"))
                    .cloned()
                    .or_else(|| shared.clone())
                    .unwrap_or_else(|| serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
                let deprecated =
                    (v.get("deprecated").and_then(Json::as_bool) == Some(true)).then(|| {
                        s(v.get("deprecationWarning"))
                            .unwrap_or_else(|| format!("{group}/{name} {kind} is deprecated"))
                    });
                out.push(Declared {
                    group: group.clone(),
                    version: name,
                    kind: kind.clone(),
                    plural: plural.clone(),
                    scope: scope.clone(),
                    served: v.get("served").and_then(Json::as_bool).unwrap_or(true),
                    storage: v.get("storage").and_then(Json::as_bool).unwrap_or(false),
                    deprecated,
                    schema,
                });
            }
        }
        _ => {
            // apiextensions v1beta1: one `spec.version`.
            let name = s(spec.get("version"))
                .filter(|n| is_ident(n))
                .ok_or_else(|| {
                    refuse(
                        format!("{kind} declares no versions"),
                        "a CRD lists its versions in `spec.versions`",
                    )
                })?;
            out.push(Declared {
                group: group.clone(),
                version: name,
                kind: kind.clone(),
                plural,
                scope,
                served: true,
                storage: true,
                deprecated: None,
                schema: shared.unwrap_or_else(|| {
                    serde_json::json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
                }),
            });
        }
    }
    Ok(out)
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|c| c.is_ascii_alphabetic())
        && c.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every CEL rule in a schema, in document order.
fn cel_rules(node: &Json) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(n: &Json, out: &mut Vec<String>) {
        match n {
            Json::Object(o) => {
                for (k, v) in o {
                    if k == "x-kubernetes-validations" {
                        for r in v.as_array().into_iter().flatten() {
                            if let Some(rule) = r.get("rule").and_then(Json::as_str) {
                                out.push(rule.to_string());
                            }
                        }
                    } else {
                        walk(v, out);
                    }
                }
            }
            Json::Array(a) => a.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(node, &mut out);
    out
}

struct Builder {
    schema: Schema,
    names: HashSet<String>,
    /// `apiVersion` of the kind being built (for the types' display names).
    api_version: String,
}

/// `tlsConfig` → `TlsConfig`.
fn pascal(name: &str) -> String {
    let mut out = String::new();
    let mut up = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if up {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            up = false;
        } else {
            up = true;
        }
    }
    out
}

fn description(node: &Json) -> String {
    node.get("description")
        .and_then(Json::as_str)
        .unwrap_or("")
        .to_string()
}

fn flag(node: &Json, key: &str) -> bool {
    node.get(key).and_then(Json::as_bool) == Some(true)
}

impl Builder {
    fn top_level(&mut self, v: &Declared) -> TypeId {
        let meta = crate::k8s::k8s()
            .schema
            .by_path("k8s.meta.v1.ObjectMeta")
            .expect("ObjectMeta is in every Kubernetes schema")
            .id;
        let ns = format!("crd.{}.{}", group_ident(&v.group), v.version);
        let gvk = Gvk {
            group: v.group.clone(),
            version: v.version.clone(),
            kind: v.kind.clone(),
        };
        self.api_version = gvk.api_version();
        let mut fields = vec![
            Field {
                name: "apiVersion".into(),
                ty: FieldType::String { enum_values: None },
                description: format!("`{}` (set by the constructor).", gvk.api_version()).into(),
                required: false,
                rules: Default::default(),
            },
            Field {
                name: "kind".into(),
                ty: FieldType::String { enum_values: None },
                description: format!("`{}` (set by the constructor).", v.kind).into(),
                required: false,
                rules: Default::default(),
            },
            Field {
                name: "metadata".into(),
                ty: FieldType::Message(meta),
                description: "Standard object metadata (Kubernetes' ObjectMeta).".into(),
                required: false,
                rules: Default::default(),
            },
        ];
        let required = required_set(&v.schema);
        // A schema that keeps unknown fields at the top (or a CRD without a schema) still
        // has the usual `spec` and `status`, free-form.
        if flag(&v.schema, "x-kubernetes-preserve-unknown-fields") {
            for name in ["spec", "status"] {
                let declared = v.schema.get("properties").and_then(|p| p.get(name));
                if declared.is_none() {
                    fields.push(Field {
                        name: name.into(),
                        ty: FieldType::Json,
                        description: "Free-form: the CRD's schema keeps unknown fields.".into(),
                        required: false,
                        rules: Default::default(),
                    });
                }
            }
        }
        if let Some(props) = v.schema.get("properties").and_then(Json::as_object) {
            for (name, node) in props {
                if matches!(name.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let ty = self.field_type(node, &ns, &format!("{}{}", v.kind, pascal(name)), 1);
                fields.push(Field {
                    name: name.clone().into(),
                    ty,
                    description: description(node).into(),
                    required: required.contains(name.as_str()),
                    rules: Default::default(),
                });
            }
        }
        let name = format!("{}/{}.{}", v.group, v.version, v.kind);
        let (id, _) = self.schema.reserve(&name);
        self.names.insert(format!("{ns}.{}", v.kind));
        let mut desc = description(&v.schema);
        if desc.is_empty() {
            desc = format!("A {} custom resource ({}).", v.kind, gvk.api_version());
        }
        self.schema.fill(MessageType::new(
            id,
            name,
            format!("{ns}.{}", v.kind),
            format!("{} {}", gvk.api_version(), v.kind),
            desc,
            fields,
            Some(gvk),
        ));
        id
    }

    fn field_type(&mut self, node: &Json, ns: &str, hint: &str, depth: usize) -> FieldType {
        if depth > MAX_DEPTH || !node.is_object() {
            return FieldType::Json;
        }
        if flag(node, "x-kubernetes-int-or-string") {
            return FieldType::IntOrString;
        }
        if flag(node, "x-kubernetes-preserve-unknown-fields") {
            return FieldType::Json;
        }
        match node.get("type").and_then(Json::as_str) {
            Some("object") => {
                let props = node.get("properties").and_then(Json::as_object);
                if let Some(props) = props.filter(|p| !p.is_empty()) {
                    return FieldType::Message(self.message(node, props, ns, hint, depth));
                }
                if flag(node, "x-kubernetes-embedded-resource") {
                    return FieldType::Json;
                }
                match node.get("additionalProperties") {
                    Some(Json::Bool(true)) => FieldType::Map(Box::new(FieldType::Json)),
                    Some(ap @ Json::Object(_)) => {
                        FieldType::Map(Box::new(self.field_type(ap, ns, hint, depth + 1)))
                    }
                    // Kubernetes prunes every field of an object without properties.
                    _ => {
                        FieldType::Message(self.message(node, &Default::default(), ns, hint, depth))
                    }
                }
            }
            Some("array") => match node.get("items") {
                Some(items) => {
                    FieldType::List(Box::new(self.field_type(items, ns, hint, depth + 1)))
                }
                None => FieldType::List(Box::new(FieldType::Json)),
            },
            Some("string") => {
                let enum_values = node.get("enum").and_then(Json::as_array).and_then(|e| {
                    e.iter()
                        .map(|v| v.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                });
                FieldType::String { enum_values }
            }
            Some("integer") => FieldType::Int {
                bits: if node.get("format").and_then(Json::as_str) == Some("int32") {
                    32
                } else {
                    64
                },
            },
            Some("number") => FieldType::Number,
            Some("boolean") => FieldType::Bool,
            _ => FieldType::Json,
        }
    }

    fn message(
        &mut self,
        node: &Json,
        props: &serde_json::Map<String, Json>,
        ns: &str,
        hint: &str,
        depth: usize,
    ) -> TypeId {
        let mut short = hint.to_string();
        let mut n = 2;
        while self.names.contains(&format!("{ns}.{short}")) {
            short = format!("{hint}{n}");
            n += 1;
        }
        let path = format!("{ns}.{short}");
        self.names.insert(path.clone());
        let (id, _) = self.schema.reserve(&path);
        let required = required_set(node);
        let fields = props
            .iter()
            .map(|(name, p)| Field {
                name: name.clone().into(),
                ty: self.field_type(p, ns, &format!("{short}{}", pascal(name)), depth + 1),
                description: description(p).into(),
                required: required.contains(name.as_str()),
                rules: Default::default(),
            })
            .collect();
        self.schema.fill(MessageType::new(
            id,
            path.clone(),
            path,
            format!("{} {short}", self.api_version),
            description(node),
            fields,
            None,
        ));
        id
    }
}

fn required_set(node: &Json) -> HashSet<&str> {
    node.get("required")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default()
}

static NEXT: AtomicU16 = AtomicU16::new(FIRST_ID);
/// The most schemas a process can have: as many as a type id's 12 bits of schema.
const MAX_SETS: usize = 1 << 12;
#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: OnceLock<&'static CrdSet> = OnceLock::new();
static SETS: [OnceLock<&'static CrdSet>; MAX_SETS] = [EMPTY; MAX_SETS];

/// An id for a new set, or `None` when a process has registered 4,094 sets already (an
/// editor session that edited its CRD files that often).
pub fn next_id() -> Option<SchemaId> {
    let n = NEXT
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
            ((n as usize) < MAX_SETS).then_some(n + 1)
        })
        .ok()?;
    Some(SchemaId(n))
}

/// Makes the set's types reachable by id for the rest of the process.
pub fn register(set: CrdSet) -> &'static CrdSet {
    let id = set.schema.source();
    let set: &'static CrdSet = Box::leak(Box::new(set));
    let slot = &SETS[id.0 as usize];
    assert!(slot.set(set).is_ok(), "{id:?} is registered twice");
    set
}

/// The set registered as `id`.
pub fn registered(id: SchemaId) -> Option<&'static CrdSet> {
    SETS.get(id.0 as usize)?.get().copied()
}
