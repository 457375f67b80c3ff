//! The Kamal config editor: points `config/deploy.yml` at a new server without disturbing
//! anything else in the file (SPEC §6).
//!
//! The text is never re-emitted. The file is ERB-masked ([`erb`]), parsed into a node tree
//! with byte positions ([`doc`]), the host scalars are found the way Kamal reads them
//! ([`hosts`]), and only their bytes are replaced or a list entry inserted ([`splice`]).
//! The result is parsed again and must give the same events except the intended scalars;
//! otherwise the edit is refused. Pure: no I/O, no printing, no panics on any input.

mod doc;
mod erb;
mod hints;
mod hosts;
mod mode;
pub mod proxy;
mod refs;
mod remove;
mod splice;
pub mod ssh;
mod verify;

use std::fmt;
use std::ops::Range;

use yaml_rust2::scanner::{ScanError, TScalarStyle};

use doc::{Doc, NodeId};
use erb::Masked;
use hints::{Blocked, Manual};
use hosts::{Holder, WebRole};
pub use mode::{
    Basis, Decision, KAMAL_SAMPLE, ProjectServer, SeveralHosts, WebHosts, decide, is_placeholder,
    needs_project, owner,
};
pub use refs::host_lines;
pub use remove::{
    DiffKind, DiffLine, PLACEHOLDER, Removal, Removed, as_address, mentions, other_references,
    remove,
};
use splice::Splice;
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
    /// The new host is added to the web role; nothing else changes.
    Append,
}

/// What [`edit`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// The new text and what changed (never empty, `text` differs from the input).
    Updated {
        text: String,
        changes: Vec<Change>,
        summary: Summary,
    },
    /// The host is already where it would go: nothing to write.
    Unchanged,
    /// Nothing could be edited safely; `reason` tells the user what to edit by hand (without
    /// the file path) and `line` is the 1-based line to point at, when there is one.
    Manual { reason: String, line: Option<usize> },
}

/// What an update did, for the words around the diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub mode: Mode,
    /// The replaced host (replace mode only).
    pub replaced: Option<String>,
    /// The web role's host list, e.g. `servers.web.hosts`.
    pub web_path: String,
    /// How many hosts the web role has now.
    pub web_hosts: usize,
    /// Append after a single web host: that host.
    pub previous: Option<String>,
    /// Replace: the roles and accessories whose host changed. Append after a single host H:
    /// the other roles and the accessories that stay on H. In file order, each once.
    pub roles: Vec<String>,
    pub accessories: Vec<String>,
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

/// A parsed config, to ask about it before editing it.
pub struct Config<'a> {
    source: Source<'a>,
}

impl<'a> Config<'a> {
    /// # Errors
    /// [`ParseError`] when the masked text is not YAML (or holds a NUL byte).
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        Source::parse(text).map(|source| Self { source })
    }

    /// The web role's host list, `None` when the file has none.
    pub fn web_hosts(&self) -> Option<WebHosts> {
        self.source.web_hosts()
    }

    /// The edit for `new_host` in `mode`; `None` picks the mode as [`edit`] does.
    pub fn edit(&self, new_host: &str, mode: Option<Mode>) -> Edit {
        self.source.edit(new_host, mode).unwrap_or_else(Edit::from)
    }

    /// See [`references`].
    pub fn references(&self, host: &str) -> Vec<Reference> {
        self.source.references(host)
    }
}

/// The input split into BOM and body, the masked body, and its parse.
struct Source<'a> {
    bom: &'a str,
    body: &'a str,
    masked: Masked,
    doc: Doc,
}

/// A host scalar found in the tree, with what is needed to replace it.
struct Host {
    node: NodeId,
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

    fn root(&self) -> Option<NodeId> {
        self.doc.root.filter(|root| self.doc.is_map(*root))
    }

    fn web_hosts(&self) -> Option<WebHosts> {
        let WebRole::List { list, path } = hosts::web_role(&self.doc, self.root()?) else {
            return None;
        };
        let hosts = self
            .doc
            .items(list)
            .iter()
            .map(|entry| {
                let node = hosts::host_of_entry(&self.doc, *entry)?;
                self.host(node).ok().map(|h| h.value)
            })
            .collect();
        Some(WebHosts { path, hosts })
    }

    fn edit(&self, new_host: &str, mode: Option<Mode>) -> Result<Edit, Manual> {
        if new_host.is_empty() || new_host.chars().any(|c| c.is_control() || c == ' ') {
            return Err(hints::bad_host(new_host));
        }
        if self.doc.documents > 1 {
            return Err(hints::multi_document(new_host));
        }
        let Some(root) = self.root() else {
            let empty = self.doc.root.is_none_or(|root| self.doc.is_null(root));
            return Err(hints::not_a_config(empty, new_host));
        };
        let (list, path) = match hosts::web_role(&self.doc, root) {
            WebRole::List { list, path } => (list, path),
            other => {
                let destination = hosts::requires_destination(&self.doc, root);
                return Err(hints::no_list(other, destination, new_host));
            }
        };
        let entries: Vec<NodeId> = self.doc.items(list).to_vec();
        let mode = mode.unwrap_or(if entries.len() > 1 {
            Mode::Append
        } else {
            Mode::Replace
        });
        match (entries.as_slice(), mode) {
            ([], _) => Err(hints::empty_list(self.doc.line(list), &path, new_host)),
            ([only], Mode::Replace) => self.replace_single(root, *only, &path, new_host),
            (_, Mode::Replace) => Err(hints::several_for_replace(
                self.doc.line(list),
                &path,
                entries.len(),
                new_host,
            )),
            (_, Mode::Append) => self.append(root, list, &entries, &path, new_host),
        }
    }

    /// The roles and accessories among `holders` (in order, each once), leaving out the
    /// role `skip`.
    fn names(
        holders: &[(NodeId, Holder)],
        keep: impl Fn(NodeId) -> bool,
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

    /// One web host H: replace it, and every other role or accessory host equal to H.
    fn replace_single(
        &self,
        root: NodeId,
        entry: NodeId,
        path: &str,
        new_host: &str,
    ) -> Result<Edit, Manual> {
        let Some(web) = hosts::host_of_entry(&self.doc, entry) else {
            return Err(hints::odd_entry(self.doc.line(entry), path, new_host));
        };
        let web = self
            .host(web)
            .map_err(|b| self.blocked_hint(b, web, new_host))?;
        if web.value == new_host {
            return Ok(Edit::Unchanged);
        }
        let mut targets = Vec::new();
        for node in hosts::all_hosts(&self.doc, root) {
            if self.doc.text_of(node) != web.value {
                continue;
            }
            let target = self.host(node);
            targets.push(target.map_err(|b| self.blocked_hint(b, node, new_host))?);
        }
        let holders = hosts::holders(&self.doc, root);
        let nodes: Vec<NodeId> = targets.iter().map(|t| t.node).collect();
        let (roles, accessories) = Self::names(&holders, |n| nodes.contains(&n), None);
        let summary = Summary {
            mode: Mode::Replace,
            replaced: Some(web.value.clone()),
            web_path: path.to_owned(),
            web_hosts: 1,
            previous: None,
            roles,
            accessories,
        };
        self.finish_replace(&targets, new_host, summary)
    }

    fn finish_replace(
        &self,
        targets: &[Host],
        new_host: &str,
        summary: Summary,
    ) -> Result<Edit, Manual> {
        let mut splices = Vec::new();
        let mut replaced = Vec::new();
        let mut changes = Vec::new();
        for target in targets {
            let (text, style) = splice::render(new_host, target.style);
            let node = self.doc.node(target.node);
            splices.push(Splice {
                range: target.span.clone(),
                text,
                scalar_at: 0,
            });
            replaced.push((node.map_or(0, |n| n.first_event), new_host, style));
            changes.push(Change {
                path: self.doc.display_path(target.node),
                line: self.doc.line(target.node),
                old: Some(target.value.clone()),
                new: new_host.to_owned(),
            });
        }
        changes.sort_by_key(|c| c.line);
        let expected = Expectation {
            old: &self.doc.events,
            replaced,
            appended: None,
        };
        let first = changes.first().map_or(0, |c| c.line);
        let lines: Vec<String> = changes.iter().map(|c| c.line.to_string()).collect();
        let what = format!("the host(s) on line(s) {}", lines.join(", "));
        let text = self
            .splice_and_verify(&splices, &expected)
            .ok_or_else(|| hints::unverified(first, &what, new_host))?;
        Ok(Edit::Updated {
            text,
            changes,
            summary,
        })
    }

    /// Add the new host at the end of the web list, unless it is there, written like the
    /// entry before it (plain, single- or double-quoted).
    fn append(
        &self,
        root: NodeId,
        list: NodeId,
        entries: &[NodeId],
        path: &str,
        new_host: &str,
    ) -> Result<Edit, Manual> {
        let hosts: Vec<NodeId> = entries
            .iter()
            .filter_map(|e| hosts::host_of_entry(&self.doc, *e))
            .collect();
        if hosts.iter().any(|h| self.doc.text_of(*h) == new_host) {
            return Ok(Edit::Unchanged);
        }
        let mut blocked = hosts
            .iter()
            .filter_map(|h| self.host(*h).err().map(|b| (*h, b)))
            .collect::<Vec<_>>();
        if blocked.len() == entries.len() && !blocked.is_empty() {
            let (first, why) = blocked.swap_remove(0);
            return Err(self.blocked_hint(why, first, new_host));
        }
        let before = entries
            .last()
            .and_then(|e| hosts::host_of_entry(&self.doc, *e))
            .and_then(|h| self.doc.scalar(h))
            .map_or(TScalarStyle::Plain, |(_, style, _)| style);
        let (entry, style) = splice::render(new_host, before);
        let line = self.doc.line(list);
        let splice = splice::append(&self.doc, &self.masked.text, list, &entry)
            .ok_or_else(|| hints::cannot_append(line, path, new_host))?;
        let list_start = self.doc.node(list).and_then(|n| n.start).unwrap_or(0);
        if self.erb_statement_in(list_start..splice.range.start) {
            return Err(hints::erb_list(line, path, new_host));
        }
        let end_event = self.doc.node(list).map_or(0, |n| n.last_event);
        let expected = Expectation {
            old: &self.doc.events,
            replaced: Vec::new(),
            appended: Some((end_event, new_host, style)),
        };
        let text = self
            .splice_and_verify(std::slice::from_ref(&splice), &expected)
            .ok_or_else(|| hints::unverified(line, &format!("the list `{path}`"), new_host))?;
        let at = self.bom.len() + splice.range.start + splice.scalar_at;
        let change = Change {
            path: format!("{path}[{}]", entries.len()),
            line: doc::LineTable::new(&text).line_of(at),
            old: None,
            new: new_host.to_owned(),
        };
        Ok(Edit::Updated {
            text,
            changes: vec![change],
            summary: self.append_summary(root, &hosts, entries.len(), path),
        })
    }

    /// After a single web host H: the other roles and the accessories that stay on H.
    fn append_summary(&self, root: NodeId, web: &[NodeId], before: usize, path: &str) -> Summary {
        let previous = match web {
            [only] if before == 1 => Some(self.doc.text_of(*only).to_owned()),
            _ => None,
        };
        let (roles, accessories) = match web {
            [only] if before == 1 => {
                let old = self.doc.text_of(*only);
                let holders = hosts::holders(&self.doc, root);
                let web_role = hosts::primary_role(&self.doc, root);
                let web_role = if path == "servers" { "web" } else { &web_role };
                Self::names(&holders, |n| self.doc.text_of(n) == old, Some(web_role))
            }
            _ => (Vec::new(), Vec::new()),
        };
        Summary {
            mode: Mode::Append,
            replaced: None,
            web_path: path.to_owned(),
            web_hosts: before + 1,
            previous,
            roles,
            accessories,
        }
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

    fn blocked_hint(&self, blocked: Blocked, node: NodeId, new_host: &str) -> Manual {
        let path = self.doc.display_path(node);
        hints::blocked(blocked, self.doc.line(node), &path, new_host)
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
