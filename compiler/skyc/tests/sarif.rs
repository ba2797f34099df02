//! `skyc check --format sarif` validates against the official SARIF 2.1.0 schema (bundled by
//! the npm package `@microsoft/jest-sarif`, which `scripts/test.sh` fetches; `SKYC_SARIF_SCHEMA`
//! names the file and `SKYC_PYTHON` a Python with `jsonschema`).

mod support;

use std::path::Path;
use std::process::Command;
use support::{env_path, python_check};

/// Validates `doc` with Python's jsonschema; Err carries the validator's message.
fn validate(doc: &serde_json::Value, dir: &Path) -> Result<(), String> {
    let file = dir.join("log.sarif");
    std::fs::write(&file, serde_json::to_string(doc).unwrap()).unwrap();
    python_check(
        "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))",
        &[&file, &env_path("SKYC_SARIF_SCHEMA")],
    )
}

#[test]
fn sarif_output_matches_the_sarif_2_1_0_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Lint errors and warnings from the stdlib and from typed constructors.
    std::fs::write(
        dir.join("main.sky"),
        r#"load("@stdlib//service.sky", "service")
def main(ctx):
    return [
        service(name = "web", owner = "web-team", image = "web", replicas = 1),
        k8s.core.v1.Pod(metadata = {"name": "bare"}, spec = {"containers": [{"name": "c", "image": "c:1"}]}),
    ]
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(["check", "main.sky", "--format", "sarif"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() >= 3, "{doc:#}");
    validate(&doc, dir).unwrap_or_else(|e| panic!("invalid SARIF:\n{e}\n{doc:#}"));

    // The check can fail: a log with a wrong version is rejected.
    let mut bad = doc.clone();
    bad["version"] = "2.0.0".into();
    assert!(
        validate(&bad, dir).is_err(),
        "the schema check accepted a bad log"
    );
}
