//! A counting global allocator: how many bytes the benchmark's clients hold
//! at their peak, and how many allocations a call makes.
//!
//! It wraps [`System`] and, while a [`Counting`] is active, counts the
//! allocations made on threads marked with [`count_this_thread`] (the
//! runtime's workers), except while an [`Uncounted`] future (the server) is
//! being polled: the server's memory is never charged to a client. Outside
//! a measurement it costs one relaxed load per allocation.
//!
//! This is the only `unsafe` in the workspace: implementing [`GlobalAlloc`]
//! is `unsafe` by definition. The workspace forbids `unsafe_code`, and a
//! `forbid` cannot be lifted by an `allow`, so the xtask crate declares its
//! own lints (the workspace's, with `unsafe_code = "deny"`) and this module
//! alone allows it.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering::Relaxed};
use std::task::{Context, Poll};

/// The allocator of the xtask binary.
#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

static ENABLED: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Whether this thread's allocations are counted. `const` and without a
    /// destructor: reading it never allocates.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Counts the allocations of this thread from now on (while a
/// [`Counting`] is active).
pub(crate) fn count_this_thread() {
    COUNTED.with(|counted| counted.set(true));
}

fn counted_thread() -> bool {
    COUNTED.try_with(Cell::get).unwrap_or(false)
}

/// A future whose allocations are never counted (while it is polled, its
/// thread is not counted).
pub(crate) struct Uncounted<F> {
    future: Pin<Box<F>>,
}

impl<F: Future> Uncounted<F> {
    pub(crate) fn new(future: F) -> Self {
        Self {
            future: Box::pin(future),
        }
    }
}

impl<F: Future> Future for Uncounted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let counted = COUNTED.replace(false);
        let poll = self.future.as_mut().poll(cx);
        COUNTED.set(counted);
        poll
    }
}

/// [`System`], counting bytes and allocations while enabled.
struct CountingAllocator;

impl CountingAllocator {
    fn grew(size: usize) {
        if ENABLED.load(Relaxed) && counted_thread() {
            let signed = isize::try_from(size).unwrap_or(isize::MAX);
            let now = CURRENT.fetch_add(signed, Relaxed).saturating_add(signed);
            PEAK.fetch_max(now, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
            ALLOCATED.fetch_add(size as u64, Relaxed);
        }
    }

    fn shrank(size: usize) {
        if ENABLED.load(Relaxed) && counted_thread() {
            CURRENT.fetch_sub(isize::try_from(size).unwrap_or(isize::MAX), Relaxed);
        }
    }
}

// SAFETY: every method hands the call to `System` unchanged and only adds
// atomic counting on the side, which neither allocates nor panics.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's guarantees for `layout` are passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            Self::grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        Self::shrank(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's guarantees are passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            // Counted as a free of the old block and an allocation of the
            // new one.
            Self::shrank(layout.size());
            Self::grew(new_size);
        }
        moved
    }
}

/// A measurement: bytes and allocations of the counted threads since it
/// started. One at a time.
pub(crate) struct Counting {
    baseline: isize,
    allocations: u64,
    allocated: u64,
}

/// What a [`Counting`] saw.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Counted {
    /// The most bytes held at once above the start.
    pub(crate) peak_bytes: u64,
    /// The bytes still held above the start when it ended.
    pub(crate) retained_bytes: i64,
    /// Allocations made (a realloc counts as one).
    pub(crate) allocations: u64,
    /// Bytes those allocations asked for.
    pub(crate) allocated_bytes: u64,
}

impl Counting {
    /// Starts counting.
    pub(crate) fn start() -> Self {
        let baseline = CURRENT.load(Relaxed);
        PEAK.store(baseline, Relaxed);
        let allocations = ALLOCATIONS.load(Relaxed);
        let allocated = ALLOCATED.load(Relaxed);
        ENABLED.store(true, Relaxed);
        Self {
            baseline,
            allocations,
            allocated,
        }
    }

    /// Stops counting and says what it saw.
    pub(crate) fn stop(self) -> Counted {
        ENABLED.store(false, Relaxed);
        let peak = PEAK.load(Relaxed).saturating_sub(self.baseline).max(0);
        let retained = CURRENT.load(Relaxed).saturating_sub(self.baseline);
        Counted {
            peak_bytes: u64::try_from(peak).unwrap_or(0),
            retained_bytes: i64::try_from(retained).unwrap_or(i64::MAX),
            allocations: ALLOCATIONS.load(Relaxed).saturating_sub(self.allocations),
            allocated_bytes: ALLOCATED.load(Relaxed).saturating_sub(self.allocated),
        }
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        ENABLED.store(false, Relaxed);
    }
}
