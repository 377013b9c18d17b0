//! A run's results folder: [`write`] makes it (long-format CSVs, plots, the summary, the
//! resolved config and `meta.json`), [`read`] reads it back for `compare`. The CSVs' columns are
//! defined once, in [`moravec_sim::results`], where the viewer reads them too.

pub mod meta;
pub mod read;
pub mod write;

pub use meta::{Machine, RunMeta, StageTiming};
pub use moravec_sim::results::*;
pub use read::RunResults;
