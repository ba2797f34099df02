//! A fixture-like project (`main.sky`, `# file:` sections) compiled, checked and emitted.
//! The harness is `skyc_tests::fuzz::eval`.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Counts allocations so skyc's periodic memory check works as in the CLI.
#[global_allocator]
static ALLOCATOR: skyc_tests::fuzz::CountingAllocator = skyc_tests::fuzz::CountingAllocator;

fuzz_target!(|data: &[u8]| {
    skyc_tests::fuzz::eval(data);
});
