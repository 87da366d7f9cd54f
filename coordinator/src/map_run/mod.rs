//! Map Runs: the execution of a Distributed Map state — read items, select, batch, dispatch
//! under MaxConcurrency, count outcomes against the tolerated failures, write results.
//!
//! Code map: `items` (state input or ItemReader, then ItemSelector), `reader` (the
//! ItemReaders), `batcher`, `transport` (the boundary to workers), `tracker` (the ledger and
//! the tolerated-failure rule, pure), `sink` and `writer` (results), `status` (status document
//! and progress), `names` (ARNs), `run` (the driver), `handle` (one run: describe, update,
//! stop, await) and `registry` (a host's running runs, their ids and their observer).

pub mod batcher;
pub mod handle;
pub mod items;
pub mod names;
pub mod nats;
pub mod reader;
pub mod record;
pub mod registry;
pub mod run;
pub mod sink;
pub mod status;
pub mod tracker;
pub mod transport;
pub mod writer;
