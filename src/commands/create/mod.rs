//! `pegasus server create NAME` (SPEC §4): local checks, token, key, preflight, create,
//! wait, output, Kamal edit, in that order.
//!
//! This file orchestrates; each step lives in its own file: `key` (steps 2, 5, 7: the SSH
//! key), `preflight` (step 6), `wait` (step 8).

mod kamal;
mod key;
mod preflight;
mod wait;

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ServerOut, json_line, print};
use crate::cli::{CreateArgs, MANAGED_BY};
use crate::error::{Error, Result};
use crate::hetzner::{NewServer, Server};
use crate::http::Endpoint;
use crate::kamal_config::{self, Report};
use crate::session;
use crate::ui::Ui;

pub fn run(args: &CreateArgs, ui: &Ui) -> Result<()> {
    // The plan: everything that can be checked without the API, before the first request.
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let kamal = kamal::plan(args, ui)?;

    // The key, and the API: the key list also proves the token.
    let (key, (client, keys, source)) =
        key::choose_and_connect(args, home.as_deref(), &endpoint, ui)?;
    preflight::check(&client, args, ui)?;
    let project = kamal::project_servers(&client, &kamal)?;
    let readonly = |e| session::explain_readonly(e, &source);
    let (ssh_key, uploaded) = key::find_or_upload(&client, &key, &keys, ui).map_err(readonly)?;

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
    let server = wait::until_running(&client, &created, &args.name, ui)?;

    // The output, then the Kamal edit (the server exists whatever happens to the file).
    let Some(address) = server.address() else {
        return Err(Error::Failed(format!(
            "server {} was created but has no public IP address; see it with `pegasus server list`",
            server.name
        )));
    };
    let report = kamal::apply(&kamal, &address, &project, args.json, ui);
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
