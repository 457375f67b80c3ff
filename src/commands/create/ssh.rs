//! The SSH side of "ready for Kamal": which port (step 1), and the wait until SSH answers
//! (step 11).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::ssh::banner::{self, Outcome, Timing};
use crate::text::Untrusted;
use crate::ui::Ui;

/// Where the port came from, for the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortSource {
    Flag,
    Kamal,
    Default,
}

/// The port SSH answers on, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub port: u16,
    pub source: PortSource,
}

/// `--ssh-port`, else Kamal's `ssh.port`, else 22.
pub fn port(args: &CreateArgs, kamal_text: Option<&str>) -> Port {
    let (port, source) = match (
        args.ssh_port,
        kamal_text.and_then(crate::kamal::ssh_port::ssh_port),
    ) {
        (Some(p), _) => (p, PortSource::Flag),
        (None, Some(p)) => (p, PortSource::Kamal),
        (None, None) => (22, PortSource::Default),
    };
    Port { port, source }
}

/// What the wait found: `Some(true)` SSH answers, `Some(false)` it did not in time (with
/// the error to return after the output), `None` skipped.
pub struct Readiness {
    pub ready: Option<bool>,
    pub failure: Option<Error>,
}

/// What to name when SSH does not answer.
pub struct Suspects<'a> {
    pub firewall: Option<&'a Untrusted>,
    pub user_data: Option<&'a std::path::Path>,
    pub port_source: PortSource,
}

/// Step 11: wait until `address:port` of the server `name` sends an SSH banner, for
/// `timeout` seconds (0 skips).
pub fn wait(
    name: &Untrusted,
    ip: IpAddr,
    port: u16,
    timeout: u64,
    suspects: &Suspects,
    ui: &Ui,
) -> Result<Readiness> {
    let skipped = Readiness {
        ready: None,
        failure: None,
    };
    if timeout == 0 {
        return Ok(skipped);
    }
    let addr = SocketAddr::new(ip, port);
    if !banner::may_connect(ip) {
        ui.note(&format!(
            "not waiting for SSH: {ip} is not a public address"
        ));
        return Ok(skipped);
    }
    let timing = Timing::for_address(ip, Duration::from_secs(timeout));
    let title = format!("Server {name}");
    ui.progress(&title, &format!("waiting for SSH on {addr}"), None);
    let outcome = banner::wait(addr, timing, &crate::process::signals::sleep);
    if outcome.is_err() {
        ui.progress_done(&title, "interrupted while waiting for SSH");
    }
    Ok(match outcome? {
        Outcome::Ready => {
            ui.progress_done(&title, &format!("SSH answers on {addr}"));
            Readiness {
                ready: Some(true),
                failure: None,
            }
        }
        Outcome::Skipped(why) => {
            ui.note(&format!("not waiting for SSH: {why}"));
            skipped
        }
        Outcome::TimedOut(last) => {
            ui.progress_done(&title, "SSH did not answer");
            Readiness {
                ready: Some(false),
                failure: Some(Error::Failed(timed_out(
                    addr,
                    timing.limit,
                    &last,
                    suspects,
                ))),
            }
        }
    })
}

fn timed_out(addr: SocketAddr, limit: Duration, last: &str, s: &Suspects) -> String {
    let secs = limit.as_secs();
    let waited = if secs >= 1 {
        format!("{secs} s")
    } else {
        format!("{} ms", limit.as_millis())
    };
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
    checks.push(match s.port_source {
        PortSource::Flag => format!("that sshd listens on port {} (--ssh-port)", addr.port()),
        PortSource::Kamal => format!(
            "that sshd listens on port {} (Kamal's ssh.port; --ssh-port overrides it)",
            addr.port()
        ),
        PortSource::Default => "whether sshd listens on another port (--ssh-port)".into(),
    });
    format!(
        "SSH did not answer on {addr} within {waited} ({last}). The server runs; check {}. \
         Run `kamal setup` once `ssh root@{}` works, or wait longer with --ssh-timeout",
        checks.join(", "),
        match addr.ip() {
            IpAddr::V6(v6) => v6.to_string(),
            IpAddr::V4(v4) => v4.to_string(),
        }
    )
}
