//! The request context: configuration, the instant the request is served at (read once), the
//! ports, and the isolate's state. Cached reads and write-through live here, in one place, so
//! every endpoint sees the same caching and a change bites at once in the isolate that made it.

pub mod isolate;

use std::cell::OnceCell;
use std::hash::Hash;
use std::rc::Rc;

use crate::config::Config;
use crate::error::Error;
use crate::jose::keys::SigningKey;
use crate::ports::Clock;
use crate::ports::PortResult;
pub use crate::ports::Ports;
use crate::registry::admins::{self, Principal};
use crate::registry::audit::{Action, AuditEvent, Subject};
use crate::registry::clients::{ClientId, ClientRecord};
use crate::registry::guard::{GuardOp, GuardState};
use crate::registry::resources::{Resource, ResourceId};
use crate::registry::signing_keys::{KeyRing, KeySchedule};
use crate::support::cache::{Lookup, Stamp};
use isolate::activity::ActivityWrite;
pub use isolate::IsolateState;

/// Who an audit event is recorded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The caller of the admin API (see [`Ctx::set_principal`]).
    Admin,
    /// The server itself, for automatic actions such as a lock.
    System,
    /// The client the event is about, acting for itself (it revoked one of its tokens).
    Client,
}

/// Everything an endpoint may use while answering one request.
pub struct Ctx<'a> {
    /// Parsed settings.
    pub config: &'a Config,
    /// The platform.
    pub ports: Ports<'a>,
    /// What the isolate keeps between requests.
    pub isolate: &'a IsolateState,
    now_ms: u64,
    principal: OnceCell<Principal>,
}

impl<'a> Ctx<'a> {
    /// A context for one request; the clock is read here, once, so the whole request sees
    /// one instant.
    pub fn new(
        config: &'a Config,
        ports: Ports<'a>,
        isolate: &'a IsolateState,
        clock: &dyn Clock,
    ) -> Ctx<'a> {
        Ctx {
            config,
            ports,
            isolate,
            now_ms: clock.now_ms(),
            principal: OnceCell::new(),
        }
    }

    /// Records who is calling the admin API, once, for the permission checks and the audit
    /// trail.
    pub fn set_principal(&self, principal: Principal) -> &Principal {
        self.principal.get_or_init(|| principal)
    }

    /// Who is calling the admin API, once authenticated.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.get()
    }

    /// The request's instant, in seconds since the epoch.
    pub fn now(&self) -> u64 {
        self.now_ms / 1000
    }

    /// The request's instant, in milliseconds since the epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// A client through the isolate cache: the token endpoint's read.
    pub async fn cached_client(&self, id: &ClientId) -> Result<Option<Rc<ClientRecord>>, Error> {
        let read = || self.ports.clients.get(id);
        read_through(&self.isolate.clients, id, self.now_ms, read).await
    }

    /// A client read fresh from the registry, as admin changes must start from.
    pub async fn client(&self, id: &ClientId) -> Result<Option<ClientRecord>, Error> {
        self.ports.clients.get(id).await
    }

    /// Writes a client and refreshes this isolate's cache, so the change bites here at once.
    /// This is the one write path for client records: it bumps `version`, so a change based
    /// on an older read can be refused (see "Consistency" in docs/CONTRACT.md).
    pub async fn save_client(&self, record: &mut ClientRecord) -> Result<(), Error> {
        record.client.version += 1;
        self.ports.clients.put(record).await?;
        let id = record.client.client_id.clone();
        let cached = Some(Rc::new(record.clone()));
        self.isolate.clients.put(id, cached, self.now_ms);
        Ok(())
    }

    /// Deletes a client and forgets it in this isolate's cache.
    pub async fn delete_client(&self, id: &ClientId) -> Result<(), Error> {
        self.ports.clients.delete(id).await?;
        self.isolate.clients.put(id.clone(), None, self.now_ms);
        Ok(())
    }

    /// A resource through the isolate cache: the token endpoint's read for granted resources.
    /// The built-in admin resource is never stored (its identifier is in each grant).
    pub async fn cached_resource(&self, id: &ResourceId) -> Result<Option<Rc<Resource>>, Error> {
        if admins::is_admin_resource(id) {
            let issuer = self.config.issuer.as_deref().unwrap_or_default();
            return Ok(Some(Rc::new(admins::admin_resource(issuer))));
        }
        let read = || self.ports.resources.get(id);
        read_through(&self.isolate.resources, id, self.now_ms, read).await
    }

    /// Writes a resource and refreshes this isolate's cache.
    pub async fn save_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.ports.resources.put(resource).await?;
        let id = resource.resource_id.clone();
        let cached = Some(Rc::new(resource.clone()));
        self.isolate.resources.put(id, cached, self.now_ms);
        Ok(())
    }

    /// Deletes a resource and forgets it in this isolate's cache.
    pub async fn delete_resource(&self, resource: &Resource) -> Result<(), Error> {
        self.ports.resources.delete(resource).await?;
        let id = resource.resource_id.clone();
        self.isolate.resources.put(id, None, self.now_ms);
        Ok(())
    }

    /// The client's guard state through the isolate cache: the token endpoint's read.
    pub async fn cached_guard(&self, id: &ClientId) -> Result<GuardState, Error> {
        match self.isolate.guards.get(id, self.now_ms) {
            Some(hit) => Ok(hit),
            None => match self.guard(id, GuardOp::Read).await {
                // A read ahead of expiry that failed: the copy holds until its TTL.
                Err(e) => self.isolate.guards.unexpired(id, self.now_ms).ok_or(e),
                read => read,
            },
        }
    }

    /// Applies `op` at the client's guard and refreshes this isolate's copy.
    pub async fn guard(&self, id: &ClientId, op: GuardOp) -> Result<GuardState, Error> {
        let mut state = self.ports.guards.apply(id, op, self.now()).await?;
        let cache = &self.isolate.guards;
        // The copy every token request clones leaves out the quota counts: only admin reads
        // and the quota's own bookkeeping use them, from the state answered here.
        let counts = std::mem::take(&mut state.quota);
        cache.put(id.clone(), state.clone(), self.now_ms);
        state.quota = counts;
        Ok(state)
    }

    /// The signing keys through the isolate cache: what tokens are signed and checked with.
    /// A rotation made elsewhere reaches this isolate within the cache TTL plus KV
    /// propagation, well inside the publish lead.
    pub async fn key_ring(&self) -> Result<Rc<KeyRing>, Error> {
        let (fresh, before) = match &*self.isolate.key_ring.borrow() {
            Some((stamp, ring)) if stamp.serve(self.now_ms) => return Ok(Rc::clone(ring)),
            Some((stamp, ring)) => (stamp.fresh(self.now_ms), Some(Rc::clone(ring))),
            None => (false, None),
        };
        match self.key_schedule().await {
            Ok(schedule) => self.remember_ring(schedule, before).await,
            // A read ahead of expiry that failed: the copy holds until its TTL.
            Err(e) => before.filter(|_| fresh).ok_or(e),
        }
    }

    /// The stored signing-key schedule, read fresh: what a change must start from.
    pub async fn key_schedule(&self) -> Result<KeySchedule, Error> {
        let stored = self.ports.keys.schedule().await?;
        let schedule = stored.map(KeySchedule::checked).transpose();
        Ok(schedule.map_err(Error::Internal)?.unwrap_or_default())
    }

    /// Stores a new schedule and uses it in this isolate at once.
    pub async fn save_key_schedule(&self, schedule: KeySchedule) -> Result<Rc<KeyRing>, Error> {
        self.ports.keys.put_schedule(&schedule).await?;
        self.use_key_schedule(schedule).await
    }

    /// Uses `schedule` (read fresh, or just stored) in this isolate at once.
    pub async fn use_key_schedule(&self, schedule: KeySchedule) -> Result<Rc<KeyRing>, Error> {
        let before = self
            .isolate
            .key_ring
            .borrow()
            .as_ref()
            .map(|(_, r)| Rc::clone(r));
        self.remember_ring(schedule, before).await
    }

    async fn remember_ring(
        &self,
        schedule: KeySchedule,
        before: Option<Rc<KeyRing>>,
    ) -> Result<Rc<KeyRing>, Error> {
        let signer = self.ports.signer;
        let before = before.as_deref();
        // The configured previous key is derived once, like the scheduled ones.
        let previous = match (&self.config.previous_seed, before) {
            (None, _) => None,
            (Some(_), Some(ring)) if ring.configured_previous().is_some() => {
                ring.configured_previous().cloned()
            }
            (Some(seed), _) => {
                let key = SigningKey::derive(seed.private(0), signer).await?;
                Some(key.public().clone())
            }
        };
        let ring = KeyRing::derive(&self.config.seed, schedule, previous, before, signer).await?;
        let ring = Rc::new(ring);
        *self.isolate.key_ring.borrow_mut() = Some((Stamp::new(self.now_ms), Rc::clone(&ring)));
        Ok(ring)
    }

    /// Records an audit event, kept for the configured retention.
    pub async fn audit(
        &self,
        actor: Actor,
        action: Action,
        subject: Subject<'_>,
        detail: String,
    ) -> Result<(), Error> {
        let (actor, via) = match (actor, self.principal()) {
            (Actor::Admin, Some(p)) => (p.actor.as_str(), p.via.name()),
            (Actor::Admin, None) => (self.config.admin_label.as_str(), "admin_token"),
            (Actor::System, _) => ("system", "system"),
            (Actor::Client, _) => ("client", "client"),
        };
        let rng = self.ports.rng;
        let mut event = AuditEvent::new(actor, action, subject, detail, self.now_ms, rng)?;
        event.via = via.to_string();
        let ttl = u64::from(self.config.audit_retention_days) * 86_400;
        self.ports.audit.append(&event, ttl).await
    }

    /// The background writes this isolate owes now (see [`activity`]); the shell performs
    /// them after the response with `wait_until`.
    pub fn due_activity(&self) -> Vec<ActivityWrite> {
        self.isolate.activity.take_due(self.now_ms, self.ports.rng)
    }
}

/// The cached value of `key`, or `read` it and cache the answer (a "no such thing" too).
async fn read_through<'p, K: Eq + Hash + Clone, V>(
    cache: &Lookup<K, V>,
    key: &K,
    now_ms: u64,
    read: impl FnOnce() -> PortResult<'p, Option<V>>,
) -> Result<Option<Rc<V>>, Error> {
    if let Some(hit) = cache.get(key, now_ms) {
        return Ok(hit);
    }
    let value = match read().await {
        Ok(value) => value.map(Rc::new),
        // A read ahead of expiry that failed: the copy holds until its TTL.
        Err(e) => return cache.unexpired(key, now_ms).ok_or(e),
    };
    cache.put(key.clone(), value.clone(), now_ms);
    Ok(value)
}
