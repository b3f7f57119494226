//! The client identifier, apart from the client so that what names a client (a resource's
//! provider) needs no import of the client record.

crate::registry::uuid_id!(
    ClientId,
    "client_id",
    "A client identifier: a lower-case hyphenated UUID v4, made by the server."
);
