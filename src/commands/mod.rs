//! The commands. Each runs its plan (local checks) first, then the API calls, then
//! prints its result.

mod create;
mod destroy;
mod hostkeys;
mod ip;
mod list;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cli::Command;
use crate::error::Result;
use crate::hetzner::{Client, Server};
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
    pub name: String,
    pub status: String,
    pub server_type: String,
    pub image: String,
    pub location: String,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub created: String,
}

impl From<&Server> for ServerOut {
    fn from(s: &Server) -> ServerOut {
        ServerOut {
            id: s.id,
            name: s.name.clone(),
            status: s.status.clone(),
            server_type: s.type_name().to_string(),
            image: s.image_name(),
            location: s.location_name().to_string(),
            ipv4: s.ipv4().map(str::to_string),
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

/// Human words for an action's command or a server's status.
fn step_words(step: &str) -> &str {
    match step {
        "create_server" => "creating the server",
        "start_server" => "starting the server",
        "delete_server" => "deleting the server",
        other => other,
    }
}

/// Up to this many names are listed when a name is unknown.
const NAMES_SHOWN: usize = 10;

/// The message for names no server has, with the names the project does have.
fn unknown_names(client: &Client, unknown: &[&str]) -> Result<String> {
    let servers = client.list_servers()?;
    let names: Vec<&str> = servers.iter().map(|s| s.name.as_str()).collect();
    let what = match unknown {
        [one] => format!("no server named {}", crate::ui::escape(one)),
        many => format!("no servers named {}", crate::ui::escape(&many.join(", "))),
    };
    Ok(match names.len() {
        0 => format!("{what}: this project has no servers"),
        n if n <= NAMES_SHOWN => format!(
            "{what}; the servers are: {}",
            crate::ui::escape(&names.join(", "))
        ),
        n => format!("{what} among the {n} servers; see `pegasus server list`"),
    })
}
