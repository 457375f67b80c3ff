//! Placeholder while it is written.
fn main() {}
