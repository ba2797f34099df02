//! How long an editor waits for diagnostics: `skyc lsp` (the release binary) gets a
//! 1,000-line file, then edits of it; each edit is timed from `didChange` to the
//! `publishDiagnostics` for it (parse, typecheck, evaluation, validation and lint of the whole
//! file). Target: 50 ms on a 2-core machine. Run with `cargo bench -p skyc --bench lsp_latency`.

#[path = "../tests/support/lsp_client.rs"]
mod lsp_client;

use lsp_client::{uri, Server};
use serde_json::json;
use std::time::Instant;

/// A realistic 1,000-line entry file: services through the stdlib plus typed objects.
fn source(lines: usize) -> String {
    let mut s = String::from("load(\"@stdlib//service.sky\", \"cron_job\", \"service\")\n\ndef main(ctx):\n    out = []\n");
    let mut i = 0;
    while s.lines().count() < lines - 2 {
        s += &format!(
            r#"    # Service {i}: a web backend and its nightly job.
    out += service(
        name = "svc-{i}",
        owner = "team-{t}",
        image = "registry.example.com/svc-{i}@sha256:{digest}",
        replicas = 3,
        cpu = "250m",
        mem = "256Mi",
        env = {{"LOG_LEVEL": "info", "SERVICE_INDEX": "{i}"}},
        health_path = "/healthz",
    )
    out += cron_job(
        name = "svc-{i}-nightly",
        owner = "team-{t}",
        schedule = "{m} 3 * * *",
        command = ["bin/nightly", "--service=svc-{i}"],
        image = "registry.example.com/svc-{i}@sha256:{digest}",
    )
    out.append(k8s.core.v1.ConfigMap(
        metadata = {{"name": "svc-{i}-settings", "labels": {{"owner": "team-{t}"}}}},
        data = {{"feature.flags": "a,b,c", "index": "{i}"}},
    ))
"#,
            t = i % 7,
            m = i % 60,
            digest = "0".repeat(64),
        );
        i += 1;
    }
    s += "    return out\n";
    s
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("sky.toml"), "").unwrap();
    let text = source(1000);
    let path = root.join("main.sky");
    std::fs::write(&path, &text).unwrap();
    let file = uri(&path);
    let mut s = Server::start(env!("CARGO_BIN_EXE_skyc"), &[]);
    s.initialize(&root);
    let t = Instant::now();
    s.open(&file, &text);
    let first = s.diagnostics(&file);
    let open_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert!(
        !first.iter().any(|d| d["severity"] == 1),
        "the benchmark file has errors: {first:#?}"
    );
    let mut times = Vec::new();
    for version in 2..32 {
        // An edit a user makes: change a replica count.
        let edited = text.replacen(
            "replicas = 3",
            &format!("replicas = {}", version % 5 + 2),
            1,
        );
        let t = Instant::now();
        s.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": file, "version": version}, "contentChanges": [{"text": edited}]}),
        );
        s.diagnostics(&file);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    s.shutdown();
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p90 = times[times.len() * 9 / 10];
    println!(
        "lsp diagnostics, {} lines, {} objects' worth: first open {open_ms:.1} ms; after an edit: median {median:.1} ms, p90 {p90:.1} ms, min {:.1} ms (target: 50 ms)",
        text.lines().count(),
        text.matches("service(").count() * 6,
        times[0]
    );
}
