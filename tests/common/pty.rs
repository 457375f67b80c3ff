//! Run the binary on a pseudo-terminal, for what only happens on a terminal: typed
//! confirmation, the hidden token prompt, the spinner.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
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

/// Run `cmd` with stdin, stdout and stderr on a new terminal. Each item of `input` is
/// typed after the screen shows its prompt text (the first element of the pair).
pub fn run_on_pty(mut cmd: Command, input: &[(&str, &str)]) -> PtyRun {
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
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave));
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // closes our copies of the slave side

    // Read the master on a thread; the child's exit closes the slave (EIO here).
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
    let mut screen = Vec::new();
    let mut writer = master;
    let deadline = Instant::now() + Duration::from_secs(30);
    for (prompt, answer) in input {
        while !String::from_utf8_lossy(&screen).contains(prompt) {
            assert!(
                Instant::now() < deadline,
                "no prompt {prompt:?}: {}",
                String::from_utf8_lossy(&screen)
            );
            if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(50)) {
                screen.extend(chunk);
            }
        }
        writer.write_all(answer.as_bytes()).unwrap();
        writer.write_all(b"\n").unwrap();
    }
    let status = child.wait().unwrap();
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        screen.extend(chunk);
    }
    PtyRun {
        code: status.code().unwrap_or(-1),
        screen: String::from_utf8_lossy(&screen).into_owned(),
    }
}
