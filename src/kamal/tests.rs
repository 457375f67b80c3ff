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
        let _ = config.proxy_hosts();
        let _ = config
            .section(&["ssh"])
            .map(|s| (s.keys(), s.scalar(), s.items().len()));
        let roles = config.roles();
        let mut placements = vec![Placement::Append, Placement::Replace];
        placements.extend(
            roles
                .names
                .iter()
                .take(2)
                .map(|r| Placement::Role(r.clone())),
        );
        for placement in &placements {
            if let Edit::Updated {
                text: new, summary, ..
            } = config.place(IP, placement)
            {
                assert!(check(&new).is_ok());
                let _ = config.check_rules(&summary);
            }
        }
        // The same text as a destination under a small base file.
        let base = "servers:\n  web: [1.1.1.1]\n  job: [1.1.1.1]\nproxy: {ssl: true}\n";
        if let Ok(pair) = Config::parse_layered("deploy.yml", base, text) {
            if let Edit::Updated { text: new, .. } = pair.edit(IP, None) {
                assert!(check(&new).is_ok());
            }
        }
    }
    let _ = host_lines(text, &[]);
    let _ = super::ssh::read(text);
}

#[test]
fn never_panics_on_mutated_corpus_text() {
    // The vendored corpus (it must be there), and the files of the shared corpus
    // (`shared_dir()/corpus/kamal`) not vendored when that folder is there.
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let vendored = manifest.join("fixtures/corpus/kamal");
    let shared = shared_dir().join("corpus/kamal");
    let yml = |dir: &std::path::Path| -> Vec<(std::ffi::OsString, String)> {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        entries
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|x| x == "yml"))
            .map(|path| {
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                (path.file_name().unwrap_or_default().to_owned(), text)
            })
            .collect()
    };
    let mut files = yml(&vendored);
    assert!(!files.is_empty(), "no *.yml in {}", vendored.display());
    if shared.is_dir() {
        for (name, text) in yml(&shared) {
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name, text));
            }
        }
    }
    files.sort();
    let mut texts: Vec<String> = files.into_iter().map(|(_, text)| text).collect();
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
        Edit::Updated { summary, .. } => *summary,
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

fn summary_of(config: &Config<'_>, placement: &Placement) -> Summary {
    match config.place(IP, placement) {
        Edit::Updated { summary, .. } => *summary,
        other => panic!("expected Updated, got {other:?}"),
    }
}

#[test]
fn the_https_rule_counts_distinct_hosts_and_only_growth() {
    let https = "servers:\n  web: [1.2.3.4]\n  job: [1.2.3.4, <IP-ADDRESS>]\nproxy:\n  ssl: true\n  host: a.example\n";
    let config = Config::parse(https).unwrap_or_else(|e| panic!("{e}"));
    let append = summary_of(&config, &Placement::Append);
    assert_eq!((append.hosts_before, append.hosts_after), (1, 2));
    let broken = config.check_rules(&append).err();
    assert_eq!(
        broken.map(|b| (b.role, b.primary, b.hosts)),
        Some(("web".into(), true, 2))
    );
    // A replace never adds a host.
    let replace = summary_of(&config, &Placement::Replace);
    assert_eq!(config.check_rules(&replace), Ok(()));
    // A worker without a proxy: any number; its placeholder is replaced, not kept.
    let job = summary_of(&config, &Placement::Role("job".into()));
    assert_eq!((job.hosts_before, job.hosts_after), (2, 2));
    assert_eq!(job.moved, ["<IP-ADDRESS>"]);
    assert_eq!(config.check_rules(&job), Ok(()));
    // A web role that already breaks the rule is not given a third host.
    let two =
        Config::parse("servers: [a.example, b.example]\nproxy: {ssl: true, host: x.example}\n")
            .unwrap_or_else(|e| panic!("{e}"));
    let more = summary_of(&two, &Placement::Append);
    assert_eq!(more.hosts_after, 3);
    assert!(two.check_rules(&more).is_err());
    // The same host twice is one host to Kamal.
    let twice = Config::parse("servers: [1.2.3.4, 1.2.3.4]\nproxy: {ssl: true}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let grown = summary_of(&twice, &Placement::Append);
    assert_eq!((grown.hosts_before, grown.hosts_after), (1, 2));
}

#[test]
fn other_references_name_values_not_hosts() {
    let text = "servers:\n  web: [198.51.100.7]\n  job:\n    - 198.51.100.7: [jobs]\nenv:\n  clear:\n    DB_HOST: 198.51.100.7\n    DATABASE_URL: postgres://app@198.51.100.7:5432/app\n    NOT: 198.51.100.70\naccessories:\n  db:\n    host: 198.51.100.7\n    port: \"198.51.100.7:5432:5432\"\n";
    let config = Config::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let Edit::Updated { other_refs, .. } = config.place(IP, &Placement::Replace) else {
        panic!("expected Updated");
    };
    let got: Vec<(usize, &str)> = other_refs
        .iter()
        .map(|r| (r.line, r.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (7, "env.clear.DB_HOST"),
            (8, "env.clear.DATABASE_URL"),
            (13, "accessories.db.port")
        ]
    );
    // An append moves nothing away: nothing to list.
    let Edit::Updated { other_refs, .. } = config.place(IP, &Placement::Append) else {
        panic!("expected Updated");
    };
    assert!(other_refs.is_empty());
}

#[test]
fn hand_edits_name_host_positions_only() {
    let text = "servers:\n  web:\n    - <%= ENV['H'] %>\n  job:\n    hosts: [<%= ENV['H'] %>]\nenv:\n  clear:\n    H: <%= ENV['H'] %>\naccessories:\n  db:\n    host: <%= ENV['H'] %>\n    port: \"<%= ENV['H'] %>:5432:5432\"\n";
    let config = Config::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let Edit::Manual { spots, .. } = config.place(IP, &Placement::Replace) else {
        panic!("expected Manual");
    };
    let lines: Vec<(usize, &str)> = spots.iter().map(|s| (s.line, s.path.as_str())).collect();
    assert_eq!(
        lines,
        [
            (3, "servers.web[0]"),
            (5, "servers.job.hosts[0]"),
            (11, "accessories.db.host")
        ]
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

/// `../shared` beside the checkout, or the folder `PEGASUS_SHARED` names (a worktree
/// whose parent has no `shared`).
fn shared_dir() -> std::path::PathBuf {
    match std::env::var_os("PEGASUS_SHARED") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}
