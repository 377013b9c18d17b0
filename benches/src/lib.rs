//! The Moravec harness: one command from nothing to a results table. Stages (data, the VoE
//! suite, training, scoring) are cached by the hash of their config; scoring follows Garrido et
//! al. 2025 and IntPhys; results are long-format CSVs, plots and a summary, and `compare` sets
//! two runs side by side.

pub mod compare;
pub mod config;
pub mod device_check;
pub mod error;
pub mod metrics;
pub mod output;
pub mod pipeline;
pub mod planning;
pub mod plots;
pub mod report;
pub mod results;
pub mod score;
pub mod stage;
pub mod summary;

pub use config::RunConfig;
pub use error::{HarnessError, Result};
