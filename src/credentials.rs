//! The API token: where it comes from, and the saved copy in
//! `~/.pegasus/hetzner_credentials` (0600 from the first byte, replaced atomically).
//!
//! The token's text never reaches any output: [`Token`]'s `Debug` hides it, and no
//! message in this module includes it.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil;

pub const ENV_TOKEN: &str = "HETZNER_API_TOKEN";
pub const ENV_HCLOUD: &str = "HCLOUD_TOKEN";

/// Where a token came from, so a rejection can name it.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Env(&'static str),
    File(PathBuf),
    /// The hcloud CLI's context of this name (`~/.config/hcloud/cli.toml`).
    HcloudContext(String),
    Prompt,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Env(var) => write!(f, "the token in {var}"),
            Source::File(path) => write!(f, "the saved token in {}", path.display()),
            Source::HcloudContext(name) => {
                write!(
                    f,
                    "the token of hcloud context '{}'",
                    crate::ui::escape(name)
                )
            }
            Source::Prompt => write!(f, "the token you entered"),
        }
    }
}

#[derive(Clone)]
pub struct Token {
    secret: String,
    pub source: Source,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token(<hidden>, {:?})", self.source)
    }
}

impl Token {
    /// Check the text can be a token (it goes into an HTTP header) and wrap it.
    pub fn new(text: &str, source: Source) -> Result<Token> {
        let t = text.trim();
        if t.is_empty() {
            return Err(Error::Failed(format!("{source} is empty")));
        }
        if !t.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::Failed(format!(
                "{source} contains characters an API token cannot have (spaces or non-ASCII)"
            )));
        }
        Ok(Token {
            secret: t.to_string(),
            source,
        })
    }

    /// The token's text, for the Authorization header only.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// The credentials file under a home folder.
pub fn credentials_path(home: &Path) -> PathBuf {
    home.join(".pegasus").join("hetzner_credentials")
}

/// The token from the environment, if one is set (empty counts as unset).
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<Token>> {
    for var in [ENV_TOKEN, ENV_HCLOUD] {
        if let Some(v) = get(var).filter(|v| !v.trim().is_empty()) {
            return Token::new(&v, Source::Env(var)).map(Some);
        }
    }
    Ok(None)
}

/// The saved token, if the file exists and holds more than whitespace.
pub fn from_file(path: &Path) -> Result<Option<Token>> {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let first = text.lines().map(str::trim).find(|l| !l.is_empty());
            match first {
                None => Ok(None),
                Some(line) => Token::new(line, Source::File(path.to_path_buf())).map(Some),
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
    }
}

/// A warning when others may read the credentials file (it is used all the same).
pub fn loose_mode_warning(path: &Path, shown: &str) -> Option<String> {
    let mode = fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "{shown} can be read by other users (mode {:o}); using it anyway. Restrict it with: chmod 600 {shown}",
            mode & 0o777
        )
    })
}

pub const ENV_HCLOUD_CONFIG: &str = "HCLOUD_CONFIG";
pub const ENV_HCLOUD_CONTEXT: &str = "HCLOUD_CONTEXT";

/// The hcloud CLI's config file: `HCLOUD_CONFIG`, else `~/.config/hcloud/cli.toml`.
pub fn hcloud_config_path(
    get: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Option<PathBuf> {
    match get(ENV_HCLOUD_CONFIG).filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => home.map(|h| h.join(".config").join("hcloud").join("cli.toml")),
    }
}

/// What the hcloud CLI's config gave: a token, nothing, or a reason to warn.
#[derive(Debug)]
pub enum Hcloud {
    Token(Token),
    None,
    Warning(String),
}

/// The token of the hcloud CLI's active context (`HCLOUD_CONTEXT`, else the file's
/// `active_context`). A missing file is `None`; one that cannot be read, or names a
/// context it does not have, is a warning, never an error.
pub fn from_hcloud(path: &Path, context_env: Option<String>) -> Hcloud {
    let shown = path.display();
    let text = match fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Hcloud::None,
        Err(e) => {
            return Hcloud::Warning(format!(
                "cannot read the hcloud CLI's config {shown}: {}",
                crate::error::io_reason(&e)
            ));
        }
    };
    let config = hcloud_toml::read(&text);
    let active = context_env
        .filter(|c| !c.is_empty())
        .or(config.active_context);
    let Some(active) = active else {
        return Hcloud::None;
    };
    let Some((_, token)) = config.contexts.iter().find(|(n, _)| *n == active) else {
        return Hcloud::Warning(format!(
            "the hcloud context '{}' is not in {shown}",
            crate::ui::escape(&active)
        ));
    };
    match Token::new(token, Source::HcloudContext(active.clone())) {
        Ok(t) => Hcloud::Token(t),
        Err(e) => Hcloud::Warning(e.to_string()),
    }
}

/// A reader for the two things pegasus needs from the hcloud CLI's `cli.toml`: the
/// top-level `active_context` and the `name`/`token` of each `[[contexts]]` entry.
/// Everything else (other tables, other keys, comments) is skipped. Not a TOML parser.
mod hcloud_toml {
    #[derive(Debug, Default, PartialEq)]
    pub struct Config {
        pub active_context: Option<String>,
        /// `(name, token)` of each context that has both.
        pub contexts: Vec<(String, String)>,
    }

    pub fn read(text: &str) -> Config {
        #[derive(PartialEq)]
        enum Section {
            Top,
            Context,
            Other,
        }
        let mut config = Config::default();
        let mut section = Section::Top;
        let mut current: Option<(Option<String>, Option<String>)> = None;
        let finish = |c: &mut Option<(Option<String>, Option<String>)>, out: &mut Config| {
            if let Some((Some(n), Some(t))) = c.take() {
                out.contexts.push((n, t));
            }
        };
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with('[') {
                finish(&mut current, &mut config);
                let header: String = line.chars().filter(|c| !c.is_whitespace()).collect();
                section = if header.starts_with("[[contexts]]") {
                    current = Some((None, None));
                    Section::Context
                } else {
                    Section::Other
                };
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().trim_matches('"');
            let Some(value) = string_value(value.trim()) else {
                continue;
            };
            match (&section, key) {
                (Section::Top, "active_context") => config.active_context = Some(value),
                (Section::Context, "name") => {
                    if let Some(c) = current.as_mut() {
                        c.0 = Some(value);
                    }
                }
                (Section::Context, "token") => {
                    if let Some(c) = current.as_mut() {
                        c.1 = Some(value);
                    }
                }
                _ => {}
            }
        }
        finish(&mut current, &mut config);
        config
    }

    /// A basic (`"..."`, with `\"` and `\\` escapes) or literal (`'...'`) TOML string.
    fn string_value(v: &str) -> Option<String> {
        let mut chars = v.chars();
        match chars.next()? {
            '\'' => {
                let rest = chars.as_str();
                rest.find('\'').map(|end| rest[..end].to_string())
            }
            '"' => {
                let mut out = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => return Some(out),
                        '\\' => match chars.next()? {
                            'n' => out.push('\n'),
                            't' => out.push('\t'),
                            other => out.push(other),
                        },
                        c => out.push(c),
                    }
                }
                None
            }
            _ => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn reads_active_context_and_contexts_only() {
            let text = r#"
# hcloud CLI config
active_context = "shop"

[preferences]
  name = "not a context"
  token = "nope"

[[contexts]]
  name = "blog"
  token = 'blogtoken'

[[contexts]]
  name = "shop"   # the shop
  token = "shop\"token"
  [contexts.preferences]
    debug = true
"#;
            let c = read(text);
            assert_eq!(c.active_context.as_deref(), Some("shop"));
            assert_eq!(
                c.contexts,
                vec![
                    ("blog".to_string(), "blogtoken".to_string()),
                    ("shop".to_string(), "shop\"token".to_string())
                ]
            );
            assert_eq!(read("garbage [[\n= =\n"), Config::default());
        }
    }
}

/// Save the token (and a newline): `~/.pegasus` 0700 (tightened if looser), the file
/// 0600 from its first byte, replaced atomically.
pub fn save(path: &Path, token: &Token) -> Result<()> {
    if let Some(dir) = path.parent() {
        match fs::metadata(dir) {
            Ok(meta) => {
                if meta.permissions().mode() & 0o077 != 0 {
                    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| {
                        Error::io(format!("cannot restrict {} to mode 0700", dir.display()), e)
                    })?;
                }
            }
            Err(_) => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
            }
        }
    }
    let content = format!("{}\n", token.secret());
    fsutil::write_atomic(path, content.as_bytes(), Some(0o600))
        .map_err(|e| Error::io(format!("cannot save the token to {}", path.display()), e))
}

pub const HOW_TO_GET_A_TOKEN: &str = "\
pegasus needs a Hetzner Cloud API token. To create one:
  1. Open https://console.hetzner.cloud and choose your project.
  2. Go to Security → API Tokens → Generate API token.
  3. Give it Read & Write permission and copy it.
(Or set HETZNER_API_TOKEN and run again.)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_order_and_empty_values() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let t = from_env(&env(&[(ENV_TOKEN, "aaa"), (ENV_HCLOUD, "bbb")]))
            .unwrap()
            .unwrap();
        assert_eq!((t.secret(), &t.source), ("aaa", &Source::Env(ENV_TOKEN)));
        let t = from_env(&env(&[(ENV_TOKEN, "  "), (ENV_HCLOUD, "bbb\n")]))
            .unwrap()
            .unwrap();
        assert_eq!((t.secret(), &t.source), ("bbb", &Source::Env(ENV_HCLOUD)));
        assert!(from_env(&env(&[])).unwrap().is_none());
        let e = from_env(&env(&[(ENV_TOKEN, "a b")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("HETZNER_API_TOKEN") && !e.contains("a b"), "{e}");
    }

    #[test]
    fn hcloud_context_choice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cli.toml");
        assert!(matches!(from_hcloud(&path, None), Hcloud::None));
        fs::write(
            &path,
            "active_context = \"a\"\n[[contexts]]\nname = \"a\"\ntoken = \"ta\"\n[[contexts]]\nname = \"b\"\ntoken = \"tb\"\n",
        )
        .unwrap();
        let Hcloud::Token(t) = from_hcloud(&path, None) else {
            panic!("no token")
        };
        assert_eq!(
            (t.secret(), &t.source),
            ("ta", &Source::HcloudContext("a".into()))
        );
        let Hcloud::Token(t) = from_hcloud(&path, Some("b".into())) else {
            panic!("no token")
        };
        assert_eq!(t.secret(), "tb");
        let Hcloud::Warning(w) = from_hcloud(&path, Some("zz".into())) else {
            panic!("no warning")
        };
        assert!(w.contains("'zz' is not in"), "{w}");
        assert_eq!(
            Source::HcloudContext("shop".into()).to_string(),
            "the token of hcloud context 'shop'"
        );
    }

    #[test]
    fn loose_file_mode_warns_with_chmod() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, "x\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(loose_mode_warning(&path, "~/f"), None);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let w = loose_mode_warning(&path, "~/f").unwrap();
        assert!(w.ends_with("chmod 600 ~/f"), "{w}");
    }

    #[test]
    fn debug_hides_the_token() {
        let t = Token::new("s3cr3t-token", Source::Prompt).unwrap();
        assert!(!format!("{t:?}").contains("s3cr3t"));
    }

    #[test]
    fn save_then_read_back_with_modes() {
        let home = tempfile::tempdir().unwrap();
        let path = credentials_path(home.path());
        let t = Token::new("tok123", Source::Prompt).unwrap();
        save(&path, &t).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "tok123\n");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let back = from_file(&path).unwrap().unwrap();
        assert_eq!(back.secret(), "tok123");
        assert_eq!(back.source, Source::File(path.clone()));
    }

    #[test]
    fn loose_folder_is_tightened_and_whitespace_file_is_missing() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".pegasus");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let path = credentials_path(home.path());
        fs::write(&path, " \n\t\n").unwrap();
        assert!(from_file(&path).unwrap().is_none());
        save(&path, &Token::new("x", Source::Prompt).unwrap()).unwrap();
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
}
