//! The one helper the tests use: run the pipeline on a fixture and render the result.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use skyc_core::{compile, Config, MemoryWorld, Options, Outcome};
use skyc_diag::render::{human, HumanOptions};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// A fixture: one or more files in memory, with variables from `# vars:` headers.
pub struct Fixture {
    pub world: MemoryWorld,
    pub entry: String,
    pub opts: Options,
}

pub fn load_fixture(path: &Path) -> Fixture {
    let text = std::fs::read_to_string(path).unwrap();
    let entry = path.file_name().unwrap().to_str().unwrap().to_string();
    let mut files: Vec<(String, String)> = vec![(entry.clone(), String::new())];
    let mut vars = BTreeMap::new();
    let mut crds = Vec::new();
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("# vars:") {
            for kv in v.split_whitespace() {
                let (k, v) = kv.split_once('=').expect("vars are k=v");
                vars.insert(k.to_string(), v.to_string());
            }
        }
        if let Some(f) = line.strip_prefix("# file:") {
            files.push((f.trim().to_string(), String::new()));
            continue;
        }
        // `# crd: NAME` puts `fixtures/crds/NAME` (a CRD file) into the project as `crds/…`.
        if let Some(f) = line.strip_prefix("# crd:") {
            let name = f.trim();
            let crd = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/crds")
                .join(name);
            let text =
                std::fs::read_to_string(&crd).unwrap_or_else(|e| panic!("{}: {e}", crd.display()));
            let base = name.rsplit('/').next().unwrap_or(name);
            crds.push((format!("crds/{base}"), text));
        }
        let cur = &mut files.last_mut().unwrap().1;
        cur.push_str(line);
        cur.push('\n');
    }
    let mut world = MemoryWorld::default();
    let mut config = Config::default();
    for (name, text) in files.into_iter().chain(crds) {
        if name == "sky.toml" {
            config = Config::parse("sky.toml", &text).expect("fixture sky.toml parses");
        }
        world.files.insert(name, Arc::from(text.as_str()));
    }
    Fixture {
        world,
        entry,
        opts: Options {
            vars,
            config,
            // Fixtures run everything `skyc check` runs, lint included.
            lint: true,
            ..Options::default()
        },
    }
}

pub fn run(f: &Fixture) -> Outcome {
    compile(&f.world, &f.entry, &f.opts)
}

/// Diagnostics as a user sees them (no colour), one after another.
pub fn render_diagnostics(o: &Outcome) -> String {
    let sources = o.sources.clone();
    let lookup = move |name: &str| {
        sources.get(name).cloned().or_else(|| {
            name.strip_prefix("@stdlib//")
                .and_then(skyc_stdlib::module)
                .map(Arc::from)
        })
    };
    human(
        &o.diagnostics,
        &lookup,
        HumanOptions {
            color: false,
            width: 100,
        },
    )
}

/// The sorted list of fixture files in a directory.
pub fn fixtures(dir: &str) -> Vec<std::path::PathBuf> {
    fixture_files(dir, "sky")
}

/// The sorted files with extension `ext` in `fixtures/<dir>`.
pub fn fixture_files(dir: &str, ext: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dir);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    v.sort();
    v
}

/// Runs `kubernetes-validate --strict` (`SKYC_KUBERNETES_VALIDATE`, as scripts/test.sh installs
/// it) for the Kubernetes version skyc targets on rendered files; fails the test if any fails.
pub fn validate_strict(files: &[std::path::PathBuf]) {
    let validator = std::env::var_os("SKYC_KUBERNETES_VALIDATE")
        .map_or_else(|| "kubernetes-validate".into(), std::path::PathBuf::from);
    let version = format!("{}.0", skyc_schema::k8s::KUBERNETES_VERSION);
    let out = std::process::Command::new(validator)
        .args(["--strict", "--quiet", "-k", &version])
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run kubernetes-validate ({e}); run the tests with scripts/test.sh, which installs it"));
    assert!(
        out.status.success(),
        "kubernetes-validate --strict failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One set of `--var` values.
pub type VarSet = &'static [(&'static str, &'static str)];

/// Every example with the variable sets it is rendered for in the tests.
pub const EXAMPLES: &[(&str, &[VarSet])] = &[
    (
        "home-srv",
        &[
            &[("cluster", "northwest"), ("environment", "qa")],
            &[("cluster", "southeast"), ("environment", "prod")],
        ],
    ),
    (
        "multi-env",
        &[&[("environment", "qa")], &[("environment", "prod")]],
    ),
    ("raw-k8s", &[&[]]),
    ("custom-resources", &[&[]]),
    ("cron", &[&[]]),
    (
        "mesh",
        &[&[("environment", "qa")], &[("environment", "prod")]],
    ),
    (
        "migration",
        &[
            &[("move_settlement", "off")],
            &[("move_settlement", "both")],
            &[("move_settlement", "on")],
        ],
    ),
];

/// Compiles `examples/<example>/main.sky` with the given variables, from disk, as the CLI does.
pub fn compile_example(example: &str, vars: &[(&str, &str)]) -> Outcome {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(example);
    let world = skyc_core::DiskWorld::new(&dir, Some(&dir)).unwrap();
    let config = match std::fs::read_to_string(dir.join("sky.toml")) {
        Ok(t) => Config::parse("sky.toml", &t).unwrap(),
        Err(_) => Config::default(),
    };
    let opts = Options {
        vars: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config,
        ..Options::default()
    };
    compile(&world, "main.sky", &opts)
}

/// Runs `envoy --mode validate` (`SKYC_ENVOY`, as scripts/test.sh installs it) on a bootstrap
/// file; Err carries Envoy's output.
pub fn envoy_validate(file: &Path) -> Result<(), String> {
    let envoy =
        std::env::var_os("SKYC_ENVOY").map_or_else(|| "envoy".into(), std::path::PathBuf::from);
    let out = std::process::Command::new(&envoy)
        .args(["--mode", "validate", "--log-level", "warn", "-c"])
        .arg(file)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{}` ({e}); run the suite with `bash scripts/test.sh`, which installs it",
                envoy.display()
            )
        });
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
