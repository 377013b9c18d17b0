//! The one error type of the agents crate.

use std::path::PathBuf;

/// Everything that can go wrong here, naming the thing, the value and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// A tensor operation failed.
    #[error("tensor error: {0}")]
    Candle(#[from] candle_core::Error),
    /// A dataset could not be read.
    #[error(transparent)]
    Sim(#[from] moravec_sim::SimError),
    /// A setting outside its range.
    #[error("{what} = {value} is out of range: expected {expected}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// The value given.
        value: String,
        /// The allowed range, in words.
        expected: String,
    },
    /// A checkpoint that cannot be used.
    #[error("checkpoint {}: {reason}", path.display())]
    BadCheckpoint {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What we were doing.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The loss became NaN or infinite.
    #[error("loss is {value} at step {step}; training stopped, the last good checkpoint is kept")]
    NonFinite {
        /// The step.
        step: u64,
        /// The loss value.
        value: f32,
    },
}

/// Result type of this crate.
pub type Result<T, E = AgentError> = std::result::Result<T, E>;
