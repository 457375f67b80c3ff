//! Run the binary on a pseudo-terminal, for what only happens on a terminal: typed
//! confirmation, the hidden token prompt, the spinner, a terminal that goes away.
//!
//! The master side is opened close-on-exec, so no child (of this test or of another one
//! running beside it) holds a copy: closing it hangs the terminal up
//! ([`Screen::hang_up`]).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct PtyRun {
    pub code: i32,
    /// Everything the terminal showed (stdout and stderr together, plus echo).
    pub screen: String,
}

/// A new terminal: its master side (what the test reads and types on), close-on-exec, and
/// its slave side (the terminal the child gets).
pub fn open() -> (File, File) {
    let master = open_master();
    let fd = master.as_raw_fd();
    // SAFETY: plain libc calls on an open master descriptor.
    unsafe {
        assert_eq!(libc::grantpt(fd), 0, "grantpt");
        assert_eq!(libc::unlockpt(fd), 0, "unlockpt");
    }
    let slave_path = slave_name(fd);
    // Close-on-exec (as std opens every file); O_NOCTTY: it does not become this
    // process's controlling terminal.
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&slave_path)
        .unwrap_or_else(|e| panic!("{slave_path}: {e}"));
    (master, slave)
}

/// `posix_openpt` with `O_CLOEXEC` where the flag is taken at open (Linux), so no child
/// spawned by another thread in between can inherit it; elsewhere it is set right after.
fn open_master() -> File {
    #[cfg(target_os = "linux")]
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    #[cfg(not(target_os = "linux"))]
    let flags = libc::O_RDWR | libc::O_NOCTTY;
    // SAFETY: plain libc calls; the descriptor is owned by the File from here on.
    unsafe {
        let fd = libc::posix_openpt(flags);
        assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
        let master = File::from(OwnedFd::from_raw_fd(fd));
        assert_eq!(libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC), 0);
        master
    }
}

/// The slave side's path, e.g. `/dev/pts/3`.
#[cfg(target_os = "linux")]
fn slave_name(fd: i32) -> String {
    let mut buf = [0 as libc::c_char; 128];
    // SAFETY: the buffer and its length go together; ptsname_r NUL-terminates it.
    unsafe {
        assert_eq!(
            libc::ptsname_r(fd, buf.as_mut_ptr(), buf.len()),
            0,
            "ptsname_r"
        );
        std::ffi::CStr::from_ptr(buf.as_ptr())
            .to_string_lossy()
            .into_owned()
    }
}

/// The slave side's path (`ptsname` keeps it in a static buffer: one caller at a time).
#[cfg(not(target_os = "linux"))]
fn slave_name(fd: i32) -> String {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: under the lock; the name is copied out before it is released.
    unsafe {
        let p = libc::ptsname(fd);
        assert!(!p.is_null(), "ptsname");
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

/// Start `cmd` with stdin, stdout and stderr on the terminal `slave`. The terminal is not
/// the child's controlling terminal: when it is hung up, the child sees end of file on
/// reads and errors on writes, but no SIGHUP from the kernel.
pub fn spawn(mut cmd: Command, slave: File) -> Child {
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    cmd.spawn().unwrap()
    // `cmd` is dropped here, closing our copies of the slave side.
}

/// Like [`spawn`], with the child leading a session of its own whose controlling terminal
/// is `slave`, as a login shell over SSH is: Ctrl-C typed on it signals the child's
/// process group, and when the terminal is hung up the kernel sends the child SIGHUP.
pub fn spawn_session(mut cmd: Command, slave: File) -> Child {
    // SAFETY: setsid and ioctl are async-signal-safe; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    spawn(cmd, slave)
}

/// What the terminal shows, read from the master side on a thread; the child's exit (the
/// last slave descriptor closed: EIO here) or [`Screen::hang_up`] ends it.
pub struct Screen {
    rx: Receiver<Vec<u8>>,
    pub bytes: Vec<u8>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Screen {
    pub fn read(master: &File) -> Screen {
        let reader = master.try_clone().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut reader = reader;
            let mut buf = [0u8; 4096];
            while !stopped.load(Ordering::SeqCst) {
                // Wait in slices, so that a hang-up can take this copy of the master back.
                let mut pfd = libc::pollfd {
                    fd: reader.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                let ready = unsafe { libc::poll(&mut pfd, 1, 20) };
                if ready == 0 {
                    continue;
                }
                if ready < 0 {
                    if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    break;
                }
                // Data, or the slave side closed (POLLHUP: the read says EIO).
                match reader.read(&mut buf) {
                    Ok(n) if n > 0 && tx.send(buf[..n].to_vec()).is_ok() => {}
                    _ => break,
                }
            }
            // `reader`, this copy of the master, is closed here.
        });
        Screen {
            rx,
            bytes: Vec::new(),
            stop,
            reader: Some(thread),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Wait until the screen shows `text` (panics after the deadline).
    pub fn wait_for(&mut self, text: &str, deadline: Instant) {
        while !String::from_utf8_lossy(&self.bytes).contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} on the screen: {}",
                self.text()
            );
            if let Ok(chunk) = self.rx.recv_timeout(Duration::from_millis(20)) {
                self.bytes.extend(chunk);
            }
        }
    }

    /// Take everything still coming, once the child has ended: until the reader meets the
    /// closed slave side (or the terminal is hung up). Panics when the terminal is still
    /// open after 30 s (something else holds the slave side).
    pub fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(chunk) => self.bytes.extend(chunk),
                Err(RecvTimeoutError::Disconnected) => return,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the terminal is still open 30 s on: {}", self.text())
                }
            }
        }
    }

    /// Hang the terminal up while the child may still run, as a dropped SSH connection
    /// does: `master` (the caller's copy) and the reader's copy are closed; when this
    /// returns, no descriptor of the master side is left open in this process, so the
    /// child's reads of the terminal end (EOF), its writes fail (EIO), and a child spawned
    /// with [`spawn_session`] gets SIGHUP. What the screen showed until then stays in
    /// `bytes`.
    pub fn hang_up(&mut self, master: File) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            reader.join().expect("the screen reader panicked");
        }
        while let Ok(chunk) = self.rx.try_recv() {
            self.bytes.extend(chunk);
        }
        drop(master);
    }
}

/// Run `cmd` with stdin, stdout and stderr on a new terminal. Each item of `input` is
/// typed after the screen shows its prompt text (the first element of the pair).
pub fn run_on_pty(cmd: Command, input: &[(&str, &str)]) -> PtyRun {
    let (master, slave) = open();
    let mut child = spawn(cmd, slave);
    let mut screen = Screen::read(&master);
    let mut writer = master;
    let deadline = Instant::now() + Duration::from_secs(30);
    for (prompt, answer) in input {
        screen.wait_for(prompt, deadline);
        writer.write_all(answer.as_bytes()).unwrap();
        writer.write_all(b"\n").unwrap();
    }
    let status = child.wait().unwrap();
    screen.drain();
    PtyRun {
        code: status.code().unwrap_or(-1),
        screen: screen.text(),
    }
}
