//! Local SSH public keys: reading one file, scanning `~/.ssh/*.pub`, and comparing
//! keys by type and blob (the comment and whitespace do not matter).
//!
//! A private key is recognised from its first bytes and refused; the rest of the file is
//! never read, and nothing of it is sent anywhere.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Public key files are small; anything larger is not one.
const MAX_KEY_FILE: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub struct PublicKey {
    pub path: PathBuf,
    pub kind: String,
    pub blob: String,
    pub comment: Option<String>,
}

impl PublicKey {
    /// The key as one line, `type blob [comment]`, for uploading.
    pub fn line(&self) -> String {
        match &self.comment {
            Some(c) => format!("{} {} {c}", self.kind, self.blob),
            None => format!("{} {}", self.kind, self.blob),
        }
    }

    /// The file name without `.pub`: the name the key gets on Hetzner (`id_ed25519`).
    pub fn stem(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let stem = name.strip_suffix(".pub").unwrap_or(&name);
        if stem.is_empty() {
            "pegasus".into()
        } else {
            stem.to_string()
        }
    }

    /// Same key as an authorized_keys line (as Hetzner returns it)?
    pub fn matches(&self, line: &str) -> bool {
        matches!(parse_line(line), Some((kind, blob, _)) if kind == self.kind && blob == self.blob)
    }
}

/// What is wrong with a file that should hold a public key.
#[derive(Debug, PartialEq)]
pub enum Rejected {
    Private,
    Unparsable,
}

/// Parse `<type> <base64> [comment]`. The blob must be base64 that starts with the
/// same key type, as every OpenSSH public key does.
pub fn parse_line(text: &str) -> Option<(String, String, Option<String>)> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let mut parts = line.split_whitespace();
    let kind = parts.next()?;
    let blob = parts.next()?;
    let comment: Vec<&str> = parts.collect();
    let decoded = base64_decode(blob)?;
    let len = u32::from_be_bytes(decoded.get(..4)?.try_into().ok()?) as usize;
    if decoded.get(4..4 + len)? != kind.as_bytes() {
        return None;
    }
    let comment = (!comment.is_empty()).then(|| comment.join(" "));
    Some((kind.to_string(), blob.to_string(), comment))
}

/// Read a key file. Refuses private keys after reading only their first line.
pub fn read_key(path: &Path) -> std::result::Result<PublicKey, ReadError> {
    let file = fs::File::open(path).map_err(ReadError::Io)?;
    let mut text = String::new();
    // Read a bounded prefix only: enough for any public key, and the start of a private one.
    let mut limited = file.take(MAX_KEY_FILE + 1);
    let mut buf = [0u8; 64];
    let n = read_up_to(&mut limited, &mut buf).map_err(ReadError::Io)?;
    let head = String::from_utf8_lossy(&buf[..n]);
    if head.trim_start().starts_with("-----BEGIN") || head.contains("PRIVATE KEY") {
        return Err(ReadError::Rejected(Rejected::Private));
    }
    let mut rest = Vec::new();
    limited.read_to_end(&mut rest).map_err(ReadError::Io)?;
    if (n + rest.len()) as u64 > MAX_KEY_FILE {
        return Err(ReadError::Rejected(Rejected::Unparsable));
    }
    let mut bytes = buf[..n].to_vec();
    bytes.extend(rest);
    text.push_str(&String::from_utf8_lossy(&bytes));
    match parse_line(&text) {
        Some((kind, blob, comment)) => Ok(PublicKey {
            path: path.to_path_buf(),
            kind,
            blob,
            comment,
        }),
        None => Err(ReadError::Rejected(Rejected::Unparsable)),
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Rejected(Rejected),
}

/// The file named by `--ssh-key`: missing, private or unparsable is a usage error.
pub fn load_named(path: &Path) -> Result<PublicKey> {
    let shown = path.display();
    match read_key(path) {
        Ok(k) => Ok(k),
        Err(ReadError::Io(e)) => Err(Error::Invalid(format!(
            "--ssh-key {shown}: {}",
            crate::error::io_reason(&e)
        ))),
        Err(ReadError::Rejected(Rejected::Private)) => Err(Error::Invalid(format!(
            "--ssh-key {shown} is a private key; pass the public key ({shown}.pub) instead. \
             Nothing was read beyond its first line or sent anywhere."
        ))),
        Err(ReadError::Rejected(Rejected::Unparsable)) => Err(Error::Invalid(format!(
            "--ssh-key {shown} is not an SSH public key (expected one line: <type> <base64> [comment])"
        ))),
    }
}

/// `~/.ssh/*.pub`, sorted by file name, without certificates and unparsable files.
pub fn scan(ssh_dir: &Path) -> Result<Vec<PublicKey>> {
    let entries = match fs::read_dir(ssh_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("cannot read {}", ssh_dir.display()), e)),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(".pub") && !name.ends_with("-cert.pub") && p.is_file()
        })
        .collect();
    paths.sort();
    Ok(paths.iter().filter_map(|p| read_key(p).ok()).collect())
}

/// The first of `stem`, `stem-2`, `stem-3`, ... not in `taken`.
pub fn free_name(stem: &str, taken: &[&str]) -> String {
    if !taken.contains(&stem) {
        return stem.to_string();
    }
    (2..)
        .map(|n| format!("{stem}-{n}"))
        .find(|candidate| !taken.contains(&candidate.as_str()))
        .unwrap_or_else(|| stem.to_string())
}

/// Standard base64 with padding (what OpenSSH writes). `None` if it is not.
pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() || s.len() % 4 != 0 {
        return None;
    }
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = s.as_bytes();
    let pad = bytes.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        let mut count = 0;
        for &c in chunk {
            if c == b'=' {
                n <<= 6;
            } else {
                n = (n << 6) | value(c)?;
                count += 1;
            }
        }
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&decoded[..count.max(1) - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIccHCW76xx2rrPAUrjnuT6IjpEF1O+/U4IByVgv99Oi";

    #[test]
    fn parses_and_compares_ignoring_comment() {
        let (kind, blob, comment) = parse_line(&format!("{ED} me@laptop\n")).unwrap();
        assert_eq!(kind, "ssh-ed25519");
        assert_eq!(comment.as_deref(), Some("me@laptop"));
        let k = PublicKey {
            path: "/h/.ssh/id_ed25519.pub".into(),
            kind,
            blob,
            comment,
        };
        assert!(k.matches(&format!("  {ED}   other comment ")));
        assert!(!k.matches("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ== x"));
        assert_eq!(k.stem(), "id_ed25519");
        assert_eq!(k.line(), format!("{ED} me@laptop"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-ed25519 not!base64",
            "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIIccHCW76xx2rrPAUrjnuT6IjpEF1O+/U4IByVgv99Oi",
            "hello world",
        ] {
            assert_eq!(parse_line(bad), None, "{bad}");
        }
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGV5").unwrap(), b"hey");
        assert_eq!(base64_decode("a==="), None);
    }

    #[test]
    fn private_keys_refused_and_files_scanned_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(
            p.join("id_ed25519"),
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n",
        )
        .unwrap();
        fs::write(p.join("b.pub"), format!("{ED} b\n")).unwrap();
        fs::write(p.join("a.pub"), format!("{ED} a\n")).unwrap();
        fs::write(p.join("a-cert.pub"), format!("{ED} cert\n")).unwrap();
        fs::write(p.join("junk.pub"), "nonsense\n").unwrap();
        let keys = scan(p).unwrap();
        let names: Vec<String> = keys.iter().map(PublicKey::stem).collect();
        assert_eq!(names, ["a", "b"]);
        let e = load_named(&p.join("id_ed25519")).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("is a private key"), "{e}");
        let e = load_named(&p.join("junk.pub")).unwrap_err();
        assert!(e.to_string().contains("is not an SSH public key"), "{e}");
        let e = load_named(&p.join("missing.pub")).unwrap_err();
        assert!(e.to_string().contains("no such file"), "{e}");
        assert!(scan(&p.join("nope")).unwrap().is_empty());
    }

    #[test]
    fn free_names() {
        assert_eq!(free_name("id_ed25519", &["other"]), "id_ed25519");
        assert_eq!(free_name("id", &["id", "id-2"]), "id-3");
    }
}
