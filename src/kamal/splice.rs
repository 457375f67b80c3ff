//! Text surgery: how a new host is written (quoting), where an appended list entry goes
//! (block or flow style, copied from the neighbours), applying the edits to the original
//! bytes, and the expected event stream the re-parsed result must match.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::ops::Range;

use yaml_rust2::scanner::TScalarStyle;

use super::doc::{Doc, Kind, NodeId};

/// One change to the text: `range` (empty for an insertion) becomes `text`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Splice {
    pub range: Range<usize>,
    pub text: String,
    /// Where the new scalar starts inside `text` (after a separator or line break).
    pub scalar_at: usize,
}

/// The new host written in place of a scalar of `style`: quotes are kept; a plain scalar
/// stays plain only for an IPv4 address (an IPv6 address such as `1:20::` could read as a
/// YAML 1.1 sexagesimal number in Psych, so it is double-quoted).
pub(crate) fn render(new: &str, style: TScalarStyle) -> (String, TScalarStyle) {
    match style {
        TScalarStyle::SingleQuoted => (format!("'{}'", new.replace('\'', "''")), style),
        TScalarStyle::Plain if new.parse::<Ipv4Addr>().is_ok() => (new.to_owned(), style),
        _ => (double_quoted(new), TScalarStyle::DoubleQuoted),
    }
}

fn double_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The line ending the file uses (that of its first line), `\n` when it has none.
pub(crate) fn line_ending(text: &str) -> &'static str {
    match text.find(['\n', '\r']) {
        Some(at) if text.get(at..).is_some_and(|rest| rest.starts_with("\r\n")) => "\r\n",
        Some(at) if text.get(at..).is_some_and(|rest| rest.starts_with('\r')) => "\r",
        _ => "\n",
    }
}

/// Inserts `entry` (already rendered) as the last item of the sequence `list`.
pub(crate) fn append(doc: &Doc, text: &str, list: NodeId, entry: &str) -> Option<Splice> {
    match doc.node(list).map(|n| &n.kind) {
        Some(Kind::Seq {
            flow: true, items, ..
        }) => flow_append(doc, text, items, entry),
        Some(Kind::Seq {
            flow: false, items, ..
        }) => block_append(doc, text, items, entry),
        _ => None,
    }
}

/// `[a, b]` → `[a, b, new]`, reusing the separator found between the last two items;
/// `[a]` → `[a, new]`.
fn flow_append(doc: &Doc, text: &str, items: &[NodeId], entry: &str) -> Option<Splice> {
    let separator = match items {
        [.., before, last] => {
            let separator = text.get(node_end(doc, text, *before)?..entry_start(doc, *last)?)?;
            let commas = separator.matches(',').count();
            let blank = separator.chars().all(|c| c == ',' || c.is_whitespace());
            if commas != 1 || !blank {
                return None;
            }
            separator
        }
        [_] => ", ",
        [] => return None,
    };
    let last = items.last()?;
    let at = node_end(doc, text, *last)?;
    Some(Splice {
        range: at..at,
        text: format!("{separator}{entry}"),
        scalar_at: separator.len(),
    })
}

/// A new `- entry` line after the last item's last line, indented like that item.
fn block_append(doc: &Doc, text: &str, items: &[NodeId], entry: &str) -> Option<Splice> {
    let last = *items.last()?;
    let start = entry_start(doc, last)?;
    let line_start = doc.lines.line_range(text, doc.lines.line_of(start))?.start;
    let prefix = dash_prefix(text.get(line_start..start)?)?;
    let after = doc.lines.line_range(text, last_line(doc, text, last)?)?.end;
    let eol = line_ending(text);
    let ends_with_break = text
        .get(..after)
        .is_some_and(|head| head.ends_with(['\n', '\r']));
    let (lead, tail) = if ends_with_break {
        ("", eol)
    } else {
        (eol, "")
    };
    Some(Splice {
        range: after..after,
        text: format!("{lead}{prefix}{entry}{tail}"),
        scalar_at: lead.len() + prefix.len(),
    })
}

/// The indentation, dash and spacing of a block entry line (`    - `), without any anchor
/// or tag that followed the dash. `None` if the text before the entry is anything else.
pub(crate) fn dash_prefix(before: &str) -> Option<&str> {
    let indent = before.len() - before.trim_start_matches(' ').len();
    let rest = before.get(indent..)?.strip_prefix('-')?;
    let gap = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let after_gap = rest.get(gap..)?;
    let anchor_or_tag = after_gap.is_empty() || after_gap.starts_with(['&', '!']);
    (gap > 0 && anchor_or_tag).then(|| before.get(..indent + 1 + gap))?
}

/// Node ids of `id` and everything inside it (nodes are numbered in event order).
fn subtree(doc: &Doc, id: NodeId) -> impl Iterator<Item = NodeId> + '_ {
    let last_event = doc.node(id).map_or(0, |n| n.last_event);
    (id..doc.nodes.len()).take_while(move |n| {
        doc.node(*n)
            .is_some_and(|node| *n == id || node.first_event <= last_event)
    })
}

/// Where an entry's text starts: the earliest position in its subtree (a block mapping's
/// own marker sits on its first `:`, so its key comes first).
pub(crate) fn entry_start(doc: &Doc, id: NodeId) -> Option<usize> {
    subtree(doc, id)
        .filter_map(|n| doc.node(n).and_then(|node| node.start))
        .min()
}

/// The byte just after a node: scalar span end, or just after a flow `]`/`}`.
pub(crate) fn node_end(doc: &Doc, text: &str, id: NodeId) -> Option<usize> {
    let node = doc.node(id)?;
    match &node.kind {
        Kind::Scalar { span, .. } => span.as_ref().map(|s| s.end),
        Kind::Seq { end, .. } | Kind::Map { end, .. } => end.map(|e| e + 1),
        Kind::Alias { .. } => {
            let start = node.start?;
            let name = text.get(start + 1..)?;
            let len = name
                .find(|c: char| c.is_whitespace() || ",[]{}".contains(c))
                .unwrap_or(name.len());
            (len > 0).then_some(start + 1 + len)
        }
    }
}

/// The last line holding text of an entry; `None` when it cannot be known (block or
/// multi-line scalars, empty values whose marker sits on the next token).
pub(crate) fn last_line(doc: &Doc, text: &str, id: NodeId) -> Option<usize> {
    let mut last = 0;
    for n in subtree(doc, id) {
        let node = doc.node(n)?;
        let line = match &node.kind {
            Kind::Seq { flow: false, .. } | Kind::Map { end: None, .. } => continue,
            Kind::Scalar { span: None, .. } | Kind::Seq { end: None, .. } => return None,
            _ => doc.lines.line_of(node_end(doc, text, n)?.saturating_sub(1)),
        };
        last = last.max(line);
    }
    (last > 0).then_some(last)
}

/// Applies non-overlapping splices to `text`.
pub(crate) fn apply(text: &str, splices: &[Splice]) -> Option<String> {
    let mut sorted: Vec<&Splice> = splices.iter().collect();
    crate::sort::sort_by_key(&mut sorted, |s| s.range.start);
    let mut out = String::with_capacity(text.len() + 64);
    let mut pos = 0;
    for splice in sorted {
        out.push_str(text.get(pos..splice.range.start)?);
        out.push_str(&splice.text);
        pos = splice.range.end;
    }
    out.push_str(text.get(pos..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::super::doc::parse;
    use super::*;

    #[test]
    fn render_keeps_quotes_and_quotes_ipv6() {
        let ipv4 = "203.0.113.10";
        let ipv6 = "2001:db8:1::1";
        assert_eq!(render(ipv4, TScalarStyle::Plain).0, ipv4);
        assert_eq!(render(ipv4, TScalarStyle::SingleQuoted).0, "'203.0.113.10'");
        assert_eq!(
            render(ipv4, TScalarStyle::DoubleQuoted).0,
            "\"203.0.113.10\""
        );
        assert_eq!(
            render(ipv6, TScalarStyle::Plain),
            ("\"2001:db8:1::1\"".into(), TScalarStyle::DoubleQuoted)
        );
        assert_eq!(
            render(ipv6, TScalarStyle::SingleQuoted).0,
            "'2001:db8:1::1'"
        );
        assert_eq!(
            render("a\"b\\\n", TScalarStyle::Plain).0,
            "\"a\\\"b\\\\\\x0A\""
        );
    }

    #[test]
    fn detects_line_endings() {
        assert_eq!(line_ending("a\r\nb\n"), "\r\n");
        assert_eq!(line_ending("a\nb\r\n"), "\n");
        assert_eq!(line_ending("a\rb"), "\r");
        assert_eq!(line_ending("a"), "\n");
    }

    #[test]
    fn dash_prefix_copies_indent_and_spacing_only() {
        assert_eq!(dash_prefix("     - "), Some("     - "));
        assert_eq!(dash_prefix("-   "), Some("-   "));
        assert_eq!(dash_prefix("  - &a "), Some("  - "));
        assert_eq!(dash_prefix("  - - "), None);
        assert_eq!(dash_prefix("  key: "), None);
        assert_eq!(dash_prefix("  -"), None);
    }

    fn appended(text: &str) -> Option<String> {
        let doc = parse(text).ok()?;
        let list = (0..doc.nodes.len()).find(|n| doc.display_path(*n) == "l" && doc.is_seq(*n))?;
        let splice = append(&doc, text, list, "N")?;
        apply(text, &[splice])
    }

    #[test]
    fn appends_in_block_style() {
        assert_eq!(
            appended("l:\n  - a\n  - b # c\n# next\nk: 1\n").as_deref(),
            Some("l:\n  - a\n  - b # c\n  - N\n# next\nk: 1\n")
        );
        assert_eq!(
            appended("l:\r\n- a\r\n- b").as_deref(),
            Some("l:\r\n- a\r\n- b\r\n- N")
        );
        assert_eq!(
            appended("l:\n  - a: x\n  - b: [ t u ]\n").as_deref(),
            Some("l:\n  - a: x\n  - b: [ t u ]\n  - N\n")
        );
        assert_eq!(appended("l:\n  - a\n  - |\n    b\n"), None);
        assert_eq!(appended("l:\n  - a\n  -\n    b\n"), None);
    }

    #[test]
    fn appends_in_flow_style() {
        assert_eq!(appended("l: [a, b]\n").as_deref(), Some("l: [a, b, N]\n"));
        assert_eq!(
            appended("l: [ 'a' ,\"b\" ]\n").as_deref(),
            Some("l: [ 'a' ,\"b\" ,N ]\n")
        );
        assert_eq!(
            appended("l: [\n  a,\n  b,\n]\n").as_deref(),
            Some("l: [\n  a,\n  b,\n  N,\n]\n")
        );
        assert_eq!(
            appended("l: [{a: x}, b]\n").as_deref(),
            Some("l: [{a: x}, b, N]\n")
        );
        assert_eq!(appended("l: [a]\n").as_deref(), Some("l: [a, N]\n"));
        assert_eq!(appended("l: [ a ]\n").as_deref(), Some("l: [ a, N ]\n"));
        assert_eq!(appended("l: []\n"), None);
        assert_eq!(appended("l: [a, # c\n b]\n"), None);
    }

    #[test]
    fn apply_splices_in_order_and_rejects_bad_ranges() {
        let splices = [
            Splice {
                range: 4..5,
                text: "XY".into(),
                scalar_at: 0,
            },
            Splice {
                range: 0..1,
                text: String::new(),
                scalar_at: 0,
            },
        ];
        assert_eq!(apply("abcdefg", &splices).as_deref(), Some("bcdXYfg"));
        let bad = [Splice {
            range: 5..9,
            text: String::new(),
            scalar_at: 0,
        }];
        assert_eq!(apply("abc", &bad), None);
    }
}
