//! Facts about the product that the command line and the API client both need. Below
//! both, so the client never depends on the command line.

/// The version, as `pegasus --version` prints it and the user agent sends it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The server type `server create` orders without `-t`.
pub const DEFAULT_SERVER_TYPE: &str = "cx23";
