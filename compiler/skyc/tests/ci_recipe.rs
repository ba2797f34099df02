//! The CI recipe (`docs/ci/github-actions.yml`, `.pre-commit-hooks.yaml`) must keep working as
//! skyc changes: every `skyc` command it runs exists and every flag it passes is accepted.

use std::path::Path;
use std::process::Command;

fn workspace() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// The `skyc …` invocations in a text: where a command starts (a line, `run:`, `entry:`, a
/// code span, `xargs`), not prose that mentions skyc.
fn invocations(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| {
            l.split_once("skyc ")
                .map(|(before, rest)| (before.trim_end(), rest))
        })
        .filter(|(before, _)| {
            before.is_empty()
                || ["run:", "entry:", "`", "xargs", "|"]
                    .iter()
                    .any(|p| before.ends_with(p))
        })
        .map(|(_, rest)| rest)
        .filter(|rest| rest.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
        .map(|rest| {
            rest.split_whitespace()
                .take_while(|w| !matches!(*w, ">" | "<" | "|" | "||" | "&&" | "\\"))
                .map(|w| w.trim_matches(|c: char| c == '`' || c == ',' || c == ')'))
                .map(str::to_string)
                .collect()
        })
        .collect()
}

#[test]
fn recipe_commands_and_flags_exist() {
    let mut seen = 0;
    for file in [
        "docs/ci/github-actions.yml",
        ".pre-commit-hooks.yaml",
        "docs/ci.md",
    ] {
        let text = std::fs::read_to_string(workspace().join(file)).unwrap();
        if file.ends_with(".yml") || file.ends_with(".yaml") {
            let _: serde_json::Value = serde_norway::from_str(&text)
                .unwrap_or_else(|e| panic!("{file} is not valid YAML: {e}"));
        }
        for inv in invocations(&text) {
            let Some(sub) = inv.first() else { continue };
            let help = Command::new(env!("CARGO_BIN_EXE_skyc"))
                .args([sub.as_str(), "--help"])
                .output()
                .unwrap();
            assert!(
                help.status.success(),
                "{file}: `skyc {sub}` is not a command"
            );
            let help = String::from_utf8_lossy(&help.stdout).to_string();
            for flag in inv.iter().filter(|w| w.starts_with("--")) {
                let name = flag.split('=').next().unwrap();
                assert!(
                    help.contains(name),
                    "{file}: `skyc {sub}` has no flag {name}"
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 4, "found only {seen} skyc invocations");
}
