//! Rendering a service without the mesh must not decode the Envoy schema (1,600 types): the
//! stdlib loads `mesh.sky`, which may only reach `envoy.` inside functions. Its own test
//! binary, so no other test has touched the schema first.

mod common;

use common::compile_example;

#[test]
fn services_without_the_mesh_never_decode_envoy() {
    let out = compile_example(
        "home-srv",
        &[("cluster", "northwest"), ("environment", "qa")],
    );
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    assert!(
        !skyc_schema::envoy::is_loaded(),
        "rendering home-srv decoded the Envoy schema"
    );
    let out = compile_example("mesh", &[("environment", "qa")]);
    assert!(!out.has_errors(), "{:#?}", out.diagnostics);
    assert!(skyc_schema::envoy::is_loaded());
}
