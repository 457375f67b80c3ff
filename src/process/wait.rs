//! Blocking calls a signal can cut short (SPEC §8: "within 0.5 s wherever it is").
//!
//! A blocking call (an HTTP request with its DNS look-up, connect and read; a TCP connect
//! to the SSH port) runs on a worker thread; the calling thread waits for its answer in
//! slices of [`signals::SLICE`] and looks for a signal between them. On a signal the
//! caller returns `Error::Interrupted` at once and the worker is left behind: it holds
//! no lock and writes no file, and the process ends shortly after (by the signal), without
//! waiting for it. Without a signal, the answer comes back as if the call had been made
//! on the calling thread, plus the cost of one thread (tens of microseconds).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};

use super::signals;
use crate::error::{Error, Result};

/// Run `work` on a worker thread and wait for it, interruptibly. When no thread can be
/// made, `work` runs here (not interruptible, but never lost).
pub fn interruptible<T, F>(work: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    interruptible_watching(work, &signals::pending)
}

/// [`interruptible`] with the signal source given (tested with a fake one). The answer
/// comes back through a shared slot, so the thread, the wait and the channel are
/// compiled once ([`run_waiting`]) whatever the call returns.
fn interruptible_watching<T, F>(work: F, pending: &dyn Fn() -> Option<i32>) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let answer = Arc::new(Mutex::new(None));
    let slot = Arc::clone(&answer);
    run_waiting(
        Box::new(move || {
            let value = work();
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(value);
            }
        }),
        pending,
    )?;
    // `run_waiting` returns `Ok` only once `work` has finished and left its answer.
    let value = answer.lock().ok().and_then(|mut a| a.take());
    value.ok_or_else(|| Error::Failed("a blocking call stopped without an answer".into()))
}

/// Run `work` on a worker thread and wait until it has finished, in slices, looking for
/// a signal between them.
fn run_waiting(work: Box<dyn FnOnce() + Send>, pending: &dyn Fn() -> Option<i32>) -> Result<()> {
    if let Some(signal) = pending() {
        return Err(Error::Interrupted {
            signal,
            kept: Vec::new(),
        });
    }
    let (tx, rx) = mpsc::sync_channel::<()>(1);
    // `work` moves into the thread only if it starts; otherwise it comes back to run here.
    let slot = Arc::new(Mutex::new(Some(work)));
    let theirs = Arc::clone(&slot);
    let spawned = std::thread::Builder::new()
        .name("pegasus-call".into())
        .spawn(move || {
            let work = theirs.lock().ok().and_then(|mut w| w.take());
            if let Some(work) = work {
                work();
                let _ = tx.send(());
            }
        });
    if spawned.is_err() {
        let work = slot.lock().ok().and_then(|mut w| w.take());
        return match work {
            Some(work) => {
                work();
                Ok(())
            }
            None => Err(Error::Failed("a blocking call could not be started".into())),
        };
    }
    loop {
        match rx.recv_timeout(signals::SLICE) {
            Ok(()) => return Ok(()),
            Err(RecvTimeoutError::Timeout) => {
                if let Some(signal) = pending() {
                    return Err(Error::Interrupted {
                        signal,
                        kept: Vec::new(),
                    });
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(Error::Failed(
                    "a blocking call stopped without an answer".into(),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    #[test]
    fn the_answer_comes_back() {
        let got = interruptible_watching(|| 6 * 7, &|| None).unwrap();
        assert_eq!(got, 42);
    }

    #[test]
    fn a_signal_ends_the_wait_while_the_call_still_blocks() {
        // The call blocks until the test lets it go; the "signal" comes at once.
        let release = Arc::new(Barrier::new(2));
        let finished = Arc::new(AtomicBool::new(false));
        let (r, f) = (Arc::clone(&release), Arc::clone(&finished));
        let start = Instant::now();
        let got = interruptible_watching(
            move || {
                r.wait();
                f.store(true, Ordering::SeqCst);
            },
            &|| Some(libc::SIGINT).filter(|_| start.elapsed() > Duration::from_millis(1)),
        );
        match got {
            Err(Error::Interrupted { signal, .. }) => assert_eq!(signal, libc::SIGINT),
            other => panic!("{other:?}"),
        }
        // The caller came back while the call was still blocked.
        assert!(!finished.load(Ordering::SeqCst));
        release.wait();
    }

    #[test]
    fn a_signal_before_the_call_means_no_call() {
        let ran = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&ran);
        let got = interruptible_watching(move || r.store(true, Ordering::SeqCst), &|| {
            Some(libc::SIGTERM)
        });
        assert!(matches!(got, Err(Error::Interrupted { signal, .. }) if signal == libc::SIGTERM));
        assert!(!ran.load(Ordering::SeqCst));
    }
}
