//! The `skyc` command line: parses flags, runs the pipeline, renders diagnostics, writes output.
//! This is the only crate that prints or writes files.

// Diagnostics are the error type throughout; they are built once per finding, not on a hot path.
#![allow(clippy::result_large_err)]

mod cache;
mod commands;
mod lsp;
mod memory;
mod project;

use clap::{Parser, Subcommand};
use skyc_diag::{codes, Diagnostic};
use std::io::Write;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: compiling builds and drops many small values
/// (syntax trees, Starlark heaps, JSON objects), and glibc's malloc spent a fifth of a check in
/// its slow paths (`benches/lsp_latency.rs` measures the difference). Counted, so that the
/// memory limit holds for the whole process (`memory.rs`).
#[global_allocator]
static ALLOCATOR: memory::Counting = memory::Counting;

/// skyc: typed, sandboxed Starlark that compiles to validated Kubernetes manifests.
#[derive(Parser, Debug)]
#[command(name = "skyc", version, about, long_about = None, arg_required_else_help = true)]
struct Cli {
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate entry files and emit their objects (YAML stream by default).
    Render(commands::render::Args),
    /// Parse, typecheck, evaluate and validate; write nothing. Exit 0 clean, 1 findings.
    Check(commands::check::Args),
    /// List the files an entry file depends on (its loads, transitively, and `sky.toml`), for
    /// build systems; `--format json` adds a digest of their contents.
    Deps(commands::deps::Args),
    /// Print the documentation of a diagnostic code (e.g. `skyc explain SKY0203`).
    Explain(commands::explain::Args),
    /// Run the `test_*` functions of `*_test.sky` files.
    Test(commands::test::Args),
    /// Compare two renders (or the entry files at a git revision and now): added, removed,
    /// renamed and changed objects, with the fields that changed.
    Diff(commands::diff::Args),
    /// Turn Kubernetes YAML (or cron entries of the old job runner) into `.sky` source that
    /// renders the same objects, using stdlib functions where they generate them exactly.
    Import(commands::import::Args),
    /// Run the language server for editors (stdio): diagnostics of the whole pipeline, hover,
    /// completion, go to definition.
    Lsp(commands::lsp::Args),
    /// Rewrite `.sky` files in the canonical layout (`--check`: only report, with a diff;
    /// `-`: standard input to standard output).
    Fmt(commands::fmt::Args),
    /// Show the documentation of a stdlib function, with the objects a minimal call generates
    /// (`skyc doc service`), or of a typed constructor and its fields (`skyc doc k8s.apps.v1.Deployment`).
    Doc(commands::doc::Args),
    /// Print a shell completion script (`skyc completions bash > ~/.local/share/bash-completion/completions/skyc`).
    Completions(commands::completions::Args),
    /// Print the man page (roff), or write one page per command with `--out-dir DIR`.
    Man(commands::man::Args),
    /// Panics on purpose, so tests can check that a panic is reported as SKY0002 (exit 2).
    #[command(name = "internal-test-panic", hide = true)]
    InternalTestPanic,
}

/// The stack of the thread commands run on (see `main`).
pub const STACK_BYTES: usize = 1 << 30;

/// How a command ended.
pub enum Exit {
    Ok,
    Findings,
    Usage,
}

/// When the process started (`--timings` reports the total from here).
pub fn started() -> std::time::Instant {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *STARTED.get_or_init(std::time::Instant::now)
}

fn main() -> ExitCode {
    started();
    // A panic anywhere is an internal error (exit 2), reported as a coded diagnostic.
    std::panic::set_hook(Box::new(|info| {
        if skyc_core::eval::panics_are_caught() {
            // The evaluation turns it into a diagnostic at the line that caused it.
            return;
        }
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "error[SKY0002]: internal error: {msg}{loc}\n  = help: this is a bug in skyc; please report it with the input that triggers it"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // A usage error gets its code like every other diagnostic.
            let text = e.render().to_string();
            let text = text.replacen("error:", "error[SKY0001]:", 1);
            let _ = write!(std::io::stderr(), "{text}");
            return ExitCode::from(2);
        }
    };
    let quiet = cli.quiet;
    memory::install(!matches!(cli.command, Command::Lsp(_)));
    if matches!(
        cli.command,
        Command::Render(_) | Command::Check(_) | Command::Test(_) | Command::Diff(_)
    ) {
        skyc_core::prewarm();
    }
    // The command runs on a thread with a large stack: Starlark writes out (`str()`) and
    // freezes values recursively, so a value nested a hundred thousand levels deep needs more
    // than the main thread's 8 MiB. Only the pages used become resident.
    let command = move || match cli.command {
        Command::Render(a) => commands::render::run(a, quiet),
        Command::Check(a) => commands::check::run(a, quiet),
        Command::Explain(a) => commands::explain::run(a),
        Command::Deps(a) => commands::deps::run(a),
        Command::Doc(a) => commands::doc::run(a),
        Command::Completions(a) => commands::completions::run(a),
        Command::Man(a) => commands::man::run(a, quiet),
        Command::Diff(a) => commands::diff::run(a, quiet),
        Command::Test(a) => commands::test::run(a, quiet),
        Command::Import(a) => commands::import::run(a, quiet),
        Command::Fmt(a) => commands::fmt::run(a, quiet),
        Command::Lsp(a) => commands::lsp::run(a),
        Command::InternalTestPanic => panic!("internal-test-panic was asked to panic"),
    };
    let result = std::thread::Builder::new()
        .name("skyc".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            skyc_core::eval::mark_big_stack(STACK_BYTES);
            std::panic::catch_unwind(command)
        })
        .map_err(|_| ())
        .and_then(|t| t.join().map_err(|_| ()))
        .unwrap_or(Err(Box::new(())));
    let code = match result {
        Ok(Exit::Ok) => 0,
        Ok(Exit::Findings) => 1,
        Ok(Exit::Usage) | Err(_) => 2,
    };
    // The command is done and its thread has ended: what it wrote is flushed, and the process
    // ends without returning. Returning runs the allocator's clean-up at exit, which hands its
    // memory back to the system page by page (4% of a render at N=10) when the end of the
    // process frees all of it anyway.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    memory::end(code)
}

/// Prints a usage error and returns the usage exit.
pub fn usage_error(msg: impl Into<String>, help: Option<&str>) -> Exit {
    let mut d = Diagnostic::new(codes::SKY0001, msg);
    if let Some(h) = help {
        d = d.with_help(h);
    }
    project::print_diagnostics(&[d], &Default::default(), false);
    Exit::Usage
}
