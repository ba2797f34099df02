//! The examples' own tests (`examples/*/*_test.sky`) pass under `skyc test`.

use std::path::Path;
use std::process::Command;

#[test]
fn example_tests_pass() {
    let examples = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples"));
    let out = Command::new(env!("CARGO_BIN_EXE_skyc"))
        .arg("test")
        .arg(examples)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // Every example with tests ran.
    assert!(stdout.contains("home-srv/main_test.sky::"), "{stdout}");
    assert!(stdout.contains("mesh/main_test.sky::"), "{stdout}");
    assert!(stdout.contains("migration/main_test.sky::"), "{stdout}");
    assert!(stdout.contains("cron/main_test.sky::"), "{stdout}");
}
