//! Lowering: Starlark values → JSON, then each object through its `k8s-openapi` struct, which
//! gives canonical key order (apiVersion, kind, metadata, spec, …) and proper formats.

use crate::values::message::Origin;
use crate::values::{literal, narrow, to_span};
use crate::Object;
use serde_json::{Map, Value as Json};
use skyc_diag::Span;
use skyc_diag::{codes, CodeInfo, Diagnostic};
use skyc_schema::{k8s::k8s, FieldType, SchemaId, TypeId};
use starlark::values::Value;
use std::fmt::{self, Write as _};
use std::sync::mpsc::TrySendError;

/// Where each message inside an object was built, by field path ("" is the object itself).
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<(String, std::sync::Arc<Origin>)>);

impl Origins {
    /// The best span for a finding at `path`: the innermost message on the path that knows
    /// where it was built, narrowed to the field's `name = ` when the message was built
    /// directly in user code.
    pub fn span_at(&self, path: &str) -> Option<Span> {
        let (prefix, origin) = self.innermost(path)?;
        let rest = path[prefix.len()..].trim_start_matches('.');
        let field = rest.split(['.', '[']).next().unwrap_or("");
        if origin.direct && !field.is_empty() {
            Some(narrow(&origin.site, field))
        } else {
            Some(to_span(&origin.site))
        }
    }

    /// Like `span_at`, for a field whose value is the string `value`: when the message was
    /// built by a helper (a stdlib function) and the user's call passes that string as a
    /// literal, e.g. `schedule = "61 * * * *"`, or the value sits in a dict literal of the
    /// constructor call, the span is that literal (when it occurs exactly once in the call).
    pub fn span_at_literal(&self, path: &str, value: &str) -> Option<Span> {
        self.literal_at(path, value).or_else(|| self.span_at(path))
    }

    /// The string literal `value` in the call that built the innermost message on `path`,
    /// when it occurs there once and the field is not found better by its `name = `.
    pub fn literal_at(&self, path: &str, value: &str) -> Option<Span> {
        let (prefix, origin) = self.innermost(path)?;
        // Built in user code, a top-level field is found by its `name = `; a value nested in a
        // dict literal (`spec = {"timeZone": ...}`) by the literal itself.
        let nested = path[prefix.len()..]
            .trim_start_matches('.')
            .contains(['.', '[']);
        if (!origin.direct || nested) && !value.is_empty() {
            return literal(&origin.site, value);
        }
        None
    }

    /// The innermost message on `path` that knows where it was built: (its path, origin).
    fn innermost(&self, path: &str) -> Option<(&str, &Origin)> {
        self.0
            .iter()
            .filter(|(p, _)| {
                p.is_empty()
                    || path == p
                    || path
                        .strip_prefix(p.as_str())
                        .is_some_and(|r| r.starts_with('.') || r.starts_with('['))
            })
            .max_by_key(|(p, _)| p.len())
            .map(|(p, o)| (p.as_str(), &**o))
    }

    /// The (file, 1-based line) places that a suppression comment may sit on for a finding at
    /// `path`: the line the finding points at and every user call that led to the message.
    pub fn anchors_at(&self, path: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        if let Some(s) = self.span_at(path) {
            out.push((s.file.clone(), s.start.line));
        }
        let origin = self.innermost(path);
        if let Some((_, o)) = origin {
            for c in std::iter::once(&o.site).chain(&o.callers) {
                let s = to_span(c);
                out.push((s.file.clone(), s.start.line));
            }
        }
        out
    }

    /// The span of the message that should hold the (missing) field at `path`.
    pub fn span_of_parent(&self, path: &str) -> Option<Span> {
        let parent = match path.rfind(['.', '[']) {
            Some(i) => &path[..i],
            None => "",
        };
        self.span_at(parent)
    }

    /// The span of the object itself.
    pub fn root(&self) -> Option<Span> {
        self.0
            .iter()
            .find(|(p, _)| p.is_empty())
            .map(|(_, o)| to_span(&o.site))
    }
}

/// An Envoy message inside a Kubernetes object (a ConfigMap's `envoy.yaml`): lowered on its
/// own, validated against Envoy's rules, and written into the object as YAML text.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The placeholder string standing in for the text until it is rendered.
    pub placeholder: String,
    /// Field path of the embedding field in the object.
    pub path: String,
    pub ty: TypeId,
    /// The message as JSON with protobuf field names (`Any` values carry `@type`).
    pub json: Json,
}

/// Why a value could not be converted to JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct ToJsonError {
    pub message: String,
    /// The JSON would exceed what the memory limit leaves (a value that shares itself, like
    /// `x = [x, x]` in a loop, is exponentially large written out): SKY0303, not a type
    /// error.
    pub too_large: bool,
    /// The value holds something JSON has no form for (a function, a `struct`): encoders
    /// may fall back to Starlark's own rendering, which knows structs. Not for values too
    /// large or too deep, which that rendering would choke on.
    pub unsupported: bool,
}

impl ToJsonError {
    /// The code to report it with: SKY0303 when too large, else `otherwise`.
    pub fn code(&self, otherwise: &'static CodeInfo) -> &'static CodeInfo {
        if self.too_large {
            codes::SKY0303
        } else {
            otherwise
        }
    }
}

impl fmt::Display for ToJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for ToJsonError {
    fn from(message: String) -> Self {
        ToJsonError {
            message,
            too_large: false,
            unsupported: false,
        }
    }
}

/// Roughly what one JSON node costs in memory, besides its text.
const JSON_NODE_BYTES: u64 = 64;

mod node;
mod tape;
pub(crate) use node::{Node, Tree};
pub(crate) use tape::Tape;

/// Converts a Starlark value (messages, quantities, plain data) to JSON, recording where
/// every message in the value was built and collecting embedded Envoy documents.
pub fn to_json_with_origins(v: Value) -> Result<(Json, Origins, Vec<Embedded>), ToJsonError> {
    let mut tape = Tape::default();
    let start = tape.write(v)?;
    Ok(tape.read(start))
}

/// An object with the span it came from, after lowering.
#[derive(Debug, Clone)]
pub struct LoweredObject {
    pub object: Object,
    pub ty: TypeId,
    pub span: Option<skyc_diag::Span>,
    /// The object's JSON tree (`Object` keeps only its text). Like `origins`, kept only when
    /// the lint rules and policies will read it (`skyc check`); `Null` otherwise.
    pub json: Json,
    /// Where the messages inside were built; empty unless kept (see `json`): findings after
    /// the object's own checks then point at `span`.
    pub origins: Origins,
}

impl LoweredObject {
    /// An Envoy resource `main` returned (not a Kubernetes object): Kubernetes checks and
    /// lint rules do not apply to it.
    pub fn is_xds(&self) -> bool {
        self.ty.source() == SchemaId::ENVOY
    }

    /// Where to point a finding at `path` inside this object.
    pub fn span_at(&self, path: &str) -> Option<Span> {
        self.origins.span_at(path).or_else(|| self.span.clone())
    }

    /// Where to point a finding about the string `value` at `path` (see
    /// `Origins::span_at_literal`).
    pub fn span_at_literal(&self, path: &str, value: &str) -> Option<Span> {
        self.origins
            .span_at_literal(path, value)
            .or_else(|| self.span.clone())
    }

    /// Where a suppression comment for a finding at `path` may sit (file, line).
    pub fn anchors_at(&self, path: &str) -> Vec<(String, usize)> {
        let mut a = self.origins.anchors_at(path);
        if let Some(s) = self.span.as_ref().filter(|_| a.is_empty()) {
            a.push((s.file.clone(), s.start.line));
        }
        a
    }
}

/// Lowered objects, what lowering found, and the findings of each object's own checks
/// ([`crate::validate::check_one`]), which run as the object is lowered, while its JSON tree
/// exists.
pub(crate) struct Lowered {
    pub objects: Vec<LoweredObject>,
    pub diagnostics: Vec<Diagnostic>,
    pub findings: Vec<crate::validate::Finding>,
    /// Time spent in the objects' own checks (the rest was lowering).
    pub validating: std::time::Duration,
    /// Time spent lowering.
    pub lowering: std::time::Duration,
    /// Keep each object's JSON tree and origins ([`LoweredObject::json`]).
    keep: bool,
    /// Lowered on a thread of its own, at the same time as the conversion: `lowering` and
    /// `validating` are that thread's time, not part of the evaluation's, except for
    /// `on_evaluating_thread` (the objects the evaluation's thread lowered while the other
    /// was behind).
    pub on_own_thread: bool,
    on_evaluating_thread: std::time::Duration,
}

impl Lowered {
    pub(crate) fn new(keep: bool) -> Lowered {
        Lowered {
            objects: Vec::new(),
            diagnostics: Vec::new(),
            findings: Vec::new(),
            validating: std::time::Duration::ZERO,
            lowering: std::time::Duration::ZERO,
            keep,
            on_own_thread: false,
            on_evaluating_thread: std::time::Duration::ZERO,
        }
    }

    /// Time the evaluation's thread spent lowering and checking objects.
    pub fn time_on_evaluating_thread(&self) -> std::time::Duration {
        if self.on_own_thread {
            self.on_evaluating_thread
        } else {
            self.lowering + self.validating
        }
    }

    /// Lowers the objects `written` to `tape`, in order.
    fn lower_written(&mut self, tape: &Tape, written: Vec<Written>, clusters: &[String]) {
        for w in written {
            let p = w.read(tape);
            self.lower(p, clusters);
        }
    }

    /// Appends `part`, the objects that follow those lowered so far, lowered elsewhere.
    fn absorb(&mut self, part: Lowered) {
        self.objects.extend(part.objects);
        self.diagnostics.extend(part.diagnostics);
        self.findings.extend(part.findings);
        self.lowering += part.lowering;
        self.validating += part.validating;
        self.on_evaluating_thread += part.lowering + part.validating;
    }

    /// Takes a lowered object: runs its own checks on its tree, then keeps the tree and the
    /// origins only if asked to.
    fn accept(&mut self, mut obj: LoweredObject, tree: &Node) {
        let start = std::time::Instant::now();
        crate::validate::check_one(&obj, tree, &mut self.findings);
        self.validating += start.elapsed();
        if self.keep {
            obj.json = tree.to_json();
        } else {
            obj.origins = Origins::default();
        }
        self.objects.push(obj);
    }

    /// Lowers one object.
    fn lower(&mut self, p: Pending, clusters: &[String]) {
        let start = std::time::Instant::now();
        let checking = self.validating;
        lower_one(p, clusters, self);
        self.lowering += start
            .elapsed()
            .saturating_sub(self.validating.saturating_sub(checking));
    }

    fn finish(mut self) -> Lowered {
        // The note that a kind's CEL rules were not checked is given once per kind.
        let mut noted = std::collections::HashSet::new();
        self.diagnostics
            .retain(|d| d.code != codes::SKY0415.code || noted.insert(d.message.clone()));
        self
    }
}

/// An object `main` returned, handed over to be converted and lowered.
pub(crate) struct Returned<'v, 's> {
    pub value: Value<'v>,
    pub ty: TypeId,
    /// Its span is where its constructor was called (else `main`'s return, which is also the
    /// fallback).
    pub at_constructor: bool,
    pub return_span: &'s Span,
}

/// What [`stream`]'s `produce` hands each object to: it is converted there, or the reason it
/// cannot be comes back.
pub(crate) type HandOver<'a> = dyn FnMut(Returned<'_, '_>) -> Result<(), ToJsonError> + 'a;

/// An object `main` returned, read from its tape, not yet lowered.
struct Pending<'t> {
    ty: TypeId,
    node: Node<'t>,
    /// Where it was built: the constructor call, or `main`'s return for plain dicts.
    span: Option<Span>,
    /// Where the messages inside it were built, for findings at a field path.
    origins: Origins,
    /// Envoy documents inside it, rendered to text at lowering.
    embedded: Vec<Embedded>,
}

/// An object written to a tape, waiting to be lowered.
struct Written {
    ty: TypeId,
    at_constructor: bool,
    return_span: Span,
    start: usize,
}

impl Written {
    fn write(r: Returned, tape: &mut Tape) -> Result<Written, ToJsonError> {
        Ok(Written {
            start: tape.write(r.value)?,
            ty: r.ty,
            at_constructor: r.at_constructor,
            return_span: r.return_span.clone(),
        })
    }

    /// The object's JSON tree and where its messages were built, read from `tape`.
    fn read(self, tape: &Tape) -> Pending<'_> {
        let (node, origins, embedded) = tape.read_node(self.start);
        let at_constructor = self.at_constructor;
        Pending {
            ty: self.ty,
            node,
            span: origins
                .root()
                .filter(|_| at_constructor)
                .or(Some(self.return_span)),
            origins,
            embedded,
        }
    }
}

/// Lowers the objects `produce` hands over as `main`'s result is converted: checks required
/// fields, lowers each object through `k8s-openapi` and runs its own checks. Only the objects
/// in flight have a JSON tree (the lowered objects keep their text). `expected`: how many
/// objects there will be, at most. `clusters` are the clusters the project declares (empty:
/// any), which objects' `skyc.dev/clusters` may name. `keep`: see [`LoweredObject::json`].
///
/// With many objects, lowering runs on a second thread while the evaluation's thread goes on
/// converting the next ones (Starlark values cannot leave their thread). The evaluation's
/// thread only writes each object to a tape ([`Tape`]); the lowering thread takes the tapes in
/// batches, in order, so the result is the same as one thread's, builds each object's tree
/// from its tape, lowers it and frees it, and sends the emptied tape back to be written again.
/// When the lowering thread is behind (its queue is full), the evaluation's thread lowers the
/// batch itself and passes the lowered objects on in their place. Near the end, when what
/// waits in that queue is more than what is left to convert, the evaluation's thread keeps
/// the last batches and lowers them itself (its `tail`, after everything the other thread
/// lowers), instead of waiting for the other thread to get through the queue alone.
pub(crate) fn stream(
    expected: usize,
    clusters: &[String],
    keep: bool,
    produce: impl FnOnce(&mut HandOver),
) -> Lowered {
    // Grown step by step, the list would be copied a dozen times for ten thousand objects.
    // `main` may return a long list of things that are not objects (each an error): at most
    // 65,536 entries are reserved ahead.
    let reserve = expected.min(1 << 16);
    // A few objects are not worth a thread; nor is a second core that another evaluation
    // already uses (a project rendered in parallel); nor trees the lint rules keep anyway.
    if expected < PIPELINE_MIN || keep || crate::memory::jobs() > 1 {
        return lower_here(keep, reserve, clusters, produce);
    }
    // Batches written and sent, not yet lowered by the other thread.
    let queued = std::sync::atomic::AtomicUsize::new(0);
    let queued = &queued;
    std::thread::scope(|scope| {
        let (to_lower, batches) = std::sync::mpsc::sync_channel::<Batch>(PIPELINE_DEPTH);
        let (to_reuse, emptied) = std::sync::mpsc::channel::<Tape>();
        let worker = std::thread::Builder::new()
            .name("skyc-lower".into())
            .spawn_scoped(scope, move || {
                let mut out = Lowered::new(keep);
                out.on_own_thread = true;
                out.objects.reserve_exact(reserve);
                for batch in batches {
                    match batch {
                        Batch::Written(mut tape, written) => {
                            out.lower_written(&tape, written, clusters);
                            queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                            tape.clear();
                            let _ = to_reuse.send(tape);
                        }
                        Batch::Lowered(part) => out.absorb(part),
                    }
                }
                out
            });
        let Ok(worker) = worker else {
            // No thread to be had.
            return lower_here(keep, reserve, clusters, produce);
        };
        let mut tape = Tape::default();
        let mut written = Vec::with_capacity(PIPELINE_BATCH);
        let mut batches_sent = 0usize;
        let mut pending = Some(to_lower);
        let mut handed = 0usize;
        let mut tail: Option<Lowered> = None;
        produce(&mut |r| {
            handed += 1;
            written.push(Written::write(r, &mut tape)?);
            if written.len() < PIPELINE_BATCH {
                return Ok(());
            }
            let Some(tx) = &pending else {
                written.clear();
                tape.clear();
                return Ok(());
            };
            // Batches left to convert, this one included.
            let left = expected.saturating_sub(handed).div_ceil(PIPELINE_BATCH) + 1;
            if tail.is_some()
                || keep_in_tail(queued.load(std::sync::atomic::Ordering::Relaxed), left)
            {
                let part = tail.get_or_insert_with(|| Lowered::new(keep));
                part.lower_written(&tape, std::mem::take(&mut written), clusters);
                tape.clear();
                return Ok(());
            }
            let next = emptied.try_recv().unwrap_or_default();
            let full = Batch::Written(
                std::mem::replace(&mut tape, next),
                std::mem::replace(&mut written, Vec::with_capacity(PIPELINE_BATCH)),
            );
            batches_sent += 1;
            queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let offered = if lowered_here_for_tests(batches_sent) {
                Err(TrySendError::Full(full))
            } else {
                tx.try_send(full)
            };
            let sent = match offered {
                Ok(()) => Ok(()),
                // The lowering thread is behind: this thread lowers the batch itself while it
                // catches up, so that the two threads share the work (each frees the trees it
                // built, which its allocator then reuses).
                Err(TrySendError::Full(Batch::Written(full, objects))) => {
                    queued.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    let mut part = Lowered::new(keep);
                    part.lower_written(&full, objects, clusters);
                    tape = full;
                    tape.clear();
                    tx.send(Batch::Lowered(part)).map_err(|_| ())
                }
                Err(_) => Err(()),
            };
            // The lowering thread is gone when it panicked: the join below passes that on,
            // and what was not sent is dropped here.
            if sent.is_err() {
                pending = None;
            }
            Ok(())
        });
        if let Some(tx) = pending.take() {
            if !written.is_empty() {
                if tail.is_some()
                    || keep_in_tail(queued.load(std::sync::atomic::Ordering::Relaxed), 1)
                {
                    let part = tail.get_or_insert_with(|| Lowered::new(keep));
                    part.lower_written(&tape, written, clusters);
                } else {
                    queued.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let _ = tx.send(Batch::Written(tape, written));
                }
            }
        }
        let mut out = match worker.join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if let Some(part) = tail {
            out.absorb(part);
        }
        out.finish()
    })
}

/// Whether the evaluation's thread keeps the rest of the batches (`left` of them, the one at
/// hand already converted) and lowers them itself: when the other thread has at least as much
/// waiting (`queued`) as this one has left to convert and lower. Converting a batch takes
/// about two thirds of the time lowering it takes (which is why the queue fills up), so
/// that is `left` batches to lower and `left - 1` to convert, and the two threads then end
/// at about the same time.
fn keep_in_tail(queued: usize, left: usize) -> bool {
    3 * queued >= 3 * left + 2 * (left - 1) || kept_for_tests(left)
}

/// Tests: the last three batches are lowered by the evaluation's thread (see
/// [`keep_in_tail`]), as if the other thread were that far behind.
#[cfg(test)]
static TAIL_FOR_TESTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
fn kept_for_tests(left: usize) -> bool {
    left <= 3 && TAIL_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(test))]
fn kept_for_tests(_: usize) -> bool {
    false
}

/// Tests: every other batch is lowered by the evaluation's thread, as if the lowering thread
/// were behind (which otherwise depends on timing).
#[cfg(test)]
static ALTERNATE_FOR_TESTS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(test)]
fn lowered_here_for_tests(batch: usize) -> bool {
    batch.is_multiple_of(2) && ALTERNATE_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(not(test))]
fn lowered_here_for_tests(_: usize) -> bool {
    false
}

/// Objects [`stream`] hands to the lowering thread at once: written to a tape, or (when that
/// thread was behind) already lowered.
enum Batch {
    Written(Tape, Vec<Written>),
    Lowered(Lowered),
}

/// [`stream`]'s objects, lowered on this thread as they are converted.
fn lower_here(
    keep: bool,
    reserve: usize,
    clusters: &[String],
    produce: impl FnOnce(&mut HandOver),
) -> Lowered {
    let mut out = Lowered::new(keep);
    out.objects.reserve_exact(reserve);
    let mut tape = Tape::default();
    produce(&mut |r| {
        tape.clear();
        let p = Written::write(r, &mut tape)?.read(&tape);
        out.lower(p, clusters);
        Ok(())
    });
    out.finish()
}

/// At least this many objects are lowered on a thread of their own (see [`stream`]).
const PIPELINE_MIN: usize = 256;
/// Objects handed to the lowering thread at once, and how many batches may wait for it
/// (measured at N=10,000 on 2026-12-04: 64 and 4 were 1.15× faster than one thread; batches
/// of 8 or 16 with fewer waiting gained less, 256 no more).
const PIPELINE_BATCH: usize = 64;
const PIPELINE_DEPTH: usize = 4;

fn lower_one(mut p: Pending, clusters: &[String], out: &mut Lowered) {
    if let Some(set) = skyc_schema::crd::registered(p.ty.source()) {
        let json = p.node.to_json();
        lower_custom(p, json, set, clusters, out);
        return;
    }
    let diagnostics = &mut out.diagnostics;
    let missing = missing_required(p.ty, &p.node, |path| {
        p.origins.span_of_parent(path).or_else(|| p.span.clone())
    });
    let complete = missing.is_empty();
    diagnostics.extend(missing);
    let t = skyc_schema::lookup(p.ty);
    if p.ty.source() == SchemaId::ENVOY {
        let json = p.node.to_json();
        if let Some((o, json)) = lower_xds(&mut p, json, diagnostics) {
            out.accept(o, &Node::of(&json));
        }
        return;
    }
    // An object in canonical form with every required field is rendered as it is: its
    // constructors checked each field's name and type (enums, integer ranges, quantities)
    // where it was set, and the walk above its required fields, which is what reading it as
    // its `k8s-openapi` struct would check (measured: 8% of a render at N=1,000). Development
    // builds (and so the tests) still read it as the struct and stop if the two disagree.
    // Other objects are rebuilt through their struct, whose form is the rendered one.
    // (Embedded documents are strings here, as they will be.)
    let canonical = canonicalize(p.ty, &mut p.node) && complete;
    let check_canonical = |json: &Json| {
        debug_assert!(
            k8s().check(p.ty, json).is_none_or(|r| r.is_ok()),
            "{} passed the schema's checks but does not read as its struct: {:?}",
            t.display,
            k8s().check(p.ty, json)
        );
    };
    let mut envoy_documents = Vec::new();
    // The tree of an object rebuilt through its struct or holding Envoy documents.
    let json;
    let lowered = if canonical && p.embedded.is_empty() {
        if cfg!(debug_assertions) {
            check_canonical(&p.node.to_json());
        }
        k8s().is_kind(p.ty).then(|| Ok(std::mem::take(&mut p.node)))
    } else {
        let mut tree = p.node.to_json();
        for e in &p.embedded {
            let at = |path: &str| p.origins.span_at(path).or_else(|| p.span.clone());
            let canonical = check_envoy(e.ty, &e.json, &e.path, at, diagnostics);
            let type_name = skyc_schema::lookup(e.ty).path.clone();
            let text = match &canonical {
                Some(c) if type_name == crate::BOOTSTRAP => {
                    crate::envoy_summary::summary(c) + &crate::emit::to_yaml(c)
                }
                Some(c) => crate::emit::to_yaml(c),
                None => String::new(),
            };
            replace_placeholder(&mut tree, &e.placeholder, &text);
            if let Some(c) = canonical {
                envoy_documents.push(crate::EnvoyDocument {
                    field: e.path.clone(),
                    type_name,
                    json: c,
                    text,
                });
            }
        }
        let lowered = if canonical {
            check_canonical(&tree);
            k8s().is_kind(p.ty).then_some(Ok(tree))
        } else {
            k8s().lower(p.ty, tree)
        };
        match lowered {
            Some(Ok(tree)) => {
                json = tree;
                Some(Ok(Node::of(&json)))
            }
            Some(Err(e)) => Some(Err(e)),
            None => None,
        }
    };
    match lowered {
        Some(Ok(node)) => {
            finish(p, node, envoy_documents, clusters, out);
        }
        Some(Err(e)) => diagnostics.push(
            Diagnostic::new(
                codes::SKY0408,
                format!("{} does not fit the Kubernetes schema: {e}", t.display),
            )
            .with_span_opt(p.span.clone()),
        ),
        None => diagnostics.push(
            Diagnostic::new(
                codes::SKY0208,
                format!("{} cannot be rendered as a top-level object", t.display),
            )
            .with_span_opt(p.span.clone()),
        ),
    }
}

/// The rendered object of `p` from its lowered tree: its key order, name, namespace and
/// clusters (which are checked against the project's).
fn finish(
    mut p: Pending,
    node: Node,
    envoy_documents: Vec<crate::EnvoyDocument>,
    clusters: &[String],
    out: &mut Lowered,
) {
    let node = conventional_order_of(node);
    let g = skyc_schema::lookup(p.ty)
        .gvk
        .clone()
        .expect("lowered objects are kinds");
    if let Some(value) = crate::clusters::annotation_in(&node) {
        let path = crate::clusters::FIELD_PATH;
        let at = p
            .origins
            .span_at_literal(path, value)
            .or_else(|| p.span.clone());
        for problem in crate::clusters::check(value, clusters) {
            out.diagnostics.push(
                Diagnostic::new(problem.code, problem.message)
                    .with_span_opt(at.clone())
                    .with_field_path(path)
                    .with_help(problem.help),
            );
        }
    }
    let object = LoweredObject {
        object: Object::of_tree(g.api_version(), g.kind.clone(), &node, envoy_documents),
        ty: p.ty,
        span: p.span.clone(),
        json: Json::Null,
        origins: std::mem::take(&mut p.origins),
    };
    out.accept(object, &node);
}

/// Lowers a custom resource: the checks of its CRD version's schema
/// ([`skyc_schema::crd::validate`]; every finding at the `.sky` line that set the field), its
/// version's state (served, deprecated), and `metadata` through Kubernetes' ObjectMeta.
fn lower_custom(
    p: Pending,
    mut json: Json,
    set: &skyc_schema::crd::CrdSet,
    clusters: &[String],
    out: &mut Lowered,
) {
    let diagnostics = &mut out.diagnostics;
    use skyc_schema::crd::FindingKind;
    let t = skyc_schema::lookup(p.ty);
    let Some(v) = set.by_type(p.ty) else {
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0208,
                format!("{} cannot be rendered as a top-level object", t.display),
            )
            .with_span_opt(p.span.clone()),
        );
        return;
    };
    let versions = set.kind_versions(&v.group, &v.kind);
    let storage = versions
        .iter()
        .find(|x| x.storage)
        .map(|x| x.version.clone());
    if !v.served {
        let served: Vec<String> = versions
            .iter()
            .filter(|x| x.served)
            .map(|x| format!("`{}`", x.version))
            .collect();
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0416,
                format!(
                    "{} is not served: its CRD declares version `{}` with `served: false`",
                    t.display, v.version
                ),
            )
            .with_span_opt(p.span.clone())
            .with_help(if served.is_empty() {
                "the CRD serves no version".to_string()
            } else {
                format!(
                    "use a served version: {}{}",
                    served.join(", "),
                    storage
                        .as_ref()
                        .map(|s| format!(" (`{s}` is the storage version)"))
                        .unwrap_or_default()
                )
            }),
        );
    } else if let Some(warning) = &v.deprecated {
        diagnostics.push(
            Diagnostic::new(codes::SKY0417, warning.clone())
                .with_span_opt(p.span.clone())
                .with_help(match storage.as_ref().filter(|s| **s != v.version) {
                    Some(s) => format!("move to `{}/{s}` (the storage version)", v.group),
                    None => "move to a version the CRD does not deprecate".to_string(),
                }),
        );
    }
    for f in skyc_schema::crd::validate(&v.schema, &json) {
        let (code, message) = match f.kind {
            FindingKind::WrongType => (codes::SKY0204, f.message),
            FindingKind::Enum => (codes::SKY0205, f.message),
            FindingKind::UnknownField => (codes::SKY0203, format!("{} ({})", f.message, t.display)),
            FindingKind::Required => (
                codes::SKY0206,
                format!("{} is missing required field `{}`", t.display, f.path),
            ),
            FindingKind::Constraint => (codes::SKY0414, f.message),
        };
        let value = json_pointer(&json, &f.path);
        let span = match (f.kind, value) {
            (FindingKind::Required, _) => p.origins.span_of_parent(&f.path),
            // A string is found by its literal in the source, anything else by the key that
            // holds it, where that is unambiguous.
            (_, Some(Json::String(value))) => p.origins.span_at_literal(&f.path, value),
            _ => steps(&f.path)
                .iter()
                .rev()
                .find_map(|step| match step {
                    Step::Field(name) => p.origins.literal_at(&f.path, name),
                    _ => None,
                })
                .or_else(|| p.origins.span_at(&f.path)),
        };
        let last = f.path.rsplit(['.', '[']).next().unwrap_or(&f.path);
        let help = match f.kind {
            FindingKind::UnknownField | FindingKind::Enum => {
                let word = if f.kind == FindingKind::Enum {
                    value.and_then(Json::as_str).unwrap_or(last).to_string()
                } else {
                    last.to_string()
                };
                match skyc_diag::did_you_mean(&word, f.expected.iter().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`? {}", f.help),
                    None => f.help,
                }
            }
            FindingKind::Required => {
                format!("set `{}` (see `skyc doc {}`)", f.path, t.path)
            }
            _ => f.help,
        };
        diagnostics.push(
            Diagnostic::new(code, message)
                .with_span_opt(span.or_else(|| p.span.clone()))
                .with_field_path(&f.path)
                .with_help(help),
        );
    }
    if let Some(first) = v.cel_rules.first() {
        let n = v.cel_rules.len();
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0415,
                format!(
                    "{}: {n} CEL rule{} of its CRD (x-kubernetes-validations) {} not checked, e.g. `{first}`",
                    t.display,
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "is" } else { "are" },
                ),
            )
            .with_span_opt(p.span.clone())
            .with_help("the API server checks them when the object is applied (`kubectl apply --dry-run=server`)"),
        );
    }
    if let Some(meta) = json.get_mut("metadata") {
        match skyc_schema::k8s::lower_object_meta(std::mem::take(meta)) {
            Ok(m) => *meta = m,
            Err(e) => {
                diagnostics.push(
                    Diagnostic::new(
                        codes::SKY0408,
                        format!(
                            "the metadata of {} is not a valid ObjectMeta: {e}",
                            t.display
                        ),
                    )
                    .with_span_opt(p.span.clone()),
                );
                return;
            }
        }
    }
    finish(p, Node::of(&json), Vec::new(), clusters, out);
}

/// One step of a field path: a field (`spec`), a list index (`[0]`) or a map key
/// (`["app"]`).
#[derive(Debug, PartialEq)]
pub(crate) enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Key(String),
}

/// The steps of a field path such as `spec.endpoints[0].port` or `metadata.labels["app"]`, as
/// diagnostics write them; the steps up to one that does not parse.
pub(crate) fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        rest = rest.trim_start_matches('.');
        if let Some(r) = rest.strip_prefix("[\"") {
            // A quoted key: up to the first unescaped `"`, which `]` must follow; unescaped
            // when it is valid JSON.
            let mut escaped = false;
            let close = r.char_indices().find(|&(_, c)| {
                let end = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                end
            });
            let Some(end) = close
                .map(|(i, _)| i)
                .filter(|&i| r[i + 1..].starts_with(']'))
            else {
                break;
            };
            let quoted = &rest[1..end + 3];
            out.push(Step::Key(
                serde_json::from_str(quoted).unwrap_or_else(|_| r[..end].to_string()),
            ));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some((i, after)) = r
                .split_once(']')
                .and_then(|(n, after)| Some((n.parse().ok()?, after)))
            else {
                break;
            };
            out.push(Step::Index(i));
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Step::Field(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// The value at a field path (see [`steps`]).
fn json_pointer<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    steps(path).iter().try_fold(json, |at, step| match step {
        Step::Field(name) => at.get(name),
        Step::Key(key) => at.get(key.as_str()),
        Step::Index(i) => at.get(i),
    })
}

/// Checks an Envoy document at `path` of its object (protoc-gen-validate rules and
/// references), then decodes it against its proto into canonical JSON. The decoder's
/// complaint is reported only when the checks found nothing: it would repeat one of them.
fn check_envoy(
    ty: TypeId,
    json: &Json,
    path: &str,
    at: impl Fn(&str) -> Option<Span>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Json> {
    let findings = crate::validate_envoy::check(ty, json, path);
    let report_decode = findings.is_empty();
    for f in findings {
        diagnostics.push(
            Diagnostic::new(f.code, f.message)
                .with_span_opt(at(&f.path))
                .with_field_path(&f.path)
                .with_help(f.help),
        );
    }
    match skyc_schema::envoy::canonical_json(ty, json) {
        Ok(c) => Some(c),
        Err(_) if !report_decode => None,
        Err(msg) => {
            let mut d = Diagnostic::new(
                codes::SKY0408,
                format!(
                    "{} does not fit its Envoy proto: {msg}",
                    skyc_schema::lookup(ty).path
                ),
            )
            .with_span_opt(at(path));
            if !path.is_empty() {
                d = d.with_field_path(path);
            }
            diagnostics.push(d);
            None
        }
    }
}

/// A top-level Envoy resource (`main` returned a Listener or a Cluster): checked like an
/// embedded Envoy document, rendered as an xDS resource (its canonical JSON, `@type` first).
/// Its apiVersion is its protobuf package and its kind the message name.
fn lower_xds(
    p: &mut Pending,
    json: Json,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(LoweredObject, Json)> {
    let t = skyc_schema::lookup(p.ty);
    // Lowering set the message aside as an embedded Envoy document (it was not inside an
    // Envoy document): take it back.
    let json = match (&json, p.embedded.as_slice()) {
        (Json::String(s), [e]) if *s == e.placeholder => e.json.clone(),
        _ => json,
    };
    // At the top, `at("")` is the object's own span.
    let at = |path: &str| p.origins.span_at(path).or_else(|| p.span.clone());
    let canonical = check_envoy(p.ty, &json, "", at, diagnostics)?;
    let name_field = crate::emit::XDS_RESOURCE_TYPES
        .iter()
        .find(|(path, _)| *path == t.path)
        .map_or("name", |(_, f)| f);
    let name = json
        .get(name_field)
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0206,
                format!(
                    "{} is missing `{name_field}`, which names it as an xDS resource",
                    t.path
                ),
            )
            .with_span_opt(p.span.clone())
            .with_field_path(name_field)
            .with_help(format!("set `{name_field}`")),
        );
        return None;
    }
    let mut out = Map::new();
    out.insert(
        "@type".into(),
        Json::String(skyc_schema::envoy::type_url(&t.name)),
    );
    if let Json::Object(fields) = canonical {
        out.extend(fields);
    }
    let (package, kind) = t.name.rsplit_once('.').unwrap_or(("", &t.name));
    let json = Json::Object(out);
    let mut object = Object::new(package.to_string(), kind.to_string(), &json, Vec::new());
    object.name = name;
    Some((
        LoweredObject {
            object,
            ty: p.ty,
            span: p.span.clone(),
            json: Json::Null,
            origins: std::mem::take(&mut p.origins),
        },
        json,
    ))
}

/// Puts the rendered text of an embedded document where its placeholder is.
fn replace_placeholder(json: &mut Json, placeholder: &str, text: &str) -> bool {
    replace_placeholder_with(json, placeholder, &Json::String(text.to_string()))
}

/// Puts `value` where the placeholder string is.
pub(crate) fn replace_placeholder_with(json: &mut Json, placeholder: &str, value: &Json) -> bool {
    match json {
        Json::String(s) if s == placeholder => {
            *json = value.clone();
            true
        }
        Json::Array(a) => a
            .iter_mut()
            .any(|x| replace_placeholder_with(x, placeholder, value)),
        Json::Object(o) => o
            .values_mut()
            .any(|x| replace_placeholder_with(x, placeholder, value)),
        _ => false,
    }
}

/// SKY0206 for every required field missing anywhere in `json`, an object of type `ty`;
/// `span_of` places a finding by the missing field's path.
pub(crate) fn missing_required(
    ty: TypeId,
    json: &impl Tree,
    span_of: impl Fn(&str) -> Option<Span>,
) -> Vec<Diagnostic> {
    let mut missing = Vec::new();
    required(ty, json, &mut String::new(), &mut missing);
    let display = &skyc_schema::lookup(ty).display;
    missing
        .into_iter()
        .map(|(path, ty_name)| {
            Diagnostic::new(
                codes::SKY0206,
                format!("{display} is missing required field `{path}`"),
            )
            .with_span_opt(span_of(&path))
            .with_field_path(&path)
            .with_help(format!("set `{path}` (see `skyc doc {ty_name}`)"))
        })
        .collect()
}

/// Collects (field path, type path) of required fields missing anywhere in `json`. `path`
/// holds the field path of `json`; each level appends to it and truncates it back, so a walk
/// that finds nothing missing allocates nothing.
fn required<T: Tree>(ty: TypeId, json: &T, path: &mut String, out: &mut Vec<(String, String)>) {
    let t = skyc_schema::lookup(ty);
    let Some(entries) = json.entries() else {
        return;
    };
    // This runs over every object: look up only the required fields (few) and the fields that
    // are set and can hold messages.
    for f in t.fields.iter().filter(|f| f.required) {
        if json.get(&f.name).is_none() {
            out.push((crate::values::message::join(path, &f.name), t.path.clone()));
        }
    }
    for (name, v) in entries {
        if v.entries().is_none() && v.as_array().is_none() {
            continue;
        }
        if let Some((_, f)) = t.field(name).filter(|(_, f)| may_hold_messages(&f.ty)) {
            let len = path.len();
            if len > 0 {
                path.push('.');
            }
            path.push_str(name);
            required_in(&f.ty, v, path, out);
            path.truncate(len);
        }
    }
}

/// Whether values of a field type can contain messages (which can miss required fields).
fn may_hold_messages(ty: &FieldType) -> bool {
    match ty {
        FieldType::Message(_) => true,
        FieldType::List(item) | FieldType::Map(item) => may_hold_messages(item),
        _ => false,
    }
}

fn required_in<T: Tree>(ty: &FieldType, v: &T, path: &mut String, out: &mut Vec<(String, String)>) {
    let len = path.len();
    match ty {
        FieldType::Message(id) => required(*id, v, path, out),
        FieldType::List(item) => {
            if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    let _ = write!(path, "[{i}]");
                    required_in(item, x, path, out);
                    path.truncate(len);
                }
            }
        }
        FieldType::Map(item) => {
            if let Some(o) = v.entries() {
                for (k, x) in o {
                    let _ = write!(path, "[{k:?}]");
                    required_in(item, x, path, out);
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
}

/// Brings `json` (a message of type `ty`) into the form the `k8s-openapi` structs write, where
/// that is cheap: map keys sorted (labels, annotations, ConfigMap data…, which the structs
/// keep in `BTreeMap`s); fields are already in schema order. Returns `false` when the object
/// holds a value whose canonical form only the structs know (a timestamp, a byte string, a
/// quantity written as a number, an integer in a floating-point field): the caller then lowers
/// it through its struct.
fn canonicalize(ty: TypeId, json: &mut Node) -> bool {
    let t = skyc_schema::lookup(ty);
    let Some(obj) = json.as_object_mut() else {
        return true;
    };
    let mut simple = true;
    for (name, v) in obj.iter_mut() {
        if let Some((_, f)) = t.field(name) {
            simple &= canonicalize_in(&f.ty, v);
        }
    }
    simple
}

fn canonicalize_in(ty: &FieldType, v: &mut Node) -> bool {
    // A value of the wrong JSON type (a list changed in place: `x.items.append(None)`) is not
    // canonical either: its struct rejects it.
    let int = |v: &Node, bits: u8| {
        v.as_i64()
            .is_some_and(|n| bits > 32 || i32::try_from(n).is_ok())
    };
    match ty {
        FieldType::Message(id) => v.is_object() && canonicalize(*id, v),
        FieldType::List(item) => match v.as_array_mut() {
            Some(a) => a
                .iter_mut()
                .fold(true, |ok, x| canonicalize_in(item, x) & ok),
            None => false,
        },
        FieldType::Map(item) => match v.as_object_mut() {
            Some(o) => {
                o.sort_unstable_by(|a, b| a.0.cmp(b.0));
                o.iter_mut()
                    .fold(true, |ok, (_, x)| canonicalize_in(item, x) & ok)
            }
            None => false,
        },
        // Free-form JSON that the struct types strictly (a CRD's `additionalProperties`)
        // keeps there only the fields the struct knows: the struct's form is the rendered one,
        // as `skyc import` writes it.
        FieldType::Time | FieldType::Bytes | FieldType::Json => v.is_null(),
        FieldType::Quantity | FieldType::String { .. } => v.is_string(),
        // The structs hold these as `f64`, which writes `1` as `1.0`.
        FieldType::Number => v.is_f64(),
        FieldType::Int { bits } => int(v, *bits),
        FieldType::IntOrString => v.is_string() || int(v, 32),
        FieldType::Bool => v.is_boolean(),
        // Not in Kubernetes objects.
        FieldType::UInt { .. } | FieldType::Duration | FieldType::Any => false,
    }
}

/// Kubernetes' conventional order: apiVersion, kind, metadata, then the rest as the schema
/// (the `k8s-openapi` struct) orders them.
pub(crate) fn conventional_order(json: Json) -> Json {
    let Json::Object(mut obj) = json else {
        return json;
    };
    if in_conventional_order(obj.keys().map(String::as_str)) {
        return Json::Object(obj);
    }
    let mut out = Map::new();
    for k in CONVENTIONAL_FIRST {
        if let Some(v) = obj.shift_remove(k) {
            out.insert(k.to_string(), v);
        }
    }
    out.extend(obj);
    Json::Object(out)
}

/// [`conventional_order`] of a [`Node`].
fn conventional_order_of(mut node: Node) -> Node {
    if let Some(entries) = node.as_object_mut() {
        if !in_conventional_order(entries.iter().map(|(k, _)| *k)) {
            let rank = |k: &str| CONVENTIONAL_FIRST.iter().position(|f| *f == k);
            // Stable: the others keep their order.
            entries.sort_by_key(|(k, _)| rank(k).unwrap_or(CONVENTIONAL_FIRST.len()));
        }
    }
    node
}

/// The keys that come first in Kubernetes' conventional order.
const CONVENTIONAL_FIRST: [&str; 3] = ["apiVersion", "kind", "metadata"];

/// Whether `keys` already are in conventional order (usually the schema's order is the
/// conventional one): when the three that are present come first, in this order.
fn in_conventional_order<'a>(mut keys: impl Iterator<Item = &'a str>) -> bool {
    let mut next = 0;
    let mut others = false;
    keys.all(|k| match CONVENTIONAL_FIRST.iter().position(|f| *f == k) {
        Some(i) if !others && i >= next => {
            next = i + 1;
            true
        }
        Some(_) => false,
        None => {
            others = true;
            true
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{json_pointer, steps, Step};

    /// Hundreds of objects are lowered on a thread of their own while the next are
    /// converted: the objects, their order and every finding (of lowering and of the objects'
    /// own checks) are what lowering them one by one on the converting thread gives, also
    /// when the converting thread lowers some batches itself.
    #[test]
    fn lowering_on_its_own_thread_gives_what_one_thread_gives() {
        let world = crate::MemoryWorld::new([(
            "main.sky",
            r#"
def main(ctx):
    out = []
    for i in range(400):
        name = "Bad_Name_%d" % i if i in (5, 100, 300) else "c%d" % i
        out.append(k8s.core.v1.ConfigMap(
            metadata = k8s.meta.v1.ObjectMeta(name = name, labels = {"app": "a", "i": str(i)}),
            data = {"k": "v%d" % i},
        ))
        if i == 123:
            out.append(k8s.core.v1.Service(
                metadata = k8s.meta.v1.ObjectMeta(name = "s"),
                spec = k8s.core.v1.ServiceSpec(ports = [k8s.core.v1.ServicePort(name = "http")]),
            ))
    return out
"#,
        )]);
        let run = |lint: bool, alternate: bool| {
            let opts = crate::Options {
                lint,
                ..Default::default()
            };
            // Other tests may run meanwhile: they only see some of their batches lowered on
            // their evaluation's thread, which gives the same result.
            super::ALTERNATE_FOR_TESTS.store(alternate, std::sync::atomic::Ordering::Relaxed);
            let mut evaluated = crate::eval::evaluate(&world, "main.sky", &opts);
            super::ALTERNATE_FOR_TESTS.store(false, std::sync::atomic::Ordering::Relaxed);
            let lowered = evaluated.lowered.take().expect("main ran");
            let shared = lowered.time_on_evaluating_thread() > std::time::Duration::ZERO;
            let texts: Vec<String> = lowered
                .objects
                .iter()
                .map(|o| o.object.json_text().to_string())
                .collect();
            let mut found = lowered.diagnostics.clone();
            found.extend(crate::validate::check_all(
                &lowered.objects,
                lowered.findings,
            ));
            let found: Vec<String> = found.iter().map(|d| format!("{d:?}")).collect();
            (lowered.on_own_thread, shared, texts, found)
        };
        let (threaded, _, texts, found) = run(false, false);
        let (alone, _, one_thread_texts, one_thread_found) = run(true, false);
        // The lowering thread behind: the evaluation's thread lowers every other batch.
        let (threaded_alternating, alternated, alternating_texts, alternating_found) =
            run(false, true);
        // The lowering thread that far behind at the end: the evaluation's thread keeps the
        // last batches.
        super::TAIL_FOR_TESTS.store(true, std::sync::atomic::Ordering::Relaxed);
        let (threaded_tail, kept, tail_texts, tail_found) = run(false, false);
        super::TAIL_FOR_TESTS.store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(threaded_tail && kept);
        assert_eq!(tail_texts, one_thread_texts);
        assert_eq!(tail_found, one_thread_found);
        assert!(threaded, "400 objects are lowered on a thread of their own");
        assert!(threaded_alternating && alternated);
        assert_eq!(alternating_texts, one_thread_texts);
        assert_eq!(alternating_found, one_thread_found);
        assert!(
            alternating_found.iter().any(|d| d.contains("Bad_Name_100")),
            "the objects' own checks ran on the evaluation's thread too: {alternating_found:?}"
        );
        assert!(
            !alone,
            "the lint rules keep the trees: lowered on the converting thread"
        );
        assert_eq!(texts.len(), 401);
        assert_eq!(texts, one_thread_texts);
        assert!(
            found.iter().any(|d| d.contains("Bad_Name_300")),
            "the objects' own checks ran: {found:?}"
        );
        assert!(
            found.iter().any(|d| d.contains("port")),
            "lowering's required fields were checked: {found:?}"
        );
        assert_eq!(found, one_thread_found);
    }

    /// A render keeps no object's JSON tree or origins past its own checks (memory grows with
    /// the output text only); `skyc check` keeps them for the lint rules and policies.
    #[test]
    fn trees_and_origins_are_kept_only_for_the_lint_rules() {
        let world = crate::MemoryWorld::new([(
            "main.sky",
            "def main(ctx):\n    return [k8s.core.v1.ConfigMap(metadata = k8s.meta.v1.ObjectMeta(name = \"c%d\" % i)) for i in range(3)]\n",
        )]);
        for lint in [false, true] {
            let opts = crate::Options {
                lint,
                ..Default::default()
            };
            let mut evaluated = crate::eval::evaluate(&world, "main.sky", &opts);
            assert!(
                !evaluated.outcome.has_errors(),
                "{:?}",
                evaluated.outcome.diagnostics
            );
            let lowered = evaluated.lowered.take().expect("main ran");
            assert_eq!(lowered.objects.len(), 3);
            for o in &lowered.objects {
                assert_eq!(o.json.is_null(), !lint, "lint: {lint}");
                assert_eq!(o.origins.root().is_none(), !lint, "lint: {lint}");
                assert_eq!(o.object.json()["kind"], "ConfigMap");
            }
        }
    }

    #[test]
    fn conventional_order_puts_api_version_kind_and_metadata_first() {
        let keys = |j: serde_json::Value| {
            super::conventional_order(j)
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        let ordered = ["apiVersion", "kind", "metadata", "spec"];
        assert_eq!(
            keys(serde_json::json!({"apiVersion": 1, "kind": 2, "metadata": 3, "spec": 4})),
            ordered
        );
        assert_eq!(
            keys(serde_json::json!({"spec": 4, "metadata": 3, "kind": 2, "apiVersion": 1})),
            ordered
        );
        assert_eq!(
            keys(serde_json::json!({"kind": 2, "apiVersion": 1, "metadata": 3, "spec": 4})),
            ordered
        );
        assert_eq!(
            keys(serde_json::json!({"apiVersion": 1, "spec": 4, "kind": 2})),
            ["apiVersion", "kind", "spec"]
        );
        assert_eq!(
            keys(serde_json::json!({"data": 5, "kind": 2})),
            ["kind", "data"]
        );
    }

    #[test]
    fn field_paths_read_as_steps() {
        assert_eq!(
            steps(r#"spec.endpoints[0].labels["a.b\"]c"].x"#),
            [
                Step::Field("spec"),
                Step::Field("endpoints"),
                Step::Index(0),
                Step::Field("labels"),
                Step::Key("a.b\"]c".into()),
                Step::Field("x"),
            ]
        );
        // Up to a step that does not parse.
        assert_eq!(steps("a[x].b"), [Step::Field("a")]);
        let json = serde_json::json!({"spec": {"ports": [{"name": "http"}], "labels": {"a.b": 1}}});
        assert_eq!(
            json_pointer(&json, "spec.ports[0].name"),
            Some(&json["spec"]["ports"][0]["name"])
        );
        assert_eq!(
            json_pointer(&json, "spec.labels[\"a.b\"]"),
            Some(&serde_json::json!(1))
        );
        assert_eq!(json_pointer(&json, "spec.ports[1]"), None);
    }
}
