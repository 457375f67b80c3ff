//! The one error type of the program, its message and its exit code.
//!
//! Every failure a user can meet ends here as one or two plain sentences. Nothing in
//! this file ever prints a token: no variant carries one.

use std::fmt;
use std::io;

/// Exit code for a usage error (bad arguments, invalid name, missing file named by a flag).
pub const EXIT_USAGE: i32 = 2;
/// Exit code for everything else that failed.
pub const EXIT_FAILED: i32 = 1;

#[derive(Debug)]
pub enum Error {
    /// Bad command line: what is wrong, and which `--help` to point at.
    Usage { msg: String, help: &'static str },
    /// Input that is well-formed on the command line but not acceptable (exit 2):
    /// an invalid name or label, a `--ssh-key` file that is not a public key, a missing
    /// config file named by a flag, a malformed `HCLOUD_ENDPOINT`.
    Invalid(String),
    /// The Hetzner API answered with an error.
    Api(ApiError),
    /// The request never got an answer: DNS, refused connection, TLS, timeout, proxy.
    Network(String),
    /// A local file operation failed.
    Io { what: String, err: io::Error },
    /// Any other failure, already phrased for the user.
    Failed(String),
}

/// Hetzner's error envelope `{"error": {"code", "message", "details"}}`, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// Hetzner's error code (`uniqueness_error`, ...); `None` when the body was not JSON.
    pub code: Option<String>,
    /// Hetzner's message, or the start of a non-JSON body.
    pub message: String,
    /// Per-field messages of an `invalid_input` error, already joined (`name: must be ...`).
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Invalid(_) => EXIT_USAGE,
            _ => EXIT_FAILED,
        }
    }

    pub fn io(what: impl Into<String>, err: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            err,
        }
    }

    pub fn usage(msg: impl Into<String>, help: &'static str) -> Error {
        Error::Usage {
            msg: msg.into(),
            help,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = self.message.trim_end_matches('.');
        match &self.code {
            Some(code) => write!(f, "Hetzner API: {message} ({code}, HTTP {})", self.status)?,
            None if message.is_empty() => write!(f, "Hetzner API answered HTTP {}", self.status)?,
            None => write!(f, "Hetzner API answered HTTP {}: {message}", self.status)?,
        }
        for field in &self.fields {
            write!(f, "\n  - {field}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage { msg, help } => write!(f, "{msg}\nRun '{help}' for usage."),
            Error::Invalid(msg) | Error::Network(msg) | Error::Failed(msg) => f.write_str(msg),
            Error::Api(e) => e.fmt(f),
            Error::Io { what, err } => write!(f, "{what}: {}", io_reason(err)),
        }
    }
}

/// An `io::Error` in words, without the `(os error N)` suffix.
pub fn io_reason(err: &io::Error) -> String {
    let text = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::AlreadyExists => "already exists".to_string(),
        _ => err.to_string(),
    };
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes() {
        assert_eq!(Error::usage("x", "pegasus --help").exit_code(), 2);
        assert_eq!(Error::Invalid("x".into()).exit_code(), 2);
        assert_eq!(Error::Failed("x".into()).exit_code(), 1);
        assert_eq!(Error::Network("x".into()).exit_code(), 1);
    }

    #[test]
    fn api_error_shows_message_and_code() {
        let e = Error::Api(ApiError {
            status: 422,
            code: Some("invalid_input".into()),
            message: "invalid input in field 'name'".into(),
            fields: vec!["name: Name must be a valid hostname.".into()],
        });
        assert_eq!(
            e.to_string(),
            "Hetzner API: invalid input in field 'name' (invalid_input, HTTP 422)\n  - name: Name must be a valid hostname."
        );
    }

    #[test]
    fn io_error_has_no_os_error_suffix() {
        let e = Error::io(
            "cannot read /x",
            io::Error::from_raw_os_error(13), // EACCES
        );
        assert_eq!(e.to_string(), "cannot read /x: permission denied");
    }
}
