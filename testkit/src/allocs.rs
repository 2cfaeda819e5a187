//! Counting heap allocations, for tests that promise a code path allocates nothing
//! (a forked child that allocates copies the parent's heap pages on every connection).
//!
//! A test binary installs the counter as its allocator,
//! `#[global_allocator] static ALLOC: testkit::Counting = testkit::Counting;`, then
//! compares [`allocations`] before and after. The count is per thread, so the other
//! tests of a libtest binary, running on their own threads, do not disturb it; a forked
//! child inherits its thread's count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // const-initialized and without a destructor: reading it never allocates, so the
    // allocator itself may use it.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting each allocation of the calling thread.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; the count is a
// side effect that touches no allocated memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// How many allocations (and reallocations) this thread has made so far, if the
/// binary's allocator is [`Counting`]; 0 otherwise.
pub fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}
