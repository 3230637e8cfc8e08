//! Hand the heap's free pages back to the system between phases of a long run (glibc only).
//!
//! `extract`'s first reading of the index and its plan, and `leaks`'s first reading, free
//! tens of MB in many pieces (whole rows read ahead, maps, buffers grown by doubling); glibc
//! keeps such memory in its arenas, counted in the process's resident size, unless asked to
//! return it.

/// Return the free pages of every malloc arena to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: `malloc_trim` only gives free heap pages back to the kernel (madvise); it
    // neither moves nor frees a live allocation, and it is thread-safe.
    unsafe {
        malloc_trim(0);
    }
}

/// Return the free pages of every malloc arena to the system (nothing to do here).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() {}
