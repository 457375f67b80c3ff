//! Scale-in (SPEC §5): the config forgets deleted servers. Every host entry equal to one of
//! their addresses (compared as addresses: `2001:DB8::1` is `2001:db8::1`) is edited:
//!
//! - in a host list that keeps other hosts, the entry goes — its whole line(s) in a block
//!   list, its item (with one separator) in a flow list;
//! - where it was the only host of a role or an accessory (or the list holds nothing but
//!   these addresses), the first becomes the placeholder `<IP-ADDRESS>`, quoted as the file
//!   quotes its hosts, and the others go.
//!
//! Values that merely contain an address (`DB_HOST`, `builder.remote`, a `port:` binding)
//! are listed, never edited. A host position written as ERB, a list assembled by ERB
//! statements, a file that does not parse or holds several documents, or an entry whose
//! text cannot be cut out safely blocks the whole edit: nothing changes and the lines to
//! edit by hand are named. The new text is parsed again and must give the old events
//! minus the removed entries, with the placeholders in place of the hosts.

use std::net::IpAddr;
use std::ops::Range;

use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

use super::doc::{Doc, Kind, NodeId};
use super::hints::Blocked as Why;
use super::hosts::{self, Lookup};
use super::splice::{self, Splice};
use super::verify::{self, Expectation};
use super::{Reference, Source, erb};

/// What takes the place of a role's or an accessory's last host (the SaaS Pegasus
/// template's own placeholder, so `create` then `destroy` gives the template back).
pub const PLACEHOLDER: &str = "<IP-ADDRESS>";

/// One host entry the edit changes (`kamal.changes` in `destroy --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    /// Where the entry is, e.g. `servers.web.hosts[1]`, `accessories.db.host`.
    pub path: String,
    /// 1-based, in the file before the edit.
    pub line: usize,
    /// The host as written (without quotes).
    pub old: String,
    /// `None`: the entry was removed; `Some("<IP-ADDRESS>")`: the placeholder took its place.
    pub new: Option<String>,
    /// The address it named, so a run over several servers can tell whose change it is.
    #[serde(skip)]
    pub address: IpAddr,
}

/// How a line of the diff reads (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DiffKind {
    /// The text before (a host value, or a whole line that is edited in place).
    Old,
    /// The text after.
    New,
    /// A whole line that goes (`-     - 203.0.113.11   (line removed)`).
    LineRemoved,
    /// A flow-list item that goes from a list spread over several lines: its value.
    ItemRemoved,
}

/// One line of the diff, without the file path; `line` is in the file before the edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub line: usize,
    pub kind: DiffKind,
    /// The file's text (a line without its break, or a value): escape it before showing.
    pub text: String,
}

/// What [`remove`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// Host entries named the addresses; `text` is the verified new file.
    Updated {
        text: String,
        /// By line.
        changes: Vec<Removed>,
        diff: Vec<DiffLine>,
        /// Values outside host positions that name an address, in the file as it is now
        /// (`refs_before`) and as it will be after the edit (`refs_after`).
        refs_before: Vec<Reference>,
        refs_after: Vec<Reference>,
    },
    /// No host entry names the addresses: nothing to write. `refs` as above.
    NotNamed { refs: Vec<Reference> },
    /// The file cannot be edited safely. `reason` says why (without the file path, which
    /// the caller puts first); `lines` are the lines to edit by hand (1-based, trimmed).
    Blocked {
        reason: String,
        lines: Vec<(usize, String)>,
    },
}

/// Makes the config `text` forget the hosts `addresses` (SPEC §5). Pure; never panics.
pub fn remove(text: &str, addresses: &[IpAddr]) -> Removal {
    if addresses.is_empty() {
        return Removal::NotNamed { refs: Vec::new() };
    }
    match Source::parse(text) {
        Ok(source) => source.remove(addresses),
        Err(e) => {
            let named = addresses.iter().any(|a| mentions(text, *a));
            if !named && erb::find_tags(text).is_empty() {
                return Removal::NotNamed { refs: Vec::new() };
            }
            Removal::Blocked {
                reason: format!(
                    "does not parse ({e}), so pegasus cannot tell where it names {}",
                    listed(addresses)
                ),
                lines: text_host_lines(text, addresses),
            }
        }
    }
}

/// Lines naming any of `addresses` outside host positions, in the file as it is (for a
/// file that needs no edit, or to show before asking). Empty when it does not parse.
pub fn other_references(text: &str, addresses: &[IpAddr]) -> Vec<Reference> {
    Source::parse(text).map_or_else(|_| Vec::new(), |s| s.address_refs(addresses))
}

/// A host value as an address: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]`.
pub fn as_address(host: &str) -> Option<IpAddr> {
    let host = host.trim();
    let inner = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    inner.parse().ok()
}

/// Whether `text` holds `address` as a word of its own (`ssh://root@1.2.3.4`,
/// `1.2.3.4:5432:5432`, `[2001:db8::1]:22`), compared as an address.
pub fn mentions(text: &str, address: IpAddr) -> bool {
    let v6 = address.is_ipv6();
    let part = |c: char| {
        if v6 {
            c.is_ascii_hexdigit() || c == ':' || c == '.'
        } else {
            c.is_ascii_digit() || c == '.'
        }
    };
    text.split(|c: char| !part(c))
        .any(|word| word.parse::<IpAddr>().is_ok_and(|a| a == address))
}

fn listed(addresses: &[IpAddr]) -> String {
    let words: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    match words.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// For a file that does not parse: the lines that look like host positions holding one
/// of `addresses` — a list item (`- H`, `- H: tag`) or a `host:`/`hosts:` value whose
/// whole value (or one of whose flow items) is H. Never a line where H is only part of a
/// value (`port: "127.0.0.1:3306:3306"`) or another key's value (`DB_HOST: H`).
fn text_host_lines(text: &str, addresses: &[IpAddr]) -> Vec<(usize, String)> {
    let hit = |candidate: &str| {
        let unquoted = candidate.trim().trim_matches(|c| c == '"' || c == '\'');
        as_address(unquoted).is_some_and(|a| addresses.contains(&a))
    };
    text.split('\n')
        .enumerate()
        .filter_map(|(index, raw)| {
            let line = raw.trim_end_matches('\r');
            let content = line.split(" #").next().unwrap_or(line).trim();
            let value = if let Some(item) = content.strip_prefix("- ") {
                item.trim()
            } else {
                content
                    .strip_prefix("host:")
                    .or_else(|| content.strip_prefix("hosts:"))?
                    .trim()
            };
            let tagged = value.split(": ").next().unwrap_or(value);
            let key = value.strip_suffix(':').unwrap_or(tagged);
            let items = value.trim_start_matches('[').trim_end_matches(']');
            let found = hit(value) || hit(tagged) || hit(key) || items.split(',').any(hit);
            found.then(|| (index + 1, line.trim().to_owned()))
        })
        .collect()
}

/// One planned edit.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// The host scalar becomes the placeholder.
    Placeholder { host: NodeId, address: IpAddr },
    /// The entries of a block list at these indices go.
    Block { list: NodeId },
    /// The entries of a flow list at these indices go.
    Flow { list: NodeId },
}

/// The plan for one host list.
#[derive(Debug, Clone, Default)]
struct ListPlan {
    /// (index, entry, host scalar, address) of the entries that go.
    gone: Vec<(usize, NodeId, NodeId, IpAddr)>,
}

/// A splice and what it does, for the diff.
struct Cut {
    splice: Splice,
    what: CutKind,
}

enum CutKind {
    Placeholder { value: String, line: usize },
    Lines { first: usize, last: usize },
    Item { value: String, line: usize },
}

impl Source<'_> {
    pub(super) fn remove(&self, addresses: &[IpAddr]) -> Removal {
        let named = addresses.iter().any(|a| mentions(self.body, *a));
        let root = match self.root() {
            Some(root) if self.doc.documents <= 1 => root,
            _ if !named => return Removal::NotNamed { refs: Vec::new() },
            _ => {
                let why = if self.doc.documents > 1 {
                    "holds more than one YAML document"
                } else {
                    "is not a Kamal config (no mapping at the top)"
                };
                return Removal::Blocked {
                    reason: format!(
                        "{why}, so pegasus cannot tell where it names {}",
                        listed(addresses)
                    ),
                    lines: text_host_lines(self.body, addresses),
                };
            }
        };
        let erb_lines = self.erb_hosts(root);
        if !erb_lines.is_empty() {
            let numbers: Vec<String> = erb_lines.iter().map(|(n, _)| n.to_string()).collect();
            return Removal::Blocked {
                reason: format!(
                    "takes hosts from ERB (line{} {}), so pegasus cannot tell whether they name {}",
                    if numbers.len() == 1 { "" } else { "s" },
                    numbers.join(", "),
                    listed(addresses)
                ),
                lines: erb_lines,
            };
        }
        let (ops, lists) = match self.plan_removal(root, addresses) {
            Ok(plan) => plan,
            Err(blocked) => return blocked,
        };
        let refs_before = self.address_refs(addresses);
        if ops.is_empty() {
            return Removal::NotNamed { refs: refs_before };
        }
        self.perform(root, &ops, &lists, addresses, refs_before)
    }

    /// Which entries go and which become the placeholder. `Err`: a list that ERB
    /// statements assemble holds one of the addresses.
    #[allow(clippy::type_complexity)]
    fn plan_removal(
        &self,
        root: NodeId,
        addresses: &[IpAddr],
    ) -> Result<(Vec<Op>, Vec<(NodeId, ListPlan)>), Removal> {
        let doc = &self.doc;
        let named = |node: NodeId| as_address(doc.text_of(node)).filter(|a| addresses.contains(a));
        let (lists, singles) = host_sites(doc, root);
        let mut ops = Vec::new();
        let mut plans = Vec::new();
        for list in lists {
            let items = doc.items(list);
            let gone: Vec<(usize, NodeId, NodeId, IpAddr)> = items
                .iter()
                .enumerate()
                .filter_map(|(i, entry)| {
                    let host = hosts::host_of_entry(doc, *entry)?;
                    named(host).map(|a| (i, *entry, host, a))
                })
                .collect();
            let Some(first) = gone.first().copied() else {
                continue;
            };
            let range = doc.node(list).and_then(|n| n.start).unwrap_or(0)..self.end_of(list);
            if self.erb_statement_in(range) {
                return Err(Removal::Blocked {
                    reason: format!(
                        "the list `{}` on line {} is assembled by ERB statements, so pegasus cannot tell which of its hosts Kamal gets",
                        doc.display_path(list),
                        doc.line(list)
                    ),
                    lines: gone
                        .iter()
                        .map(|(_, _, host, _)| {
                            (doc.line(*host), self.trimmed_line(doc.line(*host)))
                        })
                        .collect(),
                });
            }
            let mut plan = ListPlan { gone };
            if plan.gone.len() == items.len() {
                // Nothing else left: the first becomes the placeholder, the others go.
                plan.gone.remove(0);
                ops.push(Op::Placeholder {
                    host: first.2,
                    address: first.3,
                });
            }
            if !plan.gone.is_empty() {
                let flow = matches!(
                    doc.node(list).map(|n| &n.kind),
                    Some(Kind::Seq { flow: true, .. })
                );
                ops.push(if flow {
                    Op::Flow { list }
                } else {
                    Op::Block { list }
                });
                plans.push((list, plan));
            }
        }
        for host in singles {
            if let Some(address) = named(host) {
                ops.push(Op::Placeholder { host, address });
            }
        }
        // A scalar shared through an alias is edited once.
        let mut seen = Vec::new();
        ops.retain(|op| match op {
            Op::Placeholder { host, .. } => {
                let first = !seen.contains(host);
                seen.push(*host);
                first
            }
            _ => true,
        });
        Ok((ops, plans))
    }

    fn perform(
        &self,
        root: NodeId,
        ops: &[Op],
        lists: &[(NodeId, ListPlan)],
        addresses: &[IpAddr],
        refs_before: Vec<Reference>,
    ) -> Removal {
        let doc = &self.doc;
        let mut cuts: Vec<Cut> = Vec::new();
        let mut changes: Vec<Removed> = Vec::new();
        let mut skipped: Vec<Range<usize>> = Vec::new();
        let mut replaced: Vec<(usize, TScalarStyle)> = Vec::new();
        let plan_of = |list: NodeId| lists.iter().find(|(l, _)| *l == list).map(|(_, p)| p);
        for op in ops {
            match *op {
                Op::Placeholder { host, address } => {
                    let h = match self.host(host) {
                        Ok(h) => h,
                        Err(why) => return self.cannot(host, &why_words(&why)),
                    };
                    let style = self.placeholder_style(root, h.style, &h.value);
                    let line = doc.line(host);
                    replaced.push((doc.node(host).map_or(0, |n| n.first_event), style));
                    cuts.push(Cut {
                        splice: Splice {
                            range: h.span.clone(),
                            text: render(style),
                            scalar_at: 0,
                        },
                        what: CutKind::Placeholder {
                            value: h.value.clone(),
                            line,
                        },
                    });
                    changes.push(Removed {
                        path: doc.display_path(host),
                        line,
                        old: h.value,
                        new: Some(PLACEHOLDER.to_owned()),
                        address,
                    });
                }
                Op::Block { list } | Op::Flow { list } => {
                    let Some(plan) = plan_of(list) else { continue };
                    let flow = matches!(op, Op::Flow { .. });
                    let made = if flow {
                        self.flow_cuts(list, plan)
                    } else {
                        self.block_cuts(plan)
                    };
                    let Some(made) = made else {
                        let host = plan.gone.first().map_or(list, |g| g.2);
                        return self.cannot(
                            host,
                            "pegasus cannot cut this entry out of its list without touching its neighbours",
                        );
                    };
                    cuts.extend(made);
                    for (_, entry, host, address) in &plan.gone {
                        if let Some(node) = doc.node(*entry) {
                            skipped.push(node.first_event..node.last_event + 1);
                        }
                        changes.push(Removed {
                            path: doc.display_path(*entry),
                            line: self.entry_line(*entry),
                            old: doc.text_of(*host).to_owned(),
                            new: None,
                            address: *address,
                        });
                    }
                }
            }
        }
        crate::sort::sort_by_key(&mut changes, |c| c.line);
        let splices: Vec<Splice> = cuts.iter().map(|c| c.splice.clone()).collect();
        if overlapping(&splices) {
            let host = changes.first().map_or(0, |c| c.line);
            return self.blocked_lines(
                &changes,
                format!(
                    "the entries on line {host} and after are shared through anchors and aliases, so pegasus cannot edit one without the other"
                ),
            );
        }
        let Some(text) = self.verified(&splices, &skipped, &replaced) else {
            let numbers: Vec<String> = changes.iter().map(|c| c.line.to_string()).collect();
            return self.blocked_lines(
                &changes,
                format!(
                    "the edit of line(s) {} could not be verified (the file would read differently to Kamal)",
                    numbers.join(", ")
                ),
            );
        };
        let refs_after =
            Source::parse(&text).map_or_else(|_| Vec::new(), |s| s.address_refs(addresses));
        Removal::Updated {
            diff: self.diff(&cuts),
            text,
            changes,
            refs_before,
            refs_after,
        }
    }

    /// Whole lines out of a block list, one cut per entry.
    fn block_cuts(&self, plan: &ListPlan) -> Option<Vec<Cut>> {
        let text = self.masked.text.as_str();
        let lines = &self.doc.lines;
        let mut cuts = Vec::new();
        for (_, entry, _, _) in &plan.gone {
            let start = splice::entry_start(&self.doc, *entry)?;
            let first = lines.line_of(start);
            let first_range = lines.line_range(text, first)?;
            splice::dash_prefix(text.get(first_range.start..start)?)?;
            let last = splice::last_line(&self.doc, text, *entry)?;
            let mut range = first_range.start..lines.line_range(text, last)?.end;
            let ends_with_break = text
                .get(..range.end)
                .is_some_and(|head| head.ends_with(['\n', '\r']));
            if !ends_with_break && range.start > 0 {
                // The last line of a file without a final newline: the break before it
                // goes instead, so the file still ends without one.
                let head = text.get(..range.start)?;
                range.start -= if head.ends_with("\r\n") { 2 } else { 1 };
            }
            cuts.push(Cut {
                splice: Splice {
                    range,
                    text: String::new(),
                    scalar_at: 0,
                },
                what: CutKind::Lines { first, last },
            });
        }
        Some(cuts)
    }

    /// Items out of a flow list: an item with another after it goes with the separator
    /// that follows it; the items after the last one kept go with the separator before
    /// them. Every separator must be one comma and blanks (no comment).
    fn flow_cuts(&self, list: NodeId, plan: &ListPlan) -> Option<Vec<Cut>> {
        let text = self.masked.text.as_str();
        let items = self.doc.items(list);
        let starts: Vec<usize> = items
            .iter()
            .map(|i| splice::entry_start(&self.doc, *i))
            .collect::<Option<_>>()?;
        let ends: Vec<usize> = items
            .iter()
            .map(|i| splice::node_end(&self.doc, text, *i))
            .collect::<Option<_>>()?;
        for (end, start) in ends.iter().zip(starts.iter().skip(1)) {
            let separator = text.get(*end..*start)?;
            let blank = separator.chars().all(|c| c == ',' || c.is_whitespace());
            if separator.matches(',').count() != 1 || !blank {
                return None;
            }
        }
        let gone: Vec<usize> = plan.gone.iter().map(|g| g.0).collect();
        let kept = (0..items.len()).rev().find(|i| !gone.contains(i))?;
        let mut cuts = Vec::new();
        for (index, _, host, _) in &plan.gone {
            let value = self.doc.text_of(*host).to_owned();
            let line = self.entry_line(*items.get(*index)?);
            let range = if *index < kept {
                *starts.get(*index)?..*starts.get(index + 1)?
            } else if *index == kept + 1 {
                *ends.get(kept)?..*ends.last()?
            } else {
                // Part of the trailing run cut with the first of it.
                let empty = *ends.last()?;
                cuts.push(Cut {
                    splice: Splice {
                        range: empty..empty,
                        text: String::new(),
                        scalar_at: 0,
                    },
                    what: CutKind::Item { value, line },
                });
                continue;
            };
            cuts.push(Cut {
                splice: Splice {
                    range,
                    text: String::new(),
                    scalar_at: 0,
                },
                what: CutKind::Item { value, line },
            });
        }
        Some(cuts)
    }

    /// Applies the splices and checks the new text: the same ERB tags, and the old
    /// events minus `skipped` with the placeholders at `replaced`.
    fn verified(
        &self,
        splices: &[Splice],
        skipped: &[Range<usize>],
        replaced: &[(usize, TScalarStyle)],
    ) -> Option<String> {
        let real: Vec<Splice> = splices
            .iter()
            .filter(|s| !s.range.is_empty() || !s.text.is_empty())
            .cloned()
            .collect();
        let body = splice::apply(self.body, &real)?;
        let masked = erb::mask(&body);
        if masked.tags.len() != self.masked.tags.len() || body == self.body {
            return None;
        }
        let mut events: Vec<Event> = Vec::new();
        let mut now_replaced = Vec::new();
        for (i, event) in self.doc.events.iter().enumerate() {
            if skipped.iter().any(|r| r.contains(&i)) {
                continue;
            }
            if let Some((_, style)) = replaced.iter().find(|(at, _)| *at == i) {
                now_replaced.push((events.len(), PLACEHOLDER, *style));
            }
            events.push(event.clone());
        }
        let expected = Expectation {
            old: &events,
            replaced: now_replaced,
            appended: None,
        };
        verify::verify(&masked.text, &expected).then(|| format!("{}{body}", self.bom))
    }

    /// The diff (SPEC §5): a removed block entry as its whole line(s) marked removed; an
    /// edited line of a one-line flow list as the line before and after; a placeholder as
    /// the pair of values; an item of a flow list spread over lines as its value.
    fn diff(&self, cuts: &[Cut]) -> Vec<DiffLine> {
        let lines = &self.doc.lines;
        let text = self.body;
        let line_of_range = |r: &Range<usize>| {
            let first = lines.line_of(r.start);
            let last = lines.line_of(r.end.saturating_sub(1).max(r.start));
            (first, last)
        };
        // Lines shown whole, before and after: a flow item cut inside one line that no
        // other cut crosses.
        let mut whole: Vec<usize> = Vec::new();
        for cut in cuts {
            if let CutKind::Item { .. } = cut.what {
                let (first, last) = line_of_range(&cut.splice.range);
                let Some(span) = lines.line_range(text, first) else {
                    continue;
                };
                let crossing = cuts.iter().any(|other| {
                    let r = &other.splice.range;
                    let overlaps = r.start < span.end && span.start < r.end;
                    overlaps && (r.start < span.start || r.end > span.end)
                });
                if first == last && !crossing && !whole.contains(&first) {
                    whole.push(first);
                }
            }
        }
        let mut out = Vec::new();
        for line in &whole {
            let Some(span) = lines.line_range(text, *line) else {
                continue;
            };
            let inside: Vec<Splice> = cuts
                .iter()
                .map(|c| &c.splice)
                .filter(|s| s.range.start >= span.start && s.range.end <= span.end)
                .filter(|s| !s.range.is_empty() || !s.text.is_empty())
                .map(|s| Splice {
                    range: s.range.start - span.start..s.range.end - span.start,
                    text: s.text.clone(),
                    scalar_at: 0,
                })
                .collect();
            let before = text.get(span.clone()).unwrap_or("");
            let after = splice::apply(before, &inside).unwrap_or_default();
            let strip = |s: &str| s.trim_end_matches(['\n', '\r']).to_owned();
            out.push(DiffLine {
                line: *line,
                kind: DiffKind::Old,
                text: strip(before),
            });
            out.push(DiffLine {
                line: *line,
                kind: DiffKind::New,
                text: strip(&after),
            });
        }
        for cut in cuts {
            match &cut.what {
                CutKind::Placeholder { value, line } if !whole.contains(line) => {
                    out.push(DiffLine {
                        line: *line,
                        kind: DiffKind::Old,
                        text: value.clone(),
                    });
                    out.push(DiffLine {
                        line: *line,
                        kind: DiffKind::New,
                        text: PLACEHOLDER.to_owned(),
                    });
                }
                CutKind::Lines { first, last } => {
                    out.extend((*first..=*last).map(|line| DiffLine {
                        line,
                        kind: DiffKind::LineRemoved,
                        text: self.raw_line(line).to_owned(),
                    }));
                }
                CutKind::Item { value, line } if !whole.contains(line) => {
                    out.push(DiffLine {
                        line: *line,
                        kind: DiffKind::ItemRemoved,
                        text: value.clone(),
                    });
                }
                _ => {}
            }
        }
        crate::sort::sort_by_key(&mut out, |d| (d.line, d.kind));
        out.dedup();
        out
    }

    /// The placeholder's quoting: that of the host it replaces, except for an IPv6
    /// address pegasus double-quoted where the file wrote the placeholder plain: then
    /// that of the file's first other host (plain when there is none).
    fn placeholder_style(&self, root: NodeId, style: TScalarStyle, value: &str) -> TScalarStyle {
        let ipv6 = |v: &str| matches!(as_address(v), Some(IpAddr::V6(_)));
        match style {
            TScalarStyle::DoubleQuoted if ipv6(value) => hosts::all_hosts(&self.doc, root)
                .into_iter()
                .filter_map(|h| self.doc.scalar(h))
                .find(|(v, ..)| !ipv6(v))
                .map_or(TScalarStyle::Plain, |(_, s, _)| s),
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => style,
            _ => TScalarStyle::Plain,
        }
    }

    /// Host positions written as ERB (a host, a role's or an accessory's host list as a
    /// whole): (line, its text).
    fn erb_hosts(&self, root: NodeId) -> Vec<(usize, String)> {
        let doc = &self.doc;
        let mut nodes: Vec<NodeId> = hosts::all_hosts(doc, root);
        let mut lists = Vec::new();
        if let Lookup::Found { value: servers, .. } = hosts::get(doc, root, "servers") {
            lists.push(servers);
            for (key, role) in doc.pairs(servers) {
                if hosts::is_merge_key(doc, *key) {
                    continue;
                }
                let role = doc.resolve(*role);
                lists.push(role);
                if let Lookup::Found { value, .. } = hosts::get(doc, role, "hosts") {
                    lists.push(value);
                }
            }
        }
        if let Lookup::Found { value, .. } = hosts::get(doc, root, "accessories") {
            for (_, accessory) in doc.pairs(value) {
                if let Lookup::Found { value, .. } = hosts::get(doc, *accessory, "hosts") {
                    lists.push(value);
                }
            }
        }
        nodes.extend(lists.into_iter().filter(|n| doc.scalar(*n).is_some()));
        let mut found: Vec<(usize, String)> = nodes
            .into_iter()
            .filter(|n| matches!(self.host(*n), Err(Why::Erb(_))))
            .map(|n| (doc.line(n), self.trimmed_line(doc.line(n))))
            .collect();
        crate::sort::sort(&mut found);
        found.dedup();
        found
    }

    /// Scalars outside the host positions being edited that name one of `addresses`.
    fn address_refs(&self, addresses: &[IpAddr]) -> Vec<Reference> {
        let doc = &self.doc;
        let hosts: Vec<NodeId> = self
            .root()
            .map(|root| hosts::all_hosts(doc, root))
            .unwrap_or_default()
            .into_iter()
            .filter(|h| as_address(doc.text_of(*h)).is_some_and(|a| addresses.contains(&a)))
            .collect();
        let mut found: Vec<(usize, usize, Reference)> = Vec::new();
        for (id, node) in doc.nodes.iter().enumerate() {
            if hosts.contains(&id) {
                continue;
            }
            let Some((value, _, _)) = doc.scalar(id) else {
                continue;
            };
            if !addresses.iter().any(|a| mentions(value, *a)) {
                continue;
            }
            found.push((
                node.line,
                node.start.unwrap_or(0),
                Reference {
                    path: doc.display_path(id),
                    line: node.line,
                    text: self.trimmed_line(node.line),
                },
            ));
        }
        crate::sort::sort_by_key(&mut found, |(line, start, _)| (*line, *start));
        found.dedup_by(|a, b| a.2 == b.2);
        found.into_iter().map(|(_, _, r)| r).collect()
    }

    fn cannot(&self, node: NodeId, why: &str) -> Removal {
        let line = self.doc.line(node);
        Removal::Blocked {
            reason: format!(
                "the host `{}` on line {line} ({}): {why}",
                self.doc.text_of(node),
                self.doc.display_path(node)
            ),
            lines: vec![(line, self.trimmed_line(line))],
        }
    }

    fn blocked_lines(&self, changes: &[Removed], reason: String) -> Removal {
        let mut lines: Vec<(usize, String)> = changes
            .iter()
            .map(|c| (c.line, self.trimmed_line(c.line)))
            .collect();
        lines.dedup();
        Removal::Blocked { reason, lines }
    }

    /// The line where an entry starts (a tagged host's key, not its mapping's marker).
    fn entry_line(&self, entry: NodeId) -> usize {
        splice::entry_start(&self.doc, entry)
            .map_or_else(|| self.doc.line(entry), |at| self.doc.lines.line_of(at))
    }

    /// The byte after a collection (its last descendant's end), for ERB checks.
    fn end_of(&self, list: NodeId) -> usize {
        let text = self.masked.text.as_str();
        match splice::last_line(&self.doc, text, list) {
            Some(line) => self
                .doc
                .lines
                .line_range(text, line)
                .map_or(text.len(), |r| r.end),
            None => splice::node_end(&self.doc, text, list).unwrap_or(text.len()),
        }
    }

    /// Line `line` (1-based) as written, without its line break.
    fn raw_line(&self, line: usize) -> &str {
        self.doc
            .lines
            .line_range(self.body, line)
            .and_then(|r| self.body.get(r))
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    fn trimmed_line(&self, line: usize) -> String {
        self.raw_line(line).trim().to_owned()
    }
}

/// Every host list (role lists, accessory `hosts:`) and every single host (accessory
/// `host:`), aliases followed, each once.
fn host_sites(doc: &Doc, root: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
    let mut lists = Vec::new();
    let mut singles = Vec::new();
    if let Lookup::Found { value: servers, .. } = hosts::get(doc, root, "servers") {
        if doc.is_seq(servers) {
            lists.push(servers);
        }
        for (key, role) in doc.pairs(servers) {
            if !hosts::is_merge_key(doc, *key) {
                lists.extend(hosts::role_list(doc, *role).map(|l| doc.resolve(l)));
            }
        }
    }
    if let Lookup::Found { value, .. } = hosts::get(doc, root, "accessories") {
        for (_, accessory) in doc.pairs(value) {
            if let Lookup::Found { value, .. } = hosts::get(doc, *accessory, "host") {
                if doc.scalar(value).is_some() {
                    singles.push(value);
                }
            }
            if let Lookup::Found { value, .. } = hosts::get(doc, *accessory, "hosts") {
                if doc.is_seq(value) {
                    lists.push(value);
                }
            }
        }
    }
    crate::sort::sort(&mut lists);
    lists.dedup();
    crate::sort::sort(&mut singles);
    singles.dedup();
    (lists, singles)
}

fn render(style: TScalarStyle) -> String {
    match style {
        TScalarStyle::SingleQuoted => format!("'{PLACEHOLDER}'"),
        TScalarStyle::DoubleQuoted => format!("\"{PLACEHOLDER}\""),
        _ => PLACEHOLDER.to_owned(),
    }
}

fn why_words(why: &Why) -> String {
    match why {
        Why::Erb(tag) => format!("it is written as ERB ({tag})"),
        Why::Unprovable => {
            "it spans lines or uses escapes, so pegasus cannot prove where it ends".to_owned()
        }
        Why::Empty => "it is empty".to_owned(),
    }
}

/// Whether two splices touch the same bytes (an empty range touches nothing).
fn overlapping(splices: &[Splice]) -> bool {
    let mut ranges: Vec<&Range<usize>> = splices
        .iter()
        .map(|s| &s.range)
        .filter(|r| !r.is_empty())
        .collect();
    crate::sort::sort_by_key(&mut ranges, |r| r.start);
    ranges.windows(2).any(|w| match w {
        [a, b] => b.start < a.end,
        _ => false,
    })
}

#[cfg(test)]
mod tests;
