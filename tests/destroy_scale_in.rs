//! `pegasus server destroy` makes the Kamal config forget the deleted servers (SPEC §5):
//! exact bytes after every edit, one write per run (counted with inotify), the diff before
//! the confirmation, `--dns`, `--json`, and the configs that stop a destroy before any
//! DELETE.

mod common;

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::*;

fn ipv4(p: &Project, name: &str) -> String {
    p.fake.server_json(name).unwrap()["public_net"]["ipv4"]["ip"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The server's `::1` address, as pegasus uses it.
fn ipv6(p: &Project, name: &str) -> String {
    let net = p.fake.server_json(name).unwrap()["public_net"]["ipv6"]["ip"]
        .as_str()
        .unwrap()
        .to_string();
    let prefix: std::net::Ipv6Addr = net.split('/').next().unwrap().parse().unwrap();
    let mut segments = prefix.segments();
    segments[7] |= 1;
    std::net::Ipv6Addr::from(segments).to_string()
}

fn deletes(p: &Project) -> usize {
    p.fake.count_prefix("DELETE", "/v1/servers")
}

/// Counts what is written into a folder while it lives: files closed after writing and
/// files renamed into it (`write_atomic` does both for one replace). Events queue in the
/// kernel, so reading them after the run misses nothing.
struct Writes {
    fd: i32,
}

impl Writes {
    fn watch(dir: &Path) -> Writes {
        let path = CString::new(dir.as_os_str().as_bytes()).unwrap();
        // SAFETY: plain libc calls with a NUL-terminated path.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(fd >= 0, "inotify_init1 failed");
        let mask = libc::IN_MOVED_TO | libc::IN_CLOSE_WRITE | libc::IN_CREATE;
        // SAFETY: `fd` is ours, `path` lives across the call.
        let wd = unsafe { libc::inotify_add_watch(fd, path.as_ptr(), mask) };
        assert!(wd >= 0, "inotify_add_watch failed");
        Writes { fd }
    }

    /// (renames onto `name`, every event) since the watch started.
    fn count(&self, name: &str) -> (usize, usize) {
        let mut buf = vec![0u8; 64 * 1024];
        let (mut renames, mut all) = (0, 0);
        loop {
            // SAFETY: reading into a buffer we own, of the length given.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                break;
            }
            let n = usize::try_from(n).unwrap();
            let mut at = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while at + head <= n {
                // SAFETY: the kernel wrote a whole event at `at`; read it unaligned.
                let event: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
                let len = event.len as usize;
                let raw = &buf[at + head..at + head + len];
                let file = String::from_utf8_lossy(raw)
                    .trim_end_matches('\0')
                    .to_string();
                all += 1;
                if event.mask & libc::IN_MOVED_TO != 0 && file == name {
                    renames += 1;
                }
                at += head + len;
            }
        }
        (renames, all)
    }
}

impl Drop for Writes {
    fn drop(&mut self) {
        // SAFETY: closing our own descriptor once.
        unsafe { libc::close(self.fd) };
    }
}

fn destroy(p: &Project, args: &[&str]) -> Run {
    let mut all = vec!["server", "destroy"];
    all.extend_from_slice(args);
    p.run(&all)
}

#[test]
fn two_web_hosts_become_one_and_a_flow_list_keeps_its_style() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let config = format!(
        "service: app\nimage: app\nservers:\n  web:\n    - {a}\n    - 192.0.2.20\n  job:\n    hosts: [{a}, 192.0.2.20]\naccessories:\n  db:\n    host: 192.0.2.20\n"
    );
    p.write("config/deploy.yml", &config);
    let writes = Writes::watch(&p.dir.path().join("config"));
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        "service: app\nimage: app\nservers:\n  web:\n    - 192.0.2.20\n  job:\n    hosts: [192.0.2.20]\naccessories:\n  db:\n    host: 192.0.2.20\n"
    );
    assert_eq!(writes.count("deploy.yml").0, 1);
    let diff = format!(
        "Updated config/deploy.yml: it forgets web1 (2 host entries):\n  config/deploy.yml:5  -     - {a}   (line removed)\n  config/deploy.yml:8  -     hosts: [{a}, 192.0.2.20]\n  config/deploy.yml:8  +     hosts: [192.0.2.20]\n"
    );
    assert!(run.stdout.contains(&diff), "{}", run.dump());
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn the_only_server_becomes_the_placeholder_everywhere_it_was() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let template = read_fixture("pegasus/deploy.yml");
    let named = template
        .replace("- <IP-ADDRESS>\n", &format!("- {a}\n"))
        .replace("host: <IP-ADDRESS>\n", &format!("host: {a}\n"));
    assert_eq!(named.matches(&a).count(), 5);
    p.write("config/deploy.yml", &named);
    let run = destroy(&p, &["web1", "--yes", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), template);
    let v = run.json();
    let kamal = &v["kamal"];
    assert_eq!(kamal["status"], "updated");
    assert_eq!(kamal["mode"], "remove");
    assert_eq!(kamal["replaced"], serde_json::Value::Null);
    let changes: Vec<(String, u64, String)> = kamal["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["old"], a.as_str());
            (
                c["path"].as_str().unwrap().to_string(),
                c["line"].as_u64().unwrap(),
                c["new"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let p_ = "<IP-ADDRESS>".to_string();
    assert_eq!(
        changes,
        [
            ("servers.web.hosts[0]".to_string(), 24, p_.clone()),
            ("servers.celery.hosts[0]".to_string(), 29, p_.clone()),
            ("servers.celerybeat.hosts[0]".to_string(), 33, p_.clone()),
            ("accessories.postgres.host".to_string(), 49, p_.clone()),
            ("accessories.redis.host".to_string(), 60, p_),
        ]
    );
}

#[test]
fn create_then_destroy_gives_back_the_template_bytes() {
    let p = Project::new();
    let template = read_fixture("pegasus/deploy.yml");
    p.write("config/deploy.yml", &template);
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let a = ipv4(&p, "web1");
    assert_eq!(p.read("config/deploy.yml").matches(&a).count(), 5);
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), template);
    assert!(
        run.stdout.contains(&format!(
            "  config/deploy.yml:24  - {a}\n  config/deploy.yml:24  + <IP-ADDRESS>\n"
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn with_a_destination_only_its_file_is_edited() {
    let p = Project::new();
    p.fake.add_server("staging1");
    let a = ipv4(&p, "staging1");
    let base = "service: app\nimage: app\nservers:\n  web:\n    - 192.0.2.30\n";
    let staging = format!("servers:\n  web:\n    - {a}\n    - 192.0.2.31\n");
    p.write("config/deploy.yml", base);
    p.write("config/deploy.staging.yml", &staging);
    let run = destroy(&p, &["staging1", "--yes", "-d", "staging"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), base);
    assert_eq!(
        p.read("config/deploy.staging.yml"),
        "servers:\n  web:\n    - 192.0.2.31\n"
    );
    assert!(
        run.stdout.contains(&format!(
            "config/deploy.staging.yml:3  -     - {a}   (line removed)"
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn a_base_file_that_names_the_server_is_listed_and_keeps_its_host_key() {
    let p = Project::new();
    p.fake.add_server("staging1");
    let a = ipv4(&p, "staging1");
    let base = format!("service: app\nimage: app\nservers:\n  web:\n    - {a}\n");
    let staging = format!("servers:\n  web:\n    - {a}\n    - 192.0.2.31\n");
    p.write("config/deploy.yml", &base);
    p.write("config/deploy.staging.yml", &staging);
    let known = p.add_key("known_hosts", &format!("{a} ssh-ed25519 AAAAold\n"));
    let run = destroy(&p, &["staging1", "--yes", "-d", "staging", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), base);
    assert_eq!(
        p.read("config/deploy.staging.yml"),
        "servers:\n  web:\n    - 192.0.2.31\n"
    );
    let hint = run.json()["kamal"]["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("config/deploy.yml"), "{hint}");
    assert!(hint.contains("line(s) 5"), "{hint}");
    assert_eq!(
        std::fs::read_to_string(known).unwrap(),
        format!("{a} ssh-ed25519 AAAAold\n")
    );
}

#[test]
fn no_kamal_leaves_the_config_and_the_host_keys_and_says_so() {
    let p = Project::new();
    p.fake.add_server("web1");
    let (a, six) = (ipv4(&p, "web1"), ipv6(&p, "web1"));
    let config = format!("servers:\n  - {a}\n");
    p.write("config/deploy.yml", &config);
    let known = format!("{a} ssh-ed25519 AAAAold\ngithub.com ssh-ed25519 AAAAgh\n");
    let path = p.add_key("known_hosts", &known);
    let run = destroy(&p, &["web1", "--yes", "--no-kamal"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), config);
    assert_eq!(std::fs::read_to_string(path).unwrap(), known);
    assert_stderr(
        &run,
        "--no-kamal: the Kamal config is neither read nor changed",
    );
    assert!(
        run.stdout.contains(&format!(
            "The host keys for {a}, {six} (web1) stay in ~/.ssh/known_hosts (--no-kamal"
        )),
        "{}",
        run.dump()
    );
}

#[test]
fn host_keys_go_once_the_config_no_longer_names_the_address() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let six = ipv6(&p, "web1");
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\n  - 192.0.2.20\n"),
    );
    let path = p.add_key(
        "known_hosts",
        &format!(
            "{a} ssh-ed25519 AAAAold\n{six} ssh-ed25519 AAAAold6\ngithub.com ssh-ed25519 AAAAgh\n"
        ),
    );
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(
        std::fs::read_to_string(path).unwrap(),
        "github.com ssh-ed25519 AAAAgh\n"
    );
    assert!(!run.stdout.contains("stay in"), "{}", run.dump());
}

#[test]
fn two_servers_in_one_run_are_one_write() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("web2");
    let (a, b) = (ipv4(&p, "web1"), ipv4(&p, "web2"));
    let config = format!(
        "servers:\n  web:\n    - {a}\n    - {b}\n    - 192.0.2.20\n  job:\n    - {a}\n    - {b}\n"
    );
    p.write("config/deploy.yml", &config);
    let writes = Writes::watch(&p.dir.path().join("config"));
    let run = destroy(&p, &["web1", "web2", "--yes", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        "servers:\n  web:\n    - 192.0.2.20\n  job:\n    - <IP-ADDRESS>\n"
    );
    assert_eq!(writes.count("deploy.yml").0, 1, "one rename onto the file");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.dump());
    // Each server's line carries its own changes; lines are those before the edit.
    let changes = |v: &serde_json::Value| -> Vec<(u64, serde_json::Value)> {
        v["kamal"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["line"].as_u64().unwrap(), c["new"].clone()))
            .collect()
    };
    assert_eq!(lines[0]["server"]["name"], "web1");
    assert_eq!(
        changes(&lines[0]),
        [
            (3, serde_json::Value::Null),
            (7, serde_json::json!("<IP-ADDRESS>"))
        ]
    );
    assert_eq!(lines[1]["server"]["name"], "web2");
    assert_eq!(
        changes(&lines[1]),
        [(4, serde_json::Value::Null), (8, serde_json::Value::Null)]
    );
    assert_eq!(deletes(&p), 2);
}

#[test]
fn a_config_that_does_not_name_the_server_is_not_written() {
    let p = Project::new();
    p.fake.add_server("web1");
    let config = "# my app\nservers:\n  - 192.0.2.20\n";
    p.write("config/deploy.yml", config);
    let writes = Writes::watch(&p.dir.path().join("config"));
    let run = destroy(&p, &["web1", "--yes", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(p.read("config/deploy.yml"), config);
    assert_eq!(writes.count("deploy.yml"), (0, 0), "nothing written there");
    let kamal = &run.json()["kamal"];
    assert_eq!(kamal["status"], "unchanged");
    assert_eq!(kamal["mode"], serde_json::Value::Null);
    assert_eq!(kamal["changes"], serde_json::json!([]));
    assert_stderr(
        &run,
        "config/deploy.yml does not name web1 as a host; it will not change.",
    );
}

#[test]
fn values_that_merely_contain_the_address_are_listed_never_edited() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let config = format!(
        "servers:\n  - {a}\n  - 192.0.2.20\nbuilder:\n  remote: ssh://root@{a}\nenv:\n  clear:\n    DB_HOST: {a}\naccessories:\n  db:\n    host: 192.0.2.20\n    port: \"{a}:5432:5432\"\n"
    );
    p.write("config/deploy.yml", &config);
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.read("config/deploy.yml"),
        config.replacen(&format!("  - {a}\n"), "", 1)
    );
    let listed = format!(
        "config/deploy.yml still holds these addresses outside the host lists (never edited; check them by hand):\n  config/deploy.yml:4  remote: ssh://root@{a}\n  config/deploy.yml:7  DB_HOST: {a}\n  config/deploy.yml:11  port: \"{a}:5432:5432\"\n"
    );
    assert!(run.stdout.contains(&listed), "{}", run.dump());
    // Before the question, with the lines of the file as it was.
    assert_stderr(
        &run,
        &format!("  config/deploy.yml:5  remote: ssh://root@{a}"),
    );
}

#[test]
fn json_lines_have_the_keys_of_create_in_order() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\n  - 192.0.2.20\nenv:\n  clear:\n    DB_HOST: {a}\n"),
    );
    let run = destroy(&p, &["web1", "--yes", "--json"]);
    assert_exit(&run, 0);
    let line = run.stdout.lines().next().unwrap();
    let keys = [
        "{\"server\":{",
        "\"deleted\":true",
        "\"kamal\":{",
        "\"dns\":[]",
    ];
    let mut at = 0;
    for key in keys {
        let found = line[at..]
            .find(key)
            .unwrap_or_else(|| panic!("{key} in {line}"));
        at += found;
    }
    let kamal = format!(
        "\"kamal\":{{\"path\":\"config/deploy.yml\",\"status\":\"updated\",\"mode\":\"remove\",\"replaced\":null,\"changes\":[{{\"path\":\"servers[0]\",\"line\":2,\"old\":\"{a}\",\"new\":null}}],\"other_refs\":[{{\"line\":5,\"path\":\"env.clear.DB_HOST\",\"text\":\"DB_HOST: {a}\"}}]}}"
    );
    assert!(line.contains(&kamal), "{line}");
    assert_stderr(&run, "Updated config/deploy.yml: 1 host entry");
}

#[test]
fn a_failed_delete_leaves_its_server_in_the_config_and_exits_1() {
    let p = Project::new();
    p.fake.add_server("web1");
    let id2 = p.fake.add_server("web2");
    let (a, b) = (ipv4(&p, "web1"), ipv4(&p, "web2"));
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\n  - {b}\n  - 192.0.2.20\n"),
    );
    p.fake.inject(
        "DELETE",
        &format!("/v1/servers/{id2}"),
        Fault::Status(423),
        5,
    );
    let run = destroy(&p, &["web1", "web2", "--yes", "--json"]);
    assert_exit(&run, 1);
    assert_eq!(
        p.read("config/deploy.yml"),
        format!("servers:\n  - {b}\n  - 192.0.2.20\n")
    );
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.dump());
    assert_eq!(lines[0]["deleted"], true);
    assert_eq!(lines[1]["deleted"], false);
    assert!(lines[1]["error"].is_string(), "{}", lines[1]);
    assert_eq!(lines[1]["kamal"]["status"], "unchanged");
    assert_eq!(p.fake.server_names(), ["web2"]);
}

#[test]
fn erb_hosts_stop_the_destroy_before_any_delete() {
    let p = Project::new();
    p.fake.add_server("web1");
    let config = "servers:\n  web:\n    - <%= ENV[\"WEB_HOST\"] %>\n";
    p.write("config/deploy.yml", config);
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 1);
    assert_eq!(deletes(&p), 0);
    assert_eq!(p.fake.server_names(), ["web1"]);
    assert_stderr(&run, "takes hosts from ERB (line 3)");
    assert_stderr(&run, "  config/deploy.yml:3  - <%= ENV[\"WEB_HOST\"] %>");
    assert_stderr(&run, "Nothing was deleted");
    assert_stderr(&run, "--no-kamal");
    assert_eq!(p.read("config/deploy.yml"), config);
    // --no-kamal lets it through.
    let run = destroy(&p, &["web1", "--yes", "--no-kamal"]);
    assert_exit(&run, 0);
    assert_eq!(deletes(&p), 1);
}

#[test]
fn a_config_that_does_not_parse_stops_the_destroy_naming_host_lines_only() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let config = format!(
        "servers:\n  web:\n    - {a}\nenv:\n  DB_HOST: {a}\naccessories:\n  db: [\n    host: {a}\n"
    );
    p.write("config/deploy.yml", &config);
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 1);
    assert_eq!(deletes(&p), 0);
    assert_stderr(&run, "does not parse");
    assert_stderr(&run, &format!("  config/deploy.yml:3  - {a}"));
    assert_stderr(&run, &format!("  config/deploy.yml:8  host: {a}"));
    assert!(!run.stderr.contains("DB_HOST"), "{}", run.dump());
}

#[test]
fn a_read_only_config_that_would_change_stops_the_destroy() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let path = p.write("config/deploy.yml", &format!("servers:\n  - {a}\n"));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = destroy(&p, &["web1", "--yes"]);
    assert_exit(&run, 1);
    assert_eq!(deletes(&p), 0);
    assert_stderr(&run, "read-only");
}

#[test]
fn the_terminal_confirmation_shows_the_diff_before_asking() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  web:\n    - {a}\n    - 192.0.2.20\n"),
    );
    let mut cmd = p.command(&["server", "destroy", "web1"]);
    cmd.env("NO_COLOR", "1");
    let run = common::pty::run_on_pty(cmd, &[("Type the name to confirm", "web1")]);
    assert_eq!(run.code, 0, "{}", run.screen);
    let screen = run.screen.replace("\r\n", "\n");
    let diff = format!(
        "config/deploy.yml will forget web1 (1 host entry):\n  config/deploy.yml:3  -     - {a}   (line removed)\n"
    );
    let shown = screen
        .find(&diff)
        .unwrap_or_else(|| panic!("no diff: {screen}"));
    let asked = screen.find("Type the name to confirm").unwrap();
    assert!(shown < asked, "{screen}");
    assert_eq!(
        p.read("config/deploy.yml"),
        "servers:\n  web:\n    - 192.0.2.20\n"
    );
}

#[test]
fn a_declined_confirmation_deletes_and_writes_nothing() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let config = format!("servers:\n  - {a}\n  - 192.0.2.20\n");
    p.write("config/deploy.yml", &config);
    let cmd = p.command(&["server", "destroy", "web1"]);
    let run = common::pty::run_on_pty(cmd, &[("Type the name to confirm", "nope")]);
    assert_eq!(run.code, 1, "{}", run.screen);
    assert_eq!(deletes(&p), 0);
    assert_eq!(p.read("config/deploy.yml"), config);
}

#[test]
fn dns_removes_only_this_server_s_addresses() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    let six = ipv6(&p, "web1");
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "app", "A", &[&a, "192.0.2.20"], Some(600));
    p.fake
        .add_rrset("example.com", "app", "AAAA", &[&six], None);
    p.fake
        .add_rrset("example.com", "www", "A", &["192.0.2.20"], None);
    p.fake.add_rrset("example.com", "app", "TXT", &[&a], None);
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\n  - 192.0.2.20\nproxy:\n  hosts: [app.example.com, www.example.com]\n"),
    );
    let run = destroy(&p, &["web1", "--yes", "--dns", "--json"]);
    assert_exit(&run, 0);
    let app_a = p.fake.rrset("example.com", "app", "A").unwrap();
    assert_eq!(app_a.values, ["192.0.2.20"]);
    assert_eq!(app_a.ttl, Some(600));
    assert_eq!(p.fake.rrset("example.com", "app", "AAAA"), None);
    assert_eq!(
        p.fake.rrset("example.com", "www", "A").unwrap().values,
        ["192.0.2.20"]
    );
    assert_eq!(
        p.fake.rrset("example.com", "app", "TXT").unwrap().values,
        [a.as_str()]
    );
    let v = run.json();
    assert_eq!(
        v["dns"],
        serde_json::json!([
            {"name": "app.example.com", "zone": "example.com", "type": "A", "value": a, "status": "deleted"},
            {"name": "app.example.com", "zone": "example.com", "type": "AAAA", "value": six, "status": "deleted"},
        ])
    );
    // The record changes were shown before the delete.
    assert_stderr(
        &run,
        "DNS (Hetzner), once the delete succeeded, these records go:",
    );
    assert_stderr(&run, "192.0.2.20 stays");
    assert_stderr(&run, "the set is deleted (it holds nothing else)");
    // DNS before the Kamal edit: the record writes come after the DELETE.
    let requests = p.fake.requests();
    let delete = requests.iter().position(|r| r.method == "DELETE").unwrap();
    let removal = requests
        .iter()
        .position(|r| r.path.ends_with("/actions/remove_records"))
        .unwrap();
    assert!(delete < removal);
}

#[test]
fn dns_with_a_name_without_a_zone_deletes_nothing() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    p.fake.add_zone("example.org");
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\nproxy:\n  host: app.example.com\n"),
    );
    let run = destroy(&p, &["web1", "--yes", "--dns"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "no DNS zone in this Hetzner project holds app.example.com",
    );
    assert_stderr(&run, "example.org");
    assert_eq!(deletes(&p), 0);
    assert!(p.fake.writes().is_empty());
}

#[test]
fn dns_without_proxy_names_is_a_usage_error_before_any_request() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.write("config/deploy.yml", "servers:\n  - 192.0.2.20\n");
    let run = destroy(&p, &["web1", "--yes", "--dns"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "--dns needs proxy host names");
    assert!(p.fake.requests().is_empty());
}

#[test]
fn dns_removal_whose_answer_was_lost_is_checked_not_resent() {
    let p = Project::new();
    p.fake.add_server("web1");
    let a = ipv4(&p, "web1");
    p.fake.add_zone("example.com");
    p.fake
        .add_rrset("example.com", "@", "A", &[&a, "192.0.2.20"], None);
    p.write(
        "config/deploy.yml",
        &format!("servers:\n  - {a}\nproxy:\n  host: example.com\n"),
    );
    p.fake.inject("POST", "/v1/zones/", Fault::ApplyThenDrop, 1);
    let run = destroy(&p, &["web1", "--yes", "--dns", "--json"]);
    assert_exit(&run, 0);
    assert_eq!(
        p.fake.rrset("example.com", "@", "A").unwrap().values,
        ["192.0.2.20"]
    );
    assert_eq!(
        p.fake.count_prefix("POST", "/v1/zones/"),
        1,
        "not sent twice"
    );
    assert_eq!(run.json()["dns"][0]["status"], "deleted");
    assert_eq!(
        p.read("config/deploy.yml"),
        "servers:\n  - <IP-ADDRESS>\nproxy:\n  host: example.com\n"
    );
}
