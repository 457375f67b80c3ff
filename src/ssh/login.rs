//! Step 11's login, as Kamal will log in (SPEC §4 step 11): the system OpenSSH client,
//! non-interactive, with Kamal's user, port, keys, jump host and config, running one fixed
//! read-only script on the server ([`SCRIPT`], `ready.sh`) that waits for cloud-init and
//! for the package manager's locks and then prints one line of facts.
//!
//! One login waits on the server (not a login per second); a login that did not reach
//! the server is tried again at most once a second. A refused login and a changed host
//! key are final. Nothing here prints: progress goes to a callback.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::process::child::{self, Outcome as Run};

/// The locks apt and dpkg take (fcntl record locks): while a process holds one, Kamal's
/// Docker install (`apt-get` in get.docker.com's script) fails at once.
pub const LOCK_FILES: [&str; 4] = [
    "/var/lib/dpkg/lock-frontend",
    "/var/lib/dpkg/lock",
    "/var/lib/apt/lists/lock",
    "/var/cache/apt/archives/lock",
];

/// The script run on the server (POSIX `sh`, read-only; its comments are not sent).
pub const SCRIPT: &str = include_str!("ready.sh");

/// The least time between two logins that did not reach the server.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);
/// `ConnectTimeout` (TCP connect and SSH handshake) of one try, at most.
const CONNECT_TIMEOUT: u64 = 10;
/// How many lines of `cloud-init status --long` an error shows.
const DETAIL_LINES: usize = 12;

/// Which OpenSSH config files `ssh` reads (Kamal's `ssh.config`).
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigFile {
    /// The user's own (`~/.ssh/config`, `/etc/ssh/ssh_config`).
    Default,
    /// None: `-F /dev/null`.
    Off,
    /// `-F PATH`.
    File(PathBuf),
}

/// A jump host (Kamal's `ssh.proxy`: `host`, `user@host` or `user@host:port`; a bare host
/// means `root@host`, as in Kamal).
#[derive(Debug, Clone, PartialEq)]
pub struct Jump {
    pub user: String,
    pub host: String,
    pub port: Option<u16>,
}

impl Jump {
    /// `None` when it is not one plain `[user@]host[:port]` (a list of hops, odd
    /// characters: pegasus does not pass those to a shell).
    pub fn parse(text: &str) -> Option<Jump> {
        let text = text.trim();
        let (user, rest) = match text.rsplit_once('@') {
            Some((u, r)) => (u, r),
            None => ("root", text),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            h.parse::<std::net::Ipv6Addr>().ok()?;
            match after {
                "" => (h, None),
                p => (h, Some(p.strip_prefix(':')?.parse::<u16>().ok()?)),
            }
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
                None => (rest, None),
            }
        };
        // A name may be an alias of the user's ssh config (`Host bastion`).
        let host_ok = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && !host.starts_with(['-', '.'])
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')));
        (valid_user(user) && host_ok && port != Some(0)).then(|| Jump {
            user: user.to_owned(),
            host: host.to_owned(),
            port,
        })
    }

    /// `user@host` (`-J` form for a hint; with `:port` when one is given).
    pub fn spec(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(p) => format!("{}@{host}:{p}", self.user),
            None => format!("{}@{host}", self.user),
        }
    }
}

/// A user name pegasus passes to `ssh`: what `useradd` accepts (letters, digits, `.`,
/// `_`, `-`, not starting with `-`), at most 32 characters.
pub fn valid_user(user: &str) -> bool {
    !user.is_empty()
        && user.len() <= 32
        && !user.starts_with('-')
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A path pegasus passes to `ssh` (and, for a jump host, to the shell of its
/// `ProxyCommand`): UTF-8 and free of what either would expand or split on — `%` and `$`
/// (ssh's tokens), quotes, backslashes and control characters.
pub fn safe_path(path: &Path) -> bool {
    path.to_str().is_some_and(|p| {
        !p.is_empty()
            && !p
                .chars()
                .any(|c| c.is_control() || matches!(c, '%' | '$' | '"' | '\'' | '\\' | '`'))
    })
}

/// How to log in, as Kamal does.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub user: String,
    pub host: IpAddr,
    pub port: u16,
    /// `-i` each (Kamal's `ssh.keys`, else the private key beside the uploaded one).
    pub identities: Vec<PathBuf>,
    /// Kamal's `ssh.keys_only`: `IdentitiesOnly=yes`.
    pub identities_only: bool,
    pub config: ConfigFile,
    pub jump: Option<Jump>,
    /// Kamal's `ssh.proxy_command` (a plain string).
    pub proxy_command: Option<String>,
    /// `$HOME/.ssh/known_hosts` (OpenSSH's own `~` is the password database's home).
    pub known_hosts: PathBuf,
    /// [`LOCK_FILES`]; a loopback test run may name others.
    pub lock_files: Vec<String>,
}

impl Plan {
    /// Why this plan cannot be handed to `ssh` safely, if it cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        if !valid_user(&self.user) {
            return Err(format!(
                "the user name {:?} is not one pegasus passes to ssh",
                crate::text::escape(&self.user)
            ));
        }
        let mut paths: Vec<&Path> = self.identities.iter().map(PathBuf::as_path).collect();
        paths.push(&self.known_hosts);
        if let ConfigFile::File(f) = &self.config {
            paths.push(f);
        }
        if let Some(p) = paths.iter().find(|p| !safe_path(p)) {
            return Err(format!(
                "the path {} has characters ssh would expand (%, $, quotes)",
                crate::text::escape(&p.to_string_lossy())
            ));
        }
        if let Some(c) = &self.proxy_command {
            if c.chars().any(char::is_control) {
                return Err("ssh.proxy_command spans several lines".into());
            }
        }
        let lock_ok = |f: &String| {
            f.starts_with('/')
                && f.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
        };
        if !self.lock_files.iter().all(lock_ok) {
            return Err("a lock file path is not a plain absolute path".into());
        }
        Ok(())
    }

    /// The options both this login and its jump host get.
    fn options(&self, connect_timeout: u64) -> Vec<String> {
        let mut o = Vec::new();
        match &self.config {
            ConfigFile::Default => {}
            ConfigFile::Off => o.extend(["-F".into(), "/dev/null".into()]),
            ConfigFile::File(f) => o.extend(["-F".into(), f.display().to_string()]),
        }
        for opt in [
            "BatchMode=yes".to_string(),
            format!("ConnectTimeout={connect_timeout}"),
            "StrictHostKeyChecking=accept-new".into(),
            "HashKnownHosts=no".into(),
            format!("UserKnownHostsFile=\"{}\"", self.known_hosts.display()),
            "LogLevel=ERROR".into(),
            "ServerAliveInterval=15".into(),
            "ServerAliveCountMax=4".into(),
            // A fresh login as Kamal's SSH library makes one, whatever the user's config
            // says: no shared master connection (it would skip the key check, and its
            // ControlPersist process would outlive the run), no forwardings that could
            // fail the connection, no command of the config's own.
            "ControlMaster=no".into(),
            "ControlPath=none".into(),
            "ClearAllForwardings=yes".into(),
            "RemoteCommand=none".into(),
            "RequestTTY=no".into(),
            "PermitLocalCommand=no".into(),
        ] {
            o.extend(["-o".into(), opt]);
        }
        if self.identities_only {
            o.extend(["-o".into(), "IdentitiesOnly=yes".into()]);
        }
        for key in &self.identities {
            o.extend(["-i".into(), key.display().to_string()]);
        }
        o
    }

    /// The arguments of `ssh` for one try: options, the server, and the remote command
    /// (the script, told to give up after `limit` seconds).
    pub fn args(&self, connect_timeout: u64, limit: u64) -> Vec<OsString> {
        let mut args: Vec<String> = self.options(connect_timeout);
        if let Some(jump) = &self.jump {
            let mut hop = vec!["ssh".to_string()];
            hop.extend(self.options(connect_timeout));
            if let Some(p) = jump.port {
                hop.extend(["-p".into(), p.to_string()]);
            }
            hop.extend(["-l".into(), jump.user.clone(), "-W".into(), "%h:%p".into()]);
            hop.extend(["--".into(), jump.host.clone()]);
            let line: Vec<String> = hop.iter().map(|a| proxy_word(a)).collect();
            args.extend(["-o".into(), format!("ProxyCommand={}", line.join(" "))]);
        } else if let Some(c) = &self.proxy_command {
            args.extend(["-o".into(), format!("ProxyCommand={c}")]);
        }
        args.extend([
            "-p".into(),
            self.port.to_string(),
            "-l".into(),
            self.user.clone(),
            "--".into(),
            self.host.to_string(),
            self.remote_command(limit),
        ]);
        args.into_iter().map(OsString::from).collect()
    }

    /// `exec sh -c '<script>' pegasus-ready LIMIT LOCK...`: one line for the login shell,
    /// whatever it is (the script holds no single quote).
    pub fn remote_command(&self, limit: u64) -> String {
        let script: Vec<&str> = SCRIPT
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.trim_start().starts_with('#') && !l.is_empty())
            .collect();
        let mut cmd = format!("exec sh -c '{}' pegasus-ready {limit}", script.join("\n"));
        for f in &self.lock_files {
            cmd.push(' ');
            cmd.push_str(f);
        }
        cmd
    }

    /// The command a person types to log in the same way (`ssh -p 2222 -J root@jump -i
    /// KEY deploy@203.0.113.10`): the summary's `ssh` line.
    pub fn hint(&self, key: Option<&str>) -> String {
        command_hint(&self.user, self.host, self.port, self.jump.as_ref(), key)
    }
}

/// `ssh [-p PORT] [-J USER@JUMP] [-i KEY] USER@ADDRESS` (SPEC §4 step 13). `key` is
/// already shell-safe as given (a `~/…` form or a quoted path).
pub fn command_hint(
    user: &str,
    host: IpAddr,
    port: u16,
    jump: Option<&Jump>,
    key: Option<&str>,
) -> String {
    let mut s = String::from("ssh");
    if port != 22 {
        s.push_str(&format!(" -p {port}"));
    }
    if let Some(j) = jump {
        s.push_str(&format!(" -J {}", j.spec()));
    }
    if let Some(k) = key {
        s.push_str(&format!(" -i {k}"));
    }
    s.push_str(&format!(" {user}@{host}"));
    s
}

/// A word of a jump host's `ProxyCommand` (run by `sh`, after ssh expands its `%`
/// tokens): `'text'`, unless it is made of characters that need no quoting. Its words
/// passed [`valid_user`] or [`safe_path`], or are pegasus's own; a command line a person
/// reads is quoted by [`crate::text::shell`] instead.
fn proxy_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'/' | b'.' | b'_' | b'-' | b'=' | b':' | b'%' | b'@' | b',' | b'+'
                )
        });
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// What cloud-init said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudInit {
    Done,
    Error,
    /// Not installed on the server.
    Absent,
    /// Still running at the limit.
    Timeout,
}

impl CloudInit {
    pub fn as_str(self) -> &'static str {
        match self {
            CloudInit::Done => "done",
            CloudInit::Error => "error",
            CloudInit::Absent => "absent",
            CloudInit::Timeout => "timeout",
        }
    }
}

/// A process holding a package manager lock, as the server reported it (raw text: escape
/// it to show it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub file: String,
    pub pid: String,
    pub name: String,
}

/// The facts of a login that got in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub cloud_init: CloudInit,
    /// `Some(true)`: a lock was still held at the limit; `None`: not looked at (cloud-init
    /// did not finish).
    pub package_manager_busy: Option<bool>,
    /// `None`: not known.
    pub docker: Option<bool>,
    /// The first lines of `cloud-init status --long` after an error (raw text).
    pub detail: Vec<String>,
    /// The last lock holder seen.
    pub holder: Option<Holder>,
}

/// How the login ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Logged in, the script ran to its end. Ready when cloud-init is not `Timeout` and
    /// the package manager is not busy.
    Facts(Facts),
    /// No usable `ssh` here: the note (not installed, or it cannot run, quoted).
    NoSsh(String),
    /// Authentication refused: the methods the server named (`publickey`, `password`).
    Refused { methods: String },
    /// The server's host key is not the one recorded.
    HostKeyChanged,
    /// Never got in before the limit (not refused): the last reason, raw text.
    Unreachable { last: String },
    /// Got in, but the script gave no facts (a shell that runs no commands, a dropped
    /// connection at the limit): what was seen, raw text.
    NoFacts { said: String },
}

/// Progress worth telling the user.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Logged in; `cloud_init`: it is installed and now waited for.
    LoggedIn { cloud_init: bool },
    /// A lock is held: waiting for it.
    Locked(Holder),
}

/// The script's lines, read as they come.
#[derive(Debug, Default)]
struct Reading {
    logged_in: bool,
    cloud_init_waiting: bool,
    holder: Option<Holder>,
    detail: Vec<String>,
    facts: Option<Facts>,
}

impl Reading {
    fn line(&mut self, raw: &[u8]) -> Option<Progress> {
        let line = String::from_utf8_lossy(raw);
        let line = line.trim_end_matches('\r');
        let rest = line.strip_prefix("pegasus-ready ")?;
        let (what, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        match what {
            "login" => {
                self.logged_in = true;
                self.cloud_init_waiting = rest == "cloud-init";
                Some(Progress::LoggedIn {
                    cloud_init: self.cloud_init_waiting,
                })
            }
            "detail" if self.detail.len() < DETAIL_LINES => {
                self.detail.push(rest.to_owned());
                None
            }
            "lock" => {
                let mut parts = rest.splitn(3, ' ');
                let holder = Holder {
                    file: parts.next().unwrap_or("").to_owned(),
                    pid: parts.next().unwrap_or("").to_owned(),
                    name: parts.next().unwrap_or("").to_owned(),
                };
                self.cloud_init_waiting = false;
                self.holder = Some(holder.clone());
                Some(Progress::Locked(holder))
            }
            "facts" => {
                self.facts = parse_facts(rest).map(|mut f| {
                    f.detail = std::mem::take(&mut self.detail);
                    f.holder = self.holder.take();
                    f
                });
                None
            }
            _ => None,
        }
    }

    /// What the limit found: the stage the script was in.
    fn at_the_limit(&mut self) -> Facts {
        let cloud = self.cloud_init_waiting;
        Facts {
            cloud_init: if cloud {
                CloudInit::Timeout
            } else {
                CloudInit::Done
            },
            package_manager_busy: (!cloud).then_some(true),
            docker: None,
            detail: std::mem::take(&mut self.detail),
            holder: self.holder.take(),
        }
    }
}

/// `cloud-init=done package-manager=idle docker=no`.
fn parse_facts(text: &str) -> Option<Facts> {
    let mut facts = Facts {
        cloud_init: CloudInit::Done,
        package_manager_busy: None,
        docker: None,
        detail: Vec::new(),
        holder: None,
    };
    let mut seen = 0;
    for pair in text.split_whitespace() {
        let (k, v) = pair.split_once('=')?;
        match (k, v) {
            ("cloud-init", v) => {
                facts.cloud_init = match v {
                    "done" => CloudInit::Done,
                    "error" => CloudInit::Error,
                    "absent" => CloudInit::Absent,
                    "timeout" => CloudInit::Timeout,
                    _ => return None,
                };
                seen += 1;
            }
            ("package-manager", v) => {
                facts.package_manager_busy = match v {
                    "idle" => Some(false),
                    "busy" => Some(true),
                    _ => None,
                };
                seen += 1;
            }
            ("docker", v) => {
                facts.docker = match v {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                };
                seen += 1;
            }
            _ => {}
        }
    }
    (seen == 3).then_some(facts)
}

/// What `ssh`'s stderr says, as far as this module decides on it.
#[derive(Debug, PartialEq)]
enum Said {
    CannotRun(String),
    Refused(String),
    HostKeyChanged,
    Other(String),
}

fn classify(stderr: &[u8]) -> Said {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(l) = lines.iter().find(|l| l.contains("No user exists for uid")) {
        return Said::CannotRun((*l).to_owned());
    }
    if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || text.contains("Host key verification failed")
        || text.contains("has changed and you have requested strict checking")
    {
        return Said::HostKeyChanged;
    }
    if let Some(l) = lines.iter().find(|l| l.contains("Permission denied (")) {
        let methods = l
            .rsplit_once("Permission denied (")
            .map(|(_, m)| m.trim_end_matches(['.', ')']).to_owned())
            .unwrap_or_default();
        return Said::Refused(methods);
    }
    if lines
        .iter()
        .any(|l| l.contains("Too many authentication failures"))
    {
        return Said::Refused("too many authentication failures".into());
    }
    Said::Other(lines.last().map_or_else(String::new, |l| (*l).to_owned()))
}

/// Log in and run the script, until it reports or `deadline` passes. `program` is the
/// `ssh` to run (`"ssh"`: the one on `PATH`). A signal ends the try (and `ssh`'s process
/// group) at once: `Err(Error::Interrupted)`.
pub fn run(
    plan: &Plan,
    program: &str,
    deadline: Instant,
    progress: &mut dyn FnMut(Progress),
) -> Result<Outcome> {
    let mut last = String::from("nothing answered");
    let mut reading = Reading::default();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(if reading.logged_in {
                Outcome::Facts(reading.at_the_limit())
            } else {
                Outcome::Unreachable { last }
            });
        }
        let secs = left.as_secs_f64().ceil() as u64;
        // The script gives up a little before the limit, to say where it was itself.
        let limit = secs.saturating_sub(1).max(1);
        let started = Instant::now();
        reading = Reading::default();
        let mut cmd = Command::new(program);
        cmd.args(plan.args(secs.clamp(1, CONNECT_TIMEOUT), limit));
        let run = child::run(&mut cmd, deadline, &mut |line| {
            if let Some(p) = reading.line(line) {
                progress(p);
            }
        })?;
        let out = match run {
            Run::NotFound => {
                return Ok(Outcome::NoSsh(format!("no `{program}` found on PATH")));
            }
            Run::NotStarted(e) => {
                return Ok(Outcome::NoSsh(format!(
                    "`{program}` could not start: {}",
                    crate::error::io_reason(&e)
                )));
            }
            Run::Ran(out) => out,
        };
        if let Some(facts) = reading.facts.take() {
            return Ok(Outcome::Facts(facts));
        }
        if out.status.is_none() {
            // The deadline ended it.
            return Ok(if reading.logged_in {
                Outcome::Facts(reading.at_the_limit())
            } else {
                Outcome::Unreachable {
                    last: match classify(&out.stderr) {
                        Said::Other(l) if !l.is_empty() => l,
                        _ => last,
                    },
                }
            });
        }
        let said = classify(&out.stderr);
        match said {
            Said::CannotRun(line) if out.code() == Some(255) && !reading.logged_in => {
                return Ok(Outcome::NoSsh(format!(
                    "`{program}` cannot run here ({line})"
                )));
            }
            Said::Refused(methods) if !reading.logged_in => {
                return Ok(Outcome::Refused { methods });
            }
            Said::HostKeyChanged => return Ok(Outcome::HostKeyChanged),
            _ => {}
        }
        let words = match said {
            Said::Other(l) | Said::CannotRun(l) | Said::Refused(l) => l,
            Said::HostKeyChanged => String::new(),
        };
        if out.code() != Some(255) {
            // ssh ran the command on the server, and it ended without facts.
            let shown = String::from_utf8_lossy(&out.stdout);
            let first = shown.lines().map(str::trim).find(|l| !l.is_empty());
            return Ok(Outcome::NoFacts {
                said: match (first, words.is_empty()) {
                    (_, false) => words,
                    (Some(l), true) => l.to_owned(),
                    (None, true) => format!("exit status {}", out.code().unwrap_or(-1)),
                },
            });
        }
        if !words.is_empty() {
            last = words;
        }
        // Not in (or the connection dropped): again, at most once a second.
        let next = started + RETRY_EVERY;
        let pause = next
            .saturating_duration_since(Instant::now())
            .min(deadline.saturating_duration_since(Instant::now()));
        crate::process::signals::sleep(pause)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            user: "root".into(),
            host: "127.0.0.10".parse().unwrap(),
            port: 2222,
            identities: vec!["/home/me/.ssh/id_ed25519".into()],
            identities_only: false,
            config: ConfigFile::Default,
            jump: None,
            proxy_command: None,
            known_hosts: "/home/me/.ssh/known_hosts".into(),
            lock_files: LOCK_FILES.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_script_can_travel_in_single_quotes() {
        let sent = plan().remote_command(600);
        let body = &sent["exec sh -c '".len()..sent.rfind("' pegasus-ready").unwrap()];
        assert!(!body.contains('\''));
        assert!(
            !body.lines().any(|l| l.trim_start().starts_with('#')),
            "comments are not sent"
        );
        assert!(sent.ends_with(
            "' pegasus-ready 600 /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock"
        ));
        // Read-only: it never takes a lock, writes a file or changes the system.
        for word in [
            "flock",
            "rm ",
            "> /",
            "tee",
            "apt",
            "dpkg ",
            "kill",
            "systemctl",
        ] {
            assert!(!body.contains(word), "{word:?} in the script");
        }
        let redirects = body.matches(">/").count();
        assert_eq!(
            redirects,
            body.matches(">/dev/null").count(),
            "writes a file"
        );
    }

    #[test]
    fn arguments_as_kamal_logs_in() {
        let args: Vec<String> = plan()
            .args(10, 599)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        let joined = args[..args.len() - 1].join(" ");
        assert_eq!(
            joined,
            "-o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new \
             -o HashKnownHosts=no -o UserKnownHostsFile=\"/home/me/.ssh/known_hosts\" \
             -o LogLevel=ERROR -o ServerAliveInterval=15 -o ServerAliveCountMax=4 \
             -o ControlMaster=no -o ControlPath=none -o ClearAllForwardings=yes \
             -o RemoteCommand=none -o RequestTTY=no -o PermitLocalCommand=no \
             -i /home/me/.ssh/id_ed25519 -p 2222 -l root -- 127.0.0.10"
        );
        let mut p = plan();
        p.identities_only = true;
        p.config = ConfigFile::Off;
        p.jump = Jump::parse("bastion.example.com:2200");
        let args: Vec<String> = p
            .args(5, 100)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect();
        assert_eq!(args[..2], ["-F", "/dev/null"]);
        assert!(args.contains(&"IdentitiesOnly=yes".to_string()));
        let proxy = args
            .iter()
            .find(|a| a.starts_with("ProxyCommand="))
            .unwrap();
        assert_eq!(
            proxy,
            "ProxyCommand=ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=5 \
             -o StrictHostKeyChecking=accept-new -o HashKnownHosts=no \
             -o 'UserKnownHostsFile=\"/home/me/.ssh/known_hosts\"' -o LogLevel=ERROR \
             -o ServerAliveInterval=15 -o ServerAliveCountMax=4 -o ControlMaster=no \
             -o ControlPath=none -o ClearAllForwardings=yes -o RemoteCommand=none \
             -o RequestTTY=no -o PermitLocalCommand=no -o IdentitiesOnly=yes \
             -i /home/me/.ssh/id_ed25519 -p 2200 -l root -W %h:%p -- bastion.example.com"
        );
    }

    #[test]
    fn jump_hosts() {
        let j = Jump::parse("bastion").unwrap();
        assert_eq!(
            (j.user.as_str(), j.host.as_str(), j.port),
            ("root", "bastion", None)
        );
        assert_eq!(j.spec(), "root@bastion");
        let j = Jump::parse("app@[2001:db8::1]:2222").unwrap();
        assert_eq!(j.spec(), "app@[2001:db8::1]:2222");
        assert_eq!(Jump::parse("app@10.0.0.1").unwrap().spec(), "app@10.0.0.1");
        for bad in ["a@b,c@d", "$(x)@h", "h:0", "h:port", "u@", "a b", "x@h;rm"] {
            assert_eq!(Jump::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn what_is_not_passed_to_ssh() {
        let mut p = plan();
        assert_eq!(p.check(), Ok(()));
        p.user = "-oProxyCommand=x".into();
        assert!(p.check().is_err());
        let mut p = plan();
        p.identities = vec!["/home/%u/key".into()];
        assert!(p.check().unwrap_err().contains("%u"));
        let mut p = plan();
        p.lock_files = vec!["/tmp/x; reboot".into()];
        assert!(p.check().is_err());
        assert!(safe_path(Path::new("/home/me/my keys/id")));
        assert!(!safe_path(Path::new("/home/${USER}/id")));
    }

    #[test]
    fn hints() {
        let p = plan();
        assert_eq!(p.hint(None), "ssh -p 2222 root@127.0.0.10");
        let jump = Jump::parse("bastion").unwrap();
        assert_eq!(
            command_hint(
                "deploy",
                "2001:db8::1".parse().unwrap(),
                22,
                Some(&jump),
                Some("~/.ssh/id_kamal")
            ),
            "ssh -J root@bastion -i ~/.ssh/id_kamal deploy@2001:db8::1"
        );
        assert_eq!(proxy_word("a b'c"), "'a b'\\''c'");
        assert_eq!(proxy_word("/x/y-1"), "/x/y-1");
    }

    #[test]
    fn the_script_lines_are_read() {
        let mut r = Reading::default();
        assert_eq!(r.line(b"Welcome to Ubuntu"), None);
        assert_eq!(
            r.line(b"pegasus-ready login cloud-init\r"),
            Some(Progress::LoggedIn { cloud_init: true })
        );
        assert_eq!(r.line(b"pegasus-ready detail status: error"), None);
        assert!(matches!(
            r.line(b"pegasus-ready lock /var/lib/dpkg/lock 812 unattended-upgr"),
            Some(Progress::Locked(Holder { ref name, .. })) if name == "unattended-upgr"
        ));
        r.line(b"pegasus-ready facts cloud-init=error package-manager=idle docker=no");
        let f = r.facts.unwrap();
        assert_eq!(f.cloud_init, CloudInit::Error);
        assert_eq!(f.package_manager_busy, Some(false));
        assert_eq!(f.docker, Some(false));
        assert_eq!(f.detail, ["status: error"]);
        assert_eq!(parse_facts("cloud-init=done"), None);
        assert_eq!(
            parse_facts("cloud-init=maybe package-manager=idle docker=no"),
            None
        );
        let mut r = Reading::default();
        r.line(b"pegasus-ready login cloud-init");
        let f = r.at_the_limit();
        assert_eq!(
            (f.cloud_init, f.package_manager_busy),
            (CloudInit::Timeout, None)
        );
    }

    #[test]
    fn what_ssh_said() {
        assert_eq!(
            classify(b"root@1.2.3.4: Permission denied (publickey).\r\n"),
            Said::Refused("publickey".into())
        );
        assert_eq!(
            classify(b"deploy@h: Permission denied (publickey,password).\n"),
            Said::Refused("publickey,password".into())
        );
        assert_eq!(
            classify(b"No user exists for uid 1000\n"),
            Said::CannotRun("No user exists for uid 1000".into())
        );
        assert_eq!(
            classify(
                b"@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed.\n"
            ),
            Said::HostKeyChanged
        );
        assert_eq!(
            classify(b"ssh: connect to host 1.2.3.4 port 22: Connection refused\n"),
            Said::Other("ssh: connect to host 1.2.3.4 port 22: Connection refused".into())
        );
    }
}
