//! Run the binary on a pseudo-terminal, for what only happens on a terminal: typed
//! confirmation, the hidden token prompt, the spinner.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

unsafe extern "C" {
    fn posix_openpt(flags: i32) -> i32;
    fn grantpt(fd: i32) -> i32;
    fn unlockpt(fd: i32) -> i32;
    fn ptsname_r(fd: i32, buf: *mut u8, len: usize) -> i32;
}

const O_RDWR: i32 = 0o2;
const O_NOCTTY: i32 = 0o400;

pub struct PtyRun {
    pub code: i32,
    /// Everything the terminal showed (stdout and stderr together, plus echo).
    pub screen: String,
}

/// A new terminal: its master side (what the test reads and types on) and its slave
/// side (the terminal the child gets).
pub fn open() -> (File, File) {
    // SAFETY: plain libc calls; the name buffer is large enough and NUL-terminated.
    let (master, slave_path) = unsafe {
        let fd = posix_openpt(O_RDWR | O_NOCTTY);
        assert!(fd >= 0, "posix_openpt failed");
        assert_eq!(grantpt(fd), 0);
        assert_eq!(unlockpt(fd), 0);
        let mut buf = [0u8; 128];
        assert_eq!(ptsname_r(fd, buf.as_mut_ptr(), buf.len()), 0);
        let len = buf.iter().position(|&b| b == 0).unwrap();
        let path = String::from_utf8(buf[..len].to_vec()).unwrap();
        (File::from(OwnedFd::from_raw_fd(fd)), path)
    };
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .unwrap();
    (master, slave)
}

/// Start `cmd` with stdin, stdout and stderr on the terminal `slave`.
pub fn spawn(mut cmd: Command, slave: File) -> Child {
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    cmd.spawn().unwrap()
    // `cmd` is dropped here, closing our copies of the slave side.
}

/// What the terminal shows, read from `master` on a thread; the child's exit closes the
/// slave (EIO here), which ends it.
pub struct Screen {
    rx: Receiver<Vec<u8>>,
    pub bytes: Vec<u8>,
}

impl Screen {
    pub fn read(master: &File) -> Screen {
        let mut reader = master.try_clone().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Screen {
            rx,
            bytes: Vec::new(),
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

    /// Take what is still coming, until the terminal is quiet for 200 ms.
    pub fn drain(&mut self) {
        while let Ok(chunk) = self.rx.recv_timeout(Duration::from_millis(200)) {
            self.bytes.extend(chunk);
        }
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
