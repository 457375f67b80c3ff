//! A transport error in words (DNS, refused, TLS, timeout, proxy), and what it means
//! for retrying. Never a Rust debug dump.

use super::{Endpoint, Proxy};
use crate::text::escape;
use crate::tls;

/// The rustls error inside an io::Error, if that is what it is.
fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A transport error in words, and what it means for retrying.
pub struct NetError {
    pub message: String,
    /// Worth another try (the network may recover).
    pub retryable: bool,
    /// The request certainly did not reach the server.
    pub not_sent: bool,
    /// Nothing listens there (or the proxy): tried once more, then reported.
    pub refused: bool,
}

impl NetError {
    pub fn classify(err: &ureq::Error, ep: &Endpoint, proxy: Option<&ureq::Proxy>) -> NetError {
        use std::io::ErrorKind as K;
        let host = &ep.host;
        // The agent's proxy is the endpoint's (`Http::new`), which also knows the variable
        // that named it. Never its user or password.
        let via = ep.proxy.as_ref().filter(|_| proxy.is_some());
        let proxy_name = via.map(|p| format!("{} ({})", p.address(), p.var));
        // Where a refused or failed connection went: the proxy, if one is in use.
        let target = match &proxy_name {
            Some(p) => format!("the proxy {p}"),
            None => ep.authority.clone(),
        };
        // A failed handshake comes as an io::Error wrapping the rustls error (the
        // handshake runs inside the first read or write), not as Error::Rustls.
        if let ureq::Error::Io(e) = err {
            if let Some(tls_err) = tls_error(e) {
                return NetError {
                    message: tls::describe_error(tls_err, host),
                    retryable: false,
                    not_sent: true,
                    refused: false,
                };
            }
        }
        // A SOCKS proxy that refused the connection or spoke no SOCKS5: ureq says why in
        // a fixed phrase.
        if let (Some(p), ureq::Error::Io(e)) = (via, err) {
            if p.is_socks() {
                if let Some(message) = socks_words(e, p, host) {
                    return NetError {
                        message,
                        retryable: false,
                        not_sent: true,
                        refused: false,
                    };
                }
            }
        }
        // What a failed DNS look-up was for: with an HTTP proxy or socks5h:// only the
        // proxy's name is looked up here; with socks5:// both names are.
        let not_found = match via {
            None => format!("could not resolve host {host} (DNS lookup failed)"),
            Some(p) if p.proxy.resolve_target() => format!(
                "could not resolve host {host} or the proxy host {} ({}) (DNS lookup failed)",
                p.proxy.host(),
                p.var
            ),
            Some(p) => format!(
                "could not resolve the proxy host {} ({}) (DNS lookup failed)",
                p.proxy.host(),
                p.var
            ),
        };
        let (message, retryable, not_sent) = match err {
            ureq::Error::HostNotFound => (not_found, false, true),
            ureq::Error::Io(e) => match e.kind() {
                K::ConnectionRefused => (
                    format!("could not connect to {target}: connection refused"),
                    true,
                    true,
                ),
                K::TimedOut | K::WouldBlock => {
                    (format!("no answer from {target}: timed out"), true, false)
                }
                K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => (
                    format!("the connection to {target} was closed before an answer arrived"),
                    true,
                    false,
                ),
                K::NetworkUnreachable | K::HostUnreachable | K::AddrNotAvailable => (
                    format!("could not reach {target}: the network is unreachable"),
                    true,
                    true,
                ),
                _ if e.to_string().contains("lookup address")
                    || e.to_string().contains("resolve") =>
                {
                    (not_found, false, true)
                }
                _ => (
                    format!(
                        "network error talking to {target}: {}",
                        crate::error::io_reason(e)
                    ),
                    true,
                    false,
                ),
            },
            ureq::Error::Timeout(t) => {
                let before = matches!(t, ureq::Timeout::Resolve | ureq::Timeout::Connect);
                (
                    format!("no answer from {target}: timed out ({t})"),
                    true,
                    before,
                )
            }
            ureq::Error::ConnectionFailed => (format!("could not connect to {target}"), true, true),
            ureq::Error::Rustls(e) => (tls::describe_error(e, host), false, true),
            ureq::Error::Tls(e) if e.contains("dns name") => (
                format!("TLS error talking to {host}: the host name is not valid for TLS"),
                false,
                true,
            ),
            ureq::Error::Tls(_) => (
                format!("TLS error talking to {host}: the TLS setup failed"),
                false,
                true,
            ),
            ureq::Error::ConnectProxyFailed(m) => {
                let proxy = proxy_name
                    .as_deref()
                    .unwrap_or("(from HTTPS_PROXY or ALL_PROXY)");
                // ureq says "proxy server responded 403/403" or "... did not respond".
                let message = match m.strip_prefix("proxy server responded ") {
                    Some(status) => format!(
                        "the proxy {proxy} refused the connection to {host} (HTTP {})",
                        status.split('/').next().unwrap_or(status)
                    ),
                    None => format!(
                        "the proxy {proxy} did not open a connection to {host}: {}",
                        m.strip_prefix("proxy server ").unwrap_or(m)
                    ),
                };
                (message, false, true)
            }
            ureq::Error::InvalidProxyUrl => (
                format!(
                    "the proxy URL in {} is not valid",
                    via.map_or("HTTPS_PROXY or ALL_PROXY", |p| p.var)
                ),
                false,
                true,
            ),
            ureq::Error::Protocol(_) => (
                format!("{host} sent an answer that is not valid HTTP"),
                true,
                false,
            ),
            ureq::Error::BodyExceedsLimit(_) => (
                format!("{host} sent a larger answer than expected"),
                false,
                false,
            ),
            other => (
                format!("request to {host} failed: {}", escape(&other.to_string())),
                false,
                false,
            ),
        };
        let refused = matches!(err, ureq::Error::Io(e) if e.kind() == K::ConnectionRefused);
        NetError {
            message,
            retryable,
            not_sent,
            refused,
        }
    }
}

/// A SOCKS5 handshake that failed, in words; `None` for an error of another kind (a
/// refused or dropped connection to the proxy, a timeout), which the caller words.
fn socks_words(e: &std::io::Error, p: &Proxy, host: &str) -> Option<String> {
    use std::io::ErrorKind as K;
    let proxy = format!("the SOCKS proxy {} ({})", p.address(), p.var);
    // ureq's phrase for the proxy's reply ("host unreachable", "connection not allowed
    // by ruleset", ...): fixed text, escaped all the same.
    let text = e.to_string();
    let why = escape(&text);
    Some(match e.kind() {
        K::PermissionDenied => format!(
            "{proxy} refused the user name and password given in {}",
            p.var
        ),
        K::InvalidData => format!("{proxy} did not answer as a SOCKS5 proxy ({why})"),
        K::InvalidInput => format!("{proxy} cannot be asked for {host}: {why}"),
        K::Other => format!("{proxy} did not open a connection to {host}: {why}"),
        _ => return None,
    })
}
