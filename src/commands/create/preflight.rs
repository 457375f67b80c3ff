//! Step 6, the preflight: every check the API can answer before anything is created or
//! uploaded. The reads are independent and run side by side (scoped threads over the one
//! client), so the preflight costs one round trip, not one per check.

use std::thread::ScopedJoinHandle;

use super::plan::Local;
use super::{dns, firewall, kamal, price};
use crate::cli::{CreateArgs, MANAGED_BY};
use crate::error::{Error, Result};
use crate::hetzner::{
    self, Architecture, Client, Image, ImageKind, Server, ServerStatus, ServerType,
};
use crate::kamal::ProjectServer;
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// What the preflight found. Steps that need a look before the create add their field
/// here (and their read to [`check`]'s scope).
#[derive(Debug, Default)]
pub struct Preflight {
    /// A server named NAME that pegasus made: this run picks it up instead of creating
    /// one (SPEC §4 step 6): no key upload, no firewall change, no second POST.
    pub existing: Option<Server>,
    /// The server type as read (its `prices` give the price): the one asked for, or
    /// the picked-up server's when it is that one.
    pub server_type: Option<ServerType>,
}

/// What the reads of step 6 found, for [`super::plan::CreatePlan`].
pub struct Found {
    pub existing: Option<Server>,
    pub project: Vec<ProjectServer>,
    pub firewall: firewall::Plan,
    pub zones: Vec<dns::Target>,
    pub priced: price::Priced,
}

/// Step 6: every read side by side (scoped threads over the one client): the server
/// type, image and name ([`check`]), the project's servers when the Kamal mode needs
/// them, the firewall, with `--dns` the zones, and the pricing (the currency and the IPv4
/// price; the type's prices come with the type). Nothing has been created or uploaded.
pub fn run(client: &Client, args: &CreateArgs, local: &Local, ui: &Ui) -> Result<Found> {
    let (pre, project, firewall, zones, pricing) = std::thread::scope(|s| {
        let project = s.spawn(|| kamal::project_servers(client, &local.kamal, local.dns.dns));
        let fw = s.spawn(|| firewall::preflight(client, &args.firewall, local.ssh.port));
        let zones = s.spawn(|| dns::preflight(client, &local.dns));
        let pricing = s.spawn(|| client.pricing());
        let pre = check(client, args, local.ssh.non_root_user(), ui);
        let pricing = joined(pricing);
        (pre, joined(project), joined(fw), joined(zones), pricing)
    });
    let Preflight {
        existing,
        server_type,
    } = pre?;
    let firewall = match (&existing, firewall) {
        (_, Ok(plan)) => plan,
        // A picked-up server keeps its firewalls: a missing `--firewall` is said later.
        (Some(_), Err(_)) => firewall::Plan::None,
        (None, Err(e)) => return Err(e),
    };
    Ok(Found {
        existing,
        project: project?,
        firewall,
        zones: zones?,
        priced: price::Priced {
            server_type,
            pricing: pricing?,
        },
    })
}

/// The name is free (or names a server pegasus made, which is picked up); the type
/// exists and can be ordered in the location; the image exists for the type's
/// architecture, and has Kamal's `ssh.user` (`kamal_user`, when it is not `root`).
pub fn check(
    client: &Client,
    args: &CreateArgs,
    kamal_user: Option<&str>,
    ui: &Ui,
) -> Result<Preflight> {
    let (stype, images, named) = std::thread::scope(|s| {
        let images = s.spawn(|| client.images_named(&args.image));
        let named = s.spawn(|| client.find_server(&args.name));
        let stype = client.server_type(&args.server_type);
        (stype, joined(images), joined(named))
    });
    if let Some(server) = named? {
        let stype = stype.ok().flatten();
        return pick_up(server, args).map(|server| Preflight {
            server_type: stype.filter(|t| &t.name == server.type_name()),
            existing: Some(server),
        });
    }
    let Some(stype) = stype? else {
        return Err(Error::Failed(format!(
            "server type '{}' does not exist; {}",
            escape(&args.server_type),
            orderable_types(client, &args.location)?
        )));
    };
    check_location(client, &stype, args, ui)?;
    let image = check_image(client, &stype, &images?, args, ui)?;
    check_user(&image, kamal_user, args)?;
    Ok(Preflight {
        existing: None,
        server_type: Some(stype),
    })
}

/// A thread's result; a panic in it (there should be none) becomes an error.
pub fn joined<T>(handle: ScopedJoinHandle<'_, Result<T>>) -> Result<T> {
    handle.join().unwrap_or_else(|_| {
        Err(Error::Failed(
            "a preflight check stopped unexpectedly".into(),
        ))
    })
}

/// A server with NAME exists: pick it up if pegasus made it and the command line does
/// not ask for something else.
fn pick_up(server: Server, args: &CreateArgs) -> Result<Server> {
    let name = &args.name;
    if !server.has_label(MANAGED_BY.0, MANAGED_BY.1) {
        return Err(Error::Failed(format!(
            "a server named {name} already exists in this project and pegasus did not make it; \
             choose another name, or remove it with `pegasus server destroy {name}`"
        )));
    }
    if server.status == ServerStatus::Deleting {
        return Err(Error::Failed(format!(
            "server {name} is being deleted; run this again once it is gone (`pegasus server list`)"
        )));
    }
    let image_matches = match &server.image {
        Some(img) => {
            img.id.to_string() == args.image
                || img
                    .name
                    .as_ref()
                    .is_some_and(|n| n.raw().eq_ignore_ascii_case(&args.image))
        }
        None => false,
    };
    let mut differences = Vec::new();
    let differs = |have: &Untrusted, want: &str| !have.raw().eq_ignore_ascii_case(want);
    if args.explicit.server_type && differs(server.type_name(), &args.server_type) {
        differences.push(format!(
            "type {} (not {})",
            server.type_name(),
            escape(&args.server_type)
        ));
    }
    if args.explicit.location && differs(server.location_name(), &args.location) {
        differences.push(format!(
            "location {} (not {})",
            server.location_name(),
            escape(&args.location)
        ));
    }
    if args.explicit.image && !image_matches {
        differences.push(format!(
            "image {} (not {})",
            server.image_name(),
            escape(&args.image)
        ));
    }
    if !differences.is_empty() {
        return Err(Error::Failed(format!(
            "server {name} already exists (made by pegasus) with {}; run `pegasus server create {name}` \
             without -t/-l/-i to pick it up as it is, or choose another name",
            differences.join(", ")
        )));
    }
    Ok(server)
}

fn check_location(client: &Client, stype: &ServerType, args: &CreateArgs, ui: &Ui) -> Result<()> {
    let now = crate::timefmt::now_unix();
    match hetzner::check_type_location(stype, &args.location, now) {
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
                    escape(&args.location),
                    names.join(", ")
                )));
            }
            return Err(Error::Failed(msg));
        }
    }
    Ok(())
}

/// Kamal's `ssh.user` other than `root` on a system image without `--user-data`: the
/// server would have only `root`, and Kamal's login would fail (SPEC §4 step 6).
fn check_user(image: &Image, user: Option<&str>, args: &CreateArgs) -> Result<()> {
    let Some(user) = user.filter(|u| *u != "root") else {
        return Ok(());
    };
    if image.kind != ImageKind::System || args.user_data.is_some() {
        return Ok(());
    }
    Err(Error::Failed(format!(
        "Kamal logs in as '{}' (ssh.user), but a new server from the system image {} has only \
         root. Pass --user-data with cloud-init user data that makes the user, with your key, in \
         the docker group and with sudo without a password (pegasus's README has an example, \
         \"A non-root Kamal user\"), or set ssh.user to root. Nothing was created",
        escape(user),
        escape(&args.image)
    )))
}

/// The image exists for the type's architecture; when not, the images that do.
fn check_image(
    client: &Client,
    stype: &ServerType,
    images: &[Image],
    args: &CreateArgs,
    ui: &Ui,
) -> Result<Image> {
    let arch = &stype.architecture;
    // A type whose architecture this version does not know takes any image.
    let fits = |i: &&Image| matches!(arch, Architecture::Other(_)) || i.architecture == *arch;
    if let Some(image) = images.iter().find(fits) {
        if let Some(since) = &image.deprecated {
            ui.warn(&format!(
                "image {} is deprecated since {}; Hetzner may refuse it or remove it soon",
                escape(&args.image),
                escape(crate::timefmt::date_part(since.raw()))
            ));
        }
        return Ok(image.clone());
    }
    let what = if images.is_empty() {
        format!("image '{}' does not exist", escape(&args.image))
    } else {
        format!(
            "image '{}' is not available for {arch} (the architecture of {})",
            escape(&args.image),
            stype.name
        )
    };
    let mut names: Vec<String> = client
        .system_images(arch)?
        .iter()
        .filter_map(|i| i.name.as_ref())
        .map(ToString::to_string)
        .collect();
    crate::sort::sort(&mut names);
    names.dedup();
    let list = if names.is_empty() {
        String::new()
    } else {
        format!("; images for {arch}: {}", names.join(", "))
    };
    Err(Error::Failed(format!("{what}{list} (use -i)")))
}

/// For an unknown type: the names that can be ordered in the location.
fn orderable_types(client: &Client, location: &str) -> Result<String> {
    let now = crate::timefmt::now_unix();
    let types = client.server_types()?;
    let names: Vec<String> = types
        .iter()
        .filter(|t| hetzner::check_type_location(t, location, now).is_ok())
        .map(|t| t.name.to_string())
        .collect();
    Ok(if names.is_empty() {
        format!(
            "see https://www.hetzner.com/cloud for the types (e.g. {})",
            crate::cli::DEFAULT_SERVER_TYPE
        )
    } else {
        format!(
            "types you can order in {}: {}",
            escape(location),
            names.join(", ")
        )
    })
}
