//! `skyc check FILE…|DIR`: the whole pipeline without output; findings and an exit code.

use crate::project::{options, print_diagnostics, EvalFlags};
use crate::Exit;
use std::path::PathBuf;

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum CheckFormat {
    #[default]
    Human,
    Json,
    /// SARIF 2.1.0, for code scanning tools.
    Sarif,
    /// GitHub Actions annotations (`::error file=…::…`).
    Github,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Entry files, or directories to search for `.sky` files that define `main`.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    flags: EvalFlags,
    /// Output format of the findings.
    #[arg(long, value_enum, default_value_t)]
    format: CheckFormat,
    /// Print the time each stage of the pipeline took on stderr (`timing: STAGE MS`).
    #[arg(long)]
    timings: bool,
    /// Evaluate every file, without taking results of unchanged files from the cache
    /// (`$SKYC_CACHE_DIR`, else `~/.cache/skyc`) or storing new ones.
    #[arg(long)]
    no_cache: bool,
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let opts = match options(&args.flags) {
        Ok(o) => skyc_core::Options { lint: true, ..o },
        Err(exit) => return exit,
    };
    let entries = match crate::project::entry_files(&args.paths, &opts) {
        Ok(e) => e,
        Err(exit) => return exit,
    };
    let cache = if args.no_cache {
        None
    } else {
        crate::cache::Cache::open()
    };
    let res = crate::project::compile_all_cached(&entries, &opts, cache.as_ref());
    crate::project::show_prints(&res, quiet);
    match args.format {
        CheckFormat::Human => {
            print_diagnostics(&res.diagnostics, &res.sources, quiet);
            if !quiet && !res.has_errors() {
                let cached = match res.cached {
                    0 => String::new(),
                    n => format!(" ({n} unchanged since the last check)"),
                };
                eprintln!(
                    "checked {} file{}: no errors{cached}",
                    entries.len(),
                    if entries.len() == 1 { "" } else { "s" }
                );
            }
        }
        CheckFormat::Json => print!("{}", skyc_diag::render::json(&res.diagnostics)),
        CheckFormat::Sarif => print!(
            "{}",
            skyc_diag::render::sarif(&res.diagnostics, env!("CARGO_PKG_VERSION"))
        ),
        CheckFormat::Github => print!("{}", skyc_diag::render::github(&res.diagnostics)),
    }
    if args.timings {
        crate::project::print_timings(&res.timings, &[]);
    }
    res.exit()
}
