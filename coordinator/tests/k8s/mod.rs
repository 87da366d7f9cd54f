//! Checks of the rendered k8s/ manifests (tests/k8s_manifests.rs).

pub mod checks;
