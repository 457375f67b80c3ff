//! Everything SSH, in one room: the public key (find, read, fingerprint), the banner
//! wait, and `~/.ssh/known_hosts`. The orchestration of step 11 stays in
//! `commands/create/ssh.rs`; these pieces print nothing.

pub mod banner;
pub mod keys;
pub mod known_hosts;
