//! "Ready means Kamal can log in" (SPEC §4 steps 2, 6, 11, 13): the real binary against
//! the fake API and a real OpenSSH server on loopback, logged in to with the system `ssh`
//! as Kamal would, waiting on the server for a stub cloud-init and for the package
//! manager's locks.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::sshd::{self, CloudInit, Options, Sshd};
use common::*;

/// The address the fake gives the first server of a loopback project.
const IP: &str = "127.0.0.10";

/// A project whose servers get loopback addresses, with a fresh key pair in
/// `~/.ssh/id_ed25519` (the only key, so it is the one uploaded); its public line.
fn project() -> (Project, String) {
    sshd::require();
    let p = Project::bare();
    p.fake.set_loopback_addresses(true);
    let line = sshd::keypair(&p.home.path().join(".ssh/id_ed25519"), "me@laptop");
    (p, line)
}

/// What makes the login user Kamal's: as root nothing (Kamal's default is root); as
/// another user (sshd can only log in as itself) `ssh.user` in a Kamal config, plus user
/// data so the preflight lets a system image through.
fn as_login_user(p: &Project) -> Vec<String> {
    if sshd::is_root() {
        return Vec::new();
    }
    p.write(
        "config/deploy.yml",
        &format!(
            "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: {}\n",
            sshd::login_user()
        ),
    );
    p.write("cloud.yml", "#cloud-config\n");
    vec!["--user-data".into(), "cloud.yml".into()]
}

fn create(p: &Project, sshd: &Sshd, extra: &[&str]) -> Run {
    let port = sshd.port().to_string();
    let mut args: Vec<String> = ["server", "create", "web1", "--json", "--ssh-port", &port]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(as_login_user(p));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    p.run(&args)
}

fn known_hosts(p: &Project) -> String {
    std::fs::read_to_string(p.home.path().join(".ssh/known_hosts")).unwrap_or_default()
}

fn uploaded_key(p: &Project) -> String {
    let post = p
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path == "/v1/ssh_keys")
        .expect("a key upload");
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    body["public_key"].as_str().unwrap().to_owned()
}

#[test]
fn a_login_that_works_waits_for_cloud_init_and_records_the_host_key() {
    let (p, key) = project();
    let mut o = Options::new(IP, &[key]);
    o.cloud_init = Some(CloudInit::DoneAfter(3));
    let server = Sshd::start_with(o);
    let run = create(&p, &server, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    let user = sshd::login_user();
    assert_eq!(v["ssh_ready"], true);
    let login = &v["login"];
    assert_eq!(login["user"], user.as_str(), "{v}");
    assert_eq!(login["ok"], true);
    assert_eq!(login["cloud_init"], "done");
    assert_eq!(login["package_manager"], "idle");
    assert!(login["docker"].is_boolean(), "{login}");
    assert!(login["seconds"].as_u64().unwrap() >= 3, "{login}");
    assert!(login.get("error").is_none());
    // Keys in SPEC's order, `login` between `known_hosts` and `kamal`.
    let order = [
        "\"login\":{\"user\":",
        ",\"ok\":true,\"cloud_init\":\"done\",\"package_manager\":\"idle\",\"docker\":",
        ",\"seconds\":",
        "},\"kamal\":",
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
    assert!(
        run.stdout.find("\"known_hosts\":").unwrap() < pos[0],
        "{}",
        run.stdout
    );
    // The host key: one plain line, sshd's own key.
    assert_eq!(
        known_hosts(&p),
        format!("[{IP}]:{} {}\n", server.port(), server.host_key())
    );
    assert_stderr(
        &run,
        &format!("logged in as {user}; waiting for cloud-init"),
    );
    assert_stderr(&run, "Server web1: ready after ");
    assert_stderr(&run, "(cloud-init done, package manager idle)");
    // One login that waited on the server, not a login per second.
    assert_eq!(server.logins(), 1, "{}", server.log());
}

#[test]
fn the_human_summary_has_a_login_row_and_the_next_step() {
    let (p, key) = project();
    let server = Sshd::start(IP, &[key]);
    p.write(
        "config/deploy.yml",
        &format!(
            "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: {}\n  port: {}\n",
            sshd::login_user(),
            server.port()
        ),
    );
    p.write("cloud.yml", "#cloud-config\n");
    let user = sshd::login_user();
    let mut args = vec!["server", "create", "web1"];
    if !sshd::is_root() {
        args.extend(["--user-data", "cloud.yml"]);
    }
    let run = p.run(&args);
    assert_exit(&run, 0);
    assert!(
        run.stdout
            .contains(&format!("  login     {user}: ready after ")),
        "{}",
        run.dump()
    );
    assert!(
        run.stdout
            .contains(&format!("  ssh -p {} {user}@{IP}\n", server.port())),
        "{}",
        run.dump()
    );
    assert!(run.stdout.contains("Next: kamal setup"), "{}", run.dump());
}

#[test]
fn ssh_keys_chooses_the_uploaded_key_and_is_offered_to_ssh() {
    let (p, _other) = project();
    // Kamal's key has no .pub: its public half comes from `ssh-keygen -y`.
    let kamal_key = p.home.path().join(".ssh/id_kamal");
    let kamal_line = sshd::keypair(&kamal_key, "kamal@laptop");
    std::fs::remove_file(p.home.path().join(".ssh/id_kamal.pub")).unwrap();
    let server = Sshd::start(IP, std::slice::from_ref(&kamal_line));
    let user = sshd::login_user();
    p.write(
        "config/deploy.yml",
        &format!(
            "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: {user}\n  port: {}\n  keys: [ \"~/.ssh/id_kamal\" ]\n  keys_only: true\n",
            server.port()
        ),
    );
    p.write("cloud.yml", "#cloud-config\n");
    let mut args = vec!["server", "create", "web1", "--json"];
    if !sshd::is_root() {
        args.extend(["--user-data", "cloud.yml"]);
    }
    // Two keys in ~/.ssh, and no prompt: Kamal's ssh.keys decides.
    let run = p.run(&args);
    assert_exit(&run, 0);
    let blob = |line: &str| line.split_whitespace().nth(1).unwrap().to_owned();
    assert_eq!(blob(&uploaded_key(&p)), blob(&kamal_line));
    assert_stderr(
        &run,
        "Using SSH key the public half of ~/.ssh/id_kamal, from ssh-keygen -y (Kamal's ssh.keys)",
    );
    let v = run.json();
    assert_eq!(v["login"]["ok"], true, "{}", run.dump());
    assert_eq!(
        v["ssh"],
        format!("ssh -p {} -i ~/.ssh/id_kamal {user}@{IP}", server.port())
    );
    assert_eq!(server.logins(), 1);
}

#[test]
fn a_missing_kamal_key_stops_before_any_request() {
    let (p, _) = project();
    p.write(
        "config/deploy.yml",
        "service: app\nimage: me/app\nservers:\n  - <IP-ADDRESS>\nssh:\n  keys: [keys/deploy_key]\n",
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "Kamal's ssh.keys names");
    assert_stderr(&run, "keys/deploy_key first, and there is no such file");
    assert!(p.fake.requests().is_empty(), "{:#?}", p.fake.requests());
    // A key whose public half cannot be had (no .pub, and ssh-keygen cannot read it).
    p.write("keys/deploy_key", "not a key\n");
    let key = p.dir.path().join("keys/deploy_key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "its public half could not be had (ssh-keygen -y: ");
    assert_stderr(
        &run,
        &format!("ssh-keygen -y -f {} > {}.pub", key.display(), key.display()),
    );
    assert!(p.fake.requests().is_empty(), "{:#?}", p.fake.requests());
}

#[test]
fn a_key_flag_not_among_kamal_keys_is_a_usage_error() {
    let (p, _) = project();
    sshd::keypair(&p.home.path().join(".ssh/id_kamal"), "kamal");
    p.write(
        "config/deploy.yml",
        "service: app\nimage: me/app\nservers:\n  - <IP-ADDRESS>\nssh:\n  keys: [~/.ssh/id_kamal]\n",
    );
    let other = p.home.path().join(".ssh/id_ed25519.pub");
    let run = p.run(&["server", "create", "web1", "-k", other.to_str().unwrap()]);
    assert_exit(&run, 2);
    assert_stderr(
        &run,
        "is not the public half of any of Kamal's ssh.keys (~/.ssh/id_kamal)",
    );
    assert!(p.fake.requests().is_empty());
    // The same key as -k: fine.
    let kamal_pub = p.home.path().join(".ssh/id_kamal.pub");
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "-k",
        kamal_pub.to_str().unwrap(),
        "--ssh-timeout",
        "0",
    ]);
    assert_exit(&run, 0);
    assert_stderr(&run, "one of Kamal's ssh.keys");
}

#[test]
fn a_refused_login_names_the_key_the_user_and_what_to_do() {
    let (p, _key) = project();
    let stranger = sshd::keypair(&p.dir.path().join("stranger"), "someone else");
    let server = Sshd::start(IP, &[stranger]);
    let run = create(&p, &server, &[]);
    assert_exit(&run, 1);
    let v = run.json();
    let user = sshd::login_user();
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["login"]["ok"], false);
    assert_eq!(v["login"]["cloud_init"], serde_json::Value::Null);
    assert_eq!(v["login"]["package_manager"], serde_json::Value::Null);
    let error = v["login"]["error"].as_str().unwrap();
    assert!(error.contains("Permission denied (publickey)"), "{error}");
    assert_eq!(v["error"].as_str().unwrap(), error);
    // The hint logs in as Kamal would; no Kamal config here, so no `kamal setup`.
    assert!(
        error.ends_with(&format!(
            "Check with `ssh -p {} {}@{IP}`",
            server.port(),
            sshd::login_user()
        )),
        "{error}"
    );
    assert!(!error.contains("kamal setup"), "{error}");
    let fp = sshd::fingerprint(&p.home.path().join(".ssh/id_ed25519.pub"));
    assert!(fp.starts_with("SHA256:"), "{fp}");
    assert_stderr(&run, &format!("~/.ssh/id_ed25519.pub ({fp})"));
    assert_stderr(&run, &format!("Kamal logs in as {user}"));
    assert_stderr(&run, "ssh-add ~/.ssh/id_ed25519");
    assert_stderr(&run, "ssh.keys");
    // The facts: the server exists, and how to go on.
    assert_stderr(&run, "The server web1 exists");
    assert_stderr(&run, "pegasus server create web1");
    // Refused is final: one try.
    assert_eq!(
        server.connections(),
        2,
        "banner + one login\n{}",
        server.log()
    );
}

#[test]
fn a_server_that_asks_for_a_password_fails_fast() {
    let (p, key) = project();
    let mut o = Options::new(IP, &[key]);
    o.password_only = true;
    let server = Sshd::start_with(o);
    let started = Instant::now();
    let run = create(&p, &server, &["--ssh-timeout", "300"]);
    let took = started.elapsed();
    assert_exit(&run, 1);
    // Never waits for a password: far from the limit (not a timing margin: a hang is 300 s).
    assert!(took < Duration::from_secs(120), "took {took:?}");
    assert_stderr(&run, "Permission denied (password");
    assert_stderr(&run, "does not take keys");
    assert_eq!(run.json()["login"]["ok"], false);
}

#[test]
fn a_cloud_init_error_is_a_warning_with_its_first_lines_escaped() {
    let (p, key) = project();
    let mut o = Options::new(IP, &[key]);
    o.cloud_init = Some(CloudInit::Error(vec![
        "status: error".into(),
        "errors:".into(),
        "\t- scripts_user failed \u{1b}[31mred\u{1b}[0m".into(),
    ]));
    let server = Sshd::start_with(o);
    let run = create(&p, &server, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["login"]["ok"], true);
    assert_eq!(v["login"]["cloud_init"], "error");
    assert_eq!(v["login"]["package_manager"], "idle");
    assert!(v.get("error").is_none(), "{v}");
    assert_stderr(&run, "warning: cloud-init reported an error on server web1");
    assert_stderr(&run, "scripts_user failed \\x1b[31mred\\x1b[0m");
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.dump());
}

#[test]
fn cloud_init_that_never_finishes_fails_at_the_limit() {
    let (p, key) = project();
    let mut o = Options::new(IP, &[key]);
    o.cloud_init = Some(CloudInit::Never);
    let server = Sshd::start_with(o);
    let run = create(&p, &server, &["--ssh-timeout", "3"]);
    assert_exit(&run, 1);
    let v = run.json();
    assert_eq!(v["login"]["ok"], true);
    assert_eq!(v["login"]["cloud_init"], "timeout");
    assert_eq!(v["login"]["package_manager"], serde_json::Value::Null);
    assert!(v["login"].get("error").is_none(), "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("cloud-init was still running on server web1 after 3 s"),
        "{error}"
    );
    assert!(error.contains("cloud-init status --long"), "{error}");
    assert_stderr(&run, "The server web1 exists");
    assert_eq!(server.logins(), 1, "{}", server.log());
}

/// Holds an fcntl write lock on `path` (as apt does) until dropped; on a thread of this
/// test process, released after `hold`.
fn hold_lock(path: &Path, hold: Duration) -> std::thread::JoinHandle<()> {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap();
    // SAFETY: a zeroed flock is a valid value; F_SETLK with a valid fd and pointer.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = libc::F_WRLCK as _;
    fl.l_whence = libc::SEEK_SET as _;
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLK, &fl) };
    assert_eq!(rc, 0, "could not lock {}", path.display());
    std::thread::spawn(move || {
        // The stand-in for unattended-upgrades: holds the lock for a while.
        std::thread::sleep(hold);
        drop(file);
    })
}

#[test]
fn a_held_dpkg_lock_is_waited_for() {
    let (mut p, key) = project();
    let locks = tempfile::tempdir().unwrap();
    let frontend = locks.path().join("lock-frontend");
    let other = locks.path().join("lock");
    std::fs::write(&other, "").unwrap();
    p.set_env(
        "PEGASUS_TEST_LOCK_FILES",
        Some(&format!("{}:{}", frontend.display(), other.display())),
    );
    let server = Sshd::start(IP, &[key]);
    let holder = hold_lock(&frontend, Duration::from_secs(4));
    let run = create(&p, &server, &[]);
    let released = holder.is_finished();
    holder.join().unwrap();
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["login"]["package_manager"], "idle");
    assert!(
        released,
        "pegasus returned while the lock was held\n{}",
        run.dump()
    );
    assert_stderr(
        &run,
        &format!(
            "waiting for the package manager ({} held by ",
            frontend.display()
        ),
    );
    assert_stderr(&run, &format!("pid {}", std::process::id()));
    assert_eq!(server.logins(), 1, "{}", server.log());
}

#[test]
fn no_ssh_on_path_skips_the_login_with_a_note() {
    let (mut p, key) = project();
    let empty = tempfile::tempdir().unwrap();
    p.set_env("PATH", Some(empty.path().to_str().unwrap()));
    let server = Sshd::start(IP, &[key]);
    let run = create(&p, &server, &[]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["login"], serde_json::Value::Null);
    assert_stderr(&run, "not logging in as Kamal will: no `ssh` found on PATH");
    assert_eq!(server.logins(), 0);
    assert!(server.connections() >= 1, "the banner part still ran");
}

#[test]
fn ssh_timeout_zero_makes_no_connection() {
    let (p, key) = project();
    let server = Sshd::start(IP, &[key]);
    let run = create(&p, &server, &["--ssh-timeout", "0"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], serde_json::Value::Null);
    assert_eq!(v["login"], serde_json::Value::Null);
    assert_eq!(server.connections(), 0);
    assert!(!run.stderr.contains("logging in"), "{}", run.dump());
}

// -- the ssh.user preflight ---------------------------------------------------

const DEPLOY: &str =
    "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: deploy\n";

#[test]
fn ssh_user_deploy_on_a_system_image_is_refused_before_anything_is_made() {
    let p = Project::new();
    p.write("config/deploy.yml", DEPLOY);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "Kamal logs in as 'deploy' (ssh.user)");
    assert_stderr(&run, "has only root");
    assert_stderr(&run, "--user-data");
    assert_stderr(&run, "\"A non-root Kamal user\"");
    assert!(p.fake.writes().is_empty(), "{:#?}", p.fake.writes());
}

#[test]
fn ssh_user_deploy_with_user_data_is_created() {
    let p = Project::new();
    p.write("config/deploy.yml", DEPLOY);
    p.write("cloud.yml", &readme_user_data());
    let run = p.run(&[
        "server",
        "create",
        "web1",
        "--user-data",
        "cloud.yml",
        "--json",
    ]);
    assert_exit(&run, 0);
    assert_eq!(run.json()["ssh"], "ssh deploy@203.0.113.10");
    let post = p
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path == "/v1/servers")
        .unwrap();
    let body: serde_json::Value = serde_json::from_str(&post.body).unwrap();
    assert_eq!(body["user_data"], readme_user_data().as_str());
}

/// The README's user data for a non-root Kamal user (the YAML block after its heading).
fn readme_user_data() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let at = readme
        .find("### A non-root Kamal user")
        .expect("README: the heading \"A non-root Kamal user\"");
    let rest = &readme[at..];
    let start = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = rest[start..].find("```").unwrap() + start;
    rest[start..end].to_owned()
}

#[test]
fn the_readme_user_data_makes_the_user_with_the_key_docker_and_sudo() {
    use yaml_rust2::{Yaml, YamlLoader};
    let text = readme_user_data();
    assert!(text.starts_with("#cloud-config\n"), "{text}");
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    let doc = &docs[0];
    let users = doc["users"].as_vec().expect("users: a list");
    let deploy = users
        .iter()
        .find(|u| u["name"].as_str() == Some("deploy"))
        .expect("the user deploy");
    let groups: Vec<&str> = match &deploy["groups"] {
        Yaml::Array(a) => a.iter().filter_map(Yaml::as_str).collect(),
        Yaml::String(s) => s.split(',').map(str::trim).collect(),
        other => panic!("groups: {other:?}"),
    };
    assert!(groups.contains(&"docker"), "{groups:?}");
    assert_eq!(deploy["sudo"].as_str(), Some("ALL=(ALL) NOPASSWD:ALL"));
    let keys = deploy["ssh_authorized_keys"].as_vec().expect("keys");
    assert!(
        keys.iter()
            .filter_map(Yaml::as_str)
            .any(|k| k.starts_with("ssh-ed25519 ")),
        "{keys:?}"
    );
    assert_eq!(deploy["shell"].as_str(), Some("/bin/bash"));
}

// -- signals --------------------------------------------------------------------

/// The pids of the processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...
        let after = stat.rsplit_once(") ").map_or("", |(_, a)| a);
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let state = stat.rsplit_once(") ").and_then(|(_, a)| a.chars().next());
    matches!(state, Some(s) if s != 'Z' && s != 'X')
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

#[test]
fn ctrl_c_during_the_login_leaves_no_ssh_behind() {
    let (p, key) = project();
    let mut o = Options::new(IP, &[key]);
    o.cloud_init = Some(CloudInit::Never);
    let server = Sshd::start_with(o);
    let port = server.port().to_string();
    let mut args: Vec<String> = ["server", "create", "web1", "--json", "--ssh-port", &port]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(as_login_user(&p));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let child = p
        .command(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let start = Instant::now();
    // Until the login is in and waits on the server.
    while server.logins() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no login\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let ssh: Vec<u32> = children_of(pid)
        .into_iter()
        .filter(|c| cmdline(*c).starts_with("ssh "))
        .collect();
    assert_eq!(ssh.len(), 1, "one ssh child: {ssh:?}");
    // SAFETY: a plain kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGINT) }, 0);
    let sent = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let run = Run::from_output(&out);
    assert_exit(&run, 130);
    assert!(
        took < Duration::from_secs(5),
        "took {took:?}\n{}",
        run.dump()
    );
    assert_stderr(&run, "Interrupted by SIGINT");
    assert_stderr(&run, "pegasus server create web1");
    assert_eq!(run.json()["error"], "Interrupted by SIGINT");
    // No ssh left: the child, and any process still running that ssh command line.
    for c in &ssh {
        assert!(!alive(*c), "ssh {c} is still running: {}", cmdline(*c));
    }
    let needle = format!("-p {port} ");
    let left: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|c| {
            let line = cmdline(*c);
            line.starts_with("ssh ") && line.contains(&needle) && alive(*c)
        })
        .collect();
    assert!(left.is_empty(), "ssh processes left: {left:?}");
}

// -- a jump host, and an ssh that cannot run here ---------------------------------

#[test]
fn ssh_proxy_logs_in_through_the_jump_host() {
    let (p, key) = project();
    // The jump host is the same sshd: `ssh -W` through it to itself.
    let server = Sshd::start(IP, &[key]);
    let user = sshd::login_user();
    p.write(
        "config/deploy.yml",
        &format!(
            "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: {user}\n  port: {port}\n  proxy: \"{user}@{IP}:{port}\"\n",
            port = server.port()
        ),
    );
    p.write("cloud.yml", "#cloud-config\n");
    let mut args = vec!["server", "create", "web1", "--json"];
    if !sshd::is_root() {
        args.extend(["--user-data", "cloud.yml"]);
    }
    let run = p.run(&args);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["login"]["ok"], true, "{}", run.dump());
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(
        v["ssh"],
        format!(
            "ssh -p {port} -J {user}@{IP}:{port} {user}@{IP}",
            port = server.port()
        )
    );
    // No banner check: the jump host's login and the server's, nothing else.
    assert!(!run.stderr.contains("waiting for SSH on"), "{}", run.dump());
    assert_eq!(server.logins(), 2, "{}", server.log());
    assert_eq!(server.connections(), 2, "{}", server.log());
}

/// A static binary on a box without a password database entry for the user: OpenSSH's
/// `ssh` stops with "No user exists for uid N" (exit 255). That is no `ssh`: a note, and
/// the banner part still runs. Only root can run a program as a uid without an entry.
#[test]
fn an_ssh_that_cannot_run_here_is_a_note() {
    use std::os::unix::process::CommandExt;
    if !sshd::is_root() {
        println!("skipped: only root can run pegasus as a uid without a passwd entry");
        return;
    }
    const UID: u32 = 54_321;
    let (p, key) = project();
    let server = Sshd::start(IP, &[key]);
    for dir in [p.home.path(), p.dir.path()] {
        for entry in walk(dir) {
            std::os::unix::fs::lchown(&entry, Some(UID), Some(UID)).unwrap();
        }
    }
    let port = server.port().to_string();
    let mut cmd = p.command(&["server", "create", "web1", "--json", "--ssh-port", &port]);
    cmd.uid(UID).gid(UID);
    let run = run_command(cmd, "");
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["login"], serde_json::Value::Null);
    assert_stderr(
        &run,
        &format!(
            "not logging in as Kamal will: `ssh` cannot run here (No user exists for uid {UID})"
        ),
    );
    assert_eq!(server.logins(), 0);
}

/// `dir` and everything under it.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn an_erb_ssh_user_is_named_and_the_login_skipped() {
    let (p, key) = project();
    let server = Sshd::start(IP, &[key]);
    p.write(
        "config/deploy.yml",
        &format!(
            "service: app\nimage: me/app\nservers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: <%= ENV[\"SSH_USER\"] %>\n  port: {}\n",
            server.port()
        ),
    );
    let run = p.run(&["server", "create", "web1", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["ssh_ready"], true);
    assert_eq!(v["login"], serde_json::Value::Null);
    assert_stderr(
        &run,
        "ssh.user in config/deploy.yml (line 7: <%= ENV[\"SSH_USER\"] %>) is made by ERB; the login check is skipped",
    );
    assert_eq!(server.logins(), 0);
}

#[test]
fn with_a_destination_the_ssh_section_is_read_merged() {
    // deploy.yml says who Kamal logs in as; deploy.staging.yml only has the hosts.
    let p = Project::new();
    p.write(
        "config/deploy.yml",
        "service: app\nimage: me/app\nservers:\n  web:\n    - 198.51.100.7\nssh:\n  user: deploy\n  port: 2222\n",
    );
    p.write(
        "config/deploy.staging.yml",
        "servers:\n  web:\n    - <IP-ADDRESS>\n",
    );
    let run = p.run(&["server", "create", "web1", "-d", "staging"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "Kamal logs in as 'deploy' (ssh.user)");
    assert!(p.fake.writes().is_empty(), "{:#?}", p.fake.writes());
    // The destination's own ssh.user wins, as in Kamal.
    p.write(
        "config/deploy.staging.yml",
        "servers:\n  web:\n    - <IP-ADDRESS>\nssh:\n  user: root\n",
    );
    let run = p.run(&["server", "create", "web1", "-d", "staging", "--json"]);
    assert_exit(&run, 0);
    // The port still comes from deploy.yml.
    assert_eq!(run.json()["ssh"], "ssh -p 2222 root@203.0.113.10");
}
