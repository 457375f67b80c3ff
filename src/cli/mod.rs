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
pub mod table;

pub use help::{
    COMPLETIONS_USAGE, CREATE_USAGE, DESTROY_USAGE, IP_USAGE, LIST_USAGE, SERVER_USAGE, USAGE,
};
use table::{Cmd, Opt};

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

#[derive(Debug, PartialEq)]
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

#[derive(Debug, PartialEq)]
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
    match next(&mut p, &table::TOP)? {
        None => Err(Error::usage("no command given", table::TOP.help_hint())),
        Some(Arg::Opt(o)) if o.long == "help" => Ok(Command::Help(USAGE)),
        Some(Arg::Opt(o)) if o.long == "version" => Ok(Command::Version),
        Some(Arg::Opt(o)) => Err(not_handled(o)),
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
    match cmd.path {
        ["server"] => match next(p, cmd)? {
            None => Err(Error::usage("no server command given", cmd.help_hint())),
            Some(Arg::Opt(_)) => Ok(Command::Help(cmd.help)),
            Some(Arg::Word(w)) => run_group(p, cmd, &w),
        },
        ["server", "create"] => parse_create(p),
        ["server", "list"] => parse_list(p),
        ["server", "ip"] => parse_ip(p),
        ["server", "destroy"] => parse_destroy(p),
        ["completions"] => parse_completions(p),
        _ => Err(Error::Failed(format!(
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
    let mut msg = format!("unknown {what} '{word}'");
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

/// One argument as the table knows it.
enum Arg {
    Opt(&'static Opt),
    Word(String),
}

/// The next argument of `cmd`: an option of its table or a positional word. An option
/// not in the table is a usage error, with a hint when it is a typo or an hcloud habit.
fn next(p: &mut lexopt::Parser, cmd: &'static Cmd) -> Result<Option<Arg>> {
    let help = cmd.help_hint();
    let Some(arg) = p.next().map_err(|e| usage_err(e, help))? else {
        return Ok(None);
    };
    let typed = match arg {
        Short(c) => Typed::Short(c),
        Long(l) => Typed::Long(l.to_string()),
        Value(v) => {
            let v = v.into_string().map_err(|v| {
                Error::usage(
                    format!("'{}' is not valid UTF-8", v.to_string_lossy()),
                    help,
                )
            })?;
            return Ok(Some(Arg::Word(v)));
        }
    };
    let found = match &typed {
        Typed::Short(c) => cmd.short(*c),
        Typed::Long(l) => cmd.long(l),
    };
    match found {
        Some(o) => Ok(Some(Arg::Opt(o))),
        None => Err(unknown_option(p, cmd, &typed)),
    }
}

/// An option the table does not know, as typed.
enum Typed {
    Short(char),
    Long(String),
}

/// "unknown option", with what to use instead when we can tell.
fn unknown_option(p: &mut lexopt::Parser, cmd: &'static Cmd, arg: &Typed) -> Error {
    let (typed, long) = match arg {
        Typed::Short(c) => (format!("-{c}"), ""),
        Typed::Long(l) => (format!("--{l}"), l.as_str()),
    };
    let short = match arg {
        Typed::Short(c) => Some(*c),
        Typed::Long(_) => None,
    };
    let mut msg = format!("unknown option '{typed}'");
    let create = cmd.path == table::CREATE.path;
    let habit = match (long, short) {
        ("type", _) if create => Some("pegasus spells it --server-type (-t)".to_string()),
        ("name", _) if create => {
            Some("the name is the first argument: pegasus server create NAME".to_string())
        }
        ("output", _) | (_, Some('o')) if create => {
            let v = p.value().ok().map(|v| v.to_string_lossy().into_owned());
            Some(match v.as_deref() {
                Some("json") | None => "for JSON output use --json".to_string(),
                Some(other) => format!("create has no -o {other}; for JSON output use --json"),
            })
        }
        ("user-data-from-file", _) if create => {
            Some("pegasus spells it --user-data FILE".to_string())
        }
        ("force", _) | (_, Some('f')) if cmd.path == table::DESTROY.path => {
            Some("to delete without asking use --yes (-y)".to_string())
        }
        _ => None,
    };
    if let Some(h) = habit {
        msg.push_str(&format!(": {h}"));
    } else if !long.is_empty() {
        if let Some(near) = table::closest(long, cmd.opts.iter().map(|o| o.long)) {
            msg.push_str(&format!("; did you mean '--{near}'?"));
        }
    }
    Error::usage(msg, cmd.help_hint())
}

fn not_handled(o: &Opt) -> Error {
    Error::Failed(format!("internal: option '--{}' has no handler", o.long))
}

fn parse_create(p: &mut lexopt::Parser) -> Result<Command> {
    let cmd = &table::CREATE;
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
    while let Some(arg) = next(p, cmd)? {
        let o = match arg {
            Arg::Word(w) => {
                set_name(&mut name, w, help)?;
                continue;
            }
            Arg::Opt(o) => o,
        };
        match o.long {
            "help" => return Ok(Command::Help(cmd.help)),
            "firewall" => firewall = Some(value(p, o, help)?),
            "no-firewall" => no_firewall = true,
            "user-data" => user_data = Some(PathBuf::from(value(p, o, help)?)),
            "ssh-port" => {
                let v = value(p, o, help)?;
                match v.parse::<u16>() {
                    Ok(port) if port > 0 => ssh_port = Some(port),
                    _ => {
                        return Err(Error::Invalid(format!(
                            "invalid SSH port '{v}': use a number from 1 to 65535"
                        )));
                    }
                }
            }
            "ssh-timeout" => {
                let v = value(p, o, help)?;
                ssh_timeout = v.parse::<u64>().map_err(|_| {
                    Error::Invalid(format!(
                        "invalid SSH timeout '{v}': use a whole number of seconds (0 skips the wait)"
                    ))
                })?;
            }
            "append" => append = true,
            "replace" => replace = true,
            "dns" => dns = true,
            "role" => role = Some(value(p, o, help)?),
            "dry-run" => dry_run = true,
            "yes" => yes = true,
            // Hetzner's names are lowercase: `CX23` is `cx23`.
            "server-type" => server_type = Some(value(p, o, help)?.to_ascii_lowercase()),
            "image" => image = Some(value(p, o, help)?.to_ascii_lowercase()),
            "location" => location = Some(value(p, o, help)?.to_ascii_lowercase()),
            "ssh-key" => ssh_key = Some(PathBuf::from(value(p, o, help)?)),
            "label" => {
                let (k, v) = parse_label(&value(p, o, help)?)?;
                labels.retain(|(old, _)| *old != k);
                labels.push((k, v));
            }
            "config-file" => kamal.config_file = Some(PathBuf::from(value(p, o, help)?)),
            "destination" => kamal.destination = Some(value(p, o, help)?),
            "no-kamal" => kamal.no_kamal = true,
            "json" => json = true,
            _ => return Err(not_handled(o)),
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", help))?;
    validate_hostname(&name)?;
    check_kamal_args(&kamal, help)?;
    let exclusive = |a: bool, b: bool, what: &str| match a && b {
        true => Err(Error::usage(format!("{what} exclude each other"), help)),
        false => Ok(()),
    };
    exclusive(append, replace, "--append and --replace")?;
    exclusive(
        firewall.is_some(),
        no_firewall,
        "--firewall and --no-firewall",
    )?;
    exclusive(dns, kamal.no_kamal, "--dns and --no-kamal")?;
    exclusive(role.is_some(), append, "--role and --append")?;
    exclusive(role.is_some(), replace, "--role and --replace")?;
    exclusive(role.is_some(), dns, "--role and --dns")?;
    exclusive(role.is_some(), kamal.no_kamal, "--role and --no-kamal")?;
    exclusive(
        append || replace,
        kamal.no_kamal,
        "--append/--replace and --no-kamal",
    )?;
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

fn parse_list(p: &mut lexopt::Parser) -> Result<Command> {
    let cmd = &table::LIST;
    let help = cmd.help_hint();
    let mut args = ListArgs::default();
    while let Some(arg) = next(p, cmd)? {
        let o = match arg {
            Arg::Word(w) => return Err(Error::usage(format!("unexpected argument '{w}'"), help)),
            Arg::Opt(o) => o,
        };
        match o.long {
            "help" => return Ok(Command::Help(cmd.help)),
            "json" => args.json = true,
            "selector" => args.selector = Some(value(p, o, help)?),
            "output" => {
                let v = value(p, o, help)?;
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
                            "unknown output format '{v}': use noheader, columns=COLS or json"
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
            _ => return Err(not_handled(o)),
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
            let mut msg = format!("unknown column '{word}': use {}", table::COLUMNS.join(", "));
            if let Some(near) = table::closest(&lower, table::COLUMNS.iter().copied()) {
                msg.push_str(&format!("; did you mean '{near}'?"));
            }
            return Err(Error::usage(msg, help));
        };
        out.push(col);
    }
    Ok(out)
}

fn parse_ip(p: &mut lexopt::Parser) -> Result<Command> {
    let cmd = &table::IP;
    let help = cmd.help_hint();
    let mut name = None;
    let mut ipv6 = false;
    while let Some(arg) = next(p, cmd)? {
        let o = match arg {
            Arg::Word(w) => {
                set_name(&mut name, w, help)?;
                continue;
            }
            Arg::Opt(o) => o,
        };
        match o.long {
            "help" => return Ok(Command::Help(cmd.help)),
            "ipv6" => ipv6 = true,
            _ => return Err(not_handled(o)),
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", help))?;
    Ok(Command::Ip(IpArgs { name, ipv6 }))
}

fn parse_destroy(p: &mut lexopt::Parser) -> Result<Command> {
    let cmd = &table::DESTROY;
    let help = cmd.help_hint();
    let mut names: Vec<String> = Vec::new();
    let mut yes = false;
    let mut json = false;
    let mut kamal = KamalArgs::default();
    let mut dns = false;
    while let Some(arg) = next(p, cmd)? {
        let o = match arg {
            Arg::Word(w) => {
                // The same name twice is one server.
                if !names.contains(&w) {
                    names.push(w);
                }
                continue;
            }
            Arg::Opt(o) => o,
        };
        match o.long {
            "help" => return Ok(Command::Help(cmd.help)),
            "yes" => yes = true,
            "json" => json = true,
            "config-file" => kamal.config_file = Some(PathBuf::from(value(p, o, help)?)),
            "destination" => kamal.destination = Some(value(p, o, help)?),
            "no-kamal" => kamal.no_kamal = true,
            "dns" => dns = true,
            _ => return Err(not_handled(o)),
        }
    }
    if names.is_empty() {
        return Err(Error::usage("missing the server NAME", help));
    }
    check_kamal_args(&kamal, help)?;
    if dns && kamal.no_kamal {
        return Err(Error::usage(
            "--dns and --no-kamal exclude each other",
            help,
        ));
    }
    Ok(Command::Destroy(DestroyArgs {
        names,
        yes,
        json,
        kamal,
        dns,
    }))
}

fn parse_completions(p: &mut lexopt::Parser) -> Result<Command> {
    let cmd = &table::COMPLETIONS;
    let help = cmd.help_hint();
    let mut shell = None;
    while let Some(arg) = next(p, cmd)? {
        match arg {
            Arg::Opt(o) if o.long == "help" => return Ok(Command::Help(cmd.help)),
            Arg::Opt(o) => return Err(not_handled(o)),
            Arg::Word(w) => set_name(&mut shell, w, help)?,
        }
    }
    let shell = shell.ok_or_else(|| Error::usage("missing the shell: bash, zsh or fish", help))?;
    let shell = match shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        other => {
            let mut msg = format!("unknown shell '{other}': use bash, zsh or fish");
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
            format!("unexpected argument '{v}' (the NAME is already '{first}')"),
            help,
        ));
    }
    *slot = Some(v);
    Ok(())
}

/// The value of an option. A value may not start with '-': `--image --location x`
/// means the value of `--image` is missing, not that it is `--location`.
fn value(p: &mut lexopt::Parser, o: &Opt, help: &'static str) -> Result<String> {
    let name = format!("--{}", o.long);
    let missing = || Error::usage(format!("option '{name}' needs a value"), help);
    let v = p.value().map_err(|_| missing())?;
    let v = v.into_string().map_err(|v| {
        Error::usage(
            format!(
                "the value of '{name}' is not valid UTF-8: '{}'",
                v.to_string_lossy()
            ),
            help,
        )
    })?;
    if v.is_empty() || v.starts_with('-') {
        return Err(missing());
    }
    Ok(v)
}

fn usage_err(e: lexopt::Error, help: &'static str) -> Error {
    let msg = match e {
        lexopt::Error::UnexpectedValue { option, .. } => {
            format!("option '{option}' does not take a value")
        }
        lexopt::Error::MissingValue { option: Some(o) } => format!("option '{o}' needs a value"),
        lexopt::Error::UnexpectedOption(o) => format!("unknown option '{o}'"),
        lexopt::Error::NonUnicodeValue(v) => {
            format!("'{}' is not valid UTF-8", v.to_string_lossy())
        }
        other => other.to_string(),
    };
    Error::usage(msg, help)
}

fn check_kamal_args(k: &KamalArgs, help: &'static str) -> Result<()> {
    if k.no_kamal && (k.config_file.is_some() || k.destination.is_some()) {
        return Err(Error::usage(
            "--no-kamal cannot be combined with --config-file or --destination",
            help,
        ));
    }
    if let Some(d) = &k.destination {
        let ok = d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            && !d.starts_with('.');
        if !ok {
            return Err(Error::Invalid(format!(
                "invalid destination '{d}': use letters, digits, '-', '_' or '.' (it names config/deploy.DEST.yml)"
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
            "invalid label '{s}': write it as KEY=VALUE, e.g. --label env=prod"
        )));
    };
    let bad = |why: String| Err(Error::Invalid(format!("invalid label '{s}': {why}")));
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
