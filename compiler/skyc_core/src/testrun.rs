//! `skyc test`: every `test_*` function of a `*_test.sky` file, each run in a fresh heap under
//! the usual limits. A test fails when it raises (an `asserts.*` that does not hold is SKY0801)
//! or when a constructor it calls records an error.

use crate::eval::{call_function, evaluate_as, ExtraArg};
use crate::{Options, Outcome, World};
use skyc_diag::Diagnostic;
use std::time::{Duration, Instant};

/// One test function's result.
#[derive(Debug)]
pub struct TestCase {
    pub name: String,
    pub duration: Duration,
    /// The first error; `None` when the test passed.
    pub failure: Option<Diagnostic>,
    /// Further errors the test produced.
    pub more: Vec<Diagnostic>,
    pub prints: Vec<String>,
}

/// The tests of one file.
#[derive(Debug)]
pub struct TestFile {
    pub file: String,
    pub cases: Vec<TestCase>,
    /// Loading and evaluating the file itself (errors here mean no test ran).
    pub outcome: Outcome,
}

/// Whether a file name is a test file.
pub fn is_test_file(name: &str) -> bool {
    name.ends_with("_test.sky")
}

/// Runs the tests of `file` (root-relative in `world`), in definition order.
pub fn run_tests(world: &dyn World, file: &str, opts: &Options) -> TestFile {
    let (evaluated, module) = evaluate_as(world, file, opts, false);
    let mut outcome = evaluated.outcome;
    let mut cases = Vec::new();
    // skycfg runs the tests of the files the main file loads too (each once).
    let mut modules: Vec<(String, starlark::environment::FrozenModule)> = Vec::new();
    if opts.skycfg() {
        modules.extend(evaluated.loaded.into_iter().filter(|(p, _)| p != file));
    }
    if let Some(m) = module {
        modules.push((file.to_string(), m));
    }
    if outcome.has_errors() {
        modules.clear();
    }
    let main = file;
    for (file, module) in modules {
        let file = file.as_str();
        // Tests of a loaded file are named after it.
        let prefix = if file == main {
            String::new()
        } else {
            format!("{file}: ")
        };
        let names: Vec<String> = module
            .names()
            .map(|n| n.as_str().to_string())
            .filter(|n| n.starts_with("test_"))
            .collect();
        let display = outcome
            .sources
            .keys()
            .find(|k| k.ends_with(file))
            .cloned()
            .unwrap_or_else(|| file.to_string());
        for name in names {
            let start = Instant::now();
            let skycfg_t = takes_one_parameter(&module, &name);
            let extra = if skycfg_t {
                ExtraArg::SkycfgT
            } else {
                ExtraArg::None
            };
            let call = call_function(
                &module,
                &display,
                &name,
                &[],
                extra,
                false,
                opts,
                evaluated.crds.clone(),
            );
            let duration = start.elapsed();
            let mut errors: Vec<Diagnostic> = call
                .result
                .err()
                .into_iter()
                .chain(call.recorded.into_iter().filter(Diagnostic::is_error))
                .collect();
            skyc_diag::normalize(&mut errors);
            let failure = if errors.is_empty() {
                None
            } else {
                Some(errors.remove(0))
            };
            cases.push(TestCase {
                name: format!("{prefix}{name}"),
                duration,
                failure,
                more: errors,
                prints: call.prints,
            });
        }
    }
    skyc_diag::normalize(&mut outcome.diagnostics);
    TestFile {
        file: file.to_string(),
        cases,
        outcome,
    }
}

/// Whether the test function takes one parameter: skycfg's protocol, `def test_x(t)`.
fn takes_one_parameter(module: &starlark::environment::FrozenModule, name: &str) -> bool {
    use starlark::docs::{DocItem, DocMember};
    let Ok(f) = module.get(name) else {
        return false;
    };
    match f.value().documentation() {
        DocItem::Member(DocMember::Function(d)) => {
            d.params.pos_only.len() + d.params.pos_or_named.len() == 1
        }
        _ => false,
    }
}
