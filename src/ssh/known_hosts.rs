//! `~/.ssh/known_hosts` clean-up (SPEC §4 step 9, §5): remove the entries for a server's
//! addresses, plain (`203.0.113.10`, `[203.0.113.10]:2222`) and hashed
//! (`|1|salt|HMAC-SHA1(salt, host)`), as `ssh-keygen -R` does, without running it.
//!
//! Everything else in the file stays byte for byte: comments, other hosts, `@cert-authority`
//! and `@revoked` lines (ssh-keygen -R keeps those too), wildcard patterns, odd line ends,
//! lines that are not UTF-8. A line whose host list names the address among other names is
//! removed as a whole, as ssh-keygen does: its key is the old machine's. The old file is
//! kept as `known_hosts.old`; the new one replaces it atomically with the same mode.

use std::fs;
use std::io;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::fsutil::Replaced;

use ring::hmac;

/// The names ssh looks a host up by: `ip` for port 22, `[ip]:port` for another port.
/// The plain `ip` is always included: an entry for the address at port 22 belongs to the
/// old machine as well.
pub fn host_forms(ips: &[IpAddr], port: u16) -> Vec<String> {
    let mut forms = Vec::new();
    for ip in ips {
        forms.push(ip.to_string());
        if port != 22 {
            forms.push(format!("[{ip}]:{port}"));
        }
    }
    forms
}

/// What [`remove_from_text`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Removed {
    /// The host forms that had at least one entry, in the order of the forms given.
    pub hosts: Vec<String>,
    /// How many lines were removed.
    pub lines: usize,
}

/// The text without the lines for any of `forms`; `None` when no line matched.
pub fn remove_from_text(text: &[u8], forms: &[String]) -> Option<(Vec<u8>, Removed)> {
    let mut out = Vec::with_capacity(text.len());
    let mut found = vec![false; forms.len()];
    let mut lines = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let hits = matching_forms(line, forms);
        if hits.is_empty() {
            out.extend_from_slice(line);
        } else {
            lines += 1;
            for i in hits {
                found[i] = true;
            }
        }
    }
    if lines == 0 {
        return None;
    }
    let hosts = forms
        .iter()
        .zip(found)
        .filter(|(_, f)| *f)
        .map(|(h, _)| h.clone())
        .collect();
    Some((out, Removed { hosts, lines }))
}

/// Indexes of the forms a known_hosts line is for (empty: keep the line).
fn matching_forms(line: &[u8], forms: &[String]) -> Vec<usize> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Vec::new();
    };
    let line = line.trim_start_matches([' ', '\t']);
    if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
        return Vec::new();
    }
    let Some(hosts) = line.split([' ', '\t']).next() else {
        return Vec::new();
    };
    // A line needs a key after the hosts; a lone word is not an entry.
    if hosts.len() == line.trim_end().len() {
        return Vec::new();
    }
    if let Some(hashed) = hosts.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return Vec::new();
        };
        let (Some(salt), Some(hash)) = (
            crate::ssh::keys::base64_decode(salt),
            crate::ssh::keys::base64_decode(hash),
        ) else {
            return Vec::new();
        };
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        return (0..forms.len())
            .filter(|&i| hmac::verify(&key, forms[i].as_bytes(), &hash).is_ok())
            .collect();
    }
    let patterns: Vec<String> = hosts.split(',').map(canonical).collect();
    (0..forms.len())
        .filter(|&i| patterns.contains(&canonical(&forms[i])))
        .collect()
}

/// A host pattern in one spelling: IP addresses in their standard form (so
/// `2001:DB8:0::1` and `2001:db8::1` are the same), anything else lower case.
fn canonical(pattern: &str) -> String {
    if let Some(rest) = pattern.strip_prefix('[') {
        if let Some((host, port)) = rest.split_once("]:") {
            if let (Ok(ip), Ok(port)) = (host.parse::<IpAddr>(), port.parse::<u16>()) {
                return format!("[{ip}]:{port}");
            }
        }
    }
    match pattern.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => pattern.to_ascii_lowercase(),
    }
}

/// Remove the entries for `forms` from the file at `path`. A missing file is fine (nothing
/// removed). When something is removed, the old file is kept as `<path>.old` and the new
/// one written atomically with the old file's mode.
///
/// The file is compared with what was read just before it is replaced: when another
/// program (an `ssh` that just connected) changed it meanwhile, it is read and edited
/// again, once; a second change leaves it as it is (an error), never losing a line.
pub fn remove(path: &Path, forms: &[String]) -> io::Result<Removed> {
    let mut text = match fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Removed::default()),
        Err(e) => return Err(e),
    };
    for _ in 0..2 {
        let Some((new, removed)) = remove_from_text(&text, forms) else {
            return Ok(Removed::default());
        };
        let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
        crate::fsutil::write_atomic(&backup_path(path), &text, Some(mode))?;
        match crate::fsutil::replace_if_unchanged(path, &text, &new, None)? {
            Replaced::Done => return Ok(removed),
            Replaced::Changed(now) => text = now,
        }
    }
    Err(io::Error::other(
        "the file changed twice while pegasus was editing it; it was left as it is",
    ))
}

/// `home/.ssh/known_hosts`, made when missing before the first `ssh` (SPEC §4 step 11):
/// `.ssh` with mode 0700, the file with 0600 from its first byte, each owned by the owner
/// and group of `home` (a run under `sudo` with the user's `HOME` leaves nothing owned by
/// root). What exists is left as it is.
pub fn ensure(home: &Path) -> io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    let owner = fs::metadata(home)?;
    let give = |path: &Path| -> io::Result<()> {
        let meta = fs::symlink_metadata(path)?;
        if (meta.uid(), meta.gid()) != (owner.uid(), owner.gid()) {
            std::os::unix::fs::chown(path, Some(owner.uid()), Some(owner.gid()))?;
        }
        Ok(())
    };
    let dir = home.join(".ssh");
    match fs::DirBuilder::new().mode(0o700).create(&dir) {
        Ok(()) => give(&dir)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let file = dir.join("known_hosts");
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&file)
    {
        Ok(_) => give(&file)?,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    Ok(file)
}

/// `known_hosts.old` beside `known_hosts`, as ssh-keygen names it.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".old");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_makes_what_is_missing_and_keeps_what_is_there() {
        let home = tempfile::tempdir().unwrap();
        let file = ensure(home.path()).unwrap();
        assert_eq!(file, home.path().join(".ssh/known_hosts"));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.path().join(".ssh")), 0o700);
        assert_eq!(mode(&file), 0o600);
        fs::write(&file, "kept\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        ensure(home.path()).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "kept\n");
        assert_eq!(mode(&file), 0o644);
    }

    /// As under `sudo` with the user's HOME: what is made belongs to HOME's owner. Only
    /// root can give files away; for another user this test has nothing to check.
    #[test]
    fn ensure_gives_what_it_makes_to_the_owner_of_home() {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            return;
        }
        let home = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(home.path(), Some(4321), Some(4322)).unwrap();
        let file = ensure(home.path()).unwrap();
        for p in [home.path().join(".ssh"), file] {
            let m = fs::metadata(&p).unwrap();
            assert_eq!((m.uid(), m.gid()), (4321, 4322), "{}", p.display());
        }
    }

    /// `|1|salt|hash` for `host`, as ssh-keygen -H writes it.
    fn hashed(host: &str, salt: &[u8]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, salt);
        let tag = hmac::sign(&key, host.as_bytes());
        format!("|1|{}|{}", b64(salt), b64(tag.as_ref()))
    }

    fn b64(data: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for c in data.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    }

    fn forms(port: u16) -> Vec<String> {
        let ips: Vec<IpAddr> = vec![
            "203.0.113.10".parse().unwrap(),
            "2001:db8:1::1".parse().unwrap(),
        ];
        host_forms(&ips, port)
    }

    #[test]
    fn forms_for_ports() {
        assert_eq!(forms(22), ["203.0.113.10", "2001:db8:1::1"]);
        assert_eq!(
            forms(2222),
            [
                "203.0.113.10",
                "[203.0.113.10]:2222",
                "2001:db8:1::1",
                "[2001:db8:1::1]:2222"
            ]
        );
    }

    #[test]
    fn real_ssh_keygen_hashes_match() {
        // Made by `ssh-keygen -H` (OpenSSH 9.2) from "203.0.113.10 ..." and
        // "[203.0.113.10]:2222 ..." lines.
        let plain = "|1|iheBZ5psTbq10ZRPLoZooK5A/Ic=|EqibDCqM6BSks52USF8N/mfapLo= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
        let port = "|1|zFM/1GTwTE1O+e2rr/Lnklj7ZV4=|uHjmf5IuWuTHJgP82VtIF+y87zk= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
        assert_eq!(matching_forms(plain.as_bytes(), &forms(2222)), [0]);
        assert_eq!(matching_forms(port.as_bytes(), &forms(2222)), [1]);
        assert!(matching_forms(port.as_bytes(), &forms(22)).is_empty());
        assert!(matching_forms(plain.as_bytes(), &["203.0.113.11".to_string()]).is_empty());
        // And the test helper hashes the same way.
        let ours = format!(
            "{} k AAAA\n",
            hashed("203.0.113.10", b"0123456789abcdefghij")
        );
        assert_eq!(matching_forms(ours.as_bytes(), &forms(22)), [0]);
    }

    #[test]
    fn removes_plain_hashed_and_bracketed_and_keeps_the_rest() {
        let text = format!(
            "# my hosts\r\n\
             github.com ssh-ed25519 AAAAgithub\n\
             203.0.113.10 ssh-ed25519 AAAAold\n\
             web.example.com,203.0.113.10 ecdsa-sha2-nistp256 AAAAold2\n\
             {} ssh-ed25519 AAAAhashed\n\
             {} ssh-ed25519 AAAAother\n\
             [203.0.113.10]:2222 ssh-ed25519 AAAAport\n\
             [203.0.113.10]:2200 ssh-ed25519 AAAAotherport\n\
             2001:DB8:1:0::1 ssh-rsa AAAAv6\n\
             @cert-authority 203.0.113.10 ssh-ed25519 AAAAca\n\
             203.0.113.100 ssh-ed25519 AAAAnear\n\
             *.example.com ssh-ed25519 AAAAwild\n\
             \t  \n\
             last-line-without-newline ssh-ed25519 AAAA",
            hashed("[203.0.113.10]:2222", b"salt-one-salt-one-sa"),
            hashed("198.51.100.7", b"salt-two-salt-two-sa"),
        );
        let (new, removed) = remove_from_text(text.as_bytes(), &forms(2222)).unwrap();
        let new = String::from_utf8(new).unwrap();
        assert_eq!(removed.lines, 5);
        assert_eq!(
            removed.hosts,
            ["203.0.113.10", "[203.0.113.10]:2222", "2001:db8:1::1"]
        );
        let kept: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|l| {
                !l.contains("AAAAold")
                    && !l.contains("AAAAhashed")
                    && !l.contains("AAAAport")
                    && !l.contains("AAAAv6")
            })
            .collect();
        assert_eq!(new, kept.concat());
        assert!(new.starts_with("# my hosts\r\n"));
        assert!(
            new.contains("AAAAotherport") && new.contains("AAAAca") && new.contains("AAAAnear")
        );
    }

    #[test]
    fn nothing_to_remove() {
        let text = b"github.com ssh-ed25519 AAAA\n\xff\xfe not utf8\n";
        assert_eq!(remove_from_text(text, &forms(22)), None);
    }

    #[test]
    fn file_round_trip_keeps_mode_and_backup() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("known_hosts");
        assert_eq!(remove(&p, &forms(22)).unwrap(), Removed::default());
        assert!(!p.exists());
        let text = "a ssh-ed25519 A\n203.0.113.10 ssh-ed25519 B\n";
        fs::write(&p, text).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        let r = remove(&p, &forms(22)).unwrap();
        assert_eq!(r.lines, 1);
        assert_eq!(fs::read_to_string(&p).unwrap(), "a ssh-ed25519 A\n");
        assert_eq!(fs::read_to_string(backup_path(&p)).unwrap(), text);
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // A second run finds nothing and leaves the backup alone.
        assert_eq!(remove(&p, &forms(22)).unwrap(), Removed::default());
        assert_eq!(fs::read_to_string(backup_path(&p)).unwrap(), text);
    }
}
