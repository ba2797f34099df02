//! Shared by the tests that check skyc's reports with real validators.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A path from an environment variable that `scripts/test.sh` sets.
pub fn env_path(var: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{var} is not set: run the suite with `bash scripts/test.sh`"))
}

/// Runs a Python validation script (`SKYC_PYTHON`) with `args` as `sys.argv[1:]`; Err carries
/// the validator's message.
pub fn python_check(script: &str, args: &[&Path]) -> Result<(), String> {
    let out = Command::new(env_path("SKYC_PYTHON"))
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).to_string())
    }
}
