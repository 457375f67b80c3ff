//! Atomic file replacement: temp file in the same folder, fsync, rename.
//!
//! Used for the saved token (mode 0600 from the first byte) and for the Kamal
//! config (its existing permissions kept). A reader never sees a half-written file,
//! and a failure leaves the old file as it was.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Replace `path` with `bytes`. The new file gets `mode`, or the mode of the file it
/// replaces when `mode` is `None`. A symlink at `path` is followed, so the link stays
/// and its target is replaced.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: Option<u32>) -> io::Result<()> {
    replace(path, bytes, mode, &|_| Ok(true)).map(|_| ())
}

/// Replace `path` with `bytes` as [`write_atomic`] does (its mode kept), but only if the
/// file still holds `expected`: the check is made just before the rename, after the temp
/// file is written and synced, so a change made by someone else until then is never lost
/// (the instant between the check and the rename cannot be guarded). `Ok(false)`: the file
/// changed, nothing was written.
pub fn replace_if_unchanged(path: &Path, expected: &[u8], bytes: &[u8]) -> io::Result<bool> {
    replace(path, bytes, None, &|target| {
        Ok(fs::read(target)? == expected)
    })
}

/// The one replacing write: `before_rename` sees the target path once the temp file is
/// ready; `false` from it removes the temp file and leaves the target alone.
fn replace(
    path: &Path,
    bytes: &[u8],
    mode: Option<u32>,
    before_rename: &dyn Fn(&Path) -> io::Result<bool>,
) -> io::Result<bool> {
    let target = match fs::canonicalize(path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => path.to_path_buf(),
        Err(e) => return Err(e),
    };
    let mode = match mode {
        Some(m) => m,
        None => match fs::metadata(&target) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0o644,
            Err(e) => return Err(e),
        },
    };
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
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
        // The umask may have narrowed the mode given at creation; set it exactly.
        file.set_permissions(fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        drop(file);
        if !before_rename(&target)? {
            return Ok(false);
        }
        fs::rename(&tmp_path, &target)?;
        // Make the rename durable; not every file system supports fsync on a folder.
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(true)
    })();
    if !matches!(result, Ok(true)) {
        let _ = fs::remove_file(&tmp_path);
    }
    result
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
    fn replaces_only_what_was_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("deploy.yml");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(replace_if_unchanged(&p, b"old", b"new").unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(mode_of(&p), 0o640);
        // Someone else wrote it since it was read: their text stays, no temp file left.
        assert!(!replace_if_unchanged(&p, b"old", b"mine").unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
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
