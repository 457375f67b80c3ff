//! Firewalls of the fake Hetzner Cloud API: `GET /firewalls` (`name`, `label_selector`),
//! `GET /firewalls/{id}`, `POST /firewalls` (409 `uniqueness_error` on a taken name), and
//! the `firewalls` field of `POST /servers` (shown as `public_net.firewalls`).
//! Shapes follow `fixtures/openapi/hcloud.json` (`firewall`, `rule`, `create_firewall_*`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::api::{Resp, error, invalid_fields, not_found, parse_body, parse_labels};
use super::util::{self, Selector, rfc3339};

const PROTOCOLS: [&str; 5] = ["tcp", "udp", "icmp", "esp", "gre"];

struct Firewall {
    id: u64,
    name: String,
    labels: Map<String, Value>,
    rules: Vec<Value>,
    created: SystemTime,
    /// Servers it is applied to, by id.
    servers: Vec<u64>,
}

/// All firewalls of the fake project.
pub struct Firewalls {
    items: BTreeMap<u64, Firewall>,
    next_id: u64,
    /// A name that another client "takes" right before the next `POST /firewalls` for it
    /// (the race of two runs making the default firewall at once).
    race: Option<String>,
}

impl Firewalls {
    pub fn new() -> Firewalls {
        Firewalls {
            items: BTreeMap::new(),
            next_id: 301,
            race: None,
        }
    }

    fn json(f: &Firewall) -> Value {
        json!({
            "id": f.id, "name": f.name, "labels": f.labels, "created": rfc3339(f.created),
            "rules": f.rules,
            "applied_to": f.servers.iter()
                .map(|s| json!({"type": "server", "server": {"id": s}}))
                .collect::<Vec<_>>(),
        })
    }

    /// Adds a firewall without validation (rules: inbound TCP 22 from anywhere).
    pub fn add(&mut self, name: &str, labels: &[(&str, &str)]) -> u64 {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let rules = vec![rule_json("in", "tcp", Some("22"), &["0.0.0.0/0", "::/0"])];
        self.insert(name, labels, rules)
    }

    fn insert(&mut self, name: &str, labels: Map<String, Value>, rules: Vec<Value>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.items.insert(
            id,
            Firewall {
                id,
                name: name.to_string(),
                labels,
                rules,
                created: SystemTime::now(),
                servers: Vec::new(),
            },
        );
        id
    }

    /// Every firewall as the API shows it, by id.
    pub fn all(&self) -> Vec<Value> {
        self.items.values().map(Self::json).collect()
    }

    pub fn set_race(&mut self, name: &str) {
        self.race = Some(name.to_string());
    }

    /// The items of `GET /firewalls` (before pagination).
    pub fn list(&self, name: Option<&str>, selector: Option<&[Selector]>) -> Vec<Value> {
        self.items
            .values()
            .filter(|f| name.is_none_or(|n| f.name == n))
            .filter(|f| selector.is_none_or(|t| util::selector_matches(t, &f.labels)))
            .map(Self::json)
            .collect()
    }

    /// `GET /firewalls/{id}`.
    pub fn get(&self, id: &str) -> Result<Resp, Resp> {
        let f = id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.items.get(&id))
            .ok_or_else(|| not_found("firewall"))?;
        Ok(Resp::json(200, &json!({"firewall": Self::json(f)})))
    }

    /// `POST /firewalls`.
    pub fn create(&mut self, body: &[u8]) -> Result<Resp, Resp> {
        let obj = parse_body(body)?;
        let name = match obj.get("name") {
            Some(Value::String(n)) if !n.is_empty() && n.len() <= 128 => n.clone(),
            Some(Value::String(_)) => {
                return Err(invalid_fields(&[(
                    "name",
                    "Length must be between 1 and 128.",
                )]));
            }
            None => {
                return Err(invalid_fields(&[(
                    "name",
                    "Missing data for required field.",
                )]));
            }
            Some(_) => return Err(invalid_fields(&[("name", "Not a valid string.")])),
        };
        let labels = parse_labels(obj.get("labels"))?;
        let rules = match obj.get("rules") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(rules)) => rules
                .iter()
                .map(check_rule)
                .collect::<Result<Vec<Value>, Resp>>()?,
            Some(_) => return Err(invalid_fields(&[("rules", "Not a valid list.")])),
        };
        if self.race.as_deref() == Some(name.as_str()) {
            self.race = None;
            self.add(&name, &[]);
        }
        if self.items.values().any(|f| f.name == name) {
            return Err(error(
                409,
                "uniqueness_error",
                "firewall name is already used",
                json!({"fields": [{"name": "name"}]}),
            ));
        }
        let id = self.insert(&name, labels, rules);
        Ok(Resp::json(
            201,
            &json!({"firewall": Self::json(&self.items[&id]), "actions": []}),
        ))
    }

    /// The ids of `firewalls` in `POST /servers` (`[{"firewall": id}]`), each existing.
    pub fn parse_server_field(&self, v: Option<&Value>) -> Result<Vec<u64>, Resp> {
        let items = match v {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(a)) => a,
            Some(_) => return Err(invalid_fields(&[("firewalls", "Not a valid list.")])),
        };
        let mut ids = Vec::new();
        for item in items {
            let Some(id) = item.get("firewall").and_then(Value::as_u64) else {
                return Err(invalid_fields(&[(
                    "firewalls",
                    "Not a valid firewall reference.",
                )]));
            };
            if !self.items.contains_key(&id) {
                return Err(error(
                    422,
                    "invalid_input",
                    &format!("firewall {id} not found"),
                    json!({"fields": [{"name": "firewalls", "messages": ["firewall not found"]}]}),
                ));
            }
            ids.push(id);
        }
        Ok(ids)
    }

    /// Records that `server` uses these firewalls.
    pub fn apply(&mut self, server: u64, ids: &[u64]) {
        for id in ids {
            if let Some(f) = self.items.get_mut(id) {
                f.servers.push(server);
            }
        }
    }

    /// A deleted server no longer uses any firewall.
    pub fn forget_server(&mut self, server: u64) {
        for f in self.items.values_mut() {
            f.servers.retain(|s| *s != server);
        }
    }
}

fn rule_json(direction: &str, protocol: &str, port: Option<&str>, sources: &[&str]) -> Value {
    json!({
        "direction": direction, "protocol": protocol, "port": port,
        "source_ips": sources, "destination_ips": [], "description": null,
    })
}

/// One rule of a create request, checked as the API does, in the shape answers show.
fn check_rule(r: &Value) -> Result<Value, Resp> {
    let field = |k: &str| r.get(k).and_then(Value::as_str);
    let direction = field("direction").filter(|d| *d == "in" || *d == "out");
    let protocol = field("protocol").filter(|p| PROTOCOLS.contains(p));
    let (Some(direction), Some(protocol)) = (direction, protocol) else {
        return Err(invalid_fields(&[(
            "rules",
            "direction and protocol are required",
        )]));
    };
    let port = match r.get("port") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.as_str()),
        Some(_) => return Err(invalid_fields(&[("rules", "port must be a string")])),
    };
    let needs_port = protocol == "tcp" || protocol == "udp";
    if needs_port != port.is_some() {
        return Err(invalid_fields(&[(
            "rules",
            "port is required for tcp and udp and not allowed otherwise",
        )]));
    }
    if let Some(p) = port {
        let ok = p.split('-').all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
        if !ok {
            return Err(invalid_fields(&[("rules", "invalid port")]));
        }
    }
    let ips_key = if direction == "in" {
        "source_ips"
    } else {
        "destination_ips"
    };
    let ips: Vec<&str> = r
        .get(ips_key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if ips.is_empty() || ips.iter().any(|ip| !ip.contains('/')) {
        return Err(invalid_fields(&[("rules", "IPs must be CIDR blocks")]));
    }
    let mut out = rule_json(direction, protocol, port, &[]);
    out[ips_key] = json!(ips);
    out["description"] = r.get("description").cloned().unwrap_or(Value::Null);
    Ok(out)
}
