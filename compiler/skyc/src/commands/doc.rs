//! `skyc doc SYMBOL`: the documentation of a typed constructor or one of its fields, from
//! the schema (the same text `kubectl explain` shows).

use crate::Exit;
use skyc_core::schema;
use skyc_diag::did_you_mean;
use std::fmt::Write as _;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A constructor (`k8s.apps.v1.Deployment`), a field (`k8s.apps.v1.DeploymentSpec.replicas`)
    /// or a namespace prefix (`k8s.apps.v1`).
    symbol: String,
}

pub fn run(args: Args) -> Exit {
    match doc(&args.symbol) {
        Ok(text) => {
            print!("{text}");
            Exit::Ok
        }
        Err((msg, help)) => crate::usage_error(msg, Some(&help)),
    }
}

/// The documentation text for `symbol`, or an error message and a hint.
pub fn doc(symbol: &str) -> Result<String, (String, String)> {
    // The stdlib is evaluated only when a function name (no dots) or a suggestion needs it.
    let cell = std::cell::OnceCell::new();
    let functions = || cell.get_or_init(skyc_core::eval::stdlib_functions);
    if !symbol.contains('.') {
        if let Some(f) = functions().iter().find(|f| f.name == symbol) {
            return Ok(function_doc(f));
        }
    }
    // The schema the symbol's root names: Envoy's (decoded on demand) or Kubernetes'.
    let s = if skyc_schema::envoy::is_envoy_path(symbol) || symbol == "envoy" {
        &skyc_schema::envoy::envoy().schema
    } else {
        schema()
    };
    if let Some(t) = s.by_path(symbol) {
        return Ok(type_doc(t));
    }
    if let Some((parent, field)) = symbol.rsplit_once('.') {
        if let Some(t) = s.by_path(parent) {
            return match t.field(field) {
                Some((_, f)) => Ok(field_doc(t, f)),
                None => Err((
                    format!("{} has no field `{field}`", t.path),
                    match did_you_mean(field, t.fields.iter().map(|f| f.name.as_str())) {
                        Some(m) => format!("did you mean `{}.{m}`?", t.path),
                        None => format!("`skyc doc {}` lists its fields", t.path),
                    },
                )),
            };
        }
    }
    let prefix = format!("{}.", symbol.trim_end_matches('.'));
    let under: Vec<_> = s
        .types()
        .iter()
        .filter(|t| t.path.starts_with(&prefix))
        .collect();
    if !under.is_empty() {
        let mut out = String::new();
        for t in under {
            let _ = writeln!(out, "{:<60} {}", t.path, first_sentence(&t.description));
        }
        return Ok(out);
    }
    let paths = s
        .types()
        .iter()
        .map(|t| t.path.as_str())
        .chain(functions().iter().map(|f| f.name.as_str()));
    Err((
        format!("no constructor or namespace named `{symbol}`"),
        match did_you_mean(symbol, paths) {
            Some(m) => format!("did you mean `{m}`?"),
            None => "constructors are named like `k8s.apps.v1.Deployment`; `skyc doc k8s` lists them all".into(),
        },
    ))
}

fn function_doc(f: &skyc_core::eval::StdlibFunction) -> String {
    let mut out = String::new();
    let sig = f
        .params
        .iter()
        .map(|(name, ty, default, _)| match default {
            Some(d) => format!("{name}: {ty} = {d}"),
            None => format!("{name}: {ty}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "{}({sig}) -> {}", f.name, f.returns);
    let _ = writeln!(out, "load(\"@stdlib//{}\", \"{}\")", f.module, f.name);
    let _ = writeln!(out, "\n{}", f.summary);
    if !f.details.is_empty() {
        let _ = writeln!(out, "\n{}", f.details);
    }
    if !f.params.is_empty() {
        let _ = writeln!(out, "\nParameters:");
        for (name, ty, default, docs) in &f.params {
            let default = default
                .as_ref()
                .map(|d| format!(" = {d}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {name}: {ty}{default}");
            if !docs.is_empty() {
                let _ = writeln!(out, "      {docs}");
            }
        }
    }
    if !f.module_docs.is_empty() {
        let _ = writeln!(out, "\nAbout @stdlib//{}:\n{}", f.module, f.module_docs);
    }
    out
}

fn type_doc(t: &skyc_schema::MessageType) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({})", t.path, t.display);
    if let Some(g) = &t.gvk {
        let _ = writeln!(out, "apiVersion: {}  kind: {}", g.api_version(), g.kind);
    }
    if !t.description.is_empty() {
        let _ = writeln!(out, "\n{}", t.description.trim());
    }
    let _ = writeln!(out, "\nFields:");
    for f in &t.fields {
        let req = if f.required { ", required" } else { "" };
        let _ = writeln!(out, "  {:<32} {}{req}", f.name, f.ty.describe());
        let first = first_sentence(&f.description);
        if !first.is_empty() {
            let _ = writeln!(out, "      {first}");
        }
    }
    out
}

fn field_doc(t: &skyc_schema::MessageType, f: &skyc_schema::Field) -> String {
    let mut out = String::new();
    let req = if f.required { ", required" } else { "" };
    let _ = writeln!(out, "{}.{}: {}{req}", t.path, f.name, f.ty.describe());
    if let Some(id) = message_of(&f.ty) {
        let _ = writeln!(out, "see: skyc doc {}", skyc_schema::lookup(id).path);
    }
    if let skyc_schema::FieldType::String {
        enum_values: Some(v),
    } = &f.ty
    {
        let _ = writeln!(out, "allowed values: {}", v.join(", "));
    }
    if !f.description.is_empty() {
        let _ = writeln!(out, "\n{}", f.description.trim());
    }
    out
}

/// The first sentence of a description, for one-line listings.
fn first_sentence(d: &str) -> String {
    let d = d.trim();
    let end = d
        .find(". ")
        .map(|i| i + 1)
        .or_else(|| d.find('\n'))
        .unwrap_or(d.len());
    d[..end].trim().to_string()
}

/// The message type a field holds (directly, or as list or map items).
fn message_of(ty: &skyc_schema::FieldType) -> Option<skyc_schema::TypeId> {
    match ty {
        skyc_schema::FieldType::Message(id) => Some(*id),
        skyc_schema::FieldType::List(t) | skyc_schema::FieldType::Map(t) => message_of(t),
        _ => None,
    }
}
