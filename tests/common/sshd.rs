//! A real OpenSSH server for the tests (and `make playground`): `/usr/sbin/sshd -D -e -f
//! <config>` on a loopback address and a free port, run as the current user, with its own
//! host key, an `authorized_keys` file the test controls, and a folder of stub programs
//! (a stub `cloud-init`) first on the `PATH` that sshd sets for logins (`SetEnv`).
//!
//! Everything lives in one temp folder that goes with the value; dropping it stops sshd.
//! The server's log (`-e`, `LogLevel VERBOSE`) is collected, so a test can count the
//! connections and logins pegasus made.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";

/// Why a real sshd cannot run here (`None`: it can). `make test` installs
/// `openssh-server` and `openssh-client`; a test that needs them fails with this.
pub fn missing() -> Option<String> {
    if !Path::new(SSHD).is_file() {
        return Some(format!(
            "{SSHD} is missing: install openssh-server (make test does it with apt)"
        ));
    }
    for tool in ["ssh", "ssh-keygen"] {
        // Both exist when they can be started (the exit status of `-V`/`-?` varies).
        let started = Command::new(tool)
            .arg("-V")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !started {
            return Some(format!("{tool} is missing: install openssh-client"));
        }
    }
    None
}

/// Panics with the reason when sshd cannot run (a missing tool fails the test).
#[track_caller]
pub fn require() {
    if let Some(why) = missing() {
        panic!("{why}");
    }
}

/// The user logins run as: sshd runs as the current user and can log in only as it
/// (root can log in as anyone).
pub fn login_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub fn is_root() -> bool {
    login_user() == "root"
}

/// A new ed25519 key pair at `path` (private) and `path.pub`, no passphrase; the public
/// line.
pub fn keypair(path: &Path, comment: &str) -> String {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(path.with_extension("pub"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen (install openssh-client)")
        .success();
    assert!(ok, "ssh-keygen failed for {}", path.display());
    let mut pub_path = path.as_os_str().to_owned();
    pub_path.push(".pub");
    std::fs::read_to_string(pub_path).unwrap().trim().to_owned()
}

/// `SHA256:…` of a public key file, as `ssh-keygen -lf` prints it.
pub fn fingerprint(pub_file: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(pub_file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// What the stub `cloud-init` does for `status --wait`.
#[derive(Clone, Debug)]
pub enum CloudInit {
    /// "status: done" after this many seconds.
    DoneAfter(u32),
    /// "status: error" (exit 1); `status --long` prints these lines.
    Error(Vec<String>),
    /// Never finishes.
    Never,
    /// This whole script (`#!/bin/sh …`) is the stub.
    Script(String),
}

impl CloudInit {
    fn script(&self) -> String {
        let (wait, long) = match self {
            CloudInit::DoneAfter(s) => (
                format!("sleep {s}; echo; echo 'status: done'; exit 0"),
                "echo 'status: done'".to_string(),
            ),
            CloudInit::Error(lines) => {
                let body: Vec<String> = lines
                    .iter()
                    .map(|l| format!("printf '%s\\n' '{}'", l.replace('\'', "'\\''")))
                    .collect();
                (
                    "echo; echo 'status: error'; exit 1".to_string(),
                    body.join("; "),
                )
            }
            CloudInit::Never => (
                "exec sleep 3600".to_string(),
                "echo 'status: running'".into(),
            ),
            CloudInit::Script(script) => return script.clone(),
        };
        format!(
            "#!/bin/sh\n# A stub cloud-init (pegasus tests).\ncase \"$1 $2\" in\n  \"status --wait\") {wait} ;;\n  \"status --long\") {long}; exit 0 ;;\nesac\necho 'status: done'\n"
        )
    }
}

/// How to start it.
#[derive(Clone, Debug)]
pub struct Options {
    pub ip: IpAddr,
    /// 0: a free port.
    pub port: u16,
    /// Lines of `authorized_keys`.
    pub authorized_keys: Vec<String>,
    /// Ask for passwords only (no keys).
    pub password_only: bool,
    /// The stub `cloud-init` (`None`: none on the PATH).
    pub cloud_init: Option<CloudInit>,
}

impl Options {
    pub fn new(ip: &str, authorized_keys: &[String]) -> Options {
        Options {
            ip: ip.parse().expect("sshd: IP address"),
            port: 0,
            authorized_keys: authorized_keys.to_vec(),
            password_only: false,
            cloud_init: None,
        }
    }
}

pub struct Sshd {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Child,
    log: Arc<Mutex<String>>,
    host_key: String,
}

impl Sshd {
    /// sshd on `ip` (loopback), accepting `authorized_keys`, with a stub cloud-init that
    /// finishes at once.
    pub fn start(ip: &str, authorized_keys: &[String]) -> Sshd {
        let mut o = Options::new(ip, authorized_keys);
        o.cloud_init = Some(CloudInit::DoneAfter(0));
        Sshd::start_with(o)
    }

    /// Panics (failing the test) when it cannot start.
    pub fn start_with(opts: Options) -> Sshd {
        require();
        Sshd::try_start_with(opts).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Start it, or say why it could not (sshd or ssh-keygen missing, the address or
    /// port taken, sshd refusing its config): for programs that go on without it.
    pub fn try_start_with(opts: Options) -> Result<Sshd, String> {
        if let Some(why) = missing() {
            return Err(why);
        }
        if !opts.ip.is_loopback() {
            return Err(format!("sshd runs on loopback only, not {}", opts.ip));
        }
        let dir = tempfile::tempdir().map_err(|e| format!("sshd: temp folder: {e}"))?;
        let host_key = keypair(&dir.path().join("host_ed25519"), "pegasus-test-host");
        let host_key = host_key
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        std::fs::create_dir_all(dir.path().join("bin")).map_err(|e| e.to_string())?;
        let sshd = Sshd::write_setup(&dir, &opts);
        if is_root() && !Path::new("/run/sshd").is_dir() {
            // sshd's privilege separation folder (systemd makes it on a real system).
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let mut last = String::new();
        // A free port can be taken between the look and sshd's bind: then another one.
        let tries = if opts.port == 0 { 5 } else { 1 };
        for _ in 0..tries {
            let port = match opts.port {
                0 => TcpListener::bind(SocketAddr::new(opts.ip, 0))
                    .and_then(|l| l.local_addr())
                    .map_err(|e| format!("sshd: no free port on {}: {e}", opts.ip))?
                    .port(),
                p => p,
            };
            let addr = SocketAddr::new(opts.ip, port);
            let config = dir.path().join("sshd_config");
            std::fs::write(&config, sshd.replace("@PORT@", &port.to_string()))
                .map_err(|e| e.to_string())?;
            let mut child = Command::new(SSHD)
                .args(["-D", "-e", "-f"])
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot start {SSHD}: {e}"))?;
            let log = Arc::new(Mutex::new(String::new()));
            let stderr = child.stderr.take().expect("piped stderr");
            let sink = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut l = sink.lock().unwrap_or_else(|e| e.into_inner());
                    l.push_str(&line);
                    l.push('\n');
                }
            });
            let start = Instant::now();
            let text = || log.lock().unwrap_or_else(|e| e.into_inner()).clone();
            loop {
                if text().contains("Server listening on") {
                    return Ok(Sshd {
                        addr,
                        dir,
                        child,
                        log,
                        host_key,
                    });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.wait();
            // Give the reader a moment to collect the last words.
            std::thread::sleep(Duration::from_millis(20));
            last = text();
            if !last.contains("Address already in use") {
                break;
            }
        }
        Err(format!("sshd did not start:\n{}", last.trim_end()))
    }

    /// Writes the host key's folder, authorized_keys and stubs; the config text with
    /// `@PORT@` left to fill.
    fn write_setup(dir: &tempfile::TempDir, opts: &Options) -> String {
        let d = dir.path();
        let keys = d.join("authorized_keys");
        let mut text = opts.authorized_keys.join("\n");
        text.push('\n');
        std::fs::write(&keys, text).unwrap();
        std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o600)).unwrap();
        if let Some(ci) = &opts.cloud_init {
            write_stub(&d.join("bin"), "cloud-init", &ci.script());
        }
        let (pubkey, password) = if opts.password_only {
            ("no", "yes")
        } else {
            ("yes", "no")
        };
        format!(
            "Port @PORT@\nListenAddress {ip}\nHostKey {d}/host_ed25519\nPidFile none\n\
             AuthorizedKeysFile {d}/authorized_keys\nStrictModes no\nUsePAM no\n\
             PubkeyAuthentication {pubkey}\nPasswordAuthentication {password}\n\
             KbdInteractiveAuthentication no\nPermitRootLogin yes\nPrintMotd no\n\
             SetEnv PATH={d}/bin:/usr/local/bin:/usr/bin:/bin\nLogLevel VERBOSE\n",
            ip = opts.ip,
            d = d.display(),
        )
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `ssh-ed25519 AAAA…`: what a client records in known_hosts.
    pub fn host_key(&self) -> &str {
        &self.host_key
    }

    /// The folder first on the PATH of logins (stubs go here).
    pub fn bin_dir(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Put (or replace) the stub `cloud-init`.
    pub fn set_cloud_init(&self, ci: &CloudInit) {
        write_stub(&self.bin_dir(), "cloud-init", &ci.script());
    }

    /// What sshd logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// TCP connections accepted (each one an SSH handshake begun).
    pub fn connections(&self) -> usize {
        self.log().matches("Connection from ").count()
    }

    /// Logins that got in.
    pub fn logins(&self) -> usize {
        self.log().matches("Accepted publickey for ").count()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_stub(dir: &Path, name: &str, script: &str) {
    let path = dir.join(name);
    // A new file each time: a running stub keeps its old text.
    let tmp = dir.join(format!(".{name}.new"));
    std::fs::write(&tmp, script).unwrap();
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}
