//! The Starlark values and globals skyc adds to the language: typed messages and their
//! constructors (`k8s.*`), `kube` quantity helpers, `ctx`, and the guards the sandbox needs.

pub mod clusters;
pub mod codec;
pub mod ctx;
pub mod kube;
pub mod lazy_ns;
pub mod message;
pub mod proto;
pub mod testing;
pub mod textproto;

use skyc_diag::{codes, CodeInfo, Diagnostic, LineCol, Span};
use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::environment::{Globals, GlobalsBuilder, LibraryExtension};
use starlark::eval::Evaluator;
use starlark::starlark_module;
use starlark::values::list::ListRef;
use starlark::values::tuple::TupleRef;
use starlark::values::{FrozenValue, Value};
use std::cell::RefCell;
use std::fmt;
use std::sync::OnceLock;

/// An error with a skyc code, raised from native functions and recognized when the
/// starlark error is turned into a diagnostic.
#[derive(Debug, Clone)]
pub struct SkyError {
    pub code: &'static CodeInfo,
    pub message: String,
    pub help: Option<String>,
}

impl SkyError {
    pub fn new(code: &'static CodeInfo, message: impl Into<String>) -> SkyError {
        SkyError {
            code,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> SkyError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for SkyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SkyError {}

impl From<SkyError> for starlark::Error {
    fn from(e: SkyError) -> starlark::Error {
        starlark::Error::new_native(e)
    }
}

/// Per-evaluation state reachable from native functions (through `Evaluator::extra`).
#[derive(ProvidesStaticType, Default)]
pub struct EvalContext {
    pub(crate) diagnostics: RefCell<Vec<Diagnostic>>,
    /// When set, diagnostics point here instead of at the call site (used while checking the
    /// plain dicts that `main` returns: they point at `main`'s return).
    pub(crate) span_override: RefCell<Option<Span>>,
    /// Bytes a single repetition may allocate (the heap limit).
    pub(crate) max_alloc: u64,
    /// Project settings from `sky.toml` (`mesh.envoy_image`, …).
    pub(crate) settings: std::collections::BTreeMap<String, String>,
    /// The project's custom resources, when the compilation loaded them (`crd.…`).
    pub(crate) crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
    /// Messages record only where they were built, not the calls that led there
    /// ([`message::Origin::callers`], which only the lint rules read): finding those walks the
    /// whole call stack at every constructor call.
    pub(crate) site_only: bool,
    /// The origins of the messages built so far, each kept once: the messages built on one
    /// line from one chain of calls (the same function called for every service) share it.
    pub(crate) origins: RefCell<
        std::collections::HashSet<std::sync::Arc<message::Origin>, foldhash::fast::FixedState>,
    >,
}

impl EvalContext {
    /// `origin`, shared with the messages built at the same place before.
    pub(crate) fn origin(&self, origin: message::Origin) -> std::sync::Arc<message::Origin> {
        let mut seen = self.origins.borrow_mut();
        if let Some(o) = seen.get(&origin) {
            return o.clone();
        }
        let o = std::sync::Arc::new(origin);
        seen.insert(o.clone());
        o
    }
}

/// Runs `f` with the diagnostics it records pointing at `span` (when given) instead of the
/// call site, then restores what was there.
pub(crate) fn with_span_override<'v, 'a, 'e, R>(
    eval: &mut Evaluator<'v, 'a, 'e>,
    span: Option<Span>,
    f: impl FnOnce(&mut Evaluator<'v, 'a, 'e>) -> R,
) -> R {
    let ctx = |eval: &Evaluator<'v, 'a, 'e>| {
        eval.extra
            .and_then(|e| e.downcast_ref::<EvalContext>())
            .map(|c| &c.span_override)
    };
    let previous = ctx(eval).and_then(|o| o.replace(span));
    let out = f(eval);
    if let Some(o) = ctx(eval) {
        o.replace(previous);
    }
    out
}

/// Converts a starlark file span to ours.
pub(crate) fn to_span(fs: &FileSpan) -> Span {
    // The code map's line index finds the line by binary search (scanning the text from the
    // start for every span made rendering a long file quadratic).
    let at = fs.file.resolve_span(fs.span);
    Span {
        file: fs.file.filename().to_string(),
        begin: fs.span.begin().get() as usize,
        end: fs.span.end().get() as usize,
        start: LineCol {
            line: at.begin.line + 1,
            column: at.begin.column + 1,
        },
        end_pos: LineCol {
            line: at.end.line + 1,
            column: at.end.column + 1,
        },
    }
}

pub(crate) fn is_stdlib(file: &str) -> bool {
    file.starts_with("@stdlib//")
}

/// The innermost call site in a user (non-stdlib) file, and a note naming the stdlib frames
/// between it and the native call.
pub(crate) fn user_call_site(eval: &Evaluator) -> (Option<FileSpan>, Option<String>) {
    let (frames, note) = user_stack(eval);
    (frames.into_iter().next(), note)
}

/// The locations of every call in user (non-stdlib) files on the stack, innermost first, and
/// a note naming the innermost stdlib frame above the first of them (if any).
pub(crate) fn user_stack(eval: &Evaluator) -> (Vec<FileSpan>, Option<String>) {
    let frames = eval.call_stack().frames;
    let mut stdlib: Option<String> = None;
    let mut user = Vec::new();
    for f in frames.iter().rev() {
        let Some(loc) = &f.location else { continue };
        if !is_stdlib(loc.file.filename()) {
            user.push(loc.clone());
        } else if user.is_empty() && stdlib.is_none() {
            let line = loc.resolve_span().begin.line + 1;
            let file = loc.file.filename().trim_start_matches("@stdlib//");
            stdlib = Some(format!("called from stdlib {file}:{line} ({})", f.name));
        }
    }
    (user, stdlib)
}

/// Narrows a call-site span to where `name = ` or `"name":` is written inside it, if it is.
pub(crate) fn narrow(fs: &FileSpan, name: &str) -> Span {
    let text = fs.file.source();
    let (b, e) = (fs.span.begin().get() as usize, fs.span.end().get() as usize);
    let inner = &text[b..e.min(text.len())];
    let mut found = None;
    for (i, _) in inner.match_indices(name) {
        let before = inner[..i].chars().next_back();
        let after = &inner[i + name.len()..];
        let ident_ok = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.starts_with(|c: char| c.is_alphanumeric() || c == '_');
        let trimmed = after.trim_start();
        let is_kwarg = ident_ok && trimmed.starts_with('=') && !trimmed.starts_with("==");
        let is_key = before == Some('"')
            && after.starts_with('"')
            && after[1..].trim_start().starts_with(':');
        if is_kwarg {
            found = Some((b + i, b + i + name.len()));
            break;
        }
        if is_key {
            found = Some((b + i - 1, b + i + name.len() + 1));
            break;
        }
    }
    match found {
        Some((s, t)) => Span::from_offsets(fs.file.filename(), text, s, t),
        None => to_span(fs),
    }
}

/// The span of the string literal `"value"` (or `'value'`) inside a call-site span, when it
/// is written there exactly once.
pub(crate) fn literal(fs: &FileSpan, value: &str) -> Option<Span> {
    let text = fs.file.source();
    let (b, e) = (fs.span.begin().get() as usize, fs.span.end().get() as usize);
    let inner = text.get(b..e.min(text.len()))?;
    ['"', '\''].into_iter().find_map(|quote| {
        let lit = format!("{quote}{value}{quote}");
        let mut hits = inner.match_indices(&lit);
        match (hits.next(), hits.next()) {
            (Some((i, _)), None) => Some(Span::from_offsets(
                fs.file.filename(),
                text,
                b + i,
                b + i + lit.len(),
            )),
            _ => None,
        }
    })
}

/// Records a diagnostic at the user's call site (or the override span).
pub(crate) fn record(eval: &Evaluator, mut d: Diagnostic, narrow_to: Option<&str>) {
    let Some(ctx) = eval.extra.and_then(|e| e.downcast_ref::<EvalContext>()) else {
        return;
    };
    if let Some(span) = ctx.span_override.borrow().clone() {
        d.span = Some(span);
    } else {
        let (site, note) = user_call_site(eval);
        if let Some(site) = site {
            d.span = Some(match narrow_to {
                Some(n) => narrow(&site, n),
                None => to_span(&site),
            });
        }
        if let Some(n) = note {
            d.notes.push(n);
        }
    }
    ctx.diagnostics.borrow_mut().push(d);
}

/// Bytes the evaluation may still allocate: what is left under the memory limit (see
/// `crate::memory`), and never more than the limit of this evaluation.
fn max_alloc(eval: &Evaluator) -> u64 {
    let limit = eval
        .extra
        .and_then(|e| e.downcast_ref::<EvalContext>())
        .map_or(u64::MAX, |c| c.max_alloc);
    limit.min(crate::memory::remaining())
}

/// The bytes a sequence takes per item, when `v` is a string, list or tuple, and its length.
fn seq_size(v: Value) -> Option<(u64, u64)> {
    if let Some(s) = v.unpack_str() {
        Some((1, s.len() as u64))
    } else if let Some(l) = ListRef::from_value(v) {
        Some((8, l.len() as u64))
    } else {
        TupleRef::from_value(v).map(|t| (8, t.len() as u64))
    }
}

/// Refuses an operation that would allocate `bytes` when less is left under the limit.
fn check_alloc(bytes: u64, what: &str, eval: &Evaluator) -> starlark::Result<()> {
    let left = max_alloc(eval);
    // Half: the heap grows in chunks that can double what is asked for.
    if bytes > left / 2 {
        return Err(SkyError::new(
            codes::SKY0303,
            format!(
                "this {what} would allocate {bytes} bytes, more than the memory limit leaves room for ({left} bytes left)"
            ),
        )
        .with_help("raise the limit with --max-heap (or [limits] max_heap in sky.toml) if the data is real")
        .into());
    }
    Ok(())
}

/// Guards the sandbox against single huge allocations (`"x" * 2000000000`, `s + s` in a
/// loop): every `*` and `+` in user code is evaluated through these functions, which refuse
/// results larger than what the memory limit leaves before they allocate.
#[starlark_module]
fn guards(builder: &mut GlobalsBuilder) {
    fn _sky_mul<'v>(
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let size = |seq: Value<'v>, n: Value<'v>| -> Option<u64> {
            let n = n.unpack_i32()?;
            let (unit, len) = seq_size(seq)?;
            Some((unit * len).saturating_mul(n.max(0) as u64))
        };
        if let Some(bytes) = size(a, b).or_else(|| size(b, a)) {
            check_alloc(bytes, "repetition", eval)?;
        }
        a.mul(b, eval.heap())
    }

    fn _sky_add<'v>(
        #[starlark(require = pos)] a: Value<'v>,
        #[starlark(require = pos)] b: Value<'v>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        if let (Some((unit, x)), Some((_, y))) = (seq_size(a), seq_size(b)) {
            let bytes = unit * (x + y);
            // Small results cannot matter; skip the meter for them.
            if bytes > 1 << 16 {
                check_alloc(bytes, "concatenation", eval)?;
            }
        }
        a.add(b, eval.heap())
    }

    /// A project setting from `sky.toml` (e.g. `"mesh.envoy_image"` for `[mesh] envoy_image`),
    /// or `default` when the project does not set it.
    fn project_setting<'v>(
        #[starlark(require = pos)] key: &str,
        #[starlark(require = pos)] default: &str,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<String> {
        let ctx = eval.extra.and_then(|e| e.downcast_ref::<EvalContext>());
        Ok(ctx
            .and_then(|c| c.settings.get(key).cloned())
            .unwrap_or_else(|| default.to_string()))
    }
}

/// Starlark's extensions every `.sky` file sees, beside its standard functions.
const EXTENSIONS: [LibraryExtension; 5] = [
    LibraryExtension::StructType,
    LibraryExtension::Typing,
    LibraryExtension::Print,
    LibraryExtension::Map,
    LibraryExtension::Filter,
];

/// A `#[starlark_module]`: adds its functions (or types) to a builder.
type BuiltinModule = fn(&mut GlobalsBuilder);

/// skyc's builtin modules, by the namespace they are under (`kube.cores`).
const NAMESPACES: [(&str, BuiltinModule); 8] = [
    ("kube", kube::kube_module),
    ("hash", codec::hash_module),
    ("url", codec::url_module),
    ("yaml", codec::yaml_module),
    ("json", codec::json_module),
    ("proto", proto::proto_module),
    ("asserts", testing::assert_module),
    ("testing", testing::testing_module),
];

/// skyc's builtins at the top level (`duration`, `Quantity`, the guards of `*` and `+`, the
/// stdlib's cluster checks).
const TOP_LEVEL: [BuiltinModule; 4] = [
    proto::duration_module,
    kube::quantity_type,
    guards,
    clusters::clusters_builtins,
];

/// The globals every `.sky` file sees: Starlark's standard functions (plus `struct`, `json`
/// and `typing`), `kube`, `k8s`, and the `Quantity` type.
pub fn globals() -> Globals {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    GLOBALS
        .get_or_init(|| {
            let mut b = GlobalsBuilder::extended_by(&EXTENSIONS);
            for (name, module) in NAMESPACES {
                b.namespace(name, module);
            }
            for module in TOP_LEVEL {
                module(&mut b);
            }
            k8s_namespace(&mut b);
            b.set(
                "envoy",
                lazy_ns::LazyNamespace {
                    prefix: "envoy".into(),
                    root: lazy_ns::Root::Envoy,
                },
            );
            b.set(
                "crd",
                lazy_ns::LazyNamespace {
                    prefix: "crd".into(),
                    root: lazy_ns::Root::Crd,
                },
            );
            b.build()
        })
        .clone()
}

/// Builds, on the calling thread, the tables [`globals`] copies from: the module tables of
/// skyc's own builtins (the same lists) and Starlark's method tables, in the reverse of the
/// order `globals` builds them. Each table is built once per process (whichever thread gets to
/// it first; the other waits for it), so a thread that calls this while another builds the
/// globals shares that work. Documentation strings are parsed when a table is built, which is
/// most of the globals' cost.
pub(crate) fn warm_globals() {
    use starlark::values::dict::AllocDict;
    use starlark::values::list::AllocList;
    use starlark::values::{FrozenHeap, StarlarkValue};
    let mut b = GlobalsBuilder::new();
    for module in TOP_LEVEL.iter().rev() {
        module(&mut b);
    }
    for (_, module) in NAMESPACES.iter().rev() {
        module(&mut b);
    }
    for e in EXTENSIONS.iter().rev() {
        e.add(&mut b);
    }
    drop(b);
    let _ = <starlark::values::string::StarlarkStr as StarlarkValue>::get_methods();
    let heap = FrozenHeap::new();
    let _ = heap.alloc(AllocDict::EMPTY).to_value().dir_attr();
    let _ = heap.alloc(AllocList::EMPTY).to_value().dir_attr();
    let _ = <starlark::values::bytes::StarlarkBytes as StarlarkValue>::get_methods();
}

/// `k8s.<group>.<version>.<Type>` constructors for every type of the schema.
fn k8s_namespace(b: &mut GlobalsBuilder) {
    let (own, k8s) = k8s_constructors();
    b.frozen_heap().add_reference(own.heap());
    b.set("k8s", lazy_ns::CachedNamespace::new(*k8s));
}

/// The `k8s` namespace, in globals of its own (so the typechecker builds its type only once),
/// built once per process: by the prewarm thread once it has built the rest of what the globals
/// copy ([`warm_globals`]), which is usually before the command's thread gets to it.
pub(crate) fn k8s_constructors() -> &'static (Globals, FrozenValue) {
    static K8S: OnceLock<(Globals, FrozenValue)> = OnceLock::new();
    K8S.get_or_init(|| lazy_ns::k8s_globals(|_| true))
}

/// At most this many characters of a value are shown in a message.
const REPR_MAX: usize = 1000;

/// `v.to_repr()` for a message, bounded: a value that shares itself (`x = [x, x]` in a
/// loop) can be exponentially large written out, and a diagnostic must not try to.
pub(crate) fn repr(v: Value) -> String {
    let mut budget = REPR_MAX;
    if small(v, &mut budget, 0) {
        return v.to_repr();
    }
    let mut out = String::new();
    write_bounded(v, &mut out, 0);
    if out.len() > REPR_MAX {
        let mut end = REPR_MAX;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}

/// Whether `v` written out takes less than `budget` (roughly), without writing it.
fn small(v: Value, budget: &mut usize, depth: usize) -> bool {
    let cost = 4 + v.unpack_str().map_or(0, str::len);
    if cost > *budget || depth > 50 {
        return false;
    }
    *budget -= cost;
    let mut all = |items: &mut dyn Iterator<Item = Value>| {
        for x in items {
            if !small(x, budget, depth + 1) {
                return false;
            }
        }
        true
    };
    if let Some(l) = ListRef::from_value(v) {
        all(&mut l.iter())
    } else if let Some(t) = TupleRef::from_value(v) {
        all(&mut t.iter())
    } else if let Some(d) = starlark::values::dict::DictRef::from_value(v) {
        let items: Vec<Value> = d.iter().flat_map(|(k, x)| [k, x]).collect();
        all(&mut items.into_iter())
    } else if let Some(m) = message::Message::from_value(v) {
        let items: Vec<Value> = m.field_entries().map(|(_, x)| x).collect();
        all(&mut items.into_iter())
    } else {
        // Scalars, quantities, functions, structs of scalars: their repr is short.
        v.get_type() != "struct"
    }
}

/// Writes `v` until the text is longer than [`REPR_MAX`], then stops.
fn write_bounded(v: Value, out: &mut String, depth: usize) {
    if out.len() > REPR_MAX {
        return;
    }
    if depth > 50 {
        out.push('…');
        return;
    }
    let seq =
        |out: &mut String, open: char, close: char, items: &mut dyn Iterator<Item = Value>| {
            out.push(open);
            for (i, x) in items.enumerate() {
                if out.len() > REPR_MAX {
                    break;
                }
                if i > 0 {
                    out.push_str(", ");
                }
                write_bounded(x, out, depth + 1);
            }
            out.push(close);
        };
    if let Some(s) = v.unpack_str() {
        let mut end = s.len().min(REPR_MAX);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        out.push('"');
        out.extend(s[..end].chars().flat_map(char::escape_debug));
        out.push_str(if end < s.len() { "…\"" } else { "\"" });
    } else if let Some(l) = ListRef::from_value(v) {
        seq(out, '[', ']', &mut l.iter());
    } else if let Some(t) = TupleRef::from_value(v) {
        seq(out, '(', ')', &mut t.iter());
    } else if let Some(d) = starlark::values::dict::DictRef::from_value(v) {
        out.push('{');
        for (i, (k, x)) in d.iter().enumerate() {
            if out.len() > REPR_MAX {
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            write_bounded(k, out, depth + 1);
            out.push_str(": ");
            write_bounded(x, out, depth + 1);
        }
        out.push('}');
    } else if let Some(m) = message::Message::from_value(v) {
        out.push_str(&m.message_type().path);
        out.push('(');
        for (i, (f, x)) in m.field_entries().enumerate() {
            if out.len() > REPR_MAX {
                break;
            }
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&f.name);
            out.push_str(" = ");
            write_bounded(x, out, depth + 1);
        }
        out.push(')');
    } else if v.get_type() == "struct" {
        out.push_str("struct(…)");
    } else {
        out.push_str(&v.to_repr());
    }
}

#[cfg(test)]
mod tests {
    use super::to_span;
    use skyc_diag::Span;
    use starlark::codemap::{CodeMap, Pos, Span as CodeSpan};

    /// The globals' tables warmed on another thread while the globals are built (as the
    /// prewarm thread does): each table is built once, by whichever thread comes to it first,
    /// and the globals hold Starlark's and skyc's names either way.
    #[test]
    fn warming_the_tables_meanwhile_gives_the_globals() {
        let warm = std::thread::spawn(super::warm_globals);
        let names: Vec<String> = super::globals()
            .names()
            .map(|n| n.as_str().to_string())
            .collect();
        warm.join().expect("warming the tables does not panic");
        for n in [
            "len", "str", "dict", "struct", "json", "kube", "k8s", "Quantity",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
        }
    }

    /// Spans from the code map's line index are the spans computed from the text itself
    /// (1-based lines, columns counting characters), also after multi-byte characters.
    #[test]
    fn spans_from_the_line_index_match_the_text() {
        let text = "x = \"héllo\"\n\ny = [\n    \"日本\", 1]  # ü\nz = 3";
        let map = CodeMap::new("f.sky".into(), text.into());
        let bounds: Vec<usize> = (0..=text.len())
            .filter(|&i| text.is_char_boundary(i))
            .collect();
        for (n, &b) in bounds.iter().enumerate() {
            for &e in &bounds[n..] {
                let fs = map.file_span(CodeSpan::new(Pos::new(b as u32), Pos::new(e as u32)));
                assert_eq!(
                    to_span(&fs),
                    Span::from_offsets("f.sky", text, b, e),
                    "{b}..{e}"
                );
            }
        }
    }
}
