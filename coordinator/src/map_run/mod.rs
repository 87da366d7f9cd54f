//! Map Runs: the execution of a Distributed Map state — read items, select, batch, dispatch
//! under MaxConcurrency, count outcomes against the tolerated failures, write results.

pub mod reader;
pub mod record;
pub mod writer;
