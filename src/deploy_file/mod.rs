//! The Kamal config on disk: which file (`-c`, `-d`, the search upward), the early
//! read before the server exists (parse, mode, writability), the edit after, the atomic
//! write, and the report the user sees. The text editing and the mode rules are
//! [`crate::kamal`], which does no I/O.

mod access;
mod find;
mod report;
mod scale_in;

use std::path::{Path, PathBuf};

use crate::cli::KamalArgs;
use crate::error::{Error, Result, io_reason};
use crate::kamal::{self, Config, Edit, Mode, ProjectServer, WebHosts};

pub use report::{Report, Status, human_lines, stderr_lines};
pub use scale_in::{Forgotten, KamalOut, diff_lines, forget, preview};

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
    /// The web role's hosts as first read (`None`: no file, unreadable, or no web list).
    pub web: Option<WebHosts>,
    /// Whether the early read parsed the file.
    pub parsed: bool,
    /// The text of that early read (`None`: no file, or it could not be read), so the
    /// other steps that need the config before the server exists (Kamal's `ssh.port`,
    /// the proxy host names) do not read it again.
    pub text: Option<String>,
    pub destination_given: bool,
    /// Where the file was found, when not in the current folder.
    pub notes: Vec<String>,
    /// A file that cannot be read or does not parse (the server is still created).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Whether choosing the mode needs the project's server list (SPEC §6): only with a
    /// file, no flag, and a single web host that is an address (or a file not yet read).
    pub fn needs_project(&self) -> bool {
        let found = matches!(self.located, Located::Found(_));
        match (&self.web, self.parsed) {
            (Some(web), true) => found && kamal::needs_project(Some(web), self.flag),
            (None, true) => false,
            (_, false) => found && kamal::needs_project(None, self.flag),
        }
    }
}

/// Step 3, before any API call: find the file, read and parse it, refuse `--replace` with
/// several web hosts (exit 2) and a file that would be edited but cannot be written
/// (exit 1).
pub fn plan(args: &KamalArgs, flag: Option<Mode>) -> Result<Plan> {
    let mut plan = Plan {
        located: locate(args)?,
        flag,
        web: None,
        parsed: false,
        text: None,
        destination_given: args.destination.is_some(),
        notes: Vec::new(),
        warnings: Vec::new(),
    };
    let Located::Found(path) = &plan.located else {
        return Ok(plan);
    };
    let shown = path.display();
    if path.starts_with("..") {
        plan.notes.push(format!(
            "Using the Kamal config {shown} (found in a parent folder)"
        ));
    }
    let text = match read_text(path) {
        Ok(text) => text,
        Err(e) => {
            plan.warnings.push(format!(
                "{e}; the server will be created, but the file will not be updated"
            ));
            return Ok(plan);
        }
    };
    let config = match Config::parse(plan.text.insert(text)) {
        Ok(config) => config,
        Err(e) => {
            plan.warnings.push(format!(
                "{shown} does not parse ({e}); the server will be created, but the file will be left as it is"
            ));
            return Ok(plan);
        }
    };
    plan.parsed = true;
    plan.web = config.web_hosts();
    let mut mode = flag;
    if let Some(web) = &plan.web {
        match kamal::decide(web, flag, &[]) {
            Ok(decision) => mode = Some(decision.mode),
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
    if matches!(config.edit(PROBE_HOST, mode), Edit::Updated { .. }) {
        access::check(path).map_err(|blocked| unwritable(path, blocked))?;
    }
    Ok(plan)
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

fn read_text(path: &Path) -> std::result::Result<String, String> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {shown}: {}", io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

/// Point the config at `host` (step 10), in the mode SPEC §6 picks with the project's
/// servers (`project`, listed in the preflight when [`Plan::needs_project`]). Never fails:
/// what went wrong is in the report.
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
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) => return Report::error(path, e, host),
    };
    let config = match Config::parse(&text) {
        Ok(config) => config,
        Err(e) => {
            let old: Vec<String> = plan
                .web
                .iter()
                .flat_map(|w| w.hosts.iter().flatten().cloned())
                .collect();
            return Report::unparsable(path, &e, host, kamal::host_lines(&text, &old));
        }
    };
    let web = config.web_hosts();
    let decision = web
        .as_ref()
        .and_then(|w| kamal::decide(w, plan.flag, project).ok());
    let mode = decision.as_ref().map(|d| d.mode).or(plan.flag);
    match config.edit(host, mode) {
        Edit::Updated {
            text: new,
            changes,
            summary,
        } => match crate::fsutil::write_atomic(path, new.as_bytes(), None) {
            Ok(()) => Report::updated(path, changes, summary, decision.map(|d| d.basis)),
            Err(e) => Report::unwritten(path, &e, changes, host),
        },
        Edit::Unchanged => Report::new(Some(path), Status::Unchanged),
        Edit::Manual { reason, line } => {
            let dests = if plan.destination_given {
                Vec::new()
            } else {
                destination_files(path)
            };
            Report::manual(path, &reason, line, &dests)
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
    names.sort();
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
