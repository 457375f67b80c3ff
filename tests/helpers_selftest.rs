//! Tests of the test helpers themselves: the pseudo-terminal (`tests/common/pty.rs`: no
//! child inherits its master side, and a hang-up reaches the child) and the refusing port
//! (`tests/common/proxy.rs`, `dead_port`).

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::proxy::dead_port;
use common::pty::{self, Screen};

/// The child's end, or a panic (after killing it) when it is still running 20 s on.
fn wait_bounded(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child is still running 20 s on");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Where the descriptors of a new `sh` point (`readlink /proc/PID/fd/*`), one a line.
#[cfg(target_os = "linux")]
fn fds_of_a_child() -> String {
    let out = Command::new("sh")
        .args(["-c", r#"for f in /proc/$$/fd/*; do readlink "$f"; done"#])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[cfg(target_os = "linux")]
#[test]
fn children_do_not_inherit_the_terminal() {
    let (master, slave) = pty::open();
    let slave_path = std::fs::read_link(format!("/proc/self/fd/{}", slave.as_raw_fd())).unwrap();
    let slave_path = slave_path.to_string_lossy().into_owned();
    let master_path = std::fs::read_link(format!("/proc/self/fd/{}", master.as_raw_fd())).unwrap();
    let master_path = master_path.to_string_lossy().into_owned();
    assert!(master_path.ends_with("ptmx"), "{master_path}");
    let seen = fds_of_a_child();
    assert!(!seen.lines().any(|l| l == master_path), "{seen}");
    assert!(!seen.lines().any(|l| l == slave_path), "{seen}");

    // The check sees a descriptor that is inherited: a copy without close-on-exec.
    // SAFETY: dup of an open descriptor, owned from here on.
    let leaked = unsafe { OwnedFd::from_raw_fd(libc::dup(master.as_raw_fd())) };
    let seen = fds_of_a_child();
    drop(leaked);
    assert!(seen.lines().any(|l| l == master_path), "{seen}");
}

/// A child that is not a session leader: after the hang-up its read of the terminal ends
/// (end of file) and its write to it fails, and it runs on to its end.
#[test]
fn a_hang_up_ends_the_childs_reads_and_fails_its_writes() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (master, slave) = pty::open();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(
            r#"echo ready
               if read line; then echo "read: $line" > "$OUT"; else echo "read: end" > "$OUT"; fi
               if echo after 2>/dev/null; then echo "write: ok" >> "$OUT"; else echo "write: failed" >> "$OUT"; fi"#,
        )
        .env("OUT", &out);
    let mut child = pty::spawn(cmd, slave);
    let mut screen = Screen::read(&master);
    screen.wait_for("ready", Instant::now() + Duration::from_secs(20));
    screen.hang_up(master);
    let status = wait_bounded(&mut child);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "read: end\nwrite: failed\n"
    );
}

/// A child leading a session on the terminal (as a shell over SSH does) gets SIGHUP from the
/// kernel when the terminal is hung up.
#[test]
fn a_hang_up_sends_sighup_to_the_session_leader() {
    let (master, slave) = pty::open();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo ready; exec sleep 60"]);
    let mut child = pty::spawn_session(cmd, slave);
    let mut screen = Screen::read(&master);
    screen.wait_for("ready", Instant::now() + Duration::from_secs(20));
    screen.hang_up(master);
    let status = wait_bounded(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGHUP), "{status:?}");
}

/// On a session's terminal, a typed Ctrl-C is SIGINT to the child.
#[test]
fn ctrl_c_typed_on_a_session_terminal_interrupts_the_child() {
    let (master, slave) = pty::open();
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo ready; exec sleep 60"]);
    let mut child = pty::spawn_session(cmd, slave);
    let mut screen = Screen::read(&master);
    screen.wait_for("ready", Instant::now() + Duration::from_secs(20));
    (&master).write_all(b"\x03").unwrap();
    let status = wait_bounded(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    screen.hang_up(master);
}

/// A dead port refuses connections for as long as it lives, and nothing else can take it.
#[test]
fn a_dead_port_refuses_and_cannot_be_taken() {
    let dead = dead_port();
    let err = TcpStream::connect(("127.0.0.1", dead.port())).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err}");
    let taken = TcpListener::bind(("127.0.0.1", dead.port()));
    assert!(taken.is_err(), "port {} could be bound again", dead.port());
}
