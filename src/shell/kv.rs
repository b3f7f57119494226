//! The registry's ports over one Workers KV namespace; the key layout is
//! [`crate::registry::keyspace`].

use js_sys::{Array, Function, Object, Promise, Reflect};
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::Error;
use crate::ports::{ActivityStore, AuditLog, Clients, KeyStore, Page, PortResult, Resources};
use crate::registry::audit::AuditEvent;
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::keyspace::{self, decode, encode};
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::KeySchedule;

/// The registry over one KV namespace: the binding's own methods, called directly, with the
/// answers crossing as JSON text. workers-rs's KV wrapper converts them with
/// serde-wasm-bindgen, about 20 KB of wasm for a handful of calls.
pub struct KvRegistry(pub Object);

/// An options object for a KV call: the members given a value, made in place (they went
/// through `json!` and `JSON.parse` before, which took a `Value` writer of their own).
fn options(members: &[(&str, Option<JsValue>)]) -> Object {
    let object = Object::new();
    for (name, value) in members {
        if let Some(value) = value {
            let _ = Reflect::set(&object, &JsValue::from_str(name), value);
        }
    }
    object
}

/// A number as JS has it (what `JSON.parse` made of one).
fn number(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

fn unavailable(e: impl std::fmt::Debug) -> Error {
    Error::Unavailable(format!("KV: {e:?}"))
}

/// One key of a list answer.
struct Key {
    name: String,
    /// The key's metadata object, or undefined.
    metadata: JsValue,
}

/// A list answer.
struct Listed {
    keys: Vec<Key>,
    list_complete: bool,
    cursor: Option<String>,
}

/// Member `name` of a JS object the binding answered. The answers are read member by member:
/// as JSON text through serde they took a reader per answer type (about 1.8 KB of wasm gzipped),
/// and these are small objects of a known shape.
fn member(object: &JsValue, name: &str) -> Result<JsValue, Error> {
    Reflect::get(object, &JsValue::from_str(name)).map_err(unavailable)
}

/// A listed key's numeric metadata field, as written by this shell: a whole number that fits a
/// u64, as a JSON reading of it would take.
fn metadata_u64(key: &Key, field: &str) -> Option<u64> {
    if !key.metadata.is_object() {
        return None;
    }
    let n = member(&key.metadata, field).ok()?.as_f64()?;
    (n >= 0.0 && n.fract() == 0.0 && n < 18_446_744_073_709_551_616.0).then_some(n as u64)
}

impl Listed {
    /// Reads the binding's list answer.
    fn read(answer: &JsValue) -> Result<Listed, Error> {
        let malformed = || unavailable("malformed list answer");
        let keys: Array = member(answer, "keys")?
            .dyn_into()
            .map_err(|_| malformed())?;
        let keys = keys
            .iter()
            .map(|key| {
                let name = member(&key, "name")?.as_string().ok_or_else(malformed)?;
                let metadata = member(&key, "metadata")?;
                Ok(Key { name, metadata })
            })
            .collect::<Result<_, Error>>()?;
        let list_complete = member(answer, "list_complete")?
            .as_bool()
            .ok_or_else(malformed)?;
        let cursor = member(answer, "cursor")?.as_string();
        Ok(Listed {
            keys,
            list_complete,
            cursor,
        })
    }
}

impl KvRegistry {
    /// Calls the binding's method `name` and awaits its promise.
    async fn call(&self, name: &str, args: &[&JsValue]) -> Result<JsValue, Error> {
        let method: Function = Reflect::get(&self.0, &name.into())
            .and_then(|f| f.dyn_into())
            .map_err(unavailable)?;
        let promise = Reflect::apply(&method, &self.0, &args.iter().copied().collect())
            .map_err(unavailable)?;
        JsFuture::from(Promise::from(promise))
            .await
            .map_err(unavailable)
    }

    async fn get_text(&self, key: &str) -> Result<Option<String>, Error> {
        Ok(self.call("get", &[&key.into()]).await?.as_string())
    }

    async fn delete(&self, key: &str) -> Result<(), Error> {
        self.call("delete", &[&key.into()]).await.map(drop)
    }

    async fn put_with(&self, key: &str, value: String, options: Object) -> Result<(), Error> {
        self.call("put", &[&key.into(), &value.into(), &options])
            .await
            .map(drop)
    }

    async fn put_text(&self, key: &str, value: String, ttl: Option<u64>) -> Result<(), Error> {
        self.put_with(key, value, options(&[("expirationTtl", ttl.map(number))]))
            .await
    }

    async fn put_counted(
        &self,
        key: &str,
        field: &str,
        n: u64,
        ttl: Option<u64>,
    ) -> Result<(), Error> {
        // The number goes in the metadata too, so one list call reads them all.
        let metadata = options(&[(field, Some(number(n)))]);
        let options = options(&[
            ("metadata", Some(metadata.into())),
            ("expirationTtl", ttl.map(number)),
        ]);
        self.put_with(key, n.to_string(), options).await
    }

    async fn list(
        &self,
        prefix: &str,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<Listed, Error> {
        let options = options(&[
            ("prefix", Some(prefix.into())),
            ("limit", limit.map(|l| number(l as u64))),
            ("cursor", cursor.map(JsValue::from)),
        ]);
        Listed::read(&self.call("list", &[&options]).await?)
    }

    /// The values of `names`, in one call: a map from each name to its text, or null.
    async fn get_bulk(&self, names: &[&str]) -> Result<js_sys::Map, Error> {
        let names = Array::from_iter(names.iter().map(|n| JsValue::from_str(n)));
        let map = self.call("get", &[&names]).await?;
        map.dyn_into().map_err(unavailable)
    }

    /// One page of keys under `prefix` with their JSON values decoded.
    async fn page<T: DeserializeOwned>(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, Error> {
        let (values, next_cursor) = self.page_text(prefix, cursor, limit).await?;
        let items = values
            .iter()
            .map(|(name, json)| decode(name, json))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, next_cursor })
    }

    /// One page of keys under `prefix` with their values as text, and the next page's cursor:
    /// the part of [`page`](Self::page) that is the same whatever the values hold.
    async fn page_text(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<(String, String)>, Option<String>), Error> {
        let listed = match self.list(prefix, Some(limit), cursor).await {
            Ok(listed) => listed,
            // A cursor KV cannot read is the caller's mistake, unless KV is failing anyway.
            Err(e) if cursor.is_some() => {
                let probe = self.list(prefix, Some(1), None).await;
                return Err(match probe {
                    Ok(_) => Error::invalid_request("invalid cursor"),
                    Err(_) => e,
                });
            }
            Err(e) => return Err(e),
        };
        let names: Vec<&str> = listed.keys.iter().map(|k| k.name.as_str()).collect();
        let mut out = Vec::with_capacity(names.len());
        if !names.is_empty() {
            let values = self.get_bulk(&names).await?;
            for name in names {
                // A key deleted (or expired) between list and read is skipped, not an error.
                if let Some(json) = values.get(&JsValue::from_str(name)).as_string() {
                    out.push((name.to_string(), json));
                }
            }
        }
        let next_cursor = (!listed.list_complete).then_some(listed.cursor).flatten();
        Ok((out, next_cursor))
    }

    /// The JSON value under `key`, decoded.
    async fn read<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let text = self.get_text(key).await?;
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
    async fn all_keys(&self, prefix: &str) -> Result<Vec<Key>, Error> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let listed = self.list(prefix, None, cursor.take().as_deref()).await?;
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
            self.delete(&key).await
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
            let text = self.get_text(&key).await?;
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
                self.delete(&key).await?;
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
                self.delete(&name).await?;
            }
            Ok(())
        })
    }
}
