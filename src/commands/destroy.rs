//! `pegasus server destroy NAME` (SPEC §5): find by exact name, show, confirm, delete
//! that id, wait, make sure it is gone, and point out Kamal lines that still name it.

use serde_json::json;

use super::{ServerOut, json_line, print, step_words};
use crate::cli::DestroyArgs;
use crate::error::{Error, Result};
use crate::hetzner::{Client, Server, Waited};
use crate::http::Endpoint;
use crate::kamal_config;
use crate::session;
use crate::timefmt;
use crate::ui::Ui;

/// Up to this many names are listed when the name is unknown.
const NAMES_SHOWN: usize = 10;

pub fn run(args: &DestroyArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let kamal = kamal_config::locate(&args.kamal)?;
    let home = session::home_dir();
    let name = args.name.as_str();
    let (client, found, source) =
        session::connect(ui, &endpoint, home.as_deref(), &|c| c.find_server(name))?;
    let Some(server) = found else {
        return Err(Error::Failed(unknown_name(&client, name)?));
    };
    ui.note(&describe(&server));
    if server.protection.delete {
        return Err(protected(name, "delete protection is enabled"));
    }
    if let Some(lines) = kamal_config::lines_naming(&kamal, &server.addresses()) {
        ui.note(&lines);
    }
    confirm(args, ui)?;

    let action = client.delete_server(server.id).map_err(|e| match e {
        Error::Api(api) if api.code() == "protected" => protected(name, &api.message),
        other => session::explain_readonly(other, &source),
    })?;
    wait_until_gone(&client, &server, action.map(|a| a.id), ui)?;

    let still_named = kamal_config::references(&kamal, &server.addresses());
    if args.json {
        let mut out = json!({"server": ServerOut::from(&server), "deleted": true});
        if let Some((path, refs)) = &still_named {
            let refs: Vec<serde_json::Value> = refs
                .iter()
                .map(|r| json!({"path": path, "line": r.line, "key": r.path, "text": r.text}))
                .collect();
            out["kamal_references"] = serde_json::Value::Array(refs);
        }
        return print(&json_line(&out)?);
    }
    let mut text = format!("Server {name} is deleted.\n");
    if let Some((path, refs)) = &still_named {
        text.push_str(&format!(
            "\n{path} still points at the deleted server (not edited):\n"
        ));
        for r in refs {
            text.push_str(&format!("  {path}:{}  {}\n", r.line, r.text));
        }
    }
    print(&text)
}

fn describe(s: &Server) -> String {
    let age = timefmt::parse_rfc3339(&s.created)
        .map(|t| format!(", created {} ago", timefmt::age(timefmt::now_unix() - t)))
        .unwrap_or_default();
    let ips = s.addresses();
    let ips = if ips.is_empty() {
        "no public IP".to_string()
    } else {
        ips.join(", ")
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

fn protected(name: &str, message: &str) -> Error {
    Error::Failed(format!(
        "server {name} cannot be deleted: {} (protected). Lift the protection in the Hetzner \
         console (the server → Protection → Delete protection off) or with \
         `hcloud server disable-protection {name} delete`, then run this again",
        message.trim_end_matches('.')
    ))
}

/// `--yes`, or the name typed on a terminal. Never read from a pipe.
fn confirm(args: &DestroyArgs, ui: &Ui) -> Result<()> {
    let name = &args.name;
    if args.yes {
        return Ok(());
    }
    if !ui.stdin_is_terminal() {
        return Err(Error::Failed(format!(
            "not deleting {name}: confirmation needs a terminal. Run again with --yes to delete it without asking"
        )));
    }
    match ui.ask(&format!(
        "This deletes {name} and its disk for good. Type the name to confirm: "
    ))? {
        Some(answer) if answer.trim() == name => Ok(()),
        _ => Err(Error::Failed(format!(
            "the name typed did not match '{name}'; nothing was deleted"
        ))),
    }
}

fn unknown_name(client: &Client, name: &str) -> Result<String> {
    let servers = client.list_servers()?;
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    Ok(match names.len() {
        0 => format!("no server named {name}: this project has no servers"),
        n if n <= NAMES_SHOWN => format!(
            "no server named {name}; the servers are: {}",
            names.join(", ")
        ),
        n => format!("no server named {name} among the {n} servers; see `pegasus server list`"),
    })
}

fn wait_until_gone(client: &Client, server: &Server, action: Option<u64>, ui: &Ui) -> Result<()> {
    let name = &server.name;
    let title = format!("Server {name}");
    let mut progress = |step: &str, pct: Option<u32>| ui.progress(&title, step_words(step), pct);
    if let Some(id) = action {
        match client.wait_for_actions(&[id], &mut progress)? {
            Waited::Done => {}
            Waited::Failed(why) => {
                ui.progress_done(&title, "failed");
                return Err(Error::Failed(format!(
                    "{why}; the server {name} may still exist: check with `pegasus server list`"
                )));
            }
            Waited::TimedOut => {
                ui.progress_done(&title, "still being deleted");
                return Err(Error::Failed(format!(
                    "gave up waiting for {name} to be deleted; check with `pegasus server list`"
                )));
            }
        }
    }
    match client.wait_for_gone(server.id, &mut progress)? {
        Waited::Done => {
            ui.progress_done(&title, "deleted");
            Ok(())
        }
        _ => {
            ui.progress_done(&title, "still there");
            Err(Error::Failed(format!(
                "the delete finished but {name} is still listed; check with `pegasus server list`"
            )))
        }
    }
}
