//! Splitting one file's work across the cores: lowering, validating and writing out a long
//! list of objects are done per object, so the list is cut in two and the halves are done on
//! two threads, their results put back in order (the same result as one thread doing both).

/// Below this many objects a second thread costs more than it saves.
const PARALLEL_MIN: usize = 256;

/// `f(items, true)`, or, when `len` items are worth two threads, `items` cut in two by
/// `split`, `f` run on both halves at once ([`in_two`]), and the results put together by
/// `join` (first half first).
pub(crate) fn by_halves<I: Send, R: Send>(
    items: I,
    len: usize,
    split: impl FnOnce(I) -> (I, I),
    f: impl Fn(I, bool) -> R + Sync,
    join: impl FnOnce(R, R) -> R,
) -> R {
    if !worth_splitting(len) {
        return f(items, true);
    }
    let (first, second) = split(items);
    let (a, b) = in_two(first, second, f);
    join(a, b)
}

/// Whether `len` objects are worth two threads: there is a second core, and several files are
/// not already being compiled at once (which keeps the cores busy).
fn worth_splitting(len: usize) -> bool {
    len >= PARALLEL_MIN
        && crate::memory::jobs() == 1
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// `(f(first, true), f(second, false))`, the second on a thread of its own (on this one when
/// no thread can be had). A panic in either is resumed here.
fn in_two<I: Send, R: Send>(first: I, second: I, f: impl Fn(I, bool) -> R + Sync) -> (R, R) {
    // Handed over through a slot, so that it can be taken back if the thread is not started.
    let slot = std::sync::Mutex::new(Some(second));
    let take = || {
        slot.lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the second half is taken once")
    };
    std::thread::scope(|s| {
        let other = std::thread::Builder::new()
            .name("skyc-half".into())
            // Lowering recurses as deep as the objects nest (at most a few hundred levels).
            .stack_size(64 << 20)
            .spawn_scoped(s, || f(take(), false));
        let a = f(first, true);
        let b = match other {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => f(take(), false),
        };
        (a, b)
    })
}
