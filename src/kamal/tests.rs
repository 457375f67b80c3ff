//! Unit tests of the public API on small inline texts, plus a no-panic check that throws
//! truncated and mutated corpus text at every entry point.

use super::*;
use refs::names;

const IP: &str = "203.0.113.10";

fn updated(text: &str, host: &str) -> (String, Vec<Change>) {
    match edit(text, host) {
        Ok(Edit::Updated { text, changes, .. }) => (text, changes),
        other => panic!("expected Updated, got {other:?}"),
    }
}

#[test]
fn replaces_single_host_and_same_valued_hosts() {
    let text = "servers:\n  web:\n    - 1.2.3.4\n  job:\n    hosts: [1.2.3.4, 9.9.9.9]\naccessories:\n  db:\n    host: 1.2.3.4\n";
    let (new, changes) = updated(text, IP);
    assert_eq!(new, text.replace("1.2.3.4", IP));
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "servers.web[0]",
            "servers.job.hosts[0]",
            "accessories.db.host"
        ]
    );
    assert_eq!(edit(&new, IP), Ok(Edit::Unchanged));
}

#[test]
fn parse_error_has_line_and_column() {
    let error = check("a: 1\nb: [\n  c: d: e\n").err();
    let error = error.unwrap_or_else(|| panic!("expected an error"));
    assert_eq!(error.line, 3);
    assert!(error.col >= 1);
    assert!(error.to_string().starts_with("line 3, column "));
    let nul = check("a: 1\nb: x\0y\n").err().map(|e| (e.line, e.col));
    assert_eq!(nul, Some((2, 5)));
}

#[test]
fn names_respects_host_boundaries() {
    assert!(names("ssh://root@1.2.3.4", "1.2.3.4"));
    assert!(names("1.2.3.4:5000", "1.2.3.4"));
    assert!(!names("11.2.3.4", "1.2.3.4"));
    assert!(!names("1.2.3.45", "1.2.3.4"));
    assert!(names("[2001:db8::1]:22", "2001:db8::1"));
    assert!(!names("2001:db8::12", "2001:db8::1"));
}

#[test]
fn the_safety_net_refuses_a_splice_that_changes_more() {
    let text = "servers:\n  - 1.2.3.4 # a\nother: x\n";
    let source = Source::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let expected = Expectation {
        old: &source.doc.events,
        replaced: vec![(5, IP, TScalarStyle::Plain)],
        appended: None,
    };
    let good = Splice {
        range: 13..20,
        text: IP.to_owned(),
        scalar_at: 0,
    };
    let result = source.splice_and_verify(std::slice::from_ref(&good), &expected);
    assert_eq!(
        result.as_deref(),
        Some("servers:\n  - 203.0.113.10 # a\nother: x\n")
    );
    let greedy = Splice {
        range: 13..25,
        ..good.clone()
    };
    assert_eq!(source.splice_and_verify(&[greedy], &expected), None);
    let extra = Splice {
        range: 32..33,
        text: "y".to_owned(),
        scalar_at: 0,
    };
    assert_eq!(source.splice_and_verify(&[good, extra], &expected), None);
}

#[test]
fn rejects_a_bad_new_host() {
    let text = "servers:\n  - 1.2.3.4\n";
    assert!(matches!(edit(text, ""), Ok(Edit::Manual { .. })));
    assert!(matches!(edit(text, "a b"), Ok(Edit::Manual { .. })));
}

/// Deterministic pseudo-random numbers (xorshift), so the test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % 1_000_000).unwrap_or(0)
    }
}

const SNIPPETS: &[&str] = &[
    "\n", "\r\n", "\r", "\t", " ", "-", "- ", ":", ": ", "[", "]", "{", "}", ",", "'", "\"", "#",
    "&a ", "*a", "<<: ", "|", ">", "<%", "%>", "<%= x %>", "\u{feff}", "é", "—", "---\n", "? ",
    "!!str ", "\\", "\0", "web:", "hosts:", "servers:",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..=rng.next() % 4 {
        if chars.is_empty() {
            break;
        }
        let at = rng.next() % chars.len();
        match rng.next() % 3 {
            0 => {
                chars.remove(at);
            }
            1 => {
                let snippet = SNIPPETS[rng.next() % SNIPPETS.len()];
                for (i, c) in snippet.chars().enumerate() {
                    chars.insert(at + i, c);
                }
            }
            _ => chars.truncate(at),
        }
    }
    chars.into_iter().collect()
}

fn exercise(text: &str) {
    let _ = check(text);
    for host in [IP, "2001:db8:1::1"] {
        if let Ok(Edit::Updated {
            text: new, changes, ..
        }) = edit(text, host)
        {
            assert!(!changes.is_empty());
            assert_ne!(new, text);
            assert!(check(&new).is_ok());
        }
    }
    let _ = references(text, "1.1.1.1");
    if let Ok(config) = Config::parse(text) {
        let _ = config.web_hosts();
        for mode in [Mode::Append, Mode::Replace] {
            if let Edit::Updated { text: new, .. } = config.edit(IP, Some(mode)) {
                assert!(check(&new).is_ok());
            }
        }
    }
    let _ = host_lines(text, &[]);
    let _ = super::ssh::read(text);
}

#[test]
fn never_panics_on_mutated_corpus_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/kamal");
    let skip = std::env::var_os("PEGASUS_SKIP_CORPUS").is_some_and(|v| v == "1");
    assert!(
        skip || dir.is_dir(),
        "{} not found (set PEGASUS_SKIP_CORPUS=1 to skip the corpus)",
        dir.display()
    );
    let mut texts: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .collect();
    texts.push("servers:\n  web:\n    - 1.1.1.1: [a, b]\n    - \"1.1.1.2\"\n  job: &j [1.1.1.1]\naccessories: {db: {host: *j}}\n".to_owned());
    texts.extend([
        String::new(),
        "\u{feff}".to_owned(),
        "\0\u{1}\u{2}binary\u{fffd}".to_owned(),
    ]);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for text in &texts {
        exercise(text);
        for _ in 0..60 {
            exercise(&mutate(&mut rng, text));
        }
    }
}

fn summary(text: &str, mode: Option<Mode>) -> Summary {
    let config = Config::parse(text).unwrap_or_else(|e| panic!("{e}"));
    match config.edit(IP, mode) {
        Edit::Updated { summary, .. } => summary,
        other => panic!("expected Updated, got {other:?}"),
    }
}

const PEGASUS_LIKE: &str = "servers:\n  web:\n    hosts: [1.2.3.4]\n  celery:\n    hosts: [1.2.3.4]\n  beat: {hosts: [9.9.9.9]}\naccessories:\n  postgres: {host: 1.2.3.4}\n  redis: {host: 1.2.3.4}\n  search: {hosts: [9.9.9.9]}\n";

#[test]
fn summaries_name_what_moved_and_what_stayed() {
    let replaced = summary(PEGASUS_LIKE, None);
    assert_eq!(replaced.mode, Mode::Replace);
    assert_eq!(replaced.replaced.as_deref(), Some("1.2.3.4"));
    assert_eq!(replaced.roles, ["web", "celery"]);
    assert_eq!(replaced.accessories, ["postgres", "redis"]);
    let appended = summary(PEGASUS_LIKE, Some(Mode::Append));
    assert_eq!(appended.mode, Mode::Append);
    assert_eq!(appended.replaced, None);
    assert_eq!(appended.previous.as_deref(), Some("1.2.3.4"));
    assert_eq!(appended.web_path, "servers.web.hosts");
    assert_eq!(appended.web_hosts, 2);
    assert_eq!(appended.roles, ["celery"]);
    assert_eq!(appended.accessories, ["postgres", "redis"]);
    let several = summary("servers: [a, b]\naccessories: {db: {host: a}}\n", None);
    assert_eq!((several.mode, several.web_hosts), (Mode::Append, 3));
    assert!(several.previous.is_none() && several.accessories.is_empty());
}

#[test]
fn web_hosts_come_from_the_primary_role() {
    let config = Config::parse("primary_role: app\nservers:\n  web: [9.9.9.9]\n  app:\n    hosts:\n      - \"1.2.3.4\"\n      - <%= ENV['H'] %>\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.web_hosts(),
        Some(WebHosts {
            path: "servers.app.hosts".into(),
            hosts: vec![Some("1.2.3.4".into()), None],
        })
    );
    let plain = Config::parse("servers:\n  web: [9.9.9.9]\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plain.web_hosts().map(|w| w.path),
        Some("servers.web".to_owned())
    );
}

#[test]
fn host_lines_for_a_file_that_does_not_parse() {
    let text = "# - 1.2.3.4 old\nservers:\n  web:\n    - 1.2.3.4\n  bad: [\naccessories:\n  db:\n    host: 1.2.3.4 # same box\n";
    let hosts = ["1.2.3.4".to_owned()];
    let lines: Vec<usize> = host_lines(text, &hosts).iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, [4, 8]);
    let unknown = host_lines("servers:\n  - <IP-ADDRESS>\nimage: x\n", &[]);
    assert_eq!(unknown, [(2, "- <IP-ADDRESS>".to_owned())]);
}
