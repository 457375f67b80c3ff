//! The texts of [`Edit::Manual`]: for each situation the editor refuses, one or two
//! sentences saying exactly what to edit by hand (which key or line, what to put there).
//! The caller prefixes the file path.

use yaml_rust2::scanner::TScalarStyle;

use super::hosts::WebRole;
use super::{Edit, erb, splice};

/// A refusal on its way to becoming [`Edit::Manual`].
pub(super) struct Manual {
    pub reason: String,
    pub line: Option<usize>,
}

impl Manual {
    pub fn at(line: usize, reason: String) -> Self {
        Self {
            reason,
            line: (line > 0).then_some(line),
        }
    }
}

impl From<Manual> for Edit {
    fn from(manual: Manual) -> Self {
        Edit::Manual {
            reason: manual.reason,
            line: manual.line,
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

pub(super) fn no_list(found: WebRole, requires_destination: bool, new_host: &str) -> Manual {
    let e = entry(new_host);
    let destination = if requires_destination {
        "This file sets `require_destination: true`, so the hosts live in a destination file: run again with `-d <destination>` to edit config/deploy.<destination>.yml."
    } else {
        "If the hosts are set in a destination file (config/deploy.<destination>.yml), run again with `-d <destination>`."
    };
    match found {
        // `List` is not a refusal; it cannot reach here and reads as "nothing found".
        WebRole::List { .. } | WebRole::NoServers => Manual::at(
            0,
            format!(
                "There is no `servers:` section: add `servers:` with `web:` and `- {e}` under it. If this is a destination file that takes its hosts from config/deploy.yml, edit that file instead."
            ),
        ),
        WebRole::ServersEmpty { line } => Manual::at(
            line,
            format!("`servers:` on line {line} is empty: add `web:` with `- {e}` under it."),
        ),
        WebRole::ServersNotList { line } => Manual::at(
            line,
            format!(
                "`servers:` on line {line} is neither a list nor a mapping of roles: make it `web:` with `- {e}` under it."
            ),
        ),
        WebRole::NoRole { role, line, roles } => Manual::at(
            line,
            format!(
                "`servers:` on line {line} has no `{role}` role (it has: {}): add `{role}:` with `- {e}` under it.",
                roles.join(", ")
            ),
        ),
        WebRole::RoleEmpty { path, line } => Manual::at(
            line,
            format!("`{path}` on line {line} is empty: put `- {e}` under it. {destination}"),
        ),
        WebRole::NoHostsKey { path, line } => Manual::at(
            line,
            format!(
                "`{path}` on line {line} has no `hosts:`: add `hosts:` with `- {e}` under it. {destination}"
            ),
        ),
        WebRole::NotList { path, line } => Manual::at(
            line,
            format!(
                "`{path}` on line {line} is not a list of hosts: make it a list holding `- {e}`."
            ),
        ),
        WebRole::Duplicate { path, line } => Manual::at(
            line,
            format!(
                "`{path}` is defined more than once (again on line {line}, perhaps in ERB `if`/`else` branches): set the host to {e} by hand in the branch that applies."
            ),
        ),
    }
}

pub(super) fn blocked(blocked: Blocked, line: usize, path: &str, new_host: &str) -> Manual {
    let e = entry(new_host);
    match blocked {
        Blocked::Erb(tag) => match erb::env_var(&tag) {
            Some(var) => Manual::at(
                line,
                format!(
                    "The host `{path}` on line {line} comes from ERB (`{tag}`): set {var}={new_host} in the environment you run kamal from (e.g. .env or your shell)."
                ),
            ),
            None => Manual::at(
                line,
                format!(
                    "The host `{path}` on line {line} is computed by ERB (`{tag}`): make that expression give {new_host}, or replace it with {e} by hand."
                ),
            ),
        },
        Blocked::Empty => Manual {
            reason: format!("The host entry `{path}` is empty: put {e} there by hand."),
            line: None,
        },
        Blocked::Unprovable => Manual::at(
            line,
            format!(
                "The host `{path}` on line {line} is written in a form pegasus does not edit (multi-line, block or escaped): replace it with {e} by hand."
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
