//! Writes the Kubernetes schema table (`OUT_DIR/k8s_table.rs`, see `src/k8s/gen.rs`), and
//! copies the Envoy v3 descriptor set that the `envoy-types` crate bundles
//! (`src/generated/types.bin`, compiled with the protoc-gen-validate rules) into `OUT_DIR`.
//!
//! `envoy-types` does not export the bytes, so the build asks cargo itself where the locked
//! version of the package lives (`cargo metadata`, offline when it can): no guessing at cache paths, and the
//! version and checksum are the ones in `Cargo.lock`. It is a build-dependency so that the
//! package is always part of the resolved (and downloaded) graph.

use std::path::PathBuf;
use std::process::Command;

#[macro_use]
#[path = "src/k8s/kinds.rs"]
mod kinds;
#[path = "src/k8s/gen.rs"]
mod gen;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/k8s/gen.rs");
    println!("cargo:rerun-if-changed=src/k8s/kinds.rs");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("k8s_table.rs"), gen::generate()).expect("writing k8s_table.rs");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Offline first: the package is in the graph being built, so it is downloaded. `cargo
    // metadata` resolves the whole workspace though, and a build of one package may not have
    // downloaded every other member's dependencies yet: then ask again, allowed to download.
    let metadata = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.args(["metadata", "--format-version", "1", "--locked"]);
        if offline {
            cmd.arg("--offline");
        }
        cmd.arg("--manifest-path")
            .arg(manifest_dir.join("Cargo.toml"));
        if let Ok(target) = std::env::var("TARGET") {
            cmd.args(["--filter-platform", &target]);
        }
        cmd.output().expect("running `cargo metadata`")
    };
    let mut out = metadata(true);
    if !out.status.success() {
        out = metadata(false);
    }
    if !out.status.success() {
        panic!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("`cargo metadata` prints JSON");
    let pkg = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "envoy-types")
        .expect("envoy-types is a build-dependency, so cargo metadata lists it");
    let manifest = PathBuf::from(pkg["manifest_path"].as_str().unwrap());
    let src = manifest.parent().unwrap().join("src/generated/types.bin");
    println!("cargo:rerun-if-changed={}", src.display());
    let dst = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("envoy-types.bin");
    std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {} failed: {e}", src.display()));
    println!(
        "cargo:rustc-env=SKYC_ENVOY_TYPES_VERSION={}",
        pkg["version"].as_str().unwrap_or("unknown")
    );
}
