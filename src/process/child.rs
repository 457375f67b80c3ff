//! Outside programs (SPEC §1: the system `ssh`, `ssh-keygen -y`), run so that they can
//! never hang the program, flood its memory or outlive it:
//!
//! - stdin is `/dev/null` (nothing can wait for input from here);
//! - at most [`KEEP`] bytes of each of stdout and stderr are read; then that pipe is
//!   closed (a program that talks on is told so by `EPIPE`);
//! - it runs in a process group of its own, and that whole group is ended (SIGTERM, then
//!   SIGKILL) at the deadline, on a signal to this program (checked every
//!   [`SLICE`], so within 0.5 s), and once the program has exited (helpers it started,
//!   such as a `ProxyCommand`, go with it); the program is always reaped.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::process::signals;

/// Bytes kept (and read) of each output stream.
pub const KEEP: usize = 8 * 1024;
/// How often the deadline and signals are looked at while the program runs.
pub const SLICE: Duration = Duration::from_millis(50);
/// How long a SIGTERM-ed group gets before SIGKILL.
const GRACE: Duration = Duration::from_millis(150);

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The program is not installed (not found on `PATH`).
    NotFound,
    /// It could not be started for another reason.
    NotStarted(io::Error),
    /// It ran: its exit status (`None`: ended at the deadline) and what it said.
    Ran(Output),
}

#[derive(Debug, Default)]
pub struct Output {
    /// `None` when the deadline ended it.
    pub status: Option<ExitStatus>,
    /// The first [`KEEP`] bytes of each stream.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }
}

/// One output stream: open until EOF or until [`KEEP`] bytes were read.
struct Stream<R> {
    pipe: Option<R>,
    kept: Vec<u8>,
}

impl<R: Read + AsRawFd> Stream<R> {
    /// Read what is there (the caller's `poll` said so); returns the new bytes' start.
    fn read_some(&mut self) -> usize {
        let at = self.kept.len();
        let Some(pipe) = self.pipe.as_mut() else {
            return at;
        };
        let mut buf = [0u8; 4096];
        let room = KEEP - self.kept.len();
        match pipe.read(&mut buf[..room.min(4096)]) {
            Ok(0) => self.pipe = None,
            Ok(n) => {
                self.kept.extend_from_slice(&buf[..n]);
                if self.kept.len() >= KEEP {
                    self.pipe = None;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => self.pipe = None,
        }
        at
    }
}

/// Run `cmd` until it exits, `deadline` passes or a signal arrives (then
/// `Err(Error::Interrupted)`, the program's group already ended). `on_line` sees every
/// complete line of stdout as it arrives (within the kept bytes).
pub fn run(
    cmd: &mut Command,
    deadline: Instant,
    on_line: &mut dyn FnMut(&[u8]),
) -> Result<Outcome> {
    signals::check()?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Outcome::NotFound),
        Err(e) => return Ok(Outcome::NotStarted(e)),
    };
    let group = Group::of(&child);
    // A second signal ends the program from the handler: it ends this group too.
    let _armed = signals::ChildGroup::new(group.0);
    let mut out = Stream {
        pipe: child.stdout.take(),
        kept: Vec::new(),
    };
    let mut err = Stream {
        pipe: child.stderr.take(),
        kept: Vec::new(),
    };
    let mut line_start = 0;
    let mut exited: Option<(ExitStatus, Instant)> = None;
    loop {
        if let Some(signal) = signals::pending() {
            group.end(&mut child);
            return Err(Error::Interrupted {
                signal,
                kept: Vec::new(),
            });
        }
        if Instant::now() >= deadline {
            group.end(&mut child);
            return Ok(Outcome::Ran(Output {
                status: None,
                stdout: out.kept,
                stderr: err.kept,
            }));
        }
        if exited.is_none() {
            if let Ok(Some(status)) = child.try_wait() {
                exited = Some((status, Instant::now()));
            }
        }
        let open = out.pipe.is_some() || err.pipe.is_some();
        match exited {
            // Done: it exited and said all (or helpers still hold the pipes a moment).
            Some((status, at)) if !open || at.elapsed() >= GRACE => {
                group.kill();
                return Ok(Outcome::Ran(Output {
                    status: Some(status),
                    stdout: out.kept,
                    stderr: err.kept,
                }));
            }
            _ => {}
        }
        let wait = SLICE.min(deadline.saturating_duration_since(Instant::now()));
        if !open {
            std::thread::sleep(wait.min(Duration::from_millis(10)));
            continue;
        }
        let (out_ready, err_ready) = poll(out.pipe.as_ref(), err.pipe.as_ref(), wait);
        if err_ready {
            err.read_some();
        }
        if out_ready {
            out.read_some();
            while let Some(nl) = out.kept[line_start..].iter().position(|&b| b == b'\n') {
                on_line(&out.kept[line_start..line_start + nl]);
                line_start += nl + 1;
            }
        }
    }
}

/// Which of the two pipes has something to read (or is closed), waiting at most `wait`.
fn poll<A: AsRawFd, B: AsRawFd>(a: Option<&A>, b: Option<&B>, wait: Duration) -> (bool, bool) {
    let fd = |p: Option<i32>| libc::pollfd {
        fd: p.unwrap_or(-1),
        events: libc::POLLIN,
        revents: 0,
    };
    let mut fds = [fd(a.map(AsRawFd::as_raw_fd)), fd(b.map(AsRawFd::as_raw_fd))];
    let ms = wait.as_millis().clamp(0, 1000) as i32;
    // SAFETY: `fds` is a valid array of two pollfd; a negative fd is ignored by poll.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if n <= 0 {
        return (false, false);
    }
    let ready = |p: &libc::pollfd| p.fd >= 0 && p.revents != 0;
    (ready(&fds[0]), ready(&fds[1]))
}

/// The child's process group (its id is the child's pid: `process_group(0)`).
struct Group(i32);

impl Group {
    fn of(child: &Child) -> Group {
        Group(i32::try_from(child.id()).unwrap_or(0))
    }

    fn signal(&self, sig: i32) {
        if self.0 > 0 {
            // SAFETY: a plain kill(2) on the group this program made; an error (the
            // group is gone already) changes nothing.
            unsafe {
                libc::kill(-self.0, sig);
            }
        }
    }

    /// SIGKILL to whatever is left of the group.
    fn kill(&self) {
        self.signal(libc::SIGKILL);
    }

    /// End the program and its helpers: SIGTERM (ssh says goodbye to the server), then
    /// SIGKILL after [`GRACE`]; reap the program.
    fn end(&self, child: &mut Child) {
        self.signal(libc::SIGTERM);
        let until = Instant::now() + GRACE;
        while Instant::now() < until {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.kill();
        let _ = child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("/bin/sh");
        c.args(["-c", script]);
        c
    }

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(20)
    }

    #[test]
    fn lines_status_and_both_streams() {
        let mut lines = Vec::new();
        let out = run(
            &mut sh("echo one; echo two >&2; printf 'three\\nfour'; exit 3"),
            far(),
            &mut |l| lines.push(String::from_utf8_lossy(l).into_owned()),
        )
        .unwrap();
        let Outcome::Ran(out) = out else {
            panic!("{out:?}")
        };
        assert_eq!(out.code(), Some(3));
        assert_eq!(lines, ["one", "three"]);
        assert_eq!(out.stdout, b"one\nthree\nfour");
        assert_eq!(out.stderr, b"two\n");
    }

    #[test]
    fn output_is_bounded_and_a_talker_is_stopped() {
        let out = run(&mut sh("yes"), far(), &mut |_| {}).unwrap();
        let Outcome::Ran(out) = out else {
            panic!("{out:?}")
        };
        assert_eq!(out.stdout.len(), KEEP);
        // `yes` ended by EPIPE (or SIGPIPE) once the pipe was closed.
        assert!(out.status.is_some());
    }

    #[test]
    fn the_deadline_ends_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let mark = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", mark.display());
        // The deadline must fall after the script started its helper: on a loaded machine
        // that can take a while, so a run that ended before is tried with more time.
        let mut limit = Duration::from_millis(300);
        let pid: i32 = loop {
            let out = run(&mut sh(&script), Instant::now() + limit, &mut |_| {}).unwrap();
            let Outcome::Ran(out) = out else {
                panic!("{out:?}")
            };
            assert!(out.status.is_none());
            match std::fs::read_to_string(&mark)
                .ok()
                .and_then(|t| t.trim().parse().ok())
            {
                Some(pid) => break pid,
                None if limit < Duration::from_secs(10) => limit *= 2,
                None => panic!("the script never started its helper"),
            }
        };
        // The helper `sleep` went with it (gone, or a zombie of an exited parent).
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = state.rsplit(") ").next().unwrap_or("").chars().next();
        assert!(matches!(state, None | Some('Z') | Some('X')), "{state:?}");
    }

    #[test]
    fn a_missing_program_is_not_found() {
        let out = run(
            &mut Command::new("pegasus-no-such-program-here"),
            far(),
            &mut |_| {},
        )
        .unwrap();
        assert!(matches!(out, Outcome::NotFound), "{out:?}");
    }
}
