//! `worker`: executes the child executions of Map Runs. Stateless: a [`Batch`] names its child
//! definition and carries its input; an [`executor::Executor`] runs it and produces an
//! [`Outcome`]. The transports (in-process, NATS JetStream) deliver batches and carry outcomes
//! back; `dmap-worker` is the NATS one's process.
//!
//! [`Batch`]: shared::protocol::Batch
//! [`Outcome`]: shared::protocol::Outcome

pub mod executor;
pub mod host;
pub mod integrations;
pub mod mock;
pub mod nats;
pub mod ops;
