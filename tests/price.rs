//! The price of `server create` (SPEC §4 step 13): the type's gross price in the location
//! and the primary IPv4's, in the currency of `GET /pricing`, in the "Creating server"
//! line and the summary; read in the preflight's parallel batch.

mod common;

use common::*;

/// The summary's `price` row, or `None`.
fn price_row(run: &Run) -> Option<&str> {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("  price     "))
}

#[test]
fn the_price_is_in_the_creating_line_and_the_summary() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "Creating server web1 (cx23, ubuntu-24.04, nbg1, €4.15/month + €0.61 IPv4)\n",
    );
    assert!(
        run.stdout
            .contains("  location  nbg1\n  price     €4.15/month + €0.61 IPv4\n  IPv4  "),
        "{}",
        run.dump()
    );
    // One read of the pricing, before anything was made.
    assert_eq!(p.fake.count("GET", "/v1/pricing"), 1);
    let requests = p.fake.requests();
    let at = |method: &str, path: &str| {
        requests
            .iter()
            .position(|r| r.method == method && r.path == path)
            .unwrap_or_else(|| panic!("no {method} {path}"))
    };
    assert!(at("GET", "/v1/pricing") < at("POST", "/v1/servers"));
    // JSON output is as SPEC §4 shows it: no price there.
    let run = p.run(&["server", "create", "web2", "--json"]);
    assert_exit(&run, 0);
    assert!(run.json().get("price").is_none(), "{}", run.dump());
    assert_stderr(
        &run,
        "Creating server web2 (cx23, ubuntu-24.04, nbg1, €4.15/month + €0.61 IPv4)",
    );
}

#[test]
fn the_price_follows_the_location() {
    let p = Project::new();
    let run = p.run(&["server", "create", "web1", "-t", "cpx22", "-l", "nbg1"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "Creating server web1 (cpx22, ubuntu-24.04, nbg1, €7.72/month + €0.61 IPv4)",
    );
    assert_eq!(price_row(&run), Some("€7.72/month + €0.61 IPv4"));
    let run = p.run(&["server", "create", "web2", "-t", "cpx22", "-l", "ash"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "Creating server web2 (cpx22, ubuntu-24.04, ash, €9.51/month + €0.61 IPv4)",
    );
    assert_eq!(price_row(&run), Some("€9.51/month + €0.61 IPv4"));
}

#[test]
fn a_server_without_ipv4_costs_no_ipv4() {
    let p = Project::new();
    p.fake.set_ipv4_enabled(false);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_eq!(price_row(&run), Some("€4.15/month"), "{}", run.dump());
}

#[test]
fn a_picked_up_server_shows_its_price() {
    let p = Project::new();
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_stderr(&run, "picking it up");
    assert!(!run.stderr.contains("Creating server"), "{}", run.dump());
    assert_eq!(price_row(&run), Some("€4.15/month + €0.61 IPv4"));
}

#[test]
fn a_malformed_price_is_an_unreadable_answer_and_nothing_is_made() {
    for (path, from, to) in [
        ("/v1/server_types", "\"4.1531000000000000\"", "\"4,15\""),
        ("/v1/pricing", "\"0.6069000000000000\"", "\"0.60.69\""),
        ("/v1/pricing", "\"0.6069000000000000\"", "0.6069"),
    ] {
        let p = Project::new();
        // Every try gets the same answer (an unreadable GET is retried).
        p.fake
            .inject("GET", path, Fault::Substitute(from.into(), to.into()), 5);
        let run = p.run(&["server", "create", "web1"]);
        assert_exit(&run, 1);
        assert_stderr(
            &run,
            "the Hetzner API sent an answer pegasus does not understand",
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.dump());
        assert!(p.fake.writes().is_empty(), "{path}: {:#?}", p.fake.writes());
    }
}

#[test]
fn a_currency_from_the_api_is_shown_escaped() {
    let p = Project::new();
    p.fake.inject(
        "GET",
        "/v1/pricing",
        Fault::Substitute("\"EUR\"".into(), "\"\\u001b[2JUSD\"".into()),
        1,
    );
    let run = p.run(&["server", "create", "web1"]);
    assert_exit(&run, 0);
    assert_stderr(
        &run,
        "Creating server web1 (cx23, ubuntu-24.04, nbg1, \\x1b[2JUSD 4.15/month + \\x1b[2JUSD 0.61 IPv4)",
    );
    assert!(!run.stderr.contains('\x1b') && !run.stdout.contains('\x1b'));
}
