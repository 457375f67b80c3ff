//! SSH keys: the project's keys and the upload.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Client, Listed, decode};
use crate::error::{Error, Result};
use crate::http::{Failure, Method};
use crate::text::Untrusted;

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SshKey {
    pub id: u64,
    pub name: Untrusted,
    pub public_key: Untrusted,
}

impl Listed for SshKey {
    fn id(&self) -> u64 {
        self.id
    }
}

impl Client<'_> {
    pub fn list_ssh_keys(&self) -> Result<Vec<SshKey>> {
        self.get_all("/ssh_keys", "ssh_keys")
    }

    /// Upload a key; the key and whether this call made it. After a failure without a
    /// clear answer, or when Hetzner says the key already exists, the key list is read
    /// again and the key found there is used: made by this call when the answer was
    /// lost, by someone else when Hetzner said it exists (a race: `false`).
    pub fn create_ssh_key(
        &self,
        name: &str,
        public_key: &str,
        same_key: &dyn Fn(&SshKey) -> bool,
    ) -> Result<(SshKey, bool)> {
        #[derive(Deserialize)]
        struct Answer {
            ssh_key: SshKey,
        }
        /// The body, its fields in alphabetical order as before.
        #[derive(Serialize)]
        struct NewKey<'a> {
            labels: BTreeMap<String, String>,
            name: &'a str,
            public_key: &'a str,
        }
        let mut labels = BTreeMap::new();
        labels.insert("managed-by".to_string(), "pegasus".to_string());
        let new = NewKey {
            labels,
            name,
            public_key,
        };
        let body = serde_json::to_string(&new).map_err(|e| Error::Failed(e.to_string()))?;
        let failure = match self.http.execute(Method::Post, "/ssh_keys", Some(&body)) {
            Ok(text) => return Ok((decode::<Answer>(&text)?.ssh_key, true)),
            Err(f) => f,
        };
        let maybe_made = match &failure {
            Failure::Unclear(_) => true,
            Failure::Clear(Error::Api(api)) => api.code() == "uniqueness_error",
            Failure::Clear(_) => false,
        };
        if maybe_made {
            if let Some(key) = self.list_ssh_keys()?.into_iter().find(|k| same_key(k)) {
                let ours = matches!(failure, Failure::Unclear(_));
                return Ok((key, ours));
            }
        }
        Err(failure.into_error())
    }
}
