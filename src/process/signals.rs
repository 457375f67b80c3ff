//! SIGINT, SIGTERM and SIGHUP (SPEC §8), by hand over libc's `signal`, as `ui` does for
//! termios: no crate.
//!
//! The handler only records the first signal in an atomic. The program acts on it at safe
//! points — [`check`] between steps and [`sleep`] in every wait — so it can stop the
//! spinner, restore the terminal, say what exists and exit with 128 + the signal. Nothing
//! is ever cut off in the middle of a file write, so no temp file is left beside the
//! Kamal config.
//!
//! Two exceptions end the program from inside the handler, after writing the words set
//! with [`set_last_words`] (pre-rendered, so the handler only calls `write` and `_exit`):
//! - while a prompt waits for input ([`Immediate`]), where no safe point comes;
//! - a second signal, for a user who does not want to wait for a slow request to end —
//!   except inside a [`critical`] section (an atomic file replacement), which the first
//!   signal's safe point follows within milliseconds.
//!
//! The handlers are installed by the commands that need them ([`install`]); the others
//! keep the default (the signal ends them at once).

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub const SIGHUP: i32 = 1;
pub const SIGINT: i32 = 2;
pub const SIGTERM: i32 = 15;
const HANDLED: [i32; 3] = [SIGHUP, SIGINT, SIGTERM];

/// The first signal that arrived, 0 for none.
static PENDING: AtomicI32 = AtomicI32::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Open [`Immediate`] guards.
static IMMEDIATE: AtomicUsize = AtomicUsize::new(0);
/// Open [`critical`] sections.
static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// `extern "C" fn()` to call before exiting from the handler (restores terminal echo).
static RESTORE: AtomicUsize = AtomicUsize::new(0);
/// What the handler writes to stderr when it ends the program (leaked, never freed:
/// the handler may read it at any time).
static LAST_WORDS: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());

mod ffi {
    unsafe extern "C" {
        pub fn signal(sig: i32, handler: usize) -> usize;
        pub fn write(fd: i32, buf: *const u8, count: usize) -> isize;
        pub fn _exit(code: i32) -> !;
    }
    pub const SIG_DFL: usize = 0;
}

extern "C" fn on_signal(sig: i32) {
    let first = PENDING
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    let now =
        IMMEDIATE.load(Ordering::SeqCst) > 0 || (!first && CRITICAL.load(Ordering::SeqCst) == 0);
    if !now {
        return;
    }
    let restore = RESTORE.load(Ordering::SeqCst);
    if restore != 0 {
        // SAFETY: only ever set from an `extern "C" fn()` in `Immediate::with_restore`.
        let f: extern "C" fn() = unsafe { std::mem::transmute(restore) };
        f();
    }
    let words = LAST_WORDS.load(Ordering::SeqCst);
    // SAFETY: `words` is null or a leaked `String` that is never freed; `write` and
    // `_exit` are async-signal-safe.
    unsafe {
        let default = "\nInterrupted\n";
        let bytes = match words.as_ref() {
            Some(s) => s.as_bytes(),
            None => default.as_bytes(),
        };
        ffi::write(2, bytes.as_ptr(), bytes.len());
        ffi::_exit(128 + sig)
    }
}

/// Handle SIGINT, SIGTERM and SIGHUP from now on: record them for [`check`] and [`sleep`].
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    for sig in HANDLED {
        // SAFETY: a handler of the right ABI that only touches atomics, `write` and `_exit`.
        unsafe { ffi::signal(sig, on_signal as extern "C" fn(i32) as usize) };
    }
}

fn uninstall() {
    if !INSTALLED.swap(false, Ordering::SeqCst) {
        return;
    }
    for sig in HANDLED {
        // SAFETY: back to the default disposition.
        unsafe { ffi::signal(sig, ffi::SIG_DFL) };
    }
}

/// The words the handler writes when it has to end the program itself (a prompt, a
/// second signal). Set them to what the user must know at that point: "nothing was
/// created", or the server's facts.
pub fn set_last_words(text: &str) {
    let leaked = Box::into_raw(Box::new(format!("\n{}\n", text.trim_end())));
    // The old text is leaked on purpose: the handler may be reading it right now.
    LAST_WORDS.store(leaked, Ordering::SeqCst);
}

/// The signal that arrived, if any.
pub fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// A safe point: `Err(Error::Interrupted)` once a signal arrived.
pub fn check() -> Result<()> {
    match pending() {
        Some(signal) => Err(Error::Interrupted {
            signal,
            detail: None,
        }),
        None => Ok(()),
    }
}

/// Sleep for `d`, but return `Err(Error::Interrupted)` as soon as a signal arrives
/// (checked every 20 ms), so no wait ever delays a Ctrl-C noticeably.
pub fn sleep(d: Duration) -> Result<()> {
    const SLICE: Duration = Duration::from_millis(20);
    let end = Instant::now() + d;
    loop {
        check()?;
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// While alive, a signal ends the program at once (after calling `restore`, if given,
/// and writing the last words): for prompts, where the program blocks on input and no
/// safe point comes. Installs the handlers for its lifetime if they were not installed.
pub struct Immediate {
    installed_here: bool,
    restore: bool,
}

impl Immediate {
    pub fn new() -> Immediate {
        Immediate::make(None)
    }

    /// `restore` runs in the signal handler: it must be async-signal-safe.
    pub fn with_restore(restore: extern "C" fn()) -> Immediate {
        Immediate::make(Some(restore))
    }

    fn make(restore: Option<extern "C" fn()>) -> Immediate {
        let installed_here = !INSTALLED.load(Ordering::SeqCst);
        if let Some(f) = restore {
            RESTORE.store(f as usize, Ordering::SeqCst);
        }
        IMMEDIATE.fetch_add(1, Ordering::SeqCst);
        install();
        // A signal that came just before the prompt: act now, the way the handler would.
        if let Some(sig) = pending() {
            on_signal(sig);
        }
        Immediate {
            installed_here,
            restore: restore.is_some(),
        }
    }
}

impl Default for Immediate {
    fn default() -> Self {
        Immediate::new()
    }
}

impl Drop for Immediate {
    fn drop(&mut self) {
        IMMEDIATE.fetch_sub(1, Ordering::SeqCst);
        if self.restore {
            RESTORE.store(0, Ordering::SeqCst);
        }
        if self.installed_here {
            uninstall();
        }
    }
}

/// A section that must not be cut short by a second signal (an atomic file write: the
/// temp file exists until the rename). The first signal only sets a flag anyway.
pub fn critical() -> Critical {
    CRITICAL.fetch_add(1, Ordering::SeqCst);
    Critical(())
}

pub struct Critical(());

impl Drop for Critical {
    fn drop(&mut self) {
        CRITICAL.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleep_runs_its_time_without_a_signal() {
        let start = Instant::now();
        sleep(Duration::from_millis(30)).unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
    }
}
