//! Atomic file replacement: temp file in the same folder, fsync, rename.
//!
//! Used for the saved token (mode 0600 from the first byte), `known_hosts` and the Kamal
//! config (their permissions, owner and group kept: a run under `sudo` with the user's
//! `HOME` must not leave root-owned files behind, SPEC §8). A reader never sees a
//! half-written file, and a failure leaves the old file as it was.
//! [`replace_if_unchanged`] also compares the file with what was read, just before the
//! rename, so another writer's change is never lost (only the instant between that check
//! and the rename cannot be guarded).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replace `path` with `bytes`. The new file gets `mode`, or the mode of the file it
/// replaces when `mode` is `None`. A symlink at `path` is followed, so the link stays
/// and its target is replaced.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    match replace(path, bytes, mode, None)? {
        Replaced::Done => Ok(()),
        // Not reachable without an expectation; kept total.
        Replaced::Changed(_) => Err(io::Error::other("the file changed")),
    }
}

/// What [`replace_if_unchanged`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Replaced {
    Done,
    /// The file no longer held what was read: nothing was written; here is what it holds
    /// now (empty when it is gone).
    Changed(Vec<u8>),
}

/// [`write_atomic`], but only if the file still holds `expected` right before the
/// rename; otherwise nothing is written and the current content comes back.
pub fn replace_if_unchanged(
    path: &Path,
    expected: &[u8],
    bytes: &[u8],
    mode: Option<u32>,
) -> io::Result<Replaced> {
    replace(path, bytes, mode, Some(expected))
}

fn replace(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
    expected: Option<&[u8]>,
) -> io::Result<Replaced> {
    let target = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let existing = match fs::metadata(&target) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let mode = match (mode, &existing) {
        (Some(m), _) => m,
        (None, Some(meta)) => meta.permissions().mode() & 0o7777,
        (None, None) => 0o644,
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Whose the new file is: the old file's owner and group, else (a new file) its
    // folder's, so `sudo` with the user's HOME leaves the user's files the user's.
    let owner = match &existing {
        Some(meta) => Some((meta.uid(), meta.gid())),
        None => fs::metadata(&dir).ok().map(|m| (m.uid(), m.gid())),
    };
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());

    // A second signal must not end the program while the temp file exists (the first
    // only sets a flag, see `signals`): it is renamed or removed before this returns.
    let _critical = crate::process::signals::critical();
    let (tmp_path, mut file) = create_temp(&dir, &file_name, mode)?;
    let result = (|| {
        file.write_all(bytes)?;
        if let Some((uid, gid)) = owner {
            keep_owner(&file, uid, gid)?;
        }
        // The umask may have narrowed the mode given at creation; set it exactly (after
        // the owner: `fchown` may clear set-id bits).
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        drop(file);
        if let Some(expected) = expected {
            let now = match fs::read(&target) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(e),
            };
            if now != expected {
                return Ok(Replaced::Changed(now));
            }
        }
        fs::rename(&tmp_path, &target)?;
        // Make the rename durable; not every file system supports fsync on a folder.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(Replaced::Done)
    })();
    if !matches!(result, Ok(Replaced::Done)) {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// Give the new file this owner and group. As root, both; as another user, the group
/// only when it differs (allowed when the user is in it; refused otherwise, which is not
/// an error: the file stays the user's, as any file they write).
fn keep_owner(file: &File, uid: u32, gid: u32) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let meta = file.metadata()?;
    if (meta.uid(), meta.gid()) == (uid, gid) {
        return Ok(());
    }
    // SAFETY: `geteuid` takes nothing and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let (want_uid, want_gid) = if root { (uid, gid) } else { (u32::MAX, gid) };
    // SAFETY: an open file's descriptor; `(uid_t)-1` leaves the owner as it is.
    let rc = unsafe { libc::fchown(file.as_raw_fd(), want_uid, want_gid) };
    if rc != 0 && root {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Create a new temp file beside the target, with `mode` from the first byte.
fn create_temp(dir: &Path, name: &str, mode: u32) -> io::Result<(PathBuf, File)> {
    let pid = std::process::id();
    let mut last_err = None;
    for n in 0..100u32 {
        let tmp = dir.join(format!(".{name}.pegasus-{pid}-{n}.tmp"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("could not create a temp file")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn replaces_content_and_keeps_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deploy.yml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new", None).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode_of(&p), 0o640);
        // No temp file left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_change_since_the_read_is_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deploy.yml");
        fs::write(&p, "read").unwrap();
        // Someone else saved the file after pegasus read it.
        fs::write(&p, "theirs").unwrap();
        let got = replace_if_unchanged(&p, b"read", b"mine", None).unwrap();
        assert_eq!(got, Replaced::Changed(b"theirs".to_vec()));
        assert_eq!(fs::read_to_string(&p).unwrap(), "theirs");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let got = replace_if_unchanged(&p, b"theirs", b"mine", None).unwrap();
        assert_eq!(got, Replaced::Done);
        assert_eq!(fs::read_to_string(&p).unwrap(), "mine");
    }

    #[test]
    fn root_keeps_the_owner_and_group_of_the_file_it_replaces() {
        // SAFETY: `geteuid` cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            // Only root can make a file someone else's; CI runs as root.
            assert!(
                std::env::var_os("PEGASUS_SKIP_ROOT_TESTS").is_some(),
                "this test needs root (set PEGASUS_SKIP_ROOT_TESTS=1 to skip it)"
            );
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("known_hosts");
        fs::write(&p, "old").unwrap();
        std::os::unix::fs::chown(&p, Some(4242), Some(4343)).unwrap();
        write_atomic(&p, b"new", None).unwrap();
        let meta = fs::metadata(&p).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
        // A new file takes its folder's owner.
        std::os::unix::fs::chown(dir.path(), Some(4242), Some(4343)).unwrap();
        let fresh = dir.path().join("fresh");
        write_atomic(&fresh, b"x", Some(0o600)).unwrap();
        let meta = fs::metadata(&fresh).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4242, 4343));
        assert_eq!(mode_of(&fresh), 0o600);
    }

    #[test]
    fn new_file_gets_the_given_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("cred");
        write_atomic(&p, b"x\n", Some(0o600)).unwrap();
        assert_eq!(mode_of(&p), 0o600);
    }

    #[test]
    fn symlink_target_is_replaced_and_link_kept() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yml");
        let link = dir.path().join("link.yml");
        fs::write(&real, "a").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"b", None).unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read_to_string(&real).unwrap(), "b");
    }

    #[test]
    fn failure_leaves_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deploy.yml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        // Every temp name is taken, so the write fails (even for root, which ignores
        // folder permissions) after the old file was looked at.
        let pid = std::process::id();
        for n in 0..100 {
            fs::write(
                dir.path()
                    .join(format!(".deploy.yml.pegasus-{pid}-{n}.tmp")),
                "x",
            )
            .unwrap();
        }
        assert!(write_atomic(&p, b"new", None).is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(mode_of(&p), 0o640);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 101);

        // A folder that does not exist: an error, and nothing appears.
        let missing_dir = dir.path().join("nope").join("x.yml");
        assert!(write_atomic(&missing_dir, b"b", None).is_err());
        assert!(!dir.path().join("nope").exists());
    }
}
