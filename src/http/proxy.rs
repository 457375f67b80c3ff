//! The proxy for the API, read from the environment as curl reads it for an https URL
//! (SPEC §3), once, at start:
//!
//! - `https_proxy`, else `HTTPS_PROXY`, else `all_proxy`, else `ALL_PROXY` (curl's order:
//!   the lower-case name first; an empty value counts as unset). `HTTP_PROXY` is never
//!   used: the API is https (a plain-http endpoint is loopback, which never goes through
//!   a proxy).
//! - Schemes `http://` (also when none is given), `https://`, `socks5://` (the host name
//!   is resolved here, the proxy gets an address) and `socks5h://` (the proxy resolves
//!   it). Any other scheme, or a value that is not a proxy URL, is exit 2 naming the
//!   variable, whatever the endpoint: never a silent direct connection.
//! - `no_proxy`, else `NO_PROXY`: a comma list of host names (`api.example.com` also
//!   covers its subdomains, as in curl), domain suffixes (`.example.com`, `*.example.com`)
//!   and `*` (no proxy at all).
//! - A loopback endpoint never goes through a proxy.
//!
//! ureq would read the environment itself (`ALL_PROXY` first, then `HTTPS_PROXY`, then
//! `HTTP_PROXY`, silently skipping a value it cannot use): the agent is always given this
//! module's answer instead, `None` included.

use crate::error::{Error, Result};
use crate::text::escape;

/// The proxy the API is reached through, and the variable that named it.
#[derive(Debug, Clone, PartialEq)]
pub struct Proxy {
    pub proxy: ureq::Proxy,
    /// `HTTPS_PROXY`, `https_proxy`, `ALL_PROXY` or `all_proxy`: named in messages.
    pub var: &'static str,
}

impl Proxy {
    /// `host:port` of the proxy (never its user or password), for messages.
    pub fn address(&self) -> String {
        let host = self.proxy.host();
        if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{}", self.proxy.port())
        } else {
            format!("{host}:{}", self.proxy.port())
        }
    }

    /// A SOCKS proxy (`socks5://`, `socks5h://`) rather than an HTTP CONNECT one.
    pub fn is_socks(&self) -> bool {
        matches!(
            self.proxy.protocol(),
            ureq::ProxyProtocol::Socks5 | ureq::ProxyProtocol::Socks5h
        )
    }
}

/// The variables read for an https URL, in curl's order.
const PROXY_VARS: [&str; 4] = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];
const NO_PROXY_VARS: [&str; 2] = ["no_proxy", "NO_PROXY"];

/// The proxy for `host` (the endpoint's host, brackets removed), or `None` to go direct.
/// `get` reads a variable: `Err(())` for a value that is not UTF-8.
pub fn choose(
    host: &str,
    loopback: bool,
    get: &dyn Fn(&str) -> std::result::Result<Option<String>, ()>,
) -> Result<Option<Proxy>> {
    let mut chosen = None;
    for var in PROXY_VARS {
        match get(var) {
            Ok(Some(v)) if !v.trim().is_empty() => {
                chosen = Some((var, v));
                break;
            }
            Ok(_) => {}
            Err(()) => {
                return Err(Error::Invalid(format!(
                    "{var} is not valid UTF-8; it must be a proxy URL such as \
                     http://proxy.example:3128 or socks5h://127.0.0.1:1080"
                )));
            }
        }
    }
    let Some((var, value)) = chosen else {
        return Ok(None);
    };
    // Checked before anything else decides that the proxy is not needed.
    let proxy = parse(var, value.trim())?;
    if loopback || no_proxy(host, get) {
        return Ok(None);
    }
    Ok(Some(proxy))
}

/// The environment as [`choose`] reads it.
pub fn env_var(name: &str) -> std::result::Result<Option<String>, ()> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(()),
    }
}

/// A proxy URL whose scheme pegasus supports, else exit 2 naming `var`. The value is
/// never shown when it may hold a password.
fn parse(var: &'static str, value: &str) -> Result<Proxy> {
    let shown = if value.contains('@') {
        String::new()
    } else {
        format!(" ('{}')", escape(value))
    };
    let (scheme, rest) = match value.find("://") {
        Some(i) => (value[..i].to_ascii_lowercase(), &value[i + 3..]),
        None => ("http".to_string(), value),
    };
    if !matches!(scheme.as_str(), "http" | "https" | "socks5" | "socks5h") {
        let scheme = escape(&scheme);
        return Err(Error::Invalid(format!(
            "{var} uses the proxy scheme '{scheme}://', which pegasus does not support; use \
             http://, https://, socks5:// or socks5h://, or unset {var}"
        )));
    }
    let bad = || {
        Error::Invalid(format!(
            "{var}{shown} is not a valid proxy URL; write it as SCHEME://HOST:PORT, e.g. \
             http://proxy.example:3128 or socks5h://127.0.0.1:1080"
        ))
    };
    if rest.is_empty()
        || rest.starts_with(['/', ':', '@'])
        || rest.contains(|c: char| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    // HOST[:PORT] after any user and password: a port must be a port (ureq would fall
    // back to the scheme's default one).
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').ok_or_else(bad)?,
        None => host_port.split_once(':').unwrap_or((host_port, "")),
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    if host.is_empty() || (!port.is_empty() && port.parse::<u16>().is_err()) {
        return Err(bad());
    }
    let proxy = ureq::Proxy::new(&format!("{scheme}://{rest}")).map_err(|_| bad())?;
    Ok(Proxy { proxy, var })
}

/// Whether `no_proxy` / `NO_PROXY` lists `host`, as curl matches it: `*` matches every
/// host; an entry matches the host itself and its subdomains, with or without a leading
/// `.` or `*.`; case and a trailing dot do not count.
fn no_proxy(host: &str, get: &dyn Fn(&str) -> std::result::Result<Option<String>, ()>) -> bool {
    let list = NO_PROXY_VARS
        .iter()
        .find_map(|var| get(var).ok().flatten().filter(|v| !v.trim().is_empty()));
    let Some(list) = list else {
        return false;
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    // An address matches only itself (no suffix rule: `3.4` must not cover `1.2.3.4`).
    let address = host.parse::<std::net::IpAddr>().ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry
            .strip_prefix("*.")
            .or_else(|| entry.strip_prefix('.'))
            .unwrap_or(entry)
            .trim_end_matches('.')
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if entry.is_empty() {
            return false;
        }
        if let Some(address) = address {
            return entry.parse::<std::net::IpAddr>().ok() == Some(address);
        }
        host == entry
            || (host.len() > entry.len()
                && host.ends_with(&entry)
                && host.as_bytes()[host.len() - entry.len() - 1] == b'.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type Env<'a> = &'a [(&'a str, &'a str)];

    fn choose_in(host: &str, loopback: bool, env: Env) -> Result<Option<Proxy>> {
        let get = |k: &str| {
            Ok(env
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string()))
        };
        choose(host, loopback, &get)
    }

    /// The variable and `host:port` chosen for `api.hetzner.cloud`.
    fn chosen(env: Env) -> Option<(&'static str, String)> {
        choose_in("api.hetzner.cloud", false, env)
            .unwrap()
            .map(|p| (p.var, p.address()))
    }

    #[test]
    fn curl_order_https_then_all_and_never_http_proxy() {
        assert_eq!(chosen(&[]), None);
        assert_eq!(
            chosen(&[("HTTP_PROXY", "http://h:1"), ("http_proxy", "http://h:1")]),
            None
        );
        let all = [
            ("https_proxy", "http://a:1"),
            ("HTTPS_PROXY", "http://b:2"),
            ("all_proxy", "http://c:3"),
            ("ALL_PROXY", "http://d:4"),
            ("HTTP_PROXY", "http://e:5"),
        ];
        for (i, (var, addr)) in [
            ("https_proxy", "a:1"),
            ("HTTPS_PROXY", "b:2"),
            ("all_proxy", "c:3"),
            ("ALL_PROXY", "d:4"),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(chosen(&all[i..]), Some((var, addr.to_string())));
        }
        // An empty value counts as unset (as curl reads it).
        assert_eq!(
            chosen(&[("HTTPS_PROXY", " "), ("ALL_PROXY", "http://d:4")]),
            Some(("ALL_PROXY", "d:4".to_string()))
        );
    }

    #[test]
    fn the_four_schemes_and_no_scheme() {
        use ureq::ProxyProtocol as P;
        for (value, protocol, port, resolves_here) in [
            ("http://proxy.example:3128", P::Http, 3128, false),
            ("proxy.example:3128", P::Http, 3128, false),
            ("proxy.example", P::Http, 80, false),
            ("HTTPS://proxy.example", P::Https, 443, false),
            ("socks5://127.0.0.1:1080", P::Socks5, 1080, true),
            ("socks5h://127.0.0.1", P::Socks5h, 1080, false),
            (
                "http://user:secret@proxy.example:3128/",
                P::Http,
                3128,
                false,
            ),
            ("socks5h://[::1]:9050", P::Socks5h, 9050, false),
        ] {
            let p = choose_in("api.hetzner.cloud", false, &[("HTTPS_PROXY", value)])
                .unwrap()
                .unwrap();
            assert_eq!(p.proxy.protocol(), protocol, "{value}");
            assert_eq!(p.proxy.port(), port, "{value}");
            // socks5: pegasus resolves the API's name and hands the proxy an address;
            // socks5h and the HTTP proxies get the name.
            assert_eq!(p.proxy.resolve_target(), resolves_here, "{value}");
            assert_eq!(p.is_socks(), value.starts_with("socks"), "{value}");
            assert!(!p.address().contains("secret"));
        }
        let p = choose_in("h", false, &[("ALL_PROXY", "socks5h://[::1]:9050")]);
        assert_eq!(p.unwrap().unwrap().address(), "[::1]:9050");
    }

    #[test]
    fn another_scheme_is_exit_2_naming_the_variable_whatever_the_endpoint() {
        for var in ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
            for value in [
                "socks4://127.0.0.1:1080",
                "socks4a://127.0.0.1:1080",
                "socks://127.0.0.1:1080",
                "SOCKS4://p:1",
                "ftp://p:21",
                "pac+http://p/proxy.pac",
            ] {
                // Also for a loopback endpoint and a host NO_PROXY covers: the variable is
                // checked before anything decides the proxy is not needed.
                for (host, loopback, no_proxy) in [
                    ("api.hetzner.cloud", false, ""),
                    ("127.0.0.1", true, ""),
                    ("api.hetzner.cloud", false, "*"),
                ] {
                    let e = choose_in(host, loopback, &[(var, value), ("NO_PROXY", no_proxy)])
                        .unwrap_err();
                    assert_eq!(e.exit_code(), 2, "{var}={value}");
                    let msg = e.to_string();
                    assert!(
                        msg.starts_with(&format!("{var} uses the proxy scheme ")),
                        "{msg}"
                    );
                    assert!(msg.contains("socks5h://"), "{msg}");
                }
            }
        }
        let e = choose_in("h", false, &[("ALL_PROXY", "socks4://p:1")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ALL_PROXY uses the proxy scheme 'socks4://', which pegasus does not support; use \
             http://, https://, socks5:// or socks5h://, or unset ALL_PROXY"
        );
    }

    #[test]
    fn a_malformed_value_is_exit_2_and_a_password_is_never_shown() {
        for value in [
            "http://",
            "http://:3128",
            "socks5h:///x",
            "http://proxy example:3128",
            "http://u:Pa55word@",
            "http://u:Pa55word@/x",
            "http://proxy:99999",
        ] {
            let e = choose_in("h", false, &[("HTTPS_PROXY", value)]).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{value}");
            let msg = e.to_string();
            assert!(msg.starts_with("HTTPS_PROXY"), "{value}: {msg}");
            assert!(!msg.contains("Pa55"), "{msg}");
        }
        let e = choose_in("h", false, &[("HTTPS_PROXY", "http://pro\u{1b}xy:1")]).unwrap_err();
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        let bad_utf8 = |k: &str| if k == "all_proxy" { Err(()) } else { Ok(None) };
        let e = choose("h", false, &bad_utf8).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("all_proxy is not valid UTF-8"),
            "{e}"
        );
    }

    #[test]
    fn a_loopback_endpoint_goes_direct() {
        let env = [
            ("HTTPS_PROXY", "http://p:1"),
            ("ALL_PROXY", "socks5h://p:2"),
        ];
        assert!(choose_in("127.0.0.1", true, &env).unwrap().is_none());
        assert!(choose_in("localhost", true, &env).unwrap().is_none());
    }

    #[test]
    fn no_proxy_as_curl_matches_it() {
        let through = |host: &str, list: &str| {
            choose_in(
                host,
                false,
                &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", list)],
            )
            .unwrap()
            .is_some()
        };
        for (host, list) in [
            ("api.hetzner.cloud", "*"),
            ("api.hetzner.cloud", "localhost, *"),
            ("api.hetzner.cloud", "api.hetzner.cloud"),
            ("api.hetzner.cloud", "API.Hetzner.Cloud."),
            ("api.hetzner.cloud.", "api.hetzner.cloud"),
            ("api.hetzner.cloud", "hetzner.cloud"),
            ("api.hetzner.cloud", ".hetzner.cloud"),
            ("api.hetzner.cloud", "*.hetzner.cloud"),
            ("api.hetzner.cloud", "cloud"),
            ("api.hetzner.cloud", "example.com,,hetzner.cloud"),
            ("10.0.0.7", "10.0.0.7"),
            ("::1", "[::1]"),
            ("2001:db8::7", "2001:db8:0::7"),
        ] {
            assert!(!through(host, list), "{host} in {list:?} must go direct");
        }
        for (host, list) in [
            ("api.hetzner.cloud", ""),
            ("api.hetzner.cloud", "hetzner.clou"),
            ("api.hetzner.cloud", "pi.hetzner.cloud"),
            ("api.hetzner.cloud", "api.hetzner.cloud.example"),
            ("api.hetzner.cloud", "*.api.hetzner.cloud.example"),
            ("api.hetzner.cloud", "."),
            ("api.hetzner.cloud", "*x"),
            ("10.0.0.7", "0.0.7"),
            ("10.0.0.7", "10.0.0.70"),
        ] {
            assert!(through(host, list), "{host} in {list:?} must use the proxy");
        }
        // no_proxy before NO_PROXY, as curl reads them.
        let env = [
            ("HTTPS_PROXY", "http://p:1"),
            ("no_proxy", "example.com"),
            ("NO_PROXY", "*"),
        ];
        assert!(
            choose_in("api.hetzner.cloud", false, &env)
                .unwrap()
                .is_some()
        );
    }
}
