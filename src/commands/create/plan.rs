//! What steps 1–6 decided (SPEC §4), as one named value the later steps read: the local
//! checks ([`Local`], before any request) and what the API said in the preflight
//! ([`CreatePlan`]). No step after the preflight decides anything it could have known
//! before the first write.

use std::path::PathBuf;

use super::{dns, firewall, kamal, preflight, price, ssh, user_data};
use crate::cli::CreateArgs;
use crate::credentials::Source;
use crate::deploy_file;
use crate::error::Result;
use crate::hetzner::{Client, Server, SshKey};
use crate::http::Endpoint;
use crate::kamal::ProjectServer;
use crate::session;
use crate::ssh::keys::PublicKey;
use crate::ui::Ui;

/// Steps 1 and 3 (and what step 2 needs), checked before any request.
pub struct Local {
    pub endpoint: Endpoint,
    pub home: Option<PathBuf>,
    /// The Kamal config as first read.
    pub kamal: deploy_file::Plan,
    /// `--user-data`, read and checked.
    pub user_data: Option<String>,
    /// How Kamal gets in: its `ssh` section (user, port, keys, jump host).
    pub ssh: ssh::Access,
    /// The proxy host names (the zones come in the preflight).
    pub dns: dns::Plan,
}

impl Local {
    /// Everything that can be checked without the API.
    pub fn read(args: &CreateArgs, ui: &Ui) -> Result<Local> {
        let endpoint = Endpoint::from_env()?;
        let home = session::home_dir();
        let kamal = kamal::plan(args, ui)?;
        let user_data = user_data::load(args.user_data.as_deref())?;
        let ssh = ssh::access(args, &kamal, home.as_deref(), ui);
        let dns = dns::plan(args, &kamal)?;
        Ok(Local {
            endpoint,
            home,
            kamal,
            user_data,
            ssh,
            dns,
        })
    }
}

/// Steps 1–6: the local plan, the key, and what the preflight found. The create (step 7)
/// and every step after it work from this.
pub struct CreatePlan {
    pub kamal: deploy_file::Plan,
    pub user_data: Option<String>,
    pub ssh: ssh::Access,
    /// The proxy host names and, with `--dns`, their zones.
    pub dns: dns::Plan,
    /// The public key the server will trust.
    pub key: PublicKey,
    /// The project's SSH keys (step 5).
    pub keys: Vec<SshKey>,
    /// Where the token came from (for a read-only token's message).
    pub source: Source,
    /// The project's servers, when the Kamal mode depends on them (SPEC §6).
    pub project: Vec<ProjectServer>,
    /// The firewall: found, to be made, or none.
    pub firewall: firewall::Plan,
    /// A server named NAME that pegasus made: picked up instead of created.
    pub existing: Option<Server>,
    /// The server type as read and `GET /pricing`: what the server costs.
    pub priced: price::Priced,
}

impl CreatePlan {
    /// Step 6 on top of the local plan and the key: the independent reads side by side.
    pub fn preflight(
        client: &Client,
        args: &CreateArgs,
        local: Local,
        (key, keys, source): (PublicKey, Vec<SshKey>, Source),
        ui: &Ui,
    ) -> Result<CreatePlan> {
        let found = preflight::run(client, args, &local, ui)?;
        // Kamal's rules on the planned edit, now that the project's servers decided the
        // mode, before anything is uploaded or created.
        let mut kamal = local.kamal;
        kamal::preflight(&mut kamal, &found.project, found.existing.as_ref())?;
        let mut dns = local.dns;
        dns.targets = found.zones;
        // DNS follows the Kamal plan; live records are asked about now (SPEC §10).
        dns.follow = dns::follow(args, &kamal, &found.project, found.existing.as_ref())?;
        dns::warnings(&dns).iter().for_each(|w| ui.warn(w));
        dns::consent(&dns::live(&dns, found.existing.as_ref()), args, ui)?;
        Ok(CreatePlan {
            kamal,
            user_data: local.user_data,
            ssh: local.ssh,
            dns,
            key,
            keys,
            source,
            project: found.project,
            firewall: found.firewall,
            existing: found.existing,
            priced: found.priced,
        })
    }

    /// The project's key that is this key, if Hetzner has it.
    pub fn key_on_hetzner(&self) -> Option<&SshKey> {
        self.keys
            .iter()
            .find(|k| self.key.matches(k.public_key.raw()))
    }
}
