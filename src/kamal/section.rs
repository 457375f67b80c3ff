//! Reading a section of the config as Kamal sees it ([`Config::section`]): for the readers
//! of `ssh`, `proxy` and the like. With a destination, values come from the base file and
//! the destination file merged as Kamal merges them (mappings key by key, everything else —
//! lists too — from the later file); every value knows the file ([`Layer`]) and line that
//! hold it, and a value written as ERB is reported as such (its text as written), never
//! guessed.

use yaml_rust2::scanner::TScalarStyle;

use super::tree::{Look, Val};
use super::{Config, Layer};

/// A value of the merged config.
pub struct Item<'c, 'a> {
    config: &'c Config<'a>,
    val: Val,
}

/// What a key lookup in a mapping found.
pub enum Field<'c, 'a> {
    Missing,
    Found(Item<'c, 'a>),
    /// The key is set twice in one mapping (e.g. both branches of an ERB `if`): `line` is
    /// the second one.
    Twice {
        layer: Layer,
        line: usize,
    },
}

/// A scalar value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    /// The value as YAML reads it ("" for an ERB value: see `erb`).
    pub value: String,
    /// Written without quotes (so `true`, `22`, `~` read as YAML 1.1 would type them).
    pub plain: bool,
    /// The value is (or holds) an ERB tag: its text as written.
    pub erb: Option<String>,
    pub layer: Layer,
    /// 1-based.
    pub line: usize,
}

impl<'c, 'a> Item<'c, 'a> {
    pub(super) fn new(config: &'c Config<'a>, val: Val) -> Self {
        Item { config, val }
    }

    /// The value of `key` in this mapping.
    pub fn lookup(&self, key: &str) -> Field<'c, 'a> {
        let tree = self.config.tree();
        match tree.get(&self.val, key) {
            Look::Missing => Field::Missing,
            Look::Duplicate { at } => Field::Twice {
                layer: self.config.layer(at.file),
                line: tree.line(at),
            },
            Look::Found { value, .. } => Field::Found(Item::new(self.config, value)),
        }
    }

    /// The value of `key`, when it is set once.
    pub fn get(&self, key: &str) -> Option<Item<'c, 'a>> {
        match self.lookup(key) {
            Field::Found(item) => Some(item),
            _ => None,
        }
    }

    /// The keys of this mapping, in Kamal's order.
    pub fn keys(&self) -> Vec<String> {
        self.config.tree().names(&self.val)
    }

    pub fn is_map(&self) -> bool {
        self.config.tree().is_map(&self.val)
    }

    pub fn is_seq(&self) -> bool {
        self.config.tree().is_seq(&self.val)
    }

    /// Nothing written, `~` or `null`.
    pub fn is_null(&self) -> bool {
        self.config.tree().is_null(&self.val)
    }

    /// The entries of this list (aliases followed); empty for anything else.
    pub fn items(&self) -> Vec<Item<'c, 'a>> {
        let tree = self.config.tree();
        match tree.one(&self.val) {
            Some(at) if tree.is_seq(&self.val) => tree
                .items(at)
                .into_iter()
                .map(|item| Item::new(self.config, Val::One(tree.resolve(item))))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// This value as a scalar (`None` for a mapping or a list).
    pub fn scalar(&self) -> Option<Scalar> {
        let tree = self.config.tree();
        let at = tree.resolve(tree.one(&self.val)?);
        let source = self.config.source(at.file)?;
        let (value, style, span) = source.doc.scalar(at.id)?;
        let line = source.doc.line(at.id);
        let start = source.doc.node(at.id).and_then(|n| n.start);
        let extent = span
            .clone()
            .or_else(|| start.map(|s| s..source.line_end(s)));
        let erb = extent
            .and_then(|e| source.masked.tag_overlapping(&e))
            .map(|tag| {
                span.and_then(|s| source.body.get(s))
                    .or_else(|| source.body.get(tag))
                    .unwrap_or("")
                    .to_owned()
            });
        Some(Scalar {
            value: if erb.is_some() {
                String::new()
            } else {
                value.to_owned()
            },
            plain: style == TScalarStyle::Plain,
            erb,
            layer: self.config.layer(at.file),
            line,
        })
    }

    /// The file that holds this value (for a merged mapping: the last file that sets it).
    pub fn layer(&self) -> Layer {
        self.config.layer(self.at().file)
    }

    /// The 1-based line of this value (of its last layer for a merged mapping).
    pub fn line(&self) -> usize {
        self.config.tree().line(self.at())
    }

    /// The text of this value's line, trimmed, as written.
    pub fn line_text(&self) -> String {
        let at = self.at();
        let line = self.config.tree().line(at);
        self.config
            .source(at.file)
            .map_or_else(String::new, |s| s.line_text(line))
    }

    fn at(&self) -> super::tree::At {
        let mut val = &self.val;
        loop {
            match val {
                Val::One(at) => return *at,
                Val::Merge(layers) => match layers.last() {
                    Some(last) => val = last,
                    None => {
                        return super::tree::At {
                            file: self.config.edited(),
                            id: 0,
                        };
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Layer};

    #[test]
    fn reads_a_merged_section_with_where_each_value_is() {
        let base = "service: app\nssh:\n  user: app\n  port: 2222\n  keys: [~/.ssh/a]\n";
        let staging = "ssh:\n  port: <%= ENV['PORT'] %>\n  keys:\n    - ~/.ssh/b\n";
        let config = Config::parse_layered("deploy.yml", base, staging)
            .unwrap_or_else(|(_, e)| panic!("{e}"));
        let ssh = config.section(&["ssh"]).unwrap_or_else(|| panic!("no ssh"));
        assert!(ssh.is_map());
        assert_eq!(ssh.keys(), ["user", "port", "keys"]);
        let user = ssh.get("user").and_then(|u| u.scalar());
        let user = user.unwrap_or_else(|| panic!("no user"));
        assert_eq!(
            (user.value.as_str(), user.layer, user.line),
            ("app", Layer::Base, 3)
        );
        let port = ssh.get("port").and_then(|p| p.scalar());
        let port = port.unwrap_or_else(|| panic!("no port"));
        assert_eq!(port.erb.as_deref(), Some("<%= ENV['PORT'] %>"));
        assert_eq!((port.layer, port.line), (Layer::Edited, 2));
        let keys = ssh.get("keys").map(|k| k.items()).unwrap_or_default();
        let keys: Vec<String> = keys
            .iter()
            .filter_map(|k| k.scalar().map(|s| s.value))
            .collect();
        assert_eq!(keys, ["~/.ssh/b"]);
        assert!(config.section(&["ssh", "proxy"]).is_none());
        let twice = Config::parse("ssh:\n  user: a\n  user: b\n").unwrap_or_else(|e| panic!("{e}"));
        let ssh = twice.section(&["ssh"]).unwrap_or_else(|| panic!("no ssh"));
        assert!(matches!(
            ssh.lookup("user"),
            super::Field::Twice { line: 3, .. }
        ));
    }
}
