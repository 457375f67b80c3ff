//! The parser's tests: every flag, every usage error, the help texts against the table.
use super::*;

fn create(args: &[&str]) -> Result<CreateArgs> {
    let mut all = vec!["server", "create"];
    all.extend_from_slice(args);
    match parse(all)? {
        Command::Create(c) => Ok(*c),
        other => panic!("expected create, got {other:?}"),
    }
}

fn usage_msg(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(e @ Error::Usage { .. }) => e.to_string(),
        other => panic!("expected a usage error, got {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = create(&["web1"]).unwrap();
    assert_eq!(c.name, "web1");
    assert_eq!(c.server_type, "cx23");
    assert_eq!(c.image, "ubuntu-24.04");
    assert_eq!(c.location, "nbg1");
    assert_eq!(c.ssh_key, None);
    assert!(c.labels.is_empty());
    assert!(!c.json);
    assert_eq!(c.kamal, KamalArgs::default());
}

#[test]
fn options_before_and_after_the_name() {
    let c = create(&[
        "-t",
        "cpx22",
        "web1",
        "--image=debian-12",
        "-lhel1",
        "--json",
    ])
    .unwrap();
    assert_eq!(
        (c.server_type.as_str(), c.image.as_str()),
        ("cpx22", "debian-12")
    );
    assert_eq!(c.location, "hel1");
    assert!(c.json);
}

#[test]
fn double_dash_ends_options() {
    let c = create(&["--json", "--", "web1"]).unwrap();
    assert_eq!(c.name, "web1");
    // After `--`, something that looks like an option is the name, and gets validated.
    assert!(matches!(create(&["--", "-web"]), Err(Error::Invalid(_))));
}

#[test]
fn labels_repeat_and_later_wins() {
    let c = create(&[
        "web1", "--label", "env=prod", "--label", "team=a", "--label", "env=dev",
    ])
    .unwrap();
    assert_eq!(
        c.labels,
        vec![("team".into(), "a".into()), ("env".into(), "dev".into())]
    );
}

#[test]
fn usage_errors() {
    assert!(usage_msg(create(&["web1", "--bogus"])).contains("unknown option '--bogus'"));
    assert!(usage_msg(create(&["web1", "--image"])).contains("option '--image' needs a value"));
    assert!(
        usage_msg(create(&["web1", "--image", "--location", "x"]))
            .contains("option '--image' needs a value")
    );
    assert!(usage_msg(create(&["web1", "web2"])).contains("unexpected argument 'web2'"));
    assert!(usage_msg(create(&[])).contains("missing the server NAME"));
    assert!(usage_msg(create(&["web1", "--json=yes"])).contains("does not take a value"));
    assert!(usage_msg(create(&["web1"]).and(parse(["bogus"]))).contains("unknown command"));
    assert!(usage_msg(parse(Vec::<&str>::new())).contains("no command given"));
    let msg = usage_msg(create(&["web1", "-x"]));
    assert!(
        msg.ends_with("Run 'pegasus server create --help' for usage."),
        "{msg}"
    );
}

#[test]
fn help_and_version() {
    assert_eq!(parse(["--help"]).unwrap(), Command::Help(USAGE));
    assert_eq!(parse(["-V"]).unwrap(), Command::Version);
    assert_eq!(
        parse(["server", "-h"]).unwrap(),
        Command::Help(SERVER_USAGE)
    );
    assert_eq!(
        parse(["server", "create", "--help"]).unwrap(),
        Command::Help(CREATE_USAGE)
    );
    assert_eq!(
        parse(["server", "list", "-h"]).unwrap(),
        Command::Help(LIST_USAGE)
    );
    assert_eq!(
        parse(["server", "destroy", "x", "--help"]).unwrap(),
        Command::Help(DESTROY_USAGE)
    );
}

#[test]
fn hostnames() {
    for ok in ["web1", "a", "web-1.example.com", "A9", &"a".repeat(63)] {
        assert!(validate_hostname(ok).is_ok(), "{ok}");
    }
    let long_total = vec!["a".repeat(63); 4].join(".");
    for bad in [
        "",
        "bad_name",
        "-web",
        "web-",
        ".web",
        "web.",
        "a..b",
        "we b",
        "wéb",
        &"a".repeat(64),
        &long_total,
    ] {
        assert!(
            matches!(validate_hostname(bad), Err(Error::Invalid(_))),
            "{bad}"
        );
    }
}

#[test]
fn label_rules() {
    assert_eq!(
        parse_label("env=prod").unwrap(),
        ("env".into(), "prod".into())
    );
    assert_eq!(parse_label("empty=").unwrap(), ("empty".into(), "".into()));
    assert!(parse_label("example.com/tier=web").is_ok());
    for bad in [
        "novalue",
        "=x",
        "-a=b",
        "a=-b",
        "a=b c",
        "managed-by=me",
        "hetzner.cloud/x=y",
        "/a=b",
    ] {
        assert!(matches!(parse_label(bad), Err(Error::Invalid(_))), "{bad}");
    }
    assert!(parse_label(&format!("k={}", "v".repeat(64))).is_err());
}

#[test]
fn kamal_flags() {
    let c = create(&["web1", "-c", "deploy/config/deploy.yml", "-d", "staging"]).unwrap();
    assert_eq!(
        c.kamal.config_file,
        Some(PathBuf::from("deploy/config/deploy.yml"))
    );
    assert_eq!(c.kamal.destination.as_deref(), Some("staging"));
    assert!(create(&["web1", "--no-kamal", "-d", "x"]).is_err());
    assert!(matches!(
        create(&["web1", "-d", "../x"]),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn ready_for_kamal_flags() {
    let c = create(&["web1"]).unwrap();
    assert_eq!(c.firewall, FirewallChoice::Default);
    assert_eq!(c.ssh_timeout, DEFAULT_SSH_TIMEOUT);
    assert_eq!((c.ssh_port, c.mode, c.dns), (None, None, false));
    assert_eq!(c.explicit, Explicit::default());
    let c = create(&[
        "web1",
        "--firewall",
        "strict",
        "--ssh-port",
        "2222",
        "--ssh-timeout",
        "0",
        "--append",
        "--dns",
        "-l",
        "fsn1",
        "--user-data",
        "cloud.yml",
    ])
    .unwrap();
    assert_eq!(c.firewall, FirewallChoice::Named("strict".into()));
    assert_eq!((c.ssh_port, c.ssh_timeout), (Some(2222), 0));
    assert_eq!(c.mode, Some(crate::kamal::Mode::Append));
    assert!(c.dns && c.explicit.location && !c.explicit.image);
    assert_eq!(c.user_data, Some(PathBuf::from("cloud.yml")));
    assert_eq!(
        create(&["web1", "--no-firewall", "--replace"])
            .unwrap()
            .firewall,
        FirewallChoice::None
    );
    for bad in [
        &["web1", "--append", "--replace"][..],
        &["web1", "--firewall", "x", "--no-firewall"],
        &["web1", "--dns", "--no-kamal"],
        &["web1", "--append", "--no-kamal"],
        &["web1", "--no-kamal", "--replace"],
    ] {
        assert!(
            usage_msg(create(bad)).contains("exclude each other"),
            "{bad:?}"
        );
    }
    for bad in ["0", "65536", "x"] {
        assert!(matches!(
            create(&["web1", "--ssh-port", bad]),
            Err(Error::Invalid(_))
        ));
    }
    assert!(matches!(
        create(&["web1", "--ssh-timeout", "-1"]),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn destroy_and_list() {
    assert_eq!(
        parse(["server", "delete", "web1", "--yes", "web2", "web1"]).unwrap(),
        Command::Destroy(DestroyArgs {
            names: vec!["web1".into(), "web2".into()],
            yes: true,
            json: false,
            kamal: KamalArgs::default(),
            dns: false,
        })
    );
    assert_eq!(
        parse(["server", "list", "--json"]).unwrap(),
        Command::List(ListArgs {
            json: true,
            ..ListArgs::default()
        })
    );
    assert_eq!(
        parse([
            "server",
            "ls",
            "-o",
            "noheader",
            "-o",
            "columns=name,IPv4,labels",
            "-l",
            "env=prod"
        ])
        .unwrap(),
        Command::List(ListArgs {
            json: false,
            noheader: true,
            columns: Some(vec![Column::Name, Column::Ipv4, Column::Labels]),
            selector: Some("env=prod".into()),
        })
    );
    assert_eq!(
        parse(["server", "list", "-o", "json"]).unwrap(),
        Command::List(ListArgs {
            json: true,
            ..ListArgs::default()
        })
    );
    assert!(parse(["server", "list", "extra"]).is_err());
    assert!(parse(["server", "list", "-o", "json", "-o", "noheader"]).is_err());
    assert!(usage_msg(parse(["server", "list", "-o", "yaml"])).contains("use -o json"));
    assert!(usage_msg(parse(["server", "destroy"])).contains("missing the server NAME"));
    assert_eq!(
        parse(["server", "ip", "-6", "web1"]).unwrap(),
        Command::Ip(IpArgs {
            name: "web1".into(),
            ipv6: true
        })
    );
    assert_eq!(
        parse(["completions", "zsh"]).unwrap(),
        Command::Completions(Shell::Zsh)
    );
}

#[test]
fn help_everywhere_shows_the_same_text() {
    let same = [
        (vec!["help"], USAGE),
        (vec!["-h"], USAGE),
        (vec!["help", "help"], USAGE),
        (vec!["help", "server"], SERVER_USAGE),
        (vec!["server", "help"], SERVER_USAGE),
        (vec!["server", "--help"], SERVER_USAGE),
        (vec!["help", "server", "create"], CREATE_USAGE),
        (vec!["server", "help", "create"], CREATE_USAGE),
        (vec!["server", "create", "-h"], CREATE_USAGE),
        (vec!["help", "server", "ls"], LIST_USAGE),
        (vec!["server", "list", "--help"], LIST_USAGE),
        (vec!["help", "server", "ip"], IP_USAGE),
        (vec!["server", "ip", "--help"], IP_USAGE),
        (vec!["help", "server", "delete"], DESTROY_USAGE),
        (vec!["server", "destroy", "a", "b", "-h"], DESTROY_USAGE),
        (vec!["help", "completions"], COMPLETIONS_USAGE),
        (vec!["completions", "--help"], COMPLETIONS_USAGE),
    ];
    for (args, text) in same {
        assert_eq!(
            parse(args.clone()).unwrap(),
            Command::Help(text),
            "{args:?}"
        );
    }
    assert!(usage_msg(parse(["help", "sevrer"])).contains("did you mean 'server'?"));
    assert!(usage_msg(parse(["help", "server", "destory"])).contains("did you mean 'destroy'?"));
}

#[test]
fn typos_and_hcloud_habits_get_a_hint() {
    let cases: [(&[&str], &str); 12] = [
        (
            &["sever", "list"],
            "unknown command 'sever'; did you mean 'server'?",
        ),
        (&["list"], "did you mean 'pegasus server list'?"),
        (&["destory", "x"], "did you mean 'pegasus server destroy'?"),
        (
            &["server", "lst"],
            "unknown server command 'lst'; did you mean 'list'?",
        ),
        (
            &["server", "destroy", "x", "--jsno"],
            "did you mean '--json'?",
        ),
        (
            &["server", "create", "x", "--server-typ", "a"],
            "did you mean '--server-type'?",
        ),
        (
            &["server", "create", "x", "--type", "cx23"],
            "--server-type (-t)",
        ),
        (
            &["server", "create", "--name", "x"],
            "the name is the first argument",
        ),
        (
            &["server", "create", "x", "-o", "json"],
            "for JSON output use --json",
        ),
        (
            &["server", "list", "-o", "nohead"],
            "did you mean 'noheader'?",
        ),
        (
            &["server", "list", "-o", "columns=nmae"],
            "did you mean 'name'?",
        ),
        (&["completions", "bsh"], "did you mean 'bash'?"),
    ];
    for (args, needle) in cases {
        let msg = usage_msg(parse(args.to_vec()));
        assert!(msg.contains(needle), "{args:?}: {msg}");
    }
    // Far from everything: no hint.
    let msg = usage_msg(parse(["server", "create", "x", "--zzzzzz"]));
    assert!(!msg.contains("did you mean"), "{msg}");
}

#[test]
fn hetzner_names_are_lowercased() {
    let c = create(&["web1", "-t", "CX23", "-l", "FSN1", "-i", "Ubuntu-24.04"]).unwrap();
    assert_eq!(
        (
            c.server_type.as_str(),
            c.location.as_str(),
            c.image.as_str()
        ),
        ("cx23", "fsn1", "ubuntu-24.04")
    );
}

/// A value the parser accepts for an option of the table.
fn sample(value: &str) -> &'static str {
    match value {
        "FORMAT" => "noheader",
        "PORT" => "22",
        "SECONDS" => "5",
        "KEY=VALUE" => "env=prod",
        _ => "x",
    }
}

/// Every option of the table is accepted by its command's parser, in both spellings
/// (ripgrep tests its flag definitions the same way).
#[test]
fn the_parser_accepts_every_option_of_the_table() {
    for cmd in table::COMMANDS {
        if cmd.path == ["help"] {
            continue;
        }
        let positional: &[&str] = match cmd.path {
            ["server", "create" | "ip" | "destroy"] => &["web1"],
            ["completions"] => &["bash"],
            _ => &[],
        };
        for o in cmd.opts() {
            let mut spellings = vec![format!("--{}", o.long)];
            spellings.extend(o.short.map(|c| format!("-{c}")));
            for spelled in spellings {
                let mut args: Vec<String> = cmd.path.iter().map(|s| s.to_string()).collect();
                args.extend(positional.iter().map(|s| s.to_string()));
                args.push(spelled.clone());
                if let Some(v) = o.value {
                    args.push(sample(v).into());
                }
                match parse(args.clone()) {
                    Ok(_) => {}
                    Err(e) => panic!("{args:?} was refused: {e}"),
                }
            }
        }
        let mut args: Vec<String> = cmd.path.iter().map(|s| s.to_string()).collect();
        args.push("--not-an-option".into());
        assert!(matches!(parse(args), Err(Error::Usage { .. })));
    }
}

/// Every option of the table is in its command's help, in the form `-s, --long VALUE`
/// (or `    --long VALUE`), and every `--word` a help text names is an option of that
/// command.
#[test]
fn help_texts_match_the_table() {
    for cmd in table::COMMANDS {
        for o in cmd.opts() {
            let head = match o.short {
                Some(c) => format!("  -{c}, --{}", o.long),
                None => format!("      --{}", o.long),
            };
            let line = match o.value {
                Some(v) => format!("{head} {v}"),
                None => head,
            };
            if cmd.group {
                // The program's and `server`'s own options are in the usage lines.
                assert!(
                    cmd.help.contains(&format!("--{}", o.long))
                        || cmd.help.contains(&format!("-{}", o.short.unwrap_or('?'))),
                    "{:?} help lacks --{}",
                    cmd.path,
                    o.long
                );
                continue;
            }
            assert!(
                cmd.help.contains(&line),
                "the help of {:?} lacks {line:?}",
                cmd.path
            );
        }
        for word in long_words(cmd.help) {
            assert!(
                cmd.long(&word).is_some()
                    || (cmd.help == USAGE
                        && table::COMMANDS.iter().any(|c| c.long(&word).is_some())),
                "the help of {:?} names --{word}, which it does not accept",
                cmd.path
            );
        }
    }
}

/// The top-level usage lists every command with every option.
#[test]
fn the_usage_lists_every_command_and_option() {
    for cmd in table::COMMANDS.iter().filter(|c| !c.group) {
        let start = format!("  pegasus {}", cmd.path.join(" "));
        let at = USAGE
            .find(&start)
            .unwrap_or_else(|| panic!("the usage lacks {start:?}"));
        let rest = &USAGE[at + start.len()..];
        let block = &rest[..rest.find("\n  pegasus ").unwrap_or(rest.len())];
        if let Some(alias) = cmd.alias {
            assert!(block.contains(&format!("alias: {alias}")), "{start}");
        }
        for o in cmd.opts().iter().filter(|o| o.long != "help") {
            let short = o.short.map(|c| format!("[-{c}"));
            assert!(
                block.contains(&format!("--{}", o.long))
                    || short.is_some_and(|s| block.contains(&s)),
                "the usage of {start:?} lacks --{}",
                o.long
            );
        }
    }
    for o in table::TOP.opts() {
        assert!(USAGE.contains(&format!("--{}", o.long)));
    }
}

/// `--word`s in a text (not `--` alone).
fn long_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        let after = &rest[i + 2..];
        let word: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let before_ok = i == 0 || !rest[..i].ends_with(|c: char| c.is_ascii_alphanumeric());
        if !word.is_empty() && before_ok {
            out.push(word.clone());
        }
        rest = &after[word.len()..];
    }
    out
}

// ------------------------------------------------------------------ numbers

fn invalid_msg(r: Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Invalid(msg)) => msg,
        other => panic!("expected an invalid value, got {other:?}"),
    }
}

/// A numeric option takes a negative number and says its range (SPEC §2); any other
/// value that starts with '-' is a missing value.
#[test]
fn numbers_take_negative_values_and_report_their_range() {
    for v in ["-1", "-0", "x", "1.5", " 5", "+5", "1e3"] {
        let msg = invalid_msg(create(&["web1", "--ssh-timeout", v]));
        assert!(
            msg.contains("must be a number of seconds ≥ 0"),
            "{v}: {msg}"
        );
        assert!(!msg.contains("needs a value"), "{v}: {msg}");
    }
    let msg = invalid_msg(create(&["web1", "--ssh-timeout=-1"]));
    assert_eq!(
        msg,
        "invalid --ssh-timeout '-1': must be a number of seconds ≥ 0 (0 skips the wait)"
    );
    for v in ["86401", "99999999999999999999999"] {
        let msg = invalid_msg(create(&["web1", "--ssh-timeout", v]));
        assert!(msg.contains("must be at most 86400 seconds"), "{v}: {msg}");
    }
    assert_eq!(
        create(&["web1", "--ssh-timeout", "86400"])
            .unwrap()
            .ssh_timeout,
        86400
    );
    for v in ["-5", "0", "70000", "65536", "-65535", "+22", "x", "22 "] {
        let msg = invalid_msg(create(&["web1", "--ssh-port", v]));
        assert_eq!(
            msg,
            format!("invalid --ssh-port '{v}': must be a number from 1 to 65535")
        );
    }
    for (v, want) in [("1", 1), ("65535", 65535), ("0022", 22)] {
        assert_eq!(
            create(&["web1", "--ssh-port", v]).unwrap().ssh_port,
            Some(want)
        );
    }
    // Not numbers: no value at all.
    for args in [
        &["web1", "--ssh-timeout", "--json"][..],
        &["web1", "--ssh-timeout", "-x"],
        &["web1", "--ssh-port", "-"],
        &["web1", "--ssh-port"],
        &["web1", "--image", "-1"],
        &["web1", "--role", "-web"],
        &["web1", "-c", "-x.yml"],
    ] {
        let msg = usage_msg(create(args));
        assert!(msg.contains("needs a value"), "{args:?}: {msg}");
    }
}

// ------------------------------------------------------------------ typos

#[test]
fn long_option_typos_say_what_was_meant() {
    let cases: &[(&[&str], &str)] = &[
        // A typo of the hcloud habit `--type`: what the user meant is --server-type.
        (
            &["server", "create", "x", "--tpye", "cx23"],
            "unknown option '--tpye': pegasus spells it --server-type (-t)",
        ),
        (
            &["server", "create", "x", "--typ", "cx23"],
            "pegasus spells it --server-type (-t)",
        ),
        (
            &["server", "create", "x", "--imgae", "y"],
            "unknown option '--imgae'; did you mean '--image'?",
        ),
        (
            &["server", "create", "x", "--ssh-timout", "5"],
            "did you mean '--ssh-timeout'?",
        ),
        (
            &["server", "create", "x", "--no-kmal"],
            "did you mean '--no-kamal'?",
        ),
        (
            &["server", "create", "x", "--dryrun"],
            "did you mean '--dry-run'?",
        ),
        (
            &["server", "create", "x", "--lable", "a=b"],
            "did you mean '--label'?",
        ),
        (
            &["server", "create", "--nmae", "x"],
            "the name is the first argument: pegasus server create NAME",
        ),
        (
            &["server", "create", "x", "--output", "json"],
            "for JSON output use --json",
        ),
        (
            &["server", "create", "x", "-o", "yaml"],
            "create has no -o yaml; for JSON output use --json",
        ),
        (
            &["server", "create", "x", "--user-data-from-file", "f"],
            "pegasus spells it --user-data FILE",
        ),
        (
            &["server", "destroy", "x", "--froce"],
            "to delete without asking use --yes (-y)",
        ),
        (&["server", "destroy", "x", "-f"], "use --yes (-y)"),
        (
            &["server", "destroy", "x", "--no-kamla"],
            "did you mean '--no-kamal'?",
        ),
        (
            &["server", "list", "--slector", "a=b"],
            "did you mean '--selector'?",
        ),
        (&["server", "ip", "x", "--ipv5"], "did you mean '--ipv6'?"),
    ];
    for (args, needle) in cases {
        let msg = usage_msg(parse(args.to_vec()));
        assert!(msg.contains(needle), "{args:?}: {msg}");
        assert_eq!(msg.lines().count(), 2, "{msg}");
    }
    // Habits belong to their command: `list` has no --type habit, and nothing is near.
    let msg = usage_msg(parse(["server", "list", "--type"]));
    assert_eq!(
        msg,
        "unknown option '--type'\nRun 'pegasus server list --help' for usage."
    );
    // What the user typed is shown escaped.
    let msg = usage_msg(parse(["server", "create", "x", "--a\x1b[2Jb"]));
    assert!(!msg.contains('\x1b'), "{msg:?}");
}

// ------------------------------------------------------------------ exclusions

/// A value the parser accepts for an option, by its long name.
fn sample_for(o: &table::Opt) -> Option<&'static str> {
    o.value.map(sample)
}

/// The arguments that give option `o` (with a sample value).
fn given(o: &table::Opt) -> Vec<String> {
    let mut v = vec![format!("--{}", o.long)];
    v.extend(sample_for(o).map(String::from));
    v
}

/// SPEC §2's exclusions, exactly: each pair is a usage error naming both; every other
/// pair of options is accepted together.
#[test]
fn exclusions_are_exactly_the_spec() {
    let spec_create = [
        ("append", "replace"),
        ("role", "append"),
        ("role", "replace"),
        ("role", "dns"),
        ("firewall", "no-firewall"),
        ("no-kamal", "dns"),
        ("no-kamal", "role"),
        ("no-kamal", "append"),
        ("no-kamal", "replace"),
        ("no-kamal", "config-file"),
        ("no-kamal", "destination"),
    ];
    let spec_destroy = [
        ("no-kamal", "dns"),
        ("no-kamal", "config-file"),
        ("no-kamal", "destination"),
    ];
    for (cmd, positional, pairs) in [
        (&table::CREATE, "web1", &spec_create[..]),
        (&table::DESTROY, "web1", &spec_destroy[..]),
    ] {
        let opts: Vec<&table::Opt> = cmd
            .opts()
            .into_iter()
            .filter(|o| o.long != "help")
            .collect();
        for (i, a) in opts.iter().enumerate() {
            for b in &opts[i + 1..] {
                let excluded = pairs
                    .iter()
                    .any(|&(x, y)| (x, y) == (a.long, b.long) || (y, x) == (a.long, b.long));
                for (first, second) in [(a, b), (b, a)] {
                    let mut args: Vec<String> = cmd.path.iter().map(|s| s.to_string()).collect();
                    args.push(positional.into());
                    args.extend(given(first));
                    args.extend(given(second));
                    let r = parse(args.clone());
                    if !excluded {
                        assert!(r.is_ok(), "{args:?}: {r:?}");
                        continue;
                    }
                    let msg = usage_msg(r);
                    let (x, y) = pairs
                        .iter()
                        .find(|&&(x, y)| (x, y) == (a.long, b.long) || (y, x) == (a.long, b.long))
                        .copied()
                        .unwrap();
                    let name = |long: &str| cmd.long(long).unwrap().shown();
                    let head = format!("{} and {} exclude each other", name(x), name(y));
                    let mut lines = msg.lines();
                    let first_line = lines.next().unwrap();
                    assert!(first_line.starts_with(&head), "{args:?}: {msg}");
                    assert_eq!(
                        lines.next(),
                        Some(format!("Run '{}' for usage.", cmd.help_hint()).as_str())
                    );
                    assert_eq!(lines.next(), None);
                }
            }
        }
    }
    assert_eq!(
        usage_msg(create(&["web1", "-c", "x.yml", "--no-kamal"])),
        "--no-kamal and --config-file (-c) exclude each other: --no-kamal reads and \
         writes no Kamal config\nRun 'pegasus server create --help' for usage."
    );
    assert_eq!(
        usage_msg(create(&["web1", "--role", "jobs", "--dns"])),
        "--role and --dns exclude each other\nRun 'pegasus server create --help' for usage."
    );
}

// ------------------------------------------------------------------ help texts

/// Every help text fits 80 columns.
#[test]
fn help_texts_fit_80_columns() {
    for cmd in table::COMMANDS {
        for line in cmd.help.lines() {
            assert!(
                line.chars().count() <= 80,
                "{:?}: {} columns: {line}",
                cmd.path,
                line.chars().count()
            );
            assert!(!line.contains('\t'), "{line}");
        }
    }
}

// ------------------------------------------------------------------ pick-up and destroy

mod replaying {
    use super::super::replay::*;
    use super::*;
    use std::ffi::OsString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::Path;

    /// The shells a printed command must work in: `sh` (POSIX) and bash always; zsh and
    /// fish as `make test` installs them (PEGASUS_SKIP_SHELLS=1 skips those two).
    fn shells() -> Vec<&'static str> {
        let mut out = vec!["sh", "bash"];
        for extra in ["zsh", "fish"] {
            let found = std::process::Command::new(extra)
                .arg("--version")
                .output()
                .is_ok();
            let skip = std::env::var("PEGASUS_SKIP_SHELLS").is_ok_and(|v| v == "1");
            assert!(
                found || skip,
                "{extra} is not installed (make test-deps), or set PEGASUS_SKIP_SHELLS=1"
            );
            if found {
                out.push(extra);
            }
        }
        out
    }

    /// The words `shell` makes of `line` (which starts with `pegasus`, here a function
    /// that prints each of its arguments NUL-terminated), `pegasus` included.
    fn split_by(shell: &str, line: &str) -> Vec<OsString> {
        let (program, args, define): (&str, &[&str], &str) = match shell {
            "fish" => (
                "fish",
                &["--no-config", "-c"],
                "function pegasus; printf '%s\\0' pegasus; for a in $argv; printf '%s\\0' $a; end; end\n",
            ),
            "zsh" => (
                "zsh",
                &["-f", "-c"],
                "pegasus() { printf '%s\\0' pegasus \"$@\"; }\n",
            ),
            other => (
                other,
                &["-c"],
                "pegasus() { printf '%s\\0' pegasus \"$@\"; }\n",
            ),
        };
        let out = std::process::Command::new(program)
            .args(args)
            .arg(format!("{define}{line}\n"))
            .output()
            .unwrap_or_else(|e| panic!("{shell}: {e}"));
        assert!(
            out.status.success(),
            "{shell}: {}\n{line}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut words: Vec<OsString> = out
            .stdout
            .split(|b| *b == 0)
            .map(|w| OsString::from_vec(w.to_vec()))
            .collect();
        assert_eq!(words.pop(), Some(OsString::new()), "{shell}: {line}");
        words
    }

    fn os(args: &[&[u8]]) -> Vec<OsString> {
        args.iter()
            .map(|a| std::ffi::OsStr::from_bytes(a).to_owned())
            .collect()
    }

    fn parse_create(words: &[OsString]) -> CreateArgs {
        assert_eq!(words[0], "pegasus");
        match parse(words[1..].to_vec()) {
            Ok(Command::Create(c)) => *c,
            other => panic!("{words:?}: {other:?}"),
        }
    }

    const HOSTILE: &str = "fw 'one' \"two\" $HOME `id` $(id) \\ back\\\\slash\nnew line\ttab \
                           é 日本 \x1b[31mred \u{202e}rtl \u{9b}c1 \u{2028} !hist *glob ~tilde \
                           #hash ;semi &amp |pipe <in >out {a,b} [x] %p =eq \r end'";

    /// The run's arguments (after `pegasus`), the Kamal file it used, the current folder,
    /// and the `-c` a pick-up must carry.
    type Case = (
        Vec<OsString>,
        Option<&'static str>,
        Option<&'static str>,
        Option<PathBuf>,
    );

    fn cases() -> Vec<Case> {
        vec![
            (os(&[b"server", b"create", b"web1"]), None, None, None),
            (
                os(&[
                    b"server",
                    b"create",
                    b"-t",
                    b"CX33",
                    b"--image",
                    b"My Image's",
                    b"-l",
                    b"=weird",
                    b"web-1.example.com",
                    b"-k",
                    b"keys/\xff\xfe key.pub",
                    b"--label",
                    b"env=prod",
                    b"--label",
                    b"example.com/tier=web-1",
                    b"--label",
                    b"empty=",
                    b"--firewall",
                    HOSTILE.as_bytes(),
                    b"--user-data",
                    b"cloud init/user's data.yml",
                    b"--ssh-port",
                    b"2222",
                    b"--ssh-timeout",
                    b"0",
                    b"-c",
                    b"conf dir/d\xc3\xa9'ploy $x.yml",
                    b"-d",
                    b"staging.eu",
                    b"--append",
                    b"--dns",
                    b"-y",
                    b"--json",
                ]),
                // A file that was used is not what -c names when -c was given.
                Some("/elsewhere/config/deploy.staging.eu.yml"),
                Some("/elsewhere"),
                Some(PathBuf::from("conf dir/dé'ploy $x.yml")),
            ),
            (
                os(&[
                    b"server",
                    b"create",
                    b"db1",
                    b"--no-kamal",
                    b"--no-firewall",
                    b"--ssh-timeout",
                    b"30",
                    b"--user-data=/abs/path/\x1b]0;title\x07.yml",
                ]),
                None,
                None,
                None,
            ),
            (
                os(&[
                    b"server",
                    b"create",
                    b"worker1",
                    b"--role",
                    b"jobs 'n' $(stuff)\n",
                    b"-d",
                    b"staging",
                ]),
                Some("/home/u/shop/config/deploy.staging.yml"),
                Some("/home/u/shop/app/sub"),
                Some(PathBuf::from("../../config/deploy.yml")),
            ),
            (
                os(&[
                    b"server",
                    b"create",
                    b"web2",
                    b"--replace",
                    b"--firewall",
                    b"strict",
                    b"--ssh-timeout",
                    b"600",
                    b"-i",
                    b"12345",
                ]),
                Some("config/deploy.yml"),
                Some("/home/u/shop"),
                Some(PathBuf::from("config/deploy.yml")),
            ),
        ]
    }

    /// Rendered, split by a real shell and parsed back, a pick-up command is the run it
    /// continues (the `-c` naming the file used); so is a destroy command's Kamal part.
    #[test]
    fn printed_commands_parse_back_to_the_same_run() {
        let shells = shells();
        for (argv, used, cwd, config) in cases() {
            let args = match parse(argv.clone()).unwrap() {
                Command::Create(c) => *c,
                other => panic!("{other:?}"),
            };
            let mut want = args.clone();
            want.kamal.config_file = config.clone();
            let used = used.map(Path::new);
            let cwd = cwd.map(Path::new);

            let words = pick_up_words(&args, used, cwd);
            assert_eq!(parse_create(&words), want, "{words:?}");
            let line = pick_up_command(&args, used, cwd);
            assert!(
                !line.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters: {line:?}"
            );
            for dns in [false, true] {
                let destroy_line = destroy_command(&args, used, cwd, dns);
                let destroy = destroy_words(&args, used, cwd, dns);
                for shell in &shells {
                    assert_eq!(split_by(shell, &line), words, "{shell}: {line}");
                    assert_eq!(split_by(shell, &destroy_line), destroy, "{shell}");
                }
                match parse(destroy[1..].to_vec()).unwrap() {
                    Command::Destroy(d) => assert_eq!(
                        d,
                        DestroyArgs {
                            names: vec![args.name.clone()],
                            yes: false,
                            json: false,
                            kamal: want.kamal.clone(),
                            dns: dns && !args.kamal.no_kamal,
                        }
                    ),
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn the_staging_run_names_its_files() {
        let args = create(&["staging1", "-d", "staging"]).unwrap();
        let used = Path::new("/home/u/shop/config/deploy.staging.yml");
        let cwd = Path::new("/home/u/shop");
        assert_eq!(
            pick_up_command(&args, Some(used), Some(cwd)),
            "pegasus server create staging1 -c config/deploy.yml -d staging"
        );
        assert_eq!(
            destroy_command(&args, Some(used), Some(cwd), true),
            "pegasus server destroy staging1 -c config/deploy.yml -d staging --dns"
        );
        // Found in a parent folder, without -d.
        let args = create(&["web1", "--ssh-port", "2222", "--dns"]).unwrap();
        let used = Path::new("/home/u/shop/config/deploy.yml");
        assert_eq!(
            pick_up_command(&args, Some(used), Some(Path::new("/home/u/shop/app"))),
            "pegasus server create web1 --ssh-port 2222 -c ../config/deploy.yml --dns"
        );
        // No current folder known: the path as found.
        assert_eq!(
            destroy_command(&args, Some(used), None, false),
            "pegasus server destroy web1 -c /home/u/shop/config/deploy.yml"
        );
        // --no-kamal: no -c, whatever was passed.
        let args = create(&["web1", "--no-kamal", "-k", "-my key.pub"]);
        assert!(args.is_err(), "a value may not start with '-'");
        let args = create(&["web1", "--no-kamal", "-k=./-my key.pub"]).unwrap();
        assert_eq!(
            pick_up_command(&args, Some(used), Some(cwd)),
            "pegasus server create web1 -k './-my key.pub' --no-kamal"
        );
        assert_eq!(
            destroy_command(&args, Some(used), Some(cwd), false),
            "pegasus server destroy web1 --no-kamal"
        );
    }

    #[test]
    fn a_path_that_starts_with_a_dash_is_not_an_option() {
        let mut args = create(&["web1", "--no-kamal"]).unwrap();
        args.user_data = Some(PathBuf::from("-data.yml"));
        let words = pick_up_words(&args, None, None);
        let back = parse_create(&words);
        assert_eq!(back.user_data, Some(PathBuf::from("./-data.yml")));
        assert_eq!(
            pick_up_command(&args, None, None),
            "pegasus server create web1 --user-data ./-data.yml --no-kamal"
        );
    }

    #[test]
    fn relative_paths() {
        let r = |d: &str, p: &str| relative_to(Path::new(d), Path::new(p));
        assert_eq!(r("/a/b", "/a/b/c.yml"), Some(PathBuf::from("c.yml")));
        assert_eq!(r("/a/b/c", "/a/x.yml"), Some(PathBuf::from("../../x.yml")));
        assert_eq!(r("/a", "/b/x.yml"), None);
        assert_eq!(r("/a/b", "/a/b"), None);
        assert_eq!(r("/a/../b", "/a/x"), None);
        assert_eq!(r("a", "/a/x"), None);
    }
}
