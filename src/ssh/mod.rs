//! Everything SSH, in one room: the public key (find, read, fingerprint), the banner
//! wait, `~/.ssh/known_hosts`, and the login as Kamal will (the system `ssh`, the script it
//! runs on the server). The orchestration of step 11 stays in
//! `commands/create/ssh.rs`; these pieces print nothing.

pub mod banner;
pub mod keys;
pub mod known_hosts;
pub mod login;
