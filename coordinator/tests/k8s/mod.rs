//! Checks of the rendered k8s/ manifests (tests/k8s_manifests.rs), and the tools that render
//! and validate them.

pub mod checks;
pub mod flags;
pub mod serve;
pub mod tools;
