//! `pegasus server create` end to end: the real binary against the fake API.

mod common;

use common::*;

fn create_json(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["server", "create", "web1", "--json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn happy_path_json_uploads_key_and_prints_one_object() {
    let p = Project::new();
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    let server = &v["server"];
    assert_eq!(server["name"], "web1");
    assert_eq!(server["status"], "running");
    assert_eq!(server["server_type"], "cx23");
    assert_eq!(server["image"], "ubuntu-24.04");
    assert_eq!(server["location"], "nbg1");
    assert_eq!(server["labels"]["managed-by"], "pegasus");
    let ipv4 = server["ipv4"].as_str().unwrap();
    assert!(ipv4.starts_with("203.0.113."), "{ipv4}");
    assert!(server["ipv6"].as_str().unwrap().ends_with("::1"));
    assert_eq!(v["ssh"], format!("ssh root@{ipv4}"));
    assert_eq!(v["ssh_key"]["name"], "id_ed25519");
    assert_eq!(v["ssh_key"]["uploaded"], true);
    assert_eq!(v["kamal"]["status"], "not_found");
    // The key was uploaded once, labelled, and the server made once.
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 1);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    let keys = p.fake.ssh_keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].2, ed25519_pub().trim());
    let post = p
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/v1/servers")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(body["name"], "web1");
    assert_eq!(body["server_type"], "cx23");
    assert_eq!(body["location"], "nbg1");
    assert_eq!(body["labels"]["managed-by"], "pegasus");
    assert_eq!(body["ssh_keys"][0], keys[0].0);
    // Progress and notes on stderr, never on stdout.
    assert_stderr(&run, "Using SSH key ~/.ssh/id_ed25519.pub");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
}

#[test]
fn happy_path_human_output() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    let ip = p.fake.server_json("web1").unwrap()["public_net"]["ipv4"]["ip"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        run.stdout.starts_with("Server web1 is running.\n"),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("  type      cx23\n"));
    assert!(run.stdout.contains(&format!("  IPv4      {ip}\n")));
    assert!(run.stdout.contains(&format!("  ssh root@{ip}\n")));
    assert!(
        run.stdout
            .contains("https://docs.saaspegasus.com/deployment/kamal/")
    );
    // Not a terminal: one plain line per step on stderr, no spinner escapes.
    assert_stderr(&run, "Server web1: creating the server ...");
    assert!(!run.stderr.contains('\x1b'), "{}", run.dump());
}

#[test]
fn key_already_on_hetzner_is_reused_and_few_requests_are_made() {
    let p = Project::new();
    // Same key, other comment and spacing: still the same key.
    let blob = ed25519_pub();
    let mut parts = blob.split_whitespace();
    let line = format!(
        "{}  {}  someone-else",
        parts.next().unwrap(),
        parts.next().unwrap()
    );
    let id = p.fake.add_ssh_key("laptop", &line);
    p.fake.set_action_polls(2);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_key"]["id"], id);
    assert_eq!(v["ssh_key"]["uploaded"], false);
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
    // keys, type, image, name check, firewall look-up, pricing, firewall create (the
    // first create in the project), create, server: 9 plus the polls.
    let polls = p.fake.count_prefix("GET", "/v1/actions");
    assert_eq!(
        p.fake.requests().len(),
        9 + polls,
        "{:#?}",
        p.fake.requests()
    );
}

#[test]
fn key_name_taken_by_another_key_gets_a_suffix() {
    let p = Project::new();
    p.fake
        .add_ssh_key("id_ed25519", &read_fixture("keys/id_rsa.pub"));
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["ssh_key"]["name"], "id_ed25519-2");
}

#[test]
fn several_keys_ask_which_one_from_a_pipe() {
    let p = Project::new();
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    let run = p.run_with_stdin(&["server", "create", "web1", "--json"], "2\n");
    assert_exit(&run, 0);
    // Sorted by file name: 1) id_ed25519.pub 2) id_rsa.pub
    assert_eq!(run.json()["ssh_key"]["name"], "id_rsa");
    assert_stderr(&run, "1) ~/.ssh/id_ed25519.pub");
}

#[test]
fn several_keys_and_no_answer_names_the_flag() {
    let p = Project::new();
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    let run = p.run_with_stdin(&["server", "create", "web1"], "");
    assert_exit(&run, 1);
    assert_stderr(&run, "--ssh-key");
    only_the_key_list_was_read(&p);
}

/// With the token known, the project's keys are read before the choice (to mark them),
/// and nothing else happens before the answer.
#[track_caller]
fn only_the_key_list_was_read(p: &Project) {
    let requests = p.fake.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.method == "GET" && r.path == "/v1/ssh_keys"),
        "{requests:#?}"
    );
}

#[test]
fn several_keys_marks_those_on_hetzner_and_enter_picks_id_ed25519() {
    let p = Project::new();
    p.add_key("a_first.pub", &read_fixture("keys/id_rsa.pub"));
    p.fake
        .add_ssh_key("laptop", &read_fixture("keys/id_rsa.pub"));
    let run = p.run_with_stdin(&["server", "create", "web1", "--json", "--no-kamal"], "\n");
    assert_exit(&run, 0);
    assert_stderr(&run, "1) ~/.ssh/a_first.pub  ssh-rsa");
    assert_stderr(&run, "(on Hetzner as 'laptop')");
    assert_stderr(&run, "[1-2, Enter for 2]: \n");
    // Only the rsa key is marked.
    let marked: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("on Hetzner as"))
        .collect();
    assert_eq!(marked.len(), 1, "{}", run.dump());
    assert!(marked[0].contains("a_first.pub"), "{}", run.dump());
    assert_eq!(run.json()["ssh_key"]["name"], "id_ed25519");
    // The key list came first, before the answer was read.
    assert_eq!(p.fake.requests()[0].path, "/v1/ssh_keys");
}

#[test]
fn several_keys_without_a_token_are_chosen_first_without_marks() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    let run = p.run_with_stdin(&["server", "create", "web1", "--no-kamal"], "2\n");
    assert_exit(&run, 1);
    assert_stderr(&run, "Using SSH key ~/.ssh/id_rsa.pub");
    assert!(!run.stderr.contains("on Hetzner as"), "{}", run.dump());
    assert!(p.fake.requests().is_empty());
}

#[test]
fn several_keys_three_bad_answers_then_stop() {
    let p = Project::new();
    p.add_key("id_rsa.pub", &read_fixture("keys/id_rsa.pub"));
    // The fourth line would be valid, but is never read.
    let run = p.run_with_stdin(&["server", "create", "web1"], "9\nx\n0\n1\n");
    assert_exit(&run, 1);
    assert_stderr(&run, "no valid choice after 3 tries");
    only_the_key_list_was_read(&p);
}

#[test]
fn ssh_key_flag_skips_the_scan() {
    let p = Project::bare();
    let key = fixture("keys/id_rsa.pub");
    let run = create_json(&p, &["-k", key.to_str().unwrap()]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["ssh_key"]["name"], "id_rsa");
}

#[test]
fn private_key_is_refused_and_never_sent() {
    let p = Project::new();
    let key = fixture("keys/private_key");
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--ssh-key",
        key.to_str().unwrap(),
    ]);
    assert_exit(&run, 2);
    assert_stderr(&run, "is a private key");
    assert!(p.fake.requests().is_empty());
    assert!(!run.stderr.contains("TEST-FIXTURE-NOT-A-REAL-KEY"));
}

#[test]
fn unparsable_or_missing_key_file_is_a_usage_error() {
    let p = Project::new();
    for (file, msg) in [
        (fixture("keys/garbage.pub"), "is not an SSH public key"),
        (fixture("keys/nope.pub"), "no such file"),
    ] {
        let run = p.run(&["server", "create", "web1", "-k", file.to_str().unwrap()]);
        assert_exit(&run, 2);
        assert_stderr(&run, msg);
    }
    assert!(p.fake.requests().is_empty());
}

#[test]
fn no_ssh_folder_or_no_keys_explains_ssh_keygen() {
    let p = Project::bare();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "ssh-keygen -t ed25519");
    p.add_key("notes.txt", "hello");
    p.add_key("broken.pub", "not a key");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "no SSH public key found in ~/.ssh");
    assert!(p.fake.requests().is_empty());
}

#[test]
fn home_unset_or_empty_is_a_clear_error() {
    // Without HOME (or with an empty one) the password database is asked next (SPEC §3),
    // so only a user without an entry there gets the error: root can run as one.
    let Some(uid) = user_without_passwd_entry() else {
        eprintln!("skipped: not root, so this user has a home in the password database");
        return;
    };
    for home in [None, Some("")] {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let p = Project::new();
        std::fs::set_permissions(p.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cmd = p.command(&["server", "create", "web1"]);
        match home {
            None => cmd.env_remove("HOME"),
            Some(h) => cmd.env("HOME", h),
        };
        cmd.uid(uid).gid(uid);
        let run = run_command(cmd, "");
        assert_exit(&run, 1);
        assert_stderr(&run, "HOME is not set");
        assert!(!run.stderr.contains("panicked"));
        assert!(p.fake.requests().is_empty());
    }
}

/// As root: a user id the password database does not know.
fn user_without_passwd_entry() -> Option<u32> {
    // SAFETY: plain libc calls; getpwuid's result is only compared with null.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    (3_999_000..3_999_100).find(|&uid| unsafe { libc::getpwuid(uid) }.is_null())
}

#[test]
fn home_is_not_needed_with_a_key_flag_and_an_env_token() {
    let p = Project::bare();
    let key = fixture("keys/id_ed25519.pub");
    let mut cmd = p.command(&[
        "server",
        "create",
        "web1",
        "-k",
        key.to_str().unwrap(),
        "--json",
    ]);
    cmd.env_remove("HOME");
    let run = run_command(cmd, "");
    assert_exit(&run, 0);
}

#[test]
fn bad_arguments_are_usage_errors_with_no_requests() {
    let p = Project::new();
    let long = "a".repeat(64);
    let cases: &[(&[&str], &str)] = &[
        (
            &["server", "create", "bad_name"],
            "invalid server name 'bad_name'",
        ),
        (
            &["server", "create", "--", "-web"],
            "cannot start or end with '-'",
        ),
        (&["server", "create", &long], "at most 63 characters"),
        (&["server", "create", ""], "the name is empty"),
        (
            &["server", "create", "web1", "--frobnicate"],
            "unknown option '--frobnicate'",
        ),
        (
            &["server", "create", "web1", "--image"],
            "option '--image' needs a value",
        ),
        (
            &["server", "create", "web1", "--image", "--location", "x"],
            "option '--image' needs a value",
        ),
        (
            &["server", "create", "web1", "--label", "novalue"],
            "write it as KEY=VALUE",
        ),
        (
            &["server", "create", "web1", "--label", "managed-by=me"],
            "is reserved",
        ),
        (&["server", "create"], "missing the server NAME"),
        (
            &["server", "create", "web1", "web2"],
            "unexpected argument 'web2'",
        ),
    ];
    for (args, msg) in cases {
        let run = p.run(args);
        assert_exit(&run, 2);
        assert_stderr(&run, msg);
        assert!(run.stderr.lines().count() <= 2, "{}", run.dump());
        assert!(run.stdout.is_empty());
    }
    assert!(p.fake.requests().is_empty());
}

#[test]
fn help_and_version() {
    let p = Project::new();
    for args in [
        &["--help"][..],
        &["server", "--help"],
        &["server", "create", "--help"],
        &["server", "list", "-h"],
        &["server", "destroy", "--help"],
    ] {
        let run = p.run(args);
        assert_exit(&run, 0);
        assert!(run.stdout.contains("Usage:"), "{}", run.dump());
    }
    let run = p.run(&["--version"]);
    assert_exit(&run, 0);
    assert_eq!(
        run.stdout,
        format!("pegasus {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn endpoint_must_be_https_unless_loopback() {
    let mut p = Project::new();
    p.set_env("HCLOUD_ENDPOINT", Some("http://api.example.com/v1"));
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "plain http to a host that is not loopback");
    assert_no_secret(&run, TOKEN);
}

// ---- tokens ----

#[test]
fn hcloud_token_is_used_when_hetzner_api_token_is_unset() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    p.set_env("HCLOUD_TOKEN", Some(TOKEN));
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    let auth = p.fake.requests()[0].authorization.clone().unwrap();
    assert_eq!(auth, format!("Bearer {TOKEN}"));
}

#[test]
fn rejected_env_token_names_the_variable_and_never_prints_it() {
    let mut p = Project::new();
    let bad = "WRONGTOKENwrongtokenWRONGTOKENwrongtokenWRONGTOKENwrongtokenABCD";
    p.set_env("HETZNER_API_TOKEN", Some(bad));
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "the token in HETZNER_API_TOKEN was rejected by Hetzner",
    );
    assert_no_secret(&run, bad);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
}

#[test]
fn prompted_token_is_validated_and_saved_with_0600() {
    use std::os::unix::fs::PermissionsExt;
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let run = p.run_with_stdin(
        &["server", "create", "web1", "--json"],
        &format!("{TOKEN}\n"),
    );
    assert_exit(&run, 0);
    assert_stderr(&run, "console.hetzner.cloud");
    assert_stderr(&run, "Saved the token to ~/.pegasus/hetzner_credentials");
    assert_no_secret(&run, TOKEN);
    let path = p.credentials_path();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!("{TOKEN}\n")
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(path.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    // The next run reads it without asking.
    let run = p.run_with_stdin(&["server", "create", "web2", "--json"], "");
    assert_exit(&run, 0);
    assert!(!run.stderr.contains("Hetzner API token:"), "{}", run.dump());
}

#[test]
fn prompt_with_no_input_names_the_variable() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let run = p.run_with_stdin(&["server", "create", "web1"], "");
    assert_exit(&run, 1);
    assert_stderr(&run, "HETZNER_API_TOKEN");
    assert!(!p.credentials_path().exists());
    assert!(p.fake.requests().is_empty());
}

#[test]
fn three_rejected_tokens_stop_without_reading_a_fourth() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let input = format!("bad1\nbad2\nbad3\n{TOKEN}\n");
    let run = p.run_with_stdin(&["server", "create", "web1"], &input);
    assert_exit(&run, 1);
    assert_stderr(&run, "Hetzner rejected 3 tokens");
    assert_eq!(p.fake.count("GET", "/v1/ssh_keys"), 3);
    assert!(!p.credentials_path().exists());
    assert_no_secret(&run, "bad1");
}

#[test]
fn rejected_saved_token_prompts_for_a_new_one() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    p.save_token("stale-token-0123456789\n");
    let run = p.run_with_stdin(
        &["server", "create", "web1", "--json"],
        &format!("{TOKEN}\n"),
    );
    assert_exit(&run, 0);
    assert_stderr(&run, "the saved token in");
    assert_stderr(&run, "was rejected by Hetzner");
    assert_no_secret(&run, "stale-token-0123456789");
    assert_eq!(
        std::fs::read_to_string(p.credentials_path()).unwrap(),
        format!("{TOKEN}\n")
    );
}

#[test]
fn read_only_token_is_explained_and_nothing_is_created() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", Some(READONLY_TOKEN));
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "is read-only");
    assert_stderr(&run, "Read & Write");
    assert_no_secret(&run, READONLY_TOKEN);
    assert!(p.fake.server_names().is_empty());
}

// ---- preflight ----

#[test]
fn name_in_use_fails_before_uploading_anything() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "a server named web1 already exists");
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
}

#[test]
fn retired_type_names_where_it_is_still_sold_or_what_to_use() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1", "-t", "cx22"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "server type cx22 can no longer be ordered in nbg1 since 2025-12-31",
    );
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
}

#[test]
fn announced_deprecation_is_a_warning_only() {
    let p = Project::new();
    let run = create_json(&p, &["-t", "cpx11"]);
    assert_exit(&run, 0);
    assert_stderr(&run, "warning: server type cpx11 is deprecated in nbg1");
}

#[test]
fn unknown_type_and_unknown_location() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1", "-t", "cx99"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "server type 'cx99' does not exist; types you can order in nbg1:",
    );
    assert_stderr(&run, "cx23");
    let run = p.run(&["server", "create", "web1", "-l", "mars1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "unknown location 'mars1'; locations: fsn1");
    let run = p.run(&["server", "create", "web1", "-t", "cx23", "-l", "sin"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "server type cx23 is not offered in sin; it is available in:",
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
}

#[test]
fn unknown_image_is_refused_before_anything_is_made_listing_the_images() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1", "-i", "windows-95"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "image 'windows-95' does not exist; images for x86: debian-12, debian-13, ubuntu-22.04, ubuntu-24.04 (use -i)",
    );
    assert!(p.fake.server_names().is_empty());
    assert_eq!(p.fake.count("POST", "/v1/servers"), 0);
    assert_eq!(p.fake.count("POST", "/v1/ssh_keys"), 0);
    // An image of the other architecture only (by id: the arm build of ubuntu-24.04).
    let run = p.run(&["server", "create", "web1", "-i", "161547270"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "image '161547270' is not available for x86 (the architecture of cx23); images for x86:",
    );
    // The arm type takes it.
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "-i",
        "161547270",
        "-t",
        "cax11",
        "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
}

// ---- faults ----

#[test]
fn rate_limit_storm_is_waited_out() {
    let p = Project::new();
    p.fake.inject("GET", "/v1/ssh_keys", Fault::Status(429), 3);
    p.fake.inject("POST", "/v1/servers", Fault::Status(429), 1);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_stderr(&run, "Hetzner's rate limit was reached; trying again");
    assert_eq!(p.fake.count("GET", "/v1/ssh_keys"), 4);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 2);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn endless_rate_limit_gives_up_after_five_tries() {
    let p = Project::new();
    p.fake.inject("GET", "/v1/ssh_keys", Fault::Status(429), 50);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "(gave up after 5 tries)");
    assert_stderr(&run, "rate_limit_exceeded");
    assert_eq!(p.fake.count("GET", "/v1/ssh_keys"), 5);
}

#[test]
fn server_errors_on_reads_are_retried() {
    let p = Project::new();
    p.fake
        .inject("GET", "/v1/server_types", Fault::Status(503), 2);
    p.fake.inject("GET", "/v1/actions", Fault::BadGateway, 1);
    p.fake.inject("GET", "/v1/actions", Fault::Drop, 1);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("GET", "/v1/server_types"), 3);
}

#[test]
fn create_that_drops_the_connection_is_not_repeated() {
    let p = Project::new();
    p.fake
        .inject("POST", "/v1/servers", Fault::ApplyThenDrop, 1);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1, "{}", run.dump());
    assert_eq!(p.fake.server_names(), ["web1"]);
    assert_eq!(run.json()["server"]["status"], "running");
    assert_stderr(&run, "no clear answer");
}

#[test]
fn create_dropped_before_it_happened_is_tried_again_once() {
    let p = Project::new();
    p.fake.inject("POST", "/v1/servers", Fault::Drop, 1);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 2);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn create_gateway_error_after_apply_finds_the_server() {
    let p = Project::new();
    p.fake
        .inject("POST", "/v1/servers", Fault::ApplyThenDrop, 1);
    p.fake.inject("GET", "/v1/servers", Fault::Status(503), 1);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn failed_action_says_the_server_exists_and_how_to_remove_it() {
    let p = Project::new();
    p.fake.fail_action("create_server");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "create_server failed: Action failed (action_failed)");
    assert_stderr(&run, "The server web1 exists in a failed state");
    assert_stderr(&run, "pegasus server destroy web1");
    // A pick-up cannot help a failed create: it is not offered.
    assert!(!run.stderr.contains("pick it up"), "{}", run.dump());
    assert!(run.stdout.is_empty());
}

#[test]
fn wait_gives_up_after_the_limit() {
    let mut p = Project::new();
    p.fake.set_action_polls(1_000_000);
    p.set_env("PEGASUS_TEST_WAIT_LIMIT_MS", Some("50"));
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "gave up waiting");
    assert_stderr(&run, "The server web1 exists (id");
    assert_stderr(&run, "pegasus server create web1");
}

#[test]
fn server_without_ipv4_uses_ipv6() {
    let p = Project::new();
    p.fake.set_ipv4_enabled(false);
    let run = create_json(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["server"]["ipv4"], serde_json::Value::Null);
    let v6 = v["server"]["ipv6"].as_str().unwrap();
    assert!(v6.starts_with("2001:db8:") && v6.ends_with("::1"), "{v6}");
    assert_eq!(v["ssh"], format!("ssh root@{v6}"));
}

#[test]
fn connection_refused_is_said_in_words() {
    let mut p = Project::new();
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    p.set_env(
        "HCLOUD_ENDPOINT",
        Some(&format!("http://127.0.0.1:{port}/v1")),
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        &format!("could not connect to 127.0.0.1:{port}: connection refused"),
    );
    assert_stderr(&run, "(gave up after 2 tries)");
    assert!(
        !run.stderr.contains("Io(") && !run.stderr.contains("Os {"),
        "{}",
        run.dump()
    );
    assert_no_secret(&run, TOKEN);
}

#[test]
fn dns_failure_is_said_in_words() {
    let mut p = Project::new();
    // `.invalid` never resolves (RFC 6761).
    p.set_env(
        "HCLOUD_ENDPOINT",
        Some("https://api.pegasus-test.invalid/v1"),
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "could not resolve host api.pegasus-test.invalid (DNS lookup failed)",
    );
    assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.dump());
}

#[test]
fn labels_are_sent_with_the_managed_by_label() {
    let p = Project::new();
    let run = create_json(&p, &["--label", "env=prod", "--label", "team=web"]);
    assert_exit(&run, 0);
    let labels = &run.json()["server"]["labels"];
    assert_eq!(labels["env"], "prod");
    assert_eq!(labels["team"], "web");
    assert_eq!(labels["managed-by"], "pegasus");
}

/// Run the binary with fd 2 (or 1) closed, through `sh` (`2>&-`).
fn run_with_closed(p: &Project, fd: &str, args: &[&str]) -> Run {
    let inner = p.command(args);
    let script = format!("exec \"$0\" \"$@\" {fd}>&-");
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c").arg(script).arg(BIN).args(args);
    cmd.env_clear().current_dir(p.dir.path());
    for (k, v) in inner.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    run_command(cmd, "")
}

#[test]
fn closed_stderr_or_stdout_never_crashes() {
    let p = Project::new();
    let run = run_with_closed(&p, "2", &["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["server"]["name"], "web1");
    let run = run_with_closed(&p, "1", &["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    assert!(!run.stderr.contains("panicked"), "{}", run.dump());
    assert_eq!(p.fake.server_names(), ["web1", "web2"]);
}

type Setup = Box<dyn Fn(&Project)>;

#[test]
fn the_token_never_appears_in_any_output() {
    let scenarios: Vec<Setup> = vec![
        Box::new(|_| {}),
        Box::new(|p| p.fake.inject("GET", "/v1/ssh_keys", Fault::Status(429), 50)),
        Box::new(|p| {
            p.fake
                .inject("GET", "/v1/server_types", Fault::Status(503), 50)
        }),
        Box::new(|p| p.fake.inject("POST", "/v1/servers", Fault::BadGateway, 50)),
        Box::new(|p| p.fake.inject("GET", "/v1/actions", Fault::Drop, 50)),
        Box::new(|p| p.fake.fail_action("start_server")),
        Box::new(|p| {
            p.fake.add_server("web1");
        }),
    ];
    for (n, setup) in scenarios.iter().enumerate() {
        let p = Project::new();
        setup(&p);
        for args in [
            &["server", "create", "web1"][..],
            &["server", "create", "web1", "--json"],
            &["server", "list"],
        ] {
            let run = p.run(args);
            assert_no_secret(&run, TOKEN);
            assert!(
                !run.stderr.contains("panicked"),
                "scenario {n}: {}",
                run.dump()
            );
        }
    }
}

/// SPEC §8: a run under `sudo` with the user's HOME leaves the user's files the user's.
#[test]
fn a_root_run_keeps_the_owner_of_known_hosts_and_the_kamal_file() {
    use std::os::unix::fs::{MetadataExt, chown};
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        assert!(
            std::env::var_os("PEGASUS_SKIP_ROOT_TESTS").is_some(),
            "this test needs root (set PEGASUS_SKIP_ROOT_TESTS=1 to skip it)"
        );
        return;
    }
    let p = Project::new();
    let deploy = p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    let known = p.add_key(
        "known_hosts",
        "203.0.113.10 ssh-ed25519 AAAAold\nkeep.example ssh-ed25519 AAAAkeep\n",
    );
    let (uid, gid) = (4242, 4343);
    for path in [&deploy, &known] {
        chown(path, Some(uid), Some(gid)).unwrap();
    }
    let run = p.run(&["server", "create", "web1", "--ssh-timeout", "0"]);
    assert_exit(&run, 0);
    // Both files were replaced (the stale key removed, the config edited) ...
    assert!(!std::fs::read_to_string(&known).unwrap().contains("AAAAold"));
    assert!(
        p.read("config/deploy.yml").contains("- 203.0.113.10\n"),
        "{}",
        run.dump()
    );
    // ... and are still the user's.
    for path in [&deploy, &known] {
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (uid, gid), "{}", path.display());
    }
}
