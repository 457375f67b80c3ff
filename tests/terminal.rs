//! What happens only on a terminal: typed confirmation, the hidden token prompt, the
//! spinner. Each test runs the binary on a pseudo-terminal.

mod common;

use common::pty::run_on_pty;
use common::*;

#[test]
fn destroy_asks_for_the_name_and_deletes_on_a_match() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1"]),
        &[("Type the name to confirm", "web1")],
    );
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web1 is deleted."),
        "{}",
        run.screen
    );
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn destroy_with_a_wrong_name_typed_deletes_nothing() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1"]),
        &[("Type the name to confirm", "web2")],
    );
    assert_eq!(run.code, 1, "{}", run.screen);
    assert!(run.screen.contains("nothing was deleted"), "{}", run.screen);
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn token_prompt_hides_what_is_typed() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let run = run_on_pty(
        p.command(&["server", "create", "web1", "--no-kamal"]),
        &[("Hetzner API token: ", TOKEN)],
    );
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        !run.screen.contains(&TOKEN[..8]),
        "the token was echoed:\n{}",
        run.screen
    );
    assert_eq!(
        std::fs::read_to_string(p.credentials_path()).unwrap(),
        format!("{TOKEN}\n")
    );
}

#[test]
fn spinner_on_a_terminal_and_plain_lines_with_term_dumb() {
    let p = Project::new();
    p.fake.set_action_polls(5);
    let run = run_on_pty(p.command(&["server", "create", "web1", "--no-kamal"]), &[]);
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web1: creating the server"),
        "{}",
        run.screen
    );
    assert!(run.screen.contains('%'), "{}", run.screen);
    // Frames of the Dots spinner.
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    assert!(run.screen.contains(frames), "no spinner:\n{}", run.screen);
    assert!(
        run.screen.contains("Server web1 is running."),
        "{}",
        run.screen
    );

    let mut cmd = p.command(&["server", "create", "web2", "--no-kamal"]);
    cmd.env("TERM", "dumb");
    let run = run_on_pty(cmd, &[]);
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web2: creating the server ..."),
        "{}",
        run.screen
    );
    assert!(
        !run.screen.contains(frames),
        "spinner with TERM=dumb:\n{}",
        run.screen
    );
}

// ---- a terminal that goes away (issue 18, SPEC §8) ----

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::pty;

/// `create --json` with stdin and stderr on a terminal (the spinner draws there) and
/// stdout to a pipe, the terminal hung up while the create waits for its actions.
/// Returns the exit status and stdout.
fn hang_up_mid_create(p: &Project, ignore_hup: bool) -> (std::process::ExitStatus, String) {
    let (master, slave) = pty::open();
    let mut cmd = p.command(&["server", "create", "web1", "--json", "--ssh-timeout", "0"]);
    if ignore_hup {
        // As `nohup` leaves it: the kernel's SIGHUP is ignored from the start.
        // SAFETY: signal() is async-signal-safe; nothing is allocated.
        unsafe {
            cmd.pre_exec(|| {
                libc::signal(libc::SIGHUP, libc::SIG_IGN);
                Ok(())
            });
        }
    }
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let mut screen = pty::Screen::read(&master);
    // The spinner is drawing the wait for the create's actions.
    screen.wait_for(
        "creating the server",
        Instant::now() + Duration::from_secs(30),
    );
    screen.hang_up(master);
    let mut stdout = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    (child.wait().unwrap(), stdout)
}

#[test]
fn a_hang_up_mid_create_ends_by_sighup_with_the_facts_not_an_abort() {
    let p = Project::new();
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let (status, stdout) = hang_up_mid_create(&p, false);
    // Death by SIGHUP (the shell's 129), never SIGABRT from a panicking spinner.
    assert_eq!(status.signal(), Some(libc::SIGHUP), "{status:?}\n{stdout}");
    // The facts still reach what is left: the one JSON object on stdout.
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["server"]["name"], "web1");
    assert_eq!(v["error"], "Interrupted by SIGHUP");
}

#[test]
fn with_sighup_ignored_a_hang_up_stops_the_spinner_and_the_run_goes_on() {
    let p = Project::new();
    p.fake.set_action_duration(Some(Duration::from_secs(2)));
    let (status, stdout) = hang_up_mid_create(&p, true);
    assert_eq!(status.code(), Some(0), "{status:?}\n{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(v["server"]["status"], "running");
    assert!(v.get("error").is_none(), "{v}");
}
