//! SIGINT, SIGTERM and SIGHUP (SPEC §8), through `libc`'s `sigaction`.
//!
//! The handler only records the first signal in an atomic. The program acts on it at safe
//! points — [`check`] between steps, [`sleep`] in every wait, and
//! [`super::wait::interruptible`] around every blocking call (a request, a connect) — so
//! it can stop the spinner, restore the terminal, say what exists, and then end by the
//! signal itself ([`die_by`]): the shell sees a death by SIGINT and a `for` loop stops.
//! Nothing is ever cut off in the middle of a file write, so no temp file is left beside
//! the Kamal config.
//!
//! Two cases end the program from inside the handler, after writing the words set with
//! [`set_last_words`] (pre-rendered, so the handler only calls async-signal-safe
//! functions: `tcsetattr`, `write`, `sigaction`, `raise`):
//! - while a prompt waits for input ([`Immediate`]), where no safe point comes;
//! - a second signal, for a user who does not want to wait — except inside a
//!   [`critical`] section (an atomic file replacement), which the first signal's safe
//!   point follows within milliseconds.
//!
//! A signal the parent set to be ignored (`nohup`, `trap '' HUP`) stays ignored.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

pub const SIGHUP: i32 = libc::SIGHUP;
pub const SIGINT: i32 = libc::SIGINT;
pub const SIGTERM: i32 = libc::SIGTERM;
const HANDLED: [i32; 3] = [SIGHUP, SIGINT, SIGTERM];

/// How often a wait looks at [`pending`]: well inside the 0.5 s SPEC §8 allows.
pub const SLICE: Duration = Duration::from_millis(20);

/// The first signal that arrived, 0 for none.
static PENDING: AtomicI32 = AtomicI32::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// Open [`Immediate`] guards.
static IMMEDIATE: AtomicUsize = AtomicUsize::new(0);
/// Open [`critical`] sections.
static CRITICAL: AtomicUsize = AtomicUsize::new(0);
/// What the handler writes to stderr, and to stdout (the `--json` object), when it ends
/// the program. Leaked, never freed: the handler may read them at any time.
static LAST_WORDS: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());
static LAST_JSON: AtomicPtr<String> = AtomicPtr::new(std::ptr::null_mut());
/// The process group of an outside program running now (`process::child`), 0 for none:
/// a signal that ends the program from the handler ends that group too.
static CHILD_GROUP: AtomicI32 = AtomicI32::new(0);
/// The one `--json` object is (being) written: by the program or by the handler, never
/// both ([`claim_stdout`]).
static STDOUT_CLAIMED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: libc::c_int) {
    let first = PENDING
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    let now =
        IMMEDIATE.load(Ordering::SeqCst) > 0 || (!first && CRITICAL.load(Ordering::SeqCst) == 0);
    if now {
        end_now(sig);
    }
}

/// From the handler: an outside program's group ended, terminal back, last words out,
/// then death by `sig`.
fn end_now(sig: i32) {
    let group = CHILD_GROUP.load(Ordering::SeqCst);
    if group > 0 {
        // SAFETY: kill(2) is async-signal-safe; the group is one this program made.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    super::terminal::restore_from_handler();
    write_all(2, last(&LAST_WORDS).unwrap_or("\nInterrupted\n"));
    if let Some(json) = last(&LAST_JSON) {
        if claim_stdout() {
            write_all(1, json);
        }
    }
    die_now(sig);
}

fn last(slot: &AtomicPtr<String>) -> Option<&'static str> {
    let p = slot.load(Ordering::SeqCst);
    // SAFETY: null or a leaked `String` that is never freed or changed.
    unsafe { p.as_ref() }.map(String::as_str)
}

/// `write(2)` until done or failed (a dead terminal: the words are dropped).
fn write_all(fd: i32, text: &str) {
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        // SAFETY: a valid buffer of that length; `write` is async-signal-safe.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// The default disposition, then `raise`: the process ends by the signal, so the shell
/// reports 128 + its number. Async-signal-safe. `_exit` only if the signal did not end it.
fn die_now(sig: i32) -> ! {
    // SAFETY: plain libc calls with valid arguments; all async-signal-safe.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(sig, &action, std::ptr::null_mut());
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        // Inside the handler the signal is blocked: unblock it so `raise` delivers now.
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(sig);
        libc::_exit(128 + sig)
    }
}

/// After the last words of a run interrupted by `sig` were printed: end by the signal
/// itself (the terminal restored first), as SPEC §8 asks.
pub fn die_by(sig: i32) -> ! {
    super::terminal::restore();
    die_now(sig)
}

/// Handle SIGINT, SIGTERM and SIGHUP from now on: record them for [`check`] and
/// [`sleep`]. A signal that is ignored (inherited `SIG_IGN`) stays ignored.
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    // The saved terminal settings live in a static before any handler can read them.
    super::terminal::prepare();
    for sig in HANDLED {
        // SAFETY: zeroed `sigaction` structs are valid; the handler has the ABI
        // `sa_sigaction` expects without SA_SIGINFO and only does async-signal-safe work.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            if old.sa_sigaction == libc::SIG_IGN {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESTART;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// While alive, a signal that ends the program from the handler also ends this process
/// group (an outside program's, started in a group of its own): no child is left behind.
pub struct ChildGroup(());

impl ChildGroup {
    pub fn new(pgid: i32) -> ChildGroup {
        CHILD_GROUP.store(pgid, Ordering::SeqCst);
        ChildGroup(())
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        CHILD_GROUP.store(0, Ordering::SeqCst);
    }
}

/// Whether `sig` is ignored (as `nohup` leaves SIGHUP): for tests and messages.
pub fn is_ignored(sig: i32) -> bool {
    // SAFETY: reading the current disposition into a zeroed struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(sig, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// The words the handler writes to stderr when it has to end the program itself (a
/// prompt, a second signal): "nothing was created", or the server's facts.
pub fn set_last_words(text: &str) {
    store(&LAST_WORDS, format!("\n{}\n", text.trim_end()));
}

/// The `--json` object the handler writes to stdout when it ends the program itself
/// (SPEC §8: the one JSON object is printed also on a second signal).
pub fn set_last_json(line: &str) {
    store(&LAST_JSON, line.to_string());
}

/// Whether the caller may write the one `--json` object: `true` once, for the program or
/// for the handler. The program claims it inside a [`critical`] section, so a second
/// signal cannot cut its object short.
pub fn claim_stdout() -> bool {
    !STDOUT_CLAIMED.swap(true, Ordering::SeqCst)
}

fn store(slot: &AtomicPtr<String>, text: String) {
    let leaked = Box::into_raw(Box::new(text));
    // The old text is leaked on purpose: the handler may be reading it right now.
    slot.store(leaked, Ordering::SeqCst);
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
            kept: Vec::new(),
        }),
        None => Ok(()),
    }
}

/// Sleep for `d`, but return `Err(Error::Interrupted)` as soon as a signal arrives
/// (checked every [`SLICE`]), so no wait ever delays a Ctrl-C noticeably.
pub fn sleep(d: Duration) -> Result<()> {
    sleep_watching(d, &pending)
}

/// [`sleep`] with the signal source given (tested with a fake one).
fn sleep_watching(d: Duration, pending: &dyn Fn() -> Option<i32>) -> Result<()> {
    let end = Instant::now() + d;
    loop {
        if let Some(signal) = pending() {
            return Err(Error::Interrupted {
                signal,
                kept: Vec::new(),
            });
        }
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(SLICE));
    }
}

/// While alive, a signal ends the program at once (the terminal restored, the last words
/// written): for prompts, where the program blocks on input and no safe point comes.
/// Installs the handlers if they were not.
pub struct Immediate(());

impl Immediate {
    pub fn new() -> Immediate {
        install();
        IMMEDIATE.fetch_add(1, Ordering::SeqCst);
        // A signal that came just before the prompt: act now, as the handler would.
        if let Some(sig) = pending() {
            end_now(sig);
        }
        Immediate(())
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
    use std::cell::Cell;

    #[test]
    fn sleep_runs_its_time_when_no_signal_comes() {
        let looks = Cell::new(0u32);
        let start = Instant::now();
        sleep_watching(Duration::from_millis(70), &|| {
            looks.set(looks.get() + 1);
            None
        })
        .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(70));
        // It looked in slices, not once at the end.
        assert!(looks.get() >= 3, "{}", looks.get());
    }

    #[test]
    fn sleep_ends_at_the_first_look_after_a_signal() {
        let looks = Cell::new(0u32);
        let got = sleep_watching(Duration::from_secs(3600), &|| {
            looks.set(looks.get() + 1);
            (looks.get() == 3).then_some(SIGTERM)
        });
        match got {
            Err(Error::Interrupted { signal, .. }) => assert_eq!(signal, SIGTERM),
            other => panic!("{other:?}"),
        }
        assert_eq!(looks.get(), 3);
    }
}
