//! One file per benchmark scenario.

pub mod all;
pub mod distributed;
pub mod engine;
pub mod functions;
pub mod inline_map;
pub mod integrations;
pub mod maprun;
pub mod serve;
