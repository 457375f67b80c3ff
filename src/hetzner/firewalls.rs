//! Firewalls: look-up by name, listing, and the create (a lost race means: use the
//! firewall that won). An existing firewall is never changed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Client, Listed, decode, query_escape};
use crate::error::{Error, Result};
use crate::http::{Failure, Method};
use crate::text::Untrusted;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Firewall {
    pub id: u64,
    pub name: Untrusted,
    #[serde(default)]
    pub labels: BTreeMap<Untrusted, Untrusted>,
}

impl Listed for Firewall {
    fn id(&self) -> u64 {
        self.id
    }
}

/// One rule of `POST /firewalls`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    pub direction: &'static str,
    pub protocol: &'static str,
    /// Only for tcp and udp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<String>,
    pub source_ips: Vec<&'static str>,
    pub description: String,
}

/// The body of `POST /firewalls`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NewFirewall {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
}

/// Inbound TCP `ssh_port`, 80 and 443, and ICMP, from anywhere (IPv4 and IPv6): what
/// Kamal needs, nothing more.
pub fn kamal_rules(ssh_port: u16) -> Vec<Rule> {
    let anywhere = vec!["0.0.0.0/0", "::/0"];
    let tcp = |port: u16, what: &str| Rule {
        direction: "in",
        protocol: "tcp",
        port: Some(port.to_string()),
        source_ips: anywhere.clone(),
        description: what.to_string(),
    };
    vec![
        tcp(ssh_port, "SSH (Kamal)"),
        tcp(80, "HTTP (kamal-proxy)"),
        tcp(443, "HTTPS (kamal-proxy)"),
        Rule {
            direction: "in",
            protocol: "icmp",
            port: None,
            source_ips: anywhere.clone(),
            description: "ping".into(),
        },
    ]
}

impl Client<'_> {
    /// The firewall named exactly `name`.
    pub fn find_firewall(&self, name: &str) -> Result<Option<Firewall>> {
        let all: Vec<Firewall> = self.get_all(
            &format!("/firewalls?name={}", query_escape(name)),
            "firewalls",
        )?;
        Ok(all.into_iter().find(|f| f.name == name))
    }

    /// Every firewall of the project, by name.
    pub fn list_firewalls(&self) -> Result<Vec<Firewall>> {
        let mut all: Vec<Firewall> = self.get_all("/firewalls", "firewalls")?;
        crate::sort::sort_by(&mut all, |a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    /// `POST /firewalls`. When the name is taken meanwhile (409 `uniqueness_error`), or the
    /// request got no clear answer, the firewall with that name is looked up and used:
    /// `(firewall, made by this call)`.
    pub fn create_firewall(&self, new: &NewFirewall) -> Result<(Firewall, bool)> {
        #[derive(Deserialize)]
        struct Answer {
            firewall: Firewall,
        }
        let body = serde_json::to_string(new).map_err(|e| Error::Failed(e.to_string()))?;
        let failure = match self.http.execute(Method::Post, "/firewalls", Some(&body)) {
            Ok(text) => return Ok((decode::<Answer>(&text)?.firewall, true)),
            Err(f) => f,
        };
        let (maybe_there, ours) = match &failure {
            Failure::Unclear(_) => (true, true),
            Failure::Clear(Error::Api(api)) => (api.code() == "uniqueness_error", false),
            Failure::Clear(_) => (false, false),
        };
        if maybe_there {
            if let Some(found) = self.find_firewall(&new.name)? {
                // After an unclear answer it may be ours; after a 409 it is someone else's.
                let ours = ours
                    && found.labels.len() == new.labels.len()
                    && new.labels.iter().all(|(k, v)| {
                        found.labels.get(k.as_str()) == Some(&Untrusted::new(v.as_str()))
                    });
                return Ok((found, ours));
            }
        }
        Err(failure.into_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_for_kamal() {
        let json = serde_json::to_value(kamal_rules(2222)).unwrap();
        assert_eq!(json[0]["port"], "2222");
        assert_eq!(json[0]["protocol"], "tcp");
        assert_eq!(json[1]["port"], "80");
        assert_eq!(json[2]["port"], "443");
        assert_eq!(json[3]["protocol"], "icmp");
        assert!(json[3].get("port").is_none());
        for r in json.as_array().unwrap() {
            assert_eq!(r["direction"], "in");
            assert_eq!(r["source_ips"], serde_json::json!(["0.0.0.0/0", "::/0"]));
        }
    }
}
