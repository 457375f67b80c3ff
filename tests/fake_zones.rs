//! Tests of the fake API's DNS zones and record sets (`tests/common/fake/zones.rs`)
//! against the shapes and errors of the OpenAPI description: every answer these tests get
//! is checked against the schema of its operation in `fixtures/openapi/hcloud.json`
//! (`tests/common/openapi.rs`), errors included.

#[path = "common/fake.rs"]
mod fake;
#[path = "common/openapi.rs"]
mod openapi;

use fake::{Fake, TOKEN};
use serde_json::{Value, json};

struct Api {
    fake: Fake,
    agent: ureq::Agent,
}

impl Api {
    fn new() -> Api {
        Api {
            fake: Fake::start(),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        }
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.fake.endpoint());
        let auth = format!("Bearer {TOKEN}");
        let answer = match (method, body) {
            ("GET", _) => self.agent.get(&url).header("Authorization", &auth).call(),
            (_, body) => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .content_type("application/json")
                .send(body.unwrap_or(Value::Null).to_string()),
        };
        let mut r = answer.unwrap();
        let text = r.body_mut().read_to_string().unwrap();
        let (status, v) = (r.status().as_u16(), serde_json::from_str(&text).unwrap());
        openapi::assert_answer_to(method, path, status, &v);
        (status, v)
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body))
    }
}

#[test]
fn zones_list_filter_get_and_create() {
    let api = Api::new();
    let id = api.fake.add_zone("example.com");
    api.fake.add_secondary_zone("example.org");
    let (status, v) = api.get("/zones?name=example.com");
    assert_eq!(status, 200);
    let zones = v["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 1);
    let z = &zones[0];
    assert_eq!(
        (z["id"].as_u64(), &z["mode"]),
        (Some(id), &json!("primary"))
    );
    for key in [
        "authoritative_nameservers",
        "created",
        "labels",
        "protection",
        "record_count",
        "registrar",
        "status",
        "ttl",
    ] {
        assert!(!z[key].is_null(), "{key} missing in {z}");
    }
    assert_eq!(z["record_count"], 4, "SOA and three NS");
    assert_eq!(v["meta"]["pagination"]["total_entries"], 1);
    let (_, v) = api.get("/zones?mode=secondary");
    assert_eq!(v["zones"][0]["name"], "example.org");
    let (_, v) = api.get("/zones");
    assert_eq!(v["zones"].as_array().unwrap().len(), 2);

    let (status, v) = api.get("/zones/example.com");
    assert_eq!((status, &v["zone"]["id"]), (200, &json!(id)));
    let (status, v) = api.get("/zones/nope.example");
    assert_eq!((status, &v["error"]["code"]), (404, &json!("not_found")));

    let (status, v) = api.post(
        "/zones",
        json!({"name": "example.net", "mode": "primary", "ttl": 600}),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["zone"]["ttl"], 600);
    assert_eq!(v["action"]["command"], "create_zone");
    assert_eq!(v["action"]["resources"][0]["type"], "zone");
    let (status, v) = api.post("/zones", json!({"name": "example.net", "mode": "primary"}));
    assert_eq!(
        (status, &v["error"]["code"]),
        (409, &json!("uniqueness_error"))
    );
}

#[test]
fn rrsets_create_get_set_add_and_their_actions() {
    let api = Api::new();
    let id = api.fake.add_zone("example.com");
    let (status, v) = api.post(
        &format!("/zones/{id}/rrsets"),
        json!({"name": "www", "type": "A", "records": [{"value": "198.51.100.1", "comment": "web"}], "ttl": 300}),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["rrset"]["id"], "www/A");
    assert_eq!(v["rrset"]["zone"], id);
    assert_eq!(v["action"]["command"], "create_rrset");
    assert_eq!(
        v["action"]["resources"],
        json!([{"id": id, "type": "zone"}])
    );
    // The action is polled like any other: through /actions?id= and /zones/actions/{id}.
    let aid = v["action"]["id"].as_u64().unwrap();
    let (_, a) = api.get(&format!("/zones/actions/{aid}"));
    assert_eq!(a["action"]["status"], "running");
    let (_, a) = api.get(&format!("/actions?id={aid}"));
    assert_eq!(a["actions"][0]["status"], "success");

    let (status, v) = api.post(
        "/zones/example.com/rrsets",
        json!({"name": "www", "type": "A", "records": [{"value": "198.51.100.2"}]}),
    );
    assert_eq!(
        (status, &v["error"]["code"]),
        (409, &json!("uniqueness_error"))
    );
    let (status, v) = api.post(
        &format!("/zones/{id}/rrsets"),
        json!({"name": "bad", "type": "A", "records": [{"value": "2001:db8::1"}]}),
    );
    assert_eq!(
        (status, &v["error"]["code"]),
        (422, &json!("invalid_input"))
    );

    let (status, v) = api.post(
        &format!("/zones/{id}/rrsets/www/A/actions/set_records"),
        json!({"records": [{"value": "203.0.113.10"}]}),
    );
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["action"]["command"], "set_rrset_records");
    let (_, v) = api.get(&format!("/zones/{id}/rrsets/www/A"));
    assert_eq!(v["rrset"]["records"], json!([{"value": "203.0.113.10"}]));
    assert_eq!(v["rrset"]["ttl"], 300, "set_records keeps the TTL");

    let (status, v) = api.post(
        &format!("/zones/{id}/rrsets/www/A/actions/add_records"),
        json!({"records": [{"value": "203.0.113.11"}, {"value": "203.0.113.10"}]}),
    );
    assert_eq!(
        (status, &v["action"]["command"]),
        (201, &json!("add_rrset_records"))
    );
    assert_eq!(
        api.fake.rrset("example.com", "www", "A").unwrap().values,
        ["203.0.113.10", "203.0.113.11"]
    );
    // add_records makes a missing set.
    let (status, _) = api.post(
        &format!("/zones/{id}/rrsets/@/AAAA/actions/add_records"),
        json!({"records": [{"value": "2001:db8:1::1"}], "ttl": 120}),
    );
    assert_eq!(status, 201);
    assert_eq!(
        api.fake.rrset("example.com", "@", "AAAA").unwrap().ttl,
        Some(120)
    );
    // set_records does not.
    let (status, v) = api.post(
        &format!("/zones/{id}/rrsets/new/A/actions/set_records"),
        json!({"records": [{"value": "203.0.113.10"}]}),
    );
    assert_eq!((status, &v["error"]["code"]), (404, &json!("not_found")));

    // The list filters by name and (repeatable) type.
    let (_, v) = api.get(&format!("/zones/{id}/rrsets?name=@&type=A&type=AAAA"));
    let ids: Vec<&str> = v["rrsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["@/AAAA"]);
    let (_, v) = api.get(&format!("/zones/{id}/rrsets?name=@"));
    assert_eq!(v["rrsets"].as_array().unwrap().len(), 3, "SOA, NS, AAAA");
}

#[test]
fn secondary_zones_answer_incorrect_zone_mode() {
    let api = Api::new();
    let id = api.fake.add_secondary_zone("example.org");
    let writes = [
        (
            format!("/zones/{id}/rrsets"),
            json!({"name": "www", "type": "A", "records": [{"value": "198.51.100.1"}]}),
        ),
        (
            format!("/zones/{id}/rrsets/www/A/actions/set_records"),
            json!({"records": [{"value": "198.51.100.1"}]}),
        ),
        (
            format!("/zones/{id}/rrsets/www/A/actions/add_records"),
            json!({"records": [{"value": "198.51.100.1"}]}),
        ),
    ];
    for (path, body) in writes {
        let (status, v) = api.post(&path, body);
        assert_eq!(
            (status, &v["error"]["code"]),
            (422, &json!("incorrect_zone_mode")),
            "{path}"
        );
    }
    for path in [
        format!("/zones/{id}/rrsets"),
        format!("/zones/{id}/rrsets/www/A"),
    ] {
        let (status, v) = api.get(&path);
        assert_eq!(
            (status, &v["error"]["code"]),
            (422, &json!("incorrect_zone_mode")),
            "{path}"
        );
    }
}

#[test]
fn remove_records_takes_values_out_and_deletes_an_emptied_set() {
    let api = Api::new();
    api.fake.add_zone("example.com");
    api.fake.add_rrset(
        "example.com",
        "app",
        "A",
        &["192.0.2.1", "192.0.2.2"],
        Some(600),
    );
    let path = "/zones/example.com/rrsets/app/A/actions/remove_records";
    let (status, v) = api.post(path, json!({"records": [{"value": "192.0.2.1"}]}));
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["action"]["command"], "remove_rrset_records");
    let set = api.fake.rrset("example.com", "app", "A").unwrap();
    assert_eq!(
        (set.values, set.ttl),
        (vec!["192.0.2.2".to_string()], Some(600))
    );
    // A value the set does not hold changes nothing; the last one deletes the set.
    let (status, _) = api.post(path, json!({"records": [{"value": "192.0.2.9"}]}));
    assert_eq!(status, 201);
    let (status, _) = api.post(path, json!({"records": [{"value": "192.0.2.2"}]}));
    assert_eq!(status, 201);
    assert_eq!(api.fake.rrset("example.com", "app", "A"), None);
    let (status, v) = api.post(path, json!({"records": [{"value": "192.0.2.2"}]}));
    assert_eq!((status, &v["error"]["code"]), (404, &json!("not_found")));
}
