//! The signing-key rotation schedule: which key derived from `SIGNING_KEY_SEED` signs, which
//! are published, and when each changes.
//!
//! A rotation never starts signing with a key verifiers have not seen. It publishes the next
//! key at once and schedules the switch `lead` seconds later (`KEY_PUBLISH_LEAD`, longer than
//! the JWKS cache time plus KV propagation); the old key then stays published until every
//! token it signed has expired ([`RETIRE_AFTER`]), and is dropped. States follow from the
//! stored times and the clock alone, so every location agrees without being told: the
//! schedule only has to reach a location before its switch time, which the lead guarantees.
//!
//! A revocation ([`KeySchedule::revoke`]) is the exception to "publish first": a revoked key
//! leaves the JWKS and signing at once, and if it was signing, the pending next key (or, with
//! none, a fresh one) signs from that instant. Revoked keys stay in the schedule, marked, so
//! that indexes only ever grow and a revoked key is never derived and published again.

use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::jose::keys::{PlatformSigner, PublicKey, Seed, SigningKey};
use crate::registry::guard::TOKEN_MARK_SECS;

/// How long a replaced key stays published after the switch: the longest token lifetime with
/// skew, and ten minutes for locations whose cached schedule still has it signing.
pub const RETIRE_AFTER: u64 = TOKEN_MARK_SECS + 600;
/// Most keys a stored schedule holds.
pub const MAX_KEYS: usize = 16;
/// Default `KEY_PUBLISH_LEAD`: the JWKS `max-age` (300 s), KV propagation (60 s), the isolate
/// cache, and room to spare.
pub const DEFAULT_PUBLISH_LEAD: u64 = 600;

/// One key in the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledKey {
    /// Which key derived from the seed (0 is the seed itself).
    pub index: u32,
    /// When it was first published (epoch seconds).
    pub published_at: u64,
    /// When it starts signing (epoch seconds).
    pub signs_from: u64,
    /// When it was revoked (epoch seconds): out of the JWKS and of signing from then on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<u64>,
}

impl ScheduledKey {
    /// Whether the key ever took over signing (a revoked pending key never did).
    fn signed(&self) -> bool {
        self.revoked_at.is_none_or(|r| r >= self.signs_from)
    }
}

/// Where a key is in its life at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Published, not signing yet.
    Next,
    /// Signing.
    Current,
    /// Replaced, published until its tokens have expired.
    Previous,
    /// Replaced long enough ago that nothing it signed is still valid.
    Retired,
    /// Taken out of the JWKS and of signing by an admin; never published again.
    Revoked,
}

/// The stored schedule: keys in index order, each signing from a later time than the one
/// before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchedule {
    keys: Vec<ScheduledKey>,
}

impl Default for KeySchedule {
    /// Before the first rotation: the seed's own key, signing since forever.
    fn default() -> Self {
        KeySchedule {
            keys: vec![ScheduledKey {
                index: 0,
                published_at: 0,
                signs_from: 0,
                revoked_at: None,
            }],
        }
    }
}

impl KeySchedule {
    /// A schedule read from storage; anything out of order is refused rather than guessed at.
    pub fn checked(self) -> Result<KeySchedule, String> {
        let ordered = self
            .keys
            .windows(2)
            .all(|w| w[0].index < w[1].index && w[0].signs_from <= w[1].signs_from);
        let live = self.keys.iter().any(|k| k.revoked_at.is_none());
        if !live || !ordered || self.keys.len() > MAX_KEYS {
            return Err("the stored signing-key schedule is malformed".into());
        }
        Ok(self)
    }

    /// The keys with their state at `now` and, for replaced keys, when they retire.
    pub fn states(&self, now: u64) -> Vec<(ScheduledKey, KeyState, Option<u64>)> {
        let current = self.current_position(now);
        self.keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                // Retires after the key that took over from it (a revoked pending key never did).
                let successor = self.keys[i + 1..].iter().find(|n| n.signed());
                let retires_at = successor.map(|n| n.signs_from + RETIRE_AFTER);
                let state = match i.cmp(&current) {
                    _ if k.revoked_at.is_some() => KeyState::Revoked,
                    std::cmp::Ordering::Greater => KeyState::Next,
                    std::cmp::Ordering::Equal => KeyState::Current,
                    std::cmp::Ordering::Less if retires_at.is_some_and(|r| now < r) => {
                        KeyState::Previous
                    }
                    std::cmp::Ordering::Less => KeyState::Retired,
                };
                let replaced = i < current && state != KeyState::Revoked;
                (*k, state, retires_at.filter(|_| replaced))
            })
            .collect()
    }

    /// The key that signs at `now`: the last unrevoked one whose time has come. (A stored
    /// schedule always has one, see [`KeySchedule::revoke`]; should it not, the first unrevoked
    /// key signs rather than a revoked one.)
    fn current_position(&self, now: u64) -> usize {
        let live = |k: &ScheduledKey| k.revoked_at.is_none();
        let keys = &self.keys;
        keys.iter()
            .rposition(|k| live(k) && k.signs_from <= now)
            .or_else(|| keys.iter().position(live))
            .unwrap_or(0)
    }

    /// The published key waiting for its switch at `now`, if a rotation is under way.
    pub fn pending(&self, now: u64) -> Option<ScheduledKey> {
        let last = self.keys.last().copied();
        last.filter(|k| k.signs_from > now && k.revoked_at.is_none())
    }

    /// Starts a rotation at `now`: a new key, published at once, signing from `now + lead`.
    /// Refused while one is already pending (its switch time is in the error), so two
    /// rotations never overlap. Retired keys are dropped on the way.
    pub fn rotate(&mut self, now: u64, lead: u64) -> Result<ScheduledKey, ScheduledKey> {
        if let Some(pending) = self.pending(now) {
            return Err(pending);
        }
        self.prune(now);
        Ok(self.push(now, (now + lead).max(self.last().signs_from)))
    }

    /// Revokes the key `index` at `now`: `Ok(false)` if it already was. If it was signing,
    /// the pending next key signs from `now`, or with none a fresh key (the next index,
    /// published and signing at once; verifiers that have not fetched it yet refetch the
    /// JWKS for its unknown kid). A conflict when the schedule has no room for a fresh key.
    pub fn revoke(&mut self, index: u32, now: u64) -> Result<bool, Error> {
        let current = self.keys[self.current_position(now)].index;
        let pending = self.pending(now).map(|p| p.index);
        if index == current && pending.is_none() {
            self.prune(now);
            if self.keys.len() >= MAX_KEYS {
                let full = "no room for a fresh signing key: the schedule holds 16 keys";
                return Err(Error::Conflict(full.into()));
            }
        }
        let live = |k: &&mut ScheduledKey| k.index == index && k.revoked_at.is_none();
        let Some(key) = self.keys.iter_mut().find(live) else {
            return Ok(false);
        };
        key.revoked_at = Some(now);
        if index == current {
            match self.keys.iter_mut().find(|k| Some(k.index) == pending) {
                Some(next) => next.signs_from = now,
                None => {
                    self.push(now, now);
                }
            }
        }
        Ok(true)
    }

    /// Appends the next index, published at `now`, signing from `signs_from`.
    fn push(&mut self, now: u64, signs_from: u64) -> ScheduledKey {
        let key = ScheduledKey {
            index: self.last().index + 1,
            published_at: now,
            signs_from,
            revoked_at: None,
        };
        self.keys.push(key);
        key
    }

    /// The highest index so far: never dropped (see [`KeySchedule::prune`]).
    fn last(&self) -> ScheduledKey {
        self.keys[self.keys.len() - 1]
    }

    /// Drops retired keys, and revoked keys whose tokens have all expired, at `now`; answers
    /// what was dropped. The last key always stays: it holds the highest index, which keeps a
    /// later rotation from deriving a revoked key again.
    pub fn prune(&mut self, now: u64) -> Vec<ScheduledKey> {
        let last = self.last().index;
        let gone = |k: &ScheduledKey, s: KeyState| {
            k.index != last
                && (s == KeyState::Retired
                    || k.revoked_at
                        .is_some_and(|r| now >= r.saturating_add(RETIRE_AFTER)))
        };
        let dropped: Vec<ScheduledKey> = self
            .states(now)
            .into_iter()
            .filter(|(k, s, _)| gone(k, *s))
            .map(|(k, _, _)| k)
            .collect();
        self.keys.retain(|k| !dropped.contains(k));
        dropped
    }

    /// Whether a periodic rotation (every `period` seconds of signing) is due at `now`.
    pub fn rotation_due(&self, now: u64, period: u64) -> bool {
        let current = self.keys[self.current_position(now)];
        self.pending(now).is_none() && now >= current.signs_from.saturating_add(period)
    }

    /// The scheduled indexes, revoked ones included.
    pub fn indexes(&self) -> impl Iterator<Item = u32> + '_ {
        self.keys.iter().map(|k| k.index)
    }
}

/// A schedule with its keys derived: what an isolate signs and verifies with. Deriving a key
/// costs the platform a key import, so a refreshed ring reuses the keys of the one before.
#[derive(Debug)]
pub struct KeyRing {
    schedule: KeySchedule,
    keys: Vec<(u32, Rc<SigningKey>)>,
    /// The key of `PREVIOUS_SIGNING_KEY_SEED`, from before rotation was built in: published
    /// while that setting is set.
    configured_previous: Option<PublicKey>,
}

impl KeyRing {
    /// Derives `schedule`'s keys from `seed` through `platform`, reusing those `before`
    /// already has.
    pub async fn derive(
        seed: &Seed,
        schedule: KeySchedule,
        configured_previous: Option<PublicKey>,
        before: Option<&KeyRing>,
        platform: &dyn PlatformSigner,
    ) -> Result<KeyRing, Error> {
        let mut keys = Vec::with_capacity(schedule.keys.len());
        for i in schedule.indexes() {
            let known = before.and_then(|b| b.keys.iter().find(|(j, _)| *j == i));
            let key = match known {
                Some((_, k)) => Rc::clone(k),
                None => Rc::new(SigningKey::derive(seed.private(i), platform).await?),
            };
            keys.push((i, key));
        }
        Ok(KeyRing {
            schedule,
            keys,
            configured_previous,
        })
    }

    /// As [`KeyRing::derive`] with [`InRust`](crate::jose::keys::InRust), at once: host tests
    /// and tools.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new(
        seed: &Seed,
        schedule: KeySchedule,
        configured_previous: Option<PublicKey>,
        before: Option<&KeyRing>,
    ) -> KeyRing {
        let derived = KeyRing::derive(
            seed,
            schedule,
            configured_previous,
            before,
            &crate::jose::keys::InRust,
        );
        let mut derived = std::pin::pin!(derived);
        let waker = std::task::Waker::noop();
        match std::future::Future::poll(
            derived.as_mut(),
            &mut std::task::Context::from_waker(waker),
        ) {
            std::task::Poll::Ready(ring) => {
                ring.unwrap_or_else(|_| unreachable!("InRust derives every key"))
            }
            std::task::Poll::Pending => unreachable!("InRust answers at once"),
        }
    }

    /// The schedule behind this ring.
    pub fn schedule(&self) -> &KeySchedule {
        &self.schedule
    }

    fn key(&self, index: u32) -> &SigningKey {
        let (_, key) = self
            .keys
            .iter()
            .find(|(i, _)| *i == index)
            .unwrap_or_else(|| unreachable!("the ring derives every scheduled key"));
        key
    }

    /// The key that signs at `now`.
    pub fn signing(&self, now: u64) -> &SigningKey {
        self.key(self.schedule.keys[self.schedule.current_position(now)].index)
    }

    /// Every key published at `now`: current first, then next, then previous ones.
    pub fn published(&self, now: u64) -> Vec<&PublicKey> {
        let states = self.schedule.states(now);
        let of = |wanted: KeyState| {
            states
                .iter()
                .filter(move |(_, s, _)| *s == wanted)
                .map(|(k, _, _)| self.key(k.index).public())
        };
        of(KeyState::Current)
            .chain(of(KeyState::Next))
            .chain(of(KeyState::Previous).rev())
            .chain(self.configured_previous.iter())
            .collect()
    }

    /// The published key with this `kid` at `now`.
    pub fn find(&self, kid: &str, now: u64) -> Option<&PublicKey> {
        self.published(now).into_iter().find(|k| k.kid() == kid)
    }

    /// The kid of a scheduled key.
    pub fn kid(&self, index: u32) -> &str {
        self.key(index).public().kid()
    }

    /// The key of `PREVIOUS_SIGNING_KEY_SEED`, if set.
    pub fn configured_previous(&self) -> Option<&PublicKey> {
        self.configured_previous.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zeroize::Zeroizing;

    const LEAD: u64 = 600;
    const T: u64 = 1_800_000_000;

    fn ring(schedule: &KeySchedule) -> KeyRing {
        KeyRing::new(
            &Seed::new(Zeroizing::new([5; 32])),
            schedule.clone(),
            None,
            None,
        )
    }

    fn state_of(s: &KeySchedule, index: u32, now: u64) -> Option<KeyState> {
        s.states(now)
            .into_iter()
            .find(|(k, _, _)| k.index == index)
            .map(|(_, st, _)| st)
    }

    #[test]
    fn before_any_rotation_the_seed_key_signs_alone() {
        let s = KeySchedule::default();
        let r = ring(&s);
        assert_eq!(r.signing(T).public().kid(), r.kid(0));
        assert_eq!(r.published(T).len(), 1);
        assert_eq!(s.pending(T), None);
    }

    #[test]
    fn rotation_publishes_first_switches_after_the_lead_and_retires_after_the_tokens() {
        let mut s = KeySchedule::default();
        let next = s.rotate(T, LEAD).unwrap();
        assert_eq!(
            (next.index, next.published_at, next.signs_from),
            (1, T, T + LEAD)
        );
        let r = ring(&s);
        // Before the switch: the old key signs, both are published, current first.
        for now in [T, T + LEAD - 1] {
            assert_eq!(r.signing(now).public().kid(), r.kid(0));
            let kids: Vec<&str> = r.published(now).iter().map(|k| k.kid()).collect();
            assert_eq!(kids, [r.kid(0), r.kid(1)]);
            assert_eq!(state_of(&s, 1, now), Some(KeyState::Next));
        }
        // At the switch: the new key signs; the old one is still published.
        let switch = T + LEAD;
        assert_eq!(r.signing(switch).public().kid(), r.kid(1));
        let kids: Vec<&str> = r.published(switch).iter().map(|k| k.kid()).collect();
        assert_eq!(kids, [r.kid(1), r.kid(0)]);
        assert_eq!(state_of(&s, 0, switch), Some(KeyState::Previous));
        assert!(r.find(r.kid(0), switch).is_some());
        // Until every token the old key signed has expired, then dropped.
        let retire = switch + RETIRE_AFTER;
        assert_eq!(state_of(&s, 0, retire - 1), Some(KeyState::Previous));
        assert_eq!(state_of(&s, 0, retire), Some(KeyState::Retired));
        assert!(r.find(r.kid(0), retire).is_none());
        assert_eq!(r.published(retire).len(), 1);
        let states = s.states(switch);
        assert_eq!(states[0].2, Some(retire));
        assert_eq!(states[1].2, None);
    }

    #[test]
    fn a_second_rotation_waits_for_the_first_switch() {
        let mut s = KeySchedule::default();
        let first = s.rotate(T, LEAD).unwrap();
        assert_eq!(s.rotate(T + 10, LEAD), Err(first));
        let second = s.rotate(T + LEAD, LEAD).unwrap();
        assert_eq!(second.index, 2);
        assert_eq!(state_of(&s, 0, T + LEAD), Some(KeyState::Previous));
        assert_eq!(state_of(&s, 1, T + LEAD), Some(KeyState::Current));
        // Key 0 retires on its own schedule, measured from key 1's switch.
        assert_eq!(
            state_of(&s, 0, T + LEAD + RETIRE_AFTER),
            Some(KeyState::Retired)
        );
    }

    #[test]
    fn prune_drops_only_retired_keys() {
        let mut s = KeySchedule::default();
        s.rotate(T, LEAD).unwrap();
        assert!(s.prune(T + LEAD).is_empty());
        let dropped = s.prune(T + LEAD + RETIRE_AFTER);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].index, 0);
        assert_eq!(s.states(T + LEAD + RETIRE_AFTER).len(), 1);
        // Rotating later keeps counting indexes up, never reusing a retired key.
        assert_eq!(s.rotate(T + 2 * RETIRE_AFTER, LEAD).unwrap().index, 2);
    }

    #[test]
    fn periodic_rotation_is_due_after_a_period_of_signing() {
        let day = 86_400;
        let mut s = KeySchedule::default();
        assert!(s.rotation_due(T, 30 * day));
        s.rotate(T, LEAD).unwrap();
        assert!(!s.rotation_due(T + 1, 30 * day), "pending");
        assert!(!s.rotation_due(T + LEAD + 29 * day, 30 * day));
        assert!(s.rotation_due(T + LEAD + 30 * day, 30 * day));
    }

    #[test]
    fn stored_schedules_out_of_order_are_refused() {
        let good = serde_json::json!({"keys": [
            {"index": 0, "published_at": 0, "signs_from": 0},
            {"index": 1, "published_at": 5, "signs_from": 10}]});
        let s: KeySchedule = serde_json::from_value(good).unwrap();
        assert!(s.checked().is_ok());
        for bad in [
            serde_json::json!({"keys": []}),
            serde_json::json!({"keys": [
                {"index": 1, "published_at": 0, "signs_from": 0},
                {"index": 1, "published_at": 5, "signs_from": 10}]}),
            serde_json::json!({"keys": [
                {"index": 0, "published_at": 0, "signs_from": 20},
                {"index": 1, "published_at": 5, "signs_from": 10}]}),
        ] {
            let s: KeySchedule = serde_json::from_value(bad).unwrap();
            assert!(s.checked().is_err());
        }
    }

    #[test]
    fn a_refreshed_ring_reuses_derived_keys() {
        let seed = Seed::new(Zeroizing::new([5; 32]));
        let mut s = KeySchedule::default();
        let a = KeyRing::new(&seed, s.clone(), None, None);
        s.rotate(T, LEAD).unwrap();
        let b = KeyRing::new(&seed, s, None, Some(&a));
        assert!(Rc::ptr_eq(&a.keys[0].1, &b.keys[0].1));
        assert_eq!(b.keys.len(), 2);
    }

    #[test]
    fn the_configured_previous_key_is_published_last() {
        let prev = SigningKey::from_seed(&[9; 32]).public().clone();
        let seed = Seed::new(Zeroizing::new([5; 32]));
        let r = KeyRing::new(&seed, KeySchedule::default(), Some(prev.clone()), None);
        let kids: Vec<&str> = r.published(T).iter().map(|k| k.kid()).collect();
        assert_eq!(kids, [r.kid(0), prev.kid()]);
        assert!(r.find(prev.kid(), T).is_some());
    }

    fn kids(r: &KeyRing, now: u64) -> Vec<&str> {
        r.published(now).iter().map(|k| k.kid()).collect()
    }

    #[test]
    fn revoking_the_only_key_signs_with_a_fresh_one_at_once() {
        let mut s = KeySchedule::default();
        assert_eq!(s.revoke(0, T), Ok(true));
        let r = ring(&s);
        assert_eq!(r.signing(T).public().kid(), r.kid(1));
        assert_eq!(kids(&r, T), [r.kid(1)]);
        assert!(r.find(r.kid(0), T).is_none());
        let states = s.states(T);
        assert_eq!(states[0].1, KeyState::Revoked);
        assert_eq!(states[0].2, None);
        assert_eq!(states[0].0.revoked_at, Some(T));
        assert_eq!(
            (
                states[1].0.index,
                states[1].0.published_at,
                states[1].0.signs_from
            ),
            (1, T, T)
        );
        assert_eq!(states[1].1, KeyState::Current);
        // The fresh key starts the rotation period over.
        assert!(!s.rotation_due(T + 1, 30 * 86_400));
    }

    #[test]
    fn revoking_the_signing_key_during_a_rotation_promotes_the_next_key() {
        let mut s = KeySchedule::default();
        s.rotate(T, LEAD).unwrap();
        assert_eq!(s.revoke(0, T + 10), Ok(true));
        let r = ring(&s);
        assert_eq!(r.signing(T + 10).public().kid(), r.kid(1));
        assert_eq!(kids(&r, T + 10), [r.kid(1)]);
        assert_eq!(s.pending(T + 10), None);
        assert_eq!(state_of(&s, 1, T + 10), Some(KeyState::Current));
        assert_eq!(
            s.states(T + 10).len(),
            2,
            "no fresh key: the next one took over"
        );
    }

    #[test]
    fn revoking_a_previous_key_unpublishes_it_and_leaves_signing_alone() {
        let mut s = KeySchedule::default();
        s.rotate(T, LEAD).unwrap();
        let now = T + LEAD + 5;
        assert_eq!(s.revoke(0, now), Ok(true));
        let r = ring(&s);
        assert_eq!(r.signing(now).public().kid(), r.kid(1));
        assert_eq!(kids(&r, now), [r.kid(1)]);
        assert_eq!(state_of(&s, 0, now), Some(KeyState::Revoked));
        assert_eq!(s.states(now).len(), 2);
    }

    #[test]
    fn a_revoked_next_key_never_signs_and_is_never_derived_again() {
        let mut s = KeySchedule::default();
        s.rotate(T, LEAD).unwrap();
        assert_eq!(s.revoke(1, T + 10), Ok(true));
        let r = ring(&s);
        for now in [T + 10, T + LEAD, T + 3 * RETIRE_AFTER] {
            assert_eq!(r.signing(now).public().kid(), r.kid(0));
            assert_eq!(kids(&r, now), [r.kid(0)]);
        }
        assert_eq!(s.pending(T + 10), None, "a new rotation may start");
        // The revoked key holds the highest index, so pruning keeps it, long after.
        assert!(s.prune(T + 3 * RETIRE_AFTER).is_empty());
        let later = T + 3 * RETIRE_AFTER;
        let next = s.rotate(later, LEAD).unwrap();
        assert_eq!(next.index, 2);
        // Key 0 signed until key 2 took over, not until the revoked key's planned switch.
        let retires: Vec<_> = s
            .states(later + LEAD)
            .into_iter()
            .map(|(_, _, r)| r)
            .collect();
        assert_eq!(retires[0], Some(later + LEAD + RETIRE_AFTER));
        // Once it is no longer the last, the revoked key goes when its tokens have expired.
        assert_eq!(s.prune(later).len(), 1);
        assert_eq!(s.indexes().collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn a_revoked_signing_key_is_dropped_after_its_tokens_have_expired() {
        let mut s = KeySchedule::default();
        s.revoke(0, T).unwrap();
        assert!(s.prune(T + RETIRE_AFTER - 1).is_empty());
        assert_eq!(s.prune(T + RETIRE_AFTER)[0].index, 0);
        assert_eq!(s.rotate(T + RETIRE_AFTER, LEAD).unwrap().index, 2);
    }

    #[test]
    fn revoking_twice_changes_nothing() {
        let mut s = KeySchedule::default();
        s.revoke(0, T).unwrap();
        let once = s.clone();
        assert_eq!(s.revoke(0, T + 5), Ok(false));
        assert_eq!(s, once);
    }

    #[test]
    fn a_full_schedule_refuses_to_add_a_fresh_key_and_is_left_unchanged() {
        let mut s = KeySchedule::default();
        for i in 0..MAX_KEYS as u64 - 1 {
            s.rotate(T + i * LEAD, LEAD).unwrap();
        }
        let now = T + MAX_KEYS as u64 * LEAD;
        assert_eq!(s.states(now).len(), MAX_KEYS);
        let before = s.clone();
        let current = s.keys[s.current_position(now)].index;
        let full = format!("no room for a fresh signing key: the schedule holds {MAX_KEYS} keys");
        assert_eq!(s.revoke(current, now), Err(Error::Conflict(full.into())));
        assert_eq!(s, before);
        // A previous key needs no fresh one.
        assert_eq!(s.revoke(0, now), Ok(true));
    }

    #[test]
    fn a_stored_schedule_without_an_unrevoked_key_is_refused() {
        let bad = serde_json::json!({"keys": [
            {"index": 0, "published_at": 0, "signs_from": 0, "revoked_at": 5}]});
        let s: KeySchedule = serde_json::from_value(bad).unwrap();
        assert!(s.checked().is_err());
    }
}
