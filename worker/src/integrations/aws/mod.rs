//! AWS services called for real: the `aws-sdk:*` integrations, driven by AWS's service models
//! (`model`), serialised by each service's protocol (`protocol`), and the optimized integrations
//! with their `.sync` jobs (`optimized`).

pub mod model;
pub mod optimized;
pub mod protocol;
