//! `pegasus server ip NAME [-6]` (SPEC §5): the address alone on a line, for
//! `ssh root@$(pegasus server ip web1)`.

use super::{print, unknown_names};
use crate::cli::IpArgs;
use crate::error::{Error, Result};
use crate::http::Endpoint;
use crate::session;
use crate::ui::Ui;

pub fn run(args: &IpArgs, ui: &Ui) -> Result<()> {
    let endpoint = Endpoint::from_env()?;
    let home = session::home_dir();
    let name = args.name.as_str();
    let (client, found, _) =
        session::connect(ui, &endpoint, home.as_deref(), &|c| c.find_server(name))?;
    let Some(server) = found else {
        return Err(Error::Failed(unknown_names(&client, &[name])?));
    };
    // IPv4 unless -6 was asked for; the IPv6 address (the net's ::1) when there is no IPv4.
    // Typed addresses: whatever the API sent, only an address can be printed here.
    let address: Option<std::net::IpAddr> = match (args.ipv6, server.ipv4()) {
        (false, Some(v4)) => Some(v4.into()),
        _ => server.ipv6().map(Into::into),
    };
    match address {
        Some(a) => print(&format!("{a}\n")),
        None if args.ipv6 => Err(Error::Failed(format!(
            "server {name} has no public IPv6 address; its IPv4 is: pegasus server ip {name}"
        ))),
        None => Err(Error::Failed(format!(
            "server {name} has no public IP address"
        ))),
    }
}
