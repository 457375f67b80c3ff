//! The HTTP layer under the Hetzner client: one blocking ureq agent, the endpoint
//! rules, Hetzner's error envelope, retries with back-off, and network errors in words.
//!
//! Retry rules (SPEC §7): at most 5 tries; 429 waits until `RateLimit-Reset` (at most
//! 60 s at a time); 502/503/504 and `conflict` back off (1 s, doubling, capped at 30 s,
//! jittered); connection failures are retried only for GET and DELETE. A POST is never
//! resent after a failure without a clear answer: the caller gets [`Failure::Unclear`]
//! and decides (see `hetzner::Client::create_server`). No printing here: waits are
//! reported to an [`Observer`].

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use ureq::Agent;

use crate::error::{ApiError, Error, Result};
use crate::tls;

pub const DEFAULT_ENDPOINT: &str = "https://api.hetzner.cloud/v1";
pub const MAX_TRIES: u32 = 5;
const RATE_LIMIT_WAIT_CAP: Duration = Duration::from_secs(60);
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// Told about waits, so the user sees why nothing seems to happen. `Sync`: the client
/// is shared by threads that read side by side.
pub trait Observer: Sync {
    fn retrying(&self, reason: &str, wait: Duration);
}

/// The API base URL, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Without a trailing slash, e.g. `https://api.hetzner.cloud/v1`.
    pub base: String,
    /// Host as written (brackets removed for IPv6).
    pub host: String,
    /// Host and port as written (`api.hetzner.cloud`, `127.0.0.1:8080`), for messages.
    pub authority: String,
    /// `localhost`, `127.0.0.0/8` or `::1`.
    pub loopback: bool,
}

impl Endpoint {
    /// `HCLOUD_ENDPOINT`, or the default. Malformed, or plain http to a host that is
    /// not loopback: exit 2 (so a token never crosses a network in clear text).
    pub fn from_env() -> Result<Endpoint> {
        match std::env::var("HCLOUD_ENDPOINT") {
            Ok(v) if !v.trim().is_empty() => Endpoint::parse(v.trim()),
            _ => Endpoint::parse(DEFAULT_ENDPOINT),
        }
    }

    pub fn parse(url: &str) -> Result<Endpoint> {
        let bad = |why: &str| Err(Error::Invalid(format!("HCLOUD_ENDPOINT '{url}' {why}")));
        let lower = url.to_ascii_lowercase();
        let (https, rest) = if lower.starts_with("https://") {
            (true, &url[8..])
        } else if lower.starts_with("http://") {
            (false, &url[7..])
        } else {
            return bad("must start with https://");
        };
        if rest.contains(['?', '#']) || rest.chars().any(|c| c.is_whitespace()) {
            return bad("must be a plain URL without spaces, query or fragment");
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return bad("must not contain user credentials");
        }
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
        })
    }
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

/// How long things wait. Tests shorten these through `PEGASUS_TEST_*` variables, which
/// are honoured only for a loopback endpoint, so the real API is never polled faster
/// than the contract allows.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// First back-off after a retryable failure.
    pub backoff: Duration,
    /// Base interval between action polls.
    pub poll: Duration,
    /// Give up waiting for an action after this long.
    pub wait_limit: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            backoff: Duration::from_secs(1),
            poll: Duration::from_millis(500),
            wait_limit: Duration::from_secs(600),
        }
    }
}

impl Timing {
    pub fn for_endpoint(endpoint: &Endpoint) -> Timing {
        let mut t = Timing::default();
        if endpoint.loopback {
            let ms = |name: &str| {
                std::env::var(name)
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_millis)
            };
            t.backoff = ms("PEGASUS_TEST_BACKOFF_MS").unwrap_or(t.backoff);
            t.poll = ms("PEGASUS_TEST_POLL_MS").unwrap_or(t.poll);
            t.wait_limit = ms("PEGASUS_TEST_WAIT_LIMIT_MS").unwrap_or(t.wait_limit);
        }
        t
    }

    /// The wait before try number `attempt + 1` (attempt counts from 1): doubling from
    /// the base, capped at 30 s, with up to 25% taken off at random.
    pub fn backoff_for(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        let d = self.backoff.saturating_mul(factor).min(BACKOFF_CAP);
        d.mul_f64(1.0 - 0.25 * jitter())
    }
}

/// A number in [0, 1) that differs between calls and processes; good enough for jitter.
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(crate::timefmt::now_unix() as u64);
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// Why a request failed, for a caller that must know whether it may have happened.
#[derive(Debug)]
pub enum Failure {
    /// The server answered, or the request certainly never left: the error is final.
    Clear(Error),
    /// The request may have been carried out (connection dropped after sending, timeout,
    /// gateway error). Only returned for POST.
    Unclear(Error),
}

impl Failure {
    pub fn into_error(self) -> Error {
        match self {
            Failure::Clear(e) | Failure::Unclear(e) => e,
        }
    }
}

impl From<Failure> for Error {
    fn from(f: Failure) -> Error {
        f.into_error()
    }
}

/// An [`Http`] without its observer, to be sent to another thread ([`Http::seed`]).
/// No `Debug`: it holds the token.
#[derive(Clone)]
pub struct Seed {
    agent: Agent,
    endpoint: Endpoint,
    token: String,
    timing: Timing,
}

impl Seed {
    pub fn grow(self, observer: &dyn Observer) -> Http<'_> {
        Http {
            agent: self.agent,
            endpoint: self.endpoint,
            token: self.token,
            timing: self.timing,
            observer,
        }
    }
}

/// One blocking agent, bound to the endpoint and the token.
pub struct Http<'a> {
    agent: Agent,
    endpoint: Endpoint,
    token: String,
    pub timing: Timing,
    observer: &'a dyn Observer,
}

/// What a failed try means.
enum Verdict {
    /// Try again after this long, telling the user why.
    Retry(Duration, String, Error),
    /// Stop here.
    Stop(Failure),
}

impl<'a> Http<'a> {
    pub fn new(
        endpoint: Endpoint,
        token: String,
        timing: Timing,
        observer: &'a dyn Observer,
    ) -> Result<Http<'a>> {
        let config = Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(format!("pegasus/{}", crate::cli::VERSION))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls::config()?)
            .build();
        Ok(Http {
            agent: config.into(),
            endpoint,
            token,
            timing,
            observer,
        })
    }

    /// What another thread needs to make its own `Http` (the connection pool is
    /// shared); the observer is the one thing that stays behind.
    pub fn seed(&self) -> Seed {
        Seed {
            agent: self.agent.clone(),
            endpoint: self.endpoint.clone(),
            token: self.token.clone(),
            timing: self.timing,
        }
    }

    /// Send a request, retrying what may be retried, and return the 2xx body.
    pub fn execute(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
    ) -> Result<String, Failure> {
        let url = format!("{}{}", self.endpoint.base, path_and_query);
        let mut attempt = 1;
        loop {
            let verdict = match self.send_once(method, &url, body) {
                Ok((status, _, text)) if (200..300).contains(&status) => return Ok(text),
                Ok((status, reset_at, text)) => {
                    self.judge_status(method, attempt, decode_error(status, &text), reset_at)
                }
                Err(err) => self.judge_network(method, attempt, err),
            };
            match verdict {
                Verdict::Stop(f) => return Err(f),
                Verdict::Retry(_, _, err) if attempt >= MAX_TRIES => {
                    return Err(Failure::Clear(gave_up(err)));
                }
                Verdict::Retry(wait, why, _) => {
                    self.observer.retrying(&why, wait);
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    fn judge_status(
        &self,
        method: Method,
        attempt: u32,
        api: ApiError,
        reset_at: Option<i64>,
    ) -> Verdict {
        let backoff = self.timing.backoff_for(attempt);
        match (api.status, api.code()) {
            (429, _) | (_, "rate_limit_exceeded") => {
                let wait = match reset_at {
                    Some(at) => {
                        let secs = (at - crate::timefmt::now_unix()).max(0) as u64;
                        Duration::from_secs(secs).min(RATE_LIMIT_WAIT_CAP)
                    }
                    None => backoff,
                };
                Verdict::Retry(
                    wait,
                    "Hetzner's rate limit was reached".into(),
                    Error::Api(api),
                )
            }
            (_, "conflict") => Verdict::Retry(
                backoff,
                "Hetzner reported a conflicting change".into(),
                Error::Api(api),
            ),
            (502..=504, _) => {
                if method == Method::Post {
                    Verdict::Stop(Failure::Unclear(Error::Api(api)))
                } else {
                    let why = format!("Hetzner answered HTTP {}", api.status);
                    Verdict::Retry(backoff, why, Error::Api(api))
                }
            }
            _ => Verdict::Stop(Failure::Clear(Error::Api(api))),
        }
    }

    fn judge_network(&self, method: Method, attempt: u32, err: ureq::Error) -> Verdict {
        let net = NetError::classify(&err, &self.endpoint, self.agent.config().proxy());
        let error = Error::Network(net.message.clone());
        if !net.retryable {
            return Verdict::Stop(Failure::Clear(error));
        }
        match method {
            Method::Get | Method::Delete => {
                let why = net.message.clone();
                Verdict::Retry(self.timing.backoff_for(attempt), why, error)
            }
            Method::Post if net.not_sent => Verdict::Stop(Failure::Clear(error)),
            Method::Post => Verdict::Stop(Failure::Unclear(error)),
        }
    }

    /// One try: (status, RateLimit-Reset, body) or the transport error.
    fn send_once(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
    ) -> Result<(u16, Option<i64>, String), ureq::Error> {
        let auth = format!("Bearer {}", self.token);
        let response = match method {
            Method::Get => self
                .agent
                .get(url)
                .header("Authorization", &auth)
                .header("Accept", "application/json")
                .call(),
            Method::Delete => self
                .agent
                .delete(url)
                .header("Authorization", &auth)
                .header("Accept", "application/json")
                .call(),
            Method::Post => self
                .agent
                .post(url)
                .header("Authorization", &auth)
                .header("Accept", "application/json")
                .content_type("application/json")
                .send(body.unwrap_or("{}")),
        };
        let mut response = response?;
        let status = response.status().as_u16();
        let reset = response
            .headers()
            .get("ratelimit-reset")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<i64>().ok());
        let text = response
            .body_mut()
            .with_config()
            .limit(32 * 1024 * 1024)
            .read_to_string()?;
        Ok((status, reset, text))
    }
}

fn gave_up(err: Error) -> Error {
    let tries = format!("(gave up after {MAX_TRIES} tries)");
    match err {
        Error::Api(mut api) => {
            api.message = format!("{} {tries}", api.message.trim_end_matches('.'));
            Error::Api(api)
        }
        Error::Network(m) => Error::Network(format!("{m} {tries}")),
        other => other,
    }
}

/// Hetzner's envelope `{"error": {"code", "message", "details"}}`, or the status and the
/// start of a body that is not JSON.
pub fn decode_error(status: u16, body: &str) -> ApiError {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Inner,
    }
    #[derive(serde::Deserialize)]
    struct Inner {
        code: Option<String>,
        message: Option<String>,
        details: Option<serde_json::Value>,
    }
    if let Ok(env) = serde_json::from_str::<Envelope>(body) {
        let fields = env
            .error
            .details
            .as_ref()
            .and_then(|d| d.get("fields"))
            .and_then(|f| f.as_array())
            .map(|fields| fields.iter().filter_map(field_message).collect())
            .unwrap_or_default();
        return ApiError {
            status,
            code: env.error.code,
            message: env.error.message.unwrap_or_default(),
            fields,
        };
    }
    let start: String = body.trim().chars().take(120).collect();
    ApiError {
        status,
        code: None,
        message: start.split_whitespace().collect::<Vec<_>>().join(" "),
        fields: Vec::new(),
    }
}

fn field_message(f: &serde_json::Value) -> Option<String> {
    let name = f.get("name")?.as_str()?;
    let messages: Vec<&str> = f
        .get("messages")
        .and_then(|m| m.as_array())
        .map(|m| m.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    if messages.is_empty() {
        Some(name.to_string())
    } else {
        Some(format!("{name}: {}", messages.join(", ")))
    }
}

/// The rustls error inside an io::Error, if that is what it is.
fn tls_error(e: &std::io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

/// A transport error in words, and what it means for retrying.
struct NetError {
    message: String,
    /// Worth another try (the network may recover).
    retryable: bool,
    /// The request certainly did not reach the server.
    not_sent: bool,
}

impl NetError {
    fn classify(err: &ureq::Error, ep: &Endpoint, proxy: Option<&ureq::Proxy>) -> NetError {
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
            ureq::Error::Tls(e) => (format!("TLS error talking to {host}: {e}"), false, true),
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
            other => (format!("request to {host} failed: {other}"), false, false),
        };
        NetError {
            message,
            retryable,
            not_sent,
        }
    }
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
            "https://user:pw@host/v1",
            "https:///v1",
            "https://host:99999/v1",
            "https://host:/v1",
            "https://host/v1?x=1",
        ] {
            let e = Endpoint::parse(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}");
            assert!(e.to_string().starts_with("HCLOUD_ENDPOINT"), "{bad}: {e}");
        }
    }

    #[test]
    fn decodes_envelope_and_plain_bodies() {
        let e = decode_error(
            422,
            r#"{"error":{"code":"invalid_input","message":"invalid input in field 'name'","details":{"fields":[{"name":"name","messages":["Name must be a valid hostname."]}]}}}"#,
        );
        assert_eq!(e.code(), "invalid_input");
        assert_eq!(e.fields, vec!["name: Name must be a valid hostname."]);
        let e = decode_error(502, "<html>\n<body>502   Bad Gateway</body></html>");
        assert_eq!(e.code, None);
        assert_eq!(e.message, "<html> <body>502 Bad Gateway</body></html>");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let t = Timing::default();
        let first = t.backoff_for(1);
        assert!(first <= Duration::from_secs(1) && first >= Duration::from_millis(750));
        let third = t.backoff_for(3);
        assert!(third <= Duration::from_secs(4) && third >= Duration::from_secs(3));
        assert!(t.backoff_for(30) <= BACKOFF_CAP);
    }

    #[test]
    fn test_knobs_only_for_loopback() {
        // SAFETY-free: reads only; the variable is unlikely to be set in the test env.
        let remote = Endpoint::parse("https://api.hetzner.cloud/v1").unwrap();
        assert_eq!(
            Timing::for_endpoint(&remote).poll,
            Duration::from_millis(500)
        );
    }
}
