//! Fixed catalogue of the fake Hetzner API: locations, server types, images.
//!
//! Real values where the research notes have them (location ids/names, cpx22 = 109,
//! cpx11 = 22, cax11 = 45, ubuntu-24.04 x86 = 161547269, the deprecation timestamps);
//! the rest (cx23/cx22 ids, arm image ids, prices) is illustrative.

use std::time::SystemTime;

use serde_json::{Value, json};

use super::util::parse_rfc3339;

/// A location (`GET /locations`).
pub struct Location {
    /// Location id.
    pub id: u64,
    /// Short name, e.g. `nbg1`.
    pub name: &'static str,
    /// Human description.
    pub description: &'static str,
    /// ISO country code.
    pub country: &'static str,
    /// City.
    pub city: &'static str,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Network zone.
    pub network_zone: &'static str,
}

/// All locations, by id.
pub const LOCATIONS: [Location; 6] = [
    Location {
        id: 1,
        name: "fsn1",
        description: "Falkenstein DC Park 1",
        country: "DE",
        city: "Falkenstein",
        latitude: 50.47612,
        longitude: 12.370071,
        network_zone: "eu-central",
    },
    Location {
        id: 2,
        name: "nbg1",
        description: "Nuremberg DC Park 1",
        country: "DE",
        city: "Nuremberg",
        latitude: 49.452102,
        longitude: 11.076665,
        network_zone: "eu-central",
    },
    Location {
        id: 3,
        name: "hel1",
        description: "Helsinki DC Park 1",
        country: "FI",
        city: "Helsinki",
        latitude: 60.169855,
        longitude: 24.938379,
        network_zone: "eu-central",
    },
    Location {
        id: 4,
        name: "ash",
        description: "Ashburn, VA",
        country: "US",
        city: "Ashburn, VA",
        latitude: 39.045821,
        longitude: -77.487073,
        network_zone: "us-east",
    },
    Location {
        id: 5,
        name: "hil",
        description: "Hillsboro, OR",
        country: "US",
        city: "Hillsboro, OR",
        latitude: 45.54222,
        longitude: -122.951924,
        network_zone: "us-west",
    },
    Location {
        id: 6,
        name: "sin",
        description: "Singapore",
        country: "SG",
        city: "Singapore",
        latitude: 1.283333,
        longitude: 103.833333,
        network_zone: "ap-southeast",
    },
];

/// Index into [`LOCATIONS`] of the location named `name`.
pub fn location_index(name: &str) -> Option<usize> {
    LOCATIONS.iter().position(|l| l.name == name)
}

/// The JSON object of a location.
pub fn location_json(l: &Location) -> Value {
    json!({
        "id": l.id, "name": l.name, "description": l.description, "country": l.country,
        "city": l.city, "latitude": l.latitude, "longitude": l.longitude,
        "network_zone": l.network_zone,
    })
}

/// One location a server type is offered in.
pub struct TypeLocation {
    /// Location name.
    pub location: &'static str,
    /// Deprecation `(announced, unavailable_after)`, if any.
    pub deprecation: Option<(&'static str, &'static str)>,
    /// The `recommended` flag.
    pub recommended: bool,
}

/// A server type (`GET /server_types`).
pub struct ServerType {
    /// Server type id.
    pub id: u64,
    /// Name, e.g. `cx23`.
    pub name: &'static str,
    /// Description, e.g. `CX23`.
    pub description: &'static str,
    /// Category.
    pub category: &'static str,
    /// vCPUs.
    pub cores: u32,
    /// Memory in GB.
    pub memory: f64,
    /// Disk in GB.
    pub disk: u32,
    /// `x86` or `arm`.
    pub architecture: &'static str,
    /// Hourly price (net, gross) as decimal strings.
    pub hourly: (&'static str, &'static str),
    /// Monthly price (net, gross) as decimal strings.
    pub monthly: (&'static str, &'static str),
    /// Where it is offered.
    pub locations: &'static [TypeLocation],
}

const ANNOUNCED: &str = "2025-10-16T06:00:00Z";
const GONE: &str = "2025-12-31T23:59:59Z";
const LATER: &str = "2027-06-30T23:59:59Z";

const fn tl(
    location: &'static str,
    deprecation: Option<(&'static str, &'static str)>,
    recommended: bool,
) -> TypeLocation {
    TypeLocation {
        location,
        deprecation,
        recommended,
    }
}

/// All server types, by id.
pub const SERVER_TYPES: [ServerType; 5] = [
    ServerType {
        id: 22,
        name: "cpx11",
        description: "CPX 11",
        category: "regular_purpose",
        cores: 2,
        memory: 2.0,
        disk: 40,
        architecture: "x86",
        hourly: ("0.0070000000", "0.0083300000000000"),
        monthly: ("4.3500000000", "5.1765000000000000"),
        locations: &[
            tl("fsn1", Some((ANNOUNCED, GONE)), false),
            tl("nbg1", Some((ANNOUNCED, LATER)), false),
            tl("ash", None, true),
            tl("hil", None, false),
        ],
    },
    ServerType {
        id: 45,
        name: "cax11",
        description: "CAX11",
        category: "cost_optimized",
        cores: 2,
        memory: 4.0,
        disk: 40,
        architecture: "arm",
        hourly: ("0.0064000000", "0.0076160000000000"),
        monthly: ("3.9900000000", "4.7481000000000000"),
        locations: &[
            tl("fsn1", None, true),
            tl("nbg1", None, false),
            tl("hel1", None, false),
        ],
    },
    ServerType {
        id: 104,
        name: "cx22",
        description: "CX22",
        category: "cost_optimized",
        cores: 2,
        memory: 4.0,
        disk: 40,
        architecture: "x86",
        hourly: ("0.0060000000", "0.0071400000000000"),
        monthly: ("3.7900000000", "4.5101000000000000"),
        locations: &[
            tl("fsn1", Some((ANNOUNCED, GONE)), false),
            tl("nbg1", Some((ANNOUNCED, GONE)), false),
            tl("hel1", Some((ANNOUNCED, GONE)), false),
        ],
    },
    ServerType {
        id: 109,
        name: "cpx22",
        description: "CPX22",
        category: "regular_purpose",
        cores: 2,
        memory: 4.0,
        disk: 80,
        architecture: "x86",
        hourly: ("0.0100000000", "0.0119000000000000"),
        monthly: ("6.4900000000", "7.7231000000000000"),
        locations: &[
            tl("fsn1", None, true),
            tl("nbg1", None, false),
            tl("hel1", None, false),
            tl("ash", None, false),
            tl("hil", None, false),
        ],
    },
    ServerType {
        id: 114,
        name: "cx23",
        description: "CX23",
        category: "cost_optimized",
        cores: 2,
        memory: 4.0,
        disk: 40,
        architecture: "x86",
        hourly: ("0.0056000000", "0.0066640000000000"),
        monthly: ("3.4900000000", "4.1531000000000000"),
        locations: &[
            tl("fsn1", None, false),
            tl("nbg1", None, true),
            tl("hel1", None, false),
        ],
    },
];

impl ServerType {
    /// `None` if not offered in `location`; otherwise whether it can be ordered there at
    /// `now` (not past its per-location `unavailable_after`).
    pub fn available_in(&self, location: &str, now: SystemTime) -> Option<bool> {
        let entry = self.locations.iter().find(|l| l.location == location)?;
        Some(
            entry
                .deprecation
                .is_none_or(|(_, after)| parse_rfc3339(after).is_none_or(|after| now <= after)),
        )
    }
}

/// Included traffic in bytes of a server of any type in `location`.
pub fn included_traffic(location: &str) -> u64 {
    match location {
        "fsn1" | "nbg1" | "hel1" => 21_990_232_555_520,
        _ => 1_099_511_627_776,
    }
}

/// The JSON object of a server type, with `available` computed for `now`.
pub fn server_type_json(t: &ServerType, now: SystemTime) -> Value {
    let prices: Vec<Value> = t
        .locations
        .iter()
        .map(|l| {
            json!({
                "location": l.location,
                "price_hourly": {"net": t.hourly.0, "gross": t.hourly.1},
                "price_monthly": {"net": t.monthly.0, "gross": t.monthly.1},
                "included_traffic": included_traffic(l.location),
                "price_per_tb_traffic": {"net": "1.0000000000", "gross": "1.1900000000000000"},
            })
        })
        .collect();
    let locations: Vec<Value> = t
        .locations
        .iter()
        .map(|l| {
            let id = location_index(l.location).map_or(0, |i| LOCATIONS[i].id);
            json!({
                "id": id,
                "name": l.location,
                "deprecation": l.deprecation.map(|(announced, after)| {
                    json!({"announced": announced, "unavailable_after": after})
                }),
                "available": t.available_in(l.location, now).unwrap_or(false),
                "recommended": l.recommended,
            })
        })
        .collect();
    json!({
        "id": t.id, "name": t.name, "description": t.description, "category": t.category,
        "cores": t.cores, "memory": t.memory, "disk": t.disk, "storage_type": "local",
        "cpu_type": "shared", "architecture": t.architecture,
        "deprecated": false, "deprecation": null,
        "prices": prices, "locations": locations,
    })
}

/// A system image (`GET /images`).
pub struct Image {
    /// Image id.
    pub id: u64,
    /// Name, e.g. `ubuntu-24.04` (shared across architectures).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// OS flavor.
    pub os_flavor: &'static str,
    /// OS version.
    pub os_version: &'static str,
    /// `x86` or `arm`.
    pub architecture: &'static str,
    /// Creation timestamp.
    pub created: &'static str,
    /// Deprecation timestamp, if deprecated.
    pub deprecated: Option<&'static str>,
}

const fn img(
    id: u64,
    name: &'static str,
    description: &'static str,
    os: (&'static str, &'static str),
    architecture: &'static str,
    created: &'static str,
    deprecated: Option<&'static str>,
) -> Image {
    Image {
        id,
        name,
        description,
        os_flavor: os.0,
        os_version: os.1,
        architecture,
        created,
        deprecated,
    }
}

/// All images, by id.
pub const IMAGES: [Image; 6] = [
    img(
        15512617,
        "ubuntu-20.04",
        "Ubuntu 20.04",
        ("ubuntu", "20.04"),
        "x86",
        "2020-04-23T00:00:00+00:00",
        Some("2025-05-31T00:00:00+00:00"),
    ),
    img(
        67794396,
        "ubuntu-22.04",
        "Ubuntu 22.04",
        ("ubuntu", "22.04"),
        "x86",
        "2022-04-21T00:00:00+00:00",
        None,
    ),
    img(
        114690387,
        "debian-12",
        "Debian 12",
        ("debian", "12"),
        "x86",
        "2023-06-13T00:00:00+00:00",
        None,
    ),
    img(
        114690389,
        "debian-12",
        "Debian 12",
        ("debian", "12"),
        "arm",
        "2023-06-13T00:00:00+00:00",
        None,
    ),
    img(
        161547269,
        "ubuntu-24.04",
        "Ubuntu 24.04",
        ("ubuntu", "24.04"),
        "x86",
        "2024-04-25T00:00:00+00:00",
        None,
    ),
    img(
        161547270,
        "ubuntu-24.04",
        "Ubuntu 24.04",
        ("ubuntu", "24.04"),
        "arm",
        "2024-04-25T00:00:00+00:00",
        None,
    ),
];

/// The JSON object of an image.
pub fn image_json(i: &Image) -> Value {
    json!({
        "id": i.id, "type": "system", "status": "available", "name": i.name,
        "description": i.description, "image_size": null, "disk_size": 5,
        "created": i.created, "created_from": null, "bound_to": null,
        "os_flavor": i.os_flavor, "os_version": i.os_version, "architecture": i.architecture,
        "rapid_deploy": true, "protection": {"delete": false},
        "deprecated": i.deprecated, "deleted": null, "labels": {},
    })
}
