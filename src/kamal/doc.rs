//! The parsed document: yaml-rust2's events turned into a small node tree that knows, for
//! every node, its parent, its line and its byte position in the text (and so can name its
//! path, `servers.web.hosts[0]`).
//!
//! yaml-rust2 0.13 only gives start markers, and `Marker::index()` is unreliable (it counts
//! chars, and drifts inside block scalars holding non-ASCII text), so positions come from
//! `line()`/`col()` resolved against a line-start table of the exact text that was parsed.
//! Scalar ends are computed here from the start, the style and the value; a scalar whose end
//! cannot be proven (multi-line, block, escapes) has no span and is never edited.

use std::collections::HashMap;
use std::ops::Range;

use yaml_rust2::parser::{Event, MarkedEventReceiver};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

pub(crate) type NodeId = usize;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// `span` is the scalar's exact source text (quotes included) when it could be proven;
    /// the value itself stays in the event (`Doc::scalar`).
    Scalar {
        style: TScalarStyle,
        span: Option<Range<usize>>,
    },
    Alias {
        target: Option<NodeId>,
    },
    /// `end` is the byte offset of the closing `]` of a flow sequence.
    Seq {
        items: Vec<NodeId>,
        flow: bool,
        end: Option<usize>,
    },
    /// `end` is the byte offset of the closing `}` of a flow mapping.
    Map {
        pairs: Vec<(NodeId, NodeId)>,
        end: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: Kind,
    /// 1-based line of the node's start marker.
    pub line: usize,
    /// Byte offset of the start marker (the opening quote of a quoted scalar, the first `-`
    /// of a block sequence); `None` when the marker does not fall inside the text.
    pub start: Option<usize>,
    /// Index of the node's first and last event in `Doc::events`.
    pub first_event: usize,
    pub last_event: usize,
    pub parent: Option<NodeId>,
    pub is_key: bool,
}

/// A parsed text: its events (for verification) and the node tree of the first document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Doc {
    pub nodes: Vec<Node>,
    pub root: Option<NodeId>,
    pub events: Vec<Event>,
    pub documents: usize,
    pub lines: LineTable,
}

/// Parses `text` (already ERB-masked, without a BOM).
pub(crate) fn parse(text: &str) -> Result<Doc, ScanError> {
    let mut builder = Builder::new(text);
    pegasus_yaml_events::load(text, &mut builder)?;
    Ok(builder.finish())
}

/// Byte offset of every line start; `\r\n`, `\n` and a lone `\r` end a line, as in yaml-rust2.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineTable {
    starts: Vec<usize>,
}

impl LineTable {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, byte) in bytes.iter().enumerate() {
            let crlf = *byte == b'\r' && bytes.get(i + 1) == Some(&b'\n');
            if (*byte == b'\n' || *byte == b'\r') && !crlf {
                starts.push(i + 1);
            }
        }
        Self { starts }
    }

    /// Byte offset of the `col`-th char (0-based) on `line` (1-based), if it is on that line.
    pub fn offset(&self, text: &str, line: usize, col: usize) -> Option<usize> {
        let range = self.line_range(text, line)?;
        let content = text.get(range.clone())?;
        content
            .char_indices()
            .nth(col)
            .map(|(i, _)| range.start + i)
    }

    /// The bytes of `line` (1-based), line break included.
    pub fn line_range(&self, text: &str, line: usize) -> Option<Range<usize>> {
        let index = line.checked_sub(1)?;
        let start = *self.starts.get(index)?;
        let end = self.starts.get(index + 1).copied().unwrap_or(text.len());
        Some(start..end)
    }

    /// 1-based line number of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|start| *start <= offset).max(1)
    }
}

/// The source span of a scalar starting at `start`, checked against its parsed value.
pub(crate) fn scalar_span(
    text: &str,
    start: usize,
    value: &str,
    style: TScalarStyle,
) -> Option<Range<usize>> {
    let rest = text.get(start..)?;
    let len = match style {
        TScalarStyle::Plain => {
            (!value.is_empty() && rest.starts_with(value)).then_some(value.len())
        }
        TScalarStyle::SingleQuoted => quoted_len(rest, '\'').filter(|len| {
            rest.get(1..len - 1)
                .map(|s| s.replace("''", "'"))
                .as_deref()
                == Some(value)
        }),
        TScalarStyle::DoubleQuoted => {
            quoted_len(rest, '"').filter(|len| rest.get(1..len - 1) == Some(value))
        }
        TScalarStyle::Literal | TScalarStyle::Folded => None,
    }?;
    Some(start..start + len)
}

/// Length of a one-line quoted scalar at the start of `rest`, quotes included. In single
/// quotes `''` is an escaped quote; in double quotes a backslash makes the span unprovable
/// (the caller compares the raw inside with the value, so escapes simply fail that check).
fn quoted_len(rest: &str, quote: char) -> Option<usize> {
    let mut chars = rest.char_indices();
    if chars.next()?.1 != quote {
        return None;
    }
    let mut chars = chars.peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\n' | '\r' => return None,
            '\\' if quote == '"' => return None,
            c if c == quote => {
                if quote == '\'' && chars.peek().map(|(_, n)| *n) == Some('\'') {
                    chars.next();
                } else {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// An open collection while the events are walked.
struct Frame {
    node: NodeId,
    /// For a mapping: the key whose value comes next.
    key: Option<NodeId>,
}

struct Builder<'a> {
    text: &'a str,
    lines: LineTable,
    nodes: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    documents: usize,
    events: Vec<Event>,
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, event: Event, mark: Marker) {
        self.take(self.events.len(), &event, mark);
        self.events.push(event);
    }
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            lines: LineTable::new(text),
            nodes: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            documents: 0,
            events: Vec::new(),
        }
    }

    fn finish(self) -> Doc {
        Doc {
            nodes: self.nodes,
            root: self.root,
            events: self.events,
            documents: self.documents,
            lines: self.lines,
        }
    }

    /// Turns event number `index` into a node (or closes one).
    fn take(&mut self, index: usize, event: &Event, mark: Marker) {
        match event {
            Event::DocumentStart => self.documents += 1,
            Event::Scalar(value, style, anchor, _) => {
                let start = self.offset(mark);
                let span = start.and_then(|s| scalar_span(self.text, s, value, *style));
                let kind = Kind::Scalar {
                    style: *style,
                    span,
                };
                self.add(kind, *anchor, index, mark.line(), start);
            }
            Event::Alias(id) => {
                let target = self.anchors.get(id).copied();
                self.add(
                    Kind::Alias { target },
                    0,
                    index,
                    mark.line(),
                    self.offset(mark),
                );
            }
            Event::SequenceStart(anchor, _) => {
                let flow = self.char_at(mark) == Some('[');
                let kind = Kind::Seq {
                    items: Vec::new(),
                    flow,
                    end: None,
                };
                let id = self.add(kind, *anchor, index, mark.line(), self.offset(mark));
                self.stack.push(Frame {
                    node: id,
                    key: None,
                });
            }
            Event::MappingStart(anchor, _) => {
                let kind = Kind::Map {
                    pairs: Vec::new(),
                    end: None,
                };
                let id = self.add(kind, *anchor, index, mark.line(), self.offset(mark));
                self.stack.push(Frame {
                    node: id,
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(index, mark),
            _ => {}
        }
    }

    /// Creates a node and attaches it to the open collection.
    fn add(
        &mut self,
        kind: Kind,
        anchor: usize,
        index: usize,
        line: usize,
        start: Option<usize>,
    ) -> NodeId {
        let id = self.nodes.len();
        let frame = self.stack.last();
        let parent = frame.map(|frame| frame.node);
        let in_map = parent
            .is_some_and(|p| matches!(self.nodes.get(p).map(|n| &n.kind), Some(Kind::Map { .. })));
        let is_key = in_map && frame.is_some_and(|frame| frame.key.is_none());
        self.nodes.push(Node {
            kind,
            line,
            start,
            first_event: index,
            last_event: index,
            parent,
            is_key,
        });
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id);
        id
    }

    fn attach(&mut self, id: NodeId) {
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() && self.documents <= 1 {
                self.root = Some(id);
            }
            return;
        };
        match self.nodes.get_mut(frame.node).map(|n| &mut n.kind) {
            Some(Kind::Seq { items, .. }) => items.push(id),
            Some(Kind::Map { pairs, .. }) => match frame.key.take() {
                None => frame.key = Some(id),
                Some(key) => pairs.push((key, id)),
            },
            _ => {}
        }
    }

    fn close(&mut self, index: usize, mark: Marker) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let closing = self.char_at(mark);
        let at = self.offset(mark);
        if let Some(node) = self.nodes.get_mut(frame.node) {
            node.last_event = index;
            match &mut node.kind {
                Kind::Seq {
                    flow: true, end, ..
                } => *end = at.filter(|_| closing == Some(']')),
                Kind::Map { end, .. } => *end = at.filter(|_| closing == Some('}')),
                _ => {}
            }
        }
    }

    fn offset(&self, mark: Marker) -> Option<usize> {
        self.lines.offset(self.text, mark.line(), mark.col())
    }

    fn char_at(&self, mark: Marker) -> Option<char> {
        self.offset(mark)
            .and_then(|at| self.text.get(at..))
            .and_then(|rest| rest.chars().next())
    }
}

impl Doc {
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// Follows an alias to the anchored node (aliases never point at aliases).
    pub fn resolve(&self, id: NodeId) -> NodeId {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Alias {
                target: Some(target),
            }) => *target,
            _ => id,
        }
    }

    /// The value, style and span of a scalar node.
    pub fn scalar(&self, id: NodeId) -> Option<(&str, TScalarStyle, Option<Range<usize>>)> {
        let node = self.node(id)?;
        let Kind::Scalar { style, span } = &node.kind else {
            return None;
        };
        match self.events.get(node.first_event) {
            Some(Event::Scalar(value, ..)) => Some((value, *style, span.clone())),
            _ => None,
        }
    }

    /// The plain text of a scalar node after following an alias ("" for anything else).
    pub fn text_of(&self, id: NodeId) -> &str {
        self.scalar(self.resolve(id))
            .map_or("", |(value, _, _)| value)
    }

    pub fn items(&self, id: NodeId) -> &[NodeId] {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Seq { items, .. }) => items,
            _ => &[],
        }
    }

    pub fn pairs(&self, id: NodeId) -> &[(NodeId, NodeId)] {
        match self.node(id).map(|n| &n.kind) {
            Some(Kind::Map { pairs, .. }) => pairs,
            _ => &[],
        }
    }

    pub fn is_map(&self, id: NodeId) -> bool {
        matches!(self.node(id).map(|n| &n.kind), Some(Kind::Map { .. }))
    }

    pub fn is_seq(&self, id: NodeId) -> bool {
        matches!(self.node(id).map(|n| &n.kind), Some(Kind::Seq { .. }))
    }

    /// A null value: nothing written (`web:`), `~` or `null`.
    pub fn is_null(&self, id: NodeId) -> bool {
        matches!(
            self.scalar(id),
            Some(("" | "~" | "null", TScalarStyle::Plain, _))
        )
    }

    pub fn line(&self, id: NodeId) -> usize {
        self.node(id).map_or(0, |n| n.line)
    }

    /// Where a node sits, e.g. `servers.web.hosts[0]`; a key is named like its value.
    /// A tagged host (`- 1.2.3.4: tag`) is the key of a one-pair mapping inside a list and
    /// is named after the list entry (`servers.web[0]`).
    pub fn display_path(&self, id: NodeId) -> String {
        let mut id = id;
        let tagged_host = self.node(id).is_some_and(|n| n.is_key)
            && self
                .parent(id)
                .and_then(|p| self.parent(p))
                .is_some_and(|g| self.is_seq(g));
        if tagged_host {
            id = self.parent(id).unwrap_or(id);
        }
        let mut segments = Vec::new();
        while let Some(parent) = self.parent(id) {
            segments.push(self.segment(parent, id));
            id = parent;
        }
        segments
            .iter()
            .rev()
            .fold(String::new(), |mut path, segment| {
                if !path.is_empty() && !segment.starts_with('[') {
                    path.push('.');
                }
                path.push_str(segment);
                path
            })
    }

    fn parent(&self, id: NodeId) -> Option<NodeId> {
        self.node(id).and_then(|n| n.parent)
    }

    /// The name of `child` inside `parent`: `[i]` in a list, the key in a mapping.
    fn segment(&self, parent: NodeId, child: NodeId) -> String {
        if let Some(index) = self.items(parent).iter().position(|item| *item == child) {
            return format!("[{index}]");
        }
        let key = self
            .pairs(parent)
            .iter()
            .find(|(key, value)| *key == child || *value == child)
            .map(|(key, _)| *key);
        match key.and_then(|key| self.scalar(self.resolve(key))) {
            Some((name, ..)) => name.to_owned(),
            None => "?".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_table_handles_lf_crlf_and_lone_cr() {
        let text = "a\nb\r\nc\rd";
        let lines = LineTable::new(text);
        assert_eq!(lines.starts, vec![0, 2, 5, 7]);
        assert_eq!(lines.line_of(0), 1);
        assert_eq!(lines.line_of(4), 2);
        assert_eq!(lines.line_of(8), 4);
        assert_eq!(lines.line_range(text, 2), Some(2..5));
        assert_eq!(lines.line_range(text, 5), None);
        assert_eq!(lines.line_range(text, 0), None);
    }

    #[test]
    fn offset_counts_chars_not_bytes() {
        let text = "# héllo — wörld\nk: é 1.2.3.4\n";
        let lines = LineTable::new(text);
        assert_eq!(lines.offset(text, 2, 0), Some(20));
        // col 5 on line 2 is the `1` after "k: é " (é is two bytes)
        let at = lines.offset(text, 2, 5).unwrap_or(0);
        assert_eq!(text.get(at..), Some("1.2.3.4\n"));
        // col 12 on line 1 is the `r` of wörld, after é (2 bytes), — (3) and ö (2)
        assert_eq!(lines.offset(text, 1, 12), Some(16));
        assert_eq!(lines.offset(text, 2, 99), None);
        assert_eq!(lines.offset(text, 9, 0), None);
    }

    #[test]
    fn spans_for_each_quoting_style() {
        let text = "a: 1.2.3.4 # c\nb: '1.2.3.4'\nc: \"1.2.3.4\"\nd: 'it''s'\ne: \"a\\\"b\"\n";
        let plain = scalar_span(text, 3, "1.2.3.4", TScalarStyle::Plain);
        assert_eq!(plain.and_then(|r| text.get(r)), Some("1.2.3.4"));
        let single = scalar_span(text, 18, "1.2.3.4", TScalarStyle::SingleQuoted);
        assert_eq!(single.and_then(|r| text.get(r)), Some("'1.2.3.4'"));
        let double = scalar_span(text, 31, "1.2.3.4", TScalarStyle::DoubleQuoted);
        assert_eq!(double.and_then(|r| text.get(r)), Some("\"1.2.3.4\""));
        let escaped = scalar_span(text, 44, "it's", TScalarStyle::SingleQuoted);
        assert_eq!(escaped.and_then(|r| text.get(r)), Some("'it''s'"));
        assert_eq!(
            scalar_span(text, 56, "a\"b", TScalarStyle::DoubleQuoted),
            None
        );
    }

    #[test]
    fn spans_refuse_what_cannot_be_proven() {
        // a multi-line plain scalar folds `a\n  b` into "a b"
        assert_eq!(
            scalar_span("k: a\n  b\n", 3, "a b", TScalarStyle::Plain),
            None
        );
        assert_eq!(
            scalar_span("k: 'a\n  b'\n", 3, "a b", TScalarStyle::SingleQuoted),
            None
        );
        assert_eq!(
            scalar_span("k: |\n  a\n", 7, "a\n", TScalarStyle::Literal),
            None
        );
        assert_eq!(scalar_span("k:\n", 3, "", TScalarStyle::Plain), None);
        assert_eq!(
            scalar_span("k: 'a", 3, "a", TScalarStyle::SingleQuoted),
            None
        );
        assert_eq!(scalar_span("k: ab", 99, "ab", TScalarStyle::Plain), None);
    }

    #[test]
    fn builds_paths_spans_and_aliases() -> Result<(), ScanError> {
        let text =
            "x: &h 1.2.3.4\nservers:\n  web:\n    - *h\n    - '5.6.7.8': tag\n  job: [a, b]\n";
        let doc = parse(text)?;
        let find = |path: &str| {
            (0..doc.nodes.len())
                .find(|n| doc.display_path(*n) == path && !doc.node(*n).is_some_and(|n| n.is_key))
        };
        assert!(find("servers.job[1]").is_some());
        let target = find("servers.web[0]").map(|a| doc.resolve(a));
        assert_eq!(target.map(|t| doc.text_of(t)), Some("1.2.3.4"));
        assert_eq!(target.map(|t| doc.display_path(t)).as_deref(), Some("x"));
        let tagged = (0..doc.nodes.len()).find(|n| doc.text_of(*n) == "5.6.7.8");
        assert_eq!(
            tagged.map(|t| doc.display_path(t)).as_deref(),
            Some("servers.web[1]")
        );
        let span = tagged
            .and_then(|t| doc.scalar(t))
            .and_then(|(_, _, span)| span);
        assert_eq!(span.and_then(|s| text.get(s)), Some("'5.6.7.8'"));
        let end = find("servers.job").and_then(|n| match doc.node(n).map(|n| &n.kind) {
            Some(Kind::Seq {
                end, flow: true, ..
            }) => *end,
            _ => None,
        });
        assert_eq!(end.and_then(|e| text.get(e..e + 1)), Some("]"));
        Ok(())
    }

    #[test]
    fn positions_survive_non_ascii_in_a_block_scalar() -> Result<(), ScanError> {
        let text = "note: |\n  héllo wörld — ünïcödé ——— more text here\nservers:\n  - 1.2.3.4\n";
        let doc = parse(text)?;
        let host = (0..doc.nodes.len()).find(|n| doc.display_path(*n) == "servers[0]");
        let span = host
            .and_then(|n| doc.scalar(n))
            .and_then(|(_, _, span)| span);
        assert_eq!(span.and_then(|s| text.get(s)), Some("1.2.3.4"));
        Ok(())
    }
}
