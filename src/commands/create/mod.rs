//! `pegasus server create NAME` (SPEC §4): local checks, token, key, preflight, create (or
//! pick-up), wait, then the steps on the running server, then the output.
//!
//! This file orchestrates; each step lives in its own file, and what steps 1–6 decided
//! travels as one [`plan::CreatePlan`]:
//! - `plan` (steps 1–6 as one value), `user_data` (step 1), `key` (steps 2, 5, 7: the SSH
//!   key), `kamal` (steps 3 and 10), `preflight` (step 6), `firewall` (steps 6 and 7),
//!   `dns` (steps 6 and 12, SPEC §10), `price` (steps 6 and 13);
//! - `make` (step 7: key, firewall, the safe point, `POST /servers`, or the pick-up),
//!   `wait` (step 8), `super::hostkeys` (step 9), `ssh` (Kamal's `ssh` section; step 11,
//!   the banner and the login as Kamal will), `output` (step 13).
//!
//! A step returns a plain `Error`; once `POST /servers` has been sent, [`run`] adds the
//! server's facts to any error, once (`Error::about_server`), and in `--json` mode still
//! prints one object on stdout.

mod dns;
mod dry_run;
mod firewall;
mod kamal;
mod key;
mod make;
mod output;
mod plan;
mod preflight;
mod price;
mod ssh;
mod user_data;
mod wait;

use super::{ServerOut, json_line, print};
use crate::cli::{CreateArgs, replay};
use crate::deploy_file::{self, Located, Report};
use crate::error::{Error, Result, ServerFacts, Ways};
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
    let mut ways: Option<Ways> = None;
    let result = create(args, ui, &mut known, &mut ways);
    let Err(err) = result else {
        return Ok(());
    };
    // The one place where a failure after the POST gets the server's facts, with the
    // commands that continue or undo this run.
    let err = match &known {
        Some(k) => err.about_server(k.facts()),
        None => err,
    };
    let err = match &ways {
        Some(w) => err.with_ways(w),
        None => err,
    };
    // (A timed-out SSH wait has printed the whole object, with its error, already.)
    let printed = known.as_ref().is_some_and(|k| k.printed);
    if args.json && matches!(err, Error::Server { .. }) && !printed {
        if let Ok(line) = json_line(&failed_out(args, known.as_ref(), &err)) {
            // The error still goes to stderr (by the caller) and decides the exit code.
            print_json(&line);
        }
    }
    Err(err)
}

/// The one `--json` object, written once: a second signal meanwhile neither cuts it short
/// nor writes its own (SPEC §8). A closed stdout is nobody's loss.
fn print_json(line: &str) {
    let _whole = signals::critical();
    if signals::claim_stdout() {
        let _ = print(line);
    }
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

/// The two commands printed with the facts (SPEC §4): they repeat this run's options and
/// name the Kamal file it used, also when it was found by searching.
fn ways(args: &CreateArgs, kamal: &Located, dns_written: bool) -> Ways {
    let used = match kamal {
        Located::Found(path) => Some(path.as_path()),
        _ => None,
    };
    let cwd = std::env::current_dir().ok();
    Ways {
        pick_up: Some(replay::pick_up_command(args, used, cwd.as_deref())),
        remove: replay::destroy_command(args, used, cwd.as_deref(), dns_written),
        remove_note: None,
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
    /// What this run did to the Kamal file, DNS and `known_hosts`, in words.
    kamal: Option<String>,
    dns: Option<String>,
    host_key: Option<String>,
    ways: Ways,
}

impl Known {
    fn new(args: &CreateArgs, made: &Made, ways: &Ways) -> Known {
        let mut known = Known {
            name: args.name.clone(),
            id: made.created.server.id,
            server: None,
            resumed: made.resumed,
            json: args.json,
            printed: false,
            kamal: None,
            dns: args
                .dns
                .then(|| "DNS records not set yet (the pick-up command sets them)".into()),
            host_key: None,
            ways: ways.clone(),
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
            done: [&self.kamal, &self.dns, &self.host_key]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            ways: Some(self.ways.clone()),
        }
    }

    /// The Kamal step is done: say what it did, and what `destroy` would do to it.
    fn kamal_done(&mut self, report: &Report) {
        let path = report.path.as_deref().map(crate::text::escape);
        self.kamal = match (&report.status, path) {
            (deploy_file::Status::Updated, Some(p)) => Some(format!("{p} now points at it")),
            (deploy_file::Status::Unchanged, Some(p)) => Some(format!("{p} already pointed at it")),
            (deploy_file::Status::Manual | deploy_file::Status::Error, Some(p)) => {
                Some(format!("{p} was not changed"))
            }
            _ => None,
        };
        // A replaced real host: destroy puts the placeholder there, not the old host.
        if let (deploy_file::Status::Updated, Some(old)) = (&report.status, &report.replaced) {
            if !crate::kamal::is_placeholder(old) {
                let lines: Vec<String> =
                    report.changes.iter().map(|c| c.line.to_string()).collect();
                self.ways.remove_note = Some(format!(
                    "destroy writes <IP-ADDRESS> where the file held {} (line{} {}); putting {} back there returns to the old setup",
                    crate::text::escape(old),
                    if lines.len() == 1 { "" } else { "s" },
                    lines.join(", "),
                    crate::text::escape(old),
                ));
            }
        }
        self.refresh();
    }

    /// The DNS step wrote records: destroy removes them with `--dns`.
    fn dns_done(&mut self, args: &CreateArgs, kamal: &Located, what: String) {
        self.dns = Some(what);
        let note = self.ways.remove_note.take();
        self.ways = ways(args, kamal, true);
        self.ways.remove_note = note;
        self.refresh();
    }

    fn refresh(&mut self) {
        if let Some(server) = self.server.clone() {
            self.update(&server);
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
fn create(
    args: &CreateArgs,
    ui: &Ui,
    known: &mut Option<Known>,
    ways_out: &mut Option<Ways>,
) -> Result<()> {
    // Steps 1–3: everything that can be checked without the API.
    let local = Local::read(args, ui)?;
    let ways = ways_out
        .insert(ways(args, &local.kamal.located, false))
        .clone();
    // Steps 2, 4, 5: the key, and the client whose token the key listing proved.
    let (key, (client, keys, source)) = key::choose_and_connect(
        args,
        local.home.as_deref(),
        &local.endpoint,
        &local.ssh.keys,
        ui,
    )?;
    // Step 6: the preflight reads, side by side.
    let plan = CreatePlan::preflight(&client, args, local, (key, keys, source), ui)?;
    signals::check()?;
    if args.dry_run {
        return dry_run::show(args, &plan, ui);
    }
    // Step 7, or the pick-up. From here on, `run` adds the server's facts to any error.
    let made = make::server(&client, args, &plan, ui)?;
    let known = known.insert(Known::new(args, &made, &ways));
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
    let running = wait::until_running(client, &created, &args.name, ui, &mut || {
        known.mark_running()
    })?;
    let server = match running {
        wait::Running::Server(server) => *server,
        wait::Running::Failed(err) => {
            // SPEC §4 step 8: only the destroy command is printed.
            known.ways.pick_up = None;
            return Err(err);
        }
    };
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
    known.kamal_done(&report);
    // Step 11, ready for Kamal.
    signals::check()?;
    let suspects = ssh::Suspects {
        firewall: firewall.as_ref().map(|f| &f.name),
        user_data: args.user_data.as_deref(),
    };
    let target = ssh::Target {
        name: &server.name,
        address,
        key: &plan.key,
    };
    let readiness = ssh::wait(&target, &plan.ssh, args.ssh_timeout, &suspects, ui)?;
    // Step 12, DNS: only once the server is ready (or the wait was skipped).
    // DNS follows the Kamal decision: none when the file, read again, no longer gave the
    // plan the preflight checked.
    let applied = match (&readiness.failure, &report.no_dns) {
        (None, None) => dns::apply(client, &plan.dns, &server, ui)?,
        (_, Some(why)) if plan.dns.dns => {
            ui.warn(&format!(
                "{}; no DNS record was written",
                crate::text::escape(why)
            ));
            dns::Applied::default()
        }
        _ => dns::Applied::default(),
    };
    if applied.wrote() {
        known.dns_done(args, &plan.kamal.located, "DNS records set".into());
    }
    let dns_failure = applied.skipped.then(|| {
        Error::Failed(
            "a DNS record set changed after pegasus read it, so it was left alone (skipped \
             above); look at it in the Hetzner console, then run the same command again"
                .into(),
        )
    });
    let mut records = applied.records;
    if readiness.failure.is_none() {
        records.extend(dns::records_todo(&plan.dns, &server));
    }

    // Step 13, the output.
    let ssh = plan.ssh.command(address);
    if args.json {
        let out = JsonOut {
            server: ServerOut::from(&server),
            resumed: known.resumed,
            ssh,
            ssh_ready: readiness.ready,
            ssh_key: ssh_key.map(KeyOut::from),
            firewall: firewall.clone(),
            known_hosts: KnownHostsOut { removed },
            login: readiness.login.clone(),
            kamal: report,
            dns: records,
            // SPEC §4: a failure after the POST still prints one object, plus "error".
            error: readiness
                .failure
                .as_ref()
                .or(dns_failure.as_ref())
                .map(ToString::to_string),
        };
        print_json(&json_line(&out)?);
        known.printed = true;
    } else {
        let facts = Facts {
            price: plan.priced.of(&server),
            firewall: firewall.as_ref(),
            ssh_ready: readiness.ready,
            login: readiness.login.as_ref(),
            failed: readiness.failure.is_some(),
            // A server that joins another role (--role) does not serve the proxy names.
            dns: if args.role.is_some() {
                Vec::new()
            } else {
                dns::human_lines(&plan.dns, &records, &server)
            },
        };
        print(&output::human(&server, &ssh, &report, address, &facts, ui))?;
    }
    match readiness.failure.or(dns_failure) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
