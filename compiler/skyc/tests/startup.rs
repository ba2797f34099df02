//! How the `skyc` executable is linked, which decides part of every run's start-up cost (see
//! `ARCHITECTURE.md`, Decisions, "Performance").

/// On Linux with glibc the executable is linked at a fixed address (`build.rs`): as a
/// position-independent executable it carried tens of thousands of relocations that the
/// dynamic loader applied at every start.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_executable_is_linked_at_a_fixed_address() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_skyc")).expect("the skyc executable reads");
    assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
    // `e_type` (little-endian on the targets this runs on): 2 is a fixed-address executable,
    // 3 a position-independent one (or a shared library).
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    assert_eq!(
        e_type, 2,
        "skyc is linked position-independent (ELF type {e_type}); build.rs should pass -no-pie"
    );
}
