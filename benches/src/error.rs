//! The harness library's errors: each names the thing, the value and what was expected.

use std::path::PathBuf;

/// What can go wrong in the harness.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// A setting out of range or unknown.
    #[error("{what} = {value} is not valid: expected {expected}")]
    Invalid {
        /// The setting.
        what: String,
        /// Its value.
        value: String,
        /// What it may be.
        expected: String,
    },
    /// A configuration file that cannot be read as a run config.
    #[error("config {file}: {message}")]
    Config {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A results folder or stage written by another version of the harness, or not one at all.
    #[error("{path}: {message}")]
    Schema {
        /// The folder or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file-system operation failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// On what.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// From the simulator (datasets, the suite).
    #[error(transparent)]
    Sim(#[from] moravec_sim::SimError),
    /// From the models.
    #[error(transparent)]
    Agent(#[from] moravec_agents::error::AgentError),
    /// From candle.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

impl HarnessError {
    /// A name that is not in a registry: `what` = `value`, expected one of `names`.
    pub fn unknown<'n>(what: &str, value: &str, names: impl IntoIterator<Item = &'n str>) -> Self {
        Self::Invalid {
            what: what.into(),
            value: value.into(),
            expected: format!(
                "one of {}",
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
        }
    }

    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
