//! The one error type of the simulation crate.

use std::path::PathBuf;

/// Everything that can go wrong in `moravec-sim`. Each variant names the thing, the value and what
/// was expected, so that a CLI can print it as it is.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A scene name that is not in [`crate::scene::SCENES`].
    #[error("unknown scene `{name}`; known scenes: {known}")]
    UnknownScene {
        /// The name asked for.
        name: String,
        /// The registered names, comma separated.
        known: String,
    },
    /// A numeric setting outside its allowed range.
    #[error("{what} = {value} is out of range: expected {expected}")]
    OutOfRange {
        /// Which setting.
        what: &'static str,
        /// The value given, as text.
        value: String,
        /// The allowed range, in words.
        expected: String,
    },
    /// An action of the wrong length or with non-finite entries.
    #[error("invalid action for scene `{scene}`: {reason}")]
    InvalidAction {
        /// The scene stepped.
        scene: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The output directory exists and is not empty.
    #[error("output directory {} exists and is not empty; pass --force to replace it", path.display())]
    OutputExists {
        /// The directory.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{action} {}", path.display())]
    Io {
        /// What we were doing ("cannot create", "cannot write", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The shards (`--shard I/N`) of a piece of work that cannot be merged: missing, of
    /// another cut or of another config.
    #[error("cannot merge the shards of {}: {reason}", out.display())]
    Shards {
        /// What the merge would have written.
        out: PathBuf,
        /// Which shards are at fault, and what to do.
        reason: String,
    },
    /// A dataset file that does not match what its `meta.json` says.
    #[error("dataset {}: {reason}", path.display())]
    BadDataset {
        /// The file at fault.
        path: PathBuf,
        /// What does not match.
        reason: String,
    },
}

impl SimError {
    /// Shorthand for an [`SimError::Io`] error.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Result type of this crate.
pub type Result<T, E = SimError> = std::result::Result<T, E>;
