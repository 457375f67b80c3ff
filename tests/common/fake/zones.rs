//! DNS zones and record sets of the fake API (`/zones`, `/zones/{id_or_name}/rrsets`, the
//! rrset actions `set_records` / `add_records` / `remove_records`), following the OpenAPI
//! description: record set ids are `name/type` (`www/A`, `@/A`), a new primary zone gets an
//! `SOA` and three `NS` sets at `@`, every rrset operation on a secondary zone answers 422
//! `incorrect_zone_mode`, `remove_records` deletes a set it leaves empty, and writes answer
//! 201 with an action (`create_rrset`, `set_rrset_records`, `add_rrset_records`,
//! `remove_rrset_records`; resource type `zone`) that is polled like any other action
//! (`/actions?id=`, `/actions/{id}`, `/zones/actions/{id}`). Changes apply at once; the
//! action only reports them.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::super::util::{self, rfc3339};
use super::{
    Query, R, Resp, State, error, invalid_fields, missing, not_found, parse_body, parse_id,
    parse_labels, selector, sort_items,
};

const NAMESERVERS: [&str; 3] = [
    "hydrogen.ns.hetzner.com.",
    "oxygen.ns.hetzner.com.",
    "helium.ns.hetzner.de.",
];
const TYPES: [&str; 16] = [
    "A", "AAAA", "CAA", "CNAME", "DS", "HINFO", "HTTPS", "MX", "NS", "PTR", "RP", "SOA", "SRV",
    "SVCB", "TLSA", "TXT",
];

/// The zones of the fake project.
#[derive(Default)]
pub struct Zones {
    zones: BTreeMap<u64, Zone>,
    created: u64,
}

struct Zone {
    id: u64,
    name: String,
    mode: &'static str,
    ttl: u64,
    labels: Map<String, Value>,
    created: SystemTime,
    delegation: String,
    /// By `(name, type)`.
    rrsets: BTreeMap<(String, String), RrSet>,
}

struct RrSet {
    name: String,
    kind: String,
    records: Vec<(String, Option<String>)>,
    ttl: Option<u64>,
    labels: Map<String, Value>,
}

/// The resource type of an action, by its command (for `resources` in action objects).
pub fn resource_type(command: &str) -> &'static str {
    if command.contains("rrset") || command.contains("zone") {
        "zone"
    } else {
        "server"
    }
}

impl Zones {
    fn add(&mut self, name: &str, mode: &'static str, ttl: u64, now: SystemTime) -> u64 {
        self.created += 1;
        let id = 90_000 + self.created;
        let mut zone = Zone {
            id,
            name: name.to_string(),
            mode,
            ttl,
            labels: Map::new(),
            created: now,
            delegation: "valid".into(),
            rrsets: BTreeMap::new(),
        };
        if mode == "primary" {
            let soa = format!(
                "{} dns.hetzner.com. 2026010101 86400 10800 3600000 3600",
                NAMESERVERS[0]
            );
            zone.put("@", "SOA", &[soa.as_str()], None);
            zone.put("@", "NS", &NAMESERVERS, None);
        }
        self.zones.insert(id, zone);
        id
    }

    fn find(&self, id_or_name: &str) -> Option<u64> {
        match parse_id(id_or_name) {
            Some(id) => self.zones.contains_key(&id).then_some(id),
            None => self
                .zones
                .values()
                .find(|z| z.name == id_or_name)
                .map(|z| z.id),
        }
    }

    fn by_name_mut(&mut self, name: &str) -> &mut Zone {
        let id = self
            .find(name)
            .unwrap_or_else(|| panic!("fake: no zone {name}"));
        self.zones.get_mut(&id).unwrap_or_else(|| unreachable!())
    }
}

impl Zone {
    fn put(&mut self, name: &str, kind: &str, values: &[&str], ttl: Option<u64>) {
        self.rrsets.insert(
            (name.to_string(), kind.to_string()),
            RrSet {
                name: name.to_string(),
                kind: kind.to_string(),
                records: values.iter().map(|v| (v.to_string(), None)).collect(),
                ttl,
                labels: Map::new(),
            },
        );
    }

    fn json(&self) -> Value {
        let records: usize = self.rrsets.values().map(|s| s.records.len()).sum();
        let delegated: Vec<&str> = if self.delegation == "valid" {
            NAMESERVERS.to_vec()
        } else {
            Vec::new()
        };
        let mut v = json!({
            "id": self.id, "name": self.name, "created": rfc3339(self.created),
            "mode": self.mode, "ttl": self.ttl, "labels": self.labels,
            "protection": {"delete": false}, "record_count": records,
            "registrar": "other", "status": "ok",
            "authoritative_nameservers": {
                "assigned": NAMESERVERS, "delegated": delegated,
                "delegation_last_check": rfc3339(self.created),
                "delegation_status": self.delegation,
            },
        });
        if self.mode == "secondary" {
            v["primary_nameservers"] = json!([{"address": "198.51.100.53", "port": 53}]);
        }
        v
    }
}

impl RrSet {
    fn json(&self, zone: u64) -> Value {
        let records: Vec<Value> = self
            .records
            .iter()
            .map(|(value, comment)| match comment {
                Some(c) => json!({"value": value, "comment": c}),
                None => json!({"value": value}),
            })
            .collect();
        json!({
            "id": format!("{}/{}", self.name, self.kind), "name": self.name, "type": self.kind,
            "ttl": self.ttl, "labels": self.labels, "protection": {"change": false},
            "records": records, "zone": zone,
        })
    }
}

/// A record set name relative to its zone: `@`, or labels of `a-z 0-9 - _` (and a
/// leading `*`).
fn valid_rr_name(name: &str) -> bool {
    name == "@"
        || (!name.is_empty()
            && name.len() <= 253
            && name.split('.').enumerate().all(|(i, l)| {
                (i == 0 && l == "*")
                    || (!l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| {
                            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                        }))
            }))
}

/// `records`: a non-empty list of `{value, comment?}`, values valid for the type.
fn parse_records(
    obj: &Map<String, Value>,
    kind: &str,
) -> Result<Vec<(String, Option<String>)>, Resp> {
    let Some(Value::Array(items)) = obj.get("records") else {
        return Err(invalid_fields(&[("records", "Not a valid list.")]));
    };
    if items.is_empty() {
        return Err(invalid_fields(&[("records", "Length must be at least 1.")]));
    }
    let mut out = Vec::new();
    for item in items {
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_fields(&[("records", "Each record needs a string 'value'.")]))?;
        let ok = match kind {
            "A" => value.parse::<Ipv4Addr>().is_ok(),
            "AAAA" => value.parse::<Ipv6Addr>().is_ok(),
            _ => !value.is_empty(),
        };
        if !ok {
            return Err(invalid_fields(&[(
                "records",
                "Invalid value for the record type.",
            )]));
        }
        let comment = item
            .get("comment")
            .and_then(Value::as_str)
            .map(str::to_string);
        if !out
            .iter()
            .any(|(v, _): &(String, Option<String>)| v == value)
        {
            out.push((value.to_string(), comment));
        }
    }
    Ok(out)
}

fn parse_ttl(obj: &Map<String, Value>) -> Result<Option<u64>, Resp> {
    match obj.get("ttl") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(t) if (60..=2_147_483_647).contains(&t) => Ok(Some(t)),
            _ => Err(invalid_fields(&[(
                "ttl",
                "Must be between 60 and 2147483647.",
            )])),
        },
    }
}

fn incorrect_zone_mode() -> Resp {
    error(
        422,
        "incorrect_zone_mode",
        "This operation is not supported for this Zone's mode.",
        Value::Null,
    )
}

impl State {
    /// Everything under `/v1/zones` (`rest` is the path after `zones`).
    pub(super) fn handle_zones(
        &mut self,
        method: &str,
        rest: &[&str],
        q: &Query,
        raw: &str,
        body: &[u8],
        now: SystemTime,
    ) -> R {
        match (method, rest) {
            ("GET", []) => self.list_zones(q, raw),
            ("POST", []) => self.create_zone(body, now),
            ("GET", ["actions", id]) => self.get_action(None, id, now),
            ("GET", [z]) => {
                let id = self.zone_id(z)?;
                Ok(Resp::json(
                    200,
                    &json!({"zone": self.zones.zones[&id].json()}),
                ))
            }
            ("GET", [z, "actions", id]) => {
                self.zone_id(z)?;
                self.get_action(None, id, now)
            }
            ("GET", [z, "rrsets"]) => self.list_rrsets(z, q, raw),
            ("POST", [z, "rrsets"]) => self.create_rrset(z, body, now),
            ("GET", [z, "rrsets", name, kind]) => {
                let id = self.primary_zone(z)?;
                let zone = &self.zones.zones[&id];
                let set = zone
                    .rrsets
                    .get(&(name.to_string(), kind.to_string()))
                    .ok_or_else(|| not_found("rrset"))?;
                Ok(Resp::json(200, &json!({"rrset": set.json(id)})))
            }
            ("POST", [z, "rrsets", name, kind, "actions", action]) => {
                self.rrset_action(z, name, kind, action, body, now)
            }
            (_, [] | ["actions", _] | [_] | [_, "rrsets"] | [_, "rrsets", _, _]) => Err(error(
                405,
                "method_not_allowed",
                "method not allowed",
                Value::Null,
            )),
            _ => Err(not_found("resource")),
        }
    }

    fn zone_id(&self, id_or_name: &str) -> Result<u64, Resp> {
        self.zones.find(id_or_name).ok_or_else(|| not_found("zone"))
    }

    fn primary_zone(&self, id_or_name: &str) -> Result<u64, Resp> {
        let id = self.zone_id(id_or_name)?;
        if self.zones.zones[&id].mode != "primary" {
            return Err(incorrect_zone_mode());
        }
        Ok(id)
    }

    fn list_zones(&self, q: &Query, raw: &str) -> R {
        let sel = selector(q)?;
        let (name, mode) = (q.get("name"), q.get("mode"));
        let mut items: Vec<Value> = self
            .zones
            .zones
            .values()
            .filter(|z| name.is_none_or(|n| z.name == n))
            .filter(|z| mode.is_none_or(|m| z.mode == m))
            .filter(|z| {
                sel.as_ref()
                    .is_none_or(|t| util::selector_matches(t, &z.labels))
            })
            .map(Zone::json)
            .collect();
        sort_items(&mut items, q, &["id", "name", "created"])?;
        self.paginate(items, "zones", "/v1/zones", q, raw)
    }

    fn create_zone(&mut self, body: &[u8], now: SystemTime) -> R {
        let obj = parse_body(body)?;
        missing(&obj, &["name", "mode"])?;
        let name = obj["name"]
            .as_str()
            .filter(|n| util::valid_hostname(n) && *n == n.to_ascii_lowercase() && n.contains('.'))
            .ok_or_else(|| invalid_fields(&[("name", "Must be a lower case domain name.")]))?;
        let mode = match obj["mode"].as_str() {
            Some("primary") => "primary",
            Some("secondary") => "secondary",
            _ => return Err(invalid_fields(&[("mode", "Must be primary or secondary.")])),
        };
        let labels = parse_labels(obj.get("labels"))?;
        let ttl = parse_ttl(&obj)?.unwrap_or(3600);
        if self.zones.find(name).is_some() {
            return Err(error(
                409,
                "uniqueness_error",
                "zone name is already used",
                Value::Null,
            ));
        }
        let id = self.zones.add(name, mode, ttl, now);
        if let Some(zone) = self.zones.zones.get_mut(&id) {
            zone.labels = labels;
        }
        let aid = self.new_action("create_zone", id, None, now);
        Ok(Resp::json(
            201,
            &json!({"zone": self.zones.zones[&id].json(), "action": self.action_json(aid, now)}),
        ))
    }

    fn list_rrsets(&self, z: &str, q: &Query, raw: &str) -> R {
        let id = self.primary_zone(z)?;
        let sel = selector(q)?;
        let name = q.get("name");
        let types = q.all("type");
        let mut items: Vec<Value> = self.zones.zones[&id]
            .rrsets
            .values()
            .filter(|s| name.is_none_or(|n| s.name == n))
            .filter(|s| types.is_empty() || types.contains(&s.kind.as_str()))
            .filter(|s| {
                sel.as_ref()
                    .is_none_or(|t| util::selector_matches(t, &s.labels))
            })
            .map(|s| s.json(id))
            .collect();
        sort_items(&mut items, q, &["name", "type"])?;
        self.paginate(items, "rrsets", &format!("/v1/zones/{id}/rrsets"), q, raw)
    }

    fn create_rrset(&mut self, z: &str, body: &[u8], now: SystemTime) -> R {
        let id = self.primary_zone(z)?;
        let obj = parse_body(body)?;
        missing(&obj, &["name", "type", "records"])?;
        let name = obj["name"]
            .as_str()
            .filter(|n| valid_rr_name(n))
            .ok_or_else(|| invalid_fields(&[("name", "Not a valid record name.")]))?;
        let kind = obj["type"]
            .as_str()
            .filter(|t| TYPES.contains(t))
            .ok_or_else(|| invalid_fields(&[("type", "Not a valid record type.")]))?;
        let records = parse_records(&obj, kind)?;
        let ttl = parse_ttl(&obj)?;
        let labels = parse_labels(obj.get("labels"))?;
        let key = (name.to_string(), kind.to_string());
        let zone = self
            .zones
            .zones
            .get_mut(&id)
            .ok_or_else(|| not_found("zone"))?;
        if zone.rrsets.contains_key(&key) {
            return Err(error(
                409,
                "uniqueness_error",
                "rrset already exists",
                Value::Null,
            ));
        }
        let set = RrSet {
            name: name.to_string(),
            kind: kind.to_string(),
            records,
            ttl,
            labels,
        };
        let rrset = set.json(id);
        zone.rrsets.insert(key, set);
        let aid = self.new_action("create_rrset", id, None, now);
        Ok(Resp::json(
            201,
            &json!({"rrset": rrset, "action": self.action_json(aid, now)}),
        ))
    }

    fn rrset_action(
        &mut self,
        z: &str,
        name: &str,
        kind: &str,
        action: &str,
        body: &[u8],
        now: SystemTime,
    ) -> R {
        let id = self.primary_zone(z)?;
        let command = match action {
            "set_records" => "set_rrset_records",
            "add_records" => "add_rrset_records",
            "remove_records" => "remove_rrset_records",
            _ => return Err(not_found("action")),
        };
        let obj = parse_body(body)?;
        missing(&obj, &["records"])?;
        if !TYPES.contains(&kind) {
            return Err(not_found("rrset"));
        }
        let records = parse_records(&obj, kind)?;
        let ttl = parse_ttl(&obj)?;
        let zone = self
            .zones
            .zones
            .get_mut(&id)
            .ok_or_else(|| not_found("zone"))?;
        let key = (name.to_string(), kind.to_string());
        match (command, zone.rrsets.get_mut(&key)) {
            ("set_rrset_records" | "remove_rrset_records", None) => {
                return Err(not_found("rrset"));
            }
            ("remove_rrset_records", Some(set)) => {
                // Values the set does not hold are ignored; a set left empty is deleted
                // ("For convenience, the RRSet will be automatically deleted").
                set.records
                    .retain(|(v, _)| !records.iter().any(|r| r.0 == *v));
                if set.records.is_empty() {
                    zone.rrsets.remove(&key);
                }
            }
            ("set_rrset_records", Some(set)) => set.records = records,
            (_, Some(set)) => {
                for r in records {
                    if !set.records.iter().any(|(v, _)| *v == r.0) {
                        set.records.push(r);
                    }
                }
                if ttl.is_some() {
                    set.ttl = ttl;
                }
            }
            (_, None) => {
                if !valid_rr_name(name) {
                    return Err(invalid_fields(&[("name", "Not a valid record name.")]));
                }
                zone.rrsets.insert(
                    key,
                    RrSet {
                        name: name.to_string(),
                        kind: kind.to_string(),
                        records,
                        ttl,
                        labels: Map::new(),
                    },
                );
            }
        }
        let aid = self.new_action(command, id, None, now);
        Ok(Resp::json(
            201,
            &json!({"action": self.action_json(aid, now)}),
        ))
    }
}

/// One record set as the tests see it.
#[derive(Clone, Debug, PartialEq)]
pub struct RrSetView {
    pub name: String,
    pub kind: String,
    pub values: Vec<String>,
    pub ttl: Option<u64>,
}

impl super::super::Fake {
    /// Adds a primary zone (TTL 3600, delegation `valid`) with its `SOA` and three `NS`
    /// sets at `@`; returns its id (90001, 90002, …: never a server id).
    pub fn add_zone(&self, name: &str) -> u64 {
        self.shared
            .lock()
            .zones
            .add(name, "primary", 3600, SystemTime::now())
    }

    /// Adds a secondary zone (no record sets; rrset operations answer 422).
    pub fn add_secondary_zone(&self, name: &str) -> u64 {
        self.shared
            .lock()
            .zones
            .add(name, "secondary", 3600, SystemTime::now())
    }

    /// Sets a zone's `delegation_status` (`valid`, `invalid`, `lame`, …).
    pub fn set_zone_delegation(&self, zone: &str, status: &str) {
        self.shared.lock().zones.by_name_mut(zone).delegation = status.to_string();
    }

    /// Adds (or overwrites) a record set in the zone named `zone`.
    pub fn add_rrset(&self, zone: &str, name: &str, kind: &str, values: &[&str], ttl: Option<u64>) {
        self.shared
            .lock()
            .zones
            .by_name_mut(zone)
            .put(name, kind, values, ttl);
    }

    /// A function that overwrites a record set later, from another thread (an
    /// [`on_request`](super::Fake::on_request) hook: someone editing the zone meanwhile).
    pub fn rrset_setter(&self) -> impl Fn(&str, &str, &str, &[&str]) + Send + 'static {
        let shared = std::sync::Arc::clone(&self.shared);
        move |zone, name, kind, values| {
            shared
                .lock()
                .zones
                .by_name_mut(zone)
                .put(name, kind, values, None);
        }
    }

    /// Every record set of the zone named `zone`, by name and type.
    pub fn rrsets(&self, zone: &str) -> Vec<RrSetView> {
        let mut st = self.shared.lock();
        st.zones
            .by_name_mut(zone)
            .rrsets
            .values()
            .map(|s| RrSetView {
                name: s.name.clone(),
                kind: s.kind.clone(),
                values: s.records.iter().map(|(v, _)| v.clone()).collect(),
                ttl: s.ttl,
            })
            .collect()
    }

    /// One record set, if it exists.
    pub fn rrset(&self, zone: &str, name: &str, kind: &str) -> Option<RrSetView> {
        self.rrsets(zone)
            .into_iter()
            .find(|s| s.name == name && s.kind == kind)
    }
}
