//! `pegasus server create NAME` (SPEC §4): local checks, token, key, preflight, create (or
//! pick-up), wait, then the steps on the running server, then the output.
//!
//! This file orchestrates; each step lives in its own file, and what steps 1–6 decided
//! travels as one [`plan::CreatePlan`]:
//! - `plan` (steps 1–6 as one value), `user_data` (step 1), `key` (steps 2, 5, 7: the SSH
//!   key), `kamal` (steps 3 and 10), `preflight` (step 6), `firewall` (steps 6 and 7),
//!   `dns` (steps 6 and 12, SPEC §10);
//! - `make` (step 7: key, firewall, the safe point, `POST /servers`, or the pick-up),
//!   `wait` (step 8), `super::hostkeys` (step 9), `ssh` (the port; step 11), `output`
//!   (step 13).
//!
//! A step returns a plain `Error`; once `POST /servers` has been sent, [`run`] adds the
//! server's facts to any error, once (`Error::about_server`), and in `--json` mode still
//! prints one object on stdout.

mod dns;
mod firewall;
mod kamal;
mod key;
mod make;
mod output;
mod plan;
mod preflight;
mod ssh;
mod user_data;
mod wait;

use super::{ServerOut, json_line, print};
use crate::cli::CreateArgs;
use crate::error::{Error, Result, ServerFacts};
use crate::hetzner::{Client, Server, ServerStatus};
use crate::process::signals;
use crate::text::Untrusted;
use crate::ui::Ui;
use make::Made;
use output::{Facts, FailedOut, JsonOut, KeyOut, KnownHostsOut, KnownOut};
use plan::{CreatePlan, Local};

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
        if let Ok(line) = json_line(&failed_out(args, known.as_ref(), &err)) {
            // The error still goes to stderr (by the caller) and decides the exit code.
            let _ = print(&line);
        }
    }
    Err(err)
}

fn failed_out(args: &CreateArgs, known: Option<&Known>, err: &Error) -> FailedOut {
    FailedOut {
        server: match known.and_then(|k| k.server.as_ref()) {
            Some(s) => KnownOut::Server(ServerOut::from(s)),
            None => KnownOut::Name {
                id: known.map(|k| k.id),
                name: args.name.clone(),
            },
        },
        resumed: known.is_some_and(|k| k.resumed),
        error: err.message(),
    }
}

/// What is known about the server once the POST was sent (or an existing one picked up).
struct Known {
    name: String,
    id: u64,
    /// The latest answer about it.
    server: Option<Server>,
    resumed: bool,
    json: bool,
    /// The `--json` object is out (the SSH wait timed out after the output).
    printed: bool,
}

impl Known {
    fn new(args: &CreateArgs, made: &Made) -> Known {
        let mut known = Known {
            name: args.name.clone(),
            id: made.created.server.id,
            server: None,
            resumed: made.resumed,
            json: args.json,
            printed: false,
        };
        known.update(&made.created.server);
        known
    }

    fn facts(&self) -> ServerFacts {
        let server = self.server.as_ref();
        ServerFacts {
            name: Untrusted::new(self.name.as_str()),
            id: Some(self.id),
            address: server.and_then(Server::address),
            status: server.map(|s| Untrusted::new(s.status.word())),
        }
    }

    /// The actions are done: the server runs, even if reading it again fails.
    fn mark_running(&mut self) {
        if let Some(mut server) = self.server.clone() {
            server.status = ServerStatus::Running;
            self.update(&server);
        }
    }

    /// Keep the latest state, and let a second signal (which ends the program at once)
    /// still say it, on stderr and, with `--json`, as the one object on stdout.
    fn update(&mut self, server: &Server) {
        self.server = Some(server.clone());
        let interrupted = Error::Interrupted {
            signal: 0,
            kept: Vec::new(),
        }
        .about_server(self.facts());
        signals::set_last_words(&format!("error: {interrupted}"));
        if self.json {
            let out = FailedOut {
                server: KnownOut::Server(ServerOut::from(server)),
                resumed: self.resumed,
                error: "Interrupted by a second signal".into(),
            };
            if let Ok(line) = json_line(&out) {
                signals::set_last_json(&line);
            }
        }
    }
}

/// Everything until the server exists; then [`after_create`].
fn create(args: &CreateArgs, ui: &Ui, known: &mut Option<Known>) -> Result<()> {
    // Steps 1–3: everything that can be checked without the API.
    let local = Local::read(args, ui)?;
    // Steps 2, 4, 5: the key, and the client whose token the key listing proved.
    let (key, (client, keys, source)) =
        key::choose_and_connect(args, local.home.as_deref(), &local.endpoint, ui)?;
    // Step 6: the preflight reads, side by side.
    let plan = CreatePlan::preflight(&client, args, local, (key, keys, source), ui)?;
    signals::check()?;
    // Step 7, or the pick-up. From here on, `run` adds the server's facts to any error.
    let made = make::server(&client, args, &plan, ui)?;
    let known = known.insert(Known::new(args, &made));
    after_create(&client, args, &plan, made, known, ui)
}

/// Steps 8–13, on a server that exists. Every error from here on gets the facts in
/// [`run`]. The order: wait until running → known hosts → Kamal edit → ready for Kamal →
/// DNS → output (SPEC §4: the config is consistent before the long wait, and DNS moves
/// only once the server is ready).
fn after_create(
    client: &Client,
    args: &CreateArgs,
    plan: &CreatePlan,
    made: Made,
    known: &mut Known,
    ui: &Ui,
) -> Result<()> {
    signals::check()?;
    let Made {
        mut created,
        ssh_key,
        firewall,
        ..
    } = made;
    if known.resumed {
        // A picked-up server: wait for whatever still runs on it.
        created.actions = client.running_actions(created.server.id)?;
    }
    // Step 8.
    let server = wait::until_running(client, &created, &args.name, ui, &mut || {
        known.mark_running()
    })?;
    known.update(&server);
    let Some(address) = server.address() else {
        return Err(Error::Failed(format!(
            "server {} is running but has no public IP address",
            server.name
        )));
    };

    // Step 9, known hosts.
    let removed = super::hostkeys::forget(&server.addresses(), plan.ssh.port, ui);
    // Step 10, the Kamal edit.
    signals::check()?;
    let report = kamal::apply(&plan.kamal, address, &plan.project, args.json, ui);
    // Step 11, ready for Kamal.
    signals::check()?;
    let suspects = ssh::Suspects {
        firewall: firewall.as_ref().map(|f| &f.name),
        user_data: args.user_data.as_deref(),
        port_source: plan.ssh.source,
    };
    let readiness = ssh::wait(
        &server.name,
        address,
        plan.ssh.port,
        args.ssh_timeout,
        &suspects,
        ui,
    )?;
    // Step 12, DNS: only once the server is ready (or the wait was skipped).
    let records = match readiness.failure {
        None => dns::apply(
            client,
            &plan.dns,
            &server,
            dns::kamal_mode(args, &report, plan.kamal.web.as_ref()),
            ui,
        )?,
        Some(_) => Vec::new(),
    };

    // Step 13, the output.
    let ssh = match plan.ssh.port {
        22 => format!("ssh root@{address}"),
        p => format!("ssh -p {p} root@{address}"),
    };
    if args.json {
        let out = JsonOut {
            server: ServerOut::from(&server),
            resumed: known.resumed,
            ssh,
            ssh_ready: readiness.ready,
            ssh_key: ssh_key.map(KeyOut::from),
            firewall: firewall.clone(),
            known_hosts: KnownHostsOut { removed },
            kamal: report,
            dns: records,
            // SPEC §4: a failure after the POST still prints one object, plus "error".
            error: readiness.failure.as_ref().map(ToString::to_string),
        };
        print(&json_line(&out)?)?;
        known.printed = true;
    } else {
        let facts = Facts {
            firewall: firewall.as_ref(),
            ssh_ready: readiness.ready,
            dns: dns::human_lines(&plan.dns, &records, &server),
        };
        print(&output::human(&server, &ssh, &report, address, &facts, ui))?;
    }
    readiness.failure.map_or(Ok(()), Err)
}
