//! Kamal's `ssh` section: how Kamal logs in to its servers (`user`, `port`, `keys`,
//! `keys_only`, `proxy`, `proxy_command`, `config`, and whether `key_data` is set), read
//! the way Kamal reads it — with a destination, `deploy.yml` and `deploy.DEST.yml` merged
//! ([`Config::section`]), aliases and merge keys followed. A value written with ERB is
//! reported with its file and line, never guessed. Pure: text in, settings out.

use super::section::{Field, Item};
use super::{Config, Layer, ParseError};

/// One setting of the section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Setting<T> {
    /// Not written (or written empty: Kamal's default applies).
    #[default]
    Unset,
    Value(T),
    /// Written with ERB: what Kamal will use is known only when it renders the file.
    Erb {
        layer: Layer,
        line: usize,
        text: String,
    },
    /// Written, but not a value of the kind Kamal reads there.
    Invalid {
        layer: Layer,
        line: usize,
        text: String,
        why: &'static str,
    },
}

impl<T> Setting<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Setting::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Where (file and line) and as what it is written, and why pegasus cannot use it,
    /// when it is ERB or invalid.
    pub fn problem(&self) -> Option<Problem<'_>> {
        match self {
            Setting::Erb { layer, line, text } => Some(Problem {
                layer: *layer,
                line: *line,
                text,
                why: "made by ERB",
            }),
            Setting::Invalid {
                layer,
                line,
                text,
                why,
            } => Some(Problem {
                layer: *layer,
                line: *line,
                text,
                why,
            }),
            _ => None,
        }
    }
}

/// A setting pegasus cannot use as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem<'s> {
    pub layer: Layer,
    /// 1-based.
    pub line: usize,
    /// As written.
    pub text: &'s str,
    pub why: &'static str,
}

/// `ssh.config`: which OpenSSH config files Kamal's SSH library reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFiles {
    /// `true`: the usual ones (`~/.ssh/config`, `/etc/ssh/ssh_config`).
    Default,
    /// `false`: none.
    Off,
    /// These files (as written).
    Files(Vec<String>),
}

/// The `ssh` section as Kamal reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SshSection {
    /// The section itself: `Value(())` for a mapping; `Unset` when there is none.
    pub section: Setting<()>,
    pub user: Setting<String>,
    pub port: Setting<u16>,
    /// Private key files, as written (`~/.ssh/id_kamal`, a relative path, ...).
    pub keys: Setting<Vec<String>>,
    pub keys_only: Setting<bool>,
    /// A jump host, `host` or `user@host` (as written).
    pub proxy: Setting<String>,
    pub proxy_command: Setting<String>,
    pub config: Setting<ConfigFiles>,
    /// `key_data` is set: keys from Kamal secrets, which pegasus cannot read.
    pub key_data: bool,
}

/// Reads the top-level `ssh` section of one file.
///
/// # Errors
/// [`ParseError`] when the masked text is not YAML (or holds a NUL byte).
pub fn read(text: &str) -> Result<SshSection, ParseError> {
    Ok(of(&Config::parse(text)?))
}

/// Kamal's `ssh.port` of one file, when it is a port number (an integer or a string of
/// digits, 1–65535). `None` when it is missing, ERB, not a port, or the text does not
/// parse.
pub fn ssh_port(text: &str) -> Option<u16> {
    read(text).ok()?.port.value().copied()
}

/// The `ssh` section of `config` (with a destination: both files merged, as in Kamal).
pub fn of(config: &Config<'_>) -> SshSection {
    let mut out = SshSection::default();
    let Some(root) = config.section(&[]).filter(Item::is_map) else {
        return out;
    };
    let ssh = match root.lookup("ssh") {
        Field::Missing => return out,
        Field::Twice { layer, line } => {
            out.section = duplicate("ssh", layer, line);
            return out;
        }
        Field::Found(ssh) => ssh,
    };
    if ssh.is_null() {
        return out;
    }
    if let Some(erb) = erb(&ssh) {
        out.section = erb;
        return out;
    }
    if !ssh.is_map() {
        out.section = invalid(&ssh, "not a mapping");
        return out;
    }
    out.section = Setting::Value(());
    out.user = setting(&ssh, "user", |i| {
        text(i)
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned())
            .ok_or("not a user name")
    });
    out.port = setting(&ssh, "port", |i| {
        text(i)
            .and_then(|t| t.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)
            .ok_or("not a port (1-65535)")
    });
    out.keys = setting(&ssh, "keys", |i| {
        strings(i).ok_or("not a list of key files")
    });
    out.keys_only = setting(&ssh, "keys_only", |i| boolean(i).ok_or("not true or false"));
    out.proxy = setting(&ssh, "proxy", |i| {
        text(i)
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned())
            .ok_or("not a host")
    });
    out.proxy_command = setting(&ssh, "proxy_command", |i| {
        text(i)
            .filter(|t| !t.trim().is_empty())
            .ok_or("not a command")
    });
    out.config = setting(&ssh, "config", |i| {
        if let Some(on) = boolean(i) {
            return Ok(if on {
                ConfigFiles::Default
            } else {
                ConfigFiles::Off
            });
        }
        if let Some(t) = text(i) {
            return Ok(ConfigFiles::Files(vec![t]));
        }
        strings(i)
            .map(ConfigFiles::Files)
            .ok_or("not true, false or config files")
    });
    out.key_data = matches!(ssh.lookup("key_data"), Field::Found(v) if !v.is_null());
    out
}

/// `ssh.<name>`: unset, ERB, or what `parse` makes of it.
fn setting<T>(
    ssh: &Item<'_, '_>,
    name: &str,
    parse: impl Fn(&Item<'_, '_>) -> Result<T, &'static str>,
) -> Setting<T> {
    let value = match ssh.lookup(name) {
        Field::Missing => return Setting::Unset,
        Field::Twice { layer, line } => return duplicate(&format!("ssh.{name}"), layer, line),
        Field::Found(value) => value,
    };
    if value.is_null() {
        return Setting::Unset;
    }
    if let Some(erb) = erb(&value) {
        return erb;
    }
    // ERB inside a list: the first such entry is what is reported.
    if let Some(erb) = value.items().iter().find_map(erb) {
        return erb;
    }
    match parse(&value) {
        Ok(v) => Setting::Value(v),
        Err(why) => invalid(&value, why),
    }
}

/// A scalar's text (any style, not ERB), `None` for a list or mapping.
fn text(item: &Item<'_, '_>) -> Option<String> {
    item.scalar().filter(|s| s.erb.is_none()).map(|s| s.value)
}

/// A YAML 1.1 boolean, as Kamal's YAML library (Psych) reads one: a plain
/// `true`/`false`/`yes`/`no`/`on`/`off`, in any case.
fn boolean(item: &Item<'_, '_>) -> Option<bool> {
    let s = item.scalar().filter(|s| s.plain && s.erb.is_none())?;
    match s.value.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A list of scalars.
fn strings(item: &Item<'_, '_>) -> Option<Vec<String>> {
    if !item.is_seq() {
        return None;
    }
    item.items().iter().map(text).collect()
}

/// `Some(Erb)` when the item is a scalar written with ERB.
fn erb<T>(item: &Item<'_, '_>) -> Option<Setting<T>> {
    let s = item.scalar()?;
    let text = s.erb?.trim().to_owned();
    Some(Setting::Erb {
        layer: s.layer,
        line: s.line,
        text,
    })
}

fn invalid<T>(item: &Item<'_, '_>, why: &'static str) -> Setting<T> {
    Setting::Invalid {
        layer: item.layer(),
        line: item.line(),
        text: item.line_text(),
        why,
    }
}

fn duplicate<T>(what: &str, layer: Layer, line: usize) -> Setting<T> {
    Setting::Invalid {
        layer,
        line,
        text: what.to_owned(),
        why: "set more than once (e.g. in ERB branches)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh(text: &str) -> SshSection {
        read(text).unwrap()
    }

    #[test]
    fn reads_every_key() {
        let s = ssh(
            "service: a\nssh:\n  user: app\n  port: 2222\n  keys: [ \"~/.ssh/id_kamal\", keys/other ]\n  keys_only: true\n  proxy: jump.example.com\n  config: false\n",
        );
        assert_eq!(s.section, Setting::Value(()));
        assert_eq!(s.user, Setting::Value("app".into()));
        assert_eq!(s.port, Setting::Value(2222));
        assert_eq!(
            s.keys,
            Setting::Value(vec!["~/.ssh/id_kamal".into(), "keys/other".into()])
        );
        assert_eq!(s.keys_only, Setting::Value(true));
        assert_eq!(s.proxy, Setting::Value("jump.example.com".into()));
        assert_eq!(s.proxy_command, Setting::Unset);
        assert_eq!(s.config, Setting::Value(ConfigFiles::Off));
        assert!(!s.key_data);
    }

    #[test]
    fn config_forms_and_proxy_command() {
        let s = ssh(
            "ssh:\n  config: ~/.ssh/kamal_config\n  proxy_command: ssh -W %h:%p bastion\n  keys_only: No\n",
        );
        assert_eq!(
            s.config,
            Setting::Value(ConfigFiles::Files(vec!["~/.ssh/kamal_config".into()]))
        );
        assert_eq!(
            s.proxy_command,
            Setting::Value("ssh -W %h:%p bastion".into())
        );
        assert_eq!(s.keys_only, Setting::Value(false));
        let s = ssh("ssh:\n  config: [a, b]\n  key_data: [SSH_KEY]\n");
        assert_eq!(
            s.config,
            Setting::Value(ConfigFiles::Files(vec!["a".into(), "b".into()]))
        );
        assert!(s.key_data);
        assert_eq!(
            ssh("ssh: {config: yes}\n").config,
            Setting::Value(ConfigFiles::Default)
        );
    }

    #[test]
    fn nothing_set() {
        for text in [
            "",
            "service: a\n",
            "ssh:\n",
            "- a\n",
            "accessories:\n  db:\n    ssh:\n      user: x\n",
        ] {
            let s = ssh(text);
            assert_eq!(s, SshSection::default(), "{text:?}");
        }
        let s = ssh("ssh:\n  user:\n  port: ~\n");
        assert_eq!((s.user, s.port), (Setting::Unset, Setting::Unset));
    }

    #[test]
    fn erb_is_reported_not_guessed() {
        let s = ssh(
            "ssh:\n  user: <%= ENV[\"SSH_USER\"] %>\n  port: 22\n  keys:\n    - ~/.ssh/a\n    - <%= ENV['K'] %>\n",
        );
        assert_eq!(
            s.user,
            Setting::Erb {
                layer: Layer::Edited,
                line: 2,
                text: "<%= ENV[\"SSH_USER\"] %>".into()
            }
        );
        assert_eq!(s.port, Setting::Value(22));
        assert_eq!(
            s.keys,
            Setting::Erb {
                layer: Layer::Edited,
                line: 6,
                text: "<%= ENV['K'] %>".into()
            }
        );
        let s = ssh("ssh: <%= ssh_settings %>\n");
        assert!(matches!(s.section, Setting::Erb { line: 1, .. }), "{s:?}");
        assert_eq!(s.user, Setting::Unset);
        let s = ssh("ssh:\n  proxy: root@<%= ENV['JUMP'] %>\n");
        assert_eq!(
            s.proxy,
            Setting::Erb {
                layer: Layer::Edited,
                line: 2,
                text: "root@<%= ENV['JUMP'] %>".into()
            }
        );
        // Both branches of an ERB `if`: not guessed either.
        let s = ssh("ssh:\n<% if true %>\n  user: a\n<% else %>\n  user: b\n<% end %>\n");
        assert!(
            matches!(s.user, Setting::Invalid { line: 5, .. }),
            "{:?}",
            s.user
        );
    }

    #[test]
    fn invalid_values_are_named() {
        let s = ssh("ssh:\n  port: 70000\n  keys: ~/.ssh/id\n  keys_only: \"true\"\n  user: [a]\n");
        assert_eq!(
            s.port,
            Setting::Invalid {
                layer: Layer::Edited,
                line: 2,
                text: "port: 70000".into(),
                why: "not a port (1-65535)"
            }
        );
        assert!(matches!(
            s.keys,
            Setting::Invalid {
                why: "not a list of key files",
                ..
            }
        ));
        assert!(matches!(s.keys_only, Setting::Invalid { line: 4, .. }));
        assert!(matches!(s.user, Setting::Invalid { line: 5, .. }));
        assert!(matches!(ssh("ssh: [a]\n").section, Setting::Invalid { .. }));
    }

    #[test]
    fn anchors_merge_keys_and_the_port_helper() {
        assert_eq!(
            ssh_port("x: &s\n  port: 2022\nssh:\n  <<: *s\n  user: app\n"),
            Some(2022)
        );
        assert_eq!(ssh_port("ssh:\n  port: \"2200\"\n"), Some(2200));
        assert_eq!(ssh_port("ssh: {port: 22}\n"), Some(22));
        assert_eq!(ssh_port("ssh:\n  port: 0\n"), None);
        assert_eq!(ssh_port("ssh:\n  port: <%= ENV['P'] %>\n"), None);
        assert_eq!(ssh_port("ssh: [\n"), None);
        let s = ssh("\u{feff}u: &u deploy\nssh:\n  user: *u\n");
        assert_eq!(s.user, Setting::Value("deploy".into()));
        assert!(read("ssh: [\n").is_err());
        assert!(read("a\0b").is_err());
    }

    #[test]
    fn a_destination_is_merged_as_kamal_merges_it() {
        let base = "service: app\nssh:\n  user: app\n  port: 2222\n  keys: [~/.ssh/a]\n";
        let staging =
            "ssh:\n  port: <%= ENV['PORT'] %>\n  keys:\n    - ~/.ssh/b\n  keys_only: true\n";
        let config = Config::parse_layered("deploy.yml", base, staging)
            .unwrap_or_else(|(_, e)| panic!("{e}"));
        let s = of(&config);
        assert_eq!(s.user, Setting::Value("app".into()));
        assert_eq!(
            s.port,
            Setting::Erb {
                layer: Layer::Edited,
                line: 2,
                text: "<%= ENV['PORT'] %>".into()
            }
        );
        assert_eq!(s.keys, Setting::Value(vec!["~/.ssh/b".into()]));
        assert_eq!(s.keys_only, Setting::Value(true));
        let bad = Config::parse_layered("deploy.yml", "ssh:\n  port: x\n", "service: a\n")
            .unwrap_or_else(|(_, e)| panic!("{e}"));
        assert!(matches!(
            of(&bad).port,
            Setting::Invalid {
                layer: Layer::Base,
                line: 2,
                ..
            }
        ));
    }
}
