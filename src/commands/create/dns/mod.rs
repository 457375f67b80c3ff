//! DNS for the Kamal proxy's host names (SPEC §10). Local: the names ([`plan`]). Step 6:
//! with `--dns`, their zones and record sets ([`preflight`]); what DNS follows, from the
//! Kamal plan the preflight checked ([`follow`]), and consent for live records
//! ([`consent`]). Step 12: the writes, once the server is ready ([`apply`]). The output
//! lists each record and what happened to it, or the records still to make
//! ([`records_todo`], [`human_lines`]).
//!
//! DNS never causes an outage: records are written only for a replace whose host pegasus
//! knows (or `--replace`), `A` and `AAAA` move as a pair, a set holding anything but the
//! replaced host's addresses is live traffic and moves only with consent, and append mode
//! never writes DNS. The rules are in [`decide`], as a table.
//!
//! Without `--dns` no zone is ever requested.

pub mod decide;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::super::aligned as table;
use crate::cli::CreateArgs;
use crate::deploy_file::{self, Located};
use crate::error::{Error, Result};
use crate::hetzner::{self, Client, RrSet, Server, Unplaced, Waited, Written, Zone};
use crate::kamal::proxy::{self, ProxyHosts};
use crate::kamal::{Mode, ProjectServer};
use crate::text::Untrusted;
use crate::ui::{Ui, escape};
use decide::{Follow, SetMove, Write};

/// TTL of a record set pegasus makes (an existing set keeps its own).
pub const NEW_TTL: u32 = 300;
/// The record types a name's address sets are.
const KINDS: [&str; 2] = ["A", "AAAA"];
/// At most this many names are read at once.
const READ_AT_ONCE: usize = 8;

/// The proxy host names of the config, and what the preflight found for them.
#[derive(Debug, Default)]
pub struct Plan {
    pub dns: bool,
    /// Where the names come from (for messages).
    pub path: Option<String>,
    pub hosts: ProxyHosts,
    /// With `--dns`, after the preflight: each name's zone and sets ([`preflight`]).
    pub targets: Vec<Target>,
    /// What DNS follows ([`follow`]); `None` before the preflight decided it.
    pub follow: Option<Follow>,
}

/// A name, the zone that holds it, the record name relative to that zone, and its address
/// sets as the preflight read them.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub zone: Zone,
    /// `app` for `app.example.com` in `example.com`; `@` for the apex.
    pub record: String,
    /// `A`, then `AAAA`, as read (empty: no such set).
    pub sets: [Vec<Untrusted>; 2],
}

/// One record as `--json` reports it in `dns`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOut {
    pub name: String,
    /// `null` without `--dns` (no zone is asked for).
    pub zone: Option<Untrusted>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `null` for a deleted set.
    pub value: Option<String>,
    pub status: Status,
    /// A dry run: what the set holds now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<Vec<Untrusted>>,
    /// A dry run: moving this set needs consent (it holds live traffic).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_consent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The set did not exist and was made (TTL [`NEW_TTL`]).
    Created,
    /// The set existed and its records were replaced.
    Updated,
    /// The set went (the server has no address of its family).
    Deleted,
    /// The set already held the address: nothing was sent.
    Unchanged,
    /// The set changed since the preflight read it: left alone.
    Skipped,
    /// A record for the user to make (no `--dns`, or an append).
    Todo,
}

impl Status {
    fn word(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Deleted => "deleted",
            Status::Unchanged => "already right",
            Status::Skipped => "skipped: changed since pegasus read it",
            Status::Todo => "",
        }
    }
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
/// suffix, a primary zone) and its `A`/`AAAA` sets, read now so that moving live records
/// is asked about before anything is created. A name that is a `CNAME` stops the run.
/// Nothing has been created yet. Prints nothing (it runs beside the other reads).
pub fn preflight(client: &Client, plan: &Plan) -> Result<Vec<Target>> {
    if !plan.dns {
        return Ok(Vec::new());
    }
    let zones = client.zones()?;
    let placed = hetzner::place(&zones, &plan.hosts.names).map_err(|e| {
        Error::Failed(match e {
            Unplaced::NoZone { .. } => format!(
                "{e}; add the domain's zone in the Hetzner console (DNS), or drop --dns and make the records by hand"
            ),
            Unplaced::NotPrimary { .. } => {
                format!("{e}; set the records at the primary, or drop --dns")
            }
        })
    })?;
    let mut targets: Vec<Target> = placed
        .into_iter()
        .map(|p| Target {
            name: p.name,
            zone: p.zone.clone(),
            record: p.record,
            sets: [Vec::new(), Vec::new()],
        })
        .collect();
    // The names' sets, a few names at a time, side by side.
    for chunk in targets.chunks_mut(READ_AT_ONCE) {
        let read: Vec<Result<Vec<RrSet>>> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|t| s.spawn(|| read_sets(client, t)))
                .collect();
            handles.into_iter().map(super::preflight::joined).collect()
        });
        for (t, sets) in chunk.iter_mut().zip(read) {
            let sets = sets?;
            if let Some(cname) = sets.iter().find(|s| s.kind == "CNAME") {
                return Err(Error::Failed(format!(
                    "{} is a CNAME (to {}) in zone {}, so it cannot also have A/AAAA records; pegasus leaves it alone: remove it, or drop --dns and point its target at the server yourself",
                    t.name,
                    escape(&cname.values().join(", ")),
                    t.zone.name,
                )));
            }
            t.sets = values_by_kind(&sets);
        }
    }
    Ok(targets)
}

/// A name's `A`, `AAAA` and `CNAME` sets.
fn read_sets(client: &Client, t: &Target) -> Result<Vec<RrSet>> {
    client.rrsets(t.zone.id, &t.record, &["A", "AAAA", "CNAME"])
}

fn values_by_kind(sets: &[RrSet]) -> [Vec<Untrusted>; 2] {
    KINDS.map(|k| {
        sets.iter()
            .find(|s| s.kind == k)
            .map(|s| s.records.iter().map(|r| r.value.clone()).collect())
            .unwrap_or_default()
    })
}

/// What DNS follows (SPEC §10 "DNS follows the Kamal decision"), from the plan the Kamal
/// preflight checked; with `--dns`, a plan pegasus cannot place is refused now (exit 1,
/// nothing created) unless `--replace` says what to do.
pub fn follow(
    args: &CreateArgs,
    kamal: &deploy_file::Plan,
    project: &[ProjectServer],
    existing: Option<&Server>,
) -> Result<Option<Follow>> {
    if args.role.is_some() {
        return Ok(Some(Follow::Role));
    }
    let expected = kamal.expected.as_ref();
    let web: Vec<IpAddr> = kamal
        .web
        .as_ref()
        .map(|w| {
            w.hosts
                .iter()
                .flatten()
                .filter_map(|h| h.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let follow = match expected.and_then(|e| e.mode()) {
        Some(Mode::Replace) => {
            let replaced = expected.and_then(|e| e.replaced());
            Some(Follow::Replace {
                old: replaced
                    .map(|h| addresses_of(h, project))
                    .unwrap_or_default(),
                known: true,
            })
        }
        Some(Mode::Append) => Some(Follow::Append { current: web }),
        // No edit planned. A picked-up server the config already names: DNS follows the
        // web role as it is (one host: the server's own, so the names move to it).
        None => match (existing, web.as_slice()) {
            (Some(server), [only]) if server.has_address(*only) => Some(Follow::Replace {
                old: Vec::new(),
                known: false,
            }),
            (Some(server), list) if list.iter().any(|a| server.has_address(*a)) => {
                Some(Follow::Append {
                    current: list
                        .iter()
                        .copied()
                        .filter(|a| !server.has_address(*a))
                        .collect(),
                })
            }
            _ if args.mode == Some(Mode::Replace) => Some(Follow::Replace {
                old: Vec::new(),
                known: false,
            }),
            _ => None,
        },
    };
    if args.dns && follow.is_none() && !matches!(kamal.located, Located::Skipped) {
        return Err(Error::Failed(
            "--dns moves the proxy host names only for a replace whose host pegasus knows, \
             and the Kamal config does not give one pegasus can place (hosts written as ERB, \
             no web host, or a file it leaves to you): add --replace to point the names at the \
             new server, or drop --dns and make the records yourself"
                .into(),
        ));
    }
    Ok(follow)
}

/// A host's addresses, and when it is a server of the project, that server's IPv4 and its
/// IPv6 `::1` too (the set may hold either).
fn addresses_of(host: &str, project: &[ProjectServer]) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = host.parse().into_iter().collect();
    if let Some(server) = crate::kamal::owner(host, project) {
        for a in &server.addresses {
            let (addr, _) = a.split_once('/').unwrap_or((a, ""));
            match addr.parse::<IpAddr>() {
                Ok(IpAddr::V6(net)) if a.contains('/') => {
                    let mut seg = net.segments();
                    seg[7] |= 1;
                    out.push(IpAddr::V6(seg.into()));
                }
                Ok(ip) => out.push(ip),
                Err(_) => {}
            }
        }
    }
    crate::sort::sort(&mut out);
    out.dedup();
    out
}

/// A set whose live values a real run would move, for the question and the plan.
#[derive(Debug, Clone)]
pub struct Live {
    pub name: String,
    pub kind: &'static str,
    pub values: Vec<Untrusted>,
}

/// The live sets a replace would move (SPEC §10 "Live records need consent").
pub fn live(plan: &Plan, existing: Option<&Server>) -> Vec<Live> {
    let Some(follow @ Follow::Replace { .. }) = &plan.follow else {
        return Vec::new();
    };
    let ours = existing.map(Server::addresses).unwrap_or_default();
    let mut out = Vec::new();
    for t in &plan.targets {
        for (kind, now) in KINDS.iter().zip(&t.sets) {
            let now: Vec<&str> = now.iter().map(Untrusted::raw).collect();
            let judged = SetMove::judge(&now, follow, &ours);
            if !judged.live.is_empty() {
                out.push(Live {
                    name: t.name.clone(),
                    kind,
                    values: judged.live,
                });
            }
        }
    }
    out
}

/// Consent to move live records: `--yes`, or a yes typed on a terminal (default No);
/// never read from a pipe. Without either: exit 1, nothing created.
pub fn consent(live: &[Live], args: &CreateArgs, ui: &Ui) -> Result<()> {
    if live.is_empty() {
        return Ok(());
    }
    let mut what = String::from("These DNS records point at live traffic:");
    for l in live {
        let values: Vec<String> = l.values.iter().map(ToString::to_string).collect();
        what.push_str(&format!(
            "\n  {} {} {} → the new server",
            l.name,
            l.kind,
            values.join(", ")
        ));
    }
    what.push_str(
        "\nMoving them means visitors reach a server without the app until `kamal setup` has run.",
    );
    if args.yes {
        ui.note(&format!("{what}\nMoving them (--yes)."));
        return Ok(());
    }
    let refused = |how: &str| {
        Error::Failed(format!(
            "{what}\n{how}; nothing was created. Pass --yes to move them, or drop --dns and move the records yourself once the new server serves the app"
        ))
    };
    if !ui.stdin_is_terminal() {
        return Err(refused("Not moved without a terminal to ask on"));
    }
    // A dry run asks nothing: its plan marks the sets "needs consent".
    if args.dry_run {
        return Ok(());
    }
    ui.note(&what);
    match ui.ask("Move them to the new server? [y/N]: ")? {
        Some(a) if matches!(a.trim(), "y" | "Y" | "yes" | "Yes" | "YES") => Ok(()),
        _ => Err(refused("Not moved")),
    }
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

/// Step 12 (with `--dns`, once the server is ready, and only for a replace): every name's
/// `A` and `AAAA` sets become the server's addresses, as a pair. Each name's sets are read
/// again just before; a set that no longer holds what the preflight showed is left alone
/// (`skipped`, and the run ends with exit 1 after the output). Then every action is waited
/// for, together (the action listing is paged, so any number of names works).
pub fn apply(client: &Client, plan: &Plan, server: &Server, ui: &Ui) -> Result<Applied> {
    let mut applied = Applied::default();
    if !plan.dns || !matches!(plan.follow, Some(Follow::Replace { .. })) {
        return Ok(applied);
    }
    let want = [server.ipv4().map(IpAddr::V4), server.ipv6().map(IpAddr::V6)];
    let mut actions = Vec::new();
    for t in &plan.targets {
        let sets = read_sets(client, t)?;
        let now = values_by_kind(&sets);
        for (i, kind) in KINDS.iter().enumerate() {
            let record = |value: Option<IpAddr>, status| RecordOut {
                name: t.name.clone(),
                zone: Some(t.zone.name.clone()),
                kind,
                value: value.map(|v| v.to_string()),
                status,
                now: None,
                needs_consent: false,
            };
            if now[i] != t.sets[i] {
                applied.records.push(record(want[i], Status::Skipped));
                applied.skipped = true;
                continue;
            }
            let have: Vec<&str> = now[i].iter().map(Untrusted::raw).collect();
            let (zone, name) = (t.zone.id, t.record.as_str());
            let (status, written) = match decide::write_for(&have, want[i]) {
                Write::Nothing => continue,
                Write::Unchanged(_) => (Status::Unchanged, None),
                Write::Create(a) => {
                    let v = [a.to_string()];
                    let v: Vec<&str> = v.iter().map(String::as_str).collect();
                    let w = client.create_rrset(zone, name, kind, &v, NEW_TTL)?;
                    (Status::Created, Some(w))
                }
                Write::Set(a) => {
                    let v = [a.to_string()];
                    let v: Vec<&str> = v.iter().map(String::as_str).collect();
                    (
                        Status::Updated,
                        Some(client.set_records(zone, name, kind, &v)?),
                    )
                }
                Write::Delete => (
                    Status::Deleted,
                    Some(client.remove_records(zone, name, kind, &have)?),
                ),
            };
            if let Some(Written::Action(a)) = written {
                actions.push(a.id);
            }
            let value = if status == Status::Deleted {
                None
            } else {
                want[i]
            };
            applied.records.push(record(value, status));
        }
    }
    if !actions.is_empty() {
        wait(client, &actions, ui)?;
    }
    Ok(applied)
}

/// What step 12 did.
#[derive(Debug, Default)]
pub struct Applied {
    pub records: Vec<RecordOut>,
    /// A set changed since the preflight: the run ends with exit 1.
    pub skipped: bool,
}

impl Applied {
    pub fn wrote(&self) -> bool {
        self.records.iter().any(|r| {
            matches!(
                r.status,
                Status::Created | Status::Updated | Status::Deleted
            )
        })
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
        "remove_rrset_records" => "removing records".into(),
        _ => step.to_string(),
    }
}

/// The records for the user to make (`todo`), when pegasus does not write them: without
/// `--dns` for a replace (the new addresses), and for an append (the web role's current
/// hosts and the new addresses: all of them, so nobody drops a serving address).
pub fn records_todo(plan: &Plan, server: &Server) -> Vec<RecordOut> {
    let new = [server.ipv4().map(IpAddr::V4), server.ipv6().map(IpAddr::V6)];
    let values: Vec<IpAddr> = match &plan.follow {
        Some(Follow::Replace { .. }) if !plan.dns => new.into_iter().flatten().collect(),
        Some(Follow::Append { current }) => current
            .iter()
            .copied()
            .chain(new.into_iter().flatten())
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for name in &plan.hosts.names {
        let zone = plan
            .targets
            .iter()
            .find(|t| &t.name == name)
            .map(|t| t.zone.name.clone());
        for v in &values {
            out.push(RecordOut {
                name: name.clone(),
                zone: zone.clone(),
                kind: if v.is_ipv4() { "A" } else { "AAAA" },
                value: Some(v.to_string()),
                status: Status::Todo,
                now: None,
                needs_consent: false,
            });
        }
    }
    out
}

/// A dry run's DNS (SPEC §4 "Dry run"): with `--dns` and a replace, each set as it is now
/// and what a real run would make of it (`<new address>`), live sets marked "needs
/// consent"; otherwise the records a real run would list for the user.
pub fn planned(plan: &Plan, existing: Option<&Server>) -> Vec<RecordOut> {
    let Some(follow) = &plan.follow else {
        return Vec::new();
    };
    // The server's addresses: its own when it is picked up, else stand-ins.
    let new: [(&'static str, String); 2] = match existing {
        Some(s) => [
            ("A", s.ipv4().map_or_else(String::new, |a| a.to_string())),
            ("AAAA", s.ipv6().map_or_else(String::new, |a| a.to_string())),
        ],
        None => [("A", "<new IPv4>".into()), ("AAAA", "<new IPv6>".into())],
    };
    let record = |name: &str, zone: Option<Untrusted>, kind, value: &str, status| RecordOut {
        name: name.to_string(),
        zone,
        kind,
        value: Some(value.to_string()),
        status,
        now: None,
        needs_consent: false,
    };
    let zone_of = |name: &str| {
        plan.targets
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.zone.name.clone())
    };
    if !plan.dns || !matches!(follow, Follow::Replace { .. }) {
        let current: Vec<IpAddr> = match follow {
            Follow::Append { current } => current.clone(),
            Follow::Replace { .. } => Vec::new(),
            Follow::Role => return Vec::new(),
        };
        let mut out = Vec::new();
        for name in &plan.hosts.names {
            for a in &current {
                let kind = if a.is_ipv4() { "A" } else { "AAAA" };
                out.push(record(
                    name,
                    zone_of(name),
                    kind,
                    &a.to_string(),
                    Status::Todo,
                ));
            }
            for (kind, v) in new.iter().filter(|(_, v)| !v.is_empty()) {
                out.push(record(name, zone_of(name), kind, v, Status::Todo));
            }
        }
        return out;
    }
    let ours = existing.map(Server::addresses).unwrap_or_default();
    let mut out = Vec::new();
    for t in &plan.targets {
        for ((kind, value), now) in new.iter().zip(&t.sets) {
            let raw: Vec<&str> = now.iter().map(Untrusted::raw).collect();
            let judged = SetMove::judge(&raw, follow, &ours);
            let status = match (now.is_empty(), value.is_empty()) {
                (true, true) => continue,
                (true, false) => Status::Created,
                (false, true) => Status::Deleted,
                (false, false) => Status::Updated,
            };
            let mut r = record(&t.name, Some(t.zone.name.clone()), kind, value, status);
            if value.is_empty() {
                r.value = None;
            }
            r.now = Some(now.clone());
            r.needs_consent = !judged.live.is_empty();
            out.push(r);
        }
    }
    out
}

/// A dry run's DNS lines: each record, what it holds now, and what it would hold.
pub fn planned_lines(records: &[RecordOut]) -> Vec<String> {
    if records.is_empty() {
        return Vec::new();
    }
    let rows: Vec<[String; 4]> = records
        .iter()
        .map(|r| {
            let now = match &r.now {
                Some(v) if v.is_empty() => "(none)".to_string(),
                Some(v) => v
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                None => String::new(),
            };
            let to = r.value.clone().unwrap_or_else(|| "(deleted)".into());
            let change = if r.now.is_some() {
                format!("{now} → {to}")
            } else {
                to
            };
            let mark = match (r.status, r.needs_consent) {
                (_, true) => "needs consent (live traffic)",
                (Status::Todo, _) => "for you to make",
                _ => "",
            };
            [r.name.clone(), r.kind.to_string(), change, mark.to_string()]
        })
        .collect();
    let mut lines = vec!["DNS:".to_string()];
    lines.extend(table(&rows));
    lines
}

/// The DNS lines of the human output, before its closing next step: the records set, or
/// the records still to make.
pub fn human_lines(plan: &Plan, records: &[RecordOut], server: &Server) -> Vec<String> {
    let mut lines = Vec::new();
    let rows = |recs: &[&RecordOut]| -> Vec<[String; 4]> {
        recs.iter()
            .map(|r| {
                [
                    r.name.clone(),
                    r.kind.to_string(),
                    r.value.clone().unwrap_or_else(|| "-".into()),
                    r.status.word().to_string(),
                ]
            })
            .collect()
    };
    let written: Vec<&RecordOut> = records
        .iter()
        .filter(|r| r.status != Status::Todo)
        .collect();
    let todo: Vec<&RecordOut> = records
        .iter()
        .filter(|r| r.status == Status::Todo)
        .collect();
    if !written.is_empty() {
        lines.push("DNS records (Hetzner DNS):".to_string());
        lines.extend(table(&rows(&written)));
    }
    if !todo.is_empty() {
        match &plan.follow {
            Some(Follow::Append { .. }) => {
                lines.push(format!(
                    "After `kamal deploy`, once {} serves the app, add it to the proxy host names (keep the addresses already there):",
                    server.name
                ));
                lines.extend(table(&rows(&todo)));
            }
            _ => {
                lines.push(
                    "Before `kamal setup`, point the proxy host names at the server (Let's Encrypt checks them):"
                        .to_string(),
                );
                lines.extend(table(&rows(&todo)));
                lines.push(
                    "(pegasus sets these with --dns when the domain's zone is in Hetzner DNS.)"
                        .to_string(),
                );
            }
        }
    }
    let address = server.address().map(|a| a.to_string()).unwrap_or_default();
    // With --dns these were warnings after the preflight.
    if !plan.dns {
        for u in &plan.hosts.unusable {
            lines.push(format!(
                "{}:{}: the proxy host {} is {}; pegasus does not guess it: point that name at {address} yourself.",
                escape(plan.path.as_deref().unwrap_or("")),
                u.line,
                escape(&u.text),
                u.why
            ));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hetzner::ZoneMode;

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
        let got = |n: &str| hetzner::zone_for(&zones, n).map(|(z, r)| (z.id, r));
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
