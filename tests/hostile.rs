//! Parse at the boundary (SPEC §7, §8; issue 18 item 1): an address the API sends that is
//! not an address makes the answer unreadable. It is never printed, written to a file or
//! passed to `ssh`, whatever command reads it; `ssh root@$(pegasus server ip web1)` is
//! safe against any answer.

mod common;

use common::*;

/// What a hostile (or broken) answer puts where the address belongs.
const EVIL_V4: &str = "198.51.100.10 -oProxyCommand=touch${IFS}pwned";
const EVIL_V6: &str = "2001:db8:1::/64 -oProxyCommand=touch${IFS}pwned";

/// Every answer about servers carries `EVIL_V4` in place of web1's IPv4 address.
fn hostile_ipv4(p: &Project) {
    p.fake.inject(
        "GET",
        "/v1/servers",
        Fault::Substitute(
            "\"ip\":\"198.51.100.10\"".into(),
            format!("\"ip\":\"{EVIL_V4}\""),
        ),
        1000,
    );
}

fn assert_never_shown(run: &Run) {
    for needle in ["ProxyCommand", "pwned", "IFS"] {
        assert!(
            !run.stdout.contains(needle) && !run.stderr.contains(needle),
            "{needle}: {}",
            run.dump()
        );
    }
}

#[test]
fn server_ip_never_prints_a_value_that_is_not_an_address() {
    let p = Project::new();
    p.fake.add_server("web1");
    hostile_ipv4(&p);
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 1);
    assert_eq!(run.stdout, "", "{}", run.dump());
    assert_stderr(&run, "does not understand");
    assert_never_shown(&run);
    // The same answer with a real address prints it alone.
    let p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "ip", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "198.51.100.10\n");
}

#[test]
fn a_hostile_ipv6_network_is_unreadable_too() {
    let p = Project::new();
    p.fake.add_server("web1");
    let good = p.run(&["server", "ip", "-6", "web1"]);
    assert_exit(&good, 0);
    let net = good.stdout.trim().trim_end_matches('1').to_string() + "/64";
    p.fake.inject(
        "GET",
        "/v1/servers",
        Fault::Substitute(
            format!("\"ip\":\"{net}\""),
            format!("\"ip\":\"{}\"", EVIL_V6.replace("2001:db8:1::/64", &net)),
        ),
        1000,
    );
    let run = p.run(&["server", "ip", "-6", "web1"]);
    assert_exit(&run, 1);
    assert_eq!(run.stdout, "", "{}", run.dump());
    assert_never_shown(&run);
}

#[test]
fn list_refuses_the_answer_instead_of_printing_it() {
    let p = Project::new();
    p.fake.add_server("web1");
    hostile_ipv4(&p);
    for args in [
        &["server", "list"][..],
        &["server", "list", "--json"],
        &["server", "list", "-o", "columns=name,ipv4"],
    ] {
        let run = p.run(args);
        assert_exit(&run, 1);
        assert_eq!(run.stdout, "", "{}", run.dump());
        assert_never_shown(&run);
    }
}

#[test]
fn destroy_deletes_nothing_on_an_unreadable_look_up() {
    let p = Project::new();
    p.fake.add_server("web1");
    hostile_ipv4(&p);
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 1);
    assert_never_shown(&run);
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/servers"), 0);
    assert!(p.fake.server_names().contains(&"web1".to_string()));
}

#[test]
fn create_never_writes_or_connects_to_a_value_that_is_not_an_address() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    // The create's answer and every later read of the new server carry the bad value.
    let evil = "\"ip\":\"203.0.113.10 -oProxyCommand=touch${IFS}pwned\"";
    for (method, path) in [("POST", "/v1/servers"), ("GET", "/v1/servers")] {
        p.fake.inject(
            method,
            path,
            Fault::Substitute("\"ip\":\"203.0.113.10\"".into(), evil.into()),
            1000,
        );
    }
    let run = p.run(&["server", "create", "web1", "--ssh-timeout", "0"]);
    assert_ne!(run.code, 0, "{}", run.dump());
    assert_never_shown(&run);
    // The Kamal file is untouched: the address was never known.
    assert_eq!(p.read("config/deploy.yml"), template);
    // The POST was sent once (a run never makes two servers) and the facts say the
    // server may exist.
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1, "{}", run.dump());
    assert_stderr(&run, "pegasus server list");
}

/// No raw control character from the API or a file on the terminal.
fn assert_no_control(run: &Run) {
    for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.chars().any(|c| c == '\x1b' || c == '\x07'),
            "raw control character on {what}:\n{}",
            run.dump().replace('\x1b', "<ESC>").replace('\x07', "<BEL>")
        );
    }
}

#[test]
fn a_hostile_record_value_in_the_dns_tables_is_escaped() {
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - <IP-ADDRESS>\nproxy:\n  host: app.example.com\n",
    );
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["\u{1b}]0;pwned\u{7}"], None);
    // The consent question's listing (refused: no terminal) and the dry-run plan.
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_no_control(&run);
    assert_stderr(
        &run,
        "app.example.com A \\x1b]0;pwned\\x07 → the new server",
    );
    let run = p.run(&["server", "create", "web1", "--dns", "--yes", "--dry-run"]);
    assert_exit(&run, 0);
    assert_no_control(&run);
    assert!(
        run.stdout.contains("\\x1b]0;pwned\\x07 → <new IPv4>"),
        "{}",
        run.dump()
    );
}

#[test]
fn a_hostile_line_of_the_kamal_file_in_the_hand_edit_advice_is_escaped() {
    let p = Project::new();
    // A web host the editor cannot place (ERB), on a line with a terminal escape.
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - <%= ENV[\"WEB\"] %> # \u{1b}]0;pwned\u{7}\n",
    );
    let run = p.run(&["server", "create", "web1", "--ssh-timeout", "0"]);
    assert_exit(&run, 0);
    assert_no_control(&run);
    assert!(run.stdout.contains("config/deploy.yml:5"), "{}", run.dump());
}
