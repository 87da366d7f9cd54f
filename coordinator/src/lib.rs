//! `coordinator`: runs state machines for the `dmap` command — the parent execution, and (from
//! the Map Run issue on) Map Runs over a transport — and hosts the CLI.

pub mod callbacks;
pub mod cli;
pub mod host;
pub mod map_run;
pub mod ops;
pub mod serve;
pub mod storage;
pub mod support;
pub mod test_cmd;
