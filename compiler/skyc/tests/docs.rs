//! `skyc doc`: `docs/stdlib.md` is what `skyc doc --stdlib --format markdown` prints (it must
//! not drift from the stdlib), every public stdlib function is documented completely, and its
//! example renders.

use std::path::Path;
use std::process::Command;

fn skyc(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "skyc {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `docs/stdlib.md` is generated from the stdlib's docstrings and live examples.
#[test]
fn stdlib_doc_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/stdlib.md");
    let want = skyc(&["doc", "--stdlib", "--format", "markdown"]);
    if std::env::var_os("SKYC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/stdlib.md is out of date: run `SKYC_UPDATE_DOCS=1 cargo test -p skyc --test docs stdlib_doc_is_current`"
    );
}

/// The functions users call, and the building blocks of workload.sky.
const EXPECTED: &[&str] = &[
    "service",
    "worker",
    "einhorn",
    "cron_job",
    "job",
    "upstream",
    "ingress",
    "on_clusters",
    "migrate",
    "seconds",
    "workload_labels",
    "object_meta",
    "secure_container",
    "tmp_volumes",
    "service_account",
    "pod_meta",
    "egress_policy",
    "targeted",
];

#[test]
fn every_stdlib_function_is_documented_and_its_example_renders() {
    let reference = skyc(&["doc", "--stdlib", "--format", "markdown"]);
    for name in EXPECTED {
        assert!(
            reference.contains(&format!("\n### `{name}`\n")),
            "`{name}` is missing from the stdlib reference"
        );
    }
    let sections: Vec<&str> = reference.split("\n### `").skip(1).collect();
    assert!(sections.len() >= EXPECTED.len());
    for section in sections {
        let name = section.split('`').next().unwrap();
        assert!(
            !section.contains("fails (a bug in skyc"),
            "the example of `{name}` fails:\n{section}"
        );
        assert!(
            section.contains("generates:\n") || section.contains("returns:\n"),
            "`{name}` has no example output"
        );
        // Every parameter row has a type and a description (from the docstring's `Args:`).
        for row in section
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| l.trim_end_matches('|'))
        {
            let cells: Vec<&str> = row.split(" | ").map(str::trim).collect();
            assert!(
                cells.len() >= 4 && cells.iter().all(|c| !c.is_empty()),
                "`{name}`: a parameter without type, default or documentation: {row}"
            );
        }
    }
}

#[test]
fn workload_functions_generate_their_objects() {
    for (name, kinds) in [
        (
            "service",
            &[
                "ServiceAccount",
                "Deployment",
                "Service",
                "PodDisruptionBudget",
                "NetworkPolicy",
            ][..],
        ),
        (
            "worker",
            &[
                "ServiceAccount",
                "Deployment",
                "PodDisruptionBudget",
                "NetworkPolicy",
            ][..],
        ),
        (
            "cron_job",
            &["ServiceAccount", "CronJob", "NetworkPolicy"][..],
        ),
        ("job", &["ServiceAccount", "Job", "NetworkPolicy"][..]),
    ] {
        let text = skyc(&["doc", name]);
        let listing = text
            .split("generates:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`skyc doc {name}` shows no generated objects:\n{text}"));
        let listed: Vec<&str> = listing
            .lines()
            .take_while(|l| l.starts_with("  "))
            .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
            .collect();
        assert_eq!(listed, kinds, "`skyc doc {name}`");
        for kind in kinds {
            assert!(
                text.contains(&format!("\nkind: {kind}\n")),
                "`skyc doc {name}` lacks the YAML of its {kind}"
            );
        }
    }
}

#[test]
fn overview_lists_functions_and_namespaces() {
    let text = skyc(&["doc"]);
    for name in EXPECTED {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "`skyc doc` does not list `{name}`"
        );
    }
    for ns in [
        "k8s.apps.v1",
        "k8s.core.v1",
        "k8s.batch.v1",
        "envoy.config.",
    ] {
        assert!(text.contains(ns), "`skyc doc` does not list {ns}");
    }
}

/// A type lists every field of the schema, with its type.
#[test]
fn types_list_every_field() {
    let text = skyc(&["doc", "k8s.apps.v1.DeploymentSpec"]);
    for field in [
        "minReadySeconds",
        "paused",
        "progressDeadlineSeconds",
        "replicas",
        "revisionHistoryLimit",
        "selector",
        "strategy",
        "template",
    ] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(field)),
            "{field} missing:\n{text}"
        );
    }
    let envoy = skyc(&["doc", "envoy.config.cluster.v3.Cluster"]);
    for field in ["name", "connect_timeout", "lb_policy", "load_assignment"] {
        assert!(
            envoy
                .lines()
                .any(|l| l.split_whitespace().next() == Some(field)),
            "{field} missing:\n{envoy}"
        );
    }
    let md = skyc(&["doc", "--format", "markdown", "k8s.core.v1.ServicePort"]);
    assert!(md.contains("| `protocol` | string |"), "{md}");
}

/// The objects of every example in the reference pass `kubernetes-validate --strict` (like the
/// examples/ projects): what `skyc doc` shows is what a cluster accepts.
#[test]
fn reference_examples_validate_strictly() {
    let reference = skyc(&["doc", "--stdlib", "--format", "markdown"]);
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, block) in reference.split("```yaml\n").skip(1).enumerate() {
        let yaml = block.split("```").next().unwrap();
        let path = tmp.path().join(format!("example-{i}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        files.push(path);
    }
    assert!(files.len() >= 8, "{} YAML examples", files.len());
    let validator = std::env::var_os("SKYC_KUBERNETES_VALIDATE")
        .unwrap_or_else(|| "kubernetes-validate".into());
    let version = format!("{}.0", skyc_schema::k8s::KUBERNETES_VERSION);
    let out = Command::new(&validator)
        .args(["--strict", "--quiet", "-k", &version])
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubernetes-validate ({e}); run the tests with scripts/test.sh, which installs it"));
    assert!(
        out.status.success(),
        "kubernetes-validate --strict failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
