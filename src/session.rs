//! From "no token yet" to a working API client (SPEC §4 step 4–5): the token from the
//! environment, the saved file or a prompt, proven by the command's first API call.

use std::path::{Path, PathBuf};

use crate::credentials::{self, Source, Token};
use crate::error::{Error, Result};
use crate::hetzner::Client;
use crate::http::{Endpoint, Http, Timing};
use crate::ui::Ui;

const TRIES: u32 = 3;

/// The home folder (SPEC §3): `$HOME`, else (unset or empty) the password database's
/// entry for the user, as `home::home_dir()` finds it; `None` when neither gives one.
pub fn home_dir() -> Option<PathBuf> {
    home::home_dir().filter(|h| !h.as_os_str().is_empty())
}

pub fn no_home(what: &str) -> Error {
    Error::Failed(format!(
        "HOME is not set (nor is a home folder in the password database for this user), \
         so pegasus cannot find {what}"
    ))
}

/// A client with a token Hetzner accepted, the answer of `first` (the call that proved
/// it), and where the token came from. A rejected environment token is an error naming the variable; a rejected
/// saved token leads to the prompt; a typed token is saved once accepted.
pub fn connect<'a, T>(
    ui: &'a Ui,
    endpoint: &Endpoint,
    home: Option<&Path>,
    first: &dyn Fn(&Client) -> Result<T>,
) -> Result<(Client<'a>, T, Source)> {
    connect_with(ui, endpoint, home, first, Save::Yes)
}

/// Whether a token typed at the prompt is saved once Hetzner accepted it (not in a dry
/// run, which writes nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Save {
    Yes,
    No,
}

/// [`connect`], saying whether a prompted token is saved.
pub fn connect_with<'a, T>(
    ui: &'a Ui,
    endpoint: &Endpoint,
    home: Option<&Path>,
    first: &dyn Fn(&Client) -> Result<T>,
    save: Save,
) -> Result<(Client<'a>, T, Source)> {
    let mut answer = None;
    let (client, source) = connect_once(
        ui,
        endpoint,
        home,
        &mut |client| {
            answer = Some(first(client)?);
            Ok(())
        },
        save,
    )?;
    // `connect_once` returns a client only once `first` has succeeded with it.
    let answer = answer.ok_or_else(|| Error::Failed("the first API call gave no answer".into()))?;
    Ok((client, answer, source))
}

/// [`connect_with`] compiled once, whatever the first call answers: `first` keeps its
/// answer itself.
fn connect_once<'a>(
    ui: &'a Ui,
    endpoint: &Endpoint,
    home: Option<&Path>,
    first: &mut dyn FnMut(&Client) -> Result<()>,
    save: Save,
) -> Result<(Client<'a>, Source)> {
    let env = |k: &str| std::env::var(k).ok();
    if let Some(token) = credentials::from_env(&env)? {
        return match attempt(ui, endpoint, &token, first)? {
            Some(c) => Ok((c, token.source)),
            None => {
                // Point at the saved token only when there is one.
                let saved = home
                    .map(credentials::credentials_path)
                    .and_then(|p| credentials::from_file(&p).ok().flatten());
                let hint = match saved {
                    Some(_) => "check it, or unset it to use the saved token",
                    None => "check it in the console (Security → API Tokens)",
                };
                Err(Error::Failed(format!(
                    "{} was rejected by Hetzner (unauthorized); {hint}",
                    token.source
                )))
            }
        };
    }
    let Some(home) = home else {
        return Err(no_home(
            "a saved API token; set HETZNER_API_TOKEN, or set HOME",
        ));
    };
    let path = credentials::credentials_path(home);
    let mut rejected = None;
    if let Some(token) = credentials::from_file(&path)? {
        if let Some(w) = credentials::loose_mode_warning(&path, &tilde(&path, home)) {
            ui.warn(&w);
        }
        if let Some(c) = attempt(ui, endpoint, &token, first)? {
            return Ok((c, token.source));
        }
        rejected = Some(token.source);
    }
    if rejected.is_none() {
        // The hcloud CLI's active context, when nothing of our own gave a token.
        let config = credentials::hcloud_config_path(&env, Some(home));
        let found = match config {
            Some(p) => credentials::from_hcloud(&p, env(credentials::ENV_HCLOUD_CONTEXT)),
            None => credentials::Hcloud::None,
        };
        match found {
            credentials::Hcloud::Token(token) => {
                if let credentials::Source::HcloudContext(name) = &token.source {
                    ui.note(&format!(
                        "Using the token of hcloud context '{}'",
                        crate::ui::escape(name)
                    ));
                }
                if let Some(c) = attempt(ui, endpoint, &token, first)? {
                    return Ok((c, token.source));
                }
                rejected = Some(token.source);
            }
            credentials::Hcloud::Warning(w) => ui.warn(&w),
            credentials::Hcloud::None => {}
        }
    }
    match rejected {
        Some(source) => ui.warn(&format!(
            "{source} was rejected by Hetzner (unauthorized); enter a new one"
        )),
        None => ui.note(credentials::HOW_TO_GET_A_TOKEN),
    }
    for n in 1..=TRIES {
        let Some(answer) = ui.ask_secret("Hetzner API token: ")? else {
            return Err(Error::Failed(format!(
                "no API token given (stdin ended); set {} to run without a prompt",
                credentials::ENV_TOKEN
            )));
        };
        let token = match Token::new(&answer, Source::Prompt) {
            Ok(t) => t,
            Err(e) => {
                ui.warn(&e.to_string());
                continue;
            }
        };
        if let Some(c) = attempt(ui, endpoint, &token, first)? {
            if save == Save::No {
                ui.note("The token works (not saved: a dry run writes nothing)");
                return Ok((c, Source::Prompt));
            }
            credentials::save(&path, &token)?;
            ui.note(&format!("Saved the token to {}", tilde(&path, home)));
            return Ok((c, Source::File(path)));
        }
        if n < TRIES {
            ui.warn("Hetzner rejected that token (unauthorized); try again");
        }
    }
    Err(Error::Failed(format!(
        "Hetzner rejected {TRIES} tokens; nothing was changed. Check the token in the console \
         (Security → API Tokens) or set {}",
        credentials::ENV_TOKEN
    )))
}

/// `Some` if the token works, `None` if Hetzner says it is not valid.
fn attempt<'a>(
    ui: &'a Ui,
    endpoint: &Endpoint,
    token: &Token,
    first: &mut dyn FnMut(&Client) -> Result<()>,
) -> Result<Option<Client<'a>>> {
    let http = Http::new(
        endpoint.clone(),
        token.secret().to_string(),
        Timing::for_endpoint(endpoint),
        ui,
    )?;
    let client = Client::new(http);
    match first(&client) {
        Ok(()) => Ok(Some(client)),
        Err(Error::Api(api))
            if api.code() == "unauthorized"
                || (api.status == 401 && api.code() != "token_readonly") =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Whether a token is at hand without asking: the environment, the credentials file or
/// the hcloud CLI's active context (whether Hetzner accepts it is another matter).
pub fn token_known(home: Option<&Path>) -> bool {
    let env = |k: &str| std::env::var(k).ok();
    if matches!(credentials::from_env(&env), Ok(Some(_))) {
        return true;
    }
    let Some(home) = home else {
        return false;
    };
    if matches!(
        credentials::from_file(&credentials::credentials_path(home)),
        Ok(Some(_))
    ) {
        return true;
    }
    credentials::hcloud_config_path(&env, Some(home)).is_some_and(|p| {
        matches!(
            credentials::from_hcloud(&p, env(credentials::ENV_HCLOUD_CONTEXT)),
            credentials::Hcloud::Token(_)
        )
    })
}

/// Explain an API error that is about the token's permission.
pub fn explain_readonly(err: Error, source: &Source) -> Error {
    match &err {
        Error::Api(api) if api.code() == "token_readonly" => Error::Failed(format!(
            "{source} is read-only: Hetzner refused to change anything (token_readonly). \
             Create a token with Read & Write permission (console → Security → API Tokens) \
             and use it instead"
        )),
        Error::Api(api) if api.code() == "forbidden" || api.status == 403 => {
            Error::Failed(format!(
                "{source} may not do this: Hetzner answered forbidden ({}). A token with \
                 Read & Write permission is needed (console → Security → API Tokens)",
                crate::text::Untrusted::new(api.message.raw().trim_end_matches('.'))
            ))
        }
        _ => err,
    }
}

/// `~/.ssh/x` for paths under the home folder, for messages.
pub fn tilde(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(rest) => format!("~/{}", rest.display()),
        Err(_) => path.display().to_string(),
    }
}
