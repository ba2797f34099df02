//! Command-line tests: every `tests/cli/*.case` file at the workspace root is a small project
//! and a command line. The test writes the project into a temporary directory, runs the
//! `skyc` binary there, and snapshots the exit code, stdout, stderr and the files the command
//! wrote (in `tests/snapshots/cli/`).
//!
//! Case format:
//! ```text
//! # free comment lines
//! args: render main.sky -o out
//! --- main.sky
//! def main(ctx): ...
//! --- sky.toml
//! ...
//! ```
//! Further `args:` lines run more commands in the same directory, one after the other (e.g. a
//! good render, then a bad one that must leave the first output in place). `sh:` lines run a
//! shell command at that point (setup such as `git init`; it must succeed, its output is not
//! part of the snapshot), e.g. `git commit`, or `cp` to change a file between steps; `$SKYC_BIN`
//! is the binary under test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

enum Step {
    Skyc(Vec<String>),
    Sh(String),
}

struct Case {
    runs: Vec<Step>,
    files: Vec<(String, String)>,
}

fn parse_case(text: &str) -> Case {
    let mut runs = Vec::new();
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("--- ") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        } else if let Some(args) = line.strip_prefix("args:") {
            runs.push(Step::Skyc(split_args(args.trim())));
        } else if let Some(cmd) = line.strip_prefix("sh:") {
            runs.push(Step::Sh(cmd.trim().to_string()));
        }
    }
    Case { runs, files }
}

/// Splits on spaces, keeping 'single-quoted' words together.
fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn list_files(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.file_name().is_some_and(|n| n == ".git") {
            continue;
        }
        let rel = p
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if p.is_dir() {
            out.insert(format!("{rel}/"));
            list_files(root, &p, out);
        } else {
            out.insert(rel);
        }
    }
}

/// `src/main.rs:94` → `src/main.rs:…`.
fn mask_source_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(".rs:") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('…');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Masks what changes from run to run (test durations `(1.2 ms)`, JUnit `time="…"`) or with
/// every edit of skyc's sources (the line of a panic, `main.rs:94`).
fn mask_times(text: &str) -> String {
    let masked = mask_timing_lines(&mask_source_lines(text));
    let text: &str = &masked;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let ms = rest.find(" ms)");
        let time = rest.find("time=\"");
        match (ms, time) {
            (Some(i), t) if t.is_none_or(|t| i < t) => {
                let start = rest[..i]
                    .rfind('(')
                    .filter(|&p| {
                        rest[p + 1..i]
                            .chars()
                            .all(|c| c.is_ascii_digit() || c == '.')
                    })
                    .unwrap_or(i);
                out.push_str(&rest[..start]);
                out.push_str(if start < i { "(… ms)" } else { " ms)" });
                rest = &rest[i + 4..];
            }
            (_, Some(t)) => {
                let after = t + 6;
                let end = rest[after..].find('"').map_or(after, |e| after + e);
                out.push_str(&rest[..after]);
                out.push('…');
                rest = &rest[end..];
            }
            _ => break,
        }
    }
    out.push_str(rest);
    out
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `timing: STAGE 1.234ms` (`--timings`) becomes `timing: STAGE …ms`.
fn mask_timing_lines(text: &str) -> String {
    text.split_inclusive('\n')
        .map(|line| match line.strip_prefix("timing: ") {
            Some(rest) if line.trim_end().ends_with("ms") => {
                let stage = rest.split(' ').next().unwrap_or("");
                format!("timing: {stage} …ms\n")
            }
            _ => line.to_string(),
        })
        .collect()
}

fn run_case(path: &Path) -> String {
    let case = parse_case(&std::fs::read_to_string(path).unwrap());
    assert!(
        case.runs.iter().any(|s| matches!(s, Step::Skyc(_))),
        "{}: no `args:` line",
        path.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Each case has a check cache of its own, outside its directory.
    let cache = tempfile::tempdir().unwrap();
    for (name, body) in &case.files {
        let p = dir.join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&p).unwrap();
            continue;
        }
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
    }
    let mut before = BTreeSet::new();
    list_files(dir, dir, &mut before);
    let mut report = String::new();
    let dir_text = dir.to_string_lossy().to_string();
    for step in &case.runs {
        let args = match step {
            Step::Skyc(a) => a,
            Step::Sh(cmd) => {
                let out = Command::new("sh")
                    .args(["-c", cmd])
                    .current_dir(dir)
                    .env("SKYC_BIN", env!("CARGO_BIN_EXE_skyc"))
                    .env("SKYC_CACHE_DIR", cache.path())
                    .env("GIT_AUTHOR_NAME", "skyc")
                    .env("GIT_AUTHOR_EMAIL", "skyc@example.com")
                    .env("GIT_COMMITTER_NAME", "skyc")
                    .env("GIT_COMMITTER_EMAIL", "skyc@example.com")
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}: `{cmd}` failed: {}",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                continue;
            }
        };
        let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
            .args(args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("SKYC_CACHE_DIR", cache.path())
            .env_remove("CLICOLOR_FORCE")
            .output()
            .unwrap();
        let clean = |b: &[u8]| mask_times(&String::from_utf8_lossy(b).replace(&dir_text, "$DIR"));
        report.push_str(&format!(
            "$ skyc {}\nexit: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.status.code().map_or("signal".into(), |c| c.to_string()),
            clean(&out.stdout),
            clean(&out.stderr),
        ));
    }
    let mut after = BTreeSet::new();
    list_files(dir, dir, &mut after);
    let written: Vec<&String> = after.difference(&before).collect();
    report.push_str("--- files written\n");
    for f in written {
        report.push_str(f);
        report.push('\n');
        if f == "out/manifest.json" || f.ends_with(".txt") || f.ends_with(".xml") {
            let text = std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            report.push_str(&mask_times(&text));
        }
    }
    // Input files a command must not touch are listed with their content when they changed.
    for (name, body) in &case.files {
        if name.ends_with('/') {
            continue;
        }
        match std::fs::read_to_string(dir.join(name)) {
            Ok(now) if now == *body => {}
            Ok(_) => report.push_str(&format!("CHANGED: {name}\n")),
            Err(_) => report.push_str(&format!("REMOVED: {name}\n")),
        }
    }
    report
}

#[test]
fn cli_cases() {
    let dir = workspace().join("tests/cli");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(workspace().join("tests/snapshots/cli"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for c in &cases {
            let name = c.file_stem().unwrap().to_string_lossy().to_string();
            insta::assert_snapshot!(name, run_case(c));
        }
    });
}
