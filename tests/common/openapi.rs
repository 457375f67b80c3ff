//! The OpenAPI description of the Hetzner Cloud API (`fixtures/openapi/hcloud.json`, see its
//! README for where it comes from and where it differs from the live API), and a small
//! validator for the parts of JSON Schema that file uses: `$ref`, `allOf`, `oneOf`/`anyOf`,
//! `type`, `nullable`, `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `minimum`/`maximum`, `minLength`/`maxLength` and the `date-time` format (`pattern` is not
//! checked). Keys an object schema does not name are reported too, so a typo in the fake
//! cannot hide. The file is in the repository: without it the tests fail.

#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Value, json};

/// The description, read and parsed once per test program.
pub fn root() -> &'static Value {
    static ROOT: OnceLock<Value> = OnceLock::new();
    ROOT.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/openapi/hcloud.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; the fake is checked against it", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// What is wrong with `v` as an instance of `schema` (empty: nothing), each prefixed with
/// where, starting at `at`.
pub fn errors(schema: &Value, v: &Value, at: &str) -> Vec<String> {
    let mut val = Validator {
        root: root(),
        errors: Vec::new(),
    };
    val.check(schema, v, at);
    val.errors
}

/// `v` is a valid `#/components/schemas/{name}`.
#[track_caller]
pub fn assert_valid(name: &str, v: &Value) {
    let errors = errors(&schema_ref(name), v, name);
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}

/// `{"$ref": "#/components/schemas/{name}"}`; the schema must exist.
pub fn schema_ref(name: &str) -> Value {
    assert!(
        root()["components"]["schemas"].get(name).is_some(),
        "no schema {name} in hcloud.json"
    );
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The JSON schema of the answer to `method path` (the path as the description writes it,
/// e.g. `/zones/{id_or_name}`) with `status`.
pub fn answer_schema(method: &str, path: &str, status: u16) -> Value {
    let op = &root()["paths"][path][method.to_ascii_lowercase()];
    assert!(op.is_object(), "no {method} {path} in hcloud.json");
    let responses = &op["responses"];
    let status = status.to_string();
    let answer = if responses.get(&status).is_some() {
        &responses[&status]
    } else {
        &responses[format!("{}xx", &status[..1])]
    };
    let schema = &answer["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "no schema for {method} {path} answering {status} in hcloud.json"
    );
    schema.clone()
}

/// `v`, answered with `status` to `method path`, is what the description says it is.
#[track_caller]
pub fn assert_answer(method: &str, path: &str, status: u16, v: &Value) {
    let errors = errors(
        &answer_schema(method, path, status),
        v,
        &format!("{method} {path} {status}"),
    );
    assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
}

/// The description's path for a concrete one: `/zones/example.com/rrsets/www/A` gives
/// `/zones/{id_or_name}/rrsets/{rr_name}/{rr_type}` (a `/v1` prefix and a query are
/// dropped; of several matches, the one with the most fixed segments).
pub fn template_of(path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/v1").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(usize, &str)> = None;
    for template in root()["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let fits = parts
            .iter()
            .zip(&segments)
            .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
        let fixed = parts.iter().filter(|t| !t.starts_with('{')).count();
        if fits && best.is_none_or(|(n, _)| fixed > n) {
            best = Some((fixed, template));
        }
    }
    match best {
        Some((_, t)) => t.to_string(),
        None => panic!("no path in hcloud.json fits {path}"),
    }
}

/// `v`, answered with `status` to `method` on the concrete `path`, is what the description
/// says (see [`template_of`]). `GET /actions` is described without its `meta`
/// (`fixtures/openapi/README.md`): its `actions` are checked against the description and
/// its `meta` against the `meta` schema every other list has.
#[track_caller]
pub fn assert_answer_to(method: &str, path: &str, status: u16, v: &Value) {
    let template = template_of(path);
    if method == "GET" && template == "/actions" && status == 200 {
        let mut actions = v.clone();
        let meta = actions
            .as_object_mut()
            .and_then(|o| o.remove("meta"))
            .unwrap_or(Value::Null);
        assert_answer(method, &template, status, &actions);
        let errors = errors(&schema_ref("meta"), &meta, "GET /actions 200 .meta");
        assert!(errors.is_empty(), "{errors:#?}\n{v:#}");
        return;
    }
    assert_answer(method, &template, status, v);
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
                let found = &self.root["components"]["schemas"][name];
                assert!(found.is_object(), "unresolved $ref {r}");
                found
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
        for key in ["oneOf", "anyOf"] {
            if let Some(alts) = schema.get(key).and_then(Value::as_array) {
                if v.is_null() && schema["nullable"] == true {
                    return;
                }
                let fits = alts.iter().any(|s| errors(s, v, at).is_empty());
                if !fits {
                    self.errors
                        .push(format!("{at}: {v} fits none of its {key}"));
                }
            }
        }
        if v.is_null() {
            if schema["nullable"] != true && schema.get("type").is_some() {
                self.errors.push(format!("{at}: null but not nullable"));
            }
            return;
        }
        if let Some(e) = schema.get("enum").and_then(Value::as_array)
            && !e.contains(v)
        {
            self.errors.push(format!("{at}: {v} not in {e:?}"));
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
        if let Some(n) = v.as_f64() {
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
                && n < min
            {
                self.errors.push(format!("{at}: {v} is below {min}"));
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
                && n > max
            {
                self.errors.push(format!("{at}: {v} is above {max}"));
            }
        }
        if let Some(s) = v.as_str() {
            let len = s.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
                && len < min
            {
                self.errors.push(format!("{at}: {v} is shorter than {min}"));
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
                && len > max
            {
                self.errors.push(format!("{at}: {v} is longer than {max}"));
            }
            if schema["format"] == "date-time" && !is_date_time(s) {
                self.errors
                    .push(format!("{at}: {v} is not an RFC 3339 date-time"));
            }
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
        let props = schema.get("properties").and_then(Value::as_object);
        let extra = schema.get("additionalProperties");
        for (k, val) in obj {
            match (props.and_then(|p| p.get(k)), extra) {
                (Some(s), _) => self.check(s, val, &format!("{at}.{k}")),
                (None, Some(Value::Bool(false))) => {
                    self.errors.push(format!("{at}: unknown key '{k}'"));
                }
                (None, Some(s)) if s.is_object() => self.check(s, val, &format!("{at}.{k}")),
                (None, _) if props.is_some() => {
                    self.errors.push(format!("{at}: unknown key '{k}'"));
                }
                (None, _) => {}
            }
        }
    }
}

/// `2016-01-30T23:55:00Z` or `…+00:00`, optional fraction: RFC 3339's date-time.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let fixed = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !fixed {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest.as_bytes() {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()),
        _ => false,
    }
}
