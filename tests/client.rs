//! The API client against broken and hostile input (SPEC §3, §7, §8; issue 9 items 4
//! and 5): proxies and loopback, credentials in the endpoint, TLS errors in words,
//! stdin answers, bounded listings, rate-limit waits, refused connections, a DELETE
//! whose answer was lost, unreadable answers, API text with control characters.
//! The real binary against the fake API on 127.0.0.1; nothing connects anywhere else.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::fake::PageFault;
use common::proxy::{ConnectProxy, dead_port};
use common::*;

/// The retry notes on stderr ("…; trying again in 1.5s"), with the announced wait.
fn retry_waits(run: &Run) -> Vec<f64> {
    run.stderr
        .lines()
        .filter_map(|l| l.split_once("; trying again in "))
        .map(|(_, w)| {
            w.trim_end_matches('s')
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("no wait in {w:?}\n{}", run.dump()))
        })
        .collect()
}

/// The gaps between the requests the fake saw for `method path`.
fn gaps(p: &Project, method: &str, path: &str) -> Vec<Duration> {
    let at: Vec<Instant> = p
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == method && r.path == path)
        .map(|r| r.at)
        .collect();
    at.windows(2).map(|w| w[1] - w[0]).collect()
}

/// No terminal control byte (ESC, BEL, CSI) in anything printed.
#[track_caller]
fn assert_no_control(run: &Run) {
    for c in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(
            !run.stdout.contains(c) && !run.stderr.contains(c),
            "{c:?} printed\n{}",
            run.dump()
        );
    }
}

// ---------------------------------------------------------------------------
// Proxies and the endpoint

#[test]
fn a_loopback_endpoint_never_goes_through_a_proxy() {
    let mut p = Project::new();
    p.fake.add_server("web1");
    // A working proxy (tunnelling to the fake itself) that records every request.
    let proxy = ConnectProxy::start(p.fake.addr());
    for var in ["ALL_PROXY", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy"] {
        p.set_env(var, Some(&proxy.url()));
    }
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert!(run.stdout.contains("web1"), "{}", run.dump());
    assert!(proxy.targets().is_empty(), "{:?}", proxy.targets());
    assert_eq!(p.fake.count("GET", "/v1/servers"), 1);

    // A dead proxy is not even tried.
    let dead_proxy = dead_port();
    let dead = format!("http://127.0.0.1:{}", dead_proxy.port());
    p.set_env("ALL_PROXY", Some(&dead));
    p.set_env("HTTP_PROXY", Some(&dead));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert!(!run.stderr.contains("proxy"), "{}", run.dump());
    assert_eq!(p.fake.count("GET", "/v1/servers"), 2);
}

#[test]
fn an_endpoint_with_a_user_or_password_is_refused_and_never_shown() {
    let mut p = Project::new();
    let port = p.fake.addr().port();
    for url in [
        format!("http://alice:Sup3rSecretPw@127.0.0.1:{port}/v1"),
        format!("http://:Sup3rSecretPw@127.0.0.1:{port}/v1"),
        "https://alice:Sup3rSecretPw@api.hetzner.cloud/v1".to_string(),
        "ftp://alice:Sup3rSecretPw@api.hetzner.cloud/v1".to_string(),
        "https://alice:Sup3rSecretPw@api.hetzner.cloud/v1?x=1 y".to_string(),
    ] {
        p.set_env("HCLOUD_ENDPOINT", Some(&url));
        for args in [&["server", "list"][..], &["server", "create", "web1"][..]] {
            let run = p.run(args);
            assert_exit(&run, 2);
            assert_stderr(
                &run,
                "HCLOUD_ENDPOINT must not contain a user name or password",
            );
            for part in ["Sup3r", "Secret", "cretPw", "alice"] {
                assert!(
                    !run.stderr.contains(part) && !run.stdout.contains(part),
                    "{part} of {url} shown\n{}",
                    run.dump()
                );
            }
            assert_no_secret(&run, TOKEN);
        }
    }
    assert!(p.fake.requests().is_empty(), "{:?}", p.fake.requests());
}

#[test]
fn a_tls_failure_is_said_in_words() {
    // https to a server that answers in plain HTTP at once: the handshake gets an
    // answer that is not TLS. rustls calls that `InvalidContentType`; the user reads words.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            let _ = std::io::Write::write_all(
                &mut conn,
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let mut p = Project::new();
    let url = format!("https://127.0.0.1:{port}/v1");
    p.set_env("HCLOUD_ENDPOINT", Some(&url));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    let line = run.stderr.trim_end().lines().last().unwrap_or("");
    assert!(
        line.starts_with("error: TLS error talking to 127.0.0.1: "),
        "{}",
        run.dump()
    );
    for word in line.split(|c: char| !c.is_alphanumeric()) {
        let rust_name =
            word.chars().any(char::is_lowercase) && word.chars().skip(1).any(char::is_uppercase);
        assert!(!rust_name, "{word} in {line}");
    }
    assert!(!run.stderr.contains("rustls"), "{}", run.dump());
    assert!(!run.stderr.contains("corrupt message"), "{}", run.dump());
}

// ---------------------------------------------------------------------------
// Stdin

/// `< /dev/zero` on the token prompt: one error, read no further, bounded memory.
#[test]
fn an_endless_answer_on_stdin_is_an_error_in_bounded_memory() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let mut cmd = p.command(&["server", "list"]);
    cmd.stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (code, maxrss_kib, stderr) = run_bounded(cmd, Duration::from_secs(20));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("error: the answer read from stdin is longer than 64 KiB"),
        "{stderr}"
    );
    // Far below what reading on would take; the test process's own pages may count.
    assert!(maxrss_kib < 100 * 1024, "peak RSS {maxrss_kib} KiB");
    assert!(p.fake.requests().is_empty());
    assert!(!p.credentials_path().exists());
}

/// Run to the end within `limit` (else kill and fail): exit code, `ru_maxrss`, stderr.
/// The child is reaped by `wait4` (for its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_bounded(mut cmd: Command, limit: Duration) -> (i32, i64, String) {
    let mut child = cmd.spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    loop {
        let mut status = 0;
        // SAFETY: plain syscall on our own child, with valid pointers.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            return (code, usage.ru_maxrss, reader.join().unwrap());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------
// Listings

#[test]
fn listing_stops_at_last_page_whatever_next_page_says() {
    let p = Project::new();
    p.fake.add_servers("web", 5);
    p.fake.set_page_size(2);
    p.fake.set_page_fault(Some(PageFault::NextPastLast));
    let run = p.run(&["server", "list", "--json"]);
    assert_exit(&run, 0);
    let names: Vec<String> = run
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["web1", "web2", "web3", "web4", "web5"]);
    // Pages 1, 2 and 3 (the last), no more.
    assert_eq!(p.fake.count("GET", "/v1/servers"), 3);
}

#[test]
fn endless_pagination_is_an_error() {
    let p = Project::new();
    p.fake.add_servers("web", 3);
    p.fake.set_page_size(2);
    p.fake.set_page_fault(Some(PageFault::Endless));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "error: the Hetzner API announced 3 servers but kept sending pages (page 3)",
    );
    assert_eq!(run.stdout, "");
    // Pages 1 and 2 hold the 3 servers; page 3 lies past them.
    assert_eq!(p.fake.count("GET", "/v1/servers"), 3);
}

#[test]
fn a_page_repeating_ids_is_an_error() {
    let p = Project::new();
    p.fake.add_servers("web", 3);
    p.fake.set_page_size(2);
    p.fake.set_page_fault(Some(PageFault::Repeat));
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "error: the Hetzner API repeated id 1001 on page 2 of the servers",
    );
    assert_eq!(run.stdout, "");
    assert_eq!(p.fake.count("GET", "/v1/servers"), 2);
}

#[test]
fn an_unreadable_answer_to_a_get_is_retried() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.inject(
        "GET",
        "/v1/servers",
        Fault::Raw(200, r#"{"servers": [{"id": 10"#.into()),
        1,
    );
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert!(run.stdout.contains("web1"), "{}", run.dump());
    assert_stderr(
        &run,
        "Hetzner sent an answer that could not be read; trying again",
    );
    assert_eq!(p.fake.count("GET", "/v1/servers"), 2);

    // Always unreadable: five tries, then the error says so.
    p.fake.clear_requests();
    p.fake
        .inject("GET", "/v1/servers", Fault::Raw(200, "[1, 2".into()), 5);
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_stderr(
        &run,
        "error: the Hetzner API sent an answer pegasus does not understand",
    );
    assert_stderr(&run, "(gave up after 5 tries)");
    assert_eq!(p.fake.count("GET", "/v1/servers"), 5);
}

// ---------------------------------------------------------------------------
// API text

#[test]
fn control_characters_in_api_errors_are_shown_escaped() {
    let p = Project::new();
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2J\rerror: all good\nfake line";
    let body = serde_json::json!({"error": {
        "code": "forbidden", "message": evil,
        "details": {"fields": [{"name": "name", "messages": [evil]}]},
    }})
    .to_string();
    p.fake
        .inject("GET", "/v1/servers", Fault::Raw(403, body), 1);
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_no_control(&run);
    assert_stderr(
        &run,
        "error: Hetzner API: \\x1b]0;pwned\\x07\\x1b[2J\\rerror: all good\\nfake line (forbidden, HTTP 403)",
    );
    assert_stderr(&run, "\n  - name: \\x1b]0;pwned");
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.dump());

    // The start of a body that is not JSON, too.
    p.fake.inject(
        "GET",
        "/v1/servers",
        Fault::Raw(418, "<html>\u{1b}[31mteapot\u{1b}[0m</html>".into()),
        1,
    );
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 1);
    assert_no_control(&run);
    assert_stderr(
        &run,
        "error: Hetzner API answered HTTP 418: <html>\\x1b[31mteapot\\x1b[0m</html>",
    );
}

// ---------------------------------------------------------------------------
// Retry arithmetic

/// A project whose retry waits are announced at their real length but slept at 1/100.
fn scaled(backoff_ms: &str) -> Project {
    let mut p = Project::new();
    p.set_env("PEGASUS_TEST_BACKOFF_MS", Some(backoff_ms));
    p.set_env("PEGASUS_TEST_SLEEP_SCALE", Some("0.01"));
    p.fake.add_server("web1");
    p
}

#[test]
fn a_rate_limit_reset_in_the_past_waits_the_backoff_step_not_zero() {
    let p = scaled("2000");
    p.fake
        .inject("GET", "/v1/servers", Fault::RateLimited(-30), 1);
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert_stderr(&run, "Hetzner's rate limit was reached; trying again in ");
    // The first back-off step: 2 s less up to 25% jitter.
    let waits = retry_waits(&run);
    assert_eq!(waits.len(), 1, "{}", run.dump());
    assert!((1.5..=2.0).contains(&waits[0]), "{}", run.dump());
    assert_eq!(p.fake.count("GET", "/v1/servers"), 2);
    // And it was waited (scaled: 15–20 ms), not a burst.
    let gap = gaps(&p, "GET", "/v1/servers")[0];
    assert!(gap >= Duration::from_millis(14), "{gap:?}");
}

#[test]
fn a_rate_limit_reset_90_s_ahead_waits_60_s() {
    let p = scaled("1000");
    p.fake
        .inject("GET", "/v1/servers", Fault::RateLimited(90), 1);
    let started = Instant::now();
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    assert_eq!(retry_waits(&run), [60.0], "{}", run.dump());
    assert_eq!(p.fake.count("GET", "/v1/servers"), 2);
    // Slept at 1/100: 0.6 s.
    let gap = gaps(&p, "GET", "/v1/servers")[0];
    assert!(
        gap >= Duration::from_millis(590) && gap < Duration::from_secs(10),
        "{gap:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_refused_connection_is_tried_once_more_after_a_second() {
    let mut p = Project::new();
    // Real timing: no back-off knob.
    p.set_env("PEGASUS_TEST_BACKOFF_MS", None);
    let dead = dead_port();
    p.set_env(
        "HCLOUD_ENDPOINT",
        Some(&format!("http://127.0.0.1:{}/v1", dead.port())),
    );
    let started = Instant::now();
    let run = p.run(&["server", "list"]);
    let took = started.elapsed();
    assert_exit(&run, 1);
    // Two tries: one note, 1 s apart, then the error.
    assert_eq!(retry_waits(&run), [1.0], "{}", run.dump());
    assert_stderr(&run, "connection refused; trying again in 1.0s");
    assert_stderr(&run, "error: could not connect to 127.0.0.1:");
    assert_stderr(&run, ": connection refused (gave up after 2 tries)");
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(15),
        "{took:?}"
    );
}

#[test]
fn a_delete_whose_answer_was_lost_and_whose_retry_gets_404_is_done() {
    let p = Project::new();
    p.fake.add_server("web1");
    // The delete is carried out but its answer is lost; it is over before the retry.
    p.fake.set_action_polls(0);
    p.fake
        .inject("DELETE", "/v1/servers/", Fault::ApplyThenDrop, 1);
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 0);
    assert_eq!(run.stdout, "Server web1 is deleted.\n", "{}", run.dump());
    assert_eq!(p.fake.count("DELETE", "/v1/servers/1001"), 2);
    assert!(p.fake.server_names().is_empty());

    // A 404 on the first try is still an error: nothing was deleted by this run.
    p.fake.add_server("web2");
    p.fake
        .inject("DELETE", "/v1/servers/", Fault::Status(404), 1);
    let run = p.run(&["server", "destroy", "web2", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "(not_found, HTTP 404)");
}
