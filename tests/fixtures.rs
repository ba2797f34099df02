//! Good fixtures render to snapshots; bad fixtures produce snapshot diagnostics.

mod common;

use common::{fixtures, load_fixture, render_diagnostics, run};
use skyc_core::emit::{stream, Format};
use std::collections::BTreeSet;

#[test]
fn render_fixtures() {
    for path in fixtures("render") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let out = run(&load_fixture(&path));
        let errors: Vec<_> = out.diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.is_empty(),
            "{name} has errors:\n{}",
            render_diagnostics(&out)
        );
        insta::assert_snapshot!(
            format!("render__{name}"),
            stream(&out.objects, Format::Yaml)
        );
    }
}

#[test]
fn diagnostic_fixtures() {
    for path in fixtures("diagnostics") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let out = run(&load_fixture(&path));
        assert!(
            out.has_errors() || !out.diagnostics.is_empty(),
            "{name} produced no diagnostics"
        );
        assert!(
            out.objects.is_empty() || !out.has_errors(),
            "{name} rendered objects despite errors"
        );
        // The fixture's name starts with the code it demonstrates.
        let code = name.split('_').next().unwrap().to_ascii_uppercase();
        assert!(
            out.diagnostics.iter().any(|d| d.code == code),
            "{name} should produce {code}, got:\n{}",
            render_diagnostics(&out)
        );
        insta::assert_snapshot!(format!("diag__{name}"), render_diagnostics(&out));
    }
}

/// Every code that a `.sky` file can trigger has a fixture named after it.
#[test]
fn every_code_has_a_fixture() {
    // `skyc import` codes have YAML fixtures in fixtures/import/errors (tests/import.rs).
    let import_errors = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/import/errors"),
    )
    .unwrap()
    .map(|e| e.unwrap().path())
    .collect::<Vec<_>>();
    let have: BTreeSet<String> = fixtures("diagnostics")
        .iter()
        .chain(&import_errors)
        .map(|p| {
            p.file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .split('_')
                .next()
                .unwrap()
                .to_ascii_uppercase()
        })
        .collect();
    // Codes that no single fixture can trigger: command-line, internal and output errors
    // are tested in cli.rs; SKY0107 (unreadable file) needs a file system.
    // SKY0709 (import round trip) is a bug when it fires; tests/import.rs provokes it.
    // SKY0005 (`skyc fmt --check`) is in tests/cli/fmt.case.
    let elsewhere = [
        "SKY0001", "SKY0002", "SKY0003", "SKY0005", "SKY0107", "SKY0108", "SKY0709",
    ];
    let missing: Vec<&str> = skyc_diag::codes::ALL
        .iter()
        .map(|c| c.code)
        .filter(|c| !have.contains(*c) && !elsewhere.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a diagnostics fixture: {missing:?}"
    );
}

/// `docs/diagnostics.md` is generated from the code table; it must not drift.
#[test]
fn diagnostics_doc_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/diagnostics.md");
    let want = skyc_diag::codes::markdown();
    if std::env::var_os("SKYC_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/diagnostics.md is out of date: run `SKYC_UPDATE_DOCS=1 cargo test -p skyc_tests --test fixtures diagnostics_doc_is_current`"
    );
}
