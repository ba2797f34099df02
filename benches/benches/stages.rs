//! Each stage of the pipeline on the peers workload (N = 10 and 1,000 services):
//! `cargo bench -p skyc_benches --bench stages`.
//!
//! parse, typecheck, evaluate, lower and validate run inside `skyc_core::compile`, which
//! records each stage's wall time (`Outcome::timings`, also `skyc render --timings`); their
//! benchmarks compile the workload and report that stage's share (criterion's `iter_custom`).
//! `compile` is the whole library pipeline; `emit_yaml` and `emit_json` write the objects as
//! one stream, `emit_directory` as the files of an output directory (YAML, with the index);
//! the time per object should not grow with N.
//! The first compilation in a process also builds the schemas and the stdlib, which later ones
//! share: these figures are the warm, per-file costs. The whole process, cold start included,
//! is what `benches/peers/run.sh` measures.
//!
//! `crds/unused` compiles the N = 10 workload in a project that declares the real CRDs of
//! `tests/fixtures/crds/corpus/` (eleven files, 0.6 MB, over sixty kinds) and uses none of
//! them; `crds/none` is the same project without the declaration. They should not differ:
//! the CRDs are read only when a file uses them (`tests/crds.rs` checks that none is read).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use skyc_core::emit::{self, Format};
use skyc_core::{compile, Options};
use std::time::Duration;

const STAGES: &[&str] = &["parse", "typecheck", "evaluate", "lower", "validate"];

fn stages(c: &mut Criterion) {
    let opts = Options::default();
    for n in [10usize, 1000] {
        let world = skyc_benches::workload(n);
        let warm = compile(&world, "skyc_main.sky", &opts);
        assert!(!warm.has_errors(), "{:?}", warm.diagnostics);
        let mut group = c.benchmark_group(format!("n{n}"));
        group.throughput(Throughput::Elements(n as u64));
        if n >= 1000 {
            group.sample_size(10);
        }
        for stage in STAGES {
            group.bench_function(BenchmarkId::new("stage", stage), |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let out = compile(&world, "skyc_main.sky", &opts);
                        total += out
                            .timings
                            .0
                            .iter()
                            .find(|(s, _)| s == stage)
                            .map_or(Duration::ZERO, |(_, d)| *d);
                    }
                    total
                })
            });
        }
        group.bench_function("compile", |b| {
            b.iter(|| compile(&world, "skyc_main.sky", &opts))
        });
        group.bench_function("emit_yaml", |b| {
            b.iter(|| emit::stream(&warm.objects, Format::Yaml))
        });
        group.bench_function("emit_json", |b| {
            b.iter(|| emit::stream(&warm.objects, Format::Json))
        });
        group.bench_function("emit_directory", |b| {
            b.iter(|| emit::directory(&warm.objects, Format::Yaml))
        });
        group.finish();
    }
}

fn crds(c: &mut Criterion) {
    let corpus =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/crds/corpus");
    let mut declared = skyc_benches::workload(10);
    for e in std::fs::read_dir(&corpus).expect("the CRD corpus") {
        let path = e.expect("a corpus entry").path();
        if path.extension().is_some_and(|x| x == "yaml") {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("a file name");
            let text = std::fs::read_to_string(&path).expect("a CRD file");
            declared
                .files
                .insert(format!("crds/{name}"), text.as_str().into());
        }
    }
    let toml = "[crds]\npaths = [\"crds\"]\n";
    let with = Options {
        config: skyc_core::Config::parse("sky.toml", toml).expect("sky.toml"),
        ..Options::default()
    };
    let none = skyc_benches::workload(10);
    let without = Options::default();
    for (world, opts) in [(&declared, &with), (&none, &without)] {
        let warm = compile(world, "skyc_main.sky", opts);
        assert!(!warm.has_errors(), "{:?}", warm.diagnostics);
    }
    let mut group = c.benchmark_group("crds");
    group.bench_function("unused", |b| {
        b.iter(|| compile(&declared, "skyc_main.sky", &with))
    });
    group.bench_function("none", |b| {
        b.iter(|| compile(&none, "skyc_main.sky", &without))
    });
    group.finish();
}

criterion_group!(benches, stages, crds);
criterion_main!(benches);
