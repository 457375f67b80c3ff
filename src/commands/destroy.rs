//! `pegasus server destroy NAME...` (SPEC §5): look every name up first, show, confirm
//! once, delete side by side, wait until each is gone, and point out Kamal lines that
//! still name them.
//!
//! The deletes run on scoped threads, each with its own client; the `Ui` (it is not
//! `Sync`) stays on this thread, which shows what the threads report over a channel.

use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;

use super::{ServerOut, json_line, print, step_words, unknown_names};
use crate::cli::DestroyArgs;
use crate::credentials::Source;
use crate::deploy_file;
use crate::error::{Error, Result};
use crate::hetzner::{Client, Server, Waited};
use crate::http::{Endpoint, Observer};
use crate::kamal;
use crate::session;
use crate::text::{Untrusted, escape};
use crate::timefmt;
use crate::ui::Ui;

pub fn run(args: &DestroyArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let kamal = deploy_file::locate(&args.kamal)?;
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
    // What will be deleted, each with the Kamal lines that name its addresses.
    for s in &servers {
        ui.note(&describe(s));
        if let Some(lines) = deploy_file::lines_naming(&kamal, &s.addresses()) {
            ui.note(&lines);
        }
    }
    if let Some(s) = servers.iter().find(|s| s.protection.delete) {
        let mut err = protected(&s.name, "delete protection is enabled");
        if servers.len() > 1 {
            err = Error::Failed(format!("{err}; nothing was deleted"));
        }
        return Err(err);
    }

    confirm(args, &servers, ui)?;

    let outcomes = delete_all(&client, &servers, &source, ui, &mut |server| {
        after_gone(server, &kamal, ui);
    });

    let mut out = String::new();
    let mut failures = Vec::new();
    for (server, outcome) in servers.iter().zip(outcomes) {
        if let Err(e) = outcome {
            failures.push(e);
            continue;
        }
        let still_named = deploy_file::references(&kamal, &server.addresses());
        out.push_str(&if args.json {
            json_line(&DestroyOut::new(server, still_named.as_ref()))?
        } else {
            human(server, still_named.as_ref())
        });
    }
    print(&out)?;
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

/// Run on this thread as soon as one server is gone, before the others may be.
/// Its addresses leave `~/.ssh/known_hosts` (SPEC §5).
fn after_gone(server: &Server, kamal: &deploy_file::Located, ui: &Ui) {
    super::hostkeys::after_destroy(server, kamal, ui);
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
    let names: Vec<&str> = servers.iter().map(|s| s.name.raw()).collect();
    let (what, expected, question) = match names.as_slice() {
        [one] => (
            one.to_string(),
            one.to_string(),
            format!("This deletes {one} and its disk for good. Type the name to confirm: "),
        ),
        many => {
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
            "the name typed did not match '{expected}'; nothing was deleted"
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

/// Delete every server side by side; the outcome of each, in order. `gone` runs (here)
/// as each server is confirmed gone.
fn delete_all(
    client: &Client,
    servers: &[Server],
    source: &Source,
    ui: &Ui,
    gone: &mut dyn FnMut(&Server),
) -> Vec<Result<()>> {
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
                    if result.is_ok() {
                        gone(&servers[i]);
                    }
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

/// `--json`: one line per deleted server, keys in the order of `create`.
#[derive(Serialize)]
struct DestroyOut {
    server: ServerOut,
    deleted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    kamal_references: Option<Vec<RefOut>>,
}

#[derive(Serialize)]
struct RefOut {
    path: String,
    line: usize,
    key: String,
    text: String,
}

impl DestroyOut {
    fn new(server: &Server, refs: Option<&(String, Vec<kamal::Reference>)>) -> DestroyOut {
        DestroyOut {
            server: ServerOut::from(server),
            deleted: true,
            kamal_references: refs.map(|(path, refs)| {
                refs.iter()
                    .map(|r| RefOut {
                        path: path.clone(),
                        line: r.line,
                        key: r.path.clone(),
                        text: r.text.clone(),
                    })
                    .collect()
            }),
        }
    }
}

fn human(server: &Server, refs: Option<&(String, Vec<kamal::Reference>)>) -> String {
    let mut text = format!("Server {} is deleted.\n", server.name);
    if let Some((path, refs)) = refs {
        let path = escape(path);
        text.push_str(&format!(
            "\n{path} still points at the deleted server (not edited):\n"
        ));
        for r in refs {
            text.push_str(&format!("  {path}:{}  {}\n", r.line, escape(&r.text)));
        }
    }
    text
}
