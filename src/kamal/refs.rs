//! Where the config names a host: the `references` `server destroy` shows, and, for a file
//! that does not parse, the lines that hold the old host as text.

use super::{Reference, Source};

/// For a file that does not parse: the lines (1-based, trimmed) that name any of `hosts`
/// as text, or, with no host known, the lines holding an IPv4 address or a placeholder in
/// angle brackets (`<IP-ADDRESS>`). Comment lines are skipped.
pub fn host_lines(text: &str, hosts: &[String]) -> Vec<(usize, String)> {
    let looks_like_host = |content: &str| {
        content.contains("<IP-ADDRESS>")
            || content
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .any(|word| word.parse::<std::net::Ipv4Addr>().is_ok())
    };
    text.split('\n')
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim_end_matches('\r').trim();
            if line.starts_with('#') || line.is_empty() {
                return None;
            }
            let content = line.split(" #").next().unwrap_or(line);
            let hit = if hosts.is_empty() {
                looks_like_host(content)
            } else {
                hosts.iter().any(|h| !h.is_empty() && names(content, h))
            };
            hit.then(|| (index + 1, line.to_owned()))
        })
        .collect()
}

impl Source<'_> {
    pub(super) fn references(&self, host: &str) -> Vec<Reference> {
        if host.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(usize, usize, Reference)> = Vec::new();
        for (id, node) in self.doc.nodes.iter().enumerate() {
            let Some((value, _, span)) = self.doc.scalar(id) else {
                continue;
            };
            let raw = span.and_then(|s| self.body.get(s)).unwrap_or("");
            if !(names(value, host) || names(raw, host)) {
                continue;
            }
            let path = self.doc.display_path(id);
            let text = self.line_text(node.line);
            found.push((
                node.line,
                node.start.unwrap_or(0),
                Reference {
                    path,
                    line: node.line,
                    text,
                },
            ));
        }
        found.sort_by_key(|(line, start, _)| (*line, *start));
        found.dedup_by(|a, b| a.2 == b.2);
        found.into_iter().map(|(_, _, r)| r).collect()
    }

    fn line_text(&self, line: usize) -> String {
        let range = self.doc.lines.line_range(self.body, line);
        range
            .and_then(|r| self.body.get(r))
            .unwrap_or("")
            .trim()
            .to_owned()
    }
}

/// Whether `text` names `host`: equal, or containing it with no host-like character
/// (letter, digit, `.`, and `:` for an IPv6 host) right before or after.
pub(super) fn names(text: &str, host: &str) -> bool {
    if text == host {
        return true;
    }
    let ipv6 = host.contains(':');
    let joins =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '.' || (ipv6 && c == ':'));
    text.match_indices(host).any(|(at, _)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + host.len()..).and_then(|s| s.chars().next());
        !joins(before) && !joins(after)
    })
}
