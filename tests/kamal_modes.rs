//! `server create` and the Kamal config on the second day (SPEC §6, §4 step 3): which mode
//! applies (replace or append) and what the output says about it, the flags that override
//! it, the search for the config from a subfolder, the writability check before anything
//! is created, the `--json` stderr line, and `destroy` showing the Kamal lines first.

mod common;

use common::*;

/// A SaaS Pegasus style config on one box: web and celery and the postgres and redis
/// accessories all on `host`.
fn one_box(host: &str) -> String {
    format!(
        "service: shop\nimage: shop/web\nservers:\n  web:\n    hosts:\n      - {host}\n  celery:\n    hosts:\n      - {host}\n    cmd: celery worker\nproxy:\n  host: shop.example.com\naccessories:\n  postgres:\n    image: postgres:16\n    host: {host}\n  redis:\n    image: redis:7\n    host: {host}\n"
    )
}

fn ipv4(p: &Project, name: &str) -> String {
    p.fake.server_json(name).unwrap()["public_net"]["ipv4"]["ip"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Listings of the project's servers (`GET /servers` without `?name=`).
fn listings(p: &Project) -> usize {
    p.fake
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/v1/servers" && !r.query.contains("name="))
        .count()
}

fn posts(p: &Project) -> usize {
    p.fake
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

#[track_caller]
fn assert_out(run: &Run, needle: &str) {
    assert!(
        run.stdout.contains(needle),
        "stdout lacks {needle:?}\n{}",
        run.dump()
    );
}

// ------------------------------------------------------------------------------------------
// Which mode, and what the output says
// ------------------------------------------------------------------------------------------

#[test]
fn first_server_replaces_the_placeholder_everywhere_without_listing_servers() {
    let p = Project::new();
    p.write("config/deploy.yml", &one_box("<IP-ADDRESS>"));
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(p.read("config/deploy.yml"), one_box(&ip));
    let v = run.json();
    assert_eq!(v["kamal"]["mode"], "replace");
    assert_eq!(v["kamal"]["replaced"], "<IP-ADDRESS>");
    assert_eq!(v["kamal"]["changes"].as_array().unwrap().len(), 4);
    // The one line on stderr that says the file changed, and the first-server words.
    assert_stderr(
        &run,
        &format!("Updated config/deploy.yml: 4 hosts now {ip}\n"),
    );
    assert_stderr(
        &run,
        &format!(
            "First server: the placeholder <IP-ADDRESS> is now {ip} for web, celery and the accessories postgres and redis."
        ),
    );
    assert_eq!(listings(&p), 0, "a placeholder needs no server list");
}

#[test]
fn kamal_init_sample_address_is_a_placeholder() {
    let p = Project::new();
    p.write("config/deploy.yml", "servers:\n  web:\n    - 192.168.0.1\n");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(
        p.read("config/deploy.yml"),
        format!("servers:\n  web:\n    - {ip}\n")
    );
    assert_out(
        &run,
        &format!(
            "First server: 192.168.0.1 (the sample address from `kamal init`) is now {ip} for web."
        ),
    );
    assert_eq!(listings(&p), 0);
}

#[test]
fn another_server_of_the_project_gets_a_second_web_server_and_keeps_the_data() {
    let p = Project::new();
    p.fake.add_server("web5"); // 198.51.100.10
    let before = one_box("198.51.100.10");
    p.write("config/deploy.yml", &before);
    let run = p.run(&["server", "create", "web6"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    let after = before.replace(
        "      - 198.51.100.10\n  celery:",
        &format!("      - 198.51.100.10\n      - {ip}\n  celery:"),
    );
    assert_ne!(after, before);
    assert_eq!(p.read("config/deploy.yml"), after);
    assert_out(&run, &format!("config/deploy.yml:7  + {ip}"));
    assert!(!run.stdout.contains("  - 198.51.100.10"), "{}", run.dump());
    assert_out(
        &run,
        &format!(
            "Adding a second web server: 198.51.100.10 is web5, a server of this Hetzner project, so {ip} was added next to it and `servers.web.hosts` now has 2 hosts. celery and the accessories postgres and redis stay on web5 (198.51.100.10)."
        ),
    );
    assert_eq!(listings(&p), 1);
}

#[test]
fn appended_json_has_mode_append_and_no_replaced_host() {
    let p = Project::new();
    p.fake.add_server("web5");
    p.write("config/deploy.yml", &one_box("\"198.51.100.10\""));
    let run = p.run(&["server", "create", "web6", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "updated");
    assert_eq!(v["kamal"]["mode"], "append");
    assert_eq!(v["kamal"]["replaced"], serde_json::Value::Null);
    assert_eq!(
        v["kamal"]["changes"],
        serde_json::json!([{"path": "servers.web.hosts[1]", "line": 7, "old": null, "new": ip}])
    );
    // Written double-quoted like the entry before it.
    assert!(
        p.read("config/deploy.yml")
            .contains(&format!("      - \"198.51.100.10\"\n      - \"{ip}\"\n")),
    );
    assert_stderr(
        &run,
        &format!("Updated config/deploy.yml: {ip} added to servers.web.hosts (2 hosts now)\n"),
    );
    assert_stderr(&run, "stay on web5 (198.51.100.10)");
}

#[test]
fn an_unknown_address_is_replaced_and_the_output_says_the_data_stays() {
    let p = Project::new();
    p.fake.add_server("web5"); // 198.51.100.10, not the host in the file
    p.write("config/deploy.yml", &one_box("192.0.2.1"));
    let run = p.run(&["server", "create", "web6"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    assert_eq!(p.read("config/deploy.yml"), one_box(&ip));
    assert_out(
        &run,
        &format!(
            "Moved web, celery and the accessories postgres and redis from 192.0.2.1 to {ip} (192.0.2.1 is not a server of this Hetzner project, so this counts as moving to a new server). The data on 192.0.2.1 (databases, volumes) does not move with them. To add a second web server instead, put 192.0.2.1 back and use --append"
        ),
    );
    assert_eq!(listings(&p), 1);
}

#[test]
fn a_host_name_is_replaced_without_listing_servers() {
    let p = Project::new();
    p.write("config/deploy.yml", &one_box("app1.example.com"));
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(p.read("config/deploy.yml"), one_box(&ip));
    assert_eq!(run.json()["kamal"]["replaced"], "app1.example.com");
    assert_stderr(
        &run,
        "app1.example.com is a host name pegasus cannot match to a server of this Hetzner project",
    );
    assert_stderr(
        &run,
        "The data on app1.example.com (databases, volumes) does not move",
    );
    assert_eq!(listings(&p), 0, "a host name cannot match an address");
}

#[test]
fn the_primary_role_is_the_web_role() {
    let p = Project::new();
    p.fake.add_server("tokyo1"); // 198.51.100.10
    let before = "primary_role: tokyo\nservers:\n  web:\n    - 192.0.2.50\n  tokyo:\n    hosts: [ '198.51.100.10' ]\naccessories:\n  db:\n    host: '198.51.100.10'\n";
    p.write("config/deploy.yml", before);
    let run = p.run(&["server", "create", "tokyo2", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "tokyo2");
    assert_eq!(
        p.read("config/deploy.yml"),
        before.replace(
            "[ '198.51.100.10' ]",
            &format!("[ '198.51.100.10', '{ip}' ]")
        )
    );
    let v = run.json();
    assert_eq!(v["kamal"]["mode"], "append");
    assert_eq!(v["kamal"]["changes"][0]["path"], "servers.tokyo.hosts[1]");
    assert_stderr(&run, "the accessory db stays on tokyo1 (198.51.100.10)");
}

// ------------------------------------------------------------------------------------------
// The flags
// ------------------------------------------------------------------------------------------

#[test]
fn append_flag_adds_even_for_an_unknown_address_and_lists_nothing() {
    let p = Project::new();
    let before = one_box("192.0.2.1");
    p.write("config/deploy.yml", &before);
    let run = p.run(&["server", "create", "web6", "--append", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    assert_eq!(
        p.read("config/deploy.yml"),
        before.replacen(
            "      - 192.0.2.1\n",
            &format!("      - 192.0.2.1\n      - {ip}\n"),
            1
        )
    );
    assert_eq!(run.json()["kamal"]["mode"], "append");
    assert_stderr(
        &run,
        "celery and the accessories postgres and redis stay on 192.0.2.1.",
    );
    assert_eq!(listings(&p), 0, "a flag decides without the server list");
}

#[test]
fn replace_flag_moves_even_from_a_project_server() {
    let p = Project::new();
    p.fake.add_server("web5");
    p.write("config/deploy.yml", &one_box("198.51.100.10"));
    let run = p.run(&["server", "create", "web6", "--replace"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    assert_eq!(p.read("config/deploy.yml"), one_box(&ip));
    assert_out(
        &run,
        "(as --replace asked). The data on 198.51.100.10 (databases, volumes) does not move with them.",
    );
    assert_eq!(listings(&p), 0);
}

#[test]
fn replace_flag_with_several_web_hosts_is_a_usage_error_before_any_request() {
    let p = Project::new();
    let text = "servers:\n  web:\n    - 192.0.2.1\n    - 192.0.2.2\n";
    p.write("config/deploy.yml", text);
    let run = p.run(&["server", "create", "web3", "--replace", "--json"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "--replace needs a single web host, but `servers.web` in config/deploy.yml has 2; use --append",
    );
    assert_stderr(&run, "pegasus server create --help");
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert!(p.fake.requests().is_empty());
    assert_eq!(p.read("config/deploy.yml"), text);
}

#[test]
fn append_and_replace_together_is_a_usage_error() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1", "--append", "--replace"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--append and --replace exclude each other");
    assert!(p.fake.requests().is_empty());
}

// ------------------------------------------------------------------------------------------
// Finding the config
// ------------------------------------------------------------------------------------------

fn run_in(p: &Project, sub: &str, args: &[&str]) -> Run {
    let dir = p.dir.path().join(sub);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = p.command(args);
    cmd.current_dir(dir);
    run_command(cmd, "")
}

#[test]
fn config_is_found_from_a_subfolder_and_named() {
    let p = Project::new();
    std::fs::create_dir(p.dir.path().join(".git")).unwrap();
    p.write("config/deploy.yml", &one_box("<IP-ADDRESS>"));
    let run = run_in(&p, "app/models", &["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(p.read("config/deploy.yml"), one_box(&ip));
    assert_stderr(
        &run,
        "Using the Kamal config ../../config/deploy.yml (found in a parent folder)",
    );
    assert_eq!(run.json()["kamal"]["path"], "../../config/deploy.yml");
    assert_stderr(&run, "Updated ../../config/deploy.yml: 4 hosts now");
}

#[test]
fn the_search_stops_at_the_folder_holding_git() {
    let p = Project::new();
    p.write("config/deploy.yml", &one_box("<IP-ADDRESS>"));
    // A repository inside the folder that holds the config: the search ends at its root.
    std::fs::create_dir_all(p.dir.path().join("tools/cli/.git")).unwrap();
    let run = run_in(&p, "tools/cli/src", &["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["kamal"]["status"], "not_found");
    assert_eq!(p.read("config/deploy.yml"), one_box("<IP-ADDRESS>"));
    assert!(
        !run.stderr.contains("Using the Kamal config"),
        "{}",
        run.dump()
    );
}

// ------------------------------------------------------------------------------------------
// Writable before anything is created
// ------------------------------------------------------------------------------------------

#[test]
fn a_read_only_file_stops_the_run_before_anything_is_created() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let path = p.write("config/deploy.yml", &one_box("<IP-ADDRESS>"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "cannot update the Kamal config config/deploy.yml: the file is read-only",
    );
    assert_stderr(&run, "--no-kamal");
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(posts(&p), 0);
    assert!(p.fake.server_names().is_empty());
    // --no-kamal is the way on.
    let run = p.run(&["server", "create", "web1", "--no-kamal", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), one_box("<IP-ADDRESS>"));
}

#[test]
fn a_read_only_folder_stops_the_run_before_anything_is_created() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let path = p.write("config/deploy.yml", &one_box("<IP-ADDRESS>"));
    let folder = path.parent().unwrap().to_path_buf();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    let run = p.run(&["server", "create", "web1"]);
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "cannot update the Kamal config config/deploy.yml: its folder",
    );
    assert_stderr(&run, "is not writable");
    assert_stderr(&run, "--no-kamal");
    assert_eq!(posts(&p), 0);
    assert!(
        p.fake.requests().is_empty(),
        "checked before the token is even used"
    );
}

#[test]
fn a_read_only_file_that_would_not_be_edited_is_fine() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let text = "servers:\n  web:\n    - <%= ENV.fetch(\"KAMAL_HOST\") %>\n";
    let path = p.write("config/deploy.yml", text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["kamal"]["status"], "manual");
}

#[test]
fn a_dangling_symlink_is_named_as_such() {
    let p = Project::new();
    std::fs::create_dir_all(p.dir.path().join("config")).unwrap();
    std::os::unix::fs::symlink(
        "../../elsewhere/deploy.yml",
        p.dir.path().join("config/deploy.yml"),
    )
    .unwrap();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "Kamal config config/deploy.yml is a dangling symlink: it points at ../../elsewhere/deploy.yml, which does not exist",
    );
    assert_stderr(&run, "--no-kamal");
    assert!(p.fake.requests().is_empty());
    let named = p.run(&["server", "create", "web1", "-c", "config/deploy.yml"]);
    assert_exit(&named, 2);
    assert_stderr(&named, "is a dangling symlink");
}

// ------------------------------------------------------------------------------------------
// Lines to edit by hand
// ------------------------------------------------------------------------------------------

#[test]
fn a_file_that_does_not_parse_lists_the_lines_to_edit() {
    let p = Project::new();
    let broken = format!("{}  bad: [\n", one_box("<IP-ADDRESS>"));
    p.write("config/deploy.yml", &broken);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_stderr(&run, "config/deploy.yml does not parse");
    assert_out(
        &run,
        &format!("set the host on lines 6, 9, 16, 19 to {ip} by hand"),
    );
    assert_out(&run, "  config/deploy.yml:6  - <IP-ADDRESS>");
    assert_out(&run, "  config/deploy.yml:19  host: <IP-ADDRESS>");
    assert_eq!(p.read("config/deploy.yml"), broken);
}

// ------------------------------------------------------------------------------------------
// destroy
// ------------------------------------------------------------------------------------------

#[test]
fn destroy_shows_the_kamal_lines_before_asking() {
    let p = Project::new();
    p.fake.add_server("web5");
    p.write("config/deploy.yml", &one_box("198.51.100.10"));
    // No terminal and no --yes: destroy refuses, but only after showing what it found.
    let run = p.run(&["server", "destroy", "web5"]);
    assert_exit(&run, 1);
    let shown = run
        .stderr
        .find("config/deploy.yml will forget web5 (4 host entries):")
        .unwrap_or_else(|| panic!("no Kamal lines\n{}", run.dump()));
    let refused = run.stderr.find("confirmation needs a terminal").unwrap();
    assert!(shown < refused, "{}", run.dump());
    for line in [6, 9, 16, 19] {
        assert_stderr(
            &run,
            &format!(
                "  config/deploy.yml:{line}  - 198.51.100.10\n  config/deploy.yml:{line}  + <IP-ADDRESS>\n"
            ),
        );
    }
    assert_eq!(p.read("config/deploy.yml"), one_box("198.51.100.10"));
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/servers"), 0);
}

#[test]
fn an_ipv6_web_host_in_a_project_servers_network_is_that_server() {
    let p = Project::new();
    p.fake.add_server("web5"); // 2001:db8:f001::/64
    let before = "servers:\n  web:\n    - \"2001:db8:f001::1\"\naccessories:\n  db:\n    host: \"2001:db8:f001::1\"\n";
    p.write("config/deploy.yml", before);
    let run = p.run(&["server", "create", "web6", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web6");
    assert_eq!(
        p.read("config/deploy.yml"),
        before.replace(
            "    - \"2001:db8:f001::1\"\n",
            &format!("    - \"2001:db8:f001::1\"\n    - \"{ip}\"\n")
        )
    );
    assert_eq!(run.json()["kamal"]["mode"], "append");
    assert_stderr(&run, "the accessory db stays on web5 (2001:db8:f001::1)");
}
