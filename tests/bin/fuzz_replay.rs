//! Runs a fuzz harness on stable, without libFuzzer: triage, and the child process in which
//! `tests/fuzz_regressions.rs` runs each regression input (so that an abort, such as a stack
//! overflow, names its input and does not end the whole test binary).
//!
//! ```text
//! cargo run -p skyc_tests --bin fuzz-replay -- TARGET PATH...   # eval, import, constructors, diff
//! cargo run -p skyc_tests --bin fuzz-replay -- show PATH...     # the program `constructors` generates
//! ```
//!
//! A PATH may be a file or a directory (a corpus); each input's summary is printed with its time.
//! Exits non-zero when a harness panics.

use skyc_tests::fuzz;
use std::path::PathBuf;

// As in the fuzz targets: skyc's periodic memory check needs the allocation count.
#[global_allocator]
static ALLOCATOR: fuzz::CountingAllocator = fuzz::CountingAllocator;

/// The stack of the thread an input runs on: the main thread's under libFuzzer (the size the
/// stack overflows were found with).
const STACK_BYTES: usize = 8 << 20;

fn harness(target: &str) -> Option<fn(&[u8]) -> fuzz::Summary> {
    Some(match target {
        "eval" => fuzz::eval,
        "import" => fuzz::import,
        "constructors" => fuzz::constructors,
        "diff" => fuzz::diff,
        _ => return None,
    })
}

fn inputs(paths: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        let p = PathBuf::from(p);
        match std::fs::read_dir(&p) {
            Ok(rd) => {
                let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
                files.sort();
                out.extend(files);
            }
            Err(_) => out.push(p),
        }
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((target, paths)) = args.split_first() else {
        eprintln!("usage: fuzz-replay TARGET|show PATH...");
        std::process::exit(2);
    };
    if target == "show" {
        for path in inputs(paths) {
            let data = std::fs::read(&path).unwrap();
            println!("# {}\n{}", path.display(), fuzz::constructors_source(&data));
        }
        return;
    }
    let Some(run) = harness(target) else {
        eprintln!("fuzz-replay: no fuzz target `{target}` (eval, import, constructors, diff)");
        std::process::exit(2);
    };
    for path in inputs(paths) {
        // libFuzzer may replace corpus files while this runs.
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        let start = std::time::Instant::now();
        // The thread is named after the input, which a stack overflow message names.
        let summary = std::thread::Builder::new()
            .name(path.display().to_string())
            .stack_size(STACK_BYTES)
            .spawn(move || run(&data))
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{} panics", path.display()));
        println!(
            "{:>8.3}s {summary:?} {}",
            start.elapsed().as_secs_f64(),
            path.display()
        );
    }
}
