//! ERB masking: Kamal renders `config/deploy.yml` with ERB before it parses the YAML, so the
//! raw file is a template. Every `<% … %>` tag is replaced by filler of the same byte length
//! (line breaks kept in place) so that the YAML parser sees a plain document whose byte
//! offsets and line numbers are those of the original text.
//!
//! Expression tags (`<%= … %>`) become `x` letters on their first line (a value stays a value,
//! a key stays a key); statement and comment tags (`<% %>`, `<%- -%>`, `<%# %>`) and the
//! continuation lines of any tag become spaces. `<%%` is ERB's escape for a literal `<%`.

use std::ops::Range;

/// The masked text and where the ERB tags were (byte ranges, same in both texts).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Masked {
    pub text: String,
    pub tags: Vec<Range<usize>>,
}

impl Masked {
    /// The first tag that overlaps `range` (an empty range counts as a point).
    pub fn tag_overlapping(&self, range: &Range<usize>) -> Option<Range<usize>> {
        let end = range.end.max(range.start + 1);
        self.tags
            .iter()
            .find(|tag| tag.start < end && range.start < tag.end)
            .cloned()
    }
}

/// Masks every ERB tag in `text` with same-length filler.
pub(crate) fn mask(text: &str) -> Masked {
    let tags = find_tags(text);
    if tags.is_empty() {
        return Masked {
            text: text.to_owned(),
            tags,
        };
    }
    let mut bytes = text.as_bytes().to_vec();
    for tag in &tags {
        let expression = text
            .get(tag.start..)
            .is_some_and(|rest| rest.starts_with("<%="));
        fill(&mut bytes, tag, expression);
    }
    // Only whole tags were overwritten, with ASCII, and tags start and end on ASCII bytes,
    // so the result is still UTF-8; fall back to the input rather than panic if it is not.
    let text = String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned());
    Masked { text, tags }
}

/// Byte ranges of the ERB tags, `<%` up to and including `%>` (or the end of the text when
/// a tag is never closed).
pub(crate) fn find_tags(text: &str) -> Vec<Range<usize>> {
    let mut tags = Vec::new();
    let mut pos = 0;
    while let Some(found) = text.get(pos..).and_then(|rest| rest.find("<%")) {
        let start = pos + found;
        if text
            .get(start + 2..)
            .is_some_and(|rest| rest.starts_with('%'))
        {
            pos = start + 3; // `<%%` is a literal `<%`
            continue;
        }
        let end = text
            .get(start + 2..)
            .and_then(|rest| rest.find("%>"))
            .map_or(text.len(), |close| start + 2 + close + 2);
        tags.push(start..end);
        pos = end;
    }
    tags
}

/// Overwrites one tag: `x` on the first line of an expression, spaces elsewhere; `\n` and
/// `\r` stay where they are.
fn fill(bytes: &mut [u8], tag: &Range<usize>, expression: bool) {
    let mut first_line = true;
    for byte in bytes.iter_mut().take(tag.end).skip(tag.start) {
        if *byte == b'\n' || *byte == b'\r' {
            first_line = false;
            continue;
        }
        *byte = if expression && first_line { b'x' } else { b' ' };
    }
}

/// The environment variable an ERB tag reads: `ENV.fetch("X")`, `ENV.fetch('X', …)`,
/// `ENV["X"]` or `ENV['X']`.
pub(crate) fn env_var(tag: &str) -> Option<&str> {
    ["ENV.fetch(", "ENV["].iter().find_map(|opener| {
        let at = tag.find(opener)?;
        let rest = tag.get(at + opener.len()..)?.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let body = rest.get(1..)?;
        let name = body.get(..body.find(quote)?)?;
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_expression_with_letters_and_statement_with_spaces() {
        let text = "a: <%= ENV[\"X\"] %>\n<% if y %>\nb: 1\n<% end %>\n";
        let masked = mask(text);
        assert_eq!(
            masked.text,
            "a: xxxxxxxxxxxxxxx\n          \nb: 1\n         \n"
        );
        assert_eq!(masked.tags, vec![3..18, 19..29, 35..44]);
    }

    #[test]
    fn mask_keeps_length_and_line_breaks_in_multiline_tags() {
        let text = "a: 1\r\n<%# note\r\n  more -%>\r\nb: <%= f(\n 1) %> # c\n";
        let masked = mask(text);
        assert_eq!(masked.text.len(), text.len());
        assert_eq!(
            masked.text,
            "a: 1\r\n        \r\n          \r\nb: xxxxxx\n       # c\n"
        );
    }

    #[test]
    fn mask_replaces_non_ascii_inside_tags_byte_for_byte() {
        let text = "k: <%= \"é—\" %> ü\n";
        let masked = mask(text);
        assert_eq!(masked.text.len(), text.len());
        assert!(masked.text.starts_with("k: xxxxxxxxxxxxx"));
        assert!(masked.text.ends_with(" ü\n"));
    }

    #[test]
    fn literal_percent_escape_and_unclosed_tag() {
        assert!(find_tags("a: <%% b %>").is_empty());
        assert_eq!(find_tags("a: 1\n<%= oops\nb: 2"), vec![5..18]);
        assert_eq!(mask("a: <%= x").text, "a: xxxxx");
    }

    #[test]
    fn tag_overlap_checks_ranges_and_points() {
        let masked = mask("a: <%= x %>\n");
        assert_eq!(masked.tag_overlapping(&(3..11)), Some(3..11));
        assert_eq!(masked.tag_overlapping(&(10..10)), Some(3..11));
        assert_eq!(masked.tag_overlapping(&(0..3)), None);
        assert_eq!(masked.tag_overlapping(&(11..12)), None);
    }

    #[test]
    fn finds_env_variable_names() {
        assert_eq!(
            env_var("<%= ENV.fetch(\"KAMAL_HOST\") %>"),
            Some("KAMAL_HOST")
        );
        assert_eq!(
            env_var("<%= ENV.fetch('SCOUT_EC2_IP') %>"),
            Some("SCOUT_EC2_IP")
        );
        assert_eq!(
            env_var("<%= ENV[\"PRODUCTION_HOST\"] %>"),
            Some("PRODUCTION_HOST")
        );
        assert_eq!(env_var("<%= ENV['H'] || 'x' %>"), Some("H"));
        assert_eq!(env_var("<%= ENV.fetch( \"A\", \"1.2.3.4\") %>"), Some("A"));
        assert_eq!(env_var("<%= host %>"), None);
        assert_eq!(env_var("<%= ENV[name] %>"), None);
        assert_eq!(env_var("<%= ENV[\"bad name\"] %>"), None);
    }
}
