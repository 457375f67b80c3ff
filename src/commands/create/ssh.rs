//! The SSH side of "ready for Kamal": how Kamal gets in (its `ssh` section, read at step 3:
//! user, port, keys, jump host, config), and step 11, the wait until Kamal can work — the
//! banner, then a login as Kamal will, which waits on the server for cloud-init and for
//! the package manager's locks.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::CreateArgs;
use crate::deploy_file::{Located, Plan as KamalPlan};
use crate::error::{Error, Result};
use crate::kamal::Layer;
use crate::kamal::ssh::{ConfigFiles, Problem, Setting, SshSection};
use crate::session::tilde;
use crate::ssh::banner::{self, Outcome as Banner, Timing};
use crate::ssh::keys::PublicKey;
use crate::ssh::login::{self, CloudInit, ConfigFile, Jump, Outcome, Progress};
use crate::text::Untrusted;
use crate::text::shell::shell_quote;
use crate::ui::{Ui, escape};

/// Where the port came from, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSource {
    Flag,
    Kamal,
    Default,
}

/// How Kamal gets in: its `ssh` section (or the defaults without a config).
#[derive(Debug, Clone)]
pub struct Access {
    /// Kamal's `ssh.user` (default `root`); `None` when it is ERB or not a user name.
    pub user: Option<String>,
    pub port: u16,
    /// Where the port came from.
    pub source: PortSource,
    /// Kamal's `ssh.keys`, with `~` and relative paths resolved (SPEC §4 step 2).
    pub keys: Vec<PathBuf>,
    pub keys_only: bool,
    pub config: ConfigFile,
    pub jump: Option<Jump>,
    pub proxy_command: Option<String>,
    /// Why the login cannot be tried as Kamal will log in (ERB, a value pegasus does not
    /// hand to ssh); the banner wait still runs.
    pub no_login: Option<String>,
    /// A Kamal config is used (found, and no `--no-kamal`): hints may say `kamal setup`.
    pub kamal_used: bool,
    pub home: Option<PathBuf>,
}

impl Access {
    /// The user shown in messages.
    pub fn user_name(&self) -> &str {
        self.user.as_deref().unwrap_or("root")
    }

    /// The user when it is not `root` (for the preflight's `ssh.user` rule).
    pub fn non_root_user(&self) -> Option<&str> {
        self.user.as_deref().filter(|u| *u != "root")
    }

    /// `ssh [-p PORT] [-J USER@JUMP] [-i KEY] USER@ADDRESS`, the summary's command
    /// (SPEC §4 step 13); every failure hint uses the same.
    pub fn command(&self, address: IpAddr) -> String {
        let key = self
            .keys
            .first()
            .map(|k| shell_path(k, self.home.as_deref()));
        login::command_hint(
            self.user_name(),
            address,
            self.port,
            self.jump.as_ref(),
            key.as_deref(),
        )
    }

    /// "Run `kamal setup` once `CMD` works" or, without a Kamal config, "Check with `CMD`".
    fn next(&self, address: IpAddr, what: &str) -> String {
        let cmd = self.command(address);
        if self.kamal_used {
            format!("Run `kamal setup` once `{cmd}` {what}")
        } else {
            format!("Check with `{cmd}`")
        }
    }
}

/// A path for a command a person runs: `~/x` under the home folder when that needs no
/// quoting, else the path, quoted for the shell when it has to be.
pub fn shell_path(path: &Path, home: Option<&Path>) -> String {
    if let Some(h) = home {
        if let Ok(rest) = path.strip_prefix(h) {
            let quoted = shell_quote(rest.as_os_str());
            if quoted.as_bytes() == rest.as_os_str().as_encoded_bytes() {
                return format!("~/{quoted}");
            }
        }
    }
    shell_quote(path.as_os_str())
}

/// Step 3 (with the config read): Kamal's `ssh` section, each setting pegasus cannot use
/// as written said on stderr. `--ssh-port` wins over `ssh.port`.
pub fn access(args: &CreateArgs, kamal: &KamalPlan, home: Option<&Path>, ui: &Ui) -> Access {
    let mut a = Access {
        user: Some("root".into()),
        port: 22,
        source: PortSource::Default,
        keys: Vec::new(),
        keys_only: false,
        config: ConfigFile::Default,
        jump: None,
        proxy_command: None,
        no_login: None,
        kamal_used: matches!(kamal.located, Located::Found(_)),
        home: home.map(Path::to_path_buf),
    };
    // With -d, both files merged as Kamal merges them.
    let section = match kamal.config() {
        Some(Ok(config)) => crate::kamal::ssh::of(&config),
        _ => SshSection::default(),
    };
    let file = match &kamal.located {
        Located::Found(p) => p.clone(),
        _ => PathBuf::from("config/deploy.yml"),
    };
    let files = Files {
        edited: file.display().to_string(),
        base: kamal.base.as_ref().map(|b| b.display().to_string()),
    };
    let base = project_folder(&file);
    apply_section(&mut a, &section, &files, home, &base, ui);
    if let Some(p) = args.ssh_port {
        a.port = p;
        a.source = PortSource::Flag;
    }
    a
}

/// The folder that holds `config/` (where `kamal` runs): relative `ssh.keys` start there.
fn project_folder(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    let base = match dir.file_name() {
        Some(n) if n == "config" => dir.parent().unwrap_or(Path::new("")),
        _ => Path::new(""),
    };
    if base.as_os_str().is_empty() {
        std::env::current_dir().unwrap_or_default()
    } else {
        base.to_path_buf()
    }
}

/// A path as Kamal's `ssh.keys` and `ssh.config` hold it: `~` is the home folder, a
/// relative path starts at `base`. `None` for `~user/…` forms.
pub fn resolve(written: &str, home: Option<&Path>, base: &Path) -> Option<PathBuf> {
    if written == "~" {
        return home.map(Path::to_path_buf);
    }
    if let Some(rest) = written.strip_prefix("~/") {
        return home.map(|h| h.join(rest));
    }
    if written.starts_with('~') {
        return None;
    }
    Some(base.join(written))
}

/// The names of the config's files, for notes (with `-d`, a setting may be in either).
struct Files {
    edited: String,
    base: Option<String>,
}

impl Files {
    fn of(&self, layer: Layer) -> &str {
        match (layer, &self.base) {
            (Layer::Base, Some(b)) => b,
            _ => &self.edited,
        }
    }
}

fn apply_section(
    a: &mut Access,
    s: &SshSection,
    files: &Files,
    home: Option<&Path>,
    base: &Path,
    ui: &Ui,
) {
    let at = |p: Problem, key: &str| {
        format!(
            "ssh.{key} in {} (line {}: {}) is {}",
            escape(files.of(p.layer)),
            p.line,
            escape(p.text),
            p.why
        )
    };
    let skip = |a: &mut Access, why: String| {
        ui.note(&format!("{why}; the login check is skipped"));
        a.no_login.get_or_insert(why);
    };
    if let Some(p) = s.section.problem() {
        let why = format!(
            "Kamal's ssh section in {} (line {}: {}) is {}",
            escape(files.of(p.layer)),
            p.line,
            escape(p.text),
            p.why
        );
        skip(a, why);
        return;
    }
    match &s.user {
        Setting::Value(u) if login::valid_user(u) => a.user = Some(u.clone()),
        Setting::Value(u) => {
            a.user = None;
            skip(
                a,
                format!(
                    "ssh.user {:?} is not a user name pegasus passes to ssh",
                    escape(u)
                ),
            );
        }
        other => {
            if let Some(p) = other.problem() {
                a.user = None;
                skip(a, at(p, "user"));
            }
        }
    }
    match &s.port {
        Setting::Value(p) => {
            a.port = *p;
            a.source = PortSource::Kamal;
        }
        other => {
            if let Some(p) = other.problem() {
                ui.note(&format!(
                    "{}; pegasus uses port 22 (--ssh-port sets another)",
                    at(p, "port")
                ));
            }
        }
    }
    match &s.keys {
        Setting::Value(keys) => {
            let mut resolved = Vec::new();
            for k in keys {
                match resolve(k, home, base) {
                    Some(p) => resolved.push(p),
                    None => skip(
                        a,
                        format!(
                            "ssh.keys names {}, a path pegasus cannot resolve",
                            escape(k)
                        ),
                    ),
                }
            }
            a.keys = resolved;
        }
        other => {
            if let Some(p) = other.problem() {
                skip(a, at(p, "keys"));
            }
        }
    }
    match &s.keys_only {
        Setting::Value(b) => a.keys_only = *b,
        other => {
            if let Some(p) = other.problem() {
                skip(a, at(p, "keys_only"));
            }
        }
    }
    match &s.proxy {
        Setting::Value(p) => match Jump::parse(p) {
            Some(j) => a.jump = Some(j),
            None => skip(
                a,
                format!(
                    "ssh.proxy {:?} is not one jump host ([user@]host[:port]) pegasus passes to ssh",
                    escape(p)
                ),
            ),
        },
        other => {
            if let Some(p) = other.problem() {
                skip(a, at(p, "proxy"));
            }
        }
    }
    match &s.proxy_command {
        Setting::Value(c) => a.proxy_command = Some(c.clone()),
        other => {
            if let Some(p) = other.problem() {
                skip(a, at(p, "proxy_command"));
            }
        }
    }
    match &s.config {
        Setting::Value(ConfigFiles::Default) | Setting::Unset => {}
        Setting::Value(ConfigFiles::Off) => a.config = ConfigFile::Off,
        Setting::Value(ConfigFiles::Files(files)) => {
            if files.len() > 1 {
                ui.note(&format!(
                    "ssh.config names {} files; OpenSSH reads one, so the login check reads only {}",
                    files.len(),
                    escape(&files[0])
                ));
            }
            match files.first().and_then(|f| resolve(f, home, base)) {
                Some(p) => a.config = ConfigFile::File(p),
                None => skip(a, "ssh.config names a file pegasus cannot resolve".into()),
            }
        }
        other => {
            if let Some(p) = other.problem() {
                skip(a, at(p, "config"));
            }
        }
    }
    if s.key_data {
        ui.note(
            "ssh.key_data holds keys from Kamal secrets, which pegasus cannot read: the login check uses your agent and key files only",
        );
    }
}

/// What step 11 found: `ready` (the banner, or with a jump host the login reaching the
/// server) `Some(true)`, `Some(false)` not in time, `None` skipped; the login's facts;
/// the error to return after the output.
pub struct Readiness {
    pub ready: Option<bool>,
    pub login: Option<LoginOut>,
    pub failure: Option<Error>,
}

/// The JSON `login` object (SPEC §4), keys in this order.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LoginOut {
    pub user: String,
    pub ok: bool,
    pub cloud_init: Option<&'static str>,
    pub package_manager: Option<&'static str>,
    pub docker: Option<bool>,
    pub seconds: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LoginOut {
    /// The summary's `login` row.
    pub fn row(&self) -> String {
        let user = escape(&self.user);
        if !self.ok {
            return format!("{user}: did not work (below)");
        }
        let mut parts = vec![match self.cloud_init {
            Some("absent") => "no cloud-init".to_string(),
            Some(c) => format!("cloud-init {c}"),
            None => "cloud-init unknown".into(),
        }];
        if let Some(pm) = self.package_manager {
            parts.push(format!("package manager {pm}"));
        }
        match self.docker {
            Some(true) => parts.push("Docker installed".into()),
            Some(false) => parts.push("no Docker yet".into()),
            None => {}
        }
        let ready = self.cloud_init != Some("timeout") && self.package_manager != Some("busy");
        format!(
            "{user}: {} after {}s ({})",
            if ready { "ready" } else { "not ready" },
            self.seconds,
            parts.join(", ")
        )
    }
}

/// What to name when SSH does not answer.
pub struct Suspects<'a> {
    pub firewall: Option<&'a Untrusted>,
    pub user_data: Option<&'a Path>,
}

/// The server step 11 waits for.
pub struct Target<'a> {
    pub name: &'a Untrusted,
    pub address: IpAddr,
    /// The key the server was given (its file and fingerprint for a refused login; its
    /// private half for `-i` when `ssh.keys` is not set).
    pub key: &'a PublicKey,
}

/// Step 11: within `timeout` seconds (0 skips) from now, the SSH banner (skipped with a
/// jump host or proxy command), then the login as Kamal will.
pub fn wait(
    target: &Target,
    access: &Access,
    timeout: u64,
    suspects: &Suspects,
    ui: &Ui,
) -> Result<Readiness> {
    let skipped = Readiness {
        ready: None,
        login: None,
        failure: None,
    };
    if timeout == 0 {
        return Ok(skipped);
    }
    let start = Instant::now();
    let name = target.name;
    let ip = target.address;
    let addr = SocketAddr::new(ip, access.port);
    if !banner::may_connect(ip) {
        ui.note(&format!(
            "not waiting for SSH: {ip} is not a public address"
        ));
        return Ok(skipped);
    }
    let timing = Timing::for_address(ip, Duration::from_secs(timeout));
    let deadline = start + timing.limit;
    let title = format!("Server {name}");
    let proxied = access.jump.is_some() || access.proxy_command.is_some();
    let mut ready = None;
    if !proxied {
        ui.progress(&title, &format!("waiting for SSH on {addr}"), None);
        let outcome = banner::wait(addr, timing, &crate::process::signals::sleep);
        if outcome.is_err() {
            ui.progress_done(&title, "interrupted while waiting for SSH");
        }
        match outcome? {
            Banner::Ready => {
                ui.progress_done(&title, &format!("SSH answers on {addr}"));
                ready = Some(true);
            }
            Banner::Skipped(why) => {
                ui.note(&format!("not waiting for SSH: {why}"));
                return Ok(skipped);
            }
            Banner::TimedOut(last) => {
                ui.progress_done(&title, "SSH did not answer");
                return Ok(Readiness {
                    ready: Some(false),
                    login: None,
                    failure: Some(Error::Failed(no_banner(
                        addr,
                        timing.limit,
                        &last,
                        suspects,
                        access,
                        ip,
                    ))),
                });
            }
        }
    }
    let plan = match login_plan(target, access, ip) {
        Ok(plan) => plan,
        Err(why) => {
            ui.note(&format!("not logging in as Kamal will: {why}"));
            return Ok(Readiness {
                ready,
                login: None,
                failure: None,
            });
        }
    };
    let user = access.user_name().to_owned();
    ui.progress(&title, &format!("logging in as {user}"), None);
    let outcome = login::run(&plan, "ssh", deadline, &mut |p| match p {
        Progress::LoggedIn { cloud_init: true } => ui.progress(
            &title,
            &format!("logged in as {user}; waiting for cloud-init"),
            None,
        ),
        Progress::LoggedIn { cloud_init: false } => ui.progress(
            &title,
            &format!("logged in as {user}; checking the package manager"),
            None,
        ),
        Progress::Locked(h) => ui.progress(
            &title,
            &format!(
                "logged in as {user}; waiting for the package manager ({} held by {}, pid {})",
                escape(&h.file),
                escape(&h.name),
                escape(&h.pid)
            ),
            None,
        ),
    });
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            ui.progress_done(&title, "interrupted while logging in");
            return Err(e);
        }
    };
    let seconds = start.elapsed().as_secs();
    let out = |ok: bool, error: Option<String>| LoginOut {
        user: user.clone(),
        ok,
        cloud_init: None,
        package_manager: None,
        docker: None,
        seconds,
        error,
    };
    let said = Said {
        target,
        access,
        limit: timing.limit,
        addr,
    };
    let (ready, login, failure) = match outcome {
        Outcome::NoSsh(why) => {
            ui.progress_done(&title, "login not checked");
            ui.note(&format!(
                "not logging in as Kamal will: {}; install the OpenSSH client to have pegasus check the login",
                escape(&why)
            ));
            return Ok(Readiness {
                ready,
                login: None,
                failure: None,
            });
        }
        Outcome::Facts(facts) => {
            let mut o = out(true, None);
            o.cloud_init = Some(facts.cloud_init.as_str());
            o.package_manager = facts
                .package_manager_busy
                .map(|busy| if busy { "busy" } else { "idle" });
            o.docker = facts.docker;
            let failure = if facts.cloud_init == CloudInit::Timeout {
                ui.progress_done(&title, "cloud-init still running");
                Some(said.cloud_init_busy())
            } else if facts.package_manager_busy == Some(true) {
                ui.progress_done(&title, "package manager still busy");
                Some(said.package_manager_busy(facts.holder.as_ref()))
            } else {
                let pm = match o.package_manager {
                    Some("idle") => ", package manager idle",
                    _ => "",
                };
                let ci = match facts.cloud_init {
                    CloudInit::Absent => "no cloud-init".to_string(),
                    c => format!("cloud-init {}", c.as_str()),
                };
                ui.progress_end(&title, &format!("ready after {seconds}s ({ci}{pm})"));
                if facts.cloud_init == CloudInit::Error {
                    ui.warn(&said.cloud_init_error(&facts.detail));
                }
                None
            };
            (Some(true), Some(o), failure)
        }
        Outcome::Refused { methods } => {
            ui.progress_done(&title, &format!("login as {user} refused"));
            let e = said.refused(&methods);
            (Some(true), Some(out(false, Some(e.clone()))), Some(e))
        }
        Outcome::HostKeyChanged => {
            ui.progress_done(&title, "the host key changed");
            let e = said.host_key_changed();
            (Some(true), Some(out(false, Some(e.clone()))), Some(e))
        }
        Outcome::NoFacts { said: what } => {
            ui.progress_done(
                &title,
                &format!("logged in as {user}, but the check did not run"),
            );
            let e = said.no_facts(&what);
            (Some(true), Some(out(false, Some(e.clone()))), Some(e))
        }
        Outcome::Unreachable { last } => {
            ui.progress_done(&title, &format!("the login as {user} did not get through"));
            let e = said.unreachable(&last, suspects);
            let ready = if proxied { Some(false) } else { ready };
            (ready, Some(out(false, Some(e.clone()))), Some(e))
        }
    };
    Ok(Readiness {
        ready,
        login,
        failure: failure.map(Error::Failed),
    })
}

/// The login, as Kamal will log in; `Err` says why it cannot be tried.
fn login_plan(target: &Target, access: &Access, ip: IpAddr) -> Result<login::Plan, String> {
    if let Some(why) = &access.no_login {
        return Err(why.clone());
    }
    let user = access
        .user
        .clone()
        .ok_or_else(|| "Kamal's ssh.user is not known".to_string())?;
    let home = access
        .home
        .as_deref()
        .ok_or_else(|| "no home folder (set HOME) for ~/.ssh/known_hosts".to_string())?;
    let known_hosts = crate::ssh::known_hosts::ensure(home).map_err(|e| {
        format!(
            "cannot make {}: {}",
            tilde(&home.join(".ssh/known_hosts"), home),
            crate::error::io_reason(&e)
        )
    })?;
    let identities = if access.keys.is_empty() {
        target.key.private_key().into_iter().collect()
    } else {
        access
            .keys
            .iter()
            .filter(|k| k.is_file())
            .cloned()
            .collect()
    };
    let plan = login::Plan {
        user,
        host: ip,
        port: access.port,
        identities,
        identities_only: access.keys_only,
        config: access.config.clone(),
        jump: access.jump.clone(),
        proxy_command: access.proxy_command.clone(),
        known_hosts,
        lock_files: lock_files(ip),
    };
    plan.check()?;
    Ok(plan)
}

/// The package manager's lock files; a loopback test run may name others
/// (`PEGASUS_TEST_LOCK_FILES`, colon-separated), never a real server.
fn lock_files(ip: IpAddr) -> Vec<String> {
    if ip.is_loopback() {
        if let Ok(v) = std::env::var("PEGASUS_TEST_LOCK_FILES") {
            return v
                .split(':')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
        }
    }
    login::LOCK_FILES.iter().map(|s| (*s).to_owned()).collect()
}

/// The words of step 11's failures.
struct Said<'a> {
    target: &'a Target<'a>,
    access: &'a Access,
    limit: Duration,
    addr: SocketAddr,
}

impl Said<'_> {
    fn waited(&self) -> String {
        waited(self.limit)
    }

    fn cmd(&self) -> String {
        self.access.command(self.target.address)
    }

    fn server(&self) -> String {
        format!("server {}", self.target.name)
    }

    fn next(&self, what: &str) -> String {
        self.access.next(self.target.address, what)
    }

    fn cloud_init_busy(&self) -> String {
        format!(
            "cloud-init was still running on {} after {}; Kamal's Docker install would collide with it. \
             See what it does with `{} cloud-init status --long`. {}, or wait longer with --ssh-timeout",
            self.server(),
            self.waited(),
            self.cmd(),
            self.next("says `status: done`"),
        )
    }

    fn package_manager_busy(&self, holder: Option<&login::Holder>) -> String {
        let held = holder
            .map(|h| {
                format!(
                    " ({} held by {}, pid {})",
                    escape(&h.file),
                    escape(&h.name),
                    escape(&h.pid)
                )
            })
            .unwrap_or_default();
        format!(
            "the package manager on {} was still busy after {}{held}; Kamal's Docker install \
             would fail with \"Could not get lock\". {}, or wait longer with --ssh-timeout",
            self.server(),
            self.waited(),
            self.next("shows no apt or dpkg at work (`pgrep -a 'apt|dpkg|unattended'`)"),
        )
    }

    fn cloud_init_error(&self, detail: &[String]) -> String {
        let mut msg = format!(
            "cloud-init reported an error on {} (the server is up; check your user data)",
            self.server()
        );
        if detail.is_empty() {
            msg.push_str(&format!("; see `{} cloud-init status --long`", self.cmd()));
        } else {
            msg.push_str(". `cloud-init status --long` says:");
            for line in detail {
                msg.push_str(&format!("\n  {}", escape(line)));
            }
        }
        msg
    }

    fn key(&self) -> String {
        let k = self.target.key;
        let shown = match self.access.home.as_deref() {
            Some(h) => tilde(&k.path, h),
            None => k.path.display().to_string(),
        };
        format!("{} ({})", escape(&shown), k.fingerprint())
    }

    fn refused(&self, methods: &str) -> String {
        let user = escape(self.access.user_name());
        let mut msg = format!(
            "the login was refused: ssh as {user} to {} said \"Permission denied ({})\". ",
            self.addr,
            escape(methods)
        );
        if methods.split(',').any(|m| m.trim() == "publickey") {
            let private = self
                .target
                .key
                .private_key()
                .map(|p| format!(" {}", shell_path(&p, self.access.home.as_deref())))
                .unwrap_or_default();
            msg.push_str(&format!(
                "The server was given the key {}, and Kamal logs in as {user} with the keys ssh offers. \
                 Load its private key into your agent (`ssh-add{private}`), or name it in the Kamal config under ssh.keys",
                self.key()
            ));
            if self.access.non_root_user().is_some() {
                msg.push_str(&format!(
                    "; and check that the user data makes the user {user} with that key"
                ));
            }
        } else {
            msg.push_str(&format!(
                "The server does not take keys for {user} (it asks for {}); Kamal logs in with keys only. \
                 The server was given the key {}",
                escape(methods),
                self.key()
            ));
        }
        format!("{msg}. {}", self.next("works"))
    }

    fn host_key_changed(&self) -> String {
        let host = if self.addr.port() == 22 {
            self.addr.ip().to_string()
        } else {
            format!("[{}]:{}", self.addr.ip(), self.addr.port())
        };
        format!(
            "the host key of {} changed during this run (ssh: \"REMOTE HOST IDENTIFICATION HAS CHANGED\"): \
             pegasus removed the old entries for this address from ~/.ssh/known_hosts before logging in, \
             so another machine may have answered. Do not run kamal setup until you know why: look at \
             {} in the Hetzner console, then remove the entry with `ssh-keygen -R '{host}'` and check with `{}`",
            self.addr,
            self.server(),
            self.cmd()
        )
    }

    fn no_facts(&self, what: &str) -> String {
        format!(
            "logged in to {} as {}, but the server did not run pegasus's check ({}); Kamal runs its \
             commands the same way. {}",
            self.server(),
            escape(self.access.user_name()),
            escape(what),
            self.next("runs commands")
        )
    }

    fn unreachable(&self, last: &str, suspects: &Suspects) -> String {
        let via = match (&self.access.jump, &self.access.proxy_command) {
            (Some(j), _) => format!(" through the jump host {}", escape(&j.spec())),
            (None, Some(_)) => " through ssh.proxy_command".to_string(),
            _ => String::new(),
        };
        let mut msg = format!(
            "the login as {} to {}{via} did not get through within {} ({}).",
            escape(self.access.user_name()),
            self.addr,
            self.waited(),
            escape(last)
        );
        if let Some(fw) = suspects.firewall {
            msg.push_str(&format!(
                " Check that the firewall '{fw}' lets in TCP {}.",
                self.addr.port()
            ));
        }
        format!(
            "{msg} {}, or wait longer with --ssh-timeout",
            self.next("works")
        )
    }
}

fn waited(limit: Duration) -> String {
    let secs = limit.as_secs();
    if secs >= 1 {
        format!("{secs} s")
    } else {
        format!("{} ms", limit.as_millis())
    }
}

fn no_banner(
    addr: SocketAddr,
    limit: Duration,
    last: &str,
    s: &Suspects,
    access: &Access,
    address: IpAddr,
) -> String {
    let mut checks = Vec::new();
    match s.firewall {
        Some(name) => checks.push(format!(
            "that the firewall '{name}' lets in TCP {}",
            addr.port()
        )),
        None => checks.push("that no firewall of the project blocks the port".into()),
    }
    if let Some(path) = s.user_data {
        checks.push(format!(
            "that the user data ({}) does not stop or move sshd",
            path.display()
        ));
    }
    checks.push(match access.source {
        PortSource::Flag => format!("that sshd listens on port {} (--ssh-port)", addr.port()),
        PortSource::Kamal => format!(
            "that sshd listens on port {} (Kamal's ssh.port; --ssh-port overrides it)",
            addr.port()
        ),
        PortSource::Default => "whether sshd listens on another port (--ssh-port)".into(),
    });
    format!(
        "SSH did not answer on {addr} within {} ({last}). The server runs; check {}. \
         {}, or wait longer with --ssh-timeout",
        waited(limit),
        checks.join(", "),
        access.next(address, "works"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_kamal_resolves_them() {
        let home = Path::new("/home/me");
        let base = Path::new("/work/app");
        assert_eq!(
            resolve("~/.ssh/id_kamal", Some(home), base),
            Some("/home/me/.ssh/id_kamal".into())
        );
        assert_eq!(
            resolve("keys/deploy", Some(home), base),
            Some("/work/app/keys/deploy".into())
        );
        assert_eq!(resolve("/abs/key", None, base), Some("/abs/key".into()));
        assert_eq!(resolve("~bob/key", Some(home), base), None);
        assert_eq!(resolve("~/x", None, base), None);
        assert_eq!(
            project_folder(Path::new("/work/app/config/deploy.yml")),
            Path::new("/work/app")
        );
    }

    #[test]
    fn shell_paths_for_hints() {
        let home = Some(Path::new("/home/me"));
        assert_eq!(
            shell_path(Path::new("/home/me/.ssh/id_kamal"), home),
            "~/.ssh/id_kamal"
        );
        assert_eq!(
            shell_path(Path::new("/home/me/my keys/k"), home),
            "'/home/me/my keys/k'"
        );
        assert_eq!(shell_path(Path::new("/etc/k"), home), "/etc/k");
    }

    #[test]
    fn the_login_row() {
        let mut o = LoginOut {
            user: "root".into(),
            ok: true,
            cloud_init: Some("done"),
            package_manager: Some("idle"),
            docker: Some(false),
            seconds: 47,
            error: None,
        };
        assert_eq!(
            o.row(),
            "root: ready after 47s (cloud-init done, package manager idle, no Docker yet)"
        );
        o.package_manager = Some("busy");
        assert_eq!(
            o.row(),
            "root: not ready after 47s (cloud-init done, package manager busy, no Docker yet)"
        );
        o.package_manager = Some("idle");
        o.ok = false;
        assert_eq!(o.row(), "root: did not work (below)");
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(
            json,
            r#"{"user":"root","ok":false,"cloud_init":"done","package_manager":"idle","docker":false,"seconds":47}"#
        );
    }
}
