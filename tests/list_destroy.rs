//! `pegasus server list` and `pegasus server destroy` against the fake API.

mod common;

use common::*;

#[test]
fn list_reads_every_page_with_values_only_in_the_cells() {
    let p = Project::new();
    p.fake.set_page_size(2);
    p.fake
        .add_server_with("web1", &[("managed-by", "pegasus")], false);
    for name in ["db1", "cache1", "worker1", "worker2"] {
        p.fake.add_server(name);
    }
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{}", run.dump());
    for col in ["STATUS", "TYPE", "LOCATION", "IPV4", "IPV6", "AGE"] {
        assert!(lines[0].contains(col));
    }
    // No marker in a cell, no footnote after the table: a header and 5 rows.
    assert!(lines[1].starts_with("web1 "), "{}", run.dump());
    assert_eq!(lines.len(), 6, "{}", run.dump());
    assert!(!run.stdout.contains('*'), "{}", run.dump());
    assert_eq!(lines.iter().filter(|l| l.contains("running")).count(), 5);
    // Columns line up: STATUS starts at the same column on every row.
    let col = lines[0].find("STATUS").unwrap();
    for l in &lines[1..6] {
        assert_eq!(&l[col..col + 7], "running", "{}", run.dump());
    }
    // 5 servers, 2 per page: 3 pages.
    assert_eq!(p.fake.count("GET", "/v1/servers"), 3);
}

#[test]
fn list_json_is_an_array_of_server_objects() {
    let p = Project::new();
    p.fake.set_page_size(2);
    for name in ["a1", "a2", "a3"] {
        p.fake.add_server(name);
    }
    let run = p.run(&["server", "list", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    for key in [
        "id",
        "name",
        "status",
        "server_type",
        "image",
        "location",
        "ipv4",
        "ipv6",
        "labels",
    ] {
        assert!(arr[0].get(key).is_some(), "missing {key}: {}", arr[0]);
    }
    let names: Vec<&str> = arr.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a1", "a2", "a3"]);
}

#[test]
fn list_empty_project_says_so() {
    let p = Project::new();
    let run = p.run(&["server", "list"]);
    assert_exit(&run, 0);
    // The header alone on stdout; the sentence on stderr.
    assert_eq!(
        run.stdout,
        "NAME   STATUS   TYPE   LOCATION   IPV4   IPV6   AGE\n",
        "{}",
        run.dump()
    );
    assert_stderr(&run, "No servers in this project yet");
    let run = p.run(&["server", "list", "-o", "noheader"]);
    assert_eq!(run.stdout, "", "{}", run.dump());
    let run = p.run(&["server", "list", "--json"]);
    assert_eq!(run.stdout, "[]\n");
}

#[test]
fn list_into_a_closed_pipe_is_quiet() {
    let p = Project::new();
    for i in 0..30 {
        p.fake.add_server(&format!("s{i}"));
    }
    let mut cmd = p.command(&["server", "list"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take()); // the reader goes away at once
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn destroy_with_yes_deletes_exactly_that_server() {
    let p = Project::new();
    p.fake.add_server("web1");
    let id = p.fake.add_server("web10");
    p.fake.add_server("web");
    let run = p.run(&["server", "destroy", "web10", "--yes"]);
    assert_exit(&run, 0);
    assert!(
        run.stdout.contains("Server web10 is deleted."),
        "{}",
        run.dump()
    );
    assert_eq!(p.fake.server_names(), ["web1", "web"]);
    let deletes: Vec<_> = p
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, format!("/v1/servers/{id}"));
    assert_stderr(&run, "Server web10 (id");
}

#[test]
fn destroy_json() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "destroy", "web1", "--yes", "--json"]);
    assert_exit(&run, 0);
    let v = run.json();
    assert_eq!(v["deleted"], true);
    assert_eq!(v["server"]["name"], "web1");
}

#[test]
fn destroy_without_terminal_and_without_yes_refuses() {
    let p = Project::new();
    p.fake.add_server("web1");
    // Even the right name on a pipe is not a confirmation.
    let run = p.run_with_stdin(&["server", "destroy", "web1"], "web1\n");
    assert_exit(&run, 1);
    assert_stderr(&run, "--yes");
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn destroy_unknown_name_lists_the_names() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.add_server("db1");
    let run = p.run(&["server", "destroy", "web2", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "no server named web2; the servers are: web1, db1");
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
}

#[test]
fn destroy_protected_server_explains_how_to_lift_it() {
    let p = Project::new();
    p.fake.add_server_with("web1", &[], true);
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "cannot be deleted");
    assert_stderr(&run, "disable-protection");
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn destroy_failed_action_is_reported() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.fail_action("delete_server");
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 1);
    assert_stderr(&run, "delete_server failed: Action failed (action_failed)");
    assert_stderr(&run, "may still exist");
}

#[test]
fn destroy_rides_out_a_rate_limit_during_the_wait() {
    let p = Project::new();
    p.fake.add_server("web1");
    p.fake.set_action_polls(3);
    p.fake.inject("GET", "/v1/actions", Fault::Status(429), 2);
    let run = p.run(&["server", "destroy", "web1", "--yes"]);
    assert_exit(&run, 0);
    assert_stderr(&run, "rate limit");
    assert!(p.fake.server_names().is_empty());
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 1);
}

#[test]
fn destroy_with_a_missing_named_config_fails_before_any_request() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = p.run(&["server", "destroy", "web1", "--yes", "-d", "nope"]);
    assert_exit(&run, 2);
    assert_stderr(&run, "config/deploy.nope.yml");
    assert!(p.fake.requests().is_empty());
}
