//! A fake Hetzner Cloud API server for tests, benchmarks and demos.
//!
//! [`Fake::start`] binds `127.0.0.1:0` and serves the API on background threads (one per
//! connection, HTTP/1.1 keep-alive, `Content-Length` bodies only), std only. It never
//! opens a connection anywhere except to itself, once, to wake its accept loop on drop.
//!
//! Use it from any test binary with
//! `#[path = "common/fake.rs"] mod fake;` (or `"../tests/common/fake.rs"` from `benches/`
//! or `examples/`); the submodules are found relative to this file.
//!
//! What it serves (under `/v1`, see the brief and `research/hetzner_api.md` §10):
//! servers (list/create/get/delete), actions (by id, `?id=` list, per server), SSH keys
//! (list/create/get/delete), firewalls (list/get/create, see `fake/firewalls.rs`), server
//! types (with per-location prices), locations, images, `GET /pricing` (the catalogue and
//! its prices: `fake/fixtures.rs`), `410` for datacenters, and DNS zones with their
//! record sets (`fake/zones.rs`: `add_zone`, `add_rrset`, `rrsets`).
//! Every response carries `Content-Type`, `Content-Length`, `X-Correlation-Id` and the
//! `RateLimit-*` headers.
//!
//! Actions: by default an action becomes `success` on its 2nd poll (progress 50 on the
//! 1st); see [`Fake::set_action_polls`] and [`Fake::set_action_duration`]. A poll is a
//! `GET` of the action through any action route (`/actions/{id}`, `/actions?id=`,
//! `/servers/{id}/actions[/{aid}]`, `/servers/actions/{id}`), and a `GET /servers/{id}`
//! counts as one poll of each of that server's running actions (so waiting by watching
//! the server's status works too). Lists of servers do not count. A `start_server`
//! action ignores polls until its `create_server` has succeeded; within one request the
//! actions are polled in id order, so the poll that finishes the create also counts as
//! the start's first (with 2 polls each: 3 combined `GET /actions?id=&id=` requests, or
//! 2 + 2 when polled one after the other).

#![allow(dead_code)]

#[path = "fake/api.rs"]
mod api;
#[path = "fake/firewalls.rs"]
mod firewalls;
#[path = "fake/fixtures.rs"]
mod fixtures;
#[path = "fake/util.rs"]
mod util;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// The read-write API token the fake accepts (64 characters).
pub const TOKEN: &str = "FakeRWy5bLycBAhkdyYkmCRyQKODdE5HKS8Zm8y2pD1j9vMBEI979M75XTe20oAF";
/// A read-only token: `GET`s work, anything else gets 401 `token_readonly`.
pub const READONLY_TOKEN: &str = "FakeROtRYuAaNf3nKAq9MSvdq3k4g0u5kJI2VdyzD3E4mj4PpANhT7SRhyBEbbqH";

const _: () = assert!(TOKEN.len() == 64 && READONLY_TOKEN.len() == 64);

/// How long a connection may sit idle (or stall mid-request) before the fake closes it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path without the query, e.g. `/v1/servers`.
    pub path: String,
    /// Raw query string without `?`, `""` if none.
    pub query: String,
    /// Body as text (lossy UTF-8), `""` if none.
    pub body: String,
    /// Raw `Authorization` header value.
    pub authorization: Option<String>,
    /// When the fake had read the request head (for timing figures, e.g. `make bench`).
    pub at: Instant,
}

/// A failure to inject into matching requests (see [`Fake::inject`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Answer this status with the matching Hetzner error envelope: 429
    /// `rate_limit_exceeded` (with `RateLimit-Remaining: 0`, `RateLimit-Reset: now`), 409
    /// `conflict`, 500 `server_error`, 503 `unavailable`, 504 `timeout`, 423 `locked`, 412
    /// `resource_unavailable` ("error during placement"), 502 `bad_gateway` (JSON), …
    Status(u16),
    /// 502 with a non-JSON `text/html` body `<html>502 Bad Gateway</html>`.
    BadGateway,
    /// Read the request, then close the connection without answering (nothing applied).
    Drop,
    /// Perform the request for real, then close without answering.
    ApplyThenDrop,
    /// Sleep this long, then answer normally.
    Delay(Duration),
    /// Perform the request, then answer this status with a non-JSON `text/html` body
    /// (`<html>500 Internal Server Error</html>`): a proxy in front of the API that
    /// failed after passing the request on.
    ApplyThenHtml(u16),
    /// Perform the request, then send the head of its answer (with the full
    /// `Content-Length`) and only the first half of the body, and close: an answer cut
    /// off on the way.
    Truncate,
    /// Perform the request, then answer its status with only the first half of the
    /// body, correctly framed: a complete answer that is not valid JSON.
    Garble,
    /// Perform the request, then replace every `from` with `to` in the answer body
    /// (the texts as they appear in the JSON, e.g. `\u001b` for an ESC): smuggles
    /// hostile text into an otherwise real answer.
    Substitute(String, String),
    /// 429 `rate_limit_exceeded` with `RateLimit-Remaining: 0` and `RateLimit-Reset` this
    /// many seconds from now (negative: in the past; the real API's reset is when the
    /// full quota is back, so up to an hour ahead).
    RateLimited(i64),
    /// Answer this status with this body as `application/json` (or `text/html` when it
    /// does not start with `{`), whatever the request: a cut or mangled 2xx, an error
    /// envelope with hostile text, an HTML error page.
    Raw(u16, String),
}

/// A server made or gone, for a watcher (see [`Fake::watch_servers`]).
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    /// `POST /servers` made it (it is still starting): its addresses as the API shows
    /// them (`127.0.0.10`, `::/64`), and the public keys it was made with.
    Created {
        id: u64,
        name: String,
        ipv4: Option<String>,
        ipv6: Option<String>,
        public_keys: Vec<String>,
    },
    /// Its delete action finished: it is gone.
    Deleted { id: u64, name: String },
}

/// A broken `meta.pagination` for every list (see [`Fake::set_page_fault`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PageFault {
    /// `next_page` always names the following page, also past `last_page` (which, like
    /// `total_entries`, stays true); pages past the end are empty.
    NextPastLast,
    /// Every page claims one more after it (`next_page` = `last_page` = page + 1) while
    /// `total_entries` stays true; pages past the end are empty.
    Endless,
    /// Every page serves the items of page 1 and claims one more page after it, with a
    /// `total_entries` to match that claim.
    Repeat,
    /// `per_page` is ignored: page 1 holds every item (10,000 servers are about 30 MB),
    /// as an API without the cap of 50 would send them.
    OnePage,
}

/// Something a test runs inside the fake when a request arrives ([`Fake::on_request`]).
type Hook = (String, String, Box<dyn FnOnce() + Send>);

struct Shared {
    state: Mutex<api::State>,
    stop: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, api::State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running fake API. Dropping it stops accepting new connections (best effort).
pub struct Fake {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Fake {
    /// Starts a fake on `127.0.0.1` with a free port and the fixture catalogue loaded
    /// (no servers, no SSH keys). Panics only if it cannot bind.
    pub fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake hcloud: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake hcloud: local_addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(api::State::new(format!("http://{addr}"))),
            stop: AtomicBool::new(false),
            hooks: Mutex::new(Vec::new()),
        });
        let accept_shared = Arc::clone(&shared);
        thread::Builder::new()
            .name("fake-hcloud-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))
            .expect("fake hcloud: spawn accept thread");
        Fake { addr, shared }
    }

    /// The API base URL, `http://127.0.0.1:PORT/v1` (what `HCLOUD_ENDPOINT` should be).
    pub fn endpoint(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order, including faulted ones.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// The requests that may change something (every method but `GET`), in order.
    pub fn writes(&self) -> Vec<Request> {
        let st = self.shared.lock();
        st.requests
            .iter()
            .filter(|r| r.method != "GET")
            .cloned()
            .collect()
    }

    /// Number of requests with exactly this method and path (query ignored).
    pub fn count(&self, method: &str, path: &str) -> usize {
        let st = self.shared.lock();
        st.requests
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Number of requests with this method whose path starts with `path_prefix`.
    pub fn count_prefix(&self, method: &str, path_prefix: &str) -> usize {
        let st = self.shared.lock();
        st.requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix))
            .count()
    }

    /// Forgets the requests logged so far.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Adds an SSH key (no validation, no uniqueness check; labels `{}`); returns its id.
    /// The fingerprint is the MD5 of the decoded base64 blob (of the text if undecodable).
    pub fn add_ssh_key(&self, name: &str, public_key: &str) -> u64 {
        self.shared.lock().add_ssh_key(name, public_key)
    }

    /// `(id, name, public_key)` of every SSH key, by id.
    pub fn ssh_keys(&self) -> Vec<(u64, String, String)> {
        self.shared.lock().ssh_keys()
    }

    /// Adds a running cx23 in nbg1 (ubuntu-24.04) with IPv4 and IPv6 and no labels;
    /// returns its id. Seeded servers get addresses 198.51.100.10, .11, … and
    /// 2001:db8:f001::/64, f002, …, so they never shift the addresses of created servers.
    pub fn add_server(&self, name: &str) -> u64 {
        self.add_server_with(name, &[], false)
    }

    /// Like [`Fake::add_server`], with labels and delete (and rebuild) protection.
    /// No uniqueness check.
    pub fn add_server_with(&self, name: &str, labels: &[(&str, &str)], protected: bool) -> u64 {
        self.shared.lock().seed_server(name, labels, protected)
    }

    /// Names of the current servers (including ones being deleted), by id.
    pub fn server_names(&self) -> Vec<String> {
        let mut st = self.shared.lock();
        st.settle(SystemTime::now());
        st.server_names()
    }

    /// The server object named `name` exactly as `GET /servers/{id}` would return it.
    pub fn server_json(&self, name: &str) -> Option<serde_json::Value> {
        let mut st = self.shared.lock();
        let now = SystemTime::now();
        st.settle(now);
        st.server_by_name(name, now)
    }

    /// Adds `n` servers named `{prefix}1` … `{prefix}{n}` as [`Fake::add_server`] does,
    /// under one lock (10,000 take a few milliseconds).
    pub fn add_servers(&self, prefix: &str, n: usize) {
        let mut st = self.shared.lock();
        for i in 1..=n {
            st.seed_server(&format!("{prefix}{i}"), &[], false);
        }
    }

    /// Breaks the pagination of every list from now on (`None`: back to the real rules).
    pub fn set_page_fault(&self, fault: Option<PageFault>) {
        self.shared.lock().page_fault = fault;
    }

    /// Caps `per_page` at `n` (at least 1) on every list, on top of the API's own rules
    /// (default 25, max 50). Without a call there is no extra cap.
    pub fn set_page_size(&self, n: usize) {
        self.shared.lock().page_size = Some(n.max(1));
    }

    /// Action polls needed before an action finishes (default 2). With `n` polls needed,
    /// poll `k < n` shows progress `k*100/n`; poll `n` shows `success`/100. `0` finishes
    /// actions at the next request of any kind (the create response still says running).
    pub fn set_action_polls(&self, n: u32) {
        self.shared.lock().polls_needed = n;
    }

    /// `Some(d)`: actions finish by the clock, `d` after they became runnable (a
    /// start_server runs after its create_server, so create+start take `2d`), whatever
    /// the polls; progress is the elapsed fraction. `None`: back to counting polls.
    pub fn set_action_duration(&self, d: Option<Duration>) {
        self.shared.lock().duration = d;
    }

    /// Actions with this command (`create_server`, `start_server`, `delete_server`) end
    /// in `error` (`action_failed`/"Action failed") when they would have succeeded. A
    /// failed create leaves the server `initializing` (and fails its start_server too); a
    /// failed start leaves it `off`; a failed delete restores the previous status.
    pub fn fail_action(&self, command: &str) {
        self.shared.lock().failing.push(command.to_string());
    }

    /// `false`: servers created from now on get `public_net.ipv4 = null`. Default `true`.
    pub fn set_ipv4_enabled(&self, on: bool) {
        self.shared.lock().ipv4_enabled = on;
    }

    /// `true`: servers created from now on get loopback addresses, `127.0.0.10`, `.11`, …
    /// and the IPv6 net `::/64` (whose `::1` is loopback), so a test can answer SSH on
    /// them with a banner server (`tests/common/banner.rs`). Default `false` (documentation
    /// addresses, which pegasus never connects to).
    pub fn set_loopback_addresses(&self, on: bool) {
        self.shared.lock().loopback = on;
    }

    /// From now on, every server made (`POST /servers`) or gone (its delete action
    /// finished) is told to the returned receiver (the playground starts an SSH server
    /// for each server made). Several watchers may listen.
    pub fn watch_servers(&self) -> std::sync::mpsc::Receiver<ServerEvent> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.shared.lock().watchers.push(tx);
        rx
    }

    /// Adds a firewall (inbound TCP 22; no validation, no uniqueness check); returns its id.
    pub fn add_firewall(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.shared.lock().firewalls.add(name, labels)
    }

    /// Every firewall as `GET /firewalls/{id}` shows it, by id.
    pub fn firewalls(&self) -> Vec<serde_json::Value> {
        self.shared.lock().firewalls.all()
    }

    /// The next `POST /firewalls` for `name` loses a race: another client makes a firewall
    /// with that name just before, so the answer is 409 `uniqueness_error`.
    pub fn race_firewall(&self, name: &str) {
        self.shared.lock().firewalls.set_race(name);
    }

    /// The `user_data` the server named `name` was created with, verbatim.
    pub fn user_data(&self, name: &str) -> Option<String> {
        self.shared.lock().user_data(name)
    }

    /// Runs `hook` once, inside the fake, when the next request with `method` and a path
    /// starting with `path_prefix` arrives, before it is answered: a test's stand-in for
    /// something that happens while the program waits for that answer (a user editing a
    /// file), without any sleep.
    pub fn on_request(
        &self,
        method: &str,
        path_prefix: &str,
        hook: impl FnOnce() + Send + 'static,
    ) {
        let mut hooks = self.shared.hooks.lock().unwrap_or_else(|e| e.into_inner());
        hooks.push((method.to_string(), path_prefix.to_string(), Box::new(hook)));
    }

    /// Gives the next `times` requests with `method` whose path starts with
    /// `path_prefix` the `fault` (several injections queue up, first match first).
    pub fn inject(&self, method: &str, path_prefix: &str, fault: Fault, times: usize) {
        self.shared.lock().inject(method, path_prefix, fault, times);
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

/// The `ssh-ed25519` MD5 fingerprint (`aa:bb:…`) of a public key line as the API
/// computes it; `None` if the line is not a valid public key.
pub fn fingerprint(public_key: &str) -> Option<String> {
    util::fingerprint(public_key)
}

/// MD5 digest of `data` (the fake's own implementation, exposed for its self-test).
pub fn md5(data: &[u8]) -> [u8; 16] {
    util::md5(data)
}

/// A valid-looking `ssh-ed25519 <base64> [comment]` public key line derived from `seed`;
/// different seeds give different fingerprints. Handy for tests that need real keys.
pub fn test_public_key(seed: &str, comment: &str) -> String {
    util::ed25519_key(seed, comment)
}

// ---------------------------------------------------------------------------
// Transport

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = conn else { continue };
        let conn_shared = Arc::clone(&shared);
        let _ = thread::Builder::new()
            .name("fake-hcloud-conn".into())
            .spawn(move || serve(stream, conn_shared));
    }
}

struct RawRequest {
    method: String,
    target: String,
    version: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    chunked: bool,
    at: Instant,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn keep_alive(&self) -> bool {
        let conn = self.header("connection").unwrap_or("").to_ascii_lowercase();
        if self.version == "HTTP/1.0" {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }
}

enum ReadError {
    /// EOF, timeout or I/O error: just close.
    Closed,
    /// Unparsable request: answer 400 and close.
    Bad(&'static str),
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), ReadError> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk) {
        Ok(0) | Err(_) => Err(ReadError::Closed),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}

fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<RawRequest, ReadError> {
    let head_end = loop {
        while buf.starts_with(b"\r\n") {
            buf.drain(..2);
        }
        if let Some(p) = find(buf, b"\r\n\r\n") {
            break p;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad("request head too large"));
        }
        fill(stream, buf)?;
    };
    let at = Instant::now();
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad("malformed request line"));
    };
    let method_ok = !method.is_empty() && method.bytes().all(|c| c.is_ascii_uppercase());
    if !method_ok || !target.starts_with('/') || !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad("malformed request line"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or(ReadError::Bad("malformed header"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut req = RawRequest {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
        chunked: false,
        at,
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|te| !te.eq_ignore_ascii_case("identity"))
    {
        req.chunked = true;
        return Ok(req);
    }
    let len = match req.header("content-length") {
        None => 0,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| ReadError::Bad("invalid Content-Length"))?,
    };
    if len > MAX_BODY {
        return Err(ReadError::Bad("request body too large"));
    }
    while buf.len() < len {
        fill(stream, buf)?;
    }
    req.body = buf.drain(..len).collect();
    Ok(req)
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition Failed",
        422 => "Unprocessable Entity",
        423 => "Locked",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Frames a response with all the standard headers. Rate limit: 3600/h; `Remaining`
/// counts down from 3599 per response (wrapping before 0), `Reset` is now plus one
/// second per used request; an exhausted (429) response says 0 and now (or the reset
/// of [`Fault::RateLimited`]).
fn frame(shared: &Shared, resp: &api::Resp, close: bool) -> Vec<u8> {
    const LIMIT: u64 = 3600;
    let (n, seed) = shared.lock().tick();
    let now = util::unix(SystemTime::now());
    let (remaining, reset) = if resp.exhausted {
        (0, now.saturating_add_signed(resp.reset_in))
    } else {
        let r = LIMIT - 1 - (n - 1) % (LIMIT - 1);
        (r, now + (LIMIT - r))
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Correlation-Id: {:016x}\r\n\
         RateLimit-Limit: {LIMIT}\r\nRateLimit-Remaining: {remaining}\r\nRateLimit-Reset: {reset}\r\n",
        resp.status,
        reason(resp.status),
        resp.content_type,
        resp.body.len(),
        util::mix(seed ^ n),
    );
    if let Some(link) = resp.link.as_deref().filter(|l| !l.is_empty()) {
        head.push_str(&format!("Link: {link}\r\n"));
    }
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(&resp.body);
    out
}

fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let raw = match read_request(&mut stream, &mut buf) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(msg)) => {
                let resp = api::error(400, "json_error", msg, serde_json::Value::Null);
                let _ = stream.write_all(&frame(&shared, &resp, true));
                linger_close(&mut stream);
                return;
            }
        };
        let (path, query) = raw.target.split_once('?').unwrap_or((&raw.target, ""));
        let req = Request {
            method: raw.method.clone(),
            path: path.to_string(),
            query: query.to_string(),
            body: String::from_utf8_lossy(&raw.body).into_owned(),
            authorization: raw.header("authorization").map(str::to_string),
            at: raw.at,
        };
        let fault = shared.lock().record(req.clone());
        let hook = {
            let mut hooks = shared.hooks.lock().unwrap_or_else(|e| e.into_inner());
            let at = hooks.iter().position(|(m, prefix, _)| {
                m.eq_ignore_ascii_case(&req.method) && req.path.starts_with(prefix.as_str())
            });
            at.map(|i| hooks.remove(i).2)
        };
        if let Some(hook) = hook {
            hook();
        }
        let close = !raw.keep_alive() || raw.chunked;
        let resp = if raw.chunked {
            api::error(
                400,
                "json_error",
                "chunked request bodies are not supported",
                serde_json::Value::Null,
            )
        } else {
            match fault {
                Some(Fault::Drop) => {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                Some(
                    f @ (Fault::Status(_)
                    | Fault::BadGateway
                    | Fault::RateLimited(_)
                    | Fault::Raw(..)),
                ) => api::fault_response(&f),
                Some(Fault::Delay(d)) => {
                    thread::sleep(d);
                    apply(&shared, &req, &raw.body)
                }
                Some(Fault::ApplyThenDrop) => {
                    apply(&shared, &req, &raw.body);
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                Some(Fault::Truncate) => {
                    let resp = apply(&shared, &req, &raw.body);
                    let full = frame(&shared, &resp, true);
                    let cut = full.len() - resp.body.len() / 2;
                    let _ = stream.write_all(&full[..cut]);
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
                Some(Fault::ApplyThenHtml(status)) => {
                    apply(&shared, &req, &raw.body);
                    let mut resp = api::fault_response(&Fault::BadGateway);
                    resp.status = status;
                    resp.body = format!("<html>{status} {}</html>", reason(status)).into_bytes();
                    resp
                }
                Some(Fault::Garble) => {
                    let mut resp = apply(&shared, &req, &raw.body);
                    let half = resp.body.len() / 2;
                    resp.body.truncate(half);
                    resp
                }
                Some(Fault::Substitute(from, to)) => {
                    let mut resp = apply(&shared, &req, &raw.body);
                    let text = String::from_utf8_lossy(&resp.body).replace(&from, &to);
                    resp.body = text.into_bytes();
                    resp
                }
                None => apply(&shared, &req, &raw.body),
            }
        };
        if stream.write_all(&frame(&shared, &resp, close)).is_err() {
            return;
        }
        if close {
            linger_close(&mut stream);
            return;
        }
    }
}

/// Closes after a final response without losing it: send FIN, then swallow whatever the
/// client still sends (an unread receive buffer would turn the close into a reset), for
/// at most ~200 ms or 1 MiB.
fn linger_close(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut total = 0;
    while let Ok(n) = stream.read(&mut sink) {
        total += n;
        if n == 0 || total > 1024 * 1024 {
            break;
        }
    }
}

fn apply(shared: &Shared, req: &Request, body: &[u8]) -> api::Resp {
    shared.lock().handle(
        &req.method,
        &req.path,
        &req.query,
        body,
        req.authorization.as_deref(),
        SystemTime::now(),
    )
}
