//! pegasus: provision a Hetzner Cloud server for Kamal and point the Kamal config at it.
//!
//! Data flows one way: arguments (`cli`) → plan (local checks and the preflight in
//! `commands`) → API calls (`hetzner` over `http`) → the steps on the server (`ssh`, the
//! Kamal edit in `deploy_file` over the pure `kamal`) → output (`ui`). `process` holds
//! signals, the interruptible wait and outside programs; `text` the one type for text
//! shown as it came; `sort` the program's one sort (SPEC §1, size). `main.rs` only maps
//! the result to an exit code.

pub mod cli;
pub mod commands;
pub mod completions;
pub mod credentials;
pub mod defaults;
pub mod deploy_file;
pub mod error;
pub mod fsutil;
pub mod hetzner;
pub mod http;
pub mod kamal;
pub mod observer;
pub mod process;
pub mod session;
pub mod sort;
pub mod ssh;
pub mod text;
pub mod timefmt;
pub mod tls;
pub mod ui;

/// musl's own allocator is slow for the YAML parser's many small allocations (see
/// Cargo.toml). Set here, in the library, so `make bench` measures what ships.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: heap::Heap = heap::Heap;

#[cfg(any(target_env = "musl", test))]
mod heap {
    //! dlmalloc behind a lock of one atomic exchange: the YAML parser allocates for every
    //! token, and a mutex's two exchanges per call (a pthread mutex's, or std's) took
    //! about 19% of the Kamal edit (README, "Performance"). Threads rarely allocate at the same moment (the workers wait on
    //! the network), so a waiter spins briefly, then yields its time slice.

    use std::alloc::{GlobalAlloc, Layout};
    use std::cell::UnsafeCell;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub struct Heap;

    struct Locked {
        taken: AtomicBool,
        dl: UnsafeCell<dlmalloc::Dlmalloc>,
    }

    // SAFETY: `dl` is only reached by the thread that set `taken` (see `with`).
    unsafe impl Sync for Locked {}

    static HEAP: Locked = Locked {
        taken: AtomicBool::new(false),
        dl: UnsafeCell::new(dlmalloc::Dlmalloc::new()),
    };

    /// Runs `f` on the allocator with the lock held.
    #[inline(always)]
    fn with<T>(f: impl FnOnce(&mut dlmalloc::Dlmalloc) -> T) -> T {
        let mut spins = 0u32;
        while HEAP.taken.swap(true, Ordering::Acquire) {
            while HEAP.taken.load(Ordering::Relaxed) {
                spins = spins.wrapping_add(1);
                if spins % 64 == 0 {
                    std::thread::yield_now();
                } else {
                    std::hint::spin_loop();
                }
            }
        }
        // SAFETY: the lock is held: no other reference to the allocator exists.
        let out = f(unsafe { &mut *HEAP.dl.get() });
        HEAP.taken.store(false, Ordering::Release);
        out
    }

    // SAFETY: each call goes to dlmalloc with its lock held, with the layout it was given.
    unsafe impl GlobalAlloc for Heap {
        #[inline]
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            with(|dl| unsafe { dl.malloc(layout.size(), layout.align()) })
        }
        #[inline]
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            with(|dl| unsafe { dl.free(ptr, layout.size(), layout.align()) })
        }
        #[inline]
        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            with(|dl| unsafe { dl.calloc(layout.size(), layout.align()) })
        }
        #[inline]
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            with(|dl| unsafe { dl.realloc(ptr, layout.size(), layout.align(), new_size) })
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Threads allocating, growing and freeing at once each find their own bytes
        /// intact: the lock keeps them apart (the tests' own allocator is the system's;
        /// this one is called directly).
        #[test]
        fn threads_at_once_keep_their_bytes() {
            let threads: Vec<_> = (0u8..4)
                .map(|t| {
                    std::thread::spawn(move || {
                        for round in 0..2000usize {
                            let size = 1 + (round * 7 + usize::from(t)) % 300;
                            let layout = Layout::from_size_align(size, 8).unwrap();
                            // SAFETY: a non-zero size; each block is used within its layout.
                            unsafe {
                                let p = Heap.alloc(layout);
                                assert!(!p.is_null());
                                std::ptr::write_bytes(p, t, size);
                                let q = Heap.realloc(p, layout, size * 2);
                                assert!(!q.is_null());
                                let kept = std::slice::from_raw_parts(q, size);
                                assert!(kept.iter().all(|b| *b == t), "thread {t} round {round}");
                                Heap.dealloc(q, Layout::from_size_align(size * 2, 8).unwrap());
                                let z = Heap.alloc_zeroed(layout);
                                assert!(
                                    std::slice::from_raw_parts(z, size).iter().all(|b| *b == 0)
                                );
                                Heap.dealloc(z, layout);
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        }
    }
}

/// Parse the arguments, run the command, and return the exit code.
pub fn main_exit_code() -> i32 {
    let ui = ui::Ui::from_env();
    let result = cli::parse_env().and_then(|cmd| commands::run(cmd, &ui));
    match result {
        Ok(()) => 0,
        Err(err) => {
            ui.error(&err);
            // Interrupted: the last words are out; end by the signal itself, so the shell
            // sees a death by SIGINT and a `for` loop stops (SPEC §8).
            if let Some(signal) = err.signal() {
                drop(ui);
                process::signals::die_by(signal);
            }
            err.exit_code()
        }
    }
}
