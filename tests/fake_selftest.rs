//! Tests of the fake Hetzner Cloud API (`tests/common/fake.rs`) itself, over raw TCP
//! (and once through `ureq`, the crate's real HTTP client).

#[path = "common/fake.rs"]
mod fake;
#[path = "common/openapi.rs"]
mod openapi;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use fake::{Fake, Fault, READONLY_TOKEN, TOKEN};
use serde_json::{Value, json};

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIccHCW76xx2rrPAUrjnuT6IjpEF1O+/U4IByVgv99Oi";
const KEY_FP: &str = "77:79:69:b1:4d:c6:b6:45:6a:e9:52:29:04:3e:59:48";

// ---------------------------------------------------------------------------
// A tiny HTTP/1.1 client over one TcpStream.

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(fake: &Fake) -> Client {
        let stream = TcpStream::connect(fake.addr()).expect("connect to fake");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        token: Option<&str>,
        body: Option<&str>,
        close: bool,
    ) -> Option<Resp> {
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nHost: fake\r\nAccept: application/json\r\n");
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        if close {
            req.push_str("Connection: close\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body.unwrap_or(""));
        self.stream.write_all(req.as_bytes()).ok()?;
        self.read_response()
    }

    /// Reads one response; `None` if the connection ends first.
    fn read_response(&mut self) -> Option<Resp> {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            self.fill()?;
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("Content-Length header");
        while self.buf.len() < len {
            self.fill()?;
        }
        let body = String::from_utf8(self.buf.drain(..len).collect()).unwrap();
        Some(Resp {
            status,
            headers,
            body,
        })
    }

    fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }

    /// True if the server closed the connection (EOF, nothing more to read).
    fn closed_by_server(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

fn call_as(
    fake: &Fake,
    token: Option<&str>,
    method: &str,
    target: &str,
    body: Option<Value>,
) -> Resp {
    let body = body.map(|b| b.to_string());
    Client::connect(fake)
        .send(method, target, token, body.as_deref(), true)
        .unwrap_or_else(|| panic!("no answer to {method} {target}"))
}

fn call(fake: &Fake, method: &str, target: &str, body: Option<Value>) -> Resp {
    call_as(fake, Some(TOKEN), method, target, body)
}

fn get(fake: &Fake, target: &str) -> Resp {
    call(fake, "GET", target, None)
}

fn create(fake: &Fake, body: Value) -> Resp {
    call(fake, "POST", "/v1/servers", Some(body))
}

fn web1() -> Value {
    json!({"name": "web1", "server_type": "cx23", "image": "ubuntu-24.04", "location": "nbg1",
           "labels": {"managed-by": "pegasus"}})
}

fn action(fake: &Fake, id: &Value) -> Value {
    let r = get(fake, &format!("/v1/actions/{id}"));
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["action"].clone()
}

// ---------------------------------------------------------------------------

#[test]
fn md5_and_fingerprint_vectors() {
    let hex = |d: [u8; 16]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(hex(fake::md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(hex(fake::md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
    let long = "1234567890".repeat(8);
    assert_eq!(
        hex(fake::md5(long.as_bytes())),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
    assert_eq!(fake::fingerprint(KEY).as_deref(), Some(KEY_FP));
    // Comment and surrounding whitespace do not matter; garbage does not parse.
    assert_eq!(
        fake::fingerprint(&format!("  {KEY} me@host\n")).as_deref(),
        Some(KEY_FP)
    );
    assert_eq!(fake::fingerprint("ssh-ed25519 not-base64!"), None);
    assert_eq!(
        fake::fingerprint(
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIIccHCW76xx2rrPAUrjnuT6IjpEF1O+/U4IByVgv99Oi"
        ),
        None
    );
    let a = fake::test_public_key("a", "a@test");
    let b = fake::test_public_key("b", "");
    assert!(fake::fingerprint(&a).is_some() && fake::fingerprint(&b).is_some());
    assert_ne!(fake::fingerprint(&a), fake::fingerprint(&b));
    assert_eq!(TOKEN.len(), 64);
    assert_eq!(READONLY_TOKEN.len(), 64);
}

#[test]
fn auth_errors_and_standard_headers() {
    let fake = Fake::start();
    let r = call_as(&fake, None, "GET", "/v1/servers", None);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": {"code": "unauthorized", "message": "unable to authenticate", "details": null}})
    );
    let r = call_as(&fake, Some("nope"), "GET", "/v1/servers", None);
    assert_eq!((r.status, r.code()), (401, "unauthorized".into()));

    let r = call_as(&fake, Some(READONLY_TOKEN), "GET", "/v1/servers", None);
    assert_eq!(r.status, 200);
    let r = call_as(
        &fake,
        Some(READONLY_TOKEN),
        "POST",
        "/v1/servers",
        Some(web1()),
    );
    assert_eq!((r.status, r.code()), (401, "token_readonly".into()));
    assert!(fake.server_names().is_empty());

    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let cid = r.header("x-correlation-id").expect("correlation id");
    assert!(cid.len() == 16 && cid.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(r.header("ratelimit-limit"), Some("3600"));
    let remaining: u64 = r.header("ratelimit-remaining").unwrap().parse().unwrap();
    assert!(remaining > 0 && remaining < 3600);
    let reset: u64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset > now && reset < now + 3700, "reset {reset} now {now}");
}

#[test]
fn routing_errors() {
    let fake = Fake::start();
    assert_eq!(get(&fake, "/v1/nothing").code(), "not_found");
    assert_eq!(get(&fake, "/v1/servers/99999").status, 404);
    assert_eq!(get(&fake, "/v1/servers/abc").code(), "not_found");
    let r = call(&fake, "PUT", "/v1/servers", Some(json!({})));
    assert_eq!((r.status, r.code()), (405, "method_not_allowed".into()));
    let r = get(&fake, "/v1/datacenters");
    assert_eq!(
        (r.status, r.code()),
        (410, "deprecated_api_endpoint".into())
    );
    assert!(r.json()["error"]["details"]["announcement"].is_string());
    let r = get(&fake, "/v1/actions");
    assert_eq!((r.status, r.code()), (400, "invalid_input".into()));
    let r = call(&fake, "POST", "/v1/servers", None);
    assert_eq!((r.status, r.code()), (400, "json_error".into()));
    let mut c = Client::connect(&fake);
    let raw = format!(
        "POST /v1/servers HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 6\r\n\r\n{{nope}}"
    );
    c.stream.write_all(raw.as_bytes()).unwrap();
    let r = c.read_response().unwrap();
    assert_eq!((r.status, r.code()), (400, "json_error".into()));
}

#[test]
fn malformed_and_chunked_requests_get_400_and_the_fake_keeps_serving() {
    let fake = Fake::start();
    let mut c = Client::connect(&fake);
    c.stream.write_all(b"garbage\r\n\r\n").unwrap();
    let r = c.read_response().expect("an answer");
    assert_eq!((r.status, r.code()), (400, "json_error".into()));
    assert!(c.closed_by_server());

    let mut c = Client::connect(&fake);
    let raw = format!(
        "POST /v1/ssh_keys HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    );
    c.stream.write_all(raw.as_bytes()).unwrap();
    let r = c.read_response().expect("an answer");
    assert_eq!(r.status, 400);
    assert!(c.closed_by_server());
    assert_eq!(fake.count("POST", "/v1/ssh_keys"), 1);
    assert_eq!(get(&fake, "/v1/locations").status, 200);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let fake = Fake::start();
    let mut c = Client::connect(&fake);
    let a = c
        .send("GET", "/v1/locations", Some(TOKEN), None, false)
        .unwrap();
    let b = c
        .send(
            "GET",
            "/v1/server_types?name=cx23",
            Some(TOKEN),
            None,
            false,
        )
        .unwrap();
    assert_eq!(a.json()["locations"].as_array().unwrap().len(), 6);
    assert_eq!(b.json()["server_types"][0]["name"], "cx23");
    assert_ne!(a.header("x-correlation-id"), b.header("x-correlation-id"));
    // Two pipelined requests in one write.
    let two = format!(
        "GET /v1/images HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\nGET /v1/ssh_keys HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    );
    c.stream.write_all(two.as_bytes()).unwrap();
    assert!(c.read_response().unwrap().json()["images"].is_array());
    assert!(c.read_response().unwrap().json()["ssh_keys"].is_array());
    let last = c
        .send("GET", "/v1/locations", Some(TOKEN), None, true)
        .unwrap();
    assert_eq!(last.header("connection"), Some("close"));
    assert!(c.closed_by_server());
    assert_eq!(fake.count("GET", "/v1/locations"), 2);
}

#[test]
fn pagination_meta_and_link_header() {
    let fake = Fake::start();
    for i in 1..=5 {
        let env = if i % 2 == 0 { "prod" } else { "dev" };
        fake.add_server_with(&format!("s{i}"), &[("env", env)], false);
    }
    fake.set_page_size(2);
    let r = get(&fake, "/v1/servers?per_page=50");
    let v = r.json();
    let names: Vec<&str> = v["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["s1", "s2"]);
    assert_eq!(
        v["meta"]["pagination"],
        json!({"page": 1, "per_page": 2, "previous_page": null, "next_page": 2, "last_page": 3, "total_entries": 5})
    );
    let base = format!("http://{}/v1/servers", fake.addr());
    let link = r.header("link").unwrap();
    assert!(
        link.contains(&format!("<{base}?page=2&per_page=2>; rel=\"next\"")),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{base}?page=3&per_page=2>; rel=\"last\"")),
        "{link}"
    );
    assert!(!link.contains("prev"));

    let r = get(&fake, "/v1/servers?page=3&per_page=50");
    let v = r.json();
    assert_eq!(v["servers"].as_array().unwrap().len(), 1);
    assert_eq!(v["servers"][0]["name"], "s5");
    assert_eq!(v["meta"]["pagination"]["next_page"], Value::Null);
    assert_eq!(v["meta"]["pagination"]["previous_page"], 2);
    assert!(
        r.header("link")
            .unwrap()
            .contains("page=2&per_page=2>; rel=\"prev\"")
    );

    // Filters survive in the Link header and count in total_entries.
    let r = get(&fake, "/v1/servers?label_selector=env%3Ddev");
    assert_eq!(r.json()["meta"]["pagination"]["total_entries"], 3);
    assert!(
        r.header("link")
            .unwrap()
            .contains("?label_selector=env%3Ddev&page=2&per_page=2")
    );

    // Without the knob: default 25, max 50.
    let fake = Fake::start();
    for i in 0..60 {
        fake.add_server(&format!("n{i}"));
    }
    let v = get(&fake, "/v1/servers").json();
    assert_eq!(v["servers"].as_array().unwrap().len(), 25);
    let v = get(&fake, "/v1/servers?per_page=100").json();
    assert_eq!(v["meta"]["pagination"]["per_page"], 50);
    assert_eq!(v["meta"]["pagination"]["last_page"], 2);
    assert_eq!(get(&fake, "/v1/servers?page=0").code(), "invalid_input");
}

#[test]
fn filters_and_sorting() {
    let fake = Fake::start();
    fake.add_server_with("a", &[("managed-by", "pegasus"), ("env", "prod")], false);
    fake.add_server_with("b", &[("managed-by", "pegasus")], false);
    fake.add_server("c");
    let names = |q: &str| -> Vec<String> {
        get(&fake, &format!("/v1/servers{q}")).json()["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("?name=b"), ["b"]);
    assert_eq!(names("?name=zzz"), Vec::<String>::new());
    assert_eq!(names("?label_selector=managed-by==pegasus"), ["a", "b"]);
    assert_eq!(names("?label_selector=managed-by%3Dpegasus%2Cenv"), ["a"]);
    assert_eq!(names("?label_selector=!managed-by"), ["c"]);
    assert_eq!(names("?label_selector=env%20in%20(prod,dev)"), ["a"]);
    assert_eq!(names("?label_selector=managed-by!%3Dpegasus"), ["c"]);
    assert_eq!(names("?sort=name:desc"), ["c", "b", "a"]);
    assert_eq!(names("?status=running&status=off"), ["a", "b", "c"]);
    assert_eq!(names("?status=off"), Vec::<String>::new());
    assert_eq!(
        get(&fake, "/v1/servers?status=bogus").code(),
        "invalid_input"
    );
    assert_eq!(get(&fake, "/v1/servers?sort=bogus").code(), "invalid_input");

    let images = |q: &str| -> Vec<(u64, String)> {
        get(&fake, &format!("/v1/images{q}")).json()["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["id"].as_u64().unwrap(),
                    i["architecture"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(
        images("?name=ubuntu-24.04&architecture=x86"),
        [(161547269, "x86".to_string())]
    );
    assert_eq!(images("?name=ubuntu-24.04&architecture=arm").len(), 1);
    assert_eq!(images("?name=ubuntu-24.04").len(), 2);
    assert!(images("?name=ubuntu-20.04").is_empty());
    assert_eq!(
        images("?name=ubuntu-20.04&include_deprecated=true").len(),
        1
    );
    assert_eq!(
        get(&fake, "/v1/images?architecture=sparc").code(),
        "invalid_input"
    );
}

#[test]
fn catalogue_shapes_and_deprecations() {
    let fake = Fake::start();
    let types = get(&fake, "/v1/server_types").json();
    let find = |name: &str| {
        types["server_types"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap()
    };
    let cx22 = find("cx22");
    assert_eq!(cx22["deprecated"], false);
    assert_eq!(cx22["deprecation"], Value::Null);
    for loc in cx22["locations"].as_array().unwrap() {
        assert_eq!(loc["available"], false);
        assert_eq!(loc["deprecation"]["announced"], "2025-10-16T06:00:00Z");
        assert_eq!(
            loc["deprecation"]["unavailable_after"],
            "2025-12-31T23:59:59Z"
        );
    }
    let cpx11 = find("cpx11");
    let nbg1 = cpx11["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "nbg1")
        .unwrap();
    assert_eq!(nbg1["available"], true);
    assert_eq!(
        nbg1["deprecation"]["unavailable_after"],
        "2027-06-30T23:59:59Z"
    );
    let cx23 = find("cx23");
    assert_eq!(
        (
            cx23["cores"].as_u64(),
            cx23["memory"].as_f64(),
            cx23["disk"].as_u64()
        ),
        (Some(2), Some(4.0), Some(40))
    );
    assert!(cx23["prices"][0]["price_monthly"]["net"].is_string());
    assert_eq!(find("cpx22")["id"], 109);
    assert_eq!(find("cax11")["architecture"], "arm");
    let one = get(&fake, "/v1/server_types/109").json();
    assert_eq!(one["server_type"]["name"], "cpx22");
    let loc = get(&fake, "/v1/locations?name=fsn1").json();
    assert_eq!(
        loc["locations"][0],
        json!({"id": 1, "name": "fsn1", "description": "Falkenstein DC Park 1", "country": "DE",
               "city": "Falkenstein", "latitude": 50.47612, "longitude": 12.370071,
               "network_zone": "eu-central"})
    );
}

#[test]
fn create_poll_to_running() {
    let fake = Fake::start();
    let key_id = fake.add_ssh_key("id_ed25519", KEY);
    let mut body = web1();
    body["ssh_keys"] = json!([key_id]);
    let r = create(&fake, body);
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    let server = &v["server"];
    assert_eq!(server["status"], "initializing");
    assert_eq!(server["name"], "web1");
    assert_eq!(server["server_type"]["name"], "cx23");
    assert!(server["server_type"]["locations"].is_array());
    assert_eq!(server["location"]["name"], "nbg1");
    assert_eq!(server["image"]["id"], 161547269);
    assert_eq!(server["labels"], json!({"managed-by": "pegasus"}));
    assert_eq!(server["protection"]["delete"], false);
    assert!(server.get("datacenter").is_none());
    assert!(server["created"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(server["public_net"]["ipv4"]["ip"], "203.0.113.10");
    assert_eq!(server["public_net"]["ipv6"]["ip"], "2001:db8:1::/64");
    assert_eq!(v["root_password"], Value::Null);
    let create_action = &v["action"];
    assert_eq!(
        (
            &create_action["command"],
            &create_action["status"],
            &create_action["progress"]
        ),
        (&json!("create_server"), &json!("running"), &json!(0))
    );
    assert_eq!(
        create_action["resources"],
        json!([{"id": server["id"], "type": "server"}])
    );
    let next = v["next_actions"].as_array().unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0]["command"], "start_server");
    let sid = server["id"].as_u64().unwrap();

    // Create: 1st poll 50 %, 2nd poll success.
    let a = action(&fake, &create_action["id"]);
    assert_eq!(
        (a["status"].as_str(), a["progress"].as_u64()),
        (Some("running"), Some(50))
    );
    assert_eq!(fake.server_json("web1").unwrap()["status"], "initializing");
    let a = action(&fake, &create_action["id"]);
    assert_eq!(
        (a["status"].as_str(), a["progress"].as_u64()),
        (Some("success"), Some(100))
    );
    assert!(a["finished"].is_string());
    assert_eq!(a["error"], Value::Null);
    assert_eq!(fake.server_json("web1").unwrap()["status"], "starting");

    // Start, polled through the per-server route.
    let start_path = format!("/v1/servers/{sid}/actions/{}", next[0]["id"]);
    assert_eq!(get(&fake, &start_path).json()["action"]["progress"], 50);
    assert_eq!(
        get(&fake, &start_path).json()["action"]["status"],
        "success"
    );
    let s = get(&fake, &format!("/v1/servers/{sid}")).json();
    assert_eq!(s["server"]["status"], "running");
    assert_eq!(fake.server_json("web1").unwrap(), s["server"]);
    assert_eq!(fake.server_names(), ["web1"]);
    assert_eq!(
        get(
            &fake,
            &format!("/v1/servers/{}/actions/{}", sid + 1, next[0]["id"])
        )
        .status,
        404
    );
    let listed = get(&fake, &format!("/v1/servers/{sid}/actions")).json();
    assert_eq!(listed["actions"].as_array().unwrap().len(), 2);

    // Without SSH keys there is a root password; the second server gets the next IPs.
    let r = create(
        &fake,
        json!({"name": "web2", "server_type": "cpx22", "image": "ubuntu-24.04",
                                 "location": "hel1", "start_after_create": false}),
    );
    let v = r.json();
    assert!(v["root_password"].as_str().is_some_and(|p| p.len() >= 16));
    assert_eq!(v["next_actions"], json!([]));
    assert_eq!(v["server"]["public_net"]["ipv4"]["ip"], "203.0.113.11");
    assert_eq!(v["server"]["public_net"]["ipv6"]["ip"], "2001:db8:2::/64");
    action(&fake, &v["action"]["id"]);
    action(&fake, &v["action"]["id"]);
    assert_eq!(fake.server_json("web2").unwrap()["status"], "off");
}

#[test]
fn watching_the_server_status_also_advances_its_actions() {
    let fake = Fake::start();
    let sid = create(&fake, web1()).json()["server"]["id"].clone();
    let statuses: Vec<Value> = (0..3)
        .map(|_| get(&fake, &format!("/v1/servers/{sid}")).json()["server"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("initializing"), json!("starting"), json!("running")]
    );
    assert_eq!(fake.count_prefix("GET", "/v1/actions"), 0);
    // The same for a delete: the look that finishes the delete action already gets 404.
    let r = call(&fake, "DELETE", &format!("/v1/servers/{sid}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(
        get(&fake, &format!("/v1/servers/{sid}")).json()["server"]["status"],
        "deleting"
    );
    assert_eq!(get(&fake, &format!("/v1/servers/{sid}")).status, 404);
    assert!(fake.server_names().is_empty());
}

#[test]
fn combined_action_poll_and_knobs() {
    let fake = Fake::start();
    let v = create(&fake, web1()).json();
    let (c, s) = (&v["action"]["id"], &v["next_actions"][0]["id"]);
    let q = format!("/v1/actions?id={c}&id={s}");
    let statuses = |v: &Value| -> Vec<(String, u64)> {
        v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["status"].as_str().unwrap().to_string(),
                    a["progress"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let r1 = get(&fake, &q).json();
    assert_eq!(
        statuses(&r1),
        [("running".into(), 50), ("running".into(), 0)]
    );
    assert_eq!(r1["meta"]["pagination"]["total_entries"], 2);
    let r2 = get(&fake, &q).json();
    assert_eq!(
        statuses(&r2),
        [("success".into(), 100), ("running".into(), 50)]
    );
    let r3 = get(&fake, &q).json();
    assert_eq!(
        statuses(&r3),
        [("success".into(), 100), ("success".into(), 100)]
    );
    assert_eq!(fake.server_json("web1").unwrap()["status"], "running");
    assert_eq!(fake.count_prefix("GET", "/v1/actions"), 3);

    // 4 polls: 25, 50, 75, success.
    fake.set_action_polls(4);
    let v = create(
        &fake,
        json!({"name": "web2", "server_type": "cx23", "image": "debian-12"}),
    )
    .json();
    let id = &v["action"]["id"];
    let progress: Vec<Value> = (0..4)
        .map(|_| action(&fake, id)["progress"].clone())
        .collect();
    assert_eq!(progress, [json!(25), json!(50), json!(75), json!(100)]);
    assert_eq!(v["server"]["location"]["name"], "fsn1", "default location");

    // 0 polls: done at the first look.
    fake.set_action_polls(0);
    let v = create(
        &fake,
        json!({"name": "web3", "server_type": "cx23", "image": "ubuntu-24.04"}),
    )
    .json();
    assert_eq!(v["action"]["status"], "running");
    assert_eq!(action(&fake, &v["action"]["id"])["status"], "success");
    assert_eq!(fake.server_json("web3").unwrap()["status"], "running");
}

/// `GET /actions?id=…` is a list like any other: `page`, `per_page` (default 25, at most
/// 50), `meta.pagination` and a `Link` header; every page fits the description.
#[test]
fn action_lists_are_paged_like_every_list() {
    let fake = Fake::start();
    // 15 creates, each with a create_server and a start_server action: 30 actions.
    let mut ids = Vec::new();
    let mut server = 0;
    for i in 0..15 {
        let mut body = web1();
        body["name"] = json!(format!("web{i}"));
        let v = create(&fake, body).json();
        server = v["server"]["id"].as_u64().unwrap();
        ids.push(v["action"]["id"].as_u64().unwrap());
        ids.push(v["next_actions"][0]["id"].as_u64().unwrap());
    }
    ids.sort_unstable();
    let query: Vec<String> = ids.iter().map(|id| format!("id={id}")).collect();
    let query = query.join("&");
    let page = |extra: &str| {
        let target = format!("/v1/actions?{query}{extra}");
        let r = get(&fake, &target);
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        openapi::assert_answer_to("GET", &target, r.status, &v);
        let got: Vec<u64> = v["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_u64().unwrap())
            .collect();
        (
            got,
            v["meta"]["pagination"].clone(),
            r.header("link").map(str::to_owned),
        )
    };

    let (first, meta, link) = page("");
    assert_eq!(first, ids[..25]);
    assert_eq!(
        meta,
        json!({"page": 1, "per_page": 25, "previous_page": null, "next_page": 2,
               "last_page": 2, "total_entries": 30})
    );
    let link = link.unwrap();
    assert!(link.contains("page=2&per_page=25>; rel=\"next\""), "{link}");
    assert!(
        link.contains(&format!("/v1/actions?id={}&", ids[0])),
        "{link}"
    );

    let (second, meta, _) = page("&page=2");
    assert_eq!(second, ids[25..]);
    assert_eq!(
        (meta["page"].as_u64(), &meta["next_page"]),
        (Some(2), &Value::Null)
    );
    assert_eq!(meta["previous_page"], 1);

    let (all, meta, _) = page("&per_page=50");
    assert_eq!(all, ids);
    assert_eq!(meta["last_page"], 1);
    let (_, meta, _) = page("&per_page=100");
    assert_eq!(meta["per_page"], 50, "at most 50");
    let (past, meta, _) = page("&page=3");
    assert!(past.is_empty());
    assert_eq!(meta["total_entries"], 30);

    // A server's own action list is paged the same way, and fits its schema.
    let target = format!("/v1/servers/{server}/actions?per_page=1");
    let r = get(&fake, &target);
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    openapi::assert_answer_to("GET", &target, r.status, &v);
    assert_eq!(v["actions"].as_array().unwrap().len(), 1);
    assert_eq!(v["meta"]["pagination"]["total_entries"], 2);
}

/// Clock mode: actions end by the time, with no poll needed. No sleeping: a duration far
/// longer than the test keeps them running, then a zero one has them over at once.
#[test]
fn action_duration_finishes_by_clock() {
    let fake = Fake::start();
    fake.set_action_duration(Some(Duration::from_secs(3600)));
    let v = create(&fake, web1()).json();
    let create_id = &v["action"]["id"];
    let start_id = &v["next_actions"][0]["id"];
    // However many polls: running, with progress by the clock (0% of an hour).
    for _ in 0..5 {
        let a = action(&fake, create_id);
        assert_eq!(
            (&a["status"], &a["progress"]),
            (&json!("running"), &json!(0))
        );
    }
    assert_eq!(action(&fake, start_id)["status"], "running");
    assert_eq!(fake.server_json("web1").unwrap()["status"], "initializing");
    // The time is up: create and then start are done, without a single poll.
    fake.clear_requests();
    fake.set_action_duration(Some(Duration::ZERO));
    assert_eq!(fake.server_json("web1").unwrap()["status"], "running");
    assert!(fake.requests().is_empty());
    let a = action(&fake, create_id);
    assert_eq!(
        (&a["status"], &a["progress"]),
        (&json!("success"), &json!(100))
    );
    assert!(a["finished"].is_string());
    assert_eq!(action(&fake, start_id)["status"], "success");
    fake.set_action_duration(None);
}

#[test]
fn create_validation_errors() {
    let fake = Fake::start();
    let err = |body: Value| {
        let r = create(&fake, body);
        (r.status, r.json()["error"].clone())
    };
    let (status, e) = err(json!({"name": "x"}));
    assert_eq!((status, e["code"].as_str()), (422, Some("invalid_input")));
    let mut fields: Vec<&str> = e["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    fields.sort();
    assert_eq!(fields, ["image", "server_type"]);

    let (status, e) =
        err(json!({"name": "bad_name", "server_type": "cx23", "image": "ubuntu-24.04"}));
    assert_eq!(status, 422);
    assert_eq!(
        e["details"]["fields"][0],
        json!({"name": "name", "messages": ["Name must be a valid hostname."]})
    );
    let long_label = "a".repeat(64);
    assert_eq!(
        err(json!({"name": long_label, "server_type": "cx23", "image": "ubuntu-24.04"})).0,
        422
    );
    assert_eq!(
        err(json!({"name": "-x", "server_type": "cx23", "image": "ubuntu-24.04"})).0,
        422
    );

    let (status, e) = err(
        json!({"name": "x", "server_type": "cx22", "image": "ubuntu-24.04", "location": "nbg1"}),
    );
    assert_eq!(
        (status, e["code"].as_str(), e["message"].as_str()),
        (
            422,
            Some("invalid_input"),
            Some("unsupported location for server type")
        )
    );
    assert_eq!(e["details"], json!({}));
    assert_eq!(
        err(
            json!({"name": "x", "server_type": "cax11", "image": "ubuntu-24.04", "location": "ash"})
        )
        .1["message"],
        "unsupported location for server type"
    );
    assert_eq!(err(json!({"name": "x", "server_type": "cpx11", "image": "ubuntu-24.04", "location": "fsn1"})).0, 422);

    let (status, e) = err(json!({"name": "x", "server_type": "cx23", "image": "nope-1"}));
    assert_eq!(
        (status, e["message"].as_str()),
        (422, Some("image 'nope-1' not found"))
    );
    assert_eq!(
        err(json!({"name": "x", "server_type": "cx99", "image": "ubuntu-24.04"})).1["message"],
        "server type 'cx99' not found"
    );
    assert_eq!(err(json!({"name": "x", "server_type": "cx23", "image": "ubuntu-24.04", "location": "mars1"})).1["message"], "location 'mars1' not found");
    assert_eq!(err(json!({"name": "x", "server_type": "cx23", "image": "ubuntu-24.04", "ssh_keys": ["ghost"]})).0, 422);
    assert_eq!(err(json!({"name": "x", "server_type": "cx23", "image": "ubuntu-24.04", "labels": {"bad key": "v"}})).0, 422);
    assert_eq!(
        err(json!({"name": "x", "server_type": "cx23", "image": 161547270})).0,
        422,
        "arm image on x86 type"
    );
    assert!(fake.server_names().is_empty());

    // Accepted variants: numeric ids and numeric strings, a future deprecation, arm.
    assert_eq!(
        create(
            &fake,
            json!({"name": "n1", "server_type": 114, "image": 161547269, "location": "2"})
        )
        .status,
        201
    );
    assert_eq!(
        create(
            &fake,
            json!({"name": "n2", "server_type": "109", "image": "161547269", "location": 4})
        )
        .status,
        201
    );
    assert_eq!(create(&fake, json!({"name": "n3", "server_type": "cpx11", "image": "ubuntu-24.04", "location": "nbg1"})).status, 201);
    let arm = create(&fake, json!({"name": "n4.example.com", "server_type": "cax11", "image": "ubuntu-24.04", "location": "hel1"})).json();
    assert_eq!(arm["server"]["image"]["id"], 161547270);
    assert_eq!(arm["server"]["image"]["architecture"], "arm");
}

#[test]
fn uniqueness_errors() {
    let fake = Fake::start();
    assert_eq!(create(&fake, web1()).status, 201);
    let r = create(&fake, web1());
    assert_eq!((r.status, r.code()), (409, "uniqueness_error".into()));
    assert_eq!(r.json()["error"]["message"], "server name is already used");
    fake.add_server("taken");
    let r = create(
        &fake,
        json!({"name": "taken", "server_type": "cx23", "image": "ubuntu-24.04"}),
    );
    assert_eq!(r.status, 409);

    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(
            json!({"name": "k1", "public_key": format!("{KEY} me@laptop\n"), "labels": {"managed-by": "pegasus"}}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let key = r.json()["ssh_key"].clone();
    assert_eq!(key["fingerprint"], KEY_FP);
    assert_eq!(key["public_key"], format!("{KEY} me@laptop"), "trimmed");
    assert_eq!(key["labels"], json!({"managed-by": "pegasus"}));

    let other = fake::test_public_key("other", "");
    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "k1", "public_key": other})),
    );
    assert_eq!((r.status, r.code()), (409, "uniqueness_error".into()));
    assert_eq!(r.json()["error"]["message"], "SSH key name is already used");

    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "k2", "public_key": format!("{KEY} other-comment")})),
    );
    assert_eq!((r.status, r.code()), (409, "uniqueness_error".into()));
    let e = r.json()["error"].clone();
    assert_eq!(
        e["message"],
        "SSH key with the same fingerprint already exists"
    );
    assert_eq!(e["details"]["fields"], json!([{"name": "public_key"}]));
    assert_eq!(fake.ssh_keys().len(), 1);
}

#[test]
fn ssh_key_lifecycle() {
    let fake = Fake::start();
    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "bad", "public_key": "-----BEGIN OPENSSH PRIVATE KEY-----"})),
    );
    assert_eq!((r.status, r.code()), (422, "invalid_input".into()));
    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "only-name"})),
    );
    assert_eq!(
        r.json()["error"]["details"]["fields"][0]["name"],
        "public_key"
    );

    let id = fake.add_ssh_key("seeded", &fake::test_public_key("seeded", "x"));
    let r = call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "mine", "public_key": KEY})),
    );
    let mine = r.json()["ssh_key"]["id"].as_u64().unwrap();
    let v = get(
        &fake,
        &format!("/v1/ssh_keys?fingerprint={}", KEY_FP.replace(':', "%3A")),
    )
    .json();
    assert_eq!(v["ssh_keys"].as_array().unwrap().len(), 1);
    assert_eq!(v["ssh_keys"][0]["id"], mine);
    assert_eq!(
        get(&fake, "/v1/ssh_keys?name=seeded").json()["ssh_keys"][0]["id"],
        id
    );
    assert_eq!(
        get(&fake, &format!("/v1/ssh_keys/{mine}")).json()["ssh_key"]["name"],
        "mine"
    );

    // A server may reference keys by id or by name.
    let r = create(
        &fake,
        json!({"name": "k", "server_type": "cx23", "image": "ubuntu-24.04", "ssh_keys": ["seeded", mine]}),
    );
    assert_eq!(r.status, 201, "{}", r.body);

    let r = call(&fake, "DELETE", &format!("/v1/ssh_keys/{mine}"), None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(get(&fake, &format!("/v1/ssh_keys/{mine}")).status, 404);
    assert_eq!(
        call(&fake, "DELETE", &format!("/v1/ssh_keys/{mine}"), None).status,
        404
    );
    assert_eq!(
        fake.ssh_keys().iter().map(|k| k.0).collect::<Vec<_>>(),
        [id]
    );
}

#[test]
fn delete_protected_and_delete_then_404() {
    let fake = Fake::start();
    let locked = fake.add_server_with("locked", &[], true);
    let r = call(&fake, "DELETE", &format!("/v1/servers/{locked}"), None);
    assert_eq!((r.status, r.code()), (423, "protected".into()));
    assert_eq!(
        fake.server_json("locked").unwrap()["protection"]["delete"],
        true
    );
    assert_eq!(
        call(&fake, "DELETE", "/v1/servers/424242", None).code(),
        "not_found"
    );

    let id = fake.add_server("gone");
    let r = call(&fake, "DELETE", &format!("/v1/servers/{id}"), None);
    assert_eq!(r.status, 200);
    let a = r.json()["action"].clone();
    assert_eq!(
        (a["command"].as_str(), a["status"].as_str()),
        (Some("delete_server"), Some("running"))
    );
    assert_eq!(
        get(&fake, &format!("/v1/servers/{id}")).json()["server"]["status"],
        "deleting"
    );
    // A repeated DELETE while deleting returns the same pending action.
    let again = call(&fake, "DELETE", &format!("/v1/servers/{id}"), None).json();
    assert_eq!(again["action"]["id"], a["id"]);
    action(&fake, &a["id"]);
    assert_eq!(action(&fake, &a["id"])["status"], "success");
    assert_eq!(get(&fake, &format!("/v1/servers/{id}")).code(), "not_found");
    assert_eq!(fake.server_names(), ["locked"]);
}

#[test]
fn fail_action_create_start_delete() {
    let fake = Fake::start();
    fake.fail_action("create_server");
    let v = create(&fake, web1()).json();
    action(&fake, &v["action"]["id"]);
    let a = action(&fake, &v["action"]["id"]);
    assert_eq!(a["status"], "error");
    assert_eq!(
        a["error"],
        json!({"code": "action_failed", "message": "Action failed"})
    );
    assert!(a["finished"].is_string());
    assert_eq!(
        action(&fake, &v["next_actions"][0]["id"])["status"],
        "error"
    );
    assert_eq!(fake.server_json("web1").unwrap()["status"], "initializing");

    let fake = Fake::start();
    fake.fail_action("start_server");
    fake.set_action_polls(1);
    let v = create(&fake, web1()).json();
    assert_eq!(action(&fake, &v["action"]["id"])["status"], "success");
    assert_eq!(
        action(&fake, &v["next_actions"][0]["id"])["status"],
        "error"
    );
    assert_eq!(fake.server_json("web1").unwrap()["status"], "off");

    fake.fail_action("delete_server");
    let id = fake.add_server("keep");
    let a = call(&fake, "DELETE", &format!("/v1/servers/{id}"), None).json();
    assert_eq!(action(&fake, &a["action"]["id"])["status"], "error");
    assert_eq!(fake.server_json("keep").unwrap()["status"], "running");
}

#[test]
fn ipv4_knob_and_public_net() {
    let fake = Fake::start();
    fake.set_ipv4_enabled(false);
    let v = create(&fake, web1()).json();
    assert_eq!(v["server"]["public_net"]["ipv4"], Value::Null);
    assert_eq!(v["server"]["public_net"]["ipv6"]["ip"], "2001:db8:1::/64");
    fake.set_ipv4_enabled(true);
    let v = create(
        &fake,
        json!({"name": "v4only", "server_type": "cx23", "image": "ubuntu-24.04",
                                 "public_net": {"enable_ipv4": true, "enable_ipv6": false}}),
    )
    .json();
    assert_eq!(v["server"]["public_net"]["ipv6"], Value::Null);
    assert_eq!(v["server"]["public_net"]["ipv4"]["ip"], "203.0.113.11");
    let r = create(
        &fake,
        json!({"name": "none", "server_type": "cx23", "image": "ubuntu-24.04",
                                 "public_net": {"enable_ipv4": false, "enable_ipv6": false}}),
    );
    assert_eq!(r.status, 422);
}

#[test]
fn status_faults_have_envelopes_and_are_consumed() {
    let fake = Fake::start();
    let cases = [
        (429, "rate_limit_exceeded"),
        (409, "conflict"),
        (500, "server_error"),
        (503, "unavailable"),
        (504, "timeout"),
        (423, "locked"),
        (412, "resource_unavailable"),
    ];
    for (status, code) in cases {
        fake.inject("GET", "/v1/ssh_keys", Fault::Status(status), 1);
        let r = get(&fake, "/v1/ssh_keys");
        assert_eq!((r.status, r.code()), (status, code.to_string()));
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.header("x-correlation-id").is_some());
        if status == 429 {
            assert_eq!(r.header("ratelimit-remaining"), Some("0"));
            let reset: u64 = r.header("ratelimit-reset").unwrap().parse().unwrap();
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert!(reset <= now + 1 && reset + 5 >= now);
        }
        if status == 412 {
            assert_eq!(r.json()["error"]["message"], "error during placement");
        }
        assert_eq!(get(&fake, "/v1/ssh_keys").status, 200, "fault used up");
    }
    // Several injections queue up FIFO; other methods/paths are untouched.
    fake.inject("GET", "/v1/actions", Fault::Status(503), 2);
    fake.inject("GET", "/v1/actions", Fault::Status(429), 1);
    assert_eq!(get(&fake, "/v1/ssh_keys").status, 200);
    let seen: Vec<u16> = (0..4).map(|_| get(&fake, "/v1/actions/1").status).collect();
    assert_eq!(seen, [503, 503, 429, 404]);
    assert_eq!(
        fake.count("GET", "/v1/actions/1"),
        4,
        "faulted requests are logged"
    );
}

#[test]
fn bad_gateway_is_not_json() {
    let fake = Fake::start();
    fake.inject("GET", "/v1/servers", Fault::BadGateway, 1);
    let r = get(&fake, "/v1/servers");
    assert_eq!(r.status, 502);
    assert_eq!(r.header("content-type"), Some("text/html"));
    assert_eq!(r.body, "<html>502 Bad Gateway</html>");
    assert!(serde_json::from_str::<Value>(&r.body).is_err());
    assert_eq!(get(&fake, "/v1/servers").status, 200);
}

#[test]
fn drop_fault_closes_without_answer_and_applies_nothing() {
    let fake = Fake::start();
    fake.inject("POST", "/v1/servers", Fault::Drop, 1);
    let mut c = Client::connect(&fake);
    let answer = c.send(
        "POST",
        "/v1/servers",
        Some(TOKEN),
        Some(&web1().to_string()),
        false,
    );
    assert!(answer.is_none(), "no response expected");
    assert!(fake.server_names().is_empty());
    assert_eq!(fake.count("POST", "/v1/servers"), 1);
    assert_eq!(create(&fake, web1()).status, 201);
}

#[test]
fn apply_then_drop_creates_the_server() {
    let fake = Fake::start();
    fake.inject("POST", "/v1/servers", Fault::ApplyThenDrop, 1);
    let mut c = Client::connect(&fake);
    let answer = c.send(
        "POST",
        "/v1/servers",
        Some(TOKEN),
        Some(&web1().to_string()),
        false,
    );
    assert!(answer.is_none());
    assert_eq!(fake.server_names(), ["web1"]);
    let found = get(&fake, "/v1/servers?name=web1").json();
    assert_eq!(found["servers"][0]["status"], "initializing");
    assert_eq!(fake.count("POST", "/v1/servers"), 1);
    assert_eq!(
        create(&fake, web1()).status,
        409,
        "a blind retry would collide"
    );
}

/// A delayed answer comes no sooner than its delay, and meanwhile the fake answers others
/// (the fault was used up by the first request). Asserted by order, with a delay far longer
/// than a loopback request takes even on a loaded machine.
#[test]
fn delay_fault_answers_late() {
    const DELAY: Duration = Duration::from_secs(3);
    let fake = Fake::start();
    fake.inject("GET", "/v1/locations", Fault::Delay(DELAY), 1);
    let mut slow = Client::connect(&fake);
    slow.stream
        .set_read_timeout(Some(DELAY + Duration::from_secs(30)))
        .unwrap();
    let sent = Instant::now();
    let req = format!(
        "GET /v1/locations HTTP/1.1\r\nHost: fake\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    );
    slow.stream.write_all(req.as_bytes()).unwrap();
    // Once the fake has it (and has used the fault up), another request is answered at once.
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.count("GET", "/v1/locations") == 0 {
        assert!(Instant::now() < deadline, "the fake never saw the request");
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(get(&fake, "/v1/locations").status, 200);
    // ... while the first one still waits.
    slow.stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let pending = slow.stream.peek(&mut byte);
    assert!(
        matches!(&pending, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the delayed answer came before the other one: {pending:?}"
    );
    slow.stream.set_nonblocking(false).unwrap();
    let r = slow.read_response().expect("the delayed answer");
    assert_eq!(r.status, 200);
    assert!(
        sent.elapsed() >= DELAY,
        "answered after {:?}",
        sent.elapsed()
    );
}

#[test]
fn request_log() {
    let fake = Fake::start();
    get(&fake, "/v1/servers?name=a&per_page=50");
    call(
        &fake,
        "POST",
        "/v1/ssh_keys",
        Some(json!({"name": "k", "public_key": KEY})),
    );
    call_as(&fake, None, "GET", "/v1/ssh_keys", None);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        (
            reqs[0].method.as_str(),
            reqs[0].path.as_str(),
            reqs[0].query.as_str()
        ),
        ("GET", "/v1/servers", "name=a&per_page=50")
    );
    assert_eq!(
        reqs[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert!(reqs[1].body.contains("\"public_key\""));
    assert_eq!(reqs[1].query, "");
    assert_eq!(reqs[2].authorization, None);
    assert_eq!(fake.count("GET", "/v1/servers"), 1);
    assert_eq!(fake.count("GET", "/v1/ssh_keys"), 1);
    assert_eq!(fake.count("POST", "/v1/ssh_keys"), 1);
    assert_eq!(fake.count_prefix("GET", "/v1/s"), 2);
    assert_eq!(fake.count_prefix("DELETE", "/v1"), 0);
    fake.clear_requests();
    assert!(fake.requests().is_empty());
    get(&fake, "/v1/images");
    assert_eq!(fake.count("GET", "/v1/images"), 1);
}

#[test]
fn works_with_ureq_and_concurrent_clients() {
    let fake = Fake::start();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let auth = format!("Bearer {TOKEN}");
    let mut r = agent
        .get(format!("{}/server_types", fake.endpoint()))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert!(
        v["server_types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "cx23")
    );
    let mut r = agent
        .post(format!("{}/servers", fake.endpoint()))
        .header("Authorization", &auth)
        .content_type("application/json")
        .send(web1().to_string())
        .unwrap();
    assert_eq!(r.status(), 201);
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(v["server"]["name"], "web1");
    let r = agent
        .get(format!("{}/servers/1", fake.endpoint()))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(r.status(), 404);

    let handles: Vec<_> = (0..8)
        .map(|i| {
            let addr = fake.addr();
            let _ = i;
            thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.write_all(format!("GET /v1/locations HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).unwrap();
                let _ = s.shutdown(Shutdown::Both);
                out.starts_with("HTTP/1.1 200 ")
            })
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
}

#[test]
fn truncate_garble_and_substitute_faults_apply_the_request() {
    let fake = Fake::start();
    // Truncate: the server is made, the answer is cut short (the client sees no answer).
    fake.inject("POST", "/v1/servers", Fault::Truncate, 1);
    let mut c = Client::connect(&fake);
    let answer = c.send(
        "POST",
        "/v1/servers",
        Some(TOKEN),
        Some(&web1().to_string()),
        false,
    );
    assert!(answer.is_none());
    assert_eq!(fake.server_names(), ["web1"]);
    // Garble: a complete, well-framed answer that is not JSON.
    fake.inject("GET", "/v1/servers", Fault::Garble, 1);
    let r = get(&fake, "/v1/servers?name=web1");
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<Value>(&r.body).is_err(),
        "{}",
        r.body
    );
    assert!(r.body.starts_with("{\"meta\":"), "{}", r.body);
    // Substitute: the real answer with one text replaced.
    fake.inject(
        "GET",
        "/v1/locations",
        Fault::Substitute("Nuremberg".into(), "Nur\\u001bemberg".into()),
        1,
    );
    let v = get(&fake, "/v1/locations?name=nbg1").json();
    assert_eq!(v["locations"][0]["city"], "Nur\u{1b}emberg");
    // ApplyThenHtml: done, but the answer is a non-JSON 500.
    fake.inject("DELETE", "/v1/servers", Fault::ApplyThenHtml(500), 1);
    let id = fake.server_json("web1").unwrap()["id"].as_u64().unwrap();
    let mut c = Client::connect(&fake);
    let r = c
        .send(
            "DELETE",
            &format!("/v1/servers/{id}"),
            Some(TOKEN),
            None,
            false,
        )
        .unwrap();
    assert_eq!(r.status, 500);
    assert_eq!(r.body, "<html>500 Internal Server Error</html>");
    assert_eq!(fake.server_json("web1").unwrap()["status"], "deleting");
}
