//! `pegasus server create NAME` (SPEC §4): local checks, token, key, preflight, create,
//! wait, output, Kamal edit, in that order.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{ServerOut, json_line, print, step_words};
use crate::cli::{CreateArgs, MANAGED_BY};
use crate::error::{Error, Result};
use crate::hetzner::{self, Client, NewServer, Server, SshKey, Waited};
use crate::http::Endpoint;
use crate::kamal_config::{self, Located, Report};
use crate::session::{self, tilde};
use crate::ssh_keys::{self, PublicKey};
use crate::ui::Ui;

const KEY_TRIES: u32 = 3;

pub fn run(args: &CreateArgs, ui: &Ui) -> Result<()> {
    // The plan: everything that can be checked without the API, before the first request.
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let key = choose_key(args, home.as_deref(), ui)?;
    let kamal = kamal_config::locate(&args.kamal)?;
    if let Located::Found(path) = &kamal {
        if let Some(warning) = kamal_config::precheck(path) {
            ui.warn(&warning);
        }
    }

    // The API: the key list also proves the token.
    let (client, keys, source) =
        session::connect(ui, &endpoint, home.as_deref(), &|c| c.list_ssh_keys())?;
    preflight(&client, args, ui)?;
    let readonly = |e| session::explain_readonly(e, &source);
    let (ssh_key, uploaded) = find_or_upload(&client, &key, &keys, ui).map_err(readonly)?;

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
    };
    ui.note(&format!(
        "Creating server {} ({}, {}, {})",
        args.name, args.server_type, args.image, args.location
    ));
    let created = client.create_server(&new).map_err(readonly)?;
    let server = wait_until_running(&client, &created, &args.name, ui)?;

    // The output, then the Kamal edit (the server exists whatever happens to the file).
    let Some(address) = server.address() else {
        return Err(Error::Failed(format!(
            "server {} was created but has no public IP address; see it with `pegasus server list`",
            server.name
        )));
    };
    let report = kamal_config::apply(&kamal, &address, args.kamal.destination.is_some());
    let ssh = format!("ssh root@{address}");
    if args.json {
        let out = JsonOut {
            server: ServerOut::from(&server),
            ssh,
            ssh_key: KeyOut {
                id: ssh_key.id,
                name: ssh_key.name.clone(),
                uploaded,
            },
            kamal: report,
        };
        return print(&json_line(&out)?);
    }
    print(&human(&server, &ssh, &report, &address, ui))
}

#[derive(Serialize)]
struct JsonOut {
    server: ServerOut,
    ssh: String,
    ssh_key: KeyOut,
    kamal: Report,
}

#[derive(Serialize)]
struct KeyOut {
    id: u64,
    name: String,
    uploaded: bool,
}

fn human(server: &Server, ssh: &str, report: &Report, address: &str, ui: &Ui) -> String {
    let dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut out = format!(
        "Server {} is running.\n  type      {}\n  image     {}\n  location  {}\n  IPv4      {}\n  IPv6      {}\n\n  {ssh}\n",
        server.name,
        server.type_name(),
        server.image_name(),
        server.location_name(),
        dash(server.ipv4().map(str::to_string)),
        dash(server.ipv6()),
    );
    let paint = |t: &str, c: &str| ui.paint_out(t, c);
    let lines = kamal_config::human_lines(report, address, &paint);
    if !lines.is_empty() {
        out.push('\n');
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// Step 2: the key from `--ssh-key`, the only key in `~/.ssh`, or the user's choice.
fn choose_key(args: &CreateArgs, home: Option<&Path>, ui: &Ui) -> Result<PublicKey> {
    if let Some(path) = &args.ssh_key {
        let key = ssh_keys::load_named(path)?;
        ui.note(&format!("Using SSH key {}", path.display()));
        return Ok(key);
    }
    let home = home.ok_or_else(|| {
        session::no_home("~/.ssh; pass the public key with --ssh-key PATH, or set HOME")
    })?;
    let ssh_dir = home.join(".ssh");
    let keys = ssh_keys::scan(&ssh_dir)?;
    let shown = |k: &PublicKey| tilde(&k.path, home);
    match keys.len() {
        0 => Err(Error::Failed(format!(
            "no SSH public key found in {}. Create one with:\n  ssh-keygen -t ed25519\n\
             then run this again (or pass one with --ssh-key PATH)",
            tilde(&ssh_dir, home)
        ))),
        1 => {
            let key = keys
                .into_iter()
                .next()
                .ok_or_else(|| Error::Failed("no key".into()))?;
            ui.note(&format!("Using SSH key {}", shown(&key)));
            Ok(key)
        }
        n => {
            let mut list = String::from("Several SSH keys found:");
            for (i, k) in keys.iter().enumerate() {
                let comment = k.comment.as_deref().unwrap_or("");
                list.push_str(&format!(
                    "\n  {}) {}  {} {comment}",
                    i + 1,
                    shown(k),
                    k.kind
                ));
            }
            ui.note(&list);
            for _ in 0..KEY_TRIES {
                let Some(answer) =
                    ui.ask(&format!("Which key should the server trust? [1-{n}]: "))?
                else {
                    return Err(Error::Failed(
                        "no SSH key chosen (stdin ended); pass --ssh-key PATH to choose one without a prompt".into(),
                    ));
                };
                match answer.trim().parse::<usize>() {
                    Ok(i) if (1..=n).contains(&i) => {
                        let key = keys[i - 1].clone();
                        ui.note(&format!("Using SSH key {}", shown(&key)));
                        return Ok(key);
                    }
                    _ => ui.warn(&format!("please answer with a number from 1 to {n}")),
                }
            }
            Err(Error::Failed(format!(
                "no valid choice after {KEY_TRIES} tries; pass --ssh-key PATH to choose the key"
            )))
        }
    }
}

/// Step 6: the type exists, is offered and still orderable in the location, and the name
/// is free. Nothing has been created or uploaded yet.
fn preflight(client: &Client, args: &CreateArgs, ui: &Ui) -> Result<()> {
    let Some(stype) = client.server_type(&args.server_type)? else {
        return Err(Error::Failed(format!(
            "server type '{}' does not exist; {}",
            args.server_type,
            orderable_types(client, &args.location)?
        )));
    };
    let now = crate::timefmt::now_unix();
    match hetzner::check_type_location(&stype, &args.location, now) {
        Ok(Some(warning)) => ui.warn(&warning),
        Ok(None) => {}
        Err(msg) => {
            let locations = client.locations()?;
            if !locations.iter().any(|l| l.name == args.location) {
                let names: Vec<String> = locations
                    .iter()
                    .map(|l| format!("{} ({})", l.name, l.city))
                    .collect();
                return Err(Error::Failed(format!(
                    "unknown location '{}'; locations: {}",
                    args.location,
                    names.join(", ")
                )));
            }
            return Err(Error::Failed(msg));
        }
    }
    if client.find_server(&args.name)?.is_some() {
        return Err(Error::Failed(format!(
            "a server named {} already exists in this project; choose another name, or remove it with `pegasus server destroy {}`",
            args.name, args.name
        )));
    }
    Ok(())
}

/// For an unknown type: the names that can be ordered in the location.
fn orderable_types(client: &Client, location: &str) -> Result<String> {
    let now = crate::timefmt::now_unix();
    let types = client.server_types()?;
    let names: Vec<&str> = types
        .iter()
        .filter(|t| hetzner::check_type_location(t, location, now).is_ok())
        .map(|t| t.name.as_str())
        .collect();
    Ok(if names.is_empty() {
        format!(
            "see https://www.hetzner.com/cloud for the types (e.g. {})",
            crate::cli::DEFAULT_SERVER_TYPE
        )
    } else {
        format!("types you can order in {location}: {}", names.join(", "))
    })
}

/// Step 5 and 7: the key already on Hetzner (same type and blob), or uploaded now under
/// the file's stem (first free of `stem`, `stem-2`, ...).
fn find_or_upload(
    client: &Client,
    key: &PublicKey,
    keys: &[SshKey],
    ui: &Ui,
) -> Result<(SshKey, bool)> {
    if let Some(found) = keys.iter().find(|k| key.matches(&k.public_key)) {
        ui.note(&format!("The key is on Hetzner as '{}'", found.name));
        return Ok((found.clone(), false));
    }
    let taken: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let name = ssh_keys::free_name(&key.stem(), &taken);
    ui.note(&format!("Uploading the key to Hetzner as '{name}'"));
    let same = |k: &SshKey| key.matches(&k.public_key);
    let uploaded = client.create_ssh_key(&name, &key.line(), &same)?;
    Ok((uploaded, true))
}

/// Step 8: wait for the create and start actions (or, after a recovered create, for the
/// server's status), then fetch the server.
fn wait_until_running(
    client: &Client,
    created: &hetzner::Created,
    name: &str,
    ui: &Ui,
) -> Result<Server> {
    let title = format!("Server {name}");
    let mut progress = |step: &str, pct: Option<u32>| ui.progress(&title, step_words(step), pct);
    let id = created.server.id;
    if created.recovered {
        ui.note(&format!(
            "The create request got no clear answer, but server {name} (id {id}) exists; carrying on with it"
        ));
    }
    let waited = if created.actions.is_empty() {
        client.wait_for_running(id, &mut progress)?
    } else {
        let ids: Vec<u64> = created.actions.iter().map(|a| a.id).collect();
        client.wait_for_actions(&ids, &mut progress)?
    };
    match waited {
        Waited::Done => ui.progress_done(&title, "running"),
        Waited::Failed(why) => {
            ui.progress_done(&title, "failed");
            return Err(Error::Failed(format!(
                "{why}. The server {name} exists in a failed state; remove it with `pegasus server destroy {name}`"
            )));
        }
        Waited::TimedOut => {
            ui.progress_done(&title, "still not running");
            let limit = client.http().timing.wait_limit.as_secs();
            let waited = match limit {
                0..60 => format!("{limit} seconds"),
                _ => format!("{} minutes", limit / 60),
            };
            return Err(Error::Failed(format!(
                "gave up waiting after {waited}. The server {name} (id {id}) exists and may still be starting: \
                 look at it with `pegasus server list` or in the Hetzner console, and remove it with `pegasus server destroy {name}` if it is stuck"
            )));
        }
    }
    client.get_server(id)?.ok_or_else(|| {
        Error::Failed(format!(
            "server {name} (id {id}) disappeared right after it was created"
        ))
    })
}
