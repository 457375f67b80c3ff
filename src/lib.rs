//! pegasus: provision a Hetzner Cloud server for Kamal and point the Kamal config at it.
//!
//! Data flows one way: arguments (`cli`) → plan (local checks) → API calls (`hetzner`)
//! → output (`ui`) → Kamal edit (`kamal`). `main.rs` only maps the result to an exit code.

pub mod cli;
pub mod error;
pub mod kamal;
