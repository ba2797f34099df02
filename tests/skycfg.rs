//! skycfg compatibility (docs/skycfg.md): the skycfg-style examples render to valid
//! Kubernetes objects and to Envoy resources that pass `envoy --mode validate`, and their
//! `test_*(t)` functions (in the main file and in the files it loads) run under `skyc test`.

mod common;

use common::{envoy_validate, validate_strict};
use skyc_core::emit::{stream, Format};
use skyc_core::{compile, Config, DiskWorld, Options, Outcome};
use std::path::{Path, PathBuf};

fn example_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/skycfg")
        .join(name)
}

fn options(dir: &Path) -> Options {
    let text = std::fs::read_to_string(dir.join("sky.toml")).unwrap();
    Options {
        config: Config::parse("sky.toml", &text).unwrap(),
        ..Options::default()
    }
}

fn render(name: &str) -> Outcome {
    let dir = example_dir(name);
    let world = DiskWorld::new(&dir, Some(&dir)).unwrap();
    let out = compile(&world, "main.cfg", &options(&dir));
    assert!(!out.has_errors(), "{name}: {:#?}", out.diagnostics);
    out
}

#[test]
fn kubernetes_example_renders_a_valid_deployment() {
    let out = render("k8s");
    let kinds: Vec<&str> = out.objects.iter().map(|o| o.kind.as_str()).collect();
    assert_eq!(kinds, ["Deployment", "Service"]);
    let yaml = stream(&out.objects, Format::Yaml);
    insta::assert_snapshot!("skycfg__k8s", yaml);
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("k8s.yaml");
    std::fs::write(&file, yaml).unwrap();
    validate_strict(&[file]);
}

#[test]
fn envoy_example_renders_resources_envoy_accepts() {
    let out = render("envoy");
    let yaml = stream(&out.objects, Format::Yaml);
    insta::assert_snapshot!("skycfg__envoy", yaml);
    let of = |kind: &str| -> Vec<serde_json::Value> {
        out.objects
            .iter()
            .filter(|o| o.kind == kind)
            .map(|o| {
                let mut j = o.json();
                j.as_object_mut().unwrap().shift_remove("@type");
                j
            })
            .collect()
    };
    let (listeners, clusters) = (of("Listener"), of("Cluster"));
    assert_eq!((listeners.len(), clusters.len()), (1, 1));
    let bootstrap = serde_json::json!({
        "staticResources": {"listeners": listeners, "clusters": clusters}
    });
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bootstrap.yaml");
    std::fs::write(&file, skyc_core::emit::to_yaml(&bootstrap)).unwrap();
    if let Err(out) = envoy_validate(&file) {
        panic!("the skycfg Envoy example fails `envoy --mode validate`:\n{out}");
    }
    // `--envoy xds`: the same resources, for no node, written under `envoy/`.
    let xds = skyc_core::emit::xds_resources(&out.objects);
    let listed: Vec<(&str, &str, &str)> = xds
        .iter()
        .map(|r| (r.node.as_str(), r.kind, r.name.as_str()))
        .collect();
    assert_eq!(
        listed,
        [("", "Cluster", "web_cluster"), ("", "Listener", "ingress")]
    );
    let files = skyc_core::emit::directory_with_xds(&[], &xds, Format::Yaml, None).unwrap();
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "envoy/cluster-web_cluster.yaml",
            "envoy/listener-ingress.yaml",
            "manifest.json"
        ]
    );
}

#[test]
fn skycfg_test_functions_run_in_the_main_file_and_loaded_files() {
    let dir = example_dir("k8s");
    let world = DiskWorld::new(&dir, Some(&dir)).unwrap();
    let run = skyc_core::testrun::run_tests(&world, "main.cfg", &options(&dir));
    assert!(!run.outcome.has_errors(), "{:#?}", run.outcome.diagnostics);
    let results: Vec<(String, bool)> = run
        .cases
        .iter()
        .map(|c| (c.name.clone(), c.failure.is_none()))
        .collect();
    assert_eq!(
        results,
        [
            ("lib/labels.cfg: test_labels".to_string(), true),
            ("test_deployment".to_string(), true),
            ("test_assigning_a_wrong_type_fails".to_string(), true),
            ("test_vars".to_string(), true),
        ]
    );
}

/// A failing `t.assert.*` fails its test with SKY0801 and both values; `t.assert.fails`
/// fails when the function does not.
#[test]
fn skycfg_assertions_fail_with_their_values() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("sky.toml"),
        "[language]\ncompat = \"skycfg\"\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("main.cfg"),
        "def test_equal(t):\n    t.assert.equal(1 + 1, 3)\n\n\
         def test_lesser(t):\n    t.assert.lesser(3, 2)\n\n\
         def test_fails(t):\n    t.assert.fails(lambda: 1)\n\n\
         def test_condition(t):\n    t.assert(1 > 2)\n\n\
         def test_message(t):\n    t.assert.equal(t.assert.fails(lambda: fail(\"boom\")).message, \"boom\")\n",
    )
    .unwrap();
    let world = DiskWorld::new(tmp.path(), Some(tmp.path())).unwrap();
    let run = skyc_core::testrun::run_tests(&world, "main.cfg", &options(tmp.path()));
    let failures: Vec<(String, String)> = run
        .cases
        .iter()
        .map(|c| {
            (
                c.name.clone(),
                c.failure
                    .as_ref()
                    .map(|d| format!("{} {}", d.code, d.message))
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        failures,
        [
            (
                "test_equal".into(),
                "SKY0801 assertion failed: 2 == 3".into()
            ),
            (
                "test_lesser".into(),
                "SKY0801 assertion failed: 3 < 2".into()
            ),
            (
                "test_fails".into(),
                "SKY0801 assertion failed: main.cfg.lambda returned 1 instead of failing".into()
            ),
            (
                "test_condition".into(),
                "SKY0801 assertion failed: False is not true".into()
            ),
            ("test_message".into(), String::new()),
        ]
    );
}
