//! The SSH key: chosen locally (step 2), found on Hetzner or uploaded (steps 5 and 7).

use std::path::{Path, PathBuf};

use crate::cli::CreateArgs;
use crate::credentials::Source;
use crate::error::{Error, Result};
use crate::hetzner::{Client, SshKey};
use crate::http::Endpoint;
use crate::session::{self, tilde};
use crate::ssh::keys::{self as ssh_keys, HalfError, PublicKey};
use crate::ui::{Ui, escape};

const KEY_TRIES: u32 = 3;

/// Steps 2, 4 and 5: the key (local), and a client whose token the project's key list
/// proved. With several keys to choose from and a token known without asking, the key
/// list comes first, so the choice can mark the keys already on Hetzner (SPEC §4 step 2);
/// when the token still has to be asked for, the key is chosen first, without marks.
///
/// Kamal's `ssh.keys` (`kamal_keys`, resolved) decides the key when the config sets it.
pub fn choose_and_connect<'a>(
    args: &CreateArgs,
    home: Option<&Path>,
    endpoint: &Endpoint,
    kamal_keys: &[PathBuf],
    ui: &'a Ui,
) -> Result<(PublicKey, Connected<'a>)> {
    let save = match args.dry_run {
        true => session::Save::No,
        false => session::Save::Yes,
    };
    let connect = || session::connect_with(ui, endpoint, home, &|c| c.list_ssh_keys(), save);
    if !kamal_keys.is_empty() {
        let key = kamal_key(args, home, kamal_keys, ui)?;
        return Ok((key, connect()?));
    }
    let keys = match local_keys(args, home, ui)? {
        Local::One(key) => return Ok((key, connect()?)),
        Local::Several(keys) => keys,
    };
    if session::token_known(home) {
        let connected = connect()?;
        let key = choose(&keys, Some(&connected.1), home, ui)?;
        return Ok((key, connected));
    }
    let key = choose(&keys, None, home, ui)?;
    Ok((key, connect()?))
}

/// A client, the project's SSH keys (the call that proved the token), and where the
/// token came from.
pub type Connected<'a> = (Client<'a>, Vec<SshKey>, Source);

enum Local {
    One(PublicKey),
    Several(Vec<PublicKey>),
}

/// Step 2 with Kamal's `ssh.keys`: the public half of its first key (`KEY.pub`, or from
/// `ssh-keygen -y`), with no prompt. `-k` given as well must be the public half of one of
/// the keys (else exit 2: Kamal would log in with another key).
fn kamal_key(
    args: &CreateArgs,
    home: Option<&Path>,
    keys: &[PathBuf],
    ui: &Ui,
) -> Result<PublicKey> {
    let shown = |p: &Path| match home {
        Some(h) => tilde(p, h),
        None => p.display().to_string(),
    };
    if let Some(path) = &args.ssh_key {
        let given = ssh_keys::load_named(path)?;
        for k in keys {
            if let Ok(half) = ssh_keys::public_half(k)? {
                if half.same_key(&given) {
                    ui.note(&format!(
                        "Using SSH key {} (the public half of {}, one of Kamal's ssh.keys)",
                        path.display(),
                        escape(&shown(k))
                    ));
                    return Ok(given);
                }
            }
        }
        let names: Vec<String> = keys
            .iter()
            .map(|k| escape(&shown(k)).into_owned())
            .collect();
        return Err(Error::Invalid(format!(
            "--ssh-key {} is not the public half of any of Kamal's ssh.keys ({}): Kamal would log in \
             with another key. Drop -k (pegasus then uses the first of ssh.keys), or add the key's \
             private half to ssh.keys",
            path.display(),
            names.join(", ")
        )));
    }
    let first = &keys[0];
    let name = escape(&shown(first)).into_owned();
    let quoted = super::ssh::shell_path(first, home);
    match ssh_keys::public_half(first)? {
        Ok(key) => {
            let how = if key.path == *first {
                format!("the public half of {name}, from ssh-keygen -y")
            } else {
                escape(&shown(&key.path)).into_owned()
            };
            ui.note(&format!("Using SSH key {how} (Kamal's ssh.keys)"));
            Ok(key)
        }
        Err(HalfError::Missing) => Err(Error::Failed(format!(
            "Kamal's ssh.keys names {name} first, and there is no such file: Kamal could not log in \
             with it. Fix ssh.keys in the Kamal config, or make the key (`ssh-keygen -t ed25519 -f {quoted}`)"
        ))),
        Err(HalfError::Underivable(why)) => Err(Error::Failed(format!(
            "Kamal's ssh.keys names {name} first; there is no {name}.pub beside it, and its public half \
             could not be had ({}). Write it with:\n  ssh-keygen -y -f {quoted} > {quoted}.pub\nthen run this again",
            escape(&why)
        ))),
    }
}

/// Step 2, the local part: `--ssh-key`, the only key in `~/.ssh`, or the keys to choose from.
fn local_keys(args: &CreateArgs, home: Option<&Path>, ui: &Ui) -> Result<Local> {
    if let Some(path) = &args.ssh_key {
        let key = ssh_keys::load_named(path)?;
        ui.note(&format!("Using SSH key {}", path.display()));
        return Ok(Local::One(key));
    }
    let home = home.ok_or_else(|| {
        session::no_home("~/.ssh; pass the public key with --ssh-key PATH, or set HOME")
    })?;
    let ssh_dir = home.join(".ssh");
    let mut keys = ssh_keys::scan(&ssh_dir)?;
    match keys.len() {
        0 => Err(Error::Failed(format!(
            "no SSH public key found in {}. Create one with:\n  ssh-keygen -t ed25519\n\
             then run this again (or pass one with --ssh-key PATH)",
            tilde(&ssh_dir, home)
        ))),
        1 => {
            let key = keys.remove(0);
            ui.note(&format!("Using SSH key {}", tilde(&key.path, home)));
            Ok(Local::One(key))
        }
        _ => Ok(Local::Several(keys)),
    }
}

/// The numbered choice among several keys; `id_ed25519.pub` (else the first) is the
/// default that Enter picks. With the project's keys known, those already on Hetzner
/// are marked.
fn choose(
    keys: &[PublicKey],
    on_hetzner: Option<&[SshKey]>,
    home: Option<&Path>,
    ui: &Ui,
) -> Result<PublicKey> {
    let shown = |k: &PublicKey| match home {
        Some(h) => tilde(&k.path, h),
        None => k.path.display().to_string(),
    };
    let n = keys.len();
    let default = keys
        .iter()
        .position(|k| k.path.file_name().is_some_and(|f| f == "id_ed25519.pub"))
        .unwrap_or(0);
    let mut list = String::from("Several SSH keys found:");
    for (i, k) in keys.iter().enumerate() {
        let comment = k.comment.as_deref().map(escape).unwrap_or_default();
        let mark = on_hetzner
            .and_then(|hk| hk.iter().find(|h| k.matches(h.public_key.raw())))
            .map(|h| format!("  (on Hetzner as '{}')", h.name))
            .unwrap_or_default();
        list.push_str(&format!(
            "\n  {}) {}  {} {comment}{mark}",
            i + 1,
            escape(&shown(k)),
            escape(&k.kind)
        ));
    }
    ui.note(&list);
    for _ in 0..KEY_TRIES {
        let question = format!(
            "Which key should the server trust? [1-{n}, Enter for {}]: ",
            default + 1
        );
        let Some(answer) = ui.ask(&question)? else {
            return Err(Error::Failed(
                "no SSH key chosen (stdin ended); pass --ssh-key PATH to choose one without a prompt".into(),
            ));
        };
        let answer = answer.trim();
        let pick = if answer.is_empty() {
            Some(default + 1)
        } else {
            answer.parse::<usize>().ok()
        };
        match pick {
            Some(i) if (1..=n).contains(&i) => {
                let key = keys[i - 1].clone();
                ui.note(&format!("Using SSH key {}", shown(&key)));
                return Ok(key);
            }
            _ => ui.warn(&format!(
                "please answer with a number from 1 to {n} (Enter picks {})",
                default + 1
            )),
        }
    }
    Err(Error::Failed(format!(
        "no valid choice after {KEY_TRIES} tries; pass --ssh-key PATH to choose the key"
    )))
}

/// Step 5 and 7: the key already on Hetzner (same type and blob), or uploaded now under
/// the file's stem (first free of `stem`, `stem-2`, ...).
pub fn find_or_upload(
    client: &Client,
    key: &PublicKey,
    keys: &[SshKey],
    ui: &Ui,
) -> Result<(SshKey, bool)> {
    if let Some(found) = keys.iter().find(|k| key.matches(k.public_key.raw())) {
        ui.note(&format!("The key is on Hetzner as '{}'", found.name));
        return Ok((found.clone(), false));
    }
    let taken: Vec<&str> = keys.iter().map(|k| k.name.raw()).collect();
    let name = ssh_keys::free_name(&key.stem(), &taken);
    ui.note(&format!(
        "Uploading the key to Hetzner as '{}'",
        escape(&name)
    ));
    let same = |k: &SshKey| key.matches(k.public_key.raw());
    // `false` when Hetzner said the key exists and someone else's upload is reused.
    // Interrupted once the POST is out: the key counts as made (SPEC §4 step 7).
    client
        .create_ssh_key(&name, &key.line(), &same)
        .map_err(|e| match e {
            Error::Interrupted { signal, .. } => Error::Interrupted {
                signal,
                kept: vec![format!("SSH key {}", escape(&name))],
            },
            other => other,
        })
}
