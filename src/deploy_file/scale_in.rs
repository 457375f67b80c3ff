//! Scale-in on disk (SPEC §5): before the confirmation, read the config and decide what it
//! will lose ([`preview`]: a file pegasus cannot edit, or cannot write, stops the destroy);
//! after the deletes, read it again and make it forget the deleted servers in one write
//! ([`forget`]); say what happened, per server for `--json` ([`Forgotten::for_server`]).
//! The text work is [`crate::kamal::remove`].

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::report::Status;
use super::{Located, access, read_text, with_destination};
use crate::cli::KamalArgs;
use crate::error::{Error, Result, io_reason};
use crate::fsutil::Replaced;
use crate::kamal::{self, DiffKind, DiffLine, Reference, Removal, Removed};
use crate::ui::escape;

/// What the config says about the servers: before the confirmation (all of them), or
/// after the deletes (the deleted ones), as written.
#[derive(Debug)]
pub struct Forgotten {
    /// The file (`None`: `--no-kamal`, or no config found).
    pub path: Option<PathBuf>,
    pub status: Status,
    /// By line, in the file before the edit.
    pub changes: Vec<Removed>,
    pub diff: Vec<DiffLine>,
    /// Values outside host positions that name an address (not edited), in the file as
    /// it is after the edit.
    pub refs: Vec<Reference>,
    /// With `-d`: lines of the base `deploy.yml` that name an address (not edited).
    pub base: Option<(PathBuf, Vec<(usize, String)>)>,
    /// `status` manual or error: what to do by hand.
    pub hint: Option<String>,
    pub error: Option<String>,
    /// `status` manual: the lines to edit by hand.
    pub to_edit: Vec<(usize, String)>,
}

impl Forgotten {
    fn new(path: Option<&Path>, status: Status) -> Forgotten {
        Forgotten {
            path: path.map(Path::to_path_buf),
            status,
            changes: Vec::new(),
            diff: Vec::new(),
            refs: Vec::new(),
            base: None,
            hint: None,
            error: None,
            to_edit: Vec::new(),
        }
    }

    fn shown(&self) -> String {
        self.path
            .as_deref()
            .map(|p| escape(&p.display().to_string()).into_owned())
            .unwrap_or_default()
    }

    /// Whether the config (after the edit) still names `address` anywhere pegasus can
    /// see: then its host keys stay in `known_hosts`. `--no-kamal` counts as "may name it".
    pub fn still_names(&self, address: IpAddr) -> bool {
        let in_refs = self.refs.iter().any(|r| kamal::mentions(&r.text, address));
        let in_base = self
            .base
            .as_ref()
            .is_some_and(|(_, lines)| lines.iter().any(|(_, text)| kamal::mentions(text, address)));
        let unedited = matches!(
            self.status,
            Status::Skipped | Status::Manual | Status::Error
        );
        unedited || in_refs || in_base
    }

    /// The `kamal` object of one server's `destroy --json` line: the changes of its
    /// addresses (SPEC §5).
    pub fn for_server(&self, addresses: &[IpAddr]) -> KamalOut {
        let changes: Vec<Removed> = self
            .changes
            .iter()
            .filter(|c| addresses.contains(&c.address))
            .cloned()
            .collect();
        let status = match self.status {
            Status::Updated if changes.is_empty() => Status::Unchanged,
            other => other,
        };
        let other_refs = self
            .refs
            .iter()
            .filter(|r| addresses.iter().any(|a| kamal::mentions(&r.text, *a)))
            .map(|r| RefOut {
                line: r.line,
                path: r.path.clone(),
                text: r.text.clone(),
            })
            .collect();
        let mut hint = self.hint.clone();
        if let Some((base, lines)) = &self.base {
            let named: Vec<String> = lines
                .iter()
                .filter(|(_, text)| addresses.iter().any(|a| kamal::mentions(text, *a)))
                .map(|(n, _)| n.to_string())
                .collect();
            if !named.is_empty() {
                hint = Some(format!(
                    "{} (not edited: -d edits only {}) still names this server on line(s) {}; edit it by hand",
                    base.display(),
                    self.path
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default(),
                    named.join(", ")
                ));
            }
        }
        KamalOut {
            path: self.path.as_deref().map(|p| p.display().to_string()),
            status,
            mode: (status == Status::Updated).then_some("remove"),
            replaced: None,
            changes,
            other_refs,
            hint,
            error: self.error.clone(),
        }
    }

    /// For a person: the diff (before the confirmation, `will`; after the write, done),
    /// the values that still name the servers, the lines to edit by hand. File text goes
    /// through [`escape`]; `paint` colours the diff.
    pub fn human_lines(
        &self,
        will: bool,
        who: &str,
        paint: &dyn Fn(&str, &str) -> String,
    ) -> Vec<String> {
        let shown = self.shown();
        let mut lines = Vec::new();
        match self.status {
            Status::Updated => {
                let n = self.changes.len();
                let entries = if n == 1 { "entry" } else { "entries" };
                lines.push(if will {
                    format!("{shown} will forget {who} ({n} host {entries}):")
                } else {
                    format!("Updated {shown}: it forgets {who} ({n} host {entries}):")
                });
                lines.extend(diff_lines(&shown, &self.diff, paint));
            }
            Status::Manual => {
                lines.push(format!(
                    "Kamal config not changed. {}",
                    escape(self.hint.as_deref().unwrap_or_default())
                ));
                for (line, text) in &self.to_edit {
                    lines.push(format!("  {shown}:{line}  {}", escape(text)));
                }
            }
            Status::Error => {
                lines.push(format!(
                    "Kamal config not changed: {}.",
                    escape(self.error.as_deref().unwrap_or_default())
                ));
                lines.extend(diff_lines(&shown, &self.diff, paint));
            }
            Status::Unchanged if will => {
                lines.push(format!(
                    "{shown} does not name {who} as a host; it will not change."
                ));
            }
            Status::Unchanged => {
                lines.push(format!(
                    "{shown} does not name {who} as a host; not changed."
                ));
            }
            Status::Skipped if will => lines.push(
                "--no-kamal: the Kamal config is neither read nor changed, and the host keys stay in ~/.ssh/known_hosts."
                    .to_string(),
            ),
            Status::NotFound | Status::Skipped => {}
        }
        if !self.refs.is_empty() {
            lines.push(format!(
                "{shown} {} holds these addresses outside the host lists (never edited; check them by hand):",
                if will { "also" } else { "still" }
            ));
            for r in &self.refs {
                lines.push(format!("  {shown}:{}  {}", r.line, escape(&r.text)));
            }
        }
        if let Some((base, named)) = &self.base {
            if !named.is_empty() {
                let base = escape(&base.display().to_string()).into_owned();
                lines.push(format!(
                    "{base} names {who} too (not edited: with -d pegasus edits {shown} only):"
                ));
                for (line, text) in named {
                    lines.push(format!("  {base}:{line}  {}", escape(text)));
                }
            }
        }
        lines
    }
}

impl Forgotten {
    /// `--json` mode: one line on stderr when the file changed.
    pub fn stderr_lines(&self) -> Vec<String> {
        if self.status != Status::Updated {
            return Vec::new();
        }
        let n = self.changes.len();
        vec![format!(
            "Updated {}: {n} host entr{} of the deleted servers removed or set to {}",
            self.shown(),
            if n == 1 { "y" } else { "ies" },
            kamal::PLACEHOLDER
        )]
    }

    /// When the config still names a deleted server because it could not be edited: the
    /// error that makes the run fail (exit 1).
    pub fn failure(&self) -> Option<Error> {
        let what = match self.status {
            Status::Manual => self.hint.as_deref(),
            Status::Error => self.error.as_deref(),
            _ => return None,
        };
        Some(Error::Failed(format!(
            "the Kamal config {} still names a deleted server: {}",
            self.shown(),
            escape(what.unwrap_or_default())
        )))
    }
}

/// The diff of SPEC §5, one line each: `config/deploy.yml:41  -     - 203.0.113.11   (line
/// removed)`, or a value pair `- 203.0.113.10` / `+ <IP-ADDRESS>`.
pub fn diff_lines(
    shown: &str,
    diff: &[DiffLine],
    paint: &dyn Fn(&str, &str) -> String,
) -> Vec<String> {
    diff.iter()
        .map(|d| {
            let text = escape(&d.text);
            let at = format!("  {shown}:{}", d.line);
            match d.kind {
                DiffKind::Old => paint(&format!("{at}  - {text}"), "31"),
                DiffKind::New => paint(&format!("{at}  + {text}"), "32"),
                DiffKind::LineRemoved => paint(&format!("{at}  - {text}   (line removed)"), "31"),
                DiffKind::ItemRemoved => {
                    paint(&format!("{at}  - {text}   (removed from the list)"), "31")
                }
            }
        })
        .collect()
}

/// The `kamal` object of `destroy --json` (keys in the order of `create`).
#[derive(Debug, Serialize)]
pub struct KamalOut {
    pub path: Option<String>,
    pub status: Status,
    /// `remove` when this server's hosts were edited, else null.
    pub mode: Option<&'static str>,
    /// Always null for a destroy (nothing is replaced by a server).
    pub replaced: Option<String>,
    pub changes: Vec<Removed>,
    pub other_refs: Vec<RefOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RefOut {
    pub line: usize,
    pub path: String,
    pub text: String,
}

/// Before the confirmation, nothing deleted yet: what the config will lose when every
/// server of the run is gone. A config pegasus cannot read, edit or write stops the
/// destroy (exit 1), naming the lines to edit by hand and `--no-kamal`.
///
/// # Errors
/// [`Error::Failed`] for a file that cannot be read, edited or written.
pub fn preview(
    located: &Located,
    args: &KamalArgs,
    addresses: &[IpAddr],
    what: &str,
) -> Result<Forgotten> {
    let path = match located {
        Located::Skipped => return Ok(Forgotten::new(None, Status::Skipped)),
        Located::NotFound => return Ok(Forgotten::new(None, Status::NotFound)),
        Located::Found(path) => path.as_path(),
    };
    let shown = escape(&path.display().to_string()).into_owned();
    let stop = |why: String| {
        Error::Failed(format!(
            "{why}. Nothing was deleted: edit the file so it no longer names {what}, or pass --no-kamal to leave it alone (the host keys of {what} then stay in known_hosts)"
        ))
    };
    let text = read_text(path).map_err(|e| stop(escape(&e).into_owned()))?;
    let mut out = Forgotten::new(Some(path), Status::Unchanged);
    match kamal::remove(&text, addresses) {
        Removal::Updated {
            changes,
            diff,
            refs_before,
            ..
        } => {
            access::check(path).map_err(|blocked| {
                let why = match blocked {
                    access::Blocked::File => format!(
                        "the file is read-only (make it writable with `chmod u+w {shown}`)"
                    ),
                    access::Blocked::Folder(dir) => format!(
                        "its folder {} is not writable (pegasus replaces the file through a temp file beside it)",
                        escape(&dir.display().to_string())
                    ),
                };
                stop(format!("cannot update the Kamal config {shown}: {why}"))
            })?;
            out.status = Status::Updated;
            out.changes = changes;
            out.diff = diff;
            out.refs = refs_before;
        }
        Removal::NotNamed { refs } => out.refs = refs,
        Removal::Blocked { reason, lines } => {
            let mut why = format!(
                "{shown} {}, so pegasus cannot make it forget {what}",
                escape(&reason)
            );
            for (line, text) in &lines {
                why.push_str(&format!("\n  {shown}:{line}  {}", escape(text)));
            }
            return Err(stop(why));
        }
    }
    out.base = base_lines(path, args, addresses);
    Ok(out)
}

/// With `-d DEST`: the lines of the base `deploy.yml` beside the file that name one of
/// `addresses` at a host position or in a value.
fn base_lines(
    path: &Path,
    args: &KamalArgs,
    addresses: &[IpAddr],
) -> Option<(PathBuf, Vec<(usize, String)>)> {
    let destination = args.destination.as_deref()?;
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(&format!(".{destination}.yml"))?;
    let base = path.with_file_name(format!("{stem}.yml"));
    debug_assert_eq!(with_destination(&base, destination), path);
    let text = read_text(&base).ok()?;
    let mut lines: Vec<(usize, String)> = match kamal::remove(&text, addresses) {
        Removal::Updated {
            changes,
            refs_before,
            ..
        } => {
            let table: Vec<&str> = text.split('\n').collect();
            let mut lines: Vec<(usize, String)> = changes
                .iter()
                .map(|c| {
                    let line = table.get(c.line - 1).copied().unwrap_or("");
                    (c.line, line.trim().to_owned())
                })
                .collect();
            lines.extend(refs_before.into_iter().map(|r| (r.line, r.text)));
            lines
        }
        Removal::NotNamed { refs } => refs.into_iter().map(|r| (r.line, r.text)).collect(),
        Removal::Blocked { lines, .. } => lines,
    };
    lines.retain(|(_, text)| addresses.iter().any(|a| kamal::mentions(text, *a)));
    crate::sort::sort(&mut lines);
    lines.dedup();
    (!lines.is_empty()).then_some((base, lines))
}

/// After the deletes: make the config forget `addresses` (the deleted servers'), in one
/// write. The file is read again (it may have changed since the preview) and written only
/// if it still holds that text just before the rename; a file changed in between is edited
/// again, once (SPEC §8). Never fails: what went wrong is in the result.
pub fn forget(located: &Located, args: &KamalArgs, addresses: &[IpAddr]) -> Forgotten {
    let path = match located {
        Located::Skipped => return Forgotten::new(None, Status::Skipped),
        Located::NotFound => return Forgotten::new(None, Status::NotFound),
        Located::Found(path) => path.as_path(),
    };
    let mut out = Forgotten::new(Some(path), Status::Unchanged);
    out.base = base_lines(path, args, addresses);
    if addresses.is_empty() {
        return out;
    }
    let mut text = match read_text(path) {
        Ok(text) => text,
        Err(e) => return unreadable(out, e),
    };
    for attempt in 0..2 {
        let (new, changes, diff, refs_after) = match kamal::remove(&text, addresses) {
            Removal::NotNamed { refs } => {
                out.refs = refs;
                return out;
            }
            Removal::Blocked { reason, lines } => {
                out.status = Status::Manual;
                out.hint = Some(format!(
                    "{} {reason} (it changed during the delete); remove the deleted servers' addresses by hand",
                    path.display()
                ));
                out.to_edit = lines;
                return out;
            }
            Removal::Updated {
                text: new,
                changes,
                diff,
                refs_after,
                ..
            } => (new, changes, diff, refs_after),
        };
        let written =
            crate::fsutil::replace_if_unchanged(path, text.as_bytes(), new.as_bytes(), None);
        match written {
            Ok(Replaced::Done) => {
                out.status = Status::Updated;
                out.refs = refs_after;
            }
            Ok(Replaced::Changed(now)) if attempt == 0 => {
                match String::from_utf8(now) {
                    Ok(now) => text = now,
                    Err(_) => {
                        return unreadable(out, format!("{} is not UTF-8 text", path.display()));
                    }
                }
                continue;
            }
            Ok(Replaced::Changed(_)) => {
                out.status = Status::Manual;
                out.hint = Some(format!(
                    "{} kept changing while pegasus edited it, so it was left as it is; make the edits below by hand",
                    path.display()
                ));
                out.to_edit = changes.iter().map(|c| (c.line, c.old.clone())).collect();
            }
            Err(e) => {
                out.status = Status::Error;
                out.error = Some(format!(
                    "cannot write {}: {}; make the edits below by hand",
                    path.display(),
                    io_reason(&e)
                ));
            }
        }
        out.changes = changes;
        out.diff = diff;
        return out;
    }
    out
}

fn unreadable(mut out: Forgotten, error: String) -> Forgotten {
    out.status = Status::Error;
    out.error = Some(format!(
        "{error}; remove the deleted servers' addresses from it by hand"
    ));
    out
}
