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
//!
//! Layers 1 and 2 count what the evaluation's own thread allocated, so entry files evaluated in
//! parallel (`skyc render DIR`) each get the whole limit. The process cap of layer 3 allows
//! each of the [`set_jobs`] evaluations running at once its limit.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// What the process has allocated, as counted by the global allocator of the binary.
pub trait Meter: Sync {
    /// Bytes allocated and not yet freed.
    fn allocated(&self) -> u64;
    /// Bytes the calling thread allocated minus the bytes it freed.
    fn thread_allocated(&self) -> i64;
    /// Lets the process allocate at most `cap` bytes in total from now on.
    fn set_cap(&self, cap: u64);
}

static METER: OnceLock<&'static dyn Meter> = OnceLock::new();
/// How many evaluations may run at once (the process cap allows each its limit).
static JOBS: AtomicU64 = AtomicU64::new(1);
/// The file being evaluated, for the message of the last-resort stop (see [`activity`]).
static ACTIVITY: Mutex<String> = Mutex::new(String::new());

thread_local! {
    /// What this thread had allocated when its current limit was set.
    static BASE: Cell<i64> = const { Cell::new(0) };
    /// The current limit of this thread's evaluation, in bytes above `BASE`.
    static LIMIT: Cell<u64> = const { Cell::new(crate::eval::DEFAULT_MAX_HEAP) };
    /// Set by the periodic check when it stops an evaluation for memory (rather than time).
    static TRIPPED: Cell<bool> = const { Cell::new(false) };
}

/// Installs the process's allocation meter (once, at startup).
pub fn install(meter: &'static dyn Meter) {
    let _ = METER.set(meter);
}

/// Bytes the process has allocated, or 0 without a meter.
pub fn allocated() -> u64 {
    METER.get().map_or(0, |m| m.allocated())
}

fn thread_allocated() -> i64 {
    METER.get().map_or(0, |m| m.thread_allocated())
}

/// Declares that up to `jobs` evaluations run at once from now on (parallel rendering).
pub fn set_jobs(jobs: usize) {
    JOBS.store(jobs.max(1) as u64, Ordering::Relaxed);
}

/// How many evaluations may run at once (see [`set_jobs`]); 1 unless files are compiled in
/// parallel, when stages do not split their own work across threads.
pub fn jobs() -> usize {
    JOBS.load(Ordering::Relaxed) as usize
}

/// Sets the memory limit for what this thread does next: `limit` bytes on top of what it has
/// allocated now. The process-wide cap (layer 3) follows it: what the process holds now plus
/// the limit for each evaluation that may run at once.
pub fn set_limit(limit: u64) {
    BASE.with(|b| b.set(thread_allocated()));
    LIMIT.with(|l| l.set(limit));
    if let Some(m) = METER.get() {
        let jobs = JOBS.load(Ordering::Relaxed);
        m.set_cap(allocated().saturating_add(limit.saturating_mul(jobs)));
    }
}

/// The current limit in bytes.
pub fn limit() -> u64 {
    LIMIT.with(Cell::get)
}

/// Bytes this thread allocated since its limit was set.
pub fn used() -> u64 {
    let used = thread_allocated().saturating_sub(BASE.with(Cell::get));
    used.max(0) as u64
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
        TRIPPED.with(|t| t.set(true));
    }
    over
}

/// Whether the last cancelled evaluation was stopped by [`over_soft_limit`] (and forgets it).
pub(crate) fn take_tripped() -> bool {
    TRIPPED.with(|t| t.replace(false))
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
