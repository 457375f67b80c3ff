//! Stale host keys (SPEC §4 step 9, §5): after a create and after a destroy, the entries
//! for the server's addresses leave `~/.ssh/known_hosts`, and the user is told.

use std::net::IpAddr;

use crate::deploy_file::Located;
use crate::session::{self, tilde};
use crate::ssh::known_hosts;
use crate::ui::Ui;

/// Remove the entries for `addresses` (at port 22 and, for another port, `[ip]:port`).
/// Returns the host names that had entries. Never fails: a file that cannot be read or
/// written is a warning (the server is made or gone either way).
pub fn forget(ips: &[IpAddr], port: u16, ui: &Ui) -> Vec<String> {
    if ips.is_empty() {
        return Vec::new();
    }
    let Some(home) = session::home_dir() else {
        ui.warn("no home folder: ~/.ssh/known_hosts was not checked for old host keys");
        return Vec::new();
    };
    let path = home.join(".ssh").join("known_hosts");
    let shown = tilde(&path, &home);
    let forms = known_hosts::host_forms(ips, port);
    match known_hosts::remove(&path, &forms) {
        Ok(r) if r.lines == 0 => Vec::new(),
        Ok(r) => {
            ui.note(&format!(
                "Removed {} old host key{} for {} from {shown} (the previous file is {shown}.old)",
                r.lines,
                if r.lines == 1 { "" } else { "s" },
                r.hosts.join(", "),
            ));
            r.hosts
        }
        Err(e) => {
            ui.warn(&format!(
                "could not remove old host keys for {} from {shown}: {}; run `ssh-keygen -R {}` before `kamal setup`",
                forms.join(", "),
                crate::error::io_reason(&e),
                forms.first().map_or("", String::as_str),
            ));
            Vec::new()
        }
    }
}

/// Kamal's `ssh.port` from the config, when there is one and it names a port.
pub fn kamal_ssh_port(kamal: &Located) -> Option<u16> {
    let Located::Found(path) = kamal else {
        return None;
    };
    let text = std::fs::read_to_string(path).ok()?;
    crate::kamal::ssh::ssh_port(&text)
}
