//! `shared`: what the coordinator and the workers must agree on.
//!
//! - [`asl`]: the Amazon States Language engine — parse, validate, evaluate. Pure: no I/O, no
//!   async runtime, no environment reads. Time and task invocation enter through
//!   [`asl::eval::Host`].
//! - [`protocol`]: the versioned messages between coordinator and workers.

pub mod asl;
pub mod protocol;
