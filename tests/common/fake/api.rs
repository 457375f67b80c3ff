//! State and request handling of the fake Hetzner Cloud API: routing, auth, the
//! resources (servers, actions, SSH keys, catalogue), pagination, filters, errors.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};

use super::firewalls::Firewalls;
use super::fixtures::{
    IMAGES, LOCATIONS, SERVER_TYPES, image_json, included_traffic, location_json, pricing_json,
    server_type_json,
};
use super::util::{self, Selector, rfc3339};
use super::{Fault, PageFault, READONLY_TOKEN, Request, ServerEvent, TOKEN};

#[path = "zones.rs"]
mod zones;

/// A response ready to be framed by the transport.
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` value.
    pub content_type: &'static str,
    /// Body bytes (empty for 204).
    pub body: Vec<u8>,
    /// `Link` header value, for paginated lists.
    pub link: Option<String>,
    /// Rate limit exhausted: `RateLimit-Remaining: 0`, `RateLimit-Reset: now` plus
    /// `reset_in` seconds.
    pub exhausted: bool,
    pub reset_in: i64,
}

impl Resp {
    /// A JSON response.
    pub fn json(status: u16, value: &Value) -> Resp {
        Resp {
            status,
            content_type: "application/json",
            body: serde_json::to_vec(value).unwrap_or_default(),
            link: None,
            exhausted: false,
            reset_in: 0,
        }
    }
}

type R = Result<Resp, Resp>;

/// The Hetzner error envelope `{"error": {code, message, details}}`.
pub fn error(status: u16, code: &str, message: &str, details: Value) -> Resp {
    Resp::json(
        status,
        &json!({"error": {"code": code, "message": message, "details": details}}),
    )
}

/// 422 `invalid_input` with `details.fields`, one message per field.
pub(super) fn invalid_fields(fields: &[(&str, &str)]) -> Resp {
    let names: Vec<&str> = fields.iter().map(|f| f.0).collect();
    let message = match names.as_slice() {
        [one] => format!("invalid input in field '{one}'"),
        many => format!("invalid input in fields '{}'", many.join("', '")),
    };
    let details: Vec<Value> = fields
        .iter()
        .map(|(name, msg)| json!({"name": name, "messages": [msg]}))
        .collect();
    error(422, "invalid_input", &message, json!({ "fields": details }))
}

/// 422 `invalid_input` whose top-level message is `message`, attributed to `field`.
fn invalid_msg(message: &str, field: &str) -> Resp {
    error(
        422,
        "invalid_input",
        message,
        json!({"fields": [{"name": field, "messages": [message]}]}),
    )
}

pub(super) fn not_found(what: &str) -> Resp {
    error(404, "not_found", &format!("{what} not found"), Value::Null)
}

fn json_error(message: &str) -> Resp {
    error(400, "json_error", message, Value::Null)
}

/// The response for an injected [`Fault::Status`], [`Fault::BadGateway`],
/// [`Fault::RateLimited`] or [`Fault::Raw`] (other
/// faults answer normally and get a 500 here, which the transport never asks for).
pub fn fault_response(fault: &Fault) -> Resp {
    let code = match fault {
        Fault::Status(code) => *code,
        Fault::Raw(status, body) => {
            let mut r = Resp::json(*status, &Value::Null);
            if !body.starts_with('{') {
                r.content_type = "text/html";
            }
            r.body = body.clone().into_bytes();
            return r;
        }
        Fault::RateLimited(reset_in) => {
            let mut r = fault_response(&Fault::Status(429));
            r.reset_in = *reset_in;
            return r;
        }
        Fault::BadGateway => {
            let mut r = Resp::json(502, &Value::Null);
            r.content_type = "text/html";
            r.body = b"<html>502 Bad Gateway</html>".to_vec();
            return r;
        }
        _ => 500,
    };
    let (name, message) = match code {
        400 => ("json_error", "invalid JSON input"),
        401 => ("unauthorized", "unable to authenticate"),
        403 => ("forbidden", "insufficient permissions"),
        404 => ("not_found", "not found"),
        405 => ("method_not_allowed", "method not allowed"),
        409 => (
            "conflict",
            "resource has changed during the request, please retry",
        ),
        410 => ("deprecated_api_endpoint", "API functionality was removed"),
        412 => ("resource_unavailable", "error during placement"),
        422 => ("invalid_input", "invalid input"),
        423 => ("locked", "resource is locked by another action"),
        429 => (
            "rate_limit_exceeded",
            "limit of 3600 requests per hour reached",
        ),
        500 => ("server_error", "internal server error"),
        502 => ("bad_gateway", "bad gateway"),
        503 => ("unavailable", "service unavailable"),
        504 => ("timeout", "request timed out"),
        _ => ("unknown_error", "unknown error"),
    };
    let mut r = error(code, name, message, Value::Null);
    r.exhausted = code == 429;
    r
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Status {
    Running,
    Success,
    Error,
}

struct Action {
    id: u64,
    command: &'static str,
    server: u64,
    started: SystemTime,
    finished: Option<SystemTime>,
    status: Status,
    polls: u32,
    /// Must wait for this action (start_server after create_server).
    after: Option<u64>,
    /// Final progress once finished.
    progress: u32,
}

enum Ready {
    Waiting,
    Since(SystemTime),
    DepFailed,
}

/// A server of the fake project.
pub struct Server {
    id: u64,
    name: String,
    status: &'static str,
    before_delete: &'static str,
    created: SystemTime,
    type_idx: usize,
    loc_idx: usize,
    image_idx: usize,
    ipv4: Option<(u64, String)>,
    ipv6: Option<(u64, String)>,
    labels: Map<String, Value>,
    protected: bool,
    /// Firewall ids given at creation (`public_net.firewalls`).
    firewalls: Vec<u64>,
    /// `user_data` of the create, verbatim (the API never shows it; tests read it).
    pub user_data: Option<String>,
}

struct SshKey {
    id: u64,
    name: String,
    fingerprint: String,
    public_key: String,
    labels: Map<String, Value>,
    created: SystemTime,
}

struct Injection {
    method: String,
    prefix: String,
    fault: Fault,
    remaining: usize,
}

/// The page a list request asks for.
struct Window {
    page: usize,
    per_page: usize,
    total: usize,
    /// Items before the page.
    skip: usize,
}

/// Parsed query parameters.
struct Query(Vec<(String, String)>);

impl Query {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

enum Route<'a> {
    Servers,
    Server(&'a str),
    ServerActions(&'a str),
    ServerAction(Option<&'a str>, &'a str),
    Actions,
    Action(&'a str),
    SshKeys,
    SshKey(&'a str),
    ServerTypes,
    ServerType(&'a str),
    Locations,
    Location(&'a str),
    Images,
    Image(&'a str),
    Pricing,
    Datacenters,
    Firewalls,
    Firewall(&'a str),
}

/// The whole mutable state of one fake, behind one mutex.
pub struct State {
    /// Every request received, in order.
    pub requests: Vec<Request>,
    /// Extra cap on `per_page` (`set_page_size`).
    pub page_size: Option<usize>,
    /// Broken pagination (`set_page_fault`).
    pub page_fault: Option<PageFault>,
    /// Polls an action needs before it finishes (`set_action_polls`).
    pub polls_needed: u32,
    /// Finish actions by the clock instead (`set_action_duration`).
    pub duration: Option<Duration>,
    /// Commands whose actions end in `error` (`fail_action`).
    pub failing: Vec<String>,
    /// Whether created servers get an IPv4 (`set_ipv4_enabled`).
    pub ipv4_enabled: bool,
    /// Created servers get 127.0.0.N and `::/64` instead of documentation addresses
    /// (`set_loopback_addresses`), for tests that run an SSH banner server.
    pub loopback: bool,
    /// The firewalls (`fake/firewalls.rs`).
    pub firewalls: Firewalls,
    /// Who is told when a server is made or gone (`watch_servers`).
    pub watchers: Vec<std::sync::mpsc::Sender<ServerEvent>>,
    injections: Vec<Injection>,
    zones: zones::Zones,
    servers: BTreeMap<u64, Server>,
    keys: BTreeMap<u64, SshKey>,
    actions: BTreeMap<u64, Action>,
    next_server: u64,
    next_key: u64,
    next_action: u64,
    next_ip_id: u64,
    created_count: u64,
    seeded_count: u64,
    base: String,
    served: u64,
    seed: u64,
}

fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// An ID-or-name field value as text (`42`, `"42"`, `"nbg1"`); `None` for other types.
fn id_or_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

fn bool_field(
    obj: &Map<String, Value>,
    key: &str,
    default: bool,
    field: &str,
) -> Result<bool, Resp> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(invalid_fields(&[(field, "Not a valid boolean.")])),
    }
}

pub(super) fn parse_labels(v: Option<&Value>) -> Result<Map<String, Value>, Resp> {
    match v {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                let Some(s) = v.as_str() else {
                    return Err(invalid_fields(&[(
                        "labels",
                        "label values must be strings",
                    )]));
                };
                if !util::valid_label_key(k) {
                    return Err(invalid_fields(&[("labels", "invalid label key")]));
                }
                if !util::valid_label_value(s) {
                    return Err(invalid_fields(&[("labels", "invalid label value")]));
                }
            }
            Ok(m.clone())
        }
        Some(_) => Err(invalid_fields(&[("labels", "Not a valid mapping type.")])),
    }
}

pub(super) fn parse_body(body: &[u8]) -> Result<Map<String, Value>, Resp> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(json_error("request body must be a JSON object")),
        Err(e) => Err(json_error(&format!("invalid JSON input: {e}"))),
    }
}

fn missing(obj: &Map<String, Value>, fields: &[&'static str]) -> Result<(), Resp> {
    let absent: Vec<(&str, &str)> = fields
        .iter()
        .filter(|f| obj.get(**f).is_none_or(Value::is_null))
        .map(|f| (*f, "Missing data for required field."))
        .collect();
    if absent.is_empty() {
        Ok(())
    } else {
        Err(invalid_fields(&absent))
    }
}

fn selector(q: &Query) -> Result<Option<Vec<Selector>>, Resp> {
    match q.get("label_selector") {
        None | Some("") => Ok(None),
        Some(s) => util::parse_selector(s)
            .map(Some)
            .ok_or_else(|| invalid_fields(&[("label_selector", "invalid label selector")])),
    }
}

fn sort_items(items: &mut [Value], q: &Query, allowed: &[&str]) -> Result<(), Resp> {
    for s in q.all("sort").iter().rev() {
        let (field, dir) = s.split_once(':').unwrap_or((s, "asc"));
        if !allowed.contains(&field) || !matches!(dir, "asc" | "desc") {
            return Err(invalid_fields(&[("sort", "invalid sort parameter")]));
        }
        items.sort_by(|a, b| {
            let o = util::cmp_json(&a[field], &b[field]);
            if dir == "desc" { o.reverse() } else { o }
        });
    }
    Ok(())
}

fn ptr_name(ip: &str) -> String {
    let rev: Vec<&str> = ip.split('.').rev().collect();
    format!("static.{}.clients.your-server.de", rev.join("."))
}

impl State {
    /// A fresh state; `base` is `http://127.0.0.1:PORT` (used for `Link` headers).
    pub fn new(base: String) -> State {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        State {
            requests: Vec::new(),
            page_size: None,
            page_fault: None,
            polls_needed: 2,
            duration: None,
            failing: Vec::new(),
            ipv4_enabled: true,
            loopback: false,
            firewalls: Firewalls::new(),
            watchers: Vec::new(),
            injections: Vec::new(),
            zones: zones::Zones::default(),
            servers: BTreeMap::new(),
            keys: BTreeMap::new(),
            actions: BTreeMap::new(),
            next_server: 1001,
            next_key: 501,
            next_action: 5001,
            next_ip_id: 7001,
            created_count: 0,
            seeded_count: 0,
            base,
            served: 0,
            seed: util::mix(nanos),
        }
    }

    /// Counts one response; returns `(sequence number, seed)` for the rate-limit and
    /// correlation-id headers.
    pub fn tick(&mut self) -> (u64, u64) {
        self.served += 1;
        (self.served, self.seed)
    }

    /// Logs a request and takes the first queued fault that matches it, if any.
    pub fn record(&mut self, req: Request) -> Option<Fault> {
        let pos = self.injections.iter().position(|i| {
            i.method.eq_ignore_ascii_case(&req.method) && req.path.starts_with(&i.prefix)
        });
        self.requests.push(req);
        let pos = pos?;
        let inj = &mut self.injections[pos];
        inj.remaining -= 1;
        let fault = inj.fault.clone();
        if inj.remaining == 0 {
            self.injections.remove(pos);
        }
        Some(fault)
    }

    /// Queues `fault` for the next `times` requests matching `method` and `prefix`.
    pub fn inject(&mut self, method: &str, prefix: &str, fault: Fault, times: usize) {
        if times > 0 {
            self.injections.push(Injection {
                method: method.to_string(),
                prefix: prefix.to_string(),
                fault,
                remaining: times,
            });
        }
    }

    /// Tells every watcher (those that went away are forgotten).
    fn tell(&mut self, event: ServerEvent) {
        self.watchers.retain(|w| w.send(event.clone()).is_ok());
    }

    // -- actions -----------------------------------------------------------

    fn new_action(
        &mut self,
        command: &'static str,
        server: u64,
        after: Option<u64>,
        now: SystemTime,
    ) -> u64 {
        let id = self.next_action;
        self.next_action += 1;
        self.actions.insert(
            id,
            Action {
                id,
                command,
                server,
                started: now,
                finished: None,
                status: Status::Running,
                polls: 0,
                after,
                progress: 0,
            },
        );
        id
    }

    fn readiness(&self, a: &Action) -> Ready {
        match a.after.and_then(|d| self.actions.get(&d)) {
            None => Ready::Since(a.started),
            Some(dep) => match dep.status {
                Status::Running => Ready::Waiting,
                Status::Success => Ready::Since(dep.finished.unwrap_or(dep.started)),
                Status::Error => Ready::DepFailed,
            },
        }
    }

    fn progress(&self, a: &Action, now: SystemTime) -> u32 {
        if a.status != Status::Running {
            return a.progress;
        }
        let Ready::Since(since) = self.readiness(a) else {
            return 0;
        };
        let pct = match self.duration {
            Some(d) => {
                let elapsed = now.duration_since(since).unwrap_or_default().as_micros();
                elapsed * 100 / d.as_micros().max(1)
            }
            None => u128::from(a.polls) * 100 / u128::from(self.polls_needed.max(1)),
        };
        pct.min(99) as u32
    }

    /// Finishes every action whose time (clock mode) or poll count has come.
    pub fn settle(&mut self, now: SystemTime) {
        let running: Vec<u64> = self
            .actions
            .values()
            .filter(|a| a.status == Status::Running)
            .map(|a| a.id)
            .collect();
        for id in running {
            self.try_complete(id, now);
        }
    }

    fn try_complete(&mut self, id: u64, now: SystemTime) {
        let Some(a) = self
            .actions
            .get(&id)
            .filter(|a| a.status == Status::Running)
        else {
            return;
        };
        match self.readiness(a) {
            Ready::Waiting => {}
            Ready::DepFailed => self.finish(id, now, false, false),
            Ready::Since(since) => {
                let at = match self.duration {
                    Some(d) => Some(since + d).filter(|end| now >= *end),
                    None => (a.polls >= self.polls_needed).then_some(now),
                };
                if let Some(at) = at {
                    let ok = !self.failing.iter().any(|c| c == a.command);
                    self.finish(id, at, ok, true);
                }
            }
        }
    }

    /// Ends an action; `effects` applies its outcome to the server (not for a start that
    /// fails only because its create failed: the server stays `initializing`).
    fn finish(&mut self, id: u64, at: SystemTime, ok: bool, effects: bool) {
        let Some(a) = self.actions.get(&id) else {
            return;
        };
        let progress = if ok { 100 } else { self.progress(a, at) };
        let (command, server) = (a.command, a.server);
        let has_start = self
            .actions
            .values()
            .any(|x| x.after == Some(id) && x.command == "start_server");
        if let Some(a) = self.actions.get_mut(&id) {
            a.status = if ok { Status::Success } else { Status::Error };
            a.finished = Some(at);
            a.progress = progress;
        }
        if !effects {
            return;
        }
        let Some(s) = self.servers.get_mut(&server) else {
            return;
        };
        let new_status = match (command, ok) {
            ("create_server", true) if has_start => "starting",
            ("create_server", true) => "off",
            ("start_server", true) => "running",
            ("start_server", false) => "off",
            ("delete_server", true) => {
                if let Some(gone) = self.servers.remove(&server) {
                    self.tell(ServerEvent::Deleted {
                        id: gone.id,
                        name: gone.name,
                    });
                }
                self.firewalls.forget_server(server);
                return;
            }
            ("delete_server", false) => {
                s.status = s.before_delete;
                return;
            }
            _ => return,
        };
        if s.status == "deleting" {
            s.before_delete = new_status;
        } else {
            s.status = new_status;
        }
    }

    /// One poll of an action: counts if the action is running and may progress (a
    /// start_server whose create_server is still running ignores polls), then finishes it
    /// when due.
    fn poll(&mut self, id: u64, now: SystemTime) {
        let ready = self.actions.get(&id).is_some_and(|a| {
            a.status == Status::Running && matches!(self.readiness(a), Ready::Since(_))
        });
        if ready && let Some(a) = self.actions.get_mut(&id) {
            a.polls += 1;
        }
        self.try_complete(id, now);
    }

    fn action_json(&self, id: u64, now: SystemTime) -> Value {
        let Some(a) = self.actions.get(&id) else {
            return Value::Null;
        };
        let status = match a.status {
            Status::Running => "running",
            Status::Success => "success",
            Status::Error => "error",
        };
        json!({
            "id": a.id, "command": a.command, "status": status,
            "progress": self.progress(a, now), "started": rfc3339(a.started),
            "finished": a.finished.map(rfc3339),
            "resources": [{"id": a.server, "type": zones::resource_type(a.command)}],
            "error": (a.status == Status::Error)
                .then(|| json!({"code": "action_failed", "message": "Action failed"})),
        })
    }

    // -- servers -----------------------------------------------------------

    fn server_json(&self, s: &Server, now: SystemTime) -> Value {
        let t = &SERVER_TYPES[s.type_idx];
        let l = &LOCATIONS[s.loc_idx];
        json!({
            "id": s.id, "name": s.name, "status": s.status, "created": rfc3339(s.created),
            "public_net": {
                "ipv4": s.ipv4.as_ref().map(|(id, ip)| json!({
                    "id": id, "ip": ip, "blocked": false, "dns_ptr": ptr_name(ip)})),
                "ipv6": s.ipv6.as_ref().map(|(id, net)| json!({
                    "id": id, "ip": net, "blocked": false, "dns_ptr": []})),
                "floating_ips": [],
                "firewalls": s.firewalls.iter()
                    .map(|id| json!({"id": id, "status": "applied"}))
                    .collect::<Vec<_>>(),
            },
            "private_net": [],
            "server_type": server_type_json(t, now),
            "location": location_json(l),
            "image": image_json(&IMAGES[s.image_idx]),
            "iso": null, "rescue_enabled": false, "locked": false, "backup_window": null,
            "outgoing_traffic": 0, "ingoing_traffic": 0,
            "included_traffic": included_traffic(l.name),
            "protection": {"delete": s.protected, "rebuild": s.protected},
            "labels": s.labels, "volumes": [], "load_balancers": [],
            "primary_disk_size": t.disk, "placement_group": null,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_server(
        &mut self,
        name: &str,
        status: &'static str,
        (type_idx, loc_idx, image_idx): (usize, usize, usize),
        ips: (Option<String>, Option<String>),
        labels: Map<String, Value>,
        protected: bool,
        now: SystemTime,
    ) -> u64 {
        let id = self.next_server;
        self.next_server += 1;
        let mut ip = |addr: Option<String>| {
            addr.map(|a| {
                self.next_ip_id += 1;
                (self.next_ip_id - 1, a)
            })
        };
        let (ipv4, ipv6) = (ip(ips.0), ip(ips.1));
        self.servers.insert(
            id,
            Server {
                id,
                name: name.to_string(),
                status,
                before_delete: status,
                created: now,
                type_idx,
                loc_idx,
                image_idx,
                ipv4,
                ipv6,
                labels,
                protected,
                firewalls: Vec::new(),
                user_data: None,
            },
        );
        id
    }

    /// Adds a running cx23 in nbg1 (ubuntu-24.04) with IPv4 from 198.51.100.0/24 and IPv6
    /// from 2001:db8:f000::/36, bypassing validation.
    pub fn seed_server(&mut self, name: &str, labels: &[(&str, &str)], protected: bool) -> u64 {
        self.seeded_count += 1;
        let k = self.seeded_count - 1;
        let v4 = format!("198.51.100.{}", 10 + k % 245);
        let v6 = format!("2001:db8:{:x}::/64", 0xf001 + k % 0xffe);
        let labels: Map<String, Value> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let idx = (
            SERVER_TYPES
                .iter()
                .position(|t| t.name == "cx23")
                .unwrap_or(0),
            1,
            IMAGES.iter().position(|i| i.id == 161547269).unwrap_or(0),
        );
        let now = SystemTime::now();
        self.insert_server(
            name,
            "running",
            idx,
            (Some(v4), Some(v6)),
            labels,
            protected,
            now,
        )
    }

    /// Names of the current servers, by id.
    pub fn server_names(&self) -> Vec<String> {
        self.servers.values().map(|s| s.name.clone()).collect()
    }

    /// The `user_data` the server named `name` was created with.
    pub fn user_data(&self, name: &str) -> Option<String> {
        let s = self.servers.values().find(|s| s.name == name)?;
        s.user_data.clone()
    }

    /// The API object of the server named `name`.
    pub fn server_by_name(&self, name: &str, now: SystemTime) -> Option<Value> {
        let s = self.servers.values().find(|s| s.name == name)?;
        Some(self.server_json(s, now))
    }

    /// Adds an SSH key without validation (the fingerprint is computed leniently).
    pub fn add_ssh_key(&mut self, name: &str, public_key: &str) -> u64 {
        let id = self.next_key;
        self.next_key += 1;
        let key = SshKey {
            id,
            name: name.to_string(),
            fingerprint: util::lenient_fingerprint(public_key),
            public_key: public_key.trim().to_string(),
            labels: Map::new(),
            created: SystemTime::now(),
        };
        self.keys.insert(id, key);
        id
    }

    /// `(id, name, public_key)` of every SSH key, by id.
    pub fn ssh_keys(&self) -> Vec<(u64, String, String)> {
        self.keys
            .values()
            .map(|k| (k.id, k.name.clone(), k.public_key.clone()))
            .collect()
    }

    // -- dispatch ----------------------------------------------------------

    /// Answers one request (already logged) at time `now`.
    pub fn handle(
        &mut self,
        method: &str,
        path: &str,
        raw_query: &str,
        body: &[u8],
        authorization: Option<&str>,
        now: SystemTime,
    ) -> Resp {
        self.settle(now);
        let Some(rest) = path.strip_prefix("/v1/") else {
            return not_found("resource");
        };
        let read_write = match authorization.and_then(|h| h.trim().split_once(' ')) {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => match token.trim() {
                t if t == TOKEN => Some(true),
                t if t == READONLY_TOKEN => Some(false),
                _ => None,
            },
            _ => None,
        };
        match read_write {
            None => return error(401, "unauthorized", "unable to authenticate", Value::Null),
            Some(false) if method != "GET" => {
                return error(401, "token_readonly", "The token is read-only", Value::Null);
            }
            _ => {}
        }
        let q = Query(util::parse_query(raw_query));
        let segments: Vec<&str> = rest.split('/').collect();
        if let ["zones", zone_path @ ..] = segments.as_slice() {
            return self
                .handle_zones(method, zone_path, &q, raw_query, body, now)
                .unwrap_or_else(|e| e);
        }
        let route = match segments.as_slice() {
            ["servers"] => Route::Servers,
            ["servers", "actions", a] => Route::ServerAction(None, a),
            ["servers", s] => Route::Server(s),
            ["servers", s, "actions"] => Route::ServerActions(s),
            ["servers", s, "actions", a] => Route::ServerAction(Some(s), a),
            ["actions"] => Route::Actions,
            ["actions", a] => Route::Action(a),
            ["ssh_keys"] => Route::SshKeys,
            ["ssh_keys", k] => Route::SshKey(k),
            ["server_types"] => Route::ServerTypes,
            ["server_types", t] => Route::ServerType(t),
            ["locations"] => Route::Locations,
            ["locations", l] => Route::Location(l),
            ["images"] => Route::Images,
            ["images", i] => Route::Image(i),
            ["pricing"] => Route::Pricing,
            ["datacenters"] | ["datacenters", _] => Route::Datacenters,
            ["firewalls"] => Route::Firewalls,
            ["firewalls", f] => Route::Firewall(f),
            _ => return not_found("resource"),
        };
        let result = match (method, route) {
            ("GET", Route::Servers) => self.list_servers(&q, raw_query, now),
            ("POST", Route::Servers) => self.create_server(body, now),
            ("GET", Route::Server(id)) => self.get_server(id, now),
            ("DELETE", Route::Server(id)) => self.delete_server(id, now),
            ("GET", Route::ServerActions(id)) => self.server_actions(id, &q, raw_query, now),
            ("GET", Route::ServerAction(server, id)) => self.get_action(server, id, now),
            ("GET", Route::Actions) => self.actions_by_id(&q, raw_query, now),
            ("GET", Route::Action(id)) => self.get_action(None, id, now),
            ("GET", Route::SshKeys) => self.list_keys(&q, raw_query),
            ("POST", Route::SshKeys) => self.create_key(body, now),
            ("GET", Route::SshKey(id)) => self.get_key(id),
            ("DELETE", Route::SshKey(id)) => self.delete_key(id),
            ("GET", Route::ServerTypes) => self.list_server_types(&q, raw_query, now),
            ("GET", Route::ServerType(id)) => Self::get_server_type(id, now),
            ("GET", Route::Locations) => self.list_locations(&q, raw_query),
            ("GET", Route::Location(id)) => Self::get_location(id),
            ("GET", Route::Images) => self.list_images(&q, raw_query),
            ("GET", Route::Image(id)) => Self::get_image(id),
            ("GET", Route::Pricing) => Ok(Resp::json(200, &pricing_json())),
            ("GET", Route::Firewalls) => self.list_firewalls(&q, raw_query),
            ("POST", Route::Firewalls) => self.firewalls.create(body),
            ("GET", Route::Firewall(id)) => self.firewalls.get(id),
            (_, Route::Datacenters) => Err(error(
                410,
                "deprecated_api_endpoint",
                "API functionality was removed",
                json!({"announcement": "https://docs.hetzner.cloud/changelog#2026-06-02-datacenters-deprecated"}),
            )),
            _ => Err(error(
                405,
                "method_not_allowed",
                "method not allowed",
                Value::Null,
            )),
        };
        result.unwrap_or_else(|e| e)
    }

    /// `{key: [page items], meta: {pagination}}` plus a `Link` header.
    fn paginate(&self, items: Vec<Value>, key: &str, path: &str, q: &Query, raw_query: &str) -> R {
        let w = self.window(q, items.len())?;
        let slice: Vec<Value> = items.into_iter().skip(w.skip).take(w.per_page).collect();
        self.page(slice, key, path, raw_query, &w)
    }

    /// Which page of `total` items `q` asks for (`page`, `per_page`: default 25, max 50).
    fn window(&self, q: &Query, total: usize) -> Result<Window, Resp> {
        let number = |name: &'static str, default: usize| match q.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(n),
                _ => Err(invalid_fields(&[(
                    name,
                    "Must be greater than or equal to 1.",
                )])),
            },
        };
        let page = number("page", 1)?;
        let requested = number("per_page", 25)?.min(50);
        let per_page = match self.page_fault {
            Some(PageFault::OnePage) => total.max(1),
            _ => self
                .page_size
                .map_or(requested, |cap| requested.min(cap.max(1))),
        };
        let skip = match self.page_fault {
            Some(PageFault::Repeat) => 0,
            _ => (page - 1).saturating_mul(per_page),
        };
        Ok(Window {
            page,
            per_page,
            total,
            skip,
        })
    }

    /// The answer for one page whose items are `slice`.
    fn page(&self, slice: Vec<Value>, key: &str, path: &str, raw_query: &str, w: &Window) -> R {
        let (page, per_page) = (w.page, w.per_page);
        let mut total = w.total;
        let mut last = total.div_ceil(per_page).max(1);
        let mut next = (page < last).then(|| page + 1);
        match self.page_fault {
            None | Some(PageFault::OnePage) => {}
            Some(PageFault::NextPastLast) => next = Some(page + 1),
            Some(PageFault::Endless) => {
                last = page + 1;
                next = Some(page + 1);
            }
            Some(PageFault::Repeat) => {
                last = page + 1;
                next = Some(page + 1);
                total = last * per_page;
            }
        }
        let previous = (page > 1).then(|| page - 1);
        let kept: Vec<&str> = raw_query
            .split('&')
            .filter(|p| {
                let k = p.split_once('=').map_or(*p, |(k, _)| k);
                !p.is_empty() && k != "page" && k != "per_page"
            })
            .collect();
        let prefix: String = kept.iter().map(|p| format!("{p}&")).collect();
        let link: Vec<String> = [("prev", previous), ("next", next), ("last", Some(last))]
            .into_iter()
            .filter_map(|(rel, p)| {
                let p = p?;
                Some(format!(
                    "<{}{path}?{prefix}page={p}&per_page={per_page}>; rel=\"{rel}\"",
                    self.base
                ))
            })
            .collect();
        let mut body = Map::new();
        body.insert(key.to_string(), Value::Array(slice));
        body.insert(
            "meta".into(),
            json!({"pagination": {
                "page": page, "per_page": per_page, "previous_page": previous,
                "next_page": next, "last_page": last, "total_entries": total,
            }}),
        );
        let mut resp = Resp::json(200, &Value::Object(body));
        resp.link = Some(link.join(", "));
        Ok(resp)
    }

    // -- server handlers ---------------------------------------------------

    fn list_servers(&self, q: &Query, raw: &str, now: SystemTime) -> R {
        const STATUSES: [&str; 9] = [
            "initializing",
            "starting",
            "running",
            "stopping",
            "off",
            "deleting",
            "migrating",
            "rebuilding",
            "unknown",
        ];
        let sel = selector(q)?;
        let statuses = q.all("status");
        if statuses.iter().any(|s| !STATUSES.contains(s)) {
            return Err(invalid_fields(&[("status", "invalid status")]));
        }
        let name = q.get("name");
        let mut found: Vec<&Server> = self
            .servers
            .values()
            .filter(|s| name.is_none_or(|n| s.name == n))
            .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
            .filter(|s| {
                sel.as_ref()
                    .is_none_or(|t| util::selector_matches(t, &s.labels))
            })
            .collect();
        // Sorted and cut on the servers themselves, so only one page is rendered as
        // JSON (a list of 10,000 servers stays quick to page through).
        for s in q.all("sort").iter().rev() {
            let (field, dir) = s.split_once(':').unwrap_or((s, "asc"));
            if !matches!(field, "id" | "name" | "created") || !matches!(dir, "asc" | "desc") {
                return Err(invalid_fields(&[("sort", "invalid sort parameter")]));
            }
            found.sort_by(|a, b| {
                let o = match field {
                    "id" => a.id.cmp(&b.id),
                    "name" => a.name.cmp(&b.name),
                    _ => a.created.cmp(&b.created),
                };
                if dir == "desc" { o.reverse() } else { o }
            });
        }
        let w = self.window(q, found.len())?;
        let slice: Vec<Value> = found
            .iter()
            .skip(w.skip)
            .take(w.per_page)
            .map(|s| self.server_json(s, now))
            .collect();
        self.page(slice, "servers", "/v1/servers", raw, &w)
    }

    fn list_firewalls(&self, q: &Query, raw: &str) -> R {
        let sel = selector(q)?;
        let items = self.firewalls.list(q.get("name"), sel.as_deref());
        self.paginate(items, "firewalls", "/v1/firewalls", q, raw)
    }

    fn find_server(&self, id: &str) -> Result<&Server, Resp> {
        parse_id(id)
            .and_then(|id| self.servers.get(&id))
            .ok_or_else(|| not_found("server"))
    }

    /// `GET /servers/{id}` also counts as one poll of each running action of the server,
    /// so a client that waits by watching the server's status gets there too.
    fn get_server(&mut self, id: &str, now: SystemTime) -> R {
        let sid = self.find_server(id)?.id;
        let running: Vec<u64> = self
            .actions
            .values()
            .filter(|a| a.server == sid && a.status == Status::Running)
            .map(|a| a.id)
            .collect();
        for aid in running {
            self.poll(aid, now);
        }
        let s = self.find_server(id)?;
        Ok(Resp::json(
            200,
            &json!({"server": self.server_json(s, now)}),
        ))
    }

    fn delete_server(&mut self, id: &str, now: SystemTime) -> R {
        let s = self.find_server(id)?;
        let sid = s.id;
        if s.protected {
            return Err(error(
                423,
                "protected",
                "server is delete protected",
                Value::Null,
            ));
        }
        let pending = self
            .actions
            .values()
            .find(|a| {
                a.server == sid && a.command == "delete_server" && a.status == Status::Running
            })
            .map(|a| a.id);
        let aid = match pending {
            Some(aid) => aid,
            None => {
                if let Some(s) = self.servers.get_mut(&sid) {
                    s.before_delete = s.status;
                    s.status = "deleting";
                }
                self.new_action("delete_server", sid, None, now)
            }
        };
        Ok(Resp::json(
            200,
            &json!({"action": self.action_json(aid, now)}),
        ))
    }

    fn create_server(&mut self, body: &[u8], now: SystemTime) -> R {
        let obj = parse_body(body)?;
        missing(&obj, &["name", "server_type", "image"])?;
        let name = obj["name"]
            .as_str()
            .ok_or_else(|| invalid_fields(&[("name", "Not a valid string.")]))?;
        if !util::valid_hostname(name) {
            return Err(invalid_fields(&[(
                "name",
                "Name must be a valid hostname.",
            )]));
        }
        let labels = parse_labels(obj.get("labels"))?;
        match obj.get("user_data") {
            None | Some(Value::Null) => {}
            Some(Value::String(u)) if u.len() <= 32 * 1024 => {}
            Some(Value::String(_)) => {
                return Err(invalid_fields(&[(
                    "user_data",
                    "Length must be between 0 and 32768.",
                )]));
            }
            Some(_) => return Err(invalid_fields(&[("user_data", "Not a valid string.")])),
        }
        let user_data = obj
            .get("user_data")
            .and_then(Value::as_str)
            .map(str::to_string);
        let firewall_ids = self.firewalls.parse_server_field(obj.get("firewalls"))?;
        let start = bool_field(&obj, "start_after_create", true, "start_after_create")?;
        let (want_v4, want_v6) = match obj.get("public_net") {
            None | Some(Value::Null) => (true, true),
            Some(Value::Object(p)) => (
                bool_field(p, "enable_ipv4", true, "public_net")?,
                bool_field(p, "enable_ipv6", true, "public_net")?,
            ),
            Some(_) => {
                return Err(invalid_fields(&[(
                    "public_net",
                    "Not a valid mapping type.",
                )]));
            }
        };
        let has_network = obj
            .get("networks")
            .and_then(Value::as_array)
            .is_some_and(|n| !n.is_empty());
        if !want_v4 && !want_v6 && !has_network {
            return Err(invalid_msg(
                "server must have a public IPv4, a public IPv6 or a network",
                "public_net",
            ));
        }

        let type_ref = id_or_name(&obj["server_type"])
            .ok_or_else(|| invalid_fields(&[("server_type", "Not a valid ID or name.")]))?;
        let type_idx = SERVER_TYPES
            .iter()
            .position(|t| match parse_id(&type_ref) {
                Some(id) => t.id == id,
                None => t.name == type_ref,
            })
            .ok_or_else(|| {
                invalid_msg(
                    &format!("server type '{type_ref}' not found"),
                    "server_type",
                )
            })?;
        let st = &SERVER_TYPES[type_idx];

        let loc_idx = match obj.get("location").filter(|v| !v.is_null()) {
            Some(v) => {
                let r = id_or_name(v)
                    .ok_or_else(|| invalid_fields(&[("location", "Not a valid ID or name.")]))?;
                LOCATIONS
                    .iter()
                    .position(|l| match parse_id(&r) {
                        Some(id) => l.id == id,
                        None => l.name == r,
                    })
                    .ok_or_else(|| invalid_msg(&format!("location '{r}' not found"), "location"))?
            }
            None => LOCATIONS
                .iter()
                .position(|l| st.available_in(l.name, now) == Some(true))
                .unwrap_or(0),
        };
        if st.available_in(LOCATIONS[loc_idx].name, now) != Some(true) {
            return Err(error(
                422,
                "invalid_input",
                "unsupported location for server type",
                json!({}),
            ));
        }

        let image_ref = id_or_name(&obj["image"])
            .ok_or_else(|| invalid_fields(&[("image", "Not a valid ID or name.")]))?;
        let image_idx = match parse_id(&image_ref) {
            Some(id) => IMAGES.iter().position(|i| i.id == id),
            None => IMAGES
                .iter()
                .position(|i| i.name == image_ref && i.architecture == st.architecture),
        }
        .ok_or_else(|| invalid_msg(&format!("image '{image_ref}' not found"), "image"))?;
        if IMAGES[image_idx].architecture != st.architecture {
            return Err(invalid_msg(
                "image architecture does not match server type architecture",
                "image",
            ));
        }

        let key_refs = match obj.get("ssh_keys") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(invalid_fields(&[("ssh_keys", "Not a valid list.")])),
        };
        let mut public_keys = Vec::new();
        for k in &key_refs {
            let r = id_or_name(k)
                .ok_or_else(|| invalid_fields(&[("ssh_keys", "Not a valid ID or name.")]))?;
            let found = self.keys.values().find(|key| match parse_id(&r) {
                Some(id) => key.id == id,
                None => key.name == r,
            });
            let Some(key) = found else {
                return Err(invalid_msg(&format!("ssh key '{r}' not found"), "ssh_keys"));
            };
            public_keys.push(key.public_key.clone());
        }

        if self.servers.values().any(|s| s.name == name) {
            return Err(error(
                409,
                "uniqueness_error",
                "server name is already used",
                json!({"fields": [{"name": "name"}]}),
            ));
        }

        self.created_count += 1;
        let k = self.created_count - 1;
        let mut v4 = (want_v4 && self.ipv4_enabled).then(|| {
            let host = k % 490;
            if host < 245 {
                format!("203.0.113.{}", 10 + host)
            } else {
                format!("192.0.2.{}", 10 + host - 245)
            }
        });
        let mut v6 = want_v6.then(|| format!("2001:db8:{:x}::/64", 1 + k % 0xefff));
        if self.loopback {
            v4 = v4.map(|_| format!("127.0.0.{}", 10 + k % 240));
            v6 = v6.map(|_| "::/64".to_string());
        }
        let event = ServerEvent::Created {
            id: self.next_server,
            name: name.to_string(),
            ipv4: v4.clone(),
            ipv6: v6.clone(),
            public_keys,
        };
        let sid = self.insert_server(
            name,
            "initializing",
            (type_idx, loc_idx, image_idx),
            (v4, v6),
            labels,
            false,
            now,
        );
        self.tell(event);
        if let Some(s) = self.servers.get_mut(&sid) {
            s.firewalls = firewall_ids.clone();
            s.user_data = user_data;
        }
        self.firewalls.apply(sid, &firewall_ids);
        let create = self.new_action("create_server", sid, None, now);
        let next: Vec<Value> = if start {
            let id = self.new_action("start_server", sid, Some(create), now);
            vec![self.action_json(id, now)]
        } else {
            Vec::new()
        };
        let root_password = key_refs.is_empty().then(|| {
            let alphabet = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
            let mut x = self.seed ^ sid;
            (0..20)
                .map(|_| {
                    x = util::mix(x);
                    alphabet[(x % alphabet.len() as u64) as usize] as char
                })
                .collect::<String>()
        });
        let server = self.server_json(&self.servers[&sid], now);
        Ok(Resp::json(
            201,
            &json!({
                "server": server, "action": self.action_json(create, now),
                "next_actions": next, "root_password": root_password,
            }),
        ))
    }

    // -- action handlers ---------------------------------------------------

    fn get_action(&mut self, server: Option<&str>, id: &str, now: SystemTime) -> R {
        let aid = parse_id(id)
            .filter(|a| self.actions.contains_key(a))
            .ok_or_else(|| not_found("action"))?;
        if let Some(server) = server
            && parse_id(server) != self.actions.get(&aid).map(|a| a.server)
        {
            return Err(not_found("action"));
        }
        self.poll(aid, now);
        Ok(Resp::json(
            200,
            &json!({"action": self.action_json(aid, now)}),
        ))
    }

    fn render_actions(
        &mut self,
        mut ids: Vec<u64>,
        q: &Query,
        raw: &str,
        path: &str,
        now: SystemTime,
    ) -> R {
        let statuses = q.all("status");
        if statuses
            .iter()
            .any(|s| !matches!(*s, "running" | "success" | "error"))
        {
            return Err(invalid_fields(&[("status", "invalid status")]));
        }
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            self.poll(*id, now);
        }
        let mut items: Vec<Value> = ids
            .iter()
            .map(|id| self.action_json(*id, now))
            .filter(|a| statuses.is_empty() || statuses.iter().any(|s| a["status"] == *s))
            .collect();
        sort_items(
            &mut items,
            q,
            &["id", "command", "status", "progress", "started", "finished"],
        )?;
        self.paginate(items, "actions", path, q, raw)
    }

    fn actions_by_id(&mut self, q: &Query, raw: &str, now: SystemTime) -> R {
        let wanted = q.all("id");
        if wanted.is_empty() {
            return Err(error(
                400,
                "invalid_input",
                "the id filter is required",
                json!({"fields": [{"name": "id", "messages": ["Missing data for required field."]}]}),
            ));
        }
        let mut ids = Vec::new();
        for w in wanted {
            let id =
                parse_id(w).ok_or_else(|| invalid_fields(&[("id", "Not a valid integer.")]))?;
            if self.actions.contains_key(&id) {
                ids.push(id);
            }
        }
        self.render_actions(ids, q, raw, "/v1/actions", now)
    }

    fn server_actions(&mut self, id: &str, q: &Query, raw: &str, now: SystemTime) -> R {
        let sid = self.find_server(id)?.id;
        let ids: Vec<u64> = self
            .actions
            .values()
            .filter(|a| a.server == sid)
            .map(|a| a.id)
            .collect();
        self.render_actions(ids, q, raw, &format!("/v1/servers/{sid}/actions"), now)
    }

    // -- ssh key handlers --------------------------------------------------

    fn key_json(k: &SshKey) -> Value {
        json!({
            "id": k.id, "name": k.name, "fingerprint": k.fingerprint,
            "public_key": k.public_key, "labels": k.labels, "created": rfc3339(k.created),
        })
    }

    fn list_keys(&self, q: &Query, raw: &str) -> R {
        let sel = selector(q)?;
        let (name, fp) = (q.get("name"), q.get("fingerprint"));
        let mut items: Vec<Value> = self
            .keys
            .values()
            .filter(|k| name.is_none_or(|n| k.name == n))
            .filter(|k| fp.is_none_or(|f| k.fingerprint.eq_ignore_ascii_case(f)))
            .filter(|k| {
                sel.as_ref()
                    .is_none_or(|t| util::selector_matches(t, &k.labels))
            })
            .map(Self::key_json)
            .collect();
        sort_items(&mut items, q, &["id", "name"])?;
        self.paginate(items, "ssh_keys", "/v1/ssh_keys", q, raw)
    }

    fn find_key(&self, id: &str) -> Result<&SshKey, Resp> {
        parse_id(id)
            .and_then(|id| self.keys.get(&id))
            .ok_or_else(|| not_found("SSH key"))
    }

    fn get_key(&self, id: &str) -> R {
        let k = self.find_key(id)?;
        Ok(Resp::json(200, &json!({"ssh_key": Self::key_json(k)})))
    }

    fn delete_key(&mut self, id: &str) -> R {
        let kid = self.find_key(id)?.id;
        self.keys.remove(&kid);
        let mut r = Resp::json(204, &Value::Null);
        r.body.clear();
        Ok(r)
    }

    fn create_key(&mut self, body: &[u8], now: SystemTime) -> R {
        let obj = parse_body(body)?;
        missing(&obj, &["name", "public_key"])?;
        let name = obj["name"]
            .as_str()
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| invalid_fields(&[("name", "Not a valid string.")]))?;
        let public_key = obj["public_key"]
            .as_str()
            .ok_or_else(|| invalid_fields(&[("public_key", "Not a valid string.")]))?
            .trim();
        let fingerprint = util::fingerprint(public_key)
            .ok_or_else(|| invalid_fields(&[("public_key", "invalid SSH public key")]))?;
        let labels = parse_labels(obj.get("labels"))?;
        if self.keys.values().any(|k| k.name == name) {
            return Err(error(
                409,
                "uniqueness_error",
                "SSH key name is already used",
                json!({"fields": [{"name": "name"}]}),
            ));
        }
        if self.keys.values().any(|k| k.fingerprint == fingerprint) {
            return Err(error(
                409,
                "uniqueness_error",
                "SSH key with the same fingerprint already exists",
                json!({"fields": [{"name": "public_key"}]}),
            ));
        }
        let id = self.next_key;
        self.next_key += 1;
        let key = SshKey {
            id,
            name: name.to_string(),
            fingerprint,
            public_key: public_key.to_string(),
            labels,
            created: now,
        };
        let json = Self::key_json(&key);
        self.keys.insert(id, key);
        Ok(Resp::json(201, &json!({ "ssh_key": json })))
    }

    // -- catalogue handlers ------------------------------------------------

    fn list_server_types(&self, q: &Query, raw: &str, now: SystemTime) -> R {
        let name = q.get("name");
        let mut items: Vec<Value> = SERVER_TYPES
            .iter()
            .filter(|t| name.is_none_or(|n| t.name == n))
            .map(|t| server_type_json(t, now))
            .collect();
        sort_items(&mut items, q, &["id", "name"])?;
        self.paginate(items, "server_types", "/v1/server_types", q, raw)
    }

    fn get_server_type(id: &str, now: SystemTime) -> R {
        let t = parse_id(id)
            .and_then(|id| SERVER_TYPES.iter().find(|t| t.id == id))
            .ok_or_else(|| not_found("server type"))?;
        Ok(Resp::json(
            200,
            &json!({"server_type": server_type_json(t, now)}),
        ))
    }

    fn list_locations(&self, q: &Query, raw: &str) -> R {
        let name = q.get("name");
        let mut items: Vec<Value> = LOCATIONS
            .iter()
            .filter(|l| name.is_none_or(|n| l.name == n))
            .map(location_json)
            .collect();
        sort_items(&mut items, q, &["id", "name"])?;
        self.paginate(items, "locations", "/v1/locations", q, raw)
    }

    fn get_location(id: &str) -> R {
        let l = parse_id(id)
            .and_then(|id| LOCATIONS.iter().find(|l| l.id == id))
            .ok_or_else(|| not_found("location"))?;
        Ok(Resp::json(200, &json!({"location": location_json(l)})))
    }

    fn list_images(&self, q: &Query, raw: &str) -> R {
        let sel = selector(q)?;
        let arch = q.get("architecture");
        if arch.is_some_and(|a| a != "x86" && a != "arm") {
            return Err(invalid_fields(&[(
                "architecture",
                "Must be one of: x86, arm.",
            )]));
        }
        let deprecated = match q.get("include_deprecated") {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                return Err(invalid_fields(&[(
                    "include_deprecated",
                    "Not a valid boolean.",
                )]));
            }
        };
        let (types, statuses) = (q.all("type"), q.all("status"));
        let name = q.get("name");
        let no_labels = Map::new();
        let mut items: Vec<Value> = IMAGES
            .iter()
            .filter(|i| name.is_none_or(|n| i.name == n))
            .filter(|i| arch.is_none_or(|a| i.architecture == a))
            .filter(|i| deprecated || i.deprecated.is_none())
            .filter(|_| types.is_empty() || types.contains(&"system"))
            .filter(|_| statuses.is_empty() || statuses.contains(&"available"))
            .filter(|_| {
                sel.as_ref()
                    .is_none_or(|t| util::selector_matches(t, &no_labels))
            })
            .map(image_json)
            .collect();
        sort_items(&mut items, q, &["id", "name", "created"])?;
        self.paginate(items, "images", "/v1/images", q, raw)
    }

    fn get_image(id: &str) -> R {
        let i = parse_id(id)
            .and_then(|id| IMAGES.iter().find(|i| i.id == id))
            .ok_or_else(|| not_found("image"))?;
        Ok(Resp::json(200, &json!({"image": image_json(i)})))
    }
}
