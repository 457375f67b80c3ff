//! Fake fidelity: the fake API's firewall answers (and `public_net.firewalls` on servers)
//! checked against the schemas of `../shared/openapi/hcloud.json`, with a small validator
//! for the parts of JSON Schema that file uses (`$ref`, `allOf`, `type`, `nullable`,
//! `properties`, `required`, `items`, `enum`). Unknown keys in an answer are reported too,
//! so a typo in the fake cannot hide. The schema file must exist: without it this fails.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use common::*;
use serde_json::{Value, json};

fn openapi() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/openapi/hcloud.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; this test checks the fake against that file and needs it",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// One request over a fresh connection: (status, JSON body).
fn call(fake: &Fake, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut s = TcpStream::connect(fake.addr()).unwrap();
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} /v1{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, serde_json::from_str(body).unwrap())
}

struct Validator<'a> {
    root: &'a Value,
    errors: Vec<String>,
}

impl Validator<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.trim_start_matches("#/components/schemas/");
                &self.root["components"]["schemas"][name]
            }
            None => schema,
        }
    }

    fn check(&mut self, schema: &Value, v: &Value, at: &str) {
        let schema = self.resolve(schema).clone();
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            if v.is_null() && schema["nullable"] == true {
                return;
            }
            for s in all {
                self.check(s, v, at);
            }
        }
        if v.is_null() {
            if schema["nullable"] != true && schema.get("type").is_some() {
                self.errors.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array) {
            if !e.contains(v) {
                self.errors.push(format!("{at}: {v} not in {e:?}"));
            }
        }
        let ty = schema.get("type").and_then(Value::as_str);
        let ok = match ty {
            Some("object") => v.is_object(),
            Some("array") => v.is_array(),
            Some("string") => v.is_string(),
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            _ => true,
        };
        if !ok {
            self.errors
                .push(format!("{at}: {v} is not of type {}", ty.unwrap_or("?")));
            return;
        }
        if let Some(items) = schema.get("items") {
            for (i, item) in v.as_array().into_iter().flatten().enumerate() {
                self.check(items, item, &format!("{at}[{i}]"));
            }
        }
        let Some(obj) = v.as_object() else { return };
        for req in schema["required"].as_array().into_iter().flatten() {
            let key = req.as_str().unwrap_or_default();
            if !obj.contains_key(key) {
                self.errors.push(format!("{at}: missing required '{key}'"));
            }
        }
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (k, val) in obj {
                match props.get(k) {
                    Some(s) => self.check(s, val, &format!("{at}.{k}")),
                    None => self.errors.push(format!("{at}: unknown key '{k}'")),
                }
            }
        }
    }
}

#[track_caller]
fn assert_valid(root: &Value, schema_name: &str, v: &Value) {
    let mut val = Validator {
        root,
        errors: Vec::new(),
    };
    val.check(
        &json!({"$ref": format!("#/components/schemas/{schema_name}")}),
        v,
        schema_name,
    );
    assert!(val.errors.is_empty(), "{:#?}\n{v:#}", val.errors);
}

#[test]
fn firewall_answers_match_the_openapi_schemas() {
    let root = openapi();
    let fake = Fake::start();
    let body = json!({
        "name": "pegasus-kamal",
        "labels": {"managed-by": "pegasus"},
        "rules": [
            {"direction": "in", "protocol": "tcp", "port": "22", "source_ips": ["0.0.0.0/0", "::/0"], "description": "SSH"},
            {"direction": "in", "protocol": "icmp", "source_ips": ["0.0.0.0/0", "::/0"]},
        ],
    });
    let (status, created) = call(&fake, "POST", "/firewalls", Some(&body));
    assert_eq!(status, 201, "{created}");
    assert_valid(&root, "create_firewall_response", &created);
    let id = created["firewall"]["id"].as_u64().unwrap();

    let (status, list) = call(&fake, "GET", "/firewalls?name=pegasus-kamal", None);
    assert_eq!(status, 200);
    assert_valid(&root, "list_firewalls_response", &list);
    assert_eq!(list["firewalls"].as_array().unwrap().len(), 1);
    let (_, none) = call(&fake, "GET", "/firewalls?name=other", None);
    assert_eq!(none["firewalls"], json!([]));

    let (status, dup) = call(&fake, "POST", "/firewalls", Some(&body));
    assert_eq!(status, 409);
    assert_eq!(dup["error"]["code"], "uniqueness_error");
    assert_valid(&root, "error_response", &dup);

    let bad = json!({"name": "x", "rules": [{"direction": "in", "protocol": "icmp", "port": "22", "source_ips": ["0.0.0.0/0"]}]});
    let (status, err) = call(&fake, "POST", "/firewalls", Some(&bad));
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "invalid_input");

    // Applied at creation: shown on the server and on the firewall.
    let server = json!({"name": "web1", "server_type": "cx23", "image": "ubuntu-24.04",
                        "location": "nbg1", "firewalls": [{"firewall": id}]});
    let (status, made) = call(&fake, "POST", "/servers", Some(&server));
    assert_eq!(status, 201, "{made}");
    let sid = made["server"]["id"].as_u64().unwrap();
    let (_, got) = call(&fake, "GET", &format!("/servers/{sid}"), None);
    // Only public_net: the rest of the server differs from the file where the live API
    // does (see ../shared/openapi/README.md: `datacenter` removed, newer location fields).
    assert_valid(&root, "server_public_net", &got["server"]["public_net"]);
    assert_eq!(
        got["server"]["public_net"]["firewalls"],
        json!([{"id": id, "status": "applied"}])
    );
    let (status, fw) = call(&fake, "GET", &format!("/firewalls/{id}"), None);
    assert_eq!(status, 200);
    assert_valid(&root, "get_firewall_response", &fw);
    assert_eq!(
        fw["firewall"]["applied_to"],
        json!([{"type": "server", "server": {"id": sid}}])
    );

    // An unknown firewall on a create is refused.
    let server = json!({"name": "web2", "server_type": "cx23", "image": "ubuntu-24.04",
                        "firewalls": [{"firewall": 999}]});
    let (status, _) = call(&fake, "POST", "/servers", Some(&server));
    assert_eq!(status, 422);
    let (status, _) = call(&fake, "GET", "/firewalls/999", None);
    assert_eq!(status, 404);
}

/// The catalogue and its prices (`GET /server_types`, `/locations`, `/images`,
/// `/pricing`) against the same schemas. (Here because the validator is; it moves to
/// `tests/common/` with it.)
#[test]
fn catalogue_and_pricing_answers_match_the_openapi_schemas() {
    let root = openapi();
    let fake = Fake::start();
    let (status, mut types) = call(&fake, "GET", "/server_types?per_page=50", None);
    assert_eq!(status, 200);
    // `locations[].available` and `.recommended` are newer than the file
    // (../shared/openapi/README.md): checked here, then left out of the schema check.
    for t in types["server_types"].as_array_mut().unwrap() {
        for l in t["locations"].as_array_mut().unwrap() {
            let l = l.as_object_mut().unwrap();
            assert!(l.remove("available").unwrap().is_boolean());
            assert!(l.remove("recommended").unwrap().is_boolean());
        }
    }
    assert_valid(&root, "list_server_types_response", &types);
    let (status, locations) = call(&fake, "GET", "/locations", None);
    assert_eq!(status, 200);
    assert_valid(&root, "list_locations_response", &locations);
    let (status, images) = call(&fake, "GET", "/images?type=system&per_page=50", None);
    assert_eq!(status, 200);
    assert_valid(&root, "list_images_response", &images);
    let (status, pricing) = call(&fake, "GET", "/pricing", None);
    assert_eq!(status, 200);
    assert_valid(&root, "list_prices_response", &pricing);

    // The prices: gross = net + 19% VAT, exact, per location; the same in both answers.
    let pricing = &pricing["pricing"];
    assert_eq!(
        (&pricing["currency"], &pricing["vat_rate"]),
        (&json!("EUR"), &json!("19.00"))
    );
    let type_price = |types: &Value, name: &str, location: &str| -> Value {
        let t = types
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no type {name}"));
        t["prices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["location"] == location)
            .cloned()
            .unwrap_or_else(|| panic!("no price for {name} in {location}"))
    };
    let cx23 = type_price(&types["server_types"], "cx23", "nbg1");
    assert_eq!(
        cx23["price_monthly"],
        json!({"net": "3.4900000000", "gross": "4.1531000000000000"})
    );
    assert_eq!(
        cx23["price_hourly"],
        json!({"net": "0.0056000000", "gross": "0.0066640000000000"})
    );
    // The price follows the location: cpx22 costs more in Ashburn than in Nuremberg.
    let (nbg1, ash) = (
        type_price(&types["server_types"], "cpx22", "nbg1"),
        type_price(&types["server_types"], "cpx22", "ash"),
    );
    assert_eq!(nbg1["price_monthly"]["gross"], "7.7231000000000000");
    assert_eq!(ash["price_monthly"]["gross"], "9.5081000000000000");
    for name in ["cx23", "cpx22", "cax11"] {
        for location in ["fsn1", "nbg1", "ash"] {
            let offered = types["server_types"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == name && t["prices"].to_string().contains(location));
            if offered {
                assert_eq!(
                    type_price(&pricing["server_types"], name, location),
                    type_price(&types["server_types"], name, location)
                );
            }
        }
    }
    let ipv4 = pricing["primary_ips"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["type"] == "ipv4")
        .unwrap();
    let ipv4_nbg1 = ipv4["prices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["location"] == "nbg1")
        .unwrap();
    assert_eq!(
        ipv4_nbg1["price_monthly"],
        json!({"net": "0.5100000000", "gross": "0.6069000000000000"})
    );
}
