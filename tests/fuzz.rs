//! Fuzzing harnesses: one function per `cargo fuzz` target (`fuzz/fuzz_targets/*.rs` call them),
//! compiled on stable so that `tests/fuzz_regressions.rs` replays every input that once crashed
//! (`fuzz/regressions/<target>/*`) in the ordinary test suite.
//!
//! Each function takes arbitrary bytes and must not panic: a panic, an abort (stack overflow),
//! an allocation beyond the fuzzer's RSS limit or a timeout is a bug of skyc. So is a diagnostic
//! by which skyc reports a bug of its own, which the harnesses turn into a panic: SKY0002 (an
//! internal error, e.g. a panic the evaluation caught) and SKY0709 (`skyc import` output that
//! does not render back to its input). They return a small [`Summary`] so the regression test
//! (and a curious reader) can see what ran.
//!
//! - [`eval`]: the bytes are a fixture-like project (`main.sky`, further files after
//!   `# file: NAME` lines, `# vars: k=v`, `# compat: skycfg`, `# lint: off`), compiled and checked
//!   under tight limits, diagnostics rendered in every format, objects emitted.
//! - [`import`]: the bytes are a YAML file for `skyc import` (which compiles the generated source
//!   and compares it with the input itself, `verify_round_trip`).
//! - [`constructors`]: the bytes choose a typed constructor (Kubernetes or Envoy), fields and
//!   values, or a stdlib call, and one of several program shapes (construction, assignment,
//!   codec round trips, decoding text, plain dicts); the generated `.sky` is compiled.
//! - [`diff`]: the bytes are two renders separated by the first `0xFF` byte (or split halfway),
//!   parsed and diffed as `skyc diff` does.

use skyc_core::emit::{self, Format};
use skyc_core::import::{ImportOptions, Input};
use skyc_core::{Config, LimitOverrides, MemoryWorld, Object, Options, Outcome};
use skyc_diag::render::{human, HumanOptions};
use skyc_diag::Diagnostic;
use skyc_schema::{FieldType, MessageType, SchemaId};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};

/// What one harness run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The input was not usable (e.g. not UTF-8) and nothing ran.
    pub skipped: bool,
    /// Objects rendered (or, for `diff`, object changes found).
    pub objects: usize,
    /// Diagnostics reported.
    pub diagnostics: usize,
    /// Whether any diagnostic was an error.
    pub errors: bool,
    /// The codes of the diagnostics, sorted, without repeats.
    pub codes: Vec<&'static str>,
}

impl Summary {
    fn of(objects: usize, diags: &[Diagnostic]) -> Summary {
        let mut codes: Vec<&'static str> = diags.iter().map(|d| d.code).collect();
        codes.sort_unstable();
        codes.dedup();
        Summary {
            skipped: false,
            objects,
            diagnostics: diags.len(),
            errors: diags.iter().any(Diagnostic::is_error),
            codes,
        }
    }

    fn skipped() -> Summary {
        Summary {
            skipped: true,
            ..Summary::default()
        }
    }
}

/// The global allocator of the fuzz targets and of `tests/fuzz_regressions.rs`: the system
/// allocator, counting the bytes in use so that the evaluation's periodic memory check
/// (`skyc_core::memory`, layer 2) works as it does in `skyc`. Like `skyc lsp`, it never ends the
/// process at a cap: what the evaluation's own checks miss shows as an out-of-memory finding.
pub struct CountingAllocator;

static ALLOCATED: AtomicU64 = AtomicU64::new(0);
thread_local! {
    /// Bytes this thread allocated minus bytes it freed (const, no destructor: allocator-safe).
    static THREAD_NET: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

fn count(grow: usize, shrink: usize) {
    ALLOCATED.fetch_add(grow as u64, Ordering::Relaxed);
    ALLOCATED.fetch_sub(shrink as u64, Ordering::Relaxed);
    let _ = THREAD_NET.try_with(|n| n.set(n.get() + grow as i64 - shrink as i64));
}

// SAFETY: every call is forwarded to the system allocator unchanged; the counters are an
// atomic and a thread-local cell.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 0);
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), 0);
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        count(0, layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            count(new_size, layout.size());
        }
        p
    }
}

struct Meter;

impl skyc_core::memory::Meter for Meter {
    fn allocated(&self) -> u64 {
        ALLOCATED.load(Ordering::Relaxed)
    }

    fn thread_allocated(&self) -> i64 {
        THREAD_NET.try_with(|n| n.get()).unwrap_or(0)
    }

    fn set_cap(&self, _cap: u64) {}
}

/// Messages of the panics starlark raises for values too large to lay out, which the
/// evaluation catches and reports as SKY0303 (`skyc_core::eval::errors::catch_panic`); they
/// are the sandbox working, not crashes.
const TOO_LARGE_PANICS: &[&str] = &[
    "must not exceed u32::MAX",
    "capacity overflow",
    "len overflow",
];

/// Once per process: the allocation meter, and a panic hook that lets the evaluation's
/// too-large-value panics through to its own handler (libFuzzer's hook aborts on every panic).
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        skyc_core::memory::install(&Meter);
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("");
            if skyc_core::eval::panics_are_caught()
                && TOO_LARGE_PANICS.iter().any(|m| msg.contains(m))
            {
                return;
            }
            previous(info);
        }));
    });
}

/// An internal error (SKY0002: a panic the evaluation caught, a module that would not freeze)
/// is a bug of skyc however it is reported: the harness panics with it.
fn check_internal_errors(diags: &[Diagnostic]) {
    if let Some(d) = diags.iter().find(|d| d.code == "SKY0002") {
        panic!("internal error (SKY0002): {}", d.message);
    }
}

/// The limits every fuzzed compilation runs under: small enough that one input takes at most a
/// few seconds (libFuzzer's `-timeout` is 10 s), large enough for the fixtures and examples.
pub fn fuzz_limits() -> LimitOverrides {
    LimitOverrides {
        max_steps: Some(200_000),
        max_heap: Some(64 << 20),
        max_time_seconds: Some(2.0),
        max_call_depth: None,
    }
}

/// Largest input a harness looks at; longer inputs are cut (not skipped, so the prefix is
/// still exercised). Keeps a single run well below the timeout.
const MAX_INPUT: usize = 64 * 1024;

fn cut(data: &[u8]) -> &[u8] {
    &data[..data.len().min(MAX_INPUT)]
}

// ---------------------------------------------------------------------------------------------
// eval

/// Compiles the bytes as a project whose entry is `main.sky`. See the module documentation for
/// the header lines; the format is the one of `tests/fixtures/**.sky`, so the fixtures are
/// seeds as they are.
pub fn eval(data: &[u8]) -> Summary {
    let Ok(text) = std::str::from_utf8(cut(data)) else {
        return Summary::skipped();
    };
    setup();
    let (world, opts) = project(text);
    let out = skyc_core::compile(&world, "main.sky", &opts);
    let module = skyc_core::check_module(&world, "main.sky", &opts);
    check_internal_errors(&module.diagnostics);
    render_diagnostics(&module.diagnostics, &module.sources);
    finish(&out)
}

/// The files and options of an `eval` input.
pub fn project(text: &str) -> (MemoryWorld, Options) {
    const MAX_FILES: usize = 16;
    let mut files: Vec<(String, String)> = vec![("main.sky".to_string(), String::new())];
    let mut opts = Options {
        limits: fuzz_limits(),
        lint: true,
        ..Options::default()
    };
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if let Some(v) = bare.strip_prefix("# vars:") {
            for kv in v.split_whitespace() {
                if let Some((k, v)) = kv.split_once('=') {
                    opts.vars.insert(k.to_string(), v.to_string());
                }
            }
        } else if let Some(c) = bare.strip_prefix("# compat:") {
            if c.trim() == "skycfg" {
                opts.compat = Some(skyc_core::config::Compat::Skycfg);
            }
        } else if bare.trim() == "# lint: off" {
            opts.lint = false;
        }
        if let Some(f) = bare.strip_prefix("# file:") {
            if files.len() < MAX_FILES {
                files.push((f.trim().to_string(), String::new()));
                continue;
            }
        }
        files.last_mut().expect("never empty").1.push_str(line);
    }
    let mut world = MemoryWorld::default();
    for (name, text) in files {
        if name == "sky.toml" {
            if let Ok(config) = Config::parse("sky.toml", &text) {
                opts.config = config;
            }
        }
        world.files.insert(name, Arc::from(text.as_str()));
    }
    (world, opts)
}

/// Renders the diagnostics and emits the objects of an outcome, as the CLI would.
fn finish(out: &Outcome) -> Summary {
    check_internal_errors(&out.diagnostics);
    render_diagnostics(&out.diagnostics, &out.sources);
    if !out.objects.is_empty() {
        emit_objects(&out.objects);
    }
    Summary::of(out.objects.len(), &out.diagnostics)
}

/// Every output form of `skyc render` (stream, directory, xDS) for both formats.
fn emit_objects(objects: &[Object]) {
    let xds = emit::xds_resources(objects);
    let _ = emit::xds_list(&xds);
    for format in [Format::Yaml, Format::Json] {
        let _ = emit::stream(objects, format);
        let _ = emit::directory(objects, format);
        let _ = emit::directory_with_xds(objects, &xds, format, Some("fuzz"));
    }
}

/// Every diagnostics format of the CLI.
fn render_diagnostics(diags: &[Diagnostic], sources: &BTreeMap<String, Arc<str>>) {
    let lookup = |name: &str| {
        sources.get(name).cloned().or_else(|| {
            name.strip_prefix("@stdlib//")
                .and_then(skyc_stdlib::module)
                .map(Arc::from)
        })
    };
    let _ = human(diags, &lookup, HumanOptions::default());
    let _ = skyc_diag::render::json(diags);
    let _ = skyc_diag::render::github(diags);
    let _ = skyc_diag::render::sarif(diags, "fuzz");
}

// ---------------------------------------------------------------------------------------------
// import

/// Imports the bytes as one YAML file; the length of the input chooses the options (`--image`,
/// `--no-stdlib`, `--keep-server-fields`), so the corpus covers all of them. `import` compiles
/// the source it generates and compares it with the input itself (`verify_round_trip`): a
/// round-trip failure is SKY0709.
pub fn import(data: &[u8]) -> Summary {
    let Ok(text) = std::str::from_utf8(cut(data)) else {
        return Summary::skipped();
    };
    let flags = text.len();
    let opts = ImportOptions {
        image: (flags & 1 == 0).then(|| "registry.internal/jobs:1".to_string()),
        no_stdlib: flags & 2 != 0,
        keep_server_fields: flags & 4 != 0,
        crds: None,
    };
    let input = Input {
        name: "input.yaml",
        text,
    };
    setup();
    let result = skyc_core::import::import(&[input], &opts);
    // SKY0709 (the generated source does not render back to the input) is a bug of
    // `skyc import` by definition, like an internal error.
    if let Some(d) = result
        .diagnostics
        .iter()
        .find(|d| d.code == "SKY0002" || d.code == "SKY0709")
    {
        panic!(
            "skyc import reports a bug of its own ({}): {}",
            d.code, d.message
        );
    }
    let mut sources = BTreeMap::new();
    sources.insert("input.yaml".to_string(), Arc::from(text));
    render_diagnostics(&result.diagnostics, &sources);
    Summary::of(result.objects, &result.diagnostics)
}

// ---------------------------------------------------------------------------------------------
// diff

/// Splits the bytes into two renders (at the first `0xFF`, which valid UTF-8 never contains, or
/// halfway), parses both as `skyc diff` does and diffs them both ways; each object is also
/// written back as YAML (`emit::to_yaml`).
pub fn diff(data: &[u8]) -> Summary {
    setup();
    let data = cut(data);
    let (old, new) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return Summary::skipped();
    };
    let old = skyc_core::diff::parse_render(old);
    let new = skyc_core::diff::parse_render(new);
    for objects in [&old, &new].into_iter().flat_map(|r| r.as_ref().ok()) {
        for o in objects {
            let _ = emit::to_yaml(o);
        }
    }
    let (Ok(old), Ok(new)) = (old, new) else {
        return Summary {
            errors: true,
            ..Summary::default()
        };
    };
    let mut changes = 0;
    for (a, b) in [(&old, &new), (&new, &old)] {
        let found = skyc_core::diff::diff(a, b);
        let _ = skyc_core::diff::render_text(&found, false);
        let _ = skyc_core::diff::render_text(&found, true);
        let _ = skyc_core::diff::render_markdown(&found);
        changes += found.len();
    }
    Summary {
        objects: changes,
        ..Summary::default()
    }
}

// ---------------------------------------------------------------------------------------------
// constructors

/// Generates a `.sky` program from the bytes (see [`constructors_source`]) and compiles it.
pub fn constructors(data: &[u8]) -> Summary {
    setup();
    let source = constructors_source(cut(data));
    let world = MemoryWorld::new([("main.sky", source.as_str())]);
    let opts = Options {
        limits: fuzz_limits(),
        lint: true,
        ..Options::default()
    };
    finish(&skyc_core::compile(&world, "main.sky", &opts))
}

/// The program [`constructors`] compiles for `data` (public so a crash can be looked at as
/// source: `cargo test -p skyc_tests --test fuzz_regressions -- --nocapture show`).
pub fn constructors_source(data: &[u8]) -> String {
    let mut g = Gen::new(data);
    let mut p = Program::default();
    match g.byte() % 8 {
        0 | 1 => p.construct(&mut g),
        2 => p.assign(&mut g),
        3 => p.codecs(&mut g),
        4 => p.decode(&mut g),
        5 => p.plain_dict(&mut g),
        6 => p.stdlib(&mut g),
        _ => p.proto_package(&mut g),
    }
    p.finish()
}

/// Reads choices from the fuzzer's bytes; past the end every choice is 0 (the simplest).
struct Gen<'a> {
    data: &'a [u8],
    pos: usize,
    /// Values still allowed in the program (keeps it small whatever the bytes).
    budget: u32,
}

impl<'a> Gen<'a> {
    fn new(data: &'a [u8]) -> Gen<'a> {
        Gen {
            data,
            pos: 0,
            budget: 48,
        }
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else if n <= 256 {
            self.byte() as usize % n
        } else {
            self.u16() as usize % n
        }
    }

    /// True one time in `n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }

    /// One of `types`, or a Kubernetes kind when there are none.
    fn ty(&mut self, types: &[&'static MessageType]) -> &'static MessageType {
        match types {
            [] => k8s_kinds()[self.below(k8s_kinds().len())],
            _ => types[self.below(types.len())],
        }
    }

    fn exhausted(&self) -> bool {
        self.pos >= self.data.len() || self.budget == 0
    }

    fn take(&mut self) -> bool {
        if self.budget == 0 {
            return false;
        }
        self.budget -= 1;
        true
    }
}

/// The Kubernetes message types (every constructor under `k8s.`).
fn k8s_types() -> &'static [&'static MessageType] {
    static TYPES: OnceLock<Vec<&'static MessageType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        skyc_core::schema()
            .types()
            .iter()
            .filter(|t| t.path.starts_with("k8s.") && is_path(&t.path))
            .collect()
    })
}

/// The top-level Kubernetes kinds.
fn k8s_kinds() -> &'static [&'static MessageType] {
    static KINDS: OnceLock<Vec<&'static MessageType>> = OnceLock::new();
    KINDS.get_or_init(|| {
        k8s_types()
            .iter()
            .copied()
            .filter(|t| t.gvk.is_some())
            .collect()
    })
}

/// The Envoy message types (decoded on first use).
fn envoy_types() -> &'static [&'static MessageType] {
    static TYPES: OnceLock<Vec<&'static MessageType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        skyc_schema::schema_of(SchemaId::ENVOY)
            .types()
            .iter()
            .filter(|t| t.path.starts_with("envoy.") && is_path(&t.path))
            .collect()
    })
}

/// The Envoy resources `main` may return.
const XDS_KINDS: &[&str] = &[
    "envoy.config.listener.v3.Listener",
    "envoy.config.cluster.v3.Cluster",
    "envoy.config.route.v3.RouteConfiguration",
    "envoy.config.endpoint.v3.ClusterLoadAssignment",
    "envoy.config.bootstrap.v3.Bootstrap",
];

/// Whether a constructor path can be written as Starlark attribute accesses.
fn is_path(path: &str) -> bool {
    path.split('.').all(is_ident)
}

fn is_ident(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
        "lambda", "load", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
        "with", "yield", "None", "True", "False",
    ];
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&s)
}

/// Strings that have tripped parsers and emitters before: YAML 1.1 words, quantities,
/// durations, cron schedules, time zones, names at and over the limits, odd Unicode.
const STRINGS: &[&str] = &[
    "",
    "a",
    "web",
    "web-1",
    "Web",
    "-",
    ".",
    "a.b",
    "a/b",
    "x y",
    "NO",
    "on",
    "y",
    "~",
    "null",
    "1:30",
    "1_000",
    "0x1F",
    "0o17",
    "1e3",
    ".inf",
    "-.nan",
    "2026-01-02",
    "2006-01-02T15:04:05Z",
    "*",
    "&a",
    "*a",
    "!tag",
    "{",
    "[a, b]",
    "a: b",
    "# c",
    "- x",
    "|",
    ">-",
    "---",
    "...",
    "%",
    "%s",
    "%d",
    "\\",
    "\"",
    "'",
    "\n",
    "a\nb",
    " lead",
    "trail ",
    "\t",
    "\0",
    "\u{202e}",
    "\u{feff}",
    "ü",
    "🦀",
    "500m",
    "0.5",
    "1",
    "-1",
    "1Ei",
    "1e400",
    "99999999999999999999999Ti",
    "1.5.5",
    "512Mi",
    "0.000000001",
    "5s",
    "0.25s",
    "1m30s",
    "-1s",
    "1e400s",
    "315576000001s",
    "1h",
    "24h",
    "20m",
    "@hourly",
    "@every 5m",
    "0 3 * * *",
    "*/0 * * * *",
    "61 * * * *",
    "CRON_TZ=UTC 0 * * * *",
    "TZ=Europe/Berlin 0 0 * * *",
    "Europe/Berlin",
    "Mars/Olympus",
    "UTC",
    "http",
    "http2",
    "tcp",
    "grpc",
    "TCP",
    "UDP",
    "Always",
    "Never",
    "OnFailure",
    "IfNotPresent",
    "RollingUpdate",
    "ClusterIP",
    "aGVsbG8=",
    "not base64!",
    "nginx:latest",
    "nginx",
    "registry.internal/web@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "5xx,connect-failure",
    "gateway-error,bogus",
    "envoy.yaml",
    "skyc.dev/clusters",
    "app.kubernetes.io/name",
    "a-very-long-name-that-is-exactly-sixty-three-characters-long-abc",
    "a-very-long-name-that-is-more-than-sixty-three-characters-long-abcd",
    "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "@type",
    "$ref",
    "x-kubernetes-int-or-string",
];

/// Integers at the edges of int32, uint32 and int64 and beyond (Starlark ints are big).
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "80",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "0x7fffffff",
    "0o777",
    "1 << 70",
    "-(1 << 63)",
];

const FLOATS: &[&str] = &[
    "0.0",
    "-0.0",
    "0.5",
    "1.5",
    "1e308",
    "1e-320",
    "-1e308",
    "float(\"inf\")",
    "float(\"-inf\")",
    "float(\"nan\")",
    "2.5e9",
    "1e19",
    "3.0",
];

/// A Starlark string literal for `s`, escaped in a way the bytes choose.
fn string_literal(g: &mut Gen, s: &str) -> String {
    let style = g.byte();
    let mut out = String::from("\"");
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
            c if style & 1 == 1 && !c.is_ascii() => {
                if (c as u32) <= 0xffff {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c if style & 2 == 2 && c.is_ascii_alphabetic() && style & 4 == 4 => {
                // Octal escapes of plain letters: the same string, spelled differently.
                let _ = write!(out, "\\{:o}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A string from the table, or spelled out of the next bytes (any Unicode scalar value).
fn string_value(g: &mut Gen) -> String {
    let how = g.byte();
    let s: String = match how % 4 {
        0 | 1 => (*g.pick(STRINGS)).to_string(),
        2 => {
            // A short run of the input's bytes, as characters.
            let n = g.below(24);
            (0..n)
                .map(|_| {
                    let b = g.byte();
                    match b {
                        0..=0x7f => b as char,
                        0x80..=0xbf => {
                            char::from_u32(0x80 + (b as u32 - 0x80) * 997).unwrap_or('?')
                        }
                        _ => char::from_u32(0x1f300 + b as u32).unwrap_or('?'),
                    }
                })
                .collect()
        }
        _ => {
            // A table string repeated or joined to another.
            let a = *g.pick(STRINGS);
            let b = *g.pick(STRINGS);
            let n = 1 + g.below(4);
            format!("{}{b}", a.repeat(n))
        }
    };
    string_literal(g, &s)
}

/// A quantity: helper calls, strings and numbers.
fn quantity_value(g: &mut Gen) -> String {
    const HELPERS: &[&str] = &[
        "cores",
        "millicores",
        "bytes",
        "kilobytes",
        "kibibytes",
        "megabytes",
        "mebibytes",
        "gigabytes",
        "gibibytes",
        "terabytes",
        "tebibytes",
    ];
    match g.byte() % 5 {
        0 => format!("kube.{}({})", g.pick(HELPERS), g.pick(INTS)),
        1 => format!("kube.cores({})", g.pick(FLOATS)),
        2 => format!("kube.quantity({})", string_value(g)),
        3 => (*g.pick(INTS)).to_string(),
        _ => string_value(g),
    }
}

#[derive(Default)]
struct Program {
    /// Statements of `main`, indented by the caller.
    body: Vec<String>,
    /// Expressions `main` returns (as a list).
    result: Vec<String>,
    /// Load statements.
    loads: Vec<String>,
    /// Top-level statements before `main`.
    top: Vec<String>,
}

impl Program {
    fn finish(self) -> String {
        let mut out = String::new();
        for l in &self.loads {
            out.push_str(l);
            out.push('\n');
        }
        for t in &self.top {
            out.push_str(t);
            out.push('\n');
        }
        out.push_str("\ndef main(ctx):\n");
        for s in &self.body {
            for line in s.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
        let _ = writeln!(out, "    return [{}]", self.result.join(", "));
        out
    }

    /// A Kubernetes kind (most of the time) or any message type, Envoy's included.
    fn pick_type(g: &mut Gen, kinds_only: bool) -> &'static MessageType {
        let choice = g.byte();
        if kinds_only || choice & 3 == 0 {
            return g.ty(k8s_kinds());
        }
        match choice % 8 {
            1 | 2 | 3 | 5 => g.ty(k8s_types()),
            6 => {
                let path = *g.pick(XDS_KINDS);
                skyc_schema::by_path(path).unwrap_or_else(|| g.ty(k8s_kinds()))
            }
            _ => g.ty(envoy_types()),
        }
    }

    /// Whether `main` may return a message of this type.
    fn returnable(t: &MessageType) -> bool {
        t.gvk.is_some() || XDS_KINDS.contains(&t.path.as_str())
    }

    /// `T(f = v, ...)` with 0 to 4 fields.
    fn constructor_call(g: &mut Gen, t: &MessageType, depth: u32) -> String {
        let mut args = Vec::new();
        let mut used = std::collections::BTreeSet::new();
        let n = if t.fields.is_empty() { 0 } else { g.below(5) };
        for _ in 0..n {
            if g.exhausted() {
                break;
            }
            let (name, ty) = Self::pick_field(g, t);
            if !used.insert(name.clone()) {
                continue;
            }
            let value = Self::value_for(g, &ty, depth + 1);
            args.push(Self::keyword(g, &name, &value));
        }
        format!("{}({})", t.path, args.join(", "))
    }

    /// A field of `t` (by name), sometimes a misspelt or unknown one.
    fn pick_field(g: &mut Gen, t: &MessageType) -> (String, FieldType) {
        let choice = g.byte();
        if t.fields.is_empty() || choice == 0xff {
            return ("bogus".to_string(), FieldType::Json);
        }
        let f = g.pick(&t.fields);
        if choice == 0xfe {
            // One letter off: the "did you mean" path.
            let mut name = f.name.to_string();
            name.push('s');
            return (name, f.ty.clone());
        }
        (f.name.to_string(), f.ty.clone())
    }

    /// `name = value`, or `**{"name": value}` when the name is not an identifier.
    fn keyword(g: &mut Gen, name: &str, value: &str) -> String {
        if is_ident(name) {
            format!("{name} = {value}")
        } else {
            format!("**{{{}: {value}}}", string_literal(g, name))
        }
    }

    /// A value for a field of type `ty`: usually of that type, sometimes any value at all.
    fn value_for(g: &mut Gen, ty: &FieldType, depth: u32) -> String {
        if !g.take() || depth > 5 {
            return Self::scalar(g);
        }
        if g.one_in(8) {
            return Self::any_value(g, depth);
        }
        match ty {
            FieldType::String { enum_values } => match enum_values {
                Some(values) if !values.is_empty() && g.one_in(2) => {
                    let v = g.pick(values).clone();
                    string_literal(g, &v)
                }
                _ => string_value(g),
            },
            FieldType::Int { .. } | FieldType::UInt { .. } => (*g.pick(INTS)).to_string(),
            FieldType::Number => match g.byte() % 2 {
                0 => (*g.pick(FLOATS)).to_string(),
                _ => (*g.pick(INTS)).to_string(),
            },
            FieldType::Bool => ["True", "False"][g.below(2)].to_string(),
            FieldType::Quantity => quantity_value(g),
            FieldType::IntOrString => match g.byte() % 3 {
                0 => (*g.pick(INTS)).to_string(),
                1 => "\"25%\"".to_string(),
                _ => string_value(g),
            },
            FieldType::Duration => match g.byte() % 3 {
                0 => format!("duration({})", string_value(g)),
                _ => string_value(g),
            },
            FieldType::Time | FieldType::Bytes => string_value(g),
            FieldType::Any => {
                let t = g.ty(envoy_types());
                match g.byte() % 2 {
                    0 => format!("proto.to_any({})", Self::constructor_call(g, t, depth)),
                    _ => Self::constructor_call(g, t, depth),
                }
            }
            FieldType::Message(id) => {
                let t = skyc_schema::lookup(*id);
                match g.byte() % 4 {
                    0 => Self::dict_for(g, t, depth),
                    1 => "None".to_string(),
                    _ if is_path(&t.path) => Self::constructor_call(g, t, depth),
                    _ => Self::dict_for(g, t, depth),
                }
            }
            FieldType::List(item) => {
                let n = g.below(4);
                let items: Vec<String> = (0..n)
                    .map(|_| Self::value_for(g, item, depth + 1))
                    .collect();
                format!("[{}]", items.join(", "))
            }
            FieldType::Map(item) => {
                let n = g.below(4);
                let items: Vec<String> = (0..n)
                    .map(|_| {
                        let k = string_value(g);
                        format!("{k}: {}", Self::value_for(g, item, depth + 1))
                    })
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            FieldType::Json => Self::any_value(g, depth),
        }
    }

    /// A message written as a dict with its field names.
    fn dict_for(g: &mut Gen, t: &MessageType, depth: u32) -> String {
        let n = if t.fields.is_empty() { 0 } else { g.below(4) };
        let mut used = std::collections::BTreeSet::new();
        let mut items = Vec::new();
        for _ in 0..n {
            let (name, ty) = Self::pick_field(g, t);
            if used.insert(name.clone()) {
                let k = string_literal(g, &name);
                items.push(format!("{k}: {}", Self::value_for(g, &ty, depth + 1)));
            }
        }
        format!("{{{}}}", items.join(", "))
    }

    fn scalar(g: &mut Gen) -> String {
        match g.byte() % 6 {
            0 => "None".to_string(),
            1 => "True".to_string(),
            2 => (*g.pick(INTS)).to_string(),
            3 => (*g.pick(FLOATS)).to_string(),
            _ => string_value(g),
        }
    }

    /// Any value: scalars, containers, constructors of any type, helpers.
    fn any_value(g: &mut Gen, depth: u32) -> String {
        if !g.take() || depth > 5 {
            return Self::scalar(g);
        }
        match g.byte() % 12 {
            0..=3 => Self::scalar(g),
            4 => {
                let n = g.below(4);
                let items: Vec<String> = (0..n).map(|_| Self::any_value(g, depth + 1)).collect();
                format!("[{}]", items.join(", "))
            }
            5 => {
                let n = g.below(4);
                let items: Vec<String> = (0..n)
                    .map(|_| format!("{}: {}", string_value(g), Self::any_value(g, depth + 1)))
                    .collect();
                format!("{{{}}}", items.join(", "))
            }
            6 => {
                let v = Self::any_value(g, depth + 1);
                format!("({v},)")
            }
            7 => quantity_value(g),
            8 => {
                let t = Self::pick_type(g, false);
                Self::constructor_call(g, t, depth)
            }
            9 => format!("struct(a = {})", Self::any_value(g, depth + 1)),
            10 => format!("lambda: {}", Self::scalar(g)),
            _ => format!("duration({})", string_value(g)),
        }
    }

    /// `return [T(f = v, ...)]`.
    fn construct(&mut self, g: &mut Gen) {
        let kinds_only = g.one_in(2);
        let t = Self::pick_type(g, kinds_only);
        let call = Self::constructor_call(g, t, 0);
        self.wrap(g, t, call);
    }

    /// Returns the message when `main` may, else hands it to a ConfigMap through a codec.
    fn wrap(&mut self, g: &mut Gen, t: &MessageType, expr: String) {
        if Self::returnable(t) {
            match g.byte() % 4 {
                0 => {
                    self.loads
                        .push("load(\"@stdlib//clusters.sky\", \"on_clusters\")".to_string());
                    let clusters = [string_value(g), string_value(g)];
                    self.result
                        .push(format!("on_clusters([{}], {expr})", clusters.join(", ")));
                }
                _ => self.result.push(expr),
            }
        } else {
            if expr != "o" {
                self.body.push(format!("o = {expr}"));
            }
            let codec = match g.byte() % 3 {
                0 => "json.encode(o)",
                1 => "proto.encode_text(o)",
                _ => "str(o)",
            };
            self.result.push(format!(
                "k8s.core.v1.ConfigMap(metadata = {{\"name\": \"out\"}}, data = {{\"o\": {codec}}})"
            ));
        }
    }

    /// `o = T()` then `o.f = v` for a few fields (and a read back).
    fn assign(&mut self, g: &mut Gen) {
        let t = Self::pick_type(g, false);
        self.body.push(format!("o = {}()", t.path));
        let n = g.below(5);
        for _ in 0..n {
            let (name, ty) = Self::pick_field(g, t);
            let value = Self::value_for(g, &ty, 1);
            if is_ident(&name) {
                self.body.push(format!("o.{name} = {value}"));
                match (&ty, g.byte() % 4) {
                    (FieldType::List(item), 0) => {
                        let v = Self::value_for(g, item, 2);
                        self.body.push(format!("o.{name}.append({v})"));
                    }
                    (FieldType::Map(item), 0) => {
                        let k = string_value(g);
                        let v = Self::value_for(g, item, 2);
                        self.body.push(format!("o.{name}[{k}] = {v}"));
                    }
                    (_, 1) => self.body.push(format!("x = o.{name}")),
                    _ => {}
                }
            } else {
                self.body
                    .push(format!("setattr(o, {}, {value})", string_literal(g, &name)));
            }
        }
        self.wrap(g, t, "o".to_string());
    }

    /// A message through the JSON, text and YAML codecs and back.
    fn codecs(&mut self, g: &mut Gen) {
        let t = Self::pick_type(g, false);
        let call = Self::constructor_call(g, t, 0);
        self.body.push(format!("o = {call}"));
        self.body.push("j = proto.encode_json(o)".to_string());
        self.body.push("t = proto.encode_text(o)".to_string());
        self.body
            .push(format!("o2 = proto.decode_json({}, j)", t.path));
        self.body
            .push(format!("o3 = proto.decode_text({}, t)", t.path));
        self.body
            .push("y = yaml.encode(json.decode(json.encode(o)))".to_string());
        self.body.push("c = proto.clone(o)".to_string());
        self.body.push("proto.merge(c, o2)".to_string());
        if g.one_in(2) {
            self.body.push("proto.clear(o3)".to_string());
        }
        self.result.push(
            "k8s.core.v1.ConfigMap(metadata = {\"name\": \"codecs\"}, data = {\"j\": j, \"t\": t, \"y\": y, \"same\": str(o == o2)})"
                .to_string(),
        );
        if Self::returnable(t) {
            self.result.push("c".to_string());
        }
    }

    /// Decoding text the bytes choose: protobuf JSON and text, YAML, JSON, durations.
    fn decode(&mut self, g: &mut Gen) {
        let t = Self::pick_type(g, false);
        let how = g.byte() % 6;
        // The rest of the input, as one string.
        let rest = String::from_utf8_lossy(&g.data[g.pos.min(g.data.len())..]).into_owned();
        g.pos = g.data.len();
        let text = string_literal(g, &rest);
        let expr = match how {
            0 => format!("proto.decode_json({}, {text})", t.path),
            1 => format!("proto.decode_text({}, {text})", t.path),
            2 => format!("yaml.decode({text})"),
            3 => format!("json.decode({text})"),
            4 => format!("duration({text})"),
            _ => format!("json.indent({text})"),
        };
        if how < 2 {
            self.wrap(g, t, expr);
        } else {
            self.body.push(format!("v = {expr}"));
            self.result.push(
                "k8s.core.v1.ConfigMap(metadata = {\"name\": \"decoded\"}, data = {\"v\": str(v)})"
                    .to_string(),
            );
        }
    }

    /// A plain dict with `apiVersion` and `kind`, checked like a typed object.
    fn plain_dict(&mut self, g: &mut Gen) {
        let t = Self::pick_type(g, true);
        let gvk = t.gvk.clone().unwrap_or_else(|| skyc_schema::Gvk {
            group: String::new(),
            version: "v1".to_string(),
            kind: "ConfigMap".to_string(),
        });
        let mut items = vec![
            format!("\"apiVersion\": {}", string_literal(g, &gvk.api_version())),
            format!("\"kind\": {}", string_literal(g, &gvk.kind)),
        ];
        let n = g.below(5);
        let mut used = std::collections::BTreeSet::new();
        for _ in 0..n {
            let (name, ty) = Self::pick_field(g, t);
            if name != "apiVersion" && name != "kind" && used.insert(name.clone()) {
                let k = string_literal(g, &name);
                items.push(format!("{k}: {}", Self::value_for(g, &ty, 1)));
            }
        }
        self.result.push(format!("{{{}}}", items.join(", ")));
    }

    /// A stdlib workload function with some of its optional parameters.
    fn stdlib(&mut self, g: &mut Gen) {
        #[derive(Clone, Copy)]
        enum P {
            Str,
            OptStr,
            Int,
            Bool,
            Quantity,
            Strs,
            StrDict,
            IntDict,
            Upstreams,
            Ingress,
            Extra,
            Command,
        }
        use P::*;
        type Params = &'static [(&'static str, P)];
        const SERVICE: Params = &[
            ("command", Command),
            ("args", Strs),
            ("env", StrDict),
            ("port", Int),
            ("ports", IntDict),
            ("replicas", Int),
            ("cpu", Quantity),
            ("mem", Quantity),
            ("iam_role", OptStr),
            ("block_egress", Bool),
            ("namespace", OptStr),
            ("health_path", OptStr),
            ("readiness_probe", Bool),
            ("liveness_probe", Bool),
            ("labels", StrDict),
            ("annotations", StrDict),
            ("part_of", OptStr),
            ("upstreams", Upstreams),
            ("ingress", Ingress),
            ("run_as_user", Int),
            ("read_only_root_filesystem", Bool),
            ("extra", Extra),
            ("clusters", Strs),
        ];
        const WORKER: Params = &[
            ("command", Command),
            ("args", Strs),
            ("env", StrDict),
            ("replicas", Int),
            ("cpu", Quantity),
            ("mem", Quantity),
            ("iam_role", OptStr),
            ("block_egress", Bool),
            ("namespace", OptStr),
            ("liveness_command", Strs),
            ("labels", StrDict),
            ("annotations", StrDict),
            ("part_of", OptStr),
            ("run_as_user", Int),
            ("read_only_root_filesystem", Bool),
            ("clusters", Strs),
        ];
        const CRON: Params = &[
            ("disabled", Bool),
            ("start_within", Str),
            ("timeout", Str),
            ("retries", Int),
            ("time_zone", OptStr),
            ("cpu", Quantity),
            ("mem", Quantity),
            ("env", StrDict),
            ("namespace", OptStr),
            ("iam_role", OptStr),
            ("block_egress", Bool),
            ("restart_policy", Str),
            ("run_as_user", Int),
            ("labels", StrDict),
            ("annotations", StrDict),
            ("clusters", Strs),
        ];
        const JOB: Params = &[
            ("timeout", Str),
            ("retries", Int),
            ("keep_for", Str),
            ("cpu", Quantity),
            ("mem", Quantity),
            ("env", StrDict),
            ("namespace", OptStr),
            ("iam_role", OptStr),
        ];
        fn value(g: &mut Gen, p: P) -> String {
            let strs = |g: &mut Gen| {
                let n = g.below(3);
                let v: Vec<String> = (0..n).map(|_| string_value(g)).collect();
                format!("[{}]", v.join(", "))
            };
            match p {
                Str => string_value(g),
                OptStr => match g.byte() % 3 {
                    0 => "None".to_string(),
                    _ => string_value(g),
                },
                Int => (*g.pick(INTS)).to_string(),
                Bool => ["True", "False"][g.below(2)].to_string(),
                Quantity => quantity_value(g),
                Strs | Command => match (p, g.byte() % 3) {
                    (Command, 0) => format!(
                        "einhorn({}, workers = {}, port = {})",
                        string_value(g),
                        g.pick(INTS),
                        g.pick(INTS)
                    ),
                    _ => strs(g),
                },
                StrDict | IntDict => {
                    let n = g.below(3);
                    let v: Vec<String> = (0..n)
                        .map(|_| {
                            let k = string_value(g);
                            let v = match p {
                                IntDict => (*g.pick(INTS)).to_string(),
                                _ => string_value(g),
                            };
                            format!("{k}: {v}")
                        })
                        .collect();
                    format!("{{{}}}", v.join(", "))
                }
                Upstreams => {
                    let n = g.below(3);
                    let v: Vec<String> = (0..n)
                        .map(|_| {
                            format!(
                                "upstream({}, port = {}, protocol = {}, timeout = {}, retries = {}, retry_on = {})",
                                string_value(g),
                                g.pick(INTS),
                                string_value(g),
                                string_value(g),
                                g.pick(INTS),
                                string_value(g)
                            )
                        })
                        .collect();
                    format!("[{}]", v.join(", "))
                }
                Ingress => match g.byte() % 2 {
                    0 => "None".to_string(),
                    _ => format!(
                        "ingress(timeout = {}, app_protocol = {}, max_connections = {})",
                        string_value(g),
                        string_value(g),
                        g.pick(INTS)
                    ),
                },
                Extra => {
                    let kind = *g.pick(&["deployment", "service", "pod", "container", "bogus"]);
                    let t = g.ty(k8s_types());
                    let d = Program::dict_for(g, t, 2);
                    format!("{{\"{kind}\": {d}}}")
                }
            }
        }
        self.loads.push(
            "load(\"@stdlib//service.sky\", \"service\", \"worker\", \"cron_job\", \"job\", \"upstream\", \"ingress\", \"einhorn\", \"on_clusters\")"
                .to_string(),
        );
        let (func, params): (&str, Params) = match g.byte() % 4 {
            0 => ("service", SERVICE),
            1 => ("worker", WORKER),
            2 => ("cron_job", CRON),
            _ => ("job", JOB),
        };
        let mut args = vec![
            format!("name = {}", string_value(g)),
            format!("owner = {}", string_value(g)),
            format!("image = {}", string_value(g)),
        ];
        if matches!(func, "cron_job" | "job") {
            args.push(format!("command = {}", value(g, Strs)));
        }
        if func == "cron_job" {
            args.push(format!("schedule = {}", string_value(g)));
        }
        let n = g.below(6);
        for _ in 0..n {
            if g.exhausted() {
                break;
            }
            let (name, p) = *g.pick(params);
            if args.iter().any(|a| a.starts_with(&format!("{name} ="))) {
                continue;
            }
            args.push(format!("{name} = {}", value(g, p)));
        }
        let call = format!("{func}({})", args.join(", "));
        match g.byte() % 4 {
            0 => self
                .result
                .push(format!("on_clusters([{}], {call})", string_value(g))),
            _ => self.result.push(call),
        }
    }

    /// skycfg style: a `proto.package` type built empty, filled in along field paths (reading
    /// an unset message field creates it), lists appended to.
    fn proto_package(&mut self, g: &mut Gen) {
        let kinds_only = g.one_in(2);
        let t = Self::pick_type(g, kinds_only);
        let Some((package, member)) = proto_name(t) else {
            return self.construct(g);
        };
        self.top.push(format!(
            "p = proto.package({})",
            string_literal(g, &package)
        ));
        self.body.push(format!("o = p.{member}()"));
        let n = g.below(6);
        for _ in 0..n {
            if g.exhausted() {
                break;
            }
            // A path of up to four fields down from `o`.
            let mut cur: &MessageType = t;
            let mut path = String::from("o");
            let mut last = FieldType::Json;
            for _ in 0..1 + g.below(4) {
                if cur.fields.is_empty() {
                    break;
                }
                let f = g.pick(&cur.fields);
                if !is_ident(&f.name) {
                    break;
                }
                let _ = write!(path, ".{}", f.name);
                last = f.ty.clone();
                match &f.ty {
                    FieldType::Message(id) => cur = skyc_schema::lookup(*id),
                    _ => break,
                }
            }
            if path == "o" {
                continue;
            }
            let value = Self::value_for(g, &last, 2);
            match (&last, g.byte() % 3) {
                (FieldType::List(item), 0) => {
                    let v = Self::value_for(g, item, 2);
                    self.body.push(format!("{path}.append({v})"));
                }
                (FieldType::Map(item), 0) => {
                    let k = string_value(g);
                    let v = Self::value_for(g, item, 2);
                    self.body.push(format!("{path}[{k}] = {v}"));
                }
                (_, 1) => self.body.push(format!("x = {path}")),
                _ => self.body.push(format!("{path} = {value}")),
            }
        }
        match g.byte() % 4 {
            0 => self.body.push("o = proto.clone(o)".to_string()),
            1 => self.body.push(format!("proto.merge(o, p.{member}())")),
            2 => self.body.push("proto.set_defaults(o)".to_string()),
            _ => {}
        }
        self.wrap(g, t, "o".to_string());
    }
}

/// The protobuf package and member name of a type (`k8s.io.api.apps.v1`, `Deployment`), for
/// top-level Kubernetes types and Envoy messages.
fn proto_name(t: &MessageType) -> Option<(String, String)> {
    let (pkg, member) = t.name.rsplit_once('.')?;
    if !is_ident(member) {
        return None;
    }
    if let Some(rest) = pkg.strip_prefix("io.k8s.") {
        return Some((format!("k8s.io.{rest}"), member.to_string()));
    }
    if t.id.source() == SchemaId::ENVOY {
        // Nested messages (`Cluster.LbPolicy`) are reached through their parent; only
        // top-level ones are package members.
        let first_upper = pkg
            .split('.')
            .position(|s| s.starts_with(char::is_uppercase));
        if first_upper.is_none() {
            return Some((pkg.to_string(), member.to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_sources_mostly_parse() {
        // Inputs made of a counter: the generator must produce several program shapes that
        // compile without a syntax error.
        let mut ok = 0;
        for i in 0u32..64 {
            let data: Vec<u8> = (0..64)
                .map(|j| (i.wrapping_mul(31) + j * 7) as u8)
                .collect();
            let source = constructors_source(&data);
            let world = MemoryWorld::new([("main.sky", source.as_str())]);
            let out = skyc_core::check_module(&world, "main.sky", &Options::default());
            if !out.diagnostics.iter().any(|d| d.code == "SKY0201") {
                ok += 1;
            }
        }
        assert!(ok > 48, "only {ok} of 64 generated programs parse");
    }
}
