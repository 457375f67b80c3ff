//! `server create --dry-run` (SPEC §4 "Dry run", issue 20 item 4): steps 1–6 as a real run,
//! then the plan and the price, and no write of any kind.

mod common;

use common::*;
use serde_json::json;

/// Everything a run could write, as bytes: the project folder's files and HOME's.
fn snapshot(p: &Project) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for root in [p.dir.path(), p.home.path()] {
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
                }
            }
        }
    }
    out.sort();
    out
}

fn template_project() -> Project {
    let p = Project::new();
    p.write("config/deploy.yml", &read_fixture("pegasus/deploy.yml"));
    p.add_key("known_hosts", "203.0.113.10 ssh-ed25519 AAAAold\n");
    p
}

#[test]
fn a_dry_run_writes_nothing_and_shows_the_plan_with_the_price() {
    let p = template_project();
    let before = snapshot(&p);
    let run = p.run(&["server", "create", "web1", "--dry-run"]);
    assert_exit(&run, 0);
    assert!(p.fake.writes().is_empty(), "{:?}", p.fake.writes());
    assert_eq!(snapshot(&p), before);
    let out = &run.stdout;
    for needle in [
        "Dry run: nothing was created, uploaded or written.",
        "  server    web1: cx23 (2 vCPU, 4 GB RAM, 40 GB disk), ubuntu-24.04, nbg1\n",
        "  price     €4.15/month + €0.61 IPv4 (",
        "  SSH key   ~/.ssh/id_ed25519.pub, uploaded as 'id_ed25519'\n",
        "  firewall  pegasus-kamal, made: inbound TCP 22, 80, 443 and ICMP from anywhere\n",
        "+ <new address>",
    ] {
        assert!(out.contains(needle), "{needle}\n{}", run.dump());
    }
    // The Kamal part is the real diff: the five placeholders, each with its line.
    assert_eq!(out.matches("+ <new address>").count(), 5, "{}", run.dump());
    // Short enough to read at a glance.
    assert!(out.lines().count() <= 30, "{}", run.dump());
}

#[test]
fn a_dry_run_in_json() {
    let p = template_project();
    let key_id = p.fake.add_ssh_key("laptop", &ed25519_pub());
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--dry-run",
        "--json",
        "-l",
        "hel1",
    ]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["dry_run"], true);
    let plan = &v["plan"];
    // Keys in SPEC order (serde_json's map sorts them, so look at the text).
    let at: Vec<usize> = ["server", "resumed", "ssh_key", "firewall", "kamal", "dns"]
        .iter()
        .map(|k| run.stdout.find(&format!("\"{k}\":")).unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{}", run.stdout);
    assert!(
        run.stdout
            .starts_with("{\"dry_run\":true,\"plan\":{\"server\":")
    );
    let server = &plan["server"];
    assert_eq!(server["name"], "web1");
    assert_eq!(server["location"], "hel1");
    assert_eq!(server["cores"], 2);
    assert_eq!(server["price"]["currency"], "EUR");
    assert!(server["price"]["monthly"].is_string(), "{server}");
    assert!(server["price"]["ipv4_monthly"].is_string(), "{server}");
    assert_eq!(plan["resumed"], false);
    assert_eq!(
        plan["ssh_key"],
        json!({"id": key_id, "name": "laptop", "uploaded": false})
    );
    assert_eq!(plan["firewall"]["id"], serde_json::Value::Null);
    assert_eq!(plan["firewall"]["created"], true);
    assert_eq!(plan["firewall"]["rules"][0]["port"], "22");
    assert_eq!(plan["kamal"]["mode"], "replace");
    assert_eq!(plan["kamal"]["changes"][0]["new"], "<new address>");
    assert!(p.fake.writes().is_empty());
}

#[test]
fn the_price_follows_the_location() {
    let p = template_project();
    let price = |loc: &str| {
        let run = p.run(&[
            "server",
            "create",
            "web1",
            "--dry-run",
            "--json",
            "-t",
            "cpx22",
            "-l",
            loc,
        ]);
        assert_exit(&run, 0);
        run.json()["plan"]["server"]["price"]["monthly"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_ne!(price("nbg1"), price("ash"));
}

#[test]
fn a_dry_run_refuses_what_a_real_run_refuses_with_the_same_code() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("unknown type", vec!["-t", "cx999"]),
        ("unknown image", vec!["-i", "plan9"]),
        ("missing firewall", vec!["--firewall", "nope"]),
        ("unknown role", vec!["--role", "nope"]),
        ("bad label", vec!["--label", "managed-by=me"]),
    ];
    for (what, extra) in cases {
        let real = {
            let p = template_project();
            let mut args = vec!["server", "create", "web1"];
            args.extend(&extra);
            p.run(&args)
        };
        let dry = {
            let p = template_project();
            let mut args = vec!["server", "create", "web1", "--dry-run"];
            args.extend(&extra);
            let run = p.run(&args);
            assert!(p.fake.writes().is_empty(), "{what}");
            run
        };
        assert_ne!(real.code, 0, "{what}: {}", real.dump());
        assert_eq!(
            dry.code,
            real.code,
            "{what}\n{}\n{}",
            real.dump(),
            dry.dump()
        );
        let first_error = |r: &Run| {
            r.stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .map(str::to_string)
        };
        assert_eq!(first_error(&dry), first_error(&real), "{what}");
    }
}

#[test]
fn a_dry_run_marks_live_records_and_asks_nothing() {
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - <IP-ADDRESS>\nproxy:\n  host: app.example.com\n",
    );
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.7"], None);
    // No terminal and no --yes: the real run would refuse, so the dry run does.
    let run = p.run(&["server", "create", "web1", "--dns", "--dry-run"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "Pass --yes to move them");
    // With --yes: the plan shows what the name holds now and what it would hold.
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--dns",
        "--yes",
        "--dry-run",
        "--json",
    ]);
    assert_exit(&run, 0);
    let dns = run.json()["plan"]["dns"].clone();
    assert_eq!(
        dns[0],
        json!({"name": "app.example.com", "zone": "example.com", "type": "A",
               "value": "<new IPv4>", "status": "updated", "now": ["198.51.100.7"],
               "needs_consent": true})
    );
    assert!(p.fake.writes().is_empty());
}

#[test]
fn a_dry_run_does_not_save_a_typed_token() {
    let mut p = template_project();
    p.set_env("HETZNER_API_TOKEN", None);
    let run = p.run_with_stdin(
        &["server", "create", "web1", "--dry-run"],
        &format!("{TOKEN}\n"),
    );
    assert_exit(&run, 0);
    assert!(!p.credentials_path().exists(), "{}", run.dump());
    assert!(p.fake.writes().is_empty());
}
