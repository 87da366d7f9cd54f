//! The Amazon States Language engine (JSONPath mode).
//!
//! Layering, bottom to top: [`error_name`] (run failures as data), [`path`] (compiled JSONPath,
//! reference paths and payload templates), [`intrinsics`], [`choice`], [`model`] (the validated
//! definition), [`parse`] (JSON → model, collecting every [`diagnostic::Diagnostic`]) and
//! [`eval`] (the interpreter). Nothing here performs I/O or reads the clock: see [`eval::Host`].

pub mod bound;
pub mod choice;
pub mod diagnostic;
pub mod error_name;
pub mod eval;
pub mod history;
pub mod intrinsics;
pub mod jsonata;
pub mod model;
pub mod parse;
pub mod path;
pub mod resource;
mod suggest;
pub mod timestamp;

pub use diagnostic::{Diagnostic, Severity};
pub use error_name::Failure;
pub use model::StateMachine;
pub use parse::parse_definition;
