//! TLS trust and proxies (SPEC §3, §7; issue 5): the real binary talks https to the fake
//! API through a TLS relay whose certificate comes from a CA made at test time, directly
//! or through a CONNECT proxy. Everything listens on 127.0.0.1; nothing connects out.

mod common;

use std::path::PathBuf;

use common::proxy::{ConnectProxy, dead_port};
use common::tls_relay::{TestCa, TlsRelay};
use common::*;

/// A project whose `HCLOUD_ENDPOINT` is `https://localhost:PORT/v1` (the TLS relay in
/// front of the fake), with the test CA written to a file (not trusted until a test
/// sets `SSL_CERT_FILE`).
struct Tls {
    p: Project,
    relay: TlsRelay,
    ca_file: PathBuf,
}

impl Tls {
    fn new() -> Tls {
        let mut p = Project::new();
        let ca = TestCa::new();
        let relay = TlsRelay::start(&ca, p.fake.addr());
        let ca_file = ca.write_pem(p.home.path());
        p.set_env("HCLOUD_ENDPOINT", Some(&relay.endpoint()));
        Tls { p, relay, ca_file }
    }

    fn trust_ca(&mut self) {
        let ca = self.ca_file.to_str().unwrap().to_string();
        self.p.set_env("SSL_CERT_FILE", Some(&ca));
    }

    fn create(&self, name: &str) -> Run {
        self.p.run(&["server", "create", name, "--json"])
    }
}

/// A successful `--json` create of `name`: one object on stdout, one POST, one server.
#[track_caller]
fn assert_created(p: &Project, run: &Run, name: &str) {
    assert_exit(run, 0);
    let v = run.json();
    assert_eq!(v["server"]["name"], name, "{}", run.dump());
    assert_eq!(v["server"]["status"], "running", "{}", run.dump());
    assert_eq!(p.fake.count("POST", "/v1/servers"), 1);
    assert_eq!(p.fake.server_names(), vec![name.to_string()]);
    // The token went to the fake (through TLS) on every request.
    let want = format!("Bearer {TOKEN}");
    assert!(
        p.fake
            .requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some(want.as_str()))
    );
    assert_no_secret(run, TOKEN);
}

/// The error: one `error:` line, the last of stderr, holding `needle`; and no Rust debug
/// output anywhere (retry notes before it may mention the cause too).
#[track_caller]
fn error_line(run: &Run, needle: &str) -> String {
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "want one error line\n{}", run.dump());
    assert_eq!(
        run.stderr.trim_end().lines().last(),
        Some(errors[0]),
        "the error is not one last line\n{}",
        run.dump()
    );
    assert!(
        errors[0].contains(needle),
        "the error lacks {needle:?}\n{}",
        run.dump()
    );
    for dump in [
        "Rustls(",
        "InvalidCertificate",
        "Io(",
        "Os {",
        "kind:",
        "Custom {",
        "ConnectProxyFailed",
        "Error {",
        "panicked",
    ] {
        assert!(
            !run.stderr.contains(dump),
            "debug dump {dump:?} in stderr\n{}",
            run.dump()
        );
    }
    errors[0].to_string()
}

#[test]
fn https_with_the_test_ca_in_ssl_cert_file_creates_the_server() {
    let mut t = Tls::new();
    t.trust_ca();
    let run = t.create("web1");
    assert_created(&t.p, &run, "web1");
    // It really went through TLS, with the name of the endpoint as SNI.
    t.relay.wait_idle();
    let handshakes = t.relay.handshakes();
    assert!(!handshakes.is_empty());
    assert!(
        handshakes.iter().all(|h| h == "localhost"),
        "{handshakes:?}"
    );
    assert!(t.relay.failures().is_empty(), "{:?}", t.relay.failures());
}

#[test]
fn untrusted_certificate_is_one_clear_line_with_the_hint() {
    let t = Tls::new();
    let run = t.create("web1");
    assert_exit(&run, 1);
    let line = error_line(&run, "TLS certificate not trusted");
    assert!(
        line.contains("TLS certificate not trusted for localhost"),
        "{line}"
    );
    assert!(line.contains("SSL_CERT_FILE"), "{line}");
    assert_no_secret(&run, TOKEN);
    // The client refused the handshake: nothing reached the fake, and no retry.
    t.relay.wait_idle();
    assert!(t.p.fake.requests().is_empty(), "{:?}", t.p.fake.requests());
    assert_eq!(t.relay.connections(), 1);
    assert!(t.relay.handshakes().is_empty());
    assert_eq!(t.relay.failures().len(), 1, "{:?}", t.relay.failures());
}

#[test]
fn ssl_cert_file_missing_or_without_a_certificate_is_named() {
    let mut t = Tls::new();
    let missing = t.p.home.path().join("no-such-ca.pem");
    t.p.set_env("SSL_CERT_FILE", Some(missing.to_str().unwrap()));
    let run = t.create("web1");
    assert_exit(&run, 1);
    let line = error_line(&run, "SSL_CERT_FILE");
    assert!(line.contains(missing.to_str().unwrap()), "{line}");
    assert!(line.contains("cannot be read: no such file"), "{line}");

    let junk = t.p.home.path().join("junk.pem");
    std::fs::write(&junk, "this is not a certificate\n").unwrap();
    t.p.set_env("SSL_CERT_FILE", Some(junk.to_str().unwrap()));
    let run = t.create("web1");
    assert_exit(&run, 1);
    let line = error_line(&run, "SSL_CERT_FILE");
    assert!(line.contains(junk.to_str().unwrap()), "{line}");
    assert!(line.contains("holds no PEM certificate"), "{line}");

    // Both failed before any connection.
    assert!(t.p.fake.requests().is_empty());
    assert_eq!(t.relay.connections(), 0);
}

/// Create through a CONNECT proxy named by `var`, to `https://api.test/v1`: a name that
/// does not resolve here, so success proves the proxy was asked to resolve it.
fn create_through_proxy(var: &str) {
    let mut t = Tls::new();
    t.trust_ca();
    let proxy = ConnectProxy::start(t.relay.addr());
    t.p.set_env(var, Some(&proxy.url()));
    t.p.set_env("HCLOUD_ENDPOINT", Some("https://api.test/v1"));
    // Not a loopback endpoint, so the test knobs are ignored and polls take real time:
    // let actions finish at the first poll.
    t.p.fake.set_action_polls(0);
    let run = t.create("web1");
    assert_created(&t.p, &run, "web1");
    let targets = proxy.targets();
    assert!(!targets.is_empty(), "{}", run.dump());
    assert!(targets.iter().all(|x| x == "api.test:443"), "{targets:?}");
    // The TLS session inside the tunnel was for api.test (SNI and certificate name).
    t.relay.wait_idle();
    let handshakes = t.relay.handshakes();
    assert_eq!(handshakes.len(), targets.len(), "{handshakes:?}");
    assert!(handshakes.iter().all(|h| h == "api.test"), "{handshakes:?}");
}

#[test]
fn https_proxy_tunnels_and_lets_the_proxy_resolve_the_host() {
    create_through_proxy("HTTPS_PROXY");
}

#[test]
fn all_proxy_is_honoured_too() {
    create_through_proxy("ALL_PROXY");
}

/// SPEC §3: a loopback endpoint never goes through a proxy, NO_PROXY or not.
#[test]
fn a_loopback_endpoint_goes_direct_past_a_dead_proxy() {
    let mut t = Tls::new();
    t.trust_ca();
    let dead_proxy = dead_port();
    let dead = format!("http://127.0.0.1:{}", dead_proxy.port());
    t.p.set_env("HTTPS_PROXY", Some(&dead));
    t.p.set_env("ALL_PROXY", Some(&dead));
    let run = t.create("web1");
    assert_created(&t.p, &run, "web1");
    t.relay.wait_idle();
    assert!(t.relay.connections() >= 1);
    assert!(t.relay.handshakes().iter().all(|h| h == "localhost"));
}

#[test]
fn dead_proxy_is_named_without_a_dump_or_the_token() {
    let mut t = Tls::new();
    t.trust_ca();
    let dead = dead_port();
    let port = dead.port();
    t.p.set_env("HTTPS_PROXY", Some(&format!("http://127.0.0.1:{port}")));
    // Not loopback, so the proxy is used (and real timing: one retry after 1 s).
    t.p.set_env("HCLOUD_ENDPOINT", Some("https://api.test/v1"));
    let run = t.create("web1");
    assert_exit(&run, 1);
    let proxy = format!("127.0.0.1:{port}");
    let line = error_line(&run, &proxy);
    assert!(line.contains("proxy"), "{line}");
    assert!(line.contains("connection refused"), "{line}");
    assert!(line.contains("(gave up after 2 tries)"), "{line}");
    assert_no_secret(&run, TOKEN);
    // Nothing went direct.
    assert_eq!(t.relay.connections(), 0);
    assert!(t.p.fake.requests().is_empty());
}

#[test]
fn a_proxy_that_forbids_the_tunnel_is_named() {
    let mut t = Tls::new();
    t.trust_ca();
    let proxy = ConnectProxy::start_forbidding();
    t.p.set_env("HTTPS_PROXY", Some(&proxy.url()));
    t.p.set_env("HCLOUD_ENDPOINT", Some("https://api.test/v1"));
    let run = t.create("web1");
    assert_exit(&run, 1);
    let name = proxy.addr().to_string();
    let line = error_line(&run, &name);
    assert!(line.contains("proxy"), "{line}");
    assert!(line.contains("api.test"), "{line}");
    assert!(line.contains("403"), "{line}");
    assert_no_secret(&run, TOKEN);
    assert_eq!(proxy.targets(), ["api.test:443"]);
    assert_eq!(t.relay.connections(), 0);
    assert!(t.p.fake.requests().is_empty());
}
