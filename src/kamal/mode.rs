//! Which mode applies (SPEC §6): replace the single web host, or add the new server to the
//! web role. Decided from the web role's hosts, the `--append`/`--replace` flag, and the
//! addresses of the project's other servers. Pure: the caller fetches the server list.

use std::net::{IpAddr, Ipv6Addr};

use super::Mode;

/// Kamal's `kamal init` writes this sample address; it is never a real server of the user.
pub const KAMAL_SAMPLE: &str = "192.168.0.1";

/// Why the mode was chosen: the output words the result after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// `--append` or `--replace`.
    Flag,
    /// The web role has several hosts.
    Several,
    /// The web role has no host to decide from (the edit will say what to do by hand).
    NoHost,
    /// The single web host is written as ERB or is otherwise not a plain host.
    NotPlain,
    /// The single web host is a placeholder (`<IP-ADDRESS>`) or Kamal's sample address.
    Placeholder,
    /// The single web host is an address of this project's server `name`.
    ProjectServer { name: String },
    /// The single web host is an address or host name that is not a server of the project.
    Unplaced,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub mode: Mode,
    pub basis: Basis,
}

/// `--replace` needs exactly one web host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeveralHosts {
    /// Where the list is, e.g. `servers.web.hosts`.
    pub path: String,
    pub count: usize,
}

/// A server of the project, as the decision needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectServer {
    pub name: String,
    /// IPv4 addresses and IPv6 networks (`2001:db8:1::/64`) or addresses.
    pub addresses: Vec<String>,
}

/// The web role's host list as found in the file: its path and, per entry, the host text
/// (`None` for an entry that is not a plain host: ERB, empty, not a scalar).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebHosts {
    pub path: String,
    pub hosts: Vec<Option<String>>,
}

impl WebHosts {
    /// The single plain web host, if there is exactly one entry and it is plain.
    pub fn single(&self) -> Option<&str> {
        match self.hosts.as_slice() {
            [Some(host)] => Some(host),
            _ => None,
        }
    }
}

/// Whether a host is a placeholder rather than a server: not an IP address and not a valid
/// host name (`<IP-ADDRESS>`, `YOUR_SERVER_IP`, `<your.server.ip>`), or Kamal's sample
/// `192.168.0.1`.
pub fn is_placeholder(host: &str) -> bool {
    host == KAMAL_SAMPLE
        || (host.parse::<IpAddr>().is_err() && !crate::text::hostname::is_host(host))
}

/// Whether choosing the mode needs the project's server list: no flag, and the single web
/// host is an IP address that is not a placeholder (a host name cannot be matched against
/// addresses without DNS, so it never needs the list). `None` (the file could not be read
/// yet) needs it too, so a file fixed during the wait is still decided safely.
pub fn needs_project(web: Option<&WebHosts>, flag: Option<Mode>) -> bool {
    if flag.is_some() {
        return false;
    }
    let Some(web) = web else { return true };
    web.single()
        .is_some_and(|h| !is_placeholder(h) && h.parse::<IpAddr>().is_ok())
}

/// The project server that has `host` as one of its addresses (an IPv6 host anywhere in
/// the server's /64 counts).
pub fn owner<'a>(host: &str, project: &'a [ProjectServer]) -> Option<&'a ProjectServer> {
    let ip: IpAddr = host.parse().ok()?;
    project
        .iter()
        .find(|server| server.addresses.iter().any(|a| holds(a, ip)))
}

fn holds(address: &str, ip: IpAddr) -> bool {
    let (addr, prefix) = match address.split_once('/') {
        Some((a, p)) => (a, p.parse::<u32>().ok()),
        None => (address, None),
    };
    match (addr.parse::<IpAddr>(), ip) {
        (Ok(IpAddr::V6(net)), IpAddr::V6(ip)) => match prefix {
            Some(bits) if bits <= 128 => same_prefix(net, ip, bits),
            _ => net == ip,
        },
        (Ok(a), ip) => a == ip,
        _ => false,
    }
}

fn same_prefix(a: Ipv6Addr, b: Ipv6Addr, bits: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    u128::from(a) & mask == u128::from(b) & mask
}

/// Decides the mode (SPEC §6).
///
/// # Errors
/// [`SeveralHosts`] for `--replace` when the web role has more than one host.
pub fn decide(
    web: &WebHosts,
    flag: Option<Mode>,
    project: &[ProjectServer],
) -> Result<Decision, SeveralHosts> {
    let decision = |mode, basis| Ok(Decision { mode, basis });
    match flag {
        Some(Mode::Replace) if web.hosts.len() > 1 => Err(SeveralHosts {
            path: web.path.clone(),
            count: web.hosts.len(),
        }),
        Some(mode) => decision(mode, Basis::Flag),
        None => match web.hosts.as_slice() {
            [] => decision(Mode::Replace, Basis::NoHost),
            [_, _, ..] => decision(Mode::Append, Basis::Several),
            [None] => decision(Mode::Replace, Basis::NotPlain),
            [Some(host)] if is_placeholder(host) => decision(Mode::Replace, Basis::Placeholder),
            [Some(host)] => match owner(host, project) {
                Some(server) => decision(
                    Mode::Append,
                    Basis::ProjectServer {
                        name: server.name.clone(),
                    },
                ),
                None => decision(Mode::Replace, Basis::Unplaced),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web(hosts: &[&str]) -> WebHosts {
        WebHosts {
            path: "servers.web.hosts".into(),
            hosts: hosts.iter().map(|h| Some((*h).to_owned())).collect(),
        }
    }

    fn project() -> Vec<ProjectServer> {
        vec![ProjectServer {
            name: "web5".into(),
            addresses: vec!["198.51.100.10".into(), "2001:db8:f001::/64".into()],
        }]
    }

    fn basis(hosts: &[&str], flag: Option<Mode>) -> (Mode, Basis) {
        let d = decide(&web(hosts), flag, &project()).unwrap_or_else(|e| panic!("{e:?}"));
        (d.mode, d.basis)
    }

    #[test]
    fn placeholders_and_the_kamal_sample() {
        for p in [
            "<IP-ADDRESS>",
            "YOUR_SERVER_IP",
            "<your.server.ip>",
            "$DEST_VM_HOST",
            "192.168.0.1",
            "-bad.example",
            "1.2.3.4:22",
        ] {
            assert!(is_placeholder(p), "{p}");
            assert_eq!(basis(&[p], None), (Mode::Replace, Basis::Placeholder));
        }
        for real in [
            "1.2.3.4",
            "2001:db8::1",
            "app.example.com",
            "homelab",
            "192.168.0.2",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn a_project_server_is_appended_to_anything_else_replaced() {
        let web5 = Basis::ProjectServer {
            name: "web5".into(),
        };
        assert_eq!(
            basis(&["198.51.100.10"], None),
            (Mode::Append, web5.clone())
        );
        assert_eq!(
            basis(&["2001:db8:f001::1"], None),
            (Mode::Append, web5.clone())
        );
        assert_eq!(basis(&["2001:db8:f001::7"], None), (Mode::Append, web5));
        assert_eq!(
            basis(&["2001:db8:f002::1"], None),
            (Mode::Replace, Basis::Unplaced)
        );
        assert_eq!(
            basis(&["198.51.100.11"], None),
            (Mode::Replace, Basis::Unplaced)
        );
        assert_eq!(
            basis(&["app.example.com"], None),
            (Mode::Replace, Basis::Unplaced)
        );
    }

    #[test]
    fn several_hosts_and_the_flags() {
        assert_eq!(basis(&["a", "b"], None), (Mode::Append, Basis::Several));
        assert_eq!(basis(&[], None), (Mode::Replace, Basis::NoHost));
        assert_eq!(
            basis(&["198.51.100.10"], Some(Mode::Replace)),
            (Mode::Replace, Basis::Flag)
        );
        assert_eq!(
            basis(&["<IP-ADDRESS>"], Some(Mode::Append)),
            (Mode::Append, Basis::Flag)
        );
        assert_eq!(
            basis(&["a", "b"], Some(Mode::Append)),
            (Mode::Append, Basis::Flag)
        );
        assert_eq!(
            decide(&web(&["a", "b"]), Some(Mode::Replace), &[]),
            Err(SeveralHosts {
                path: "servers.web.hosts".into(),
                count: 2
            })
        );
        let erb = WebHosts {
            path: "servers".into(),
            hosts: vec![None],
        };
        assert_eq!(
            decide(&erb, None, &[]).map(|d| d.basis),
            Ok(Basis::NotPlain)
        );
    }

    #[test]
    fn the_project_list_is_asked_for_only_when_needed() {
        assert!(needs_project(Some(&web(&["198.51.100.10"])), None));
        assert!(needs_project(Some(&web(&["2001:db8::1"])), None));
        assert!(needs_project(None, None));
        assert!(!needs_project(None, Some(Mode::Append)));
        assert!(!needs_project(
            Some(&web(&["198.51.100.10"])),
            Some(Mode::Replace)
        ));
        assert!(!needs_project(Some(&web(&["<IP-ADDRESS>"])), None));
        assert!(!needs_project(Some(&web(&["192.168.0.1"])), None));
        assert!(!needs_project(Some(&web(&["app.example.com"])), None));
        assert!(!needs_project(Some(&web(&["a", "b"])), None));
        assert!(!needs_project(Some(&web(&[])), None));
    }
}
