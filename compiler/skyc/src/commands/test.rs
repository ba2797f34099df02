//! `skyc test [PATH…]`: runs every `test_*` function in the `*_test.sky` files under the paths
//! (default: the current directory). Prints each test with its time, failures with the line
//! and both values, and writes a JUnit XML report with `--junit FILE`.

use crate::project::{
    check_entry_path, entry, options, print_diagnostics, show_prints, EvalFlags, Results,
};
use crate::Exit;
use skyc_core::testrun::{is_test_file, run_tests, TestFile};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Test files or directories to search for `*_test.sky` files [default: .].
    paths: Vec<PathBuf>,
    #[command(flatten)]
    flags: EvalFlags,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// The test files under the paths: `*_test.sky` files, and in projects that follow skycfg's
/// conventions, the main files (whose tests and whose loaded files' tests run together).
fn test_files(paths: &[PathBuf], opts: &skyc_core::Options) -> Result<Vec<PathBuf>, Exit> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut out = Vec::new();
    for p in &paths {
        if p.is_dir() {
            let files = crate::project::list_sources(p, opts).map_err(|e| {
                crate::usage_error(format!("cannot list {}: {e}", p.display()), None)
            })?;
            out.extend(
                files
                    .into_iter()
                    .filter(|f| {
                        let test = f
                            .path
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(is_test_file);
                        test || f.skycfg && crate::project::defines_main(&f.path)
                    })
                    .map(|f| {
                        f.path
                            .strip_prefix("./")
                            .map(Path::to_path_buf)
                            .unwrap_or(f.path)
                    }),
            );
        } else {
            if let Err(d) = check_entry_path(p) {
                print_diagnostics(&[d], &Default::default(), false);
                return Err(Exit::Usage);
            }
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn ms(d: std::time::Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn run(args: Args, quiet: bool) -> Exit {
    let opts = match options(&args.flags) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let files = match test_files(&args.paths, &opts) {
        Ok(f) => f,
        Err(exit) => return exit,
    };
    if files.is_empty() {
        return crate::usage_error(
            "no test files found",
            Some("tests live in files named `*_test.sky`, in functions named `test_*` (with skycfg's conventions, in the main files and the files they load)"),
        );
    }
    let mut results: Vec<TestFile> = Vec::new();
    let mut load_errors = false;
    let mut out = std::io::stdout().lock();
    for path in &files {
        let e = match entry(path) {
            Ok(e) => e,
            Err((d, source)) => {
                let mut sources = std::collections::BTreeMap::new();
                sources.extend(source);
                print_diagnostics(&[d], &sources, false);
                load_errors = true;
                continue;
            }
        };
        let mut o = opts.clone();
        o.config = e.config.clone();
        let file = run_tests(&e.world, &e.id, &o);
        let shown = path.display().to_string();
        if file.outcome.has_errors() {
            load_errors = true;
            print_diagnostics(&file.outcome.diagnostics, &file.outcome.sources, quiet);
        }
        for case in &file.cases {
            let status = if case.failure.is_some() {
                "FAIL"
            } else {
                "ok  "
            };
            let _ = writeln!(
                out,
                "{status} {shown}::{} ({})",
                case.name,
                ms(case.duration)
            );
            if case.failure.is_some() || !quiet {
                let res = Results {
                    prints: case.prints.clone(),
                    ..Results::default()
                };
                let _ = out.flush();
                show_prints(&res, quiet);
            }
            if let Some(f) = &case.failure {
                let _ = out.flush();
                let mut diags = vec![f.clone()];
                diags.extend(case.more.iter().cloned());
                print_diagnostics(&diags, &file.outcome.sources, false);
            }
        }
        results.push(file);
    }
    let total: usize = results.iter().map(|f| f.cases.len()).sum();
    let failed: usize = results
        .iter()
        .flat_map(|f| &f.cases)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        out,
        "\n{} passed, {failed} failed, in {} file{}",
        total - failed,
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    let _ = out.flush();
    if let Some(path) = &args.junit {
        if let Err(e) = write_junit(path, &results) {
            return crate::usage_error(
                format!("cannot write {}: {e}", path.display()),
                Some("check the path and its permissions"),
            );
        }
    }
    if failed > 0 || load_errors {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            c => out.push(c),
        }
    }
    out
}

/// A JUnit XML report: one `<testsuite>` per file, one `<testcase>` per test.
pub fn junit(results: &[TestFile]) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = results.iter().map(|f| f.cases.len()).sum();
    let failures: usize = results
        .iter()
        .flat_map(|f| &f.cases)
        .filter(|c| c.failure.is_some())
        .count();
    let time: f64 = results
        .iter()
        .flat_map(|f| &f.cases)
        .map(|c| c.duration.as_secs_f64())
        .sum();
    let _ = writeln!(
        x,
        "<testsuites name=\"skyc\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.6}\">"
    );
    for (i, f) in results.iter().enumerate() {
        let fails = f.cases.iter().filter(|c| c.failure.is_some()).count();
        let t: f64 = f.cases.iter().map(|c| c.duration.as_secs_f64()).sum();
        let _ = writeln!(
            x,
            "  <testsuite id=\"{i}\" name=\"{}\" tests=\"{}\" failures=\"{fails}\" errors=\"0\" skipped=\"0\" time=\"{t:.6}\">",
            xml_escape(&f.file),
            f.cases.len()
        );
        for c in &f.cases {
            let _ = write!(
                x,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.6}\"",
                xml_escape(&c.name),
                xml_escape(&f.file),
                c.duration.as_secs_f64()
            );
            match &c.failure {
                None => x.push_str("/>\n"),
                Some(d) => {
                    let at = d
                        .span
                        .as_ref()
                        .map(|s| format!("{}:{}:{}: ", s.file, s.start.line, s.start.column))
                        .unwrap_or_default();
                    let _ = writeln!(
                        x,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(d.message.lines().next().unwrap_or("")),
                        d.code,
                        xml_escape(&format!("{at}{}", d.message))
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

fn write_junit(path: &Path, results: &[TestFile]) -> std::io::Result<()> {
    std::fs::write(path, junit(results))
}
