//! Hover and completion for typed constructors (`k8s.apps.v1.Deployment(...)`, `envoy.…`),
//! which `starlark_lsp` knows nothing about: the fields of the message being written — as
//! keyword arguments of the constructor or as keys of the dicts nested in it — with their
//! types and the schema's descriptions, and the members of `k8s.`/`envoy.` paths.

use lsp_types::{
    CompletionItem, CompletionItemKind, Documentation, Hover, HoverContents, MarkupContent,
    MarkupKind,
};
use skyc_schema::{FieldType, MessageType};

/// One open bracket before the cursor.
#[derive(Debug, Clone)]
enum Open {
    /// A call, with the dotted name before it.
    Call(Option<String>),
    Dict,
    List,
}

#[derive(Debug, Clone)]
struct Frame {
    open: Open,
    /// The keyword argument or dict key being written in this bracket.
    key: Option<String>,
}

/// What the text before `offset` is in the middle of.
struct Scan {
    frames: Vec<Frame>,
    /// The dotted name that ends right at `offset` (e.g. `k8s.apps.` while typing).
    trailing: String,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn scan(text: &str) -> Scan {
    let mut frames: Vec<Frame> = Vec::new();
    let mut chain = String::new();
    let mut last_ident = String::new();
    let mut last_string: Option<String> = None;
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let triple = i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c;
            let mut value = String::new();
            i += if triple { 3 } else { 1 };
            while i < chars.len() {
                if chars[i] == '\\' {
                    if let Some(&n) = chars.get(i + 1) {
                        value.push(n);
                    }
                    i += 2;
                    continue;
                }
                if chars[i] == c
                    && (!triple || (i + 2 < chars.len() && chars[i + 1] == c && chars[i + 2] == c))
                {
                    i += if triple { 3 } else { 1 };
                    break;
                }
                if !triple && chars[i] == '\n' {
                    break;
                }
                value.push(chars[i]);
                i += 1;
            }
            last_string = Some(value);
            chain.clear();
            continue;
        }
        if is_ident(c) {
            let start = i;
            while i < chars.len() && is_ident(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if chain.ends_with('.') {
                chain.push_str(&word);
            } else {
                chain = word.clone();
            }
            last_ident = word;
            continue;
        }
        match c {
            '.' if !chain.is_empty() && !chain.ends_with('.') => chain.push('.'),
            '(' => {
                let callee = (!chain.is_empty()).then(|| chain.clone());
                frames.push(Frame {
                    open: Open::Call(callee),
                    key: None,
                });
                chain.clear();
            }
            '{' | '[' => {
                frames.push(Frame {
                    open: if c == '{' { Open::Dict } else { Open::List },
                    key: None,
                });
                chain.clear();
            }
            ')' | '}' | ']' => {
                frames.pop();
                chain.clear();
            }
            '=' => {
                let next = chars.get(i + 1).copied();
                let prev = if i > 0 { chars[i - 1] } else { ' ' };
                if next != Some('=') && !"=!<>".contains(prev) {
                    if let Some(f) = frames.last_mut() {
                        if matches!(f.open, Open::Call(_)) {
                            f.key = Some(last_ident.clone());
                        }
                    }
                }
                chain.clear();
            }
            ':' => {
                if let Some(f) = frames.last_mut() {
                    if matches!(f.open, Open::Dict) {
                        f.key = last_string.clone();
                    }
                }
                chain.clear();
            }
            ',' => {
                if let Some(f) = frames.last_mut() {
                    f.key = None;
                }
                chain.clear();
            }
            c if c.is_whitespace() => {
                // `k8s.apps. v1` is not one name, but `k8s.apps.v1` across a break is rare:
                // whitespace ends the name.
                if !chain.ends_with('.') {
                    chain.clear();
                }
            }
            _ => chain.clear(),
        }
        i += 1;
    }
    Scan {
        frames,
        trailing: chain,
    }
}

fn is_typed_path(p: &str) -> bool {
    p.starts_with("k8s.")
        || p.starts_with("envoy.")
        || p.starts_with("google.protobuf.")
        || p.starts_with("crd.")
}

/// The type of a constructor path: built in, or one of the project's custom resources.
fn by_path(path: &str, crds: Crds) -> Option<&'static MessageType> {
    skyc_schema::by_path(path).or_else(|| crds?.type_by_path(path))
}

/// The custom resources of the document's project, when it declares any.
pub type Crds<'a> = Option<&'a skyc_core::CrdIndex>;

/// The type of the value being written in the innermost bracket, and whether that bracket is
/// the constructor call itself.
fn current_type(frames: &[Frame], crds: Crds) -> Option<(FieldType, bool)> {
    let start = frames.iter().rposition(|f| match &f.open {
        Open::Call(Some(c)) => is_typed_path(c) && by_path(c, crds).is_some(),
        _ => false,
    })?;
    let Open::Call(Some(callee)) = &frames[start].open else {
        return None;
    };
    let mut ty = FieldType::Message(by_path(callee, crds)?.id);
    for j in start..frames.len() - 1 {
        let child = &frames[j + 1];
        ty = match (&frames[j].open, &ty) {
            (Open::List, FieldType::List(inner)) => (**inner).clone(),
            (Open::Call(_) | Open::Dict, FieldType::Message(id)) => {
                let key = frames[j].key.as_deref()?;
                skyc_schema::lookup(*id).field(key)?.1.ty.clone()
            }
            (Open::Dict, FieldType::Map(inner)) => (**inner).clone(),
            _ => return None,
        };
        // A nested constructor call starts over with its own type.
        if let Open::Call(Some(c)) = &child.open {
            if let Some(t) = by_path(c, crds) {
                ty = FieldType::Message(t.id);
            }
        }
    }
    let last = frames.last()?;
    let ty = match (&last.open, ty) {
        (Open::List, FieldType::List(inner)) => *inner,
        (_, t) => t,
    };
    Some((ty, start == frames.len() - 1))
}

fn field_doc(t: &MessageType, name: &str) -> Option<String> {
    let (_, f) = t.field(name)?;
    Some(format!(
        "**{}**: {} — field of `{}`\n\n{}",
        f.name,
        f.ty.describe(),
        t.path,
        f.description
    ))
}

fn type_doc(t: &MessageType) -> String {
    let mut s = format!(
        "**{}** — {}\n\n{}\n\nFields:\n",
        t.path, t.display, t.description
    );
    for f in &t.fields {
        let first = f.description.split(". ").next().unwrap_or("");
        s.push_str(&format!(
            "- `{}`: {} — {}\n",
            f.name,
            f.ty.describe(),
            first
        ));
    }
    s
}

/// The members of a namespace path (`k8s.apps` → `v1`, `k8s.apps.v1` → its types).
fn members(prefix: &str, crds: Crds) -> Vec<(String, Option<&'static MessageType>)> {
    let schema = if prefix.starts_with("k8s") {
        &skyc_schema::k8s::k8s().schema
    } else if prefix.starts_with("envoy") || prefix.starts_with("google") {
        &skyc_schema::envoy::envoy().schema
    } else if let Some(index) = crds.filter(|_| prefix == "crd" || prefix.starts_with("crd.")) {
        return crd_members(index, prefix);
    } else {
        return Vec::new();
    };
    let mut out: Vec<(String, Option<&'static MessageType>)> = Vec::new();
    let dotted = format!("{prefix}.");
    for (ns, ids) in schema.namespaces() {
        if ns == prefix {
            for id in ids {
                let t = skyc_schema::lookup(id);
                out.push((t.short_name().to_string(), Some(t)));
            }
        } else if let Some(rest) = ns.strip_prefix(&dotted) {
            let next = rest.split('.').next().unwrap_or(rest).to_string();
            if !out.iter().any(|(n, _)| *n == next) {
                out.push((next, None));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// The members of a path under `crd`: groups, versions, or kinds (their nested types have no
/// constructors).
fn crd_members(
    index: &skyc_core::CrdIndex,
    prefix: &str,
) -> Vec<(String, Option<&'static MessageType>)> {
    let dotted = format!("{prefix}.");
    let mut out: Vec<(String, Option<&'static MessageType>)> = Vec::new();
    for v in index.versions() {
        let t = skyc_schema::lookup(v.ty);
        let Some(rest) = t.path.strip_prefix(&dotted) else {
            continue;
        };
        match rest.split_once('.') {
            None => out.push((rest.to_string(), Some(t))),
            Some((next, _)) => out.push((next.to_string(), None)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

fn markdown(value: String) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: None,
    }
}

/// Hover for the word at `offset`, when it is about typed constructors.
pub fn hover(text: &str, offset: usize, crds: Crds) -> Option<Hover> {
    let offset = offset.min(text.len());
    let is_word = |c: char| is_ident(c) || c == '.';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_ident(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    let word = &text[start..end];
    if is_typed_path(word) || word == "k8s" || word == "envoy" || word == "crd" {
        if let Some(t) = by_path(word, crds) {
            return Some(markdown(type_doc(t)));
        }
        let m = members(word, crds);
        if !m.is_empty() {
            let list: Vec<String> = m.iter().map(|(n, _)| format!("`{n}`")).collect();
            return Some(markdown(format!("**{word}**\n\n{}", list.join(", "))));
        }
        return None;
    }
    // A keyword argument (`replicas =`) or a dict key (`"replicas":`) inside a constructor.
    let after = text[end..].trim_start();
    let (name, key_start) = if after.starts_with('=') && !after.starts_with("==") {
        (word.to_string(), start)
    } else {
        let before = text[..offset].rfind(['"', '\''])?;
        let quote = text[before..].chars().next()?;
        let close = text[before + 1..].find(quote)? + before + 1;
        if close < offset || !text[close + 1..].trim_start().starts_with(':') {
            return None;
        }
        (text[before + 1..close].to_string(), before)
    };
    let scan = scan(&text[..key_start]);
    let (ty, _) = current_type(&scan.frames, crds)?;
    let FieldType::Message(id) = ty else {
        return None;
    };
    field_doc(skyc_schema::lookup(id), &name).map(markdown)
}

/// Completion items at `offset`, when it is inside a typed constructor or after `k8s.`.
pub fn completion(text: &str, offset: usize, crds: Crds) -> Option<Vec<CompletionItem>> {
    let offset = offset.min(text.len());
    let scan = scan(&text[..offset]);
    if let Some(prefix) = scan.trailing.strip_suffix('.') {
        if prefix == "k8s" || prefix == "envoy" || prefix == "crd" || is_typed_path(prefix) {
            let items = members(prefix, crds)
                .into_iter()
                .map(|(name, t)| CompletionItem {
                    label: name,
                    kind: Some(if t.is_some() {
                        CompletionItemKind::CONSTRUCTOR
                    } else {
                        CompletionItemKind::MODULE
                    }),
                    detail: t.map(|t| t.display.clone()),
                    documentation: t.map(|t| Documentation::String(t.description.to_string())),
                    ..CompletionItem::default()
                })
                .collect::<Vec<_>>();
            return (!items.is_empty()).then_some(items);
        }
    }
    let (ty, in_call) = current_type(&scan.frames, crds)?;
    let FieldType::Message(id) = ty else {
        return None;
    };
    let t = skyc_schema::lookup(id);
    let in_dict = matches!(scan.frames.last()?.open, Open::Dict);
    if !in_call && !in_dict {
        return None;
    }
    Some(
        t.fields
            .iter()
            .map(|f| CompletionItem {
                label: f.name.to_string(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some(f.ty.describe()),
                documentation: Some(Documentation::String(f.description.to_string())),
                insert_text: Some(if in_call {
                    format!("{} = ", f.name)
                } else {
                    format!("\"{}\": ", f.name)
                }),
                ..CompletionItem::default()
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_fields_of_the_message_being_written() {
        let text = "k8s.apps.v1.Deployment(metadata = {\"name\": \"x\"}, spec = {\"template\": {\"spec\": {\"containers\": [{";
        let items = completion(text, text.len(), None).unwrap();
        assert!(items.iter().any(|i| i.label == "image"), "{items:?}");
        let text = "k8s.apps.v1.Deployment(";
        let items = completion(text, text.len(), None).unwrap();
        assert!(items.iter().any(|i| i.label == "spec"));
        assert_eq!(
            items
                .iter()
                .find(|i| i.label == "spec")
                .unwrap()
                .insert_text
                .as_deref(),
            Some("spec = ")
        );
    }

    #[test]
    fn completes_namespaces_and_types() {
        let items = completion("x = k8s.apps.", 13, None).unwrap();
        assert!(items.iter().any(|i| i.label == "v1"));
        let items = completion("x = k8s.apps.v1.", 16, None).unwrap();
        assert!(items.iter().any(|i| i.label == "Deployment"));
    }

    #[test]
    fn hovers_fields_and_types() {
        let text = "k8s.apps.v1.Deployment(spec = {\"replicas\": 3})";
        let h = hover(text, text.find("replicas").unwrap() + 2, None).unwrap();
        let HoverContents::Markup(m) = h.contents else {
            panic!()
        };
        assert!(m.value.contains("int"), "{}", m.value);
        let h = hover(text, 14, None).unwrap();
        let HoverContents::Markup(m) = h.contents else {
            panic!()
        };
        assert!(m.value.contains("k8s.apps.v1.Deployment"), "{}", m.value);
        let text = "k8s.core.v1.Container(image = \"x\")";
        assert!(hover(text, text.find("image").unwrap(), None).is_some());
        // Strings and comments do not confuse the scanner.
        let text = "k8s.core.v1.Container(name = \"a(b{\", # )]\n image = \"x\")";
        assert!(hover(text, text.find("image").unwrap(), None).is_some());
    }

    #[test]
    fn knows_the_projects_custom_resources() {
        let world = skyc_core::MemoryWorld::new([(
            "crds/widgets.yaml",
            include_str!("../../../../tests/fixtures/crds/widgets.example.com.yaml"),
        )]);
        let config = skyc_core::Config::parse("sky.toml", "[crds]\npaths = [\"crds\"]\n").unwrap();
        let (index, problems) = skyc_core::load_crds(&world, &config);
        assert!(problems.is_empty(), "{problems:?}");
        let crds = index.as_deref();
        let names =
            |items: Vec<CompletionItem>| items.into_iter().map(|i| i.label).collect::<Vec<_>>();
        assert_eq!(
            names(completion("x = crd.", 8, crds).unwrap()),
            ["example_com"]
        );
        assert_eq!(
            names(completion("x = crd.example_com.v1.", 23, crds).unwrap()),
            ["Widget"]
        );
        let text = "w = crd.example_com.v1.Widget(spec = {\"parts\": [{\"";
        let fields = names(completion(text, text.len(), crds).unwrap());
        assert_eq!(fields, ["name", "from", "type"]);
        let text = "w = crd.example_com.v1.Widget(spec = {\"size\": 1})";
        let h = hover(text, text.find("size").unwrap() + 1, crds).unwrap();
        let HoverContents::Markup(m) = h.contents else {
            panic!("markup")
        };
        assert!(m.value.contains("How many parts"), "{}", m.value);
        assert!(completion("x = crd.", 8, None).is_none());
    }
}
