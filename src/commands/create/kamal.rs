//! The Kamal steps of `create`: step 3 (find and read the config, refuse what cannot work,
//! before any API call), the project's server list when the mode depends on it and
//! Kamal's own rules on the planned edit (step 6, before anything is created), and step 10
//! (the edit, and in `--json` mode the stderr line saying the file changed).

use std::net::IpAddr;

use crate::cli::CreateArgs;
use crate::deploy_file::{self, Plan, Report};
use crate::error::Result;
use crate::hetzner::{Client, Server};
use crate::kamal::ProjectServer;
use crate::ui::{Ui, escape};

/// Step 3: the plan, with its notes and warnings shown on stderr.
pub fn plan(args: &CreateArgs, ui: &Ui) -> Result<Plan> {
    let plan = deploy_file::plan(&args.kamal, args.mode, args.role.as_deref())?;
    for note in &plan.notes {
        ui.note(&escape(note));
    }
    for warning in &plan.warnings {
        ui.warn(&escape(warning));
    }
    Ok(plan)
}

/// Step 6, only when the mode depends on it (one web host that is an address, no flag):
/// the project's servers and their addresses. Otherwise no request is made.
///
/// With `--dns` they are read too (in the same batch): a replaced host that is a server
/// of the project has two addresses whose records are not live traffic (SPEC §10).
pub fn project_servers(client: &Client, plan: &Plan, dns: bool) -> Result<Vec<ProjectServer>> {
    if !plan.needs_project() && !dns {
        return Ok(Vec::new());
    }
    Ok(client
        .list_servers()?
        .into_iter()
        .map(|s| ProjectServer {
            addresses: [
                s.ipv4().map(|a| a.to_string()),
                s.public_net
                    .ipv6
                    .map(|b| format!("{}/{}", b.network, b.prefix)),
            ]
            .into_iter()
            .flatten()
            .collect(),
            // Shown in messages: the escaped form.
            name: s.name.to_string(),
        })
        .collect())
}

/// Step 6, once the project's servers are known and before any key upload, firewall or
/// server: the planned edit must give a config Kamal accepts (its one-host rule for
/// automatic HTTPS), else exit 1 with the ways on. `existing`: a server this run picks up.
pub fn preflight(
    plan: &mut Plan,
    project: &[ProjectServer],
    existing: Option<&Server>,
) -> Result<()> {
    let address = existing.and_then(Server::address).map(|a| a.to_string());
    deploy_file::preflight(plan, project, address.as_deref())
}

/// Step 10: edit the file; in `--json` mode say on stderr that it changed.
pub fn apply(
    plan: &Plan,
    address: IpAddr,
    project: &[ProjectServer],
    json: bool,
    ui: &Ui,
) -> Report {
    let report = deploy_file::apply(plan, &address.to_string(), project);
    if json {
        for line in deploy_file::stderr_lines(&report) {
            ui.note(&line);
        }
    }
    report
}
