//! DNS zones and their record sets (`/zones`, `/zones/{id}/rrsets` and the rrset actions
//! `set_records` / `remove_records`). A record set is addressed by zone id, relative name
//! (`www`, `@` for the apex) and type.
//!
//! Writes are POSTs, never resent blindly: after a failure without a clear answer (or a
//! 409 because the set was made meanwhile) the set is read again, and when it already holds
//! what the write asked for, that counts as done.

use serde::{Deserialize, Serialize};

use super::values::ZoneMode;
use super::{Action, Client, Listed, decode, query_escape};
use crate::error::{Error, Result};
use crate::http::{Failure, Method};
use crate::text::Untrusted;

/// A zone of the project.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Zone {
    pub id: u64,
    /// Lower case, no trailing dot (`example.com`).
    pub name: Untrusted,
    /// `primary` (records editable through the API) or `secondary`.
    pub mode: ZoneMode,
    #[serde(default)]
    pub authoritative_nameservers: Option<Nameservers>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Nameservers {
    #[serde(default)]
    pub assigned: Vec<Untrusted>,
    /// `valid`, `partially-valid`, `invalid`, `lame`, `unregistered`, `unknown`.
    #[serde(default)]
    pub delegation_status: Option<Untrusted>,
}

impl Listed for Zone {
    fn id(&self) -> u64 {
        self.id
    }
}

/// A record set: every record of one name and type.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RrSet {
    /// `name/type` (`www/A`, `@/AAAA`).
    pub id: Untrusted,
    /// Relative to the zone (`www`, `@`).
    pub name: Untrusted,
    #[serde(rename = "type")]
    pub kind: Untrusted,
    #[serde(default)]
    pub records: Vec<Record>,
    /// `None`: the zone's default TTL applies.
    pub ttl: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Record {
    pub value: Untrusted,
}

/// A listing repeating an item is noticed by its id; a set's id is text, so its hash.
impl Listed for RrSet {
    fn id(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut h = DefaultHasher::new();
        self.id.hash(&mut h);
        h.finish()
    }
}

impl RrSet {
    /// The records' values as they came (compare with them; show them escaped).
    pub fn values(&self) -> Vec<&str> {
        self.records.iter().map(|r| r.value.raw()).collect()
    }
}

/// What a write to a record set did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Accepted: wait for this action.
    Action(Action),
    /// No clear answer, but the set already holds what was asked for.
    AlreadyThere,
}

/// How a write wants the set to end up (for the check after an unclear answer).
#[derive(Clone, Copy)]
enum Want {
    /// Exactly these values.
    Exactly,
    /// None of these values (a set that is gone holds none).
    Excludes,
}

impl Client<'_> {
    /// Every zone of the project (all pages).
    pub fn zones(&self) -> Result<Vec<Zone>> {
        let mut zones: Vec<Zone> = self.get_all("/zones", "zones")?;
        crate::sort::sort_by_key(&mut zones, |z| z.id);
        zones.dedup_by_key(|z| z.id);
        Ok(zones)
    }

    /// The record sets of `name` (relative) in the zone with these types (all pages).
    pub fn rrsets(&self, zone: u64, name: &str, types: &[&str]) -> Result<Vec<RrSet>> {
        let mut path = format!("/zones/{zone}/rrsets?name={}", query_escape(name));
        for t in types {
            path.push_str(&format!("&type={}", query_escape(t)));
        }
        let sets: Vec<RrSet> = self.get_all(&path, "rrsets")?;
        Ok(sets.into_iter().filter(|s| s.name == name).collect())
    }

    /// `POST /zones/{zone}/rrsets`: a new set holding `values`, with this TTL.
    pub fn create_rrset(
        &self,
        zone: u64,
        name: &str,
        kind: &str,
        values: &[&str],
        ttl: u32,
    ) -> Result<Written> {
        /// The body, its fields in alphabetical order as before.
        #[derive(Serialize)]
        struct NewRrSet<'a> {
            name: &'a str,
            records: Vec<RecordValue<'a>>,
            ttl: u32,
            #[serde(rename = "type")]
            kind: &'a str,
        }
        let body = json(&NewRrSet {
            name,
            records: records(values),
            ttl,
            kind,
        })?;
        let path = format!("/zones/{zone}/rrsets");
        self.write_rrset(&path, &body, (zone, name, kind), values, Want::Exactly)
    }

    /// `set_records`: the set's records become exactly `values` (its TTL stays).
    pub fn set_records(
        &self,
        zone: u64,
        name: &str,
        kind: &str,
        values: &[&str],
    ) -> Result<Written> {
        self.rrset_action((zone, name, kind), "set_records", values, Want::Exactly)
    }

    /// `remove_records`: `values` leave the set; a set left with no records is deleted
    /// by the API itself. Other values are never touched.
    pub fn remove_records(
        &self,
        zone: u64,
        name: &str,
        kind: &str,
        values: &[&str],
    ) -> Result<Written> {
        self.rrset_action((zone, name, kind), "remove_records", values, Want::Excludes)
    }

    /// `POST …/rrsets/{name}/{type}/actions/{action}` with `{"records": [...]}`.
    fn rrset_action(
        &self,
        set: (u64, &str, &str),
        action: &str,
        values: &[&str],
        want: Want,
    ) -> Result<Written> {
        let (zone, name, kind) = set;
        #[derive(Serialize)]
        struct Records<'a> {
            records: Vec<RecordValue<'a>>,
        }
        let body = json(&Records {
            records: records(values),
        })?;
        let path = format!("/zones/{zone}/rrsets/{name}/{kind}/actions/{action}");
        self.write_rrset(&path, &body, set, values, want)
    }

    fn write_rrset(
        &self,
        path: &str,
        body: &str,
        (zone, name, kind): (u64, &str, &str),
        values: &[&str],
        want: Want,
    ) -> Result<Written> {
        #[derive(Deserialize)]
        struct Answer {
            action: Action,
        }
        let failure = match self.http.execute(Method::Post, path, Some(body)) {
            Ok(text) => return Ok(Written::Action(decode::<Answer>(&text)?.action)),
            Err(f) => f,
        };
        let excludes = matches!(want, Want::Excludes);
        let maybe_done = match &failure {
            Failure::Unclear(_) => true,
            Failure::Clear(Error::Api(api)) => {
                api.code() == "uniqueness_error" || (excludes && api.code() == "not_found")
            }
            Failure::Clear(_) => false,
        };
        if maybe_done {
            let sets = self.rrsets(zone, name, &[kind])?;
            let done = match sets.iter().find(|s| s.kind == kind) {
                Some(set) => reached(&set.values(), values, want),
                None => excludes,
            };
            if done {
                return Ok(Written::AlreadyThere);
            }
        }
        Err(failure.into_error())
    }
}

/// A record in a request body: `{"value": "203.0.113.10"}`.
#[derive(Serialize)]
struct RecordValue<'a> {
    value: &'a str,
}

fn records<'a>(values: &[&'a str]) -> Vec<RecordValue<'a>> {
    values.iter().map(|&value| RecordValue { value }).collect()
}

/// A request body as JSON text (typed bodies, not `json!`: one serializer in the binary).
fn json(body: &impl Serialize) -> Result<String> {
    serde_json::to_string(body).map_err(|e| Error::Failed(e.to_string()))
}

fn reached(have: &[&str], values: &[&str], want: Want) -> bool {
    match want {
        Want::Exactly => values.iter().all(|v| have.contains(v)) && have.len() == values.len(),
        Want::Excludes => !values.iter().any(|v| have.contains(v)),
    }
}

/// The project's zone that is the longest suffix of `name` (`app.example.com` → zone
/// `example.com`), and the record name relative to it (`app`; `@` for the apex).
pub fn zone_for<'z>(zones: &'z [Zone], name: &str) -> Option<(&'z Zone, String)> {
    zones
        .iter()
        .filter_map(|z| {
            let zone = z.name.raw().trim_end_matches('.').to_ascii_lowercase();
            if name == zone {
                return Some((z, "@".to_string(), zone.len()));
            }
            let record = name.strip_suffix(&zone)?.strip_suffix('.')?;
            (!record.is_empty()).then(|| (z, record.to_string(), zone.len()))
        })
        .max_by_key(|(_, _, len)| *len)
        .map(|(z, record, _)| (z, record))
}

/// A name placed in the project's zone that holds it.
#[derive(Debug)]
pub struct Placed<'z> {
    /// `app.example.com`.
    pub name: String,
    pub zone: &'z Zone,
    /// Relative to the zone (`app`, `@`).
    pub record: String,
}

/// Why the names cannot all be placed. `Display` says what was found; the caller adds
/// what it will not do and what the user can do.
#[derive(Debug)]
pub enum Unplaced<'z> {
    /// No zone of the project holds these names.
    NoZone {
        names: Vec<String>,
        zones: &'z [Zone],
    },
    /// The zone holding `name` is not primary: its records are not edited through the API.
    NotPrimary { name: String, zone: &'z Zone },
}

/// Each name in the project's zone that is its longest suffix ([`zone_for`]), all in
/// primary zones; else why not.
pub fn place<'z>(
    zones: &'z [Zone],
    names: &[String],
) -> std::result::Result<Vec<Placed<'z>>, Unplaced<'z>> {
    let mut placed = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match zone_for(zones, name) {
            Some((zone, record)) => placed.push(Placed {
                name: name.clone(),
                zone,
                record,
            }),
            None => missing.push(name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Unplaced::NoZone {
            names: missing,
            zones,
        });
    }
    match placed.iter().find(|p| p.zone.mode != ZoneMode::Primary) {
        Some(p) => Err(Unplaced::NotPrimary {
            name: p.name.clone(),
            zone: p.zone,
        }),
        None => Ok(placed),
    }
}

impl std::fmt::Display for Unplaced<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unplaced::NoZone { names, zones } => {
                write!(
                    f,
                    "no DNS zone in this Hetzner project holds {} (",
                    names.join(", ")
                )?;
                if zones.is_empty() {
                    f.write_str("the project has no DNS zones")?;
                } else {
                    let zones: Vec<String> = zones.iter().map(|z| z.name.to_string()).collect();
                    write!(f, "the project's zones: {}", zones.join(", "))?;
                }
                f.write_str(")")
            }
            Unplaced::NotPrimary { name, zone } => write!(
                f,
                "zone {} is a {} zone: its records come from its primary name servers, so pegasus cannot change {name} there",
                zone.name, zone.mode
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reached_compares_values() {
        assert!(reached(&["1.2.3.4"], &["1.2.3.4"], Want::Exactly));
        assert!(!reached(
            &["1.2.3.4", "5.6.7.8"],
            &["1.2.3.4"],
            Want::Exactly
        ));
        assert!(reached(&["5.6.7.8"], &["1.2.3.4"], Want::Excludes));
        assert!(!reached(
            &["5.6.7.8", "1.2.3.4"],
            &["1.2.3.4"],
            Want::Excludes
        ));
    }

    #[test]
    fn decodes_the_api_shapes() {
        let zone: Zone = serde_json::from_str(
            r#"{"id": 42, "name": "example.com", "mode": "primary", "ttl": 3600,
                "authoritative_nameservers": {"assigned": ["hydrogen.ns.hetzner.com."],
                  "delegated": [], "delegation_last_check": null, "delegation_status": "valid"},
                "labels": {}, "protection": {"delete": false}, "record_count": 4,
                "registrar": "other", "status": "ok", "created": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!((zone.id, zone.mode), (42, ZoneMode::Primary));
        let set: RrSet = serde_json::from_str(
            r#"{"id": "www/A", "name": "www", "type": "A", "ttl": null, "zone": 42,
                "labels": {}, "protection": {"change": false},
                "records": [{"value": "198.51.100.1", "comment": "web"}]}"#,
        )
        .unwrap();
        assert_eq!((set.kind.raw(), set.ttl), ("A", None));
        assert_eq!(set.values(), ["198.51.100.1"]);
    }

    fn zone(id: u64, name: &str, mode: &str) -> Zone {
        let json = format!(r#"{{"id": {id}, "name": "{name}", "mode": "{mode}"}}"#);
        serde_json::from_str(&json).unwrap()
    }

    #[test]
    fn names_are_placed_in_the_longest_zone_or_refused() {
        let zones = [
            zone(1, "example.com", "primary"),
            zone(2, "eu.example.com", "primary"),
            zone(3, "example.org", "secondary"),
        ];
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let placed = place(&zones, &names(&["app.eu.example.com", "example.com"])).unwrap();
        let got: Vec<_> = placed
            .iter()
            .map(|p| (p.name.as_str(), p.zone.id, p.record.as_str()))
            .collect();
        assert_eq!(
            got,
            [("app.eu.example.com", 2, "app"), ("example.com", 1, "@")]
        );

        let e = place(
            &zones,
            &names(&["a.example.net", "b.example.com", "c.test"]),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no DNS zone in this Hetzner project holds a.example.net, c.test (the project's zones: example.com, eu.example.com, example.org)"
        );
        let e = place(&[], &names(&["a.example.net"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no DNS zone in this Hetzner project holds a.example.net (the project has no DNS zones)"
        );
        let e = place(&zones, &names(&["example.com", "www.example.org"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "zone example.org is a secondary zone: its records come from its primary name servers, so pegasus cannot change www.example.org there"
        );
    }
}
