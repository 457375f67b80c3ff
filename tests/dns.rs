//! `pegasus server create --dns` (SPEC §10) and the DNS lines without it: the real binary
//! against the fake API's zones and record sets.

mod common;

use common::*;
use serde_json::json;

/// The addresses the fake gives the first server a project creates.
const V4: &str = "203.0.113.10";
const V6: &str = "2001:db8:1::1";

/// A SaaS Pegasus style config whose proxy serves `hosts` (one `host:` line when there is
/// one name, else a `hosts:` list).
fn config(hosts: &[&str]) -> String {
    let proxy = match hosts {
        [] => "proxy:\n  ssl: true\n  app_port: 8000\n".to_string(),
        [one] => format!("proxy:\n  ssl: true\n  host: {one}\n  app_port: 8000\n"),
        many => {
            let list: String = many.iter().map(|h| format!("    - {h}\n")).collect();
            format!("proxy:\n  ssl: true\n  hosts:\n{list}  app_port: 8000\n")
        }
    };
    format!(
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - <IP-ADDRESS>\n{proxy}registry:\n  server: ghcr.io\n"
    )
}

fn project(hosts: &[&str]) -> Project {
    let p = Project::new();
    p.write("config/deploy.yml", &config(hosts));
    p
}

fn posts(p: &Project) -> Vec<String> {
    p.fake
        .writes()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn zone_requests(p: &Project) -> usize {
    p.fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/zones"))
        .count()
}

#[test]
fn replace_mode_sets_apex_and_subdomain_and_leaves_the_rest() {
    let p = project(&["example.com", "app.shop.example.org"]);
    p.fake.add_zone("example.com");
    p.fake.add_zone("example.org");
    p.fake.add_zone("shop.example.org");
    p.fake
        .add_rrset("example.com", "@", "A", &["198.51.100.7"], Some(600));
    p.fake
        .add_rrset("example.com", "@", "MX", &["10 mail.example.com."], None);
    p.fake
        .add_rrset("example.com", "@", "TXT", &["\"v=spf1 -all\""], None);
    p.fake
        .add_rrset("example.com", "www", "A", &["198.51.100.7"], None);
    let before_org = p.fake.rrsets("example.org");

    // The apex points at 198.51.100.7 and the config's web host is the placeholder: that
    // address is live traffic pegasus knows nothing of. Without consent: refused.
    let refused = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&refused, 1);
    assert_stderr(
        &refused,
        "These DNS records point at live traffic:\n  example.com A 198.51.100.7 → the new server",
    );
    assert_stderr(&refused, "Pass --yes to move them");
    assert!(posts(&p).is_empty(), "{}", refused.dump());

    let run = p.run(&["server", "create", "web1", "--dns", "--yes", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(
        v["dns"],
        json!([
            {"name": "example.com", "zone": "example.com", "type": "A", "value": V4, "status": "updated"},
            {"name": "example.com", "zone": "example.com", "type": "AAAA", "value": V6, "status": "created"},
            {"name": "app.shop.example.org", "zone": "shop.example.org", "type": "A", "value": V4, "status": "created"},
            {"name": "app.shop.example.org", "zone": "shop.example.org", "type": "AAAA", "value": V6, "status": "created"},
        ]),
        "{}",
        run.dump()
    );
    // `dns` is the last key, after `kamal`.
    let (kamal_at, dns_at) = (
        run.stdout.find("\"kamal\":").unwrap(),
        run.stdout.rfind("\"dns\":").unwrap(),
    );
    assert!(kamal_at < dns_at && run.stdout.trim_end().ends_with("]}"));

    // The A set was replaced and kept its TTL; the new sets have 300 s.
    let a = p.fake.rrset("example.com", "@", "A").unwrap();
    assert_eq!((a.values, a.ttl), (vec![V4.to_string()], Some(600)));
    let aaaa = p.fake.rrset("example.com", "@", "AAAA").unwrap();
    assert_eq!((aaaa.values, aaaa.ttl), (vec![V6.to_string()], Some(300)));
    let app = p.fake.rrset("shop.example.org", "app", "A").unwrap();
    assert_eq!((app.values, app.ttl), (vec![V4.to_string()], Some(300)));
    // Other records, other names and the shorter zone are untouched.
    assert_eq!(
        p.fake.rrset("example.com", "@", "MX").unwrap().values,
        ["10 mail.example.com."]
    );
    assert_eq!(
        p.fake.rrset("example.com", "@", "TXT").unwrap().values,
        ["\"v=spf1 -all\""]
    );
    assert_eq!(
        p.fake.rrset("example.com", "www", "A").unwrap().values,
        ["198.51.100.7"]
    );
    assert_eq!(p.fake.rrsets("example.org"), before_org);

    // The writes: the server, then exactly one write per record set, in order.
    let zone_writes: Vec<String> = posts(&p)
        .into_iter()
        .filter(|w| w.contains("/zones/"))
        .collect();
    assert_eq!(
        zone_writes,
        [
            "POST /v1/zones/90001/rrsets/@/A/actions/set_records",
            "POST /v1/zones/90001/rrsets",
            "POST /v1/zones/90003/rrsets",
            "POST /v1/zones/90003/rrsets",
        ],
        "{}",
        run.dump()
    );
    // The kamal edit happened too, and the actions were waited for.
    assert_eq!(v["kamal"]["status"], "updated");
    assert_stderr(&run, "DNS: records set");
}

#[test]
fn append_mode_never_writes_dns_and_lists_the_records_to_add() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.7"], Some(120));
    let before = p.fake.rrsets("example.com");
    let run = p.run(&["server", "create", "web1", "--dns", "--append", "--json"]);
    assert_exit(&run, 0);
    // No record set was written: a new server joins a live name only once it serves.
    assert_eq!(p.fake.rrsets("example.com"), before);
    assert!(
        posts(&p).iter().all(|w| !w.contains("/zones/")),
        "{:?}",
        posts(&p)
    );
    // The placeholder was replaced by the new address (no host beside a placeholder), so
    // the records to add are the new addresses.
    assert_eq!(
        run.json()["dns"],
        json!([
            {"name": "app.example.com", "zone": "example.com", "type": "A", "value": V4, "status": "todo"},
            {"name": "app.example.com", "zone": "example.com", "type": "AAAA", "value": V6, "status": "todo"},
        ]),
        "{}",
        run.dump()
    );
}

#[test]
fn a_set_already_right_is_left_alone_and_said_so() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake.add_rrset("example.com", "app", "A", &[V4], None);
    // Before the create the set's value is nobody pegasus knows: consent (--yes).
    let run = p.run(&["server", "create", "web1", "--dns", "--yes"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains(&format!(
            "DNS records (Hetzner DNS):\n  app.example.com  A     {V4}   already right\n  app.example.com  AAAA  {V6}  created\n"
        )),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.ends_with("Next: kamal setup\n"),
        "{}",
        run.dump()
    );
    let writes: Vec<String> = posts(&p)
        .into_iter()
        .filter(|w| w.contains("/zones/"))
        .collect();
    assert_eq!(writes, ["POST /v1/zones/90001/rrsets"]);
}

#[test]
fn a_name_without_a_zone_stops_before_anything_is_created() {
    let p = project(&["app.example.com", "shop.example.net"]);
    p.fake.add_zone("example.com");
    p.fake.add_zone("example.org");
    let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "no DNS zone in this Hetzner project holds shop.example.net",
    );
    assert_stderr(&run, "the project's zones: example.com, example.org");
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(posts(&p), Vec::<String>::new(), "{}", run.dump());
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn no_zones_at_all_is_said() {
    let p = project(&["app.example.com"]);
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "the project has no DNS zones");
    assert!(posts(&p).is_empty(), "{}", run.dump());
}

#[test]
fn a_secondary_zone_stops_before_anything_is_created() {
    let p = project(&["app.example.com"]);
    p.fake.add_secondary_zone("example.com");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "zone example.com is a secondary zone");
    assert!(posts(&p).is_empty(), "{}", run.dump());
}

#[test]
fn dns_without_proxy_hosts_or_config_is_a_usage_error_before_any_request() {
    let p = project(&[]);
    p.fake.add_zone("example.com");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--dns needs proxy host names");
    assert!(p.fake.requests().is_empty(), "{}", run.dump());

    // Names made by ERB are reported, not guessed.
    p.write(
        "config/deploy.yml",
        &config(&["<%= ENV.fetch(\"APP_HOST\") %>"]),
    );
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "line 8: <%= ENV.fetch(\"APP_HOST\") %> is made by ERB",
    );
    assert!(p.fake.requests().is_empty(), "{}", run.dump());

    let run = p.run(&["server", "create", "web1", "--dns", "--no-kamal"]);
    assert_exit(&run, 2);
    assert!(p.fake.requests().is_empty(), "{}", run.dump());

    std::fs::remove_file(p.dir.path().join("config/deploy.yml")).unwrap();
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "no Kamal config was found");
    assert!(p.fake.requests().is_empty(), "{}", run.dump());
}

#[test]
fn ipv6_only_server_gets_only_aaaa() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake.set_ipv4_enabled(false);
    let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        run.json()["dns"],
        json!([{"name": "app.example.com", "zone": "example.com", "type": "AAAA", "value": V6, "status": "created"}])
    );
    assert!(p.fake.rrset("example.com", "app", "A").is_none());
    assert_eq!(
        p.fake.rrset("example.com", "app", "AAAA").unwrap().values,
        [V6]
    );
}

#[test]
fn without_dns_the_output_ends_with_the_records_to_make_and_no_zone_is_asked() {
    let p = project(&["app.example.com", "<%= ENV[\"OTHER\"] %>"]);
    p.fake.add_zone("example.com");
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    let tail = format!(
        "Before `kamal setup`, point the proxy host names at the server (Let's Encrypt checks them):\n  app.example.com  A     {V4}\n  app.example.com  AAAA  {V6}\n(pegasus sets these with --dns when the domain's zone is in Hetzner DNS.)\nconfig/deploy.yml:10: the proxy host <%= ENV[\"OTHER\"] %> is made by ERB; pegasus does not guess it: point that name at {V4} yourself.\n\nNext: kamal setup\n"
    );
    assert!(run.stdout.ends_with(&tail), "{}", run.dump());
    assert_eq!(zone_requests(&p), 0);

    // JSON: without --dns, the records to make, `todo`, without a zone (none is asked).
    let p = project(&["app.example.com"]);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        run.json()["dns"],
        json!([
            {"name": "app.example.com", "zone": null, "type": "A", "value": V4, "status": "todo"},
            {"name": "app.example.com", "zone": null, "type": "AAAA", "value": V6, "status": "todo"},
        ])
    );
    assert_eq!(zone_requests(&p), 0);

    // No proxy hosts, no DNS lines; the next step all the same.
    let p = project(&[]);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(
        !run.stdout.contains("Before `kamal setup`"),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout.ends_with("\nNext: kamal setup\n"),
        "{}",
        run.dump()
    );
    // No Kamal config: no next step here (the note points at the Kamal guide).
    let p = Project::new();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert!(!run.stdout.contains("kamal setup"), "{}", run.dump());
}

#[test]
fn a_cname_is_never_replaced() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "CNAME", &["lb.example.net."], None);
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "app.example.com is a CNAME (to lb.example.net.)");
    let writes: Vec<String> = posts(&p)
        .into_iter()
        .filter(|w| w.contains("/zones/"))
        .collect();
    assert!(writes.is_empty(), "{}", run.dump());
    assert_eq!(p.fake.rrsets("example.com").len(), 3, "SOA, NS, CNAME only");
}

#[test]
fn an_undelegated_zone_is_a_warning() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake.set_zone_delegation("example.com", "invalid");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "zone example.com is not delegated to Hetzner (delegation: invalid); its records will not resolve until the domain's name servers are hydrogen.ns.hetzner.com, oxygen.ns.hetzner.com, helium.ns.hetzner.de",
    );
}

#[test]
fn a_failed_dns_action_is_an_error_after_the_rest() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake.fail_action("create_rrset");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "setting the DNS records failed: create_rrset failed");
    // The facts of the server that exists, and the ways on.
    assert_stderr(&run, "pegasus server destroy web1");
    // The Kamal edit came first and stays.
    assert!(p.read("config/deploy.yml").contains(V4));

    // In --json mode: still one object, with what is known and the error.
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake.fail_action("create_rrset");
    let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&run, 1);
    let v = run.json();
    assert_eq!(v["server"]["name"], "web1", "{}", run.dump());
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("setting the DNS records failed"),
        "{}",
        run.dump()
    );
}

#[test]
fn an_unclear_write_is_checked_not_resent() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.7"], None);
    p.fake.inject(
        "POST",
        "/v1/zones/90001/rrsets/app/A/",
        Fault::ApplyThenDrop,
        1,
    );
    let run = p.run(&["server", "create", "web1", "--dns", "--yes", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.fake
            .count("POST", "/v1/zones/90001/rrsets/app/A/actions/set_records"),
        1
    );
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        [V4]
    );
    assert_eq!(run.json()["dns"][0]["status"], "updated");
}

#[test]
fn the_zones_are_found_before_anything_is_created_and_written_after_the_server_runs() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 0);
    let reqs: Vec<String> = p
        .fake
        .requests()
        .into_iter()
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    let first = |prefix: &str| {
        reqs.iter()
            .position(|r| r.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {reqs:#?}"))
    };
    let last = |prefix: &str| reqs.iter().rposition(|r| r.starts_with(prefix)).unwrap();
    let zones = first("GET /v1/zones?");
    assert!(zones < first("POST /v1/ssh_keys"), "{reqs:#?}");
    assert!(zones < first("POST /v1/servers"), "{reqs:#?}");
    // The name's sets are read in the preflight (to ask about live records before
    // anything is made), and again just before they are written.
    let read = first("GET /v1/zones/90001/rrsets?");
    assert!(
        reqs[read].contains("name=app&type=A&type=AAAA&type=CNAME"),
        "{reqs:#?}"
    );
    assert!(read < first("POST /v1/servers"), "{reqs:#?}");
    let again = last("GET /v1/zones/90001/rrsets?");
    assert!(first("GET /v1/servers/") < again, "{reqs:#?}");
    let write = first("POST /v1/zones/");
    assert!(again < write, "{reqs:#?}");
    assert!(write < last("GET /v1/actions?"), "{reqs:#?}");
    // One listing of the zones, two reads of the name's sets, two creates.
    assert_eq!(p.fake.count("GET", "/v1/zones"), 1);
    assert_eq!(p.fake.count("GET", "/v1/zones/90001/rrsets"), 2);
    assert_eq!(p.fake.count("POST", "/v1/zones/90001/rrsets"), 2);
}

#[test]
fn with_dns_an_erb_name_is_a_warning_and_the_others_are_set() {
    let p = project(&["<%= ENV[\"APP_HOST\"] %>", "app.example.com"]);
    p.fake.add_zone("example.com");
    let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "config/deploy.yml:9: the proxy host <%= ENV[\"APP_HOST\"] %> is made by ERB; pegasus does not guess it, so --dns leaves its records to you",
    );
    let dns = run.json()["dns"].clone();
    assert_eq!(dns.as_array().unwrap().len(), 2, "{dns}");
    assert!(
        dns.as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"] == "app.example.com")
    );
}

#[test]
fn a_destination_without_a_proxy_serves_the_names_of_deploy_yml() {
    let p = project(&["app.example.com"]);
    p.write(
        "config/deploy.staging.yml",
        "servers:\n  web:\n    - <IP-ADDRESS>\n",
    );
    p.fake.add_zone("example.com");
    let run = p.run(&[
        "server", "create", "web1", "-d", "staging", "--dns", "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(
        run.json()["dns"][0]["name"],
        "app.example.com",
        "{}",
        run.dump()
    );
    // A destination with its own proxy host wins.
    let p = project(&["app.example.com"]);
    p.write(
        "config/deploy.staging.yml",
        "servers:\n  web:\n    - <IP-ADDRESS>\nproxy:\n  host: staging.example.com\n",
    );
    p.fake.add_zone("example.com");
    let run = p.run(&[
        "server", "create", "web1", "-d", "staging", "--dns", "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["dns"][0]["name"], "staging.example.com");
    assert!(p.fake.rrset("example.com", "app", "A").is_none());
}

#[test]
fn dns_with_a_config_that_does_not_parse_is_a_usage_error() {
    let p = Project::new();
    p.write("config/deploy.yml", "proxy: [\n");
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "--dns needs the proxy host names from config/deploy.yml, but it does not parse",
    );
    assert!(p.fake.requests().is_empty(), "{}", run.dump());
}

#[test]
fn append_lists_the_current_web_hosts_and_the_new_one() {
    // Without --dns, adding a server: the records to add keep the old server's address.
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - 198.51.100.7\nproxy:\n  host: app.example.com\n",
    );
    let run = p.run(&["server", "create", "web2", "--append"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains(&format!(
            "After `kamal deploy`, once web2 serves the app, add it to the proxy host names (keep the addresses already there):\n  app.example.com  A     198.51.100.7\n  app.example.com  A     {V4}\n  app.example.com  AAAA  {V6}\n"
        )),
        "{}",
        run.dump()
    );
    assert!(
        !run.stdout.contains("Before `kamal setup`"),
        "{}",
        run.dump()
    );
    assert_eq!(zone_requests(&p), 0);
}

#[test]
fn the_kamal_mode_decides_the_dns_mode() {
    // Several web hosts: Kamal appends the server, and DNS is left alone (listed).
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - 198.51.100.7\n    - 198.51.100.8\nproxy:\n  host: app.example.com\n",
    );
    p.fake.add_zone("example.com");
    p.fake.add_rrset(
        "example.com",
        "app",
        "A",
        &["198.51.100.7", "198.51.100.8"],
        None,
    );
    let run = p.run(&["server", "create", "web2", "--dns", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["kamal"]["mode"], "append", "{}", run.dump());
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        ["198.51.100.7", "198.51.100.8"]
    );
    let values: Vec<&str> = v["dns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["status"], "todo");
            r["value"].as_str().unwrap()
        })
        .collect();
    assert_eq!(values, ["198.51.100.7", "198.51.100.8", V4, V6]);
}

#[test]
fn a_rerun_with_the_server_already_beside_others_writes_and_drops_nothing() {
    // The config already lists the new server's address beside another web host (a
    // re-run after the Kamal edit): Kamal has nothing to change, the plan is an append,
    // and DNS is never written then: the set keeps serving the old host alone.
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        &format!("service: acme\nimage: acme/app\nservers:\n  web:\n    - 198.51.100.7\n    - {V4}\nproxy:\n  host: app.example.com\n"),
    );
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.7"], None);
    let run = p.run(&["server", "create", "web2", "--dns", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["kamal"]["status"], "unchanged", "{}", run.dump());
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        ["198.51.100.7"]
    );
}

// ---- issue 17: DNS that cannot cause an outage ----

fn erb_config(host: &str) -> String {
    format!(
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - <%= ENV[\"WEB_HOST\"] %>\nproxy:\n  host: {host}\n"
    )
}

#[test]
fn erb_hosts_with_dns_are_refused_unless_replace() {
    let p = Project::new();
    p.write("config/deploy.yml", &erb_config("app.example.com"));
    p.fake.add_zone("example.com");
    p.fake.add_rrset(
        "example.com",
        "app",
        "A",
        &["198.51.100.7", "198.51.100.8"],
        None,
    );
    let run = p.run(&["server", "create", "web1", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "add --replace to point the names at the new server");
    assert!(posts(&p).is_empty(), "{}", run.dump());
    assert!(p.fake.server_names().is_empty());
    // With --replace the names move, and (the host being unreadable) every value the set
    // held is live: moved only with --yes.
    let run = p.run(&["server", "create", "web1", "--dns", "--replace"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "app.example.com A 198.51.100.7, 198.51.100.8 → the new server",
    );
    assert!(posts(&p).is_empty(), "{}", run.dump());
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--dns",
        "--replace",
        "--yes",
        "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        [V4],
        "{}",
        run.dump()
    );
}

#[test]
fn replacing_a_known_host_moves_only_its_records_without_asking() {
    // The web host is a server of the project (a replace by flag): its own addresses,
    // IPv4 and IPv6, are not live traffic for a replace of it.
    let p = Project::new();
    p.fake.add_server("old1");
    let old_v6 = p
        .run(&["server", "ip", "-6", "old1"])
        .stdout
        .trim()
        .to_string();
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - 198.51.100.10\nproxy:\n  host: app.example.com\n",
    );
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.10"], None);
    p.fake
        .add_rrset("example.com", "app", "AAAA", &[&old_v6], None);
    let run = p.run(&["server", "create", "web1", "--dns", "--replace", "--json"]);
    assert_exit(&run, 0);
    assert!(!run.stderr.contains("live traffic"), "{}", run.dump());
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        [V4]
    );
    assert_eq!(
        p.fake.rrset("example.com", "app", "AAAA").unwrap().values,
        [V6]
    );
}

#[test]
fn an_ipv6_only_replacement_removes_the_old_a_set() {
    let p = Project::new();
    p.fake.add_server("old1");
    p.write(
        "config/deploy.yml",
        "service: acme\nimage: acme/app\nservers:\n  web:\n    - 198.51.100.10\nproxy:\n  host: app.example.com\n",
    );
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["198.51.100.10"], None);
    p.fake.set_ipv4_enabled(false);
    let run = p.run(&["server", "create", "web1", "--dns", "--replace", "--json"]);
    assert_exit(&run, 0);
    // A and AAAA are one pair: the old A would still send IPv4 visitors to old1.
    assert!(
        p.fake.rrset("example.com", "app", "A").is_none(),
        "{}",
        run.dump()
    );
    assert_eq!(
        p.fake.rrset("example.com", "app", "AAAA").unwrap().values,
        [V6]
    );
    let dns = run.json()["dns"].clone();
    assert_eq!(
        dns[0],
        json!({"name": "app.example.com", "zone": "example.com", "type": "A", "value": null, "status": "deleted"})
    );
}

#[test]
fn many_proxy_names_are_all_set_and_waited_for() {
    for n in [13, 30] {
        let names: Vec<String> = (0..n).map(|i| format!("n{i}.example.com")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let p = project(&refs);
        p.fake.add_zone("example.com");
        let run = p.run(&["server", "create", "web1", "--dns", "--json"]);
        assert_exit(&run, 0);
        let dns = run.json()["dns"].as_array().unwrap().clone();
        assert_eq!(dns.len(), 2 * n, "{}", run.dump());
        assert!(dns.iter().all(|r| r["status"] == "created"));
        for name in &names {
            let record = name.trim_end_matches(".example.com");
            assert_eq!(
                p.fake.rrset("example.com", record, "A").unwrap().values,
                [V4]
            );
        }
    }
}

#[test]
fn a_set_changed_after_the_preflight_is_skipped_and_the_run_fails_after_the_output() {
    let p = project(&["app.example.com"]);
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &["192.0.2.1"], None);
    // Someone edits the set while the server is being made.
    let set = p.fake.rrset_setter();
    p.fake.on_request("POST", "/v1/servers", move || {
        set("example.com", "app", "A", &["192.0.2.2"]);
    });
    let run = p.run(&["server", "create", "web1", "--dns", "--yes", "--json"]);
    assert_exit(&run, 1);
    let v = run.json();
    assert_eq!(v["dns"][0]["status"], "skipped", "{}", run.dump());
    assert_eq!(
        p.fake.rrset("example.com", "app", "A").unwrap().values,
        ["192.0.2.2"]
    );
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("changed after pegasus read it")
    );
}
