//! One file per benchmark scenario.

pub mod engine;
