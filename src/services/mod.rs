//! Application services: rules that span a request and the client's guard, used by more than
//! one endpoint or by the shell after the response. Token quotas (admission in the isolate,
//! reports to the guard) and the revocation of one access token.

pub mod token_quota;
pub mod token_revocation;
