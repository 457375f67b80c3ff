//! A transport error in words (DNS, refused, TLS, timeout, proxy), and what it means
//! for retrying. Never a Rust debug dump.

use super::Endpoint;
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
        let proxy_name = proxy.and_then(|p| {
            let through = match format!("{}/", ep.base).parse::<ureq::http::Uri>() {
                Ok(uri) => !p.is_no_proxy(&uri),
                Err(_) => true,
            };
            through.then(|| format!("{}:{}", p.host(), p.port()))
        });
        // Where a refused or failed connection went: the proxy, if one is in use.
        let target = match &proxy_name {
            Some(p) => format!("the proxy {p} (from the *_PROXY environment)"),
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
        let (message, retryable, not_sent) = match err {
            ureq::Error::HostNotFound => (
                format!("could not resolve host {host} (DNS lookup failed)"),
                false,
                true,
            ),
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
                    (
                        format!(
                            "could not resolve host {} (DNS lookup failed)",
                            proxy_name.as_deref().unwrap_or(host)
                        ),
                        false,
                        true,
                    )
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
                    .unwrap_or("from the *_PROXY environment");
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
                "the proxy URL in HTTPS_PROXY/ALL_PROXY is not valid".into(),
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
