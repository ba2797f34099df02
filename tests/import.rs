//! `skyc import` over a corpus of real-world manifests (`fixtures/import/*.yaml`): the imported
//! source matches its snapshot, renders without errors, gives back the objects of the YAML as
//! an independent YAML reader (PyYAML, as `kubernetes-validate` uses) reads them, and passes
//! `kubernetes-validate --strict`. Bad inputs (`fixtures/import/errors/skyNNNN_*.yaml`) give their
//! code at their YAML line. skyc's own renders import back to the stdlib calls that made them.

mod common;

use serde_json::Value as Json;
use skyc_core::emit::{stream, Format};
use skyc_core::import::{import, verify_round_trip, ImportOptions, Input};
use skyc_core::world::MemoryWorld;
use skyc_core::Options;
use std::path::{Path, PathBuf};
use std::process::Command;

fn corpus(dir: &str) -> Vec<PathBuf> {
    common::fixture_files(dir, "yaml")
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// The objects of a YAML file as PyYAML reads it (Lists expanded, nulls dropped).
fn pyyaml(path: &Path) -> Vec<Json> {
    const SCRIPT: &str = r#"
import json, sys, yaml
def clean(v):
    if isinstance(v, dict):
        return {str(k): clean(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
out = []
with open(sys.argv[1]) as f:
    for doc in yaml.safe_load_all(f):
        if doc is None:
            continue
        if doc.get("kind") == "List" and doc.get("apiVersion") == "v1":
            out.extend(clean(i) for i in doc.get("items") or [])
        else:
            out.append(clean(doc))
print(json.dumps(out))
"#;
    let out = Command::new(env_path("SKYC_PYTHON", "python3"))
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python ({e}); run the tests with scripts/test.sh"));
    assert!(
        out.status.success(),
        "PyYAML could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn render(source: &str) -> Vec<skyc_core::Object> {
    let world = MemoryWorld::new([("imported.sky", source)]);
    let out = skyc_core::compile(&world, "imported.sky", &Options::default());
    assert!(
        !out.has_errors(),
        "the imported source does not render:\n{}\n{source}",
        common::render_diagnostics(&out)
    );
    out.objects
}

fn is_cron_entry(doc: &Json) -> bool {
    doc.get("apiVersion").is_none() && doc.get("schedule").is_some()
}

#[test]
fn corpus_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rendered = Vec::new();
    for path in corpus("import") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let result = import(
            &[Input {
                name: &format!("{name}.yaml"),
                text: &text,
            }],
            &ImportOptions {
                image: Some("registry.internal/jobs:2026.11.1".into()),
                no_stdlib: false,
                // The contract is exact: every field of the YAML comes back.
                keep_server_fields: true,
                crds: None,
            },
        );
        let errors: Vec<_> = result.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        insta::assert_snapshot!(format!("import__{name}"), result.source);

        let objects = render(&result.source);
        let want = pyyaml(&path);
        if want.iter().all(is_cron_entry) {
            // Cron entries become cron_job(...): one CronJob per entry, with its fields.
            let crons: Vec<Json> = objects
                .iter()
                .filter(|o| o.kind == "CronJob")
                .map(skyc_core::Object::json)
                .collect();
            assert_eq!(crons.len(), want.len(), "{name}");
            for (entry, cron) in want.iter().zip(crons) {
                assert_eq!(entry["name"], cron["metadata"]["name"]);
                assert_eq!(entry["owner"], cron["metadata"]["labels"]["owner"]);
                assert_eq!(entry["schedule"], cron["spec"]["schedule"]);
                assert_eq!(
                    entry.get("disabled").cloned().unwrap_or(Json::Bool(false)),
                    cron["spec"]["suspend"]
                );
                let container =
                    &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
                assert_eq!(entry["command"], container["command"]);
            }
        } else {
            let got: Vec<Json> = objects.iter().map(skyc_core::Object::json).collect();
            assert_eq!(got.len(), want.len(), "{name}: object count");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g, w, "{name}: an object differs from the YAML");
            }
        }
        let out = tmp.path().join(format!("{name}.yaml"));
        std::fs::write(&out, stream(&objects, Format::Yaml)).unwrap();
        rendered.push(out);
    }
    common::validate_strict(&rendered);
}

/// skyc's own render of an imported file imports again (keys now in render order) to source
/// that renders byte-identically.
#[test]
fn import_render_import_renders_the_same() {
    for path in corpus("import") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let opts = ImportOptions {
            image: Some("registry.internal/jobs:2026.11.1".into()),
            no_stdlib: false,
            keep_server_fields: false,
            crds: None,
        };
        let first = import(
            &[Input {
                name: "a.yaml",
                text: &text,
            }],
            &opts,
        );
        let yaml = stream(&render(&first.source), Format::Yaml);
        let second = import(
            &[Input {
                name: "b.yaml",
                text: &yaml,
            }],
            &opts,
        );
        assert!(
            !second.diagnostics.iter().any(|d| d.is_error()),
            "{name}: {:#?}",
            second.diagnostics
        );
        assert_eq!(
            yaml,
            stream(&render(&second.source), Format::Yaml),
            "{name}"
        );
    }
}

#[test]
fn bad_inputs_give_coded_diagnostics_at_their_line() {
    for path in corpus("import/errors") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let file = format!("{name}.yaml");
        let result = import(
            &[Input {
                name: &file,
                text: &text,
            }],
            &ImportOptions::default(),
        );
        let code = name.split('_').next().unwrap().to_ascii_uppercase();
        assert!(
            result.diagnostics.iter().any(|d| d.code == code),
            "{name} should give {code}: {:#?}",
            result.diagnostics
        );
        for d in &result.diagnostics {
            let span = d
                .span
                .as_ref()
                .unwrap_or_else(|| panic!("{name}: {d:?} has no span"));
            assert_eq!(span.file, file);
            assert!(d.help.is_some(), "{name}: {d:?} has no help");
        }
        if result.diagnostics.iter().any(|d| d.is_error()) {
            assert!(result.source.is_empty(), "{name}: source despite errors");
        }
        let outcome = skyc_core::Outcome {
            diagnostics: result.diagnostics.clone(),
            sources: [(file.clone(), std::sync::Arc::from(text.as_str()))].into(),
            ..Default::default()
        };
        let shown = common::render_diagnostics(&outcome);
        insta::assert_snapshot!(format!("import_error__{name}"), shown);
    }
}

/// skyc's own output imports back to the stdlib calls that generated it.
#[test]
fn renders_of_stdlib_calls_import_as_those_calls() {
    for (fixture, calls) in [
        ("service_minimal", &["service("][..]),
        ("cron_job", &["cron_job("][..]),
        ("worker_job", &["worker(", "job("][..]),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/render")
            .join(format!("{fixture}.sky"));
        let out = common::run(&common::load_fixture(&path));
        assert!(!out.has_errors(), "{fixture}");
        let yaml = stream(&out.objects, Format::Yaml);
        let result = import(
            &[Input {
                name: "render.yaml",
                text: &yaml,
            }],
            &ImportOptions::default(),
        );
        assert!(
            !result.diagnostics.iter().any(|d| d.is_error()),
            "{fixture}: {:#?}",
            result.diagnostics
        );
        assert_eq!(
            result.from_stdlib, result.objects,
            "{fixture}: every object should come from a stdlib call:\n{}",
            result.source
        );
        for call in calls {
            assert!(
                result.source.contains(call),
                "{fixture}: no {call}…):\n{}",
                result.source
            );
        }
        assert!(
            !result.source.contains("k8s."),
            "{fixture}:\n{}",
            result.source
        );
        insta::assert_snapshot!(format!("import_stdlib__{fixture}"), result.source);
        // With --no-stdlib, typed constructors only, and the same objects.
        let typed = import(
            &[Input {
                name: "render.yaml",
                text: &yaml,
            }],
            &ImportOptions {
                no_stdlib: true,
                ..ImportOptions::default()
            },
        );
        assert_eq!(typed.from_stdlib, 0);
        assert!(!typed.source.contains("load("), "{fixture}");
        assert_eq!(
            stream(&render(&typed.source), Format::Yaml),
            yaml,
            "{fixture}: --no-stdlib renders differently"
        );
    }
}

/// The round-trip check fires when the source does not give back the input (SKY0709).
#[test]
fn tampered_source_fails_the_round_trip_check() {
    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n";
    let result = import(
        &[Input {
            name: "a.yaml",
            text: yaml,
        }],
        &ImportOptions::default(),
    );
    assert!(result.diagnostics.is_empty(), "{:#?}", result.diagnostics);
    let objects: Vec<Json> = render(&result.source)
        .iter()
        .map(skyc_core::Object::json)
        .collect();
    assert_eq!(verify_round_trip(&result.source, &objects, false), Ok(1));
    let tampered = result.source.replace("\"blue\"", "\"green\"");
    let err = verify_round_trip(&tampered, &objects, false).unwrap_err();
    assert_eq!(err.code, "SKY0709");
    assert!(err.message.contains("green"), "{}", err.message);
    let broken = result.source.replace("data =", "dta =");
    assert_eq!(
        verify_round_trip(&broken, &objects, false)
            .unwrap_err()
            .code,
        "SKY0709"
    );
}
