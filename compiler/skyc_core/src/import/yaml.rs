//! YAML for `skyc import`: documents as trees that remember the line and column of every node
//! and key, plus the comments of the text, so the importer can point at the YAML line of a
//! problem and carry comments over into the `.sky` source.
//!
//! Scalars resolve as Kubernetes tooling (kubectl, via YAML 1.1) reads them: `yes`/`no`/`on`/
//! `off` are booleans, `0644` is octal, `1e3` is a number; aliases are expanded and merge keys
//! (`<<: *base`) applied, explicit keys winning. Duplicate keys, custom tags and keys that are
//! not scalars are errors, never guessed at.

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use std::collections::HashMap;

/// A position in the YAML text: 1-based line, 0-based column (characters), byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
    pub byte: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub start: Pos,
    pub end: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

/// One document of the stream (`None` when it is empty or holds only comments).
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Option<Node>,
    pub start: Pos,
    pub end: Pos,
}

/// A `#` comment: its text without the `#` and one following space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub line: usize,
    pub text: String,
    /// Alone on its line (else it follows a value).
    pub own_line: bool,
}

#[derive(Debug)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub comments: Vec<Comment>,
}

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub kind: ErrorKind,
    pub message: String,
    pub pos: Pos,
    pub end: Pos,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Syntax,
    DuplicateKey,
    Unsupported,
}

/// Aliases may expand a small text into a huge tree ("billion laughs"); past this many nodes
/// the document is refused.
const MAX_NODES: usize = 1_000_000;

/// Byte offsets of line starts, to turn (line, column in characters) into byte offsets.
struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { text, starts }
    }

    fn pos(&self, line: usize, col: usize) -> Pos {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return Pos {
                line,
                col,
                byte: self.text.len(),
            };
        };
        let rest = &self.text[start..];
        let byte = start
            + rest
                .char_indices()
                .nth(col)
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
        Pos { line, col, byte }
    }

    fn marker(&self, m: &saphyr_parser::Marker) -> Pos {
        self.pos(m.line(), m.col())
    }
}

enum Frame {
    Seq {
        anchor: usize,
        start: Pos,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        start: Pos,
        entries: Vec<Entry>,
        /// Merged entries from `<<`, applied at the end (explicit keys win).
        merged: Vec<Entry>,
        /// A key waiting for its value.
        key: Option<(Node, bool)>,
    },
}

/// Reads a YAML stream.
pub fn parse(text: &str) -> Result<Stream, YamlError> {
    let lines = Lines::new(text);
    let mut documents = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Node> = None;
    let mut doc_start = Pos::default();
    let mut nodes = 0usize;
    // Lines inside multi-line scalars, where `#` is content, not a comment.
    let mut content_lines: Vec<(usize, usize)> = Vec::new();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, span): (Event, YSpan) = match parser.next_event() {
            None => break,
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                let pos = lines.marker(e.marker());
                let message = if e.info().contains("anchor") {
                    "this alias names no anchor defined before it in this document".to_string()
                } else {
                    e.info().to_string()
                };
                return Err(YamlError {
                    kind: ErrorKind::Syntax,
                    message,
                    pos,
                    end: pos,
                });
            }
        };
        let start = lines.marker(&span.start);
        let end = lines.marker(&span.end);
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
            Event::DocumentStart(_) => {
                doc_start = start;
                root = None;
                anchors.clear();
                continue;
            }
            Event::DocumentEnd => {
                documents.push(Document {
                    root: root.take(),
                    start: doc_start,
                    end,
                });
                continue;
            }
            Event::Alias(id) => {
                let Some(n) = anchors.get(&id) else {
                    return Err(err(
                        ErrorKind::Syntax,
                        "this alias names no anchor defined before it in this document",
                        start,
                        end,
                    ));
                };
                nodes += count(n);
                if nodes > MAX_NODES {
                    return Err(err(
                        ErrorKind::Unsupported,
                        format!("aliases expand this document past {MAX_NODES} nodes"),
                        start,
                        end,
                    ));
                }
                let mut n = n.clone();
                n.start = start;
                n.end = end;
                n
            }
            Event::Scalar(value, style, anchor, tag) => {
                nodes += 1;
                match style {
                    // A block scalar's span starts at its first content line and ends at the
                    // start of the line after its last one.
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        let last = if end.col == 0 {
                            end.line.saturating_sub(1)
                        } else {
                            end.line
                        };
                        content_lines.push((start.line, last));
                    }
                    _ if end.line > start.line => content_lines.push((start.line + 1, end.line)),
                    _ => {}
                }
                let tag = tag.map(|t| format!("{}{}", t.handle, t.suffix));
                let v = resolve(&value, style, tag.as_deref())
                    .map_err(|m| err(ErrorKind::Unsupported, m, start, end))?;
                let n = Node {
                    value: v,
                    start,
                    end,
                };
                if anchor != 0 {
                    anchors.insert(anchor, n.clone());
                }
                // A plain `<<` key is a merge key.
                if matches!(style, ScalarStyle::Plain) && value == "<<" && tag.is_none() {
                    if let Some(Frame::Map { key: k @ None, .. }) = stack.last_mut() {
                        *k = Some((n, true));
                        continue;
                    }
                }
                n
            }
            Event::SequenceStart(anchor, tag) => {
                check_collection_tag(
                    tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    "seq",
                    start,
                )?;
                stack.push(Frame::Seq {
                    anchor,
                    start,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                check_collection_tag(
                    tag.map(|t| format!("{}{}", t.handle, t.suffix)),
                    "map",
                    start,
                )?;
                stack.push(Frame::Map {
                    anchor,
                    start,
                    entries: Vec::new(),
                    merged: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => {
                let Some(Frame::Seq {
                    anchor,
                    start,
                    items,
                }) = stack.pop()
                else {
                    unreachable!("the parser balances sequences");
                };
                nodes += 1;
                let n = Node {
                    value: Value::Seq(items),
                    start,
                    end,
                };
                if anchor != 0 {
                    anchors.insert(anchor, n.clone());
                }
                n
            }
            Event::MappingEnd => {
                let Some(Frame::Map {
                    anchor,
                    start,
                    mut entries,
                    merged,
                    ..
                }) = stack.pop()
                else {
                    unreachable!("the parser balances mappings");
                };
                for m in merged {
                    if !entries.iter().any(|e| e.key == m.key) {
                        entries.push(m);
                    }
                }
                nodes += 1;
                let n = Node {
                    value: Value::Map(entries),
                    start,
                    end,
                };
                if anchor != 0 {
                    anchors.insert(anchor, n.clone());
                }
                n
            }
        };
        // Place the finished node in its parent.
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                entries,
                merged,
                key,
                ..
            }) => match key.take() {
                None => {
                    key.replace((node, false));
                }
                Some((k, true)) => merge_into(merged, node, &k)?,
                Some((k, false)) => {
                    let name = key_string(&k)?;
                    if let Some(first) = entries.iter().find(|e| e.key == name) {
                        return Err(YamlError {
                            kind: ErrorKind::DuplicateKey,
                            message: format!(
                                "the key `{name}` appears twice in this mapping (first on line {})",
                                first.key_pos.line
                            ),
                            pos: k.start,
                            end: k.end,
                        });
                    }
                    entries.push(Entry {
                        key: name,
                        key_pos: k.start,
                        value: node,
                    });
                }
            },
        }
    }
    let comments = comments(text, &content_lines);
    Ok(Stream {
        documents,
        comments,
    })
}

fn err(kind: ErrorKind, message: impl Into<String>, pos: Pos, end: Pos) -> YamlError {
    YamlError {
        kind,
        message: message.into(),
        pos,
        end,
    }
}

fn count(n: &Node) -> usize {
    1 + match &n.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(entries) => entries.iter().map(|e| count(&e.value)).sum(),
        _ => 0,
    }
}

fn check_collection_tag(tag: Option<String>, kind: &str, at: Pos) -> Result<(), YamlError> {
    match tag.as_deref() {
        None => Ok(()),
        Some(t) if t == format!("tag:yaml.org,2002:{kind}") || t == format!("!!{kind}") => Ok(()),
        Some(t) => Err(err(
            ErrorKind::Unsupported,
            format!("the tag `{t}` has no meaning in Kubernetes YAML"),
            at,
            at,
        )),
    }
}

/// `<<: *base` or `<<: [*a, *b]`: entries of the merged maps, earlier maps winning.
fn merge_into(merged: &mut Vec<Entry>, value: Node, key: &Node) -> Result<(), YamlError> {
    let maps = match value.value {
        Value::Map(m) => vec![m],
        Value::Seq(items) => {
            let mut maps = Vec::new();
            for i in items {
                match i.value {
                    Value::Map(m) => maps.push(m),
                    _ => {
                        return Err(err(
                            ErrorKind::Unsupported,
                            "a merge key (`<<`) takes a mapping or a list of mappings",
                            i.start,
                            i.end,
                        ))
                    }
                }
            }
            maps
        }
        _ => {
            return Err(err(
                ErrorKind::Unsupported,
                "a merge key (`<<`) takes a mapping or a list of mappings",
                key.start,
                value.end,
            ))
        }
    };
    for m in maps {
        for e in m {
            if !merged.iter().any(|x| x.key == e.key) {
                merged.push(e);
            }
        }
    }
    Ok(())
}

fn key_string(k: &Node) -> Result<String, YamlError> {
    Ok(match &k.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => {
            return Err(err(
                ErrorKind::Unsupported,
                "a mapping key is a list or a mapping; Kubernetes keys are strings",
                k.start,
                k.end,
            ))
        }
    })
}

/// The value of a scalar, as YAML 1.1 tooling (kubectl) reads it.
fn resolve(text: &str, style: ScalarStyle, tag: Option<&str>) -> Result<Value, String> {
    let tag = tag.map(|t| {
        t.strip_prefix("tag:yaml.org,2002:")
            .map_or(t.to_string(), |s| format!("!!{s}"))
    });
    match tag.as_deref() {
        None => {}
        Some("!!str") => return Ok(Value::Str(text.to_string())),
        Some("!!int") => {
            return int(text)
                .map(Value::Int)
                .ok_or_else(|| format!("`{text}` is tagged !!int but is not an integer"))
        }
        Some("!!float") => {
            return float(text)
                .map(number)
                .ok_or_else(|| format!("`{text}` is tagged !!float but is not a number"))
        }
        Some("!!bool") => {
            return boolean(text)
                .map(Value::Bool)
                .ok_or_else(|| format!("`{text}` is tagged !!bool but is not a boolean"))
        }
        Some("!!null") => return Ok(Value::Null),
        Some("!!binary") => return Ok(Value::Str(text.split_whitespace().collect())),
        Some("!!timestamp") => return Ok(Value::Str(text.to_string())),
        Some(t) => return Err(format!("the tag `{t}` has no meaning in Kubernetes YAML")),
    }
    if !matches!(style, ScalarStyle::Plain) {
        return Ok(Value::Str(text.to_string()));
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = boolean(text) {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = int(text) {
        return Ok(Value::Int(i));
    }
    if let Some(f) = float(text) {
        return Ok(number(f));
    }
    Ok(Value::Str(text.to_string()))
}

/// Whether `s`, written as a plain (unquoted) scalar, reads back as the string `s` under the
/// YAML 1.1 rules Kubernetes tooling uses (`NO`, `on`, `1:30` and `0755` do not). Sexagesimal
/// numbers (`1:30`, YAML 1.1 only) count as ambiguous too.
pub fn plain_is_string(s: &str) -> bool {
    !sexagesimal(s)
        && matches!(resolve(s, ScalarStyle::Plain, None), Ok(Value::Str(ref x)) if x == s)
}

/// YAML 1.1 base-60 numbers (`1:30`, `190:20:30.15`): `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?`.
/// Some readers (PyYAML) still take them for numbers, so they are quoted when written.
fn sexagesimal(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (body, frac) = match s.split_once('.') {
        Some((b, f)) => (b, Some(f)),
        None => (s, None),
    };
    if frac.is_some_and(|f| !f.chars().all(|c| c.is_ascii_digit() || c == '_')) {
        return false;
    }
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or("");
    let head_ok = head.starts_with(|c: char| c.is_ascii_digit())
        && head.chars().all(|c| c.is_ascii_digit() || c == '_');
    let rest: Vec<&str> = parts.collect();
    head_ok
        && !rest.is_empty()
        && rest.iter().all(|p| {
            (1..=2).contains(&p.len())
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n < 60)
        })
}

/// Integral floats become integers, as they do when Kubernetes tooling converts YAML to JSON.
fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

fn boolean(t: &str) -> Option<bool> {
    match t {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn int(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    if body.is_empty() || body.starts_with('_') {
        return None;
    }
    let clean: String = body.chars().filter(|&c| c != '_').collect();
    let (digits, radix) = if let Some(b) = clean.strip_prefix("0b") {
        (b.to_string(), 2)
    } else if let Some(x) = clean.strip_prefix("0x") {
        (x.to_string(), 16)
    } else if let Some(o) = clean.strip_prefix("0o") {
        (o.to_string(), 8)
    } else if clean.len() > 1 && clean.starts_with('0') {
        (clean[1..].to_string(), 8)
    } else {
        (clean.clone(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(&digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    // [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
    let b = t.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    t.parse().ok()
}

/// The comments of the text, skipping `#` inside quoted strings and multi-line scalars.
fn comments(text: &str, content_lines: &[(usize, usize)]) -> Vec<Comment> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if content_lines.iter().any(|&(a, b)| n >= a && n <= b) {
            continue;
        }
        if let Some(at) = comment_start(line) {
            let body = &line[at + 1..];
            let body = body.strip_prefix(' ').unwrap_or(body);
            out.push(Comment {
                line: n,
                text: body.trim_end().to_string(),
                own_line: line[..at].trim().is_empty(),
            });
        }
    }
    out
}

fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut prev: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('"') => {
                if c == '\\' {
                    chars.next();
                } else if c == '"' {
                    quote = None;
                }
            }
            Some(_) => {
                if c == '\'' {
                    if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
            }
            None => {
                let at_token = prev.is_none_or(|p| p.is_whitespace() || "[{,:-?".contains(p));
                if (c == '"' || c == '\'') && at_token {
                    quote = Some(c);
                } else if c == '#' && prev.is_none_or(char::is_whitespace) {
                    return Some(i);
                }
            }
        }
        prev = Some(c);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Value {
        parse(text).unwrap().documents[0]
            .root
            .clone()
            .unwrap()
            .value
    }

    fn get<'a>(v: &'a Value, k: &str) -> &'a Value {
        match v {
            Value::Map(e) => &e.iter().find(|e| e.key == k).unwrap().value.value,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn resolves_scalars_like_kubectl() {
        let v =
            root("a: 0644\nb: yes\nc: '0644'\nd: 1e3\ne: 1.5\nf: ~\ng: 0x1F\nh: 1:30\ni: 1.8.1\n");
        assert_eq!(get(&v, "a"), &Value::Int(420));
        assert_eq!(get(&v, "b"), &Value::Bool(true));
        assert_eq!(get(&v, "c"), &Value::Str("0644".into()));
        assert_eq!(get(&v, "d"), &Value::Int(1000));
        assert_eq!(get(&v, "e"), &Value::Float(1.5));
        assert_eq!(get(&v, "f"), &Value::Null);
        assert_eq!(get(&v, "g"), &Value::Int(31));
        assert_eq!(get(&v, "h"), &Value::Str("1:30".into()));
        assert_eq!(get(&v, "i"), &Value::Str("1.8.1".into()));
    }

    #[test]
    fn merges_with_explicit_keys_winning() {
        let v = root("base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  z: 3\n");
        let m = get(&v, "m");
        assert_eq!(get(m, "x"), &Value::Int(1));
        assert_eq!(get(m, "z"), &Value::Int(3));
    }

    #[test]
    fn duplicate_keys_are_errors_with_both_lines() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::DuplicateKey);
        assert_eq!(e.pos.line, 3);
        assert!(e.message.contains("line 1"), "{}", e.message);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text += &format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n");
        }
        let e = parse(&text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unsupported);
    }

    #[test]
    fn base_60_numbers_are_not_plain_strings() {
        for s in ["1:30", "190:20:30.15", "-1:05"] {
            assert!(!plain_is_string(s), "{s}");
        }
        for s in ["0.0.0.0:9768", "1:60", "a:1", "10.1.2.3:80", "1:2:3x"] {
            assert!(plain_is_string(s), "{s}");
        }
    }

    #[test]
    fn comments_skip_quotes_and_block_scalars() {
        let s = parse("# head\na: \"x # not\" # yes\nb: |\n  # content\nc: a#b\n").unwrap();
        let lines: Vec<(usize, &str, bool)> = s
            .comments
            .iter()
            .map(|c| (c.line, c.text.as_str(), c.own_line))
            .collect();
        assert_eq!(lines, vec![(1, "head", true), (2, "yes", false)]);
    }
}
