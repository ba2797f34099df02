//! `skyc import`: Kubernetes YAML (multi-document streams, `List`s, any built-in kind) and the
//! legacy cron YAML format (`name`, `owner`, `schedule`, `disabled`, `command`) into readable
//! `.sky` source.
//!
//! Objects that a stdlib function generates exactly (`service`, `worker`, `cron_job`, `job`)
//! become a call of that function; everything else becomes a typed constructor call. The
//! contract — rendering the imported file gives back the same objects — is checked on every
//! import: the generated source is compiled and its objects compared with the input's
//! canonical form (SKY0709 if they ever differ). Input that cannot be represented is a coded
//! diagnostic at its YAML line, never dropped.

mod infer;
mod printer;
pub mod yaml;

use crate::world::MemoryWorld;
use crate::Options;
use printer::Comments;
use serde_json::{Map, Value as Json};
use skyc_diag::{codes, did_you_mean, Diagnostic, Severity, Span};
use skyc_schema::{k8s::k8s, FieldType, MessageType};
use std::fmt::Write as _;
use yaml::{Node, Value};

/// One YAML file to import.
pub struct Input<'a> {
    /// The name diagnostics show (as the user gave it).
    pub name: &'a str,
    pub text: &'a str,
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// The image of legacy cron entries (they name none).
    pub image: Option<String>,
    /// Only typed constructors: do not look for stdlib functions that generate the objects.
    pub no_stdlib: bool,
    /// Keep the fields the API server sets (`status`, `metadata.uid`, …), as in the output of
    /// `kubectl get -o yaml`; by default they are dropped, with a warning (SKY0711).
    pub keep_server_fields: bool,
    /// The project's CRDs: custom resources of these kinds become `crd.…` constructor calls.
    pub crds: Option<std::sync::Arc<crate::CrdIndex>>,
}

/// The result: the `.sky` source (empty when there are errors) and the diagnostics.
#[derive(Debug, Default)]
pub struct Imported {
    pub source: String,
    pub diagnostics: Vec<Diagnostic>,
    /// How many objects the source renders, and how many of them come from stdlib calls.
    pub objects: usize,
    pub from_stdlib: usize,
}

/// The image the imported source uses for legacy cron entries when none was given.
pub const PLACEHOLDER_IMAGE: &str = "registry.example.com/cron-runner:set-me";

/// One thing the generated `main` returns.
enum Item {
    /// A Kubernetes object, as a typed constructor call.
    Object(Obj),
    /// A legacy cron entry, as `cron_job(...)`.
    Cron(Node),
    /// A stdlib call replacing `objects`.
    Call(infer::Call),
}

struct Obj {
    ty: &'static MessageType,
    node: Node,
    /// Canonical JSON (as `skyc render` emits it).
    json: Json,
}

/// Imports the files; the library never touches the disk (the CLI reads them).
pub fn import(inputs: &[Input], opts: &ImportOptions) -> Imported {
    let mut diags = Vec::new();
    // Items of every file, each with the comments of its file.
    let mut files: Vec<(String, Vec<Item>, Comments, Vec<yaml::Comment>)> = Vec::new();
    for input in inputs {
        let stream = match yaml::parse(input.text) {
            Ok(s) => s,
            Err(e) => {
                let code = match e.kind {
                    yaml::ErrorKind::Syntax => codes::SKY0701,
                    yaml::ErrorKind::DuplicateKey => codes::SKY0706,
                    yaml::ErrorKind::Unsupported => codes::SKY0708,
                };
                let help = match e.kind {
                    yaml::ErrorKind::Syntax if e.message.contains("anchor") => {
                        "define the anchor (`&name`) earlier in the same document; anchors do not reach across `---`"
                    }
                    yaml::ErrorKind::Syntax => "fix the YAML syntax at this position",
                    yaml::ErrorKind::DuplicateKey => {
                        "kubectl refuses duplicate keys; keep the one you mean"
                    }
                    yaml::ErrorKind::Unsupported => {
                        "write the value out as plain YAML (no custom tags or complex keys)"
                    }
                };
                diags.push(
                    Diagnostic::new(code, e.message)
                        .with_span(span(input, e.pos.byte, e.end.byte.max(e.pos.byte + 1)))
                        .with_help(help),
                );
                continue;
            }
        };
        let mut items = Vec::new();
        for doc in &stream.documents {
            // Empty and comment-only documents (a null root) are skipped, as kubectl does.
            let Some(root) = doc.root.as_ref().filter(|r| r.value != Value::Null) else {
                continue;
            };
            classify(input, root, opts, &mut items, &mut diags);
        }
        // Comment-only documents and comments between documents are kept too.
        let all = stream.comments.clone();
        files.push((
            input.name.to_string(),
            items,
            Comments::new(stream.comments),
            all,
        ));
    }
    // What `skyc render` checks after lowering (names, labels, requests within limits, …): an
    // input that fails it cannot round-trip, and the problem is the input's, at its YAML.
    diags.extend(validate_inputs(&files, inputs));
    if diags.iter().any(Diagnostic::is_error) {
        return Imported {
            diagnostics: diags,
            ..Imported::default()
        };
    }

    // Stdlib functions where they generate exactly the objects of the input.
    if !opts.no_stdlib {
        for (_, items, _, _) in &mut files {
            infer::replace_with_calls(items);
        }
    }

    let uses_cron_yaml = files
        .iter()
        .any(|(_, items, _, _)| items.iter().any(|i| matches!(i, Item::Cron(_))));
    if uses_cron_yaml && opts.image.is_none() {
        let first = files
            .iter()
            .zip(inputs)
            .find_map(|((_, items, _, _), input)| {
                items.iter().find_map(|i| match i {
                    Item::Cron(n) => Some(span(input, n.start.byte, n.start.byte + 1)),
                    _ => None,
                })
            });
        diags.push(
            Diagnostic::new(
                codes::SKY0710,
                "cron entries name no image; the imported file uses a placeholder `IMAGE`",
            )
            .with_span_opt(first)
            .with_severity(Severity::Warning)
            .with_help("pass `--image IMAGE` (the image the old job runner used), or edit `IMAGE`"),
        );
    }

    let source = write_source(&mut files, inputs, opts);
    let expected: Vec<Json> = files
        .iter()
        .flat_map(|(_, items, _, _)| items.iter())
        .flat_map(|i| match i {
            Item::Object(o) => vec![o.json.clone()],
            Item::Call(c) => c.objects.clone(),
            Item::Cron(_) => vec![],
        })
        .collect();
    let typed = files
        .iter()
        .flat_map(|(_, items, _, _)| items.iter())
        .filter(|i| matches!(i, Item::Object(_)))
        .count();
    let count =
        match verify_round_trip_with(&source, &expected, uses_cron_yaml, opts.crds.as_deref()) {
            Ok(n) => n,
            Err(d) => {
                diags.push(d);
                0
            }
        };
    Imported {
        source: if diags.iter().any(Diagnostic::is_error) {
            String::new()
        } else {
            source
        },
        diagnostics: diags,
        objects: count,
        from_stdlib: count.saturating_sub(typed),
    }
}

fn span(input: &Input, begin: usize, end: usize) -> Span {
    Span::from_offsets(input.name, input.text, begin, end.min(input.text.len()))
}

fn node_span(input: &Input, n: &Node) -> Span {
    // A node's end may be on a later line (after a nested block); point at its first line.
    let line_end = input.text[n.start.byte..]
        .find('\n')
        .map_or(input.text.len(), |i| n.start.byte + i);
    let end = n.end.byte.min(line_end).max(n.start.byte + 1);
    span(input, n.start.byte, end)
}

fn get<'a>(n: &'a Node, key: &str) -> Option<&'a Node> {
    match &n.value {
        Value::Map(entries) => entries.iter().find(|e| e.key == key).map(|e| &e.value),
        _ => None,
    }
}

fn as_str(n: Option<&Node>) -> Option<&str> {
    match n.map(|n| &n.value) {
        Some(Value::Str(s)) => Some(s),
        _ => None,
    }
}

/// Sorts a document into objects, list items and cron entries; anything else is an error.
fn classify(
    input: &Input,
    root: &Node,
    opts: &ImportOptions,
    items: &mut Vec<Item>,
    diags: &mut Vec<Diagnostic>,
) {
    if !matches!(root.value, Value::Map(_)) {
        diags.push(
            Diagnostic::new(
                codes::SKY0702,
                "this document is not a mapping; a Kubernetes object or cron entry is one",
            )
            .with_span(node_span(input, root))
            .with_help("each document (between `---` lines) must be one object with `apiVersion` and `kind`"),
        );
        return;
    }
    let api_version = as_str(get(root, "apiVersion"));
    let kind = as_str(get(root, "kind"));
    match (api_version, kind) {
        (Some("v1"), Some("List")) => match get(root, "items").map(|n| &n.value) {
            Some(Value::Seq(list)) => {
                for item in list {
                    classify(input, item, opts, items, diags);
                }
            }
            Some(Value::Null) | None => {}
            Some(_) => diags.push(
                Diagnostic::new(codes::SKY0702, "the `items` of a List is not a list")
                    .with_span(node_span(input, get(root, "items").expect("matched")))
                    .with_help("`items` holds the objects of the List"),
            ),
        },
        (Some(av), Some(k)) => object(input, root, av, k, opts, items, diags),
        (None, None) if get(root, "schedule").is_some() || get(root, "command").is_some() => {
            cron_entry(input, root, items, diags)
        }
        _ => {
            let missing = if api_version.is_none() {
                "apiVersion"
            } else {
                "kind"
            };
            diags.push(
                Diagnostic::new(
                    codes::SKY0702,
                    format!("this document has no `{missing}`; it is not a Kubernetes object"),
                )
                .with_span(node_span(input, root))
                .with_help("a Kubernetes object has `apiVersion` and `kind`; a cron entry has `name`, `owner`, `schedule` and `command`"),
            );
        }
    }
}

fn object(
    input: &Input,
    root: &Node,
    api_version: &str,
    kind: &str,
    opts: &ImportOptions,
    items: &mut Vec<Item>,
    diags: &mut Vec<Diagnostic>,
) {
    let mut stripped;
    let root = if opts.keep_server_fields {
        root
    } else {
        stripped = root.clone();
        let dropped = strip_server_fields(&mut stripped);
        if let Some((_, first)) = dropped.first() {
            let names: Vec<&str> = dropped.iter().map(|(n, _)| n.as_str()).collect();
            let name = as_str(get(root, "metadata").and_then(|m| get(m, "name"))).unwrap_or("?");
            diags.push(
                Diagnostic::new(
                    codes::SKY0711,
                    format!(
                        "{kind} `{name}`: dropped what the API server sets: {}",
                        names.join(", ")
                    ),
                )
                .with_severity(Severity::Warning)
                .with_span(span(input, first.byte, first.byte + 1))
                .with_help("this looks like `kubectl get -o yaml` output; pass --keep-server-fields to keep these fields"),
            );
        }
        &stripped
    };
    let schema = &k8s().schema;
    let builtin = schema.by_kind(api_version, kind);
    let custom = match builtin {
        None => opts
            .crds
            .as_ref()
            .and_then(|index| index.by_kind(api_version, kind)),
        Some(_) => None,
    };
    let Some(ty) = builtin.or_else(|| custom.map(|v| skyc_schema::lookup(v.ty))) else {
        let at = get(root, "kind").unwrap_or(root);
        let kinds: Vec<String> = schema
            .kinds()
            .iter()
            .filter_map(|t| t.gvk.as_ref())
            .filter(|g| g.kind == kind)
            .map(|g| g.api_version())
            .collect();
        let help = if kinds.is_empty() && opts.crds.is_some() {
            "the project's CRDs (`[crds] paths` in sky.toml) do not declare it either".to_string()
        } else if kinds.is_empty() {
            "skyc imports the built-in kinds of Kubernetes, and custom resources whose CRD the project declares (`[crds] paths` in sky.toml)".to_string()
        } else {
            format!("`{kind}` is served as apiVersion {}", kinds.join(", "))
        };
        diags.push(
            Diagnostic::new(
                codes::SKY0703,
                format!("`{api_version}` `{kind}` is not a built-in Kubernetes kind"),
            )
            .with_span(node_span(input, at))
            .with_help(help),
        );
        return;
    };
    let before = diags.len();
    check_message(input, root, ty, "", diags);
    if diags.len() > before {
        return;
    }
    let mut node = root.clone();
    quantities_as_text(&mut node, &FieldType::Message(ty.id));
    let json = to_json(&node);
    if let Some(v) = custom {
        custom_resource(input, root, node, v, json, items, diags);
        return;
    }
    match k8s().lower(ty.id, json) {
        Some(Ok(json)) => items.push(Item::Object(Obj {
            ty,
            node,
            json: crate::lower::conventional_order(json),
        })),
        Some(Err(e)) => diags.push(
            Diagnostic::new(
                codes::SKY0705,
                format!("{} does not fit the Kubernetes schema: {e}", ty.display),
            )
            .with_span(node_span(input, root))
            .with_help("fix the value the message names"),
        ),
        None => diags.push(
            Diagnostic::new(
                codes::SKY0703,
                format!("{} cannot be rendered as a top-level object", ty.display),
            )
            .with_span(node_span(input, root))
            .with_help("import only top-level kinds"),
        ),
    }
}

/// A custom resource, checked against its CRD version's schema (the problems at their YAML
/// lines, with the codes `skyc render` gives them) and in the form `skyc render` writes it.
fn custom_resource(
    input: &Input,
    root: &Node,
    node: Node,
    v: &'static skyc_schema::crd::CrdVersion,
    mut json: Json,
    items: &mut Vec<Item>,
    diags: &mut Vec<Diagnostic>,
) {
    use skyc_schema::crd::FindingKind;
    let ty = skyc_schema::lookup(v.ty);
    let before = diags.len();
    for f in skyc_schema::crd::validate(&v.schema, &json) {
        let code = match f.kind {
            FindingKind::WrongType => codes::SKY0705,
            FindingKind::UnknownField => codes::SKY0704,
            FindingKind::Enum => codes::SKY0205,
            FindingKind::Required => codes::SKY0206,
            FindingKind::Constraint => codes::SKY0414,
        };
        let message = match f.kind {
            FindingKind::Required => {
                format!("{} is missing required field `{}`", ty.display, f.path)
            }
            _ => f.message,
        };
        // A missing field is reported at the object that lacks it.
        let at = node_at(root, &f.path);
        diags.push(
            Diagnostic::new(code, format!("{}: {message}", ty.display))
                .with_span(node_span(input, at))
                .with_field_path(&f.path)
                .with_help(f.help),
        );
    }
    if !v.served {
        diags.push(
            Diagnostic::new(
                codes::SKY0416,
                format!(
                    "{} is not served: its CRD declares `served: false`",
                    ty.display
                ),
            )
            .with_span(node_span(input, get(root, "apiVersion").unwrap_or(root)))
            .with_help("import objects of a served version"),
        );
    }
    if diags.len() > before {
        return;
    }
    if let Some(meta) = json.get_mut("metadata") {
        match skyc_schema::k8s::lower_object_meta(std::mem::take(meta)) {
            Ok(m) => *meta = m,
            Err(e) => {
                diags.push(
                    Diagnostic::new(
                        codes::SKY0705,
                        format!(
                            "the metadata of {} is not a valid ObjectMeta: {e}",
                            ty.display
                        ),
                    )
                    .with_span(node_span(input, get(root, "metadata").unwrap_or(root)))
                    .with_help("fix the value the message names"),
                );
                return;
            }
        }
    }
    let json = crate::lower::conventional_order(schema_order(&FieldType::Message(ty.id), json));
    items.push(Item::Object(Obj { ty, node, json }));
}

/// `json` with the fields of every message in it in schema order, as rendering writes a
/// message (free-form values and maps keep their order).
fn schema_order(ty: &FieldType, json: Json) -> Json {
    match (ty, json) {
        (FieldType::Message(id), Json::Object(mut obj)) => {
            let t = skyc_schema::lookup(*id);
            let mut out = Map::new();
            for f in &t.fields {
                if let Some(v) = obj.shift_remove(&*f.name) {
                    out.insert(f.name.to_string(), schema_order(&f.ty, v));
                }
            }
            out.extend(obj);
            Json::Object(out)
        }
        (FieldType::List(item), Json::Array(a)) => {
            Json::Array(a.into_iter().map(|x| schema_order(item, x)).collect())
        }
        (FieldType::Map(item), Json::Object(o)) => Json::Object(
            o.into_iter()
                .map(|(k, x)| (k, schema_order(item, x)))
                .collect(),
        ),
        (_, json) => json,
    }
}

/// Fields the API server sets on an object; they describe its state in one cluster, not
/// the configuration (`metadata.uid`, `status`, kubectl's last-applied annotation, …).
const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
];
const SERVER_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// Removes the entries of `entries` whose key is in `keys`, recording each as `name(key)`.
fn drop_keys(
    entries: &mut Vec<yaml::Entry>,
    keys: &[&str],
    name: impl Fn(&str) -> String,
    dropped: &mut Vec<(String, yaml::Pos)>,
) {
    entries.retain(|e| {
        let server = keys.contains(&e.key.as_str());
        if server {
            dropped.push((name(&e.key), e.key_pos));
        }
        !server
    });
}

/// The entries of the mapping at `key` in `entries`, if it is one.
fn map_at<'a>(entries: &'a mut [yaml::Entry], key: &str) -> Option<&'a mut Vec<yaml::Entry>> {
    match &mut entries.iter_mut().find(|e| e.key == key)?.value.value {
        Value::Map(m) => Some(m),
        _ => None,
    }
}

/// Removes the server-set fields; returns what was removed and where.
fn strip_server_fields(root: &mut Node) -> Vec<(String, yaml::Pos)> {
    let mut dropped = Vec::new();
    let Value::Map(entries) = &mut root.value else {
        return dropped;
    };
    drop_keys(entries, &["status"], str::to_string, &mut dropped);
    if let Some(meta) = map_at(entries, "metadata") {
        drop_keys(
            meta,
            SERVER_METADATA,
            |k| format!("metadata.{k}"),
            &mut dropped,
        );
        if let Some(ann) = map_at(meta, "annotations") {
            let name = |k: &str| format!("metadata.annotations[{k:?}]");
            drop_keys(ann, SERVER_ANNOTATIONS, name, &mut dropped);
        }
        // An annotations map emptied by the above goes too.
        meta.retain(|e| !(e.key == "annotations" && e.value.value == Value::Map(Vec::new())));
    }
    dropped.sort_by_key(|(_, p)| *p);
    dropped
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Unknown fields and values of the wrong type, at their YAML lines.
fn check_message(
    input: &Input,
    n: &Node,
    ty: &MessageType,
    path: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let Value::Map(entries) = &n.value else {
        return;
    };
    for e in entries {
        let field_path = join(path, &e.key);
        if path.is_empty() && (e.key == "apiVersion" || e.key == "kind") {
            continue;
        }
        match ty.field(&e.key) {
            Some((_, f)) => check_value(input, &e.value, &f.ty, &field_path, false, diags),
            None => {
                let names = ty.fields.iter().map(|f| &*f.name);
                let help = match did_you_mean(&e.key, names) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`skyc doc {}` lists the fields", ty.path),
                };
                let end = e.key_pos.byte + e.key.len().max(1);
                diags.push(
                    Diagnostic::new(
                        codes::SKY0704,
                        format!("{} has no field `{}`", ty.display, e.key),
                    )
                    .with_span(span(input, e.key_pos.byte, end))
                    .with_field_path(field_path)
                    .with_help(help),
                );
            }
        }
    }
}

/// `item`: `n` is an item of a list or a value of a map, where null is not "unset" but a value
/// of the wrong type (Kubernetes would read an empty string or drop it; the render cannot).
fn check_value(
    input: &Input,
    n: &Node,
    ty: &FieldType,
    path: &str,
    item: bool,
    diags: &mut Vec<Diagnostic>,
) {
    let ok = match (&n.value, ty) {
        (Value::Null, _) if !item => true,
        (_, FieldType::Json) => true,
        (Value::Map(_), FieldType::Message(id)) => {
            check_message(input, n, skyc_schema::lookup(*id), path, diags);
            true
        }
        (Value::Seq(items), FieldType::List(t)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(input, item, t, &format!("{path}[{i}]"), true, diags);
            }
            true
        }
        (Value::Map(entries), FieldType::Map(t)) => {
            for e in entries {
                check_value(
                    input,
                    &e.value,
                    t,
                    &format!("{path}[{:?}]", e.key),
                    true,
                    diags,
                );
            }
            true
        }
        (
            Value::Str(s),
            FieldType::String {
                enum_values: Some(allowed),
            },
        ) if !allowed.iter().any(|a| a == s) => {
            let list = allowed
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let help = match did_you_mean(s, allowed.iter().map(String::as_str)) {
                Some(m) => format!("did you mean `{m}`? allowed: {list}"),
                None => format!("allowed values: {list}"),
            };
            diags.push(
                Diagnostic::new(
                    codes::SKY0205,
                    format!("`{s}` is not a valid value of `{path}`"),
                )
                .with_span(node_span(input, n))
                .with_field_path(path)
                .with_help(help),
            );
            true
        }
        (Value::Str(_), FieldType::String { .. } | FieldType::Time | FieldType::Bytes) => true,
        (Value::Str(_), FieldType::Duration) => true,
        (Value::Int(_), FieldType::Int { .. } | FieldType::UInt { .. }) => true,
        (Value::Int(_) | Value::Float(_), FieldType::Number) => true,
        (Value::Bool(_), FieldType::Bool) => true,
        (Value::Str(_) | Value::Int(_) | Value::Float(_), FieldType::Quantity) => {
            let text = match &n.value {
                Value::Str(s) => s.clone(),
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                _ => unreachable!("matched"),
            };
            if let Err(e) = skyc_schema::parse_quantity(&text) {
                diags.push(
                    Diagnostic::new(codes::SKY0207, e.to_string())
                        .with_span(node_span(input, n))
                        .with_field_path(path)
                        .with_help("examples: `500m`, `2`, `128Mi`, `16Gi`"),
                );
            }
            true
        }
        (Value::Str(_) | Value::Int(_), FieldType::IntOrString) => true,
        _ => false,
    };
    if !ok {
        let got = match &n.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        };
        let help = match (&n.value, ty) {
            (Value::Bool(_), FieldType::String { .. }) => {
                "YAML reads yes/no/on/off/true/false as booleans: quote the value".to_string()
            }
            (Value::Int(_) | Value::Float(_), FieldType::String { .. }) => {
                "quote the value to make it a string".to_string()
            }
            (Value::Null, _) => {
                "an empty value in a list or map is null in YAML: write \"\" for an empty string, or remove the entry".to_string()
            }
            _ => format!("this field takes {}", ty.describe()),
        };
        diags.push(
            Diagnostic::new(
                codes::SKY0705,
                format!("`{path}` is {got}, but the field takes {}", ty.describe()),
            )
            .with_span(node_span(input, n))
            .with_field_path(path)
            .with_help(help),
        );
    }
}

/// The validation findings of the input's objects (as `skyc render` would report them for the
/// imported source), each at the YAML of the field it concerns where that can be found; and
/// cron entries whose objects (a CronJob, ServiceAccount and NetworkPolicy of their name) would
/// be defined twice.
fn validate_inputs(
    files: &[(String, Vec<Item>, Comments, Vec<yaml::Comment>)],
    inputs: &[Input],
) -> Vec<Diagnostic> {
    let items = || {
        files
            .iter()
            .zip(inputs)
            .flat_map(|((_, items, _, _), input)| items.iter().map(move |i| (input, i)))
    };
    let objs: Vec<(&Input, &Obj)> = items()
        .filter_map(|(input, i)| match i {
            Item::Object(o) => Some((input, o)),
            _ => None,
        })
        .collect();
    let lowered: Vec<crate::lower::LoweredObject> = objs
        .iter()
        .map(|(input, o)| {
            let gvk = o.ty.gvk.clone().unwrap_or_else(|| skyc_schema::Gvk {
                group: String::new(),
                version: String::new(),
                kind: String::new(),
            });
            crate::lower::LoweredObject {
                object: crate::Object::new(gvk.api_version(), gvk.kind, &o.json, Vec::new()),
                ty: o.ty.id,
                span: Some(node_span(input, &o.node)),
                json: o.json.clone(),
                origins: Default::default(),
            }
        })
        .collect();
    let mut out = crate::validate::validate(&lowered);
    // Required fields, as lowering checks them (`objs` and `lowered` are in the same order), in
    // the YAML as written: the canonical JSON has defaults for some (an empty `name`).
    for ((_, o), l) in objs.iter().zip(&lowered) {
        out.extend(crate::lower::missing_required(
            o.ty.id,
            &to_json(&o.node),
            |_| l.span.clone(),
        ));
    }
    for l in &lowered {
        if let Some(value) = crate::clusters::annotation(&l.json) {
            for p in crate::clusters::check(value, &[]) {
                out.push(
                    Diagnostic::new(p.code, p.message)
                        .with_span_opt(l.span.clone())
                        .with_field_path(crate::clusters::FIELD_PATH)
                        .with_help(p.help),
                );
            }
        }
    }
    // Narrow each finding from its object to the YAML node of its field path.
    for d in &mut out {
        let (Some(span), Some(path)) = (&d.span, &d.field_path) else {
            continue;
        };
        let obj = objs
            .iter()
            .find(|(input, o)| o.node.start.byte == span.begin && span.file == input.name);
        if let Some((input, o)) = obj {
            d.span = Some(node_span(input, node_at(&o.node, path)));
        }
    }
    // `cron_job` makes a CronJob, a ServiceAccount and a NetworkPolicy named after the entry,
    // in no namespace.
    let mut taken: Vec<(String, Span)> = lowered
        .iter()
        .filter(|l| {
            l.object.namespace.is_none()
                && ["CronJob", "ServiceAccount", "NetworkPolicy"].contains(&l.object.kind.as_str())
        })
        .filter_map(|l| Some((l.object.name.clone(), l.span.clone()?)))
        .collect();
    for (input, item) in items() {
        let Item::Cron(n) = item else {
            continue;
        };
        let Some((name_node, name)) = get(n, "name").and_then(|v| Some((v, as_str(Some(v))?)))
        else {
            continue;
        };
        let here = node_span(input, name_node);
        match taken.iter().find(|(t, _)| t == name) {
            Some((_, first)) => out.push(
                Diagnostic::new(
                    codes::SKY0406,
                    format!("cron job `{name}` is defined twice"),
                )
                .with_span(here)
                .with_secondary(first.clone(), "first defined here")
                .with_help("rename one of them or remove the duplicate"),
            ),
            None => taken.push((name.to_string(), here)),
        }
    }
    out
}

/// The node at a field path (`spec.template.spec.containers[0]`, `metadata.labels["app"]`), or
/// the deepest node on the way that exists.
fn node_at<'a>(root: &'a Node, path: &str) -> &'a Node {
    use crate::lower::Step;
    let mut cur = root;
    for step in crate::lower::steps(path) {
        let next = match (&step, &cur.value) {
            (Step::Field(name), _) => get(cur, name),
            (Step::Key(key), _) => get(cur, key),
            (Step::Index(i), Value::Seq(items)) => items.get(*i),
            (Step::Index(_), _) => None,
        };
        match next {
            Some(n) => cur = n,
            None => break,
        }
    }
    cur
}

/// Makes YAML floats where a quantity is expected (`cpu: 0.5`, which kubectl reads as a
/// quantity) strings, as the quantity is written in Starlark: a float is no quantity there.
fn quantities_as_text(n: &mut Node, ty: &FieldType) {
    match (&mut n.value, ty) {
        (Value::Float(f), FieldType::Quantity) => n.value = Value::Str(f.to_string()),
        (Value::Map(entries), FieldType::Message(id)) => {
            let t = skyc_schema::lookup(*id);
            for e in entries {
                if let Some((_, f)) = t.field(&e.key) {
                    quantities_as_text(&mut e.value, &f.ty);
                }
            }
        }
        (Value::Map(entries), FieldType::Map(t)) => {
            for e in entries {
                quantities_as_text(&mut e.value, t);
            }
        }
        (Value::Seq(items), FieldType::List(t)) => {
            for item in items {
                quantities_as_text(item, t);
            }
        }
        _ => {}
    }
}

/// The node as JSON; nulls (absent fields in Kubernetes) are left out.
fn to_json(n: &Node) -> Json {
    match &n.value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::String(s.clone()),
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut m = Map::new();
            for e in entries {
                if e.value.value != Value::Null {
                    m.insert(e.key.clone(), to_json(&e.value));
                }
            }
            Json::Object(m)
        }
    }
}

const CRON_KEYS: &[&str] = &["name", "owner", "schedule", "disabled", "command"];

/// A legacy cron entry: the five keys, checked here so errors point at the YAML.
fn cron_entry(input: &Input, root: &Node, items: &mut Vec<Item>, diags: &mut Vec<Diagnostic>) {
    let before = diags.len();
    let Value::Map(entries) = &root.value else {
        return;
    };
    for e in entries {
        if !CRON_KEYS.contains(&e.key.as_str()) {
            let help = match did_you_mean(&e.key, CRON_KEYS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("a cron entry has {}", CRON_KEYS.join(", ")),
            };
            diags.push(
                Diagnostic::new(
                    codes::SKY0707,
                    format!("a cron entry has no key `{}`", e.key),
                )
                .with_span(span(
                    input,
                    e.key_pos.byte,
                    e.key_pos.byte + e.key.len().max(1),
                ))
                .with_help(help),
            );
        }
    }
    for key in ["name", "owner", "schedule", "command"] {
        if get(root, key).is_none() {
            diags.push(
                Diagnostic::new(codes::SKY0707, format!("this cron entry has no `{key}`"))
                    .with_span(node_span(input, root))
                    .with_help(format!(
                        "a cron entry needs {}",
                        ["name", "owner", "schedule", "command"].join(", ")
                    )),
            );
        }
    }
    let want = |key: &str, ok: bool, what: &str, diags: &mut Vec<Diagnostic>| {
        if let Some(n) = get(root, key) {
            if !ok {
                diags.push(
                    Diagnostic::new(
                        codes::SKY0707,
                        format!("the cron entry's `{key}` is not {what}"),
                    )
                    .with_span(node_span(input, n))
                    .with_help(format!("`{key}` takes {what}")),
                );
            }
        }
    };
    let is_str = |k: &str| matches!(get(root, k).map(|n| &n.value), Some(Value::Str(_)));
    want("name", is_str("name"), "a string", diags);
    want("owner", is_str("owner"), "a string", diags);
    want("schedule", is_str("schedule"), "a string", diags);
    want(
        "disabled",
        matches!(
            get(root, "disabled").map(|n| &n.value),
            Some(Value::Bool(_))
        ),
        "true or false",
        diags,
    );
    let command_ok = match get(root, "command").map(|n| &n.value) {
        Some(Value::Seq(items)) => {
            !items.is_empty() && items.iter().all(|i| matches!(i.value, Value::Str(_)))
        }
        _ => false,
    };
    want("command", command_ok, "a non-empty list of strings", diags);
    if let (Some(n), Some(s)) = (get(root, "schedule"), as_str(get(root, "schedule"))) {
        if let Err(why) = crate::cron::check_schedule(s) {
            diags.push(
                Diagnostic::new(codes::SKY0409, format!("invalid schedule `{s}`: {why}"))
                    .with_span(node_span(input, n))
                    .with_help("five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\""),
            );
        }
    }
    if let (Some(n), Some(s)) = (get(root, "name"), as_str(get(root, "name"))) {
        if s.len() > 52 {
            diags.push(
                Diagnostic::new(
                    codes::SKY0410,
                    format!("the cron job name `{s}` has {} characters; CronJobs with names longer than 52 never schedule", s.len()),
                )
                .with_span(node_span(input, n))
                .with_help("shorten the name to 52 characters or fewer"),
            );
        } else if let Err(why) = crate::validate::dns_label(s) {
            // It names the CronJob and its container, which takes a DNS label.
            diags.push(
                Diagnostic::new(
                    codes::SKY0401,
                    format!("invalid cron job name `{s}`: {why}"),
                )
                .with_span(node_span(input, n))
                .with_help("use lowercase letters, digits and '-'"),
            );
        }
    }
    if let (Some(n), Some(s)) = (get(root, "owner"), as_str(get(root, "owner"))) {
        // It becomes the `owner` label.
        if let Err(why) = crate::validate::label_value(s) {
            diags.push(
                Diagnostic::new(codes::SKY0402, format!("invalid owner `{s}`: {why}"))
                    .with_span(node_span(input, n))
                    .with_help(
                        "the owner becomes a label value: at most 63 characters of [A-Za-z0-9_.-]",
                    ),
            );
        }
    }
    if diags.len() == before {
        items.push(Item::Cron(root.clone()));
    }
}

/// The whole `.sky` file.
fn write_source(
    files: &mut [(String, Vec<Item>, Comments, Vec<yaml::Comment>)],
    inputs: &[Input],
    opts: &ImportOptions,
) -> String {
    let mut loads: Vec<(&str, &str)> = Vec::new();
    let mut has_cron = false;
    for (_, items, _, _) in files.iter() {
        for i in items {
            match i {
                Item::Cron(_) => {
                    has_cron = true;
                    loads.push(("service.sky", "cron_job"));
                }
                Item::Call(c) => loads.push((c.module, c.function)),
                Item::Object(_) => {}
            }
        }
    }
    loads.sort();
    loads.dedup();
    let names: Vec<&str> = inputs.iter().map(|i| i.name).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `skyc import` from {}.",
        names.join(", ")
    );
    out.push_str(
        "# Rendering this file gives back the objects of the YAML (checked when it was imported).\n",
    );
    out.push('\n');
    let mut modules: Vec<&str> = loads.iter().map(|(m, _)| *m).collect();
    modules.dedup();
    for m in &modules {
        let fns: Vec<String> = loads
            .iter()
            .filter(|(mm, _)| mm == m)
            .map(|(_, f)| printer::string(f))
            .collect();
        let _ = writeln!(out, "load(\"@stdlib//{m}\", {})", fns.join(", "));
    }
    if !modules.is_empty() {
        out.push('\n');
    }
    if has_cron {
        match &opts.image {
            Some(image) => {
                out.push_str("# The image the cron jobs run in.\n");
                let _ = writeln!(out, "IMAGE = {}", printer::string(image));
            }
            None => {
                out.push_str(
                    "# The old job runner named no image: set the one your jobs run in.\n",
                );
                let _ = writeln!(out, "IMAGE = {}", printer::string(PLACEHOLDER_IMAGE));
            }
        }
        out.push('\n');
    }
    out.push_str("def main(ctx):\n    return [\n");
    let several = files.len() > 1;
    for (name, items, comments, _) in files.iter_mut() {
        if several {
            let _ = writeln!(out, "        # {name}");
        }
        for item in items.iter() {
            let start = match item {
                Item::Object(o) => o.node.start.line,
                Item::Cron(n) => n.start.line,
                Item::Call(c) => c.first_line,
            };
            let before = comments.take_before(start, false);
            printer::write_comments(&mut out, &before, 8);
            match item {
                Item::Object(o) => constructor(&mut out, o, comments),
                Item::Cron(n) => cron_call(&mut out, n, comments),
                Item::Call(c) => {
                    // Comments inside the objects a call replaces stay, above the call.
                    let inside = comments.take_before(c.last_line, true);
                    printer::write_comments(&mut out, &inside, 8);
                    out.push_str(&c.source);
                }
            }
        }
        let rest = comments.take_before(usize::MAX, false);
        printer::write_comments(&mut out, &rest, 8);
    }
    out.push_str("    ]\n");
    out
}

/// `k8s.apps.v1.Deployment(metadata = {...}, spec = {...}),` at indent 8.
fn constructor(out: &mut String, o: &Obj, comments: &mut Comments) {
    let _ = writeln!(out, "        {}(", o.ty.path);
    let Value::Map(entries) = &o.node.value else {
        unreachable!("objects are mappings")
    };
    // A field named like a keyword (a custom resource's `from`) cannot be a keyword argument:
    // those are passed as `**{...}`, last.
    let named = |e: &&yaml::Entry| is_identifier(&e.key);
    for e in entries.iter().filter(named) {
        if e.key == "apiVersion" || e.key == "kind" || e.value.value == Value::Null {
            continue;
        }
        let before = comments.take_before(e.key_pos.line, false);
        printer::write_comments(out, &before, 12);
        let _ = write!(out, "            {} = ", e.key);
        printer::value(out, &e.value, 12, e.key.len() + 3, comments);
        out.push(',');
        printer::finish_line(out, &e.value, comments);
    }
    let quoted: Vec<&yaml::Entry> = entries
        .iter()
        .filter(|e| !named(e) && e.value.value != Value::Null)
        .collect();
    if !quoted.is_empty() {
        out.push_str("            **{\n");
        for e in quoted {
            let before = comments.take_before(e.key_pos.line, false);
            printer::write_comments(out, &before, 16);
            let key = printer::string(&e.key);
            let _ = write!(out, "                {key}: ");
            printer::value(out, &e.value, 16, key.len() + 2, comments);
            out.push(',');
            printer::finish_line(out, &e.value, comments);
        }
        out.push_str("            }\n");
    }
    let rest = comments.take_before(o.node.end.line, false);
    printer::write_comments(out, &rest, 12);
    out.push_str("        ),\n");
}

/// Whether `name` can be a keyword argument: an identifier that is not a Starlark keyword
/// (or a word the dialect reserves).
fn is_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "load", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
        "with", "yield",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

fn cron_call(out: &mut String, n: &Node, comments: &mut Comments) {
    out.push_str("        cron_job(\n");
    let Value::Map(entries) = &n.value else {
        unreachable!("checked")
    };
    for e in entries {
        let before = comments.take_before(e.key_pos.line, false);
        printer::write_comments(out, &before, 12);
        let _ = write!(out, "            {} = ", e.key);
        printer::value(out, &e.value, 12, e.key.len() + 3, comments);
        out.push(',');
        printer::finish_line(out, &e.value, comments);
    }
    let rest = comments.take_before(n.end.line, false);
    printer::write_comments(out, &rest, 12);
    out.push_str("            image = IMAGE,\n        ),\n");
}

/// Compiles imported source and compares its objects with `expected` (canonical JSON, in
/// order). Objects of legacy cron entries (`has_cron`) have no input form: objects the source
/// adds are then not differences. Returns how many objects the source renders, or SKY0709.
pub fn verify_round_trip(
    source: &str,
    expected: &[Json],
    has_cron: bool,
) -> Result<usize, Diagnostic> {
    verify_round_trip_with(source, expected, has_cron, None)
}

/// [`verify_round_trip`] in a project with the CRD files of `crds`.
pub fn verify_round_trip_with(
    source: &str,
    expected: &[Json],
    has_cron: bool,
    crds: Option<&crate::CrdIndex>,
) -> Result<usize, Diagnostic> {
    let mut world = MemoryWorld::new([("imported.sky", source)]);
    let mut opts = Options::default();
    if let Some(index) = crds {
        for (i, (name, text)) in index.files().enumerate() {
            let base = name.rsplit('/').next().unwrap_or(name);
            world.files.insert(format!("crds/{i}_{base}"), text.clone());
        }
        let toml = "[crds]\npaths = [\"crds\"]\n";
        world
            .files
            .insert("sky.toml".into(), std::sync::Arc::from(toml));
        if let Ok(config) = crate::Config::parse("sky.toml", toml) {
            opts.config = config;
        }
    }
    let out = crate::compile(&world, "imported.sky", &opts);
    let bug = "this is a bug in `skyc import`; please report it with the YAML (`--no-stdlib` may avoid it)";
    if out.has_errors() {
        let first = out
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| format!("{}: {}", d.code, d.message))
            .unwrap_or_default();
        return Err(Diagnostic::new(
            codes::SKY0709,
            format!("the imported source does not render: {first}"),
        )
        .with_help(bug));
    }
    let got: Vec<Json> = out.objects.iter().map(crate::Object::json).collect();
    let changes = crate::diff::diff(expected, &got);
    let real: Vec<_> = changes
        .into_iter()
        .filter(|c| !(has_cron && matches!(c, crate::diff::ObjectChange::Added { .. })))
        .collect();
    if let Some(c) = real.first() {
        return Err(Diagnostic::new(
            codes::SKY0709,
            format!(
                "rendering the imported source does not give back the input: {}",
                crate::diff::render_text(std::slice::from_ref(c), false).trim_end()
            ),
        )
        .with_help(bug));
    }
    Ok(got.len())
}
