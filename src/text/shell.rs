//! Words for a command line a person pastes into a shell: the pick-up and destroy
//! commands after a failure, key paths in hints.
//!
//! Quoting is for POSIX `sh` (and works the same in bash, zsh and fish): a word of
//! plain characters (`A-Z a-z 0-9 _ . / : @ , + = -`, not starting with `=`) stays bare;
//! anything else goes in single quotes, a quote as `'\''`. Characters that a terminal
//! would not show as themselves (control characters but the newline, line and paragraph
//! separators, bidirectional overrides), a backslash, and bytes that are not UTF-8 are
//! written as `"$(printf '\NNN')"` (octal bytes), so the printed line never carries a
//! raw escape sequence and means the same in every one of those shells. A newline stays
//! a newline inside the quotes (a command substitution would drop it).

use std::ffi::{OsStr, OsString};

/// The words, each quoted, joined by spaces.
pub fn shell_line(words: &[OsString]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One word for POSIX `sh` (see the module's notes): bare when plain, else single
/// quotes, with what a terminal would not show as itself written as octal bytes for
/// `printf`.
pub fn shell_quote(word: &OsStr) -> String {
    let bytes = word.as_encoded_bytes();
    let bare = |b: &u8| b.is_ascii_alphanumeric() || b"_./:@,+=-".contains(b);
    if !bytes.is_empty() && bytes.iter().all(bare) && bytes[0] != b'=' {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut q = Quoted::default();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if shown_as_itself(c) {
                q.char(c);
            } else {
                let mut buf = [0u8; 4];
                q.bytes(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        q.bytes(chunk.invalid());
    }
    q.finish()
}

/// Whether a character may stand in the printed command as itself: not a control
/// character (but the newline), not a line or paragraph separator, not a bidirectional
/// control (it would show the command in another order than it runs), not a backslash
/// (fish reads `\\` and `\'` inside single quotes).
fn shown_as_itself(c: char) -> bool {
    let bidi = matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    c == '\n' || !(c.is_control() || bidi || matches!(c, '\u{2028}' | '\u{2029}' | '\\'))
}

/// A quoted word being built.
#[derive(Default)]
struct Quoted {
    out: String,
    /// Inside `'…'`.
    open: bool,
    /// Bytes for the next `printf`.
    pending: Vec<u8>,
}

impl Quoted {
    fn char(&mut self, c: char) {
        self.flush();
        if c == '\'' {
            self.close();
            self.out.push_str("\\'");
            return;
        }
        if !self.open {
            self.out.push('\'');
            self.open = true;
        }
        self.out.push(c);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.close();
            self.pending.extend_from_slice(bytes);
        }
    }

    /// The pending bytes as `"$(printf '\NNN…')"`.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.out.push_str("\"$(printf '");
        for b in self.pending.drain(..) {
            self.out.push_str(&format!("\\{b:03o}"));
        }
        self.out.push_str("')\"");
    }

    fn close(&mut self) {
        if self.open {
            self.out.push('\'');
            self.open = false;
        }
    }

    fn finish(mut self) -> String {
        self.flush();
        self.close();
        if self.out.is_empty() {
            self.out.push_str("''");
        }
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn quoting() {
        let q = |s: &str| shell_quote(std::ffi::OsStr::new(s));
        assert_eq!(q("web1"), "web1");
        assert_eq!(q("env=prod"), "env=prod");
        assert_eq!(q("--ssh-port"), "--ssh-port");
        assert_eq!(q("../config/deploy.yml"), "../config/deploy.yml");
        assert_eq!(q(""), "''");
        assert_eq!(q("=x"), "'=x'");
        assert_eq!(q("~/x"), "'~/x'");
        assert_eq!(q("a b"), "'a b'");
        assert_eq!(q("it's"), "'it'\\''s'");
        assert_eq!(q("'x'"), "\\''x'\\'");
        assert_eq!(q("$HOME `id`"), "'$HOME `id`'");
        assert_eq!(q("é"), "'é'");
        assert_eq!(q("a\nb"), "'a\nb'");
        assert_eq!(q("a\x1bb"), "'a'\"$(printf '\\033')\"'b'");
        assert_eq!(q("a\\b"), "'a'\"$(printf '\\134')\"'b'");
        assert_eq!(q("\u{202e}"), "\"$(printf '\\342\\200\\256')\"");
        let bytes = std::ffi::OsStr::from_bytes(b"k\xff\xfe");
        assert_eq!(shell_quote(bytes), "'k'\"$(printf '\\377\\376')\"");
    }
}
