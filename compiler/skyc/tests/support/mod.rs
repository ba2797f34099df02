//! Shared by the integration tests: real validators for skyc's reports, directory snapshots.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

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

/// Every file under `dir`, by path relative to it (with `/`), with its bytes.
pub fn files(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}
