//! The edit after the server runs (SPEC §6 "Safety", §8): the file is read again and
//! edited only when that text gives the plan the preflight checked ([`Expected`]); the
//! write is compared, just before its rename, with what was read, and when someone else
//! changed the file meanwhile, it is read and edited once more; a second change leaves
//! the file alone. Another writer's change is never lost.

use std::path::Path;

use super::report::{Report, Status};
use crate::fsutil::Replaced;
use crate::kamal::{Edit, Mode, Summary};

/// The plan of an edit, as far as "the same plan" goes: the mode, the role the server
/// joins and its list, the host replaced, the roles and accessories changed (or, for an
/// append after one host, staying there), and the proxy names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    outcome: Outcome,
    proxy: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The file could not be read or parsed.
    Unread,
    /// Nothing could be edited safely.
    Manual,
    Unchanged,
    Edit(Shape),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Shape {
    mode: Mode,
    role: String,
    list: String,
    replaced: Option<String>,
    moved: Vec<String>,
    roles: Vec<String>,
    accessories: Vec<String>,
}

impl Expected {
    pub(super) fn of(edit: &Edit, proxy: &[String]) -> Expected {
        let outcome = match edit {
            Edit::Updated { summary, .. } => Outcome::Edit(Shape::of(summary)),
            Edit::Unchanged => Outcome::Unchanged,
            Edit::Manual { .. } => Outcome::Manual,
        };
        let mut proxy = proxy.to_vec();
        crate::sort::sort(&mut proxy);
        Expected { outcome, proxy }
    }

    /// The planned mode, when the plan is an edit (`None`: a hand edit, no change, or a
    /// file that could not be read): what DNS follows (SPEC §10).
    pub fn mode(&self) -> Option<Mode> {
        match &self.outcome {
            Outcome::Edit(shape) => Some(shape.mode),
            _ => None,
        }
    }

    /// The host a planned replace moves away from.
    pub fn replaced(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Edit(shape) => shape.replaced.as_deref(),
            _ => None,
        }
    }

    /// The role the server joins in the planned edit (`--role`, else the primary role).
    pub fn role(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Edit(shape) => Some(&shape.role),
            _ => None,
        }
    }

    pub(super) fn unread() -> Expected {
        Expected {
            outcome: Outcome::Unread,
            proxy: Vec::new(),
        }
    }

    /// What differs between this plan and `now`, in words; `None` when nothing does (a
    /// plan that ends in a hand edit or no change needs no guard: nothing is written).
    pub(super) fn differs(&self, now: &Expected) -> Option<String> {
        let Outcome::Edit(new) = &now.outcome else {
            return None;
        };
        let old = match &self.outcome {
            Outcome::Edit(old) => old,
            Outcome::Unread => {
                return Some("it could not be read before the server was created".into());
            }
            Outcome::Manual => {
                return Some("before the server was created it could not be edited".into());
            }
            Outcome::Unchanged => {
                return Some("before the server was created it needed no change".into());
            }
        };
        let mut what = Vec::new();
        let mode = |m: Mode| match m {
            Mode::Replace => "replace",
            Mode::Append => "append",
        };
        if old.mode != new.mode {
            what.push(format!(
                "it would now {}, not {}",
                mode(new.mode),
                mode(old.mode)
            ));
        }
        if old.role != new.role || old.list != new.list {
            what.push(format!(
                "the server would join `{}`, not `{}`",
                new.list, old.list
            ));
        }
        if old.mode == new.mode {
            if old.replaced != new.replaced || old.moved != new.moved {
                what.push(format!(
                    "it would replace {}, not {}",
                    list(&new.moved),
                    list(&old.moved)
                ));
            }
            if old.roles != new.roles || old.accessories != new.accessories {
                what.push(format!(
                    "it would touch {}, not {}",
                    holders(&new.roles, &new.accessories),
                    holders(&old.roles, &old.accessories)
                ));
            }
        }
        if self.proxy != now.proxy {
            what.push(format!(
                "the proxy names would be {}, not {}",
                list(&now.proxy),
                list(&self.proxy)
            ));
        }
        (!what.is_empty()).then(|| what.join("; "))
    }
}

impl Shape {
    fn of(summary: &Summary) -> Shape {
        Shape {
            mode: summary.mode,
            role: summary.role.clone(),
            list: summary.web_path.clone(),
            replaced: summary.replaced.clone(),
            moved: summary.moved.clone(),
            roles: summary.roles.clone(),
            accessories: summary.accessories.clone(),
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

fn holders(roles: &[String], accessories: &[String]) -> String {
    let all: Vec<String> = roles
        .iter()
        .cloned()
        .chain(accessories.iter().map(|a| format!("accessory {a}")))
        .collect();
    list(&all)
}

/// What one read of the file gave.
pub(super) enum Step {
    /// Write `text` (when the file still holds what was read); `report` says it was done.
    Write { text: String, report: Report },
    /// Nothing to write.
    Stop(Report),
}

/// Read `path`, let `edit` decide, and write what it asks for only over the text it was
/// given: the file is compared with that text just before the rename. A file that changed
/// meanwhile is read and edited once more; changed again, it is left alone (`manual`).
pub(super) fn run(path: &Path, edit: &mut dyn FnMut(&str) -> Step) -> Report {
    for attempt in 0..2 {
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    return Report::error(
                        path,
                        format!("{} is not UTF-8 text", path.display()),
                        "the new server's address",
                    );
                }
            },
            Err(e) => {
                return Report::error(
                    path,
                    format!(
                        "cannot read {}: {}",
                        path.display(),
                        crate::error::io_reason(&e)
                    ),
                    "the new server's address",
                );
            }
        };
        let (new, report) = match edit(&text) {
            Step::Stop(report) => return report,
            Step::Write { text, report } => (text, report),
        };
        let written =
            crate::fsutil::replace_if_unchanged(path, text.as_bytes(), new.as_bytes(), None);
        match written {
            Ok(Replaced::Done) => return report,
            Ok(Replaced::Changed(_)) if attempt == 0 => continue,
            Ok(Replaced::Changed(_)) => return Report::raced(path, &report),
            Err(e) => {
                let host = new_host(&report);
                return Report::unwritten(path, &e, report.changes, &host);
            }
        }
    }
    Report::new(Some(path), Status::Manual)
}

/// The address an update wrote (for the words of a failed write).
fn new_host(report: &Report) -> String {
    report
        .changes
        .first()
        .map(|c| c.new.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kamal::Change;

    fn write_step(text: &str) -> Step {
        let mut report = Report::new(Some(Path::new("deploy.yml")), Status::Updated);
        report.changes = vec![Change {
            path: "servers[0]".into(),
            line: 1,
            old: Some("a".into()),
            new: "b".into(),
        }];
        Step::Write {
            text: text.to_owned(),
            report,
        }
    }

    #[test]
    fn a_change_by_someone_else_is_read_again_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deploy.yml");
        std::fs::write(&path, "servers: [a]\n").unwrap();
        let mut reads = Vec::new();
        let report = run(&path, &mut |text| {
            reads.push(text.to_owned());
            if reads.len() == 1 {
                // Another program writes the file after pegasus read it.
                std::fs::write(&path, "servers: [a] # mine\n").unwrap();
            }
            write_step(&text.replace("[a]", "[b]"))
        });
        assert_eq!(report.status, Status::Updated);
        assert_eq!(reads, ["servers: [a]\n", "servers: [a] # mine\n"]);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "servers: [b] # mine\n"
        );
    }

    #[test]
    fn a_file_that_changes_twice_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deploy.yml");
        std::fs::write(&path, "servers: [a]\n").unwrap();
        let mut n = 0;
        let report = run(&path, &mut |text| {
            n += 1;
            std::fs::write(&path, format!("servers: [a] # {n}\n")).unwrap();
            write_step(&text.replace("[a]", "[b]"))
        });
        assert_eq!(n, 2);
        assert_eq!(report.status, Status::Manual);
        let hint = report.hint.unwrap_or_default();
        assert!(
            hint.contains("changed again while pegasus was writing it"),
            "{hint}"
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "servers: [a] # 2\n"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn differences_are_named() {
        let shape = |mode, replaced: Option<&str>, roles: &[&str]| Shape {
            mode,
            role: "web".into(),
            list: "servers.web.hosts".into(),
            replaced: replaced.map(str::to_owned),
            moved: replaced.iter().map(|r| (*r).to_owned()).collect(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            accessories: Vec::new(),
        };
        let plan = |outcome, proxy: &[&str]| Expected {
            outcome,
            proxy: proxy.iter().map(|p| (*p).to_owned()).collect(),
        };
        let before = plan(
            Outcome::Edit(shape(
                Mode::Replace,
                Some("<IP-ADDRESS>"),
                &["web", "celery"],
            )),
            &["a.example"],
        );
        assert_eq!(before.differs(&before.clone()), None);
        let appended = plan(
            Outcome::Edit(shape(Mode::Append, None, &[])),
            &["a.example"],
        );
        assert_eq!(
            before.differs(&appended).as_deref(),
            Some("it would now append, not replace")
        );
        let renamed = plan(
            Outcome::Edit(shape(
                Mode::Replace,
                Some("<IP-ADDRESS>"),
                &["web", "celery"],
            )),
            &["b.example"],
        );
        assert_eq!(
            before.differs(&renamed).as_deref(),
            Some("the proxy names would be b.example, not a.example")
        );
        let moved = plan(
            Outcome::Edit(shape(Mode::Replace, Some("192.0.2.1"), &["web"])),
            &["a.example"],
        );
        assert_eq!(
            before.differs(&moved).as_deref(),
            Some(
                "it would replace 192.0.2.1, not <IP-ADDRESS>; it would touch web, not web, celery"
            )
        );
        assert_eq!(before.differs(&plan(Outcome::Manual, &[])), None);
        assert!(plan(Outcome::Manual, &[]).differs(&before).is_some());
    }
}
