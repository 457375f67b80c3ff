//! The catalogue: server types, locations and whether a type can be ordered where.

use serde::Deserialize;

use super::pricing::LocationPrice;
use super::servers::Image;
use super::values::Architecture;
use super::{Client, Listed, query_escape};
use crate::error::{Error, Result};
use crate::text::Untrusted;

#[derive(Debug, Clone, Deserialize)]
pub struct ServerType {
    #[serde(default)]
    pub id: u64,
    pub name: Untrusted,
    #[serde(default)]
    pub description: Untrusted,
    #[serde(default)]
    pub architecture: Architecture,
    /// vCPUs.
    #[serde(default)]
    pub cores: u32,
    /// Memory in GB (a number: 0.5 exists).
    #[serde(default)]
    pub memory: f64,
    /// Disk in GB.
    #[serde(default)]
    pub disk: f64,
    /// Gross prices per location (see `pricing`); a malformed one makes the answer
    /// unreadable.
    #[serde(default)]
    pub prices: Vec<LocationPrice>,
    /// Where the type is offered, each with its own deprecation. Empty when the API gives
    /// no per-location data (then the location check is left to the create).
    #[serde(default)]
    pub locations: Vec<TypeLocation>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TypeLocation {
    pub name: Untrusted,
    pub deprecation: Option<Deprecation>,
    pub available: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Deprecation {
    pub announced: Option<Untrusted>,
    pub unavailable_after: Untrusted,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Location {
    #[serde(default)]
    pub id: u64,
    pub name: Untrusted,
    #[serde(default)]
    pub city: Untrusted,
}

impl Listed for ServerType {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Listed for Location {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Client<'_> {
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

    /// The images `image` names: all architectures of a system image name (deprecated
    /// ones too), or the one image with that id. Empty when there is none.
    pub fn images_named(&self, image: &str) -> Result<Vec<Image>> {
        #[derive(Deserialize)]
        struct One {
            image: Image,
        }
        if !image.is_empty() && image.bytes().all(|b| b.is_ascii_digit()) {
            return match self.get::<One>(&format!("/images/{image}")) {
                Ok(one) => Ok(vec![one.image]),
                Err(Error::Api(api)) if api.status == 404 || api.code() == "not_found" => {
                    Ok(Vec::new())
                }
                Err(e) => Err(e),
            };
        }
        self.get_all(
            &format!(
                "/images?name={}&include_deprecated=true",
                query_escape(image)
            ),
            "images",
        )
    }

    /// The system images for an architecture (all of them for one pegasus does not
    /// know), for a message.
    pub fn system_images(&self, architecture: &Architecture) -> Result<Vec<Image>> {
        let path = match architecture {
            Architecture::Other(_) => "/images?type=system".to_string(),
            arch => format!("/images?type=system&architecture={}", arch.word()),
        };
        self.get_all(&path, "images")
    }
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
                crate::timefmt::parse_rfc3339(d.unavailable_after.raw()).is_none_or(|at| at > now)
            })
    };
    let elsewhere: Vec<String> = t
        .locations
        .iter()
        .filter(|l| l.name != location && orderable(l))
        .map(|l| l.name.to_string())
        .collect();
    let alternatives = if elsewhere.is_empty() {
        format!(
            "it cannot be ordered in any location any more; pick another type with -t (e.g. {})",
            crate::defaults::DEFAULT_SERVER_TYPE
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
            Some(d) => format!(" since {}", date_part(&d.unavailable_after)),
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
            date_part(&d.unavailable_after)
        )
    }))
}

/// The date of an API time stamp, escaped for a message.
fn date_part(stamp: &Untrusted) -> Untrusted {
    Untrusted::new(crate::timefmt::date_part(stamp.raw()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
