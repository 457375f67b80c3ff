//! The Hetzner Cloud API client: typed requests and answers, pagination, the one
//! non-idempotent call (`POST /servers`) made safe, and action polling. No printing:
//! progress goes to a callback, waits to the [`Observer`](crate::http::Observer).
//!
//! One file per resource: `servers`, `keys`, `catalog` (types and locations), `actions`
//! (state and waiting). This file holds the client and what they share.

mod actions;
mod catalog;
mod keys;
mod servers;

pub use actions::{Action, ActionError, Poll, Waited, next_poll_delay};
pub use catalog::{Deprecation, Location, ServerType, TypeLocation, check_type_location};
pub use keys::SshKey;
pub use servers::{Created, Image, IpBlock, Named, NewServer, Protection, PublicNet, Server};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::http::{Http, Method};

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_queries() {
        assert_eq!(query_escape("web-1.example"), "web-1.example");
        assert_eq!(query_escape("a b&c"), "a%20b%26c");
    }
}
