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

    /// Same key (type and blob)?
    pub fn same_key(&self, other: &PublicKey) -> bool {
        self.kind == other.kind && self.blob == other.blob
    }

    /// The fingerprint as OpenSSH prints it: `SHA256:` and the unpadded base64 of the
    /// SHA-256 of the key blob.
    pub fn fingerprint(&self) -> String {
        let blob = base64_decode(&self.blob).unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, &blob);
        format!("SHA256:{}", base64_encode(digest.as_ref()))
    }

    /// The private key that goes with this public key: `X` beside `X.pub` (or the file
    /// itself for a key derived from its private key with `ssh-keygen -y`), when it exists.
    pub fn private_key(&self) -> Option<PathBuf> {
        let name = self.path.file_name()?.to_str()?;
        let private = match name.strip_suffix(".pub") {
            Some(stem) if !stem.is_empty() => self.path.with_file_name(stem),
            Some(_) => return None,
            None => self.path.clone(),
        };
        private.is_file().then_some(private)
    }
}

/// Why the public half of a private key could not be had.
#[derive(Debug, PartialEq)]
pub enum HalfError {
    /// The private key file does not exist.
    Missing,
    /// No `KEY.pub`, and `ssh-keygen -y` could not derive it: why, in words (its first
    /// line of output, unescaped).
    Underivable(String),
}

/// The public half of the private key `key`: `KEY.pub` when it holds a public key, else
/// what `ssh-keygen -y -P '' -f KEY` prints (which never prompts: a key with a passphrase
/// fails). `ssh-keygen` runs at most 10 s, and a signal ends it.
pub fn public_half(key: &Path) -> Result<std::result::Result<PublicKey, HalfError>> {
    if !key.is_file() {
        return Ok(Err(HalfError::Missing));
    }
    let mut pub_path = key.as_os_str().to_owned();
    pub_path.push(".pub");
    if let Ok(k) = read_key(Path::new(&pub_path)) {
        return Ok(Ok(k));
    }
    let mut cmd = std::process::Command::new("ssh-keygen");
    cmd.args(["-y", "-P", "", "-f"]).arg(key);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let why = match crate::process::child::run(&mut cmd, deadline, &mut |_| {})? {
        crate::process::child::Outcome::NotFound => "ssh-keygen is not installed".to_string(),
        crate::process::child::Outcome::NotStarted(e) => {
            format!(
                "ssh-keygen could not start: {}",
                crate::error::io_reason(&e)
            )
        }
        crate::process::child::Outcome::Ran(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            if out.code() == Some(0) {
                if let Some((kind, blob, comment)) = parse_line(&text) {
                    return Ok(Ok(PublicKey {
                        path: key.to_path_buf(),
                        kind,
                        blob,
                        comment,
                    }));
                }
            }
            let said = String::from_utf8_lossy(&out.stderr);
            match said.lines().map(str::trim).find(|l| !l.is_empty()) {
                Some(line) => format!("ssh-keygen -y: {line}"),
                None if out.status.is_none() => "ssh-keygen -y did not finish".into(),
                None => "ssh-keygen -y failed".into(),
            }
        }
    };
    Ok(Err(HalfError::Underivable(why)))
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
    crate::sort::sort(&mut paths);
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

/// Standard base64 without padding (OpenSSH's fingerprints).
pub fn base64_encode(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
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

    const FIXTURE_FINGERPRINT: &str = "SHA256:lv94zkFTn3FDscjPrx3f09DHEkL+VXt4X7E5Rhg6QLM";

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
    fn fingerprint_as_openssh_prints_it() {
        let k = read_key(&crate_fixture("keys/id_ed25519.pub")).unwrap();
        // `ssh-keygen -lf fixtures/keys/id_ed25519.pub`
        assert_eq!(k.fingerprint(), FIXTURE_FINGERPRINT);
        assert_eq!(base64_encode(b"hello"), "aGVsbG8");
        assert_eq!(base64_encode(b"hi!"), "aGkh");
        assert_eq!(base64_encode(b""), "");
    }

    fn crate_fixture(rel: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(rel)
    }

    #[test]
    fn the_public_half_of_a_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("id_kamal");
        assert_eq!(public_half(&key).unwrap(), Err(HalfError::Missing));
        // Beside it, a .pub: read, never derived.
        fs::write(&key, "not read\n").unwrap();
        fs::write(dir.path().join("id_kamal.pub"), format!("{ED} k\n")).unwrap();
        let half = public_half(&key).unwrap().unwrap();
        assert_eq!(
            (half.blob.as_str(), half.stem()),
            (&ED[12..], "id_kamal".into())
        );
        assert_eq!(half.private_key(), Some(key.clone()));
        // No .pub and not a key: ssh-keygen (when installed) says why.
        fs::remove_file(dir.path().join("id_kamal.pub")).unwrap();
        let Err(HalfError::Underivable(why)) = public_half(&key).unwrap() else {
            panic!("derived a key from nonsense");
        };
        assert!(why.starts_with("ssh-keygen"), "{why}");
    }

    #[test]
    fn free_names() {
        assert_eq!(free_name("id_ed25519", &["other"]), "id_ed25519");
        assert_eq!(free_name("id", &["id", "id-2"]), "id-3");
    }
}
