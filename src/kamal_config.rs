//! The Kamal config on disk: which file (`-c`, `-d`, the defaults), the early parse
//! before the server exists, the edit after, the atomic write, and the report the user
//! sees. The text editing itself is [`crate::kamal`], which does no I/O.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::KamalArgs;
use crate::error::{Error, Result, io_reason};
use crate::kamal::{self, Change, Edit};

pub const DOCS: &str = "https://docs.saaspegasus.com/deployment/kamal/";
const DEFAULT: &str = "config/deploy.yml";
/// SaaS Pegasus's Kamal 1 layout keeps the file here (kamal runs from `deploy/`).
const PEGASUS_KAMAL1: &str = "deploy/config/deploy.yml";

/// Which file, as the flags and the working folder say.
#[derive(Debug, PartialEq)]
pub enum Located {
    /// `--no-kamal`.
    Skipped,
    /// No flag, and neither default file exists.
    NotFound,
    Found(PathBuf),
}

/// Find the file. A file named by `-c`/`-d` that does not exist is a usage error
/// (exit 2), found before anything is created.
pub fn locate(args: &KamalArgs) -> Result<Located> {
    if args.no_kamal {
        return Ok(Located::Skipped);
    }
    let named = match (&args.config_file, &args.destination) {
        (Some(c), Some(d)) => Some(with_destination(c, d)),
        (None, Some(d)) => Some(with_destination(Path::new(DEFAULT), d)),
        (Some(c), None) => Some(c.clone()),
        (None, None) => None,
    };
    if let Some(path) = named {
        return match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(Located::Found(path)),
            Ok(_) => Err(Error::Invalid(format!(
                "Kamal config {} is not a file",
                path.display()
            ))),
            Err(e) => Err(Error::Invalid(format!(
                "Kamal config {}: {}",
                path.display(),
                io_reason(&e)
            ))),
        };
    }
    for candidate in [DEFAULT, PEGASUS_KAMAL1] {
        if Path::new(candidate).is_file() {
            return Ok(Located::Found(PathBuf::from(candidate)));
        }
    }
    Ok(Located::NotFound)
}

/// Kamal's rule: `deploy.yml` with destination `staging` is `deploy.staging.yml` beside it.
pub fn with_destination(base: &Path, dest: &str) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "deploy".into());
    base.with_file_name(format!("{stem}.{dest}.yml"))
}

/// Read the file now and parse it, so a broken file is reported before the server
/// exists. Returns a warning to show, if any.
pub fn precheck(path: &Path) -> Option<String> {
    let shown = path.display();
    match read_text(path) {
        Err(e) => Some(format!(
            "{e}; the server will be created, but the file will not be updated"
        )),
        Ok(text) => match kamal::check(&text) {
            Ok(()) => None,
            Err(e) => Some(format!(
                "{shown} does not parse ({e}); the server will be created, but the file will be left as it is"
            )),
        },
    }
}

fn read_text(path: &Path) -> std::result::Result<String, String> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {shown}: {}", io_reason(&e)))?;
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Updated,
    Unchanged,
    NotFound,
    Skipped,
    Manual,
    Error,
}

/// The `kamal` object of `create --json`, and what the human output shows.
#[derive(Debug, Serialize)]
pub struct Report {
    pub path: Option<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Report {
    fn new(path: Option<&Path>, status: Status) -> Report {
        Report {
            path: path.map(|p| p.display().to_string()),
            status,
            changes: Vec::new(),
            hint: None,
            error: None,
        }
    }
}

/// Point the config at `host` (step 10). Never fails: what went wrong is in the report.
pub fn apply(located: &Located, host: &str, destination_given: bool) -> Report {
    let path = match located {
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
    let shown = path.display().to_string();
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) => {
            let mut r = Report::new(Some(path), Status::Error);
            r.error = Some(e);
            return r;
        }
    };
    match kamal::edit(&text, host) {
        Ok(Edit::Updated { text: new, changes }) => {
            match crate::fsutil::write_atomic(path, new.as_bytes(), None) {
                Ok(()) => {
                    let mut r = Report::new(Some(path), Status::Updated);
                    r.changes = changes;
                    r
                }
                Err(e) => {
                    let mut r = Report::new(Some(path), Status::Error);
                    r.error = Some(format!("cannot write {shown}: {}", io_reason(&e)));
                    r
                }
            }
        }
        Ok(Edit::Unchanged) => Report::new(Some(path), Status::Unchanged),
        Ok(Edit::Manual { reason, line }) => {
            let mut r = Report::new(Some(path), Status::Manual);
            let at = line
                .map(|l| format!("{shown}:{l}"))
                .unwrap_or(shown.clone());
            let mut hint = format!("{at}: {reason}");
            if !destination_given {
                let dests = destination_files(path);
                if !dests.is_empty() {
                    hint.push_str(&format!(
                        " Destination files beside it: {} (pick one with -d DEST).",
                        dests.join(", ")
                    ));
                }
            }
            r.hint = Some(hint);
            r
        }
        Err(e) => {
            let mut r = Report::new(Some(path), Status::Manual);
            r.hint = Some(format!(
                "{shown} does not parse ({e}), so it was left untouched; set the web host to {host} by hand"
            ));
            r
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

/// The report as lines for a person (stdout), with a small diff for updates.
pub fn human_lines(r: &Report, host: &str, paint: &dyn Fn(&str, &str) -> String) -> Vec<String> {
    let shown = r.path.clone().unwrap_or_default();
    match r.status {
        Status::Skipped => Vec::new(),
        Status::NotFound | Status::Manual => {
            let hint = r.hint.clone().unwrap_or_default();
            let head = if r.status == Status::Manual {
                format!("Kamal config not changed. {hint}")
            } else {
                format!("Note: {hint}")
            };
            vec![head]
        }
        Status::Error => vec![format!(
            "Kamal config not changed: {}. Set the web host to {host} by hand.",
            r.error.clone().unwrap_or_default()
        )],
        Status::Unchanged => vec![format!(
            "{shown} already points at {host}; nothing to change."
        )],
        Status::Updated => {
            let n = r.changes.len();
            let mut lines = vec![format!(
                "Updated {shown} ({n} host{}):",
                if n == 1 { "" } else { "s" }
            )];
            for c in &r.changes {
                if let Some(old) = &c.old {
                    lines.push(paint(&format!("  {shown}:{}  - {old}", c.line), "31"));
                }
                lines.push(paint(&format!("  {shown}:{}  + {}", c.line, c.new), "32"));
            }
            lines
        }
    }
}

/// For `destroy`: the lines of the config that still name any of `hosts` (the file is
/// read and parsed once), by line.
pub fn references(located: &Located, hosts: &[String]) -> Option<(String, Vec<kamal::Reference>)> {
    let Located::Found(path) = located else {
        return None;
    };
    let text = read_text(path).ok()?;
    let mut refs = Vec::new();
    for host in hosts {
        refs.extend(kamal::references(&text, host).ok()?);
    }
    refs.sort_by_key(|r| r.line);
    refs.dedup();
    (!refs.is_empty()).then(|| (path.display().to_string(), refs))
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
