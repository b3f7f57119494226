//! The registry: the domain edgeauth manages. Clients and their secrets, resources and grants,
//! scopes, the per-client guard state, audit events, and the one key space they are stored
//! under. Nothing here does I/O: storage is reached through `crate::ports`.

pub mod admins;
pub mod audiences;
pub mod audit;
pub mod certificates;
pub mod client_id;
pub mod client_input;
pub mod clients;
pub mod federation;
pub mod federation_input;
pub mod guard;
pub mod keyspace;
pub mod lifetime;
pub mod quota;
pub mod resources;
pub mod scope;
pub mod secrets;
pub mod signing_keys;
pub mod token_claims;

/// A server-made UUID v4 identifier newtype that parses only the canonical form.
macro_rules! uuid_id {
    ($name:ident, $field:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
        )]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier; anything but a canonical UUID is refused.
            pub fn parse(text: &str) -> Option<$name> {
                crate::support::uri::is_uuid(text).then(|| $name(text.to_string()))
            }

            /// Makes a fresh random UUID v4 (RFC 9562 section 5.4).
            pub fn generate(
                rng: &dyn crate::support::random::Random,
            ) -> Result<$name, crate::error::Error> {
                crate::support::random::uuid_v4(rng).map($name)
            }

            /// The identifier text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(s: String) -> Result<Self, String> {
                $name::parse(&s).ok_or_else(|| concat!($field, " is not a UUID").to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}
pub(crate) use uuid_id;
