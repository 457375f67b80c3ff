//! The API's small values, parsed where the answer is decoded (SPEC §7 "Parse at the
//! boundary"): statuses and modes as enums with a case for what this version does not
//! know, addresses as `std::net` types. An address that does not parse makes the whole
//! answer unreadable, so it can never be printed, written to a file or passed to `ssh`.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::text::Untrusted;

/// Declares a string enum of the API: known words, and `Other` for any other text
/// (kept as [`Untrusted`], shown escaped).
macro_rules! api_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A word this version of pegasus does not know.
            Other(Untrusted),
        }

        impl $name {
            pub fn parse(word: &str) -> $name {
                match word {
                    $($word => $name::$variant,)+
                    other => $name::Other(Untrusted::new(other)),
                }
            }

            /// The API's word (raw for an unknown one: for JSON and comparisons).
            pub fn word(&self) -> &str {
                match self {
                    $($name::$variant => $word,)+
                    $name::Other(t) => t.raw(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Other(t) => t.fmt(f),
                    known => f.pad(known.word()),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.word())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let word = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Ok($name::parse(&word))
            }
        }
    };
}

api_enum! {
    /// A server's `status`.
    ServerStatus {
        Running = "running",
        Initializing = "initializing",
        Starting = "starting",
        Stopping = "stopping",
        Off = "off",
        Deleting = "deleting",
        Migrating = "migrating",
        Rebuilding = "rebuilding",
        Unknown = "unknown",
    }
}

// The enum is made by the macro above, so `#[default]` cannot be put on a variant.
#[allow(clippy::derivable_impls)]
impl Default for ServerStatus {
    fn default() -> ServerStatus {
        ServerStatus::Unknown
    }
}

api_enum! {
    /// An action's `status`.
    ActionStatus {
        Running = "running",
        Success = "success",
        Error = "error",
    }
}

api_enum! {
    /// An image's or a server type's `architecture`.
    Architecture {
        X86 = "x86",
        Arm = "arm",
    }
}

impl Default for Architecture {
    fn default() -> Architecture {
        Architecture::Other(Untrusted::default())
    }
}

api_enum! {
    /// An image's `type`: a `system` image has only `root` (SPEC §4 step 6).
    ImageKind {
        System = "system",
        Snapshot = "snapshot",
        Backup = "backup",
        App = "app",
    }
}

impl Default for ImageKind {
    fn default() -> ImageKind {
        ImageKind::Other(Untrusted::default())
    }
}

api_enum! {
    /// A DNS zone's `mode`: only a primary zone's records can be edited through the API.
    ZoneMode {
        Primary = "primary",
        Secondary = "secondary",
    }
}

/// `public_net.ipv4`: the primary IPv4 address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Ipv4Block {
    pub ip: Ipv4Addr,
}

/// `public_net.ipv6`: the server's /64 (`"2001:db8:1::/64"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Block {
    pub network: Ipv6Addr,
    pub prefix: u8,
}

impl Ipv6Block {
    /// The server's own address: the `::1` of its network, as the official CLI prints it.
    pub fn host(&self) -> Ipv6Addr {
        let mut segments = self.network.segments();
        segments[7] |= 1;
        Ipv6Addr::from(segments)
    }

    /// Whether `addr` lies in this network.
    pub fn contains(&self, addr: Ipv6Addr) -> bool {
        let bits = u32::from(self.prefix.min(128));
        let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
        u128::from(addr) & mask == u128::from(self.network) & mask
    }
}

impl<'de> Deserialize<'de> for Ipv6Block {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ipv6Block, D::Error> {
        #[derive(Deserialize)]
        struct Raw<'a> {
            #[serde(borrow)]
            ip: std::borrow::Cow<'a, str>,
        }
        let raw = Raw::deserialize(d)?;
        let bad = || serde::de::Error::custom("public_net.ipv6.ip is not an IPv6 network");
        let (addr, prefix) = match raw.ip.split_once('/') {
            Some((a, p)) => (a, p.parse::<u8>().map_err(|_| bad())?),
            None => (&*raw.ip, 64),
        };
        let network: Ipv6Addr = addr.parse().map_err(|_| bad())?;
        if prefix > 128 {
            return Err(bad());
        }
        Ok(Ipv6Block { network, prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_keep_unknown_words_escaped() {
        let s: ServerStatus = serde_json::from_str("\"running\"").unwrap();
        assert_eq!(s, ServerStatus::Running);
        let odd: ServerStatus = serde_json::from_str("\"wei\\u001b[2Jrd\"").unwrap();
        assert_eq!(odd.to_string(), "wei\\x1b[2Jrd");
        assert_eq!(serde_json::to_string(&odd).unwrap(), "\"wei\\u001b[2Jrd\"");
        assert_eq!(format!("{:<9}|", ServerStatus::Off), "off      |");
    }

    #[test]
    fn addresses_parse_or_the_answer_is_unreadable() {
        let v4: Ipv4Block = serde_json::from_str(r#"{"ip": "203.0.113.10"}"#).unwrap();
        assert_eq!(v4.ip, Ipv4Addr::new(203, 0, 113, 10));
        for bad in [
            r#"{"ip": "198.51.100.10 -oProxyCommand=touch${IFS}pwned"}"#,
            r#"{"ip": "\u001b]0;pwned\u0007"}"#,
            r#"{"ip": ""}"#,
        ] {
            assert!(serde_json::from_str::<Ipv4Block>(bad).is_err(), "{bad}");
        }
        let v6: Ipv6Block = serde_json::from_str(r#"{"ip": "2001:db8:1::/64"}"#).unwrap();
        assert_eq!(v6.host().to_string(), "2001:db8:1::1");
        assert!(v6.contains("2001:db8:1::abcd".parse().unwrap()));
        assert!(!v6.contains("2001:db8:2::1".parse().unwrap()));
        for bad in [
            r#"{"ip": "2001:db8:1::/64 -oProxyCommand=x"}"#,
            r#"{"ip": "2001:db8:1::/200"}"#,
            r#"{"ip": "nonsense"}"#,
        ] {
            assert!(serde_json::from_str::<Ipv6Block>(bad).is_err(), "{bad}");
        }
    }
}
