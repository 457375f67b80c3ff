//! `make demo`: the whole flow on a machine with no Hetzner account.
//!
//! Starts the fake Hetzner API from the tests on 127.0.0.1, makes a throwaway HOME with
//! an SSH key and a project with a SaaS Pegasus style `config/deploy.yml`, then runs
//! the real binary (path in argv[1]): create (firewall, stale host keys, Kamal edit, DNS
//! with `--dns`: the fake holds the zone of the config's `proxy.host`, the wait for SSH),
//! list, destroy. The fake hands out loopback addresses, and a small SSH banner server on
//! 127.0.0.10 stands in for the new server's sshd.

#[path = "../common/banner.rs"]
mod banner;
#[path = "../common/fake.rs"]
mod fake;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

    let key_note = make_key(home.path(), manifest);
    let config = project.path().join("config/deploy.yml");
    std::fs::create_dir_all(config.parent().unwrap_or(project.path()))
        .unwrap_or_else(|e| fail(&e.to_string()));
    std::fs::copy(manifest.join("fixtures/pegasus/deploy.yml"), &config)
        .unwrap_or_else(|e| fail(&e.to_string()));

    // sshd of the new server: answers a few seconds after the server runs.
    let sshd = banner::Banner::start("127.0.0.10", banner::Mode::After(Duration::from_secs(4)));
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
         The fake hands out loopback addresses; an SSH banner server on 127.0.0.10:{port} plays the\n\
         new server's sshd and starts answering 4 s from now (--ssh-port points pegasus at it).",
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
    run(&["server", "create", "web1", "--ssh-port", &port, "--dns"]);
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
    let seen = sshd.connections();
    println!(
        "(the SSH banner server saw {seen} connection(s): {})",
        if seen > 1 {
            "pegasus retried until it answered"
        } else {
            "it was answering by the time pegasus asked"
        }
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
        "Done: the server runs behind a firewall, SSH answers on it, no stale host key is left,\n\
         config/deploy.yml and acme.example point at it, and `kamal setup` is what you would run next.",
    );
}

/// A key made by ssh-keygen when it is installed, else the test fixture's public key.
fn make_key(home: &Path, manifest: &Path) -> String {
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap_or_else(|e| fail(&e.to_string()));
    let key = ssh.join("id_ed25519");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "demo@pegasus", "-f"])
        .arg(&key)
        .status()
        .is_ok_and(|s| s.success());
    if made {
        return "a key just made by ssh-keygen".into();
    }
    std::fs::copy(
        manifest.join("fixtures/keys/id_ed25519.pub"),
        ssh.join("id_ed25519.pub"),
    )
    .unwrap_or_else(|e| fail(&e.to_string()));
    "the test key from fixtures/ (ssh-keygen is not installed)".into()
}

fn banner(text: &str) {
    println!("\n==> {}", text.replace('\n', "\n    "));
}

fn fail(msg: &str) -> ! {
    eprintln!("demo failed: {msg}");
    std::process::exit(1)
}
