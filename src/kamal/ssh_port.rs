//! Kamal's `ssh.port`: the port Kamal connects to, read from the config text (ERB masked)
//! the way the editor reads hosts (aliases and merge keys followed). Pure: text in, port out.

use super::hosts::{self, Lookup};
use super::{doc, erb};

/// The top-level `ssh: {port: N}` of a Kamal config, when it is a port number (an integer
/// or a string of digits, 1–65535). `None` when the key is missing, is an ERB expression, is
/// not a port, or the text does not parse.
pub fn ssh_port(text: &str) -> Option<u16> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let masked = erb::mask(body);
    let parsed = doc::parse(&masked.text).ok()?;
    let root = parsed.root?;
    let Lookup::Found { value: ssh, .. } = hosts::get(&parsed, root, "ssh") else {
        return None;
    };
    let Lookup::Found { value: port, .. } = hosts::get(&parsed, ssh, "port") else {
        return None;
    };
    let (value, _, _) = parsed.scalar(port)?;
    value.trim().parse::<u16>().ok().filter(|p| *p > 0)
}

#[cfg(test)]
mod tests {
    use super::ssh_port;

    #[test]
    fn reads_the_port() {
        assert_eq!(
            ssh_port("service: a\nssh:\n  user: app\n  port: 2222\n"),
            Some(2222)
        );
        assert_eq!(ssh_port("ssh:\n  port: \"2200\"\n"), Some(2200));
        assert_eq!(ssh_port("ssh: {port: 22}\n"), Some(22));
        assert_eq!(
            ssh_port("x: &s\n  port: 2022\nssh:\n  <<: *s\n  user: app\n"),
            Some(2022)
        );
    }

    #[test]
    fn no_port() {
        assert_eq!(ssh_port("service: a\n"), None);
        assert_eq!(ssh_port("ssh:\n  user: app\n"), None);
        assert_eq!(ssh_port("ssh:\n  port: 70000\n"), None);
        assert_eq!(ssh_port("ssh:\n  port: 0\n"), None);
        assert_eq!(ssh_port("ssh:\n  port: <%= ENV['P'] %>\n"), None);
        assert_eq!(ssh_port("ssh: [\n"), None);
        assert_eq!(
            ssh_port("accessories:\n  db:\n    ssh:\n      port: 2\n"),
            None
        );
    }
}
