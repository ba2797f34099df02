//! `skyc test --junit FILE` writes JUnit XML that validates against Jenkins' junit-4 XSD (as
//! bundled by the `junit-report` crate, a dev-dependency located with `cargo metadata`), using
//! Python's `xmlschema` from the virtualenv that `scripts/test.sh` prepares.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use support::python_check;

/// The JUnit XSD in the locked `junit-report` package.
fn xsd() -> PathBuf {
    // Offline metadata needs a platform filter (packages of other platforms are not
    // downloaded); the host's triple comes from rustc.
    let rustc = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc runs");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
        ])
        .arg(&host)
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pkg = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "junit-report")
        .expect("junit-report is a dev-dependency");
    Path::new(pkg["manifest_path"].as_str().unwrap())
        .parent()
        .unwrap()
        .join("tests/JUnit.xsd")
}

fn validate(xml: &Path) -> Result<(), String> {
    python_check(
        "import sys, xmlschema; xmlschema.XMLSchema(sys.argv[1]).validate(sys.argv[2])",
        &[&xsd(), xml],
    )
}

#[test]
fn junit_report_matches_the_junit_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(
        dir.join("a_test.sky"),
        "def test_fails():\n    asserts.eq(\"<&>\", 2)\n\ndef test_passes():\n    asserts.true(True)\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(["test", "--junit", "report.xml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "one test fails");
    let report = dir.join("report.xml");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("tests=\"2\" failures=\"1\""), "{text}");
    validate(&report).unwrap_or_else(|e| panic!("invalid JUnit XML:\n{e}\n{text}"));

    // The check can fail: a testcase without a name is rejected.
    let bad = dir.join("bad.xml");
    std::fs::write(
        &bad,
        text.replace("<testcase name=\"test_passes\"", "<testcase"),
    )
    .unwrap();
    assert!(
        validate(&bad).is_err(),
        "the schema check accepted a bad report"
    );
}
