//! `server create` and Kamal's own rules (SPEC §6, §4 steps 3 and 6): the one-host rule of
//! automatic HTTPS checked before anything is created, `--role`, hand-edit advice that
//! names host lines only, other references, `-d` read as Kamal merges it, and the file read
//! again after the server runs. The real binary against the fake API; exact bytes for every
//! file written.

mod common;

use common::*;
use serde_json::json;

/// The address the fake gives the first server a project creates.
const NEW: &str = "203.0.113.10";

fn fixture(name: &str) -> String {
    read_fixture(&format!("kamal/{name}"))
}

/// The SaaS Pegasus template with its placeholder hosts (not its comment) set to `ip`.
fn placed(template: &str, ip: &str) -> String {
    template
        .replace("- <IP-ADDRESS>\n", &format!("- {ip}\n"))
        .replace("host: <IP-ADDRESS>\n", &format!("host: {ip}\n"))
}

/// A project whose `config/deploy.yml` is the fixture `name`, with web5 (198.51.100.10)
/// as a server of the Hetzner project.
fn project_with(name: &str) -> Project {
    let p = Project::new();
    p.fake.add_server("web5");
    p.write("config/deploy.yml", &fixture(name));
    p.fake.clear_requests();
    p
}

/// Nothing was created or uploaded: no key, no firewall, no server (no request but GETs).
#[track_caller]
fn assert_nothing_made(p: &Project, run: &Run) {
    let writes: Vec<String> = p
        .fake
        .writes()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(writes.is_empty(), "writes: {writes:?}\n{}", run.dump());
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(p.fake.server_names(), ["web5"]);
}

const WAYS_TOP: &str = "Ways on:\n  --replace: the new server takes the place of 198.51.100.10 (the data on it does not move)\n  --role celery: add the server as a worker (roles: celery)\n  a custom certificate (proxy ssl: certificate_pem and private_key_pem) or TLS at a load balancer (ssl: false), then run this again\n";

// ------------------------------------------------------------------------------------------
// The one-host rule of automatic HTTPS
// ------------------------------------------------------------------------------------------

#[test]
fn a_second_web_server_with_automatic_https_is_refused_before_anything_is_made() {
    let p = project_with("rules_ssl_top.yml");
    let run = p.run(&["server", "create", "web6"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "error: Kamal's automatic HTTPS works on one server per role: the role web runs kamal-proxy with automatic HTTPS (config/deploy.yml:14: `ssl: true`) and no custom certificate, so Kamal refuses it with a second host (\"SSL is only supported on a single server unless you provide custom certificates\"), and adding this server to web (it has 198.51.100.10) would give it one. Nothing was created. ",
    );
    assert_stderr(&run, WAYS_TOP);
    assert_nothing_made(&p, &run);
    assert_eq!(p.read("config/deploy.yml"), fixture("rules_ssl_top.yml"));
}

#[test]
fn append_flag_is_refused_too_and_json_keeps_stdout_empty() {
    let p = Project::new();
    p.write("config/deploy.yml", &fixture("rules_ssl_top.yml"));
    let run = p.run(&["server", "create", "web6", "--append", "--json"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "adding this server to web (it has 198.51.100.10) would give it one",
    );
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert!(p.fake.writes().is_empty(), "{}", run.dump());
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn the_second_create_on_the_pegasus_template_is_refused() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let first = p.run(&["server", "create", "web1"]);
    assert_exit(&first, 0);
    let after_first = p.read("config/deploy.yml");
    assert_eq!(after_first, placed(&template, NEW));
    p.fake.clear_requests();

    // web1 is now a server of the project: the rule says append, and web has HTTPS.
    let run = p.run(&["server", "create", "web2"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        &format!(
            "adding this server to web (it has {NEW}) would give it one. Nothing was created."
        ),
    );
    assert_stderr(&run, "(config/deploy.yml:63: `ssl: true`)");
    assert_stderr(
        &run,
        &format!("--replace: the new server takes the place of {NEW}"),
    );
    assert_stderr(
        &run,
        "--role celery: add the server as a worker (roles: celery, celerybeat)",
    );
    let writes: Vec<String> = p.fake.writes().iter().map(|r| r.path.clone()).collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert_eq!(p.fake.server_names(), ["web1"]);
    assert_eq!(p.read("config/deploy.yml"), after_first);
}

#[test]
fn a_role_with_its_own_https_proxy_keeps_one_host() {
    let p = project_with("rules_ssl_role.yml");
    let run = p.run(&["server", "create", "api2", "--role", "api"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "the role api runs kamal-proxy with automatic HTTPS (config/deploy.yml:14: `ssl: true`) and no custom certificate, so Kamal refuses it with a second host (\"SSL is only supported on a single server unless you provide custom certificates\"), and adding this server to api (it has 198.51.100.10) would give it one.",
    );
    // --replace is about the web role: not a way on for api.
    assert!(!run.stderr.contains("--replace"), "{}", run.dump());
    assert_stderr(
        &run,
        "Ways on:\n  --role worker: add the server as a worker (roles: worker)\n",
    );
    assert_nothing_made(&p, &run);
}

#[test]
fn roles_without_https_take_more_hosts() {
    // web runs no proxy (`proxy: false`): a second web server is fine.
    let p = project_with("rules_ssl_role.yml");
    let run = p.run(&["server", "create", "web6", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        fixture("rules_ssl_role.web.expected.yml")
    );
    assert_eq!(run.json()["kamal"]["mode"], "append");
    // worker runs no proxy (a non-primary role without `proxy:`).
    let p = project_with("rules_ssl_role.yml");
    let run = p.run(&["server", "create", "worker2", "--role", "worker", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        fixture("rules_ssl_role.worker.expected.yml")
    );
}

#[test]
fn ssl_false_and_a_custom_certificate_allow_several_web_hosts() {
    for name in ["rules_ssl_false", "rules_custom_cert"] {
        let p = project_with(&format!("{name}.yml"));
        let run = p.run(&["server", "create", "web6", "--json"]);
        assert_exit(&run, 0);
        assert_eq!(
            p.read("config/deploy.yml"),
            fixture(&format!("{name}.expected.yml")),
            "{name}"
        );
        let v = run.json();
        assert_eq!(v["kamal"]["mode"], "append", "{name}");
        assert_eq!(v["kamal"]["status"], "updated", "{name}");
    }
}

#[test]
fn https_decided_by_erb_counts_as_on() {
    let p = project_with("rules_ssl_erb.yml");
    let run = p.run(&["server", "create", "web6"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "the role web runs kamal-proxy and ERB decides its HTTPS setting (config/deploy.yml:8: `ssl: <%= ENV.fetch(\"KAMAL_SSL\", \"true\") %>`), so pegasus cannot tell whether Kamal refuses a second host for it, and adding this server to web (it has 198.51.100.10) would give it one.",
    );
    assert_nothing_made(&p, &run);
}

#[test]
fn the_ways_on_work_replace_and_role() {
    let p = project_with("rules_ssl_top.yml");
    let run = p.run(&["server", "create", "web6", "--replace"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        fixture("rules_ssl_top.replaced.expected.yml")
    );
    // The data stays on the old host, and the next step says so.
    assert!(
        run.stdout.contains(&format!(
            "Next: the data of the accessory postgres stays on 198.51.100.10 (pegasus moves hosts, not data): copy it to {NEW} first, or `kamal setup` starts it empty there; then run kamal setup\n"
        )),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("Next: kamal setup"), "{}", run.dump());

    let p = project_with("rules_ssl_top.yml");
    let run = p.run(&["server", "create", "worker1", "--role", "celery", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        fixture("rules_ssl_top.celery.expected.yml")
    );
    let v = run.json();
    assert_eq!(v["kamal"]["mode"], "append");
    assert_eq!(v["kamal"]["replaced"], serde_json::Value::Null);
    assert_eq!(
        v["kamal"]["changes"],
        json!([{"path": "servers.celery.hosts[1]", "line": 12, "old": null, "new": NEW}])
    );
    assert_eq!(v["kamal"]["other_refs"], json!([]));
}

#[test]
fn picking_up_a_server_the_file_already_names_is_not_a_second_host() {
    // A first run replaced the placeholder, then stopped; the re-run picks web1 up.
    let p = Project::new();
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    let text = fixture("rules_ssl_top.yml");
    p.write("config/deploy.yml", &text);
    let run = p.run(&["server", "create", "web1", "--json", "--ssh-timeout", "0"]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["kamal"]["status"], "unchanged");
    assert_eq!(p.read("config/deploy.yml"), text);
}

// ------------------------------------------------------------------------------------------
// --role
// ------------------------------------------------------------------------------------------

#[test]
fn role_joins_a_list_in_its_own_style() {
    for role in [
        "block",
        "flow",
        "flowhosts",
        "tagged",
        "bare",
        "placeholder",
    ] {
        let p = Project::new();
        let before = fixture("roles_styles.yml");
        p.write("config/deploy.yml", &before);
        let run = p.run(&["server", "create", "w1", "--role", role, "--json"]);
        assert_exit(&run, 0);
        assert_eq!(
            p.read("config/deploy.yml"),
            fixture(&format!("roles_styles.{role}.expected.yml")),
            "--role {role}"
        );
        let v = run.json();
        assert_eq!(v["kamal"]["status"], "updated", "{role}");
        assert_eq!(v["kamal"]["mode"], "append", "{role}");
        // A placeholder never stays beside a real host: it is replaced.
        let old = if role == "placeholder" {
            json!("<IP-ADDRESS>")
        } else {
            serde_json::Value::Null
        };
        assert_eq!(v["kamal"]["changes"][0]["old"], old, "{role}");
        // The same run again: the list already holds the address.
        let again = p.run(&["server", "create", "w1", "--role", role, "--json"]);
        assert_exit(&again, 0);
        assert_eq!(again.json()["kamal"]["status"], "unchanged", "{role}");
    }
}

#[test]
fn role_celery_on_the_pegasus_template() {
    // After the first server: everything on web5 (198.51.100.10); a worker joins celery.
    let p = Project::new();
    p.fake.add_server("web5");
    let template = placed(&read_fixture("pegasus/deploy.yml"), "198.51.100.10");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "celery1", "--role", "celery"]);
    assert_exit(&run, 0);
    let expected = template.replace(
        "      - 198.51.100.10\n    cmd: celery -A acme_app worker",
        &format!("      - 198.51.100.10\n      - {NEW}\n    cmd: celery -A acme_app worker"),
    );
    assert_ne!(expected, template);
    assert_eq!(p.read("config/deploy.yml"), expected);
    assert!(
        run.stdout
            .contains(&format!("config/deploy.yml:30  + {NEW}\n")),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.contains(&format!(
            "Added {NEW} to `servers.celery.hosts`, which now has 2 hosts; nothing else changed. web, celerybeat and the accessories postgres and redis stay on 198.51.100.10."
        )),
        "{}",
        run.dump()
    );
    // No project listing is needed: --role decides.
    assert_eq!(
        p.fake
            .requests()
            .iter()
            .filter(|r| r.path == "/v1/servers" && r.method == "GET" && !r.query.contains("name="))
            .count(),
        0
    );

    // On the untouched template, celery's placeholder becomes the address; nothing else.
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "celery1", "--role", "celery", "--json"]);
    assert_exit(&run, 0);
    let expected = template.replace(
        "      - <IP-ADDRESS>\n    cmd: celery -A acme_app worker",
        &format!("      - {NEW}\n    cmd: celery -A acme_app worker"),
    );
    assert_eq!(p.read("config/deploy.yml"), expected);
    let v = run.json();
    assert_eq!(
        v["kamal"]["changes"],
        json!([{"path": "servers.celery.hosts[0]", "line": 29, "old": "<IP-ADDRESS>", "new": NEW}])
    );
    assert_stderr(
        &run,
        &format!(
            "The placeholder <IP-ADDRESS> in `servers.celery.hosts` is now {NEW}; nothing else changed."
        ),
    );
}

#[test]
fn append_replaces_the_web_placeholder_only() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1", "--append", "--json"]);
    assert_exit(&run, 0);
    let expected = template.replacen(
        "    hosts:\n      - <IP-ADDRESS>\n",
        &format!("    hosts:\n      - {NEW}\n"),
        1,
    );
    assert_ne!(expected, template);
    assert_eq!(p.read("config/deploy.yml"), expected);
    let v = run.json();
    assert_eq!(v["kamal"]["mode"], "append");
    assert_eq!(
        v["kamal"]["changes"],
        json!([{"path": "servers.web.hosts[0]", "line": 24, "old": "<IP-ADDRESS>", "new": NEW}])
    );
}

#[test]
fn unknown_or_primary_role_is_a_usage_error_before_any_request() {
    let p = Project::new();
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    let run = p.run(&["server", "create", "w1", "--role", "workers"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "--role workers: config/deploy.yml has no role workers (its roles: web, celery, celerybeat)",
    );
    let run = p.run(&["server", "create", "w1", "--role", "web"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "--role web: web is the primary role of config/deploy.yml; use --append to add the server to it",
    );
    let primary = "primary_role: app\nservers:\n  app: [192.0.2.1]\n  web: [192.0.2.2]\n";
    p.write("config/deploy.yml", primary);
    let run = p.run(&["server", "create", "w1", "--role", "app"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--role app: app is the primary role");
    std::fs::remove_file(p.dir.path().join("config/deploy.yml")).unwrap();
    let run = p.run(&["server", "create", "w1", "--role", "celery"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "--role adds the server to a role of the Kamal config, but no Kamal config was found",
    );
    assert!(p.fake.requests().is_empty());
}

// ------------------------------------------------------------------------------------------
// Hand edits name host lines only
// ------------------------------------------------------------------------------------------

#[test]
fn erb_hosts_get_advice_naming_host_lines_only() {
    let p = Project::new();
    let text = fixture("advice_erb.yml");
    p.write("config/deploy.yml", &text);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), text);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  config/deploy.yml:"))
        .collect();
    assert_eq!(
        listed,
        [
            "  config/deploy.yml:7  - <%= ENV[\"WEB_HOST\"] %>",
            "  config/deploy.yml:10  - <%= ENV[\"WEB_HOST\"] %>: [jobs]",
            "  config/deploy.yml:22  host: <%= ENV[\"WEB_HOST\"] %>",
        ],
        "{}",
        run.dump()
    );
    for never in [
        "3306",
        "DB_HOST",
        "remote:",
        "MYSQL_ROOT_HOST",
        "host: shop",
    ] {
        assert!(!run.stdout.contains(never), "{never}\n{}", run.dump());
    }
    let json = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&json, 0);
    let hint = json.json()["kamal"]["hint"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(hint.contains("set WEB_HOST=203.0.113.11"), "{hint}");
    assert!(
        hint.ends_with(
            "Host lines: config/deploy.yml:7, config/deploy.yml:10, config/deploy.yml:22."
        ),
        "{hint}"
    );
}

#[test]
fn a_file_broken_during_the_wait_lists_only_host_lines_holding_the_old_host() {
    let p = Project::new();
    let text = "service: shop\nservers:\n  web:\n    - 198.51.100.7\n  jobs:\n    - 198.51.100.7: [jobs]\naccessories:\n  db:\n    host: 198.51.100.7\n    port: \"198.51.100.7:5432:5432\"\n    env:\n      clear:\n        DB_HOST: 198.51.100.7\n";
    let path = p.write("config/deploy.yml", text);
    let broken = format!("{text}  bad: [\n");
    let written = broken.clone();
    p.fake.on_request("POST", "/v1/servers", move || {
        std::fs::write(&path, written).unwrap();
    });
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), broken);
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("  config/deploy.yml:"))
        .collect();
    assert_eq!(
        listed,
        [
            "  config/deploy.yml:4  - 198.51.100.7",
            "  config/deploy.yml:6  - 198.51.100.7: [jobs]",
            "  config/deploy.yml:9  host: 198.51.100.7",
        ],
        "{}",
        run.dump()
    );
}

// ------------------------------------------------------------------------------------------
// Other references
// ------------------------------------------------------------------------------------------

#[test]
fn values_that_still_name_the_old_host_are_listed_never_edited() {
    let p = Project::new();
    let text = fixture("decoys.yml");
    p.write("config/deploy.yml", &text);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), fixture("decoys.expected.yml"));
    let v = run.json();
    assert_eq!(
        v["kamal"]["other_refs"],
        json!([
            {"line": 7, "path": "proxy.host", "text": "host: 192.0.2.50"},
            {"line": 8, "path": "proxy.hosts[0]", "text": "hosts: [192.0.2.50]"},
            {"line": 10, "path": "builder.remote", "text": "remote: ssh://root@192.0.2.50"},
            {"line": 12, "path": "ssh.proxy", "text": "proxy: root@192.0.2.50"},
            {"line": 14, "path": "registry.server", "text": "server: 192.0.2.50:5000"},
            {"line": 17, "path": "env.clear.DB_HOST", "text": "DB_HOST: 192.0.2.50"},
            {"line": 22, "path": "accessories.db.port", "text": "port: \"192.0.2.50:5432:5432\""},
        ]),
        "{}",
        run.dump()
    );
    // Keys in SPEC order: other_refs right after changes.
    let at = |key: &str| {
        run.stdout
            .find(&format!("\"{key}\":"))
            .unwrap_or(usize::MAX)
    };
    assert!(at("replaced") < at("changes"), "{}", run.dump());
    assert!(at("changes") < at("other_refs"), "{}", run.dump());
    assert!(at("other_refs") < at("dns"), "{}", run.dump());

    let p = Project::new();
    p.write("config/deploy.yml", &text);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains(
            "Not hosts, so not changed (check them by hand):\n  config/deploy.yml:7  still names 192.0.2.50: host: 192.0.2.50\n"
        ),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains("  config/deploy.yml:17  still names 192.0.2.50: DB_HOST: 192.0.2.50\n"),
        "{}",
        run.dump()
    );
    // One box without data accessories: the next step is kamal setup.
    assert!(
        run.stdout.ends_with("Next: kamal setup\n"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_placeholder_moving_away_keeps_the_next_step_plain() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.ends_with("Next: kamal setup\n"),
        "{}",
        run.dump()
    );
    assert!(!run.stdout.contains("still names"), "{}", run.dump());
}

// ------------------------------------------------------------------------------------------
// -d: deploy.yml and deploy.DEST.yml merged
// ------------------------------------------------------------------------------------------

fn destination_project(staging: &str) -> Project {
    let p = Project::new();
    p.fake.add_server("web5");
    p.write("config/deploy.yml", &fixture("dest_base.yml"));
    p.write("config/deploy.staging.yml", &fixture(staging));
    p.fake.clear_requests();
    p
}

#[test]
fn destination_reads_https_from_the_base_file() {
    let p = destination_project("dest_staging.yml");
    let run = p.run(&["server", "create", "web6", "-d", "staging"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "the role web runs kamal-proxy with automatic HTTPS (config/deploy.yml:12: `ssl: true`) and no custom certificate",
    );
    assert_stderr(
        &run,
        "--role jobs: add the server as a worker (roles: jobs)",
    );
    assert_nothing_made(&p, &run);
}

#[test]
fn destination_overrides_are_merged_and_only_the_destination_is_edited() {
    let p = destination_project("dest_staging_own.yml");
    let run = p.run(&["server", "create", "web6", "-d", "staging", "--json"]);
    assert_exit(&run, 0);
    let staging = fixture("dest_staging_own.yml");
    assert_eq!(
        p.read("config/deploy.staging.yml"),
        staging.replacen(
            "      - 198.51.100.10\n",
            &format!("      - 198.51.100.10\n      - {NEW}\n"),
            1
        )
    );
    assert_eq!(p.read("config/deploy.yml"), fixture("dest_base.yml"));
    let v = run.json();
    assert_eq!(v["kamal"]["path"], "config/deploy.staging.yml");
    assert_eq!(v["kamal"]["mode"], "append");

    // Replace: every host is in the destination file; the base's DB_HOST still names it.
    let p = destination_project("dest_staging_own.yml");
    let run = p.run(&[
        "server",
        "create",
        "web6",
        "-d",
        "staging",
        "--replace",
        "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.staging.yml"),
        staging.replace("198.51.100.10", NEW)
    );
    assert_eq!(p.read("config/deploy.yml"), fixture("dest_base.yml"));
    assert_eq!(
        run.json()["kamal"]["other_refs"],
        json!([{"line": 16, "path": "env.clear.DB_HOST", "text": "DB_HOST: 198.51.100.10", "file": "config/deploy.yml"}])
    );
}

#[test]
fn destination_hosts_in_the_base_file_are_named_for_a_hand_edit() {
    let p = destination_project("dest_staging.yml");
    let run = p.run(&["server", "create", "web6", "-d", "staging", "--replace"]);
    assert_exit(&run, 0);
    // The destination's web host moves; deploy.yml, read by every destination, stays.
    assert_eq!(
        p.read("config/deploy.staging.yml"),
        fixture("dest_staging.yml").replace("      - 198.51.100.10\n", &format!("      - {NEW}\n"))
    );
    assert_eq!(p.read("config/deploy.yml"), fixture("dest_base.yml"));
    assert!(
        run.stdout.contains(&format!(
            "Still to edit by hand: config/deploy.yml is read by every destination, so pegasus does not edit it: change 198.51.100.10 to {NEW} by hand on its host lines too (config/deploy.yml:9, config/deploy.yml:20)\n  config/deploy.yml:9  - 198.51.100.10\n  config/deploy.yml:20  host: 198.51.100.10\n"
        )),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .ends_with("Next: edit the host lines listed above; then run kamal setup\n"),
        "{}",
        run.dump()
    );
    // The base's DB_HOST is a value, not a host line: an other reference.
    assert!(
        run.stdout.contains(
            "  config/deploy.yml:16  still names 198.51.100.10: DB_HOST: 198.51.100.10\n"
        ),
        "{}",
        run.dump()
    );
    let json = destination_project("dest_staging.yml").run(&[
        "server",
        "create",
        "web6",
        "-d",
        "staging",
        "--replace",
        "--json",
    ]);
    assert_exit(&json, 0);
    let v = json.json();
    assert_eq!(v["kamal"]["status"], "updated");
    assert_eq!(
        v["kamal"]["changes"],
        json!([{"path": "servers.web.hosts[0]", "line": 5, "old": "198.51.100.10", "new": NEW}])
    );
    assert!(
        v["kamal"]["hint"]
            .as_str()
            .unwrap_or_default()
            .ends_with("(config/deploy.yml:9, config/deploy.yml:20)"),
        "{}",
        json.dump()
    );

    // --role jobs: the jobs list comes from the base file.
    let run = p.run(&[
        "server", "create", "job1", "-d", "staging", "--role", "jobs", "--json",
    ]);
    assert_exit(&run, 0);
    let hint = run.json()["kamal"]["hint"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        hint.contains("`servers.jobs.hosts` comes from config/deploy.yml (line 9), which a destination run does not edit"),
        "{hint}"
    );
    assert_eq!(p.read("config/deploy.yml"), fixture("dest_base.yml"));
}

#[test]
fn a_destination_without_deploy_yml_beside_it_is_a_usage_error() {
    let p = Project::new();
    p.write("config/deploy.staging.yml", &fixture("dest_staging.yml"));
    let run = p.run(&["server", "create", "web1", "-d", "staging"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "Kamal config config/deploy.yml: no such file; Kamal reads it under config/deploy.staging.yml (-d staging), so it must exist",
    );
    assert!(p.fake.requests().is_empty());
}

// ------------------------------------------------------------------------------------------
// The file read again after the server runs
// ------------------------------------------------------------------------------------------

#[test]
fn an_edit_during_the_wait_that_keeps_the_plan_is_kept_and_edited() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    let path = p.write("config/deploy.yml", &template);
    let edited = format!("{template}# a note added while the server was made\n");
    let written = edited.clone();
    p.fake.on_request("POST", "/v1/servers", move || {
        std::fs::write(&path, written).unwrap();
    });
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), placed(&edited, NEW));
    assert_eq!(run.json()["kamal"]["status"], "updated");
}

#[test]
fn an_edit_during_the_wait_that_changes_the_plan_is_left_alone_and_no_dns_is_written() {
    let p = Project::new();
    p.fake.add_zone("example.com");
    let text = "service: shop\nimage: shop/web\nservers:\n  web:\n    - <IP-ADDRESS>\nproxy:\n  ssl: false\n  host: app.example.com\n";
    let path = p.write("config/deploy.yml", text);
    // The user puts two servers in while pegasus waits: the plan becomes an append.
    let edited = text.replace(
        "    - <IP-ADDRESS>\n",
        "    - 198.51.100.7\n    - 198.51.100.8\n",
    );
    let written = edited.clone();
    p.fake.on_request("POST", "/v1/servers", move || {
        std::fs::write(&path, written).unwrap();
    });
    let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), edited);
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "manual");
    let hint = v["kamal"]["hint"].as_str().unwrap_or_default();
    assert!(
        hint.starts_with("config/deploy.yml changed while the server was being made, and the edit it needs now is not the one checked before anything was created (it would now append, not replace); pegasus left it as it is and writes no DNS record."),
        "{hint}"
    );
    assert_eq!(v["dns"], json!([]));
    let dns_writes = p
        .fake
        .writes()
        .iter()
        .filter(|r| r.path.starts_with("/v1/zones"))
        .count();
    assert_eq!(dns_writes, 0, "{}", run.dump());
}
