//! `skyc check FILE…|DIR`: the whole pipeline without output; findings and an exit code.

use crate::project::{compile_all, options, print_diagnostics, EvalFlags};
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
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let opts = match options(&args.flags) {
        Ok(o) => skyc_core::Options { lint: true, ..o },
        Err(exit) => return exit,
    };
    let mut entries = Vec::new();
    for p in &args.paths {
        if p.is_dir() {
            match crate::project::list_sources(p, &opts) {
                Ok(files) => entries.extend(
                    files
                        .into_iter()
                        .map(|s| s.path)
                        .filter(|f| defines_main(f)),
                ),
                Err(e) => {
                    return crate::usage_error(format!("cannot list {}: {e}", p.display()), None)
                }
            }
        } else {
            entries.push(p.clone());
        }
    }
    let res = compile_all(&entries, &opts);
    crate::project::show_prints(&res, quiet);
    match args.format {
        CheckFormat::Human => {
            print_diagnostics(&res.diagnostics, &res.sources, quiet);
            if !quiet && !res.has_errors() {
                eprintln!(
                    "checked {} file{}: no errors",
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
    res.exit()
}

/// Entry files are those that define `main` (libraries and tests are checked through them).
fn defines_main(path: &std::path::Path) -> bool {
    let test = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_test.sky"));
    !test && crate::project::defines_main(path)
}
