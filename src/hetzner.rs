//! The Hetzner Cloud API client: typed requests and answers, pagination, the one
//! non-idempotent call (`POST /servers`) made safe, and action polling. No printing:
//! progress goes to a callback, waits to the [`Observer`](crate::http::Observer).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::{Failure, Http, MAX_TRIES, Method};

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Server {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub public_net: PublicNet,
    pub server_type: Option<Named>,
    pub location: Option<Named>,
    pub image: Option<Image>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub protection: Protection,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct PublicNet {
    pub ipv4: Option<IpBlock>,
    pub ipv6: Option<IpBlock>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct IpBlock {
    pub ip: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Named {
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Image {
    pub id: u64,
    /// Only system images have a name.
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Protection {
    #[serde(default)]
    pub delete: bool,
}

impl Server {
    pub fn ipv4(&self) -> Option<&str> {
        self.public_net.ipv4.as_ref().map(|b| b.ip.as_str())
    }

    /// The server's own IPv6 address: the `::1` address of its /64, as the official CLI
    /// prints it.
    pub fn ipv6(&self) -> Option<String> {
        let net = &self.public_net.ipv6.as_ref()?.ip;
        let prefix = net.split('/').next().unwrap_or(net);
        let addr: std::net::Ipv6Addr = prefix.parse().ok()?;
        let mut segments = addr.segments();
        segments[7] |= 1;
        Some(std::net::Ipv6Addr::from(segments).to_string())
    }

    /// Its public addresses: IPv4 first, then IPv6.
    pub fn addresses(&self) -> Vec<String> {
        [self.ipv4().map(str::to_string), self.ipv6()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The address to reach it on: IPv4, else IPv6.
    pub fn address(&self) -> Option<String> {
        self.ipv4().map(str::to_string).or_else(|| self.ipv6())
    }

    pub fn type_name(&self) -> &str {
        self.server_type.as_ref().map_or("", |t| t.name.as_str())
    }

    pub fn location_name(&self) -> &str {
        self.location.as_ref().map_or("", |l| l.name.as_str())
    }

    pub fn image_name(&self) -> String {
        match &self.image {
            Some(Image { name: Some(n), .. }) => n.clone(),
            Some(Image { id, .. }) => id.to_string(),
            None => String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SshKey {
    pub id: u64,
    pub name: String,
    pub public_key: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerType {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub architecture: String,
    /// Where the type is offered, each with its own deprecation. Empty when the API gives
    /// no per-location data (then the location check is left to the create).
    #[serde(default)]
    pub locations: Vec<TypeLocation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TypeLocation {
    pub name: String,
    pub deprecation: Option<Deprecation>,
    pub available: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Deprecation {
    pub announced: Option<String>,
    pub unavailable_after: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    pub name: String,
    #[serde(default)]
    pub city: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Action {
    pub id: u64,
    #[serde(default)]
    pub command: String,
    pub status: String,
    #[serde(default)]
    pub progress: u32,
    pub error: Option<ActionError>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ActionError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Action {
    pub fn is_done(&self) -> bool {
        self.status == "success"
    }
    pub fn is_failed(&self) -> bool {
        self.status == "error"
    }
}

/// The body of `POST /servers`.
#[derive(Debug, Serialize)]
pub struct NewServer<'a> {
    pub name: &'a str,
    pub server_type: &'a str,
    pub image: &'a str,
    pub location: &'a str,
    pub ssh_keys: Vec<u64>,
    pub labels: BTreeMap<String, String>,
    pub start_after_create: bool,
}

/// A created server and the actions to wait for.
#[derive(Debug)]
pub struct Created {
    pub server: Server,
    /// `create_server` and its next actions; after a request that failed without a
    /// clear answer, the server's running actions (none: wait for its status instead).
    pub actions: Vec<Action>,
    /// Found by name after a create request without a clear answer.
    pub recovered: bool,
}

/// How a wait ended.
#[derive(Debug, PartialEq)]
pub enum Waited {
    Done,
    Failed(String),
    TimedOut,
}

/// What one poll saw.
pub enum Poll {
    Done,
    Failed(String),
    /// Still running: the step (an action command) and its progress in percent.
    Pending(String, Option<u32>),
}

pub struct Client<'a> {
    http: Http<'a>,
}

impl<'a> Client<'a> {
    pub fn new(http: Http<'a>) -> Client<'a> {
        Client { http }
    }

    pub fn http(&self) -> &Http<'a> {
        &self.http
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let body = self.http.execute(Method::Get, path, None)?;
        decode(&body)
    }

    /// Every item of a listing, across all pages (50 per page, the API's maximum).
    fn get_all<T: DeserializeOwned>(&self, path: &str, key: &str) -> Result<Vec<T>> {
        #[derive(Deserialize)]
        struct Meta {
            pagination: Option<Pagination>,
        }
        #[derive(Deserialize)]
        struct Pagination {
            next_page: Option<u64>,
        }
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut page = 1u64;
        // A bound, in case an answer keeps pointing at a next page.
        for _ in 0..10_000 {
            let body = self.http.execute(
                Method::Get,
                &format!("{path}{sep}page={page}&per_page=50"),
                None,
            )?;
            let mut value: serde_json::Value = decode(&body)?;
            let list = value.get_mut(key).map(serde_json::Value::take);
            let list: Vec<T> = match list {
                Some(v) => serde_json::from_value(v).map_err(bad_answer)?,
                None => return Err(bad_answer(format!("no '{key}' in the answer"))),
            };
            items.extend(list);
            let meta: Option<Meta> = value
                .get_mut("meta")
                .map(serde_json::Value::take)
                .and_then(|m| serde_json::from_value(m).ok());
            match meta.and_then(|m| m.pagination).and_then(|p| p.next_page) {
                Some(next) if next > page => page = next,
                _ => break,
            }
        }
        Ok(items)
    }

    pub fn list_ssh_keys(&self) -> Result<Vec<SshKey>> {
        self.get_all("/ssh_keys", "ssh_keys")
    }

    /// Upload a key. After a failure without a clear answer, or when Hetzner says the
    /// key already exists, the key list is read again and the key found there is used.
    pub fn create_ssh_key(
        &self,
        name: &str,
        public_key: &str,
        same_key: &dyn Fn(&SshKey) -> bool,
    ) -> Result<SshKey> {
        #[derive(Deserialize)]
        struct Answer {
            ssh_key: SshKey,
        }
        let body = serde_json::json!({
            "name": name,
            "public_key": public_key,
            "labels": {"managed-by": "pegasus"},
        })
        .to_string();
        let failure = match self.http.execute(Method::Post, "/ssh_keys", Some(&body)) {
            Ok(text) => return Ok(decode::<Answer>(&text)?.ssh_key),
            Err(f) => f,
        };
        let maybe_made = match &failure {
            Failure::Unclear(_) => true,
            Failure::Clear(Error::Api(api)) => api.code() == "uniqueness_error",
            Failure::Clear(_) => false,
        };
        if maybe_made {
            if let Some(key) = self.list_ssh_keys()?.into_iter().find(|k| same_key(k)) {
                return Ok(key);
            }
        }
        Err(failure.into_error())
    }

    pub fn server_type(&self, name: &str) -> Result<Option<ServerType>> {
        #[derive(Deserialize)]
        struct Answer {
            server_types: Vec<ServerType>,
        }
        let a: Answer = self.get(&format!("/server_types?name={}", query_escape(name)))?;
        Ok(a.server_types.into_iter().find(|t| t.name == name))
    }

    pub fn server_types(&self) -> Result<Vec<ServerType>> {
        self.get_all("/server_types", "server_types")
    }

    pub fn locations(&self) -> Result<Vec<Location>> {
        self.get_all("/locations", "locations")
    }

    pub fn find_server(&self, name: &str) -> Result<Option<Server>> {
        #[derive(Deserialize)]
        struct Answer {
            servers: Vec<Server>,
        }
        let a: Answer = self.get(&format!("/servers?name={}", query_escape(name)))?;
        Ok(a.servers.into_iter().find(|s| s.name == name))
    }

    pub fn list_servers(&self) -> Result<Vec<Server>> {
        let mut servers: Vec<Server> = self.get_all("/servers?sort=id:asc", "servers")?;
        // Pages can overlap if servers are added while we read.
        servers.dedup_by_key(|s| s.id);
        Ok(servers)
    }

    /// `GET /servers/{id}`; `None` once it is gone.
    pub fn get_server(&self, id: u64) -> Result<Option<Server>> {
        #[derive(Deserialize)]
        struct Answer {
            server: Server,
        }
        match self.get::<Answer>(&format!("/servers/{id}")) {
            Ok(a) => Ok(Some(a.server)),
            Err(Error::Api(api)) if api.status == 404 || api.code() == "not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /servers`, never sent twice blindly. A failure without a clear answer (the
    /// connection dropped, a timeout, a gateway error) is followed by a look-up by name:
    /// if the server exists and carries our labels, carry on with it; if not, the POST
    /// is tried again (a second server cannot appear: names are unique per project).
    pub fn create_server(&self, new: &NewServer) -> Result<Created> {
        #[derive(Deserialize)]
        struct Answer {
            server: Server,
            action: Action,
            #[serde(default)]
            next_actions: Vec<Action>,
        }
        let body = serde_json::to_string(new).map_err(bad_answer)?;
        let mut unclear_before = false;
        let mut attempt = 1;
        loop {
            let failure = match self.http.execute(Method::Post, "/servers", Some(&body)) {
                Ok(text) => {
                    let a: Answer = decode(&text)?;
                    let mut actions = vec![a.action];
                    actions.extend(a.next_actions);
                    return Ok(Created {
                        server: a.server,
                        actions,
                        recovered: false,
                    });
                }
                Err(f) => f,
            };
            let err = match failure {
                Failure::Unclear(e) => e,
                Failure::Clear(Error::Api(api))
                    if unclear_before && api.code() == "uniqueness_error" =>
                {
                    Error::Api(api)
                }
                Failure::Clear(e) => return Err(e),
            };
            unclear_before = true;
            if let Some(server) = self.find_server(new.name)? {
                if new
                    .labels
                    .iter()
                    .all(|(k, v)| server.labels.get(k) == Some(v))
                {
                    let actions = self.running_actions(server.id)?;
                    return Ok(Created {
                        server,
                        actions,
                        recovered: true,
                    });
                }
                return Err(Error::Failed(format!(
                    "a server named {} appeared while it was being created, but it is not \
                     the one this run asked for; nothing else was created",
                    new.name
                )));
            }
            if attempt >= MAX_TRIES {
                return Err(err);
            }
            let wait = self.http.timing.backoff_for(attempt);
            attempt += 1;
            std::thread::sleep(wait);
        }
    }

    /// `DELETE /servers/{id}`: the delete action.
    pub fn delete_server(&self, id: u64) -> Result<Option<Action>> {
        #[derive(Deserialize)]
        struct Answer {
            action: Option<Action>,
        }
        let body = self
            .http
            .execute(Method::Delete, &format!("/servers/{id}"), None)?;
        if body.trim().is_empty() {
            return Ok(None);
        }
        Ok(decode::<Answer>(&body)?.action)
    }

    /// The actions still running on a server (after a create without a clear answer).
    pub fn running_actions(&self, server_id: u64) -> Result<Vec<Action>> {
        self.get_all(
            &format!("/servers/{server_id}/actions?status=running"),
            "actions",
        )
    }

    /// The current state of these actions, in one request.
    pub fn actions(&self, ids: &[u64]) -> Result<Vec<Action>> {
        #[derive(Deserialize)]
        struct Answer {
            actions: Vec<Action>,
        }
        let query: Vec<String> = ids.iter().map(|id| format!("id={id}")).collect();
        let a: Answer = self.get(&format!("/actions?{}", query.join("&")))?;
        Ok(a.actions)
    }

    /// Wait until every action in `ids` succeeded (or one failed), telling `progress`
    /// about each poll.
    pub fn wait_for_actions(
        &self,
        ids: &[u64],
        progress: &mut dyn FnMut(&str, Option<u32>),
    ) -> Result<Waited> {
        let mut probe = || -> Result<Poll> {
            let mut actions = self.actions(ids)?;
            actions.sort_by_key(|a| a.id);
            if let Some(failed) = actions.iter().find(|a| a.is_failed()) {
                let (code, message) = match &failed.error {
                    Some(e) => (e.code.as_str(), e.message.as_str()),
                    None => ("unknown", "no reason given"),
                };
                return Ok(Poll::Failed(format!(
                    "{} failed: {} ({code})",
                    failed.command,
                    message.trim_end_matches('.')
                )));
            }
            let missing = ids.iter().any(|id| !actions.iter().any(|a| a.id == *id));
            match actions.iter().find(|a| !a.is_done()) {
                Some(a) => Ok(Poll::Pending(a.command.clone(), Some(a.progress))),
                None if missing => Err(bad_answer("an action is missing from the answer")),
                None => Ok(Poll::Done),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Wait until the server runs (used when the create's actions are not known).
    pub fn wait_for_running(
        &self,
        id: u64,
        progress: &mut dyn FnMut(&str, Option<u32>),
    ) -> Result<Waited> {
        let mut probe = || -> Result<Poll> {
            match self.get_server(id)? {
                None => Ok(Poll::Failed("the server disappeared".into())),
                Some(s) if s.status == "running" => Ok(Poll::Done),
                Some(s) => Ok(Poll::Pending(s.status, None)),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Wait until `GET /servers/{id}` says it is gone.
    pub fn wait_for_gone(
        &self,
        id: u64,
        progress: &mut dyn FnMut(&str, Option<u32>),
    ) -> Result<Waited> {
        // Usually gone at the first look, right after the delete action succeeded.
        if self.get_server(id)?.is_none() {
            return Ok(Waited::Done);
        }
        let mut probe = || -> Result<Poll> {
            match self.get_server(id)? {
                None => Ok(Poll::Done),
                Some(s) => Ok(Poll::Pending(s.status, None)),
            }
        };
        self.poll_until(&mut probe, progress)
    }

    /// Poll on the schedule of [`next_poll_delay`] until done, failed or out of time.
    fn poll_until(
        &self,
        probe: &mut dyn FnMut() -> Result<Poll>,
        progress: &mut dyn FnMut(&str, Option<u32>),
    ) -> Result<Waited> {
        let timing = self.http.timing;
        let start = Instant::now();
        let mut polls = 0u32;
        let mut delay = timing.poll;
        loop {
            let left = timing.wait_limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Ok(Waited::TimedOut);
            }
            std::thread::sleep(delay.min(left));
            polls += 1;
            match probe()? {
                Poll::Done => return Ok(Waited::Done),
                Poll::Failed(why) => return Ok(Waited::Failed(why)),
                Poll::Pending(step, pct) => {
                    progress(&step, pct);
                    delay = next_poll_delay(polls, timing.poll, pct, start.elapsed());
                }
            }
        }
    }
}

/// The wait before the next poll, after `polls` polls. Never shorter than `base`
/// (500 ms: at most twice a second) and never longer than the official CLI's schedule
/// (`base` for the first 10 polls, then ×1.5 per poll up to 2 s). Within those bounds,
/// the action's own progress is used: when it says the end is near, poll at `base`.
pub fn next_poll_delay(
    polls: u32,
    base: Duration,
    progress: Option<u32>,
    elapsed: Duration,
) -> Duration {
    let official = if polls < 10 {
        base
    } else {
        let grown = base.mul_f64(1.5f64.powi((polls - 9).min(20) as i32));
        grown.min(Duration::from_secs(2)).max(base)
    };
    match progress {
        Some(p) if p > 0 && p < 100 => {
            // Time left if progress keeps its average pace so far.
            let left = elapsed.mul_f64(f64::from(100 - p) / f64::from(p));
            left.clamp(base, official)
        }
        _ => official,
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(bad_answer)
}

fn bad_answer(e: impl std::fmt::Display) -> Error {
    Error::Failed(format!(
        "the Hetzner API sent an answer pegasus does not understand: {e}"
    ))
}

/// Escape a value for a query string (names are hostnames, but be safe).
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Is the type unavailable in `location`? `Err` carries the sentence to show.
/// `Ok(Some(warning))` when deprecation is only announced.
pub fn check_type_location(
    t: &ServerType,
    location: &str,
    now: i64,
) -> std::result::Result<Option<String>, String> {
    if t.locations.is_empty() {
        return Ok(None);
    }
    let orderable = |l: &TypeLocation| {
        l.available != Some(false)
            && l.deprecation.as_ref().is_none_or(|d| {
                crate::timefmt::parse_rfc3339(&d.unavailable_after).is_none_or(|at| at > now)
            })
    };
    let elsewhere: Vec<&str> = t
        .locations
        .iter()
        .filter(|l| l.name != location && orderable(l))
        .map(|l| l.name.as_str())
        .collect();
    let alternatives = if elsewhere.is_empty() {
        format!(
            "it cannot be ordered in any location any more; pick another type with -t (e.g. {})",
            crate::cli::DEFAULT_SERVER_TYPE
        )
    } else {
        format!("it is available in: {} (use -l)", elsewhere.join(", "))
    };
    let Some(here) = t.locations.iter().find(|l| l.name == location) else {
        return Err(format!(
            "server type {} is not offered in {location}; {alternatives}",
            t.name
        ));
    };
    if !orderable(here) {
        let since = match &here.deprecation {
            Some(d) => format!(" since {}", crate::timefmt::date_part(&d.unavailable_after)),
            None => String::new(),
        };
        return Err(format!(
            "server type {} can no longer be ordered in {location}{since}; {alternatives}",
            t.name
        ));
    }
    Ok(here.deprecation.as_ref().map(|d| {
        format!(
            "server type {} is deprecated in {location} and can be ordered only until {}",
            t.name,
            crate::timefmt::date_part(&d.unavailable_after)
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(json: &str) -> Server {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn ipv6_address_is_the_first_of_the_net() {
        let s = server(
            r#"{"id":1,"name":"a","public_net":{"ipv4":null,"ipv6":{"ip":"2001:db8:1::/64"}},"server_type":null,"location":null,"image":null}"#,
        );
        assert_eq!(s.ipv6().as_deref(), Some("2001:db8:1::1"));
        assert_eq!(s.address().as_deref(), Some("2001:db8:1::1"));
        assert_eq!(s.ipv4(), None);
    }

    #[test]
    fn poll_delay_stays_within_bounds() {
        let base = Duration::from_millis(500);
        // First ten polls: 500 ms whatever the progress says.
        assert_eq!(
            next_poll_delay(3, base, Some(1), Duration::from_secs(2)),
            base
        );
        // Later the official schedule grows to 2 s ...
        assert_eq!(
            next_poll_delay(30, base, None, Duration::from_secs(60)),
            Duration::from_secs(2)
        );
        assert_eq!(
            next_poll_delay(10, base, None, Duration::from_secs(5)),
            Duration::from_millis(750)
        );
        // ... but near the end (90% after 9 s: about 1 s left) it polls sooner.
        assert_eq!(
            next_poll_delay(20, base, Some(95), Duration::from_secs(9)),
            base
        );
        let d = next_poll_delay(20, base, Some(80), Duration::from_secs(8));
        assert_eq!(d, Duration::from_secs(2));
    }

    fn stype(locs: &str) -> ServerType {
        serde_json::from_str(&format!(r#"{{"name":"cx22","locations":{locs}}}"#)).unwrap()
    }

    #[test]
    fn type_location_checks() {
        let now = crate::timefmt::parse_rfc3339("2026-11-25T00:00:00Z").unwrap();
        let retired = stype(
            r#"[{"name":"nbg1","deprecation":{"announced":"2025-10-16T06:00:00Z","unavailable_after":"2025-12-31T23:59:59Z"},"available":false},
                {"name":"ash","deprecation":null,"available":true}]"#,
        );
        let e = check_type_location(&retired, "nbg1", now).unwrap_err();
        assert_eq!(
            e,
            "server type cx22 can no longer be ordered in nbg1 since 2025-12-31; it is available in: ash (use -l)"
        );
        let e = check_type_location(&retired, "xyz", now).unwrap_err();
        assert!(
            e.starts_with("server type cx22 is not offered in xyz"),
            "{e}"
        );
        assert_eq!(check_type_location(&retired, "ash", now), Ok(None));
        let announced = stype(
            r#"[{"name":"nbg1","deprecation":{"announced":"2026-10-16T06:00:00Z","unavailable_after":"2027-06-30T23:59:59Z"},"available":true}]"#,
        );
        let w = check_type_location(&announced, "nbg1", now)
            .unwrap()
            .unwrap();
        assert!(w.contains("only until 2027-06-30"), "{w}");
        assert_eq!(check_type_location(&stype("[]"), "nbg1", now), Ok(None));
    }

    #[test]
    fn escapes_queries() {
        assert_eq!(query_escape("web-1.example"), "web-1.example");
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
    }
}
