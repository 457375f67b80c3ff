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
    Create(CreateArgs),
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
pub const DEFAULT_SSH_TIMEOUT: u64 = 300;

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
    Ok(Command::Create(CreateArgs {
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
    }))
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
            _ => return Err(not_handled(o)),
        }
    }
    if names.is_empty() {
        return Err(Error::usage("missing the server NAME", help));
    }
    check_kamal_args(&kamal, help)?;
    Ok(Command::Destroy(DestroyArgs {
        names,
        yes,
        json,
        kamal,
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

/// A server name must be a valid hostname (RFC 1123): dot-separated labels of 1-63
/// characters from a-z, A-Z, 0-9 and '-', not starting or ending with '-', 253 at most.
pub fn validate_hostname(name: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::Invalid(format!(
            "invalid server name '{name}': {why}"
        )))
    };
    if name.is_empty() {
        return bad("the name is empty");
    }
    if name.len() > 253 {
        return bad("a hostname has at most 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return bad("a hostname cannot start or end with '.' or contain '..'");
        }
        if label.len() > 63 {
            return bad("each dot-separated part has at most 63 characters");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && *c != '-')
        {
            return bad(&format!(
                "'{c}' is not allowed; use letters, digits, '-' and '.'"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a part cannot start or end with '-'");
        }
    }
    Ok(())
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
mod tests {
    use super::*;

    fn create(args: &[&str]) -> Result<CreateArgs> {
        let mut all = vec!["server", "create"];
        all.extend_from_slice(args);
        match parse(all)? {
            Command::Create(c) => Ok(c),
            other => panic!("expected create, got {other:?}"),
        }
    }

    fn usage_msg(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(e @ Error::Usage { .. }) => e.to_string(),
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = create(&["web1"]).unwrap();
        assert_eq!(c.name, "web1");
        assert_eq!(c.server_type, "cx23");
        assert_eq!(c.image, "ubuntu-24.04");
        assert_eq!(c.location, "nbg1");
        assert_eq!(c.ssh_key, None);
        assert!(c.labels.is_empty());
        assert!(!c.json);
        assert_eq!(c.kamal, KamalArgs::default());
    }

    #[test]
    fn options_before_and_after_the_name() {
        let c = create(&[
            "-t",
            "cpx22",
            "web1",
            "--image=debian-12",
            "-lhel1",
            "--json",
        ])
        .unwrap();
        assert_eq!(
            (c.server_type.as_str(), c.image.as_str()),
            ("cpx22", "debian-12")
        );
        assert_eq!(c.location, "hel1");
        assert!(c.json);
    }

    #[test]
    fn double_dash_ends_options() {
        let c = create(&["--json", "--", "web1"]).unwrap();
        assert_eq!(c.name, "web1");
        // After `--`, something that looks like an option is the name, and gets validated.
        assert!(matches!(create(&["--", "-web"]), Err(Error::Invalid(_))));
    }

    #[test]
    fn labels_repeat_and_later_wins() {
        let c = create(&[
            "web1", "--label", "env=prod", "--label", "team=a", "--label", "env=dev",
        ])
        .unwrap();
        assert_eq!(
            c.labels,
            vec![("team".into(), "a".into()), ("env".into(), "dev".into())]
        );
    }

    #[test]
    fn usage_errors() {
        assert!(usage_msg(create(&["web1", "--bogus"])).contains("unknown option '--bogus'"));
        assert!(usage_msg(create(&["web1", "--image"])).contains("option '--image' needs a value"));
        assert!(
            usage_msg(create(&["web1", "--image", "--location", "x"]))
                .contains("option '--image' needs a value")
        );
        assert!(usage_msg(create(&["web1", "web2"])).contains("unexpected argument 'web2'"));
        assert!(usage_msg(create(&[])).contains("missing the server NAME"));
        assert!(usage_msg(create(&["web1", "--json=yes"])).contains("does not take a value"));
        assert!(usage_msg(create(&["web1"]).and(parse(["bogus"]))).contains("unknown command"));
        assert!(usage_msg(parse(Vec::<&str>::new())).contains("no command given"));
        let msg = usage_msg(create(&["web1", "-x"]));
        assert!(
            msg.ends_with("Run 'pegasus server create --help' for usage."),
            "{msg}"
        );
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(["--help"]).unwrap(), Command::Help(USAGE));
        assert_eq!(parse(["-V"]).unwrap(), Command::Version);
        assert_eq!(
            parse(["server", "-h"]).unwrap(),
            Command::Help(SERVER_USAGE)
        );
        assert_eq!(
            parse(["server", "create", "--help"]).unwrap(),
            Command::Help(CREATE_USAGE)
        );
        assert_eq!(
            parse(["server", "list", "-h"]).unwrap(),
            Command::Help(LIST_USAGE)
        );
        assert_eq!(
            parse(["server", "destroy", "x", "--help"]).unwrap(),
            Command::Help(DESTROY_USAGE)
        );
    }

    #[test]
    fn hostnames() {
        for ok in ["web1", "a", "web-1.example.com", "A9", &"a".repeat(63)] {
            assert!(validate_hostname(ok).is_ok(), "{ok}");
        }
        let long_total = vec!["a".repeat(63); 4].join(".");
        for bad in [
            "",
            "bad_name",
            "-web",
            "web-",
            ".web",
            "web.",
            "a..b",
            "we b",
            "wéb",
            &"a".repeat(64),
            &long_total,
        ] {
            assert!(
                matches!(validate_hostname(bad), Err(Error::Invalid(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn label_rules() {
        assert_eq!(
            parse_label("env=prod").unwrap(),
            ("env".into(), "prod".into())
        );
        assert_eq!(parse_label("empty=").unwrap(), ("empty".into(), "".into()));
        assert!(parse_label("example.com/tier=web").is_ok());
        for bad in [
            "novalue",
            "=x",
            "-a=b",
            "a=-b",
            "a=b c",
            "managed-by=me",
            "hetzner.cloud/x=y",
            "/a=b",
        ] {
            assert!(matches!(parse_label(bad), Err(Error::Invalid(_))), "{bad}");
        }
        assert!(parse_label(&format!("k={}", "v".repeat(64))).is_err());
    }

    #[test]
    fn kamal_flags() {
        let c = create(&["web1", "-c", "deploy/config/deploy.yml", "-d", "staging"]).unwrap();
        assert_eq!(
            c.kamal.config_file,
            Some(PathBuf::from("deploy/config/deploy.yml"))
        );
        assert_eq!(c.kamal.destination.as_deref(), Some("staging"));
        assert!(create(&["web1", "--no-kamal", "-d", "x"]).is_err());
        assert!(matches!(
            create(&["web1", "-d", "../x"]),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn ready_for_kamal_flags() {
        let c = create(&["web1"]).unwrap();
        assert_eq!(c.firewall, FirewallChoice::Default);
        assert_eq!(c.ssh_timeout, DEFAULT_SSH_TIMEOUT);
        assert_eq!((c.ssh_port, c.mode, c.dns), (None, None, false));
        assert_eq!(c.explicit, Explicit::default());
        let c = create(&[
            "web1",
            "--firewall",
            "strict",
            "--ssh-port",
            "2222",
            "--ssh-timeout",
            "0",
            "--append",
            "--dns",
            "-l",
            "fsn1",
            "--user-data",
            "cloud.yml",
        ])
        .unwrap();
        assert_eq!(c.firewall, FirewallChoice::Named("strict".into()));
        assert_eq!((c.ssh_port, c.ssh_timeout), (Some(2222), 0));
        assert_eq!(c.mode, Some(crate::kamal::Mode::Append));
        assert!(c.dns && c.explicit.location && !c.explicit.image);
        assert_eq!(c.user_data, Some(PathBuf::from("cloud.yml")));
        assert_eq!(
            create(&["web1", "--no-firewall", "--replace"])
                .unwrap()
                .firewall,
            FirewallChoice::None
        );
        for bad in [
            &["web1", "--append", "--replace"][..],
            &["web1", "--firewall", "x", "--no-firewall"],
            &["web1", "--dns", "--no-kamal"],
            &["web1", "--append", "--no-kamal"],
            &["web1", "--no-kamal", "--replace"],
        ] {
            assert!(
                usage_msg(create(bad)).contains("exclude each other"),
                "{bad:?}"
            );
        }
        for bad in ["0", "65536", "x"] {
            assert!(matches!(
                create(&["web1", "--ssh-port", bad]),
                Err(Error::Invalid(_))
            ));
        }
        assert!(matches!(
            create(&["web1", "--ssh-timeout", "-1"]),
            Err(Error::Usage { .. })
        ));
    }

    #[test]
    fn destroy_and_list() {
        assert_eq!(
            parse(["server", "delete", "web1", "--yes", "web2", "web1"]).unwrap(),
            Command::Destroy(DestroyArgs {
                names: vec!["web1".into(), "web2".into()],
                yes: true,
                json: false,
                kamal: KamalArgs::default(),
            })
        );
        assert_eq!(
            parse(["server", "list", "--json"]).unwrap(),
            Command::List(ListArgs {
                json: true,
                ..ListArgs::default()
            })
        );
        assert_eq!(
            parse([
                "server",
                "ls",
                "-o",
                "noheader",
                "-o",
                "columns=name,IPv4,labels",
                "-l",
                "env=prod"
            ])
            .unwrap(),
            Command::List(ListArgs {
                json: false,
                noheader: true,
                columns: Some(vec![Column::Name, Column::Ipv4, Column::Labels]),
                selector: Some("env=prod".into()),
            })
        );
        assert_eq!(
            parse(["server", "list", "-o", "json"]).unwrap(),
            Command::List(ListArgs {
                json: true,
                ..ListArgs::default()
            })
        );
        assert!(parse(["server", "list", "extra"]).is_err());
        assert!(parse(["server", "list", "-o", "json", "-o", "noheader"]).is_err());
        assert!(usage_msg(parse(["server", "list", "-o", "yaml"])).contains("use -o json"));
        assert!(usage_msg(parse(["server", "destroy"])).contains("missing the server NAME"));
        assert_eq!(
            parse(["server", "ip", "-6", "web1"]).unwrap(),
            Command::Ip(IpArgs {
                name: "web1".into(),
                ipv6: true
            })
        );
        assert_eq!(
            parse(["completions", "zsh"]).unwrap(),
            Command::Completions(Shell::Zsh)
        );
    }

    #[test]
    fn help_everywhere_shows_the_same_text() {
        let same = [
            (vec!["help"], USAGE),
            (vec!["-h"], USAGE),
            (vec!["help", "help"], USAGE),
            (vec!["help", "server"], SERVER_USAGE),
            (vec!["server", "help"], SERVER_USAGE),
            (vec!["server", "--help"], SERVER_USAGE),
            (vec!["help", "server", "create"], CREATE_USAGE),
            (vec!["server", "help", "create"], CREATE_USAGE),
            (vec!["server", "create", "-h"], CREATE_USAGE),
            (vec!["help", "server", "ls"], LIST_USAGE),
            (vec!["server", "list", "--help"], LIST_USAGE),
            (vec!["help", "server", "ip"], IP_USAGE),
            (vec!["server", "ip", "--help"], IP_USAGE),
            (vec!["help", "server", "delete"], DESTROY_USAGE),
            (vec!["server", "destroy", "a", "b", "-h"], DESTROY_USAGE),
            (vec!["help", "completions"], COMPLETIONS_USAGE),
            (vec!["completions", "--help"], COMPLETIONS_USAGE),
        ];
        for (args, text) in same {
            assert_eq!(
                parse(args.clone()).unwrap(),
                Command::Help(text),
                "{args:?}"
            );
        }
        assert!(usage_msg(parse(["help", "sevrer"])).contains("did you mean 'server'?"));
        assert!(
            usage_msg(parse(["help", "server", "destory"])).contains("did you mean 'destroy'?")
        );
    }

    #[test]
    fn typos_and_hcloud_habits_get_a_hint() {
        let cases: [(&[&str], &str); 12] = [
            (
                &["sever", "list"],
                "unknown command 'sever'; did you mean 'server'?",
            ),
            (&["list"], "did you mean 'pegasus server list'?"),
            (&["destory", "x"], "did you mean 'pegasus server destroy'?"),
            (
                &["server", "lst"],
                "unknown server command 'lst'; did you mean 'list'?",
            ),
            (
                &["server", "destroy", "x", "--jsno"],
                "did you mean '--json'?",
            ),
            (
                &["server", "create", "x", "--server-typ", "a"],
                "did you mean '--server-type'?",
            ),
            (
                &["server", "create", "x", "--type", "cx23"],
                "--server-type (-t)",
            ),
            (
                &["server", "create", "--name", "x"],
                "the name is the first argument",
            ),
            (
                &["server", "create", "x", "-o", "json"],
                "for JSON output use --json",
            ),
            (
                &["server", "list", "-o", "nohead"],
                "did you mean 'noheader'?",
            ),
            (
                &["server", "list", "-o", "columns=nmae"],
                "did you mean 'name'?",
            ),
            (&["completions", "bsh"], "did you mean 'bash'?"),
        ];
        for (args, needle) in cases {
            let msg = usage_msg(parse(args.to_vec()));
            assert!(msg.contains(needle), "{args:?}: {msg}");
        }
        // Far from everything: no hint.
        let msg = usage_msg(parse(["server", "create", "x", "--zzzzzz"]));
        assert!(!msg.contains("did you mean"), "{msg}");
    }

    #[test]
    fn hetzner_names_are_lowercased() {
        let c = create(&["web1", "-t", "CX23", "-l", "FSN1", "-i", "Ubuntu-24.04"]).unwrap();
        assert_eq!(
            (
                c.server_type.as_str(),
                c.location.as_str(),
                c.image.as_str()
            ),
            ("cx23", "fsn1", "ubuntu-24.04")
        );
    }

    /// A value the parser accepts for an option of the table.
    fn sample(value: &str) -> &'static str {
        match value {
            "FORMAT" => "noheader",
            "PORT" => "22",
            "SECONDS" => "5",
            "KEY=VALUE" => "env=prod",
            _ => "x",
        }
    }

    /// Every option of the table is accepted by its command's parser, in both spellings
    /// (ripgrep tests its flag definitions the same way).
    #[test]
    fn the_parser_accepts_every_option_of_the_table() {
        for cmd in table::COMMANDS {
            if cmd.path == ["help"] {
                continue;
            }
            let positional: &[&str] = match cmd.path {
                ["server", "create" | "ip" | "destroy"] => &["web1"],
                ["completions"] => &["bash"],
                _ => &[],
            };
            for o in cmd.opts {
                let mut spellings = vec![format!("--{}", o.long)];
                spellings.extend(o.short.map(|c| format!("-{c}")));
                for spelled in spellings {
                    let mut args: Vec<String> = cmd.path.iter().map(|s| s.to_string()).collect();
                    args.extend(positional.iter().map(|s| s.to_string()));
                    args.push(spelled.clone());
                    if let Some(v) = o.value {
                        args.push(sample(v).into());
                    }
                    match parse(args.clone()) {
                        Ok(_) => {}
                        Err(e) => panic!("{args:?} was refused: {e}"),
                    }
                }
            }
            let mut args: Vec<String> = cmd.path.iter().map(|s| s.to_string()).collect();
            args.push("--not-an-option".into());
            assert!(matches!(parse(args), Err(Error::Usage { .. })));
        }
    }

    /// Every option of the table is in its command's help, in the form `-s, --long VALUE`
    /// (or `    --long VALUE`), and every `--word` a help text names is an option of that
    /// command.
    #[test]
    fn help_texts_match_the_table() {
        for cmd in table::COMMANDS {
            for o in cmd.opts {
                let head = match o.short {
                    Some(c) => format!("  -{c}, --{}", o.long),
                    None => format!("      --{}", o.long),
                };
                let line = match o.value {
                    Some(v) => format!("{head} {v}"),
                    None => head,
                };
                if cmd.group {
                    // The program's and `server`'s own options are in the usage lines.
                    assert!(
                        cmd.help.contains(&format!("--{}", o.long))
                            || cmd.help.contains(&format!("-{}", o.short.unwrap_or('?'))),
                        "{:?} help lacks --{}",
                        cmd.path,
                        o.long
                    );
                    continue;
                }
                assert!(
                    cmd.help.contains(&line),
                    "the help of {:?} lacks {line:?}",
                    cmd.path
                );
            }
            for word in long_words(cmd.help) {
                assert!(
                    cmd.long(&word).is_some()
                        || (cmd.help == USAGE
                            && table::COMMANDS.iter().any(|c| c.long(&word).is_some())),
                    "the help of {:?} names --{word}, which it does not accept",
                    cmd.path
                );
            }
        }
    }

    /// The top-level usage lists every command with every option.
    #[test]
    fn the_usage_lists_every_command_and_option() {
        for cmd in table::COMMANDS.iter().filter(|c| !c.group) {
            let start = format!("  pegasus {}", cmd.path.join(" "));
            let at = USAGE
                .find(&start)
                .unwrap_or_else(|| panic!("the usage lacks {start:?}"));
            let rest = &USAGE[at + start.len()..];
            let block = &rest[..rest.find("\n  pegasus ").unwrap_or(rest.len())];
            if let Some(alias) = cmd.alias {
                assert!(block.contains(&format!("alias: {alias}")), "{start}");
            }
            for o in cmd.opts.iter().filter(|o| o.long != "help") {
                let short = o.short.map(|c| format!("[-{c}"));
                assert!(
                    block.contains(&format!("--{}", o.long))
                        || short.is_some_and(|s| block.contains(&s)),
                    "the usage of {start:?} lacks --{}",
                    o.long
                );
            }
        }
        for o in table::TOP.opts {
            assert!(USAGE.contains(&format!("--{}", o.long)));
        }
    }

    /// `--word`s in a text (not `--` alone).
    fn long_words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(i) = rest.find("--") {
            let after = &rest[i + 2..];
            let word: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
            if !word.is_empty() && before_ok {
                out.push(word.clone());
            }
            rest = &after[word.len()..];
        }
        out
    }
}
