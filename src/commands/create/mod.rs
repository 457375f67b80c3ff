//! `pegasus server create NAME` (SPEC §4): local checks, token, key, preflight, create (or
//! pick-up), wait, then the steps on the running server, then the output.
//!
//! This file orchestrates; each step lives in its own file: `key` (steps 2, 5, 7: the SSH
//! key), `kamal` (steps 3 and 10), `dns` (steps 6 and 10, SPEC §10), `preflight` (step 6),
//! `firewall` (steps 6 and 7),
//! `user_data` (step 1), `wait` (step 8), `ssh` (Kamal's `ssh` section; step 11, the SSH
//! wait and the login as Kamal will), and
//! `super::hostkeys` (step 9). A step returns a plain `Error`; once `POST /servers` has been
//! sent, [`run`] adds the server's facts to any error, once (`Error::about_server`), and in
//! `--json` mode still prints one object on stdout.

mod dns;
mod firewall;
mod kamal;
mod key;
mod preflight;
mod ssh;
mod user_data;
mod wait;

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ServerOut, json_line, print};
use crate::cli::{CreateArgs, MANAGED_BY};
use crate::deploy_file::{self, Plan, Report};
use crate::error::{Error, Result, ServerFacts};
use crate::hetzner::{Client, Created, FirewallRef, NewServer, Server, SshKey};
use crate::http::Endpoint;
use crate::kamal::ProjectServer;
use crate::process::signals;
use crate::session;
use crate::ui::{Ui, escape};

pub fn run(args: &CreateArgs, ui: &Ui) -> Result<()> {
    signals::install();
    signals::set_last_words("Interrupted; nothing was created");
    let mut known: Option<Known> = None;
    let result = create(args, ui, &mut known);
    let Err(err) = result else {
        return Ok(());
    };
    // The one place where a failure after the POST gets the server's facts.
    let err = match &known {
        Some(k) => err.about_server(k.facts()),
        None => err,
    };
    // (A timed-out SSH wait has printed the whole object, with its error, already.)
    let printed = known.as_ref().is_some_and(|k| k.printed);
    if args.json && matches!(err, Error::Server { .. }) && !printed {
        let out = FailedOut {
            server: match known.as_ref().and_then(|k| k.server.as_ref()) {
                Some(s) => KnownOut::Server(ServerOut::from(s)),
                None => KnownOut::Name {
                    id: known.as_ref().map(|k| k.id),
                    name: args.name.clone(),
                },
            },
            resumed: known.as_ref().is_some_and(|k| k.resumed),
            error: err.message(),
        };
        // The error still goes to stderr (by the caller) and decides the exit code.
        if let Ok(line) = json_line(&out) {
            let _ = print(&line);
        }
    }
    Err(err)
}

/// What is known about the server once the POST was sent (or an existing one picked up).
struct Known {
    name: String,
    id: u64,
    /// The latest answer about it.
    server: Option<Server>,
    resumed: bool,
    /// The `--json` object is out (the SSH wait timed out after the output).
    printed: bool,
}

impl Known {
    fn facts(&self) -> ServerFacts {
        let server = self.server.as_ref();
        ServerFacts {
            name: escape(&self.name).into_owned(),
            id: Some(self.id),
            address: server
                .and_then(Server::address)
                .map(|a| escape(&a).into_owned()),
            status: server.map(|s| escape(&s.status).into_owned()),
        }
    }

    /// The actions are done: the server runs, even if reading it again fails.
    fn mark_running(&mut self) {
        if let Some(mut server) = self.server.clone() {
            server.status = "running".into();
            self.update(&server);
        }
    }

    /// Keep the latest state, and let a second Ctrl-C (which ends the program at once)
    /// still say it.
    fn update(&mut self, server: &Server) {
        self.server = Some(server.clone());
        let interrupted = Error::Interrupted {
            signal: 0,
            detail: None,
        };
        signals::set_last_words(&format!(
            "error: {}",
            interrupted.about_server(self.facts())
        ));
    }
}

/// Everything until the server exists; then [`after_create`].
fn create(args: &CreateArgs, ui: &Ui, known: &mut Option<Known>) -> Result<()> {
    // (Steps 1–7; `known` is filled in the moment the server exists.)
    // The plan: everything that can be checked without the API, before the first request.
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let kamal = kamal::plan(args, ui)?;
    let user_data = user_data::load(args.user_data.as_deref())?;
    let access = ssh::access(args, &kamal, home.as_deref(), ui);
    let ssh_port = access.port;
    let mut dns = dns::plan(args, &kamal)?;

    // The key, and the API: the key list also proves the token; then the preflight reads.
    let (key, (client, keys, source)) =
        key::choose_and_connect(args, home.as_deref(), &endpoint, &access.keys, ui)?;
    // The Kamal mode's server list (when needed) is one more independent read.
    // So are the firewall look-up and, with --dns, the zones (step 6).
    let (pre, project, firewall_plan, zones) = std::thread::scope(|s| {
        let project = s.spawn(|| kamal::project_servers(&client, &kamal));
        let fw = s.spawn(|| firewall::preflight(&client, &args.firewall, ssh_port));
        let zones = s.spawn(|| dns::preflight(&client, &dns));
        let pre = preflight::check(&client, args, access.non_root_user(), ui);
        use preflight::joined;
        (pre, joined(project), joined(fw), joined(zones))
    });
    let (pre, project) = (pre?, project?);
    dns.targets = zones?;
    dns::warnings(&dns).iter().for_each(|w| ui.warn(w));
    signals::check()?;
    let readonly = |e| session::explain_readonly(e, &source);

    let (created, ssh_key, resumed, firewall) = match pre.existing {
        Some(server) => {
            let firewall = firewall::attached(&server, firewall_plan.ok().as_ref());
            // Pick-up (step 6): no key upload, no firewall change, no second POST.
            announce_pick_up(&server, ui);
            if let (crate::cli::FirewallChoice::Named(name), None) = (&args.firewall, &firewall) {
                ui.warn(&format!(
                    "firewall '{}' is not on server {}, and pegasus does not change the firewalls of a server it picks up; attach it in the Hetzner console",
                    escape(name),
                    escape(&server.name)
                ));
            }
            let found = keys.iter().find(|k| key.matches(&k.public_key)).cloned();
            let created = Created {
                server,
                actions: Vec::new(),
                recovered: false,
            };
            (created, found.map(|k| (k, false)), true, firewall)
        }
        None => {
            let firewall_plan = firewall_plan?;
            let (ssh_key, uploaded) =
                key::find_or_upload(&client, &key, &keys, ui).map_err(readonly)?;
            let detail = uploaded.then(|| {
                format!(
                    "the SSH key '{}' was uploaded to Hetzner (the next run uses it)",
                    escape(&ssh_key.name)
                )
            });
            if let Some(d) = &detail {
                signals::set_last_words(&format!("Interrupted; no server was created, but {d}"));
            }
            signals::check().map_err(|e| match e {
                Error::Interrupted { signal, .. } => Error::Interrupted { signal, detail },
                e => e,
            })?;
            let firewall = firewall::ensure(&client, &firewall_plan, ui).map_err(readonly)?;
            let extras = (firewall::refs(&firewall), user_data);
            let created = post(&client, args, &ssh_key, extras, ui).map_err(readonly)?;
            (created, Some((ssh_key, uploaded)), false, firewall)
        }
    };
    // The server exists: from here on, `run` adds its facts to any error.
    let known = known.insert(Known {
        name: args.name.clone(),
        id: created.server.id,
        server: None,
        resumed,
        printed: false,
    });
    known.update(&created.server);
    after_create(
        &client,
        args,
        ui,
        created,
        ssh_key,
        (
            &kamal,
            &project,
            &Ready {
                access,
                key,
                firewall,
            },
            &dns,
        ),
        known,
    )
}

/// What the steps on the running server need for "ready for Kamal" (issues 10, 19).
struct Ready {
    /// How Kamal gets in (user, port, keys, jump host).
    access: ssh::Access,
    /// The key the server was given (step 2).
    key: crate::ssh::keys::PublicKey,
    firewall: Option<firewall::FirewallOut>,
}

fn announce_pick_up(server: &Server, ui: &Ui) {
    let age = crate::timefmt::parse_rfc3339(&server.created)
        .map(|at| {
            let secs = crate::timefmt::now_unix() - at;
            format!(" {} ago", crate::timefmt::age(secs))
        })
        .unwrap_or_default();
    ui.note(&format!(
        "Server {} already exists (made by pegasus{age}); picking it up.",
        escape(&server.name)
    ));
}

/// Step 7's `POST /servers`. From the moment it is sent, a signal's last words say that
/// the server may exist.
fn post(
    client: &Client,
    args: &CreateArgs,
    ssh_key: &SshKey,
    (firewalls, user_data): (Vec<FirewallRef>, Option<String>),
    ui: &Ui,
) -> Result<Created> {
    let mut labels: BTreeMap<String, String> = args.labels.iter().cloned().collect();
    labels.insert(MANAGED_BY.0.into(), MANAGED_BY.1.into());
    let new = NewServer {
        name: &args.name,
        server_type: &args.server_type,
        image: &args.image,
        location: &args.location,
        ssh_keys: vec![ssh_key.id],
        labels,
        start_after_create: true,
        firewalls,
        user_data,
    };
    ui.note(&format!(
        "Creating server {} ({}, {}, {})",
        args.name,
        escape(&args.server_type),
        escape(&args.image),
        escape(&args.location)
    ));
    let may_exist = Error::Interrupted {
        signal: 0,
        detail: None,
    }
    .about_server(ServerFacts {
        name: args.name.clone(),
        ..ServerFacts::default()
    });
    signals::set_last_words(&format!("error: {may_exist}"));
    client.create_server(&new)
}

/// Steps 8–12, on a server that exists. Every error from here on gets the facts in
/// [`run`]. The order: wait until running → known hosts → Kamal edit → DNS → SSH wait →
/// output (SPEC §4: the config is consistent before the long SSH wait).
fn after_create(
    client: &Client,
    args: &CreateArgs,
    ui: &Ui,
    mut created: Created,
    ssh_key: Option<(SshKey, bool)>,
    (kamal, project, ready, dns): (&Plan, &[ProjectServer], &Ready, &dns::Plan),
    known: &mut Known,
) -> Result<()> {
    signals::check()?;
    if known.resumed {
        // A picked-up server: wait for whatever still runs on it.
        created.actions = client.running_actions(created.server.id)?;
    }
    let server = wait::until_running(client, &created, &args.name, ui, &mut || {
        known.mark_running()
    })?;
    known.update(&server);
    let Some(address) = server.address() else {
        return Err(Error::Failed(format!(
            "server {} is running but has no public IP address",
            escape(&server.name)
        )));
    };

    // Step 9, known hosts.
    let removed = super::hostkeys::forget(&server.addresses(), ready.access.port, ui);
    // Step 10, the Kamal edit (issue 11) and DNS (issue 14).
    signals::check()?;
    let report = kamal::apply(kamal, &address, project, args.json, ui);
    let records = dns::apply(
        client,
        dns,
        &server,
        dns::kamal_mode(args, &report, kamal.web.as_ref()),
        ui,
    )?;
    // Step 11, the wait until Kamal can work: the banner, the login.
    signals::check()?;
    let suspects = ssh::Suspects {
        firewall: ready.firewall.as_ref().map(|f| f.name.as_str()),
        user_data: args.user_data.as_deref(),
    };
    let target = ssh::Target {
        name: &server.name,
        address: &address,
        key: &ready.key,
    };
    let readiness = ssh::wait(&target, &ready.access, args.ssh_timeout, &suspects, ui)?;

    // Step 12, the output.
    let ssh = ready.access.command(&address);
    if args.json {
        let out = JsonOut {
            server: ServerOut::from(&server),
            resumed: known.resumed,
            ssh,
            ssh_ready: readiness.ready,
            ssh_key: ssh_key.map(|(k, uploaded)| KeyOut {
                id: k.id,
                name: k.name,
                uploaded,
            }),
            firewall: ready.firewall.clone(),
            known_hosts: KnownHostsOut { removed },
            login: readiness.login.clone(),
            kamal: report,
            dns: records,
            // SPEC §4: a failure after the POST still prints one object, plus "error".
            error: readiness.failure.as_ref().map(ToString::to_string),
        };
        print(&json_line(&out)?)?;
        known.printed = true;
    } else {
        let facts = Facts {
            firewall: ready.firewall.as_ref(),
            ssh_ready: readiness.ready,
            login: readiness.login.as_ref(),
            failed: readiness.failure.is_some(),
            dns: dns::human_lines(dns, &records, &server),
        };
        print(&human(&server, &ssh, &report, &address, &facts, ui))?;
    }
    readiness.failure.map_or(Ok(()), Err)
}

#[derive(Serialize)]
struct JsonOut {
    server: ServerOut,
    resumed: bool,
    ssh: String,
    ssh_ready: Option<bool>,
    ssh_key: Option<KeyOut>,
    firewall: Option<firewall::FirewallOut>,
    known_hosts: KnownHostsOut,
    login: Option<ssh::LoginOut>,
    kamal: Report,
    dns: Vec<dns::RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct KnownHostsOut {
    removed: Vec<String>,
}

/// The readiness facts of the human summary.
struct Facts<'a> {
    firewall: Option<&'a firewall::FirewallOut>,
    ssh_ready: Option<bool>,
    login: Option<&'a ssh::LoginOut>,
    /// Step 11 failed (the error follows the summary).
    failed: bool,
    /// The records set, or still to make (SPEC §10).
    dns: Vec<String>,
}

/// `--json` after a failure once the server exists: what is known, and the error.
#[derive(Serialize)]
struct FailedOut {
    server: KnownOut,
    resumed: bool,
    error: String,
}

/// The server as far as known: the whole object, or (when the create got no clear
/// answer and the look-up failed) only its name.
#[derive(Serialize)]
#[serde(untagged)]
enum KnownOut {
    Server(ServerOut),
    Name { id: Option<u64>, name: String },
}

#[derive(Serialize)]
struct KeyOut {
    id: u64,
    name: String,
    uploaded: bool,
}

fn human(
    server: &Server,
    ssh: &str,
    report: &Report,
    address: &str,
    facts: &Facts,
    ui: &Ui,
) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let firewall = match facts.firewall {
        Some(f) if f.created => format!("{} (made now)", escape(&f.name)),
        Some(f) => escape(&f.name).into_owned(),
        None => "none".into(),
    };
    let ssh_state = match facts.ssh_ready {
        Some(true) => "answers",
        Some(false) => "did not answer in time",
        None => "not checked",
    };
    let login = facts
        .login
        .map_or_else(|| "not checked".to_string(), ssh::LoginOut::row);
    let mut out = format!(
        "Server {} is running.\n  type      {}\n  image     {}\n  location  {}\n  IPv4      {}\n  IPv6      {}\n  firewall  {firewall}\n  SSH       {ssh_state}\n  login     {login}\n\n  {}\n",
        escape(&server.name),
        escape(server.type_name()),
        escape(&server.image_name()),
        escape(server.location_name()),
        escape(&dash(server.ipv4().map(str::to_string))),
        dash(server.ipv6()),
        escape(ssh),
    );
    let paint = |t: &str, c: &str| ui.paint_out(t, c);
    let lines = deploy_file::human_lines(report, address, &paint);
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
        out.push_str("\nNext: kamal setup\n");
    }
    out
}
