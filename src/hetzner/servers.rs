//! Servers: the server object, listing and look-up, the safe create, the delete.

use std::collections::BTreeMap;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::actions::Action;
use super::values::{Architecture, ImageKind, Ipv4Block, Ipv6Block, ServerStatus};
use super::{Client, Listed, bad_answer, decode, query_escape};
use crate::error::{Error, Result, ServerFacts};
use crate::http::{Failure, MAX_TRIES, Method};
use crate::text::Untrusted;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Server {
    pub id: u64,
    pub name: Untrusted,
    #[serde(default)]
    pub status: ServerStatus,
    /// RFC 3339, as the API wrote it.
    #[serde(default)]
    pub created: Untrusted,
    #[serde(default)]
    pub public_net: PublicNet,
    pub server_type: Option<Named>,
    pub location: Option<Named>,
    pub image: Option<Image>,
    #[serde(default)]
    pub labels: BTreeMap<Untrusted, Untrusted>,
    #[serde(default)]
    pub protection: Protection,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct PublicNet {
    pub ipv4: Option<Ipv4Block>,
    pub ipv6: Option<Ipv6Block>,
    /// The firewalls on its public interface.
    #[serde(default)]
    pub firewalls: Vec<AppliedFirewall>,
}

/// A firewall on a server (`public_net.firewalls[]`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AppliedFirewall {
    pub id: u64,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Named {
    pub id: u64,
    pub name: Untrusted,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Image {
    pub id: u64,
    /// Only system images have a name.
    pub name: Option<Untrusted>,
    pub description: Option<Untrusted>,
    #[serde(default)]
    pub architecture: Architecture,
    /// `system`, `snapshot`, `backup` or `app`.
    #[serde(rename = "type", default)]
    pub kind: ImageKind,
    /// When Hetzner deprecated it, if it did.
    #[serde(default)]
    pub deprecated: Option<Untrusted>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Protection {
    #[serde(default)]
    pub delete: bool,
}

impl Server {
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.public_net.ipv4.map(|b| b.ip)
    }

    /// The server's own IPv6 address: the `::1` address of its /64, as the official CLI
    /// prints it.
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        self.public_net.ipv6.map(|b| b.host())
    }

    /// Its public addresses: IPv4 first, then IPv6.
    pub fn addresses(&self) -> Vec<IpAddr> {
        [self.ipv4().map(IpAddr::V4), self.ipv6().map(IpAddr::V6)]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The address to reach it on: IPv4, else IPv6.
    pub fn address(&self) -> Option<IpAddr> {
        self.addresses().into_iter().next()
    }

    /// Whether `addr` is one of its addresses (an IPv6 address anywhere in its /64 counts).
    pub fn has_address(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => self.ipv4() == Some(a),
            IpAddr::V6(a) => self.public_net.ipv6.is_some_and(|b| b.contains(a)),
        }
    }

    pub fn type_name(&self) -> &Untrusted {
        self.server_type.as_ref().map_or(&NONE, |t| &t.name)
    }

    pub fn location_name(&self) -> &Untrusted {
        self.location.as_ref().map_or(&NONE, |l| &l.name)
    }

    /// The image's name, else its id.
    pub fn image_name(&self) -> Untrusted {
        match &self.image {
            Some(Image { name: Some(n), .. }) => n.clone(),
            Some(Image { id, .. }) => Untrusted::new(id.to_string()),
            None => Untrusted::default(),
        }
    }

    /// Whether it carries the label `key=value`.
    pub fn has_label(&self, key: &str, value: &str) -> bool {
        self.labels.get(key).is_some_and(|v| v == value)
    }
}

static NONE: Untrusted = Untrusted::empty();

/// The body of `POST /servers`.
#[derive(Debug, Serialize)]
pub struct NewServer<'a> {
    pub name: &'a str,
    pub server_type: &'a str,
    pub image: &'a str,
    pub location: &'a str,
    pub ssh_keys: Vec<u64>,
    pub labels: BTreeMap<String, String>,
    pub start_after_create: bool,
    /// `[{"firewall": id}]`, applied at creation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub firewalls: Vec<FirewallRef>,
    /// Cloud-init user data (at most 32 KiB).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

/// A firewall in `POST /servers`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct FirewallRef {
    pub firewall: u64,
}

/// A created server and the actions to wait for.
#[derive(Debug)]
pub struct Created {
    pub server: Server,
    /// `create_server` and its next actions; after a request that failed without a
    /// clear answer, the server's running actions (none: wait for its status instead).
    pub actions: Vec<Action>,
    /// Found by name after a create request without a clear answer.
    pub recovered: bool,
}

impl Listed for Image {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Listed for Server {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Client<'_> {
    pub fn find_server(&self, name: &str) -> Result<Option<Server>> {
        #[derive(Deserialize)]
        struct Answer {
            servers: Vec<Server>,
        }
        let a: Answer = self.get(&format!("/servers?name={}", query_escape(name)))?;
        Ok(a.servers.into_iter().find(|s| s.name == name))
    }

    pub fn list_servers(&self) -> Result<Vec<Server>> {
        self.list_servers_matching(None)
    }

    /// Every server, or those matching a label selector (`label_selector`).
    pub fn list_servers_matching(&self, selector: Option<&str>) -> Result<Vec<Server>> {
        // By id: a server created while the pages are read lands on the last page, so
        // no page repeats one already read.
        let path = match selector {
            Some(s) => format!("/servers?sort=id:asc&label_selector={}", query_escape(s)),
            None => "/servers?sort=id:asc".to_string(),
        };
        self.get_all(&path, "servers")
    }

    /// `GET /servers/{id}`; `None` once it is gone.
    pub fn get_server(&self, id: u64) -> Result<Option<Server>> {
        #[derive(Deserialize)]
        struct Answer {
            server: Server,
        }
        match self.get::<Answer>(&format!("/servers/{id}")) {
            Ok(a) => Ok(Some(a.server)),
            Err(Error::Api(api)) if api.status == 404 || api.code() == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /servers`, never sent twice blindly. A failure without a clear answer (the
    /// connection dropped, a timeout, a gateway error, a 2xx answer that cannot be read)
    /// is followed by a look-up by name: if the server exists and carries our labels,
    /// carry on with it; if not, the POST is tried again (a second server cannot appear:
    /// names are unique per project). When the look-up fails too, the error carries
    /// [`ServerFacts`] without an id: the server may exist.
    pub fn create_server(&self, new: &NewServer) -> Result<Created> {
        #[derive(Deserialize)]
        struct Answer {
            server: Server,
            action: Action,
            #[serde(default)]
            next_actions: Vec<Action>,
        }
        let body = serde_json::to_string(new).map_err(bad_answer)?;
        let mut unclear_before = false;
        // Every try of the POST, the HTTP layer's and this loop's, counts (SPEC §7).
        let mut tries = 0;
        loop {
            let sent = self
                .http
                .execute_counted(Method::Post, "/servers", Some(&body), &mut tries);
            let failure = match sent {
                Ok(text) => match decode::<Answer>(&text) {
                    Ok(a) => {
                        let mut actions = vec![a.action];
                        actions.extend(a.next_actions);
                        return Ok(Created {
                            server: a.server,
                            actions,
                            recovered: false,
                        });
                    }
                    // Accepted, but the answer is unreadable: look the server up.
                    Err(e) => Failure::Unclear(e),
                },
                Err(f) => f,
            };
            let may_exist = |e: Error| {
                e.about_server(ServerFacts {
                    name: Untrusted::new(new.name),
                    ..ServerFacts::default()
                })
            };
            let err = match failure {
                // A signal while the POST was out: it may have been carried out. Stop
                // here; the facts say so and how to check.
                Failure::Unclear(e @ Error::Interrupted { .. }) => return Err(may_exist(e)),
                Failure::Unclear(e) => e,
                Failure::Clear(Error::Api(api))
                    if unclear_before && api.code() == "uniqueness_error" =>
                {
                    Error::Api(api)
                }
                Failure::Clear(e) => return Err(e),
            };
            unclear_before = true;
            let found = self.find_server(new.name).map_err(may_exist)?;
            if let Some(server) = found {
                if new.labels.iter().all(|(k, v)| server.has_label(k, v)) {
                    // A failure from here on has the facts: the orchestrator adds them.
                    let actions = self.running_actions(server.id).unwrap_or_default();
                    return Ok(Created {
                        server,
                        actions,
                        recovered: true,
                    });
                }
                return Err(Error::Failed(format!(
                    "a server named {} appeared while it was being created, but it is not \
                     the one this run asked for; nothing else was created",
                    server.name
                )));
            }
            if tries >= MAX_TRIES {
                return Err(err);
            }
            let wait = self.http.timing.backoff_for(tries);
            crate::process::signals::sleep(wait).map_err(may_exist)?;
        }
    }

    /// `DELETE /servers/{id}`: the delete action.
    pub fn delete_server(&self, id: u64) -> Result<Option<Action>> {
        #[derive(Deserialize)]
        struct Answer {
            action: Option<Action>,
        }
        let body = self
            .http
            .execute(Method::Delete, &format!("/servers/{id}"), None)?;
        if body.trim().is_empty() {
            return Ok(None);
        }
        Ok(decode::<Answer>(&body)?.action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(json: &str) -> Server {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ipv6_address_is_the_first_of_the_net() {
        let s = server(
            r#"{"id":1,"name":"a","public_net":{"ipv4":null,"ipv6":{"ip":"2001:db8:1::/64"}},"server_type":null,"location":null,"image":null}"#,
        );
        assert_eq!(
            s.ipv6().map(|a| a.to_string()).as_deref(),
            Some("2001:db8:1::1")
        );
        assert_eq!(
            s.address().map(|a| a.to_string()).as_deref(),
            Some("2001:db8:1::1")
        );
        assert_eq!(s.ipv4(), None);
        assert!(s.has_address("2001:db8:1::42".parse().unwrap()));
        assert!(!s.has_address("2001:db8:2::1".parse().unwrap()));
    }
}
