//! Text from outside the program (the API, files, the environment) made safe to show.
//! At the bottom of the crate: the error type, the HTTP layer and the screen all use it.

use std::borrow::Cow;

pub mod hostname;

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
}
