//! "Ready for Kamal" end to end (SPEC §4 steps 6, 7, 9, 11, 12; §5): the firewall, user
//! data, the known_hosts clean-up and the SSH wait, with the real binary against the fake
//! API and SSH banner servers, all on loopback.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use common::banner::{Banner, Mode};
use common::*;

/// A project whose servers get loopback addresses (127.0.0.10, …; `::1`), with short
/// SSH waits (honoured by pegasus only for loopback addresses).
///
/// These tests are about the banner: the banner servers here speak no more SSH than their
/// first line, so the login as Kamal (`tests/login.rs`, against a real sshd) is left out by
/// a `PATH` without `ssh` (pegasus then skips it with a note).
fn loopback_project() -> Project {
    let mut p = Project::new();
    p.fake.set_loopback_addresses(true);
    p.set_env("PEGASUS_TEST_SSH_RETRY_MS", Some("20"));
    p.set_env("PATH", Some("/nonexistent/pegasus-test-no-ssh"));
    p
}

fn create(p: &Project, extra: &[&str]) -> Run {
    let mut args = vec!["server", "create", "web1", "--json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

fn post_body(p: &Project, path: &str) -> serde_json::Value {
    let post = p
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path == path)
        .unwrap_or_else(|| panic!("no POST {path}"));
    serde_json::from_str(&post.body).unwrap()
}

fn posts(p: &Project) -> usize {
    p.fake.writes().len()
}

// -- the SSH wait ------------------------------------------------------------

#[test]
fn banner_at_once_is_ready() {
    let p = loopback_project();
    let ssh = Banner::start("127.0.0.10", Mode::AtOnce);
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["server"]["ipv4"], "127.0.0.10");
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["ssh"], format!("ssh -p {port} root@127.0.0.10"));
    assert!(ssh.connections() >= 1);
    assert_stderr(&run, &format!("waiting for SSH on 127.0.0.10:{port}"));
    assert_stderr(
        &run,
        &format!("Server web1: SSH answers on 127.0.0.10:{port}"),
    );
    // Keys in the order of SPEC §4.
    let order = [
        "{\"server\":{",
        ",\"ssh\":\"",
        ",\"ssh_ready\":",
        ",\"ssh_key\":{",
        ",\"firewall\":{",
        ",\"known_hosts\":{",
        ",\"kamal\":{",
    ];
    let pos: Vec<usize> = order
        .iter()
        .map(|k| {
            run.stdout
                .find(k)
                .unwrap_or_else(|| panic!("{k} in {}", run.stdout))
        })
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{}", run.stdout);
}

#[test]
fn banner_after_a_delay_is_waited_for() {
    let p = loopback_project();
    // The first try is closed unanswered (sshd not up yet), whenever it comes.
    let ssh = Banner::start("127.0.0.10", Mode::AfterConnections(1));
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], true);
    assert!(v.get("error").is_none(), "{v}");
    assert!(ssh.first_banner().is_some());
    assert!(ssh.connections() >= 2, "tried {} times", ssh.connections());
}

#[test]
fn no_banner_times_out_after_printing_everything_and_editing_kamal() {
    let mut p = loopback_project();
    p.set_env("PEGASUS_TEST_SSH_LIMIT_MS", Some("400"));
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    p.write("cloud.yml", "#cloud-config\n");
    let ssh = Banner::start("127.0.0.10", Mode::Never);
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port, "--user-data", "cloud.yml"]);
    assert_exit(&run, 1);
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    let v = run.json();
    assert_eq!(v["ssh_ready"], false);
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .starts_with("SSH did not answer on 127.0.0.10:"),
        "{v}"
    );
    assert_eq!(v["kamal"]["status"], "updated");
    assert!(p.read("config/deploy.yml").contains("- 127.0.0.10\n"));
    assert!(ssh.connections() >= 1);
    let fw = format!("pegasus-kamal-{port}");
    assert_stderr(&run, &format!("SSH did not answer on 127.0.0.10:{port}"));
    assert_stderr(&run, &format!("firewall '{fw}' lets in TCP {port}"));
    assert_stderr(&run, "user data (cloud.yml)");
    assert_stderr(&run, "--ssh-port");
    // A Kamal config is used: the hint names `kamal setup`, with the same ssh command.
    assert_stderr(
        &run,
        &format!("Run `kamal setup` once `ssh -p {port} root@127.0.0.10` works"),
    );
}

#[test]
fn no_banner_in_human_form_prints_the_summary_then_the_reason() {
    let mut p = loopback_project();
    p.set_env("PEGASUS_TEST_SSH_LIMIT_MS", Some("200"));
    let ssh = Banner::start("127.0.0.10", Mode::Never);
    let port = ssh.port().to_string();
    let run = p.run(&["server", "create", "web1", "--ssh-port", &port]);
    assert_exit(&run, 1);
    assert!(
        run.stdout.contains("Server web1 is running."),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.contains("SSH       did not answer in time"),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("Next: kamal setup"), "{}", run.dump());
    assert_stderr(&run, "SSH did not answer");
}

#[test]
fn a_wrong_banner_is_not_ssh() {
    let mut p = loopback_project();
    p.set_env("PEGASUS_TEST_SSH_LIMIT_MS", Some("300"));
    let ssh = Banner::start("127.0.0.10", Mode::Wrong);
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port]);
    assert_exit(&run, 1);
    assert_eq!(run.json()["ssh_ready"], false);
    assert!(ssh.connections() >= 1);
    assert_stderr(
        &run,
        "something other than SSH (\"HTTP/1.1 400 Bad Request\")",
    );
}

#[test]
fn ssh_timeout_zero_makes_no_connection() {
    let p = loopback_project();
    let ssh = Banner::start("127.0.0.10", Mode::AtOnce);
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port, "--ssh-timeout", "0"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["ssh_ready"], serde_json::Value::Null);
    assert_eq!(ssh.connections(), 0);
    assert!(!run.stderr.contains("waiting for SSH"), "{}", run.dump());
}

#[test]
fn the_port_comes_from_kamal_ssh_port() {
    let p = loopback_project();
    let ssh = Banner::start("127.0.0.10", Mode::AtOnce);
    let port = ssh.port();
    let config = format!(
        "service: app\nimage: me/app\nservers:\n  web:\n    hosts:\n      - <IP-ADDRESS>\nssh:\n  user: root\n  port: {port}\n"
    );
    p.write("config/deploy.yml", &config);
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], true);
    assert!(ssh.connections() >= 1);
    // The default firewall opens that port, under its own name.
    let name = format!("pegasus-kamal-{port}");
    assert_eq!(v["firewall"]["name"], name.as_str());
    let fw = p.fake.firewalls();
    assert_eq!(fw.len(), 1);
    assert_eq!(fw[0]["rules"][0]["port"], port.to_string());
    // --ssh-port wins over Kamal's.
    let other = Banner::start("127.0.0.11", Mode::AtOnce);
    let run = p.run(&[
        "server",
        "create",
        "web2",
        "--json",
        "--no-kamal",
        "--ssh-port",
        &other.port().to_string(),
    ]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["ssh_ready"], true);
    assert!(other.connections() >= 1);
}

#[test]
fn an_ipv6_only_server_is_reached_on_its_ipv6_address() {
    let p = loopback_project();
    p.fake.set_ipv4_enabled(false);
    let ssh = Banner::start("::1", Mode::AtOnce);
    let port = ssh.port().to_string();
    let run = create(&p, &["--ssh-port", &port]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["server"]["ipv4"], serde_json::Value::Null);
    assert_eq!(v["server"]["ipv6"], "::1");
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["ssh"], format!("ssh -p {port} root@::1"));
    assert!(ssh.connections() >= 1);
    assert_stderr(&run, &format!("waiting for SSH on [::1]:{port}"));
}

/// Set by the test below when it runs itself again inside `unshare -rn`.
const IN_NETNS: &str = "PEGASUS_TEST_IN_NETNS";

/// A documentation address is never connected to. Where `unshare -rn` works, the test
/// runs again inside a fresh network namespace (no route out, so a bug cannot send a
/// packet anywhere) in which 203.0.113.10 and 2001:db8:1::1 are local addresses with a
/// listener on port 22 that counts connections: it must count none.
#[test]
fn a_documentation_address_is_skipped_without_a_connection() {
    let inside = std::env::var_os(IN_NETNS).is_some();
    if !inside && unshare_works() {
        let me = std::env::current_exe().unwrap();
        let out = Command::new("unshare")
            .arg("-rn")
            .arg(me)
            .args([
                "--exact",
                "a_documentation_address_is_skipped_without_a_connection",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(IN_NETNS, "1")
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{text}");
        assert!(text.contains("1 passed"), "{text}");
        assert!(text.contains("listeners on 203.0.113.10:22"), "{text}");
        return;
    }
    let mut listeners = Vec::new();
    if inside {
        // nodad: the IPv6 address is usable at once (else it stays "tentative" until
        // duplicate address detection has run, and binding it fails on a loaded machine).
        for args in [
            "link set lo up",
            "addr add 203.0.113.10/32 dev lo",
            "-6 addr add 2001:db8:1::1/128 dev lo nodad",
        ] {
            let args: Vec<&str> = args.split_whitespace().collect();
            let ok = Command::new("ip").args(&args).status().unwrap().success();
            assert!(ok, "ip {args:?}");
        }
        for addr in ["203.0.113.10:22", "[2001:db8:1::1]:22"] {
            listeners.push(Banner::start_at(addr.parse().unwrap(), Mode::AtOnce));
        }
        println!("listeners on 203.0.113.10:22 and [2001:db8:1::1]:22");
    }
    let p = Project::new();
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["server"]["ipv4"], "203.0.113.10");
    assert_eq!(v["ssh_ready"], serde_json::Value::Null);
    assert_stderr(
        &run,
        "not waiting for SSH: 203.0.113.10 is not a public address",
    );
    assert!(!run.stderr.contains("waiting for SSH on"), "{}", run.dump());
    // IPv6 only: the same for 2001:db8:1::1.
    p.fake.set_ipv4_enabled(false);
    let run = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "not waiting for SSH: 2001:db8:2::1 is not a public address",
    );
    for l in &listeners {
        assert_eq!(l.connections(), 0, "pegasus connected to {}", l.addr());
    }
}

fn unshare_works() -> bool {
    Command::new("unshare")
        .args(["-rn", "true"])
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("unshare")
            .args(["-rn", "ip", "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success())
}

// -- the firewall ------------------------------------------------------------

#[test]
fn the_default_firewall_is_made_once_and_reused() {
    let p = Project::new();
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    let id = v["firewall"]["id"].as_u64().unwrap();
    assert_eq!(v["firewall"]["name"], "pegasus-kamal");
    assert_eq!(v["firewall"]["created"], true);
    let made = post_body(&p, "/v1/firewalls");
    assert_eq!(made["name"], "pegasus-kamal");
    assert_eq!(made["labels"]["managed-by"], "pegasus");
    let rules: Vec<(String, String)> = made["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["direction"], "in");
            assert_eq!(r["source_ips"], serde_json::json!(["0.0.0.0/0", "::/0"]));
            (
                r["protocol"].as_str().unwrap().to_string(),
                r["port"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let want = [("tcp", "22"), ("tcp", "80"), ("tcp", "443"), ("icmp", "-")];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(rules, want);
    assert_eq!(
        post_body(&p, "/v1/servers")["firewalls"],
        serde_json::json!([{"firewall": id}])
    );
    let server = p.fake.server_json("web1").unwrap();
    assert_eq!(
        server["public_net"]["firewalls"],
        serde_json::json!([{"id": id, "status": "applied"}])
    );

    let run = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["firewall"]["id"], id);
    assert_eq!(v["firewall"]["created"], false);
    assert_eq!(p.fake.count("POST", "/v1/firewalls"), 1);
    assert_eq!(p.fake.firewalls().len(), 1);
    assert_eq!(
        post_body(&p, "/v1/servers")["firewalls"],
        serde_json::json!([{"firewall": id}])
    );
}

#[test]
fn an_existing_firewall_named_is_used_as_it_is() {
    let p = Project::new();
    let id = p.fake.add_firewall("strict", &[]);
    let before = p.fake.firewalls();
    let run = create(&p, &["--firewall", "strict"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(
        v["firewall"],
        serde_json::json!({"id": id, "name": "strict", "created": false})
    );
    assert_eq!(p.fake.count("POST", "/v1/firewalls"), 0);
    assert_eq!(
        post_body(&p, "/v1/servers")["firewalls"],
        serde_json::json!([{"firewall": id}])
    );
    // Not modified: only applied_to differs.
    let after = p.fake.firewalls();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0]["rules"], before[0]["rules"]);
    assert_eq!(after[0]["labels"], before[0]["labels"]);
}

#[test]
fn a_missing_firewall_named_stops_before_anything_is_made() {
    let p = Project::new();
    p.fake.add_firewall("db-only", &[]);
    p.fake.add_firewall("office", &[]);
    let run = create(&p, &["--firewall", "strict"]);
    assert_exit(&run, 1);
    assert_eq!(run.stdout, "");
    assert_stderr(&run, "no firewall named 'strict'");
    assert_stderr(&run, "the firewalls are: db-only, office");
    assert_eq!(posts(&p), 0, "{:#?}", p.fake.requests());
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn no_firewall_attaches_none() {
    let p = Project::new();
    let run = create(&p, &["--no-firewall"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["firewall"], serde_json::Value::Null);
    assert!(post_body(&p, "/v1/servers").get("firewalls").is_none());
    assert_eq!(p.fake.count_prefix("GET", "/v1/firewalls"), 0);
    assert_eq!(p.fake.count_prefix("POST", "/v1/firewalls"), 0);
    let human = p.run(&["server", "create", "web2", "--no-firewall"]);
    assert_exit(&human, 0);
    assert!(
        human.stdout.contains("firewall  none\n"),
        "{}",
        human.dump()
    );
}

#[test]
fn a_lost_race_for_the_default_firewall_uses_the_winner() {
    let p = Project::new();
    p.fake.race_firewall("pegasus-kamal");
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    let all = p.fake.firewalls();
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(v["firewall"]["id"], all[0]["id"]);
    assert_eq!(v["firewall"]["created"], false);
    assert_eq!(p.fake.count("POST", "/v1/firewalls"), 1);
    assert_eq!(
        post_body(&p, "/v1/servers")["firewalls"],
        serde_json::json!([{"firewall": all[0]["id"]}])
    );
}

#[test]
fn human_summary_names_the_firewall_ssh_and_next_step() {
    let p = Project::new();
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout
            .contains("  firewall  pegasus-kamal (made now)\n"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.contains("  SSH       not checked\n"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.ends_with("\nNext: kamal setup\n"),
        "{}",
        run.dump()
    );
    assert_stderr(&run, "Made firewall 'pegasus-kamal'");
}

// -- known_hosts -------------------------------------------------------------

/// Made by `ssh-keygen -H` from `203.0.113.10 …` and `[203.0.113.10]:2222 …` lines.
const HASHED_PLAIN: &str = "|1|iheBZ5psTbq10ZRPLoZooK5A/Ic=|EqibDCqM6BSks52USF8N/mfapLo= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
const HASHED_PORT: &str = "|1|zFM/1GTwTE1O+e2rr/Lnklj7ZV4=|uHjmf5IuWuTHJgP82VtIF+y87zk= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";

#[test]
fn known_hosts_entries_for_the_new_addresses_are_removed_and_nothing_else() {
    let p = Project::new();
    let stale = [
        "203.0.113.10 ssh-ed25519 AAAAstale1\n",
        HASHED_PLAIN,
        HASHED_PORT,
        "[203.0.113.10]:2222 ecdsa-sha2-nistp256 AAAAstale2\n",
        "2001:db8:1::1 ssh-rsa AAAAstale3\n",
    ];
    let keep = [
        "# my machines\r\n",
        "github.com ssh-ed25519 AAAAgithub\n",
        "203.0.113.100 ssh-ed25519 AAAAneighbour\n",
        "[203.0.113.10]:2200 ssh-ed25519 AAAAotherport\n",
        "@cert-authority *.example.com ssh-ed25519 AAAAca\n",
        "\n",
        "|1|zFM/1GTwTE1O+e2rr/Lnklj7ZV4=|AAAAAAAAAAAAAAAAAAAAAAAAAAA= ssh-ed25519 AAAAhashedother\n",
        "no-newline-at-end ssh-ed25519 AAAAlast",
    ];
    let original = format!(
        "{}{}{}{}{}{}{}{}{}{}{}{}{}",
        keep[0],
        stale[0],
        keep[1],
        stale[1],
        keep[2],
        stale[2],
        keep[3],
        stale[3],
        keep[4],
        keep[5],
        stale[4],
        keep[6],
        keep[7]
    );
    let path = p.add_key("known_hosts", &original);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = create(&p, &["--ssh-port", "2222"]);
    assert_exit(&run, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), keep.concat());
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let old = path.with_file_name("known_hosts.old");
    assert_eq!(std::fs::read_to_string(old).unwrap(), original);
    assert_eq!(
        run.json()["known_hosts"]["removed"],
        serde_json::json!(["203.0.113.10", "[203.0.113.10]:2222", "2001:db8:1::1"])
    );
    assert_stderr(
        &run,
        "Removed 5 old host keys for 203.0.113.10, [203.0.113.10]:2222, 2001:db8:1::1 from ~/.ssh/known_hosts",
    );
}

#[test]
fn a_missing_or_unrelated_known_hosts_is_left_alone() {
    let p = Project::new();
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["known_hosts"]["removed"], serde_json::json!([]));
    assert!(!p.home.path().join(".ssh/known_hosts").exists());
    let text = "github.com ssh-ed25519 AAAA\n";
    let path = p.add_key("known_hosts", text);
    let run = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert!(!path.with_file_name("known_hosts.old").exists());
    assert!(!run.stderr.contains("Removed"), "{}", run.dump());
}

#[test]
fn destroy_removes_the_host_keys_of_the_deleted_server() {
    let p = Project::new();
    p.fake.add_server("old1"); // 198.51.100.10 and 2001:db8:f001::1
    let text = "github.com ssh-ed25519 AAAA\n198.51.100.10 ssh-ed25519 AAAAgone\n2001:db8:f001::1 ssh-ed25519 AAAAgone6\n198.51.100.11 ssh-ed25519 AAAAother\n";
    let path = p.add_key("known_hosts", text);
    let run = p.run(&["server", "destroy", "old1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "github.com ssh-ed25519 AAAA\n198.51.100.11 ssh-ed25519 AAAAother\n"
    );
    assert_stderr(
        &run,
        "Removed 2 old host keys for 198.51.100.10, 2001:db8:f001::1 from ~/.ssh/known_hosts",
    );
}

// -- user data ---------------------------------------------------------------

#[test]
fn user_data_is_sent_verbatim() {
    let p = Project::new();
    let text =
        "#cloud-config\npackages:\n  - htop\nruncmd:\n  - echo \"héllo\" > /root/x\n\ttab\r\n";
    p.write("cloud.yml", text);
    let run = create(&p, &["--user-data", "cloud.yml"]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.user_data("web1").as_deref(), Some(text));
    assert_eq!(post_body(&p, "/v1/servers")["user_data"], text);
    // Without the flag there is no user_data field.
    let run = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    assert!(post_body(&p, "/v1/servers").get("user_data").is_none());
}

#[test]
fn user_data_too_large_or_missing_is_a_usage_error_before_any_request() {
    let p = Project::new();
    p.write("big.yml", &"#".repeat(32 * 1024 + 1));
    let run = create(&p, &["--user-data", "big.yml"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--user-data big.yml: the file is larger than 32 KiB");
    let run = create(&p, &["--user-data", "nope.yml"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--user-data nope.yml: no such file or directory");
    assert!(p.fake.requests().is_empty(), "{:#?}", p.fake.requests());
    // Exactly 32 KiB is fine.
    p.write("edge.yml", &"#".repeat(32 * 1024));
    let run = create(&p, &["--user-data", "edge.yml"]);
    assert_exit(&run, 0);
    assert_eq!(p.fake.user_data("web1").map(|u| u.len()), Some(32 * 1024));
}

#[test]
fn a_picked_up_server_keeps_its_firewall_and_is_reported_with_it() {
    let p = Project::new();
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let id = run.json()["firewall"]["id"].clone();
    // The same command again picks the server up: no second create, no firewall change.
    let run = create(&p, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["resumed"], true);
    assert_eq!(
        v["firewall"],
        serde_json::json!({"id": id, "name": "pegasus-kamal", "created": false})
    );
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    assert_eq!(p.fake.count("POST", "/v1/firewalls"), 1);
    // Even a --firewall that does not exist changes nothing on a picked-up server.
    // It is said, though: the user asked for a firewall the server does not have.
    let run = create(&p, &["--firewall", "missing"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["firewall"], serde_json::Value::Null);
    assert_stderr(&run, "firewall 'missing' is not on server web1");
    assert_eq!(posts(&p), 3, "{:#?}", p.fake.requests());
}

/// Ctrl-C while SSH is silent (a connection held open without a banner, inside the 5 s
/// read timeout) ends the wait at once: the facts, exit 130, the Kamal file already edited.
#[test]
fn sigint_during_the_ssh_wait_ends_it_at_once() {
    use std::process::Stdio;
    use std::time::Instant;
    let p = loopback_project();
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    let ssh = Banner::start("127.0.0.10", Mode::Never);
    let port = ssh.port().to_string();
    let child = p
        .command(&["server", "create", "web1", "--json", "--ssh-port", &port])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while ssh.connections() == 0 {
        assert!(start.elapsed() < Duration::from_secs(20), "no SSH try");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    let sent = Instant::now();
    // SAFETY: a plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let run = Run::from_output(&out);
    assert_exit(&run, 130);
    assert!(
        took < Duration::from_secs(2),
        "took {took:?}\n{}",
        run.dump()
    );
    assert_stderr(&run, "Interrupted by SIGINT");
    assert_stderr(&run, "pegasus server create web1");
    assert_eq!(run.stdout.lines().count(), 1, "{}", run.dump());
    assert_eq!(run.json()["error"], "Interrupted by SIGINT");
    assert!(p.read("config/deploy.yml").contains("- 127.0.0.10\n"));
}
