//! Signals as a shell sees them (SPEC §8, issue 18): an ignored SIGHUP stays ignored, an
//! interrupted run ends by the signal so a `for` loop stops, and a second signal still
//! prints the one JSON object.

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Until the fake has seen a request for `path` (bounded).
fn wait_for(p: &Project, method: &str, path: &str) {
    let start = Instant::now();
    while p.fake.count_prefix(method, path) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {method} {path}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn collect(child: Child) -> Run {
    let out = child.wait_with_output().unwrap();
    Run::from_output(&out)
}

fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a process (or, negative, a process group) this test started.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

#[test]
fn an_ignored_sighup_stays_ignored() {
    let p = Project::new();
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    // As `nohup` leaves it: SIGHUP ignored by the parent, inherited across exec.
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "trap '' HUP; exec '{BIN}' server create web1 --ssh-timeout 0"
    ));
    let inner = p.command(&[]);
    cmd.env_clear().current_dir(p.dir.path());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let child = spawn(cmd);
    wait_for(&p, "GET", "/v1/actions");
    kill(child.id(), libc::SIGHUP);
    // The hang-up is ignored: the run goes on polling the actions.
    let seen = p.fake.count_prefix("GET", "/v1/actions");
    let start = Instant::now();
    while p.fake.count_prefix("GET", "/v1/actions") <= seen + 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "it stopped polling"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    kill(child.id(), libc::SIGINT);
    let run = collect(child);
    assert_eq!(run.signal, Some(libc::SIGINT), "{}", run.dump());
    assert_stderr(&run, "Interrupted by SIGINT");
    assert!(!run.stderr.contains("SIGHUP"), "{}", run.dump());
}

#[test]
fn one_ctrl_c_stops_a_shell_loop() {
    let p = Project::new();
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let mut cmd = Command::new("bash");
    cmd.arg("-c").arg(format!(
        "for n in a b; do '{BIN}' server create \"$n\" --ssh-timeout 0; done; echo loop-went-on"
    ));
    let inner = p.command(&[]);
    cmd.env_clear().current_dir(p.dir.path()).process_group(0);
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let child = spawn(cmd);
    wait_for(&p, "GET", "/v1/actions");
    // Ctrl-C on a terminal: SIGINT to the whole foreground process group.
    kill_group(child.id(), libc::SIGINT);
    let run = collect(child);
    assert!(!run.stdout.contains("loop-went-on"), "{}", run.dump());
    assert_eq!(p.fake.server_names(), ["a"], "{}", run.dump());
    assert_eq!(run.code, 130, "{}", run.dump());
}

fn kill_group(pgid: u32, sig: i32) {
    // SAFETY: killpg(2) on the process group this test made.
    assert_eq!(unsafe { libc::killpg(pgid as i32, sig) }, 0);
}

#[test]
fn a_second_signal_still_prints_the_json_object() {
    let p = Project::new();
    // The first poll hangs, and the first SIGTERM arrives inside the critical wait for
    // nothing: the run acts on it at once anyway. Send two in a row.
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let child = spawn(p.command(&["server", "create", "web1", "--json", "--ssh-timeout", "0"]));
    wait_for(&p, "GET", "/v1/actions");
    kill(child.id(), libc::SIGTERM);
    kill(child.id(), libc::SIGTERM);
    let run = collect(child);
    assert_eq!(run.signal, Some(libc::SIGTERM), "{}", run.dump());
    // Whichever signal ended it, stdout holds exactly one JSON object naming the server.
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    let v = run.json();
    assert_eq!(v["server"]["name"], "web1", "{}", run.dump());
    assert!(v["error"].as_str().unwrap().contains("Interrupted"), "{v}");
    assert_stderr(&run, "The server web1 exists (id ");
}
