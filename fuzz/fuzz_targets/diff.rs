//! Two renders (split at the first 0xFF byte) parsed and diffed.
//! The harness is `skyc_tests::fuzz::diff`.
#![no_main]

use libfuzzer_sys::fuzz_target;

// Counts allocations so skyc's periodic memory check works as in the CLI.
#[global_allocator]
static ALLOCATOR: skyc_tests::fuzz::CountingAllocator = skyc_tests::fuzz::CountingAllocator;

fuzz_target!(|data: &[u8]| {
    skyc_tests::fuzz::diff(data);
});
