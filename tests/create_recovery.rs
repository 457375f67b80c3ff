//! `server create` never loses track of a server (issue 9): failures after the
//! `POST /servers` end with the facts (stderr, and one JSON object on stdout with
//! `--json`), signals are handled, a re-run picks an existing pegasus server up, and text
//! from the API reaches the terminal escaped. The real binary against the fake API.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::pty;
use common::*;
use std::os::unix::process::ExitStatusExt;

const ESC: char = '\x1b';

/// The facts every failure after the POST must end with.
#[track_caller]
fn assert_facts(run: &Run, name: &str) {
    assert_stderr(run, &format!("The server {name} exists (id "));
    assert_stderr(run, &format!("pegasus server create {name}"));
    assert_stderr(run, &format!("pegasus server destroy {name}"));
}

// ---- failures after the POST ----

#[test]
fn dropped_action_polls_after_the_create_end_with_the_facts() {
    let p = Project::new();
    p.fake.inject("GET", "/v1/actions", Fault::Drop, 1000);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_facts(&run, "web1");
    assert_stderr(&run, "203.0.113.10, status initializing)");
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);

    // --json: still one object on stdout, with the server and the error.
    let p = Project::new();
    p.fake.inject("GET", "/v1/actions", Fault::Drop, 1000);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 1);
    assert_facts(&run, "web1");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    // The server object's keys in the order of SPEC §4.
    assert!(
        run.stdout.starts_with("{\"server\":{\"id\":"),
        "{}",
        run.dump()
    );
    let v = run.json();
    let id = p.fake.server_json("web1").unwrap()["id"].clone();
    assert_eq!(v["server"]["id"], id);
    assert_eq!(v["server"]["name"], "web1");
    assert_eq!(v["server"]["ipv4"], "203.0.113.10");
    assert_eq!(v["resumed"], false);
    let error = v["error"].as_str().unwrap();
    assert!(error.contains("gave up after 5 tries"), "{error}");
}

#[test]
fn truncated_create_answer_and_a_failed_look_up_say_the_server_may_exist() {
    let p = Project::new();
    p.fake.inject("POST", "/v1/servers", Fault::Truncate, 1);
    // The preflight's look-up passes; every one after the create drops.
    p.fake
        .inject("GET", "/v1/servers", Fault::Delay(Duration::ZERO), 1);
    p.fake.inject("GET", "/v1/servers", Fault::Drop, 1000);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "The server web1 may have been created");
    assert_stderr(&run, "pegasus server list");
    assert_stderr(&run, "pegasus server create web1");
    assert_stderr(&run, "pegasus server destroy web1");
    let v = run.json();
    assert_eq!(v["server"]["name"], "web1");
    assert!(v["error"].as_str().is_some(), "{}", run.dump());
    // It was made, once.
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn truncated_or_unreadable_create_answer_is_looked_up_never_sent_again() {
    for fault in [Fault::Truncate, Fault::Garble] {
        let p = Project::new();
        p.fake.inject("POST", "/v1/servers", fault.clone(), 1);
        let run = p.run(&["server", "create", "web1", "--json"]);
        assert_exit(&run, 0);
        assert_stderr(&run, "no clear answer");
        assert_eq!(p.fake.count("POST", "/v1/servers"), 1, "{fault:?}");
        assert_eq!(run.json()["server"]["status"], "running");
    }
}

#[test]
fn undecodable_server_answer_after_the_wait_ends_with_the_facts() {
    let p = Project::new();
    p.fake.inject("GET", "/v1/servers/", Fault::Garble, 1000);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "an answer pegasus does not understand");
    assert_facts(&run, "web1");
    // The actions were done: the facts say so, though the server could not be read.
    assert_stderr(&run, "status running)");
    let v = run.json();
    assert_eq!(v["server"]["name"], "web1");
    assert!(v["error"].as_str().unwrap().contains("does not understand"));
}

#[test]
fn missing_action_in_the_answer_ends_with_the_facts() {
    let p = Project::new();
    // The start action (5002) never appears in the answers: another id stands there.
    p.fake.inject(
        "GET",
        "/v1/actions",
        Fault::Substitute("\"id\":5002".into(), "\"id\":5999".into()),
        1000,
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "an action is missing from the answer");
    assert_facts(&run, "web1");
}

#[test]
fn failed_action_in_json_mode_prints_the_server_and_the_error() {
    let p = Project::new();
    p.fake.fail_action("start_server");
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 1);
    // A server whose create failed: only the way to remove it (SPEC §4 step 8).
    assert_stderr(&run, "The server web1 exists (id ");
    assert_stderr(&run, "remove it:   pegasus server destroy web1");
    assert!(!run.stderr.contains("pick it up"), "{}", run.dump());
    let v = run.json();
    assert_eq!(v["server"]["name"], "web1");
    assert_eq!(
        v["error"],
        "start_server failed: Action failed (action_failed). The server web1 exists in a failed state"
    );
}

// ---- signals ----

fn spawn(p: &Project, args: &[&str]) -> Child {
    p.command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Poll (briefly) until the fake has seen `n` requests `method path`.
fn wait_for_request(p: &Project, method: &str, path: &str) {
    let start = Instant::now();
    while p.fake.count(method, path) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no {method} {path}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Send `signal` to the child and collect its output; it must end soon.
fn signal_and_wait(child: Child, signal: i32) -> (Run, Duration) {
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0);
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    let run = Run::from_output(&out);
    (run, sent.elapsed())
}

#[test]
fn sigint_before_the_create_says_nothing_was_created() {
    let p = Project::new();
    // The signal must come while the request is answered late: a wide window.
    p.fake.inject(
        "GET",
        "/v1/server_types",
        Fault::Delay(Duration::from_secs(2)),
        1,
    );
    let child = spawn(&p, &["server", "create", "web1"]);
    wait_for_request(&p, "GET", "/v1/server_types");
    let (run, _) = signal_and_wait(child, libc::SIGINT);
    assert_exit(&run, 130);
    assert_stderr(&run, "Interrupted; nothing was created");
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
}

#[test]
fn sigint_after_the_key_upload_names_the_key() {
    let p = Project::new();
    p.fake.inject(
        "POST",
        "/v1/ssh_keys",
        Fault::Delay(Duration::from_secs(2)),
        1,
    );
    let child = spawn(&p, &["server", "create", "web1"]);
    wait_for_request(&p, "POST", "/v1/ssh_keys");
    let (run, _) = signal_and_wait(child, libc::SIGINT);
    assert_exit(&run, 130);
    assert_stderr(
        &run,
        // The firewall is made beside the upload (SPEC §4 step 7), so it is kept too.
        "Interrupted; no server was created. Kept: SSH key id_ed25519, firewall pegasus-kamal (id ",
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
    // The run ended within a slice of the signal; the fake finishes the delayed upload
    // after that, and the key is kept (the message said so).
    let until = Instant::now() + Duration::from_secs(10);
    while p.fake.ssh_keys().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(p.fake.ssh_keys().len(), 1);
}

#[test]
fn sigint_during_the_firewall_post_sends_no_server_post() {
    let p = Project::new();
    // The key is on Hetzner already; the firewall's POST hangs.
    p.fake.add_ssh_key("id_ed25519", &ed25519_pub());
    p.fake.inject(
        "POST",
        "/v1/firewalls",
        Fault::Delay(Duration::from_secs(20)),
        1,
    );
    let child = spawn(&p, &["server", "create", "web1"]);
    wait_for_request(&p, "POST", "/v1/firewalls");
    let (run, took) = signal_and_wait(child, libc::SIGINT);
    assert_exit(&run, 130);
    assert_eq!(run.signal, Some(libc::SIGINT), "{}", run.dump());
    // Acted on within a slice, not when the hung request ends.
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}\n{}",
        run.dump()
    );
    assert_stderr(
        &run,
        "Interrupted; no server was created. Kept: firewall pegasus-kamal; a re-run uses it",
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0, "{}", run.dump());
}

#[test]
fn sigint_during_a_hung_preflight_read_ends_at_once_without_a_post() {
    let p = Project::new();
    p.fake.inject(
        "GET",
        "/v1/server_types",
        Fault::Delay(Duration::from_secs(30)),
        1,
    );
    let child = spawn(&p, &["server", "create", "web1"]);
    wait_for_request(&p, "GET", "/v1/server_types");
    let (run, took) = signal_and_wait(child, libc::SIGINT);
    assert_eq!(run.signal, Some(libc::SIGINT), "{}", run.dump());
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}\n{}",
        run.dump()
    );
    assert_stderr(&run, "Interrupted; nothing was created");
    assert!(p.fake.writes().is_empty(), "{:?}", p.fake.writes());
}

/// A create whose actions take long; the signal comes once the fake has seen the POST.
fn interrupted_during_the_wait(p: &Project, signal: i32, json: bool) -> (Run, Duration) {
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let mut args = vec!["server", "create", "web1"];
    if json {
        args.push("--json");
    }
    let child = spawn(p, &args);
    wait_for_request(p, "POST", "/v1/servers");
    // Let it get into the wait.
    let start = Instant::now();
    while p.fake.count_prefix("GET", "/v1/actions") == 0 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(5));
    }
    signal_and_wait(child, signal)
}

#[test]
fn sigint_during_the_wait_ends_with_the_facts_and_130() {
    let p = Project::new();
    let (run, took) = interrupted_during_the_wait(&p, libc::SIGINT, false);
    assert_exit(&run, 130);
    assert_stderr(&run, "Interrupted by SIGINT");
    assert_facts(&run, "web1");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn sigterm_and_sighup_during_the_wait_in_json_mode() {
    for (signal, code, name) in [
        (libc::SIGTERM, 143, "SIGTERM"),
        (libc::SIGHUP, 129, "SIGHUP"),
    ] {
        let p = Project::new();
        let (run, took) = interrupted_during_the_wait(&p, signal, true);
        assert_exit(&run, code);
        assert_stderr(&run, &format!("Interrupted by {name}"));
        assert_facts(&run, "web1");
        assert!(took < Duration::from_secs(3), "took {took:?}");
        let v = run.json();
        assert_eq!(v["server"]["name"], "web1");
        assert_eq!(v["server"]["status"], "initializing");
        assert_eq!(v["error"], format!("Interrupted by {name}"));
    }
}

// ---- pick-up ----

#[test]
fn rerun_after_an_interrupted_create_picks_the_server_up() {
    let p = Project::new();
    let (run, _) = interrupted_during_the_wait(&p, libc::SIGINT, false);
    assert_exit(&run, 130);
    p.fake.set_action_duration(None);
    p.fake.clear_requests();

    // Flags that differ from the server: refused, naming the difference.
    let run = p.run(&["server", "create", "web1", "-t", "cpx22", "-l", "fsn1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "type cx23 (not cpx22), location nbg1 (not fsn1)");
    // The same flags as the server: fine.
    let run = p.run(&[
        "server", "create", "web1", "-t", "cx23", "-l", "nbg1", "--json",
    ]);
    assert_exit(&run, 0);
    assert_stderr(&run, "Server web1 already exists (made by pegasus ");
    assert_stderr(&run, "picking it up.");
    let v = run.json();
    assert_eq!(v["resumed"], true);
    assert_eq!(v["server"]["status"], "running");
    assert_eq!(v["ssh_key"]["uploaded"], false);
    // No second server, no key upload.
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn running_pegasus_server_is_picked_up_at_once_and_another_image_is_refused() {
    let p = Project::new();
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    let run = p.run(&["server", "create", "web1", "-i", "debian-12"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "image ubuntu-24.04 (not debian-12)");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.starts_with("Server web1 is running."),
        "{}",
        run.dump()
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
}

// ---- text from the API is escaped ----

#[track_caller]
fn assert_no_esc(run: &Run) {
    assert!(
        !run.stdout.contains(ESC) && !run.stderr.contains(ESC),
        "raw ESC in the output:\n{}",
        run.dump().replace(ESC, "<ESC>")
    );
}

#[test]
fn hostile_action_error_message_is_escaped() {
    let p = Project::new();
    p.fake.fail_action("create_server");
    p.fake.inject(
        "GET",
        "/v1/actions",
        Fault::Substitute(
            "Action failed".into(),
            "Action \\u001b]0;owned\\u0007failed\\u001b[2J".into(),
        ),
        1000,
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_no_esc(&run);
    assert_stderr(&run, "Action \\x1b]0;owned\\x07failed\\x1b[2J");
}

#[test]
fn hostile_key_name_is_escaped() {
    let p = Project::new();
    p.fake.add_ssh_key("evil\x1b[2Jkey", &ed25519_pub());
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_no_esc(&run);
    assert_stderr(&run, "The key is on Hetzner as 'evil\\x1b[2Jkey'");
}

#[test]
fn hostile_location_city_is_escaped() {
    let p = Project::new();
    p.fake.inject(
        "GET",
        "/v1/locations",
        Fault::Substitute("Falkenstein".into(), "Falk\\u001b[31menstein".into()),
        1000,
    );
    let run = p.run(&["server", "create", "web1", "-l", "mars1"]);
    assert_exit(&run, 1);
    assert_no_esc(&run);
    assert_stderr(&run, "fsn1 (Falk\\x1b[31menstein)");
}

#[test]
fn hostile_server_name_is_escaped() {
    let p = Project::new();
    p.fake.inject(
        "GET",
        "/v1/servers/",
        Fault::Substitute(
            "\"name\":\"web1\"".into(),
            "\"name\":\"web1\\u001b[2J\\r\"".into(),
        ),
        1000,
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_no_esc(&run);
    assert!(
        run.stdout.starts_with("Server web1\\x1b[2J\\r is running."),
        "{}",
        run.dump()
    );
}

#[test]
fn sigint_at_a_prompt_ends_at_once_and_nothing_is_made() {
    use std::io::Read;
    let p = Project::new();
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    // stdin stays open and silent: the key prompt blocks on it.
    let mut child = p
        .command(&["server", "create", "web1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take();
    let mut stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&seen).contains("Which key") {
        assert!(Instant::now() < deadline, "no prompt");
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(20)) {
            seen.extend(chunk);
        }
    }
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    drop(stdin);
    while let Ok(chunk) = rx.recv_timeout(Duration::from_millis(200)) {
        seen.extend(chunk);
    }
    let stderr = String::from_utf8_lossy(&seen);
    // Death by the signal itself (SPEC §8), which the shell reports as 130.
    assert_eq!(
        ExitStatusExt::signal(&status),
        Some(libc::SIGINT),
        "{stderr}"
    );
    assert!(
        stderr.contains("Interrupted; nothing was created"),
        "{stderr}"
    );
    // At most the key list was read (to mark the keys already on Hetzner).
    assert!(p.fake.requests().iter().all(|r| r.method == "GET"));
    assert_eq!(p.fake.ssh_keys().len(), 0);
}

#[test]
fn second_signal_during_a_slow_request_ends_at_once_with_the_facts() {
    let p = Project::new();
    // The first poll hangs for 20 s: the first SIGINT only sets the flag.
    p.fake.inject(
        "GET",
        "/v1/actions",
        Fault::Delay(Duration::from_secs(20)),
        1,
    );
    let mut child = spawn(&p, &["server", "create", "web1"]);
    wait_for_request(&p, "GET", "/v1/actions");
    let sent = Instant::now();
    // Signal until it ends: the first is noted, a later one ends it at once.
    while child.try_wait().unwrap().is_none() {
        assert!(sent.elapsed() < Duration::from_secs(5), "still running");
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        ExitStatusExt::signal(&out.status),
        Some(libc::SIGINT),
        "{stderr}"
    );
    assert!(sent.elapsed() < Duration::from_secs(5));
    assert!(stderr.contains("The server web1 exists (id "), "{stderr}");
    assert!(stderr.contains("pegasus server destroy web1"), "{stderr}");
}

/// Is ECHO on for the terminal whose master side is `master`?
fn echo_on(master: &std::fs::File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: tcgetattr fills the struct; the fd is open.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(master.as_raw_fd(), &mut t), 0);
        t.c_lflag & libc::ECHO != 0
    }
}

#[test]
fn sigint_at_the_hidden_token_prompt_restores_echo() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let (master, slave) = pty::open();
    // Checked before the child starts: it may turn echo off at once.
    assert!(echo_on(&master), "echo is on to begin with");
    let mut child = pty::spawn(
        p.command(&["server", "create", "web1", "--no-kamal"]),
        slave,
    );
    let mut screen = pty::Screen::read(&master);
    screen.wait_for(
        "Hetzner API token: ",
        Instant::now() + Duration::from_secs(20),
    );
    // Echo goes off before the question shows.
    assert!(!echo_on(&master), "echo is off at the prompt");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    screen.drain();
    let screen = screen.text();
    assert_eq!(
        ExitStatusExt::signal(&status),
        Some(libc::SIGINT),
        "{screen}"
    );
    assert!(echo_on(&master), "echo was not restored:\n{screen}");
    assert!(
        screen.contains("Interrupted; nothing was created"),
        "{screen}"
    );
    assert!(p.fake.requests().is_empty());
}

#[test]
fn pegasus_server_being_deleted_is_not_picked_up() {
    let mut p = Project::new();
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    // A delete that never ends: the server stays `deleting`.
    p.fake.set_action_polls(1_000_000);
    p.set_env("PEGASUS_TEST_WAIT_LIMIT_MS", Some("50"));
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_eq!(
        p.fake.server_json("web1").unwrap()["status"],
        "deleting",
        "{}",
        run.dump()
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "server web1 is being deleted");
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
}

#[test]
fn unreadable_500_to_the_create_is_looked_up_not_repeated() {
    let p = Project::new();
    // The create happens, but the answer is a 500 with a body that is not Hetzner's.
    p.fake
        .inject("POST", "/v1/servers", Fault::ApplyThenHtml(500), 1);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    assert_stderr(&run, "no clear answer");
}

// ---- the printed commands, run as printed ----

/// The `pick it up:` command from a run's stderr.
fn printed_pick_up(run: &Run) -> String {
    run.stderr
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("pick it up:"))
        .unwrap_or_else(|| panic!("no pick-up command\n{}", run.dump()))
        .trim()
        .to_string()
}

/// Run a printed command line through `sh`, with the binary as `pegasus` on PATH.
fn run_printed(p: &Project, line: &str) -> Run {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut cmd = p.command(&[]);
    cmd.env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()));
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(line).current_dir(p.dir.path()).env_clear();
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            sh.env(k, v);
        }
    }
    run_command(sh, "")
}

/// Interrupt `args` during the wait for the create's actions, then run the printed
/// pick-up command through a shell (the actions finish at once then).
fn interrupt_then_pick_up(p: &Project, args: &[&str]) -> (Run, Run) {
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let child = spawn(p, args);
    wait_for_request(p, "POST", "/v1/servers");
    let start = Instant::now();
    while p.fake.count_prefix("GET", "/v1/actions") == 0 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (first, _) = signal_and_wait(child, libc::SIGINT);
    assert_eq!(first.signal, Some(libc::SIGINT), "{}", first.dump());
    p.fake.set_action_duration(None);
    let line = printed_pick_up(&first);
    let second = run_printed(p, &line);
    (first, second)
}

#[test]
fn the_printed_pick_up_edits_the_destination_file_not_production() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    p.write(
        "config/deploy.staging.yml",
        "servers:\n  web:\n    - <IP-ADDRESS>\n",
    );
    let (first, second) = interrupt_then_pick_up(
        &p,
        &[
            "server",
            "create",
            "staging1",
            "-d",
            "staging",
            "--ssh-timeout",
            "0",
        ],
    );
    assert_stderr(
        &first,
        "pick it up:  pegasus server create staging1 --ssh-timeout 0 -c config/deploy.yml -d staging",
    );
    assert_stderr(
        &first,
        "remove it:   pegasus server destroy staging1 -c config/deploy.yml -d staging",
    );
    assert_exit(&second, 0);
    assert_stderr(&second, "picking it up");
    // The staging file got the server; production's file is untouched.
    assert_eq!(p.read("config/deploy.yml"), template);
    assert!(
        !p.read("config/deploy.staging.yml").contains("<IP-ADDRESS>"),
        "{}",
        second.dump()
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
}

#[test]
fn the_printed_pick_up_keeps_no_kamal_and_the_ssh_port() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let (first, second) = interrupt_then_pick_up(
        &p,
        &[
            "server",
            "create",
            "web1",
            "--no-kamal",
            "--ssh-port",
            "2222",
            "--ssh-timeout",
            "0",
        ],
    );
    let line = printed_pick_up(&first);
    assert!(
        line.contains("--no-kamal") && line.contains("--ssh-port 2222"),
        "{line}"
    );
    assert_exit(&second, 0);
    // --no-kamal held: the config is untouched; the port went into the summary.
    assert_eq!(p.read("config/deploy.yml"), template);
    assert!(
        second.stdout.contains("ssh -p 2222 root@"),
        "{}",
        second.dump()
    );
}

#[test]
fn the_printed_pick_up_names_a_config_found_by_searching() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    p.write(".git/HEAD", "ref: refs/heads/main\n");
    std::fs::create_dir_all(p.dir.path().join("app/sub")).unwrap();
    // Run from a subfolder: the file is found two folders up.
    let mut cmd = p.command(&["server", "create", "web1", "--ssh-timeout", "0"]);
    cmd.current_dir(p.dir.path().join("app/sub"));
    p.fake.set_action_duration(Some(Duration::from_secs(30)));
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_request(&p, "POST", "/v1/servers");
    let start = Instant::now();
    while p.fake.count_prefix("GET", "/v1/actions") == 0 {
        assert!(start.elapsed() < Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(5));
    }
    let (first, _) = signal_and_wait(child, libc::SIGINT);
    assert_stderr(
        &first,
        "pick it up:  pegasus server create web1 --ssh-timeout 0 -c ../../config/deploy.yml",
    );
}

#[test]
fn a_signal_during_the_ready_wait_says_the_kamal_file_was_updated() {
    let p = Project::new();
    p.fake.set_loopback_addresses(true);
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    // Nothing answers on the loopback SSH port: the wait goes on until the signal.
    let child = spawn(&p, &["server", "create", "web1", "--ssh-timeout", "600"]);
    let start = Instant::now();
    while !p.read("config/deploy.yml").contains("127.0.0.") {
        assert!(start.elapsed() < Duration::from_secs(20), "no edit");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (run, _) = signal_and_wait(child, libc::SIGINT);
    assert_eq!(run.signal, Some(libc::SIGINT), "{}", run.dump());
    assert_stderr(&run, "Done so far: config/deploy.yml now points at it.");
}
