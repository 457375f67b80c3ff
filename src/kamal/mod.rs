//! The Kamal config editor: points `config/deploy.yml` at a new server without disturbing
//! anything else in the file (SPEC §6).
//!
//! The text is never re-emitted. The file is ERB-masked ([`erb`]), parsed into a node tree
//! with byte positions ([`doc`]), read the way Kamal reads it — with a destination, the base
//! file and the destination file merged ([`tree`]) — the host scalars are found where Kamal
//! reads hosts ([`hosts`]), and only their bytes are replaced or a list entry inserted
//! ([`splice`]). The result is parsed again and must give the same events except the
//! intended scalars; otherwise the edit is refused. Kamal's own host-dependent validations
//! are mirrored in [`rules`]. Pure: no I/O, no printing, no panics on any input.
//!
//! Below it only `crate::text` and `crate::sort` (the program's one sort: a sort of our own
//! here would compile its own copy of the standard library's).

mod doc;
mod erb;
mod hints;
mod hosts;
mod mode;
pub mod proxy;
mod refs;
mod remove;
mod rules;
mod section;
mod splice;
pub mod ssh;
mod tree;
mod verify;

use std::fmt;
use std::ops::Range;

use yaml_rust2::scanner::{ScanError, TScalarStyle};

use doc::{Doc, NodeId};
use erb::Masked;
use hints::{Blocked, Manual};
use hosts::Holder;
pub use mode::{
    Basis, Decision, KAMAL_SAMPLE, ProjectServer, SeveralHosts, WebHosts, decide, is_placeholder,
    needs_project, owner,
};
pub use refs::host_lines;
pub use remove::{
    DiffKind, DiffLine, PLACEHOLDER, Removal, Removed, as_address, mentions, other_references,
    remove,
};
pub use section::{Field, Item, Scalar};
use splice::Splice;
use tree::{At, FileId, RoleHosts, Tree, Val};
use verify::Expectation;

/// One edited host, as reported to the user (`changes` in the JSON output).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// Where the host is, e.g. `servers.web.hosts[0]`, `accessories.db.host`, or
    /// `servers.web[0]` for the key of a tagged host.
    pub path: String,
    /// 1-based line: in the original text for a replaced host, in the new text for an
    /// appended one.
    pub line: usize,
    /// The previous value; `None` for an appended host.
    pub old: Option<String>,
    pub new: String,
}

/// How the new host goes into the file (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The single web host H, and every other host equal to H, become the new host.
    Replace,
    /// The new host is added to the web role (or, with `--role`, to that role); nothing
    /// else changes.
    Append,
}

/// Where the new server goes: the decided mode, or a role named by `--role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    Replace,
    /// Added to the primary (web) role.
    Append,
    /// Added to this role (`--role`), reported as [`Mode::Append`].
    Role(String),
}

impl Placement {
    /// The placement for a mode (`None`: as [`edit`] picks it, by the number of web hosts).
    pub fn from_mode(mode: Mode) -> Placement {
        match mode {
            Mode::Replace => Placement::Replace,
            Mode::Append => Placement::Append,
        }
    }
}

/// Which file of a destination pair a line is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `deploy.yml` under a destination file: read, never edited.
    Base,
    /// The file pegasus edits (`deploy.yml`, or `deploy.DEST.yml` with a destination).
    Edited,
}

/// A line of the config, for a person: a host position to edit by hand, or a value that
/// still names a host the edit moved away from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spot {
    pub layer: Layer,
    /// 1-based.
    pub line: usize,
    /// E.g. `servers.web.hosts[0]`, `env.clear.DB_HOST`.
    pub path: String,
    /// The line's content, trimmed, as written (ERB included).
    pub text: String,
}

/// What [`Config::place`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The new text of the edited file and what changed (never empty, `text` differs from
    /// the input).
    Updated {
        text: String,
        changes: Vec<Change>,
        summary: Box<Summary>,
        /// Values outside host positions that still name a host the edit moved away from
        /// (SPEC §6 "Other references"), by file and line; never edited.
        other_refs: Vec<Spot>,
        /// With a destination: host lines of the base file that held the replaced host, left
        /// for a hand edit (the base file is read by every destination).
        hand_edits: Vec<Spot>,
    },
    /// The host is already where it would go: nothing to write.
    Unchanged,
    /// Nothing could be edited safely; `reason` tells the user what to edit by hand (without
    /// the file path), `line` is the 1-based line to point at, when there is one, and
    /// `spots` are the host positions involved (never a value that merely holds an address).
    Manual {
        reason: String,
        line: Option<usize>,
        spots: Vec<Spot>,
    },
}

/// What an update did, for the words around the diff and for comparing two plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub mode: Mode,
    /// The role the new server joins (the primary role unless `--role`).
    pub role: String,
    /// The replaced host (replace mode only).
    pub replaced: Option<String>,
    /// The target role's host list, e.g. `servers.web.hosts`.
    pub web_path: String,
    /// How many entries that list has now.
    pub web_hosts: usize,
    /// Append after a single host: that host.
    pub previous: Option<String>,
    /// Replace: the roles and accessories whose host changed. Append after a single host H:
    /// the other roles and the accessories that stay on H. In file order, each once.
    pub roles: Vec<String>,
    pub accessories: Vec<String>,
    /// Replace: the moved accessories that keep data on their host (`volumes`,
    /// `directories` or `files`).
    pub data: Vec<String>,
    /// The hosts the edit moved away from: the replaced host, or the placeholders an
    /// append replaced.
    pub moved: Vec<String>,
    /// The target role's distinct hosts before and after (Kamal counts each host once).
    pub hosts_before: usize,
    pub hosts_after: usize,
}

/// The file is not YAML (after ERB masking): where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.col, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// A place where the config still names a host (for `server destroy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// The line's content, trimmed.
    pub text: String,
}

/// The roles of the config: what `--role` may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    /// Kamal's primary role (`primary_role`, else `web`).
    pub primary: String,
    /// Every role of `servers`, in Kamal's order.
    pub names: Vec<String>,
}

/// The planned edit breaks Kamal's rule that a role running the proxy with automatic HTTPS
/// (`ssl: true`, no custom certificate) has one host (`ensure_one_host_for_ssl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleBreak {
    /// The role that would get a second host.
    pub role: String,
    pub primary: bool,
    /// Its distinct hosts after the edit.
    pub hosts: usize,
    /// Its hosts now.
    pub current: Vec<String>,
    /// The `ssl` setting (or the ERB line that decides it).
    pub setting: Spot,
    /// ERB decides the setting, so it may be on.
    pub erb: bool,
    /// The other roles, for `--role ROLE`.
    pub others: Vec<String>,
}

/// Parses the file (ERB masked) without deciding anything: the early check done before
/// the server is created.
///
/// # Errors
/// [`ParseError`] when the masked text is not YAML (or holds a NUL byte).
pub fn check(text: &str) -> Result<(), ParseError> {
    Source::parse(text).map(|_| ())
}

/// Decides and performs the edit for a new server whose address is `new_host` (an IPv4
/// address like `203.0.113.10` or an IPv6 address like `2001:db8:1::1`), in the mode
/// [`decide`] picks without knowing the project's servers: several web hosts are
/// appended to, a single one is replaced.
///
/// # Errors
/// [`ParseError`] when the file does not parse; the caller leaves it untouched.
pub fn edit(text: &str, new_host: &str) -> Result<Edit, ParseError> {
    Ok(Config::parse(text)?.edit(new_host, None))
}

/// Every place the config still names `host`: host entries equal to it and any other
/// scalar containing it (e.g. `builder.remote: ssh://root@IP`). Comments are not scanned.
/// Sorted by line.
///
/// # Errors
/// [`ParseError`] when the file does not parse.
pub fn references(text: &str, host: &str) -> Result<Vec<Reference>, ParseError> {
    Ok(Config::parse(text)?.references(host))
}

/// A parsed config — one file, or a base file and a destination file read together — to
/// ask about it before editing it.
pub struct Config<'a> {
    /// Base first (with a destination), the edited file last.
    sources: Vec<Source<'a>>,
    /// The base file's name, for the words of a hand edit (`deploy.yml`).
    base_name: String,
}

impl<'a> Config<'a> {
    /// # Errors
    /// [`ParseError`] when the masked text is not YAML (or holds a NUL byte).
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        Source::parse(text).map(|source| Self {
            sources: vec![source],
            base_name: String::new(),
        })
    }

    /// A destination file (`deploy.DEST.yml`, the one edited) over its base file
    /// (`deploy.yml`, named `base_name` in the words of a hand edit), merged as Kamal
    /// merges them.
    ///
    /// # Errors
    /// The file that does not parse, and why.
    pub fn parse_layered(
        base_name: &str,
        base: &'a str,
        edited: &'a str,
    ) -> Result<Self, (Layer, ParseError)> {
        let base = Source::parse(base).map_err(|e| (Layer::Base, e))?;
        let edited = Source::parse(edited).map_err(|e| (Layer::Edited, e))?;
        Ok(Self {
            sources: vec![base, edited],
            base_name: base_name.to_owned(),
        })
    }

    fn tree(&self) -> Tree<'_> {
        Tree {
            docs: self.sources.iter().map(|s| &s.doc).collect(),
        }
    }

    fn edited(&self) -> FileId {
        self.sources.len().saturating_sub(1)
    }

    fn source(&self, file: FileId) -> Option<&Source<'a>> {
        self.sources.get(file)
    }

    fn layer(&self, file: FileId) -> Layer {
        if file == self.edited() {
            Layer::Edited
        } else {
            Layer::Base
        }
    }

    /// The primary role's host list, `None` when the config has none.
    pub fn web_hosts(&self) -> Option<WebHosts> {
        let tree = self.tree();
        let root = tree.root()?;
        let RoleHosts::List { list, path } = tree.role_hosts(&root, None) else {
            return None;
        };
        let hosts = tree
            .items(list)
            .into_iter()
            .map(|entry| {
                let node = tree.host_of_entry(entry)?;
                self.host(node).ok().map(|h| h.value)
            })
            .collect();
        Some(WebHosts { path, hosts })
    }

    /// The roles `--role` may name, and the primary one.
    pub fn roles(&self) -> Roles {
        let tree = self.tree();
        let Some(root) = tree.root() else {
            return Roles {
                primary: "web".to_owned(),
                names: Vec::new(),
            };
        };
        Roles {
            primary: tree.primary_role(&root),
            names: tree.roles(&root).into_iter().map(|r| r.name).collect(),
        }
    }

    /// The edit for `new_host` in `mode`; `None` picks the mode as [`edit`] does.
    pub fn edit(&self, new_host: &str, mode: Option<Mode>) -> Edit {
        let placement = match mode {
            Some(mode) => Placement::from_mode(mode),
            None => {
                let several = self.web_hosts().is_some_and(|w| w.hosts.len() > 1);
                if several {
                    Placement::Append
                } else {
                    Placement::Replace
                }
            }
        };
        self.place(new_host, &placement)
    }

    /// The edit that puts `new_host` where `placement` says.
    pub fn place(&self, new_host: &str, placement: &Placement) -> Edit {
        self.try_place(new_host, placement)
            .unwrap_or_else(Edit::from)
    }

    /// Kamal's host-dependent rules on a planned edit (its [`Summary`]): a role that runs
    /// the proxy with automatic HTTPS and no custom certificate may not get a second host.
    ///
    /// # Errors
    /// [`RuleBreak`] naming the role and the setting.
    pub fn check_rules(&self, summary: &Summary) -> Result<(), Box<RuleBreak>> {
        if summary.hosts_after <= 1 || summary.hosts_after <= summary.hosts_before {
            return Ok(());
        }
        let tree = self.tree();
        let Some(root) = tree.root() else {
            return Ok(());
        };
        let primary_name = tree.primary_role(&root);
        let primary = summary.role == primary_name;
        let erb = |at: At| self.is_erb(at);
        let rules = rules::Rules {
            tree: &tree,
            erb: &erb,
        };
        let (at, erb) = match rules.ssl(&root, &summary.role, primary) {
            rules::Ssl::Off | rules::Ssl::Custom => return Ok(()),
            rules::Ssl::Auto { at } => (at, false),
            rules::Ssl::Unknown { at } => (at, true),
        };
        let current = match tree.role_hosts(&root, Some(&summary.role)) {
            RoleHosts::List { list, .. } => tree
                .list_hosts(list)
                .into_iter()
                .map(|h| self.host_text(h))
                .collect(),
            _ => Vec::new(),
        };
        let others = tree
            .roles(&root)
            .into_iter()
            .map(|r| r.name)
            .filter(|n| *n != primary_name && *n != summary.role)
            .collect();
        Err(Box::new(RuleBreak {
            role: summary.role.clone(),
            primary,
            hosts: summary.hosts_after,
            current,
            setting: self.spot(at),
            erb,
            others,
        }))
    }

    /// See [`references`] (the edited file only).
    pub fn references(&self, host: &str) -> Vec<Reference> {
        self.source(self.edited())
            .map_or_else(Vec::new, |s| s.references(host))
    }

    /// A merged section of the config for a reader (`ssh`, `proxy`, `builder`, …): the
    /// value at `path`, following keys through both files of a destination pair.
    pub fn section(&self, path: &[&str]) -> Option<Item<'_, 'a>> {
        let tree = self.tree();
        let root = tree.root()?;
        let val = tree.path(&root, path)?;
        Some(Item::new(self, val))
    }

    /// The proxy's host names, from the merged `proxy` section.
    pub fn proxy_hosts(&self) -> proxy::ProxyHosts {
        proxy::read(self)
    }

    fn try_place(&self, new_host: &str, placement: &Placement) -> Result<Edit, Manual> {
        if new_host.is_empty() || new_host.chars().any(|c| c.is_control() || c == ' ') {
            return Err(hints::bad_host(new_host));
        }
        if self.sources.iter().any(|s| s.doc.documents > 1) {
            return Err(hints::multi_document(new_host));
        }
        let tree = self.tree();
        let Some(root) = tree.root() else {
            let edited = self.source(self.edited()).map(|s| &s.doc);
            let empty = edited.is_none_or(|d| d.root.is_none_or(|r| d.is_null(r)));
            return Err(hints::not_a_config(empty, new_host));
        };
        let role = match placement {
            Placement::Role(role) => Some(role.as_str()),
            _ => None,
        };
        let primary = tree.primary_role(&root);
        let role_name = role.unwrap_or(&primary).to_owned();
        let (list, path) = match tree.role_hosts(&root, role) {
            RoleHosts::List { list, path } => (list, path),
            other => {
                let destination = tree.requires_destination(&root);
                let spots = self.involved(&tree, &root, &Key::Placeholders);
                let line = |at: At| (at.file == self.edited()).then(|| tree.line(at));
                return Err(hints::no_list(other, destination, new_host, &line).with(spots));
            }
        };
        let entries = tree.items(list);
        let target = Target {
            list,
            path: &path,
            role: &role_name,
        };
        match (entries.as_slice(), placement) {
            ([], _) => Err(hints::empty_list(self.line_in(list), &path, new_host)),
            ([only], Placement::Replace) => {
                self.replace_single(&tree, &root, *only, &target, new_host)
            }
            (_, Placement::Replace) => {
                let spots = self.entry_spots(&tree, &entries);
                Err(
                    hints::several_for_replace(self.line_in(list), &path, entries.len(), new_host)
                        .with(spots),
                )
            }
            (_, _) => self.append(&tree, &root, &entries, &target, new_host),
        }
    }

    /// One web host H: replace it, and every other role or accessory host equal to H.
    fn replace_single(
        &self,
        tree: &Tree<'_>,
        root: &Val,
        entry: At,
        target: &Target<'_>,
        new_host: &str,
    ) -> Result<Edit, Manual> {
        let path = target.path;
        let Some(web) = tree.host_of_entry(entry) else {
            let spots = self.entry_spots(tree, &[entry]);
            return Err(hints::odd_entry(self.line_in(entry), path, new_host).with(spots));
        };
        let web = self
            .host(web)
            .map_err(|b| self.blocked_hint(tree, root, b, web, new_host))?;
        if web.value == new_host {
            return Ok(Edit::Unchanged);
        }
        let mut targets = Vec::new();
        for at in tree.all_hosts(root) {
            if self.is_erb(at) || tree.text_of(at) != web.value {
                continue;
            }
            let host = self.host(at);
            targets.push(host.map_err(|b| self.blocked_hint(tree, root, b, at, new_host))?);
        }
        // With a destination, hosts in the base file are never edited: the web host there
        // means nothing can be done here; other hosts there are left for a hand edit.
        let (targets, elsewhere): (Vec<Placed>, Vec<Placed>) = targets
            .into_iter()
            .partition(|t| t.at.file == self.edited());
        if web.at.file != self.edited() {
            let spots = self.involved(tree, root, &Key::Value(web.value.clone()));
            let base = elsewhere
                .iter()
                .map(|t| tree.line(t.at).to_string())
                .collect::<Vec<_>>();
            let words = hints::in_base(&self.base_name, &base, &web.value, new_host);
            return Err(words.with(spots));
        }
        let hand_edits: Vec<Spot> = elsewhere.iter().map(|t| self.spot(t.at)).collect();
        let holders = tree.holders(root);
        let nodes: Vec<At> = targets.iter().map(|t| t.at).collect();
        let (roles, accessories) = names(&holders, |n| nodes.contains(&n), None);
        let data = self.data_accessories(tree, root, &accessories);
        let summary = Summary {
            mode: Mode::Replace,
            role: target.role.to_owned(),
            replaced: Some(web.value.clone()),
            web_path: path.to_owned(),
            web_hosts: 1,
            previous: None,
            roles,
            accessories,
            data,
            moved: vec![web.value.clone()],
            hosts_before: 1,
            hosts_after: 1,
        };
        let mut edit = self.finish_replace(&targets, new_host, summary)?;
        if let Edit::Updated { hand_edits: h, .. } = &mut edit {
            *h = hand_edits;
        }
        Ok(edit)
    }

    /// The accessories among `names` that keep data on their host.
    fn data_accessories(&self, tree: &Tree<'_>, root: &Val, names: &[String]) -> Vec<String> {
        tree.accessories(root)
            .into_iter()
            .filter(|(name, _)| names.contains(name))
            .filter(|(_, accessory)| {
                ["volumes", "directories", "files"].iter().any(|key| {
                    matches!(tree.get(accessory, key), tree::Look::Found { value, .. } if !tree.is_null(&value))
                })
            })
            .map(|(name, _)| name)
            .collect()
    }

    fn finish_replace(
        &self,
        targets: &[Placed],
        new_host: &str,
        summary: Summary,
    ) -> Result<Edit, Manual> {
        let source = self
            .source(self.edited())
            .ok_or_else(|| hints::bad_host(new_host))?;
        let mut splices = Vec::new();
        let mut replaced = Vec::new();
        let mut changes = Vec::new();
        for target in targets {
            let (text, style) = splice::render(new_host, target.style);
            let node = source.doc.node(target.at.id);
            splices.push(Splice {
                range: target.span.clone(),
                text,
                scalar_at: 0,
            });
            replaced.push((node.map_or(0, |n| n.first_event), new_host, style));
            changes.push(Change {
                path: source.doc.display_path(target.at.id),
                line: source.doc.line(target.at.id),
                old: Some(target.value.clone()),
                new: new_host.to_owned(),
            });
        }
        crate::sort::sort_by_key(&mut changes, |c| c.line);
        let expected = Expectation {
            old: &source.doc.events,
            replaced,
            appended: None,
        };
        let first = changes.first().map_or(0, |c| c.line);
        let lines: Vec<String> = changes.iter().map(|c| c.line.to_string()).collect();
        let what = format!("the host(s) on line(s) {}", lines.join(", "));
        let text = source
            .splice_and_verify(&splices, &expected)
            .ok_or_else(|| hints::unverified(first, &what, new_host))?;
        let other_refs = self.other_refs(&text, &summary.moved);
        Ok(Edit::Updated {
            text,
            changes,
            summary: Box::new(summary),
            other_refs,
            hand_edits: Vec::new(),
        })
    }

    /// Add the new host to the target list, unless it is there, written like the entry
    /// before it (plain, single- or double-quoted). Placeholders in the list are replaced
    /// instead: a placeholder never stays beside a real host.
    fn append(
        &self,
        tree: &Tree<'_>,
        root: &Val,
        entries: &[At],
        target: &Target<'_>,
        new_host: &str,
    ) -> Result<Edit, Manual> {
        let (list, path) = (target.list, target.path);
        if list.file != self.edited() {
            let spots = self.entry_spots(tree, entries);
            return Err(
                hints::list_in_base(&self.base_name, tree.line(list), path, new_host).with(spots),
            );
        }
        let hosts: Vec<At> = entries
            .iter()
            .filter_map(|e| tree.host_of_entry(*e))
            .collect();
        let mut blocked = hosts
            .iter()
            .filter_map(|h| self.host(*h).err().map(|b| (*h, b)))
            .collect::<Vec<_>>();
        if blocked.len() == entries.len() && !blocked.is_empty() {
            let spots = self.entry_spots(tree, entries);
            let (first, why) = blocked.swap_remove(0);
            return Err(self
                .blocked_hint(tree, root, why, first, new_host)
                .with(spots));
        }
        let placeholders: Vec<Placed> = hosts
            .iter()
            .filter_map(|h| self.host(*h).ok())
            .filter(|h| is_placeholder(&h.value))
            .collect();
        let mut distinct: Vec<String> = hosts.iter().map(|h| self.host_text(*h)).collect();
        crate::sort::sort(&mut distinct);
        distinct.dedup();
        let hosts_before = distinct.len();
        let reals: Vec<&String> = distinct.iter().filter(|h| !is_placeholder(h)).collect();
        let hosts_after = reals.len() + usize::from(!reals.iter().any(|h| *h == new_host));
        if placeholders.is_empty() && hosts.iter().any(|h| tree.text_of(*h) == new_host) {
            return Ok(Edit::Unchanged);
        }
        let mut summary = self.append_summary(tree, root, &hosts, entries.len(), target);
        summary.hosts_before = hosts_before;
        summary.hosts_after = hosts_after;
        if !placeholders.is_empty() {
            let mut moved: Vec<String> = placeholders.iter().map(|p| p.value.clone()).collect();
            moved.dedup();
            summary.moved = moved;
            summary.web_hosts = entries.len();
            summary.previous = None;
            summary.roles.clear();
            summary.accessories.clear();
            return self.finish_replace(&placeholders, new_host, summary);
        }
        let source = self
            .source(self.edited())
            .ok_or_else(|| hints::bad_host(new_host))?;
        let before = hosts
            .last()
            .and_then(|h| source.doc.scalar(h.id))
            .map_or(TScalarStyle::Plain, |(_, style, _)| style);
        let (entry, style) = splice::render(new_host, before);
        let line = tree.line(list);
        let splice =
            splice::append(&source.doc, &source.masked.text, list.id, &entry).ok_or_else(|| {
                hints::cannot_append(line, path, new_host).with(self.entry_spots(tree, entries))
            })?;
        let list_start = source.doc.node(list.id).and_then(|n| n.start).unwrap_or(0);
        if source.erb_statement_in(list_start..splice.range.start) {
            let spots = self.entry_spots(tree, entries);
            return Err(hints::erb_list(line, path, new_host).with(spots));
        }
        let end_event = source.doc.node(list.id).map_or(0, |n| n.last_event);
        let expected = Expectation {
            old: &source.doc.events,
            replaced: Vec::new(),
            appended: Some((end_event, new_host, style)),
        };
        let text = source
            .splice_and_verify(std::slice::from_ref(&splice), &expected)
            .ok_or_else(|| hints::unverified(line, &format!("the list `{path}`"), new_host))?;
        let at = source.bom.len() + splice.range.start + splice.scalar_at;
        let change = Change {
            path: format!("{path}[{}]", entries.len()),
            line: doc::LineTable::new(&text).line_of(at),
            old: None,
            new: new_host.to_owned(),
        };
        Ok(Edit::Updated {
            text,
            changes: vec![change],
            summary: Box::new(summary),
            other_refs: Vec::new(),
            hand_edits: Vec::new(),
        })
    }

    /// After a single host H: the other roles and the accessories that stay on H.
    fn append_summary(
        &self,
        tree: &Tree<'_>,
        root: &Val,
        hosts: &[At],
        before: usize,
        target: &Target<'_>,
    ) -> Summary {
        let previous = match hosts {
            [only] if before == 1 => Some(tree.text_of(*only).to_owned()),
            _ => None,
        };
        let (roles, accessories) = match hosts {
            [only] if before == 1 => {
                let old = tree.text_of(*only);
                let holders = tree.holders(root);
                let stays = |n: At| !self.is_erb(n) && tree.text_of(n) == old;
                names(&holders, stays, Some(target.role))
            }
            _ => (Vec::new(), Vec::new()),
        };
        Summary {
            mode: Mode::Append,
            role: target.role.to_owned(),
            replaced: None,
            web_path: target.path.to_owned(),
            web_hosts: before + 1,
            previous,
            roles,
            accessories,
            data: Vec::new(),
            moved: Vec::new(),
            hosts_before: 0,
            hosts_after: 0,
        }
    }

    /// A host scalar that can be replaced, or why not.
    fn host(&self, at: At) -> Result<Placed, Blocked> {
        let source = self.source(at.file).ok_or(Blocked::Unprovable)?;
        source.host(at.id).map(|host| Placed {
            at: At {
                file: at.file,
                id: host.node,
            },
            value: host.value,
            style: host.style,
            span: host.span,
        })
    }

    /// Whether a node is written as (or inside) ERB.
    fn is_erb(&self, at: At) -> bool {
        self.source(at.file)
            .is_some_and(|s| matches!(s.host(at.id), Err(Blocked::Erb(_))))
    }

    /// How a host reads in its list: its value, or its ERB text as written.
    fn host_text(&self, at: At) -> String {
        match self.host(at) {
            Ok(host) => host.value,
            Err(Blocked::Erb(tag)) => tag,
            Err(_) => self
                .source(at.file)
                .and_then(|s| s.doc.scalar(at.id).map(|(v, ..)| v.to_owned()))
                .unwrap_or_default(),
        }
    }

    /// The 1-based line of a node of the edited file (0 in the base file: no line to point
    /// at in the edited file).
    fn line_in(&self, at: At) -> usize {
        if at.file == self.edited() {
            self.source(at.file).map_or(0, |s| s.doc.line(at.id))
        } else {
            0
        }
    }

    fn spot(&self, at: At) -> Spot {
        let source = self.source(at.file);
        let line = source.map_or(0, |s| s.doc.line(at.id));
        Spot {
            layer: self.layer(at.file),
            line,
            path: source.map_or_else(String::new, |s| s.doc.display_path(at.id)),
            text: source.map_or_else(String::new, |s| s.line_text(line)),
        }
    }

    /// The host positions of list entries.
    fn entry_spots(&self, tree: &Tree<'_>, entries: &[At]) -> Vec<Spot> {
        entries
            .iter()
            .map(|e| self.spot(tree.host_of_entry(*e).unwrap_or(*e)))
            .collect()
    }

    /// Every host position — role lists, tagged entries, accessory `host`/`hosts`, in
    /// every role and accessory — that holds `key`, by file and line.
    fn involved(&self, tree: &Tree<'_>, root: &Val, key: &Key) -> Vec<Spot> {
        let mut spots: Vec<Spot> = tree
            .all_hosts(root)
            .into_iter()
            .filter(|at| match key {
                Key::Value(value) => !self.is_erb(*at) && tree.text_of(*at) == value,
                Key::Erb => self.is_erb(*at),
                Key::Placeholders => {
                    self.is_erb(*at) || self.host(*at).is_ok_and(|h| is_placeholder(&h.value))
                }
            })
            .map(|at| self.spot(at))
            .collect();
        spots.dedup();
        spots
    }

    fn blocked_hint(
        &self,
        tree: &Tree<'_>,
        root: &Val,
        blocked: Blocked,
        at: At,
        new_host: &str,
    ) -> Manual {
        let path = tree.display_path(at);
        let key = match &blocked {
            Blocked::Erb(_) => Key::Erb,
            Blocked::Empty => Key::Placeholders,
            Blocked::Unprovable => Key::Value(tree.text_of(at).to_owned()),
        };
        let spots = self.involved(tree, root, &key);
        hints::blocked(blocked, self.line_in(at), &path, new_host).with(spots)
    }

    /// The values outside host positions that still name one of `moved`, in the edited
    /// file's new text (`text`) and in the base file.
    fn other_refs(&self, text: &str, moved: &[String]) -> Vec<Spot> {
        if moved.iter().all(String::is_empty) {
            return Vec::new();
        }
        // A replace only swaps scalars in place, so the old parse has the new text's lines
        // and paths: no second parse. Host positions as Kamal reads the pair, and as each
        // file reads alone (a base host that the destination overrides is still a host
        // line, not a value).
        let tree = self.tree();
        let mut positions = tree.root().map_or_else(Vec::new, |r| tree.all_hosts(&r));
        for (file, source) in self.sources.iter().enumerate() {
            let alone = Tree {
                docs: vec![&source.doc],
            };
            if let Some(root) = alone.root() {
                positions.extend(
                    alone
                        .all_hosts(&root)
                        .into_iter()
                        .map(|at| At { file, id: at.id }),
                );
            }
        }
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = doc::LineTable::new(body);
        let mut spots = Vec::new();
        for (file, source) in self.sources.iter().enumerate() {
            for (id, found) in source.naming(moved) {
                if positions.contains(&At { file, id }) {
                    continue;
                }
                let text = if file == self.edited() {
                    lines
                        .line_range(body, found.line)
                        .and_then(|r| body.get(r))
                        .map_or(found.text, |l| l.trim().to_owned())
                } else {
                    found.text
                };
                spots.push(Spot {
                    layer: self.layer(file),
                    line: found.line,
                    path: found.path,
                    text,
                });
            }
        }
        crate::sort::sort_by_key(&mut spots, |a| (a.layer, a.line));
        spots.dedup();
        spots
    }
}

/// What a hand edit is about: the host positions holding a value, those written as ERB,
/// or (no host known) the placeholders and ERB ones.
enum Key {
    Value(String),
    Erb,
    Placeholders,
}

/// The list the new server goes into.
struct Target<'t> {
    list: At,
    path: &'t str,
    role: &'t str,
}

/// The roles and accessories among `holders` (in order, each once), leaving out the role
/// `skip`.
fn names(
    holders: &[(At, Holder)],
    keep: impl Fn(At) -> bool,
    skip: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let (mut roles, mut accessories) = (Vec::<String>::new(), Vec::<String>::new());
    for (node, holder) in holders {
        if !keep(*node) {
            continue;
        }
        let (into, name) = match holder {
            Holder::Role(name) if Some(name.as_str()) == skip => continue,
            Holder::Role(name) => (&mut roles, name),
            Holder::Accessory(name) => (&mut accessories, name),
        };
        if !into.contains(name) {
            into.push(name.clone());
        }
    }
    (roles, accessories)
}

/// One file: its BOM and body, the masked body, and its parse.
struct Source<'a> {
    bom: &'a str,
    body: &'a str,
    masked: Masked,
    doc: Doc,
}

/// A host scalar of one file, with what is needed to replace it.
struct Host {
    node: NodeId,
    value: String,
    style: TScalarStyle,
    span: Range<usize>,
}

/// A host scalar found in the tree (in either file of a destination pair).
struct Placed {
    at: At,
    value: String,
    style: TScalarStyle,
    span: Range<usize>,
}

impl<'a> Source<'a> {
    fn parse(text: &'a str) -> Result<Self, ParseError> {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(body) => (text.get(..3).unwrap_or(""), body),
            None => ("", text),
        };
        if let Some(at) = body.find('\0') {
            return Err(nul_error(body, at));
        }
        let masked = erb::mask(body);
        let doc = doc::parse(&masked.text).map_err(|e| parse_error(&e))?;
        Ok(Self {
            bom,
            body,
            masked,
            doc,
        })
    }

    /// Applies the splices to the original body and re-parses the result, which must give
    /// the `expected` events. Returns the full new text (BOM included).
    fn splice_and_verify(&self, splices: &[Splice], expected: &Expectation<'_>) -> Option<String> {
        let body = splice::apply(self.body, splices)?;
        let masked = erb::mask(&body);
        let same_erb = masked.tags.len() == self.masked.tags.len();
        let sound = same_erb && body != self.body && verify::verify(&masked.text, expected);
        sound.then(|| format!("{}{body}", self.bom))
    }

    /// The top-level mapping of this file alone (for the single-file editors).
    fn root(&self) -> Option<NodeId> {
        self.doc.root.filter(|root| self.doc.is_map(*root))
    }

    /// A host scalar that can be replaced, or why not.
    fn host(&self, node: NodeId) -> Result<Host, Blocked> {
        let (value, style, span) = self.doc.scalar(node).ok_or(Blocked::Unprovable)?;
        if self.doc.is_null(node) {
            return Err(Blocked::Empty);
        }
        let start = self.doc.node(node).and_then(|n| n.start);
        let extent = span.clone().or_else(|| start.map(|s| s..self.line_end(s)));
        if let Some(tag) = extent.and_then(|e| self.masked.tag_overlapping(&e)) {
            return Err(Blocked::Erb(self.body.get(tag).unwrap_or("").to_owned()));
        }
        let span = span.ok_or(Blocked::Unprovable)?;
        Ok(Host {
            node,
            value: value.to_owned(),
            style,
            span,
        })
    }

    /// Whether an ERB statement (`<% if %>`, `<% end %>`, …) sits inside `range`: then the
    /// list is assembled by ERB and an appended entry could land in the wrong branch.
    fn erb_statement_in(&self, range: Range<usize>) -> bool {
        self.masked.tags.iter().any(|tag| {
            let text = self.body.get(tag.clone()).unwrap_or("");
            let statement = !text.starts_with("<%=") && !text.starts_with("<%#");
            statement && tag.start < range.end && range.start < tag.end
        })
    }

    fn line_end(&self, at: usize) -> usize {
        let line = self.doc.lines.line_of(at);
        self.doc
            .lines
            .line_range(&self.masked.text, line)
            .map_or(at, |r| r.end)
    }
}

fn parse_error(error: &ScanError) -> ParseError {
    let mark = error.marker();
    ParseError {
        line: mark.line().max(1),
        col: mark.col() + 1,
        message: error.info().to_owned(),
    }
}

fn nul_error(body: &str, at: usize) -> ParseError {
    let lines = doc::LineTable::new(body);
    let line = lines.line_of(at);
    let start = lines.line_range(body, line).map_or(0, |r| r.start);
    ParseError {
        line,
        col: body.get(start..at).map_or(0, |s| s.chars().count()) + 1,
        message: "the file contains a NUL byte, so it is not a text file".to_owned(),
    }
}

#[cfg(test)]
mod tests;
