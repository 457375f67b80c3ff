//! DNS for the Kamal proxy's host names (SPEC §10): read the names from the config
//! ([`plan`], local), find their zones ([`preflight`], step 6, only with `--dns`), set
//! their `A`/`AAAA` record sets after the Kamal edit ([`apply`], step 10), and say what
//! happened or what is left to do ([`human_lines`]).
//!
//! Without `--dns` no zone is ever requested: the output lists the records to make.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::CreateArgs;
use crate::deploy_file::{self, Located, Report};
use crate::error::{Error, Result};
use crate::hetzner::{Client, RrSet, Server, Waited, Written, Zone, ZoneMode};
use crate::kamal::proxy::{self, ProxyHosts};
use crate::kamal::{Mode, WebHosts};
use crate::text::Untrusted;
use crate::ui::{Ui, escape};

/// TTL of a record set pegasus makes (an existing set keeps its own).
pub const NEW_TTL: u32 = 300;

/// The proxy host names of the config, and whether `--dns` asked to set them.
#[derive(Debug, Default)]
pub struct Plan {
    pub dns: bool,
    /// Where the names come from (for messages).
    pub path: Option<String>,
    pub hosts: ProxyHosts,
    /// With `--dns`, after the preflight: each name's zone ([`preflight`]).
    pub targets: Vec<Target>,
}

/// A name, the zone that holds it, and the record name relative to that zone.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub zone: Zone,
    /// `app` for `app.example.com` in `example.com`; `@` for the apex.
    pub record: String,
}

/// One record set as `--json` reports it in `dns`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOut {
    pub name: String,
    pub zone: Untrusted,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    pub status: Status,
    /// Other values the set still holds (append mode), for the human output.
    #[serde(skip)]
    pub others: Vec<Untrusted>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The set did not exist and was made (TTL [`NEW_TTL`]).
    Created,
    /// The set existed and its records were replaced (replace mode) or added to (append).
    Updated,
    /// The set already held the address as the mode wants it: nothing was sent.
    Unchanged,
}

/// Local, before any request: the proxy host names. With `--dns`, a config without usable
/// names is a usage error (exit 2); without it, an unreadable file just means no hints.
pub fn plan(args: &CreateArgs, kamal: &deploy_file::Plan) -> Result<Plan> {
    let mut plan = Plan {
        dns: args.dns,
        ..Plan::default()
    };
    let path = match &kamal.located {
        Located::Found(path) => path,
        Located::Skipped => return Ok(plan),
        Located::NotFound if args.dns => {
            return Err(Error::Invalid(
                "--dns sets the records of the Kamal proxy host names (proxy.host), but no Kamal config was found (config/deploy.yml); use -c FILE or drop --dns".into(),
            ));
        }
        Located::NotFound => return Ok(plan),
    };
    let mut shown = path.display().to_string();
    // The text step 3 read already; read again only to say why it could not be read.
    let mut read = match &kamal.text {
        Some(text) => hosts_in(text),
        None => read_hosts(path),
    };
    // Kamal merges a destination file over `deploy.yml`: without a proxy of its own, the
    // destination serves the names of the base file.
    let base = args
        .kamal
        .destination
        .as_deref()
        .and_then(|d| base_file(path, d));
    if let (Ok(hosts), Some(base)) = (&read, base) {
        if *hosts == ProxyHosts::default() && base.is_file() {
            shown = base.display().to_string();
            read = read_hosts(&base);
        }
    }
    plan.path = Some(shown.clone());
    match read {
        Ok(hosts) => plan.hosts = hosts,
        Err(why) if args.dns => {
            return Err(Error::Invalid(format!(
                "--dns needs the proxy host names from {}, but it {why}",
                escape(&shown)
            )));
        }
        Err(_) => return Ok(plan),
    }
    if args.dns && plan.hosts.names.is_empty() {
        let mut msg = format!(
            "--dns needs proxy host names (proxy.host or proxy.hosts), and {} has none pegasus can use",
            escape(&shown)
        );
        for u in &plan.hosts.unusable {
            msg.push_str(&format!(
                "; line {}: {} is {}",
                u.line,
                escape(&u.text),
                u.why
            ));
        }
        msg.push_str("; write the names there, or drop --dns and make the records by hand");
        return Err(Error::Invalid(msg));
    }
    Ok(plan)
}

fn read_hosts(path: &Path) -> std::result::Result<ProxyHosts, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot be read ({})", crate::error::io_reason(&e)))?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    hosts_in(&text)
}

fn hosts_in(text: &str) -> std::result::Result<ProxyHosts, String> {
    proxy::proxy_hosts(text).map_err(|e| format!("does not parse ({e})"))
}

/// `config/deploy.yml` for `config/deploy.staging.yml` and destination `staging`.
fn base_file(path: &Path, destination: &str) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(&format!(".{destination}.yml"))?;
    Some(path.with_file_name(format!("{stem}.yml")))
}

/// Step 6, with `--dns` only: every name's zone (the project's zone that is its longest
/// suffix), which must be a primary zone. Nothing has been created yet. Prints nothing
/// (it may run beside the other preflight reads): see [`warnings`].
pub fn preflight(client: &Client, plan: &Plan) -> Result<Vec<Target>> {
    if !plan.dns {
        return Ok(Vec::new());
    }
    let zones = client.zones()?;
    let mut targets = Vec::new();
    let mut missing = Vec::new();
    for name in &plan.hosts.names {
        match find_zone(&zones, name) {
            Some((zone, record)) => targets.push(Target {
                name: name.clone(),
                zone: zone.clone(),
                record,
            }),
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        let names: Vec<String> = zones.iter().map(|z| z.name.to_string()).collect();
        let have = if names.is_empty() {
            "the project has no DNS zones".to_string()
        } else {
            format!("the project's zones: {}", names.join(", "))
        };
        return Err(Error::Failed(format!(
            "no DNS zone in this Hetzner project holds {} ({have}); add the domain's zone in the Hetzner console (DNS), or drop --dns and make the records by hand",
            missing.join(", ")
        )));
    }
    if let Some(t) = targets.iter().find(|t| t.zone.mode != ZoneMode::Primary) {
        return Err(Error::Failed(format!(
            "zone {} is a {} zone: its records come from its primary name servers, so pegasus cannot set {} there; set the records at the primary, or drop --dns",
            t.zone.name, t.zone.mode, t.name
        )));
    }
    Ok(targets)
}

/// What to warn about after the preflight, with `--dns`: names that cannot be used as
/// written (their records are not set), and zones not delegated to Hetzner.
pub fn warnings(plan: &Plan) -> Vec<String> {
    if !plan.dns {
        return Vec::new();
    }
    let path = escape(plan.path.as_deref().unwrap_or("")).into_owned();
    let mut out: Vec<String> = plan
        .hosts
        .unusable
        .iter()
        .map(|u| {
            format!(
                "{path}:{}: the proxy host {} is {}; pegasus does not guess it, so --dns leaves its records to you",
                u.line,
                escape(&u.text),
                u.why
            )
        })
        .collect();
    let mut seen = Vec::new();
    for t in &plan.targets {
        if !seen.contains(&t.zone.id) {
            seen.push(t.zone.id);
            out.extend(delegation_warning(&t.zone));
        }
    }
    out
}

/// The zone that is the longest suffix of `name`, and the record name relative to it.
fn find_zone<'z>(zones: &'z [Zone], name: &str) -> Option<(&'z Zone, String)> {
    crate::hetzner::zone_for(zones, name)
}

/// A zone whose domain does not point at Hetzner's name servers: the records will be set
/// but will not resolve.
fn delegation_warning(zone: &Zone) -> Option<String> {
    let ns = zone.authoritative_nameservers.as_ref()?;
    let status = ns.delegation_status.as_ref()?;
    if !matches!(status.raw(), "invalid" | "lame" | "unregistered") {
        return None;
    }
    let servers: Vec<String> = ns
        .assigned
        .iter()
        .map(|s| escape(s.raw().trim_end_matches('.')).into_owned())
        .collect();
    Some(format!(
        "zone {} is not delegated to Hetzner (delegation: {status}); its records will not resolve until the domain's name servers are {}",
        zone.name,
        if servers.is_empty() {
            "Hetzner's".to_string()
        } else {
            servers.join(", ")
        }
    ))
}

/// The Kamal mode the DNS step follows (SPEC §10): replace makes the sets hold only the
/// new address, append adds it. The mode the Kamal edit used; when nothing was edited
/// (unchanged, manual, error), `--append` / `--replace`; else append when the web role
/// has several hosts (a re-run that finds the server already listed beside others must
/// not drop their addresses from the sets), replace otherwise.
pub fn kamal_mode(args: &CreateArgs, report: &Report, web: Option<&WebHosts>) -> Mode {
    let several = web.is_some_and(|w| w.hosts.len() > 1);
    report
        .mode
        .or(args.mode)
        .unwrap_or(if several { Mode::Append } else { Mode::Replace })
}

/// Step 10 (after the Kamal edit): point every target of the plan at the server (none
/// without `--dns`). All sets are read first (a name with a `CNAME` stops everything
/// before any write), then written, then the actions are waited for together.
pub fn apply(
    client: &Client,
    plan: &Plan,
    server: &Server,
    mode: Mode,
    ui: &Ui,
) -> Result<Vec<RecordOut>> {
    let mut wanted: Vec<(&'static str, String)> = Vec::new();
    if let Some(v4) = server.ipv4() {
        wanted.push(("A", v4.to_string()));
    }
    if let Some(v6) = server.ipv6() {
        wanted.push(("AAAA", v6.to_string()));
    }
    let kinds: Vec<&str> = wanted.iter().map(|(k, _)| *k).collect();
    let mut read = Vec::new();
    for t in &plan.targets {
        let mut types = kinds.clone();
        types.push("CNAME");
        let sets = client.rrsets(t.zone.id, &t.record, &types)?;
        if let Some(cname) = sets.iter().find(|s| s.kind == "CNAME") {
            return Err(Error::Failed(format!(
                "{} is a CNAME (to {}) in zone {}, so it cannot also have A/AAAA records; pegasus leaves it alone: remove it or point its target at {}, then run `kamal setup`",
                t.name,
                escape(&cname.values().join(", ")),
                t.zone.name,
                server.address().map(|a| a.to_string()).unwrap_or_default()
            )));
        }
        read.push((t, sets));
    }
    let mut out = Vec::new();
    let mut actions = Vec::new();
    for (t, sets) in &read {
        for (kind, value) in &wanted {
            let set = sets.iter().find(|s| s.kind == *kind);
            let (status, written) = write_set(client, t, kind, value, set, mode)?;
            let others = match (mode, set) {
                (Mode::Append, Some(set)) => set
                    .values()
                    .into_iter()
                    .filter(|v| v != value)
                    .map(Untrusted::from)
                    .collect(),
                _ => Vec::new(),
            };
            if let Some(Written::Action(a)) = written {
                actions.push(a.id);
            }
            out.push(RecordOut {
                name: t.name.clone(),
                zone: t.zone.name.clone(),
                kind,
                value: value.clone(),
                status,
                others,
            });
        }
    }
    if !actions.is_empty() {
        wait(client, &actions, ui)?;
    }
    Ok(out)
}

/// One set: create it, replace or add to its records, or leave it (already right).
fn write_set(
    client: &Client,
    t: &Target,
    kind: &str,
    value: &str,
    set: Option<&RrSet>,
    mode: Mode,
) -> Result<(Status, Option<Written>)> {
    let (zone, name, values) = (t.zone.id, t.record.as_str(), [value]);
    let Some(set) = set else {
        let w = client.create_rrset(zone, name, kind, &values, NEW_TTL)?;
        return Ok((Status::Created, Some(w)));
    };
    let have = set.values();
    match mode {
        Mode::Replace if have == values => Ok((Status::Unchanged, None)),
        Mode::Replace => Ok((
            Status::Updated,
            Some(client.set_records(zone, name, kind, &values)?),
        )),
        Mode::Append if have.contains(&value) => Ok((Status::Unchanged, None)),
        Mode::Append => Ok((
            Status::Updated,
            Some(client.add_records(zone, name, kind, &values)?),
        )),
    }
}

fn wait(client: &Client, ids: &[u64], ui: &Ui) -> Result<()> {
    let title = "DNS";
    let mut progress =
        |step: &Untrusted, pct: Option<u32>| ui.progress(title, &step_words(step), pct);
    match client.wait_for_actions(ids, &mut progress)? {
        Waited::Done => {
            ui.progress_done(title, "records set");
            Ok(())
        }
        Waited::Failed(why) => {
            ui.progress_done(title, "failed");
            Err(Error::Failed(format!(
                "setting the DNS records failed: {why}; see the zone in the Hetzner console (DNS)"
            )))
        }
        Waited::TimedOut => {
            ui.progress_done(title, "still not done");
            Err(Error::Failed(
                "gave up waiting for the DNS changes; see the zone in the Hetzner console (DNS)"
                    .into(),
            ))
        }
    }
}

fn step_words(step: &Untrusted) -> String {
    match step.raw() {
        "create_rrset" => "creating a record set".into(),
        "set_rrset_records" => "setting records".into(),
        "add_rrset_records" => "adding records".into(),
        _ => step.to_string(),
    }
}

/// The DNS lines of the human output, before its closing `Next: kamal setup`: the records
/// set (with `--dns`), or the records still to make (without it, when the config names
/// proxy hosts).
pub fn human_lines(plan: &Plan, records: &[RecordOut], server: &Server) -> Vec<String> {
    let mut lines = Vec::new();
    if plan.dns {
        lines.push("DNS records (Hetzner DNS):".to_string());
        let rows: Vec<[String; 4]> = records
            .iter()
            .map(|r| {
                let mut status = match r.status {
                    Status::Created => "created",
                    Status::Updated => "updated",
                    Status::Unchanged => "already right",
                }
                .to_string();
                if !r.others.is_empty() {
                    let others: Vec<String> = r.others.iter().map(ToString::to_string).collect();
                    status.push_str(&format!(" (also {}; kept)", others.join(", ")));
                }
                [r.name.clone(), r.kind.to_string(), r.value.clone(), status]
            })
            .collect();
        lines.extend(table(&rows));
    } else if !plan.hosts.names.is_empty() || !plan.hosts.unusable.is_empty() {
        let mut rows = Vec::new();
        for name in &plan.hosts.names {
            if let Some(v4) = server.ipv4() {
                rows.push([name.clone(), "A".into(), v4.to_string(), String::new()]);
            }
            if let Some(v6) = server.ipv6() {
                rows.push([name.clone(), "AAAA".into(), v6.to_string(), String::new()]);
            }
        }
        if !rows.is_empty() {
            lines.push(
                "Before `kamal setup`, point the proxy host names at the server (Let's Encrypt checks them):"
                    .to_string(),
            );
            lines.extend(table(&rows));
            lines.push(
                "(pegasus sets these with --dns when the domain's zone is in Hetzner DNS.)"
                    .to_string(),
            );
        }
    }
    let address = server.address().map(|a| a.to_string()).unwrap_or_default();
    // With --dns these were warnings after the preflight.
    let unusable = if plan.dns {
        &[][..]
    } else {
        &plan.hosts.unusable[..]
    };
    for u in unusable {
        lines.push(format!(
            "{}:{}: the proxy host {} is {}; pegasus does not guess it: point that name at {address} yourself.",
            escape(plan.path.as_deref().unwrap_or("")),
            u.line,
            escape(&u.text),
            u.why
        ));
    }
    lines
}

/// Rows with aligned columns, indented by two spaces; an empty last column is dropped.
fn table(rows: &[[String; 4]]) -> Vec<String> {
    let mut widths = [0usize; 4];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    rows.iter()
        .map(|row| {
            let mut line = String::from(" ");
            for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
                if i == 3 && cell.is_empty() {
                    break;
                }
                line.push_str(&format!(" {cell:<w$} "));
            }
            line.trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(id: u64, name: &str) -> Zone {
        Zone {
            id,
            name: name.into(),
            mode: ZoneMode::Primary,
            authoritative_nameservers: None,
        }
    }

    #[test]
    fn longest_suffix_wins() {
        let zones = [
            zone(1, "example.com"),
            zone(2, "eu.example.com"),
            zone(3, "ample.com"),
        ];
        let got = |n: &str| find_zone(&zones, n).map(|(z, r)| (z.id, r));
        assert_eq!(got("app.example.com"), Some((1, "app".into())));
        assert_eq!(got("example.com"), Some((1, "@".into())));
        assert_eq!(got("app.eu.example.com"), Some((2, "app".into())));
        assert_eq!(got("eu.example.com"), Some((2, "@".into())));
        assert_eq!(got("a.b.example.com"), Some((1, "a.b".into())));
        // A suffix must end at a label boundary.
        assert_eq!(got("sample.com"), None);
        assert_eq!(got("example.org"), None);
    }

    #[test]
    fn base_file_of_a_destination() {
        assert_eq!(
            base_file(Path::new("config/deploy.staging.yml"), "staging"),
            Some(PathBuf::from("config/deploy.yml"))
        );
        assert_eq!(base_file(Path::new("config/deploy.yml"), "staging"), None);
    }

    #[test]
    fn table_aligns_columns() {
        let rows = [
            [
                "example.com".to_string(),
                "A".into(),
                "203.0.113.10".into(),
                String::new(),
            ],
            [
                "example.com".to_string(),
                "AAAA".into(),
                "2001:db8:1::1".into(),
                String::new(),
            ],
        ];
        assert_eq!(
            table(&rows),
            [
                "  example.com  A     203.0.113.10",
                "  example.com  AAAA  2001:db8:1::1"
            ]
        );
    }
}
