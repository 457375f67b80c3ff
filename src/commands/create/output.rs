//! Step 13 (SPEC §4): the result, as one JSON object or as the human summary; and the
//! JSON object of a failure once the server exists.

use std::net::IpAddr;

use serde::Serialize;

use super::super::ServerOut;
use super::dns;
use super::firewall::FirewallOut;
use crate::deploy_file::{self, Report};
use crate::hetzner::{Price, Server, SshKey};
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// `--json` on success (and after a readiness failure, with `error`), keys in SPEC order.
#[derive(Serialize)]
pub struct JsonOut {
    pub server: ServerOut,
    pub resumed: bool,
    pub ssh: String,
    pub ssh_ready: Option<bool>,
    pub ssh_key: Option<KeyOut>,
    pub firewall: Option<FirewallOut>,
    pub known_hosts: KnownHostsOut,
    pub login: Option<super::ssh::LoginOut>,
    pub kamal: Report,
    pub dns: Vec<dns::RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct KnownHostsOut {
    pub removed: Vec<String>,
}

#[derive(Serialize)]
pub struct KeyOut {
    pub id: u64,
    pub name: Untrusted,
    pub uploaded: bool,
}

impl KeyOut {
    pub fn from((key, uploaded): (SshKey, bool)) -> KeyOut {
        KeyOut {
            id: key.id,
            name: key.name,
            uploaded,
        }
    }
}

/// `--json` after a failure once the server exists: what is known, and the error.
#[derive(Serialize)]
pub struct FailedOut {
    pub server: KnownOut,
    pub resumed: bool,
    pub error: String,
}

/// The server as far as known: the whole object, or (when the create got no clear
/// answer and the look-up failed) only its name.
#[derive(Serialize)]
#[serde(untagged)]
pub enum KnownOut {
    Server(ServerOut),
    Name { id: Option<u64>, name: String },
}

/// The readiness facts of the human summary.
pub struct Facts<'a> {
    /// What it costs (none when the API gives no price for its type there).
    pub price: Option<Price>,
    pub firewall: Option<&'a FirewallOut>,
    pub ssh_ready: Option<bool>,
    pub login: Option<&'a super::ssh::LoginOut>,
    /// Step 11 failed (its error follows the summary).
    pub failed: bool,
    /// The records set, or still to make (SPEC §10).
    pub dns: Vec<String>,
}

/// The human summary on stdout.
pub fn human(
    server: &Server,
    ssh: &str,
    report: &Report,
    address: IpAddr,
    facts: &Facts,
    ui: &Ui,
) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let ipv4 = dash(server.ipv4().map(|a| a.to_string()));
    let ipv6 = dash(server.ipv6().map(|a| a.to_string()));
    let firewall = match facts.firewall {
        Some(f) if f.created => format!("{} (made now)", f.name),
        Some(f) => f.name.to_string(),
        None => "none".into(),
    };
    let ssh_state = match facts.ssh_ready {
        Some(true) => "answers",
        Some(false) => "did not answer in time",
        None => "not checked",
    };
    let login = facts
        .login
        .map_or_else(|| "not checked".to_string(), super::ssh::LoginOut::row);
    let price = match &facts.price {
        Some(p) => format!("\n  price     {p}"),
        None => String::new(),
    };
    let mut out = format!(
        "Server {} is running.\n  type      {}\n  image     {}\n  location  {}{price}\n  IPv4      {ipv4}\n  IPv6      {ipv6}\n  firewall  {firewall}\n  SSH       {ssh_state}\n  login     {login}\n\n  {}\n",
        server.name,
        server.type_name(),
        server.image_name(),
        server.location_name(),
        escape(ssh),
    );
    let paint = |t: &str, c: &str| ui.paint_out(t, c);
    let lines = deploy_file::human_lines(report, &address.to_string(), &paint);
    if !lines.is_empty() {
        out.push('\n');
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if !facts.dns.is_empty() {
        out.push('\n');
        for l in &facts.dns {
            out.push_str(l);
            out.push('\n');
        }
    }
    if !facts.failed
        && matches!(
            report.status,
            deploy_file::Status::Updated | deploy_file::Status::Unchanged
        )
    {
        out.push('\n');
        out.push_str(&report.next_step());
        out.push('\n');
    }
    out
}
