//! Fixed catalogue of the fake Hetzner API: locations, server types, images, prices.
//!
//! Real values where the research notes have them (location ids/names, cpx22 = 109,
//! cpx11 = 22, cax11 = 45, ubuntu-24.04 x86 = 161547269, the deprecation timestamps);
//! the rest (the other type ids, arm image ids, prices) is illustrative, shaped as
//! Hetzner's: the CX and CAX types in Europe only, higher prices in the US and
//! Singapore, gross prices = net + 19% VAT written with 16 decimals.

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

/// Net prices of a server type in a group of locations, as decimal strings (the API's
/// net prices have 10 decimals; the gross ones are computed, see [`gross`]).
pub struct Net {
    /// Per month (the cap of a month of hourly billing).
    pub monthly: &'static str,
    /// Per hour.
    pub hourly: &'static str,
}

const fn net(monthly: &'static str, hourly: &'static str) -> Net {
    Net { monthly, hourly }
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
    /// Net prices in Europe (fsn1, nbg1, hel1).
    pub eu: Net,
    /// Net prices in the US (ash, hil) and Singapore: higher, as Hetzner's are.
    pub elsewhere: Net,
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

/// The cost-optimised x86 types (CX) and the Arm types (CAX) are sold in Europe only.
const EU: &[TypeLocation] = &[
    tl("fsn1", None, false),
    tl("nbg1", None, false),
    tl("hel1", None, false),
];

/// All server types, by id.
pub const SERVER_TYPES: [ServerType; 9] = [
    ServerType {
        id: 22,
        name: "cpx11",
        description: "CPX 11",
        category: "regular_purpose",
        cores: 2,
        memory: 2.0,
        disk: 40,
        architecture: "x86",
        eu: net("4.3500000000", "0.0070000000"),
        elsewhere: net("5.3500000000", "0.0086000000"),
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
        eu: net("3.9900000000", "0.0064000000"),
        elsewhere: net("3.9900000000", "0.0064000000"),
        locations: &[
            tl("fsn1", None, true),
            tl("nbg1", None, false),
            tl("hel1", None, false),
        ],
    },
    ServerType {
        id: 93,
        name: "cax21",
        description: "CAX21",
        category: "cost_optimized",
        cores: 4,
        memory: 8.0,
        disk: 80,
        architecture: "arm",
        eu: net("6.4900000000", "0.0104000000"),
        elsewhere: net("6.4900000000", "0.0104000000"),
        locations: EU,
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
        eu: net("3.7900000000", "0.0060000000"),
        elsewhere: net("3.7900000000", "0.0060000000"),
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
        eu: net("6.4900000000", "0.0100000000"),
        elsewhere: net("7.9900000000", "0.0128000000"),
        locations: &[
            tl("fsn1", None, true),
            tl("nbg1", None, false),
            tl("hel1", None, false),
            tl("ash", None, false),
            tl("hil", None, false),
            tl("sin", None, false),
        ],
    },
    ServerType {
        id: 110,
        name: "cpx32",
        description: "CPX32",
        category: "regular_purpose",
        cores: 4,
        memory: 8.0,
        disk: 160,
        architecture: "x86",
        eu: net("10.9900000000", "0.0176000000"),
        elsewhere: net("13.4900000000", "0.0216000000"),
        locations: &[
            tl("fsn1", None, false),
            tl("nbg1", None, false),
            tl("hel1", None, false),
            tl("ash", None, true),
            tl("hil", None, false),
            tl("sin", None, false),
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
        eu: net("3.4900000000", "0.0056000000"),
        elsewhere: net("3.4900000000", "0.0056000000"),
        locations: &[
            tl("fsn1", None, false),
            tl("nbg1", None, true),
            tl("hel1", None, false),
        ],
    },
    ServerType {
        id: 115,
        name: "cx33",
        description: "CX33",
        category: "cost_optimized",
        cores: 4,
        memory: 8.0,
        disk: 80,
        architecture: "x86",
        eu: net("5.4900000000", "0.0088000000"),
        elsewhere: net("5.4900000000", "0.0088000000"),
        locations: EU,
    },
    ServerType {
        id: 116,
        name: "cx43",
        description: "CX43",
        category: "cost_optimized",
        cores: 8,
        memory: 16.0,
        disk: 160,
        architecture: "x86",
        eu: net("9.4900000000", "0.0152000000"),
        elsewhere: net("9.4900000000", "0.0152000000"),
        locations: EU,
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

    /// Its net prices in `location`.
    pub fn net(&self, location: &str) -> &Net {
        match location {
            "fsn1" | "nbg1" | "hel1" => &self.eu,
            _ => &self.elsewhere,
        }
    }
}

/// The VAT rate of the fake account, in percent (Germany's), as `GET /pricing` gives it.
pub const VAT_RATE: &str = "19.00";

/// `{"net", "gross"}` of a net price: the gross is the net plus [`VAT_RATE`], exact,
/// written with 16 decimals as the API writes it (`3.4900000000` → `4.1531000000000000`).
pub fn gross(net: &str) -> Value {
    let (int, frac) = net.split_once('.').unwrap_or((net, ""));
    assert!(
        frac.len() <= 10,
        "fake: net price {net} has more than 10 decimals"
    );
    let units: u128 = format!("{int}{frac:0<10}")
        .parse()
        .unwrap_or_else(|_| panic!("fake: net price {net} is not a decimal"));
    let (rate_int, rate_frac) = VAT_RATE.split_once('.').unwrap_or((VAT_RATE, "00"));
    let rate: u128 = format!("{rate_int}{rate_frac:0<2}").parse().unwrap_or(0);
    // units·10⁻¹⁰ × (10000 + rate)·10⁻⁴ = gross·10⁻¹⁴; with 16 decimals: ×100.
    let g = units * (10_000 + rate) * 100;
    let scale = 10u128.pow(16);
    json!({"net": net, "gross": format!("{}.{:016}", g / scale, g % scale)})
}

/// Included traffic in bytes of a server of any type in `location`.
pub fn included_traffic(location: &str) -> u64 {
    match location {
        "fsn1" | "nbg1" | "hel1" => 21_990_232_555_520,
        _ => 1_099_511_627_776,
    }
}

/// The `prices` of a server type: one entry per location it is offered in.
pub fn type_prices(t: &ServerType) -> Vec<Value> {
    t.locations
        .iter()
        .map(|l| {
            let n = t.net(l.location);
            json!({
                "location": l.location,
                "price_hourly": gross(n.hourly),
                "price_monthly": gross(n.monthly),
                "included_traffic": included_traffic(l.location),
                "price_per_tb_traffic": gross("1.0000000000"),
            })
        })
        .collect()
}

/// The JSON object of a server type, with `available` computed for `now`.
pub fn server_type_json(t: &ServerType, now: SystemTime) -> Value {
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
        "prices": type_prices(t), "locations": locations,
    })
}

/// The primary IPv4's net price per month and per hour (the same in every location).
pub const IPV4_NET: Net = net("0.5100000000", "0.0008000000");

/// `GET /pricing`: the currency, the VAT rate, and every product's prices per location
/// (the same server type prices as `GET /server_types`).
pub fn pricing_json() -> Value {
    let per_location = |monthly: &str, hourly: Option<&str>| -> Vec<Value> {
        LOCATIONS
            .iter()
            .map(|l| match hourly {
                Some(h) => json!({
                    "location": l.name, "price_hourly": gross(h), "price_monthly": gross(monthly),
                }),
                None => json!({"location": l.name, "price_monthly": gross(monthly)}),
            })
            .collect()
    };
    let server_types: Vec<Value> = SERVER_TYPES
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "prices": type_prices(t)}))
        .collect();
    let lb_prices: Vec<Value> = LOCATIONS
        .iter()
        .map(|l| {
            json!({
                "location": l.name,
                "price_hourly": gross("0.0088000000"),
                "price_monthly": gross("5.3900000000"),
                "included_traffic": included_traffic(l.name),
                "price_per_tb_traffic": gross("1.0000000000"),
            })
        })
        .collect();
    json!({"pricing": {
        "currency": "EUR",
        "vat_rate": VAT_RATE,
        "image": {"price_per_gb_month": gross("0.0110000000")},
        "floating_ip": {"price_monthly": gross("3.0000000000")},
        "floating_ips": [
            {"type": "ipv4", "prices": per_location("3.0000000000", None)},
            {"type": "ipv6", "prices": per_location("3.0000000000", None)},
        ],
        "primary_ips": [
            {"type": "ipv4", "prices": per_location(IPV4_NET.monthly, Some(IPV4_NET.hourly))},
            {"type": "ipv6", "prices": per_location("0.0000000000", Some("0.0000000000"))},
        ],
        "server_backup": {"percentage": "20.00"},
        "server_types": server_types,
        "load_balancer_types": [{"id": 1, "name": "lb11", "prices": lb_prices}],
        "volume": {"price_per_gb_month": gross("0.0440000000")},
    }})
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
pub const IMAGES: [Image; 8] = [
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
    img(
        310557660,
        "debian-13",
        "Debian 13",
        ("debian", "13"),
        "x86",
        "2025-08-12T00:00:00+00:00",
        None,
    ),
    img(
        310557661,
        "debian-13",
        "Debian 13",
        ("debian", "13"),
        "arm",
        "2025-08-12T00:00:00+00:00",
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
