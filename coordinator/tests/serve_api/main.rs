//! The Step Functions API of `dmap serve`, driven over raw HTTP (AWS JSON 1.0) against a
//! server started on a free loopback port with a SQLite store in a temporary directory.
//!
//! Expected values come from AWS's API reference (ARN forms, error codes, defaults) and
//! botocore's stepfunctions model (member names, constraints), not from the code under test.
//! Executions are started through a recording stand-in for the engine (see `harness`), so
//! these tests pin what the API does up to the engine: validation, resolution and answers.

mod engine;
mod executions;
mod harness;
mod machines;
mod protocol;
mod versions;
