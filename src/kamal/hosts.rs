//! Where Kamal reads hosts: the web role (`servers: [..]`, `servers.web: [..]`,
//! `servers.web.hosts: [..]`, or the role named by `primary_role`), the other roles, and
//! the accessories (`host`, `hosts`). Aliases are followed and merge keys (`<<: *x`) are
//! looked through, so every host is reported as the scalar that physically holds it.

use super::doc::{Doc, Kind, NodeId};
use super::tree::{Tree, Val};

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

/// Who uses a host: a role of `servers`, or an accessory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Holder {
    Role(String),
    Accessory(String),
}

/// The host list of a role value in one file: the list itself, or its `hosts:` list.
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

/// One file's view of the tree walk in [`Tree`] (the readers of a single file use it).
fn one_file(doc: &Doc) -> Option<(Tree<'_>, Val)> {
    let tree = Tree { docs: vec![doc] };
    let root = tree.root()?;
    Some((tree, root))
}

/// Every host scalar of every role and accessory of one file, each physical scalar once,
/// in file order.
pub(crate) fn all_hosts(doc: &Doc, _root: NodeId) -> Vec<NodeId> {
    one_file(doc).map_or_else(Vec::new, |(tree, root)| {
        tree.all_hosts(&root).into_iter().map(|at| at.id).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::super::doc::parse;
    use super::*;

    #[test]
    fn a_mapping_that_merges_itself_does_not_loop() {
        let doc = parse("x: &a\n  <<: *a\n  k: 1\n").unwrap_or_else(|e| panic!("{e}"));
        let map = (0..doc.nodes.len()).find(|n| doc.display_path(*n) == "x" && doc.is_map(*n));
        let map = map.unwrap_or_else(|| panic!("no mapping"));
        assert!(matches!(get(&doc, map, "k"), Lookup::Found { .. }));
        assert_eq!(get(&doc, map, "nope"), Lookup::Missing);
    }

    #[test]
    fn collects_role_and_accessory_hosts_once() {
        let text = "servers:\n  web: &w [a, b: t]\n  job: *w\n  x:\n    hosts: [c]\naccessories:\n  db: {host: d, port: e}\n  r: {hosts: [f]}\n";
        let doc = parse(text).unwrap_or_else(|e| panic!("{e}"));
        let root = doc.root.unwrap_or_default();
        let names: Vec<&str> = all_hosts(&doc, root)
            .iter()
            .map(|h| doc.text_of(*h))
            .collect();
        assert_eq!(names, ["a", "b", "c", "d", "f"]);
        let (tree, top) = one_file(&doc).unwrap_or_else(|| panic!("no root"));
        assert_eq!(tree.holders(&top).len(), 7);
        assert_eq!(tree.primary_role(&top), "web");
    }
}
