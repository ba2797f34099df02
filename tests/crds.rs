//! Custom resources over the corpus of real CRDs in `fixtures/crds/corpus/`: every file builds,
//! every constructor typechecks, every version's schema validates a bare object without
//! complaints other than its required fields; and CRDs declared but not used are never read.

mod common;

use skyc_core::{compile, Config, MemoryWorld, Options, World};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The corpus files as (project path under `crds/`, text).
fn corpus() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crds/corpus");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_string();
            (format!("crds/{name}"), std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the corpus has {} files", files.len());
    files
}

fn project(extra: &[(&str, &str)]) -> (MemoryWorld, Options) {
    let mut world = MemoryWorld::default();
    for (path, text) in corpus() {
        world.files.insert(path, Arc::from(text.as_str()));
    }
    for (path, text) in extra {
        world.files.insert(path.to_string(), Arc::from(*text));
    }
    let toml = "[crds]\npaths = [\"crds\"]\n";
    world.files.insert("sky.toml".into(), Arc::from(toml));
    let opts = Options {
        config: Config::parse("sky.toml", toml).unwrap(),
        ..Options::default()
    };
    (world, opts)
}

/// A world that records the files read.
struct Counting<'w> {
    inner: &'w MemoryWorld,
    read: Mutex<Vec<String>>,
}

impl World for Counting<'_> {
    fn read(&self, path: &str) -> Result<Arc<str>, skyc_core::world::ReadError> {
        self.read.lock().unwrap().push(path.to_string());
        self.inner.read(path)
    }
    fn list_files(&self, dir: &str, extensions: &[&str]) -> Vec<String> {
        self.inner.list_files(dir, extensions)
    }
}

impl Counting<'_> {
    fn crd_reads(&self) -> usize {
        let mut r = self.read.lock().unwrap();
        let n = r.iter().filter(|p| p.starts_with("crds/")).count();
        r.clear();
        n
    }
}

#[test]
fn crds_declared_but_not_used_are_never_read() {
    let (world, opts) = project(&[
        (
            "plain.sky",
            "def main(ctx):\n    return [k8s.core.v1.ConfigMap(metadata = {\"name\": \"x\"})]\n",
        ),
        (
            "dict.sky",
            "def main(ctx):\n    return [{\"apiVersion\": \"monitoring.coreos.com/v1\", \"kind\": \"ServiceMonitor\", \"metadata\": {\"name\": \"x\"}, \"spec\": {\"selector\": {}, \"endpoints\": [{\"port\": \"http\"}]}}]\n",
        ),
        (
            "typed.sky",
            "def main(ctx):\n    return [crd.monitoring_coreos_com.v1.ServiceMonitor(metadata = {\"name\": \"x\"}, spec = {\"selector\": {}, \"endpoints\": [{\"port\": \"http\"}]})]\n",
        ),
    ]);
    let counting = Counting {
        inner: &world,
        read: Mutex::new(Vec::new()),
    };
    let out = compile(&counting, "plain.sky", &opts);
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    assert_eq!(
        counting.crd_reads(),
        0,
        "a file without custom resources read the CRDs"
    );
    assert!(!out.files.iter().any(|f| f.to_string().contains("crds/")));
    for entry in ["dict.sky", "typed.sky"] {
        let out = compile(&counting, entry, &opts);
        assert!(!out.has_errors(), "{entry}: {:#?}", out.diagnostics);
        assert_eq!(out.objects[0].kind, "ServiceMonitor");
        assert_eq!(counting.crd_reads(), corpus().len(), "{entry}");
        // The files read are part of what the check cache keys on.
        assert!(
            out.files.iter().any(|f| f.to_string().contains("crds/")),
            "{entry}"
        );
    }
}

/// Looking up one kind parses only the document that declares it; the rest of the corpus is
/// only read and indexed (each document as far as its group and kind).
#[test]
fn one_kind_builds_one_document() {
    let (world, opts) = project(&[]);
    let index = skyc_core::load_crds(&world, &opts.config).0.unwrap();
    assert!(index.built().is_empty());
    let v = index
        .by_kind("monitoring.coreos.com/v1", "ServiceMonitor")
        .unwrap();
    assert_eq!(v.kind, "ServiceMonitor");
    assert_eq!(
        index.built(),
        ["crds/monitoring.coreos.com_servicemonitors.yaml:1"]
    );
    let t = index
        .type_by_path("crd.cert_manager_io.v1.CertificateSpec")
        .unwrap();
    assert_eq!(t.display, "cert-manager.io/v1 CertificateSpec");
    assert_eq!(index.built().len(), 2);
    // One of the 52 CRDs of Istio's file (its second document), with its line there.
    let v = index
        .by_kind("networking.istio.io/v1alpha3", "DestinationRule")
        .unwrap();
    assert_eq!((v.file.as_str(), v.line), ("crds/istio_crd-10.yaml", 23));
    assert_eq!(index.built().len(), 3, "{:?}", index.built());
    // A kind no file has: every indexed document is looked at, none is parsed.
    assert!(index.by_kind("example.com/v1", "Nothing").is_none());
    assert_eq!(index.built().len(), 3);
    assert!(index.take_problems().is_empty());
}

#[test]
fn every_corpus_crd_builds_and_every_constructor_typechecks() {
    let (world, opts) = project(&[]);
    let (index, problems) = skyc_core::load_crds(&world, &opts.config);
    assert!(problems.is_empty(), "{problems:#?}");
    let index = index.expect("the corpus loads");
    let versions = index.versions();
    let problems = index.take_problems();
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(versions.len() >= corpus().len());
    // Every constructor, named in a function the typechecker checks and main does not call.
    let mut src = String::from("def every():\n    return [\n");
    for v in versions {
        let t = skyc_schema::lookup(v.ty);
        src.push_str(&format!("        {},\n", t.path));
        // A bare object: only required fields may be missing.
        let bare = serde_json::json!({
            "apiVersion": v.api_version(),
            "kind": v.kind,
            "metadata": {"name": "x"},
        });
        for f in skyc_schema::crd::validate(&v.schema, &bare) {
            assert_eq!(
                f.kind,
                skyc_schema::crd::FindingKind::Required,
                "{} {}: {f:?}",
                v.api_version(),
                v.kind
            );
        }
    }
    // Kinds whose CRD has no schema (Istio's old CRDs) take a free-form spec.
    src.push_str("    ]\n\ndef main(ctx):\n    return [crd.networking_istio_io.v1alpha3.VirtualService(metadata = {\"name\": \"v\"}, spec = {\"hosts\": [\"a\"]})]\n");
    let mut world = world;
    world
        .files
        .insert("every.sky".into(), Arc::from(src.as_str()));
    let out = compile(&world, "every.sky", &opts);
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    assert_eq!(out.objects[0].json()["spec"]["hosts"][0], "a");
}

/// The features of the OpenAPI schemas of CRDs that skyc handles are all in the test data:
/// the real CRDs of the corpus, and `widgets.example.com.yaml`, written for the tests (the
/// corpus has no `oneOf`, no unserved version and no comment-only document).
#[test]
fn the_test_crds_cover_the_schema_features() {
    let widgets = include_str!("fixtures/crds/widgets.example.com.yaml");
    let all: String = corpus()
        .into_iter()
        .map(|(_, t)| t)
        .chain([widgets.to_string()])
        .collect();
    for feature in [
        "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-validations",
        "x-kubernetes-list-type",
        "nullable",
        "oneOf",
        "anyOf",
        "pattern",
        "format",
        "enum",
        "maxItems",
        "minimum",
        "maxLength",
        "served: false",
        "deprecated: true",
    ] {
        assert!(all.contains(feature), "no corpus CRD uses {feature}");
    }
}

/// Asks Python's `jsonschema` (Draft 4, what OpenAPI v3.0 schemas are built on) whether each
/// object is valid against its CRD version's schema, turned into JSON Schema the way the API
/// server reads it: `nullable` allows null, `x-kubernetes-int-or-string` an integer or a
/// string, and an object with properties takes no other fields unless it keeps unknown fields.
/// `cases` are (CRD file, apiVersion, object).
fn python_verdicts(cases: &[(String, String, serde_json::Value)]) -> Vec<bool> {
    const SCRIPT: &str = r#"
import json, sys, yaml, jsonschema

def convert(s):
    if isinstance(s, list):
        return [convert(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("properties",):
            out[k] = {name: convert(x) for name, x in v.items()}
        elif k.startswith("x-kubernetes-") or k in ("nullable", "default", "description", "format"):
            continue
        else:
            out[k] = convert(v)
    if s.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if s.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
            and not s.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out

cases = json.load(open(sys.argv[1]))
verdicts = []
for crd_file, api_version, obj in cases:
    group, version = api_version.split("/")
    schema = None
    for doc in yaml.safe_load_all(open(crd_file)):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        if doc["spec"]["group"] != group or doc["spec"]["names"]["kind"] != obj["kind"]:
            continue
        for v in doc["spec"]["versions"]:
            if v["name"] == version:
                schema = v["schema"]["openAPIV3Schema"]
    s = convert(schema)
    # apiVersion, kind and metadata are the API server's own.
    for k in ("apiVersion", "kind", "metadata"):
        s.get("properties", {}).pop(k, None)
    o = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    verdicts.append(jsonschema.Draft4Validator(s).is_valid(o))
print(json.dumps(verdicts))
"#;
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("cases.json");
    std::fs::write(&input, serde_json::to_string(cases).unwrap()).unwrap();
    let python = std::env::var_os("SKYC_PYTHON").unwrap_or_else(|| "python3".into());
    let out = std::process::Command::new(python)
        .args(["-c", SCRIPT])
        .arg(&input)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python ({e}); run the tests with scripts/test.sh"));
    assert!(
        out.status.success(),
        "jsonschema failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// skyc's validator and an independent one agree on which objects are valid: the custom
/// resources of the render fixture (valid), and objects that each break one rule of the test
/// CRD (formats aside, which Draft 4 does not check).
#[test]
fn the_validator_agrees_with_jsonschema() {
    use serde_json::json;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let widgets = fixtures.join("crds/widgets.example.com.yaml");
    let crd_of = |kind: &str| match kind {
        "ServiceMonitor" => fixtures.join("crds/corpus/monitoring.coreos.com_servicemonitors.yaml"),
        "Certificate" => fixtures.join("crds/corpus/cert-manager.io_certificates.yaml"),
        _ => widgets.clone(),
    };
    let rendered = common::run(&common::load_fixture(
        &fixtures.join("render/crd_custom_resources.sky"),
    ));
    assert!(!rendered.has_errors());
    let mut cases: Vec<(String, String, serde_json::Value)> = rendered
        .objects
        .iter()
        .map(|o| {
            let file = crd_of(&o.kind).to_string_lossy().to_string();
            (file, o.api_version.clone(), o.json())
        })
        .collect();
    let base = json!({"size": 3, "parts": [{"name": "a"}]});
    let bad: Vec<serde_json::Value> = vec![
        json!({"parts": [{"name": "a"}]}),
        json!({"size": 0, "parts": [{"name": "a"}]}),
        json!({"size": 11, "parts": [{"name": "a"}]}),
        json!({"size": "3", "parts": [{"name": "a"}]}),
        json!({"size": 3, "parts": []}),
        json!({"size": 3, "parts": [{"from": "x"}]}),
        json!({"size": 3, "parts": [{"name": "a", "extra": 1}]}),
        json!({"size": 3, "parts": [{"name": "a"}], "color": "pink"}),
        json!({"size": 3, "parts": [{"name": "a"}], "name": "Bad_Name"}),
        json!({"size": 3, "parts": [{"name": "a"}], "name": "much-too-long-name"}),
        json!({"size": 3, "parts": [{"name": "a"}], "ratio": 0}),
        json!({"size": 3, "parts": [{"name": "a"}], "port": true}),
        json!({"size": 3, "parts": [{"name": "a"}], "tags": ["a", "b", "c", "d"]}),
        json!({"size": 3, "parts": [{"name": "a"}], "labels": {"a": 1}}),
        json!({"size": 3, "parts": [{"name": "a"}], "source": {}}),
        json!({"size": 3, "parts": [{"name": "a"}], "source": {"git": "g", "oci": "o"}}),
        json!({"size": 3, "parts": [{"name": "a"}], "unknown": 1}),
    ];
    let good: Vec<serde_json::Value> = vec![
        base.clone(),
        json!({"size": 10, "parts": [{"name": "a"}], "port": 8080, "owner": null}),
        json!({"size": 1, "parts": [{"name": "a"}], "config": {"x": [1, {"y": 2}]}, "source": {"oci": "o"}}),
        json!({"size": 2, "parts": [{"name": "a"}], "ratio": 0.1, "tags": ["a", "b", "c"]}),
    ];
    let n_rendered = cases.len();
    for spec in bad.iter().chain(&good) {
        let obj = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec});
        cases.push((
            widgets.to_string_lossy().to_string(),
            "example.com/v1".into(),
            obj,
        ));
    }
    let theirs = python_verdicts(&cases);
    let (world, opts) = project(&[]);
    let (set, _) = skyc_core::load_crds(&world, &opts.config);
    let set = set.unwrap();
    let set = &*set;
    let widget_set = {
        let w = MemoryWorld::new([(
            "crds/w.yaml",
            include_str!("fixtures/crds/widgets.example.com.yaml"),
        )]);
        let config = Config::parse("sky.toml", "[crds]\npaths = [\"crds\"]\n").unwrap();
        skyc_core::load_crds(&w, &config).0.unwrap()
    };
    let widget_set = &*widget_set;
    for (i, (_, api_version, obj)) in cases.iter().enumerate() {
        let kind = obj["kind"].as_str().unwrap();
        let v = set
            .by_kind(api_version, kind)
            .or_else(|| widget_set.by_kind(api_version, kind))
            .unwrap();
        let findings = skyc_schema::crd::validate(&v.schema, obj);
        let ours = findings.is_empty();
        let want = if i < n_rendered {
            true
        } else {
            i - n_rendered >= bad.len()
        };
        assert_eq!(ours, want, "skyc on case {i} {obj}: {findings:?}");
        assert_eq!(theirs[i], want, "jsonschema on case {i} {obj}");
    }
}

/// `skyc import` with the project's CRDs: custom resources become `crd.…` calls (fields named
/// like keywords passed as `**{...}`), the source renders back to the input (checked by the
/// import itself), and a custom resource that breaks its schema is an error at its YAML line.
#[test]
fn import_turns_custom_resources_into_constructor_calls() {
    use skyc_core::import::{import, ImportOptions, Input};
    let routes = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: kw.example.com\n  names: {kind: Route}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          from: {type: string}\n          spec: {type: object, properties: {in: {type: integer, maximum: 5}}}\n";
    let (world, opts) = project(&[("crds/routes.yaml", routes)]);
    let index = skyc_core::load_crds(&world, &opts.config).0.unwrap();
    let yaml = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: home\nspec:\n  selector:\n    matchLabels: {app: home}\n  endpoints:\n  - port: http\n    interval: 30s\n---\napiVersion: kw.example.com/v1\nkind: Route\nmetadata: {name: r}\nfrom: somewhere\nspec: {in: 3}\n";
    let opts = ImportOptions {
        crds: Some(index.clone()),
        ..ImportOptions::default()
    };
    let out = import(
        &[Input {
            name: "in.yaml",
            text: yaml,
        }],
        &opts,
    );
    assert!(
        !out.diagnostics.iter().any(|d| d.is_error()),
        "{:#?}",
        out.diagnostics
    );
    assert_eq!(out.objects, 2);
    assert!(
        out.source
            .contains("crd.monitoring_coreos_com.v1.ServiceMonitor("),
        "{}",
        out.source
    );
    assert!(
        out.source
            .contains("**{\n                \"from\": \"somewhere\","),
        "{}",
        out.source
    );

    let bad = yaml.replace("spec: {in: 3}", "spec: {in: 7}");
    let out = import(
        &[Input {
            name: "in.yaml",
            text: &bad,
        }],
        &opts,
    );
    let d = out
        .diagnostics
        .iter()
        .find(|d| d.code == "SKY0414")
        .unwrap_or_else(|| panic!("{:#?}", out.diagnostics));
    assert_eq!(d.span.as_ref().unwrap().start.line, 16, "{d:?}");
    assert!(out.source.is_empty());
    // Without the CRDs, the kind is unknown.
    let out = import(
        &[Input {
            name: "in.yaml",
            text: yaml,
        }],
        &ImportOptions::default(),
    );
    assert!(out.diagnostics.iter().any(|d| d.code == "SKY0703"));
}
