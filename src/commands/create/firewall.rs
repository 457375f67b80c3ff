//! The firewall (SPEC §4 steps 6 and 7): found in the preflight, made right before the
//! create when the default one is missing, attached in `POST /servers`. An existing
//! firewall is used as it is; nothing here ever changes one.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::{FirewallChoice, MANAGED_BY};
use crate::error::{Error, Result};
use crate::hetzner::{Client, Firewall, FirewallRef, NewFirewall, Server, kamal_rules};
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// The name of the default firewall: `pegasus-kamal`, or `pegasus-kamal-<port>` for an SSH
/// port other than 22 (its rules open that port instead).
pub fn default_name(ssh_port: u16) -> String {
    match ssh_port {
        22 => "pegasus-kamal".into(),
        p => format!("pegasus-kamal-{p}"),
    }
}

/// What the preflight found.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// `--no-firewall`.
    None,
    /// Found: used as it is.
    Use(Firewall),
    /// The default firewall is missing: made in step 7.
    Make { name: String, ssh_port: u16 },
}

/// `firewall` in the `--json` output.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FirewallOut {
    pub id: u64,
    pub name: Untrusted,
    pub created: bool,
}

/// Step 6: `--firewall NAME` must exist (else the firewall names, exit 1); the default is
/// looked up.
pub fn preflight(client: &Client, choice: &FirewallChoice, ssh_port: u16) -> Result<Plan> {
    match choice {
        FirewallChoice::None => Ok(Plan::None),
        FirewallChoice::Named(name) => match client.find_firewall(name)? {
            Some(f) => Ok(Plan::Use(f)),
            None => {
                let names: Vec<String> = client
                    .list_firewalls()?
                    .into_iter()
                    .map(|f| f.name.to_string())
                    .collect();
                let have = if names.is_empty() {
                    "this project has no firewalls".to_string()
                } else {
                    format!("the firewalls are: {}", names.join(", "))
                };
                Err(Error::Failed(format!(
                    "no firewall named '{}'; {have}. Leave out --firewall to use pegasus's own ({}), or pass --no-firewall",
                    escape(name),
                    default_name(ssh_port)
                )))
            }
        },
        FirewallChoice::Default => {
            let name = default_name(ssh_port);
            Ok(match client.find_firewall(&name)? {
                Some(f) => Plan::Use(f),
                None => Plan::Make { name, ssh_port },
            })
        }
    }
}

/// Step 7, right before `POST /servers`: make the default firewall when it is missing.
/// Returns what goes into the create and into the output.
pub fn ensure(client: &Client, plan: &Plan, ui: &Ui) -> Result<Option<FirewallOut>> {
    let (firewall, created) = match plan {
        Plan::None => return Ok(None),
        Plan::Use(f) => {
            ui.note(&format!("Using firewall '{}' (id {})", f.name, f.id));
            (f.clone(), false)
        }
        Plan::Make { name, ssh_port } => {
            // (`BTreeMap::from` an array compiles a sort of its own: see `crate::sort`.)
            let mut labels = BTreeMap::new();
            labels.insert(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string());
            let new = NewFirewall {
                name: name.clone(),
                labels,
                rules: kamal_rules(*ssh_port),
            };
            // Interrupted once the POST is out: the firewall counts as made.
            let (f, created) = client.create_firewall(&new).map_err(|e| match e {
                Error::Interrupted { signal, .. } => Error::Interrupted {
                    signal,
                    kept: vec![format!("firewall {name}")],
                },
                e => e,
            })?;
            if created {
                ui.note(&format!(
                    "Made firewall '{name}' (id {}): inbound SSH ({ssh_port}), 80, 443 and ICMP",
                    f.id
                ));
            } else {
                ui.note(&format!(
                    "Firewall '{name}' was just made by another run; using it (id {})",
                    f.id
                ));
            }
            (f, created)
        }
    };
    Ok(Some(FirewallOut {
        id: firewall.id,
        name: firewall.name,
        created,
    }))
}

/// A picked-up server (no firewall change): the firewall the preflight found, when it is
/// on the server; otherwise none is reported.
pub fn attached(server: &Server, plan: &Plan) -> Option<FirewallOut> {
    let Plan::Use(f) = plan else {
        return None;
    };
    let on = server.public_net.firewalls.iter().any(|a| a.id == f.id);
    on.then(|| FirewallOut {
        id: f.id,
        name: f.name.clone(),
        created: false,
    })
}

/// `firewalls` of `POST /servers`.
pub fn refs(out: &Option<FirewallOut>) -> Vec<FirewallRef> {
    out.iter().map(|f| FirewallRef { firewall: f.id }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(default_name(22), "pegasus-kamal");
        assert_eq!(default_name(2222), "pegasus-kamal-2222");
    }
}
