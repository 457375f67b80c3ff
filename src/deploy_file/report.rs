//! The report of the Kamal step: the `kamal` object of `create --json`, the words around
//! the diff (what moved, what stayed), the lines to edit by hand, and the stderr line that
//! says the file changed in `--json` mode.

use std::path::Path;

use serde::Serialize;

use crate::error::io_reason;
use crate::kamal::{
    Basis, Change, KAMAL_SAMPLE, Layer, Mode, ParseError, Spot, Summary, is_placeholder,
};
use crate::text::Untrusted;
use crate::ui::escape;

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

/// The `kamal` object of `create --json` (keys in SPEC §4 order), and what the human
/// output shows.
#[derive(Debug, Serialize)]
pub struct Report {
    pub path: Option<String>,
    pub status: Status,
    /// `replace` or `append`; null when nothing was edited.
    pub mode: Option<Mode>,
    /// The host that was replaced (replace mode only).
    pub replaced: Option<String>,
    pub changes: Vec<Change>,
    /// Values outside host positions that still name a host the edit moved away from
    /// (SPEC §6), never edited.
    pub other_refs: Vec<OtherRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What moved or stayed, in words (human output; stderr in `--json` mode).
    #[serde(skip)]
    pub explanation: Option<String>,
    /// Host lines to edit by hand: (file, line, its text).
    #[serde(skip)]
    pub to_edit: Vec<(String, usize, String)>,
    /// Why no DNS record may be written after this step (the file, read again, no longer
    /// gives the plan the preflight checked, or it kept changing); `None`: DNS follows
    /// the mode as usual.
    #[serde(skip)]
    pub no_dns: Option<String>,
    /// A replace moved accessories that keep data on a real host: (the host, their names).
    /// Then the next step is not a bare `kamal setup` ([`Report::next_step`]).
    #[serde(skip)]
    pub data_stays: Option<(String, Vec<String>)>,
    #[serde(skip)]
    summary: Option<Summary>,
}

/// A value that still names a host the edit moved away from (`kamal.other_refs`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OtherRef {
    pub line: usize,
    pub path: String,
    /// The line as written (escaped when shown to a person).
    pub text: Untrusted,
    /// The file, when it is not `kamal.path` (the base file under `-d`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The host it still names.
    #[serde(skip)]
    pub names: String,
}

impl Report {
    pub(super) fn new(path: Option<&Path>, status: Status) -> Report {
        Report {
            path: path.map(|p| p.display().to_string()),
            status,
            mode: None,
            replaced: None,
            changes: Vec::new(),
            other_refs: Vec::new(),
            hint: None,
            error: None,
            explanation: None,
            to_edit: Vec::new(),
            no_dns: None,
            data_stays: None,
            summary: None,
        }
    }

    pub(super) fn updated(
        path: &Path,
        changes: Vec<Change>,
        summary: Summary,
        basis: Option<Basis>,
        other_refs: &[Spot],
        files: &dyn Fn(Layer) -> String,
    ) -> Report {
        let mut r = Report::new(Some(path), Status::Updated);
        let new = changes.first().map(|c| c.new.clone()).unwrap_or_default();
        r.mode = Some(summary.mode);
        r.replaced = summary.replaced.clone();
        r.explanation = basis.and_then(|b| explain(&b, &summary, &new));
        if let Some(old) = summary.replaced.as_deref() {
            if !is_placeholder(old) && !summary.data.is_empty() {
                r.data_stays = Some((old.to_owned(), summary.data.clone()));
            }
        }
        r.other_refs = other_refs
            .iter()
            .map(|spot| OtherRef {
                line: spot.line,
                path: spot.path.clone(),
                text: Untrusted::new(spot.text.clone()),
                file: (spot.layer == Layer::Base).then(|| files(Layer::Base)),
                names: summary
                    .moved
                    .iter()
                    .find(|m| spot.text.contains(m.as_str()))
                    .or(summary.moved.first())
                    .cloned()
                    .unwrap_or_default(),
            })
            .collect();
        r.changes = changes;
        r.summary = Some(summary);
        r
    }

    /// The file, read again after the server was made, gives another plan than the one
    /// checked before: nothing is written, and no DNS record either.
    pub(super) fn plan_changed(path: &Path, what: &str, host: &str) -> Report {
        let shown = path.display();
        let mut r = Report::new(Some(path), Status::Manual);
        r.hint = Some(format!(
            "{shown} changed while the server was being made, and the edit it needs now is not the one checked before anything was created ({what}); pegasus left it as it is and writes no DNS record. Run the same `pegasus server create` command again: it picks the server up and checks the file as it is now. Or point the file at {host} by hand"
        ));
        r.no_dns = Some(format!("{shown} changed while the server was being made"));
        r
    }

    /// The file changed twice while it was being written: left alone.
    pub(super) fn raced(path: &Path, ready: &Report) -> Report {
        let shown = path.display();
        let mut r = Report::new(Some(path), Status::Manual);
        let todo: Vec<String> = ready
            .changes
            .iter()
            .map(|c| match &c.old {
                Some(old) => format!("line {}: {old} → {}", c.line, c.new),
                None => format!("add {} to {}", c.new, c.path),
            })
            .collect();
        r.hint = Some(format!(
            "{shown} changed again while pegasus was writing it (another program is editing it), so pegasus left it as it is and writes no DNS record; once it is quiet, make the edit by hand: {}",
            todo.join("; ")
        ));
        r.no_dns = Some(format!("{shown} kept changing while pegasus wrote it"));
        r
    }

    /// With a destination: the host lines of the base file (`base`) that still hold the
    /// replaced host, for a hand edit (pegasus never edits the file every destination reads).
    pub(super) fn leave_to_hand(&mut self, base: &str, lines: Vec<(String, usize, String)>) {
        if lines.is_empty() {
            return;
        }
        let old = self.replaced.clone().unwrap_or_default();
        let new = self
            .changes
            .first()
            .map(|c| c.new.clone())
            .unwrap_or_default();
        let at: Vec<String> = lines.iter().map(|(f, l, _)| format!("{f}:{l}")).collect();
        self.hint = Some(format!(
            "{base} is read by every destination, so pegasus does not edit it: change {old} to {new} by hand on its host lines too ({})",
            at.join(", ")
        ));
        self.to_edit = lines;
    }

    /// Whether a DNS step may follow this Kamal step.
    /// A dry run's report: every `probe` (the stand-in address the edit was made with)
    /// becomes `shown`.
    pub fn stand_in(&mut self, probe: &str, shown: &str) {
        for c in &mut self.changes {
            if c.new == probe {
                c.new = shown.to_string();
            }
        }
        let swap = |t: &mut Option<String>| {
            if let Some(t) = t {
                *t = t.replace(probe, shown);
            }
        };
        swap(&mut self.hint);
        swap(&mut self.explanation);
    }

    pub fn dns_allowed(&self) -> bool {
        self.no_dns.is_none()
    }

    /// The next step to print after a create: `kamal setup`, or, when a replace moved
    /// accessories that keep data on their old host, what to do first.
    pub fn next_step(&self) -> String {
        let mut first = Vec::new();
        if self.status == Status::Updated && !self.to_edit.is_empty() {
            first.push("edit the host lines listed above".to_owned());
        }
        if let Some((old, names)) = &self.data_stays {
            let new = self
                .changes
                .first()
                .map(|c| c.new.as_str())
                .unwrap_or_default();
            let (which, them) = match names.as_slice() {
                [one] => (format!("the accessory {one}"), "it"),
                many => (format!("the accessories {}", and_list(many)), "them"),
            };
            first.push(format!(
                "the data of {which} stays on {old} (pegasus moves hosts, not data): copy it to {new} first, or `kamal setup` starts {them} empty there",
                old = escape(old)
            ));
        }
        if first.is_empty() {
            "Next: kamal setup".to_owned()
        } else {
            format!("Next: {}; then run kamal setup", first.join("; "))
        }
    }

    pub(super) fn error(path: &Path, error: String, host: &str) -> Report {
        let mut r = Report::new(Some(path), Status::Error);
        r.error = Some(format!("{error}; set the web host to {host} by hand"));
        r
    }

    /// The edit was ready but the write failed: every line still to change, by hand.
    pub(super) fn unwritten(
        path: &Path,
        e: &std::io::Error,
        changes: Vec<Change>,
        host: &str,
    ) -> Report {
        let shown = path.display();
        let mut r = Report::new(Some(path), Status::Error);
        let todo: Vec<String> = changes
            .iter()
            .map(|c| match &c.old {
                Some(old) => format!("line {}: {old} → {host}", c.line),
                None => format!("add {host} to {} (line {})", c.path, c.line),
            })
            .collect();
        r.error = Some(format!(
            "cannot write {shown}: {}; edit it by hand: {}",
            io_reason(e),
            todo.join("; ")
        ));
        r
    }

    pub(super) fn unparsable(
        path: &Path,
        e: &ParseError,
        host: &str,
        lines: Vec<(usize, String)>,
    ) -> Report {
        let file = path.display().to_string();
        let shown = path.display();
        let mut r = Report::new(Some(path), Status::Manual);
        let which = if lines.is_empty() {
            format!(
                "set the web host (and any role or accessory on the same host) to {host} by hand"
            )
        } else {
            let numbers: Vec<String> = lines.iter().map(|(n, _)| n.to_string()).collect();
            format!(
                "set the host on line{} {} to {host} by hand",
                if lines.len() == 1 { "" } else { "s" },
                numbers.join(", ")
            )
        };
        r.hint = Some(format!(
            "{shown} does not parse ({e}), so it was left untouched; {which}"
        ));
        r.to_edit = lines
            .into_iter()
            .map(|(line, text)| (file.clone(), line, text))
            .collect();
        r
    }

    pub(super) fn manual(
        path: &Path,
        reason: &str,
        line: Option<usize>,
        destinations: &[String],
        spots: Vec<(String, usize, String)>,
    ) -> Report {
        let shown = path.display().to_string();
        let mut r = Report::new(Some(path), Status::Manual);
        let at = line.map_or(shown.clone(), |l| format!("{shown}:{l}"));
        let mut hint = format!("{at}: {reason}");
        if !spots.is_empty() {
            let lines: Vec<String> = spots
                .iter()
                .map(|(file, line, _)| format!("{file}:{line}"))
                .collect();
            hint.push_str(&format!(" Host lines: {}.", lines.join(", ")));
        }
        if !destinations.is_empty() {
            hint.push_str(&format!(
                " Destination files beside it: {} (pick one with -d DEST).",
                destinations.join(", ")
            ));
        }
        r.hint = Some(hint);
        r.to_edit = spots;
        r
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "web, celery and the accessories postgres and redis", "web and celery".
fn holders(summary: &Summary) -> String {
    let list = and_list;
    let accessories = match summary.accessories.as_slice() {
        [] => String::new(),
        [one] => format!("the accessory {one}"),
        many => format!("the accessories {}", list(many)),
    };
    match (summary.roles.is_empty(), accessories.is_empty()) {
        (false, false) => format!("{} and {accessories}", summary.roles.join(", ")),
        (false, true) => list(&summary.roles),
        (true, _) => accessories,
    }
}

/// The words for a mode and what it did (SPEC §6).
fn explain(basis: &Basis, summary: &Summary, new: &str) -> Option<String> {
    let who = holders(summary);
    let one = summary.roles.len() + summary.accessories.len() == 1;
    let (stays, them) = if one {
        ("stays", "it")
    } else {
        ("stay", "them")
    };
    let web = &summary.web_path;
    let count = summary.web_hosts;
    match (summary.mode, basis) {
        (Mode::Replace, Basis::Placeholder) => {
            let old = summary.replaced.as_deref().unwrap_or("");
            let what = if old == KAMAL_SAMPLE {
                format!("{old} (the sample address from `kamal init`)")
            } else {
                format!("the placeholder {old}")
            };
            Some(format!("First server: {what} is now {new} for {who}."))
        }
        (Mode::Replace, Basis::Unplaced | Basis::Flag) => {
            let old = summary.replaced.as_deref().unwrap_or("");
            let why = if matches!(basis, Basis::Flag) {
                "as --replace asked".to_owned()
            } else if old.parse::<std::net::IpAddr>().is_ok() {
                format!(
                    "{old} is not a server of this Hetzner project, so this counts as moving to a new server"
                )
            } else {
                format!(
                    "{old} is a host name pegasus cannot match to a server of this Hetzner project, so this counts as moving to a new server"
                )
            };
            Some(format!(
                "Moved {who} from {old} to {new} ({why}). The data on {old} (databases, volumes) does not move with {them}. To add a second web server instead, put {old} back and use --append, which adds the server and changes nothing else."
            ))
        }
        (Mode::Append, Basis::ProjectServer { name }) => {
            let old = stayed_host(summary);
            let stay = if who.is_empty() {
                "Nothing else changed.".to_owned()
            } else {
                format!("{who} {stays} on {name} ({old}).")
            };
            Some(format!(
                "Adding a second web server: {old} is {name}, a server of this Hetzner project, so {new} was added next to it and `{web}` now has {count} hosts. {stay} (--replace would move everything to {new} instead.)"
            ))
        }
        (Mode::Append, _) if !summary.moved.is_empty() => {
            let what = match summary.moved.as_slice() {
                [one] => format!("The placeholder {one}"),
                many => format!("The placeholders {}", and_list(many)),
            };
            Some(format!(
                "{what} in `{web}` is now {new}; nothing else changed."
            ))
        }
        (Mode::Append, _) => {
            let stay = match summary.previous.as_deref() {
                Some(old) if !who.is_empty() => format!(" {who} {stays} on {old}."),
                _ => String::new(),
            };
            Some(format!(
                "Added {new} to `{web}`, which now has {count} hosts; nothing else changed.{stay}"
            ))
        }
        (Mode::Replace, _) => None,
    }
}

/// The single host the web role had before an append (the first change's neighbour).
fn stayed_host(summary: &Summary) -> String {
    summary.previous.clone().unwrap_or_default()
}

/// The report as lines for a person (stdout), with a small diff for updates. File text
/// goes through [`escape`].
pub fn human_lines(r: &Report, host: &str, paint: &dyn Fn(&str, &str) -> String) -> Vec<String> {
    let shown = escape(r.path.as_deref().unwrap_or_default()).into_owned();
    match r.status {
        Status::Skipped => Vec::new(),
        Status::NotFound => vec![format!("Note: {}", r.hint.clone().unwrap_or_default())],
        Status::Manual => {
            let hint = escape(r.hint.as_deref().unwrap_or_default()).into_owned();
            let mut lines = vec![format!("Kamal config not changed. {hint}")];
            for (file, line, text) in &r.to_edit {
                lines.push(format!("  {}:{line}  {}", escape(file), escape(text)));
            }
            lines
        }
        Status::Error => vec![format!(
            "Kamal config not changed: {}.",
            escape(r.error.as_deref().unwrap_or_default())
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
                    let old = escape(old);
                    lines.push(paint(&format!("  {shown}:{}  - {old}", c.line), "31"));
                }
                lines.push(paint(&format!("  {shown}:{}  + {}", c.line, c.new), "32"));
            }
            if let Some(words) = &r.explanation {
                lines.push(escape(words).into_owned());
            }
            lines.extend(other_ref_lines(r));
            if let Some(hint) = r.hint.as_deref().filter(|_| !r.to_edit.is_empty()) {
                lines.push(format!("Still to edit by hand: {}", escape(hint)));
                for (file, line, text) in &r.to_edit {
                    lines.push(format!("  {}:{line}  {}", escape(file), escape(text)));
                }
            }
            lines
        }
    }
}

/// "Other references": the values that still name a host the edit moved away from.
fn other_ref_lines(r: &Report) -> Vec<String> {
    if r.other_refs.is_empty() {
        return Vec::new();
    }
    let shown = r.path.as_deref().unwrap_or_default();
    let mut lines = vec!["Not hosts, so not changed (check them by hand):".to_owned()];
    for o in &r.other_refs {
        let file = o.file.as_deref().unwrap_or(shown);
        lines.push(format!(
            "  {}:{}  still names {}: {}",
            escape(file),
            o.line,
            escape(&o.names),
            o.text
        ));
    }
    lines
}

/// `--json` mode: the lines for stderr, so a one-liner still tells that the file changed
/// (`Updated config/deploy.yml: 5 hosts now 203.0.113.10`) and what moved.
pub fn stderr_lines(r: &Report) -> Vec<String> {
    let (Status::Updated, Some(summary)) = (r.status, &r.summary) else {
        return Vec::new();
    };
    let shown = escape(r.path.as_deref().unwrap_or_default()).into_owned();
    let new = r
        .changes
        .first()
        .map(|c| c.new.as_str())
        .unwrap_or_default();
    let n = r.changes.len();
    let first = match summary.mode {
        Mode::Append if summary.moved.is_empty() => format!(
            "Updated {shown}: {new} added to {} ({} hosts now)",
            summary.web_path, summary.web_hosts
        ),
        _ => format!(
            "Updated {shown}: {n} host{} now {new}",
            if n == 1 { "" } else { "s" }
        ),
    };
    let mut lines = vec![first];
    lines.extend(r.explanation.as_deref().map(|e| escape(e).into_owned()));
    if r.data_stays.is_some() {
        lines.push(r.next_step());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(roles: &[&str], accessories: &[&str]) -> Summary {
        Summary {
            mode: Mode::Replace,
            role: "web".into(),
            replaced: Some("1.2.3.4".into()),
            web_path: "servers.web".into(),
            web_hosts: 1,
            previous: None,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            accessories: accessories.iter().map(|a| (*a).to_owned()).collect(),
            data: Vec::new(),
            moved: vec!["1.2.3.4".into()],
            hosts_before: 1,
            hosts_after: 1,
        }
    }

    #[test]
    fn holders_read_as_a_sentence() {
        let cases: [(&[&str], &[&str], &str); 6] = [
            (&["web"], &[], "web"),
            (&["web", "celery"], &[], "web and celery"),
            (&["web", "celery", "beat"], &[], "web, celery and beat"),
            (&["web"], &["db"], "web and the accessory db"),
            (
                &["web", "celery"],
                &["postgres", "redis"],
                "web, celery and the accessories postgres and redis",
            ),
            (&[], &["a", "b", "c"], "the accessories a, b and c"),
        ];
        for (roles, accessories, want) in cases {
            assert_eq!(holders(&summary(roles, accessories)), want);
        }
    }

    #[test]
    fn an_unwritable_file_lists_every_change_to_make() {
        let changes = vec![
            Change {
                path: "servers.web[0]".into(),
                line: 4,
                old: Some("<IP-ADDRESS>".into()),
                new: "203.0.113.10".into(),
            },
            Change {
                path: "accessories.db.host".into(),
                line: 9,
                old: Some("<IP-ADDRESS>".into()),
                new: "203.0.113.10".into(),
            },
        ];
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let r = Report::unwritten(
            Path::new("config/deploy.yml"),
            &denied,
            changes,
            "203.0.113.10",
        );
        assert_eq!(r.status, Status::Error);
        assert_eq!(
            r.error.as_deref(),
            Some(
                "cannot write config/deploy.yml: permission denied; edit it by hand: line 4: <IP-ADDRESS> → 203.0.113.10; line 9: <IP-ADDRESS> → 203.0.113.10"
            )
        );
    }

    #[test]
    fn a_placeholder_needs_no_warning_about_data() {
        let s = summary(&["web"], &[]);
        let words = explain(&Basis::Placeholder, &s, "203.0.113.10").unwrap_or_default();
        assert!(!words.contains("data"), "{words}");
        let moved = explain(&Basis::Unplaced, &s, "203.0.113.10").unwrap_or_default();
        assert!(moved.contains("The data on 1.2.3.4"), "{moved}");
        assert!(moved.contains("does not move with it."), "{moved}");
        assert_eq!(explain(&Basis::NotPlain, &s, "203.0.113.10"), None);
    }
}
