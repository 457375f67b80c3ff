//! The one table of commands and options (ripgrep's idea, with hand-written help): the
//! parser, the "did you mean" hints, the completion scripts and the help-consistency
//! tests all read it.
//!
//! Each command's options are rows keyed by that command's own enum ([`CreateKey`],
//! [`ListKey`], ...), and its parser matches on the key without a catch-all arm: a row
//! whose key has no parser arm does not compile, and a row of one command cannot carry
//! another command's key. Adding an option means one variant, one row here, one arm in
//! the parser and one line in the command's help text; the compiler asks for the arm,
//! the tests for the help line.

use super::help;

/// What an option is, whatever its command: names, value, docs, completion.
#[derive(Debug, PartialEq)]
pub struct Opt {
    /// The long name without dashes (`server-type`).
    pub long: &'static str,
    pub short: Option<char>,
    /// The value's name in the help (`TYPE`); `None` for a flag.
    pub value: Option<&'static str>,
    /// A number: its value may start with `-` (`--ssh-timeout -1` is out of range, not
    /// a missing value).
    pub numeric: bool,
    /// One line, for completion descriptions.
    pub doc: &'static str,
    /// What the value is, for completions.
    pub complete: Complete,
}

impl Opt {
    /// How messages name it: `--config-file (-c)`, `--append`.
    pub fn shown(&self) -> String {
        match self.short {
            Some(c) => format!("--{} (-{c})", self.long),
            None => format!("--{}", self.long),
        }
    }
}

/// One row of a command's table: the command's key and what the option is.
#[derive(Debug, PartialEq)]
pub struct Row<K: 'static> {
    pub key: K,
    pub opt: Opt,
}

impl<K> std::ops::Deref for Row<K> {
    type Target = Opt;
    fn deref(&self) -> &Opt {
        &self.opt
    }
}

/// The program's own options.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TopKey {
    Help,
    Version,
}

/// A command whose only option is `--help` (`server`, `completions`).
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum HelpKey {
    Help,
}

/// `server create`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum CreateKey {
    ServerType,
    Image,
    Location,
    SshKey,
    Label,
    Firewall,
    NoFirewall,
    UserData,
    SshPort,
    SshTimeout,
    ConfigFile,
    Destination,
    Append,
    Replace,
    Role,
    Dns,
    Yes,
    DryRun,
    NoKamal,
    Json,
    Help,
}

/// `server list`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum ListKey {
    Output,
    Selector,
    Json,
    Help,
}

/// `server ip`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum IpKey {
    Ipv6,
    Help,
}

/// `server destroy`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum DestroyKey {
    Yes,
    ConfigFile,
    Destination,
    NoKamal,
    Dns,
    Json,
    Help,
}

/// A command's rows, typed by its key.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Rows {
    Top(&'static [Row<TopKey>]),
    HelpOnly(&'static [Row<HelpKey>]),
    Create(&'static [Row<CreateKey>]),
    List(&'static [Row<ListKey>]),
    Ip(&'static [Row<IpKey>]),
    Destroy(&'static [Row<DestroyKey>]),
    /// `pegasus help`: options after it are ignored.
    None,
}

/// Two options of a command that exclude each other, and why (when it helps).
#[derive(Debug)]
pub struct Excludes<K: 'static> {
    pub a: K,
    pub b: K,
    pub why: Option<&'static str>,
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
    pub rows: Rows,
    /// What the positional arguments are (completions).
    pub args: Complete,
    /// A group of commands (`server`): takes a command word, no options but `--help`.
    pub group: bool,
}

const fn flag<K>(key: K, long: &'static str, short: Option<char>, doc: &'static str) -> Row<K> {
    Row {
        key,
        opt: Opt {
            long,
            short,
            value: None,
            numeric: false,
            doc,
            complete: Complete::Nothing,
        },
    }
}

const fn valued<K>(
    key: K,
    long: &'static str,
    short: Option<char>,
    value: &'static str,
    doc: &'static str,
    complete: Complete,
) -> Row<K> {
    Row {
        key,
        opt: Opt {
            long,
            short,
            value: Some(value),
            numeric: false,
            doc,
            complete,
        },
    }
}

/// An option whose value is a number (it may be negative on the command line, so the
/// parser can say the range instead of "needs a value").
const fn number<K>(key: K, long: &'static str, value: &'static str, doc: &'static str) -> Row<K> {
    Row {
        key,
        opt: Opt {
            long,
            short: None,
            value: Some(value),
            numeric: true,
            doc,
            complete: Complete::Nothing,
        },
    }
}

const fn help_row<K>(key: K) -> Row<K> {
    flag(key, "help", Some('h'), "show the help")
}

const fn json_row<K>(key: K, doc: &'static str) -> Row<K> {
    flag(key, "json", None, doc)
}

const fn config_row<K>(key: K) -> Row<K> {
    valued(
        key,
        "config-file",
        Some('c'),
        "PATH",
        "Kamal config file",
        Complete::File,
    )
}

const fn destination_row<K>(key: K) -> Row<K> {
    valued(
        key,
        "destination",
        Some('d'),
        "DEST",
        "use config/deploy.DEST.yml",
        Complete::Nothing,
    )
}

pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];
/// The columns of `server list -o columns=`.
pub const COLUMNS: &[&str] = &[
    "id", "name", "status", "type", "location", "ipv4", "ipv6", "age", "created", "labels",
];
/// The fixed words of `server list -o`.
pub const OUTPUTS: &[&str] = &["noheader", "json", "columns="];

pub const TOP_ROWS: &[Row<TopKey>] = &[
    help_row(TopKey::Help),
    flag(TopKey::Version, "version", Some('V'), "print the version"),
];

/// `server` and `completions`.
pub const HELP_ONLY_ROWS: &[Row<HelpKey>] = &[help_row(HelpKey::Help)];

pub const CREATE_ROWS: &[Row<CreateKey>] = {
    use CreateKey as K;
    &[
        valued(
            K::ServerType,
            "server-type",
            Some('t'),
            "TYPE",
            "server type (default cx23)",
            Complete::Nothing,
        ),
        valued(
            K::Image,
            "image",
            Some('i'),
            "IMAGE",
            "image name or id (default ubuntu-24.04)",
            Complete::Nothing,
        ),
        valued(
            K::Location,
            "location",
            Some('l'),
            "LOC",
            "location (default nbg1)",
            Complete::Words(&["fsn1", "nbg1", "hel1", "ash", "hil", "sin"]),
        ),
        valued(
            K::SshKey,
            "ssh-key",
            Some('k'),
            "PATH",
            "public key file to use",
            Complete::File,
        ),
        valued(
            K::Label,
            "label",
            None,
            "KEY=VALUE",
            "extra server label (repeatable)",
            Complete::Nothing,
        ),
        valued(
            K::Firewall,
            "firewall",
            None,
            "NAME",
            "firewall to attach (default pegasus-kamal)",
            Complete::Nothing,
        ),
        flag(K::NoFirewall, "no-firewall", None, "attach no firewall"),
        valued(
            K::UserData,
            "user-data",
            None,
            "FILE",
            "cloud-init user data file",
            Complete::File,
        ),
        number(K::SshPort, "ssh-port", "PORT", "the port SSH answers on"),
        number(
            K::SshTimeout,
            "ssh-timeout",
            "SECONDS",
            "how long to wait until the server is ready (0 skips)",
        ),
        config_row(K::ConfigFile),
        destination_row(K::Destination),
        flag(
            K::Append,
            "append",
            None,
            "Kamal: add the server to the web role",
        ),
        flag(
            K::Replace,
            "replace",
            None,
            "Kamal: put the server in place of the web host",
        ),
        valued(
            K::Role,
            "role",
            None,
            "ROLE",
            "Kamal: add the server to this role",
            Complete::Nothing,
        ),
        flag(
            K::Dns,
            "dns",
            None,
            "point the Kamal proxy hosts at the server",
        ),
        flag(
            K::Yes,
            "yes",
            Some('y'),
            "consent to moving live DNS records",
        ),
        flag(
            K::DryRun,
            "dry-run",
            None,
            "check everything, create nothing",
        ),
        flag(
            K::NoKamal,
            "no-kamal",
            None,
            "do not read or write any Kamal config",
        ),
        json_row(K::Json, "print JSON on stdout"),
        help_row(K::Help),
    ]
};

const NO_KAMAL_WHY: Option<&str> = Some("--no-kamal reads and writes no Kamal config");

/// SPEC §2: the options of `create` that exclude each other, checked in this order.
pub const CREATE_EXCLUDES: &[Excludes<CreateKey>] = {
    use CreateKey as K;
    const fn x(a: K, b: K, why: Option<&'static str>) -> Excludes<K> {
        Excludes { a, b, why }
    }
    &[
        x(K::Append, K::Replace, None),
        x(K::Role, K::Append, None),
        x(K::Role, K::Replace, None),
        x(K::Role, K::Dns, None),
        x(K::Firewall, K::NoFirewall, None),
        x(K::NoKamal, K::Dns, NO_KAMAL_WHY),
        x(K::NoKamal, K::Role, NO_KAMAL_WHY),
        x(K::NoKamal, K::Append, NO_KAMAL_WHY),
        x(K::NoKamal, K::Replace, NO_KAMAL_WHY),
        x(K::NoKamal, K::ConfigFile, NO_KAMAL_WHY),
        x(K::NoKamal, K::Destination, NO_KAMAL_WHY),
    ]
};

pub const LIST_ROWS: &[Row<ListKey>] = &[
    valued(
        ListKey::Output,
        "output",
        Some('o'),
        "FORMAT",
        "noheader, columns=COLS or json (repeatable)",
        Complete::Words(OUTPUTS),
    ),
    valued(
        ListKey::Selector,
        "selector",
        Some('l'),
        "SELECTOR",
        "label selector, e.g. managed-by=pegasus",
        Complete::Nothing,
    ),
    json_row(ListKey::Json, "print JSON on stdout"),
    help_row(ListKey::Help),
];

pub const IP_ROWS: &[Row<IpKey>] = &[
    flag(IpKey::Ipv6, "ipv6", Some('6'), "print the IPv6 address"),
    help_row(IpKey::Help),
];

pub const DESTROY_ROWS: &[Row<DestroyKey>] = {
    use DestroyKey as K;
    &[
        flag(K::Yes, "yes", Some('y'), "do not ask for confirmation"),
        config_row(K::ConfigFile),
        destination_row(K::Destination),
        flag(K::NoKamal, "no-kamal", None, "leave the Kamal config alone"),
        flag(
            K::Dns,
            "dns",
            None,
            "remove the servers from the proxy names' DNS",
        ),
        json_row(K::Json, "print JSON on stdout"),
        help_row(K::Help),
    ]
};

/// SPEC §2: the options of `destroy` that exclude each other.
pub const DESTROY_EXCLUDES: &[Excludes<DestroyKey>] = {
    use DestroyKey as K;
    &[
        Excludes {
            a: K::NoKamal,
            b: K::Dns,
            why: NO_KAMAL_WHY,
        },
        Excludes {
            a: K::NoKamal,
            b: K::ConfigFile,
            why: NO_KAMAL_WHY,
        },
        Excludes {
            a: K::NoKamal,
            b: K::Destination,
            why: NO_KAMAL_WHY,
        },
    ]
};

pub const TOP: Cmd = Cmd {
    path: &[],
    alias: None,
    doc: "provision a Hetzner Cloud server for Kamal",
    help: help::USAGE,
    rows: Rows::Top(TOP_ROWS),
    args: Complete::Nothing,
    group: true,
};

pub const SERVER: Cmd = Cmd {
    path: &["server"],
    alias: None,
    doc: "create, list, find or delete servers",
    help: help::SERVER_USAGE,
    rows: Rows::HelpOnly(HELP_ONLY_ROWS),
    args: Complete::Nothing,
    group: true,
};

pub const CREATE: Cmd = Cmd {
    path: &["server", "create"],
    alias: None,
    doc: "provision a server and point the Kamal config at it",
    help: help::CREATE_USAGE,
    rows: Rows::Create(CREATE_ROWS),
    args: Complete::Nothing,
    group: false,
};

pub const LIST: Cmd = Cmd {
    path: &["server", "list"],
    alias: Some("ls"),
    doc: "list the project's servers",
    help: help::LIST_USAGE,
    rows: Rows::List(LIST_ROWS),
    args: Complete::Nothing,
    group: false,
};

pub const IP: Cmd = Cmd {
    path: &["server", "ip"],
    alias: None,
    doc: "print a server's address",
    help: help::IP_USAGE,
    rows: Rows::Ip(IP_ROWS),
    args: Complete::ServerNames,
    group: false,
};

pub const DESTROY: Cmd = Cmd {
    path: &["server", "destroy"],
    alias: Some("delete"),
    doc: "delete servers",
    help: help::DESTROY_USAGE,
    rows: Rows::Destroy(DESTROY_ROWS),
    args: Complete::ServerNames,
    group: false,
};

pub const COMPLETIONS: Cmd = Cmd {
    path: &["completions"],
    alias: None,
    doc: "print a shell completion script",
    help: help::COMPLETIONS_USAGE,
    rows: Rows::HelpOnly(HELP_ONLY_ROWS),
    args: Complete::Words(SHELLS),
    group: false,
};

pub const HELP_CMD: Cmd = Cmd {
    path: &["help"],
    alias: None,
    doc: "show the help of a command",
    help: help::USAGE,
    // `pegasus help X --help` shows X's help: options after `help` are ignored.
    rows: Rows::None,
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

fn opts_of<K>(rows: &'static [Row<K>]) -> Vec<&'static Opt> {
    rows.iter().map(|r| &r.opt).collect()
}

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

    /// The options, whatever the key type, in the table's order.
    pub fn opts(&self) -> Vec<&'static Opt> {
        match self.rows {
            Rows::Top(r) => opts_of(r),
            Rows::HelpOnly(r) => opts_of(r),
            Rows::Create(r) => opts_of(r),
            Rows::List(r) => opts_of(r),
            Rows::Ip(r) => opts_of(r),
            Rows::Destroy(r) => opts_of(r),
            Rows::None => Vec::new(),
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
        self.opts().into_iter().find(|o| o.long == name)
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
    fn names_and_keys_are_unique_per_command() {
        for cmd in COMMANDS {
            let opts = cmd.opts();
            for (i, a) in opts.iter().enumerate() {
                for b in &opts[i + 1..] {
                    assert_ne!(a.long, b.long, "{:?}", cmd.path);
                    assert!(a.short.is_none() || a.short != b.short, "{:?}", cmd.path);
                }
            }
        }
        fn keys_unique<K: PartialEq + std::fmt::Debug>(rows: &[Row<K>]) {
            for (i, a) in rows.iter().enumerate() {
                for b in &rows[i + 1..] {
                    assert_ne!(a.key, b.key, "two rows for one key");
                }
            }
        }
        keys_unique(TOP_ROWS);
        keys_unique(HELP_ONLY_ROWS);
        keys_unique(CREATE_ROWS);
        keys_unique(LIST_ROWS);
        keys_unique(IP_ROWS);
        keys_unique(DESTROY_ROWS);
    }

    /// Only numbers take a value that starts with `-`, and every number is a valued option.
    #[test]
    fn numbers_have_values() {
        for cmd in COMMANDS {
            for o in cmd.opts() {
                assert!(!o.numeric || o.value.is_some(), "--{}", o.long);
            }
        }
    }

    /// Each exclusion names two different options, both with a row.
    #[test]
    fn exclusions_name_options_of_their_command() {
        fn check<K: PartialEq + std::fmt::Debug>(rows: &[Row<K>], ex: &[Excludes<K>]) {
            for x in ex {
                assert_ne!(x.a, x.b);
                assert!(rows.iter().any(|r| r.key == x.a), "{:?}", x.a);
                assert!(rows.iter().any(|r| r.key == x.b), "{:?}", x.b);
            }
        }
        check(CREATE_ROWS, CREATE_EXCLUDES);
        check(DESTROY_ROWS, DESTROY_EXCLUDES);
    }
}
