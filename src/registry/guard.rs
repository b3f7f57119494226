//! The client's guard: lockout and the other per-client facts that must hold everywhere at
//! once. One guard per client (the `ClientGuard` Durable Object in production, reached through
//! `ports::Guards`; an in-memory one in tests) applies [`GuardOp`]s to its [`GuardState`] one at
//! a time, so counting is exact under concurrent attempts from any location. It also claims
//! assertion `jti`s, and holds revoked access tokens ([`GuardState::is_token_revoked`]).
//!
//! Isolates cache the state for [`crate::support::cache::CACHE_TTL_MS`] beside the client
//! record, so a warm successful token request never calls the guard, and a lock, disable,
//! delete or secret removal bites everywhere within that TTL instead of waiting for KV.
//!
//! Only clients that exist get state: unknown ids are refused before the guard is asked, so
//! sprayed random ids create nothing.

use serde::{Deserialize, Serialize};

use crate::registry::quota::{TokenCounts, TokenReport};

/// Failed authentications within [`LOCK_SECS`] that lock a client.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts, and the window failures are counted in.
pub const LOCK_SECS: u64 = 3_600;
/// How long a "valid after" mark is kept: the longest access-token lifetime (24 h) and skew.
pub const TOKEN_MARK_SECS: u64 = 86_400 + 60;
/// How long a deletion or secret removal is remembered: far beyond KV's propagation delay.
pub const REMEMBER_SECS: u64 = 86_400;
const MAX_REVOKED: usize = 64;
/// Clock difference tolerated on access tokens' `exp` and `iat` (`oauth::access_token::SKEW`).
pub const TOKEN_SKEW: u64 = 60;
/// Most tokens a client may revoke itself per UTC minute: each is a guard write, so a client
/// cannot turn mint-and-revoke into a flood of state and audit events.
pub const SELF_REVOCATIONS_PER_MINUTE: u32 = 60;
/// Shortest time between two writes of an hour's aggregated self-revocation audit event.
pub const SELF_REVOCATION_REPORT_SECS: u64 = 60;
/// Most revoked token ids one client's guard holds; beyond it, the oldest fold into the
/// "valid after" mark (see [`GuardOp::RevokeToken`]).
pub const MAX_REVOKED_TOKENS: usize = 1_000;

/// What a client's guard knows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardState {
    /// Failed authentications since the last success or unlock, within the window.
    #[serde(default)]
    pub failures: u32,
    /// When the first of those failures happened: older failures no longer count.
    #[serde(default)]
    pub failing_since: Option<u64>,
    /// Locked until this time (epoch seconds).
    #[serde(default)]
    pub locked_until: Option<u64>,
    /// The failure count at which the current lock began: the one failure that sees
    /// `failures == locked_after` started it, however many run at once.
    #[serde(default)]
    pub locked_after: u32,
    /// Disabled by an admin.
    #[serde(default)]
    pub disabled: bool,
    /// Deleted by an admin; remembered until this time.
    #[serde(default)]
    pub deleted_until: Option<u64>,
    /// Removed secrets, each remembered until its time.
    #[serde(default)]
    pub revoked: Vec<(String, u64)>,
    /// Removed keys (see [`key_id`] and [`key_source`]), each remembered until its time.
    #[serde(default)]
    pub revoked_keys: Vec<(String, u64)>,
    /// Tokens issued at or before this time (epoch seconds) are revoked, until it is older
    /// than the longest token lifetime (then every such token has expired anyway).
    #[serde(default)]
    pub tokens_valid_after: Option<u64>,
    /// Single revoked tokens, each held until its `exp` + [`TOKEN_SKEW`]; at most
    /// [`MAX_REVOKED_TOKENS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked_tokens: Vec<RevokedToken>,
    /// Tokens counted under the client's quota, per isolate, this UTC hour and day (the
    /// entries: [`crate::registry::quota`]).
    #[serde(default, skip_serializing_if = "TokenCounts::is_empty")]
    pub quota: TokenCounts,
    /// The client's revocations of its own tokens, counted for the limit and the audit trail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_revoked: Option<SelfRevocations>,
}

/// A client's revocations of its own tokens: per UTC minute for
/// [`SELF_REVOCATIONS_PER_MINUTE`], per UTC hour for the one aggregated audit event. Stored as
/// an array of six numbers: a struct's derived reader costs the wasm about 2 KB more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "[u64; 6]", into = "[u64; 6]")]
pub struct SelfRevocations {
    /// Start of the minute counted (epoch seconds).
    pub minute: u64,
    /// Revocations in that minute.
    pub in_minute: u32,
    /// Start of the hour counted (epoch seconds).
    pub hour: u64,
    /// Revocations in that hour.
    pub in_hour: u32,
    /// When the hour's audit event was last due to be written, and the count it carries.
    pub reported_at: u64,
    /// The count the hour's audit event was last written with.
    pub reported: u32,
}

/// The hour's aggregated self-revocation event to write now: the hour and its running count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelfRevocationReport {
    /// Start of the hour (epoch seconds).
    pub hour: u64,
    /// Tokens the client revoked itself in that hour so far.
    pub count: u32,
}

/// One revoked access token, named by its `jti`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedToken {
    /// The token's id.
    pub jti: String,
    /// When it was issued (an upper bound when unknown): what a fold into the mark must cover.
    pub iat: u64,
    /// When it expires; it is forgotten [`TOKEN_SKEW`] later, when no check accepts it anyway.
    pub exp: u64,
}

/// How a removed registered key is named in the guard: its RFC 7638 thumbprint.
pub fn key_id(thumbprint: &str) -> String {
    format!("key:{thumbprint}")
}

/// How a removed `jwks_uri` is named in the guard: every key it serves goes with it.
pub fn key_source(jwks_uri: &str) -> String {
    format!("uri:{jwks_uri}")
}

/// A change to a guard's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", try_from = "WireOp")]
pub enum GuardOp {
    /// Read only.
    Read,
    /// A failed authentication; `lock` is the client's `lockout_enabled`.
    Failure {
        /// Whether this failure may lock the client.
        lock: bool,
    },
    /// A successful authentication after failures: the count starts over.
    Success,
    /// An admin lifts the lock.
    Unlock,
    /// An admin enables or disables the client.
    Enable {
        /// The new state.
        enabled: bool,
    },
    /// An admin deleted the client.
    Delete,
    /// An admin removed a secret.
    Revoke {
        /// The removed secret.
        secret_id: String,
    },
    /// An admin revoked every token the client was issued until now.
    RevokeTokens,
    /// The client revoked one of its own tokens: as [`GuardOp::RevokeToken`], counted, and
    /// refused (nothing changes) beyond [`SELF_REVOCATIONS_PER_MINUTE`].
    ClientRevokeToken(RevokedToken),
    /// One token was revoked. It is held until `exp` + skew. When the list is full, the
    /// entries with the oldest `iat` fold into the "valid after" mark, which then covers every
    /// token issued up to that `iat`: more is revoked than asked, never less.
    RevokeToken(RevokedToken),
    /// An admin changed a client's keys: `removed` stop working everywhere at once, and
    /// `current` (perhaps removed before and now back) work again.
    Keys {
        /// Keys and key sources removed ([`key_id`], [`key_source`]).
        removed: Vec<String>,
        /// Keys and key sources the client has now.
        current: Vec<String>,
    },
    /// An isolate's running totals of tokens issued under a quota (see
    /// [`crate::registry::quota`]).
    Tokens {
        /// The report.
        tokens: TokenReport,
    },
}

/// How the guard reads a [`GuardOp`]: the tag and every variant's fields in one flat struct.
/// The derived reader of the internally tagged enum buffered each variant on its own (about
/// 10 KB of wasm more); the wire format, written by the derived `Serialize`, is the same.
#[derive(Deserialize)]
struct WireOp {
    op: OpName,
    lock: Option<bool>,
    enabled: Option<bool>,
    secret_id: Option<String>,
    jti: Option<String>,
    iat: Option<u64>,
    exp: Option<u64>,
    removed: Option<Vec<String>>,
    current: Option<Vec<String>>,
    tokens: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum OpName {
    Read,
    Failure,
    Success,
    Unlock,
    Enable,
    Delete,
    Revoke,
    RevokeTokens,
    RevokeToken,
    ClientRevokeToken,
    Keys,
    Tokens,
}

impl TryFrom<WireOp> for GuardOp {
    type Error = String;

    fn try_from(w: WireOp) -> Result<GuardOp, String> {
        fn field<T>(value: Option<T>, name: &str) -> Result<T, String> {
            value.ok_or_else(|| format!("missing field `{name}`"))
        }
        Ok(match w.op {
            OpName::Read => GuardOp::Read,
            OpName::Failure => GuardOp::Failure {
                lock: field(w.lock, "lock")?,
            },
            OpName::Success => GuardOp::Success,
            OpName::Unlock => GuardOp::Unlock,
            OpName::Enable => GuardOp::Enable {
                enabled: field(w.enabled, "enabled")?,
            },
            OpName::Delete => GuardOp::Delete,
            OpName::Revoke => GuardOp::Revoke {
                secret_id: field(w.secret_id, "secret_id")?,
            },
            OpName::RevokeTokens => GuardOp::RevokeTokens,
            OpName::RevokeToken | OpName::ClientRevokeToken => {
                let token = RevokedToken {
                    jti: field(w.jti, "jti")?,
                    iat: field(w.iat, "iat")?,
                    exp: field(w.exp, "exp")?,
                };
                match w.op {
                    OpName::RevokeToken => GuardOp::RevokeToken(token),
                    _ => GuardOp::ClientRevokeToken(token),
                }
            }
            OpName::Keys => GuardOp::Keys {
                removed: field(w.removed, "removed")?,
                current: field(w.current, "current")?,
            },
            OpName::Tokens => GuardOp::Tokens {
                tokens: TokenReport::parse(&field(w.tokens, "tokens")?)
                    .ok_or("malformed field `tokens`")?,
            },
        })
    }
}

impl GuardState {
    /// Applies one change at `now`.
    pub fn apply(&mut self, op: &GuardOp, now: u64) {
        self.prune(now);
        match op {
            GuardOp::Read => {}
            GuardOp::Failure { lock } => {
                self.failing_since.get_or_insert(now);
                self.failures = self.failures.saturating_add(1);
                if *lock && self.locked_until.is_none() && self.failures >= MAX_FAILURES {
                    self.locked_until = Some(now + LOCK_SECS);
                    self.locked_after = self.failures;
                }
            }
            GuardOp::Success => self.forget_failures(),
            GuardOp::Unlock => {
                self.forget_failures();
                self.locked_until = None;
                self.locked_after = 0;
            }
            GuardOp::Enable { enabled } => self.disabled = !enabled,
            GuardOp::Delete => self.deleted_until = Some(now + REMEMBER_SECS),
            GuardOp::Revoke { secret_id } => {
                remember(&mut self.revoked, secret_id, now);
            }
            GuardOp::RevokeTokens => self.raise_mark(now),
            GuardOp::RevokeToken(token) => self.revoke_token(token),
            GuardOp::ClientRevokeToken(token) => {
                if self.is_token_revoked(&token.jti, token.iat) {
                    return;
                }
                let counts = self.self_revoked.get_or_insert_with(Default::default);
                counts.roll(now);
                if counts.in_minute >= SELF_REVOCATIONS_PER_MINUTE {
                    return;
                }
                counts.in_minute += 1;
                counts.in_hour += 1;
                // The hour's event is written with its first revocation, then at most once a
                // minute with the running count.
                if counts.reported == 0 || now >= counts.reported_at + SELF_REVOCATION_REPORT_SECS {
                    counts.reported_at = now;
                    counts.reported = counts.in_hour;
                }
                self.revoke_token(token);
            }
            GuardOp::Keys { removed, current } => {
                self.revoked_keys.retain(|(k, _)| !current.contains(k));
                for k in removed {
                    remember(&mut self.revoked_keys, k, now);
                }
            }
            GuardOp::Tokens { tokens } => {
                self.quota.count(tokens, now);
            }
        }
    }

    /// Moves the "valid after" mark to `t` unless it is already later (a mark never goes
    /// back), and drops the single revocations it now covers.
    fn raise_mark(&mut self, t: u64) {
        let mark = self.tokens_valid_after.map_or(t, |m| m.max(t));
        self.tokens_valid_after = Some(mark);
        self.revoked_tokens.retain(|r| r.iat > mark);
    }

    fn revoke_token(&mut self, token: &RevokedToken) {
        if self.is_token_revoked(&token.jti, token.iat) {
            return;
        }
        if self.revoked_tokens.len() >= MAX_REVOKED_TOKENS {
            // Full: fold the earliest issued into the mark. Tokens issued at or before it
            // stop too; the newly revoked one is held as asked, or covered if it is the oldest.
            let oldest = self
                .revoked_tokens
                .iter()
                .map(|r| r.iat)
                .chain([token.iat])
                .min()
                .unwrap_or(token.iat);
            self.raise_mark(oldest);
            if token.iat <= oldest {
                return;
            }
        }
        self.revoked_tokens.push(token.clone());
    }

    /// Seconds until the client may revoke its own tokens again, if it used up this minute's.
    pub fn self_revocation_wait(&self, now: u64) -> Option<u64> {
        let c = self.self_revoked.as_ref()?;
        let this_minute = c.minute == now - now % 60;
        (this_minute && c.in_minute >= SELF_REVOCATIONS_PER_MINUTE).then(|| c.minute + 60 - now)
    }

    /// The aggregated audit event the self-revocation applied at `now` made due, if any.
    pub fn self_revocation_report(&self, now: u64) -> Option<SelfRevocationReport> {
        let c = self.self_revoked.as_ref()?;
        (c.reported_at == now && c.reported == c.in_hour && c.reported > 0).then_some(
            SelfRevocationReport {
                hour: c.hour,
                count: c.in_hour,
            },
        )
    }

    fn forget_failures(&mut self) {
        self.failures = 0;
        self.failing_since = None;
    }

    /// Forgets what has expired; an expired lock, or failures older than the window while not
    /// locked, also clear the count.
    pub fn prune(&mut self, now: u64) {
        if self.locked_until.is_some_and(|u| u <= now) {
            self.locked_until = None;
            self.locked_after = 0;
            self.forget_failures();
        }
        let stale = self.failing_since.is_some_and(|t| t + LOCK_SECS <= now);
        if stale && self.locked_until.is_none() {
            self.forget_failures();
        }
        if self.deleted_until.is_some_and(|u| u <= now) {
            self.deleted_until = None;
        }
        self.revoked.retain(|(_, until)| *until > now);
        self.revoked_keys.retain(|(_, until)| *until > now);
        if self
            .tokens_valid_after
            .is_some_and(|t| t + TOKEN_MARK_SECS <= now)
        {
            self.tokens_valid_after = None;
        }
        self.revoked_tokens
            .retain(|r| r.exp.saturating_add(TOKEN_SKEW) > now);
        if self
            .self_revoked
            .as_ref()
            .is_some_and(|c| c.hour + 3_600 <= now)
        {
            self.self_revoked = None;
        }
        self.quota.roll(now);
    }

    /// Whether the token `jti` issued at `iat` was revoked: one by one, or by the client's
    /// "valid after" mark. A token from the mark's own second counts as revoked: failing
    /// closed for that second. Every check of a token's state uses this one rule.
    pub fn is_token_revoked(&self, jti: &str, iat: u64) -> bool {
        self.tokens_valid_after.is_some_and(|t| iat <= t)
            || self.revoked_tokens.iter().any(|r| r.jti == jti)
    }

    /// The lock's end, if locked at `now`.
    pub fn locked(&self, now: u64) -> Option<u64> {
        self.locked_until.filter(|u| *u > now)
    }

    /// Whether the failure that produced this state is the one that started the lock.
    pub fn just_locked(&self, now: u64) -> bool {
        self.locked(now).is_some() && self.failures == self.locked_after
    }

    /// Whether an admin disabled or deleted the client.
    pub fn is_disabled(&self, now: u64) -> bool {
        self.disabled || self.deleted_until.is_some_and(|u| u > now)
    }

    /// Whether a secret was removed recently.
    pub fn is_revoked(&self, secret_id: &str) -> bool {
        self.revoked.iter().any(|(id, _)| id == secret_id)
    }

    /// Whether a key or key source ([`key_id`], [`key_source`]) was removed recently.
    pub fn is_key_revoked(&self, name: &str) -> bool {
        self.revoked_keys.iter().any(|(k, _)| k == name)
    }

    /// The next time something here expires, for the guard's cleanup alarm.
    pub fn next_expiry(&self) -> Option<u64> {
        let revoked = self
            .revoked
            .iter()
            .chain(&self.revoked_keys)
            .map(|(_, u)| *u);
        let window = self.failing_since.map(|t| t + LOCK_SECS);
        let mark = self.tokens_valid_after.map(|t| t + TOKEN_MARK_SECS);
        let tokens = self.revoked_tokens.iter().map(|r| r.exp + TOKEN_SKEW);
        let counted = self.self_revoked.as_ref().map(|c| c.hour + 3_600);
        let quota = self.quota.expiry();
        self.locked_until
            .into_iter()
            .chain(counted)
            .chain(quota)
            .chain(window)
            .chain(mark)
            .chain(tokens)
            .chain(self.deleted_until)
            .chain(revoked)
            .min()
    }

    /// Whether there is nothing worth storing.
    pub fn is_empty(&self) -> bool {
        *self == GuardState::default()
    }
}

impl From<[u64; 6]> for SelfRevocations {
    fn from([minute, in_minute, hour, in_hour, reported_at, reported]: [u64; 6]) -> Self {
        let count = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
        SelfRevocations {
            minute,
            in_minute: count(in_minute),
            hour,
            in_hour: count(in_hour),
            reported_at,
            reported: count(reported),
        }
    }
}

impl From<SelfRevocations> for [u64; 6] {
    fn from(c: SelfRevocations) -> Self {
        let (m, h, r) = (c.in_minute.into(), c.in_hour.into(), c.reported.into());
        [c.minute, m, c.hour, h, c.reported_at, r]
    }
}

impl SelfRevocations {
    /// Starts a new minute or hour when `now` is past the one counted.
    fn roll(&mut self, now: u64) {
        let (minute, hour) = (now - now % 60, now - now % 3_600);
        if self.minute != minute {
            (self.minute, self.in_minute) = (minute, 0);
        }
        if self.hour != hour {
            *self = SelfRevocations {
                minute,
                hour,
                ..Default::default()
            };
        }
    }
}

/// Remembers `name` for a day, keeping the list bounded (the oldest goes first).
fn remember(list: &mut Vec<(String, u64)>, name: &str, now: u64) {
    list.retain(|(n, _)| n != name);
    if list.len() >= MAX_REVOKED {
        list.remove(0);
    }
    list.push((name.to_string(), now + REMEMBER_SECS));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_reads_back_as_written_also_inside_a_tagged_request() {
        #[derive(Serialize, Deserialize)]
        #[serde(tag = "kind")]
        enum Request {
            Guard { change: GuardOp, now: i64 },
        }
        let ops = [
            GuardOp::Read,
            GuardOp::Failure { lock: true },
            GuardOp::Success,
            GuardOp::Unlock,
            GuardOp::Enable { enabled: false },
            GuardOp::Delete,
            GuardOp::Revoke {
                secret_id: "s1".into(),
            },
            GuardOp::RevokeTokens,
            GuardOp::RevokeToken(RevokedToken {
                jti: "j".into(),
                iat: 1,
                exp: 2,
            }),
            GuardOp::ClientRevokeToken(RevokedToken {
                jti: "c".into(),
                iat: 1,
                exp: 2,
            }),
            GuardOp::Keys {
                removed: vec!["key:a".into()],
                current: vec![],
            },
            GuardOp::Tokens {
                tokens: TokenReport {
                    isolate: "i".into(),
                    hour: 3,
                    in_hour: 4,
                    in_day: 5,
                    monitor_hour: 0,
                    monitor_day: 9,
                },
            },
        ];
        for op in ops {
            let json = serde_json::to_string(&op).unwrap();
            assert_eq!(
                serde_json::from_str::<GuardOp>(&json).unwrap(),
                op,
                "{json}"
            );
            let wrapped = serde_json::to_string(&Request::Guard {
                change: op.clone(),
                now: 5,
            })
            .unwrap();
            let Request::Guard { change, now } = serde_json::from_str(&wrapped).unwrap();
            assert_eq!((change, now), (op, 5), "{wrapped}");
        }
        let missing = serde_json::from_str::<GuardOp>(r#"{"op":"failure"}"#).unwrap_err();
        assert!(missing.to_string().starts_with("missing field `lock`"));
        assert!(serde_json::from_str::<GuardOp>(r#"{"op":"nope"}"#).is_err());
    }

    #[test]
    fn five_failures_in_a_row_lock_for_an_hour() {
        let mut s = GuardState::default();
        for _ in 0..4 {
            s.apply(&GuardOp::Failure { lock: true }, 100);
        }
        assert_eq!(s.locked(100), None);
        s.apply(&GuardOp::Failure { lock: true }, 100);
        assert_eq!(s.locked(100), Some(100 + LOCK_SECS));
        assert!(s.just_locked(100));
        // Later failures count but do not extend the lock.
        s.apply(&GuardOp::Failure { lock: true }, 200);
        assert!(!s.just_locked(200));
        assert_eq!((s.failures, s.locked(200)), (6, Some(100 + LOCK_SECS)));
        // The lock ends on time and the count starts over.
        s.apply(&GuardOp::Read, 100 + LOCK_SECS);
        assert_eq!((s.failures, s.locked(100 + LOCK_SECS)), (0, None));
    }

    #[test]
    fn a_success_resets_the_count_and_unlock_lifts_the_lock() {
        let mut s = GuardState::default();
        for _ in 0..4 {
            s.apply(&GuardOp::Failure { lock: true }, 1);
        }
        s.apply(&GuardOp::Success, 1);
        s.apply(&GuardOp::Failure { lock: true }, 1);
        assert_eq!((s.failures, s.locked(1)), (1, None));
        for _ in 0..4 {
            s.apply(&GuardOp::Failure { lock: true }, 1);
        }
        assert!(s.locked(1).is_some());
        s.apply(&GuardOp::Unlock, 2);
        assert!(s.is_empty());
    }

    #[test]
    fn failures_older_than_the_window_no_longer_count() {
        let mut s = GuardState::default();
        for _ in 0..4 {
            s.apply(&GuardOp::Failure { lock: true }, 100);
        }
        // A month later, one more failure is the first of a new window.
        s.apply(&GuardOp::Failure { lock: true }, 100 + 30 * 86_400);
        assert_eq!((s.failures, s.locked(100 + 30 * 86_400)), (1, None));
        assert_eq!(s.next_expiry(), Some(100 + 30 * 86_400 + LOCK_SECS));
        // Left alone, the window closes and the state is empty again.
        s.apply(&GuardOp::Read, 100 + 30 * 86_400 + LOCK_SECS);
        assert!(s.is_empty());
    }

    #[test]
    fn without_lockout_failures_are_counted_but_never_lock() {
        let mut s = GuardState::default();
        for _ in 0..50 {
            s.apply(&GuardOp::Failure { lock: false }, 1);
        }
        assert_eq!((s.failures, s.locked(1)), (50, None));
    }

    #[test]
    fn deletions_and_revocations_are_remembered_for_a_day() {
        let mut s = GuardState::default();
        s.apply(
            &GuardOp::Revoke {
                secret_id: "a".into(),
            },
            10,
        );
        s.apply(&GuardOp::Delete, 10);
        assert!(s.is_revoked("a") && s.is_disabled(10));
        assert_eq!(s.next_expiry(), Some(10 + REMEMBER_SECS));
        s.apply(&GuardOp::Read, 10 + REMEMBER_SECS);
        assert!(s.is_empty());
    }

    fn token(jti: &str, iat: u64, exp: u64) -> GuardOp {
        GuardOp::RevokeToken(RevokedToken {
            jti: jti.into(),
            iat,
            exp,
        })
    }

    #[test]
    fn a_revoked_token_is_held_until_exp_plus_skew_and_no_longer() {
        let mut s = GuardState::default();
        s.apply(&token("a", 100, 1_000), 100);
        assert!(s.is_token_revoked("a", 100) && !s.is_token_revoked("b", 100));
        assert_eq!(s.next_expiry(), Some(1_000 + TOKEN_SKEW));
        // Repeating it changes nothing.
        let before = s.clone();
        s.apply(&token("a", 100, 1_000), 200);
        assert_eq!(s, before);
        s.apply(&GuardOp::Read, 1_000 + TOKEN_SKEW - 1);
        assert!(s.is_token_revoked("a", 100));
        s.apply(&GuardOp::Read, 1_000 + TOKEN_SKEW);
        assert!(s.is_empty());
    }

    #[test]
    fn a_full_list_folds_its_earliest_issued_into_the_mark_revoking_more_never_less() {
        let mut s = GuardState::default();
        let iat = |i: u64| 1_000 + 2 * i;
        for i in 0..MAX_REVOKED_TOKENS as u64 {
            s.apply(&token(&format!("t{i}"), iat(i), 60_000), 5_000);
        }
        assert_eq!(
            (s.revoked_tokens.len(), s.tokens_valid_after),
            (MAX_REVOKED_TOKENS, None)
        );
        s.apply(&token("new", 4_000, 60_000), 5_000);
        // The one issued first folds into a mark at its iat; every other stays held.
        assert_eq!(s.tokens_valid_after, Some(1_000));
        assert_eq!(s.revoked_tokens.len(), MAX_REVOKED_TOKENS);
        for i in 0..MAX_REVOKED_TOKENS as u64 {
            assert!(s.is_token_revoked(&format!("t{i}"), iat(i)));
        }
        assert!(s.is_token_revoked("new", 4_000));
        // The price: a token never revoked but issued at or before the mark is revoked too;
        // one issued after it is not.
        assert!(s.is_token_revoked("other", 999) && !s.is_token_revoked("other", 1_001));
        // A token issued before everything held is itself the one that folds.
        s.apply(&token("oldest", 1_001, 60_000), 5_000);
        assert_eq!(s.tokens_valid_after, Some(1_001));
        assert!(s.is_token_revoked("oldest", 1_001));
        assert_eq!(s.revoked_tokens.len(), MAX_REVOKED_TOKENS);
        // The held tokens go at their exp + skew; the mark outlives every token it covers.
        assert_eq!(s.next_expiry(), Some(60_000 + TOKEN_SKEW));
        s.apply(&GuardOp::Read, 60_000 + TOKEN_SKEW);
        assert!(s.revoked_tokens.is_empty() && s.tokens_valid_after.is_some());
        assert_eq!(s.next_expiry(), Some(1_001 + TOKEN_MARK_SECS));
        s.apply(&GuardOp::Read, 1_001 + TOKEN_MARK_SECS);
        assert!(s.is_empty());
    }

    #[test]
    fn the_mark_never_goes_back_and_drops_what_it_covers() {
        let mut s = GuardState::default();
        s.apply(&token("a", 100, 1_000), 100);
        s.apply(&token("b", 300, 1_000), 300);
        s.apply(&GuardOp::RevokeTokens, 200);
        assert_eq!(s.tokens_valid_after, Some(200));
        assert_eq!(s.revoked_tokens.len(), 1);
        assert!(s.is_token_revoked("a", 100) && s.is_token_revoked("b", 300));
        // A token the mark covers is not held again.
        s.apply(&token("c", 150, 1_000), 250);
        assert_eq!(s.revoked_tokens.len(), 1);
    }

    #[test]
    fn a_clients_own_revocations_stop_at_the_minutes_limit_and_report_once_a_minute() {
        let own = |jti: String| {
            GuardOp::ClientRevokeToken(RevokedToken {
                jti,
                iat: 1,
                exp: 90_000,
            })
        };
        let mut s = GuardState::default();
        let t = 7_200 + 30;
        for i in 0..SELF_REVOCATIONS_PER_MINUTE {
            s.apply(&own(format!("t{i}")), t);
        }
        assert_eq!(s.self_revocation_wait(t), Some(30));
        let before = s.clone();
        s.apply(&own("over".into()), t);
        assert_eq!(s, before, "refused: nothing changes");
        // The first of the hour is reported; the rest wait a minute after it.
        assert_eq!(
            s.self_revocation_report(t),
            None,
            "the report was due at the first, which carried 1"
        );
        s.apply(&own("next".into()), t + 30);
        assert_eq!(s.self_revocation_wait(t + 30), None);
        assert_eq!(s.self_revocation_report(t + 30), None, "within a minute");
        s.apply(&own("later".into()), t + 60);
        assert_eq!(
            s.self_revocation_report(t + 60),
            Some(SelfRevocationReport {
                hour: 7_200,
                count: SELF_REVOCATIONS_PER_MINUTE + 2
            })
        );
        // An admin's revocation is not counted; the counts go when their hour has passed.
        s.apply(&token("admin", 1, 90_000), t + 61);
        assert_eq!(s.self_revoked.as_ref().unwrap().in_hour, 62);
        assert_eq!(s.next_expiry(), Some(10_800));
        s.apply(&GuardOp::Read, 10_800);
        assert_eq!(s.self_revoked, None);
    }
}
