//! What happens only on a terminal: typed confirmation, the hidden token prompt, the
//! spinner. Each test runs the binary on a pseudo-terminal.

mod common;

use common::pty::run_on_pty;
use common::*;

#[test]
fn destroy_asks_for_the_name_and_deletes_on_a_match() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1"]),
        &[("Type the name to confirm", "web1")],
    );
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web1 is deleted."),
        "{}",
        run.screen
    );
    assert!(p.fake.server_names().is_empty());
}

#[test]
fn destroy_with_a_wrong_name_typed_deletes_nothing() {
    let p = Project::new();
    p.fake.add_server("web1");
    let run = run_on_pty(
        p.command(&["server", "destroy", "web1"]),
        &[("Type the name to confirm", "web2")],
    );
    assert_eq!(run.code, 1, "{}", run.screen);
    assert!(run.screen.contains("nothing was deleted"), "{}", run.screen);
    assert_eq!(p.fake.count_prefix("DELETE", "/v1/"), 0);
    assert_eq!(p.fake.server_names(), ["web1"]);
}

#[test]
fn token_prompt_hides_what_is_typed() {
    let mut p = Project::new();
    p.set_env("HETZNER_API_TOKEN", None);
    let run = run_on_pty(
        p.command(&["server", "create", "web1", "--no-kamal"]),
        &[("Hetzner API token: ", TOKEN)],
    );
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        !run.screen.contains(&TOKEN[..8]),
        "the token was echoed:\n{}",
        run.screen
    );
    assert_eq!(
        std::fs::read_to_string(p.credentials_path()).unwrap(),
        format!("{TOKEN}\n")
    );
}

#[test]
fn spinner_on_a_terminal_and_plain_lines_with_term_dumb() {
    let p = Project::new();
    p.fake.set_action_polls(5);
    let run = run_on_pty(p.command(&["server", "create", "web1", "--no-kamal"]), &[]);
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web1: creating the server"),
        "{}",
        run.screen
    );
    assert!(run.screen.contains('%'), "{}", run.screen);
    // Frames of the Dots spinner.
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    assert!(run.screen.contains(frames), "no spinner:\n{}", run.screen);
    assert!(
        run.screen.contains("Server web1 is running."),
        "{}",
        run.screen
    );

    let mut cmd = p.command(&["server", "create", "web2", "--no-kamal"]);
    cmd.env("TERM", "dumb");
    let run = run_on_pty(cmd, &[]);
    assert_eq!(run.code, 0, "{}", run.screen);
    assert!(
        run.screen.contains("Server web2: creating the server ..."),
        "{}",
        run.screen
    );
    assert!(
        !run.screen.contains(frames),
        "spinner with TERM=dumb:\n{}",
        run.screen
    );
}
