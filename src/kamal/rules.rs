//! Kamal's own validations that depend on the hosts, mirrored so that pegasus never writes
//! a config Kamal refuses (SPEC §6). Kamal 2 (`lib/kamal/configuration/role.rb`,
//! `proxy.rb`):
//!
//! ```ruby
//! def ensure_one_host_for_ssl
//!   if running_proxy? && proxy.ssl? && hosts.size > 1 && !proxy.custom_ssl_certificate?
//!     raise ConfigurationError, "SSL is only supported on a single server unless you provide custom certificates, ..."
//! ```
//!
//! - `running_proxy?`: the primary role runs the proxy unless its `proxy:` is `false`;
//!   any other role only when its `proxy:` is `true` or a mapping.
//! - `proxy`: the top-level `proxy` deep-merged with the role's own (the role's keys win).
//! - `ssl?`: that merged `ssl` is truthy (`true`, or a mapping).
//! - `custom_ssl_certificate?`: `ssl` is a mapping whose `certificate_pem` and
//!   `private_key_pem` are both present (not blank).
//! - `hosts.size`: the distinct hosts of the role (`tagged_hosts.keys`).
//!
//! YAML booleans are Psych's (YAML 1.1): `true`, `yes`, `on` in any case. A setting that ERB
//! computes cannot be known here: it counts as "may be on", and the caller refuses with the
//! line to look at.

use super::tree::{At, Look, Tree, Val};

/// What the merged `ssl` setting of a role's proxy is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ssl {
    /// The role does not run the proxy, or its proxy has no automatic HTTPS.
    Off,
    /// Kamal's automatic HTTPS (Let's Encrypt) is on: one host only. `at` is the setting.
    Auto { at: At },
    /// A custom certificate: any number of hosts.
    Custom,
    /// ERB decides (the role's `proxy`, or `ssl`, or a certificate key): `at` is it.
    Unknown { at: At },
}

/// Psych's reading of a plain scalar as a boolean, `None` for anything else.
fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// What a value is, as far as these rules care.
enum Kind {
    Missing,
    Null,
    True,
    False,
    Map,
    /// A string, number, list: present, but not a boolean.
    Other,
    Erb,
}

/// Answers for one tree; `erb` says whether a node is (or holds) an ERB tag.
pub(crate) struct Rules<'t, 'd> {
    pub tree: &'t Tree<'d>,
    pub erb: &'t dyn Fn(At) -> bool,
}

impl Rules<'_, '_> {
    fn kind(&self, look: &Look) -> (Kind, Option<At>) {
        let Look::Found { key, value } = look else {
            return (Kind::Missing, None);
        };
        let at = self.tree.one(value).map(|v| self.tree.resolve(v));
        if self.tree.is_map(value) {
            return (Kind::Map, Some(*key));
        }
        if at.is_some_and(|a| (self.erb)(a)) {
            return (Kind::Erb, Some(*key));
        }
        if self.tree.is_null(value) {
            return (Kind::Null, Some(*key));
        }
        let plain = at.and_then(|a| {
            let doc = self.tree.doc(a.file)?;
            let (text, style, _) = doc.scalar(a.id)?;
            (style == yaml_rust2::scanner::TScalarStyle::Plain).then_some(text)
        });
        let kind = match plain.and_then(boolean) {
            Some(true) => Kind::True,
            Some(false) => Kind::False,
            None => Kind::Other,
        };
        (kind, Some(*key))
    }

    /// The HTTPS setting of role `role` (`primary`: whether it is Kamal's primary role).
    pub fn ssl(&self, root: &Val, role: &str, primary: bool) -> Ssl {
        let tree = self.tree;
        let role_value = match tree.get(root, "servers") {
            Look::Found { value, .. } if tree.is_map(&value) => match tree.get(&value, role) {
                Look::Found { value, .. } => Some(value),
                _ => None,
            },
            _ => None,
        };
        // A role given as a plain list has no settings (Kamal's `specializations` is {}).
        let own = match role_value.as_ref().filter(|v| tree.is_map(v)) {
            Some(role) => tree.get(role, "proxy"),
            None => Look::Missing,
        };
        let (kind, at) = self.kind(&own);
        let running = match kind {
            Kind::Erb => {
                return Ssl::Unknown {
                    at: at.unwrap_or(At { file: 0, id: 0 }),
                };
            }
            Kind::False => false,
            Kind::Missing | Kind::Null => primary,
            Kind::True | Kind::Map | Kind::Other => true,
        };
        if !running {
            return Ssl::Off;
        }
        let mut layers = Vec::new();
        if let Look::Found { value, .. } = tree.get(root, "proxy") {
            if tree.is_map(&value) {
                layers.push(value);
            }
        }
        if let (Kind::Map, Look::Found { value, .. }) = (&kind, &own) {
            layers.push(value.clone());
        }
        let proxy = match layers.len() {
            0 => return Ssl::Off,
            1 => layers.remove(0),
            _ => Val::Merge(layers),
        };
        let ssl = tree.get(&proxy, "ssl");
        match self.kind(&ssl) {
            (Kind::Erb, Some(at)) => Ssl::Unknown { at },
            (Kind::True, Some(at)) => Ssl::Auto { at },
            (Kind::Map, Some(at)) => {
                let Look::Found { value, .. } = &ssl else {
                    return Ssl::Off;
                };
                let cert = self.present(value, "certificate_pem");
                let key = self.present(value, "private_key_pem");
                match (cert, key) {
                    (Some(true), Some(true)) => Ssl::Custom,
                    (None, _) | (_, None) => Ssl::Unknown { at },
                    _ => Ssl::Auto { at },
                }
            }
            // Missing, null, false, or a value Kamal's own validation refuses anyway.
            _ => Ssl::Off,
        }
    }

    /// Whether `key` of the mapping `map` is present in Ruby's sense (not nil, false, or a
    /// blank string); `None` when ERB decides.
    fn present(&self, map: &Val, key: &str) -> Option<bool> {
        let look = self.tree.get(map, key);
        match self.kind(&look).0 {
            Kind::Erb => None,
            Kind::Missing | Kind::Null | Kind::False => Some(false),
            Kind::Map | Kind::True => Some(true),
            Kind::Other => {
                let Look::Found { value, .. } = &look else {
                    return Some(false);
                };
                let blank = self.tree.text(value).is_some_and(|t| t.trim().is_empty());
                Some(!blank)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::doc::{self, Doc};
    use super::*;

    fn ssl_of(texts: &[&str], role: &str, primary: bool) -> String {
        let masked: Vec<_> = texts.iter().map(|t| super::super::erb::mask(t)).collect();
        let docs: Vec<Doc> = masked
            .iter()
            .map(|m| doc::parse(&m.text).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let tree = Tree {
            docs: docs.iter().collect(),
        };
        let erb = |at: At| {
            let Some(d) = tree.doc(at.file) else {
                return false;
            };
            let start = d.node(at.id).and_then(|n| n.start).unwrap_or(0);
            masked
                .get(at.file)
                .is_some_and(|m| m.tag_overlapping(&(start..start + 1)).is_some())
        };
        let rules = Rules {
            tree: &tree,
            erb: &erb,
        };
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        match rules.ssl(&root, role, primary) {
            Ssl::Off => "off".into(),
            Ssl::Custom => "custom".into(),
            Ssl::Auto { at } => format!("auto@{}:{}", at.file, tree.line(at)),
            Ssl::Unknown { at } => format!("unknown@{}:{}", at.file, tree.line(at)),
        }
    }

    #[test]
    fn the_primary_role_runs_the_proxy_unless_it_says_false() {
        let top = "servers:\n  web: [a]\n  job: [b]\nproxy:\n  ssl: true\n  host: x.example\n";
        assert_eq!(ssl_of(&[top], "web", true), "auto@0:5");
        assert_eq!(ssl_of(&[top], "job", false), "off");
        let off = "servers:\n  web:\n    hosts: [a]\n    proxy: false\nproxy:\n  ssl: true\n";
        assert_eq!(ssl_of(&[off], "web", true), "off");
        let no_ssl = "servers: [a]\nproxy:\n  host: x.example\n";
        assert_eq!(ssl_of(&[no_ssl], "web", true), "off");
        let ssl_false = "servers: [a]\nproxy:\n  ssl: False\n";
        assert_eq!(ssl_of(&[ssl_false], "web", true), "off");
        let yes = "servers: [a]\nproxy:\n  ssl: Yes\n";
        assert_eq!(ssl_of(&[yes], "web", true), "auto@0:3");
        let quoted = "servers: [a]\nproxy:\n  ssl: \"true\"\n";
        assert_eq!(ssl_of(&[quoted], "web", true), "off");
    }

    #[test]
    fn a_role_proxy_merges_over_the_top_level_one() {
        let text = "servers:\n  web: [a]\n  api:\n    hosts: [b]\n    proxy:\n      host: api.example\nproxy:\n  ssl: true\n  host: x.example\n";
        assert_eq!(ssl_of(&[text], "api", false), "auto@0:8");
        let own = "servers:\n  api:\n    hosts: [b]\n    proxy:\n      ssl: true\n      host: api.example\n";
        assert_eq!(ssl_of(&[own], "api", false), "auto@0:5");
        let off =
            "servers:\n  api:\n    hosts: [b]\n    proxy:\n      ssl: false\nproxy:\n  ssl: true\n";
        assert_eq!(ssl_of(&[off], "api", false), "off");
        let plain_true = "servers:\n  api:\n    hosts: [b]\n    proxy: true\nproxy:\n  ssl: true\n";
        assert_eq!(ssl_of(&[plain_true], "api", false), "auto@0:6");
    }

    #[test]
    fn a_custom_certificate_lifts_the_rule() {
        let custom =
            "servers: [a]\nproxy:\n  ssl:\n    certificate_pem: CERT\n    private_key_pem: KEY\n";
        assert_eq!(ssl_of(&[custom], "web", true), "custom");
        let half = "servers: [a]\nproxy:\n  ssl:\n    certificate_pem: CERT\n";
        assert_eq!(ssl_of(&[half], "web", true), "auto@0:3");
        let blank =
            "servers: [a]\nproxy:\n  ssl:\n    certificate_pem: CERT\n    private_key_pem: ' '\n";
        assert_eq!(ssl_of(&[blank], "web", true), "auto@0:3");
        let split = "servers:\n  web:\n    hosts: [a]\n    proxy:\n      ssl:\n        private_key_pem: KEY\nproxy:\n  ssl:\n    certificate_pem: CERT\n";
        assert_eq!(ssl_of(&[split], "web", true), "custom");
    }

    #[test]
    fn erb_is_unknown_and_destinations_merge() {
        let erb = "servers: [a]\nproxy:\n  ssl: <%= ENV['SSL'] %>\n";
        assert_eq!(ssl_of(&[erb], "web", true), "unknown@0:3");
        let base = "servers: [a]\nproxy:\n  ssl: true\n  host: x.example\n";
        assert_eq!(
            ssl_of(&[base, "proxy:\n  host: staging.example\n"], "web", true),
            "auto@0:3"
        );
        assert_eq!(
            ssl_of(&[base, "proxy:\n  ssl: false\n"], "web", true),
            "off"
        );
    }
}
