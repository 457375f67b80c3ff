//! The config as Kamal reads it: one file, or, with a destination (`-d`), the base file
//! and the destination file merged the way Kamal merges them (`deploy.yml` deep-merged with
//! `deploy.DEST.yml`: mappings merged key by key, any other value — lists included —
//! replaced by the later file's). Every lookup answers with the node that physically holds
//! the value ([`At`]: which file, which node), so a host can be edited where it is written,
//! or named for a hand edit when it sits in a file pegasus does not edit.
//!
//! Within one file, aliases are followed and merge keys (`<<: *x`) are looked through
//! ([`hosts::get`]). Kamal also deep-merges a role's `proxy` over the top-level `proxy`;
//! [`Val::Merge`] expresses both.

use super::doc::{Doc, NodeId};
use super::hosts::{self, Holder, Lookup};

/// Index of a file in a [`Tree`]: 0 is the base file, the last one is the edited file.
pub(crate) type FileId = usize;

/// A node of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct At {
    pub file: FileId,
    pub id: NodeId,
}

/// A value as Kamal sees it after merging: one node, or mappings deep-merged in order (a
/// later mapping's keys win; where both hold a mapping for a key, those merge too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    One(At),
    Merge(Vec<Val>),
}

/// What a lookup in a (merged) mapping found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Look {
    Missing,
    /// `key` is the key node of the value that won.
    Found {
        key: At,
        value: Val,
    },
    /// The key appears twice in one mapping (typically both branches of an ERB `if`).
    Duplicate {
        at: At,
    },
}

/// How deep merge-key chains are followed when listing a mapping's keys.
const MAX_MERGE_DEPTH: usize = 8;

/// The parsed files, base first, the edited file last.
pub(crate) struct Tree<'d> {
    pub docs: Vec<&'d Doc>,
}

/// Where the target role's hosts should be, and what is there instead when they are not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RoleHosts {
    /// The host list (aliases followed) and the path it was reached by.
    List {
        list: At,
        path: String,
    },
    NoServers,
    ServersEmpty {
        at: At,
    },
    ServersNotList {
        at: At,
    },
    NoRole {
        role: String,
        at: At,
        roles: Vec<String>,
    },
    /// `web:` with nothing after it.
    RoleEmpty {
        path: String,
        at: At,
    },
    /// A role mapping without `hosts:`.
    NoHostsKey {
        path: String,
        at: At,
    },
    /// `hosts:` (or the role) holds something that is not a list.
    NotList {
        path: String,
        at: At,
    },
    Duplicate {
        path: String,
        at: At,
    },
}

/// A role of `servers`: its name and its host list (the plain-list form `servers: [..]`
/// is the role `web`).
pub(crate) struct Role {
    pub name: String,
    pub list: Option<At>,
}

impl<'d> Tree<'d> {
    pub fn doc(&self, file: FileId) -> Option<&'d Doc> {
        self.docs.get(file).copied()
    }

    /// The merged top-level mapping; `None` when a file is not a mapping of settings.
    pub fn root(&self) -> Option<Val> {
        let mut roots = Vec::new();
        for (file, doc) in self.docs.iter().enumerate() {
            let root = doc.root.filter(|r| doc.is_map(*r))?;
            roots.push(Val::One(At { file, id: root }));
        }
        match roots.len() {
            0 => None,
            1 => roots.pop(),
            _ => Some(Val::Merge(roots)),
        }
    }

    pub fn resolve(&self, at: At) -> At {
        let id = self.doc(at.file).map_or(at.id, |d| d.resolve(at.id));
        At { file: at.file, id }
    }

    pub fn one(&self, val: &Val) -> Option<At> {
        match val {
            Val::One(at) => Some(*at),
            Val::Merge(_) => None,
        }
    }

    pub fn is_map(&self, val: &Val) -> bool {
        match val {
            Val::One(at) => self.doc(at.file).is_some_and(|d| d.is_map(at.id)),
            Val::Merge(_) => true,
        }
    }

    pub fn is_seq(&self, val: &Val) -> bool {
        self.one(val)
            .is_some_and(|at| self.doc(at.file).is_some_and(|d| d.is_seq(at.id)))
    }

    pub fn is_null(&self, val: &Val) -> bool {
        self.one(val)
            .is_some_and(|at| self.doc(at.file).is_some_and(|d| d.is_null(at.id)))
    }

    pub fn items(&self, at: At) -> Vec<At> {
        self.doc(at.file).map_or_else(Vec::new, |d| {
            d.items(at.id)
                .iter()
                .map(|id| At {
                    file: at.file,
                    id: *id,
                })
                .collect()
        })
    }

    /// A scalar's text after following an alias ("" for anything else).
    pub fn text_of(&self, at: At) -> &'d str {
        self.doc(at.file).map_or("", |d| d.text_of(at.id))
    }

    /// The text of a value that is one scalar.
    pub fn text(&self, val: &Val) -> Option<&'d str> {
        let at = self.resolve(self.one(val)?);
        let doc = self.doc(at.file)?;
        doc.scalar(at.id).map(|(value, _, _)| value)
    }

    pub fn line(&self, at: At) -> usize {
        self.doc(at.file).map_or(0, |d| d.line(at.id))
    }

    pub fn display_path(&self, at: At) -> String {
        self.doc(at.file)
            .map_or_else(String::new, |d| d.display_path(at.id))
    }

    /// Looks `name` up in a (merged) mapping, as Kamal's deep merge would find it.
    pub fn get(&self, val: &Val, name: &str) -> Look {
        match val {
            Val::One(at) => {
                let Some(doc) = self.doc(at.file) else {
                    return Look::Missing;
                };
                if !doc.is_map(doc.resolve(at.id)) {
                    return Look::Missing;
                }
                match hosts::get(doc, at.id, name) {
                    Lookup::Missing => Look::Missing,
                    Lookup::Duplicate { line } => Look::Duplicate {
                        at: self.key_on_line(at.file, line).unwrap_or(*at),
                    },
                    Lookup::Found { key, value } => Look::Found {
                        key: At {
                            file: at.file,
                            id: key,
                        },
                        value: Val::One(At {
                            file: at.file,
                            id: value,
                        }),
                    },
                }
            }
            Val::Merge(layers) => {
                let mut found: Option<(At, Val)> = None;
                for layer in layers {
                    match self.get(layer, name) {
                        Look::Missing => {}
                        Look::Duplicate { at } => return Look::Duplicate { at },
                        Look::Found { key, value } => {
                            found = Some(match found.take() {
                                Some((_, before))
                                    if self.is_map(&before) && self.is_map(&value) =>
                                {
                                    (key, Val::Merge(vec![before, value]))
                                }
                                _ => (key, value),
                            });
                        }
                    }
                }
                match found {
                    Some((key, value)) => Look::Found { key, value },
                    None => Look::Missing,
                }
            }
        }
    }

    /// The value at `path` (each step a mapping key), when every step is found once.
    pub fn path(&self, val: &Val, path: &[&str]) -> Option<Val> {
        let mut cur = val.clone();
        for step in path {
            match self.get(&cur, step) {
                Look::Found { value, .. } => cur = value,
                _ => return None,
            }
        }
        Some(cur)
    }

    /// A node on `line` that is a key (for pointing at a duplicate key).
    fn key_on_line(&self, file: FileId, line: usize) -> Option<At> {
        let doc = self.doc(file)?;
        (0..doc.nodes.len())
            .find(|id| doc.node(*id).is_some_and(|n| n.is_key && n.line == line))
            .map(|id| At { file, id })
    }

    /// The keys of a (merged) mapping in Kamal's order (the base file's first, then the
    /// keys a later file adds), merge-key entries (`<<`) replaced by the keys they bring.
    pub fn names(&self, val: &Val) -> Vec<String> {
        let mut names = Vec::new();
        match val {
            Val::One(at) => {
                if let Some(doc) = self.doc(at.file) {
                    keys_of(doc, at.id, 0, &mut names);
                }
            }
            Val::Merge(layers) => {
                for layer in layers {
                    for name in self.names(layer) {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                }
            }
        }
        names
    }

    /// The host scalar of one list entry: the entry itself, or the key of a one-pair
    /// mapping (a tagged host, `- 1.2.3.4: tag`).
    pub fn host_of_entry(&self, entry: At) -> Option<At> {
        let doc = self.doc(entry.file)?;
        hosts::host_of_entry(doc, entry.id).map(|id| At {
            file: entry.file,
            id,
        })
    }

    /// The hosts of a list, as entries' host scalars.
    pub fn list_hosts(&self, list: At) -> Vec<At> {
        self.items(list)
            .into_iter()
            .filter_map(|e| self.host_of_entry(e))
            .collect()
    }

    /// The host list of a role value: the list itself, or its `hosts:` list.
    pub fn role_list(&self, role: &Val) -> Option<At> {
        if self.is_seq(role) {
            return self.one(role).map(|at| self.resolve(at));
        }
        match self.get(role, "hosts") {
            Look::Found { value, .. } if self.is_seq(&value) => self.one(&value),
            _ => None,
        }
    }

    /// The roles of `servers`, in Kamal's key order.
    pub fn roles(&self, root: &Val) -> Vec<Role> {
        let Look::Found { value: servers, .. } = self.get(root, "servers") else {
            return Vec::new();
        };
        if self.is_seq(&servers) {
            return vec![Role {
                name: "web".to_owned(),
                list: self.one(&servers),
            }];
        }
        if !self.is_map(&servers) {
            return Vec::new();
        }
        self.names(&servers)
            .into_iter()
            .filter_map(|name| match self.get(&servers, &name) {
                Look::Found { value, .. } => {
                    let list = self.role_list(&value);
                    Some(Role { name, list })
                }
                _ => None,
            })
            .collect()
    }

    /// Every host scalar of an accessory (`host`, `hosts`).
    pub fn accessory_hosts(&self, accessory: &Val) -> Vec<At> {
        let mut found = Vec::new();
        if let Look::Found { value, .. } = self.get(accessory, "host") {
            if let Some(at) = self.one(&value) {
                let at = self.resolve(at);
                if self.doc(at.file).is_some_and(|d| d.scalar(at.id).is_some()) {
                    found.push(at);
                }
            }
        }
        if let Look::Found { value, .. } = self.get(accessory, "hosts") {
            if let Some(list) = self.one(&value) {
                for item in self.items(self.resolve(list)) {
                    let item = self.resolve(item);
                    if self
                        .doc(item.file)
                        .is_some_and(|d| d.scalar(item.id).is_some())
                    {
                        found.push(item);
                    }
                }
            }
        }
        found
    }

    /// The accessories, in Kamal's key order, with their merged values.
    pub fn accessories(&self, root: &Val) -> Vec<(String, Val)> {
        let Look::Found { value, .. } = self.get(root, "accessories") else {
            return Vec::new();
        };
        if !self.is_map(&value) {
            return Vec::new();
        }
        self.names(&value)
            .into_iter()
            .filter_map(|name| match self.get(&value, &name) {
                Look::Found { value: v, .. } => Some((name, v)),
                _ => None,
            })
            .collect()
    }

    /// Every host scalar with the role or accessory it belongs to, in file order (base file
    /// first). A scalar shared through an alias appears once per holder.
    pub fn holders(&self, root: &Val) -> Vec<(At, Holder)> {
        let mut found = Vec::new();
        for role in self.roles(root) {
            let Some(list) = role.list else { continue };
            let holder = Holder::Role(role.name.clone());
            found.extend(
                self.list_hosts(list)
                    .into_iter()
                    .map(|h| (h, holder.clone())),
            );
        }
        for (name, accessory) in self.accessories(root) {
            let holder = Holder::Accessory(name);
            let hosts = self.accessory_hosts(&accessory);
            found.extend(hosts.into_iter().map(|h| (h, holder.clone())));
        }
        crate::sort::sort_by_key(&mut found, |(at, _)| *at);
        found
    }

    /// Every host scalar of every role and accessory, each physical scalar once.
    pub fn all_hosts(&self, root: &Val) -> Vec<At> {
        let mut hosts: Vec<At> = self.holders(root).into_iter().map(|(at, _)| at).collect();
        hosts.dedup();
        hosts
    }

    /// The role Kamal treats as primary: `primary_role` when it is a plain name, else `web`.
    pub fn primary_role(&self, root: &Val) -> String {
        match self.get(root, "primary_role") {
            Look::Found { value, .. } => {
                let name = self.text(&value).unwrap_or("");
                let plain = !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if plain { name } else { "web" }.to_owned()
            }
            _ => "web".to_owned(),
        }
    }

    /// `require_destination: true` at the top: the hosts live in destination files.
    pub fn requires_destination(&self, root: &Val) -> bool {
        matches!(self.get(root, "require_destination"), Look::Found { value, .. } if self.text(&value) == Some("true"))
    }

    /// Finds the host list of role `role` (the primary role when `None`).
    pub fn role_hosts(&self, root: &Val, role: Option<&str>) -> RoleHosts {
        let (servers_key, servers) = match self.get(root, "servers") {
            Look::Missing => return RoleHosts::NoServers,
            Look::Duplicate { at } => {
                return RoleHosts::Duplicate {
                    path: "servers".to_owned(),
                    at,
                };
            }
            Look::Found { key, value } => (key, value),
        };
        let primary = self.primary_role(root);
        let role = role.unwrap_or(&primary);
        if self.is_seq(&servers) && role == primary {
            if let Some(list) = self.one(&servers) {
                return RoleHosts::List {
                    list: self.resolve(list),
                    path: "servers".to_owned(),
                };
            }
        }
        if self.is_null(&servers) {
            return RoleHosts::ServersEmpty { at: servers_key };
        }
        if !self.is_map(&servers) {
            if self.is_seq(&servers) {
                return RoleHosts::NoRole {
                    role: role.to_owned(),
                    at: servers_key,
                    roles: vec!["web".to_owned()],
                };
            }
            return RoleHosts::ServersNotList {
                at: self.one(&servers).unwrap_or(servers_key),
            };
        }
        let path = format!("servers.{role}");
        match self.get(&servers, role) {
            Look::Missing => RoleHosts::NoRole {
                at: servers_key,
                roles: self.names(&servers),
                role: role.to_owned(),
            },
            Look::Duplicate { at } => RoleHosts::Duplicate { path, at },
            Look::Found { key, value } => self.hosts_of_role(key, &value, path),
        }
    }

    fn hosts_of_role(&self, key: At, role: &Val, path: String) -> RoleHosts {
        if self.is_seq(role) {
            if let Some(list) = self.one(role) {
                return RoleHosts::List {
                    list: self.resolve(list),
                    path,
                };
            }
        }
        if self.is_null(role) {
            return RoleHosts::RoleEmpty { path, at: key };
        }
        if !self.is_map(role) {
            return RoleHosts::NotList { path, at: key };
        }
        let hosts_path = format!("{path}.hosts");
        match self.get(role, "hosts") {
            Look::Missing => RoleHosts::NoHostsKey { path, at: key },
            Look::Duplicate { at } => RoleHosts::Duplicate {
                path: hosts_path,
                at,
            },
            Look::Found { value, .. } if self.is_seq(&value) => match self.one(&value) {
                Some(list) => RoleHosts::List {
                    list,
                    path: hosts_path,
                },
                None => RoleHosts::NotList {
                    path: hosts_path,
                    at: key,
                },
            },
            Look::Found { key, value } if self.is_null(&value) => RoleHosts::RoleEmpty {
                path: hosts_path,
                at: key,
            },
            Look::Found { key, .. } => RoleHosts::NotList {
                path: hosts_path,
                at: key,
            },
        }
    }
}

/// The keys of one mapping, merge-key sources included (their keys after the mapping's own).
fn keys_of(doc: &Doc, map: NodeId, depth: usize, names: &mut Vec<String>) {
    let map = doc.resolve(map);
    let mut sources = Vec::new();
    for (key, value) in doc.pairs(map) {
        if hosts::is_merge_key(doc, *key) {
            sources.push(*value);
            continue;
        }
        let name = doc.text_of(*key).to_owned();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if depth >= MAX_MERGE_DEPTH {
        return;
    }
    for source in sources {
        let source = doc.resolve(source);
        if doc.is_map(source) {
            keys_of(doc, source, depth + 1, names);
        }
        for item in doc.items(source) {
            if doc.is_map(doc.resolve(*item)) {
                keys_of(doc, *item, depth + 1, names);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::doc::parse;
    use super::*;

    fn docs(texts: &[&str]) -> Vec<Doc> {
        texts
            .iter()
            .map(|t| parse(t).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn list_path(tree: &Tree, role: Option<&str>) -> String {
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        match tree.role_hosts(&root, role) {
            RoleHosts::List { path, list } => format!("{path}@{}", list.file),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn finds_each_role_shape() {
        for (text, want) in [
            ("servers:\n  - a\n", "servers@0"),
            ("servers:\n  web: [a]\n", "servers.web@0"),
            ("servers: {web: {hosts: [a]}}\n", "servers.web.hosts@0"),
            (
                "primary_role: tokyo\nservers:\n  tokyo:\n    hosts: [a, b]\n",
                "servers.tokyo.hosts@0",
            ),
            (
                "x: &r {hosts: [a]}\nservers:\n  web:\n    <<: *r\n    cmd: c\n",
                "servers.web.hosts@0",
            ),
        ] {
            let d = docs(&[text]);
            let tree = Tree {
                docs: d.iter().collect(),
            };
            assert_eq!(list_path(&tree, None), want, "{text}");
        }
    }

    #[test]
    fn a_destination_overrides_lists_and_merges_mappings() {
        let d = docs(&[
            "servers:\n  web:\n    hosts: [a]\n    cmd: x\n  job: [b]\nproxy:\n  ssl: true\n  host: a.example\n",
            "servers:\n  web:\n    hosts: [c, d]\nproxy:\n  host: c.example\n",
        ]);
        let tree = Tree {
            docs: d.iter().collect(),
        };
        assert_eq!(list_path(&tree, None), "servers.web.hosts@1");
        assert_eq!(list_path(&tree, Some("job")), "servers.job@0");
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        let web = tree.path(&root, &["servers", "web", "cmd"]);
        assert_eq!(web.and_then(|v| tree.text(&v)), Some("x"));
        let ssl = tree.path(&root, &["proxy", "ssl"]);
        assert_eq!(ssl.and_then(|v| tree.text(&v)), Some("true"));
        let host = tree.path(&root, &["proxy", "host"]);
        assert_eq!(host.and_then(|v| tree.text(&v)), Some("c.example"));
        let names: Vec<String> = tree.roles(&root).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["web", "job"]);
        let hosts: Vec<&str> = tree
            .all_hosts(&root)
            .into_iter()
            .map(|h| tree.text_of(h))
            .collect();
        assert_eq!(hosts, ["b", "c", "d"]);
    }

    #[test]
    fn a_scalar_in_the_destination_replaces_a_mapping() {
        let d = docs(&["proxy:\n  ssl: true\n", "proxy: false\n"]);
        let tree = Tree {
            docs: d.iter().collect(),
        };
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        assert_eq!(tree.path(&root, &["proxy", "ssl"]), None);
        let proxy = tree.path(&root, &["proxy"]);
        assert_eq!(proxy.and_then(|v| tree.text(&v)), Some("false"));
    }

    #[test]
    fn merge_keys_bring_their_keys_and_do_not_loop() {
        let d = docs(&["x: &a\n  <<: *a\n  k: 1\nservers:\n  <<: {web: [h]}\n  job: [j]\n"]);
        let tree = Tree {
            docs: d.iter().collect(),
        };
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        let x = tree.path(&root, &["x"]).unwrap_or_else(|| panic!("no x"));
        assert_eq!(tree.names(&x), ["k"]);
        let names: Vec<String> = tree.roles(&root).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["job", "web"]);
    }

    #[test]
    fn reports_what_is_missing() {
        let cases: [(&str, &str); 5] = [
            ("service: a\n", "NoServers"),
            ("servers:\n", "ServersEmpty"),
            ("servers:\n  web:\n", "RoleEmpty"),
            ("servers:\n  web:\n    cmd: x\n", "NoHostsKey"),
            ("servers:\n  job: [a]\n", "NoRole"),
        ];
        for (text, want) in cases {
            let d = docs(&[text]);
            let tree = Tree {
                docs: d.iter().collect(),
            };
            assert!(list_path(&tree, None).starts_with(want), "{text}");
        }
        let d = docs(&["servers:\n  web: [a]\n  web: [b]\n"]);
        let tree = Tree {
            docs: d.iter().collect(),
        };
        let root = tree.root().unwrap_or_else(|| panic!("no root"));
        let RoleHosts::Duplicate { at, .. } = tree.role_hosts(&root, None) else {
            panic!("not a duplicate")
        };
        assert_eq!(tree.line(at), 3);
    }
}
