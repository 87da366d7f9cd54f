//! Mocked Task states from AWS Step Functions Local's mock configuration file
//! (`MockConfigFile.json`): `config` reads and checks the file, `select` chooses the test case
//! and checks it against the definition, `host` answers the mocked states' calls.
//!
//! Used by `dmap run --mock-config FILE --mock-test-case NAME` and by `dmap test` cases. Every
//! problem of the file is found before the run starts and reported with its JSON pointer.

pub mod config;
pub mod host;
pub mod select;

use std::path::{Path, PathBuf};

use shared::asl::StateMachine;

pub use config::{MockConfig, Problem};
pub use host::MockHost;
pub use select::TestCase;

/// Why a mock configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("cannot read the mock configuration {}: {source}", file.display())]
    Read { file: PathBuf, source: std::io::Error },
    /// Problems of the file, or of the test case against the definition: one per line.
    #[error("{}", lines(file, problems))]
    Invalid { file: PathBuf, problems: Vec<Problem> },
    /// The test case asked for is not in the file (or not only once).
    #[error("{}: {message}", file.display())]
    TestCase { file: PathBuf, message: String },
}

fn lines(file: &Path, problems: &[Problem]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|p| match p.pointer.as_str() {
            "" => format!("{}: {}", file.display(), p.message),
            at => format!("{}: at {at}: {}", file.display(), p.message),
        })
        .collect();
    lines.join("\n")
}

/// Reads the mock configuration `file`, chooses the test case `wanted` (`Case` or
/// `StateMachine#Case`; `run_name` is the run's state machine name) and checks it against
/// `definition`.
pub fn load(
    file: &Path,
    wanted: &str,
    run_name: Option<&str>,
    definition: &StateMachine,
) -> Result<TestCase, MockError> {
    let text = std::fs::read_to_string(file).map_err(|source| MockError::Read { file: file.into(), source })?;
    from_text(&text, file, wanted, run_name, definition)
}

/// As [`load`], from the file's text (`file` names it in messages).
pub fn from_text(
    text: &str,
    file: &Path,
    wanted: &str,
    run_name: Option<&str>,
    definition: &StateMachine,
) -> Result<TestCase, MockError> {
    let config = MockConfig::parse(text).map_err(|problems| MockError::Invalid { file: file.into(), problems })?;
    let case = select::choose(&config, wanted, run_name)
        .map_err(|message| MockError::TestCase { file: file.into(), message })?;
    let problems = select::check(&case, definition);
    if !problems.is_empty() {
        return Err(MockError::Invalid { file: file.into(), problems });
    }
    Ok(case)
}
