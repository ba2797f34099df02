//! Starlark values written out flat, as a tape of tokens, and JSON trees built from the tape.
//!
//! Converting `main`'s result is on the critical path of a render: only the evaluating
//! thread may read the Starlark heap, so it walks every object there. When it also built
//! each object's JSON tree (a string and a map for every field, every key hashed) and then
//! freed the trees the lowering thread sent back, that was most of its time after `main`
//! itself. Now it only writes tokens into a tape it reuses (one buffer of tokens, one of
//! text), and each tree is built from the tape where its object is lowered (the lowering
//! thread, or the evaluating thread for a batch the other was too busy to take: see
//! [`super::stream`]), with the field paths of where each message was built and of the Envoy
//! documents embedded in the object.
//!
//! Writing checks everything that can make a value unrenderable (depth, the memory budget,
//! values JSON has no form for), so reading cannot fail.

use super::node::{placeholder, Node};
use super::{Embedded, Origins, ToJsonError, JSON_NODE_BYTES};
use crate::values::kube::QuantityValue;
use crate::values::message::{Message, Origin};
use serde_json::{Number, Value as Json};
use skyc_schema::{FieldType, SchemaId, TypeId};
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{UnpackValue, Value};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::Arc;

/// Values written out flat: each value is one token, followed by its items (an array) or
/// its entries (an object: a key token, then the value).
#[derive(Default)]
pub(crate) struct Tape {
    toks: Vec<Tok>,
    /// The text of every string and dict key, one after the other.
    text: String,
}

enum Tok {
    Null,
    Bool(bool),
    Number(Number),
    /// A string: its text in [`Tape::text`].
    Str(Range<usize>),
    /// An array of this many items.
    Array(usize),
    /// An object of this many entries.
    Object(usize),
    /// A message field's name (an object's key).
    Field(&'static str),
    /// A dict key (an object's key): its text.
    Key(Range<usize>),
    /// The next value is a message built here.
    Origin(Arc<Origin>),
    /// The next value is an Envoy document of this type inside a Kubernetes object: it
    /// becomes an [`Embedded`], and a placeholder string in the object.
    Embedded(TypeId),
    /// The next value is the message an `Any` packs, with this type URL.
    Any(Range<usize>),
}

impl Tape {
    /// Empties the tape, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.toks.clear();
        self.text.clear();
    }

    /// Appends `v` and returns where it starts, or why it cannot be rendered (the tape is
    /// then as it was).
    pub(crate) fn write(&mut self, v: Value) -> Result<usize, ToJsonError> {
        let start = (self.toks.len(), self.text.len());
        let mut w = Writer {
            tape: self,
            in_envoy: false,
            // A quarter: the JSON is built while the value it comes from is alive, and is
            // then written out as text.
            budget: crate::memory::remaining() / 4,
        };
        match w.value(v, 0) {
            Ok(()) => Ok(start.0),
            Err(e) => {
                self.toks.truncate(start.0);
                self.text.truncate(start.1);
                Err(e)
            }
        }
    }

    /// The value written at `start`: its JSON tree, where each message in it was built, and
    /// the Envoy documents embedded in it.
    pub(crate) fn read(&self, start: usize) -> (Json, Origins, Vec<Embedded>) {
        let (node, origins, embedded) = self.read_node(start);
        (node.to_json(), origins, embedded)
    }

    /// Like [`Tape::read`], the tree borrowing its strings from the tape.
    pub(crate) fn read_node(&self, start: usize) -> (Node<'_>, Origins, Vec<Embedded>) {
        let mut r = Reader {
            toks: &self.toks,
            text: &self.text,
            pos: start,
            path: String::new(),
            origins: Origins::default(),
            embedded: Vec::new(),
        };
        let node = r.value();
        (node, r.origins, r.embedded)
    }
}

/// Writes one value to a tape, checking it can be rendered.
struct Writer<'t> {
    tape: &'t mut Tape,
    /// Inside an Envoy message, where nested Envoy messages are plain objects, not embedded
    /// documents.
    in_envoy: bool,
    /// Bytes the JSON may still take (see [`JSON_NODE_BYTES`]).
    budget: u64,
}

impl Writer<'_> {
    /// Counts `bytes` against the budget.
    fn charge(&mut self, bytes: u64) -> Result<(), ToJsonError> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(ToJsonError {
                message: format!(
                    "the value is too large to render: written out, it would take more memory than the limit leaves ({} bytes); does it contain itself many times over?",
                    crate::memory::remaining()
                ),
                too_large: true,
                unsupported: false,
            }),
        }
    }

    fn push(&mut self, t: Tok) {
        self.tape.toks.push(t);
    }

    /// `s` appended to the text.
    fn text(&mut self, s: &str) -> Range<usize> {
        let start = self.tape.text.len();
        self.tape.text.push_str(s);
        start..self.tape.text.len()
    }

    fn value(&mut self, v: Value, depth: usize) -> Result<(), ToJsonError> {
        if depth > 200 {
            return Err(
                String::from("the value is nested too deeply to render (over 200 levels)").into(),
            );
        }
        self.charge(JSON_NODE_BYTES)?;
        if v.is_none() {
            self.push(Tok::Null);
            return Ok(());
        }
        if let Some(b) = v.unpack_bool() {
            self.push(Tok::Bool(b));
            return Ok(());
        }
        if let Some(s) = v.unpack_str() {
            self.charge(s.len() as u64)?;
            let r = self.text(s);
            self.push(Tok::Str(r));
            return Ok(());
        }
        if let Some(m) = Message::from_value(v) {
            return self.message(v, m, depth);
        }
        let items = ListRef::from_value(v)
            .map(|l| l.content())
            .or_else(|| TupleRef::from_value(v).map(|t| t.content()));
        if let Some(items) = items {
            self.push(Tok::Array(items.len()));
            for x in items {
                self.value(*x, depth + 1)?;
            }
            return Ok(());
        }
        if let Some(n) = v.unpack_i32() {
            self.push(Tok::Number(n.into()));
            return Ok(());
        }
        if v.get_type() == "int" {
            return match i64::unpack_value(v) {
                Ok(Some(n)) => {
                    self.push(Tok::Number(n.into()));
                    Ok(())
                }
                _ => Err(format!("the integer {} is too large to render", v.to_str()).into()),
            };
        }
        if v.get_type() == "float" {
            let f: f64 = v
                .to_str()
                .parse()
                .map_err(|_| format!("cannot render float {}", v.to_str()))?;
            let n = Number::from_f64(f)
                .ok_or_else(|| format!("cannot render the float {} (not finite)", v.to_str()))?;
            self.push(Tok::Number(n));
            return Ok(());
        }
        if let Some(q) = QuantityValue::from_value(v) {
            let r = self.text(&q.0.text);
            self.push(Tok::Str(r));
            return Ok(());
        }
        if let Some(d) = DictRef::from_value(v) {
            self.push(Tok::Object(d.len()));
            for (k, val) in d.iter() {
                let Some(k) = k.unpack_str() else {
                    return Err(format!(
                        "dict keys must be strings to render, got {}",
                        crate::values::repr(k)
                    )
                    .into());
                };
                let r = self.text(k);
                self.push(Tok::Key(r));
                self.value(val, depth + 1)?;
            }
            return Ok(());
        }
        Err(ToJsonError {
            message: format!(
                "a value of type `{}` cannot be rendered: {}",
                v.get_type(),
                crate::values::repr(v)
            ),
            too_large: false,
            unsupported: true,
        })
    }

    /// A message: an object of its set fields, or (an Envoy message inside a Kubernetes
    /// object) an embedded document.
    fn message(&mut self, v: Value, m: Message, depth: usize) -> Result<(), ToJsonError> {
        if m.ty.source() == SchemaId::ENVOY && !self.in_envoy {
            self.push(Tok::Embedded(m.ty));
            drop(m);
            self.in_envoy = true;
            let r = self.value(v, depth);
            self.in_envoy = false;
            return r;
        }
        if let Some(o) = m.origin {
            self.push(Tok::Origin(o.clone()));
        }
        let at = self.tape.toks.len();
        self.push(Tok::Object(0));
        let mut n = 0;
        for (field, val) in m.field_entries() {
            // A protobuf message (skycfg's semantics) has no empty repeated or map fields:
            // reading one creates it empty.
            if m.proto && is_empty_container(val) {
                continue;
            }
            self.push(Tok::Field(&field.name));
            if any_valued(&field.ty) {
                self.any(val, depth + 1)?;
            } else {
                self.value(val, depth + 1)?;
            }
            n += 1;
        }
        self.tape.toks[at] = Tok::Object(n);
        Ok(())
    }

    /// An `Any` value: the packed message's fields after its `@type`.
    fn any(&mut self, v: Value, depth: usize) -> Result<(), ToJsonError> {
        if let Some(m) = Message::from_value(v) {
            let url = skyc_schema::envoy::type_url(&m.message_type().name);
            drop(m);
            let r = self.text(&url);
            self.push(Tok::Any(r));
            return self.value(v, depth);
        }
        if let Some(l) = ListRef::from_value(v) {
            self.push(Tok::Array(l.len()));
            for x in l.content() {
                self.any(*x, depth + 1)?;
            }
            return Ok(());
        }
        if let Some(d) = DictRef::from_value(v) {
            let entries: Vec<(&str, Value)> = d
                .iter()
                .filter_map(|(k, x)| k.unpack_str().map(|k| (k, x)))
                .collect();
            drop(d);
            self.push(Tok::Object(entries.len()));
            for (k, x) in entries {
                let r = self.text(k);
                self.push(Tok::Key(r));
                self.any(x, depth + 1)?;
            }
            return Ok(());
        }
        self.value(v, depth)
    }
}

fn is_empty_container(v: Value) -> bool {
    ListRef::from_value(v).is_some_and(|l| l.is_empty())
        || DictRef::from_value(v).is_some_and(|d| d.is_empty())
}

/// Whether a field holds `Any` values (directly, or as list or map items).
fn any_valued(ty: &FieldType) -> bool {
    match ty {
        FieldType::Any => true,
        FieldType::List(t) | FieldType::Map(t) => any_valued(t),
        _ => false,
    }
}

/// Builds one value's JSON tree from a tape, following the field path it is at.
struct Reader<'t> {
    toks: &'t [Tok],
    text: &'t str,
    pos: usize,
    path: String,
    origins: Origins,
    embedded: Vec<Embedded>,
}

impl<'t> Reader<'t> {
    fn value(&mut self) -> Node<'t> {
        let toks = self.toks;
        let text = self.text;
        let t = &toks[self.pos];
        self.pos += 1;
        match t {
            Tok::Null => Node::Null,
            Tok::Bool(b) => Node::Bool(*b),
            Tok::Number(n) => Node::Number(n),
            Tok::Str(r) => Node::Str(&text[r.clone()]),
            Tok::Array(n) => {
                let mut out = Vec::with_capacity(*n);
                for i in 0..*n {
                    let len = self.path.len();
                    self.path.push('[');
                    self.path.push_str(itoa::Buffer::new().format(i));
                    self.path.push(']');
                    out.push(self.value());
                    self.path.truncate(len);
                }
                Node::Array(out)
            }
            Tok::Object(n) => {
                let mut obj = Vec::with_capacity(*n);
                self.entries(*n, &mut obj);
                Node::Object(obj)
            }
            Tok::Origin(o) => {
                self.origins.0.push((self.path.clone(), o.clone()));
                self.value()
            }
            Tok::Embedded(ty) => {
                let json = self.value().to_json();
                let i = self.embedded.len();
                self.embedded.push(Embedded {
                    placeholder: placeholder(i),
                    path: self.path.clone(),
                    ty: *ty,
                    json,
                });
                Node::Embedded(i)
            }
            Tok::Any(url) => {
                // The packed message's fields after its `@type`.
                let inner = self.value();
                let mut obj = vec![("@type", Node::Str(&text[url.clone()]))];
                if let Node::Object(fields) = inner {
                    obj.extend(fields);
                }
                Node::Object(obj)
            }
            Tok::Field(_) | Tok::Key(_) => unreachable!("a key outside an object"),
        }
    }

    /// An object's `n` entries, each a key token and a value.
    fn entries(&mut self, n: usize, obj: &mut Vec<(&'t str, Node<'t>)>) {
        let toks = self.toks;
        let text = self.text;
        for _ in 0..n {
            let len = self.path.len();
            let kt = &toks[self.pos];
            self.pos += 1;
            let key: &str = match kt {
                Tok::Field(name) => {
                    if len > 0 {
                        self.path.push('.');
                    }
                    self.path.push_str(name);
                    name
                }
                Tok::Key(r) => {
                    let k = &text[r.clone()];
                    push_key(&mut self.path, k);
                    k
                }
                _ => unreachable!("an object's entry starts with its key"),
            };
            let v = self.value();
            obj.push((key, v));
            self.path.truncate(len);
        }
    }
}

/// Appends the dict key `["k"]` to a field path (quoted and escaped as Rust's `Debug` writes
/// a string; most keys need no escape, and are copied as they are).
fn push_key(path: &mut String, k: &str) {
    let plain = k
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if plain {
        path.push_str("[\"");
        path.push_str(k);
        path.push_str("\"]");
    } else {
        write!(path, "[{k:?}]").expect("writing to a String cannot fail");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starlark::environment::Module;
    use starlark::values::dict::AllocDict;
    use starlark::values::list::AllocList;
    use starlark::values::structs::AllocStruct;

    /// A dict key in a field path reads as Rust's `Debug` quotes it, whether or not it needs
    /// escapes.
    #[test]
    fn dict_keys_in_paths_are_quoted_as_debug_quotes_them() {
        for k in [
            "app",
            "a b",
            "it's",
            "x\"y",
            "back\\slash",
            "tab\t",
            "é",
            "",
            "~!{}",
        ] {
            let mut path = String::from("data");
            push_key(&mut path, k);
            assert_eq!(path, format!("data[{k:?}]"), "{k}");
        }
    }

    /// Values written one after another on a tape read back each as it was, also when one
    /// in between could not be written (it leaves nothing behind) and after the tape was
    /// emptied for reuse.
    #[test]
    fn a_tape_holds_values_one_after_another() {
        Module::with_temp_heap(|m| {
            let heap = m.heap();
            let first = heap.alloc(AllocDict([
                ("name", heap.alloc("a")),
                ("n", heap.alloc(7)),
                ("big", heap.alloc(1i64 << 40)),
                ("ratio", heap.alloc(0.5)),
                ("on", Value::new_bool(true)),
                ("none", Value::new_none()),
                ("tab\tkey", heap.alloc(AllocList(["x", "y"]))),
            ]));
            // Fails halfway: a struct has no JSON form.
            let broken = heap.alloc(AllocDict([
                ("ok", heap.alloc("fine")),
                ("bad", heap.alloc(AllocStruct([("x", 1)]))),
            ]));
            let second = heap.alloc(AllocList([heap.alloc("b"), heap.alloc(AllocList([1, 2]))]));

            let mut tape = Tape::default();
            let a = tape.write(first).unwrap();
            let before = (tape.toks.len(), tape.text.len());
            let e = tape.write(broken).unwrap_err();
            assert!(e.unsupported, "{e}");
            assert_eq!((tape.toks.len(), tape.text.len()), before);
            let b = tape.write(second).unwrap();

            let want_first = serde_json::json!({
                "name": "a", "n": 7, "big": 1i64 << 40, "ratio": 0.5, "on": true,
                "none": null, "tab\tkey": ["x", "y"],
            });
            let want_second = serde_json::json!(["b", [1, 2]]);
            let (j, origins, embedded) = tape.read(a);
            assert_eq!(j, want_first);
            // Keys keep the dict's order.
            let keys: Vec<&String> = j.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                ["name", "n", "big", "ratio", "on", "none", "tab\tkey"]
            );
            assert!(origins.0.is_empty() && embedded.is_empty());
            assert_eq!(tape.read(b).0, want_second);

            tape.clear();
            let c = tape.write(second).unwrap();
            assert_eq!(c, 0);
            assert_eq!(tape.read(c).0, want_second);
            Ok::<_, starlark::Error>(())
        })
        .unwrap();
    }

    /// A value nested too deeply or too large for the budget is refused while it is written.
    #[test]
    fn values_too_deep_are_refused_when_written() {
        Module::with_temp_heap(|m| {
            let heap = m.heap();
            let mut v = heap.alloc("leaf");
            for _ in 0..250 {
                v = heap.alloc(AllocList([v]));
            }
            let mut tape = Tape::default();
            let e = tape.write(v).unwrap_err();
            assert!(e.message.contains("nested too deeply"), "{e}");
            assert!(tape.toks.is_empty() && tape.text.is_empty());
            Ok::<_, starlark::Error>(())
        })
        .unwrap();
    }
}
