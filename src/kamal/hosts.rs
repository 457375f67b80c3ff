//! Where Kamal reads hosts: the web role (`servers: [..]`, `servers.web: [..]`,
//! `servers.web.hosts: [..]`, or the role named by `primary_role`), the other roles, and
//! the accessories (`host`, `hosts`). Aliases are followed and merge keys (`<<: *x`) are
//! looked through, so every host is reported as the scalar that physically holds it.

use super::doc::{Doc, Kind, NodeId};

/// What a mapping lookup found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lookup {
    Missing,
    /// `key` is the key node, `value` the value node (aliases already followed).
    Found {
        key: NodeId,
        value: NodeId,
    },
    /// The key appears more than once (typically both branches of an ERB `if`).
    Duplicate {
        line: usize,
    },
}

/// How deep merge keys are followed (they can point back at the mapping holding them).
const MAX_MERGE_DEPTH: usize = 8;

/// Looks `name` up in the mapping `map`, then in what its merge keys bring in.
pub(crate) fn get(doc: &Doc, map: NodeId, name: &str) -> Lookup {
    get_at_depth(doc, map, name, 0)
}

fn get_at_depth(doc: &Doc, map: NodeId, name: &str, depth: usize) -> Lookup {
    let map = doc.resolve(map);
    let mut matches = doc
        .pairs(map)
        .iter()
        .filter(|(key, _)| !is_merge_key(doc, *key) && doc.text_of(*key) == name);
    if let Some((key, value)) = matches.next() {
        return match matches.next() {
            Some((again, _)) => Lookup::Duplicate {
                line: doc.line(*again),
            },
            None => Lookup::Found {
                key: *key,
                value: doc.resolve(*value),
            },
        };
    }
    if depth >= MAX_MERGE_DEPTH {
        return Lookup::Missing;
    }
    merged_maps(doc, map)
        .into_iter()
        .map(|source| get_at_depth(doc, source, name, depth + 1))
        .find(|found| *found != Lookup::Missing)
        .unwrap_or(Lookup::Missing)
}

pub(crate) fn is_merge_key(doc: &Doc, key: NodeId) -> bool {
    matches!(
        doc.scalar(key),
        Some(("<<", yaml_rust2::scanner::TScalarStyle::Plain, _))
    )
}

/// The mappings a `<<:` key merges in: one mapping or a list of them.
fn merged_maps(doc: &Doc, map: NodeId) -> Vec<NodeId> {
    let mut maps = Vec::new();
    for (key, value) in doc.pairs(map) {
        if !is_merge_key(doc, *key) {
            continue;
        }
        let value = doc.resolve(*value);
        if doc.is_map(value) {
            maps.push(value);
        }
        maps.extend(
            doc.items(value)
                .iter()
                .map(|item| doc.resolve(*item))
                .filter(|item| doc.is_map(*item)),
        );
    }
    maps
}

/// The host scalar of one list entry: the entry itself, or the key of a one-pair mapping
/// (a tagged host, `- 1.2.3.4: tag`). `None` for anything else.
pub(crate) fn host_of_entry(doc: &Doc, entry: NodeId) -> Option<NodeId> {
    let entry = doc.resolve(entry);
    match doc.node(entry).map(|n| &n.kind) {
        Some(Kind::Scalar { .. }) => Some(entry),
        Some(Kind::Map { pairs, .. }) if pairs.len() == 1 => {
            let key = doc.resolve(pairs.first()?.0);
            doc.scalar(key).map(|_| key)
        }
        _ => None,
    }
}

/// The host list of a role value: the list itself, or its `hosts:` list.
pub(crate) fn role_list(doc: &Doc, role: NodeId) -> Option<NodeId> {
    let role = doc.resolve(role);
    if doc.is_seq(role) {
        return Some(role);
    }
    match get(doc, role, "hosts") {
        Lookup::Found { value, .. } if doc.is_seq(value) => Some(value),
        _ => None,
    }
}

/// Every host scalar of every role and accessory, each physical scalar once, in file order.
pub(crate) fn all_hosts(doc: &Doc, root: NodeId) -> Vec<NodeId> {
    let mut hosts = Vec::new();
    if let Lookup::Found { value: servers, .. } = get(doc, root, "servers") {
        let mut lists: Vec<NodeId> = Vec::new();
        if doc.is_seq(servers) {
            lists.push(servers);
        }
        lists.extend(
            doc.pairs(servers)
                .iter()
                .filter(|(key, _)| !is_merge_key(doc, *key))
                .filter_map(|(_, role)| role_list(doc, *role)),
        );
        for list in lists {
            hosts.extend(
                doc.items(list)
                    .iter()
                    .filter_map(|e| host_of_entry(doc, *e)),
            );
        }
    }
    if let Lookup::Found {
        value: accessories, ..
    } = get(doc, root, "accessories")
    {
        for (_, accessory) in doc.pairs(accessories) {
            hosts.extend(accessory_hosts(doc, *accessory));
        }
    }
    hosts.sort_unstable();
    hosts.dedup();
    hosts
}

/// Who uses a host: a role of `servers`, or an accessory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Role(String),
    Accessory(String),
}

/// Every host scalar with the role or accessory it belongs to, in file order. A scalar
/// shared through an alias appears once per holder.
pub(crate) fn holders(doc: &Doc, root: NodeId) -> Vec<(NodeId, Holder)> {
    let mut found = Vec::new();
    if let Lookup::Found { value: servers, .. } = get(doc, root, "servers") {
        let hosts_of = |list: NodeId| -> Vec<NodeId> {
            doc.items(list)
                .iter()
                .filter_map(|e| host_of_entry(doc, *e))
                .collect()
        };
        if doc.is_seq(servers) {
            let role = Holder::Role("web".to_owned());
            found.extend(hosts_of(servers).into_iter().map(|h| (h, role.clone())));
        }
        for (key, role) in doc.pairs(servers) {
            if is_merge_key(doc, *key) {
                continue;
            }
            let Some(list) = role_list(doc, *role) else {
                continue;
            };
            let name = Holder::Role(doc.text_of(*key).to_owned());
            found.extend(hosts_of(list).into_iter().map(|h| (h, name.clone())));
        }
    }
    if let Lookup::Found {
        value: accessories, ..
    } = get(doc, root, "accessories")
    {
        for (key, accessory) in doc.pairs(accessories) {
            let name = Holder::Accessory(doc.text_of(*key).to_owned());
            let hosts = accessory_hosts(doc, *accessory);
            found.extend(hosts.into_iter().map(|h| (h, name.clone())));
        }
    }
    found.sort_by_key(|(node, _)| *node);
    found
}

fn accessory_hosts(doc: &Doc, accessory: NodeId) -> Vec<NodeId> {
    let mut hosts = Vec::new();
    if let Lookup::Found { value, .. } = get(doc, accessory, "host") {
        hosts.extend(doc.scalar(value).map(|_| value));
    }
    if let Lookup::Found { value, .. } = get(doc, accessory, "hosts") {
        hosts.extend(
            doc.items(value)
                .iter()
                .map(|item| doc.resolve(*item))
                .filter(|item| doc.scalar(*item).is_some()),
        );
    }
    hosts
}

/// Where the web role's hosts should be and what is there instead when they are not.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum WebRole {
    /// The host list (aliases followed) and the path it was reached by.
    List {
        list: NodeId,
        path: String,
    },
    NoServers,
    ServersEmpty {
        line: usize,
    },
    ServersNotList {
        line: usize,
    },
    NoRole {
        role: String,
        line: usize,
        roles: Vec<String>,
    },
    /// `web:` with nothing after it.
    RoleEmpty {
        path: String,
        line: usize,
    },
    /// A role mapping without `hosts:`.
    NoHostsKey {
        path: String,
        line: usize,
    },
    /// `hosts:` (or the role) holds something that is not a list.
    NotList {
        path: String,
        line: usize,
    },
    Duplicate {
        path: String,
        line: usize,
    },
}

/// Finds the web role's host list (the role named by `primary_role`, `web` by default).
pub(crate) fn web_role(doc: &Doc, root: NodeId) -> WebRole {
    let servers = match get(doc, root, "servers") {
        Lookup::Missing => return WebRole::NoServers,
        Lookup::Duplicate { line } => return duplicate("servers", line),
        Lookup::Found { key, value } => (key, value),
    };
    let (servers_key, servers) = servers;
    if doc.is_seq(servers) {
        return WebRole::List {
            list: servers,
            path: "servers".to_owned(),
        };
    }
    if doc.is_null(servers) {
        return WebRole::ServersEmpty {
            line: doc.line(servers_key),
        };
    }
    if !doc.is_map(servers) {
        return WebRole::ServersNotList {
            line: doc.line(servers),
        };
    }
    let role = primary_role(doc, root);
    let path = format!("servers.{role}");
    match get(doc, servers, &role) {
        Lookup::Missing => WebRole::NoRole {
            line: doc.line(servers_key),
            roles: doc
                .pairs(servers)
                .iter()
                .map(|(k, _)| doc.text_of(*k).to_owned())
                .collect(),
            role,
        },
        Lookup::Duplicate { line } => duplicate(&path, line),
        Lookup::Found { key, value } => role_hosts(doc, key, value, path),
    }
}

fn role_hosts(doc: &Doc, key: NodeId, role: NodeId, path: String) -> WebRole {
    let line = doc.line(key);
    if doc.is_seq(role) {
        return WebRole::List { list: role, path };
    }
    if doc.is_null(role) {
        return WebRole::RoleEmpty { path, line };
    }
    if !doc.is_map(role) {
        return WebRole::NotList { path, line };
    }
    let path = format!("{path}.hosts");
    match get(doc, role, "hosts") {
        Lookup::Missing => WebRole::NoHostsKey {
            path: path.trim_end_matches(".hosts").to_owned(),
            line,
        },
        Lookup::Duplicate { line } => duplicate(&path, line),
        Lookup::Found { value, .. } if doc.is_seq(value) => WebRole::List { list: value, path },
        Lookup::Found { key, value } if doc.is_null(value) => WebRole::RoleEmpty {
            path,
            line: doc.line(key),
        },
        Lookup::Found { key, .. } => WebRole::NotList {
            path,
            line: doc.line(key),
        },
    }
}

fn duplicate(path: &str, line: usize) -> WebRole {
    WebRole::Duplicate {
        path: path.to_owned(),
        line,
    }
}

/// The role Kamal treats as primary: `primary_role` when it is a plain name, else `web`.
pub(crate) fn primary_role(doc: &Doc, root: NodeId) -> String {
    match get(doc, root, "primary_role") {
        Lookup::Found { value, .. } => {
            let name = doc.text_of(value);
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
pub(crate) fn requires_destination(doc: &Doc, root: NodeId) -> bool {
    matches!(get(doc, root, "require_destination"), Lookup::Found { value, .. } if doc.text_of(value) == "true")
}

#[cfg(test)]
mod tests {
    use super::super::doc::parse;
    use super::*;

    fn web(text: &str) -> (Doc, WebRole) {
        let doc = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let role = doc
            .root
            .map_or(WebRole::NoServers, |root| web_role(&doc, root));
        (doc, role)
    }

    fn list_path(role: &WebRole) -> &str {
        match role {
            WebRole::List { path, .. } => path,
            _ => "",
        }
    }

    #[test]
    fn finds_each_web_role_shape() {
        assert_eq!(list_path(&web("servers:\n  - a\n").1), "servers");
        assert_eq!(list_path(&web("servers:\n  web: [a]\n").1), "servers.web");
        assert_eq!(
            list_path(&web("servers: {web: {hosts: [a]}}\n").1),
            "servers.web.hosts"
        );
        let primary = "primary_role: tokyo\nservers:\n  tokyo:\n    hosts: [a, b]\n";
        assert_eq!(list_path(&web(primary).1), "servers.tokyo.hosts");
    }

    #[test]
    fn follows_merge_keys_and_aliases() {
        let text = "x: &r {hosts: [a]}\nservers:\n  web:\n    <<: *r\n    cmd: c\n";
        let (doc, role) = web(text);
        let WebRole::List { list, .. } = role else {
            panic!("no list: {role:?}")
        };
        assert_eq!(doc.display_path(list), "x.hosts");
    }

    #[test]
    fn a_mapping_that_merges_itself_does_not_loop() {
        let doc = parse("x: &a\n  <<: *a\n  k: 1\n").unwrap_or_else(|e| panic!("{e}"));
        let map = (0..doc.nodes.len()).find(|n| doc.display_path(*n) == "x" && doc.is_map(*n));
        let map = map.unwrap_or_else(|| panic!("no mapping"));
        assert!(matches!(get(&doc, map, "k"), Lookup::Found { .. }));
        assert_eq!(get(&doc, map, "nope"), Lookup::Missing);
    }

    #[test]
    fn reports_what_is_missing() {
        assert_eq!(web("service: a\n").1, WebRole::NoServers);
        assert_eq!(web("servers:\n").1, WebRole::ServersEmpty { line: 1 });
        assert_eq!(
            web("servers:\n  web:\n").1,
            WebRole::RoleEmpty {
                path: "servers.web".into(),
                line: 2
            }
        );
        assert_eq!(
            web("servers:\n  web:\n    cmd: x\n").1,
            WebRole::NoHostsKey {
                path: "servers.web".into(),
                line: 2
            }
        );
        assert!(matches!(
            web("servers:\n  job: [a]\n").1,
            WebRole::NoRole { .. }
        ));
        assert!(matches!(
            web("servers:\n  web: [a]\n  web: [b]\n").1,
            WebRole::Duplicate { line: 3, .. }
        ));
    }

    #[test]
    fn collects_role_and_accessory_hosts_once() {
        let text = "servers:\n  web: &w [a, b: t]\n  job: *w\n  x:\n    hosts: [c]\naccessories:\n  db: {host: d, port: e}\n  r: {hosts: [f]}\n";
        let doc = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let hosts = doc.root.map(|r| all_hosts(&doc, r)).unwrap_or_default();
        let names: Vec<&str> = hosts.iter().map(|h| doc.text_of(*h)).collect();
        assert_eq!(names, ["a", "b", "c", "d", "f"]);
    }
}
