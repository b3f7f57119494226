//! The algorithm allow-list (RFC 7518, RFC 8037, RFC 9864). There is no `none`, and nothing
//! outside this enum can name a verifier.

/// Why a token or key was refused; the text is safe to show the client's developer. Here, in
/// the leaf the other JOSE files share, so none of them imports the module that re-exports them.
pub type JoseError = String;

/// Algorithms accepted for client assertions. There is no `none`, by construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    /// Ed25519 under its RFC 8037 name.
    EdDSA,
    /// Ed25519 under its fully-specified RFC 9864 name, which newer libraries send.
    Ed25519,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// HMAC-SHA256, keyed by a client secret.
    HS256,
}

impl Alg {
    /// Public-key algorithms, for `private_key_jwt`.
    pub const PUBLIC: [Alg; 5] = [Alg::EdDSA, Alg::Ed25519, Alg::ES256, Alg::RS256, Alg::PS256];
    /// Secret-key algorithms, for `client_secret_jwt`.
    pub const SECRET: [Alg; 1] = [Alg::HS256];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::Ed25519 => "Ed25519",
            Alg::RS256 => "RS256",
            Alg::PS256 => "PS256",
            Alg::ES256 => "ES256",
            Alg::HS256 => "HS256",
        }
    }

    /// Looks a name up among `allowed` only.
    pub fn within(name: &str, allowed: &[Alg]) -> Option<Alg> {
        allowed.iter().copied().find(|a| a.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allow_list_has_no_none() {
        assert_eq!(Alg::within("none", &Alg::PUBLIC), None);
        assert_eq!(Alg::within("HS256", &Alg::PUBLIC), None);
        assert_eq!(Alg::within("RS256", &Alg::SECRET), None);
        assert_eq!(Alg::within("ES256", &Alg::PUBLIC), Some(Alg::ES256));
    }
}
