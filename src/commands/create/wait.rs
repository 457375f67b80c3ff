//! Step 8: wait until the server runs.

use super::super::step_words;
use crate::error::{Error, Result};
use crate::hetzner::{self, Client, Server, ServerStatus, Waited};
use crate::text::Untrusted;
use crate::ui::Ui;

/// How step 8 ended, when the API answered.
pub enum Running {
    Server(Box<Server>),
    /// An action failed: the server exists in a failed state (the message says so). A
    /// pick-up cannot help; only a destroy can.
    Failed(Error),
}

/// Step 8: wait for the create and start actions (or, after a recovered create, for the
/// server's status), tell `running` when they are done, then fetch the server.
pub fn until_running(
    client: &Client,
    created: &hetzner::Created,
    name: &str,
    ui: &Ui,
    running: &mut dyn FnMut(),
) -> Result<Running> {
    let title = format!("Server {name}");
    let mut progress =
        |step: &Untrusted, pct: Option<u32>| ui.progress(&title, &step_words(step), pct);
    let id = created.server.id;
    if created.recovered {
        ui.note(&format!(
            "The create request got no clear answer, but server {name} (id {id}) exists; carrying on with it"
        ));
    }
    let status = &created.server.status;
    let waited = if created.actions.is_empty() && *status == ServerStatus::Running {
        Waited::Done
    } else if created.actions.is_empty()
        && !matches!(status, ServerStatus::Initializing | ServerStatus::Starting)
    {
        // A picked-up server that nothing is starting: waiting would only time out.
        return Err(Error::Failed(format!(
            "server {name} is {status} and no action is running on it; start it in the Hetzner \
             console, or remove it"
        )));
    } else if created.actions.is_empty() {
        client.wait_for_running(id, &mut progress)?
    } else {
        let ids: Vec<u64> = created.actions.iter().map(|a| a.id).collect();
        client.wait_for_actions(&ids, &mut progress)?
    };
    match waited {
        Waited::Done => {
            ui.progress_done(&title, "running");
            running();
        }
        Waited::Failed(why) => {
            ui.progress_done(&title, "failed");
            return Ok(Running::Failed(Error::Failed(format!(
                "{why}. The server {name} exists in a failed state"
            ))));
        }
        Waited::TimedOut => {
            ui.progress_done(&title, "still not running");
            let limit = client.http().timing.wait_limit.as_secs();
            let waited = match limit {
                0..60 => format!("{limit} seconds"),
                _ => format!("{} minutes", limit / 60),
            };
            return Err(Error::Failed(format!(
                "gave up waiting after {waited}; the server may still be starting: look at it with \
                 `pegasus server list` or in the Hetzner console"
            )));
        }
    }
    let server = client.get_server(id)?.ok_or_else(|| {
        Error::Failed(format!(
            "server {name} (id {id}) disappeared right after it was created"
        ))
    })?;
    Ok(Running::Server(Box::new(server)))
}
