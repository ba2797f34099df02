//! Replays the fuzzing regression corpus (`fuzz/regressions/<target>/*`, checked in) through the
//! harness of its target (`skyc_tests::fuzz`), so an input that once crashed stays fixed. Each
//! target's directory must exist and hold at least one file: a missing or empty directory fails
//! the test instead of silently testing nothing. See `fuzz/README.md`.
//!
//! Each input runs in a child process (the `fuzz-replay` binary of this package), so that an
//! abort — a stack overflow is one — fails the test that names the input instead of ending the
//! whole binary, and the other inputs and targets still run.

use skyc_tests::fuzz;
use std::path::{Path, PathBuf};
use std::process::Command;

type Harness = fn(&[u8]) -> fuzz::Summary;

const TARGETS: &[(&str, Harness)] = &[
    ("eval", fuzz::eval),
    ("import", fuzz::import),
    ("constructors", fuzz::constructors),
    ("diff", fuzz::diff),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn regressions(target: &str) -> Vec<PathBuf> {
    let dir = repo().join("fuzz/regressions").join(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "{} holds no regression inputs; each fuzz target needs at least one",
        dir.display()
    );
    files
}

/// Runs every regression input of `target` in a child process; fails naming each input that
/// panics or aborts.
fn replay(target: &str) {
    let mut failures = Vec::new();
    for path in regressions(target) {
        let out = Command::new(env!("CARGO_BIN_EXE_fuzz-replay"))
            .arg(target)
            .arg(&path)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            // The panic message or the abort, without the test harness's summary.
            let why: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with("note:"))
                .take(6)
                .collect();
            failures.push(format!(
                "fuzz/regressions/{target}/{} ({}):\n    {}",
                path.file_name().unwrap().to_string_lossy(),
                out.status,
                why.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} regression input(s) of `{target}` fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every target has a regression directory, and nothing else is there.
#[test]
fn every_target_has_regressions() {
    for (target, _) in TARGETS {
        assert!(!regressions(target).is_empty());
    }
    for entry in std::fs::read_dir(repo().join("fuzz/regressions")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            TARGETS.iter().any(|(t, _)| *t == name),
            "fuzz/regressions/{name} is not a fuzz target (known: eval, import, constructors, diff)"
        );
    }
}

#[test]
fn eval_regressions() {
    replay("eval");
}

#[test]
fn import_regressions() {
    replay("import");
}

#[test]
fn constructors_regressions() {
    replay("constructors");
}

#[test]
fn diff_regressions() {
    replay("diff");
}
