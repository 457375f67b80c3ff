//! `make smoke`: the shipped binary in a stripped environment (no HOME, no PATH, nothing
//! but what each check sets) against the fake Hetzner API on 127.0.0.1, over plain http.
//!
//! Usage: `cargo run --release --example smoke -- target/x86_64-unknown-linux-musl/release/pegasus`
//!
//! Prints one line per check (`ok` or `FAIL` and the detail), then `smoke: N passed,
//! M failed`, and exits 1 if any check failed.

#[path = "../common/fake.rs"]
mod fake;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A run that takes longer than this is a failure (the whole create takes milliseconds).
const RUN_LIMIT: Duration = Duration::from_secs(60);

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn brief(&self) -> String {
        let code = self
            .code
            .map_or_else(|| "killed".to_string(), |c| c.to_string());
        let mut text = format!("exit {code}");
        for (name, s) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            let s = s.trim();
            if !s.is_empty() {
                let cut: String = s.chars().take(400).collect();
                text.push_str(&format!("; {name}: {}", cut.replace('\n', " | ")));
            }
        }
        text
    }
}

struct Checks {
    passed: u32,
    failed: u32,
}

impl Checks {
    fn check(&mut self, name: &str, result: Result<String, String>) {
        match result {
            Ok(detail) => {
                self.passed += 1;
                println!("ok   {name}: {detail}");
            }
            Err(detail) => {
                self.failed += 1;
                println!("FAIL {name}: {detail}");
            }
        }
    }
}

fn main() {
    let Some(arg) = std::env::args().nth(1) else {
        eprintln!("usage: smoke PATH-TO-PEGASUS-BINARY");
        std::process::exit(2);
    };
    let bin = match std::fs::canonicalize(&arg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("smoke: {arg}: {e}");
            std::process::exit(2);
        }
    };
    let mut checks = Checks {
        passed: 0,
        failed: 0,
    };

    println!("smoke test of {}", bin.display());
    checks.check("binary", binary_facts(&bin));

    let api = fake::Fake::start();
    let work = tempfile::tempdir().expect("smoke: temp dir");
    let key = work.path().join("deploy_key.pub");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(manifest.join("fixtures/keys/id_ed25519.pub"), &key)
        .expect("smoke: copy the test public key");
    let version = env!("CARGO_PKG_VERSION");

    // Nothing at all in the environment.
    let out = run(&bin, work.path(), &["--version"], &[]);
    checks.check(
        "--version with an empty environment",
        match out.code {
            Some(0) if out.stdout.trim() == format!("pegasus {version}") => {
                Ok(out.stdout.trim().to_string())
            }
            _ => Err(format!(
                "want exit 0 and 'pegasus {version}'; {}",
                out.brief()
            )),
        },
    );

    let out = run(&bin, work.path(), &["--help"], &[]);
    checks.check(
        "--help with an empty environment",
        match out.code {
            Some(0) if out.stdout.contains("server create") => {
                Ok(format!("{} lines of help", out.stdout.lines().count()))
            }
            _ => Err(format!(
                "want exit 0 and a help text naming 'server create'; {}",
                out.brief()
            )),
        },
    );

    // Only the token, the endpoint (plain http to loopback) and the test knobs.
    let endpoint = api.endpoint();
    let env: &[(&str, &str)] = &[
        ("HETZNER_API_TOKEN", fake::TOKEN),
        ("HCLOUD_ENDPOINT", &endpoint),
        ("PEGASUS_TEST_POLL_MS", "1"),
        ("PEGASUS_TEST_BACKOFF_MS", "1"),
    ];
    let key_arg = key.to_str().expect("smoke: temp path is UTF-8");
    let out = run(
        &bin,
        work.path(),
        &["server", "create", "web1", "-k", key_arg, "--json"],
        env,
    );
    checks.check(
        "server create web1 -k KEY --json without HOME or PATH",
        created(&out, &api, "web1"),
    );

    let out = run(
        &bin,
        work.path(),
        &["server", "create", "web2", "--json"],
        env,
    );
    checks.check(
        "server create web2 --json without HOME and without -k",
        match out.code {
            Some(1) if out.stderr.contains("HOME is not set") && out.stdout.is_empty() => {
                let line = out.stderr.lines().find(|l| l.contains("HOME is not set"));
                if api.server_names().iter().any(|n| n == "web2") {
                    Err("the server was created anyway".into())
                } else if out.stderr.contains(fake::TOKEN) {
                    Err("the token appeared in the output".into())
                } else {
                    Ok(line.unwrap_or_default().trim().to_string())
                }
            }
            _ => Err(format!(
                "want exit 1 and 'HOME is not set' on stderr; {}",
                out.brief()
            )),
        },
    );

    println!("smoke: {} passed, {} failed", checks.passed, checks.failed);
    if checks.failed > 0 {
        std::process::exit(1);
    }
}

/// Run the binary with an empty environment plus `env`, in `dir`, stdin closed.
fn run(bin: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Out {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot start {}: {e}", bin.display()),
            };
        }
    };
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(RUN_LIMIT) {
        Ok(Ok(o)) => Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Ok(Err(e)) => Out {
            code: None,
            stdout: String::new(),
            stderr: format!("waiting for the process failed: {e}"),
        },
        Err(_) => {
            // Our own child, by its id.
            let _ = Command::new("kill").arg(pid.to_string()).status();
            Out {
                code: None,
                stdout: String::new(),
                stderr: format!("no exit after {} s (killed)", RUN_LIMIT.as_secs()),
            }
        }
    }
}

/// Exit 0, one JSON object with the running server on stdout, one POST at the fake.
fn created(out: &Out, api: &fake::Fake, name: &str) -> Result<String, String> {
    if out.code != Some(0) {
        return Err(format!("want exit 0; {}", out.brief()));
    }
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .map_err(|e| format!("stdout is not one JSON object ({e}); {}", out.brief()))?;
    let server = &v["server"];
    if server["name"] != name || server["status"] != "running" {
        return Err(format!(
            "want server {name} running in the JSON; {}",
            out.brief()
        ));
    }
    let posts = api.count("POST", "/v1/servers");
    if posts != 1 || !api.server_names().iter().any(|n| n == name) {
        return Err(format!(
            "the fake saw {posts} POST /v1/servers and has {:?}",
            api.server_names()
        ));
    }
    if out.stdout.contains(fake::TOKEN) || out.stderr.contains(fake::TOKEN) {
        return Err("the token appeared in the output".into());
    }
    Ok(format!(
        "server {name} running at {}, {} requests to the fake",
        server["ipv4"].as_str().unwrap_or("?"),
        api.requests().len()
    ))
}

/// What the file reveals cheaply: size, ELF class and machine, and whether it needs a
/// dynamic loader (a binary that does will not run on a box without that libc).
fn binary_facts(bin: &PathBuf) -> Result<String, String> {
    let bytes = std::fs::read(bin).map_err(|e| format!("cannot read: {e}"))?;
    let size = bytes.len();
    let elf = Elf::parse(&bytes).ok_or_else(|| format!("{size} bytes, not an ELF file"))?;
    let facts = format!(
        "{size} bytes ({:.1} MiB), ELF {}-bit {}, {}",
        size as f64 / (1024.0 * 1024.0),
        elf.bits,
        elf.machine,
        match (&elf.interpreter, elf.dynamic) {
            (Some(i), _) => format!("dynamically linked (interpreter {i})"),
            (None, true) => "static-pie, no interpreter".to_string(),
            (None, false) => "statically linked".to_string(),
        }
    );
    match elf.interpreter {
        Some(_) => Err(format!(
            "{facts}: needs a dynamic loader, so it will not run where that libc is missing"
        )),
        None => Ok(facts),
    }
}

struct Elf {
    bits: u32,
    machine: String,
    interpreter: Option<String>,
    dynamic: bool,
}

impl Elf {
    /// The ELF header and program headers (little-endian, 32 or 64 bit).
    fn parse(b: &[u8]) -> Option<Elf> {
        if b.get(..4)? != b"\x7fELF" || *b.get(5)? != 1 {
            return None;
        }
        let u16_at = |o: usize| Some(u16::from_le_bytes(b.get(o..o + 2)?.try_into().ok()?));
        let u32_at = |o: usize| Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?));
        let u64_at = |o: usize| Some(u64::from_le_bytes(b.get(o..o + 8)?.try_into().ok()?));
        let wide = match *b.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let machine = match u16_at(18)? {
            0x3e => "x86-64".to_string(),
            0xb7 => "aarch64".to_string(),
            0x03 => "i386".to_string(),
            0x28 => "arm".to_string(),
            0xf3 => "riscv".to_string(),
            m => format!("machine {m:#x}"),
        };
        let (phoff, phentsize, phnum) = if wide {
            (u64_at(32)? as usize, u16_at(54)? as usize, u16_at(56)?)
        } else {
            (u32_at(28)? as usize, u16_at(42)? as usize, u16_at(44)?)
        };
        let mut interpreter = None;
        let mut dynamic = false;
        for i in 0..phnum as usize {
            let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
            match u32_at(ph)? {
                2 => dynamic = true,
                3 => {
                    let (off, len) = if wide {
                        (u64_at(ph + 8)? as usize, u64_at(ph + 32)? as usize)
                    } else {
                        (u32_at(ph + 4)? as usize, u32_at(ph + 16)? as usize)
                    };
                    let raw = b.get(off..off.checked_add(len)?)?;
                    let text = String::from_utf8_lossy(raw);
                    interpreter = Some(text.trim_end_matches('\0').to_string());
                }
                _ => {}
            }
        }
        Some(Elf {
            bits: if wide { 64 } else { 32 },
            machine,
            interpreter,
            dynamic,
        })
    }
}
