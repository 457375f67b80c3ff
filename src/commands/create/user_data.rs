//! `--user-data FILE` (SPEC §4 step 1): read and checked before any API call.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result, io_reason};

/// Hetzner's limit for `user_data`.
pub const MAX_BYTES: usize = 32 * 1024;

/// The file's text, or a usage error (exit 2): missing, unreadable, larger than 32 KiB,
/// or not UTF-8 text (the API takes a JSON string).
pub fn load(path: Option<&Path>) -> Result<Option<String>> {
    let Some(path) = path else {
        return Ok(None);
    };
    let shown = path.display();
    let bad = |why: String| Error::Invalid(format!("--user-data {shown}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| bad(io_reason(&e)))?;
    let mut bytes = Vec::new();
    file.take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(io_reason(&e)))?;
    if bytes.len() > MAX_BYTES {
        let size =
            std::fs::metadata(path).map_or(String::new(), |m| format!(" ({} bytes)", m.len()));
        return Err(bad(format!(
            "the file is larger than 32 KiB{size}, Hetzner's limit for user data ({MAX_BYTES} bytes)"
        )));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| {
        bad("not UTF-8 text; pass the cloud-init file itself, not a compressed one".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.yml");
        std::fs::write(&ok, "#cloud-config\n").unwrap();
        assert_eq!(load(Some(&ok)).unwrap().as_deref(), Some("#cloud-config\n"));
        let edge = dir.path().join("edge.yml");
        std::fs::write(&edge, "a".repeat(MAX_BYTES)).unwrap();
        assert_eq!(load(Some(&edge)).unwrap().map(|s| s.len()), Some(MAX_BYTES));
        let big = dir.path().join("big.yml");
        std::fs::write(&big, "a".repeat(MAX_BYTES + 1)).unwrap();
        let e = load(Some(&big)).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("32 KiB"), "{e}");
        let bin = dir.path().join("bin");
        std::fs::write(&bin, [0x1f, 0x8b, 0xff]).unwrap();
        assert_eq!(load(Some(&bin)).unwrap_err().exit_code(), 2);
        assert_eq!(
            load(Some(&dir.path().join("nope")))
                .unwrap_err()
                .exit_code(),
            2
        );
        assert_eq!(load(Some(dir.path())).unwrap_err().exit_code(), 2);
        assert_eq!(load(None).unwrap(), None);
    }
}
