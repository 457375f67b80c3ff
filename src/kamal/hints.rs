//! The texts of [`Edit::Manual`]: for each situation the editor refuses, one or two
//! sentences saying exactly what to edit by hand (which key or line, what to put there).
//! The caller prefixes the file path.

use yaml_rust2::scanner::TScalarStyle;

use super::tree::{At, RoleHosts};
use super::{Edit, Spot, erb, splice};

/// A refusal on its way to becoming [`Edit::Manual`].
pub(super) struct Manual {
    pub reason: String,
    pub line: Option<usize>,
    /// The host positions to edit by hand.
    pub spots: Vec<Spot>,
}

impl Manual {
    pub fn at(line: usize, reason: String) -> Self {
        Self {
            reason,
            line: (line > 0).then_some(line),
            spots: Vec::new(),
        }
    }

    /// The host positions involved (kept when some are already named).
    pub fn with(mut self, spots: Vec<Spot>) -> Self {
        if self.spots.is_empty() {
            self.spots = spots;
        }
        self
    }
}

impl From<Manual> for Edit {
    fn from(manual: Manual) -> Self {
        Edit::Manual {
            reason: manual.reason,
            line: manual.line,
            spots: manual.spots,
        }
    }
}

/// Why a host scalar cannot be replaced.
pub(super) enum Blocked {
    /// Written as (or inside) an ERB tag: the tag's original text.
    Erb(String),
    /// Block scalar, multi-line or escaped: its end cannot be proven.
    Unprovable,
    /// Nothing written (or `~`, `null`): there is no text to replace.
    Empty,
}

/// No host list where the hosts should be. `line` gives a node's line in the edited file
/// (`None` when it is in the base file of a destination).
pub(super) fn no_list(
    found: RoleHosts,
    requires_destination: bool,
    new_host: &str,
    line: &dyn Fn(At) -> Option<usize>,
) -> Manual {
    let e = entry(new_host);
    let destination = if requires_destination {
        "This file sets `require_destination: true`, so the hosts live in a destination file: run again with `-d <destination>` to edit config/deploy.<destination>.yml."
    } else {
        "If the hosts are set in a destination file (config/deploy.<destination>.yml), run again with `-d <destination>`."
    };
    let on = |at: At| {
        line(at).map_or_else(
            || " in the base file".to_owned(),
            |l| format!(" on line {l}"),
        )
    };
    let at = |at: At| line(at).unwrap_or(0);
    match found {
        // `List` is not a refusal; it cannot reach here and reads as "nothing found".
        RoleHosts::List { .. } | RoleHosts::NoServers => Manual::at(
            0,
            format!(
                "There is no `servers:` section: add `servers:` with `web:` and `- {e}` under it. If this is a destination file that takes its hosts from config/deploy.yml, edit that file instead."
            ),
        ),
        RoleHosts::ServersEmpty { at: key } => Manual::at(
            at(key),
            format!(
                "`servers:`{} is empty: add `web:` with `- {e}` under it.",
                on(key)
            ),
        ),
        RoleHosts::ServersNotList { at: key } => Manual::at(
            at(key),
            format!(
                "`servers:`{} is neither a list nor a mapping of roles: make it `web:` with `- {e}` under it.",
                on(key)
            ),
        ),
        RoleHosts::NoRole {
            role,
            at: key,
            roles,
        } => Manual::at(
            at(key),
            format!(
                "`servers:`{} has no `{role}` role (it has: {}): add `{role}:` with `- {e}` under it.",
                on(key),
                roles.join(", ")
            ),
        ),
        RoleHosts::RoleEmpty { path, at: key } => Manual::at(
            at(key),
            format!(
                "`{path}`{} is empty: put `- {e}` under it. {destination}",
                on(key)
            ),
        ),
        RoleHosts::NoHostsKey { path, at: key } => Manual::at(
            at(key),
            format!(
                "`{path}`{} has no `hosts:`: add `hosts:` with `- {e}` under it. {destination}",
                on(key)
            ),
        ),
        RoleHosts::NotList { path, at: key } => Manual::at(
            at(key),
            format!(
                "`{path}`{} is not a list of hosts: make it a list holding `- {e}`.",
                on(key)
            ),
        ),
        RoleHosts::Duplicate { path, at: key } => Manual::at(
            at(key),
            format!(
                "`{path}` is defined more than once (again{}, perhaps in ERB `if`/`else` branches): set the host to {e} by hand in the branch that applies.",
                on(key)
            ),
        ),
    }
}

/// With a destination, hosts that would change sit in the base file, which pegasus does not
/// edit.
pub(super) fn in_base(base: &str, lines: &[String], old: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        0,
        format!(
            "The web host {old} comes from {base} (line{} {}), which a destination run does not edit: change every host line below from {old} to {e} by hand (in {base} they apply to every destination), or give this destination its own web hosts.",
            if lines.len() == 1 { "" } else { "s" },
            lines.join(", ")
        ),
    )
}

/// With a destination, the target list comes from the base file.
pub(super) fn list_in_base(base: &str, line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        0,
        format!(
            "`{path}` comes from {base} (line {line}), which a destination run does not edit: add `- {e}` to it there by hand, or give this destination its own `{path}`."
        ),
    )
}

pub(super) fn blocked(blocked: Blocked, line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    let on = if line > 0 {
        format!("on line {line}")
    } else {
        "in the base file".to_owned()
    };
    match blocked {
        Blocked::Erb(tag) => match erb::env_var(&tag) {
            Some(var) => Manual::at(
                line,
                format!(
                    "The host `{path}` {on} comes from ERB (`{tag}`): set {var}={new_host} in the environment you run kamal from (e.g. .env or your shell)."
                ),
            ),
            None => Manual::at(
                line,
                format!(
                    "The host `{path}` {on} is computed by ERB (`{tag}`): make that expression give {new_host}, or replace it with {e} by hand."
                ),
            ),
        },
        Blocked::Empty => Manual::at(
            0,
            format!("The host entry `{path}` is empty: put {e} there by hand."),
        ),
        Blocked::Unprovable => Manual::at(
            line,
            format!(
                "The host `{path}` {on} is written in a form pegasus does not edit (multi-line, block or escaped): replace it with {e} by hand."
            ),
        ),
    }
}

pub(super) fn bad_host(new_host: &str) -> Manual {
    Manual::at(
        0,
        format!("{new_host:?} is not a host address; nothing was changed."),
    )
}

pub(super) fn empty_list(line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!("`{path}` (line {line}) is an empty list: add `{e}` to it by hand."),
    )
}

pub(super) fn multi_document(new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        0,
        format!(
            "The file holds several YAML documents (`---`) and Kamal reads only one: set the web host to {e} by hand."
        ),
    )
}

pub(super) fn not_a_config(empty: bool, new_host: &str) -> Manual {
    let e = entry(new_host);
    let what = if empty {
        "The file is empty"
    } else {
        "This is not a Kamal config (no mapping of settings at the top)"
    };
    Manual::at(
        0,
        format!("{what}: add `servers:` with `web:` and `- {e}` under it by hand."),
    )
}

/// The new host as it would be written in the file (an IPv6 address double-quoted).
pub(super) fn entry(new_host: &str) -> String {
    splice::render(new_host, TScalarStyle::Plain).0
}

pub(super) fn odd_entry(line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!(
            "The entry of `{path}` on line {line} is not a host (nor a `host: tag` pair): replace it with `- {e}` by hand."
        ),
    )
}

pub(super) fn cannot_append(line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!(
            "The list `{path}` (line {line}) is laid out in a way pegasus does not extend: add `{e}` to it by hand."
        ),
    )
}

pub(super) fn erb_list(line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!(
            "The list `{path}` (line {line}) is assembled with ERB statements (`<% if %>`/`<% end %>`): add `- {e}` to the branch that applies by hand."
        ),
    )
}

pub(super) fn unverified(line: usize, what: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!(
            "The edit could not be verified (the file would not re-read the same), so nothing was changed: set {what} to {e} by hand."
        ),
    )
}

pub(super) fn several_for_replace(line: usize, path: &str, count: usize, new_host: &str) -> Manual {
    let e = entry(new_host);
    Manual::at(
        line,
        format!(
            "`{path}` (line {line}) has {count} hosts, and replacing needs exactly one: replace the one you mean with {e} by hand, or add `- {e}` to the list."
        ),
    )
}
