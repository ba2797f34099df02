//! The global allocator: mimalloc, counting every byte, so that the memory limit of an
//! evaluation holds for the whole process (layer 3 of `skyc_core::memory`).
//!
//! The evaluation's own checks stop the common ways of exhausting memory with SKY0303 at a
//! line. What they miss (a native function building a huge string, say) meets this cap: an
//! allocation that would take the process beyond it ends the process at once, with SKY0303
//! on stderr and exit status 1. Nothing is written then: output files are written to a
//! temporary directory and moved into place only when complete.

use mimalloc::MiMalloc;
use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

pub struct Counting;

/// The bytes the process holds, as far as the threads have reported them (see [`Local`]).
/// Signed: a thread may report freeing memory that another has not reported yet.
static ALLOCATED: AtomicI64 = AtomicI64::new(0);

/// What one thread has allocated and freed. Const-initialized, without destructor: safe to
/// touch from inside the allocator.
struct Local {
    /// Bytes this thread allocated minus bytes it freed (a block freed by another thread than
    /// the one that allocated it moves the count between them); the per-evaluation-thread
    /// limits read it.
    net: Cell<i64>,
    /// Net bytes not yet added to [`ALLOCATED`]: a thread reports in steps of [`REPORT`] at
    /// least, because every thread updating one shared counter at every allocation makes the
    /// cores fight over its cache line (two threads lowering and converting objects at once
    /// ran slower than one).
    unreported: Cell<i64>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            net: Cell::new(0),
            unreported: Cell::new(0),
        }
    };
}

/// The step in which threads report to [`ALLOCATED`]: the cap is checked that late at most,
/// per thread (a few MiB with every thread behind, against limits of hundreds of MiB).
const REPORT: i64 = 256 << 10;

static CAP: AtomicU64 = AtomicU64::new(u64::MAX);
/// Off for the language server: an editor session must survive a runaway file.
static ENFORCE: AtomicBool = AtomicBool::new(true);

impl Counting {
    #[inline]
    /// Counts `delta` more bytes (negative: freed); stops the process when what the thread
    /// reports crosses the cap.
    fn count(delta: i64) {
        let report = LOCAL.try_with(|l| {
            l.net.set(l.net.get().wrapping_add(delta));
            let pending = l.unreported.get().wrapping_add(delta);
            if pending.abs() < REPORT {
                l.unreported.set(pending);
                0
            } else {
                l.unreported.set(0);
                pending
            }
        });
        // Without its thread-local state (a thread being torn down), a thread reports at once.
        let report = report.unwrap_or(delta);
        if report != 0 {
            let now = ALLOCATED.fetch_add(report, Ordering::Relaxed) + report;
            if report > 0 && now > 0 && now as u64 > CAP.load(Ordering::Relaxed) {
                over_cap();
            }
        }
    }

    #[inline]
    fn grow(size: usize) {
        Counting::count(size as i64);
    }

    #[inline]
    fn shrink(size: usize) {
        Counting::count(-(size as i64));
    }
}

// SAFETY: every call is forwarded to mimalloc unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Counting::grow(layout.size());
        MiMalloc.alloc(layout)
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Counting::grow(layout.size());
        MiMalloc.alloc_zeroed(layout)
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        MiMalloc.dealloc(ptr, layout);
        Counting::shrink(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as a new block plus the old one until the move is done: a large block is
        // copied, so both exist for a moment.
        Counting::grow(new_size);
        let p = MiMalloc.realloc(ptr, layout, new_size);
        if p.is_null() {
            Counting::shrink(new_size);
        } else {
            Counting::shrink(layout.size());
        }
        p
    }
}

/// The meter `skyc_core::memory` reads and sets the cap through.
struct Meter;

impl skyc_core::memory::Meter for Meter {
    fn allocated(&self) -> u64 {
        ALLOCATED.load(Ordering::Relaxed).max(0) as u64
    }

    fn thread_allocated(&self) -> i64 {
        LOCAL.try_with(|l| l.net.get()).unwrap_or(0)
    }

    fn set_cap(&self, cap: u64) {
        if ENFORCE.load(Ordering::Relaxed) {
            CAP.store(cap, Ordering::Relaxed);
        }
    }
}

/// Connects the allocator to `skyc_core::memory`; with `enforce` off the cap is never set.
/// Turns transparent huge pages off for the process. The allocator asks for them, and the
/// kernel then clears 2 MiB at the first touch of each, or stalls to find one: on the
/// benchmark machine (2026-12-04) a render of 30 objects touched 42 MiB with them and 26 MiB
/// without, and renders of every size were as fast or faster without, with a fraction of the
/// spread between runs (N=10: 8.0 ± 1.1 against 7.4 ± 0.3 ms; N=10,000: 350 ± 56 against
/// 343 ± 19 ms, peak RSS 124 against 107 MiB).
///
/// It runs before `main`, from the executable's initializers: the Rust runtime allocates before
/// `main` starts, and that first allocation maps and touches the allocator's first arena, which
/// without this would be a huge page cleared at start (measured: 0.3 ms of a 6.5 ms render at
/// N=10).
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with integer arguments only; it fails harmlessly on kernels without it.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Calls [`no_huge_pages`] when the executable is loaded, before the runtime's first allocation.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NO_HUGE_PAGES_AT_LOAD: extern "C" fn() = {
    extern "C" fn at_load() {
        no_huge_pages();
    }
    at_load
};

pub fn install(enforce: bool) {
    ENFORCE.store(enforce, Ordering::Relaxed);
    skyc_core::memory::install(&Meter);
    // Until an evaluation sets its own limit (and for commands that evaluate nothing, like
    // `import` and `diff`), the default limit applies.
    skyc_core::memory::set_limit(skyc_core::eval::DEFAULT_MAX_HEAP);
}

/// Ends the process: an allocation would cross the cap. Runs inside the allocator, so it must
/// not allocate: the message is assembled in a buffer on the stack.
#[cold]
#[inline(never)]
fn over_cap() -> ! {
    let mut buf = Buf::default();
    buf.push(b"error[SKY0303]: skyc stopped: memory use reached the limit (");
    buf.number(skyc_core::memory::limit());
    buf.push(b" bytes)");
    skyc_core::memory::activity(|file| {
        if !file.is_empty() {
            buf.push(b" while running ");
            buf.push(file.as_bytes());
        }
    });
    buf.push(b"\n  = note: a single step built a value too large for the limit (e.g. `s += s` in a loop, or `str()` of a value that contains itself many times over); no output was written\n  = help: raise the limit with --max-heap SIZE (or [limits] max_heap in sky.toml) if the data is real\n");
    write_stderr(buf.as_bytes());
    exit_now(1)
}

/// A fixed buffer for the message of [`over_cap`].
struct Buf {
    bytes: [u8; 1024],
    len: usize,
}

impl Default for Buf {
    fn default() -> Self {
        Buf {
            bytes: [0; 1024],
            len: 0,
        }
    }
}

impl Buf {
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn number(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(unix)]
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a valid buffer to file descriptor 2.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

#[cfg(unix)]
fn exit_now(code: i32) -> ! {
    // SAFETY: `_exit` ends the process without running destructors or atexit handlers (which
    // could allocate); temporary output directories are left for the OS to clean.
    unsafe { libc::_exit(code) }
}

#[cfg(not(unix))]
fn write_stderr(bytes: &[u8]) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(bytes);
}

#[cfg(not(unix))]
fn exit_now(_code: i32) -> ! {
    std::process::abort()
}

/// Ends the process with `code` once the command is done (see `main`): without the atexit
/// handlers, which have nothing left to do; the caller has flushed the standard streams.
#[cfg(unix)]
pub fn end(code: i32) -> ! {
    exit_now(code)
}

#[cfg(not(unix))]
pub fn end(code: i32) -> ! {
    std::process::exit(code)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn huge_pages_are_off_for_the_process() {
        // Nothing here turns them off: the initializer did when the executable was loaded.
        // SAFETY: prctl with integer arguments only.
        let off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(off, 1);
    }
}
