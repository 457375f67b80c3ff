//! Text from outside the program (the API, files, the environment) made safe to show.
//! At the bottom of the crate: the error type, the HTTP layer and the screen all use it.

use std::borrow::Cow;

pub mod hostname;
pub mod shell;

/// Text from the API or from a file, made safe for a terminal (SPEC §8): control
/// characters (C0 but tab, DEL, C1, and line breaks) become visible escapes such as
/// `\x1b`, so a value can never move the cursor, set the title or fake a line. Apply
/// it to every API- or file-derived string in human output; JSON output escapes by itself.
pub fn escape(text: &str) -> Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}');
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if bad(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text that came from outside the program (an API answer, a file) and is shown as it
/// came: a name, a message, a description, a line of the Kamal file. Its only `Display`
/// is [`escape`]d (SPEC §7, §8), so printing it can never move the cursor, set the title
/// or fake a line; JSON output serialises the raw text (JSON escapes it by itself).
/// [`raw`](Untrusted::raw) is for comparing and for sending back to the API, never for a
/// terminal, a file or a shell.
#[derive(
    Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Untrusted(String);

impl Untrusted {
    pub fn new(text: impl Into<String>) -> Untrusted {
        Untrusted(text.into())
    }

    pub const fn empty() -> Untrusted {
        Untrusted(String::new())
    }

    /// The text as it came: for comparisons, JSON and requests, never for human output.
    pub fn raw(&self) -> &str {
        &self.0
    }

    pub fn into_raw(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(&escape(&self.0))
    }
}

impl std::fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

/// So a map keyed by `Untrusted` (labels) can be searched with a `&str`; the order,
/// equality and hash are `String`'s, as `Borrow` requires.
impl std::borrow::Borrow<str> for Untrusted {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Untrusted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Untrusted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Untrusted {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl From<&str> for Untrusted {
    fn from(s: &str) -> Untrusted {
        Untrusted(s.to_string())
    }
}

impl From<String> for Untrusted {
    fn from(s: String) -> Untrusted {
        Untrusted(s)
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_control_characters_only() {
        assert_eq!(escape("web1 ok\tfine é"), "web1 ok\tfine é");
        assert_eq!(
            escape("a\x1b[2Jb\x07\r\nc\u{9b}d\u{7f}"),
            "a\\x1b[2Jb\\x07\\r\\nc\\x9bd\\x7f"
        );
        assert_eq!(escape("x\u{2028}y"), "x\\u{2028}y");
        assert!(!escape("\x1b]0;title\x07").contains('\x1b'));
    }

    #[test]
    fn untrusted_text_prints_escaped_and_serialises_raw() {
        let t = super::Untrusted::new("web1\x1b]0;pwned\x07");
        assert_eq!(t.to_string(), "web1\\x1b]0;pwned\\x07");
        assert_eq!(format!("{t:>20}|"), "web1\\x1b]0;pwned\\x07|");
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"web1\\u001b]0;pwned\\u0007\""
        );
        assert_eq!(t, "web1\x1b]0;pwned\x07");
    }
}
