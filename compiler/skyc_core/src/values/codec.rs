//! The encoding modules configurations written for skycfg use: `hash` (hex digests), `url`
//! (query strings), `yaml` (encode and decode), and `json.marshal`/`json.unmarshal` next to
//! Starlark's `json.encode`/`json.decode`. All are pure functions of their arguments.

use super::SkyError;
use crate::import::yaml::{self, Node, Value as Yaml};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use skyc_diag::codes;
use starlark::environment::GlobalsBuilder;
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::{AllocList, ListRef};
use starlark::values::structs::StructRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{Heap, Value};

/// Lowercase hex of `bytes` (digests: `hash.*`, the output directory's index, the CLI's
/// check cache).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// `hash.*`: hex digests of a string's UTF-8 bytes.
#[starlark_module]
pub(crate) fn hash_module(builder: &mut GlobalsBuilder) {
    /// The MD5 digest of `s`, as 32 lowercase hex digits (for names derived from content,
    /// not for security).
    fn md5(#[starlark(require = pos)] s: &str) -> starlark::Result<String> {
        Ok(hex(&Md5::digest(s.as_bytes())))
    }

    /// The SHA-1 digest of `s`, as 40 lowercase hex digits.
    fn sha1(#[starlark(require = pos)] s: &str) -> starlark::Result<String> {
        Ok(hex(&Sha1::digest(s.as_bytes())))
    }

    /// The SHA-256 digest of `s`, as 64 lowercase hex digits, e.g. to name a ConfigMap after
    /// its contents.
    fn sha256(#[starlark(require = pos)] s: &str) -> starlark::Result<String> {
        Ok(hex(&Sha256::digest(s.as_bytes())))
    }
}

/// Escapes a query-string component: letters, digits and `-_.~` stay, a space becomes `+`,
/// every other byte is `%XX` (upper-case hex).
fn query_escape(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

/// A dict key or value as query text: strings as they are, numbers and booleans as written.
fn query_text(v: Value, what: &str) -> starlark::Result<String> {
    if let Some(s) = v.unpack_str() {
        return Ok(s.to_string());
    }
    match v.get_type() {
        "int" | "float" | "bool" => Ok(v.to_str()),
        t => Err(SkyError::new(
            codes::SKY0301,
            format!(
                "url.encode_query: {what} must be a string, not {t} ({})",
                crate::values::repr(v)
            ),
        )
        .with_help("keys and values are strings, numbers or booleans; a list value repeats its key")
        .into()),
    }
}

/// `url.*`.
#[starlark_module]
pub(crate) fn url_module(builder: &mut GlobalsBuilder) {
    /// A URL query string from a dict, in the dict's order: `url.encode_query({"q": "a b",
    /// "n": "1"})` is `"q=a+b&n=1"`. A list value repeats its key for each item.
    fn encode_query<'v>(#[starlark(require = pos)] params: Value<'v>) -> starlark::Result<String> {
        let Some(dict) = DictRef::from_value(params) else {
            return Err(SkyError::new(
                codes::SKY0301,
                format!("url.encode_query takes a dict, not {}", params.get_type()),
            )
            .into());
        };
        let mut out = String::new();
        for (k, v) in dict.iter() {
            let key = query_text(k, "a key")?;
            let values: Vec<Value> = match starlark::values::list::ListRef::from_value(v) {
                Some(items) => items.content().to_vec(),
                None => vec![v],
            };
            for v in values {
                if !out.is_empty() {
                    out.push('&');
                }
                query_escape(&key, &mut out);
                out.push('=');
                query_escape(&query_text(v, "a value")?, &mut out);
            }
        }
        Ok(out)
    }
}

/// A decoded YAML node as a Starlark value.
fn alloc_yaml<'v>(n: &Node, heap: Heap<'v>) -> Value<'v> {
    match &n.value {
        Yaml::Null => Value::new_none(),
        Yaml::Bool(b) => Value::new_bool(*b),
        Yaml::Int(i) => heap.alloc(*i),
        Yaml::Float(f) => heap.alloc(*f),
        Yaml::Str(s) => heap.alloc(s.as_str()),
        Yaml::Seq(items) => heap.alloc(AllocList(items.iter().map(|i| alloc_yaml(i, heap)))),
        Yaml::Map(entries) => heap.alloc(AllocDict(
            entries
                .iter()
                .map(|e| (heap.alloc(e.key.as_str()), alloc_yaml(&e.value, heap))),
        )),
    }
}

/// A value as JSON for encoding (messages, quantities and plain data). Messages are checked
/// again first (lists changed in place since they were built).
fn to_json<'v>(
    v: Value<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
    function: &str,
) -> starlark::Result<serde_json::Value> {
    super::message::normalize(eval, v, None);
    match crate::lower::to_json_with_origins(v) {
        Ok((json, _, _)) => Ok(json),
        // Values lowering does not know (a `struct`) encode as Starlark's json module would,
        // when they are small enough for its recursive walk.
        Err(e) if e.unsupported && shallow(v, 0, &mut 0) => v
            .to_json_value()
            .map_err(|_| SkyError::new(codes::SKY0301, format!("{function}: {e}")).into()),
        Err(e) => Err(SkyError::new(e.code(codes::SKY0301), format!("{function}: {e}")).into()),
    }
}

/// Whether `v` nests at most 200 levels deep and has at most a million parts.
fn shallow(v: Value, depth: usize, parts: &mut usize) -> bool {
    *parts += 1;
    if depth > 200 || *parts > 1_000_000 {
        return false;
    }
    let items: Vec<Value> = if let Some(l) = ListRef::from_value(v) {
        l.content().to_vec()
    } else if let Some(t) = TupleRef::from_value(v) {
        t.content().to_vec()
    } else if let Some(d) = DictRef::from_value(v) {
        d.iter().flat_map(|(k, x)| [k, x]).collect()
    } else if let Some(st) = StructRef::from_value(v) {
        st.iter().map(|(_, x)| x).collect()
    } else {
        return true;
    };
    items.into_iter().all(|x| shallow(x, depth + 1, parts))
}

/// A JSON text parsed; a syntax error names `function` and where in the text it is.
pub(crate) fn parse_json(text: &str, function: &str) -> starlark::Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| {
        SkyError::new(
            codes::SKY0301,
            format!(
                "{function}: {e} (line {}, column {} of the JSON text)",
                e.line(),
                e.column()
            ),
        )
        .into()
    })
}

/// The value of a JSON text; `function` names the caller in errors.
fn decode_json<'v>(text: &str, heap: Heap<'v>, function: &str) -> starlark::Result<Value<'v>> {
    Ok(heap.alloc(parse_json(text, function)?))
}

/// `json.indent`: the JSON text laid out with one item per line, every line after the first
/// starting with `prefix`, nesting shown by repeating `indent`.
fn indent_json(text: &str, prefix: &str, indent: &str) -> starlark::Result<String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        SkyError::new(
            codes::SKY0301,
            format!(
                "json.indent: {e} (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(&json, &mut ser)
        .map_err(|e| SkyError::new(codes::SKY0301, format!("json.indent: {e}")))?;
    let pretty = String::from_utf8(out).unwrap_or_default();
    // JSON strings hold no raw newlines: every newline is the layout's.
    Ok(pretty.replace('\n', &format!("\n{prefix}")))
}

/// The value of a YAML document (see `yaml.decode`); `function` names the caller in errors.
fn decode_yaml<'v>(text: &str, heap: Heap<'v>, function: &str) -> starlark::Result<Value<'v>> {
    let stream = yaml::parse(text).map_err(|e| {
        SkyError::new(
            codes::SKY0301,
            format!(
                "{function}: {} (line {}, column {} of the YAML text)",
                e.message,
                e.pos.line,
                e.pos.col + 1
            ),
        )
    })?;
    match stream.documents.as_slice() {
        [] => Ok(Value::new_none()),
        [doc] => Ok(doc
            .root
            .as_ref()
            .map_or(Value::new_none(), |n| alloc_yaml(n, heap))),
        docs => Err(SkyError::new(
            codes::SKY0301,
            format!(
                "{function}: the text holds {} documents; it decodes one",
                docs.len()
            ),
        )
        .with_help("split the text at `---` and decode each part")
        .into()),
    }
}

/// `yaml.*`.
#[starlark_module]
pub(crate) fn yaml_module(builder: &mut GlobalsBuilder) {
    /// The value of a YAML document: `yaml.decode("a:\n- 1\n")` is `{"a": [1]}`. Scalars
    /// resolve as Kubernetes tools read them (YAML 1.1: `yes` is `True`, `0644` is 420); an
    /// empty document is `None`. A stream of several documents is an error.
    fn decode<'v>(
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_yaml(text, eval.heap(), "yaml.decode")
    }

    /// The YAML text of a value (dicts, lists, strings, numbers, typed objects), keys in
    /// their order, ending in a newline: `yaml.encode({"a": [1]})` is `"a:\n- 1\n"`.
    fn encode<'v>(
        #[starlark(require = pos)] value: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        Ok(crate::emit::to_yaml(&to_json(value, eval, "yaml.encode")?))
    }

    /// The same as `yaml.decode` (skycfg's name).
    fn unmarshal<'v>(
        #[starlark(require = pos)] text: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_yaml(text, eval.heap(), "yaml.unmarshal")
    }

    /// The same as `yaml.encode` (skycfg's name).
    fn marshal<'v>(
        #[starlark(require = pos)] value: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        Ok(crate::emit::to_yaml(&to_json(value, eval, "yaml.marshal")?))
    }
}

/// `json.*`: Starlark's `encode`/`decode` (which also take typed objects) and skycfg's names
/// for them, plus `indent`.
#[starlark_module]
pub(crate) fn json_module(builder: &mut GlobalsBuilder) {
    /// The compact JSON text of a value (dicts, lists, strings, numbers, typed objects), keys
    /// in their order: `json.encode({"a": [1, True]})` is `'{"a":[1,true]}'`.
    fn encode<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        Ok(serde_json::to_string(&to_json(x, eval, "json.encode")?).unwrap_or_default())
    }

    /// The value of a JSON text: objects become dicts (in their order), arrays lists.
    fn decode<'v>(
        #[starlark(require = pos)] x: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_json(x, eval.heap(), "json.decode")
    }

    /// The same as `json.encode` (skycfg's name).
    fn marshal<'v>(
        #[starlark(require = pos)] x: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        Ok(serde_json::to_string(&to_json(x, eval, "json.marshal")?).unwrap_or_default())
    }

    /// The same as `json.decode` (skycfg's name).
    fn unmarshal<'v>(
        #[starlark(require = pos)] x: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        decode_json(x, eval.heap(), "json.unmarshal")
    }

    /// A JSON text laid out for reading: `json.indent('{"a":[1]}', indent = "  ")` puts each
    /// item on its own line, nested by `indent` (a tab by default); lines after the first
    /// start with `prefix`.
    fn indent(
        #[starlark(require = pos)] x: &str,
        #[starlark(require = named, default = "")] prefix: &str,
        #[starlark(require = named, default = "\t")] indent: &str,
    ) -> starlark::Result<String> {
        indent_json(x, prefix, indent)
    }
}
