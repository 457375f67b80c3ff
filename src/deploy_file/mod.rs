//! The Kamal config on disk: which file (`-c`, `-d`, the search upward), the early
//! read before the server exists (parse, mode, writability), the edit after, the atomic
//! write, and the report the user sees. The text editing and the mode rules are
//! [`crate::kamal`], which does no I/O.

mod access;
mod find;
mod report;
mod scale_in;
mod update;

use std::path::{Path, PathBuf};

use crate::cli::KamalArgs;
use crate::error::{Error, Result, io_reason};
use crate::kamal::{
    self, Basis, Config, Edit, Layer, Mode, Placement, ProjectServer, RuleBreak, WebHosts,
};
use crate::text::escape;

pub use report::{OtherRef, Report, Status, human_lines, stderr_lines};
pub use scale_in::{Forgotten, KamalOut, diff_lines, forget, preview};
pub use update::Expected;

pub const DOCS: &str = "https://docs.saaspegasus.com/deployment/kamal/";
const DEFAULT: &str = "config/deploy.yml";
/// SaaS Pegasus's Kamal 1 layout keeps the file here (kamal runs from `deploy/`).
const PEGASUS_KAMAL1: &str = "deploy/config/deploy.yml";
/// A documentation address used to ask "would the file be edited?" before the server
/// (and so its address) exists.
const PROBE_HOST: &str = "203.0.113.254";
const CREATE_HELP: &str = "pegasus server create --help";

/// Which file, as the flags and the working folder say.
#[derive(Debug, PartialEq)]
pub enum Located {
    /// `--no-kamal`.
    Skipped,
    /// No flag, and no default file here or in a parent folder.
    NotFound,
    Found(PathBuf),
}

/// Find the file. A file named by `-c`/`-d` that does not exist is a usage error
/// (exit 2), found before anything is created. Without `-c`, `config/deploy.yml` (or
/// `deploy/config/deploy.yml`, with `-d` `config/deploy.DEST.yml`) is looked for here,
/// then in each parent folder up to and including the one that holds `.git`.
pub fn locate(args: &KamalArgs) -> Result<Located> {
    if args.no_kamal {
        return Ok(Located::Skipped);
    }
    if let Some(c) = &args.config_file {
        let path = match &args.destination {
            Some(d) => with_destination(c, d),
            None => c.clone(),
        };
        return named(path);
    }
    let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(d) = &args.destination {
        let wanted = with_destination(Path::new(DEFAULT), d);
        let wanted = wanted.to_string_lossy();
        return match find::upward(&start, &[&wanted])? {
            Some((path, _)) => Ok(Located::Found(path)),
            None => Err(Error::Invalid(format!(
                "Kamal config {wanted}: no such file (looked here and in the parent folders up to the one holding .git)"
            ))),
        };
    }
    Ok(match find::upward(&start, &[DEFAULT, PEGASUS_KAMAL1])? {
        Some((path, _)) => Located::Found(path),
        None => Located::NotFound,
    })
}

fn named(path: PathBuf) -> Result<Located> {
    match find::probe(&path) {
        find::Probe::File => Ok(Located::Found(path)),
        find::Probe::Dangling(target) => Err(Error::Invalid(find::dangling(&path, &target))),
        find::Probe::Missing => Err(Error::Invalid(format!(
            "Kamal config {}: no such file or directory",
            path.display()
        ))),
        find::Probe::Other(why) => Err(Error::Invalid(format!(
            "Kamal config {}: {why}",
            path.display()
        ))),
    }
}

/// Step 3's result: the file, what it said before the server existed, and what to show.
#[derive(Debug)]
pub struct Plan {
    pub located: Located,
    /// `--append` / `--replace`.
    pub flag: Option<Mode>,
    /// `--role ROLE`.
    pub role: Option<String>,
    /// The web role's hosts as first read (`None`: no file, unreadable, or no web list).
    pub web: Option<WebHosts>,
    /// Whether the early read parsed the file (with `-d`, both files).
    pub parsed: bool,
    /// The text of that early read (`None`: no file, or it could not be read), so the
    /// other steps that need the config before the server exists (Kamal's `ssh.port`,
    /// the proxy host names) do not read it again. With `-d`, the destination file's.
    pub text: Option<String>,
    /// With `-d`: `deploy.yml` beside the destination file, which Kamal reads under it.
    pub base: Option<PathBuf>,
    /// The base file's text (with `-d`).
    pub base_text: Option<String>,
    pub destination_given: bool,
    /// Where the file was found, when not in the current folder.
    pub notes: Vec<String>,
    /// A file that cannot be read or does not parse (the server is still created).
    pub warnings: Vec<String>,
    /// The edit as planned in the preflight ([`preflight`]); the edit after the server
    /// runs is made only when the file, read again, gives the same plan.
    pub expected: Option<Expected>,
}

impl Plan {
    /// Whether choosing the mode needs the project's server list (SPEC §6): only with a
    /// file, no flag, and a single web host that is an address (or a file not yet read).
    pub fn needs_project(&self) -> bool {
        let found = matches!(self.located, Located::Found(_));
        if self.role.is_some() {
            return false;
        }
        match (&self.web, self.parsed) {
            (Some(web), true) => found && kamal::needs_project(Some(web), self.flag),
            (None, true) => false,
            (_, false) => found && kamal::needs_project(None, self.flag),
        }
    }

    /// The early read's config, merged with the base file under `-d` (`None`: not read).
    pub fn config(&self) -> Option<Result<Config<'_>, (Layer, kamal::ParseError)>> {
        let text = self.text.as_deref()?;
        let base = match (&self.base, &self.base_text) {
            (Some(path), Some(base)) => Some((path.as_path(), base.as_str())),
            (Some(_), None) => return None,
            (None, _) => None,
        };
        Some(parse_config(base, text))
    }
}

/// One file, or a destination file over its base file.
fn parse_config<'t>(
    base: Option<(&Path, &'t str)>,
    text: &'t str,
) -> Result<Config<'t>, (Layer, kamal::ParseError)> {
    match base {
        Some((path, base)) => {
            let name = path.display().to_string();
            Config::parse_layered(&name, base, text)
        }
        None => Config::parse(text).map_err(|e| (Layer::Edited, e)),
    }
}

/// Step 3, before any API call: find the file (with `-d` also `deploy.yml` beside it, as
/// Kamal needs it: exit 2 when missing), read and parse it, refuse `--replace` with
/// several web hosts and `--role` naming the primary or an unknown role (exit 2), and a
/// file that would be edited but cannot be written (exit 1).
pub fn plan(args: &KamalArgs, flag: Option<Mode>, role: Option<&str>) -> Result<Plan> {
    let mut plan = Plan {
        located: locate(args)?,
        flag,
        role: role.map(str::to_owned),
        web: None,
        parsed: false,
        text: None,
        base: None,
        base_text: None,
        destination_given: args.destination.is_some(),
        notes: Vec::new(),
        warnings: Vec::new(),
        expected: None,
    };
    let path = match &plan.located {
        Located::Found(path) => path.clone(),
        Located::NotFound if role.is_some() => {
            return Err(Error::usage(
                format!(
                    "--role adds the server to a role of the Kamal config, but no Kamal config was found ({DEFAULT}); use -c FILE, or drop --role"
                ),
                CREATE_HELP,
            ));
        }
        _ => return Ok(plan),
    };
    let shown = path.display();
    if path.starts_with("..") {
        plan.notes.push(format!(
            "Using the Kamal config {shown} (found in a parent folder)"
        ));
    }
    if let Some(dest) = &args.destination {
        let base = base_file(&path, dest);
        match find::probe(&base) {
            find::Probe::File => {}
            _ => {
                return Err(Error::Invalid(format!(
                    "Kamal config {}: no such file; Kamal reads it under {shown} (-d {dest}), so it must exist",
                    base.display()
                )));
            }
        }
        let read = read_text(&base);
        plan.base = Some(base);
        match read {
            Ok(text) => plan.base_text = Some(text),
            Err(e) => {
                plan.warnings.push(format!(
                    "{e}; the server will be created, but the Kamal config will not be updated"
                ));
                return Ok(plan);
            }
        }
    }
    match read_text(&path) {
        Ok(text) => plan.text = Some(text),
        Err(e) => {
            plan.warnings.push(format!(
                "{e}; the server will be created, but the file will not be updated"
            ));
            return Ok(plan);
        }
    }
    let config = match plan.config() {
        Some(Ok(config)) => config,
        Some(Err((layer, e))) => {
            let which = match (layer, &plan.base) {
                (Layer::Base, Some(base)) => base.display().to_string(),
                _ => shown.to_string(),
            };
            plan.warnings.push(format!(
                "{which} does not parse ({e}); the server will be created, but the file will be left as it is"
            ));
            return Ok(plan);
        }
        None => return Ok(plan),
    };
    let web = config.web_hosts();
    if let Some(role) = role {
        check_role(&config, role, &plan.shown_files())?;
    }
    let mut placement = role.map(|r| Placement::Role(r.to_owned()));
    if let (Some(web), None) = (&web, &placement) {
        match kamal::decide(web, flag, &[]) {
            Ok(decision) => placement = Some(Placement::from_mode(decision.mode)),
            Err(several) => {
                return Err(Error::usage(
                    format!(
                        "--replace needs a single web host, but `{}` in {shown} has {}; use --append to add the server to them",
                        several.path, several.count
                    ),
                    CREATE_HELP,
                ));
            }
        }
    }
    let placement = placement.or_else(|| flag.map(Placement::from_mode));
    let probe = match &placement {
        Some(placement) => config.place(PROBE_HOST, placement),
        None => config.edit(PROBE_HOST, None),
    };
    if matches!(probe, Edit::Updated { .. }) {
        access::check(&path).map_err(|blocked| unwritable(&path, blocked))?;
    }
    drop(config);
    plan.web = web;
    plan.parsed = true;
    Ok(plan)
}

impl Plan {
    /// The files read, for messages: `config/deploy.yml`, or with `-d`
    /// `config/deploy.staging.yml (over config/deploy.yml)`.
    fn shown_files(&self) -> String {
        let Located::Found(path) = &self.located else {
            return DEFAULT.to_owned();
        };
        match &self.base {
            Some(base) => format!("{} (over {})", path.display(), base.display()),
            None => path.display().to_string(),
        }
    }

    /// The path of a file of the pair, for a person.
    fn file_of(&self, layer: Layer) -> String {
        match (layer, &self.base, &self.located) {
            (Layer::Base, Some(base), _) => base.display().to_string(),
            (_, _, Located::Found(path)) => path.display().to_string(),
            _ => DEFAULT.to_owned(),
        }
    }
}

/// `--role ROLE` must name a role of the config other than the primary one (exit 2).
fn check_role(config: &Config<'_>, role: &str, shown: &str) -> Result<()> {
    let roles = config.roles();
    let list = if roles.names.is_empty() {
        "none".to_owned()
    } else {
        roles.names.join(", ")
    };
    if role == roles.primary {
        return Err(Error::usage(
            format!(
                "--role {role}: {role} is the primary role of {shown}; use --append to add the server to it (its roles: {list})"
            ),
            CREATE_HELP,
        ));
    }
    if !roles.names.iter().any(|r| r == role) {
        return Err(Error::usage(
            format!("--role {role}: {shown} has no role {role} (its roles: {list})"),
            CREATE_HELP,
        ));
    }
    Ok(())
}

/// Where the new server goes, and why (the words after the diff), with the project's
/// servers deciding the mode when no flag does.
fn placement_for(
    config: &Config<'_>,
    plan: &Plan,
    project: &[ProjectServer],
) -> (Option<Placement>, Option<Basis>) {
    if let Some(role) = &plan.role {
        return (Some(Placement::Role(role.clone())), Some(Basis::Flag));
    }
    let decision = config
        .web_hosts()
        .and_then(|w| kamal::decide(&w, plan.flag, project).ok());
    match decision {
        Some(d) => (Some(Placement::from_mode(d.mode)), Some(d.basis)),
        None => (plan.flag.map(Placement::from_mode), None),
    }
}

fn place(config: &Config<'_>, host: &str, placement: Option<&Placement>) -> Edit {
    match placement {
        Some(placement) => config.place(host, placement),
        None => config.edit(host, None),
    }
}

/// Step 6, once the project's servers are known (they decide the mode) and before
/// anything is created or uploaded: the planned edit is checked against Kamal's own
/// host-dependent rules (exit 1 when Kamal would refuse the result), and kept, so the
/// edit after the server runs can be held against it. `existing`: the address of a
/// server this run picks up (the edit is planned with it; otherwise with a stand-in).
///
/// # Errors
/// [`Error::Failed`] with the ways on, when the plan breaks Kamal's one-host rule for
/// automatic HTTPS.
pub fn preflight(plan: &mut Plan, project: &[ProjectServer], existing: Option<&str>) -> Result<()> {
    if !matches!(plan.located, Located::Found(_)) {
        return Ok(());
    }
    let expected = match plan.config() {
        Some(Ok(config)) => {
            let (placement, _) = placement_for(&config, plan, project);
            let edit = place(&config, existing.unwrap_or(PROBE_HOST), placement.as_ref());
            if let Edit::Updated { summary, .. } = &edit {
                if let Err(broken) = config.check_rules(summary) {
                    return Err(Error::Failed(rule_message(plan, &broken)));
                }
            }
            Expected::of(&edit, &config.proxy_hosts().names)
        }
        _ => Expected::unread(),
    };
    plan.expected = Some(expected);
    Ok(())
}

/// The refusal of a plan that breaks Kamal's one-host rule for automatic HTTPS, with the
/// ways on.
fn rule_message(plan: &Plan, broken: &RuleBreak) -> String {
    let role = &broken.role;
    let at = format!(
        "{}:{}",
        plan.file_of(broken.setting.layer),
        broken.setting.line
    );
    let setting = escape(&broken.setting.text);
    let current = broken
        .current
        .iter()
        .map(|h| escape(h).into_owned())
        .collect::<Vec<_>>();
    let now = match current.as_slice() {
        [] => String::new(),
        [one] => format!(" (it has {one})"),
        many => format!(" (it has {})", many.join(", ")),
    };
    let why = if broken.erb {
        format!(
            "the role {role} runs kamal-proxy and ERB decides its HTTPS setting ({at}: `{setting}`), so pegasus cannot tell whether Kamal refuses a second host for it"
        )
    } else {
        format!(
            "the role {role} runs kamal-proxy with automatic HTTPS ({at}: `{setting}`) and no custom certificate, so Kamal refuses it with a second host (\"SSL is only supported on a single server unless you provide custom certificates\")"
        )
    };
    let mut ways = Vec::new();
    if broken.primary && current.len() == 1 {
        ways.push(format!(
            "--replace: the new server takes the place of {} (the data on it does not move)",
            current.first().map_or("", String::as_str)
        ));
    }
    match broken.others.as_slice() {
        [] => ways.push(
            "--role ROLE: add the server to another role of the config (a worker)".to_owned(),
        ),
        others => ways.push(format!(
            "--role {}: add the server as a worker (roles: {})",
            others.first().map_or("ROLE", String::as_str),
            others.join(", ")
        )),
    }
    ways.push(
        "a custom certificate (proxy ssl: certificate_pem and private_key_pem) or TLS at a load balancer (ssl: false), then run this again"
            .to_owned(),
    );
    format!(
        "Kamal's automatic HTTPS works on one server per role: {why}, and adding this server to {role}{now} would give it one. Nothing was created. Ways on:\n  {}",
        ways.join("\n  ")
    )
}

fn unwritable(path: &Path, blocked: access::Blocked) -> Error {
    let shown = path.display();
    let why = match blocked {
        access::Blocked::File => {
            format!("the file is read-only (make it writable with `chmod u+w {shown}`)")
        }
        access::Blocked::Folder(dir) => format!(
            "its folder {} is not writable (pegasus replaces the file through a temp file beside it)",
            dir.display()
        ),
    };
    Error::Failed(format!(
        "cannot update the Kamal config {shown}: {why}. Nothing was created; run again once it is writable, or pass --no-kamal to leave the file alone"
    ))
}

/// Kamal's rule: `deploy.yml` with destination `staging` is `deploy.staging.yml` beside it.
pub fn with_destination(base: &Path, dest: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "deploy".into());
    base.with_file_name(format!("{stem}.{dest}.yml"))
}

/// The other way: the base file Kamal reads under `deploy.staging.yml` (`deploy.yml`).
pub fn base_file(path: &Path, dest: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(&format!(".{dest}.yml"))
        .unwrap_or("deploy");
    path.with_file_name(format!("{stem}.yml"))
}

fn read_text(path: &Path) -> std::result::Result<String, String> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {shown}: {}", io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// Point the config at `host` (step 10), in the mode SPEC §6 picks with the project's
/// servers (`project`, listed in the preflight when [`Plan::needs_project`]). The file is
/// read again (the user may have edited it while the server was made) and edited only
/// when that text gives the plan the preflight checked; just before the rename it is
/// compared with what was read (SPEC §8): changed, it is read and edited once more,
/// changed again, it is left alone. Never fails: what went wrong is in the report.
pub fn apply(plan: &Plan, host: &str, project: &[ProjectServer]) -> Report {
    let path = match &plan.located {
        Located::Skipped => return Report::new(None, Status::Skipped),
        Located::NotFound => {
            let mut r = Report::new(None, Status::NotFound);
            r.hint = Some(format!(
                "no Kamal config found ({DEFAULT}); to deploy with Kamal see {DOCS} and use {host} as the host"
            ));
            return r;
        }
        Located::Found(p) => p.as_path(),
    };
    update::run(path, &mut |edited: &str| {
        edit_once(plan, path, edited, host, project)
    })
}

/// What [`apply`] would do, without writing (SPEC §4 "Dry run"): the edit of the text
/// step 3 read, made with a stand-in address, then shown with `<new address>` in its place
/// (or, for a picked-up server, its own address).
pub fn dry_run(plan: &Plan, project: &[ProjectServer], existing: Option<&str>) -> Report {
    let path = match &plan.located {
        Located::Found(p) => p.as_path(),
        _ => return apply(plan, NEW_ADDRESS, project),
    };
    let Some(text) = &plan.text else {
        return Report::error(path, "it could not be read".to_string(), NEW_ADDRESS);
    };
    let host = existing.unwrap_or(PROBE_HOST);
    let mut report = match edit_once(plan, path, text, host, project) {
        update::Step::Write { report, .. } | update::Step::Stop(report) => report,
    };
    if existing.is_none() {
        report.stand_in(PROBE_HOST, NEW_ADDRESS);
    }
    report
}

/// How a dry run names the address a real run would get.
pub const NEW_ADDRESS: &str = "<new address>";

/// One read of the file: what to write, or the report when nothing is written.
fn edit_once(
    plan: &Plan,
    path: &Path,
    edited: &str,
    host: &str,
    project: &[ProjectServer],
) -> update::Step {
    let base_text = match &plan.base {
        Some(base) => match read_text(base) {
            Ok(text) => Some(text),
            Err(e) => return update::Step::Stop(Report::error(path, e, host)),
        },
        None => None,
    };
    let config = match parse_config(plan.base.as_deref().zip(base_text.as_deref()), edited) {
        Ok(config) => config,
        Err((layer, e)) => {
            let old: Vec<String> = plan
                .web
                .iter()
                .flat_map(|w| w.hosts.iter().flatten().cloned())
                .collect();
            let (file, text) = match (layer, &plan.base, &base_text) {
                (Layer::Base, Some(base), Some(text)) => (base.as_path(), text.as_str()),
                _ => (path, edited),
            };
            let mut report = Report::unparsable(file, &e, host, kamal::host_lines(text, &old));
            report.path = Some(path.display().to_string());
            return update::Step::Stop(report);
        }
    };
    let (placement, basis) = placement_for(&config, plan, project);
    let edit = place(&config, host, placement.as_ref());
    let now = Expected::of(&edit, &config.proxy_hosts().names);
    if let Some(before) = &plan.expected {
        if let Some(what) = before.differs(&now) {
            return update::Step::Stop(Report::plan_changed(path, &what, host));
        }
    }
    let files = |layer: Layer| plan.file_of(layer);
    match edit {
        Edit::Updated {
            text,
            changes,
            summary,
            other_refs,
            hand_edits,
        } => {
            if let Err(broken) = config.check_rules(&summary) {
                let why = rule_message(plan, &broken);
                return update::Step::Stop(Report::plan_changed(path, &why, host));
            }
            let mut report = Report::updated(path, changes, *summary, basis, &other_refs, &files);
            report.leave_to_hand(
                &plan.file_of(Layer::Base),
                hand_edits
                    .into_iter()
                    .map(|s| (files(s.layer), s.line, s.text))
                    .collect(),
            );
            update::Step::Write { text, report }
        }
        Edit::Unchanged => update::Step::Stop(Report::new(Some(path), Status::Unchanged)),
        Edit::Manual {
            reason,
            line,
            spots,
        } => {
            let dests = if plan.destination_given {
                Vec::new()
            } else {
                destination_files(path)
            };
            let spots: Vec<(String, usize, String)> = spots
                .into_iter()
                .map(|s| (files(s.layer), s.line, s.text))
                .collect();
            update::Step::Stop(Report::manual(path, &reason, line, &dests, spots))
        }
    }
}

/// `deploy.*.yml` files beside `deploy.yml`, by name.
fn destination_files(path: &Path) -> Vec<String> {
    let (Some(dir), Some(stem)) = (path.parent(), path.file_stem()) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.", stem.to_string_lossy());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| {
                    n.starts_with(&prefix) && n.ends_with(".yml") && n.len() > prefix.len() + 4
                })
                .collect()
        })
        .unwrap_or_default();
    crate::sort::sort(&mut names);
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_paths_follow_kamal() {
        assert_eq!(
            with_destination(Path::new("config/deploy.yml"), "staging"),
            PathBuf::from("config/deploy.staging.yml")
        );
        assert_eq!(
            with_destination(Path::new("deploy/config/deploy.yml"), "eu"),
            PathBuf::from("deploy/config/deploy.eu.yml")
        );
    }

    #[test]
    fn missing_named_file_is_a_usage_error() {
        let args = KamalArgs {
            config_file: Some("/nonexistent/deploy.yml".into()),
            ..KamalArgs::default()
        };
        let e = locate(&args).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("no such file"), "{e}");
        let skip = KamalArgs {
            no_kamal: true,
            ..KamalArgs::default()
        };
        assert_eq!(locate(&skip).unwrap(), Located::Skipped);
    }
}
