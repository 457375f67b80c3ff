//! Command-line parsing with lexopt into plain structs, and the hand-written help texts.
//!
//! Parsing only checks the shape of the command line and the rules that need nothing
//! but the arguments (server name, labels, destination). Everything else is checked
//! by the commands.

use std::ffi::OsString;
use std::path::PathBuf;

use lexopt::prelude::*;

use crate::error::{Error, Result};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub const USAGE: &str = "\
pegasus: provision a Hetzner Cloud server for Kamal and point config/deploy.yml at it

Usage:
  pegasus server create <NAME> [options]   provision a server
  pegasus server list [--json]             list the project's servers
  pegasus server destroy <NAME> [--yes]    delete a server
  pegasus --version | --help

Run 'pegasus server <command> --help' for the options of a command.
";

pub const SERVER_USAGE: &str = "\
Usage: pegasus server <command> [options]

Commands:
  create <NAME>    provision a server, then point the Kamal config at it
  list             list every server of the project
  destroy <NAME>   delete a server (asks you to type its name)

Run 'pegasus server <command> --help' for the options of a command.
";

pub const CREATE_USAGE: &str = "\
Usage: pegasus server create <NAME> [options]

Provision a Hetzner Cloud server named NAME with your SSH key, wait until it runs,
print its address and update the Kamal config (config/deploy.yml) to point at it.

Options:
  -t, --server-type TYPE    server type (default: cx23, 2 vCPU / 4 GB)
  -i, --image IMAGE         image name or id (default: ubuntu-24.04)
  -l, --location LOC        location (default: nbg1, Nuremberg)
  -k, --ssh-key PATH        public key file to use (default: the one in ~/.ssh,
                            or a choice when there are several)
      --label KEY=VALUE     extra server label, repeatable
                            (managed-by=pegasus is always added)
      --firewall NAME       Hetzner Cloud Firewall to attach (default: pegasus-kamal,
                            made when missing: SSH, 80, 443 and ICMP in)
      --no-firewall         attach no firewall
      --user-data FILE      cloud-init user data sent with the create (at most 32 KiB)
      --ssh-port PORT       the port SSH answers on (default: Kamal's ssh.port, else 22)
      --ssh-timeout SECONDS how long to wait for SSH to answer (default: 300; 0 skips)
  -c, --config-file PATH    Kamal config to update (default: config/deploy.yml)
  -d, --destination DEST    update config/deploy.DEST.yml instead
      --append              Kamal: add the server to the web role, change nothing else
      --replace             Kamal: put the server in place of the single web host
      --dns                 point the Kamal proxy host names at the server in Hetzner DNS
      --no-kamal            do not touch any Kamal config
      --json                print one JSON object on stdout and nothing else there
  -h, --help                show this help

Environment:
  HETZNER_API_TOKEN, HCLOUD_TOKEN   API token (else ~/.pegasus/hetzner_credentials,
                                    else you are asked for one)
  HCLOUD_ENDPOINT                   API base URL (default https://api.hetzner.cloud/v1)

Example:
  pegasus server create web1
  ssh \"root@$(pegasus server create web1 --json | jq -r .server.ipv4)\"
";

pub const LIST_USAGE: &str = "\
Usage: pegasus server list [--json]

List every server of the Hetzner project (all pages). Servers made by pegasus
(label managed-by=pegasus) are marked with '*'.

Options:
      --json      print a JSON array of server objects
  -h, --help      show this help
";

pub const DESTROY_USAGE: &str = "\
Usage: pegasus server destroy <NAME> [--yes] [--json]

Delete the server named NAME. Shows what will be deleted and asks you to type the
name to confirm; without a terminal, --yes is required.

Options:
  -y, --yes                 do not ask for confirmation
  -c, --config-file PATH    Kamal config to check for the server's IP
                            (default: config/deploy.yml; it is never edited)
  -d, --destination DEST    check config/deploy.DEST.yml instead
      --json                print one JSON object on stdout and nothing else there
  -h, --help                show this help
";

/// What the user asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Print this help text on stdout and exit 0.
    Help(&'static str),
    Version,
    Create(CreateArgs),
    List(ListArgs),
    Destroy(DestroyArgs),
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

#[derive(Debug, PartialEq)]
pub struct ListArgs {
    pub json: bool,
}

#[derive(Debug, PartialEq)]
pub struct DestroyArgs {
    pub name: String,
    pub yes: bool,
    pub json: bool,
    pub kamal: KamalArgs,
}

pub const DEFAULT_SERVER_TYPE: &str = "cx23";
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
    const TOP: &str = "pegasus --help";
    match p.next().map_err(|e| usage_err(e, TOP))? {
        None => Err(Error::usage("no command given", TOP)),
        Some(Short('h') | Long("help")) => Ok(Command::Help(USAGE)),
        Some(Short('V') | Long("version")) => Ok(Command::Version),
        Some(Value(v)) if v == "help" => Ok(Command::Help(USAGE)),
        Some(Value(v)) if v == "server" => parse_server(&mut p),
        Some(Value(v)) => Err(Error::usage(
            format!("unknown command '{}'", v.to_string_lossy()),
            TOP,
        )),
        Some(other) => Err(Error::usage(unexpected(&other), TOP)),
    }
}

fn parse_server(p: &mut lexopt::Parser) -> Result<Command> {
    const HELP: &str = "pegasus server --help";
    match p.next().map_err(|e| usage_err(e, HELP))? {
        None => Err(Error::usage("no server command given", HELP)),
        Some(Short('h') | Long("help")) => Ok(Command::Help(SERVER_USAGE)),
        Some(Value(v)) if v == "create" => parse_create(p),
        Some(Value(v)) if v == "list" || v == "ls" => parse_list(p),
        Some(Value(v)) if v == "destroy" || v == "delete" => parse_destroy(p),
        Some(Value(v)) => Err(Error::usage(
            format!("unknown server command '{}'", v.to_string_lossy()),
            HELP,
        )),
        Some(other) => Err(Error::usage(unexpected(&other), HELP)),
    }
}

fn parse_create(p: &mut lexopt::Parser) -> Result<Command> {
    const HELP: &str = "pegasus server create --help";
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
    while let Some(arg) = p.next().map_err(|e| usage_err(e, HELP))? {
        let typed = option_name(&arg);
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(CREATE_USAGE)),
            Long("firewall") => firewall = Some(value(p, &typed, HELP)?),
            Long("no-firewall") => no_firewall = true,
            Long("user-data") => user_data = Some(PathBuf::from(value(p, &typed, HELP)?)),
            Long("ssh-port") => {
                let v = value(p, &typed, HELP)?;
                match v.parse::<u16>() {
                    Ok(port) if port > 0 => ssh_port = Some(port),
                    _ => {
                        return Err(Error::Invalid(format!(
                            "invalid SSH port '{v}': use a number from 1 to 65535"
                        )));
                    }
                }
            }
            Long("ssh-timeout") => {
                let v = value(p, &typed, HELP)?;
                ssh_timeout = v.parse::<u64>().map_err(|_| {
                    Error::Invalid(format!(
                        "invalid SSH timeout '{v}': use a whole number of seconds (0 skips the wait)"
                    ))
                })?;
            }
            Long("append") => append = true,
            Long("replace") => replace = true,
            Long("dns") => dns = true,
            Short('t') | Long("server-type") => server_type = Some(value(p, &typed, HELP)?),
            Short('i') | Long("image") => image = Some(value(p, &typed, HELP)?),
            Short('l') | Long("location") => location = Some(value(p, &typed, HELP)?),
            Short('k') | Long("ssh-key") => ssh_key = Some(PathBuf::from(value(p, &typed, HELP)?)),
            Long("label") => {
                let (k, v) = parse_label(&value(p, &typed, HELP)?)?;
                labels.retain(|(old, _)| *old != k);
                labels.push((k, v));
            }
            Short('c') | Long("config-file") => {
                kamal.config_file = Some(PathBuf::from(value(p, &typed, HELP)?))
            }
            Short('d') | Long("destination") => kamal.destination = Some(value(p, &typed, HELP)?),
            Long("no-kamal") => kamal.no_kamal = true,
            Long("json") => json = true,
            Value(v) => set_name(&mut name, v, HELP)?,
            _ => return Err(Error::usage(unexpected(&arg), HELP)),
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", HELP))?;
    validate_hostname(&name)?;
    check_kamal_args(&kamal, HELP)?;
    let exclusive = |a: bool, b: bool, what: &str| match a && b {
        true => Err(Error::usage(format!("{what} exclude each other"), HELP)),
        false => Ok(()),
    };
    exclusive(append, replace, "--append and --replace")?;
    exclusive(
        firewall.is_some(),
        no_firewall,
        "--firewall and --no-firewall",
    )?;
    exclusive(dns, kamal.no_kamal, "--dns and --no-kamal")?;
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
    const HELP: &str = "pegasus server list --help";
    let mut json = false;
    while let Some(arg) = p.next().map_err(|e| usage_err(e, HELP))? {
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(LIST_USAGE)),
            Long("json") => json = true,
            _ => return Err(Error::usage(unexpected(&arg), HELP)),
        }
    }
    Ok(Command::List(ListArgs { json }))
}

fn parse_destroy(p: &mut lexopt::Parser) -> Result<Command> {
    const HELP: &str = "pegasus server destroy --help";
    let mut name = None;
    let mut yes = false;
    let mut json = false;
    let mut kamal = KamalArgs::default();
    while let Some(arg) = p.next().map_err(|e| usage_err(e, HELP))? {
        let typed = option_name(&arg);
        match arg {
            Short('h') | Long("help") => return Ok(Command::Help(DESTROY_USAGE)),
            Short('y') | Long("yes") => yes = true,
            Long("json") => json = true,
            Short('c') | Long("config-file") => {
                kamal.config_file = Some(PathBuf::from(value(p, &typed, HELP)?))
            }
            Short('d') | Long("destination") => kamal.destination = Some(value(p, &typed, HELP)?),
            Value(v) => set_name(&mut name, v, HELP)?,
            _ => return Err(Error::usage(unexpected(&arg), HELP)),
        }
    }
    let name = name.ok_or_else(|| Error::usage("missing the server NAME", HELP))?;
    check_kamal_args(&kamal, HELP)?;
    Ok(Command::Destroy(DestroyArgs {
        name,
        yes,
        json,
        kamal,
    }))
}

fn set_name(slot: &mut Option<String>, v: OsString, help: &'static str) -> Result<()> {
    let v = v.into_string().map_err(|v| {
        Error::usage(
            format!("'{}' is not valid UTF-8", v.to_string_lossy()),
            help,
        )
    })?;
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
fn value(p: &mut lexopt::Parser, name: &str, help: &'static str) -> Result<String> {
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

fn option_name(arg: &lexopt::Arg) -> String {
    match arg {
        Short(c) => format!("-{c}"),
        Long(l) => format!("--{l}"),
        Value(v) => v.to_string_lossy().into_owned(),
    }
}

fn unexpected(arg: &lexopt::Arg) -> String {
    match arg {
        Value(v) => format!("unexpected argument '{}'", v.to_string_lossy()),
        _ => format!("unknown option '{}'", option_name(arg)),
    }
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
            parse(["server", "destroy", "web1", "--yes"]).unwrap(),
            Command::Destroy(DestroyArgs {
                name: "web1".into(),
                yes: true,
                json: false,
                kamal: KamalArgs::default(),
            })
        );
        assert_eq!(
            parse(["server", "list", "--json"]).unwrap(),
            Command::List(ListArgs { json: true })
        );
        assert!(parse(["server", "list", "extra"]).is_err());
    }
}
