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

#[test]
fn every_corpus_crd_builds_and_every_constructor_typechecks() {
    let (world, opts) = project(&[]);
    let (set, problems) = skyc_core::load_crds(&world, &opts.config);
    assert!(problems.is_empty(), "{problems:#?}");
    let set = set.expect("the corpus loads");
    assert!(set.versions.len() >= corpus().len());
    // Every constructor, named in a function the typechecker checks and main does not call.
    let mut src = String::from("def every():\n    return [\n");
    for v in &set.versions {
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
    assert_eq!(out.objects[0].json["spec"]["hosts"][0], "a");
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
