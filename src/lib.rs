//! pegasus: provision a Hetzner Cloud server for Kamal and point the Kamal config at it.
//!
//! Data flows one way: arguments (`cli`) → plan (local checks and the preflight in
//! `commands`) → API calls (`hetzner` over `http`) → the steps on the server (`ssh`, the
//! Kamal edit in `deploy_file` over the pure `kamal`) → output (`ui`). `process` holds
//! signals, the interruptible wait and outside programs; `text` the one type for text
//! shown as it came; `sort` the program's one sort (SPEC §1, size). `main.rs` only maps
//! the result to an exit code.

pub mod cli;
pub mod commands;
pub mod completions;
pub mod credentials;
pub mod defaults;
pub mod deploy_file;
pub mod error;
pub mod fsutil;
pub mod hetzner;
pub mod http;
pub mod kamal;
pub mod observer;
pub mod process;
pub mod session;
pub mod sort;
pub mod ssh;
pub mod text;
pub mod timefmt;
pub mod tls;
pub mod ui;

/// musl's own allocator is slow for the YAML parser's many small allocations (see
/// Cargo.toml). Set here, in the library, so `make bench` measures what ships.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Parse the arguments, run the command, and return the exit code.
pub fn main_exit_code() -> i32 {
    let ui = ui::Ui::from_env();
    let result = cli::parse_env().and_then(|cmd| commands::run(cmd, &ui));
    match result {
        Ok(()) => 0,
        Err(err) => {
            ui.error(&err);
            // Interrupted: the last words are out; end by the signal itself, so the shell
            // sees a death by SIGINT and a `for` loop stops (SPEC §8).
            if let Some(signal) = err.signal() {
                drop(ui);
                process::signals::die_by(signal);
            }
            err.exit_code()
        }
    }
}
