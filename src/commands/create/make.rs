//! Step 7 (SPEC §4): the key upload and the default firewall, side by side, then the last
//! safe point, then `POST /servers` — or, for a server pegasus made before, the pick-up
//! (no upload, no firewall change, no POST).
//!
//! A key or firewall whose POST was sent counts as made: when a signal ends the run before
//! the server's POST, the message names what is kept ("Kept: SSH key id_ed25519 (id 7),
//! firewall pegasus-kamal (id 3); a re-run uses them").

use std::collections::BTreeMap;

use super::firewall::{self, FirewallOut};
use super::key;
use super::plan::CreatePlan;
use super::preflight::joined;
use crate::cli::{CreateArgs, FirewallChoice, MANAGED_BY};
use crate::error::{Error, Result, ServerFacts};
use crate::hetzner::{Client, Created, NewServer, Server, SshKey};
use crate::process::signals;
use crate::session;
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// The server to carry on with, and what step 7 used for it.
pub struct Made {
    pub created: Created,
    /// The key on Hetzner, and whether this run uploaded it (`None`: a picked-up server
    /// whose key is not the one found here).
    pub ssh_key: Option<(SshKey, bool)>,
    /// Picked up rather than created.
    pub resumed: bool,
    pub firewall: Option<FirewallOut>,
}

/// Step 7, or the pick-up of an existing server.
pub fn server(client: &Client, args: &CreateArgs, plan: &CreatePlan, ui: &Ui) -> Result<Made> {
    match &plan.existing {
        Some(server) => Ok(pick_up(args, plan, server.clone(), ui)),
        None => create(client, args, plan, ui),
    }
}

/// A server pegasus made before (SPEC §4 step 6): nothing is uploaded, changed or posted.
fn pick_up(args: &CreateArgs, plan: &CreatePlan, server: Server, ui: &Ui) -> Made {
    let firewall = firewall::attached(&server, &plan.firewall);
    announce_pick_up(&server, ui);
    if let (FirewallChoice::Named(name), None) = (&args.firewall, &firewall) {
        ui.warn(&format!(
            "firewall '{}' is not on server {}, and pegasus does not change the firewalls of a server it picks up; attach it in the Hetzner console",
            escape(name),
            server.name
        ));
    }
    Made {
        ssh_key: plan.key_on_hetzner().cloned().map(|k| (k, false)),
        created: Created {
            server,
            actions: Vec::new(),
            recovered: false,
        },
        resumed: true,
        firewall,
    }
}

fn announce_pick_up(server: &Server, ui: &Ui) {
    let age = crate::timefmt::parse_rfc3339(server.created.raw())
        .map(|at| {
            let secs = crate::timefmt::now_unix() - at;
            format!(" {} ago", crate::timefmt::age(secs))
        })
        .unwrap_or_default();
    ui.note(&format!(
        "Server {} already exists (made by pegasus{age}); picking it up.",
        server.name
    ));
}

/// The key upload and the firewall side by side, the safe point, then the POST.
fn create(client: &Client, args: &CreateArgs, plan: &CreatePlan, ui: &Ui) -> Result<Made> {
    let readonly = |e| session::explain_readonly(e, &plan.source);
    let (key, firewall) = std::thread::scope(|s| {
        let firewall = s.spawn(|| firewall::ensure(client, &plan.firewall, ui));
        let key = key::find_or_upload(client, &plan.key, &plan.keys, ui);
        (key, joined(firewall))
    });
    // What this run made, for the words of an interruption from here on.
    let mut kept = Vec::new();
    match &key {
        Ok((k, true)) => kept.push(format!("SSH key {} (id {})", k.name, k.id)),
        Err(Error::Interrupted { kept: k, .. }) => kept.extend(k.iter().cloned()),
        _ => {}
    }
    match &firewall {
        Ok(Some(f)) if f.created => kept.push(format!("firewall {} (id {})", f.name, f.id)),
        Err(Error::Interrupted { kept: k, .. }) => kept.extend(k.iter().cloned()),
        _ => {}
    }
    let with_kept = |e: Error| match e {
        Error::Interrupted { signal, .. } => Error::Interrupted {
            signal,
            kept: kept.clone(),
        },
        e => readonly(e),
    };
    let (ssh_key, uploaded) = key.map_err(with_kept)?;
    let firewall = firewall.map_err(with_kept)?;
    let interrupted = Error::Interrupted {
        signal: 0,
        kept: kept.clone(),
    };
    signals::set_last_words(&interrupted.to_string());
    // The last safe point: a signal from here on finds the POST sent (SPEC §4 step 7).
    signals::check().map_err(with_kept)?;
    let created = post(client, args, plan, &ssh_key, &firewall, ui).map_err(readonly)?;
    Ok(Made {
        created,
        ssh_key: Some((ssh_key, uploaded)),
        resumed: false,
        firewall,
    })
}

/// `POST /servers`. From the moment it is sent, a signal's last words say that the
/// server may exist.
fn post(
    client: &Client,
    args: &CreateArgs,
    plan: &CreatePlan,
    ssh_key: &SshKey,
    firewall: &Option<FirewallOut>,
    ui: &Ui,
) -> Result<Created> {
    // Inserted one by one: `collect` into a map compiles a sort of its own (`crate::sort`).
    let mut labels = BTreeMap::new();
    for (key, value) in &args.labels {
        labels.insert(key.clone(), value.clone());
    }
    labels.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
    let new = NewServer {
        name: &args.name,
        server_type: &args.server_type,
        image: &args.image,
        location: &args.location,
        ssh_keys: vec![ssh_key.id],
        labels,
        start_after_create: true,
        firewalls: firewall::refs(firewall),
        user_data: plan.user_data.clone(),
    };
    let price = plan.priced.planned(args);
    ui.note(&format!(
        "Creating server {} ({}, {}, {}{})",
        args.name,
        escape(&args.server_type),
        escape(&args.image),
        escape(&args.location),
        price.map(|p| format!(", {p}")).unwrap_or_default()
    ));
    let may_exist = Error::Interrupted {
        signal: 0,
        kept: Vec::new(),
    }
    .about_server(ServerFacts {
        name: Untrusted::new(args.name.as_str()),
        ..ServerFacts::default()
    });
    signals::set_last_words(&format!("error: {may_exist}"));
    client.create_server(&new)
}
