//! `make bench`: the performance figures of issue 6, each next to its budget.
//!
//! `cargo run --release --example bench -- [--strict] [PEGASUS_BINARY]` (default
//! `target/x86_64-unknown-linux-musl/release/pegasus`, what `make static` builds).
//! Everything runs on this machine: the fake Hetzner API from the tests serves the
//! creates on 127.0.0.1, with the CLI's real poll timing (no `PEGASUS_TEST_*`).
//!
//! | figure              | how                                                               |
//! |---------------------|-------------------------------------------------------------------|
//! | start-up            | `pegasus --version`, 10 warm-up runs then 200 timed ones, wall    |
//! |                     | time from just before the spawn to `wait4`; median (p90, min)     |
//! | size TARGET         | file size of each shipped binary, `target/TARGET/release/pegasus` |
//! |                     | (`make dist` builds all four, `make static` the x86_64 Linux one);|
//! |                     | one not built is skipped; budget 2.0 MiB each                     |
//! | requests per create | a create with the key already on the fake (same blob) and each    |
//! |                     | action finishing on its 4th poll; every request is counted and    |
//! |                     | the polls (`GET /v1/actions…`) split out; budget 8 + polls (keys, |
//! |                     | then type, image, name, price and firewall side by side, create,  |
//! |                     | server; the firewall exists, as after a project's first create)   |
//! | preflight round     | a project's first create (key upload, firewall made), every answer|
//! | trips               | of the fake 100 ms late: whole 100 ms steps until the fake reads  |
//! |                     | `POST /v1/servers` (real run) or until the exit (`--dry-run`)     |
//! | overshoot           | clock mode: create_server takes T/2, start_server T/2 after it,   |
//! |                     | so both are done T after the fake read the `POST /v1/servers`     |
//! |                     | head; figure = when `wait4` returns for the CLI minus that; T =   |
//! |                     | 3.0, 3.1, … 3.4 s over the 5 runs (the CLI polls every 500 ms, so |
//! |                     | a fixed T would always hit the same phase of it); median, min, max|
//! | peak memory         | `ru_maxrss` of the requests create, read by a helper (this        |
//! |                     | program re-run with `--wait4`) so the bench's memory stays out    |
//! | list memory         | `ru_maxrss` of `pegasus server list --json` over 10,000 servers   |
//! |                     | on the fake (200 pages of 50, about 30 MB of JSON in all), read   |
//! |                     | by the same helper; the output is checked to hold all 10,000;     |
//! |                     | again with all 10,000 in one answer of about 30 MB (a broken API) |
//! | return after SSH    | clock mode (each action 500 ms) with loopback addresses; a banner |
//! | answers             | server on 127.0.0.10 closes connections until R + T (R = spawn +  |
//! |                     | 1 s, about when the server runs), then sends `SSH-2.0-…`; figure |
//! |                     | = CLI exit − (R + T), T = 1.0, 1.25, 1.5, 1.75 s (the CLI retries |
//! |                     | every second, so these sample its phase); max of the 4 (no `ssh` |
//! |                     | on the PATH: the banner part alone)                               |
//! | return after        | a real sshd on 127.0.0.10 (tests/common/sshd.rs) whose stub       |
//! | cloud-init          | cloud-init sleeps C s and then writes the wall clock to a file;   |
//! |                     | figure = CLI exit − that moment, C = 3.0, 3.3, 3.6 s; max of 3    |
//! | SSH handshakes      | the connections sshd logged ("Connection from") during those      |
//! | while waiting       | creates, per second of step 11 (the CLI's `login.seconds`, at     |
//! |                     | least C); max of 3                                                |
//! | peak memory, login  | VmHWM of the CLI (sampled from /proc every 2 ms) in the first of  |
//! |                     | those creates; `ssh` is its own process (wait4's figure, which    |
//! |                     | counts reaped children too, is in the notes)                      |
//! | signal to exit      | SIGINT to a create in each phase: a preflight read that hangs     |
//! |                     | (`GET /server_types` delayed 60 s), `POST /servers` hanging (60 s)|
//! |                     | the action wait (actions of 60 s), the SSH wait (a listener on    |
//! |                     | 127.0.0.10 that accepts and never sends a banner); figure = when  |
//! |                     | `wait4` returns minus when the signal was sent, and the process   |
//! |                     | must have died by SIGINT; max over the phases, each 3 times       |
//! | Kamal edit          | `pegasus::kamal::edit(text, "203.0.113.10")` over every `*.yml`   |
//! |                     | of the corpus (`fixtures/corpus/kamal/`, plus the files of        |
//! |                     | `../shared/corpus/kamal/` not vendored when that folder is there),|
//! |                     | in process; thread CPU time per pass, the fastest of 10 batches   |
//! |                     | of 20 passes (after one warm-up pass), the median batch beside it |
//!
//! Why a helper for the memory: at `exec` Linux keeps the old address space's RSS high-water
//! mark in the new program's `ru_maxrss`, and with `posix_spawn`/`fork` that old address
//! space is the parent's. Spawned straight from this program (a few MiB, the fake's threads),
//! the figure would be this program's size, not the CLI's. The helper is small when it
//! spawns the CLI; its own size is printed as the floor of what can be measured.
//!
//! Exit status: 0 when every figure was measured (misses included, they are in the
//! table), 1 when a measurement could not be made, or with `--strict` when a figure misses.

#[path = "../common/banner.rs"]
mod banner;
#[path = "../common/corpus.rs"]
mod corpus;
#[path = "../common/fake.rs"]
mod fake;
#[path = "../common/sshd.rs"]
mod sshd;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const DEFAULT_BIN: &str = "target/x86_64-unknown-linux-musl/release/pegasus";
const STARTUP_RUNS: usize = 200;
const STARTUP_WARMUP: usize = 10;
const ACTION_POLLS: u32 = 4;
/// Clock mode: create_server and start_server take T/2 each, one after the other, so both
/// are done T after the POST; T starts here and grows by the step from run to run.
const OVERSHOOT_T: Duration = Duration::from_millis(3000);
const OVERSHOOT_STEP: Duration = Duration::from_millis(100);
const OVERSHOOT_RUNS: usize = 5;
const KAMAL_PASSES: u32 = 20;
const KAMAL_BATCHES: usize = 10;
/// Servers in the project for the list memory figure.
const LIST_SERVERS: usize = 10_000;
/// The SSH figure: each action takes this long (the server runs about 2× after the POST).
const SSH_ACTION: Duration = Duration::from_millis(500);
/// The banner server starts answering this long after the spawn, plus T.
const SSH_RUNNING: Duration = Duration::from_millis(1000);
const SSH_T: [u64; 4] = [1000, 1250, 1500, 1750];
/// The login figures: the stub cloud-init takes this long (ms), one create each.
const CLOUD_INIT_MS: [u64; 3] = [3000, 3300, 3600];
const NEW_HOST: &str = "203.0.113.10";
/// A create that takes longer than this is killed (the bench must not hang).
const CHILD_LIMIT: Duration = Duration::from_secs(60);
const MIB: f64 = 1024.0 * 1024.0;
/// The C library this program was built for: the Kamal figure is measured in it.
const LIBC: &str = if cfg!(target_env = "musl") {
    "musl"
} else if cfg!(target_env = "gnu") {
    "glibc"
} else {
    "other libc"
};

/// One line of the table. `ok: None` means the figure was skipped.
struct Row {
    figure: &'static str,
    measured: String,
    budget: String,
    ok: Option<bool>,
    how: String,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--wait4") => helper(&args[1..]),
        Some("--noop") => return,
        _ => {}
    }
    let strict = args.iter().any(|a| a == "--strict");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join(DEFAULT_BIN));
    let bin = std::fs::canonicalize(&bin).unwrap_or_else(|e| {
        fail(&format!(
            "{}: {e} (build it with `make static`)",
            bin.display()
        ))
    });
    let me = std::env::current_exe().unwrap_or_else(|e| fail(&format!("current_exe: {e}")));
    let began = Instant::now();
    let load_before = load_average();

    let mut notes = Vec::new();
    eprintln!("bench: start-up ({STARTUP_RUNS} runs) and size ...");
    let mut rows = vec![startup(&bin)];
    rows.extend(sizes(&bin, manifest));
    eprintln!("bench: requests and memory (one create, about 4 s) ...");
    let (requests, memory) = requests_and_memory(&bin, &me, manifest, &mut notes);
    rows.push(requests);
    eprintln!("bench: preflight round trips (a real and a dry run, answers 100 ms late) ...");
    rows.push(preflight_round_trips(&bin, manifest, &mut notes));
    eprintln!("bench: overshoot ({OVERSHOOT_RUNS} creates, about 4 s each) ...");
    rows.push(overshoot(&bin, manifest, &mut notes));
    rows.push(memory);
    eprintln!("bench: list memory ({LIST_SERVERS} servers) ...");
    rows.push(list_memory(&bin, &me, &mut notes, None));
    eprintln!("bench: list memory ({LIST_SERVERS} servers in one answer) ...");
    rows.push(list_memory(
        &bin,
        &me,
        &mut notes,
        Some(fake::PageFault::OnePage),
    ));
    eprintln!(
        "bench: return after SSH answers ({} creates, about 3 s each) ...",
        SSH_T.len()
    );
    rows.push(ssh_answers(&bin, manifest, &mut notes));
    eprintln!(
        "bench: the login and the cloud-init wait ({} creates against a real sshd, about 5 s each) ...",
        CLOUD_INIT_MS.len()
    );
    rows.extend(login(&bin, &me, manifest, &mut notes));
    eprintln!("bench: signal to exit (4 phases, 3 runs each) ...");
    rows.push(signal_to_exit(&bin, manifest, &mut notes));
    eprintln!("bench: Kamal edit ...");
    rows.push(kamal(&mut notes));
    eprintln!();

    let shown: Vec<String> = std::env::args().collect();
    println!("$ {}", shown.join(" "));
    println!("{}", machine(load_before));
    println!(
        "pegasus binary: {} ({})",
        bin.display(),
        version(&bin).unwrap_or_else(|| "version unknown".into())
    );
    println!();
    print_table(&rows);
    println!();
    for n in &notes {
        println!("* {n}");
    }
    let misses: Vec<&str> = rows
        .iter()
        .filter(|r| r.ok == Some(false))
        .map(|r| r.figure)
        .collect();
    let skipped = rows.iter().filter(|r| r.ok.is_none()).count();
    println!();
    match misses.len() {
        0 => println!(
            "All measured figures are within budget{} ({:.1} s).",
            if skipped > 0 { " (some skipped)" } else { "" },
            began.elapsed().as_secs_f64()
        ),
        n => println!(
            "{n} figure(s) miss the budget: {} ({:.1} s).",
            misses.join(", "),
            began.elapsed().as_secs_f64()
        ),
    }
    if strict && !misses.is_empty() {
        std::process::exit(1);
    }
}

fn print_table(rows: &[Row]) {
    let header = ["figure", "measured", "budget", "ok", "how"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let ok = match r.ok {
                Some(true) => "ok",
                Some(false) => "MISS",
                None => "skipped",
            };
            [
                r.figure.to_string(),
                r.measured.clone(),
                r.budget.clone(),
                ok.to_string(),
                r.how.clone(),
            ]
        })
        .collect();
    let width = |i: usize| {
        cells
            .iter()
            .map(|c| c[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..5).map(width).collect();
    let line = |c: &[String]| {
        let padded: Vec<String> = c
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s}{}", " ".repeat(w - s.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    line(&header.map(String::from));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for c in &cells {
        line(c);
    }
}

// ---------------------------------------------------------------------------
// The figures

fn startup(bin: &Path) -> Row {
    let run = || {
        let mut cmd = Command::new(bin);
        cmd.arg("--version")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let exit =
            spawn_wait(&mut cmd).unwrap_or_else(|e| fail(&format!("pegasus --version: {e}")));
        if !exit.success() {
            fail(&format!("pegasus --version failed ({})", exit.describe()));
        }
        exit.at - exit.began
    };
    for _ in 0..STARTUP_WARMUP {
        run();
    }
    let mut times: Vec<Duration> = (0..STARTUP_RUNS).map(|_| run()).collect();
    times.sort();
    let median = percentile(&times, 50);
    let p90 = percentile(&times, 90);
    Row {
        figure: "start-up",
        measured: format!("{} (p90 {}, min {})", ms(median), ms(p90), ms(times[0])),
        budget: "≤ 1 ms".into(),
        ok: Some(median <= Duration::from_millis(1)),
        how: format!(
            "median wall time of `pegasus --version`, spawn to wait4, {STARTUP_RUNS} runs"
        ),
    }
}

/// The shipped binaries (`make dist`), each with its row name.
const SHIPPED: [(&str, &str); 4] = [
    ("x86_64-unknown-linux-musl", "size x86_64 Linux"),
    ("aarch64-unknown-linux-musl", "size aarch64 Linux"),
    ("x86_64-apple-darwin", "size x86_64 macOS"),
    ("aarch64-apple-darwin", "size arm64 macOS"),
];
const SIZE_BUDGET: u64 = 2 * 1024 * 1024;

/// One row per shipped binary (skipped when not built), and one for the binary measured
/// when it is none of them.
fn sizes(bin: &Path, manifest: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut measured_is_shipped = false;
    for (triple, figure) in SHIPPED {
        let path = manifest.join("target").join(triple).join("release/pegasus");
        let canonical = std::fs::canonicalize(&path).ok();
        measured_is_shipped |= canonical.as_deref() == Some(bin);
        rows.push(match canonical {
            Some(p) => size_row(figure, &p, &format!("target/{triple}/release/pegasus")),
            None => Row {
                figure,
                measured: "not built".into(),
                budget: budget_text(),
                ok: None,
                how: format!("target/{triple}/release/pegasus (`make dist` builds it)"),
            },
        });
    }
    if !measured_is_shipped {
        rows.push(size_row("binary size", bin, "the binary given"));
    }
    rows
}

fn budget_text() -> String {
    format!("≤ 2.0 MiB ({SIZE_BUDGET} bytes)")
}

fn size_row(figure: &'static str, bin: &Path, how: &str) -> Row {
    let bytes = std::fs::metadata(bin)
        .unwrap_or_else(|e| fail(&format!("{}: {e}", bin.display())))
        .len();
    Row {
        figure,
        measured: match SIZE_BUDGET.checked_sub(bytes) {
            Some(left) => format!(
                "{:.2} MiB ({bytes} bytes, {left} under)",
                bytes as f64 / MIB
            ),
            None => format!(
                "{:.2} MiB ({bytes} bytes, {} over)",
                bytes as f64 / MIB,
                bytes - SIZE_BUDGET
            ),
        },
        budget: budget_text(),
        ok: Some(bytes <= SIZE_BUDGET),
        how: format!("file size of {how}"),
    }
}

fn requests_and_memory(
    bin: &Path,
    me: &Path,
    manifest: &Path,
    notes: &mut Vec<String>,
) -> (Row, Row) {
    let api = fake::Fake::start();
    api.set_action_polls(ACTION_POLLS);
    let project = Project::new(manifest, &api);
    let mut cmd = Command::new(me);
    cmd.arg("--wait4").arg(project.dir.path().join("rusage"));
    cmd.arg(bin);
    project.create_command(&mut cmd, &api, "bench1");
    let exit = spawn_wait(&mut cmd).unwrap_or_else(|e| fail(&format!("bench helper: {e}")));
    if !exit.success() {
        fail(&format!("bench helper failed ({})", exit.describe()));
    }
    let child = read_helper(&project.dir.path().join("rusage"), &exit);
    project.check(&child, "create with polls");

    let requests = api.requests();
    let is_poll = |r: &fake::Request| r.method == "GET" && r.path.starts_with("/v1/actions");
    let polls = requests.iter().filter(|r| is_poll(r)).count();
    let others: Vec<String> = requests
        .iter()
        .filter(|r| !is_poll(r))
        .map(|r| {
            let q = if r.query.is_empty() {
                String::new()
            } else {
                format!("?{}", r.query)
            };
            format!("{} {}{q}", r.method, r.path)
        })
        .collect();
    notes.push(format!(
        "requests per create: `{}` — the {} requests that are not polls: {}",
        project.shown_command("bench1"),
        others.len(),
        others.join(", ")
    ));
    // Keys; type, image, name, firewall and pricing read side by side (one round trip);
    // create; server. The firewall exists, as on every create but a project's first.
    let budget = 8 + polls;
    let requests_row = Row {
        figure: "requests per create",
        measured: format!("{} ({} + {polls} polls)", requests.len(), others.len()),
        budget: format!("≤ 8 + polls (= {budget})"),
        ok: Some(requests.len() <= budget),
        how: format!("key already on the fake, each action done on its {ACTION_POLLS}th poll"),
    };

    notes.push(format!(
        "peak memory: the helper reads {} KiB for a trivial child (`true`): the floor of this \
         method, a figure at it would mean \"at most this\"",
        floor_rss(me)
    ));
    let budget_kib = 8 * 1024;
    let memory_row = Row {
        figure: "peak memory",
        measured: format!(
            "{:.2} MiB ({} KiB)",
            child.maxrss_kib as f64 / 1024.0,
            child.maxrss_kib
        ),
        budget: format!("≤ 8 MiB ({budget_kib} KiB)"),
        ok: Some(child.maxrss_kib <= budget_kib),
        how: "ru_maxrss of the create above, read by wait4 in a small helper process".into(),
    };
    (requests_row, memory_row)
}

/// Round trips to the end of the preflight (SPEC §4 steps 1–7), every answer of the fake
/// 100 ms late, on a project's first create (the key is uploaded, the firewall made): for
/// a real run, until the fake reads `POST /servers`; for a dry run, until it exits.
fn preflight_round_trips(bin: &Path, manifest: &Path, notes: &mut Vec<String>) -> Row {
    const LATE: Duration = Duration::from_millis(100);
    let mut measured = Vec::new();
    for dry in [false, true] {
        let api = fake::Fake::start();
        let project = Project::fresh(manifest);
        for method in ["GET", "POST", "PUT", "DELETE"] {
            api.inject(method, "/v1", fake::Fault::Delay(LATE), 1000);
        }
        let mut cmd = Command::new(bin);
        project.create_command(&mut cmd, &api, "bench-rt");
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.env("PATH", "/nonexistent/pegasus-bench-no-ssh");
        let started = Instant::now();
        let status = cmd
            .status()
            .unwrap_or_else(|e| fail(&format!("pegasus: {e}")));
        let ended = started.elapsed();
        if !status.success() {
            fail(&format!("round trips: the create ended with {status:?}"));
        }
        let reqs = api.requests();
        let end = if dry {
            ended
        } else {
            match reqs
                .iter()
                .find(|r| r.method == "POST" && r.path == "/v1/servers")
            {
                Some(post) => post.at.saturating_duration_since(started),
                None => fail("round trips: no POST /servers"),
            }
        };
        let before: Vec<String> = reqs
            .iter()
            .take_while(|r| !(r.method == "POST" && r.path == "/v1/servers"))
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        notes.push(format!(
            "round trips, {}: {} ms to {}; the requests before it: {}",
            if dry { "dry run" } else { "real run" },
            end.as_millis(),
            if dry { "the exit" } else { "POST /servers" },
            before.join(", ")
        ));
        measured.push(end);
    }
    // Each round trip takes at least 100 ms and the CLI's own time is far less: the whole
    // 100 ms steps are the round trips.
    let rounds = |d: Duration| d.as_millis() / LATE.as_millis();
    let worst = measured
        .iter()
        .map(|d| rounds(*d))
        .max()
        .unwrap_or_default();
    Row {
        figure: "preflight round trips",
        measured: format!(
            "real run {} ({} ms), dry run {} ({} ms)",
            rounds(measured[0]),
            measured[0].as_millis(),
            rounds(measured[1]),
            measured[1].as_millis()
        ),
        budget: "≤ 3".into(),
        ok: Some(worst <= 3),
        how: "a project's first create, every answer 100 ms late: whole 100 ms steps until the fake reads POST /servers (real run) or until the exit (dry run)".into(),
    }
}

/// Peak RSS of `server list --json` over [`LIST_SERVERS`] servers (SPEC §7 bounds).
/// `fault`: `OnePage` sends all of them in one answer of about 30 MB (a hostile or
/// broken API; the real one sends at most 50 per page).
fn list_memory(
    bin: &Path,
    me: &Path,
    notes: &mut Vec<String>,
    fault: Option<fake::PageFault>,
) -> Row {
    let api = fake::Fake::start();
    api.add_servers("web", LIST_SERVERS);
    api.set_page_fault(fault);
    let one_page = fault.is_some();
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let out_path = dir.path().join("stdout");
    let out = File::create(&out_path).unwrap_or_else(|e| fail(&e.to_string()));
    let err = File::create(dir.path().join("stderr")).unwrap_or_else(|e| fail(&e.to_string()));
    let mut cmd = Command::new(me);
    cmd.arg("--wait4")
        .arg(dir.path().join("rusage"))
        .arg(bin)
        .args(["server", "list", "--json"])
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("HCLOUD_ENDPOINT", api.endpoint())
        .env("HETZNER_API_TOKEN", fake::TOKEN)
        .env_remove("HCLOUD_TOKEN")
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    let exit = spawn_wait(&mut cmd).unwrap_or_else(|e| fail(&format!("bench helper: {e}")));
    if !exit.success() {
        fail(&format!("bench helper failed ({})", exit.describe()));
    }
    let child = read_helper(&dir.path().join("rusage"), &exit);
    let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
    if !child.success() {
        fail(&format!(
            "server list: pegasus {}: {}",
            child.describe(),
            read("stderr").trim()
        ));
    }
    let listed = serde_json::from_str::<serde_json::Value>(&read("stdout"))
        .ok()
        .and_then(|v| v.as_array().map(Vec::len));
    if listed != Some(LIST_SERVERS) {
        fail(&format!(
            "server list --json listed {listed:?} servers, not {LIST_SERVERS}"
        ));
    }
    let requests = api.requests();
    let bytes = std::fs::metadata(&out_path).map_or(0, |m| m.len());
    let sizes = |r: &fake::Request| format!("{} {}?{}", r.method, r.path, r.query);
    notes.push(format!(
        "list memory{}: {} request(s) ({}), {:.1} MiB of JSON output",
        if one_page { " (one answer)" } else { "" },
        requests.len(),
        requests.first().map(sizes).unwrap_or_default(),
        bytes as f64 / MIB
    ));
    let budget_kib = 64 * 1024;
    Row {
        figure: if one_page {
            "list memory, 1 answer"
        } else {
            "list memory"
        },
        measured: format!(
            "{:.2} MiB ({} KiB)",
            child.maxrss_kib as f64 / 1024.0,
            child.maxrss_kib
        ),
        budget: format!("≤ 64 MiB ({budget_kib} KiB)"),
        ok: Some(child.maxrss_kib <= budget_kib),
        how: format!(
            "ru_maxrss of `pegasus server list --json` over {LIST_SERVERS} servers, by wait4 in the helper"
        ),
    }
}

fn overshoot(bin: &Path, manifest: &Path, notes: &mut Vec<String>) -> Row {
    let mut runs = Vec::new();
    for n in 0..OVERSHOOT_RUNS {
        // T = 3.0, 3.1, … 3.4 s: one finish per 100 ms of the CLI's 500 ms poll grid.
        let t = OVERSHOOT_T + OVERSHOOT_STEP * n as u32;
        let api = fake::Fake::start();
        api.set_action_duration(Some(t / 2));
        let project = Project::new(manifest, &api);
        let name = format!("bench{}", n + 2);
        let mut cmd = Command::new(bin);
        project.create_command(&mut cmd, &api, &name);
        let exit = spawn_wait(&mut cmd).unwrap_or_else(|e| fail(&format!("pegasus: {e}")));
        project.check(&exit, "create by the clock");
        let requests = api.requests();
        let Some(post) = requests
            .iter()
            .find(|r| r.method == "POST" && r.path == "/v1/servers")
        else {
            fail("overshoot: the fake saw no POST /v1/servers");
        };
        let done_at = post.at + t;
        // The first request at or after T is the poll that saw both actions done.
        let first_after = requests.iter().find(|r| r.at >= done_at).map(|r| r.at);
        runs.push(Overshoot {
            t,
            total: signed(exit.at, done_at),
            lag: first_after.map(|a| signed(a, done_at)),
            tail: first_after.map(|a| signed(exit.at, a)),
        });
    }
    let mut totals: Vec<f64> = runs.iter().map(|r| r.total).collect();
    totals.sort_by(f64::total_cmp);
    let median = totals[totals.len() / 2];
    let show = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{:.0}", s * 1e3));
    let each: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "T={}: {:.0} ms ({} + {})",
                secs(r.t),
                r.total * 1e3,
                show(r.lag),
                show(r.tail)
            )
        })
        .collect();
    notes.push(format!(
        "overshoot: T = the moment the fake read the head of POST /v1/servers + T, with \
         create_server taking T/2 and start_server T/2 after it (clock mode); T = {} + k·{} for \
         k = 0..{} samples the 500 ms poll grid evenly, so the median is a typical finish and the \
         max the worst; per run, CLI exit − T (= first request after T − T + exit − that \
         request): {}",
        secs(OVERSHOOT_T),
        secs(OVERSHOOT_STEP),
        OVERSHOOT_RUNS - 1,
        each.join(", ")
    ));
    Row {
        figure: "overshoot",
        measured: format!(
            "{:.0} ms (min {:.0}, max {:.0})",
            median * 1e3,
            totals[0] * 1e3,
            totals[totals.len() - 1] * 1e3
        ),
        budget: "≤ 600 ms".into(),
        ok: Some(median <= 0.6),
        how: format!(
            "CLI exit minus T (both actions done T = {}…{} after the POST), median of {OVERSHOOT_RUNS}",
            secs(OVERSHOOT_T),
            secs(OVERSHOOT_T + OVERSHOOT_STEP * (OVERSHOOT_RUNS as u32 - 1))
        ),
    }
}

fn ssh_answers(bin: &Path, manifest: &Path, notes: &mut Vec<String>) -> Row {
    let mut lags = Vec::new();
    let mut each = Vec::new();
    for (n, t) in SSH_T.iter().enumerate() {
        let t = Duration::from_millis(*t);
        let api = fake::Fake::start();
        api.set_action_duration(Some(SSH_ACTION));
        api.set_loopback_addresses(true);
        let project = Project::new(manifest, &api);
        let ssh = banner::Banner::start("127.0.0.10", banner::Mode::After(SSH_RUNNING + t));
        let Some(answers_from) = ssh.answers_from() else {
            fail("ssh: the banner server never answers");
        };
        let name = format!("bench-ssh{}", n + 1);
        let mut cmd = Command::new(bin);
        project.create_command(&mut cmd, &api, &name);
        // The banner part alone: without `ssh` the login is skipped (a banner server
        // speaks no more SSH than its first line; the login has its own figures).
        cmd.args(["--ssh-port", &ssh.port().to_string()])
            .env("PATH", "/nonexistent/pegasus-bench-no-ssh");
        let exit = spawn_wait(&mut cmd).unwrap_or_else(|e| fail(&format!("pegasus: {e}")));
        project.check(&exit, "create that waits for SSH");
        let out: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(project.dir.path().join("stdout")).unwrap_or_default(),
        )
        .unwrap_or_default();
        if out["ssh_ready"] != serde_json::Value::Bool(true) {
            fail(&format!(
                "ssh: the create did not report ssh_ready true: {out}"
            ));
        }
        // The wait must really have waited: connections were turned away before R + T.
        if ssh.connections() < 2 {
            fail(&format!(
                "ssh: only {} connection(s): the banner was there before pegasus first tried",
                ssh.connections()
            ));
        }
        let lag = signed(exit.at, answers_from);
        let tail = ssh.first_banner().map(|b| signed(exit.at, b));
        each.push(format!(
            "T={}: {:.0} ms (banner sent {} ms before exit, {} tries)",
            secs(t),
            lag * 1e3,
            tail.map_or("-".into(), |s| format!("{:.0}", s * 1e3)),
            ssh.connections()
        ));
        lags.push(lag);
    }
    lags.sort_by(f64::total_cmp);
    let max = lags[lags.len() - 1];
    notes.push(format!(
        "return after SSH answers: the banner server turns connections away (accept, close) \
         until spawn + {} + T, then sends the banner; per run, CLI exit − that moment: {}",
        secs(SSH_RUNNING),
        each.join(", ")
    ));
    Row {
        figure: "return after SSH answers",
        measured: spread_ms(&lags),
        budget: "≤ 1100 ms".into(),
        ok: Some(max <= 1.1),
        how: format!(
            "CLI exit minus the first moment SSH answers, {} creates with T = 1.0…1.75 s",
            SSH_T.len()
        ),
    }
}

/// How soon a signal ends a create, in each phase where it blocks (SPEC §8: within 0.5 s
/// wherever it is).
fn signal_to_exit(bin: &Path, manifest: &Path, notes: &mut Vec<String>) -> Row {
    const RUNS: usize = 3;
    const HANG: Duration = Duration::from_secs(60);
    let phases: [(&str, &str, &str); 4] = [
        ("preflight read", "GET", "/v1/server_types"),
        ("POST /servers", "POST", "/v1/servers"),
        ("action wait", "GET", "/v1/actions"),
        ("SSH wait", "", ""),
    ];
    let mut worst = Duration::ZERO;
    let mut each = Vec::new();
    for (phase, method, path) in phases {
        let mut times = Vec::new();
        for n in 0..RUNS {
            let api = fake::Fake::start();
            let project = Project::new(manifest, &api);
            // A listener that accepts and never says anything: the SSH wait blocks in a
            // read (its connections are kept open here until the run ends).
            let silent = std::net::TcpListener::bind("127.0.0.10:0")
                .unwrap_or_else(|e| fail(&format!("bind 127.0.0.10: {e}")));
            let port = silent
                .local_addr()
                .map(|a| a.port())
                .unwrap_or_else(|e| fail(&e.to_string()));
            let held = Arc::new(std::sync::Mutex::new(Vec::new()));
            let keep = Arc::clone(&held);
            std::thread::spawn(move || {
                for conn in silent.incoming().flatten() {
                    keep.lock().map(|mut v| v.push(conn)).ok();
                }
            });
            match phase {
                "action wait" => api.set_action_duration(Some(HANG)),
                "SSH wait" => api.set_loopback_addresses(true),
                _ => api.inject(method, path, fake::Fault::Delay(HANG), 1),
            }
            let name = format!("bench-sig{}", n + 1);
            let mut cmd = Command::new(bin);
            project.create_command(&mut cmd, &api, &name);
            cmd.args(["--ssh-port", &port.to_string()])
                .env("PATH", "/nonexistent/pegasus-bench-no-ssh");
            let mut child = cmd
                .spawn()
                .unwrap_or_else(|e| fail(&format!("pegasus: {e}")));
            // Until the run is inside the phase.
            let started = Instant::now();
            let inside = || match phase {
                "SSH wait" => held.lock().map(|v| !v.is_empty()).unwrap_or(false),
                "action wait" => api.count_prefix("GET", "/v1/actions") > 0,
                _ => api.count_prefix(method, path) > 0,
            };
            while !inside() {
                if started.elapsed() > CHILD_LIMIT {
                    let _ = child.kill();
                    fail(&format!("signal to exit: never reached the {phase}"));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            // Inside the blocking call, not at its start.
            std::thread::sleep(Duration::from_millis(100));
            let sent = Instant::now();
            // SAFETY: kill(2) on the child this bench started.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            let status = child.wait().unwrap_or_else(|e| fail(&format!("wait: {e}")));
            let took = sent.elapsed();
            use std::os::unix::process::ExitStatusExt;
            if status.signal() != Some(libc::SIGINT) {
                fail(&format!(
                    "signal to exit ({phase}): ended with {status:?}, not by SIGINT"
                ));
            }
            times.push(took);
        }
        times.sort();
        let max = times[times.len() - 1];
        worst = worst.max(max);
        each.push(format!("{phase} max {}", ms(max)));
    }
    notes.push(format!(
        "signal to exit, per phase (SIGINT sent 100 ms inside the blocking call): {}",
        each.join(", ")
    ));
    Row {
        figure: "signal to exit",
        measured: format!("max {}", ms(worst)),
        budget: "≤ 500 ms".into(),
        ok: Some(worst <= Duration::from_millis(500)),
        how: "SIGINT to a create hanging in a preflight read, the POST, the action wait and the SSH wait; wait4 minus the kill, 3 runs each".into(),
    }
}

/// The login figures: a real sshd with a stub cloud-init that takes C s and writes the
/// wall clock when it is done; the CLI's exit after that, the SSH handshakes per second of
/// waiting, and the CLI's peak memory.
fn login(bin: &Path, me: &Path, manifest: &Path, notes: &mut Vec<String>) -> Vec<Row> {
    if let Some(why) = sshd::missing() {
        fail(&format!("login: {why}"));
    }
    let mut lags = Vec::new();
    let mut rates = Vec::new();
    let mut each = Vec::new();
    let mut peak: Option<(i64, i64)> = None;
    for (n, c) in CLOUD_INIT_MS.iter().enumerate() {
        let api = fake::Fake::start();
        api.set_action_duration(Some(SSH_ACTION));
        api.set_loopback_addresses(true);
        let project = Project::new(manifest, &api);
        // A real key pair, already on the fake (the create must not upload it).
        let private = project.home.path().join(".ssh/id_ed25519");
        let line = sshd::keypair(&private, "bench@pegasus");
        api.add_ssh_key("bench-login", &line);
        let mut key = private.clone().into_os_string();
        key.push(".pub");
        let key = PathBuf::from(key);
        let done = project.dir.path().join("cloud-init-done");
        let stub = format!(
            "#!/bin/sh\ncase \"$1 $2\" in\n  \"status --wait\") sleep {:.1}; date +%s.%N > {}; echo; echo 'status: done' ;;\n  *) echo 'status: done' ;;\nesac\n",
            *c as f64 / 1000.0,
            done.display()
        );
        let mut options = sshd::Options::new("127.0.0.10", std::slice::from_ref(&line));
        options.cloud_init = Some(sshd::CloudInit::Script(stub));
        let server = sshd::Sshd::start_with(options);
        let name = format!("bench-login{}", n + 1);
        let mut cmd = Command::new(me);
        cmd.arg("--wait4")
            .arg(project.dir.path().join("rusage"))
            .arg(bin);
        project.create_command(&mut cmd, &api, &name);
        // The generated key in place of the bench's `-k` (which has no private half).
        let args: Vec<std::ffi::OsString> = cmd
            .get_args()
            .map(|a| {
                if Path::new(a) == project.key {
                    key.clone().into_os_string()
                } else {
                    a.to_owned()
                }
            })
            .collect();
        let mut cmd2 = Command::new(me);
        cmd2.args(args)
            .args(["--ssh-port", &server.port().to_string()]);
        if !sshd::is_root() {
            let config = project.dir.path().join("config/deploy.yml");
            let mut text = std::fs::read_to_string(&config).unwrap_or_default();
            text.push_str(&format!("\nssh:\n  user: {}\n", sshd::login_user()));
            std::fs::write(&config, text).unwrap_or_else(|e| fail(&e.to_string()));
            std::fs::write(project.dir.path().join("cloud.yml"), "#cloud-config\n")
                .unwrap_or_else(|e| fail(&e.to_string()));
            cmd2.args(["--user-data", "cloud.yml"]);
        }
        project.create_command_env(&mut cmd2, &api);
        let (helper, hwm) = spawn_sampling(&mut cmd2, n == 0);
        let exit = read_helper(&project.dir.path().join("rusage"), &helper);
        project.check(&exit, "create that logs in and waits for cloud-init");
        let out: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(project.dir.path().join("stdout")).unwrap_or_default(),
        )
        .unwrap_or_default();
        if out["login"]["ok"] != serde_json::Value::Bool(true)
            || out["login"]["cloud_init"] != "done"
        {
            fail(&format!("login: the create did not log in: {out}"));
        }
        let done_at: f64 = std::fs::read_to_string(&done)
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(|| fail("login: the stub cloud-init did not finish"));
        // The CLI's exit on the wall clock: now, minus how long ago wait4 returned.
        let exit_wall = SystemTime::now()
            .checked_sub(exit.at.elapsed())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0.0, |d| d.as_secs_f64());
        let lag = exit_wall - done_at;
        let waited = out["login"]["seconds"].as_u64().unwrap_or(0).max(*c / 1000);
        let conns = server.connections();
        let rate = conns as f64 / waited.max(1) as f64;
        each.push(format!(
            "C={:.1} s: exit {:.0} ms after cloud-init, {conns} connection(s) ({} login) in {waited} s",
            *c as f64 / 1000.0,
            lag * 1e3,
            server.logins()
        ));
        lags.push(lag);
        rates.push(rate);
        if let Some(hwm) = hwm {
            peak = Some((hwm, exit.maxrss_kib));
        }
    }
    lags.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    let max_lag = lags[lags.len() - 1];
    let max_rate = rates[rates.len() - 1];
    notes.push(format!(
        "login: a real sshd on 127.0.0.10, the stub cloud-init sleeps C then writes the time; {}",
        each.join("; ")
    ));
    let mut rows = vec![
        Row {
            figure: "return after cloud-init",
            measured: spread_ms(&lags),
            budget: "≤ 1100 ms".into(),
            ok: Some(max_lag <= 1.1),
            how: format!(
                "CLI exit minus the moment the stub cloud-init is done, {} creates, C = 3.0…3.6 s",
                CLOUD_INIT_MS.len()
            ),
        },
        Row {
            figure: "SSH handshakes while waiting",
            measured: format!("max {max_rate:.2} per second"),
            budget: "≤ 1 per second".into(),
            ok: Some(max_rate <= 1.0),
            how: "connections sshd logged per second of step 11 (banner check + one login)".into(),
        },
    ];
    match peak {
        Some((hwm, with_children)) => {
            notes.push(format!(
                "peak memory, login: wait4 reports {:.2} MiB for the same create; on Linux that \
                 is the larger of the CLI's peak and its reaped children's (`ssh`)",
                with_children as f64 / 1024.0
            ));
            let budget_kib = 8 * 1024;
            rows.push(Row {
                figure: "peak memory, login",
                measured: format!("{:.2} MiB ({hwm} KiB)", hwm as f64 / 1024.0),
                budget: format!("≤ 8 MiB ({budget_kib} KiB)"),
                ok: Some(hwm <= budget_kib),
                how: "VmHWM of the CLI during a create that logs in and waits (sampled every 2 ms)"
                    .into(),
            });
        }
        None => fail("login: the CLI's memory could not be sampled"),
    }
    rows
}

/// Spawn the helper (`--wait4 … pegasus …`) and, when `sample`, read the CLI's VmHWM from
/// /proc every 2 ms until it ends (the CLI is the helper's only child).
fn spawn_sampling(cmd: &mut Command, sample: bool) -> (Exit, Option<i64>) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let helper_pid = Arc::new(AtomicI32::new(0));
    let sampler = sample.then(|| {
        let stop = Arc::clone(&stop);
        let helper_pid = Arc::clone(&helper_pid);
        std::thread::spawn(move || {
            let mut max = 0i64;
            while !stop.load(Ordering::SeqCst) {
                let helper = helper_pid.load(Ordering::SeqCst);
                if helper > 0 {
                    for pid in children(helper as u32) {
                        max = max.max(vm_hwm(pid).unwrap_or(0));
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            max
        })
    });
    let exit =
        spawn_wait_noting(cmd, &helper_pid).unwrap_or_else(|e| fail(&format!("bench helper: {e}")));
    stop.store(true, Ordering::SeqCst);
    let hwm = sampler.and_then(|s| s.join().ok()).filter(|m| *m > 0);
    (exit, hwm)
}

/// The pids whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let text =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    text.split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// `VmHWM` of a process, KiB.
fn vm_hwm(pid: u32) -> Option<i64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

struct Overshoot {
    t: Duration,
    total: f64,
    lag: Option<f64>,
    tail: Option<f64>,
}

fn kamal(notes: &mut Vec<String>) -> Row {
    let vendored = corpus::vendored().len();
    let files = corpus::all();
    let source = match files.len() - vendored {
        0 => format!("{vendored} from fixtures/corpus/kamal (no ../shared/corpus/kamal)"),
        extra => format!(
            "{vendored} from fixtures/corpus/kamal and {extra} more from ../shared/corpus/kamal"
        ),
    };
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let edit = |text: &str| {
        let out = pegasus::kamal::edit(std::hint::black_box(text), NEW_HOST);
        matches!(
            std::hint::black_box(out),
            Ok(pegasus::kamal::Edit::Updated { .. })
        )
    };
    let pass = || files.iter().filter(|(_, t)| edit(t)).count();
    let updated = pass();
    // Batches of passes: the fastest batch is the editor's cost; the others were slowed
    // by whatever else ran on the machine (on a shared 2-core VM the same binary's batches
    // differ by up to 60%). The median batch is shown beside it.
    let mut batches: Vec<(Duration, Duration)> = (0..KAMAL_BATCHES)
        .map(|_| {
            let cpu0 = thread_cpu();
            let wall0 = Instant::now();
            for _ in 0..KAMAL_PASSES {
                std::hint::black_box(pass());
            }
            (
                (thread_cpu() - cpu0) / KAMAL_PASSES,
                wall0.elapsed() / KAMAL_PASSES,
            )
        })
        .collect();
    batches.sort();
    let (cpu, wall) = batches[0];
    let median = batches[batches.len() / 2].0;
    // Where the time goes: each file on its own, the same number of times.
    let mut each: Vec<(Duration, &str, usize)> = files
        .iter()
        .map(|(name, text)| {
            let c0 = thread_cpu();
            for _ in 0..KAMAL_PASSES {
                edit(text);
            }
            (
                (thread_cpu() - c0) / KAMAL_PASSES,
                name.as_str(),
                text.len(),
            )
        })
        .collect();
    each.sort_by_key(|e| std::cmp::Reverse(e.0));
    let top: Vec<String> = each
        .iter()
        .take(4)
        .map(|(d, name, len)| format!("{name} {} ({len} bytes)", ms(*d)))
        .collect();
    let per_kib = cpu.as_secs_f64() * 1e6 / (bytes as f64 / 1024.0);
    notes.push(format!(
        "Kamal edit: {} files, {bytes} bytes ({source}); {updated} give `Updated`, the rest \
         `Unchanged`/`Manual`/a parse error; per pass {} CPU, {} wall, {per_kib:.0} µs per KiB \
         (the fastest of {KAMAL_BATCHES} batches of {KAMAL_PASSES} passes after a warm-up pass; \
         median batch {} CPU, slowest {} CPU); slowest files: {}",
        files.len(),
        ms(cpu),
        ms(wall),
        ms(median),
        ms(batches[batches.len() - 1].0),
        top.join(", ")
    ));
    if LIBC != "musl" {
        notes.push(
            "Kamal edit: measured in this program, built for glibc; the shipped binary is musl, \
             whose malloc makes the editor markedly slower (`cargo run --release --target \
             x86_64-unknown-linux-musl --example bench` measures that)"
                .into(),
        );
    }
    Row {
        figure: "Kamal edit",
        measured: format!("{} CPU (median batch {})", ms(cpu), ms(median)),
        budget: "≤ 5 ms".into(),
        ok: Some(cpu <= Duration::from_millis(5)),
        how: format!(
            "edit(text, {NEW_HOST}) over all {} corpus files, thread CPU time per pass, fastest of {KAMAL_BATCHES} batches of {KAMAL_PASSES} passes, {LIBC} build",
            files.len()
        ),
    }
}

// ---------------------------------------------------------------------------
// A create against the fake

/// A throwaway HOME with the public key, and a project with a SaaS Pegasus style
/// `config/deploy.yml`, so a create does all it does for a user, Kamal edit included.
struct Project {
    home: tempfile::TempDir,
    dir: tempfile::TempDir,
    key: PathBuf,
}

impl Project {
    fn new(manifest: &Path, api: &fake::Fake) -> Project {
        let project = Project::fresh(manifest);
        api.add_ssh_key("bench", &fake::test_public_key("bench", "bench@pegasus"));
        api.add_firewall("pegasus-kamal", &[("managed-by", "pegasus")]);
        project
    }

    /// A project's first create: neither its key nor the firewall is on Hetzner yet.
    fn fresh(manifest: &Path) -> Project {
        let home = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
        let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
        let line = fake::test_public_key("bench", "bench@pegasus");
        let key = home.path().join("bench_ed25519.pub");
        std::fs::write(&key, format!("{line}\n")).unwrap_or_else(|e| fail(&e.to_string()));
        let config = dir.path().join("config/deploy.yml");
        std::fs::create_dir_all(dir.path().join("config")).unwrap_or_else(|e| fail(&e.to_string()));
        std::fs::copy(manifest.join("fixtures/pegasus/deploy.yml"), &config)
            .unwrap_or_else(|e| fail(&format!("fixtures/pegasus/deploy.yml: {e}")));
        Project { home, dir, key }
    }

    fn args<'a>(&'a self, name: &'a str) -> [&'a str; 6] {
        let key = self
            .key
            .to_str()
            .unwrap_or_else(|| fail("temp path is not UTF-8"));
        ["server", "create", name, "--json", "-k", key]
    }

    fn shown_command(&self, name: &str) -> String {
        format!("pegasus {}", self.args(name).join(" "))
    }

    /// `cmd` runs the CLI (directly or through the helper): add the create's arguments,
    /// environment and output files.
    fn create_command(&self, cmd: &mut Command, api: &fake::Fake, name: &str) {
        let out =
            File::create(self.dir.path().join("stdout")).unwrap_or_else(|e| fail(&e.to_string()));
        let err =
            File::create(self.dir.path().join("stderr")).unwrap_or_else(|e| fail(&e.to_string()));
        cmd.args(self.args(name))
            .current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env("HCLOUD_ENDPOINT", api.endpoint())
            .env("HETZNER_API_TOKEN", fake::TOKEN)
            .env_remove("HCLOUD_TOKEN")
            .env_remove("PEGASUS_TEST_POLL_MS")
            .env_remove("PEGASUS_TEST_BACKOFF_MS")
            .env_remove("PEGASUS_TEST_WAIT_LIMIT_MS")
            .env_remove("PEGASUS_TEST_SSH_RETRY_MS")
            .env_remove("PEGASUS_TEST_SSH_LIMIT_MS")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
    }

    /// The environment and output files of [`Project::create_command`], for a command
    /// whose arguments are already there.
    fn create_command_env(&self, cmd: &mut Command, api: &fake::Fake) {
        let out =
            File::create(self.dir.path().join("stdout")).unwrap_or_else(|e| fail(&e.to_string()));
        let err =
            File::create(self.dir.path().join("stderr")).unwrap_or_else(|e| fail(&e.to_string()));
        cmd.current_dir(self.dir.path())
            .env("HOME", self.home.path())
            .env("HCLOUD_ENDPOINT", api.endpoint())
            .env("HETZNER_API_TOKEN", fake::TOKEN)
            .env_remove("HCLOUD_TOKEN")
            .env_remove("PEGASUS_TEST_POLL_MS")
            .env_remove("PEGASUS_TEST_BACKOFF_MS")
            .env_remove("PEGASUS_TEST_WAIT_LIMIT_MS")
            .env_remove("PEGASUS_TEST_SSH_RETRY_MS")
            .env_remove("PEGASUS_TEST_SSH_LIMIT_MS")
            .env_remove("PEGASUS_TEST_LOCK_FILES")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
    }

    /// The create succeeded, used the key already there, and edited the config.
    fn check(&self, exit: &Exit, what: &str) {
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        if !exit.success() {
            fail(&format!(
                "{what}: pegasus {} ({}): {}",
                exit.describe(),
                what,
                read("stderr").trim()
            ));
        }
        let out: serde_json::Value = serde_json::from_str(&read("stdout")).unwrap_or_else(|e| {
            fail(&format!(
                "{what}: stdout is not JSON ({e}): {}",
                read("stdout")
            ))
        });
        if out["ssh_key"]["uploaded"] != serde_json::Value::Bool(false) {
            fail(&format!(
                "{what}: the key was uploaded although the fake had it: {out}"
            ));
        }
        if out["server"]["status"] != "running" {
            fail(&format!("{what}: the server is not running: {out}"));
        }
        let ip = out["server"]["ipv4"].as_str().unwrap_or("?");
        if !read("config/deploy.yml").contains(ip) {
            fail(&format!(
                "{what}: config/deploy.yml was not pointed at the server: {out}"
            ));
        }
    }
}

// ---------------------------------------------------------------------------
// Processes

/// How a child ended, when it was spawned and reaped, and its peak RSS.
struct Exit {
    status: i32,
    /// Just before the spawn.
    began: Instant,
    /// When `wait4` returned.
    at: Instant,
    maxrss_kib: i64,
}

impl Exit {
    fn success(&self) -> bool {
        libc::WIFEXITED(self.status) && libc::WEXITSTATUS(self.status) == 0
    }

    fn describe(&self) -> String {
        if libc::WIFEXITED(self.status) {
            format!("exit status {}", libc::WEXITSTATUS(self.status))
        } else if libc::WIFSIGNALED(self.status) {
            format!("killed by signal {}", libc::WTERMSIG(self.status))
        } else {
            format!("wait status {:#x}", self.status)
        }
    }
}

/// Spawn and reap with `wait4`, which gives the child's own rusage. A child still running
/// after [`CHILD_LIMIT`] is killed. The watchdog thread is started before the clock, and
/// sleeps through a normal run, so it costs the measured child nothing.
fn spawn_wait(cmd: &mut Command) -> std::io::Result<Exit> {
    spawn_wait_noting(cmd, &Arc::new(AtomicI32::new(0)))
}

/// [`spawn_wait`], with the child's pid stored in `pid` once it runs.
fn spawn_wait_noting(cmd: &mut Command, pid: &Arc<AtomicI32>) -> std::io::Result<Exit> {
    let pid = Arc::clone(pid);
    let (done, watch) = mpsc::channel::<()>();
    let watched = Arc::clone(&pid);
    let watchdog = std::thread::spawn(move || {
        if watch.recv_timeout(CHILD_LIMIT) == Err(mpsc::RecvTimeoutError::Timeout) {
            let pid = watched.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: plain syscall; `pid` is our child, not reaped while we wait4.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    });
    let stop = || {
        let _ = done.send(());
        let _ = watchdog.join();
    };
    let began = Instant::now();
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            stop();
            return Err(e);
        }
    };
    let id = child.id() as libc::pid_t;
    pid.store(id, Ordering::SeqCst);
    let mut status = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let result = loop {
        // SAFETY: valid pointers to locals; `id` is our child.
        let r = unsafe { libc::wait4(id, &mut status, 0, &mut usage) };
        let at = Instant::now();
        if r == id {
            break Ok(at);
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            break Err(err);
        }
    };
    stop();
    Ok(Exit {
        status,
        began,
        at: result?,
        maxrss_kib: usage.ru_maxrss,
    })
}

/// `bench --wait4 RESULT PROGRAM ARGS...`: run PROGRAM (stdio, cwd and environment
/// inherited), then write `STATUS MAXRSS_KIB` (raw wait status, `ru_maxrss`) to RESULT
/// and exit 0.
fn helper(args: &[String]) -> ! {
    let [result, program, rest @ ..] = args else {
        fail("usage: bench --wait4 RESULT PROGRAM [ARGS...]");
    };
    let exit = spawn_wait(Command::new(program).args(rest))
        .unwrap_or_else(|e| fail(&format!("{program}: {e}")));
    let line = format!("{} {}\n", exit.status, exit.maxrss_kib);
    std::fs::write(result, line).unwrap_or_else(|e| fail(&format!("{result}: {e}")));
    std::process::exit(0)
}

/// What the helper wrote, as the child's [`Exit`], with the helper's spawn and reap times.
fn read_helper(path: &Path, helper: &Exit) -> Exit {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| fail(&format!("{}: {e}", path.display())));
    let f: Vec<i64> = text
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    let [status, maxrss_kib] = f[..] else {
        fail(&format!("bench helper wrote {text:?}"));
    };
    Exit {
        status: status as i32,
        began: helper.began,
        at: helper.at,
        maxrss_kib,
    }
}

/// What the helper reads for a trivial child (`/bin/true`, else this program's `--noop`):
/// the helper's own pages count in its child's `ru_maxrss`, so this is the floor of the method.
fn floor_rss(me: &Path) -> i64 {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail(&e.to_string()));
    let result = dir.path().join("floor");
    let mut cmd = Command::new(me);
    cmd.arg("--wait4").arg(&result);
    match ["/bin/true", "/usr/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    {
        Some(t) => cmd.arg(t),
        None => cmd.arg(me).arg("--noop"),
    };
    let helper = spawn_wait(cmd.stdout(Stdio::null()).stderr(Stdio::null()))
        .unwrap_or_else(|e| fail(&format!("bench helper: {e}")));
    if !helper.success() {
        return 0;
    }
    read_helper(&result, &helper).maxrss_kib
}

/// The 1-minute load average, from `/proc/loadavg` (Linux).
fn load_average() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// The CPU count and the load before and after, so a busy machine shows in the output.
fn machine(before: Option<f64>) -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let show = |l: Option<f64>| l.map_or("?".to_string(), |l| format!("{l:.2}"));
    format!(
        "machine: {cpus} CPUs, load average {} before, {} after \
         (timings are wall clock: another busy process inflates them)",
        show(before),
        show(load_average())
    )
}

fn version(bin: &Path) -> Option<String> {
    let out = Command::new(bin).arg("--version").output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

// ---------------------------------------------------------------------------
// Small things

fn thread_cpu() -> Duration {
    // SAFETY: timespec is plain data; clock_gettime writes it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a local.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        fail("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// `a - b` in seconds, negative when `a` is earlier.
fn signed(a: Instant, b: Instant) -> f64 {
    match a.checked_duration_since(b) {
        Some(d) => d.as_secs_f64(),
        None => -(b - a).as_secs_f64(),
    }
}

/// The `pct`th percentile of sorted values (nearest rank).
fn percentile(sorted: &[Duration], pct: usize) -> Duration {
    let rank = (sorted.len() * pct).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// `max X ms (median Y, min Z)` of sorted figures in seconds.
fn spread_ms(sorted: &[f64]) -> String {
    format!(
        "max {:.0} ms (median {:.0}, min {:.0})",
        sorted[sorted.len() - 1] * 1e3,
        sorted[sorted.len() / 2] * 1e3,
        sorted[0] * 1e3
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn fail(msg: &str) -> ! {
    eprintln!("bench: {msg}");
    std::process::exit(1)
}
