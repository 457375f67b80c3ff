//! Scale-in on small inline texts: exact bytes after the edit, the changes, the diff.

use super::*;

const A: &str = "198.51.100.10";
const B: &str = "198.51.100.11";
const A6: &str = "2001:db8:f001::1";

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn updated(text: &str, addresses: &[&str]) -> (String, Vec<Removed>, Vec<DiffLine>) {
    let addresses: Vec<IpAddr> = addresses.iter().map(|a| ip(a)).collect();
    match remove(text, &addresses) {
        Removal::Updated {
            text,
            changes,
            diff,
            ..
        } => (text, changes, diff),
        other => panic!("expected Updated, got {other:?}"),
    }
}

fn new_text(text: &str, addresses: &[&str]) -> String {
    updated(text, addresses).0
}

fn blocked(text: &str, address: &str) -> (String, Vec<(usize, String)>) {
    match remove(text, &[ip(address)]) {
        Removal::Blocked { reason, lines } => (reason, lines),
        other => panic!("expected Blocked, got {other:?}"),
    }
}

fn diff_lines(diff: &[DiffLine]) -> Vec<String> {
    diff.iter()
        .map(|d| {
            let sign = match d.kind {
                DiffKind::Old => "-",
                DiffKind::New => "+",
                DiffKind::LineRemoved => "x",
                DiffKind::ItemRemoved => "i",
            };
            format!("{}{sign}{}", d.line, d.text)
        })
        .collect()
}

#[test]
fn two_block_hosts_become_one() {
    let text = format!("servers:\n  web:\n    - {A}\n    - {B}\n");
    let (new, changes, diff) = updated(&text, &[A]);
    assert_eq!(new, format!("servers:\n  web:\n    - {B}\n"));
    assert_eq!(
        changes,
        [Removed {
            path: "servers.web[0]".into(),
            line: 3,
            old: A.into(),
            new: None,
            address: ip(A),
        }]
    );
    assert_eq!(diff_lines(&diff), [format!("3x    - {A}")]);
    // The other one, and the last line of the list.
    assert_eq!(
        new_text(&text, &[B]),
        format!("servers:\n  web:\n    - {A}\n")
    );
}

#[test]
fn a_comment_on_the_entry_line_goes_with_it_and_other_comments_stay() {
    let text = format!("servers:\n  web:\n    # the old box\n    - {A} # old\n    - {B}\n# end\n");
    assert_eq!(
        new_text(&text, &[A]),
        format!("servers:\n  web:\n    # the old box\n    - {B}\n# end\n")
    );
}

#[test]
fn the_only_host_becomes_the_placeholder_everywhere() {
    let text = format!(
        "servers:\n  web:\n    hosts:\n      - {A}\n  job:\n    hosts: [{A}]\naccessories:\n  db:\n    host: {A}\n    port: \"{A}:5432:5432\"\n"
    );
    let (new, changes, diff) = updated(&text, &[A]);
    assert_eq!(
        new,
        "servers:\n  web:\n    hosts:\n      - <IP-ADDRESS>\n  job:\n    hosts: [<IP-ADDRESS>]\naccessories:\n  db:\n    host: <IP-ADDRESS>\n    port: \"198.51.100.10:5432:5432\"\n"
    );
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "servers.web.hosts[0]",
            "servers.job.hosts[0]",
            "accessories.db.host"
        ]
    );
    assert!(
        changes
            .iter()
            .all(|c| c.new.as_deref() == Some(PLACEHOLDER))
    );
    assert_eq!(
        diff_lines(&diff),
        [
            format!("4-{A}"),
            "4+<IP-ADDRESS>".into(),
            format!("6-{A}"),
            "6+<IP-ADDRESS>".into(),
            format!("9-{A}"),
            "9+<IP-ADDRESS>".into(),
        ]
    );
}

#[test]
fn the_placeholder_keeps_the_quoting_and_the_tag() {
    let text = format!("servers:\n  web:\n    - '{A}': primary\n  job:\n    - \"{A}\"\n");
    assert_eq!(
        new_text(&text, &[A]),
        "servers:\n  web:\n    - '<IP-ADDRESS>': primary\n  job:\n    - \"<IP-ADDRESS>\"\n"
    );
}

#[test]
fn tagged_entries_go_whole_and_the_others_keep_their_tags() {
    let text = format!(
        "servers:\n  web:\n    hosts:\n    - {B}: primary\n    - {A}: [ jobs, experimental ]\n    - 198.51.100.12: primary\n"
    );
    let (new, changes, _) = updated(&text, &[A]);
    assert_eq!(
        new,
        "servers:\n  web:\n    hosts:\n    - 198.51.100.11: primary\n    - 198.51.100.12: primary\n"
    );
    assert_eq!(changes[0].path, "servers.web.hosts[1]");
    assert_eq!(changes[0].line, 5);
}

#[test]
fn flow_lists_keep_their_style() {
    assert_eq!(
        new_text(&format!("servers: [{A}, {B}]\n"), &[A]),
        format!("servers: [{B}]\n")
    );
    assert_eq!(
        new_text(&format!("servers: [ {B} ,  {A} ]\n"), &[A]),
        format!("servers: [ {B} ]\n")
    );
    assert_eq!(
        new_text(
            &format!("servers: ['{A}', x, '{A6}', y, \"{A}\"]\n"),
            &[A, A6]
        ),
        "servers: [x, y]\n"
    );
    assert_eq!(
        new_text(
            &format!("servers:\n  web: [\n    {A},\n    {B},\n  ]\n"),
            &[A]
        ),
        format!("servers:\n  web: [\n    {B},\n  ]\n")
    );
    assert_eq!(
        new_text(&format!("servers: [{B}, {{{A}: t}}]\n"), &[A]),
        format!("servers: [{B}]\n")
    );
}

#[test]
fn a_one_line_flow_list_shows_the_line_before_and_after() {
    let text = format!("servers:\n  web: [{A}, {B}]\n");
    let (_, changes, diff) = updated(&text, &[A]);
    assert_eq!(changes[0].new, None);
    assert_eq!(
        diff_lines(&diff),
        [format!("2-  web: [{A}, {B}]"), format!("2+  web: [{B}]")]
    );
    let spread = format!("servers:\n  web: [\n    {A},\n    {B}\n  ]\n");
    let (new, _, diff) = updated(&spread, &[A]);
    assert_eq!(new, format!("servers:\n  web: [\n    {B}\n  ]\n"));
    assert_eq!(diff_lines(&diff), [format!("3i{A}")]);
}

#[test]
fn addresses_compare_as_addresses() {
    let text = "servers:\n  - \"2001:DB8:F001:0:0:0:0:1\"\n  - '[2001:db8:f001::1]'\n  - 2001:db8:f001::10\n";
    let (new, changes, _) = updated(text, &[A6]);
    assert_eq!(new, "servers:\n  - 2001:db8:f001::10\n");
    assert_eq!(changes.len(), 2);
    assert!(changes.iter().all(|c| c.address == ip(A6)));
}

#[test]
fn an_ipv6_host_pegasus_quoted_gives_back_the_file_s_plain_placeholder() {
    let text =
        format!("servers:\n  web:\n    - \"{A6}\"\naccessories:\n  db:\n    host: \"{A6}\"\n");
    assert_eq!(
        new_text(&text, &[A6]),
        "servers:\n  web:\n    - <IP-ADDRESS>\naccessories:\n  db:\n    host: <IP-ADDRESS>\n"
    );
    // The file quotes its other hosts: so is the placeholder.
    let quoted = format!("servers:\n  web:\n    - \"{A6}\"\n  job:\n    - '{B}'\n");
    assert_eq!(
        new_text(&quoted, &[A6]),
        format!("servers:\n  web:\n    - '<IP-ADDRESS>'\n  job:\n    - '{B}'\n")
    );
}

#[test]
fn a_list_of_only_these_addresses_keeps_one_placeholder() {
    let text = format!("servers:\n  web:\n    - {A}\n    - {A6}\n  job: [{A}, \"{A6}\"]\n");
    let (new, changes, _) = updated(&text, &[A, A6]);
    assert_eq!(
        new,
        "servers:\n  web:\n    - <IP-ADDRESS>\n  job: [<IP-ADDRESS>]\n"
    );
    let news: Vec<Option<&str>> = changes.iter().map(|c| c.new.as_deref()).collect();
    assert_eq!(news, [Some(PLACEHOLDER), None, Some(PLACEHOLDER), None]);
}

#[test]
fn two_servers_in_one_list_leave_the_placeholder() {
    let text = format!("servers:\n  web:\n    - {A}\n    - {B}\n");
    let (new, changes, _) = updated(&text, &[A, B]);
    assert_eq!(new, "servers:\n  web:\n    - <IP-ADDRESS>\n");
    assert_eq!(changes[0].address, ip(A));
    assert_eq!(changes[1].address, ip(B));
    assert_eq!(changes[1].new, None);
}

#[test]
fn values_that_contain_the_address_are_listed_never_edited() {
    let text = format!(
        "servers:\n  web:\n    - {A}\n    - {B}\nproxy:\n  host: {A}\nbuilder:\n  remote: ssh://root@{A}\nenv:\n  clear:\n    DB_HOST: {A}\n    NOT_IT: 198.51.100.100\naccessories:\n  db:\n    host: {B}\n    port: \"{A}:5432:5432\"\n"
    );
    let addresses = [ip(A)];
    let Removal::Updated {
        text: new,
        refs_before,
        refs_after,
        ..
    } = remove(&text, &addresses)
    else {
        panic!("not updated")
    };
    assert_eq!(new, text.replacen(&format!("    - {A}\n"), "", 1));
    let before: Vec<(usize, &str)> = refs_before
        .iter()
        .map(|r| (r.line, r.path.as_str()))
        .collect();
    assert_eq!(
        before,
        [
            (6, "proxy.host"),
            (8, "builder.remote"),
            (11, "env.clear.DB_HOST"),
            (16, "accessories.db.port")
        ]
    );
    let after: Vec<usize> = refs_after.iter().map(|r| r.line).collect();
    assert_eq!(after, [5, 7, 10, 15]);
    assert_eq!(refs_after[2].text, format!("DB_HOST: {A}"));
}

#[test]
fn a_config_that_does_not_name_the_server_is_not_named() {
    let text = format!("servers:\n  web:\n    - {B}\nenv:\n  clear:\n    DB_HOST: {A}\n");
    let Removal::NotNamed { refs } = remove(&text, &[ip(A)]) else {
        panic!("expected NotNamed")
    };
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].line, 6);
    assert_eq!(
        remove(&text, &[ip("203.0.113.99")]),
        Removal::NotNamed { refs: Vec::new() }
    );
}

#[test]
fn erb_hosts_block_the_edit_naming_their_lines() {
    let text = format!(
        "servers:\n  web:\n    - {A}\n    - <%= ENV[\"WEB_HOST\"] %>\naccessories:\n  db:\n    host: <%= ENV.fetch(\"DB\") %>\n"
    );
    let (reason, lines) = blocked(&text, A);
    assert!(
        reason.contains("takes hosts from ERB (lines 4, 7)"),
        "{reason}"
    );
    assert_eq!(
        lines,
        [
            (4, "- <%= ENV[\"WEB_HOST\"] %>".to_owned()),
            (7, "host: <%= ENV.fetch(\"DB\") %>".to_owned())
        ]
    );
    // ERB elsewhere is fine.
    let elsewhere = format!("servers:\n  - {A}\n  - {B}\nenv:\n  clear:\n    X: <%= 1 %>\n");
    assert_eq!(
        new_text(&elsewhere, &[A]),
        format!("servers:\n  - {B}\nenv:\n  clear:\n    X: <%= 1 %>\n")
    );
}

#[test]
fn a_list_assembled_by_erb_statements_is_blocked() {
    let text = format!("servers:\n  web:\n    - {B}\n<% if true %>\n    - {A}\n<% end %>\n");
    let (reason, lines) = blocked(&text, A);
    assert!(reason.contains("assembled by ERB"), "{reason}");
    assert_eq!(lines, [(5, format!("- {A}"))]);
}

#[test]
fn a_file_that_does_not_parse_names_only_host_lines() {
    let text = format!(
        "servers:\n  web:\n    - {A}\n    - {B}: primary\n  job: [{A}]\nenv:\n  DB_HOST: {A}\nport: \"{A}:3306:3306\"\naccessories:\n  db:\n    host: '{A}'\n  x: [\n"
    );
    let (reason, lines) = blocked(&text, A);
    assert!(reason.starts_with("does not parse (line "), "{reason}");
    let numbers: Vec<usize> = lines.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [3, 11]);
    let (_, tagged) = blocked(&text, B);
    assert_eq!(tagged, [(4, format!("- {B}: primary"))]);
    // Broken, but it cannot name the server: nothing to do.
    assert_eq!(
        remove("a: [\n", &[ip(A)]),
        Removal::NotNamed { refs: Vec::new() }
    );
}

#[test]
fn several_documents_or_no_mapping_are_blocked_only_when_they_name_it() {
    let multi = format!("servers: [{A}]\n---\nservers: [{B}]\n");
    let (reason, lines) = blocked(&multi, A);
    assert!(reason.contains("more than one YAML document"), "{reason}");
    assert!(lines.is_empty());
    assert!(matches!(
        remove(&multi, &[ip("203.0.113.1")]),
        Removal::NotNamed { .. }
    ));
    assert!(matches!(
        remove(&format!("- {A}\n"), &[ip(A)]),
        Removal::Blocked { .. }
    ));
}

#[test]
fn line_ends_bom_and_a_missing_final_newline_are_kept() {
    let crlf = format!("\u{feff}servers:\r\n  - {A}\r\n  - {B}\r\n");
    assert_eq!(
        new_text(&crlf, &[A]),
        format!("\u{feff}servers:\r\n  - {B}\r\n")
    );
    let last = format!("servers:\r\n  - {B}\r\n  - {A}");
    assert_eq!(new_text(&last, &[A]), format!("servers:\r\n  - {B}"));
    let lf = format!("servers:\n  - {B}\n  - {A}");
    assert_eq!(new_text(&lf, &[A]), format!("servers:\n  - {B}"));
}

#[test]
fn anchors_and_merge_keys_edit_the_scalar_that_holds_the_host() {
    let text = "x-role: &role\n  hosts:\n    - &main 192.0.2.9\nservers:\n  web:\n    <<: *role\n  jobs:\n    <<: *role\naccessories:\n  db:\n    host: *main\n";
    let (new, changes, _) = updated(text, &["192.0.2.9"]);
    assert_eq!(new, text.replace("&main 192.0.2.9", "&main <IP-ADDRESS>"));
    assert_eq!(changes.len(), 1);
    // An alias entry in a list that keeps others goes as an entry; the anchor stays.
    let alias = "x: &h 192.0.2.9\nservers:\n  - *h\n  - 192.0.2.8\n";
    assert_eq!(
        new_text(alias, &["192.0.2.9"]),
        "x: &h 192.0.2.9\nservers:\n  - 192.0.2.8\n"
    );
}

#[test]
fn a_removed_anchor_still_used_elsewhere_blocks() {
    let text = "servers:\n  web:\n    - &m 192.0.2.9\n    - 192.0.2.8\naccessories:\n  db:\n    host: *m\n";
    let (reason, lines) = blocked(text, "192.0.2.9");
    assert!(!reason.is_empty());
    assert!(!lines.is_empty());
}

#[test]
fn a_flow_list_with_a_comment_inside_is_blocked() {
    let text = format!("servers: [{A}, # old\n  {B}]\n");
    let (reason, lines) = blocked(&text, A);
    assert!(reason.contains("cannot cut"), "{reason}");
    assert_eq!(lines, [(1, format!("servers: [{A}, # old"))]);
}

#[test]
fn accessory_host_lists_lose_the_entry() {
    let text = format!("accessories:\n  redis:\n    hosts:\n      - {A}\n      - {B}\n");
    assert_eq!(
        new_text(&text, &[A]),
        format!("accessories:\n  redis:\n    hosts:\n      - {B}\n")
    );
}

#[test]
fn create_then_remove_gives_the_template_back() {
    let template = "servers:\n  web:\n    hosts:\n      - <IP-ADDRESS>\n  celery:\n    hosts:\n      - <IP-ADDRESS>\naccessories:\n  postgres:\n    host: <IP-ADDRESS>\n    directories:\n      - data:/var/lib/postgresql/data\n";
    for host in [A, A6] {
        let Ok(super::super::Edit::Updated { text: created, .. }) =
            super::super::edit(template, host)
        else {
            panic!("create edit failed")
        };
        assert_ne!(created, template);
        assert_eq!(new_text(&created, &[host]), template, "{host}");
    }
}

#[test]
fn nothing_to_remove_without_addresses() {
    assert_eq!(
        remove("servers: [a]\n", &[]),
        Removal::NotNamed { refs: Vec::new() }
    );
}

#[test]
fn mentions_words_only() {
    assert!(mentions("ssh://root@198.51.100.10", ip(A)));
    assert!(mentions("198.51.100.10:5432:5432", ip(A)));
    assert!(!mentions("198.51.100.100", ip(A)));
    assert!(!mentions("1198.51.100.10", ip(A)));
    assert!(mentions("[2001:DB8:F001::1]:22", ip(A6)));
    assert!(!mentions("2001:db8:f001::10", ip(A6)));
}

/// Every address written in `text`, as words.
fn addresses_in(text: &str) -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = text
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '.' || c == ':'))
        .filter_map(|w| w.parse().ok())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// For every address a file names, the removal either blocks or gives a text that parses,
/// no longer names the address at a host position, and is left alone by a second run.
fn exercise(text: &str) {
    for address in addresses_in(text) {
        if let Removal::Updated {
            text: new, changes, ..
        } = remove(text, &[address])
        {
            assert!(!changes.is_empty());
            assert_ne!(new, text);
            assert!(super::super::check(&new).is_ok(), "{new}");
            assert!(
                matches!(remove(&new, &[address]), Removal::NotNamed { .. }),
                "{address} still named in:\n{new}"
            );
        }
    }
}

#[test]
fn every_fixture_and_corpus_file_is_handled_and_a_second_run_does_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts: Vec<String> = Vec::new();
    for dir in [
        "fixtures/kamal",
        "fixtures/pegasus",
        "fixtures/corpus/kamal",
        "../shared/corpus/kamal",
    ] {
        let entries = std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten();
        texts.extend(entries.filter_map(|e| std::fs::read_to_string(e.path()).ok()));
    }
    assert!(texts.len() > 40, "only {} files", texts.len());
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % 1_000_003).unwrap_or(0)
    };
    for text in &texts {
        exercise(text);
        // Cut at a random character, or drop one: no panic, and the same promises.
        for _ in 0..20 {
            let chars: Vec<char> = text.chars().collect();
            if chars.is_empty() {
                break;
            }
            let at = next() % chars.len();
            let cut: String = chars.iter().take(at).collect();
            exercise(&cut);
            let dropped: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != at)
                .map(|(_, c)| c)
                .collect();
            exercise(&dropped);
        }
    }
}
