//! `pegasus server create` with a Kamal config in the project: the file after the run,
//! byte for byte, and the `kamal` part of the output.

mod common;

use common::*;

/// Replace the placeholder where it is a host (list item or `host:`), nowhere else.
fn expected_pegasus(template: &str, ip: &str) -> String {
    template
        .replace("- <IP-ADDRESS>\n", &format!("- {ip}\n"))
        .replace("host: <IP-ADDRESS>\n", &format!("host: {ip}\n"))
}

fn ipv4(p: &Project, name: &str) -> String {
    p.fake.server_json(name).unwrap()["public_net"]["ipv4"]["ip"]
        .as_str()
        .unwrap()
        .to_string()
}

fn check_pegasus_template(template: &str) {
    let p = Project::new();
    p.write("config/deploy.yml", template);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    let after = p.read("config/deploy.yml");
    assert_eq!(after, expected_pegasus(template, &ip));
    assert_eq!(after.matches(&ip).count(), 5);
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "updated");
    assert_eq!(v["kamal"]["path"], "config/deploy.yml");
    let changes = v["kamal"]["changes"].as_array().unwrap();
    let paths: Vec<&str> = changes
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "servers.web.hosts[0]",
            "servers.celery.hosts[0]",
            "servers.celerybeat.hosts[0]",
            "accessories.postgres.host",
            "accessories.redis.host"
        ]
    );
    for c in changes {
        assert_eq!(c["old"], "<IP-ADDRESS>");
        assert_eq!(c["new"], ip.as_str());
        let line = c["line"].as_u64().unwrap() as usize;
        assert!(
            template
                .lines()
                .nth(line - 1)
                .unwrap()
                .contains("<IP-ADDRESS>")
        );
    }
}

/// The untouched SaaS Pegasus template is not in the repository (its licence does not allow
/// it; `fixtures/corpus/kamal/NOTICE.md`): checked when `../shared/corpus/kamal/` is there.
#[test]
fn pegasus_template_from_the_corpus_gets_all_five_hosts() {
    let Some(dir) = common::corpus::shared_dir() else {
        println!("note: no ../shared/corpus/kamal; the SaaS Pegasus template was not checked");
        return;
    };
    let path = dir.join("saaspegasus_template_kamal2.yml");
    let template =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_pegasus_template(&template);
}

#[test]
fn pegasus_style_fixture_gets_all_five_hosts() {
    check_pegasus_template(&read_fixture("pegasus/deploy.yml"));
}

#[test]
fn human_output_shows_a_diff_with_line_numbers() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    let line = template
        .lines()
        .position(|l| l == "      - <IP-ADDRESS>")
        .unwrap()
        + 1;
    assert!(
        run.stdout.contains("Updated config/deploy.yml (5 hosts):"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains(&format!("config/deploy.yml:{line}  - <IP-ADDRESS>")),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains(&format!("config/deploy.yml:{line}  + {ip}")),
        "{}",
        run.dump()
    );
}

#[test]
fn kamal1_layout_is_found_under_deploy() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("deploy/config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["kamal"]["path"], "deploy/config/deploy.yml");
    assert_eq!(
        p.read("deploy/config/deploy.yml"),
        expected_pegasus(&template, &ipv4(&p, "web1"))
    );
}

#[test]
fn config_file_and_destination_flags() {
    let p = Project::new();
    let base = "service: app\nimage: app\nservers:\n  web:\n    cmd: bin/web\n";
    let staging = "servers:\n  web:\n    hosts:\n      - 192.0.2.1 # old box\n";
    p.write("ops/deploy.yml", base);
    p.write("ops/deploy.staging.yml", staging);
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--json",
        "-c",
        "ops/deploy.yml",
        "-d",
        "staging",
    ]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(run.json()["kamal"]["path"], "ops/deploy.staging.yml");
    assert_eq!(
        p.read("ops/deploy.staging.yml"),
        format!("servers:\n  web:\n    hosts:\n      - {ip} # old box\n")
    );
    assert_eq!(p.read("ops/deploy.yml"), base);
}

#[test]
fn base_file_without_hosts_is_manual_and_names_the_destinations() {
    let p = Project::new();
    let base = "service: app\nimage: app\nservers:\n  web:\n    cmd: bin/web\n";
    p.write("config/deploy.yml", base);
    p.write(
        "config/deploy.production.yml",
        "servers:\n  web:\n    hosts:\n      - 192.0.2.1\n",
    );
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "manual");
    let hint = v["kamal"]["hint"].as_str().unwrap();
    assert!(hint.contains("deploy.production.yml"), "{hint}");
    assert_eq!(p.read("config/deploy.yml"), base);
}

#[test]
fn missing_named_config_fails_before_any_request() {
    let p = Project::new();
    for args in [
        &["server", "create", "web1", "-c", "nope.yml"][..],
        &["server", "create", "web1", "-d", "staging"],
    ] {
        let run = p.run(args);
        assert_exit(&run, 2);
        assert_stderr(&run, "no such file");
    }
    assert!(p.fake.requests().is_empty());
}

#[test]
fn broken_yaml_is_reported_early_left_untouched_and_still_exits_0() {
    let p = Project::new();
    let broken = "servers:\n  web:\n    - 192.0.2.1\n  bad: [unclosed\n";
    p.write("config/deploy.yml", broken);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    // The warning comes before the create.
    let warn_at = run.stderr.find("does not parse").expect("no early warning");
    let create_at = run.stderr.find("Creating server web1").unwrap();
    assert!(warn_at < create_at, "{}", run.dump());
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "manual");
    assert!(
        v["kamal"]["hint"]
            .as_str()
            .unwrap()
            .contains("left untouched")
    );
    assert_eq!(p.read("config/deploy.yml"), broken);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn no_kamal_leaves_the_file_alone() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1", "--json", "--no-kamal"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["kamal"]["status"], "skipped");
    assert_eq!(p.read("config/deploy.yml"), template);
}

#[test]
fn crlf_and_permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    let text = "servers:\r\n  - <IP-ADDRESS>\r\nproxy:\r\n  host: app.example\r\n";
    let path = p.write("config/deploy.yml", text);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(
        p.read("config/deploy.yml"),
        text.replace("<IP-ADDRESS>", &ip)
    );
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn several_web_hosts_get_the_new_one_added() {
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "servers:\n  web:\n    - 192.0.2.1\n    - 192.0.2.2\n",
    );
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let ip = ipv4(&p, "web1");
    assert_eq!(
        p.read("config/deploy.yml"),
        format!("servers:\n  web:\n    - 192.0.2.1\n    - 192.0.2.2\n    - {ip}\n")
    );
    assert_eq!(
        run.json()["kamal"]["changes"][0]["old"],
        serde_json::Value::Null
    );
}

#[test]
fn ipv6_only_server_is_written_quoted() {
    let p = Project::new();
    p.fake.set_ipv4_enabled(false);
    p.write(
        "config/deploy.yml",
        "servers:\n  web:\n    hosts:\n      - <IP-ADDRESS>\n",
    );
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let v6 = run.json()["server"]["ipv6"].as_str().unwrap().to_string();
    assert_eq!(
        p.read("config/deploy.yml"),
        format!("servers:\n  web:\n    hosts:\n      - \"{v6}\"\n")
    );
}
