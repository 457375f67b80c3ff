//! The HTTP layer under the Hetzner client: one blocking ureq agent, the endpoint
//! rules, Hetzner's error envelope, retries with back-off, and network errors in words.
//!
//! Retry rules (SPEC §7): at most 5 tries; 429 waits until `RateLimit-Reset` (kept
//! between the back-off step and 60 s); 502/503/504, `conflict` and an unreadable 2xx
//! answer to a GET back off (1 s, doubling, capped at 30 s, jittered); connection
//! failures are retried only for GET and DELETE, and a refused connection only once,
//! after 1 s. A POST is never resent after a failure without a clear answer: the caller
//! gets [`Failure::Unclear`] and decides (see `hetzner::Client::create_server`). A
//! DELETE whose answer was lost and whose retry finds nothing (404) is done. No
//! printing here: waits are reported to an [`Observer`].
//!
//! One file per job: `endpoint` (the URL rules), `proxy` (which proxy, from the
//! environment), `timing` (waits and test knobs),
//! `net_error` (transport errors in words), `envelope` (Hetzner's error body).

mod endpoint;
mod envelope;
mod net_error;
mod proxy;
mod timing;

use std::time::Duration;

use serde::de::DeserializeOwned;
use ureq::Agent;

pub use self::endpoint::{DEFAULT_ENDPOINT, Endpoint};
pub use self::envelope::decode_error;
pub use self::proxy::Proxy;
pub use self::timing::Timing;
pub use crate::observer::Observer;

use self::net_error::NetError;
use crate::error::{ApiError, Error, Result};
use crate::process::wait::interruptible;
use crate::text::Untrusted;
use crate::tls;

pub const MAX_TRIES: u32 = 5;
/// The largest answer body read (SPEC §7).
pub const MAX_BODY: u64 = 32 * 1024 * 1024;

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

/// One answer: its status, `RateLimit-Reset`, and body.
struct Answer {
    status: u16,
    reset: Option<u64>,
    body: String,
}

/// The message for a 2xx answer that cannot be decoded.
pub fn unreadable(e: impl std::fmt::Display) -> Error {
    Error::Failed(format!(
        "the Hetzner API sent an answer pegasus does not understand: {e}"
    ))
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
            .user_agent(format!("pegasus/{}", crate::defaults::VERSION))
            .http_status_as_error(false)
            .max_redirects(0)
            .tls_config(tls::config()?)
            // SPEC §3: the proxy chosen from the environment at start (`http/proxy.rs`),
            // never ureq's own reading of it; `None` (no variable, NO_PROXY, a loopback
            // endpoint) goes direct.
            .proxy(endpoint.proxy.as_ref().map(|p| p.proxy.clone()));
        Ok(Http {
            agent: config.build().into(),
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

    /// Send a request, retrying what may be retried, and return the 2xx body. A DELETE
    /// whose earlier try may have been carried out and whose retry gets 404 returns an
    /// empty body: the thing is gone, which is what was asked.
    pub fn execute(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
    ) -> Result<String, Failure> {
        self.execute_counted(method, path_and_query, body, &mut 0)
    }

    /// [`execute`](Self::execute) for a caller that may repeat the request itself (the
    /// safe create): `tries` counts every try across the caller's loop too, so "at most
    /// 5 tries" holds for the request as a whole (SPEC §7).
    pub fn execute_counted(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
        tries: &mut u32,
    ) -> Result<String, Failure> {
        self.run_into(method, path_and_query, body, tries, &mut Ok)
    }

    /// `GET` and decode; an answer that cannot be decoded is retried like a gateway
    /// error (it may have been cut or mangled on the way).
    pub fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> Result<T> {
        self.get_with(path_and_query, &mut |text| {
            serde_json::from_str(&text).map_err(unreadable)
        })
    }

    /// `GET` with the caller's decoder (retried when it fails, as for [`get`](Self::get)).
    pub fn get_with<T>(
        &self,
        path_and_query: &str,
        decode: &mut dyn FnMut(String) -> Result<T>,
    ) -> Result<T> {
        self.run_into(Method::Get, path_and_query, None, &mut 0, decode)
            .map_err(Failure::into_error)
    }

    /// [`run`](Self::run) for an `accept` that gives a value back: the one part of a
    /// request that depends on what it decodes into (`run` itself is compiled once).
    fn run_into<T>(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
        tries: &mut u32,
        accept: &mut dyn FnMut(String) -> Result<T>,
    ) -> Result<T, Failure> {
        let mut accepted = None;
        self.run(method, path_and_query, body, tries, &mut |text| {
            accepted = Some(accept(text)?);
            Ok(())
        })?;
        // `run` returns `Ok` only after `accept` has.
        accepted.ok_or_else(|| Failure::Clear(unreadable("no answer")))
    }

    /// Send the request until an answer is accepted (`accept` returns `Ok`) or the
    /// retry rules stop.
    fn run(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&str>,
        tries: &mut u32,
        accept: &mut dyn FnMut(String) -> Result<()>,
    ) -> Result<(), Failure> {
        let url = format!("{}{}", self.endpoint.base, path_and_query);
        let mut refused_before = false;
        // A DELETE try that may have been carried out although no answer came back.
        let mut maybe_deleted = false;
        loop {
            *tries += 1;
            let attempt = *tries;
            let sent = self.send_once(method, &url, body).map_err(|interrupted| {
                // A POST may have reached the API before the signal: nobody knows.
                match method {
                    Method::Post => Failure::Unclear(interrupted),
                    _ => Failure::Clear(interrupted),
                }
            })?;
            let verdict = match sent {
                Ok(answer) if (200..300).contains(&answer.status) => match accept(answer.body) {
                    Ok(v) => return Ok(v),
                    Err(e) if method == Method::Get => Verdict::Retry(
                        self.timing.backoff_for(attempt),
                        "Hetzner sent an answer that could not be read".into(),
                        e,
                    ),
                    Err(e) => Verdict::Stop(Failure::Clear(e)),
                },
                Ok(answer) if method == Method::Delete && maybe_deleted && answer.status == 404 => {
                    return accept(String::new()).map_err(Failure::Clear);
                }
                Ok(answer) => {
                    if method == Method::Delete && (500..600).contains(&answer.status) {
                        maybe_deleted = true;
                    }
                    let api = Box::new(decode_error(answer.status, &answer.body));
                    self.judge_status(method, attempt, api, answer.reset)
                }
                Err(err) => {
                    let mut net =
                        NetError::classify(&err, &self.endpoint, self.agent.config().proxy());
                    // For a POST, only what surely happened before the request left counts
                    // as not sent; anything else (a TLS error mid-answer, a body over the
                    // limit) is unclear, and the safe create looks the server up.
                    net.not_sent &= surely_not_sent(&err);
                    if method == Method::Delete && !net.not_sent {
                        maybe_deleted = true;
                    }
                    let refused = net.refused;
                    let verdict = self.judge_network(method, attempt, net, refused_before);
                    refused_before |= refused;
                    verdict
                }
            };
            match verdict {
                Verdict::Stop(f) => return Err(f),
                Verdict::Retry(_, _, err) if attempt >= MAX_TRIES => {
                    return Err(Failure::Clear(gave_up(err, attempt)));
                }
                Verdict::Retry(wait, why, _) => {
                    self.observer.retrying(&why, wait);
                    self.timing.sleep(wait).map_err(Failure::Clear)?;
                }
            }
        }
    }

    fn judge_status(
        &self,
        method: Method,
        attempt: u32,
        api: Box<ApiError>,
        reset: Option<u64>,
    ) -> Verdict {
        let backoff = self.timing.backoff_for(attempt);
        match (api.status, api.code()) {
            (429, _) | (_, "rate_limit_exceeded") => {
                let now = crate::timefmt::now_unix();
                let wait = self.timing.rate_limit_wait(attempt, reset, now);
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
            // Any 5xx to a POST: the request may have been carried out (SPEC §7).
            (500..=599, _) if method == Method::Post => {
                Verdict::Stop(Failure::Unclear(Error::Api(api)))
            }
            (502..=504, _) => {
                let why = format!("Hetzner answered HTTP {}", api.status);
                Verdict::Retry(backoff, why, Error::Api(api))
            }
            _ => Verdict::Stop(Failure::Clear(Error::Api(api))),
        }
    }

    /// `refused_before`: an earlier try of this request was refused — a refused
    /// connection gets one more try only.
    fn judge_network(
        &self,
        method: Method,
        attempt: u32,
        net: NetError,
        refused_before: bool,
    ) -> Verdict {
        let error = Error::Network(net.message.clone());
        match method {
            Method::Post if net.not_sent => return Verdict::Stop(Failure::Clear(error)),
            Method::Post => return Verdict::Stop(Failure::Unclear(error)),
            _ if !net.retryable => return Verdict::Stop(Failure::Clear(error)),
            _ => {}
        }
        match method {
            Method::Post => Verdict::Stop(Failure::Unclear(error)),
            // A wrong endpoint fails fast: one more try after 1 s, then the error.
            _ if net.refused && refused_before => {
                Verdict::Stop(Failure::Clear(gave_up(error, attempt)))
            }
            _ if net.refused => Verdict::Retry(self.timing.backoff, net.message, error),
            Method::Get | Method::Delete => {
                Verdict::Retry(self.timing.backoff_for(attempt), net.message, error)
            }
        }
    }

    /// One try, on a worker thread that a signal does not wait for
    /// (`process::wait::interruptible`): the answer or the transport error, or
    /// `Err(Interrupted)` within a slice of the signal, whatever the request is doing.
    fn send_once(
        &self,
        method: Method,
        url: &str,
        body: Option<&str>,
    ) -> Result<Result<Answer, ureq::Error>> {
        let (agent, url) = (self.agent.clone(), url.to_string());
        let auth = format!("Bearer {}", self.token);
        let body = body.unwrap_or("{}").to_string();
        interruptible(move || send(&agent, method, &url, &auth, &body))
    }
}

/// One request and its whole answer (bounded by [`MAX_BODY`]).
fn send(
    agent: &Agent,
    method: Method,
    url: &str,
    auth: &str,
    body: &str,
) -> Result<Answer, ureq::Error> {
    let response = match method {
        Method::Get => agent
            .get(url)
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .call(),
        Method::Delete => agent
            .delete(url)
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .call(),
        Method::Post => agent
            .post(url)
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .content_type("application/json")
            .send(body),
    };
    let mut response = response?;
    let status = response.status().as_u16();
    let reset = response
        .headers()
        .get("ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(timing::parse_reset);
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_BODY)
        .read_to_string()?;
    Ok(Answer {
        status,
        reset,
        body,
    })
}

/// Whether a transport error surely happened before the request left this machine: no
/// address, nothing listening, no proxy tunnel, a certificate refused in the handshake.
fn surely_not_sent(err: &ureq::Error) -> bool {
    use std::io::ErrorKind as K;
    match err {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::ConnectProxyFailed(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => true,
        ureq::Error::Io(e) => match e.kind() {
            K::ConnectionRefused | K::NetworkUnreachable | K::HostUnreachable => true,
            _ => e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|t| {
                    matches!(
                        t,
                        rustls::Error::InvalidCertificate(_)
                            | rustls::Error::NoCertificatesPresented
                            | rustls::Error::PeerIncompatible(_)
                    )
                }),
        },
        ureq::Error::Rustls(
            rustls::Error::InvalidCertificate(_)
            | rustls::Error::NoCertificatesPresented
            | rustls::Error::PeerIncompatible(_),
        ) => true,
        _ => false,
    }
}

fn gave_up(err: Error, tries: u32) -> Error {
    let tries = format!("(gave up after {tries} tries)");
    match err {
        Error::Api(mut api) => {
            api.message = Untrusted::new(format!(
                "{} {tries}",
                api.message.raw().trim_end_matches('.')
            ));
            Error::Api(api)
        }
        Error::Network(m) => Error::Network(format!("{m} {tries}")),
        Error::Failed(m) => Error::Failed(format!("{m} {tries}")),
        other => other,
    }
}
