//! The Hetzner Cloud API client: typed requests and answers, pagination, the one
//! non-idempotent call (`POST /servers`) made safe, and action polling. No printing:
//! progress goes to a callback, waits to the [`Observer`](crate::http::Observer).
//!
//! One file per resource: `servers`, `keys`, `firewalls`, `catalog` (types and locations),
//! `pricing` (prices, the currency), `zones` (DNS), `actions` (state and waiting). This
//! file holds the client and what they share.

mod actions;
mod catalog;
mod firewalls;
mod keys;
mod pricing;
mod servers;
mod values;
mod zones;

pub use actions::{Action, ActionError, Poll, Waited, next_poll_delay};
pub use catalog::{Deprecation, Location, ServerType, TypeLocation, check_type_location};
pub use firewalls::{Firewall, NewFirewall, Rule, kamal_rules};
pub use keys::SshKey;
pub use pricing::{Currency, Decimal, Ipv4Price, LocationPrice, Price, Pricing, price};
pub use servers::{Created, FirewallRef, Image, Named, NewServer, Protection, PublicNet, Server};
pub use values::{
    ActionStatus, Architecture, ImageKind, Ipv4Block, Ipv6Block, ServerStatus, ZoneMode,
};
pub use zones::{Nameservers, Placed, Record, RrSet, Unplaced, Written, Zone, place, zone_for};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::http::Http;

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
        self.http.get(path)
    }

    /// Every item of a listing, across all pages (50 per page, the API's maximum),
    /// bounded (SPEC §7): each page is decoded straight into `T`s, the listing stops at
    /// `meta.pagination.last_page`, and a page that repeats an id already seen, lies
    /// past the `total_entries` it announces, or goes beyond [`MAX_PAGES`] is an error.
    fn get_all<T: Listed>(&self, path: &str, key: &str) -> Result<Vec<T>> {
        let mut items: Vec<T> = Vec::new();
        self.each_page(path, key, &mut |text| {
            let page = page::decode::<T>(&text, key)?;
            let ids = page.items.iter().map(T::id).collect();
            items.extend(page.items);
            Ok((ids, page.pagination))
        })?;
        Ok(items)
    }

    /// [`get_all`](Self::get_all)'s loop, compiled once for every item type: `take`
    /// decodes one page's text, keeps its items and gives back their ids and the page's
    /// pagination (a page that cannot be decoded is asked for again, and kept once).
    fn each_page(
        &self,
        path: &str,
        key: &str,
        take: &mut dyn FnMut(String) -> Result<(Vec<u64>, Option<page::Pagination>)>,
    ) -> Result<()> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let what = key.replace('_', " ");
        let mut seen = std::collections::HashSet::new();
        let mut page = 1u64;
        loop {
            let url = format!("{path}{sep}page={page}&per_page={PER_PAGE}");
            let (ids, pagination) = self.http.get_with(&url, take)?;
            for id in ids {
                if !seen.insert(id) {
                    return Err(Error::Failed(format!(
                        "the Hetzner API repeated id {id} on page {page} of the {what}; \
                         stopped reading a listing that does not end"
                    )));
                }
            }
            let Some(p) = pagination else { break };
            if let Some(total) = p.total_entries {
                let per_page = p.per_page.unwrap_or(PER_PAGE).max(1);
                let past = page.saturating_sub(1).saturating_mul(per_page) >= total.max(1);
                // (Every item kept so far has its own id.)
                if past || seen.len() as u64 > total {
                    return Err(Error::Failed(format!(
                        "the Hetzner API announced {total} {what} but kept sending pages \
                         (page {page}); stopped reading a listing that does not end"
                    )));
                }
            }
            let next = match (p.next_page, p.last_page) {
                (Some(next), Some(last)) if next > page && page < last => next.min(last),
                (Some(next), None) if next > page => next,
                _ => break,
            };
            if next > MAX_PAGES {
                return Err(Error::Failed(format!(
                    "the Hetzner API has more than {MAX_PAGES} pages of {what}; stopped reading"
                )));
            }
            page = next;
        }
        Ok(())
    }
}

/// Items per page: the API's maximum.
const PER_PAGE: u64 = 50;
/// No listing reads more pages than this (50,000 items), whatever the API says.
const MAX_PAGES: u64 = 1000;

/// An item of a listing: it has an id, so a page repeating one is noticed.
pub(crate) trait Listed: DeserializeOwned {
    fn id(&self) -> u64;
}

mod page {
    //! One page of a listing, decoded into typed items under the listing's key
    //! (`servers`, `ssh_keys`, …) without a generic JSON tree.

    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserialize;
    use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    use crate::error::Result;
    use crate::http::unreadable;

    pub struct Page<T> {
        pub items: Vec<T>,
        pub pagination: Option<Pagination>,
    }

    #[derive(Deserialize)]
    pub struct Pagination {
        pub per_page: Option<u64>,
        pub next_page: Option<u64>,
        pub last_page: Option<u64>,
        pub total_entries: Option<u64>,
    }

    #[derive(Deserialize)]
    struct Meta {
        pagination: Option<Pagination>,
    }

    pub fn decode<T: DeserializeOwned>(text: &str, key: &str) -> Result<Page<T>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let page = PageSeed::<T> {
            key,
            items: PhantomData,
        }
        .deserialize(&mut de)
        .map_err(unreadable)?;
        de.end().map_err(unreadable)?;
        Ok(page)
    }

    struct PageSeed<'k, T> {
        key: &'k str,
        items: PhantomData<T>,
    }

    impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for PageSeed<'_, T> {
        type Value = Page<T>;
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Page<T>, D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de, T: DeserializeOwned> Visitor<'de> for PageSeed<'_, T> {
        type Value = Page<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "an object with '{}'", self.key)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page<T>, A::Error> {
            let mut items = None;
            let mut pagination = None;
            while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if k == self.key {
                    items = Some(map.next_value::<Vec<T>>()?);
                } else if k == "meta" {
                    pagination = map.next_value::<Option<Meta>>()?.and_then(|m| m.pagination);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            let items = items
                .ok_or_else(|| de::Error::custom(format!("no '{}' in the answer", self.key)))?;
            Ok(Page { items, pagination })
        }
    }
}

fn decode<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(bad_answer)
}

fn bad_answer(e: impl std::fmt::Display) -> Error {
    crate::http::unreadable(e)
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
