//! The registry in Workers KV: clients (`client:{client_id}`), resources, the audit trail and
//! activity counters; key layouts are documented in the core modules that define them.

use serde::de::DeserializeOwned;
use worker::KvStore;

use crate::activity::{usage_key, usage_prefix, used_key, used_prefix, USAGE_TTL_SECS};
use crate::audit::{client_event_key, event_key, prefix, AuditEvent};
use crate::clients::{ClientId, ClientRecord};
use crate::error::Error;
use crate::memory::{client_key, decode, decode_record, encode};
use crate::platform::{
    ActivityStore, AuditLog, AuditPage, ClientPage, ClientStore, ResourcePage, ResourceStore,
};
use crate::resources::{identifier_key, resource_key, Resource, ResourceId};

const CLIENT_PREFIX: &str = "client:";
const RESOURCE_PREFIX: &str = "resource:";

/// The registry over one KV namespace.
pub struct KvClients(pub KvStore);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("KV: {e}"))
}

/// A listed key's numeric metadata field, as written by this shell.
fn metadata_u64(key: &worker::kv::Key, field: &str) -> Option<u64> {
    key.metadata.as_ref()?.get(field)?.as_u64()
}

impl KvClients {
    async fn put_text(&self, key: &str, value: String, ttl: Option<u64>) -> Result<(), Error> {
        let mut put = self.0.put(key, value).map_err(unavailable)?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(unavailable)
    }

    async fn put_counted(
        &self,
        key: &str,
        field: &str,
        n: u64,
        ttl: Option<u64>,
    ) -> Result<(), Error> {
        // The number goes in the metadata too, so one list call reads them all.
        let mut put = self
            .0
            .put(key, n.to_string())
            .map_err(unavailable)?
            .metadata(serde_json::json!({ field: n }))
            .map_err(unavailable)?;
        if let Some(ttl) = ttl {
            put = put.expiration_ttl(ttl);
        }
        put.execute().await.map_err(unavailable)
    }

    /// One page of keys under `prefix` with their JSON values decoded.
    async fn page<T: DeserializeOwned>(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<T>, Option<String>), Error> {
        let mut list = self.0.list().prefix(prefix.into()).limit(limit as u64);
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
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            // A key deleted (or expired) between list and read is skipped, not an error.
            if let Some(Some(json)) = values.remove(name) {
                out.push(decode(name, &json)?);
            }
        }
        Ok((
            out,
            (!listed.list_complete).then_some(listed.cursor).flatten(),
        ))
    }

    /// Every key under `prefix`, across list pages.
    async fn all_keys(&self, prefix: &str) -> Result<Vec<worker::kv::Key>, Error> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut list = self.0.list().prefix(prefix.into());
            if let Some(c) = cursor.take() {
                list = list.cursor(c);
            }
            let listed = list.execute().await.map_err(unavailable)?;
            keys.extend(listed.keys);
            match listed.cursor.filter(|_| !listed.list_complete) {
                Some(c) => cursor = Some(c),
                None => return Ok(keys),
            }
        }
    }
}

impl ResourceStore for KvClients {
    async fn get_resource(&self, id: &ResourceId) -> Result<Option<Resource>, Error> {
        let key = resource_key(id);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        text.map(|t| decode(&key, &t)).transpose()
    }

    async fn resource_id_for(&self, identifier: &str) -> Result<Option<ResourceId>, Error> {
        let key = identifier_key(identifier);
        let text = self.0.get(&key).text().await.map_err(unavailable)?;
        Ok(text.and_then(|t| ResourceId::parse(&t)))
    }

    async fn put_resource(&self, resource: &Resource) -> Result<(), Error> {
        let id = &resource.resource_id;
        self.put_text(&resource_key(id), encode(resource)?, None)
            .await?;
        self.put_text(
            &identifier_key(&resource.identifier),
            id.as_str().into(),
            None,
        )
        .await
    }

    async fn delete_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.0
            .delete(&resource_key(&resource.resource_id))
            .await
            .map_err(unavailable)?;
        self.0
            .delete(&identifier_key(&resource.identifier))
            .await
            .map_err(unavailable)
    }

    async fn list_resources(
        &self,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ResourcePage, Error> {
        let (resources, next_cursor) = self.page(RESOURCE_PREFIX, cursor, limit).await?;
        Ok(ResourcePage {
            resources,
            next_cursor,
        })
    }
}

impl AuditLog for KvClients {
    async fn append(&self, event: &AuditEvent, ttl_secs: u64) -> Result<(), Error> {
        let json = encode(event)?;
        if let Some(client) = &event.client_id {
            self.put_text(
                &client_event_key(client, event),
                json.clone(),
                Some(ttl_secs),
            )
            .await?;
        }
        self.put_text(&event_key(event), json, Some(ttl_secs)).await
    }

    async fn events(
        &self,
        client: Option<&ClientId>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<AuditPage, Error> {
        let (events, next_cursor) = self.page(&prefix(client), cursor, limit).await?;
        Ok(AuditPage {
            events,
            next_cursor,
        })
    }
}

impl ActivityStore for KvClients {
    async fn put_usage(
        &self,
        client: &ClientId,
        date: &str,
        isolate: &str,
        tokens: u64,
    ) -> Result<(), Error> {
        let key = usage_key(client, date, isolate);
        self.put_counted(&key, "n", tokens, Some(USAGE_TTL_SECS))
            .await
    }

    async fn usage(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        let prefix = usage_prefix(client);
        let keys = self.all_keys(&prefix).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let date = k.name.get(prefix.len()..)?.split(':').next()?;
                Some((date.to_string(), metadata_u64(k, "n")?))
            })
            .collect())
    }

    async fn put_last_used(
        &self,
        client: &ClientId,
        secret_id: &str,
        at: u64,
    ) -> Result<(), Error> {
        let key = used_key(client, secret_id);
        self.put_counted(&key, "at", at, None).await
    }

    async fn last_used(&self, client: &ClientId) -> Result<Vec<(String, u64)>, Error> {
        let prefix = used_prefix(client);
        let keys = self.all_keys(&prefix).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let secret = k.name.get(prefix.len()..)?;
                Some((secret.to_string(), metadata_u64(k, "at")?))
            })
            .collect())
    }

    async fn forget_last_used(
        &self,
        client: &ClientId,
        secret_id: Option<&str>,
    ) -> Result<(), Error> {
        let prefix = used_prefix(client);
        let names: Vec<String> = match secret_id {
            Some(s) => vec![format!("{prefix}{s}")],
            None => self
                .all_keys(&prefix)
                .await?
                .into_iter()
                .map(|k| k.name)
                .collect(),
        };
        for name in names {
            self.0.delete(&name).await.map_err(unavailable)?;
        }
        Ok(())
    }
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
        let (clients, next_cursor) = self.page(CLIENT_PREFIX, cursor, limit).await?;
        Ok(ClientPage {
            clients,
            next_cursor,
        })
    }
}
