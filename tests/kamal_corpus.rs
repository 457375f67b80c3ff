//! Integration tests of the Kamal config editor (`pegasus::kamal`).
//!
//! * The real-world corpus (`tests/common/corpus.rs`): the files vendored in
//!   `fixtures/corpus/kamal/` (see its `NOTICE.md`) are always checked, and those of
//!   `../shared/corpus/kamal/` that could not be vendored when that folder is there. Every
//!   file must end as the tables below say, and every `Updated` text is checked
//!   independently of the editor's own splicing: the bytes outside the reported changes are
//!   identical, the YAML structure is the same apart from those hosts, and a second run is
//!   `Unchanged`.
//! * The synthetic fixtures in `fixtures/kamal` cover what the corpus lacks; each `Updated`
//!   one has an exact `*.expected.yml`. CRLF and BOM variants are generated here from the
//!   LF fixtures (so git cannot normalise them away) and must give the same result.

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::HashSet;
use std::path::Path;

use pegasus::kamal::{self, Change, Edit, Layer, Mode, Placement, Reference};
use yaml_rust2::{Yaml, YamlLoader};

const IP: &str = "203.0.113.10";
const IPV6: &str = "2001:db8:1::1";

/// What one corpus file must give with `edit(text, IP)`.
enum Outcome {
    /// `Updated` with this many changes.
    Updated(usize),
    /// `Manual`, the reason containing this text.
    Manual(&'static str),
}

use Outcome::{Manual, Updated};

/// The vendored files (`fixtures/corpus/kamal/`): exactly these must be there.
const VENDORED: &[(&str, Outcome)] = &[
    ("Arie_serveme__deploy.eu.yml", Updated(4)),
    ("Arie_serveme__deploy.staging.yml", Updated(4)),
    (
        "Arie_serveme__deploy.yml",
        Manual("require_destination: true"),
    ),
    ("Platoniq_decidim-soiltribes.yml", Updated(4)),
    ("alanoliveira_sfbuff.yml", Updated(2)),
    ("basecamp_fizzy__deploy.yml", Updated(1)),
    (
        "basecamp_fizzy__saas_deploy.beta.yml",
        Manual("computed by ERB (`<%= @web_hosts[0] %>`)"),
    ),
    ("basecamp_fizzy__saas_deploy.production.yml", Updated(1)),
    (
        "basecamp_kamal__fixture_deploy_with_accessories.yml",
        Updated(1),
    ),
    (
        "basecamp_kamal__fixture_deploy_with_env_tags.yml",
        Updated(1),
    ),
    (
        "basecamp_kamal__fixture_deploy_with_extensions.yml",
        Updated(1),
    ),
    (
        "bikeindex_bike_index__deploy.review.yml",
        Manual("computed by ERB (`<%= host %>`)"),
    ),
    ("dorianmariecom_code__deploy.production.yml", Updated(3)),
    (
        "geeksforsocialchange_PlaceCal__deploy.production.yml",
        Manual("set PRODUCTION_HOST=203.0.113.10"),
    ),
    (
        "lnu-norge_lokaler.lnu.no__deploy.production.yml",
        Manual("no `servers:` section"),
    ),
    ("lnu-norge_lokaler.lnu.no__deploy.yml", Updated(2)),
];

/// The files of `../shared/corpus/kamal/` whose licences keep them out of the repository
/// (`fixtures/corpus/kamal/NOTICE.md`): checked when that folder is there.
const SHARED_ONLY: &[(&str, Outcome)] = &[
    (
        "1001-digital_ipfs.server.yml",
        Manual("set DEPLOY_HOST=203.0.113.10"),
    ),
    ("1Asfandyar_My-Own-Money.yml", Updated(2)),
    ("K4sku_kamal-example.yml", Updated(4)),
    (
        "TelosLabs_giving-connection__deploy.production.yml",
        Updated(4),
    ),
    ("adrienpoly_rubyvideo.yml", Updated(2)),
    (
        "bluestemso_taylor_learns.yml",
        Manual("set KAMAL_HOST=203.0.113.10"),
    ),
    ("cube-worlds_cube_worlds.yml", Updated(1)),
    ("dgmouris_zonprep_appointment_po_parser_app.yml", Updated(4)),
    (
        "dimagi-rad_scout.yml",
        Manual("set SCOUT_EC2_IP=203.0.113.10"),
    ),
    ("dimagi_commcare-connect__deploy.production.yml", Updated(1)),
    (
        "dimagi_commcare-connect__deploy.yml",
        Manual("no `servers:` section"),
    ),
    ("edgardoalz_docker-django__deploy.staging.yml", Updated(4)),
    ("fidevz_saas-cookie.yml", Updated(7)),
    ("hosmelq_kamal-laravel__deploy.production.yml", Updated(5)),
    (
        "hosmelq_kamal-laravel__deploy.yml",
        Manual("`servers.web` on line 51 is empty"),
    ),
    ("lovedev0829_Django-React-CreateDesign.yml", Updated(5)),
    ("saaspegasus_template_kamal2.yml", Updated(5)),
];

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/kamal")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn edit(text: &str, host: &str) -> Edit {
    kamal::edit(text, host).unwrap_or_else(|e| panic!("parse error: {e}"))
}

/// The edit in `mode` (`None`: as `kamal::edit` picks it).
fn edit_in(text: &str, host: &str, mode: Option<Mode>) -> Edit {
    let config = kamal::Config::parse(text).unwrap_or_else(|e| panic!("parse error: {e}"));
    config.edit(host, mode)
}

// ------------------------------------------------------------------------------------------
// Independent checks of an `Updated` result
// ------------------------------------------------------------------------------------------

/// The ways a value can be written as a scalar.
fn forms(value: &str) -> [String; 3] {
    [
        format!("'{value}'"),
        format!("\"{value}\""),
        value.to_owned(),
    ]
}

/// `new_line` is `old_line` with exactly `count` host scalars replaced (old value in any
/// quoting → the new host with the same quotes, or double quotes where the old was plain).
fn is_replaced_line(
    old_line: &str,
    new_line: &str,
    olds: &[&str],
    host: &str,
    count: usize,
) -> bool {
    let (mut i, mut j, mut done) = (0, 0, 0);
    'walk: while i < old_line.len() || j < new_line.len() {
        let (old_rest, new_rest) = (&old_line[i..], &new_line[j..]);
        for old in olds {
            let [old_single, old_double, old_plain] = forms(old);
            let [new_single, new_double, new_plain] = forms(host);
            let pairs = [
                (&old_single, &new_single),
                (&old_double, &new_double),
                (&old_plain, &new_plain),
                (&old_plain, &new_double),
            ];
            for (from, to) in pairs {
                if old_rest.starts_with(from.as_str()) && new_rest.starts_with(to.as_str()) {
                    i += from.len();
                    j += to.len();
                    done += 1;
                    continue 'walk;
                }
            }
        }
        match (old_rest.chars().next(), new_rest.chars().next()) {
            (Some(a), Some(b)) if a == b => {
                i += a.len_utf8();
                j += b.len_utf8();
            }
            _ => return false,
        }
    }
    done == count
}

/// Every line without a change is byte-identical; every changed line differs only by the
/// reported replacements.
fn assert_replacements(name: &str, old: &str, new: &str, changes: &[Change], host: &str) {
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    assert_eq!(
        old_lines.len(),
        new_lines.len(),
        "{name}: line count changed"
    );
    for (index, (old_line, new_line)) in old_lines.iter().zip(&new_lines).enumerate() {
        let here: Vec<&Change> = changes.iter().filter(|c| c.line == index + 1).collect();
        if here.is_empty() {
            assert_eq!(old_line, new_line, "{name}: line {} changed", index + 1);
            continue;
        }
        let olds: Vec<&str> = here.iter().filter_map(|c| c.old.as_deref()).collect();
        assert!(
            is_replaced_line(old_line, new_line, &olds, host, here.len()),
            "{name}: line {} is not just the reported replacement:\n- {old_line}+ {new_line}",
            index + 1
        );
    }
}

/// The new text is the old one with one inserted list entry, `, HOST` in a flow list or a
/// `- HOST` line in a block list, on the reported line of the new text.
fn assert_append(name: &str, old: &str, new: &str, change: &Change, host: &str) {
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let added = n
        .len()
        .checked_sub(o.len())
        .unwrap_or_else(|| panic!("{name}: text shrank"));
    let prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
    let suffix = o
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let found = (o.len().saturating_sub(suffix)..=prefix.min(o.len())).find_map(|at| {
        let inserted = std::str::from_utf8(n.get(at..at + added)?).ok()?;
        let entry_at = entry_offset(inserted, host)?;
        let line = new.get(..at + entry_at)?.matches('\n').count() + 1;
        let quote = inserted.get(entry_at..)?.chars().next()?;
        let want = previous_quote(new.get(..at)?, inserted, host);
        assert_eq!(
            quote_name(quote),
            quote_name(want),
            "{name}: the appended entry on line {line} is not quoted like the one before it"
        );
        Some(line)
    });
    assert_eq!(
        found,
        Some(change.line),
        "{name}: not a single appended entry on line {}",
        change.line
    );
}

fn quote_name(c: char) -> &'static str {
    match c {
        '"' => "double-quoted",
        '\'' => "single-quoted",
        _ => "plain",
    }
}

/// The quote the appended entry must start with: that of the entry before it (found in the
/// text before the insertion), or `"` for an IPv6 address where that entry is plain.
fn previous_quote(before: &str, inserted: &str, host: &str) -> char {
    let previous = if inserted.starts_with(',') {
        before.chars().next_back().unwrap_or(' ')
    } else {
        let line = inserted.trim_start_matches(['\r', '\n']);
        let indent = line.len() - line.trim_start_matches(' ').len();
        before
            .lines()
            .rev()
            .find_map(|l| {
                let l = l.trim_end_matches('\r');
                let rest = l.get(indent..)?;
                let lead = l.get(..indent)?;
                (lead.chars().all(|c| c == ' ') && rest.starts_with("- "))
                    .then(|| rest[2..].trim_start().chars().next().unwrap_or(' '))
            })
            .unwrap_or(' ')
    };
    match previous {
        '"' | '\'' => previous,
        _ if host.contains(':') => '"',
        _ => ' ',
    }
}

/// Where the host starts inside an inserted text of the form `,<space>FORM` or
/// `[EOL]<indent>-<space>FORM[EOL]`.
fn entry_offset(inserted: &str, host: &str) -> Option<usize> {
    let with_form = |rest: &str| forms(host).into_iter().any(|f| rest == f);
    if let Some(rest) = inserted.strip_prefix(',') {
        let form = rest.trim_start();
        return with_form(form).then_some(inserted.len() - form.len());
    }
    let line = inserted.trim_start_matches(['\r', '\n']);
    let lead = inserted.len() - line.len();
    let body = line.trim_end_matches(['\r', '\n']);
    let trailing = line.len() - body.len();
    if (lead > 0) == (trailing > 0) {
        return None;
    }
    let dash = body.trim_start_matches(' ').strip_prefix('-')?;
    let form = dash.trim_start_matches(' ');
    (form.len() < dash.len() && with_form(form)).then_some(inserted.len() - trailing - form.len())
}

/// Same-length ERB masking, written independently of the editor's own.
fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text.trim_start_matches('\u{feff}');
    while let Some(start) = rest.find("<%") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("%>")
            .map_or(rest.len(), |e| start + e + 2);
        for c in rest[start..end].chars() {
            let filler = if c == '\n' || c == '\r' { c } else { ' ' };
            (0..c.len_utf8()).for_each(|_| out.push(filler));
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[derive(Default)]
struct Diff {
    replaced: usize,
    appended: usize,
}

/// Compares two YAML trees: the only differences allowed are an old host value replaced by
/// `host` and `host` added at the end of a list.
fn same_apart_from_hosts(
    old: &Yaml,
    new: &Yaml,
    olds: &HashSet<&str>,
    host: &str,
    diff: &mut Diff,
) -> bool {
    match (old, new) {
        (Yaml::Hash(a), Yaml::Hash(b)) => {
            a.len() == b.len()
                && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| {
                    same_apart_from_hosts(ka, kb, olds, host, diff)
                        && same_apart_from_hosts(va, vb, olds, host, diff)
                })
        }
        (Yaml::Array(a), Yaml::Array(b)) => {
            let extra = b.len() == a.len() + 1 && b.last() == Some(&Yaml::String(host.to_owned()));
            if extra {
                diff.appended += 1;
            }
            let shared = if extra { a.len() } else { b.len() };
            a.len() == shared
                && a.iter()
                    .zip(b.iter())
                    .all(|(x, y)| same_apart_from_hosts(x, y, olds, host, diff))
        }
        (Yaml::String(a), Yaml::String(b)) if a != b => {
            diff.replaced += 1;
            olds.contains(a.as_str()) && b == host
        }
        _ => old == new,
    }
}

/// Everything an `Updated` result must satisfy.
fn assert_sound_update(name: &str, old: &str, host: &str) -> (String, Vec<Change>) {
    assert_sound_update_in(name, old, host, None)
}

fn assert_sound_update_in(
    name: &str,
    old: &str,
    host: &str,
    mode: Option<Mode>,
) -> (String, Vec<Change>) {
    let placement = mode.map(Placement::from_mode);
    assert_sound_placed(name, old, host, placement.as_ref(), &|text| {
        kamal::Config::parse(text).unwrap_or_else(|e| panic!("{name}: {e}"))
    })
}

/// Everything an `Updated` result must satisfy, for the edit `placement` asks for
/// (`None`: as `edit` picks it) of the file `old` as `config` reads it (alone, or under a
/// base file).
fn assert_sound_placed<'t>(
    name: &str,
    old: &'t str,
    host: &str,
    placement: Option<&Placement>,
    config: &dyn Fn(&'t str) -> kamal::Config<'t>,
) -> (String, Vec<Change>) {
    let place = |text: &'t str| {
        let config = config(text);
        match placement {
            Some(p) => config.place(host, p),
            None => config.edit(host, None),
        }
    };
    let Edit::Updated {
        text: new, changes, ..
    } = place(old)
    else {
        panic!("{name}: expected Updated");
    };
    assert!(!changes.is_empty() && new != old, "{name}: empty update");
    assert!(changes.iter().all(|c| c.new == host), "{name}: {changes:?}");
    let appends: Vec<&Change> = changes.iter().filter(|c| c.old.is_none()).collect();
    match appends.as_slice() {
        [] => assert_replacements(name, old, &new, &changes, host),
        [one] if changes.len() == 1 => assert_append(name, old, &new, one, host),
        _ => panic!("{name}: an append mixed with other changes: {changes:?}"),
    }
    assert!(
        kamal::check(&new).is_ok(),
        "{name}: the result does not parse"
    );
    let olds: HashSet<&str> = changes.iter().filter_map(|c| c.old.as_deref()).collect();
    let old_yaml = YamlLoader::load_from_str(&mask(old)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let new_yaml = YamlLoader::load_from_str(&mask(&new)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut diff = Diff::default();
    let same = old_yaml.len() == new_yaml.len()
        && old_yaml
            .iter()
            .zip(&new_yaml)
            .all(|(a, b)| same_apart_from_hosts(a, b, &olds, host, &mut diff));
    assert!(same, "{name}: the structure changed beyond the hosts");
    assert_eq!(
        diff.appended > 0,
        !appends.is_empty(),
        "{name}: appended entries"
    );
    assert_eq!(
        diff.replaced > 0,
        appends.is_empty(),
        "{name}: replaced values"
    );
    let again = {
        let config = kamal::Config::parse(&new).unwrap_or_else(|e| panic!("{name}: {e}"));
        match placement {
            Some(Placement::Role(role)) => config.place(host, &Placement::Role(role.clone())),
            _ => config.edit(host, None),
        }
    };
    assert_eq!(
        again,
        Edit::Unchanged,
        "{name}: the second run is not a no-op"
    );
    (new, changes)
}

// ------------------------------------------------------------------------------------------
// The corpus
// ------------------------------------------------------------------------------------------

/// One corpus file ends as `expected` says.
fn check_corpus_file(name: &str, text: &str, expected: &Outcome) {
    assert!(kamal::check(text).is_ok(), "{name}: does not parse");
    match expected {
        Updated(count) => {
            let (_, changes) = assert_sound_update(name, text, IP);
            assert_eq!(changes.len(), *count, "{name}: {changes:#?}");
            assert_sound_update(name, text, IPV6);
        }
        Manual(needle) => match edit(text, IP) {
            Edit::Manual { reason, .. } => {
                assert!(reason.contains(needle), "{name}: {reason}");
            }
            other => panic!("{name}: expected Manual, got {other:?}"),
        },
    }
}

#[test]
fn vendored_corpus_files_end_as_expected() {
    let files = corpus::vendored();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    let mut want: Vec<&str> = VENDORED.iter().map(|(n, _)| *n).collect();
    want.sort_unstable();
    assert_eq!(
        names, want,
        "fixtures/corpus/kamal/ and the VENDORED table (and its NOTICE.md) disagree"
    );
    for (name, text) in &files {
        let (_, expected) = VENDORED.iter().find(|(n, _)| n == name).unwrap();
        check_corpus_file(name, text, expected);
    }
}

/// The files of `../shared/corpus/kamal/` that are not vendored, when that folder is there.
#[test]
fn shared_corpus_files_end_as_expected() {
    let Some(dir) = corpus::shared_dir() else {
        println!(
            "note: no ../shared/corpus/kamal beside the repository; its {} files that are \
             not vendored were not checked",
            SHARED_ONLY.len()
        );
        return;
    };
    let extras = corpus::shared_extras();
    for (name, text) in &extras {
        let Some((_, expected)) = SHARED_ONLY.iter().find(|(n, _)| n == name) else {
            panic!("{name}: not in the SHARED_ONLY table; add its expected outcome");
        };
        check_corpus_file(name, text, expected);
    }
    for (file, _) in SHARED_ONLY {
        assert!(
            extras.iter().any(|(n, _)| n == file),
            "{file} is missing from {}",
            dir.display()
        );
    }
}

/// The SaaS Pegasus layout: its five `<IP-ADDRESS>` placeholders (on `lines`) become the
/// address and nothing else changes.
fn check_five_placeholders(text: &str, lines: [usize; 5]) {
    let Edit::Updated {
        text: new, changes, ..
    } = edit(text, IP)
    else {
        panic!("expected Updated");
    };
    let expected: String = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            if lines.contains(&(i + 1)) {
                assert_eq!(line.matches("<IP-ADDRESS>").count(), 1, "line {}", i + 1);
                line.replace("<IP-ADDRESS>", IP)
            } else {
                line.to_owned()
            }
        })
        .collect();
    assert_eq!(new, expected);
    let got: Vec<(&str, usize)> = changes.iter().map(|c| (c.path.as_str(), c.line)).collect();
    let paths = [
        "servers.web.hosts[0]",
        "servers.celery.hosts[0]",
        "servers.celerybeat.hosts[0]",
        "accessories.postgres.host",
        "accessories.redis.host",
    ];
    let want: Vec<(&str, usize)> = paths.into_iter().zip(lines).collect();
    assert_eq!(got, want);
    assert!(
        changes
            .iter()
            .all(|c| c.old.as_deref() == Some("<IP-ADDRESS>") && c.new == IP)
    );
    let json = serde_json::to_value(&changes[0]).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({"path": "servers.web.hosts[0]", "line": lines[0], "old": "<IP-ADDRESS>", "new": IP})
    );
}

#[test]
fn pegasus_style_fixture_changes_all_five_placeholders() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pegasus/deploy.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_five_placeholders(&text, [24, 29, 33, 49, 60]);
}

/// The untouched SaaS Pegasus template (not vendored: its licence does not allow it), when
/// `../shared/corpus/kamal/` is there.
#[test]
fn saas_pegasus_template_changes_all_five_placeholders() {
    let Some(dir) = corpus::shared_dir() else {
        println!("note: no ../shared/corpus/kamal; the SaaS Pegasus template was not checked");
        return;
    };
    let path = dir.join("saaspegasus_template_kamal2.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_five_placeholders(&text, [41, 46, 50, 72, 84]);
}

#[test]
fn kamal_fixture_with_double_quoted_hosts_gets_a_double_quoted_entry() {
    let path = corpus::vendored_dir().join("basecamp_kamal__fixture_deploy_with_accessories.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let Edit::Updated { text: new, .. } = edit(&text, IP) else {
        panic!("expected Updated");
    };
    let before = "    - \"1.1.1.1\"\n    - \"1.1.1.2\"\n";
    assert!(text.contains(before));
    assert_eq!(
        new,
        text.replacen(before, &format!("{before}    - \"{IP}\"\n"), 1)
    );
}

// ------------------------------------------------------------------------------------------
// The synthetic fixtures
// ------------------------------------------------------------------------------------------

enum Want {
    /// The expected file and the changes as (path, line, old).
    Updated(
        &'static str,
        &'static [(&'static str, usize, Option<&'static str>)],
    ),
    Unchanged,
    /// Texts the reason must contain, and the line it must point at.
    Manual(&'static [&'static str], Option<usize>),
    /// The line of the parse error.
    ParseError(usize),
}

const FIXTURES: &[(&str, &str, Want)] = &[
    (
        "quoted.yml",
        IP,
        Want::Updated(
            "quoted.expected.yml",
            &[
                ("servers.web[0]", 5, Some("192.0.2.7")),
                ("servers.workers[0]", 7, Some("192.0.2.7")),
                ("accessories.db.host", 11, Some("192.0.2.7")),
            ],
        ),
    ),
    (
        "tabs_no_final_newline.yml",
        IP,
        Want::Updated(
            "tabs_no_final_newline.expected.yml",
            &[
                ("servers.web.hosts[0]", 5, Some("192.0.2.8")),
                ("accessories.redis.host", 9, Some("192.0.2.8")),
            ],
        ),
    ),
    (
        "anchors_merge.yml",
        IP,
        Want::Updated(
            "anchors_merge.expected.yml",
            &[("x-role.hosts[0]", 5, Some("192.0.2.9"))],
        ),
    ),
    (
        "flow_mappings.yml",
        IP,
        Want::Updated(
            "flow_mappings.expected.yml",
            &[
                ("servers.web.hosts[0]", 1, Some("192.0.2.10")),
                ("servers.jobs.hosts[0]", 1, Some("192.0.2.10")),
                ("accessories.db.host", 2, Some("192.0.2.10")),
            ],
        ),
    ),
    (
        "indentless_tagged.yml",
        IP,
        Want::Updated(
            "indentless_tagged.expected.yml",
            &[
                ("servers.web.hosts[0]", 4, Some("192.0.2.11")),
                ("servers.jobs.hosts[0]", 7, Some("192.0.2.11")),
            ],
        ),
    ),
    (
        "unicode_block.yml",
        IP,
        Want::Updated(
            "unicode_block.expected.yml",
            &[
                ("servers.web[0]", 10, Some("192.0.2.12")),
                ("accessories.db.host", 13, Some("192.0.2.12")),
            ],
        ),
    ),
    (
        "ipv6_hosts.yml",
        IP,
        Want::Updated(
            "ipv6_hosts.expected.yml",
            &[
                ("servers.web[0]", 3, Some("2001:db8:5::1")),
                ("servers.jobs.hosts[0]", 5, Some("2001:db8:5::1")),
                ("accessories.db.host", 8, Some("2001:db8:5::1")),
            ],
        ),
    ),
    (
        "ipv6_new_host.yml",
        IPV6,
        Want::Updated(
            "ipv6_new_host.expected.yml",
            &[
                ("servers.web.hosts[0]", 4, Some("192.0.2.13")),
                ("servers.jobs[0]", 5, Some("192.0.2.13")),
                ("accessories.db.host", 7, Some("192.0.2.13")),
            ],
        ),
    ),
    (
        "erb_elsewhere.yml",
        IP,
        Want::Updated(
            "erb_elsewhere.expected.yml",
            &[
                ("servers.web[0]", 5, Some("192.0.2.14")),
                ("accessories.db.host", 15, Some("192.0.2.14")),
            ],
        ),
    ),
    (
        "decoys.yml",
        IP,
        Want::Updated(
            "decoys.expected.yml",
            &[
                ("servers.web[0]", 5, Some("192.0.2.50")),
                ("accessories.db.host", 23, Some("192.0.2.50")),
            ],
        ),
    ),
    (
        "append_block.yml",
        IP,
        Want::Updated(
            "append_block.expected.yml",
            &[("servers.web.hosts[2]", 6, None)],
        ),
    ),
    (
        "append_block.yml",
        IPV6,
        Want::Updated(
            "append_block.ipv6.expected.yml",
            &[("servers.web.hosts[2]", 6, None)],
        ),
    ),
    (
        "append_flow.yml",
        IP,
        Want::Updated(
            "append_flow.expected.yml",
            &[("servers.web.hosts[2]", 3, None)],
        ),
    ),
    (
        "append_flow.yml",
        IPV6,
        Want::Updated(
            "append_flow.ipv6.expected.yml",
            &[("servers.web.hosts[2]", 3, None)],
        ),
    ),
    (
        "append_no_final_newline.yml",
        IP,
        Want::Updated(
            "append_no_final_newline.expected.yml",
            &[("servers[2]", 4, None)],
        ),
    ),
    (
        "append_double_block.yml",
        IP,
        Want::Updated(
            "append_double_block.expected.yml",
            &[("servers.web[2]", 6, None)],
        ),
    ),
    (
        "append_single_block.yml",
        IP,
        Want::Updated(
            "append_single_block.expected.yml",
            &[("servers.web.hosts[2]", 6, None)],
        ),
    ),
    (
        "append_single_block.yml",
        IPV6,
        Want::Updated(
            "append_single_block.ipv6.expected.yml",
            &[("servers.web.hosts[2]", 6, None)],
        ),
    ),
    (
        "append_single_flow.yml",
        IP,
        Want::Updated(
            "append_single_flow.expected.yml",
            &[("servers.web[2]", 1, None)],
        ),
    ),
    (
        "append_plain_flow.yml",
        IP,
        Want::Updated(
            "append_plain_flow.expected.yml",
            &[("servers.web[2]", 2, None)],
        ),
    ),
    (
        "append_plain_flow.yml",
        IPV6,
        Want::Updated(
            "append_plain_flow.ipv6.expected.yml",
            &[("servers.web[2]", 2, None)],
        ),
    ),
    ("already_there.yml", IP, Want::Unchanged),
    (
        "erb_hosts.yml",
        IP,
        Want::Manual(
            &["servers.web.hosts[0]", "KAMAL_HOST=203.0.113.10"],
            Some(6),
        ),
    ),
    (
        "erb_flow.yml",
        IP,
        Want::Manual(&["WEB_HOST=203.0.113.10"], Some(3)),
    ),
    (
        "erb_if_list.yml",
        IP,
        Want::Manual(&["ERB statements", "- 203.0.113.10"], Some(4)),
    ),
    (
        "base_without_hosts.yml",
        IP,
        Want::Manual(
            &[
                "`servers.web` on line 4 has no `hosts:`",
                "-d <destination>",
            ],
            Some(4),
        ),
    ),
    (
        "multi_document.yml",
        IP,
        Want::Manual(&["several YAML documents"], None),
    ),
    (
        "block_host.yml",
        IP,
        Want::Manual(&["servers.web[0]", "by hand"], Some(4)),
    ),
    (
        "empty.yml",
        IP,
        Want::Manual(&["The file is empty", "- 203.0.113.10"], None),
    ),
    (
        "empty.yml",
        IPV6,
        Want::Manual(&["- \"2001:db8:1::1\""], None),
    ),
    ("not_yaml.yml", IP, Want::ParseError(2)),
];

/// The same text with CRLF line ends, and with a byte-order mark.
fn variants(text: &str) -> [(&'static str, String); 3] {
    [
        ("LF", text.to_owned()),
        ("CRLF", text.replace('\n', "\r\n")),
        (
            "BOM+CRLF",
            format!("\u{feff}{}", text.replace('\n', "\r\n")),
        ),
    ]
}

/// Fixtures edited in a given mode (`--append`/`--replace`, or the mode the project's
/// servers decide): a single web host appended to, in block and flow style (the flow one
/// through `primary_role`), the same file replaced, and replace refused with several hosts.
const WITH_MODE: &[(&str, &str, Mode, Want)] = &[
    (
        "append_one_block.yml",
        IP,
        Mode::Append,
        Want::Updated(
            "append_one_block.expected.yml",
            &[("servers.web.hosts[1]", 6, None)],
        ),
    ),
    (
        "append_one_flow.yml",
        IP,
        Mode::Append,
        Want::Updated(
            "append_one_flow.expected.yml",
            &[("servers.app[1]", 3, None)],
        ),
    ),
    (
        "append_one_block.yml",
        IP,
        Mode::Replace,
        Want::Updated(
            "append_one_block.replaced.expected.yml",
            &[
                ("servers.web.hosts[0]", 5, Some("198.51.100.10")),
                ("servers.celery.hosts[0]", 8, Some("198.51.100.10")),
                ("accessories.postgres.host", 12, Some("198.51.100.10")),
                ("accessories.redis.host", 14, Some("198.51.100.10")),
            ],
        ),
    ),
    (
        "append_block.yml",
        IP,
        Mode::Replace,
        Want::Manual(&["has 2 hosts", "replacing needs exactly one"], Some(4)),
    ),
];

#[test]
fn fixtures_in_a_given_mode() {
    for (name, host, mode, want) in WITH_MODE {
        let text = fixture(name);
        let expected = match want {
            Want::Updated(file, _) => Some(fixture(file)),
            _ => None,
        };
        let expected_variants = expected.as_deref().map(variants);
        for (index, (kind, variant)) in variants(&text).iter().enumerate() {
            let label = format!("{name} ({kind}, {host}, {mode:?})");
            let expected = expected_variants
                .as_ref()
                .and_then(|v| v.get(index))
                .map(|(_, e)| e.as_str());
            check_fixture_in(&label, variant, host, Some(*mode), want, expected);
        }
    }
}

fn check_fixture(label: &str, text: &str, host: &str, want: &Want, expected: Option<&str>) {
    check_fixture_in(label, text, host, None, want, expected);
}

fn check_fixture_in(
    label: &str,
    text: &str,
    host: &str,
    mode: Option<Mode>,
    want: &Want,
    expected: Option<&str>,
) {
    match want {
        Want::Updated(_, wanted) => {
            let expected = expected.unwrap_or_default();
            let (new, changes) = assert_sound_update_in(label, text, host, mode);
            assert_eq!(new, expected, "{label}: bytes differ");
            let got: Vec<(&str, usize, Option<&str>)> = changes
                .iter()
                .map(|c| (c.path.as_str(), c.line, c.old.as_deref()))
                .collect();
            assert_eq!(got, *wanted, "{label}");
        }
        Want::Unchanged => assert_eq!(edit_in(text, host, mode), Edit::Unchanged, "{label}"),
        Want::Manual(needles, want_line) => match edit_in(text, host, mode) {
            Edit::Manual { reason, line, .. } => {
                for needle in *needles {
                    assert!(
                        reason.contains(needle),
                        "{label}: {reason:?} lacks {needle:?}"
                    );
                }
                assert_eq!(line, *want_line, "{label}: {reason}");
            }
            other => panic!("{label}: expected Manual, got {other:?}"),
        },
        Want::ParseError(want_line) => {
            let error = kamal::edit(text, host).err();
            assert_eq!(error.as_ref().map(|e| e.line), Some(*want_line), "{label}");
            assert_eq!(kamal::check(text).err(), error, "{label}");
        }
    }
}

#[test]
fn fixtures_give_exact_results_with_lf_crlf_and_bom() {
    for (name, host, want) in FIXTURES {
        let text = fixture(name);
        let expected = match want {
            Want::Updated(file, _) => Some(fixture(file)),
            _ => None,
        };
        let expected_variants = expected.as_deref().map(variants);
        for (index, (kind, variant)) in variants(&text).iter().enumerate() {
            let label = format!("{name} ({kind}, {host})");
            let expected = expected_variants
                .as_ref()
                .and_then(|v| v.get(index))
                .map(|(_, e)| e.as_str());
            check_fixture(&label, variant, host, want, expected);
        }
    }
}

#[test]
fn crlf_is_kept_on_appended_lines() {
    let text = fixture("append_block.yml").replace('\n', "\r\n");
    let Edit::Updated {
        text: new, changes, ..
    } = edit(&text, IP)
    else {
        panic!("expected Updated");
    };
    assert!(new.contains("      - 203.0.113.10\r\n"));
    let json = serde_json::to_value(&changes).unwrap_or_default();
    let want =
        serde_json::json!([{"path": "servers.web.hosts[2]", "line": 6, "old": null, "new": IP}]);
    assert_eq!(json, want);
    assert_eq!(new.matches('\n').count(), new.matches("\r\n").count());
}

#[test]
fn small_inline_cases() {
    let manual = |text: &str| match edit(text, IP) {
        Edit::Manual { reason, line, .. } => (reason, line),
        other => panic!("expected Manual for {text:?}, got {other:?}"),
    };
    let (reason, _) = manual("Just a sentence, not a config.\n");
    assert!(reason.contains("not a Kamal config"), "{reason}");
    let (reason, line) = manual("x: &l [a]\nservers:\n  web:\n    - *l\n");
    assert!(reason.contains("not a host"), "{reason}");
    assert_eq!(line, Some(4));
    let (reason, line) = manual("servers:\n  jobs: [192.0.2.1]\n");
    assert!(reason.contains("no `web` role (it has: jobs)"), "{reason}");
    assert_eq!(line, Some(1));
    let (reason, _) = manual("servers:\n  web: []\n");
    assert!(reason.contains("empty list"), "{reason}");
    let (reason, line) = manual("servers:\n  web:\n    -\n  job: [<%= x %>]\n");
    assert!(reason.contains("`servers.web[0]` is empty"), "{reason}");
    assert_eq!(line, None);
    assert_eq!(edit("servers: [203.0.113.10]\n", IP), Edit::Unchanged);
    let single = "servers:\n  - \"192.0.2.1\" # only\n";
    let Edit::Updated { text, .. } = edit(single, IP) else {
        panic!("expected Updated");
    };
    assert_eq!(text, "servers:\n  - \"203.0.113.10\" # only\n");
}

// ------------------------------------------------------------------------------------------
// references() and check()
// ------------------------------------------------------------------------------------------

fn refs(text: &str, host: &str) -> Vec<(String, usize, String)> {
    kamal::references(text, host)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|Reference { path, line, text }| (path, line, text))
        .collect()
}

#[test]
fn references_list_every_scalar_naming_the_host() {
    let got = refs(&fixture("decoys.yml"), "192.0.2.50");
    let want = [
        ("servers.web[0]", 5, "- 192.0.2.50"),
        ("proxy.host", 7, "host: 192.0.2.50"),
        ("proxy.hosts[0]", 8, "hosts: [192.0.2.50]"),
        ("builder.remote", 10, "remote: ssh://root@192.0.2.50"),
        ("ssh.proxy", 12, "proxy: root@192.0.2.50"),
        ("registry.server", 14, "server: 192.0.2.50:5000"),
        ("env.clear.DB_HOST", 17, "DB_HOST: 192.0.2.50"),
        ("accessories.db.port", 22, "port: \"192.0.2.50:5432:5432\""),
        ("accessories.db.host", 23, "host: 192.0.2.50"),
    ];
    let want: Vec<(String, usize, String)> = want
        .iter()
        .map(|(p, l, t)| ((*p).to_owned(), *l, (*t).to_owned()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn references_follow_tags_anchors_and_crlf() {
    let tagged = refs(
        &fixture("indentless_tagged.yml").replace('\n', "\r\n"),
        "192.0.2.11",
    );
    assert_eq!(
        tagged,
        [
            (
                "servers.web.hosts[0]".to_owned(),
                4,
                "- 192.0.2.11: primary".to_owned()
            ),
            (
                "servers.jobs.hosts[0]".to_owned(),
                7,
                "- 192.0.2.11: [ jobs, experimental ]".to_owned()
            ),
        ]
    );
    let anchored = refs(&fixture("anchors_merge.yml"), "192.0.2.9");
    assert_eq!(
        anchored,
        [(
            "x-role.hosts[0]".to_owned(),
            5,
            "- &main 192.0.2.9".to_owned()
        )]
    );
    assert!(refs(&fixture("decoys.yml"), "203.0.113.10").is_empty());
    let erb = refs(
        "servers:\n  - <%= ENV.fetch('H', '192.0.2.5') %>\n",
        "192.0.2.5",
    );
    assert_eq!(erb.len(), 1);
    assert!(kamal::references(&fixture("not_yaml.yml"), "192.0.2.1").is_err());
}

#[test]
fn check_accepts_erb_and_reports_positions() {
    assert_eq!(kamal::check(&fixture("erb_elsewhere.yml")), Ok(()));
    assert_eq!(kamal::check(""), Ok(()));
    let error = kamal::check(&fixture("not_yaml.yml"))
        .err()
        .unwrap_or_else(|| panic!("no error"));
    assert_eq!((error.line, error.col), (2, 1));
    assert_eq!(
        error.to_string(),
        "line 2, column 1: did not find expected <document start>"
    );
    let tab = kamal::check("servers:\n\t- 192.0.2.1\n")
        .err()
        .map(|e| e.line);
    assert_eq!(tab, Some(2));
}

// ------------------------------------------------------------------------------------------
// --role and destinations, with the same independent checks
// ------------------------------------------------------------------------------------------

#[test]
fn role_placements_load_with_only_their_host_changed() {
    let text = fixture("roles_styles.yml");
    for (role, path, line, old) in [
        ("block", "servers.block.hosts[1]", 10, None),
        ("flow", "servers.flow[1]", 11, None),
        ("flowhosts", "servers.flowhosts.hosts[1]", 13, None),
        ("tagged", "servers.tagged.hosts[1]", 18, None),
        ("bare", "servers.bare[1]", 21, None),
        (
            "placeholder",
            "servers.placeholder.hosts[0]",
            23,
            Some("<IP-ADDRESS>"),
        ),
    ] {
        let placement = Placement::Role(role.to_owned());
        let expected = fixture(&format!("roles_styles.{role}.expected.yml"));
        for (kind, variant) in variants(&text) {
            let label = format!("--role {role} ({kind})");
            let parse = |t| kamal::Config::parse(t).unwrap_or_else(|e| panic!("{e}"));
            let (new, changes) =
                assert_sound_placed(&label, &variant, IP, Some(&placement), &parse);
            let want = variants(&expected)
                .into_iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, e)| e)
                .unwrap_or_default();
            assert_eq!(new, want, "{label}");
            let got: Vec<(&str, usize, Option<&str>)> = changes
                .iter()
                .map(|c| (c.path.as_str(), c.line, c.old.as_deref()))
                .collect();
            assert_eq!(got, [(path, line, old)], "{label}");
        }
    }
    // An unknown role has no list: a hand edit, never a guess.
    let config = kamal::Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    match config.place(IP, &Placement::Role("nope".into())) {
        Edit::Manual { reason, .. } => assert!(reason.contains("no `nope` role"), "{reason}"),
        other => panic!("expected Manual, got {other:?}"),
    }
}

/// What one destination pair of the corpus must give with `edit(IP)`.
const PAIRS: &[(&str, &str, Outcome)] = &[
    (
        "Arie_serveme__deploy.yml",
        "Arie_serveme__deploy.eu.yml",
        Updated(4),
    ),
    (
        "Arie_serveme__deploy.yml",
        "Arie_serveme__deploy.staging.yml",
        Updated(4),
    ),
    (
        "dimagi_commcare-connect__deploy.yml",
        "dimagi_commcare-connect__deploy.production.yml",
        Updated(1),
    ),
    (
        "hosmelq_kamal-laravel__deploy.yml",
        "hosmelq_kamal-laravel__deploy.production.yml",
        Updated(5),
    ),
    (
        "lnu-norge_lokaler.lnu.no__deploy.yml",
        "lnu-norge_lokaler.lnu.no__deploy.production.yml",
        Manual("The web host 95.216.137.182 comes from deploy.yml (lines 16, 61)"),
    ),
];

/// The pairs whose files are both vendored always; the others when the shared corpus is
/// there.
#[test]
fn corpus_destinations_read_with_their_base_file() {
    let files = corpus::all();
    let shared = corpus::shared_dir().is_some();
    let read = |name: &str| {
        files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.clone())
    };
    let vendored = |name: &str| VENDORED.iter().any(|(n, _)| *n == name);
    for (base, dest, expected) in PAIRS {
        if !(shared || vendored(base) && vendored(dest)) {
            println!("note: no shared corpus; {dest} over {base} was not checked");
            continue;
        }
        let base_text = read(base).unwrap_or_else(|| panic!("{base} is not in the corpus"));
        let dest_text = read(dest).unwrap_or_else(|| panic!("{dest} is not in the corpus"));
        let layered = |t| {
            kamal::Config::parse_layered("deploy.yml", &base_text, t)
                .unwrap_or_else(|(l, e)| panic!("{dest} ({l:?}): {e}"))
        };
        match expected {
            Updated(count) => {
                for host in [IP, IPV6] {
                    let (_, changes) = assert_sound_placed(dest, &dest_text, host, None, &layered);
                    assert_eq!(changes.len(), *count, "{dest}: {changes:#?}");
                }
            }
            Manual(needle) => match layered(&dest_text).edit(IP, None) {
                Edit::Manual { reason, spots, .. } => {
                    assert!(reason.contains(needle), "{dest}: {reason}");
                    assert!(!spots.is_empty(), "{dest}: no host lines named");
                    assert!(
                        spots.iter().all(|s| s.layer == Layer::Base),
                        "{dest}: {spots:?}"
                    );
                }
                other => panic!("{dest}: expected Manual, got {other:?}"),
            },
        }
    }
}

#[test]
fn the_fixture_destination_pair_merges_as_kamal_does() {
    let base = fixture("dest_base.yml");
    let own = fixture("dest_staging_own.yml");
    let layered = |t| {
        kamal::Config::parse_layered("config/deploy.yml", &base, t)
            .unwrap_or_else(|(l, e)| panic!("{l:?}: {e}"))
    };
    // The destination's own jobs, db and `ssl: false` win over the base file's.
    let (new, changes) = assert_sound_placed(
        "dest_staging_own",
        &own,
        IP,
        Some(&Placement::Replace),
        &layered,
    );
    assert_eq!(new, own.replace("198.51.100.10", IP));
    assert_eq!(changes.len(), 3);
    let config = layered(&own);
    let Edit::Updated {
        summary,
        other_refs,
        ..
    } = config.place(IP, &Placement::Append)
    else {
        panic!("expected Updated");
    };
    assert_eq!(config.check_rules(&summary), Ok(()));
    assert_eq!(other_refs, []);
    // Without them, the base's HTTPS applies to the destination's web role.
    let bare = fixture("dest_staging.yml");
    let config = layered(&bare);
    let Edit::Updated { summary, .. } = config.place(IP, &Placement::Append) else {
        panic!("expected Updated");
    };
    let broken = config.check_rules(&summary).err();
    let broken = broken.unwrap_or_else(|| panic!("the rule let a second https host through"));
    assert_eq!(
        (
            broken.role.as_str(),
            broken.setting.layer,
            broken.setting.line
        ),
        ("web", Layer::Base, 12)
    );
    assert_eq!(broken.current, ["198.51.100.10"]);
    assert_eq!(broken.others, ["jobs"]);
}

// ------------------------------------------------------------------------------------------
// Speed
// ------------------------------------------------------------------------------------------

/// Run with `cargo test --release --test kamal_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run in release mode"]
fn edit_is_fast_on_the_largest_corpus_files() {
    let mut files = corpus::all();
    files.sort_by_key(|(_, text)| text.len());
    for (name, text) in files.iter().rev().take(3) {
        let size = text.len();
        let rounds = 2000u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(kamal::edit(std::hint::black_box(text), IP).ok());
        }
        let each = start.elapsed() / rounds;
        println!("{name}: {size} bytes, {each:?} per edit");
        if !cfg!(debug_assertions) {
            assert!(
                each < std::time::Duration::from_millis(1),
                "too slow: {each:?}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// The checkers above must be able to fail
// ------------------------------------------------------------------------------------------

#[test]
fn the_independent_checkers_catch_stray_edits() {
    let old = ["1.2.3.4"];
    assert!(is_replaced_line(
        "  - 1.2.3.4 # a\n",
        "  - 203.0.113.10 # a\n",
        &old,
        IP,
        1
    ));
    assert!(is_replaced_line(
        "[1.2.3.4, '1.2.3.4']",
        "[203.0.113.10, '203.0.113.10']",
        &old,
        IP,
        2
    ));
    assert!(!is_replaced_line(
        "  - 1.2.3.4 # a\n",
        "  - 203.0.113.10 # b\n",
        &old,
        IP,
        1
    ));
    assert!(!is_replaced_line(
        "  - '1.2.3.4'\n",
        "  - \"203.0.113.10\"\n",
        &old,
        IP,
        1
    ));
    assert!(!is_replaced_line(
        "  - 1.2.3.4\n",
        "  - 1.2.3.4\n",
        &old,
        IP,
        1
    ));
    assert_eq!(entry_offset(", 203.0.113.10", IP), Some(2));
    assert_eq!(entry_offset("  - 203.0.113.10\n", IP), Some(4));
    assert_eq!(entry_offset("\r\n  - 203.0.113.10", IP), Some(6));
    assert_eq!(entry_offset("  - 203.0.113.10", IP), None);
    assert_eq!(entry_offset("  - 203.0.113.10 # x\n", IP), None);
    let load = |text: &str| YamlLoader::load_from_str(text).unwrap_or_default();
    let olds: HashSet<&str> = ["1.2.3.4"].into_iter().collect();
    let same = |a: &str, b: &str| {
        let (a, b) = (load(a), load(b));
        let mut diff = Diff::default();
        same_apart_from_hosts(&a[0], &b[0], &olds, IP, &mut diff)
    };
    assert!(same("a: [1.2.3.4]\nb: 1", "a: [203.0.113.10]\nb: 1"));
    assert!(same("a: [x]", "a: [x, 203.0.113.10]"));
    assert!(!same("a: [1.2.3.4]\nb: 1", "a: [203.0.113.10]\nb: 2"));
    assert!(!same("a: 1.2.3.5", "a: 203.0.113.10"));
    assert!(!same("a: [x, y]", "a: [x]"));
}
