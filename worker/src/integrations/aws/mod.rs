//! AWS services called for real: the `aws-sdk:*` integrations, driven by AWS's service models
//! (`model`), serialised by each service's protocol (`protocol`).

pub mod model;
pub mod protocol;
