//! One file per benchmark scenario.

pub mod engine;
pub mod functions;
pub mod maprun;
