//! Shared by the integration tests: a temp project (HOME, working folder) wired to a
//! fresh fake Hetzner API, and a way to run the real binary in it.

#![allow(dead_code)]

pub mod banner;
pub mod corpus;
pub mod fake;
pub mod openapi;
pub mod proxy;
pub mod pty;
pub mod sshd;
pub mod tls_relay;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[allow(unused_imports)]
pub use fake::{Fake, Fault, READONLY_TOKEN, TOKEN};

pub const BIN: &str = env!("CARGO_BIN_EXE_pegasus");

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}

pub fn read_fixture(rel: &str) -> String {
    std::fs::read_to_string(fixture(rel)).unwrap()
}

/// The public key every test project has in `~/.ssh/id_ed25519.pub`.
pub fn ed25519_pub() -> String {
    read_fixture("keys/id_ed25519.pub")
}

pub struct Project {
    pub fake: Fake,
    pub home: tempfile::TempDir,
    pub dir: tempfile::TempDir,
    /// Extra variables for every run; `None` removes one set by default.
    pub env: Vec<(String, Option<String>)>,
}

pub struct Run {
    /// The exit code as a shell reports it: 128 + the signal for a death by a signal.
    pub code: i32,
    /// The signal that ended the process, if one did (SPEC §8: an interrupted run ends
    /// by the signal itself).
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// What a finished child left: its status as a shell reports it, and its output.
    pub fn from_output(out: &std::process::Output) -> Run {
        Run {
            code: shell_code(&out.status),
            signal: std::os::unix::process::ExitStatusExt::signal(&out.status),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The output, for assertion messages.
    pub fn dump(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.dump()))
    }
}

impl Project {
    /// A fake API, a HOME with one key (`~/.ssh/id_ed25519.pub`) and an empty project
    /// folder; the token comes from HETZNER_API_TOKEN.
    pub fn new() -> Project {
        let p = Project::bare();
        p.add_key("id_ed25519.pub", &ed25519_pub());
        p
    }

    /// Like `new`, but `~/.ssh` does not exist.
    pub fn bare() -> Project {
        Project {
            fake: Fake::start(),
            home: tempfile::tempdir().unwrap(),
            dir: tempfile::tempdir().unwrap(),
            env: vec![("HETZNER_API_TOKEN".into(), Some(TOKEN.into()))],
        }
    }

    pub fn set_env(&mut self, key: &str, value: Option<&str>) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.map(str::to_string)));
    }

    pub fn add_key(&self, file: &str, content: &str) -> PathBuf {
        let ssh = self.home.path().join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let path = ssh.join(file);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Write a file under the project folder (creating folders).
    pub fn write(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(rel)).unwrap()
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.home.path().join(".pegasus/hetzner_credentials")
    }

    /// Write `content` as the saved token file (creating `~/.pegasus`); its path.
    pub fn save_token(&self, content: &str) -> PathBuf {
        let path = self.credentials_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// The command, in a clean environment: only what the test sets.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.home.path())
            .env("HCLOUD_ENDPOINT", self.fake.endpoint())
            .env("PEGASUS_TEST_POLL_MS", "1")
            .env("PEGASUS_TEST_BACKOFF_MS", "1");
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        run_command(self.command(args), stdin)
    }
}

pub fn run_command(mut cmd: Command, stdin: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The program may exit before reading everything; that is not a test failure.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    Run::from_output(&child.wait_with_output().unwrap())
}

/// The exit status as `$?` shows it: the code, or 128 + the signal that ended it.
pub fn shell_code(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        (None, None) => -1,
    }
}

/// Assert the exit code, with the whole output on failure.
#[track_caller]
pub fn assert_exit(run: &Run, code: i32) {
    assert_eq!(run.code, code, "{}", run.dump());
}

/// Assert stderr holds `needle`.
#[track_caller]
pub fn assert_stderr(run: &Run, needle: &str) {
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}\n{}",
        run.dump()
    );
}

/// No secret (nor its first 8 characters) in anything the program printed.
#[track_caller]
pub fn assert_no_secret(run: &Run, secret: &str) {
    let part = &secret[..8.min(secret.len())];
    assert!(
        !run.stdout.contains(part) && !run.stderr.contains(part),
        "the token leaked\n{}",
        run.dump()
    );
}
