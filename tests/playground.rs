//! `make playground` (`tests/tools/playground.rs`) as a newcomer uses it: the playground
//! runs as a child process (this test binary runs itself as the playground), and what it
//! prints is all the test knows. From a project holding the SaaS Pegasus template, with
//! the printed `export` lines, `pegasus server create` and `pegasus server destroy --yes`
//! work against it; then Ctrl-C (SIGINT to its process group, as a terminal sends it)
//! ends it by that signal, with nothing it started left running.

#[path = "tools/playground.rs"]
mod playground;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pegasus");
/// The playground's arguments, one per line; set only for the child.
const CHILD: &str = "PEGASUS_TEST_PLAYGROUND_ARGS";
/// Only a guard against a hang (a passing run takes a few seconds): past it the test
/// fails instead of waiting forever.
const GUARD: Duration = Duration::from_secs(120);

#[test]
#[ignore = "the playground itself: started by the test below"]
fn playground_child() {
    let Ok(args) = std::env::var(CHILD) else {
        return;
    };
    playground::run(args.lines().map(str::to_string).collect())
}

/// Kills the playground's process group if the test ends early.
struct Group(i32);

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: a plain kill(2); the group may be gone already.
        unsafe { libc::kill(-self.0, libc::SIGKILL) };
    }
}

/// The next line holding `want` (earlier lines are skipped).
#[track_caller]
fn line_with(lines: &Receiver<String>, want: &str, seen: &mut String) -> String {
    loop {
        match lines.recv_timeout(GUARD) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(want) {
                    return line;
                }
            }
            Err(e) => panic!("the playground did not print {want:?} ({e:?}); it printed:\n{seen}"),
        }
    }
}

fn value_after<'a>(line: &'a str, prefix: &str) -> &'a str {
    let at = line
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix:?} in {line:?}"));
    line[at + prefix.len()..].trim()
}

#[test]
fn playground_runs_pegasus_and_stops_on_ctrl_c() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "playground_child", "--ignored", "--nocapture"])
        .args(["--test-threads=1"])
        .env(
            CHILD,
            format!("--pegasus\n{BIN}\n--ssh-port\n0\n--zone\nacme.example"),
        )
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let group = Group(child.id() as i32);
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    // What it prints: the lines to paste, and the port its SSH servers listen on.
    let mut seen = String::new();
    let endpoint = line_with(&lines, "export HCLOUD_ENDPOINT=", &mut seen);
    let endpoint = value_after(&endpoint, "export HCLOUD_ENDPOINT=").to_string();
    let token = line_with(&lines, "export HETZNER_API_TOKEN=", &mut seen);
    let token = value_after(&token, "export HETZNER_API_TOKEN=").to_string();
    let path = line_with(&lines, "export PATH=", &mut seen);
    let bin_dir = Path::new(BIN).parent().unwrap().canonicalize().unwrap();
    assert_eq!(
        value_after(&path, "export PATH="),
        format!("'{}:'\"$PATH\"", bin_dir.display())
    );
    let create = line_with(&lines, "pegasus server create web1", &mut seen);
    let port = value_after(&create, "--ssh-port ").to_string();
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{create}");
    line_with(&lines, "DNS zones (for --dns): acme.example", &mut seen);
    line_with(&lines, "Ctrl-C stops the playground", &mut seen);

    // A newcomer's project: a key pair in ~/.ssh, the SaaS Pegasus template.
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    playground::sshd::require();
    playground::sshd::keypair(&home.path().join(".ssh/id_ed25519"), "newcomer@laptop");
    std::fs::create_dir_all(project.path().join(".git")).unwrap();
    std::fs::create_dir_all(project.path().join("config")).unwrap();
    let mut template =
        std::fs::read_to_string(manifest.join("fixtures/pegasus/deploy.yml")).unwrap();
    // The playground's sshd runs as this user and lets in only this user: as Kamal's
    // ssh.user when that is not root (then user data, for the preflight's ssh.user rule).
    let user = playground::sshd::login_user();
    let mut create_args = vec!["server", "create", "web1", "--ssh-port"];
    if !playground::sshd::is_root() {
        template.push_str(&format!("\nssh:\n  user: {user}\n"));
        std::fs::write(project.path().join("cloud.yml"), "#cloud-config\n").unwrap();
    }
    let config = project.path().join("config/deploy.yml");
    std::fs::write(&config, &template).unwrap();
    let pegasus = |args: &[&str]| {
        // `pegasus` found on the PATH the playground printed.
        let out = Command::new("pegasus")
            .args(args)
            .current_dir(project.path())
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
            .env("HOME", home.path())
            .env("HCLOUD_ENDPOINT", &endpoint)
            .env("HETZNER_API_TOKEN", &token)
            // Poll the fake's actions without pausing (loopback endpoints only).
            .env("PEGASUS_TEST_POLL_MS", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let dump = format!(
            "pegasus {}: {}\n--- stdout\n{}--- stderr\n{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{dump}");
        (String::from_utf8_lossy(&out.stdout).into_owned(), dump)
    };

    create_args.push(&port);
    if !playground::sshd::is_root() {
        create_args.extend(["--user-data", "cloud.yml"]);
    }
    let (out, dump) = pegasus(&create_args);
    assert!(
        out.contains("  price     €4.15/month + €0.61 IPv4\n"),
        "{dump}"
    );
    assert!(out.contains("  IPv4      127.0.0.10\n"), "{dump}");
    // The playground's SSH server answered the wait for SSH, and let Kamal's user in.
    assert!(out.contains("  SSH       answers\n"), "{dump}");
    assert!(
        out.contains(&format!("  login     {user}: ready after ")),
        "{dump}"
    );
    let made = line_with(&lines, "[playground] web1: made", &mut seen);
    assert_eq!(
        made,
        format!("[playground] web1: made, address 127.0.0.10; SSH answers on 127.0.0.10:{port}")
    );
    // The five host entries (web, celery, celerybeat, postgres, redis), nothing else.
    let expected = template
        .replace("      - <IP-ADDRESS>\n", "      - 127.0.0.10\n")
        .replace("    host: <IP-ADDRESS>\n", "    host: 127.0.0.10\n");
    assert_eq!(expected.matches("127.0.0.10").count(), 5);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        expected,
        "{dump}"
    );
    let (out, dump) = pegasus(&["server", "list"]);
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("web1 ")),
        "{dump}"
    );

    let (_, dump) = pegasus(&["server", "destroy", "web1", "--yes"]);
    assert!(dump.contains("deleted"), "{dump}");
    let gone = line_with(&lines, "[playground] web1: deleted", &mut seen);
    assert_eq!(
        gone,
        format!("[playground] web1: deleted; its SSH server on 127.0.0.10:{port} stopped")
    );
    let ssh: SocketAddr = format!("127.0.0.10:{port}").parse().unwrap();
    assert!(
        TcpStream::connect(ssh).is_err(),
        "the SSH server still listens"
    );
    let (out, dump) = pegasus(&["server", "list"]);
    assert_eq!(out.lines().count(), 1, "{dump}");

    // Ctrl-C: SIGINT to the foreground process group.
    // SAFETY: a plain kill(2) to the group this test made.
    assert_eq!(unsafe { libc::kill(-group.0, libc::SIGINT) }, 0);
    let (done, waited) = mpsc::channel::<()>();
    let pgid = group.0;
    std::thread::spawn(move || {
        if waited.recv_timeout(GUARD).is_err() {
            // SAFETY: as above; the test then fails on the status.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
    });
    let status = child.wait().unwrap();
    let _ = done.send(());
    // Nothing of its process group is left (checked before reading the rest of its
    // output, which a process left behind could hold open).
    // SAFETY: kill(2) with signal 0 only checks.
    let alive = unsafe { libc::kill(-group.0, 0) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    let left = !(alive == -1 && errno == Some(libc::ESRCH));
    drop(group);
    let mut rest = seen;
    while let Ok(line) = lines.recv_timeout(GUARD) {
        rest.push_str(&line);
        rest.push('\n');
    }
    let errors = errors.join().unwrap();
    let dump = format!("{status}\n--- stdout\n{rest}--- stderr\n{errors}");
    assert!(!left, "a process is left in the playground's group\n{dump}");
    assert_eq!(status.signal(), Some(libc::SIGINT), "{dump}");
    assert!(
        rest.contains("[playground] stopped the fake API; nothing it started is left running\n"),
        "{dump}"
    );
    // The API no longer answers.
    let api: SocketAddr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .parse()
        .unwrap();
    assert!(
        TcpStream::connect(api).is_err(),
        "the fake API still answers"
    );
}
