//! Where the Kamal config is (SPEC §4 step 3): the file named by `-c`/`-d`, or, without
//! `-c`, `config/deploy.yml` in the current folder or the nearest parent folder, up to and
//! including the first one that holds `.git` (or the filesystem root). Found in a parent,
//! the path is given relative to the current folder (`../config/deploy.yml`), so it reads
//! the way the user would type it.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, io_reason};

/// What the search found at one candidate path.
#[derive(Debug, PartialEq)]
pub(super) enum Probe {
    Missing,
    File,
    /// A symlink whose target does not exist: named as such, never skipped silently.
    Dangling(PathBuf),
    /// Something else (a folder, or it cannot be read): the reason.
    Other(String),
}

pub(super) fn probe(path: &Path) -> Probe {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Probe::File,
        Ok(_) => Probe::Other("is not a file".into()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::read_link(path) {
            Ok(target) => Probe::Dangling(target),
            Err(_) => Probe::Missing,
        },
        Err(e) => Probe::Other(io_reason(&e)),
    }
}

pub(super) fn dangling(path: &Path, target: &Path) -> String {
    format!(
        "Kamal config {} is a dangling symlink: it points at {}, which does not exist. Fix the link, or pass --no-kamal to leave Kamal alone",
        path.display(),
        target.display()
    )
}

/// The first of `candidates` (relative paths) found in `start` or a parent of it, and how
/// many folders up it was. The search includes the folder that holds `.git` and stops there.
///
/// # Errors
/// A candidate that is a dangling symlink or not a file (exit 1).
pub(super) fn upward(start: &Path, candidates: &[&str]) -> Result<Option<(PathBuf, usize)>, Error> {
    for (depth, dir) in start.ancestors().enumerate() {
        for candidate in candidates {
            let full = dir.join(candidate);
            let shown = relative(depth, candidate);
            match probe(&full) {
                Probe::Missing => {}
                Probe::File => return Ok(Some((shown, depth))),
                Probe::Dangling(target) => return Err(Error::Failed(dangling(&shown, &target))),
                Probe::Other(why) => {
                    return Err(Error::Failed(format!(
                        "Kamal config {}: {why}; pass -c PATH to name the file, or --no-kamal",
                        shown.display()
                    )));
                }
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    Ok(None)
}

/// `candidate` seen from `depth` folders below the folder that holds it.
fn relative(depth: usize, candidate: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for _ in 0..depth {
        path.push("..");
    }
    path.push(candidate);
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_and_stops_at_git() {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("repo");
        let deep = repo.join("app/models");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::create_dir_all(repo.join("config")).unwrap();
        std::fs::write(repo.join("config/deploy.yml"), "servers: [a]\n").unwrap();
        let found = upward(&deep, &["config/deploy.yml"]).unwrap();
        assert_eq!(found, Some((PathBuf::from("../../config/deploy.yml"), 2)));
        let here = upward(&repo, &["config/deploy.yml"]).unwrap();
        assert_eq!(here, Some((PathBuf::from("config/deploy.yml"), 0)));

        // A .git below the config ends the search before it.
        std::fs::create_dir_all(repo.join("app/.git")).unwrap();
        assert_eq!(upward(&deep, &["config/deploy.yml"]).unwrap(), None);
        // A .git file (a worktree) counts too, and the folder holding it is searched.
        std::fs::remove_dir(repo.join("app/.git")).unwrap();
        std::fs::write(repo.join(".git"), "gitdir: elsewhere\n").unwrap();
        std::fs::create_dir_all(root.path().join("config")).unwrap();
        std::fs::write(root.path().join("config/deploy.yml"), "x: 1\n").unwrap();
        std::fs::remove_file(repo.join("config/deploy.yml")).unwrap();
        assert_eq!(upward(&deep, &["config/deploy.yml"]).unwrap(), None);
    }

    #[test]
    fn a_dangling_symlink_is_named() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("config")).unwrap();
        std::os::unix::fs::symlink(
            "../shared/deploy.yml",
            root.path().join("config/deploy.yml"),
        )
        .unwrap();
        std::fs::create_dir(root.path().join(".git")).unwrap();
        let e = upward(root.path(), &["config/deploy.yml"]).unwrap_err();
        assert_eq!(e.exit_code(), 1);
        let text = e.to_string();
        assert!(text.contains("dangling symlink"), "{text}");
        assert!(text.contains("../shared/deploy.yml"), "{text}");
    }
}
