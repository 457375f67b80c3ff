//! `destroy --dns` (SPEC §5, §10): the Kamal `proxy` host names ([`names`], local, exit 2
//! without any), their zones and `A`/`AAAA` record sets read before the confirmation
//! ([`preflight`], exit 1 for a name without a zone), and, once the deletes succeeded,
//! only the deleted servers' addresses taken out of those sets ([`apply`]): other values
//! are never touched, and a set left with no records is deleted (the API does that).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::super::aligned as table;
use crate::cli::DestroyArgs;
use crate::deploy_file::Located;
use crate::error::{Error, Result};
use crate::hetzner::{Client, Placed, Server, Unplaced, Waited, Written, place};
use crate::kamal::proxy;
use crate::text::{Untrusted, escape};
use crate::ui::Ui;

/// The proxy host names.
#[derive(Debug)]
pub struct Names {
    pub names: Vec<String>,
}

/// One record set that holds an address of a server of this run, as read before the
/// confirmation.
#[derive(Debug, Clone)]
pub struct Set {
    /// `app.example.com`.
    pub name: String,
    pub zone: Untrusted,
    pub zone_id: u64,
    /// Relative to the zone (`app`, `@`).
    pub record: String,
    pub kind: &'static str,
    /// What the set holds, as the API wrote it.
    pub values: Vec<Untrusted>,
}

/// The sets that hold the run's addresses (none: nothing to remove).
#[derive(Debug, Default)]
pub struct Plan {
    pub names: Vec<String>,
    pub sets: Vec<Set>,
}

/// One record in `--json`'s `dns` (SPEC §10): the value of the deleted server that left
/// the set: `deleted`, or `unchanged` when the set no longer held it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOut {
    pub name: String,
    pub zone: Untrusted,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    pub status: Status,
    /// The server whose address it is (index into the run's servers).
    #[serde(skip)]
    pub server: usize,
    /// What the set still holds after (for the human output).
    #[serde(skip)]
    pub kept: Vec<Untrusted>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Deleted,
    Unchanged,
}

/// Local, before any request: with `--dns`, the config's proxy host names (a destination
/// file without a `proxy` of its own serves the base file's, as Kamal merges them). No
/// config, or no usable name: exit 2. `None` without `--dns`.
pub fn names(args: &DestroyArgs, located: &Located) -> Result<Option<Names>> {
    if !args.dns {
        return Ok(None);
    }
    let path = match located {
        Located::Found(path) => path,
        // `--dns` with `--no-kamal` is refused by the parser.
        Located::Skipped | Located::NotFound => {
            return Err(Error::Invalid(
                "--dns removes the server from the records of the Kamal proxy host names (proxy.host), but no Kamal config was found (config/deploy.yml); use -c FILE or drop --dns".into(),
            ));
        }
    };
    let mut shown = path.clone();
    let mut read = read_names(path);
    let base = args
        .kamal
        .destination
        .as_deref()
        .and_then(|d| base_file(path, d));
    if let (Ok(found), Some(base)) = (&read, base) {
        if found.names.is_empty() && found.unusable.is_empty() && base.is_file() {
            read = read_names(&base);
            shown = base;
        }
    }
    let shown = shown.display().to_string();
    let hosts = read.map_err(|why| {
        Error::Invalid(format!(
            "--dns needs the proxy host names from {}, but it {why}",
            escape(&shown)
        ))
    })?;
    if hosts.names.is_empty() {
        let mut msg = format!(
            "--dns needs proxy host names (proxy.host or proxy.hosts), and {} has none pegasus can use",
            escape(&shown)
        );
        for u in &hosts.unusable {
            msg.push_str(&format!(
                "; line {}: {} is {}",
                u.line,
                escape(&u.text),
                u.why
            ));
        }
        msg.push_str("; drop --dns and remove the records by hand");
        return Err(Error::Invalid(msg));
    }
    Ok(Some(Names { names: hosts.names }))
}

fn read_names(path: &Path) -> std::result::Result<proxy::ProxyHosts, String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("cannot be read ({})", crate::error::io_reason(&e)))?;
    let text = String::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_string())?;
    proxy::proxy_hosts(&text).map_err(|e| format!("does not parse ({e})"))
}

/// `config/deploy.yml` for `config/deploy.staging.yml` and destination `staging`.
fn base_file(path: &Path, destination: &str) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(&format!(".{destination}.yml"))?;
    Some(path.with_file_name(format!("{stem}.yml")))
}

/// Before the confirmation: every name's zone (the project's zone that is its longest
/// suffix; a name without one, or in a secondary zone: exit 1, nothing deleted), and the
/// `A`/`AAAA` sets that hold an address of `servers`.
pub fn preflight(client: &Client, names: &Names, servers: &[Server]) -> Result<Plan> {
    let zones = client.zones()?;
    let targets = place(&zones, &names.names).map_err(|e| {
        Error::Failed(match e {
            Unplaced::NoZone { .. } => {
                format!("{e}; nothing was deleted. Drop --dns and remove the records by hand")
            }
            Unplaced::NotPrimary { .. } => format!(
                "{e}; nothing was deleted. Drop --dns and change the records at the primary"
            ),
        })
    })?;
    let addresses: Vec<IpAddr> = servers.iter().flat_map(Server::addresses).collect();
    let mut plan = Plan {
        names: names.names.clone(),
        sets: Vec::new(),
    };
    for Placed { name, zone, record } in targets {
        for set in client.rrsets(zone.id, &record, &["A", "AAAA"])? {
            let kind = match set.kind.raw() {
                "A" => "A",
                "AAAA" => "AAAA",
                _ => continue,
            };
            if !set
                .values()
                .iter()
                .any(|v| matching(v, &addresses).is_some())
            {
                continue;
            }
            plan.sets.push(Set {
                name: name.clone(),
                zone: zone.name.clone(),
                zone_id: zone.id,
                record: record.clone(),
                kind,
                values: set.records.iter().map(|r| r.value.clone()).collect(),
            });
        }
    }
    Ok(plan)
}

/// The address among `addresses` that a record value is (compared as addresses).
fn matching(value: &str, addresses: &[IpAddr]) -> Option<IpAddr> {
    let parsed: IpAddr = value.trim().parse().ok()?;
    addresses.iter().copied().find(|a| *a == parsed)
}

impl Plan {
    /// For the confirmation: what the record sets will lose.
    pub fn preview_lines(&self, servers: &[Server]) -> Vec<String> {
        let addresses: Vec<IpAddr> = servers.iter().flat_map(Server::addresses).collect();
        if self.sets.is_empty() {
            return vec![format!(
                "DNS (Hetzner): no A or AAAA record of {} holds {}; no record will change.",
                self.names.join(", "),
                if servers.len() == 1 {
                    "its address"
                } else {
                    "their addresses"
                }
            )];
        }
        let mut rows = Vec::new();
        for set in &self.sets {
            let (gone, kept) = split(&set.values, &addresses);
            for value in gone {
                rows.push([
                    set.name.clone(),
                    set.kind.to_string(),
                    value.to_string(),
                    words(&kept),
                ]);
            }
        }
        let mut lines =
            vec!["DNS (Hetzner), once the delete succeeded, these records go:".to_string()];
        lines.extend(table(&rows));
        lines
    }
}

/// A set's values: those that are one of `addresses` (as addresses) and the others.
fn split(values: &[Untrusted], addresses: &[IpAddr]) -> (Vec<IpAddr>, Vec<Untrusted>) {
    let mut gone = Vec::new();
    let mut kept = Vec::new();
    for v in values {
        match matching(v.raw(), addresses) {
            Some(a) => gone.push(a),
            None => kept.push(v.clone()),
        }
    }
    (gone, kept)
}

fn words(kept: &[Untrusted]) -> String {
    if kept.is_empty() {
        "the set is deleted (it holds nothing else)".to_string()
    } else {
        let kept: Vec<String> = kept.iter().map(ToString::to_string).collect();
        format!("{} stays", kept.join(", "))
    }
}

/// After the deletes: take the addresses of the servers that are gone (`deleted`, by
/// index into `servers`) out of the planned sets. Each set is read again just before
/// (it may have changed); only values that are still there are sent. The actions are
/// waited for together. The records, and the error that stopped it, if any.
pub fn apply(
    client: &Client,
    plan: &Plan,
    servers: &[Server],
    deleted: &[usize],
    ui: &Ui,
) -> (Vec<RecordOut>, Option<Error>) {
    let mut out = Vec::new();
    let mut actions = Vec::new();
    for set in &plan.sets {
        let planned: Vec<(usize, IpAddr)> = deleted
            .iter()
            .flat_map(|i| servers.get(*i).map(|s| (*i, s.addresses())))
            .flat_map(|(i, addrs)| addrs.into_iter().map(move |a| (i, a)))
            .filter(|(_, a)| {
                set.values
                    .iter()
                    .any(|v| matching(v.raw(), &[*a]).is_some())
            })
            .collect();
        if planned.is_empty() {
            continue;
        }
        let now = match client.rrsets(set.zone_id, &set.record, &[set.kind]) {
            Ok(sets) => sets.into_iter().find(|s| s.kind == set.kind),
            Err(e) => return (out, Some(dns_failed(e))),
        };
        let held: Vec<Untrusted> = now
            .map(|s| s.records.into_iter().map(|r| r.value).collect())
            .unwrap_or_default();
        // The values exactly as the set holds them now, to send back.
        let mut send: Vec<&str> = Vec::new();
        let mut records = Vec::new();
        for (server, address) in &planned {
            let there: Vec<&str> = held
                .iter()
                .map(Untrusted::raw)
                .filter(|v| matching(v, &[*address]).is_some())
                .collect();
            send.extend(&there);
            records.push(RecordOut {
                name: set.name.clone(),
                zone: set.zone.clone(),
                kind: set.kind,
                value: address.to_string(),
                status: if there.is_empty() {
                    Status::Unchanged
                } else {
                    Status::Deleted
                },
                server: *server,
                kept: Vec::new(),
            });
        }
        crate::sort::sort(&mut send);
        send.dedup();
        let kept: Vec<Untrusted> = held
            .iter()
            .filter(|v| !send.contains(&v.raw()))
            .cloned()
            .collect();
        for r in &mut records {
            r.kept.clone_from(&kept);
        }
        if !send.is_empty() {
            match client.remove_records(set.zone_id, &set.record, set.kind, &send) {
                Ok(Written::Action(a)) => actions.push(a.id),
                Ok(Written::AlreadyThere) => {}
                Err(e) => return (out, Some(dns_failed(e))),
            }
        }
        out.extend(records);
    }
    if actions.is_empty() {
        return (out, None);
    }
    let title = "DNS";
    let mut progress = |step: &Untrusted, pct: Option<u32>| {
        let words = match step.raw() {
            "remove_rrset_records" => "removing records".to_string(),
            _ => step.to_string(),
        };
        ui.progress(title, &words, pct);
    };
    let error = match client.wait_for_actions(&actions, &mut progress) {
        Ok(Waited::Done) => {
            ui.progress_done(title, "records removed");
            None
        }
        Ok(Waited::Failed(why)) => {
            ui.progress_done(title, "failed");
            Some(Error::Failed(format!(
                "removing the DNS records failed: {why}; see the zone in the Hetzner console (DNS)"
            )))
        }
        Ok(Waited::TimedOut) => {
            ui.progress_done(title, "still not done");
            Some(Error::Failed(
                "gave up waiting for the DNS changes; see the zone in the Hetzner console (DNS)"
                    .into(),
            ))
        }
        Err(e) => Some(dns_failed(e)),
    };
    (out, error)
}

fn dns_failed(e: Error) -> Error {
    Error::Failed(format!(
        "removing the DNS records failed: {e}; see the zone in the Hetzner console (DNS)"
    ))
}

/// The DNS lines of the human output.
pub fn human_lines(records: &[RecordOut]) -> Vec<String> {
    if records.is_empty() {
        return Vec::new();
    }
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|r| {
            let what = match r.status {
                Status::Deleted if r.kept.is_empty() => {
                    "removed; the set is deleted (it held nothing else)".to_string()
                }
                Status::Deleted => {
                    let kept: Vec<String> = r.kept.iter().map(ToString::to_string).collect();
                    format!("removed ({} stays)", kept.join(", "))
                }
                Status::Unchanged => "already gone".to_string(),
            };
            [r.name.clone(), r.kind.to_string(), r.value.clone(), what]
        })
        .collect();
    let mut lines = vec!["DNS records (Hetzner DNS):".to_string()];
    lines.extend(table(&rows));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_as_addresses() {
        let a: IpAddr = "2001:db8::1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        assert_eq!(matching("2001:DB8:0::1", &[a]), Some(a));
        assert_eq!(matching("2001:db8::10", &[a]), None);
        assert_eq!(matching("not an address", &[a]), None);
    }

    #[test]
    fn split_keeps_the_other_values() {
        let a: IpAddr = "198.51.100.10"
            .parse()
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let values = [
            Untrusted::new("198.51.100.10"),
            Untrusted::new("198.51.100.11"),
        ];
        let (gone, kept) = split(&values, &[a]);
        assert_eq!(gone, [a]);
        assert_eq!(kept, [Untrusted::new("198.51.100.11")]);
        assert_eq!(words(&kept), "198.51.100.11 stays");
        assert_eq!(words(&[]), "the set is deleted (it holds nothing else)");
    }

    #[test]
    fn base_file_of_a_destination() {
        assert_eq!(
            base_file(Path::new("config/deploy.staging.yml"), "staging"),
            Some(PathBuf::from("config/deploy.yml"))
        );
        assert_eq!(base_file(Path::new("config/deploy.yml"), "staging"), None);
    }
}
