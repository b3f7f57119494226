//! Access-token lifetimes: the bounds every client and resource shares, in a module of its own
//! so that clients, their input and resources all use it without using each other.

use crate::error::Error;

/// Shortest access-token lifetime, in seconds.
pub const MIN_LIFETIME: u32 = 60;
/// Longest access-token lifetime a client may have (24 h).
pub const MAX_LIFETIME: u32 = 86_400;
/// Default access-token lifetime (1 h).
pub const DEFAULT_LIFETIME: u32 = 3_600;

/// An access-token lifetime within the bounds every client and resource shares.
pub fn token_lifetime(seconds: i64) -> Result<u32, Error> {
    u32::try_from(seconds)
        .ok()
        .filter(|l| (MIN_LIFETIME..=MAX_LIFETIME).contains(l))
        .ok_or_else(|| {
            Error::invalid_metadata(format!(
                "access_token_lifetime must be between {MIN_LIFETIME} and {MAX_LIFETIME} seconds"
            ))
        })
}
