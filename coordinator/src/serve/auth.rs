//! Who may call `dmap serve`'s API: SigV4 verification of requests against access keys from
//! the `--config` file, and the start-time [`Policy`] that says whether verification is on
//! (loopback without keys: off; keys: on; any other address without keys: only with `--open`).
//!
//! The HTTP layer decides the policy once ([`Policy::decide`]), then calls
//! [`Policy::check_headers`] before reading a body (optional, to refuse unsigned requests
//! cheaply) and [`Policy::check`] with the whole body. A refusal is an [`AuthError`] with AWS's
//! code, HTTP status and message for the `{"__type": …, "message": …}` body.
//!
//! Owns: keys, policy, verification. Must not: read sockets or bodies, or write responses; it
//! signs nothing itself (the worker's signer recomputes signatures).

mod error;
mod header;
mod keys;
mod policy;
mod verify;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod tests;

pub use error::AuthError;
pub use keys::{AccessKeys, KeysError};
pub use policy::{Policy, StartError};
pub use verify::{SERVICE, Verifier};
