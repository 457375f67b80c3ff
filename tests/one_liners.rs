//! Made for shell one-liners (issue 12): list formats and selectors, `server ip`,
//! several names for destroy, help and typos, completions, hcloud contexts, and every
//! one-liner of the README, all against the fake API.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::pty::run_on_pty;
use common::*;

/// The folder holding the binary (named `pegasus`), for PATH.
fn bin_dir() -> PathBuf {
    Path::new(BIN).parent().unwrap().to_path_buf()
}

/// `bash -c SCRIPT` in the project, with the binary on PATH and the project's env.
fn bash(p: &Project, script: &str, extra_path: Option<&Path>) -> Run {
    let mut cmd = Command::new("bash");
    let mut path = String::new();
    if let Some(extra) = extra_path {
        path.push_str(&format!("{}:", extra.display()));
    }
    path.push_str(&format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        bin_dir().display()
    ));
    cmd.args(["--noprofile", "--norc", "-c", script])
        .current_dir(p.dir.path())
        .env_clear()
        .env("PATH", path)
        .env("HOME", p.home.path())
        .env("HCLOUD_ENDPOINT", p.fake.endpoint())
        .env("PEGASUS_TEST_POLL_MS", "1")
        .env("PEGASUS_TEST_BACKOFF_MS", "1");
    for (k, v) in &p.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    run_command(cmd, "")
}

// ---------------------------------------------------------------- server list

#[test]
fn list_noheader_columns_name_gives_exactly_the_names() {
    let p = Project::new();
    p.fake.set_page_size(2);
    for name in ["web1", "web2", "db1"] {
        p.fake.add_server(name);
    }
    let run = p.run(&["server", "list", "-o", "noheader", "-o", "columns=name"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "web1\nweb2\ndb1\n", "{}", run.dump());
    assert_eq!(run.stderr, "", "{}", run.dump());
}

#[test]
fn list_columns_in_the_order_asked_with_labels_as_pairs() {
    let p = Project::new();
    let id = p
        .fake
        .add_server_with("web1", &[("managed-by", "pegasus"), ("env", "prod")], false);
    p.fake.add_server("db1");
    let run = p.run(&["server", "ls", "-o", "columns=labels,id,NAME,ipv4"]);
    assert_exit(&run, 0);
    let expected = format!(
        "LABELS                        ID{pad}   NAME   IPV4\n\
         env=prod,managed-by=pegasus   {id}   web1   198.51.100.10\n\
         -                             {id2}   db1    198.51.100.11\n",
        pad = " ".repeat(id.to_string().len().saturating_sub(2)),
        id2 = id + 1,
    );
    assert_eq!(run.stdout, expected, "{}", run.dump());
    // `awk` finds a server's address by name in the default table.
    let run = bash(
        &p,
        "pegasus server list | awk '$1 == \"db1\" {print $5}'",
        None,
    );
    assert_eq!(run.stdout, "198.51.100.11\n", "{}", run.dump());
}

#[test]
fn list_selector_goes_to_the_api_as_label_selector() {
    let p = Project::new();
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    p.fake.add_server("db1");
    let run = p.run(&[
        "server",
        "list",
        "-l",
        "managed-by=pegasus",
        "-o",
        "noheader",
        "-o",
        "columns=name",
    ]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "web1\n", "{}", run.dump());
    let lists: Vec<String> = p
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/servers")
        .map(|r| r.query)
        .collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert!(
        lists[0].contains("label_selector=managed-by%3Dpegasus"),
        "{lists:?}"
    );
    // Nothing matches: the header on stdout, the note on stderr.
    let run = p.run(&["server", "list", "--selector", "env=none"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    assert_stderr(&run, "No servers match the selector 'env=none'");
}

#[test]
fn list_o_json_is_json() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = p.run(&["server", "list", "-o", "json"]);
    let b = p.run(&["server", "list", "--json"]);
    assert_exit(&a, 0);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.json()[0]["name"], "web1");
}

// ---------------------------------------------------------------- server ip

#[test]
fn ip_prints_the_address_alone() {
    let mut p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "198.51.100.10\n");
    let run = p.run(&["server", "ip", "-6", "web1"]);
    assert_eq!(run.stdout, "2001:db8:f001::1\n", "{}", run.dump());
    let run = p.run(&["server", "ip", "web1", "--ipv6"]);
    assert_eq!(run.stdout, "2001:db8:f001::1\n", "{}", run.dump());

    // No IPv4: the IPv6 address.
    p.fake.set_ipv4_enabled(false);
    p.set_env("PEGASUS_TEST_SSH_TIMEOUT", None);
    let run = p.run(&[
        "server",
        "create",
        "v6only",
        "--no-kamal",
        "--ssh-timeout",
        "0",
    ]);
    assert_exit(&run, 0);
    let v6 = p.fake.server_json("v6only").unwrap()["public_net"]["ipv6"]["ip"]
        .as_str()
        .unwrap()
        .trim_end_matches("/64")
        .to_string();
    let run = p.run(&["server", "ip", "v6only"]);
    assert_eq!(run.stdout, format!("{v6}1\n"), "{}", run.dump());
}

#[test]
fn ip_of_an_unknown_name_fails_with_nothing_on_stdout() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "ip", "web2"]);
    assert_exit(&run, 1);
    assert_eq!(run.stdout, "");
    assert_stderr(&run, "no server named web2; the servers are: web1");
}

// ---------------------------------------------------------------- destroy NAME...

#[test]
fn destroy_several_deletes_them_side_by_side() {
    let p = Project::new();
    let a = p.fake.add_server("web1");
    let b = p.fake.add_server("web2");
    p.fake.add_server("db1");
    // Each DELETE is answered late: done one after the other, a poll would come
    // between them; side by side, both arrive before any answer. The delay is far longer
    // than starting the second request takes, even on a loaded machine.
    p.fake.inject(
        "DELETE",
        "/v1/servers",
        Fault::Delay(std::time::Duration::from_secs(2)),
        2,
    );
    let run = p.run(&["server", "destroy", "web1", "web2", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(
        run.stdout,
        "Server web1 is deleted.\nServer web2 is deleted.\n",
        "{}",
        run.dump()
    );
    assert_eq!(p.fake.server_names(), ["db1"]);
    assert_stderr(&run, "Server web1: deleted");
    assert_stderr(&run, "Server web2: deleted");
    let log = p.fake.requests();
    let deletes: Vec<usize> = log
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "DELETE")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(deletes.len(), 2, "{log:#?}");
    assert_eq!(deletes[1], deletes[0] + 1, "not side by side: {log:#?}");
    let mut paths: Vec<String> = deletes.iter().map(|&i| log[i].path.clone()).collect();
    paths.sort();
    let mut want = vec![format!("/v1/servers/{a}"), format!("/v1/servers/{b}")];
    want.sort();
    assert_eq!(paths, want);
}

#[test]
fn destroy_with_one_unknown_name_deletes_nothing() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("web2");
    let run = p.run(&["server", "destroy", "web1", "nope", "web2", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "no server named nope");
    assert_stderr(&run, "nothing was deleted");
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
    assert_eq!(p.fake.server_names(), ["web1", "web2"]);
}

#[test]
fn destroy_json_is_one_object_per_line_keys_in_create_order() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("web2");
    let run = p.run(&["server", "destroy", "web2", "web1", "-y", "--json"]);
    assert_exit(&run, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.dump());
    for (line, name) in lines.iter().zip(["web2", "web1"]) {
        assert!(line.starts_with(r#"{"server":{"id":"#), "key order: {line}");
        assert!(
            line.contains(r#","status":"#) && line.find(r#""name""#) < line.find(r#""status""#),
            "server key order: {line}"
        );
        assert!(line.contains(r#"},"deleted":true,"kamal":{"#), "{line}");
        assert!(line.ends_with(r#"},"dns":[]}"#), "{line}");
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["server"]["name"], name);
    }
}

#[test]
fn destroy_several_on_a_terminal_asks_for_their_number() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("web2");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1", "web2"]),
        &[("Type 2 to confirm: ", "web1")],
    );
    assert_eq!(run.code, 1, "{}", run.screen);
    assert!(run.screen.contains("nothing was deleted"), "{}", run.screen);
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1", "web2"]),
        &[("This deletes 2 servers (web1, web2)", "2")],
    );
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn ctrl_d_at_the_destroy_prompt_prints_its_message_on_its_own_line() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1"]),
        &[("Type the name to confirm: ", "\u{4}")],
    );
    assert_eq!(run.code, 1, "{}", run.screen);
    let line = run
        .screen
        .lines()
        .find(|l| l.contains("nothing was deleted"))
        .unwrap_or_else(|| panic!("{}", run.screen));
    assert!(
        line.contains("error:") && !line.contains("confirm"),
        "{:?}\n{}",
        line,
        run.screen
    );
    assert_eq!(p.fake.server_names(), ["web1"]);
}

// ---------------------------------------------------------------- help and typos

#[test]
fn help_is_the_same_text_everywhere() {
    let p = Project::new();
    let groups: [&[&[&str]]; 5] = [
        &[&["help"], &["--help"], &["-h"]],
        &[
            &["help", "server"],
            &["server", "help"],
            &["server", "--help"],
        ],
        &[
            &["help", "server", "create"],
            &["server", "help", "create"],
            &["server", "create", "--help"],
            &["server", "create", "web1", "-h"],
        ],
        &[
            &["help", "server", "destroy"],
            &["help", "server", "delete"],
            &["server", "delete", "--help"],
        ],
        &[&["help", "completions"], &["completions", "-h"]],
    ];
    for group in groups {
        let first = p.run(group[0]);
        assert_exit(&first, 0);
        assert!(first.stdout.contains("Usage:"), "{}", first.dump());
        for args in &group[1..] {
            let run = p.run(args);
            assert_exit(&run, 0);
            assert_eq!(run.stdout, first.stdout, "{args:?}");
        }
    }
    // Every help text fits 80 columns.
    for args in [
        &["help"][..],
        &["server", "--help"],
        &["server", "create", "--help"],
        &["server", "list", "--help"],
        &["server", "ip", "--help"],
        &["server", "destroy", "--help"],
        &["completions", "--help"],
    ] {
        let run = p.run(args);
        assert_exit(&run, 0);
        for line in run.stdout.lines() {
            assert!(line.chars().count() <= 80, "{args:?}: {line}");
        }
    }
    let usage = p.run(&["help"]).stdout;
    for needle in [
        "server destroy <NAME>... [-y] [-c PATH] [-d DEST] [--no-kamal] [--dns]",
        "(alias: ls)",
        "(alias: delete)",
        "pegasus server ip <NAME> [-6]",
        "pegasus completions <bash|zsh|fish>",
        "pegasus help [COMMAND...]",
    ] {
        assert!(usage.contains(needle), "{needle}\n{usage}");
    }
    assert!(p.fake.requests().is_empty());
}

#[test]
fn typos_and_hcloud_habits_fail_before_any_request() {
    let p = Project::new();
    p.fake.add_server("web1");
    let cases: &[(&[&str], &str)] = &[
        (&["sever", "list"], "did you mean 'server'?"),
        (&["list"], "did you mean 'pegasus server list'?"),
        (&["server", "lsit"], "did you mean 'list'?"),
        (&["server", "destory", "web1"], "did you mean 'destroy'?"),
        (&["server", "list", "--josn"], "did you mean '--json'?"),
        (
            &["server", "destroy", "web1", "--yse"],
            "did you mean '--yes'?",
        ),
        (
            &["server", "create", "web2", "--type", "cx23"],
            "--server-type (-t)",
        ),
        (
            &["server", "create", "--name", "web2"],
            "pegasus server create NAME",
        ),
        (&["server", "create", "web2", "-o", "json"], "use --json"),
        (
            &["server", "list", "-o", "columns=name,ip"],
            "unknown column 'ip'",
        ),
        (&["completions", "zhs"], "did you mean 'zsh'?"),
        (
            &["server", "create", "web2", "--tpye", "cx23"],
            "unknown option '--tpye': pegasus spells it --server-type (-t)",
        ),
        (
            &["server", "create", "web2", "--imgae", "debian-12"],
            "did you mean '--image'?",
        ),
        (
            &["server", "create", "web2", "--ssh-timeout", "--json"],
            "option '--ssh-timeout' needs a value",
        ),
        (
            &["server", "create", "web2", "--ssh-timeout", "-1"],
            "invalid --ssh-timeout '-1': must be a number of seconds ≥ 0",
        ),
        (
            &["server", "create", "web2", "--ssh-port", "-5"],
            "invalid --ssh-port '-5': must be a number from 1 to 65535",
        ),
        (
            &["server", "create", "web2", "--ssh-port", "70000"],
            "must be a number from 1 to 65535",
        ),
        (
            &["server", "create", "web2", "--role", "jobs", "--append"],
            "--role and --append exclude each other",
        ),
        (
            &["server", "create", "web2", "-d", "staging", "--no-kamal"],
            "--no-kamal and --destination (-d) exclude each other",
        ),
        (
            &["server", "destroy", "web1", "--no-kamal", "--dns"],
            "--no-kamal and --dns exclude each other",
        ),
    ];
    for (args, needle) in cases {
        let run = p.run(args);
        assert_exit(&run, 2);
        assert_stderr(&run, needle);
        assert_eq!(run.stdout, "");
    }
    assert!(p.fake.requests().is_empty(), "{:#?}", p.fake.requests());
}

#[test]
fn type_location_and_image_names_are_matched_case_insensitively() {
    let p = Project::new();
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "-t",
        "CX23",
        "-l",
        "NBG1",
        "-i",
        "Ubuntu-24.04",
        "--json",
        "--no-kamal",
        "--ssh-timeout",
        "0",
    ]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["server"]["server_type"], "cx23");
    assert_eq!(v["server"]["location"], "nbg1");
    let post = p
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v1/servers")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(
        (&body["server_type"], &body["location"], &body["image"]),
        (
            &serde_json::json!("cx23"),
            &serde_json::json!("nbg1"),
            &serde_json::json!("ubuntu-24.04")
        )
    );
}

// ---------------------------------------------------------------- completions

#[test]
fn completion_scripts_parse() {
    let p = Project::new();
    let shells: [(&str, &str, &[&str]); 3] = [
        ("bash", "bash", &["-n"]),
        ("zsh", "zsh", &["-n"]),
        ("fish", "fish", &["--no-execute"]),
    ];
    for (shell, program, flags) in shells {
        let run = p.run(&["completions", shell]);
        assert_exit(&run, 0);
        let file = p.write(&format!("completion.{shell}"), &run.stdout);
        let found = Command::new(program).arg("--version").output().is_ok();
        if !found {
            // A missing shell fails the test: `make test` installs zsh and fish where it can
            // (Makefile `test-deps`); PEGASUS_SKIP_SHELLS=1 skips them on purpose.
            let skip = std::env::var("PEGASUS_SKIP_SHELLS").is_ok_and(|v| v == "1");
            assert!(
                skip && shell != "bash",
                "{program} is not installed, so its completion script cannot be checked; \
                 install it (make test-deps) or set PEGASUS_SKIP_SHELLS=1"
            );
            eprintln!("note: {program} is not installed; skipped (PEGASUS_SKIP_SHELLS=1)");
            continue;
        }
        let out = Command::new(program)
            .args(flags)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if shell == "fish" {
            // fish can be asked what it would complete.
            let out = Command::new("fish")
                .args(["--no-config", "-c"])
                .arg(format!(
                    "source {}; complete -C 'pegasus server cre'; complete -C 'pegasus server list -o no'",
                    file.display()
                ))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let words: Vec<&str> = text
                .lines()
                .map(|l| l.split('\t').next().unwrap())
                .collect();
            assert_eq!(words, ["create", "noheader"], "{text}");
        }
    }
    assert!(p.fake.requests().is_empty());
}

/// Complete the words in bash as if TAB was pressed after them; the offers, sorted.
fn complete_in_bash(p: &Project, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source <(pegasus completions bash) || exit 9\n\
         complete -p pegasus || exit 8\n\
         COMP_WORDS=({})\nCOMP_CWORD={}\n_pegasus\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        quoted.join(" "),
        words.len() - 1
    );
    let run = bash(p, &script, None);
    assert_exit(&run, 0);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("complete -F _pegasus pegasus"),
        "{}",
        run.dump()
    );
    let mut offers: Vec<String> = lines.filter(|l| !l.is_empty()).map(String::from).collect();
    offers.sort();
    offers
}

#[test]
fn bash_completes_commands_options_and_server_names() {
    let mut p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("web2");
    p.fake.add_server("db1");
    assert_eq!(complete_in_bash(&p, &["pegasus", "se"]), ["server"]);
    assert_eq!(
        complete_in_bash(&p, &["pegasus", "server", "d"]),
        ["delete", "destroy"]
    );
    assert_eq!(
        complete_in_bash(&p, &["pegasus", "server", "create", "web1", "--ssh-"]),
        ["--ssh-key", "--ssh-port", "--ssh-timeout"]
    );
    assert_eq!(
        complete_in_bash(&p, &["pegasus", "server", "list", "-o", "no"]),
        ["noheader"]
    );
    assert_eq!(
        complete_in_bash(&p, &["pegasus", "server", "destroy", "web"]),
        ["web1", "web2"]
    );
    assert_eq!(
        complete_in_bash(&p, &["pegasus", "server", "ip", ""]),
        ["db1", "web1", "web2"]
    );
    // The names came from the list command the scripts promise.
    assert!(p.fake.requests().iter().any(|r| r.path == "/v1/servers"));
    // When pegasus cannot list (the token is refused), nothing is offered, and no
    // prompt waits for an answer.
    p.set_env("HETZNER_API_TOKEN", Some("wrong-token"));
    assert!(complete_in_bash(&p, &["pegasus", "server", "destroy", ""]).is_empty());
}

// ---------------------------------------------------------------- hcloud contexts

fn write_hcloud_config(p: &Project, rel: &str, active: &str, contexts: &[(&str, &str)]) -> PathBuf {
    let mut text = format!("active_context = \"{active}\"\n\n[preferences]\n  debug = false\n");
    for (name, token) in contexts {
        text.push_str(&format!(
            "\n[[contexts]]\n  name = \"{name}\"\n  token = \"{token}\"\n"
        ));
    }
    let path = p.home.path().join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn hcloud_active_context_gives_the_token_and_says_which() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    p.fake.add_server("web1");
    write_hcloud_config(
        &p,
        ".config/hcloud/cli.toml",
        "shop",
        &[("blog", "wrong-token"), ("shop", TOKEN)],
    );
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "198.51.100.10\n");
    assert_stderr(&run, "Using the token of hcloud context 'shop'");
    assert_no_secret(&run, TOKEN);

    // HCLOUD_CONTEXT picks another context.
    p.set_env("HCLOUD_CONTEXT", Some("blog"));
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "the token of hcloud context 'blog' was rejected");

    // HCLOUD_CONFIG names another file.
    let other = write_hcloud_config(&p, "elsewhere/hcloud.toml", "blog", &[("blog", TOKEN)]);
    p.set_env("HCLOUD_CONFIG", Some(other.to_str().unwrap()));
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 0);
    assert_stderr(&run, "Using the token of hcloud context 'blog'");

    // The credentials file comes before the hcloud context.
    p.save_token(&format!("{TOKEN}\n"));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p.credentials_path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 0);
    assert!(!run.stderr.contains("hcloud context"), "{}", run.dump());
}

#[test]
fn an_unreadable_hcloud_config_is_a_warning() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    // A folder where the file should be: it cannot be read.
    std::fs::create_dir_all(p.home.path().join(".config/hcloud/cli.toml")).unwrap();
    let run = p.run_with_stdin(&["server", "list"], "");
    assert_exit(&run, 1);
    assert_stderr(&run, "warning: cannot read the hcloud CLI's config");
    assert_stderr(&run, "Hetzner API token: \n");
    assert_stderr(&run, "no API token given");
    assert!(p.fake.requests().is_empty());
}

// ---------------------------------------------------------------- the small things

#[test]
fn unset_hint_only_when_a_saved_token_exists() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", Some("wrong-token"));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "HETZNER_API_TOKEN was rejected");
    assert!(!run.stderr.contains("unset it"), "{}", run.dump());
    p.save_token(&format!("{TOKEN}\n"));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "unset it to use the saved token");
}

#[test]
fn a_credentials_file_others_can_read_is_used_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    p.save_token(&format!("{TOKEN}\n"));
    std::fs::set_permissions(p.credentials_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "Restrict it with: chmod 600 ~/.pegasus/hetzner_credentials",
    );
    assert_no_secret(&run, TOKEN);
}

#[test]
fn forbidden_on_a_write_asks_for_a_read_write_token() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake
        .inject("DELETE", "/v1/servers", Fault::Status(403), 1);
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "Read & Write permission is needed");
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn a_key_uploaded_by_someone_else_meanwhile_is_not_ours() {
    let p = Project::new();
    // The upload is answered late; meanwhile another upload of the same key lands,
    // so Hetzner answers 409 uniqueness_error and pegasus reuses that key.
    p.fake.inject(
        "POST",
        "/v1/ssh_keys",
        Fault::Delay(std::time::Duration::from_millis(1500)),
        1,
    );
    let mut cmd = p.command(&[
        "server",
        "create",
        "web1",
        "--json",
        "--no-kamal",
        "--ssh-timeout",
        "0",
    ]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while p.fake.count("POST", "/v1/ssh_keys") == 0 {
        assert!(std::time::Instant::now() < deadline, "no upload");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    p.fake.add_ssh_key("racer", &ed25519_pub());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ssh_key"]["name"], "racer");
    assert_eq!(v["ssh_key"]["uploaded"], false);
}

#[test]
fn spinner_line_is_cut_to_a_narrow_terminal() {
    let p = Project::new();
    p.fake.set_action_polls(4);
    let mut cmd = p.command(&[
        "server",
        "create",
        "a-rather-long-server-name-here",
        "--no-kamal",
        "--ssh-timeout",
        "0",
    ]);
    cmd.env("COLUMNS", "24");
    let run = run_on_pty(cmd, &[]);
    assert_eq!(run.code, 0, "{}", run.screen);
    // The pty reports no size (0 columns), so COLUMNS counts: frame, space and at
    // most 21 characters of message.
    let spinner_msgs: Vec<&str> = run
        .screen
        .split(['\r', '\n'])
        .filter(|s| s.contains("⠋") || s.contains("⠙") || s.contains("⠹"))
        .collect();
    assert!(!spinner_msgs.is_empty(), "no spinner:\n{}", run.screen);
    for m in spinner_msgs {
        let text = m.replace("\u{1b}[2K", "").replace("\u{1b}[K", "");
        assert!(
            text.chars().count() <= 24,
            "{text:?} is wider than 24 columns"
        );
    }
}

// ---------------------------------------------------------------- the README

/// The README's one-liner block, line by line (comments stripped by the shell).
fn readme_one_liners() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let marker = "<!-- one-liners: each line is run by tests/one_liners.rs -->";
    let at = readme
        .find(marker)
        .expect("the README lost its one-liner block");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").unwrap() + 6;
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect()
}

/// What a README line must have printed.
type Check<'a> = Box<dyn Fn(&Run) + 'a>;

#[test]
fn every_readme_one_liner_runs_against_the_fake() {
    let p = Project::new();
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    p.fake.add_server_with("db1", &[("env", "prod")], false);
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    // `ssh` is a stand-in that prints what it was asked to do.
    let stubs = tempfile::tempdir().unwrap();
    let ssh = stubs.path().join("ssh");
    std::fs::write(&ssh, "#!/bin/sh\necho \"ssh $*\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();

    let lines = readme_one_liners();
    // What each line prints on stdout, in order; a new line in the README needs a row.
    let ip = |name: &str| {
        p.fake.server_json(name).unwrap()["public_net"]["ipv4"]["ip"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let expect: Vec<Check> = vec![
        // ssh root@$(pegasus server ip web1)
        Box::new(|r: &Run| assert_eq!(r.stdout, format!("ssh root@{}\n", ip("web1")))),
        // printf '2\n' | pegasus server create web2 ...
        Box::new(|r: &Run| {
            assert!(r.stdout.contains("Server web2 is running."), "{}", r.dump());
            assert!(
                r.stderr.contains("Using SSH key ~/.ssh/id_rsa.pub"),
                "{}",
                r.dump()
            );
        }),
        // the names of the servers pegasus made
        Box::new(|r: &Run| assert_eq!(r.stdout, "web1\nweb2\n")),
        // awk finds an address
        Box::new(|r: &Run| assert_eq!(r.stdout, format!("{}\n", ip("web2")))),
        // list → destroy
        Box::new(|r: &Run| {
            let head = "Server web1 is deleted.\nServer web2 is deleted.\n";
            assert!(r.stdout.starts_with(head), "{}", r.dump());
            // web2's address is in the Kamal config create edited: the config forgets it
            // and is the template again.
            assert!(
                r.stdout.contains(
                    "Updated config/deploy.yml: it forgets the deleted servers (5 host entries):"
                ),
                "{}",
                r.dump()
            );
            assert_eq!(
                p.read("config/deploy.yml"),
                read_fixture("pegasus/deploy.yml")
            );
        }),
        // completions: bash, zsh, fish (the files are checked below)
        Box::new(|r: &Run| assert_eq!(r.stdout, "")),
        Box::new(|r: &Run| assert_eq!(r.stdout, "")),
        Box::new(|r: &Run| assert_eq!(r.stdout, "")),
    ];
    assert_eq!(
        lines.len(),
        expect.len(),
        "the README block changed; update this test: {lines:#?}"
    );
    for (line, check) in lines.iter().zip(&expect) {
        let run = bash(&p, &format!("set -o pipefail\n{line}"), Some(stubs.path()));
        assert_exit(&run, 0);
        check(&run);
    }
    assert_eq!(p.fake.server_names(), ["db1"]);
    // With nothing left to list, `xargs -r` runs no destroy (a bare `xargs` would run
    // `pegasus server destroy --yes` without a name: exit 2).
    let list_destroy = lines
        .iter()
        .find(|l| l.contains("| xargs -r pegasus server destroy"))
        .expect("the README's list | xargs line");
    let run = bash(
        &p,
        &format!("set -o pipefail\n{list_destroy}"),
        Some(stubs.path()),
    );
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "", "{}", run.dump());
    assert!(
        !run.stderr.contains("missing the server NAME"),
        "{}",
        run.dump()
    );
    for file in [
        ".local/share/bash-completion/completions/pegasus",
        ".zfunc/_pegasus",
        ".config/fish/completions/pegasus.fish",
    ] {
        let text = std::fs::read_to_string(p.home.path().join(file)).unwrap();
        assert!(
            text.contains("server list -o noheader -o columns=name"),
            "{file}"
        );
    }
}

// ---------------------------------------------------------------- Makefile notes

/// `make TARGET` from the repository's Makefile in a scratch folder that holds a copy of
/// the binary where a release build would put it; `CARGO=true` stands in for the build.
fn make(target: &str, prefix: &Path, path_has_prefix: bool) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let release = scratch.path().join("target/release");
    std::fs::create_dir_all(&release).unwrap();
    std::fs::copy(BIN, release.join("pegasus")).unwrap();
    let makefile = Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile");
    let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
    if path_has_prefix {
        path = format!("{}/bin:{path}", prefix.display());
    }
    let out = Command::new("make")
        .arg("-f")
        .arg(&makefile)
        .arg(target)
        .arg("CARGO=true")
        .arg(format!("PREFIX={}", prefix.display()))
        .current_dir(scratch.path())
        .env("PATH", path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn make_install_says_when_the_folder_is_not_on_path() {
    let prefix = tempfile::tempdir().unwrap();
    let out = make("install", prefix.path(), false);
    assert!(prefix.path().join("bin/pegasus").exists(), "{out}");
    assert!(
        out.contains(&format!(
            "note: {}/bin is not on your PATH",
            prefix.path().display()
        )),
        "{out}"
    );
    let out = make("install", prefix.path(), true);
    assert!(!out.contains("not on your PATH"), "{out}");
}

#[test]
fn make_demo_says_it_is_building_before_the_silent_compile() {
    let prefix = tempfile::tempdir().unwrap();
    let out = make("demo", prefix.path(), false);
    let said = out
        .find("building the demo")
        .unwrap_or_else(|| panic!("{out}"));
    let compile = out
        .find("true run --quiet")
        .unwrap_or_else(|| panic!("{out}"));
    assert!(said < compile, "{out}");
}
