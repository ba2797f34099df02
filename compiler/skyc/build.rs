//! Links the `skyc` executable at a fixed address on Linux (see `ARCHITECTURE.md`, Decisions,
//! "Performance"): a position-independent executable of this size carries tens of thousands of
//! relocations that the dynamic loader applies at every start, each one writing to (and so
//! copying) a page of the binary.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
