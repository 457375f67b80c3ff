//! Can the config be written? Asked before anything is created (SPEC §4 step 3), with the
//! answer a user expects from the permission bits: `faccessat(AT_EACCESS)` for the file
//! and its folder (the effective user, as the write itself will be checked — `access`
//! asks for the real one, which differs under setuid), and, because root may write
//! anything, a file or folder with no write bit at all (a deliberate `chmod 444`) counts
//! as read-only for root too.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Why the config cannot be written, naming what is in the way.
#[derive(Debug, PartialEq)]
pub(super) enum Blocked {
    File,
    Folder(PathBuf),
}

/// Whether `path` (a symlink is followed: the target is what gets replaced) and its folder
/// can be written the way `fsutil::write_atomic` writes: a temp file beside the target,
/// then a rename.
pub(super) fn check(path: &Path) -> Result<(), Blocked> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if !may_write(&target) {
        return Err(Blocked::File);
    }
    let folder = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !may_write(&folder) {
        return Err(Blocked::Folder(folder));
    }
    Ok(())
}

fn may_write(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `faccessat` reads a NUL-terminated path that lives across the call.
    let allowed = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::W_OK,
            libc::AT_EACCESS,
        )
    } == 0;
    // SAFETY: `geteuid` takes nothing and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let any_write_bit = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o222 != 0);
    allowed && (!root || any_write_bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn read_only_file_and_folder_are_refused_even_for_root() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("config");
        std::fs::create_dir(&folder).unwrap();
        let file = folder.join("deploy.yml");
        std::fs::write(&file, "x: 1\n").unwrap();
        assert_eq!(check(&file), Ok(()));
        chmod(&file, 0o444);
        assert_eq!(check(&file), Err(Blocked::File));
        chmod(&file, 0o644);
        chmod(&folder, 0o555);
        let canonical = std::fs::canonicalize(&folder).unwrap();
        assert_eq!(check(&file), Err(Blocked::Folder(canonical)));
        chmod(&folder, 0o755);
    }

    #[test]
    fn a_symlink_is_judged_by_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.yml");
        let link = dir.path().join("link.yml");
        std::fs::write(&real, "x: 1\n").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert_eq!(check(&link), Ok(()));
        chmod(&real, 0o400);
        assert_eq!(check(&link), Err(Blocked::File));
    }
}
