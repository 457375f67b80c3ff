//! The real-world Kamal corpus the tests and `make bench` run the editor over.
//!
//! * `fixtures/corpus/kamal/`: the files whose licences allow them in the repository (see its
//!   `NOTICE.md`). Always there; a missing or unreadable folder fails the test.
//! * `../shared/corpus/kamal/` beside the repository (or under `PEGASUS_SHARED`): the whole
//!   corpus, the files that could not be vendored included. An extra, used when it is there
//!   (a fresh clone has no `../shared/`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The vendored corpus: `fixtures/corpus/kamal/`.
pub fn vendored_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpus/kamal")
}

/// The shared corpus, `corpus/kamal/` in the folder `PEGASUS_SHARED` names (for a worktree
/// whose parent has no `shared`: it must then be there) or else in `../shared` beside the
/// repository, when that is there.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(named) = std::env::var_os("PEGASUS_SHARED") {
        let dir = PathBuf::from(named).join("corpus/kamal");
        assert!(dir.is_dir(), "PEGASUS_SHARED: {} not found", dir.display());
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/kamal");
    dir.is_dir().then_some(dir)
}

/// `(file name, text)` of every `*.yml` file in `dir`, sorted by name (not its README,
/// NOTICE or licence texts). Panics when `dir` or a file cannot be read.
pub fn files_in(dir: &Path) -> Vec<(String, String)> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (name, text)
        })
        .collect()
}

/// The vendored files.
pub fn vendored() -> Vec<(String, String)> {
    files_in(&vendored_dir())
}

/// The files of `../shared/corpus/kamal/` that are not vendored (empty without that folder).
/// A shared file that is also vendored must have the same bytes: a copy that drifted from
/// its source panics (re-vendor it, checking its licence again).
pub fn shared_extras() -> Vec<(String, String)> {
    let Some(dir) = shared_dir() else {
        return Vec::new();
    };
    let vendored = vendored();
    let mut extras = Vec::new();
    for (name, text) in files_in(&dir) {
        match vendored.iter().find(|(n, _)| *n == name) {
            Some((_, mine)) => assert!(
                *mine == text,
                "fixtures/corpus/kamal/{name} differs from {}/{name}",
                dir.display()
            ),
            None => extras.push((name, text)),
        }
    }
    extras
}

/// Every corpus file at hand: the vendored ones, then the shared extras.
pub fn all() -> Vec<(String, String)> {
    let mut files = vendored();
    files.extend(shared_extras());
    files
}
