//! `skyc render -o DIR` is all or nothing: killed at any moment while it renders and writes,
//! it leaves DIR holding exactly the previous complete output or exactly the new one, never a
//! mix and never nothing. The test measures how long a render of a few thousand objects takes,
//! then kills renders at moments spread over that time and compares DIR, file by file, with
//! the two complete outputs.

#![cfg(unix)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

const MAIN: &str = r#"
def main(ctx):
    gen = ctx.vars["gen"]
    return [
        k8s.core.v1.ConfigMap(
            metadata = {"name": "cm-%d" % i, "namespace": "apps"},
            data = {"generation": gen, "payload": gen * 200},
        )
        for i in range(600 if gen == "old" else 500)
    ]
"#;

const TOML: &str = r#"
[vars.gen]
description = "Which generation of the output to render."
allowed = ["old", "new"]
"#;

fn skyc(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skyc"));
    c.args(args).current_dir(dir).env("NO_COLOR", "1");
    c
}

fn copy_dir(from: &Path, to: &Path) {
    for (rel, bytes) in support::files(from) {
        let p = to.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn render(dir: &Path, gen: &str, out: &str) {
    let o = skyc(
        dir,
        &[
            "render",
            "main.sky",
            "--var",
            &format!("gen={gen}"),
            "-o",
            out,
            "-q",
        ],
    )
    .output()
    .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_killed_render_leaves_the_old_or_the_new_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("main.sky"), MAIN).unwrap();
    std::fs::write(dir.join("sky.toml"), TOML).unwrap();
    render(dir, "new", "new-ref");
    let start = Instant::now();
    render(dir, "old", "old-ref");
    let full = start.elapsed();
    let old = support::files(&dir.join("old-ref"));
    let new = support::files(&dir.join("new-ref"));
    assert!(old.len() > 600 && new.len() > 500 && old != new);

    let (mut saw_old, mut saw_new) = (0, 0);
    let kills = 12;
    for k in 0..kills {
        let out = dir.join("out");
        if out.exists() {
            std::fs::remove_dir_all(&out).unwrap();
        }
        copy_dir(&dir.join("old-ref"), &out);
        let mut child = skyc(
            dir,
            &["render", "main.sky", "--var", "gen=new", "-o", "out", "-q"],
        )
        .spawn()
        .unwrap();
        // Moments spread from the start to about the time a whole render takes, and one
        // well after it (that render must have finished).
        let frac = if k == kills - 1 {
            3.0
        } else {
            1.2 * k as f64 / kills as f64
        };
        std::thread::sleep(full.mul_f64(frac));
        let _ = child.kill();
        let _ = child.wait();
        let now = support::files(&out);
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            let extra: Vec<&String> = now
                .keys()
                .filter(|k| !old.contains_key(*k))
                .take(3)
                .collect();
            panic!(
                "kill {k} after {:?}: out/ is neither output ({} files; e.g. {extra:?})",
                full.mul_f64(frac),
                now.len()
            );
        }
        // Staging directories of killed renders are hidden siblings, never inside out/.
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name.starts_with('.')
                    || ["main.sky", "sky.toml", "out", "old-ref", "new-ref"]
                        .contains(&name.as_str()),
                "unexpected {name}"
            );
        }
    }
    eprintln!("full render {full:?}; kills leaving the old output: {saw_old}, the new: {saw_new}");
    assert!(
        saw_old > 0,
        "no kill landed before the swap; the test did not test anything"
    );
    assert!(
        saw_new > 0,
        "no render finished; the test did not test anything"
    );
}

#[test]
fn a_failed_render_leaves_the_old_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("main.sky"), MAIN).unwrap();
    std::fs::write(dir.join("sky.toml"), TOML).unwrap();
    render(dir, "old", "out");
    let before = support::files(&dir.join("out"));
    std::fs::write(
        dir.join("main.sky"),
        MAIN.replace("for i in range", "for i in rnge"),
    )
    .unwrap();
    let o = skyc(
        dir,
        &["render", "main.sky", "--var", "gen=new", "-o", "out"],
    )
    .output()
    .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(support::files(&dir.join("out")), before);
}

/// A directory of many files (written by two threads) holds every object's file, whole, and
/// nothing else: each file the index lists has the digest the index gives, in the namespaces'
/// directories and at the top.
#[test]
fn every_file_of_a_large_output_is_written_whole() {
    use sha2::Digest;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let main = r#"
def main(ctx):
    return [
        k8s.core.v1.ConfigMap(
            metadata = {"name": "cm-%d" % i, "namespace": ["apps", "web", "db"][i % 3]},
            data = {"payload": "x" * i},
        )
        for i in range(700)
    ] + [k8s.core.v1.Namespace(metadata = {"name": n}) for n in ["apps", "web", "db"]]
"#;
    std::fs::write(dir.join("main.sky"), main).unwrap();
    let o = skyc(dir, &["render", "main.sky", "-o", "out", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut files = support::files(&dir.join("out"));
    let index: serde_json::Value =
        serde_json::from_slice(&files.remove("manifest.json").expect("an index")).unwrap();
    let listed = index["objects"].as_array().unwrap();
    assert_eq!(listed.len(), 703);
    for entry in listed {
        let file = entry["file"].as_str().unwrap();
        let bytes = files
            .remove(file)
            .unwrap_or_else(|| panic!("{file} is missing"));
        let sha: String = sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry["sha256"], sha.as_str(), "{file}");
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.contains(&format!("name: {}\n", entry["name"].as_str().unwrap())));
    }
    assert!(
        files.is_empty(),
        "files not in the index: {:?}",
        files.keys()
    );
    assert!(listed
        .iter()
        .any(|e| e["file"] == "web/configmap-cm-1.yaml"));
    assert!(listed.iter().any(|e| e["file"] == "namespace-db.yaml"));
}
