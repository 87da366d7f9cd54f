//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod aws;
pub mod dmap;
pub mod nats;
