//! `pegasus server destroy NAME...` (SPEC §5): look every name up first; read what the
//! Kamal config and, with `--dns`, the proxy names' record sets will lose (a config pegasus
//! cannot edit stops everything here); show it and confirm once; delete side by side and
//! wait until each is gone; then take the deleted servers' addresses out of the record
//! sets, make the config forget them in one write, and only then drop their host keys
//! from `known_hosts`.
//!
//! The deletes run on scoped threads, each with its own client; the `Ui` (it is not
//! `Sync`) stays on this thread, which shows what the threads report over a channel.

mod dns;

use std::net::IpAddr;
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;

use super::{ServerOut, json_line, print, step_words, unknown_names};
use crate::cli::DestroyArgs;
use crate::credentials::Source;
use crate::deploy_file::{self, Forgotten, KamalOut, Located};
use crate::error::{Error, Result};
use crate::hetzner::{Client, Server, Waited};
use crate::http::{Endpoint, Observer};
use crate::session;
use crate::text::{Untrusted, escape};
use crate::timefmt;
use crate::ui::Ui;

pub fn run(args: &DestroyArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let kamal = deploy_file::locate(&args.kamal)?;
    let proxy_names = dns::names(args, &kamal)?;
    let home = session::home_dir();
    let names: Vec<&str> = args.names.iter().map(String::as_str).collect();
    let (client, found, source) =
        session::connect(ui, &endpoint, home.as_deref(), &|c| lookup(c, &names))?;

    // Every name first: one unknown name and nothing is deleted.
    let unknown: Vec<&str> = names
        .iter()
        .zip(&found)
        .filter(|(_, s)| s.is_none())
        .map(|(n, _)| *n)
        .collect();
    if !unknown.is_empty() {
        let mut msg = unknown_names(&client, &unknown)?;
        if names.len() > 1 {
            msg.push_str("; nothing was deleted");
        }
        return Err(Error::Failed(msg));
    }
    let servers: Vec<Server> = found.into_iter().flatten().collect();
    for s in &servers {
        ui.note(&describe(s));
    }
    if let Some(s) = servers.iter().find(|s| s.protection.delete) {
        let mut err = protected(&s.name, "delete protection is enabled");
        if servers.len() > 1 {
            err = Error::Failed(format!("{err}; nothing was deleted"));
        }
        return Err(err);
    }

    // What the config and the DNS will lose, read before anything is deleted.
    let all: Vec<IpAddr> = servers.iter().flat_map(Server::addresses).collect();
    let who = who(&servers);
    let preview = deploy_file::preview(&kamal, &args.kamal, &all, &who)?;
    let dns_plan = match &proxy_names {
        Some(names) => Some(dns::preflight(&client, names, &servers)?),
        None => None,
    };
    let paint = |text: &str, code: &str| ui.paint_err(text, code);
    for line in preview.human_lines(true, &who, &paint) {
        ui.note(&line);
    }
    if let Some(plan) = &dns_plan {
        for line in plan.preview_lines(&servers) {
            ui.note(&line);
        }
    }

    confirm(args, &servers, ui)?;

    let outcomes = delete_all(&client, &servers, &source, ui);
    let deleted: Vec<usize> = (0..servers.len())
        .filter(|i| outcomes.get(*i).is_some_and(Result::is_ok))
        .collect();
    let gone: Vec<IpAddr> = deleted
        .iter()
        .flat_map(|i| servers[*i].addresses())
        .collect();

    // DNS first, then the config, then the host keys (SPEC §5).
    let (records, dns_error) = match &dns_plan {
        Some(plan) if !deleted.is_empty() => dns::apply(&client, plan, &servers, &deleted, ui),
        _ => (Vec::new(), None),
    };
    let forgotten = deploy_file::forget(&kamal, &args.kamal, &gone);
    let kept = forget_host_keys(&servers, &deleted, &forgotten, &kamal, ui);

    let mut out = String::new();
    if args.json {
        for (i, (server, outcome)) in servers.iter().zip(&outcomes).enumerate() {
            let mine: Vec<&dns::RecordOut> = records.iter().filter(|r| r.server == i).collect();
            out.push_str(&json_line(&DestroyOut {
                server: ServerOut::from(server),
                deleted: outcome.is_ok(),
                kamal: forgotten.for_server(&server.addresses()),
                dns: mine,
                error: outcome.as_ref().err().map(ToString::to_string),
            })?);
        }
        for line in forgotten.stderr_lines() {
            ui.note(&line);
        }
    } else {
        out = human(&servers, &outcomes, &forgotten, &records, &kept, ui);
    }
    print(&out)?;

    let mut failures: Vec<Error> = outcomes.into_iter().filter_map(Result::err).collect();
    failures.extend(dns_error);
    if let Some(e) = forgotten.failure() {
        failures.push(e);
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        _ => Err(Error::Failed(
            failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
        )),
    }
}

/// `web1`, or `web1 and web2`, or `3 servers (a, b, c)`: for sentences.
fn who(servers: &[Server]) -> String {
    let names: Vec<String> = servers.iter().map(|s| s.name.to_string()).collect();
    match names.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        many => format!("{} servers ({})", many.len(), many.join(", ")),
    }
}

/// The host keys of the deleted servers leave `~/.ssh/known_hosts`, but only for the
/// addresses the config no longer names (SPEC §5): a key that stays makes Kamal refuse
/// whoever gets the address next. Returns what was kept and why, for the output.
fn forget_host_keys(
    servers: &[Server],
    deleted: &[usize],
    forgotten: &Forgotten,
    kamal: &Located,
    ui: &Ui,
) -> Vec<String> {
    let port = super::hostkeys::kamal_ssh_port(kamal).unwrap_or(22);
    let mut kept = Vec::new();
    for server in deleted.iter().filter_map(|i| servers.get(*i)) {
        let (named, free): (Vec<IpAddr>, Vec<IpAddr>) = server
            .addresses()
            .into_iter()
            .partition(|a| forgotten.still_names(*a));
        super::hostkeys::forget(&free, port, ui);
        if named.is_empty() {
            continue;
        }
        let list: Vec<String> = named.iter().map(ToString::to_string).collect();
        let why = match forgotten.status {
            deploy_file::Status::Skipped => {
                "--no-kamal: the Kamal config was not read, so it may still name it".to_string()
            }
            _ => format!(
                "{} still names it",
                escape(
                    &forgotten
                        .path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                )
            ),
        };
        kept.push(format!(
            "The host keys for {} ({}) stay in ~/.ssh/known_hosts ({why}); Kamal will refuse whatever server gets that address next instead of trusting it.",
            list.join(", "),
            server.name
        ));
    }
    kept
}

/// Each name's server, in order (`None`: no such server).
fn lookup(client: &Client, names: &[&str]) -> Result<Vec<Option<Server>>> {
    names.iter().map(|n| client.find_server(n)).collect()
}

fn describe(s: &Server) -> String {
    let age = timefmt::parse_rfc3339(s.created.raw())
        .map(|t| format!(", created {} ago", timefmt::age(timefmt::now_unix() - t)))
        .unwrap_or_default();
    let ips = s.addresses();
    let ips = if ips.is_empty() {
        "no public IP".to_string()
    } else {
        ips.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "Server {} (id {}): {} in {}, {ips}{age}, status {}",
        s.name,
        s.id,
        s.type_name(),
        s.location_name(),
        s.status
    )
}

fn protected(name: &Untrusted, message: &str) -> Error {
    Error::Failed(format!(
        "server {name} cannot be deleted: {} (protected). Lift the protection in the Hetzner \
         console (the server → Protection → Delete protection off) or with \
         `hcloud server disable-protection {name} delete`, then run this again",
        escape(message.trim_end_matches('.'))
    ))
}

/// `--yes`, or typed on a terminal: the name, or the number of servers when there are
/// several. Never read from a pipe.
fn confirm(args: &DestroyArgs, servers: &[Server], ui: &Ui) -> Result<()> {
    if args.yes {
        return Ok(());
    }
    // Shown escaped; the typed answer is compared with the name as it is.
    let names: Vec<String> = servers.iter().map(|s| s.name.to_string()).collect();
    let (what, expected, question) = match (names.as_slice(), servers) {
        ([one], [server]) => (
            one.clone(),
            server.name.raw().to_string(),
            format!("This deletes {one} and its disk for good. Type the name to confirm: "),
        ),
        (many, _) => {
            let n = many.len();
            (
                format!("{n} servers ({})", many.join(", ")),
                n.to_string(),
                format!(
                    "This deletes {n} servers ({}) and their disks for good. Type {n} to confirm: ",
                    many.join(", ")
                ),
            )
        }
    };
    if !ui.stdin_is_terminal() {
        return Err(Error::Failed(format!(
            "not deleting {what}: confirmation needs a terminal. Run again with --yes to delete without asking"
        )));
    }
    match ui.ask(&question)? {
        Some(answer) if answer.trim() == expected => Ok(()),
        Some(_) if names.len() == 1 => Err(Error::Failed(format!(
            "the name typed did not match '{what}'; nothing was deleted"
        ))),
        Some(_) => Err(Error::Failed(format!(
            "the answer did not match '{expected}'; nothing was deleted"
        ))),
        None => Err(Error::Failed(
            "no answer (end of input); nothing was deleted".into(),
        )),
    }
}

/// What a delete thread tells this one.
enum Event {
    Step(usize, Untrusted, Option<u32>),
    Retry(String, Duration),
    Done(usize, Result<()>),
}

/// Retries seen on a delete thread, sent to this one to be shown.
struct ToChannel(mpsc::Sender<Event>);

impl Observer for ToChannel {
    fn retrying(&self, reason: &str, wait: Duration) {
        let _ = self.0.send(Event::Retry(reason.to_string(), wait));
    }
}

/// Delete every server side by side; the outcome of each, in order.
fn delete_all(client: &Client, servers: &[Server], source: &Source, ui: &Ui) -> Vec<Result<()>> {
    let seed = client.http().seed();
    let n = servers.len();
    let mut outcomes: Vec<Option<Result<()>>> = (0..n).map(|_| None).collect();
    let title = |i: usize| format!("Server {}", servers[i].name);
    let overall = format!("Deleting {n} servers");
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Event>();
        for (i, server) in servers.iter().enumerate() {
            let (tx, seed) = (tx.clone(), seed.clone());
            scope.spawn(move || {
                let observer = ToChannel(tx.clone());
                let client = Client::new(seed.grow(&observer));
                let mut step = |s: &Untrusted, pct: Option<u32>| {
                    let _ = tx.send(Event::Step(i, s.clone(), pct));
                };
                let result = delete_one(&client, server, source, &mut step);
                let _ = tx.send(Event::Done(i, result));
            });
        }
        drop(tx);
        if n > 1 {
            ui.progress(&overall, &format!("0 of {n} gone"), None);
        }
        let mut done = 0;
        for event in rx {
            match event {
                Event::Step(i, step, pct) if n == 1 => {
                    ui.progress(&title(i), &step_words(&step), pct)
                }
                Event::Step(..) => {}
                Event::Retry(reason, wait) => ui.retrying(&reason, wait),
                Event::Done(i, result) => {
                    done += 1;
                    let word = if result.is_ok() {
                        "deleted"
                    } else {
                        "not deleted"
                    };
                    ui.progress_done(&title(i), word);
                    outcomes[i] = Some(result);
                    if done < n && n > 1 {
                        ui.progress(&overall, &format!("{done} of {n} gone"), None);
                    }
                }
            }
        }
    });
    outcomes
        .into_iter()
        .enumerate()
        .map(|(i, o)| {
            o.unwrap_or_else(|| {
                Err(Error::Failed(format!(
                    "the delete of {} stopped without an answer; check with `pegasus server list`",
                    servers[i].name
                )))
            })
        })
        .collect()
}

/// One delete, on its own thread: the request, the action, then the server gone.
fn delete_one(
    client: &Client,
    server: &Server,
    source: &Source,
    progress: &mut dyn FnMut(&Untrusted, Option<u32>),
) -> Result<()> {
    let name = &server.name;
    let action = client.delete_server(server.id).map_err(|e| match e {
        Error::Api(api) if api.code() == "protected" => protected(name, api.message.raw()),
        other => session::explain_readonly(other, source),
    })?;
    if let Some(action) = action {
        match client.wait_for_actions(&[action.id], progress)? {
            Waited::Done => {}
            Waited::Failed(why) => {
                return Err(Error::Failed(format!(
                    "{why}; the server {name} may still exist: check with `pegasus server list`"
                )));
            }
            Waited::TimedOut => {
                return Err(Error::Failed(format!(
                    "gave up waiting for {name} to be deleted; check with `pegasus server list`"
                )));
            }
        }
    }
    match client.wait_for_gone(server.id, progress)? {
        Waited::Done => Ok(()),
        _ => Err(Error::Failed(format!(
            "the delete finished but {name} is still listed; check with `pegasus server list`"
        ))),
    }
}

/// `--json`: one line per server, keys in the order of `create` (SPEC §5).
#[derive(Serialize)]
struct DestroyOut<'a> {
    server: ServerOut,
    deleted: bool,
    kamal: KamalOut,
    dns: Vec<&'a dns::RecordOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The human result: which servers are gone, the config's diff and what still names
/// them, the DNS records, the host keys kept.
fn human(
    servers: &[Server],
    outcomes: &[Result<()>],
    forgotten: &Forgotten,
    records: &[dns::RecordOut],
    kept: &[String],
    ui: &Ui,
) -> String {
    let mut text = String::new();
    for (server, outcome) in servers.iter().zip(outcomes) {
        if outcome.is_ok() {
            text.push_str(&format!("Server {} is deleted.\n", server.name));
        }
    }
    let gone: Vec<&Server> = servers
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| o.is_ok())
        .map(|(s, _)| s)
        .collect();
    let who = match gone.as_slice() {
        [one] => one.name.to_string(),
        _ => "the deleted servers".to_string(),
    };
    let paint = |t: &str, code: &str| ui.paint_out(t, code);
    let mut sections: Vec<Vec<String>> = vec![
        forgotten.human_lines(false, &who, &paint),
        dns::human_lines(records),
        kept.to_vec(),
    ];
    sections.retain(|s| !s.is_empty());
    for section in sections {
        text.push('\n');
        for line in section {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}
