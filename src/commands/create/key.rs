//! The SSH key: chosen locally (step 2), found on Hetzner or uploaded (steps 5 and 7).

use std::path::Path;

use crate::cli::CreateArgs;
use crate::error::{Error, Result};
use crate::hetzner::{Client, SshKey};
use crate::session::{self, tilde};
use crate::ssh_keys::{self, PublicKey};
use crate::ui::Ui;

const KEY_TRIES: u32 = 3;

/// Step 2: the key from `--ssh-key`, the only key in `~/.ssh`, or the user's choice.
pub fn choose(args: &CreateArgs, home: Option<&Path>, ui: &Ui) -> Result<PublicKey> {
    if let Some(path) = &args.ssh_key {
        let key = ssh_keys::load_named(path)?;
        ui.note(&format!("Using SSH key {}", path.display()));
        return Ok(key);
    }
    let home = home.ok_or_else(|| {
        session::no_home("~/.ssh; pass the public key with --ssh-key PATH, or set HOME")
    })?;
    let ssh_dir = home.join(".ssh");
    let keys = ssh_keys::scan(&ssh_dir)?;
    let shown = |k: &PublicKey| tilde(&k.path, home);
    match keys.len() {
        0 => Err(Error::Failed(format!(
            "no SSH public key found in {}. Create one with:\n  ssh-keygen -t ed25519\n\
             then run this again (or pass one with --ssh-key PATH)",
            tilde(&ssh_dir, home)
        ))),
        1 => {
            let key = keys
                .into_iter()
                .next()
                .ok_or_else(|| Error::Failed("no key".into()))?;
            ui.note(&format!("Using SSH key {}", shown(&key)));
            Ok(key)
        }
        n => {
            let mut list = String::from("Several SSH keys found:");
            for (i, k) in keys.iter().enumerate() {
                let comment = k.comment.as_deref().unwrap_or("");
                list.push_str(&format!(
                    "\n  {}) {}  {} {comment}",
                    i + 1,
                    shown(k),
                    k.kind
                ));
            }
            ui.note(&list);
            for _ in 0..KEY_TRIES {
                let Some(answer) =
                    ui.ask(&format!("Which key should the server trust? [1-{n}]: "))?
                else {
                    return Err(Error::Failed(
                        "no SSH key chosen (stdin ended); pass --ssh-key PATH to choose one without a prompt".into(),
                    ));
                };
                match answer.trim().parse::<usize>() {
                    Ok(i) if (1..=n).contains(&i) => {
                        let key = keys[i - 1].clone();
                        ui.note(&format!("Using SSH key {}", shown(&key)));
                        return Ok(key);
                    }
                    _ => ui.warn(&format!("please answer with a number from 1 to {n}")),
                }
            }
            Err(Error::Failed(format!(
                "no valid choice after {KEY_TRIES} tries; pass --ssh-key PATH to choose the key"
            )))
        }
    }
}

/// Step 5 and 7: the key already on Hetzner (same type and blob), or uploaded now under
/// the file's stem (first free of `stem`, `stem-2`, ...).
pub fn find_or_upload(
    client: &Client,
    key: &PublicKey,
    keys: &[SshKey],
    ui: &Ui,
) -> Result<(SshKey, bool)> {
    if let Some(found) = keys.iter().find(|k| key.matches(&k.public_key)) {
        ui.note(&format!("The key is on Hetzner as '{}'", found.name));
        return Ok((found.clone(), false));
    }
    let taken: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    let name = ssh_keys::free_name(&key.stem(), &taken);
    ui.note(&format!("Uploading the key to Hetzner as '{name}'"));
    let same = |k: &SshKey| key.matches(&k.public_key);
    let uploaded = client.create_ssh_key(&name, &key.line(), &same)?;
    Ok((uploaded, true))
}
