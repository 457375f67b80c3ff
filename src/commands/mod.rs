//! The commands. Each runs its plan (local checks) first, then the API calls, then
//! prints its result.

mod create;
mod destroy;
mod hostkeys;
mod ip;
mod list;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::cli::Command;
use crate::error::Result;
use crate::hetzner::{Client, Server, ServerStatus};
use crate::text::Untrusted;
use crate::ui::Ui;

/// Run one parsed command.
pub fn run(cmd: Command, ui: &Ui) -> Result<()> {
    match cmd {
        Command::Help(text) => print(text),
        Command::Version => print(&format!("pegasus {}\n", crate::cli::VERSION)),
        Command::Create(args) => create::run(&args, ui),
        Command::List(args) => list::run(&args, ui),
        Command::Ip(args) => ip::run(&args, ui),
        Command::Destroy(args) => destroy::run(&args, ui),
        Command::Completions(shell) => print(&crate::completions::script(shell)),
    }
}

/// Write the result on stdout. A reader that went away (`| head -1`) is fine: the
/// work is done, and there is nobody left to tell.
fn print(text: &str) -> Result<()> {
    match crate::ui::out(text) {
        Ok(()) => Ok(()),
        // EPIPE: the reader left; EBADF: stdout was closed (`>&-`). Nobody is reading.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(9) => {
            Ok(())
        }
        Err(e) => Err(crate::error::Error::io("cannot write to stdout", e)),
    }
}

/// The server object of `--json` output (SPEC §4), shared by create, list and destroy.
#[derive(Debug, Serialize)]
pub struct ServerOut {
    pub id: u64,
    pub name: Untrusted,
    pub status: ServerStatus,
    pub server_type: Untrusted,
    pub image: Untrusted,
    pub location: Untrusted,
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub labels: BTreeMap<Untrusted, Untrusted>,
    pub created: Untrusted,
}

impl From<&Server> for ServerOut {
    fn from(s: &Server) -> ServerOut {
        ServerOut {
            id: s.id,
            name: s.name.clone(),
            status: s.status.clone(),
            server_type: s.type_name().clone(),
            image: s.image_name(),
            location: s.location_name().clone(),
            ipv4: s.ipv4(),
            ipv6: s.ipv6(),
            labels: s.labels.clone(),
            created: s.created.clone(),
        }
    }
}

/// JSON text of a value, with a final newline.
fn json_line(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v)
        .map(|s| s + "\n")
        .map_err(|e| crate::error::Error::Failed(format!("cannot encode the JSON output: {e}")))
}

/// Human words for an action's command or a server's status (escaped when unknown).
fn step_words(step: &Untrusted) -> String {
    match step.raw() {
        "create_server" => "creating the server".into(),
        "start_server" => "starting the server".into(),
        "delete_server" => "deleting the server".into(),
        _ => step.to_string(),
    }
}

/// Up to this many names are listed when a name is unknown.
const NAMES_SHOWN: usize = 10;

/// The message for names no server has, with the names the project does have.
fn unknown_names(client: &Client, unknown: &[&str]) -> Result<String> {
    let servers = client.list_servers()?;
    let names: Vec<String> = servers.iter().map(|s| s.name.to_string()).collect();
    let what = match unknown {
        [one] => format!("no server named {}", crate::ui::escape(one)),
        many => format!("no servers named {}", crate::ui::escape(&many.join(", "))),
    };
    Ok(match names.len() {
        0 => format!("{what}: this project has no servers"),
        n if n <= NAMES_SHOWN => format!("{what}; the servers are: {}", names.join(", ")),
        n => format!("{what} among the {n} servers; see `pegasus server list`"),
    })
}
