//! Starlark source for imported values: dicts and lists laid out like a person would write them
//! (short values on one line, longer ones one item per line with trailing commas), multi-line
//! strings as triple-quoted literals, and the YAML's comments kept next to the keys they were
//! written above.

use super::yaml::{Comment, Node, Value};
use std::fmt::Write as _;

/// Lines longer than this are broken up.
const WIDTH: usize = 100;

/// The comments not yet written, in line order.
pub struct Comments {
    pending: Vec<Comment>,
}

impl Comments {
    pub fn new(mut all: Vec<Comment>) -> Self {
        all.sort_by_key(|c| c.line);
        all.reverse();
        Comments { pending: all }
    }

    /// Takes every comment on a line before `line` (or on it, with `inclusive`).
    pub fn take_before(&mut self, line: usize, inclusive: bool) -> Vec<Comment> {
        let mut out = Vec::new();
        while let Some(c) = self.pending.last() {
            if c.line < line || (inclusive && c.line == line) {
                out.push(self.pending.pop().expect("checked"));
            } else {
                break;
            }
        }
        out
    }

    /// Takes the comment that trails a value on `line`, if any.
    pub fn take_trailing(&mut self, line: usize) -> Option<Comment> {
        match self.pending.last() {
            Some(c) if c.line == line && !c.own_line => self.pending.pop(),
            _ => None,
        }
    }

    /// Whether a comment sits on a line in `from..=to`.
    pub fn any_in(&self, from: usize, to: usize) -> bool {
        self.pending.iter().any(|c| c.line >= from && c.line <= to)
    }
}

/// Writes comments, each on its own line at `indent`.
pub fn write_comments(out: &mut String, comments: &[Comment], indent: usize) {
    for c in comments {
        let pad = " ".repeat(indent);
        if c.text.is_empty() {
            let _ = writeln!(out, "{pad}#");
        } else {
            let _ = writeln!(out, "{pad}# {}", comment_text(&c.text));
        }
    }
}

/// A comment's text as it can follow `#` in Starlark: a lone carriage return (a line break to
/// YAML, but not to `str::lines`) would end the comment and leave the rest of the line as code.
fn comment_text(text: &str) -> String {
    text.replace('\r', " ")
}

/// A Starlark string literal with the same value.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A multi-line string as a triple-quoted literal, when that is exact and readable.
fn triple_quoted(s: &str) -> Option<String> {
    let ok = s.matches('\n').count() >= 2
        && !s.contains("\"\"\"")
        && !s.contains('\\')
        && !s.ends_with('"')
        && !s
            .chars()
            .any(|c| (c as u32) < 0x20 && c != '\n' || c as u32 == 0x7f);
    ok.then(|| format!("\"\"\"{s}\"\"\""))
}

/// A scalar as a Starlark literal; `None` for lists and dicts.
fn scalar(v: &Value) -> Option<String> {
    Some(match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "float(\"nan\")".into(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 {
                "float(\"inf\")".into()
            } else {
                "-float(\"inf\")".into()
            }
        }
        Value::Float(f) => {
            let s = format!("{f:?}");
            if s.contains(['.', 'e', 'E']) {
                s
            } else {
                format!("{s}.0")
            }
        }
        Value::Str(s) => string(s),
        Value::Seq(_) | Value::Map(_) => return None,
    })
}

/// The node on one line, if it has no comments inside and contains no multi-line string.
fn compact(n: &Node) -> String {
    match &n.value {
        Value::Seq(items) => {
            let parts: Vec<String> = items.iter().map(compact).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(entries) => {
            let parts: Vec<String> = entries
                .iter()
                .map(|e| format!("{}: {}", string(&e.key), compact(&e.value)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        v => scalar(v).expect("a scalar"),
    }
}

fn has_multiline_string(n: &Node) -> bool {
    match &n.value {
        Value::Str(s) => s.contains('\n'),
        Value::Seq(items) => items.iter().any(has_multiline_string),
        Value::Map(entries) => entries.iter().any(|e| has_multiline_string(&e.value)),
        _ => false,
    }
}

/// Writes `n` as a Starlark expression. The cursor is after `prefix` at `indent` (the column of
/// the line where the value starts); nested lines are indented by 4 more.
pub fn value(
    out: &mut String,
    n: &Node,
    indent: usize,
    prefix_len: usize,
    comments: &mut Comments,
) {
    let is_scalar = !matches!(n.value, Value::Seq(_) | Value::Map(_));
    if is_scalar {
        if let Value::Str(s) = &n.value {
            if let Some(t) = triple_quoted(s) {
                out.push_str(&t);
                return;
            }
        }
        out.push_str(&scalar(&n.value).expect("a scalar"));
        return;
    }
    let inline = !comments.any_in(n.start.line, n.end.line) && !has_multiline_string(n);
    if inline {
        let c = compact(n);
        if indent + prefix_len + c.len() < WIDTH {
            out.push_str(&c);
            return;
        }
    }
    let inner = indent + 4;
    let pad = " ".repeat(inner);
    match &n.value {
        Value::Seq(items) if items.is_empty() => out.push_str("[]"),
        Value::Map(entries) if entries.is_empty() => out.push_str("{}"),
        Value::Seq(items) => {
            out.push_str("[\n");
            for item in items {
                let before = comments.take_before(item.start.line, false);
                write_comments(out, &before, inner);
                out.push_str(&pad);
                value(out, item, inner, 0, comments);
                out.push(',');
                finish_line(out, item, comments);
            }
            let rest = comments.take_before(n.end.line, false);
            write_comments(out, &rest, inner);
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Value::Map(entries) => {
            out.push_str("{\n");
            for e in entries {
                let before = comments.take_before(e.key_pos.line, false);
                write_comments(out, &before, inner);
                let key = string(&e.key);
                let _ = write!(out, "{pad}{key}: ");
                value(out, &e.value, inner, key.len() + 2, comments);
                out.push(',');
                finish_line(out, &e.value, comments);
            }
            let rest = comments.take_before(n.end.line, false);
            write_comments(out, &rest, inner);
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        _ => unreachable!("scalars are handled above"),
    }
}

/// Ends the line of an item: a comment trailing the YAML value's line follows it.
pub fn finish_line(out: &mut String, n: &Node, comments: &mut Comments) {
    let last_line = out.rsplit('\n').next().unwrap_or("");
    let multiline_value =
        out.ends_with("\"\"\",") || last_line.trim_start().starts_with(['}', ']']);
    let line = if multiline_value {
        n.end.line
    } else {
        n.start.line
    };
    match comments.take_trailing(line).filter(|_| !multiline_value) {
        Some(c) => {
            let _ = writeln!(out, "  # {}", comment_text(&c.text));
        }
        None => out.push('\n'),
    }
}
