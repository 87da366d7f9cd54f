//! One file per state type. Each evaluates its own work; the shared tail (Assign,
//! ResultSelector, ResultPath, OutputPath, Retry, Catch) lives in `run`.

pub(crate) mod choice;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod task;
pub(crate) mod wait;
