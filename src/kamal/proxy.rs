//! The names Kamal's proxy serves: `proxy.hosts` or `proxy.host` at the top level of the
//! config (Kamal 2; `host` may hold several names separated by commas, as Kamal's
//! `proxy_config["hosts"] || proxy_config["host"]&.split(",")` reads it). These are the
//! names that must point at the server before `kamal setup` asks Let's Encrypt for their
//! certificates (SPEC §10).
//!
//! A name made by ERB (`host: <%= ENV["APP_HOST"] %>`) is reported, never guessed. Role-level
//! `proxy:` blocks are not read. With a destination, the merged `proxy` section is read
//! ([`Config::proxy_hosts`]). Pure: text in, names out.

use super::section::{Field, Item};
use super::{Config, ParseError};

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
    Ok(read(&Config::parse(text)?))
}

/// The names of the merged `proxy` section of `config` (a destination's own `proxy.host`
/// wins over the base file's, as in Kamal).
pub(super) fn read(config: &Config<'_>) -> ProxyHosts {
    let mut out = ProxyHosts::default();
    let Some(root) = config.section(&[]).filter(Item::is_map) else {
        return out;
    };
    let proxy = match root.lookup("proxy") {
        Field::Found(proxy) if proxy.is_map() => proxy,
        Field::Twice { line, .. } => {
            out.unusable.push(duplicate("proxy", line));
            return out;
        }
        _ => return out,
    };
    let (key, value) = match proxy.lookup("hosts") {
        Field::Found(value) if !value.is_null() => ("hosts", value),
        Field::Twice { line, .. } => {
            out.unusable.push(duplicate("proxy.hosts", line));
            return out;
        }
        _ => match proxy.lookup("host") {
            Field::Found(value) if !value.is_null() => ("host", value),
            Field::Twice { line, .. } => {
                out.unusable.push(duplicate("proxy.host", line));
                return out;
            }
            _ => return out,
        },
    };
    let entries = if value.is_seq() && key == "hosts" {
        value.items()
    } else {
        vec![value]
    };
    for entry in entries {
        read_entry(&entry, &mut out);
    }
    out
}

fn read_entry(item: &Item<'_, '_>, out: &mut ProxyHosts) {
    let Some(scalar) = item.scalar() else {
        out.unusable.push(Unusable {
            line: item.line(),
            text: item.line_text(),
            why: "not a host name",
        });
        return;
    };
    if let Some(text) = scalar.erb {
        out.unusable.push(Unusable {
            line: scalar.line,
            text,
            why: "made by ERB",
        });
        return;
    }
    for part in scalar.value.split(',') {
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
                line: scalar.line,
                text: part.to_owned(),
                why,
            });
        } else if !out.names.contains(&name) {
            out.names.push(name);
        }
    }
}

fn duplicate(what: &str, line: usize) -> Unusable {
    Unusable {
        line,
        text: format!("{what} (set more than once, e.g. in ERB branches)"),
        why: "ambiguous",
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
