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
        Err(Error::Usage { .. })
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
        for o in cmd.opts {
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
        for o in cmd.opts {
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
        for o in cmd.opts.iter().filter(|o| o.long != "help") {
            let short = o.short.map(|c| format!("[-{c}"));
            assert!(
                block.contains(&format!("--{}", o.long))
                    || short.is_some_and(|s| block.contains(&s)),
                "the usage of {start:?} lacks --{}",
                o.long
            );
        }
    }
    for o in table::TOP.opts {
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
