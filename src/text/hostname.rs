//! The one host name rule (RFC 1123), used for server names, Kamal hosts and proxy names:
//! dot-separated labels of 1–63 characters from `a-z A-Z 0-9 -`, not starting or ending
//! with `-`, 253 characters at most. [`check`] says which part broke it; the predicates
//! are the variants callers need.

/// Why a name is not a host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    Empty,
    TooLong,
    EmptyLabel,
    LongLabel,
    BadChar(char),
    Hyphen,
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::Empty => f.write_str("the name is empty"),
            Broken::TooLong => f.write_str("a hostname has at most 253 characters"),
            Broken::EmptyLabel => {
                f.write_str("a hostname cannot start or end with '.' or contain '..'")
            }
            Broken::LongLabel => f.write_str("each dot-separated part has at most 63 characters"),
            Broken::BadChar(c) => {
                write!(f, "'{c}' is not allowed; use letters, digits, '-' and '.'")
            }
            Broken::Hyphen => f.write_str("a part cannot start or end with '-'"),
        }
    }
}

/// The first rule `name` breaks, if any.
pub fn check(name: &str) -> Result<(), Broken> {
    if name.is_empty() {
        return Err(Broken::Empty);
    }
    if name.len() > 253 {
        return Err(Broken::TooLong);
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err(Broken::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(Broken::LongLabel);
        }
        if let Some(c) = label
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return Err(Broken::BadChar(c));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Broken::Hyphen);
        }
    }
    Ok(())
}

/// A host name, one final dot allowed (`example.com.`), as Kamal hosts may be written.
pub fn is_host(name: &str) -> bool {
    check(name.strip_suffix('.').unwrap_or(name)).is_ok()
}

/// A name for a DNS record: a host name in lower case with at least two labels, the last
/// not all digits (so never an IPv4 address).
pub fn is_dns_name(name: &str) -> bool {
    let top = name.rsplit('.').next().unwrap_or("");
    check(name).is_ok()
        && name.contains('.')
        && !top.bytes().all(|b| b.is_ascii_digit())
        && !name.bytes().any(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules() {
        assert_eq!(check("web1"), Ok(()));
        assert_eq!(check("a.b-c.d"), Ok(()));
        assert_eq!(check(""), Err(Broken::Empty));
        assert_eq!(check(&"a".repeat(254)), Err(Broken::TooLong));
        assert_eq!(check("a..b"), Err(Broken::EmptyLabel));
        assert_eq!(check(".a"), Err(Broken::EmptyLabel));
        assert_eq!(check(&"a".repeat(64)), Err(Broken::LongLabel));
        assert_eq!(check("a_b"), Err(Broken::BadChar('_')));
        assert_eq!(check("-a"), Err(Broken::Hyphen));
        assert!(is_host("example.com."));
        assert!(!is_host("<IP-ADDRESS>"));
        assert!(is_dns_name("app.example.com"));
        assert!(is_dns_name("x-1.example.co.uk"));
        assert!(!is_dns_name("example"));
        assert!(!is_dns_name("App.example.com"));
        assert!(!is_dns_name("1.2.3.4"));
        assert!(!is_dns_name("-a.example.com"));
    }
}
