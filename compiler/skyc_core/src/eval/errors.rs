//! Turning starlark errors into coded diagnostics.

use super::Limits;
use crate::values::{is_stdlib, to_span, SkyError};
use skyc_diag::{codes, CodeInfo, Diagnostic};
use starlark::ErrorKind;

fn sky_error(e: &starlark::Error) -> Option<&SkyError> {
    match e.kind() {
        ErrorKind::Native(a)
        | ErrorKind::Value(a)
        | ErrorKind::Other(a)
        | ErrorKind::Function(a)
        | ErrorKind::Fail(a) => a.downcast_ref::<SkyError>(),
        _ => None,
    }
}

/// The one-line message of an error, without its location (`t.assert.fails` returns it).
pub(crate) fn message_of(e: &starlark::Error) -> String {
    message(e)
}

fn message(e: &starlark::Error) -> String {
    match e.kind() {
        ErrorKind::Fail(a)
        | ErrorKind::StackOverflow(a)
        | ErrorKind::Value(a)
        | ErrorKind::Function(a)
        | ErrorKind::Scope(a)
        | ErrorKind::Parser(a)
        | ErrorKind::Freeze(a)
        | ErrorKind::Internal(a)
        | ErrorKind::Native(a)
        | ErrorKind::Other(a) => {
            let s = format!("{a:#}");
            s.lines().next().unwrap_or("").trim().to_string()
        }
        _ => e.without_diagnostic().to_string(),
    }
}

/// A diagnostic for a parse error (with the given code).
pub(crate) fn to_diagnostic(e: &starlark::Error, code: &'static CodeInfo) -> Diagnostic {
    Diagnostic::new(code, message(e)).with_span_opt(e.span().map(to_span))
}

/// A typechecker error as a diagnostic (SKY0202); a missing member of `k8s` or of `crd` (the
/// project's custom resources, `crds`) is named by its path, with the closest that exists.
pub(crate) fn type_error(e: &starlark::Error, crds: Option<&crate::crds::CrdIndex>) -> Diagnostic {
    let d = to_diagnostic(e, codes::SKY0202);
    match unknown_member(e, crds) {
        Some((message, help)) => Diagnostic::new(codes::SKY0202, message)
            .with_span_opt(d.span)
            .with_help(help),
        None => {
            d.with_help("fix the call or the annotation; types are checked before the file runs")
        }
    }
}

/// For the typechecker's "attribute not available on the type `namespace(…)`" at a `k8s.…`
/// or `crd.…` path: a message naming the path, and the closest existing constructor or
/// namespace. (Starlark's own message spells out the namespace's type, which for `k8s` is
/// either hundreds of constructors or, typed for one file, only those the file names.)
fn unknown_member(
    e: &starlark::Error,
    crds: Option<&crate::crds::CrdIndex>,
) -> Option<(String, String)> {
    let msg = message(e);
    let attr = msg.strip_prefix("The attribute `")?.split('`').next()?;
    if !msg.contains("is not available on the type `namespace(") {
        return None;
    }
    let span = e.span()?;
    let src = span.file.source();
    let before = src.get(..span.span.begin().get() as usize)?;
    let start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let prefix = before[start..].strip_suffix('.')?;
    let root = prefix.split('.').next().unwrap_or(prefix);
    let (candidates, otherwise) = match root {
        "k8s" => (
            crate::values::lazy_ns::with_namespaces(
                crate::values::message::schema()
                    .types()
                    .iter()
                    .map(|t| t.path.as_str()),
            ),
            format!("`skyc doc {prefix}` lists what is there"),
        ),
        "crd" => (
            crds.map(crate::values::lazy_ns::crd_candidates)
                .unwrap_or_default(),
            "`skyc doc crd` lists the project's custom resources; a CRD is declared in sky.toml (`[crds] paths`)".to_string(),
        ),
        _ => return None,
    };
    let path = format!("{prefix}.{attr}");
    let help = match skyc_diag::did_you_mean(&path, candidates.iter().copied()) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise,
    };
    Some((format!("there is no `{path}`"), help))
}

/// A diagnostic for an evaluation error, classifying limit errors.
pub(crate) fn eval_error(e: &starlark::Error, limits: &Limits) -> Diagnostic {
    let msg = message(e);
    let (code, message, help): (&CodeInfo, String, Option<String>) = if let Some(s) = sky_error(e) {
        (s.code, s.message.clone(), s.help.clone())
    } else if matches!(e.kind(), ErrorKind::StackOverflow(_)) {
        (
            codes::SKY0305,
            format!(
                "calls nested deeper than the call-depth limit ({})",
                limits.max_call_depth
            ),
            Some(
                "raise it with --max-call-depth N (or [limits] max_call_depth in sky.toml)".into(),
            ),
        )
    } else if msg.contains("ticks has been exceeded") {
        (
            codes::SKY0302,
            format!(
                "evaluation exceeded the step limit ({} steps)",
                limits.max_steps
            ),
            Some(
                "look for a runaway loop; raise the limit with --max-steps N if the work is real"
                    .into(),
            ),
        )
    } else if msg.contains("Heap memory limit")
        || (msg.contains("Evaluation cancelled") && crate::memory::take_tripped())
    {
        (
            codes::SKY0303,
            format!(
                "evaluation exceeded the memory limit ({} bytes)",
                limits.max_heap
            ),
            Some("raise it with --max-heap SIZE (e.g. 1G) if the data is real".into()),
        )
    } else if msg.contains("Evaluation cancelled") {
        (
            codes::SKY0304,
            format!(
                "evaluation exceeded the time limit ({} s)",
                limits.max_time.as_secs_f64()
            ),
            Some("raise it with --max-time SECONDS if the work is real".into()),
        )
    } else if let Some(name) = msg
        .strip_prefix("Object of type `proto.Package` has no attribute `")
        .and_then(|r| r.strip_suffix('`'))
    {
        (
            codes::SKY0313,
            format!("the protobuf package has no type or enum named `{name}`"),
            Some(crate::values::proto::suggest_member(name)),
        )
    } else if msg.contains("has no symbol") {
        (
            codes::SKY0109,
            msg,
            Some("names starting with `_` are private; check the spelling".into()),
        )
    } else if msg.contains("too big to fit in i32") {
        (
            codes::SKY0301,
            "an integer is too large here: `range()`, indexes and repetition counts must fit in 32 bits".into(),
            Some("use a smaller number; a loop this long would exceed the step limit anyway".into()),
        )
    } else if matches!(e.kind(), ErrorKind::Scope(_)) {
        (codes::SKY0202, msg, None)
    } else {
        (codes::SKY0301, msg, None)
    };
    let mut d = Diagnostic::new(code, message);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    // Point at the user's code: the error's own span when it is in a user file, else the
    // innermost user frame of the call stack.
    let frames = &e.call_stack().frames;
    let own = e
        .span()
        .filter(|s| !is_stdlib(s.file.filename()))
        .filter(|s| !(code.code == "SKY0305" && is_operator(s)));
    let user_frame = frames
        .iter()
        .rev()
        .filter_map(|f| f.location.as_ref())
        .find(|l| !is_stdlib(l.file.filename()));
    if let Some(s) = own.or(user_frame) {
        d.span = Some(to_span(s));
    } else if let Some(s) = e.span() {
        d.span = Some(to_span(s));
    }
    if let Some(s) = e.span().filter(|s| is_stdlib(s.file.filename())) {
        let line = s.resolve_span().begin.line + 1;
        d.notes.push(format!(
            "raised in stdlib {}:{line}",
            s.file.filename().trim_start_matches("@stdlib//")
        ));
    }
    d
}

/// Whether `s` is an operator expression (`n + 1`), which runs as a call to a size guard
/// (`_sky_add`): when that call is the one too deep, the user's call around it is meant.
fn is_operator(s: &starlark::codemap::FileSpan) -> bool {
    let text = s.source_span();
    !text.trim_end().ends_with(')')
}

thread_local! {
    static CATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a panic on this thread will be caught and reported as a diagnostic by
/// [`catch_panic`] (the command line's panic hook stays silent then).
pub fn panics_are_caught() -> bool {
    CATCHING.with(|c| c.get())
}

/// How the message of a panic caught while a file ran starts.
pub(crate) const PANIC_PREFIX: &str = "skyc failed while running the file";

/// Runs `f` (the evaluation of one file), turning a panic into a diagnostic without span.
/// Starlark refuses values larger than it can lay out (a list of a billion items) by
/// panicking before it allocates: that is a memory limit error (SKY0303), not a crash.
/// Any other panic is a bug in skyc (SKY0002), reported with the file and line that caused it.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, Diagnostic> {
    let was = CATCHING.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    r.map_err(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let too_large = ["must not exceed u32::MAX", "capacity overflow", "len overflow"]
            .iter()
            .any(|m| msg.contains(m));
        if too_large {
            Diagnostic::new(
                codes::SKY0303,
                format!("evaluation exceeded the memory limit: a value is too large to allocate ({msg})"),
            )
            .with_help("raise the limit with --max-heap SIZE if the data is real; look for a huge range(), repetition or concatenation")
        } else {
            internal_error(&msg)
        }
    })
}

/// SKY0002 for a failure of skyc itself while a file ran (`what` says what failed).
pub(crate) fn internal_error(what: &str) -> Diagnostic {
    Diagnostic::new(codes::SKY0002, format!("{PANIC_PREFIX}: {what}"))
        .with_help("this is a bug in skyc; please report it with the input that triggers it")
}
