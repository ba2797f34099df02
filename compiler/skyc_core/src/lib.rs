//! skyc's pipeline: load → parse → typecheck → evaluate → lower → validate → emit.
//!
//! Front ends (the CLI today; the LSP, `test` and `diff` later) call [`compile`] with a
//! [`World`] and get back objects and diagnostics; they never reach into the stages.
//!
//! Architecture invariants:
//! - no file access except through [`World`]; no environment, clock or randomness reaches
//!   evaluation (the wall-time limit is enforced by the host, outside the sandbox);
//! - nothing here prints: results and [`Diagnostic`]s are returned;
//! - output order is a function of the input only (no `HashMap` iteration where it is emitted).

// Diagnostics are the error type throughout; they are built once per finding, not on a hot path.
#![allow(clippy::result_large_err)]

pub mod clusters;
pub mod config;
mod crds;
pub mod cron;
mod diagnostics;
pub mod diff;
pub mod emit;
mod envoy_summary;
pub mod eval;
pub mod fmt;
pub mod import;
mod kept;
mod lint;
pub mod lower;
pub mod memory;
pub mod policy;
pub mod testrun;
pub mod validate;
mod validate_envoy;
pub mod values;
pub mod world;

pub use config::Config;
pub use crds::CrdIndex;
pub use eval::Limits;
/// The schema of every typed message (for `skyc doc` and editors).
pub use values::message::schema;
pub use world::{DiskWorld, FileId, MemoryWorld, World};

use skyc_diag::Diagnostic;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What to compile and how.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--var` values (before `sky.toml` defaults are applied).
    pub vars: BTreeMap<String, String>,
    /// Limits given on the command line; they override `sky.toml`.
    pub limits: LimitOverrides,
    pub config: Config,
    /// Run the lint rules after validation (`skyc check`).
    pub lint: bool,
    /// `--compat` from the command line (it wins over `[language] compat`).
    pub compat: Option<config::Compat>,
}

impl Options {
    /// Whether skycfg's conventions apply (`--compat skycfg` or `[language] compat`).
    pub fn skycfg(&self) -> bool {
        self.compat.or(self.config.language.compat) == Some(config::Compat::Skycfg)
    }
}

/// Limits given on the command line.
#[derive(Debug, Clone, Default)]
pub struct LimitOverrides {
    pub max_steps: Option<u64>,
    pub max_heap: Option<u64>,
    pub max_time_seconds: Option<f64>,
    pub max_call_depth: Option<usize>,
}

/// One rendered object: canonical JSON in Kubernetes key order.
///
/// The JSON is kept as compact text ([`Object::json_text`]), parsed again where a tree is
/// needed ([`Object::json`]): ten thousand objects as `serde_json::Value` trees take ten times
/// the memory of their text, and a render touching that much fresh memory spends a large
/// share of its time in the kernel handing out pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    json: Box<str>,
    /// Envoy configurations embedded in the object as text, e.g. a ConfigMap's
    /// `data["envoy.yaml"]` (tests hand them to `envoy --mode validate`; `--envoy xds` turns
    /// bootstraps into xDS resources).
    pub envoy_documents: Vec<EnvoyDocument>,
    /// The clusters it runs in, from its `skyc.dev/clusters` annotation; empty when it runs in
    /// every cluster (see [`clusters`]).
    pub clusters: Vec<String>,
}

/// `json` as compact text, written into a buffer each thread keeps from object to object and
/// then copied once at its size: written into a new `String`, which grows by doubling and is
/// shrunk to fit, each object's text was copied about ten times (measured: 5% of a render).
fn compact_text(json: &impl serde::Serialize) -> Box<str> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|b| {
        let mut b = b.borrow_mut();
        b.clear();
        serde_json::to_writer(&mut *b, json).expect("a JSON value serializes");
        let text = Box::from(std::str::from_utf8(&b).expect("serde_json writes UTF-8"));
        // One unusually large object does not keep its buffer for the rest of the run.
        if b.capacity() > 1 << 20 {
            *b = Vec::new();
        }
        text
    })
}

impl Object {
    /// An object whose metadata (name, namespace) and clusters are read from `json`.
    pub fn new(
        api_version: String,
        kind: String,
        json: &serde_json::Value,
        envoy_documents: Vec<EnvoyDocument>,
    ) -> Object {
        Object::of_tree(api_version, kind, json, envoy_documents)
    }

    /// [`Object::new`] from any tree.
    pub(crate) fn of_tree<T: lower::Tree + serde::Serialize>(
        api_version: String,
        kind: String,
        json: &T,
        envoy_documents: Vec<EnvoyDocument>,
    ) -> Object {
        let meta = json.get("metadata");
        let text = |key: &str| meta.and_then(|m| m.get(key))?.as_str().map(str::to_string);
        Object {
            api_version,
            kind,
            name: text("name").unwrap_or_default(),
            namespace: text("namespace"),
            json: compact_text(json),
            envoy_documents,
            clusters: clusters::of_tree(json),
        }
    }

    /// The object as a JSON tree (parsed from its text at every call: keep the result when
    /// it is needed more than once).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.json).expect("the text was written by serde_json")
    }

    /// The object as compact JSON text, keys in Kubernetes order.
    pub fn json_text(&self) -> &str {
        &self.json
    }

    /// Whether this is an Envoy xDS resource that `main` returned (a Listener, a Cluster…)
    /// rather than a Kubernetes object: it carries its protobuf `@type` (always its first
    /// key).
    pub fn is_xds(&self) -> bool {
        self.json.starts_with("{\"@type\":")
    }

    /// Whether the object runs in `cluster` (`skyc render --cluster NAME`).
    pub fn runs_in(&self, cluster: &str) -> bool {
        clusters::runs_in(&self.clusters, cluster)
    }

    /// What makes two objects the same object on a cluster: API group (the same object in
    /// two versions is one), kind, namespace ("" when none) and name (SKY0406).
    pub fn identity(&self) -> (&str, &str, &str, &str) {
        let group = self.api_version.split_once('/').map_or("", |(g, _)| g);
        let namespace = self.namespace.as_deref().unwrap_or_default();
        (group, &self.kind, namespace, &self.name)
    }

    /// Whether some cluster runs both objects (one without clusters runs in all of them).
    pub fn shares_a_cluster(&self, other: &Object) -> bool {
        self.clusters.is_empty()
            || other.clusters.is_empty()
            || other.clusters.iter().any(|c| self.clusters.contains(c))
    }
}

/// The protobuf type of an Envoy bootstrap.
pub const BOOTSTRAP: &str = "envoy.config.bootstrap.v3.Bootstrap";

/// One Envoy message embedded in an object.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvoyDocument {
    /// The field holding it, e.g. `data["envoy.yaml"]`.
    pub field: String,
    /// Its protobuf type, e.g. `envoy.config.bootstrap.v3.Bootstrap`.
    pub type_name: String,
    /// Canonical proto3 JSON.
    pub json: serde_json::Value,
    /// The text written into the field (YAML, with a summary for bootstraps).
    pub text: String,
}

/// The result of compiling one entry file.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Empty when any error was found: nothing is rendered from a failing file.
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
    /// The text of every file read, by display name (for rendering excerpts).
    pub sources: BTreeMap<String, Arc<str>>,
    /// Every file the compilation read (the entry, its loads, the stdlib modules).
    pub files: Vec<FileId>,
    /// What `print()` wrote, in order, each line prefixed with the file that printed it.
    /// The CLI shows it on stderr; the library never prints.
    pub prints: Vec<String>,
    /// Where the time went, stage by stage (`skyc render --timings`).
    pub timings: Timings,
}

/// Wall time per pipeline stage, in the order the stages first ran.
#[derive(Debug, Default, Clone)]
pub struct Timings(pub Vec<(&'static str, std::time::Duration)>);

impl Timings {
    /// Adds `d` to `stage` (a stage that runs several times, once per file, adds up).
    pub fn add(&mut self, stage: &'static str, d: std::time::Duration) {
        match self.0.iter_mut().find(|(s, _)| *s == stage) {
            Some((_, t)) => *t += d,
            None => self.0.push((stage, d)),
        }
    }

    /// Runs `f` and adds its wall time to `stage`.
    pub fn time<T>(&mut self, stage: &'static str, f: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let r = f();
        self.add(stage, start.elapsed());
        r
    }

    /// Adds every stage of `other`.
    pub fn merge(&mut self, other: &Timings) {
        for (s, d) in &other.0 {
            self.add(s, *d);
        }
    }
}

impl Outcome {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Starts building what every compilation needs on a thread of its own, while the command
/// reads its files and the first compilation builds Starlark's globals: the Kubernetes schema
/// (from the table generated at build time), then the other half of the globals' tables
/// (`values::warm_globals`), then the `k8s` namespace the globals add last. Call it early,
/// before knowing whether anything will be compiled: it only warms caches the compilation
/// fills on first use anyway, and a compilation that needs one before it is ready waits for
/// it (each is built once).
///
/// The schema comes first: the globals need it last, and building the globals' tables first
/// was measured slower (N=10: 9.6 against 8.5 ms). Compiling Starlark's docstring regexes
/// alone was slower too: warming them takes every one, the globals need only some.
pub fn prewarm() {
    let _ = std::thread::Builder::new()
        .name("skyc-prewarm".into())
        .spawn(|| {
            skyc_schema::k8s::k8s();
            crate::values::warm_globals();
            crate::values::k8s_constructors();
        });
}

/// The files one entry file depends on (see [`deps`]).
#[derive(Debug, Default)]
pub struct Deps {
    /// In dependency order (a file after the files it loads), the entry last; stdlib modules
    /// included.
    pub files: Vec<DepFile>,
    /// Files that could not be read or parsed, bad load paths, load cycles.
    pub diagnostics: Vec<Diagnostic>,
}

/// One file of [`Deps`].
#[derive(Debug, Clone)]
pub struct DepFile {
    pub id: FileId,
    /// As the user names it (relative to the working directory), or `@stdlib//x.sky`.
    pub name: String,
    pub text: Arc<str>,
}

/// The files `entry` loads, directly or through other files, read and parsed but not
/// evaluated: the set whose contents decide the compilation's result (with `sky.toml`, the
/// options and skyc itself). `skyc deps` prints it; build systems and the check cache key on it.
pub fn deps(world: &dyn World, entry: &str, opts: &Options) -> Deps {
    let mut d = eval::load_graph(world, entry, opts);
    skyc_diag::normalize(&mut d.diagnostics);
    d
}

/// Checks a file that is not an entry point (a library module, a `*_test.sky` file, a policy):
/// parse, typecheck and evaluate its top level under the limits, without calling `main`. The
/// editor uses it for files without `main`.
pub fn check_module(world: &dyn World, path: &str, opts: &Options) -> Outcome {
    // The frozen module holds the file's compiled code, which is dropped recursively (as deep
    // as the source nests): it is dropped on the evaluation's big stack, not the caller's.
    eval::on_big_stack(|| eval::evaluate_as(world, path, opts, false).0.outcome)
}

/// The custom resources a project declares (`[crds] paths`), read and indexed now: the index
/// (`None` when none are declared or none could be read; its files are parsed as their kinds
/// are looked up, and [`CrdIndex::take_problems`] has what that found) and the problems of
/// reading (for `skyc doc` and the editor; compilations read them only when needed).
pub fn load_crds(
    world: &dyn World,
    config: &Config,
) -> (Option<std::sync::Arc<CrdIndex>>, Vec<Diagnostic>) {
    let source = crds::CrdSource::new(world, config);
    if !source.declared() {
        return (None, Vec::new());
    }
    let loaded = source.load();
    (loaded.index.clone(), loaded.diagnostics.clone())
}

/// The CRD files a project declares (`[crds] paths`; directories listed), root-relative: the
/// inputs a build system must give a compilation that may use them (`skyc deps`).
pub fn crd_files(world: &dyn World, config: &Config) -> Vec<String> {
    crds::files(world, &config.crds.paths)
}

/// Runs the whole pipeline on one entry file (a root-relative path in `world`).
pub fn compile(world: &dyn World, entry: &str, opts: &Options) -> Outcome {
    // The frozen modules of the loaded files and of the policies hold compiled code, which is
    // dropped recursively (as deep as the source nests): the whole pipeline runs on the
    // evaluation's big stack, so they are dropped there, not on the caller's stack.
    eval::on_big_stack(|| compile_here(world, entry, opts))
}

fn compile_here(world: &dyn World, entry: &str, opts: &Options) -> Outcome {
    let mut out = eval::evaluate(world, entry, opts);
    if !out.outcome.has_errors() {
        let lowered = out
            .lowered
            .take()
            .unwrap_or_else(|| lower::Lowered::new(opts.lint));
        out.outcome.timings.add("lower", lowered.lowering);
        out.outcome.diagnostics.extend(lowered.diagnostics);
        let mut objects = lowered.objects;
        let start = std::time::Instant::now();
        let found = validate::check_all(&objects, lowered.findings);
        out.outcome
            .timings
            .add("validate", lowered.validating + start.elapsed());
        out.outcome.diagnostics.extend(found);
        if opts.lint && !out.outcome.has_errors() {
            let start = std::time::Instant::now();
            let (vars, _) = opts.config.resolve_vars(&opts.vars);
            let policies = policy::run(world, &objects, opts);
            out.outcome.sources.extend(policies.sources);
            out.outcome.diagnostics.extend(lint::lint(
                &objects,
                &vars,
                &opts.config.lint,
                &out.outcome.sources,
                policies.findings,
            ));
            out.outcome.diagnostics.extend(policies.problems);
            out.outcome.prints.extend(policies.prints);
            for f in policies.files {
                if !out.outcome.files.contains(&f) {
                    out.outcome.files.push(f);
                }
            }
            out.outcome.timings.add("lint", start.elapsed());
        }
        if out.outcome.has_errors() {
            objects.clear();
        }
        out.outcome.objects = objects.into_iter().map(|o| o.object).collect();
    }
    skyc_diag::normalize(&mut out.outcome.diagnostics);
    out.outcome
}
