//! The API base URL (`HCLOUD_ENDPOINT`, SPEC §3): https, or plain http to loopback only;
//! never a user or password, and never one repeated in a message. With it, the proxy
//! that leads there (`proxy.rs`), both read from the environment once, at start.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::proxy::{self, Proxy};
use crate::error::{Error, Result};
use crate::text::escape;

pub const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";

/// The API base URL, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Without a trailing slash, e.g. `https://api.hetzner.cloud/v1`.
    pub base: String,
    /// Host as written (brackets removed for IPv6).
    pub host: String,
    /// Host and port as written (`api.hetzner.cloud`, `127.0.0.1:8080`), for messages.
    pub authority: String,
    /// `localhost`, `127.0.0.0/8` or `::1`: never through a proxy, and the only
    /// endpoints whose `PEGASUS_TEST_*` knobs are honoured.
    pub loopback: bool,
    /// The proxy requests go through, if any (`HTTPS_PROXY`/`ALL_PROXY`, not for a
    /// loopback endpoint nor a host in `NO_PROXY`). Always `None` from [`Endpoint::parse`].
    pub proxy: Option<Proxy>,
}

impl Endpoint {
    /// `HCLOUD_ENDPOINT`, or the default, and the proxy for it. Malformed, with a user or
    /// password, or plain http to a host that is not loopback: exit 2 (a token never
    /// crosses a network in clear text); so is a proxy variable pegasus cannot honour,
    /// whatever the endpoint.
    pub fn from_env() -> Result<Endpoint> {
        let mut endpoint = match std::env::var("HCLOUD_ENDPOINT") {
            Ok(v) if !v.trim().is_empty() => Endpoint::parse(v.trim()),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::Invalid(
                "HCLOUD_ENDPOINT is not valid UTF-8; it must be a plain https:// URL".into(),
            )),
            _ => Endpoint::parse(DEFAULT_ENDPOINT),
        }?;
        endpoint.proxy = proxy::choose(&endpoint.host, endpoint.loopback, &proxy::env_var)?;
        Ok(endpoint)
    }

    pub fn parse(url: &str) -> Result<Endpoint> {
        // Checked first, and the URL is never shown once it may hold a secret.
        if has_user_info(url) {
            return Err(Error::Invalid(
                "HCLOUD_ENDPOINT must not contain a user name or password (user:password@ \
                 before the host); give the API token in HETZNER_API_TOKEN instead"
                    .into(),
            ));
        }
        let bad = |why: &str| {
            let shown = if url.contains('@') {
                String::new()
            } else {
                format!(" '{}'", escape(url))
            };
            Err(Error::Invalid(format!("HCLOUD_ENDPOINT{shown} {why}")))
        };
        let lower = url.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, &url[8..])
        } else if lower.starts_with("http://") {
            (false, &url[7..])
        } else {
            return bad("must start with https://");
        };
        if rest.contains(['?', '#', '@'])
            || rest.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("must be a plain URL without spaces, query or fragment");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, p)) => (h, p),
                None => return bad("has an unclosed '['"),
            }
        } else {
            match authority.rfind(':') {
                Some(i) => (&authority[..i], &authority[i..]),
                None => (authority, ""),
            }
        };
        if host.is_empty() {
            return bad("has no host");
        }
        if !port.is_empty() {
            let digits = port.strip_prefix(':').unwrap_or("x");
            if digits.is_empty() || digits.parse::<u16>().is_err() {
                return bad("has an invalid port");
            }
        }
        let loopback = is_loopback(host);
        if !https && !loopback {
            return bad(
                "uses plain http to a host that is not loopback; use https:// so the token is not sent in clear text",
            );
        }
        let base = format!(
            "{}://{}{}",
            if https { "https" } else { "http" },
            authority,
            path.trim_end_matches('/')
        );
        Ok(Endpoint {
            base,
            host: host.to_string(),
            authority: authority.to_string(),
            loopback,
            proxy: None,
        })
    }
}

/// A `user[:password]@` before the host, with or without a scheme, however malformed
/// the rest is.
fn has_user_info(url: &str) -> bool {
    let rest = match url.find("://") {
        Some(i) => &url[i + 3..],
        None => url,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest[..end].contains('@')
}

/// Decided from the text alone, never by a DNS lookup.
fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    matches!(host.parse::<Ipv6Addr>(), Ok(v6) if v6 == Ipv6Addr::LOCALHOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_rules() {
        let ep = Endpoint::parse("https://api.hetzner.cloud/v1/").unwrap();
        assert_eq!(ep.base, "https://api.hetzner.cloud/v1");
        assert!(!ep.loopback);
        for ok in [
            "http://127.0.0.1:8080/v1",
            "http://localhost/v1",
            "http://[::1]:9/v1",
            "HTTP://127.8.9.10/v1",
        ] {
            let ep = Endpoint::parse(ok).unwrap();
            assert!(ep.loopback, "{ok}");
        }
        for bad in [
            "http://api.hetzner.cloud/v1",
            "http://10.0.0.1/v1",
            "http://127.0.0.1.example.com/v1",
            "http://[::2]/v1",
            "ftp://x",
            "api.hetzner.cloud",
            "https:///v1",
            "https://host:99999/v1",
            "https://host:/v1",
            "https://host/v1?x=1",
            "https://host/v1\u{1b}[2J",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            let shown = e.to_string();
            assert!(shown.starts_with("HCLOUD_ENDPOINT"), "{bad}: {shown}");
            assert!(!shown.contains('\u{1b}'), "{shown:?}");
        }
    }

    #[test]
    fn a_user_or_password_is_refused_and_never_shown() {
        for url in [
            "https://alice:Pa55word@api.hetzner.cloud/v1",
            "http://alice:Pa55word@127.0.0.1:8080/v1",
            "https://:Pa55word@host/v1",
            "https://Pa55word@host",
            "ftp://alice:Pa55word@host/v1",
            "alice:Pa55word@host/v1",
            "https://alice:Pa55word@host/v1?x#y",
            "https://alice:Pa55 word@host/v1",
            "https://host/v1/@Pa55word",
        ] {
            let e = Endpoint::parse(url).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{url}");
            let shown = e.to_string();
            assert!(
                !shown.contains("Pa55") && !shown.contains("alice"),
                "{url}: {shown}"
            );
        }
        let e = Endpoint::parse("https://u:p@h/v1").unwrap_err().to_string();
        assert!(e.contains("user name or password"), "{e}");
    }
}
