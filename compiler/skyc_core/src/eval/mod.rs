//! Load, parse, typecheck and evaluate: from an entry file to the objects `main(ctx)` returns.
//!
//! Files are loaded depth-first from the entry; every `load()` is resolved by
//! [`resolve_load`](crate::world::resolve_load) and read through the [`World`]. Every file is
//! typechecked (with the interfaces of the files it loads) before anything that runs is used;
//! any error stops the pipeline before evaluation, or (when the files ran on this thread while
//! the typechecker worked on its own) drops what the evaluation gave. Modules are evaluated in
//! dependency order and frozen.

mod analysis;
pub(crate) mod errors;
pub use errors::panics_are_caught;

use crate::values::ctx::Vars;
use crate::values::message::{Builder, Message};
use crate::values::{globals, to_span, EvalContext};
use crate::world::{resolve_load, FileId, LoadPathError, ReadError, World};
use crate::{Options, Outcome};
use skyc_diag::{codes, Diagnostic, Span};
use skyc_schema::TypeId;
use starlark::codemap::{FileSpan, FileSpanRef};
use starlark::environment::{FrozenModule, Module};
use starlark::eval::{BeforeStmtFunc, Evaluator, ReturnFileLoader};
use starlark::syntax::{AstModule, Dialect, DialectTypes};
use starlark::typing::{AstModuleTypecheck, Interface};
use starlark::values::dict::DictRef;
use starlark::values::list::ListRef;
use starlark::values::structs::AllocStruct;
use starlark::values::tuple::TupleRef;
use starlark::values::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Resource limits of one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Function calls plus loop iterations.
    pub max_steps: u64,
    /// Bytes of Starlark heap (and of any single repetition).
    pub max_heap: u64,
    pub max_time: Duration,
    pub max_call_depth: usize,
    pub allow_recursion: bool,
}

/// The default memory limit of an evaluation (`[limits] max_heap`).
pub const DEFAULT_MAX_HEAP: u64 = 512 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_steps: 10_000_000,
            max_heap: DEFAULT_MAX_HEAP,
            max_time: Duration::from_secs(10),
            max_call_depth: 100,
            allow_recursion: false,
        }
    }
}

impl Limits {
    /// Defaults, then `sky.toml`, then the command line.
    pub fn resolve(opts: &Options) -> Limits {
        let d = Limits::default();
        let c = &opts.config.limits;
        let o = &opts.limits;
        Limits {
            max_steps: o.max_steps.or(c.max_steps).unwrap_or(d.max_steps),
            max_heap: o.max_heap.or(c.max_heap.map(|b| b.0)).unwrap_or(d.max_heap),
            max_time: o
                .max_time_seconds
                .or(c.max_time_seconds)
                .map(Duration::from_secs_f64)
                .unwrap_or(d.max_time),
            max_call_depth: o
                .max_call_depth
                .or(c.max_call_depth)
                .unwrap_or(d.max_call_depth),
            allow_recursion: opts.config.language.allow_recursion,
        }
    }
}

pub(crate) struct Evaluated {
    pub outcome: Outcome,
    /// The project's CRDs, if the compilation read them (functions called later, such as
    /// tests and policies, construct custom resources with them).
    pub crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
    /// The objects `main` returned, lowered as they were converted (`None` unless `main`
    /// ran).
    pub lowered: Option<crate::lower::Lowered>,
    /// The project files the entry loads, with their frozen modules, in dependency order
    /// (skycfg's test protocol runs their `test_*` functions too).
    pub loaded: Vec<(String, FrozenModule)>,
}

/// The Starlark dialect of `.sky` files (type annotations on; also for the editor).
pub fn dialect() -> Dialect {
    Dialect {
        enable_types: DialectTypes::Enable,
        enable_f_strings: true,
        enable_keyword_only_arguments: true,
        enable_positional_only_arguments: true,
        ..Dialect::Extended
    }
}

struct SourceFile {
    id: FileId,
    name: String,
    text: Arc<str>,
    /// (load string as written, resolved file)
    loads: Vec<(String, FileId)>,
    /// The syntax tree, parsed once by the loader (none when the file does not parse); every
    /// later stage works on a copy.
    ast: Option<AstModule>,
}

struct Loader<'w> {
    world: &'w dyn World,
    /// skycfg's convention: relative `load()` paths resolve as if written in this file (the
    /// main file), whichever project file loads them.
    load_root: Option<FileId>,
    files: BTreeMap<FileId, SourceFile>,
    order: Vec<FileId>,
    diagnostics: Vec<Diagnostic>,
    sources: BTreeMap<String, Arc<str>>,
}

impl<'w> Loader<'w> {
    /// Reads and parses `entry` and everything it loads; `diagnostics` are findings so far.
    fn load_entry(
        world: &'w dyn World,
        entry: &FileId,
        opts: &Options,
        diagnostics: Vec<Diagnostic>,
    ) -> Loader<'w> {
        let mut loader = Loader {
            world,
            load_root: opts.skycfg().then(|| entry.clone()),
            files: BTreeMap::new(),
            order: Vec::new(),
            diagnostics,
            sources: BTreeMap::new(),
        };
        match loader.read(entry) {
            Ok(text) => loader.load(entry, text, &mut Vec::new()),
            Err(e) => {
                let name = loader.display(entry);
                loader.diagnostics.push(read_error(entry, &name, e, None));
            }
        }
        loader
    }

    fn display(&self, id: &FileId) -> String {
        match id {
            FileId::Project(p) => self.world.display_name(p),
            FileId::Stdlib(_) => id.to_string(),
        }
    }

    fn read(&self, id: &FileId) -> Result<Arc<str>, ReadError> {
        match id {
            FileId::Project(p) => self.world.read(p),
            FileId::Stdlib(p) => skyc_stdlib::module(p)
                .map(Arc::from)
                .ok_or(ReadError::NotFound),
        }
    }

    /// Records a loaded file (after the files it loads: `order` is dependency order).
    fn finish(
        &mut self,
        id: &FileId,
        name: String,
        text: Arc<str>,
        loads: Vec<(String, FileId)>,
        ast: Option<AstModule>,
    ) {
        let file = SourceFile {
            id: id.clone(),
            name,
            text,
            loads,
            ast,
        };
        self.files.insert(id.clone(), file);
        self.order.push(id.clone());
    }

    /// Loads `id` and everything it loads; `stack` holds the files being loaded (for cycles).
    fn load(&mut self, id: &FileId, text: Arc<str>, stack: &mut Vec<FileId>) {
        let name = self.display(id);
        self.sources.insert(name.clone(), text.clone());
        let source = if self.load_root.is_some() && matches!(id, FileId::Project(_)) {
            skycfg_source(&text)
        } else {
            text.to_string()
        };
        let ast = match AstModule::parse(&name, source, &dialect()) {
            Ok(ast) => ast,
            Err(e) => {
                self.diagnostics
                    .push(errors::to_diagnostic(&e, codes::SKY0201));
                self.finish(id, name, text, vec![], None);
                return;
            }
        };
        stack.push(id.clone());
        let mut loads = Vec::new();
        for l in ast.loads() {
            let at = to_span(&l.span);
            let from = match (&self.load_root, id) {
                (Some(main), FileId::Project(_)) => main,
                _ => id,
            };
            let target = match resolve_load(from, l.module_id) {
                Ok(t) => t,
                Err(e) => {
                    self.diagnostics.push(load_path_error(l.module_id, e, at));
                    continue;
                }
            };
            if let Some(pos) = stack.iter().position(|f| f == &target) {
                let cycle: Vec<String> = stack[pos..]
                    .iter()
                    .chain([&target])
                    .map(|f| f.to_string())
                    .collect();
                self.diagnostics.push(
                    Diagnostic::new(codes::SKY0104, format!("load cycle: {}", cycle.join(" → ")))
                        .with_span(at)
                        .with_help("move the shared definitions into a file that both load"),
                );
                continue;
            }
            if !self.files.contains_key(&target) {
                match self.read(&target) {
                    Ok(t) => self.load(&target, t, stack),
                    Err(e) => {
                        self.diagnostics.push(read_error(
                            &target,
                            &self.display(&target),
                            e,
                            Some(at),
                        ));
                        continue;
                    }
                }
            }
            loads.push((l.module_id.to_string(), target));
        }
        stack.pop();
        self.finish(id, name, text, loads, Some(ast));
    }
}

fn load_path_error(spec: &str, e: LoadPathError, at: Span) -> Diagnostic {
    // Shown escaped (a NUL or a control character stays visible) and at most 100 characters.
    let mut shown: String = spec
        .chars()
        .take(100)
        .flat_map(char::escape_default)
        .collect();
    if spec.chars().nth(100).is_some() {
        shown.push('…');
    }
    let spec = shown;
    match e {
        LoadPathError::Absolute => Diagnostic::new(
            codes::SKY0102,
            format!("cannot load `{spec}`: absolute paths are not allowed"),
        )
        .with_span(at)
        .with_help("load files of the project with a relative path or `//path/from/root.sky`"),
        LoadPathError::EscapesRoot => Diagnostic::new(
            codes::SKY0103,
            format!("cannot load `{spec}`: it is outside the project root"),
        )
        .with_span(at)
        .with_help("keep loaded files inside the project (the directory with sky.toml)"),
        LoadPathError::Invalid(why) => {
            Diagnostic::new(codes::SKY0106, format!("invalid load path `{spec}`: {why}"))
                .with_span(at)
                .with_help(
                    "use `relative/file.sky`, `//path/from/root.sky` or `@stdlib//service.sky`",
                )
        }
        LoadPathError::UnknownStdlib(m) => {
            let names: Vec<&str> = skyc_stdlib::MODULES.iter().map(|(p, _)| *p).collect();
            Diagnostic::new(
                codes::SKY0105,
                format!("the standard library has no module `{m}`"),
            )
            .with_span(at)
            .with_help(format!("stdlib modules: {}", names.join(", ")))
        }
    }
}

pub fn read_error(id: &FileId, name: &str, e: ReadError, at: Option<Span>) -> Diagnostic {
    let d = match e {
        ReadError::NotFound => Diagnostic::new(codes::SKY0101, format!("file `{name}` not found"))
            .with_help("paths are relative to the loading file, or to the project root with `//`"),
        ReadError::EscapesRoot(to) => Diagnostic::new(
            codes::SKY0103,
            format!("`{name}` leads outside the project root (to {to})"),
        )
        .with_help("symbolic links may not leave the project root"),
        ReadError::NotAFile => {
            Diagnostic::new(codes::SKY0107, format!("`{name}` is not a regular file"))
        }
        ReadError::NotUtf8 => {
            Diagnostic::new(codes::SKY0107, format!("`{name}` is not valid UTF-8 text"))
        }
        ReadError::HardLinked(n) => Diagnostic::new(
            codes::SKY0103,
            format!(
                "`{name}` has {n} hard links, so it may be a file from outside the project root"
            ),
        )
        .with_help("copy the file into the project instead of linking it"),
        ReadError::TooLarge(max) => Diagnostic::new(
            codes::SKY0107,
            format!("`{name}` is larger than {max} bytes, the most a source file may have"),
        )
        .with_help("split the file, or generate the data it holds outside skyc"),
        ReadError::Io(msg) => {
            Diagnostic::new(codes::SKY0107, format!("cannot read `{name}`: {msg}"))
        }
    };
    let _ = id;
    d.with_span_opt(at)
}

/// Loads, typechecks and evaluates `entry`, returning the objects `main` built.
pub(crate) fn evaluate(world: &dyn World, entry: &str, opts: &Options) -> Evaluated {
    evaluate_as(world, entry, opts, true).0
}

/// Like [`evaluate`]; with `call_main` false the entry is only evaluated (a test file), and
/// its frozen module is returned.
pub(crate) fn evaluate_as(
    world: &dyn World,
    entry: &str,
    opts: &Options,
    call_main: bool,
) -> (Evaluated, Option<FrozenModule>) {
    on_big_stack(|| evaluate_on_this_thread(world, entry, opts, call_main))
}

/// The stack of the threads that parse, typecheck and evaluate: Starlark's parser, typechecker,
/// `str()` and freezing recurse once per level of nesting (4,000 nested brackets overflow an
/// 8 MiB stack). Only the pages used are committed.
const STACK_BYTES: usize = 1 << 30;

thread_local! {
    /// Whether this thread's stack has at least [`STACK_BYTES`].
    static BIG_STACK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Declares that the calling thread was made with a stack of at least [`STACK_BYTES`] (the
/// CLI's command thread), so [`on_big_stack`] runs on it directly instead of making a thread
/// for every compilation.
pub fn mark_big_stack(stack_bytes: usize) {
    if stack_bytes >= STACK_BYTES {
        BIG_STACK.with(|b| b.set(true));
    }
}

/// Runs `f` on a scoped thread with a [`STACK_BYTES`] stack (or here, if no thread can be made,
/// or if this thread already has such a stack).
pub(crate) fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if BIG_STACK.with(std::cell::Cell::get) {
        return f();
    }
    let mut f = Some(f);
    let result = std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("skyc-eval".into())
            .stack_size(STACK_BYTES)
            .spawn_scoped(scope, || {
                BIG_STACK.with(|b| b.set(true));
                (f.take().expect("called once"))()
            });
        match spawned {
            Ok(handle) => Some(
                handle
                    .join()
                    .unwrap_or_else(|payload| std::panic::resume_unwind(payload)),
            ),
            Err(_) => None,
        }
    });
    match result {
        Some(r) => r,
        None => (f.take().expect("not run yet"))(),
    }
}

/// The files an entry loads, directly or through other files, without evaluating anything:
/// what `skyc deps` prints and what a cache key covers. Parse and load errors are returned as
/// diagnostics (the files found until then are still listed).
pub(crate) fn load_graph(world: &dyn World, entry: &str, opts: &Options) -> crate::Deps {
    on_big_stack(|| {
        let entry_id = FileId::Project(entry.to_string());
        let loader = Loader::load_entry(world, &entry_id, opts, Vec::new());
        let files = loader
            .order
            .iter()
            .map(|id| {
                let f = &loader.files[id];
                crate::DepFile {
                    id: id.clone(),
                    name: f.name.clone(),
                    text: f.text.clone(),
                }
            })
            .collect();
        crate::Deps {
            files,
            diagnostics: loader.diagnostics,
        }
    })
}

fn evaluate_on_this_thread(
    world: &dyn World,
    entry: &str,
    opts: &Options,
    call_main: bool,
) -> (Evaluated, Option<FrozenModule>) {
    let started = Instant::now();
    let limits = Limits::resolve(opts);
    crate::memory::set_limit(limits.max_heap);
    let (vars, var_diags) = opts.config.resolve_vars(&opts.vars);
    let entry_id = FileId::Project(entry.to_string());
    let mut loader = Loader::load_entry(world, &entry_id, opts, var_diags);
    let mut outcome = Outcome {
        files: loader.order.clone(),
        sources: std::mem::take(&mut loader.sources),
        ..Outcome::default()
    };
    outcome.diagnostics = std::mem::take(&mut loader.diagnostics);
    outcome.timings.add("parse", started.elapsed());
    let crds = crate::crds::CrdSource::new(world, &opts.config);
    // The CRDs are read only for files that may use them (`crd` written anywhere).
    if crds.declared()
        && !outcome.has_errors()
        && loader.order.iter().any(|id| {
            matches!(id, FileId::Project(_))
                && crate::values::lazy_ns::count_word(&loader.files[id].text, "crd") > 0
        })
    {
        // Problems reading them are reported after the typechecker, which may find more
        // (a misspelled constructor).
        let started = Instant::now();
        crds.load();
        outcome.timings.add("crds", started.elapsed());
    }
    if outcome.has_errors() {
        return (
            Evaluated {
                outcome,
                crds: crds.peek(),
                lowered: None,
                loaded: vec![],
            },
            None,
        );
    }

    // Static checks of every file, in dependency order: the syntactic ones here, then the
    // typechecker on a thread of its own.
    let started = Instant::now();
    let globals = globals();
    let mut keys: HashMap<&FileId, ContentKey> = HashMap::new();
    // Typing the `crd` namespace depends on the project's CRDs: such files are not shared.
    let share = crds.peek().is_none();
    let mut to_check = Vec::new();
    for id in &loader.order {
        let f = &loader.files[id];
        let key = content_key(f, &keys, opts.skycfg());
        if let Some(k) = key {
            keys.insert(id, k);
        }
        if let Some(i) = StdlibCache::get(StdlibCache::INTERFACES, id) {
            to_check.push(ToCheck::Known(id.clone(), i));
            continue;
        }
        let Some(ast) = &f.ast else {
            continue;
        };
        if matches!(id, FileId::Project(_)) {
            // The stdlib is trusted code; its recursion is bounded.
            if !limits.allow_recursion {
                outcome.diagnostics.extend(analysis::recursion(ast));
            }
            outcome.diagnostics.extend(analysis::top_level_code(ast));
        }
        if let Some(i) = key
            .filter(|_| share)
            .and_then(|k| SHARED_INTERFACES.get(&k))
        {
            to_check.push(ToCheck::Known(id.clone(), i));
            continue;
        }
        let undefined = analysis::undefined_receivers(ast);
        if !undefined.is_empty() {
            outcome.diagnostics.extend(undefined);
            break;
        }
        to_check.push(ToCheck::File {
            id: id.clone(),
            ast: Box::new(ast.clone()),
            shared_as: key.filter(|_| share && matches!(id, FileId::Project(_))),
            loads: f.loads.clone(),
        });
    }
    // With a core to spare, the files run while the typechecker works; what they gave is
    // dropped if it finds an error, as if they had not run, and an error it finds stops them
    // (`ABANDON`). Not with the project's CRDs, which running the files may read.
    let overlap = !outcome.has_errors() && crate::memory::jobs() <= 1 && !crds.declared();
    let abandon = overlap.then(|| Arc::new(AtomicBool::new(false)));
    let checking = Typecheck::start(to_check, &globals, crds.peek(), abandon.clone());
    let mut typecheck_time = started.elapsed();
    let run = |limits: &Limits| {
        run_files(
            &loader, &entry_id, call_main, limits, opts, &vars, &globals, &crds,
        )
    };
    let early = abandon.as_ref().map(|flag| {
        // Cleared however the run ends (a panic is passed on to the caller, and this thread
        // may compile again).
        struct Clear;
        impl Drop for Clear {
            fn drop(&mut self) {
                ABANDON.with(|a| a.borrow_mut().take());
            }
        }
        ABANDON.with(|a| *a.borrow_mut() = Some(flag.clone()));
        let _clear = Clear;
        run(&limits)
    });
    typecheck_time += checking.finish(&loader, &mut outcome, &limits, crds.peek().as_deref());
    outcome.timings.add("typecheck", typecheck_time);
    if outcome.has_errors() {
        crds.report(&mut outcome);
        return (
            Evaluated {
                outcome,
                crds: crds.peek(),
                lowered: None,
                loaded: vec![],
            },
            None,
        );
    }
    // Stopped for a finding that turned out not to be an error: run them again.
    let stopped = abandon.is_some_and(|a| a.load(Ordering::Relaxed));
    let ran = match early {
        Some(ran) if !stopped => ran,
        _ => run(&limits),
    };
    outcome.prints.extend(ran.prints);
    outcome.diagnostics.extend(ran.diagnostics);
    let mut lowered = ran.lowered;
    let mut frozen = ran.frozen;
    crds.report(&mut outcome);
    if outcome.has_errors() {
        lowered = None;
    }
    // Objects are lowered as they are converted: on this thread, that time is the lower and
    // validate stages'; on a thread of their own, the stages overlap this one.
    let lowering = lowered.as_ref().map_or(
        Duration::ZERO,
        crate::lower::Lowered::time_on_evaluating_thread,
    );
    outcome
        .timings
        .add("evaluate", ran.time.saturating_sub(lowering));
    let module = frozen.remove(&entry_id);
    let loaded = loader
        .order
        .iter()
        .filter_map(|id| match id {
            FileId::Project(p) => frozen.get(id).map(|m| (p.clone(), m.clone())),
            FileId::Stdlib(_) => None,
        })
        .collect();
    (
        Evaluated {
            outcome,
            crds: crds.peek(),
            lowered,
            loaded,
        },
        module,
    )
}

/// What running an entry's files gave.
struct Ran {
    prints: Vec<String>,
    diagnostics: Vec<Diagnostic>,
    /// The objects `main` returned, lowered (`None` unless `main` ran).
    lowered: Option<crate::lower::Lowered>,
    frozen: HashMap<FileId, FrozenModule>,
    time: Duration,
}

/// Runs the files of `loader` in dependency order (a file after the files it loads), the
/// entry's `main` too when `call_main`, until one fails.
#[allow(clippy::too_many_arguments)]
fn run_files(
    loader: &Loader,
    entry_id: &FileId,
    call_main: bool,
    limits: &Limits,
    opts: &Options,
    vars: &BTreeMap<String, String>,
    globals: &starlark::environment::Globals,
    crds: &crate::crds::CrdSource,
) -> Ran {
    let started = Instant::now();
    let deadline = Instant::now() + limits.max_time;
    let mut ran = Ran {
        prints: Vec::new(),
        diagnostics: Vec::new(),
        lowered: None,
        frozen: HashMap::new(),
        time: Duration::ZERO,
    };
    for id in &loader.order {
        if let Some(m) = StdlibCache::get(StdlibCache::MODULES, id) {
            ran.frozen.insert(id.clone(), m);
            continue;
        }
        let f = &loader.files[id];
        let is_entry = id == entry_id && call_main;
        let result = run_module(
            f,
            &ran.frozen,
            limits,
            deadline,
            is_entry,
            opts.lint,
            vars,
            &opts.config,
            globals,
            Some(crds),
            None,
        );
        ran.prints.extend(result.prints);
        let mut diagnostics = result.diagnostics;
        let abandoned = ABANDON.with(|a| {
            a.borrow()
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
        });
        if abandoned {
            // What it gave is dropped.
            #[cfg(test)]
            ABANDONED_FOR_TESTS.fetch_add(1, Ordering::Relaxed);
            break;
        }
        if matches!(id, FileId::Project(_)) && diagnostics.iter().any(is_limit) {
            // Starlark raises limit errors without a location. Evaluation is deterministic,
            // so run the file again recording each statement, and point at the last one.
            let trace = RefCell::new(None);
            let _ = run_module(
                f,
                &ran.frozen,
                limits,
                Instant::now() + limits.max_time,
                is_entry,
                opts.lint,
                vars,
                &opts.config,
                globals,
                Some(crds),
                Some(&trace),
            );
            if let Some(at) = trace.into_inner() {
                for d in diagnostics.iter_mut().filter(|d| is_limit(d)) {
                    d.span = Some(to_span(&at));
                    d.label = Some(if d.code == "SKY0002" {
                        "skyc failed while running this".into()
                    } else {
                        "the limit was reached while running this".into()
                    });
                }
            }
        }
        if diagnostics.is_empty() && result.lowered.is_none() {
            if let Some(m) = &result.module {
                StdlibCache::keep(StdlibCache::MODULES, id, m);
            }
        }
        ran.diagnostics.extend(diagnostics);
        if is_entry {
            ran.lowered = result.lowered;
            break;
        }
        match result.module {
            Some(m) => {
                ran.frozen.insert(id.clone(), m);
            }
            None => break,
        }
        if ran.diagnostics.iter().any(Diagnostic::is_error) {
            break;
        }
    }
    ran.time = started.elapsed();
    ran
}

/// The name `t.assert` of skycfg's tests is read as: `assert` is a keyword of this Starlark
/// dialect, so `.assert` after an expression is rewritten to `.ASSERT`, which has the same
/// length (spans and columns stay right). Strings and comments are left alone.
pub(crate) const SKYCFG_ASSERT: &str = "ASSERT";

/// A skycfg source as this dialect parses it (see [`SKYCFG_ASSERT`]).
fn skycfg_source(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = text.as_bytes().to_vec();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = b[i..].starts_with(&[q, q, q]);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == q && (!triple || b[i..].starts_with(&[q, q, q])) {
                        i += if triple { 3 } else { 1 };
                        break;
                    }
                    if b[i] == b'\n' && !triple {
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'.' if b[i + 1..].starts_with(b"assert")
                && !b
                    .get(i + 7)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_') =>
            {
                out[i + 1..i + 7].copy_from_slice(SKYCFG_ASSERT.as_bytes());
                i += 7;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_string())
}

/// The stdlib, typechecked and evaluated once per process. Its modules are embedded and depend
/// only on each other and the globals (their top level reads no variable, setting or limit),
/// so their interfaces and frozen modules are the same for every file compiled: the editor
/// checks a file on every edit, and `render` of a directory compiles many files against them.
#[derive(Default)]
struct StdlibCache {
    interfaces: HashMap<String, Interface>,
    modules: HashMap<String, FrozenModule>,
}

/// Which of the cache's tables a lookup uses.
type Table<T> = fn(&mut StdlibCache) -> &mut HashMap<String, T>;

impl StdlibCache {
    const INTERFACES: Table<Interface> = |c| &mut c.interfaces;
    const MODULES: Table<FrozenModule> = |c| &mut c.modules;

    fn with<T>(f: impl FnOnce(&mut StdlibCache) -> T) -> T {
        static CACHE: std::sync::OnceLock<std::sync::Mutex<StdlibCache>> =
            std::sync::OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        // The cache holds only complete results, so a panic elsewhere cannot leave it torn.
        let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// The cached result for `id` (project files are never cached).
    fn get<T: Clone>(table: Table<T>, id: &FileId) -> Option<T> {
        let FileId::Stdlib(path) = id else {
            return None;
        };
        StdlibCache::with(|c| table(c).get(path).cloned())
    }

    /// Keeps the result for `id` when it is a stdlib module.
    fn keep<T: Clone>(table: Table<T>, id: &FileId, value: &T) {
        if let FileId::Stdlib(path) = id {
            StdlibCache::with(|c| table(c).insert(path.clone(), value.clone()));
        }
    }
}

/// What a file's static type depends on besides the globals (the same for every file): its
/// path, its text and how it is parsed, and (recursively) the same of the files it loads.
type ContentKey = [u8; 32];

/// The content key of `f`, from the keys of the files it loads (`None` when one has none).
fn content_key(
    f: &SourceFile,
    keys: &HashMap<&FileId, ContentKey>,
    skycfg: bool,
) -> Option<ContentKey> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut part = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    match &f.id {
        FileId::Project(p) => {
            part(b"project");
            part(p.as_bytes());
            part(&[u8::from(skycfg)]);
            part(f.text.as_bytes());
        }
        // Embedded in the binary: its path says what it holds.
        FileId::Stdlib(p) => {
            part(b"stdlib");
            part(p.as_bytes());
        }
    }
    for (spec, target) in &f.loads {
        part(spec.as_bytes());
        part(keys.get(target)?);
    }
    Some(h.finalize().into())
}

/// The interfaces of project files typechecked without error in this process, by content key:
/// the entry files of a project load the same libraries, which are then typechecked once per
/// command instead of once per entry file (and an editor's checks after each edit reuse the
/// unchanged libraries'). The last 256 are kept.
static SHARED_INTERFACES: crate::kept::Kept<ContentKey, Interface> = crate::kept::Kept::new(256);

/// What the typechecker's thread is given of one compilation: its files in dependency order.
enum ToCheck {
    /// A file whose interface is known (a stdlib module's, or a project file's shared one).
    Known(FileId, Interface),
    /// A file to typecheck with the interfaces of the files it loads; when it has no error,
    /// its interface is kept for other compilations (by its content key, `shared_as`, for a
    /// project file).
    File {
        id: FileId,
        ast: Box<AstModule>,
        shared_as: Option<ContentKey>,
        loads: Vec<(String, FileId)>,
    },
}

/// What the typechecker's thread reports on each file it checks: that it started, then what
/// it found and how long that took (or that it panicked: SKY0002, or SKY0303 for a value too
/// large to lay out).
enum Checked {
    Started(Instant),
    Done(Duration, Result<Vec<starlark::Error>, Box<Diagnostic>>),
}

/// The files of one compilation for the typechecker's thread, and where to report.
type TypecheckJob = (
    Vec<ToCheck>,
    starlark::environment::Globals,
    Option<std::sync::Arc<crate::crds::CrdIndex>>,
    Option<Arc<AtomicBool>>,
    std::sync::mpsc::Sender<Checked>,
);

/// Tests: how many runs the typechecker's errors stopped.
#[cfg(test)]
static ABANDONED_FOR_TESTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Tests: a file holding this line makes the typechecker's thread panic.
#[cfg(test)]
const TYPECHECK_PANICS_FOR_TESTS: &str = "# skyc test: the typechecker panics here";

thread_local! {
    /// Set while this thread runs files that the typechecker is still checking: the
    /// typechecker sets the flag when it finds an error, which stops them (what they gave
    /// would be dropped).
    static ABANDON: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
    /// This thread's typechecker thread, kept for the next compilation (a thread each cost two
    /// spawns of a 256 MiB stack per entry file).
    static TYPECHECKER: std::cell::RefCell<Option<std::sync::mpsc::Sender<TypecheckJob>>> =
        const { std::cell::RefCell::new(None) };
}

/// The static typechecker at work on a thread of its own, on the files of one compilation.
/// Starlark's typechecker can take exponential time on some inputs (a tuple that contains
/// itself: `x = (x,)`), and it cannot be interrupted: each file gets at most the time limit,
/// and when one takes longer, the thread is left to the end of the process (the next
/// compilation gets a new one). When it panics, the panic is reported and the thread ends
/// (the next compilation gets a new one too).
struct Typecheck {
    /// The files it checks, in order.
    files: Vec<FileId>,
    reports: std::sync::mpsc::Receiver<Checked>,
}

impl Typecheck {
    /// Hands `to_check` to this thread's typechecker thread (made if there is none).
    fn start(
        to_check: Vec<ToCheck>,
        globals: &starlark::environment::Globals,
        crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
        abandon: Option<Arc<AtomicBool>>,
    ) -> Typecheck {
        let files: Vec<FileId> = to_check
            .iter()
            .filter_map(|c| match c {
                ToCheck::File { id, .. } => Some(id.clone()),
                ToCheck::Known(..) => None,
            })
            .collect();
        let (tx, reports) = std::sync::mpsc::channel();
        if files.is_empty() {
            // Every interface is known: nothing for the thread to do.
            return Typecheck { files, reports };
        }
        let mut job = Some((to_check, globals.clone(), crds, abandon, tx));
        TYPECHECKER.with(|t| {
            let mut t = t.borrow_mut();
            if let Some(worker) = t.as_ref() {
                match worker.send(job.take().expect("not sent yet")) {
                    Ok(()) => return,
                    // The worker is gone (it panicked): make another.
                    Err(std::sync::mpsc::SendError(j)) => job = Some(j),
                }
            }
            let (jobs, queue) = std::sync::mpsc::channel::<TypecheckJob>();
            let spawned = std::thread::Builder::new()
                .name("skyc-typecheck".into())
                .stack_size(256 << 20)
                .spawn(move || {
                    for (to_check, globals, crds, abandon, reply) in queue {
                        let ok =
                            typecheck_files(to_check, &globals, crds, &reply, abandon.as_deref());
                        if !ok {
                            // Whatever the panic left half done stays with this thread.
                            break;
                        }
                    }
                });
            // Without a thread, the job is dropped: its files are reported unchecked.
            if spawned.is_ok() && jobs.send(job.take().expect("not sent yet")).is_ok() {
                *t = Some(jobs);
            }
        });
        Typecheck { files, reports }
    }

    /// Waits for the typechecker's findings (each file at most the time limit from when its
    /// check started) and puts them into `outcome`. Returns the time it spent checking.
    fn finish(
        self,
        loader: &Loader,
        outcome: &mut Outcome,
        limits: &Limits,
        crds: Option<&crate::crds::CrdIndex>,
    ) -> Duration {
        let mut spent = Duration::ZERO;
        for id in &self.files {
            let f = &loader.files[id];
            let at_file = || Span::from_offsets(&f.name, &f.text, 0, 0);
            let done = match self.reports.recv() {
                Ok(Checked::Started(at)) => {
                    let left = (at + limits.max_time).saturating_duration_since(Instant::now());
                    self.reports.recv_timeout(left)
                }
                Ok(done) => Ok(done),
                Err(_) => Err(std::sync::mpsc::RecvTimeoutError::Disconnected),
            };
            let errs = match done {
                Ok(Checked::Done(took, Ok(errs))) => {
                    spent += took;
                    errs
                }
                Ok(Checked::Done(_, Err(d))) => {
                    TYPECHECKER.with(|t| t.borrow_mut().take());
                    outcome.diagnostics.push(d.with_span(at_file()));
                    break;
                }
                Ok(Checked::Started(_)) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    TYPECHECKER.with(|t| t.borrow_mut().take());
                    outcome.diagnostics.push(
                        errors::internal_error("the typechecker stopped").with_span(at_file()),
                    );
                    break;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    // Still busy: leave it, and give the next compilation a fresh thread.
                    TYPECHECKER.with(|t| t.borrow_mut().take());
                    outcome.diagnostics.push(
                        Diagnostic::new(
                            codes::SKY0304,
                            format!(
                                "typechecking `{}` took longer than the time limit ({} s)",
                                f.name,
                                limits.max_time.as_secs_f64()
                            ),
                        )
                        .with_span(at_file())
                        .with_help("a variable assigned a tuple of itself (`x = (x,)`) makes its type grow without end; build the tuple with `tuple([x])`, or restructure the code"),
                    );
                    break;
                }
            };
            // The typechecker consumed its copy of the tree; errors are rare, so take another
            // copy to explain them.
            let reparsed = if errs.is_empty() { None } else { f.ast.clone() };
            for e in errs {
                let d = errors::type_error(&e, crds);
                outcome.diagnostics.push(match &reparsed {
                    Some(ast) => analysis::refine_type_error(ast, &e, d, crds),
                    None => d,
                });
            }
        }
        spent
    }
}

/// The typechecker's thread at work on one compilation's files (see [`Typecheck`]), reporting
/// to `reply`. Returns `false` when it panicked.
fn typecheck_files(
    to_check: Vec<ToCheck>,
    globals: &starlark::environment::Globals,
    crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
    reply: &std::sync::mpsc::Sender<Checked>,
    abandon: Option<&AtomicBool>,
) -> bool {
    use crate::values::lazy_ns;
    let mut interfaces: HashMap<FileId, Interface> = HashMap::new();
    for c in to_check {
        let (id, ast, shared_as, loads) = match c {
            ToCheck::Known(id, i) => {
                interfaces.insert(id, i);
                continue;
            }
            ToCheck::File {
                id,
                ast,
                shared_as,
                loads,
            } => (id, ast, shared_as, loads),
        };
        let started = Instant::now();
        if reply.send(Checked::Started(started)).is_err() {
            // Nobody waits for the rest.
            return true;
        }
        let loads: HashMap<String, Interface> = loads
            .iter()
            .filter_map(|(spec, target)| interfaces.get(target).map(|i| (spec.clone(), i.clone())))
            .collect();
        let checked = errors::catch_panic(|| {
            #[cfg(test)]
            if ast
                .file_span(Default::default())
                .file
                .source()
                .contains(TYPECHECK_PANICS_FOR_TESTS)
            {
                panic!("a panic for the tests");
            }
            let paths = lazy_ns::k8s_paths(&ast);
            let crd_paths = crds.as_ref().and_then(|_| lazy_ns::ns_paths(&ast, "crd"));
            let (errs, _, interface, _) = lazy_ns::with_crds(crds.clone(), crd_paths, || {
                lazy_ns::with_k8s_paths(paths, || ast.typecheck(globals, &loads))
            });
            (errs, interface)
        });
        if let Some(a) = abandon.filter(|_| !checked.as_ref().is_ok_and(|(e, _)| e.is_empty())) {
            a.store(true, Ordering::Relaxed);
        }
        match checked {
            Ok((errs, interface)) => {
                if errs.is_empty() {
                    StdlibCache::keep(StdlibCache::INTERFACES, &id, &interface);
                    if let Some(k) = shared_as {
                        SHARED_INTERFACES.keep(k, interface.clone());
                    }
                }
                interfaces.insert(id, interface);
                if reply
                    .send(Checked::Done(started.elapsed(), Ok(errs)))
                    .is_err()
                {
                    return true;
                }
            }
            Err(d) => {
                let _ = reply.send(Checked::Done(started.elapsed(), Err(Box::new(d))));
                return false;
            }
        }
    }
    true
}

/// Applies the sandbox limits to an evaluator: steps, heap, call depth and the wall-clock
/// deadline.
fn apply_limits(eval: &mut Evaluator, limits: &Limits, deadline: Instant) {
    let _ = eval.set_max_tick_count(limits.max_steps);
    let _ = eval.set_max_heap_size(limits.max_heap as usize);
    let _ = eval.set_max_callstack_size(limits.max_call_depth.max(1));
    // Called every thousand steps: the deadline, and the memory allocated since the
    // evaluation started (see `crate::memory`).
    let abandon = ABANDON.with(|a| a.borrow().clone());
    eval.set_check_cancelled(Box::new(move || {
        Instant::now() > deadline
            || crate::memory::over_soft_limit()
            || abandon.as_ref().is_some_and(|a| a.load(Ordering::Relaxed))
    }));
}

/// Whether a diagnostic is a step, memory or time limit error, or a panic caught while the
/// file ran (they come without location).
fn is_limit(d: &Diagnostic) -> bool {
    (matches!(d.code, "SKY0302" | "SKY0303" | "SKY0304")
        && d.label.is_none()
        && d.message.starts_with("evaluation exceeded"))
        || (d.code == "SKY0002" && d.message.starts_with(errors::PANIC_PREFIX))
}

struct ModuleResult {
    module: Option<FrozenModule>,
    diagnostics: Vec<Diagnostic>,
    lowered: Option<crate::lower::Lowered>,
    prints: Vec<String>,
}

/// At most this many `print()` lines are kept per file; the rest are counted.
const MAX_PRINTS: usize = 10_000;

/// Collects `print()` output instead of writing it (libraries never print).
struct CollectPrints<'a> {
    file: &'a str,
    lines: &'a RefCell<Vec<String>>,
    dropped: &'a std::cell::Cell<usize>,
}

impl starlark::PrintHandler for CollectPrints<'_> {
    fn println(&self, text: &str) -> starlark::Result<()> {
        let mut lines = self.lines.borrow_mut();
        if lines.len() < MAX_PRINTS {
            lines.push(format!("{}: {text}", self.file));
        } else {
            self.dropped.set(self.dropped.get() + 1);
        }
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn run_module(
    f: &SourceFile,
    frozen: &HashMap<FileId, FrozenModule>,
    limits: &Limits,
    deadline: Instant,
    is_entry: bool,
    keep: bool,
    vars: &BTreeMap<String, String>,
    config: &crate::Config,
    globals: &starlark::environment::Globals,
    crds: Option<&crate::crds::CrdSource>,
    trace: Option<&RefCell<Option<FileSpan>>>,
) -> ModuleResult {
    let parsed = match &f.ast {
        Some(ast) => Ok(ast.clone()),
        None => AstModule::parse(&f.name, f.text.to_string(), &dialect()),
    };
    let mut ast = match parsed {
        Ok(a) => a,
        Err(e) => {
            return ModuleResult {
                module: None,
                diagnostics: vec![errors::to_diagnostic(&e, codes::SKY0201)],
                lowered: None,
                prints: vec![],
            }
        }
    };
    if matches!(f.id, FileId::Project(_)) {
        // `*` and `+` can grow a value a lot in one step: they check the size first.
        ast.replace_binary_operators(&HashMap::from([
            ("*".to_string(), "_sky_mul".to_string()),
            ("+".to_string(), "_sky_add".to_string()),
        ]));
    }
    let modules: HashMap<&str, &FrozenModule> = f
        .loads
        .iter()
        .filter_map(|(spec, t)| frozen.get(t).map(|m| (spec.as_str(), m)))
        .collect();
    let loader = ReturnFileLoader { modules: &modules };
    let ctx = EvalContext {
        max_alloc: limits.max_heap,
        settings: config.settings(),
        crds: crds.and_then(|c| c.peek()),
        // The lint rules read the calls that led to a message (suppressions), nothing else does.
        site_only: !keep,
        ..EvalContext::default()
    };
    crate::memory::set_activity(Some(&f.name));
    let result = errors::catch_panic(|| {
        Module::with_temp_heap(|module| {
            let mut diagnostics = Vec::new();
            let mut lowered = None;
            let record_stmt = |at: FileSpanRef, _: bool, _: &mut Evaluator| {
                if let Some(t) = trace {
                    *t.borrow_mut() = Some(at.to_file_span());
                }
            };
            let prints = RefCell::new(Vec::new());
            let dropped = std::cell::Cell::new(0);
            let print_handler = CollectPrints {
                file: &f.name,
                lines: &prints,
                dropped: &dropped,
            };
            let ok = {
                let mut eval = Evaluator::new(&module);
                eval.set_print_handler(&print_handler);
                eval.set_loader(&loader);
                eval.extra = Some(&ctx);
                apply_limits(&mut eval, limits, deadline);
                if trace.is_some() {
                    eval.before_stmt_for_dap(BeforeStmtFunc::Fn(&record_stmt));
                }
                let codemap_text = f.text.clone();
                match eval.eval_module(ast, globals) {
                    Err(e) => {
                        let mut d = errors::eval_error(&e, limits);
                        if d.span.is_none() {
                            d.span = Some(Span::from_offsets(&f.name, &f.text, 0, 0));
                        }
                        diagnostics.push(d);
                        false
                    }
                    Ok(_) if !is_entry => true,
                    Ok(_) => {
                        let _ = codemap_text;
                        call_main(
                            &module,
                            &mut eval,
                            f,
                            vars,
                            config,
                            limits,
                            crds,
                            keep,
                            &mut diagnostics,
                            &mut lowered,
                        );
                        true
                    }
                }
            };
            diagnostics.extend(ctx.diagnostics.borrow_mut().drain(..));
            // The entry file's module is not needed once `main` has run (the objects are plain
            // data by now); freezing it would copy everything `main` built.
            let module = if ok && !is_entry {
                match module.freeze() {
                    Ok(m) => Some(m),
                    Err(e) => {
                        diagnostics.push(Diagnostic::new(
                            codes::SKY0002,
                            format!("freezing {} failed: {e:?}", f.name),
                        ));
                        None
                    }
                }
            } else {
                None
            };
            let mut prints = prints.into_inner();
            if dropped.get() > 0 {
                prints.push(format!(
                    "{}: ({} more print() lines dropped)",
                    f.name,
                    dropped.get()
                ));
            }
            ModuleResult {
                module,
                diagnostics,
                lowered,
                prints,
            }
        })
    });
    crate::memory::set_activity(None);
    result.unwrap_or_else(|d| ModuleResult {
        module: None,
        diagnostics: vec![d.with_span(Span::from_offsets(&f.name, &f.text, 0, 0))],
        lowered: None,
        prints: vec![],
    })
}

#[allow(clippy::too_many_arguments)]
fn call_main<'v>(
    module: &Module<'v>,
    eval: &mut Evaluator<'v, '_, '_>,
    f: &SourceFile,
    vars: &BTreeMap<String, String>,
    config: &crate::Config,
    limits: &Limits,
    crds: Option<&crate::crds::CrdSource>,
    keep: bool,
    diagnostics: &mut Vec<Diagnostic>,
    lowered: &mut Option<crate::lower::Lowered>,
) {
    let file_start = Span::from_offsets(&f.name, &f.text, 0, 0);
    let Some(main) = module.get("main") else {
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0307,
                format!("`{}` has no `main` function", f.name),
            )
            .with_span(file_start)
            .with_help("define `def main(ctx):` returning the objects to render"),
        );
        return;
    };
    let main_span = def_span(f, "main").unwrap_or(file_start);
    if main.get_type() != "function" {
        diagnostics.push(
            Diagnostic::new(
                codes::SKY0307,
                format!("`main` must be a function, not {}", main.get_type()),
            )
            .with_span(main_span)
            .with_help("define `def main(ctx):`"),
        );
        return;
    }
    let ctx = alloc_ctx(eval.heap(), vars.clone(), config);
    let result = match eval.eval_function(main, &[ctx], &[]) {
        Ok(v) => v,
        Err(e) => {
            let mut d = errors::eval_error(&e, limits);
            if d.span.is_none() {
                // Limit errors carry no location: point at `main`.
                d.span = Some(main_span.clone());
            }
            if d.message.contains("Expected 0 positional")
                || d.message.contains("Missing parameter")
                || d.message.contains("positional")
                    && d.span.as_ref().is_none_or(|s| s.file != f.name)
            {
                d = Diagnostic::new(
                    codes::SKY0307,
                    format!(
                        "`main` must take exactly one parameter (ctx): {}",
                        d.message
                    ),
                )
                .with_span(main_span.clone())
                .with_help("define `def main(ctx):`");
            }
            diagnostics.push(d);
            return;
        }
    };
    let return_span = return_span(f).unwrap_or(main_span);
    let mut items = Vec::new();
    flatten(result, &mut items, 0);
    let clusters = &config.clusters.names;
    let expected = items.len();
    let convert = |objects: &mut crate::lower::HandOver| {
        for item in items {
            convert_item(eval, item, &return_span, crds, objects, diagnostics);
        }
    };
    *lowered = Some(crate::lower::stream(expected, clusters, keep, convert));
}

/// Converts one item of `main`'s result (a typed object, or a plain dict of a known kind) and
/// hands it to `objects`, or reports why it is not an object.
fn convert_item<'v>(
    eval: &mut Evaluator<'v, '_, '_>,
    item: Value<'v>,
    return_span: &Span,
    crds: Option<&crate::crds::CrdSource>,
    objects: &mut crate::lower::HandOver,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if item.is_none() {
        return;
    }
    if let Some(m) = Message::from_value(item) {
        let t = m.message_type();
        let ty = m.ty;
        drop(m);
        let xds = ty.source() == skyc_schema::SchemaId::ENVOY
            && crate::emit::XDS_RESOURCE_TYPES
                .iter()
                .any(|(path, _)| *path == t.path);
        if t.gvk.is_none() && !xds {
            diagnostics.push(
                Diagnostic::new(codes::SKY0308, format!("`main` returned a {}, which is not a top-level object", t.path))
                    .with_span(return_span.clone())
                    .with_help("return objects with an apiVersion and kind, such as k8s.apps.v1.Deployment(...), or Envoy xDS resources (Listener, Cluster, RouteConfiguration, ClusterLoadAssignment, Secret)"),
            );
            return;
        }
        crate::values::message::normalize(eval, item, Some(return_span.clone()));
        hand_over(item, ty, true, return_span, objects, diagnostics);
        return;
    }
    if let Some(dict) = DictRef::from_value(item) {
        let get = |k: &str| {
            dict.iter()
                .find(|(kk, _)| kk.unpack_str() == Some(k))
                .and_then(|(_, v)| v.unpack_str())
        };
        let (av, kind) = (
            get("apiVersion").map(str::to_string),
            get("kind").map(str::to_string),
        );
        let entries: Vec<(String, Value)> = dict
            .iter()
            .filter_map(|(k, v)| k.unpack_str().map(|k| (k.to_string(), v)))
            .collect();
        drop(dict);
        let (Some(av), Some(kind)) = (av, kind) else {
            diagnostics.push(
                Diagnostic::new(codes::SKY0308, "`main` returned a dict without `apiVersion` and `kind`")
                    .with_span(return_span.clone())
                    .with_help("add apiVersion and kind, or use a typed constructor such as k8s.apps.v1.Deployment(...)"),
            );
            return;
        };
        let builtin = crate::values::message::schema()
            .by_kind(&av, &kind)
            .map(|t| t.id);
        // A kind that is not built in may be a custom resource: the CRDs are read now.
        let custom = || {
            let index = crds?.get()?;
            index.by_kind(&av, &kind).map(|v| v.ty)
        };
        let Some(ty) = builtin.or_else(custom) else {
            let kinds = crate::values::message::schema().kinds();
            let mut cands: Vec<String> = kinds
                .iter()
                .filter_map(|t| t.gvk.as_ref())
                .map(|g| g.kind.clone())
                .collect();
            let versions = crds
                .and_then(|c| c.get())
                .map(|index| index.versions())
                .unwrap_or_default();
            cands.extend(versions.iter().map(|v| v.kind.clone()));
            let mut d = Diagnostic::new(codes::SKY0208, format!("unknown kind `{kind}` in `{av}`"))
                .with_span(return_span.clone());
            if let Some(v) = versions.iter().find(|v| v.kind == kind) {
                let served: Vec<String> = versions
                    .iter()
                    .filter(|x| x.group == v.group && x.kind == v.kind)
                    .map(|v| format!("`{}`", v.api_version()))
                    .collect();
                d = d.with_help(format!("{kind} is declared as {}", served.join(", ")));
            } else if let Some(s) = skyc_diag::did_you_mean(&kind, cands.iter().map(String::as_str))
            {
                let g = kinds
                    .iter()
                    .find(|t| t.gvk.as_ref().is_some_and(|g| g.kind == s))
                    .and_then(|t| t.gvk.clone())
                    .map(|g| g.api_version())
                    .or_else(|| {
                        versions
                            .iter()
                            .find(|v| v.kind == s)
                            .map(|v| v.api_version())
                    });
                d = d.with_help(format!(
                    "did you mean `{s}` in `{}`?",
                    g.unwrap_or_default()
                ));
            } else if !crds.is_some_and(|c| c.declared()) && av.contains('.') {
                d = d.with_help("a custom resource needs its CRD: list the CRD files in sky.toml, `[crds] paths = [\"crds/\"]`");
            }
            diagnostics.push(d);
            return;
        };
        let built = crate::values::with_span_override(eval, Some(return_span.clone()), |eval| {
            Builder::new(eval).build(ty, &entries, "")
        });
        if let Some(v) = built {
            hand_over(v, ty, false, return_span, objects, diagnostics);
        }
        return;
    }
    diagnostics.push(
        Diagnostic::new(
            codes::SKY0308,
            format!(
                "`main` returned {} {}, which is not an object",
                item.get_type(),
                crate::values::repr(item)
            ),
        )
        .with_span(return_span.clone())
        .with_help("return typed objects, dicts with apiVersion and kind, or lists of them"),
    );
}

/// Hands `v`, an object `main` returned as a value of type `ty`, to `objects`, which converts
/// it, or reports why it cannot be converted. Its span is where its constructor was called
/// when `at_constructor` (else `main`'s return, which is also the fallback).
fn hand_over(
    v: Value,
    ty: TypeId,
    at_constructor: bool,
    return_span: &Span,
    objects: &mut crate::lower::HandOver,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let handed = objects(crate::lower::Returned {
        value: v,
        ty,
        at_constructor,
        return_span,
    });
    if let Err(e) = handed {
        diagnostics.push(
            Diagnostic::new(e.code(codes::SKY0308), e.message).with_span(return_span.clone()),
        );
    }
}

fn flatten<'v>(v: Value<'v>, out: &mut Vec<Value<'v>>, depth: usize) {
    if depth < 64 {
        if let Some(l) = ListRef::from_value(v) {
            for x in l.content() {
                flatten(*x, out, depth + 1);
            }
            return;
        }
        if let Some(t) = TupleRef::from_value(v) {
            for x in t.content() {
                flatten(*x, out, depth + 1);
            }
            return;
        }
    }
    out.push(v);
}

/// The span of `def NAME` in a file.
fn def_span(f: &SourceFile, name: &str) -> Option<Span> {
    let ast = f.ast.as_ref()?;
    find_def(ast.statement(), name).map(|s| {
        Span::from_offsets(
            &f.name,
            &f.text,
            s.begin().get() as usize,
            s.end().get() as usize,
        )
    })
}

fn find_def(
    s: &starlark_syntax::syntax::ast::AstStmt,
    name: &str,
) -> Option<starlark_syntax::codemap::Span> {
    use starlark_syntax::syntax::ast::StmtP;
    match &s.node {
        StmtP::Statements(xs) => xs.iter().find_map(|x| find_def(x, name)),
        StmtP::Def(d) if d.name.node.ident == name => Some(d.name.span),
        _ => None,
    }
}

/// The span of `main`'s last `return` statement (where returned dicts are reported).
fn return_span(f: &SourceFile) -> Option<Span> {
    use starlark_syntax::syntax::ast::StmtP;
    let ast = f.ast.as_ref()?;
    fn find_main(
        s: &starlark_syntax::syntax::ast::AstStmt,
    ) -> Option<&starlark_syntax::syntax::ast::AstStmt> {
        match &s.node {
            StmtP::Statements(xs) => xs.iter().find_map(find_main),
            StmtP::Def(d) if d.name.node.ident == "main" => Some(&d.body),
            _ => None,
        }
    }
    fn last_return(
        s: &starlark_syntax::syntax::ast::AstStmt,
        out: &mut Option<starlark_syntax::codemap::Span>,
    ) {
        if let StmtP::Return(_) = &s.node {
            *out = Some(s.span);
        }
        s.visit_stmt(|c| last_return(c, out));
    }
    let body = find_main(ast.statement())?;
    let mut span = None;
    last_return(body, &mut span);
    span.map(|s| {
        Span::from_offsets(
            &f.name,
            &f.text,
            s.begin().get() as usize,
            s.end().get() as usize,
        )
    })
}

/// A stdlib function's documentation, from its signature and docstring.
#[derive(Debug, Clone)]
pub struct StdlibFunction {
    /// The module it is loaded from, e.g. `mesh.sky`.
    pub module: String,
    pub name: String,
    pub summary: String,
    pub details: String,
    /// (name, type, default, doc) of each parameter.
    pub params: Vec<(String, String, Option<String>, String)>,
    pub returns: String,
    /// The docstring of its module (what the module's functions generate).
    pub module_docs: String,
}

/// The public functions of every stdlib module, with their documentation. Evaluates the
/// stdlib (no project files are involved).
pub fn stdlib_functions() -> Vec<StdlibFunction> {
    use starlark::docs::{DocItem, DocMember};
    let world = crate::MemoryWorld::default();
    let opts = Options::default();
    let limits = Limits::resolve(&opts);
    crate::memory::set_limit(limits.max_heap);
    let mut loader = Loader {
        world: &world,
        load_root: None,
        files: BTreeMap::new(),
        order: Vec::new(),
        diagnostics: Vec::new(),
        sources: BTreeMap::new(),
    };
    for (path, text) in skyc_stdlib::MODULES {
        let id = FileId::Stdlib(path.to_string());
        if !loader.files.contains_key(&id) {
            loader.load(&id, Arc::from(*text), &mut Vec::new());
        }
    }
    let globals = globals();
    let deadline = Instant::now() + limits.max_time;
    let mut frozen: HashMap<FileId, FrozenModule> = HashMap::new();
    let no_vars = BTreeMap::new();
    let config = crate::Config::default();
    for id in &loader.order {
        let f = &loader.files[id];
        let r = run_module(
            f, &frozen, &limits, deadline, false, false, &no_vars, &config, &globals, None, None,
        );
        if let Some(m) = r.module {
            frozen.insert(id.clone(), m);
        }
    }
    let mut out = Vec::new();
    for (path, _) in skyc_stdlib::MODULES {
        let Some(m) = frozen.get(&FileId::Stdlib(path.to_string())) else {
            continue;
        };
        let doc = m.documentation();
        let module_docs = doc
            .docs
            .as_ref()
            .map(|d| match &d.details {
                Some(more) => format!("{}\n\n{more}", d.summary),
                None => d.summary.clone(),
            })
            .unwrap_or_default();
        for (name, item) in doc.members {
            let DocItem::Member(DocMember::Function(f)) = item else {
                continue;
            };
            let (summary, details) = f
                .docs
                .as_ref()
                .map(|d| (d.summary.clone(), d.details.clone().unwrap_or_default()))
                .unwrap_or_default();
            // The "Args:" section is shown per parameter instead.
            let details = details
                .split("\nArgs:")
                .next()
                .unwrap_or("")
                .trim_start_matches("Args:")
                .trim()
                .to_string();
            let details = if details.starts_with("Args:") {
                String::new()
            } else {
                details
            };
            let params = f
                .params
                .regular_params()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.typ.to_string(),
                        p.default_value.clone(),
                        p.docs
                            .as_ref()
                            .map(|d| {
                                let mut s = d.summary.clone();
                                if let Some(more) = &d.details {
                                    s.push(' ');
                                    s.push_str(more);
                                }
                                s
                            })
                            .unwrap_or_default(),
                    )
                })
                .collect();
            out.push(StdlibFunction {
                module: path.to_string(),
                name,
                summary,
                details,
                params,
                returns: f.ret.typ.to_string(),
                module_docs: module_docs.clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.name, &a.module).cmp(&(&b.name, &b.module)));
    out
}

/// The result of calling a function of a frozen module: its result (as JSON when asked for),
/// what it printed, and the problems its constructors recorded.
pub(crate) struct FunctionCall {
    pub result: Result<Option<serde_json::Value>, Diagnostic>,
    pub prints: Vec<String>,
    pub recorded: Vec<Diagnostic>,
}

/// The argument a called function gets after the given ones; both carry the render's vars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtraArg {
    None,
    /// `ctx` (a policy's `check(obj, ctx)`).
    Ctx,
    /// skycfg's test value `t` (`t.vars`, `t.assert`).
    SkycfgT,
}

/// Calls the function `name` of a frozen module under the usual limits, with JSON arguments
/// (each becomes plain Starlark data) and then the `extra` argument. With `want_result`, the
/// returned value is converted to JSON (a value that is not data is SKY0651); otherwise it is
/// dropped.
#[allow(clippy::too_many_arguments)]
pub(crate) fn call_function(
    module: &FrozenModule,
    file: &str,
    name: &str,
    args: &[serde_json::Value],
    extra: ExtraArg,
    want_result: bool,
    opts: &Options,
    crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
) -> FunctionCall {
    on_big_stack(|| {
        call_function_on_this_thread(module, file, name, args, extra, want_result, opts, crds)
    })
}

#[allow(clippy::too_many_arguments)]
fn call_function_on_this_thread(
    module: &FrozenModule,
    file: &str,
    name: &str,
    args: &[serde_json::Value],
    extra: ExtraArg,
    want_result: bool,
    opts: &Options,
    crds: Option<std::sync::Arc<crate::crds::CrdIndex>>,
) -> FunctionCall {
    let limits = Limits::resolve(opts);
    crate::memory::set_limit(limits.max_heap);
    let ctx = EvalContext {
        max_alloc: limits.max_heap,
        settings: opts.config.settings(),
        crds,
        ..EvalContext::default()
    };
    let f = match module.get(name) {
        Ok(f) => f,
        Err(e) => {
            return FunctionCall {
                result: Err(Diagnostic::new(
                    codes::SKY0002,
                    format!("cannot find `{name}`: {e}"),
                )),
                prints: vec![],
                recorded: vec![],
            }
        }
    };
    let vars = (extra != ExtraArg::None).then(|| opts.config.resolve_vars(&opts.vars).0);
    let deadline = Instant::now() + limits.max_time;
    Module::with_temp_heap(|m| {
        let prints = RefCell::new(Vec::new());
        let dropped = std::cell::Cell::new(0);
        let handler = CollectPrints {
            file,
            lines: &prints,
            dropped: &dropped,
        };
        let result = {
            let mut eval = Evaluator::new(&m);
            eval.set_print_handler(&handler);
            eval.extra = Some(&ctx);
            apply_limits(&mut eval, &limits, deadline);
            // The function's heap stays alive: `f` owns a reference to it and outlives the
            // call, and the evaluator's frozen heap takes another.
            eval.frozen_heap().add_reference(f.owner());
            // SAFETY: the owner heap is referenced by `f` and by the evaluator's frozen heap.
            let func = unsafe { f.unchecked_frozen_value() }.to_value();
            let heap = eval.heap();
            let mut values: Vec<Value> = args.iter().map(|a| heap.alloc(a.clone())).collect();
            if let Some(vars) = vars.clone() {
                let vars = alloc_vars(heap, vars, &opts.config);
                let mut fields = vec![("vars", vars)];
                if extra == ExtraArg::SkycfgT {
                    // skycfg's test protocol: `def test_x(t)` gets `t.vars` and `t.assert`.
                    let assert = heap.alloc(crate::values::testing::SkycfgAssert);
                    fields.push((SKYCFG_ASSERT, assert));
                }
                values.push(heap.alloc(AllocStruct(fields)));
            }
            match eval.eval_function(func, &values, &[]) {
                Err(e) => Err(errors::eval_error(&e, &limits)),
                Ok(_) if !want_result => Ok(None),
                Ok(v) => crate::lower::to_json_with_origins(v)
                    .map(|(j, _, _)| Some(j))
                    .map_err(|e| {
                        Diagnostic::new(
                            codes::SKY0651,
                            format!("`{name}` returned a value that is not data: {e}"),
                        )
                    }),
            }
        };
        FunctionCall {
            result,
            prints: prints.into_inner(),
            recorded: ctx.diagnostics.borrow_mut().drain(..).collect(),
        }
    })
}

/// The `ctx` that `main` (and a policy's `check`) receives: `ctx.vars`.
pub(crate) fn alloc_ctx<'v>(
    heap: starlark::values::Heap<'v>,
    vars: BTreeMap<String, String>,
    config: &crate::Config,
) -> Value<'v> {
    heap.alloc(AllocStruct([("vars", alloc_vars(heap, vars, config))]))
}

/// `ctx.vars` (and skycfg's `t.vars`).
fn alloc_vars<'v>(
    heap: starlark::values::Heap<'v>,
    vars: BTreeMap<String, String>,
    config: &crate::Config,
) -> Value<'v> {
    heap.alloc(Vars {
        values: vars,
        declared: config.vars.keys().cloned().collect(),
    })
}

#[cfg(test)]
mod tests {
    /// Project libraries typechecked once are shared by content: the same library text
    /// loading a different file (here one that types `g` otherwise) is typechecked again.
    #[test]
    fn shared_interfaces_follow_what_a_library_loads() {
        let lib = "load(\"//other.sky\", _g = \"g\")\ng = _g\n";
        let main =
            "load(\"//lib.sky\", \"g\")\n\ndef main(ctx):\n    x = g(\"a\")\n    return []\n";
        let errors = |g: &str| {
            let world =
                crate::MemoryWorld::new([("other.sky", g), ("lib.sky", lib), ("main.sky", main)]);
            let out = crate::compile(&world, "main.sky", &crate::Options::default());
            out.diagnostics
                .iter()
                .filter(|d| d.severity == skyc_diag::Severity::Error)
                .map(|d| d.code)
                .collect::<Vec<_>>()
        };
        let takes_str = "def g(x: str) -> str:\n    return x\n";
        let takes_int = "def g(x: int) -> int:\n    return x\n";
        for _ in 0..2 {
            assert_eq!(errors(takes_str), Vec::<&str>::new());
            assert_eq!(errors(takes_int), vec!["SKY0202"]);
        }
    }

    /// With a core to spare, a file runs while it is typechecked: when the typechecker finds
    /// an error, the run is stopped and nothing it gave (objects, prints, its own errors) is
    /// reported, as if it had not run.
    #[test]
    fn a_file_that_does_not_typecheck_gives_nothing_of_its_run() {
        // The type error is reached only after a loop of a billion steps, which the limits
        // allow: the run is stopped when the typechecker finds the error.
        let src = "def main(ctx):\n    print(\"ran\")\n    n = 0\n    for i in range(1000000000):\n        n += 1\n    x: int = \"a\"\n    return [k8s.core.v1.ConfigMap(metadata = k8s.meta.v1.ObjectMeta(name = \"c\"))]\n";
        let world = crate::MemoryWorld::new([("main.sky", src)]);
        let opts = crate::Options {
            limits: crate::LimitOverrides {
                max_steps: Some(1 << 40),
                max_time_seconds: Some(3600.0),
                ..Default::default()
            },
            ..Default::default()
        };
        let before = super::ABANDONED_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed);
        let out = crate::compile(&world, "main.sky", &opts);
        let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, vec!["SKY0202"], "{:?}", out.diagnostics);
        assert!(out.prints.is_empty() && out.objects.is_empty());
        assert!(
            super::ABANDONED_FOR_TESTS.load(std::sync::atomic::Ordering::Relaxed) > before,
            "the run was stopped"
        );
    }

    /// Each file is typechecked before what its run gave is used: a file that typechecks
    /// renders, and one that does not gives its type error only (nothing of its run), also
    /// when it is compiled right after the other on the same thread.
    #[test]
    fn runs_are_kept_only_for_files_that_typecheck() {
        let good = "def main(ctx):\n    print(\"good\")\n    return [k8s.core.v1.ConfigMap(metadata = k8s.meta.v1.ObjectMeta(name = \"c\"))]\n";
        let bad = "def f(x: int) -> int:\n    return x\n\ndef main(ctx):\n    print(\"bad\")\n    if ctx.vars.get(\"never\"):\n        f(\"a\")\n    return [k8s.core.v1.ConfigMap(metadata = k8s.meta.v1.ObjectMeta(name = \"c\"))]\n";
        let world = crate::MemoryWorld::new([("good.sky", good), ("bad.sky", bad)]);
        for _ in 0..2 {
            let out = crate::compile(&world, "good.sky", &crate::Options::default());
            assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
            assert_eq!((out.objects.len(), out.prints.len()), (1, 1));
            let out = crate::compile(&world, "bad.sky", &crate::Options::default());
            let codes: Vec<&str> = out.diagnostics.iter().map(|d| d.code).collect();
            assert_eq!(codes, vec!["SKY0202"], "{:?}", out.diagnostics);
            assert!(out.prints.is_empty() && out.objects.is_empty());
        }
    }

    /// A panic in the typechecker's thread is reported as the internal error it is, at the
    /// file, not as a time limit; and the next file gets a typechecker that works.
    #[test]
    fn a_panic_of_the_typechecker_is_an_internal_error() {
        let panics = format!(
            "{}\ndef main(ctx):\n    return []\n",
            super::TYPECHECK_PANICS_FOR_TESTS
        );
        let fine = "def main(ctx):\n    x: int = \"a\"\n    return []\n";
        let world = crate::MemoryWorld::new([("panics.sky", panics.as_str()), ("fine.sky", fine)]);
        for _ in 0..2 {
            let out = crate::compile(&world, "panics.sky", &crate::Options::default());
            let d = out
                .diagnostics
                .iter()
                .find(|d| d.severity == skyc_diag::Severity::Error)
                .expect("an error");
            assert_eq!(d.code, "SKY0002", "{d:?}");
            assert!(d.message.contains("a panic for the tests"), "{d:?}");
            assert!(
                d.help.as_deref().unwrap_or("").contains("bug in skyc"),
                "{d:?}"
            );
            assert!(
                format!("{d:?}").contains("panics.sky"),
                "points at the file: {d:?}"
            );
            // The same thread's next file is typechecked (its type error found).
            let out = crate::compile(&world, "fine.sky", &crate::Options::default());
            let codes: Vec<&str> = out
                .diagnostics
                .iter()
                .filter(|d| d.severity == skyc_diag::Severity::Error)
                .map(|d| d.code)
                .collect();
            assert_eq!(codes, vec!["SKY0202"]);
        }
    }
}
