//! Randomness as a port, and what is made from it (ids).

use crate::error::Error;
use crate::support::b64::b64url;

/// A cryptographically secure random source.
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error>;
}

/// The operating system's (or, on wasm32, `crypto.getRandomValues`') random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandom;

impl Random for SystemRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
        getrandom::fill(buf).map_err(|e| Error::Internal(format!("getrandom: {e}")))
    }
}

/// A fresh random UUID v4 (RFC 9562 section 5.4), lower-case and hyphenated.
pub fn uuid_v4(rng: &dyn Random) -> Result<String, Error> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// `N` random bytes as base64url: event ids, secret ids, token ids.
pub fn random_id<const N: usize>(rng: &dyn Random) -> Result<String, Error> {
    let mut b = [0u8; N];
    rng.fill(&mut b)?;
    Ok(b64url(b))
}
