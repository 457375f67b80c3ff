//! The terminal's state (SPEC §8), through `libc` on Linux and macOS alike: the settings
//! saved before any signal handler can need them, echo off for a hidden answer, the
//! spinner's line, and the width.
//!
//! The settings of stdin's terminal are saved once into a static by [`prepare`], which
//! runs before the handlers are armed (`signals::install`); from then on the static is
//! only read, so the handler can put the terminal back with `tcsetattr` (async-signal-safe)
//! without a lock.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Stdin's terminal settings as they were before pegasus changed anything.
struct Saved {
    valid: AtomicBool,
    termios: UnsafeCell<MaybeUninit<libc::termios>>,
}

// SAFETY: `termios` is written once, inside `PREPARE`'s `call_once`, before `valid` is
// set; afterwards it is only read.
unsafe impl Sync for Saved {}

static SAVED: Saved = Saved {
    valid: AtomicBool::new(false),
    termios: UnsafeCell::new(MaybeUninit::uninit()),
};
static PREPARE: Once = Once::new();
/// Echo is off (an [`EchoOff`] is alive): a signal must turn it back on.
static ECHO_OFF: AtomicBool = AtomicBool::new(false);
/// The spinner's line is on stderr: a signal's last words clear it first.
static LINE_DRAWN: AtomicBool = AtomicBool::new(false);

/// Save stdin's terminal settings, once (nothing when stdin is not a terminal).
pub fn prepare() {
    PREPARE.call_once(|| {
        // SAFETY: `isatty` and `tcgetattr` on fd 0; the struct is only marked valid
        // when `tcgetattr` filled it.
        unsafe {
            if libc::isatty(0) == 1 && libc::tcgetattr(0, (*SAVED.termios.get()).as_mut_ptr()) == 0
            {
                SAVED.valid.store(true, Ordering::SeqCst);
            }
        }
    });
}

fn saved() -> Option<&'static libc::termios> {
    if !SAVED.valid.load(Ordering::SeqCst) {
        return None;
    }
    // SAFETY: valid means written (see `Saved`), and never written again.
    Some(unsafe { (*SAVED.termios.get()).assume_init_ref() })
}

/// Put the saved settings back when pegasus changed them (echo off).
pub fn restore() {
    clear_line();
    if ECHO_OFF.load(Ordering::SeqCst) {
        if let Some(t) = saved() {
            // SAFETY: settings read from fd 0 by `tcgetattr`.
            unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
        }
    }
}

/// [`restore`] from a signal handler: only async-signal-safe calls (`write`, `tcsetattr`).
pub(super) fn restore_from_handler() {
    restore();
}

/// Mark the spinner's line as drawn (or cleared): a signal clears it before its words.
pub fn line_drawn(drawn: bool) {
    LINE_DRAWN.store(drawn, Ordering::SeqCst);
}

/// Clear the spinner's line, if one is drawn (async-signal-safe).
fn clear_line() {
    if LINE_DRAWN.swap(false, Ordering::SeqCst) {
        let clear = b"\r\x1b[2K";
        // SAFETY: a valid buffer; `write` is async-signal-safe. A failure is dropped.
        unsafe { libc::write(2, clear.as_ptr().cast(), clear.len()) };
    }
}

/// Echo off for a hidden answer; a signal meanwhile ends the program at once, with the
/// terminal restored first. Dropping it restores the settings. When stdin is not a
/// terminal it changes nothing (and still makes a signal immediate).
pub struct EchoOff {
    changed: bool,
    _immediate: super::signals::Immediate,
}

impl EchoOff {
    pub fn new() -> EchoOff {
        prepare();
        // Armed before echo goes off: a signal from here on restores it.
        let immediate = super::signals::Immediate::new();
        let changed = match saved() {
            Some(t) => {
                let mut quiet = *t;
                quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
                ECHO_OFF.store(true, Ordering::SeqCst);
                // SAFETY: settings derived from those `tcgetattr` read from fd 0.
                let ok = unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } == 0;
                if !ok {
                    ECHO_OFF.store(false, Ordering::SeqCst);
                }
                ok
            }
            None => false,
        };
        EchoOff {
            changed,
            _immediate: immediate,
        }
    }
}

impl Default for EchoOff {
    fn default() -> Self {
        EchoOff::new()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if self.changed {
            if let Some(t) = saved() {
                // SAFETY: restores the settings `tcgetattr` read.
                unsafe { libc::tcsetattr(0, libc::TCSANOW, t) };
            }
            ECHO_OFF.store(false, Ordering::SeqCst);
        }
    }
}

/// The terminal's width in columns: `TIOCGWINSZ` on stderr, else `COLUMNS`, else 80.
pub fn width() -> usize {
    ioctl_width()
        .or_else(|| {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.trim().parse().ok())
                .filter(|&c: &usize| c > 0)
        })
        .unwrap_or(80)
}

fn ioctl_width() -> Option<usize> {
    let mut ws = MaybeUninit::<libc::winsize>::zeroed();
    // SAFETY: TIOCGWINSZ fills a `struct winsize`.
    let rc = unsafe { libc::ioctl(2, libc::TIOCGWINSZ, ws.as_mut_ptr()) };
    // SAFETY: zero-initialised, and filled when rc == 0.
    let ws = unsafe { ws.assume_init() };
    (rc == 0 && ws.ws_col > 0).then_some(usize::from(ws.ws_col))
}
