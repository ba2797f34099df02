//! `skyc fmt [--check] FILE…|DIR`, `skyc fmt -`: rewrites `.sky` files in the canonical layout
//! (`skyc_core::fmt`; the style is in `docs/fmt.md`).

use crate::project::print_diagnostics;
use crate::Exit;
use skyc_diag::{codes, Diagnostic};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to format, or directories (every `.sky` file under them). `-` formats standard
    /// input to standard output.
    #[arg(required_unless_present = "stdin")]
    paths: Vec<PathBuf>,
    /// Write nothing: print a diff of each file that would change and exit 1 if any would.
    #[arg(long)]
    check: bool,
    /// Format standard input to standard output (for editors), like `-`.
    #[arg(long, conflicts_with = "paths")]
    stdin: bool,
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let dash = args.paths.iter().any(|p| p.as_os_str() == "-");
    if dash && args.paths.len() > 1 {
        return crate::usage_error(
            "`-` (standard input) cannot be combined with other paths",
            Some("run `skyc fmt -` on its own"),
        );
    }
    if args.stdin || dash {
        return stdin(args.check);
    }
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    let mut bad_invocation = false;
    for p in &args.paths {
        if p.is_dir() {
            match skyc_core::world::list_sky_files(p) {
                Ok(found) => files.extend(found),
                Err(e) => {
                    return crate::usage_error(format!("cannot list {}: {e}", p.display()), None)
                }
            }
        } else if p.exists() {
            files.push(p.clone());
        } else {
            bad_invocation = true;
            diagnostics.push(
                Diagnostic::new(codes::SKY0101, format!("`{}` not found", p.display()))
                    .with_help("pass .sky files or directories"),
            );
        }
    }
    let mut sources: BTreeMap<String, Arc<str>> = BTreeMap::new();
    let (mut changed, mut failed) = (0, 0);
    for path in &files {
        let name = path.display().to_string();
        let text = match skyc_core::world::read_input(path) {
            Ok(t) => t,
            Err(e) => {
                failed += 1;
                diagnostics.push(Diagnostic::new(
                    codes::SKY0107,
                    format!("cannot read `{name}`: {e}"),
                ));
                continue;
            }
        };
        sources.insert(name.clone(), text.clone());
        let formatted = match skyc_core::fmt::format(&name, &text) {
            Ok(f) => f,
            Err(d) => {
                failed += 1;
                diagnostics.push(d);
                continue;
            }
        };
        if formatted == *text {
            continue;
        }
        changed += 1;
        if args.check {
            let diff = skyc_core::fmt::unified_diff(
                &name,
                &format!("{name} (formatted)"),
                &text,
                &formatted,
            );
            let _ = std::io::stdout().write_all(diff.as_bytes());
            diagnostics.push(skyc_core::fmt::not_formatted(&name, &text, &formatted));
        } else if let Err(e) = write_atomically(path, &formatted) {
            changed -= 1;
            failed += 1;
            diagnostics.push(
                Diagnostic::new(codes::SKY0003, format!("cannot write `{name}`: {e}"))
                    .with_help("the file was left as it was"),
            );
        } else if !quiet {
            eprintln!("formatted {name}");
        }
    }
    print_diagnostics(&diagnostics, &sources, quiet);
    if !quiet && !bad_invocation {
        let unchanged = files.len() - changed - failed;
        let files = |n: usize| format!("{n} file{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if changed > 0 {
            parts.push(if args.check {
                format!("{} would be reformatted", files(changed))
            } else {
                format!("{} reformatted", files(changed))
            });
        }
        if unchanged > 0 || parts.is_empty() {
            parts.push(format!("{} already formatted", files(unchanged)));
        }
        if failed > 0 {
            parts.push(format!("{} could not be formatted", files(failed)));
        }
        eprintln!("{}", parts.join(", "));
    }
    if bad_invocation {
        Exit::Usage
    } else if failed > 0 || (args.check && changed > 0) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

/// Formats standard input to standard output; with `check`, prints the diff instead.
fn stdin(check: bool) -> Exit {
    let name = "<stdin>";
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        let d = Diagnostic::new(codes::SKY0107, format!("cannot read standard input: {e}"));
        print_diagnostics(&[d], &BTreeMap::new(), false);
        return Exit::Findings;
    }
    match skyc_core::fmt::format(name, &text) {
        Ok(formatted) if check => {
            if formatted == text {
                return Exit::Ok;
            }
            let diff = skyc_core::fmt::unified_diff(
                name,
                &format!("{name} (formatted)"),
                &text,
                &formatted,
            );
            let _ = std::io::stdout().write_all(diff.as_bytes());
            let d = skyc_core::fmt::not_formatted(name, &text, &formatted);
            print_diagnostics(
                &[d],
                &BTreeMap::from([(name.to_string(), Arc::from(text.as_str()))]),
                false,
            );
            Exit::Findings
        }
        Ok(formatted) => {
            let _ = std::io::stdout().write_all(formatted.as_bytes());
            Exit::Ok
        }
        Err(d) => {
            print_diagnostics(
                &[d],
                &BTreeMap::from([(name.to_string(), Arc::from(text.as_str()))]),
                false,
            );
            Exit::Findings
        }
    }
}

/// Replaces a file's content through a temporary file in the same directory and a rename, so
/// the file is never half written; keeps its permissions. A symlink's target is rewritten.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.skyc-fmt-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::metadata(&target)?.permissions())?;
        std::fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
