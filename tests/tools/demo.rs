//! `make demo`: the whole flow on a machine with no Hetzner account.
//!
//! Starts the fake Hetzner API from the tests on 127.0.0.1, makes a throwaway HOME with
//! an SSH key and a project with a SaaS Pegasus style `config/deploy.yml`, then runs
//! the real binary (path in argv[1]): create (firewall, stale host keys, Kamal edit, DNS
//! with `--dns`: the fake holds the zone of the config's `proxy.host`, the wait for SSH,
//! the login as Kamal and the wait for cloud-init), list, destroy. The fake hands out
//! loopback addresses, and a real OpenSSH sshd on 127.0.0.10 (with a stub cloud-init that
//! takes a few seconds) stands in for the new server.

#[path = "../common/fake.rs"]
mod fake;
#[path = "../common/sshd.rs"]
mod sshd;

use std::path::{Path, PathBuf};
use std::process::Command;

/// How long the stub cloud-init of the demo's server takes.
const CLOUD_INIT_SECS: u32 = 4;

fn main() {
    let bin = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/release/pegasus"));
    let bin =
        std::fs::canonicalize(&bin).unwrap_or_else(|e| fail(&format!("{}: {e}", bin.display())));
    let api = fake::Fake::start();
    api.set_action_polls(4);
    api.set_loopback_addresses(true);
    // The zone of the fixture's `proxy.host: acme.example`, with a mail record that stays.
    api.add_zone("acme.example");
    api.add_rrset("acme.example", "@", "MX", &["10 mail.acme.example."], None);
    let home = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let project = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));

    if let Some(why) = sshd::missing() {
        fail(&why);
    }
    let key_line = sshd::keypair(&home.path().join(".ssh/id_ed25519"), "demo@pegasus");
    let key_note = "a key just made by ssh-keygen";
    let config = project.path().join("config/deploy.yml");
    std::fs::create_dir_all(config.parent().unwrap_or(project.path()))
        .unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::copy(manifest.join("fixtures/pegasus/deploy.yml"), &config)
        .unwrap_or_else(|e| fail(&e.to_string()));
    // sshd can log in only as the user it runs as: Kamal's ssh.user is that user (root
    // is Kamal's default), and user data lets a system image through the preflight.
    let mut extra: Vec<String> = Vec::new();
    if !sshd::is_root() {
        let mut text = std::fs::read_to_string(&config).unwrap_or_default();
        text.push_str(&format!("\nssh:\n  user: {}\n", sshd::login_user()));
        std::fs::write(&config, text).unwrap_or_else(|e| fail(&e.to_string()));
        let user_data = project.path().join("cloud-init.yml");
        std::fs::write(&user_data, "#cloud-config\n").unwrap_or_else(|e| fail(&e.to_string()));
        extra = vec!["--user-data".into(), "cloud-init.yml".into()];
    }

    // The new server: a real sshd (its own host key, the key above authorized) whose
    // cloud-init takes a few seconds to finish.
    let mut options = sshd::Options::new("127.0.0.10", std::slice::from_ref(&key_line));
    options.cloud_init = Some(sshd::CloudInit::DoneAfter(CLOUD_INIT_SECS));
    let sshd = sshd::Sshd::start_with(options);
    let port = sshd.port().to_string();
    let known_hosts = home.path().join(".ssh/known_hosts");
    let stale = format!(
        "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n\
         [127.0.0.10]:{port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFormerMachineFormerMachineFormerMachine1\n"
    );
    std::fs::write(&known_hosts, &stale).unwrap_or_else(|e| fail(&e.to_string()));

    banner(&format!(
        "A fake Hetzner API runs at {} (no account, nothing leaves this machine).\n\
         HOME is {} with {key_note},\n\
         and a ~/.ssh/known_hosts that still has a host key of a former machine at 127.0.0.10:{port};\n\
         the project is {} with a SaaS Pegasus style config/deploy.yml (<IP-ADDRESS> x5,\n\
         proxy.host acme.example), and the fake project holds the DNS zone acme.example.\n\
         The fake hands out loopback addresses; a real OpenSSH sshd on 127.0.0.10:{port} plays the\n\
         new server (--ssh-port points pegasus at it), with its own host key, your key authorized,\n\
         and a stub cloud-init that is done {CLOUD_INIT_SECS} s after pegasus logs in.",
        api.endpoint(),
        home.path().display(),
        project.path().display()
    ));
    let run = |args: &[&str]| {
        println!("\n$ pegasus {}", args.join(" "));
        let status = Command::new(&bin)
            .args(args)
            .current_dir(project.path())
            .env("HOME", home.path())
            .env("HCLOUD_ENDPOINT", api.endpoint())
            .env("HETZNER_API_TOKEN", fake::TOKEN)
            .env_remove("HCLOUD_TOKEN")
            .status()
            .unwrap_or_else(|e| fail(&format!("cannot run {}: {e}", bin.display())));
        if !status.success() {
            fail(&format!("pegasus {} failed ({status})", args.join(" ")));
        }
    };
    let mut create: Vec<&str> = vec!["server", "create", "web1", "--ssh-port", &port, "--dns"];
    create.extend(extra.iter().map(String::as_str));
    run(&create);
    println!("\n$ grep -n '127.0.0.10' config/deploy.yml");
    let text = std::fs::read_to_string(&config).unwrap_or_default();
    for (n, line) in text.lines().enumerate() {
        if line.contains("127.0.0.10") {
            println!("{}:{line}", n + 1);
        }
    }
    println!("\n$ cat ~/.ssh/known_hosts");
    print!(
        "{}",
        std::fs::read_to_string(&known_hosts).unwrap_or_default()
    );
    println!(
        "(the old [127.0.0.10]:{port} key is gone; the line above is the new server's own host key,\n \
         recorded in the plain form Kamal reads. sshd saw {} connection(s) and {} login(s): the\n \
         banner check, then one login that waited on the server for cloud-init)",
        sshd.connections(),
        sshd.logins()
    );
    println!("\n# the zone acme.example in the fake Hetzner DNS now:");
    for set in api.rrsets("acme.example") {
        println!("{:<4} {:<5} {}", set.name, set.kind, set.values.join(", "));
    }
    run(&["server", "list"]);
    run(&[
        "server",
        "create",
        "worker1",
        "--no-kamal",
        "--no-firewall",
        "--ssh-timeout",
        "0",
        "--json",
    ]);
    run(&["server", "destroy", "worker1", "--yes"]);
    banner(
        "Done: the server runs behind a firewall, Kamal's login works on it, cloud-init is done and\n\
         the package manager idle, no stale host key is left, config/deploy.yml and acme.example\n\
         point at it, and `kamal setup` is what you would run next.",
    );
}

fn banner(text: &str) {
    println!("\n==> {}", text.replace('\n', "\n    "));
}

fn fail(msg: &str) -> ! {
    eprintln!("demo failed: {msg}");
    std::process::exit(1)
}
