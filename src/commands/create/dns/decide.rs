//! The DNS decision table (SPEC §10), pure: what a name's `A` and `AAAA` sets hold now,
//! the Kamal plan, the replaced host's addresses and this server's → what each set
//! becomes, and which values are live traffic that only consent may move.
//!
//! | Kamal plan | set now | action |
//! |---|---|---|
//! | replace, H known | missing | created with the new address |
//! | replace, H known | only H's addresses (or this server's) | replaced: updated, or unchanged when it is already the new address |
//! | replace, H known | other values too | live: moved only with consent (`--yes` or a terminal's yes), else refused before anything is created |
//! | replace, H unknown (`--replace` on ERB hosts) | any value but this server's | live, as above |
//! | replace, server without IPv4 (or IPv6) | `A` (`AAAA`) of H's addresses only | deleted |
//! | replace, server without IPv4 (or IPv6) | `A` (`AAAA`) with other values | live: deleted with consent |
//! | append, `--role` | anything | never written: the records to add after `kamal deploy` are listed |
//! | plan unknown (ERB hosts, no web host, a hand edit) | anything | `--dns` refused in the preflight unless `--replace` |

use std::net::IpAddr;

use crate::text::Untrusted;

/// What DNS follows: the Kamal plan as the preflight checked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follow {
    /// The new server takes the replaced host's place. `old`: that host's addresses (with
    /// its project server's other address); `known: false` when pegasus cannot read the
    /// host (ERB): then every value a set holds is live.
    Replace { old: Vec<IpAddr>, known: bool },
    /// The server joins the web role beside `current` (append), or another role: DNS is
    /// never written; a new server joins a live name only once it serves the app.
    Append { current: Vec<IpAddr> },
    /// A server of another role (`--role`): it does not serve the proxy names.
    Role,
}

/// One set of one name, as the preflight saw it and as it would end up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetMove {
    /// What the set holds now (empty: no such set).
    pub now: Vec<Untrusted>,
    /// The values that are live traffic: not the replaced host's, not this server's.
    pub live: Vec<Untrusted>,
}

impl SetMove {
    /// `now`, judged against the replaced host's addresses and this server's.
    pub fn judge(now: &[&str], follow: &Follow, ours: &[IpAddr]) -> SetMove {
        let (old, known): (&[IpAddr], bool) = match follow {
            Follow::Replace { old, known } => (old, *known),
            _ => (&[], true),
        };
        let is = |v: &str, among: &[IpAddr]| v.parse::<IpAddr>().is_ok_and(|a| among.contains(&a));
        let live = now
            .iter()
            .filter(|v| !(is(v, ours) || (known && is(v, old))))
            .map(|v| Untrusted::new(*v))
            .collect();
        SetMove {
            now: now.iter().map(|v| Untrusted::new(*v)).collect(),
            live,
        }
    }
}

/// What step 12 does to one set, once the server's address is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// No set: make one holding the address.
    Create(IpAddr),
    /// Its records become the address.
    Set(IpAddr),
    /// Already exactly the address.
    Unchanged(IpAddr),
    /// The server has no address of this family: the set goes (its values were the
    /// replaced host's, or consent was given).
    Delete,
    /// No set, and no address of this family: nothing to do.
    Nothing,
}

/// The write for a set holding `now`, when the server's address of that family is `want`.
pub fn write_for(now: &[&str], want: Option<IpAddr>) -> Write {
    match (want, now) {
        (Some(a), []) => Write::Create(a),
        (Some(a), [one]) if one.parse::<IpAddr>().is_ok_and(|v| v == a) => Write::Unchanged(a),
        (Some(a), _) => Write::Set(a),
        (None, []) => Write::Nothing,
        (None, _) => Write::Delete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn live(now: &[&str], follow: &Follow, ours: &[IpAddr]) -> Vec<String> {
        SetMove::judge(now, follow, ours)
            .live
            .iter()
            .map(|v| v.raw().to_string())
            .collect()
    }

    #[test]
    fn the_decision_table() {
        let known = Follow::Replace {
            old: vec![ip("198.51.100.7"), ip("2001:db8:7::1")],
            known: true,
        };
        let unknown = Follow::Replace {
            old: vec![],
            known: false,
        };
        let ours = [ip("203.0.113.10")];
        // Only the replaced host's values: no consent needed.
        assert!(live(&["198.51.100.7"], &known, &ours).is_empty());
        assert!(live(&["2001:db8:7::1"], &known, &ours).is_empty());
        // A second server behind the name: live traffic.
        assert_eq!(
            live(&["198.51.100.7", "198.51.100.8"], &known, &ours),
            ["198.51.100.8"]
        );
        // A first create (placeholder host): whatever the name points at is live.
        let placeholder = Follow::Replace {
            old: vec![],
            known: true,
        };
        assert_eq!(live(&["192.0.2.44"], &placeholder, &ours), ["192.0.2.44"]);
        // Hosts from ERB with --replace: every value but this server's is live.
        assert_eq!(live(&["198.51.100.7"], &unknown, &ours), ["198.51.100.7"]);
        assert!(live(&["203.0.113.10"], &unknown, &ours).is_empty());
        // A value that is not an address is never mistaken for one of ours.
        assert_eq!(live(&["not-an-ip"], &known, &ours), ["not-an-ip"]);
    }

    #[test]
    fn writes_as_a_pair() {
        let v4 = ip("203.0.113.10");
        assert_eq!(write_for(&[], Some(v4)), Write::Create(v4));
        assert_eq!(write_for(&["203.0.113.10"], Some(v4)), Write::Unchanged(v4));
        assert_eq!(write_for(&["198.51.100.7"], Some(v4)), Write::Set(v4));
        assert_eq!(
            write_for(&["203.0.113.10", "198.51.100.7"], Some(v4)),
            Write::Set(v4)
        );
        // No IPv4 on the server: the old A set goes.
        assert_eq!(write_for(&["198.51.100.7"], None), Write::Delete);
        assert_eq!(write_for(&[], None), Write::Nothing);
    }
}
