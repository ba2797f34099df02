//! Resource bombs (`tests/bombs/*.sky`): each runs in its own `skyc render` process under a
//! 128 MiB memory limit and must stop with the coded limit error its `# expect:` line names,
//! without a crash, within a minute, and with the process's peak resident memory below its
//! baseline (a small file rendered the same way) plus the limit and a small allowance for the
//! allocator's own bookkeeping.
//!
//! A bomb may add `# args:` (more flags) and `# sky.toml:` lines (the project configuration).

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT_MIB: u64 = 128;
/// Allocator bookkeeping and pages the process touched without counting them.
const ALLOWANCE_MIB: u64 = 24;

struct Run {
    code: Option<i32>,
    stderr: String,
    peak_rss_kib: u64,
    elapsed: Duration,
}

/// Runs skyc and waits for it with `wait4`, which reports the child's peak resident memory.
// The child is reaped by `wait4`, which `Child::wait` cannot do (it reports no usage).
#[allow(clippy::zombie_processes)]
fn run_measured(dir: &Path, args: &[String]) -> Run {
    let stderr_path = dir.join("stderr.txt");
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child; `status` and `usage` are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert!(r == 0, "wait4 failed");
        if start.elapsed() > Duration::from_secs(60) {
            // SAFETY: kills our own child, then reaps it.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::wait4(pid, &mut status, 0, &mut usage);
            }
            panic!("`skyc {}` did not stop within 60 s", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    Run {
        code,
        stderr: std::fs::read_to_string(&stderr_path).unwrap(),
        peak_rss_kib: usage.ru_maxrss as u64,
        elapsed: start.elapsed(),
    }
}

fn bombs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/bombs");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sky"))
        .collect();
    out.sort();
    assert!(out.len() >= 15, "expected the bombs in {}", dir.display());
    out
}

/// Writes `main.sky` and `sky.toml` for one file into a fresh directory.
fn project(text: &str) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.sky"), text).unwrap();
    let toml: String = text
        .lines()
        .filter_map(|l| l.strip_prefix("# sky.toml: "))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("sky.toml"), toml).unwrap();
    let mut args: Vec<String> = vec![
        "render".into(),
        "main.sky".into(),
        "--max-heap".into(),
        format!("{LIMIT_MIB}M"),
    ];
    for l in text.lines().filter_map(|l| l.strip_prefix("# args: ")) {
        args.extend(l.split_whitespace().map(String::from));
    }
    (dir, args)
}

#[test]
fn bombs_stop_with_coded_errors_within_the_memory_limit() {
    let (base_dir, base_args) = project(
        "def main(ctx):\n    return [k8s.core.v1.ConfigMap(metadata = {\"name\": \"a\"}, data = {\"k\": \"v\"})]\n",
    );
    let base = run_measured(base_dir.path(), &base_args);
    assert_eq!(base.code, Some(0), "baseline failed: {}", base.stderr);
    let bound_kib = base.peak_rss_kib + (LIMIT_MIB + ALLOWANCE_MIB) * 1024;
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for path in bombs() {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name}: no `# expect: CODE` line"))
            .trim()
            .to_string();
        let (dir, args) = project(&text);
        let run = run_measured(dir.path(), &args);
        report.push(format!(
            "{name}: exit {:?}, {} MiB peak, {:.1} s",
            run.code,
            run.peak_rss_kib / 1024,
            run.elapsed.as_secs_f64()
        ));
        let mut problems = Vec::new();
        if run.code != Some(1) {
            problems.push(format!("exit {:?} (want 1)", run.code));
        }
        if !run.stderr.contains(&expect) {
            problems.push(format!("no {expect}"));
        }
        if run.stderr.contains("SKY0002") || run.stderr.contains("panicked") {
            problems.push("an internal error".into());
        }
        if run.peak_rss_kib > bound_kib {
            problems.push(format!(
                "peak RSS {} MiB over the bound {} MiB",
                run.peak_rss_kib / 1024,
                bound_kib / 1024
            ));
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}\n{}", problems.join(", "), run.stderr));
        }
        // Nothing is left behind but the project and the captured stderr.
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["main.sky", "sky.toml", "stderr.txt"],
            "{name} wrote files"
        );
    }
    eprintln!(
        "baseline {} MiB peak; bound {} MiB\n{}",
        base.peak_rss_kib / 1024,
        bound_kib / 1024,
        report.join("\n")
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
