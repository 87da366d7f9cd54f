//! AWS services called for real: the `aws-sdk:*` integrations, driven by AWS's service models
//! (`model`), serialised by each service's protocol (`protocol`), signed (`sign`) with
//! credentials from AWS's chain (`credentials`, `profile`), sent where AWS's conventions say
//! (`endpoint`) by one shared client (`client`); `sdk` is the `aws-sdk:*` Task integration,
//! `optimized` the optimized integrations with their `.sync` jobs.

mod api_types;
pub mod client;
mod credential_sources;
pub mod credentials;
pub mod endpoint;
pub mod lambda;
pub mod mock_check;
pub mod model;
pub mod optimized;
pub mod profile;
pub mod protocol;
pub mod sdk;
pub mod sign;
mod transport;

pub use api_types::{ApiError, ApiOutput};
pub use client::{Aws, AwsOptions, Role};
