//! Command-line parsing with lexopt into plain structs, and the hand-written help texts.
//!
//! Parsing only checks the shape of the command line and the rules that need nothing
//! but the arguments (server name, labels, destination). Everything else is checked
//! by the commands.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

use crate::error::{Error, Result};

pub use crate::defaults::VERSION;

pub mod help;
pub mod replay;
pub mod table;

use crate::text::escape;
pub use help::{
    COMPLETIONS_USAGE, CREATE_USAGE, DESTROY_USAGE, IP_USAGE, LIST_USAGE, SERVER_USAGE, USAGE,
};
use table::{Cmd, CreateKey, DestroyKey, HelpKey, IpKey, ListKey, Opt, Row, Rows, TopKey};

/// What the user asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Print this help text on stdout and exit 0.
    Help(&'static str),
    Version,
    Create(Box<CreateArgs>),
    List(ListArgs),
    Ip(IpArgs),
    Destroy(DestroyArgs),
    Completions(Shell),
}

/// Where the Kamal config is, as the flags say.
#[derive(Debug, Default, PartialEq, Clone)]
pub struct KamalArgs {
    pub config_file: Option<PathBuf>,
    pub destination: Option<String>,
    pub no_kamal: bool,
}

#[derive(Debug, PartialEq, Clone)]
pub struct CreateArgs {
    pub name: String,
    pub server_type: String,
    pub image: String,
    pub location: String,
    pub ssh_key: Option<PathBuf>,
    /// Extra labels in the order given (`managed-by` is never among them).
    pub labels: Vec<(String, String)>,
    pub kamal: KamalArgs,
    pub json: bool,
    /// Which of type, image and location were given on the command line (a pick-up
    /// compares only those with the existing server).
    pub explicit: Explicit,
    pub firewall: FirewallChoice,
    /// `--user-data FILE`: the path as given (read and checked by the command).
    pub user_data: Option<PathBuf>,
    /// `--ssh-port`; `None`: Kamal's `ssh.port`, else 22.
    pub ssh_port: Option<u16>,
    /// `--ssh-timeout` in seconds; 0 skips the SSH wait.
    pub ssh_timeout: u64,
    /// `--append` / `--replace`; `None`: chosen by the rules of SPEC §6.
    pub mode: Option<crate::kamal::Mode>,
    /// `--dns`: set the proxy hosts' records in Hetzner DNS.
    pub dns: bool,
    /// `--role ROLE`: the server joins this Kamal role (not the primary one; SPEC §6).
    pub role: Option<String>,
    /// `--dry-run`: check everything, create nothing, print the plan (SPEC §4).
    pub dry_run: bool,
    /// `-y/--yes`: consent to moving live DNS records (SPEC §10); nothing else.
    pub yes: bool,
}

/// Which of the server's settings the command line named explicitly.
#[derive(Debug, Default, PartialEq, Clone, Copy)]
pub struct Explicit {
    pub server_type: bool,
    pub image: bool,
    pub location: bool,
}

/// The firewall to attach at creation.
#[derive(Debug, PartialEq, Clone)]
pub enum FirewallChoice {
    /// `pegasus-kamal` (or `pegasus-kamal-<port>`), made when missing.
    Default,
    /// `--firewall NAME`: must exist.
    Named(String),
    /// `--no-firewall`.
    None,
}

/// Default for `--ssh-timeout`, in seconds.
pub const DEFAULT_SSH_TIMEOUT: u64 = 600;
/// The longest `--ssh-timeout`, in seconds (a day): beyond it a wait is a mistake, and
/// the deadline stays far from what a clock can hold.
pub const MAX_SSH_TIMEOUT: u64 = 86_400;

/// `server list`: the hcloud CLI's `-o` and `-l` options.
#[derive(Debug, Default, PartialEq)]
pub struct ListArgs {
    /// `--json` or `-o json`.
    pub json: bool,
    /// `-o noheader`.
    pub noheader: bool,
    /// `-o columns=...`; `None`: the default columns.
    pub columns: Option<Vec<Column>>,
    /// `-l/--selector`: a Hetzner label selector, passed on as `label_selector`.
    pub selector: Option<String>,
}

/// A column of the `server list` table (`-o columns=`).
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Column {
    Id,
    Name,
    Status,
    Type,
    Location,
    Ipv4,
    Ipv6,
    Age,
    Created,
    Labels,
}

impl Column {
    /// The table without `-o columns=`.
    pub const DEFAULT: [Column; 7] = [
        Column::Name,
        Column::Status,
        Column::Type,
        Column::Location,
        Column::Ipv4,
        Column::Ipv6,
        Column::Age,
    ];

    pub fn from_name(name: &str) -> Option<Column> {
        Some(match name {
            "id" => Column::Id,
            "name" => Column::Name,
            "status" => Column::Status,
            "type" => Column::Type,
            "location" => Column::Location,
            "ipv4" => Column::Ipv4,
            "ipv6" => Column::Ipv6,
            "age" => Column::Age,
            "created" => Column::Created,
            "labels" => Column::Labels,
            _ => return None,
        })
    }
}

/// `server ip NAME [-6]`.
#[derive(Debug, PartialEq)]
pub struct IpArgs {
    pub name: String,
    pub ipv6: bool,
}

/// The shells `pegasus completions` writes scripts for.
#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

#[derive(Debug, PartialEq, Clone)]
pub struct DestroyArgs {
    /// In the order given, each once.
    pub names: Vec<String>,
    pub yes: bool,
    pub json: bool,
    pub kamal: KamalArgs,
    /// `--dns`: remove the servers' addresses from the proxy names' record sets.
    pub dns: bool,
}

pub use crate::defaults::DEFAULT_SERVER_TYPE;
pub const DEFAULT_IMAGE: &str = "ubuntu-24.04";
pub const DEFAULT_LOCATION: &str = "nbg1";
/// The label every server pegasus makes carries; its key is reserved.
pub const MANAGED_BY: (&str, &str) = ("managed-by", "pegasus");

/// Parse the process arguments.
pub fn parse_env() -> Result<Command> {
    parse(std::env::args_os().skip(1))
}

/// Parse arguments (without the program name).
pub fn parse<I>(args: I) -> Result<Command>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut p = lexopt::Parser::from_args(args);
    match next(&mut p, &table::TOP, table::TOP_ROWS)? {
        None => Err(Error::usage("no command given", table::TOP.help_hint())),
        Some(Arg::Opt(row)) => match row.key {
            TopKey::Help => Ok(Command::Help(USAGE)),
            TopKey::Version => Ok(Command::Version),
        },
        Some(Arg::Word(w)) => run_group(&mut p, &table::TOP, &w),
    }
}

/// A command word below `group` (the program itself or `server`).
fn run_group(p: &mut lexopt::Parser, group: &'static Cmd, word: &str) -> Result<Command> {
    if word == "help" {
        return help_for(p, group);
    }
    let Some(cmd) = group.child(word) else {
        return Err(unknown_command(group, word));
    };
    match cmd.rows {
        Rows::HelpOnly(rows) if cmd.group => match next(p, cmd, rows)? {
            None => Err(Error::usage(
                format!("no {} command given", cmd.path.join(" ")),
                cmd.help_hint(),
            )),
            Some(Arg::Opt(row)) => match row.key {
                HelpKey::Help => Ok(Command::Help(cmd.help)),
            },
            Some(Arg::Word(w)) => run_group(p, cmd, &w),
        },
        Rows::HelpOnly(rows) => parse_completions(p, cmd, rows),
        Rows::Create(rows) => parse_create(p, cmd, rows),
        Rows::List(rows) => parse_list(p, cmd, rows),
        Rows::Ip(rows) => parse_ip(p, cmd, rows),
        Rows::Destroy(rows) => parse_destroy(p, cmd, rows),
        Rows::Top(_) | Rows::None => Err(Error::Failed(format!(
            "internal: command '{word}' has no parser"
        ))),
    }
}

/// `pegasus help [COMMAND...]` and `pegasus server help [COMMAND]`: the same texts as
/// `--help`.
fn help_for(p: &mut lexopt::Parser, group: &'static Cmd) -> Result<Command> {
    let mut cmd = group;
    while let Some(arg) = p.next().map_err(|e| usage_err(e, "pegasus help"))? {
        // Options are skipped: in `pegasus help server create --json` the help is what
        // was asked for.
        if let Value(v) = arg {
            let word = v.to_string_lossy().into_owned();
            if word == "help" && cmd.path.is_empty() {
                continue;
            }
            cmd = match cmd.child(&word) {
                Some(c) if cmd.group => c,
                _ => return Err(unknown_command(cmd, &word)),
            };
        }
    }
    Ok(Command::Help(cmd.help))
}

fn unknown_command(group: &'static Cmd, word: &str) -> Error {
    let what = match group.path {
        [] => "command".to_string(),
        path => format!("{} command", path.join(" ")),
    };
    let mut msg = format!("unknown {what} '{}'", escape(word));
    let mut names: Vec<&str> = group.children().flat_map(Cmd::names).collect();
    if group.group {
        names.push("help");
    }
    if let Some(near) = table::closest(word, names.iter().copied()) {
        msg.push_str(&format!("; did you mean '{near}'?"));
    } else if group.path.is_empty() {
        // `pegasus list`: the word of a server command one level too high.
        let server = table::SERVER.child(word).or_else(|| {
            let all: Vec<&str> = table::SERVER.children().flat_map(Cmd::names).collect();
            table::closest(word, all).and_then(|w| table::SERVER.child(w))
        });
        if let Some(c) = server {
            msg.push_str(&format!("; did you mean 'pegasus {}'?", c.path.join(" ")));
        }
    }
    Error::usage(msg, group.help_hint())
}

/// One argument as a command's table knows it.
enum Arg<K: 'static> {
    Opt(&'static Row<K>),
    Word(String),
}

/// The next argument of `cmd`: a row of its table or a positional word. An option not
/// in the table is a usage error, with a hint when it is a typo or an hcloud habit.
fn next<K>(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<K>],
) -> Result<Option<Arg<K>>> {
    let help = cmd.help_hint();
    let Some(arg) = p.next().map_err(|e| usage_err(e, help))? else {
        return Ok(None);
    };
    let found = match &arg {
        Short(c) => rows.iter().find(|r| r.short == Some(*c)),
        Long(l) => rows.iter().find(|r| r.long == *l),
        Value(_) => None,
    };
    let typed = match arg {
        Short(c) => Typed::Short(c),
        Long(l) => Typed::Long(l.to_string()),
        Value(v) => {
            let v = v.into_string().map_err(|v| {
                Error::usage(
                    format!("'{}' is not valid UTF-8", escape(&v.to_string_lossy())),
                    help,
                )
            })?;
            return Ok(Some(Arg::Word(v)));
        }
    };
    match found {
        Some(row) => Ok(Some(Arg::Opt(row))),
        None => Err(unknown_option(p, cmd, &typed)),
    }
}

/// An option the table does not know, as typed.
enum Typed {
    Short(char),
    Long(String),
}

/// The `hcloud` CLI's spellings (and other habits) that a command does not take, each
/// with what to use instead. A typo of one of them gets the same answer (`--tpye`).
fn habits(cmd: &Cmd) -> &'static [(&'static str, &'static str)] {
    match cmd.path {
        ["server", "create"] => &[
            ("type", "pegasus spells it --server-type (-t)"),
            (
                "name",
                "the name is the first argument: pegasus server create NAME",
            ),
            ("output", "for JSON output use --json"),
            ("user-data-from-file", "pegasus spells it --user-data FILE"),
            (
                "ssh-timeout-seconds",
                "pegasus spells it --ssh-timeout SECONDS",
            ),
        ],
        ["server", "destroy"] => &[("force", "to delete without asking use --yes (-y)")],
        _ => &[],
    }
}

/// "unknown option", with what to use instead when we can tell.
fn unknown_option(p: &mut lexopt::Parser, cmd: &'static Cmd, arg: &Typed) -> Error {
    let create = cmd.path == table::CREATE.path;
    let mut msg = match arg {
        Typed::Short(c) => format!("unknown option '-{}'", escape(&c.to_string())),
        Typed::Long(l) => format!("unknown option '--{}'", escape(l)),
    };
    let hint = match arg {
        Typed::Short('o') if create => {
            let v = p.value().ok().map(|v| v.to_string_lossy().into_owned());
            Some(match v.as_deref() {
                Some("json") | None => "for JSON output use --json".to_string(),
                Some(other) => format!(
                    "create has no -o {}; for JSON output use --json",
                    escape(other)
                ),
            })
        }
        Typed::Short('f') if cmd.path == table::DESTROY.path => {
            Some("to delete without asking use --yes (-y)".to_string())
        }
        Typed::Short(_) => None,
        Typed::Long(l) => {
            // The closest of the command's options and the habits; a tie goes to the
            // option (it comes first).
            let opts = cmd.opts();
            let names = opts
                .iter()
                .map(|o| o.long)
                .chain(habits(cmd).iter().map(|(h, _)| *h));
            match table::closest(l, names) {
                Some(near) => match habits(cmd).iter().find(|(h, _)| *h == near) {
                    Some((_, says)) => Some(says.to_string()),
                    None => {
                        msg.push_str(&format!("; did you mean '--{near}'?"));
                        None
                    }
                },
                None => None,
            }
        }
    };
    if let Some(h) = hint {
        msg.push_str(&format!(": {h}"));
    }
    Error::usage(msg, cmd.help_hint())
}

/// The first pair of options given together that exclude each other (SPEC §2).
fn check_excludes<K: PartialEq>(
    seen: &[&'static Row<K>],
    excludes: &[table::Excludes<K>],
    help: &'static str,
) -> Result<()> {
    for x in excludes {
        let given = |k: &K| seen.iter().find(|r| r.key == *k);
        if let (Some(a), Some(b)) = (given(&x.a), given(&x.b)) {
            let mut msg = format!("{} and {} exclude each other", a.shown(), b.shown());
            if let Some(why) = x.why {
                msg.push_str(&format!(": {why}"));
            }
            return Err(Error::usage(msg, help));
        }
    }
    Ok(())
}

fn parse_create(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<CreateKey>],
) -> Result<Command> {
    use CreateKey as K;
    let help = cmd.help_hint();
    let mut name = None;
    let mut server_type = None;
    let mut image = None;
    let mut location = None;
    let mut ssh_key = None;
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut kamal = KamalArgs::default();
    let mut json = false;
    let mut firewall = None;
    let mut no_firewall = false;
    let mut user_data = None;
    let mut ssh_port = None;
    let mut ssh_timeout = DEFAULT_SSH_TIMEOUT;
    let (mut append, mut replace, mut dns) = (false, false, false);
    let (mut role, mut dry_run, mut yes) = (None, false, false);
    let mut seen = Vec::new();
    while let Some(arg) = next(p, cmd, rows)? {
        let row = match arg {
            Arg::Word(w) => {
                set_name(&mut name, w, help)?;
                continue;
            }
            Arg::Opt(row) => row,
        };
        seen.push(row);
        let o = &row.opt;
        match row.key {
            K::Help => return Ok(Command::Help(cmd.help)),
            // Hetzner's names are lowercase: `CX23` is `cx23`.
            K::ServerType => server_type = Some(text(p, o, help)?.to_ascii_lowercase()),
            K::Image => image = Some(text(p, o, help)?.to_ascii_lowercase()),
            K::Location => location = Some(text(p, o, help)?.to_ascii_lowercase()),
            K::SshKey => ssh_key = Some(path(p, o, help)?),
            K::Label => {
                let (k, v) = parse_label(&text(p, o, help)?)?;
                labels.retain(|(old, _)| *old != k);
                labels.push((k, v));
            }
            K::Firewall => firewall = Some(text(p, o, help)?),
            K::NoFirewall => no_firewall = true,
            K::UserData => user_data = Some(path(p, o, help)?),
            K::SshPort => ssh_port = Some(parse_ssh_port(&text(p, o, help)?)?),
            K::SshTimeout => ssh_timeout = parse_ssh_timeout(&text(p, o, help)?)?,
            K::ConfigFile => kamal.config_file = Some(path(p, o, help)?),
            K::Destination => kamal.destination = Some(text(p, o, help)?),
            K::Append => append = true,
            K::Replace => replace = true,
            K::Role => role = Some(text(p, o, help)?),
            K::Dns => dns = true,
            K::Yes => yes = true,
            K::DryRun => dry_run = true,
            K::NoKamal => kamal.no_kamal = true,
            K::Json => json = true,
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", help))?;
    check_excludes(&seen, table::CREATE_EXCLUDES, help)?;
    check_destination(&kamal)?;
    validate_hostname(&name)?;
    let explicit = Explicit {
        server_type: server_type.is_some(),
        image: image.is_some(),
        location: location.is_some(),
    };
    Ok(Command::Create(Box::new(CreateArgs {
        name,
        server_type: server_type.unwrap_or_else(|| DEFAULT_SERVER_TYPE.into()),
        image: image.unwrap_or_else(|| DEFAULT_IMAGE.into()),
        location: location.unwrap_or_else(|| DEFAULT_LOCATION.into()),
        ssh_key,
        labels,
        kamal,
        json,
        explicit,
        firewall: match (firewall, no_firewall) {
            (Some(name), _) => FirewallChoice::Named(name),
            (None, true) => FirewallChoice::None,
            (None, false) => FirewallChoice::Default,
        },
        user_data,
        ssh_port,
        ssh_timeout,
        mode: match (append, replace) {
            (true, _) => Some(crate::kamal::Mode::Append),
            (_, true) => Some(crate::kamal::Mode::Replace),
            _ => None,
        },
        dns,
        role,
        dry_run,
        yes,
    })))
}

/// `--ssh-port`: 1–65535 (SPEC §4 step 1).
fn parse_ssh_port(v: &str) -> Result<u16> {
    match digits(v).and_then(|d| d.parse::<u16>().ok()) {
        Some(port) if port > 0 => Ok(port),
        _ => Err(Error::Invalid(format!(
            "invalid --ssh-port '{}': must be a number from 1 to 65535",
            escape(v)
        ))),
    }
}

/// `--ssh-timeout`: seconds, 0 (skip the wait) up to [`MAX_SSH_TIMEOUT`].
fn parse_ssh_timeout(v: &str) -> Result<u64> {
    let seconds = digits(v).ok_or_else(|| {
        Error::Invalid(format!(
            "invalid --ssh-timeout '{}': must be a number of seconds ≥ 0 (0 skips the wait)",
            escape(v)
        ))
    })?;
    match seconds.parse::<u64>() {
        Ok(s) if s <= MAX_SSH_TIMEOUT => Ok(s),
        _ => Err(Error::Invalid(format!(
            "invalid --ssh-timeout '{}': must be at most {MAX_SSH_TIMEOUT} seconds (a day)",
            escape(v)
        ))),
    }
}

/// `v` when it is ASCII digits only (no sign, no space).
fn digits(v: &str) -> Option<&str> {
    (!v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

fn parse_list(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<ListKey>],
) -> Result<Command> {
    let help = cmd.help_hint();
    let mut args = ListArgs::default();
    while let Some(arg) = next(p, cmd, rows)? {
        let row = match arg {
            Arg::Word(w) => {
                return Err(Error::usage(
                    format!("unexpected argument '{}'", escape(&w)),
                    help,
                ));
            }
            Arg::Opt(row) => row,
        };
        match row.key {
            ListKey::Help => return Ok(Command::Help(cmd.help)),
            ListKey::Json => args.json = true,
            ListKey::Selector => args.selector = Some(text(p, row, help)?),
            ListKey::Output => {
                let v = text(p, row, help)?;
                match v.split_once('=') {
                    Some(("columns", cols)) => args.columns = Some(parse_columns(cols, help)?),
                    _ if v == "noheader" => args.noheader = true,
                    _ if v == "json" => args.json = true,
                    _ if v == "yaml" => {
                        return Err(Error::usage(
                            "-o yaml is not supported; use -o json (or --json)",
                            help,
                        ));
                    }
                    _ => {
                        let mut msg = format!(
                            "unknown output format '{}': use noheader, columns=COLS or json",
                            escape(&v)
                        );
                        let words = ["noheader", "json", "columns"];
                        let head = v.split('=').next().unwrap_or("");
                        if let Some(near) = table::closest(head, words) {
                            msg.push_str(&format!("; did you mean '{near}'?"));
                        }
                        return Err(Error::usage(msg, help));
                    }
                }
            }
        }
    }
    if args.json && (args.noheader || args.columns.is_some()) {
        return Err(Error::usage(
            "-o json (or --json) cannot be combined with -o noheader or -o columns",
            help,
        ));
    }
    Ok(Command::List(args))
}

fn parse_columns(list: &str, help: &'static str) -> Result<Vec<Column>> {
    let mut out = Vec::new();
    for word in list.split(',') {
        let lower = word.trim().to_ascii_lowercase();
        let Some(col) = Column::from_name(&lower) else {
            let mut msg = format!(
                "unknown column '{}': use {}",
                escape(word),
                table::COLUMNS.join(", ")
            );
            if let Some(near) = table::closest(&lower, table::COLUMNS.iter().copied()) {
                msg.push_str(&format!("; did you mean '{near}'?"));
            }
            return Err(Error::usage(msg, help));
        };
        out.push(col);
    }
    Ok(out)
}

fn parse_ip(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<IpKey>],
) -> Result<Command> {
    let help = cmd.help_hint();
    let mut name = None;
    let mut ipv6 = false;
    while let Some(arg) = next(p, cmd, rows)? {
        match arg {
            Arg::Word(w) => set_name(&mut name, w, help)?,
            Arg::Opt(row) => match row.key {
                IpKey::Help => return Ok(Command::Help(cmd.help)),
                IpKey::Ipv6 => ipv6 = true,
            },
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", help))?;
    Ok(Command::Ip(IpArgs { name, ipv6 }))
}

fn parse_destroy(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<DestroyKey>],
) -> Result<Command> {
    use DestroyKey as K;
    let help = cmd.help_hint();
    let mut names: Vec<String> = Vec::new();
    let mut yes = false;
    let mut json = false;
    let mut kamal = KamalArgs::default();
    let mut dns = false;
    let mut seen = Vec::new();
    while let Some(arg) = next(p, cmd, rows)? {
        let row = match arg {
            Arg::Word(w) => {
                // The same name twice is one server.
                if !names.contains(&w) {
                    names.push(w);
                }
                continue;
            }
            Arg::Opt(row) => row,
        };
        seen.push(row);
        match row.key {
            K::Help => return Ok(Command::Help(cmd.help)),
            K::Yes => yes = true,
            K::Json => json = true,
            K::ConfigFile => kamal.config_file = Some(path(p, row, help)?),
            K::Destination => kamal.destination = Some(text(p, row, help)?),
            K::NoKamal => kamal.no_kamal = true,
            K::Dns => dns = true,
        }
    }
    if names.is_empty() {
        return Err(Error::usage("missing the server NAME", help));
    }
    check_excludes(&seen, table::DESTROY_EXCLUDES, help)?;
    check_destination(&kamal)?;
    Ok(Command::Destroy(DestroyArgs {
        names,
        yes,
        json,
        kamal,
        dns,
    }))
}

fn parse_completions(
    p: &mut lexopt::Parser,
    cmd: &'static Cmd,
    rows: &'static [Row<HelpKey>],
) -> Result<Command> {
    let help = cmd.help_hint();
    let mut shell = None;
    while let Some(arg) = next(p, cmd, rows)? {
        match arg {
            Arg::Opt(row) => match row.key {
                HelpKey::Help => return Ok(Command::Help(cmd.help)),
            },
            Arg::Word(w) => set_name(&mut shell, w, help)?,
        }
    }
    let shell = shell.ok_or_else(|| Error::usage("missing the shell: bash, zsh or fish", help))?;
    let shell = match shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => {
            let mut msg = format!("unknown shell '{}': use bash, zsh or fish", escape(other));
            if let Some(near) = table::closest(other, table::SHELLS.iter().copied()) {
                msg.push_str(&format!("; did you mean '{near}'?"));
            }
            return Err(Error::usage(msg, help));
        }
    };
    Ok(Command::Completions(shell))
}

fn set_name(slot: &mut Option<String>, v: String, help: &'static str) -> Result<()> {
    if let Some(first) = slot {
        return Err(Error::usage(
            format!(
                "unexpected argument '{}' (the NAME is already '{}')",
                escape(&v),
                escape(first)
            ),
            help,
        ));
    }
    *slot = Some(v);
    Ok(())
}

/// The value of an option, as given. It may not be empty or start with '-':
/// `--image --location x` means the value of `--image` is missing, not that it is
/// `--location`. A number's value may be a negative number, so that its range can be
/// told (`--ssh-timeout -1`).
fn raw_value(p: &mut lexopt::Parser, o: &Opt, help: &'static str) -> Result<OsString> {
    let missing = || Error::usage(format!("option '--{}' needs a value", o.long), help);
    let v = p.value().map_err(|_| missing())?;
    let bytes = v.as_encoded_bytes();
    let negative = o.numeric
        && bytes.len() > 1
        && bytes[0] == b'-'
        && bytes[1..].iter().all(u8::is_ascii_digit);
    match bytes.first() {
        None => Err(missing()),
        Some(b'-') if !negative => Err(missing()),
        Some(_) => Ok(v),
    }
}

/// A value that is text (UTF-8).
fn text(p: &mut lexopt::Parser, o: &Opt, help: &'static str) -> Result<String> {
    raw_value(p, o, help)?.into_string().map_err(|v| {
        Error::usage(
            format!(
                "the value of '--{}' is not valid UTF-8: '{}'",
                o.long,
                escape(&v.to_string_lossy())
            ),
            help,
        )
    })
}

/// A value that is a file's path: any bytes the system allows.
fn path(p: &mut lexopt::Parser, o: &Opt, help: &'static str) -> Result<PathBuf> {
    raw_value(p, o, help).map(PathBuf::from)
}

fn usage_err(e: lexopt::Error, help: &'static str) -> Error {
    let msg = match e {
        lexopt::Error::UnexpectedValue { option, .. } => {
            format!("option '{}' does not take a value", escape(&option))
        }
        lexopt::Error::MissingValue { option: Some(o) } => {
            format!("option '{}' needs a value", escape(&o))
        }
        lexopt::Error::UnexpectedOption(o) => format!("unknown option '{}'", escape(&o)),
        lexopt::Error::NonUnicodeValue(v) => {
            format!("'{}' is not valid UTF-8", escape(&v.to_string_lossy()))
        }
        other => escape(&other.to_string()).into_owned(),
    };
    Error::usage(msg, help)
}

/// `-d DEST` names `config/deploy.DEST.yml`: a plain file name part.
fn check_destination(k: &KamalArgs) -> Result<()> {
    if let Some(d) = &k.destination {
        let ok = d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            && !d.starts_with('.');
        if !ok {
            return Err(Error::Invalid(format!(
                "invalid destination '{}': use letters, digits, '-', '_' or '.' (it names config/deploy.DEST.yml)",
                escape(d)
            )));
        }
    }
    Ok(())
}

/// A server name must be a valid hostname (RFC 1123, [`crate::text::hostname`]).
pub fn validate_hostname(name: &str) -> Result<()> {
    crate::text::hostname::check(name).map_err(|why| {
        Error::Invalid(format!(
            "invalid server name '{}': {why}",
            crate::text::escape(name)
        ))
    })
}

/// Parse a `KEY=VALUE` label with Kubernetes-style rules (what Hetzner enforces).
pub fn parse_label(s: &str) -> Result<(String, String)> {
    let Some((key, value)) = s.split_once('=') else {
        return Err(Error::Invalid(format!(
            "invalid label '{}': write it as KEY=VALUE, e.g. --label env=prod",
            escape(s)
        )));
    };
    let bad = |why: String| {
        Err(Error::Invalid(format!(
            "invalid label '{}': {}",
            escape(s),
            escape(&why)
        )))
    };
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        if prefix.is_empty() || prefix.len() > 253 || validate_hostname(prefix).is_err() {
            return bad(format!(
                "the key prefix '{prefix}' must be a DNS name of at most 253 characters"
            ));
        }
        if prefix == "hetzner.cloud" || prefix.ends_with(".hetzner.cloud") {
            return bad("the key prefix 'hetzner.cloud/' is reserved by Hetzner".into());
        }
    }
    if !label_part_ok(name, false) {
        return bad(format!(
            "the key '{name}' must be 1-63 characters, start and end with a letter or digit, \
             and use only letters, digits, '-', '_' and '.'"
        ));
    }
    if !label_part_ok(value, true) {
        return bad(format!(
            "the value '{value}' must be at most 63 characters, start and end with a letter \
             or digit, and use only letters, digits, '-', '_' and '.'"
        ));
    }
    if key == MANAGED_BY.0 {
        return bad(format!(
            "the key '{}' is reserved: pegasus always sets {}={}",
            MANAGED_BY.0, MANAGED_BY.0, MANAGED_BY.1
        ));
    }
    Ok((key.to_string(), value.to_string()))
}

fn label_part_ok(s: &str, empty_ok: bool) -> bool {
    if s.is_empty() {
        return empty_ok;
    }
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    s.len() <= 63
        && edge(s.chars().next())
        && edge(s.chars().last())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests;
