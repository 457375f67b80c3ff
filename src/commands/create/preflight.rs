//! Step 6, the preflight: every check the API can answer before anything is created.

use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::hetzner::{self, Client};
use crate::ui::Ui;

/// Step 6: the type exists, is offered and still orderable in the location, and the name
/// is free. Nothing has been created or uploaded yet.
pub fn check(client: &Client, args: &CreateArgs, ui: &Ui) -> Result<()> {
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
