//! Task integrations: what a Task state's `Resource` reaches — Lambda functions served by local
//! implementations (`lambda`), and the HTTP Task (`http`). Configured by a functions file
//! (`config`). The same integrations serve the parent machine and Map Run children.
//! (Being written: this module is not wired into any host yet.)

pub mod config;
pub mod http;
pub mod lambda;
