//! The protobuf text format over skyc's message model, for `proto.encode_text` and
//! `proto.decode_text`.
//!
//! Fields are written with the names of the model (Kubernetes: the JSON names; Envoy: the
//! protobuf names). Values skyc keeps as scalars are written as such: a quantity or a duration
//! is a string (`cpu: "500m"`, `timeout: "5s"`), an enum value a bare name. A message in an
//! `Any` field is written expanded: `typed_config { [type.googleapis.com/T] { ... } }`.
//! Decoding reads what encoding writes, plus the usual variants of the format: `:` before a
//! message is optional, `<...>` may stand for `{...}`, a list may be given as `[a, b]`, items
//! may end in `,` or `;`, and `#` starts a comment.

use super::kube::QuantityValue;
use super::message::Message;
use skyc_schema::{FieldType, SchemaId, TypeId};
use starlark::values::dict::{AllocDict, DictRef};
use starlark::values::list::{AllocList, ListRef};
use starlark::values::{Heap, Value};
use std::fmt::Write;

/// The text of a message: one field per line, nested by two spaces, or on one line when
/// `compact`.
pub(crate) fn encode(v: Value, compact: bool) -> Result<String, String> {
    let mut out = String::new();
    let m = Message::from_value(v).ok_or_else(|| format!("{} is not a message", v.get_type()))?;
    write_fields(&m, &mut out, compact, 0, 0)?;
    if compact {
        Ok(out.trim_end().to_string())
    } else {
        Ok(out)
    }
}

const MAX_DEPTH: usize = 100;

fn write_fields(
    m: &Message,
    out: &mut String,
    compact: bool,
    level: usize,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "messages are nested deeper than {MAX_DEPTH} levels"
        ));
    }
    for (field, v) in m.field_entries() {
        match &field.ty {
            FieldType::List(item) => {
                let items: Vec<Value> = ListRef::from_value(v)
                    .map(|l| l.content().to_vec())
                    .unwrap_or_default();
                for x in items {
                    write_field(&field.name, item, x, out, compact, level, depth)?;
                }
            }
            FieldType::Map(item) => {
                let entries: Vec<(Value, Value)> = DictRef::from_value(v)
                    .map(|d| d.iter().collect())
                    .unwrap_or_default();
                for (k, x) in entries {
                    open(&field.name, out, compact, level);
                    line(out, compact, level + 1);
                    out.push_str("key: ");
                    write_string(k.unpack_str().unwrap_or_default(), out);
                    end(out, compact);
                    write_field("value", item, x, out, compact, level + 1, depth)?;
                    close(out, compact, level);
                }
            }
            ty => write_field(&field.name, ty, v, out, compact, level, depth)?,
        }
    }
    Ok(())
}

fn line(out: &mut String, compact: bool, level: usize) {
    if !compact {
        out.push_str(&"  ".repeat(level));
    }
}

fn end(out: &mut String, compact: bool) {
    out.push(if compact { ' ' } else { '\n' });
}

fn open(name: &str, out: &mut String, compact: bool, level: usize) {
    line(out, compact, level);
    out.push_str(name);
    out.push_str(" {");
    end(out, compact);
}

fn close(out: &mut String, compact: bool, level: usize) {
    line(out, compact, level);
    out.push('}');
    end(out, compact);
}

fn write_field(
    name: &str,
    ty: &FieldType,
    v: Value,
    out: &mut String,
    compact: bool,
    level: usize,
    depth: usize,
) -> Result<(), String> {
    if let Some(m) = Message::from_value(v) {
        open(name, out, compact, level);
        if matches!(ty, FieldType::Any) {
            let url = skyc_schema::envoy::type_url(&m.message_type().name);
            open(&format!("[{url}]"), out, compact, level + 1);
            write_fields(&m, out, compact, level + 2, depth + 1)?;
            close(out, compact, level + 1);
        } else {
            write_fields(&m, out, compact, level + 1, depth + 1)?;
        }
        close(out, compact, level);
        return Ok(());
    }
    line(out, compact, level);
    out.push_str(name);
    out.push_str(": ");
    if let Some(s) = v.unpack_str() {
        match ty {
            FieldType::String {
                enum_values: Some(_),
            } => out.push_str(s),
            _ => write_string(s, out),
        }
    } else if let Some(b) = v.unpack_bool() {
        out.push_str(if b { "true" } else { "false" });
    } else if let Some(q) = QuantityValue::from_value(v) {
        write_string(&q.0.text, out);
    } else if matches!(v.get_type(), "int" | "float") {
        out.push_str(&v.to_str());
    } else {
        return Err(format!(
            "`{name}` holds {} {}, which the text format cannot write",
            v.get_type(),
            crate::values::repr(v)
        ));
    }
    end(out, compact);
    Ok(())
}

/// A double-quoted string with C-style escapes (bytes outside printable ASCII as octal, as
/// the format's reference implementation writes them).
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
}

/// A parsed field value, before the schema gives it a type.
#[derive(Debug)]
enum Node {
    Str(String),
    Ident(String),
    Int(i64),
    Float(f64),
    Message(Vec<(String, Node)>),
    List(Vec<Node>),
}

struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    depth: usize,
}

/// A syntax error with its line and column (1-based) in the text.
pub(crate) struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        let before = &self.text[..self.pos.min(self.text.len())];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let column = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
        SyntaxError {
            message: message.into(),
            line,
            column,
        }
    }

    fn skip_space(&mut self) {
        while self.pos < self.text.len() {
            match self.text[self.pos] {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'#' => {
                    while self.pos < self.text.len() && self.text[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.text.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_space();
        let start = self.pos;
        while self.pos < self.text.len()
            && (self.text[self.pos].is_ascii_alphanumeric() || self.text[self.pos] == b'_')
        {
            self.pos += 1;
        }
        if self.pos > start && !self.text[start].is_ascii_digit() {
            Some(String::from_utf8_lossy(&self.text[start..self.pos]).into_owned())
        } else {
            self.pos = start;
            None
        }
    }

    /// Fields until `close` (or the end of the text when `close` is None).
    fn fields(&mut self, close: Option<u8>) -> Result<Vec<(String, Node)>, SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "messages are nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut out = Vec::new();
        loop {
            match (self.peek(), close) {
                (None, None) => break,
                (None, Some(c)) => {
                    return Err(self.error(format!("expected `{}` before the end", c as char)))
                }
                (Some(c), Some(want)) if c == want => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            let name = if self.eat(b'[') {
                let start = self.pos;
                while self.pos < self.text.len() && self.text[self.pos] != b']' {
                    self.pos += 1;
                }
                let url = String::from_utf8_lossy(&self.text[start..self.pos])
                    .trim()
                    .to_string();
                if !self.eat(b']') {
                    return Err(self.error("expected `]`"));
                }
                format!("[{url}]")
            } else {
                self.ident()
                    .ok_or_else(|| self.error("expected a field name"))?
            };
            let colon = self.eat(b':');
            let value = match self.peek() {
                Some(b'{') | Some(b'<') => self.message()?,
                Some(b'[') if colon => {
                    self.pos += 1;
                    let mut items = Vec::new();
                    if !self.eat(b']') {
                        loop {
                            items.push(match self.peek() {
                                Some(b'{') | Some(b'<') => self.message()?,
                                _ => self.scalar()?,
                            });
                            if self.eat(b']') {
                                break;
                            }
                            if !self.eat(b',') {
                                return Err(self.error("expected `,` or `]`"));
                            }
                        }
                    }
                    Node::List(items)
                }
                _ if colon => self.scalar()?,
                _ => return Err(self.error(format!("expected `:` or `{{` after `{name}`"))),
            };
            out.push((name, value));
            if !self.eat(b',') {
                self.eat(b';');
            }
        }
        self.depth -= 1;
        Ok(out)
    }

    fn message(&mut self) -> Result<Node, SyntaxError> {
        let close = if self.eat(b'{') {
            b'}'
        } else {
            self.pos += 1;
            b'>'
        };
        Ok(Node::Message(self.fields(Some(close))?))
    }

    fn scalar(&mut self) -> Result<Node, SyntaxError> {
        match self.peek() {
            Some(b'"') | Some(b'\'') => {
                let mut s = Vec::new();
                // Adjacent strings are one string.
                while let Some(q @ (b'"' | b'\'')) = self.peek() {
                    self.pos += 1;
                    self.string_body(q, &mut s)?;
                }
                String::from_utf8(s)
                    .map(Node::Str)
                    .map_err(|_| self.error("the string is not valid UTF-8"))
            }
            Some(c) if c == b'-' || c == b'.' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.pos < self.text.len()
                    && (self.text[self.pos].is_ascii_alphanumeric()
                        || matches!(self.text[self.pos], b'.' | b'+' | b'-'))
                {
                    self.pos += 1;
                }
                let t = String::from_utf8_lossy(&self.text[start..self.pos]).into_owned();
                let t = t.trim_end_matches(['f', 'F']);
                if let Ok(n) = t.parse::<i64>() {
                    return Ok(Node::Int(n));
                }
                if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                    if let Ok(n) = i64::from_str_radix(h, 16) {
                        return Ok(Node::Int(n));
                    }
                }
                t.parse::<f64>().map(Node::Float).map_err(|_| {
                    self.pos = start;
                    self.error(format!("`{t}` is not a number"))
                })
            }
            _ => self
                .ident()
                .map(Node::Ident)
                .ok_or_else(|| self.error("expected a value")),
        }
    }

    fn string_body(&mut self, quote: u8, out: &mut Vec<u8>) -> Result<(), SyntaxError> {
        loop {
            let Some(&c) = self.text.get(self.pos) else {
                return Err(self.error("the string is not closed"));
            };
            self.pos += 1;
            match c {
                b'\n' => return Err(self.error("the string is not closed on its line")),
                c if c == quote => return Ok(()),
                b'\\' => {
                    let Some(&e) = self.text.get(self.pos) else {
                        return Err(self.error("the string is not closed"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'v' => out.push(11),
                        b'0'..=b'7' => {
                            let mut n = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.text.get(self.pos) {
                                    Some(&d @ b'0'..=b'7') => {
                                        n = n * 8 + u32::from(d - b'0');
                                        self.pos += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(n as u8);
                        }
                        b'x' => {
                            let start = self.pos;
                            while self.pos < self.text.len()
                                && self.pos - start < 2
                                && self.text[self.pos].is_ascii_hexdigit()
                            {
                                self.pos += 1;
                            }
                            let h = std::str::from_utf8(&self.text[start..self.pos]).unwrap_or("");
                            let n = u8::from_str_radix(h, 16)
                                .map_err(|_| self.error("`\\x` needs hex digits"))?;
                            out.push(n);
                        }
                        b'"' | b'\'' | b'\\' | b'?' => out.push(e),
                        other => {
                            return Err(self.error(format!("unknown escape `\\{}`", other as char)))
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }
}

/// Parses `text` as the fields of a message of type `ty`, into the dict its constructor
/// would take (repeated fields gathered into lists, map entries into dicts, an expanded
/// `Any` into a dict with its `@type`). The constructor's conversion checks the types.
pub(crate) fn decode<'v>(text: &str, ty: TypeId, heap: Heap<'v>) -> Result<Value<'v>, SyntaxError> {
    let mut p = Parser {
        text: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    let fields = p.fields(None)?;
    Ok(message_value(fields, Some(ty), heap))
}

fn message_value<'v>(fields: Vec<(String, Node)>, ty: Option<TypeId>, heap: Heap<'v>) -> Value<'v> {
    let t = ty.map(skyc_schema::lookup);
    // Field name → (its type, the values given), in the order first seen.
    let mut grouped: Vec<(String, Option<&'static FieldType>, Vec<Node>)> = Vec::new();
    for (name, node) in fields {
        if let Some(url) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
            // An expanded Any: the dict of the packed message, with its type.
            let inner_ty = url
                .rsplit('/')
                .next()
                .and_then(|n| skyc_schema::schema_of(SchemaId::ENVOY).by_name(n))
                .map(|t| t.id);
            let inner = match node {
                Node::Message(f) => message_value(f, inner_ty, heap),
                other => node_value(other, None, heap),
            };
            let mut entries = vec![(heap.alloc("@type"), heap.alloc(url))];
            if let Some(d) = DictRef::from_value(inner) {
                entries.extend(d.iter());
            }
            return heap.alloc(AllocDict(entries));
        }
        let fty = t.and_then(|t| t.field(&name)).map(|(_, f)| &f.ty);
        match grouped.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, _, nodes)) => nodes.push(node),
            None => grouped.push((name, fty, vec![node])),
        }
    }
    let mut entries = Vec::with_capacity(grouped.len());
    for (name, fty, nodes) in grouped {
        let value = match fty {
            Some(FieldType::List(item)) => {
                let mut items = Vec::new();
                for n in nodes {
                    match n {
                        Node::List(xs) => {
                            items.extend(xs.into_iter().map(|x| node_value(x, Some(item), heap)))
                        }
                        n => items.push(node_value(n, Some(item), heap)),
                    }
                }
                heap.alloc(AllocList(items))
            }
            Some(FieldType::Map(item)) => {
                let mut out = Vec::new();
                for n in nodes {
                    let Node::Message(kv) = n else { continue };
                    let mut key = None;
                    let mut value = None;
                    for (k, v) in kv {
                        match k.as_str() {
                            "key" => key = Some(node_value(v, None, heap)),
                            "value" => value = Some(node_value(v, Some(item), heap)),
                            _ => {}
                        }
                    }
                    if let Some(k) = key {
                        out.push((k, value.unwrap_or_else(Value::new_none)));
                    }
                }
                heap.alloc(AllocDict(out))
            }
            _ => {
                // A scalar given more than once: the last one counts, as in the format's
                // reference implementation; a message given more than once is merged there,
                // which a dict cannot express, so the last one counts too.
                let last = nodes.into_iter().last().expect("a group has a value");
                node_value(last, fty, heap)
            }
        };
        entries.push((heap.alloc(name), value));
    }
    heap.alloc(AllocDict(entries))
}

fn node_value<'v>(node: Node, ty: Option<&FieldType>, heap: Heap<'v>) -> Value<'v> {
    match node {
        Node::Str(s) => heap.alloc(s),
        Node::Int(n) => heap.alloc(n),
        Node::Float(f) => heap.alloc(f),
        Node::Ident(i) => match (i.as_str(), ty) {
            ("true" | "True" | "t", Some(FieldType::Bool)) => Value::new_bool(true),
            ("false" | "False" | "f", Some(FieldType::Bool)) => Value::new_bool(false),
            ("inf" | "infinity", _) => heap.alloc(f64::INFINITY),
            ("nan", _) => heap.alloc(f64::NAN),
            _ => heap.alloc(i),
        },
        Node::List(items) => heap.alloc(AllocList(
            items
                .into_iter()
                .map(|x| node_value(x, ty, heap))
                .collect::<Vec<_>>(),
        )),
        Node::Message(fields) => {
            let inner = match ty {
                Some(FieldType::Message(id)) => Some(*id),
                _ => None,
            };
            message_value(fields, inner, heap)
        }
    }
}
