//! Where the config names a host: the `references` `server destroy` shows, the values that
//! still name a host an edit moved away from ("other references"), and, for a file that
//! does not parse, the lines that look like host positions holding the old host.

use super::doc::NodeId;
use super::{Reference, Source};

/// For a file that does not parse: the lines (1-based, trimmed) that look like a host
/// position holding one of `hosts` — a list item (`- H`, `- H: tag`) or a `host:`/`hosts:`
/// whose whole value is H — never a line where H is only part of a value
/// (`port: "127.0.0.1:3306:3306"`) or the value of another key (`DB_HOST: H`). With no
/// host known, the same shapes holding a placeholder in angle brackets (`<IP-ADDRESS>`).
/// Comment lines are skipped.
pub fn host_lines(text: &str, hosts: &[String]) -> Vec<(usize, String)> {
    let wanted = |value: &str| {
        if hosts.is_empty() {
            value.len() > 2 && value.starts_with('<') && value.ends_with('>')
        } else {
            hosts.iter().any(|h| !h.is_empty() && h == value)
        }
    };
    text.split('\n')
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim_end_matches('\r').trim();
            if line.starts_with('#') || line.is_empty() {
                return None;
            }
            let value = host_value(line)?;
            wanted(value).then(|| (index + 1, line.to_owned()))
        })
        .collect()
}

/// The host a line holds when it has the shape of a host position: `- H`, `- H: tag`,
/// `host: H`, `hosts: H` (a trailing comment allowed, quotes taken off).
fn host_value(line: &str) -> Option<&str> {
    let content = match line.find(" #") {
        Some(at) => line.get(..at)?,
        None => line,
    }
    .trim();
    let value = if let Some(item) = content.strip_prefix("- ") {
        let item = item.trim();
        // A tagged host: the key of a one-pair mapping (`- 1.2.3.4: primary`).
        match split_key(item) {
            Some((key, _)) => key,
            None => item,
        }
    } else {
        let (key, value) = split_key(content)?;
        if key != "host" && key != "hosts" {
            return None;
        }
        value
    };
    let value = value.trim();
    let unquoted = ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)));
    Some(unquoted.unwrap_or(value)).filter(|v| !v.is_empty())
}

/// `key: value` split at the first `: ` outside quotes (or a trailing `:`); `None` when
/// the text has no such separator. The key comes back without quotes.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let (key, value) = if let Some(quote) = text.chars().next().filter(|c| *c == '"' || *c == '\'')
    {
        let close = text.get(1..)?.find(quote)? + 1;
        let rest = text.get(close + 1..)?;
        let value = rest.strip_prefix(':')?;
        (text.get(1..close)?, value)
    } else {
        let at = text
            .find(": ")
            .or_else(|| text.strip_suffix(':').map(|k| k.len()))?;
        (text.get(..at)?, text.get(at + 1..)?)
    };
    if !(value.is_empty() || value.starts_with(' ') || value.starts_with('\t')) {
        return None;
    }
    Some((key.trim(), value))
}

impl Source<'_> {
    pub(super) fn references(&self, host: &str) -> Vec<Reference> {
        let mut found: Vec<Reference> = self
            .naming(std::slice::from_ref(&host.to_owned()))
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        found.dedup();
        found
    }

    /// Every scalar that names one of `hosts` (value or text as written), with its node,
    /// by line and column. Comments are not scalars, so they are never named.
    pub(super) fn naming(&self, hosts: &[String]) -> Vec<(NodeId, Reference)> {
        let hosts: Vec<&String> = hosts.iter().filter(|h| !h.is_empty()).collect();
        if hosts.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<(usize, usize, NodeId, Reference)> = Vec::new();
        for (id, node) in self.doc.nodes.iter().enumerate() {
            let Some((value, _, span)) = self.doc.scalar(id) else {
                continue;
            };
            let raw = span.and_then(|s| self.body.get(s)).unwrap_or("");
            if !hosts
                .iter()
                .any(|h| names(value, h) || (raw != value && names(raw, h)))
            {
                continue;
            }
            let reference = Reference {
                path: self.doc.display_path(id),
                line: node.line,
                text: self.line_text(node.line),
            };
            found.push((node.line, node.start.unwrap_or(0), id, reference));
        }
        crate::sort::sort_by_key(&mut found, |(line, start, ..)| (*line, *start));
        found.dedup_by(|a, b| a.3 == b.3);
        found.into_iter().map(|(_, _, id, r)| (id, r)).collect()
    }

    /// The text of a 1-based line, trimmed.
    pub(super) fn line_text(&self, line: usize) -> String {
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
    if text.len() < host.len() {
        return false;
    }
    let ipv6 = host.contains(':');
    let joins =
        |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '.' || (ipv6 && c == ':'));
    let named_at = |at: usize| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + host.len()..).and_then(|s| s.chars().next());
        !joins(before) && !joins(after)
    };
    // Hosts are short: a scan for the first byte beats building a substring searcher for
    // every scalar of the file (which took 5–7% of the Kamal edit). An ASCII host can only
    // match at a char boundary.
    match host.as_bytes().first() {
        Some(&first) if host.is_ascii() => {
            let bytes = text.as_bytes();
            (0..=bytes.len() - host.len()).any(|at| {
                bytes[at] == first && bytes[at..].starts_with(host.as_bytes()) && named_at(at)
            })
        }
        _ => text.match_indices(host).any(|(at, _)| named_at(at)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_whole_hosts_only() {
        assert!(names("1.2.3.4", "1.2.3.4"));
        assert!(names("postgres://u@1.2.3.4:5432/db", "1.2.3.4"));
        assert!(names("a 1.2.3.4, b", "1.2.3.4"));
        assert!(!names("é1.2.3.4é", "1.2.3.4"));
        assert!(names("→ 1.2.3.4 ←", "1.2.3.4"));
        assert!(!names("11.2.3.4", "1.2.3.4"));
        assert!(!names("1.2.3.45", "1.2.3.4"));
        assert!(!names("1.2.3.4.5", "1.2.3.4"));
        assert!(names("1.2.3.45 and 1.2.3.4", "1.2.3.4"));
        assert!(!names("1.2.3", "1.2.3.4"));
        assert!(!names("", "1.2.3.4"));
        assert!(names("[2001:db8::1]:22", "2001:db8::1"));
        assert!(!names("2001:db8::10", "2001:db8::1"));
        assert!(names("host: ünï.example", "ünï.example"));
        assert!(!names("xünï.example", "ünï.example"));
    }

    #[test]
    fn host_shapes_only() {
        assert_eq!(host_value("- 1.2.3.4"), Some("1.2.3.4"));
        assert_eq!(host_value("- \"1.2.3.4\" # web"), Some("1.2.3.4"));
        assert_eq!(host_value("- 1.2.3.4: [jobs, x]"), Some("1.2.3.4"));
        assert_eq!(host_value("- '1.2.3.4': primary"), Some("1.2.3.4"));
        assert_eq!(host_value("host: 1.2.3.4"), Some("1.2.3.4"));
        assert_eq!(host_value("hosts: '1.2.3.4'"), Some("1.2.3.4"));
        assert_eq!(host_value("DB_HOST: 1.2.3.4"), None);
        assert_eq!(host_value("port: \"127.0.0.1:3306:3306\""), None);
        assert_eq!(
            host_value("- \"127.0.0.1:3306:3306\""),
            Some("127.0.0.1:3306:3306")
        );
        assert_eq!(host_value("remote: ssh://root@1.2.3.4"), None);
        assert_eq!(host_value("host:"), None);
    }

    #[test]
    fn lines_holding_the_old_host_in_a_host_position() {
        let text = "servers:\n  web:\n    - 1.2.3.4\n  job:\n    - 1.2.3.4: jobs\naccessories:\n  db:\n    host: 1.2.3.4\n    port: \"1.2.3.4:5432:5432\"\n    env:\n      clear:\n        DB_HOST: 1.2.3.4\n  bad: [\n";
        let lines: Vec<usize> = host_lines(text, &["1.2.3.4".to_owned()])
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(lines, [3, 5, 8]);
        let unknown = host_lines(
            "servers:\n  - <IP-ADDRESS>\n  - 1.2.3.4\nenv:\n  A: <IP-ADDRESS>\nport: \"127.0.0.1:3306:3306\"\n",
            &[],
        );
        assert_eq!(unknown, [(2, "- <IP-ADDRESS>".to_owned())]);
    }
}
