//! Kamal's `ssh` section: how Kamal logs in to its servers (`user`, `port`, `keys`,
//! `keys_only`, `proxy`, `proxy_command`, `config`, and whether `key_data` is set), read
//! from the config text (ERB masked) the way the editor reads hosts (aliases and merge
//! keys followed). A value written with ERB is reported with its line, never guessed.
//! Pure: text in, settings out.
//!
//! [`read`] takes one text; [`from_doc`]'s shape (a parsed document and its root) is what
//! a merged view of `deploy.yml` + `deploy.DEST.yml` can feed as well.

use super::doc::{self, Doc, NodeId};
use super::erb::{self, Masked};
use super::hosts::{self, Lookup};
use super::{ParseError, nul_error, parse_error};

/// One setting of the section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Setting<T> {
    /// Not written (or written empty: Kamal's default applies).
    #[default]
    Unset,
    Value(T),
    /// Written with ERB: what Kamal will use is known only when it renders the file.
    Erb {
        line: usize,
        text: String,
    },
    /// Written, but not a value of the kind Kamal reads there.
    Invalid {
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

    /// Where and as what it is written, for a note, when it is ERB or invalid.
    pub fn problem(&self) -> Option<(usize, &str, &'static str)> {
        match self {
            Setting::Erb { line, text } => Some((*line, text, "made by ERB")),
            Setting::Invalid { line, text, why } => Some((*line, text, why)),
            _ => None,
        }
    }
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

/// Reads the top-level `ssh` section.
///
/// # Errors
/// [`ParseError`] when the masked text is not YAML (or holds a NUL byte).
pub fn read(text: &str) -> Result<SshSection, ParseError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(at) = body.find('\0') {
        return Err(nul_error(body, at));
    }
    let masked = erb::mask(body);
    let doc = doc::parse(&masked.text).map_err(|e| parse_error(&e))?;
    let reader = Reader {
        body,
        masked: &masked,
        doc: &doc,
    };
    Ok(match doc.root.filter(|r| doc.is_map(*r)) {
        Some(root) => from_doc(&reader, root),
        None => SshSection::default(),
    })
}

/// Kamal's `ssh.port`, when it is a port number (an integer or a string of digits,
/// 1–65535). `None` when it is missing, ERB, not a port, or the text does not parse.
pub fn ssh_port(text: &str) -> Option<u16> {
    read(text).ok()?.port.value().copied()
}

/// What [`read`] and [`from_doc`] look through.
pub(crate) struct Reader<'a> {
    pub body: &'a str,
    pub masked: &'a Masked,
    pub doc: &'a Doc,
}

/// The `ssh` section under `root` (a mapping).
pub(crate) fn from_doc(r: &Reader, root: NodeId) -> SshSection {
    let mut out = SshSection::default();
    let ssh = match hosts::get(r.doc, root, "ssh") {
        Lookup::Missing => return out,
        Lookup::Duplicate { line } => {
            out.section = r.duplicate("ssh", line);
            return out;
        }
        Lookup::Found { value, .. } => value,
    };
    if r.doc.is_null(ssh) {
        return out;
    }
    if let Some(erb) = r.erb(ssh) {
        out.section = erb;
        return out;
    }
    if !r.doc.is_map(ssh) {
        out.section = r.invalid(ssh, "not a mapping");
        return out;
    }
    out.section = Setting::Value(());
    out.user = r.setting(ssh, "user", |r, n| {
        r.text(n)
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned())
            .ok_or("not a user name")
    });
    out.port = r.setting(ssh, "port", |r, n| {
        r.text(n)
            .and_then(|t| t.trim().parse::<u16>().ok())
            .filter(|p| *p > 0)
            .ok_or("not a port (1-65535)")
    });
    out.keys = r.setting(ssh, "keys", |r, n| {
        r.strings(n).ok_or("not a list of key files")
    });
    out.keys_only = r.setting(ssh, "keys_only", |r, n| {
        r.boolean(n).ok_or("not true or false")
    });
    out.proxy = r.setting(ssh, "proxy", |r, n| {
        r.text(n)
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.trim().to_owned())
            .ok_or("not a host")
    });
    out.proxy_command = r.setting(ssh, "proxy_command", |r, n| {
        r.text(n)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
            .ok_or("not a command")
    });
    out.config = r.setting(ssh, "config", |r, n| {
        if let Some(on) = r.boolean(n) {
            return Ok(if on {
                ConfigFiles::Default
            } else {
                ConfigFiles::Off
            });
        }
        if let Some(t) = r.text(n) {
            return Ok(ConfigFiles::Files(vec![t.to_owned()]));
        }
        r.strings(n)
            .map(ConfigFiles::Files)
            .ok_or("not true, false or config files")
    });
    out.key_data = matches!(
        hosts::get(r.doc, ssh, "key_data"),
        Lookup::Found { value, .. } if !r.doc.is_null(value)
    );
    out
}

impl Reader<'_> {
    /// `ssh.<name>`: unset, ERB, or what `parse` makes of it.
    fn setting<T>(
        &self,
        ssh: NodeId,
        name: &str,
        parse: impl Fn(&Self, NodeId) -> Result<T, &'static str>,
    ) -> Setting<T> {
        let value = match hosts::get(self.doc, ssh, name) {
            Lookup::Missing => return Setting::Unset,
            Lookup::Duplicate { line } => return self.duplicate(&format!("ssh.{name}"), line),
            Lookup::Found { value, .. } => value,
        };
        if self.doc.is_null(value) {
            return Setting::Unset;
        }
        if let Some(erb) = self.erb(value) {
            return erb;
        }
        // ERB inside a list: the first such entry is what is reported.
        for item in self.doc.items(value) {
            if let Some(erb) = self.erb(self.doc.resolve(*item)) {
                return erb;
            }
        }
        match parse(self, value) {
            Ok(v) => Setting::Value(v),
            Err(why) => self.invalid(value, why),
        }
    }

    /// A scalar's text (any style), `None` for a list or mapping.
    fn text(&self, node: NodeId) -> Option<&str> {
        self.doc.scalar(node).map(|(value, _, _)| value)
    }

    /// A YAML 1.1 boolean, as Kamal's YAML library (Psych) reads one: a plain
    /// `true`/`false`/`yes`/`no`/`on`/`off`, in any case.
    fn boolean(&self, node: NodeId) -> Option<bool> {
        let (value, style, _) = self.doc.scalar(node)?;
        if style != yaml_rust2::scanner::TScalarStyle::Plain {
            return None;
        }
        match value.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        }
    }

    /// A list of scalars.
    fn strings(&self, node: NodeId) -> Option<Vec<String>> {
        if !self.doc.is_seq(node) {
            return None;
        }
        self.doc
            .items(node)
            .iter()
            .map(|i| self.text(self.doc.resolve(*i)).map(str::to_owned))
            .collect()
    }

    /// `Some(Erb)` when the node is a scalar whose text overlaps an ERB tag.
    fn erb<T>(&self, node: NodeId) -> Option<Setting<T>> {
        let line = self.doc.line(node);
        let (_, _, span) = self.doc.scalar(node)?;
        let start = self.doc.node(node).and_then(|n| n.start)?;
        let extent = span
            .clone()
            .unwrap_or_else(|| start..self.line_end(start, line));
        let tag = self.masked.tag_overlapping(&extent)?;
        let text = span
            .and_then(|s| self.body.get(s))
            .or_else(|| self.body.get(tag))
            .unwrap_or("")
            .trim()
            .to_owned();
        Some(Setting::Erb { line, text })
    }

    fn invalid<T>(&self, node: NodeId, why: &'static str) -> Setting<T> {
        let line = self.doc.line(node);
        Setting::Invalid {
            line,
            text: self.line_text(line),
            why,
        }
    }

    fn duplicate<T>(&self, what: &str, line: usize) -> Setting<T> {
        Setting::Invalid {
            line,
            text: what.to_owned(),
            why: "set more than once (e.g. in ERB branches)",
        }
    }

    fn line_text(&self, line: usize) -> String {
        self.doc
            .lines
            .line_range(self.body, line)
            .and_then(|r| self.body.get(r))
            .unwrap_or("")
            .trim()
            .to_owned()
    }

    fn line_end(&self, at: usize, line: usize) -> usize {
        self.doc
            .lines
            .line_range(&self.masked.text, line)
            .map_or(at, |r| r.end)
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
                line: 2,
                text: "<%= ENV[\"SSH_USER\"] %>".into()
            }
        );
        assert_eq!(s.port, Setting::Value(22));
        assert_eq!(
            s.keys,
            Setting::Erb {
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
}
