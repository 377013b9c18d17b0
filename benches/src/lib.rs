//! The Moravec harness: one command from nothing to a results table.
//!
//! A run ([`run`]) is a short sequence of cached stages ([`stages`]: data, the VoE suite,
//! training, scoring, planning), each keyed by the hash of its config; scoring follows Garrido
//! et al. 2025 and IntPhys ([`surprise`], [`report`], [`metrics`], [`controls`]); the results
//! folder ([`results`]) holds long-format CSVs, plots and a summary, and [`compare`] sets two
//! runs side by side.

pub mod compare;
pub mod config;
pub mod controls;
pub mod device;
pub mod device_check;
pub mod error;
pub mod files;
pub mod metrics;
pub mod planning;
pub mod planning_sliced;
pub mod plots;
pub mod presets;
pub mod probe;
pub mod progress;
pub mod report;
pub mod results;
pub mod run;
pub mod scorecard;
pub mod stages;
pub mod submission;
pub mod summary;
pub mod surprise;
pub mod surprise_sliced;
pub mod sweep;

pub use config::RunConfig;
pub use error::{HarnessError, Result};
