//! `rules/` (the Bazel example): its generated `BUILD.bazel` is what `rules/gen_build.py` writes
//! from `skyc deps` today, and the example project checks and renders clean.

use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn the_generated_build_file_is_current() {
    let pkg = root().join("rules/example/services");
    let out = Command::new("python3")
        .arg(root().join("rules/gen_build.py"))
        .args([
            "--skyc",
            env!("CARGO_BIN_EXE_skyc"),
            "--rules-label",
            "//:skyc.bzl",
        ])
        .arg(&pkg)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "gen_build.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = std::fs::read_to_string(pkg.join("BUILD.bazel")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        committed.trim_end(),
        "rules/example/services/BUILD.bazel is stale: regenerate it (rules/README.md)"
    );
    // Every entry's dependencies are declared: worker loads account, which loads common.
    assert!(committed.contains(r#"deps = [":lib_common_lib", ":lib_account_lib"]"#));
}

#[test]
fn the_example_checks_clean() {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(["check", "--no-cache"])
        .arg(root().join("rules/example/services"))
        .env("SKYC_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
