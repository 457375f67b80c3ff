//! What the client tells the screen while it waits. Defined below both: the HTTP layer
//! calls it, `ui` implements it, and neither depends on the other.

use std::time::Duration;

/// Told about waits, so the user sees why nothing seems to happen. `Sync`: the client
/// is shared by threads that read side by side.
pub trait Observer: Sync {
    /// A request failed in a way worth another try; the next try comes after `wait`.
    fn retrying(&self, reason: &str, wait: Duration);
}
