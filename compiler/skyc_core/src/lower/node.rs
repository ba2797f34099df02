//! JSON trees that borrow their keys and strings: an object read from a tape ([`super::Tape`])
//! while it is lowered and checked, or a view of a `serde_json` tree.
//!
//! A `serde_json` tree owns a `String` for every key and string and hashes every key into its
//! object's map; an object is lowered, checked, written out as text and dropped, and needs
//! none of that. A [`Node`] is a vector of entries per object whose keys and strings point
//! into the tape's text (objects have a few keys: looked up by comparing them). What must
//! outlive the tape (the trees `skyc check` keeps for the lint rules, embedded Envoy
//! documents, what is rebuilt through a `k8s-openapi` struct) is converted with
//! [`Node::to_json`].

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value as Json};
use std::fmt;

/// A JSON value whose strings are borrowed (see the module documentation).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Node<'t> {
    #[default]
    Null,
    Bool(bool),
    Number(&'t Number),
    Str(&'t str),
    /// The placeholder string of the `i`th Envoy document embedded in the object
    /// ([`super::Embedded::placeholder`]).
    Embedded(usize),
    Array(Vec<Node<'t>>),
    /// Entries in order; keys are unique.
    Object(Vec<(&'t str, Node<'t>)>),
}

/// The placeholder string of the `i`th embedded Envoy document of an object.
pub(crate) fn placeholder(i: usize) -> String {
    format!("\u{0}skyc-embedded-{i}")
}

impl<'t> Node<'t> {
    /// A view of a `serde_json` tree.
    pub fn of(json: &'t Json) -> Node<'t> {
        match json {
            Json::Null => Node::Null,
            Json::Bool(b) => Node::Bool(*b),
            Json::Number(n) => Node::Number(n),
            Json::String(s) => Node::Str(s),
            Json::Array(a) => Node::Array(a.iter().map(Node::of).collect()),
            Json::Object(o) => {
                Node::Object(o.iter().map(|(k, v)| (k.as_str(), Node::of(v))).collect())
            }
        }
    }

    /// The same tree, owning its strings.
    pub fn to_json(&self) -> Json {
        match self {
            Node::Null => Json::Null,
            Node::Bool(b) => Json::Bool(*b),
            Node::Number(n) => Json::Number((*n).clone()),
            Node::Str(s) => Json::String(s.to_string()),
            Node::Embedded(i) => Json::String(placeholder(*i)),
            Node::Array(a) => Json::Array(a.iter().map(Node::to_json).collect()),
            Node::Object(o) => {
                let mut m = Map::with_capacity(o.len());
                for (k, v) in o {
                    m.insert(k.to_string(), v.to_json());
                }
                Json::Object(m)
            }
        }
    }

    /// The entries of an object.
    pub fn as_object(&self) -> Option<&[(&'t str, Node<'t>)]> {
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Vec<(&'t str, Node<'t>)>> {
        match self {
            Node::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Node<'t>>> {
        match self {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Node::Object(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Node::Str(_) | Node::Embedded(_))
    }

    pub fn is_boolean(&self) -> bool {
        matches!(self, Node::Bool(_))
    }

    pub fn is_f64(&self) -> bool {
        matches!(self, Node::Number(n) if n.is_f64())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Node::Number(n) => n.as_i64(),
            _ => None,
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Number(n) => n.serialize(s),
            Node::Str(t) => s.serialize_str(t),
            Node::Embedded(i) => s.serialize_str(&placeholder(*i)),
            Node::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Node::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, v) in o {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Compact JSON, as `serde_json::Value` displays.
impl fmt::Display for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

/// What the checks read of a JSON tree, for `serde_json` trees and [`Node`]s alike.
pub trait Tree: Sized {
    /// The value at `key` of an object.
    fn get(&self, key: &str) -> Option<&Self>;
    fn as_str(&self) -> Option<&str>;
    fn as_array(&self) -> Option<&[Self]>;
    /// The entries of an object, in order.
    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Self)>>;

    /// The value at a JSON pointer of object keys (`/spec/template`; no array indices or
    /// escapes).
    fn pointer(&self, pointer: &str) -> Option<&Self> {
        pointer
            .split('/')
            .skip(1)
            .try_fold(self, |at, key| at.get(key))
    }
}

impl Tree for Json {
    fn get(&self, key: &str) -> Option<&Json> {
        Json::get(self, key)
    }

    fn as_str(&self) -> Option<&str> {
        Json::as_str(self)
    }

    fn as_array(&self) -> Option<&[Json]> {
        Json::as_array(self).map(Vec::as_slice)
    }

    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Json)>> {
        Some(self.as_object()?.iter().map(|(k, v)| (k.as_str(), v)))
    }
}

impl<'t> Tree for Node<'t> {
    fn get(&self, key: &str) -> Option<&Node<'t>> {
        self.as_object()?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&[Node<'t>]> {
        match self {
            Node::Array(a) => Some(a),
            _ => None,
        }
    }

    fn entries(&self) -> Option<impl Iterator<Item = (&str, &Node<'t>)>> {
        Some(self.as_object()?.iter().map(|(k, v)| (*k, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree viewed as nodes writes, displays and converts back as the tree itself, keys in
    /// their order.
    #[test]
    fn nodes_write_as_the_tree_they_view() {
        let json = serde_json::json!({
            "z": 1, "a": [true, null, 0.5, -3, "s\"\n\u{1}é"], "m": {"k": {}}, "e": []
        });
        let node = Node::of(&json);
        assert_eq!(serde_json::to_string(&node).unwrap(), json.to_string());
        assert_eq!(node.to_string(), json.to_string());
        assert_eq!(node.to_json(), json);
        assert_eq!(node.pointer("/m/k"), Some(&Node::Object(Vec::new())));
        assert_eq!(json.pointer("/m/k"), Some(&serde_json::json!({})));
        assert_eq!(Tree::pointer(&json, "/a"), json.get("a"));
        assert_eq!(node.get("z").and_then(Node::as_i64), Some(1));
        assert!(node.get("nope").is_none() && node.get("a").unwrap().get("z").is_none());
        let e = Node::Embedded(2);
        assert_eq!(e.to_json(), Json::String(placeholder(2)));
        assert_eq!(e.to_string(), Json::String(placeholder(2)).to_string());
    }
}
