//! The registry's ports over one Workers KV namespace; the key layout is
//! [`crate::registry::keyspace`].

use serde::de::DeserializeOwned;
use worker::KvStore;

use crate::error::Error;
use crate::ports::{ActivityStore, AuditLog, Clients, KeyStore, Page, PortResult, Resources};
use crate::registry::audit::AuditEvent;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::keyspace::{self, decode, encode};
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeySchedule;

/// The registry over one KV namespace.
pub struct KvRegistry(pub KvStore);

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("KV: {e}"))
}

/// A listed key's numeric metadata field, as written by this shell.
fn metadata_u64(key: &worker::kv::Key, field: &str) -> Option<u64> {
    key.metadata.as_ref()?.get(field)?.as_u64()
}

impl KvRegistry {
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
    ) -> Result<Page<T>, Error> {
        let mut list = self.0.list().prefix(prefix.into()).limit(limit as u64);
        if let Some(c) = cursor {
            list = list.cursor(c.into());
        }
        let listed = match list.execute().await {
            Ok(listed) => listed,
            // A cursor KV cannot read is the caller's mistake, unless KV is failing anyway.
            Err(e) if cursor.is_some() => {
                let probe = self.0.list().prefix(prefix.into()).limit(1).execute().await;
                return Err(match probe {
                    Ok(_) => Error::invalid_request("invalid cursor"),
                    Err(_) => unavailable(e),
                });
            }
            Err(e) => return Err(unavailable(e)),
        };
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
        Ok(Page {
            items: out,
            next_cursor: (!listed.list_complete).then_some(listed.cursor).flatten(),
        })
    }

    /// The JSON value under `key`, decoded.
    async fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let text = self.0.get(key).text().await.map_err(unavailable)?;
        text.map(|t| decode(key, &t)).transpose()
    }

    /// Every key under `prefix` with its numeric metadata `field`, as (key suffix, number).
    async fn numbers(&self, prefix: &str, field: &str) -> Result<Vec<(String, u64)>, Error> {
        let keys = self.all_keys(prefix).await?;
        Ok(keys
            .iter()
            .filter_map(|k| {
                let rest = k.name.get(prefix.len()..)?;
                Some((rest.to_string(), metadata_u64(k, field)?))
            })
            .collect())
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

impl Clients for KvRegistry {
    fn get<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, Option<ClientRecord>> {
        Box::pin(async move { self.read(&keyspace::client_key(id)).await })
    }

    fn put<'a>(&'a self, record: &'a ClientRecord) -> PortResult<'a, ()> {
        Box::pin(async move {
            let key = keyspace::client_key(&record.client.client_id);
            self.put_text(&key, encode(record)?, None).await
        })
    }

    fn delete<'a>(&'a self, id: &'a ClientId) -> PortResult<'a, ()> {
        Box::pin(async move {
            let key = keyspace::client_key(id);
            self.0.delete(&key).await.map_err(unavailable)
        })
    }

    fn list<'a>(
        &'a self,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<ClientRecord>> {
        Box::pin(self.page(keyspace::CLIENT_PREFIX, cursor, limit))
    }
}

impl KeyStore for KvRegistry {
    fn schedule(&self) -> PortResult<'_, Option<KeySchedule>> {
        Box::pin(self.read(keyspace::SIGNING_KEYS))
    }

    fn put_schedule<'a>(&'a self, schedule: &'a KeySchedule) -> PortResult<'a, ()> {
        Box::pin(async move {
            self.put_text(keyspace::SIGNING_KEYS, encode(schedule)?, None)
                .await
        })
    }
}

impl Resources for KvRegistry {
    fn get<'a>(&'a self, id: &'a ResourceId) -> PortResult<'a, Option<Resource>> {
        Box::pin(async move { self.read(&keyspace::resource_key(id)).await })
    }

    fn id_for<'a>(&'a self, identifier: &'a str) -> PortResult<'a, Option<ResourceId>> {
        Box::pin(async move {
            let key = keyspace::identifier_key(identifier);
            let text = self.0.get(&key).text().await.map_err(unavailable)?;
            Ok(text.and_then(|t| ResourceId::parse(&t)))
        })
    }

    fn put<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()> {
        Box::pin(async move {
            let id = &resource.resource_id;
            let key = keyspace::resource_key(id);
            self.put_text(&key, encode(resource)?, None).await?;
            let index = keyspace::identifier_key(&resource.identifier);
            self.put_text(&index, id.as_str().into(), None).await
        })
    }

    fn delete<'a>(&'a self, resource: &'a Resource) -> PortResult<'a, ()> {
        Box::pin(async move {
            for key in [
                keyspace::resource_key(&resource.resource_id),
                keyspace::identifier_key(&resource.identifier),
            ] {
                self.0.delete(&key).await.map_err(unavailable)?;
            }
            Ok(())
        })
    }

    fn list<'a>(&'a self, cursor: Option<&'a str>, limit: usize) -> PortResult<'a, Page<Resource>> {
        Box::pin(self.page(keyspace::RESOURCE_PREFIX, cursor, limit))
    }
}

impl AuditLog for KvRegistry {
    fn append<'a>(&'a self, event: &'a AuditEvent, ttl_secs: u64) -> PortResult<'a, ()> {
        Box::pin(async move {
            let json = encode(event)?;
            for key in keyspace::event_keys(event) {
                self.put_text(&key, json.clone(), Some(ttl_secs)).await?;
            }
            Ok(())
        })
    }

    fn events<'a>(
        &'a self,
        client: Option<&'a ClientId>,
        cursor: Option<&'a str>,
        limit: usize,
    ) -> PortResult<'a, Page<AuditEvent>> {
        Box::pin(async move {
            let prefix = keyspace::audit_prefix(client);
            self.page(&prefix, cursor, limit).await
        })
    }
}

impl ActivityStore for KvRegistry {
    fn put_usage<'a>(
        &'a self,
        client: &'a ClientId,
        date: &'a str,
        isolate: &'a str,
        tokens: u64,
    ) -> PortResult<'a, ()> {
        Box::pin(async move {
            let key = keyspace::usage_key(client, date, isolate);
            let ttl = Some(keyspace::USAGE_TTL_SECS);
            self.put_counted(&key, "n", tokens, ttl).await
        })
    }

    fn usage<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>> {
        Box::pin(async move {
            let entries = self.numbers(&keyspace::usage_prefix(client), "n").await?;
            Ok(entries
                .into_iter()
                .filter_map(|(rest, n)| Some((keyspace::usage_date(&rest)?.to_string(), n)))
                .collect())
        })
    }

    fn put_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: &'a str,
        at: u64,
    ) -> PortResult<'a, ()> {
        Box::pin(async move {
            let key = keyspace::used_key(client, secret_id);
            self.put_counted(&key, "at", at, None).await
        })
    }

    fn last_used<'a>(&'a self, client: &'a ClientId) -> PortResult<'a, Vec<(String, u64)>> {
        Box::pin(async move { self.numbers(&keyspace::used_prefix(client), "at").await })
    }

    fn forget_last_used<'a>(
        &'a self,
        client: &'a ClientId,
        secret_id: Option<&'a str>,
    ) -> PortResult<'a, ()> {
        Box::pin(async move {
            let names: Vec<String> = match secret_id {
                Some(s) => vec![keyspace::used_key(client, s)],
                None => self
                    .all_keys(&keyspace::used_prefix(client))
                    .await?
                    .into_iter()
                    .map(|k| k.name)
                    .collect(),
            };
            for name in names {
                self.0.delete(&name).await.map_err(unavailable)?;
            }
            Ok(())
        })
    }
}
