//! Each stage of the pipeline on the peers workload (N = 10 and 1,000 services):
//! `cargo bench -p skyc_benches --bench stages`.
//!
//! parse, typecheck, evaluate, lower and validate run inside `skyc_core::compile`, which
//! records each stage's wall time (`Outcome::timings`, also `skyc render --timings`); their
//! benchmarks compile the workload and report that stage's share (criterion's `iter_custom`).
//! `compile` is the whole library pipeline; `emit_yaml` and `emit_json` write the objects.
//! The first compilation in a process also builds the schemas and the stdlib, which later ones
//! share: these figures are the warm, per-file costs. The whole process, cold start included,
//! is what `benches/peers/run.sh` measures.

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
        group.finish();
    }
}

criterion_group!(benches, stages);
criterion_main!(benches);
