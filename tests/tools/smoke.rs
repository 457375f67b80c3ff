//! `make smoke`: the shipped binary in a stripped environment (no HOME, no PATH, nothing
//! but what each check sets) against the fake Hetzner API on 127.0.0.1: over plain http,
//! over TLS (with and without `SSL_CERT_FILE`), and through a SOCKS5 proxy.
//!
//! Usage: `cargo run --release --example smoke -- [--runner PROG] [--machine M] BINARY`
//! (e.g. `target/x86_64-unknown-linux-musl/release/pegasus`).
//!
//! `--runner PROG` runs the binary as `PROG BINARY ARGS…`, e.g. `--runner
//! qemu-aarch64-static` for the aarch64 build on an x86_64 machine: the ELF checked is the
//! shipped one, under user-mode emulation (PROG is looked up in this program's PATH; the
//! binary's own environment stays empty). `--machine M` (`x86-64`, `aarch64`) requires
//! the ELF to be for that CPU.
//!
//! The check without HOME needs a user the password database does not know (`home`
//! asks it when HOME is unset, SPEC §3): as root the binary runs as such a user id; as
//! anyone else that check is skipped.
//!
//! Prints one line per check (`ok`, `skip` or `FAIL` and the detail), then `smoke: N
//! passed, M failed`, and exits 1 if any check failed.

#[path = "../common/fake.rs"]
mod fake;
#[allow(dead_code)]
#[path = "../common/proxy.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "../common/tls_relay.rs"]
mod tls_relay;

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

/// How to start the binary: directly, or through a runner (an emulator), as some user.
struct Target {
    runner: Option<PathBuf>,
    bin: PathBuf,
}

fn usage() -> ! {
    eprintln!("usage: smoke [--runner PROG] [--machine x86-64|aarch64] PATH-TO-PEGASUS-BINARY");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut runner, mut machine, mut arg) = (None, None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runner" => runner = Some(args.next().unwrap_or_else(|| usage())),
            "--machine" => machine = Some(args.next().unwrap_or_else(|| usage())),
            _ if a.starts_with('-') || arg.is_some() => usage(),
            _ => arg = Some(a),
        }
    }
    let Some(arg) = arg else { usage() };
    let bin = match std::fs::canonicalize(&arg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("smoke: {arg}: {e}");
            std::process::exit(2);
        }
    };
    let runner = runner.map(|r| {
        find_in_path(&r).unwrap_or_else(|| {
            eprintln!("smoke: runner {r} not found in PATH");
            std::process::exit(2);
        })
    });
    let mut checks = Checks {
        passed: 0,
        failed: 0,
    };

    match &runner {
        Some(r) => println!("smoke test of {} under {}", bin.display(), r.display()),
        None => println!("smoke test of {}", bin.display()),
    }
    checks.check("binary", binary_facts(&bin, machine.as_deref()));
    let bin = Target { runner, bin };

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

    // TLS: the real handshake (ring's code for this CPU) with a CA made here, trusted
    // through SSL_CERT_FILE; without it, the bundled roots do not know that CA.
    let ca = tls_relay::TestCa::new();
    let relay = tls_relay::TlsRelay::start(&ca, api.addr());
    let ca_file = ca.write_pem(work.path());
    let ca_path = ca_file.to_str().expect("smoke: temp path is UTF-8");
    let tls_endpoint = relay.endpoint();
    let tls_env: &[(&str, &str)] = &[
        ("HETZNER_API_TOKEN", fake::TOKEN),
        ("HCLOUD_ENDPOINT", &tls_endpoint),
        ("SSL_CERT_FILE", ca_path),
    ];
    let out = run(&bin, work.path(), &["server", "list", "--json"], tls_env);
    checks.check(
        "server list --json over TLS, the test CA in SSL_CERT_FILE",
        match out.code {
            Some(0) if serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok() => Ok(
                format!("{} bytes of JSON through {tls_endpoint}", out.stdout.len()),
            ),
            _ => Err(format!("want exit 0 and JSON; {}", out.brief())),
        },
    );
    let out = run(
        &bin,
        work.path(),
        &["server", "list", "--json"],
        &tls_env[..2],
    );
    checks.check(
        "server list over TLS without SSL_CERT_FILE (bundled roots only)",
        match out.code {
            Some(1) if out.stderr.contains("TLS certificate not trusted") => Ok(out
                .stderr
                .lines()
                .find(|l| l.contains("TLS certificate"))
                .unwrap_or_default()
                .trim()
                .to_string()),
            _ => Err(format!(
                "want exit 1 and 'TLS certificate not trusted'; {}",
                out.brief()
            )),
        },
    );

    // A SOCKS5 proxy that resolves the API's name itself (socks5h://): the tunnel and TLS
    // inside it, for `https://api.test/v1`, a name only the proxy knows.
    let socks = proxy::Socks5Proxy::start(relay.addr());
    let socks_url = socks.url("socks5h");
    let socks_env: &[(&str, &str)] = &[
        ("HETZNER_API_TOKEN", fake::TOKEN),
        ("HCLOUD_ENDPOINT", "https://api.test/v1"),
        ("SSL_CERT_FILE", ca_path),
        ("ALL_PROXY", &socks_url),
    ];
    let out = run(&bin, work.path(), &["server", "list", "--json"], socks_env);
    let want = proxy::SocksTarget::Name("api.test".into(), 443);
    checks.check(
        "server list --json through a socks5h:// proxy (ALL_PROXY) to https://api.test/v1",
        match (out.code, socks.targets()) {
            (Some(0), targets) if !targets.is_empty() && targets.iter().all(|t| *t == want) => {
                Ok(format!("{} tunnel(s) to {want}", targets.len()))
            }
            (_, targets) => Err(format!(
                "want exit 0 and tunnels to {want} only, got {targets:?}; {}",
                out.brief()
            )),
        },
    );
    // A proxy scheme pegasus cannot honour: exit 2 naming the variable, nothing sent.
    let socks4 = socks.url("socks4");
    let before = socks.connections();
    let out = run(
        &bin,
        work.path(),
        &["server", "list"],
        &[
            ("HETZNER_API_TOKEN", fake::TOKEN),
            ("HCLOUD_ENDPOINT", &tls_endpoint),
            ("ALL_PROXY", &socks4),
        ],
    );
    checks.check(
        "server list with ALL_PROXY=socks4://…",
        match out.code {
            Some(2)
                if out
                    .stderr
                    .contains("ALL_PROXY uses the proxy scheme 'socks4://'") =>
            {
                if socks.connections() != before {
                    Err("the proxy was contacted".into())
                } else {
                    Ok(out.stderr.trim().to_string())
                }
            }
            _ => Err(format!(
                "want exit 2 naming ALL_PROXY and its scheme; {}",
                out.brief()
            )),
        },
    );

    let unlisted = user_without_passwd_entry();
    let Some(uid) = unlisted else {
        println!(
            "skip server create web2 --json without HOME and without -k: not root, so this \
             user has a home in the password database"
        );
        return finish(&checks);
    };
    let out = run_as(
        &bin,
        work.path(),
        &["server", "create", "web2", "--json"],
        env,
        Some(uid),
    );
    checks.check(
        &format!("server create web2 --json without HOME, -k or a passwd entry (uid {uid})"),
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

    finish(&checks);
}

fn finish(checks: &Checks) {
    println!("smoke: {} passed, {} failed", checks.passed, checks.failed);
    if checks.failed > 0 {
        std::process::exit(1);
    }
}

/// As root: a user id the password database does not know (the first free one of a range).
fn user_without_passwd_entry() -> Option<u32> {
    // SAFETY: plain libc calls; getpwuid's result is only compared with null.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    (3_999_000..3_999_100).find(|&uid| unsafe { libc::getpwuid(uid) }.is_null())
}

fn find_in_path(prog: &str) -> Option<PathBuf> {
    if prog.contains('/') {
        return std::fs::canonicalize(prog).ok();
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(prog))
        .find(|p| p.is_file())
}

/// Run the binary with an empty environment plus `env`, in `dir`, stdin closed.
fn run(bin: &Target, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    run_as(bin, dir, args, env, None)
}

/// `run`, as user and group `uid` when given (root only; `dir` is opened to everyone).
fn run_as(bin: &Target, dir: &Path, args: &[&str], env: &[(&str, &str)], uid: Option<u32>) -> Out {
    let mut cmd = match &bin.runner {
        Some(r) => {
            let mut c = Command::new(r);
            c.arg(&bin.bin);
            c
        }
        None => Command::new(&bin.bin),
    };
    if let Some(uid) = uid {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        if let Err(e) = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)) {
            return Out {
                code: None,
                stdout: String::new(),
                stderr: format!("cannot open {} to uid {uid}: {e}", dir.display()),
            };
        }
        cmd.uid(uid).gid(uid);
    }
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
                stderr: format!("cannot start {}: {e}", bin.bin.display()),
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
fn binary_facts(bin: &PathBuf, machine: Option<&str>) -> Result<String, String> {
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
    match (elf.interpreter, machine) {
        (Some(_), _) => Err(format!(
            "{facts}: needs a dynamic loader, so it will not run where that libc is missing"
        )),
        (None, Some(want)) if want != elf.machine => Err(format!("{facts}: want {want}")),
        (None, _) => Ok(facts),
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
