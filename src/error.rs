//! The one error type of the program, its message and its exit code.
//!
//! Every failure a user can meet ends here as one or two plain sentences. Nothing in
//! this file ever prints a token: no variant carries one.

use std::fmt;
use std::io;

use crate::text::Untrusted;

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
    /// The Hetzner API answered with an error (boxed: it is the largest variant, and
    /// every `Result` carrying an `Error` is as large as its largest variant).
    Api(Box<ApiError>),
    /// The request never got an answer: DNS, refused connection, TLS, timeout, proxy.
    Network(String),
    /// A local file operation failed.
    Io { what: String, err: io::Error },
    /// Any other failure, already phrased for the user.
    Failed(String),
    /// SIGINT, SIGTERM or SIGHUP arrived (exit 128 + signal). Before the server exists,
    /// `kept` names what this run made already (an uploaded key, a firewall), in words.
    Interrupted { signal: i32, kept: Vec<String> },
    /// An error after `POST /servers` was sent, with what is known about the server and
    /// the two ways on (SPEC §4). The create orchestrator adds it once, like cargo's
    /// `anyhow::Context`; the steps return plain errors.
    Server {
        facts: Box<ServerFacts>,
        err: Box<Error>,
    },
}

/// What is known about a server that exists, or may exist, when a step failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServerFacts {
    pub name: Untrusted,
    /// `None`: the create got no clear answer and the look-up failed too, so the server
    /// may or may not exist.
    pub id: Option<u64>,
    /// IPv4, else IPv6.
    pub address: Option<std::net::IpAddr>,
    /// The API's word for its state.
    pub status: Option<Untrusted>,
    /// What this run did already, in words ("config/deploy.yml points at it").
    pub done: Vec<String>,
    /// The two ways on, shell-quoted, repeating this run's options (SPEC §4); filled in
    /// by the create orchestrator, which knows them.
    pub ways: Option<Ways>,
}

/// The commands that continue or undo a run, as printed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ways {
    /// The command that picks the server up; `None` where it cannot help (a server whose
    /// create failed).
    pub pick_up: Option<String>,
    pub remove: String,
    /// What the remove command does besides (the config it edits back).
    pub remove_note: Option<String>,
}

/// Hetzner's error envelope `{"error": {"code", "message", "details"}}`, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    /// Hetzner's error code (`uniqueness_error`, ...); `None` when the body was not JSON.
    pub code: Option<Untrusted>,
    /// Hetzner's message, or the start of a non-JSON body.
    pub message: Untrusted,
    /// Per-field messages of an `invalid_input` error, already joined (`name: must be ...`).
    pub fields: Vec<Untrusted>,
}

impl ApiError {
    /// The code as sent, for comparisons (`""` when there was none).
    pub fn code(&self) -> &str {
        self.code.as_ref().map_or("", Untrusted::raw)
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } | Error::Invalid(_) => EXIT_USAGE,
            Error::Interrupted { signal, .. } => 128 + signal,
            Error::Server { err, .. } => err.exit_code(),
            _ => EXIT_FAILED,
        }
    }

    /// The signal that ended the run, when it was one.
    pub fn signal(&self) -> Option<i32> {
        match self {
            Error::Interrupted { signal, .. } => Some(*signal),
            Error::Server { err, .. } => err.signal(),
            _ => None,
        }
    }

    pub fn io(what: impl Into<String>, err: io::Error) -> Error {
        Error::Io {
            what: what.into(),
            err,
        }
    }

    /// This error, with the facts about the server it happened to (the error itself
    /// when it already has them).
    pub fn about_server(self, facts: ServerFacts) -> Error {
        match self {
            Error::Server { .. } => self,
            err => Error::Server {
                facts: Box::new(facts),
                err: Box::new(err),
            },
        }
    }

    /// The ways on, for facts that do not have them yet (the orchestrator knows them;
    /// the step that found the facts may not).
    pub fn with_ways(mut self, ways: &Ways) -> Error {
        if let Error::Server { facts, .. } = &mut self {
            facts.ways.get_or_insert_with(|| ways.clone());
        }
        self
    }

    /// The message without the server's facts (for the `error` field of JSON output,
    /// which carries the facts in `server`).
    pub fn message(&self) -> String {
        match self {
            Error::Server { err, .. } => match &**err {
                Error::Interrupted { signal, .. } => {
                    format!("Interrupted by {}", signal_name(*signal))
                }
                other => other.to_string(),
            },
            other => other.to_string(),
        }
    }

    pub fn usage(msg: impl Into<String>, help: &'static str) -> Error {
        Error::Usage {
            msg: msg.into(),
            help,
        }
    }
}

/// Shown with every API-given text escaped (SPEC §8): a message, a code, a field
/// message or the start of a non-JSON body can never move the cursor or fake a line.
impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = Untrusted::new(self.message.raw().trim_end_matches('.'));
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
            Error::Interrupted { kept, .. } => match kept.as_slice() {
                [] => f.write_str("Interrupted; nothing was created"),
                [one] => write!(
                    f,
                    "Interrupted; no server was created. Kept: {one}; a re-run uses it"
                ),
                many => write!(
                    f,
                    "Interrupted; no server was created. Kept: {}; a re-run uses them",
                    many.join(", ")
                ),
            },
            Error::Server { facts, .. } => write!(f, "{}\n{facts}", self.message()),
        }
    }
}

impl fmt::Display for ServerFacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        let plain = Ways {
            pick_up: Some(format!("pegasus server create {name}")),
            remove: format!("pegasus server destroy {name}"),
            remove_note: None,
        };
        let ways = self.ways.as_ref().unwrap_or(&plain);
        let Some(id) = self.id else {
            write!(
                f,
                "The server {name} may have been created: the create request got no clear answer. \
                 Check with `pegasus server list` (or in the Hetzner console), then:"
            )?;
            return write_ways(f, ways);
        };
        let mut known = format!("id {id}");
        if let Some(a) = &self.address {
            known.push_str(&format!(", {a}"));
        }
        if let Some(s) = &self.status {
            known.push_str(&format!(", status {s}"));
        }
        write!(f, "The server {name} exists ({known}).")?;
        if !self.done.is_empty() {
            write!(f, "\nDone so far: {}.", self.done.join("; "))?;
        }
        write_ways(f, ways)
    }
}

fn write_ways(f: &mut fmt::Formatter<'_>, ways: &Ways) -> fmt::Result {
    if let Some(p) = &ways.pick_up {
        write!(f, "\n  pick it up:  {p}")?;
    }
    write!(f, "\n  remove it:   {}", ways.remove)?;
    if let Some(note) = &ways.remove_note {
        write!(f, "\n  ({note})")?;
    }
    Ok(())
}

/// A signal's name, for messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "a signal",
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
        let e = Error::Api(Box::new(ApiError {
            status: 422,
            code: Some("invalid_input".into()),
            message: "invalid input in field 'name'".into(),
            fields: vec!["name: Name must be a valid hostname.".into()],
        }));
        assert_eq!(
            e.to_string(),
            "Hetzner API: invalid input in field 'name' (invalid_input, HTTP 422)\n  - name: Name must be a valid hostname."
        );
    }

    #[test]
    fn server_facts_follow_the_error_and_keep_its_exit_code() {
        let facts = ServerFacts {
            name: "web1".into(),
            id: Some(42),
            address: Some("203.0.113.10".parse().unwrap()),
            status: Some("initializing".into()),
            ..ServerFacts::default()
        };
        let e = Error::Network("the connection dropped".into()).about_server(facts.clone());
        assert_eq!(e.exit_code(), 1);
        assert_eq!(
            e.to_string(),
            "the connection dropped\nThe server web1 exists (id 42, 203.0.113.10, status initializing).\n  \
             pick it up:  pegasus server create web1\n  remove it:   pegasus server destroy web1"
        );
        // Added once: a second wrap keeps the first.
        let again = e.about_server(ServerFacts::default());
        assert!(again.to_string().contains("id 42"));
        let e = Error::Interrupted {
            signal: 15,
            kept: Vec::new(),
        }
        .about_server(facts);
        assert_eq!(e.exit_code(), 143);
        assert!(
            e.to_string()
                .starts_with("Interrupted by SIGTERM\nThe server web1 exists")
        );
        let unknown = ServerFacts {
            name: "web1".into(),
            ..ServerFacts::default()
        };
        let e = Error::Network("x".into()).about_server(unknown);
        assert!(e.to_string().contains("may have been created"), "{e}");
        assert!(e.to_string().contains("pegasus server list"), "{e}");
    }

    #[test]
    fn interrupted_before_the_create() {
        let e = Error::Interrupted {
            signal: 2,
            kept: Vec::new(),
        };
        assert_eq!(e.exit_code(), 130);
        assert_eq!(e.to_string(), "Interrupted; nothing was created");
    }

    #[test]
    fn api_text_is_escaped() {
        let e = Error::Api(Box::new(ApiError {
            status: 422,
            code: Some("bad\x1b[2J".into()),
            message: "evil\x1b]0;title\x07\nerror: fake line".into(),
            fields: vec!["name: \x1b[31mred".into()],
        }));
        let shown = e.to_string();
        assert!(
            !shown.contains('\x1b') && !shown.contains('\x07'),
            "{shown:?}"
        );
        assert_eq!(shown.lines().count(), 2, "{shown:?}");
        assert!(
            shown.contains("evil\\x1b]0;title\\x07\\nerror: fake line"),
            "{shown}"
        );
        let plain = Error::Api(Box::new(ApiError {
            status: 502,
            code: None,
            message: "<html>\x1b[2J</html>".into(),
            fields: vec![],
        }));
        assert_eq!(
            plain.to_string(),
            "Hetzner API answered HTTP 502: <html>\\x1b[2J</html>"
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
