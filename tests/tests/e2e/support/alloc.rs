//! A counting global allocator for this test binary: how many bytes a
//! piece of code held at its peak, on its own thread only, so that the
//! other tests of the binary, running beside it, are not charged to it.
//!
//! It wraps [`System`]. [`measure`] counts the allocations and frees of the
//! calling thread while its closure runs (a current-thread tokio runtime
//! runs the client's tasks, hyper's connection among them, on that thread);
//! servers run on other threads and are not counted. Outside a measurement
//! it costs one relaxed load per allocation.
//!
//! Implementing [`GlobalAlloc`] is `unsafe` by definition: the e2e package
//! declares the workspace's lints with `unsafe_code = "deny"` instead of
//! "forbid" (as xtask does for its benchmark's allocator), and this module
//! alone allows it.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many threads are measuring: while none is, nothing is counted.
static MEASURING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // `const` and without destructors: reading them never allocates.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// What [`measure`] saw.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// The most bytes the thread held at once above what it held at the
    /// start.
    pub peak_bytes: usize,
}

/// Runs `f`, counting the bytes this thread allocates and frees meanwhile.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, Measured) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|peak| peak.set(start));
    MEASURING.fetch_add(1, Relaxed);
    COUNTED.with(|counted| counted.set(true));
    let value = f();
    COUNTED.with(|counted| counted.set(false));
    MEASURING.fetch_sub(1, Relaxed);
    let peak = PEAK.with(Cell::get).saturating_sub(start).max(0);
    (
        value,
        Measured {
            peak_bytes: usize::try_from(peak).unwrap_or(0),
        },
    )
}

/// [`System`], counting the bytes of measuring threads.
struct CountingAllocator;

fn counted() -> bool {
    MEASURING.load(Relaxed) > 0 && COUNTED.try_with(Cell::get).unwrap_or(false)
}

fn grew(size: usize) {
    if counted() {
        let size = isize::try_from(size).unwrap_or(isize::MAX);
        let _ = CURRENT.try_with(|current| {
            let now = current.get().saturating_add(size);
            current.set(now);
            let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
        });
    }
}

fn shrank(size: usize) {
    if counted() {
        let size = isize::try_from(size).unwrap_or(isize::MAX);
        let _ = CURRENT.try_with(|current| current.set(current.get().saturating_sub(size)));
    }
}

// SAFETY: every method hands the call to `System` unchanged and only adds
// counting in thread-locals on the side, which neither allocates nor panics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's guarantees are passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            // The new block is counted before the old one is let go: while
            // it is copied, both are held.
            grew(new_size);
            shrank(layout.size());
        }
        moved
    }
}
