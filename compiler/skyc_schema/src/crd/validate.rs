//! Validation of a custom resource against its version's `openAPIV3Schema`, as the API server
//! validates it: types (with `nullable` and `x-kubernetes-int-or-string`), unknown fields
//! (Kubernetes would prune them; strict field validation rejects them), `enum`, `required`,
//! `pattern`, `format`, bounds, lengths, item and property counts, list types (`set`, `map`),
//! `x-kubernetes-embedded-resource`, and `allOf`/`anyOf`/`oneOf`/`not`. CEL rules
//! (`x-kubernetes-validations`) are not evaluated.

use serde_json::Value as Json;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

/// What kind of problem a finding is (the caller maps it to a diagnostic code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    WrongType,
    UnknownField,
    Enum,
    Required,
    /// Any other rule of the schema: pattern, format, bounds, lengths, counts, uniqueness,
    /// embedded resources, `oneOf`/`anyOf`/`not`.
    Constraint,
}

/// One problem, at a field path of the object (`spec.endpoints[0].port`).
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: FindingKind,
    pub path: String,
    pub message: String,
    pub help: String,
    /// For unknown fields: the names the object may have.
    pub expected: Vec<String>,
}

/// Every problem of `value`, a whole custom resource, against `schema`, its version's
/// `openAPIV3Schema`. `apiVersion`, `kind` and `metadata` are left to the caller (metadata
/// is Kubernetes' ObjectMeta whatever the schema says).
pub fn validate(schema: &Json, value: &Json) -> Vec<Finding> {
    let mut v = Validator { out: Vec::new() };
    v.node(schema, value, &mut String::new(), 0, true);
    v.out
}

/// Deeper values are not looked into (the evaluator's limits keep real ones far below).
const MAX_DEPTH: usize = 200;

struct Validator {
    out: Vec<Finding>,
}

fn flag(s: &Json, key: &str) -> bool {
    s.get(key).and_then(Json::as_bool) == Some(true)
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn is_integer(v: &Json) -> bool {
    match v {
        Json::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

/// `a string "x"`, `an integer 3`, …: the value as the message shows it.
fn what(v: &Json) -> String {
    let mut text = v.to_string();
    if text.len() > 60 {
        let mut end = 57;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    let kind = match v {
        Json::Null => return "null".into(),
        Json::Bool(_) => "a bool",
        Json::Number(_) if is_integer(v) => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a dict",
    };
    format!("{kind} {text}")
}

fn type_name(t: &str) -> &str {
    match t {
        "object" => "a dict",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a bool",
        other => other,
    }
}

fn fits(t: &str, v: &Json) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => is_integer(v),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

impl Validator {
    /// A [`FindingKind::Constraint`] finding.
    fn constraint(&mut self, path: &str, message: String, help: impl Into<String>) {
        self.push(FindingKind::Constraint, path, message, help);
    }

    fn push(&mut self, kind: FindingKind, path: &str, message: String, help: impl Into<String>) {
        self.out.push(Finding {
            kind,
            path: path.to_string(),
            message,
            help: help.into(),
            expected: Vec::new(),
        });
    }

    /// Whether `v` passes `s` (for `anyOf`, `oneOf`, `not`), and its findings if not.
    fn branch(&self, s: &Json, v: &Json, path: &str, depth: usize) -> Vec<Finding> {
        let mut b = Validator { out: Vec::new() };
        b.node(s, v, &mut path.to_string(), depth, false);
        b.out
    }

    fn node(&mut self, s: &Json, v: &Json, path: &mut String, depth: usize, top: bool) {
        if depth > MAX_DEPTH || !s.is_object() {
            return;
        }
        if v.is_null() {
            // The API server drops nulls of fields that are not nullable (and keeps the rest).
            return;
        }
        if flag(s, "x-kubernetes-int-or-string") {
            if !(is_integer(v) || v.is_string()) {
                self.push(
                    FindingKind::WrongType,
                    path,
                    format!("`{path}` expects an integer or a string, got {}", what(v)),
                    "write a number such as 8080 or a string such as \"http\" or \"25%\"",
                );
                return;
            }
        } else if let Some(t) = s.get("type").and_then(Json::as_str) {
            if !fits(t, v) {
                let help = match (t, v) {
                    ("integer" | "number", Json::String(x)) if x.parse::<f64>().is_ok() => {
                        format!("remove the quotes: {x}")
                    }
                    ("string", Json::Number(n)) => format!("quote it: \"{n}\""),
                    ("array", _) => "write a list: [...]".to_string(),
                    ("object", _) => "write a dict: {...}".to_string(),
                    _ => format!("write {}", type_name(t)),
                };
                self.push(
                    FindingKind::WrongType,
                    path,
                    format!("`{path}` expects {}, got {}", type_name(t), what(v)),
                    help,
                );
                return;
            }
        }
        if let Some(allowed) = s.get("enum").and_then(Json::as_array) {
            if !allowed.contains(v) {
                let list = allowed
                    .iter()
                    .map(|a| match a {
                        Json::String(s) => format!("`{s}`"),
                        other => format!("`{other}`"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                let mut f = Finding {
                    kind: FindingKind::Enum,
                    path: path.to_string(),
                    message: format!("`{shown}` is not a valid value of `{path}`"),
                    help: format!("allowed values: {list}"),
                    expected: Vec::new(),
                };
                f.expected = allowed
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect();
                self.out.push(f);
            }
        }
        match v {
            Json::String(text) => self.string(s, text, path),
            Json::Number(_) => self.number(s, v, path),
            Json::Array(items) => self.array(s, items, path, depth),
            Json::Object(obj) => self.object(s, obj, path, depth, top),
            _ => {}
        }
        self.combinators(s, v, path, depth);
    }

    fn string(&mut self, s: &Json, text: &str, path: &str) {
        let len = text.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Json::as_u64) {
            if len < min {
                self.constraint(
                    path,
                    format!("`{path}` must be at least {min} characters long, got {len}"),
                    format!("the schema sets minLength: {min}"),
                );
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Json::as_u64) {
            if len > max {
                self.constraint(
                    path,
                    format!("`{path}` must be at most {max} characters long, got {len}"),
                    format!("the schema sets maxLength: {max}"),
                );
            }
        }
        if let Some(pattern) = s.get("pattern").and_then(Json::as_str) {
            if let Some(re) = regex(pattern) {
                if !re.is_match(text) {
                    self.constraint(
                        path,
                        format!(
                            "`{path}` does not match the pattern `{pattern}`: {}",
                            what(&Json::String(text.to_string()))
                        ),
                        "change the value to match the pattern the CRD declares",
                    );
                }
            }
        }
        if let Some(format) = s.get("format").and_then(Json::as_str) {
            if let Some(why) = format_problem(format, text) {
                self.constraint(
                    path,
                    format!("`{path}` is not a valid {format}: {why}"),
                    format_help(format),
                );
            }
        }
    }

    fn number(&mut self, s: &Json, v: &Json, path: &str) {
        let Some(x) = v.as_f64() else { return };
        let excl = |k: &str| flag(s, k);
        let shown = v.to_string();
        if let Some(min) = s.get("minimum").and_then(Json::as_f64) {
            let (bad, word) = if excl("exclusiveMinimum") {
                (x <= min, "greater than")
            } else {
                (x < min, "at least")
            };
            if bad {
                self.constraint(
                    path,
                    format!("`{path}` must be {word} {}, got {shown}", num(min)),
                    format!("use a value {word} {}", num(min)),
                );
            }
        }
        if let Some(max) = s.get("maximum").and_then(Json::as_f64) {
            let (bad, word) = if excl("exclusiveMaximum") {
                (x >= max, "less than")
            } else {
                (x > max, "at most")
            };
            if bad {
                self.constraint(
                    path,
                    format!("`{path}` must be {word} {}, got {shown}", num(max)),
                    format!("use a value {word} {}", num(max)),
                );
            }
        }
        if let Some(m) = s.get("multipleOf").and_then(Json::as_f64) {
            if m > 0.0 && ((x / m) - (x / m).round()).abs() > 1e-9 {
                self.constraint(
                    path,
                    format!("`{path}` must be a multiple of {}, got {shown}", num(m)),
                    format!("use a multiple of {}", num(m)),
                );
            }
        }
        let range = match s.get("format").and_then(Json::as_str) {
            Some("int32") => Some((i32::MIN as f64, i32::MAX as f64, "int32")),
            Some("int64") => Some((i64::MIN as f64, i64::MAX as f64, "int64")),
            _ => None,
        };
        if let Some((lo, hi, name)) = range {
            if x < lo || x > hi {
                self.constraint(
                    path,
                    format!("`{path}` is {name}; {shown} is out of range"),
                    format!("use a value between {} and {}", num(lo), num(hi)),
                );
            }
        }
    }

    fn array(&mut self, s: &Json, items: &[Json], path: &mut String, depth: usize) {
        let n = items.len() as u64;
        if let Some(min) = s.get("minItems").and_then(Json::as_u64) {
            if n < min {
                self.constraint(
                    path,
                    format!(
                        "`{path}` must have at least {min} item{}, got {n}",
                        plural(min)
                    ),
                    format!("the schema sets minItems: {min}"),
                );
            }
        }
        if let Some(max) = s.get("maxItems").and_then(Json::as_u64) {
            if n > max {
                self.constraint(
                    path,
                    format!(
                        "`{path}` must have at most {max} item{}, got {n}",
                        plural(max)
                    ),
                    format!("the schema sets maxItems: {max}"),
                );
            }
        }
        let list_type = s.get("x-kubernetes-list-type").and_then(Json::as_str);
        if flag(s, "uniqueItems") || list_type == Some("set") {
            for (i, x) in items.iter().enumerate() {
                if let Some(j) = items[..i].iter().position(|y| y == x) {
                    self.constraint(
                        &format!("{path}[{i}]"),
                        format!("`{path}[{i}]` repeats `{path}[{j}]`: the items of `{path}` must be unique"),
                        "remove the duplicate",
                    );
                }
            }
        }
        if list_type == Some("map") {
            let keys: Vec<&str> = s
                .get("x-kubernetes-list-map-keys")
                .and_then(Json::as_array)
                .map(|k| k.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
            if !keys.is_empty() {
                let key_of = |x: &Json| keys.iter().map(|k| x.get(*k).cloned()).collect::<Vec<_>>();
                for (i, x) in items.iter().enumerate() {
                    let k = key_of(x);
                    if let Some(j) = items[..i].iter().position(|y| key_of(y) == k) {
                        let shown = keys
                            .iter()
                            .zip(&k)
                            .map(|(name, v)| {
                                format!(
                                    "{name}={}",
                                    v.as_ref().map_or("unset".into(), |v| v.to_string())
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ");
                        self.constraint(
                            &format!("{path}[{i}]"),
                            format!("`{path}[{i}]` has the same key ({shown}) as `{path}[{j}]`"),
                            format!(
                                "the items of `{path}` are keyed by {}: merge them or change one",
                                keys.join(", ")
                            ),
                        );
                    }
                }
            }
        }
        if let Some(item_schema) = s.get("items") {
            let len = path.len();
            for (i, x) in items.iter().enumerate() {
                let _ = write!(path, "[{i}]");
                self.node(item_schema, x, path, depth + 1, false);
                path.truncate(len);
            }
        }
    }

    fn object(
        &mut self,
        s: &Json,
        obj: &serde_json::Map<String, Json>,
        path: &mut String,
        depth: usize,
        top: bool,
    ) {
        let props = s.get("properties").and_then(Json::as_object);
        let additional = s.get("additionalProperties");
        let free = flag(s, "x-kubernetes-preserve-unknown-fields");
        let embedded = flag(s, "x-kubernetes-embedded-resource");
        let own = |k: &str| {
            top && matches!(k, "apiVersion" | "kind" | "metadata")
                || embedded && matches!(k, "apiVersion" | "kind" | "metadata")
        };
        if let Some(required) = s.get("required").and_then(Json::as_array) {
            for r in required.iter().filter_map(Json::as_str) {
                if obj.get(r).is_none_or(Json::is_null) && !(top && own(r)) {
                    let p = join(path, r);
                    self.push(
                        FindingKind::Required,
                        &p,
                        format!("missing required field `{p}`"),
                        format!("set `{p}`"),
                    );
                }
            }
        }
        if embedded {
            for k in ["apiVersion", "kind"] {
                if obj.get(k).and_then(Json::as_str).is_none_or(str::is_empty) {
                    let p = join(path, k);
                    self.constraint(
                        &p,
                        format!("`{path}` is an embedded object and needs `{k}`"),
                        "an embedded resource has its own apiVersion and kind, e.g. \"v1\" and \"ConfigMap\"",
                    );
                }
            }
        }
        let count = obj.len() as u64;
        if let Some(min) = s.get("minProperties").and_then(Json::as_u64) {
            if count < min {
                self.constraint(
                    path,
                    format!(
                        "`{path}` must have at least {min} entr{}, got {count}",
                        if min == 1 { "y" } else { "ies" }
                    ),
                    format!("the schema sets minProperties: {min}"),
                );
            }
        }
        if let Some(max) = s.get("maxProperties").and_then(Json::as_u64) {
            if count > max {
                self.constraint(
                    path,
                    format!(
                        "`{path}` must have at most {max} entr{}, got {count}",
                        if max == 1 { "y" } else { "ies" }
                    ),
                    format!("the schema sets maxProperties: {max}"),
                );
            }
        }
        let len = path.len();
        for (k, x) in obj {
            if own(k) {
                continue;
            }
            if let Some(p) = props.and_then(|p| p.get(k)) {
                if len > 0 {
                    path.push('.');
                }
                path.push_str(k);
                self.node(p, x, path, depth + 1, false);
                path.truncate(len);
                continue;
            }
            match additional {
                Some(ap @ Json::Object(_)) => {
                    let _ = write!(path, "[{}]", Json::String(k.clone()));
                    self.node(ap, x, path, depth + 1, false);
                    path.truncate(len);
                }
                Some(Json::Bool(true)) => {}
                _ if free => {}
                // Items of `allOf`/`anyOf`/`oneOf` branches carry no properties of their own.
                _ if props.is_none() && !s.get("type").is_some_and(|t| t == "object") => {}
                _ => {
                    let p = join(path, k);
                    let expected: Vec<String> = props
                        .map(|p| p.keys().cloned().collect())
                        .unwrap_or_default();
                    let at = if path.is_empty() {
                        String::new()
                    } else {
                        format!(" in `{path}`")
                    };
                    self.out.push(Finding {
                        kind: FindingKind::UnknownField,
                        path: p,
                        message: format!("unknown field `{k}`{at}"),
                        help: if expected.is_empty() {
                            "this object takes no fields".into()
                        } else {
                            format!(
                                "its fields: {}",
                                expected
                                    .iter()
                                    .map(|e| format!("`{e}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                        expected,
                    });
                }
            }
        }
    }

    fn combinators(&mut self, s: &Json, v: &Json, path: &str, depth: usize) {
        if let Some(all) = s.get("allOf").and_then(Json::as_array) {
            for b in all {
                let found = self.branch(b, v, path, depth + 1);
                self.out.extend(found);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Json::as_array) {
            let results: Vec<Vec<Finding>> = any
                .iter()
                .map(|b| self.branch(b, v, path, depth + 1))
                .collect();
            if !results.is_empty() && results.iter().all(|r| !r.is_empty()) {
                self.constraint(
                    path,
                    format!(
                        "`{}` matches none of the {} alternatives its schema allows (anyOf)",
                        shown_path(path),
                        any.len()
                    ),
                    alternatives(any, &results),
                );
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Json::as_array) {
            let results: Vec<Vec<Finding>> = one
                .iter()
                .map(|b| self.branch(b, v, path, depth + 1))
                .collect();
            let passing: Vec<usize> = (0..results.len())
                .filter(|&i| results[i].is_empty())
                .collect();
            if passing.is_empty() && !results.is_empty() {
                self.constraint(
                    path,
                    format!(
                        "`{}` matches none of the {} alternatives its schema allows (oneOf)",
                        shown_path(path),
                        one.len()
                    ),
                    alternatives(one, &results),
                );
            } else if passing.len() > 1 {
                self.constraint(
                    path,
                    format!(
                        "`{}` matches {} of the alternatives its schema allows, but may match only one (oneOf)",
                        shown_path(path),
                        passing.len()
                    ),
                    format!(
                        "set only one of: {}",
                        passing
                            .iter()
                            .map(|&i| describe_branch(&one[i]))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                );
            }
        }
        if let Some(not) = s.get("not") {
            if self.branch(not, v, path, depth + 1).is_empty() {
                self.constraint(
                    path,
                    format!(
                        "`{}` matches what its schema forbids (not: {})",
                        shown_path(path),
                        describe_branch(not)
                    ),
                    "change the value so that it no longer matches",
                );
            }
        }
    }
}

fn shown_path(path: &str) -> &str {
    if path.is_empty() {
        "the object"
    } else {
        path
    }
}

/// A short description of a branch: `required: a, b` for the usual "one of these fields" form.
fn describe_branch(b: &Json) -> String {
    if let Some(r) = b.get("required").and_then(Json::as_array) {
        let names: Vec<String> = r
            .iter()
            .filter_map(Json::as_str)
            .map(|n| format!("`{n}`"))
            .collect();
        if !names.is_empty() && b.as_object().is_some_and(|o| o.len() == 1) {
            return format!("set {}", names.join(" and "));
        }
    }
    let mut text = b.to_string();
    if text.len() > 80 {
        let mut end = 77;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn alternatives(branches: &[Json], results: &[Vec<Finding>]) -> String {
    let parts: Vec<String> = branches
        .iter()
        .zip(results)
        .map(|(b, r)| {
            let why = r.first().map(|f| f.message.clone()).unwrap_or_default();
            format!("{} ({why})", describe_branch(b))
        })
        .collect();
    format!("the alternatives: {}", parts.join("; "))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e18 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// The compiled form of a schema's pattern, shared by every object (patterns Rust's regex
/// engine cannot compile are not checked).
fn regex(pattern: &str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
    c.entry(pattern.to_string())
        .or_insert_with(|| regex::Regex::new(pattern).ok())
        .clone()
}

fn format_help(format: &str) -> String {
    match format {
        "date-time" | "datetime" => {
            "write an RFC 3339 time such as \"2026-01-31T12:00:00Z\"".into()
        }
        "date" => "write a date such as \"2026-01-31\"".into(),
        "duration" => "write a duration such as \"30s\", \"5m\" or \"1h30m\"".into(),
        "byte" => {
            "write base64 data (`hash`/`yaml` helpers do not encode; use a base64 string)".into()
        }
        "ipv4" => "write an address such as \"10.0.0.1\"".into(),
        "ipv6" => "write an address such as \"fd00::1\"".into(),
        "cidr" => "write a network such as \"10.0.0.0/8\"".into(),
        "uuid" | "uuid3" | "uuid4" | "uuid5" => {
            "write a UUID such as \"123e4567-e89b-12d3-a456-426614174000\"".into()
        }
        "hostname" => "write a DNS name such as \"api.example.com\"".into(),
        "email" => "write an address such as \"team@example.com\"".into(),
        "uri" => "write an absolute URI such as \"https://example.com/path\"".into(),
        "mac" => "write a MAC address such as \"00:1a:2b:3c:4d:5e\"".into(),
        other => format!("see the CRD's description of the `{other}` format"),
    }
}

/// Why `text` is not of `format` (the formats the API server checks), or `None` when it is
/// or the format is one skyc does not know.
pub(crate) fn format_problem(format: &str, text: &str) -> Option<String> {
    let ok = match format {
        "date-time" | "datetime" => rfc3339(text),
        "date" => date(text),
        "duration" => crate::parse_duration(text).is_ok(),
        "byte" => base64(text),
        "ipv4" => text.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => text.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => cidr(text),
        "uuid" | "uuid3" | "uuid4" | "uuid5" => uuid(text),
        "hostname" => hostname(text),
        "email" => text
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !l.contains(char::is_whitespace) && hostname(d)),
        "uri" => {
            text.split_once("://").is_some_and(|(scheme, rest)| {
                scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    && !rest.is_empty()
            }) || text
                .split_once(':')
                .is_some_and(|(s, r)| s == "urn" && !r.is_empty())
        }
        "mac" => {
            let parts: Vec<&str> = text.split([':', '-']).collect();
            matches!(parts.len(), 6 | 8 | 20)
                && parts
                    .iter()
                    .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        }
        _ => return None,
    };
    (!ok).then(|| format!("\"{text}\""))
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse().ok())?
}

fn date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    let [y, m, d] = p[..] else { return false };
    let (Some(y), Some(m), Some(d)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

fn rfc3339(s: &str) -> bool {
    let Some((d, rest)) = s.split_once(['T', 't', ' ']) else {
        return false;
    };
    if !date(d) {
        return false;
    }
    let (time, zone) = if let Some(t) = rest.strip_suffix(['Z', 'z']) {
        (t, "")
    } else if let Some(i) = rest.rfind(['+', '-']) {
        (&rest[..i], &rest[i + 1..])
    } else {
        return false;
    };
    if !zone.is_empty() {
        let z: Vec<&str> = zone.split(':').collect();
        let [h, m] = z[..] else { return false };
        if digits(h, 2).is_none_or(|h| h >= 24) || digits(m, 2).is_none_or(|m| m >= 60) {
            return false;
        }
    }
    let (hms, frac) = match time.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (time, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let t: Vec<&str> = hms.split(':').collect();
    let [h, m, sec] = t[..] else { return false };
    digits(h, 2).is_some_and(|h| h < 24)
        && digits(m, 2).is_some_and(|m| m < 60)
        && digits(sec, 2).is_some_and(|s| s <= 60)
}

fn base64(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    let pad = s.len() - t.len();
    pad <= 2
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
        && t.len() % 4 != 1
        && (pad == 0 || s.len().is_multiple_of(4))
}

fn cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

fn uuid(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    p.len() == 5
        && p.iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(x, n)| x.len() == n && x.chars().all(|c| c.is_ascii_hexdigit()))
}

fn hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(schema: Json, v: Json) -> Vec<(FindingKind, String)> {
        validate(&schema, &v)
            .into_iter()
            .map(|f| (f.kind, f.path))
            .collect()
    }

    #[test]
    fn types_enums_and_unknown_fields() {
        let s = json!({"type": "object", "properties": {"spec": {"type": "object", "required": ["mode"], "properties": {
            "mode": {"type": "string", "enum": ["a", "b"]},
            "n": {"type": "integer"},
            "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}
        }}}});
        let v = json!({"apiVersion": "x/v1", "kind": "K", "metadata": {"name": "a"}, "spec": {
            "mode": "c", "n": "3", "port": "http", "free": {"any": {"thing": 1}}, "labels": {"a": 1}, "extra": true
        }});
        assert_eq!(
            kinds(s.clone(), v),
            [
                (FindingKind::Enum, "spec.mode".into()),
                (FindingKind::WrongType, "spec.n".into()),
                (FindingKind::WrongType, "spec.labels[\"a\"]".into()),
                (FindingKind::UnknownField, "spec.extra".into()),
            ]
        );
        assert_eq!(
            kinds(s, json!({"spec": {"port": 8080}})),
            [(FindingKind::Required, "spec.mode".into())]
        );
    }

    #[test]
    fn constraints() {
        let s = json!({"type": "object", "properties": {
            "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
            "n": {"type": "integer", "minimum": 1, "maximum": 10, "exclusiveMaximum": true},
            "items": {"type": "array", "maxItems": 2, "x-kubernetes-list-type": "set", "items": {"type": "string"}},
            "when": {"type": "string", "format": "date-time"},
            "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
                      "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}
        }});
        let v = json!({"name": "Abcdefg", "n": 10, "items": ["a", "a", "b"], "when": "yesterday",
                       "ports": [{"port": 1}, {"port": 1}]});
        let found = validate(&s, &v);
        let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["name", "name", "n", "items", "items[1]", "when", "ports[1]"]
        );
        assert!(found.iter().all(|f| f.kind == FindingKind::Constraint));
        assert!(validate(
            &s,
            &json!({"name": "abc", "n": 9, "when": "2026-01-31T12:00:00.5+01:00"})
        )
        .is_empty());
    }

    #[test]
    fn one_of_and_any_of() {
        let s = json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
                       "oneOf": [{"required": ["a"]}, {"required": ["b"]}]});
        assert!(validate(&s, &json!({"a": "x"})).is_empty());
        let both = validate(&s, &json!({"a": "x", "b": "y"}));
        assert_eq!(both.len(), 1);
        assert!(
            both[0].message.contains("may match only one"),
            "{}",
            both[0].message
        );
        assert!(both[0].help.contains("set `a`"), "{}", both[0].help);
        let neither = validate(&s, &json!({}));
        assert!(
            neither[0].message.contains("matches none"),
            "{}",
            neither[0].message
        );
    }

    #[test]
    fn embedded_resources_need_api_version_and_kind() {
        let s = json!({"type": "object", "properties": {"template": {"type": "object",
            "x-kubernetes-embedded-resource": true, "x-kubernetes-preserve-unknown-fields": true}}});
        let found = kinds(
            s.clone(),
            json!({"template": {"metadata": {"name": "x"}, "data": {}}}),
        );
        assert_eq!(
            found,
            [
                (FindingKind::Constraint, "template.apiVersion".into()),
                (FindingKind::Constraint, "template.kind".into())
            ]
        );
        assert!(validate(
            &s,
            &json!({"template": {"apiVersion": "v1", "kind": "ConfigMap"}})
        )
        .is_empty());
    }

    #[test]
    fn formats() {
        for (f, good, bad) in [
            ("date-time", "2026-02-28T23:59:59Z", "2026-02-30T00:00:00Z"),
            ("date", "2024-02-29", "2023-02-29"),
            ("duration", "1h30m", "an hour"),
            ("ipv4", "10.0.0.1", "10.0.0.256"),
            ("cidr", "10.0.0.0/8", "10.0.0.0/33"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
            ("hostname", "api.example.com", "-bad-.com"),
            ("byte", "aGVsbG8=", "not base64!"),
            ("email", "a@example.com", "nobody"),
            ("uri", "https://example.com", "example.com"),
        ] {
            assert_eq!(format_problem(f, good), None, "{f} {good}");
            assert!(format_problem(f, bad).is_some(), "{f} {bad}");
        }
        assert_eq!(format_problem("unknown-format", "x"), None);
    }
}
