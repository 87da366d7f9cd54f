//! The interpreter: runs a compiled [`StateMachine`] on an input through a [`Host`].

mod host;

pub use host::{Host, TaskRequest};
