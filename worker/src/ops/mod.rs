//! Operating the binaries: `/healthz` and `/metrics` over HTTP, the Prometheus text format,
//! and logging (text or JSON).

pub mod http;
pub mod logging;
pub mod metrics;
