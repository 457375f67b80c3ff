//! `make playground`: try pegasus from your own project, without a Hetzner account.
//!
//! Starts the fake Hetzner API the tests use (its catalogue: real locations, server types
//! with per-location prices, images, `GET /pricing`; see `tests/common/fake/fixtures.rs`)
//! on 127.0.0.1. Each server it makes gets a loopback address (127.0.0.10, .11, …) and
//! the playground starts an SSH server there for it ([`ssh_for`]), stopped again when
//! the server is deleted. It prints the `export` lines that point pegasus at the fake,
//! then runs in the foreground until Ctrl-C (or SIGTERM, SIGHUP) stops it and everything
//! it started.
//!
//! Usage: `playground [--pegasus PATH] [--ssh-port PORT] [--zone DOMAIN]...`
//! - `--pegasus PATH`: the binary to put on `PATH` in the printed lines;
//! - `--ssh-port PORT`: the port the SSH servers listen on (0: a free one); by default
//!   22 where it can be had (it needs root), else 2222, else a free one;
//! - `--zone DOMAIN`: a DNS zone in the fake project (for `--dns`), repeatable.

#[path = "../common/banner.rs"]
mod banner;
#[path = "../common/fake.rs"]
mod fake;
#[path = "../common/sshd.rs"]
pub mod sshd;

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use fake::ServerEvent;

/// The first address the fake hands out in loopback mode.
const FIRST_ADDRESS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 10);

#[allow(dead_code)]
fn main() {
    run(std::env::args().skip(1).collect())
}

#[derive(Debug, Default)]
struct Options {
    pegasus: Option<PathBuf>,
    ssh_port: Option<u16>,
    zones: Vec<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pegasus" => o.pegasus = Some(PathBuf::from(value()?)),
            "--ssh-port" => {
                let v = value()?;
                o.ssh_port = Some(
                    v.parse()
                        .map_err(|_| format!("--ssh-port {v}: not a port"))?,
                );
            }
            "--zone" => o.zones.push(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: playground [--pegasus PATH] [--ssh-port PORT] [--zone DOMAIN]..."
                ));
            }
        }
    }
    Ok(o)
}

/// Runs the playground until a signal stops it; then ends by that signal.
pub fn run(args: Vec<String>) -> ! {
    let opts = parse(&args).unwrap_or_else(|e| fail(&e));
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            )
        };
    }
    let api = fake::Fake::start();
    api.set_loopback_addresses(true);
    for zone in &opts.zones {
        api.add_zone(zone);
    }
    let events = api.watch_servers();
    let port = ssh_port(opts.ssh_port);
    intro(&api, &opts, port);

    let mut servers: BTreeMap<u64, (String, Option<SshServer>)> = BTreeMap::new();
    let signal = loop {
        let sig = STOP.load(Ordering::SeqCst);
        if sig != 0 {
            break sig;
        }
        // Short slices, so a signal is acted on within 0.1 s.
        match events.recv_timeout(Duration::from_millis(100)) {
            Ok(ServerEvent::Created {
                id,
                name,
                ipv4,
                public_keys,
                ..
            }) => {
                let ssh = ipv4
                    .as_deref()
                    .and_then(|ip| start_ssh(&name, ip, port, &public_keys));
                servers.insert(id, (name, ssh));
            }
            Ok(ServerEvent::Deleted { id, name }) => {
                let had = servers.remove(&id).and_then(|(_, ssh)| ssh);
                let what = match had {
                    Some(ssh) => format!("; its SSH server on {} stopped", ssh.addr()),
                    None => String::new(),
                };
                say(&format!("[playground] {name}: deleted{what}"));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break libc::SIGTERM,
        }
    };
    let ssh_servers = servers.values().filter(|(_, s)| s.is_some()).count();
    // Stop everything: the SSH servers (a real sshd is killed and waited for), the API.
    drop(servers);
    drop(api);
    let and_ssh = match ssh_servers {
        0 => String::new(),
        n => format!(" and {n} SSH server(s)"),
    };
    say(&format!(
        "[playground] stopped the fake API{and_ssh}; nothing it started is left running"
    ));
    // End by the signal itself, as a program stopped by Ctrl-C does.
    // SAFETY: plain libc calls with valid arguments.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
    std::process::exit(128 + signal)
}

static STOP: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int) {
    STOP.store(sig, Ordering::SeqCst);
}

/// The SSH port of the servers: the one asked for, else 22, 2222 or a free one, the
/// first that can be bound on the first address the fake hands out.
fn ssh_port(wanted: Option<u16>) -> u16 {
    let try_port = |p: u16| {
        TcpListener::bind(SocketAddr::new(IpAddr::V4(FIRST_ADDRESS), p))
            .ok()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    };
    let candidates: &[u16] = match wanted {
        Some(0) => &[0],
        Some(p) => return p,
        None => &[22, 2222, 0],
    };
    candidates
        .iter()
        .find_map(|&p| try_port(p))
        .unwrap_or_else(|| {
            note(&format!(
                "{FIRST_ADDRESS} cannot be listened on here (on macOS: sudo ifconfig lo0 alias {FIRST_ADDRESS} up); \
                 the SSH servers will not start, so pass --ssh-timeout 0 to pegasus server create"
            ));
            2222
        })
}

fn intro(api: &fake::Fake, opts: &Options, port: u16) {
    let mut lines = vec![
        "pegasus playground: a fake Hetzner API on this machine (no account; nothing leaves it)."
            .to_string(),
        String::new(),
        "Paste these lines into another shell, then run pegasus from your own project:".into(),
        String::new(),
        format!("  export HCLOUD_ENDPOINT={}", api.endpoint()),
        format!("  export HETZNER_API_TOKEN={}", fake::TOKEN),
    ];
    if let Some(dir) = opts.pegasus.as_deref().and_then(bin_dir) {
        lines.push(format!(
            "  export PATH={}\"$PATH\"",
            shell_quote(&format!("{}:", dir.display()))
        ));
    }
    let port_flag = if port == 22 {
        String::new()
    } else {
        format!(" --ssh-port {port}")
    };
    lines.extend([
        String::new(),
        "For example:".into(),
        String::new(),
        format!("  pegasus server create web1{port_flag}"),
        "  pegasus server list".into(),
        "  pegasus server destroy web1".into(),
        String::new(),
        format!(
            "Each server gets an address from 127.0.0.10 up, with an SSH server on port {port}{}.",
            if port != 22 && opts.ssh_port.is_none() {
                " (port 22 could not be had: it needs root, hence --ssh-port)"
            } else {
                ""
            }
        ),
        format!("SSH: {}", SshServer::kind()),
    ]);
    if sshd::missing().is_none() && !sshd::is_root() {
        lines.push(format!(
            "sshd runs as you, so it lets in only {user}: set `ssh: {{user: {user}}}` in \
             config/deploy.yml (and pass --user-data, as for any non-root Kamal user)",
            user = sshd::login_user()
        ));
    }
    if !opts.zones.is_empty() {
        lines.push(format!("DNS zones (for --dns): {}", opts.zones.join(", ")));
    }
    lines.extend([
        "Ctrl-C stops the playground and everything it started.".into(),
        String::new(),
    ]);
    say(&lines.join("\n"));
}

/// The folder of the pegasus binary, absolute.
fn bin_dir(bin: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(bin)
        .map_err(|e| {
            note(&format!(
                "{}: {e}; the PATH line is left out",
                bin.display()
            ))
        })
        .ok()?;
    abs.parent().map(Path::to_path_buf)
}

/// `'text'`, safe for sh, bash, zsh and fish.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The SSH server that stands in for a server's sshd.
enum SshServer {
    /// A real OpenSSH sshd (`tests/common/sshd.rs`) that lets in the server's keys, with
    /// a stub cloud-init that is done at once: pegasus's login as Kamal works on it.
    Sshd(sshd::Sshd),
    /// A banner server (`tests/common/banner.rs`), where sshd is not installed: it answers
    /// pegasus's SSH wait with an OpenSSH version line; it takes no login.
    Banner(banner::Banner),
}

impl SshServer {
    fn kind() -> String {
        match sshd::missing() {
            None => "real OpenSSH servers that let in the server's SSH keys (pegasus logs in \
                     as Kamal will; their cloud-init is a stub that is done at once)"
                .into(),
            Some(why) => format!(
                "banner servers (they answer pegasus's wait for SSH but take no login: {why}; \
                 until then pass --ssh-timeout 0 to pegasus server create)"
            ),
        }
    }

    fn addr(&self) -> SocketAddr {
        match self {
            SshServer::Sshd(s) => s.addr(),
            SshServer::Banner(b) => b.addr(),
        }
    }
}

/// The SSH server for a new server at `ip:port` that lets in `public_keys`: a real sshd
/// where one is installed, else a banner server.
fn ssh_for(ip: IpAddr, port: u16, public_keys: &[String]) -> std::io::Result<SshServer> {
    if sshd::missing().is_none() {
        let mut o = sshd::Options::new(&ip.to_string(), public_keys);
        o.port = port;
        o.cloud_init = Some(sshd::CloudInit::DoneAfter(0));
        return sshd::Sshd::try_start_with(o)
            .map(SshServer::Sshd)
            .map_err(std::io::Error::other);
    }
    banner::Banner::try_start_at(SocketAddr::new(ip, port), banner::Mode::AtOnce)
        .map(SshServer::Banner)
}

fn start_ssh(name: &str, ip: &str, port: u16, public_keys: &[String]) -> Option<SshServer> {
    let Ok(addr) = ip.parse::<IpAddr>() else {
        note(&format!(
            "{name}: made, with an address that is not one ({ip})"
        ));
        return None;
    };
    match ssh_for(addr, port, public_keys) {
        Ok(ssh) => {
            say(&format!(
                "[playground] {name}: made, address {addr}; SSH answers on {}",
                ssh.addr()
            ));
            Some(ssh)
        }
        Err(e) => {
            note(&format!(
                "{name}: made, address {addr}; no SSH server: cannot listen on {addr}:{port}: {e}"
            ));
            None
        }
    }
}

/// A line on stdout (a closed stdout is no reason to stop).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}

fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "[playground] note: {text}");
}

fn fail(msg: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "playground: {msg}");
    std::process::exit(2)
}
