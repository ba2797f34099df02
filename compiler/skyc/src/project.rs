//! Shared by the commands: flags for variables and limits, finding the project and its
//! `sky.toml`, compiling entry files, printing diagnostics.

use clap::Args as ClapArgs;
use skyc_core::world::{read_input, DiskWorld};
use skyc_core::{compile, Config, LimitOverrides, Options, Outcome};
use skyc_diag::render::{human, HumanOptions};
use skyc_diag::{codes, Diagnostic, Severity};
use std::collections::{BTreeMap, HashMap};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Flags shared by every command that evaluates files.
#[derive(ClapArgs, Debug, Clone, Default)]
pub struct EvalFlags {
    /// Set a variable for `ctx.vars` (repeatable): `--var cluster=northwest`.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// Read variables from a YAML, JSON or TOML file of strings.
    #[arg(long = "vars-file", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Maximum evaluation steps (function calls plus loop iterations) [default: 10000000].
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Maximum Starlark heap, e.g. 512M or 2G [default: 512M].
    #[arg(long, value_name = "SIZE")]
    pub max_heap: Option<String>,
    /// Maximum wall time of one entry file's evaluation, in seconds [default: 10].
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub max_time: Option<f64>,
    /// Maximum depth of nested calls [default: 100].
    #[arg(long, value_name = "N")]
    pub max_call_depth: Option<usize>,
    /// Run configurations written for another tool as it would: `skycfg` resolves `load()`
    /// paths from the main file's directory and reads `.cfg` files (docs/skycfg.md). The same
    /// as `[language] compat` in sky.toml.
    #[arg(long, value_enum, value_name = "TOOL")]
    pub compat: Option<CompatFlag>,
}

/// The values of `--compat`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompatFlag {
    /// Stripe's skycfg.
    Skycfg,
}

/// One entry file to compile, in its project.
pub struct Entry {
    pub world: DiskWorld,
    pub id: String,
    pub config: Config,
    /// The project's `sky.toml`, when it has one.
    pub toml: Option<NamedText>,
}

/// A file's display name and text.
pub type NamedText = (String, Arc<str>);

/// What the entry files of one command share, found once: each directory's resolved path
/// and project root, and each project's world and `sky.toml`. (Files are taken not to change
/// while a command runs.) A thousand entry files in one directory each resolved it, looked
/// for `sky.toml` above it, and read and parsed that `sky.toml`: most of the system calls of a
/// `skyc check` that finds them all in its cache.
#[derive(Default)]
pub struct Projects {
    /// By an entry's directory as given: (that directory resolved, its project root).
    dirs: std::sync::Mutex<HashMap<PathBuf, (PathBuf, PathBuf)>>,
    /// By project root.
    setups: std::sync::Mutex<HashMap<PathBuf, Arc<Setup>>>,
}

/// A project's world and configuration, or why it could not be set up.
struct Setup {
    world: Result<DiskWorld, Diagnostic>,
    config: Result<(Config, Option<NamedText>), EntryError>,
}

impl Projects {
    /// The resolved directory of `entry` and its project root.
    fn dir(&self, entry: &Path) -> (PathBuf, PathBuf) {
        let given = entry.parent().unwrap_or(Path::new("")).to_path_buf();
        if let Some(known) = lock(&self.dirs).get(&given) {
            return known.clone();
        }
        let dir = DiskWorld::directory_of(entry);
        let root = DiskWorld::root_above(&dir);
        lock(&self.dirs).insert(given, (dir.clone(), root.clone()));
        (dir, root)
    }

    /// The project root of `entry` (see [`DiskWorld::find_root`]).
    pub fn root(&self, entry: &Path) -> PathBuf {
        self.dir(entry).1
    }

    fn setup(&self, root: &Path) -> Arc<Setup> {
        if let Some(known) = lock(&self.setups).get(root) {
            return known.clone();
        }
        let setup = Arc::new(Setup::new(root));
        lock(&self.setups).insert(root.to_path_buf(), setup.clone());
        setup
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Setup {
    fn new(root: &Path) -> Setup {
        let cwd = std::env::current_dir().ok();
        let world = DiskWorld::new(root, cwd.as_deref()).map_err(|e| {
            Diagnostic::new(
                codes::SKY0107,
                format!("cannot open project root {}: {e}", root.display()),
            )
        });
        let config = match &world {
            Ok(world) => read_config(world, root),
            Err(d) => Err((d.clone(), None)),
        };
        Setup { world, config }
    }
}

/// The project's configuration and `sky.toml` (display name, text), read through `world`.
fn read_config(world: &DiskWorld, root: &Path) -> Result<(Config, Option<NamedText>), EntryError> {
    if !root.join("sky.toml").is_file() {
        return Ok((Config::default(), None));
    }
    let display = world.display_name("sky.toml");
    let text = world.read("sky.toml").map_err(|e| {
        (
            skyc_core::eval::read_error(
                &skyc_core::FileId::Project("sky.toml".into()),
                &display,
                e,
                None,
            ),
            None,
        )
    })?;
    let config =
        Config::parse(&display, &text).map_err(|d| (d, Some((display.clone(), text.clone()))))?;
    Ok((config, Some((display, text))))
}

/// Collected results of a command over several entry files.
#[derive(Default)]
pub struct Results {
    pub outcomes: Vec<Outcome>,
    /// The entry file of each outcome, as the command line named it (or as a directory
    /// argument listed it).
    pub entries: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub sources: BTreeMap<String, Arc<str>>,
    /// An entry path on the command line was missing or not a file.
    pub bad_invocation: bool,
    /// `print()` output of the evaluated files.
    pub prints: Vec<String>,
    /// The pipeline's stages, summed over the entry files.
    pub timings: skyc_core::Timings,
    /// How many entry files' outcomes came from the cache.
    pub cached: usize,
}

impl Results {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// How the command ends: 2 for a bad command line (an entry path that is not a file) or
    /// an internal error, 1 for findings in the sources, 0 when clean.
    pub fn exit(&self) -> crate::Exit {
        if self.bad_invocation || self.diagnostics.iter().any(|d| d.code == "SKY0002") {
            crate::Exit::Usage
        } else if self.has_errors() {
            crate::Exit::Findings
        } else {
            crate::Exit::Ok
        }
    }
}

fn usage(msg: String, help: &str) -> Diagnostic {
    Diagnostic::new(codes::SKY0001, msg).with_help(help)
}

/// Parses the variable and limit flags (before any project is known); on bad flags, prints
/// the usage diagnostics and returns the usage exit.
pub fn options(flags: &EvalFlags) -> Result<Options, crate::Exit> {
    parse_options(flags).map_err(|diags| {
        print_diagnostics(&diags, &Default::default(), false);
        crate::Exit::Usage
    })
}

fn parse_options(flags: &EvalFlags) -> Result<Options, Vec<Diagnostic>> {
    let mut errs = Vec::new();
    let mut vars = BTreeMap::new();
    if let Some(f) = &flags.vars_file {
        match read_vars_file(f) {
            Ok(v) => vars.extend(v),
            Err(d) => errs.push(d),
        }
    }
    for v in &flags.vars {
        match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => {
                vars.insert(k.trim().to_string(), val.to_string());
            }
            _ => errs.push(usage(
                format!("invalid --var `{v}`"),
                "write --var KEY=VALUE, e.g. --var cluster=northwest",
            )),
        }
    }
    let max_heap = match &flags.max_heap {
        Some(s) => match skyc_core::config::parse_byte_size(s)
            .and_then(skyc_core::config::check_memory_limit)
        {
            Ok(n) => Some(n),
            Err(e) => {
                errs.push(usage(
                    format!("invalid --max-heap: {e}"),
                    "e.g. --max-heap 1G",
                ));
                None
            }
        },
        None => None,
    };
    if let Some(t) = flags.max_time {
        if !(t.is_finite() && t > 0.0) {
            errs.push(usage(
                format!("invalid --max-time {t}"),
                "give a positive number of seconds",
            ));
        }
    }
    if flags.max_steps == Some(0) || flags.max_call_depth == Some(0) {
        errs.push(usage(
            "limits must be positive".into(),
            "give a number above zero",
        ));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Options {
        vars,
        limits: LimitOverrides {
            max_steps: flags.max_steps,
            max_heap,
            max_time_seconds: flags.max_time,
            max_call_depth: flags.max_call_depth,
        },
        config: Config::default(),
        lint: false,
        compat: flags.compat.map(|c| match c {
            CompatFlag::Skycfg => skyc_core::config::Compat::Skycfg,
        }),
    })
}

fn read_vars_file(path: &Path) -> Result<BTreeMap<String, String>, Diagnostic> {
    let name = path.display().to_string();
    let text = read_input(path).map_err(|e| {
        Diagnostic::new(
            codes::SKY0107,
            format!("cannot read vars file `{name}`: {e}"),
        )
        .with_help("the path is relative to the current directory")
    })?;
    let is_toml = path.extension().is_some_and(|e| e == "toml");
    let value: serde_json::Value = if is_toml {
        toml::from_str(&text).map_err(|e| {
            usage(
                format!("invalid vars file {name}: {}", e.message()),
                "the file must be a table of strings",
            )
        })?
    } else {
        serde_norway::from_str(&text).map_err(|e| {
            usage(
                format!("invalid vars file {name}: {e}"),
                "the file must be a mapping of strings",
            )
        })?
    };
    let Some(map) = value.as_object() else {
        return Err(usage(
            format!("vars file {name} must be a mapping of names to strings"),
            "e.g. `cluster: northwest`",
        ));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        match v {
            serde_json::Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            other => {
                return Err(usage(
                    format!("variable `{k}` in {name} is {other}, not a string"),
                    "quote the value: variables are strings",
                ))
            }
        }
    }
    Ok(out)
}

/// Checks that an entry path named on the command line is a file.
pub fn check_entry_path(path: &Path) -> Result<(), Diagnostic> {
    let name = path.display().to_string();
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(
            Diagnostic::new(codes::SKY0107, format!("`{name}` is not a file"))
                .with_help("pass a .sky entry file"),
        ),
        Err(_) => Err(
            Diagnostic::new(codes::SKY0101, format!("file `{name}` not found"))
                .with_help("check the path (relative to the current directory)"),
        ),
    }
}

/// A source file found under a directory, and whether skycfg's conventions apply to it.
pub struct Source {
    pub path: PathBuf,
    pub skycfg: bool,
}

/// The source files under a directory, sorted: `*.sky`, and `*.cfg` where skycfg's
/// conventions apply (`--compat skycfg`, or `[language] compat = "skycfg"` in the file's
/// project). A project whose `sky.toml` does not parse counts as a plain skyc project; its
/// entries report the error.
pub fn list_sources(dir: &Path, opts: &Options) -> std::io::Result<Vec<Source>> {
    let flag = opts.skycfg();
    let mut projects: BTreeMap<PathBuf, bool> = BTreeMap::new();
    let roots = Projects::default();
    let mut out = Vec::new();
    for path in skyc_core::world::list_files(dir, &["sky", "cfg"])? {
        let root = roots.root(&path);
        let skycfg = flag
            || *projects.entry(root).or_insert_with_key(|root| {
                std::fs::read_to_string(root.join("sky.toml"))
                    .ok()
                    .and_then(|t| Config::parse("sky.toml", &t).ok())
                    .is_some_and(|c| c.language.compat == Some(skyc_core::config::Compat::Skycfg))
            });
        if skycfg || path.extension().is_some_and(|e| e == "sky") {
            out.push(Source { path, skycfg });
        }
    }
    Ok(out)
}

/// Whether a source file defines `main` (an entry file rather than a library or a test).
pub fn defines_main(path: &Path) -> bool {
    read_input(path).is_ok_and(|t| t.lines().any(|l| l.starts_with("def main(")))
}

/// Why an entry could not be set up, with the `sky.toml` source (name, text) when it was read.
pub type EntryError = (Diagnostic, Option<NamedText>);

/// An entry file named on the command line, set up: [`check_entry_path`], then [`entry`].
/// On error, the diagnostic goes into `res` (with the `sky.toml` source, and a bad command
/// line noted when the path is not a file).
pub fn open_entry(path: &Path, res: &mut Results) -> Option<Entry> {
    open_entry_in(path, res, &Projects::default())
}

/// [`open_entry`], with what entry files share found once in `projects`.
pub fn open_entry_in(path: &Path, res: &mut Results, projects: &Projects) -> Option<Entry> {
    if let Err(d) = check_entry_path(path) {
        res.diagnostics.push(d);
        res.bad_invocation = true;
        return None;
    }
    match entry_in(path, projects) {
        Ok(e) => Some(e),
        Err((d, source)) => {
            res.diagnostics.push(d);
            res.sources.extend(source);
            None
        }
    }
}

/// Finds the project of an entry file and reads its `sky.toml`. On error, also returns the
/// `sky.toml` text (if it was read) so the diagnostic can show it.
pub fn entry(path: &Path) -> Result<Entry, EntryError> {
    entry_in(path, &Projects::default())
}

/// [`entry`], with what entry files share found once in `projects`.
pub fn entry_in(path: &Path, projects: &Projects) -> Result<Entry, EntryError> {
    let name = path.display().to_string();
    let (dir, root) = projects.dir(path);
    let setup = projects.setup(&root);
    let world = setup.world.as_ref().map_err(|d| (d.clone(), None))?;
    let id = world.file_id_in(&dir, path).ok_or_else(|| {
        (
            Diagnostic::new(
                codes::SKY0103,
                format!("`{name}` is outside its project root (a symbolic link out of it?)"),
            )
            .with_help("render files that live in the project: the directory with sky.toml, or the entry file's directory"),
            None,
        )
    })?;
    let (config, toml) = setup.config.clone()?;
    Ok(Entry {
        world: world.clone(),
        id,
        config,
        toml,
    })
}

use skyc_core::World;

/// The custom resources of the project around `file` (the nearest `sky.toml` above it, which
/// need not exist yet): the index (`None` without `sky.toml` or `[crds] paths`), and the
/// problems of reading `sky.toml` and the CRD files.
pub fn project_crds(file: &Path) -> (Option<Arc<skyc_core::CrdIndex>>, Vec<Diagnostic>) {
    let root = DiskWorld::find_root(file);
    let Ok(text) = std::fs::read_to_string(root.join("sky.toml")) else {
        return (None, Vec::new());
    };
    let config = match Config::parse("sky.toml", &text) {
        Ok(c) => c,
        Err(d) => return (None, vec![d]),
    };
    let cwd = std::env::current_dir().ok();
    match DiskWorld::new(&root, cwd.as_deref()) {
        Ok(world) => skyc_core::load_crds(&world, &config),
        Err(_) => (None, Vec::new()),
    }
}

/// Checks `--cluster NAME` before anything is compiled: a DNS label, and one of the clusters
/// that each entry's project declares in `sky.toml` (a project that declares none takes any
/// name). Entries that cannot be set up are left to `compile_all` to report. On a bad name,
/// prints a usage diagnostic and returns the usage exit.
pub fn check_cluster(paths: &[PathBuf], name: &str) -> Result<(), crate::Exit> {
    let problem = match skyc_core::clusters::check_name(name) {
        Err(why) => Some(usage(
            format!("invalid --cluster `{name}`: {why}"),
            "cluster names are DNS labels, e.g. --cluster k8s-west",
        )),
        Ok(()) => paths
            .iter()
            .filter(|p| check_entry_path(p).is_ok())
            .filter_map(|p| entry(p).ok())
            .find_map(|e| {
                let declared = &e.config.clusters.names;
                if declared.is_empty() || declared.contains(&name.to_string()) {
                    return None;
                }
                let list = declared.join(", ");
                let toml = e.world.display_name("sky.toml");
                let help = match skyc_diag::did_you_mean(name, declared.iter().map(String::as_str))
                {
                    Some(s) => format!("did you mean `{s}`? {toml} declares: {list}"),
                    None => format!("{toml} declares: {list}"),
                };
                Some(usage(
                    format!("unknown cluster `{name}`: it is not declared in {toml}"),
                    &help,
                ))
            }),
    };
    match problem {
        Some(d) => {
            print_diagnostics(&[d], &Default::default(), false);
            Err(crate::Exit::Usage)
        }
        None => Ok(()),
    }
}

/// Compiles each entry file, collecting everything.
pub fn compile_all(paths: &[PathBuf], opts: &Options) -> Results {
    compile_all_cached(paths, opts, None)
}

/// [`compile_all`], taking results from `cache` where nothing they depend on changed (and
/// storing new ones there).
pub fn compile_all_cached(
    paths: &[PathBuf],
    opts: &Options,
    cache: Option<&crate::cache::Cache>,
) -> Results {
    // Entry files are independent: they are compiled in parallel, and their results are put
    // together in the order of `paths`, so the output is the same as a serial run's.
    let projects = Projects::default();
    let one = |p: &PathBuf| -> One {
        let mut one = One::default();
        let Some(e) = open_entry_in(p, &mut one.res, &projects) else {
            return one;
        };
        if let Some((name, text)) = &e.toml {
            one.res.sources.insert(name.clone(), text.clone());
        }
        let mut o = opts.clone();
        o.config = e.config.clone();
        let Some(cache) = cache else {
            one.outcome = Some(compile(&e.world, &e.id, &o));
            return one;
        };
        let key = cache.key(&e.world, &e.id, &o);
        if let Some(out) = cache.get(&e.world, &key) {
            one.cached = true;
            one.outcome = Some(out);
            return one;
        }
        let out = compile(&e.world, &e.id, &o);
        cache.put(&e.world, &key, &out);
        one.outcome = Some(out);
        one
    };
    let mut res = Results::default();
    let jobs = jobs().min(paths.len()).max(1);
    skyc_core::memory::set_jobs(jobs);
    let all = parallel_map(paths, jobs, one);
    // No evaluation runs any more: what follows (emit, writing the output) may use the cores.
    skyc_core::memory::set_jobs(1);
    for (path, one) in paths.iter().zip(all) {
        res.diagnostics.extend(one.res.diagnostics);
        res.sources.extend(one.res.sources);
        res.bad_invocation |= one.res.bad_invocation;
        res.cached += usize::from(one.cached);
        if let Some(out) = one.outcome {
            res.diagnostics.extend(out.diagnostics.iter().cloned());
            res.prints.extend(out.prints.iter().cloned());
            res.sources
                .extend(out.sources.iter().map(|(k, v)| (k.clone(), v.clone())));
            res.timings.merge(&out.timings);
            res.outcomes.push(out);
            res.entries.push(path.display().to_string());
        }
    }
    skyc_diag::normalize(&mut res.diagnostics);
    res
}

/// What compiling one entry file gave.
#[derive(Default)]
struct One {
    /// Problems setting the entry up (its diagnostics, sources and bad command line only).
    res: Results,
    /// The outcome came from the cache.
    cached: bool,
    outcome: Option<Outcome>,
}

/// How many entry files are compiled at once: `SKYC_JOBS` when set (1 for a serial run),
/// else one per core.
pub fn jobs() -> usize {
    std::env::var("SKYC_JOBS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` over `items` on up to `jobs` threads; the results in the order of `items`.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let jobs = jobs.min(items.len());
    if jobs <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let work = || {
        // The workers evaluate, so they get the command thread's big stack.
        skyc_core::eval::mark_big_stack(crate::STACK_BYTES);
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            let r = f(item);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        }
    };
    std::thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..jobs {
            let ok = std::thread::Builder::new()
                .name("skyc-job".into())
                .stack_size(crate::STACK_BYTES)
                .spawn_scoped(scope, work)
                .is_ok();
            spawned += usize::from(ok);
        }
        if spawned == 0 {
            // No thread could be made: do the work here.
            work();
        }
    });
    slots
        .into_iter()
        .map(|s| {
            s.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every item was computed")
        })
        .collect()
}

/// The entry files of a command line: files as given, and for each directory the `.sky` files
/// under it that define `main` (not `*_test.sky`), sorted.
pub fn entry_files(paths: &[PathBuf], opts: &Options) -> Result<Vec<PathBuf>, crate::Exit> {
    let mut entries = Vec::new();
    for p in paths {
        if p.is_dir() {
            match list_sources(p, opts) {
                Ok(files) => {
                    let before = entries.len();
                    entries.extend(
                        files
                            .into_iter()
                            .map(|s| s.path)
                            .filter(|f| is_entry_file(f)),
                    );
                    if entries.len() == before {
                        // Rendering or checking nothing would look like success.
                        return Err(crate::usage_error(
                            format!(
                                "`{}` is a directory with no entry file (a .sky file that defines `main`)",
                                p.display()
                            ),
                            Some("pass entry files, or a directory that holds some"),
                        ));
                    }
                }
                Err(e) => {
                    return Err(crate::usage_error(
                        format!("cannot list {}: {e}", p.display()),
                        None,
                    ))
                }
            }
        } else {
            entries.push(p.clone());
        }
    }
    Ok(entries)
}

/// Entry files are those that define `main` (libraries and tests are checked through them).
fn is_entry_file(path: &Path) -> bool {
    let test = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_test.sky"));
    !test && defines_main(path)
}

/// Prints `timing: STAGE MS` lines on stderr (`--timings`): the pipeline's stages summed over
/// the entry files, then `extra` (the command's own stages, like emit and write), then the
/// whole process so far. Stages on threads of their own overlap: entry files rendered in
/// parallel, and the lowering and checks of a file's objects when there are many (they run
/// while its evaluation converts the next ones).
pub fn print_timings(t: &skyc_core::Timings, extra: &[(&'static str, std::time::Duration)]) {
    let mut err = std::io::stderr().lock();
    for (stage, d) in t.0.iter().chain(extra) {
        let _ = writeln!(err, "timing: {stage} {:.3}ms", d.as_secs_f64() * 1e3);
    }
    let _ = writeln!(
        err,
        "timing: total {:.3}ms",
        crate::started().elapsed().as_secs_f64() * 1e3
    );
}

/// Whether stderr gets colors (`NO_COLOR` unset and a terminal).
pub fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Prints diagnostics in the human format to stderr.
/// Shows what the evaluated files printed (on stderr, so stdout stays the rendered output).
pub fn show_prints(res: &Results, quiet: bool) {
    if quiet || res.prints.is_empty() {
        return;
    }
    let mut err = std::io::stderr().lock();
    for line in &res.prints {
        let _ = writeln!(err, "print: {line}");
    }
}

pub fn print_diagnostics(diags: &[Diagnostic], sources: &BTreeMap<String, Arc<str>>, quiet: bool) {
    let shown: Vec<Diagnostic> = diags
        .iter()
        .filter(|d| !quiet || d.severity == Severity::Error)
        .cloned()
        .collect();
    if shown.is_empty() {
        return;
    }
    let lookup = |f: &str| {
        sources.get(f).cloned().or_else(|| {
            f.strip_prefix("@stdlib//")
                .and_then(skyc_stdlib::module)
                .map(Arc::from)
        })
    };
    let text = human(
        &shown,
        &lookup,
        HumanOptions {
            color: color(),
            width: 100,
        },
    );
    let _ = std::io::stderr().write_all(text.as_bytes());
}
