//! The two commands printed when a `create` fails after `POST /servers` (SPEC §4, the
//! recovery facts): the one that picks the run up and the one that removes the server,
//! each shell-quoted so that, pasted into a shell as printed, it touches the same files
//! as the run that printed it.
//!
//! Pure: the caller passes what only it knows (the Kamal file the run used, the current
//! folder, whether DNS records were written).
//!
//! **Paths** are rendered so that the command works from the folder the user ran pegasus
//! in, which is where they will paste it: a path the user typed (`-c`, `-k`,
//! `--user-data`) is repeated as typed — a relative one stays relative to the current
//! folder, an absolute one stays absolute. The Kamal file pegasus found by searching
//! upward is named relative to the current folder (`../config/deploy.yml`) when the
//! caller passes that folder, else as passed. A relative path that starts with `-`
//! gets `./` in front, so it cannot read as an option.
//!
//! **Quoting** is [`crate::text::shell`]'s: a pasted line means the same in `sh`, bash, zsh
//! and fish, and never carries a raw escape sequence.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::table::{self, CreateKey, DestroyKey, Row};
use super::{CreateArgs, DEFAULT_SSH_TIMEOUT, FirewallChoice, KamalArgs};
use crate::kamal::Mode;
use crate::text::shell::shell_line;

/// `pegasus server create NAME …` repeating every option of this run that changes what a
/// run does (SPEC §4), one line, shell-quoted.
///
/// `used`: the Kamal config this run read, as `deploy_file::locate` found it — with
/// `-d`, the destination file (`config/deploy.staging.yml`); `None` when no file was
/// found or with `--no-kamal`. `cwd`: the current folder, to name a found file
/// relative to it.
pub fn pick_up_command(args: &CreateArgs, used: Option<&Path>, cwd: Option<&Path>) -> String {
    shell_line(&pick_up_words(args, used, cwd))
}

/// `pegasus server destroy NAME` with this run's `-c`, `-d` or `--no-kamal`, plus
/// `--dns` when records were written (SPEC §4); `used` and `cwd` as for
/// [`pick_up_command`].
pub fn destroy_command(
    args: &CreateArgs,
    used: Option<&Path>,
    cwd: Option<&Path>,
    dns_written: bool,
) -> String {
    shell_line(&destroy_words(args, used, cwd, dns_written))
}

/// The words of [`pick_up_command`], unquoted. The options come in the table's order;
/// every option of `create` is decided on here (the match has no catch-all arm), so a
/// new option must say whether a pick-up repeats it.
pub fn pick_up_words(args: &CreateArgs, used: Option<&Path>, cwd: Option<&Path>) -> Vec<OsString> {
    use CreateKey as K;
    let mut w: Vec<OsString> = ["pegasus", "server", "create", args.name.as_str()]
        .into_iter()
        .map(OsString::from)
        .collect();
    for row in table::CREATE_ROWS {
        let flag = spelled(row);
        let mut with = |value: OsString| {
            w.push(flag.clone());
            w.push(value);
        };
        match row.key {
            K::ServerType if args.explicit.server_type => with(args.server_type.clone().into()),
            K::Image if args.explicit.image => with(args.image.clone().into()),
            K::Location if args.explicit.location => with(args.location.clone().into()),
            K::ServerType | K::Image | K::Location => {}
            K::SshKey => args.ssh_key.iter().for_each(|k| with(path_word(k))),
            K::Label => {
                for (k, v) in &args.labels {
                    with(format!("{k}={v}").into());
                }
            }
            K::Firewall => {
                if let FirewallChoice::Named(name) = &args.firewall {
                    with(name.into());
                }
            }
            K::NoFirewall if args.firewall == FirewallChoice::None => w.push(flag),
            K::NoFirewall => {}
            K::UserData => args.user_data.iter().for_each(|f| with(path_word(f))),
            K::SshPort => args
                .ssh_port
                .iter()
                .for_each(|p| with(p.to_string().into())),
            K::SshTimeout if args.ssh_timeout != DEFAULT_SSH_TIMEOUT => {
                with(args.ssh_timeout.to_string().into())
            }
            K::SshTimeout => {}
            K::ConfigFile => config_flag(&args.kamal, used, cwd)
                .iter()
                .for_each(|c| with(path_word(c))),
            K::Destination => args.kamal.destination.iter().for_each(|d| with(d.into())),
            K::Append if args.mode == Some(Mode::Append) => w.push(flag),
            K::Replace if args.mode == Some(Mode::Replace) => w.push(flag),
            K::Append | K::Replace => {}
            K::Role => args.role.iter().for_each(|r| with(r.into())),
            K::Dns if args.dns => w.push(flag),
            K::Yes if args.yes => w.push(flag),
            K::NoKamal if args.kamal.no_kamal => w.push(flag),
            K::Json if args.json => w.push(flag),
            K::Dns | K::Yes | K::NoKamal | K::Json => {}
            // A dry run creates nothing, so nothing is left to pick up after one.
            K::DryRun | K::Help => {}
        }
    }
    w
}

/// The words of [`destroy_command`], unquoted. Never `--yes`: removing a server is
/// confirmed by the user.
pub fn destroy_words(
    args: &CreateArgs,
    used: Option<&Path>,
    cwd: Option<&Path>,
    dns_written: bool,
) -> Vec<OsString> {
    use DestroyKey as K;
    let mut w: Vec<OsString> = ["pegasus", "server", "destroy", args.name.as_str()]
        .into_iter()
        .map(OsString::from)
        .collect();
    for row in table::DESTROY_ROWS {
        let flag = spelled(row);
        match row.key {
            K::ConfigFile => {
                if let Some(c) = config_flag(&args.kamal, used, cwd) {
                    w.extend([flag, path_word(&c)]);
                }
            }
            K::Destination => {
                if let Some(d) = &args.kamal.destination {
                    w.extend([flag, d.into()]);
                }
            }
            K::NoKamal if args.kamal.no_kamal => w.push(flag),
            // `--dns` excludes `--no-kamal`: a run without Kamal wrote no records.
            K::Dns if dns_written && !args.kamal.no_kamal => w.push(flag),
            K::NoKamal | K::Dns | K::Yes | K::Json | K::Help => {}
        }
    }
    w
}

/// How a row is written in a printed command: the short form when there is one (`-c`).
fn spelled<K>(row: &Row<K>) -> OsString {
    match row.short {
        Some(c) => format!("-{c}").into(),
        None => format!("--{}", row.long).into(),
    }
}

/// The path for `-c`: the one the user gave, else the file found by searching — with
/// `-d`, the `deploy.yml` beside the destination file, since `-c` names the file `-d`
/// derives `deploy.DEST.yml` from (Kamal's convention; a search only ever finds
/// `config/deploy.DEST.yml`).
fn config_flag(k: &KamalArgs, used: Option<&Path>, cwd: Option<&Path>) -> Option<PathBuf> {
    if k.no_kamal {
        return None;
    }
    if let Some(c) = &k.config_file {
        return Some(c.clone());
    }
    let used = used?;
    let base = match &k.destination {
        Some(_) => used.with_file_name("deploy.yml"),
        None => used.to_path_buf(),
    };
    Some(match cwd {
        Some(cwd) => relative_to(cwd, &base).unwrap_or(base),
        None => base,
    })
}

/// `path` as seen from `dir`, when both are absolute, plain (no `.` or `..`) and share
/// more than the root: `/p/config/deploy.yml` from `/p/app` is `../config/deploy.yml`.
pub fn relative_to(dir: &Path, path: &Path) -> Option<PathBuf> {
    let plain = |p: &Path| {
        p.is_absolute()
            && p.components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
    };
    if !plain(dir) || !plain(path) {
        return None;
    }
    let d: Vec<Component> = dir.components().collect();
    let p: Vec<Component> = path.components().collect();
    let common = d.iter().zip(&p).take_while(|(a, b)| a == b).count();
    if common < 2 {
        return None;
    }
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        return None;
    }
    Some(out)
}

/// A path as a word: a relative one that starts with `-` gets `./`.
fn path_word(p: &Path) -> OsString {
    if p.is_relative() && p.as_os_str().as_encoded_bytes().first() == Some(&b'-') {
        Path::new(".").join(p).into_os_string()
    } else {
        p.as_os_str().to_owned()
    }
}
