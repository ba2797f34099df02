//! The memory limit of an evaluation, enforced for the whole process.
//!
//! Starlark checks its heap limit only every thousand steps and only for its own heap, so a
//! single `"x" * 2000000000`, a loop doubling a list with `l += l`, or `str()` of a value
//! that shares itself exponentially could allocate gigabytes before any check. skyc bounds
//! memory in three layers:
//!
//! 1. Operations that can grow a value in one step (`*` and `+` in user code) check the size
//!    of their result against what is left under the limit *before* allocating, and fail
//!    with SKY0303 at their line.
//! 2. Every thousand steps the evaluator compares the bytes allocated since the evaluation
//!    started with half the limit (Starlark's heap grows in chunks that double, so a heap
//!    using more than half may not get its next chunk under the limit), and stops with
//!    SKY0303 at the running statement.
//! 3. The command line's global allocator counts every byte the process allocates and refuses
//!    to go beyond the baseline plus the limit: it then ends the process at once with SKY0303
//!    (no output is written; see `compiler/skyc/src/memory.rs`).
//!
//! The library itself cannot count allocations: the binary installs a [`Meter`]. Without one
//! (library users, the in-process tests) layers 1 and 2 check sizes against the limit alone.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// What the process has allocated, as counted by the global allocator of the binary.
pub trait Meter: Sync {
    /// Bytes allocated and not yet freed.
    fn allocated(&self) -> u64;
    /// Lets the process allocate at most `cap` bytes in total from now on.
    fn set_cap(&self, cap: u64);
}

static METER: OnceLock<&'static dyn Meter> = OnceLock::new();
/// Bytes allocated when the current limit was set (schemas, stdlib, sources).
static BASE: AtomicU64 = AtomicU64::new(0);
/// The current limit, in bytes above `BASE`.
static LIMIT: AtomicU64 = AtomicU64::new(crate::eval::DEFAULT_MAX_HEAP);
/// Set by the periodic check when it stops an evaluation for memory (rather than time).
static TRIPPED: AtomicBool = AtomicBool::new(false);
/// The file being evaluated, for the message of the last-resort stop (see [`activity`]).
static ACTIVITY: Mutex<String> = Mutex::new(String::new());

/// Installs the process's allocation meter (once, at startup).
pub fn install(meter: &'static dyn Meter) {
    let _ = METER.set(meter);
}

/// Bytes the process has allocated, or 0 without a meter.
pub fn allocated() -> u64 {
    METER.get().map_or(0, |m| m.allocated())
}

/// Sets the memory limit for what follows: `limit` bytes on top of what is allocated now.
/// The process-wide cap (layer 3) follows it.
pub fn set_limit(limit: u64) {
    let base = allocated();
    BASE.store(base, Ordering::Relaxed);
    LIMIT.store(limit, Ordering::Relaxed);
    if let Some(m) = METER.get() {
        m.set_cap(base.saturating_add(limit));
    }
}

/// The current limit in bytes.
pub fn limit() -> u64 {
    LIMIT.load(Ordering::Relaxed)
}

/// Bytes allocated since the limit was set.
pub fn used() -> u64 {
    allocated().saturating_sub(BASE.load(Ordering::Relaxed))
}

/// Bytes that may still be allocated under the limit.
pub fn remaining() -> u64 {
    limit().saturating_sub(used())
}

/// The periodic check (layer 2): whether the evaluation should stop for memory. Remembers
/// that it did, so the error is reported as SKY0303 rather than as a time limit.
pub(crate) fn over_soft_limit() -> bool {
    // Half: Starlark's heap grows in chunks that double, so the next chunk of a heap using
    // more than half the limit may not fit under it.
    let over = used() > limit() / 2;
    if over {
        TRIPPED.store(true, Ordering::Relaxed);
    }
    over
}

/// Whether the last cancelled evaluation was stopped by [`over_soft_limit`] (and forgets it).
pub(crate) fn take_tripped() -> bool {
    TRIPPED.swap(false, Ordering::Relaxed)
}

/// Records what the process is doing (the file being evaluated), or clears it.
pub(crate) fn set_activity(file: Option<&str>) {
    if let Ok(mut a) = ACTIVITY.lock() {
        a.clear();
        if let Some(f) = file {
            a.push_str(f);
        }
    }
}

/// Calls `f` with the file being evaluated ("" when none). Never blocks: the allocator's
/// last-resort stop calls it, possibly while this thread is inside [`set_activity`].
pub fn activity(f: impl FnOnce(&str)) {
    match ACTIVITY.try_lock() {
        Ok(a) => f(&a),
        Err(_) => f(""),
    }
}
