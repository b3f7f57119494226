//! The client registry in Workers KV, one key per client (`client:{client_id}`).

use worker::KvStore;

use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;
use crate::memory::{client_key, decode_record};
use crate::platform::{ClientPage, ClientStore};

const CLIENT_PREFIX: &str = "client:";

/// Clients in Workers KV, one key per client (`client:{client_id}`).
pub struct KvClients(pub KvStore);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("KV: {e}"))
}

impl ClientStore for KvClients {
    async fn get(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error> {
        let key = client_key(id);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        text.map(|t| decode_record(&key, &t)).transpose()
    }

    async fn put(&self, client: &ClientRecord) -> Result<(), Error> {
        let json = serde_json::to_string(client).map_err(|e| Error::Internal(e.to_string()))?;
        let key = client_key(&client.client.client_id);
        self.0
            .put(&key, json)
            .map_err(unavailable)?
            .execute()
            .await
            .map_err(unavailable)
    }

    async fn delete(&self, id: &ClientId) -> Result<(), Error> {
        self.0.delete(&client_key(id)).await.map_err(unavailable)
    }

    async fn list(&self, cursor: Option<&str>, limit: usize) -> Result<ClientPage, Error> {
        let mut list = self
            .0
            .list()
            .prefix(CLIENT_PREFIX.into())
            .limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c.into());
        }
        let listed = list.execute().await.map_err(unavailable)?;
        let names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
        let mut values = if names.is_empty() {
            Default::default()
        } else {
            self.0.get_bulk(&names).text().await.map_err(unavailable)?
        };
        let mut clients = Vec::with_capacity(names.len());
        for name in names {
            // A key deleted between list and read is skipped, not an error.
            if let Some(Some(json)) = values.remove(name) {
                clients.push(decode_record(name, &json)?);
            }
        }
        Ok(ClientPage {
            clients,
            next_cursor: (!listed.list_complete).then_some(listed.cursor).flatten(),
        })
    }
}
