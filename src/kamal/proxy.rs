//! The names Kamal's proxy serves: `proxy.hosts` or `proxy.host` at the top level of the
//! config (Kamal 2; `host` may hold several names separated by commas, as Kamal's
//! `proxy_config["hosts"] || proxy_config["host"]&.split(",")` reads it). These are the
//! names that must point at the server before `kamal setup` asks Let's Encrypt for their
//! certificates (SPEC §10).
//!
//! A name made by ERB (`host: <%= ENV["APP_HOST"] %>`) is reported, never guessed. Role-level
//! `proxy:` blocks are not read. Pure: text in, names out.

use super::doc::{self, Doc, NodeId};
use super::erb::{self, Masked};
use super::hosts::{self, Lookup};
use super::{ParseError, nul_error, parse_error};

/// What the config says about the proxy's host names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyHosts {
    /// Usable names: lower case, without a trailing dot, each once, in file order.
    pub names: Vec<String>,
    /// Names that cannot be used as they are written.
    pub unusable: Vec<Unusable>,
}

/// A proxy host entry pegasus cannot use, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// 1-based line.
    pub line: usize,
    /// The entry as written (ERB included).
    pub text: String,
    /// Why, for a person: "made by ERB", "not a host name", ...
    pub why: &'static str,
}

/// Reads `proxy.hosts` / `proxy.host` (ERB masked, so the file may be a template).
///
/// # Errors
/// [`ParseError`] when the masked text is not YAML.
pub fn proxy_hosts(text: &str) -> Result<ProxyHosts, ParseError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = body.find('\0') {
        return Err(nul_error(body, at));
    }
    let masked = erb::mask(body);
    let doc = doc::parse(&masked.text).map_err(|e| parse_error(&e))?;
    let reader = Reader {
        body,
        masked: &masked,
        doc: &doc,
    };
    let mut out = ProxyHosts::default();
    let Some(root) = doc.root.filter(|r| doc.is_map(*r)) else {
        return Ok(out);
    };
    let proxy = match hosts::get(&doc, root, "proxy") {
        Lookup::Found { value, .. } if doc.is_map(value) => value,
        Lookup::Duplicate { line } => {
            out.unusable.push(reader.duplicate("proxy", line));
            return Ok(out);
        }
        _ => return Ok(out),
    };
    let (key, value) = match hosts::get(&doc, proxy, "hosts") {
        Lookup::Found { value, .. } if !doc.is_null(value) => ("hosts", value),
        Lookup::Duplicate { line } => {
            out.unusable.push(reader.duplicate("proxy.hosts", line));
            return Ok(out);
        }
        _ => match hosts::get(&doc, proxy, "host") {
            Lookup::Found { value, .. } if !doc.is_null(value) => ("host", value),
            Lookup::Duplicate { line } => {
                out.unusable.push(reader.duplicate("proxy.host", line));
                return Ok(out);
            }
            _ => return Ok(out),
        },
    };
    let entries: Vec<NodeId> = if doc.is_seq(value) && key == "hosts" {
        doc.items(value).iter().map(|i| doc.resolve(*i)).collect()
    } else {
        vec![value]
    };
    for entry in entries {
        reader.read_entry(entry, &mut out);
    }
    Ok(out)
}

struct Reader<'a> {
    body: &'a str,
    masked: &'a Masked,
    doc: &'a Doc,
}

impl Reader<'_> {
    fn read_entry(&self, node: NodeId, out: &mut ProxyHosts) {
        let line = self.doc.line(node);
        let Some((value, _, span)) = self.doc.scalar(node) else {
            out.unusable.push(Unusable {
                line,
                text: self.line_text(line),
                why: "not a host name",
            });
            return;
        };
        let start = self.doc.node(node).and_then(|n| n.start);
        let extent = span
            .clone()
            .or_else(|| start.map(|s| s..self.line_end(s, line)));
        if let Some(tag) = extent.and_then(|e| self.masked.tag_overlapping(&e)) {
            let text = span
                .and_then(|s| self.body.get(s))
                .or_else(|| self.body.get(tag))
                .unwrap_or("")
                .to_owned();
            out.unusable.push(Unusable {
                line,
                text,
                why: "made by ERB",
            });
            return;
        }
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let name = part.strip_suffix('.').unwrap_or(part).to_ascii_lowercase();
            if !crate::text::hostname::is_dns_name(&name) {
                let why = if name.starts_with("*.") {
                    "a wildcard name"
                } else if name.parse::<std::net::IpAddr>().is_ok() {
                    "an IP address, not a name"
                } else {
                    "not a host name"
                };
                out.unusable.push(Unusable {
                    line,
                    text: part.to_owned(),
                    why,
                });
            } else if !out.names.contains(&name) {
                out.names.push(name);
            }
        }
    }

    fn duplicate(&self, what: &str, line: usize) -> Unusable {
        Unusable {
            line,
            text: format!("{what} (set more than once, e.g. in ERB branches)"),
            why: "ambiguous",
        }
    }

    fn line_text(&self, line: usize) -> String {
        self.doc
            .lines
            .line_range(self.body, line)
            .and_then(|r| self.body.get(r))
            .unwrap_or("")
            .trim()
            .to_owned()
    }

    fn line_end(&self, at: usize, line: usize) -> usize {
        self.doc
            .lines
            .line_range(&self.masked.text, line)
            .map_or(at, |r| r.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        proxy_hosts(text).unwrap().names
    }

    #[test]
    fn reads_host_and_hosts() {
        assert_eq!(
            names("service: x\nproxy:\n  ssl: true\n  host: App.Example.com.\n"),
            ["app.example.com"]
        );
        assert_eq!(
            names(
                "proxy:\n  hosts:\n    - example.com\n    - www.example.com\n    - example.com\n"
            ),
            ["example.com", "www.example.com"]
        );
        assert_eq!(
            names("proxy: {host: 'a.example.com, b.example.com'}\n"),
            ["a.example.com", "b.example.com"]
        );
        // `hosts` wins over `host`, as in Kamal.
        assert_eq!(
            names("proxy:\n  host: old.example.com\n  hosts: [new.example.com]\n"),
            ["new.example.com"]
        );
    }

    #[test]
    fn no_proxy_hosts() {
        for text in [
            "",
            "service: x\n",
            "proxy: false\n",
            "proxy:\n  ssl: true\n",
            "proxy:\n  host:\n",
            "- a\n",
            "servers:\n  web:\n    proxy:\n      host: role.example.com\n",
        ] {
            let got = proxy_hosts(text).unwrap();
            assert_eq!(got, ProxyHosts::default(), "{text:?}");
        }
    }

    #[test]
    fn erb_names_are_reported_not_guessed() {
        let text = "proxy:\n  hosts:\n    - <%= ENV[\"APP_HOST\"] %>\n    - app.<%= ENV.fetch(\"DOMAIN\") %>\n    - plain.example.com\n";
        let got = proxy_hosts(text).unwrap();
        assert_eq!(got.names, ["plain.example.com"]);
        assert_eq!(got.unusable.len(), 2);
        assert_eq!(got.unusable[0].line, 3);
        assert_eq!(got.unusable[0].text, "<%= ENV[\"APP_HOST\"] %>");
        assert_eq!(got.unusable[0].why, "made by ERB");
        assert_eq!(got.unusable[1].text, "app.<%= ENV.fetch(\"DOMAIN\") %>");
    }

    #[test]
    fn bad_names_are_reported() {
        let got = proxy_hosts(
            "proxy:\n  hosts:\n    - \"*.example.com\"\n    - localhost\n    - {a: b}\n    - 203.0.113.5\n    - \"2001:db8::1\"\n",
        )
        .unwrap();
        assert!(got.names.is_empty());
        let whys: Vec<&str> = got.unusable.iter().map(|u| u.why).collect();
        let ip = "an IP address, not a name";
        assert_eq!(
            whys,
            [
                "a wildcard name",
                "not a host name",
                "not a host name",
                ip,
                ip
            ]
        );
    }

    #[test]
    fn anchors_bom_and_parse_errors() {
        assert_eq!(
            names("\u{feff}x: &h app.example.com\nproxy:\n  host: *h\n"),
            ["app.example.com"]
        );
        assert!(proxy_hosts("proxy: [\n").is_err());
        assert!(proxy_hosts("a\0b").is_err());
    }
}
