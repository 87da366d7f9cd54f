//! `worker`: executes the child executions of Map Runs. Stateless: a [`Batch`] names its child
//! definition and carries its input; an [`executor::Executor`] runs it and produces an
//! [`Outcome`]. The transports (in-process now, NATS JetStream next) deliver batches and
//! carry outcomes back.
//!
//! [`Batch`]: shared::protocol::Batch
//! [`Outcome`]: shared::protocol::Outcome

pub mod executor;
pub mod integrations;
