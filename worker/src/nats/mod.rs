//! The NATS JetStream side shared by the coordinator and the worker: connecting, the
//! streams/consumers/buckets (created idempotently) and the worker's consume loop.

pub mod codec;
pub mod connect;
pub mod consume;
pub mod definitions;
pub mod topology;
