//! The one table of commands and options (ripgrep's idea, with hand-written help): the
//! parser, the "did you mean" hints, the completion scripts and the help-consistency
//! tests all read it. Adding an option means one row here, one arm in the parser and
//! one line in the command's help text; the tests fail until all three agree.

use super::help;

/// One option of a command.
#[derive(Debug, PartialEq)]
pub struct Opt {
    /// The long name without dashes (`server-type`).
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in the help (`TYPE`); `None` for a flag.
    pub value: Option<&'static str>,
    /// One line, for completion descriptions.
    pub doc: &'static str,
    /// What the value is, for completions.
    pub complete: Complete,
}

/// What a shell may offer for an option's value or a positional argument.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Complete {
    Nothing,
    File,
    /// A fixed list of words.
    Words(&'static [&'static str]),
    /// The project's server names (`pegasus server list -o noheader -o columns=name`).
    ServerNames,
}

/// One command: its words, an alias for the last word, its help text and its options.
#[derive(Debug, PartialEq)]
pub struct Cmd {
    /// `["server", "create"]`; empty for the program itself.
    pub path: &'static [&'static str],
    pub alias: Option<&'static str>,
    /// One line, for completion descriptions.
    pub doc: &'static str,
    pub help: &'static str,
    pub opts: &'static [Opt],
    /// What the positional arguments are (completions).
    pub args: Complete,
    /// A group of commands (`server`): takes a command word, no options but `--help`.
    pub group: bool,
}

const fn flag(long: &'static str, short: Option<char>, doc: &'static str) -> Opt {
    Opt {
        long,
        short,
        value: None,
        doc,
        complete: Complete::Nothing,
    }
}

const fn valued(
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    doc: &'static str,
    complete: Complete,
) -> Opt {
    Opt {
        long,
        short,
        value: Some(value),
        doc,
        complete,
    }
}

const HELP: Opt = flag("help", Some('h'), "show the help");

pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];
/// The columns of `server list -o columns=`.
pub const COLUMNS: &[&str] = &[
    "id", "name", "status", "type", "location", "ipv4", "ipv6", "age", "created", "labels",
];
/// The fixed words of `server list -o`.
pub const OUTPUTS: &[&str] = &["noheader", "json", "columns="];

const KAMAL_CONFIG: Opt = valued(
    "config-file",
    Some('c'),
    "PATH",
    "Kamal config file",
    Complete::File,
);
const KAMAL_DEST: Opt = valued(
    "destination",
    Some('d'),
    "DEST",
    "use config/deploy.DEST.yml",
    Complete::Nothing,
);
const JSON: Opt = flag("json", None, "print JSON on stdout");

pub const TOP: Cmd = Cmd {
    path: &[],
    alias: None,
    doc: "provision a Hetzner Cloud server for Kamal",
    help: help::USAGE,
    opts: &[HELP, flag("version", Some('V'), "print the version")],
    args: Complete::Nothing,
    group: true,
};

pub const SERVER: Cmd = Cmd {
    path: &["server"],
    alias: None,
    doc: "create, list, find or delete servers",
    help: help::SERVER_USAGE,
    opts: &[HELP],
    args: Complete::Nothing,
    group: true,
};

pub const CREATE: Cmd = Cmd {
    path: &["server", "create"],
    alias: None,
    doc: "provision a server and point the Kamal config at it",
    help: help::CREATE_USAGE,
    opts: &[
        valued(
            "server-type",
            Some('t'),
            "TYPE",
            "server type (default cx23)",
            Complete::Nothing,
        ),
        valued(
            "image",
            Some('i'),
            "IMAGE",
            "image name or id (default ubuntu-24.04)",
            Complete::Nothing,
        ),
        valued(
            "location",
            Some('l'),
            "LOC",
            "location (default nbg1)",
            Complete::Words(&["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]),
        ),
        valued(
            "ssh-key",
            Some('k'),
            "PATH",
            "public key file to use",
            Complete::File,
        ),
        valued(
            "label",
            None,
            "KEY=VALUE",
            "extra server label (repeatable)",
            Complete::Nothing,
        ),
        valued(
            "firewall",
            None,
            "NAME",
            "firewall to attach (default pegasus-kamal)",
            Complete::Nothing,
        ),
        flag("no-firewall", None, "attach no firewall"),
        valued(
            "user-data",
            None,
            "FILE",
            "cloud-init user data file",
            Complete::File,
        ),
        valued(
            "ssh-port",
            None,
            "PORT",
            "the port SSH answers on",
            Complete::Nothing,
        ),
        valued(
            "ssh-timeout",
            None,
            "SECONDS",
            "how long to wait for SSH (0 skips)",
            Complete::Nothing,
        ),
        KAMAL_CONFIG,
        KAMAL_DEST,
        flag("append", None, "Kamal: add the server to the web role"),
        flag(
            "replace",
            None,
            "Kamal: put the server in place of the web host",
        ),
        flag("dns", None, "point the Kamal proxy hosts at the server"),
        valued(
            "role",
            None,
            "ROLE",
            "Kamal: add the server to this role",
            Complete::Nothing,
        ),
        flag("dry-run", None, "check everything, create nothing"),
        flag("yes", Some('y'), "consent to moving live DNS records"),
        flag("no-kamal", None, "do not touch any Kamal config"),
        JSON,
        HELP,
    ],
    args: Complete::Nothing,
    group: false,
};

pub const LIST: Cmd = Cmd {
    path: &["server", "list"],
    alias: Some("ls"),
    doc: "list the project's servers",
    help: help::LIST_USAGE,
    opts: &[
        valued(
            "output",
            Some('o'),
            "FORMAT",
            "noheader, columns=COLS or json (repeatable)",
            Complete::Words(OUTPUTS),
        ),
        valued(
            "selector",
            Some('l'),
            "SELECTOR",
            "label selector, e.g. managed-by=pegasus",
            Complete::Nothing,
        ),
        JSON,
        HELP,
    ],
    args: Complete::Nothing,
    group: false,
};

pub const IP: Cmd = Cmd {
    path: &["server", "ip"],
    alias: None,
    doc: "print a server's address",
    help: help::IP_USAGE,
    opts: &[flag("ipv6", Some('6'), "print the IPv6 address"), HELP],
    args: Complete::ServerNames,
    group: false,
};

pub const DESTROY: Cmd = Cmd {
    path: &["server", "destroy"],
    alias: Some("delete"),
    doc: "delete servers",
    help: help::DESTROY_USAGE,
    opts: &[
        flag("yes", Some('y'), "do not ask for confirmation"),
        KAMAL_CONFIG,
        KAMAL_DEST,
        flag("no-kamal", None, "leave the Kamal config alone"),
        flag("dns", None, "remove the servers from the proxy names' DNS"),
        JSON,
        HELP,
    ],
    args: Complete::ServerNames,
    group: false,
};

pub const COMPLETIONS: Cmd = Cmd {
    path: &["completions"],
    alias: None,
    doc: "print a shell completion script",
    help: help::COMPLETIONS_USAGE,
    opts: &[HELP],
    args: Complete::Words(SHELLS),
    group: false,
};

pub const HELP_CMD: Cmd = Cmd {
    path: &["help"],
    alias: None,
    doc: "show the help of a command",
    help: help::USAGE,
    // `pegasus help X --help` shows X's help: options after `help` are ignored.
    opts: &[],
    args: Complete::Nothing,
    group: false,
};

/// Every command, the program and groups included.
pub const COMMANDS: &[&Cmd] = &[
    &TOP,
    &SERVER,
    &CREATE,
    &LIST,
    &IP,
    &DESTROY,
    &COMPLETIONS,
    &HELP_CMD,
];

impl Cmd {
    /// `pegasus server create --help`, for usage errors.
    pub fn help_hint(&self) -> &'static str {
        match self.path {
            [] => "pegasus --help",
            ["server"] => "pegasus server --help",
            ["server", "create"] => "pegasus server create --help",
            ["server", "list"] => "pegasus server list --help",
            ["server", "ip"] => "pegasus server ip --help",
            ["server", "destroy"] => "pegasus server destroy --help",
            ["completions"] => "pegasus completions --help",
            _ => "pegasus help",
        }
    }

    /// The last word and its alias.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        self.path.last().copied().into_iter().chain(self.alias)
    }

    /// The commands one level below this group.
    pub fn children(&self) -> impl Iterator<Item = &'static Cmd> + '_ {
        COMMANDS
            .iter()
            .copied()
            .filter(move |c| c.path.len() == self.path.len() + 1 && c.path.starts_with(self.path))
    }

    /// The command below this group named `word` (or its alias).
    pub fn child(&self, word: &str) -> Option<&'static Cmd> {
        self.children().find(|c| c.names().any(|n| n == word))
    }

    pub fn long(&self, name: &str) -> Option<&'static Opt> {
        self.opts_static().iter().find(|o| o.long == name)
    }

    pub fn short(&self, c: char) -> Option<&'static Opt> {
        self.opts_static().iter().find(|o| o.short == Some(c))
    }

    fn opts_static(&self) -> &'static [Opt] {
        self.opts
    }
}

/// The closest of `candidates` to `typed`, when it is close enough to be a typo: an
/// edit distance (with swaps) of at most 2, and less than the candidate's length.
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(typed, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
/// two neighbours each cost 1 (`josn` is 1 from `json`).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("json", "json"), 0);
        assert_eq!(distance("josn", "json"), 1);
        assert_eq!(distance("sever", "server"), 1);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(closest("destory", ["create", "destroy"]), Some("destroy"));
        assert_eq!(closest("xy", ["ip", "ls"]), None);
        assert_eq!(closest("lx", ["ip", "ls"]), Some("ls"));
        assert_eq!(closest("bogus", ["json", "yes"]), None);
    }

    #[test]
    fn names_are_unique_per_command() {
        for cmd in COMMANDS {
            for (i, a) in cmd.opts.iter().enumerate() {
                for b in &cmd.opts[i + 1..] {
                    assert_ne!(a.long, b.long, "{:?}", cmd.path);
                    assert!(a.short.is_none() || a.short != b.short, "{:?}", cmd.path);
                }
            }
        }
    }
}
