//! `dmap serve`: the Step Functions API (AWS JSON 1.0 over HTTP) with durable executions.
//!
//! Layout: `store` (the one storage trait and its SQLite implementation), `engine` (executions
//! and Map Runs, their durable host and recovery), `api` (one action per file behind a closed
//! enum, AWS's validation and error shapes), `http` (the listener, body limits, `/healthz`,
//! `/metrics`), `auth` (SigV4 verification off loopback), `callback_store` (where accepted
//! callbacks and the task tokens' key are kept), `activities` (the hand-out of activity tasks
//! to `GetActivityTask`'s long polls).

pub mod activities;
pub mod api;
pub mod auth;
pub mod callback_store;
pub mod engine;
pub mod http;
pub mod nested;
pub mod setup;
pub mod store;
