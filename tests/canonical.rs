//! Lowering checks most objects against their `k8s-openapi` struct without rebuilding them
//! (`lower::canonicalize`): the JSON skyc writes must then be exactly what the struct would
//! write. This test rebuilds every object the render fixtures and the workload of the
//! benchmarks produce through its struct and compares the bytes, so a value whose canonical
//! form the fast path gets wrong (a timestamp, a float, a map order) fails here.

mod common;

use common::{fixtures, load_fixture, run};
use serde_json::{Map, Value};
use skyc_schema::k8s::k8s;

/// The struct's form of `json`, with apiVersion, kind and metadata first as skyc writes them.
fn through_struct(api_version: &str, kind: &str, json: &Value) -> String {
    let k = k8s();
    let id = k
        .schema
        .by_kind(api_version, kind)
        .expect("a known kind")
        .id;
    let lowered = k
        .lower(id, json.clone())
        .expect("a top-level kind")
        .expect("it lowers");
    let Value::Object(mut obj) = lowered else {
        panic!("an object")
    };
    let mut out = Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = obj.shift_remove(key) {
            out.insert(key.to_string(), v);
        }
    }
    out.extend(obj);
    serde_json::to_string(&Value::Object(out)).unwrap()
}

fn check(name: &str, objects: &[skyc_core::Object]) {
    assert!(!objects.is_empty(), "{name} rendered nothing");
    // Custom resources have no struct (their metadata goes through ObjectMeta's; the render
    // snapshots show the rest).
    let builtin = |o: &&skyc_core::Object| k8s().schema.by_kind(&o.api_version, &o.kind).is_some();
    for o in objects.iter().filter(|o| !o.is_xds()).filter(builtin) {
        let json = o.json();
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            through_struct(&o.api_version, &o.kind, &json),
            "{name}: {} {} differs from its k8s-openapi form",
            o.kind,
            o.name
        );
    }
}

#[test]
fn rendered_objects_are_in_their_structs_canonical_form() {
    for path in fixtures("render") {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        check(&name, &run(&load_fixture(&path)).objects);
    }
    let world = skyc_core::MemoryWorld::new([
        (
            "lib.sky",
            include_str!("../benches/peers/skyc/skyc_lib.sky"),
        ),
        (
            "main.sky",
            &include_str!("../benches/peers/skyc/skyc_main.sky")
                .replace("@N@", "20")
                .replace("skyc_lib.sky", "lib.sky"),
        ),
    ]);
    let out = skyc_core::compile(&world, "main.sky", &Default::default());
    check("peers workload", &out.objects);
}

#[test]
fn values_the_structs_rewrite_are_rendered_as_the_structs_write_them() {
    // Timestamps, byte strings, floats and quantities given as numbers take the slow path.
    let src = r#"
def main(ctx):
    return [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"b": "aGk=", "a": "eA=="}},
        {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e", "creationTimestamp": "2024-01-02T03:04:05+00:00"},
         "involvedObject": {"name": "x"}, "eventTime": "2024-01-02T03:04:05.123456Z"},
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "l"},
         "spec": {"limits": [{"type": "Container", "max": {"memory": 1000, "cpu": "2"}}]}},
    ]
"#;
    let world = skyc_core::MemoryWorld::new([("main.sky", src)]);
    let out = skyc_core::compile(&world, "main.sky", &Default::default());
    assert!(!out.has_errors(), "{:?}", out.diagnostics);
    check("rewritten values", &out.objects);
}
