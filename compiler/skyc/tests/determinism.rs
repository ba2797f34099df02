//! Output depends on the input files and flags only: rendering the examples from another
//! working directory, from a copy of the project written in reverse order (so directories list
//! differently), with another locale, time zone, home and extra environment variables, gives
//! the same bytes as a plain render, in two processes and twice in one process.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// (example directory, entry file, flags)
const CASES: &[(&str, &str, &[&str])] = &[
    (
        "home-srv",
        "main.sky",
        &["--var", "cluster=northwest", "--var", "environment=qa"],
    ),
    ("multi-env", "main.sky", &["--var", "environment=prod"]),
    ("mesh", "main.sky", &[]),
    ("cron", "main.sky", &[]),
    ("migration", "main.sky", &[]),
    ("raw-k8s", "main.sky", &[]),
    ("custom-resources", "main.sky", &[]),
    ("skycfg/k8s", "main.cfg", &[]),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Copies `from` into `to`, creating entries in reverse name order.
fn copy_reversed(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries.reverse();
    for p in entries {
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_reversed(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Runs skyc; `odd` gives it a hostile environment.
fn run(cwd: &Path, args: &[String], odd: bool) -> Vec<u8> {
    let mut c = Command::new(env!("CARGO_BIN_EXE_skyc"));
    c.args(args).current_dir(cwd);
    if odd {
        c.env("LANG", "tr_TR.UTF-8")
            .env("LC_ALL", "tr_TR.UTF-8")
            .env("TZ", "Pacific/Chatham")
            .env("HOME", "/nonexistent")
            .env("SKYC_CLUSTER", "southeast")
            .env("KUBECONFIG", "/nonexistent/config")
            .env("SOURCE_DATE_EPOCH", "1")
            .env("RANDOM_SEED", "42");
    } else {
        c.env_remove("LANG").env_remove("LC_ALL").env("TZ", "UTC");
    }
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "skyc {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn args(entry: &Path, flags: &[&str], rest: &[&str]) -> Vec<String> {
    let mut a = vec!["render".to_string(), entry.to_string_lossy().into_owned()];
    a.extend(flags.iter().map(|s| s.to_string()));
    a.extend(rest.iter().map(|s| s.to_string()));
    a
}

#[test]
fn renders_are_byte_identical_whatever_the_surroundings() {
    let ws = workspace();
    for (example, entry, flags) in CASES {
        let tmp = tempfile::tempdir().unwrap();
        let copy = tmp.path().join("copy");
        copy_reversed(&ws.join("examples").join(example), &copy);
        let elsewhere = tmp.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        let plain = Path::new("examples").join(example).join(entry);
        let copied = copy.join(entry);
        for format in [&["--format", "yaml"][..], &["--format", "json"][..]] {
            let a = run(&ws, &args(&plain, flags, format), false);
            let b = run(&elsewhere, &args(&copied, flags, format), true);
            let c = run(&ws, &args(&plain, flags, format), false);
            assert!(!a.is_empty(), "{example}: nothing rendered");
            assert!(
                a == b,
                "{example} {format:?}: differs from another directory and environment"
            );
            assert!(a == c, "{example} {format:?}: differs between two runs");
        }
        let out_a = tmp.path().join("out-a");
        let out_b = tmp.path().join("out-b");
        run(
            &ws,
            &args(&plain, flags, &["-o", out_a.to_str().unwrap()]),
            false,
        );
        run(
            &elsewhere,
            &args(&copied, flags, &["-o", out_b.to_str().unwrap()]),
            true,
        );
        let (fa, fb) = (support::files(&out_a), support::files(&out_b));
        assert!(fa.contains_key("manifest.json"), "{example}: no manifest");
        assert!(
            fa == fb,
            "{example}: -o output differs ({:?} vs {:?})",
            fa.keys().collect::<Vec<_>>(),
            fb.keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn twice_in_one_process() {
    let root = workspace().join("examples/home-srv");
    let world = skyc_core::DiskWorld::new(&root, None).unwrap();
    let opts = skyc_core::Options {
        vars: [("cluster", "southeast"), ("environment", "prod")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        config: skyc_core::Config::parse(
            "sky.toml",
            &std::fs::read_to_string(root.join("sky.toml")).unwrap(),
        )
        .unwrap(),
        ..Default::default()
    };
    let render = || {
        let out = skyc_core::compile(&world, "main.sky", &opts);
        assert!(!out.has_errors(), "{:?}", out.diagnostics);
        let mut text = skyc_core::emit::stream(&out.objects, skyc_core::emit::Format::Yaml);
        text.push_str(&skyc_core::emit::stream(
            &out.objects,
            skyc_core::emit::Format::Json,
        ));
        text
    };
    let first = render();
    // Something else in between, to disturb caches and heaps.
    let _ = skyc_core::compile(&world, "main_test.sky", &opts);
    assert_eq!(first, render());
}
