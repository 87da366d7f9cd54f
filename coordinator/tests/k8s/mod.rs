//! Checks of the rendered k8s/ manifests (tests/k8s_manifests.rs), the tools that render and
//! validate them, and a workload prepared to run locally.

pub mod checks;
pub mod container;
pub mod flags;
pub mod pod;
pub mod serve;
mod serve_cases;
pub mod tools;
